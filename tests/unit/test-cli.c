/*
 * The command line of every program (issue 15 item 6, cli.h): config keys
 * as flags with the table's names, own switches that refuse a value,
 * valued options in both spellings, no abbreviations, "did you mean", a
 * generated --help.
 */
#include "es-test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "execsync/buf.h"
#include "execsync/cli.h"
#include "execsync/config.h"
#include "execsync/error.h"

static const struct es_cli_opt opts[] = {
	{ "--once", NULL, "run one pass" },
	{ "--json", NULL, "print JSON" },
	{ "--log-level", "L", "error, warn, info or debug" },
};

static const struct es_cli_spec spec = {
	.prog = "t",
	.usage = "[options]",
	.opts = opts,
	.nopts = sizeof(opts) / sizeof(opts[0]),
};

static const char *const scan_keys[] = { "max_file_size", "ignore", NULL };

static const struct es_cli_spec scan_spec = {
	.prog = "s",
	.usage = "[options] DIR",
	.opts = opts + 1,
	.nopts = 1,
	.keys = scan_keys,
	.args = "DIR",
	.min_args = 1,
	.max_args = 1,
};

/* Splits "a b c" at spaces into argv (argv[0] "t"); returns argc. */
static int
split(const char *line, char *buf, size_t size, char **argv, int max)
{
	int argc = 0;
	char *p;

	snprintf(buf, size, "%s", line);
	argv[argc++] = (char *)"t";
	for (p = strtok(buf, " "); p != NULL && argc < max - 1;
	    p = strtok(NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	return argc;
}

/*
 * Parses line with sp and describes the result in out: "error: msg", or
 * the options given, the key flags in order, the arguments.
 */
static void
run(const struct es_cli_spec *sp, const char *line, struct es_buf *out)
{
	char buf[512], *argv[32];
	int argc = split(line, buf, sizeof(buf), argv, 32);
	struct es_cli c;
	struct es_error err;

	es_buf_reset(out);
	if (es_cli_parse(sp, argc, argv, &c, &err) != 0) {
		assert_int_equal(err.code, ES_EUSAGE);
		es_buf_addf(out, "error: %s", err.msg);
		return;
	}
	if (c.help)
		es_buf_addstr(out, "help ");
	if (c.version)
		es_buf_addstr(out, "version ");
	if (c.config != NULL)
		es_buf_addf(out, "config=%s ", c.config);
	for (size_t i = 0; i < sp->nopts; i++)
		if (c.opt[i] != NULL)
			es_buf_addf(out, "%s=%s ", sp->opts[i].name, c.opt[i]);
	for (size_t i = 0; i < c.nsets; i++)
		es_buf_addf(out, "%s:%s ", c.sets[i].key, c.sets[i].value);
	for (size_t i = 0; i < c.nargs; i++)
		es_buf_addf(out, "[%s] ", c.args[i]);
	if (out->len > 0)
		es_buf_setlen(out, out->len - 1);
	es_cli_release(&c);
}

static void
test_cli_parse_table(void **state)
{
	static const struct {
		const char	*argv;
		const char	*want;
	} cases[] = {
		{ "", "" },
		{ "--once --json", "--once= --json=" },
		{ "--json=yes", "error: option '--json' takes no value" },
		{ "--json=", "error: option '--json' takes no value" },
		{ "--jsn", "error: unknown option '--jsn' (did you mean "
		    "'--json'?)" },
		{ "--js", "error: unknown option '--js' (did you mean "
		    "'--json'?)" },
		{ "--jsn=1", "error: unknown option '--jsn' (did you mean "
		    "'--json'?)" },
		{ "--pol-ms 5", "error: unknown option '--pol-ms' (did you "
		    "mean '--poll-ms'?)" },
		{ "--verison", "error: unknown option '--verison' (did you "
		    "mean '--version'?)" },
		{ "--frobnicate", "error: unknown option '--frobnicate'" },
		{ "-x", "error: unknown option '-x'" },
		{ "-jsn", "error: unknown option '-jsn' (did you mean "
		    "'--json'?)" },
		{ "--poll-ms 5", "poll_ms:5" },
		{ "--poll-ms=5", "poll_ms:5" },
		{ "--poll-ms=", "poll_ms:" },
		{ "--poll-ms", "error: option '--poll-ms' needs a value" },
		{ "--log-level", "error: option '--log-level' needs a value" },
		{ "--log-level debug", "--log-level=debug" },
		{ "--log-level=a=b", "--log-level=a=b" },
		{ "--max-file-size 2KiB", "max_file_size:2KiB" },
		{ "--ignore a --ignore=b --ignore c", "ignore:a ignore:b "
		    "ignore:c" },
		{ "--source /x --once --source /y", "--once= source:/x "
		    "source:/y" },
		{ "--config f.yaml", "config=f.yaml" },
		{ "--config=f.yaml", "config=f.yaml" },
		{ "--help", "help" },
		{ "-h", "help" },
		{ "--help=1", "error: option '--help' takes no value" },
		{ "--version", "version" },
		{ "--version --bogus", "error: unknown option '--bogus'" },
		{ "extra", "error: unexpected argument 'extra'" },
		{ "-- --once", "error: unexpected argument '--once'" },
		{ "--", "" },
		{ "--poll_ms 5", "error: unknown option '--poll_ms' (did you "
		    "mean '--poll-ms'?)" },
	};
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&spec, cases[i].argv, &out);
		if (strcmp(out.buf, cases[i].want) != 0)
			print_error("argv '%s'\n  want '%s'\n  got  '%s'\n",
			    cases[i].argv, cases[i].want, out.buf);
		assert_string_equal(out.buf, cases[i].want);
	}
	es_buf_release(&out);
}

