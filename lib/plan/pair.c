/*
 * Rename detection for projects and goals (see pair.h, SPEC 4.6): the
 * rules for one pair, and the matching of lost baseline entities with new
 * files. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/fingerprint.h"
#include "execsync/pair.h"
#include "execsync/xmalloc.h"

/* One non-blank line of a body: its hash and its weight (length + 1). */
struct line {
	uint64_t	 h;
	uint64_t	 w;
};

/* A body as a multiset of lines, sorted by hash. */
struct sketch {
	struct line	*v;
	size_t		 n;
	uint64_t	 total;		/* sum of the weights */
	uint64_t	 key;		/* equal for equal multisets */
};

/* An accepted pair, waiting for the greedy assignment. */
struct cand {
	size_t			 i, j;
	struct es_pair_verdict	 v;
};

struct cands {
	struct cand	*v;
	size_t		 n, alloc;
};

static int
cmp_line(const void *a, const void *b)
{
	uint64_t x = ((const struct line *)a)->h;
	uint64_t y = ((const struct line *)b)->h;

	return x < y ? -1 : x > y;
}

static void
sketch_build(struct sketch *s, const struct es_entity *e)
{
	const char *p = e->content, *end = e->content + e->content_len;
	size_t alloc = 0;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;

		while (le > p && (le[-1] == ' ' || le[-1] == '\t' ||
		    le[-1] == '\r'))
			le--;
		if (le > p) {
			if (s->n == alloc) {
				alloc = alloc ? 2 * alloc : 16;
				s->v = es_xreallocarray(s->v, alloc,
				    sizeof(*s->v));
			}
			s->v[s->n].h = es_fp_bytes(p, (size_t)(le - p));
			s->v[s->n].w = (uint64_t)(le - p) + 1;
			s->total += s->v[s->n].w;
			s->n++;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (s->n > 0) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_line);
		s->key = es_fp_bytes(s->v, s->n * sizeof(*s->v));
	}
}

