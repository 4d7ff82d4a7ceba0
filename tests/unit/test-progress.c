/*
 * The progress bar of execsync-migrate (issue 4 "for people": files scanned,
 * documents written, rate, ETA; on a terminal only, redrawn <= 10 Hz).
 */
#include "es-test.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "execsync/progress.h"

/* n copies of c, for bars. */
static const char *
rep(char c, size_t n)
{
	static char buf[8][256];
	static int k;
	char *b = buf[k++ % 8];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

static void
test_progress_eta_table(void **state)
{
	static const struct {
		double		 in;
		const char	*want;
	} cases[] = {
		{ 0, "0s" },
		{ 0.2, "1s" },		/* rounded up: not over yet */
		{ 59, "59s" },
		{ 59.5, "1m00s" },
		{ 60, "1m00s" },
		{ 65, "1m05s" },
		{ 3599, "59m59s" },
		{ 3600, "1h00m" },
		{ 3661, "1h01m" },
		{ 359999, "99h59m" },
		{ 360000, "99h+" },
		{ 1e300, "99h+" },
		{ -1, "--" },
	};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		es_progress_format_eta(cases[i].in, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("eta %g: got '%s', want '%s'", cases[i].in,
			    out, cases[i].want);
	}
	es_progress_format_eta(NAN, out, sizeof(out));
	assert_string_equal(out, "--");
	es_progress_format_eta(INFINITY, out, sizeof(out));
	assert_string_equal(out, "--");
}

/* The line: counts first, then the bar in what room is left, then
 * percentage, rate and ETA; never wider than width - 1. */
static void
test_progress_format_table(void **state)
{
	struct {
		struct es_progress_info	 in;
		unsigned		 width;
		char			 want[400];
	} cases[8];
	size_t n = 0;
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	/* Wide: 33-column bar, 54% of it filled (17 of 33). */
	cases[n].in = (struct es_progress_info){ "writing", 2350, 2350,
	    12000, 22200, 2.0 };
	cases[n].width = 100;
	snprintf(cases[n].want, sizeof(cases[n].want),
	    "writing   files 2350/2350  docs 12000/22200 [%s%s]  54%%"
	    "  6000/s ETA 2s", rep('#', 17), rep(' ', 16));
	n++;
	/* No room for a bar of 8: counts, percentage, rate; no ETA. */
	cases[n].in = cases[0].in;
	cases[n].width = 60;
	snprintf(cases[n].want, sizeof(cases[n].want),
	    "writing   files 2350/2350  docs 12000/22200  54%%  6000/s");
	n++;
	/* Narrower than the counts: cut. */
	cases[n].in = cases[0].in;
	cases[n].width = 30;
	snprintf(cases[n].want, sizeof(cases[n].want),
	    "writing   files 2350/2350  do");
	n++;
	/* Under the minimum width: taken as 20. */
	cases[n].in = cases[0].in;
	cases[n].width = 3;
	snprintf(cases[n].want, sizeof(cases[n].want), "writing   files 235");
	n++;
	/* Scanning: no documents yet, the bar follows the files; at most
	 * 40 columns of bar. */
	cases[n].in = (struct es_progress_info){ "scanning", 10, 40, 0, 0,
	    0 };
	cases[n].width = 80;
	snprintf(cases[n].want, sizeof(cases[n].want),
	    "scanning  files 10/40 [%s%s]  25%%", rep('#', 10), rep(' ', 30));
	n++;
	/* Nothing written yet: no rate, ETA unknown. */
	cases[n].in = (struct es_progress_info){ "writing", 5, 5, 0, 100,
	    0 };
	cases[n].width = 200;
	snprintf(cases[n].want, sizeof(cases[n].want),
	    "writing   files 5/5  docs 0/100 [%s]   0%% ETA --",
	    rep(' ', 40));
	n++;
	/* Past the total (documents found after the count): full, 0s. */
	cases[n].in = (struct es_progress_info){ "reading", 5, 5, 150, 100,
	    1.0 };
	cases[n].width = 120;
	snprintf(cases[n].want, sizeof(cases[n].want),
	    "reading   files 5/5  docs 150/100 [%s] 100%%  150/s ETA 0s",
	    rep('#', 40));
	n++;
	/* No phase name. */
	cases[n].in = (struct es_progress_info){ NULL, 0, 0, 0, 0, 0 };
	cases[n].width = 80;
	snprintf(cases[n].want, sizeof(cases[n].want), "%s files 0/0",
	    rep(' ', 9));
	n++;

	for (size_t i = 0; i < n; i++) {
		unsigned w = cases[i].width < ES_PROGRESS_WIDTH_MIN ?
		    ES_PROGRESS_WIDTH_MIN : cases[i].width;

		es_progress_format(&cases[i].in, cases[i].width, &out);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("case %zu (width %u):\n got '%s'\nwant '%s'",
			    i, cases[i].width, out.buf, cases[i].want);
		assert_true(out.len <= w - 1);
	}
	es_buf_release(&out);
}

/* Every width from 1 to 300 gives a line that fits, for a few states. */
static void
test_progress_format_fits_every_width(void **state)
{
	const struct es_progress_info infos[] = {
		{ "writing", 123456789, 987654321, 123456789012ULL,
		    987654321098ULL, 0.001 },
		{ "baseline", 1, 1, 1, 1, 1 },
		{ "a-very-long-phase-name-indeed-and-more", 0, 0, 0, 0, 0 },
	};
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(infos) / sizeof(infos[0]); i++)
		for (unsigned w = 1; w <= 300; w++) {
			unsigned cap = w < ES_PROGRESS_WIDTH_MIN ?
			    ES_PROGRESS_WIDTH_MIN : w;

			es_progress_format(&infos[i], w, &out);
			if (out.len > cap - 1 || out.len == 0)
				fail_msg("info %zu width %u: %zu bytes", i, w,
				    out.len);
			for (size_t k = 0; k < out.len; k++)
				assert_true(out.buf[k] >= 0x20 &&
				    out.buf[k] < 0x7f);
		}
	es_buf_release(&out);
}

