/*
 * `execsyncd --once` against another program writing the same file (issue
 * 19, SPEC 4.2, 4.11, 4.12): while passes rewrite an action list for
 * actions the API adds, another process appends lines to it every few ms.
 * No line may be lost: each ends up in the file and the database, or in
 * .execsync/conflicts/. The real binary, the real server, the API peer.
 */
#include "sync-world.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/xmalloc.h"

#define HOME_LIST	"00k-next-actions/contexts/@home.md"
#define KEPT_DIR	".execsync/conflicts/00k-next-actions/contexts"
#define APPENDS		300
#define APPEND_EVERY_NS	(4 * 1000 * 1000)
#define LOOP_MAX_MS	(60 * 1000)
#define SETTLE_MAX	10
#define RETRIES		3

/*
 * The other program, in a child: APPENDS lines, each with its own
 * open(O_APPEND), write and close, as `echo ... >> file` does, one every
 * APPEND_EVERY_NS (its pace, not a wait for anything). Exits 0, or 1 on a
 * failed call.
 */
static pid_t
start_appender(const struct world *w)
{
	char *path = path_of(w, HOME_LIST), line[64];
	struct timespec ts = { 0, APPEND_EVERY_NS };
	pid_t pid;
	int fd, n;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid > 0) {
		free(path);
		return pid;
	}
	for (int i = 1; i <= APPENDS; i++) {
		n = snprintf(line, sizeof(line), "- [ ] appended %03d\n", i);
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd == -1 || write(fd, line, (size_t)n) != n)
			_exit(1);
		close(fd);
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		ts.tv_sec = 0;
		ts.tv_nsec = APPEND_EVERY_NS;
	}
	_exit(0);
}

/* Every kept copy under KEPT_DIR and .execsync/conflicts/actions.md. */
static char *
kept_bytes(const struct world *w, int *ncopies)
{
	struct es_buf all = ES_BUF_INIT;
	char *dir = path_of(w, KEPT_DIR), *s;
	struct dirent *de;
	DIR *d;

	*ncopies = 0;
	es_buf_addstr(&all, "");
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *rel;

			if (de->d_name[0] == '.')
				continue;
			rel = es_xasprintf("%s/%s", KEPT_DIR, de->d_name);
			if ((s = get(w, rel)) != NULL) {
				es_buf_addstr(&all, s);
				(*ncopies)++;
			}
			free(s);
			free(rel);
		}
		closedir(d);
	} else if (errno != ENOENT)
		fail_msg("opendir %s: %s", dir, strerror(errno));
	if ((s = get(w, ".execsync/conflicts/actions.md")) != NULL)
		es_buf_addstr(&all, s);
	free(s);
	free(dir);
	return es_buf_detach(&all, NULL);
}

static void
test_race_appender_and_passes(void **state)
{
	struct world w;
	char json[128], needle[64], *file, *db, *kept;
	int rc, status, passes = 0, raced = 0, creates = 0, ncopies;
	int in_file = 0, in_db = 0, in_kept = 0, lost = 0;
	int64_t deadline;
	pid_t pid;
	bool done = false;

	(void)state;
	w_begin(&w, "race_app");
	put(&w, HOME_LIST, "# @home\n\n- [ ] Water the plants\n");
	assert_int_equal(syncd(&w, NULL), 0);

	pid = start_appender(&w);
	deadline = es_itest_mono_ms() + LOOP_MAX_MS;
	while (!done) {
		if (es_itest_mono_ms() > deadline) {
			kill(pid, SIGKILL);
			fail_msg("the appender did not finish in %d ms",
			    LOOP_MAX_MS);
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
			done = true;
		}
		/* The API adds an action: the next pass rewrites the list. */
		snprintf(json, sizeof(json), "{\"text\":\"from the API %d\","
		    "\"context\":\"@home\"}", ++creates);
		peer(&w, "create-action", json);
		/* A pass that met an edit leaves the rewrite to the next. */
		for (int k = 0; k < RETRIES; k++) {
			rc = syncd(&w, NULL);
			passes++;
			if (rc == 0)
				break;
			if (rc != 1 || !contains(w.err.buf,
			    "changed on disk while syncing"))
				fail_msg("pass %d: exit %d: %s", passes, rc,
				    w.err.buf);
			raced++;
		}
	}
	/* Then passes until one has nothing to do. */
	for (int i = 0;; i++) {
		if (i == SETTLE_MAX)
			fail_msg("not settled after %d passes: %s", i,
			    w.out.buf);
		rc = syncd1(&w, "--json");
		passes++;
		if (rc == 0 && contains(w.out.buf, "\"plan\":[]"))
			break;
	}

	file = get(&w, HOME_LIST);
	db = dump(&w);
	kept = kept_bytes(&w, &ncopies);
	for (int i = 1; i <= APPENDS; i++) {
		bool f, d, k;

		snprintf(needle, sizeof(needle), "appended %03d\n", i);
		f = contains(file, needle);
		k = contains(kept, needle);
		snprintf(needle, sizeof(needle), "\"appended %03d\"", i);
		d = contains(db, needle);
		if (d && strstr(strstr(db, needle) + 1, needle) != NULL)
			fail_msg("appended %03d: two documents", i);
		in_file += f;
		in_db += d;
		in_kept += k && !f;
		if (!f && !d && !k) {
			print_message("lost: appended %03d\n", i);
			lost++;
		}
		/* Settled: what the file has, the database has. */
		if (f && !d)
			fail_msg("appended %03d: in the file, not in the "
			    "database", i);
	}
	for (int i = 1; i <= creates; i++) {
		snprintf(needle, sizeof(needle), "from the API %d\n", i);
		if (!contains(file, needle))
			fail_msg("'%s' not in the file", needle);
	}
	print_message("%d passes, %d of them met an edit made while they ran "
	    "(\"changed on disk while syncing\"), %d API actions; appended "
	    "lines: %d in the file, %d in the database, %d only in %d kept "
	    "copies, %d lost\n", passes, raced, creates, in_file, in_db,
	    in_kept, ncopies, lost);
	assert_int_equal(lost, 0);
	free(file);
	free(db);
	free(kept);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_race_appender_and_passes),
};

ES_ITEST_MAIN(tests)
