/*
 * Slugs (SPEC §2 "Slugs are what the API's own slugify gives, character for
 * character ... a clash gets -2, -3") and the path component checks of SPEC
 * 4.11. Expected slugs were produced with the API's slugify under Python
 * 3.11 (Unicode 14.0.0); test-slug-table.c checks thousands more against
 * python3.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "es-test.h"

#include "execsync/error.h"
#include "execsync/slug.h"

static void
test_spec2_slugify_table(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		/* SPEC §2 and the task's examples */
		{ "Learn Rust", "learn-rust" },
		{ "DE Shaw TPM Role", "de-shaw-tpm-role" },
		{ "C++ & Go!", "c-go" },
		{ "Café Münster", "café-münster" },
		{ "日本語の勉強", "日本語の勉強" },
		{ "  a -- b  ", "a-b" },
		/* '_' is a separator like whitespace and '-' */
		{ "Ünïcödé_Snake", "ünïcödé-snake" },
		{ "foo_bar", "foo-bar" },
		{ "snake_case_name", "snake-case-name" },
		{ "__a__", "a" },
		{ "-_a_-", "a" },
		{ "a_-_b", "a-b" },
		/* punctuation, digits, whitespace */
		{ "Q4 2025: plan (v2)", "q4-2025-plan-v2" },
		{ "a - ! - b", "a-b" },
		{ "tab\tsep", "tab-sep" },
		{ "line\nbreak\r\nx", "line-break-x" },
		{ "x\x1cy", "x-y" },		/* U+001C is \s to Python */
		{ "x\xc2\x85y", "x-y" },		/* U+0085 */
		{ "10\xc2\xa0" "000", "10-000" },	/* no-break space */
		{ "a\xe2\x80\xa8" "b", "a-b" },	/* U+2028 */
		{ "a\xe2\x80\x8b" "b", "ab" },		/* U+200B is Cf */
		{ "100%", "100" },
		/* empty results */
		{ "", "" },
		{ "!!!", "" },
		{ "🚀", "" },
		{ " - ", "" },
		{ "_", "" },
		{ "㎞", "" },			/* So, no NFKC "km" */
		/* emoji and symbols dropped, the words kept */
		{ "emoji 🚀 rocket", "emoji-rocket" },
		/* no normalisation: compatibility forms stay, marks go */
		{ "ﬁle ½ ²", "ﬁle-½-²" },
		{ "ｆｕｌｌ　ｗｉｄｔｈ", "ｆｕｌｌ-ｗｉｄｔｈ" },
		{ "Cafe\xcc\x81", "cafe" },		/* e + U+0301 */
		{ "e\xcc\x81\xcc\x81", "e" },
		{ "a\xcc\x87", "a" },
		{ "Ⅻ th", "ⅻ-th" },			/* Nl, lower-cased */
		{ "① ⑳", "①-⑳" },			/* No */
		{ "一二三", "一二三" },
		/* full lower-casing, Greek final sigma as Python places it */
		{ "İstanbul", "istanbul" },		/* "i̇", U+0307 dropped */
		{ "ΟΔΟΣ", "οδος" },
		{ "ΌΣΟΣ ΣΑΣ", "όσος-σας" },
		{ "Σ", "σ" },
		{ "Α'Σ", "ας" },			/* ' is case-ignorable */
		{ "ΑΣ'Β", "ασβ" },
		{ "ΑΣ\xcd\x85", "ας" },		/* U+0345 skipped */
		{ "Ǆemal", "ǆemal" },
		/* bad UTF-8 is U+FFFD: dropped, but ends a word for Σ */
		{ "ab\xff" "cd", "abcd" },
		{ "\xc0\xaf", "" },
		{ "foo\x80_bar", "foo-bar" },
		{ "ΑΣ\xff" "Β", "αςβ" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = es_slugify(cases[i].in, strlen(cases[i].in));

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("slugify('%s') = '%s', want '%s'",
			    cases[i].in, got, cases[i].want);
		free(got);
	}
}

static void
test_slugify_length_not_nul(void **state)
{
	char *got;

	(void)state;
	/* Only len bytes count: the input need not be NUL-terminated. */
	got = es_slugify("Learn Rust and more", 10);
	assert_string_equal(got, "learn-rust");
	free(got);
	/* A slug slugifies to itself. */
	got = es_slugify("café-münster", strlen("café-münster"));
	assert_string_equal(got, "café-münster");
	free(got);
	/* An embedded NUL is a control character: dropped. */
	got = es_slugify("a\0b", 3);
	assert_string_equal(got, "ab");
	free(got);
	got = es_slugify(NULL, 0);
	assert_string_equal(got, "");
	free(got);
}

