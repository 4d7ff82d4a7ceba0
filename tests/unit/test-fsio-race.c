/*
 * A write that meets an edit at the last moment (issue 19): whatever lands
 * between the caller's read and the commit, by path, through a file
 * descriptor opened before the swap, in place with the same size and
 * mtime, or as an editor's save over ours, stays in the file or in
 * .execsync/conflicts/, and the write says ES_ECONFLICT "changed on disk
 * while syncing" (SPEC 4.2, 4.11, 4.12). Also: a new file's mode goes
 * through the umask, a replaced one keeps its own (issue 19 item 10).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "es-test.h"
#include "fsio-tree.h"

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/scan.h"

#define LIST	"00k-next-actions/contexts/@home.md"
#define KEPT	".execsync/conflicts/00k-next-actions/contexts"
#define SYNCED	"# @home\n\n- [ ] one\n"
#define OURS	"# @home\n\n- [ ] one\n- [ ] from the database\n"
#define USER	"- [ ] typed by the user\n"

#define CHANGED	"changed on disk while syncing"

/*
 * The kept copies of LIST's with this side ("file" or "database"): their
 * number, and the bytes of the last one listed in *bytes (malloc'd, or
 * NULL when there is none).
 */
static int
kept(const struct tree *t, const char *side, char **bytes)
{
	char dir[PATH_MAX], rel[PATH_MAX], suffix[32];
	struct dirent *de;
	size_t len;
	DIR *d;
	int n = 0;

	*bytes = NULL;
	path_of(dir, sizeof(dir), t->root, KEPT);
	if ((d = opendir(dir)) == NULL) {
		assert_int_equal(errno, ENOENT);
		return 0;
	}
	snprintf(suffix, sizeof(suffix), "Z.%s", side);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "@home.md.", 9) != 0 ||
		    strstr(de->d_name, suffix) == NULL)
			continue;
		n++;
		free(*bytes);
		snprintf(rel, sizeof(rel), "%s/%s", KEPT, de->d_name);
		*bytes = slurp(t->root, rel, &len);
		assert_non_null(*bytes);
		/* Created by the tool: the umask's mode (022 here). */
		assert_int_equal(mode_of(t->root, rel), S_IFREG | 0644);
	}
	closedir(d);
	return n;
}

static void
assert_kept(const struct tree *t, const char *side, const char *want)
{
	char *got;

	assert_int_equal(kept(t, side, &got), 1);
	assert_string_equal(got, want);
	free(got);
}

static void
assert_none_kept(const struct tree *t, const char *side)
{
	char *got;

	assert_int_equal(kept(t, side, &got), 0);
}

/* The list as the pass read it: stat data and fingerprint. */
static void
read_list(struct tree *t, struct es_stat *st, es_fp_t *fp)
{
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	assert_int_equal(es_scan_read(t->fd, LIST, 1 << 20, &b, st, &err), 0);
	*fp = es_fp_bytes(b.buf, b.len);
	es_buf_release(&b);
}

/* The pass's write of OURS over what it read. */
static int
write_ours(struct tree *t, const struct es_stat *st, const es_fp_t *fp,
    struct es_error *err)
{
	return es_fsio_write(t->fd, LIST, OURS, strlen(OURS),
	    ES_FSIO_MODE_NEW, st, fp, NULL, err);
}

static void
assert_changed(const struct es_error *err)
{
	assert_int_equal(err->code, ES_ECONFLICT);
	assert_string_equal(err->path, LIST);
	if (strncmp(err->msg, CHANGED, strlen(CHANGED)) != 0)
		fail_msg("message: %s", err->msg);
}

/*
 * Another program appends to the list (by path, as `echo >> file` does) at
 * each point of the commit: the user's line stays in the file and the
 * write says so. Before the last look, the look sees it: ours, never more
 * than a hidden temporary file, is dropped (the next pass makes it again).
 * After the look, the swap's look at the file swapped out sees it and
 * swaps back; ours, at the path for a moment, is kept in the conflicts.
 * Without RENAME_EXCHANGE, up to the last look.
 */
