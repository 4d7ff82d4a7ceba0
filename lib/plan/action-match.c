/*
 * The line matcher (SPEC §2 "Action list files", §4 rule 7): see
 * action-match.h for the rounds and why they come in that order.
 *
 * Both sides become arrays of records sorted by (list, position, input
 * index); a list is a range in each. Pairs are kept as each record's mate
 * (an index into the other side's array). Round 0 runs per list; the lines
 * it leaves unpaired (the candidates) are listed once and every later round
 * walks those lists only, so ten edits among 20,000 lines cost ten
 * candidates, not 20,000.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-match.h"
#include "execsync/fingerprint.h"
#include "execsync/xmalloc.h"

#define NONE		SIZE_MAX
/* Words of a line compared for similarity: bounds the word LCS table. */
#define MAXWORDS	256
/*
 * The diff's bisection gives up beyond this many steps from each end (about
 * twice as many edits in one region). Bounds the cost of a list reordered
 * wholesale; rounds 1 and 3 still pair the moved lines.
 */
#define LCS_MAXD	1024
/* Hunks up to this many line pairs compare every pair in round 6... */
#define HUNK_ALL	4096
/* ...larger ones only pairs this far from their relative place. */
#define HUNK_WINDOW	16

struct word {
	const char	*p;
	size_t		 len;
	uint64_t	 h;
};

struct rec {
	const char	*line;
	size_t		 len;
	const char	*text;		/* the action's text, else the line */
	size_t		 tlen;
	size_t		 list;		/* rank of its path among all paths */
	uint32_t	 pos;
	size_t		 in;		/* index in the caller's array */
	size_t		 mate;		/* index in the other side, or NONE */
	size_t		 hunk;		/* 0 when round 0 paired it */
	uint64_t	 hline, htext;
	bool		 has_hline, has_htext, split;
	size_t		 w0, nw;	/* words[w0 .. w0 + nw) once split */
};

struct range {
	size_t		 b0, b1;	/* in ctx.b */
	size_t		 n0, n1;	/* in ctx.n */
};

struct ctx {
	struct rec	*b, *n;
	size_t		 nb, nn;
	struct range	*lists;
	size_t		 nlists;
	struct range	*hunks;		/* hunks[0] unused: 0 means none */
	size_t		 nhunks, ahunks;
	size_t		*cb, *cn;	/* candidates: unpaired after round 0 */
	size_t		 ncb, ncn;
	struct word	*words;
	size_t		 nwords, awords;
};

/*
 * Open addressing from a 64-bit hash to small ids. Keys live with the
 * caller; eq() tells whether id's key is the one looked up, so a hash
 * collision costs a comparison, never a wrong answer.
 */
struct hslot {
	uint64_t	 h;
	size_t		 id;		/* NONE: empty */
};

struct hmap {
	struct hslot	*slots;
	size_t		 cap, n;
};

typedef bool (*hmap_eq)(const void *key, size_t id);

static void
hmap_alloc(struct hmap *m, size_t cap)
{
	m->slots = es_xreallocarray(NULL, cap, sizeof(*m->slots));
	for (size_t i = 0; i < cap; i++)
		m->slots[i].id = NONE;
	m->cap = cap;
	m->n = 0;
}

static void
hmap_init(struct hmap *m, size_t hint)
{
	size_t cap = 16;

	while (cap / 2 < hint && cap < SIZE_MAX / 4)
		cap *= 2;
	hmap_alloc(m, cap);
}

static void
hmap_release(struct hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static void
hmap_grow(struct hmap *m)
{
	struct hslot *old = m->slots;
	size_t ocap = m->cap, n = m->n;

	hmap_alloc(m, ocap * 2);
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (old[i].id == NONE)
			continue;
		for (j = (size_t)old[i].h & (m->cap - 1); m->slots[j].id != NONE;
		    j = (j + 1) & (m->cap - 1))
			;
		m->slots[j] = old[i];
	}
	m->n = n;
	free(old);
}

/* The id of key (hash h); when absent, next is stored and returned. */
static size_t
hmap_intern(struct hmap *m, uint64_t h, hmap_eq eq, const void *key,
    size_t next)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		hmap_grow(m);
	for (i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hslot *s = &m->slots[i];

		if (s->id == NONE) {
			s->h = h;
			s->id = next;
			m->n++;
			return next;
		}
		if (s->h == h && eq(key, s->id))
			return s->id;
	}
}

