/*
 * The simulated database (issue 17, sim-internal.h): the three
 * collections and sync_conflicts in memory, behind the engine's database
 * seam (struct es_world_db, one table per machine), with the API's side,
 * an outage switch, both compare-and-swap forms of lib/io/store-write.c,
 * a race hook, crashes, and a change log that plays the change source.
 *
 * As strict as the real store (store.h, store.c, store-write.c), never
 * kinder: the same filters (a since-query sees only BSON datetimes past
 * the watermark; a compare-and-swap matches only the user's document at
 * the expected datetime), the same unique indexes (_id; user_id and slug
 * on projects and goals, as es_store_ensure_indexes() makes them), the
 * same statuses and errors, the round trips the real store would count.
 * What the server does to a document is in sim-db-doc.c.
 *
 * ferretdb (sim_db_set_ferretdb) plays FerretDB 1.24, the twin's server:
 * the read-compare-update form of the compare-and-swap, its document
 * limits, and its unique index that ignores a missing key. Off, MongoDB.
 * Checked against FerretDB 1.24 with the Node driver (2026-12-06): full
 * reads in insertion order, kept across updates and replacements; $set
 * appends new fields in path order; $gt on a date and the CAS filter
 * skip a numeric updated_at; documents without a slug (or with null) do
 * not collide; a key with '.' is refused; the refusals' messages.
 *
 * Outage (sim_db_set_down): the workstation is cut off, the server is up:
 * every call of the engine's table fails with ES_EDB and sends nothing,
 * while the API (sim_db_api_*) goes on writing, which is the more useful
 * fault (the writes the engine must catch up with pile up meanwhile). The
 * change source, cut off too, delivers nothing until the outage ends and
 * then everything it missed, as a resumed change stream does.
 *
 * Documents live in heap cells that never move or die before
 * sim_db_free(), indexed twice: by _id (sorted) and in insertion order
 * (the natural order a full read returns, as FerretDB's does). A write
 * replaces a cell's bson_t. Callbacks may call back into the database:
 * walks run over a snapshot of the cells.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/store.h"
#include "execsync/xmalloc.h"

#include "sim-db.h"

const char *
sim_db__cname(enum es_kind kind)
{
	const char *s = es_store_collection_name(kind);

	return s != NULL ? s : "?";
}

/* "sim/<collection>", the path of every error about kind. */
int
sim_db__error(struct es_error *err, enum es_errcode code, const char *coll,
    const char *what, const char *msg)
{
	char path[64];

	snprintf(path, sizeof(path), "sim/%s", coll);
	return es_error_set(err, code, path, 0, "%s: %s", what, msg);
}

/* ---- cells ---- */

static void
cell_refresh(struct sim_db_cell *c)
{
	bson_iter_t it;

	c->user = NULL;
	c->has_ua = false;
	c->ua = 0;
	if (bson_iter_init_find(&it, c->doc, "user_id") &&
	    BSON_ITER_HOLDS_UTF8(&it))
		c->user = bson_iter_utf8(&it, NULL);
	if (bson_iter_init_find(&it, c->doc, "updated_at") &&
	    BSON_ITER_HOLDS_DATE_TIME(&it)) {
		c->has_ua = true;
		c->ua = bson_iter_date_time(&it);
	}
}

bool
sim_db__user_is(const struct sim_db_cell *c, const char *user)
{
	return c->user != NULL && user != NULL && strcmp(c->user, user) == 0;
}

/* The index in byid where id is or would go; *found says which. */
static size_t
coll_search(const struct sim_db_coll *k, const bson_oid_t *id, bool *found)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bson_oid_compare(&k->byid[mid]->id, id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct sim_db_cell *
coll_get(const struct sim_db_coll *k, const bson_oid_t *id)
{
	bool found;
	size_t i = coll_search(k, id, &found);

	return found ? k->byid[i] : NULL;
}

struct sim_db_cell *
sim_db__get(const struct sim_db *db, enum es_kind kind, const bson_oid_t *id)
{
	return coll_get(&db->c[kind], id);
}

/* Takes doc (heap); id not present (checked by the caller). */
static void
coll_add(struct sim_db_coll *k, const bson_oid_t *id, bson_t *doc)
{
	struct sim_db_cell *c = es_xcalloc(1, sizeof(*c));
	bool found;
	size_t i = coll_search(k, id, &found);

	bson_oid_copy(id, &c->id);
	c->doc = doc;
	cell_refresh(c);
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		k->byid = es_xreallocarray(k->byid, k->cap, sizeof(*k->byid));
		k->natural = es_xreallocarray(k->natural, k->cap,
		    sizeof(*k->natural));
	}
	memmove(&k->byid[i + 1], &k->byid[i], (k->n - i) * sizeof(*k->byid));
	k->byid[i] = c;
	k->natural[k->n++] = c;
}

