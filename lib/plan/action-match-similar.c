/*
 * The line matcher's rounds 6 and 7 (see action-match.h): texts similar
 * enough by their words' longest common subsequence, first within each
 * hunk, then anywhere among the candidates (rare words as the index, so a
 * line is compared only with lines that share one).
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

/* Adds (bi, ni) to s when their texts are similar by tnum/tden. */
static void
add_if_similar(struct ctx *c, size_t bi, size_t ni, size_t tnum,
    size_t tden, struct spairs *s)
{
	struct spair p;

	if (!similar(c, &c->b[bi], &c->n[ni], tnum, tden, &p))
		return;
	p.bi = bi;
	p.ni = ni;
	spairs_add(s, &p);
}

/* Round 6: similarity >= 1/2 within each hunk. */
void
es__am_pair_similar_in_hunks(struct ctx *c)
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

			if (!all) {
				/* Where line i of k would land among m. */
				e = (size_t)((uint64_t)i * m / k);
				lo = e > HUNK_WINDOW ? e - HUNK_WINDOW : 0;
				hi = e + HUNK_WINDOW + 1 < m ?
				    e + HUNK_WINDOW + 1 : m;
			}
			for (size_t j = lo; j < hi; j++)
				add_if_similar(c, rb[i], rn[j], 1, 2, &ps);
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

void
es__am_pair_similar_anywhere(struct ctx *c)
{
	size_t nr = 0, na = 0, nrec, nel = 0, nwid = 0, tot = 0;
	size_t *recs, *eoff, *els, *wrep, *df, *occ, *post, *poff, *stamp;
	struct dfel *tmp;
	uint64_t *keys;
	struct es_hmap wm, em;
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
	es__hmap_init(&wm, tot);
	es__hmap_init(&em, tot);
	tot = 0;
	for (size_t k = 0; k < nrec; k++) {
		const struct rec *r = k < nr ? &c->b[recs[k]] : &c->n[recs[k]];

		eoff[k] = tot;
		for (size_t w = 0; w < r->nw; w++) {
			struct elkey key = { c, keys, 0, &c->words[r->w0 + w],
			    wrep };
			size_t id = es__hmap_intern(&wm, key.w->h, word_id_eq,
			    &key, nwid);

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
			id = es__hmap_intern(&em, mix64(key.key), el_id_eq,
			    &key, nel);
			if (id == nel)
				keys[nel++] = key.key;
			df[id]++;
			els[tot++] = id;
		}
	}
	eoff[nrec] = tot;
	es__hmap_release(&wm);
	es__hmap_release(&em);
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

				if (stamp[a] == k)
					continue;
				stamp[a] = k;
				add_if_similar(c, recs[k], recs[a], 4, 5, &ps);
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
