/*
 * fsio on real folders in /tmp: atomic writes that keep the mode (SPEC
 * 4.11), never through a symbolic link or out of the root (SPEC 4.11),
 * moves that never replace (SPEC 4.6), the trash (SPEC 4.5), conflict
 * copies (SPEC 4.2), and failure injection at every write, fsync, rename
 * and folder fsync (STYLE "Anomaly tests"): old or new content, never
 * half, and no temporary file left.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "es-test.h"
#include "fsio-tree.h"

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/scan.h"

#include "../../lib/io/fsio-internal.h"

/* A new file's folders are created; its mode goes through the umask. */
static void
test_fsio_write_new_creates_parents(void **state)
{
	static const char body[] = "---\narea: Learning\n---\n# Learn Rust\n";
	struct es_error err;
	struct es_stat st, scan_st;
	struct tree t;

	(void)state;
	tree_init(&t);
	umask(077);	/* as any program's new file: 0644 & ~077 */
	assert_int_equal(es_fsio_write(t.fd, RUST, body, sizeof(body) - 1,
	    ES_FSIO_MODE_NEW, NULL, NULL, &st, &err), 0);
	assert_file(t.root, RUST, body, sizeof(body) - 1);
	assert_int_equal(mode_of(t.root, RUST), S_IFREG | 0600);
	assert_int_equal(mode_of(t.root, "10k-projects"), S_IFDIR | 0700);
	assert_int_equal(mode_of(t.root, "10k-projects/active/learning"),
	    S_IFDIR | 0700);
	/* st_out is what the scanner sees, so the next pass is a no-op. */
	assert_int_equal(es_scan_stat(t.fd, RUST, &scan_st, &err), 1);
	assert_int_equal(st.ino, scan_st.ino);
	assert_int_equal(st.dev, scan_st.dev);
	assert_int_equal(st.size, sizeof(body) - 1);
	assert_int_equal(st.mtime_ns, scan_st.mtime_ns);
	assert_int_equal(st.mode, S_IFREG | 0600);
	/* A bare name lands in the root. */
	assert_int_equal(es_fsio_write(t.fd, "top.md", "x\n", 2, 0600, NULL,
	    NULL, NULL, &err), 0);
	assert_file(t.root, "top.md", "x\n", 2);
	assert_int_equal(mode_of(t.root, "top.md"), S_IFREG | 0600);
	assert_no_temp(t.root);
	tree_release(&t);
}

/* SPEC 4.11: "keeps the file's mode". */
static void
test_fsio_write_replace_keeps_mode(void **state)
{
	static const mode_t modes[] = { 0600, 0755, 0640, 0444 };
	struct es_error err;
	struct tree t;

	(void)state;
	tree_init(&t);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ino_t before;

		put(t.root, RUST, "old\n", 4, modes[i]);
		before = ino_of(t.root, RUST);
		assert_int_equal(es_fsio_write(t.fd, RUST, "new text\n", 9,
		    ES_FSIO_MODE_NEW, NULL, NULL, NULL, &err), 0);
		assert_file(t.root, RUST, "new text\n", 9);
		if (mode_of(t.root, RUST) != (S_IFREG | modes[i]))
			fail_msg("mode %o: got %o", (unsigned)modes[i],
			    (unsigned)mode_of(t.root, RUST));
		/* Replaced by rename, not rewritten in place. */
		assert_true(ino_of(t.root, RUST) != before);
	}
	assert_no_temp(t.root);
	tree_release(&t);
}

/* Bodies are bytes (STYLE "Strings and buffers"): NUL, CRLF, BOM, empty. */
static void
test_fsio_write_bytes_exact(void **state)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
	} cases[] = {
#define BYTES(s)	{ s, sizeof(s) - 1 }
		BYTES("a\0b\0\0c"),
		BYTES("\xef\xbb\xbf---\r\ntitle: x\r\n---\r\n"),
		BYTES("no newline at end"),
		BYTES("\0"),
		BYTES(""),
#undef BYTES
	};
	struct es_error err;
	struct es_stat st;
	struct tree t;

	(void)state;
	tree_init(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(es_fsio_write(t.fd, "a/b.md", cases[i].bytes,
		    cases[i].len, 0644, NULL, NULL, &st, &err), 0);
		assert_file(t.root, "a/b.md", cases[i].bytes, cases[i].len);
		assert_int_equal(st.size, cases[i].len);
	}
	/* buf may be NULL when len is 0. */
	assert_int_equal(es_fsio_write(t.fd, "a/c.md", NULL, 0, 0644, NULL,
	    NULL, NULL, &err), 0);
	assert_file(t.root, "a/c.md", "", 0);
	tree_release(&t);
}