/* A copy of the cells (natural or _id order) for a walk; free() it. */
static struct sim_db_cell **
coll_snapshot(const struct sim_db_coll *k, bool natural)
{
	struct sim_db_cell **v = es_xreallocarray(NULL, k->n ? k->n : 1,
	    sizeof(*v));

	if (k->n > 0)
		memcpy(v, natural ? k->natural : k->byid, k->n * sizeof(*v));
	return v;
}

/* ---- the change log ---- */

static void
log_write(struct sim_db *db, enum es_kind kind, const struct sim_db_cell *c)
{
	struct sim_db_logent *e;

	if (db->nlog == db->caplog) {
		db->caplog = db->caplog ? 2 * db->caplog : 64;
		db->log = es_xreallocarray(db->log, db->caplog,
		    sizeof(*db->log));
	}
	e = &db->log[db->nlog++];
	e->kind = kind;
	bson_oid_copy(&c->id, &e->id);
	e->doc = bson_copy(c->doc);
	e->deleted = false;
}

/* c's document becomes doc (heap, taken); logged. */
void
sim_db__replace(struct sim_db *db, enum es_kind kind, struct sim_db_cell *c,
    bson_t *doc)
{
	bson_destroy(c->doc);
	c->doc = doc;
	cell_refresh(c);
	log_write(db, kind, c);
}

/* ---- what the server checks on a write ---- */

/* doc's ObjectId _id into *id; false when it has none (not simulated). */
static bool
doc_oid(const bson_t *doc, bson_oid_t *id)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
		return false;
	bson_oid_copy(bson_iter_oid(&it), id);
	return true;
}

/* Whether doc would break the unique (user_id, slug) index of kind. */
bool
sim_db__slug_clash(const struct sim_db *db, enum es_kind kind,
    const bson_t *doc, const bson_oid_t *self)
{
	const struct sim_db_coll *k = &db->c[kind];

	if (kind == ES_KIND_ACTION)
		return false;
	for (size_t i = 0; i < k->n; i++)
		if (!bson_oid_equal(&k->byid[i]->id, self) &&
		    sim_db_unique_clash(k->byid[i]->doc, doc, db->ferretdb))
			return true;
	return false;
}

enum { PUT_OK = 0, PUT_DUP, PUT_REFUSED, PUT_UNSUPPORTED };

/*
 * Inserts a copy of doc (the server's view: checks, unique indexes); why
 * says what refused it.
 */
static int
put_new(struct sim_db *db, enum es_kind kind, const bson_t *doc, char *why,
    size_t whysz)
{
	bson_oid_t id;

	if (sim_db_doc_check(doc, db->ferretdb, why, whysz) != 0)
		return PUT_REFUSED;
	if (!doc_oid(doc, &id)) {
		snprintf(why, whysz, "sim-db: a document without an ObjectId "
		    "_id is not simulated");
		return PUT_UNSUPPORTED;
	}
	if (sim_db__get(db, kind, &id) != NULL) {
		snprintf(why, whysz, "E11000 duplicate key error collection: "
		    "%s index: _id_", sim_db__cname(kind));
		return PUT_DUP;
	}
	if (sim_db__slug_clash(db, kind, doc, &id)) {
		snprintf(why, whysz, "E11000 duplicate key error collection: "
		    "%s index: user_id_1_slug_1", sim_db__cname(kind));
		return PUT_DUP;
	}
	coll_add(&db->c[kind], &id, bson_copy(doc));
	log_write(db, kind, sim_db__get(db, kind, &id));
	return PUT_OK;
}

/* ---- the engine's side: outage, crash ---- */