static void
sketch_release(struct sketch *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Bytes of lines in common over the larger total, in percent. */
static unsigned
sketch_similarity(const struct sketch *a, const struct sketch *b)
{
	uint64_t common = 0, max;
	size_t i = 0, j = 0;

	if (a->n == 0 && b->n == 0)
		return 0;
	if (a->key == b->key && a->total == b->total && a->n == b->n)
		return 100;
	while (i < a->n && j < b->n) {
		if (a->v[i].h < b->v[j].h)
			i++;
		else if (a->v[i].h > b->v[j].h)
			j++;
		else {
			common += a->v[i].w;
			i++;
			j++;
		}
	}
	max = a->total > b->total ? a->total : b->total;
	return (unsigned)(common * 100 / max);
}

static bool
str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool
same_inode(const struct es_pair_item *b, const struct es_pair_item *f)
{
	return b->has_ino && f->has_ino && b->dev == f->dev &&
	    b->ino == f->ino;
}

static unsigned
agree(const struct es_entity *a, const struct es_entity *b)
{
	unsigned n = 0;

	if (a == NULL || b == NULL)
		return 0;
	n += str_eq(a->title, b->title);
	n += (a->area == NULL && b->area == NULL) || str_eq(a->area, b->area);
	n += a->folder == b->folder;
	n += a->type == b->type;
	n += a->created != ES_DATE_NONE && a->created == b->created;
	return n;
}

/*
 * Every rule but the body comparison. Returns true when v is the verdict,
 * false when it rests on the similarity of the two bodies (both have text,
 * and their sizes allow 50%).
 */
static bool
prejudge(const struct es_pair_item *b, const struct sketch *bs,
    const struct es_pair_item *f, const struct sketch *fs,
    struct es_pair_verdict *v)
{
	uint64_t lo, hi;

	memset(v, 0, sizeof(*v));
	v->same_inode = same_inode(b, f);
	if (b->kind != f->kind || b->e == NULL)
		return true;
	v->agree = agree(b->e, f->e);
	if (str_eq(b->slug, f->slug) ||
	    (b->alias != NULL && str_eq(b->alias, f->slug))) {
		v->rule = ES_PAIR_SLUG;
		v->score = 101;
		return true;
	}
	if (f->e == NULL) {
		if (v->same_inode)
			v->rule = ES_PAIR_HOLD;
		return true;
	}
	if (b->e->created != ES_DATE_NONE && f->e->created != ES_DATE_NONE &&
	    b->e->created != f->e->created)
		return true;
	if (bs->n == 0 || fs->n == 0) {
		if (str_eq(b->e->title, f->e->title)) {
			v->rule = ES_PAIR_TITLE;
			v->score = ES_PAIR_MIN_SIMILARITY;
		}
		return true;
	}
	lo = bs->total < fs->total ? bs->total : fs->total;
	hi = bs->total < fs->total ? fs->total : bs->total;
	return lo * 100 < (uint64_t)ES_PAIR_MIN_SIMILARITY * hi;
}

static void
conclude(struct es_pair_verdict *v, unsigned sim)
{
	v->similarity = sim;
	if (sim >= ES_PAIR_MIN_SIMILARITY) {
		v->rule = ES_PAIR_BODY;
		v->score = sim;
	}
}

struct es_pair_verdict
es_pair_judge(const struct es_pair_item *base, const struct es_pair_item *file)
{
	struct sketch bs, fs;
	struct es_pair_verdict v;

	memset(&bs, 0, sizeof(bs));
	memset(&fs, 0, sizeof(fs));
	if (base->e != NULL)
		sketch_build(&bs, base->e);
	if (file->e != NULL)
		sketch_build(&fs, file->e);
	if (!prejudge(base, &bs, file, &fs, &v))
		conclude(&v, sketch_similarity(&bs, &fs));
	sketch_release(&bs);
	sketch_release(&fs);
	return v;
}

unsigned
es_pair_similarity(const char *a, size_t alen, const char *b, size_t blen)
{
	struct es_entity x, y;
	struct sketch xs, ys;
	unsigned sim;

	/* Only content is read: borrowed, never released. */
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	x.content = (char *)a;
	x.content_len = alen;
	y.content = (char *)b;
	y.content_len = blen;
	sketch_build(&xs, &x);
	sketch_build(&ys, &y);
	sim = sketch_similarity(&xs, &ys);
	sketch_release(&xs);
	sketch_release(&ys);
	return sim;
}

const char *
es_pair_rule_name(enum es_pair_rule r)
{
	switch (r) {
	case ES_PAIR_SLUG:
		return "slug";
	case ES_PAIR_BODY:
		return "body";
	case ES_PAIR_TITLE:
		return "title";
	case ES_PAIR_HOLD:
		return "hold";
	case ES_PAIR_NONE:
		break;
	}
	return "none";
}

/* ---- matching ---- */

/* A sort key for the slug, identical-body and inode steps. */
struct key {
	enum es_kind	 kind;
	const char	*s;		/* slug step */
	uint64_t	 a, b;		/* body key; dev and ino */
	size_t		 idx;
};

static int
cmp_key(const void *pa, const void *pb)
{
	const struct key *x = pa, *y = pb;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->s != NULL && y->s != NULL && (c = strcmp(x->s, y->s)) != 0)
		return c;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first key not below (kind, s, a, b), by binary search. */
static size_t
lower(const struct key *k, size_t n, const struct key *want)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(&k[mid], want) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
key_same(const struct key *x, const struct key *y)
{
	return x->kind == y->kind && x->a == y->a && x->b == y->b &&
	    ((x->s == NULL && y->s == NULL) || str_eq(x->s, y->s));
}

static void
take(ssize_t *match, struct es_pair_verdict *why, bool *taken, size_t i,
    size_t j, const struct es_pair_verdict *v)
{
	match[i] = (ssize_t)j;
	taken[j] = true;
	if (why != NULL)
		why[i] = *v;
}

/*
 * The best untaken file of the lost entity's kind named slug: the same
 * inode first among several. -1 when none; *best its verdict.
 */
static ssize_t
best_named(const struct key *k, size_t n, const struct es_pair_item *lost,
    const char *slug, const struct es_pair_item *files, const bool *taken,
    struct es_pair_verdict *best)
{
	struct key want = { lost->kind, slug, 0, 0, 0 };
	struct es_pair_verdict v;
	struct sketch none;
	ssize_t bj = -1;

	for (size_t p = lower(k, n, &want); p < n &&
	    k[p].kind == want.kind && strcmp(k[p].s, want.s) == 0; p++) {
		if (taken[k[p].idx])
			continue;
		/* The slug rule comes before any body is looked at. */
		memset(&none, 0, sizeof(none));
		(void)prejudge(lost, &none, &files[k[p].idx], &none, &v);
		if (v.rule != ES_PAIR_SLUG)
			continue;
		if (bj < 0 || (v.same_inode && !best->same_inode)) {
			bj = (ssize_t)k[p].idx;
			*best = v;
		}
	}
	return bj;
}

/*
 * 1. The same kind and slug, the baseline's, else the one the document
 * has now (its alias).
 */
static void
by_slug(const struct es_pair_item *lost, size_t nlost,
    const struct es_pair_item *files, size_t nfiles, ssize_t *match,
    struct es_pair_verdict *why, bool *taken)
{
	struct key *k = es_xcalloc(nfiles ? nfiles : 1, sizeof(*k));
	size_t n = 0;

	for (size_t j = 0; j < nfiles; j++) {
		if (files[j].slug == NULL)
			continue;
		k[n].kind = files[j].kind;
		k[n].s = files[j].slug;
		k[n++].idx = j;
	}
	qsort(k, n, sizeof(*k), cmp_key);
	for (size_t i = 0; i < nlost; i++) {
		struct es_pair_verdict best;
		ssize_t bj = -1;

		if (lost[i].slug != NULL)
			bj = best_named(k, n, &lost[i], lost[i].slug, files,
			    taken, &best);
		if (bj < 0 && lost[i].alias != NULL)
			bj = best_named(k, n, &lost[i], lost[i].alias, files,
			    taken, &best);
		if (bj >= 0)
			take(match, why, taken, i, (size_t)bj, &best);
	}
	free(k);
}

static void
cands_add(struct cands *c, size_t i, size_t j, const struct es_pair_verdict *v)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 16;
		c->v = es_xreallocarray(c->v, c->alloc, sizeof(*c->v));
	}
	c->v[c->n].i = i;
	c->v[c->n].j = j;
	c->v[c->n++].v = *v;
}

