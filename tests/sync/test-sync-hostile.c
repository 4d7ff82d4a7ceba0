/*
 * Hostile conditions a workstation throws at execsyncd --once (issue 19):
 * each story against the real server, each checking that no document or
 * file is lost, duplicated or reverted on its account.
 */
#include "sync-world.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/engine.h"
#include "execsync/lock.h"
#include "execsync/migrate.h"
#include "execsync/store.h"
#include "execsync/xmalloc.h"

#include "../../lib/io/fsio-internal.h"

/* Documents of w's user in coll with deleted: true. */
static size_t
count_deleted(const struct world *w, const char *coll)
{
	bson_t f = BSON_INITIALIZER;
	size_t n;

	BSON_APPEND_BOOL(&f, "deleted", true);
	n = count_where(w, coll, &f);
	bson_destroy(&f);
	return n;
}

static void
chmod_rel(const struct world *w, const char *rel, mode_t mode)
{
	char *p = path_of(w, rel);

	if (chmod(p, mode) < 0)
		fail_msg("chmod %s: %s", p, strerror(errno));
	free(p);
}

/*
 * The command that runs execsyncd as a user to whom permission bits
 * apply: root ignores them, so as root it runs without the capabilities
 * that override them (setpriv, util-linux). NULL: run it directly.
 */
static const char *const *
without_dac_override(void)
{
	static const char *const pre[] = { "setpriv",
	    "--bounding-set=-dac_override,-dac_read_search", NULL };

	return geteuid() == 0 ? pre : NULL;
}

/* ---- issue 19 item 6: an unreadable folder is no deleted folder ---- */

#define HOME_DIR	"10k-projects/active/home"
#define HOME_A		HOME_DIR "/paint-fence.md"
#define HOME_B		HOME_DIR "/fix-roof.md"
#define CTX_DIR		"00k-next-actions/contexts"
#define CTX_HOME	CTX_DIR "/@home.md"

