/*
 * The per-machine baseline on SQLite (SPEC 4.1, 4.17, §6): the "what this
 * machine last synced" column of the decision table. This file holds the
 * statements, the schema, opening, transactions, the page cache, meta,
 * count and clear; the file and entity rows are baseline-rows.c's, and
 * baseline-internal.h is what the two share.
 *
 * Every statement is prepared once at open and reused: the baseline is read
 * and written for every file and entity on every pass, so a pass of 22,000
 * puts inside one transaction costs a few tens of milliseconds, not the
 * seconds that re-parsing the SQL each time would.
 *
 * Cost (issue 15): the rows come in their walk order (kind, rel, pos: the
 * pass and migrate put them so), so the table and its place index grow at
 * their ends; only the id indexes are filled in random order, and the page
 * cache is kept large enough for them while a transaction writes
 * (es_baseline_cache_kib()), then given back. secure_delete is off (Debian
 * builds SQLite with it on, which writes every freed page again: a
 * --resync's clear rewrote the whole file into the WAL), and clear drops
 * and recreates the tables instead of deleting row by row.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

#include "baseline-internal.h"
#include "state-dir.h"

/* Bump with an upgrade step in schema_setup() when the tables change. */
#define SCHEMA_VERSION		1
/* How long a second process (a --once run beside the daemon) waits for
 * the write lock before giving up with "database is locked". */
#define BUSY_TIMEOUT_MS		5000
/*
 * The page cache while a transaction writes: a sixteenth of the data,
 * never under SQLite's default 2 MiB, never over 32 MiB. The rows come in
 * place order, so the table and the place index grow at their ends; what
 * is written at random places is the id indexes of entity and file rows,
 * about 4% of the data (7 of 172 MB at 10x the sample tree), and they
 * must stay in the cache. It grows with what the transaction puts and is
 * given back at its end. Measured (10x --resync): a quarter of the data
 * (43 MiB) saved no CPU over this and held 25 MB more memory.
 */
#define CACHE_MIN_KIB		2048
#define CACHE_MAX_KIB		32768
#define CACHE_SHARE		16
/* A file or entity row's bytes besides its strings and blobs (keys,
 * integers, index entries), for the estimate of what a transaction puts. */
#define ROW_OVERHEAD		64

#define FILE_COLS	"rel, dev, ino, size, mtime_ns, ctime_ns, mode, raw_fp"
#define ENT_COLS	"id, kind, rel, pos, line, doc_updated_at, fp, base"

static const char *const stmt_sql[ST__N] = {
	/* IMMEDIATE takes the write lock now: a deferred transaction that
	 * upgrades later can fail with SQLITE_BUSY half-way through a pass. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[ST_FILE_PUT] = "INSERT INTO file (" FILE_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT (rel) DO UPDATE SET dev = excluded.dev, "
	    "ino = excluded.ino, size = excluded.size, "
	    "mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, "
	    "mode = excluded.mode, raw_fp = excluded.raw_fp",
	[ST_FILE_DEL] = "DELETE FROM file WHERE rel = ?1",
	[ST_FILE_GET] = "SELECT " FILE_COLS " FROM file WHERE rel = ?1",
	[ST_FILE_EACH] = "SELECT " FILE_COLS " FROM file ORDER BY rel",
	[ST_ENT_PUT] = "INSERT INTO entity (" ENT_COLS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, "
	    "rel = excluded.rel, pos = excluded.pos, line = excluded.line, "
	    "doc_updated_at = excluded.doc_updated_at, fp = excluded.fp, "
	    "base = excluded.base",
	[ST_ENT_DEL] = "DELETE FROM entity WHERE id = ?1",
	[ST_ENT_GET] = "SELECT " ENT_COLS " FROM entity WHERE id = ?1",
	[ST_ENT_EACH] = "SELECT " ENT_COLS " FROM entity "
	    "ORDER BY kind, rel, pos, id",
	/* The same walk without the base column: the blob is not copied. */
	[ST_ENT_EACH_NOBASE] = "SELECT id, kind, rel, pos, line, "
	    "doc_updated_at, fp, NULL FROM entity ORDER BY kind, rel, pos, id",
	[ST_ENT_BASE] = "SELECT base FROM entity WHERE id = ?1",
	[ST_COUNT_FILES] = "SELECT count(*) FROM file",
	[ST_COUNT_ENTS] = "SELECT count(*) FROM entity",
	[ST_PAGES] = "SELECT page_count * page_size FROM pragma_page_count, "
	    "pragma_page_size",
};

