/*
 * Configuration (SPEC §1): keys and defaults, "an unknown key or a bad value
 * is an error that names the key and the file and line", the environment
 * and flags on top, SPEC §5 (non-loopback listen needs a token) and §4.11
 * (no credentials in errors).
 */
#include "es-test.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/config.h"
#include "execsync/content.h"
#include "execsync/error.h"

static int
load(struct es_config *c, const char *yaml, struct es_error *err)
{
	return es_config_load_buffer(c, yaml, strlen(yaml), "t.yaml", err);
}

static const char *
fmt(const struct es_error *err)
{
	static char buf[PATH_MAX + 600];

	return es_error_format(err, buf, sizeof(buf));
}

/* SPEC §1: the defaults. */
static void
test_config_defaults_spec_1(void **state)
{
	struct es_config c;

	(void)state;
	es_config_init(&c);
	assert_null(c.source);
	assert_null(c.mongodb_uri);
	assert_string_equal(c.database, "execution_system");
	assert_null(c.user_id);
	assert_string_equal(c.status_listen, "127.0.0.1:8765");
	assert_null(c.status_token);
	assert_int_equal(c.debounce_ms, 100);
	assert_int_equal(c.poll_ms, 2000);
	assert_int_equal(c.full_pass_s, 600);
	assert_int_equal(c.conflict, ES_POLICY_NEWEST);
	assert_int_equal(c.max_delete, 50);
	assert_int_equal(c.max_file_size, 8 * 1024 * 1024);
	assert_false(c.log_json);
	/* The programs' fallback when no configuration is given: the same. */
	assert_int_equal(c.max_file_size, ES_CONTENT_MAX_DEFAULT);
	assert_int_equal(c.nignore, 0);
	assert_non_null(c.ignore);
	assert_null(c.ignore[0]);
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++)
		assert_string_equal(es_config_origin(&c,
		    es_config_key_at(i)->name), "default");
	es_config_release(&c);
}

static void
test_config_full_file(void **state)
{
	static const char yaml[] =
	    "# execsync configuration\n"
	    "source: ~/execution-system\n"
	    "mongodb_uri: \"mongodb+srv://me:pw@cluster0.example.net/\"\n"
	    "database: es_test\n"
	    "user_id: 'user-42'\n"
	    "status_listen: \"[::1]:9000\"\n"
	    "status_token: s3cret-token\n"
	    "debounce_ms: 0\n"
	    "poll_ms: 500\n"
	    "full_pass_s: 0\n"
	    "conflict: database\n"
	    "max_delete: 100\n"
	    "max_file_size: 512 KiB\n"
	    "ignore:\n"
	    "  - '*.tmp'\n"
	    "  - drafts/**\n"
	    "log_format: json\n";
	struct es_config c;
	struct es_error err;

	(void)state;
	es_config_init(&c);
	if (load(&c, yaml, &err) != 0)
		fail_msg("%s", fmt(&err));
	assert_string_equal(c.source, "~/execution-system");
	assert_string_equal(c.mongodb_uri,
	    "mongodb+srv://me:pw@cluster0.example.net/");
	assert_string_equal(c.database, "es_test");
	assert_string_equal(c.user_id, "user-42");
	assert_string_equal(c.status_listen, "[::1]:9000");
	assert_string_equal(c.status_token, "s3cret-token");
	assert_int_equal(c.debounce_ms, 0);
	assert_int_equal(c.poll_ms, 500);
	assert_int_equal(c.full_pass_s, 0);
	assert_int_equal(c.conflict, ES_POLICY_DATABASE);
	assert_int_equal(c.max_delete, 100);
	assert_int_equal(c.max_file_size, 512 * 1024);
	assert_true(c.log_json);
	assert_int_equal(c.nignore, 2);
	assert_string_equal(c.ignore[0], "*.tmp");
	assert_string_equal(c.ignore[1], "drafts/**");
	assert_null(c.ignore[2]);
	assert_string_equal(es_config_origin(&c, "source"), "t.yaml:2");
	assert_string_equal(es_config_origin(&c, "poll_ms"), "t.yaml:9");
	assert_string_equal(es_config_origin(&c, "ignore"), "t.yaml:14");
	/* Loading again replaces, never appends. */
	assert_int_equal(load(&c, "ignore: [a]\n", &err), 0);
	assert_int_equal(c.nignore, 1);
	assert_string_equal(c.ignore[0], "a");
	assert_null(c.ignore[1]);
	es_config_release(&c);
}

