/*
 * The world a pass runs in (issue 15 item 4): the only ways the engine
 * (lib/sync/pass.c, peer-*.c) reaches outside itself. Three tables of
 * function pointers, each with a context pointer passed back as the first
 * argument:
 *
 *	fs	the folder (scan, read, stat, atomic write, move, trash,
 *		conflict copies, appends, git's state) and, as fs.base, the
 *		baseline store under .execsync/ (it lives in the folder: in a
 *		simulation it lives in the simulated file system)
 *	db	the three collections of the database and sync_conflicts
 *	clock	now, in milliseconds since the epoch
 *
 * The real world (es_world_real_init(), lib/io/world-real.c) is a thin
 * adapter over scan, fsio, tree, gitstate, baseline, store and
 * clock_gettime; tests/layers/check-pass-seams.sh checks that the pass's
 * objects reference nothing else. A simulated world (issue 17) keeps the
 * same promises, written here per function; where a real function's
 * header says more (scan.h, fsio.h, baseline.h, store.h), that header is
 * the full contract and the simulation follows it.
 *
 * Every int-returning function returns 0 (or what it says) on success and
 * -1 with err filled (err->path naming the place) on failure. Paths are
 * relative to the root, '/'-separated, never absolute, never "..".
 * Not thread-safe: one pass at a time per world.
 */
#ifndef EXECSYNC_WORLD_H
#define EXECSYNC_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bson/bson.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/scan.h"
#include "execsync/store.h"
#include "execsync/tree.h"

/*
 * The baseline store (baseline.h): rows of files (by rel) and entities
 * (by _id), and meta strings. Writes between begin and commit land
 * together or not at all (rollback undoes them; a crash is a rollback).
 * Reads see the writes made before them, committed or not.
 */
struct es_world_base {
	void	*ctx;
	int	(*begin)(void *ctx, struct es_error *err);
	int	(*commit)(void *ctx, struct es_error *err);
	void	(*rollback)(void *ctx);
	/* *value malloc'd, NULL when absent. */
	int	(*get_meta)(void *ctx, const char *key, char **value,
		    struct es_error *err);
	int	(*set_meta)(void *ctx, const char *key, const char *value,
		    struct es_error *err);
	/* *found false when absent; out's pointers live until the next call. */
	int	(*get_file)(void *ctx, const char *rel, struct es_base_file *out,
		    bool *found, struct es_error *err);
	/* Insert or replace by key; deleting an absent key is no error. */
	int	(*put_file)(void *ctx, const struct es_base_file *f,
		    struct es_error *err);
	int	(*delete_file)(void *ctx, const char *rel, struct es_error *err);
	int	(*put_entity)(void *ctx, const struct es_base_entity *e,
		    struct es_error *err);
	int	(*delete_entity)(void *ctx, const bson_oid_t *id,
		    struct es_error *err);
	/*
	 * Every entity row in key order (kind, rel, pos, id); the row's
	 * pointers are valid during cb only; a non-zero cb stops the walk
	 * and is returned.
	 */
	int	(*each_entity)(void *ctx,
		    int (*cb)(const struct es_base_entity *e, void *ud),
		    void *ud, struct es_error *err);
	/*
	 * Lazy bases (baseline.h): each_entity_nobase walks as each_entity
	 * does with e->base NULL and e->base_len 0 in every row (the blob is
	 * left where it is); get_base then gives one entity's base by id:
	 * *base (NULL when the row has none) valid until the next call,
	 * *found false when there is no such row. A pass needs a base only
	 * where the entity's file or document changed.
	 */
	int	(*each_entity_nobase)(void *ctx,
		    int (*cb)(const struct es_base_entity *e, void *ud),
		    void *ud, struct es_error *err);
	int	(*get_base)(void *ctx, const bson_oid_t *id,
		    const uint8_t **base, size_t *base_len, bool *found,
		    struct es_error *err);
	int	(*count)(void *ctx, size_t *files, size_t *entities,
		    struct es_error *err);
	/* Forget every file and entity row; meta is kept. */
	int	(*clear)(void *ctx, struct es_error *err);
};

/*
 * The folder. "Beneath the root" everywhere: a symbolic link is never
 * followed (on the way or at the end: ES_EUNSAFE), nothing outside the
 * root is touched, and a synced or user file is never unlinked (only
 * moved: trash, conflicts). Stat data (struct es_stat) are what "changed
 * on disk" means: a file whose dev, ino, size, mtime and ctime equal the
 * baseline's row is taken as unchanged without reading it (SPEC §6), so
 * a write must change at least one of them (a simulation gives every
 * write a new mtime or ctime, as a kernel does).
 */
