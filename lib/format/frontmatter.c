/*
 * Frontmatter: split, parse with libyaml's event parser, edit by lines (see
 * frontmatter.h).
 *
 * The file is kept as a copy plus an array of lines (pointers into the copy
 * or into lines we wrote); each key knows the lines it occupies, so an edit
 * touches only those and render() concatenates. This file splits the file
 * into its parts and lines, answers the accessors and makes the edits; the
 * YAML is parsed in frontmatter-yaml.c (private header
 * frontmatter-internal.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/frontmatter.h"
#include "execsync/xmalloc.h"
#include "execsync/yaml-value.h"

#include "frontmatter-internal.h"

/* Where the parts of a file are, as byte offsets. */
struct split {
	enum es_frontmatter_shape shape;
	bool		 bom, crlf;
	size_t		 start;		/* after the BOM */
	size_t		 open_end;	/* after the opening line's EOL */
	size_t		 close_start, close_end;
};

static bool
is3(const char *p, const char *lit)
{
	return memcmp(p, lit, 3) == 0;
}

static void
split(const char *d, size_t len, struct split *sp)
{
	const char *nl;
	size_t i = 0, e, c;

	memset(sp, 0, sizeof(*sp));
	sp->shape = ES_FM_NONE;
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) {
		sp->bom = true;
		i = 3;
	}
	sp->start = i;
	nl = memchr(d + i, '\n', len - i);
	e = nl ? (size_t)(nl - d) : len;
	c = e;
	if (nl && c > i && d[c - 1] == '\r') {
		c--;
		sp->crlf = true;
	}
	if (c - i != 3 || !is3(d + i, "---"))
		return;
	sp->shape = ES_FM_UNCLOSED;
	if (nl == NULL)
		return;
	sp->open_end = e + 1;
	for (size_t q = sp->open_end; q < len; q = e + 1) {
		nl = memchr(d + q, '\n', len - q);
		e = nl ? (size_t)(nl - d) : len;
		c = e;
		if (nl && c > q && d[c - 1] == '\r')
			c--;
		if (c - q == 3 && (is3(d + q, "---") || is3(d + q, "..."))) {
			sp->shape = ES_FM_CLOSED;
			sp->close_start = q;
			sp->close_end = nl ? e + 1 : len;
			return;
		}
		if (nl == NULL)
			break;
	}
}

enum es_frontmatter_shape
es_frontmatter_shape(const char *data, size_t len)
{
	struct split sp;

	split(len ? data : "", len, &sp);
	return sp.shape;
}

static void
key_release(struct es_frontmatter_key *k)
{
	free(k->name);
	es_yaml_value_release(&k->value);
	memset(k, 0, sizeof(*k));
}

void
es_frontmatter_free(struct es_frontmatter *fm)
{
	if (fm == NULL)
		return;
	for (size_t i = 0; i < fm->nkeys; i++)
		key_release(&fm->keys[i]);
	for (size_t i = 0; i < fm->nowned; i++)
		free(fm->owned[i]);
	free(fm->owned);
	free(fm->keys);
	free(fm->byname);
	free(fm->lines);
	free(fm->data);
	free(fm);
}

/* Key bytes, then place: equal keys sort together, earliest first. */
int
es__fm_keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int d;

	d = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	if (d != 0)
		return d;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

struct es_frontmatter_key *
es__fm_add_key(struct es_frontmatter *fm)
{
	if (fm->nkeys == fm->akeys) {
		fm->akeys = fm->akeys ? fm->akeys * 2 : 16;
		fm->keys = es_xreallocarray(fm->keys, fm->akeys,
		    sizeof(*fm->keys));
		fm->byname = es_xreallocarray(fm->byname, fm->akeys,
		    sizeof(*fm->byname));
	}
	memset(&fm->keys[fm->nkeys], 0, sizeof(*fm->keys));
	return &fm->keys[fm->nkeys++];
}

struct es_frontmatter *
es_frontmatter_parse(const char *data, size_t len, const char *rel,
    struct es_error *err)
{
	struct es_frontmatter *fm;
	struct split sp;
	const char *text;
	size_t tlen;

