/*
 * The one-shot pass (see engine.h). Gather, pair, plan (plan.c decides
 * every row of SPEC §6 for projects and goals), then apply. Actions are
 * engine-action.c's: their lists come from the same scan and their writes
 * land in the same baseline transaction.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/engine.h"
#include "execsync/entity-file.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/gitstate.h"
#include "execsync/layout.h"
#include "execsync/log.h"
#include "execsync/pair.h"
#include "execsync/scan.h"
#include "execsync/slug.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

#include "engine-action.h"

/* The watermark and the lookback: see es__watermark() in engine-action.h. */

#define SUB	"sync"

/* A scanned project or goal file. */
struct fent {
	struct es_tree_file	 tf;	/* rel, info, st, raw_fp, status, entity */
	bool			 broken;
	bool			 paired;
};

/* One entity: up to three versions, then what applying did. */
#define ES_ENGINE_READ_BATCH	10000

struct ent {
	enum es_kind		 kind;
	bool			 has_base;
	struct es_entity	 base;
	char			*base_rel;
	int64_t			 base_ua;
	bool			 base_file;	/* a file row at base_rel */
	struct es_stat		 base_st;
	ssize_t			 file;		/* index into files, or -1 */
	bool			 has_db, db_broken, db_seen;
	struct es_entity	 db;
	int64_t			 db_ua;
	size_t			 op_first, op_n;
	/* apply state */
	char			*cur_rel;	/* where the file is now */
	bool			 wrote;
	struct es_stat		 new_st;
	es_fp_t			 new_raw;
	bool			 doc_written;
	int64_t			 doc_ua;
	bool			 inserted;
	bson_oid_t		 new_id;
};

struct eng {
	const struct es_engine_opts	*o;
	struct es_store			*store;
	struct es_baseline		*b;
	struct es_engine_result		*r;
	struct fent			*files;
	size_t				 nfiles;
	struct ent			*ents;
	size_t				 nents, aents;
	size_t				*by_id;		/* ents with a base, by id */
	size_t				*by_rel;	/* the same, by base_rel */
	size_t				 nby_id;
	bool				 ignore_base;	/* resync or other identity */
	bool				 full;
	bool				 force_full_next;
	int64_t				 maxseen[2];
	/* Results of the batched compare-and-swap writes, by index into
	 * r->plan.ops: 0 not batched, CAS_DONE, CAS_LOST or CAS_UNKNOWN
	 * (no answer; cas_err says why). */
	unsigned char			*cas_pre;
	struct es_error			 cas_err;
	struct es_buf			 buf;
	struct es_tree			 errs;		/* parse errors */
	struct es__acts			*acts;		/* the actions part */
	char				**unread;	/* scan's skipped, sorted */
	size_t				 nunread;
};

enum { APPLY_OK = 0, APPLY_FAIL = -1, APPLY_LOST = -2 };

static void
add_error(struct es_engine_result *r, const struct es_error *e,
    enum es_log_level l)
{
	r->errors = es_xreallocarray(r->errors, r->nerrors + 1,
	    sizeof(*r->errors));
	r->errors[r->nerrors++] = *e;
	es_log_error(e, l, SUB);
}

void
es_engine_result_init(struct es_engine_result *r)
{
	memset(r, 0, sizeof(*r));
	es_plan_init(&r->plan);
}

void
es_engine_result_release(struct es_engine_result *r)
{
	if (r == NULL)
		return;
	es_plan_release(&r->plan);
	free(r->errors);
	memset(r, 0, sizeof(*r));
	es_plan_init(&r->plan);
}

int
es_engine_status(const struct es_engine_result *r)
{
	return r->held || r->guard_stopped || r->failed > 0 ||
	    r->conflicts > 0 || r->lost_races > 0 || r->nerrors > 0;
}

