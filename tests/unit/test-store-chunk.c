/*
 * The chunk rule of the store's bulk writes (es_store_chunk_next, issue 19
 * item 8): pure, so a table of (chunk, time taken, target, ceiling).
 */
#include "es-test.h"

#include <stdint.h>

#include "execsync/store.h"

static void
test_store_chunk_next_table(void **state)
{
	static const struct {
		size_t		 n;
		uint64_t	 elapsed, target;
		size_t		 max, want;
		const char	*why;
	} cases[] = {
		/* On target: the same size. */
		{ 32, 2500, 2500, 50, 32, "on target" },
		/* Twice too slow: half; four times: a quarter. */
		{ 32, 5000, 2500, 50, 16, "twice the target" },
		{ 32, 10000, 2500, 50, 8, "at the timeout" },
		{ 32, 12000, 2500, 50, 6, "past the timeout" },
		/* Twice too fast: twice, up to the ceiling. */
		{ 16, 1250, 2500, 50, 32, "half the target" },
		{ 32, 1250, 2500, 50, 50, "capped by max" },
		{ 100, 50, 2500, 1000, 400, "grows at most 4 times" },
		{ 1000, 50, 2500, 1000, 1000, "stays at max" },
		/* A chunk that took no measurable time: 4 times. */
		{ 8, 0, 2500, 1000, 32, "zero elapsed" },
		/* Never below one, however slow. */
		{ 1, 10000, 2500, 50, 1, "one, timed out" },
		{ 3, 300000, 75, 50, 1, "three, far too slow" },
		/* The 300 ms socket timeout of the sync test (target 75). */
		{ 32, 130, 75, 50, 18, "small timeout" },
		/* Degenerate input. */
		{ 0, 10, 10, 50, 1, "n 0 counts as 1" },
		{ 10, 10, 10, 0, 1, "max 0 counts as 1" },
		{ 10, 1, UINT64_MAX, 50, 40, "huge target" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = es_store_chunk_next(cases[i].n, cases[i].elapsed,
		    cases[i].target, cases[i].max);

		if (got != cases[i].want)
			fail_msg("%s: es_store_chunk_next(%zu, %llu, %llu, "
			    "%zu) = %zu, want %zu", cases[i].why, cases[i].n,
			    (unsigned long long)cases[i].elapsed,
			    (unsigned long long)cases[i].target, cases[i].max,
			    got, cases[i].want);
	}
}

/* From any start, a steady per-write cost settles near the target. */
static void
test_store_chunk_next_converges(void **state)
{
	static const uint64_t cost_us[] = { 100, 4400, 8000, 77000 };

	(void)state;
	for (size_t c = 0; c < sizeof(cost_us) / sizeof(cost_us[0]); c++) {
		size_t n = ES_STORE_CAS_CHUNK_START;

		for (int round = 0; round < 10; round++)
			n = es_store_chunk_next(n, n * cost_us[c] / 1000, 2500,
			    1000);
		/* Within one write of target / cost, or at the ceiling. */
		if (n * cost_us[c] > 2500 * 1000 + cost_us[c] ||
		    (n < 1000 && (n + 1) * cost_us[c] < 2500 * 1000 -
		    cost_us[c]))
			fail_msg("cost %llu us: settled at %zu",
			    (unsigned long long)cost_us[c], n);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_store_chunk_next_table),
	cmocka_unit_test(test_store_chunk_next_converges),
};

ES_TEST_MAIN(tests)
