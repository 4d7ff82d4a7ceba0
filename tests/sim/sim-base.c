/*
 * The baseline store of one simulated machine (issue 17): the rows of
 * lib/io/baseline.c in memory, behind es_world_base (world.h), with
 * SQLite's semantics where the engine could tell: BEGIN IMMEDIATE inside
 * a transaction fails, COMMIT without one fails, writes outside one land
 * at once, entities walk in (kind, rel, pos, id) order with BINARY
 * (memcmp) collation, put replaces the whole row by key, a NULL line or
 * base stays NULL and an empty one comes back as "" (column_blob_or_null()),
 * clear keeps meta and is undone by a rollback. A crash (the counter's
 * tick on put, delete, set_meta, clear, commit) rolls the transaction
 * back and fails every later write.
 *
 * The transaction is a copy of the rows taken at begin (the store holds a
 * handful): rollback puts it back, commit drops it.
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "sim-internal.h"

#define BASE_PATH	".execsync/baseline.sqlite"

struct frow {
	char		*rel;
	struct es_stat	 st;
	es_fp_t		 raw_fp;
};

struct erow {
	bson_oid_t	 id;
	enum es_kind	 kind;
	char		*rel;
	uint32_t	 pos;
	char		*line;		/* NULL: SQL NULL */
	size_t		 line_len;
	int64_t		 doc_updated_at;
	es_fp_t		 fp;
	uint8_t		*base;		/* NULL: SQL NULL */
	size_t		 base_len;
};

struct mrow {
	char	*key, *value;
};

struct rows {
	struct frow	*f;
	size_t		 nf;
	struct erow	*e;
	size_t		 ne;
	struct mrow	*m;
	size_t		 nm;
};

struct sim_base {
	struct sim_crash	*crash;
	struct rows		 cur;
	struct rows		 saved;		/* at begin */
	bool			 in_tx;
};

/* ---- rows ---- */

/* A copy of n bytes that keeps NULL NULL and empty non-NULL. */
static void *
dup_or_null(const void *p, size_t n)
{
	void *q;

	if (p == NULL)
		return NULL;
	q = es_xmalloc(n + 1);
	if (n)
		memcpy(q, p, n);
	((char *)q)[n] = '\0';
	return q;
}

static void
erow_copy(struct erow *d, const struct erow *s)
{
	*d = *s;
	d->rel = es_xstrdup(s->rel);
	d->line = dup_or_null(s->line, s->line_len);
	d->base = dup_or_null(s->base, s->base_len);
}

static void
erow_free(struct erow *e)
{
	free(e->rel);
	free(e->line);
	free(e->base);
}

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->nf; i++)
		free(r->f[i].rel);
	for (size_t i = 0; i < r->ne; i++)
		erow_free(&r->e[i]);
	for (size_t i = 0; i < r->nm; i++) {
		free(r->m[i].key);
		free(r->m[i].value);
	}
	free(r->f);
	free(r->e);
	free(r->m);
	memset(r, 0, sizeof(*r));
}

static void
rows_copy(struct rows *d, const struct rows *s)
{
	d->nf = s->nf;
	d->ne = s->ne;
	d->nm = s->nm;
	d->f = es_xcalloc(s->nf + 1, sizeof(*d->f));
	d->e = es_xcalloc(s->ne + 1, sizeof(*d->e));
	d->m = es_xcalloc(s->nm + 1, sizeof(*d->m));
	for (size_t i = 0; i < s->nf; i++) {
		d->f[i] = s->f[i];
		d->f[i].rel = es_xstrdup(s->f[i].rel);
	}
	for (size_t i = 0; i < s->ne; i++)
		erow_copy(&d->e[i], &s->e[i]);
	for (size_t i = 0; i < s->nm; i++) {
		d->m[i].key = es_xstrdup(s->m[i].key);
		d->m[i].value = es_xstrdup(s->m[i].value);
	}
}

