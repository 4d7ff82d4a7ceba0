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
#include "execsync/fingerprint.h"

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
 *
 * socketTimeoutMS bounds each command, not a whole batch: the bulk writes
 * below are cut into commands sized to take about a quarter of it.
 */
struct es_store *es_store_open(const char *uri, const char *database,
	    unsigned timeout_ms, struct es_error *err);
/* Accepts NULL. */
void	es_store_free(struct es_store *s);

/* One `ping` command: 0 when the server answered. */
int	es_store_ping(struct es_store *s, struct es_error *err);

/*
 * The server, as far as the compare-and-swap cares (issue 16 item 2):
 * MongoDB takes the true filter {_id, user_id, updated_at} (atomic, and
 * cheap with the _id index); FerretDB 1.24 scans its whole collection for
 * any filter but a lone _id (2.3-3.3 s at 20,000 documents, against
 * 0.1-0.25 s), so there the compare-and-swap reads the versions by lone
 * _id, compares them here and updates by lone _id. ES_STORE_AUTO, the
 * default: es_store_ping() or the store's first compare-and-swap asks the
 * server (buildInfo carries ferretdbVersion on FerretDB) and keeps the
 * answer; set it to force a form.
 */
enum es_store_flavor { ES_STORE_AUTO = 0, ES_STORE_MONGODB,
	ES_STORE_FERRETDB };

void	es_store_set_flavor(struct es_store *s, enum es_store_flavor f);
/* What is set or was detected; ES_STORE_AUTO while unknown. */
enum es_store_flavor es_store_flavor(const struct es_store *s);

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
 * The documents of user_id in kind's collection whose _id is one of
 * ids[0..n) (one find, {_id: {$in: ids}, user_id}), deleted ones too, in
 * no particular order; an id with no document of this user is skipped. n
 * 0 sends nothing. cb and errors as for es_store_find().
 */
