/*
 * Shrinking a failing history (issue 17 item 4): delta debugging over its
 * steps. A step's arguments are read against the state when it runs
 * (sim.h), so every subsequence of a history is a history; the shrinker
 * removes what the failure does not need:
 *
 *	1. chunks: halves, quarters, ... of the steps, each removed when the
 *	   rest still fails (ddmin's complement step);
 *	2. single steps, from the last, until a whole round removes none,
 *	   then every pair of steps when at most 24 are left;
 *	3. arguments toward 0: a, b, c of each step tried at 0, 1, 2, 3
 *	   (they are read modulo small counts: small values are "the first
 *	   entity", "the first field");
 *
 * and again from 1 while a round removed or simplified anything (a
 * simpler argument can make a step, or a chunk, unnecessary).
 *
 * "Still fails" keeps the invariant family: the outcome's why up to its
 * first ':' (sim_why_family()), so a shrink never slides from the bug
 * being chased into another one; a why with no short family (no ':' in
 * the first 64 bytes) takes any failure. An env that fails (sim_run()
 * returning -1) is not "still fails". Effort: at most
 * SIM_DRIVE_SHRINK_RUNS histories; a failure at step k first drops every
 * step after k (they cannot matter: the final checks never ran).
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "sim-drive.h"

#define SIM_SHRINK_PAIRS_MAX	24

struct shrink {
	const struct sim_history	*h;
	sim_fails_fn			 fails;
	void				*ud;
	size_t				 runs, max;
	struct sim_history		 scratch;
};

/* Whether the history picked by p[0..n) still fails (one run). */
static bool
still_fails(struct shrink *s, const struct sim_pick *p, size_t n)
{
	if (s->runs >= s->max)
		return false;
	s->runs++;
	s->scratch.seed = s->h->seed;
	s->scratch.n = n;
	for (size_t k = 0; k < n; k++) {
		s->scratch.steps[k] = s->h->steps[p[k].i];
		if (p[k].args) {
			s->scratch.steps[k].a = p[k].a;
			s->scratch.steps[k].b = p[k].b;
			s->scratch.steps[k].c = p[k].c;
		}
	}
	return s->fails(&s->scratch, s->ud);
}

/* cur without [at, at + len) into cand; its length. */
static size_t
without(const struct sim_pick *cur, size_t n, size_t at, size_t len,
    struct sim_pick *cand)
{
	size_t m = 0;

	for (size_t k = 0; k < n; k++)
		if (k < at || k >= at + len)
			cand[m++] = cur[k];
	return m;
}

/* Removes chunks of len, then smaller; returns whether any went. */
static bool
remove_chunks(struct shrink *s, struct sim_pick *cur, size_t *n,
    struct sim_pick *cand, size_t len)
{
	bool any = false;

	for (; len >= 1; len /= 2) {
		size_t at = 0;

		while (at < *n && s->runs < s->max) {
			size_t m = without(cur, *n, at, len, cand);

			if (still_fails(s, cand, m)) {
				memcpy(cur, cand, m * sizeof(*cur));
				*n = m;
				any = true;
			} else
				at += len;
		}
	}
	return any;
}

static void
singles(struct shrink *s, struct sim_pick *cur, size_t *n,
    struct sim_pick *cand)
{
	bool changed = true;

	while (changed && s->runs < s->max) {
		changed = false;
		for (size_t k = *n; k-- > 0 && s->runs < s->max;) {
			size_t m = without(cur, *n, k, 1, cand);

			if (still_fails(s, cand, m)) {
				memcpy(cur, cand, m * sizeof(*cur));
				*n = m;
				changed = true;
			}
		}
	}
}

/*
 * Every pair of steps (not only the aligned chunks of 2): two steps that
 * only matter together, such as a crash and the pass it crashes. Only on
 * short lists (n^2 / 2 runs).
 */
static bool
pairs(struct shrink *s, struct sim_pick *cur, size_t *n,
    struct sim_pick *cand)
{
	bool any = false;

	if (*n > SIM_SHRINK_PAIRS_MAX)
		return false;
	for (size_t i = 0; i + 1 < *n && s->runs < s->max; i++) {
		for (size_t j = *n - 1; j > i && s->runs < s->max; j--) {
			size_t m = 0;

			for (size_t k = 0; k < *n; k++)
				if (k != i && k != j)
					cand[m++] = cur[k];
			if (still_fails(s, cand, m)) {
				memcpy(cur, cand, m * sizeof(*cur));
				*n = m;
				any = true;
				j = *n;	/* the list changed: from its end */
				if (i + 1 >= *n)
					break;
			}
		}
	}
	return any;
}

