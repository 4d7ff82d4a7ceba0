/*
 * SPEC 4.1 with a quiet database (es_trigger.db_quiet, issue 16 item 2):
 * which documents a pass reads when a change source watches the
 * database (es_read_mode(), rules.h).
 */
#include <stdbool.h>
#include <stdio.h>

#include "es-test.h"

#include "execsync/rules.h"

#define NOW	INT64_C(1800000000000)
#define MIN	INT64_C(60000)

static struct es_read_input
synced_quiet(void)
{
	struct es_read_input in = {
		.base_empty = false, .ignore_base = false, .force = false,
		.full = false, .last_full_ms = NOW - MIN, .full_pass_s = 600,
		.now_ms = NOW,
		.watermark_ms = { NOW - MIN, NOW - MIN, NOW - MIN },
		.quiet = true,
	};

	return in;
}

/*
 * Quiet: no since-query and no periodic full read, but the full reads a
 * pass needs for its own sake stay; a collection read in full is not
 * by_id.
 */
static void
test_4_1_quiet_reads_by_id(void **state)
{
	enum { QUIET, LAST_FULL_OLD, NO_PERIOD, BASE_EMPTY, RESYNC, FORCE,
		OPT_FULL, NO_LAST_FULL, NO_WM_PROJECTS, NO_WM_ACTIONS,
		NOT_QUIET, NOT_QUIET_OLD };
	static const struct {
		int	 what;
		bool	 full, full_actions, by_id, by_id_actions;
	} cases[] = {
		{ QUIET, false, false, true, true },
		{ LAST_FULL_OLD, false, false, true, true },	/* not due */
		{ NO_PERIOD, false, false, true, true },
		{ BASE_EMPTY, true, true, false, false },	/* needed */
		{ RESYNC, true, true, false, false },
		{ FORCE, true, true, false, false },
		{ OPT_FULL, true, true, false, false },
		{ NO_LAST_FULL, true, true, false, false },	/* full_next */
		{ NO_WM_PROJECTS, true, true, false, false },
		{ NO_WM_ACTIONS, false, true, true, false },	/* actions */
		{ NOT_QUIET, false, false, false, false },	/* since */
		{ NOT_QUIET_OLD, true, true, false, false },	/* periodic */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_read_input in = synced_quiet();
		struct es_read_mode m;

		switch (cases[i].what) {
		case LAST_FULL_OLD: in.last_full_ms = NOW - 601 * 1000; break;
		case NO_PERIOD: in.full_pass_s = 0; break;
		case BASE_EMPTY: in.base_empty = true; break;
		case RESYNC: in.ignore_base = true; break;
		case FORCE: in.force = true; break;
		case OPT_FULL: in.full = true; break;
		case NO_LAST_FULL: in.last_full_ms = -1; break;
		case NO_WM_PROJECTS:
			in.watermark_ms[ES_READ_PROJECTS] = -1;
			break;
		case NO_WM_ACTIONS:
			in.watermark_ms[ES_READ_ACTIONS] = -1;
			break;
		case NOT_QUIET: in.quiet = false; break;
		case NOT_QUIET_OLD:
			in.quiet = false;
			in.last_full_ms = NOW - 601 * 1000;
			break;
		default: break;
		}
		es_read_mode(&in, &m);
		if (m.full != cases[i].full ||
		    m.full_actions != cases[i].full_actions ||
		    m.by_id[ES_READ_PROJECTS] != cases[i].by_id ||
		    m.by_id[ES_READ_GOALS] != cases[i].by_id ||
		    m.by_id[ES_READ_ACTIONS] != cases[i].by_id_actions)
			fail_msg("case %zu: full %d/%d by_id %d/%d/%d, want "
			    "%d/%d by_id %d/%d", i, m.full, m.full_actions,
			    m.by_id[0], m.by_id[1], m.by_id[2], cases[i].full,
			    cases[i].full_actions, cases[i].by_id,
			    cases[i].by_id_actions);
		/* A full read is never by_id, and the reverse. */
		assert_true((m.since[ES_READ_PROJECTS] == -1) == m.full);
		assert_true((m.since[ES_READ_ACTIONS] == -1) ==
		    m.full_actions);
	}
}

/*
 * A quiet pass records no full read (last_full_pass_ms stays), but a
 * request for one (a slug clash) is kept: the next pass, quiet or not,
 * reads all.
 */
static void
test_4_1_quiet_last_full(void **state)
{
	struct es_read_input in = synced_quiet();
	struct es_read_mode m;
	int64_t v = 42;

	(void)state;
	in.last_full_ms = NOW - 601 * 1000;
	es_read_mode(&in, &m);
	assert_false(m.full);
	assert_false(es_read_last_full(m.full, false, NOW, &v));
	assert_int_equal(v, NOW);	/* computed, not recorded */
	/* The ordinary pass after it does the periodic read. */
	in.quiet = false;
	es_read_mode(&in, &m);
	assert_true(m.full);
	assert_true(es_read_last_full(false, true, NOW, &v));
	assert_int_equal(v, -1);
	in.quiet = true;
	in.last_full_ms = v;
	es_read_mode(&in, &m);
	assert_true(m.full);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_1_quiet_reads_by_id),
	cmocka_unit_test(test_4_1_quiet_last_full),
};

ES_TEST_MAIN(tests)
