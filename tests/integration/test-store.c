/*
 * The database layer against a real server (SPEC §3): indexes, find by user
 * and since, bulk insert with per-document outcomes, compare-and-swap
 * (SPEC 4.12), a server that goes away (SPEC 4.13) and credentials that
 * never reach an error (SPEC 4.11).
 */
#include "es-itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "execsync/doc.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

#define T0	1762646400000LL		/* 2025-11-09T00:00:00Z */
#define SECRET	"s3cr3t-pw"

static bson_t *
mkdoc(const char *user, const char *slug, int64_t updated_at, bson_oid_t *id)
{
	bson_t *d = bson_new();
	bson_oid_t oid;

	bson_oid_init(&oid, NULL);
	if (id)
		bson_oid_copy(&oid, id);
	BSON_APPEND_OID(d, "_id", &oid);
	BSON_APPEND_UTF8(d, "user_id", user);
	if (slug)
		BSON_APPEND_UTF8(d, "slug", slug);
	BSON_APPEND_DATE_TIME(d, "updated_at", updated_at);
	return d;
}

static void
insert_ok(struct es_itest *t, enum es_kind kind, bson_t *doc)
{
	struct es_error err;

	if (es_store_insert(t->store, kind, doc, &err) != 0)
		fail_msg("insert: %s: %s", err.path, err.msg);
	bson_destroy(doc);
}

/* What es_store_find handed to its callback, in order. */
struct seen {
	int		 n;
	int		 stop_after;	/* 0: never */
	bson_oid_t	 ids[16];
	int64_t		 upd[16];
};

