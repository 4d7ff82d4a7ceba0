/*
 * One command line for every program (issue 15 item 6): execsyncd,
 * execsync-migrate and execsync-scan, the real binaries, give the same
 * error in the same words for a misspelt or abbreviated option and exit 2,
 * refuse a value for a switch, print "<program> <version>", and take the
 * config keys the README documents as flags (--poll-ms, --max-file-size,
 * --ignore). No database is needed: every case stops before one.
 */
#include "es-itest.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/cli.h"
#include "execsync/xmalloc.h"

static const struct {
	const char	*bin;
	const char	*name;
} progs[] = {
	{ ES_SYNCD_BIN, "execsyncd" },
	{ ES_MIGRATE_BIN, "execsync-migrate" },
	{ ES_SCAN_BIN, "execsync-scan" },
};
#define NPROGS	(sizeof(progs) / sizeof(progs[0]))

/* Runs bin with one argument; out and err hold what it printed. */
static int
run1(const char *bin, const char *arg, struct es_buf *out,
    struct es_buf *err)
{
	char *argv[] = { (char *)bin, (char *)arg, NULL };

	es_buf_reset(out);
	es_buf_reset(err);
	return es_itest_run(argv, out, err, 30);
}

static void
test_programs_same_usage_errors(void **state)
{
	static const struct {
		const char	*arg;
		const char	*msg;
	} cases[] = {
		{ "--jsn", "unknown option '--jsn' (did you mean '--json'?)" },
		{ "--js", "unknown option '--js' (did you mean '--json'?)" },
		{ "--json=yes", "option '--json' takes no value" },
		{ "--verison", "unknown option '--verison' (did you mean "
		    "'--version'?)" },
		{ "--ignore", "option '--ignore' needs a value" },
		{ "--help=1", "option '--help' takes no value" },
	};
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;

	(void)state;
	for (size_t p = 0; p < NPROGS; p++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char *want = es_xasprintf("%s: %s\n", progs[p].name,
			    cases[i].msg);

			assert_int_equal(run1(progs[p].bin, cases[i].arg, &out,
			    &err), 2);
			/*
			 * A line, not the first: libmongoc may warn on
			 * stderr first ("Falling back to malloc for
			 * counters") on a loaded machine.
			 */
			if (strstr(err.buf, want) == NULL)
				fail_msg("%s %s: want '%s', got '%s'",
				    progs[p].name, cases[i].arg, want, err.buf);
			assert_int_equal(out.len, 0);
			free(want);
		}
	es_buf_release(&out);
	es_buf_release(&err);
}

static void
test_programs_version_and_help(void **state)
{
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;

	(void)state;
	for (size_t p = 0; p < NPROGS; p++) {
		char *want = es_xasprintf("%s %s\n", progs[p].name,
		    es_cli_version());

		assert_int_equal(run1(progs[p].bin, "--version", &out, &err),
		    0);
		assert_string_equal(out.buf, want);
		free(want);
		assert_int_equal(run1(progs[p].bin, "--help", &out, &err), 0);
		assert_true(strncmp(out.buf, "usage: ", 7) == 0);
		assert_non_null(strstr(out.buf, "  --max-file-size SIZE "));
		assert_non_null(strstr(out.buf, "  --ignore GLOB "));
		assert_non_null(strstr(out.buf, "  --version "));
		assert_non_null(strstr(out.buf, "  --json "));
	}
	/* The keys a scan has no use for are not offered to it. */
	assert_null(strstr(out.buf, "--poll-ms"));
	assert_int_equal(run1(ES_SYNCD_BIN, "--help", &out, &err), 0);
	assert_non_null(strstr(out.buf, "  --poll-ms MS "));
	es_buf_release(&out);
	es_buf_release(&err);
}