/* A program that takes some keys and one argument (execsync-scan). */
static void
test_cli_restricted_keys_and_arguments(void **state)
{
	static const struct {
		const char	*argv;
		const char	*want;
	} cases[] = {
		{ "dir", "[dir]" },
		{ "--json dir", "--json= [dir]" },
		{ "dir --ignore '*.tmp'", "ignore:'*.tmp' [dir]" },
		{ "--max-file-size 1M dir", "max_file_size:1M [dir]" },
		{ "", "error: missing DIR" },
		{ "--json", "error: missing DIR" },
		{ "--help", "help" },
		{ "--version", "version" },
		{ "a b", "error: unexpected argument 'b'" },
		{ "-- -odd", "[-odd]" },
		{ "-", "[-]" },
		{ "--once dir", "error: unknown option '--once'" },
		{ "--mongodb-uri x dir", "error: unknown option "
		    "'--mongodb-uri'" },
		{ "--ignor x dir", "error: unknown option '--ignor' (did you "
		    "mean '--ignore'?)" },
	};
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&scan_spec, cases[i].argv, &out);
		if (strcmp(out.buf, cases[i].want) != 0)
			print_error("argv '%s'\n  want '%s'\n  got  '%s'\n",
			    cases[i].argv, cases[i].want, out.buf);
		assert_string_equal(out.buf, cases[i].want);
	}
	es_buf_release(&out);
}

