/*
 * SPEC 4.1: full read or since-query, and the watermark: es_read_mode(),
 * es_read_since(), es_watermark_next(), es_read_last_full(),
 * es_read_unseen_is_base() (rules.h).
 */
#include <stdbool.h>
#include <stdio.h>

#include "es-test.h"

#include "execsync/rules.h"

#define NOW	INT64_C(1800000000000)
#define MIN	INT64_C(60000)

static struct es_read_input
synced(void)
{
	struct es_read_input in = {
		.base_empty = false, .ignore_base = false, .force = false,
		.full = false, .last_full_ms = NOW - MIN, .full_pass_s = 600,
		.now_ms = NOW,
		.watermark_ms = { NOW - MIN, NOW - MIN, NOW - MIN },
	};

	return in;
}

/* Which passes read everything, per collection. */
static void
test_4_1_full_read_when(void **state)
{
	enum { BASE_EMPTY, RESYNC, FORCE, OPT_FULL, NO_LAST_FULL,
		LAST_FULL_OLD, LAST_FULL_FRESH, NO_PERIOD, NO_WM_PROJECTS,
		NO_WM_GOALS, NO_WM_ACTIONS, SINCE };
	static const struct {
		int	 what;
		bool	 full, full_actions;
	} cases[] = {
		{ BASE_EMPTY, true, true },	/* first pass */
		{ RESYNC, true, true },		/* --resync, other identity */
		{ FORCE, true, true },
		{ OPT_FULL, true, true },
		{ NO_LAST_FULL, true, true },
		{ LAST_FULL_OLD, true, true },	/* full_pass_s passed */
		{ LAST_FULL_FRESH, false, false },
		{ NO_PERIOD, false, false },	/* full_pass_s 0 */
		{ NO_WM_PROJECTS, true, true },
		{ NO_WM_GOALS, true, true },
		{ NO_WM_ACTIONS, false, true },	/* actions alone */
		{ SINCE, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_read_input in = synced();
		struct es_read_mode m;

		switch (cases[i].what) {
		case BASE_EMPTY: in.base_empty = true; break;
		case RESYNC: in.ignore_base = true; break;
		case FORCE: in.force = true; break;
		case OPT_FULL: in.full = true; break;
		case NO_LAST_FULL: in.last_full_ms = -1; break;
		case LAST_FULL_OLD: in.last_full_ms = NOW - 600 * 1000; break;
		case LAST_FULL_FRESH:
			in.last_full_ms = NOW - 600 * 1000 + 1;
			break;
		case NO_PERIOD:
			in.full_pass_s = 0;
			in.last_full_ms = 0;
			break;
		case NO_WM_PROJECTS:
			in.watermark_ms[ES_READ_PROJECTS] = -1;
			break;
		case NO_WM_GOALS: in.watermark_ms[ES_READ_GOALS] = -1; break;
		case NO_WM_ACTIONS:
			in.watermark_ms[ES_READ_ACTIONS] = -1;
			break;
		default: break;
		}
		es_read_mode(&in, &m);
		if (m.full != cases[i].full ||
		    m.full_actions != cases[i].full_actions)
			fail_msg("case %zu: full %d/%d, want %d/%d", i, m.full,
			    m.full_actions, cases[i].full,
			    cases[i].full_actions);
		/* A full read asks for everything (since -1). */
		assert_true((m.since[ES_READ_PROJECTS] == -1) == m.full);
		assert_true((m.since[ES_READ_GOALS] == -1) == m.full);
		assert_true((m.since[ES_READ_ACTIONS] == -1) ==
		    m.full_actions);
	}
}

/* The since-query: the watermark minus the lookback, never below 0. */
static void
test_4_1_since_is_watermark_minus_lookback(void **state)
{
	static const struct {
		int64_t	 wm, since;
	} cases[] = {
		{ NOW, NOW - ES_LOOKBACK_MS },
		{ ES_LOOKBACK_MS, 0 },
		{ ES_LOOKBACK_MS + 1, 1 },
		{ ES_LOOKBACK_MS - 1, 0 },
		{ 0, 0 },
	};
	struct es_read_input in = synced();
	struct es_read_mode m;

	(void)state;
	assert_int_equal(ES_LOOKBACK_MS, 10 * MIN);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_read_since(cases[i].wm) != cases[i].since)
			fail_msg("case %zu: since %lld, want %lld", i,
			    (long long)es_read_since(cases[i].wm),
			    (long long)cases[i].since);
	in.watermark_ms[ES_READ_GOALS] = NOW - 3 * MIN;
	es_read_mode(&in, &m);
	assert_int_equal(m.since[ES_READ_PROJECTS], NOW - MIN -
	    ES_LOOKBACK_MS);
	assert_int_equal(m.since[ES_READ_GOALS], NOW - 3 * MIN -
	    ES_LOOKBACK_MS);
	assert_int_equal(m.since[ES_READ_ACTIONS], NOW - MIN -
	    ES_LOOKBACK_MS);
}

