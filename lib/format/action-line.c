/*
 * Action lines (SPEC §2): recognition, parsing, canonical rendering and
 * in-place updates (action-line-update.c). The grammar is in
 * execsync/action-line.h.
 *
 * One scanner, es__al_scan_line(), serves all three. It reads a line once: words,
 * control characters, slots and tokens in one pass, the text joined as it
 * goes (list files are parsed on every scan: the cost per line is the
 * action's strings and nothing else). Updating also keeps the words with
 * their roles and offsets, so that an edit touches exactly the words whose
 * meaning changed. Rendering and updating check their output by parsing it
 * back: the promise "parse(render(a)) == a" is enforced, not hoped for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-line.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#include "action-line-internal.h"

/* es_context_is_valid() of the wl bytes at w. */
static bool
context_ok(const char *w, size_t wl)
{
	char buf[ES_SLUG_MAX + 2];

	if (wl >= sizeof(buf))
		return false;
	memcpy(buf, w, wl);
	buf[wl] = '\0';
	return es_context_is_valid(buf);
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
is_pri_word(const char *w, size_t len)
{
	return len == 3 && w[0] == '(' && w[1] >= 'A' && w[1] <= 'Z' &&
	    w[2] == ')';
}

/* NNNN-NN-NN: in a date slot such a word is a date, or an error. */
static bool
is_date_shaped(const char *w, size_t len)
{
	static const char shape[] = "dddd-dd-dd";

	if (len != 10)
		return false;
	for (size_t i = 0; i < 10; i++) {
		if (shape[i] == '-' ? w[i] != '-' : (w[i] < '0' || w[i] > '9'))
			return false;
	}
	return true;
}

/* 4 for "due:...", 6 for "defer:...", else 0. */
static size_t
date_token(const char *w, size_t len)
{
	if (w[0] != 'd')
		return 0;
	if (len >= 4 && memcmp(w, "due:", 4) == 0)
		return 4;
	if (len >= 6 && memcmp(w, "defer:", 6) == 0)
		return 6;
	return 0;
}

/*
 * The next word at or after *pos: 1 and the word at [*off, *off + *wlen),
 * 0 at the end of the line, -1 with *off at a control character (tab is
 * whitespace, not a control character here).
 */
static int
next_word(const char *s, size_t len, size_t *pos, size_t *off, size_t *wlen)
{
	size_t i = *pos, start;
	unsigned char c;

	while (i < len && is_ws(s[i]))
		i++;
	if (i == len) {
		*pos = i;
		return 0;
	}
	for (start = i; i < len; i++) {
		c = (unsigned char)s[i];
		if (c > ' ' && c != 0x7f)	/* most bytes */
			continue;
		if (c == ' ' || c == '\t')
			break;
		*off = i;
		return -1;
	}
	*off = start;
	*wlen = i - start;
	*pos = i;
	return 1;
}

static void
add_word(struct scan *sc, size_t off, size_t len, enum role role)
{
	if (!sc->collect)
		return;
	if (sc->nw == sc->aw) {
		sc->aw = sc->aw ? sc->aw * 2 : 16;
		sc->w = es_xreallocarray(sc->w, sc->aw, sizeof(*sc->w));
	}
	sc->w[sc->nw].off = off;
	sc->w[sc->nw].len = len;
	sc->w[sc->nw].role = role;
	sc->nw++;
}

void
es__al_scan_release(struct scan *sc)
{
	free(sc->w);
	free(sc->text);
	sc->w = NULL;
	sc->text = NULL;
	sc->nw = sc->aw = 0;
}

static int
quote_len(size_t len)
{
	return (int)(len < QUOTE_MAX ? len : QUOTE_MAX);
}

/*
 * May a date-shaped word fill this date slot? In "- [x] " lines a creation
 * date comes only after a completion date (SPEC §2: completed.md holds
 * "- [x] <completion-date> <the original line after '- [ ] '>").
 */
static bool
date_slot_open(const struct scan *sc, enum slot s)
{
	if (s == S_COMPLETED)
		return true;
	return sc->form != ES_LINE_CHECKLIST || !sc->done ||
	    sc->completed != ES_DATE_NONE;
}

/*
 * Reads the words of a line. Returns 1 (action: sc filled, sc->text owned
 * by sc), 0 (not an action) or -1 (malformed action, err filled).
 * sc->collect, sc->w and sc->aw are the caller's to set before; the rest is
 * initialised here. es__al_scan_release() in every case.
 */
int
es__al_scan_line(const char *s, size_t len, struct scan *sc, struct es_error *err)
{
	enum slot slots[4];
	size_t nslots = 0, k = 0, pos, off, wl, n;
	bool header = true;
	es_date_t d;
	int r;

	sc->done = sc->pri_is_mark = false;
	sc->pri = 0;
	sc->completed = sc->action_date = sc->due = sc->defer = ES_DATE_NONE;
	sc->ctx_off = sc->ctx_len = sc->proj_off = sc->proj_len = 0;
	sc->text = NULL;
	sc->text_len = 0;
	sc->nw = 0;
	sc->i_pri = sc->i_completed = sc->i_date = NO_WORD;
	sc->i_ctx = sc->i_proj = sc->i_due = sc->i_defer = NO_WORD;
	sc->i_header = 0;

	/* The marker, at column 0 and followed by whitespace (or the end). */
	if (len >= 5 && s[0] == '-' && s[1] == ' ' && s[2] == '[' &&
	    (s[3] == ' ' || s[3] == 'x' || s[3] == 'X') && s[4] == ']' &&
	    (len == 5 || is_ws(s[5]))) {
		sc->form = ES_LINE_CHECKLIST;
		sc->done = s[3] != ' ';
		add_word(sc, 0, 5, R_MARK);
		pos = 5;
		slots[nslots++] = S_PRI;
		if (sc->done) {
			slots[nslots++] = S_COMPLETED;
			slots[nslots++] = S_PRI;
		}
		slots[nslots++] = S_DATE;
	} else if (len >= 3 && is_pri_word(s, 3) && (len == 3 || is_ws(s[3]))) {
		sc->form = ES_LINE_TODOTXT;
		sc->pri = s[1];
		sc->pri_is_mark = true;
		sc->i_pri = sc->nw;
		add_word(sc, 0, 3, R_PRI);
		pos = 3;
		slots[nslots++] = S_DATE;
	} else if (len >= 13 && s[0] == 'x' && s[1] == ' ' &&
	    es_date_parse(s + 2, 10, &d) && is_ws(s[12])) {
		sc->form = ES_LINE_TODOTXT;
		sc->done = true;
		sc->completed = d;
		add_word(sc, 0, 1, R_MARK);
		sc->i_completed = sc->nw;
		add_word(sc, 2, 10, R_COMPLETED);
		pos = 12;
		slots[nslots++] = S_PRI;
		slots[nslots++] = S_DATE;
	} else
		return 0;

	/* The text is at most the rest of the line. */
	sc->text = es_xmalloc(len - pos + 1);
	while ((r = next_word(s, len, &pos, &off, &wl)) == 1) {
		const char *w = s + off;

		if (header) {
			for (; k < nslots; k++) {
				if (slots[k] == S_PRI) {
					if (sc->pri == 0 && is_pri_word(w, wl))
						break;
				} else if (is_date_shaped(w, wl) &&
				    date_slot_open(sc, slots[k]))
					break;
			}
			if (k < nslots) {
				if (slots[k] == S_PRI) {
					sc->pri = w[1];
					sc->i_pri = sc->nw;
					add_word(sc, off, wl, R_PRI);
				} else {
					if (!es_date_parse(w, wl, &d))
						return es_error_set(err,
						    ES_EPARSE, NULL, 0,
						    "bad date '%.*s'",
						    quote_len(wl), w);
					if (slots[k] == S_COMPLETED) {
						sc->completed = d;
						sc->i_completed = sc->nw;
						add_word(sc, off, wl,
						    R_COMPLETED);
					} else {
						sc->action_date = d;
						sc->i_date = sc->nw;
						add_word(sc, off, wl, R_DATE);
					}
				}
				k++;
				continue;
			}
			header = false;
			sc->i_header = sc->nw ? sc->nw - 1 : 0;
		}

		if ((n = date_token(w, wl)) != 0) {
			bool due = n == 4;
			es_date_t *slot = due ? &sc->due : &sc->defer;

			if (*slot != ES_DATE_NONE)
				return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
				    "more than one '%s' token",
				    due ? "due:" : "defer:");
			if (!es_date_parse(w + n, wl - n, slot))
				return es_problem_set(err, ES_PROB_BAD_DATE, NULL, 0,
				    "bad date '%.*s' in '%s'",
				    quote_len(wl - n), w + n,
				    due ? "due:" : "defer:");
			if (due)
				sc->i_due = sc->nw;
			else
				sc->i_defer = sc->nw;
			add_word(sc, off, wl, due ? R_DUE : R_DEFER);
		} else if (w[0] == '@' && wl >= 2 && sc->ctx_len == 0) {
			/* A context names a file, contexts/@<ctx>.md: no '/',
			 * no "@.." (SPEC §4.11), the rules of the database's
			 * contexts, so what is read can be synced back. */
			if (!context_ok(w, wl))
				return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
				    "bad context '%.*s'", quote_len(wl), w);
			sc->ctx_off = off;
			sc->ctx_len = wl;
			sc->i_ctx = sc->nw;
			add_word(sc, off, wl, R_CONTEXT);
		} else if (w[0] == '+' && wl >= 2 && sc->proj_len == 0) {
			sc->proj_off = off;
			sc->proj_len = wl;
			sc->i_proj = sc->nw;
			add_word(sc, off, wl, R_PROJECT);
		} else {
			if (sc->text_len > 0)
				sc->text[sc->text_len++] = ' ';
			memcpy(sc->text + sc->text_len, w, wl);
			sc->text_len += wl;
			add_word(sc, off, wl, R_TEXT);
		}
	}
	if (r == -1)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "control character 0x%02x in action line",
		    (unsigned char)s[off]);
	sc->text[sc->text_len] = '\0';
	if (header)
		sc->i_header = sc->nw ? sc->nw - 1 : 0;
	if (sc->text_len == 0)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "action has no text");
	return 1;
}

