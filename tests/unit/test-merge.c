/*
 * Three-way merge of bodies (SPEC 4.3): clean merges are taken, overlapping
 * edits are a conflict, bytes (CRLF, missing final newline) are kept. The
 * tables pin what libgit2's xdiff does, as git merge-file does it.
 */
#include "es-test.h"

#include <stdbool.h>
#include <stdlib.h>

#include "execsync/buf.h"
#include "execsync/merge.h"

struct merge_case {
	const char	*name;
	const char	*base, *ours, *theirs;
	int		 rc;
	const char	*want;		/* rc 0: merged bytes */
};

static void
run_cases(const struct merge_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct es_buf out = ES_BUF_INIT;
		int rc;

		/* A prefix proves the result is appended and, on a
		 * conflict, that out is untouched. */
		es_buf_addstr(&out, "P");
		rc = es_merge3(c[i].base, strlen(c[i].base), c[i].ours,
		    strlen(c[i].ours), c[i].theirs, strlen(c[i].theirs), &out);
		if (rc != c[i].rc)
			fail_msg("%s: rc %d, want %d", c[i].name, rc, c[i].rc);
		if (rc == 0) {
			assert_true(out.len >= 1 && out.buf[0] == 'P');
			assert_bytes_equal(out.buf + 1, out.len - 1,
			    c[i].want, strlen(c[i].want));
		} else {
			assert_bytes_equal(out.buf, out.len, "P", 1);
		}
		es_buf_release(&out);
	}
}