/* splitmix64's finaliser: spreads small integer keys over the table. */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static bool
bytes_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
line_eq(const struct rec *a, const struct rec *b)
{
	if (a->has_hline && b->has_hline && a->hline != b->hline)
		return false;
	return bytes_eq(a->line, a->len, b->line, b->len);
}

static bool
text_eq(const struct rec *a, const struct rec *b)
{
	return bytes_eq(a->text, a->tlen, b->text, b->tlen);
}

static uint64_t
rec_hline(struct rec *r)
{
	if (!r->has_hline) {
		r->hline = es_fp_bytes(r->line, r->len);
		r->has_hline = true;
	}
	return r->hline;
}

static uint64_t
rec_htext(struct rec *r)
{
	if (!r->has_htext) {
		r->htext = es_fp_bytes(r->text, r->tlen);
		r->has_htext = true;
	}
	return r->htext;
}

static void
pair(struct ctx *c, size_t bi, size_t ni)
{
	c->b[bi].mate = ni;
	c->n[ni].mate = bi;
}

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
	struct hmap m;

	reps = es_xreallocarray(NULL, nb + nn, sizeof(*reps));
	cls = es_xreallocarray(NULL, nb + nn, sizeof(*cls));
	cntb = es_xcalloc(nb + nn, sizeof(*cntb));
	cntn = es_xcalloc(nb + nn, sizeof(*cntn));
	hmap_init(&m, nb + nn);
	for (size_t k = 0; k < nb + nn; k++) {
		struct rec *r = k < nb ? &c->b[i0 + k] : &c->n[j0 + k - nb];
		struct classkey key = { r, reps };
		size_t id = hmap_intern(&m, rec_hline(r), class_eq, &key, ncls);

		if (id == ncls)
			reps[ncls++] = r;
		cls[k] = id;
		if (k < nb)
			cntb[id]++;
		else
			cntn[id]++;
	}
	hmap_release(&m);

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

