/*
 * `execsyncd --once` against a real git repository and a real server
 * (issue 5): a checkout of another branch that a pass meets half done
 * (SPEC 4.16), and compare-and-swap writes that lose to the API twice in a
 * row (SPEC 4.12). Each case: its own database and folder; database
 * changes only through the API peer.
 */
#include "sync-world.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "execsync/store.h"
#include "execsync/xmalloc.h"

#ifndef ES_SYNCD_BIN
#error "ES_SYNCD_BIN (the path of execsyncd) is not defined"
#endif

#define WAIT_MS		30000

static bool
exists_at(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* git -C root with a fixed identity, args...; fails the test unless 0. */
static void
git(const struct world *w, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	char *argv[16];
	struct es_buf err = ES_BUF_INIT;
	int n = 0, rc;

	argv[n++] = (char *)"git";
	argv[n++] = (char *)"-C";
	argv[n++] = w->root;
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)"user.name=execsync test";
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)"user.email=test@execsync.invalid";
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)"commit.gpgsign=false";
	argv[n++] = (char *)a1;
	if (a2 != NULL)
		argv[n++] = (char *)a2;
	if (a3 != NULL)
		argv[n++] = (char *)a3;
	if (a4 != NULL)
		argv[n++] = (char *)a4;
	argv[n] = NULL;
	rc = es_itest_run(argv, NULL, &err, 60);
	if (rc != 0)
		fail_msg("git %s %s: exit %d: %s", a1, a2 ? a2 : "", rc,
		    err.buf ? err.buf : "");
	es_buf_release(&err);
}

/* ---- SPEC 4.16: a checkout of another branch, met half done ---- */

#define ALPHA	"10k-projects/active/work/alpha.md"
#define BETA	"10k-projects/active/work/beta.md"
#define GAMMA	"10k-projects/active/work/gamma.md"
#define GAMMA_C	"10k-projects/completed/work/gamma.md"
#define DELTA	"10k-projects/active/work/delta.md"
#define GOAL	"30k-goals/active/run-far.md"

static const char gamma_text[] =
    "---\narea: Work\ntitle: Gamma\ntype: standard\n---\ngamma body\n";

/*
 * Main: alpha, beta, gamma (active) and a goal. Branch "feature": alpha
 * retitled with a new body line, beta deleted, gamma completed (moved to
 * completed/ with its date), delta new. The work tree is left on main,
 * synced.
 */