/* Whether a call of the engine may reach the server (else err filled). */
bool
sim_db__reachable(struct sim_db_mach *mc, const char *coll, const char *what,
    struct es_error *err)
{
	if (mc->crash != NULL && mc->crash->crashed) {
		sim_db__error(err, ES_EIO, coll, what, "simulated crash");
		return false;
	}
	if (mc->db->down) {
		sim_db__error(err, ES_EDB, coll, what, "sim-db: the database "
		    "is down (simulated outage): No suitable servers found");
		return false;
	}
	return true;
}

/* A mutating call's tick: false (err filled) when the process died. */
bool
sim_db__survive(struct sim_db_mach *mc, const char *coll, const char *what,
    struct es_error *err)
{
	if (sim_crash_tick(mc->crash)) {
		sim_db__error(err, ES_EIO, coll, what, "simulated crash");
		return false;
	}
	return true;
}

/* Round trips of a find of n documents (SIM_DB_FIND_BATCH a reply). */
static uint64_t
find_trips(size_t n)
{
	return 1 + n / SIM_DB_FIND_BATCH;
}

/* ---- the engine's reads ---- */

static int
cmp_ua_id(const void *a, const void *b)
{
	const struct sim_db_cell *x = *(struct sim_db_cell *const *)a;
	const struct sim_db_cell *y = *(struct sim_db_cell *const *)b;

	if (x->ua != y->ua)
		return x->ua < y->ua ? -1 : 1;
	return bson_oid_compare(&x->id, &y->id);
}

/* cb over v[0..n) (cells of a snapshot: their document now). */
static int
walk(struct sim_db_cell **v, size_t n, es_store_doc_cb cb, void *ud)
{
	for (size_t i = 0; i < n; i++)
		if (cb(v[i]->doc, ud) != 0)
			break;
	free(v);
	return 0;
}

static int
db_find(void *ctx, enum es_kind kind, const char *user_id, int64_t since_ms,
    es_store_doc_cb cb, void *ud, struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	struct sim_db_coll *k = &mc->db->c[kind];
	struct sim_db_cell **v;
	size_t n = 0;

	if (!sim_db__reachable(mc, sim_db__cname(kind), "find", err))
		return -1;
	v = coll_snapshot(k, true);
	for (size_t i = 0; i < k->n; i++)
		/* {user_id, updated_at: {$gt: date}}: dates only. */
		if (sim_db__user_is(v[i], user_id) && (since_ms < 0 ||
		    (v[i]->has_ua && v[i]->ua > since_ms)))
			v[n++] = v[i];
	if (since_ms >= 0)
		qsort(v, n, sizeof(*v), cmp_ua_id);
	mc->trips += find_trips(n);
	return walk(v, n, cb, ud);
}

static int
db_find_ids(void *ctx, enum es_kind kind, const char *user_id,
    const bson_oid_t *ids, size_t nids, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	struct sim_db_coll *k = &mc->db->c[kind];
	struct sim_db_cell **v;
	size_t n = 0;

	if (nids == 0)
		return 0;
	if (!sim_db__reachable(mc, sim_db__cname(kind), "find", err))
		return -1;
	v = coll_snapshot(k, true);
	for (size_t i = 0; i < k->n; i++) {
		bool want = false;

		for (size_t j = 0; !want && j < nids; j++)
			want = bson_oid_equal(&v[i]->id, &ids[j]);
		if (want && sim_db__user_is(v[i], user_id))
			v[n++] = v[i];
	}
	mc->trips += find_trips(n);
	return walk(v, n, cb, ud);
}

static int
db_find_fields(void *ctx, enum es_kind kind, const char *user_id,
    const char *const *fields, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	struct sim_db_coll *k = &mc->db->c[kind];
	struct sim_db_cell **v;
	size_t n = 0, i;
	int stop = 0;

	if (!sim_db__reachable(mc, sim_db__cname(kind), "find", err))
		return -1;
	for (i = 0; fields != NULL && fields[i] != NULL; i++)
		if (strchr(fields[i], '.') != NULL)
			return sim_db__error(err, ES_EDB, sim_db__cname(kind),
			    "find", "sim-db: a projection of a dotted path is "
			    "not implemented");
	v = coll_snapshot(k, true);
	for (i = 0; i < k->n; i++)
		if (sim_db__user_is(v[i], user_id))
			v[n++] = v[i];
	mc->trips += find_trips(n);
	for (i = 0; stop == 0 && i < n; i++) {
		bson_t out = BSON_INITIALIZER;
		bson_iter_t it;

		/* An inclusion projection keeps the document's order. */
		if (bson_iter_init(&it, v[i]->doc))
			while (bson_iter_next(&it)) {
				const char *key = bson_iter_key(&it);
				bool keep = strcmp(key, "_id") == 0;

				for (size_t f = 0; !keep && fields != NULL &&
				    fields[f] != NULL; f++)
					keep = strcmp(key, fields[f]) == 0;
				if (keep)
					bson_append_iter(&out, NULL, 0, &it);
			}
		stop = cb(&out, ud);
		bson_destroy(&out);
	}
	free(v);
	return 0;
}

