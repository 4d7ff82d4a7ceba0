/*
 * The line matcher's round 0 (see action-match.h): per list, the common
 * head and tail by bytes, then Myers' diff of the middle in linear space
 * (after diff-match-patch's bisect) over line classes; the lines it
 * leaves unpaired between two kept pairs become one hunk.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-match.h"
#include "execsync/fingerprint.h"
#include "execsync/xmalloc.h"

#include "action-match-internal.h"

/* --- Round 0: Myers' diff (linear space, after diff-match-patch's bisect). */

struct lcs {
	const size_t	*a, *b;
	size_t		*mate;
	ptrdiff_t	*v1, *v2;
	size_t		 npairs;
};

/*
 * Finds a point on a shortest edit path of a[a0..a1) and b[b0..b1) (both
 * non-empty, first and last elements differing) by running the search from
 * both ends until they meet; the point splits the problem in two smaller
 * ones. False when none is found within LCS_MAXD steps, or the two have no
 * element in common.
 */
static bool
bisect(struct lcs *s, size_t a0, size_t a1, size_t b0, size_t b1,
    size_t *sx, size_t *sy)
{
	const size_t *a = s->a + a0, *b = s->b + b0;
	ptrdiff_t n = (ptrdiff_t)(a1 - a0), m = (ptrdiff_t)(b1 - b0);
	ptrdiff_t maxd = (n + m + 1) / 2, delta = n - m, off, vlen;
	ptrdiff_t k1start = 0, k1end = 0, k2start = 0, k2end = 0;
	ptrdiff_t *v1 = s->v1, *v2 = s->v2;
	bool front = delta % 2 != 0;

	if (maxd > LCS_MAXD)
		maxd = LCS_MAXD;
	off = maxd;
	vlen = 2 * maxd;
	for (ptrdiff_t k = 0; k < vlen + 2; k++)
		v1[k] = v2[k] = -1;
	v1[off + 1] = 0;
	v2[off + 1] = 0;
	for (ptrdiff_t d = 0; d < maxd; d++) {
		/* Forward: furthest x on each diagonal k = x - y. */
		for (ptrdiff_t k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
			ptrdiff_t k1o = off + k1, x1, y1;

			if (k1 == -d || (k1 != d && v1[k1o - 1] < v1[k1o + 1]))
				x1 = v1[k1o + 1];
			else
				x1 = v1[k1o - 1] + 1;
			y1 = x1 - k1;
			while (x1 >= 0 && y1 >= 0 && x1 < n && y1 < m &&
			    a[x1] == b[y1]) {
				x1++;
				y1++;
			}
			v1[k1o] = x1;
			if (x1 > n)
				k1end += 2;		/* off the right edge */
			else if (y1 > m)
				k1start += 2;		/* off the bottom edge */
			else if (front) {
				ptrdiff_t k2o = off + delta - k1;

				if (k2o >= 0 && k2o < vlen && v2[k2o] != -1 &&
				    x1 >= n - v2[k2o] && x1 >= 0 && y1 >= 0) {
					*sx = a0 + (size_t)x1;
					*sy = b0 + (size_t)y1;
					return true;
				}
			}
		}
		/* Reverse: the same from the ends. */
		for (ptrdiff_t k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
			ptrdiff_t k2o = off + k2, x2, y2;

			if (k2 == -d || (k2 != d && v2[k2o - 1] < v2[k2o + 1]))
				x2 = v2[k2o + 1];
			else
				x2 = v2[k2o - 1] + 1;
			y2 = x2 - k2;
			while (x2 >= 0 && y2 >= 0 && x2 < n && y2 < m &&
			    a[n - x2 - 1] == b[m - y2 - 1]) {
				x2++;
				y2++;
			}
			v2[k2o] = x2;
			if (x2 > n)
				k2end += 2;
			else if (y2 > m)
				k2start += 2;
			else if (!front) {
				ptrdiff_t k1o = off + delta - k2, x1, y1;

				if (k1o < 0 || k1o >= vlen || v1[k1o] == -1)
					continue;
				x1 = v1[k1o];
				y1 = x1 - (k1o - off);
				if (x1 >= n - x2 && x1 >= 0 && x1 <= n &&
				    y1 >= 0 && y1 <= m) {
					*sx = a0 + (size_t)x1;
					*sy = b0 + (size_t)y1;
					return true;
				}
			}
		}
	}
	return false;
}

static void
lcs_run(struct lcs *s, size_t a0, size_t a1, size_t b0, size_t b1)
{
	size_t x, y;

	for (;;) {
		while (a0 < a1 && b0 < b1 && s->a[a0] == s->b[b0]) {
			s->mate[a0++] = b0++;
			s->npairs++;
		}
		while (a0 < a1 && b0 < b1 && s->a[a1 - 1] == s->b[b1 - 1]) {
			s->mate[--a1] = --b1;
			s->npairs++;
		}
		if (a0 == a1 || b0 == b1 || !bisect(s, a0, a1, b0, b1, &x, &y))
			return;
		/*
		 * Both halves are strictly smaller: after the trimming the
		 * edit distance is at least 2 and the split lies inside.
		 * Guard anyway, so a mistake costs matches, never a loop.
		 */
		if ((x == a0 && y == b0) || (x == a1 && y == b1) || x < a0 ||
		    x > a1 || y < b0 || y > b1)
			return;
		lcs_run(s, a0, x, b0, y);
		a0 = x;
		b0 = y;
	}
}

