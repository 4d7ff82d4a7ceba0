/*
 * The change sources (changes.h, issue 16 item 3) against real servers:
 * the fixture's FerretDB has the OpLog; an API change (the API peer, the
 * official Node driver) arrives as an event carrying the whole document,
 * our user's only; more writes than the OpLog holds between two reads are
 * a gap; no capped local.oplog.rs means polling.
 *
 * local.oplog.rs is one per server and the fixture's is shared by every
 * test running in parallel (hundreds of writes a second: its 100 entries
 * would roll over between two of our reads), so the cases that count
 * entries or drop the OpLog start a FerretDB of their own with the same
 * fixture script. The change-stream cases need a replica set: they run
 * when EXECSYNC_TEST_MONGODB_URI names one, and skip otherwise.
 */
#include "es-itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "execsync/changes.h"
#include "execsync/xmalloc.h"

#define WAIT_MS		15000

static bool
shared_server(void)
{
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");

	return env != NULL && env[0] != '\0';
}

/* A FerretDB of the case's own (with the fixture's OpLog); t on it. */
static char *
own_server(struct es_itest *t, const char *tag)
{
	const char *src = getenv("ES_SOURCE_DIR");
	struct es_buf why = ES_BUF_INIT;
	struct es_error err;
	char *dir, *fixture, *path, line[1024];
	FILE *f;
	int rc = -1;

	if (src == NULL)
		fail_msg("ES_SOURCE_DIR is not set (run through ctest)");
	dir = es_itest_tmpdir(tag);
	fixture = es_xasprintf("%s/tests/ferretdb-fixture", src);
	{
		char *argv[] = { fixture, (char *)"start", dir, NULL };

		for (int i = 0; i < 3 && rc != 0; i++) {
			es_buf_reset(&why);
			rc = es_itest_run(argv, NULL, &why, 60);
		}
	}
	if (rc != 0)
		fail_msg("cannot start a FerretDB of its own: %s", why.buf);
	es_buf_release(&why);
	free(fixture);
	path = es_xasprintf("%s/uri", dir);
	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line), f) ==
	    NULL)
		fail_msg("%s: no uri", path);
	fclose(f);
	free(path);
	line[strcspn(line, "\n")] = '\0';
	t->uri = es_xstrdup(line);
	t->db = es_itest_dbname(tag);
	t->user = "ana";
	if ((t->store = es_store_open(t->uri, t->db, 5000, &err)) == NULL)
		fail_msg("es_store_open: %s", err.msg);
	return dir;
}

static void
own_server_stop(struct es_itest *t, char *dir)
{
	char *fixture = es_xasprintf("%s/tests/ferretdb-fixture",
	    getenv("ES_SOURCE_DIR"));
	char *argv[] = { fixture, (char *)"stop", dir, NULL };

	es_itest_end(t);
	es_itest_run(argv, NULL, NULL, 60);
	free(fixture);
	free(dir);
}

/* One command on database db of uri; fails the test on an error. */
static void
command(const char *uri, const char *db, const char *json)
{
	mongoc_client_t *c = mongoc_client_new(uri);
	bson_t cmd, reply;
	bson_error_t be;

	if (c == NULL || !bson_init_from_json(&cmd, json, -1, &be))
		fail_msg("command %s: bad uri or json", json);
	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	if (!mongoc_client_command_simple(c, db, &cmd, NULL, &reply, &be))
		fail_msg("command %s: %s", json, be.message);
	bson_destroy(&reply);
	bson_destroy(&cmd);
	mongoc_client_destroy(c);
}

static struct es_changes *
open_changes(const struct es_itest *t, const char *token)
{
	struct es_changes *c;
	struct es_error err;
	char buf[1024];

	if ((c = es_changes_open(t->uri, t->db, t->user, token, &err)) ==
	    NULL)
		fail_msg("es_changes_open: %s",
		    es_error_format(&err, buf, sizeof(buf)));
	return c;
}

static const struct es_change_event *
find_event(const struct es_change_batch *b, const bson_oid_t *id,
    bool deleted)
{
	for (size_t i = 0; i < b->n; i++)
		if (bson_oid_equal(&b->ev[i].id, id) &&
		    b->ev[i].deleted == deleted)
			return &b->ev[i];
	return NULL;
}