static size_t
hunk_new(struct ctx *c)
{
	if (c->nhunks == c->ahunks) {
		c->ahunks = c->ahunks ? c->ahunks * 2 : 16;
		c->hunks = es_xreallocarray(c->hunks, c->ahunks,
		    sizeof(*c->hunks));
	}
	return c->nhunks++;
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

static void
diff_list(struct ctx *c, const struct range *l)
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

/* --- Rounds 1-5: equal keys, through sorting. */

enum key {
	KEY_LINE,
	KEY_TEXT,
};

enum scope {
	SCOPE_HUNK,
	SCOPE_LIST,
	SCOPE_OTHER_LIST,
};

struct kent {
	uint64_t	 h;
	size_t		 scope;
	size_t		 idx;		/* in ctx.b or ctx.n */
	int		 added;		/* 0: baseline, 1: current */
};

static int
kent_cmp(const void *pa, const void *pb)
{
	const struct kent *a = pa, *b = pb;

	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	if (a->added != b->added)
		return a->added - b->added;
	if (a->idx != b->idx)
		return a->idx < b->idx ? -1 : 1;
	return 0;
}

static void
kent_fill(struct kent *e, struct rec *r, size_t idx, int added,
    enum key key, enum scope scope)
{
	e->h = key == KEY_LINE ? rec_hline(r) : rec_htext(r);
	e->scope = scope == SCOPE_HUNK ? r->hunk : scope == SCOPE_LIST ?
	    r->list : 0;
	e->idx = idx;
	e->added = added;
}

/*
 * Pairs unpaired candidates with equal keys within the scope, copies in
 * (list, position) order on both sides. SCOPE_OTHER_LIST groups all lists
 * together and skips pairs within one list (rounds 2 and 3 had those).
 */
static void
pair_by_key(struct ctx *c, enum key key, enum scope scope)
{
	struct kent *e;
	size_t ne = 0, s, t;

	e = es_xreallocarray(NULL, c->ncb + c->ncn + 1, sizeof(*e));
	for (size_t k = 0; k < c->ncb; k++) {
		struct rec *r = &c->b[c->cb[k]];

		if (r->mate == NONE)
			kent_fill(&e[ne++], r, c->cb[k], 0, key, scope);
	}
	for (size_t k = 0; k < c->ncn; k++) {
		struct rec *r = &c->n[c->cn[k]];

		if (r->mate == NONE)
			kent_fill(&e[ne++], r, c->cn[k], 1, key, scope);
	}
	qsort(e, ne, sizeof(*e), kent_cmp);
	for (s = 0; s < ne; s = t) {
		size_t p, first;

		for (t = s + 1; t < ne && e[t].h == e[s].h &&
		    e[t].scope == e[s].scope; t++)
			;
		for (p = s; p < t && e[p].added == 0; p++)
			;
		first = p;
		for (size_t r = s; r < p; r++) {
			const struct rec *rb = &c->b[e[r].idx];

			while (first < t && c->n[e[first].idx].mate != NONE)
				first++;
			for (size_t q = first; q < t; q++) {
				const struct rec *rn = &c->n[e[q].idx];

				if (rn->mate != NONE)
					continue;
				if (scope == SCOPE_OTHER_LIST &&
				    rn->list == rb->list)
					continue;
				if (key == KEY_LINE ? line_eq(rb, rn) :
				    text_eq(rb, rn)) {
					pair(c, e[r].idx, e[q].idx);
					break;
				}
			}
		}
	}
	free(e);
}

/* --- Rounds 6-7: similar texts. */

static void
rec_split(struct ctx *c, struct rec *r)
{
	const char *p = r->text, *end = r->text + r->tlen;

	if (r->split)
		return;
	r->split = true;
	r->w0 = c->nwords;
	r->nw = 0;
	while (p < end && r->nw < MAXWORDS) {
		const char *q;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		for (q = p; q < end && *q != ' ' && *q != '\t'; q++)
			;
		if (c->nwords == c->awords) {
			c->awords = c->awords ? c->awords * 2 : 256;
			c->words = es_xreallocarray(c->words, c->awords,
			    sizeof(*c->words));
		}
		c->words[c->nwords].p = p;
		c->words[c->nwords].len = (size_t)(q - p);
		c->words[c->nwords].h = es_fp_bytes(p, (size_t)(q - p));
		c->nwords++;
		r->nw++;
		p = q;
	}
}

static bool
word_eq(const struct word *a, const struct word *b)
{
	return a->h == b->h && bytes_eq(a->p, a->len, b->p, b->len);
}

/* Longest common subsequence of two word sequences (at most MAXWORDS). */
static size_t
word_lcs(const struct word *a, size_t na, const struct word *b, size_t nb)
{
	uint16_t row[MAXWORDS + 1];

	for (size_t j = 0; j <= nb; j++)
		row[j] = 0;
	for (size_t i = 0; i < na; i++) {
		uint16_t diag = 0;

		for (size_t j = 0; j < nb; j++) {
			uint16_t up = row[j + 1], v;

			if (word_eq(&a[i], &b[j]))
				v = diag + 1;
			else
				v = up > row[j] ? up : row[j];
			diag = up;
			row[j + 1] = v;
		}
	}
	return row[nb];
}

struct spair {
	size_t		 num, den;	/* similarity num / den */
	size_t		 bi, ni;
};

/*
 * Similarity of two records as num / den when it reaches tnum / tden,
 * else false (den 0: a text without words resembles nothing).
 */
static bool
similar(struct ctx *c, struct rec *rb, struct rec *rn, size_t tnum,
    size_t tden, struct spair *out)
{
	size_t den, lo, num;

	rec_split(c, rb);
	rec_split(c, rn);
	den = rb->nw > rn->nw ? rb->nw : rn->nw;
	lo = rb->nw < rn->nw ? rb->nw : rn->nw;
	/* The LCS is at most the shorter count: skip hopeless pairs. */
	if (den == 0 || lo * tden < tnum * den)
		return false;
	num = word_lcs(&c->words[rb->w0], rb->nw, &c->words[rn->w0], rn->nw);
	if (num * tden < tnum * den)
		return false;
	out->num = num;
	out->den = den;
	return true;
}

/* Best similarity first, then (list, position) on each side. */
static int
spair_cmp(const void *pa, const void *pb)
{
	const struct spair *a = pa, *b = pb;
	uint64_t l = (uint64_t)a->num * b->den, r = (uint64_t)b->num * a->den;

	if (l != r)
		return l > r ? -1 : 1;
	if (a->bi != b->bi)
		return a->bi < b->bi ? -1 : 1;
	if (a->ni != b->ni)
		return a->ni < b->ni ? -1 : 1;
	return 0;
}

static void
pair_greedy(struct ctx *c, struct spair *p, size_t np)
{
	if (np == 0)
		return;		/* p may be NULL: qsort's argument is nonnull */
	qsort(p, np, sizeof(*p), spair_cmp);
	for (size_t k = 0; k < np; k++) {
		if (c->b[p[k].bi].mate == NONE && c->n[p[k].ni].mate == NONE)
			pair(c, p[k].bi, p[k].ni);
	}
}

struct spairs {
	struct spair	*v;
	size_t		 n, alloc;
};

static void
spairs_add(struct spairs *s, const struct spair *p)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->v = es_xreallocarray(s->v, s->alloc, sizeof(*s->v));
	}
	s->v[s->n++] = *p;
}