/* SPEC §1: "a bad value is an error that names the key and the file and line". */
static void
test_config_bad_values_spec_1(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want;
	} cases[] = {
		{ "poll_ms: -5\n", "t.yaml:1: bad value '-5' for 'poll_ms' "
		    "(want a whole number of milliseconds)" },
		{ "# c\ndatabase: x\npoll_ms: 10\n", "t.yaml:3: bad value '10' "
		    "for 'poll_ms' (want 50..86400000 milliseconds)" },
		{ "poll_ms: 2000ms\n", "t.yaml:1: bad value '2000ms' for "
		    "'poll_ms' (want a whole number of milliseconds)" },
		{ "poll_ms: 0x10\n", "t.yaml:1: bad value '0x10' for 'poll_ms' "
		    "(want a whole number of milliseconds)" },
		{ "poll_ms: 1e3\n", "t.yaml:1: bad value '1e3' for 'poll_ms' "
		    "(want a whole number of milliseconds)" },
		{ "poll_ms: 0100\n", "t.yaml:1: bad value '0100' for 'poll_ms' "
		    "(want a whole number of milliseconds)" },
		{ "poll_ms: 1_000\n", "t.yaml:1: bad value '1_000' for "
		    "'poll_ms' (want a whole number of milliseconds)" },
		{ "poll_ms: ' 100'\n", "t.yaml:1: bad value ' 100' for "
		    "'poll_ms' (want a whole number of milliseconds)" },
		{ "poll_ms: 99999999999999999999999\n", "t.yaml:1: bad value "
		    "'99999999999999999999999' for 'poll_ms' (want a whole "
		    "number of milliseconds)" },
		{ "poll_ms: 4294967296\n", "t.yaml:1: bad value '4294967296' "
		    "for 'poll_ms' (want 50..86400000 milliseconds)" },
		{ "debounce_ms: 600001\n", "t.yaml:1: bad value '600001' for "
		    "'debounce_ms' (want 0..600000 milliseconds)" },
		{ "full_pass_s: 1.5\n", "t.yaml:1: bad value '1.5' for "
		    "'full_pass_s' (want a whole number of seconds)" },
		{ "max_delete: 101\n", "t.yaml:1: bad value '101' for "
		    "'max_delete' (want 0..100 percent)" },
		{ "max_delete: 50%\n", "t.yaml:1: bad value '50%' for "
		    "'max_delete' (want a whole number of percent)" },
		{ "max_file_size: 10 MB\n", "t.yaml:1: bad value '10 MB' for "
		    "'max_file_size' (units are binary: write KiB, MiB or GiB)" },
		{ "max_file_size: 0\n", "t.yaml:1: bad value '0' for "
		    "'max_file_size' (want 1 byte to 1 GiB)" },
		{ "max_file_size: 2 GiB\n", "t.yaml:1: bad value '2 GiB' for "
		    "'max_file_size' (want 1 byte to 1 GiB)" },
		{ "max_file_size: 8 XiB\n", "t.yaml:1: bad value '8 XiB' for "
		    "'max_file_size' (want bytes or a size like '8 MiB' (units B, "
		    "K, KiB, M, MiB, G, GiB))" },
		{ "conflict: latest\n", "t.yaml:1: 'conflict' must be one of "
		    "newest, file, database (got 'latest')" },
		{ "conflict: Newest\n", "t.yaml:1: 'conflict' must be one of "
		    "newest, file, database (got 'Newest')" },
		{ "log_format: yaml\n", "t.yaml:1: 'log_format' must be one "
		    "of text, json (got 'yaml')" },
		{ "database: exec.system\n", "t.yaml:1: bad value 'exec.system' "
		    "for 'database' (want a database name of at most 63 bytes "
		    "without / \\ . \" $, space or control characters)" },
		{ "status_listen: 8765\n", "t.yaml:1: bad value '8765' for "
		    "'status_listen' (want host:port or [ipv6]:port)" },
		{ "status_listen: 'localhost:65536'\n", "t.yaml:1: bad value "
		    "'localhost:65536' for 'status_listen' (want host:port or "
		    "[ipv6]:port)" },
		{ "status_listen: '::1:80'\n", "t.yaml:1: bad value '::1:80' "
		    "for 'status_listen' (want host:port or [ipv6]:port)" },
		{ "source: ''\n", "t.yaml:1: empty value for 'source' (want a "
		    "folder)" },
		{ "user_id: \"a\\nb\"\n", "t.yaml:1: bad value 'a?b' for "
		    "'user_id' (want a user id of at most 256 bytes without "
		    "control characters)" },
		{ "poll_ms:\n", "t.yaml:1: no value for 'poll_ms' (remove the "
		    "line to keep the default)" },
		{ "database: ~\n", "t.yaml:1: no value for 'database' (remove "
		    "the line to keep the default)" },
		{ "ignore:\n  - a\n  - /b\n", "t.yaml:3: bad ignore pattern '/b' "
		    "(patterns are relative to the root: drop the leading '/')" },
		{ "ignore: [a, '', b]\n", "t.yaml:1: empty pattern in 'ignore'" },
		{ "database: \"a\\0b\"\n", "t.yaml:1: NUL byte in the value of "
		    "'database'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;

		es_config_init(&c);
		if (load(&c, cases[i].yaml, &err) == 0)
			fail_msg("'%s' accepted", cases[i].yaml);
		assert_int_equal(err.code, ES_ECONFIG);
		if (strcmp(fmt(&err), cases[i].want) != 0)
			fail_msg("'%s':\nwant %s\ngot  %s", cases[i].yaml,
			    cases[i].want, fmt(&err));
		es_config_release(&c);
	}
}

