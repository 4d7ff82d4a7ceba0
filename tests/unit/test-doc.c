/*
 * Entities <-> BSON documents (SPEC §3: the documents the HTTP API reads and
 * writes; SPEC 4.10: a document with a missing or mistyped field is a clean
 * error, never a crash).
 */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "execsync/doc.h"
#include "execsync/xmalloc.h"

#define OID_HEX	"650000000000000000000001"
#define T0	1762646400000LL		/* 2025-11-09T00:00:00Z */

static bson_t *
J(const char *json)
{
	bson_error_t berr;
	bson_t *b = bson_new_from_json((const uint8_t *)json, -1, &berr);

	if (b == NULL)
		fail_msg("bad test json: %s: %s", berr.message, json);
	return b;
}

static void
full_project(struct es_entity *e)
{
	es_entity_init(e, ES_KIND_PROJECT);
	e->meta.has_id = true;
	bson_oid_init_from_string(&e->meta.id, OID_HEX);
	e->meta.created_at = T0 + 1234;
	e->meta.updated_at = T0 + 5678;
	e->meta.deleted = true;
	e->meta.deleted_at = T0 + 9999;
	e->title = es_xstrdup("Learn Rust");
	e->slug = es_xstrdup("learn-rust");
	e->area = es_xstrdup("Learning");
	e->folder = ES_FOLDER_DESCOPED;
	e->type = ES_PTYPE_HABIT;
	e->created = es_test_day("2025-11-01");
	e->started = es_test_day("2025-11-02");
	e->last_reviewed = es_test_day("2025-11-09");
	e->due = es_test_day("2025-12-31");
	e->completed = es_test_day("2026-01-02");
	e->descoped = es_test_day("2026-01-03");
	es_entity_set_content(e, "# Learn Rust\n\nbody\r\n", 20);
	bson_destroy(e->extra);
	e->extra = J("{\"owner\": \"me\", \"n\": {\"$numberInt\": \"3\"},"
	    " \"tags\": [\"a\", \"b\"], \"flag\": true, \"none\": null}");
}

static void
full_action(struct es_action *a)
{
	es_action_init(a);
	a->meta.has_id = true;
	bson_oid_init_from_string(&a->meta.id, OID_HEX);
	a->meta.created_at = T0 + 1;
	a->meta.updated_at = T0 + 2;
	a->text = es_xstrdup("Refactor the auth module");
	a->context = es_xstrdup("@macbook");
	a->project_slug = es_xstrdup("api-redesign");
	a->state = ES_STATE_WAITING;
	a->due = es_test_day("2025-11-15");
	a->defer = es_test_day("2025-11-12");
	a->action_date = es_test_day("2025-11-09");
	a->completed = es_test_day("2025-11-20");
	a->priority = 'A';
}

static void
assert_meta_equal(const struct es_meta *a, const struct es_meta *b)
{
	assert_int_equal(a->has_id, b->has_id);
	assert_true(bson_oid_equal(&a->id, &b->id));
	assert_int_equal(a->deleted, b->deleted);
	assert_int_equal(a->deleted_at, b->deleted_at);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->updated_at, b->updated_at);
}

static void
entity_round_trip(const struct es_entity *e)
{
	bson_t doc = BSON_INITIALIZER;
	struct es_entity back;
	struct es_error err;

	es_entity_encode(e, "user-1", &doc);
	if (es_entity_decode(&doc, e->kind, &back, &err) != 0)
		fail_msg("decode: %s: %s", err.path, err.msg);
	assert_int_equal(es_entity_diff(e, &back), 0);
	assert_meta_equal(&e->meta, &back.meta);
	assert_true(es_doc_user_is(&doc, "user-1"));
	assert_false(es_doc_user_is(&doc, "user-2"));
	es_entity_release(&back);
	bson_destroy(&doc);
}

static void
action_round_trip(const struct es_action *a)
{
	bson_t doc = BSON_INITIALIZER;
	struct es_action back;
	struct es_error err;

	es_action_encode(a, "user-1", &doc);
	if (es_action_decode(&doc, &back, &err) != 0)
		fail_msg("decode: %s: %s", err.path, err.msg);
	assert_int_equal(es_action_diff(a, &back), 0);
	assert_meta_equal(&a->meta, &back.meta);
	es_action_release(&back);
	bson_destroy(&doc);
}

/* SPEC §3: every field of each collection survives encode -> decode. */
static void
test_doc_project_round_trip(void **state)
{
	struct es_entity e;

	(void)state;
	full_project(&e);
	entity_round_trip(&e);
	es_entity_release(&e);

	/* Only what is required: title, slug, folder. */
	es_entity_init(&e, ES_KIND_PROJECT);
	e.meta.has_id = true;
	bson_oid_init_from_string(&e.meta.id, OID_HEX);
	e.title = es_xstrdup("T");
	e.slug = es_xstrdup("t");
	e.folder = ES_FOLDER_ACTIVE;
	entity_round_trip(&e);
	es_entity_release(&e);
}

