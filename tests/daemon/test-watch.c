/*
 * The file watcher (daemon/watch.h) on real folders in a temporary root and
 * a real libuv loop. Every wait runs the loop until a condition holds or a
 * deadline passes; "nothing more" is checked by running the loop for a few
 * debounces after the batch and seeing none arrive.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "execsync/buf.h"
#include "execsync/layout.h"

#include "es-files.h"
#include "es-test.h"
#include "watch.h"

#define DEBOUNCE_MS	50
#define WAIT_MS		10000	/* the longest a batch may take */
#define QUIET_MS	(DEBOUNCE_MS * 6)	/* "no further batch" */

#define AREA	ES_DIR_PROJECTS "/active/learning"
#define P_MD	AREA "/learn-rust.md"

struct batch {
	char		*paths;		/* "a\nb\n" */
	unsigned	 flags;
};

struct t {
	char		 root[PATH_MAX];
	uv_loop_t	 loop;
	struct es_watch	*w;
	unsigned	 debounce_ms;	/* 0: DEBOUNCE_MS */
	struct batch	 b[4096];
	size_t		 nb;
	bool		 expired;
	const char	*bad;		/* what on_batch found wrong */
	uv_timer_t	 tick;		/* busy_path_capped's writer */
	int		 writes;
};

static void
on_batch(struct es_watch *w, const char *const *rels, size_t n,
    unsigned flags, void *ud)
{
	struct t *t = ud;
	struct es_buf buf;

	/* No assertion here: a failure must not leave the loop mid-run. */
	(void)w;
	if (t->nb == sizeof(t->b) / sizeof(t->b[0])) {
		t->bad = "too many batches";
		return;
	}
	es_buf_init(&buf, 64);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(rels[i - 1], rels[i]) >= 0)
			t->bad = "paths not sorted and unique";
		es_buf_addf(&buf, "%s\n", rels[i]);
	}
	t->b[t->nb].paths = es_buf_detach(&buf, NULL);
	t->b[t->nb].flags = flags;
	t->nb++;
}

static void
on_deadline(uv_timer_t *h)
{
	struct t *t = h->data;

	t->expired = true;
}

/* Runs the loop until done(t) or ms have passed; returns done(t). */
static bool
run(struct t *t, unsigned ms, bool (*done)(struct t *))
{
	uv_timer_t dl;
	bool ok;

	t->expired = false;
	uv_timer_init(&t->loop, &dl);
	dl.data = t;
	uv_timer_start(&dl, on_deadline, ms, 0);
	while (!(ok = done != NULL && done(t)) && !t->expired)
		uv_run(&t->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&dl, NULL);
	uv_run(&t->loop, UV_RUN_NOWAIT);
	if (t->bad != NULL)
		fail_msg("%s", t->bad);
	return ok;
}

static bool
some_batch(struct t *t)
{
	return t->nb > 0;
}

/* Waits for one batch, then for QUIET_MS more: exactly one came. */
static const struct batch *
one_batch(struct t *t)
{
	if (!run(t, WAIT_MS, some_batch))
		fail_msg("no batch within %d ms", WAIT_MS);
	(void)run(t, QUIET_MS, NULL);
	if (t->nb != 1) {
		for (size_t i = 0; i < t->nb; i++)
			print_error("batch %zu (flags %u):\n%s", i,
			    t->b[i].flags, t->b[i].paths);
		fail_msg("want 1 batch, got %zu", t->nb);
	}
	return &t->b[0];
}

static void
no_batch(struct t *t)
{
	(void)run(t, QUIET_MS, NULL);
	if (t->nb != 0)
		fail_msg("want no batch, got %zu, first:\n%s", t->nb,
		    t->b[0].paths);
}

static void
clear_batches(struct t *t)
{
	for (size_t i = 0; i < t->nb; i++)
		free(t->b[i].paths);
	t->nb = 0;
}