static void
seed_home(struct world *w)
{
	put(w, HOME_A, "---\narea: Home\ntitle: Paint Fence\n---\nwhite\n");
	put(w, HOME_B, "---\narea: Home\ntitle: Fix Roof\n---\ntiles\n");
	put(w, "30k-goals/active/run-far.md",
	    "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	put(w, CTX_HOME, "# Home\n- [ ] Buy paint\n- [ ] Call roofer\n");
	put(w, "00k-next-actions/@waiting.md", "- [ ] Quote from Bob\n");
	assert_int_equal(syncd(w, NULL), 0);
	assert_int_equal(count_docs(w, "projects"), 2);
	assert_int_equal(count_docs(w, "actions"), 3);
}

static void
unreadable_case(const char *tag, mode_t mode, const char *reason)
{
	struct world w;
	const char *const *pre = without_dac_override();
	char *d1, *d2;
	int rc;

	w_begin(&w, tag);
	seed_home(&w);
	d1 = dump(&w);
	chmod_rel(&w, HOME_DIR, mode);
	chmod_rel(&w, CTX_DIR, mode);
	for (int pass = 0; pass < 2; pass++) {
		rc = syncd_via(&w, pre, NULL);
		chmod_rel(&w, HOME_DIR, 0755);	/* so a failure cleans up */
		chmod_rel(&w, CTX_DIR, 0755);
		if (rc == 126 || rc == 127)
			skip();		/* no setpriv */
		assert_int_equal(rc, 1);
		assert_true(contains(w.err.buf, reason));
		assert_int_equal(count_deleted(&w, "projects"), 0);
		assert_int_equal(count_deleted(&w, "actions"), 0);
		d2 = dump(&w);
		assert_string_equal(d1, d2);
		free(d2);
		chmod_rel(&w, HOME_DIR, mode);
		chmod_rel(&w, CTX_DIR, mode);
	}
	/* Readable again: nothing to do, nothing was lost on the way. */
	chmod_rel(&w, HOME_DIR, 0755);
	chmod_rel(&w, CTX_DIR, 0755);
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_true(contains(w.out.buf, "\"plan\":[]"));
	assert_file_has(&w, CTX_HOME, "- [ ] Call roofer\n");
	assert_file_has(&w, HOME_A, "white");
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	w_end(&w);
}

static void
test_unreadable_folder_not_deleted(void **state)
{
	(void)state;
	unreadable_case("h_unread", 0000, HOME_DIR ": cannot read folder");
}

/* Readable without search permission: names listed, nothing stat'ed. */
static void
test_folder_without_x_not_deleted(void **state)
{
	(void)state;
	unreadable_case("h_nox", 0444, HOME_A ": cannot stat");
}

/* An unreadable file is reported and left alone, on both sides. */
static void
test_unreadable_file_not_deleted(void **state)
{
	struct world w;
	const char *const *pre = without_dac_override();
	char *d1, *d2;
	int rc;

	(void)state;
	w_begin(&w, "h_unfile");
	seed_home(&w);
	d1 = dump(&w);
	chmod_rel(&w, HOME_A, 0000);
	chmod_rel(&w, CTX_HOME, 0000);
	rc = syncd_via(&w, pre, NULL);
	chmod_rel(&w, HOME_A, 0644);
	chmod_rel(&w, CTX_HOME, 0644);
	if (rc == 126 || rc == 127)
		skip();
	assert_int_equal(rc, 1);
	assert_true(contains(w.err.buf, HOME_A));
	assert_true(contains(w.err.buf, CTX_HOME));
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_true(contains(w.out.buf, "\"plan\":[]"));
	free(d1);
	free(d2);
	w_end(&w);
}

/* ---- issue 19 item 4: documents sharing a slug never wedge a pass ---- */

#define DUP_TWO_ID	"65f0000000000000000000d2"

static void
raw_project(const struct world *w, const char *user, const char *slug,
    const char *title)
{
	char *json = es_xasprintf("{\"collection\":\"projects\",\"doc\":{%s"
	    "\"user_id\":\"%s\",\"title\":\"%s\",\"slug\":\"%s\","
	    "\"area\":\"Work\",\"folder\":\"active\",\"type\":\"standard\","
	    "\"deleted\":false,\"content\":\"%s body\\n\",\"extra\":{},"
	    "\"created_at\":{\"$date\":\"2025-01-01T00:00:00Z\"},"
	    "\"updated_at\":{\"$date\":\"2025-01-01T00:00:00Z\"}}}",
	    strcmp(title, "Dup Two") == 0 ? "\"_id\":{\"$oid\":\"" DUP_TWO_ID
	    "\"}," : "", user, title, slug, title);

	peer(w, "insert-raw", json);
	free(json);
}

static void
test_shared_slugs_reported_not_wedged(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "h_dups");
	raw_project(&w, w.t.user, "dup", "Dup One");
	raw_project(&w, w.t.user, "dup", "Dup Two");
	raw_project(&w, "someone-else", "twin", "Twin One");
	raw_project(&w, "someone-else", "twin", "Twin Two");
	raw_project(&w, w.t.user, "fine", "Fine");
	put(&w, "10k-projects/active/work/alpha.md",
	    "---\narea: Work\ntitle: Alpha\n---\nalpha\n");
	/* Every full read reports them (a first pass, --full); a pass that
	 * reads recent changes only does not see them and changes nothing. */
	for (int pass = 0; pass < 3; pass++) {
		assert_int_equal(syncd1(&w, pass == 1 ? "--log-level=info" :
		    "--full"), pass == 1 ? 0 : 1);
		if (pass == 1)
			continue;
		assert_true(contains(w.err.buf, "slug 'dup' is shared by 2 "
		    "documents"));
		assert_false(contains(w.err.buf, "twin"));
		assert_false(exists(&w, "10k-projects/active/work/dup.md"));
		assert_file_has(&w, "10k-projects/active/work/fine.md",
		    "Fine body");
		assert_int_equal(count_docs(&w, "projects"), 4);
	}
	/* A file of that slug is left alone as well: no third document.
	 * Scripts see the problem by its code (SPEC §1). */
	put(&w, "10k-projects/active/work/dup.md",
	    "---\narea: Work\ntitle: Dup\n---\nmine\n");
	{
		const char *const full_json[] = { "--full", "--json", NULL };

		assert_int_equal(syncd(&w, full_json), 1);
		assert_true(contains(w.out.buf, "\"code\":\"slug-taken\""));
	}
	assert_int_equal(count_docs(&w, "projects"), 4);
	assert_file_has(&w, "10k-projects/active/work/dup.md", "mine");
	/* The user resolves it in the app: the pass goes through. */
	peer(&w, "update-raw", "{\"collection\":\"projects\",\"id\":\""
	    DUP_TWO_ID "\",\"set\":{\"slug\":\"dup-two\","
	    "\"updated_at\":{\"$date\":\"2025-06-01T00:00:00Z\"}}}");
	assert_int_equal(syncd1(&w, "--full"), 1);	/* the file vs Dup One */
	assert_true(contains(w.err.buf, "no baseline, sides differ"));
	assert_file_has(&w, "10k-projects/active/work/dup-two.md",
	    "Dup Two body");
	assert_int_equal(syncd(&w, NULL), 0);
	w_end(&w);
}

