/*
 * The scanner on a real tree built in /tmp: what is synced and what is not
 * (SPEC §2), symlinks never followed (SPEC 4.11), per-file checks at read
 * time (SPEC 4.10).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "es-files.h"
#include "es-test.h"

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/layout.h"
#include "execsync/scan.h"

struct tree {
	char	 root[PATH_MAX];
	char	 outside[PATH_MAX];	/* a folder next to the root */
	int	 fd;
};

static const char *const synced_files[] = {
	"00k-next-actions/@waiting.md",
	"00k-next-actions/completed.md",
	"00k-next-actions/contexts/@macbook.md",
	"00k-next-actions/contexts/@phone.md",
	"10k-projects/active/learning/learn-rust.md",
	"10k-projects/completed/work/old.md",
	/* strcmp order across folders: '-' < '.' < '/' */
	"30k-goals/active/a-b/x.md",
	"30k-goals/active/a.md",
	"30k-goals/active/a/x.md",
	"30k-goals/active/run.md",
	"30k-goals/incubator/health/deep/goal.md",
};

static const char *const unsynced_files[] = {
	"README.md",
	"20k-areas/health.md",
	"00k-next-actions/README.md",
	"00k-next-actions/contexts/notes.txt",
	"10k-projects/active/learn-rust.md",
	"10k-projects/active/learning/assets/deep.md",
	"10k-projects/active/learning/.learn-rust.md.swp",
	"10k-projects/active/learning/learn-rust.md~",
	"10k-projects/active/learning/4913",
	"10k-projects/active/learning/.#learn-rust.md",
	"10k-projects/active/old-stuff/x.md",		/* ignored */
	"30k-goals/active/_goals-summary.md",
	"30k-goals/active/.obsidian/x.md",
	"30k-goals/completed/run.md",
	".git/HEAD",
	".execsync/trash/10k-projects/active/learning/gone.md",
	".hidden/10k-projects/active/learning/x.md",
};

static const char *const ignore[] = { "10k-projects/*/old-*", NULL };

static int
tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char tmpl[] = "/tmp/es-test-scan-XXXXXX";
	char *d;

	assert_non_null(t);
	d = mkdtemp(tmpl);
	assert_non_null(d);
	snprintf(t->outside, sizeof(t->outside), "%s", d);
	path_of(t->root, sizeof(t->root), d, "root");
	assert_int_equal(mkdir(t->root, 0755), 0);

	for (size_t i = 0; i < sizeof(synced_files) / sizeof(*synced_files);
	    i++)
		put_str(t->root, synced_files[i], synced_files[i]);
	for (size_t i = 0;
	    i < sizeof(unsynced_files) / sizeof(*unsynced_files); i++)
		put_str(t->root, unsynced_files[i], "not synced\n");

	/* Outside the root: a file and a folder holding a goal. */
	put_str(t->outside, "secret.md", "secret\n");
	put_str(t->outside, "elsewhere/goal.md", "---\ntype: goal\n---\n");

	/* SPEC 4.11: links to files and folders, inside and outside. */
	link_to(t->root, "10k-projects/active/learning/link.md",
	    "learn-rust.md");
	link_to(t->root, "10k-projects/active/learning/secret.md",
	    "../../../../secret.md");
	link_to(t->root, "10k-projects/active/linked-area", "learning");
	link_to(t->root, "30k-goals/active/outside", "../../../elsewhere");
	link_to(t->root, "00k-next-actions/contexts/@abs.md", "/etc/passwd");
	link_to(t->root, "docs-link", "/etc");	/* not where sync looks */

	/* Not regular, not storable. */
	{
		char p[PATH_MAX];

		path_of(p, sizeof(p), t->root, "00k-next-actions/@deferred.md");
		assert_int_equal(mkfifo(p, 0644), 0);
	}
	put_str(t->root, "10k-projects/active/learning/bad\xff.md", "x\n");

	t->fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
	es__scan_no_openat2 = false;
	*state = t;
	return 0;
}

static int
tree_teardown(void **state)
{
	struct tree *t = *state;

	es__scan_no_openat2 = false;
	close(t->fd);
	es_test_rm_tree(t->outside);
	free(t);
	return 0;
}