/* Off the terminal (a pipe, as under --json | jq or in CI): no output. */
static void
test_progress_quiet_off_terminal(void **state)
{
	struct es_progress *p;
	int fds[2];
	char buf[64];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	p = es_progress_new(fds[1], true);
	assert_false(es_progress_enabled(p));
	es_progress_update(p, "writing", 1, 2, 3, 4, true);
	es_progress_clear(p);
	es_progress_free(p);
	close(fds[1]);
	assert_int_equal(read(fds[0], buf, sizeof(buf)), 0);
	close(fds[0]);
	es_progress_free(NULL);
}

/* Reads what the pseudo-terminal has for us (master side, non-blocking). */
static size_t
drain(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return n;
}

/* On a terminal: "\r", a line no wider than the terminal, erase to the
 * end; redraws at most every 100 ms unless forced; clear erases. */
static void
test_progress_draws_on_terminal(void **state)
{
	struct winsize ws = { 0 };
	struct es_progress *p;
	char buf[1024], *name;
	int m, s;
	size_t n;

	(void)state;
	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
	    (name = ptsname(m)) == NULL)
		skip();
	s = open(name, O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	ws.ws_col = 50;
	ws.ws_row = 24;
	assert_int_equal(ioctl(s, TIOCSWINSZ, &ws), 0);
	assert_int_equal(fcntl(m, F_SETFL, O_NONBLOCK), 0);

	/* Disabled (--json): nothing even on a terminal. */
	p = es_progress_new(s, false);
	assert_false(es_progress_enabled(p));
	es_progress_update(p, "writing", 1, 2, 3, 4, true);
	es_progress_free(p);
	assert_int_equal(drain(m, buf, sizeof(buf)), 0);

	p = es_progress_new(s, true);
	assert_true(es_progress_enabled(p));
	es_progress_update(p, "scanning", 1, 10, 0, 0, false);
	n = drain(m, buf, sizeof(buf));
	assert_true(n > 4);
	assert_int_equal(buf[0], '\r');
	assert_memory_equal(buf + n - 3, "\033[K", 3);
	assert_true(n - 4 <= 49);	/* the line: width 50 - 1 */
	assert_non_null(strstr(buf, "scanning  files 1/10"));
	/* Within 100 ms of the last draw: skipped unless forced. */
	es_progress_update(p, "scanning", 2, 10, 0, 0, false);
	assert_int_equal(drain(m, buf, sizeof(buf)), 0);
	es_progress_update(p, "writing", 10, 10, 5, 20, true);
	n = drain(m, buf, sizeof(buf));
	assert_non_null(strstr(buf, "docs 5/20"));
	es_progress_clear(p);
	n = drain(m, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "\r\033[K", 4);
	/* Nothing drawn since: freeing writes nothing. */
	es_progress_free(p);
	assert_int_equal(drain(m, buf, sizeof(buf)), 0);
	close(s);
	close(m);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_progress_eta_table),
	cmocka_unit_test(test_progress_format_table),
	cmocka_unit_test(test_progress_format_fits_every_width),
	cmocka_unit_test(test_progress_quiet_off_terminal),
	cmocka_unit_test(test_progress_draws_on_terminal),
};

ES_TEST_MAIN(tests)
