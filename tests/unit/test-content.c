/*
 * Per-file content checks (SPEC 4.10: "invalid UTF-8, NUL bytes, a file over
 * the size limit, unresolved git conflict markers: that one item is skipped
 * with path:line: reason").
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "es-test.h"

#include "execsync/content.h"
#include "execsync/error.h"

#define REL	"10k-projects/active/learning/learn-rust.md"

struct content_case {
	const char	*name;
	const char	*data;
	size_t		 len;		/* 0: strlen(data) */
	int		 code;		/* ES_OK: accepted */
	unsigned	 line;
	const char	*msg;
};

static void
run_cases(const struct content_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct content_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->data);
		struct es_error err;
		int rc;

		es_error_clear(&err);
		rc = es_content_check(c->data, len, ES_CONTENT_MAX_DEFAULT,
		    REL, &err);
		if (c->code == ES_OK) {
			if (rc != 0)
				fail_msg("%s: rejected: %u: %s", c->name,
				    err.line, err.msg);
			continue;
		}
		if (rc != -1)
			fail_msg("%s: accepted", c->name);
		if ((int)err.code != c->code || err.line != c->line ||
		    strcmp(err.msg, c->msg) != 0)
			fail_msg("%s: got code %d line %u '%s', want %d %u '%s'",
			    c->name, err.code, err.line, err.msg, c->code,
			    c->line, c->msg);
		assert_string_equal(err.path, REL);
	}
}

