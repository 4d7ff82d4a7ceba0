/*
 * The history layer of the simulation (issue 17): the generator, the
 * oracle, the invariants, and histories run on the simulated env.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es-test.h"

#include "execsync/plan.h"
#include "execsync/xmalloc.h"

#include "sim-hist.h"

/* ---- the generator ---- */

static void
test_gen_is_deterministic(void **state)
{
	struct sim_gen_opts o = { 50, true, 2 };
	struct sim_history a, b, c;

	(void)state;
	sim_gen(42, &o, &a);
	sim_gen(42, &o, &b);
	sim_gen(43, &o, &c);
	assert_int_equal(a.n, 50);
	assert_int_equal(a.seed, 42);
	assert_memory_equal(a.steps, b.steps, a.n * sizeof(*a.steps));
	assert_true(memcmp(a.steps, c.steps, a.n * sizeof(*a.steps)) != 0);
	for (size_t i = 0; i < a.n; i++) {
		assert_true(a.steps[i].op < SIM_OP_N);
		assert_true(a.steps[i].m < 2);
	}
	sim_history_free(&a);
	sim_history_free(&b);
	sim_history_free(&c);
}

/* Without faults (the twin's), no fault step; every kind of pass shows. */
static void
test_gen_mix(void **state)
{
	struct sim_gen_opts o = { 50, false, 1 };
	unsigned seen[SIM_OP_N] = { 0 };
	size_t bulk = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 400; seed++) {
		struct sim_history h;
		size_t creates = 0;

		sim_gen(seed, &o, &h);
		for (size_t i = 0; i < h.n; i++) {
			const struct sim_step *s = &h.steps[i];

			assert_true(s->op < SIM_DB_OUTAGE ||
			    s->op == SIM_ADVANCE);
			assert_int_equal(s->m, 0);
			seen[s->op]++;
			if ((s->op == SIM_FILE_CREATE ||
			    s->op == SIM_API_CREATE) && s->a % 3 != 0)
				creates++;
			if (creates >= 10 && ((s->op == SIM_GIT_CHECKOUT &&
			    s->b % 4 == 0) || (s->op == SIM_API_DELETE_PROJECT &&
			    s->c % 8 == 0)))
				bulk++, creates = 0;
		}
		sim_history_free(&h);
	}
	for (int op = 0; op < SIM_DB_OUTAGE; op++)
		assert_true(seen[op] > 0);
	/* about one history in eight holds a bulk deletion */
	assert_true(bulk >= 20);
	o.faults = true;
	memset(seen, 0, sizeof(seen));
	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct sim_history h;

		sim_gen(seed, &o, &h);
		for (size_t i = 0; i < h.n; i++)
			seen[h.steps[i].op]++;
		sim_history_free(&h);
	}
	for (int op = SIM_DB_OUTAGE; op < SIM_OP_N; op++)
		assert_true(seen[op] > 0);
}

static void
test_step_describe(void **state)
{
	struct sim_step s = { SIM_API_RETITLE, 1, 7, 8, 9 };
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	sim_step_describe(&s, &b);
	assert_string_equal(b.buf, "m1 api: retitle project #7 #8 #9");
	es_buf_reset(&b);
	s.op = SIM_CRASH;
	s.a = 3;
	sim_step_describe(&s, &b);
	assert_string_equal(b.buf, "m1 fault: crash at call 4 of the next "
	    "pass");
	es_buf_release(&b);
}

/* ---- the oracle ---- */