/* A bad token is described, never shown: it is a secret. */
static void
test_config_token_never_shown(void **state)
{
	static const char *const bad[] = {
		"status_token: 'has space'\n",
		"status_token: \"tab\\there\"\n",
		"status_token: caf\xc3\xa9\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct es_config c;
		struct es_error err;

		es_config_init(&c);
		assert_int_equal(load(&c, bad[i], &err), -1);
		assert_string_equal(fmt(&err), "t.yaml:1: bad value for "
		    "'status_token' (want printable ASCII without spaces, at "
		    "most 1024 bytes)");
		es_config_release(&c);
	}
}

/* SPEC §1 "an unknown key ... names the key"; close keys are suggested. */
static void
test_config_unknown_key_suggestion(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want;
	} cases[] = {
		{ "pol_ms: 5\n", "t.yaml:1: unknown key 'pol_ms' (did you mean "
		    "'poll_ms'?)" },
		{ "database: x\npoll-ms: 5\n", "t.yaml:2: unknown key 'poll-ms' "
		    "(did you mean 'poll_ms'?)" },
		{ "debouncems: 5\n", "t.yaml:1: unknown key 'debouncems' (did "
		    "you mean 'debounce_ms'?)" },
		{ "conflcit: file\n", "t.yaml:1: unknown key 'conflcit' (did "
		    "you mean 'conflict'?)" },
		{ "Source: /x\n", "t.yaml:1: unknown key 'Source' (did you mean "
		    "'source'?)" },
		{ "ignores: [a]\n", "t.yaml:1: unknown key 'ignores' (did you "
		    "mean 'ignore'?)" },
		{ "colour: red\n", "t.yaml:1: unknown key 'colour'" },
		{ "mongo_url: x\n", "t.yaml:1: unknown key 'mongo_url'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;

		es_config_init(&c);
		assert_int_equal(load(&c, cases[i].yaml, &err), -1);
		if (strcmp(fmt(&err), cases[i].want) != 0)
			fail_msg("want %s\ngot  %s", cases[i].want, fmt(&err));
		es_config_release(&c);
	}
}

static void
test_config_duplicate_key(void **state)
{
	struct es_config c;
	struct es_error err;

	(void)state;
	es_config_init(&c);
	assert_int_equal(load(&c, "poll_ms: 100\ndatabase: x\npoll_ms: 200\n",
	    &err), -1);
	assert_string_equal(fmt(&err), "t.yaml:3: duplicate key 'poll_ms' "
	    "(first on line 1)");
	/* Nothing of a failed file is applied. */
	assert_int_equal(c.poll_ms, 2000);
	assert_string_equal(c.database, "execution_system");
	es_config_release(&c);
}

/* YAML syntax errors: libyaml's problem and line. */
static void
test_config_yaml_syntax_errors(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want;
	} cases[] = {
		{ "database: x\n  bad indent: 1\n", "t.yaml:2: bad YAML: mapping "
		    "values are not allowed in this context" },
		{ "database: \"unterminated\n", "t.yaml:1: bad YAML: found "
		    "unexpected end of stream (while scanning a quoted scalar "
		    "that starts on line 1)" },
		{ "poll_ms: 100\n\t- tab\n", "t.yaml:2: bad YAML: found a tab "
		    "character that violates indentation (while scanning a "
		    "plain scalar that starts on line 1)" },
		{ "database: \xff\n", "t.yaml:1: bad YAML: invalid leading UTF-8 "
		    "octet (byte 0xff)" },
		{ "# a\n# b\ndatabase: x\xc3\n", "t.yaml:3: bad YAML: invalid "
		    "trailing UTF-8 octet (byte 0x0a)" },
		/* libyaml's end-of-stream break: still the last line. */
		{ "database: x\nignore: [a", "t.yaml:2: bad YAML: did not find "
		    "expected ',' or ']' (while parsing a flow sequence that "
		    "starts on line 2)" },
		{ "{", "t.yaml:1: bad YAML: did not find expected node content "
		    "(while parsing a flow node that starts on line 1)" },
		/* CRLF and lone CR count as one line break each. */
		{ "poll_ms: 100\r\ndatabase: x\r\n  bad: 1\r\n", "t.yaml:3: "
		    "bad YAML: mapping values are not allowed in this context" },
		{ "poll_ms: 100\rdatabase: x\rpol_ms: 1\r", "t.yaml:3: unknown "
		    "key 'pol_ms' (did you mean 'poll_ms'?)" },
		{ "\xff\xfe" "d\0", "t.yaml:1: the file is UTF-16: save it as "
		    "UTF-8" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;
		size_t len = strlen(cases[i].yaml);

		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			len = 4;
		es_config_init(&c);
		assert_int_equal(es_config_load_buffer(&c, cases[i].yaml, len,
		    "t.yaml", &err), -1);
		if (strcmp(fmt(&err), cases[i].want) != 0)
			fail_msg("case %zu\nwant %s\ngot  %s", i, cases[i].want,
			    fmt(&err));
		es_config_release(&c);
	}
}