int	es_store_find_ids(struct es_store *s, enum es_kind kind,
	    const char *user_id, const bson_oid_t *ids, size_t n,
	    es_store_doc_cb cb, void *ud, struct es_error *err);

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
 * per chunk of up to batch documents (batch 0 means 1000). Chunks shrink
 * when one takes long (es_store_chunk_next()); a chunk that got no answer
 * (a socket timeout, a broken connection: the server may have done all,
 * some or none of it) is sent again, smaller, up to ES_STORE_WRITE_TRIES
 * times in a row: what had arrived then comes back as a duplicate. status
 * (an array of n, the caller's) gets per document:
 *	 0 inserted
 *	 1 duplicate key (code 11000): already present, e.g. a retried chunk
 *	-1 refused (a bad document, another write error); the first such error
 *	   is in err
 *	-2 not sent, or its outcome is unknown (no answer, tries exhausted):
 *	   retry it later; what did arrive then comes back as 1
 * Returns 0 when every chunk was executed, even with per-document errors;
 * -1 when the server could not be reached or did not answer (err says why;
 * the documents of that chunk and every later one are -2).
 */
int	es_store_insert_many(struct es_store *s, enum es_kind kind,
	    const bson_t *const *docs, size_t n, size_t batch, int *status,
	    struct es_error *err);

/*
 * Compare-and-swap (SPEC 4.12): applies update (an update document such as
 * {$set: {...}}, which must set updated_at to new_updated_at_ms, a version
 * later than the expected one) to the document with this _id and user_id
 * only if its updated_at is still the BSON datetime expected_updated_at_ms,
 * the version we read. *matched true: applied, now or by an earlier write
 * of ours that landed (the document already carries new_updated_at_ms: one
 * more read by _id on a mismatch tells). *matched false: the document
 * changed or vanished since; re-read it and retry against the new version,
 * never overwrite blindly. No answer (a timeout) is retried like a bulk
 * chunk, never taken for a lost race. -1 with err when the server refused
 * the write (ES_ECONFLICT for a unique index) or never answered (ES_EDB).
 * FerretDB does not make it atomic against a concurrent writer of the same
 * document (its updates are read-then-write), MongoDB does; on FerretDB
 * (es_store_flavor()) it is a read by lone _id and an update by lone _id.
 */
int	es_store_update_cas(struct es_store *s, enum es_kind kind,
	    const bson_oid_t *id, const char *user_id,
	    int64_t expected_updated_at_ms, int64_t new_updated_at_ms,
	    const bson_t *update, bool *matched, struct es_error *err);
/* The same, of one es_store_cas (below): its meaning checked too. */
struct es_store_cas;
int	es_store_update_cas_op(struct es_store *s, enum es_kind kind,
	    const char *user_id, const struct es_store_cas *op, bool *matched,
	    struct es_error *err);

/*
 * Many compare-and-swap updates of one collection: unordered bulks of
 * update_one, each filtered on _id, user and the version read, so a pass
 * with ten edits costs one write, not ten. Each ops[i].update must set
 * updated_at to new_updated_at_ms, a version that only this write sets:
 * that is how our own writes are told from somebody else's.
 *
 * Chunks: the first of ES_STORE_CAS_CHUNK_START updates, the next sized by
 * es_store_chunk_next() from how long the last one took, never more than
 * ES_STORE_CAS_CHUNK_MAX (FerretDB 1.24 holds one SQLite connection per
 * matched update until its command ends, from a pool of 100: a command of
 * 100 matching updates waits for itself forever and wedges that database).
 * When the server matched fewer than a chunk, one more read by _id says
 * which documents carry our version. A chunk that got no answer (the
 * server may still be applying it) is sent again, smaller, up to
 * ES_STORE_WRITE_TRIES times in a row: a write that already landed no
 * longer matches, and the read finds our version on it.
 *
 * status[i] (caller array of n):
 *   ES_STORE_CAS_DONE     applied: the document carries new_updated_at_ms
 *   ES_STORE_CAS_LOST     the server answered and the document does not:
 *                         it changed or vanished since it was read, or the
 *                         write was refused; re-read and decide again
 *   ES_STORE_CAS_UNKNOWN  not sent, or sent without an answer: never a lost
 *                         race; write it again later (a landed write is
 *                         then recognised by its version)
 * Returns 0 when none is UNKNOWN; -1 with err (the server could not be
 * reached, did not answer, or refused a malformed update) otherwise.
 */
#define ES_STORE_CAS_CHUNK_START	32
#define ES_STORE_CAS_CHUNK_MAX		50
#define ES_STORE_WRITE_TRIES		3
enum es_store_cas_status {
	ES_STORE_CAS_UNKNOWN = 0,
	ES_STORE_CAS_DONE,
	ES_STORE_CAS_LOST
};
struct es_store_cas {
	bson_oid_t	 id;
	int64_t		 expected_updated_at_ms;
	int64_t		 new_updated_at_ms;
	const bson_t	*update;
	/*
	 * check_meaning: the document must also still mean expect_fp
	 * (es_doc_meaning(), rules.h), else the write is LOST. A version
	 * alone can be another writer's: an API whose clock went back
	 * stamps its edit with the very version we expect, and the edit
	 * was overwritten (issue 17, seed 376645). Checked on a read just
	 * before the write (FerretDB's form reads anyway; MongoDB's gains
	 * that read for such chunks); a writer stamping that same version
	 * between the read and the write is the one case left.
	 */
	bool		 check_meaning;
	es_fp_t		 expect_fp;
};
int	es_store_update_cas_many(struct es_store *s, enum es_kind kind,
	    const char *user_id, const struct es_store_cas *ops, size_t n,
	    enum es_store_cas_status *status, struct es_error *err);

/*
 * The size of the next chunk of a bulk write (pure): the last chunk had n
 * operations and took elapsed_ms; the next should take about target_ms (a
 * quarter of the socket timeout), so n * target_ms / elapsed_ms, but never
 * more than 4 * n (one quick chunk proves little), never less than 1 and
 * never more than max. A chunk that timed out (elapsed_ms >= the timeout)
 * so makes the next at most a quarter of it.
 */
size_t	es_store_chunk_next(size_t n, uint64_t elapsed_ms,
	    uint64_t target_ms, size_t max);

/* The socketTimeoutMS the store's commands run under (the URI's or
 * es_store_open()'s timeout_ms; libmongoc's 300000 for 0). */
unsigned es_store_socket_timeout(const struct es_store *s);

/*
 * Tests only: the next es__store_lose_replies write commands (a bulk
 * chunk, a compare-and-swap) are sent and done by the server, then their
 * answer is dropped as if the socket had timed out. Not thread-safe.
 */
extern unsigned es__store_lose_replies;

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