static void
test_fsio_write_large(void **state)
{
	size_t n = (5u << 20) + 12345;
	char *big = make_bytes(n, 7), *big2 = make_bytes(n / 3, 9);
	struct es_error err;
	struct tree t;

	(void)state;
	tree_init(&t);
	assert_int_equal(es_fsio_write(t.fd, "big/file.md", big, n, 0644,
	    NULL, NULL, NULL, &err), 0);
	assert_file(t.root, "big/file.md", big, n);
	/* Shrinking: nothing of the old tail remains. */
	assert_int_equal(es_fsio_write(t.fd, "big/file.md", big2, n / 3,
	    0644, NULL, NULL, NULL, &err), 0);
	assert_file(t.root, "big/file.md", big2, n / 3);
	assert_no_temp(t.root);
	free(big);
	free(big2);
	tree_release(&t);
}

/* SPEC 4.12: a write never blindly overwrites an edit it did not see. */
static void
test_fsio_write_expect_mismatch(void **state)
{
	struct es_error err;
	struct es_stat seen, st, absent;
	struct timespec ts[2];
	char p[PATH_MAX];
	struct tree t;

	(void)state;
	tree_init(&t);
	memset(&absent, 0, sizeof(absent));
	put_str(t.root, RUST, "synced\n");
	assert_int_equal(es_scan_stat(t.fd, RUST, &seen, &err), 1);

	/* Unchanged since seen: the write goes through. */
	assert_int_equal(es_fsio_write(t.fd, RUST, "ours\n", 5, 0644, &seen,
	    NULL, &st, &err), 0);
	assert_file(t.root, RUST, "ours\n", 5);

	/* The user edits (same size, other mtime): refused, edit kept. */
	put_str(t.root, RUST, "user\n");
	path_of(p, sizeof(p), t.root, RUST);
	ts[0].tv_sec = ts[1].tv_sec = 1700000000;
	ts[0].tv_nsec = ts[1].tv_nsec = 5;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	assert_int_equal(es_fsio_write(t.fd, RUST, "again\n", 6, 0644, &st,
	    NULL, NULL, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_string_equal(err.path, RUST);
	assert_string_equal(err.msg, "changed on disk while syncing");
	assert_file(t.root, RUST, "user\n", 5);

	/* Deleted meanwhile: not recreated over the user's delete. */
	assert_int_equal(es_scan_stat(t.fd, RUST, &seen, &err), 1);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(es_fsio_write(t.fd, RUST, "x\n", 2, 0644, &seen, NULL,
	    NULL, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_absent(t.root, RUST);

	/* A zeroed expect: must not exist. */
	assert_int_equal(es_fsio_write(t.fd, RUST, "new\n", 4, 0644, &absent,
	    NULL, NULL, &err), 0);
	assert_file(t.root, RUST, "new\n", 4);
	assert_int_equal(es_fsio_write(t.fd, RUST, "newer\n", 6, 0644,
	    &absent, NULL, NULL, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_string_equal(err.msg, "already exists");
	assert_file(t.root, RUST, "new\n", 4);
	assert_no_temp(t.root);
	tree_release(&t);
}

/* The check runs right before the rename, after the (slow) write. */
static void
test_fsio_write_expect_late_edit(void **state)
{
	struct es_error err;
	struct es_stat seen, absent;
	struct edit ed;
	struct tree t;

	(void)state;
	tree_init(&t);
	memset(&absent, 0, sizeof(absent));
	put_str(t.root, RUST, "synced\n");
	assert_int_equal(es_scan_stat(t.fd, RUST, &seen, &err), 1);
	ed = (struct edit){ t.root, RUST, "edited meanwhile\n", 1, 0,
	    ES_FSIO_AT_COMMIT };
	es__fsio_hook = edit_now;
	es__fsio_hook_arg = &ed;
	assert_int_equal(es_fsio_write(t.fd, RUST, "ours\n", 5, 0644, &seen,
	    NULL, NULL, &err), -1);
	assert_int_equal(ed.calls, 1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_file(t.root, RUST, "synced\nedited meanwhile\n", 24);
	assert_no_temp(t.root);

	/* Created meanwhile, against a "must not exist" expect. */
	ed = (struct edit){ t.root, "new.md", "the user's\n", 1, 0,
	    ES_FSIO_AT_COMMIT };
	es__fsio_hook_arg = &ed;
	assert_int_equal(es_fsio_write(t.fd, "new.md", "ours\n", 5, 0644,
	    &absent, NULL, NULL, &err), -1);
	assert_int_equal(ed.calls, 1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_file(t.root, "new.md", "the user's\n", 11);
	assert_no_temp(t.root);
	tree_release(&t);
}

static const char *const op_names[] = { "write", "fsync", "rename",
    "dirfsync" };

/*
 * Runs a failure at the n-th call of op, for each op and every n until the
 * call succeeds, through run(); check() then sees the tree after each
 * failure. Returns nothing; fails when a count differs from want[op], the
 * number of failure points the operation has for op.
 */
struct fault_case {
	const char	*name;
	void		(*setup)(struct tree *);
	int		(*run)(struct tree *, struct es_error *);
	void		(*check)(struct tree *, bool ok);
	int		 want[ES_FSIO_OP_COUNT];
};

static void
fault_loop(const struct fault_case *fc)
{
	for (int op = 0; op < ES_FSIO_OP_COUNT; op++) {
		int failures = 0;

		for (int n = 1; n < 64; n++) {
			struct es_error err;
			struct tree t;
			int rc;

			tree_init(&t);
			fc->setup(&t);
			es__fsio_fail_after((enum es_fsio_op)op, n);
			es_error_clear(&err);
			rc = fc->run(&t, &err);
			es__fsio_fail_after((enum es_fsio_op)op, 0);
			if (rc == -1) {
				if (err.code != ES_EIO || err.sys != EIO)
					fail_msg("%s, %s #%d: %s (%s)",
					    fc->name, op_names[op], n,
					    err.msg, es_errcode_name(err.code));
				failures++;
			}
			fc->check(&t, rc == 0);
			assert_no_temp(t.root);
			tree_release(&t);
			if (rc == 0)
				break;
		}
		if (failures != fc->want[op])
			fail_msg("%s: %d failure points at %s, want %d",
			    fc->name, failures, op_names[op], fc->want[op]);
	}
}

/* 600 KiB: three write() calls of 256 KiB at most. */
#define FAULT_NEW_LEN	((size_t)600 << 10)
static char *fault_new;

static void
setup_old(struct tree *t)
{
	put(t->root, RUST, "old content\n", 12, 0640);
}

static void
setup_none(struct tree *t)
{
	(void)t;
}

static int
run_write(struct tree *t, struct es_error *err)
{
	return es_fsio_write(t->fd, RUST, fault_new, FAULT_NEW_LEN, 0644,
	    NULL, NULL, NULL, err);
}

/* The same over what was read, with a swap and two looks (issue 19). */
static int
run_write_cas(struct tree *t, struct es_error *err)
{
	struct es_buf b = ES_BUF_INIT;
	struct es_stat st;
	es_fp_t fp;
	int rc;

	assert_int_equal(es_scan_read(t->fd, RUST, 1 << 20, &b, &st, err), 0);
	fp = es_fp_bytes(b.buf, b.len);
	es_buf_release(&b);
	rc = es_fsio_write(t->fd, RUST, fault_new, FAULT_NEW_LEN, 0644, &st,
	    &fp, NULL, err);
	/* A failed call is never a refusal, so nothing is kept. */
	assert_absent(t->root, ".execsync");
	return rc;
}

/* Old or new, whole; the mode of whichever it is. */
static void
check_write(struct tree *t, bool ok)
{
	size_t len;
	char *got = slurp(t->root, RUST, &len);

	assert_non_null(got);
	if (len == FAULT_NEW_LEN && memcmp(got, fault_new, len) == 0)
		assert_int_equal(mode_of(t->root, RUST), S_IFREG | 0640);
	else if (ok)
		fail_msg("success, but not the new content");
	else
		assert_bytes_equal(got, len, "old content\n", 12);
	free(got);
}

static void
check_write_new(struct tree *t, bool ok)
{
	size_t len;
	char *got = slurp(t->root, RUST, &len);

	if (got == NULL) {
		assert_false(ok);
		return;
	}
	assert_bytes_equal(got, len, fault_new, FAULT_NEW_LEN);
	assert_int_equal(mode_of(t->root, RUST), S_IFREG | 0644);
	free(got);
}

static int
run_append(struct tree *t, struct es_error *err)
{
	return es_fsio_append(t->fd, RUST, "more\n", 5, err);
}

static void
check_append(struct tree *t, bool ok)
{
	size_t len;
	char *got = slurp(t->root, RUST, &len);

	assert_non_null(got);
	if (ok || len != 12)
		assert_bytes_equal(got, len, "old content\nmore\n", 17);
	else
		assert_bytes_equal(got, len, "old content\n", 12);
	free(got);
}

#define MOVED	"10k-projects/completed/learning/learn-rust.md"

static int
run_move(struct tree *t, struct es_error *err)
{
	return es_fsio_move(t->fd, RUST, MOVED, err);
}

/* Exactly one of the two names, whole. */
static void
check_move(struct tree *t, bool ok)
{
	size_t a, b;
	char *from = slurp(t->root, RUST, &a), *to = slurp(t->root, MOVED, &b);

	assert_true((from == NULL) != (to == NULL));
	if (ok)
		assert_non_null(to);
	if (from)
		assert_bytes_equal(from, a, "old content\n", 12);
	else
		assert_bytes_equal(to, b, "old content\n", 12);
	free(from);
	free(to);
}

static int
run_trash(struct tree *t, struct es_error *err)
{
	return es_fsio_trash(t->fd, RUST, NULL, err);
}

static void
check_trash(struct tree *t, bool ok)
{
	size_t a, b;
	char *from = slurp(t->root, RUST, &a);
	char *to = slurp(t->root, ".execsync/trash/" RUST, &b);

	assert_true((from == NULL) != (to == NULL));
	if (ok)
		assert_non_null(to);
	if (from)
		assert_bytes_equal(from, a, "old content\n", 12);
	else
		assert_bytes_equal(to, b, "old content\n", 12);
	free(from);
	free(to);
}

#define COPY_REL \
    ".execsync/conflicts/" RUST ".20251109T120000Z.database"

static int
run_conflict(struct tree *t, struct es_error *err)
{
	return es_fsio_conflict_copy(t->fd, RUST, "database", 1762689600123LL,
	    fault_new, FAULT_NEW_LEN, NULL, err);
}

/* No copy, or a whole one; the original never touched. */
static void
check_conflict(struct tree *t, bool ok)
{
	size_t len;
	char *got = slurp(t->root, COPY_REL, &len);

	assert_file(t->root, RUST, "old content\n", 12);
	if (got == NULL) {
		assert_false(ok);
		return;
	}
	assert_bytes_equal(got, len, fault_new, FAULT_NEW_LEN);
	free(got);
}

/*
 * STYLE "Anomaly tests": each write(), fsync(), rename() and folder
 * fsync() of every operation fails in turn; the files are old or new,
 * never half, and no temporary file stays (SPEC 4.11).
 */
static void
test_fsio_fault_injection(void **state)
{
	static const struct fault_case cases[] = {
		/* 3 writes; mode 0640 kept. */
		{ "replace", setup_old, run_write, check_write,
		    { 3, 1, 1, 1 } },
		{ "replace over what was read", setup_old, run_write_cas,
		    check_write, { 3, 1, 1, 1 } },
		/* 3 new folders, each synced in its parent, then the file. */
		{ "create", setup_none, run_write, check_write_new,
		    { 3, 1, 1, 4 } },
		{ "append", setup_old, run_append, check_append,
		    { 1, 1, 1, 1 } },
		/* completed/, completed/learning/ made, then both synced. */
		{ "move", setup_old, run_move, check_move,
		    { 0, 0, 1, 4 } },
		/* .execsync/trash/10k-projects/active/learning: 5 folders. */
		{ "trash", setup_old, run_trash, check_trash,
		    { 0, 0, 1, 7 } },
		/* .execsync/conflicts/10k-projects/active/learning: 5. */
		{ "conflict", setup_old, run_conflict, check_conflict,
		    { 3, 1, 1, 6 } },
	};

	(void)state;
	fault_new = make_bytes(FAULT_NEW_LEN, 3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fault_loop(&cases[i]);
	/* Both ways of opening folders count the same. */
	es__fsio_no_openat2 = true;
	fault_loop(&cases[1]);
	es__fsio_no_openat2 = false;
	free(fault_new);
	fault_new = NULL;
}

/*
 * SPEC 4.11: "symlinks are never followed out of the root". A folder on
 * the way that is a link (to a folder outside, or dangling) stops the
 * write, and nothing is created beyond it.
 */
static void
test_fsio_symlink_in_parent_refused(void **state)
{
	static const char *const rels[] = {
		"10k-projects/active/x/y.md",
		"10k-projects/active/x/new/deeper/y.md",
		"10k-projects/active/dangling/y.md",
		"10k-projects/active/dangling/new/y.md",
	};
	char dangling[PATH_MAX];
	struct es_error err;
	struct es_buf out = ES_BUF_INIT;
	struct tree t;

	(void)state;
	for (int walk = 0; walk < 2; walk++) {
		tree_init(&t);
		es__fsio_no_openat2 = walk;
		path_of(dangling, sizeof(dangling), t.outside, "nothing-here");
		link_to(t.root, "10k-projects/active/x", t.outside);
		link_to(t.root, "10k-projects/active/dangling", dangling);
		put_str(t.root, RUST, "mine\n");
		for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
			es_error_clear(&err);
			assert_int_equal(es_fsio_write(t.fd, rels[i], "x", 1,
			    0644, NULL, NULL, NULL, &err), -1);
			if (err.code != ES_EUNSAFE)
				fail_msg("%s (walk %d): %s", rels[i], walk,
				    err.msg);
			assert_string_equal(err.path, rels[i]);
			assert_non_null(strstr(err.msg, "symbolic link"));
			assert_int_equal(es_fsio_append(t.fd, rels[i], "x", 1,
			    &err), -1);
			assert_int_equal(err.code, ES_EUNSAFE);
			assert_int_equal(es_fsio_move(t.fd, RUST, rels[i],
			    &err), -1);
			assert_int_equal(err.code, ES_EUNSAFE);
			assert_int_equal(es_fsio_move(t.fd, rels[i], "b.md",
			    &err), -1);
			assert_int_equal(err.code, ES_EUNSAFE);
			assert_int_equal(es_fsio_trash(t.fd, rels[i], NULL,
			    &err), -1);
			assert_int_equal(err.code, ES_EUNSAFE);
		}
		assert_file(t.root, RUST, "mine\n", 5);
		assert_int_equal(count_entries(t.outside), 0);
		assert_absent(t.outside, "nothing-here");

		/* The tool's own folder as a link: no copy lands outside. */
		link_to(t.root, ".execsync", t.outside);
		assert_int_equal(es_fsio_conflict_copy(t.fd, RUST, "file", 0,
		    "x", 1, &out, &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
		assert_int_equal(es_fsio_trash(t.fd, RUST, &out, &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
		assert_string_equal(err.path, RUST);
		assert_int_equal(es_fsio_append(t.fd, ES_FSIO_TRASH_ACTIONS,
		    "x", 1, &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
		assert_int_equal(count_entries(t.outside), 0);
		assert_file(t.root, RUST, "mine\n", 5);
		assert_no_temp(t.root);
		tree_release(&t);
	}
	es_buf_release(&out);
}

/* Never write through a link, nor replace it. */
static void
test_fsio_symlink_target_refused(void **state)
{
	char target[PATH_MAX], lnk[PATH_MAX], got[PATH_MAX];
	struct es_error err;
	struct tree t;
	ssize_t n;

	(void)state;
	tree_init(&t);
	put_str(t.outside, "secret.md", "outside\n");
	path_of(target, sizeof(target), t.outside, "secret.md");
	link_to(t.root, RUST, target);
	assert_int_equal(es_fsio_write(t.fd, RUST, "x\n", 2, 0644, NULL, NULL,
	    NULL, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_string_equal(err.path, RUST);
	assert_int_equal(es_fsio_append(t.fd, RUST, "x\n", 2, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_int_equal(es_fsio_move(t.fd, RUST, "moved.md", &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_int_equal(es_fsio_trash(t.fd, RUST, NULL, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_file(t.outside, "secret.md", "outside\n", 8);
	assert_int_equal(count_entries(t.outside), 1);
	path_of(lnk, sizeof(lnk), t.root, RUST);
	n = readlink(lnk, got, sizeof(got) - 1);
	assert_true(n > 0);
	got[n] = '\0';
	assert_string_equal(got, target);
	assert_absent(t.root, "moved.md");
	assert_no_temp(t.root);
	tree_release(&t);
}

/* SPEC 4.11: paths built from database values cannot leave the root. */
static void
test_fsio_unsafe_paths(void **state)
{
	static const struct {
		const char	*rel;
		bool		 safe;
	} cases[] = {
		{ "", false },
		{ "/etc/passwd", false },
		{ "../escape.md", false },
		{ "a/../../escape.md", false },
		{ "a//b.md", false },
		{ "./a.md", false },
		{ "a/./b.md", false },
		{ "a/", false },
		{ "a/..", false },
		{ ".git/config", false },
		{ ".git", false },
		{ ".gitignore", true },
		{ ".github/x.md", true },
		{ "...md", true },
		{ "a..b/c.md", true },
	};
	struct es_error err;
	struct tree t;

	(void)state;
	tree_init(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		es_error_clear(&err);
		rc = es_fsio_write(t.fd, cases[i].rel, "x", 1, 0644, NULL, NULL,
		    NULL, &err);
		if (cases[i].safe) {
			if (rc != 0)
				fail_msg("'%s': %s", cases[i].rel, err.msg);
			assert_file(t.root, cases[i].rel, "x", 1);
			continue;
		}
		if (rc != -1 || err.code != ES_EUNSAFE)
			fail_msg("'%s': want unsafe", cases[i].rel);
		assert_string_equal(err.msg, "unsafe path");
		assert_int_equal(es_fsio_move(t.fd, "x.md", cases[i].rel,
		    &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
		assert_int_equal(es_fsio_trash(t.fd, cases[i].rel, NULL,
		    &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
		assert_int_equal(es_fsio_conflict_copy(t.fd, cases[i].rel,
		    "file", 0, "x", 1, NULL, &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
		assert_int_equal(es_fsio_append(t.fd, cases[i].rel, "x", 1,
		    &err), -1);
		assert_int_equal(err.code, ES_EUNSAFE);
	}
	assert_absent(t.root, ".git");
	assert_absent(t.root, "escape.md");
	assert_absent(t.root, "a");
	assert_absent(t.root, "../escape.md");
	/* NULL err is allowed everywhere. */
	assert_int_equal(es_fsio_write(t.fd, "../x", "x", 1, 0644, NULL, NULL,
	    NULL, NULL), -1);
	tree_release(&t);
}

/* Something other than a file where the file or a folder should be. */
static void
test_fsio_not_regular(void **state)
{
	struct es_error err;
	struct tree t;

	(void)state;
	tree_init(&t);
	mkdirs(t.root, "dir.md/x");
	assert_int_equal(es_fsio_write(t.fd, "dir.md", "x", 1, 0644, NULL, NULL,
	    NULL, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_string_equal(err.msg, "not a regular file");
	put_str(t.root, "file", "f\n");
	assert_int_equal(es_fsio_write(t.fd, "file/sub/x.md", "x", 1, 0644,
	    NULL, NULL, NULL, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ENOTDIR);
	assert_string_equal(err.path, "file/sub/x.md");
	assert_string_equal(err.msg,
	    "cannot open folder 'file': Not a directory");
	assert_file(t.root, "file", "f\n", 2);
	assert_no_temp(t.root);
	tree_release(&t);
}

/* The temporary name is cut so it fits NAME_MAX. */
static void
test_fsio_write_long_name(void **state)
{
	char name[NAME_MAX + 1];
	struct es_error err;
	struct tree t;

	(void)state;
	tree_init(&t);
	memset(name, 'n', NAME_MAX - 3);
	memcpy(name + NAME_MAX - 3, ".md", 4);
	assert_int_equal(es_fsio_write(t.fd, name, "long\n", 5, 0644, NULL,
	    NULL, NULL, &err), 0);
	assert_file(t.root, name, "long\n", 5);
	assert_int_equal(es_fsio_write(t.fd, name, "longer\n", 7, 0644, NULL,
	    NULL, NULL, &err), 0);
	assert_file(t.root, name, "longer\n", 7);
	assert_no_temp(t.root);
	tree_release(&t);
}

/* SPEC 4.6: a project that moved folder or area moves on disk. */
static void
test_fsio_move(void **state)
{
	static const char *const dest[] = {
		"10k-projects/completed/learning/learn-rust.md",
		"10k-projects/descoped/personal-growth/learn-rust.md",
		"10k-projects/descoped/personal-growth/rust-in-depth.md",
	};
	struct es_error err;
	struct tree t;
	const char *from = RUST;

	(void)state;
	tree_init(&t);
	put(t.root, RUST, "body\0bytes\n", 11, 0600);
	for (size_t i = 0; i < sizeof(dest) / sizeof(dest[0]); i++) {
		assert_int_equal(es_fsio_move(t.fd, from, dest[i], &err), 0);
		assert_file(t.root, dest[i], "body\0bytes\n", 11);
		assert_int_equal(mode_of(t.root, dest[i]), S_IFREG | 0600);
		assert_absent(t.root, from);
		from = dest[i];
	}
	/* Folders are never removed, even when a move empties them. */
	assert_int_equal(mode_of(t.root, "10k-projects/active/learning"),
	    S_IFDIR | 0755);

	/* Never replaces: both files stay as they were. */
	put_str(t.root, RUST, "another\n");
	assert_int_equal(es_fsio_move(t.fd, RUST, from, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_string_equal(err.path, from);
	assert_string_equal(err.msg, "already exists");
	assert_file(t.root, RUST, "another\n", 8);
	assert_file(t.root, from, "body\0bytes\n", 11);
	assert_int_equal(es_fsio_move(t.fd, RUST, RUST, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);

	/* An absent source names itself. */
	assert_int_equal(es_fsio_move(t.fd, "gone.md", "x/y.md", &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ENOENT);
	assert_string_equal(err.path, "gone.md");
	assert_int_equal(es_fsio_move(t.fd, "nofolder/gone.md", "x/y.md",
	    &err), -1);
	assert_int_equal(err.sys, ENOENT);
	assert_absent(t.root, "x");
	/* A folder is not a file to move. */
	assert_int_equal(es_fsio_move(t.fd, "10k-projects/active", "z",
	    &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_no_temp(t.root);
	tree_release(&t);
}

/* SPEC 4.5: files are never unlinked, the trash mirrors the path. */
static void
test_fsio_trash(void **state)
{
	static const char *const want[] = {
		".execsync/trash/" RUST,
		".execsync/trash/" RUST ".1",
		".execsync/trash/" RUST ".2",
		".execsync/trash/" RUST ".3",
	};
	struct es_buf got = ES_BUF_INIT;
	struct es_error err;
	struct tree t;
	char text[32];

	(void)state;
	tree_init(&t);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int n = snprintf(text, sizeof(text), "version %zu\n", i);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		put(t.root, RUST, text, (size_t)n, 0600);
		es_buf_addstr(&got, "stale");
		assert_int_equal(es_fsio_trash(t.fd, RUST, &got, &err), 0);
		assert_string_equal(got.buf, want[i]);
		assert_absent(t.root, RUST);
		assert_file(t.root, want[i], text, (size_t)n);
		assert_int_equal(mode_of(t.root, want[i]), S_IFREG | 0600);
	}
	/* Earlier copies are intact: nothing was overwritten. */
	assert_file(t.root, want[0], "version 0\n", 10);
	assert_file(t.root, want[1], "version 1\n", 10);
	/* A bare name, and an absent file. */
	put_str(t.root, "note.md", "n\n");
	assert_int_equal(es_fsio_trash(t.fd, "note.md", NULL, &err), 0);
	assert_file(t.root, ".execsync/trash/note.md", "n\n", 2);
	assert_int_equal(es_fsio_trash(t.fd, RUST, &got, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ENOENT);
	assert_string_equal(err.path, RUST);
	assert_no_temp(t.root);
	es_buf_release(&got);
	tree_release(&t);
}

/* SPEC 4.2: the losing version is kept under .execsync/conflicts/. */
static void
test_fsio_conflict_copy(void **state)
{
	static const struct {
		int64_t		 now_ms;
		const char	*side;
		const char	*want;
	} cases[] = {
		{ 1762689600123LL, "file", ".execsync/conflicts/" RUST
		    ".20251109T120000Z.file" },
		{ 1762689600999LL, "file", ".execsync/conflicts/" RUST
		    ".20251109T120000Z.file.1" },
		{ 1762689600000LL, "file", ".execsync/conflicts/" RUST
		    ".20251109T120000Z.file.2" },
		{ 1762689600000LL, "database", ".execsync/conflicts/" RUST
		    ".20251109T120000Z.database" },
		{ 1762689601000LL, "file", ".execsync/conflicts/" RUST
		    ".20251109T120001Z.file" },
		{ 0, "database", ".execsync/conflicts/" RUST
		    ".19700101T000000Z.database" },
		{ -1, "file", ".execsync/conflicts/" RUST
		    ".19691231T235959Z.file" },
	};
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	struct tree t;
	char text[32];

	(void)state;
	tree_init(&t);
	put_str(t.root, RUST, "current\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(text, sizeof(text), "loser %zu\n", i);

		assert_true(n > 0 && (size_t)n < sizeof(text));
		assert_int_equal(es_fsio_conflict_copy(t.fd, RUST,
		    cases[i].side, cases[i].now_ms, text, (size_t)n, &out,
		    &err), 0);
		assert_string_equal(out.buf, cases[i].want);
		assert_file(t.root, cases[i].want, text, (size_t)n);
		assert_int_equal(mode_of(t.root, cases[i].want),
		    S_IFREG | 0644);
	}
	assert_file(t.root, cases[0].want, "loser 0\n", 8);
	assert_file(t.root, RUST, "current\n", 8);
	assert_int_equal(es_fsio_conflict_copy(t.fd, RUST, "both", 0, "x", 1,
	    &out, &err), -1);
	assert_int_equal(err.code, ES_EUSAGE);
	assert_string_equal(err.msg, "bad conflict side 'both'");
	assert_int_equal(es_fsio_conflict_copy(t.fd, RUST, NULL, 0, "x", 1,
	    &out, &err), -1);
	assert_int_equal(err.code, ES_EUSAGE);
	/* The copy need not have an original (a document's version). */
	assert_int_equal(es_fsio_conflict_copy(t.fd, "30k-goals/active/g.md",
	    "database", 1762689600123LL, NULL, 0, &out, &err), 0);
	assert_file(t.root, out.buf, "", 0);
	assert_no_temp(t.root);
	es_buf_release(&out);
	tree_release(&t);
}

/* SPEC 4.5: soft-deleted action lines collect in the trash's actions.md. */
static void
test_fsio_append(void **state)
{
	static const char *const lines[] = {
		("- [ ] 2025-11-09 one @macbook (00k-next-actions/contexts/"
		    "@macbook.md, 2025-11-10)\n"),
		"- [ ] two (00k-next-actions/@waiting.md, 2025-11-11)\n",
		"",
		"- [ ] three\0with NUL\n",
	};
	static const size_t lens[] = { 0, 0, 0, 21 };
	struct es_buf want = ES_BUF_INIT;
	struct es_error err;
	struct tree t;

	(void)state;
	tree_init(&t);
	umask(077);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t n = lens[i] ? lens[i] : strlen(lines[i]);

		assert_int_equal(es_fsio_append(t.fd, ES_FSIO_TRASH_ACTIONS,
		    lines[i], n, &err), 0);
		es_buf_add(&want, lines[i], n);
		assert_file(t.root, ES_FSIO_TRASH_ACTIONS, want.buf, want.len);
		/* Created through the umask (077), then kept. */
		assert_int_equal(mode_of(t.root, ES_FSIO_TRASH_ACTIONS),
		    S_IFREG | 0600);
	}
	/* An existing file keeps its mode and bytes. */
	put(t.root, "notes.md", "a\r\nb", 4, 0600);
	assert_int_equal(es_fsio_append(t.fd, "notes.md", "\r\nc\r\n", 5,
	    &err), 0);
	assert_file(t.root, "notes.md", "a\r\nb\r\nc\r\n", 9);
	assert_int_equal(mode_of(t.root, "notes.md"), S_IFREG | 0600);
	assert_no_temp(t.root);
	es_buf_release(&want);
	tree_release(&t);
}

/*
 * An append races like any write: a change made meanwhile is read again
 * and kept; one that keeps coming gives up with ES_ECONFLICT after three
 * tries, the other writer's bytes kept.
 */
static void
test_fsio_append_concurrent(void **state)
{
	struct es_error err;
	struct edit ed;
	struct tree t;

	(void)state;
	tree_init(&t);
	put_str(t.root, "log.md", "a\n");
	ed = (struct edit){ t.root, "log.md", "other\n", 1, 0,
	    ES_FSIO_AT_COMMIT };
	es__fsio_hook = edit_now;
	es__fsio_hook_arg = &ed;
	assert_int_equal(es_fsio_append(t.fd, "log.md", "b\n", 2, &err), 0);
	assert_int_equal(ed.calls, 2);
	assert_file(t.root, "log.md", "a\nother\nb\n", 10);

	ed = (struct edit){ t.root, "log.md", "x\n", 100, 0,
	    ES_FSIO_AT_COMMIT };
	assert_int_equal(es_fsio_append(t.fd, "log.md", "c\n", 2, &err), -1);
	assert_int_equal(ed.calls, 3);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_string_equal(err.path, "log.md");
	assert_file(t.root, "log.md", "a\nother\nb\nx\nx\nx\n", 16);
	assert_no_temp(t.root);
	tree_release(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fsio_write_new_creates_parents),
	cmocka_unit_test(test_fsio_write_replace_keeps_mode),
	cmocka_unit_test(test_fsio_write_bytes_exact),
	cmocka_unit_test(test_fsio_write_large),
	cmocka_unit_test(test_fsio_write_expect_mismatch),
	cmocka_unit_test(test_fsio_write_expect_late_edit),
	cmocka_unit_test(test_fsio_fault_injection),
	cmocka_unit_test(test_fsio_symlink_in_parent_refused),
	cmocka_unit_test(test_fsio_symlink_target_refused),
	cmocka_unit_test(test_fsio_unsafe_paths),
	cmocka_unit_test(test_fsio_not_regular),
	cmocka_unit_test(test_fsio_write_long_name),
	cmocka_unit_test(test_fsio_move),
	cmocka_unit_test(test_fsio_trash),
	cmocka_unit_test(test_fsio_conflict_copy),
	cmocka_unit_test(test_fsio_append),
	cmocka_unit_test(test_fsio_append_concurrent),
};

ES_TEST_MAIN(tests)
