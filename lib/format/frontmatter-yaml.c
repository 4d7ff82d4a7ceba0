/*
 * The frontmatter's YAML, for frontmatter.c: a walk over libyaml's events
 * that fills the keys of the top-level mapping with their values and the
 * lines each occupies, refusing what a line edit or a BSON document could
 * not follow (anchors, aliases, tags, duplicate keys, deep nesting).
 *
 * libyaml's marks count characters, not bytes, and count NEL, LS and PS as
 * line breaks where we count only LF: marks are turned into byte offsets
 * (mark_byte()), and byte offsets into our lines (line_of()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "execsync/error.h"
#include "execsync/frontmatter.h"
#include "execsync/xmalloc.h"
#include "execsync/yaml-value.h"

#include "frontmatter-internal.h"

#define DEPTH_MAX	ES_YAML_DEPTH_MAX
#define TAG_STR		"tag:yaml.org,2002:str"
#define TAG_PREFIX	"tag:yaml.org,2002:"

/* The parser's state while it walks libyaml's events. */
struct pctx {
	yaml_parser_t		 parser;
	struct es_frontmatter	*fm;
	const char		*text;		/* the frontmatter lines */
	size_t			 len;
	bool			 ascii;		/* then a mark index is a byte */
	size_t			 cidx, cbyte;	/* cursor: char index, byte */
	size_t			 lcur;		/* line_of()'s last answer */
	const char		*rel;
	struct es_error		*err;
};

/*
 * libyaml's mark index counts characters: walk UTF-8 to get bytes, from the
 * last mark asked for. Marks are asked for in file order (the restart from
 * the start below was never taken on the tests, the fuzz corpora or
 * 490,000 fuzz runs), so the walks add up to one pass over the text.
 */
static size_t
mark_byte(struct pctx *c, const yaml_mark_t *m)
{
	if (c->ascii)
		return m->index < c->len ? m->index : c->len;
	if (m->index < c->cidx) {
		c->cidx = 0;
		c->cbyte = 0;
	}
	while (c->cidx < m->index && c->cbyte < c->len) {
		c->cbyte++;
		while (c->cbyte < c->len &&
		    ((unsigned char)c->text[c->cbyte] & 0xc0) == 0x80)
			c->cbyte++;
		c->cidx++;
	}
	return c->cbyte;
}

/* The byte where line i starts. */
static size_t
line_start(const struct pctx *c, size_t i)
{
	return (size_t)(c->fm->lines[i].p - c->text);
}

/*
 * Index of the line holding byte b (the last line past the end). Searched
 * from the line found last, in steps doubling away from it, then halving:
 * bytes are asked for nearly in order, so each costs O(1), not O(log n).
 */
static size_t
line_of(struct pctx *c, size_t b)
{
	size_t n = c->fm->nlines, lo, hi, step = 1;

	if (n == 0)
		return 0;
	/* Line 0 starts at byte 0: lo is a candidate, hi (or n) is not. */
	lo = c->lcur < n ? c->lcur : n - 1;
	if (line_start(c, lo) <= b) {
		hi = lo + 1;
		while (hi < n && line_start(c, hi) <= b) {
			lo = hi;
			hi = n - lo > step ? lo + step : n;
			step *= 2;
		}
	} else {
		hi = lo;
		lo = 0;
		while (hi > step && line_start(c, hi - step) > b) {
			hi -= step;
			step *= 2;
		}
		if (hi > step)
			lo = hi - step;
	}
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (line_start(c, mid) <= b)
			lo = mid;
		else
			hi = mid;
	}
	c->lcur = lo;
	return lo;
}

static unsigned
mark_line(struct pctx *c, const yaml_mark_t *m)
{
	return es__fm_file_line(line_of(c, mark_byte(c, m)));
}

static int
yaml_fail(struct pctx *c)
{
	yaml_parser_t *p = &c->parser;
	const char *problem = p->problem ? p->problem : "unknown error";
	size_t b;

	if (p->error == YAML_READER_ERROR)
		b = p->problem_offset < c->len ? p->problem_offset : c->len;
	else
		b = mark_byte(c, &p->problem_mark);
	if (p->context)
		return es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel,
		    es__fm_file_line(line_of(c, b)), "bad YAML: %s %s",
		    p->context, problem);
	return es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel,
	    es__fm_file_line(line_of(c, b)), "bad YAML: %s", problem);
}