/* SPEC 4.3: "a clean line-level three-way merge is taken". */
static void
test_merge_rule4_3_clean(void **state)
{
	static const struct merge_case cases[] = {
		{ "disjoint", "a\nb\nc\nd\ne\n", "A\nb\nc\nd\ne\n",
		    "a\nb\nc\nd\nE\n", 0, "A\nb\nc\nd\nE\n" },
		{ "one unchanged line between", "a\nb\nc\nd\n",
		    "A\nb\nc\nd\n", "a\nb\nC\nd\n", 0, "A\nb\nC\nd\n" },
		{ "same change both sides", "a\nb\nc\n", "a\nX\nc\n",
		    "a\nX\nc\n", 0, "a\nX\nc\n" },
		{ "ours unchanged", "a\nb\n", "a\nb\n", "a\nB\nc\n", 0,
		    "a\nB\nc\n" },
		{ "theirs unchanged", "a\nb\n", "a\nB\n", "a\nb\n", 0,
		    "a\nB\n" },
		{ "crlf kept", "a\r\nb\r\nc\r\nd\r\ne\r\n",
		    "A\r\nb\r\nc\r\nd\r\ne\r\n", "a\r\nb\r\nc\r\nd\r\nE\r\n",
		    0, "A\r\nb\r\nc\r\nd\r\nE\r\n" },
		{ "no final newline kept", "a\nb\nc", "A\nb\nc", "a\nb\nC",
		    0, "A\nb\nC" },
		{ "final newline added vs edit far away", "a\nb\nc",
		    "a\nb\nc\n", "A\nb\nc", 0, "A\nb\nc\n" },
		{ "both add the same to an empty body", "", "x\n", "x\n", 0,
		    "x\n" },
		{ "delete a line vs edit far away", "a\nb\nc\nd\ne\n",
		    "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n", 0, "a\nc\nd\nE\n" },
		{ "insert at top vs append", "a\nb\nc\n", "x\na\nb\nc\n",
		    "a\nb\nc\ny\n", 0, "x\na\nb\nc\ny\n" },
		{ "both emptied", "a\n", "", "", 0, "" },
		{ "all empty", "", "", "", 0, "" },
		{ "utf-8 lines", "# Café\n\nnotes\n\nend\n",
		    "# Café au lait\n\nnotes\n\nend\n",
		    "# Café\n\nnotes\n\nfin ✓\n", 0,
		    "# Café au lait\n\nnotes\n\nfin ✓\n" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * SPEC 4.3: "overlapping edits are a conflict (rule 2)". Edits on adjacent
 * lines count as overlapping, as in git.
 */
static void
test_merge_rule4_3_conflict(void **state)
{
	static const struct merge_case cases[] = {
		{ "same line, different edits", "a\nb\nc\n", "a\nX\nc\n",
		    "a\nY\nc\n", 1, NULL },
		{ "adjacent lines (git joins touching hunks)",
		    "a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nC\nd\n", 1, NULL },
		{ "both append different lines", "a\n", "a\nx\n", "a\ny\n",
		    1, NULL },
		{ "both insert at the same place", "a\nb\n", "a\nx\nb\n",
		    "a\ny\nb\n", 1, NULL },
		{ "delete vs edit of the same line", "a\nb\nc\n", "a\nc\n",
		    "a\nB\nc\n", 1, NULL },
		{ "empty base, different bodies", "", "x\n", "y\n", 1, NULL },
		{ "no final newline, both touch the last line", "a\nb",
		    "a\nb\nc", "a\nB", 1, NULL },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* The merge is symmetric: swapping the sides of a clean merge gives the
 * same bytes, so two machines merging the same edits agree (SPEC 4.12). */
static void
test_merge_symmetric(void **state)
{
	static const char *base = "one\ntwo\nthree\nfour\nfive\nsix\n";
	static const char *a = "ONE\ntwo\nthree\nfour\nfive\nsix\n";
	static const char *b = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
	struct es_buf x = ES_BUF_INIT, y = ES_BUF_INIT;

	(void)state;
	assert_int_equal(es_merge3(base, strlen(base), a, strlen(a), b,
	    strlen(b), &x), 0);
	assert_int_equal(es_merge3(base, strlen(base), b, strlen(b), a,
	    strlen(a), &y), 0);
	assert_bytes_equal(x.buf, x.len, y.buf, y.len);
	assert_string_equal(x.buf,
	    "ONE\ntwo\nthree\nfour\nfive\nsix\nseven\n");
	es_buf_release(&x);
	es_buf_release(&y);
}

/* NULL with length 0 is an empty body. */
static void
test_merge_null_is_empty(void **state)
{
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	assert_int_equal(es_merge3(NULL, 0, NULL, 0, "x\n", 2, &out), 0);
	assert_string_equal(out.buf, "x\n");
	es_buf_reset(&out);
	assert_int_equal(es_merge3(NULL, 0, "a\n", 2, NULL, 0, &out), 0);
	assert_string_equal(out.buf, "a\n");
	es_buf_reset(&out);
	assert_int_equal(es_merge3(NULL, 0, NULL, 0, NULL, 0, &out), 0);
	assert_int_equal(out.len, 0);
	es_buf_release(&out);
}

/* A body with a NUL byte is binary to libgit2: a two-sided change is a
 * conflict, never a garbled merge; one-sided changes are still taken. */
static void
test_merge_nul_is_conflict(void **state)
{
	static const char base[] = "a\0b\nc\nd\ne\n";
	static const char ours[] = "A\0b\nc\nd\ne\n";
	static const char theirs[] = "a\0b\nc\nd\nE\n";
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	assert_int_equal(es_merge3(base, sizeof(base) - 1, ours,
	    sizeof(ours) - 1, theirs, sizeof(theirs) - 1, &out), 1);
	assert_int_equal(out.len, 0);
	assert_int_equal(es_merge3(base, sizeof(base) - 1, base,
	    sizeof(base) - 1, theirs, sizeof(theirs) - 1, &out), 0);
	assert_bytes_equal(out.buf, out.len, theirs, sizeof(theirs) - 1);
	es_buf_release(&out);
}

/* A long body with edits far apart on each side merges cleanly and the
 * result holds both edits and every untouched line. */
static void
test_merge_long_body(void **state)
{
	struct es_buf base = ES_BUF_INIT, ours = ES_BUF_INIT;
	struct es_buf theirs = ES_BUF_INIT, want = ES_BUF_INIT;
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		es_buf_addf(&base, "line %d\n", i);
		es_buf_addf(&ours, i == 10 ? "ours %d\n" : "line %d\n", i);
		es_buf_addf(&theirs, i == 4000 ? "theirs %d\n" : "line %d\n",
		    i);
		es_buf_addf(&want, i == 10 ? "ours %d\n" :
		    i == 4000 ? "theirs %d\n" : "line %d\n", i);
	}
	assert_int_equal(es_merge3(base.buf, base.len, ours.buf, ours.len,
	    theirs.buf, theirs.len, &out), 0);
	assert_bytes_equal(out.buf, out.len, want.buf, want.len);
	es_buf_release(&base);
	es_buf_release(&ours);
	es_buf_release(&theirs);
	es_buf_release(&want);
	es_buf_release(&out);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_merge_rule4_3_clean),
	cmocka_unit_test(test_merge_rule4_3_conflict),
	cmocka_unit_test(test_merge_symmetric),
	cmocka_unit_test(test_merge_null_is_empty),
	cmocka_unit_test(test_merge_nul_is_conflict),
	cmocka_unit_test(test_merge_long_body),
};

ES_TEST_MAIN(tests)