/* Round 6: similarity >= 1/2 within each hunk. */
static void
pair_similar_in_hunks(struct ctx *c)
{
	struct spairs ps = { NULL, 0, 0 };
	size_t *rb = NULL, *rn = NULL, arb = 0, arn = 0;

	for (size_t h = 1; h < c->nhunks; h++) {
		const struct range *hr = &c->hunks[h];
		size_t k = 0, m = 0;
		bool all;

		for (size_t i = hr->b0; i < hr->b1; i++) {
			if (c->b[i].mate != NONE)
				continue;
			if (k == arb) {
				arb = arb ? arb * 2 : 64;
				rb = es_xreallocarray(rb, arb, sizeof(*rb));
			}
			rb[k++] = i;
		}
		for (size_t j = hr->n0; j < hr->n1; j++) {
			if (c->n[j].mate != NONE)
				continue;
			if (m == arn) {
				arn = arn ? arn * 2 : 64;
				rn = es_xreallocarray(rn, arn, sizeof(*rn));
			}
			rn[m++] = j;
		}
		if (k == 0 || m == 0)
			continue;
		all = k <= HUNK_ALL / m;
		ps.n = 0;
		for (size_t i = 0; i < k; i++) {
			size_t lo = 0, hi = m, e;
			struct spair p;

			if (!all) {
				/* Where line i of k would land among m. */
				e = (size_t)((uint64_t)i * m / k);
				lo = e > HUNK_WINDOW ? e - HUNK_WINDOW : 0;
				hi = e + HUNK_WINDOW + 1 < m ?
				    e + HUNK_WINDOW + 1 : m;
			}
			for (size_t j = lo; j < hi; j++) {
				if (!similar(c, &c->b[rb[i]], &c->n[rn[j]], 1,
				    2, &p))
					continue;
				p.bi = rb[i];
				p.ni = rn[j];
				spairs_add(&ps, &p);
			}
		}
		pair_greedy(c, ps.v, ps.n);
	}
	free(ps.v);
	free(rb);
	free(rn);
}

/*
 * Round 7: similarity >= 4/5 between any two unpaired lines, found without
 * comparing all with all by prefix filtering (Chaudhuri, Ganti and Kaushik,
 * "A primitive operator for similarity joins", ICDE 2006): a word LCS of at
 * least 4/5 of the longer count is a common multiset of at least
 * ceil(4n/5) words of each line (n its word count). Number each line's
 * words (word, occurrence) so the multiset is a set, order every line's
 * elements the same way (rarest first); two lines sharing that many
 * elements share one among the first n - ceil(4n/5) + 1 of each. Only lines
 * sharing a prefix element are compared.
 */
struct elkey {
	const struct ctx *c;
	const uint64_t	*keys;		/* element id -> key */
	uint64_t	 key;
	const struct word *w;
	const size_t	*wrep;		/* word id -> index in ctx.words */
};

static bool
word_id_eq(const void *key, size_t id)
{
	const struct elkey *k = key;

	return word_eq(&k->c->words[k->wrep[id]], k->w);
}

