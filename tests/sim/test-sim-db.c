/*
 * The simulated database (tests/sim/sim-db.c, issue 17): the engine's
 * table (world.h) as strict as the real store, the API's side, faults,
 * and the change log.
 */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/doc.h"
#include "execsync/rules.h"
#include "execsync/store.h"
#include "execsync/world.h"
#include "execsync/xmalloc.h"

#include "sim-db.h"
#include "sim-internal.h"

/* One compare-and-swap through the world's seam, its version only. */
static int
cas1(const struct es_world_db *w, enum es_kind kind, const bson_oid_t *id,
    const char *user, int64_t expected, int64_t next, const bson_t *update,
    bool *matched, struct es_error *err)
{
	struct es_store_cas op;

	memset(&op, 0, sizeof(op));
	bson_oid_copy(id, &op.id);
	op.expected_updated_at_ms = expected;
	op.new_updated_at_ms = next;
	op.update = update;
	return w->update_cas(w->ctx, kind, user, &op, matched, err);
}

#define T0	1700000000000LL

static int64_t db_clock = T0;

/* The ObjectId of small number n (sorts by n). */
static bson_oid_t
oid(unsigned n)
{
	bson_oid_t id;
	char hex[25];

	snprintf(hex, sizeof(hex), "%024x", n);
	bson_oid_init_from_string(&id, hex);
	return id;
}

/* {_id, user_id, slug?, title, updated_at}; slug NULL: none. */
static bson_t *
mkdoc(unsigned n, const char *user, const char *slug, const char *title,
    int64_t ua)
{
	bson_t *d = bson_new();
	bson_oid_t id = oid(n);

	BSON_APPEND_OID(d, "_id", &id);
	BSON_APPEND_UTF8(d, "user_id", user);
	if (slug != NULL)
		BSON_APPEND_UTF8(d, "slug", slug);
	BSON_APPEND_UTF8(d, "title", title);
	BSON_APPEND_DATE_TIME(d, "updated_at", ua);
	return d;
}

static void
api_put(struct sim_db *db, enum es_kind kind, unsigned n, const char *user,
    const char *slug, const char *title, int64_t ua)
{
	struct es_error err;
	bson_t *d = mkdoc(n, user, slug, title, ua);

	if (sim_db_api_insert(db, kind, d, &err) != 0)
		fail_msg("api insert %u: %s", n, err.msg);
	bson_destroy(d);
}

/* The string field k of the stored document n ("" when absent). */
static const char *
field(struct sim_db *db, enum es_kind kind, unsigned n, const char *k)
{
	static char buf[256];
	bson_oid_t id = oid(n);
	bson_t doc;
	bson_iter_t it;
	struct es_error err;

	buf[0] = '\0';
	assert_int_equal(sim_db_api_get(db, kind, &id, &doc, &err), 1);
	if (bson_iter_init_find(&it, &doc, k) && BSON_ITER_HOLDS_UTF8(&it))
		snprintf(buf, sizeof(buf), "%s", bson_iter_utf8(&it, NULL));
	else if (bson_iter_init_find(&it, &doc, k) &&
	    BSON_ITER_HOLDS_DATE_TIME(&it))
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)bson_iter_date_time(&it));
	bson_destroy(&doc);
	return buf;
}

/* A find's documents as "title,title,..." */
struct seen {
	char	 s[512];
	int	 stop_after;	/* 0: never */
	int	 n;
};

static int
see(const bson_t *doc, void *ud)
{
	struct seen *v = ud;
	bson_iter_t it;
	size_t len = strlen(v->s);

	if (bson_iter_init_find(&it, doc, "title"))
		snprintf(v->s + len, sizeof(v->s) - len, "%s%s",
		    len ? "," : "", bson_iter_utf8(&it, NULL));
	else
		snprintf(v->s + len, sizeof(v->s) - len, "%s?",
		    len ? "," : "");
	return ++v->n == v->stop_after;
}

/* {$set: {title, updated_at}}. */
static bson_t *
set_title(const char *title, int64_t ua)
{
	bson_t *u = bson_new(), body;

	BSON_APPEND_DOCUMENT_BEGIN(u, "$set", &body);
	BSON_APPEND_UTF8(&body, "title", title);
	BSON_APPEND_DATE_TIME(&body, "updated_at", ua);
	bson_append_document_end(u, &body);
	return u;
}