static void
test_spec2_scan_finds_synced_files(void **state)
{
	struct tree *t = *state;
	struct es_scan_opts opts = { ignore };
	struct es_scan_result r;
	struct es_error err;
	const size_t nwant = sizeof(synced_files) / sizeof(*synced_files);

	es_error_clear(&err);
	assert_int_equal(es_scan(t->fd, &opts, &r, &err), 0);
	if (r.n != nwant) {
		for (size_t i = 0; i < r.n; i++)
			print_error("got %s\n", r.entries[i].rel);
		fail_msg("%zu entries, want %zu", r.n, nwant);
	}
	/* Exactly the synced files, sorted by strcmp (the list is). */
	for (size_t i = 0; i < nwant; i++) {
		struct es_path_info info;

		assert_string_equal(r.entries[i].rel, synced_files[i]);
		assert_int_equal(es_layout_classify(synced_files[i], NULL,
		    &info), 1);
		assert_memory_equal(&r.entries[i].info, &info, sizeof(info));
	}
	assert_int_equal(r.entries[0].info.kind, ES_KIND_ACTION);
	assert_int_equal(r.entries[0].info.list, ES_LIST_WAITING);
	assert_string_equal(r.entries[2].info.context, "@macbook");
	assert_int_equal(r.entries[4].info.kind, ES_KIND_PROJECT);
	assert_string_equal(r.entries[4].info.area_dir, "learning");
	assert_string_equal(r.entries[4].info.slug, "learn-rust");
	assert_int_equal(r.entries[5].info.folder, ES_FOLDER_COMPLETED);
	assert_int_equal(r.entries[10].info.kind, ES_KIND_GOAL);
	assert_int_equal(r.entries[10].info.folder, ES_FOLDER_INCUBATOR);
	assert_string_equal(r.entries[10].info.slug, "goal");
	es_scan_result_release(&r);
	assert_null(r.entries);
	assert_int_equal(r.n, 0);
	es_scan_result_release(&r);	/* twice is fine */
}

static void
test_spec4_11_scan_skips_symlinks(void **state)
{
	struct tree *t = *state;
	struct es_scan_opts opts = { ignore };
	struct es_scan_result r;
	static const struct {
		const char	*rel;
		const char	*reason;
	} want[] = {
		{ "00k-next-actions/@deferred.md", "not a regular file" },
		{ "00k-next-actions/contexts/@abs.md",
		    "symbolic link, not followed" },
		{ "10k-projects/active/learning/bad\xff.md",
		    "file name is not valid UTF-8 or holds control "
		    "characters" },
		{ "10k-projects/active/learning/link.md",
		    "symbolic link, not followed" },
		{ "10k-projects/active/learning/secret.md",
		    "symbolic link, not followed" },
		{ "10k-projects/active/linked-area",
		    "symbolic link, not followed" },
		{ "30k-goals/active/outside", "symbolic link, not followed" },
	};

	assert_int_equal(es_scan(t->fd, &opts, &r, NULL), 0);
	if (r.nskipped != sizeof(want) / sizeof(*want)) {
		for (size_t i = 0; i < r.nskipped; i++)
			print_error("skipped %s: %s\n", r.skipped[i].rel,
			    r.skipped[i].reason);
		fail_msg("%zu skipped", r.nskipped);
	}
	for (size_t i = 0; i < r.nskipped; i++) {
		assert_string_equal(r.skipped[i].rel, want[i].rel);
		assert_string_equal(r.skipped[i].reason, want[i].reason);
	}
	/* Nothing reached through a link made it into the entries. */
	for (size_t i = 0; i < r.n; i++) {
		assert_null(strstr(r.entries[i].rel, "linked-area"));
		assert_null(strstr(r.entries[i].rel, "outside"));
		assert_null(strstr(r.entries[i].rel, "secret"));
	}
	es_scan_result_release(&r);
}

static void
test_spec2_scan_ignore_and_hidden(void **state)
{
	struct tree *t = *state;
	struct es_scan_result r;
	bool found_old = false;

	/* Without the ignore pattern the old-stuff area is synced... */
	assert_int_equal(es_scan(t->fd, NULL, &r, NULL), 0);
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.entries[i].rel,
		    "10k-projects/active/old-stuff/x.md") == 0)
			found_old = true;
		/* ...and hidden, tool and editor files never are. */
		assert_null(strstr(r.entries[i].rel, "/."));
		assert_int_not_equal(r.entries[i].rel[0], '.');
		assert_null(strstr(r.entries[i].rel, "~"));
		assert_null(strstr(r.entries[i].rel, "4913"));
		assert_null(strstr(r.entries[i].rel, "_goals-summary"));
	}
	assert_true(found_old);
	assert_int_equal(r.n, sizeof(synced_files) / sizeof(*synced_files) +
	    1);
	es_scan_result_release(&r);
}

