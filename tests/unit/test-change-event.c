/*
 * The pure half of the change sources (changes.h, issue 16 item 3): an
 * OpLog entry or a change-stream event into one change of ours, or one to
 * drop, or a clear error naming the field; the adaptive poll interval; the
 * batch. The entries are FerretDB 1.24.2's shapes (see change-event.c).
 */
#include "es-test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <bson/bson.h>

#include "execsync/changes.h"

#define DB	"execution_system"
#define USER	"u1"
#define ID	"6b1582a7dd42720cc7720f37"
#define ID2	"6b1582a7dd42720cc7720f38"
#define OID(h)	"{\"$oid\":\"" h "\"}"
#define TS	"\"ts\":{\"$timestamp\":{\"t\":1796571815,\"i\":2}}"

struct pcase {
	const char	*name;
	const char	*json;
	int		 want;		/* 1, 0, -1, ES_CHANGE_LOST */
	enum es_kind	 kind;
	const char	*id;		/* when want is 1 */
	bool		 deleted;
	const char	*doc_title;	/* the kept doc's title, or NULL */
	const char	*err;		/* in the error (-1) */
};

typedef int (*parse_fn)(const bson_t *, const char *, const char *,
    struct es_change_event *, struct es_error *);

static void
run_cases(const struct pcase *cases, size_t n, parse_fn parse)
{
	for (size_t i = 0; i < n; i++) {
		const struct pcase *c = &cases[i];
		struct es_change_event ev;
		struct es_error err;
		bson_error_t be;
		bson_t in;
		char hex[25], buf[1024];
		int rc;

		if (!bson_init_from_json(&in, c->json, -1, &be))
			fail_msg("%s: bad test JSON: %s", c->name, be.message);
		es_error_clear(&err);
		rc = parse(&in, DB, USER, &ev, &err);
		if (rc != c->want)
			fail_msg("%s: returned %d, want %d (%s)", c->name, rc,
			    c->want, es_error_format(&err, buf, sizeof(buf)));
		if (rc == -1) {
			es_error_format(&err, buf, sizeof(buf));
			if (err.code != ES_EPARSE ||
			    strstr(buf, c->err) == NULL)
				fail_msg("%s: error '%s', want one naming '%s'",
				    c->name, buf, c->err);
		}
		if (rc == 1) {
			bson_oid_to_string(&ev.id, hex);
			if (ev.kind != c->kind || strcmp(hex, c->id) != 0 ||
			    ev.deleted != c->deleted)
				fail_msg("%s: kind %d id %s deleted %d",
				    c->name, (int)ev.kind, hex,
				    (int)ev.deleted);
			if ((c->doc_title == NULL) != (ev.doc == NULL))
				fail_msg("%s: doc %s, want %s", c->name,
				    ev.doc ? "kept" : "NULL",
				    c->doc_title ? "kept" : "NULL");
			if (ev.doc != NULL) {
				bson_iter_t it;

				if (!bson_iter_init_find(&it, ev.doc,
				    "title") || strcmp(bson_iter_utf8(&it,
				    NULL), c->doc_title) != 0)
					fail_msg("%s: not the new document",
					    c->name);
				bson_destroy(ev.doc);
			}
		} else if (rc != -1 && ev.doc != NULL)
			fail_msg("%s: a doc on a drop", c->name);
		bson_destroy(&in);
	}
}

#define NS(c)	"\"ns\":\"" DB "." c "\""
#define DOC(user, title)						\
	"{\"_id\":" OID(ID) ",\"user_id\":\"" user "\",\"title\":\"" title "\"}"