static void
test_doc_goal_round_trip(void **state)
{
	struct es_entity e;
	bson_t doc = BSON_INITIALIZER;
	static const char *const not_goal[] = { "type", "started", "due",
	    "completed", "descoped" };

	(void)state;
	full_project(&e);
	e.kind = ES_KIND_GOAL;
	e.folder = ES_FOLDER_INCUBATOR;
	/* Fields goals do not have stay unset, as decode leaves them. */
	e.type = ES_PTYPE_NONE;
	e.started = e.due = e.completed = e.descoped = ES_DATE_NONE;
	entity_round_trip(&e);
	es_entity_encode(&e, "u", &doc);
	for (size_t i = 0; i < sizeof(not_goal) / sizeof(not_goal[0]); i++)
		if (bson_has_field(&doc, not_goal[i]))
			fail_msg("goal document has '%s'", not_goal[i]);
	bson_destroy(&doc);
	es_entity_release(&e);

	es_entity_init(&e, ES_KIND_GOAL);
	e.meta.has_id = true;
	bson_oid_init_from_string(&e.meta.id, OID_HEX);
	e.title = es_xstrdup("Run a marathon");
	e.slug = es_xstrdup("run-a-marathon");
	e.folder = ES_FOLDER_ACTIVE;
	entity_round_trip(&e);
	es_entity_release(&e);
}

static void
test_doc_action_round_trip(void **state)
{
	struct es_action a;

	(void)state;
	full_action(&a);
	action_round_trip(&a);
	es_action_release(&a);

	es_action_init(&a);
	a.meta.has_id = true;
	bson_oid_init_from_string(&a.meta.id, OID_HEX);
	a.text = es_xstrdup("call mum");
	a.state = ES_STATE_NEXT;
	action_round_trip(&a);
	es_action_release(&a);
}

/* The BSON type of each field, as SPEC §3 spells it. */
struct field_want {
	const char	*key;
	bson_type_t	 type;
	const char	*str;		/* UTF8: the value */
	int64_t		 ms;		/* DATE_TIME: the value */
};

static void
check_fields(const bson_t *doc, const struct field_want *w, size_t n)
{
	bson_iter_t it;
	uint32_t len;

	for (size_t i = 0; i < n; i++) {
		if (!bson_iter_init_find(&it, doc, w[i].key))
			fail_msg("field '%s' missing", w[i].key);
		if (bson_iter_type(&it) != w[i].type)
			fail_msg("field '%s': type 0x%02x, want 0x%02x",
			    w[i].key, bson_iter_type(&it), w[i].type);
		if (w[i].type == BSON_TYPE_UTF8 && w[i].str != NULL)
			assert_string_equal(bson_iter_utf8(&it, &len),
			    w[i].str);
		if (w[i].type == BSON_TYPE_DATE_TIME) {
			assert_int_equal(bson_iter_date_time(&it), w[i].ms);
		}
	}
}

