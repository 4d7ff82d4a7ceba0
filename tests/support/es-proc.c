/* A program in the background of a test: see es-proc.h. */
#include "es-proc.h"

#include <sys/prctl.h>
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

#include "es-itest.h"
#include "execsync/buf.h"
#include "execsync/xmalloc.h"

void
es_poll_pause(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
es_proc_start(struct es_proc *p, char *const argv[], const char *log)
{
	int fd, devnull;
	pid_t pid;

	if (p->pid > 0)
		fail_msg("es_proc_start: pid %ld still runs", (long)p->pid);
	free(p->log);
	memset(p, 0, sizeof(*p));
	p->log = es_xstrdup(log);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1)
		fail_msg("open %s: %s", log, strerror(errno));
	pid = fork();
	if (pid == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull != -1)
			dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		/* Never outlive the test, even one killed by its timeout. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	p->pid = pid;
	p->status = -1;
}

/* Reaps p when it has exited (hang: wait for it); whether it was. */
static bool
reap(struct es_proc *p, bool hang)
{
	int st;
	pid_t r;

	if (p->pid <= 0)
		return true;
	while ((r = waitpid(p->pid, &st, hang ? 0 : WNOHANG)) == -1)
		if (errno != EINTR)
			fail_msg("waitpid %ld: %s", (long)p->pid,
			    strerror(errno));
	if (r == 0)
		return false;
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	p->pid = 0;
	return true;
}

bool
es_proc_running(struct es_proc *p)
{
	return !reap(p, false);
}

int
es_proc_wait(struct es_proc *p, int64_t timeout_ms)
{
	int64_t deadline = es_itest_mono_ms() + timeout_ms;

	while (!reap(p, false)) {
		if (es_itest_mono_ms() >= deadline)
			return -1;
		es_poll_pause(10);
	}
	return p->status;
}

void
es_proc_signal(struct es_proc *p, int sig)
{
	if (!es_proc_running(p))
		fail_msg("signal %d: the process is not running (it exited "
		    "%d)", sig, p->status);
	if (kill(p->pid, sig) == -1)
		fail_msg("kill %ld: %s", (long)p->pid, strerror(errno));
}

int
es_proc_stop(struct es_proc *p, int sig, int64_t timeout_ms)
{
	int rc;

	if (!es_proc_running(p))
		return p->status;
	kill(p->pid, sig);
	if ((rc = es_proc_wait(p, timeout_ms)) >= 0)
		return rc;
	kill(p->pid, SIGKILL);
	reap(p, true);
	return -1;
}

void
es_proc_kill(struct es_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		reap(p, true);
	}
	free(p->log);
	p->log = NULL;
}

char *
es_read_file(const char *path, size_t *len)
{
	struct es_buf b = ES_BUF_INIT;
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		if (errno != ENOENT)
			fail_msg("open %s: %s", path, strerror(errno));
		return NULL;
	}
	es_buf_addstr(&b, "");
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fail_msg("read %s: %s", path, strerror(errno));
		}
		es_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	return es_buf_detach(&b, len);
}

char *
es_proc_output(const struct es_proc *p)
{
	char *s = p->log != NULL ? es_read_file(p->log, NULL) : NULL;

	return s != NULL ? s : es_xstrdup("");
}

bool
es_proc_logged(const struct es_proc *p, const char *needle)
{
	char *s = es_proc_output(p);
	bool yes = strstr(s, needle) != NULL;

	free(s);
	return yes;
}

void
es_proc_print_tail(const struct es_proc *p, const char *name, int nlines)
{
	char *s = es_proc_output(p);
	size_t len = strlen(s);
	char *start = s + len;
	int n = 0;

	while (start > s && n <= nlines)
		if (*--start == '\n' && start + 1 < s + len)
			n++;
	if (n > nlines)
		start++;
	/* Not print_message(): cmocka cuts a message at 4 KiB. */
	fflush(stdout);
	printf("---- %s (%s), last %d lines ----\n", name, p->log != NULL ?
	    p->log : "no log", nlines);
	fwrite(start, 1, strlen(start), stdout);
	printf("%s---- end of %s ----\n", len > 0 && s[len - 1] != '\n' ?
	    "\n" : "", name);
	fflush(stdout);
	free(s);
}

void
es_proc_wait_log(struct es_proc *p, const char *needle, int64_t timeout_ms)
{
	int64_t deadline = es_itest_mono_ms() + timeout_ms;

	while (!es_proc_logged(p, needle)) {
		if (!es_proc_running(p) && !es_proc_logged(p, needle)) {
			es_proc_print_tail(p, "process", 40);
			fail_msg("exited (status %d) without logging '%s'",
			    p->status, needle);
		}
		if (es_itest_mono_ms() >= deadline) {
			es_proc_print_tail(p, "process", 40);
			fail_msg("no '%s' in its log within %lld ms", needle,
			    (long long)timeout_ms);
		}
		es_poll_pause(20);
	}
}
