/*
 * execsync-migrate run again (issue 14 item 1, SPEC 4.18: "Running
 * execsync-migrate again, on any folder state, never creates a duplicate"):
 * on a folder already synced (refused, exit 2), on a fresh clone of it with
 * no baseline (what the database holds is recognised, nothing inserted),
 * and on a folder whose baseline names another user (refused, exit 2,
 * nothing written). The real binaries on real folders against the real
 * server; the API is the peer. Each case: its own database and folder.
 */
#include "sync-world.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "execsync/baseline.h"
#include "execsync/lock.h"
#include "execsync/migrate.h"
#include "execsync/xmalloc.h"

#ifndef ES_MIGRATE_BIN
#error "ES_MIGRATE_BIN (the path of execsync-migrate) is not defined"
#endif

#define PHONE		"00k-next-actions/contexts/@phone.md"

/*
 * execsync-migrate --json on root for user (NULL: the world's), then
 * extra; w->out and w->err hold what it printed. Returns the exit status
 * and, in *j (when not NULL), the summary.
 */
static int
mig(struct world *w, const char *root, const char *user,
    const char *const *extra, json_t **j)
{
	char *argv[24];
	json_error_t je;
	int n = 0, rc;

	argv[n++] = (char *)ES_MIGRATE_BIN;
	argv[n++] = (char *)"--json";
	argv[n++] = (char *)"--source";
	argv[n++] = (char *)root;
	argv[n++] = (char *)"--mongodb-uri";
	argv[n++] = w->t.uri;
	argv[n++] = (char *)"--user-id";
	argv[n++] = (char *)(user != NULL ? user : w->t.user);
	argv[n++] = (char *)"--database";
	argv[n++] = w->t.db;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	es_buf_reset(&w->out);
	es_buf_reset(&w->err);
	rc = es_itest_run(argv, &w->out, &w->err, 120);
	if (j != NULL && (*j = json_loads(w->out.buf ? w->out.buf : "", 0,
	    &je)) == NULL)
		fail_msg("exit %d, stdout is not JSON (%s): '%s' stderr: %s",
		    rc, je.text, w->out.buf, w->err.buf);
	return rc;
}

/*
 * How many action documents of the world's user have this text (deleted
 * ones too), by the peer's dump; the _id of the last of them into hex
 * (25 bytes) when not NULL.
 */
static size_t
n_text_id(const struct world *w, const char *text, char *hex)
{
	char *d = dump(w);
	json_error_t je;
	json_t *j = json_loads(d, 0, &je), *acts, *a;
	size_t i, n = 0;

	if (j == NULL)
		fail_msg("dump is not JSON: %s", d);
	acts = json_object_get(j, "actions");
	json_array_foreach(acts, i, a) {
		if (strcmp(json_string_value(json_object_get(a, "text")),
		    text) != 0)
			continue;
		n++;
		if (hex != NULL)
			snprintf(hex, 25, "%s", json_string_value(
			    json_object_get(json_object_get(a, "_id"),
			    "$oid")));
	}
	json_decref(j);
	free(d);
	return n;
}

static size_t
n_text(const struct world *w, const char *text)
{
	return n_text_id(w, text, NULL);
}

/*
 * The story of issue 14: a context list with two actions; migrate; the
 * API creates an action in that list; the file checks one off; a sync
 * pass. The database then holds three actions, one of them under the
 * API's id and one with a line the first import never saw.
 */
static void
story(struct world *w)
{
	json_t *j;

	put(w, PHONE, "# @phone\n\n- [ ] Ring Bob\n- [ ] Ring Ann\n");
	if (mig(w, w->root, NULL, NULL, &j) != 0)
		fail_msg("first import: %s", w->err.buf);
	assert_int_equal(jcount(j, "actions", "inserted"), 2);
	json_decref(j);
	peer(w, "create-action", "{\"text\":\"Ring Carl\",\"context\":"
	    "\"@phone\"}");
	put(w, PHONE, "# @phone\n\n- [x] Ring Bob\n- [ ] Ring Ann\n");
	assert_int_equal(syncd(w, NULL), 0);
	assert_file_has(w, PHONE, "- [ ] Ring Carl\n");
	assert_int_equal(count_docs(w, "actions"), 3);
}

static void
assert_no_duplicates(const struct world *w)
{
	assert_int_equal(n_text(w, "Ring Bob"), 1);
	assert_int_equal(n_text(w, "Ring Ann"), 1);
	assert_int_equal(n_text(w, "Ring Carl"), 1);
	assert_int_equal(count_docs(w, "actions"), 3);
}