static void
test_fsio_race_append_by_path(void **state)
{
	static const struct {
		enum es_fsio_point	 at;
		bool			 no_exchange;
		bool			 lands_in_ours;
		bool			 kept;
	} cases[] = {
		{ ES_FSIO_AT_COMMIT, false, false, false },
		{ ES_FSIO_AT_RENAME, false, false, true },
		/* After the swap, a path leads to ours: an edit of ours. */
		{ ES_FSIO_AT_SWAPPED, false, true, false },
		{ ES_FSIO_AT_COMMIT, true, false, false },
	};
	struct es_error err;
	struct es_stat st;
	struct edit ed;
	struct tree t;
	es_fp_t fp;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tree_init(&t);
		put_str(t.root, LIST, SYNCED);
		read_list(&t, &st, &fp);
		ed = (struct edit){ t.root, LIST, USER, 1, 0, cases[i].at };
		es__fsio_hook = edit_now;
		es__fsio_hook_arg = &ed;
		es__fsio_no_exchange = cases[i].no_exchange;
		es_error_clear(&err);
		if (cases[i].lands_in_ours) {
			/* Not a race: the user edited our version. */
			assert_int_equal(write_ours(&t, &st, &fp, &err), 0);
			assert_file(t.root, LIST, OURS USER,
			    strlen(OURS USER));
			assert_none_kept(&t, "database");
		} else {
			assert_int_equal(write_ours(&t, &st, &fp, &err), -1);
			assert_changed(&err);
			assert_file(t.root, LIST, SYNCED USER,
			    strlen(SYNCED USER));
		}
		if (cases[i].kept) {
			assert_kept(&t, "database", OURS);
			assert_true(strstr(err.msg, "; this pass's version is "
			    "kept in " KEPT "/@home.md.") != NULL);
		} else {
			assert_none_kept(&t, "database");
			if (!cases[i].lands_in_ours)
				assert_string_equal(err.msg, CHANGED);
		}
		assert_int_equal(ed.calls, 1);
		assert_none_kept(&t, "file");
		assert_no_temp(t.root);
		tree_release(&t);
	}
}

/* A writer holding the file open since before the swap. */
struct holder {
	struct tree		*t;
	int			 fd;
	enum es_fsio_point	 write_at;
};

static void
hold_then_write(enum es_fsio_point at, void *arg)
{
	struct holder *h = arg;
	char p[PATH_MAX];

	if (at == ES_FSIO_AT_RENAME) {
		path_of(p, sizeof(p), h->t->root, LIST);
		h->fd = open(p, O_WRONLY | O_APPEND | O_NOFOLLOW);
		assert_true(h->fd >= 0);
	}
	if (at == h->write_at) {
		assert_int_equal(write(h->fd, USER, strlen(USER)),
		    (ssize_t)strlen(USER));
		close(h->fd);
		h->fd = -1;
	}
}

/*
 * The open-then-write of another program straddles the swap: its bytes go
 * to the file swapped out. Seen at the first look (written before it) or
 * the second (written during the folder fsync); either way swapped back.
 * A plain rename would have left them in an unlinked inode.
 */
static void
test_fsio_race_writer_holds_old_file(void **state)
{
	static const enum es_fsio_point points[] = { ES_FSIO_AT_SWAPPED,
	    ES_FSIO_AT_SYNCED };
	struct es_error err;
	struct es_stat st;
	struct holder h;
	struct tree t;
	es_fp_t fp;

	(void)state;
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		tree_init(&t);
		put_str(t.root, LIST, SYNCED);
		read_list(&t, &st, &fp);
		h = (struct holder){ &t, -1, points[i] };
		es__fsio_hook = hold_then_write;
		es__fsio_hook_arg = &h;
		assert_int_equal(write_ours(&t, &st, &fp, &err), -1);
		assert_changed(&err);
		assert_int_equal(h.fd, -1);
		assert_file(t.root, LIST, SYNCED USER, strlen(SYNCED USER));
		assert_kept(&t, "database", OURS);
		assert_none_kept(&t, "file");
		assert_no_temp(t.root);
		tree_release(&t);
	}
}

