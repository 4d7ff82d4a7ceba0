/*
 * The pass's applying of projects and goals (see pass.h):
 * document writes first, in bulk (inserts, then compare-and-swap updates,
 * SPEC 4.12), then each entity's ops in plan order through fsio, a lost
 * race read and decided again, then the baseline in one transaction.
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

#include "pass.h"

static void
op_error(struct es__ents *g, const struct es_op *op, const struct es_error *e)
{
	struct es_error x = *e;

	if (x.path[0] == '\0' && op->rel != NULL)
		snprintf(x.path, sizeof(x.path), "%s", op->rel);
	es__add_error(g->p, &x);
}

static int
apply_write(struct es__ents *g, struct ent *e, struct es_op *op,
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
		if (g->p->fs->read(g->p->fs->ctx, op->rel, es__max_size(g->p), &g->buf, &cur,
		    err) < 0)
			goto out;
		if (!es__same_content_stat(&cur, &f->tf.st)) {
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
	if (out.len > es__max_size(g->p)) {
		es_problem_set(err, ES_PROB_NOT_WRITTEN, op->rel, 0, "the file would be "
		    "%zu bytes, over max_file_size (%zu): not written (shorten "
		    "the document in the app)", out.len, es__max_size(g->p));
		goto out;
	}
	if (g->p->fs->write(g->p->fs->ctx, op->rel, out.buf, out.len,
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
apply_keep_file(struct es__ents *g, struct es_op *op, struct es_error *err)
{
	struct es_buf bytes = ES_BUF_INIT, kept = ES_BUF_INIT;
	int rc;

	if (op->rel == NULL || g->p->fs->read(g->p->fs->ctx, op->rel,
	    es__max_size(g->p),
	    &bytes, NULL, NULL) < 0) {
		es_buf_reset(&bytes);
		es_entity_file_render(op->value, &bytes);
	}
	rc = g->p->fs->conflict_copy(g->p->fs->ctx, op->rel ? op->rel :
	    "unknown.md", "file", g->p->now_ms, bytes.buf, bytes.len, &kept,
	    err);
	if (rc == 0)
		es_log(ES_LOG_WARN, SUB, "%s: the file's version is kept in "
		    "%s", op->rel ? op->rel : "?", kept.buf);
	es_buf_release(&bytes);
	es_buf_release(&kept);
	return rc;
}

static int
apply_keep_doc(struct es__ents *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_entity *v = op->value;
	bson_t doc = BSON_INITIALIZER, lost = BSON_INITIALIZER;
	int rc;

	if (!v->meta.has_id) {
		v->meta.id = es_docid_entity(g->p->o->user_id, v);
		v->meta.has_id = true;
	}
	es_entity_encode(v, g->p->o->user_id, &lost);
	BSON_APPEND_UTF8(&doc, "user_id", g->p->o->user_id);
	BSON_APPEND_UTF8(&doc, "collection", es_kind_collection(e->kind));
	BSON_APPEND_OID(&doc, "doc_id", &v->meta.id);
	BSON_APPEND_DATE_TIME(&doc, "kept_at", g->p->now_ms);
	BSON_APPEND_UTF8(&doc, "reason", op->reason);
	BSON_APPEND_DOCUMENT(&doc, "doc", &lost);
	rc = g->p->db->insert_conflict(g->p->db->ctx, &doc, err);
	if (rc == 0)
		es_log(ES_LOG_WARN, SUB, "%s: the database's version is kept "
		    "in %s", op->rel ? op->rel : "?", ES_STORE_CONFLICTS);
	bson_destroy(&doc);
	bson_destroy(&lost);
	return rc;
}

static int
apply_baseline_put(struct es__ents *g, struct ent *e, struct es_op *op,
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
		es_problem_set(err, ES_PROB_BAD_DOCUMENT, op->rel, 0,
		    "no document id for the baseline");
		goto out;
	}
	if (e->doc_written)
		v.meta.updated_at = e->doc_ua;
	es_entity_encode(&v, g->p->o->user_id, &doc);
	memset(&be, 0, sizeof(be));
	bson_oid_copy(&v.meta.id, &be.id);
	be.kind = e->kind;
	be.rel = op->rel;
	be.doc_updated_at = v.meta.updated_at;
	be.fp = es_entity_fingerprint(&v);
	be.base = bson_get_data(&doc);
	be.base_len = doc.len;
	if (g->p->base->put_entity(g->p->base->ctx, &be, err) < 0)
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
		if (g->p->fs->stat(g->p->fs->ctx, op->rel, &st, NULL) == 1 &&
		    es__same_content_stat(&st, &e->new_st)) {
			bf.st = st;
			bf.raw_fp = e->new_raw;
			file_row = true;
		}
	} else if (f != NULL && !f->broken &&
	    g->p->fs->stat(g->p->fs->ctx, op->rel, &st, NULL) == 1 &&
	    es__same_content_stat(&st, &f->tf.st)) {
		bf.st = st;
		bf.raw_fp = f->tf.raw_fp;
		file_row = true;
	}
	if (file_row && g->p->base->put_file(g->p->base->ctx, &bf, err) < 0)
		goto out;
	if (e->has_base && strcmp(e->base_rel, op->rel) != 0 &&
	    g->p->base->delete_file(g->p->base->ctx, e->base_rel, err) < 0)
		goto out;
	if (f != NULL && strcmp(f->tf.rel, op->rel) != 0 &&
	    g->p->base->delete_file(g->p->base->ctx, f->tf.rel, err) < 0)
		goto out;
	rc = 0;
out:
	bson_destroy(&doc);
	es_entity_release(&v);
	return rc;
}

static int
apply_op(struct es__ents *g, struct ent *e, struct es_op *op,
    struct es_error *err)
{
	struct es_buf tr = ES_BUF_INIT;
	int rc = APPLY_OK;

	switch (op->op) {
	case ES_OP_DOC_INSERT:
		rc = es__eng_apply_insert(g, e, op, err);
		break;
	case ES_OP_DOC_UPDATE:
	case ES_OP_DOC_DELETE:
	case ES_OP_DOC_UNDELETE:
		rc = es__eng_apply_doc_update(g, e, op, err);
		break;
	case ES_OP_FILE_WRITE:
		rc = apply_write(g, e, op, err);
		break;
	case ES_OP_FILE_MOVE:
		rc = g->p->fs->move(g->p->fs->ctx, op->rel_from, op->rel, err);
		if (rc == 0) {
			free(e->cur_rel);
			e->cur_rel = es_xstrdup(op->rel);
		}
		break;
	case ES_OP_FILE_TRASH:
		rc = g->p->fs->trash(g->p->fs->ctx, op->rel, &tr, err);
		if (rc == 0)
			es_log(ES_LOG_INFO, SUB, "%s: moved to %s", op->rel,
			    tr.buf);
		break;
	case ES_OP_KEEP_FILE_VERSION:
		rc = apply_keep_file(g, op, err);
		if (rc == 0)
			g->p->r->conflicts++;
		break;
	case ES_OP_KEEP_DOC_VERSION:
		rc = apply_keep_doc(g, e, op, err);
		if (rc == 0)
			g->p->r->conflicts++;
		break;
	case ES_OP_BASELINE_PUT:
		rc = apply_baseline_put(g, e, op, err);
		break;
	case ES_OP_BASELINE_FORGET:
		if (op->value != NULL && op->value->meta.has_id)
			rc = g->p->base->delete_entity(g->p->base->ctx, &op->value->meta.id, err);
		if (rc == 0 && op->rel != NULL)
			rc = g->p->base->delete_file(g->p->base->ctx, op->rel, err);
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
replan(struct es__ents *g, struct ent *e, struct es_error *err)
{
	bson_t doc;
	bool found = false;
	struct es_plan p = ES_PLAN_INIT;
	struct es_entity tmp;
	struct es_error e2;
	const bson_oid_t *id = e->has_db ? &e->db.meta.id :
	    &e->base.meta.id;
	int rc = 0;

	if (g->p->db->find_one(g->p->db->ctx, e->kind, id, &doc, &found, err) < 0)
		return -1;
	if (found && es_doc_user_is(&doc, g->p->o->user_id) &&
	    es_entity_decode(&doc, e->kind, &tmp, &e2) == 0) {
		es_entity_release(&e->db);
		e->db = tmp;
		e->has_db = true;
		e->db_ua = tmp.meta.updated_at;
	} else {
		if (found && es_doc_user_is(&doc, g->p->o->user_id))
			es_entity_release(&tmp);	/* decode failed */
		es_entity_release(&e->db);
		es_entity_init(&e->db, e->kind);
		e->has_db = false;
	}
	if (found)
		bson_destroy(&doc);
	es__eng_plan_one(g, e, &p);
	for (size_t i = 0; i < p.n; i++) {
		rc = apply_op(g, e, &p.ops[i], err);
		if (rc != 0)
			break;
		log_op(&p.ops[i]);
		g->p->r->applied[p.ops[i].op]++;
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
remember_own_write(struct es__ents *g, struct ent *e)
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
	es_entity_encode(&v, g->p->o->user_id, &doc);
	memset(&be, 0, sizeof(be));
	bson_oid_copy(&v.meta.id, &be.id);
	be.kind = e->kind;
	be.rel = f->tf.rel;
	be.doc_updated_at = e->doc_ua;
	be.fp = es_entity_fingerprint(&v);
	be.base = bson_get_data(&doc);
	be.base_len = doc.len;
	if (g->p->base->put_entity(g->p->base->ctx, &be, &err) < 0)
		es__add_error(g->p, &err);
	bson_destroy(&doc);
	es_entity_release(&v);
}