static int
db_find_one(void *ctx, enum es_kind kind, const bson_oid_t *id, bson_t *out,
    bool *found, struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	struct sim_db_cell *c;

	*found = false;
	if (!sim_db__reachable(mc, sim_db__cname(kind), "find", err))
		return -1;
	mc->trips++;
	if ((c = sim_db__get(mc->db, kind, id)) != NULL) {
		bson_copy_to(c->doc, out);
		*found = true;
	}
	return 0;
}

/* ---- the engine's inserts ---- */

static int
db_insert(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	const char *cn = sim_db__cname(kind);
	char why[256];
	int r;

	if (!sim_db__survive(mc, cn, "insert", err) ||
	    !sim_db__reachable(mc, cn, "insert", err))
		return -1;
	/* libmongoc's check, before anything is sent. */
	if (sim_db_doc_check(doc, false, why, sizeof(why)) != 0)
		return sim_db__error(err, ES_EDB, cn, "insert", why);
	mc->trips++;
	if ((r = put_new(mc->db, kind, doc, why, sizeof(why))) == PUT_OK)
		return 0;
	return sim_db__error(err, r == PUT_DUP ? ES_ECONFLICT : ES_EDB, cn,
	    "insert", why);
}

static int
db_insert_conflict(void *ctx, const bson_t *doc, struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	struct sim_db *db = mc->db;
	char why[256];
	bson_oid_t id;

	if (!sim_db__survive(mc, ES_STORE_CONFLICTS, "insert", err) ||
	    !sim_db__reachable(mc, ES_STORE_CONFLICTS, "insert", err))
		return -1;
	if (sim_db_doc_check(doc, false, why, sizeof(why)) != 0)
		return sim_db__error(err, ES_EDB, ES_STORE_CONFLICTS, "insert",
		    why);
	mc->trips++;
	if (sim_db_doc_check(doc, db->ferretdb, why, sizeof(why)) != 0)
		return sim_db__error(err, ES_EDB, ES_STORE_CONFLICTS, "insert",
		    why);
	/* Only _id is unique here (libmongoc adds one when it is absent). */
	if (doc_oid(doc, &id))
		for (size_t i = 0; i < db->nconf; i++) {
			bson_oid_t other;

			if (doc_oid(db->conf[i], &other) &&
			    bson_oid_equal(&id, &other))
				return sim_db__error(err, ES_ECONFLICT,
				    ES_STORE_CONFLICTS, "insert", "E11000 "
				    "duplicate key error index: _id_");
		}
	if (db->nconf == db->capconf) {
		db->capconf = db->capconf ? 2 * db->capconf : 16;
		db->conf = es_xreallocarray(db->conf, db->capconf,
		    sizeof(*db->conf));
	}
	db->conf[db->nconf++] = bson_copy(doc);
	return 0;
}