static void
test_oracle_tokens(void **state)
{
	struct sim_oracle o;
	char t1[9], t2[9], t3[9], why[512], text[128];
	size_t ferret;

	(void)state;
	sim_oracle_init(&o);
	sim_oracle_new(&o, 0, ES_KIND_PROJECT, 0, "file: title", t1);
	sim_oracle_new(&o, 1, ES_KIND_PROJECT, 0, "file: body line", t2);
	sim_oracle_new(&o, 2, ES_KIND_PROJECT, SIM_TOK_RACE, "api: race", t3);
	assert_string_equal(t1, "w000000w");
	assert_string_equal(t2, "w000001w");
	/* tokens are found anywhere, never as a part of another */
	snprintf(text, sizeof(text), "a%sb w12345w ww000001ww %s", t1, t3);
	sim_oracle_tokens(&o, text, strlen(text));
	assert_int_equal(o.nids, 3);
	assert_int_equal(o.ids[0], 0);
	assert_int_equal(o.ids[1], 1);
	assert_int_equal(o.ids[2], 2);

	/* nothing found: all three lost (the race only in the atomic form) */
	assert_int_equal(sim_oracle_verdict(&o, false, &ferret, why,
	    sizeof(why)), 3);
	assert_non_null(strstr(why, "w000000w"));
	assert_non_null(strstr(why, "step 0"));
	assert_int_equal(sim_oracle_verdict(&o, true, &ferret, why,
	    sizeof(why)), 2);
	assert_int_equal(ferret, 1);

	/* a user saw t1 and replaced it: superseded; t2 kept */
	snprintf(text, sizeof(text), "title %s\nbody %s\n", t1, t2);
	sim_oracle_replace(&o, text, strlen(text), "title x\nbody w000001w\n",
	    21);
	assert_true(o.t[0].flags & SIM_TOK_SUPERSEDED);
	assert_false(o.t[1].flags & SIM_TOK_SUPERSEDED);
	/* by copies: a line twice (a crash's twin), both copies kept in a
	 * rewrite, then one of them edited away: knowingly replaced */
	{
		char two[128], still[128], one[128];

		snprintf(two, sizeof(two), "- [ ] Mail %s\n- [ ] Mail %s\n",
		    t3, t3);
		snprintf(still, sizeof(still), "- [ ] Mail %s\n- [ ] Buy\n"
		    "- [ ] Mail %s\n", t3, t3);
		snprintf(one, sizeof(one), "- [ ] Ask\n- [ ] Mail %s\n", t3);
		sim_oracle_replace(&o, two, strlen(two), still, strlen(still));
		assert_false(o.t[2].flags & SIM_TOK_SUPERSEDED);
		sim_oracle_replace(&o, two, strlen(two), one, strlen(one));
		assert_true(o.t[2].flags & SIM_TOK_SUPERSEDED);
		o.t[2].flags &= (uint8_t)~SIM_TOK_SUPERSEDED;
	}
	sim_oracle_scan(&o, strstr(text, t2), 8, SIM_TOK_FOUND);
	assert_true(o.t[1].flags & SIM_TOK_FOUND);
	assert_int_equal(sim_oracle_verdict(&o, true, &ferret, why,
	    sizeof(why)), 0);

	/* only in the trash: fine after a user deleted such an entity */
	o.t[1].flags = SIM_TOK_FOUND_TRASH;
	assert_int_equal(sim_oracle_verdict(&o, true, &ferret, why,
	    sizeof(why)), 1);
	assert_non_null(strstr(why, "only in the trash"));
	sim_oracle_delete(&o, 5, ES_KIND_PROJECT, NULL, 0);
	assert_int_equal(sim_oracle_verdict(&o, true, &ferret, why,
	    sizeof(why)), 0);
	sim_oracle_release(&o);
}

static void
test_oracle_scan_doc_skips_slug(void **state)
{
	struct sim_oracle o;
	char t1[9], t2[9];
	bson_t *doc;

	(void)state;
	sim_oracle_init(&o);
	sim_oracle_new(&o, 0, ES_KIND_PROJECT, 0, "x", t1);
	sim_oracle_new(&o, 0, ES_KIND_PROJECT, 0, "y", t2);
	doc = BCON_NEW("slug", BCON_UTF8("plan-w000000w"), "extra", "{",
	    "note", BCON_UTF8(t2), "}");
	sim_oracle_scan_doc(&o, doc, SIM_TOK_FOUND);
	assert_false(o.t[0].flags & SIM_TOK_FOUND);
	assert_true(o.t[1].flags & SIM_TOK_FOUND);
	bson_destroy(doc);
	sim_oracle_release(&o);
}

/* ---- the deletion guard, recomputed ---- */

static void
add_op(struct es_plan *p, enum es_op_kind op, enum es_kind kind)
{
	struct es_op *o;

	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 8;
		p->ops = es_xreallocarray(p->ops, p->alloc, sizeof(*p->ops));
	}
	o = &p->ops[p->n++];
	memset(o, 0, sizeof(*o));
	o->op = op;
	o->kind = kind;
}

