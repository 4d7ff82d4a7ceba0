/*
 * Shared by the cmocka test programs (tests/support/, library
 * es-test-support). Every program ends with
 *	ES_TEST_MAIN(tests)
 * which runs all its cases, or only the one named by argv[1]: CTest registers
 * each case separately (tests/CMakeLists.txt scans the source for
 * cmocka_unit_test(...)), so a failure names its case.
 */
#ifndef ES_TEST_H
#define ES_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "execsync/date.h"

#define ES_TEST_MAIN(tests)						\
int									\
main(int argc, char **argv)						\
{									\
	if (argc > 1)							\
		cmocka_set_test_filter(argv[1]);			\
	return cmocka_run_group_tests(tests, NULL, NULL);		\
}

/* Byte-exact comparison with a readable failure. */
#define assert_bytes_equal(got, got_len, want, want_len) do {		\
	size_t gl_ = (got_len), wl_ = (want_len);			\
	if (gl_ != wl_ || memcmp((got), (want), gl_) != 0) {		\
		print_error("want (%zu bytes):\n%.*s\n---\ngot (%zu bytes):\n%.*s\n", \
		    wl_, (int)wl_, (const char *)(want), gl_, (int)gl_,	\
		    (const char *)(got));				\
		fail();							\
	}								\
} while (0)

/* A test's "YYYY-MM-DD" as a date; fails the test on a bad one. */
es_date_t es_test_day(const char *ymd);

/*
 * Removes path and everything under it, never following a link; folders
 * made unreadable by a case are opened again first. A missing path or entry
 * is not an error. Returns 0, or -1 when something could not be removed.
 */
int	es_test_rm_tree(const char *path);

#endif
