/*
 * SPEC 4.17, 4.10: projects and goals by (kind, slug) when no baseline
 * says who is who, and documents sharing a slug (see rules.h). Sorted
 * once, so a --resync pairs N files in O(N log N).
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/rules.h"
#include "execsync/xmalloc.h"

void
es_slug_index_add(struct es_slug_index *ix, const struct es_slug_cand *c)
{
	if (ix->n == ix->alloc) {
		ix->alloc = ix->alloc ? 2 * ix->alloc : 64;
		ix->v = es_xreallocarray(ix->v, ix->alloc, sizeof(*ix->v));
	}
	ix->v[ix->n++] = *c;
}

static int
cmp_key(enum es_kind kx, const char *sx, enum es_kind ky, const char *sy)
{
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return strcmp(sx, sy);
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct es_slug_cand *x = a, *y = b;
	int c = cmp_key(x->kind, x->slug, y->kind, y->slug);

	if (c != 0)
		return c;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

void
es_slug_index_sort(struct es_slug_index *ix)
{
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_cand);
}

/* The first entry of (kind, slug) or after where it would be. */
static size_t
lower_bound(const struct es_slug_index *ix, enum es_kind kind,
    const char *slug)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(ix->v[mid].kind, ix->v[mid].slug, kind, slug) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ssize_t
es_slug_index_pair(const struct es_slug_index *ix, enum es_kind kind,
    const char *slug, bool (*taken)(size_t ref, void *ud), void *ud)
{
	ssize_t del = -1;

	if (slug == NULL)
		return -1;
	/* A live document before a soft-deleted one with the same slug. */
	for (size_t i = lower_bound(ix, kind, slug); i < ix->n; i++) {
		const struct es_slug_cand *c = &ix->v[i];

		if (cmp_key(c->kind, c->slug, kind, slug) != 0)
			break;
		if (taken != NULL && taken(c->ref, ud))
			continue;
		if (!c->deleted)
			return (ssize_t)i;
		if (del < 0)
			del = (ssize_t)i;
	}
	return del;
}

void
es_slug_shared(const struct es_slug_index *ix, bool *alone,
    size_t *shared_by)
{
	for (size_t i = 0, j; i < ix->n; i = j) {
		size_t nbase = 0;

		for (j = i; j < ix->n && cmp_key(ix->v[j].kind, ix->v[j].slug,
		    ix->v[i].kind, ix->v[i].slug) == 0; j++)
			nbase += ix->v[j].has_base;
		for (size_t k = i; k < j; k++) {
			alone[k] = j - i >= 2 &&
			    !(nbase == 1 && ix->v[k].has_base);
			if (shared_by != NULL)
				shared_by[k] = j - i;
		}
	}
}

void
es_slug_index_release(struct es_slug_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = ix->alloc = 0;
}