static bool
same_stat(const struct es_stat *a, const struct es_stat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* As es_fsio_write()'s expect: ctime left out (a chmod is no edit). */
static bool
same_content_stat(const struct es_stat *a, const struct es_stat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

static struct ent *
ent_new(struct eng *g, enum es_kind kind)
{
	struct ent *e;

	if (g->nents == g->aents) {
		g->aents = g->aents ? 2 * g->aents : 64;
		g->ents = es_xreallocarray(g->ents, g->aents, sizeof(*g->ents));
	}
	e = &g->ents[g->nents++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->file = -1;
	es_entity_init(&e->base, kind);
	es_entity_init(&e->db, kind);
	return e;
}

static void
ent_release(struct ent *e)
{
	es_entity_release(&e->base);
	es_entity_release(&e->db);
	free(e->base_rel);
	free(e->cur_rel);
}

/* ---- the baseline ---- */

static int
on_base_entity(const struct es_base_entity *be, void *ud)
{
	struct eng *g = ud;
	struct es_error err;
	struct ent *e;
	bson_t doc;

	if (be->kind != ES_KIND_PROJECT && be->kind != ES_KIND_GOAL)
		return 0;	/* actions: the next slice */
	if (!bson_init_static(&doc, be->base, be->base_len)) {
		es_log(ES_LOG_WARN, SUB, "%s: baseline row is corrupt, ignored",
		    be->rel);
		return 0;
	}
	e = ent_new(g, be->kind);
	es_entity_release(&e->base);
	if (es_entity_decode(&doc, be->kind, &e->base, &err) < 0) {
		es_entity_release(&e->base);
		es_entity_init(&e->base, be->kind);
		es_log(ES_LOG_WARN, SUB, "%s: baseline row does not decode, "
		    "ignored: %s", be->rel, err.msg);
		g->nents--;
		ent_release(e);
		return 0;
	}
	bson_oid_copy(&be->id, &e->base.meta.id);
	e->base.meta.has_id = true;
	e->has_base = true;
	e->base_rel = es_xstrdup(be->rel);
	e->base_ua = be->doc_updated_at;
	return 0;
}

static int
cmp_ent_id(const void *a, const void *b, void *ud)
{
	const struct ent *ents = ud;

	return bson_oid_compare(&ents[*(const size_t *)a].base.meta.id,
	    &ents[*(const size_t *)b].base.meta.id);
}

static int
cmp_ent_rel(const void *a, const void *b, void *ud)
{
	const struct ent *ents = ud;

	return strcmp(ents[*(const size_t *)a].base_rel,
	    ents[*(const size_t *)b].base_rel);
}

static ssize_t
find_base_by_id(struct eng *g, const bson_oid_t *id)
{
	size_t lo = 0, hi = g->nby_id;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bson_oid_compare(id,
		    &g->ents[g->by_id[mid]].base.meta.id);

		if (c == 0)
			return (ssize_t)g->by_id[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * SPEC 4.18: a baseline recorded for another database or user describes
 * another data set; syncing against it would upload the whole folder as
 * new documents (a mistyped --user-id). Only --resync adopts the new one.
 */
static int
check_identity(struct eng *g, struct es_error *err)
{
	char *ident = NULL;
	int rc = 0;

	if (g->o->identity == NULL)
		return 0;
	if (es_baseline_get_meta(g->b, "identity", &ident, err) < 0)
		return -1;
	if (ident == NULL || strcmp(ident, g->o->identity) == 0)
		goto out;
	if (g->o->resync) {
		es_log(ES_LOG_WARN, SUB, "--resync: the baseline was for '%s', "
		    "now '%s': matching by identity (SPEC 4.17)", ident,
		    g->o->identity);
		goto out;
	}
	rc = es_error_set(err, ES_ECONFIG, g->o->root, 0, "this folder was "
	    "synced with '%s', not '%s': nothing synced (check --user-id, "
	    "--database and --mongodb-uri; --resync adopts the new one on "
	    "purpose, matching by identity and deleting nothing)", ident,
	    g->o->identity);
out:
	free(ident);
	return rc;
}

static int
load_baseline(struct eng *g, struct es_error *err)
{
	if (check_identity(g, err) < 0)
		return -1;
	if (g->o->resync)
		g->ignore_base = true;
	if (g->ignore_base)
		return 0;
	if (es_baseline_each_entity(g->b, on_base_entity, g, err) < 0)
		return -1;
	g->by_id = es_xcalloc(g->nents ? g->nents : 1, sizeof(size_t));
	for (size_t i = 0; i < g->nents; i++) {
		struct ent *e = &g->ents[i];
		struct es_base_file bf;
		bool found;

		g->by_id[g->nby_id++] = i;
		if (es_baseline_get_file(g->b, e->base_rel, &bf, &found,
		    err) < 0)
			return -1;
		if (found) {
			e->base_file = true;
			e->base_st = bf.st;
		}
	}
	g->by_rel = es_xcalloc(g->nby_id ? g->nby_id : 1, sizeof(size_t));
	memcpy(g->by_rel, g->by_id, g->nby_id * sizeof(size_t));
	qsort_r(g->by_id, g->nby_id, sizeof(size_t), cmp_ent_id, g->ents);
	qsort_r(g->by_rel, g->nby_id, sizeof(size_t), cmp_ent_rel, g->ents);
	return 0;
}

/* ---- the file side ---- */

static ssize_t
find_base_by_rel(struct eng *g, const char *rel, enum es_kind kind)
{
	size_t lo = 0, hi = g->nby_id;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct ent *e = &g->ents[g->by_rel[mid]];
		int c = strcmp(rel, e->base_rel);

		if (c == 0)
			return e->kind == kind ? (ssize_t)g->by_rel[mid] : -1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int
load_files(struct eng *g, struct es_error *err)
{
	struct es_scan_opts so;
	struct es_scan_result sr;
	struct es_tree_opts topts;
	size_t n = 0;

	so.ignore = g->o->ignore;
	topts.ignore = g->o->ignore;
	topts.max_file_size = g->o->max_file_size ? g->o->max_file_size :
	    ES_CONTENT_MAX_DEFAULT;
	if (es_scan(g->o->root_fd, &so, &sr, err) < 0)
		return -1;
	g->files = es_xcalloc(sr.n ? sr.n : 1, sizeof(*g->files));
	for (size_t i = 0; i < sr.n; i++) {
		struct es_scan_entry *se = &sr.entries[i];
		struct fent *f;
		struct es_base_file bf;
		bool found = false;
		ssize_t bi = -1;

		if (se->info.kind == ES_KIND_ACTION) {
			es__acts_add_list(g->acts, se->rel, &se->info,
			    &se->st);
			continue;
		}
		if (se->info.kind != ES_KIND_PROJECT &&
		    se->info.kind != ES_KIND_GOAL)
			continue;
		f = &g->files[n++];
		f->tf.rel = se->rel;	/* taken over */
		se->rel = NULL;
		f->tf.info = se->info;
		f->tf.st = se->st;
		if (!g->ignore_base && es_baseline_get_file(g->b, f->tf.rel,
		    &bf, &found, err) < 0) {
			g->nfiles = n;
			es_entity_init(&f->tf.entity, se->info.kind);
			es_scan_result_release(&sr);
			return -1;
		}
		if (found && same_stat(&bf.st, &f->tf.st) &&
		    (bi = find_base_by_rel(g, f->tf.rel, se->info.kind)) >= 0) {
			/* SPEC §6: unchanged stat data, not even read. */
			es_entity_copy(&f->tf.entity, &g->ents[bi].base);
			f->tf.raw_fp = bf.raw_fp;
			f->tf.status = ES_TREE_OK;
			continue;
		}
		if (found && same_stat(&bf.st, &f->tf.st) &&
		    se->info.kind == ES_KIND_GOAL) {
			/*
			 * A file row without an entity: a goal candidate
			 * that was not a goal (notes beside goals) when
			 * read; unchanged, so still not one.
			 */
			es_entity_init(&f->tf.entity, ES_KIND_GOAL);
			f->tf.status = ES_TREE_NOT_SYNCED;
			continue;
		}
		size_t before = g->errs.nerrors;

		es_tree_load_file(g->o->root_fd, &topts, &f->tf, &g->buf,
		    &g->errs);
		g->r->files_read++;
		es_log(ES_LOG_DEBUG, SUB, "%s: read (%s)", f->tf.rel, found ?
		    "stat data changed" : "no baseline row");
		if (f->tf.status == ES_TREE_FAILED) {
			f->broken = true;
			for (size_t k = before; k < g->errs.nerrors; k++)
				add_error(g->r, &g->errs.errors[k],
				    ES_LOG_WARN);
			g->r->failed++;
		}
	}
	g->nfiles = n;
	/*
	 * Symbolic links, unreadable folders and files and the like where a
	 * synced file could be: reported, and what the baseline has there is
	 * left alone (see es__acts_set_unreadable()).
	 */
	g->unread = es_xcalloc(sr.nskipped ? sr.nskipped : 1, sizeof(char *));
	for (size_t i = 0; i < sr.nskipped; i++) {
		struct es_error e;

		es_error_set(&e, ES_EUNSAFE, sr.skipped[i].rel, 0, "%s",
		    sr.skipped[i].reason);
		add_error(g->r, &e, ES_LOG_WARN);
		g->unread[g->nunread++] = sr.skipped[i].rel;	/* sorted */
		sr.skipped[i].rel = NULL;
	}
	es__acts_set_unreadable(g->acts, g->unread, g->nunread);
	es_scan_result_release(&sr);
	return 0;
}

/* A binary search for each of rel's leading folders, then rel itself. */
bool
es__path_below_any(const char *rel, char *const *rels, size_t n)
{
	size_t len = strlen(rel);

	for (size_t k = 1; n > 0 && k <= len; k++) {
		size_t lo = 0, hi = n;

		if (k < len && rel[k] != '/')
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strncmp(rel, rels[mid], k);

			if (c == 0 && rels[mid][k] != '\0')
				c = -1;
			if (c == 0)
				return true;
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	return false;
}

/* ---- the database side ---- */

struct readctx {
	struct eng	*g;
	enum es_kind	 kind;
};

static int
on_doc(const bson_t *doc, void *ud)
{
	struct readctx *c = ud;
	struct eng *g = c->g;
	struct es_entity tmp;
	struct es_error err;
	bson_iter_t it;
	bson_oid_t id;
	bool has_id = false;
	ssize_t bi = -1;
	struct ent *e;

	g->r->docs_read++;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_copy(bson_iter_oid(&it), &id);
		has_id = true;
		bi = find_base_by_id(g, &id);
	}
	if (es_entity_decode(doc, c->kind, &tmp, &err) < 0) {
		es_entity_release(&tmp);
		add_error(g->r, &err, ES_LOG_WARN);
		g->r->failed++;
		if (bi >= 0) {
			g->ents[bi].db_broken = true;
			g->ents[bi].db_seen = true;
		}
		return 0;
	}
	(void)has_id;
	if (tmp.meta.updated_at > g->maxseen[c->kind])
		g->maxseen[c->kind] = tmp.meta.updated_at;
	if (bi >= 0)
		e = &g->ents[bi];
	else
		e = ent_new(g, c->kind);
	es_entity_release(&e->db);
	e->db = tmp;
	e->has_db = true;
	e->db_seen = true;
	e->db_ua = tmp.meta.updated_at;
	return 0;
}

static int64_t
meta_int(struct eng *g, const char *key, int64_t dflt, struct es_error *err,
    int *rc)
{
	char *v = NULL, *end;
	long long n;

	*rc = es_baseline_get_meta(g->b, key, &v, err);
	if (*rc < 0 || v == NULL)
		return dflt;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v)
		n = dflt;
	free(v);
	return n;
}

static int
load_docs(struct eng *g, struct es_error *err)
{
	static const enum es_kind kinds[2] = { ES_KIND_PROJECT, ES_KIND_GOAL };
	const struct es_engine_opts *o = g->o;
	int64_t last_full, since[2];
	int rc;

	size_t nf = 0, nrows = 0;

	last_full = meta_int(g, "last_full_pass_ms", -1, err, &rc);
	if (rc < 0)
		return -1;
	/* No row of any kind (actions too): a first pass reads everything. */
	if (g->nby_id == 0 && !g->ignore_base &&
	    es_baseline_count(g->b, &nf, &nrows, err) < 0)
		return -1;
	g->full = (g->nby_id == 0 && nrows == 0) || g->ignore_base ||
	    o->force || o->full ||
	    last_full < 0 || (o->full_pass_s > 0 &&
	    o->now_ms - last_full >= (int64_t)o->full_pass_s * 1000);
	for (int k = 0; k < 2; k++) {
		char key[64];
		int64_t wm;

		snprintf(key, sizeof(key), "watermark.%s",
		    es_kind_collection(kinds[k]));
		wm = meta_int(g, key, -1, err, &rc);
		if (rc < 0)
			return -1;
		if (wm < 0)
			g->full = true;
		since[k] = wm - ES__LOOKBACK_MS;
		if (since[k] < 0)
			since[k] = 0;
		g->maxseen[k] = wm;
	}
	g->r->full_read = g->full;
	for (int k = 0; k < 2; k++) {
		struct readctx c = { g, kinds[k] };

		if (es_store_find(g->store, kinds[k], o->user_id,
		    g->full ? -1 : since[k], on_doc, &c, err) < 0)
			return -1;
	}
	/*
	 * A document a since-query did not return is unchanged: its version
	 * is the baseline's. After a full read it is gone (hard-deleted).
	 */
	for (size_t i = 0; i < g->nents; i++) {
		struct ent *e = &g->ents[i];

		if (!e->has_base || e->db_seen || g->full)
			continue;
		es_entity_release(&e->db);
		es_entity_copy(&e->db, &e->base);
		e->db.meta.updated_at = e->base_ua;
		e->db_ua = e->base_ua;
		e->has_db = true;
	}
	return 0;
}

/* ---- pairing ---- */

static ssize_t
find_file_by_rel(struct eng *g, const char *rel)
{
	size_t lo = 0, hi = g->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rel, g->files[mid].tf.rel);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static bool
file_usable(const struct fent *f, enum es_kind kind)
{
	return !f->paired && f->tf.info.kind == kind &&
	    f->tf.status != ES_TREE_NOT_SYNCED;
}

static void
pair(struct ent *e, struct eng *g, size_t fi)
{
	e->file = (ssize_t)fi;
	g->files[fi].paired = true;
}

/*
 * Candidates for an identity match: documents with no baseline row and no
 * file yet, sorted by (kind, slug), so each file finds its document by
 * binary search. A linear scan per file made a --resync quadratic in the
 * size of the folder (execsync-bench reconcile: resync_scale).
 */
static int
cmp_cand(const void *a, const void *b, void *ud)
{
	const struct ent *ents = ud;
	const struct ent *x = &ents[*(const size_t *)a];
	const struct ent *y = &ents[*(const size_t *)b];
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->db.slug, y->db.slug)) != 0)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The first unpaired candidate of this kind and slug, or -1. */
static ssize_t
find_cand(struct eng *g, const size_t *cand, size_t n, enum es_kind kind,
    const char *slug)
{
	size_t lo = 0, hi = n;
	ssize_t del = -1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ent *c = &g->ents[cand[mid]];
		int d = c->kind != kind ? (c->kind < kind ? -1 : 1) :
		    strcmp(c->db.slug, slug);

		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A live document before a soft-deleted one with the same slug. */
	for (; lo < n; lo++) {
		const struct ent *c = &g->ents[cand[lo]];

		if (c->kind != kind || strcmp(c->db.slug, slug) != 0)
			return del;
		if (c->file >= 0)
			continue;
		if (!c->db.meta.deleted)
			return (ssize_t)cand[lo];
		if (del < 0)
			del = (ssize_t)cand[lo];
	}
	return del;
}

static void
pair_by_identity(struct eng *g)
{
	size_t *cand, n = 0, nents = g->nents;

	cand = es_xcalloc(nents ? nents : 1, sizeof(*cand));
	for (size_t i = 0; i < nents; i++) {
		const struct ent *c = &g->ents[i];

		if (!c->has_base && c->file < 0 && c->has_db &&
		    c->db.slug != NULL)
			cand[n++] = i;
	}
	qsort_r(cand, n, sizeof(*cand), cmp_cand, g->ents);
	for (size_t j = 0; j < g->nfiles; j++) {
		struct fent *f = &g->files[j];
		ssize_t ci;
		struct ent *e;
		char *nfc;

		if (!file_usable(f, f->tf.info.kind))
			continue;
		ci = find_cand(g, cand, n, f->tf.info.kind, f->tf.info.slug);
		if (ci < 0 && (nfc = es_slug_nfc(f->tf.info.slug)) != NULL) {
			/*
			 * A decomposed name (a clone made where names are
			 * NFD) meets its composed slug: the document's slug
			 * stands, and the file is renamed to it.
			 */
			ci = find_cand(g, cand, n, f->tf.info.kind, nfc);
			free(nfc);
			if (ci >= 0 && !f->broken) {
				free(f->tf.entity.slug);
				f->tf.entity.slug = es_xstrdup(
				    g->ents[ci].db.slug);
			}
		}
		if (ci >= 0)
			e = &g->ents[ci];
		else if (f->broken)
			continue;	/* counted when read */
		else
			e = ent_new(g, f->tf.info.kind);	/* may move g->ents */
		pair(e, g, j);
	}
	free(cand);
}

/*
 * SPEC 4.10: live documents of this user sharing a slug (left by the
 * replaced script, or a client without the unique index) cannot both own
 * the file of that slug. The one this machine synced keeps it; the others
 * are reported and left alone, and when none was synced all of them are
 * (a file with that slug then pairs with one of them and is left alone
 * too), until the user resolves it in the app. Never a stopped pass.
 */
static void
mark_shared_slugs(struct eng *g)
{
	size_t *v = es_xcalloc(g->nents ? g->nents : 1, sizeof(*v)), n = 0;

	for (size_t i = 0; i < g->nents; i++) {
		const struct ent *e = &g->ents[i];

		if (e->has_db && !e->db_broken && !e->db.meta.deleted &&
		    e->db.slug != NULL)
			v[n++] = i;
	}
	qsort_r(v, n, sizeof(*v), cmp_cand, g->ents);
	for (size_t i = 0, j; i < n; i = j) {
		const struct ent *first = &g->ents[v[i]];
		size_t nbase = 0;

		for (j = i; j < n && g->ents[v[j]].kind == first->kind &&
		    strcmp(g->ents[v[j]].db.slug, first->db.slug) == 0; j++)
			nbase += g->ents[v[j]].has_base;
		if (j - i < 2)
			continue;
		for (size_t k = i; k < j; k++) {
			struct ent *e = &g->ents[v[k]];
			struct es_error err;
			char hex[25], where[64];

			if (nbase == 1 && e->has_base)
				continue;
			bson_oid_to_string(&e->db.meta.id, hex);
			snprintf(where, sizeof(where), "%s/%s",
			    es_kind_collection(e->kind), hex);
			es_error_set(&err, ES_ECONFLICT, where, 0, "slug '%s' "
			    "is shared by %zu documents: left alone until only "
			    "one has it (SPEC 4.10)", e->db.slug, j - i);
			add_error(g->r, &err, ES_LOG_WARN);
			g->r->failed++;
			e->db_broken = true;
		}
	}
	free(v);
}

/*
 * Baseline entities that lost their file and files at a path no baseline
 * entity had: es_pair_match() decides which are the same (same slug, or
 * content similar enough; the inode only breaks ties). What stays unpaired
 * plans as deleted and as new (SPEC 4.5, 4.6).
 */
static void
pair_moved(struct eng *g, size_t nbase)
{
	struct es_pair_item *lost, *files;
	struct es_pair_verdict *why;
	struct es_pair_stats st;
	size_t *li, *fi, nl = 0, nf = 0;
	ssize_t *match;

	lost = es_xcalloc(nbase ? nbase : 1, sizeof(*lost));
	li = es_xcalloc(nbase ? nbase : 1, sizeof(*li));
	files = es_xcalloc(g->nfiles ? g->nfiles : 1, sizeof(*files));
	fi = es_xcalloc(g->nfiles ? g->nfiles : 1, sizeof(*fi));
	for (size_t i = 0; i < nbase; i++) {
		struct ent *e = &g->ents[i];

		if (!e->has_base || e->file >= 0)
			continue;
		lost[nl].kind = e->kind;
		lost[nl].slug = e->base.slug;
		if (e->has_db && !e->db_broken && e->db.slug != NULL &&
		    (e->base.slug == NULL || strcmp(e->db.slug,
		    e->base.slug) != 0))
			lost[nl].alias = e->db.slug;
		lost[nl].e = &e->base;
		lost[nl].has_ino = e->base_file;
		lost[nl].dev = e->base_st.dev;
		lost[nl].ino = e->base_st.ino;
		li[nl++] = i;
	}
	for (size_t j = 0; nl > 0 && j < g->nfiles; j++) {
		struct fent *f = &g->files[j];

		if (!file_usable(f, f->tf.info.kind))
			continue;
		files[nf].kind = f->tf.info.kind;
		files[nf].slug = f->tf.info.slug;
		files[nf].e = f->broken ? NULL : &f->tf.entity;
		files[nf].has_ino = true;
		files[nf].dev = f->tf.st.dev;
		files[nf].ino = f->tf.st.ino;
		fi[nf++] = j;
	}
	match = es_xcalloc(nl ? nl : 1, sizeof(*match));
	why = es_xcalloc(nl ? nl : 1, sizeof(*why));
	es_pair_match(lost, nl, files, nf, NULL, match, why, &st);
	for (size_t k = 0; k < nl; k++) {
		struct ent *e = &g->ents[li[k]];
		struct fent *f;

		if (match[k] < 0)
			continue;
		f = &g->files[fi[match[k]]];
		pair(e, g, fi[match[k]]);
		if (why[k].rule == ES_PAIR_BODY)
			es_log(ES_LOG_INFO, SUB, "%s: the same %s as %s (body "
			    "%u%% similar)", f->tf.rel, e->kind ==
			    ES_KIND_GOAL ? "goal" : "project", e->base_rel,
			    why[k].similarity);
		else if (why[k].rule == ES_PAIR_TITLE)
			es_log(ES_LOG_INFO, SUB, "%s: the same %s as %s (same "
			    "title)", f->tf.rel, e->kind == ES_KIND_GOAL ?
			    "goal" : "project", e->base_rel);
		else if (why[k].rule == ES_PAIR_HOLD)
			es_log(ES_LOG_INFO, SUB, "%s: has the inode of %s, "
			    "which is left alone until the file parses",
			    f->tf.rel, e->base_rel);
	}
	if (st.skipped > 0)
		es_log(ES_LOG_WARN, SUB, "rename detection: %zu pairs of a "
		    "lost and a new file were not compared (too many); what "
		    "is left unpaired is taken as deleted and created",
		    st.skipped);
	free(lost);
	free(li);
	free(files);
	free(fi);
	free(match);
	free(why);
}

static void
pair_all(struct eng *g)
{
	size_t nbase = g->nents;

	/* 1. by the path of the last sync */
	for (size_t i = 0; i < nbase; i++) {
		struct ent *e = &g->ents[i];
		ssize_t fi;

		if (!e->has_base)
			continue;
		fi = find_file_by_rel(g, e->base_rel);
		if (fi >= 0 && file_usable(&g->files[fi], e->kind))
			pair(e, g, (size_t)fi);
	}
	/* 2. a moved or renamed file, when the evidence agrees (SPEC 4.6) */
	pair_moved(g, nbase);
	/* 3. identity (SPEC 4.17): kind and slug, documents without a base */
	pair_by_identity(g);
}

/* ---- planning ---- */

static void
plan_one(struct eng *g, struct ent *e, struct es_plan *plan)
{
	struct es_plan_input in;
	struct es_error err;
	struct fent *f = e->file >= 0 ? &g->files[e->file] : NULL;

	memset(&in, 0, sizeof(in));
	in.kind = e->kind;
	if (e->has_base) {
		in.base = &e->base;
		in.base_rel = e->base_rel;
		in.base_doc_updated_at = e->base_ua;
	}
	if (f != NULL) {
		in.file_rel = f->tf.rel;
		in.file_mtime_ms = f->tf.st.mtime_ns / 1000000;
		if (f->broken)
			in.file_broken = true;
		else
			in.file = &f->tf.entity;
	} else if (e->has_base && es__path_below_any(e->base_rel, g->unread,
	    g->nunread)) {
		/* Not seen because it could not be read: never "deleted". */
		in.file_rel = e->base_rel;
		in.file_broken = true;
	}
	if (e->db_broken)
		in.db_broken = true;
	else if (e->has_db) {
		in.db = &e->db;
		in.db_updated_at = e->db_ua;
	}
	e->op_first = plan->n;
	es_error_clear(&err);
	if (es_plan_entity(&in, g->o->policy, g->o->now_ms, plan, &err) < 0) {
		add_error(g->r, &err, ES_LOG_WARN);
		g->r->failed++;
	}
	e->op_n = plan->n - e->op_first;
}

/* SPEC 4.15: per collection, too many deletions stop the pass. */
static bool
guard_trips(struct eng *g)
{
	static const enum es_kind kinds[3] = { ES_KIND_PROJECT, ES_KIND_GOAL,
	    ES_KIND_ACTION };
	bool trip = false;

	for (int k = 0; k < 3; k++) {
		size_t del = 0, trash = 0, total = 0, n;

		es_plan_count(&g->r->plan, kinds[k], &del, &trash);
		if (kinds[k] == ES_KIND_ACTION)
			total = es__acts_total(g->acts);
		for (size_t i = 0; i < g->nents; i++)
			total += g->ents[i].has_base &&
			    g->ents[i].kind == kinds[k];
		n = del + trash;
		if (n < 10 || n * 100 <= (size_t)g->o->max_delete * total)
			continue;
		es_log(ES_LOG_ERROR, SUB, "deletion guard: %zu of %zu %s would "
		    "be deleted (%zu in the database, %zu files to the trash), "
		    "over max_delete %u%%: nothing changed; check the folder "
		    "and the database, then run with --max-delete 100 to let "
		    "it through (SPEC 4.15)", n, total,
		    es_kind_collection(kinds[k]), del, trash,
		    g->o->max_delete);
		trip = true;
	}
	return trip;
}

/* ---- applying ---- */

static void
op_error(struct eng *g, const struct es_op *op, const struct es_error *e)
{
	struct es_error x = *e;

	if (x.path[0] == '\0' && op->rel != NULL)
		snprintf(x.path, sizeof(x.path), "%s", op->rel);
	add_error(g->r, &x, ES_LOG_WARN);
}

/* Slugs in the database (one find of _id and slug) and in the folder. */
struct slugs {
	char		**v;
	size_t		 n;
	struct eng	*g;
	enum es_kind	 kind;
};

static int
on_slug(const bson_t *doc, void *ud)
{
	struct slugs *sl = ud;
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, "slug") && BSON_ITER_HOLDS_UTF8(&it)) {
		sl->v = es_xreallocarray(sl->v, sl->n + 1, sizeof(*sl->v));
		sl->v[sl->n++] = es_xstrdup(bson_iter_utf8(&it, NULL));
	}
	return 0;
}

static bool
slug_taken(const char *slug, void *ud)
{
	const struct slugs *sl = ud;

	for (size_t i = 0; i < sl->n; i++)
		if (strcmp(sl->v[i], slug) == 0)
			return true;
	for (size_t i = 0; i < sl->g->nfiles; i++)
		if (sl->g->files[i].tf.info.kind == sl->kind &&
		    strcmp(sl->g->files[i].tf.info.slug, slug) == 0)
			return true;
	return false;
}

/*
 * SPEC §2: a new file whose slug another document of the collection has
 * (two area folders holding the same file name) gets the first free
 * slug-2, slug-3, ..., and its file is renamed to match, so the folder and
 * the database keep one identity. The entity's later ops follow the file.
 * Returns the new slug (malloc'd) or NULL with err.
 */
static char *
unique_slug(struct eng *g, struct ent *e, const char *slug,
    struct es_error *err)
{
	static const char *const fields[] = { "slug", NULL };
	struct slugs sl = { NULL, 0, g, e->kind };
	char *fresh = NULL;

	if (es_store_find_fields(g->store, e->kind, g->o->user_id, fields,
	    on_slug, &sl, err) == 0)
		fresh = es_slug_unique(slug, slug_taken, &sl);
	for (size_t i = 0; i < sl.n; i++)
		free(sl.v[i]);
	free(sl.v);
	return fresh;
}

/* After a rename of the file to slug at rel: the ops that follow op. */
static void
retarget(struct eng *g, struct ent *e, const struct es_op *op,
    const char *slug, const char *rel)
{
	struct es_plan *p = &g->r->plan;
	size_t i = (size_t)(op - p->ops) + 1;

	for (; i < e->op_first + e->op_n; i++) {
		struct es_op *o = &p->ops[i];

		if (o->value != NULL) {
			free(o->value->slug);
			o->value->slug = es_xstrdup(slug);
		}
		if (o->rel != NULL) {
			free(o->rel);
			o->rel = es_xstrdup(rel);
		}
	}
}

enum { CAS_NONE = 0, CAS_DONE, CAS_LOST, CAS_UNKNOWN };

static bool
is_cas_op(const struct es_op *op)
{
	return op->op == ES_OP_DOC_UPDATE || op->op == ES_OP_DOC_DELETE ||
	    op->op == ES_OP_DOC_UNDELETE;
}

/* What the batch did with this op of the pass's plan (not a re-plan's). */
static int
cas_batched(struct eng *g, const struct es_op *op)
{
	const struct es_plan *p = &g->r->plan;

	if (g->cas_pre == NULL || op < p->ops || op >= p->ops + p->n)
		return CAS_NONE;
	return g->cas_pre[op - p->ops];
}

static int
insert_doc(struct eng *g, struct ent *e, struct es_entity *v,
    struct es_error *err)
{
	bson_t doc = BSON_INITIALIZER;
	int rc;

	v->meta.id = es_docid_entity(g->o->user_id, v);
	v->meta.has_id = true;
	es_entity_encode(v, g->o->user_id, &doc);
	rc = es_store_insert(g->store, e->kind, &doc, err);
	bson_destroy(&doc);
	return rc;
}

/* The compare-and-swap of op's fields (SPEC 4.12); *matched: it won. */
static int
update_doc(struct eng *g, struct ent *e, const struct es_op *op,
    bool *matched, struct es_error *err)
{
	const struct es_entity *v = op->value;
	bson_t body = BSON_INITIALIZER, update = BSON_INITIALIZER;
	int rc;

	es_entity_encode_set(v, op->fields, v->meta.updated_at, &body);
	bson_append_document(&update, "$set", 4, &body);
	rc = es_store_update_cas(g->store, e->kind, &v->meta.id,
	    g->o->user_id, op->expect_updated_at, v->meta.updated_at, &update,
	    matched, err);
	bson_destroy(&body);
	bson_destroy(&update);
	return rc;
}

/*
 * SPEC §2, 4.4: the slug op's document wants is taken in the collection
 * (a new file named like another area's file; a file renamed onto the
 * slug of a soft-deleted project, which the unique index still counts):
 * the document takes the first free slug-2, slug-3, ... and the file is
 * renamed to match, so folder and database keep one identity. Inserts
 * (DOC_INSERT) and slug updates (DOC_UPDATE) alike; the entity's later
 * ops follow the file.
 */
static int
rename_for_slug(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	struct es_buf rel = ES_BUF_INIT;
	char *fresh, *old = v->slug;
	const char *slash;
	bool matched = true;
	int rc = -1;

	if (e->cur_rel == NULL || (slash = strrchr(e->cur_rel, '/')) == NULL)
		return es_error_set(err, ES_ECONFLICT, op->rel, 0,
		    "slug '%s' is taken in the database", v->slug);
	if ((fresh = unique_slug(g, e, v->slug, err)) == NULL)
		return -1;
	es_buf_add(&rel, e->cur_rel, (size_t)(slash - e->cur_rel) + 1);
	es_buf_addf(&rel, "%s.md", fresh);
	v->slug = fresh;
	if ((op->op == ES_OP_DOC_INSERT ? insert_doc(g, e, v, err) :
	    update_doc(g, e, op, &matched, err)) < 0 || !matched) {
		if (!matched)
			es_error_set(err, ES_ECONFLICT, op->rel, 0, "the "
			    "document changed while syncing; the next pass "
			    "decides again");
		v->slug = old;
		free(fresh);
		goto out;
	}
	es_log(ES_LOG_INFO, SUB, "%s: slug '%s' is taken in the database; "
	    "renamed to %s (SPEC §2)", e->cur_rel, old, rel.buf);
	free(old);
	if (es_fsio_move(g->o->root_fd, e->cur_rel, rel.buf, err) < 0)
		goto out;
	free(e->cur_rel);
	e->cur_rel = es_xstrdup(rel.buf);
	retarget(g, e, op, fresh, rel.buf);
	rc = 0;
out:
	es_buf_release(&rel);
	return rc;
}

static int
apply_insert(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	bson_t found_doc;
	bool found = false;
	int rc;

	if (cas_batched(g, op) == CAS_DONE)
		goto done;	/* inserted by batch_inserts() */
	rc = insert_doc(g, e, v, err);
	if (rc < 0 && err->code == ES_ECONFLICT) {
		struct es_entity have;
		struct es_error e2;

		/*
		 * Our deterministic id already there: a pass that died
		 * between the insert and the baseline commit. Taken as ours
		 * only when it means exactly this; anything else (another
		 * document with this slug) is left to the next full read,
		 * which pairs it by identity (SPEC 4.17).
		 */
		if (es_store_find_one(g->store, e->kind, &v->meta.id,
		    &found_doc, &found, err) < 0)
			return -1;
		if (found) {
			bool same = false;

			if (es_doc_user_is(&found_doc, g->o->user_id)) {
				if (es_entity_decode(&found_doc, e->kind,
				    &have, &e2) == 0) {
					same = !have.meta.deleted &&
					    es_entity_diff(&have, v) == 0;
					if (same)
						v->meta.updated_at =
						    have.meta.updated_at;
				}
				es_entity_release(&have);
			}
			bson_destroy(&found_doc);
			if (same)
				goto done;
		}
		if (rename_for_slug(g, e, op, err) < 0) {
			/* A since-query may have missed the document that
			 * holds the slug: the next pass reads them all. */
			g->force_full_next = true;
			return -1;
		}
		goto done;
	}
	if (rc < 0)
		return -1;
done:
	e->inserted = true;
	bson_oid_copy(&v->meta.id, &e->new_id);
	e->doc_written = true;
	e->doc_ua = v->meta.updated_at;
	return 0;
}

/*
 * The compare-and-swap writes of a pass, in bulk per collection instead
 * of one round trip per document (issue 5: ten edits cost at most a few
 * round trips more than none; the store cuts large bulks into chunks that
 * fit its socket timeout). Each entity's first document write is batched:
 * the planner puts it before any file operation, so doing it early
 * changes nothing else. A write that lost its race is replayed by
 * apply_ent() as before: read again, decide again. A write still without
 * an answer after the store's tries (or never sent: the server could not
 * be reached) is neither: it fails, with no write of its own to wait on
 * too, and the next pass reads the document again and decides.
 */
static void
batch_cas(struct eng *g, enum es_kind kind)
{
	struct es_plan *p = &g->r->plan;
	struct es_store_cas *cas;
	bson_t *upd;
	size_t *idx, n = 0;
	enum es_store_cas_status *status;
	struct es_error err;

	cas = es_xcalloc(p->n ? p->n : 1, sizeof(*cas));
	upd = es_xcalloc(p->n ? p->n : 1, sizeof(*upd));
	idx = es_xcalloc(p->n ? p->n : 1, sizeof(*idx));
	for (size_t i = 0; i < g->nents; i++) {
		struct ent *e = &g->ents[i];

		if (e->kind != kind)
			continue;
		for (size_t k = e->op_first; k < e->op_first + e->op_n; k++) {
			struct es_op *op = &p->ops[k];
			const struct es_entity *v = op->value;
			bson_t body = BSON_INITIALIZER;

			if (!is_cas_op(op))
				continue;
			if (v == NULL || !v->meta.has_id)
				break;
			es_entity_encode_set(v, op->fields,
			    v->meta.updated_at, &body);
			bson_init(&upd[n]);
			bson_append_document(&upd[n], "$set", 4, &body);
			bson_destroy(&body);
			cas[n].id = v->meta.id;
			cas[n].expected_updated_at_ms = op->expect_updated_at;
			cas[n].new_updated_at_ms = v->meta.updated_at;
			cas[n].update = &upd[n];
			idx[n++] = k;
			break;	/* the entity's first document write only */
		}
	}
	status = es_xcalloc(n ? n : 1, sizeof(*status));
	es_error_clear(&err);
	if (n > 1 && es_store_update_cas_many(g->store, kind,
	    g->o->user_id, cas, n, status, &err) < 0)
		g->cas_err = err;
	for (size_t i = 0; n > 1 && i < n; i++)
		g->cas_pre[idx[i]] = status[i] == ES_STORE_CAS_DONE ?
		    CAS_DONE : status[i] == ES_STORE_CAS_LOST ? CAS_LOST :
		    CAS_UNKNOWN;
	for (size_t i = 0; i < n; i++)
		bson_destroy(&upd[i]);
	free(status);
	free(idx);
	free(upd);
	free(cas);
}

/*
 * The new documents of a pass, in unordered bulk inserts (1,000 a round
 * trip) instead of one insert each: a first pass over a folder nobody
 * imported creates thousands. Only the plain case is batched: a document
 * refused as a duplicate (a pass that died before its baseline commit, or
 * a slug the database already has) goes through apply_insert() one by one,
 * which sorts those cases out.
 */
#define INSERT_BATCH	1000

static void
batch_inserts(struct eng *g, enum es_kind kind)
{
	struct es_plan *p = &g->r->plan;
	bson_t **docs;
	size_t *idx, n = 0;
	int *status;
	struct es_error err;

	docs = es_xcalloc(p->n ? p->n : 1, sizeof(*docs));
	idx = es_xcalloc(p->n ? p->n : 1, sizeof(*idx));
	for (size_t i = 0; i < g->nents; i++) {
		struct ent *e = &g->ents[i];

		if (e->kind != kind)
			continue;
		for (size_t k = e->op_first; k < e->op_first + e->op_n; k++) {
			struct es_op *op = &p->ops[k];
			struct es_entity *v = op->value;

			if (op->op == ES_OP_KEEP_FILE_VERSION ||
			    op->op == ES_OP_KEEP_DOC_VERSION ||
			    op->op == ES_OP_REPORT)
				continue;
			if (op->op == ES_OP_DOC_INSERT && v != NULL) {
				v->meta.id = es_docid_entity(g->o->user_id, v);
				v->meta.has_id = true;
				docs[n] = bson_new();
				es_entity_encode(v, g->o->user_id, docs[n]);
				idx[n++] = k;
			}
			break;	/* only an entity's first document write */
		}
	}
	status = es_xcalloc(n ? n : 1, sizeof(*status));
	es_error_clear(&err);
	if (n > 1) {
		/* Inserted is inserted, even when a later chunk failed. */
		(void)es_store_insert_many(g->store, kind,
		    (const bson_t *const *)docs, n, INSERT_BATCH, status, &err);
		for (size_t i = 0; i < n; i++)
			if (status[i] == 0)
				g->cas_pre[idx[i]] = CAS_DONE;
	}
	for (size_t i = 0; i < n; i++)
		bson_destroy(docs[i]);
	free(status);
	free(idx);
	free(docs);
}

static int
apply_doc_update(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	bool matched = false;
	int rc;

	if (!v->meta.has_id)
		return es_error_set(err, ES_EPARSE, op->rel, 0,
		    "no document id to update");
	switch (cas_batched(g, op)) {
	case CAS_DONE:
		e->doc_written = true;
		e->doc_ua = v->meta.updated_at;
		return APPLY_OK;
	case CAS_LOST:
		return APPLY_LOST;
	case CAS_UNKNOWN:
		/* No answer: not lost, not retried one by one either. */
		es_error_set(err, g->cas_err.code, op->rel, 0, "%s: %s; left "
		    "for the next pass", g->cas_err.path, g->cas_err.msg);
		return APPLY_FAIL;
	}
	rc = update_doc(g, e, op, &matched, err);
	if (rc < 0 && err->code == ES_ECONFLICT && (op->fields & ES_F_SLUG)) {
		/* The new slug is taken (a trashed project's, say). */
		if (rename_for_slug(g, e, op, err) < 0) {
			g->force_full_next = true;
			return APPLY_FAIL;
		}
		rc = 0;
		matched = true;
	}
	if (rc < 0)
		return APPLY_FAIL;
	if (!matched)
		return APPLY_LOST;
	e->doc_written = true;
	e->doc_ua = v->meta.updated_at;
	return APPLY_OK;
}

static int
apply_write(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct fent *f = e->file >= 0 ? &g->files[e->file] : NULL;
	struct es_buf out = ES_BUF_INIT;
	struct es_stat cur, zero, *expect;
	es_fp_t fp, *expect_fp = NULL;
	int rc = -1;

	memset(&zero, 0, sizeof(zero));
	if (es_entity_file_check(op->value, err) < 0) {
		if (err->path[0] == '\0' && op->rel != NULL)
			snprintf(err->path, sizeof(err->path), "%s", op->rel);
		return -1;
	}
	if (f != NULL && !f->broken && e->cur_rel != NULL &&
	    strcmp(e->cur_rel, op->rel) == 0) {
		/* Our file: a minimal edit of its current bytes (SPEC §2). */
		if (es_scan_read(g->o->root_fd, op->rel, g->o->max_file_size ?
		    g->o->max_file_size : ES_CONTENT_MAX_DEFAULT, &g->buf, &cur,
		    err) < 0)
			goto out;
		if (!same_content_stat(&cur, &f->tf.st)) {
			es_error_set(err, ES_ECONFLICT, op->rel, 0,
			    "changed on disk while syncing");
			goto out;
		}
		if (es_entity_file_update(g->buf.buf, g->buf.len, f->tf.rel,
		    op->value, &out, err) < 0)
			goto out;
		expect = &f->tf.st;
		/* The bytes this edit is made of: not replaced if changed. */
		fp = es_fp_bytes(g->buf.buf, g->buf.len);
		expect_fp = &fp;
	} else {
		es_entity_file_render(op->value, &out);
		expect = &zero;		/* must not exist */
	}
	/* Never write a file the next pass would refuse to read. */
	if (out.len > (g->o->max_file_size ? g->o->max_file_size :
	    ES_CONTENT_MAX_DEFAULT)) {
		es_error_set(err, ES_ELIMIT, op->rel, 0, "the file would be "
		    "%zu bytes, over max_file_size (%zu): not written (shorten "
		    "the document in the app)", out.len, g->o->max_file_size ?
		    g->o->max_file_size : ES_CONTENT_MAX_DEFAULT);
		goto out;
	}
	if (es_fsio_write(g->o->root_fd, op->rel, out.buf, out.len,
	    ES_FSIO_MODE_NEW, expect, expect_fp, &e->new_st, err) < 0)
		goto out;
	e->wrote = true;
	e->new_raw = es_fp_bytes(out.buf, out.len);
	free(e->cur_rel);
	e->cur_rel = es_xstrdup(op->rel);
	rc = 0;
out:
	es_buf_release(&out);
	return rc;
}

static int
apply_keep_file(struct eng *g, struct es_op *op, struct es_error *err)
{
	struct es_buf bytes = ES_BUF_INIT, kept = ES_BUF_INIT;
	int rc;

	if (op->rel == NULL || es_scan_read(g->o->root_fd, op->rel,
	    g->o->max_file_size ? g->o->max_file_size : ES_CONTENT_MAX_DEFAULT,
	    &bytes, NULL, NULL) < 0) {
		es_buf_reset(&bytes);
		es_entity_file_render(op->value, &bytes);
	}
	rc = es_fsio_conflict_copy(g->o->root_fd, op->rel ? op->rel :
	    "unknown.md", "file", g->o->now_ms, bytes.buf, bytes.len, &kept,
	    err);
	if (rc == 0)
		es_log(ES_LOG_WARN, SUB, "%s: the file's version is kept in "
		    "%s", op->rel ? op->rel : "?", kept.buf);
	es_buf_release(&bytes);
	es_buf_release(&kept);
	return rc;
}

static int
apply_keep_doc(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	bson_t doc = BSON_INITIALIZER, lost = BSON_INITIALIZER;
	int rc;

	if (!v->meta.has_id) {
		v->meta.id = es_docid_entity(g->o->user_id, v);
		v->meta.has_id = true;
	}
	es_entity_encode(v, g->o->user_id, &lost);
	BSON_APPEND_UTF8(&doc, "user_id", g->o->user_id);
	BSON_APPEND_UTF8(&doc, "collection", es_kind_collection(e->kind));
	BSON_APPEND_OID(&doc, "doc_id", &v->meta.id);
	BSON_APPEND_DATE_TIME(&doc, "kept_at", g->o->now_ms);
	BSON_APPEND_UTF8(&doc, "reason", op->reason);
	BSON_APPEND_DOCUMENT(&doc, "doc", &lost);
	rc = es_store_insert_conflict(g->store, &doc, err);
	if (rc == 0)
		es_log(ES_LOG_WARN, SUB, "%s: the database's version is kept "
		    "in %s", op->rel ? op->rel : "?", ES_STORE_CONFLICTS);
	bson_destroy(&doc);
	bson_destroy(&lost);
	return rc;
}

static int
apply_baseline_put(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity v;
	struct es_base_entity be;
	struct es_base_file bf;
	struct fent *f = e->file >= 0 ? &g->files[e->file] : NULL;
	bson_t doc = BSON_INITIALIZER;
	struct es_stat st;
	bool file_row = false;
	int rc = -1;

	es_entity_copy(&v, op->value);
	if (e->inserted) {
		bson_oid_copy(&e->new_id, &v.meta.id);
		v.meta.has_id = true;
	}
	if (!v.meta.has_id) {
		es_error_set(err, ES_EPARSE, op->rel, 0,
		    "no document id for the baseline");
		goto out;
	}
	if (e->doc_written)
		v.meta.updated_at = e->doc_ua;
	es_entity_encode(&v, g->o->user_id, &doc);
	memset(&be, 0, sizeof(be));
	bson_oid_copy(&v.meta.id, &be.id);
	be.kind = e->kind;
	be.rel = op->rel;
	be.doc_updated_at = v.meta.updated_at;
	be.fp = es_entity_fingerprint(&v);
	be.base = bson_get_data(&doc);
	be.base_len = doc.len;
	if (es_baseline_put_entity(g->b, &be, err) < 0)
		goto out;
	/* The file row: the stat data the next pass will compare with. */
	memset(&bf, 0, sizeof(bf));
	bf.rel = op->rel;
	/*
	 * Stat again: a rename (ours, or the atomic write's) changes ctime,
	 * and the next pass compares every field.
	 */
	if (e->wrote && e->cur_rel != NULL && strcmp(e->cur_rel, op->rel) ==
	    0) {
		if (es_scan_stat(g->o->root_fd, op->rel, &st, NULL) == 1 &&
		    same_content_stat(&st, &e->new_st)) {
			bf.st = st;
			bf.raw_fp = e->new_raw;
			file_row = true;
		}
	} else if (f != NULL && !f->broken &&
	    es_scan_stat(g->o->root_fd, op->rel, &st, NULL) == 1 &&
	    same_content_stat(&st, &f->tf.st)) {
		bf.st = st;
		bf.raw_fp = f->tf.raw_fp;
		file_row = true;
	}
	if (file_row && es_baseline_put_file(g->b, &bf, err) < 0)
		goto out;
	if (e->has_base && strcmp(e->base_rel, op->rel) != 0 &&
	    es_baseline_delete_file(g->b, e->base_rel, err) < 0)
		goto out;
	if (f != NULL && strcmp(f->tf.rel, op->rel) != 0 &&
	    es_baseline_delete_file(g->b, f->tf.rel, err) < 0)
		goto out;
	rc = 0;
out:
	bson_destroy(&doc);
	es_entity_release(&v);
	return rc;
}

static int
apply_op(struct eng *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_buf tr = ES_BUF_INIT;
	int rc = APPLY_OK;

	switch (op->op) {
	case ES_OP_DOC_INSERT:
		rc = apply_insert(g, e, op, err);
		break;
	case ES_OP_DOC_UPDATE:
	case ES_OP_DOC_DELETE:
	case ES_OP_DOC_UNDELETE:
		rc = apply_doc_update(g, e, op, err);
		break;
	case ES_OP_FILE_WRITE:
		rc = apply_write(g, e, op, err);
		break;
	case ES_OP_FILE_MOVE:
		rc = es_fsio_move(g->o->root_fd, op->rel_from, op->rel, err);
		if (rc == 0) {
			free(e->cur_rel);
			e->cur_rel = es_xstrdup(op->rel);
		}
		break;
	case ES_OP_FILE_TRASH:
		rc = es_fsio_trash(g->o->root_fd, op->rel, &tr, err);
		if (rc == 0)
			es_log(ES_LOG_INFO, SUB, "%s: moved to %s", op->rel,
			    tr.buf);
		break;
	case ES_OP_KEEP_FILE_VERSION:
		rc = apply_keep_file(g, op, err);
		if (rc == 0)
			g->r->conflicts++;
		break;
	case ES_OP_KEEP_DOC_VERSION:
		rc = apply_keep_doc(g, e, op, err);
		if (rc == 0)
			g->r->conflicts++;
		break;
	case ES_OP_BASELINE_PUT:
		rc = apply_baseline_put(g, e, op, err);
		break;
	case ES_OP_BASELINE_FORGET:
		if (op->value != NULL && op->value->meta.has_id)
			rc = es_baseline_delete_entity(g->b,
			    &op->value->meta.id, err);
		if (rc == 0 && op->rel != NULL)
			rc = es_baseline_delete_file(g->b, op->rel, err);
		break;
	case ES_OP_REPORT:
		es_log(ES_LOG_WARN, SUB, "%s: %s", op->rel ? op->rel : "-",
		    op->reason);
		break;
	}
	es_buf_release(&tr);
	/* Our own writes are seen too: the first pass after an import must
	 * not leave the watermark at zero (a full read every pass). */
	if (rc == 0 && e->doc_written && e->doc_ua > g->maxseen[e->kind])
		g->maxseen[e->kind] = e->doc_ua;
	return rc < 0 ? (rc == APPLY_LOST ? APPLY_LOST : APPLY_FAIL) : 0;
}

static void
log_op(const struct es_op *op)
{
	struct es_buf line = ES_BUF_INIT;

	es_op_describe(op, &line);
	es_log(ES_LOG_INFO, SUB, "%s", line.buf);
	es_buf_release(&line);
}

/* A lost race (SPEC 4.12): read the new version, decide again, once. */
static int
replan(struct eng *g, struct ent *e, struct es_error *err)
{
	bson_t doc;
	bool found = false;
	struct es_plan p = ES_PLAN_INIT;
	struct es_entity tmp;
	struct es_error e2;
	const bson_oid_t *id = e->has_db ? &e->db.meta.id :
	    &e->base.meta.id;
	int rc = 0;

	if (es_store_find_one(g->store, e->kind, id, &doc, &found, err) < 0)
		return -1;
	if (found && es_doc_user_is(&doc, g->o->user_id) &&
	    es_entity_decode(&doc, e->kind, &tmp, &e2) == 0) {
		es_entity_release(&e->db);
		e->db = tmp;
		e->has_db = true;
		e->db_ua = tmp.meta.updated_at;
	} else {
		if (found && es_doc_user_is(&doc, g->o->user_id))
			es_entity_release(&tmp);	/* decode failed */
		es_entity_release(&e->db);
		es_entity_init(&e->db, e->kind);
		e->has_db = false;
	}
	if (found)
		bson_destroy(&doc);
	plan_one(g, e, &p);
	for (size_t i = 0; i < p.n; i++) {
		rc = apply_op(g, e, &p.ops[i], err);
		if (rc != 0)
			break;
		log_op(&p.ops[i]);
		g->r->applied[p.ops[i].op]++;
	}
	es_plan_release(&p);
	return rc;
}

/*
 * The document was written, then a later op of the entity failed (most
 * often its file write: the user saved again while the pass ran). Leaving
 * the old baseline would make the next pass take our own write for an
 * edit made in the app and merge the user's newer save against it, which
 * can bring the older save back (issue 19 item 1). So the baseline learns
 * the write: its document version is ours, and its meaning is what the
 * file held when this pass read it, the file side's true ancestor. The
 * next pass then sees the file's new save as the file's change and what
 * the document gained from the app (never written to the file) as the
 * database's, and merges them. The file row is left alone, so the file is
 * read again.
 */
static void
remember_own_write(struct eng *g, struct ent *e)
{
	struct fent *f = e->file >= 0 ? &g->files[e->file] : NULL;
	const struct es_entity *anc = NULL;
	struct es_base_entity be;
	struct es_entity v;
	struct es_error err;
	bson_t doc = BSON_INITIALIZER;

	if (f == NULL || f->broken)
		return;		/* no file side to learn */
	anc = &f->tf.entity;
	es_entity_copy(&v, anc);
	v.meta.has_id = true;
	bson_oid_copy(e->inserted ? &e->new_id : e->has_db ? &e->db.meta.id :
	    &e->base.meta.id, &v.meta.id);
	v.meta.deleted = false;
	v.meta.updated_at = e->doc_ua;
	es_entity_encode(&v, g->o->user_id, &doc);
	memset(&be, 0, sizeof(be));
	bson_oid_copy(&v.meta.id, &be.id);
	be.kind = e->kind;
	be.rel = f->tf.rel;
	be.doc_updated_at = e->doc_ua;
	be.fp = es_entity_fingerprint(&v);
	be.base = bson_get_data(&doc);
	be.base_len = doc.len;
	if (es_baseline_put_entity(g->b, &be, &err) < 0)
		add_error(g->r, &err, ES_LOG_WARN);
	bson_destroy(&doc);
	es_entity_release(&v);
}

static void
apply_ent(struct eng *g, struct ent *e)
{
	struct es_plan *p = &g->r->plan;
	struct fent *f = e->file >= 0 ? &g->files[e->file] : NULL;

	if (f != NULL)
		e->cur_rel = es_xstrdup(f->tf.rel);
	for (size_t i = e->op_first; i < e->op_first + e->op_n; i++) {
		struct es_op *op = &p->ops[i];
		struct es_error err;
		int rc;

		es_error_clear(&err);
		rc = apply_op(g, e, op, &err);
		if (rc == APPLY_LOST) {
			es_log(ES_LOG_INFO, SUB, "%s: the document changed "
			    "while syncing; deciding again", op->rel ?
			    op->rel : "-");
			es_error_clear(&err);
			rc = replan(g, e, &err);
			if (rc == APPLY_LOST) {
				g->r->lost_races++;
				es_error_set(&err, ES_ECONFLICT, op->rel, 0,
				    "the document changed again while "
				    "syncing; left for the next pass");
				op_error(g, op, &err);
			} else if (rc != 0) {
				g->r->failed++;
				op_error(g, op, &err);
			}
			return;
		}
		if (rc != 0) {
			/* The rest of this entity waits: the next pass
			 * decides again. */
			g->r->failed++;
			op_error(g, op, &err);
			if (e->doc_written)
				remember_own_write(g, e);
			return;
		}
		log_op(op);
		g->r->applied[op->op]++;
		if (op->dir == ES_DIR_TO_DB)
			g->r->to_db++;
		else if (op->dir == ES_DIR_TO_FILE)
			g->r->to_file++;
	}
}

static int
set_meta_int(struct eng *g, const char *key, int64_t v, struct es_error *err)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return es_baseline_set_meta(g->b, key, s, err);
}

