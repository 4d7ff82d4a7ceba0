/*
 * The one-shot pass (see engine.h). Gather here, pair (engine-pair.c),
 * plan here (plan.c decides every row of SPEC §6 for projects and goals),
 * then apply (engine-docs.c, engine-apply.c). Actions are
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
#include "engine-internal.h"

/* The watermark and the lookback: see es__watermark() in engine-action.h. */



void
es__eng_add_error(struct es_engine_result *r, const struct es_error *e,
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
bool
es__eng_same_content_stat(const struct es_stat *a, const struct es_stat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

struct ent *
es__eng_ent_new(struct eng *g, enum es_kind kind)
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
	e = es__eng_ent_new(g, be->kind);
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
				es__eng_add_error(g->r, &g->errs.errors[k],
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
		es__eng_add_error(g->r, &e, ES_LOG_WARN);
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
		es__eng_add_error(g->r, &err, ES_LOG_WARN);
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
		e = es__eng_ent_new(g, c->kind);
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

/* ---- planning ---- */

void
es__eng_plan_one(struct eng *g, struct ent *e, struct es_plan *plan)
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
		es__eng_add_error(g->r, &err, ES_LOG_WARN);
		g->r->failed++;
	}
	e->op_n = plan->n - e->op_first;
	/*
	 * A new document's id is deterministic (docid.h): the plan names it,
	 * so a dry run prints the id the real run inserts (SPEC 4.9).
	 */
	for (size_t i = e->op_first; i < plan->n; i++) {
		struct es_op *op = &plan->ops[i];

		if (op->op == ES_OP_DOC_INSERT && op->value != NULL) {
			op->value->meta.id = es_docid_entity(g->o->user_id,
			    op->value);
			op->value->meta.has_id = true;
		}
	}
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
	es__eng_mark_shared_slugs(&g);
	es__eng_pair_all(&g);
	for (size_t i = 0; i < g.nents; i++)
		es__eng_plan_one(&g, &g.ents[i], &r->plan);
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
	if (es__eng_apply_all(&g, err) < 0)
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
