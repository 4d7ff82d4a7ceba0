/*
 * The per-root process lock (issue 19 item 9, SPEC §1 exit status 75):
 * one holder at a time, the holder's PID readable by the one refused, the
 * lock gone with its holder, never through a symbolic link.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es-test.h"

#include "execsync/lock.h"

static char root[64];
static int rootfd = -1;

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/es-lock-XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* A second taker (another open file, as another process has) is refused
 * and told the holder's PID; after a release it gets the lock. */
static void
test_lock_one_holder(void **state)
{
	struct es_lock *a = NULL, *b = NULL;
	struct es_error err;
	pid_t holder = -1;
	struct stat st;
	char path[128];

	(void)state;
	assert_int_equal(es_lock_take(rootfd, &a, &holder, &err),
	    ES_LOCK_TAKEN);
	assert_non_null(a);
	assert_int_equal(es_lock_take(rootfd, &b, &holder, &err),
	    ES_LOCK_HELD);
	assert_null(b);
	assert_int_equal(holder, getpid());
	snprintf(path, sizeof(path), "%s/" ES_LOCK_FILE, root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/.execsync", root);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	es_lock_release(a);
	assert_int_equal(es_lock_take(rootfd, &b, &holder, &err),
	    ES_LOCK_TAKEN);
	es_lock_release(b);
	es_lock_release(NULL);
}

/* A holder killed with SIGKILL leaves no stale lock. */
static void
test_lock_dies_with_holder(void **state)
{
	struct es_lock *l = NULL;
	struct es_error err;
	int fds[2], status;
	pid_t child, holder = 0;
	char c;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct es_lock *mine;
		pid_t h;

		if (es_lock_take(rootfd, &mine, &h, &err) != ES_LOCK_TAKEN)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);	/* it holds it */
	assert_int_equal(es_lock_take(rootfd, &l, &holder, &err),
	    ES_LOCK_HELD);
	assert_int_equal(holder, child);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(es_lock_take(rootfd, &l, &holder, &err),
	    ES_LOCK_TAKEN);
	es_lock_release(l);
	close(fds[0]);
}

/* A symbolic link in place of .execsync is refused, nothing created. */
static void
test_lock_refuses_symlinked_state_dir(void **state)
{
	struct es_lock *l = NULL;
	struct es_error err;
	pid_t holder;
	char link[128], target[128], path[160];
	struct stat st;

	(void)state;
	snprintf(target, sizeof(target), "%s/elsewhere", root);
	snprintf(link, sizeof(link), "%s/.execsync", root);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(es_lock_take(rootfd, &l, &holder, &err),
	    ES_LOCK_ERROR);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_null(l);
	snprintf(path, sizeof(path), "%s/lock", target);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(target), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_lock_one_holder, setup, teardown),
	cmocka_unit_test_setup_teardown(test_lock_dies_with_holder, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_lock_refuses_symlinked_state_dir,
	    setup, teardown),
};

ES_TEST_MAIN(tests)