static int
next_event(struct pctx *c, yaml_event_t *ev)
{
	if (yaml_parser_parse(&c->parser, ev))
		return 0;
	memset(ev, 0, sizeof(*ev));
	return yaml_fail(c);
}

/* Anchors and aliases would make one value appear in two places, which
 * neither a line edit nor a BSON document can follow; tags other than
 * !!str would ask for types we do not have. */
static int
check_props(struct pctx *c, const yaml_char_t *anchor, const yaml_char_t *tag,
    const yaml_mark_t *m, bool scalar)
{
	const char *t = (const char *)tag;
	char buf[64];

	if (anchor != NULL)
		return es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, mark_line(c, m),
		    "YAML aliases are not supported");
	if (t == NULL || (scalar && strcmp(t, TAG_STR) == 0))
		return 0;
	if (strncmp(t, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
		t += strlen(TAG_PREFIX);
		snprintf(buf, sizeof(buf), "!!");
		es_error_shown(t, strlen(t), buf + 2, sizeof(buf) - 2);
	} else
		es_error_shown(t, strlen(t), buf, sizeof(buf));
	return es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, mark_line(c, m),
	    "unsupported tag '%s' (only !!str)", buf);
}

/* The end of a scalar's text. A block scalar's end mark lies in the
 * indentation of the first line that is not part of it: back off to the
 * start of that line. Blank and space-only lines before it stay in the
 * span, as they may be content ("|+", or more spaces than the indent). */
static size_t
scalar_end(struct pctx *c, const yaml_event_t *ev)
{
	size_t s = mark_byte(c, &ev->start_mark);
	size_t b = mark_byte(c, &ev->end_mark);
	yaml_scalar_style_t st = ev->data.scalar.style;

	if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE)
		while (b > s && (c->text[b - 1] == ' ' ||
		    c->text[b - 1] == '\t'))
			b--;
	/* An implied empty value ("? key" without ": ...") is placed at
	 * the next token, maybe the next key's line: it ends nothing. It
	 * counts only right after the ':', '-' or '?' that implied it. */
	if (b == s && ev->data.scalar.length == 0 &&
	    (b == 0 || (c->text[b - 1] != ':' && c->text[b - 1] != '-' &&
	    c->text[b - 1] != '?')))
		return 0;
	return b;
}

/*
 * Takes the scalar's text from the event instead of copying it: this is
 * the hot path of every scan. libyaml allocates it with malloc() (api.c
 * yaml_malloc), NUL-terminated, and yaml_event_delete() frees NULL
 * harmlessly.
 */
static char *
take_scalar(yaml_event_t *ev)
{
	char *p = (char *)ev->data.scalar.value;

	ev->data.scalar.value = NULL;
	return p;
}

static void
max_to(size_t *m, size_t v)
{
	if (v > *m)
		*m = v;
}

/* A mapping key: a scalar (consumed: ev is deleted). */
static int
parse_key(struct pctx *c, yaml_event_t *ev, char **key, size_t *klen,
    unsigned *line, size_t *start, size_t *maxend)
{
	const char *v;
	size_t n;
	char buf[64];
	int rc = -1;

	*line = mark_line(c, &ev->start_mark);
	if (ev->type == YAML_ALIAS_EVENT) {
		es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, *line,
		    "YAML aliases are not supported");
		goto out;
	}
	if (ev->type != YAML_SCALAR_EVENT) {
		es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, *line,
		    "a key must be text, not a list or a mapping");
		goto out;
	}
	if (check_props(c, ev->data.scalar.anchor, ev->data.scalar.tag,
	    &ev->start_mark, true) == -1)
		goto out;
	v = (const char *)ev->data.scalar.value;
	n = ev->data.scalar.length;
	if (memchr(v, '\0', n) != NULL) {
		es_problem_set(c->err, ES_PROB_NUL_BYTE, c->rel, *line,
		    "NUL byte in key");
		goto out;
	}
	if (n > ES_YAML_KEY_MAX) {
		es_error_shown(v, n, buf, sizeof(buf));
		es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, *line,
		    "key too long '%s'", buf);
		goto out;
	}
	*start = mark_byte(c, &ev->start_mark);
	max_to(maxend, scalar_end(c, ev));
	*key = take_scalar(ev);
	*klen = n;
	rc = 0;
out:
	yaml_event_delete(ev);
	return rc;
}

