/*
 * The twin's env against the simulated one on a scripted history (issue
 * 17 item 5), on the fixture's FerretDB: each step runs on both envs,
 * and after each pass the operation lists, every file of the folder and
 * every document must be the same. The generated histories of
 * `execsync-sim --twin` (sim.twin) do this at scale; this case pins the
 * env-level promises (what a pass sees of a user's save, of an API write,
 * of change and file events) with no generator in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es-itest.h"

#include "execsync/buf.h"
#include "execsync/plan.h"

#include "sim-drive.h"

#define ALPHA	"10k-projects/active/work/alpha.md"
#define GOAL	"20k-goals/run.md"

struct pair {
	struct sim_env	 s, t;	/* simulated, twin */
	struct es_itest	 it;
};

static void
pair_open(struct pair *p)
{
	struct sim_env_opts so;
	struct twin_opts to;
	struct es_error err;

	es_itest_begin(&p->it, "twin");
	memset(&so, 0, sizeof(so));
	so.nmachines = 1;
	so.start_ms = SIM_DRIVE_START_MS;
	so.cas_ferretdb = true;
	assert_int_equal(sim_env_new(&so, &p->s, &err), 0);
	memset(&to, 0, sizeof(to));
	to.uri = p->it.uri;
	to.dbname = p->it.db;
	to.nmachines = 1;
	to.start_ms = SIM_DRIVE_START_MS;
	if (twin_env_new(&to, &p->t, &err) < 0)
		fail_msg("twin: %s: %s", err.path, err.msg);
}

static void
pair_close(struct pair *p)
{
	sim_env_free(&p->s);
	twin_env_free(&p->t);	/* drops the database */
	es_store_free(p->it.store);
	free(p->it.uri);
	free(p->it.db);
}

static int
add_file(const char *rel, const void *buf, size_t len, void *ud)
{
	es_buf_addf(ud, "== %s\n%.*s\n", rel, (int)len, (const char *)buf);
	return 0;
}

static int
add_doc(const bson_t *doc, void *ud)
{
	char *j = bson_as_canonical_extended_json(doc, NULL);

	es_buf_addf(ud, "%s\n", j);
	bson_free(j);
	return 0;
}

static void
dump(struct sim_env *e, struct es_buf *out)
{
	struct es_error err;

	assert_int_equal(e->ops->each_file(e->ctx, 0, add_file, out, &err), 0);
	for (int k = ES_KIND_PROJECT; k <= ES_KIND_ACTION; k++)
		assert_int_equal(e->ops->api_each(e->ctx, (enum es_kind)k,
		    add_doc, out, &err), 0);
	assert_int_equal(e->ops->conflicts_each(e->ctx, add_doc, out, &err),
	    0);
}