static int
db_insert_many(void *ctx, enum es_kind kind, const bson_t *const *docs,
    size_t n, size_t batch, int *status, struct es_error *err)
{
	struct sim_db_mach *mc = SIM_DB_MACH(ctx);
	const char *cn = sim_db__cname(kind);
	bool first_error = true, first_doc = true;
	size_t start = 0, size;
	char why[256];

	for (size_t i = 0; i < n; i++)
		status[i] = -2;
	if (!sim_db__survive(mc, cn, "insert", err) ||
	    !sim_db__reachable(mc, cn, "insert", err))
		return -1;
	if (batch == 0)
		batch = SIM_DB_INSERT_BATCH;
	size = batch;
	while (start < n) {
		size_t end = start + size < n ? start + size : n, nsent = 0;

		/* libmongoc checks each document before sending the chunk. */
		for (size_t i = start; i < end; i++)
			if (sim_db_doc_check(docs[i], false, why,
			    sizeof(why)) == 0)
				nsent++;
			else {
				status[i] = -1;
				if (first_error)
					sim_db__error(err, ES_EDB, cn,
					    "insert", why);
				first_error = false;
			}
		/* One insert command per chunk with something to send. */
		if (nsent > 0)
			mc->trips++;
		for (size_t i = start; i < end; i++) {
			int r;

			if (status[i] == -1)
				continue;
			if (!first_doc && !sim_db__survive(mc, cn, "insert",
			    err)) {
				/* Died midway: the rest never landed. */
				for (; i < n; i++)
					status[i] = -2;
				return -1;
			}
			first_doc = false;
			r = put_new(mc->db, kind, docs[i], why, sizeof(why));
			status[i] = r == PUT_OK ? 0 : r == PUT_DUP ? 1 : -1;
			if (status[i] == -1 && first_error) {
				sim_db__error(err, ES_EDB, cn, "insert", why);
				first_error = false;
			}
		}
		size = es_store_chunk_next(end - start, 0,
		    SIM_DB_CHUNK_TARGET_MS, batch);
		start = end;
	}
	return 0;
}

static uint64_t
db_round_trips(void *ctx)
{
	return SIM_DB_MACH(ctx)->trips;
}

/* ---- the database ---- */

struct sim_db *
sim_db_new(const int64_t *db_clock_ms)
{
	struct sim_db *db = es_xcalloc(1, sizeof(*db));

	db->clock = db_clock_ms;
	for (int m = 0; m < SIM_MACHINES_MAX; m++)
		db->mach[m].db = db;
	return db;
}

void
sim_db_free(struct sim_db *db)
{
	if (db == NULL)
		return;
	for (int k = 0; k < SIM_DB_NKINDS; k++) {
		for (size_t i = 0; i < db->c[k].n; i++) {
			bson_destroy(db->c[k].byid[i]->doc);
			free(db->c[k].byid[i]);
		}
		free(db->c[k].byid);
		free(db->c[k].natural);
	}
	for (size_t i = 0; i < db->nconf; i++)
		bson_destroy(db->conf[i]);
	free(db->conf);
	for (size_t i = 0; i < db->nlog; i++)
		bson_destroy(db->log[i].doc);
	free(db->log);
	free(db);
}

void
sim_db_world(struct sim_db *db, int m, struct sim_crash *crash,
    struct es_world_db *out)
{
	if (m < 0 || m >= SIM_MACHINES_MAX)
		abort();
	db->mach[m].crash = crash;
	memset(out, 0, sizeof(*out));
	out->ctx = &db->mach[m];
	out->find = db_find;
	out->find_ids = db_find_ids;
	out->find_fields = db_find_fields;
	out->find_one = db_find_one;
	out->insert = db_insert;
	out->insert_conflict = db_insert_conflict;
	out->insert_many = db_insert_many;
	out->update_cas = sim_db__update_cas;
	out->update_cas_many = sim_db__update_cas_many;
	out->round_trips = db_round_trips;
}

void
sim_db_set_down(struct sim_db *db, bool down)
{
	db->down = down;
}

void
sim_db_set_ferretdb(struct sim_db *db, bool on)
{
	db->ferretdb = on;
}

void
sim_db_set_race(struct sim_db *db, void (*cb)(void *ud, enum es_kind kind,
    const bson_oid_t *id), void *ud)
{
	db->race = cb;
	db->race_ud = cb != NULL ? ud : NULL;
}

/* ---- the API's side: the server is up, whatever the engine sees ---- */

static bool
kind_ok(enum es_kind kind, struct es_error *err)
{
	if ((unsigned)kind < SIM_DB_NKINDS)
		return true;
	es_error_set(err, ES_EUSAGE, "sim", 0, "sim-db: no collection for "
	    "kind %d", (int)kind);
	return false;
}

int
sim_db_api_insert(struct sim_db *db, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	char why[256];
	int r;

	if (!kind_ok(kind, err))
		return -1;
	r = put_new(db, kind, doc, why, sizeof(why));
	if (r == PUT_OK)
		return 0;
	return sim_db__error(err, r == PUT_DUP ? ES_ECONFLICT : ES_EDB,
	    sim_db__cname(kind),
	    "api insert", why);
}