struct taken_set {
	const char	*const *names;
	int		 calls;
};

static bool
taken_in(const char *slug, void *ud)
{
	struct taken_set *t = ud;

	t->calls++;
	for (size_t i = 0; t->names[i] != NULL; i++)
		if (strcmp(t->names[i], slug) == 0)
			return true;
	return false;
}

static void
test_spec2_slug_unique_suffix(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const one[] = { "learn-rust", NULL };
	static const char *const three[] = { "learn-rust", "learn-rust-2",
	    "learn-rust-3", "other", NULL };
	static const char *const gap[] = { "learn-rust", "learn-rust-3",
	    NULL };
	struct taken_set t;
	char *s;

	(void)state;
	t = (struct taken_set){ none, 0 };
	s = es_slug_unique("learn-rust", taken_in, &t);
	assert_string_equal(s, "learn-rust");
	assert_int_equal(t.calls, 1);
	free(s);

	t = (struct taken_set){ one, 0 };
	s = es_slug_unique("learn-rust", taken_in, &t);
	assert_string_equal(s, "learn-rust-2");
	free(s);

	t = (struct taken_set){ three, 0 };
	s = es_slug_unique("learn-rust", taken_in, &t);
	assert_string_equal(s, "learn-rust-4");
	assert_int_equal(t.calls, 4);
	free(s);

	/* The first free one, not one past the highest. */
	t = (struct taken_set){ gap, 0 };
	s = es_slug_unique("learn-rust", taken_in, &t);
	assert_string_equal(s, "learn-rust-2");
	free(s);
}

static void
test_spec4_11_slug_is_safe_table(void **state)
{
	static const struct {
		const char	*in;
		bool		 safe;
	} cases[] = {
		{ "learn-rust", true },
		{ "café-münster", true },
		{ "日本語の勉強", true },
		{ "a.b", true },
		{ "x~", true },		/* odd, but stays in its folder */
		{ "../../.bashrc", false },
		{ "/etc", false },
		{ "/", false },
		{ "a/b", false },
		{ "a\\b", false },
		{ ".hidden", false },
		{ ".", false },
		{ "..", false },
		{ "", false },
		{ "tab\there", false },
		{ "new\nline", false },
		{ "esc\x1b", false },
		{ "del\x7f", false },
		{ "c1\xc2\x85", false },	/* U+0085, a C1 control */
		{ "bad\xff", false },
		{ "overlong\xc0\xaf", false },
		{ "surrogate\xed\xa0\x80", false },
	};
	char longest[ES_SLUG_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_slug_is_safe(cases[i].in) != cases[i].safe)
			fail_msg("es_slug_is_safe('%s'): want %d", cases[i].in,
			    cases[i].safe);
	assert_false(es_slug_is_safe(NULL));
	/* The file name "<slug>.md" may be 255 bytes (NAME_MAX), no more. */
	assert_int_equal(ES_SLUG_MAX + strlen(".md"), 255);
	memset(longest, 'a', ES_SLUG_MAX);
	longest[ES_SLUG_MAX] = '\0';
	assert_true(es_slug_is_safe(longest));
	longest[ES_SLUG_MAX] = 'a';
	longest[ES_SLUG_MAX + 1] = '\0';
	assert_false(es_slug_is_safe(longest));
	/* Bytes, not characters: 84 CJK characters are 252 bytes. */
	longest[0] = '\0';
	for (int i = 0; i < 84; i++)
		strcat(longest, "日");
	assert_true(es_slug_is_safe(longest));
	strcat(longest, "a");
	assert_false(es_slug_is_safe(longest));
}

