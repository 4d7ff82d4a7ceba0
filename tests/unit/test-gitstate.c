/*
 * SPEC 4.16: a git operation in the root is seen from git's own markers, in
 * a .git folder or in the folder a .git file names (worktrees, submodules).
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

#include "es-test.h"
#include "fsio-tree.h"

#include "execsync/gitstate.h"

static void
make_dir(const char *base, const char *rel)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), base, rel);
	if (mkdir(p, 0755) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
}

/* What "git init" leaves: present in every repository, never a marker. */
static void
plain_repo(const char *base, const char *gitdir)
{
	char rel[PATH_MAX];

	make_dir(base, gitdir);
	path_of(rel, sizeof(rel), gitdir, "HEAD");
	put_str(base, rel, "ref: refs/heads/main\n");
	path_of(rel, sizeof(rel), gitdir, "index");
	put_str(base, rel, "DIRC");
	path_of(rel, sizeof(rel), gitdir, "ORIG_HEAD");
	put_str(base, rel, "0123\n");
	path_of(rel, sizeof(rel), gitdir, "refs");
	make_dir(base, rel);
	path_of(rel, sizeof(rel), gitdir, "logs");
	make_dir(base, rel);
}

/* SPEC 4.16's markers and the other mid-operation states. */
static const struct {
	const char	*marker;
	bool		 dir;	/* git makes it a folder */
} markers[] = {
	{ "index.lock", false },
	{ "rebase-merge", true },
	{ "rebase-apply", true },
	{ "MERGE_HEAD", false },
	{ "CHERRY_PICK_HEAD", false },
	{ "REVERT_HEAD", false },
	{ "sequencer", true },
	{ "BISECT_LOG", false },
};

#define NMARKERS (sizeof(markers) / sizeof(markers[0]))

static void
add_marker(const char *base, const char *gitdir, size_t i)
{
	char rel[PATH_MAX];

	path_of(rel, sizeof(rel), gitdir, markers[i].marker);
	if (markers[i].dir)
		make_dir(base, rel);
	else
		put_str(base, rel, "x\n");
}

static void
assert_busy(int fd, const char *want)
{
	const char *what = "unset";

	if (want == NULL) {
		if (es_git_busy(fd, &what))
			fail_msg("busy (%s), want not busy", what);
		assert_null(what);
		return;
	}
	if (!es_git_busy(fd, &what))
		fail_msg("not busy, want %s", want);
	assert_non_null(what);
	assert_string_equal(what, want);
	/* what may be NULL. */
	assert_true(es_git_busy(fd, NULL));
}

static void
test_git_busy_each_marker(void **state)
{
	(void)state;
	for (size_t i = 0; i < NMARKERS; i++) {
		struct tree t;

		tree_init(&t);
		plain_repo(t.root, ".git");
		assert_busy(t.fd, NULL);
		add_marker(t.root, ".git", i);
		assert_busy(t.fd, markers[i].marker);
		tree_release(&t);
	}
}

static void
test_git_not_busy(void **state)
{
	struct tree t;

	(void)state;
	tree_init(&t);
	/* No repository at all. */
	assert_busy(t.fd, NULL);
	/* A repository at rest. */
	plain_repo(t.root, ".git");
	put_str(t.root, ".git/index.lock.bak", "x");
	put_str(t.root, ".git/MERGE_MSG", "x");
	assert_busy(t.fd, NULL);
	/* Markers in the work tree are not git's. */
	put_str(t.root, "MERGE_HEAD", "x");
	make_dir(t.root, "rebase-merge");
	assert_busy(t.fd, NULL);
	tree_release(&t);
}

/* The first marker in the header's order is named. */
static void
test_git_busy_order(void **state)
{
	struct tree t;

	(void)state;
	tree_init(&t);
	plain_repo(t.root, ".git");
	add_marker(t.root, ".git", 3);		/* MERGE_HEAD */
	add_marker(t.root, ".git", 1);		/* rebase-merge */
	assert_busy(t.fd, "rebase-merge");
	add_marker(t.root, ".git", 0);		/* index.lock */
	assert_busy(t.fd, "index.lock");
	tree_release(&t);
}

/* A linked worktree: ".git" is a file naming an absolute gitdir. */
static void
test_git_busy_gitfile_absolute(void **state)
{
	char line[PATH_MAX + 16], gitdir[PATH_MAX];
	int n;

	(void)state;
	for (size_t i = 0; i < NMARKERS; i++) {
		struct tree t;

		tree_init(&t);
		path_of(gitdir, sizeof(gitdir), t.outside, "worktrees/w");
		make_dir(t.outside, "worktrees");
		plain_repo(t.outside, "worktrees/w");
		n = snprintf(line, sizeof(line), "gitdir: %s\n", gitdir);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		put_str(t.root, ".git", line);
		assert_busy(t.fd, NULL);
		add_marker(t.outside, "worktrees/w", i);
		assert_busy(t.fd, markers[i].marker);
		tree_release(&t);
	}
}

