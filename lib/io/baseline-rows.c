/*
 * The baseline's rows (baseline.h): file rows and entity rows put, read,
 * deleted and walked, and an entity's base read alone (the walks leave it
 * out). The statements, the schema, opening, transactions, the page cache
 * and meta are baseline.c's; baseline-internal.h is what both share.
 *
 * Numbers: SQLite integers are signed 64-bit, so the unsigned 64-bit values
 * (dev, ino, size, fingerprints) are stored bit for bit as int64 and cast
 * back; a fingerprint with its top bit set reads back unchanged.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/error.h"

#include "baseline-internal.h"

static int64_t
u64_to_i64(uint64_t u)
{
	int64_t i;

	memcpy(&i, &u, sizeof(i));
	return i;
}

static uint64_t
i64_to_u64(int64_t i)
{
	uint64_t u;

	memcpy(&u, &i, sizeof(u));
	return u;
}

int
es_baseline_put_file(struct es_baseline *b, const struct es_base_file *f,
    struct es_error *err)
{
	sqlite3_stmt *s = b->st[ST_FILE_PUT];

	if (f->rel == NULL || *f->rel == '\0')
		return es_error_set(err, ES_EIO, b->path, 0,
		    "file row without a path");
	if (sqlite3_bind_text(s, 1, f->rel, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, u64_to_i64(f->st.dev)) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, u64_to_i64(f->st.ino)) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, u64_to_i64(f->st.size)) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, f->st.mtime_ns) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 6, f->st.ctime_ns) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 7, (sqlite3_int64)f->st.mode) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 8, u64_to_i64(f->raw_fp)) != SQLITE_OK) {
		es__baseline_db_error(b, err, "cannot write file row");
		es__baseline_stmt_done(s);
		return -1;
	}
	if (!sqlite3_get_autocommit(b->db))
		es__baseline_cache_grow(b, strlen(f->rel));
	return es__baseline_step_done(b, s, "cannot write file row", err);
}

int
es_baseline_delete_file(struct es_baseline *b, const char *rel,
    struct es_error *err)
{
	sqlite3_stmt *s = b->st[ST_FILE_DEL];

	if (rel == NULL)
		return es_error_set(err, ES_EIO, b->path, 0,
		    "file row without a path");
	if (es__baseline_bind_key(b, s, rel, NULL, "cannot delete file row",
	    err) == -1) {
		es__baseline_stmt_done(s);
		return -1;
	}
	return es__baseline_step_done(b, s, "cannot delete file row", err);
}

/* A blob column that may be NULL: zero-length blobs come back as a NULL
 * pointer from SQLite, so the type tells "absent" from "empty". */
static const void *
column_blob_or_null(sqlite3_stmt *s, int col, size_t *len)
{
	const void *p;

	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		*len = 0;
		return NULL;
	}
	p = sqlite3_column_blob(s, col);
	*len = (size_t)sqlite3_column_bytes(s, col);
	return p != NULL ? p : "";
}

/* Row to struct, pointers into the statement's current row. */
static int
file_row(struct es_baseline *b, sqlite3_stmt *s, struct es_base_file *f,
    struct es_error *err)
{
	int64_t mode;

	f->rel = (const char *)sqlite3_column_text(s, 0);
	mode = sqlite3_column_int64(s, 6);
	if (f->rel == NULL || mode < 0 || mode > UINT32_MAX)
		return es_error_set(err, ES_EIO, b->path, 0,
		    "corrupt file row '%s'", f->rel == NULL ? "" : f->rel);
	f->st.dev = i64_to_u64(sqlite3_column_int64(s, 1));
	f->st.ino = i64_to_u64(sqlite3_column_int64(s, 2));
	f->st.size = i64_to_u64(sqlite3_column_int64(s, 3));
	f->st.mtime_ns = sqlite3_column_int64(s, 4);
	f->st.ctime_ns = sqlite3_column_int64(s, 5);
	f->st.mode = (uint32_t)mode;
	f->raw_fp = i64_to_u64(sqlite3_column_int64(s, 7));
	return 0;
}

static int
entity_row(struct es_baseline *b, sqlite3_stmt *s, struct es_base_entity *e,
    struct es_error *err)
{
	const void *id;
	int64_t kind, pos;
	size_t idlen;