static void
test_spec2_area_dirname_table(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: rejected */
	} cases[] = {
		{ "Personal Growth Systems", "personal-growth-systems" },
		{ "Learning", "learning" },
		{ "Health & Fitness", "health-fitness" },
		{ "Café Münster", "café-münster" },
		{ "personal-growth-systems", "personal-growth-systems" },
		{ "Side_Projects", "side-projects" },
		/* whitespace and controls are the slug's: '-' or dropped */
		{ "tab\tarea", "tab-area" },
		{ "two\nlines\r\n", "two-lines" },
		{ "x\x1fy", "x-y" },			/* U+001F */
		{ "x\xc2\x85y", "x-y" },		/* U+0085 */
		{ "no\xc2\xa0" "break", "no-break" },	/* NBSP */
		{ "bell\a", "bell" },
		{ "esc\x1b[1m", "esc1m" },
		/* a leading '.' cannot survive slugifying */
		{ ".NET Projects", "net-projects" },
		{ ".hidden", "hidden" },
		{ "..x", "x" },
		/* SPEC 4.11: an absolute area is rejected, not slugified */
		{ "/etc", NULL },
		{ "../../etc", NULL },
		{ "a/b", NULL },
		{ "a\\b", NULL },
		{ "C:\\Users", NULL },
		/* empty after slugifying */
		{ "", NULL },
		{ "!!!", NULL },
		{ ".", NULL },
		{ "..", NULL },
		{ " \t ", NULL },
		{ "🚀", NULL },
		/* not UTF-8: not an area the API could hold */
		{ "bad\xff", NULL },
	};
	char longest[ES_NAME_MAX + 2];
	struct es_error err;
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		es_error_clear(&err);
		got = es_area_dirname(cases[i].in, &err);
		if (cases[i].want == NULL) {
			if (got != NULL)
				fail_msg("area '%s' accepted as '%s'",
				    cases[i].in, got);
			assert_int_equal(err.code, ES_EUNSAFE);
			continue;
		}
		if (got == NULL)
			fail_msg("area '%s' rejected: %s", cases[i].in,
			    err.msg);
		assert_string_equal(got, cases[i].want);
		assert_int_equal(err.code, ES_OK);
		free(got);
	}
	es_error_clear(&err);
	assert_null(es_area_dirname("/etc", &err));
	assert_string_equal(err.msg, "unsafe area '/etc'");
	assert_null(es_area_dirname(NULL, &err));
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_null(es_area_dirname("/etc", NULL));	/* err may be NULL */
	/* A folder name may be 255 bytes (NAME_MAX), no more. */
	memset(longest, 'a', ES_NAME_MAX);
	longest[ES_NAME_MAX] = '\0';
	got = es_area_dirname(longest, &err);
	assert_non_null(got);
	assert_string_equal(got, longest);
	free(got);
	longest[ES_NAME_MAX] = 'a';
	longest[ES_NAME_MAX + 1] = '\0';
	assert_null(es_area_dirname(longest, &err));
	assert_int_equal(err.code, ES_EUNSAFE);
	/* ... counted after slugifying. */
	memset(longest, ' ', ES_NAME_MAX + 1);
	longest[0] = 'A';
	got = es_area_dirname(longest, &err);
	assert_non_null(got);
	assert_string_equal(got, "a");
	free(got);
}

static void
test_spec4_11_context_valid_table(void **state)
{
	static const struct {
		const char	*in;
		bool		 ok;
	} cases[] = {
		{ "@macbook", true },
		{ "@phone", true },
		{ "@errands", true },
		{ "@inbox", true },
		{ "@a", true },
		{ "@büro", true },
		{ "@deep-work_2", true },
		{ "@a.b", true },
		{ "@", false },
		{ "macbook", false },
		{ "", false },
		{ "@a/b", false },
		{ "@../x", false },
		{ "@a\\b", false },
		{ "@.", false },
		{ "@..", false },
		{ "@two words", false },
		{ "@tab\t", false },
		{ "@nbsp\xc2\xa0x", false },	/* Unicode whitespace */
		{ "@ideo\xe3\x80\x80x", false },	/* U+3000 */
		{ "@nl\n", false },
		{ "@bad\xff", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_context_is_valid(cases[i].in) != cases[i].ok)
			fail_msg("es_context_is_valid('%s'): want %d",
			    cases[i].in, cases[i].ok);
	assert_false(es_context_is_valid(NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_spec2_slugify_table),
	cmocka_unit_test(test_slugify_length_not_nul),
	cmocka_unit_test(test_spec2_slug_unique_suffix),
	cmocka_unit_test(test_spec4_11_slug_is_safe_table),
	cmocka_unit_test(test_spec2_area_dirname_table),
	cmocka_unit_test(test_spec4_11_context_valid_table),
};

ES_TEST_MAIN(tests)