int
sim_db_api_replace(struct sim_db *db, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	char why[256], hex[25];
	struct sim_db_cell *c;
	bson_oid_t id;

	if (!kind_ok(kind, err))
		return -1;
	if (!doc_oid(doc, &id))
		return sim_db__error(err, ES_EDB, sim_db__cname(kind),
		    "api replace", "sim-db: a document without an ObjectId "
		    "_id is not simulated");
	if ((c = sim_db__get(db, kind, &id)) == NULL) {
		bson_oid_to_string(&id, hex);
		return es_error_set(err, ES_EDB, "sim", 0, "api replace: no "
		    "document %s in %s", hex, sim_db__cname(kind));
	}
	if (sim_db_doc_check(doc, db->ferretdb, why, sizeof(why)) != 0)
		return sim_db__error(err, ES_EDB, sim_db__cname(kind),
		    "api replace", why);
	if (sim_db__slug_clash(db, kind, doc, &id))
		return sim_db__error(err, ES_ECONFLICT, sim_db__cname(kind),
		    "api replace",
		    "E11000 duplicate key error index: user_id_1_slug_1");
	sim_db__replace(db, kind, c, bson_copy(doc));
	return 0;
}

int
sim_db_api_get(struct sim_db *db, enum es_kind kind, const bson_oid_t *id,
    bson_t *out, struct es_error *err)
{
	struct sim_db_cell *c;

	if (!kind_ok(kind, err))
		return -1;
	if ((c = sim_db__get(db, kind, id)) == NULL)
		return 0;
	bson_copy_to(c->doc, out);
	return 1;
}

int
sim_db_api_each(struct sim_db *db, enum es_kind kind, sim_doc_cb cb,
    void *ud, struct es_error *err)
{
	struct sim_db_cell **v;
	size_t n = 0;

	if (!kind_ok(kind, err))
		return -1;
	v = coll_snapshot(&db->c[kind], false);
	for (size_t i = 0; i < db->c[kind].n; i++)
		if (sim_db__user_is(v[i], SIM_USER))
			v[n++] = v[i];
	return walk(v, n, cb, ud);
}

int
sim_db_conflicts_each(struct sim_db *db, sim_doc_cb cb, void *ud,
    struct es_error *err)
{
	size_t n = db->nconf;
	bson_t **v = es_xreallocarray(NULL, n ? n : 1, sizeof(*v));

	(void)err;
	/* A snapshot: cb may insert (the array may move). */
	if (n > 0)
		memcpy(v, db->conf, n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		if (cb(v[i], ud) != 0)
			break;
	free(v);
	return 0;
}

/* ---- the change source ---- */

int
sim_db_changes(struct sim_db *db, int m, struct es_change **out, size_t *n,
    struct es_error *err)
{
	struct es_change *v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (m < 0 || m >= SIM_MACHINES_MAX)
		return es_error_set(err, ES_EUSAGE, "sim", 0, "sim-db: no "
		    "machine %d", m);
	/* Cut off: nothing now, everything once the outage ends. */
	if (db->down || db->mach[m].cursor == db->nlog)
		return 0;
	v = es_xcalloc(db->nlog - db->mach[m].cursor, sizeof(*v));
	for (size_t i = db->mach[m].cursor; i < db->nlog; i++) {
		const struct sim_db_logent *e = &db->log[i];
		bson_iter_t it;

		/* The stream's $match: fullDocument.user_id, or a delete. */
		if (!e->deleted && !(bson_iter_init_find(&it, e->doc,
		    "user_id") && BSON_ITER_HOLDS_UTF8(&it) &&
		    strcmp(bson_iter_utf8(&it, NULL), SIM_USER) == 0))
			continue;
		v[k].kind = e->kind;
		bson_oid_copy(&e->id, &v[k].id);
		v[k].doc = e->deleted ? NULL : bson_copy(e->doc);
		v[k].deleted = e->deleted;
		k++;
	}
	db->mach[m].cursor = db->nlog;
	if (k == 0) {
		free(v);
		return 0;
	}
	*out = v;
	*n = k;
	return 0;
}

void
sim_db_changes_free(struct es_change *c, size_t n)
{
	for (size_t i = 0; c != NULL && i < n; i++)
		if (c[i].doc != NULL)
			bson_destroy((bson_t *)(uintptr_t)c[i].doc);
	free(c);
}