static void
test_guard_rule(void **state)
{
	static const struct {
		size_t	 deletes, trashes, other, total;
		unsigned max;
		bool	 trips;
	} t[] = {
		{ 5, 0, 3, 10, 50, false },	/* exactly half */
		{ 6, 0, 0, 10, 50, true },
		{ 3, 3, 0, 10, 50, true },	/* both sides count */
		{ 9, 0, 0, 9, 50, false },	/* under 10: never */
		{ 12, 0, 0, 12, 100, false },
		{ 7, 0, 0, 12, 50, true },
		{ 6, 0, 0, 12, 50, false },
		{ 1, 0, 0, 10, 0, true },
		{ 0, 0, 9, 10, 50, false },
	};
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct es_plan p = ES_PLAN_INIT;
		size_t total[3] = { t[i].total, 3, 40 };

		for (size_t k = 0; k < t[i].deletes; k++)
			add_op(&p, ES_OP_DOC_DELETE, ES_KIND_PROJECT);
		for (size_t k = 0; k < t[i].trashes; k++)
			add_op(&p, ES_OP_FILE_TRASH, ES_KIND_PROJECT);
		for (size_t k = 0; k < t[i].other; k++)
			add_op(&p, ES_OP_DOC_UPDATE, ES_KIND_PROJECT);
		/* other collections: goals all gone but only 3, actions few */
		for (size_t k = 0; k < 3; k++)
			add_op(&p, ES_OP_DOC_DELETE, ES_KIND_GOAL);
		add_op(&p, ES_OP_FILE_TRASH, ES_KIND_ACTION);
		if (sim_guard_expected(&p, total, t[i].max, why, sizeof(why)) !=
		    t[i].trips)
			fail_msg("case %zu: %s", i, why);
		free(p.ops);
	}
}

static void
test_plan_changes(void **state)
{
	struct es_plan p = ES_PLAN_INIT;
	char why[200];

	(void)state;
	add_op(&p, ES_OP_REPORT, ES_KIND_PROJECT);
	add_op(&p, ES_OP_BASELINE_PUT, ES_KIND_PROJECT);
	assert_false(sim_plan_changes(&p, why, sizeof(why)));
	add_op(&p, ES_OP_FILE_WRITE, ES_KIND_PROJECT);
	assert_true(sim_plan_changes(&p, why, sizeof(why)));
	free(p.ops);
}

/* ---- histories on the simulated env ---- */

static int
dump_file(const char *rel, const void *buf, size_t len, void *ud)
{
	print_error("---- m%d %s\n%.*s", *(int *)ud, rel, (int)len,
	    (const char *)buf);
	return 0;
}

static int
dump_doc(const bson_t *doc, void *ud)
{
	char *j = bson_as_relaxed_extended_json(doc, NULL);

	print_error("---- %s %s\n", (const char *)ud, j);
	bson_free(j);
	return 0;
}

static void
dump_env(struct sim_env *env)
{
	static const char *const names[3] = { "project", "goal", "action" };
	struct es_error err;

	for (int m = 0; m < env->ops->nmachines; m++)
		env->ops->each_file(env->ctx, m, dump_file, &m, &err);
	for (int k = 0; k < 3; k++)
		env->ops->api_each(env->ctx, (enum es_kind)k, dump_doc,
		    (void *)names[k], &err);
	env->ops->conflicts_each(env->ctx, dump_doc, "conflict", &err);
}

static int
run_one(const struct sim_history *h, int nm, bool ferret,
    struct sim_outcome *out)
{
	struct sim_env_opts eo = { nm, 1765000000000LL, ferret };
	struct sim_run_opts ro = { ferret, NULL, NULL };
	struct sim_env env;
	struct es_error err;
	int rc;

	assert_int_equal(sim_env_new(&eo, &env, &err), 0);
	rc = sim_run(h, &env, &ro, out, &err);
	if (rc < 0)
		print_error("env failed: %s: %s\n", err.path, err.msg);
	if (out->failed && getenv("SIM_HIST_DUMP") != NULL)
		dump_env(&env);
	sim_env_free(&env);
	return rc;
}

static void
print_history(const struct sim_history *h, const struct sim_outcome *out)
{
	struct es_buf b = ES_BUF_INIT;

	for (size_t i = 0; i < h->n; i++) {
		es_buf_reset(&b);
		sim_step_describe(&h->steps[i], &b);
		print_error("  %2zu %s%s\n", i, b.buf, i == out->step ?
		    "   <--" : "");
	}
	es_buf_release(&b);
}

