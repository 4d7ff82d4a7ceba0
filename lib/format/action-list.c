/*
 * Action list files (SPEC §2), lossless: the file is kept as its bytes plus
 * one array of line records; an edited or added line owns its new bytes,
 * every other line points into the original copy. Actions are a second
 * array, in file order, each knowing its line; nothing else is allocated
 * per line, so parsing costs one pass over the bytes and the actions'
 * strings (a list file is parsed on every scan, SPEC §4.8).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/xmalloc.h"

enum eol {
	EOL_NONE,	/* the last line of a file without a final newline */
	EOL_LF,
	EOL_CRLF,
};

struct line {
	size_t		 off;		/* in data, when text is NULL */
	size_t		 len;		/* without the EOL */
	char		*text;		/* owned: an edited or added line */
	enum eol	 eol;
};

struct act {
	struct es_action a;
	size_t		 line;		/* index in lines */
};

struct err_rec {
	unsigned	 line;
	char		*msg;
	enum es_problem	 problem;	/* the line's problem code */
	struct es_error	*full;		/* built on first request */
};

struct es_action_list {
	char		*data;
	size_t		 len;
	char		*rel;
	char		*context;
	enum es_list_kind kind;
	bool		 bom;
	enum eol	 eol;		/* for added lines */

	struct line	*lines;
	size_t		 nlines, alines;
	struct act	*acts;
	size_t		 nacts, aacts;
	struct err_rec	*errs;
	size_t		 nerrs, aerrs;
};

static const char bom[] = "\xef\xbb\xbf";

static const char *
line_bytes(const struct es_action_list *l, const struct line *ln)
{
	return ln->text != NULL ? ln->text : l->data + ln->off;
}

static bool
line_is(const struct es_action_list *l, size_t i, const char *s)
{
	const struct line *ln = &l->lines[i];

	return ln->len == strlen(s) && memcmp(line_bytes(l, ln), s,
	    ln->len) == 0;
}

static void
split_lines(struct es_action_list *l, size_t start)
{
	const char *p = l->data + start, *end = l->data + l->len, *nl;
	size_t n = 0;

	for (const char *q = p; q < end && (nl = memchr(q, '\n',
	    (size_t)(end - q))) != NULL; q = nl + 1)
		n++;
	l->alines = n + 2;	/* a last line without EOL, one append */
	l->lines = es_xreallocarray(NULL, l->alines, sizeof(*l->lines));
	while (p < end) {
		struct line *ln = &l->lines[l->nlines++];

		ln->off = (size_t)(p - l->data);
		ln->text = NULL;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			ln->len = (size_t)(end - p);
			ln->eol = EOL_NONE;
			p = end;
		} else if (nl > p && nl[-1] == '\r') {
			ln->len = (size_t)(nl - 1 - p);
			ln->eol = EOL_CRLF;
			p = nl + 1;
		} else {
			ln->len = (size_t)(nl - p);
			ln->eol = EOL_LF;
			p = nl + 1;
		}
		if (l->eol == EOL_NONE)
			l->eol = ln->eol;
	}
	if (l->eol == EOL_NONE)
		l->eol = EOL_LF;
}

/* Frontmatter lines, 0 when the file has none (SPEC §2: kept verbatim). */
static size_t
frontmatter_lines(const struct es_action_list *l)
{
	if (l->nlines == 0 || !line_is(l, 0, "---"))
		return 0;
	for (size_t i = 1; i < l->nlines; i++) {
		if (line_is(l, i, "---"))
			return i + 1;
	}
	return 0;
}

static struct act *
act_slot(struct es_action_list *l)
{
	if (l->nacts == l->aacts) {
		l->aacts = l->aacts ? l->aacts * 2 : 16;
		l->acts = es_xreallocarray(l->acts, l->aacts, sizeof(*l->acts));
	}
	es_action_init(&l->acts[l->nacts].a);
	return &l->acts[l->nacts];
}

static void
add_error(struct es_action_list *l, unsigned line, const struct es_error *err)
{
	if (l->nerrs == l->aerrs) {
		l->aerrs = l->aerrs ? l->aerrs * 2 : 8;
		l->errs = es_xreallocarray(l->errs, l->aerrs, sizeof(*l->errs));
	}
	l->errs[l->nerrs].line = line;
	l->errs[l->nerrs].msg = es_xstrdup(err->msg);
	l->errs[l->nerrs].problem = es_problem_of(err);
	l->errs[l->nerrs].full = NULL;
	l->nerrs++;
}

struct es_action_list *
es_action_list_parse(const char *data, size_t len, const char *rel,
    enum es_list_kind kind, const char *context)
{
	struct es_action_list *l = es_xcalloc(1, sizeof(*l));
	struct es_error err;
	size_t first;