static void
apply_ent(struct es__ents *g, struct ent *e)
{
	struct es_plan *p = &g->p->r->plan;
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
				g->p->r->lost_races++;
				es_error_set(&err, ES_ECONFLICT, op->rel, 0,
				    "the document changed again while "
				    "syncing; left for the next pass");
				op_error(g, op, &err);
			} else if (rc != 0) {
				g->p->r->failed++;
				op_error(g, op, &err);
			}
			return;
		}
		if (rc != 0) {
			/* The rest of this entity waits: the next pass
			 * decides again. */
			g->p->r->failed++;
			op_error(g, op, &err);
			if (e->doc_written)
				remember_own_write(g, e);
			return;
		}
		log_op(op);
		g->p->r->applied[op->op]++;
		if (op->dir == ES_DIR_TO_DB)
			g->p->r->to_db++;
		else if (op->dir == ES_DIR_TO_FILE)
			g->p->r->to_file++;
	}
}

/*
 * Documents first, in bulk, then each entity's ops in plan order. Per item
 * failures go to r->errors; none stops the pass.
 */
int
es__ents_apply(struct es__ents *g, struct es_error *err)
{
	(void)err;
	g->cas_pre = es_xcalloc(g->p->r->plan.n ? g->p->r->plan.n : 1, 1);
	es__eng_batch_inserts(g, ES_KIND_PROJECT);
	es__eng_batch_inserts(g, ES_KIND_GOAL);
	es__eng_batch_cas(g, ES_KIND_PROJECT);
	es__eng_batch_cas(g, ES_KIND_GOAL);
	for (size_t i = 0; i < g->nents; i++)
		apply_ent(g, &g->ents[i]);
	free(g->cas_pre);
	g->cas_pre = NULL;
	return 0;
}

/* The rows BASELINE_PUT did not write, and the watermarks (SPEC 4.1). */
int
es__ents_commit(struct es__ents *g, struct es_error *err)
{
	/* Goal candidates that are not goals: remembered, not read again. */
	for (size_t i = 0; i < g->nfiles; i++) {
		struct fent *f = &g->files[i];
		struct es_base_file bf;

		if (f->tf.status != ES_TREE_NOT_SYNCED || f->tf.raw_fp == 0)
			continue;
		bf.rel = f->tf.rel;
		bf.st = f->tf.st;
		bf.raw_fp = f->tf.raw_fp;
		if (g->p->base->put_file(g->p->base->ctx, &bf, err) < 0)
			return -1;
	}
	/* A quiet pass read no collection: its watermark stays (rules.h). */
	if ((!g->p->read.by_id[ES_READ_PROJECTS] &&
	    es__set_watermark(g->p, ES_KIND_PROJECT, g->maxseen[0], err) < 0) ||
	    (!g->p->read.by_id[ES_READ_GOALS] &&
	    es__set_watermark(g->p, ES_KIND_GOAL, g->maxseen[1], err) < 0))
		return -1;
	return 0;
}
