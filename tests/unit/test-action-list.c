/* Action list files, lossless (SPEC §2 "Action list files"). */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "execsync/action-list.h"
#include "execsync/xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define REL "00k-next-actions/@waiting.md"

static struct es_action_list *
parse_str(const char *s, enum es_list_kind kind, const char *ctx)
{
	return es_action_list_parse(s, strlen(s), REL, kind, ctx);
}

static void
assert_renders(const struct es_action_list *l, const char *want)
{
	struct es_buf out = ES_BUF_INIT;

	es_action_list_render(l, &out);
	assert_bytes_equal(out.buf, out.len, want, strlen(want));
	es_buf_release(&out);
}

/* An action parsed from a canonical line, for edits. */
static void
action_of(const char *line, enum es_list_kind kind, const char *ctx,
    struct es_action *a)
{
	struct es_error err;

	es_action_init(a);
	if (es_action_line_parse(line, strlen(line), kind, ctx, a, NULL,
	    &err) != 1)
		fail_msg("'%s': %s", line, err.msg);
}

/* SPEC §2: unedited files come back byte for byte, whatever their shape. */
static void
test_spec2_lossless_round_trip(void **state)
{
	static const char *const files[] = {
		"",
		"\n",
		"\n\n\n",
		"- [ ] one",
		"- [ ] one\n",
		"- [ ] one\r\n- [ ] two\r\n",
		"- [ ] one\r\n- [ ] two",
		"\xef\xbb\xbf---\r\nlast_reviewed: 2025-11-09\r\n---\r\n"
		"# Waiting\r\n\r\n- [ ] 2025-11-09 Ana: contract @ana\r\n"
		"Some note\r\n- [ ] Bob due:2025-13-45\r\n- [x] Done",
		"\xef\xbb\xbf",
		"\xef\xbb\xbf- [ ] bom",
		"---\nlast_reviewed: 2025-11-09\n---\n",
		"---\nunterminated\n- [ ] x\n",
		"mixed\r\nendings\nhere\r\n\r\n",
		"lone\rcarriage\rreturns\n- [ ] a\rb\n",
		"  - [ ] indented\n\t- [ ] tab\n- [ ]\n- [ ] \n",
		"- [ ] trailing spaces   \n- [ ]  odd   spacing\t\n",
		"\r\n\r",
	};
	(void)state;
	for (size_t i = 0; i < NELEM(files); i++) {
		struct es_action_list *l = parse_str(files[i], ES_LIST_WAITING,
		    NULL);

		assert_renders(l, files[i]);
		es_action_list_free(l);
	}
}

static const char waiting_md[] =
    "---\n"					/* 1 */
    "last_reviewed: 2025-11-09\n"		/* 2 */
    "- [ ] not an action: frontmatter\n"	/* 3 */
    "---\n"					/* 4 */
    "# Waiting\n"				/* 5 */
    "\n"					/* 6 */
    "- [ ] 2025-11-09 Ana: contract @ana\n"	/* 7 */
    "Some note about Ana\n"			/* 8 */
    "- [ ] Bob due:2025-13-45\n"		/* 9 */
    "(B) Carl +hiring\n"			/* 10 */
    "## Later\n"				/* 11 */
    "- [ ] @dave Dave\n"			/* 12 */
    "\n"					/* 13 */
    "- [ ] 2025-02-30 Eve\n"			/* 14 */
    "trailing note\n";				/* 15 */

/* SPEC §2: actions in file order, their lines, raw bytes; frontmatter,
 * headings and notes are not actions. */