static void
test_scan_stat_data_filled(void **state)
{
	struct tree *t = *state;
	const char *rel = "10k-projects/active/learning/learn-rust.md";
	struct timespec ts[2] = { { 1700000000, 123456789 },
	    { 1700000000, 123456789 } };
	struct es_scan_result r;
	struct es_stat st;
	struct stat sb;
	char p[PATH_MAX];
	size_t i;

	path_of(p, sizeof(p), t->root, rel);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(es_scan(t->fd, NULL, &r, NULL), 0);
	for (i = 0; i < r.n; i++)
		if (strcmp(r.entries[i].rel, rel) == 0)
			break;
	assert_true(i < r.n);
	assert_int_equal(r.entries[i].st.size, strlen(rel));
	assert_int_equal(r.entries[i].st.mtime_ns,
	    1700000000LL * 1000000000LL + 123456789);
	assert_int_equal(r.entries[i].st.ino, sb.st_ino);
	assert_int_equal(r.entries[i].st.dev, sb.st_dev);
	assert_int_equal(r.entries[i].st.mode, sb.st_mode);
	assert_true(S_ISREG(r.entries[i].st.mode));
	assert_int_equal(r.entries[i].st.ctime_ns,
	    (int64_t)sb.st_ctim.tv_sec * 1000000000LL + sb.st_ctim.tv_nsec);
	/* es_scan_stat() agrees with the scan. */
	assert_int_equal(es_scan_stat(t->fd, rel, &st, NULL), 1);
	assert_int_equal(st.dev, r.entries[i].st.dev);
	assert_int_equal(st.ino, r.entries[i].st.ino);
	assert_int_equal(st.size, r.entries[i].st.size);
	assert_int_equal(st.mtime_ns, r.entries[i].st.mtime_ns);
	assert_int_equal(st.ctime_ns, r.entries[i].st.ctime_ns);
	assert_int_equal(st.mode, r.entries[i].st.mode);
	es_scan_result_release(&r);
}