static void
start(struct t *t, const char *const *ignore)
{
	struct es_watch_opts o = {
		.root = t->root,
		.debounce_ms = t->debounce_ms ? t->debounce_ms : DEBOUNCE_MS,
		.ignore = ignore,
		.cb = on_batch,
		.ud = t,
	};
	struct es_error err;

	es_error_clear(&err);
	t->w = es_watch_new(&t->loop, &o, &err);
	if (t->w == NULL)
		fail_msg("es_watch_new: %s", err.msg);
}

/* A root with the three trees, a project and an action list. */
static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "%s/es-watch-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(t->root));
	assert_int_equal(uv_loop_init(&t->loop), 0);
	put_str(t->root, P_MD, "---\nstatus: active\n---\n# Learn Rust\n");
	mkdirs(t->root, ES_DIR_PROJECTS "/incubator/learning/");
	put_str(t->root, ES_DIR_ACTIONS "/contexts/@home.md", "- [ ] a\n");
	mkdirs(t->root, ES_DIR_GOALS "/active/");
	mkdirs(t->root, ".execsync/");
	mkdirs(t->root, ".git/");
	*state = t;
	return 0;
}

static void
close_left(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
teardown(void **state)
{
	struct t *t = *state;

	es_watch_free(t->w);
	uv_walk(&t->loop, close_left, NULL);	/* a test that failed */
	uv_run(&t->loop, UV_RUN_DEFAULT);	/* the close callbacks */
	assert_int_equal(uv_loop_close(&t->loop), 0);
	clear_batches(t);
	es_test_rm_tree(t->root);
	free(t);
	return 0;
}

static void
assert_paths(const struct batch *b, const char *want, unsigned flags)
{
	assert_string_equal(b->paths, want);
	assert_int_equal(b->flags, flags);
}

static void
do_rename(struct t *t, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	path_of(a, sizeof(a), t->root, from);
	path_of(b, sizeof(b), t->root, to);
	if (rename(a, b) == -1)
		fail_msg("rename %s %s: %s", a, b, strerror(errno));
}

static void
do_unlink(struct t *t, const char *rel)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), t->root, rel);
	if (unlink(p) == -1)
		fail_msg("unlink %s: %s", p, strerror(errno));
}

static void
write_in_place(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	put_str(t->root, P_MD, "---\nstatus: active\n---\n# Rust\n");
	assert_paths(one_batch(t), P_MD "\n", 0);
	assert_true(es_watch_events(t->w) >= 1);
}

/*
 * Each event pushes the deadline back: writes closer together than the
 * debounce are one batch, however long they go on.
 */
static void
debounce_pushed_back(void **state)
{
	struct t *t = *state;

	/* Windows of 60 ms: 340 ms to spare on a loaded machine. */
	t->debounce_ms = 400;
	start(t, NULL);
	for (int i = 0; i < 8; i++) {
		put_str(t->root, P_MD, i % 2 ? "a\n" : "b\n");
		(void)run(t, 60, NULL);
		assert_int_equal(t->nb, 0);
	}
	assert_paths(one_batch(t), P_MD "\n", 0);
}

static void
on_busy(uv_timer_t *h)
{
	struct t *t = h->data;

	put_str(t->root, AREA "/busy.md", "x\n");
	t->writes++;
}

static bool
p_md_seen(struct t *t)
{
	for (size_t i = 0; i < t->nb; i++)
		if (strstr(t->b[i].paths, P_MD "\n") != NULL)
			return true;
	return false;
}

/*
 * A file written without pause never starves the others: within 10
 * debounces (and as much again for a loaded machine) a quiet path goes
 * out while the busy one is still being written. A long debounce, so a
 * stall of the machine is not taken for the quiet that would deliver it
 * anyway.
 */
static void
busy_path_capped(void **state)
{
	struct t *t = *state;

	t->debounce_ms = 300;
	start(t, NULL);
	uv_timer_init(&t->loop, &t->tick);
	t->tick.data = t;
	uv_timer_start(&t->tick, on_busy, 0, 20);
	put_str(t->root, P_MD, "new\n");
	if (!run(t, 20 * 300, p_md_seen))
		fail_msg("a quiet path waited %d ms behind a busy one",
		    20 * 300);
	assert_true(t->writes > 0);
}