static void
test_sim_db_since_order_boundary(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w;
	struct es_error err;
	struct seen v;
	bson_t *d;

	(void)state;
	sim_db_world(db, 0, NULL, &w);
	/* Inserted out of order; two share updated_at 200. */
	api_put(db, ES_KIND_PROJECT, 5, SIM_USER, "e", "e300", 300);
	api_put(db, ES_KIND_PROJECT, 4, SIM_USER, "d", "d200", 200);
	api_put(db, ES_KIND_PROJECT, 1, SIM_USER, "a", "a100", 100);
	api_put(db, ES_KIND_PROJECT, 2, SIM_USER, "b", "b200", 200);
	/* updated_at a number, not a datetime: no $gt on a date sees it. */
	d = bson_new();
	{
		bson_oid_t id = oid(3);

		BSON_APPEND_OID(d, "_id", &id);
		BSON_APPEND_UTF8(d, "user_id", SIM_USER);
		BSON_APPEND_UTF8(d, "slug", "c");
		BSON_APPEND_UTF8(d, "title", "c-int");
		BSON_APPEND_INT64(d, "updated_at", 900);
	}
	assert_int_equal(sim_db_api_insert(db, ES_KIND_PROJECT, d, &err), 0);
	bson_destroy(d);

	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, 100, see,
	    &v, &err), 0);
	/* Strictly after 100, by (updated_at, _id). */
	assert_string_equal(v.s, "b200,d200,e300");
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, 199, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "b200,d200,e300");
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, 200, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "e300");
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, 0, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "a100,b200,d200,e300");
	/* A full read: all five, natural (insertion) order. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, -1, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "e300,d200,a100,b200,c-int");
	/* A replacement keeps a document's place (FerretDB's rowid). */
	d = mkdoc(5, SIM_USER, "e", "e400", 400);
	assert_int_equal(sim_db_api_replace(db, ES_KIND_PROJECT, d, &err), 0);
	bson_destroy(d);
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, -1, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "e400,d200,a100,b200,c-int");
	/* cb non-zero stops, and the call still returns 0. */
	memset(&v, 0, sizeof(v));
	v.stop_after = 2;
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, 0, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "a100,b200");
	/* Another collection is another collection. */
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_GOAL, SIM_USER, -1, see,
	    &v, &err), 0);
	assert_string_equal(v.s, "");
	sim_db_free(db);
}

static void
test_sim_db_other_user_invisible(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w;
	struct es_error err;
	struct seen v;
	bson_oid_t ids[2] = { oid(1), oid(2) };
	static const char *const fields[] = { "title", NULL };
	bson_t *u, out;
	bool matched, found;

	(void)state;
	sim_db_world(db, 0, NULL, &w);
	api_put(db, ES_KIND_PROJECT, 1, SIM_USER, "mine", "mine", 100);
	api_put(db, ES_KIND_PROJECT, 2, "u2", "theirs", "theirs", 100);
	memset(&v, 0, sizeof(v));
	w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, -1, see, &v, &err);
	assert_string_equal(v.s, "mine");
	memset(&v, 0, sizeof(v));
	w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, 0, see, &v, &err);
	assert_string_equal(v.s, "mine");
	memset(&v, 0, sizeof(v));
	w.find_ids(w.ctx, ES_KIND_PROJECT, SIM_USER, ids, 2, see, &v, &err);
	assert_string_equal(v.s, "mine");
	memset(&v, 0, sizeof(v));
	w.find_fields(w.ctx, ES_KIND_PROJECT, SIM_USER, fields, see, &v,
	    &err);
	assert_string_equal(v.s, "mine");
	/* find_one is by _id, whoever's (the engine checks the user). */
	assert_int_equal(w.find_one(w.ctx, ES_KIND_PROJECT, &ids[1], &out,
	    &found, &err), 0);
	assert_true(found);
	bson_destroy(&out);
	/* A compare-and-swap never touches it, in either form. */
	for (int f = 0; f < 2; f++) {
		sim_db_set_ferretdb(db, f == 1);
		u = set_title("hijacked", 200);
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &ids[1],
		    SIM_USER, 100, 200, u, &matched, &err), 0);
		assert_false(matched);
		bson_destroy(u);
	}
	assert_string_equal(field(db, ES_KIND_PROJECT, 2, "title"), "theirs");
	/* The API's walk is the user's. */
	memset(&v, 0, sizeof(v));
	sim_db_api_each(db, ES_KIND_PROJECT, see, &v, &err);
	assert_string_equal(v.s, "mine");
	sim_db_free(db);
}