/* Arguments toward 0; returns whether any changed. */
static bool
simplify(struct shrink *s, struct sim_pick *cur, size_t n)
{
	bool any = false;

	for (size_t k = 0; k < n; k++) {
		for (int f = 0; f < 3; f++) {
			const struct sim_step *st = &s->h->steps[cur[k].i];
			struct sim_pick save = cur[k];
			uint32_t *v, now;

			if (!cur[k].args) {
				cur[k].args = true;
				cur[k].a = st->a;
				cur[k].b = st->b;
				cur[k].c = st->c;
				save = cur[k];
			}
			v = f == 0 ? &cur[k].a : f == 1 ? &cur[k].b :
			    &cur[k].c;
			now = *v;
			for (uint32_t t = 0; t < 4 && t < now; t++) {
				*v = t;
				if (still_fails(s, cur, n)) {
					any = true;
					save = cur[k];
					break;
				}
			}
			cur[k] = save;
		}
		/* Arguments as generated are no replacement. */
		if (cur[k].args && cur[k].a == s->h->steps[cur[k].i].a &&
		    cur[k].b == s->h->steps[cur[k].i].b &&
		    cur[k].c == s->h->steps[cur[k].i].c)
			cur[k].args = false;
	}
	return any;
}

size_t
sim_shrink_picks(const struct sim_history *h, sim_fails_fn fails, void *ud,
    size_t max_runs, struct sim_pick **out, size_t *nout)
{
	struct sim_pick *cur, *cand;
	struct shrink s;
	size_t n = h->n;

	memset(&s, 0, sizeof(s));
	s.h = h;
	s.fails = fails;
	s.ud = ud;
	s.max = max_runs;
	s.scratch.steps = es_xcalloc(h->n ? h->n : 1, sizeof(struct sim_step));
	cur = es_xcalloc(h->n ? h->n : 1, sizeof(*cur));
	cand = es_xcalloc(h->n ? h->n : 1, sizeof(*cand));
	for (size_t k = 0; k < n; k++)
		cur[k].i = k;
	/* Rounds until one changes nothing (or the effort is spent). */
	for (bool changed = true; changed && s.runs < s.max;) {
		changed = n > 1 && remove_chunks(&s, cur, &n, cand, n / 2);
		singles(&s, cur, &n, cand);
		changed = pairs(&s, cur, &n, cand) || changed;
		changed = simplify(&s, cur, n) || changed;
	}
	free(cand);
	free(s.scratch.steps);
	*out = cur;
	*nout = n;
	return s.runs;
}

size_t
sim_why_family(const char *why)
{
	const char *c = strchr(why, ':');

	if (c == NULL || c == why || c - why > 64)
		return 0;
	return (size_t)(c - why);
}

struct fam {
	const struct sim_env_opts	*eo;
	char				 family[80];
	size_t				 len;
};

static bool
fails_same(const struct sim_history *h, void *ud)
{
	struct fam *f = ud;
	struct sim_outcome o;
	struct es_error err;

	if (sim_drive_run(h, f->eo, NULL, NULL, &o, &err) < 0 || !o.failed)
		return false;
	return f->len == 0 || strncmp(o.why, f->family, f->len) == 0;
}

int
sim_shrink_ex(const struct sim_history *h, const struct sim_env_opts *eo,
    struct sim_history *out, struct sim_pick **picks, size_t *npicks,
    size_t *runs, struct sim_outcome *why, struct es_error *err)
{
	struct sim_history pre;
	struct sim_pick *p;
	struct fam f;
	size_t np;

	memset(out, 0, sizeof(*out));
	*picks = NULL;
	*npicks = 0;
	*runs = 1;
	if (sim_drive_run(h, eo, NULL, NULL, why, err) < 0)
		return -1;
	if (!why->failed)
		return es_error_set(err, ES_EUSAGE, NULL, 0, "seed %llu: "
		    "the history does not fail", (unsigned long long)h->seed);
	memset(&f, 0, sizeof(f));
	f.eo = eo;
	f.len = sim_why_family(why->why);
	if (f.len >= sizeof(f.family))
		f.len = 0;
	memcpy(f.family, why->why, f.len);
	/* Steps after the failing one never mattered. */
	pre = *h;
	if (why->step < h->n)
		pre.n = why->step + 1;
	*runs += sim_shrink_picks(&pre, fails_same, &f,
	    SIM_DRIVE_SHRINK_RUNS, &p, &np);
	out->seed = h->seed;
	out->steps = es_xcalloc(np ? np : 1, sizeof(*out->steps));
	out->n = np;
	for (size_t k = 0; k < np; k++) {
		out->steps[k] = h->steps[p[k].i];
		if (p[k].args) {
			out->steps[k].a = p[k].a;
			out->steps[k].b = p[k].b;
			out->steps[k].c = p[k].c;
		}
	}
	(*runs)++;
	if (sim_drive_run(out, eo, NULL, NULL, why, err) < 0) {
		free(p);
		sim_history_free(out);
		return -1;
	}
	*picks = p;
	*npicks = np;
	return 0;
}

int
sim_shrink(const struct sim_history *h, const struct sim_env_opts *eo,
    struct sim_history *out, struct sim_outcome *why, struct es_error *err)
{
	struct sim_pick *p;
	size_t np, runs;

	if (sim_shrink_ex(h, eo, out, &p, &np, &runs, why, err) < 0)
		return -1;
	free(p);
	return 0;
}