/* A copy of the world's folder without .execsync/ (a fresh clone), beside
 * it; malloc'd. */
static char *
fresh_clone(const struct world *w)
{
	char *clone = es_xasprintf("%s/clone", w->tmp);
	char *cmd = es_xasprintf("cp -a '%s' '%s' && rm -rf '%s/%s'",
	    w->root, clone, clone, ES_BASELINE_DIR);
	char *argv[] = { (char *)"sh", (char *)"-c", cmd, NULL };

	assert_int_equal(es_itest_run(argv, NULL, NULL, 30), 0);
	free(cmd);
	return clone;
}

/* SPEC 4.8: a pass on root plans nothing and changes no file. */
static void
assert_settled_at(struct world *w, const char *root)
{
	char *keep = w->root, *before, *after;

	w->root = (char *)root;
	before = snapshot(w);
	assert_int_equal(syncd1(w, "--json"), 0);
	{
		json_error_t je;
		json_t *r = json_loads(w->out.buf, 0, &je);

		if (r == NULL)
			fail_msg("not JSON: %s", w->out.buf);
		if (json_array_size(json_object_get(r, "plan")) != 0)
			fail_msg("the pass planned: %s", w->out.buf);
		json_decref(r);
	}
	after = snapshot(w);
	assert_string_equal(before, after);
	w->root = keep;
	free(before);
	free(after);
}

/*
 * Already synced: refused before anything is written, exit 2, saying so
 * and pointing to execsyncd --once; --dry-run the same.
 */
static void
test_rerun_synced_folder_refused(void **state)
{
	static const char *const dry[] = { "--dry-run", NULL };
	struct world w;
	char *ident, *before, *want;
	const char *err;
	json_t *j;

	(void)state;
	w_begin(&w, "mr_synced");
	story(&w);
	before = dump(&w);
	ident = es_migrate_identity(w.t.uri, w.t.db, w.t.user);

	assert_int_equal(mig(&w, w.root, NULL, NULL, &j), 2);
	want = es_xasprintf("%s: already synced with %s (", w.root, ident);
	if (!contains(w.err.buf, want))
		fail_msg("no '%s' in: %s", want, w.err.buf);
	assert_true(contains(w.err.buf, "entities in " ES_BASELINE_FILE
	    "): nothing imported; run execsyncd --once to sync changes"));
	err = json_string_value(json_object_get(j, "error"));
	assert_non_null(err);
	assert_true(contains(err, want));
	assert_int_equal(json_integer_value(json_object_get(j,
	    "exit_status")), 2);
	json_decref(j);
	assert_no_duplicates(&w);
	{
		char *after = dump(&w);

		assert_string_equal(before, after);
		free(after);
	}

	/* A dry run says the same. */
	assert_int_equal(mig(&w, w.root, NULL, dry, &j), 2);
	assert_true(contains(w.err.buf, want));
	json_decref(j);
	assert_no_duplicates(&w);
	free(want);
	free(ident);
	free(before);
	w_end(&w);
}

/*
 * A fresh clone (the folder without .execsync/) against the database the
 * story left: every action is recognised by list and text (one under the
 * API's id, one checked off since the first import), nothing inserted,
 * exit 0; the next pass there changes nothing on either side.
 */
static void
test_rerun_fresh_clone_recognises(void **state)
{
	static const char *const dry[] = { "--dry-run", NULL };
	struct world w;
	char *clone, *db_before, *s;
	json_t *j;

	(void)state;
	w_begin(&w, "mr_clone");
	story(&w);
	clone = fresh_clone(&w);
	db_before = dump(&w);

	/* The dry run counts them present too. */
	assert_int_equal(mig(&w, clone, NULL, dry, &j), 0);
	assert_int_equal(jcount(j, "actions", "found"), 3);
	assert_int_equal(jcount(j, "actions", "would_insert"), 0);
	assert_int_equal(jcount(j, "actions", "already_present"), 3);
	json_decref(j);

	if (mig(&w, clone, NULL, NULL, &j) != 0)
		fail_msg("clone: %s", w.err.buf);
	assert_int_equal(jcount(j, "actions", "found"), 3);
	assert_int_equal(jcount(j, "actions", "inserted"), 0);
	assert_int_equal(jcount(j, "actions", "already_present"), 3);
	assert_int_equal(jcount(j, "actions", "differs"), 0);
	assert_int_equal(jcount(j, "total", "failed"), 0);
	/* All three mean what their lines mean: a row each, and the list's. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "entities")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "files")), 1);
	json_decref(j);
	assert_no_duplicates(&w);
	s = dump(&w);
	assert_string_equal(db_before, s);
	free(s);

	/* The first pass on the clone: nothing planned, nothing changed. */
	assert_settled_at(&w, clone);
	s = dump(&w);
	assert_string_equal(db_before, s);
	free(s);
	assert_no_duplicates(&w);
	free(db_before);
	free(clone);
	w_end(&w);
}

