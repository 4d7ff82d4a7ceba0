/*
 * Action lines (SPEC §2): updating a line in place, touching only the
 * words whose meaning changed (es_action_line_update(); the grammar is in
 * execsync/action-line.h). The scanner and the renderer it checks with are
 * action-line.c's (action-line-internal.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-line.h"
#include "execsync/xmalloc.h"

#include "action-line-internal.h"

/* ------------------------------------------------------------------ */
/* Updating in place */

struct edit {
	bool		 del;
	const char	*str;		/* replacement: [pre]str, or */
	char		 pre;
	char		 buf[24];	/* replacement "defer:YYYY-MM-DD" */
	char		 ins[32];	/* " (A) YYYY-MM-DD": added after */
	size_t		 ins_len;
};

static void
edit_insert(struct edit *e, const char *s, size_t n)
{
	e->ins[e->ins_len++] = ' ';
	memcpy(e->ins + e->ins_len, s, n);
	e->ins_len += n;
}

/* A date token or plain date (prefix "" ) into e's replacement buffer. */
static void
edit_date(struct edit *e, const char *prefix, es_date_t d)
{
	size_t n = strlen(prefix);

	memcpy(e->buf, prefix, n);
	es_date_format(d, e->buf + n);
}

static void
tail_date(struct es_buf *tail, const char *prefix, es_date_t d)
{
	es_buf_addch(tail, ' ');
	es_buf_addstr(tail, prefix);
	es__al_add_date(tail, d);
}

/*
 * Appends to b the old line with only the words whose meaning differs
 * between cur (what old says) and a edited. Returns false when that cannot
 * be done in place (the caller renders instead); b is then unchanged.
 * The result is checked by the caller.
 */
static bool
edit_line(const char *old, size_t old_len, const struct scan *sc,
    const struct es_action *cur, const struct es_action *a,
    struct es_buf *b)
{
	struct edit *ed;
	struct es_buf tail = ES_BUF_INIT;
	const struct word *w = sc->w;
	char pri[3];
	size_t end;
	bool ok = false;

	ed = es_xcalloc(sc->nw, sizeof(*ed));
	if (!es__al_date_ok(a->completed) || !es__al_date_ok(a->action_date) ||
	    !es__al_date_ok(a->due) || !es__al_date_ok(a->defer) ||
	    (a->priority != 0 && (a->priority < 'A' || a->priority > 'Z')))
		goto out;

	/* Slots first, in line order: completion date, priority, date. */
	if (a->completed != cur->completed) {
		if (a->completed == ES_DATE_NONE || sc->i_completed == NO_WORD)
			goto out;
		edit_date(&ed[sc->i_completed], "", a->completed);
	}
	if (a->priority != cur->priority) {
		pri[0] = '(';
		pri[1] = a->priority;
		pri[2] = ')';
		if (sc->i_pri != NO_WORD && a->priority == 0) {
			/* "(A) text" without its "(A)" is no action. */
			if (sc->pri_is_mark)
				goto out;
			ed[sc->i_pri].del = true;
		} else if (sc->i_pri != NO_WORD)
			memcpy(ed[sc->i_pri].buf, pri, 3);
		else {
			/* After the marker, or after the completion date of
			 * a done line that has one. */
			edit_insert(&ed[sc->i_completed != NO_WORD ?
			    sc->i_completed : 0], pri, 3);
		}
	}
	if (a->action_date != cur->action_date) {
		char d[ES_DATE_BUFSZ];

		if (sc->i_date != NO_WORD && a->action_date == ES_DATE_NONE)
			ed[sc->i_date].del = true;
		else if (sc->i_date != NO_WORD)
			edit_date(&ed[sc->i_date], "", a->action_date);
		else {
			/* The last slot: after everything else of the header
			 * (a priority inserted above sits at the same word,
			 * and before). */
			es_date_format(a->action_date, d);
			edit_insert(&ed[sc->i_header], d, 10);
		}
	}