static void
test_spec2_actions_lines_and_raw(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 line;
		const char	*raw;
	} want[] = {
		{ "Ana: contract", 7, "- [ ] 2025-11-09 Ana: contract @ana" },
		{ "Carl", 10, "(B) Carl +hiring" },
		{ "Dave", 12, "- [ ] @dave Dave" },
	};
	struct es_action_list *l = parse_str(waiting_md, ES_LIST_WAITING,
	    NULL);

	(void)state;
	assert_int_equal(es_action_list_count(l), NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct es_action *a = es_action_list_get(l, i);
		const char *raw;
		size_t len;

		assert_string_equal(a->text, want[i].text);
		assert_int_equal(a->state, ES_STATE_WAITING);
		assert_int_equal(es_action_list_line(l, i), want[i].line);
		raw = es_action_list_raw(l, i, &len);
		assert_bytes_equal(raw, len, want[i].raw, strlen(want[i].raw));
	}
	assert_string_equal(es_action_list_get(l, 0)->context, "@ana");
	assert_string_equal(es_action_list_get(l, 1)->project_slug, "hiring");
	assert_int_equal(es_action_list_get(l, 1)->priority, 'B');
	assert_null(es_action_list_get(l, 3));
	es_action_list_free(l);
}

/* SPEC §4.10: a bad line is reported as path:line: reason and kept. */
static void
test_spec4_10_errors_name_path_and_line(void **state)
{
	static const char *const want[] = {
		REL ":9: bad date '2025-13-45' in 'due:'",
		REL ":14: bad date '2025-02-30'",
	};
	struct es_action_list *l = parse_str(waiting_md, ES_LIST_WAITING,
	    NULL);
	char buf[512];

	(void)state;
	assert_int_equal(es_action_list_nerrors(l), NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct es_error *e = es_action_list_error(l, i);

		assert_int_equal(e->code, ES_EPARSE);
		assert_string_equal(es_error_format(e, buf, sizeof(buf)),
		    want[i]);
	}
	assert_null(es_action_list_error(l, 2));
	/* The bad lines stay in the file as they were. */
	assert_renders(l, waiting_md);
	es_action_list_free(l);
}

/* SPEC §2: the context of a line without @token is the file's name. */
static void
test_spec2_context_from_file_name(void **state)
{
	static const char md[] =
	    "# @macbook\n- [ ] Build\n- [ ] Call @phone\n- [x] 2025-01-01 "
	    "Old\n";
	struct es_action_list *l = es_action_list_parse(md, strlen(md),
	    "00k-next-actions/contexts/@macbook.md", ES_LIST_CONTEXT,
	    "@macbook");

	(void)state;
	assert_int_equal(es_action_list_count(l), 3);
	assert_string_equal(es_action_list_get(l, 0)->context, "@macbook");
	assert_int_equal(es_action_list_get(l, 0)->state, ES_STATE_NEXT);
	assert_string_equal(es_action_list_get(l, 1)->context, "@phone");
	assert_string_equal(es_action_list_get(l, 2)->context, "@macbook");
	assert_int_equal(es_action_list_get(l, 2)->state, ES_STATE_COMPLETED);
	es_action_list_free(l);
}

static const char crlf_md[] =
    "\xef\xbb\xbf---\r\nlast_reviewed: 2025-11-09\r\n---\r\n"
    "# Waiting\r\n"
    "- [ ] Ana  contract @ana due:2025-01-01\r\n"
    "note\r\n"
    "\r\n"
    "(A) Bob +p\r\n"
    "- [ ] Carl";