size_t
es__action_match_lcs(const size_t *a, size_t na, const size_t *b, size_t nb,
    size_t *mate)
{
	struct lcs s;
	size_t maxd = na / 2 + nb / 2 + 1;

	for (size_t i = 0; i < na; i++)
		mate[i] = NONE;
	if (na == 0 || nb == 0)
		return 0;
	if (maxd > LCS_MAXD)
		maxd = LCS_MAXD;
	s.a = a;
	s.b = b;
	s.mate = mate;
	s.npairs = 0;
	s.v1 = es_xreallocarray(NULL, 2 * maxd + 2, sizeof(*s.v1));
	s.v2 = es_xreallocarray(NULL, 2 * maxd + 2, sizeof(*s.v2));
	lcs_run(&s, 0, na, 0, nb);
	free(s.v1);
	free(s.v2);
	return s.npairs;
}

/* Key of a line class: the record that first showed it. */
struct classkey {
	const struct rec *r;
	const struct rec *const *reps;
};

static bool
class_eq(const void *key, size_t id)
{
	const struct classkey *k = key;

	return bytes_eq(k->reps[id]->line, k->reps[id]->len, k->r->line,
	    k->r->len);
}

/*
 * The part of a list between its common head and tail: lines become class
 * numbers (equal bytes, equal class), lines whose class is absent from the
 * other side are left out (they cannot be in a common subsequence, and
 * leaving them out keeps a list rewritten wholesale cheap), then the LCS.
 */
static void
diff_middle(struct ctx *c, size_t i0, size_t i1, size_t j0, size_t j1)
{
	size_t nb = i1 - i0, nn = j1 - j0, ncls = 0, na = 0, nf = 0;
	const struct rec **reps;
	size_t *cls, *cntb, *cntn, *fa, *fb, *ia, *ib, *mate;
	struct es_hmap m;

	reps = es_xreallocarray(NULL, nb + nn, sizeof(*reps));
	cls = es_xreallocarray(NULL, nb + nn, sizeof(*cls));
	cntb = es_xcalloc(nb + nn, sizeof(*cntb));
	cntn = es_xcalloc(nb + nn, sizeof(*cntn));
	es__hmap_init(&m, nb + nn);
	for (size_t k = 0; k < nb + nn; k++) {
		struct rec *r = k < nb ? &c->b[i0 + k] : &c->n[j0 + k - nb];
		struct classkey key = { r, reps };
		size_t id = es__hmap_intern(&m, rec_hline(r), class_eq, &key,
		    ncls);

		if (id == ncls)
			reps[ncls++] = r;
		cls[k] = id;
		if (k < nb)
			cntb[id]++;
		else
			cntn[id]++;
	}
	es__hmap_release(&m);

	fa = es_xreallocarray(NULL, nb, sizeof(*fa));
	ia = es_xreallocarray(NULL, nb, sizeof(*ia));
	fb = es_xreallocarray(NULL, nn, sizeof(*fb));
	ib = es_xreallocarray(NULL, nn, sizeof(*ib));
	for (size_t k = 0; k < nb; k++) {
		if (cntn[cls[k]] > 0) {
			fa[na] = cls[k];
			ia[na++] = i0 + k;
		}
	}
	for (size_t k = 0; k < nn; k++) {
		if (cntb[cls[nb + k]] > 0) {
			fb[nf] = cls[nb + k];
			ib[nf++] = j0 + k;
		}
	}
	mate = es_xreallocarray(NULL, na + 1, sizeof(*mate));
	es__action_match_lcs(fa, na, fb, nf, mate);
	for (size_t k = 0; k < na; k++) {
		if (mate[k] != NONE)
			pair(c, ia[k], ib[mate[k]]);
	}
	free(mate);
	free(fa);
	free(fb);
	free(ia);
	free(ib);
	free(reps);
	free(cls);
	free(cntb);
	free(cntn);
}

/*
 * Between two kept pairs, the unpaired lines of both sides are one hunk:
 * the kept pairs increase on both sides, so the next paired line of one
 * side is the partner of the next paired line of the other.
 */
static void
make_hunks(struct ctx *c, const struct range *l)
{
	size_t i = l->b0, j = l->n0;

	while (i < l->b1 || j < l->n1) {
		struct range *h;
		size_t id, hi = i, hj = j;

		if (i < l->b1 && j < l->n1 && c->b[i].mate == j) {
			i++;
			j++;
			continue;
		}
		while (i < l->b1 && c->b[i].mate == NONE)
			i++;
		while (j < l->n1 && c->n[j].mate == NONE)
			j++;
		if (i == hi && j == hj) {
			/* Cannot happen with increasing pairs; never loop. */
			i += i < l->b1;
			j += j < l->n1;
			continue;
		}
		id = hunk_new(c);
		h = &c->hunks[id];
		h->b0 = hi;
		h->b1 = i;
		h->n0 = hj;
		h->n1 = j;
		for (size_t k = hi; k < i; k++)
			c->b[k].hunk = id;
		for (size_t k = hj; k < j; k++)
			c->n[k].hunk = id;
	}
}

void
es__am_diff_list(struct ctx *c, const struct range *l)
{
	size_t i = l->b0, j = l->n0, ie = l->b1, je = l->n1;

	/* The common head and tail by bytes: an unchanged list ends here. */
	while (i < ie && j < je && line_eq(&c->b[i], &c->n[j]))
		pair(c, i++, j++);
	while (ie > i && je > j && line_eq(&c->b[ie - 1], &c->n[je - 1])) {
		ie--;
		je--;
		pair(c, ie, je);
	}
	if (i < ie && j < je)
		diff_middle(c, i, ie, j, je);
	make_hunks(c, l);
}