/* The same with execsync-migrate: another user's duplicates stop nothing. */
static void
test_migrate_with_other_users_shared_slugs(void **state)
{
	struct world w;
	struct es_buf err = ES_BUF_INIT;

	(void)state;
	w_begin(&w, "h_dupmig");
	raw_project(&w, "someone-else", "twin", "Twin One");
	raw_project(&w, "someone-else", "twin", "Twin Two");
	put(&w, "10k-projects/active/work/alpha.md",
	    "---\narea: Work\ntitle: Alpha\n---\nalpha\n");
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--source",
		    w.root, (char *)"--mongodb-uri", w.t.uri,
		    (char *)"--user-id", (char *)w.t.user,
		    (char *)"--database", w.t.db, NULL };

		assert_int_equal(es_itest_run(argv, NULL, &err, 60), 0);
	}
	assert_int_equal(count_docs(&w, "projects"), 1);
	assert_int_equal(syncd(&w, NULL), 0);
	es_buf_release(&err);
	w_end(&w);
}

/* ---- issue 19 item 5: a file renamed onto a trashed project's slug ---- */

static void
test_rename_onto_trashed_slug_converges(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "h_trashslug");
	put(&w, "10k-projects/active/work/reading.md",
	    "---\narea: Work\ntitle: Reading\n---\nold\n");
	put(&w, "10k-projects/active/work/book.md",
	    "---\narea: Work\ntitle: Book\n---\nnew\n");
	assert_int_equal(syncd(&w, NULL), 0);
	peer(&w, "delete-project", "{\"slug\":\"reading\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, "10k-projects/active/work/reading.md"));
	/* The user renames book.md onto the trashed project's name. */
	{
		char *a = path_of(&w, "10k-projects/active/work/book.md");
		char *b = path_of(&w, "10k-projects/active/work/reading.md");

		assert_int_equal(rename(a, b), 0);
		free(a);
		free(b);
	}
	/* SPEC 4.9: the dry run plans the "-2" the real pass makes. */
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	assert_true(contains(w.out.buf, "10k-projects/active/work/"
	    "reading-2.md from 10k-projects/active/work/reading.md"));
	assert_true(contains(w.out.buf, "slug 'reading' is taken"));
	assert_true(exists(&w, "10k-projects/active/work/reading.md"));
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(contains(w.err.buf, "slug 'reading' is taken"));
	assert_file_has(&w, "10k-projects/active/work/reading-2.md", "new");
	assert_false(exists(&w, "10k-projects/active/work/reading.md"));
	{
		bson_t doc;

		assert_true(doc_get(&w, "projects", "reading-2", &doc));
		assert_false(doc_deleted(&doc));
		bson_destroy(&doc);
		assert_false(doc_get(&w, "projects", "book", &doc));
	}
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_true(contains(w.out.buf, "\"plan\":[]"));
	w_end(&w);
}

/* ---- issue 19 item 1: a save made while a pass runs ---- */

#define SAVE_REL	"10k-projects/active/home/paint-fence.md"
#define SAVE_HEAD	"---\narea: Home\ntitle: Paint Fence\n---\n"

static void
second_save(enum es_fsio_point at, void *arg)
{
	if (at != ES_FSIO_AT_COMMIT)
		return;
	put(arg, SAVE_REL, SAVE_HEAD "colour: green\nsecond save\n");
	es__fsio_hook = NULL;
}

