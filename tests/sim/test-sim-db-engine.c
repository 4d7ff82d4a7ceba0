/*
 * The engine's own passes (es_pass_run()) over the simulated database
 * (tests/sim/sim-db.c, issue 17), with a real temporary folder for the
 * file side: what the engine writes and reads through the seam comes out
 * as the real store would give it, in both compare-and-swap forms.
 */
#include "es-test.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/engine.h"
#include "execsync/world.h"
#include "execsync/xmalloc.h"

#include "sim-internal.h"

#define T0	1700000000000LL

struct epass {
	char		 root[64];
	struct sim_db	*db;
	int64_t		 now;
	size_t		 lost_races;
	int		 races;
};

static void
ep_put(const struct epass *e, const char *rel, const char *text)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->root, rel);
	for (slash = strchr(path + strlen(e->root) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static char *
ep_get(const struct epass *e, const char *rel)
{
	static char buf[4096];
	char path[256];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->root, rel);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* One es_pass_run() on e's folder and database; its plan's size. */
static size_t
ep_pass(struct epass *e, enum es_trigger_kind kind)
{
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_trigger t;
	struct es_world w;
	struct es_store *store;
	struct es_baseline *b;
	struct es_error err;
	int fd = open(e->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n;

	assert_true(fd >= 0);
	/* Never contacted: its table is replaced by the simulation's. */
	store = es_store_open("mongodb://127.0.0.1:1", "none", 100, &err);
	assert_non_null(store);
	assert_non_null(b = es_baseline_open_root(e->root, &err));
	memset(&o, 0, sizeof(o));
	o.root = e->root;
	o.root_fd = fd;
	o.user_id = SIM_USER;
	o.policy = ES_POLICY_NEWEST;
	o.max_delete = 50;
	memset(&t, 0, sizeof(t));
	t.kind = kind;
	es_world_real_init(&w, fd, b, store);
	sim_db_world(e->db, 0, NULL, &w.db);
	es_world_clock_fixed(&w, &e->now);
	es_engine_result_init(&r);
	if (es_pass_run(&o, &w, &t, &r, &err) < 0)
		fail_msg("pass: %s", err.msg);
	for (size_t i = 0; i < r.nerrors; i++)
		fail_msg("pass: %s: %s", r.errors[i].path, r.errors[i].msg);
	n = r.plan.n;
	e->lost_races += r.lost_races;
	es_engine_result_release(&r);
	es_baseline_free(b);
	es_store_free(store);
	close(fd);
	e->now += 60000;
	return n;
}

static int
count_doc(const bson_t *doc, void *ud)
{
	(void)doc;
	++*(int *)ud;
	return 0;
}

static int
pick_first(const bson_t *doc, void *ud)
{
	*(bson_t **)ud = bson_copy(doc);
	return 1;
}

/* The one project document's field k, set to v when v is not NULL. */
static const char *
ep_project(struct epass *e, const char *k, const char *v)
{
	struct es_error err;
	bson_t *d;
	bson_iter_t it;
	bson_oid_t id;
	static char buf[512];

	d = NULL;
	assert_int_equal(sim_db_api_each(e->db, ES_KIND_PROJECT, pick_first,
	    &d, &err), 0);
	assert_non_null(d);
	assert_true(bson_iter_init_find(&it, d, "_id"));
	bson_oid_copy(bson_iter_oid(&it), &id);
	buf[0] = '\0';
	if (bson_iter_init_find(&it, d, k) && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(buf, sizeof(buf), "%s", bson_iter_utf8(&it, NULL));
	if (v != NULL) {
		bson_t *n = bson_new();

		bson_iter_init(&it, d);
		while (bson_iter_next(&it))
			if (strcmp(bson_iter_key(&it), k) == 0)
				BSON_APPEND_UTF8(n, k, v);
			else if (strcmp(bson_iter_key(&it), "updated_at") == 0)
				BSON_APPEND_DATE_TIME(n, "updated_at",
				    e->now);
			else
				bson_append_iter(n, NULL, 0, &it);
		assert_int_equal(sim_db_api_replace(e->db, ES_KIND_PROJECT, n,
		    &err), 0);
		bson_destroy(n);
	}
	bson_destroy(d);
	return buf;
}

/* The race hook: the API retitles while the engine's CAS is on its way. */
static void
api_retitles(void *ud, enum es_kind kind, const bson_oid_t *id)
{
	struct epass *e = ud;

	(void)id;
	assert_int_equal(kind, ES_KIND_PROJECT);
	e->races++;
	e->now++;
	ep_project(e, "title", "Alpha Race");
}

static void
test_sim_db_engine_passes(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct epass e;
		struct es_error err;
		int n;
		char *rm;

		memset(&e, 0, sizeof(e));
		snprintf(e.root, sizeof(e.root), "/tmp/test-sim-db.XXXXXX");
		assert_non_null(mkdtemp(e.root));
		e.db = sim_db_new(&e.now);
		e.now = T0;
		sim_db_set_ferretdb(e.db, f == 1);
		ep_put(&e, "10k-projects/active/work/alpha.md",
		    "---\narea: Work\ntitle: Alpha\n---\nalpha body\n");
		ep_put(&e, "00k-next-actions/contexts/@home.md",
		    "- [ ] Buy milk\n");
		/* First pass: both into the database. */
		assert_true(ep_pass(&e, ES_TRIGGER_ORDINARY) > 0);
		assert_string_equal(ep_project(&e, "title", NULL), "Alpha");
		n = 0;
		sim_db_api_each(e.db, ES_KIND_ACTION, count_doc, &n, &err);
		assert_int_equal(n, 1);
		assert_int_equal(ep_pass(&e, ES_TRIGGER_ORDINARY), 0);
		/* The API retitles: the file follows. */
		ep_project(&e, "title", "Alpha Prime");
		assert_true(ep_pass(&e, ES_TRIGGER_ORDINARY) > 0);
		assert_non_null(strstr(ep_get(&e, "10k-projects/active/work/"
		    "alpha.md"), "title: Alpha Prime"));
		assert_int_equal(ep_pass(&e, ES_TRIGGER_FULL), 0);
		/* The file's body changes: a compare-and-swap update. */
		ep_put(&e, "10k-projects/active/work/alpha.md",
		    "---\narea: Work\ntitle: Alpha Prime\n---\nnew body\n");
		assert_true(ep_pass(&e, ES_TRIGGER_FULL) > 0);
		assert_string_equal(ep_project(&e, "content", NULL),
		    "new body\n");
		assert_int_equal(ep_pass(&e, ES_TRIGGER_ORDINARY), 0);
		/* The API retitles within the engine's next CAS. */
		ep_put(&e, "10k-projects/active/work/alpha.md",
		    "---\narea: Work\ntitle: Alpha Prime\n---\nthird\n");
		sim_db_set_race(e.db, api_retitles, &e);
		e.races = 0;
		ep_pass(&e, ES_TRIGGER_ORDINARY);
		assert_int_equal(e.races, 1);
		ep_pass(&e, ES_TRIGGER_ORDINARY);
		/* Both edits kept, on both sides; then quiet. */
		assert_string_equal(ep_project(&e, "title", NULL),
		    "Alpha Race");
		assert_string_equal(ep_project(&e, "content", NULL),
		    "third\n");
		assert_string_equal(ep_get(&e,
		    "10k-projects/active/work/alpha.md"), "---\narea: Work\n"
		    "title: Alpha Race\n---\nthird\n");
		assert_int_equal(ep_pass(&e, ES_TRIGGER_FULL), 0);
		sim_db_free(e.db);
		rm = es_xasprintf("rm -rf '%s'", e.root);
		assert_int_equal(system(rm), 0);
		free(rm);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sim_db_engine_passes),
};

ES_TEST_MAIN(tests)
