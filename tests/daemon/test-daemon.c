/*
 * execsyncd end to end (issue 16, label daemon): the real daemon binary in
 * the background on real temporary folders, against the real server (the
 * fixture's FerretDB, or a private one a case stops and starts), with the
 * API peer changing documents. The harness is daemon-harness.h: every wait
 * is on a condition with a deadline; the teardown kills what runs and
 * prints the daemons' logs.
 */
#include "daemon-harness.h"
#include "daemon-wire.h"

#include <mongoc/mongoc.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/xmalloc.h"

#define ALPHA	"10k-projects/active/work/alpha.md"
#define BETA	"10k-projects/active/work/beta.md"

/* A generous bound for one change to cross: the usual is well under 1 s. */
#define SYNC_MS	15000

static char *
alpha(const char *body)
{
	return project_text("Alpha", "Work", body);
}

static void
put_alpha(struct dt *t, int i, const char *body)
{
	char *s = alpha(body);

	put_at(t, i, ALPHA, s);
	free(s);
}

/* Writes path whole: a new file, or in place (same inode) when it exists. */
static void
write_path(const char *path, const char *s, size_t split)
{
	size_t len = strlen(s);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	/* Two writes, as an editor flushing its buffer in pieces. */
	if (split > len)
		split = len;
	if (write(fd, s, split) != (ssize_t)split ||
	    write(fd, s + split, len - split) != (ssize_t)(len - split))
		fail_msg("write %s: %s", path, strerror(errno));
	if (close(fd) == -1)
		fail_msg("close %s: %s", path, strerror(errno));
}

static char *
abs_path(const struct dt *t, int i, const char *rel)
{
	return es_xasprintf("%s/%s", t->root[i], rel);
}

static void
remove_rel(const struct dt *t, int i, const char *rel)
{
	char *p = abs_path(t, i, rel);

	if (unlink(p) == -1)
		fail_msg("unlink %s: %s", p, strerror(errno));
	free(p);
}

/* ---- 1. a saved file reaches the database ---- */

static void
test_saved_file_reaches_database(void **state)
{
	struct dt *t = *state;
	bson_t doc;
	int64_t ms;

	dt_begin(t, "d_save", NULL);
	d_up(t, 0);
	assert_true(db_doc(t, "projects", "base-camp", &doc));
	bson_destroy(&doc);
	put_alpha(t, 0, "# Alpha\n\nfirst save\n");
	ms = wait_doc(t, "projects", "alpha", "content", "first save",
	    SYNC_MS);
	print_message("file -> database: %lld ms\n", (long long)ms);
	wait_doc(t, "projects", "alpha", "area", "Work", 1000);
	wait_doc(t, "projects", "alpha", "folder", "active", 1000);
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 1);
}

struct ops_want {
	double	 n;
};

static bool
ops_reached(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct ops_want *o = ud;
	double v = d_ops_to_db(t, 0);

	snprintf(why, whysz, "%s = %g", OPS_METRIC, v);
	return v >= o->n;
}

/* ---- 2. an API change rewrites the file (and moves it) ---- */

static void
test_api_change_rewrites_file(void **state)
{
	struct dt *t = *state;
	struct ops_want o;
	double ops0;
	int64_t ms;

	dt_begin(t, "d_api", NULL);
	put_alpha(t, 0, "# Alpha\n\nfrom the file\n");
	d_up(t, 0);
	wait_doc(t, "projects", "alpha", "content", "from the file", SYNC_MS);
	d_settle(t, 0, SYNC_MS);
	ops0 = d_ops_to_db(t, 0);
	peer(&t->w, "update-project", "{\"slug\":\"alpha\",\"set\":"
	    "{\"due\":\"2026-05-01\",\"content\":\"# Alpha\\n\\nfrom the "
	    "api\\n\"}}");
	ms = wait_file(t, 0, ALPHA, "due: 2026-05-01", SYNC_MS);
	print_message("database -> file: %lld ms\n", (long long)ms);
	wait_file(t, 0, ALPHA, "from the api", 1000);
	/*
	 * Its own write does not come back as a change: a save of the same
	 * file after it is the first operation toward the database.
	 */
	d_settle(t, 0, SYNC_MS);
	put_alpha(t, 0, "# Alpha\n\nfrom the api\n\nand the file\n");
	wait_doc(t, "projects", "alpha", "content", "and the file", SYNC_MS);
	o.n = ops0 + 1;
	dt_wait(t, "the save counted", SYNC_MS, 30, ops_reached, &o);
	d_settle(t, 0, SYNC_MS);
	if (d_ops_to_db(t, 0) != ops0 + 1)
		fail_msg("%g operations toward the database after an API "
		    "change and one save, want 1 (its own write came back?)",
		    d_ops_to_db(t, 0) - ops0);
	/* The API completes it: the file moves to completed/. */
	peer(&t->w, "complete-project", "{\"slug\":\"alpha\","
	    "\"date\":\"2026-01-15\"}");
	wait_file(t, 0, "10k-projects/completed/work/alpha.md",
	    "completed: 2026-01-15", SYNC_MS);
	wait_gone(t, 0, ALPHA, SYNC_MS);
	/* A project the API creates gets its file. */
	peer(&t->w, "create-project", "{\"title\":\"From The API\","
	    "\"area\":\"Side Gig\",\"content\":\"api body\\n\"}");
	wait_file(t, 0, "10k-projects/active/side-gig/from-the-api.md",
	    "api body", SYNC_MS);
}

/* ---- 3-5. each editor save pattern is one update ---- */

enum save_kind { SAVE_IN_PLACE, SAVE_RENAME_OVER, SAVE_VIM, SAVE_SLOW };

struct passes_want {
	double	n;
};

/* The daemon has run more than w->n passes. */
static bool
passes_past(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct passes_want *w = ud;
	json_t *st = d_status(t, 0);
	double n = json_number_value(json_object_get(st, "passes"));

	json_decref(st);
	snprintf(why, whysz, "%g passes, want more than %g", n, w->n);
	return n > w->n;
}