static int
cmp_cand(const void *pa, const void *pb)
{
	const struct cand *x = pa, *y = pb;

	if (x->v.score != y->v.score)
		return x->v.score > y->v.score ? -1 : 1;
	if (x->v.agree != y->v.agree)
		return x->v.agree > y->v.agree ? -1 : 1;
	if (x->v.same_inode != y->v.same_inode)
		return x->v.same_inode ? -1 : 1;
	if (x->i != y->i)
		return x->i < y->i ? -1 : 1;
	return x->j < y->j ? -1 : x->j > y->j;
}

static bool
same_multiset(const struct sketch *a, const struct sketch *b)
{
	return a->n == b->n && a->total == b->total && a->key == b->key;
}

/* One pair of the content step; a body comparison within the budget. */
static void
judge_pair(const struct es_pair_item *b, const struct sketch *bs,
    const struct es_pair_item *f, const struct sketch *fs, size_t i, size_t j,
    size_t max_work, struct es_pair_stats *st, struct cands *c)
{
	struct es_pair_verdict v;
	size_t cost = bs->n + fs->n;

	if (!prejudge(b, bs, f, fs, &v)) {
		if (same_multiset(bs, fs))
			conclude(&v, 100);
		else if (st->work > max_work || cost > max_work - st->work) {
			st->skipped++;
			return;
		} else {
			st->compared++;
			st->work += cost;
			conclude(&v, sketch_similarity(bs, fs));
		}
	}
	if (v.rule == ES_PAIR_BODY || v.rule == ES_PAIR_TITLE)
		cands_add(c, i, j, &v);
}

/* The best accepted pairs first, each side at most once. */
static void
assign(struct cands *c, ssize_t *match, struct es_pair_verdict *why,
    bool *taken)
{
	if (c->n == 0)
		return;
	qsort(c->v, c->n, sizeof(*c->v), cmp_cand);
	for (size_t k = 0; k < c->n; k++)
		if (match[c->v[k].i] < 0 && !taken[c->v[k].j])
			take(match, why, taken, c->v[k].i, c->v[k].j,
			    &c->v[k].v);
	c->n = 0;
}