/* Reads c into all until an event of id (deleted or not) is there. */
static const struct es_change_event *
wait_event(struct es_changes *c, struct es_change_batch *all,
    const bson_oid_t *id, bool deleted)
{
	int64_t deadline = es_itest_mono_ms() + WAIT_MS;
	const struct es_change_event *ev;
	struct es_error err;
	char buf[1024], hex[25];

	while ((ev = find_event(all, id, deleted)) == NULL) {
		if (es_itest_mono_ms() > deadline) {
			bson_oid_to_string(id, hex);
			fail_msg("no %s event of %s within %d ms (%zu events, "
			    "gap %d)", deleted ? "delete" : "change", hex,
			    WAIT_MS, all->n, (int)all->gap);
		}
		if (es_changes_next(c, 1000, all, &err) == ES_CHANGES_ERROR)
			fail_msg("es_changes_next: %s",
			    es_error_format(&err, buf, sizeof(buf)));
	}
	return ev;
}

/* One read of c (after its tick) into a fresh out. */
static enum es_changes_status
read_once(struct es_changes *c, struct es_change_batch *out)
{
	enum es_changes_status st;
	struct es_error err;
	char buf[1024];

	es_change_batch_reset(out);
	st = es_changes_next(c, 2000, out, &err);
	if (st == ES_CHANGES_ERROR)
		fail_msg("es_changes_next: %s",
		    es_error_format(&err, buf, sizeof(buf)));
	return st;
}

/* n projects of t's user, straight into the database. */
static void
insert_projects(struct es_itest *t, int n)
{
	struct es_error err;

	for (int i = 0; i < n; i++) {
		bson_t doc = BSON_INITIALIZER;
		bson_oid_t id;
		char title[32];

		bson_oid_init(&id, NULL);
		snprintf(title, sizeof(title), "p%d", i);
		BSON_APPEND_OID(&doc, "_id", &id);
		BSON_APPEND_UTF8(&doc, "user_id", t->user);
		BSON_APPEND_UTF8(&doc, "title", title);
		if (es_store_insert(t->store, ES_KIND_PROJECT, &doc, &err) < 0)
			fail_msg("insert: %s", err.msg);
		bson_destroy(&doc);
	}
}

/* A delete as a person with a shell would do it: gone, no soft delete. */
static void
hard_delete(const struct es_itest *t, const char *coll, const bson_oid_t *id)
{
	mongoc_client_t *c = mongoc_client_new(t->uri);
	mongoc_collection_t *col;
	bson_t sel = BSON_INITIALIZER;
	bson_error_t be;

	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	col = mongoc_client_get_collection(c, t->db, coll);
	BSON_APPEND_OID(&sel, "_id", id);
	if (!mongoc_collection_delete_one(col, &sel, NULL, NULL, &be))
		fail_msg("delete: %s", be.message);
	bson_destroy(&sel);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
}

/* The fixture's server has the capped OpLog: the OpLog source. */
static void
test_changes_fixture_is_oplog(void **state)
{
	struct es_itest t;
	struct es_changes *c;
	struct es_change_batch b;

	(void)state;
	if (shared_server()) {
		print_message("skipped: EXECSYNC_TEST_MONGODB_URI is set, the "
		    "fixture's FerretDB is not in use\n");
		skip();
	}
	es_itest_begin(&t, "chfix");
	c = open_changes(&t, NULL);
	assert_string_equal(es_source_kind_name(es_changes_kind(c)), "oplog");
	assert_null(es_changes_token(c));
	es_change_batch_init(&b);
	(void)read_once(c, &b);
	/* A read of 100 entries: milliseconds, not nothing. */
	assert_true(es_changes_last_cost_ms(c) > 0);
	es_change_batch_release(&b);
	es_changes_free(c);
	es_itest_end(&t);
}

/*
 * No OpLog, or an uncapped one: poll (next says so at once); the capped
 * one created again: the OpLog.
 */