/* After a pass: max(newest seen, now), at most now + 5 min, never < 0. */
static void
test_4_1_watermark_after_pass(void **state)
{
	static const struct {
		int64_t	 maxseen, now, want;
	} cases[] = {
		{ NOW - MIN, NOW, NOW },		/* quiet: our clock */
		{ -1, NOW, NOW },			/* none seen */
		{ NOW + MIN, NOW, NOW + MIN },		/* API a bit ahead */
		{ NOW + ES_WATERMARK_AHEAD_MS, NOW,
		    NOW + ES_WATERMARK_AHEAD_MS },
		{ NOW + 7 * MIN, NOW, NOW + ES_WATERMARK_AHEAD_MS },
		{ NOW + 60 * MIN, NOW, NOW + ES_WATERMARK_AHEAD_MS },
		{ -1, -ES_WATERMARK_AHEAD_MS - 1, 0 },	/* never < 0 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = es_watermark_next(cases[i].maxseen,
		    cases[i].now);

		if (got != cases[i].want)
			fail_msg("case %zu: %lld, want %lld", i,
			    (long long)got, (long long)cases[i].want);
	}
}

/*
 * last_full_pass_ms after a pass: now after a full read; "none" when the
 * next pass must read all, which a full_pass_s of 0 must not cancel.
 */
static void
test_4_1_last_full_recorded(void **state)
{
	struct es_read_input in = synced();
	struct es_read_mode m;
	int64_t v = 42;

	(void)state;
	assert_false(es_read_last_full(false, false, NOW, &v));
	assert_true(es_read_last_full(true, false, NOW, &v));
	assert_int_equal(v, NOW);
	assert_true(es_read_last_full(false, true, NOW, &v));
	in.last_full_ms = v;
	in.full_pass_s = 0;
	es_read_mode(&in, &m);
	assert_true(m.full);
	assert_true(es_read_last_full(true, true, NOW, &v));
	in.last_full_ms = v;
	in.full_pass_s = 600;
	es_read_mode(&in, &m);
	assert_true(m.full);
}

/* A document a since-query did not return is the baseline's version. */
static void
test_4_1_unseen_document_is_base(void **state)
{
	static const struct {
		bool	 full, has_base, db_seen, want;
	} cases[] = {
		{ false, true, false, true },
		{ true, true, false, false },	/* full: hard-deleted */
		{ false, true, true, false },	/* returned: its own */
		{ false, false, false, false },	/* no baseline row */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_read_unseen_is_base(cases[i].full, cases[i].has_base,
		    cases[i].db_seen) != cases[i].want)
			fail_msg("case %zu", i);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_1_full_read_when),
	cmocka_unit_test(test_4_1_since_is_watermark_minus_lookback),
	cmocka_unit_test(test_4_1_watermark_after_pass),
	cmocka_unit_test(test_4_1_last_full_recorded),
	cmocka_unit_test(test_4_1_unseen_document_is_base),
};

ES_TEST_MAIN(tests)