/* A submodule: the gitdir is relative to the folder holding ".git". */
static void
test_git_busy_gitfile_relative(void **state)
{
	/* Line endings and trailing blanks git may leave or an editor add. */
	static const char *const ends[] = { "\n", "\r\n", "  ", "", "\t\n" };
	char line[PATH_MAX + 32];
	const char *other;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		struct tree t;

		tree_init(&t);
		other = strrchr(t.outside, '/') + 1;
		make_dir(t.outside, "modules");
		plain_repo(t.outside, "modules/sub");
		n = snprintf(line, sizeof(line), "gitdir: ../%s/modules/sub%s",
		    other, ends[i]);
		assert_true(n > 0 && (size_t)n < sizeof(line));
		put_str(t.root, ".git", line);
		assert_busy(t.fd, NULL);
		add_marker(t.outside, "modules/sub", 2);	/* rebase-apply */
		assert_busy(t.fd, "rebase-apply");
		tree_release(&t);
	}
}

/* A .git file that names nothing usable: no operation to wait for. */
static void
test_git_busy_gitfile_malformed(void **state)
{
	static const char *const lines[] = {
		"",
		"gitdir:",
		"gitdir: ",
		"gitdir: \n",
		"gitdir:/x\n",
		"garbage\n",
		"GITDIR: sub\n",
		"gitdir: does-not-exist\n",
		"gitdir: marker-file\n",
	};
	struct tree t;

	(void)state;
	tree_init(&t);
	/* Markers that a wrong parse could stumble on. */
	make_dir(t.root, "sub");
	put_str(t.root, "sub/index.lock", "x");
	put_str(t.root, "marker-file", "x");
	put_str(t.root, "index.lock", "x");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		put_str(t.root, ".git", lines[i]);
		if (es_git_busy(t.fd, NULL))
			fail_msg("'%s': busy", lines[i]);
	}
	/* The well-formed line, for contrast. */
	put_str(t.root, ".git", "gitdir: sub\n");
	assert_busy(t.fd, "index.lock");
	tree_release(&t);
}

/* A .git that is a symbolic link to a folder is followed (names only). */
static void
test_git_busy_symlinked_gitdir(void **state)
{
	char p[PATH_MAX], target[PATH_MAX];
	struct tree t;

	(void)state;
	tree_init(&t);
	plain_repo(t.outside, "repo.git");
	path_of(target, sizeof(target), t.outside, "repo.git");
	path_of(p, sizeof(p), t.root, ".git");
	assert_int_equal(symlink(target, p), 0);
	assert_busy(t.fd, NULL);
	add_marker(t.outside, "repo.git", 0);
	assert_busy(t.fd, "index.lock");
	tree_release(&t);
}

/*
 * The root may be a folder inside the repository: git's own search goes
 * up to the first .git, and so does ours; a nearer .git shadows a farther.
 */
static void
test_git_busy_root_inside_repo(void **state)
{
	char p[PATH_MAX];
	struct tree t;
	int fd;

	(void)state;
	tree_init(&t);
	plain_repo(t.outside, ".git");
	make_dir(t.outside, "notes");
	make_dir(t.outside, "notes/execution-system");
	path_of(p, sizeof(p), t.outside, "notes/execution-system");
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_busy(fd, NULL);
	add_marker(t.outside, ".git", 0);		/* index.lock */
	assert_busy(fd, "index.lock");
	/* A repository of its own in between: that one counts. */
	plain_repo(t.outside, "notes/.git");
	assert_busy(fd, NULL);
	add_marker(t.outside, "notes/.git", 3);	/* MERGE_HEAD */
	assert_busy(fd, "MERGE_HEAD");
	close(fd);
	tree_release(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_git_busy_each_marker),
	cmocka_unit_test(test_git_not_busy),
	cmocka_unit_test(test_git_busy_order),
	cmocka_unit_test(test_git_busy_gitfile_absolute),
	cmocka_unit_test(test_git_busy_gitfile_relative),
	cmocka_unit_test(test_git_busy_gitfile_malformed),
	cmocka_unit_test(test_git_busy_symlinked_gitdir),
	cmocka_unit_test(test_git_busy_root_inside_repo),
};

ES_TEST_MAIN(tests)