static void
test_changes_poll_without_oplog(void **state)
{
	struct es_itest t;
	struct es_changes *c;
	struct es_change_batch b;
	struct es_error err;
	int64_t t0;
	char *dir;

	(void)state;
	if (shared_server())
		skip();		/* a shared server's OpLog is not ours */
	dir = own_server(&t, "chpoll");
	es_change_batch_init(&b);

	command(t.uri, "local", "{\"drop\":\"oplog.rs\"}");
	c = open_changes(&t, NULL);
	assert_int_equal(es_changes_kind(c), ES_SOURCE_POLL);
	t0 = es_itest_mono_ms();
	assert_int_equal(es_changes_next(c, 5000, &b, &err),
	    ES_CHANGES_POLL);
	assert_true(es_itest_mono_ms() - t0 < 1000);
	assert_null(es_changes_token(c));
	es_changes_free(c);

	command(t.uri, "local", "{\"create\":\"oplog.rs\"}");
	c = open_changes(&t, NULL);
	assert_int_equal(es_changes_kind(c), ES_SOURCE_POLL);
	es_changes_free(c);

	command(t.uri, "local", "{\"drop\":\"oplog.rs\"}");
	command(t.uri, "local", "{\"create\":\"oplog.rs\",\"capped\":true,"
	    "\"size\":1048576,\"max\":100}");
	c = open_changes(&t, NULL);
	assert_int_equal(es_changes_kind(c), ES_SOURCE_OPLOG);
	es_changes_free(c);

	es_change_batch_release(&b);
	own_server_stop(&t, dir);
}

/*
 * API changes through the peer arrive with the whole new document; another
 * user's do not; a hard delete arrives as a delete without a document.
 */
static void
test_changes_oplog_api_change(void **state)
{
	struct es_itest t, other;
	struct es_changes *c;
	struct es_change_batch all;
	const struct es_change_event *ev;
	bson_t doc;
	bson_oid_t mine, theirs;
	char *dir;

	(void)state;
	if (shared_server())
		skip();
	dir = own_server(&t, "chapi");
	other = t;
	other.user = "bob";
	es_change_batch_init(&all);
	c = open_changes(&t, NULL);
	assert_int_equal(es_changes_kind(c), ES_SOURCE_OPLOG);

	es_itest_peer(&other, "create-project", "{\"title\":\"Theirs\","
	    "\"area\":\"home\"}", &doc);
	es_itest_oid(&doc, "_id", &theirs);
	bson_destroy(&doc);
	es_itest_peer(&t, "create-project", "{\"title\":\"Paint fence\","
	    "\"area\":\"home\"}", &doc);
	es_itest_oid(&doc, "_id", &mine);
	bson_destroy(&doc);

	ev = wait_event(c, &all, &mine, false);
	assert_int_equal(ev->kind, ES_KIND_PROJECT);
	assert_non_null(ev->doc);
	assert_string_equal(es_itest_str(ev->doc, "title"), "Paint fence");
	assert_string_equal(es_itest_str(ev->doc, "user_id"), "ana");
	/* Bob's project came before ours in the OpLog: read, and dropped. */
	assert_null(find_event(&all, &theirs, false));

	es_change_batch_reset(&all);
	es_itest_peer(&t, "update-project", "{\"slug\":\"paint-fence\","
	    "\"set\":{\"content\":\"two coats\\n\"}}", &doc);
	bson_destroy(&doc);
	ev = wait_event(c, &all, &mine, false);
	assert_non_null(ev->doc);
	/* The whole document, not only what changed. */
	assert_string_equal(es_itest_str(ev->doc, "content"), "two coats\n");
	assert_string_equal(es_itest_str(ev->doc, "title"), "Paint fence");

	hard_delete(&t, "projects", &mine);
	ev = wait_event(c, &all, &mine, true);
	assert_int_equal(ev->kind, ES_KIND_PROJECT);
	assert_null(ev->doc);

	assert_false(all.gap);

	es_change_batch_release(&all);
	es_changes_free(c);
	own_server_stop(&t, dir);
}

/* The number of entries in the OpLog of t's server. */
static int64_t
oplog_count(const struct es_itest *t)
{
	mongoc_client_t *c = mongoc_client_new(t->uri);
	mongoc_collection_t *col;
	bson_t filter = BSON_INITIALIZER;
	bson_error_t be;
	int64_t n;

	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	col = mongoc_client_get_collection(c, "local", "oplog.rs");
	n = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL,
	    &be);
	if (n < 0)
		fail_msg("count: %s", be.message);
	bson_destroy(&filter);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
	return n;
}

/* Until FerretDB trimmed the OpLog to its cap (it does so lazily). */
static void
wait_trimmed(const struct es_itest *t)
{
	int64_t deadline = es_itest_mono_ms() + WAIT_MS;

	while (oplog_count(t) > 100)
		if (es_itest_mono_ms() > deadline)
			fail_msg("FerretDB did not trim its OpLog to 100 "
			    "entries within %d ms", WAIT_MS);
}