/* Fills out from a successful scan of s; the text moves from sc to out. */
void
es__al_scan_fill(const char *s, struct scan *sc, enum es_list_kind list,
    const char *list_context, struct es_action *out)
{
	out->text = sc->text;
	sc->text = NULL;
	if (sc->ctx_len != 0)
		out->context = es_xmemdup(s + sc->ctx_off, sc->ctx_len);
	else if (list == ES_LIST_CONTEXT && list_context != NULL)
		out->context = es_xstrdup(list_context);
	else
		out->context = NULL;
	out->project_slug = sc->proj_len != 0 ?
	    es_xmemdup(s + sc->proj_off + 1, sc->proj_len - 1) : NULL;
	out->state = sc->done ? ES_STATE_COMPLETED : es_list_state(list);
	out->due = sc->due;
	out->defer = sc->defer;
	out->action_date = sc->action_date;
	out->completed = sc->completed;
	out->priority = sc->pri;
}

int
es_action_line_parse(const char *line, size_t len, enum es_list_kind list,
    const char *list_context, struct es_action *out, enum es_line_form *form,
    struct es_error *err)
{
	struct scan sc;
	int r;

	sc.collect = false;
	sc.w = NULL;
	sc.aw = 0;
	if ((r = es__al_scan_line(line, len, &sc, err)) == 1) {
		es__al_scan_fill(line, &sc, list, list_context, out);
		if (form != NULL)
			*form = sc.form;
	}
	es__al_scan_release(&sc);
	return r;
}