static void
test_save_during_pass_not_reverted(void **state)
{
	struct world w;
	bson_t doc;
	char *body;

	(void)state;
	w_begin(&w, "h_save");
	seed_home(&w);
	/* The app sets a due date; the user saves a first time. */
	peer(&w, "update-project", "{\"slug\":\"paint-fence\",\"set\":{"
	    "\"due\":\"2026-05-01\"}}");
	put(&w, SAVE_REL, SAVE_HEAD "colour: green\nfirst save\n");
	set_mtime(&w, SAVE_REL, 1);
	/* The pass merges both; as it writes the due date into the file
	 * the user saves again: its write is refused, the save stays. */
	es__fsio_hook = second_save;
	es__fsio_hook_arg = &w;
	assert_int_equal(engine_pass(&w), 1);
	es__fsio_hook = NULL;
	assert_file_has(&w, SAVE_REL, "second save");
	/* The next passes: the second save wins, the due date arrives, no
	 * conflict, nothing reverted. */
	assert_int_equal(syncd(&w, NULL), 0);
	if (!contains(w.err.buf, " 0 conflicts,") ||
	    contains(w.err.buf, "version kept"))
		fail_msg("%s", w.err.buf);
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_true(contains(w.out.buf, "\"plan\":[]"));
	body = get(&w, SAVE_REL);
	assert_non_null(strstr(body, "second save"));
	assert_null(strstr(body, "first save"));
	assert_non_null(strstr(body, "due: 2026-05-01"));
	free(body);
	assert_true(doc_get(&w, "projects", "paint-fence", &doc));
	{
		bson_iter_t it;

		assert_true(bson_iter_init_find(&it, &doc, "content"));
		assert_non_null(strstr(bson_iter_utf8(&it, NULL),
		    "second save"));
	}
	bson_destroy(&doc);
	assert_false(exists(&w, ".execsync/conflicts"));
	w_end(&w);
}

/* ---- issue 19 item 8: writes whose answer never came ---- */

#define LOST_LIST	"00k-next-actions/contexts/@macbook.md"
#define LOST_A		"10k-projects/active/work/lost-a.md"
#define LOST_B		"10k-projects/active/work/lost-b.md"

static void
lost_tree(const struct world *w, const char *prio, const char *due_a,
    const char *due_b)
{
	struct es_buf b = ES_BUF_INIT;

	es_buf_addstr(&b, "# @macbook\n\n");
	for (int i = 0; i < 5; i++)
		es_buf_addf(&b, "- [ ] %sLine %d\n", prio, i);
	put(w, LOST_LIST, b.buf);
	es_buf_reset(&b);
	es_buf_addf(&b, "---\narea: Work\ntitle: Lost A\n%s---\nbody\n",
	    due_a);
	put(w, LOST_A, b.buf);
	es_buf_reset(&b);
	es_buf_addf(&b, "---\narea: Work\ntitle: Lost B\n%s---\nbody\n",
	    due_b);
	put(w, LOST_B, b.buf);
	es_buf_release(&b);
}