	id = column_blob_or_null(s, 0, &idlen);
	kind = sqlite3_column_int64(s, 1);
	e->rel = (const char *)sqlite3_column_text(s, 2);
	pos = sqlite3_column_int64(s, 3);
	if (id == NULL || idlen != sizeof(e->id.bytes) || e->rel == NULL ||
	    kind < ES_KIND_PROJECT || kind > ES_KIND_ACTION ||
	    pos < 0 || pos > UINT32_MAX)
		return es_error_set(err, ES_EIO, b->path, 0,
		    "corrupt entity row in '%s'",
		    e->rel == NULL ? "" : e->rel);
	memcpy(e->id.bytes, id, sizeof(e->id.bytes));
	e->kind = (enum es_kind)kind;
	e->pos = (uint32_t)pos;
	e->line = column_blob_or_null(s, 4, &e->line_len);
	e->doc_updated_at = sqlite3_column_int64(s, 5);
	e->fp = i64_to_u64(sqlite3_column_int64(s, 6));
	e->base = column_blob_or_null(s, 7, &e->base_len);
	return 0;
}

/* Copy bytes (or NULL) into a buffer of b; returns the kept pointer. */
static const void *
keep(struct es_buf *buf, const void *p, size_t len)
{
	if (p == NULL)
		return NULL;
	es_buf_reset(buf);
	es_buf_add(buf, p, len);
	return buf->buf;
}

int
es_baseline_get_file(struct es_baseline *b, const char *rel,
    struct es_base_file *out, bool *found, struct es_error *err)
{
	static const char what[] = "cannot read file row";
	sqlite3_stmt *s = b->st[ST_FILE_GET];
	int ret = -1;

	*found = false;
	if (rel == NULL)
		return es_error_set(err, ES_EIO, b->path, 0,
		    "file row without a path");
	if (es__baseline_bind_key(b, s, rel, NULL, what, err) == -1 ||
	    es__baseline_step_one(b, s, found, what, err) == -1)
		goto out;
	if (*found) {
		if (file_row(b, s, out, err) == -1) {
			*found = false;
			goto out;
		}
		out->rel = keep(&b->rel, out->rel, strlen(out->rel));
	}
	ret = 0;
out:
	es__baseline_stmt_done(s);
	return ret;
}

int
es_baseline_put_entity(struct es_baseline *b,
    const struct es_base_entity *e, struct es_error *err)
{
	sqlite3_stmt *s = b->st[ST_ENT_PUT];
	int rc;

	if (e->rel == NULL || (e->line == NULL && e->line_len > 0) ||
	    (e->base == NULL && e->base_len > 0) ||
	    e->kind < ES_KIND_PROJECT || e->kind > ES_KIND_ACTION)
		return es_error_set(err, ES_EIO, b->path, 0,
		    "bad entity row for '%s'", e->rel == NULL ? "" : e->rel);
	rc = sqlite3_bind_blob(s, 1, e->id.bytes, sizeof(e->id.bytes),
	    SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, (int)e->kind);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 3, e->rel, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)e->pos);
	/* NULL pointer binds SQL NULL; a non-NULL empty line stays "". */
	if (rc == SQLITE_OK && e->line != NULL)
		rc = sqlite3_bind_blob64(s, 5, e->line,
		    (sqlite3_uint64)e->line_len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, e->doc_updated_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 7, u64_to_i64(e->fp));
	if (rc == SQLITE_OK && e->base != NULL)
		rc = sqlite3_bind_blob64(s, 8, e->base,
		    (sqlite3_uint64)e->base_len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		es__baseline_db_error(b, err, "cannot write entity row");
		es__baseline_stmt_done(s);
		return -1;
	}
	if (!sqlite3_get_autocommit(b->db))
		es__baseline_cache_grow(b, strlen(e->rel) + e->line_len +
		    e->base_len);
	return es__baseline_step_done(b, s, "cannot write entity row", err);
}

int
es_baseline_delete_entity(struct es_baseline *b, const bson_oid_t *id,
    struct es_error *err)
{
	sqlite3_stmt *s = b->st[ST_ENT_DEL];

	if (es__baseline_bind_key(b, s, NULL, id, "cannot delete entity row",
	    err) == -1) {
		es__baseline_stmt_done(s);
		return -1;
	}
	return es__baseline_step_done(b, s, "cannot delete entity row", err);
}

int
es_baseline_get_entity(struct es_baseline *b, const bson_oid_t *id,
    struct es_base_entity *out, bool *found, struct es_error *err)
{
	static const char what[] = "cannot read entity row";
	sqlite3_stmt *s = b->st[ST_ENT_GET];
	int ret = -1;