static ssize_t
find_file(const struct rows *r, const char *rel)
{
	for (size_t i = 0; i < r->nf; i++)
		if (strcmp(r->f[i].rel, rel) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
find_entity(const struct rows *r, const bson_oid_t *id)
{
	for (size_t i = 0; i < r->ne; i++)
		if (memcmp(r->e[i].id.bytes, id->bytes, sizeof(id->bytes)) == 0)
			return (ssize_t)i;
	return -1;
}

/* ---- life ---- */

struct sim_base *
sim_base_new(struct sim_crash *crash)
{
	struct sim_base *b = es_xcalloc(1, sizeof(*b));

	b->crash = crash;
	return b;
}

void
sim_base_free(struct sim_base *b)
{
	if (b == NULL)
		return;
	rows_free(&b->cur);
	rows_free(&b->saved);
	free(b);
}

static void
b_rollback(void *ctx)
{
	struct sim_base *b = ctx;

	if (!b->in_tx)
		return;
	rows_free(&b->cur);
	b->cur = b->saved;
	memset(&b->saved, 0, sizeof(b->saved));
	b->in_tx = false;
}

/* A write's crash point: the process dies, its transaction with it. */
static int
crash_point(struct sim_base *b, struct es_error *err)
{
	if (!sim_crash_tick(b->crash))
		return 0;
	b_rollback(b);
	return es_error_set(err, ES_EIO, BASE_PATH, 0, "simulated crash");
}

/* ---- the table ---- */

static int
b_begin(void *ctx, struct es_error *err)
{
	struct sim_base *b = ctx;

	if (b->in_tx)
		return es_error_set(err, ES_EIO, BASE_PATH, 0,
		    "cannot begin transaction: cannot start a transaction "
		    "within a transaction");
	rows_copy(&b->saved, &b->cur);
	b->in_tx = true;
	return 0;
}

static int
b_commit(void *ctx, struct es_error *err)
{
	struct sim_base *b = ctx;

	if (crash_point(b, err) < 0)
		return -1;
	if (!b->in_tx)
		return es_error_set(err, ES_EIO, BASE_PATH, 0, "cannot commit: "
		    "cannot commit - no transaction is active");
	rows_free(&b->saved);
	b->in_tx = false;
	return 0;
}

static int
b_get_meta(void *ctx, const char *key, char **value, struct es_error *err)
{
	struct sim_base *b = ctx;

	(void)err;
	*value = NULL;
	for (size_t i = 0; i < b->cur.nm; i++)
		if (strcmp(b->cur.m[i].key, key) == 0) {
			*value = es_xstrdup(b->cur.m[i].value);
			break;
		}
	return 0;
}

static int
b_set_meta(void *ctx, const char *key, const char *value,
    struct es_error *err)
{
	struct sim_base *b = ctx;
	struct rows *r = &b->cur;

	if (crash_point(b, err) < 0)
		return -1;
	for (size_t i = 0; i < r->nm; i++)
		if (strcmp(r->m[i].key, key) == 0) {
			free(r->m[i].value);
			r->m[i].value = es_xstrdup(value);
			return 0;
		}
	r->m = es_xreallocarray(r->m, r->nm + 1, sizeof(*r->m));
	r->m[r->nm].key = es_xstrdup(key);
	r->m[r->nm++].value = es_xstrdup(value);
	return 0;
}

static int
b_get_file(void *ctx, const char *rel, struct es_base_file *out,
    bool *found, struct es_error *err)
{
	struct sim_base *b = ctx;
	ssize_t i;

	(void)err;
	*found = false;
	if (rel == NULL || (i = find_file(&b->cur, rel)) < 0)
		return 0;
	out->rel = b->cur.f[i].rel;
	out->st = b->cur.f[i].st;
	out->raw_fp = b->cur.f[i].raw_fp;
	*found = true;
	return 0;
}

static int
b_put_file(void *ctx, const struct es_base_file *f, struct es_error *err)
{
	struct sim_base *b = ctx;
	struct rows *r = &b->cur;
	ssize_t i;

	if (f->rel == NULL || *f->rel == '\0')
		return es_error_set(err, ES_EIO, BASE_PATH, 0,
		    "file row without a path");
	if (crash_point(b, err) < 0)
		return -1;
	if ((i = find_file(r, f->rel)) < 0) {
		r->f = es_xreallocarray(r->f, r->nf + 1, sizeof(*r->f));
		i = (ssize_t)r->nf++;
		r->f[i].rel = es_xstrdup(f->rel);
	}
	r->f[i].st = f->st;
	r->f[i].raw_fp = f->raw_fp;
	return 0;
}

static int
b_delete_file(void *ctx, const char *rel, struct es_error *err)
{
	struct sim_base *b = ctx;
	struct rows *r = &b->cur;
	ssize_t i;

	if (rel == NULL)
		return es_error_set(err, ES_EIO, BASE_PATH, 0,
		    "cannot delete file row: no path");
	if (crash_point(b, err) < 0)
		return -1;
	if ((i = find_file(r, rel)) >= 0) {
		free(r->f[i].rel);
		r->f[i] = r->f[--r->nf];
	}
	return 0;
}

static int
b_put_entity(void *ctx, const struct es_base_entity *e, struct es_error *err)
{
	struct sim_base *b = ctx;
	struct rows *r = &b->cur;
	struct erow row;
	ssize_t i;

	if (e->rel == NULL || (e->line == NULL && e->line_len > 0) ||
	    (e->base == NULL && e->base_len > 0) ||
	    e->kind < ES_KIND_PROJECT || e->kind > ES_KIND_ACTION)
		return es_error_set(err, ES_EIO, BASE_PATH, 0,
		    "bad entity row for '%s'", e->rel == NULL ? "" : e->rel);
	if (crash_point(b, err) < 0)
		return -1;
	row.id = e->id;
	row.kind = e->kind;
	row.rel = (char *)e->rel;
	row.pos = e->pos;
	row.line = (char *)e->line;
	row.line_len = e->line_len;
	row.doc_updated_at = e->doc_updated_at;
	row.fp = e->fp;
	row.base = (uint8_t *)e->base;
	row.base_len = e->base_len;
	if ((i = find_entity(r, &e->id)) >= 0) {
		struct erow old = r->e[i];

		erow_copy(&r->e[i], &row);	/* e may point into old */
		erow_free(&old);
		return 0;
	}
	r->e = es_xreallocarray(r->e, r->ne + 1, sizeof(*r->e));
	erow_copy(&r->e[r->ne++], &row);
	return 0;
}

static int
b_delete_entity(void *ctx, const bson_oid_t *id, struct es_error *err)
{
	struct sim_base *b = ctx;
	struct rows *r = &b->cur;
	ssize_t i;

	if (crash_point(b, err) < 0)
		return -1;
	if ((i = find_entity(r, id)) >= 0) {
		erow_free(&r->e[i]);
		r->e[i] = r->e[--r->ne];
	}
	return 0;
}

static int
cmp_erow(const void *va, const void *vb)
{
	const struct erow *a = *(const struct erow *const *)va;
	const struct erow *b = *(const struct erow *const *)vb;
	int c;

	if (a->kind != b->kind)
		return (int)a->kind < (int)b->kind ? -1 : 1;
	if ((c = strcmp(a->rel, b->rel)) != 0)
		return c;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return memcmp(a->id.bytes, b->id.bytes, sizeof(a->id.bytes));
}

static void
to_pub(const struct erow *r, struct es_base_entity *e, bool with_base)
{
	e->id = r->id;
	e->kind = r->kind;
	e->rel = r->rel;
	e->pos = r->pos;
	e->line = r->line;
	e->line_len = r->line_len;
	e->doc_updated_at = r->doc_updated_at;
	e->fp = r->fp;
	e->base = with_base ? r->base : NULL;
	e->base_len = with_base ? r->base_len : 0;
}

/*
 * Rows are copied for the walk, so a callback that writes (SQLite would
 * let it) walks what was there when the walk began.
 */
static int
walk(struct sim_base *b, int (*cb)(const struct es_base_entity *, void *),
    void *ud, bool with_base)
{
	struct erow *copy, **v;
	size_t n = b->cur.ne;
	struct es_base_entity e;
	int rc = 0;

	copy = es_xcalloc(n + 1, sizeof(*copy));
	v = es_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		erow_copy(&copy[i], &b->cur.e[i]);
		v[i] = &copy[i];
	}
	qsort(v, n, sizeof(*v), cmp_erow);
	for (size_t i = 0; i < n && rc == 0; i++) {
		to_pub(v[i], &e, with_base);
		rc = cb(&e, ud);
	}
	for (size_t i = 0; i < n; i++)
		erow_free(&copy[i]);
	free(copy);
	free(v);
	return rc;
}

static int
b_each_entity(void *ctx, int (*cb)(const struct es_base_entity *, void *),
    void *ud, struct es_error *err)
{
	(void)err;
	return walk(ctx, cb, ud, true);
}

static int
b_each_entity_nobase(void *ctx,
    int (*cb)(const struct es_base_entity *, void *), void *ud,
    struct es_error *err)
{
	(void)err;
	return walk(ctx, cb, ud, false);
}

static int
b_get_base(void *ctx, const bson_oid_t *id, const uint8_t **base,
    size_t *base_len, bool *found, struct es_error *err)
{
	struct sim_base *b = ctx;
	ssize_t i;

	(void)err;
	*base = NULL;
	*base_len = 0;
	*found = false;
	if ((i = find_entity(&b->cur, id)) < 0)
		return 0;
	*found = true;
	*base = b->cur.e[i].base;
	*base_len = b->cur.e[i].base_len;
	return 0;
}

static int
b_count(void *ctx, size_t *files, size_t *entities, struct es_error *err)
{
	struct sim_base *b = ctx;

	(void)err;
	*files = b->cur.nf;
	*entities = b->cur.ne;
	return 0;
}

static int
b_clear(void *ctx, struct es_error *err)
{
	struct sim_base *b = ctx;
	struct rows *r = &b->cur;

	if (crash_point(b, err) < 0)
		return -1;
	for (size_t i = 0; i < r->nf; i++)
		free(r->f[i].rel);
	for (size_t i = 0; i < r->ne; i++)
		erow_free(&r->e[i]);
	r->nf = r->ne = 0;
	return 0;
}

void
sim_base_table(struct sim_base *b, struct es_world_base *out)
{
	static const struct es_world_base t = {
		.begin = b_begin, .commit = b_commit, .rollback = b_rollback,
		.get_meta = b_get_meta, .set_meta = b_set_meta,
		.get_file = b_get_file, .put_file = b_put_file,
		.delete_file = b_delete_file, .put_entity = b_put_entity,
		.delete_entity = b_delete_entity,
		.each_entity = b_each_entity,
		.each_entity_nobase = b_each_entity_nobase,
		.get_base = b_get_base, .count = b_count, .clear = b_clear,
	};

	*out = t;
	out->ctx = b;
}