static void
test_sim_db_unique_slug(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w;
	struct es_error err;
	bson_t *d, *u, body;
	bson_oid_t id = oid(2);
	bool matched;

	(void)state;
	sim_db_world(db, 0, NULL, &w);
	d = mkdoc(1, SIM_USER, "alpha", "one", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_PROJECT, d, &err), 0);
	/* The same _id again. */
	assert_int_equal(w.insert(w.ctx, ES_KIND_PROJECT, d, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	bson_destroy(d);
	/* Another document, the same user and slug. */
	d = mkdoc(2, SIM_USER, "alpha", "two", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_PROJECT, d, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_non_null(strstr(err.msg, "user_id_1_slug_1"));
	/* The API meets the same index. */
	assert_int_equal(sim_db_api_insert(db, ES_KIND_PROJECT, d, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	/* A goal, an action, another user's project: no clash. */
	assert_int_equal(w.insert(w.ctx, ES_KIND_GOAL, d, &err), 0);
	bson_destroy(d);
	d = mkdoc(3, "u2", "alpha", "theirs", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_PROJECT, d, &err), 0);
	bson_destroy(d);
	d = mkdoc(4, SIM_USER, "alpha", "a1", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_ACTION, d, &err), 0);
	bson_destroy(d);
	d = mkdoc(5, SIM_USER, "alpha", "a2", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_ACTION, d, &err), 0);
	bson_destroy(d);
	/* An update onto a taken slug: refused, the document unchanged. */
	d = mkdoc(2, SIM_USER, "beta", "two", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_PROJECT, d, &err), 0);
	bson_destroy(d);
	for (int f = 0; f < 2; f++) {
		sim_db_set_ferretdb(db, f == 1);
		u = bson_new();
		BSON_APPEND_DOCUMENT_BEGIN(u, "$set", &body);
		BSON_APPEND_UTF8(&body, "slug", "alpha");
		BSON_APPEND_DATE_TIME(&body, "updated_at", 200);
		bson_append_document_end(u, &body);
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id,
		    SIM_USER, 100, 200, u, &matched, &err), -1);
		assert_int_equal(err.code, ES_ECONFLICT);
		bson_destroy(u);
		assert_string_equal(field(db, ES_KIND_PROJECT, 2, "slug"),
		    "beta");
	}
	/* MongoDB indexes a missing slug as null: two collide; FerretDB's
	 * SQLite index lets them be. */
	sim_db_set_ferretdb(db, false);
	d = mkdoc(6, SIM_USER, NULL, "noslug1", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_GOAL, d, &err), 0);
	bson_destroy(d);
	d = mkdoc(7, SIM_USER, NULL, "noslug2", 100);
	assert_int_equal(w.insert(w.ctx, ES_KIND_GOAL, d, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	sim_db_set_ferretdb(db, true);
	assert_int_equal(w.insert(w.ctx, ES_KIND_GOAL, d, &err), 0);
	bson_destroy(d);
	sim_db_free(db);
}

/* The race hook: the API replaces the document (new title, content). */
struct racer {
	struct sim_db	*db;
	int		 calls;
};

static void
api_races(void *ud, enum es_kind kind, const bson_oid_t *id)
{
	struct racer *r = ud;
	struct es_error err;
	bson_t *d = bson_new();

	r->calls++;
	BSON_APPEND_OID(d, "_id", id);
	BSON_APPEND_UTF8(d, "user_id", SIM_USER);
	BSON_APPEND_UTF8(d, "slug", "p");
	BSON_APPEND_UTF8(d, "title", "api title");
	BSON_APPEND_UTF8(d, "content", "api content");
	BSON_APPEND_DATE_TIME(d, "updated_at", 150);
	if (sim_db_api_replace(r->db, kind, d, &err) != 0)
		fail_msg("api replace: %s", err.msg);
	bson_destroy(d);
}

static void
test_sim_db_cas_race_atomic_vs_ferretdb(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct sim_db *db = sim_db_new(&db_clock);
		struct racer r = { db, 0 };
		struct es_world_db w;
		struct es_error err;
		bson_oid_t id = oid(1);
		bson_t *u = set_title("engine title", 200);
		bool matched;

		sim_db_world(db, 0, NULL, &w);
		sim_db_set_ferretdb(db, f == 1);
		api_put(db, ES_KIND_PROJECT, 1, SIM_USER, "p", "base", 100);
		sim_db_set_race(db, api_races, &r);
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id,
		    SIM_USER, 100, 200, u, &matched, &err), 0);
		assert_int_equal(r.calls, 1);
		if (f == 0) {
			/* Atomic: the API's write came first, ours lost. */
			assert_false(matched);
			assert_string_equal(field(db, ES_KIND_PROJECT, 1,
			    "title"), "api title");
			assert_string_equal(field(db, ES_KIND_PROJECT, 1,
			    "updated_at"), "150");
		} else {
			/* FerretDB: read 100, the API wrote, ours clobbered
			 * its title (its content stays: a $set). */
			assert_true(matched);
			assert_string_equal(field(db, ES_KIND_PROJECT, 1,
			    "title"), "engine title");
			assert_string_equal(field(db, ES_KIND_PROJECT, 1,
			    "updated_at"), "200");
		}
		assert_string_equal(field(db, ES_KIND_PROJECT, 1, "content"),
		    "api content");
		/* The hook fired once and cleared itself. */
		bson_destroy(u);
		u = set_title("again", 300);
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id,
		    SIM_USER, f == 0 ? 150 : 200, 300, u, &matched, &err), 0);
		assert_true(matched);
		assert_int_equal(r.calls, 1);
		bson_destroy(u);
		sim_db_free(db);
	}
}