static unsigned long
env_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v ? strtoul(v, NULL, 10) : dflt;
}

static void
test_random_histories(void **state)
{
	unsigned long n = env_ulong("SIM_HIST_N", 200);
	unsigned long first = env_ulong("SIM_HIST_SEED", 1);
	size_t steps = env_ulong("SIM_HIST_STEPS", 50), failures = 0;
	size_t passes = 0, trips = 0, conflicts = 0, window = 0;
	struct timespec t0, t1;
	double s;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long seed = first; seed < first + n; seed++) {
		struct sim_gen_opts go = { steps, true, 1 + (int)(seed % 2) };
		struct sim_history h;
		struct sim_outcome out;

		sim_gen(seed, &go, &h);
		assert_int_equal(run_one(&h, go.nmachines, seed % 4 == 3,
		    &out), 0);
		passes += out.passes;
		trips += out.guard_trips;
		conflicts += out.conflicts;
		window += out.ferretdb_window;
		if (out.failed) {
			if (failures++ < 3 || getenv("SIM_HIST_ALL") != NULL) {
				print_error("seed %lu (%d machines): step %zu: "
				    "%s\n", seed, go.nmachines, out.step,
				    out.why);
				if (getenv("SIM_HIST_VERBOSE") != NULL)
					print_history(&h, &out);
			}
		}
		sim_history_free(&h);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec -
	    t0.tv_nsec) / 1e9;
	print_message("histories: %lu\nsteps: %zu\nfailures: %zu\n"
	    "ferretdb_window: %zu\npasses: %zu\nguard_trips: %zu\n"
	    "conflicts: %zu\nhistories_per_s: %.0f\n", n, steps, failures,
	    window, passes, trips, conflicts, (double)n / s);
	assert_int_equal(failures, 0);
}

/* A hand-built history on one machine; the outcome. */
static void
run_steps(const struct sim_step *steps, size_t n, int nm,
    struct sim_outcome *out)
{
	struct sim_history h = { 7, (struct sim_step *)steps, n };

	assert_int_equal(run_one(&h, nm, false, out), 0);
	if (out->failed)
		print_error("step %zu: %s\n", out->step, out->why);
}

/*
 * Regression (seed 4216, shrunk): a goal's content edited through the API
 * and in the file, the file's edit newer: the document's version must be
 * kept in sync_conflicts before the document is overwritten. The pass
 * wrote its compare-and-swaps in bulk first, and crashed at the keep's
 * insert: the API's edit was gone.
 */
static void
test_regression_keep_doc_before_overwrite(void **state)
{
	static const struct sim_step steps[] = {
		{ SIM_FILE_CREATE, 0, 1551590591, 259184471, 1974567894 },
		{ SIM_FILE_CREATE, 0, 484671273, 105875684, 311674119 },
		{ SIM_FILE_CREATE, 0, 44408633, 2045944666, 1311844728 },
		{ SIM_FILE_CREATE, 0, 1380484439, 17279511, 1400781067 },
		{ SIM_FILE_CREATE, 0, 809872418, 1692913134, 1347855136 },
		{ SIM_FILE_CREATE, 0, 1614200250, 1797778979, 755195457 },
		{ SIM_FILE_CREATE, 0, 67349767, 434672676, 1120883485 },
		{ SIM_PASS_FULL, 0, 72605128, 1593288053, 275101749 },
		{ SIM_API_EDIT_CONTENT, 0, 52349897, 1161079964, 1780749175 },
		{ SIM_CRASH, 0, 6, 0, 0 },
		{ SIM_FILE_MOVE, 0, 137264338, 1592795297, 1452672272 },
		{ SIM_FILE_CREATE, 0, 1921814624, 645534065, 638991063 },
		{ SIM_FILE_EDIT_BODY, 0, 1289773230, 1904522522, 1260425160 },
		{ SIM_FILE_EDIT_FIELD, 0, 1657123711, 1306264582, 1340421824 },
		{ SIM_PASS_FULL, 0, 509061107, 349919466, 840956016 },
	};
	struct sim_outcome out;

	(void)state;
	run_steps(steps, sizeof(steps) / sizeof(steps[0]), 1, &out);
	assert_false(out.failed);
}

