/*
 * The pass's document writes for projects and goals (see
 * pass.h): new documents in unordered bulk inserts, changed
 * ones in bulk compare-and-swaps on the version read (SPEC 4.12), a slug
 * the collection already has replaced by the next free one with the file
 * renamed to match (SPEC §2, 4.4), our deterministic ids recognised after
 * a pass that died before its baseline commit.
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
#include "execsync/layout.h"
#include "execsync/log.h"
#include "execsync/pair.h"
#include "execsync/scan.h"
#include "execsync/slug.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

#include "execsync/rules.h"

#include "pass.h"

/* Slugs in the database (one find of _id and slug) and in the folder. */
struct slugs {
	char		**v;
	size_t		 n;
	struct es__ents	*g;
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
unique_slug(struct es__ents *g, struct ent *e, const char *slug,
    struct es_error *err)
{
	static const char *const fields[] = { "slug", NULL };
	struct slugs sl = { NULL, 0, g, e->kind };
	char *fresh = NULL;

	if (g->p->db->find_fields(g->p->db->ctx, e->kind, g->p->o->user_id, fields,
	    on_slug, &sl, err) == 0)
		fresh = es_slug_unique(slug, slug_taken, &sl);
	for (size_t i = 0; i < sl.n; i++)
		free(sl.v[i]);
	free(sl.v);
	return fresh;
}

/* After a rename of the file to slug at rel: the ops that follow op. */
static void
retarget(struct es__ents *g, struct ent *e, const struct es_op *op,
    const char *slug, const char *rel)
{
	struct es_plan *p = &g->p->r->plan;
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

/* What the batch did with this op of the pass's plan (not a re-plan's). */
static int
cas_batched(struct es__ents *g, const struct es_op *op)
{
	const struct es_plan *p = &g->p->r->plan;

	if (g->cas_pre == NULL || op < p->ops || op >= p->ops + p->n)
		return CAS_NONE;
	return g->cas_pre[op - p->ops];
}

static int
insert_doc(struct es__ents *g, struct ent *e, struct es_entity *v,
    struct es_error *err)
{
	bson_t doc = BSON_INITIALIZER;
	int rc;

	v->meta.id = es_docid_entity(g->p->o->user_id, v);
	v->meta.has_id = true;
	es_entity_encode(v, g->p->o->user_id, &doc);
	rc = g->p->db->insert(g->p->db->ctx, e->kind, &doc, err);
	bson_destroy(&doc);
	return rc;
}

/*
 * The compare-and-swap of op (SPEC 4.12) into cas: the version the plan
 * expects and, when the plan knows it, the meaning there (the document
 * as read, or the baseline's for one a since-query did not return): a
 * version alone can be another writer's (store.h).
 */
static void
cas_of(const struct ent *e, const struct es_op *op, const bson_t *update,
    struct es_store_cas *cas)
{
	memset(cas, 0, sizeof(*cas));
	cas->id = op->value->meta.id;
	cas->expected_updated_at_ms = op->expect_updated_at;
	cas->new_updated_at_ms = op->value->meta.updated_at;
	cas->update = update;
	if (e->has_db && !e->db_broken) {
		cas->check_meaning = true;
		cas->expect_fp = es_entity_fingerprint(&e->db);
	}
}

/* The compare-and-swap of op's fields (SPEC 4.12); *matched: it won. */
static int
update_doc(struct es__ents *g, struct ent *e, const struct es_op *op,
    bool *matched, struct es_error *err)
{
	const struct es_entity *v = op->value;
	bson_t body = BSON_INITIALIZER, update = BSON_INITIALIZER;
	struct es_store_cas cas;
	int rc;

	es_entity_encode_set(v, op->fields, v->meta.updated_at, &body);
	bson_append_document(&update, "$set", 4, &body);
	cas_of(e, op, &update, &cas);
	rc = g->p->db->update_cas(g->p->db->ctx, e->kind, g->p->o->user_id,
	    &cas, matched, err);
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
rename_for_slug(struct es__ents *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	struct es_buf rel = ES_BUF_INIT;
	char *fresh, *old = v->slug;
	const char *slash;
	bool matched = true;
	int rc = -1;

	if (e->cur_rel == NULL || (slash = strrchr(e->cur_rel, '/')) == NULL)
		return es_problem_set(err, ES_PROB_SLUG_TAKEN, op->rel, 0,
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
	if (g->p->fs->move(g->p->fs->ctx, e->cur_rel, rel.buf, err) < 0)
		goto out;
	free(e->cur_rel);
	e->cur_rel = es_xstrdup(rel.buf);
	retarget(g, e, op, fresh, rel.buf);
	rc = 0;
out:
	es_buf_release(&rel);
	return rc;
}

int
es__eng_apply_insert(struct es__ents *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	bson_t found_doc;
	bool found = false;
	int rc;

	if (cas_batched(g, op) == CAS_DONE)
		goto done;	/* inserted by es__eng_batch_inserts() */
	rc = insert_doc(g, e, v, err);
	if (rc < 0 && err->code == ES_ECONFLICT) {
		/*
		 * Our deterministic id already there: a pass that died
		 * between the insert and the baseline commit. Taken as ours
		 * only when it means exactly this (es_ours_judge(), SPEC
		 * 4.17); anything else (another
		 * document with this slug) is left to the next full read,
		 * which pairs it by identity (SPEC 4.17).
		 */
		if (g->p->db->find_one(g->p->db->ctx, e->kind, &v->meta.id,
		    &found_doc, &found, err) < 0)
			return -1;
		if (found) {
			struct es_meta m;
			bool same = es_ours_judge(&found_doc, e->kind,
			    g->p->o->user_id, es_entity_fingerprint(v), &m) ==
			    ES_OURS_SAME;

			bson_destroy(&found_doc);
			if (same) {
				v->meta.updated_at = m.updated_at;
				goto done;
			}
		}
		if (rename_for_slug(g, e, op, err) < 0) {
			/* A since-query may have missed the document that
			 * holds the slug: the next pass reads them all. */
			g->p->full_next = true;
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
 * The index *k of e's first op that want() takes, when e is of kind:
 * false when it is not, or none is.
 */
static bool
first_op(const struct es__ents *g, const struct ent *e, enum es_kind kind,
    bool (*want)(const struct es_op *), size_t *k)
{
	const struct es_plan *p = &g->p->r->plan;

	if (e->kind != kind)
		return false;
	for (*k = e->op_first; *k < e->op_first + e->op_n; (*k)++)
		if (want(&p->ops[*k]))
			return true;
	return false;
}

/* An op that writes: not a keep or a report. */
static bool
is_write_op(const struct es_op *op)
{
	return op->op != ES_OP_KEEP_FILE_VERSION &&
	    op->op != ES_OP_KEEP_DOC_VERSION && op->op != ES_OP_REPORT;
}

/*
 * Whether e keeps the document's version (the loser of a conflict, SPEC
 * 4.2) before its op k writes the document: then that write must wait
 * for its turn, after the keep, or a crash or a failed keep between them
 * would lose the version it overwrote.
 */
static bool
keeps_doc_before(const struct es_plan *p, const struct ent *e, size_t k)
{
	for (size_t j = e->op_first; j < k; j++)
		if (p->ops[j].op == ES_OP_KEEP_DOC_VERSION)
			return true;
	return false;
}

/*
 * The compare-and-swap writes of a pass, in bulk per collection instead
 * of one round trip per document (issue 5: ten edits cost at most a few
 * round trips more than none; the store cuts large bulks into chunks that
 * fit its socket timeout). Each entity's first document write is batched:
 * the planner puts it before any file operation, so doing it early
 * changes nothing else; but not one that a keep of the document's losing
 * version precedes (keeps_doc_before()). A write that lost its race is replayed by
 * apply_ent() as before: read again, decide again. A write still without
 * an answer after the store's tries (or never sent: the server could not
 * be reached) is neither: it fails, with no write of its own to wait on
 * too, and the next pass reads the document again and decides.
 */
void
es__eng_batch_cas(struct es__ents *g, enum es_kind kind)
{
	struct es_plan *p = &g->p->r->plan;
	struct es_store_cas *cas;
	bson_t **upd;	/* bson_new() each: bson_t wants 128-byte alignment */
	size_t *idx, n = 0;
	enum es_store_cas_status *status;
	struct es_error err;

	cas = es_xcalloc(p->n ? p->n : 1, sizeof(*cas));
	upd = es_xcalloc(p->n ? p->n : 1, sizeof(*upd));
	idx = es_xcalloc(p->n ? p->n : 1, sizeof(*idx));
	for (size_t i = 0; i < g->nents; i++) {
		const struct es_entity *v;
		struct es_op *op;
		bson_t body = BSON_INITIALIZER;
		size_t k;

		/* The entity's first document write only. */
		if (!first_op(g, &g->ents[i], kind, es__is_cas_op, &k) ||
		    keeps_doc_before(p, &g->ents[i], k))
			continue;
		op = &p->ops[k];
		if ((v = op->value) == NULL || !v->meta.has_id)
			continue;
		es_entity_encode_set(v, op->fields, v->meta.updated_at, &body);
		upd[n] = bson_new();
		bson_append_document(upd[n], "$set", 4, &body);
		bson_destroy(&body);
		cas_of(&g->ents[i], op, upd[n], &cas[n]);
		idx[n++] = k;
	}
	status = es_xcalloc(n ? n : 1, sizeof(*status));
	es_error_clear(&err);
	if (n > 1 && g->p->db->update_cas_many(g->p->db->ctx, kind,
	    g->p->o->user_id, cas, n, status, &err) < 0)
		g->cas_err = err;
	for (size_t i = 0; n > 1 && i < n; i++)
		g->cas_pre[idx[i]] = status[i] == ES_STORE_CAS_DONE ?
		    CAS_DONE : status[i] == ES_STORE_CAS_LOST ? CAS_LOST :
		    CAS_UNKNOWN;
	for (size_t i = 0; i < n; i++)
		bson_destroy(upd[i]);
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
 * a slug the database already has) goes through es__eng_apply_insert() one by one,
 * which sorts those cases out.
 */
#define INSERT_BATCH	1000

void
es__eng_batch_inserts(struct es__ents *g, enum es_kind kind)
{
	struct es_plan *p = &g->p->r->plan;
	bson_t **docs;
	size_t *idx, n = 0;
	int *status;
	struct es_error err;

	docs = es_xcalloc(p->n ? p->n : 1, sizeof(*docs));
	idx = es_xcalloc(p->n ? p->n : 1, sizeof(*idx));
	for (size_t i = 0; i < g->nents; i++) {
		struct es_entity *v;
		size_t k;

		/* Only when the entity's first write is the insert. */
		if (!first_op(g, &g->ents[i], kind, is_write_op, &k) ||
		    p->ops[k].op != ES_OP_DOC_INSERT ||
		    (v = p->ops[k].value) == NULL)
			continue;
		v->meta.id = es_docid_entity(g->p->o->user_id, v);
		v->meta.has_id = true;
		docs[n] = bson_new();
		es_entity_encode(v, g->p->o->user_id, docs[n]);
		idx[n++] = k;
	}
	status = es_xcalloc(n ? n : 1, sizeof(*status));
	es_error_clear(&err);
	if (n > 1) {
		/* Inserted is inserted, even when a later chunk failed. */
		(void)g->p->db->insert_many(g->p->db->ctx, kind,
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

int
es__eng_apply_doc_update(struct es__ents *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	bool matched = false;
	int rc;

	if (!v->meta.has_id)
		return es_problem_set(err, ES_PROB_BAD_DOCUMENT, op->rel, 0,
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
			g->p->full_next = true;
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