/*
 * The same fresh clone, but the API changed the checked-off action since:
 * the import counts it present and different and gives it no baseline
 * row; the first pass on the clone pairs the line "- [x] Ring Bob" of
 * contexts/@phone.md with the completed document by list and text (the
 * identity execsync-migrate and execsyncd share) and settles the
 * difference with no copy (SPEC 4.17: no baseline and both sides differ,
 * so the newer, the API's, wins and the file's version is kept: exit 1);
 * the next pass has nothing to do.
 */
static void
test_rerun_fresh_clone_differs_settled(void **state)
{
	struct world w;
	char *clone, json[160], hex[25];
	json_t *j;

	(void)state;
	w_begin(&w, "mr_cdiff");
	story(&w);
	clone = fresh_clone(&w);
	assert_int_equal(n_text_id(&w, "Ring Bob", hex), 1);
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"due\":"
	    "\"2025-12-01\"}}", hex);
	peer(&w, "update-action", json);

	if (mig(&w, clone, NULL, NULL, &j) != 0)
		fail_msg("clone: %s", w.err.buf);
	assert_int_equal(jcount(j, "actions", "inserted"), 0);
	assert_int_equal(jcount(j, "actions", "already_present"), 3);
	assert_int_equal(jcount(j, "actions", "differs"), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "entities")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "files")), 0);
	json_decref(j);
	assert_no_duplicates(&w);

	{
		char *keep = w.root;
		int rc;

		w.root = clone;
		rc = syncd(&w, NULL);
		w.root = keep;
		assert_no_duplicates(&w);
		if (rc != 1)
			fail_msg("exit %d, want 1: %s", rc, w.err.buf);
		assert_true(contains(w.err.buf, "Ring Bob"));
	}
	{
		char *rel = es_xasprintf("clone/%s", PHONE), *keep = w.root;

		w.root = w.tmp;
		assert_file_has(&w, rel, "Ring Bob");
		w.root = keep;
		free(rel);
	}
	assert_settled_at(&w, clone);
	assert_no_duplicates(&w);
	free(clone);
	w_end(&w);
}

/*
 * No baseline, and the database holds deleted documents for entities of
 * the folder (the API deleted them): they are present (differs), never
 * inserted again as live copies; the first pass settles them with no copy
 * either.
 */
static void
test_rerun_deleted_documents_not_copied(void **state)
{
	struct world w;
	char json[128], get_json[128], hex[25];
	bson_t doc;
	bson_oid_t id;
	json_t *j;

	(void)state;
	w_begin(&w, "mr_deleted");
	assert_true(es_itest_peer(&w.t, "create-action", "{\"text\":"
	    "\"Ring Dan\",\"context\":\"@phone\"}", &doc));
	es_itest_oid(&doc, "_id", &id);
	bson_destroy(&doc);
	bson_oid_to_string(&id, hex);
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", hex);
	snprintf(get_json, sizeof(get_json), "{\"collection\":\"actions\","
	    "\"id\":\"%s\"}", hex);
	peer(&w, "delete-action", json);
	peer(&w, "create-project", "{\"title\":\"Learn Rust\",\"area\":"
	    "\"Learning\"}");
	peer(&w, "delete-project", "{\"slug\":\"learn-rust\"}");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n- [ ] Ring Dan\n");
	put(&w, "10k-projects/active/learning/learn-rust.md", "---\n"
	    "area: Learning\ntitle: Learn Rust\ntype: standard\n---\n");

	if (mig(&w, w.root, NULL, NULL, &j) != 0)
		fail_msg("import: %s", w.err.buf);
	assert_int_equal(jcount(j, "actions", "found"), 2);
	assert_int_equal(jcount(j, "actions", "inserted"), 1);
	assert_int_equal(jcount(j, "actions", "already_present"), 1);
	assert_int_equal(jcount(j, "actions", "differs"), 1);
	assert_int_equal(jcount(j, "projects", "inserted"), 0);
	assert_int_equal(jcount(j, "projects", "already_present"), 1);
	assert_int_equal(jcount(j, "projects", "differs"), 1);
	json_decref(j);
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_int_equal(count_docs(&w, "projects"), 1);
	assert_int_equal(n_text(&w, "Ring Dan"), 1);
	assert_true(es_itest_peer(&w.t, "get", get_json, &doc));
	assert_true(doc_deleted(&doc));
	bson_destroy(&doc);

	/*
	 * The first pass pairs them by identity (SPEC 4.17: the file side
	 * brings them back; the project's deleted version, which differs,
	 * is kept in sync_conflicts: exit 1): still no copy.
	 */
	{
		int rc = syncd(&w, NULL);

		if (rc != 0 && rc != 1)
			fail_msg("execsyncd --once: exit %d: %s", rc,
			    w.err.buf);
	}
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_int_equal(count_docs(&w, "projects"), 1);
	assert_int_equal(n_text(&w, "Ring Dan"), 1);
	w_end(&w);
}