static void
temp_renamed_over(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	put_str(t->root, AREA "/.learn-rust.md.tmp123", "new\n");
	do_rename(t, AREA "/.learn-rust.md.tmp123", P_MD);
	assert_paths(one_batch(t), P_MD "\n", 0);
}

static void
vim_save(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	do_rename(t, P_MD, P_MD "~");
	put_str(t->root, P_MD, "new\n");
	do_unlink(t, P_MD "~");
	assert_paths(one_batch(t), P_MD "\n", 0);
}

static void
delete_then_create(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	do_unlink(t, P_MD);
	put_str(t->root, P_MD, "new\n");
	assert_paths(one_batch(t), P_MD "\n", 0);
}

static void
new_area_folder(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	/* The file exists before the loop sees the mkdir: the listing. */
	put_str(t->root, ES_DIR_PROJECTS "/active/new-area/p.md", "x\n");
	assert_paths(one_batch(t), ES_DIR_PROJECTS "/active/new-area\n"
	    ES_DIR_PROJECTS "/active/new-area/p.md\n", 0);
	/* And the new folder is watched from now on. */
	clear_batches(t);
	put_str(t->root, ES_DIR_PROJECTS "/active/new-area/q.md", "y\n");
	assert_paths(one_batch(t), ES_DIR_PROJECTS "/active/new-area/q.md\n",
	    0);
}

static void
move_between_folders(void **state)
{
	struct t *t = *state;
	const char *to = ES_DIR_PROJECTS "/incubator/learning/learn-rust.md";

	start(t, NULL);
	do_rename(t, P_MD, to);
	assert_paths(one_batch(t), P_MD "\n" ES_DIR_PROJECTS
	    "/incubator/learning/learn-rust.md\n", 0);
}

static void
folder_moved_in_tree(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	do_rename(t, AREA, ES_DIR_PROJECTS "/active/rust");
	assert_paths(one_batch(t), AREA "\n" ES_DIR_PROJECTS "/active/rust\n",
	    ES_WATCH_RESCAN);
	/* Its watch follows it: a write under the new name is named so. */
	clear_batches(t);
	put_str(t->root, ES_DIR_PROJECTS "/active/rust/learn-rust.md", "z\n");
	assert_paths(one_batch(t), ES_DIR_PROJECTS
	    "/active/rust/learn-rust.md\n", 0);
}

/*
 * A folder moved out of the root: named alone, with ES_WATCH_RESCAN (its
 * files left unseen); its watches are dropped, so what is written there
 * later is not taken for a change under its old name.
 */
static void
folder_moved_out(void **state)
{
	struct t *t = *state;
	char out[PATH_MAX + 8], a[PATH_MAX];

	start(t, NULL);
	snprintf(out, sizeof(out), "%s.out", t->root);
	path_of(a, sizeof(a), t->root, AREA);
	assert_int_equal(rename(a, out), 0);
	assert_paths(one_batch(t), AREA "\n", ES_WATCH_RESCAN);
	clear_batches(t);
	put_str(out, "learn-rust.md", "later\n");
	put_str(out, "new.md", "later\n");
	no_batch(t);
	assert_int_equal(es_test_rm_tree(out), 0);
	assert_int_equal(es_watch_count(t->w), 9);
}

/* A write the daemon must see after the ones it must not: only it comes. */
static void
marker(struct t *t)
{
	put_str(t->root, ES_DIR_GOALS "/active/marker.md", "m\n");
	assert_paths(one_batch(t), ES_DIR_GOALS "/active/marker.md\n", 0);
}

static void
private_folders(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	put_str(t->root, ".execsync/baseline.sqlite", "x");
	put_str(t->root, ".execsync/new/x.md", "x");
	put_str(t->root, ".git/index.lock", "x");
	do_unlink(t, ".git/index.lock");
	put_str(t->root, ".git/objects/ab/cdef", "x");
	no_batch(t);
	marker(t);
}

