/*
 * The projects-and-goals peer of the pass (pass.h): gather (baseline rows,
 * the scan's project and goal files, the documents) and plan (plan.c
 * decides every row of SPEC §6). Pairing is peer-entities-pair.c's, the
 * document writes peer-entities-docs.c's, applying and the commit
 * peer-entities-apply.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/baseline.h"
#include "execsync/content.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/entity-file.h"
#include "execsync/log.h"
#include "execsync/scan.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

#include "pass.h"

struct ent *
es__eng_ent_new(struct es__ents *g, enum es_kind kind)
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
	struct es__ents *g = ud;
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

static int
key_ent_id(const void *key, size_t i, const void *ud)
{
	const struct es__ents *g = ud;

	return bson_oid_compare(key, &g->ents[i].base.meta.id);
}

static ssize_t
find_base_by_id(struct es__ents *g, const bson_oid_t *id)
{
	return es__find_idx(g->by_id, g->nby_id, id, key_ent_id, g);
}

/*
 * The intents a pass left (pass.h, es__intents_write()): one
 * "<_id hex> <kind> <rel>" a line. A line that does not read is dropped:
 * intents are hints for pairing, never needed for safety.
 */
static int
gather_intents(struct es__ents *g, struct es_error *err)
{
	char *text = NULL, *line, *next;

	if (g->p->base->get_meta(g->p->base->ctx, "intents", &text, err) < 0)
		return -1;
	if (text == NULL || text[0] == '\0') {
		free(text);
		return 0;
	}
	g->p->intents_pending = true;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		struct es__intent it;
		unsigned kind;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strlen(line) < 28 || line[24] != ' ' || line[26] != ' ' ||
		    !bson_oid_is_valid(line, 24) ||
		    (kind = (unsigned)(line[25] - '0')) > ES_KIND_GOAL)
			continue;
		bson_oid_init_from_string(&it.id, line);
		it.kind = (enum es_kind)kind;
		it.rel = es_xstrdup(line + 27);
		g->intents = es_xreallocarray(g->intents, g->nintents + 1,
		    sizeof(*g->intents));
		g->intents[g->nintents++] = it;
	}
	free(text);
	return 0;
}