/*
 * NOT NULL on the keys: a non-INTEGER PRIMARY KEY of a rowid table accepts
 * NULL otherwise (a documented SQLite quirk). The entity index carries id
 * last so that es_baseline_each_entity()'s order (kind, rel, pos, id) is read
 * straight from it, without a sort of 22,000 rows.
 */
static const char schema_meta[] =
    "CREATE TABLE IF NOT EXISTS meta ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " value TEXT NOT NULL)";

static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS file ("
    " rel TEXT PRIMARY KEY NOT NULL,"
    " dev INTEGER NOT NULL,"
    " ino INTEGER NOT NULL,"
    " size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " ctime_ns INTEGER NOT NULL,"
    " mode INTEGER NOT NULL,"
    " raw_fp INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entity ("
    " id BLOB PRIMARY KEY NOT NULL,"	/* the 12-byte ObjectId */
    " kind INTEGER NOT NULL,"
    " rel TEXT NOT NULL,"
    " pos INTEGER NOT NULL,"
    " line BLOB,"
    " doc_updated_at INTEGER NOT NULL,"
    " fp INTEGER NOT NULL,"
    " base BLOB);"
    "CREATE INDEX IF NOT EXISTS entity_place ON entity (kind, rel, pos, id)";


/* Fill err from the connection's last error: "<what>: <sqlite message>". */
int
es__baseline_db_error(struct es_baseline *b, struct es_error *err,
    const char *what)
{
	int sys = sqlite3_system_errno(b->db);

	if (sqlite3_extended_errcode(b->db) == SQLITE_CANTOPEN_SYMLINK)
		return es_error_set(err, ES_EUNSAFE, b->path, 0,
		    "%s: symbolic link, not followed", what);
	es_error_set(err, ES_EIO, b->path, 0, "%s: %s", what,
	    sqlite3_errmsg(b->db));
	if (err != NULL)
		err->sys = sys;
	return -1;
}

static int
exec_sql(struct es_baseline *b, const char *sql, const char *what,
    struct es_error *err)
{
	if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return es__baseline_db_error(b, err, what);
	return 0;
}

unsigned
es_baseline_cache_kib(uint64_t data_bytes)
{
	uint64_t kib = data_bytes / CACHE_SHARE / 1024;

	if (kib < CACHE_MIN_KIB)
		return CACHE_MIN_KIB;
	if (kib > CACHE_MAX_KIB)
		return CACHE_MAX_KIB;
	return (unsigned)kib;
}

static void
cache_set(struct es_baseline *b, unsigned kib)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%u", kib);
	/* Only a hint: a failure leaves the cache as it was, nothing else. */
	if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		b->cache_kib = kib;
}

/*
 * Sets the page cache for data_bytes of data when the rule asks for more
 * than it has (a doubling at least, so that a pass putting 200,000 rows
 * changes it a few times, not at every row).
 */
static void
cache_fit(struct es_baseline *b, uint64_t data_bytes)
{
	unsigned want = es_baseline_cache_kib(data_bytes);

	b->data_bytes = data_bytes;
	if (want <= b->cache_kib)
		return;
	if (want < 2 * b->cache_kib && b->cache_kib < CACHE_MAX_KIB / 2)
		want = 2 * b->cache_kib;
	if (want > CACHE_MAX_KIB)
		want = CACHE_MAX_KIB;
	cache_set(b, want);
}

/* After a transaction: back to the smallest cache, its memory freed (the
 * daemon idles between passes). */
static void
cache_release(struct es_baseline *b)
{
	b->data_bytes = 0;
	if (b->cache_kib != CACHE_MIN_KIB)
		cache_set(b, CACHE_MIN_KIB);
	sqlite3_db_release_memory(b->db);
}

/* What a row puts, for the cache's estimate. */
void
es__baseline_cache_grow(struct es_baseline *b, size_t bytes)
{
	uint64_t d = b->data_bytes + bytes + ROW_OVERHEAD;

	if (es_baseline_cache_kib(d) > b->cache_kib)
		cache_fit(b, d);
	else
		b->data_bytes = d;
}