static int
apply_all(struct eng *g, struct es_error *err)
{
	static const enum es_kind kinds[2] = { ES_KIND_PROJECT, ES_KIND_GOAL };

	if (es_baseline_begin(g->b, err) < 0)
		return -1;
	if (g->ignore_base && es_baseline_clear(g->b, err) < 0)
		goto fail;
	g->cas_pre = es_xcalloc(g->r->plan.n ? g->r->plan.n : 1, 1);
	batch_inserts(g, ES_KIND_PROJECT);
	batch_inserts(g, ES_KIND_GOAL);
	batch_cas(g, ES_KIND_PROJECT);
	batch_cas(g, ES_KIND_GOAL);
	for (size_t i = 0; i < g->nents; i++)
		apply_ent(g, &g->ents[i]);
	free(g->cas_pre);
	g->cas_pre = NULL;
	/* Goal candidates that are not goals: remembered, not read again. */
	for (size_t i = 0; i < g->nfiles; i++) {
		struct fent *f = &g->files[i];
		struct es_base_file bf;

		if (f->tf.status != ES_TREE_NOT_SYNCED || f->tf.raw_fp == 0)
			continue;
		bf.rel = f->tf.rel;
		bf.st = f->tf.st;
		bf.raw_fp = f->tf.raw_fp;
		if (es_baseline_put_file(g->b, &bf, err) < 0)
			goto fail;
	}
	/* A slug clash seen by a since-query: the next pass reads all. */
	if ((g->full || g->force_full_next) && set_meta_int(g,
	    "last_full_pass_ms", g->force_full_next ? 0 : g->o->now_ms,
	    err) < 0)
		goto fail;
	for (int k = 0; k < 2; k++) {
		char key[64];
		int64_t wm = es__watermark(g->maxseen[k], g->o->now_ms);

		snprintf(key, sizeof(key), "watermark.%s",
		    es_kind_collection(kinds[k]));
		if (set_meta_int(g, key, wm, err) < 0)
			goto fail;
	}
	if (g->o->identity != NULL && es_baseline_set_meta(g->b, "identity",
	    g->o->identity, err) < 0)
		goto fail;
	if (es__acts_apply(g->acts, err) < 0)
		goto fail;
	if (es_baseline_commit(g->b, err) < 0)
		goto fail;
	return 0;
fail:
	es_baseline_rollback(g->b);
	return -1;
}

