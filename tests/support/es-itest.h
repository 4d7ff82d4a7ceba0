/*
 * Shared by the integration test programs (tests/integration/test-*.c, each
 * compiled with es-itest.c). They run against a real server: the private
 * FerretDB of the CTest fixture "ferretdb", or EXECSYNC_TEST_MONGODB_URI.
 *
 * Rules every case follows:
 *  - its own database (es_itest_dbname()), dropped at the end, so cases run
 *    in parallel and leave nothing behind;
 *  - the API is played by the API peer (tests/api-peer/peer.js, the official
 *    Node.js driver), run as a process per command; its output is canonical
 *    Extended JSON, which bson_init_from_json() reads with exact types;
 *  - wait on conditions with a bound, never sleep for a guess.
 *
 * Every helper fails the running cmocka test (fail_msg) on an unexpected
 * error, so callers need no error paths of their own. End a program with
 *	ES_ITEST_MAIN(tests)
 * which calls es_store_global_init()/es_store_global_cleanup() around the
 * group and, like ES_TEST_MAIN, runs only the case named by argv[1].
 */
#ifndef ES_ITEST_H
#define ES_ITEST_H

#include "es-test.h"

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>
#include <jansson.h>

#include "execsync/buf.h"
#include "execsync/store.h"

/*
 * One case's world: the server URI, a database of its own, a user id and an
 * open store on them (timeout 5000 ms).
 */
struct es_itest {
	char		*uri;
	char		*db;
	const char	*user;
	struct es_store	*store;
};

/* Fills t for the case tag (short, [a-z0-9_]: it goes into the db name). */
void	es_itest_begin(struct es_itest *t, const char *tag);
/* Drops t's database, frees the store and the strings. */
void	es_itest_end(struct es_itest *t);

/*
 * The server's URI: EXECSYNC_TEST_MONGODB_URI, else the first line of
 * $ES_BINARY_DIR/ferretdb-test/uri (written by the fixture). malloc'd.
 */
char	*es_itest_uri(void);
/* "es_t_<tag>_<pid>", malloc'd. */
char	*es_itest_dbname(const char *tag);
/* Drops database db on uri (through its own client). */
void	es_itest_drop_db(const char *uri, const char *db);

/* A fresh directory under $TMPDIR (or /tmp), malloc'd; remove with rm_rf. */
char	*es_itest_tmpdir(const char *tag);
void	es_itest_rm_rf(const char *path);

/* CLOCK_MONOTONIC in ms, for bounds on how long something took. */
int64_t	es_itest_mono_ms(void);
/* CLOCK_REALTIME in ms: the "now" of updated_at values we write. */
int64_t	es_itest_now_ms(void);

/*
 * Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, stdout
 * into out and stderr into errout (either may be NULL: discarded), killing
 * it after timeout_s. Returns its exit status, or 128 + signal.
 */
int	es_itest_run(char *const argv[], struct es_buf *out,
	    struct es_buf *errout, unsigned timeout_s);

/*
 * Runs the API peer:
 *	node $ES_SOURCE_DIR/tests/api-peer/peer.js --uri URI --db DB --user USER
 *	    [--clock-offset-ms N] CMD JSON
 * Returns its exit status; out and errout as for es_itest_run().
 */
int	es_itest_peer_run(const struct es_itest *t, int64_t clock_offset_ms,
	    const char *cmd, const char *json, struct es_buf *out,
	    struct es_buf *errout);

/*
 * Runs the peer as t->user, fails the test unless it exits 0, and parses
 * its line of canonical EJSON into doc (initialised by the call: destroy
 * it). Returns false, doc initialised empty, when it printed `null`.
 */
bool	es_itest_peer(const struct es_itest *t, const char *cmd,
	    const char *json, bson_t *doc);
/* The same with the API's clock offset by clock_offset_ms. */
bool	es_itest_peer_clock(const struct es_itest *t, int64_t clock_offset_ms,
	    const char *cmd, const char *json, bson_t *doc);

/* Field helpers over a parsed document: fail the test when absent or of
 * another type. */
const char *es_itest_str(const bson_t *doc, const char *key);
int64_t	es_itest_date(const bson_t *doc, const char *key);
void	es_itest_oid(const bson_t *doc, const char *key, bson_oid_t *out);
/* The type of key (dot notation allowed), BSON_TYPE_EOD when absent. */
bson_type_t es_itest_type(const bson_t *doc, const char *key);
/* "YYYY-MM-DD" to ms at 00:00 UTC; fails the test on a bad date. */
int64_t	es_itest_day_ms(const char *ymd);

/*
 * The integer kind.field of a program's --json summary (execsync-migrate's
 * {"projects": {"inserted": 3, ...}, ...}); fails the test when absent.
 */
size_t	jcount(const json_t *j, const char *kind, const char *field);

int	es_itest_group_setup(void **state);
int	es_itest_group_teardown(void **state);

#define ES_ITEST_MAIN(tests)						\
int									\
main(int argc, char **argv)						\
{									\
	if (argc > 1)							\
		cmocka_set_test_filter(argv[1]);			\
	return cmocka_run_group_tests(tests, es_itest_group_setup,	\
	    es_itest_group_teardown);					\
}

#endif