/* Strings must be scalars; ignore must be a list of strings. */
static void
test_config_wrong_types(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want;
	} cases[] = {
		{ "database: [a, b]\n", "t.yaml:1: 'database' must be a single "
		    "value (got a list)" },
		{ "user_id:\n  - a\n", "t.yaml:2: 'user_id' must be a single "
		    "value (got a list)" },
		{ "database: {a: b}\n", "t.yaml:1: 'database' must be a single "
		    "value (got a mapping)" },
		{ "ignore: '*.tmp'\n", "t.yaml:1: 'ignore' must be a list of "
		    "patterns (got a single string; write ignore: ['*.tmp'])" },
		{ "ignore: {a: b}\n", "t.yaml:1: 'ignore' must be a list of "
		    "patterns (got a mapping)" },
		{ "ignore: [[a]]\n", "t.yaml:1: 'ignore' must be a list of "
		    "strings (got a list in it)" },
		{ "ignore:\n  - a\n  - {b: c}\n", "t.yaml:3: 'ignore' must be a "
		    "list of strings (got a mapping in it)" },
		{ "- a\n- b\n", "t.yaml:1: the configuration must be a mapping "
		    "of keys to values (got a list)" },
		{ "hello\n", "t.yaml:1: the configuration must be a mapping of "
		    "keys to values (got a string)" },
		{ "[a]: b\n", "t.yaml:1: keys must be plain names (got a list)" },
		{ "database: &a x\nuser_id: *a\n", "t.yaml:2: YAML aliases are "
		    "not supported (value of 'user_id')" },
		{ "poll_ms: 100\n---\npoll_ms: 200\n", "t.yaml:2: only one YAML "
		    "document is allowed (a second starts here)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;

		es_config_init(&c);
		assert_int_equal(load(&c, cases[i].yaml, &err), -1);
		if (strcmp(fmt(&err), cases[i].want) != 0)
			fail_msg("want %s\ngot  %s", cases[i].want, fmt(&err));
		es_config_release(&c);
	}
}

/* max_file_size: bytes, or binary units (config.h). */
static void
test_config_sizes_with_units(void **state)
{
	static const struct {
		const char	*in;
		bool		 ok;
		uint64_t	 want;
	} cases[] = {
		{ "8388608", true, 8388608 },
		{ "8 MiB", true, 8 << 20 },
		{ "8MiB", true, 8 << 20 },
		{ "8M", true, 8 << 20 },
		{ "8m", true, 8 << 20 },
		{ "8 mib", true, 8 << 20 },
		{ "512 KiB", true, 512 << 10 },
		{ "512K", true, 512 << 10 },
		{ "1 GiB", true, 1 << 30 },
		{ "1G", true, 1 << 30 },
		{ "100 B", true, 100 },
		{ "100b", true, 100 },
		{ "1", true, 1 },
		{ "1024 MiB", true, 1 << 30 },
		{ "1025 MiB", false, 0 },
		{ "8 MB", false, 0 },
		{ "8MB", false, 0 },
		{ "8 kB", false, 0 },
		{ "1.5 MiB", false, 0 },
		{ "-1", false, 0 },
		{ "8  MiB", false, 0 },
		{ " 8", false, 0 },
		{ "8 ", false, 0 },
		{ "MiB", false, 0 },
		{ "8 MiBs", false, 0 },
		{ "0", false, 0 },
		{ "0 KiB", false, 0 },
		{ "99999999999 GiB", false, 0 },
		{ "18446744073709551615 GiB", false, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;
		int rc;

		es_config_init(&c);
		rc = es_config_set(&c, "max_file_size", cases[i].in,
		    "--max-file-size", &err);
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': want ok=%d (%s)", cases[i].in,
			    cases[i].ok, rc ? fmt(&err) : "");
		if (rc == 0)
			assert_int_equal(c.max_file_size, cases[i].want);
		else {
			assert_int_equal(c.max_file_size, 8 << 20);
			assert_true(strncmp(fmt(&err), "--max-file-size: bad "
			    "value '", 23) == 0);
		}
		es_config_release(&c);
	}
}

static void
test_config_empty_file_is_defaults(void **state)
{
	static const char *const empty[] = {
		"", "\n\n", "# only a comment\n", "---\n", "--- ~\n", "---\n...\n",
		"\xef\xbb\xbf# BOM and a comment\n",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		struct es_config c;
		struct es_error err;

		es_config_init(&c);
		if (load(&c, empty[i], &err) != 0)
			fail_msg("'%s': %s", empty[i], fmt(&err));
		assert_int_equal(c.poll_ms, 2000);
		assert_string_equal(c.database, "execution_system");
		assert_string_equal(es_config_origin(&c, "database"),
		    "default");
		es_config_release(&c);
	}
}