/* SPEC §2 "rewriting a line changes only that line". */
static void
test_spec2_set_changes_only_that_line(void **state)
{
	struct es_action_list *l = parse_str(crlf_md, ES_LIST_WAITING, NULL);
	struct es_action a;
	struct es_error err;
	const char *raw;
	size_t len;

	(void)state;
	es_action_copy(&a, es_action_list_get(l, 0));
	a.due = es_action_list_get(l, 0)->due + 31;
	assert_int_equal(es_action_list_set(l, 0, &a, &err), 0);
	es_action_release(&a);
	es_action_copy(&a, es_action_list_get(l, 1));
	free(a.project_slug);
	a.project_slug = es_xstrdup("q");
	assert_int_equal(es_action_list_set(l, 1, &a, &err), 0);
	es_action_release(&a);
	action_of("- [ ] Carl the builder", ES_LIST_WAITING, NULL, &a);
	assert_int_equal(es_action_list_set(l, 2, &a, &err), 0);
	es_action_release(&a);

	assert_renders(l,
	    "\xef\xbb\xbf---\r\nlast_reviewed: 2025-11-09\r\n---\r\n"
	    "# Waiting\r\n"
	    "- [ ] Ana  contract @ana due:2025-02-01\r\n"
	    "note\r\n"
	    "\r\n"
	    "(A) Bob +q\r\n"
	    "- [ ] Carl the builder");
	/* The list's view follows the edits. */
	assert_int_equal(es_action_list_get(l, 0)->due,
	    es_date_from_ymd(2025, 2, 1));
	assert_string_equal(es_action_list_get(l, 1)->project_slug, "q");
	assert_string_equal(es_action_list_get(l, 2)->text, "Carl the builder");
	raw = es_action_list_raw(l, 1, &len);
	assert_bytes_equal(raw, len, "(A) Bob +q", 10);
	assert_int_equal(es_action_list_line(l, 2), 9);
	es_action_list_free(l);
}

/* Setting the action a line already holds changes no byte (SPEC §4.8). */
static void
test_spec4_8_set_same_action_is_a_no_op(void **state)
{
	struct es_action_list *l = parse_str(crlf_md, ES_LIST_WAITING, NULL);
	struct es_error err;

	(void)state;
	for (size_t i = 0; i < es_action_list_count(l); i++) {
		struct es_action a;

		es_action_copy(&a, es_action_list_get(l, i));
		assert_int_equal(es_action_list_set(l, i, &a, &err), 0);
		es_action_release(&a);
	}
	assert_renders(l, crlf_md);
	es_action_list_free(l);
}

/* A refused edit names the place and leaves the file as it was. */
static void
test_set_refused_names_path_and_line(void **state)
{
	struct es_action_list *l = parse_str(crlf_md, ES_LIST_WAITING, NULL);
	struct es_action a;
	struct es_error err;
	char buf[512];

	(void)state;
	es_action_copy(&a, es_action_list_get(l, 1));
	free(a.context);
	a.context = es_xstrdup("@../../etc");
	assert_int_equal(es_action_list_set(l, 1, &a, &err), -1);
	assert_string_equal(es_error_format(&err, buf, sizeof(buf)),
	    REL ":8: bad context '@../../etc'");
	es_action_release(&a);
	assert_int_equal(es_action_list_set(l, 3, es_action_list_get(l, 0),
	    &err), -1);
	assert_renders(l, crlf_md);
	es_action_list_free(l);
}

/* SPEC §2: removing an action leaves every other line as it was. */
static void
test_spec2_remove_keeps_other_lines(void **state)
{
	struct es_action_list *l = parse_str(crlf_md, ES_LIST_WAITING, NULL);

	(void)state;
	es_action_list_remove(l, 1);
	assert_renders(l,
	    "\xef\xbb\xbf---\r\nlast_reviewed: 2025-11-09\r\n---\r\n"
	    "# Waiting\r\n"
	    "- [ ] Ana  contract @ana due:2025-01-01\r\n"
	    "note\r\n"
	    "\r\n"
	    "- [ ] Carl");
	assert_int_equal(es_action_list_count(l), 2);
	assert_string_equal(es_action_list_get(l, 1)->text, "Carl");
	assert_int_equal(es_action_list_line(l, 1), 8);
	/* The last line, which had no EOL: the file now ends after "\r\n". */
	es_action_list_remove(l, 1);
	es_action_list_remove(l, 0);
	es_action_list_remove(l, 0);	/* out of range: nothing */
	assert_renders(l,
	    "\xef\xbb\xbf---\r\nlast_reviewed: 2025-11-09\r\n---\r\n"
	    "# Waiting\r\n"
	    "note\r\n"
	    "\r\n");
	assert_int_equal(es_action_list_count(l), 0);
	es_action_list_free(l);
}