/*
 * Regression (seed 2498, shrunk): an action completed through the API
 * while a pass crashed between its two list writes (the line left
 * @waiting.md, completed.md not written yet). The next pass took the
 * missing line for the user's delete and paired the line the user added
 * meanwhile as an edit of it: the action's text was lost.
 */
static void
test_regression_move_line_crash(void **state)
{
	static const struct sim_step steps[] = {
		{ SIM_FILE_CREATE, 0, 43485847, 1354199189, 222553388 },
		{ SIM_ACTION_ADD, 0, 485943712, 1637229974, 1788311960 },
		{ SIM_API_CREATE, 0, 700759672, 923870875, 1838005462 },
		{ SIM_PASS_PATHS, 0, 1724835411, 299322085, 501141552 },
		{ SIM_GIT_CHECKOUT, 0, 738089785, 1852752792, 219427590 },
		{ SIM_CRASH, 0, 13, 0, 0 },
		{ SIM_API_ACTION_COMPLETE, 0, 313985236, 677294545, 389974011 },
		{ SIM_API_CREATE, 0, 1675176900, 299394482, 1251764297 },
		{ SIM_PASS_PATHS, 0, 312320196, 1894477464, 101717863 },
		{ SIM_ACTION_ADD, 0, 2066686272, 474878663, 139703646 },
	};
	struct sim_outcome out;

	(void)state;
	run_steps(steps, sizeof(steps) / sizeof(steps[0]), 1, &out);
	assert_false(out.failed);
}

/* The same history on two simulated envs means the same; an edit does not. */
static void
test_env_same(void **state)
{
	struct sim_gen_opts go = { 30, false, 2 };
	struct sim_env_opts eo = { 2, 1765000000000LL, false };
	struct sim_env x, y;
	struct sim_history h;
	struct sim_outcome out;
	struct es_error err;
	char why[512];
	static const char body[] = "---\ntitle: Odd one\n---\nbody\n";

	(void)state;
	sim_gen(5, &go, &h);
	assert_int_equal(sim_env_new(&eo, &x, &err), 0);
	assert_int_equal(sim_env_new(&eo, &y, &err), 0);
	assert_int_equal(sim_run(&h, &x, NULL, &out, &err), 0);
	assert_int_equal(sim_run(&h, &y, NULL, &out, &err), 0);
	if (!sim_env_same(&x, &y, why, sizeof(why)))
		fail_msg("%s", why);
	assert_int_equal(y.ops->write_file(y.ctx, 1,
	    "30k-goals/active/odd-one.md", body, sizeof(body) - 1,
	    SIM_SAVE_IN_PLACE, &err), 0);
	assert_false(sim_env_same(&x, &y, why, sizeof(why)));
	assert_non_null(strstr(why, "machine 1"));
	assert_non_null(strstr(why, "odd-one"));
	sim_env_free(&x);
	sim_env_free(&y);
	sim_history_free(&h);
}

/* Any subsequence of a history is a history: it runs on a fresh env. */
static void
test_subsequences_run(void **state)
{
	struct sim_gen_opts go = { 40, true, 2 };
	struct sim_rng rng;
	size_t failed = 0;

	(void)state;
	sim_rng_seed(&rng, 99);
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct sim_history h, sub;
		struct sim_outcome out;

		sim_gen(seed, &go, &h);
		for (int k = 0; k < 3; k++) {
			sub.seed = h.seed;
			sub.steps = es_xcalloc(h.n + 1, sizeof(*sub.steps));
			sub.n = 0;
			for (size_t i = 0; i < h.n; i++)
				if (sim_rng_below(&rng, 3) != 0)
					sub.steps[sub.n++] = h.steps[i];
			assert_int_equal(run_one(&sub, 2, false, &out), 0);
			if (out.failed && failed++ < 3)
				print_error("seed %" PRIu64 " subsequence %d: "
				    "%s\n", seed, k, out.why);
			sim_history_free(&sub);
		}
		/* and the empty history, and a lone pass */
		sub.steps = h.steps;
		sub.n = 0;
		assert_int_equal(run_one(&sub, 2, false, &out), 0);
		assert_false(out.failed);
		sub.n = 1;
		sub.steps[0].op = SIM_PASS_PATHS;
		assert_int_equal(run_one(&sub, 2, false, &out), 0);
		assert_false(out.failed);
		sim_history_free(&h);
	}
	assert_int_equal(failed, 0);
}

