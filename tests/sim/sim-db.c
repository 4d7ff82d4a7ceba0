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
#include "sim-internal.h"

#define NKINDS		3
/* world-real.c's ES_ENGINE_READ_BATCH: documents per reply of a find. */
#define FIND_BATCH	10000
/* store-write.c's DEFAULT_BATCH: an insert_many batch of 0. */
#define INSERT_BATCH	1000
/* store-write.c's CAS_LONE_MAX: FerretDB reads up to this many by lone _id. */
#define CAS_LONE_MAX	8
/* A quarter of a 30 s socket timeout; commands here take no time. */
#define CHUNK_TARGET_MS	7500

struct cell {
	bson_oid_t	 id;
	bson_t		*doc;
	const char	*user;		/* in doc: user_id when a string */
	bool		 has_ua;	/* updated_at is a BSON datetime */
	int64_t		 ua;
};

struct coll {
	struct cell	**byid;		/* sorted by _id */
	struct cell	**natural;	/* insertion order */
	size_t		  n, cap;
};

struct logent {
	enum es_kind	 kind;
	bson_oid_t	 id;
	bson_t		*doc;		/* after the write */
	bool		 deleted;	/* nothing removes documents yet */
};

/* One machine's view: the ctx of its es_world_db table. */
struct mach {
	struct sim_db		*db;
	struct sim_crash	*crash;
	uint64_t		 trips;
	size_t			 cursor;	/* into db->log */
};

struct sim_db {
	const int64_t	*clock;		/* kept for the API's side; unused */
	struct coll	 c[NKINDS];
	bson_t		**conf;		/* sync_conflicts, insertion order */
	size_t		  nconf, capconf;
	struct logent	*log;
	size_t		  nlog, caplog;
	struct mach	 mach[SIM_MACHINES_MAX];
	bool		 down, ferretdb;
	void		(*race)(void *, enum es_kind, const bson_oid_t *);
	void		*race_ud;
};

static const char *
cname(enum es_kind kind)
{
	const char *s = es_store_collection_name(kind);

	return s != NULL ? s : "?";
}

/* "sim/<collection>", the path of every error about kind. */
static int
db_error(struct es_error *err, enum es_errcode code, const char *coll,
    const char *what, const char *msg)
{
	char path[64];

	snprintf(path, sizeof(path), "sim/%s", coll);
	return es_error_set(err, code, path, 0, "%s: %s", what, msg);
}

/* ---- cells ---- */

static void
cell_refresh(struct cell *c)
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

static bool
cell_user_is(const struct cell *c, const char *user)
{
	return c->user != NULL && user != NULL && strcmp(c->user, user) == 0;
}

/* The index in byid where id is or would go; *found says which. */
static size_t
coll_search(const struct coll *k, const bson_oid_t *id, bool *found)
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

static struct cell *
coll_get(const struct coll *k, const bson_oid_t *id)
{
	bool found;
	size_t i = coll_search(k, id, &found);

	return found ? k->byid[i] : NULL;
}

