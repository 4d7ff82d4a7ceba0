/* SPEC 4.15: the mass-deletion guard, es_guard_trips() (rules.h). */
#include <stdbool.h>
#include <stdio.h>

#include "es-test.h"

#include "execsync/rules.h"

struct guard_case {
	size_t		 deletes, trashes, total;
	unsigned	 max_delete;
	bool		 trips;
};

static void
run(const struct guard_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct guard_case *c = &cases[i];
		struct es_guard_count gc = { c->deletes, c->trashes,
		    c->total };

		if (es_guard_trips(&gc, c->max_delete) != c->trips)
			fail_msg("case %zu: %zu+%zu of %zu at %u%%: want %s",
			    i, c->deletes, c->trashes, c->total,
			    c->max_delete, c->trips ? "trip" : "pass");
	}
}

/* More than max_delete percent of one collection, deletes and trash. */
static void
test_4_15_guard_trips_over_max_delete_percent(void **state)
{
	static const struct guard_case cases[] = {
		{ 12, 0, 20, 50, true },	/* 60% */
		{ 10, 0, 20, 50, false },	/* 50%: not over */
		{ 11, 0, 20, 50, true },	/* 55% */
		{ 6, 5, 20, 50, true },		/* both sides add up */
		{ 0, 11, 20, 50, true },	/* files to the trash */
		{ 12, 0, 12, 50, true },	/* all of them */
		{ 3, 0, 12, 20, true },		/* 25% over 20% */
		{ 2, 0, 12, 20, false },	/* 16% */
		{ 1, 0, 10, 0, true },		/* 0: any delete trips */
		{ 0, 0, 10, 0, false },
		{ 0, 0, 1000, 50, false },
		{ 501, 0, 1000, 50, true },
		{ 500, 0, 1000, 50, false },
	};

	(void)state;
	run(cases, sizeof(cases) / sizeof(cases[0]));
}

/* "when it has at least 10": smaller collections are never guarded. */
static void
test_4_15_guard_spares_collections_under_10(void **state)
{
	static const struct guard_case cases[] = {
		{ 9, 0, 9, 50, false },
		{ 5, 4, 9, 50, false },
		{ 1, 0, 1, 0, false },
		{ 0, 0, 0, 50, false },
		{ 6, 0, 10, 50, true },		/* 10 is guarded */
		{ 7, 0, 12, 50, true },		/* fewer than 10 deletes */
		{ 5, 0, 10, 50, false },
	};

	(void)state;
	run(cases, sizeof(cases) / sizeof(cases[0]));
}

/* --max-delete 100 lets it through. */
static void
test_4_15_guard_max_delete_100_lets_all_through(void **state)
{
	static const struct guard_case cases[] = {
		{ 20, 0, 20, 100, false },
		{ 10, 10, 20, 100, false },
		{ 100000, 0, 100000, 100, false },
		{ 20, 0, 20, 99, true },
	};

	(void)state;
	run(cases, sizeof(cases) / sizeof(cases[0]));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_15_guard_trips_over_max_delete_percent),
	cmocka_unit_test(test_4_15_guard_spares_collections_under_10),
	cmocka_unit_test(test_4_15_guard_max_delete_100_lets_all_through),
};

ES_TEST_MAIN(tests)