	*found = false;
	if (es__baseline_bind_key(b, s, NULL, id, what, err) == -1 ||
	    es__baseline_step_one(b, s, found, what, err) == -1)
		goto out;
	if (*found) {
		if (entity_row(b, s, out, err) == -1) {
			*found = false;
			goto out;
		}
		out->rel = keep(&b->rel, out->rel, strlen(out->rel));
		out->line = keep(&b->line, out->line, out->line_len);
		out->base = keep(&b->base, out->base, out->base_len);
	}
	ret = 0;
out:
	es__baseline_stmt_done(s);
	return ret;
}

/*
 * The one walk over a statement's rows: row() takes each (decoding it and
 * handing it on); a non-zero return stops the walk and is returned.
 */
static int
each_row(struct es_baseline *b, enum stmt idx,
    int (*row)(struct es_baseline *, sqlite3_stmt *, void *,
    struct es_error *), void *ctx, const char *what, struct es_error *err)
{
	sqlite3_stmt *s, *tmp;
	int rc, ret;

	if ((s = es__baseline_stmt_get(b, idx, &tmp, err)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((ret = row(b, s, ctx, err)) != 0)
			goto out;
	ret = rc == SQLITE_DONE ? 0 : es__baseline_db_error(b, err, what);
out:
	es__baseline_stmt_done(s);
	sqlite3_finalize(tmp);
	return ret;
}

struct file_walk {
	int	(*cb)(const struct es_base_file *, void *);
	void	*ud;
};

static int
file_step(struct es_baseline *b, sqlite3_stmt *s, void *ctx,
    struct es_error *err)
{
	struct file_walk *w = ctx;
	struct es_base_file f;

	if (file_row(b, s, &f, err) == -1)
		return -1;
	return w->cb(&f, w->ud);
}

int
es_baseline_each_file(struct es_baseline *b,
    int (*cb)(const struct es_base_file *f, void *ud), void *ud,
    struct es_error *err)
{
	struct file_walk w = { cb, ud };

	return each_row(b, ST_FILE_EACH, file_step, &w,
	    "cannot read file rows", err);
}

struct entity_walk {
	int	(*cb)(const struct es_base_entity *, void *);
	void	*ud;
};

static int
entity_step(struct es_baseline *b, sqlite3_stmt *s, void *ctx,
    struct es_error *err)
{
	struct entity_walk *w = ctx;
	struct es_base_entity e;

	if (entity_row(b, s, &e, err) == -1)
		return -1;
	return w->cb(&e, w->ud);
}

/* The walk of es_baseline_each_entity*(), with or without the base. */
static int
each_entity(struct es_baseline *b, enum stmt idx,
    int (*cb)(const struct es_base_entity *e, void *ud), void *ud,
    struct es_error *err)
{
	struct entity_walk w = { cb, ud };

	return each_row(b, idx, entity_step, &w, "cannot read entity rows",
	    err);
}

int
es_baseline_each_entity(struct es_baseline *b,
    int (*cb)(const struct es_base_entity *e, void *ud), void *ud,
    struct es_error *err)
{
	return each_entity(b, ST_ENT_EACH, cb, ud, err);
}

int
es_baseline_each_entity_nobase(struct es_baseline *b,
    int (*cb)(const struct es_base_entity *e, void *ud), void *ud,
    struct es_error *err)
{
	return each_entity(b, ST_ENT_EACH_NOBASE, cb, ud, err);
}

int
es_baseline_get_base(struct es_baseline *b, const bson_oid_t *id,
    const uint8_t **base, size_t *base_len, bool *found,
    struct es_error *err)
{
	static const char what[] = "cannot read entity row";
	sqlite3_stmt *s, *tmp;
	const void *p;
	size_t len;
	int ret = -1;

	*found = false;
	*base = NULL;
	*base_len = 0;
	if ((s = es__baseline_stmt_get(b, ST_ENT_BASE, &tmp, err)) == NULL)
		return -1;
	if (es__baseline_bind_key(b, s, NULL, id, what, err) == -1 ||
	    es__baseline_step_one(b, s, found, what, err) == -1)
		goto out;
	if (*found) {
		p = column_blob_or_null(s, 0, &len);
		*base = keep(&b->base, p, len);
		*base_len = len;
	}
	ret = 0;
out:
	es__baseline_stmt_done(s);
	sqlite3_finalize(tmp);
	return ret;
}
