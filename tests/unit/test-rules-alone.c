/*
 * SPEC 4.10: what a pass leaves alone: es_path_below_any(),
 * es_alone_entity_unread(), es_alone_action(), es_action_list_must_read(),
 * es_action_db_changed() (rules.h).
 */
#include <stdbool.h>
#include <stdio.h>

#include "es-test.h"

#include "execsync/entity.h"
#include "execsync/rules.h"

/* Sorted, as es_scan_result.skipped. */
static char *const unread[] = {
	"00k-next-actions/contexts",
	"10k-projects/active/work/p.md",
	"20k-goals",
};
#define NUNREAD	(sizeof(unread) / sizeof(unread[0]))

/* A path at or below one the scan could not take. */
static void
test_4_10_path_below_unreadable(void **state)
{
	static const struct {
		const char	*rel;
		bool		 want;
	} cases[] = {
		{ "00k-next-actions/contexts", true },
		{ "00k-next-actions/contexts/@phone.md", true },
		{ "00k-next-actions/contexts-old/@phone.md", false },
		{ "00k-next-actions/@waiting.md", false },
		{ "00k-next-actions", false },		/* above, not below */
		{ "10k-projects/active/work/p.md", true },
		{ "10k-projects/active/work/p.md.bak", false },
		{ "10k-projects/active/work/q.md", false },
		{ "20k-goals/g.md", true },
		{ "20k-goals2/g.md", false },
		{ "", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_path_below_any(cases[i].rel, unread, NUNREAD) !=
		    cases[i].want)
			fail_msg("case %zu: '%s'", i, cases[i].rel);
	assert_false(es_path_below_any("20k-goals/g.md", unread, 0));
}

/* A baseline entity whose file is unreadable is not deleted. */
static void
test_4_10_entity_under_unreadable_not_deleted(void **state)
{
	static const struct {
		bool		 has_file, has_base;
		const char	*base_rel;
		bool		 want;
	} cases[] = {
		{ false, true, "20k-goals/g.md", true },
		{ false, true, "10k-projects/active/work/p.md", true },
		{ false, true, "10k-projects/active/work/q.md", false },
		{ true, true, "20k-goals/g.md", false },	/* seen */
		{ false, false, NULL, false },			/* new */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_alone_entity_unread(cases[i].has_file,
		    cases[i].has_base, cases[i].base_rel, unread, NUNREAD) !=
		    cases[i].want)
			fail_msg("case %zu", i);
}

/* Actions no decision may touch this pass. */
static void
test_4_10_action_left_alone(void **state)
{
	static const struct {
		struct es_alone_act	 a;
		bool			 want;
	} cases[] = {
		/* A document that does not decode. */
		{ { true, true, true, ES_LIST_READ, ES_LIST_READ }, true },
		{ { true, false, false, ES_LIST_UNKNOWN, ES_LIST_UNKNOWN },
		    true },
		/* Base row, no line: list not read (unchanged). */
		{ { false, true, false, ES_LIST_NOT_READ, ES_LIST_UNKNOWN },
		    true },
		/* ... list read but a line did not parse. */
		{ { false, true, false, ES_LIST_BROKEN, ES_LIST_UNKNOWN },
		    true },
		/* ... list read whole: the line was removed. */
		{ { false, true, false, ES_LIST_READ, ES_LIST_UNKNOWN },
		    false },
		/* ... its list is gone: deleted. */
		{ { false, true, false, ES_LIST_UNKNOWN, ES_LIST_UNKNOWN },
		    false },
		/* A line in a read list, with or without a base. */
		{ { false, true, true, ES_LIST_READ, ES_LIST_READ }, false },
		{ { false, false, true, ES_LIST_UNKNOWN, ES_LIST_BROKEN },
		    false },
		/* A document only (new in the database). */
		{ { false, false, false, ES_LIST_UNKNOWN, ES_LIST_UNKNOWN },
		    false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_alone_action(&cases[i].a) != cases[i].want)
			fail_msg("case %zu: want %s", i, cases[i].want ?
			    "alone" : "decided");
}

/* Which action lists a pass reads from their stat data. */
static void
test_4_10_lists_read(void **state)
{
	static const struct {
		bool	 ignore_base, on_disk, stat_same, want;
	} cases[] = {
		{ false, true, true, false },	/* unchanged: not read */
		{ false, true, false, true },
		{ false, false, false, true },	/* to be created */
		{ true, true, true, true },	/* no baseline: all */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_action_list_must_read(cases[i].ignore_base,
		    cases[i].on_disk, cases[i].stat_same) != cases[i].want)
			fail_msg("case %zu", i);
}

/* The database's changes make the lists involved be read. */
static void
test_4_10_db_changed_reads_lists(void **state)
{
	struct es_action base, same, edited, deleted;
	static const struct {
		/* 0 none, 1 same, 2 edited, 3 deleted */
		int	 base, db;
		bool	 full, want;
	} cases[] = {
		{ 0, 1, false, true },		/* new document */
		{ 0, 3, false, false },		/* new, deleted: nothing */
		{ 0, 0, false, false },
		{ 1, 0, false, false },		/* not returned: unchanged */
		{ 1, 0, true, true },		/* gone after a full read */
		{ 1, 1, false, false },
		{ 1, 2, false, true },
		{ 1, 3, false, true },
	};

	(void)state;
	es_action_init(&base);
	base.text = "Ring Bob";
	base.state = ES_STATE_NEXT;
	same = base;
	edited = base;
	edited.text = "Ring Bob today";
	deleted = base;
	deleted.meta.deleted = true;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct es_action *v[] = { NULL, &base, &edited,
		    &deleted };
		const struct es_action *b = cases[i].base ? &base : NULL;
		const struct es_action *d = cases[i].db == 1 ? &same :
		    v[cases[i].db];

		if (es_action_db_changed(b, d, cases[i].full) !=
		    cases[i].want)
			fail_msg("case %zu", i);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_10_path_below_unreadable),
	cmocka_unit_test(test_4_10_entity_under_unreadable_not_deleted),
	cmocka_unit_test(test_4_10_action_left_alone),
	cmocka_unit_test(test_4_10_lists_read),
	cmocka_unit_test(test_4_10_db_changed_reads_lists),
};

ES_TEST_MAIN(tests)