/* The README's flags reach the configuration, validated as in a file. */
static void
test_programs_take_config_keys(void **state)
{
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	char *dir = es_itest_tmpdir("cli-keys");
	char *proj = es_xasprintf("%s/10k-projects/active/home", dir);
	char *big = es_xasprintf("%s/big.md", proj);
	char *odd = es_xasprintf("%s/odd.md", proj);
	FILE *f;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		static const char *const sub[] = { "/10k-projects",
		    "/10k-projects/active", "/10k-projects/active/home" };
		char *d = es_xasprintf("%s%s", dir, sub[i]);

		if (mkdir(d, 0755) != 0)
			fail_msg("mkdir %s: %s", d, strerror(errno));
		free(d);
	}
	/* 3 KiB and 16 bytes without front matter: both are problems. */
	if ((f = fopen(big, "w")) == NULL)
		fail_msg("%s: %s", big, strerror(errno));
	for (int i = 0; i < 3072; i++)
		fputc(i % 64 == 63 ? '\n' : 'x', f);
	fclose(f);
	if ((f = fopen(odd, "w")) == NULL)
		fail_msg("%s: %s", odd, strerror(errno));
	fputs("no front matter\n", f);
	fclose(f);
	{
		char *argv[] = { (char *)ES_SYNCD_BIN, (char *)"--once",
		    (char *)"--poll-ms", (char *)"5", NULL };

		assert_int_equal(es_itest_run(argv, &out, &err, 30), 2);
		assert_non_null(strstr(err.buf, "execsyncd: --poll-ms: bad "
		    "value '5' for 'poll_ms'"));
	}
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--poll-ms=5",
		    NULL };

		es_buf_reset(&err);
		assert_int_equal(es_itest_run(argv, &out, &err, 30), 2);
		assert_non_null(strstr(err.buf, "execsync-migrate: --poll-ms: "
		    "bad value '5' for 'poll_ms'"));
	}
	{
		char *argv[] = { (char *)ES_SCAN_BIN, (char *)"--json", dir,
		    NULL };

		es_buf_reset(&out);
		assert_int_equal(es_itest_run(argv, &out, NULL, 30), 1);
		assert_non_null(strstr(out.buf, "odd.md"));
		assert_non_null(strstr(out.buf, "big.md"));
		assert_null(strstr(out.buf, "limit"));
	}
	{
		/* odd.md ignored, big.md over the limit: both flags count. */
		char *argv[] = { (char *)ES_SCAN_BIN, (char *)"--max-file-size",
		    (char *)"2KiB", (char *)"--ignore=nothing.md",
		    (char *)"--ignore", (char *)"10k-projects/active/home/"
		    "odd.md", dir, NULL };

		es_buf_reset(&out);
		es_buf_reset(&err);
		assert_int_equal(es_itest_run(argv, &out, &err, 30), 1);
		assert_null(strstr(out.buf, "odd.md"));
		assert_non_null(strstr(out.buf, "big.md: file is 3072 bytes, "
		    "over the 2048-byte limit"));
	}
	{
		char *argv[] = { (char *)ES_SCAN_BIN, (char *)"--mongodb-uri",
		    (char *)"mongodb://x", dir, NULL };

		es_buf_reset(&err);
		assert_int_equal(es_itest_run(argv, &out, &err, 30), 2);
		assert_non_null(strstr(err.buf, "execsync-scan: unknown "
		    "option '--mongodb-uri'"));
	}
	es_itest_rm_rf(dir);
	free(big);
	free(odd);
	free(proj);
	free(dir);
	es_buf_release(&out);
	es_buf_release(&err);
}

/*
 * Under journald (JOURNAL_STREAM names stderr), a fatal error before any
 * logging starts carries the error priority "<3>", as log lines do;
 * otherwise none.
 */
static void
test_syncd_fatal_error_journald_prefix(void **state)
{
	char *dir = es_itest_tmpdir("journal"), *script, *errf;
	char *argv[] = { (char *)"sh", (char *)"-c", NULL, NULL };
	FILE *f;
	char line[512];

	(void)state;
	errf = es_xasprintf("%s/stderr", dir);
	script = es_xasprintf("exec 2>'%s'; JOURNAL_STREAM=$(stat -c %%d:%%i "
	    "'%s') exec '%s' --config '%s/none.yaml'", errf, errf,
	    ES_SYNCD_BIN, dir);
	argv[2] = script;
	assert_int_equal(es_itest_run(argv, NULL, NULL, 30), 2);
	assert_non_null(f = fopen(errf, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	if (strncmp(line, "<3>execsyncd: ", 14) != 0)
		fail_msg("want '<3>execsyncd: ...', got '%s'", line);
	/* Without journald: no prefix. */
	free(script);
	script = es_xasprintf("exec 2>'%s'; exec '%s' --config "
	    "'%s/none.yaml'", errf, ES_SYNCD_BIN, dir);
	argv[2] = script;
	assert_int_equal(es_itest_run(argv, NULL, NULL, 30), 2);
	assert_non_null(f = fopen(errf, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(strncmp(line, "execsyncd: ", 11), 0);
	free(script);
	free(errf);
	es_itest_rm_rf(dir);
	free(dir);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_programs_same_usage_errors),
	cmocka_unit_test(test_programs_version_and_help),
	cmocka_unit_test(test_programs_take_config_keys),
	cmocka_unit_test(test_syncd_fatal_error_journald_prefix),
};

ES_ITEST_MAIN(tests)