/* ------------------------------------------------------------------ */
/* Rendering */

bool
es__al_date_ok(es_date_t d)
{
	int y, m, day;

	if (d == ES_DATE_NONE)
		return true;
	es_date_to_ymd(d, &y, &m, &day);
	return es_date_from_ymd(y, m, day) == d;
}

static const char *
state_name(enum es_state s)
{
	const char *n = es_state_name(s);

	return n != NULL ? n : "none";
}

/* The first text word that starts with c and has more after it. */
static const char *
text_word_with(const char *text, char c, size_t *wlen)
{
	size_t len = strlen(text), pos = 0, off, wl;

	while (next_word(text, len, &pos, &off, &wl) == 1) {
		if (text[off] == c && wl >= 2) {
			*wlen = wl;
			return text + off;
		}
	}
	return NULL;
}

/* The checks that name what makes an action unwritable. */
static int
render_check(const struct es_action *a, enum es_list_kind list,
    const char *list_context, struct es_error *err)
{
	size_t len, pos = 0, off, wl;
	const char *t = a->text, *w;
	enum es_state want = es_list_state(list);

	if (t == NULL || t[0] == '\0')
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "action has no text");
	len = strlen(t);
	for (size_t i = 0; i < len; i++) {
		if (is_ctl((unsigned char)t[i]))
			return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
			    "control character 0x%02x in action text",
			    (unsigned char)t[i]);
	}
	if (t[0] == ' ' || t[len - 1] == ' ' || strstr(t, "  ") != NULL)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "action text '%.*s' has leading, trailing or repeated "
		    "spaces", quote_len(len), t);
	while (next_word(t, len, &pos, &off, &wl) == 1) {
		w = t + off;
		if (date_token(w, wl) != 0)
			return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
			    "text word '%.*s' would read as a token",
			    quote_len(wl), w);
	}
	if (a->context == NULL && (w = text_word_with(t, '@', &wl)) != NULL)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "text word '%.*s' would read as a context",
		    quote_len(wl), w);
	if (a->project_slug == NULL &&
	    (w = text_word_with(t, '+', &wl)) != NULL)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "text word '%.*s' would read as a project",
		    quote_len(wl), w);

	if (a->context != NULL) {
		const char *c = a->context;
		size_t n = strlen(c);

		if (!es_context_is_valid(c))
			return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
			    "bad context '%.*s'", quote_len(n), c);
	} else if (list == ES_LIST_CONTEXT && list_context != NULL)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "action has no context but its list gives it '%s'",
		    list_context);
	if (a->project_slug != NULL) {
		const char *p = a->project_slug;
		size_t n = strlen(p);
		bool bad = n == 0;

		for (size_t i = 0; i < n && !bad; i++)
			bad = p[i] == ' ' || is_ctl((unsigned char)p[i]);
		if (bad)
			return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
			    "bad project slug '%.*s'", quote_len(n), p);
	}
	if (a->priority != 0 && (a->priority < 'A' || a->priority > 'Z'))
		return es_problem_set(err, ES_PROB_UNKNOWN_VALUE, NULL, 0,
		    "bad priority %d", a->priority);
	if (!es__al_date_ok(a->due) || !es__al_date_ok(a->defer) ||
	    !es__al_date_ok(a->action_date) || !es__al_date_ok(a->completed))
		return es_problem_set(err, ES_PROB_BAD_DATE, NULL, 0,
		    "date out of range 0001-9999");
	if (a->state != want && a->state != ES_STATE_COMPLETED)
		return es_problem_set(err, ES_PROB_UNKNOWN_VALUE, NULL, 0,
		    "state '%s' does not fit a list of state '%s'",
		    state_name(a->state), state_name(want));
	if (a->completed != ES_DATE_NONE && a->state != ES_STATE_COMPLETED)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "completion date on an action in state '%s'",
		    state_name(a->state));
	if (a->state == ES_STATE_COMPLETED && a->completed == ES_DATE_NONE &&
	    a->action_date != ES_DATE_NONE)
		return es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
		    "completed action with a creation date but no completion "
		    "date");
	return 0;
}

