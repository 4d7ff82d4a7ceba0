/*
 * A spy on a pass's database and clock (db-spy.h).
 */
#include "db-spy.h"

static struct db_spy *S;

static int
spy_find(void *ctx, enum es_kind kind, const char *user, int64_t since,
    es_store_doc_cb cb, void *ud, struct es_error *err)
{
	S->find++;
	return S->real_db.find(ctx, kind, user, since, cb, ud, err);
}

static int
spy_find_ids(void *ctx, enum es_kind kind, const char *user,
    const bson_oid_t *ids, size_t n, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	S->find_ids++;
	return S->real_db.find_ids(ctx, kind, user, ids, n, cb, ud, err);
}

static int
spy_find_fields(void *ctx, enum es_kind kind, const char *user,
    const char *const *fields, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	S->find_fields++;
	return S->real_db.find_fields(ctx, kind, user, fields, cb, ud, err);
}

static int
spy_find_one(void *ctx, enum es_kind kind, const bson_oid_t *id,
    bson_t *out, bool *found, struct es_error *err)
{
	S->find_one++;
	return S->real_db.find_one(ctx, kind, id, out, found, err);
}

static int
spy_update_cas(void *ctx, enum es_kind kind, const char *user,
    const struct es_store_cas *op, bool *matched, struct es_error *err)
{
	S->update_cas++;
	return S->real_db.update_cas(ctx, kind, user, op, matched, err);
}

static int
spy_update_cas_many(void *ctx, enum es_kind kind, const char *user,
    const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	S->update_cas_many++;
	return S->real_db.update_cas_many(ctx, kind, user, ops, n, status,
	    err);
}

static int
spy_insert(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	S->inserts++;
	if (S->fail_inserts > 0) {
		S->fail_inserts--;
		return es_error_set(err, ES_EDB, "projects", 0,
		    "insert: injected fault");
	}
	return S->real_db.insert(ctx, kind, doc, err);
}

static int64_t
spy_now(void *ctx)
{
	S->clock_reads++;
	return S->fixed_clock ? S->now : S->real_clock.now_ms(ctx);
}

void
db_spy_wrap(struct es_world *ew, struct db_spy *s)
{
	S = s;
	s->real_db = ew->db;
	s->real_clock = ew->clock;
	ew->clock.now_ms = spy_now;
	ew->db.find = spy_find;
	ew->db.find_ids = spy_find_ids;
	ew->db.find_fields = spy_find_fields;
	ew->db.find_one = spy_find_one;
	ew->db.update_cas = spy_update_cas;
	ew->db.update_cas_many = spy_update_cas_many;
	ew->db.insert = spy_insert;
}

void
db_spy_done(void)
{
	S = NULL;
}

size_t
db_spy_finds(const struct db_spy *s)
{
	return s->find + s->find_ids + s->find_fields + s->find_one;
}

size_t
db_spy_updates(const struct db_spy *s)
{
	return s->update_cas + s->update_cas_many;
}