/*
 * More writes between two reads than the OpLog holds (100), once FerretDB
 * trimmed it (every 100 ms on this server), are a gap; fewer are each an
 * event. Also from an OpLog empty at open.
 */
static void
test_changes_oplog_gap(void **state)
{
	struct es_itest t;
	struct es_changes *c;
	struct es_change_batch b;
	char *dir;

	(void)state;
	if (shared_server())
		skip();
	setenv("FERRETDB_TEST_CAPPED_CLEANUP_INTERVAL", "100ms", 1);
	dir = own_server(&t, "chgap");
	es_change_batch_init(&b);
	c = open_changes(&t, NULL);	/* the OpLog is empty */
	assert_int_equal(es_changes_kind(c), ES_SOURCE_OPLOG);

	insert_projects(&t, 120);
	assert_int_equal(read_once(c, &b), ES_CHANGES_EVENTS);
	assert_true(b.gap);

	insert_projects(&t, 50);
	assert_int_equal(read_once(c, &b), ES_CHANGES_EVENTS);
	assert_false(b.gap);
	assert_int_equal(b.n, 50);

	assert_int_equal(read_once(c, &b), ES_CHANGES_NONE);
	assert_int_equal(b.n, 0);

	insert_projects(&t, 101);
	wait_trimmed(&t);
	assert_int_equal(read_once(c, &b), ES_CHANGES_EVENTS);
	assert_true(b.gap);

	insert_projects(&t, 1);
	assert_int_equal(read_once(c, &b), ES_CHANGES_EVENTS);
	assert_false(b.gap);
	assert_int_equal(b.n, 1);

	es_change_batch_release(&b);
	es_changes_free(c);
	own_server_stop(&t, dir);
}

/*
 * Exactly as many writes as the OpLog holds, the one seen included: no
 * gap, whether or not FerretDB trimmed it meanwhile.
 */
static void
test_changes_oplog_full_no_gap(void **state)
{
	struct es_itest t;
	struct es_changes *c;
	struct es_change_batch b;
	char *dir;

	(void)state;
	if (shared_server())
		skip();
	setenv("FERRETDB_TEST_CAPPED_CLEANUP_INTERVAL", "100ms", 1);
	dir = own_server(&t, "chfull");
	es_change_batch_init(&b);
	insert_projects(&t, 1);		/* the entry open starts after */
	c = open_changes(&t, NULL);
	insert_projects(&t, 99);	/* the seen one is still there */
	wait_trimmed(&t);
	assert_int_equal(read_once(c, &b), ES_CHANGES_EVENTS);
	assert_false(b.gap);
	assert_int_equal(b.n, 99);
	es_change_batch_release(&b);
	es_changes_free(c);
	own_server_stop(&t, dir);
}

/* An unreachable server: no source, ES_EDB, and no password said. */
static void
test_changes_unreachable(void **state)
{
	struct es_changes *c;
	struct es_error err;
	char buf[1024];

	(void)state;
	c = es_changes_open("mongodb://ana:s3cretpw@127.0.0.1:1/"
	    "?serverSelectionTimeoutMS=500", "db", "ana", NULL, &err);
	assert_null(c);
	es_error_format(&err, buf, sizeof(buf));
	assert_int_equal(err.code, ES_EDB);
	assert_null(strstr(buf, "s3cretpw"));
	es_changes_free(NULL);
}

/*
 * Credentials the server refuses (FerretDB without authentication refuses
 * any: SCRAM is not supported): a configuration error (SPEC §1, exit 2),
 * the password not said.
 */
static void
test_changes_refused_login(void **state)
{
	struct es_changes *c;
	struct es_error err;
	char *uri, *cred, buf[1024];
	const char *p;

	(void)state;
	if (shared_server())
		skip();		/* another server may accept them */
	uri = es_itest_uri();
	p = strstr(uri, "://");
	assert_non_null(p);
	cred = es_xasprintf("%.*s://ana:s3cretpw@%s", (int)(p - uri), uri,
	    p + 3);
	c = es_changes_open(cred, "db", "ana", NULL, &err);
	assert_null(c);
	es_error_format(&err, buf, sizeof(buf));
	print_message("%s\n", buf);
	assert_int_equal(err.code, ES_ECONFIG);
	assert_null(strstr(buf, "s3cretpw"));
	free(cred);
	free(uri);
}