static void
save_is_one_update(struct dt *t, enum save_kind k)
{
	bson_t doc;
	bson_oid_t id0, id1;
	struct ops_want o;
	double ops0, ops1;
	char *path, *tmp, *text, *b;
	struct stat st0, st1;

	put_alpha(t, 0, "# Alpha\n\nversion one\n");
	d_up(t, 0);
	wait_doc(t, "projects", "alpha", "content", "version one", SYNC_MS);
	assert_true(db_doc(t, "projects", "alpha", &doc));
	es_itest_oid(&doc, "_id", &id0);
	bson_destroy(&doc);
	ops0 = d_ops_to_db(t, 0);
	path = abs_path(t, 0, ALPHA);
	text = alpha("# Alpha\n\nversion two, saved by an editor\n");
	assert_int_equal(stat(path, &st0), 0);
	switch (k) {
	case SAVE_IN_PLACE:
		write_path(path, text, 20);
		assert_int_equal(stat(path, &st1), 0);
		assert_true(st0.st_ino == st1.st_ino);
		break;
	case SAVE_RENAME_OVER:
		/* gedit, VS Code, most tools: a temp file renamed over. */
		tmp = abs_path(t, 0, "10k-projects/active/work/.alpha.md.tmp");
		write_path(tmp, text, 20);
		if (rename(tmp, path) == -1)
			fail_msg("rename %s: %s", tmp, strerror(errno));
		free(tmp);
		break;
	case SAVE_VIM:
		/* vim (backupcopy=no): rename to file~, write, unlink. */
		tmp = es_xasprintf("%s~", path);
		if (rename(path, tmp) == -1)
			fail_msg("rename %s: %s", path, strerror(errno));
		write_path(path, text, 20);
		if (unlink(tmp) == -1)
			fail_msg("unlink %s: %s", tmp, strerror(errno));
		free(tmp);
		break;
	case SAVE_SLOW: {
		/*
		 * An editor that deletes, then creates, slower than the
		 * debounce: a pass runs in between, and must not take the
		 * save for a delete (a soft delete and an "alpha-2").
		 */
		json_t *st = d_status(t, 0);
		struct passes_want pw;

		pw.n = json_number_value(json_object_get(st, "passes"));
		json_decref(st);
		if (unlink(path) == -1)
			fail_msg("unlink %s: %s", path, strerror(errno));
		dt_wait(t, "a pass while the file is gone", SYNC_MS, 20,
		    passes_past, &pw);
		d_settle(t, 0, SYNC_MS);
		write_path(path, text, 20);
		break;
	}
	}
	wait_doc(t, "projects", "alpha", "content", "version two", SYNC_MS);
	/*
	 * A barrier: a second file saved after the pattern. Its update comes
	 * after any the pattern caused (events in order, the pattern's path
	 * due first), so when it has been counted, so have they.
	 */
	b = project_text("Beta", "Work", "# Beta\n\nthe barrier\n");
	put_at(t, 0, BETA, b);
	free(b);
	wait_doc(t, "projects", "beta", "content", "the barrier", SYNC_MS);
	o.n = ops0 + 2;
	dt_wait(t, "the two updates counted", SYNC_MS, 30, ops_reached, &o);
	d_settle(t, 0, SYNC_MS);
	ops1 = d_ops_to_db(t, 0);
	if (ops1 != ops0 + 2)
		fail_msg("the save gave %g operations toward the database, "
		    "want 1 (and 1 for the barrier)", ops1 - ops0 - 1);
	/* The same document, updated: no delete and create. */
	assert_true(db_doc(t, "projects", "alpha", &doc));
	es_itest_oid(&doc, "_id", &id1);
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_true(bson_oid_equal(&id0, &id1));
	assert_int_equal(count_docs(&t->w, "projects"), SEED_PROJECTS + 2);
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 2);
	free(path);
	free(text);
}

static void
test_save_in_place_is_one_update(void **state)
{
	struct dt *t = *state;

	dt_begin(t, "d_inplace", NULL);
	save_is_one_update(t, SAVE_IN_PLACE);
}

static void
test_save_rename_over_is_one_update(void **state)
{
	struct dt *t = *state;

	dt_begin(t, "d_renover", NULL);
	save_is_one_update(t, SAVE_RENAME_OVER);
}

static void
test_save_vim_backup_is_one_update(void **state)
{
	struct dt *t = *state;

	dt_begin(t, "d_vim", NULL);
	save_is_one_update(t, SAVE_VIM);
}

static void
test_save_slow_delete_create(void **state)
{
	struct dt *t = *state;

	dt_begin(t, "d_slow", NULL);
	save_is_one_update(t, SAVE_SLOW);
}

/*
 * A file really deleted: once the daemon's grace for a delete (an editor
 * may be about to write it again) is over, the document is soft-deleted
 * (SPEC 4.5), and only that one.
 */
static void
test_deleted_file_soft_deletes(void **state)
{
	struct dt *t = *state;
	char *path;

	dt_begin(t, "d_delete", NULL);
	put_alpha(t, 0, "# Alpha\n\nto be deleted\n");
	d_up(t, 0);
	wait_doc(t, "projects", "alpha", "content", "to be deleted", SYNC_MS);
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 1);
	path = abs_path(t, 0, ALPHA);
	if (unlink(path) == -1)
		fail_msg("unlink %s: %s", path, strerror(errno));
	free(path);
	wait_live_count(t, "projects", SEED_PROJECTS, SYNC_MS);
	assert_int_equal(count_docs(&t->w, "projects"), SEED_PROJECTS + 1);
}

/*
 * A server with neither a change stream nor an OpLog: the daemon polls
 * with the since-query (issue 16 item 3), names the source "poll" with
 * its interval, and an API change still reaches its file.
 */
static bool
source_is_poll(struct dt *t, void *ud, char *why, size_t whysz)
{
	json_t *st = d_status(t, 0), *src = json_object_get(st,
	    "change_source");
	const char *kind = json_string_value(json_object_get(src, "kind"));
	double tick = json_number_value(json_object_get(src, "tick_ms"));
	bool yes = kind != NULL && strcmp(kind, "poll") == 0 && tick >= 200;

	(void)ud;
	snprintf(why, whysz, "source %s, tick %g ms", kind ? kind : "none",
	    tick);
	json_decref(st);
	return yes;
}

static void
test_poll_source_syncs(void **state)
{
	struct dt *t = *state;
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	mongoc_client_t *c;
	mongoc_collection_t *op;
	bson_error_t be;
	bson_t doc;

	if (env != NULL && env[0] != '\0') {
		print_message("skipped: needs a server of its own "
		    "(EXECSYNC_TEST_MONGODB_URI is set)\n");
		skip();
	}
	dt_server_start(t);
	c = mongoc_client_new(getenv("EXECSYNC_TEST_MONGODB_URI"));
	op = mongoc_client_get_collection(c, "local", "oplog.rs");
	if (!mongoc_collection_drop(op, &be))
		fail_msg("drop local.oplog.rs: %s", be.message);
	mongoc_collection_destroy(op);
	mongoc_client_destroy(c);
	dt_begin(t, "d_poll", NULL);
	d_up(t, 0);
	dt_wait(t, "the poll source, its interval set", SYNC_MS, 50,
	    source_is_poll, NULL);
	assert_true(es_itest_peer(&t->w.t, "update-project",
	    "{\"slug\":\"base-camp\",\"set\":{\"content\":"
	    "\"# Base camp\\n\\nfound by a poll\\n\"}}", &doc));
	bson_destroy(&doc);
	wait_file(t, 0, "10k-projects/active/home/base-camp.md",
	    "found by a poll", SYNC_MS);
}

/* ---- 6. a new folder with files inside is picked up ---- */