static int
dup_key(struct pctx *c, const char *key, size_t klen, unsigned line)
{
	char buf[64];

	es_error_shown(key, klen, buf, sizeof(buf));
	return es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, line,
	    "duplicate key '%s'", buf);
}

/*
 * Duplicate keys. Comparing each key with every earlier one of its mapping
 * is quadratic: a 1 MB file of 70,000 keys took seconds. Instead the keys
 * of a mapping are sorted once, when it ends or its parsing fails, and the
 * first key in file order that repeats an earlier one is reported, its
 * error replacing any other. That is what the check key by key reported:
 * it ran before anything past that key was read, and keys whose text was
 * not read (an error in them) are not in the sort. The top level's sorted
 * keys stay, for es_frontmatter_find().
 */

/* Sorts the n keys of r; the index in r of the first key in file order
 * equal to an earlier one, or n. */
static size_t
first_dup(struct keyref *r, size_t n)
{
	size_t best = n, at = n;

	if (n < 2)
		return n;
	qsort(r, n, sizeof(*r), es__fm_keyref_cmp);
	for (size_t i = 1; i < n; i++)
		if (r[i].len == r[i - 1].len &&
		    memcmp(r[i].p, r[i - 1].p, r[i].len) == 0 &&
		    (best == n || r[i].idx < best)) {
			best = r[i].idx;
			at = i;
		}
	return at;
}

#define KEYREF_STACK	16

/* A mapping value's keys: -1 and the error if one repeats an earlier one. */
static int
check_items(struct pctx *c, const struct es_yaml_value *v)
{
	struct keyref stack[KEYREF_STACK], *r = stack;
	const struct es_yaml_value *it;
	size_t nr = 0, d;
	int rc = 0;

	if (v->nitems < 2)
		return 0;
	if (v->nitems > KEYREF_STACK)
		r = es_xreallocarray(NULL, v->nitems, sizeof(*r));
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i].key != NULL) {	/* else its key failed */
			r[nr].p = v->items[i].key;
			r[nr].len = v->items[i].key_len;
			r[nr].idx = i;
			nr++;
		}
	if ((d = first_dup(r, nr)) < nr) {
		it = &v->items[r[d].idx];
		rc = dup_key(c, it->key, it->key_len, it->key_line);
	}
	if (r != stack)
		free(r);
	return rc;
}

static struct es_yaml_value *
add_item(struct es_yaml_value *v, size_t *alloc)
{
	if (v->nitems == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 4;
		v->items = es_xreallocarray(v->items, *alloc,
		    sizeof(*v->items));
	}
	memset(&v->items[v->nitems], 0, sizeof(*v->items));
	return &v->items[v->nitems++];
}

/* One node from ev (consumed) into v; *maxend grows to its last byte. */
static int
parse_node(struct pctx *c, yaml_event_t *ev, struct es_yaml_value *v,
    int depth, size_t *maxend)
{
	yaml_event_t child;
	size_t alloc = 0;
	bool map, flow;
	int rc = -1;

	v->line = mark_line(c, &ev->start_mark);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, v->line,
		    "YAML aliases are not supported");
		goto out;
	case YAML_SCALAR_EVENT:
		if (check_props(c, ev->data.scalar.anchor, ev->data.scalar.tag,
		    &ev->start_mark, true) == -1)
			goto out;
		if (memchr(ev->data.scalar.value, '\0',
		    ev->data.scalar.length) != NULL) {
			es_problem_set(c->err, ES_PROB_NUL_BYTE, c->rel, v->line,
			    "NUL byte in value");
			goto out;
		}
		v->kind = ES_YAML_SCALAR;
		v->len = ev->data.scalar.length;
		v->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.tag == NULL;
		max_to(maxend, scalar_end(c, ev));
		v->str = take_scalar(ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		map = ev->type == YAML_MAPPING_START_EVENT;
		if (check_props(c, map ? ev->data.mapping_start.anchor :
		    ev->data.sequence_start.anchor, map ?
		    ev->data.mapping_start.tag : ev->data.sequence_start.tag,
		    &ev->start_mark, false) == -1)
			goto out;
		if (depth >= DEPTH_MAX) {
			es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, v->line,
			    "values nested too deep");
			goto out;
		}
		flow = map ?
		    ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE :
		    ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
		v->kind = map ? ES_YAML_MAPPING : ES_YAML_SEQUENCE;
		for (;;) {
			struct es_yaml_value *it;

			if (next_event(c, &child) == -1)
				goto out;
			if (child.type == YAML_SEQUENCE_END_EVENT ||
			    child.type == YAML_MAPPING_END_EVENT) {
				/* A block collection's end mark is the next
				 * token, maybe lines below: only a flow
				 * collection's closing bracket is its end. */
				if (flow)
					max_to(maxend,
					    mark_byte(c, &child.end_mark));
				yaml_event_delete(&child);
				break;
			}
			it = add_item(v, &alloc);
			if (map) {
				size_t start;

				if (parse_key(c, &child, &it->key,
				    &it->key_len, &it->key_line, &start,
				    maxend) == -1)
					goto out;
				if (next_event(c, &child) == -1)
					goto out;
			}
			if (parse_node(c, &child, it, depth + 1, maxend) == -1)
				goto out;
		}
		break;
	default:
		es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, v->line,
		    "bad YAML: unexpected event");
		goto out;
	}
	rc = 0;