/* The stream cases need a replica set in EXECSYNC_TEST_MONGODB_URI. */
static struct es_changes *
stream_or_skip(struct es_itest *t, const char *tag)
{
	struct es_changes *c;

	if (!shared_server()) {
		print_message("skipped: change streams need a replica set; "
		    "set EXECSYNC_TEST_MONGODB_URI to one\n");
		skip();
	}
	es_itest_begin(t, tag);
	c = open_changes(t, NULL);
	if (es_changes_kind(c) != ES_SOURCE_STREAM) {
		print_message("skipped: EXECSYNC_TEST_MONGODB_URI opens no "
		    "change stream (%s): not a replica set\n",
		    es_source_kind_name(es_changes_kind(c)));
		es_changes_free(c);
		es_itest_end(t);
		skip();
	}
	return c;
}

/*
 * A change stream: an API change arrives with the whole document, our
 * user's only, a delete without one; closed and reopened with the stored
 * token, a change made meanwhile arrives.
 */
static void
test_changes_stream_api_change(void **state)
{
	struct es_itest t, other;
	struct es_changes *c;
	struct es_change_batch all;
	const struct es_change_event *ev;
	bson_t doc;
	bson_oid_t mine, theirs;
	char *token;

	(void)state;
	c = stream_or_skip(&t, "chst");
	other = t;
	other.user = "bob";
	es_change_batch_init(&all);

	es_itest_peer(&other, "create-project", "{\"title\":\"Theirs\","
	    "\"area\":\"home\"}", &doc);
	es_itest_oid(&doc, "_id", &theirs);
	bson_destroy(&doc);
	es_itest_peer(&t, "create-project", "{\"title\":\"Paint fence\","
	    "\"area\":\"home\"}", &doc);
	es_itest_oid(&doc, "_id", &mine);
	bson_destroy(&doc);
	ev = wait_event(c, &all, &mine, false);
	assert_non_null(ev->doc);
	assert_string_equal(es_itest_str(ev->doc, "title"), "Paint fence");
	hard_delete(&t, "projects", &mine);
	ev = wait_event(c, &all, &mine, true);
	assert_null(ev->doc);
	assert_null(find_event(&all, &theirs, false));

	token = es_changes_token(c);
	assert_non_null(token);
	es_changes_free(c);
	es_change_batch_reset(&all);
	es_itest_peer(&t, "create-goal", "{\"title\":\"Meanwhile\","
	    "\"area\":\"home\"}", &doc);
	es_itest_oid(&doc, "_id", &mine);
	bson_destroy(&doc);
	c = open_changes(&t, token);
	assert_int_equal(es_changes_kind(c), ES_SOURCE_STREAM);
	ev = wait_event(c, &all, &mine, false);
	assert_int_equal(ev->kind, ES_KIND_GOAL);
	assert_false(all.gap);

	free(token);
	es_change_batch_release(&all);
	es_changes_free(c);
	es_itest_end(&t);
}

/* A token the server cannot resume from: a gap, then a stream from now. */
static void
test_changes_stream_bad_token(void **state)
{
	struct es_itest t;
	struct es_changes *c;
	struct es_change_batch b;

	(void)state;
	c = stream_or_skip(&t, "chtok");
	es_changes_free(c);
	c = open_changes(&t, "{\"_data\":\"00\"}");
	assert_int_equal(es_changes_kind(c), ES_SOURCE_STREAM);
	es_change_batch_init(&b);
	assert_int_equal(read_once(c, &b), ES_CHANGES_EVENTS);
	assert_true(b.gap);
	es_change_batch_release(&b);
	es_changes_free(c);
	es_itest_end(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_changes_fixture_is_oplog),
	cmocka_unit_test(test_changes_poll_without_oplog),
	cmocka_unit_test(test_changes_oplog_api_change),
	cmocka_unit_test(test_changes_oplog_gap),
	cmocka_unit_test(test_changes_oplog_full_no_gap),
	cmocka_unit_test(test_changes_unreachable),
	cmocka_unit_test(test_changes_refused_login),
	cmocka_unit_test(test_changes_stream_api_change),
	cmocka_unit_test(test_changes_stream_bad_token),
};

ES_ITEST_MAIN(tests)