/* SPEC §2: a new action goes after the last action line. */
static void
test_spec2_append_after_last_action(void **state)
{
	static const char md[] =
	    "# Waiting\n- [ ] Ana\n\n## Notes\nkeep me\n";
	struct es_action_list *l = parse_str(md, ES_LIST_WAITING, NULL);
	struct es_action a;
	struct es_error err;

	(void)state;
	action_of("- [ ] 2025-11-09 Bob @bob +p due:2025-11-15",
	    ES_LIST_WAITING, NULL, &a);
	assert_int_equal(es_action_list_append(l, &a, &err), 0);
	es_action_release(&a);
	action_of("(C) Carl", ES_LIST_WAITING, NULL, &a);
	assert_int_equal(es_action_list_append(l, &a, &err), 0);
	es_action_release(&a);
	assert_renders(l,
	    "# Waiting\n- [ ] Ana\n"
	    "- [ ] 2025-11-09 Bob @bob +p due:2025-11-15\n"
	    "- [ ] (C) Carl\n"
	    "\n## Notes\nkeep me\n");
	assert_int_equal(es_action_list_count(l), 3);
	assert_int_equal(es_action_list_line(l, 2), 4);
	assert_int_equal(es_action_list_get(l, 2)->priority, 'C');
	es_action_list_free(l);
}

/* SPEC §2: in a file without actions, at the end; EOL style kept. */
static void
test_spec2_append_without_actions(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "", "- [ ] Fix\n" },
		{ "# Waiting", "# Waiting\n- [ ] Fix\n" },
		{ "# Waiting\n\n", "# Waiting\n\n- [ ] Fix\n" },
		{ "# Waiting\r\nnote", "# Waiting\r\nnote\r\n- [ ] Fix\r\n" },
		{ "\xef\xbb\xbf---\r\na: b\r\n---",
		  "\xef\xbb\xbf---\r\na: b\r\n---\r\n- [ ] Fix\r\n" },
		{ "- [ ] Bad due:x\n", "- [ ] Bad due:x\n- [ ] Fix\n" },
		/* The last action lacked its EOL. */
		{ "note\n- [ ] Ana", "note\n- [ ] Ana\n- [ ] Fix\n" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action_list *l = parse_str(cases[i].in,
		    ES_LIST_WAITING, NULL);
		struct es_action a;
		struct es_error err;

		action_of("- [ ] Fix", ES_LIST_WAITING, NULL, &a);
		assert_int_equal(es_action_list_append(l, &a, &err), 0);
		assert_renders(l, cases[i].want);
		es_action_release(&a);
		es_action_list_free(l);
	}
}

/* A refused append leaves the file as it was. */
static void
test_append_refused(void **state)
{
	static const char md[] = "# @home\n- [ ] Ana\n";
	struct es_action_list *l = es_action_list_parse(md, strlen(md),
	    "00k-next-actions/contexts/@home.md", ES_LIST_CONTEXT, "@home");
	struct es_action a;
	struct es_error err;
	char buf[512];

	(void)state;
	action_of("- [ ] Fix @home", ES_LIST_WAITING, NULL, &a);
	assert_int_equal(es_action_list_append(l, &a, &err), -1);
	assert_string_equal(es_error_format(&err, buf, sizeof(buf)),
	    "00k-next-actions/contexts/@home.md: state 'waiting' does not "
	    "fit a list of state 'next'");
	assert_renders(l, md);
	assert_int_equal(es_action_list_count(l), 1);
	es_action_release(&a);
	es_action_list_free(l);
}