static void
test_new_folder_is_picked_up(void **state)
{
	struct dt *t = *state;
	char *s, *outside, *from, *to;

	dt_begin(t, "d_newdir", NULL);
	d_up(t, 0);
	/* mkdir, then a file in it right away. */
	put_at(t, 0, "10k-projects/active/new-area/fresh-start.md",
	    s = project_text("Fresh Start", "New Area", "born in a new "
	    "folder\n"));
	free(s);
	put_at(t, 0, "30k-goals/active/health/run-a-marathon.md",
	    "---\ntitle: Run A Marathon\ntype: goal\n---\nin a new goal "
	    "folder\n");
	/* A folder made elsewhere, with files, moved in whole. */
	outside = es_xasprintf("%s/outside", t->w.tmp);
	if (mkdir(outside, 0755) == -1)
		fail_msg("mkdir %s: %s", outside, strerror(errno));
	{
		struct world o = dt_at(t, 0);

		o.root = outside;
		put(&o, "moved-area/moved-in.md", s = project_text("Moved In",
		    "Moved Area", "moved in whole\n"));
		free(s);
		put(&o, "moved-area/moved-too.md", s = project_text(
		    "Moved Too", "Moved Area", "moved in as well\n"));
		free(s);
	}
	from = es_xasprintf("%s/moved-area", outside);
	to = abs_path(t, 0, "10k-projects/active/moved-area");
	if (rename(from, to) == -1)
		fail_msg("rename %s: %s", from, strerror(errno));
	wait_doc(t, "projects", "fresh-start", "content", "born in a new",
	    SYNC_MS);
	wait_doc(t, "projects", "fresh-start", "area", "New Area", 1000);
	wait_doc(t, "goals", "run-a-marathon", "content", "in a new goal",
	    SYNC_MS);
	wait_doc(t, "projects", "moved-in", "content", "moved in whole",
	    SYNC_MS);
	wait_doc(t, "projects", "moved-too", "content", "moved in as well",
	    SYNC_MS);
	/* And a file saved later in the moved folder: it is watched. */
	put_at(t, 0, "10k-projects/active/moved-area/later.md",
	    s = project_text("Later", "Moved Area", "saved later\n"));
	free(s);
	wait_doc(t, "projects", "later", "content", "saved later", SYNC_MS);
	free(outside);
	free(from);
	free(to);
}

/* ---- 7. a 1,000-file burst converges ---- */

/*
 * Project files "<prefix> NNNN" for k0 <= NNNN < k0 + n, spread over ten
 * new area folders, or all in the seed's folder (home/, watched already)
 * when home.
 */
