/*
 * The database edge (SPEC §3): one libmongoc client, the three collections
 * the tool writes (projects, goals, actions), and the few operations the
 * sync needs: find (all, or changed since), find one by _id, insert,
 * unordered bulk insert, compare-and-swap update (SPEC 4.12), indexes.
 *
 * Threads: a struct es_store wraps one mongoc_client_t, which is NOT
 * thread-safe. Use a store from one thread at a time (the daemon's DB
 * thread owns it); different stores may be used from different threads.
 * Every call blocks on the network: never call it from the loop thread.
 *
 * Process: es_store_global_init() once before the first es_store_open(),
 * es_store_global_cleanup() once after the last es_store_free().
 *
 * Errors: code ES_EDB, path "<database>/<collection>" (or "<database>"),
 * message "<operation>: <libmongoc's message>", always passed through
 * es_uri_redact_message() so no credential of the URI ever appears
 * (SPEC 4.11). A server that cannot be reached fails within about the
 * store's timeout (serverSelectionTryOnce, the single-client default, makes
 * a refused connection fail at once; libmongoc then waits 5 s before it
 * scans again, so recovery after an outage can lag by that much).
 */
#ifndef EXECSYNC_STORE_H
#define EXECSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"
#include "execsync/error.h"

struct es_store;

/* mongoc_init() (after routing libmongoc's log into es_log) and its pair. */
void	es_store_global_init(void);
void	es_store_global_cleanup(void);

/*
 * Parses uri (mongodb:// or mongodb+srv://) and makes a client; does not
 * connect (the first operation does), so it succeeds with the server down.
 * serverSelectionTimeoutMS, connectTimeoutMS and socketTimeoutMS get
 * timeout_ms each unless the URI sets them; appname "execsync" unless set;
 * error API version 2. database is copied. Returns NULL with err filled
 * (ES_ECONFIG for a URI libmongoc rejects, password redacted).
 */
struct es_store *es_store_open(const char *uri, const char *database,
	    unsigned timeout_ms, struct es_error *err);
/* Accepts NULL. */
void	es_store_free(struct es_store *s);

/* One `ping` command: 0 when the server answered. */
int	es_store_ping(struct es_store *s, struct es_error *err);

/*
 * Idempotent: {user_id: 1, slug: 1} unique on projects and goals,
 * {user_id: 1, updated_at: 1} on projects, goals and actions, through one
 * createIndexes command per index (five round trips: FerretDB 1.24 cannot
 * take several at once when some exist). An index of the same name with
 * other options is an error. A unique index that documents already
 * violate (two documents of one user sharing a slug, this user's or
 * another's) is not created, with a warning: duplicates never stop a pass
 * (SPEC 4.10); the engine reports this user's.
 */
int	es_store_ensure_indexes(struct es_store *s, struct es_error *err);

/*
 * Calls cb for every document of user_id in kind's collection, deleted ones
 * too, in no particular order; or, when since_ms >= 0, only those with
 * updated_at > since_ms, in the order {updated_at: 1, _id: 1}, so documents
 * with equal updated_at come in _id order. doc is borrowed for the call only (bson_copy() to keep it).
 * cb returns 0 to go on, non-zero to stop early (then the call returns 0).
 * Returns -1 with err on a query or cursor error (cb may have run for some
 * documents before it).
 */
typedef int (*es_store_doc_cb)(const bson_t *doc, void *ud);
int	es_store_find(struct es_store *s, enum es_kind kind, const char *user_id,
	    int64_t since_ms, es_store_doc_cb cb, void *ud,
	    struct es_error *err);

/*
 * Every document of user_id in kind's collection, deleted ones too,
 * reduced to _id and the fields named in fields (a NULL-terminated list;
 * NULL or empty: _id only), in no particular order. For questions about
 * identity only, such as which _ids and slugs exist (execsync-migrate
 * --dry-run): far fewer bytes than es_store_find(). cb and errors as for
 * es_store_find().
 */
int	es_store_find_fields(struct es_store *s, enum es_kind kind,
	    const char *user_id, const char *const *fields, es_store_doc_cb cb,
	    void *ud, struct es_error *err);

