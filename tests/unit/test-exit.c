/*
 * The exit statuses of SPEC §1 and the problem codes (issue 18): the pure
 * mappings, table-tested. es__store_errcode() is the one place a libmongoc
 * error becomes an errcode; a refused login is a configuration error.
 */
#include "es-test.h"

#include <ctype.h>
#include <string.h>

#include "execsync/engine.h"
#include "execsync/error.h"
#include "execsync/uri.h"

#include "../../lib/io/store-internal.h"

static void
test_exit_status_of_errcode(void **state)
{
	static const struct {
		enum es_errcode	 code;
		int		 want;
	} cases[] = {
		{ ES_OK, 0 },
		{ ES_EPARSE, 2 },
		{ ES_EIO, 2 },		/* a missing or unreadable folder */
		{ ES_EDB, 75 },		/* unreachable */
		{ ES_ELIMIT, 2 },
		{ ES_EUNSAFE, 2 },
		{ ES_ECONFIG, 2 },	/* a refused password too */
		{ ES_EUSAGE, 2 },
		{ ES_ECONFLICT, 75 },
		{ ES_EBUSY, 75 },	/* the root held */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (es_exit_status(cases[i].code) != cases[i].want)
			fail_msg("%s: %d, want %d",
			    es_errcode_name(cases[i].code),
			    es_exit_status(cases[i].code), cases[i].want);
	}
	assert_int_equal(ES_EXIT_OK, 0);
	assert_int_equal(ES_EXIT_ITEMS, 1);
	assert_int_equal(ES_EXIT_CONFIG, 2);
	assert_int_equal(ES_EXIT_GUARD, 3);
	assert_int_equal(ES_EXIT_TEMP, 75);
}

/* A pass that returned 0: the guard 3, a git hold 75, items 1. */
static void
test_exit_status_of_pass(void **state)
{
	static const struct {
		bool	 guard, held;
		size_t	 failed, conflicts, races, errors;
		int	 want;
	} cases[] = {
		{ false, false, 0, 0, 0, 0, 0 },
		{ false, false, 1, 0, 0, 0, 1 },
		{ false, false, 0, 1, 0, 0, 1 },
		{ false, false, 0, 0, 1, 0, 1 },
		{ false, false, 0, 0, 0, 1, 1 },
		{ true, false, 0, 0, 0, 0, 3 },
		{ true, false, 2, 1, 0, 3, 3 },
		{ false, true, 0, 0, 0, 0, 75 },
		{ false, true, 1, 0, 0, 1, 75 },
	};
	struct es_engine_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		es_engine_result_init(&r);
		r.guard_stopped = cases[i].guard;
		r.held = cases[i].held;
		r.failed = cases[i].failed;
		r.conflicts = cases[i].conflicts;
		r.lost_races = cases[i].races;
		r.nerrors = cases[i].errors;
		if (es_engine_status(&r) != cases[i].want)
			fail_msg("case %zu: %d, want %d", i,
			    es_engine_status(&r), cases[i].want);
		r.nerrors = 0;
		es_engine_result_release(&r);
	}
}

/* The one mapping of libmongoc errors: a refused login is config (2). */
static void
test_exit_store_errcode(void **state)
{
	static const struct {
		uint32_t	 domain, code;
		const char	*msg;
		enum es_errcode	 want;
	} cases[] = {
		{ MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE,
		  "Unsupported authentication mechanism", ES_ECONFIG },
		{ MONGOC_ERROR_SERVER, 18, "Authentication failed.",
		  ES_ECONFIG },
		{ MONGOC_ERROR_SERVER_SELECTION,
		  MONGOC_ERROR_SERVER_SELECTION_FAILURE,
		  "No suitable servers found", ES_EDB },
		{ MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_CONNECT,
		  "connection refused", ES_EDB },
		{ MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NAME_RESOLUTION,
		  "Failed to resolve", ES_EDB },
		{ MONGOC_ERROR_SERVER, 11000, "E11000 duplicate key",
		  ES_ECONFLICT },
		{ MONGOC_ERROR_SERVER, 1, "UNIQUE constraint failed",
		  ES_ECONFLICT },
		{ MONGOC_ERROR_SERVER, 2, "BadValue", ES_EDB },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bson_error_t be;

		memset(&be, 0, sizeof(be));
		be.domain = cases[i].domain;
		be.code = cases[i].code;
		snprintf(be.message, sizeof(be.message), "%s", cases[i].msg);
		if (es__store_errcode(&be) != cases[i].want)
			fail_msg("case %zu (%s): %s, want %s", i, cases[i].msg,
			    es_errcode_name(es__store_errcode(&be)),
			    es_errcode_name(cases[i].want));
		/* And so the exit status: 2 for a refused password. */
		if (cases[i].want == ES_ECONFIG)
			assert_int_equal(es_exit_status(es__store_errcode(&be)),
			    2);
	}
}