static const struct pcase oplog_cases[] = {
	{ "insert", "{\"op\":\"i\"," NS("projects") "," TS ",\"o\":"
	    DOC(USER, "a") "}", 1, ES_KIND_PROJECT, ID, false, "a", NULL },
	{ "insert goal", "{\"op\":\"i\"," NS("goals") "," TS ",\"o\":"
	    DOC(USER, "g") "}", 1, ES_KIND_GOAL, ID, false, "g", NULL },
	{ "update: $set is the whole document", "{\"op\":\"u\","
	    NS("actions") "," TS ",\"o\":{\"$v\":1,\"$set\":" DOC(USER, "b")
	    "},\"o2\":{\"_id\":" OID(ID) "}}", 1, ES_KIND_ACTION, ID, false,
	    "b", NULL },
	{ "update without the document: read by _id", "{\"op\":\"u\","
	    NS("actions") "," TS ",\"o\":{\"$v\":2,\"diff\":{}},"
	    "\"o2\":{\"_id\":" OID(ID2) "}}", 1, ES_KIND_ACTION, ID2, false,
	    NULL, NULL },
	{ "update: a $set of another _id is partial", "{\"op\":\"u\","
	    NS("actions") "," TS ",\"o\":{\"$set\":" DOC(USER, "b")
	    "},\"o2\":{\"_id\":" OID(ID2) "}}", 1, ES_KIND_ACTION, ID2,
	    false, NULL, NULL },
	{ "update: $set without user_id", "{\"op\":\"u\"," NS("projects")
	    "," TS ",\"o\":{\"$set\":{\"_id\":" OID(ID) ",\"title\":\"t\"}},"
	    "\"o2\":{\"_id\":" OID(ID) "}}", 1, ES_KIND_PROJECT, ID, false,
	    NULL, NULL },
	{ "delete: kept whatever the user", "{\"op\":\"d\"," NS("goals")
	    "," TS ",\"o\":{\"_id\":" OID(ID) "}}", 1, ES_KIND_GOAL, ID, true,
	    NULL, NULL },
	{ "other user's insert", "{\"op\":\"i\"," NS("projects") "," TS
	    ",\"o\":" DOC("u2", "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "other user's update", "{\"op\":\"u\"," NS("projects") "," TS
	    ",\"o\":{\"$set\":" DOC("u10", "a") "},\"o2\":{\"_id\":" OID(ID)
	    "}}", 0, 0, NULL, false, NULL, NULL },
	{ "user id prefix", "{\"op\":\"i\"," NS("projects") "," TS ",\"o\":"
	    DOC("u", "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "other collection", "{\"op\":\"i\"," NS("sync_conflicts") "," TS
	    ",\"o\":" DOC(USER, "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "collection prefix", "{\"op\":\"i\"," NS("projectsx") "," TS
	    ",\"o\":" DOC(USER, "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "other database", "{\"op\":\"i\",\"ns\":\"other.projects\"," TS
	    ",\"o\":" DOC(USER, "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "database prefix", "{\"op\":\"i\",\"ns\":\"" DB "x.projects\","
	    TS ",\"o\":" DOC(USER, "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "dotted collection", "{\"op\":\"i\",\"ns\":\"" DB
	    ".system.projects\"," TS ",\"o\":" DOC(USER, "a") "}", 0, 0,
	    NULL, false, NULL, NULL },
	{ "no-op", "{\"op\":\"n\",\"ns\":\"\"," TS ",\"o\":{\"msg\":\"x\"}}",
	    0, 0, NULL, false, NULL, NULL },
	{ "command", "{\"op\":\"c\",\"ns\":\"" DB ".$cmd\"," TS
	    ",\"o\":{\"drop\":\"projects\"}}", 0, 0, NULL, false, NULL, NULL },
	{ "op missing", "{" NS("projects") ",\"o\":" DOC(USER, "a") "}", -1,
	    0, NULL, false, NULL, "'op': missing" },
	{ "op not a string", "{\"op\":1," NS("projects") ",\"o\":"
	    DOC(USER, "a") "}", -1, 0, NULL, false, NULL,
	    "'op': not a string" },
	{ "ns missing", "{\"op\":\"i\",\"o\":" DOC(USER, "a") "}", -1, 0,
	    NULL, false, NULL, "'ns': missing" },
	{ "ns not a string", "{\"op\":\"i\",\"ns\":{},\"o\":" DOC(USER, "a")
	    "}", -1, 0, NULL, false, NULL, "'ns': not a string" },
	{ "ns without a dot", "{\"op\":\"i\",\"ns\":\"projects\",\"o\":"
	    DOC(USER, "a") "}", -1, 0, NULL, false, NULL, "'ns'" },
	{ "o missing", "{\"op\":\"i\"," NS("projects") "}", -1, 0, NULL,
	    false, NULL, "'o': missing" },
	{ "o not a document", "{\"op\":\"d\"," NS("projects") ",\"o\":3}",
	    -1, 0, NULL, false, NULL, "'o': not a document" },
	{ "o._id missing", "{\"op\":\"i\"," NS("projects") ",\"o\":{}}", -1,
	    0, NULL, false, NULL, "'o._id': missing" },
	{ "o._id a string", "{\"op\":\"d\"," NS("projects")
	    ",\"o\":{\"_id\":\"x\"}}", -1, 0, NULL, false, NULL,
	    "'o._id': not an objectid" },
	{ "o2 missing", "{\"op\":\"u\"," NS("projects") ",\"o\":{\"$set\":"
	    DOC(USER, "a") "}}", -1, 0, NULL, false, NULL, "'o2': missing" },
	{ "o2._id missing", "{\"op\":\"u\"," NS("projects")
	    ",\"o\":{\"$set\":" DOC(USER, "a") "},\"o2\":{}}", -1, 0, NULL,
	    false, NULL, "'o2._id': missing" },
	{ "o.$set not a document", "{\"op\":\"u\"," NS("projects")
	    ",\"o\":{\"$set\":1},\"o2\":{\"_id\":" OID(ID) "}}", -1, 0, NULL,
	    false, NULL, "'o.$set': not a document" },
};

static void
test_change_from_oplog_table(void **state)
{
	(void)state;
	run_cases(oplog_cases, sizeof(oplog_cases) / sizeof(oplog_cases[0]),
	    es_change_from_oplog);
}

#define SNS(c)	"\"ns\":{\"db\":\"" DB "\",\"coll\":\"" c "\"}"
#define KEY(h)	"\"documentKey\":{\"_id\":" OID(h) "}"
#define TOK	"\"_id\":{\"_data\":\"8263\"}"

static const struct pcase stream_cases[] = {
	{ "insert", "{" TOK ",\"operationType\":\"insert\"," SNS("projects")
	    "," KEY(ID) ",\"fullDocument\":" DOC(USER, "a") "}", 1,
	    ES_KIND_PROJECT, ID, false, "a", NULL },
	{ "update with updateLookup", "{\"operationType\":\"update\","
	    SNS("goals") "," KEY(ID) ",\"fullDocument\":" DOC(USER, "b")
	    ",\"updateDescription\":{}}", 1, ES_KIND_GOAL, ID, false, "b",
	    NULL },
	{ "replace", "{\"operationType\":\"replace\"," SNS("actions") ","
	    KEY(ID) ",\"fullDocument\":" DOC(USER, "c") "}", 1,
	    ES_KIND_ACTION, ID, false, "c", NULL },
	{ "update, gone since: read by _id", "{\"operationType\":\"update\","
	    SNS("actions") "," KEY(ID2) ",\"fullDocument\":null}", 1,
	    ES_KIND_ACTION, ID2, false, NULL, NULL },
	{ "update without fullDocument", "{\"operationType\":\"update\","
	    SNS("actions") "," KEY(ID2) "}", 1, ES_KIND_ACTION, ID2, false,
	    NULL, NULL },
	{ "delete: kept whatever the user", "{\"operationType\":\"delete\","
	    SNS("projects") "," KEY(ID) "}", 1, ES_KIND_PROJECT, ID, true,
	    NULL, NULL },
	{ "other user", "{\"operationType\":\"insert\"," SNS("projects") ","
	    KEY(ID) ",\"fullDocument\":" DOC("u2", "a") "}", 0, 0, NULL,
	    false, NULL, NULL },
	{ "other collection", "{\"operationType\":\"insert\","
	    SNS("sync_conflicts") "," KEY(ID) ",\"fullDocument\":"
	    DOC(USER, "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "other database", "{\"operationType\":\"insert\",\"ns\":{\"db\":"
	    "\"other\",\"coll\":\"projects\"}," KEY(ID) ",\"fullDocument\":"
	    DOC(USER, "a") "}", 0, 0, NULL, false, NULL, NULL },
	{ "create index", "{\"operationType\":\"createIndexes\","
	    SNS("projects") "}", 0, 0, NULL, false, NULL, NULL },
	{ "drop", "{\"operationType\":\"drop\"," SNS("projects") "}",
	    ES_CHANGE_LOST, 0, NULL, false, NULL, NULL },
	{ "rename", "{\"operationType\":\"rename\"," SNS("projects") "}",
	    ES_CHANGE_LOST, 0, NULL, false, NULL, NULL },
	{ "dropDatabase", "{\"operationType\":\"dropDatabase\","
	    "\"ns\":{\"db\":\"" DB "\"}}", ES_CHANGE_LOST, 0, NULL, false, NULL,
	    NULL },
	{ "invalidate", "{\"operationType\":\"invalidate\"}", ES_CHANGE_LOST,
	    0, NULL, false, NULL, NULL },
	{ "operationType missing", "{" SNS("projects") "}", -1, 0, NULL,
	    false, NULL, "'operationType': missing" },
	{ "operationType not a string", "{\"operationType\":1}", -1, 0, NULL,
	    false, NULL, "'operationType': not a string" },
	{ "ns missing", "{\"operationType\":\"insert\"," KEY(ID) "}", -1, 0,
	    NULL, false, NULL, "'ns': missing" },
	{ "ns not a document", "{\"operationType\":\"insert\",\"ns\":\"x\"}",
	    -1, 0, NULL, false, NULL, "'ns': not a document" },
	{ "ns.db missing", "{\"operationType\":\"insert\",\"ns\":{}}", -1, 0,
	    NULL, false, NULL, "'ns.db'" },
	{ "ns.coll missing", "{\"operationType\":\"insert\",\"ns\":{\"db\":"
	    "\"" DB "\"}}", -1, 0, NULL, false, NULL, "'ns.coll'" },
	{ "documentKey missing", "{\"operationType\":\"delete\","
	    SNS("projects") "}", -1, 0, NULL, false, NULL,
	    "'documentKey': missing" },
	{ "documentKey._id a string", "{\"operationType\":\"delete\","
	    SNS("projects") ",\"documentKey\":{\"_id\":\"x\"}}", -1, 0, NULL,
	    false, NULL, "'documentKey._id': not an objectid" },
	{ "fullDocument not a document", "{\"operationType\":\"insert\","
	    SNS("projects") "," KEY(ID) ",\"fullDocument\":5}", -1, 0, NULL,
	    false, NULL, "'fullDocument': not a document" },
};

static void
test_change_from_stream_table(void **state)
{
	(void)state;
	run_cases(stream_cases, sizeof(stream_cases) /
	    sizeof(stream_cases[0]), es_change_from_stream);
}

/* max(poll_ms, cost x 9), rounded up; a nonsense cost is free. */
static void
test_poll_interval_table(void **state)
{
	static const struct {
		unsigned	 poll;
		double		 cost;
		uint64_t	 want;
	} cases[] = {
		{ 2000, 0, 2000 },
		{ 2000, 13, 2000 },		/* the OpLog's read */
		{ 2000, 222.2, 2000 },		/* 1999.8 -> 2000 */
		{ 2000, 223, 2007 },
		{ 2000, 2500, 22500 },		/* 20,000 actions */
		{ 0, 1.01, 10 },		/* 9.09 up to 10 */
		{ 0, 1, 9 },
		{ 500, -5, 500 },		/* a clock step */
		{ 500, NAN, 500 },
		{ 500, INFINITY, UINT64_MAX },
		{ 500, 1e30, UINT64_MAX },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = es_poll_interval_ms(cases[i].poll,
		    cases[i].cost);

		if (got != cases[i].want)
			fail_msg("case %zu: poll %u cost %g: %llu, want %llu",
			    i, cases[i].poll, cases[i].cost,
			    (unsigned long long)got,
			    (unsigned long long)cases[i].want);
	}
}

static void
test_source_kind_names(void **state)
{
	(void)state;
	assert_string_equal(es_source_kind_name(ES_SOURCE_STREAM),
	    "change_stream");
	assert_string_equal(es_source_kind_name(ES_SOURCE_OPLOG), "oplog");
	assert_string_equal(es_source_kind_name(ES_SOURCE_POLL), "poll");
}

/* The batch owns its docs: reset frees them (ASan's leak check), keeps
 * the array; release frees everything. */
static void
test_change_batch(void **state)
{
	struct es_change_batch b;
	struct es_change_event ev;

	(void)state;
	es_change_batch_init(&b);
	for (int i = 0; i < 40; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = ES_KIND_ACTION;
		bson_oid_init(&ev.id, NULL);
		ev.doc = i % 2 ? bson_new() : NULL;
		es_change_batch_push(&b, &ev);
	}
	b.gap = true;
	assert_int_equal(b.n, 40);
	assert_true(b.cap >= 40);
	es_change_batch_reset(&b);
	assert_int_equal(b.n, 0);
	assert_false(b.gap);
	assert_non_null(b.ev);
	ev.doc = bson_new();
	es_change_batch_push(&b, &ev);
	es_change_batch_release(&b);
	assert_null(b.ev);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.cap, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_change_from_oplog_table),
	cmocka_unit_test(test_change_from_stream_table),
	cmocka_unit_test(test_poll_interval_table),
	cmocka_unit_test(test_source_kind_names),
	cmocka_unit_test(test_change_batch),
};

ES_TEST_MAIN(tests)