/* ---- the pass ---- */

bool
es_engine_root_has_folders(int root_fd)
{
	static const char *const dirs[] = { ES_DIR_ACTIONS, ES_DIR_PROJECTS,
	    ES_DIR_GOALS };
	struct stat st;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (fstatat(root_fd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return true;
	return false;
}

static int
guards(struct eng *g, struct es_error *err)
{
	struct stat st;
	size_t nfiles = 0, nents = 0;

	if (fstat(g->o->root_fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return es_error_set(err, ES_ECONFIG, g->o->root, 0,
		    "not a folder");
	if (es_engine_root_has_folders(g->o->root_fd))
		return 0;
	if (es_baseline_count(g->b, &nfiles, &nents, err) < 0)
		return -1;
	/* SPEC 4.15: a missing root is an error, never "all deleted". */
	if (nents > 0)
		return es_error_set(err, ES_ECONFIG, g->o->root, 0,
		    "no " ES_DIR_ACTIONS ", " ES_DIR_PROJECTS " or "
		    ES_DIR_GOALS ": is the folder mounted? (the "
		    "baseline has %zu entities; nothing synced)",
		    nents);
	/*
	 * SPEC 4.18: no baseline and none of the synced folders is a
	 * mistyped --source, a home folder or an empty mount point, not a
	 * folder to fill with every document (rclone bisync wants --resync,
	 * Syncthing its folder marker). A fresh clone has the folders.
	 */
	if (!g->o->init)
		return es_error_set(err, ES_ECONFIG, g->o->root, 0,
		    "not an execution-system folder: none of " ES_DIR_ACTIONS
		    ", " ES_DIR_PROJECTS " or " ES_DIR_GOALS " and no baseline;"
		    " nothing synced (check --source; --init fills a new "
		    "folder from the database)");
	return 0;
}

int
es_engine_once(const struct es_engine_opts *o, struct es_store *store,
    struct es_baseline *b, struct es_engine_result *r,
    struct es_error *err)
{
	struct eng g;
	uint64_t rt0 = es_store_round_trips(store);
	int rc = -1;

	memset(&g, 0, sizeof(g));
	g.o = o;
	g.store = store;
	/*
	 * Large replies: a full read of 22,000 documents took 92 round trips
	 * at the server's default batch (execsync-bench reconcile); 10,000 per
	 * reply keeps it to a few, well under the 16 MiB message limit for
	 * documents of this size.
	 */
	es_store_set_batch_size(store, ES_ENGINE_READ_BATCH);
	g.b = b;
	g.r = r;
	if (guards(&g, err) < 0)
		goto out;
	if (es_git_busy(o->root_fd, &r->held_by)) {
		r->held = true;
		es_log(ES_LOG_WARN, SUB, "held: git operation in progress (%s), "
		    "nothing synced", r->held_by);
		rc = 0;
		goto out;
	}
	if (load_baseline(&g, err) < 0)
		goto out;
	g.acts = es__acts_new(o, store, b, r, g.ignore_base);
	if (load_files(&g, err) < 0 || load_docs(&g, err) < 0 ||
	    es__acts_plan(g.acts, g.full, err) < 0)
		goto out;
	mark_shared_slugs(&g);
	pair_all(&g);
	for (size_t i = 0; i < g.nents; i++)
		plan_one(&g, &g.ents[i], &r->plan);
	r->entities += g.nents;	/* the actions part counted its own */
	if (guard_trips(&g)) {
		r->guard_stopped = true;
		rc = 0;
		goto out;
	}
	if (o->dry_run) {
		rc = 0;
		goto out;
	}
	if (apply_all(&g, err) < 0)
		goto out;
	rc = 0;
out:
	r->round_trips = es_store_round_trips(store) - rt0;
	for (size_t i = 0; i < g.nents; i++)
		ent_release(&g.ents[i]);
	free(g.ents);
	free(g.by_id);
	free(g.by_rel);
	for (size_t i = 0; i < g.nunread; i++)
		free(g.unread[i]);
	free(g.unread);
	for (size_t i = 0; i < g.nfiles; i++) {
		es_entity_release(&g.files[i].tf.entity);
		free(g.files[i].tf.rel);
	}
	free(g.files);
	es__acts_free(g.acts);
	es_tree_release(&g.errs);
	es_buf_release(&g.buf);
	return rc;
}