/* Every code a distinct kebab-case word with a meaning. */
static void
test_problem_codes_table(void **state)
{
	(void)state;
	for (int i = ES_PROB_NONE + 1; i < ES_PROB_COUNT; i++) {
		const char *n = es_problem_name((enum es_problem)i);

		assert_non_null(n);
		assert_true(n[0] >= 'a' && n[0] <= 'z');
		for (const char *p = n; *p; p++)
			if (!(islower((unsigned char)*p) || *p == '-' ||
			    isdigit((unsigned char)*p)) || (*p == '-' &&
			    (p[1] == '-' || p[1] == '\0')))
				fail_msg("'%s' is not kebab-case", n);
		assert_true(strlen(es_problem_meaning((enum es_problem)i)) >
		    10);
		for (int j = ES_PROB_NONE + 1; j < i; j++)
			if (strcmp(n, es_problem_name((enum es_problem)j)) == 0)
				fail_msg("'%s' twice", n);
	}
	/* The words the issue names, stable. */
	assert_string_equal(es_problem_name(ES_PROB_BAD_YAML), "bad-yaml");
	assert_string_equal(es_problem_name(ES_PROB_BAD_DATE), "bad-date");
	assert_string_equal(es_problem_name(ES_PROB_UNKNOWN_VALUE),
	    "unknown-value");
	assert_string_equal(es_problem_name(ES_PROB_BAD_UTF8), "bad-utf8");
	assert_string_equal(es_problem_name(ES_PROB_NUL_BYTE), "nul-byte");
	assert_string_equal(es_problem_name(ES_PROB_TOO_LARGE), "too-large");
	assert_string_equal(es_problem_name(ES_PROB_CONFLICT_MARKERS),
	    "conflict-markers");
	assert_string_equal(es_problem_name(ES_PROB_BAD_DOCUMENT),
	    "bad-document");
	assert_string_equal(es_problem_name(ES_PROB_UNSAFE_PATH),
	    "unsafe-path");
	assert_string_equal(es_problem_name(ES_PROB_COUNT), "other");
	assert_string_equal(es_problem_name((enum es_problem)-1), "other");
}

/* A problem set keeps its code; one without falls back on the errcode. */
static void
test_problem_of_error(void **state)
{
	static const struct {
		enum es_errcode	 code;
		const char	*want;
	} fallback[] = {
		{ ES_ELIMIT, "too-large" },
		{ ES_EUNSAFE, "unsafe-path" },
		{ ES_EIO, "io" },
		{ ES_EDB, "database" },
		{ ES_ECONFLICT, "conflict" },
		{ ES_EPARSE, "other" },
	};
	struct es_error e;

	(void)state;
	assert_int_equal(es_problem_set(&e, ES_PROB_BAD_DATE, "a.md", 3,
	    "bad date '%s'", "2025-13-01"), -1);
	assert_int_equal(e.code, ES_EPARSE);
	assert_string_equal(es_problem_name(es_problem_of(&e)), "bad-date");
	assert_int_equal(e.line, 3);
	assert_string_equal(e.msg, "bad date '2025-13-01'");
	es_problem_set(&e, ES_PROB_TOO_LARGE, "b.md", 0, "big");
	assert_int_equal(e.code, ES_ELIMIT);
	es_problem_set(&e, ES_PROB_SYMLINK, "c", 0, "link");
	assert_int_equal(e.code, ES_EUNSAFE);
	/* es_error_set() clears an earlier problem. */
	es_error_set(&e, ES_EPARSE, "d.md", 1, "x");
	assert_int_equal(e.problem, ES_PROB_NONE);
	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		es_error_set(&e, fallback[i].code, "x", 0, "y");
		assert_string_equal(es_problem_name(es_problem_of(&e)),
		    fallback[i].want);
	}
}

/* The URI checks behind the config warning and the '@' hint. */
static void
test_uri_password_checks(void **state)
{
	static const struct {
		const char	*uri;
		bool		 pw, at;
	} cases[] = {
		{ "mongodb://u:pw@h/", true, false },
		{ "mongodb://u:p@ss@h/", true, true },
		{ "mongodb://u:p%40ss@h/", true, false },
		{ "mongodb://u@h/", false, false },
		{ "mongodb://h/?authMechanism=MONGODB-X509", false, false },
		{ "mongodb+srv://alice:hunter2@c0.ab.mongodb.net/db?w=1",
		  true, false },
		{ "mongodb://h/?x=a@b", false, false },
		{ "not a uri", false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (es_uri_has_password(cases[i].uri) != cases[i].pw)
			fail_msg("has_password %s", cases[i].uri);
		if (es_uri_userinfo_has_at(cases[i].uri) != cases[i].at)
			fail_msg("userinfo_has_at %s", cases[i].uri);
	}
	assert_false(es_uri_has_password(NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_exit_status_of_errcode),
	cmocka_unit_test(test_exit_status_of_pass),
	cmocka_unit_test(test_exit_store_errcode),
	cmocka_unit_test(test_problem_codes_table),
	cmocka_unit_test(test_problem_of_error),
	cmocka_unit_test(test_uri_password_checks),
};

ES_TEST_MAIN(tests)
