/* Strict YYYY-MM-DD dates (SPEC §2: "Dates are YYYY-MM-DD"). */
#include "es-test.h"

#include "execsync/date.h"

static void
test_date_parse_table(void **state)
{
	static const struct {
		const char	*in;
		bool		 ok;
		int		 y, m, d;
	} cases[] = {
		{ "2025-11-09", true, 2025, 11, 9 },
		{ "1970-01-01", true, 1970, 1, 1 },
		{ "2024-02-29", true, 2024, 2, 29 },
		{ "2000-02-29", true, 2000, 2, 29 },
		{ "1900-02-29", false, 0, 0, 0 },
		{ "2025-02-29", false, 0, 0, 0 },
		{ "2025-13-01", false, 0, 0, 0 },
		{ "2025-00-10", false, 0, 0, 0 },
		{ "2025-04-31", false, 0, 0, 0 },
		{ "2025-1-01", false, 0, 0, 0 },
		{ "2025-01-01T00:00:00", false, 0, 0, 0 },
		{ "0000-01-01", false, 0, 0, 0 },
		{ "9999-12-31", true, 9999, 12, 31 },
		{ "2025/01/01", false, 0, 0, 0 },
		{ "20a5-01-01", false, 0, 0, 0 },
		{ "", false, 0, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		es_date_t d = 12345;
		bool ok = es_date_parse(cases[i].in, strlen(cases[i].in), &d);
		char out[ES_DATE_BUFSZ];

		if (ok != cases[i].ok)
			fail_msg("'%s': want ok=%d", cases[i].in, cases[i].ok);
		if (!ok) {
			assert_int_equal(d, 12345);
			continue;
		}
		int y, m, dd;
		es_date_to_ymd(d, &y, &m, &dd);
		assert_int_equal(y, cases[i].y);
		assert_int_equal(m, cases[i].m);
		assert_int_equal(dd, cases[i].d);
		es_date_format(d, out);
		assert_string_equal(out, cases[i].in);
	}
}

static void
test_date_ms_round_trip(void **state)
{
	es_date_t d;

	(void)state;
	assert_true(es_date_parse("2025-11-09", 10, &d));
	assert_int_equal(es_date_to_ms(d), 1762646400000LL);
	assert_int_equal(es_date_from_ms(1762646400000LL), d);
	assert_int_equal(es_date_from_ms(1762646400000LL + 86399999), d);
	/* Before the epoch, flooring (not truncating towards zero). */
	assert_int_equal(es_date_from_ms(-1), -1);
	assert_int_equal(es_date_from_ms(-ES_MS_PER_DAY), -1);
	/* Every day of four centuries formats and parses back to itself. */
	for (es_date_t x = es_date_from_ymd(1900, 1, 1);
	    x < es_date_from_ymd(2300, 1, 1); x++) {
		char s[ES_DATE_BUFSZ];
		es_date_t y;

		es_date_format(x, s);
		assert_true(es_date_parse(s, 10, &y));
		assert_int_equal(x, y);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_date_parse_table),
	cmocka_unit_test(test_date_ms_round_trip),
};

ES_TEST_MAIN(tests)