/*
 * An env that wraps the simulated one and misbehaves after each pass: the
 * oracle and the invariants must notice.
 */
struct evil {
	struct sim_env		 inner;
	struct sim_env_ops	 ops;
	bool			 drop_conflicts;	/* rm .execsync/conflicts */
	bool			 no_guard;		/* max_delete 100 always */
};

static int
evil_conflict_cb(const char *rel, const void *buf, size_t len, void *ud)
{
	char ***v = ud;
	size_t n = 0;

	(void)buf;
	(void)len;
	if (strncmp(rel, ".execsync/conflicts/", 20) != 0)
		return 0;
	while (*v != NULL && (*v)[n] != NULL)
		n++;
	*v = es_xreallocarray(*v, n + 2, sizeof(**v));
	(*v)[n] = es_xstrdup(rel);
	(*v)[n + 1] = NULL;
	return 0;
}

static int
evil_pass(void *ctx, int m, const struct es_engine_opts *o,
    const struct es_trigger *t, struct es_engine_result *r,
    struct es_error *err)
{
	struct evil *e = ctx;
	struct es_engine_opts eo = *o;
	char **v = NULL;
	int rc;

	if (e->no_guard)
		eo.max_delete = 100;
	rc = e->inner.ops->pass(e->inner.ctx, m, &eo, t, r, err);
	if (!e->drop_conflicts)
		return rc;
	/* behind the engine's back: the conflict copies go */
	e->inner.ops->each_file(e->inner.ctx, m, evil_conflict_cb, &v, err);
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		struct es_error e2;

		e->inner.ops->remove_file(e->inner.ctx, m, v[i], &e2);
		free(v[i]);
	}
	free(v);
	return rc;
}

#define EVIL_FWD(name, args, call)					\
	static int name args { struct evil *e = ctx; return call; }
EVIL_FWD(evil_write, (void *ctx, int m, const char *rel, const void *buf,
    size_t len, enum sim_save how, struct es_error *err),
    e->inner.ops->write_file(e->inner.ctx, m, rel, buf, len, how, err))
EVIL_FWD(evil_read, (void *ctx, int m, const char *rel, struct es_buf *out,
    struct es_error *err), e->inner.ops->read_file(e->inner.ctx, m, rel, out,
    err))
EVIL_FWD(evil_remove, (void *ctx, int m, const char *rel,
    struct es_error *err), e->inner.ops->remove_file(e->inner.ctx, m, rel,
    err))
EVIL_FWD(evil_rename, (void *ctx, int m, const char *from, const char *to,
    struct es_error *err), e->inner.ops->rename_file(e->inner.ctx, m, from,
    to, err))
EVIL_FWD(evil_each_file, (void *ctx, int m, sim_file_cb cb, void *ud,
    struct es_error *err), e->inner.ops->each_file(e->inner.ctx, m, cb, ud,
    err))
EVIL_FWD(evil_insert, (void *ctx, enum es_kind k, const bson_t *doc,
    struct es_error *err), e->inner.ops->api_insert(e->inner.ctx, k, doc,
    err))
EVIL_FWD(evil_replace, (void *ctx, enum es_kind k, const bson_t *doc,
    struct es_error *err), e->inner.ops->api_replace(e->inner.ctx, k, doc,
    err))
EVIL_FWD(evil_get, (void *ctx, enum es_kind k, const bson_oid_t *id,
    bson_t *out, struct es_error *err), e->inner.ops->api_get(e->inner.ctx,
    k, id, out, err))
EVIL_FWD(evil_each, (void *ctx, enum es_kind k, sim_doc_cb cb, void *ud,
    struct es_error *err), e->inner.ops->api_each(e->inner.ctx, k, cb, ud,
    err))
EVIL_FWD(evil_conflicts, (void *ctx, sim_doc_cb cb, void *ud,
    struct es_error *err), e->inner.ops->conflicts_each(e->inner.ctx, cb,
    ud, err))
EVIL_FWD(evil_changes, (void *ctx, int m, struct es_change **out, size_t *n,
    struct es_error *err), e->inner.ops->changes(e->inner.ctx, m, out, n,
    err))