static void
test_sim_db_cas_ours_landed_and_trips(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct sim_db *db = sim_db_new(&db_clock);
		struct es_world_db w;
		struct es_error err;
		bson_oid_t id = oid(1);
		bson_t *u = set_title("t", 200);
		uint64_t t0;
		bool matched;

		sim_db_world(db, 0, NULL, &w);
		sim_db_set_ferretdb(db, f == 1);
		api_put(db, ES_KIND_PROJECT, 1, SIM_USER, "p", "base", 100);
		t0 = w.round_trips(w.ctx);
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id,
		    SIM_USER, 100, 200, u, &matched, &err), 0);
		assert_true(matched);
		/* Atomic: one update; FerretDB: a read and an update. */
		assert_int_equal(w.round_trips(w.ctx) - t0, f == 0 ? 1 : 2);
		/* Sent again (a lost answer): ours landed, still matched. */
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id,
		    SIM_USER, 100, 200, u, &matched, &err), 0);
		assert_true(matched);
		/* A stale version: lost, nothing written. */
		assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id,
		    SIM_USER, 99, 201, u, &matched, &err), 0);
		assert_false(matched);
		assert_string_equal(field(db, ES_KIND_PROJECT, 1,
		    "updated_at"), "200");
		bson_destroy(u);
		sim_db_free(db);
	}
}

/* A project document as the API writes it, titled title, at version ua. */
static bson_t *
full_project(unsigned n, const char *title, int64_t ua)
{
	struct es_entity e;
	bson_t *d = bson_new();

	es_entity_init(&e, ES_KIND_PROJECT);
	e.title = es_xstrdup(title);
	e.slug = es_xstrdup("plan");
	e.area = es_xstrdup("Work");
	e.folder = ES_FOLDER_ACTIVE;
	e.meta.has_id = true;
	e.meta.id = oid(n);
	e.meta.created_at = e.meta.updated_at = ua;
	es_entity_encode(&e, SIM_USER, d);
	es_entity_release(&e);
	return d;
}

/*
 * store.h: the API stamps its edit with the very version a pass expects
 * (its clock went back). With the meaning checked the pass's write is
 * lost, in both forms; with the version alone it overwrote the edit
 * (issue 17, seed 376645).
 */
static void
test_sim_db_cas_same_version_other_meaning(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct sim_db *db = sim_db_new(&db_clock);
		struct es_world_db w;
		struct es_error err;
		struct es_store_cas op;
		bson_t *d0 = full_project(1, "Plan", 100);
		bson_t *d1 = full_project(1, "Theirs", 100);
		bson_t *u = set_title("Mine", 200);
		es_fp_t fp0;
		bool matched;

		sim_db_world(db, 0, NULL, &w);
		sim_db_set_ferretdb(db, f == 1);
		assert_int_equal(sim_db_api_insert(db, ES_KIND_PROJECT, d0,
		    &err), 0);
		assert_true(es_doc_meaning(d0, ES_KIND_PROJECT, &fp0));
		assert_int_equal(sim_db_api_replace(db, ES_KIND_PROJECT, d1,
		    &err), 0);
		memset(&op, 0, sizeof(op));
		op.id = oid(1);
		op.expected_updated_at_ms = 100;
		op.new_updated_at_ms = 200;
		op.update = u;
		op.check_meaning = true;
		op.expect_fp = fp0;
		assert_int_equal(w.update_cas(w.ctx, ES_KIND_PROJECT, SIM_USER,
		    &op, &matched, &err), 0);
		assert_false(matched);
		assert_string_equal(field(db, ES_KIND_PROJECT, 1, "title"),
		    "Theirs");
		/* The bulk form says the same. */
		{
			enum es_store_cas_status st;

			assert_int_equal(w.update_cas_many(w.ctx,
			    ES_KIND_PROJECT, SIM_USER, &op, 1, &st, &err), 0);
			assert_int_equal(st, ES_STORE_CAS_LOST);
		}
		/* The version alone: the edit overwritten. */
		op.check_meaning = false;
		assert_int_equal(w.update_cas(w.ctx, ES_KIND_PROJECT, SIM_USER,
		    &op, &matched, &err), 0);
		assert_true(matched);
		assert_string_equal(field(db, ES_KIND_PROJECT, 1, "title"),
		    "Mine");
		bson_destroy(d0);
		bson_destroy(d1);
		bson_destroy(u);
		sim_db_free(db);
	}
}

