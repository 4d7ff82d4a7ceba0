/*
 * The one-shot pass (engine.h): the guards, one scan of the folder shared
 * by the two peers (pass.h: projects and goals, actions), the read mode of
 * SPEC 4.1, then each verb for both peers in turn: gather, pair, plan; the
 * deletion guard (SPEC 4.15) on the whole plan; --dry-run stops there and
 * the plan is the output (SPEC 4.9); else apply and commit both peers in
 * one baseline transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/content.h"
#include "execsync/doc.h"
#include "execsync/engine.h"
#include "execsync/layout.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "pass.h"

/* ---- helpers both peers use (pass.h) ---- */

void
es__add_error(struct es__pass *p, const struct es_error *e)
{
	struct es_engine_result *r = p->r;

	r->errors = es_xreallocarray(r->errors, r->nerrors + 1,
	    sizeof(*r->errors));
	r->errors[r->nerrors++] = *e;
	es_log_error(e, ES_LOG_WARN, SUB);
}

void
es__add_failure(struct es__pass *p, const struct es_error *e)
{
	es__add_error(p, e);
	p->r->failed++;
}

bool
es__is_cas_op(const struct es_op *op)
{
	return op->op == ES_OP_DOC_UPDATE || op->op == ES_OP_DOC_DELETE ||
	    op->op == ES_OP_DOC_UNDELETE;
}

bool
es__same_stat(const struct es_stat *a, const struct es_stat *b)
{
	return es__same_content_stat(a, b) && a->ctime_ns == b->ctime_ns;
}

bool
es__same_content_stat(const struct es_stat *a, const struct es_stat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

size_t
es__max_size(const struct es__pass *p)
{
	return p->o->max_file_size ? p->o->max_file_size :
	    ES_CONTENT_MAX_DEFAULT;
}

int
es__meta_int(struct es__pass *p, const char *key, int64_t *v,
    struct es_error *err)
{
	char *s = NULL, *end;
	long long n;

	*v = -1;
	if (p->base->get_meta(p->base->ctx, key, &s, err) < 0)
		return -1;
	if (s == NULL)
		return 0;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0' && end != s)
		*v = n;
	free(s);
	return 0;
}

int
es__set_meta_int(struct es__pass *p, const char *key, int64_t v,
    struct es_error *err)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return p->base->set_meta(p->base->ctx, key, s, err);
}

int
es__get_watermark(struct es__pass *p, enum es_kind k, int64_t *wm,
    struct es_error *err)
{
	char key[64];

	snprintf(key, sizeof(key), "watermark.%s", es_kind_collection(k));
	return es__meta_int(p, key, wm, err);
}

int
es__set_watermark(struct es__pass *p, enum es_kind k, int64_t maxseen,
    struct es_error *err)
{
	char key[64];

	snprintf(key, sizeof(key), "watermark.%s", es_kind_collection(k));
	return es__set_meta_int(p, key, es_watermark_next(maxseen,
	    p->now_ms), err);
}