EVIL_FWD(evil_events, (void *ctx, int m, char ***paths, size_t *n,
    struct es_error *err), e->inner.ops->file_events(e->inner.ctx, m, paths,
    n, err))

static int64_t
evil_db_now(void *ctx)
{
	struct evil *e = ctx;

	return e->inner.ops->db_now_ms(e->inner.ctx);
}

static int64_t
evil_fs_now(void *ctx)
{
	struct evil *e = ctx;

	return e->inner.ops->fs_now_ms(e->inner.ctx);
}

static void
evil_advance(void *ctx, int64_t ms)
{
	struct evil *e = ctx;

	e->inner.ops->advance(e->inner.ctx, ms);
}

static const char *
evil_violation(void *ctx)
{
	struct evil *e = ctx;

	return e->inner.ops->violation(e->inner.ctx);
}

/* h on the simulated env (1 machine, no faults) wrapped by e. */
static void
run_evil(const struct sim_step *steps, size_t n, struct evil *e,
    struct sim_outcome *out)
{
	struct sim_env_opts eo = { 1, 1765000000000LL, false };
	struct sim_history h = { 11, (struct sim_step *)steps, n };
	struct sim_env env;
	struct es_error err;

	assert_int_equal(sim_env_new(&eo, &e->inner, &err), 0);
	memset(&e->ops, 0, sizeof(e->ops));
	e->ops.nmachines = 1;
	e->ops.write_file = evil_write;
	e->ops.read_file = evil_read;
	e->ops.remove_file = evil_remove;
	e->ops.rename_file = evil_rename;
	e->ops.each_file = evil_each_file;
	e->ops.api_insert = evil_insert;
	e->ops.api_replace = evil_replace;
	e->ops.api_get = evil_get;
	e->ops.api_each = evil_each;
	e->ops.conflicts_each = evil_conflicts;
	e->ops.db_now_ms = evil_db_now;
	e->ops.fs_now_ms = evil_fs_now;
	e->ops.advance = evil_advance;
	e->ops.pass = evil_pass;
	e->ops.changes = evil_changes;
	e->ops.file_events = evil_events;
	e->ops.violation = evil_violation;
	e->ops.faults = NULL;
	env.ops = &e->ops;
	env.ctx = e;
	assert_int_equal(sim_run(&h, &env, NULL, out, &err), 0);
	sim_env_free(&e->inner);
}

/*
 * The file and the API change the same line of a body, the API later: the
 * file's version is kept under .execsync/conflicts/. An env that removes
 * the copy behind the engine's back loses the file's edit, and the oracle
 * says which.
 */
static void
test_oracle_catches_lost_edit(void **state)
{
	static const struct sim_step steps[] = {
		{ SIM_FILE_CREATE, 0, 1, 0, 0 },	/* title w000000w */
		{ SIM_PASS_FULL, 0, 0, 0, 0 },
		{ SIM_FILE_EDIT_BODY, 0, 0, 0, 2 },	/* line 2: w000001w */
		{ SIM_ADVANCE, 0, 5, 1, 0 },
		{ SIM_API_EDIT_CONTENT, 0, 0, 0, 2 },	/* line 2: w000002w */
		{ SIM_PASS_PATHS, 0, 0, 0, 0 },
	};
	struct evil e;
	struct sim_outcome out;

	(void)state;
	memset(&e, 0, sizeof(e));
	run_evil(steps, sizeof(steps) / sizeof(steps[0]), &e, &out);
	if (out.failed)
		print_error("%s\n", out.why);
	assert_false(out.failed);
	assert_true(out.conflicts >= 1);

	memset(&e, 0, sizeof(e));
	e.drop_conflicts = true;
	run_evil(steps, sizeof(steps) / sizeof(steps[0]), &e, &out);
	assert_true(out.failed);
	assert_int_equal(out.step, sizeof(steps) / sizeof(steps[0]));
	assert_non_null(strstr(out.why, "lost edit: token w000001w"));
	assert_non_null(strstr(out.why, "file: body line, step 2"));
}

/*
 * Eleven projects, synced, then most deleted at once: the guard trips
 * (and the user lets it through). An env whose passes never guard is
 * caught by the recomputed rule.
 */