/* The key of identical content: the body's, or for a blank one the title's. */
static uint64_t
content_key(const struct es_entity *e, const struct sketch *s)
{
	if (s->n > 0)
		return s->key;
	return ~es_fp_bytes(e->title ? e->title : "", e->title ?
	    strlen(e->title) : 0);
}

/* 2a. Identical content, found by sorting; at most max_pairs judged. */
static void
by_identical(const struct es_pair_item *lost, const struct sketch *ls,
    const size_t *li, size_t nl, const struct es_pair_item *files,
    const struct sketch *fs, const size_t *fi, size_t nf, size_t max_pairs,
    struct es_pair_stats *st, struct cands *c)
{
	struct key *kl = es_xcalloc(nl ? nl : 1, sizeof(*kl));
	struct key *kf = es_xcalloc(nf ? nf : 1, sizeof(*kf));
	size_t judged = 0, p = 0, q = 0;

	for (size_t x = 0; x < nl; x++) {
		kl[x].kind = lost[li[x]].kind;
		kl[x].a = content_key(lost[li[x]].e, &ls[li[x]]);
		kl[x].idx = li[x];
	}
	for (size_t y = 0; y < nf; y++) {
		kf[y].kind = files[fi[y]].kind;
		kf[y].a = content_key(files[fi[y]].e, &fs[fi[y]]);
		kf[y].idx = fi[y];
	}
	qsort(kl, nl, sizeof(*kl), cmp_key);
	qsort(kf, nf, sizeof(*kf), cmp_key);
	while (p < nl && q < nf) {
		struct key a = kl[p], b = kf[q];
		size_t pe = p, qe = q;

		a.idx = b.idx = 0;
		if (!key_same(&a, &b)) {
			if (cmp_key(&a, &b) < 0)
				p++;
			else
				q++;
			continue;
		}
		while (pe < nl && kl[pe].kind == a.kind && kl[pe].a == a.a)
			pe++;
		while (qe < nf && kf[qe].kind == a.kind && kf[qe].a == a.a)
			qe++;
		for (size_t x = p; x < pe; x++)
			for (size_t y = q; y < qe; y++) {
				size_t i = kl[x].idx, j = kf[y].idx;

				if (judged >= max_pairs) {
					st->skipped++;
					continue;
				}
				judged++;
				judge_pair(&lost[i], &ls[i], &files[j],
				    &fs[j], i, j, 0, st, c);
			}
		p = pe;
		q = qe;
	}
	free(kl);
	free(kf);
}

/* Keeps the indexes still unpaired; returns how many. */
static size_t
unpaired(size_t *idx, size_t n, const ssize_t *match, const bool *taken)
{
	size_t m = 0;

	for (size_t k = 0; k < n; k++)
		if (match != NULL ? match[idx[k]] < 0 : !taken[idx[k]])
			idx[m++] = idx[k];
	return m;
}

/*
 * 2. Content: identical first (any number, by sorting), then similar
 * (every remaining pair, within the limits); best evidence first.
 */
static void
by_content(const struct es_pair_item *lost, size_t nlost,
    const struct es_pair_item *files, size_t nfiles,
    const struct es_pair_limits *lim, ssize_t *match,
    struct es_pair_verdict *why, bool *taken, struct es_pair_stats *st)
{
	struct sketch *ls = es_xcalloc(nlost ? nlost : 1, sizeof(*ls));
	struct sketch *fs = es_xcalloc(nfiles ? nfiles : 1, sizeof(*fs));
	size_t *li = es_xcalloc(nlost ? nlost : 1, sizeof(*li));
	size_t *fi = es_xcalloc(nfiles ? nfiles : 1, sizeof(*fi));
	size_t nl = 0, nf = 0, max_pairs = lim->max_pairs;
	struct cands c = { NULL, 0, 0 };