ssize_t
es__find_idx(const size_t *idx, size_t n, const void *key,
    int (*cmp)(const void *key, size_t i, const void *ud), const void *ud)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp(key, idx[mid], ud);

		if (c == 0)
			return (ssize_t)idx[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

bool
es__unreadable(const struct es__pass *p, const char *rel)
{
	return es_path_below_any(rel, p->unread, p->nunread);
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
	if (r->guard_stopped)
		return ES_EXIT_GUARD;
	if (r->held)
		return ES_EXIT_TEMP;
	if (r->failed > 0 || r->conflicts > 0 || r->lost_races > 0 ||
	    r->nerrors > 0)
		return ES_EXIT_ITEMS;
	return ES_EXIT_OK;
}

bool
es__must_read(const struct es__pass *p, const char *rel)
{
	if (p->t->kind == ES_TRIGGER_FULL)
		return true;
	if (p->t->kind != ES_TRIGGER_PATHS)
		return false;
	for (size_t i = 0; i < p->t->npaths; i++)
		if (strcmp(p->t->paths[i], rel) == 0)
			return true;
	return false;
}

static int
cmp_named(const void *x, const void *y)
{
	const struct es__named *a = x, *b = y;
	int c = bson_oid_compare(&a->id, &b->id);

	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

struct es__named *
es__changes_of(const struct es__pass *p, enum es_kind kind, size_t *n)
{
	struct es__named *v = NULL;
	size_t k = 0;

	*n = 0;
	if (p->t->kind != ES_TRIGGER_CHANGES)
		return NULL;
	for (size_t i = 0; i < p->t->nchanges; i++)
		if (p->t->changes[i].kind == kind)
			k++;
	if (k == 0)
		return NULL;
	v = es_xcalloc(k, sizeof(*v));
	k = 0;
	for (size_t i = 0; i < p->t->nchanges; i++) {
		const struct es_change *c = &p->t->changes[i];

		if (c->kind != kind)
			continue;
		bson_oid_copy(&c->id, &v[k].id);
		v[k].doc = c->doc;
		v[k].deleted = c->deleted;
		v[k++].order = i;
	}
	qsort(v, k, sizeof(*v), cmp_named);
	/* The last change of an _id is its state now. */
	for (size_t i = 0; i < k; i++) {
		if (*n > 0 && bson_oid_equal(&v[*n - 1].id, &v[i].id))
			(*n)--;
		v[(*n)++] = v[i];
	}
	return v;
}

static int
key_named(const void *key, const void *el)
{
	return bson_oid_compare(key, &((const struct es__named *)el)->id);
}

void
es__changes_seen(struct es__named *v, size_t n, const bson_oid_t *id)
{
	struct es__named *at;

	if (n == 0)
		return;
	at = bsearch(id, v, n, sizeof(*v), key_named);
	if (at != NULL)
		at->seen = true;
}

/* cb for each document of ids[0..n) that is user_id's (found marked). */
struct named_read {
	struct es__named	*v;
	size_t			 n;
	es_store_doc_cb		 cb;
	void			*ud;
};

static int
on_named(const bson_t *doc, void *ud)
{
	struct named_read *c = ud;
	bson_iter_t it;
	struct es__named *at;

	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it) &&
	    (at = bsearch(bson_iter_oid(&it), c->v, c->n, sizeof(*c->v),
	    key_named)) != NULL)
		at->found = true;
	return c->cb(doc, c->ud);
}

int
es__changes_read(struct es__pass *p, enum es_kind kind, struct es__named *v,
    size_t n, es_store_doc_cb cb, void *ud, struct es_error *err)
{
	struct named_read c = { v, n, cb, ud };
	bson_oid_t *ids;
	size_t nids = 0;
	int rc = 0;

	ids = es_xcalloc(n ? n : 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++) {
		if (v[i].seen)
			continue;
		if (v[i].deleted)
			v[i].vanished = true;
		else if (v[i].doc != NULL) {
			/* The source's copy: not read again (world.h). */
			if (es_doc_user_is(v[i].doc, p->o->user_id)) {
				v[i].found = true;
				(void)cb(v[i].doc, ud);
			}
		} else
			bson_oid_copy(&v[i].id, &ids[nids++]);
	}
	if (nids == 1) {
		/* A lone _id: the one filter FerretDB does not scan for. */
		bson_t doc;
		bool found = false;

		rc = p->db->find_one(p->db->ctx, kind, &ids[0], &doc, &found,
		    err);
		if (rc == 0 && found) {
			if (es_doc_user_is(&doc, p->o->user_id))
				(void)on_named(&doc, &c);
			bson_destroy(&doc);
		}
	} else if (nids > 1)
		rc = p->db->find_ids(p->db->ctx, kind, p->o->user_id, ids, nids,
		    on_named, &c, err);
	free(ids);
	if (rc < 0)
		return -1;
	/* Read by _id and not there (for this user): gone, as a full read
	 * would find it (SPEC 4.5). */
	for (size_t i = 0; i < n; i++)
		if (!v[i].seen && !v[i].found)
			v[i].vanished = true;
	return 0;
}

