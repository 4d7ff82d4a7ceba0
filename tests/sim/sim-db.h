/*
 * The simulated database's private header (tests/sim/sim-db*.c): first
 * its document rules (sim-db-doc.c): what libmongoc and the server
 * (MongoDB, or FerretDB 1.24 when ferretdb is true) do to one document,
 * pure; then the state sim-db.c and sim-db-cas.c share.
 */
#ifndef EXECSYNC_SIM_DB_H
#define EXECSYNC_SIM_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <bson/bson.h>

#include "execsync/store.h"

#include "sim-internal.h"

/*
 * What a stored document may not be (the insert's client check, then the
 * server's): 0 fine, 1 refused with why filled. MongoDB: valid UTF-8 (NUL
 * allowed), no empty key, at most 16 MiB. FerretDB adds its limits
 * (NOTES-deps §2): no NUL in strings, no key with '.' or a leading '$',
 * no nested arrays, no NaN or infinity, no duplicate keys.
 */
int	sim_db_doc_check(const bson_t *doc, bool ferretdb, char *why,
	    size_t whysz);

/*
 * The client's check of an update document (libmongoc refuses it before
 * sending: the whole bulk fails): non-empty, every key an operator, valid
 * UTF-8. And the simulation's own: an operator it does not implement
 * ($set and $unset are) is refused loudly, "sim-db: unsupported update
 * operator $x", so an engine that starts sending one cannot pass
 * unnoticed. 0 fine, -1 with why filled.
 */
int	sim_db_update_check(const bson_t *update, char *why, size_t whysz);

/*
 * update (checked by sim_db_update_check()) applied to src as MongoDB 5+
 * applies it, into out (initialised by the caller): $set replaces a field
 * where it stands and appends a new one (new ones in lexicographic order
 * of their paths), $unset drops one; dotted paths walk into (and $set
 * creates) sub-documents. 0 applied; 1 refused by the server (why
 * filled): a changed _id, two paths in conflict, a path through a
 * scalar, an empty field name, an operand that is not a document. A path
 * through an array is not implemented: -1 with why "sim-db: ...".
 */
int	sim_db_update_apply(const bson_t *src, const bson_t *update,
	    bson_t *out, char *why, size_t whysz);

/*
 * Whether a and b collide in the unique index {user_id: 1, slug: 1}: on
 * MongoDB a missing field indexes as null, so two documents of one user
 * without a slug collide; on FerretDB (a SQLite unique index over
 * json_extract) a missing or null key never collides.
 */
bool	sim_db_unique_clash(const bson_t *a, const bson_t *b, bool ferretdb);

/* ---- shared by sim-db.c and sim-db-cas.c, nobody else ---- */

#define SIM_DB_NKINDS	3	/* enum es_kind */
/* world-real.c's ES_ENGINE_READ_BATCH: documents per reply of a find. */
#define SIM_DB_FIND_BATCH	10000
/* store-write.c's DEFAULT_BATCH: an insert_many batch of 0. */
#define SIM_DB_INSERT_BATCH	1000
/* store-write.c's CAS_LONE_MAX: FerretDB reads up to this many by lone _id. */
#define SIM_DB_CAS_LONE_MAX	8
/* A quarter of a 30 s socket timeout; commands here take no time. */
#define SIM_DB_CHUNK_TARGET_MS	7500

struct sim_db_cell {
	bson_oid_t		 id;
	bson_t			*doc;
	const char		*user;		/* in doc: a string user_id */
	bool			 has_ua;	/* updated_at: a datetime */
	int64_t			 ua;
};

struct sim_db_coll {
	struct sim_db_cell	**byid;		/* sorted by _id */
	struct sim_db_cell	**natural;	/* insertion order */
	size_t			  n, cap;
};

struct sim_db_logent {
	enum es_kind		 kind;
	bson_oid_t		 id;
	bson_t			*doc;		/* after the write */
	bool			 deleted;	/* nothing removes yet */
};

/* One machine's view: the ctx of its es_world_db table. */
struct sim_db_mach {
	struct sim_db		*db;
	struct sim_crash	*crash;
	uint64_t		 trips;
	size_t			 cursor;	/* into db->log */
};

struct sim_db {
	const int64_t		*clock;		/* the API's; unused yet */
	struct sim_db_coll	 c[SIM_DB_NKINDS];
	bson_t			**conf;		/* sync_conflicts */
	size_t			  nconf, capconf;
	struct sim_db_logent	*log;
	size_t			  nlog, caplog;
	struct sim_db_mach	 mach[SIM_MACHINES_MAX];
	bool			 down, ferretdb;
	void			(*race)(void *, enum es_kind,
				    const bson_oid_t *);
	void			*race_ud;
};

#define SIM_DB_MACH(ctx)	((struct sim_db_mach *)(ctx))

/* kind's collection name ("?" for none). */
const char *sim_db__cname(enum es_kind kind);
/* Fills err (path "sim/<coll>", "what: msg") and returns -1. */
int	sim_db__error(struct es_error *err, enum es_errcode code,
	    const char *coll, const char *what, const char *msg);
/* The cell of id in kind's collection, or NULL. */
struct sim_db_cell *sim_db__get(const struct sim_db *db, enum es_kind kind,
	    const bson_oid_t *id);
bool	sim_db__user_is(const struct sim_db_cell *c, const char *user);
/* Whether doc (as the document id) would break kind's unique slug index. */
bool	sim_db__slug_clash(const struct sim_db *db, enum es_kind kind,
	    const bson_t *doc, const bson_oid_t *id);
/* c's document becomes doc (heap, taken), and the change is logged. */
void	sim_db__replace(struct sim_db *db, enum es_kind kind,
	    struct sim_db_cell *c, bson_t *doc);
/* A mutating call's crash tick: false (err filled) when it died here. */
bool	sim_db__survive(struct sim_db_mach *mc, const char *coll,
	    const char *what, struct es_error *err);
/* Whether the engine's call reaches the server (else err filled). */
bool	sim_db__reachable(struct sim_db_mach *mc, const char *coll,
	    const char *what, struct es_error *err);

/* sim-db-cas.c: the table's compare-and-swap (world.h). */
int	sim_db__update_cas(void *ctx, enum es_kind kind,
	    const char *user_id, const struct es_store_cas *op,
	    bool *matched, struct es_error *err);
int	sim_db__update_cas_many(void *ctx, enum es_kind kind,
	    const char *user_id, const struct es_store_cas *ops, size_t n,
	    enum es_store_cas_status *status, struct es_error *err);

#endif