static void
test_doc_project_bson_types(void **state)
{
	struct es_entity e;
	bson_t doc = BSON_INITIALIZER;
	bson_iter_t it, sub;
	char hex[25];
	const struct field_want full[] = {
		{ "_id", BSON_TYPE_OID, NULL, 0 },
		{ "user_id", BSON_TYPE_UTF8, "user-1", 0 },
		{ "title", BSON_TYPE_UTF8, "Learn Rust", 0 },
		{ "slug", BSON_TYPE_UTF8, "learn-rust", 0 },
		{ "area", BSON_TYPE_UTF8, "Learning", 0 },
		{ "folder", BSON_TYPE_UTF8, "descoped", 0 },
		{ "type", BSON_TYPE_UTF8, "habit", 0 },
		{ "content", BSON_TYPE_UTF8, "# Learn Rust\n\nbody\r\n", 0 },
		/* dates: datetimes at 00:00 UTC */
		{ "created", BSON_TYPE_DATE_TIME, NULL, 1761955200000LL },
		{ "started", BSON_TYPE_DATE_TIME, NULL, 1762041600000LL },
		{ "last_reviewed", BSON_TYPE_DATE_TIME, NULL, T0 },
		{ "due", BSON_TYPE_DATE_TIME, NULL, 1767139200000LL },
		{ "completed", BSON_TYPE_DATE_TIME, NULL, 1767312000000LL },
		{ "descoped", BSON_TYPE_DATE_TIME, NULL, 1767398400000LL },
		{ "extra", BSON_TYPE_DOCUMENT, NULL, 0 },
		{ "deleted", BSON_TYPE_BOOL, NULL, 0 },
		{ "deleted_at", BSON_TYPE_DATE_TIME, NULL, T0 + 9999 },
		{ "created_at", BSON_TYPE_DATE_TIME, NULL, T0 + 1234 },
		{ "updated_at", BSON_TYPE_DATE_TIME, NULL, T0 + 5678 },
	};
	const struct field_want unset[] = {
		{ "area", BSON_TYPE_NULL, NULL, 0 },
		{ "type", BSON_TYPE_NULL, NULL, 0 },
		{ "content", BSON_TYPE_UTF8, "", 0 },
		{ "created", BSON_TYPE_NULL, NULL, 0 },
		{ "started", BSON_TYPE_NULL, NULL, 0 },
		{ "last_reviewed", BSON_TYPE_NULL, NULL, 0 },
		{ "due", BSON_TYPE_NULL, NULL, 0 },
		{ "completed", BSON_TYPE_NULL, NULL, 0 },
		{ "descoped", BSON_TYPE_NULL, NULL, 0 },
		{ "extra", BSON_TYPE_DOCUMENT, NULL, 0 },
		{ "deleted", BSON_TYPE_BOOL, NULL, 0 },
		{ "deleted_at", BSON_TYPE_NULL, NULL, 0 },
	};

	(void)state;
	full_project(&e);
	es_entity_encode(&e, "user-1", &doc);
	check_fields(&doc, full, sizeof(full) / sizeof(full[0]));
	assert_int_equal(bson_count_keys(&doc), 19);
	assert_true(bson_iter_init_find(&it, &doc, "_id"));
	bson_oid_to_string(bson_iter_oid(&it), hex);
	assert_string_equal(hex, OID_HEX);
	assert_true(bson_iter_init_find(&it, &doc, "deleted"));
	assert_true(bson_iter_bool(&it));
	/* extra keeps its keys, order and types */
	assert_true(bson_iter_init_find(&it, &doc, "extra"));
	assert_true(bson_iter_recurse(&it, &sub));
	assert_true(bson_iter_next(&sub));
	assert_string_equal(bson_iter_key(&sub), "owner");
	assert_true(bson_iter_next(&sub));
	assert_string_equal(bson_iter_key(&sub), "n");
	assert_int_equal(bson_iter_type(&sub), BSON_TYPE_INT32);
	assert_true(bson_iter_next(&sub));
	assert_int_equal(bson_iter_type(&sub), BSON_TYPE_ARRAY);
	assert_true(bson_iter_next(&sub));
	assert_int_equal(bson_iter_type(&sub), BSON_TYPE_BOOL);
	assert_true(bson_iter_next(&sub));
	assert_int_equal(bson_iter_type(&sub), BSON_TYPE_NULL);
	assert_false(bson_iter_next(&sub));
	bson_destroy(&doc);
	es_entity_release(&e);

	es_entity_init(&e, ES_KIND_PROJECT);
	e.meta.has_id = true;
	bson_oid_init_from_string(&e.meta.id, OID_HEX);
	e.title = es_xstrdup("T");
	e.slug = es_xstrdup("t");
	e.folder = ES_FOLDER_ACTIVE;
	bson_init(&doc);
	es_entity_encode(&e, "user-1", &doc);
	check_fields(&doc, unset, sizeof(unset) / sizeof(unset[0]));
	assert_true(bson_iter_init_find(&it, &doc, "extra"));
	assert_true(bson_iter_recurse(&it, &sub));
	assert_false(bson_iter_next(&sub));
	assert_true(bson_iter_init_find(&it, &doc, "deleted"));
	assert_false(bson_iter_bool(&it));
	bson_destroy(&doc);
	es_entity_release(&e);
}

static void
test_doc_action_bson_types(void **state)
{
	struct es_action a;
	bson_t doc = BSON_INITIALIZER;
	const struct field_want full[] = {
		{ "_id", BSON_TYPE_OID, NULL, 0 },
		{ "user_id", BSON_TYPE_UTF8, "user-1", 0 },
		{ "text", BSON_TYPE_UTF8, "Refactor the auth module", 0 },
		{ "context", BSON_TYPE_UTF8, "@macbook", 0 },
		{ "project_slug", BSON_TYPE_UTF8, "api-redesign", 0 },
		{ "state", BSON_TYPE_UTF8, "waiting", 0 },
		{ "due", BSON_TYPE_DATE_TIME, NULL, 1763164800000LL },
		{ "defer", BSON_TYPE_DATE_TIME, NULL, 1762905600000LL },
		{ "action_date", BSON_TYPE_DATE_TIME, NULL, T0 },
		{ "completed", BSON_TYPE_DATE_TIME, NULL, 1763596800000LL },
		{ "priority", BSON_TYPE_UTF8, "A", 0 },
		{ "deleted", BSON_TYPE_BOOL, NULL, 0 },
		{ "deleted_at", BSON_TYPE_NULL, NULL, 0 },
		{ "created_at", BSON_TYPE_DATE_TIME, NULL, T0 + 1 },
		{ "updated_at", BSON_TYPE_DATE_TIME, NULL, T0 + 2 },
	};
	const struct field_want unset[] = {
		{ "context", BSON_TYPE_NULL, NULL, 0 },
		{ "project_slug", BSON_TYPE_NULL, NULL, 0 },
		{ "due", BSON_TYPE_NULL, NULL, 0 },
		{ "defer", BSON_TYPE_NULL, NULL, 0 },
		{ "action_date", BSON_TYPE_NULL, NULL, 0 },
		{ "completed", BSON_TYPE_NULL, NULL, 0 },
		{ "priority", BSON_TYPE_NULL, NULL, 0 },
	};

	(void)state;
	full_action(&a);
	es_action_encode(&a, "user-1", &doc);
	check_fields(&doc, full, sizeof(full) / sizeof(full[0]));
	assert_int_equal(bson_count_keys(&doc), 15);
	bson_destroy(&doc);
	es_action_release(&a);

	es_action_init(&a);
	a.meta.has_id = true;
	bson_oid_init_from_string(&a.meta.id, OID_HEX);
	a.text = es_xstrdup("x");
	a.state = ES_STATE_NEXT;
	bson_init(&doc);
	es_action_encode(&a, "user-1", &doc);
	check_fields(&doc, unset, sizeof(unset) / sizeof(unset[0]));
	bson_destroy(&doc);
	es_action_release(&a);
}