/*
 * Documents per reply of this store's finds (es_store_find(),
 * es_store_find_fields()): their batchSize option. 0, the default, leaves
 * it to the server (MongoDB: 101 documents in the first reply, then up to
 * 16 MiB per getMore). Reading a whole collection of N documents with a
 * large n (say 10000) takes about N / n + 1 round trips.
 */
void	es_store_set_batch_size(struct es_store *s, uint32_t n);

/*
 * The document with this _id, whoever's it is (check es_doc_user_is()).
 * *found false: none, out untouched. *found true: out initialised with a
 * copy (bson_destroy() it). -1 with err on a database error.
 */
int	es_store_find_one(struct es_store *s, enum es_kind kind,
	    const bson_oid_t *id, bson_t *out, bool *found,
	    struct es_error *err);

/*
 * Inserts one document. A duplicate _id or slug (server code 11000) fails
 * with code ES_ECONFLICT, anything else with ES_EDB. So does every write
 * of this module that a unique index refuses (FerretDB reports some of
 * those as an internal error carrying SQLite's "UNIQUE constraint failed").
 */
int	es_store_insert(struct es_store *s, enum es_kind kind, const bson_t *doc,
	    struct es_error *err);

/*
 * The collection where the losing document of a conflict is kept (SPEC
 * 4.2), and one insert into it (errors as es_store_insert(), ES_EDB).
 */
#define ES_STORE_CONFLICTS	"sync_conflicts"
int	es_store_insert_conflict(struct es_store *s, const bson_t *doc,
	    struct es_error *err);

/*
 * Unordered bulk insert of docs[0..n), one insert command (one round trip)
 * per batch of up to batch documents (batch 0 means 1000). status (an array
 * of n, the caller's) gets per document:
 *	 0 inserted
 *	 1 duplicate key (code 11000): already present, e.g. a retried batch
 *	-1 refused (a bad document, another write error); the first such error
 *	   is in err
 *	-2 not sent, or its outcome is unknown (the connection broke during
 *	   the batch): retry it; what did arrive then comes back as 1
 * Returns 0 when every batch was executed, even with per-document errors;
 * -1 when the server could not be reached (err says why, the documents of
 * that batch and every later one are -2).
 */
int	es_store_insert_many(struct es_store *s, enum es_kind kind,
	    const bson_t *const *docs, size_t n, size_t batch, int *status,
	    struct es_error *err);

/*
 * Compare-and-swap (SPEC 4.12): applies update (an update document such as
 * {$set: {...}}, which should set updated_at) to the document with this
 * _id and user_id only if its updated_at is still the BSON datetime
 * expected_updated_at_ms, the version we read. *matched false: the document
 * changed or vanished since; re-read it and retry against the new version,
 * never overwrite blindly. One update command; FerretDB does not make it
 * atomic against a concurrent writer of the same document (its updates are
 * read-then-write), MongoDB does.
 */
int	es_store_update_cas(struct es_store *s, enum es_kind kind,
	    const bson_oid_t *id, const char *user_id,
	    int64_t expected_updated_at_ms, const bson_t *update, bool *matched,
	    struct es_error *err);

/*
 * Many compare-and-swap updates of one collection in one round trip (an
 * unordered bulk of update_one, each filtered on _id, user and the version
 * read), so a pass with ten edits costs one write, not ten. matched[i]
 * (caller array of n) says which applied. When the server matched fewer
 * than n, one more read by _id tells which: a document whose updated_at is
 * the one ops[i] set was written by us. Each ops[i].update must set
 * updated_at to new_updated_at_ms. -1 with err when the server could not
 * be reached (nothing is known then: the caller retries one by one or
 * leaves it for the next pass).
 */
struct es_store_cas {
	bson_oid_t	 id;
	int64_t		 expected_updated_at_ms;
	int64_t		 new_updated_at_ms;
	const bson_t	*update;
};
int	es_store_update_cas_many(struct es_store *s, enum es_kind kind,
	    const char *user_id, const struct es_store_cas *ops, size_t n,
	    bool *matched, struct es_error *err);

/*
 * Commands sent to the server so far by this store (find, getMore,
 * killCursors, insert, update, ping, createIndexes, ...; counted when
 * libmongoc starts each one, not the connection handshakes), for
 * benchmarks and tests.
 */
uint64_t es_store_round_trips(const struct es_store *s);

/* "projects", "goals", "actions"; NULL for anything else. */
const char *es_store_collection_name(enum es_kind kind);

#endif