	if (len == 0)
		data = "";
	fm = es_xcalloc(1, sizeof(*fm));
	split(data, len, &sp);
	fm->data = es_xmemdup(data, len);
	fm->len = len;
	fm->bom = sp.bom;
	fm->crlf = sp.crlf;
	switch (sp.shape) {
	case ES_FM_NONE:
		fm->body = fm->data + sp.start;
		fm->body_len = len - sp.start;
		return fm;
	case ES_FM_UNCLOSED:
		es_problem_set(err, ES_PROB_BAD_FRONTMATTER, rel, 1,
		    "frontmatter is not closed");
		goto fail;
	case ES_FM_CLOSED:
		break;
	}
	fm->present = true;
	fm->open = fm->data + sp.start;
	fm->open_len = sp.open_end - sp.start;
	fm->close = fm->data + sp.close_start;
	fm->close_len = sp.close_end - sp.close_start;
	fm->body = fm->data + sp.close_end;
	fm->body_len = len - sp.close_end;
	text = fm->data + sp.open_end;
	tlen = sp.close_start - sp.open_end;
	/* Every frontmatter line ends with LF: the closing line follows. */
	for (size_t q = 0; q < tlen; ) {
		const char *nl = memchr(text + q, '\n', tlen - q);
		size_t e = (size_t)(nl - text) + 1;

		if (fm->nlines == fm->alines) {
			fm->alines = fm->alines ? fm->alines * 2 : 32;
			fm->lines = es_xreallocarray(fm->lines, fm->alines,
			    sizeof(*fm->lines));
		}
		fm->lines[fm->nlines].p = text + q;
		fm->lines[fm->nlines].len = e - q;
		fm->nlines++;
		/* libyaml skips a BOM opening a line but counts it as a
		 * column: the line is then indented by one invisible
		 * character, which no edit could match. */
		if (e - q >= 3 && memcmp(text + q, "\xef\xbb\xbf", 3) == 0) {
			es_problem_set(err, ES_PROB_BAD_UTF8, rel,
			    es__fm_file_line(fm->nlines - 1),
			    "byte order mark at the start of a line");
			goto fail;
		}
		q = e;
	}
	if (tlen > 0 && es__fm_parse_yaml(fm, text, tlen, rel, err) == -1)
		goto fail;
	return fm;
fail:
	es_frontmatter_free(fm);
	return NULL;
}

bool
es_frontmatter_present(const struct es_frontmatter *fm)
{
	return fm->present;
}

bool
es_frontmatter_has_bom(const struct es_frontmatter *fm)
{
	return fm->bom;
}

bool
es_frontmatter_is_crlf(const struct es_frontmatter *fm)
{
	return fm->crlf;
}

size_t
es_frontmatter_nkeys(const struct es_frontmatter *fm)
{
	return fm->nkeys;
}

const struct es_frontmatter_key *
es_frontmatter_key(const struct es_frontmatter *fm, size_t i)
{
	return i < fm->nkeys ? &fm->keys[i] : NULL;
}

