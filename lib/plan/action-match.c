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
 *
 * This file sets up the records, runs rounds 1-5 (equal keys) and 8, and
 * the whole; round 0 is action-match-diff.c, rounds 6-7
 * action-match-similar.c, around action-match-internal.h; hmap.c interns.
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
	struct es_hmap m;

	c->nb = nbase;
	c->nn = nnow;
	c->b = es_xreallocarray(NULL, nbase + 1, sizeof(*c->b));
	c->n = es_xreallocarray(NULL, nnow + 1, sizeof(*c->n));
	es__hmap_init(&m, 16);
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

			id = es__hmap_intern(&m, es_fp_bytes(rel, strlen(rel)),
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
	es__hmap_release(&m);

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
		es__am_diff_list(&c, &c.lists[k]);

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
		es__am_pair_similar_in_hunks(&c);			/* 6 */
		es__am_pair_similar_anywhere(&c);			/* 7 */
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