/* The baseline's identity and row counts, to see it untouched. */
static char *
baseline_state(const struct world *w)
{
	char *path = path_of(w, ES_BASELINE_FILE), *ident = NULL, *s;
	struct es_baseline *b;
	struct es_error e;
	size_t nf = 0, ne = 0;

	if ((b = es_baseline_open(path, &e)) == NULL)
		fail_msg("open %s: %s", path, e.msg);
	if (es_baseline_get_meta(b, "identity", &ident, &e) < 0 ||
	    es_baseline_count(b, &nf, &ne, &e) < 0)
		fail_msg("%s: %s", path, e.msg);
	s = es_xasprintf("%s files=%zu entities=%zu", ident ? ident : "(none)",
	    nf, ne);
	free(ident);
	es_baseline_free(b);
	free(path);
	return s;
}

/*
 * A baseline for another user (a typo: --user-id anna after ana): exit 2,
 * both identities named and the way out, nothing written to the database,
 * the baseline untouched.
 */
static void
test_rerun_other_user_refused(void **state)
{
	struct world w, anna;
	char *ident, *other, *bl_before, *bl_after, *db_before, *db_after;
	json_t *j;

	(void)state;
	w_begin(&w, "mr_other");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n- [ ] Ring Ann\n");
	if (mig(&w, w.root, NULL, NULL, &j) != 0)
		fail_msg("first import: %s", w.err.buf);
	json_decref(j);
	bl_before = baseline_state(&w);
	db_before = dump(&w);
	ident = es_migrate_identity(w.t.uri, w.t.db, w.t.user);
	other = es_migrate_identity(w.t.uri, w.t.db, "anna");
	assert_string_not_equal(ident, other);

	assert_int_equal(mig(&w, w.root, "anna", NULL, &j), 2);
	/* Quoted: "user_id=ana" is a prefix of "user_id=anna". */
	{
		char *q1 = es_xasprintf("'%s'", ident);
		char *q2 = es_xasprintf("'%s'", other);

		if (!contains(w.err.buf, q1) || !contains(w.err.buf, q2))
			fail_msg("%s and %s not both named: %s", q1, q2,
			    w.err.buf);
		free(q1);
		free(q2);
	}
	assert_true(contains(w.err.buf, "nothing imported"));
	assert_true(contains(w.err.buf, "execsyncd --once --resync"));
	assert_true(contains(w.err.buf, "--user-id"));
	json_decref(j);

	/* Nothing for anna; ana's documents and the baseline as they were. */
	anna = w;
	anna.t.user = "anna";
	assert_int_equal(count_docs(&anna, "projects"), 0);
	assert_int_equal(count_docs(&anna, "goals"), 0);
	assert_int_equal(count_docs(&anna, "actions"), 0);
	db_after = dump(&w);
	assert_string_equal(db_before, db_after);
	bl_after = baseline_state(&w);
	assert_string_equal(bl_before, bl_after);
	assert_true(contains(bl_after, ident));
	free(bl_before);
	free(bl_after);
	free(db_before);
	free(db_after);
	free(ident);
	free(other);
	w_end(&w);
}