/* SPEC §1: an empty status_listen turns TCP off (the socket stays). */
static void
test_config_status_listen_empty_is_off_spec_1(void **state)
{
	struct es_config c;
	struct es_error err;

	(void)state;
	es_config_init(&c);
	if (load(&c, "status_listen: \"\"\n", &err) != 0)
		fail_msg("%s", fmt(&err));
	assert_string_equal(c.status_listen, "");
	if (es_config_finish(&c, 0, &err) != 0)
		fail_msg("%s", fmt(&err));
	es_config_release(&c);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The default file may be missing; a file named with --config may not. */
static void
test_config_missing_files(void **state)
{
	char dir[] = "/tmp/es-config-XXXXXX", path[PATH_MAX], want[PATH_MAX + 64];
	struct es_config c;
	struct es_error err;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.yaml", dir);
	es_config_init(&c);
	assert_int_equal(es_config_load_file(&c, path, false, &err), 0);
	assert_int_equal(c.poll_ms, 2000);
	assert_int_equal(es_config_load_file(&c, path, true, &err), -1);
	assert_int_equal(err.sys, ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open the config file: %s",
	    path, strerror(ENOENT));
	assert_string_equal(fmt(&err), want);

	/* A real file: loaded, and errors name its path and line. */
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	write_file(path, "poll_ms: 750\nconflict: file\n");
	assert_int_equal(es_config_load_file(&c, path, true, &err), 0);
	assert_int_equal(c.poll_ms, 750);
	assert_int_equal(c.conflict, ES_POLICY_FILE);
	snprintf(want, sizeof(want), "%s:2", path);
	assert_string_equal(es_config_origin(&c, "conflict"), want);
	write_file(path, "poll_ms: 750\npol_ms: 1\n");
	assert_int_equal(es_config_load_file(&c, path, false, &err), -1);
	snprintf(want, sizeof(want), "%s:2: unknown key 'pol_ms' (did you "
	    "mean 'poll_ms'?)", path);
	assert_string_equal(fmt(&err), want);
	assert_int_equal(unlink(path), 0);

	/* A folder is not a config file, even when it is the default path. */
	assert_int_equal(es_config_load_file(&c, dir, false, &err), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	assert_string_equal(fmt(&err), want);
	assert_int_equal(rmdir(dir), 0);
	es_config_release(&c);
}

/* SPEC §1: the URI also from EXECSYNC_MONGODB_URI; flags override both. */
static void
test_config_env_override(void **state)
{
	struct es_config c;
	struct es_error err;

	(void)state;
	es_config_init(&c);
	assert_int_equal(load(&c, "mongodb_uri: mongodb://file/\n", &err), 0);
	unsetenv("EXECSYNC_MONGODB_URI");
	assert_int_equal(es_config_apply_env(&c, &err), 0);
	assert_string_equal(c.mongodb_uri, "mongodb://file/");
	setenv("EXECSYNC_MONGODB_URI", "", 1);
	assert_int_equal(es_config_apply_env(&c, &err), 0);
	assert_string_equal(c.mongodb_uri, "mongodb://file/");
	setenv("EXECSYNC_MONGODB_URI", "mongodb://env/", 1);
	assert_int_equal(es_config_apply_env(&c, &err), 0);
	assert_string_equal(c.mongodb_uri, "mongodb://env/");
	assert_string_equal(es_config_origin(&c, "mongodb_uri"),
	    "EXECSYNC_MONGODB_URI");
	assert_int_equal(es_config_set(&c, "mongodb_uri", "mongodb://flag/",
	    "--mongodb-uri", &err), 0);
	assert_string_equal(c.mongodb_uri, "mongodb://flag/");
	assert_string_equal(es_config_origin(&c, "mongodb_uri"),
	    "--mongodb-uri");
	/* A bad value from the environment: named, redacted, not applied. */
	setenv("EXECSYNC_MONGODB_URI", "http://u:hunter2@h/", 1);
	assert_int_equal(es_config_apply_env(&c, &err), -1);
	assert_string_equal(fmt(&err), "EXECSYNC_MONGODB_URI: bad value "
	    "'http://u:***@h/' for 'mongodb_uri' (want a mongodb:// or "
	    "mongodb+srv:// URI)");
	assert_string_equal(c.mongodb_uri, "mongodb://flag/");
	unsetenv("EXECSYNC_MONGODB_URI");
	es_config_release(&c);
}

/* SPEC §1: every key overridable by a flag. */
static void
test_config_flags_set(void **state)
{
	struct es_config c;
	struct es_error err;

	(void)state;
	es_config_init(&c);
	assert_int_equal(es_config_set(&c, "poll_ms", "500", "--poll-ms",
	    &err), 0);
	assert_int_equal(c.poll_ms, 500);
	assert_string_equal(es_config_origin(&c, "poll_ms"), "--poll-ms");
	assert_string_equal(es_config_origin(&c, "--poll-ms"), "--poll-ms");
	assert_int_equal(es_config_set(&c, "--debounce-ms", "250",
	    "--debounce-ms", &err), 0);
	assert_int_equal(c.debounce_ms, 250);
	assert_int_equal(es_config_set(&c, "max-delete", "100", "--max-delete",
	    &err), 0);
	assert_int_equal(c.max_delete, 100);
	assert_int_equal(es_config_set(&c, "conflict", "file", "--conflict",
	    &err), 0);
	assert_int_equal(c.conflict, ES_POLICY_FILE);
	assert_int_equal(es_config_set(&c, "source", "/srv/es", "--source",
	    &err), 0);
	assert_string_equal(c.source, "/srv/es");

	assert_int_equal(es_config_set(&c, "--pol-ms", "5", "--pol-ms", &err),
	    -1);
	assert_string_equal(fmt(&err), "--pol-ms: unknown key 'pol_ms' (did "
	    "you mean 'poll_ms'?)");
	assert_int_equal(es_config_set(&c, "poll_ms", "-5", "--poll-ms", &err),
	    -1);
	assert_string_equal(fmt(&err), "--poll-ms: bad value '-5' for "
	    "'poll_ms' (want a whole number of milliseconds)");
	assert_int_equal(c.poll_ms, 500);
	assert_int_equal(es_config_set(&c, "database", "", "--database", &err),
	    -1);
	assert_string_equal(fmt(&err), "--database: empty value for "
	    "'database' (want a database name of at most 63 bytes without / "
	    "\\ . \" $, space or control characters)");

	/* --ignore: replaces the file's list, then repeats add. */
	assert_int_equal(load(&c, "ignore: [a, b]\n", &err), 0);
	assert_int_equal(c.nignore, 2);
	assert_int_equal(es_config_set(&c, "ignore", "c", "--ignore", &err), 0);
	assert_int_equal(es_config_set(&c, "ignore", "d/**", "--ignore", &err),
	    0);
	assert_int_equal(c.nignore, 2);
	assert_string_equal(c.ignore[0], "c");
	assert_string_equal(c.ignore[1], "d/**");
	assert_null(c.ignore[2]);
	assert_int_equal(es_config_set(&c, "ignore", "/abs", "--ignore", &err),
	    -1);
	assert_int_equal(c.nignore, 2);
	assert_int_equal(es_config_set(&c, "ignore", "", "--ignore", &err), 0);
	assert_int_equal(c.nignore, 0);
	assert_null(c.ignore[0]);
	es_config_release(&c);
}

/* SPEC §5: "Listening on a non-loopback address requires status_token". */
static void
test_config_listen_requires_token_spec_5(void **state)
{
	static const struct {
		const char	*listen;
		bool		 ok_without_token;
	} cases[] = {
		{ "127.0.0.1:8765", true },
		{ "127.1.2.3:1", true },
		{ "localhost:8765", true },
		{ "LOCALHOST:0", true },
		{ "[::1]:8765", true },
		{ "[::ffff:127.0.0.1]:8765", true },
		{ "0.0.0.0:8765", false },
		{ "192.168.1.20:8765", false },
		{ "[::]:8765", false },
		{ "example.com:80", false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;
		char yaml[128], want[256];
		int rc;

		es_config_init(&c);
		snprintf(yaml, sizeof(yaml), "# c\nstatus_listen: '%s'\n",
		    cases[i].listen);
		if (load(&c, yaml, &err) != 0)
			fail_msg("%s", fmt(&err));
		rc = es_config_finish(&c, 0, &err);
		if ((rc == 0) != cases[i].ok_without_token)
			fail_msg("'%s': want ok=%d", cases[i].listen,
			    cases[i].ok_without_token);
		if (rc != 0) {
			snprintf(want, sizeof(want), "t.yaml:2: status_listen "
			    "'%s' is not a loopback address: set 'status_token' "
			    "too", cases[i].listen);
			assert_string_equal(fmt(&err), want);
			assert_int_equal(es_config_set(&c, "status_token",
			    "tok", "--status-token", &err), 0);
			assert_int_equal(es_config_finish(&c, 0, &err), 0);
		}
		es_config_release(&c);
	}
}

static void
test_config_split_listen_table(void **state)
{
	static const struct {
		const char	*in;
		bool		 ok;
		const char	*host;
		unsigned	 port;
	} cases[] = {
		{ "127.0.0.1:8765", true, "127.0.0.1", 8765 },
		{ "[::1]:80", true, "::1", 80 },
		{ "localhost:0", true, "localhost", 0 },
		{ "my-host.example:65535", true, "my-host.example", 65535 },
		{ "h", false, NULL, 0 },
		{ ":80", false, NULL, 0 },
		{ "h:", false, NULL, 0 },
		{ "h:65536", false, NULL, 0 },
		{ "h:080", false, NULL, 0 },
		{ "h:+80", false, NULL, 0 },
		{ "[::1]", false, NULL, 0 },
		{ "[]:80", false, NULL, 0 },
		{ "::1:80", false, NULL, 0 },
		{ "h h:80", false, NULL, 0 },
		{ "[::1]x:80", false, NULL, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char host[64];
		unsigned port = 12345;
		bool ok = es_config_split_listen(cases[i].in, host,
		    sizeof(host), &port);

		if (ok != cases[i].ok)
			fail_msg("'%s': want ok=%d", cases[i].in, cases[i].ok);
		if (ok) {
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		}
	}
	/* The host must fit. */
	{
		char small[4];
		unsigned port;

		assert_false(es_config_split_listen("localhost:1", small,
		    sizeof(small), &port));
	}
}

static void
test_config_finish_required_and_source(void **state)
{
	struct es_config c;
	struct es_error err;
	char cwd[PATH_MAX], want[PATH_MAX + 32];
	const char *home = getenv("HOME");
	char *saved = home != NULL ? strdup(home) : NULL;

	(void)state;
	es_config_init(&c);
	assert_int_equal(es_config_finish(&c, 0, &err), 0);
	assert_int_equal(es_config_finish(&c, ES_CONFIG_NEED_SOURCE, &err), -1);
	assert_string_equal(fmt(&err), "no source folder: set 'source' in the "
	    "config file or pass --source");
	assert_int_equal(es_config_set(&c, "source", "rel/dir//", "--source",
	    &err), 0);
	assert_int_equal(es_config_finish(&c, ES_CONFIG_NEED_SOURCE |
	    ES_CONFIG_NEED_URI, &err), -1);
	assert_string_equal(fmt(&err), "no MongoDB URI: set 'mongodb_uri' in "
	    "the config file or EXECSYNC_MONGODB_URI, or pass --mongodb-uri");
	assert_int_equal(es_config_set(&c, "mongodb_uri", "mongodb://h/",
	    "--mongodb-uri", &err), 0);
	assert_int_equal(es_config_finish(&c, ES_CONFIG_NEED_SOURCE |
	    ES_CONFIG_NEED_URI | ES_CONFIG_NEED_USER, &err), -1);
	assert_string_equal(fmt(&err), "no user id: set 'user_id' in the config "
	    "file or pass --user-id");
	assert_int_equal(es_config_set(&c, "user_id", "u1", "--user-id", &err),
	    0);
	assert_int_equal(es_config_finish(&c, ES_CONFIG_NEED_SOURCE |
	    ES_CONFIG_NEED_URI | ES_CONFIG_NEED_USER, &err), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/rel/dir", cwd);
	assert_string_equal(c.source, want);
	/* Finishing twice changes nothing. */
	assert_int_equal(es_config_finish(&c, ES_CONFIG_NEED_SOURCE, &err), 0);
	assert_string_equal(c.source, want);

	setenv("HOME", "/home/t", 1);
	assert_int_equal(es_config_set(&c, "source", "~/notes/", "--source",
	    &err), 0);
	assert_int_equal(es_config_finish(&c, 0, &err), 0);
	assert_string_equal(c.source, "/home/t/notes");
	assert_int_equal(es_config_set(&c, "source", "~", "--source", &err), 0);
	assert_int_equal(es_config_finish(&c, 0, &err), 0);
	assert_string_equal(c.source, "/home/t");
	assert_int_equal(es_config_set(&c, "source", "///", "--source", &err),
	    0);
	assert_int_equal(es_config_finish(&c, 0, &err), 0);
	assert_string_equal(c.source, "/");
	if (saved != NULL)
		setenv("HOME", saved, 1);
	free(saved);
	es_config_release(&c);
}

/* SPEC §4.11: a bad mongodb_uri is shown redacted, never with its password. */
static void
test_config_uri_password_never_in_message_spec_4_11(void **state)
{
	static const struct {
		const char	*yaml;
		const char	*want;
	} cases[] = {
		{ "mongodb_uri: http://u:hunter2@h/\n", "t.yaml:1: bad value "
		    "'http://u:***@h/' for 'mongodb_uri' (want a mongodb:// or "
		    "mongodb+srv:// URI)" },
		{ "mongodb_uri: 'mongodb://u:hunter2@h/ x'\n", "t.yaml:1: bad "
		    "value 'mongodb://u:***@h/ x' for 'mongodb_uri' (want a "
		    "mongodb:// or mongodb+srv:// URI)" },
		{ "mongodb_uri: \"mongodb://u:hunter2@h/\\n\"\n", "t.yaml:1: bad "
		    "value 'mongodb://u:***@h/?' for 'mongodb_uri' (want a "
		    "mongodb:// or mongodb+srv:// URI)" },
		{ "mongodb_uri: mongodb+srv://\n", "t.yaml:1: bad value "
		    "'mongodb+srv://' for 'mongodb_uri' (want a mongodb:// or "
		    "mongodb+srv:// URI)" },
		{ "mongodb_uri: u:hunter2@h\n", "t.yaml:1: bad value 'u:***@h' "
		    "for 'mongodb_uri' (want a mongodb:// or mongodb+srv:// "
		    "URI)" },
		{ "mongodb_uri: [mongodb://u:hunter2@h/]\n", "t.yaml:1: "
		    "'mongodb_uri' must be a single value (got a list)" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_config c;
		struct es_error err;

		es_config_init(&c);
		assert_int_equal(load(&c, cases[i].yaml, &err), -1);
		assert_null(strstr(fmt(&err), "hunter2"));
		if (strcmp(fmt(&err), cases[i].want) != 0)
			fail_msg("want %s\ngot  %s", cases[i].want, fmt(&err));
		es_config_release(&c);
	}
}

/* One table: file keys, flags, help. */
static void
test_config_key_table_and_help(void **state)
{
	struct es_buf help = ES_BUF_INIT;
	size_t n;

	(void)state;
	for (n = 0; es_config_key_at(n) != NULL; n++) {
		const struct es_config_key *k = es_config_key_at(n);
		char flag[64];
		size_t j;

		snprintf(flag, sizeof(flag), "--%s", k->name);
		for (j = 2; flag[j] != '\0'; j++)
			if (flag[j] == '_')
				flag[j] = '-';
		assert_string_equal(k->flag, flag);
		assert_ptr_equal(es_config_key_find(k->name), k);
		assert_ptr_equal(es_config_key_find(k->flag), k);
		assert_ptr_equal(es_config_key_find(k->flag + 2), k);
		assert_non_null(k->metavar);
		assert_non_null(k->help);
	}
	assert_int_equal(n, ES_CONFIG_NKEYS);
	assert_null(es_config_key_find("pol_ms"));
	assert_null(es_config_key_find(""));

	es_config_help(&help);
	assert_non_null(strstr(help.buf, "  --poll-ms MS"));
	assert_non_null(strstr(help.buf, "(default 2000)\n"));
	assert_non_null(strstr(help.buf, "(default 8 MiB)\n"));
	assert_non_null(strstr(help.buf, "(default 127.0.0.1:8765)\n"));
	for (n = 0; n < ES_CONFIG_NKEYS; n++)
		assert_non_null(strstr(help.buf, es_config_key_at(n)->flag));
	es_buf_release(&help);
	assert_string_equal(es_config_conflict_name(ES_POLICY_DATABASE),
	    "database");
}

static void
test_config_default_path(void **state)
{
	struct es_buf b = ES_BUF_INIT;
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char *sh = home ? strdup(home) : NULL, *sx = xdg ? strdup(xdg) : NULL;

	(void)state;
	setenv("HOME", "/home/t", 1);
	setenv("XDG_CONFIG_HOME", "/x/conf", 1);
	assert_string_equal(es_config_default_path(&b),
	    "/x/conf/execsync/config.yaml");
	setenv("XDG_CONFIG_HOME", "relative", 1);
	assert_string_equal(es_config_default_path(&b),
	    "/home/t/.config/execsync/config.yaml");
	unsetenv("XDG_CONFIG_HOME");
	assert_string_equal(es_config_default_path(&b),
	    "/home/t/.config/execsync/config.yaml");
	unsetenv("HOME");
	assert_null(es_config_default_path(&b));
	assert_int_equal(b.len, 0);
	if (sh != NULL)
		setenv("HOME", sh, 1);
	if (sx != NULL)
		setenv("XDG_CONFIG_HOME", sx, 1);
	free(sh);
	free(sx);
	es_buf_release(&b);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_config_defaults_spec_1),
	cmocka_unit_test(test_config_full_file),
	cmocka_unit_test(test_config_bad_values_spec_1),
	cmocka_unit_test(test_config_token_never_shown),
	cmocka_unit_test(test_config_unknown_key_suggestion),
	cmocka_unit_test(test_config_duplicate_key),
	cmocka_unit_test(test_config_yaml_syntax_errors),
	cmocka_unit_test(test_config_wrong_types),
	cmocka_unit_test(test_config_sizes_with_units),
	cmocka_unit_test(test_config_empty_file_is_defaults),
	cmocka_unit_test(test_config_status_listen_empty_is_off_spec_1),
	cmocka_unit_test(test_config_missing_files),
	cmocka_unit_test(test_config_env_override),
	cmocka_unit_test(test_config_flags_set),
	cmocka_unit_test(test_config_listen_requires_token_spec_5),
	cmocka_unit_test(test_config_split_listen_table),
	cmocka_unit_test(test_config_finish_required_and_source),
	cmocka_unit_test(test_config_uri_password_never_in_message_spec_4_11),
	cmocka_unit_test(test_config_key_table_and_help),
	cmocka_unit_test(test_config_default_path),
};

ES_TEST_MAIN(tests)