int
es__ents_gather_baseline(struct es__ents *g, struct es_error *err)
{
	struct es__pass *p = g->p;

	if (p->ignore_base)
		return 0;
	if (p->base->each_entity(p->base->ctx, on_base_entity, g, err) < 0)
		return -1;
	g->by_id = es_xcalloc(g->nents ? g->nents : 1, sizeof(size_t));
	for (size_t i = 0; i < g->nents; i++) {
		struct ent *e = &g->ents[i];
		struct es_base_file bf;
		bool found;

		g->by_id[g->nby_id++] = i;
		if (p->base->get_file(p->base->ctx, e->base_rel, &bf, &found,
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
	return gather_intents(g, err);
}

/* ---- the file side ---- */

static int
key_ent_rel(const void *key, size_t i, const void *ud)
{
	const struct es__ents *g = ud;

	return strcmp(key, g->ents[i].base_rel);
}

static ssize_t
find_base_by_rel(struct es__ents *g, const char *rel, enum es_kind kind)
{
	ssize_t i = es__find_idx(g->by_rel, g->nby_id, rel, key_ent_rel, g);

	return i >= 0 && g->ents[i].kind == kind ? i : -1;
}

int
es__ents_add_file(struct es__ents *g, struct es_scan_entry *se,
    struct es_error *err)
{
	struct es__pass *p = g->p;
	struct fent *f;
	struct es_base_file bf;
	bool found = false, found_same;
	ssize_t bi = -1;
	size_t before;

	if (g->nfiles == g->afiles) {
		g->afiles = g->afiles ? 2 * g->afiles : 64;
		g->files = es_xreallocarray(g->files, g->afiles,
		    sizeof(*g->files));
	}
	f = &g->files[g->nfiles++];
	memset(f, 0, sizeof(*f));
	f->tf.rel = se->rel;	/* taken over */
	se->rel = NULL;
	f->tf.info = se->info;
	f->tf.st = se->st;
	if (!p->ignore_base && p->base->get_file(p->base->ctx, f->tf.rel, &bf,
	    &found, err) < 0) {
		es_entity_init(&f->tf.entity, se->info.kind);
		return -1;
	}
	if (found && es__must_read(p, f->tf.rel))
		found_same = false;	/* the trigger names it: read */
	else
		found_same = found && es__same_stat(&bf.st, &f->tf.st);
	if (found_same &&
	    (bi = find_base_by_rel(g, f->tf.rel, se->info.kind)) >= 0) {
		/* SPEC §6: unchanged stat data, not even read. */
		es_entity_copy(&f->tf.entity, &g->ents[bi].base);
		f->tf.raw_fp = bf.raw_fp;
		f->tf.status = ES_TREE_OK;
		return 0;
	}
	if (found_same && se->info.kind == ES_KIND_GOAL) {
		/*
		 * A file row without an entity: a goal candidate that was
		 * not a goal (notes beside goals) when read; unchanged, so
		 * still not one.
		 */
		es_entity_init(&f->tf.entity, ES_KIND_GOAL);
		f->tf.status = ES_TREE_NOT_SYNCED;
		return 0;
	}
	before = g->errs.nerrors;
	p->fs->load_file(p->fs->ctx, es__max_size(p), &f->tf, &g->buf,
	    &g->errs);
	p->r->files_read++;
	es_log(ES_LOG_DEBUG, SUB, "%s: read (%s)", f->tf.rel, !found ?
	    "no baseline row" : es__must_read(p, f->tf.rel) ?
	    "named by the trigger" : "stat data changed");
	if (f->tf.status == ES_TREE_FAILED) {
		f->broken = true;
		for (size_t k = before; k < g->errs.nerrors; k++)
			es__add_failure(p, &g->errs.errors[k]);
	}
	return 0;
}

/* ---- the database side ---- */

struct readctx {
	struct es__ents	*g;
	enum es_kind	 kind;
	struct es__named *named;	/* the trigger's documents */
	size_t		 nnamed;
};

static int
on_doc(const bson_t *doc, void *ud)
{
	struct readctx *c = ud;
	struct es__ents *g = c->g;
	struct es_entity tmp;
	struct es_error err;
	bson_iter_t it;
	bson_oid_t id;
	ssize_t bi = -1;
	struct ent *e;

	g->p->r->docs_read++;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bson_oid_copy(bson_iter_oid(&it), &id);
		bi = find_base_by_id(g, &id);
		es__changes_seen(c->named, c->nnamed, &id);
	}
	if (es_entity_decode(doc, c->kind, &tmp, &err) < 0) {
		es_entity_release(&tmp);
		es__add_failure(g->p, &err);
		if (bi >= 0) {
			g->ents[bi].db_broken = true;
			g->ents[bi].db_seen = true;
		}
		return 0;
	}
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

int
es__ents_gather_docs(struct es__ents *g, struct es_error *err)
{
	static const enum es_kind kinds[2] = { ES_KIND_PROJECT, ES_KIND_GOAL };
	struct es__pass *p = g->p;
	int64_t since[2] = { p->read.since[ES_READ_PROJECTS],
	    p->read.since[ES_READ_GOALS] };

	g->full = p->read.full;
	for (int k = 0; k < 2; k++)
		if (es__get_watermark(p, kinds[k], &g->maxseen[k], err) < 0)
			return -1;
	for (int k = 0; k < 2; k++) {
		struct readctx c = { g, kinds[k], NULL, 0 };
		int rc = 0;

		/*
		 * A since-read adds the trigger's documents; a quiet one
		 * (by_id) reads only those (world.h).
		 */
		if (since[k] >= 0)
			c.named = es__changes_of(p, kinds[k], &c.nnamed);
		if (!p->read.by_id[k == 0 ? ES_READ_PROJECTS : ES_READ_GOALS])
			rc = p->db->find(p->db->ctx, kinds[k], p->o->user_id,
			    since[k], on_doc, &c, err);
		if (rc == 0)
			rc = es__changes_read(p, kinds[k], c.named, c.nnamed,
			    on_doc, &c, err);
		for (size_t i = 0; rc == 0 && i < c.nnamed; i++) {
			ssize_t bi;

			/* Gone: as a full read sees it (SPEC 4.5). */
			if (c.named[i].vanished &&
			    (bi = find_base_by_id(g, &c.named[i].id)) >= 0 &&
			    !g->ents[bi].has_db)
				g->ents[bi].db_seen = true;
		}
		free(c.named);
		if (rc < 0)
			return -1;
	}
	/*
	 * A document a since-query did not return is unchanged: its version
	 * is the baseline's. After a full read it is gone (hard-deleted).
	 */
	for (size_t i = 0; i < g->nents; i++) {
		struct ent *e = &g->ents[i];

		if (!es_read_unseen_is_base(g->full, e->has_base, e->db_seen))
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
es__eng_plan_one(struct es__ents *g, struct ent *e, struct es_plan *plan)
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
	} else if (es_alone_entity_unread(false, e->has_base, e->base_rel,
	    g->p->unread, g->p->nunread)) {
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
	in.slugs = &g->slugs;
	in.slug_owner = (size_t)(e - g->ents);
	e->op_first = plan->n;
	es_error_clear(&err);
	if (es_plan_entity(&in, g->p->o->policy, g->p->now_ms, plan, &err) < 0) {
		es__add_failure(g->p, &err);
	}
	e->op_n = plan->n - e->op_first;
	/*
	 * A new document's id is deterministic (docid.h): the plan names it,
	 * so a dry run prints the id the real run inserts (SPEC 4.9).
	 */
	for (size_t i = e->op_first; i < plan->n; i++) {
		struct es_op *op = &plan->ops[i];

		if (op->op == ES_OP_DOC_INSERT && op->value != NULL) {
			op->value->meta.id = es_docid_entity(g->p->o->user_id,
			    op->value);
			op->value->meta.has_id = true;
		}
	}
}


/* ---- the verbs ---- */

struct es__ents *
es__ents_new(struct es__pass *p)
{
	struct es__ents *g = es_xcalloc(1, sizeof(*g));

	g->p = p;
	g->maxseen[0] = g->maxseen[1] = -1;
	return g;
}

void
es__ents_pair(struct es__ents *g)
{
	es__eng_mark_shared_slugs(g);
	es__eng_pair_all(g);
}

/*
 * What the unique index on (user_id, slug) holds as far as this pass
 * knows: every document read, live or deleted; a synced entity's slug
 * when a partial read did not bring its document. And the folder's
 * names, which a fresh slug-N avoids.
 */
static void
slugs_fill(struct es__ents *g)
{
	for (size_t i = 0; i < g->nents; i++) {
		const struct ent *e = &g->ents[i];

		if (e->has_db)
			es_slug_claims_doc(&g->slugs, e->kind, e->db.slug, i);
		else if (e->has_base && !g->full)
			es_slug_claims_doc(&g->slugs, e->kind, e->base.slug, i);
	}
	for (size_t j = 0; j < g->nfiles; j++)
		es_slug_claims_file(&g->slugs, g->files[j].tf.info.kind,
		    g->files[j].tf.info.slug);
}

void
es__ents_plan(struct es__ents *g)
{
	slugs_fill(g);
	for (size_t i = 0; i < g->nents; i++)
		es__eng_plan_one(g, &g->ents[i], &g->p->r->plan);
	g->p->r->entities += g->nents;
}

size_t
es__ents_total(const struct es__ents *g, enum es_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < g->nents; i++)
		n += g->ents[i].has_base && g->ents[i].kind == k;
	return n;
}

void
es__ents_free(struct es__ents *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->nents; i++)
		ent_release(&g->ents[i]);
	free(g->ents);
	free(g->by_id);
	free(g->by_rel);
	for (size_t i = 0; i < g->nintents; i++)
		free(g->intents[i].rel);
	free(g->intents);
	for (size_t i = 0; i < g->nfiles; i++) {
		es_entity_release(&g->files[i].tf.entity);
		free(g->files[i].tf.rel);
	}
	free(g->files);
	free(g->errs.errors);	/* the only thing load_file adds */
	es_slug_claims_release(&g->slugs);
	es_buf_release(&g->buf);
	free(g);
}