void
es__al_add_date(struct es_buf *b, es_date_t d)
{
	char s[ES_DATE_BUFSZ];

	es_date_format(d, s);
	es_buf_add(b, s, 10);
}

enum tok {
	T_CTX = 1 << 0,
	T_PROJ = 1 << 1,
	T_DUE = 1 << 2,
	T_DEFER = 1 << 3,
};

static void
add_tokens(struct es_buf *b, const struct es_action *a, unsigned which,
    bool front)
{
	for (unsigned t = T_CTX; t <= T_DEFER; t <<= 1) {
		if (!(which & t))
			continue;
		if (!front)
			es_buf_addch(b, ' ');
		switch (t) {
		case T_CTX:
			es_buf_addstr(b, a->context);
			break;
		case T_PROJ:
			es_buf_addch(b, '+');
			es_buf_addstr(b, a->project_slug);
			break;
		case T_DUE:
			es_buf_add(b, "due:", 4);
			es__al_add_date(b, a->due);
			break;
		case T_DEFER:
			es_buf_add(b, "defer:", 6);
			es__al_add_date(b, a->defer);
			break;
		}
		if (front)
			es_buf_addch(b, ' ');
	}
}

static void
build_line(const struct es_action *a, enum es_line_form form,
    unsigned front, unsigned back, struct es_buf *b)
{
	bool done = a->state == ES_STATE_COMPLETED;

	if (form == ES_LINE_TODOTXT && done && a->completed != ES_DATE_NONE) {
		es_buf_add(b, "x ", 2);
		es__al_add_date(b, a->completed);
		es_buf_addch(b, ' ');
		if (a->priority != 0)
			es_buf_addf(b, "(%c) ", a->priority);
	} else if (form == ES_LINE_TODOTXT && !done && a->priority != 0) {
		es_buf_addf(b, "(%c) ", a->priority);
	} else {
		es_buf_add(b, done ? "- [x] " : "- [ ] ", 6);
		if (a->completed != ES_DATE_NONE) {
			es__al_add_date(b, a->completed);
			es_buf_addch(b, ' ');
		}
		if (a->priority != 0)
			es_buf_addf(b, "(%c) ", a->priority);
	}
	if (a->action_date != ES_DATE_NONE) {
		es__al_add_date(b, a->action_date);
		es_buf_addch(b, ' ');
	}
	add_tokens(b, a, front, true);
	es_buf_addstr(b, a->text);
	add_tokens(b, a, back, false);
}