/* SPEC 4.10: a document with a missing or mistyped field is one clean error. */
static void
test_doc_decode_errors_table(void **state)
{
#define ID	"\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": \"u\""
#define PROJ	ID ", \"title\": \"T\", \"slug\": \"t\", \"folder\": \"active\""
#define ACT	ID ", \"text\": \"x\", \"state\": \"next\""
	static const struct {
		enum es_kind	 kind;
		const char	*json;
		const char	*path;
		const char	*msg;
	} cases[] = {
		{ ES_KIND_PROJECT, "{" ID ", \"slug\": \"t\", \"folder\": \"active\"}",
		    "projects/" OID_HEX, "field 'title': missing" },
		{ ES_KIND_PROJECT, "{" ID ", \"title\": null, \"slug\": \"t\"}",
		    "projects/" OID_HEX, "field 'title': expected a string, got null" },
		{ ES_KIND_PROJECT, "{" ID ", \"title\": {\"$numberInt\": \"7\"}}",
		    "projects/" OID_HEX, "field 'title': expected a string, got int32" },
		{ ES_KIND_PROJECT, "{" ID ", \"title\": \"T\", \"slug\": \"\"}",
		    "projects/" OID_HEX, "field 'slug': empty" },
		{ ES_KIND_PROJECT, "{" ID ", \"title\": \"T\", \"slug\": \"t\", \"folder\": \"archived\"}",
		    "projects/" OID_HEX,
		    "field 'folder': expected active, incubator, completed or descoped, got 'archived'" },
		{ ES_KIND_PROJECT, "{" ID ", \"title\": \"T\", \"slug\": \"t\"}",
		    "projects/" OID_HEX, "field 'folder': missing" },
		{ ES_KIND_GOAL, "{" ID ", \"title\": \"T\", \"slug\": \"t\", \"folder\": \"completed\"}",
		    "goals/" OID_HEX,
		    "field 'folder': expected active or incubator, got 'completed'" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"type\": \"epic\"}",
		    "projects/" OID_HEX,
		    "field 'type': expected standard, coordination, habit or goal, got 'epic'" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"due\": \"2025-12-31\"}",
		    "projects/" OID_HEX, "field 'due': expected a date, got string" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"created\": {\"$numberLong\": \"1762646400000\"}}",
		    "projects/" OID_HEX, "field 'created': expected a date, got int64" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"due\": {\"$date\": {\"$numberLong\": \"253402300800000\"}}}",
		    "projects/" OID_HEX, "field 'due': date out of range (253402300800000 ms)" },
		{ ES_KIND_PROJECT, "{\"_id\": \"" OID_HEX "\", \"user_id\": \"u\", \"title\": \"T\"}",
		    "projects/'" OID_HEX "'", "field '_id': expected an objectid, got string" },
		{ ES_KIND_PROJECT, "{\"_id\": 42, \"user_id\": \"u\", \"title\": \"T\"}",
		    "projects/42", "field '_id': expected an objectid, got int32" },
		{ ES_KIND_PROJECT, "{\"user_id\": \"u\", \"title\": \"T\"}",
		    "projects/?", "field '_id': missing" },
		{ ES_KIND_PROJECT, "{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"title\": \"T\"}",
		    "projects/" OID_HEX, "field 'user_id': missing" },
		{ ES_KIND_GOAL, "{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": {\"$numberInt\": \"1\"}}",
		    "goals/" OID_HEX, "field 'user_id': expected a string, got int32" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"extra\": \"owner: me\"}",
		    "projects/" OID_HEX, "field 'extra': expected a document, got string" },
		{ ES_KIND_GOAL, "{" PROJ ", \"extra\": [1, 2]}",
		    "goals/" OID_HEX, "field 'extra': expected a document, got array" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"deleted\": \"yes\"}",
		    "projects/" OID_HEX, "field 'deleted': expected a bool, got string" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"updated_at\": {\"$numberDouble\": \"1.5\"}}",
		    "projects/" OID_HEX, "field 'updated_at': expected a timestamp, got double 1.5" },
		{ ES_KIND_PROJECT, "{" PROJ ", \"updated_at\": \"yesterday\"}",
		    "projects/" OID_HEX, "field 'updated_at': expected a timestamp, got string" },
		{ ES_KIND_ACTION, "{" ID ", \"state\": \"next\"}",
		    "actions/" OID_HEX, "field 'text': missing" },
		{ ES_KIND_ACTION, "{" ID ", \"text\": \"x\", \"state\": \"done\"}",
		    "actions/" OID_HEX,
		    "field 'state': expected next, waiting, deferred, incubating or completed, got 'done'" },
		{ ES_KIND_ACTION, "{" ID ", \"text\": \"x\", \"state\": \"done\\n'\"}",
		    "actions/" OID_HEX,
		    "field 'state': expected next, waiting, deferred, incubating or completed, got 'done\\x0a\\x27'" },
		{ ES_KIND_ACTION, "{" ID ", \"text\": \"x\"}",
		    "actions/" OID_HEX, "field 'state': missing" },
		{ ES_KIND_ACTION, "{" ACT ", \"priority\": \"AB\"}",
		    "actions/" OID_HEX, "field 'priority': expected a letter A-Z, got 'AB'" },
		{ ES_KIND_ACTION, "{" ACT ", \"priority\": \"a\"}",
		    "actions/" OID_HEX, "field 'priority': expected a letter A-Z, got 'a'" },
		{ ES_KIND_ACTION, "{" ACT ", \"context\": {\"$numberInt\": \"3\"}}",
		    "actions/" OID_HEX, "field 'context': expected a string, got int32" },
		{ ES_KIND_ACTION, "{" ACT ", \"defer\": true}",
		    "actions/" OID_HEX, "field 'defer': expected a date, got bool" },
		{ ES_KIND_ACTION, "{" ACT ", \"project_slug\": [\"a\"]}",
		    "actions/" OID_HEX, "field 'project_slug': expected a string, got array" },
	};
#undef ID
#undef PROJ
#undef ACT
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bson_t *doc = J(cases[i].json);
		struct es_error err;
		int rc;

		es_error_clear(&err);
		if (cases[i].kind == ES_KIND_ACTION) {
			struct es_action a;

			rc = es_action_decode(doc, &a, &err);
			assert_null(a.text);
			es_action_release(&a);
		} else {
			struct es_entity e;

			rc = es_entity_decode(doc, cases[i].kind, &e, &err);
			assert_null(e.title);
			assert_non_null(e.extra);
			es_entity_release(&e);
		}
		if (rc != -1)
			fail_msg("case %zu decoded: %s", i, cases[i].json);
		assert_int_equal(err.code, ES_EPARSE);
		assert_int_equal(err.line, 0);
		assert_string_equal(err.path, cases[i].path);
		assert_string_equal(err.msg, cases[i].msg);
		bson_destroy(doc);
	}
}