	l->data = es_xmemdup(len > 0 ? data : "", len);
	l->len = len;
	l->rel = es_xstrdup(rel != NULL ? rel : "");
	l->context = context != NULL ? es_xstrdup(context) : NULL;
	l->kind = kind;
	l->bom = len >= 3 && memcmp(data, bom, 3) == 0;
	l->eol = EOL_NONE;
	split_lines(l, l->bom ? 3 : 0);

	first = frontmatter_lines(l);
	for (size_t i = first; i < l->nlines; i++) {
		const struct line *ln = &l->lines[i];
		const char *p = l->data + ln->off;
		struct act *ac;
		int r;

		/* Most lines are notes: no need to ask the parser. */
		if (ln->len == 0 || (p[0] != '-' && p[0] != '(' && p[0] != 'x'))
			continue;
		ac = act_slot(l);
		r = es_action_line_parse(p, ln->len, kind, context, &ac->a,
		    NULL, &err);
		if (r == 1) {
			ac->line = i;
			l->nacts++;
		} else if (r == -1)
			add_error(l, (unsigned)(i + 1), &err);
	}
	return l;
}

void
es_action_list_free(struct es_action_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nlines; i++)
		free(l->lines[i].text);
	for (size_t i = 0; i < l->nacts; i++)
		es_action_release(&l->acts[i].a);
	for (size_t i = 0; i < l->nerrs; i++) {
		free(l->errs[i].msg);
		free(l->errs[i].full);
	}
	free(l->lines);
	free(l->acts);
	free(l->errs);
	free(l->data);
	free(l->rel);
	free(l->context);
	free(l);
}

size_t
es_action_list_count(const struct es_action_list *l)
{
	return l->nacts;
}

const struct es_action *
es_action_list_get(const struct es_action_list *l, size_t i)
{
	return i < l->nacts ? &l->acts[i].a : NULL;
}

unsigned
es_action_list_line(const struct es_action_list *l, size_t i)
{
	return i < l->nacts ? (unsigned)(l->acts[i].line + 1) : 0;
}

const char *
es_action_list_raw(const struct es_action_list *l, size_t i, size_t *len)
{
	const struct line *ln;

	if (i >= l->nacts) {
		*len = 0;
		return NULL;
	}
	ln = &l->lines[l->acts[i].line];
	*len = ln->len;
	return line_bytes(l, ln);
}

size_t
es_action_list_nerrors(const struct es_action_list *l)
{
	return l->nerrs;
}

const struct es_error *
es_action_list_error(const struct es_action_list *l, size_t i)
{
	struct err_rec *e;

	if (i >= l->nerrs)
		return NULL;
	/* Built lazily: a struct es_error is large, a broken file may have
	 * an error on every line. */
	e = &l->errs[i];
	if (e->full == NULL) {
		e->full = es_xmalloc(sizeof(*e->full));
		es_problem_set(e->full, e->problem, l->rel, e->line, "%s",
		    e->msg);
	}
	return e->full;
}

/* Puts the list's place into an error filled by a line function. */
static void
place_error(const struct es_action_list *l, unsigned line,
    struct es_error *err)
{
	if (err == NULL)
		return;
	snprintf(err->path, sizeof(err->path), "%s", l->rel);
	err->line = line;
}

int
es_action_list_set(struct es_action_list *l, size_t i,
    const struct es_action *a, struct es_error *err)
{
	struct es_buf b = ES_BUF_INIT;
	struct es_action na;
	struct line *ln;
	const char *old;
	int rc = -1;

	if (i >= l->nacts)
		return es_error_set(err, ES_EPARSE, l->rel, 0,
		    "no action %zu in a list of %zu", i, l->nacts);
	ln = &l->lines[l->acts[i].line];
	old = line_bytes(l, ln);
	es_action_init(&na);
	if (es_action_line_update(old, ln->len, l->kind, l->context, a, &b,
	    err) == -1) {
		place_error(l, (unsigned)(l->acts[i].line + 1), err);
		goto out;
	}
	if (es_action_line_parse(b.buf, b.len, l->kind, l->context, &na, NULL,
	    err) != 1) {
		/* update promises a line that reads back; never here. */
		es_error_set(err, ES_EPARSE, l->rel,
		    (unsigned)(l->acts[i].line + 1),
		    "rewritten action line does not read back");
		goto out;
	}
	es_action_release(&l->acts[i].a);
	l->acts[i].a = na;
	es_action_init(&na);
	if (b.len != ln->len || memcmp(b.buf, old, b.len) != 0) {
		free(ln->text);
		ln->text = es_buf_detach(&b, &ln->len);
	}
	rc = 0;
out:
	es_action_release(&na);
	es_buf_release(&b);
	return rc;
}

void
es_action_list_remove(struct es_action_list *l, size_t i)
{
	size_t li;

	if (i >= l->nacts)
		return;
	li = l->acts[i].line;
	free(l->lines[li].text);
	memmove(&l->lines[li], &l->lines[li + 1],
	    (l->nlines - li - 1) * sizeof(*l->lines));
	l->nlines--;
	es_action_release(&l->acts[i].a);
	memmove(&l->acts[i], &l->acts[i + 1],
	    (l->nacts - i - 1) * sizeof(*l->acts));
	l->nacts--;
	for (size_t j = i; j < l->nacts; j++)
		l->acts[j].line--;
}