static void
write_burst(struct dt *t, const char *prefix, int k0, int n, bool home)
{
	for (int k = k0; k < k0 + n; k++) {
		char title[64], area[32], rel[128], body[64], *s;

		snprintf(title, sizeof(title), "%s %04d", prefix, k);
		if (home) {
			snprintf(area, sizeof(area), "Home");
			snprintf(rel, sizeof(rel), "10k-projects/active/home/"
			    "%s-%04d.md", prefix, k);
		} else {
			snprintf(area, sizeof(area), "Area %d", k % 10);
			snprintf(rel, sizeof(rel), "10k-projects/active/"
			    "area-%d/%s-%04d.md", k % 10, prefix, k);
		}
		for (char *p = rel + 20; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(body, sizeof(body), "burst body %d\n", k);
		put_at(t, 0, rel, s = project_text(title, area, body));
		free(s);
	}
}

static void
test_burst_of_1000_files_converges(void **state)
{
	struct dt *t = *state;
	int64_t t0;

	dt_begin(t, "d_burst", NULL);
	d_up(t, 0);
	t0 = es_itest_mono_ms();
	write_burst(t, "burst", 0, 1000, false);
	wait_live_count(t, "projects", SEED_PROJECTS + 1000, 240000);
	print_message("1,000 files -> database: %lld ms\n",
	    (long long)(es_itest_mono_ms() - t0));
	wait_doc(t, "projects", "burst-0000", "content", "burst body 0",
	    1000);
	wait_doc(t, "projects", "burst-0999", "content", "burst body 999",
	    1000);
	assert_int_equal(count_docs(&t->w, "projects"), SEED_PROJECTS + 1000);
	/* A save after the burst still goes through at once. */
	put_alpha(t, 0, "# Alpha\n\nafter the burst\n");
	wait_doc(t, "projects", "alpha", "content", "after the burst",
	    SYNC_MS);
}

/* ---- 8. kill -9 in the middle of a burst, restart: converges ---- */

static bool
some_synced(struct dt *t, void *ud, char *why, size_t whysz)
{
	size_t n = live_count(t, "projects");

	(void)ud;
	snprintf(why, whysz, "%zu live projects", n);
	return n > SEED_PROJECTS;
}

/* Whether root 0's daemon is in a pass now (/status last_pass.running). */
static bool
in_a_pass(struct dt *t)
{
	json_t *st = d_status(t, 0);
	bool yes = json_is_true(json_object_get(json_object_get(st,
	    "last_pass"), "running"));

	json_decref(st);
	return yes;
}

static void
test_kill_9_mid_burst_converges(void **state)
{
	struct dt *t = *state;
	int64_t deadline;
	size_t at_kill;
	bool caught = false;
	int rc;

	dt_begin(t, "d_kill9", NULL);
	d_up(t, 0);
	/* The burst: files, and documents the API makes meanwhile. */
	write_burst(t, "kill", 0, 300, false);
	dt_wait(t, "the burst under way", 60000, 20, some_synced, NULL);
	peer(&t->w, "create-project", "{\"title\":\"Api One\","
	    "\"area\":\"Work\",\"content\":\"one\\n\"}");
	write_burst(t, "kill", 300, 300, false);
	peer(&t->w, "create-project", "{\"title\":\"Api Two\","
	    "\"area\":\"Work\",\"content\":\"two\\n\"}");
	/* Killed in a pass when one is seen running (else at once). */
	deadline = es_itest_mono_ms() + 5000;
	while (!(caught = in_a_pass(t)) && es_itest_mono_ms() < deadline)
		es_poll_pause(2);
	es_proc_signal(&t->d[0], SIGKILL);
	rc = es_proc_wait(&t->d[0], 10000);
	assert_int_equal(rc, 128 + SIGKILL);
	at_kill = live_count(t, "projects") - SEED_PROJECTS;
	print_message("killed %s with %zu of 602 in the database\n",
	    caught ? "in a pass" : "between passes", at_kill);
	/* The rest of the burst, and both sides, while it is down. */
	write_burst(t, "kill", 600, 400, false);
	peer(&t->w, "create-project", "{\"title\":\"While Down\","
	    "\"area\":\"Work\",\"content\":\"made while down\\n\"}");
	put_alpha(t, 0, "# Alpha\n\nsaved while down\n");
	d_start(t, 0);
	d_wait_health(t, 0, 200, NULL, 30000);
	wait_live_count(t, "projects", SEED_PROJECTS + 1000 + 4, 240000);
	wait_file(t, 0, "10k-projects/active/work/api-one.md", "one",
	    SYNC_MS);
	wait_file(t, 0, "10k-projects/active/work/api-two.md", "two",
	    SYNC_MS);
	wait_file(t, 0, "10k-projects/active/work/while-down.md",
	    "made while down", SYNC_MS);
	wait_doc(t, "projects", "alpha", "content", "saved while down",
	    SYNC_MS);
	wait_doc(t, "projects", "kill-0999", "content", "burst body 999",
	    SYNC_MS);
	/* Nothing twice, no temporary file of the tool left behind. */
	assert_int_equal(count_docs(&t->w, "projects"), SEED_PROJECTS + 1004);
	assert_int_equal(count_matching(t, 0, ".*.execsync-*"), 0);
	assert_int_equal(count_matching(t, 0, "*-2.md"), 0);
}

/* ---- 9. the server stopped for 10 s, restarted: nothing lost ---- */

struct outage {
	int64_t	 until;
};

/* Holds once the outage has lasted; fails when the daemon says healthy. */
static bool
outage_over(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct outage *o = ud;
	struct es_buf ans = ES_BUF_INIT;
	int st;

	if (!es_proc_running(&t->d[0]))
		fail_msg("the daemon exited in the outage (status %d)",
		    t->d[0].status);
	st = d_http(t, 0, "GET", "/healthz", NULL, &ans);
	if (st != 503)
		fail_msg("in the outage /healthz answered %d: %s", st,
		    ans.buf);
	snprintf(why, whysz, "503");
	es_buf_release(&ans);
	return es_itest_mono_ms() >= o->until;
}

static void
test_server_outage_loses_nothing(void **state)
{
	struct dt *t = *state;
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	struct outage o;
	char *s;

	if (env != NULL && env[0] != '\0') {
		print_message("skipped: needs a server of its own "
		    "(EXECSYNC_TEST_MONGODB_URI is set)\n");
		skip();
	}
	dt_server_start(t);
	dt_begin(t, "d_outage", NULL);
	d_up(t, 0);
	put_alpha(t, 0, "# Alpha\n\nbefore the outage\n");
	wait_doc(t, "projects", "alpha", "content", "before the outage",
	    SYNC_MS);
	dt_server_stop(t);
	o.until = es_itest_mono_ms() + 10000;
	d_wait_health(t, 0, 503, "database", 20000);
	put_alpha(t, 0, "# Alpha\n\nsaved in the outage\n");
	put_at(t, 0, "10k-projects/active/work/gamma.md", s = project_text(
	    "Gamma", "Work", "born in the outage\n"));
	free(s);
	dt_wait(t, "ten seconds of outage, 503 throughout", 20000, 100,
	    outage_over, &o);
	dt_server_start(t);
	d_wait_health(t, 0, 200, NULL, 60000);
	wait_doc(t, "projects", "alpha", "content", "saved in the outage",
	    60000);
	wait_doc(t, "projects", "gamma", "content", "born in the outage",
	    SYNC_MS);
	assert_true(es_proc_running(&t->d[0]));
	/* And it syncs as before. */
	put_alpha(t, 0, "# Alpha\n\nafter the outage\n");
	wait_doc(t, "projects", "alpha", "content", "after the outage",
	    SYNC_MS);
}

/* ---- 10. two daemons on two roots, one database, converge ---- */

static void
test_two_daemons_converge(void **state)
{
	struct dt *t = *state;
	int b;
	char *s;

	dt_begin(t, "d_two", NULL);
	b = dt_add_root(t, NULL);
	d_up(t, 0);
	d_up(t, b);
	/* The same seed on both: matched, never doubled (SPEC 4.17). */
	assert_int_equal(count_docs(&t->w, "projects"), SEED_PROJECTS);
	put_alpha(t, 0, "# Alpha\n\nwritten in root a\n");
	wait_file(t, b, ALPHA, "written in root a", SYNC_MS);
	put_alpha(t, b, "# Alpha\n\nwritten in root a\n\nand edited in "
	    "root b\n");
	wait_file(t, 0, ALPHA, "edited in root b", SYNC_MS);
	/* An action added in one list reaches the other root's list. */
	s = get_at(t, 0, "00k-next-actions/contexts/@home.md");
	assert_non_null(s);
	{
		char *more = es_xasprintf("%s- [ ] 2025-01-03 Fix the gate "
		    "@home\n", s);

		put_at(t, 0, "00k-next-actions/contexts/@home.md", more);
		free(more);
	}
	free(s);
	wait_file(t, b, "00k-next-actions/contexts/@home.md", "Fix the gate",
	    SYNC_MS);
	/* An API change reaches both. */
	peer(&t->w, "update-project", "{\"slug\":\"alpha\",\"set\":"
	    "{\"due\":\"2026-07-01\"}}");
	wait_file(t, 0, ALPHA, "due: 2026-07-01", SYNC_MS);
	wait_file(t, b, ALPHA, "due: 2026-07-01", SYNC_MS);
	assert_int_equal(count_docs(&t->w, "projects"), SEED_PROJECTS + 1);
	assert_int_equal(count_docs(&t->w, "actions"), 2);
}

/* ---- 11. a tripped deletion guard; --once --max-delete 100 ---- */

static void
test_deletion_guard_and_once_release(void **state)
{
	struct dt *t = *state;
	static const char *const once[] = { "--once", "--max-delete", "100",
	    NULL };
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	char rel[128];
	bson_t doc;
	int rc;

	dt_begin(t, "d_guard", NULL);
	for (int k = 0; k < 12; k++) {
		char title[32], *s;

		snprintf(title, sizeof(title), "Guard %02d", k);
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "guard-%02d.md", k);
		put_at(t, 0, rel, s = project_text(title, "Work", "kept\n"));
		free(s);
	}
	d_up(t, 0);
	wait_live_count(t, "projects", SEED_PROJECTS + 12, SYNC_MS);
	/* 10 of 13 gone: over the 50% guard. */
	for (int k = 0; k < 10; k++) {
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "guard-%02d.md", k);
		remove_rel(t, 0, rel);
	}
	d_wait_health(t, 0, 503, "deletion guard", SYNC_MS);
	assert_true(es_proc_running(&t->d[0]));
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 12);
	/* Handed to the daemon, which runs it with the flag. */
	rc = d_run(t, 0, once, &out, &err);
	print_message("execsyncd --once --max-delete 100: exit %d\nstdout: "
	    "%s\nstderr: %s\n", rc, out.buf ? out.buf : "", err.buf ?
	    err.buf : "");
	assert_int_equal(rc, 0);
	assert_true(contains(err.buf, "a daemon holds the folder"));
	wait_live_count(t, "projects", SEED_PROJECTS + 2, SYNC_MS);
	assert_true(db_doc(t, "projects", "guard-00", &doc));
	assert_true(doc_deleted(&doc));
	bson_destroy(&doc);
	d_wait_health(t, 0, 200, NULL, SYNC_MS);
	assert_true(es_proc_running(&t->d[0]));
	es_buf_release(&out);
	es_buf_release(&err);
}