/* Where (name, idx) is or would go among the first n keys by name. */
static size_t
byname_at(const struct es_frontmatter *fm, size_t n, const char *name,
    size_t len, size_t idx)
{
	struct keyref k = { name, len, idx };
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (es__fm_keyref_cmp(&fm->byname[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool
es_frontmatter_find(const struct es_frontmatter *fm, const char *name,
    size_t len, size_t *i)
{
	size_t at = byname_at(fm, fm->nkeys, name, len, 0);

	if (at == fm->nkeys || fm->byname[at].len != len ||
	    memcmp(fm->byname[at].p, name, len) != 0)
		return false;
	*i = fm->byname[at].idx;
	return true;
}

const char *
es_frontmatter_body(const struct es_frontmatter *fm, size_t *len)
{
	*len = fm->body_len;
	return fm->body;
}

bool
es_frontmatter_edited(const struct es_frontmatter *fm)
{
	return fm->edited;
}

/* Edits --------------------------------------------------------------- */

static void
check_index(const struct es_frontmatter *fm, size_t i)
{
	if (i >= fm->nkeys) {
		fprintf(stderr, "es_frontmatter: key index %zu out of range\n",
		    i);
		abort();
	}
}

static size_t
lo_of(const struct es_frontmatter_key *k)
{
	return k->first - 2;
}

static size_t
hi_of(const struct es_frontmatter_key *k)
{
	return k->last - 2;
}

static char *
own(struct es_frontmatter *fm, char *p)
{
	if (fm->nowned == fm->aowned) {
		fm->aowned = fm->aowned ? fm->aowned * 2 : 8;
		fm->owned = es_xreallocarray(fm->owned, fm->aowned,
		    sizeof(*fm->owned));
	}
	fm->owned[fm->nowned++] = p;
	return p;
}

/*
 * Lines [at, at + nrem) become the nins lines at ins; keys starting at or
 * after at + nrem move with them. Keys inside the removed lines are the
 * caller's business.
 */
static void
lines_splice(struct es_frontmatter *fm, size_t at, size_t nrem,
    const struct fm_line *ins, size_t nins)
{
	size_t n = fm->nlines - nrem + nins;

	if (n > fm->alines) {
		fm->alines = n * 2;
		fm->lines = es_xreallocarray(fm->lines, fm->alines,
		    sizeof(*fm->lines));
	}
	memmove(&fm->lines[at + nins], &fm->lines[at + nrem],
	    (fm->nlines - at - nrem) * sizeof(*fm->lines));
	if (nins)
		memcpy(&fm->lines[at], ins, nins * sizeof(*fm->lines));
	fm->nlines = n;
	for (size_t i = 0; i < fm->nkeys; i++) {
		struct es_frontmatter_key *k = &fm->keys[i];

		if (k->first != 0 && lo_of(k) >= at + nrem) {
			k->first = (unsigned)(k->first - nrem + nins);
			k->last = (unsigned)(k->last - nrem + nins);
		}
	}
	fm->edited = true;
}

/* Leading blanks of line idx (none past the end). */
static size_t
indent_of(const struct es_frontmatter *fm, size_t idx)
{
	size_t n = 0;

	if (idx >= fm->nlines)
		return 0;
	while (n < fm->lines[idx].len &&
	    (fm->lines[idx].p[n] == ' ' || fm->lines[idx].p[n] == '\t'))
		n++;
	return n;
}

/* indent + key + ": " + value + EOL, owned by fm. */
static struct fm_line
make_line(struct es_frontmatter *fm, size_t indent_line, const char *key,
    size_t klen, const char *value, size_t vlen)
{
	struct es_buf b;
	struct fm_line l;
	size_t ind = indent_of(fm, indent_line);

	es_buf_init(&b, ind + klen + vlen + 8);
	if (ind)
		es_buf_add(&b, fm->lines[indent_line].p, ind);
	es_yaml_value_render_string(key, klen, ES_YAML_BLOCK, &b);
	es_buf_addch(&b, ':');
	if (vlen) {
		es_buf_addch(&b, ' ');
		es_buf_add(&b, value, vlen);
	}
	es_buf_addstr(&b, fm->crlf ? "\r\n" : "\n");
	l.len = b.len;
	l.p = own(fm, es_buf_detach(&b, NULL));
	return l;
}

void
es_frontmatter_replace(struct es_frontmatter *fm, size_t i, const char *value,
    size_t vlen)
{
	struct es_frontmatter_key *k;
	struct fm_line l;
	size_t lo;

	check_index(fm, i);
	k = &fm->keys[i];
	lo = lo_of(k);
	l = make_line(fm, lo, k->name, k->name_len, value, vlen);
	lines_splice(fm, lo, hi_of(k) - lo + 1, &l, 1);
	k->last = k->first;
	es_yaml_value_release(&k->value);
}

/* Takes key i out of the array (its lines stay). */
static struct es_frontmatter_key
take_key(struct es_frontmatter *fm, size_t i)
{
	struct es_frontmatter_key k = fm->keys[i];
	size_t at = byname_at(fm, fm->nkeys, k.name, k.name_len, i);

	memmove(&fm->byname[at], &fm->byname[at + 1],
	    (fm->nkeys - at - 1) * sizeof(*fm->byname));
	memmove(&fm->keys[i], &fm->keys[i + 1],
	    (fm->nkeys - i - 1) * sizeof(*fm->keys));
	fm->nkeys--;
	for (size_t j = 0; j < fm->nkeys; j++)
		if (fm->byname[j].idx > i)
			fm->byname[j].idx--;
	return k;
}

static void
put_key(struct es_frontmatter *fm, size_t i, const struct es_frontmatter_key *k)
{
	size_t n, at;

	es__fm_add_key(fm);
	n = fm->nkeys - 1;
	memmove(&fm->keys[i + 1], &fm->keys[i], (n - i) * sizeof(*fm->keys));
	fm->keys[i] = *k;
	for (size_t j = 0; j < n; j++)
		if (fm->byname[j].idx >= i)
			fm->byname[j].idx++;
	at = byname_at(fm, n, k->name, k->name_len, i);
	memmove(&fm->byname[at + 1], &fm->byname[at],
	    (n - at) * sizeof(*fm->byname));
	fm->byname[at].p = k->name;
	fm->byname[at].len = k->name_len;
	fm->byname[at].idx = i;
}

void
es_frontmatter_remove(struct es_frontmatter *fm, size_t i)
{
	struct es_frontmatter_key k;

	check_index(fm, i);
	k = take_key(fm, i);
	lines_splice(fm, lo_of(&k), hi_of(&k) - lo_of(&k) + 1, NULL, 0);
	key_release(&k);
}

/* Line and key index where a key goes, relative to anchor. */
static void
target(const struct es_frontmatter *fm, enum es_frontmatter_where where,
    size_t anchor, size_t *at, size_t *kidx, size_t *indent_line)
{
	switch (where) {
	case ES_FM_AFTER:
		check_index(fm, anchor);
		*at = hi_of(&fm->keys[anchor]) + 1;
		*kidx = anchor + 1;
		*indent_line = lo_of(&fm->keys[anchor]);
		return;
	case ES_FM_BEFORE:
		check_index(fm, anchor);
		*at = lo_of(&fm->keys[anchor]);
		*kidx = anchor;
		*indent_line = *at;
		return;
	case ES_FM_END:
		break;
	}
	*at = fm->nlines - fm->tail;
	*kidx = fm->nkeys;
	*indent_line = fm->nkeys ? lo_of(&fm->keys[fm->nkeys - 1]) :
	    fm->nlines;
}

void
es_frontmatter_insert(struct es_frontmatter *fm,
    enum es_frontmatter_where where, size_t anchor, const char *key,
    size_t klen, const char *value, size_t vlen)
{
	struct es_frontmatter_key k;
	struct fm_line l;
	size_t at, kidx, ind;

	target(fm, where, anchor, &at, &kidx, &ind);
	l = make_line(fm, ind, key, klen, value, vlen);
	lines_splice(fm, at, 0, &l, 1);
	memset(&k, 0, sizeof(k));
	k.name = es_xmemdup(key, klen);
	k.name_len = klen;
	k.first = k.last = es__fm_file_line(at);
	put_key(fm, kidx, &k);
}

void
es_frontmatter_move(struct es_frontmatter *fm, size_t i,
    enum es_frontmatter_where where, size_t anchor)
{
	struct es_frontmatter_key k;
	struct fm_line *saved;
	size_t lo, n, at, kidx, ind;

	check_index(fm, i);
	if (where != ES_FM_END) {
		check_index(fm, anchor);
		if (anchor == i)
			return;
	}
	k = take_key(fm, i);
	lo = lo_of(&k);
	n = hi_of(&k) - lo + 1;
	saved = es_xreallocarray(NULL, n, sizeof(*saved));
	memcpy(saved, &fm->lines[lo], n * sizeof(*saved));
	lines_splice(fm, lo, n, NULL, 0);
	if (where != ES_FM_END && anchor > i)
		anchor--;
	target(fm, where, anchor, &at, &kidx, &ind);
	lines_splice(fm, at, 0, saved, n);
	free(saved);
	k.first = es__fm_file_line(at);
	k.last = es__fm_file_line(at + n - 1);
	put_key(fm, kidx, &k);
}

void
es_frontmatter_set_body(struct es_frontmatter *fm, const char *p, size_t len)
{
	fm->body = own(fm, es_xmemdup(p, len));
	fm->body_len = len;
	fm->edited = true;
}

void
es_frontmatter_render(const struct es_frontmatter *fm, struct es_buf *out)
{
	const char *eol = fm->crlf ? "\r\n" : "\n";
	size_t total = fm->body_len + 16;

	for (size_t i = 0; i < fm->nlines; i++)
		total += fm->lines[i].len;
	es_buf_grow(out, total);
	if (fm->bom)
		es_buf_add(out, "\xef\xbb\xbf", 3);
	if (fm->present)
		es_buf_add(out, fm->open, fm->open_len);
	else if (fm->nlines > 0) {
		es_buf_addstr(out, "---");
		es_buf_addstr(out, eol);
	}
	for (size_t i = 0; i < fm->nlines; i++)
		es_buf_add(out, fm->lines[i].p, fm->lines[i].len);
	if (fm->present) {
		es_buf_add(out, fm->close, fm->close_len);
		/* A closing line at the end of the file had no EOL. */
		if (fm->body_len > 0 &&
		    (fm->close_len == 0 || fm->close[fm->close_len - 1] != '\n'))
			es_buf_addstr(out, eol);
	} else if (fm->nlines > 0) {
		es_buf_addstr(out, "---");
		es_buf_addstr(out, eol);
	}
	es_buf_add(out, fm->body, fm->body_len);
}