static bool
el_id_eq(const void *key, size_t id)
{
	const struct elkey *k = key;

	return k->keys[id] == k->key;
}

/* An element with its document frequency, for the rarest-first order. */
struct dfel {
	size_t		 df, id;
};

static int
dfel_cmp(const void *pa, const void *pb)
{
	const struct dfel *a = pa, *b = pb;

	if (a->df != b->df)
		return a->df < b->df ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int
size_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

static size_t
prefix_len(size_t n)
{
	/* n - ceil(4n/5) + 1 */
	return n - (4 * n + 4) / 5 + 1;
}

static void
pair_similar_anywhere(struct ctx *c)
{
	size_t nr = 0, na = 0, nrec, nel = 0, nwid = 0, tot = 0;
	size_t *recs, *eoff, *els, *wrep, *df, *occ, *post, *poff, *stamp;
	struct dfel *tmp;
	uint64_t *keys;
	struct hmap wm, em;
	struct spairs ps = { NULL, 0, 0 };

	for (size_t k = 0; k < c->ncb; k++)
		nr += c->b[c->cb[k]].mate == NONE;
	for (size_t k = 0; k < c->ncn; k++)
		na += c->n[c->cn[k]].mate == NONE;
	if (nr == 0 || na == 0)
		return;

	/* recs[0 .. nr): baseline candidates, then current ones. */
	nrec = nr + na;
	recs = es_xreallocarray(NULL, nrec, sizeof(*recs));
	nr = na = 0;
	for (size_t k = 0; k < c->ncb; k++) {
		if (c->b[c->cb[k]].mate == NONE)
			recs[nr++] = c->cb[k];
	}
	for (size_t k = 0; k < c->ncn; k++) {
		if (c->n[c->cn[k]].mate == NONE)
			recs[nr + na++] = c->cn[k];
	}
	for (size_t k = 0; k < nrec; k++) {
		struct rec *r = k < nr ? &c->b[recs[k]] : &c->n[recs[k]];

		rec_split(c, r);
		tot += r->nw;
	}

	/* Elements: word ids, then (word id, occurrence) ids. */
	eoff = es_xreallocarray(NULL, nrec + 1, sizeof(*eoff));
	els = es_xreallocarray(NULL, tot + 1, sizeof(*els));
	wrep = es_xreallocarray(NULL, tot + 1, sizeof(*wrep));
	keys = es_xreallocarray(NULL, tot + 1, sizeof(*keys));
	df = es_xcalloc(tot + 1, sizeof(*df));
	occ = es_xreallocarray(NULL, MAXWORDS, sizeof(*occ));
	hmap_init(&wm, tot);
	hmap_init(&em, tot);
	tot = 0;
	for (size_t k = 0; k < nrec; k++) {
		const struct rec *r = k < nr ? &c->b[recs[k]] : &c->n[recs[k]];

		eoff[k] = tot;
		for (size_t w = 0; w < r->nw; w++) {
			struct elkey key = { c, keys, 0, &c->words[r->w0 + w],
			    wrep };
			size_t id = hmap_intern(&wm, key.w->h, word_id_eq, &key,
			    nwid);

			if (id == nwid)
				wrep[nwid++] = r->w0 + w;
			occ[w] = id;
		}
		/* Sorted, equal words are neighbours: number their copies. */
		qsort(occ, r->nw, sizeof(*occ), size_cmp);
		for (size_t w = 0; w < r->nw; w++) {
			size_t n = 0, id;
			struct elkey key = { c, keys, 0, NULL, wrep };

			while (n < w && occ[w - n - 1] == occ[w])
				n++;
			key.key = (uint64_t)occ[w] * (MAXWORDS + 1) + n;
			id = hmap_intern(&em, mix64(key.key), el_id_eq, &key,
			    nel);
			if (id == nel)
				keys[nel++] = key.key;
			df[id]++;
			els[tot++] = id;
		}
	}
	eoff[nrec] = tot;
	hmap_release(&wm);
	hmap_release(&em);
	tmp = es_xreallocarray(NULL, MAXWORDS, sizeof(*tmp));
	for (size_t k = 0; k < nrec; k++) {
		size_t n = eoff[k + 1] - eoff[k];

		for (size_t e = 0; e < n; e++) {
			tmp[e].id = els[eoff[k] + e];
			tmp[e].df = df[tmp[e].id];
		}
		qsort(tmp, n, sizeof(*tmp), dfel_cmp);
		for (size_t e = 0; e < n; e++)
			els[eoff[k] + e] = tmp[e].id;
	}
	free(tmp);

	/* Postings of the current lines' prefix elements. */
	poff = es_xcalloc(nel + 1, sizeof(*poff));
	for (size_t k = nr; k < nrec; k++) {
		size_t n = eoff[k + 1] - eoff[k];

		for (size_t e = 0; n > 0 && e < prefix_len(n); e++)
			poff[els[eoff[k] + e] + 1]++;
	}
	for (size_t e = 0; e < nel; e++)
		poff[e + 1] += poff[e];
	post = es_xreallocarray(NULL, poff[nel] + 1, sizeof(*post));
	{
		size_t *fill = es_xreallocarray(NULL, nel + 1, sizeof(*fill));

		memcpy(fill, poff, (nel + 1) * sizeof(*fill));
		for (size_t k = nr; k < nrec; k++) {
			size_t n = eoff[k + 1] - eoff[k];

			for (size_t e = 0; n > 0 && e < prefix_len(n); e++)
				post[fill[els[eoff[k] + e]]++] = k;
		}
		free(fill);
	}

	stamp = es_xreallocarray(NULL, nrec, sizeof(*stamp));
	for (size_t k = 0; k < nrec; k++)
		stamp[k] = NONE;
	for (size_t k = 0; k < nr; k++) {
		size_t n = eoff[k + 1] - eoff[k];

		for (size_t e = 0; n > 0 && e < prefix_len(n); e++) {
			size_t el = els[eoff[k] + e];

			for (size_t q = poff[el]; q < poff[el + 1]; q++) {
				size_t a = post[q];
				struct spair p;

				if (stamp[a] == k)
					continue;
				stamp[a] = k;
				if (!similar(c, &c->b[recs[k]], &c->n[recs[a]],
				    4, 5, &p))
					continue;
				p.bi = recs[k];
				p.ni = recs[a];
				spairs_add(&ps, &p);
			}
		}
	}
	pair_greedy(c, ps.v, ps.n);

	free(ps.v);
	free(stamp);
	free(post);
	free(poff);
	free(occ);
	free(df);
	free(keys);
	free(wrep);
	free(els);
	free(eoff);
	free(recs);
}

/* Round 8: one line replaced by one line is that line rewritten. */
static void
pair_one_for_one(struct ctx *c)
{
	for (size_t h = 1; h < c->nhunks; h++) {
		const struct range *hr = &c->hunks[h];

		if (hr->b1 - hr->b0 == 1 && hr->n1 - hr->n0 == 1 &&
		    c->b[hr->b0].mate == NONE && c->n[hr->n0].mate == NONE)
			pair(c, hr->b0, hr->n0);
	}
}

/* --- Setup: records sorted by (list, position, input index). */

struct relkey {
	const char *const *rels;
	const char	*s;
};

static bool
rel_eq(const void *key, size_t id)
{
	const struct relkey *k = key;

	return strcmp(k->rels[id], k->s) == 0;
}

struct relrank {
	const char	*name;
	size_t		 id;
};

static int
relrank_cmp(const void *pa, const void *pb)
{
	const struct relrank *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

static int
rec_cmp(const void *pa, const void *pb)
{
	const struct rec *a = pa, *b = pb;

	if (a->list != b->list)
		return a->list < b->list ? -1 : 1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	if (a->in != b->in)
		return a->in < b->in ? -1 : 1;
	return 0;
}

static void
rec_init(struct rec *r, const char *line, size_t len,
    const struct es_action *a, uint32_t pos, size_t in)
{
	memset(r, 0, sizeof(*r));
	r->line = line != NULL ? line : "";
	r->len = line != NULL ? len : 0;
	if (a != NULL && a->text != NULL) {
		r->text = a->text;
		r->tlen = strlen(a->text);
	} else {
		r->text = r->line;
		r->tlen = r->len;
	}
	r->pos = pos;
	r->in = in;
	r->mate = NONE;
}

/*
 * By list with a counting sort (stable: input order within a list), then
 * by position within each list, where qsort runs only on a list that is
 * out of order: callers pass lists in their own order, lines in order.
 */
static struct rec *
sort_recs(struct rec *r, size_t n, size_t nlists)
{
	struct rec *out = es_xreallocarray(NULL, n + 1, sizeof(*out));
	size_t *at = es_xcalloc(nlists + 1, sizeof(*at));

	for (size_t i = 0; i < n; i++)
		at[r[i].list + 1]++;
	for (size_t l = 0; l < nlists; l++)
		at[l + 1] += at[l];
	for (size_t i = 0; i < n; i++)
		out[at[r[i].list]++] = r[i];
	for (size_t i = 0, j; i < n; i = j) {
		bool sorted = true;

		for (j = i + 1; j < n && out[j].list == out[i].list; j++) {
			if (out[j].pos < out[j - 1].pos)
				sorted = false;
		}
		if (!sorted)
			qsort(&out[i], j - i, sizeof(*out), rec_cmp);
	}
	free(at);
	free(r);
	return out;
}

static void
setup(struct ctx *c, const struct es_match_base *base, size_t nbase,
    const struct es_match_line *now, size_t nnow)
{
	const char **rels = NULL, *prev = NULL;
	size_t nrels = 0, arels = 0, prev_id = 0, *rank;
	struct relrank *order;
	struct hmap m;

	c->nb = nbase;
	c->nn = nnow;
	c->b = es_xreallocarray(NULL, nbase + 1, sizeof(*c->b));
	c->n = es_xreallocarray(NULL, nnow + 1, sizeof(*c->n));
	hmap_init(&m, 16);
	for (size_t k = 0; k < nbase + nnow; k++) {
		const char *rel = k < nbase ? base[k].rel : now[k - nbase].rel;
		struct rec *r;
		size_t id;

		if (rel == NULL)
			rel = "";
		/* Lines come grouped by list: skip the hash most times. */
		if (prev != NULL && (rel == prev || strcmp(rel, prev) == 0)) {
			id = prev_id;
		} else {
			struct relkey key = { rels, rel };

			id = hmap_intern(&m, es_fp_bytes(rel, strlen(rel)),
			    rel_eq, &key, nrels);
			if (id == nrels) {
				if (nrels == arels) {
					arels = arels ? arels * 2 : 16;
					rels = es_xreallocarray(rels, arels,
					    sizeof(*rels));
				}
				rels[nrels++] = rel;
			}
		}
		prev = rel;
		prev_id = id;
		if (k < nbase) {
			r = &c->b[k];
			rec_init(r, base[k].line, base[k].line_len,
			    base[k].action, base[k].pos, k);
		} else {
			r = &c->n[k - nbase];
			rec_init(r, now[k - nbase].line, now[k - nbase].line_len,
			    now[k - nbase].action, now[k - nbase].pos,
			    k - nbase);
		}
		r->list = id;
	}
	hmap_release(&m);

	/* Lists ranked by path, for ties broken by path. */
	order = es_xreallocarray(NULL, nrels + 1, sizeof(*order));
	rank = es_xreallocarray(NULL, nrels + 1, sizeof(*rank));
	for (size_t k = 0; k < nrels; k++) {
		order[k].name = rels[k];
		order[k].id = k;
	}
	/* Distinct names: the order is total, qsort's instability moot. */
	qsort(order, nrels, sizeof(*order), relrank_cmp);
	for (size_t k = 0; k < nrels; k++)
		rank[order[k].id] = k;
	for (size_t k = 0; k < nbase; k++)
		c->b[k].list = rank[c->b[k].list];
	for (size_t k = 0; k < nnow; k++)
		c->n[k].list = rank[c->n[k].list];
	free(order);
	free(rank);
	free(rels);

	c->b = sort_recs(c->b, nbase, nrels);
	c->n = sort_recs(c->n, nnow, nrels);
	c->nlists = nrels;
	c->lists = es_xcalloc(nrels + 1, sizeof(*c->lists));
	for (size_t k = 0; k < nbase; k++) {
		if (k == 0 || c->b[k - 1].list != c->b[k].list)
			c->lists[c->b[k].list].b0 = k;
		c->lists[c->b[k].list].b1 = k + 1;
	}
	for (size_t k = 0; k < nnow; k++) {
		if (k == 0 || c->n[k - 1].list != c->n[k].list)
			c->lists[c->n[k].list].n0 = k;
		c->lists[c->n[k].list].n1 = k + 1;
	}
}

static enum es_match_kind
pair_kind(const struct rec *b, const struct rec *n)
{
	if (b->list != n->list)
		return ES_MATCH_MOVED;
	return bytes_eq(b->line, b->len, n->line, n->len) ? ES_MATCH_SAME :
	    ES_MATCH_EDITED;
}

void
es_action_match(const struct es_match_base *base, size_t nbase,
    const struct es_match_line *now, size_t nnow, struct es_match **out,
    size_t *nout)
{
	struct ctx c;
	struct es_match *v;
	size_t *bmate, nremoved = 0, k;

	memset(&c, 0, sizeof(c));
	if (base == NULL)
		nbase = 0;
	if (now == NULL)
		nnow = 0;
	setup(&c, base, nbase, now, nnow);
	hunk_new(&c);				/* id 0: no hunk */
	for (k = 0; k < c.nlists; k++)
		diff_list(&c, &c.lists[k]);

	c.cb = es_xreallocarray(NULL, nbase + 1, sizeof(*c.cb));
	c.cn = es_xreallocarray(NULL, nnow + 1, sizeof(*c.cn));
	for (k = 0; k < nbase; k++) {
		if (c.b[k].mate == NONE)
			c.cb[c.ncb++] = k;
	}
	for (k = 0; k < nnow; k++) {
		if (c.n[k].mate == NONE)
			c.cn[c.ncn++] = k;
	}
	if (c.ncb > 0 && c.ncn > 0) {
		pair_by_key(&c, KEY_LINE, SCOPE_LIST);		/* 1 */
		pair_by_key(&c, KEY_TEXT, SCOPE_HUNK);		/* 2 */
		pair_by_key(&c, KEY_TEXT, SCOPE_LIST);		/* 3 */
		pair_by_key(&c, KEY_LINE, SCOPE_OTHER_LIST);	/* 4 */
		pair_by_key(&c, KEY_TEXT, SCOPE_OTHER_LIST);	/* 5 */
		pair_similar_in_hunks(&c);			/* 6 */
		pair_similar_anywhere(&c);			/* 7 */
		pair_one_for_one(&c);				/* 8 */
	}

	/* Back to the caller's order. */
	bmate = es_xreallocarray(NULL, nbase + 1, sizeof(*bmate));
	for (k = 0; k < nbase; k++) {
		bmate[c.b[k].in] = c.b[k].mate;
		nremoved += c.b[k].mate == NONE;
	}
	v = es_xreallocarray(NULL, nnow + nremoved + 1, sizeof(*v));
	for (k = 0; k < nnow; k++) {
		const struct rec *rn = &c.n[k];
		struct es_match *mt = &v[rn->in];

		mt->now = &now[rn->in];
		if (rn->mate == NONE) {
			mt->kind = ES_MATCH_NEW;
			mt->base = NULL;
		} else {
			mt->kind = pair_kind(&c.b[rn->mate], rn);
			mt->base = &base[c.b[rn->mate].in];
		}
	}
	*nout = nnow;
	for (k = 0; k < nbase; k++) {
		if (bmate[k] != NONE)
			continue;
		v[*nout].kind = ES_MATCH_REMOVED;
		v[*nout].base = &base[k];
		v[*nout].now = NULL;
		(*nout)++;
	}
	*out = v;

	free(bmate);
	free(c.b);
	free(c.n);
	free(c.lists);
	free(c.hunks);
	free(c.cb);
	free(c.cn);
	free(c.words);
}

const char *
es_match_kind_name(enum es_match_kind k)
{
	switch (k) {
	case ES_MATCH_SAME:
		return "same";
	case ES_MATCH_EDITED:
		return "edited";
	case ES_MATCH_MOVED:
		return "moved";
	case ES_MATCH_NEW:
		return "new";
	case ES_MATCH_REMOVED:
		return "removed";
	}
	return "unknown";
}
