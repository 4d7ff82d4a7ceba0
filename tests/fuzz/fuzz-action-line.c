/*
 * Fuzz action lines and list files (SPEC §2). Invariants, abort() when
 * broken:
 *  - the input as one line, in every kind of list: when it parses,
 *    es_action_line_render() of the action (when it accepts it) parses back
 *    to the same action and is itself canonical (renders to the same
 *    bytes), and es_action_line_update() with the unchanged action gives
 *    the input back byte for byte;
 *  - the input as a list file: rendering without edits gives the input back
 *    byte for byte; setting every action to itself changes nothing; removing
 *    the first action and appending it again gives a list that still holds
 *    the same number of actions, and every error has a line in the file.
 * Everything is freed on every path, so leaks show.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-line.h"
#include "execsync/action-list.h"
#include "execsync/xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	enum es_list_kind kind;
	const char	*context;
} lists[] = {
	{ ES_LIST_CONTEXT, "@macbook" },
	{ ES_LIST_CONTEXT, NULL },
	{ ES_LIST_WAITING, NULL },
	{ ES_LIST_DEFERRED, NULL },
	{ ES_LIST_INCUBATING, NULL },
	{ ES_LIST_COMPLETED, NULL },
	{ ES_LIST_NONE, NULL },
};

#define NLISTS (sizeof(lists) / sizeof(lists[0]))

static char *
dup_or_null(const char *s)
{
	return s != NULL ? es_xstrdup(s) : NULL;
}

/*
 * An edit of a chosen by the bits of h: dates, priority, tokens set,
 * changed or removed. Updating the line to it, when accepted, must give a
 * line that reads back as exactly that action.
 */
static void
check_edit(const char *s, size_t len, enum es_list_kind kind,
    const char *ctx, const struct es_action *a, uint32_t h)
{
	struct es_action m, got;
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	const es_date_t day = 20000;

	es_action_copy(&m, a);
	es_action_init(&got);
	if (h & 1)
		m.due = m.due == ES_DATE_NONE ? day : ES_DATE_NONE;
	if (h & 2)
		m.defer = m.defer == ES_DATE_NONE ? day + 1 : m.defer + 1;
	if (h & 4)
		m.action_date = m.action_date == ES_DATE_NONE ? day - 1 :
		    ES_DATE_NONE;
	if (h & 8)
		m.priority = m.priority == 0 ? 'K' : (h & 16 ? 0 : 'B');
	if (h & 32) {
		free(m.context);
		m.context = dup_or_null(h & 64 ? NULL : h & 128 ? ctx :
		    "@other");
	}
	if (h & 256) {
		free(m.project_slug);
		m.project_slug = dup_or_null(h & 512 ? NULL : "other");
	}
	if ((h & 1024) && m.completed != ES_DATE_NONE)
		m.completed++;
	if (es_action_line_update(s, len, kind, ctx, &m, &out, &err) == 0 &&
	    (es_action_line_parse(out.buf, out.len, kind, ctx, &got, NULL,
	    &err) != 1 || es_action_diff(&m, &got) != 0))
		abort();
	es_action_release(&m);
	es_action_release(&got);
	es_buf_release(&out);
}

static void
check_line(const char *s, size_t len, enum es_list_kind kind,
    const char *ctx)
{
	struct es_action a, b, c;
	struct es_buf out = ES_BUF_INIT, again = ES_BUF_INIT, upd = ES_BUF_INIT;
	struct es_error err;
	enum es_line_form form, form2;
	int r;

	es_action_init(&a);
	es_action_init(&b);
	es_action_init(&c);
	r = es_action_line_parse(s, len, kind, ctx, &a, &form, &err);
	if (r != 1) {
		if (a.text != NULL || a.context != NULL)
			abort();	/* out must stay untouched */
		goto out;
	}
	if (es_action_line_update(s, len, kind, ctx, &a, &upd, &err) != 0 ||
	    upd.len != len || memcmp(upd.buf, s, len) != 0)
		abort();
	{
		uint32_t h = 2166136261u;

		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)s[i]) * 16777619u;
		check_edit(s, len, kind, ctx, &a, h);
		check_edit(s, len, kind, ctx, &a, ~h);
		check_edit(s, len, kind, ctx, &a, h >> 11);
	}
	if (es_action_line_render(&a, kind, ctx, form, &out, &err) != 0)
		goto out;
	if (es_action_line_parse(out.buf, out.len, kind, ctx, &b, &form2,
	    &err) != 1 || es_action_diff(&a, &b) != 0)
		abort();
	/* A rendered line is canonical: it renders to itself. */
	if (es_action_line_render(&b, kind, ctx, form2, &again, &err) != 0 ||
	    again.len != out.len || memcmp(again.buf, out.buf, out.len) != 0)
		abort();
	/* An update from the canonical line to the first action. */
	es_buf_reset(&upd);
	if (es_action_line_update(out.buf, out.len, kind, ctx, &a, &upd,
	    &err) != 0 || es_action_line_parse(upd.buf, upd.len, kind, ctx,
	    &c, NULL, &err) != 1 || es_action_diff(&a, &c) != 0)
		abort();
out:
	es_action_release(&a);
	es_action_release(&b);
	es_action_release(&c);
	es_buf_release(&out);
	es_buf_release(&again);
	es_buf_release(&upd);
}

static void
check_list(const char *s, size_t len, enum es_list_kind kind,
    const char *ctx)
{
	struct es_action_list *l = es_action_list_parse(s, len, "fuzz.md",
	    kind, ctx);
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	struct es_action a;
	size_t n, nl = 1;

	es_action_init(&a);
	for (size_t i = 0; i < len; i++)
		nl += s[i] == '\n';
	for (size_t i = 0; i < es_action_list_nerrors(l); i++) {
		const struct es_error *e = es_action_list_error(l, i);

		if (e->line == 0 || e->line > nl)
			abort();
	}
	es_action_list_render(l, &out);
	if (out.len != len || memcmp(out.buf, s, len) != 0)
		abort();
	n = es_action_list_count(l);
	for (size_t i = 0; i < n; i++) {
		es_action_copy(&a, es_action_list_get(l, i));
		if (es_action_list_set(l, i, &a, &err) != 0)
			abort();
		es_action_release(&a);
	}
	es_buf_reset(&out);
	es_action_list_render(l, &out);
	if (out.len != len || memcmp(out.buf, s, len) != 0)
		abort();
	if (n > 0) {
		es_action_copy(&a, es_action_list_get(l, 0));
		es_action_list_remove(l, 0);
		if (es_action_list_append(l, &a, &err) == 0 &&
		    (es_action_list_count(l) != n || es_action_diff(&a,
		    es_action_list_get(l, n - 1)) != 0))
			abort();
		es_action_release(&a);
	}
	es_buf_release(&out);
	es_action_list_free(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so a read past the end shows. */
	char *s = malloc(size ? size : 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	for (size_t i = 0; i < NLISTS; i++)
		check_line(s, size, lists[i].kind, lists[i].context);
	check_list(s, size, ES_LIST_CONTEXT, "@macbook");
	check_list(s, size, ES_LIST_COMPLETED, NULL);
	free(s);
	return 0;
}