	for (size_t i = 0; i < nlost; i++)
		if (match[i] < 0 && lost[i].e != NULL) {
			sketch_build(&ls[i], lost[i].e);
			li[nl++] = i;
		}
	for (size_t j = 0; j < nfiles; j++)
		if (!taken[j] && files[j].e != NULL) {
			sketch_build(&fs[j], files[j].e);
			fi[nf++] = j;
		}
	if (nl == 0 || nf == 0)
		goto out;
	by_identical(lost, ls, li, nl, files, fs, fi, nf, max_pairs, st, &c);
	assign(&c, match, why, taken);
	nl = unpaired(li, nl, match, NULL);
	nf = unpaired(fi, nf, NULL, taken);
	if (nl == 0 || nf == 0)
		goto out;
	if (nl > max_pairs / nf) {
		st->skipped += nl * nf;
		goto out;
	}
	for (size_t x = 0; x < nl; x++)
		for (size_t y = 0; y < nf; y++) {
			size_t i = li[x], j = fi[y];

			if (lost[i].kind != files[j].kind)
				continue;
			judge_pair(&lost[i], &ls[i], &files[j], &fs[j], i, j,
			    lim->max_work, st, &c);
		}
	assign(&c, match, why, taken);
out:
	for (size_t i = 0; i < nlost; i++)
		sketch_release(&ls[i]);
	for (size_t j = 0; j < nfiles; j++)
		sketch_release(&fs[j]);
	free(ls);
	free(fs);
	free(li);
	free(fi);
	free(c.v);
}

/* 3. A file that does not parse, at the lost file's inode: held. */
static void
by_inode_hold(const struct es_pair_item *lost, size_t nlost,
    const struct es_pair_item *files, size_t nfiles, ssize_t *match,
    struct es_pair_verdict *why, bool *taken)
{
	struct key *k = es_xcalloc(nfiles ? nfiles : 1, sizeof(*k));
	size_t n = 0;

	for (size_t j = 0; j < nfiles; j++) {
		if (taken[j] || files[j].e != NULL || !files[j].has_ino)
			continue;
		k[n].kind = files[j].kind;
		k[n].a = files[j].dev;
		k[n].b = files[j].ino;
		k[n++].idx = j;
	}
	qsort(k, n, sizeof(*k), cmp_key);
	for (size_t i = 0; i < nlost && n > 0; i++) {
		struct key want = { lost[i].kind, NULL, lost[i].dev,
		    lost[i].ino, 0 };
		struct es_pair_verdict v;
		struct sketch none;
		size_t p;

		if (match[i] >= 0 || !lost[i].has_ino)
			continue;
		for (p = lower(k, n, &want); p < n && key_same(&k[p], &want) &&
		    taken[k[p].idx]; p++)
			;
		if (p == n || !key_same(&k[p], &want))
			continue;
		/* A file that does not parse: decided before any body. */
		memset(&none, 0, sizeof(none));
		(void)prejudge(&lost[i], &none, &files[k[p].idx], &none, &v);
		if (v.rule == ES_PAIR_HOLD)
			take(match, why, taken, i, k[p].idx, &v);
	}
	free(k);
}

void
es_pair_match(const struct es_pair_item *lost, size_t nlost,
    const struct es_pair_item *files, size_t nfiles,
    const struct es_pair_limits *limits, ssize_t *match,
    struct es_pair_verdict *why, struct es_pair_stats *stats)
{
	bool *taken = es_xcalloc(nfiles ? nfiles : 1, sizeof(*taken));
	struct es_pair_limits lim = { ES_PAIR_MAX_PAIRS, ES_PAIR_MAX_WORK };

	memset(stats, 0, sizeof(*stats));
	if (limits != NULL && limits->max_pairs > 0)
		lim.max_pairs = limits->max_pairs;
	if (limits != NULL && limits->max_work > 0)
		lim.max_work = limits->max_work;
	for (size_t i = 0; i < nlost; i++) {
		match[i] = -1;
		if (why != NULL)
			memset(&why[i], 0, sizeof(why[i]));
	}
	by_slug(lost, nlost, files, nfiles, match, why, taken);
	by_content(lost, nlost, files, nfiles, &lim, match, why, taken, stats);
	by_inode_hold(lost, nlost, files, nfiles, match, why, taken);
	free(taken);
}