static void
test_spec4_10_utf8_table(void **state)
{
	static const struct content_case cases[] = {
		{ "ascii", "# Learn Rust\nplain text\n", 0, ES_OK, 0, NULL },
		{ "empty", "", 0, ES_OK, 0, NULL },
		{ "2-byte", "café\n", 0, ES_OK, 0, NULL },
		{ "3-byte", "日本語\n", 0, ES_OK, 0, NULL },
		{ "4-byte", "rocket 🚀\n", 0, ES_OK, 0, NULL },
		{ "U+FFFF", "\xef\xbf\xbf", 0, ES_OK, 0, NULL },
		{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 0, ES_OK, 0, NULL },
		{ "U+D7FF", "\xed\x9f\xbf", 0, ES_OK, 0, NULL },
		{ "U+E000", "\xee\x80\x80", 0, ES_OK, 0, NULL },
		{ "BOM", "\xef\xbb\xbf---\n", 0, ES_OK, 0, NULL },
		{ "lone continuation", "a\n\x80\n", 0, ES_EPARSE, 2,
		    "invalid UTF-8" },
		{ "overlong slash C0", "\xc0\xaf", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "overlong C1", "\xc1\xbf", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "overlong 3-byte", "\xe0\x80\xaf", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "overlong 4-byte", "\xf0\x80\x80\xaf", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "surrogate D800", "x\n\ny \xed\xa0\x80", 0, ES_EPARSE, 3,
		    "invalid UTF-8" },
		{ "surrogate DFFF", "\xed\xbf\xbf", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "above 10FFFF", "\xf4\x90\x80\x80", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "F5", "\xf5\x80\x80\x80", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "FF", "ok\n\xff", 0, ES_EPARSE, 2, "invalid UTF-8" },
		{ "truncated at end", "abc\xe6\x97", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "missing continuation", "\xe6\x97z", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
		{ "latin-1 e-acute", "caf\xe9 au lait", 0, ES_EPARSE, 1,
		    "invalid UTF-8" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_spec4_10_nul_byte(void **state)
{
	static const struct content_case cases[] = {
		{ "NUL first", "\0abc", 4, ES_EPARSE, 1, "NUL byte" },
		{ "NUL line 3", "a\nb\nc\0d\n", 8, ES_EPARSE, 3, "NUL byte" },
		{ "NUL last", "abc\n\0", 5, ES_EPARSE, 2, "NUL byte" },
		/* the first fault wins */
		{ "NUL before bad UTF-8", "\n\0\n\xff", 4, ES_EPARSE, 2,
		    "NUL byte" },
		{ "bad UTF-8 before NUL", "\n\xff\n\0", 4, ES_EPARSE, 2,
		    "invalid UTF-8" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * The word-at-a-time fast path must find a fault at every offset inside
 * and around its 16-byte blocks, and report the right line.
 */
static void
test_spec4_10_fault_at_every_offset(void **state)
{
	static const char faults[][3] = { "\0", "\xff", "\x80", "\xc3" };
	char buf[80];
	struct es_error err;

	(void)state;
	for (size_t f = 0; f < sizeof(faults) / sizeof(faults[0]); f++) {
		for (size_t at = 0; at < sizeof(buf); at++) {
			unsigned want_line = 1;

			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (i % 10 == 9) ? '\n' : 'a';
			buf[at] = faults[f][0];
			for (size_t i = 0; i < at; i++)
				if (buf[i] == '\n')
					want_line++;
			es_error_clear(&err);
			assert_int_equal(es_content_check(buf, sizeof(buf),
			    1024, "x.md", &err), -1);
			assert_int_equal(err.code, ES_EPARSE);
			if (err.line != want_line)
				fail_msg("fault %zu at %zu: line %u, want %u",
				    f, at, err.line, want_line);
			assert_string_equal(err.msg, f == 0 ? "NUL byte" :
			    "invalid UTF-8");
		}
	}
	/* Valid multi-byte characters straddling every block boundary. */
	for (size_t at = 0; at + 4 <= sizeof(buf); at++) {
		memset(buf, 'b', sizeof(buf));
		memcpy(buf + at, "\xf0\x9f\x9a\x80", 4);
		assert_int_equal(es_content_check(buf, sizeof(buf), 1024,
		    "x.md", NULL), 0);
	}
}

static void
test_spec4_10_size_limit(void **state)
{
	struct es_error err;
	char *big;

	(void)state;
	big = malloc(1025);
	assert_non_null(big);
	memset(big, 'x', 1025);
	/* At the limit: accepted; one byte over: refused, no line. */
	assert_int_equal(es_content_check(big, 1024, 1024, REL, &err), 0);
	es_error_clear(&err);
	assert_int_equal(es_content_check(big, 1025, 1024, REL, &err), -1);
	assert_int_equal(err.code, ES_ELIMIT);
	assert_int_equal(err.line, 0);
	assert_string_equal(err.msg,
	    "file is 1025 bytes, over the 1024-byte limit");
	free(big);
	/* The limit is checked first, without looking at the bytes. */
	es_error_clear(&err);
	assert_int_equal(es_content_check("\xff", 9437184, 8388608, REL,
	    &err), -1);
	assert_int_equal(err.code, ES_ELIMIT);
	assert_string_equal(err.msg,
	    "file is 9437184 bytes, over the 8388608-byte limit");
	assert_int_equal(es_content_check(NULL, 0, 0, REL, &err), 0);
}

static void
test_spec4_10_conflict_markers(void **state)
{
	static const struct content_case cases[] = {
		{ "conflict",
		    "# Plan\n"
		    "<<<<<<< HEAD\n"
		    "mine\n"
		    "=======\n"
		    "theirs\n"
		    ">>>>>>> origin/main\n", 0, ES_EPARSE, 2,
		    "unresolved git conflict marker '<<<<<<<'" },
		{ "bare markers",
		    "<<<<<<<\nmine\n=======\ntheirs\n>>>>>>>\n", 0,
		    ES_EPARSE, 1, "unresolved git conflict marker '<<<<<<<'" },
		{ "CRLF",
		    "a\r\nb\r\n<<<<<<< HEAD\r\nx\r\n=======\r\ny\r\n"
		    ">>>>>>> br\r\n", 0,
		    ES_EPARSE, 3, "unresolved git conflict marker '<<<<<<<'" },
		{ "diff3 style",
		    "---\ntitle: x\n---\n<<<<<<< ours\na\n||||||| base\nb\n"
		    "=======\nc\n>>>>>>> theirs", 0,
		    ES_EPARSE, 4, "unresolved git conflict marker '<<<<<<<'" },
		{ "first open unmatched, second closed",
		    "<<<<<<< a\n<<<<<<< b\n=======\n>>>>>>> c\n", 0,
		    ES_EPARSE, 1, "unresolved git conflict marker '<<<<<<<'" },
		{ "marker mid-line then real one",
		    "x <<<<<<< y\n<<<<<<< HEAD\n=======\n>>>>>>> z\n", 0,
		    ES_EPARSE, 2, "unresolved git conflict marker '<<<<<<<'" },
		/* Not conflicts */
		{ "setext heading underline",
		    "Title\n=======\n\ntext\n", 0, ES_OK, 0, NULL },
		{ "lone closing marker", "text\n>>>>>>> x\n", 0, ES_OK, 0,
		    NULL },
		{ "open without separator",
		    "<<<<<<< HEAD\ntext\n>>>>>>> x\n", 0, ES_OK, 0, NULL },
		{ "open and separator without close",
		    "<<<<<<< HEAD\na\n=======\nb\n", 0, ES_OK, 0, NULL },
		{ "wrong order",
		    "=======\n>>>>>>> x\n<<<<<<< HEAD\n", 0, ES_OK, 0, NULL },
		{ "longer markers",
		    "<<<<<<<< x\n========\n>>>>>>>> y\n", 0, ES_OK, 0, NULL },
		{ "no space after marker",
		    "<<<<<<<HEAD\n=======\n>>>>>>>x\n", 0, ES_OK, 0, NULL },
		{ "indented",
		    " <<<<<<< HEAD\n=======\n>>>>>>> x\n", 0, ES_OK, 0, NULL },
		{ "separator with trailing text",
		    "<<<<<<< HEAD\n======= x\n>>>>>>> y\n", 0, ES_OK, 0, NULL },
		{ "in a code span", "use `<<<<<<<` to mark\n=======\n"
		    ">>>>>>> x\n", 0, ES_OK, 0, NULL },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_utf8_valid_offset(void **state)
{
	size_t bad = 0;

	(void)state;
	assert_true(es_content_utf8_valid("café", 5, &bad));
	assert_true(es_content_utf8_valid("a\0b", 3, &bad));	/* NUL is UTF-8 */
	assert_false(es_content_utf8_valid("abcdefghijklmnopq\xed\xa0\x80",
	    20, &bad));
	assert_int_equal(bad, 17);
	assert_true(es_content_utf8_valid(NULL, 0, NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_spec4_10_utf8_table),
	cmocka_unit_test(test_spec4_10_nul_byte),
	cmocka_unit_test(test_spec4_10_fault_at_every_offset),
	cmocka_unit_test(test_spec4_10_size_limit),
	cmocka_unit_test(test_spec4_10_conflict_markers),
	cmocka_unit_test(test_utf8_valid_offset),
};

ES_TEST_MAIN(tests)
