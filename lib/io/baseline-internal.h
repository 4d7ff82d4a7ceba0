/*
 * Private to the baseline's two files: baseline.c (the statements, schema,
 * open, transactions, page cache, meta, count and clear) and
 * baseline-rows.c (the file and entity rows). Not public: baseline.h is.
 */
#ifndef EXECSYNC_BASELINE_INTERNAL_H
#define EXECSYNC_BASELINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/error.h"

/* The statements prepared at open, one each (their SQL: baseline.c). */
enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_SET,
	ST_FILE_PUT,
	ST_FILE_DEL,
	ST_FILE_GET,
	ST_FILE_EACH,
	ST_ENT_PUT,
	ST_ENT_DEL,
	ST_ENT_GET,
	ST_ENT_EACH,
	ST_ENT_EACH_NOBASE,
	ST_ENT_BASE,
	ST_COUNT_FILES,
	ST_PAGES,
	ST_COUNT_ENTS,
	ST__N
};

struct es_baseline {
	sqlite3		*db;
	char		*path;		/* shown in errors */
	sqlite3_stmt	*st[ST__N];
	/* The page cache: its size now, and the bytes the data holds (the
	 * file at begin plus what the transaction has put since). */
	unsigned	 cache_kib;
	uint64_t	 data_bytes;
	/* Copies of the last es_baseline_get_*() row's bytes. */
	struct es_buf	 rel, line, base;
};

/* Fill err from the connection's last error: "<what>: <sqlite message>". */
int	es__baseline_db_error(struct es_baseline *b, struct es_error *err,
	    const char *what);

/* What a row puts, for the page cache's estimate. */
void	es__baseline_cache_grow(struct es_baseline *b, size_t bytes);

/*
 * Returns the kept statement for idx, or, when that one is in the middle of
 * a walk (a callback of es_baseline_each_*() walking again), a fresh copy in
 * *tmp for the caller to finalize.
 */
sqlite3_stmt *es__baseline_stmt_get(struct es_baseline *b, enum stmt idx,
	    sqlite3_stmt **tmp, struct es_error *err);

/* Resets a kept statement and clears its bindings for the next use. */
void	es__baseline_stmt_done(sqlite3_stmt *s);

/*
 * Binds the one key of a lookup or delete: a text (key or rel) or, when
 * text is NULL, an id. -1 with err filled (what) if SQLite refuses it.
 */
int	es__baseline_bind_key(struct es_baseline *b, sqlite3_stmt *s,
	    const char *text, const bson_oid_t *id, const char *what,
	    struct es_error *err);

/* Steps a lookup once: *row says whether it found one; -1 on an error. */
int	es__baseline_step_one(struct es_baseline *b, sqlite3_stmt *s,
	    bool *row, const char *what, struct es_error *err);

/* Runs a statement that returns no row (put, delete, begin, ...), then
 * resets it; -1 with err filled (what) on an error. */
int	es__baseline_step_done(struct es_baseline *b, sqlite3_stmt *s,
	    const char *what, struct es_error *err);

#endif
