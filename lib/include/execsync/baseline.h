/*
 * The per-machine baseline (SPEC 4.1, §6): what this machine last synced, per
 * file and per entity, so that each side is compared with it and never with
 * the other side's clock. It survives restarts, works while the database is
 * unreachable, and lives with the folder it describes:
 *
 *	<root>/.execsync/baseline.sqlite
 *
 * (SQLite: transactional and crash-safe, so a pass that dies half-way leaves
 * the previous baseline; inspectable with the sqlite3 command). .execsync/ is
 * listed in the repository's .git/info/exclude, so a fresh clone of the folder
 * has no baseline, which is exactly "a machine with no baseline yet" (4.17).
 *
 * Rows:
 *  - file: a synced file's stat data and raw fingerprint as last read, so an
 *    unchanged file is recognised without reading it;
 *  - entity: one per document: its _id, kind, where it lives in the folder
 *    (the file, or the list file and position of an action line), the
 *    document version last seen (updated_at), and the last synced meaning as
 *    BSON (es_entity_encode / es_action_encode), the common ancestor of a
 *    three-way merge (4.3);
 *  - meta: key/value text (schema version, which database and user the
 *    baseline belongs to, the last updated_at seen per collection, ...).
 *
 * Not thread-safe: one thread at a time (the sync engine's, or migrate's).
 * Every function returns 0 or -1 with err filled (ES_EIO, path = the database
 * file, message from SQLite).
 */
#ifndef EXECSYNC_BASELINE_H
#define EXECSYNC_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/scan.h"

#define ES_BASELINE_DIR		".execsync"
#define ES_BASELINE_FILE	".execsync/baseline.sqlite"

struct es_baseline;

struct es_base_file {
	const char		*rel;
	struct es_stat		 st;
	es_fp_t			 raw_fp;
};

struct es_base_entity {
	bson_oid_t		 id;
	enum es_kind		 kind;
	const char		*rel;		/* the file; for actions the list file */
	uint32_t		 pos;		/* actions: index among the list's action lines */
	const char		*line;		/* actions: the line as last synced (no EOL); else NULL */
	size_t			 line_len;
	int64_t			 doc_updated_at; /* document version last seen, ms */
	es_fp_t			 fp;		/* meaning fingerprint of base */
	const uint8_t		*base;		/* BSON of the last synced meaning */
	size_t			 base_len;
};

/*
 * Create <root>/.execsync/ (mode 0700) if missing, refusing a symlink in its
 * place (SPEC 4.11), add ".execsync/" to <root>/.git/info/exclude when the
 * root is a git work tree and the line is not there yet, then open (creating
 * or upgrading the schema of) the baseline. root is an absolute path.
 */
struct es_baseline *es_baseline_open_root(const char *root, struct es_error *err);
/* Whether <root>/.execsync/baseline.sqlite exists (a link not followed). */
bool	es_baseline_exists(const char *root);
/*
 * Create (0700) and open <root>/.execsync/ relative to rootfd, refusing a
 * symbolic link or anything but a folder in its place (ES_EUNSAFE). Returns
 * an O_DIRECTORY descriptor (the caller closes it) or -1 with err.
 */
int	es_baseline_state_dir_open(int rootfd, struct es_error *err);
/* Open a baseline at an explicit path (tests, tools). */
struct es_baseline *es_baseline_open(const char *path, struct es_error *err);
void	es_baseline_free(struct es_baseline *b);	/* accepts NULL */

/* Group writes: everything between begin and commit lands together or not at all. */
int	es_baseline_begin(struct es_baseline *b, struct es_error *err);
int	es_baseline_commit(struct es_baseline *b, struct es_error *err);
void	es_baseline_rollback(struct es_baseline *b);

/* *value is malloc'd, or NULL when the key is absent. */
int	es_baseline_get_meta(struct es_baseline *b, const char *key, char **value,
	    struct es_error *err);
int	es_baseline_set_meta(struct es_baseline *b, const char *key,
	    const char *value, struct es_error *err);

/* Insert or replace by rel / by id. */
int	es_baseline_put_file(struct es_baseline *b, const struct es_base_file *f,
	    struct es_error *err);
int	es_baseline_delete_file(struct es_baseline *b, const char *rel,
	    struct es_error *err);
int	es_baseline_put_entity(struct es_baseline *b,
	    const struct es_base_entity *e, struct es_error *err);
int	es_baseline_delete_entity(struct es_baseline *b, const bson_oid_t *id,
	    struct es_error *err);
/* One row by key; *found false when absent. Pointers in *out stay valid until
 * the next call on b. */
int	es_baseline_get_file(struct es_baseline *b, const char *rel,
	    struct es_base_file *out, bool *found, struct es_error *err);
int	es_baseline_get_entity(struct es_baseline *b, const bson_oid_t *id,
	    struct es_base_entity *out, bool *found, struct es_error *err);

/*
 * Every row, in key order (files by rel; entities by kind, rel, pos, id). The
 * pointers in the row are valid during the callback only. cb returns 0 to go
 * on; a non-zero return stops the walk and is returned.
 */
int	es_baseline_each_file(struct es_baseline *b,
	    int (*cb)(const struct es_base_file *f, void *ud), void *ud,
	    struct es_error *err);
int	es_baseline_each_entity(struct es_baseline *b,
	    int (*cb)(const struct es_base_entity *e, void *ud), void *ud,
	    struct es_error *err);
int	es_baseline_count(struct es_baseline *b, size_t *files, size_t *entities,
	    struct es_error *err);

/*
 * Lazy bases (issue 15): decoding every row's base is most of a no-op
 * pass's work, and a pass needs the base of an entity only when its file
 * or its document changed. es_baseline_each_entity_nobase() walks as
 * es_baseline_each_entity() does, with e->base NULL and e->base_len 0 in
 * every row (the blob is not read out); es_baseline_get_base() then reads
 * one entity's base by id: *base (NULL when the row has none) stays valid
 * until the next call on b; *found false when there is no such row.
 */
int	es_baseline_each_entity_nobase(struct es_baseline *b,
	    int (*cb)(const struct es_base_entity *e, void *ud), void *ud,
	    struct es_error *err);
int	es_baseline_get_base(struct es_baseline *b, const bson_oid_t *id,
	    const uint8_t **base, size_t *base_len, bool *found,
	    struct es_error *err);

/*
 * Forget every file and entity row (--resync, SPEC 4.17); meta is kept.
 * The tables are dropped and made again (no row-by-row delete), inside the
 * caller's transaction when there is one: a crash before its commit leaves
 * the previous baseline.
 */
int	es_baseline_clear(struct es_baseline *b, struct es_error *err);

/*
 * The page cache, in KiB, while a transaction writes data_bytes of rows
 * (pure): a sixteenth of the data, at least SQLite's default 2 MiB, at
 * most 32 MiB. The cache is back at the least, its memory freed, once the
 * transaction ends.
 */
unsigned	es_baseline_cache_kib(uint64_t data_bytes);

#endif