static void
test_guard_check(void **state)
{
	struct sim_step steps[16];
	struct evil e;
	struct sim_outcome out;
	size_t n = 0;

	(void)state;
	for (uint32_t k = 0; k < 11; k++) {
		struct sim_step s = { SIM_FILE_CREATE, 0, 3 * k + 1, k, k << 4 };

		steps[n++] = s;
	}
	steps[n++] = (struct sim_step){ SIM_PASS_FULL, 0, 0, 0, 0 };
	steps[n++] = (struct sim_step){ SIM_GIT_CHECKOUT, 0, 0, 0, 0 };
	steps[n++] = (struct sim_step){ SIM_PASS_PATHS, 0, 0, 0, 0 };
	steps[n++] = (struct sim_step){ SIM_PASS_PATHS, 0, 0, 0, 0 };

	memset(&e, 0, sizeof(e));
	run_evil(steps, n, &e, &out);
	if (out.failed)
		print_error("%s\n", out.why);
	assert_false(out.failed);
	assert_int_equal(out.guard_trips, 1);

	memset(&e, 0, sizeof(e));
	e.no_guard = true;
	run_evil(steps, n, &e, &out);
	assert_true(out.failed);
	assert_int_equal(out.step, 13);
	assert_non_null(strstr(out.why, "should have tripped"));
	assert_non_null(strstr(out.why, "of 11 projects"));
}

/*
 * SIM_HIST_SHRINK=<seed> [SIM_HIST_MACHINES=n]: a greedy shrink of that
 * seed's history (one step at a time, while it still fails), printed.
 * For reading failures; the driver's sim_shrink() is the real one.
 */
static void
test_shrink_seed(void **state)
{
	const char *v = getenv("SIM_HIST_SHRINK");
	struct sim_gen_opts go = { 50, true, 1 };
	struct sim_history h;
	struct sim_outcome out;
	uint64_t seed;
	char kind[32];
	bool again = true;

	(void)state;
	if (v == NULL)
		skip();
	seed = strtoull(v, NULL, 10);
	go.nmachines = (int)env_ulong("SIM_HIST_MACHINES", 1 + seed % 2);
	go.steps = env_ulong("SIM_HIST_STEPS", 50);
	sim_gen(seed, &go, &h);
	assert_int_equal(run_one(&h, go.nmachines, seed % 4 == 3, &out), 0);
	if (!out.failed)
		skip();
	/* the same failure: its first words */
	snprintf(kind, sizeof(kind), "%.24s", out.why);
	while (again) {
		again = false;
		for (size_t i = h.n; i-- > 0;) {
			struct sim_step cut = h.steps[i];

			memmove(&h.steps[i], &h.steps[i + 1], (h.n - i - 1) *
			    sizeof(*h.steps));
			h.n--;
			assert_int_equal(run_one(&h, go.nmachines, seed % 4 == 3,
			    &out), 0);
			if (out.failed && strncmp(out.why, kind,
			    strlen(kind)) == 0) {
				again = true;
				continue;
			}
			memmove(&h.steps[i + 1], &h.steps[i], (h.n - i) *
			    sizeof(*h.steps));
			h.steps[i] = cut;
			h.n++;
		}
	}
	setenv("SIM_HIST_DUMP", "1", 1);
	assert_int_equal(run_one(&h, go.nmachines, seed % 4 == 3, &out), 0);
	print_error("seed %" PRIu64 " shrunk to %zu steps: step %zu: %s\n",
	    seed, h.n, out.step, out.why);
	print_history(&h, &out);
	sim_history_free(&h);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_gen_is_deterministic),
	cmocka_unit_test(test_gen_mix),
	cmocka_unit_test(test_step_describe),
	cmocka_unit_test(test_oracle_tokens),
	cmocka_unit_test(test_oracle_scan_doc_skips_slug),
	cmocka_unit_test(test_guard_rule),
	cmocka_unit_test(test_plan_changes),
	cmocka_unit_test(test_random_histories),
	cmocka_unit_test(test_regression_keep_doc_before_overwrite),
	cmocka_unit_test(test_regression_move_line_crash),
	cmocka_unit_test(test_env_same),
	cmocka_unit_test(test_subsequences_run),
	cmocka_unit_test(test_oracle_catches_lost_edit),
	cmocka_unit_test(test_guard_check),
	cmocka_unit_test(test_shrink_seed),
};

ES_TEST_MAIN(tests)