static void
test_scan_root_without_synced_folders(void **state)
{
	struct tree *t = *state;
	struct es_scan_result r;
	struct es_error err;
	char p[PATH_MAX];
	int fd;

	/* An empty root is not an error here (the caller decides). */
	path_of(p, sizeof(p), t->outside, "empty");
	assert_int_equal(mkdir(p, 0755), 0);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(es_scan(fd, NULL, &r, NULL), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.nskipped, 0);
	es_scan_result_release(&r);
	close(fd);

	/* A root that cannot be read is. */
	path_of(p, sizeof(p), t->outside, "secret.md");
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	es_error_clear(&err);
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(es_scan(fd, NULL, &r, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ENOTDIR);
	assert_null(r.entries);
	assert_int_equal(r.n, 0);
	close(fd);
}

static void
test_scan_unreadable_folder_skipped(void **state)
{
	struct tree *t = *state;
	struct es_scan_result r;
	char p[PATH_MAX];
	bool seen = false;

	put_str(t->root, "10k-projects/incubator/locked/x.md", "x\n");
	path_of(p, sizeof(p), t->root, "10k-projects/incubator/locked");
	assert_int_equal(chmod(p, 0), 0);
	assert_int_equal(es_scan(t->fd, NULL, &r, NULL), 0);
	for (size_t i = 0; i < r.nskipped; i++)
		if (strcmp(r.skipped[i].rel,
		    "10k-projects/incubator/locked") == 0) {
			assert_string_equal(r.skipped[i].reason,
			    "cannot read folder: Permission denied");
			seen = true;
		}
	/* root reads anything: then the file is simply found */
	if (geteuid() != 0)
		assert_true(seen);
	else
		assert_false(seen);
	es_scan_result_release(&r);
	assert_int_equal(chmod(p, 0755), 0);
}

static void
check_read_refusals(struct tree *t)
{
	static const struct {
		const char	*rel;
		int		 code;
		const char	*msg;
	} cases[] = {
		{ "10k-projects/active/learning/link.md", ES_EUNSAFE,
		    "symbolic link, not followed" },
		{ "10k-projects/active/learning/secret.md", ES_EUNSAFE,
		    "symbolic link, not followed" },
		{ "00k-next-actions/contexts/@abs.md", ES_EUNSAFE,
		    "symbolic link, not followed" },
		/* a symlinked folder on the way */
		{ "10k-projects/active/linked-area/learn-rust.md", ES_EUNSAFE,
		    "symbolic link, not followed" },
		{ "30k-goals/active/outside/goal.md", ES_EUNSAFE,
		    "symbolic link, not followed" },
		{ "../secret.md", ES_EUNSAFE, "unsafe path" },
		{ "10k-projects/../../secret.md", ES_EUNSAFE, "unsafe path" },
		{ "/etc/passwd", ES_EUNSAFE, "unsafe path" },
		{ "10k-projects//active", ES_EUNSAFE, "unsafe path" },
		{ "./README.md", ES_EUNSAFE, "unsafe path" },
		{ "", ES_EUNSAFE, "unsafe path" },
		{ "00k-next-actions/@deferred.md", ES_EIO,
		    "not a regular file" },
		{ "00k-next-actions/@nope.md", ES_EIO,
		    "cannot open: No such file or directory" },
		{ "10k-projects", ES_EIO, "not a regular file" },
	};
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		es_error_clear(&err);
		es_buf_addstr(&b, "stale");
		if (es_scan_read(t->fd, cases[i].rel, 1 << 20, &b, NULL,
		    &err) != -1)
			fail_msg("'%s' read", cases[i].rel);
		if ((int)err.code != cases[i].code ||
		    strcmp(err.msg, cases[i].msg) != 0)
			fail_msg("'%s': got %d '%s', want %d '%s'",
			    cases[i].rel, err.code, err.msg, cases[i].code,
			    cases[i].msg);
		assert_string_equal(err.path, cases[i].rel);
		assert_int_equal(b.len, 0);
	}
	es_buf_release(&b);
}

static void
test_spec4_11_read_refuses_symlinks(void **state)
{
	check_read_refusals(*state);
}

static void
test_spec4_11_read_no_openat2(void **state)
{
	es__scan_no_openat2 = true;
	check_read_refusals(*state);
	es__scan_no_openat2 = false;
}

static void
check_read_ok(struct tree *t)
{
	const char *rel = "30k-goals/incubator/health/deep/goal.md";
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;
	struct es_stat st;

	es_buf_addstr(&b, "old content that is replaced");
	assert_int_equal(es_scan_read(t->fd, rel, 1 << 20, &b, &st, &err),
	    0);
	assert_bytes_equal(b.buf, b.len, rel, strlen(rel));
	assert_int_equal(st.size, strlen(rel));
	assert_true(S_ISREG(st.mode));
	/* At exactly the limit: read. */
	assert_int_equal(es_scan_read(t->fd, rel, strlen(rel), &b, NULL,
	    &err), 0);
	assert_int_equal(b.len, strlen(rel));
	es_buf_release(&b);
}

static void
test_scan_read_ok(void **state)
{
	check_read_ok(*state);
	es__scan_no_openat2 = true;
	check_read_ok(*state);
	es__scan_no_openat2 = false;
}