/* Many appends and removes keep lines and indices consistent. */
static void
test_many_appends_and_removes(void **state)
{
	static const char md[] = "# Top\n- [ ] first\nbottom note\n";
	struct es_action_list *l = parse_str(md, ES_LIST_DEFERRED, NULL);
	struct es_error err;
	char text[32];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		struct es_action a;
		char line[64];

		snprintf(line, sizeof(line), "- [ ] item %d", i);
		action_of(line, ES_LIST_DEFERRED, NULL, &a);
		assert_int_equal(es_action_list_append(l, &a, &err), 0);
		es_action_release(&a);
	}
	assert_int_equal(es_action_list_count(l), 2001);
	assert_int_equal(es_action_list_line(l, 2000), 2002);
	/* Remove every other item, from the front. */
	for (int i = 0; i < 1000; i++)
		es_action_list_remove(l, (size_t)i + 1);
	assert_int_equal(es_action_list_count(l), 1001);
	for (size_t i = 1; i < es_action_list_count(l); i++) {
		snprintf(text, sizeof(text), "item %zu", 2 * i - 1);
		assert_string_equal(es_action_list_get(l, i)->text, text);
		assert_int_equal(es_action_list_line(l, i), i + 2);
	}
	while (es_action_list_count(l) > 0)
		es_action_list_remove(l, es_action_list_count(l) - 1);
	assert_renders(l, "# Top\nbottom note\n");
	es_action_list_free(l);
}

/* A list file that does not exist yet (SPEC §2). */
static void
test_spec2_render_new(void **state)
{
	struct es_action a, b, bad;
	const struct es_action *acts[2];
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	struct es_action_list *l;

	(void)state;
	action_of("- [ ] 2025-11-09 Build +api", ES_LIST_CONTEXT, "@macbook",
	    &a);
	action_of("- [ ] Ping @bob", ES_LIST_CONTEXT, "@macbook", &b);
	acts[0] = &a;
	acts[1] = &b;
	assert_int_equal(es_action_list_render_new(ES_LIST_CONTEXT,
	    "@macbook", acts, 2, &out, &err), 0);
	assert_string_equal(out.buf, "# @macbook\n\n"
	    "- [ ] 2025-11-09 Build +api\n- [ ] Ping @bob\n");
	/* What it wrote reads back as the same actions. */
	l = es_action_list_parse(out.buf, out.len, "x", ES_LIST_CONTEXT,
	    "@macbook");
	assert_int_equal(es_action_list_count(l), 2);
	assert_int_equal(es_action_diff(es_action_list_get(l, 0), &a), 0);
	assert_int_equal(es_action_diff(es_action_list_get(l, 1), &b), 0);
	es_action_list_free(l);

	es_buf_reset(&out);
	assert_int_equal(es_action_list_render_new(ES_LIST_WAITING, NULL,
	    NULL, 0, &out, &err), 0);
	assert_string_equal(out.buf, "# Waiting\n\n");

	/* Refused: out as it was. */
	es_buf_reset(&out);
	es_buf_addstr(&out, "keep");
	action_of("- [ ] Bad", ES_LIST_CONTEXT, "@macbook", &bad);
	free(bad.text);
	bad.text = es_xstrdup("two\nlines");
	acts[1] = &bad;
	assert_int_equal(es_action_list_render_new(ES_LIST_CONTEXT,
	    "@macbook", acts, 2, &out, &err), -1);
	assert_string_equal(out.buf, "keep");
	assert_string_equal(err.msg, "control character 0x0a in action text");
	es_buf_release(&out);
	es_action_release(&a);
	es_action_release(&b);
	es_action_release(&bad);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_spec2_lossless_round_trip),
	cmocka_unit_test(test_spec2_actions_lines_and_raw),
	cmocka_unit_test(test_spec4_10_errors_name_path_and_line),
	cmocka_unit_test(test_spec2_context_from_file_name),
	cmocka_unit_test(test_spec2_set_changes_only_that_line),
	cmocka_unit_test(test_spec4_8_set_same_action_is_a_no_op),
	cmocka_unit_test(test_set_refused_names_path_and_line),
	cmocka_unit_test(test_spec2_remove_keeps_other_lines),
	cmocka_unit_test(test_spec2_append_after_last_action),
	cmocka_unit_test(test_spec2_append_without_actions),
	cmocka_unit_test(test_append_refused),
	cmocka_unit_test(test_many_appends_and_removes),
	cmocka_unit_test(test_spec2_render_new),
};

ES_TEST_MAIN(tests)