struct es_world_fs {
	void	*ctx;
	/*
	 * Every synced file (es_layout_classify() == 1) with its stat data,
	 * sorted by rel, and the places not taken (links, unreadable
	 * folders) sorted by rel; ignore: NULL-terminated globs or NULL.
	 * scan_release frees what scan filled.
	 */
	int	(*scan)(void *ctx, const char *const *ignore,
		    struct es_scan_result *out, struct es_error *err);
	void	(*scan_release)(void *ctx, struct es_scan_result *r);
	/*
	 * rel's bytes into out and its stat data into st (may be NULL),
	 * checked as es_scan_read() does (over max_size: ES_ELIMIT, unread;
	 * NUL, UTF-8, conflict markers: ES_EPARSE; absent: ES_EIO with
	 * err->sys ENOENT).
	 */
	int	(*read)(void *ctx, const char *rel, size_t max_size,
		    struct es_buf *out, struct es_stat *st,
		    struct es_error *err);
	/* 1 a regular file (st filled), 0 absent, -1 anything else. */
	int	(*stat)(void *ctx, const char *rel, struct es_stat *st,
		    struct es_error *err);
	/*
	 * read, then parse (es_tree_load_file()): f->rel and f->info set by
	 * the caller, the rest filled; problems appended to errs->errors.
	 */
	void	(*load_file)(void *ctx, size_t max_size,
		    struct es_tree_file *f, struct es_buf *scratch,
		    struct es_tree *errs);
	/*
	 * Atomic write (es_fsio_write()): the reader sees the old bytes or
	 * the new, never a mix, and never a crash's half. It replaces rel
	 * only while rel still has the stat data expect and fingerprint fp
	 * (compare-and-swap on the file; expect zeroed: rel must not exist);
	 * otherwise ES_ECONFLICT "changed on disk while syncing" and the
	 * user's file stays. st_out: the written file's stat data.
	 */
	int	(*write)(void *ctx, const char *rel, const void *buf,
		    size_t len, mode_t mode_if_new, const struct es_stat *expect,
		    const es_fp_t *fp, struct es_stat *st_out,
		    struct es_error *err);
	/* Never replaces to (ES_ECONFLICT "already exists"); parents made. */
	int	(*move)(void *ctx, const char *from, const char *to,
		    struct es_error *err);
	/* rel to .execsync/trash/<rel>[.N]; trash_rel (may be NULL) says where. */
	int	(*trash)(void *ctx, const char *rel, struct es_buf *trash_rel,
		    struct es_error *err);
	/* A new file .execsync/conflicts/<rel>.<now_ms as UTC>.<side>[.N]. */
	int	(*conflict_copy)(void *ctx, const char *rel, const char *side,
		    int64_t now_ms, const void *buf, size_t len,
		    struct es_buf *out_rel, struct es_error *err);
	/* Append to rel atomically (created when absent), as write. */
	int	(*append)(void *ctx, const char *rel, const void *buf,
		    size_t len, struct es_error *err);
	/*
	 * The root itself: 0 a folder, else -1 (ES_ECONFIG "not a folder");
	 * *has_folders whether one of the three synced top folders is there.
	 */
	int	(*root)(void *ctx, bool *has_folders, struct es_error *err);
	/* A git operation runs in the root (*what: its marker, static). */
	bool	(*git_busy)(void *ctx, const char **what);
	struct es_world_base	 base;
};

/*
 * The database (store.h): documents of one user in the collections of
 * enum es_kind, plus sync_conflicts. A document's version is its
 * updated_at (BSON datetime, ms): every write of the engine sets a new
 * one, later than the one it expects. round_trips counts commands sent.
 */
struct es_world_db {
	void	*ctx;
	/*
	 * Every document of user_id in kind's collection, deleted ones too
	 * (since_ms < 0, any order), or only those with updated_at >
	 * since_ms in (updated_at, _id) order. cb non-zero stops (the call
	 * returns 0); doc is borrowed for the call.
	 */
	int	(*find)(void *ctx, enum es_kind kind, const char *user_id,
		    int64_t since_ms, es_store_doc_cb cb, void *ud,
		    struct es_error *err);
	/* The documents of user_id whose _id is in ids[0..n): one query. */
	int	(*find_ids)(void *ctx, enum es_kind kind, const char *user_id,
		    const bson_oid_t *ids, size_t n, es_store_doc_cb cb,
		    void *ud, struct es_error *err);
	/* Every document reduced to _id and fields (NULL-terminated). */
	int	(*find_fields)(void *ctx, enum es_kind kind, const char *user_id,
		    const char *const *fields, es_store_doc_cb cb, void *ud,
		    struct es_error *err);
	/* By _id, whoever's; *found false: none (out untouched). */
	int	(*find_one)(void *ctx, enum es_kind kind, const bson_oid_t *id,
		    bson_t *out, bool *found, struct es_error *err);
	/* One document; a duplicate _id or unique slug is ES_ECONFLICT. */
	int	(*insert)(void *ctx, enum es_kind kind, const bson_t *doc,
		    struct es_error *err);
	/* One document into sync_conflicts, the losers' keep (SPEC 4.2). */
	int	(*insert_conflict)(void *ctx, const bson_t *doc,
		    struct es_error *err);
	/*
	 * Unordered; status[i]: 0 inserted, 1 duplicate (already there: ids
	 * are deterministic), -1 refused, -2 outcome unknown (retry later).
	 * -1 when a chunk got no answer (the rest are -2).
	 */
	int	(*insert_many)(void *ctx, enum es_kind kind,
		    const bson_t *const *docs, size_t n, size_t batch,
		    int *status, struct es_error *err);
	/*
	 * Compare-and-swap: apply update to (_id, user_id) only while its
	 * updated_at is expected; *matched true also when an earlier write
	 * of ours landed (the document carries new_updated_at_ms). Atomic
	 * on MongoDB; FerretDB's is read-then-write (a concurrent writer can
	 * fall between), and a simulation may offer either. The op's
	 * meaning is checked too when it asks (es_store_cas).
	 */
	int	(*update_cas)(void *ctx, enum es_kind kind,
		    const char *user_id, const struct es_store_cas *op,
		    bool *matched, struct es_error *err);
	/*
	 * Many of one collection; status[i] DONE (carries its new version),
	 * LOST (answered, and it does not: re-read, decide again), UNKNOWN
	 * (no answer: never a lost race; write again later). -1 when any is
	 * UNKNOWN.
	 */
	int	(*update_cas_many)(void *ctx, enum es_kind kind,
		    const char *user_id, const struct es_store_cas *ops,
		    size_t n, enum es_store_cas_status *status,
		    struct es_error *err);
	uint64_t (*round_trips)(void *ctx);
};