/* update_cas_many in chunks, counted as store-write.c sends them. */
static void
test_sim_db_cas_many_chunks_trips(void **state)
{
	enum { N = 40 };

	(void)state;
	for (int f = 0; f < 2; f++) {
		struct sim_db *db = sim_db_new(&db_clock);
		struct es_world_db w;
		struct es_error err;
		struct es_store_cas ops[N];
		enum es_store_cas_status st[N];
		bson_t *u = set_title("new", 200);
		uint64_t t0;

		memset(ops, 0, sizeof(ops));
		sim_db_world(db, 0, NULL, &w);
		sim_db_set_ferretdb(db, f == 1);
		for (unsigned i = 0; i < N; i++) {
			char slug[8];

			snprintf(slug, sizeof(slug), "s%u", i);
			/* #7 moved on meanwhile, #35 is not there at all. */
			if (i != 35)
				api_put(db, ES_KIND_GOAL, i + 1, SIM_USER,
				    slug, "old", i == 7 ? 150 : 100);
			ops[i].id = oid(i + 1);
			ops[i].expected_updated_at_ms = 100;
			ops[i].new_updated_at_ms = 200;
			ops[i].update = u;
		}
		t0 = w.round_trips(w.ctx);
		assert_int_equal(w.update_cas_many(w.ctx, ES_KIND_GOAL,
		    SIM_USER, ops, N, st, &err), 0);
		for (unsigned i = 0; i < N; i++)
			assert_int_equal(st[i], i == 7 || i == 35 ?
			    ES_STORE_CAS_LOST : ES_STORE_CAS_DONE);
		/*
		 * Chunks of 32 and 8. Atomic: an update each, and a read by
		 * _id after each that matched fewer (2 + 2). FerretDB: the
		 * 32 read by one $in, the 8 by lone _id, an update each,
		 * all sent ones matched (1 + 1 + 8 + 1).
		 */
		assert_int_equal(w.round_trips(w.ctx) - t0, f == 0 ? 4 : 11);
		assert_string_equal(field(db, ES_KIND_GOAL, 8, "title"), "old");
		assert_string_equal(field(db, ES_KIND_GOAL, 40, "title"),
		    "new");
		/* Again: all landed already (ours) or lost, nothing sent
		 * but the reads. */
		t0 = w.round_trips(w.ctx);
		assert_int_equal(w.update_cas_many(w.ctx, ES_KIND_GOAL,
		    SIM_USER, ops, N, st, &err), 0);
		for (unsigned i = 0; i < N; i++)
			assert_int_equal(st[i], i == 7 || i == 35 ?
			    ES_STORE_CAS_LOST : ES_STORE_CAS_DONE);
		assert_int_equal(w.round_trips(w.ctx) - t0, f == 0 ? 4 : 9);
		bson_destroy(u);
		sim_db_free(db);
	}
}

static void
test_sim_db_insert_many_statuses(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w;
	struct es_error err;
	const bson_t *docs[7];
	bson_t *own[7], *bad;
	int status[7];
	uint64_t t0;

	(void)state;
	sim_db_world(db, 0, NULL, &w);
	api_put(db, ES_KIND_PROJECT, 2, SIM_USER, "there", "there", 100);
	own[0] = mkdoc(1, SIM_USER, "a", "new", 100);
	own[1] = mkdoc(2, SIM_USER, "there", "dup id", 100);
	own[2] = mkdoc(3, SIM_USER, "c", "new", 100);
	own[3] = mkdoc(3, SIM_USER, "c", "dup in batch", 100);
	own[4] = mkdoc(4, SIM_USER, "a", "dup slug", 100);
	bad = bson_new();
	{
		bson_oid_t id = oid(5);

		BSON_APPEND_OID(bad, "_id", &id);
		BSON_APPEND_UTF8(bad, "user_id", SIM_USER);
		BSON_APPEND_UTF8(bad, "", "an empty key");
	}
	own[5] = bad;
	own[6] = mkdoc(6, SIM_USER, "f", "new", 100);
	for (int i = 0; i < 7; i++)
		docs[i] = own[i];
	es_error_clear(&err);
	t0 = w.round_trips(w.ctx);
	assert_int_equal(w.insert_many(w.ctx, ES_KIND_PROJECT, docs, 7, 2,
	    status, &err), 0);
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], 1);
	assert_int_equal(status[2], 0);
	assert_int_equal(status[3], 1);
	assert_int_equal(status[4], 1);
	assert_int_equal(status[5], -1);
	assert_int_equal(status[6], 0);
	/* err holds the refusal, never a duplicate. */
	assert_int_equal(err.code, ES_EDB);
	/* Four chunks of two: four insert commands. */
	assert_int_equal(w.round_trips(w.ctx) - t0, 4);
	assert_string_equal(field(db, ES_KIND_PROJECT, 2, "title"), "there");
	/* Down: nothing sent, all unknown. */
	sim_db_set_down(db, true);
	assert_int_equal(w.insert_many(w.ctx, ES_KIND_PROJECT, docs, 7, 0,
	    status, &err), -1);
	assert_int_equal(err.code, ES_EDB);
	for (int i = 0; i < 7; i++)
		assert_int_equal(status[i], -2);
	for (int i = 0; i < 7; i++)
		bson_destroy(own[i]);
	sim_db_free(db);
}