int
es_action_list_append(struct es_action_list *l, const struct es_action *a,
    struct es_error *err)
{
	struct es_buf b = ES_BUF_INIT;
	struct act *ac;
	struct line *ln;
	size_t at;
	int rc = -1;

	if (es_action_line_render(a, l->kind, l->context, ES_LINE_CHECKLIST,
	    &b, err) == -1) {
		place_error(l, 0, err);
		goto out;
	}
	ac = act_slot(l);
	if (es_action_line_parse(b.buf, b.len, l->kind, l->context, &ac->a,
	    NULL, err) != 1) {
		/* render promises a line that reads back; never here. */
		es_error_set(err, ES_EPARSE, l->rel, 0,
		    "new action line does not read back");
		goto out;
	}

	/* SPEC §2: after the last action line, or at the end of the file. */
	at = l->nacts > 0 ? l->acts[l->nacts - 1].line + 1 : l->nlines;
	if (at == l->nlines && l->nlines > 0 &&
	    l->lines[l->nlines - 1].eol == EOL_NONE)
		l->lines[l->nlines - 1].eol = l->eol;
	if (l->nlines == l->alines) {
		l->alines *= 2;
		l->lines = es_xreallocarray(l->lines, l->alines,
		    sizeof(*l->lines));
	}
	memmove(&l->lines[at + 1], &l->lines[at],
	    (l->nlines - at) * sizeof(*l->lines));
	l->nlines++;
	ln = &l->lines[at];
	ln->off = 0;
	ln->eol = l->eol;
	ln->text = es_buf_detach(&b, &ln->len);
	/* The new line is the last action: no later action moves. */
	ac->line = at;
	l->nacts++;
	rc = 0;
out:
	es_buf_release(&b);
	return rc;
}

void
es_action_list_render(const struct es_action_list *l, struct es_buf *out)
{
	es_buf_grow(out, l->len + 64);
	if (l->bom)
		es_buf_add(out, bom, 3);
	for (size_t i = 0; i < l->nlines; i++) {
		const struct line *ln = &l->lines[i];

		es_buf_add(out, line_bytes(l, ln), ln->len);
		if (ln->eol == EOL_CRLF)
			es_buf_add(out, "\r\n", 2);
		else if (ln->eol == EOL_LF)
			es_buf_addch(out, '\n');
	}
}

static const char *
list_title(enum es_list_kind kind)
{
	switch (kind) {
	case ES_LIST_CONTEXT:		return "Next actions";
	case ES_LIST_WAITING:		return "Waiting";
	case ES_LIST_DEFERRED:		return "Deferred";
	case ES_LIST_INCUBATING:	return "Incubating";
	case ES_LIST_COMPLETED:		return "Completed";
	case ES_LIST_NONE:		break;
	}
	return "Actions";
}

int
es_action_list_render_new(enum es_list_kind kind, const char *context,
    const struct es_action *const *acts, size_t n, struct es_buf *out,
    struct es_error *err)
{
	size_t start = out->len;

	if (kind == ES_LIST_CONTEXT && context != NULL)
		es_buf_addf(out, "# %s\n\n", context);
	else
		es_buf_addf(out, "# %s\n\n", list_title(kind));
	for (size_t i = 0; i < n; i++) {
		if (es_action_line_render(acts[i], kind, context,
		    ES_LINE_CHECKLIST, out, err) == -1) {
			es_buf_setlen(out, start);
			return -1;
		}
		es_buf_addch(out, '\n');
	}
	return 0;
}

static int
cmp_raw(const void *x, const void *y, void *ud)
{
	const struct es_action_list *l = ud;
	size_t ia = *(const size_t *)x, ib = *(const size_t *)y, la, lb;
	const char *ra = es_action_list_raw(l, ia, &la);
	const char *rb = es_action_list_raw(l, ib, &lb);
	int c = memcmp(ra, rb, la < lb ? la : lb);

	if (c != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

unsigned *
es_action_list_occurrences(const struct es_action_list *l)
{
	size_t n = es_action_list_count(l);
	size_t *order = es_xreallocarray(NULL, n ? n : 1, sizeof(*order));
	unsigned *occ = es_xreallocarray(NULL, n ? n : 1, sizeof(*occ));

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_raw, (void *)l);
	for (size_t i = 0; i < n; i++) {
		size_t la, lb;
		const char *x, *y;

		occ[order[i]] = 1;
		if (i == 0)
			continue;
		x = es_action_list_raw(l, order[i], &la);
		y = es_action_list_raw(l, order[i - 1], &lb);
		if (la == lb && memcmp(x, y, la) == 0)
			occ[order[i]] = occ[order[i - 1]] + 1;
	}
	free(order);
	return occ;
}