/* The pass's clock: read once per pass; a simulation's is a number. */
struct es_world_clock {
	void	*ctx;
	int64_t	(*now_ms)(void *ctx);	/* ms since the epoch, UTC */
};

struct es_world {
	struct es_world_fs	 fs;	/* fs.base: the baseline store */
	struct es_world_db	 db;
	struct es_world_clock	 clock;
};

/*
 * The real world: the folder at root_fd (borrowed), the baseline b and the
 * store s (borrowed; its finds get the pass's batch size), the system
 * clock (CLOCK_REALTIME).
 */
void	es_world_real_init(struct es_world *w, int root_fd,
	    struct es_baseline *b, struct es_store *s);

/*
 * w's clock reads *now_ms (borrowed; the caller sets and advances it):
 * benchmarks and tests that choose the pass's time.
 */
void	es_world_clock_fixed(struct es_world *w, const int64_t *now_ms);

/*
 * What started a pass (issue 16 runs each kind; issue 17 simulates them).
 *
 *	ES_TRIGGER_ORDINARY	the read mode of SPEC 4.1 (a full read when
 *				it is due, else the since-queries); files by
 *				the stat fast path
 *	ES_TRIGGER_FULL		every document and every file is read, stat
 *				data or not
 *	ES_TRIGGER_PATHS	as ordinary, and paths[0..npaths) (file
 *				events) are read even when their stat data
 *				equal the baseline's: mtime granularity can
 *				hide a write the watcher saw
 *	ES_TRIGGER_CHANGES	as ordinary, and the documents named by
 *				changes[0..nchanges) (change-source events)
 *				are read by _id (one find per collection)
 *				in addition to the since-query, which stays:
 *				an event stream can lose events, so it only
 *				adds (an _id it names that the since-query
 *				returned is not read twice)
 */
enum es_trigger_kind {
	ES_TRIGGER_ORDINARY = 0,
	ES_TRIGGER_FULL,
	ES_TRIGGER_PATHS,
	ES_TRIGGER_CHANGES
};

struct es_change {
	enum es_kind	 kind;	/* its collection */
	bson_oid_t	 id;
	/*
	 * The document as the change source saw it (borrowed), or NULL:
	 * read it by _id. A source's copy saves the read (a lone-_id read
	 * costs 0.1-0.25 s on FerretDB at 20,000 documents).
	 */
	const bson_t	*doc;
	/*
	 * Gone from the collection: the pass takes the document as
	 * vanished (SPEC 4.5), as a full read would, unless a read of the
	 * pass returned it. A document read by _id that is not there is
	 * taken the same way.
	 */
	bool		 deleted;
};

struct es_trigger {
	enum es_trigger_kind	 kind;
	const char *const	*paths;
	size_t			 npaths;
	const struct es_change	*changes;
	size_t			 nchanges;
	/*
	 * The daemon's change source watches the database (issue 16 item
	 * 2): no since-query and no periodic full read. The database is
	 * touched only for the documents changes names and for the
	 * entities the pass writes (compare-and-swap on the baseline's
	 * version; a lost race reads by _id and decides again). Ignored by
	 * ES_TRIGGER_FULL. A full read the pass needs for its own sake
	 * (first pass, --resync, --force, one asked for by an earlier pass,
	 * a watermark missing) still happens. A collection not read keeps
	 * its watermark and last_full_pass_ms stays: a later ordinary pass
	 * reads everything since the last collection read (es_read_mode(),
	 * rules.h).
	 */
	bool			 db_quiet;
	/*
	 * Paths the daemon saw deleted a moment ago and waits to confirm
	 * (an editor's delete then create, slower than the debounce): this
	 * pass leaves what the baseline has there alone, as for a path the
	 * scan could not take, instead of deleting it (SPEC 4.5 waits for
	 * the next pass). Sorted or not; may be NULL.
	 */
	const char *const	*hold;
	size_t			 nhold;
};

#endif