/* Does line read back as exactly a? */
bool
es__al_reads_back(const char *line, size_t len, enum es_list_kind list,
    const char *list_context, const struct es_action *a)
{
	struct es_action got;
	bool same;

	es_action_init(&got);
	same = es_action_line_parse(line, len, list, list_context, &got, NULL,
	    NULL) == 1 && es_action_diff(&got, a) == 0;
	es_action_release(&got);
	return same;
}

int
es_action_line_render(const struct es_action *a, enum es_list_kind list,
    const char *list_context, enum es_line_form form, struct es_buf *out,
    struct es_error *err)
{
	struct es_buf b = ES_BUF_INIT;
	unsigned tokens = 0, front = 0;
	size_t wl;
	int rc = -1;

	if (render_check(a, list, list_context, err) == -1)
		goto out;

	/* The list's own context goes without saying (SPEC §2). */
	if (a->context != NULL && !(list == ES_LIST_CONTEXT &&
	    es_str_eq(a->context, list_context)))
		tokens |= T_CTX;
	if (a->project_slug != NULL)
		tokens |= T_PROJ;
	if (a->due != ES_DATE_NONE)
		tokens |= T_DUE;
	if (a->defer != ES_DATE_NONE)
		tokens |= T_DEFER;
	/* Only the first "@x" / "+x" word is a token: the action's own must
	 * come before any such word of the text. */
	if (a->context != NULL && text_word_with(a->text, '@', &wl) != NULL)
		front |= T_CTX;
	if (a->project_slug != NULL &&
	    text_word_with(a->text, '+', &wl) != NULL)
		front |= T_PROJ;
	tokens |= front;

	build_line(a, form, front, tokens & ~front, &b);
	if (es__al_reads_back(b.buf, b.len, list, list_context, a)) {
		rc = 0;
		goto out;
	}
	/*
	 * The text's first word would land in a priority or date slot
	 * ("2025-11-09 plans" with no creation date): a token before the text
	 * closes the slots. The context may serve even when it goes without
	 * saying.
	 */
	if (tokens == 0 && a->context != NULL)
		tokens = T_CTX;
	if (tokens != 0) {
		es_buf_reset(&b);
		build_line(a, form, tokens, 0, &b);
		if (es__al_reads_back(b.buf, b.len, list, list_context, a)) {
			rc = 0;
			goto out;
		}
	}
	es_problem_set(err, ES_PROB_BAD_ACTION, NULL, 0,
	    "action text '%.*s' cannot be written as a line that reads back "
	    "the same", quote_len(strlen(a->text)), a->text);
out:
	if (rc == 0)
		es_buf_add(out, b.buf, b.len);
	es_buf_release(&b);
	return rc;
}