	/* Tokens: replaced where they are, removed, or appended. */
	if (!es_str_eq(a->context, cur->context)) {
		if (sc->i_ctx != NO_WORD && a->context == NULL)
			ed[sc->i_ctx].del = true;
		else if (sc->i_ctx != NO_WORD)
			ed[sc->i_ctx].str = a->context;
		else if (a->context != NULL) {
			es_buf_addch(&tail, ' ');
			es_buf_addstr(&tail, a->context);
		}
		/* else: the list's context is gone; the check below fails. */
	}
	if (!es_str_eq(a->project_slug, cur->project_slug)) {
		if (sc->i_proj != NO_WORD && a->project_slug == NULL)
			ed[sc->i_proj].del = true;
		else if (sc->i_proj != NO_WORD) {
			ed[sc->i_proj].pre = '+';
			ed[sc->i_proj].str = a->project_slug;
		} else {
			es_buf_add(&tail, " +", 2);
			es_buf_addstr(&tail, a->project_slug);
		}
	}
	if (a->due != cur->due) {
		if (a->due == ES_DATE_NONE)
			ed[sc->i_due].del = true;
		else if (sc->i_due != NO_WORD)
			edit_date(&ed[sc->i_due], "due:", a->due);
		else
			tail_date(&tail, "due:", a->due);
	}
	if (a->defer != cur->defer) {
		if (a->defer == ES_DATE_NONE)
			ed[sc->i_defer].del = true;
		else if (sc->i_defer != NO_WORD)
			edit_date(&ed[sc->i_defer], "defer:", a->defer);
		else
			tail_date(&tail, "defer:", a->defer);
	}

	/*
	 * Each kept word with the whitespace that was before it: a removed
	 * word takes its leading whitespace with it; the line's trailing
	 * whitespace stays at the end.
	 */
	for (size_t i = 0; i < sc->nw; i++) {
		struct edit *e = &ed[i];

		if (e->del)
			continue;
		if (i > 0) {
			end = w[i - 1].off + w[i - 1].len;
			es_buf_add(b, old + end, w[i].off - end);
		}
		if (e->str != NULL) {
			if (e->pre != '\0')
				es_buf_addch(b, e->pre);
			es_buf_addstr(b, e->str);
		} else if (e->buf[0] != '\0')
			es_buf_addstr(b, e->buf);
		else
			es_buf_add(b, old + w[i].off, w[i].len);
		es_buf_add(b, e->ins, e->ins_len);
	}
	es_buf_add(b, tail.buf, tail.len);
	end = w[sc->nw - 1].off + w[sc->nw - 1].len;
	es_buf_add(b, old + end, old_len - end);
	ok = true;
out:
	es_buf_release(&tail);
	free(ed);
	return ok;
}

int
es_action_line_update(const char *old, size_t old_len,
    enum es_list_kind list, const char *list_context,
    const struct es_action *a, struct es_buf *out, struct es_error *err)
{
	struct scan sc;
	struct es_action cur;
	struct es_buf b = ES_BUF_INIT;
	enum es_line_form form = ES_LINE_CHECKLIST;
	int rc;

	es_action_init(&cur);
	memset(&sc, 0, sizeof(sc));
	sc.collect = true;
	if (es__al_scan_line(old, old_len, &sc, NULL) != 1)
		goto render;
	form = sc.form;
	es__al_scan_fill(old, &sc, list, list_context, &cur);
	if (a->text == NULL || strcmp(cur.text, a->text) != 0 ||
	    cur.state != a->state)
		goto render;
	if (es_action_diff(&cur, a) == 0) {
		es_buf_add(out, old, old_len);
		rc = 0;
		goto out;
	}
	if (edit_line(old, old_len, &sc, &cur, a, &b) &&
	    es__al_reads_back(b.buf, b.len, list, list_context, a)) {
		es_buf_add(out, b.buf, b.len);
		rc = 0;
		goto out;
	}
render:
	rc = es_action_line_render(a, list, list_context, form, out, err);
out:
	es_buf_release(&b);
	es_action_release(&cur);
	es__al_scan_release(&sc);
	return rc;
}