static size_t
count_in(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/*
 * The server did the writes but their answers were lost (a socket
 * timeout; es__store_lose_replies): the projects' bulk, the actions' bulk,
 * then a project's single compare-and-swap. Sent again, each no longer
 * matches, and is recognised as ours by the version it set: the pass
 * neither decides again against its own write ("the document changed
 * while syncing") nor fails, and the next pass has nothing to do.
 */
static void
test_lost_answers_recognised(void **state)
{
	struct world w;
	char *all;
	bson_t doc;

	(void)state;
	w_begin(&w, "h_lost");
	lost_tree(&w, "", "", "");
	assert_int_equal(syncd(&w, NULL), 0);

	/* Both projects: their bulk's answer is lost. */
	lost_tree(&w, "", "due: 2027-02-01\n", "due: 2027-02-02\n");
	es__store_lose_replies = 1;
	assert_int_equal(engine_pass(&w), 0);
	assert_int_equal(es__store_lose_replies, 0);
	/* Every line: the actions' bulk. */
	lost_tree(&w, "(B) ", "due: 2027-02-01\n", "due: 2027-02-02\n");
	es__store_lose_replies = 1;
	assert_int_equal(engine_pass(&w), 0);
	assert_int_equal(es__store_lose_replies, 0);
	/* One project: its single compare-and-swap. */
	lost_tree(&w, "(B) ", "due: 2027-03-01\n", "due: 2027-02-02\n");
	es__store_lose_replies = 1;
	assert_int_equal(engine_pass(&w), 0);
	assert_int_equal(es__store_lose_replies, 0);

	assert_int_equal(syncd1(&w, "--json"), 0);
	if (!contains(w.out.buf, "\"plan\":[]"))
		fail_msg("not settled: %s", w.out.buf);
	assert_true(doc_get(&w, "projects", "lost-a", &doc));
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2027-03-01"));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "lost-b", &doc));
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2027-02-02"));
	bson_destroy(&doc);
	all = dump(&w);
	assert_int_equal(count_in(all, "\"priority\":\"B\""), 5);
	free(all);
	assert_int_equal(count_docs(&w, "actions"), 5);
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_false(exists(&w, ".execsync/conflicts"));
	w_end(&w);
}

/* ---- issue 19 item 10: a document too large for a file ---- */

static void
test_document_over_max_file_size_not_written(void **state)
{
	struct world w;
	struct es_buf json = ES_BUF_INIT;
	char *cfg;
	const char *extra[3];

	(void)state;
	w_begin(&w, "h_big");
	seed_home(&w);
	cfg = es_xasprintf("%s/config.yaml", w.tmp);
	{
		FILE *f = fopen(cfg, "w");

		assert_non_null(f);
		fputs("max_file_size: 2 KiB\n", f);
		fclose(f);
	}
	extra[0] = "--config";
	extra[1] = cfg;
	extra[2] = NULL;
	es_buf_addstr(&json, "{\"slug\":\"paint-fence\",\"set\":{"
	    "\"content\":\"");
	for (int i = 0; i < 100; i++)
		es_buf_addstr(&json, "a line of forty bytes, give or take\\n");
	es_buf_addstr(&json, "\"}}");
	peer(&w, "update-project", json.buf);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(syncd(&w, extra), 1);
		assert_true(contains(w.err.buf, "over max_file_size (2048): "
		    "not written"));
		assert_file_has(&w, HOME_A, "white");
	}
	/* Shortened in the app: it syncs. */
	peer(&w, "update-project", "{\"slug\":\"paint-fence\",\"set\":{"
	    "\"content\":\"short again\\n\"}}");
	assert_int_equal(syncd(&w, extra), 0);
	assert_file_has(&w, HOME_A, "short again");
	es_buf_release(&json);
	free(cfg);
	w_end(&w);
}

/* ---- issue 19 item 9: two passes at once ---- */

/*
 * While another process holds the root's lock (here the test, through the
 * same es_lock_take() execsyncd uses), execsyncd --once changes nothing,
 * names the holder and exits 75; then it runs.
 */
static void
test_second_pass_refused_75(void **state)
{
	struct world w;
	struct es_lock *l = NULL;
	struct es_error err;
	pid_t holder;
	int fd;
	char *d1, *d2, *pid;

	(void)state;
	w_begin(&w, "h_lock");
	seed_home(&w);
	put(&w, HOME_A, "---\narea: Home\ntitle: Paint Fence\n---\ngreen\n");
	fd = open(w.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(es_lock_take(fd, &l, &holder, &err), ES_LOCK_TAKEN);
	d1 = dump(&w);
	assert_int_equal(syncd1(&w, "--json"), 75);
	pid = es_xasprintf("(pid %ld)", (long)getpid());
	assert_true(contains(w.err.buf, pid));
	assert_true(contains(w.out.buf, "\"exit_status\":75"));
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	/* It does not even reach for the database (an unreachable one
	 * would be exit 2): the root is checked first. */
	{
		const char *away[] = { "--mongodb-uri",
		    "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200",
		    NULL };

		assert_int_equal(syncd(&w, away), 75);
	}
	es_lock_release(l);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(contains(w.err.buf, "1 to the database"));
	close(fd);
	free(pid);
	free(d1);
	free(d2);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_unreadable_folder_not_deleted),
	cmocka_unit_test(test_folder_without_x_not_deleted),
	cmocka_unit_test(test_unreadable_file_not_deleted),
	cmocka_unit_test(test_second_pass_refused_75),
	cmocka_unit_test(test_shared_slugs_reported_not_wedged),
	cmocka_unit_test(test_migrate_with_other_users_shared_slugs),
	cmocka_unit_test(test_rename_onto_trashed_slug_converges),
	cmocka_unit_test(test_save_during_pass_not_reverted),
	cmocka_unit_test(test_lost_answers_recognised),
	cmocka_unit_test(test_document_over_max_file_size_not_written),
};

ES_ITEST_MAIN(tests)