static int
collect(const bson_t *doc, void *ud)
{
	struct seen *s = ud;
	bson_iter_t it;

	assert_true(s->n < 16);
	assert_true(bson_iter_init_find(&it, doc, "_id"));
	bson_oid_copy(bson_iter_oid(&it), &s->ids[s->n]);
	assert_true(bson_iter_init_find(&it, doc, "updated_at"));
	s->upd[s->n] = bson_iter_date_time(&it);
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

static void
find_ok(struct es_itest *t, enum es_kind kind, const char *user,
    int64_t since, struct seen *s)
{
	struct es_error err;
	int stop = s->stop_after;

	memset(s, 0, sizeof(*s));
	s->stop_after = stop;
	if (es_store_find(t->store, kind, user, since, collect, s, &err) != 0)
		fail_msg("find: %s: %s", err.path, err.msg);
}

static void
test_store_ping(void **state)
{
	struct es_itest t;
	struct es_error err;

	(void)state;
	es_itest_begin(&t, "ping");
	/* Opening does not talk to the server; the ping is the first command
	 * (the connection handshake is not a command the counter sees). */
	assert_int_equal(es_store_round_trips(t.store), 0);
	if (es_store_ping(t.store, &err) != 0)
		fail_msg("ping: %s", err.msg);
	assert_int_equal(es_store_round_trips(t.store), 1);
	assert_int_equal(es_store_ping(t.store, &err), 0);
	assert_int_equal(es_store_round_trips(t.store), 2);
	assert_string_equal(es_store_collection_name(ES_KIND_PROJECT),
	    "projects");
	assert_string_equal(es_store_collection_name(ES_KIND_GOAL), "goals");
	assert_string_equal(es_store_collection_name(ES_KIND_ACTION),
	    "actions");
	es_itest_end(&t);
}

/* The index names and their uniqueness, as the server lists them. */
static void
assert_indexes(struct es_itest *t, const char *coll, bool want_slug)
{
	mongoc_client_t *c = mongoc_client_new(t->uri);
	mongoc_collection_t *col = mongoc_client_get_collection(c, t->db, coll);
	mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(col,
	    NULL);
	const bson_t *ix;
	bson_iter_t it;
	bool slug = false, upd = false;

	while (mongoc_cursor_next(cur, &ix)) {
		const char *name;

		assert_true(bson_iter_init_find(&it, ix, "name"));
		name = bson_iter_utf8(&it, NULL);
		if (strcmp(name, "user_id_1_slug_1") == 0) {
			slug = true;
			assert_true(bson_iter_init_find(&it, ix, "unique"));
			assert_true(bson_iter_as_bool(&it));
		} else if (strcmp(name, "user_id_1_updated_at_1__id_1") ==
		    0) {
			/* The since-query's order, (updated_at, _id). */
			bson_iter_t key;

			upd = true;
			assert_false(bson_iter_init_find(&it, ix, "unique") &&
			    bson_iter_as_bool(&it));
			assert_true(bson_iter_init_find(&it, ix, "key") &&
			    bson_iter_recurse(&it, &key));
			assert_true(bson_iter_next(&key) && strcmp(
			    bson_iter_key(&key), "user_id") == 0);
			assert_true(bson_iter_next(&key) && strcmp(
			    bson_iter_key(&key), "updated_at") == 0);
			assert_true(bson_iter_next(&key) && strcmp(
			    bson_iter_key(&key), "_id") == 0);
		}
	}
	assert_false(mongoc_cursor_error(cur, NULL));
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
	assert_int_equal(slug, want_slug);
	assert_true(upd);
}

/* SPEC §2: a slug is unique within one user and collection, not across. */
static void
test_store_indexes(void **state)
{
	struct es_itest t;
	struct es_error err;
	bson_t *d;
	char *path;

	(void)state;
	es_itest_begin(&t, "indexes");
	if (es_store_ensure_indexes(t.store, &err) != 0)
		fail_msg("ensure_indexes: %s: %s", err.path, err.msg);
	/* Idempotent. */
	if (es_store_ensure_indexes(t.store, &err) != 0)
		fail_msg("ensure_indexes again: %s: %s", err.path, err.msg);
	assert_indexes(&t, "projects", true);
	assert_indexes(&t, "goals", true);
	assert_indexes(&t, "actions", false);

	insert_ok(&t, ES_KIND_PROJECT, mkdoc("ana", "learn-rust", T0, NULL));
	d = mkdoc("ana", "learn-rust", T0, NULL);
	es_error_clear(&err);
	assert_int_equal(es_store_insert(t.store, ES_KIND_PROJECT, d, &err),
	    -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	path = es_xasprintf("%s/projects", t.db);
	assert_string_equal(err.path, path);
	free(path);
	bson_destroy(d);
	/* Another user, or another collection: no clash. */
	insert_ok(&t, ES_KIND_PROJECT, mkdoc("bob", "learn-rust", T0, NULL));
	insert_ok(&t, ES_KIND_GOAL, mkdoc("ana", "learn-rust", T0, NULL));
	d = mkdoc("ana", "learn-rust", T0, NULL);
	assert_int_equal(es_store_insert(t.store, ES_KIND_GOAL, d, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	bson_destroy(d);
	/* Actions have no slug index. */
	insert_ok(&t, ES_KIND_ACTION, mkdoc("ana", "x", T0, NULL));
	insert_ok(&t, ES_KIND_ACTION, mkdoc("ana", "x", T0, NULL));
	es_itest_end(&t);
}

static int
oid_cmp(const void *a, const void *b)
{
	return bson_oid_compare(a, b);
}

/*
 * Find by user (other users' documents never come back, deleted ones do)
 * and since (updated_at > since); ties at equal updated_at in _id order.
 */
static void
test_store_find(void **state)
{
	struct es_itest t;
	struct seen s;
	bson_oid_t ids[5], tie[3];
	bson_t *d;
	bson_iter_t it;
	bson_t found;
	bool got;
	struct es_error err;
	static const int64_t upd[5] = { T0 + 30, T0 + 20, T0 + 10, T0 + 20,
	    T0 + 20 };

	(void)state;
	es_itest_begin(&t, "find");
	for (int i = 0; i < 5; i++) {
		d = mkdoc("ana", NULL, upd[i], &ids[i]);
		if (i == 0)
			BSON_APPEND_BOOL(d, "deleted", true);
		insert_ok(&t, ES_KIND_ACTION, d);
	}
	insert_ok(&t, ES_KIND_ACTION, mkdoc("bob", NULL, T0 + 15, NULL));
	insert_ok(&t, ES_KIND_ACTION, mkdoc("bob", NULL, T0 + 40, NULL));
	insert_ok(&t, ES_KIND_PROJECT, mkdoc("ana", "p", T0 + 50, NULL));

	/* The three at T0+20, in _id order. */
	tie[0] = ids[1];
	tie[1] = ids[3];
	tie[2] = ids[4];
	qsort(tie, 3, sizeof(tie[0]), oid_cmp);

	/* A full read: every document of the user, deleted ones too, in no
	 * particular order. */
	memset(&s, 0, sizeof(s));
	find_ok(&t, ES_KIND_ACTION, "ana", -1, &s);
	assert_int_equal(s.n, 5);
	for (int i = 0; i < 5; i++) {
		int seen = 0;

		for (int j = 0; j < (int)s.n; j++)
			seen += bson_oid_equal(&s.ids[j], &ids[i]);
		assert_int_equal(seen, 1);
	}

	/* A since-query comes in (updated_at, _id) order; since 0 is a real
	 * bound (the epoch), not "all". */
	find_ok(&t, ES_KIND_ACTION, "ana", 0, &s);
	assert_int_equal(s.n, 5);
	assert_true(bson_oid_equal(&s.ids[0], &ids[2]));
	assert_int_equal(s.upd[0], T0 + 10);
	for (int i = 0; i < 3; i++) {
		assert_true(bson_oid_equal(&s.ids[1 + i], &tie[i]));
		assert_int_equal(s.upd[1 + i], T0 + 20);
	}
	assert_true(bson_oid_equal(&s.ids[4], &ids[0]));	/* deleted too */

	find_ok(&t, ES_KIND_ACTION, "ana", T0 + 10, &s);
	assert_int_equal(s.n, 4);
	assert_true(bson_oid_equal(&s.ids[0], &tie[0]));
	assert_true(bson_oid_equal(&s.ids[3], &ids[0]));
	find_ok(&t, ES_KIND_ACTION, "ana", T0 + 20, &s);
	assert_int_equal(s.n, 1);
	find_ok(&t, ES_KIND_ACTION, "ana", T0 + 30, &s);
	assert_int_equal(s.n, 0);
	find_ok(&t, ES_KIND_ACTION, "bob", -1, &s);
	assert_int_equal(s.n, 2);
	find_ok(&t, ES_KIND_ACTION, "nobody", -1, &s);
	assert_int_equal(s.n, 0);
	find_ok(&t, ES_KIND_PROJECT, "ana", -1, &s);
	assert_int_equal(s.n, 1);
	/* The callback stops the walk early: not an error. */
	s.stop_after = 2;
	find_ok(&t, ES_KIND_ACTION, "ana", -1, &s);
	assert_int_equal(s.n, 2);

	/* find_one by _id. */
	if (es_store_find_one(t.store, ES_KIND_ACTION, &ids[3], &found, &got,
	    &err) != 0)
		fail_msg("find_one: %s", err.msg);
	assert_true(got);
	assert_true(bson_iter_init_find(&it, &found, "_id"));
	assert_true(bson_oid_equal(bson_iter_oid(&it), &ids[3]));
	assert_true(es_doc_user_is(&found, "ana"));
	bson_destroy(&found);
	/* Wrong collection, or an id nobody has: not found, not an error. */
	assert_int_equal(es_store_find_one(t.store, ES_KIND_GOAL, &ids[3],
	    &found, &got, &err), 0);
	assert_false(got);
	es_itest_end(&t);
}

/*
 * Unordered bulk insert in batches: duplicates inside the input and
 * against what is stored are status 1, a document libmongoc refuses is -1,
 * the rest is inserted; one command per batch.
 */
static void
test_store_insert_many(void **state)
{
	struct es_itest t;
	struct es_error err;
	bson_t *docs[8];
	int status[8];
	bson_oid_t pre;
	uint64_t before;
	struct seen s;
	static const int want[8] = { 0, 0, 1, 0, 1, -1, 0, 0 };

	(void)state;
	es_itest_begin(&t, "bulk");
	insert_ok(&t, ES_KIND_ACTION, mkdoc("ana", NULL, T0, &pre));
	for (int i = 0; i < 8; i++)
		docs[i] = mkdoc("ana", NULL, T0 + i, NULL);
	/* [2] repeats [0]'s _id (same batch); [4] the stored one's (batch 2). */
	bson_destroy(docs[2]);
	docs[2] = bson_copy(docs[0]);
	bson_destroy(docs[4]);
	docs[4] = bson_new();
	BSON_APPEND_OID(docs[4], "_id", &pre);
	BSON_APPEND_UTF8(docs[4], "user_id", "ana");
	BSON_APPEND_DATE_TIME(docs[4], "updated_at", T0 + 4);
	/* [5] has a key libmongoc will not insert. */
	BSON_APPEND_INT32(docs[5], "$bad", 1);

	before = es_store_round_trips(t.store);
	es_error_clear(&err);
	assert_int_equal(es_store_insert_many(t.store, ES_KIND_ACTION,
	    (const bson_t *const *)docs, 8, 3, status, &err), 0);
	/*
	 * ceil(8 / 3) = 3 insert commands and nothing else: the duplicates
	 * come back as writeErrors of their batch, the bad key is refused
	 * before sending.
	 */
	assert_int_equal(es_store_round_trips(t.store) - before, 3);
	for (int i = 0; i < 8; i++)
		if (status[i] != want[i])
			fail_msg("status[%d] = %d, want %d", i, status[i],
			    want[i]);
	assert_int_equal(err.code, ES_EDB);
	assert_true(strlen(err.msg) > 0);
	/* 1 stored before + 5 inserted. */
	memset(&s, 0, sizeof(s));
	find_ok(&t, ES_KIND_ACTION, "ana", -1, &s);
	assert_int_equal(s.n, 6);

	/* The same again: every one is already there (or still bad). */
	before = es_store_round_trips(t.store);
	assert_int_equal(es_store_insert_many(t.store, ES_KIND_ACTION,
	    (const bson_t *const *)docs, 8, 100, status, &err), 0);
	assert_int_equal(es_store_round_trips(t.store) - before, 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(status[i], i == 5 ? -1 : 1);
	assert_int_equal(es_store_insert_many(t.store, ES_KIND_ACTION, NULL, 0,
	    3, status, &err), 0);
	for (int i = 0; i < 8; i++)
		bson_destroy(docs[i]);
	es_itest_end(&t);
}

static void
read_project(struct es_itest *t, const bson_oid_t *id, struct es_entity *e)
{
	bson_t doc;
	bool found;
	struct es_error err;

	if (es_store_find_one(t->store, ES_KIND_PROJECT, id, &doc, &found,
	    &err) != 0)
		fail_msg("find_one: %s", err.msg);
	assert_true(found);
	if (es_entity_decode(&doc, ES_KIND_PROJECT, e, &err) != 0)
		fail_msg("decode: %s: %s", err.path, err.msg);
	bson_destroy(&doc);
}

/*
 * Our write of title over e (user's, at version expected), setting now;
 * check: the meaning e has is checked too. Whether it was applied.
 */
static bool
cas_title_op(struct es_itest *t, const struct es_entity *e, const char *user,
    int64_t expected, bool check, const char *title, int64_t now)
{
	struct es_entity mine;
	bson_t update = BSON_INITIALIZER, body = BSON_INITIALIZER;
	struct es_store_cas op;
	struct es_error err;
	bool matched;

	memset(&op, 0, sizeof(op));
	es_entity_copy(&mine, e);
	free(mine.title);
	mine.title = es_xstrdup(title);
	es_entity_encode_set(&mine, ES_F_TITLE, now, &body);
	BSON_APPEND_DOCUMENT(&update, "$set", &body);
	op.id = e->meta.id;
	op.expected_updated_at_ms = expected;
	op.new_updated_at_ms = now;
	op.update = &update;
	op.check_meaning = check;
	op.expect_fp = es_entity_fingerprint(e);
	if (es_store_update_cas_op(t->store, ES_KIND_PROJECT, user, &op,
	    &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	bson_destroy(&body);
	bson_destroy(&update);
	es_entity_release(&mine);
	return matched;
}

static bool
cas_title(struct es_itest *t, const struct es_entity *e, const char *user,
    int64_t expected, const char *title, int64_t now)
{
	return cas_title_op(t, e, user, expected, false, title, now);
}

/*
 * Two writers start from one version and pick the same next one (their
 * clocks behind the API's: both take expected + 1). The second write is
 * lost, never taken for "ours landed" because the document carries the
 * version it would have set (issue 17, seed 20466: the edit vanished).
 */
static void
test_store_cas_same_version_other_writer(void **state)
{
	struct es_itest t;
	struct es_entity v0, v1;
	bson_t doc;
	bson_oid_t id;
	int64_t next;

	(void)state;
	es_itest_begin(&t, "cas_same");
	es_itest_peer(&t, "create-project",
	    "{\"title\": \"Plan\", \"area\": \"Work\"}", &doc);
	es_itest_oid(&doc, "_id", &id);
	bson_destroy(&doc);
	read_project(&t, &id, &v0);
	next = v0.meta.updated_at + 1;
	/* The other machine's write lands first. */
	assert_true(cas_title(&t, &v0, t.user, v0.meta.updated_at, "Theirs",
	    next));
	/* Ours, from the same version to the same next one: lost. */
	assert_false(cas_title(&t, &v0, t.user, v0.meta.updated_at, "Mine",
	    next));
	read_project(&t, &id, &v1);
	assert_string_equal(v1.title, "Theirs");
	/* Ours again, after a late landing of the same write: still ours. */
	assert_true(cas_title(&t, &v1, t.user, v1.meta.updated_at, "Mine",
	    next + 1));
	assert_true(cas_title(&t, &v1, t.user, v1.meta.updated_at, "Mine",
	    next + 1));
	es_entity_release(&v0);
	es_entity_release(&v1);
	es_itest_end(&t);
}

/*
 * The API, its clock gone back, stamps its edit with the very version we
 * read: the version alone says "unchanged" and our write overwrote the
 * edit (issue 17, seed 376645). With the meaning checked it is lost, in
 * both forms of the compare-and-swap; without, it is not (the check is
 * what catches it).
 */
static void
test_store_cas_same_version_other_meaning(void **state)
{
	struct es_itest t;
	struct es_entity v0, v1;
	bson_t doc;
	bson_oid_t id;
	char hex[25], *set;

	(void)state;
	es_itest_begin(&t, "cas_meaning");
	for (int form = 0; form < 2; form++) {
		es_store_set_flavor(t.store, form == 0 ? ES_STORE_FERRETDB :
		    ES_STORE_MONGODB);
		es_itest_peer(&t, "create-project", form == 0 ?
		    "{\"title\": \"Plan\", \"area\": \"Work\"}" :
		    "{\"title\": \"Plan B\", \"area\": \"Work\"}", &doc);
		es_itest_oid(&doc, "_id", &id);
		bson_destroy(&doc);
		read_project(&t, &id, &v0);
		bson_oid_to_string(&id, hex);
		set = es_xasprintf("{\"collection\": \"projects\", \"id\": "
		    "\"%s\", \"set\": {\"title\": \"Theirs\", "
		    "\"updated_at\": {\"$date\": {\"$numberLong\": "
		    "\"%lld\"}}}}", hex, (long long)v0.meta.updated_at);
		es_itest_peer(&t, "update-raw", set, &doc);
		bson_destroy(&doc);
		free(set);
		assert_false(cas_title_op(&t, &v0, t.user,
		    v0.meta.updated_at, true, "Mine", v0.meta.updated_at + 1));
		read_project(&t, &id, &v1);
		assert_string_equal(v1.title, "Theirs");
		assert_int_equal(v1.meta.updated_at, v0.meta.updated_at);
		/* The version alone: the API's edit overwritten. */
		assert_true(cas_title_op(&t, &v0, t.user,
		    v0.meta.updated_at, false, "Mine", v0.meta.updated_at + 1));
		es_entity_release(&v1);
		read_project(&t, &id, &v1);
		assert_string_equal(v1.title, "Mine");
		/* From what it means now: ours goes through. */
		assert_true(cas_title_op(&t, &v1, t.user,
		    v1.meta.updated_at, true, "Mine again",
		    v1.meta.updated_at + 1));
		es_entity_release(&v0);
		es_entity_release(&v1);
	}
	es_itest_end(&t);
}

/*
 * SPEC 4.12, deterministic interleaving (FerretDB updates are not atomic,
 * so no racing threads): we read, the API writes, our write with the old
 * version is refused and the API's change survives; with the fresh version
 * it goes through.
 */
static void
test_store_cas(void **state)
{
	struct es_itest t;
	struct es_entity v0, v1, v2;
	bson_t doc;
	bson_oid_t id;
	int64_t now;

	(void)state;
	es_itest_begin(&t, "cas");
	es_itest_peer(&t, "create-project",
	    "{\"title\": \"Learn Rust\", \"area\": \"Learning\"}", &doc);
	es_itest_oid(&doc, "_id", &id);
	bson_destroy(&doc);
	read_project(&t, &id, &v0);
	assert_string_equal(v0.title, "Learn Rust");
	assert_int_equal(v0.due, ES_DATE_NONE);

	es_itest_peer(&t, "update-project",
	    "{\"slug\": \"learn-rust\", \"set\": {\"due\": \"2026-01-31\"}}",
	    &doc);
	bson_destroy(&doc);
	read_project(&t, &id, &v1);
	if (v1.meta.updated_at == v0.meta.updated_at)
		fail_msg("the peer's update kept updated_at %lld",
		    (long long)v0.meta.updated_at);

	now = es_itest_now_ms();
	/* Stale version: refused, nothing written. */
	assert_false(cas_title(&t, &v0, "ana", v0.meta.updated_at,
	    "Learn Rust (ours)", now));
	read_project(&t, &id, &v2);
	assert_int_equal(es_entity_diff(&v1, &v2), 0);
	assert_int_equal(v2.meta.updated_at, v1.meta.updated_at);
	assert_int_equal(es_date_to_ms(v2.due), es_itest_day_ms("2026-01-31"));
	es_entity_release(&v2);
	/* Right version, wrong user: refused too. */
	assert_false(cas_title(&t, &v1, "bob", v1.meta.updated_at,
	    "Learn Rust (ours)", now));
	/* Re-read version: applied, and the API's due is still there. */
	assert_true(cas_title(&t, &v1, "ana", v1.meta.updated_at,
	    "Learn Rust (ours)", now));
	read_project(&t, &id, &v2);
	assert_string_equal(v2.title, "Learn Rust (ours)");
	assert_int_equal(es_date_to_ms(v2.due), es_itest_day_ms("2026-01-31"));
	assert_int_equal(v2.meta.updated_at, now);
	assert_int_equal(es_entity_diff(&v1, &v2), ES_F_TITLE);
	/*
	 * The same write again (a retry of one whose answer was lost): the
	 * document already carries our version, so it is ours, not a lost
	 * race; for another user it is not.
	 */
	assert_true(cas_title(&t, &v1, "ana", v1.meta.updated_at,
	    "Learn Rust (ours)", now));
	assert_false(cas_title(&t, &v1, "bob", v1.meta.updated_at,
	    "Learn Rust (ours)", now));
	/* And that version is now stale in turn. */
	assert_false(cas_title(&t, &v1, "ana", v1.meta.updated_at, "again",
	    now + 1));

	es_entity_release(&v0);
	es_entity_release(&v1);
	es_entity_release(&v2);
	es_itest_end(&t);
}

/* "mongodb://host..." -> "mongodb://execsync:SECRET@host...". */
static char *
with_credentials(const char *uri)
{
	const char *p = strstr(uri, "://");

	assert_non_null(p);
	return es_xasprintf("%.*s://execsync:" SECRET "@%s", (int)(p - uri),
	    uri, p + 3);
}

static void
assert_clean_db_error(const struct es_error *err)
{
	char line[1024];

	es_error_format(err, line, sizeof(line));
	print_message("%s\n", line);
	assert_int_equal(err->code, ES_EDB);
	assert_true(strlen(err->msg) > 0);
	if (strstr(line, SECRET) != NULL)
		fail_msg("password in error: %s", line);
}

/* SPEC 4.11: a URI libmongoc rejects, or an unreachable server. */
static void
test_store_bad_uri(void **state)
{
	struct es_store *s;
	struct es_error err;
	char line[1024];
	int64_t t0;

	(void)state;
	es_error_clear(&err);
	s = es_store_open("mongodb://execsync:" SECRET "@/nohost", "db", 1000,
	    &err);
	assert_null(s);
	assert_int_equal(err.code, ES_ECONFIG);
	es_error_format(&err, line, sizeof(line));
	assert_non_null(strstr(line, "bad mongodb uri"));
	if (strstr(line, SECRET) != NULL)
		fail_msg("password in error: %s", line);
	s = es_store_open("http://x", "db", 1000, &err);
	assert_null(s);
	assert_int_equal(err.code, ES_ECONFIG);
	assert_null(es_store_open("mongodb://x", "", 1000, &err));
	es_store_free(NULL);

	/* Port 1 on loopback: nothing listens, refused at once. */
	s = es_store_open("mongodb://execsync:" SECRET "@127.0.0.1:1/", "db",
	    1000, &err);
	assert_non_null(s);
	t0 = es_itest_mono_ms();
	assert_int_equal(es_store_ping(s, &err), -1);
	assert_clean_db_error(&err);
	assert_string_equal(err.path, "db");
	assert_int_equal(es_store_ensure_indexes(s, &err), -1);
	assert_clean_db_error(&err);
	assert_string_equal(err.path, "db/projects");
	assert_true(es_itest_mono_ms() - t0 < 5000);
	/* Its chunks are sized to the timeout given, or the URI's. */
	assert_int_equal(es_store_socket_timeout(s), 1000);
	es_store_free(s);
	s = es_store_open("mongodb://127.0.0.1:1/?socketTimeoutMS=250", "db",
	    1000, &err);
	assert_non_null(s);
	assert_int_equal(es_store_socket_timeout(s), 250);
	es_store_free(s);
	/* 0 means libmongoc's default, five minutes. */
	s = es_store_open("mongodb://127.0.0.1:1/?socketTimeoutMS=0", "db",
	    1000, &err);
	assert_non_null(s);
	assert_int_equal(es_store_socket_timeout(s), 300000);
	es_store_free(s);
}

static int
count_cb(const bson_t *doc, void *ud)
{
	(void)doc;
	(*(int *)ud)++;
	return 0;
}

static void
fixture(const char *verb, const char *dir)
{
	const char *src = getenv("ES_SOURCE_DIR");
	char *script, *argv[4];
	struct es_buf out, errout;
	int rc;

	assert_non_null(src);
	script = es_xasprintf("%s/tests/ferretdb-fixture", src);
	argv[0] = script;
	argv[1] = (char *)verb;
	argv[2] = (char *)dir;
	argv[3] = NULL;
	es_buf_init(&out, 0);
	es_buf_init(&errout, 0);
	rc = es_itest_run(argv, &out, &errout, 30);
	if (rc != 0)
		fail_msg("ferretdb-fixture %s: exit %d: %s", verb, rc,
		    errout.buf);
	es_buf_release(&out);
	es_buf_release(&errout);
	free(script);
}

/*
 * SPEC 4.13: the server goes away under an open store. Every call fails
 * within a bound with a clean ES_EDB error that never shows the password,
 * and the bulk insert says which documents were not sent.
 */
static void
test_store_server_stopped(void **state)
{
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	char *tmp, *fdb, *path, *uri, *cred;
	char line[4096];
	FILE *f;
	struct es_store *s;
	struct es_error err;
	bson_t *docs[3];
	int status[3], n = 0;
	int64_t t0, took;

	(void)state;
	if (env != NULL && env[0] != '\0')
		skip();		/* the fixture starts no server of its own */
	tmp = es_itest_tmpdir("stop");
	fdb = es_xasprintf("%s/fdb", tmp);
	fixture("start", fdb);
	path = es_xasprintf("%s/uri", fdb);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	uri = es_xstrdup(line);
	/*
	 * FerretDB without authentication refuses credentials (SCRAM is
	 * unsupported): a refused login is a configuration error (SPEC §1,
	 * exit 2), said as such, without the password.
	 */
	cred = with_credentials(uri);
	s = es_store_open(cred, "es_t_stop", 3000, &err);
	if (s == NULL)
		fail_msg("open: %s", err.msg);
	assert_int_equal(es_store_ping(s, &err), -1);
	es_error_format(&err, line, sizeof(line));
	assert_int_equal(err.code, ES_ECONFIG);
	assert_non_null(strstr(line, "refused the user name or password"));
	if (strstr(line, SECRET) != NULL)
		fail_msg("password in error: %s", line);
	es_store_free(s);

	s = es_store_open(uri, "es_t_stop", 3000, &err);
	if (s == NULL)
		fail_msg("open: %s", err.msg);
	if (es_store_ping(s, &err) != 0)
		fail_msg("ping: %s", err.msg);
	assert_int_equal(es_store_find(s, ES_KIND_PROJECT, "ana", -1, count_cb,
	    &n, &err), 0);

	fixture("stop", fdb);
	t0 = es_itest_mono_ms();
	/* The first call may see the broken connection, the next ones fail
	 * server selection: all of them are errors. */
	assert_int_equal(es_store_ping(s, &err), -1);
	assert_clean_db_error(&err);
	assert_int_equal(es_store_ping(s, &err), -1);
	assert_clean_db_error(&err);
	assert_int_equal(es_store_find(s, ES_KIND_PROJECT, "ana", -1, count_cb,
	    &n, &err), -1);
	assert_clean_db_error(&err);
	assert_string_equal(err.path, "es_t_stop/projects");
	for (int i = 0; i < 3; i++)
		docs[i] = mkdoc("ana", NULL, T0, NULL);
	assert_int_equal(es_store_insert_many(s, ES_KIND_ACTION,
	    (const bson_t *const *)docs, 3, 2, status, &err), -1);
	assert_clean_db_error(&err);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(status[i], -2);
		bson_destroy(docs[i]);
	}
	/* No answer is never a lost race: unknown, retried, then -1. */
	{
		struct es_store_cas op;
		enum es_store_cas_status st = ES_STORE_CAS_LOST;
		bson_t upd = BSON_INITIALIZER, set;
		bool matched = true;

		memset(&op, 0, sizeof(op));
		BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &set);
		BSON_APPEND_DATE_TIME(&set, "updated_at", T0 + 1);
		bson_append_document_end(&upd, &set);
		bson_oid_init(&op.id, NULL);
		op.expected_updated_at_ms = T0;
		op.new_updated_at_ms = T0 + 1;
		op.update = &upd;
		assert_int_equal(es_store_update_cas_many(s, ES_KIND_ACTION,
		    "ana", &op, 1, &st, &err), -1);
		assert_clean_db_error(&err);
		assert_int_equal(st, ES_STORE_CAS_UNKNOWN);
		assert_int_equal(es_store_update_cas(s, ES_KIND_ACTION,
		    &op.id, "ana", T0, T0 + 1, &upd, &matched, &err), -1);
		assert_clean_db_error(&err);
		assert_false(matched);
		bson_destroy(&upd);
	}
	took = es_itest_mono_ms() - t0;
	print_message("failing took %lld ms\n", (long long)took);
	if (took >= 15000)
		fail_msg("failing took %lld ms", (long long)took);
	assert_int_equal(n, 0);

	es_store_free(s);
	es_itest_rm_rf(tmp);
	free(cred);
	free(uri);
	free(path);
	free(fdb);
	free(tmp);
}

/*
 * SPEC 4.12 in bulk: three compare-and-swap writes in one round trip; the
 * API changed one document between our read and our write, so exactly that
 * write is refused (and one more read says which), the other two apply,
 * and the API's change survives.
 */
static void
test_store_cas_many(void **state)
{
	struct es_itest t;
	struct es_entity v[3], after;
	struct es_store_cas ops[3];
	bson_t upd[3], doc;
	bson_oid_t id[3];
	enum es_store_cas_status st[3];
	struct es_error err;
	uint64_t rt0;
	int64_t now;
	static const char *const titles[3] = { "Alpha", "Beta", "Gamma" };

	(void)state;
	memset(ops, 0, sizeof(ops));
	es_itest_begin(&t, "casmany");
	/* The true filter, which FerretDB runs too (slowly): its costs. */
	es_store_set_flavor(t.store, ES_STORE_MONGODB);
	for (int i = 0; i < 3; i++) {
		char json[128];

		snprintf(json, sizeof(json),
		    "{\"title\": \"%s\", \"area\": \"Work\"}", titles[i]);
		es_itest_peer(&t, "create-project", json, &doc);
		es_itest_oid(&doc, "_id", &id[i]);
		bson_destroy(&doc);
		read_project(&t, &id[i], &v[i]);
	}
	/* The API edits Beta after we read it. */
	es_itest_peer(&t, "update-project",
	    "{\"slug\": \"beta\", \"set\": {\"due\": \"2026-03-03\"}}",
	    &doc);
	bson_destroy(&doc);
	now = es_itest_now_ms();
	for (int i = 0; i < 3; i++) {
		bson_t body = BSON_INITIALIZER;

		free(v[i].title);
		v[i].title = es_xstrdup("Renamed by us");
		es_entity_encode_set(&v[i], ES_F_TITLE, now + i, &body);
		bson_init(&upd[i]);
		BSON_APPEND_DOCUMENT(&upd[i], "$set", &body);
		bson_destroy(&body);
		ops[i].id = id[i];
		ops[i].expected_updated_at_ms = v[i].meta.updated_at;
		ops[i].new_updated_at_ms = now + i;
		ops[i].update = &upd[i];
	}
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "ana", ops, 3,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	/* One bulk update, and one read because not all matched. */
	assert_int_equal(es_store_round_trips(t.store) - rt0, 2);
	assert_int_equal(st[0], ES_STORE_CAS_DONE);
	assert_int_equal(st[1], ES_STORE_CAS_LOST);
	assert_int_equal(st[2], ES_STORE_CAS_DONE);
	read_project(&t, &id[1], &after);
	assert_string_equal(after.title, "Beta");
	assert_int_equal(es_date_to_ms(after.due), es_itest_day_ms("2026-03-03"));
	es_entity_release(&after);
	read_project(&t, &id[2], &after);
	assert_string_equal(after.title, "Renamed by us");
	assert_int_equal(after.meta.updated_at, now + 2);
	es_entity_release(&after);

	/* All fresh: one round trip, all applied. */
	read_project(&t, &id[1], &after);
	ops[1].expected_updated_at_ms = after.meta.updated_at;
	es_entity_release(&after);
	rt0 = es_store_round_trips(t.store);
	ops[0].expected_updated_at_ms = now;
	ops[2].expected_updated_at_ms = now + 2;
	for (int i = 0; i < 3; i++) {
		bson_t body = BSON_INITIALIZER;

		bson_destroy(&upd[i]);
		es_entity_encode_set(&v[i], ES_F_TITLE, now + 10 + i, &body);
		bson_init(&upd[i]);
		BSON_APPEND_DOCUMENT(&upd[i], "$set", &body);
		bson_destroy(&body);
		ops[i].new_updated_at_ms = now + 10 + i;
	}
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "ana", ops, 3,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(st[i], ES_STORE_CAS_DONE);

	/*
	 * The same writes again, as after a chunk that got no answer: none
	 * matches any more, and the read finds our versions on all three:
	 * done, not lost (issue 19 item 8).
	 */
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "ana", ops, 3,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(st[i], ES_STORE_CAS_DONE);
		read_project(&t, &id[i], &after);
		assert_int_equal(after.meta.updated_at, now + 10 + i);
		es_entity_release(&after);
	}
	/* Another user's document is never taken for ours. */
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "bob", ops, 3,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	for (int i = 0; i < 3; i++)
		assert_int_equal(st[i], ES_STORE_CAS_LOST);
	for (int i = 0; i < 3; i++) {
		bson_destroy(&upd[i]);
		es_entity_release(&v[i]);
	}
	es_itest_end(&t);
}

/* A project document of ana's, created through the API; its version. */
static int64_t
api_project(struct es_itest *t, const char *title, bson_oid_t *id)
{
	char json[128];
	bson_t doc;
	int64_t ua;

	snprintf(json, sizeof(json), "{\"title\": \"%s\", \"area\": "
	    "\"Work\"}", title);
	es_itest_peer(t, "create-project", json, &doc);
	es_itest_oid(&doc, "_id", id);
	ua = es_itest_date(&doc, "updated_at");
	bson_destroy(&doc);
	return ua;
}

/* {$set: {title, updated_at: ua}} */
static void
title_update(bson_t *upd, const char *title, int64_t ua)
{
	bson_t set;

	bson_init(upd);
	BSON_APPEND_DOCUMENT_BEGIN(upd, "$set", &set);
	BSON_APPEND_UTF8(&set, "title", title);
	BSON_APPEND_DATE_TIME(&set, "updated_at", ua);
	bson_append_document_end(upd, &set);
}

/*
 * Issue 19 item 8: a write the server did but whose answer never came (a
 * socket timeout; es__store_lose_replies drops the answer after the
 * server did the write) is sent again, and recognised as ours by the
 * version it set: done, never a lost race. With every try unanswered it
 * is unknown (-1), still never lost.
 */
static void
test_store_lost_answers(void **state)
{
	struct es_itest t;
	struct es_store_cas ops[3];
	enum es_store_cas_status st[3];
	bson_t upd[3], *docs[5];
	bson_oid_t id[3];
	struct es_entity after;
	struct es_error err;
	int64_t now = es_itest_now_ms(), v[3];
	uint64_t rt0;
	int status[5];
	bool matched = false;
	struct seen s;

	(void)state;
	memset(ops, 0, sizeof(ops));
	es_itest_begin(&t, "lostans");
	/* The true filter's costs; the lone-_id form's: test_store_cas_lone. */
	es_store_set_flavor(t.store, ES_STORE_MONGODB);
	for (int i = 0; i < 3; i++) {
		char title[16];

		snprintf(title, sizeof(title), "P%d", i);
		v[i] = api_project(&t, title, &id[i]);
		title_update(&upd[i], "Ours", now + i);
		ops[i].id = id[i];
		ops[i].expected_updated_at_ms = v[i];
		ops[i].new_updated_at_ms = now + i;
		ops[i].update = &upd[i];
	}
	/*
	 * The bulk of two: done, its answer lost. Sent again a quarter the
	 * size (a chunk without an answer took the whole timeout), so one at
	 * a time: each update matches nothing, its read finds our version.
	 */
	es__store_lose_replies = 1;
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "ana", ops, 2,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	assert_int_equal(es__store_lose_replies, 0);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 1 + 2 * 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(st[i], ES_STORE_CAS_DONE);
		read_project(&t, &id[i], &after);
		assert_string_equal(after.title, "Ours");
		assert_int_equal(after.meta.updated_at, now + i);
		es_entity_release(&after);
	}
	/* The single compare-and-swap: the same. */
	es__store_lose_replies = 1;
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[2], "ana", v[2],
	    now + 2, &upd[2], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_true(matched);
	read_project(&t, &id[2], &after);
	assert_int_equal(after.meta.updated_at, now + 2);
	es_entity_release(&after);

	/* No answer to any try: unknown (-1, a timeout in err), not lost,
	 * though the server did write; the next call finds it done. */
	for (int i = 0; i < 3; i++) {
		bson_destroy(&upd[i]);
		title_update(&upd[i], "Ours again", now + 10 + i);
		ops[i].expected_updated_at_ms = now + i;
		ops[i].new_updated_at_ms = now + 10 + i;
	}
	es__store_lose_replies = ES_STORE_WRITE_TRIES;
	assert_int_equal(es_store_update_cas_many(t.store, ES_KIND_PROJECT,
	    "ana", ops, 3, st, &err), -1);
	assert_int_equal(err.code, ES_EDB);
	assert_non_null(strstr(err.msg, "timeout"));
	for (int i = 0; i < 3; i++)
		assert_int_equal(st[i], ES_STORE_CAS_UNKNOWN);
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "ana", ops, 3,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	for (int i = 0; i < 3; i++)
		assert_int_equal(st[i], ES_STORE_CAS_DONE);

	/* Inserts: the chunk sent again comes back as already present. */
	for (int i = 0; i < 5; i++)
		docs[i] = mkdoc("ana", NULL, T0 + i, NULL);
	es__store_lose_replies = 1;
	assert_int_equal(es_store_insert_many(t.store, ES_KIND_ACTION,
	    (const bson_t *const *)docs, 5, 0, status, &err), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(status[i], 1);
		bson_destroy(docs[i]);
	}
	memset(&s, 0, sizeof(s));
	find_ok(&t, ES_KIND_ACTION, "ana", -1, &s);
	assert_int_equal(s.n, 5);
	for (int i = 0; i < 3; i++)
		bson_destroy(&upd[i]);
	es__store_lose_replies = 0;
	es_itest_end(&t);
}

/*
 * Issue 16 item 2: on FerretDB the compare-and-swap reads the version by
 * lone _id and updates by lone _id (its true filter scans the collection).
 * The fixture's server is found to be FerretDB; the commands sent say
 * which form ran: a stale version costs one read and no update (the true
 * filter sends the update, then reads); a matching one a read and an
 * update; an earlier write of ours that landed, a read.
 */
static void
test_store_cas_lone(void **state)
{
	struct es_itest t;
	struct es_store_cas ops[3];
	enum es_store_cas_status st[3];
	bson_t upd[3];
	bson_oid_t id[3];
	struct es_entity after;
	struct es_error err;
	int64_t now = es_itest_now_ms(), v[3];
	uint64_t rt0;
	bool matched = true;

	(void)state;
	memset(ops, 0, sizeof(ops));
	es_itest_begin(&t, "caslone");
	assert_int_equal(es_store_flavor(t.store), ES_STORE_AUTO);
	if (es_store_ping(t.store, &err) != 0)
		fail_msg("ping: %s", err.msg);
	assert_int_equal(es_store_flavor(t.store), ES_STORE_FERRETDB);
	for (int i = 0; i < 3; i++) {
		char title[16];

		snprintf(title, sizeof(title), "P%d", i);
		v[i] = api_project(&t, title, &id[i]);
		title_update(&upd[i], "Ours", now + i);
		ops[i].id = id[i];
		ops[i].expected_updated_at_ms = v[i];
		ops[i].new_updated_at_ms = now + i;
		ops[i].update = &upd[i];
	}
	/* A stale expected version: LOST, after one read, nothing sent. */
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[0], "ana",
	    v[0] - 1, now, &upd[0], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_false(matched);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 1);
	read_project(&t, &id[0], &after);
	assert_string_equal(after.title, "P0");
	es_entity_release(&after);
	/* Another user's: LOST, untouched. */
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[0], "bob",
	    v[0], now, &upd[0], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_false(matched);
	/* The matching version: DONE, a read and an update. */
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[0], "ana",
	    v[0], now, &upd[0], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_true(matched);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 2);
	read_project(&t, &id[0], &after);
	assert_string_equal(after.title, "Ours");
	assert_int_equal(after.meta.updated_at, now);
	es_entity_release(&after);
	/* The same write again (ours landed): DONE, a read only. */
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[0], "ana",
	    v[0], now, &upd[0], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_true(matched);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 1);

	/*
	 * Many: [0] ours already, [1] stale, [2] fresh: three lone reads
	 * and one update (of [2] alone).
	 */
	ops[1].expected_updated_at_ms = v[1] - 1;
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas_many(t.store, ES_KIND_PROJECT, "ana", ops, 3,
	    st, &err) != 0)
		fail_msg("cas_many: %s", err.msg);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 3 + 1);
	assert_int_equal(st[0], ES_STORE_CAS_DONE);
	assert_int_equal(st[1], ES_STORE_CAS_LOST);
	assert_int_equal(st[2], ES_STORE_CAS_DONE);
	read_project(&t, &id[1], &after);
	assert_string_equal(after.title, "P1");
	es_entity_release(&after);
	read_project(&t, &id[2], &after);
	assert_string_equal(after.title, "Ours");
	assert_int_equal(after.meta.updated_at, now + 2);
	es_entity_release(&after);

	/* The update's answer lost: sent again, the read finds ours. */
	bson_destroy(&upd[1]);
	title_update(&upd[1], "Ours", now + 1);
	es__store_lose_replies = 1;
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[1], "ana",
	    v[1], now + 1, &upd[1], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_int_equal(es__store_lose_replies, 0);
	assert_true(matched);
	read_project(&t, &id[1], &after);
	assert_int_equal(after.meta.updated_at, now + 1);
	es_entity_release(&after);

	/* Forced to the true filter: a stale version sends the update. */
	es_store_set_flavor(t.store, ES_STORE_MONGODB);
	rt0 = es_store_round_trips(t.store);
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[2], "ana",
	    v[2], now + 20, &upd[2], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_false(matched);
	assert_int_equal(es_store_round_trips(t.store) - rt0, 2);
	/* And a first compare-and-swap without a ping asks the server. */
	es_store_set_flavor(t.store, ES_STORE_AUTO);
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &id[2], "ana",
	    v[2], now + 20, &upd[2], &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_false(matched);
	assert_int_equal(es_store_flavor(t.store), ES_STORE_FERRETDB);
	for (int i = 0; i < 3; i++)
		bson_destroy(&upd[i]);
	es__store_lose_replies = 0;
	es_itest_end(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_store_ping),
	cmocka_unit_test(test_store_indexes),
	cmocka_unit_test(test_store_find),
	cmocka_unit_test(test_store_insert_many),
	cmocka_unit_test(test_store_cas),
	cmocka_unit_test(test_store_cas_same_version_other_writer),
	cmocka_unit_test(test_store_cas_same_version_other_meaning),
	cmocka_unit_test(test_store_cas_many),
	cmocka_unit_test(test_store_lost_answers),
	cmocka_unit_test(test_store_cas_lone),
	cmocka_unit_test(test_store_bad_uri),
	cmocka_unit_test(test_store_server_stopped),
};

ES_ITEST_MAIN(tests)