/* ---- 12. SIGHUP with a bad config keeps it running ---- */

static void
test_sighup_bad_config_keeps_running(void **state)
{
	struct dt *t = *state;

	dt_begin(t, "d_hup", NULL);
	d_up(t, 0);
	dt_config(t, 0, "debounce_msec: 50\n");
	es_proc_signal(&t->d[0], SIGHUP);
	es_proc_wait_log(&t->d[0], "SIGHUP: the new configuration is "
	    "refused", SYNC_MS);
	assert_true(es_proc_logged(&t->d[0], "debounce_msec"));
	assert_true(es_proc_running(&t->d[0]));
	d_wait_health(t, 0, 200, NULL, 5000);
	put_alpha(t, 0, "# Alpha\n\nafter a bad reload\n");
	wait_doc(t, "projects", "alpha", "content", "after a bad reload",
	    SYNC_MS);
	/* A good one is taken. */
	dt_config(t, 0, NULL);
	es_proc_signal(&t->d[0], SIGHUP);
	es_proc_wait_log(&t->d[0], "SIGHUP: configuration reloaded", SYNC_MS);
	put_alpha(t, 0, "# Alpha\n\nafter a good reload\n");
	wait_doc(t, "projects", "alpha", "content", "after a good reload",
	    SYNC_MS);
}

/* ---- 13. a second daemon on the root is refused, naming the PID ---- */

static void
test_second_daemon_refused(void **state)
{
	struct dt *t = *state;
	char *argv[] = { (char *)ES_SYNCD_BIN, (char *)"--config", NULL,
	    NULL };
	char *log, *out, pid[32];
	int rc;

	dt_begin(t, "d_second", NULL);
	d_up(t, 0);
	argv[2] = t->cfg[0];
	log = es_xasprintf("%s/second.log", t->w.tmp);
	es_proc_start(&t->other, argv, log);
	rc = es_proc_wait(&t->other, 20000);
	out = es_proc_output(&t->other);
	print_message("second daemon: exit %d: %s\n", rc, out);
	if (rc < 0)
		fail_msg("a second daemon on the root still runs after 20 s");
	assert_int_equal(rc, 75);
	snprintf(pid, sizeof(pid), "pid %ld", (long)t->d[0].pid);
	if (strstr(out, pid) == NULL)
		fail_msg("the refusal does not name the holder (%s): %s", pid,
		    out);
	assert_true(es_proc_running(&t->d[0]));
	d_wait_health(t, 0, 200, NULL, 5000);
	put_alpha(t, 0, "# Alpha\n\nstill the first one's\n");
	wait_doc(t, "projects", "alpha", "content", "still the first one",
	    SYNC_MS);
	free(out);
	free(log);
}

/* ---- 14. /status parses as JSON, /metrics as Prometheus text ---- */

static void
test_status_and_metrics_parse(void **state)
{
	struct dt *t = *state;
	struct es_buf ans = ES_BUF_INIT;
	struct ops_want o;
	json_t *st;
	const char *kind, *why;
	char *m, *dumped;
	int port;

	dt_begin(t, "d_status", NULL);
	d_up(t, 0);
	o.n = d_ops_to_db(t, 0) + 1;
	put_alpha(t, 0, "# Alpha\n\ncounted\n");
	wait_doc(t, "projects", "alpha", "content", "counted", SYNC_MS);
	dt_wait(t, "the update counted", SYNC_MS, 30, ops_reached, &o);
	d_settle(t, 0, SYNC_MS);
	st = d_status(t, 0);
	dumped = json_dumps(st, JSON_COMPACT);
	print_message("/status: %s\n", dumped);
	assert_true(json_is_string(json_object_get(st, "version")));
	assert_string_equal(json_string_value(json_object_get(st, "status")),
	    "healthy");
	assert_true(json_is_array(json_object_get(st, "checks")));
	/* Counts per entity, from the baseline (SPEC §5). */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    st, "counts"), "projects")), SEED_PROJECTS + 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    st, "counts"), "goals")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    st, "counts"), "actions")), 1);
	kind = json_string_value(json_object_get(json_object_get(st,
	    "change_source"), "kind"));
	assert_non_null(kind);
	assert_true(strcmp(kind, "oplog") == 0 || strcmp(kind, "poll") == 0 ||
	    strcmp(kind, "change_stream") == 0);
	assert_true(json_is_integer(json_object_get(json_object_get(st,
	    "pending"), "files")));
	assert_true(json_is_integer(json_object_get(json_object_get(st,
	    "pending"), "database")));
	assert_true(json_integer_value(json_object_get(st, "passes")) >= 1);
	/* Over the socket it names the root (SPEC §5). */
	assert_non_null(strstr(dumped, t->root[0]));
	free(dumped);
	json_decref(st);
	m = d_metrics(t, 0);
	if ((why = prom_check(m)) != NULL)
		fail_msg("/metrics: %s\n%s", why, m);
	assert_non_null(strstr(m, "_bucket{"));
	free(m);
	/* On TCP: counts only, /status refused without the token. */
	port = d_tcp_port(t, 0);
	assert_int_equal(tcp_get(port, "/healthz", &ans), 200);
	assert_int_equal(tcp_get(port, "/metrics", &ans), 200);
	if ((why = prom_check(strstr(ans.buf, "\r\n\r\n") + 4)) != NULL)
		fail_msg("TCP /metrics: %s", why);
	assert_null(strstr(ans.buf, t->root[0]));
	assert_int_equal(tcp_get(port, "/status", &ans), 403);
	assert_null(strstr(ans.buf, t->root[0]));
	assert_int_equal(tcp_get(port, "/nothing-here", &ans), 404);
	es_buf_release(&ans);
}

/* ---- 15. slow and malformed clients never stall syncing ---- */

#define NSLOW	40

struct slow {
	int	 fd[NSLOW];
	int	 open;
	int64_t	 started;
};

/* One more byte to each slow client; notes the ones the server closed. */
static void
trickle(struct slow *s)
{
	char c;

	for (int k = 0; k < NSLOW; k++) {
		ssize_t r;

		if (s->fd[k] < 0)
			continue;
		r = recv(s->fd[k], &c, 1, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK) || r > 0 ||
		    send(s->fd[k], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* Closed, reset, or answered (a 408): dropped. */
			close(s->fd[k]);
			s->fd[k] = -1;
			s->open--;
		}
	}
}

static bool
alpha_synced_trickling(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct slow *s = ud;
	bson_t doc;
	char *v = NULL;
	bool ok;

	trickle(s);
	if (!db_doc(t, "projects", "alpha", &doc))
		return false;
	v = field_text(&doc, "content");
	ok = v != NULL && strstr(v, "while clients trickle") != NULL;
	snprintf(why, whysz, "content %.200s", v != NULL ? v : "-");
	free(v);
	bson_destroy(&doc);
	return ok;
}