out:
	if (v->kind == ES_YAML_MAPPING && check_items(c, v) == -1)
		rc = -1;
	yaml_event_delete(ev);
	return rc;
}

/* Only blanks or a comment; *tab tells whether a tab comes before. */
static bool
blank_or_comment_tab(const struct fm_line *l, bool *tab)
{
	size_t i = 0;

	*tab = false;
	for (; i < l->len && (l->p[i] == ' ' || l->p[i] == '\t'); i++)
		if (l->p[i] == '\t')
			*tab = true;
	return i == l->len || l->p[i] == '\n' || l->p[i] == '\r' ||
	    l->p[i] == '#';
}

static bool
blank_or_comment(const struct fm_line *l)
{
	bool tab;

	return blank_or_comment_tab(l, &tab);
}

/* The top-level block mapping, after its MAPPING-START event; duplicate
 * keys are parse_keys()' business. */
static int
read_keys(struct pctx *c, size_t lower)
{
	struct es_frontmatter *fm = c->fm;
	yaml_event_t ev;

	for (;;) {
		struct es_frontmatter_key *k;
		size_t start, maxend = 0, kidx, lo, hi;

		if (next_event(c, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		k = es__fm_add_key(fm);
		if (parse_key(c, &ev, &k->name, &k->name_len, &k->line,
		    &start, &maxend) == -1)
			return -1;
		if (next_event(c, &ev) == -1)
			return -1;
		if (parse_node(c, &ev, &k->value, 1, &maxend) == -1)
			return -1;
		/* Lines of this key: from the first line after the previous
		 * key that is not blank or a comment (an explicit "?" line
		 * comes before the key's text), to the value's last byte.
		 * Comments between keys belong to no key and stay. */
		kidx = line_of(c, start);
		/* One line cannot hold two keys' edits. With the line
		 * breaks refused above libyaml never puts a key on the line
		 * of the previous value or of "---"; this keeps it so. */
		if (kidx < lower) {
			char buf[64];

			es_error_shown(k->name, k->name_len, buf, sizeof(buf));
			return es_problem_set(c->err, ES_PROB_BAD_YAML, c->rel, k->line,
			    "bad YAML: key '%s' on the line of the previous "
			    "value", buf);
		}
		lo = lower;
		while (lo < kidx && blank_or_comment(&fm->lines[lo]))
			lo++;
		hi = maxend > 0 ? line_of(c, maxend - 1) : kidx;
		if (hi < kidx)
			hi = kidx;
		/* libyaml takes a blank or comment line with a tab before
		 * its content only as trailing space of a plain scalar:
		 * after a quoted value, or first in the document, it is an
		 * error. Such lines go with the key, so that no edit leaves
		 * them behind something else. */
		for (size_t l = hi + 1; l < fm->nlines; l++) {
			bool tab;

			if (!blank_or_comment_tab(&fm->lines[l], &tab))
				break;
			if (tab)
				hi = l;
		}
		k->first = es__fm_file_line(lo);
		k->last = es__fm_file_line(hi);
		lower = hi + 1;
	}
}

static int
parse_keys(struct pctx *c, size_t lower)
{
	struct es_frontmatter *fm = c->fm;
	const struct es_frontmatter_key *k;
	int rc = read_keys(c, lower);
	size_t nr = 0, d;

	for (size_t i = 0; i < fm->nkeys; i++)
		if (fm->keys[i].name != NULL) {	/* else its key failed */
			fm->byname[nr].p = fm->keys[i].name;
			fm->byname[nr].len = fm->keys[i].name_len;
			fm->byname[nr].idx = i;
			nr++;
		}
	if ((d = first_dup(fm->byname, nr)) < nr) {
		k = &fm->keys[fm->byname[d].idx];
		rc = dup_key(c, k->name, k->name_len, k->line);
	}
	return rc;
}

int
es__fm_parse_yaml(struct es_frontmatter *fm, const char *text, size_t len,
    const char *rel, struct es_error *err)
{
	struct pctx c;
	yaml_event_t ev;
	size_t lower = 0;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.fm = fm;
	c.text = text;
	c.len = len;
	c.rel = rel;
	c.err = err;
	c.ascii = true;
	for (size_t i = 0; i < len; i++) {
		const unsigned char *u = (const unsigned char *)text + i;
		size_t left = len - i;

		if (*u >= 0x80)
			c.ascii = false;
		/* YAML 1.1 (libyaml) breaks lines at a lone CR, NEL, LS and
		 * PS; YAML 1.2 and our line edits only at LF. Refuse what
		 * readers would split differently: inside quotes the
		 * escapes \r, \N, \L, \P say the same unambiguously. */
		if ((*u == '\r' && (left < 2 || u[1] != '\n')) ||
		    (*u == 0xc2 && left >= 2 && u[1] == 0x85) ||
		    (*u == 0xe2 && left >= 3 && u[1] == 0x80 &&
		    (u[2] == 0xa8 || u[2] == 0xa9)))
			return es_problem_set(err, ES_PROB_BAD_UTF8, rel,
			    es__fm_file_line(line_of(&c, i)),
			    "line break other than LF or CRLF (a lone CR, NEL, "
			    "LS or PS)");
	}
	if (!yaml_parser_initialize(&c.parser))
		return es_problem_set(err, ES_PROB_BAD_YAML, rel, 0,
		    "bad YAML: out of memory");
	yaml_parser_set_encoding(&c.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)text,
	    len);

	if (next_event(&c, &ev) == -1)		/* STREAM-START */
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&c, &ev) == -1)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {	/* only comments, blanks */
		yaml_event_delete(&ev);
		rc = 0;
		goto out;
	}
	/* DOCUMENT-START: keys start after an explicit "---" line. */
	if (!ev.data.document_start.implicit)
		lower = line_of(&c, mark_byte(&c, &ev.end_mark)) + 1;
	yaml_event_delete(&ev);
	if (next_event(&c, &ev) == -1)
		goto out;
	if (ev.type == YAML_SCALAR_EVENT &&
	    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    ev.data.scalar.length == 0 && ev.data.scalar.tag == NULL &&
	    ev.data.scalar.anchor == NULL) {
		/* An empty document: no keys. */
		yaml_event_delete(&ev);
	} else if (ev.type == YAML_MAPPING_START_EVENT &&
	    ev.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE) {
		if (check_props(&c, ev.data.mapping_start.anchor,
		    ev.data.mapping_start.tag, &ev.start_mark, false) == -1) {
			yaml_event_delete(&ev);
			goto out;
		}
		yaml_event_delete(&ev);
		if (parse_keys(&c, lower) == -1)
			goto out;
	} else {
		es_problem_set(err, ES_PROB_BAD_FRONTMATTER, rel, mark_line(&c, &ev.start_mark),
		    "frontmatter is not a block mapping of keys");
		yaml_event_delete(&ev);
		goto out;
	}
	if (next_event(&c, &ev) == -1)		/* DOCUMENT-END */
		goto out;
	/* "... # note" ends the document inside the frontmatter: keys
	 * appended at the end must go before it. */
	if (ev.type == YAML_DOCUMENT_END_EVENT && !ev.data.document_end.implicit)
		fm->tail = fm->nlines - line_of(&c, mark_byte(&c,
		    &ev.start_mark));
	yaml_event_delete(&ev);
	if (next_event(&c, &ev) == -1)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		es_problem_set(err, ES_PROB_BAD_FRONTMATTER, rel, mark_line(&c, &ev.start_mark),
		    "frontmatter holds more than one YAML document");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	rc = 0;
out:
	yaml_parser_delete(&c.parser);
	return rc;
}