static void
git_seed(struct world *w)
{
	git(w, "init", "-q", "-b", "main");
	/* The filter "hold" is configured only when a test wants the
	 * checkout to stop; unconfigured, git ignores the attribute. */
	put(w, ".gitattributes", "*.md filter=hold\n");
	put(w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n---\n"
	    "# Alpha\n\nline one\n");
	put(w, BETA, "---\narea: Work\ntitle: Beta\n---\nbeta body\n");
	put(w, GAMMA, gamma_text);
	put(w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	git(w, "add", "-A", NULL, NULL);
	git(w, "commit", "-q", "-m", "main");
	assert_int_equal(syncd(w, NULL), 0);

	git(w, "checkout", "-q", "-b", "feature");
	put(w, ALPHA, "---\narea: Work\ntitle: Alpha Feature\ntype: standard\n"
	    "---\n# Alpha\n\nline one\nline from the branch\n");
	put(w, DELTA, "---\narea: Work\ntitle: Delta\n---\ndelta body\n");
	put(w, GAMMA_C, "---\narea: Work\ntitle: Gamma\ntype: standard\n"
	    "completed: 2026-01-15\n---\ngamma body\n");
	git(w, "rm", "-q", BETA, NULL);
	git(w, "rm", "-q", GAMMA, NULL);
	git(w, "add", "-A", NULL, NULL);
	git(w, "commit", "-q", "-m", "feature");
	git(w, "checkout", "-q", "main", NULL);
	/* Back on main: the same meaning as synced, nothing to do. */
	assert_int_equal(syncd(w, NULL), 0);
}

/* Waits (bounded) until path exists. */
static void
wait_for(const char *path)
{
	int64_t end = es_itest_mono_ms() + WAIT_MS;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (!exists_at(path)) {
		if (es_itest_mono_ms() > end)
			fail_msg("%s did not appear", path);
		nanosleep(&ts, NULL);
	}
}

/* Waits (bounded) for pid; its exit status, or -1 (killed). */
static int
wait_child(pid_t pid)
{
	int64_t end = es_itest_mono_ms() + WAIT_MS;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0)
			return -1;
		if (es_itest_mono_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * A real `git checkout feature` is stopped half way by a smudge filter
 * that waits for a file: git holds .git/index.lock, has already removed
 * the files the branch deletes or moves away (beta, active/gamma, and
 * alpha, which it rewrites) and has not written the new ones yet. A pass
 * started then, in its own process, must be held and change nothing:
 * synced, that half state would soft-delete alpha, beta and gamma. Once
 * the checkout ends and git removes its lock, the next pass brings the
 * database to the branch's end state: alpha retitled, beta deleted, gamma
 * the same document now completed (never deleted and recreated), delta
 * new, no conflict copies, no extra documents, and a pass after that has
 * nothing to do.
 */
static void
test_checkout_during_pass(void **state)
{
	struct world w;
	bson_t doc;
	bson_oid_t gamma_id, again;
	char *lock, *started, *go, *cmd, *idx;
	size_t nproj;
	pid_t pid;
	int devnull;

	(void)state;
	w_begin(&w, "g_checkout");
	git_seed(&w);
	assert_true(doc_get(&w, "projects", "gamma", &doc));
	es_itest_oid(&doc, "_id", &gamma_id);
	bson_destroy(&doc);
	nproj = count_docs(&w, "projects");
	assert_int_equal(nproj, 3);

	lock = path_of(&w, ".git/index.lock");
	started = es_xasprintf("%s/filter-started", w.tmp);
	go = es_xasprintf("%s/filter-go", w.tmp);
	cmd = es_xasprintf("touch '%s'; while [ ! -e '%s' ]; do sleep 0.02; "
	    "done; cat", started, go);
	git(&w, "config", "filter.hold.smudge", cmd, NULL);

	if ((pid = fork()) < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execlp("git", "git", "-C", w.root, "checkout", "-q", "feature",
		    (char *)NULL);
		_exit(127);
	}
	wait_for(started);
	/* Mid-checkout: the lock is git's, the tree half written. */
	assert_true(exists_at(lock));
	idx = path_of(&w, BETA);
	assert_false(exists_at(idx));
	free(idx);
	idx = path_of(&w, DELTA);
	assert_false(exists_at(idx));
	free(idx);

	assert_int_equal(syncd(&w, NULL), 75);	/* try later (SPEC 4.16) */
	assert_true(contains(w.err.buf, "held: git operation in progress "
	    "(index.lock), nothing synced"));
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha");
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "gamma", &doc));
	assert_false(doc_deleted(&doc));
	assert_string_equal(es_itest_str(&doc, "folder"), "active");
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "projects"), nproj);

	/* Let the checkout finish; git removes its lock. */
	{
		int fd = open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0)
			fail_msg("%s: %s", go, strerror(errno));
		close(fd);
	}
	assert_int_equal(wait_child(pid), 0);
	assert_false(exists_at(lock));
	git(&w, "config", "--unset", "filter.hold.smudge", NULL);

	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha Feature");
	assert_true(contains(es_itest_str(&doc, "content"),
	    "line from the branch"));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_true(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "gamma", &doc));
	assert_false(doc_deleted(&doc));
	assert_string_equal(es_itest_str(&doc, "folder"), "completed");
	assert_true(es_itest_date(&doc, "completed") ==
	    es_itest_day_ms("2026-01-15"));
	es_itest_oid(&doc, "_id", &again);
	assert_true(bson_oid_equal(&gamma_id, &again));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "delta", &doc));
	assert_false(doc_deleted(&doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Delta");
	bson_destroy(&doc);
	assert_true(doc_get(&w, "goals", "run-far", &doc));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	/* Nothing in between: one document more (delta), no copies. */
	assert_int_equal(count_docs(&w, "projects"), nproj + 1);
	assert_int_equal(count_docs(&w, ES_STORE_CONFLICTS), 0);
	/* The branch's files are as committed: nothing lost. */
	assert_file_has(&w, ALPHA, "line from the branch");
	assert_file_has(&w, GAMMA_C, "completed: 2026-01-15");
	{
		struct es_buf out = ES_BUF_INIT;
		char *argv[] = { (char *)"git", (char *)"-C", w.root,
		    (char *)"status", (char *)"--porcelain", NULL };

		assert_int_equal(es_itest_run(argv, &out, NULL, 30), 0);
		es_buf_addstr(&out, "");
		assert_string_equal(out.buf, "");
		es_buf_release(&out);
	}
	/* Settled: the next pass (a full read) plans nothing. */
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	assert_string_equal(w.out.buf ? w.out.buf : "", "");

	free(cmd);
	free(go);
	free(started);
	free(lock);
	w_end(&w);
}

/* ---- SPEC 4.12: compare-and-swap lost twice in a row ---- */

static int64_t
ua_of(const struct world *w, const char *slug, bson_oid_t *id)
{
	bson_t doc;
	int64_t ua;

	assert_true(doc_get(w, "projects", slug, &doc));
	ua = es_itest_date(&doc, "updated_at");
	if (id != NULL)
		es_itest_oid(&doc, "_id", id);
	bson_destroy(&doc);
	return ua;
}

/*
 * The engine offers no seam between its read of a document and its write
 * (it re-reads and re-plans once after a lost compare-and-swap, then
 * leaves the entity to the next pass), so the double loss is played at the
 * store, as a writer that read version 0 meets it: the API changes the
 * document after our read, our write (expecting version 0) is refused;
 * we "re-read" version 1, the API changes it again, our second write
 * (expecting version 1) is refused too. Neither write may touch the
 * document: both of the API's edits stay. Then the engine's next pass,
 * with a file edit of its own pending and the API's clock a day behind
 * (so its since-query misses the changes and its own write loses once
 * more), converges: every edit of both sides is kept, on both sides.
 */
static void
test_cas_lost_twice_converges(void **state)
{
	struct world w;
	bson_t doc, upd = BSON_INITIALIZER, set;
	bson_oid_t id;
	struct es_error err;
	int64_t day = (int64_t)24 * 3600 * 1000, v0, v1, v2, mine;
	bool matched = true;

	(void)state;
	w_begin(&w, "g_cas2");
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n---\n"
	    "# Alpha\n\nline one\n");
	assert_int_equal(syncd(&w, NULL), 0);
	v0 = ua_of(&w, "alpha", &id);

	BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
	BSON_APPEND_UTF8(&set, "title", "Alpha Ours");
	mine = es_itest_now_ms();
	BSON_APPEND_DATE_TIME(&set, "updated_at", mine);
	bson_append_document_end(&upd, &set);

	/* First loss: the API wrote after our read of v0. */
	peer_clock(&w, -day, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha API\"}}");
	v1 = ua_of(&w, "alpha", NULL);
	assert_true(v1 != v0);
	assert_int_equal(es_store_update_cas(w.t.store, ES_KIND_PROJECT, &id,
	    w.t.user, v0, mine, &upd, &matched, &err), 0);
	assert_false(matched);
	/* Second loss: re-read v1, the API wrote again before our write. */
	peer_clock(&w, -day + 1000, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"due\":\"2026-09-09\"}}");
	v2 = ua_of(&w, "alpha", NULL);
	assert_true(v2 != v1);
	matched = true;
	assert_int_equal(es_store_update_cas(w.t.store, ES_KIND_PROJECT, &id,
	    w.t.user, v1, mine, &upd, &matched, &err), 0);
	assert_false(matched);
	/* Nothing overwritten: both of the API's edits are there. */
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha API");
	assert_true(es_itest_date(&doc, "due") == es_itest_day_ms("2026-09-09"));
	assert_true(es_itest_date(&doc, "updated_at") == v2);
	bson_destroy(&doc);

	/* The engine: our own edit pending, the API's edits unseen by the
	 * since-query (a day old): its write loses, it re-reads, merges. */
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n---\n"
	    "# Alpha\n\nline one\nline two from the file\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(contains(w.err.buf, "deciding again"));
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha API");
	assert_true(es_itest_date(&doc, "due") == es_itest_day_ms("2026-09-09"));
	assert_true(contains(es_itest_str(&doc, "content"),
	    "line two from the file"));
	bson_destroy(&doc);
	assert_file_has(&w, ALPHA, "title: Alpha API");
	assert_file_has(&w, ALPHA, "due: 2026-09-09");
	assert_file_has(&w, ALPHA, "line two from the file");
	assert_int_equal(count_docs(&w, ES_STORE_CONFLICTS), 0);
	/* Converged: a full pass after it plans nothing. */
	assert_int_equal(syncd1(&w, "--full"), 0);
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	assert_string_equal(w.out.buf ? w.out.buf : "", "");
	bson_destroy(&upd);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_checkout_during_pass),
	cmocka_unit_test(test_cas_lost_twice_converges),
};

ES_ITEST_MAIN(tests)