static void
test_sim_db_crash_mid_cas_many(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct sim_db *db = sim_db_new(&db_clock);
		struct sim_crash crash = { .at = 3 };
		struct es_world_db w;
		struct es_error err;
		struct es_store_cas ops[4];
		enum es_store_cas_status st[4];
		bson_t *u[4], out;
		bool found;

		memset(ops, 0, sizeof(ops));
		sim_db_world(db, 0, &crash, &w);
		sim_db_set_ferretdb(db, f == 1);
		for (unsigned i = 0; i < 4; i++) {
			char slug[8];

			snprintf(slug, sizeof(slug), "s%u", i);
			api_put(db, ES_KIND_ACTION, i + 1, SIM_USER, slug,
			    "old", 100);
			u[i] = set_title("new", 200);
			ops[i].id = oid(i + 1);
			ops[i].expected_updated_at_ms = 100;
			ops[i].new_updated_at_ms = 200;
			ops[i].update = u[i];
		}
		/* Tick 1: an earlier call; 2: this call (first write); 3:
		 * its second write dies. */
		assert_false(sim_crash_tick(&crash));
		assert_int_equal(w.update_cas_many(w.ctx, ES_KIND_ACTION,
		    SIM_USER, ops, 4, st, &err), -1);
		assert_int_equal(err.code, ES_EIO);
		assert_non_null(strstr(err.msg, "simulated crash"));
		assert_true(crash.crashed);
		for (int i = 0; i < 4; i++)
			assert_int_equal(st[i], ES_STORE_CAS_UNKNOWN);
		/* The first landed, the rest did not. */
		assert_string_equal(field(db, ES_KIND_ACTION, 1, "title"),
		    "new");
		for (unsigned i = 2; i <= 4; i++)
			assert_string_equal(field(db, ES_KIND_ACTION, i,
			    "title"), "old");
		/* Dead: every later call fails, reads too. */
		assert_int_equal(w.find_one(w.ctx, ES_KIND_ACTION, &ops[0].id,
		    &out, &found, &err), -1);
		assert_int_equal(err.code, ES_EIO);
		for (int i = 0; i < 4; i++)
			bson_destroy(u[i]);
		sim_db_free(db);
	}
}