/*
 * Returns the kept statement for idx, or, when that one is in the middle of
 * a walk (a callback of es_baseline_each_*() walking again), a fresh copy in
 * *tmp for the caller to finalize.
 */
sqlite3_stmt *
es__baseline_stmt_get(struct es_baseline *b, enum stmt idx, sqlite3_stmt **tmp,
    struct es_error *err)
{
	*tmp = NULL;
	if (!sqlite3_stmt_busy(b->st[idx]))
		return b->st[idx];
	if (sqlite3_prepare_v2(b->db, stmt_sql[idx], -1, tmp, NULL) !=
	    SQLITE_OK) {
		es__baseline_db_error(b, err, "cannot prepare statement");
		sqlite3_finalize(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return *tmp;
}

void
es__baseline_stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Run a statement that returns no row (put, delete, begin, ...). */
/*
 * Binds the one key of a lookup or delete: a text (key or rel) or, when
 * text is NULL, an id. -1 with err filled (what) if SQLite refuses it.
 */
int
es__baseline_bind_key(struct es_baseline *b, sqlite3_stmt *s, const char *text,
    const bson_oid_t *id, const char *what, struct es_error *err)
{
	int rc = text != NULL ?
	    sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC) :
	    sqlite3_bind_blob(s, 1, id->bytes, sizeof(id->bytes),
	    SQLITE_STATIC);

	return rc == SQLITE_OK ? 0 : es__baseline_db_error(b, err, what);
}

/* Steps a lookup once: *row says whether it found one; -1 on an error. */
int
es__baseline_step_one(struct es_baseline *b, sqlite3_stmt *s, bool *row,
    const char *what, struct es_error *err)
{
	int rc = sqlite3_step(s);

	*row = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    es__baseline_db_error(b, err, what);
}

int
es__baseline_step_done(struct es_baseline *b, sqlite3_stmt *s, const char *what,
    struct es_error *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		es__baseline_db_error(b, err, what);
		es__baseline_stmt_done(s);
		return -1;
	}
	es__baseline_stmt_done(s);
	return 0;
}

/*
 * Reads "schema_version" from meta: 0 when absent, -1 with err when it is
 * not a positive decimal number.
 */