static bool
slow_all_dropped(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct slow *s = ud;

	(void)t;
	trickle(s);
	snprintf(why, whysz, "%d of %d slow clients still connected",
	    s->open, NSLOW);
	return s->open == 0;
}

static void
test_slow_and_malformed_clients(void **state)
{
	static const char garbage[] = "BLAH\r\n\r\n";
	static const char del[] = "DELETE /healthz HTTP/1.1\r\nHost: x\r\n"
	    "\r\n";
	static const char badlen[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: banana\r\n\r\n";
	static const char bighead[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "X-Big: ";
	static const char slow[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "X-Slow: ";
	struct dt *t = *state;
	struct es_buf ans = ES_BUF_INIT;
	struct slow s;
	char *big;
	int port, st;
	int64_t ms;

	dt_begin(t, "d_slow", NULL);
	d_up(t, 0);
	port = d_tcp_port(t, 0);
	/* Malformed requests: a 4xx, or the connection closed. */
	st = tcp_exchange(port, garbage, strlen(garbage), 5000, &ans);
	print_message("garbage: %d\n", st);
	assert_true(st == 0 || (st >= 400 && st < 500));
	st = tcp_exchange(port, del, strlen(del), 5000, &ans);
	print_message("DELETE: %d\n", st);
	assert_int_equal(st, 405);	/* http.h: only GET and POST */
	big = es_xmalloc(20000);
	memset(big, 'a', 20000);
	memcpy(big, bighead, strlen(bighead));
	memcpy(big + 20000 - 4, "\r\n\r\n", 4);
	st = tcp_exchange(port, big, 20000, 5000, &ans);
	print_message("20 kB of header: %d\n", st);
	assert_int_equal(st, 431);	/* http.h: headers at most 8 KiB */
	free(big);
	st = tcp_exchange(port, badlen, strlen(badlen), 5000, &ans);
	print_message("a bad Content-Length: %d\n", st);
	assert_true(st == 0 || (st >= 400 && st < 500));
	/* Over the socket too. */
	st = d_http(t, 0, "DELETE", "/healthz", NULL, &ans);
	assert_true(st >= 400 && st < 500);
	st = d_http(t, 0, "POST", "/once", "{not json", &ans);
	assert_true(st >= 400 && st < 500);
	/* Slow clients: partial requests, a byte at a time. */
	s.open = 0;
	s.started = es_itest_mono_ms();
	for (int k = 0; k < NSLOW; k++) {
		s.fd[k] = tcp_open_nb(port);
		if (s.fd[k] >= 0) {
			(void)send(s.fd[k], slow, strlen(slow), MSG_NOSIGNAL);
			s.open++;
		}
	}
	print_message("%d slow clients connected\n", s.open);
	put_alpha(t, 0, "# Alpha\n\nwhile clients trickle\n");
	ms = dt_wait(t, "a save while slow clients trickle", SYNC_MS, 20,
	    alpha_synced_trickling, &s);
	print_message("file -> database with slow clients: %lld ms\n",
	    (long long)ms);
	if (ms > 3000)
		fail_msg("the save took %lld ms with slow clients connected",
		    (long long)ms);
	/* The socket still answers at once. */
	assert_int_equal(d_http(t, 0, "GET", "/healthz", NULL, &ans), 200);
	/* The per-request deadline drops every slow client. */
	dt_wait(t, "the slow clients dropped", 30000, 100, slow_all_dropped,
	    &s);
	print_message("slow clients dropped after %lld ms\n",
	    (long long)(es_itest_mono_ms() - s.started));
	assert_int_equal(tcp_get(port, "/healthz", &ans), 200);
	assert_true(es_proc_running(&t->d[0]));
	es_buf_release(&ans);
}

/* ---- 16. an inotify overflow: a full pass, converges ---- */

static void
test_overflow_full_pass_converges(void **state)
{
	struct dt *t = *state;
	char *m;

	dt_begin(t, "d_overflow", NULL);
	/* The queue is sized when the daemon opens inotify: low then. */
	if (!dt_inotify_lower(t, 32)) {
		print_message("skipped: cannot lower "
		    "fs.inotify.max_queued_events (not root?)\n");
		skip();
	}
	d_start(t, 0);
	d_wait_health(t, 0, 200, NULL, 30000);
	dt_inotify_restore(t);
	d_ready(t, 0);
	/*
	 * Stopped while 200 files come to a watched folder: the 32-event
	 * queue overflows.
	 */
	es_proc_signal(&t->d[0], SIGSTOP);
	write_burst(t, "flood", 0, 200, true);
	es_proc_signal(&t->d[0], SIGCONT);
	es_proc_wait_log(&t->d[0], "file events were lost", SYNC_MS);
	wait_live_count(t, "projects", SEED_PROJECTS + 200, 120000);
	d_wait_health(t, 0, 200, NULL, SYNC_MS);
	m = d_metrics(t, 0);
	if (strstr(m, "overflow") == NULL)
		fail_msg("/metrics names no overflow:\n%s", m);
	free(m);
	{
		json_t *st = d_status(t, 0);

		assert_true(json_integer_value(json_object_get(st,
		    "inotify_overflows")) >= 1);
		json_decref(st);
	}
	/* Watching again after it: a later save goes through. */
	put_alpha(t, 0, "# Alpha\n\nafter the overflow\n");
	wait_doc(t, "projects", "alpha", "content", "after the overflow",
	    SYNC_MS);
}

/* ---- 17. execsyncd --status ---- */

static void
test_status_command(void **state)
{
	struct dt *t = *state;
	static const char *const status[] = { "--status", NULL };
	static const char *const status_json[] = { "--status", "--json",
	    NULL };
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	json_t *j;
	json_error_t je;

	dt_begin(t, "d_statuscmd", NULL);
	d_up(t, 0);
	assert_int_equal(d_run(t, 0, status, &out, &err), 0);
	print_message("execsyncd --status:\n%s", out.buf);
	assert_true(contains(out.buf, "health:"));
	assert_true(contains(out.buf, "healthy"));
	assert_true(contains(out.buf, "change source:"));
	assert_int_equal(d_run(t, 0, status_json, &out, &err), 0);
	j = json_loadb(out.buf, out.len, 0, &je);
	if (j == NULL)
		fail_msg("--status --json: not JSON (%s): %s", je.text,
		    out.buf);
	assert_true(json_is_string(json_object_get(j, "version")));
	json_decref(j);
	assert_int_equal(es_proc_stop(&t->d[0], SIGTERM, 20000), 0);
	assert_int_equal(d_run(t, 0, status, &out, &err), 75);
	print_message("without a daemon: %s", err.buf);
	assert_true(contains(err.buf, "no daemon answers"));
	es_buf_release(&out);
	es_buf_release(&err);
}

/* ---- 18. SIGTERM: the pass finished, the baseline committed, exit 0 ---- */

static void
test_sigterm_exits_clean(void **state)
{
	struct dt *t = *state;
	static const char *const dry[] = { "--once", "--dry-run", "--json",
	    NULL };
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	struct stat st;
	json_t *j;
	json_error_t je;

	dt_begin(t, "d_term", NULL);
	d_up(t, 0);
	put_alpha(t, 0, "# Alpha\n\nbefore the stop\n");
	wait_doc(t, "projects", "alpha", "content", "before the stop",
	    SYNC_MS);
	assert_int_equal(es_proc_stop(&t->d[0], SIGTERM, 20000), 0);
	assert_true(es_proc_logged(&t->d[0], "stopped"));
	/* Its socket is gone, its lock released. */
	assert_int_equal(lstat(t->sock[0], &st), -1);
	/* Everything it did is in the baseline: nothing left to do. */
	assert_int_equal(d_run(t, 0, dry, &out, &err), 0);
	j = json_loadb(out.buf, out.len, 0, &je);
	if (j == NULL)
		fail_msg("--once --dry-run --json: %s\n%s", out.buf, err.buf);
	if (json_array_size(json_object_get(j, "plan")) != 0)
		fail_msg("a plan after a clean stop: %s", out.buf);
	json_decref(j);
	es_buf_release(&out);
	es_buf_release(&err);
}

/* ---- 19. the root vanishes (unmounted): no deletes, back, syncs ---- */

static void
test_root_missing_is_no_delete(void **state)
{
	struct dt *t = *state;
	char *away;

	dt_begin(t, "d_rootgone", NULL);
	for (int k = 0; k < 12; k++) {
		char title[32], rel[128], *s;

		snprintf(title, sizeof(title), "Kept %02d", k);
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "kept-%02d.md", k);
		put_at(t, 0, rel, s = project_text(title, "Work", "kept\n"));
		free(s);
	}
	d_up(t, 0);
	wait_live_count(t, "projects", SEED_PROJECTS + 12, SYNC_MS);
	/* As an unmount does: the folder is gone from its path. */
	away = es_xasprintf("%s.away", t->root[0]);
	if (rename(t->root[0], away) == -1)
		fail_msg("rename %s: %s", t->root[0], strerror(errno));
	d_wait_health(t, 0, 503, "root missing", SYNC_MS);
	/* A document changed meanwhile waits for the folder. */
	peer(&t->w, "update-project", "{\"slug\":\"kept-03\",\"set\":"
	    "{\"due\":\"2026-09-09\"}}");
	assert_true(es_proc_running(&t->d[0]));
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 12);
	/* Nothing written where the folder was. */
	assert_int_equal(access(t->root[0], F_OK), -1);
	if (rename(away, t->root[0]) == -1)
		fail_msg("rename %s: %s", away, strerror(errno));
	d_wait_health(t, 0, 200, NULL, 30000);
	wait_file(t, 0, "10k-projects/active/work/kept-03.md",
	    "due: 2026-09-09", SYNC_MS);
	put_alpha(t, 0, "# Alpha\n\nthe folder is back\n");
	wait_doc(t, "projects", "alpha", "content", "the folder is back",
	    SYNC_MS);
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 13);
	free(away);
}