static void
test_sim_db_crash_mid_insert_many(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct sim_crash crash = { .at = 2 };
	struct es_world_db w;
	struct es_error err;
	bson_t *own[3];
	const bson_t *docs[3];
	int status[3];
	bson_oid_t id;
	bson_t out;

	(void)state;
	sim_db_world(db, 0, &crash, &w);
	for (unsigned i = 0; i < 3; i++)
		docs[i] = own[i] = mkdoc(i + 1, SIM_USER, NULL, "x", 100);
	assert_int_equal(w.insert_many(w.ctx, ES_KIND_ACTION, docs, 3, 0,
	    status, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(status[0], 0);
	assert_int_equal(status[1], -2);
	assert_int_equal(status[2], -2);
	id = oid(1);
	assert_int_equal(sim_db_api_get(db, ES_KIND_ACTION, &id, &out, &err),
	    1);
	bson_destroy(&out);
	id = oid(2);
	assert_int_equal(sim_db_api_get(db, ES_KIND_ACTION, &id, &out, &err),
	    0);
	for (int i = 0; i < 3; i++)
		bson_destroy(own[i]);
	sim_db_free(db);
}

/* The applied update of {op: {k: v}} to src, as relaxed JSON. */
static int
apply_json(const char *src_json, const char *update_json, char *out,
    size_t outsz)
{
	bson_error_t be;
	bson_t *src = bson_new_from_json((const uint8_t *)src_json, -1, &be);
	bson_t *upd = bson_new_from_json((const uint8_t *)update_json, -1,
	    &be);
	bson_t res = BSON_INITIALIZER;
	char why[256];
	int rc;

	assert_non_null(src);
	assert_non_null(upd);
	if ((rc = sim_db_update_check(upd, why, sizeof(why))) == 0)
		rc = sim_db_update_apply(src, upd, &res, why, sizeof(why));
	if (rc == 0) {
		char *j = bson_as_relaxed_extended_json(&res, NULL);

		snprintf(out, outsz, "%s", j);
		bson_free(j);
	} else
		snprintf(out, outsz, "%d %s", rc, why);
	bson_destroy(&res);
	bson_destroy(src);
	bson_destroy(upd);
	return rc;
}

static void
test_sim_db_update_set_unset(void **state)
{
	static const struct {
		const char	*src, *update, *want;
	} cases[] = {
		/* In place; new fields appended in path order. */
		{ "{\"a\": 1, \"b\": 2}", "{\"$set\": {\"z\": 9, \"b\": 3, "
		    "\"c\": 4}}",
		    "{ \"a\" : 1, \"b\" : 3, \"c\" : 4, \"z\" : 9 }" },
		{ "{\"a\": 1, \"b\": 2}", "{\"$unset\": {\"a\": \"\", "
		    "\"x\": \"\"}}", "{ \"b\" : 2 }" },
		{ "{\"a\": 1}", "{\"$set\": {}}", "{ \"a\" : 1 }" },
		/* Dotted: into a sub-document, or creating one. */
		{ "{\"e\": {\"k\": 1, \"l\": 2}}", "{\"$set\": {\"e.k\": 5, "
		    "\"f.g.h\": 6}, \"$unset\": {\"e.l\": 1}}",
		    "{ \"e\" : { \"k\" : 5 }, \"f\" : { \"g\" : { \"h\" : 6 } "
		    "} }" },
		{ "{\"a\": 1}", "{\"$unset\": {\"a.b\": 1}}", "{ \"a\" : 1 }" },
		/* Refused by the server. */
		{ "{\"a\": 1}", "{\"$set\": {\"a.b\": 1}}",
		    "1 Cannot create field 'b' in element {a: ...}" },
		{ "{\"a\": {\"b\": 1}}", "{\"$set\": {\"a\": 1}, \"$unset\": "
		    "{\"a.b\": 1}}", "1 Updating the path 'a.b' would create "
		    "a conflict at 'a'" },
		{ "{\"_id\": 1}", "{\"$set\": {\"_id\": 2}}", "1 Performing an "
		    "update on the path '_id' would modify the immutable field "
		    "'_id'" },
		{ "{\"a\": 1}", "{\"$set\": {\"a..b\": 1}}", "1 The update "
		    "path 'a..b' contains an empty field name" },
		{ "{\"a\": 1}", "{\"$set\": 5}", "1 Modifiers operate on "
		    "fields but we found another type instead ($set)" },
		/* Refused before sending: the client, and the simulation. */
		{ "{\"a\": 1}", "{\"a\": 2}", "-1 Invalid key 'a': update only "
		    "works with $ operators" },
		{ "{\"a\": 1}", "{}", "-1 Empty update document" },
		{ "{\"a\": 1}", "{\"$inc\": {\"a\": 1}}", "-1 sim-db: "
		    "unsupported update operator $inc" },
		{ "{\"a\": [1]}", "{\"$set\": {\"a.0\": 2}}", "-1 sim-db: "
		    "update path 'a.0' through an array is not implemented" },
	};
	char got[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		apply_json(cases[i].src, cases[i].update, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s + %s:\n got %s\nwant %s", cases[i].src,
			    cases[i].update, got, cases[i].want);
	}
}

static void
test_sim_db_unsupported_operator_refused(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w;
	struct es_error err;
	struct es_store_cas op;
	enum es_store_cas_status st;
	bson_oid_t id = oid(1);
	bson_t *u = bson_new(), body;
	bool matched = true;

	(void)state;
	memset(&op, 0, sizeof(op));
	sim_db_world(db, 0, NULL, &w);
	api_put(db, ES_KIND_PROJECT, 1, SIM_USER, "p", "base", 100);
	BSON_APPEND_DOCUMENT_BEGIN(u, "$set", &body);
	BSON_APPEND_DATE_TIME(&body, "updated_at", 200);
	bson_append_document_end(u, &body);
	BSON_APPEND_DOCUMENT_BEGIN(u, "$rename", &body);
	BSON_APPEND_UTF8(&body, "title", "name");
	bson_append_document_end(u, &body);
	assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id, SIM_USER,
	    100, 200, u, &matched, &err), -1);
	assert_false(matched);
	assert_non_null(strstr(err.msg,
	    "sim-db: unsupported update operator $rename"));
	op.id = id;
	op.expected_updated_at_ms = 100;
	op.new_updated_at_ms = 200;
	op.update = u;
	assert_int_equal(w.update_cas_many(w.ctx, ES_KIND_PROJECT, SIM_USER,
	    &op, 1, &st, &err), -1);
	assert_int_equal(st, ES_STORE_CAS_UNKNOWN);
	assert_non_null(strstr(err.msg, "unsupported update operator"));
	/* Nothing written. */
	assert_string_equal(field(db, ES_KIND_PROJECT, 1, "updated_at"),
	    "100");
	bson_destroy(u);
	/* A path through an array: not simulated, so not answered. */
	u = bson_new();
	BSON_APPEND_DOCUMENT_BEGIN(u, "$set", &body);
	BSON_APPEND_UTF8(&body, "title.0", "x");
	BSON_APPEND_DATE_TIME(&body, "updated_at", 200);
	bson_append_document_end(u, &body);
	{
		bson_t *d = bson_new(), arr;

		BSON_APPEND_OID(d, "_id", &id);
		BSON_APPEND_UTF8(d, "user_id", SIM_USER);
		BSON_APPEND_UTF8(d, "slug", "p");
		BSON_APPEND_ARRAY_BEGIN(d, "title", &arr);
		BSON_APPEND_UTF8(&arr, "0", "a");
		bson_append_array_end(d, &arr);
		BSON_APPEND_DATE_TIME(d, "updated_at", 100);
		assert_int_equal(sim_db_api_replace(db, ES_KIND_PROJECT, d,
		    &err), 0);
		bson_destroy(d);
	}
	for (int f = 0; f < 2; f++) {
		sim_db_set_ferretdb(db, f == 1);
		assert_int_equal(w.update_cas_many(w.ctx, ES_KIND_PROJECT,
		    SIM_USER, &(struct es_store_cas){ .id = id,
		    .expected_updated_at_ms = 100, .new_updated_at_ms = 200,
		    .update = u }, 1,
		    &st, &err), -1);
		assert_int_equal(st, ES_STORE_CAS_UNKNOWN);
		assert_non_null(strstr(err.msg, "not implemented"));
	}
	assert_string_equal(field(db, ES_KIND_PROJECT, 1, "updated_at"),
	    "100");
	bson_destroy(u);
	sim_db_free(db);
}