static void
ignored_globs(void **state)
{
	static const char *const ignore[] = {
		ES_DIR_PROJECTS "/active/archive/",
		ES_DIR_PROJECTS "/active/*/draft-*.md",
		NULL
	};
	struct t *t = *state;

	mkdirs(t->root, ES_DIR_PROJECTS "/active/archive/");
	start(t, ignore);
	put_str(t->root, ES_DIR_PROJECTS "/active/archive/old.md", "x\n");
	put_str(t->root, AREA "/draft-plan.md", "x\n");
	mkdirs(t->root, ES_DIR_PROJECTS "/active/archive/sub/");
	no_batch(t);
	marker(t);
}

static void
not_synced(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	put_str(t->root, "notes.txt", "x\n");
	put_str(t->root, AREA "/notes.txt", "x\n");
	put_str(t->root, ES_DIR_ACTIONS "/random.md", "x\n");
	put_str(t->root, AREA "/4913", "");
	do_unlink(t, AREA "/4913");
	no_batch(t);
	marker(t);
}

static bool
all_1000(struct t *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nb; i++)
		for (const char *s = t->b[i].paths; *s != '\0'; s++)
			n += *s == '\n';
	return n >= 1000;
}

static void
burst_1000(void **state)
{
	struct t *t = *state;
	char rel[PATH_MAX], *seen;
	size_t nseen = 0;

	start(t, NULL);
	for (int i = 0; i < 1000; i++) {
		snprintf(rel, sizeof(rel), AREA "/f%04d.md", i);
		put_str(t->root, rel, "x\n");
	}
	if (!run(t, 4 * WAIT_MS, all_1000))
		fail_msg("not all 1,000 files within %d ms (%zu batches)",
		    4 * WAIT_MS, t->nb);
	seen = calloc(1000, 1);
	assert_non_null(seen);
	for (size_t i = 0; i < t->nb; i++) {
		const char *s = t->b[i].paths;
		int k;

		assert_int_equal(t->b[i].flags, 0);
		while (*s != '\0') {
			if (sscanf(s, AREA "/f%04d.md\n", &k) != 1 ||
			    k < 0 || k >= 1000)
				fail_msg("unexpected path in %s", s);
			if (!seen[k]++)
				nseen++;
			s = strchr(s, '\n') + 1;
		}
	}
	free(seen);
	assert_int_equal(nseen, 1000);
	print_message("1,000 files in %zu batch(es)\n", t->nb);
}

static bool
root_flagged(struct t *t)
{
	for (size_t i = 0; i < t->nb; i++)
		if (t->b[i].flags & ES_WATCH_ROOT)
			return true;
	return false;
}

static void
top_folder_removed(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX];

	start(t, NULL);
	path_of(p, sizeof(p), t->root, ES_DIR_GOALS);
	assert_int_equal(es_test_rm_tree(p), 0);
	assert_true(run(t, WAIT_MS, root_flagged));
	/* Renamed away counts too. */
	clear_batches(t);
	do_rename(t, ES_DIR_ACTIONS, "old-actions");
	assert_true(run(t, WAIT_MS, root_flagged));
}

static void
root_removed(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	assert_int_equal(es_test_rm_tree(t->root), 0);
	assert_true(run(t, WAIT_MS, root_flagged));
	(void)run(t, QUIET_MS, NULL);
	assert_int_equal(es_watch_count(t->w), 0);
	/* An empty root, then its own deletion alone. */
	clear_batches(t);
	assert_int_equal(mkdir(t->root, 0700), 0);
	assert_int_equal(es_watch_rewatch(t->w, NULL), 0);
	assert_int_equal(es_watch_count(t->w), 1);
	assert_int_equal(rmdir(t->root), 0);
	assert_true(run(t, WAIT_MS, root_flagged));
	(void)run(t, QUIET_MS, NULL);
	assert_int_equal(es_watch_count(t->w), 0);
	/* Back: rewatch finds nothing to watch yet and is no error. */
	assert_int_equal(es_watch_rewatch(t->w, NULL), 0);
}

