/* Actions by list and text (see action-ident.h). */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "execsync/action-ident.h"
#include "execsync/layout.h"
#include "execsync/xmalloc.h"

bool
es_action_ident_list(const struct es_action *a, struct es_buf *out)
{
	struct es_error err;

	if (a->text == NULL)
		return false;
	return es_layout_action_path(a, out, &err) == 0;
}

bool
es_action_ident_add(struct es_action_ident_index *ix,
    const struct es_action *a, size_t ref)
{
	struct es_buf list = ES_BUF_INIT;
	struct es_action_ident *e;

	if (!es_action_ident_list(a, &list)) {
		es_buf_release(&list);
		return false;
	}
	if (ix->n == ix->alloc) {
		ix->alloc = ix->alloc ? 2 * ix->alloc : 64;
		ix->v = es_xreallocarray(ix->v, ix->alloc, sizeof(*ix->v));
	}
	e = &ix->v[ix->n++];
	e->list = es_buf_detach(&list, NULL);
	e->text = a->text;
	e->ref = ref;
	return true;
}

static int
cmp_key(const char *list, const char *text, const struct es_action_ident *e)
{
	int c = strcmp(list, e->list);

	return c != 0 ? c : strcmp(text, e->text);
}

static int
cmp_ident(const void *x, const void *y)
{
	const struct es_action_ident *p = x, *q = y;
	int c = cmp_key(p->list, p->text, q);

	if (c == 0)
		c = p->ref < q->ref ? -1 : p->ref > q->ref;
	return c;
}

void
es_action_ident_sort(struct es_action_ident_index *ix)
{
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_ident);
}

/* The entries with this key: how many, the first in *first. */
static size_t
find_key(const struct es_action_ident_index *ix, const char *list,
    const char *text, size_t *first)
{
	size_t lo = 0, hi = ix->n, end;

	/* The first entry not below the key. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(list, text, &ix->v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ix->n && cmp_key(list, text, &ix->v[end]) == 0;
	    end++)
		;
	*first = lo;
	return end - lo;
}

size_t
es_action_ident_find(const struct es_action_ident_index *ix,
    const struct es_action *a, size_t *first)
{
	struct es_buf list = ES_BUF_INIT;
	size_t n = 0;

	*first = 0;
	if (ix->n > 0 && es_action_ident_list(a, &list))
		n = find_key(ix, list.buf, a->text, first);
	es_buf_release(&list);
	return n;
}

/* The first entry of [first, first + n) not taken, or -1. */
static ssize_t
first_free(const struct es_action_ident_index *ix, size_t first, size_t n,
    bool (*taken)(size_t ref, void *ud), void *ud)
{
	for (size_t j = first; j < first + n; j++)
		if (taken == NULL || !taken(ix->v[j].ref, ud))
			return (ssize_t)j;
	return -1;
}

ssize_t
es_action_ident_pair(const struct es_action_ident_index *ix,
    const struct es_action *line, const char *rel,
    bool (*taken)(size_t ref, void *ud), void *ud)
{
	size_t first, n;
	ssize_t j = -1;

	if ((n = es_action_ident_find(ix, line, &first)) > 0)
		j = first_free(ix, first, n, taken, ud);
	if (j < 0 && rel != NULL && line->text != NULL &&
	    (n = find_key(ix, rel, line->text, &first)) > 0)
		j = first_free(ix, first, n, taken, ud);
	return j;
}

void
es_action_ident_release(struct es_action_ident_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->v[i].list);
	free(ix->v);
	ix->v = NULL;
	ix->n = ix->alloc = 0;
}