/* Key flags go through es_config_set(): its validation and wording. */
static void
test_cli_apply_through_config(void **state)
{
	char *argv[] = { (char *)"t", (char *)"--poll-ms", (char *)"5000",
	    (char *)"--max-file-size", (char *)"2KiB", (char *)"--ignore",
	    (char *)"a", (char *)"--ignore=b", (char *)"--conflict=file",
	    NULL };
	char *bad[] = { (char *)"t", (char *)"--poll-ms=5", NULL };
	char msg[PATH_MAX + 600];
	struct es_config cfg;
	struct es_error err;
	struct es_cli c;

	(void)state;
	es_config_init(&cfg);
	/* A file's list is replaced by the flags, which add up. */
	assert_int_equal(es_config_load_buffer(&cfg, "ignore: [old]\n", 14,
	    "c.yaml", &err), 0);
	assert_int_equal(es_cli_parse(&spec, 9, argv, &c, &err), 0);
	assert_int_equal(es_cli_apply(&c, &cfg, &err), 0);
	es_cli_release(&c);
	assert_int_equal(cfg.poll_ms, 5000);
	assert_int_equal(cfg.max_file_size, 2048);
	assert_int_equal(cfg.nignore, 2);
	assert_string_equal(cfg.ignore[0], "a");
	assert_string_equal(cfg.ignore[1], "b");
	assert_int_equal(cfg.conflict, ES_POLICY_FILE);
	assert_string_equal(es_config_origin(&cfg, "poll_ms"), "--poll-ms");

	assert_int_equal(es_cli_parse(&spec, 2, bad, &c, &err), 0);
	assert_int_equal(es_cli_apply(&c, &cfg, &err), -1);
	es_cli_release(&c);
	assert_string_equal(es_error_format(&err, msg, sizeof(msg)),
	    "--poll-ms: bad value '5' for 'poll_ms' (want 50..86400000 "
	    "milliseconds)");
	assert_int_equal(cfg.poll_ms, 5000);
	es_config_release(&cfg);
}

/* --help: usage, own options, common ones, every key taken, wrapped. */
static void
test_cli_help_generated(void **state)
{
	struct es_buf h = ES_BUF_INIT;
	const struct es_config_key *k;
	const char *p, *nl;

	(void)state;
	es_cli_help(&spec, &h);
	assert_true(strncmp(h.buf, "usage: t [options]\n", 19) == 0);
	assert_non_null(strstr(h.buf, "  --once "));
	assert_non_null(strstr(h.buf, "  --log-level L "));
	assert_non_null(strstr(h.buf, "  --config FILE "));
	assert_non_null(strstr(h.buf, "  --help "));
	assert_non_null(strstr(h.buf, "  --version "));
	for (size_t i = 0; (k = es_config_key_at(i)) != NULL; i++) {
		char want[64];

		snprintf(want, sizeof(want), "  %s %s ", k->flag, k->metavar);
		assert_non_null(strstr(h.buf, want));
	}
	assert_non_null(strstr(h.buf, "(default 2000)"));
	assert_non_null(strstr(h.buf, "(default 8 MiB)"));
	/* Every line fits in 80 columns. */
	for (p = h.buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		assert_true(nl - p < 80);
	es_buf_reset(&h);
	es_cli_help(&scan_spec, &h);
	assert_non_null(strstr(h.buf, "  --max-file-size SIZE "));
	assert_non_null(strstr(h.buf, "  --ignore GLOB "));
	assert_null(strstr(h.buf, "--poll-ms"));
	assert_null(strstr(h.buf, "--once"));
	es_buf_release(&h);
	assert_true(strlen(es_cli_version()) > 0);
}

static void
test_cli_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(es_edit_distance("json", 4, "json", 4, 2), 0);
	assert_int_equal(es_edit_distance("jsn", 3, "json", 4, 2), 1);
	assert_int_equal(es_edit_distance("josn", 4, "json", 4, 2), 1);
	assert_int_equal(es_edit_distance("js", 2, "json", 4, 2), 2);
	assert_int_equal(es_edit_distance("j", 1, "json", 4, 2), 3);
	assert_int_equal(es_edit_distance("frobnicate", 10, "json", 4, 2), 3);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_cli_parse_table),
	cmocka_unit_test(test_cli_restricted_keys_and_arguments),
	cmocka_unit_test(test_cli_apply_through_config),
	cmocka_unit_test(test_cli_help_generated),
	cmocka_unit_test(test_cli_edit_distance),
};

ES_TEST_MAIN(tests)