/* ---- the pass ---- */

/*
 * SPEC 4.18: a baseline recorded for another database or user describes
 * another data set; syncing against it would upload the whole folder as
 * new documents (a mistyped --user-id). Only --resync adopts the new one.
 */
static int
check_identity(struct es__pass *p, struct es_error *err)
{
	char *ident = NULL;
	int rc = 0;

	if (p->o->identity == NULL)
		return 0;
	if (p->base->get_meta(p->base->ctx, "identity", &ident, err) < 0)
		return -1;
	if (ident == NULL || strcmp(ident, p->o->identity) == 0)
		goto out;
	if (p->o->resync) {
		es_log(ES_LOG_WARN, SUB, "--resync: the baseline was for '%s', "
		    "now '%s': matching by identity (SPEC 4.17)", ident,
		    p->o->identity);
		goto out;
	}
	p->r->wrong_identity = true;
	rc = es_error_set(err, ES_ECONFIG, p->o->root, 0, "this folder was "
	    "synced with '%s', not '%s': nothing synced (check --user-id, "
	    "--database and --mongodb-uri; --resync adopts the new one on "
	    "purpose, matching by identity and deleting nothing)", ident,
	    p->o->identity);
out:
	free(ident);
	return rc;
}

/* SPEC 4.1: a full read or since-queries (es_read_mode(), rules.h). */
static int
read_mode(struct es__pass *p, struct es_error *err)
{
	static const enum es_kind kinds[ES_READ_NCOLL] = {
		[ES_READ_PROJECTS] = ES_KIND_PROJECT,
		[ES_READ_GOALS] = ES_KIND_GOAL,
		[ES_READ_ACTIONS] = ES_KIND_ACTION,
	};
	const struct es_engine_opts *o = p->o;
	struct es_read_input in;
	size_t nf = 0, nrows = 0;

	memset(&in, 0, sizeof(in));
	if (es__meta_int(p, "last_full_pass_ms", &in.last_full_ms, err) < 0)
		return -1;
	if (!p->ignore_base && p->base->count(p->base->ctx, &nf, &nrows, err) < 0)
		return -1;
	for (int k = 0; k < ES_READ_NCOLL; k++)
		if (es__get_watermark(p, kinds[k], &in.watermark_ms[k],
		    err) < 0)
			return -1;
	in.base_empty = nrows == 0;
	in.ignore_base = p->ignore_base;
	in.force = o->force;
	in.full = o->full || p->t->kind == ES_TRIGGER_FULL;
	in.full_pass_s = o->full_pass_s;
	in.now_ms = p->now_ms;
	in.quiet = p->t->db_quiet && p->t->kind != ES_TRIGGER_FULL;
	es_read_mode(&in, &p->read);
	p->r->full_read = p->read.full || p->read.full_actions;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * One scan of the folder for both peers: project and goal files to one,
 * action lists to the other. Symbolic links, unreadable folders and files
 * and the like where a synced file could be are reported, and what the
 * baseline has there is left alone (es__unreadable()).
 */
static int
scan(struct es__pass *p, struct es__ents *g, struct es__acts *a,
    struct es_error *err)
{
	struct es_scan_result sr;
	int rc = 0;

	if (p->fs->scan(p->fs->ctx, p->o->ignore, &sr, err) < 0)
		return -1;
	for (size_t i = 0; i < sr.n && rc == 0; i++) {
		struct es_scan_entry *se = &sr.entries[i];

		if (se->info.kind == ES_KIND_ACTION)
			es__acts_add_list(a, se->rel, &se->info, &se->st);
		else if (se->info.kind == ES_KIND_PROJECT ||
		    se->info.kind == ES_KIND_GOAL)
			rc = es__ents_add_file(g, se, err);
	}
	p->unread = es_xcalloc(sr.nskipped + p->t->nhold + 1,
	    sizeof(char *));
	for (size_t i = 0; i < sr.nskipped; i++) {
		struct es_error e;

		es_problem_set(&e, ES_PROB_UNSAFE_PATH, sr.skipped[i].rel, 0, "%s",
		    sr.skipped[i].reason);
		es__add_error(p, &e);
		p->unread[p->nunread++] = sr.skipped[i].rel;
		sr.skipped[i].rel = NULL;
	}
	/* A delete the daemon waits to confirm: left alone the same way. */
	for (size_t i = 0; i < p->t->nhold; i++)
		p->unread[p->nunread++] = es_xstrdup(p->t->hold[i]);
	qsort(p->unread, p->nunread, sizeof(*p->unread), cmp_str);
	p->fs->scan_release(p->fs->ctx, &sr);
	return rc;
}

/* SPEC 4.15: per collection, too many deletions stop the pass. */
static bool
guard_trips(struct es__pass *p, const struct es__ents *g,
    const struct es__acts *a)
{
	static const enum es_kind kinds[3] = { ES_KIND_PROJECT, ES_KIND_GOAL,
	    ES_KIND_ACTION };
	bool trip = false;

	for (int k = 0; k < 3; k++) {
		struct es_guard_count c;

		es_plan_count(&p->r->plan, kinds[k], &c.deletes, &c.trashes);
		c.total = kinds[k] == ES_KIND_ACTION ? es__acts_total(a) :
		    es__ents_total(g, kinds[k]);
		if (!es_guard_trips(&c, p->o->max_delete))
			continue;
		es_log(ES_LOG_ERROR, SUB, "deletion guard: %zu of %zu %s would "
		    "be deleted (%zu in the database, %zu files to the trash), "
		    "over max_delete %u%%: nothing changed; check the folder "
		    "and the database, then run with --max-delete 100 to let "
		    "it through (SPEC 4.15)", c.deletes + c.trashes, c.total,
		    es_kind_collection(kinds[k]), c.deletes, c.trashes,
		    p->o->max_delete);
		trip = true;
	}
	return trip;
}

static int
guards(struct es__pass *p, struct es_error *err)
{
	size_t nfiles = 0, nents = 0;
	bool has_folders;

	if (p->fs->root(p->fs->ctx, &has_folders, err) < 0) {
		snprintf(err->path, sizeof(err->path), "%s", p->o->root);
		return -1;
	}
	if (has_folders)
		return 0;
	if (p->base->count(p->base->ctx, &nfiles, &nents, err) < 0)
		return -1;
	/* SPEC 4.15: a missing root is an error, never "all deleted". */
	if (nents > 0)
		return es_error_set(err, ES_ECONFIG, p->o->root, 0,
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
	if (!p->o->init)
		return es_error_set(err, ES_ECONFIG, p->o->root, 0,
		    "not an execution-system folder: none of " ES_DIR_ACTIONS
		    ", " ES_DIR_PROJECTS " or " ES_DIR_GOALS " and no baseline;"
		    " nothing synced (check --source; --init fills a new "
		    "folder from the database)");
	return 0;
}

/*
 * Before applying: the files this pass writes or moves for a project's or
 * goal's document, as intents (pass.h), committed on their own, so a pass
 * that dies before its commit leaves the next one the knowledge of whose
 * file each is. One small commit, only when the plan writes such files.
 */
static int
intents_write(struct es__pass *p, struct es_error *err)
{
	struct es_buf text = ES_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < p->r->plan.n; i++) {
		const struct es_op *op = &p->r->plan.ops[i];
		char hex[25];

		if ((op->op != ES_OP_FILE_WRITE && op->op != ES_OP_FILE_MOVE) ||
		    op->kind == ES_KIND_ACTION || op->rel == NULL ||
		    op->value == NULL || !op->value->meta.has_id ||
		    strchr(op->rel, '\n') != NULL)
			continue;
		bson_oid_to_string(&op->value->meta.id, hex);
		es_buf_addf(&text, "%s %d %s\n", hex, (int)op->kind, op->rel);
	}
	if (text.len > 0) {
		if (p->base->begin(p->base->ctx, err) < 0 ||
		    p->base->set_meta(p->base->ctx, "intents", text.buf,
		    err) < 0 || p->base->commit(p->base->ctx, err) < 0) {
			p->base->rollback(p->base->ctx);
			rc = -1;
		} else
			p->intents_pending = true;
	}
	es_buf_release(&text);
	return rc;
}

/*
 * Applying, inside one baseline transaction: each peer's operations, then
 * the pass's bookkeeping, then each peer's baseline rows and watermark.
 */
static int
apply_commit(struct es__pass *p, struct es__ents *g, struct es__acts *a,
    struct es_error *err)
{
	int64_t last_full;

	if (p->base->begin(p->base->ctx, err) < 0)
		return -1;
	if (p->ignore_base && p->base->clear(p->base->ctx, err) < 0)
		goto fail;
	if (es__ents_apply(g, err) < 0 || es__acts_apply(a, err) < 0)
		goto fail;
	/* A slug clash seen by a since-query: the next pass reads all. */
	if (es_read_last_full(p->read.full, p->full_next, p->now_ms,
	    &last_full) && es__set_meta_int(p, "last_full_pass_ms", last_full,
	    err) < 0)
		goto fail;
	if (p->o->identity != NULL && p->base->set_meta(p->base->ctx, "identity",
	    p->o->identity, err) < 0)
		goto fail;
	/* Committed with what they announced: no longer needed. */
	if (p->intents_pending && p->base->set_meta(p->base->ctx, "intents", "",
	    err) < 0)
		goto fail;
	if (es__ents_commit(g, err) < 0 || es__acts_commit(a, err) < 0)
		goto fail;
	if (p->base->commit(p->base->ctx, err) < 0)
		goto fail;
	return 0;
fail:
	p->base->rollback(p->base->ctx);
	return -1;
}

int
es_pass_run(const struct es_engine_opts *o, const struct es_world *w,
    const struct es_trigger *t, struct es_engine_result *r,
    struct es_error *err)
{
	static const struct es_trigger ordinary;
	struct es__pass p;
	struct es__ents *g = NULL;
	struct es__acts *a = NULL;
	uint64_t rt0 = w->db.round_trips(w->db.ctx);
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.t = t != NULL ? t : &ordinary;
	p.fs = &w->fs;
	p.base = &w->fs.base;
	p.db = &w->db;
	p.now_ms = w->clock.now_ms(w->clock.ctx);
	p.r = r;
	if (guards(&p, err) < 0)
		goto out;
	if (p.fs->git_busy(p.fs->ctx, &r->held_by)) {
		r->held = true;
		es_log(ES_LOG_WARN, SUB, "held: git operation in progress (%s), "
		    "nothing synced", r->held_by);
		rc = 0;
		goto out;
	}
	if (check_identity(&p, err) < 0)
		goto out;
	p.ignore_base = o->resync;
	g = es__ents_new(&p);
	a = es__acts_new(&p);
	/* gather */
	if (es__ents_gather_baseline(g, err) < 0 || scan(&p, g, a, err) < 0 ||
	    read_mode(&p, err) < 0 || es__ents_gather_docs(g, err) < 0 ||
	    es__acts_gather(a, err) < 0)
		goto out;
	/* pair, plan */
	es__ents_pair(g);
	es__acts_pair(a);
	es__ents_plan(g);
	es__acts_plan(a);
	if (guard_trips(&p, g, a)) {
		r->guard_stopped = true;
		rc = 0;
		goto out;
	}
	if (o->dry_run) {
		/* Its counts say what the pass would do (issue 18). */
		es_plan_tally(&r->plan, r->applied, &r->to_db, &r->to_file);
		rc = 0;
		goto out;
	}
	/* apply, commit */
	if (intents_write(&p, err) < 0 || apply_commit(&p, g, a, err) < 0)
		goto out;
	rc = 0;
out:
	r->round_trips = w->db.round_trips(w->db.ctx) - rt0;
	es__ents_free(g);
	es__acts_free(a);
	for (size_t i = 0; i < p.nunread; i++)
		free(p.unread[i]);
	free(p.unread);
	return rc;
}