/* A root another execsync process holds: nothing imported, exit 75. */
static void
test_rerun_held_root_75(void **state)
{
	struct world w;
	struct es_lock *l = NULL;
	struct es_error e;
	pid_t holder;
	char *pid;
	int fd;

	(void)state;
	w_begin(&w, "mr_held");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n");
	fd = open(w.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(es_lock_take(fd, &l, &holder, &e), ES_LOCK_TAKEN);
	assert_int_equal(mig(&w, w.root, NULL, NULL, NULL), 75);
	pid = es_xasprintf("(pid %ld)", (long)getpid());
	assert_true(contains(w.err.buf, pid));
	assert_int_equal(count_docs(&w, "actions"), 0);
	es_lock_release(l);
	assert_int_equal(mig(&w, w.root, NULL, NULL, NULL), 0);
	assert_int_equal(count_docs(&w, "actions"), 1);
	free(pid);
	close(fd);
	w_end(&w);
}

/*
 * Issue 19 item 10: a context the database could never sync back to a
 * file ("@..") is refused at import with path:line, not imported to be
 * refused on every later pass.
 */
static void
test_bad_context_refused_at_import(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "mr_ctx");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n- [ ] Ring @.. now\n");
	assert_int_equal(mig(&w, w.root, NULL, NULL, NULL), 1);
	assert_true(contains(w.out.buf, "\"line\":4"));
	assert_true(contains(w.out.buf, "bad context '@..'"));
	assert_int_equal(count_docs(&w, "actions"), 1);
	assert_int_equal(n_text(&w, "Ring Bob"), 1);
	w_end(&w);
}

/*
 * Issue 19 item 10: execsync-scan judges a folder as execsync-migrate
 * does (a symbolic link where a project belongs is a problem for both:
 * exit 1), and never prints a file name's control characters raw.
 */
static void
test_scan_judges_as_migrate(void **state)
{
	struct world w;
	struct es_buf out = ES_BUF_INIT;
	char *link, *odd;

	(void)state;
	w_begin(&w, "mr_scan");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n");
	link = path_of(&w, "10k-projects/active/work/elsewhere.md");
	put(&w, "10k-projects/active/work/real.md",
	    "---\narea: Work\ntitle: Real\n---\n");
	assert_int_equal(symlink("/etc/hostname", link), 0);
	odd = es_xstrdup("10k-projects/active/work/\033[2Jodd.md");
	put(&w, odd, "---\narea: Work\ntitle: Odd\n---\n");
	{
		char *argv[] = { (char *)ES_SCAN_BIN, w.root, NULL };

		assert_int_equal(es_itest_run(argv, &out, NULL, 30), 1);
	}
	assert_true(contains(out.buf, "elsewhere.md: symbolic link"));
	assert_true(contains(out.buf, "\\x1b[2Jodd.md"));
	assert_null(memchr(out.buf, '\033', out.len));
	assert_int_equal(mig(&w, w.root, NULL, NULL, NULL), 1);
	assert_true(contains(w.out.buf, "elsewhere.md"));
	es_buf_release(&out);
	free(link);
	free(odd);
	w_end(&w);
}

/*
 * Issue 19 item 10: a symbolic link in place of .execsync/ is refused
 * before anything is written, on every run alike.
 */
static void
test_symlinked_state_dir_refused_up_front(void **state)
{
	struct world w;
	char *link, *target;

	(void)state;
	w_begin(&w, "mr_symst");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n");
	target = es_xasprintf("%s/elsewhere", w.tmp);
	link = path_of(&w, ".execsync");
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	for (int run = 0; run < 2; run++) {
		assert_int_equal(mig(&w, w.root, NULL, NULL, NULL), 2);
		assert_true(contains(w.out.buf, "refusing '.execsync'"));
		assert_int_equal(count_docs(&w, "actions"), 0);
	}
	free(link);
	free(target);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_symlinked_state_dir_refused_up_front),
	cmocka_unit_test(test_scan_judges_as_migrate),
	cmocka_unit_test(test_bad_context_refused_at_import),
	cmocka_unit_test(test_rerun_held_root_75),
	cmocka_unit_test(test_rerun_synced_folder_refused),
	cmocka_unit_test(test_rerun_fresh_clone_recognises),
	cmocka_unit_test(test_rerun_fresh_clone_differs_settled),
	cmocka_unit_test(test_rerun_other_user_refused),
	cmocka_unit_test(test_rerun_deleted_documents_not_copied),
};

ES_ITEST_MAIN(tests)