/* Rewrites LIST in place, same size, and sets its mtime back. */
static void
same_size_edit(enum es_fsio_point at, void *arg)
{
	struct tree *t = arg;
	struct timespec ts[2];
	struct stat sb;
	char p[PATH_MAX];
	int fd;

	if (at != ES_FSIO_AT_RENAME)
		return;
	path_of(p, sizeof(p), t->root, LIST);
	assert_int_equal(stat(p, &sb), 0);
	fd = open(p, O_WRONLY | O_NOFOLLOW);
	assert_true(fd >= 0);
	/* "- [ ] one" checked off: the commonest edit of a list. */
	assert_int_equal(pwrite(fd, "x", 1, strlen("# @home\n\n- [")), 1);
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

/*
 * An edit that leaves dev, ino, size and mtime as they were (within one
 * tick of the file system's clock, or with the mtime set back): only the
 * content fingerprint tells, and it does, by path and after the swap.
 */
static void
test_fsio_race_same_stat_edit(void **state)
{
	static const char edited[] = "# @home\n\n- [x] one\n";
	struct es_error err;
	struct es_stat st, now;
	struct tree t;
	es_fp_t fp;

	(void)state;
	for (int no_exchange = 0; no_exchange <= 1; no_exchange++) {
		tree_init(&t);
		put_str(t.root, LIST, SYNCED);
		read_list(&t, &st, &fp);
		es__fsio_hook = same_size_edit;
		es__fsio_hook_arg = &t;
		es__fsio_no_exchange = no_exchange;
		assert_int_equal(write_ours(&t, &st, &fp, &err),
		    no_exchange ? 0 : -1);
		if (no_exchange) {
			/* The look is before the edit: the known window. */
			tree_release(&t);
			continue;
		}
		assert_changed(&err);
		assert_file(t.root, LIST, edited, strlen(edited));
		assert_int_equal(es_scan_stat(t.fd, LIST, &now, &err), 1);
		assert_true(now.ino == st.ino && now.size == st.size &&
		    now.mtime_ns == st.mtime_ns);
		assert_kept(&t, "database", OURS);
		assert_no_temp(t.root);
		tree_release(&t);
	}
}

/* A held write lands in the old file, then an editor saves over ours. */
static void
held_write_then_save(enum es_fsio_point at, void *arg)
{
	struct holder *h = arg;
	char p[PATH_MAX], q[PATH_MAX];

	hold_then_write(at, arg);
	if (at != ES_FSIO_AT_SWAPPED)
		return;
	put_str(h->t->root, "00k-next-actions/contexts/.@home.md.swp",
	    "# @home\n\nsaved by an editor\n");
	path_of(p, sizeof(p), h->t->root,
	    "00k-next-actions/contexts/.@home.md.swp");
	path_of(q, sizeof(q), h->t->root, LIST);
	assert_int_equal(rename(p, q), 0);
}

/*
 * The worst case: a change to the old file and an editor's save over ours
 * between the swap and the swap-back. Nothing is lost: the save stays in
 * the file (it is the newest), the changed old file is kept as the file's
 * version, ours as the database's.
 */
static void
test_fsio_race_editor_saves_over_ours(void **state)
{
	struct es_error err;
	struct es_stat st;
	struct holder h;
	struct tree t;
	es_fp_t fp;

	(void)state;
	tree_init(&t);
	put_str(t.root, LIST, SYNCED);
	read_list(&t, &st, &fp);
	h = (struct holder){ &t, -1, ES_FSIO_AT_SWAPPED };
	es__fsio_hook = held_write_then_save;
	es__fsio_hook_arg = &h;
	assert_int_equal(write_ours(&t, &st, &fp, &err), -1);
	assert_changed(&err);
	assert_true(strstr(err.msg, "; a version with changes made meanwhile "
	    "is kept in " KEPT "/@home.md.") != NULL);
	assert_file(t.root, LIST, "# @home\n\nsaved by an editor\n", 28);
	assert_kept(&t, "file", SYNCED USER);
	assert_kept(&t, "database", OURS);
	assert_no_temp(t.root);
	tree_release(&t);
}

static void
unlink_list(enum es_fsio_point at, void *arg)
{
	struct tree *t = arg;
	char p[PATH_MAX];

	if (at != ES_FSIO_AT_RENAME)
		return;
	path_of(p, sizeof(p), t->root, LIST);
	assert_int_equal(unlink(p), 0);
}

/* Deleted at the last moment: not brought back, nothing kept. */
static void
test_fsio_race_deleted(void **state)
{
	struct es_error err;
	struct es_stat st;
	struct tree t;
	es_fp_t fp;

	(void)state;
	tree_init(&t);
	put_str(t.root, LIST, SYNCED);
	read_list(&t, &st, &fp);
	es__fsio_hook = unlink_list;
	es__fsio_hook_arg = &t;
	assert_int_equal(write_ours(&t, &st, &fp, &err), -1);
	assert_changed(&err);
	assert_absent(t.root, LIST);
	assert_none_kept(&t, "database");
	assert_no_temp(t.root);
	tree_release(&t);
}

/*
 * The swap-back itself fails (the second rename call): ours stays in the
 * file, and the user's changed version, swapped out, is kept, never
 * removed.
 */
static void
test_fsio_race_swap_back_fails(void **state)
{
	struct es_error err;
	struct es_stat st;
	struct holder h;
	struct tree t;
	es_fp_t fp;

	(void)state;
	tree_init(&t);
	put_str(t.root, LIST, SYNCED);
	read_list(&t, &st, &fp);
	h = (struct holder){ &t, -1, ES_FSIO_AT_SWAPPED };
	es__fsio_hook = hold_then_write;
	es__fsio_hook_arg = &h;
	es__fsio_fail_after(ES_FSIO_OP_RENAME, 2);
	assert_int_equal(write_ours(&t, &st, &fp, &err), -1);
	assert_changed(&err);
	assert_file(t.root, LIST, OURS, strlen(OURS));
	assert_kept(&t, "file", SYNCED USER);
	assert_kept(&t, "database", OURS);
	assert_no_temp(t.root);
	tree_release(&t);
}

/* No edit: one swap, the old file gone, st_out what the scanner sees. */
static void
test_fsio_race_none(void **state)
{
	struct es_error err;
	struct es_stat st, out, now;
	struct tree t;
	es_fp_t fp;

	(void)state;
	for (int no_exchange = 0; no_exchange <= 1; no_exchange++) {
		tree_init(&t);
		put(t.root, LIST, SYNCED, strlen(SYNCED), 0640);
		read_list(&t, &st, &fp);
		es__fsio_no_exchange = no_exchange;
		assert_int_equal(es_fsio_write(t.fd, LIST, OURS, strlen(OURS),
		    ES_FSIO_MODE_NEW, &st, &fp, &out, &err), 0);
		assert_file(t.root, LIST, OURS, strlen(OURS));
		assert_int_equal(mode_of(t.root, LIST), S_IFREG | 0640);
		assert_int_equal(es_scan_stat(t.fd, LIST, &now, &err), 1);
		assert_true(out.dev == now.dev && out.ino == now.ino &&
		    out.size == now.size && out.mtime_ns == now.mtime_ns &&
		    out.ctime_ns == now.ctime_ns && out.mode == now.mode);
		assert_int_equal(count_entries(t.root), 1);	/* 00k-... */
		assert_none_kept(&t, "database");
		assert_no_temp(t.root);
		tree_release(&t);
	}
}

/*
 * Issue 19 item 10: what the tool creates honours the umask, as its
 * folders do (mode_if_new, conflict copies, an appended file's first
 * version); what it replaces keeps its own mode whatever the umask.
 */
static void
test_fsio_umask(void **state)
{
	static const struct {
		mode_t	umask, mode_if_new, want;
	} cases[] = {
		{ 022, ES_FSIO_MODE_NEW, 0644 },
		{ 077, ES_FSIO_MODE_NEW, 0600 },
		{ 027, ES_FSIO_MODE_NEW, 0640 },
		{ 002, 0664, 0664 },
		{ 0, ES_FSIO_MODE_NEW, 0644 },
		{ 077, 0755, 0700 },
	};
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	struct es_stat st, absent;
	struct tree t;
	es_fp_t fp;

	(void)state;
	memset(&absent, 0, sizeof(absent));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tree_init(&t);
		umask(cases[i].umask);
		/* Without and with a "must not exist" expect. */
		assert_int_equal(es_fsio_write(t.fd, RUST, "a\n", 2,
		    cases[i].mode_if_new, NULL, NULL, NULL, &err), 0);
		assert_int_equal(mode_of(t.root, RUST),
		    S_IFREG | cases[i].want);
		assert_int_equal(es_fsio_write(t.fd, LIST, "b\n", 2,
		    cases[i].mode_if_new, &absent, NULL, NULL, &err), 0);
		assert_int_equal(mode_of(t.root, LIST),
		    S_IFREG | cases[i].want);
		assert_int_equal(mode_of(t.root, "10k-projects"),
		    S_IFDIR | (0755 & ~cases[i].umask));
		assert_int_equal(es_fsio_conflict_copy(t.fd, RUST, "file", 0,
		    "c", 1, &out, &err), 0);
		assert_int_equal(mode_of(t.root, out.buf),
		    S_IFREG | (ES_FSIO_MODE_NEW & ~cases[i].umask));
		assert_int_equal(es_fsio_append(t.fd, "log.md", "d\n", 2,
		    &err), 0);
		assert_int_equal(mode_of(t.root, "log.md"),
		    S_IFREG | (ES_FSIO_MODE_NEW & ~cases[i].umask));
		tree_release(&t);
	}
	/* Replaced files keep their bits, with or without an expect. */
	tree_init(&t);
	umask(077);
	put(t.root, RUST, "a\n", 2, 0644);
	put(t.root, LIST, "b\n", 2, 0664);
	assert_int_equal(es_fsio_write(t.fd, RUST, "x\n", 2,
	    ES_FSIO_MODE_NEW, NULL, NULL, NULL, &err), 0);
	read_list(&t, &st, &fp);
	assert_int_equal(es_fsio_write(t.fd, LIST, "y\n", 2,
	    ES_FSIO_MODE_NEW, &st, &fp, NULL, &err), 0);
	assert_int_equal(es_fsio_append(t.fd, LIST, "z\n", 2, &err), 0);
	assert_int_equal(mode_of(t.root, RUST), S_IFREG | 0644);
	assert_int_equal(mode_of(t.root, LIST), S_IFREG | 0664);
	assert_file(t.root, LIST, "y\nz\n", 4);
	es_buf_release(&out);
	tree_release(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fsio_race_append_by_path),
	cmocka_unit_test(test_fsio_race_writer_holds_old_file),
	cmocka_unit_test(test_fsio_race_same_stat_edit),
	cmocka_unit_test(test_fsio_race_editor_saves_over_ours),
	cmocka_unit_test(test_fsio_race_deleted),
	cmocka_unit_test(test_fsio_race_swap_back_fails),
	cmocka_unit_test(test_fsio_race_none),
	cmocka_unit_test(test_fsio_umask),
};

ES_TEST_MAIN(tests)