/* ---- 20. --once --json handed over; execsync-migrate refused ---- */

/* /status's last_full_pass (malloc'd; "" when none yet). */
static char *
last_full_pass(struct dt *t)
{
	json_t *st = d_status(t, 0);
	const char *v = json_string_value(json_object_get(st,
	    "last_full_pass"));
	char *r = es_xstrdup(v != NULL ? v : "");

	json_decref(st);
	return r;
}

static bool
full_pass_after(struct dt *t, void *ud, char *why, size_t whysz)
{
	char *now = last_full_pass(t);
	bool ok = strcmp(now, ud) != 0;

	snprintf(why, whysz, "last_full_pass %s", now);
	free(now);
	return ok;
}

static void
test_held_root_once_json_and_migrate(void **state)
{
	struct dt *t = *state;
	static const char *const once_json[] = { "--once", "--dry-run",
	    "--json", NULL };
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	char *argv[10];
	char pid[32], *full0;
	json_t *j;
	json_error_t je;
	int rc;

	dt_begin(t, "d_held", NULL);
	argv[0] = (char *)ES_MIGRATE_BIN;
	argv[1] = (char *)"--source";
	argv[2] = t->w.root;
	argv[3] = (char *)"--mongodb-uri";
	argv[4] = t->w.t.uri;
	argv[5] = (char *)"--user-id";
	argv[6] = (char *)t->w.t.user;
	argv[7] = (char *)"--database";
	argv[8] = t->w.t.db;
	argv[9] = NULL;
	d_up(t, 0);
	/* A dry run through the daemon: one JSON object, its plan. */
	put_alpha(t, 0, "# Alpha\n\nplanned, not done\n");
	rc = d_run(t, 0, once_json, &out, &err);
	print_message("--once --dry-run --json: exit %d: %s%s", rc, out.buf,
	    err.buf);
	assert_int_equal(rc, 0);
	assert_true(contains(err.buf, "a daemon holds the folder"));
	if ((j = json_loadb(out.buf, out.len, 0, &je)) == NULL)
		fail_msg("not one JSON object (%s): %s", je.text, out.buf);
	assert_true(json_is_string(json_object_get(j, "version")));
	assert_true(json_is_array(json_object_get(j, "plan")));
	json_decref(j);
	assert_int_equal(strchr(out.buf, '\n') - out.buf + 1, (long)out.len);
	/* The migration tool keeps off a folder a daemon holds. */
	es_buf_reset(&out);
	es_buf_reset(&err);
	rc = es_itest_run(argv, &out, &err, 60);
	print_message("execsync-migrate: exit %d: %s", rc, err.buf);
	assert_int_equal(rc, 75);
	snprintf(pid, sizeof(pid), "pid %ld", (long)t->d[0].pid);
	assert_true(contains(err.buf, pid));
	assert_true(es_proc_running(&t->d[0]));
	/* SIGUSR1: a full pass now. */
	wait_doc(t, "projects", "alpha", "content", "planned, not done",
	    SYNC_MS);
	d_settle(t, 0, SYNC_MS);
	full0 = last_full_pass(t);
	es_proc_signal(&t->d[0], SIGUSR1);
	es_proc_wait_log(&t->d[0], "SIGUSR1: a full pass", SYNC_MS);
	dt_wait(t, "a new full pass", SYNC_MS, 20, full_pass_after, full0);
	free(full0);
	es_buf_release(&out);
	es_buf_release(&err);
}

/* ---- a baseline of another user: "identity", said once, --resync ---- */

static size_t
count_in_file(const char *path, const char *needle)
{
	size_t n = 0, len;
	char *text = es_read_file(path, &len), *at;

	for (at = text; at != NULL && (at = strstr(at, needle)) != NULL;
	    at += strlen(needle))
		n++;
	free(text);
	return n;
}