static void
test_spec4_10_read_oversized(void **state)
{
	struct tree *t = *state;
	const char *rel = "10k-projects/active/learning/huge.md";
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;
	struct es_stat st;
	char p[PATH_MAX];
	int fd;

	/*
	 * A 1 GiB sparse file: the refusal must come from fstat() (its
	 * message gives the exact size), not from reading up to the limit.
	 */
	path_of(p, sizeof(p), t->root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
	close(fd);
	es_error_clear(&err);
	assert_int_equal(es_scan_read(t->fd, rel, 8388608, &b, &st, &err), -1);
	assert_int_equal(err.code, ES_ELIMIT);
	assert_string_equal(err.msg,
	    "file is 1073741824 bytes, over the 8388608-byte limit");
	assert_string_equal(err.path, rel);
	assert_int_equal(st.size, (uint64_t)1 << 30);
	assert_int_equal(b.len, 0);
	assert_true(b.alloc < 8388608);		/* nothing was read */
	/* One byte over a small limit. */
	put_str(t->root, rel, "0123456789");
	assert_int_equal(es_scan_read(t->fd, rel, 9, &b, NULL, &err), -1);
	assert_int_equal(err.code, ES_ELIMIT);
	assert_string_equal(err.msg, "file is 10 bytes, over the 9-byte limit");
	unlink(p);
	es_buf_release(&b);
}

static void
test_spec4_10_read_checks_content(void **state)
{
	struct tree *t = *state;
	const char *rel = "10k-projects/active/learning/bad.md";
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	put(t->root, rel, "---\ntitle: x\n---\nnul\0here\n", 26, 0644);
	es_error_clear(&err);
	assert_int_equal(es_scan_read(t->fd, rel, 1 << 20, &b, NULL, &err),
	    -1);
	assert_int_equal(err.code, ES_EPARSE);
	assert_int_equal(err.line, 4);
	assert_string_equal(err.msg, "NUL byte");
	assert_string_equal(err.path, rel);
	put_str(t->root, rel, "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> x\n");
	assert_int_equal(es_scan_read(t->fd, rel, 1 << 20, &b, NULL, &err),
	    -1);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.msg,
	    "unresolved git conflict marker '<<<<<<<'");
	put_str(t->root, rel, "caf\xe9\n");
	assert_int_equal(es_scan_read(t->fd, rel, 1 << 20, &b, NULL, &err),
	    -1);
	assert_string_equal(err.msg, "invalid UTF-8");
	es_buf_release(&b);
}

static void
check_stat(struct tree *t)
{
	struct es_stat st;
	struct es_error err;

	assert_int_equal(es_scan_stat(t->fd, "00k-next-actions/@waiting.md",
	    &st, &err), 1);
	assert_int_equal(st.size, strlen("00k-next-actions/@waiting.md"));
	assert_int_equal(es_scan_stat(t->fd, "README.md", &st, &err), 1);
	/* absent, or a folder on the way absent */
	assert_int_equal(es_scan_stat(t->fd, "00k-next-actions/@gone.md",
	    &st, &err), 0);
	assert_int_equal(es_scan_stat(t->fd, "10k-projects/nope/x/y.md",
	    &st, &err), 0);
	assert_int_equal(es_scan_stat(t->fd, "nope.md", &st, &err), 0);
	/* a file where a folder should be */
	assert_int_equal(es_scan_stat(t->fd, "README.md/x.md", &st, &err), 0);
	/* symlinks: at the end, on the way */
	es_error_clear(&err);
	assert_int_equal(es_scan_stat(t->fd,
	    "10k-projects/active/learning/link.md", &st, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_true(S_ISLNK(st.mode));
	es_error_clear(&err);
	assert_int_equal(es_scan_stat(t->fd,
	    "10k-projects/active/linked-area/learn-rust.md", &st, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_string_equal(err.msg, "symbolic link, not followed");
	es_error_clear(&err);
	assert_int_equal(es_scan_stat(t->fd, "30k-goals/active/outside/goal.md",
	    &st, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	/* not a regular file */
	es_error_clear(&err);
	assert_int_equal(es_scan_stat(t->fd, "00k-next-actions/@deferred.md",
	    &st, &err), -1);
	assert_string_equal(err.msg, "not a regular file");
	assert_int_equal(es_scan_stat(t->fd, "10k-projects", &st, &err), -1);
	/* unsafe */
	es_error_clear(&err);
	assert_int_equal(es_scan_stat(t->fd, "../secret.md", &st, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
}

static void
test_scan_stat_table(void **state)
{
	check_stat(*state);
	es__scan_no_openat2 = true;
	check_stat(*state);
	es__scan_no_openat2 = false;
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_spec2_scan_finds_synced_files,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_spec4_11_scan_skips_symlinks,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_spec2_scan_ignore_and_hidden,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_scan_stat_data_filled,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_scan_root_without_synced_folders,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_scan_unreadable_folder_skipped,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_spec4_11_read_refuses_symlinks,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_spec4_11_read_no_openat2,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_scan_read_ok,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_spec4_10_read_oversized,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_spec4_10_read_checks_content,
	    tree_setup, tree_teardown),
	cmocka_unit_test_setup_teardown(test_scan_stat_table,
	    tree_setup, tree_teardown),
};

ES_TEST_MAIN(tests)
