/*
 * SPEC 4.12: what a document write sets and expects: es_version_next(),
 * es_version_write(), es_version_baseline() (rules.h).
 */
#include <stdbool.h>
#include <stdio.h>

#include "es-test.h"

#include "execsync/rules.h"

#define NOW	INT64_C(1800000000000)

/* Later than the version read, whichever clock is ahead. */
static void
test_4_12_version_next_is_past_read(void **state)
{
	static const struct {
		int64_t	 read, now, want;
	} cases[] = {
		{ NOW - 1000, NOW, NOW },	/* our clock ahead: now */
		{ NOW, NOW, NOW + 1 },		/* same ms: one past */
		{ NOW + 5000, NOW, NOW + 5001 },	/* API ahead */
		{ 0, NOW, NOW },		/* nothing read */
		{ INT64_MAX, NOW, INT64_MAX },	/* no overflow */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = es_version_next(cases[i].read, cases[i].now);

		if (got != cases[i].want)
			fail_msg("case %zu: %lld, want %lld", i,
			    (long long)got, (long long)cases[i].want);
		if (cases[i].read < INT64_MAX)
			assert_true(got > cases[i].read);
	}
}

/* Compare-and-swap on the version read; deleted_at only on a delete. */
static void
test_4_12_write_versions_by_kind(void **state)
{
	static const struct {
		enum es_write_kind	 k;
		int64_t			 read;
		struct es_write_version	 want;
	} cases[] = {
		{ ES_WRITE_INSERT, 0,
		    { false, 0, NOW, NOW, false, 0 } },
		{ ES_WRITE_UPDATE, NOW - 7,
		    { true, NOW - 7, NOW, 0, false, 0 } },
		{ ES_WRITE_UPDATE, NOW + 7,
		    { true, NOW + 7, NOW + 8, 0, false, 0 } },
		{ ES_WRITE_DELETE, NOW - 7,
		    { true, NOW - 7, NOW, 0, true, NOW } },
		{ ES_WRITE_DELETE, NOW,
		    { true, NOW, NOW + 1, 0, true, NOW } },
		{ ES_WRITE_UNDELETE, NOW - 7,
		    { true, NOW - 7, NOW, 0, false, 0 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_write_version v;
		const struct es_write_version *w = &cases[i].want;

		es_version_write(cases[i].k, cases[i].read, NOW, &v);
		if (v.cas != w->cas || (v.cas && v.expect != w->expect) ||
		    v.updated_at != w->updated_at ||
		    v.created_at != w->created_at ||
		    v.deleted != w->deleted || v.deleted_at != w->deleted_at)
			fail_msg("case %zu: cas %d expect %lld updated_at %lld "
			    "created_at %lld deleted %d deleted_at %lld", i,
			    v.cas, (long long)v.expect,
			    (long long)v.updated_at, (long long)v.created_at,
			    v.deleted, (long long)v.deleted_at);
	}
}

/* The baseline remembers the version our landed write set, else the read. */
static void
test_4_12_baseline_records_written_version(void **state)
{
	(void)state;
	assert_int_equal(es_version_baseline(true, NOW + 1, NOW), NOW + 1);
	assert_int_equal(es_version_baseline(false, NOW + 1, NOW), NOW);
	assert_int_equal(es_version_baseline(false, 0, NOW - 3), NOW - 3);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_12_version_next_is_past_read),
	cmocka_unit_test(test_4_12_write_versions_by_kind),
	cmocka_unit_test(test_4_12_baseline_records_written_version),
};

ES_TEST_MAIN(tests)