/* Strings must be UTF-8 without NUL bytes (SPEC 4.10). */
static void
test_doc_decode_bad_strings(void **state)
{
	static const struct {
		const char	*key;
		const char	*val;
		int		 len;
		const char	*msg;
	} cases[] = {
		{ "title", "a\0b", 3, "field 'title': contains a NUL byte" },
		{ "title", "a\xff", 2, "field 'title': invalid UTF-8" },
		{ "content", "x\0", 2, "field 'content': contains a NUL byte" },
		{ "area", "\xc3", 1, "field 'area': invalid UTF-8" },
		/* Eight bytes are checked a step: in a word and in the tail. */
		{ "title", "abcdefg\0", 8, "field 'title': contains a NUL byte" },
		{ "title", "\0bcdefgh", 8, "field 'title': contains a NUL byte" },
		{ "title", "abcdefghij\0", 11,
		    "field 'title': contains a NUL byte" },
		{ "title", "abc\x80" "efghij", 10,
		    "field 'title': invalid UTF-8" },
		{ "title", "abcdefgh\xc3(", 10,
		    "field 'title': invalid UTF-8" },
		{ "title", "abcdefgh\xc3\0", 10,
		    "field 'title': contains a NUL byte" },
		{ "area", "abcdefgh\xed\xa0\x80", 11,
		    "field 'area': invalid UTF-8" },
		/* Runs of bytes >= 0x80 are checked one by one. */
		{ "title", "\xc3\xa9t\xc3\xa9 abcdefgh \xc3" "a\xa9", 18,
		    "field 'title': invalid UTF-8" },
		{ "title", "\xe2\x80\x94 abcdefghijk\xe2\x80", 17,
		    "field 'title': invalid UTF-8" },
		{ "title", "\xc3\xa9\xc3\xa9\xc3\xa9 ab\0 \xc3\xa9", 13,
		    "field 'title': contains a NUL byte" },
		{ "title", "abcdefgh\xc3\xa9\xff\xc3\xa9", 13,
		    "field 'title': invalid UTF-8" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bson_t doc = BSON_INITIALIZER;
		bson_oid_t oid;
		struct es_entity e;
		struct es_error err;

		bson_oid_init_from_string(&oid, OID_HEX);
		BSON_APPEND_OID(&doc, "_id", &oid);
		BSON_APPEND_UTF8(&doc, "user_id", "u");
		BSON_APPEND_UTF8(&doc, "slug", "s");
		BSON_APPEND_UTF8(&doc, "folder", "active");
		bson_append_utf8(&doc, cases[i].key, -1, cases[i].val,
		    cases[i].len);
		if (strcmp(cases[i].key, "title") != 0)
			BSON_APPEND_UTF8(&doc, "title", "T");
		assert_int_equal(es_entity_decode(&doc, ES_KIND_PROJECT, &e,
		    &err), -1);
		assert_string_equal(err.path, "projects/" OID_HEX);
		assert_string_equal(err.msg, cases[i].msg);
		es_entity_release(&e);
		bson_destroy(&doc);
	}
}

/*
 * The keys are read in one walk: a repeated key counts once, its first
 * value, as a search by name finds it; keys that are near a field's name
 * (same length, same first letter) are not taken for it; strings that are
 * not plain ASCII keep their bytes.
 */
static void
test_doc_decode_keys_once(void **state)
{
	bson_t *doc;
	struct es_entity e;
	struct es_action a;
	struct es_error err;

	(void)state;
	doc = J("{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": \"u\","
	    " \"title\": \"Gr\u00fc\u00dfe \u2603 caf\u00e9 ok\","
	    " \"titlf\": 1, \"slug\": \"s\", \"slux\": 2, \"title\": \"B\","
	    " \"folder\": \"active\", \"folder\": 7, \"arex\": 3,"
	    " \"d\": 1, \"dux\": 4, \"a_very_long_key_name_here\": 5,"
	    " \"updated_atx\": 6, \"updated_at\": {\"$numberLong\": \"42\"},"
	    " \"updated_at\": \"late\", \"content\": \"\u00e9\","
	    " \"area\": \"a \u2014 long area name \u00e9\u00e9 \U0001F600 end\"}");
	assert_int_equal(es_entity_decode(doc, ES_KIND_PROJECT, &e, &err), 0);
	assert_string_equal(e.title, "Gr\xc3\xbc\xc3\x9f" "e \xe2\x98\x83 caf"
	    "\xc3\xa9 ok");
	assert_string_equal(e.slug, "s");
	assert_int_equal(e.folder, ES_FOLDER_ACTIVE);
	assert_string_equal(e.area, "a \xe2\x80\x94 long area name \xc3\xa9"
	    "\xc3\xa9 \xf0\x9f\x98\x80 end");
	assert_int_equal(e.due, ES_DATE_NONE);
	assert_int_equal(e.meta.updated_at, 42);
	assert_int_equal(e.content_len, 2);
	assert_memory_equal(e.content, "\xc3\xa9", 2);
	es_entity_release(&e);
	bson_destroy(doc);

	doc = J("{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": \"u\","
	    " \"text\": \"call Bob\", \"texu\": 1, \"state\": \"next\","
	    " \"stat\": 2, \"context\": \"phone\", \"priority\": \"B\","
	    " \"text\": \"other\"}");
	assert_int_equal(es_action_decode(doc, &a, &err), 0);
	assert_string_equal(a.text, "call Bob");
	assert_string_equal(a.context, "@phone");
	assert_int_equal(a.state, ES_STATE_NEXT);
	assert_int_equal(a.priority, 'B');
	es_action_release(&a);
	bson_destroy(doc);
}

/* What the API may legitimately write is read, not rejected. */
static void
test_doc_decode_tolerance(void **state)
{
	bson_t *doc;
	struct es_entity e;
	struct es_action a;
	struct es_error err;
	char buf[ES_DATE_BUFSZ];

	(void)state;
	/* A date at 13:45 UTC is that UTC day; one before midnight of the
	 * next day too; nulls are absent; an unknown `sync` and anything the
	 * API adds are ignored; timestamps as whole numbers. */
	doc = J("{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": \"u\","
	    " \"title\": \"T\", \"slug\": \"t\", \"folder\": \"completed\","
	    " \"area\": null, \"type\": null, \"content\": null,"
	    " \"due\": {\"$date\": {\"$numberLong\": \"1762695900000\"}},"
	    " \"completed\": {\"$date\": {\"$numberLong\": \"1762732799999\"}},"
	    " \"created\": {\"$date\": {\"$numberLong\": \"-1\"}},"
	    " \"started\": null, \"extra\": null, \"deleted_at\": null,"
	    " \"created_at\": {\"$numberDouble\": \"1762646400123.0\"},"
	    " \"updated_at\": {\"$numberLong\": \"1762646400456\"},"
	    " \"deleted\": null,"
	    " \"sync\": {\"m1\": {\"v\": 3}}, \"api_version\": 2,"
	    " \"tags\": [\"x\"]}");
	if (es_entity_decode(doc, ES_KIND_PROJECT, &e, &err) != 0)
		fail_msg("%s: %s", err.path, err.msg);
	es_date_format(e.due, buf);
	assert_string_equal(buf, "2025-11-09");
	es_date_format(e.completed, buf);
	assert_string_equal(buf, "2025-11-09");
	es_date_format(e.created, buf);
	assert_string_equal(buf, "1969-12-31");
	assert_int_equal(e.started, ES_DATE_NONE);
	assert_null(e.area);
	assert_int_equal(e.type, ES_PTYPE_NONE);
	assert_int_equal(e.folder, ES_FOLDER_COMPLETED);
	assert_string_equal(e.content, "");
	assert_int_equal(e.content_len, 0);
	assert_int_equal(bson_count_keys(e.extra), 0);
	assert_int_equal(e.meta.created_at, 1762646400123LL);
	assert_int_equal(e.meta.updated_at, 1762646400456LL);
	assert_int_equal(e.meta.deleted_at, 0);
	assert_false(e.meta.deleted);
	es_entity_release(&e);
	bson_destroy(doc);

	/* A goal with project-only fields (even mistyped) reads as a goal. */
	doc = J("{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": \"u\","
	    " \"title\": \"G\", \"slug\": \"g\", \"folder\": \"incubator\","
	    " \"type\": \"goal\", \"due\": \"soon\","
	    " \"updated_at\": {\"$numberInt\": \"42\"}}");
	if (es_entity_decode(doc, ES_KIND_GOAL, &e, &err) != 0)
		fail_msg("%s: %s", err.path, err.msg);
	assert_int_equal(e.kind, ES_KIND_GOAL);
	assert_int_equal(e.type, ES_PTYPE_NONE);
	assert_int_equal(e.due, ES_DATE_NONE);
	assert_int_equal(e.meta.updated_at, 42);
	es_entity_release(&e);
	bson_destroy(doc);

	/* Actions: empty strings are none, a context gets its '@'. */
	doc = J("{\"_id\": {\"$oid\": \"" OID_HEX "\"}, \"user_id\": \"u\","
	    " \"text\": \"buy milk\", \"state\": \"next\", \"context\": \"errands\","
	    " \"project_slug\": \"\", \"priority\": \"\", \"content\": \"\","
	    " \"due\": {\"$date\": {\"$numberLong\": \"1762646400000\"}}}");
	if (es_action_decode(doc, &a, &err) != 0)
		fail_msg("%s: %s", err.path, err.msg);
	assert_string_equal(a.text, "buy milk");
	assert_string_equal(a.context, "@errands");
	assert_null(a.project_slug);
	assert_int_equal(a.priority, 0);
	assert_int_equal(a.state, ES_STATE_NEXT);
	assert_int_equal(es_date_to_ms(a.due), T0);
	assert_int_equal(a.defer, ES_DATE_NONE);
	es_action_release(&a);
	bson_destroy(doc);
}

/* A `$set` body carries only the fields asked for, then updated_at. */
static void
test_doc_encode_set(void **state)
{
	struct es_entity e;
	struct es_action a;
	bson_t body = BSON_INITIALIZER;
	bson_iter_t it;
	uint32_t len;

	(void)state;
	full_project(&e);
	es_entity_encode_set(&e, ES_F_TITLE | ES_F_DUE | ES_F_TEXT, T0 + 7,
	    &body);
	assert_int_equal(bson_count_keys(&body), 3);
	assert_true(bson_iter_init(&it, &body));
	assert_true(bson_iter_next(&it));
	assert_string_equal(bson_iter_key(&it), "title");
	assert_string_equal(bson_iter_utf8(&it, &len), "Learn Rust");
	assert_true(bson_iter_next(&it));
	assert_string_equal(bson_iter_key(&it), "due");
	assert_int_equal(bson_iter_date_time(&it), 1767139200000LL);
	assert_true(bson_iter_next(&it));
	assert_string_equal(bson_iter_key(&it), "updated_at");
	assert_int_equal(bson_iter_date_time(&it), T0 + 7);
	bson_destroy(&body);

	/* An unset date is set to null; the soft-delete bit. */
	e.due = ES_DATE_NONE;
	bson_init(&body);
	es_entity_encode_set(&e, ES_F_DUE | ES_DOC_F_DELETED, T0, &body);
	assert_int_equal(bson_count_keys(&body), 4);
	assert_true(bson_iter_init_find(&it, &body, "due"));
	assert_true(BSON_ITER_HOLDS_NULL(&it));
	assert_true(bson_iter_init_find(&it, &body, "deleted"));
	assert_true(bson_iter_bool(&it));
	assert_true(bson_iter_init_find(&it, &body, "deleted_at"));
	assert_int_equal(bson_iter_date_time(&it), T0 + 9999);
	bson_destroy(&body);

	/* Goals ignore project-only bits. */
	e.kind = ES_KIND_GOAL;
	bson_init(&body);
	es_entity_encode_set(&e, ES_F_TYPE | ES_F_STARTED | ES_F_CONTENT, T0,
	    &body);
	assert_int_equal(bson_count_keys(&body), 2);
	assert_true(bson_has_field(&body, "content"));
	bson_destroy(&body);
	es_entity_release(&e);

	full_action(&a);
	bson_init(&body);
	es_action_encode_set(&a, ES_F_STATE | ES_F_COMPLETED | ES_F_TITLE, T0,
	    &body);
	assert_int_equal(bson_count_keys(&body), 3);
	assert_true(bson_iter_init_find(&it, &body, "state"));
	assert_string_equal(bson_iter_utf8(&it, &len), "waiting");
	assert_true(bson_iter_init_find(&it, &body, "completed"));
	assert_int_equal(bson_iter_date_time(&it), 1763596800000LL);
	bson_destroy(&body);
	es_action_release(&a);
}

/*
 * SPEC 4.10, "whatever the document holds": every byte of a valid document
 * flipped in turn, and every truncation, decodes or fails cleanly (run
 * under ASan/UBSan this also proves no read out of bounds).
 */
static void
test_doc_decode_mutations(void **state)
{
	struct es_entity e;
	struct es_action a;
	bson_t doc = BSON_INITIALIZER, act = BSON_INITIALIZER;
	struct es_error err;
	const bson_t *docs[2];
	int ok = 0, bad = 0;

	(void)state;
	full_project(&e);
	es_entity_encode(&e, "u", &doc);
	es_entity_release(&e);
	full_action(&a);
	es_action_encode(&a, "u", &act);
	es_action_release(&a);
	docs[0] = &doc;
	docs[1] = &act;
	for (int k = 0; k < 2; k++) {
		const uint8_t *src = bson_get_data(docs[k]);
		uint32_t n = docs[k]->len;
		uint8_t *copy = es_xmalloc(n);

		for (uint32_t i = 0; i < n; i++) {
			static const uint8_t flips[] = { 0x01, 0x80, 0xff };

			for (size_t f = 0; f < sizeof(flips); f++) {
				bson_t m;
				int rc;

				memcpy(copy, src, n);
				copy[i] ^= flips[f];
				if (!bson_init_static(&m, copy, n)) {
					bad++;
					continue;
				}
				if (k == 0) {
					rc = es_entity_decode(&m,
					    ES_KIND_PROJECT, &e, &err);
					es_entity_release(&e);
				} else {
					rc = es_action_decode(&m, &a, &err);
					es_action_release(&a);
				}
				if (rc == 0)
					ok++;
				else {
					assert_int_equal(err.code, ES_EPARSE);
					assert_true(strlen(err.msg) > 0);
					bad++;
				}
			}
		}
		free(copy);
	}
	/* Both outcomes happen: flips in string bytes still decode. */
	assert_true(ok > 0);
	assert_true(bad > 0);
	bson_destroy(&doc);
	bson_destroy(&act);
}

/*
 * es_doc_has_update(): whether a document holds what an update writes,
 * the compare-and-swap's "our write landed" besides the version.
 */
static void
test_doc_has_update(void **state)
{
	static const struct {
		const char	*doc, *update;
		bool		 want;
	} t[] = {
		{ "{\"title\": \"A\", \"n\": 1}",
		    "{\"$set\": {\"title\": \"A\"}}", true },
		{ "{\"title\": \"B\"}",
		    "{\"$set\": {\"title\": \"A\"}}", false },
		/* another type, the same number: not ours */
		{ "{\"n\": {\"$numberLong\": \"1\"}}",
		    "{\"$set\": {\"n\": 1}}", false },
		{ "{\"title\": \"A\"}",
		    "{\"$set\": {\"title\": \"A\", \"due\": null}}", false },
		{ "{\"extra\": {\"k\": \"v\"}}",
		    "{\"$set\": {\"extra.k\": \"v\"}}", true },
		{ "{\"extra\": {\"k\": \"w\"}}",
		    "{\"$set\": {\"extra.k\": \"v\"}}", false },
		{ "{\"a\": 1}", "{\"$unset\": {\"b\": \"\"}}", true },
		{ "{\"a\": 1, \"b\": 2}",
		    "{\"$unset\": {\"b\": \"\"}}", false },
		{ "{\"a\": 1}", "{\"$inc\": {\"a\": 1}}", false },
		{ "{\"c\": [1, 2]}", "{\"$set\": {\"c\": [1, 2]}}", true },
		{ "{\"c\": [1, 3]}", "{\"$set\": {\"c\": [1, 2]}}", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bson_t *d = J(t[i].doc), *u = J(t[i].update);

		if (es_doc_has_update(d, u) != t[i].want)
			fail_msg("case %zu: %s with %s: want %d", i, t[i].doc,
			    t[i].update, t[i].want);
		bson_destroy(d);
		bson_destroy(u);
	}
}

static void
test_doc_user_is(void **state)
{
	bson_t *doc = J("{\"user_id\": \"alice\"}");
	bson_t *num = J("{\"user_id\": {\"$numberInt\": \"1\"}}");
	bson_t *none = J("{}");

	(void)state;
	assert_true(es_doc_user_is(doc, "alice"));
	assert_false(es_doc_user_is(doc, "alic"));
	assert_false(es_doc_user_is(doc, "alice2"));
	assert_false(es_doc_user_is(doc, NULL));
	assert_false(es_doc_user_is(num, "1"));
	assert_false(es_doc_user_is(none, "alice"));
	bson_destroy(doc);
	bson_destroy(num);
	bson_destroy(none);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_doc_project_round_trip),
	cmocka_unit_test(test_doc_goal_round_trip),
	cmocka_unit_test(test_doc_action_round_trip),
	cmocka_unit_test(test_doc_project_bson_types),
	cmocka_unit_test(test_doc_action_bson_types),
	cmocka_unit_test(test_doc_decode_errors_table),
	cmocka_unit_test(test_doc_decode_bad_strings),
	cmocka_unit_test(test_doc_decode_tolerance),
	cmocka_unit_test(test_doc_decode_keys_once),
	cmocka_unit_test(test_doc_encode_set),
	cmocka_unit_test(test_doc_decode_mutations),
	cmocka_unit_test(test_doc_user_is),
	cmocka_unit_test(test_doc_has_update),
};

ES_TEST_MAIN(tests)