static int
schema_read(struct es_baseline *b, long *version, struct es_error *err)
{
	sqlite3_stmt *s = NULL;
	const char *v;
	char *end;
	int rc, ret = -1;

	*version = 0;
	if (sqlite3_prepare_v2(b->db,
	    "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s,
	    NULL) != SQLITE_OK) {
		es__baseline_db_error(b, err, "cannot read schema version");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		es__baseline_db_error(b, err, "cannot read schema version");
		goto out;
	}
	v = (const char *)sqlite3_column_text(s, 0);
	if (v == NULL || *v < '1' || *v > '9') {
		es_error_set(err, ES_EIO, b->path, 0, "bad schema version '%s'",
		    v == NULL ? "" : v);
		goto out;
	}
	errno = 0;
	*version = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0') {
		es_error_set(err, ES_EIO, b->path, 0, "bad schema version '%s'",
		    v);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* Create or upgrade the tables, in one transaction, refusing the future. */
static int
schema_setup(struct es_baseline *b, struct es_error *err)
{
	long version;
	char sql[128];

	if (exec_sql(b, "BEGIN IMMEDIATE", "cannot open", err) == -1)
		return -1;
	if (exec_sql(b, schema_meta, "cannot create tables", err) == -1 ||
	    schema_read(b, &version, err) == -1)
		goto fail;
	if (version > SCHEMA_VERSION) {
		es_error_set(err, ES_EIO, b->path, 0,
		    "baseline was written by a newer execsync (schema %ld; "
		    "this one knows %d)", version, SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1 &&
	    exec_sql(b, schema_v1, "cannot create tables", err) == -1)
		goto fail;
	/* Upgrades from version N to N + 1 go here, in order. */
	if (version != SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta "
		    "(key, value) VALUES ('schema_version', '%d')",
		    SCHEMA_VERSION);
		if (exec_sql(b, sql, "cannot write schema version", err) == -1)
			goto fail;
	}
	if (exec_sql(b, "COMMIT", "cannot create tables", err) == -1)
		goto fail;
	return 0;
fail:
	sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Open the database file at path (errors name shown instead). flags adds
 * SQLITE_OPEN_NOFOLLOW for the root's baseline.
 */
static struct es_baseline *
baseline_open(const char *path, const char *shown, int flags,
    struct es_error *err)
{
	struct es_baseline *b;
	int i;

	b = es_xcalloc(1, sizeof(*b));
	b->path = es_xstrdup(shown);
	es_buf_init(&b->rel, 0);
	es_buf_init(&b->line, 0);
	es_buf_init(&b->base, 0);

	/* NOMUTEX: one thread at a time by contract (see the header). */
	if (sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | flags, NULL) !=
	    SQLITE_OK) {
		if (b->db == NULL)
			es_error_set(err, ES_EIO, shown, 0, "cannot open: "
			    "out of memory");
		else
			es__baseline_db_error(b, err, "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(b->db, 1);
	sqlite3_busy_timeout(b->db, BUSY_TIMEOUT_MS);
	/* The file is data we only ever read our own columns from: no
	 * triggers or views with side effects, no writable schema. */
	sqlite3_db_config(b->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(b->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

	/*
	 * WAL with synchronous=NORMAL: a commit is in the WAL file (the
	 * kernel's page cache) before COMMIT returns, so a process that
	 * crashes or is killed at any point loses nothing committed and
	 * leaves no half transaction; that is the failure that matters here
	 * (a daemon gets killed or crashes mid-pass far more often than the
	 * machine loses power). Only a power cut can lose the
	 * last commits, never corrupt the file, and an older baseline is
	 * safe: the next pass sees "changed" or "no baseline" rows and
	 * reconciles them (SPEC §6, 4.17), and NORMAL spares an fsync per
	 * pass. journal_size_limit keeps the WAL from staying at the size of
	 * the biggest pass ever.
	 */
	if (exec_sql(b, "PRAGMA journal_mode = WAL", "cannot open", err) ==
	    -1 ||
	    exec_sql(b, "PRAGMA synchronous = NORMAL; "
	    "PRAGMA foreign_keys = OFF; "
	    "PRAGMA secure_delete = OFF; "
	    "PRAGMA journal_size_limit = 8388608", "cannot open", err) == -1)
		goto fail;
	cache_set(b, CACHE_MIN_KIB);
	if (schema_setup(b, err) == -1)
		goto fail;
	for (i = 0; i < ST__N; i++) {
		if (sqlite3_prepare_v3(b->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &b->st[i], NULL) != SQLITE_OK) {
			es__baseline_db_error(b, err,
			    "cannot prepare statement");
			goto fail;
		}
	}
	return b;
fail:
	es_baseline_free(b);
	return NULL;
}

struct es_baseline *
es_baseline_open(const char *path, struct es_error *err)
{
	if (path == NULL || *path == '\0') {
		es_error_set(err, ES_EIO, NULL, 0, "no baseline path");
		return NULL;
	}
	return baseline_open(path, path, 0, err);
}

bool
es_baseline_exists(const char *root)
{
	char *path = es_xasprintf("%s/" ES_BASELINE_FILE, root);
	struct stat st;
	bool yes = lstat(path, &st) == 0;

	free(path);
	return yes;
}

struct es_baseline *
es_baseline_open_root(const char *root, struct es_error *err)
{
	struct es_baseline *b;
	char *path;

	if ((path = es__state_dir_prepare(root, err)) == NULL)
		return NULL;
	b = baseline_open(path, ES_BASELINE_FILE, SQLITE_OPEN_NOFOLLOW, err);
	free(path);
	return b;
}

void
es_baseline_free(struct es_baseline *b)
{
	int i;

	if (b == NULL)
		return;
	if (b->db != NULL && !sqlite3_get_autocommit(b->db))
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < ST__N; i++)
		sqlite3_finalize(b->st[i]);
	sqlite3_close_v2(b->db);
	es_buf_release(&b->rel);
	es_buf_release(&b->line);
	es_buf_release(&b->base);
	free(b->path);
	free(b);
}

/* The bytes the database holds now (pages in use or free). */
static uint64_t
db_bytes(struct es_baseline *b)
{
	sqlite3_stmt *s = b->st[ST_PAGES];
	uint64_t n = 0;

	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0)
		n = (uint64_t)sqlite3_column_int64(s, 0);
	es__baseline_stmt_done(s);
	return n;
}

int
es_baseline_begin(struct es_baseline *b, struct es_error *err)
{
	if (es__baseline_step_done(b, b->st[ST_BEGIN],
	    "cannot begin transaction", err) < 0)
		return -1;
	/* A pass that rewrites rows touches the indexes of all of them. */
	cache_fit(b, db_bytes(b));
	return 0;
}

int
es_baseline_commit(struct es_baseline *b, struct es_error *err)
{
	if (es__baseline_step_done(b, b->st[ST_COMMIT], "cannot commit",
	    err) == 0) {
		cache_release(b);
		return 0;
	}
	/* All or nothing: a commit that failed (disk full, I/O error) must
	 * not leave the transaction open for later writes to join. */
	es_baseline_rollback(b);
	return -1;
}

void
es_baseline_rollback(struct es_baseline *b)
{
	if (b == NULL || sqlite3_get_autocommit(b->db))
		return;
	sqlite3_step(b->st[ST_ROLLBACK]);
	es__baseline_stmt_done(b->st[ST_ROLLBACK]);
	cache_release(b);
}

int
es_baseline_get_meta(struct es_baseline *b, const char *key, char **value,
    struct es_error *err)
{
	static const char what[] = "cannot read meta";
	sqlite3_stmt *s = b->st[ST_META_GET];
	const char *v;
	bool row;
	int ret = -1;

	*value = NULL;
	if (es__baseline_bind_key(b, s, key, NULL, what, err) == -1 ||
	    es__baseline_step_one(b, s, &row, what, err) == -1)
		goto out;
	if (row && (v = (const char *)sqlite3_column_text(s, 0)) != NULL)
		*value = es_xstrdup(v);
	ret = 0;
out:
	es__baseline_stmt_done(s);
	return ret;
}

int
es_baseline_set_meta(struct es_baseline *b, const char *key,
    const char *value, struct es_error *err)
{
	sqlite3_stmt *s = b->st[ST_META_SET];

	if (key == NULL || value == NULL)
		return es_error_set(err, ES_EIO, b->path, 0,
		    "meta needs a key and a value");
	if (sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC) != SQLITE_OK) {
		es__baseline_db_error(b, err, "cannot write meta");
		es__baseline_stmt_done(s);
		return -1;
	}
	return es__baseline_step_done(b, s, "cannot write meta", err);
}

static int
count_rows(struct es_baseline *b, enum stmt idx, size_t *n,
    struct es_error *err)
{
	sqlite3_stmt *s = b->st[idx];
	int ret = -1;

	if (sqlite3_step(s) != SQLITE_ROW) {
		es__baseline_db_error(b, err, "cannot count rows");
		goto out;
	}
	*n = (size_t)sqlite3_column_int64(s, 0);
	ret = 0;
out:
	es__baseline_stmt_done(s);
	return ret;
}

int
es_baseline_count(struct es_baseline *b, size_t *files, size_t *entities,
    struct es_error *err)
{
	if (files != NULL && count_rows(b, ST_COUNT_FILES, files, err) == -1)
		return -1;
	if (entities != NULL &&
	    count_rows(b, ST_COUNT_ENTS, entities, err) == -1)
		return -1;
	return 0;
}

int
es_baseline_clear(struct es_baseline *b, struct es_error *err)
{
	/*
	 * A savepoint nests inside the caller's transaction or makes its
	 * own: both tables go together either way (SPEC 4.17 --resync), and
	 * a crash before the commit leaves the previous baseline. Dropped
	 * and made again, not deleted row by row: their pages go to the free
	 * list in one walk, and the rows that follow fill a fresh tree. The
	 * kept statements prepare themselves again on their next step.
	 */
	if (exec_sql(b, "SAVEPOINT es_clear; DROP TABLE file; "
	    "DROP TABLE entity", "cannot clear", err) == 0 &&
	    exec_sql(b, schema_v1, "cannot clear", err) == 0 &&
	    exec_sql(b, "RELEASE es_clear", "cannot clear", err) == 0)
		return 0;
	sqlite3_exec(b->db, "ROLLBACK TO es_clear; RELEASE es_clear", NULL,
	    NULL, NULL);
	return -1;
}
