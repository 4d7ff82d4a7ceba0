/*
 * execsyncd under systemd (issue 18 item 2): what it says on the notify
 * socket (sd_notify(3)), as the service manager of a Type=notify unit
 * with a watchdog reads it. The test plays the manager: a datagram socket
 * named by NOTIFY_SOCKET, WATCHDOG_USEC set. The server is unreachable
 * (a closed port): the daemon must be ready anyway, say why it is
 * degraded, and keep the watchdog fed (SPEC 4.13).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es-itest.h"
#include "es-proc.h"
#include "execsync/buf.h"
#include "execsync/xmalloc.h"

struct mgr {
	char		*dir;
	int		 fd;
	struct es_proc	 d;
	struct es_buf	 seen;	/* every message, one per line */
};

static void
mkdir_ok(const char *path)
{
	if (mkdir(path, 0700) != 0)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		fail_msg("write %s: %s", path, strerror(errno));
}

/*
 * Reads messages until one holds every line of want ("READY=1", or
 * "RELOADING=1\nMONOTONIC_USEC="), at most timeout_ms: the message.
 */
static char *
wait_message(struct mgr *m, const char *want, int64_t timeout_ms)
{
	int64_t end = es_itest_mono_ms() + timeout_ms;
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
	char buf[4096], line[128];
	const char *p, *nl;
	ssize_t n;
	bool all;

	for (;;) {
		int64_t left = end - es_itest_mono_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			es_proc_print_tail(&m->d, "execsyncd", 30);
			fail_msg("no notify message with '%s' in %lld ms; "
			    "seen:\n%s", want, (long long)timeout_ms,
			    m->seen.buf != NULL ? m->seen.buf : "");
		}
		if ((n = recv(m->fd, buf, sizeof(buf) - 1, 0)) < 0)
			fail_msg("recv: %s", strerror(errno));
		buf[n] = '\0';
		es_buf_addf(&m->seen, "%s\n--\n", buf);
		all = true;
		for (p = want; *p != '\0' && all; p = *nl ? nl + 1 : nl) {
			nl = p + strcspn(p, "\n");
			snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
			all = strstr(buf, line) != NULL;
		}
		if (all)
			return es_xstrdup(buf);
	}
}

static int
setup(void **state)
{
	struct mgr *m = es_xcalloc(1, sizeof(*m));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *p, *cfg;

	m->dir = es_itest_tmpdir("sdnotify");
	p = es_xasprintf("%s/root", m->dir);
	mkdir_ok(p);
	free(p);
	for (int i = 0; i < 3; i++) {
		static const char *const sub[] = { "00k-next-actions",
		    "10k-projects", "30k-goals" };

		p = es_xasprintf("%s/root/%s", m->dir, sub[i]);
		mkdir_ok(p);
		free(p);
	}
	p = es_xasprintf("%s/run", m->dir);
	mkdir_ok(p);
	setenv("XDG_RUNTIME_DIR", p, 1);
	free(p);
	/* Port 1 on loopback: refused at once. */
	cfg = es_xasprintf("source: %s/root\n"
	    "mongodb_uri: mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200"
	    "&connectTimeoutMS=200\n"
	    "user_id: ana\n"
	    "status_listen: \"\"\n", m->dir);
	p = es_xasprintf("%s/config.yaml", m->dir);
	write_file(p, cfg);
	free(p);
	free(cfg);

	if ((m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		fail_msg("socket: %s", strerror(errno));
	p = es_xasprintf("%s/notify", m->dir);
	if (strlen(p) >= sizeof(sa.sun_path))
		fail_msg("%s: too long for a socket", p);
	memcpy(sa.sun_path, p, strlen(p) + 1);
	if (bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("bind %s: %s", p, strerror(errno));
	setenv("NOTIFY_SOCKET", p, 1);
	free(p);
	/* A ping every 100 ms; no WATCHDOG_PID: any process may ping. */
	setenv("WATCHDOG_USEC", "200000", 1);
	unsetenv("WATCHDOG_PID");
	*state = m;
	return 0;
}

static int
teardown(void **state)
{
	struct mgr *m = *state;

	es_proc_kill(&m->d);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	close(m->fd);
	es_itest_rm_rf(m->dir);
	free(m->dir);
	es_buf_release(&m->seen);
	free(m);
	return 0;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/*
 * Ready with the server down; STATUS names the failing check; the
 * watchdog fed every WATCHDOG_USEC/2; RELOADING=1 with MONOTONIC_USEC then
 * READY=1 on SIGHUP; STOPPING=1 on SIGTERM, and exit 0.
 */
static void
test_notify_lifecycle(void **state)
{
	struct mgr *m = *state;
	char *cfg = es_xasprintf("%s/config.yaml", m->dir);
	char *log = es_xasprintf("%s/daemon.log", m->dir);
	char *argv[] = { ES_SYNCD_BIN, "--config", cfg, NULL };
	char *msg;
	int64_t t0;

	es_proc_start(&m->d, argv, log);
	msg = wait_message(m, "READY=1\nSTATUS=", 10000);
	free(msg);
	msg = wait_message(m, "STATUS=degraded", 10000);
	assert_non_null(strstr(msg, "database"));
	free(msg);

	/* At least 5 pings in 1.5 s, where 3 would be due at 0.5 s apart. */
	t0 = es_itest_mono_ms();
	for (int i = 0; i < 5; i++)
		free(wait_message(m, "WATCHDOG=1", 1500));
	assert_true(es_itest_mono_ms() - t0 < 1500);

	es_proc_signal(&m->d, SIGHUP);
	msg = wait_message(m, "RELOADING=1\nMONOTONIC_USEC=", 10000);
	free(msg);
	msg = wait_message(m, "READY=1", 10000);
	free(msg);

	es_proc_signal(&m->d, SIGTERM);
	free(wait_message(m, "STOPPING=1", 10000));
	assert_int_equal(es_proc_wait(&m->d, 20000), 0);
	/* READY=1 twice: at start and after the reload. */
	assert_int_equal(count(m->seen.buf, "READY=1"), 2);
	free(cfg);
	free(log);
}

/* Without NOTIFY_SOCKET nothing is sent and the daemon runs as before. */
static void
test_notify_none(void **state)
{
	struct mgr *m = *state;
	char *cfg = es_xasprintf("%s/config.yaml", m->dir);
	char *log = es_xasprintf("%s/daemon.log", m->dir);
	char *argv[] = { ES_SYNCD_BIN, "--config", cfg, NULL };
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };

	unsetenv("NOTIFY_SOCKET");
	es_proc_start(&m->d, argv, log);
	es_proc_wait_log(&m->d, "watching", 10000);
	es_proc_signal(&m->d, SIGTERM);
	assert_int_equal(es_proc_wait(&m->d, 20000), 0);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	free(cfg);
	free(log);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notify_lifecycle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_notify_none, setup,
		    teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, es_itest_group_setup,
	    es_itest_group_teardown);
}