static void
test_wrong_identity_waits_for_resync(void **state)
{
	struct dt *t = *state;
	static const char *const other[] = { "--once", "--user-id",
	    "someone-else", NULL };
	static const char *const once[] = { "--once", NULL };
	static const char *const resync[] = { "--once", "--resync", NULL };
	static const char *const refused = "this folder was synced with";
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	char *s;

	dt_begin(t, "d_ident", NULL);
	/* The folder's baseline is another user's (SPEC 4.18). */
	assert_int_equal(d_run(t, 0, other, &out, &err), 0);
	d_start(t, 0);
	d_wait_health(t, 0, 503, "identity", SYNC_MS);
	put_at(t, 0, "10k-projects/active/work/ident.md",
	    s = project_text("Ident", "Work", "body\n"));
	free(s);
	/* A pass handed over is refused too (2), and waits for nothing. */
	es_buf_release(&out);
	es_buf_release(&err);
	assert_int_equal(d_run(t, 0, once, &out, &err), 2);
	assert_true(contains(err.buf, refused));
	assert_true(es_proc_running(&t->d[0]));
	/* Said once in the daemon's log (at error level), not at every pass. */
	s = es_xasprintf("error daemon %s: %s", t->root[0], refused);
	assert_int_equal(count_in_file(t->log[0], s), 1);
	free(s);
	assert_int_equal(live_count(t, "projects"), 0);
	/* --resync adopts this user, handed to the daemon: healthy. */
	es_buf_release(&out);
	es_buf_release(&err);
	assert_int_equal(d_run(t, 0, resync, &out, &err), 0);
	d_wait_health(t, 0, 200, NULL, SYNC_MS);
	wait_live_count(t, "projects", SEED_PROJECTS + 1, SYNC_MS);
	es_buf_release(&out);
	es_buf_release(&err);
}

/* ---- after a stopped pass, the next reads the since-query too ---- */

static bool
passes_over(struct dt *t, void *ud, char *why, size_t whysz)
{
	json_t *st = d_status(t, 0);
	json_int_t n = json_integer_value(json_object_get(st, "passes"));

	json_decref(st);
	snprintf(why, whysz, "%lld passes", (long long)n);
	return n > *(json_int_t *)ud;
}

static void
test_guard_stopped_events_not_lost(void **state)
{
	struct dt *t = *state;
	char rel[128], *text[10];
	json_t *st;
	json_int_t n0;

	dt_begin(t, "d_guardev", NULL);
	for (int k = 0; k < 12; k++) {
		char title[32], *s;

		snprintf(title, sizeof(title), "Keep %02d", k);
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "keep-%02d.md", k);
		put_at(t, 0, rel, s = project_text(title, "Work", "kept\n"));
		if (k < 10)
			text[k] = s;	/* put back later */
		else
			free(s);
	}
	d_up(t, 0);
	wait_live_count(t, "projects", SEED_PROJECTS + 12, SYNC_MS);
	d_settle(t, 0, SYNC_MS);
	/* A mistake: 10 of 13 gone, the guard stops the pass. */
	for (int k = 0; k < 10; k++) {
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "keep-%02d.md", k);
		remove_rel(t, 0, rel);
	}
	d_wait_health(t, 0, 503, "deletion guard", SYNC_MS);
	/* The API changes a project the mistake left alone: its event's
	 * pass is stopped by the guard too. */
	st = d_status(t, 0);
	n0 = json_integer_value(json_object_get(st, "passes"));
	json_decref(st);
	peer(&t->w, "update-project", "{\"slug\":\"keep-11\",\"set\":"
	    "{\"content\":\"# Keep 11\\n\\nfrom the api\\n\"}}");
	dt_wait(t, "the change's pass (stopped)", SYNC_MS, 20, passes_over,
	    &n0);
	d_wait_health(t, 0, 503, "deletion guard", SYNC_MS);
	/* The user puts the files back: the next pass goes through, and
	 * brings the API's change that the stopped pass had taken. */
	for (int k = 0; k < 10; k++) {
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "keep-%02d.md", k);
		put_at(t, 0, rel, text[k]);
		free(text[k]);
	}
	d_wait_health(t, 0, 200, NULL, SYNC_MS);
	wait_file(t, 0, "10k-projects/active/work/keep-11.md", "from the api",
	    SYNC_MS);
	assert_int_equal(live_count(t, "projects"), SEED_PROJECTS + 12);
}

/* ---- the Prometheus checker itself can fail ---- */

static void
test_prom_check_catches(void **state)
{
	static const struct {
		const char	*text;
		bool		 ok;
	} cases[] = {
		{ "# TYPE a_total counter\na_total{d=\"x\"} 3\n", true },
		{ "# HELP h latency\n# TYPE h histogram\n"
		    "h_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
		    "h_sum 0.7\nh_count 2\n", true },
		{ "# TYPE g gauge\ng 1.5e3\n", true },
		{ "a_total 3\n", false },			/* no TYPE */
		{ "# TYPE a counter\na 3", false },		/* no newline */
		{ "# TYPE a counter\na{d=x} 3\n", false },	/* unquoted */
		{ "# TYPE a counter\na{d=\"x\"} three\n", false },
		{ "# TYPE a counter\na -1\n", false },	/* negative */
		{ "# TYPE a counter\n# TYPE a counter\na 1\n", false },
		{ "# TYPE a frobnicator\na 1\n", false },
		{ "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
		    false },					/* no +Inf */
		{ "# TYPE a counter\na{d=\"x\\q\"} 1\n", false },
		{ "# TYPE a counter\n1a 1\n", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = prom_check(cases[i].text);

		if ((why == NULL) != cases[i].ok)
			fail_msg("case %zu: want %s, got %s:\n%s", i,
			    cases[i].ok ? "valid" : "invalid", why != NULL ?
			    why : "valid", cases[i].text);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_saved_file_reaches_database,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_api_change_rewrites_file,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_save_in_place_is_one_update,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_save_rename_over_is_one_update,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_save_vim_backup_is_one_update,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_save_slow_delete_create,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_deleted_file_soft_deletes,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_poll_source_syncs,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_new_folder_is_picked_up,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_burst_of_1000_files_converges,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_kill_9_mid_burst_converges,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_server_outage_loses_nothing,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_two_daemons_converge,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_deletion_guard_and_once_release,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_sighup_bad_config_keeps_running,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_second_daemon_refused,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_status_and_metrics_parse,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_slow_and_malformed_clients,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_overflow_full_pass_converges,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_status_command,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_sigterm_exits_clean,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_root_missing_is_no_delete,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_held_root_once_json_and_migrate,
	    dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_wrong_identity_waits_for_resync, dt_setup, dt_teardown),
	cmocka_unit_test_setup_teardown(test_guard_stopped_events_not_lost, dt_setup, dt_teardown),
	cmocka_unit_test(test_prom_check_catches),
};

ES_ITEST_MAIN(tests)