static void
root_moved(void **state)
{
	struct t *t = *state;
	char to[PATH_MAX + 8];

	start(t, NULL);
	snprintf(to, sizeof(to), "%s.moved", t->root);
	assert_int_equal(rename(t->root, to), 0);
	assert_true(run(t, WAIT_MS, root_flagged));
	assert_int_equal(rename(to, t->root), 0);
}

static void
top_folder_appears(void **state)
{
	struct t *t = *state;
	char p[PATH_MAX];
	const struct batch *b;

	path_of(p, sizeof(p), t->root, ES_DIR_GOALS);
	assert_int_equal(es_test_rm_tree(p), 0);
	start(t, NULL);
	put_str(t->root, ES_DIR_GOALS "/active/g.md", "g\n");
	b = one_batch(t);
	assert_paths(b, ES_DIR_GOALS "\n" ES_DIR_GOALS "/active\n"
	    ES_DIR_GOALS "/active/g.md\n", ES_WATCH_ROOT);
	clear_batches(t);
	marker(t);
}

static void
counts_and_rewatch(void **state)
{
	struct t *t = *state;

	start(t, NULL);
	/*
	 * root, 00k-next-actions{,/contexts}, 10k-projects{,/active,
	 * /active/learning,/incubator,/incubator/learning}, 30k-goals{,
	 * /active}
	 */
	assert_int_equal(es_watch_count(t->w), 10);
	assert_int_equal(es_watch_rewatch(t->w, NULL), 0);
	assert_int_equal(es_watch_count(t->w), 10);
	put_str(t->root, P_MD, "new\n");
	assert_paths(one_batch(t), P_MD "\n", 0);
}

static void
missing_root(void **state)
{
	struct t *t = *state;
	size_t n = strlen(t->root);

	assert_true(n + 8 < sizeof(t->root));
	memcpy(t->root + n, "/absent", 8);
	start(t, NULL);
	assert_int_equal(es_watch_count(t->w), 0);
	t->root[n] = '\0';
}

static void
one_per_process(void **state)
{
	struct t *t = *state;
	struct es_watch_opts o = { .root = t->root, .cb = on_batch };
	struct es_error err;

	start(t, NULL);
	assert_null(es_watch_new(&t->loop, &o, &err));
	assert_int_equal(err.code, ES_EBUSY);
}

static bool
rescan_flagged(struct t *t)
{
	for (size_t i = 0; i < t->nb; i++)
		if (t->b[i].flags & ES_WATCH_RESCAN)
			return true;
	return false;
}

/*
 * More events than the kernel queues while the loop is not running: an
 * open-create-close gives two (IN_CREATE, IN_CLOSE_WRITE).
 */
static void
overflow(void **state)
{
	struct t *t = *state;
	long max = es_watch_max_queued_events();
	char rel[PATH_MAX];

	if (max < 0 || max > 100000) {
		print_message("max_queued_events %ld: too many to overflow "
		    "in a unit test, skipped\n", max);
		skip();
	}
	start(t, NULL);
	for (long i = 0; i < max / 2 + 100; i++) {
		snprintf(rel, sizeof(rel), AREA "/o%06ld.md", i);
		put_str(t->root, rel, "");
	}
	assert_true(run(t, 4 * WAIT_MS, rescan_flagged));
	assert_true(es_watch_overflows(t->w) >= 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(write_in_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(debounce_pushed_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(busy_path_capped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(temp_renamed_over, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(vim_save, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_then_create, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(new_area_folder, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(move_between_folders, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(folder_moved_in_tree, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(folder_moved_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(private_folders, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(ignored_globs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(not_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(burst_1000, setup, teardown),
		cmocka_unit_test_setup_teardown(top_folder_removed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(root_removed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(root_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(top_folder_appears, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(counts_and_rewatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(missing_root, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(one_per_process, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(overflow, setup, teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