/* One pass of kind tk on both envs, with their own events; compared. */
static void
pass_both(struct pair *p, enum es_trigger_kind tk, const char *what)
{
	struct sim_env *e[2] = { &p->s, &p->t };
	struct es_buf plan[2] = { ES_BUF_INIT, ES_BUF_INIT };
	struct es_buf state[2] = { ES_BUF_INIT, ES_BUF_INIT };

	for (int i = 0; i < 2; i++) {
		struct es_engine_opts o;
		struct es_engine_result r;
		struct es_trigger t;
		struct es_change *c = NULL;
		char **paths = NULL;
		size_t nc = 0, np = 0;
		struct es_error err;

		assert_int_equal(e[i]->ops->changes(e[i]->ctx, 0, &c, &nc,
		    &err), 0);
		assert_int_equal(e[i]->ops->file_events(e[i]->ctx, 0, &paths,
		    &np, &err), 0);
		memset(&o, 0, sizeof(o));
		o.policy = ES_POLICY_NEWEST;
		o.max_delete = 50;
		o.init = true;
		memset(&t, 0, sizeof(t));
		t.kind = tk;
		t.paths = (const char *const *)paths;
		t.npaths = np;
		t.changes = c;
		t.nchanges = nc;
		es_engine_result_init(&r);
		if (e[i]->ops->pass(e[i]->ctx, 0, &o, &t, &r, &err) < 0)
			fail_msg("%s: %s pass: %s: %s", what, i ? "twin" :
			    "sim", err.path, err.msg);
		for (size_t k = 0; k < r.plan.n; k++) {
			es_op_describe(&r.plan.ops[k], &plan[i]);
			es_buf_addch(&plan[i], '\n');
		}
		for (size_t k = 0; k < r.nerrors; k++)
			es_buf_addf(&plan[i], "error %s: %s\n",
			    r.errors[k].path, r.errors[k].msg);
		es_engine_result_release(&r);
		for (size_t k = 0; k < nc; k++)
			if (c[k].doc != NULL)
				bson_destroy((bson_t *)(uintptr_t)c[k].doc);
		free(c);
		for (size_t k = 0; k < np; k++)
			free(paths[k]);
		free(paths);
		dump(e[i], &state[i]);
	}
	if (strcmp(plan[0].buf, plan[1].buf) != 0)
		fail_msg("%s: plans differ\nsim:\n%stwin:\n%s", what,
		    plan[0].buf, plan[1].buf);
	if (strcmp(state[0].buf, state[1].buf) != 0)
		fail_msg("%s: states differ\nsim:\n%s\ntwin:\n%s", what,
		    state[0].buf, state[1].buf);
	if (getenv("ES_TWIN_SHOW") != NULL)
		printf("== %s\n%s%s", what, plan[1].buf, state[1].buf);
	for (int i = 0; i < 2; i++) {
		es_buf_release(&plan[i]);
		es_buf_release(&state[i]);
	}
}

static void
write_both(struct pair *p, const char *rel, const char *text,
    enum sim_save how)
{
	struct es_error err;

	assert_int_equal(p->s.ops->write_file(p->s.ctx, 0, rel, text,
	    strlen(text), how, &err), 0);
	assert_int_equal(p->t.ops->write_file(p->t.ctx, 0, rel, text,
	    strlen(text), how, &err), 0);
}

static void
advance_both(struct pair *p, int64_t ms)
{
	p->s.ops->advance(p->s.ctx, ms);
	p->t.ops->advance(p->t.ctx, ms);
}

static void
test_twin_scripted_history(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	write_both(&p, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n"
	    "created: 2025-01-02\n---\n# Alpha\n\nline one\n",
	    SIM_SAVE_IN_PLACE);
	pass_both(&p, ES_TRIGGER_ORDINARY, "first pass");
	advance_both(&p, 60000);
	pass_both(&p, ES_TRIGGER_ORDINARY, "nothing changed");
	advance_both(&p, 60000);
	write_both(&p, ALPHA, "---\narea: Work\ntitle: Alpha two\ntype: "
	    "standard\ncreated: 2025-01-02\n---\n# Alpha\n\nline one\nline "
	    "two\n", SIM_SAVE_RENAME_OVER);
	pass_both(&p, ES_TRIGGER_PATHS, "file edit, rename over");
	advance_both(&p, 60000);
	write_both(&p, GOAL, "---\ntitle: Run\ncreated: 2025-01-02\n---\n"
	    "# Run\n", SIM_SAVE_VIM_BACKUP);
	write_both(&p, ALPHA, "---\narea: Work\ntitle: Alpha three\ntype: "
	    "standard\ncreated: 2025-01-02\n---\n# Alpha\n\nline one\n",
	    SIM_SAVE_DELETE_CREATE);
	pass_both(&p, ES_TRIGGER_CHANGES, "a goal, delete and create");
	advance_both(&p, 60000);
	pass_both(&p, ES_TRIGGER_FULL, "full");
	pair_close(&p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twin_scripted_history),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, es_itest_group_setup,
	    es_itest_group_teardown);
}