/* Takes doc (heap); id not present (checked by the caller). */
static void
coll_add(struct coll *k, const bson_oid_t *id, bson_t *doc)
{
	struct cell *c = es_xcalloc(1, sizeof(*c));
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
static struct cell **
coll_snapshot(const struct coll *k, bool natural)
{
	struct cell **v = es_xreallocarray(NULL, k->n ? k->n : 1, sizeof(*v));

	memcpy(v, natural ? k->natural : k->byid, k->n * sizeof(*v));
	return v;
}

/* ---- the change log ---- */

static void
log_write(struct sim_db *db, enum es_kind kind, const struct cell *c)
{
	struct logent *e;

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
static void
cell_replace(struct sim_db *db, enum es_kind kind, struct cell *c,
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
static bool
slug_clash(const struct sim_db *db, enum es_kind kind, const bson_t *doc,
    const bson_oid_t *self)
{
	const struct coll *k = &db->c[kind];

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
	if (coll_get(&db->c[kind], &id) != NULL) {
		snprintf(why, whysz, "E11000 duplicate key error collection: "
		    "%s index: _id_", cname(kind));
		return PUT_DUP;
	}
	if (slug_clash(db, kind, doc, &id)) {
		snprintf(why, whysz, "E11000 duplicate key error collection: "
		    "%s index: user_id_1_slug_1", cname(kind));
		return PUT_DUP;
	}
	coll_add(&db->c[kind], &id, bson_copy(doc));
	log_write(db, kind, coll_get(&db->c[kind], &id));
	return PUT_OK;
}

/* ---- the engine's side: outage, crash ---- */

#define MACH(ctx)	((struct mach *)(ctx))

/* Whether a call of the engine may reach the server (else err filled). */
static bool
reachable(struct mach *mc, const char *coll, const char *what,
    struct es_error *err)
{
	if (mc->crash != NULL && mc->crash->crashed) {
		db_error(err, ES_EIO, coll, what, "simulated crash");
		return false;
	}
	if (mc->db->down) {
		db_error(err, ES_EDB, coll, what, "sim-db: the database is "
		    "down (simulated outage): No suitable servers found");
		return false;
	}
	return true;
}

/* A mutating call's tick: false (err filled) when the process died. */
static bool
survive(struct mach *mc, const char *coll, const char *what,
    struct es_error *err)
{
	if (sim_crash_tick(mc->crash)) {
		db_error(err, ES_EIO, coll, what, "simulated crash");
		return false;
	}
	return true;
}

/* Round trips of a find returning n documents in FIND_BATCH replies. */
static uint64_t
find_trips(size_t n)
{
	return 1 + n / FIND_BATCH;
}

/* ---- the engine's reads ---- */

static int
cmp_ua_id(const void *a, const void *b)
{
	const struct cell *x = *(struct cell *const *)a;
	const struct cell *y = *(struct cell *const *)b;

	if (x->ua != y->ua)
		return x->ua < y->ua ? -1 : 1;
	return bson_oid_compare(&x->id, &y->id);
}

/* cb over v[0..n) (cells of a snapshot: their document now). */
static int
walk(struct cell **v, size_t n, es_store_doc_cb cb, void *ud)
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
	struct mach *mc = MACH(ctx);
	struct coll *k = &mc->db->c[kind];
	struct cell **v;
	size_t n = 0;

	if (!reachable(mc, cname(kind), "find", err))
		return -1;
	v = coll_snapshot(k, true);
	for (size_t i = 0; i < k->n; i++)
		/* {user_id, updated_at: {$gt: date}}: dates only. */
		if (cell_user_is(v[i], user_id) && (since_ms < 0 ||
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
	struct mach *mc = MACH(ctx);
	struct coll *k = &mc->db->c[kind];
	struct cell **v;
	size_t n = 0;

	if (nids == 0)
		return 0;
	if (!reachable(mc, cname(kind), "find", err))
		return -1;
	v = coll_snapshot(k, true);
	for (size_t i = 0; i < k->n; i++) {
		bool want = false;

		for (size_t j = 0; !want && j < nids; j++)
			want = bson_oid_equal(&v[i]->id, &ids[j]);
		if (want && cell_user_is(v[i], user_id))
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
	struct mach *mc = MACH(ctx);
	struct coll *k = &mc->db->c[kind];
	struct cell **v;
	size_t n = 0, i;
	int stop = 0;

	if (!reachable(mc, cname(kind), "find", err))
		return -1;
	v = coll_snapshot(k, true);
	for (i = 0; i < k->n; i++)
		if (cell_user_is(v[i], user_id))
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
	struct mach *mc = MACH(ctx);
	struct cell *c;

	*found = false;
	if (!reachable(mc, cname(kind), "find", err))
		return -1;
	mc->trips++;
	if ((c = coll_get(&mc->db->c[kind], id)) != NULL) {
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
	struct mach *mc = MACH(ctx);
	char why[256];
	int r;

	if (!survive(mc, cname(kind), "insert", err) ||
	    !reachable(mc, cname(kind), "insert", err))
		return -1;
	mc->trips++;
	r = put_new(mc->db, kind, doc, why, sizeof(why));
	if (r == PUT_OK)
		return 0;
	return db_error(err, r == PUT_DUP ? ES_ECONFLICT : ES_EDB, cname(kind),
	    "insert", why);
}

static int
db_insert_conflict(void *ctx, const bson_t *doc, struct es_error *err)
{
	struct mach *mc = MACH(ctx);
	struct sim_db *db = mc->db;
	char why[256];
	bson_oid_t id;

	if (!survive(mc, ES_STORE_CONFLICTS, "insert", err) ||
	    !reachable(mc, ES_STORE_CONFLICTS, "insert", err))
		return -1;
	mc->trips++;
	if (sim_db_doc_check(doc, db->ferretdb, why, sizeof(why)) != 0)
		return db_error(err, ES_EDB, ES_STORE_CONFLICTS, "insert", why);
	/* Only _id is unique here (libmongoc adds one when it is absent). */
	if (doc_oid(doc, &id))
		for (size_t i = 0; i < db->nconf; i++) {
			bson_oid_t other;

			if (doc_oid(db->conf[i], &other) &&
			    bson_oid_equal(&id, &other))
				return db_error(err, ES_ECONFLICT,
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
	struct mach *mc = MACH(ctx);
	bool first_error = true, first_doc = true;
	size_t start = 0, size;
	char why[256];

	for (size_t i = 0; i < n; i++)
		status[i] = -2;
	if (!survive(mc, cname(kind), "insert", err) ||
	    !reachable(mc, cname(kind), "insert", err))
		return -1;
	if (batch == 0)
		batch = INSERT_BATCH;
	size = batch;
	while (start < n) {
		size_t end = start + size < n ? start + size : n;
		bool sent = false;

		for (size_t i = start; i < end; i++) {
			int r;

			if (!sent) {
				/* One insert command per chunk. */
				mc->trips++;
				sent = true;
			}
			if (!first_doc && !survive(mc, cname(kind), "insert",
			    err)) {
				/* The process died midway: the rest never
				 * landed (their status is moot). */
				for (; i < n; i++)
					status[i] = -2;
				return -1;
			}
			first_doc = false;
			r = put_new(mc->db, kind, docs[i], why, sizeof(why));
			status[i] = r == PUT_OK ? 0 : r == PUT_DUP ? 1 : -1;
			if (status[i] == -1 && first_error) {
				db_error(err, ES_EDB, cname(kind), "insert",
				    why);
				first_error = false;
			}
		}
		size = es_store_chunk_next(end - start, 0, CHUNK_TARGET_MS,
		    batch);
		start = end;
	}
	return 0;
}

/* ---- the engine's compare-and-swap ---- */

/* One update_cas_many call in progress. */
struct casrun {
	struct mach		*mc;
	enum es_kind		 kind;
	const char		*user_id;
	bool			 first_write;	/* the call's own tick */
	bool			 refused;	/* the server refused one */
	struct es_error		 refusal;	/* the first refusal */
};

/* The version read_versions() sees: -1 absent, another user's, no date. */
static int64_t
version_of(const struct casrun *r, const bson_oid_t *id)
{
	const struct cell *c = coll_get(&r->mc->db->c[r->kind], id);

	return c != NULL && cell_user_is(c, r->user_id) && c->has_ua ?
	    c->ua : -1;
}

/* Fires the race hook (once: it clears itself first). */
static void
race(struct sim_db *db, enum es_kind kind, const bson_oid_t *id)
{
	void (*cb)(void *, enum es_kind, const bson_oid_t *) = db->race;
	void *ud = db->race_ud;

	if (cb == NULL)
		return;
	db->race = NULL;
	db->race_ud = NULL;
	cb(ud, kind, id);
}

enum { CW_OK, CW_NOMATCH, CW_REFUSED, CW_CRASH };

/*
 * One update of the bulk: to the document with this id (a lone _id: any
 * user's) after the crash tick; the server's refusal noted in r.
 */
static int
cas_write(struct casrun *r, const bson_oid_t *id, const bson_t *update,
    struct es_error *err)
{
	struct sim_db *db = r->mc->db;
	struct cell *c;
	bson_t *next;
	char why[256];
	int rc;

	if (!r->first_write && !survive(r->mc, cname(r->kind), "update", err))
		return CW_CRASH;
	r->first_write = false;
	if ((c = coll_get(&db->c[r->kind], id)) == NULL)
		return CW_NOMATCH;
	next = bson_new();
	rc = sim_db_update_apply(c->doc, update, next, why, sizeof(why));
	if (rc == 0 && sim_db_doc_check(next, db->ferretdb, why,
	    sizeof(why)) != 0)
		rc = 1;
	if (rc == 0 && slug_clash(db, r->kind, next, id)) {
		snprintf(why, sizeof(why), "E11000 duplicate key error "
		    "collection: %s index: user_id_1_slug_1", cname(r->kind));
		rc = 2;
	}
	if (rc != 0) {
		bson_destroy(next);
		if (!r->refused) {
			r->refused = true;
			db_error(&r->refusal, rc == 2 ? ES_ECONFLICT : ES_EDB,
			    cname(r->kind), "update", why);
		}
		return CW_REFUSED;
	}
	cell_replace(db, r->kind, c, next);
	return CW_OK;
}

/* cas_confirm(): DONE where the document carries our version. */
static void
cas_confirm(struct casrun *r, const struct es_store_cas *ops,
    const size_t *idx, size_t m, bool lone, enum es_store_cas_status *status)
{
	r->mc->trips += lone ? m : 1;
	for (size_t k = 0; k < m; k++) {
		size_t i = idx != NULL ? idx[k] : k;

		status[i] = version_of(r, &ops[i].id) ==
		    ops[i].new_updated_at_ms ? ES_STORE_CAS_DONE :
		    ES_STORE_CAS_LOST;
	}
}

/*
 * cas_chunk(), MongoDB's form: one bulk of updates filtered on {_id,
 * user_id, updated_at: expected}, then a read by _id unless all matched.
 * -1: crashed (err filled).
 */
static int
cas_chunk_atomic(struct casrun *r, const struct es_store_cas *ops, size_t m,
    enum es_store_cas_status *status, struct es_error *err)
{
	size_t matched = 0;
	bool refused = false;

	if (m > 0)
		race(r->mc->db, r->kind, &ops[0].id);
	r->mc->trips++;
	for (size_t k = 0; k < m; k++) {
		int w;

		/* The filter {_id, user_id, updated_at: expected}. */
		if (version_of(r, &ops[k].id) != ops[k].expected_updated_at_ms
		    || ops[k].expected_updated_at_ms < 0)
			continue;
		w = cas_write(r, &ops[k].id, ops[k].update, err);
		if (w == CW_CRASH)
			return -1;
		if (w == CW_REFUSED)
			refused = true;
		else if (w == CW_OK)
			matched++;
	}
	if (matched == m && !refused) {
		for (size_t k = 0; k < m; k++)
			status[k] = ES_STORE_CAS_DONE;
		return 0;
	}
	cas_confirm(r, ops, NULL, m, false, status);
	return 0;
}

/*
 * cas_chunk_lone(), FerretDB's form: the versions read by lone _id (or
 * one $in read past CAS_LONE_MAX), compared here, the documents still at
 * the expected version updated by lone _id. The race hook falls between
 * the read and the update. -1: crashed (err filled).
 */
static int
cas_chunk_lone(struct casrun *r, const struct es_store_cas *ops, size_t m,
    enum es_store_cas_status *status, struct es_error *err)
{
	size_t *sent = es_xcalloc(m ? m : 1, sizeof(*sent)), nsent = 0;
	size_t matched = 0;
	bool refused = false;

	r->mc->trips += m <= CAS_LONE_MAX ? m : 1;
	for (size_t k = 0; k < m; k++) {
		int64_t ua = version_of(r, &ops[k].id);

		if (ua == ops[k].expected_updated_at_ms &&
		    ua != ops[k].new_updated_at_ms)
			sent[nsent++] = k;
		else
			status[k] = ua == ops[k].new_updated_at_ms ?
			    ES_STORE_CAS_DONE : ES_STORE_CAS_LOST;
	}
	if (m > 0)
		race(r->mc->db, r->kind, &ops[0].id);
	if (nsent == 0) {
		free(sent);
		return 0;
	}
	r->mc->trips++;
	for (size_t j = 0; j < nsent; j++) {
		size_t k = sent[j];
		int w = cas_write(r, &ops[k].id, ops[k].update, err);

		if (w == CW_CRASH) {
			for (size_t i = 0; i < m; i++)
				status[i] = ES_STORE_CAS_UNKNOWN;
			free(sent);
			return -1;
		}
		if (w == CW_REFUSED)
			refused = true;
		else if (w == CW_OK)
			matched++;
	}
	if (matched == nsent && !refused)
		for (size_t j = 0; j < nsent; j++)
			status[sent[j]] = ES_STORE_CAS_DONE;
	else
		cas_confirm(r, ops, sent, nsent, nsent <= CAS_LONE_MAX,
		    status);
	free(sent);
	return 0;
}

/* cas_run(): ops in chunks of ES_STORE_CAS_CHUNK_START, then more. */
static int
cas_run(struct casrun *r, const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	size_t i = 0, size = ES_STORE_CAS_CHUNK_START;
	char why[256];

	for (size_t k = 0; k < n; k++)
		status[k] = ES_STORE_CAS_UNKNOWN;
	if (!survive(r->mc, cname(r->kind), "update", err) ||
	    !reachable(r->mc, cname(r->kind), "update", err))
		return -1;
	r->first_write = true;
	while (i < n) {
		size_t m = n - i < size ? n - i : size;

		/* libmongoc refuses a malformed update before sending the
		 * chunk (and the simulation an operator it lacks). */
		for (size_t k = i; k < i + m; k++)
			if (sim_db_update_check(ops[k].update, why,
			    sizeof(why)) != 0)
				return db_error(err, ES_EDB, cname(r->kind),
				    "update", why);
		if ((r->mc->db->ferretdb ? cas_chunk_lone : cas_chunk_atomic)(r,
		    ops + i, m, status + i, err) < 0) {
			for (size_t k = i; k < n; k++)
				status[k] = ES_STORE_CAS_UNKNOWN;
			return -1;
		}
		size = es_store_chunk_next(m, 0, CHUNK_TARGET_MS,
		    ES_STORE_CAS_CHUNK_MAX);
		i += m;
	}
	return 0;
}

static int
db_update_cas(void *ctx, enum es_kind kind, const bson_oid_t *id,
    const char *user_id, int64_t expected_updated_at_ms,
    int64_t new_updated_at_ms, const bson_t *update, bool *matched,
    struct es_error *err)
{
	struct casrun r = { .mc = MACH(ctx), .kind = kind, .user_id = user_id };
	struct es_store_cas op;
	enum es_store_cas_status st;

	*matched = false;
	bson_oid_copy(id, &op.id);
	op.expected_updated_at_ms = expected_updated_at_ms;
	op.new_updated_at_ms = new_updated_at_ms;
	op.update = update;
	if (cas_run(&r, &op, 1, &st, err) < 0)
		return -1;
	/* Refused rather than lost: the caller needs the server's reason. */
	if (st == ES_STORE_CAS_LOST && r.refused) {
		if (err != NULL)
			*err = r.refusal;
		return -1;
	}
	*matched = st == ES_STORE_CAS_DONE;
	return 0;
}

static int
db_update_cas_many(void *ctx, enum es_kind kind, const char *user_id,
    const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	struct casrun r = { .mc = MACH(ctx), .kind = kind, .user_id = user_id };

	return cas_run(&r, ops, n, status, err);
}

static uint64_t
db_round_trips(void *ctx)
{
	return MACH(ctx)->trips;
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
	for (int k = 0; k < NKINDS; k++) {
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
	out->update_cas = db_update_cas;
	out->update_cas_many = db_update_cas_many;
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
	if ((unsigned)kind < NKINDS)
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
	return db_error(err, r == PUT_DUP ? ES_ECONFLICT : ES_EDB, cname(kind),
	    "api insert", why);
}

int
sim_db_api_replace(struct sim_db *db, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	char why[256], hex[25];
	struct cell *c;
	bson_oid_t id;

	if (!kind_ok(kind, err))
		return -1;
	if (!doc_oid(doc, &id))
		return db_error(err, ES_EDB, cname(kind), "api replace",
		    "sim-db: a document without an ObjectId _id is not "
		    "simulated");
	if ((c = coll_get(&db->c[kind], &id)) == NULL) {
		bson_oid_to_string(&id, hex);
		return es_error_set(err, ES_EDB, "sim", 0, "api replace: no "
		    "document %s in %s", hex, cname(kind));
	}
	if (sim_db_doc_check(doc, db->ferretdb, why, sizeof(why)) != 0)
		return db_error(err, ES_EDB, cname(kind), "api replace", why);
	if (slug_clash(db, kind, doc, &id))
		return db_error(err, ES_ECONFLICT, cname(kind), "api replace",
		    "E11000 duplicate key error index: user_id_1_slug_1");
	cell_replace(db, kind, c, bson_copy(doc));
	return 0;
}

int
sim_db_api_get(struct sim_db *db, enum es_kind kind, const bson_oid_t *id,
    bson_t *out, struct es_error *err)
{
	struct cell *c;

	if (!kind_ok(kind, err))
		return -1;
	if ((c = coll_get(&db->c[kind], id)) == NULL)
		return 0;
	bson_copy_to(c->doc, out);
	return 1;
}

int
sim_db_api_each(struct sim_db *db, enum es_kind kind, sim_doc_cb cb,
    void *ud, struct es_error *err)
{
	struct cell **v;
	size_t n = 0;

	if (!kind_ok(kind, err))
		return -1;
	v = coll_snapshot(&db->c[kind], false);
	for (size_t i = 0; i < db->c[kind].n; i++)
		if (cell_user_is(v[i], SIM_USER))
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
		const struct logent *e = &db->log[i];
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