static void
test_sim_db_changes_per_machine(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w0;
	struct es_error err;
	struct es_change *c;
	bson_oid_t id = oid(1);
	bson_t *d, *u;
	size_t n;
	bool matched;

	(void)state;
	sim_db_world(db, 0, NULL, &w0);
	d = mkdoc(1, SIM_USER, "p", "engine", 100);
	assert_int_equal(w0.insert(w0.ctx, ES_KIND_PROJECT, d, &err), 0);
	bson_destroy(d);
	api_put(db, ES_KIND_GOAL, 2, SIM_USER, "g", "api", 110);
	api_put(db, ES_KIND_GOAL, 3, "u2", "g", "theirs", 110);
	assert_int_equal(sim_db_changes(db, 0, &c, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].kind, ES_KIND_PROJECT);
	assert_true(bson_oid_equal(&c[0].id, &id));
	assert_non_null(c[0].doc);
	assert_false(c[0].deleted);
	assert_int_equal(c[1].kind, ES_KIND_GOAL);
	sim_db_changes_free(c, n);
	/* Nothing new for m 0; m 1 has its own cursor. */
	assert_int_equal(sim_db_changes(db, 0, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(c);
	assert_int_equal(sim_db_changes(db, 1, &c, &n, &err), 0);
	assert_int_equal(n, 2);
	sim_db_changes_free(c, n);
	/* An update: the document after it. Cut off, the stream waits. */
	u = set_title("updated", 200);
	assert_int_equal(cas1(&w0, ES_KIND_PROJECT, &id, SIM_USER,
	    100, 200, u, &matched, &err), 0);
	assert_true(matched);
	bson_destroy(u);
	sim_db_set_down(db, true);
	assert_int_equal(sim_db_changes(db, 0, &c, &n, &err), 0);
	assert_int_equal(n, 0);
	sim_db_set_down(db, false);
	assert_int_equal(sim_db_changes(db, 0, &c, &n, &err), 0);
	assert_int_equal(n, 1);
	{
		bson_iter_t it;

		assert_true(bson_iter_init_find(&it, c[0].doc, "title"));
		assert_string_equal(bson_iter_utf8(&it, NULL), "updated");
	}
	sim_db_changes_free(c, n);
	assert_int_equal(sim_db_changes(db, 2, &c, &n, &err), -1);
	sim_db_free(db);
}

static void
test_sim_db_outage(void **state)
{
	struct sim_db *db = sim_db_new(&db_clock);
	struct es_world_db w;
	struct es_error err;
	struct seen v;
	bson_oid_t id = oid(1);
	bson_t *u = set_title("x", 200), out;
	uint64_t t0;
	bool matched, found;

	(void)state;
	sim_db_world(db, 0, NULL, &w);
	sim_db_set_down(db, true);
	t0 = w.round_trips(w.ctx);
	/* The API still writes. */
	api_put(db, ES_KIND_PROJECT, 1, SIM_USER, "p", "api", 100);
	memset(&v, 0, sizeof(v));
	assert_int_equal(w.find(w.ctx, ES_KIND_PROJECT, SIM_USER, -1, see,
	    &v, &err), -1);
	assert_int_equal(err.code, ES_EDB);
	assert_non_null(strstr(err.msg, "down"));
	assert_string_equal(v.s, "");
	assert_int_equal(w.find_one(w.ctx, ES_KIND_PROJECT, &id, &out, &found,
	    &err), -1);
	assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id, SIM_USER,
	    100, 200, u, &matched, &err), -1);
	assert_int_equal(err.code, ES_EDB);
	assert_int_equal(w.insert_conflict(w.ctx, u, &err), -1);
	assert_int_equal(w.round_trips(w.ctx), t0);
	sim_db_set_down(db, false);
	assert_int_equal(cas1(&w, ES_KIND_PROJECT, &id, SIM_USER,
	    100, 200, u, &matched, &err), 0);
	assert_true(matched);
	bson_destroy(u);
	sim_db_free(db);
}


static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sim_db_since_order_boundary),
	cmocka_unit_test(test_sim_db_other_user_invisible),
	cmocka_unit_test(test_sim_db_unique_slug),
	cmocka_unit_test(test_sim_db_cas_race_atomic_vs_ferretdb),
	cmocka_unit_test(test_sim_db_cas_ours_landed_and_trips),
	cmocka_unit_test(test_sim_db_cas_same_version_other_meaning),
	cmocka_unit_test(test_sim_db_cas_many_chunks_trips),
	cmocka_unit_test(test_sim_db_insert_many_statuses),
	cmocka_unit_test(test_sim_db_crash_mid_cas_many),
	cmocka_unit_test(test_sim_db_crash_mid_insert_many),
	cmocka_unit_test(test_sim_db_update_set_unset),
	cmocka_unit_test(test_sim_db_unsupported_operator_refused),
	cmocka_unit_test(test_sim_db_changes_per_machine),
	cmocka_unit_test(test_sim_db_outage),
};

ES_TEST_MAIN(tests)
