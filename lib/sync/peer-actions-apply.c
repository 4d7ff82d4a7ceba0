/*
 * The actions peer's applying and commit (pass.h): the plan's document ops
 * first (the losers kept, then compare-and-swaps and inserts in bulk, SPEC
 * 4.12), then its line ops on the lists in memory, each changed list
 * written once, the trash and kept lines appended; the commit drops the
 * rows the plan forgets and writes the rows of every list read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/date.h"
#include "execsync/doc.h"
#include "execsync/fsio.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "execsync/rules.h"

#include "pass.h"

#define CONFLICTS_ACTIONS	".execsync/conflicts/actions.md"

/* ---- applying ---- */

static void
count_op(struct es__acts *a, const struct es_op *op)
{
	struct es_buf line = ES_BUF_INIT;

	a->p->r->applied[op->op]++;
	if (op->dir == ES_DIR_TO_DB)
		a->p->r->to_db++;
	else if (op->dir == ES_DIR_TO_FILE)
		a->p->r->to_file++;
	es_op_describe(op, &line);
	es_log(ES_LOG_INFO, SUB, "%s", line.buf);
	es_buf_release(&line);
}

static void
fail_act(struct es__acts *a, struct act *t, const struct es_error *e)
{
	struct es_error x = *e;

	if (x.path[0] == '\0')
		snprintf(x.path, sizeof(x.path), "%s", es__acts_cur_rel(a, t) ?
		    es__acts_cur_rel(a, t) : "actions");
	es__add_failure(a->p, &x);
	t->failed = true;
}

static int
keep_doc(struct es__acts *a, const struct es_op *op, struct es_error *err)
{
	bson_t doc = BSON_INITIALIZER, lost = BSON_INITIALIZER;
	int rc;

	es_action_encode(op->action, a->p->o->user_id, &lost);
	BSON_APPEND_UTF8(&doc, "user_id", a->p->o->user_id);
	BSON_APPEND_UTF8(&doc, "collection", "actions");
	BSON_APPEND_OID(&doc, "doc_id", &op->action->meta.id);
	BSON_APPEND_DATE_TIME(&doc, "kept_at", a->p->now_ms);
	BSON_APPEND_UTF8(&doc, "reason", op->reason);
	BSON_APPEND_DOCUMENT(&doc, "doc", &lost);
	rc = a->p->db->insert_conflict(a->p->db->ctx, &doc, err);
	bson_destroy(&doc);
	bson_destroy(&lost);
	return rc;
}

static void
line_note(struct es__acts *a, struct es_buf *to, const char *rel,
    const char *line, size_t len)
{
	char day[ES_DATE_BUFSZ];

	es_date_format(es_date_from_ms(a->p->now_ms), day);
	es_buf_addf(to, "%s %s: ", day, rel);
	es_buf_add(to, line, len);
	es_buf_addstr(to, "\n");
}

/* One document write of the plan, by the act it belongs to. */
struct docw {
	size_t		 ti;
	struct es_op	*op;
};

/*
 * The action documents' compare-and-swap writes of a pass, in bulk
 * (es_store_update_cas_many): one round trip for a few lines, chunks the
 * socket timeout allows for many. A line whose write got no answer is
 * reported and left for the next pass, never taken for a lost race: a
 * write of ours that landed is recognised by its version.
 */
static void
apply_cas(struct es__acts *a, const struct docw *w, size_t n)
{
	struct es_store_cas *cas = es_xcalloc(n, sizeof(*cas));
	bson_t **upd = es_xcalloc(n, sizeof(*upd));	/* bson_new(): aligned */
	enum es_store_cas_status *status = es_xcalloc(n, sizeof(*status));
	struct es_error err, lost;

	for (size_t k = 0; k < n; k++) {
		const struct es_action *v = w[k].op->action;
		const struct act *t = &a->acts[w[k].ti];
		bson_t body = BSON_INITIALIZER;

		es_action_encode_set(v, w[k].op->fields, v->meta.updated_at,
		    &body);
		upd[k] = bson_new();
		bson_append_document(upd[k], "$set", 4, &body);
		bson_destroy(&body);
		cas[k].id = v->meta.id;
		cas[k].expected_updated_at_ms = w[k].op->expect_updated_at;
		cas[k].new_updated_at_ms = v->meta.updated_at;
		cas[k].update = upd[k];
		/* And the meaning there, when the pass has it (store.h). */
		if (t->has_db && !t->db_broken &&
		    !(t->db_as_base && t->base_lazy)) {
			cas[k].check_meaning = true;
			cas[k].expect_fp = es_action_fingerprint(&t->db);
		}
	}
	es_error_clear(&err);
	(void)a->p->db->update_cas_many(a->p->db->ctx, ES_KIND_ACTION,
	    a->p->o->user_id, cas, n, status, &err);
	for (size_t k = 0; k < n; k++) {
		struct act *t = &a->acts[w[k].ti];

		if (status[k] == ES_STORE_CAS_UNKNOWN) {
			fail_act(a, t, &err);
			continue;
		}
		if (status[k] == ES_STORE_CAS_LOST) {
			/* SPEC 4.12: changed meanwhile; the next pass
			 * decides again from the new version. */
			es_error_set(&lost, ES_ECONFLICT, NULL, 0, "action "
			    "'%s': the document changed while syncing; left "
			    "for the next pass", t->db.text ? t->db.text :
			    "");
			a->p->r->lost_races++;
			fail_act(a, t, &lost);
			a->p->r->failed--;
			continue;
		}
		t->doc_written = true;
		t->doc_ua = w[k].op->action->meta.updated_at;
		if (t->doc_ua > a->maxseen)
			a->maxseen = t->doc_ua;
		count_op(a, w[k].op);
	}
	for (size_t k = 0; k < n; k++)
		bson_destroy(upd[k]);
	free(status);
	free(upd);
	free(cas);
}

/*
 * A document already holds the deterministic id of an insert: a pass
 * that died between the insert and its baseline commit. Ours (SPEC 4.17,
 * es_ours_judge()) only when it means exactly this action, then *ua is
 * its version; anything else is an error for this pass, and the next one
 * reads every document and decides with it in hand.
 */
static bool
already_ours(struct es__acts *a, const struct es_op *op, int64_t *ua,
    struct es_error *err)
{
	struct es_meta m;
	bson_t doc;
	bool found = false;
	enum es_ours o = ES_OURS_NO;

	if (a->p->db->find_one(a->p->db->ctx, ES_KIND_ACTION,
	    &op->action->meta.id, &doc, &found, err) < 0)
		return false;
	if (found) {
		o = es_ours_judge(&doc, ES_KIND_ACTION, a->p->o->user_id,
		    es_action_fingerprint(op->action), &m);
		bson_destroy(&doc);
	}
	if (o == ES_OURS_SAME) {
		*ua = m.updated_at;
		return true;
	}
	a->p->full_next = true;
	es_error_set(err, ES_ECONFLICT, op->rel, 0, "action '%s': its id is "
	    "taken by a document that differs; the next pass reads them "
	    "all and decides again", op->action->text ? op->action->text :
	    "");
	return false;
}

/* The new documents, in one unordered bulk (ids deterministic). */
static void
apply_inserts(struct es__acts *a, const struct docw *w, size_t n)
{
	bson_t **docs = es_xcalloc(n, sizeof(*docs));
	int *status = es_xcalloc(n, sizeof(*status));
	struct es_error err;

	for (size_t k = 0; k < n; k++) {
		docs[k] = bson_new();
		es_action_encode(w[k].op->action, a->p->o->user_id, docs[k]);
	}
	es_error_clear(&err);
	a->p->db->insert_many(a->p->db->ctx, ES_KIND_ACTION,
	    (const bson_t *const *)docs, n, 0, status, &err);
	for (size_t k = 0; k < n; k++) {
		struct act *t = &a->acts[w[k].ti];
		int64_t ua = w[k].op->action->meta.updated_at;
		struct es_error e1;

		es_error_clear(&e1);
		if (status[k] == 1 && !already_ours(a, w[k].op, &ua, &e1)) {
			fail_act(a, t, &e1);
			continue;
		}
		if (status[k] == 0 || status[k] == 1) {
			t->doc_written = true;
			t->doc_ua = ua;
			t->has_db = true;
			if (t->doc_ua > a->maxseen)
				a->maxseen = t->doc_ua;
			count_op(a, w[k].op);
		} else {
			if (err.msg[0] == '\0')
				es_error_set(&err, ES_EDB, NULL, 0,
				    "insert failed");
			fail_act(a, t, &err);
		}
	}
	for (size_t k = 0; k < n; k++)
		bson_destroy(docs[k]);
	free(docs);
	free(status);
}

/*
 * The document ops of the plan: the losers kept first, then every
 * compare-and-swap (SPEC 4.12) and every insert, in bulk (issue 5).
 */
static void
apply_docs(struct es__acts *a)
{
	const struct es_plan *p = &a->p->r->plan;
	struct docw *ins = NULL, *cas = NULL;
	size_t nins = 0, ncas = 0;

	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		for (size_t k = t->op_first; k < t->op_first + t->op_n &&
		    !t->failed; k++) {
			struct es_op *op = &p->ops[k];
			struct es_error err;

			es_error_clear(&err);
			if (op->op == ES_OP_KEEP_DOC_VERSION) {
				if (keep_doc(a, op, &err) < 0) {
					fail_act(a, t, &err);
					break;
				}
				es_log(ES_LOG_WARN, SUB, "%s: the database's "
				    "version of '%s' is kept in %s",
				    es__acts_cur_rel(a, t), op->action->text,
				    ES_STORE_CONFLICTS);
				a->p->r->conflicts++;
				count_op(a, op);
			} else if (op->op == ES_OP_DOC_INSERT) {
				ins = es_xreallocarray(ins, nins + 1,
				    sizeof(*ins));
				ins[nins].ti = i;
				ins[nins++].op = op;
			} else if (es__is_cas_op(op)) {
				cas = es_xreallocarray(cas, ncas + 1,
				    sizeof(*cas));
				cas[ncas].ti = i;
				cas[ncas++].op = op;
			}
		}
	}
	if (ncas > 0)
		apply_cas(a, cas, ncas);
	if (nins > 0)
		apply_inserts(a, ins, nins);
	free(cas);
	free(ins);
}

static int
owner_append(struct es__acts *a, size_t li, size_t ti,
    const struct es_action *v, struct es_error *err)
{
	struct alist *l = &a->lists[li];

	if (es__acts_list_load(a, li) < 0)
		return es_error_set(err, ES_EIO, l->rel, 0, "cannot read");
	if (es_action_list_append(l->l, v, err) < 0)
		return -1;
	l->owner = es_xreallocarray(l->owner, l->nowner + 1,
	    sizeof(*l->owner));
	a->acts[ti].list = li;
	a->acts[ti].pos = l->nowner;
	l->owner[l->nowner++] = ti;
	l->gained = true;
	l->dirty = true;
	return 0;
}

/*
 * A line leaves its list. Only marked here, so that every other line
 * keeps the position it was paired at (issue 15: looking positions up
 * again made apply quadratic in a list's length); list_compact() removes
 * the marked lines once per list.
 */
static void
owner_remove(struct alist *l, size_t pos)
{
	l->owner[pos] = GONE;
	l->ngone++;
	l->lost = true;
	l->dirty = true;
}

static void
list_compact(struct es__acts *a, struct alist *l)
{
	size_t n = 0;

	if (l->ngone == 0)
		return;
	for (size_t i = l->nowner; i-- > 0; )
		if (l->owner[i] == GONE)
			es_action_list_remove(l->l, i);
	for (size_t i = 0; i < l->nowner; i++) {
		if (l->owner[i] == GONE)
			continue;
		if (l->owner[i] != NOIDX)
			a->acts[l->owner[i]].pos = n;
		l->owner[n++] = l->owner[i];
	}
	l->nowner = n;
	l->ngone = 0;
}

/* One line op of the plan, on the lists in memory. */
static int
apply_line_op(struct es__acts *a, size_t ti, const struct es_op *op,
    struct es_error *err)
{
	struct act *t = &a->acts[ti];
	struct alist *l = t->list != NOIDX ? &a->lists[t->list] : NULL;
	size_t pos = l != NULL && l->l != NULL && t->pos < l->nowner &&
	    l->owner[t->pos] == ti ? t->pos : NOIDX;
	const char *raw = NULL;
	size_t len = 0, from = t->list;
	ssize_t to;

	if (pos != NOIDX)
		raw = es_action_list_raw(l->l, pos, &len);
	switch (op->op) {
	case ES_OP_KEEP_FILE_VERSION:
		if (raw == NULL)
			return 1;
		line_note(a, &a->kept, l->rel, raw, len);
		a->p->r->conflicts++;
		return 0;
	case ES_OP_FILE_TRASH:
		if (pos == NOIDX)
			return 1;
		line_note(a, &a->trash, l->rel, raw, len);
		owner_remove(l, pos);
		return 0;
	case ES_OP_FILE_WRITE:
		if (pos != NOIDX && strcmp(l->rel, op->rel) == 0) {
			/* The line is there: rewritten in place. */
			if (es_action_list_set(l->l, pos, op->action, err) < 0)
				return -1;
			l->gained = true;
			l->dirty = true;
			return 0;
		}
		/* A new line: appended, as a move's. */
		/* FALLTHROUGH */
	case ES_OP_FILE_MOVE:
		if ((to = es__acts_list_get(a, op->rel)) < 0)
			return es_problem_set(err, ES_PROB_UNSAFE_PATH, op->rel, 0,
			    "not an action list");
		if (owner_append(a, (size_t)to, ti, op->action, err) < 0)
			return -1;
		/* list_get may have moved the array. */
		if (op->op == ES_OP_FILE_MOVE && pos != NOIDX)
			owner_remove(&a->lists[from], pos);
		return 0;
	default:
		return 1;	/* not a line op */
	}
}

/* Edit the lists in memory; each file is written once afterwards. */
static void
apply_lines(struct es__acts *a)
{
	const struct es_plan *p = &a->p->r->plan;

	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		for (size_t k = t->op_first; k < t->op_first + t->op_n &&
		    !t->failed; k++) {
			struct es_error err;
			int rc;

			es_error_clear(&err);
			rc = apply_line_op(a, i, &p->ops[k], &err);
			if (rc < 0)
				fail_act(a, t, &err);
			else if (rc == 0)
				count_op(a, &p->ops[k]);
		}
	}
}

static int
write_list(struct es__acts *a, struct alist *l, struct es_error *err)
{
	struct es_buf out = ES_BUF_INIT;
	struct es_stat zero, st;
	int rc = -1;

	memset(&zero, 0, sizeof(zero));
	if (!l->exists) {
		size_t n = es_action_list_count(l->l);
		const struct es_action **v = es_xcalloc(n ? n : 1,
		    sizeof(*v));

		for (size_t i = 0; i < n; i++)
			v[i] = es_action_list_get(l->l, i);
		rc = es_action_list_render_new(l->info.list,
		    l->info.context[0] ? l->info.context : NULL,
		    (const struct es_action *const *)v, n, &out, err);
		free(v);
		if (rc < 0)
			goto out;
		/* Read back, so the lines and positions are the file's. */
		es_action_list_free(l->l);
		l->l = es_action_list_parse(out.buf, out.len, l->rel,
		    l->info.list, l->info.context[0] ? l->info.context : NULL);
	} else
		es_action_list_render(l->l, &out);
	rc = a->p->fs->write(a->p->fs->ctx, l->rel, out.buf, out.len,
	    ES_FSIO_MODE_NEW, l->exists ? &l->read_st : &zero,
	    l->exists ? &l->read_fp : NULL, &st, err);
	if (rc == 0) {
		struct es_stat now;

		l->exists = true;
		l->read_st = st;
		l->read_fp = es_fp_bytes(out.buf, out.len);	/* a 2nd write */
		/*
		 * Stat again for the ctime the rename gave, but only if no
		 * one wrote since: a line appended right after our rename
		 * must make the next pass read the list.
		 */
		if (a->p->fs->stat(a->p->fs->ctx, l->rel, &now, NULL) == 1 &&
		    now.dev == st.dev && now.ino == st.ino &&
		    now.size == st.size && now.mtime_ns == st.mtime_ns)
			l->read_st = now;
	}
out:
	es_buf_release(&out);
	return rc;
}

static int
put_rows(struct es__acts *a, struct alist *l, struct es_error *err)
{
	bool clean = !l->broken && !l->failed;

	for (size_t i = 0; i < l->nowner; i++) {
		struct act *t;
		struct es_action v;
		struct es_base_entity be;
		bson_t doc = BSON_INITIALIZER;
		int rc;

		if (l->owner[i] == NOIDX) {
			clean = false;
			continue;
		}
		t = &a->acts[l->owner[i]];
		if (t->failed || !t->decided) {
			clean = false;
			continue;
		}
		if (!t->doc_written && !t->has_db)
			continue;
		es_action_copy(&v, es_action_list_get(l->l, i));
		v.meta = t->has_db ? t->db.meta : t->base.meta;
		v.meta.id = t->id;
		v.meta.has_id = true;
		v.meta.deleted = false;
		v.meta.deleted_at = 0;
		v.meta.updated_at = es_version_baseline(t->doc_written,
		    t->doc_ua, t->db_ua);
		es_action_encode(&v, a->p->o->user_id, &doc);
		memset(&be, 0, sizeof(be));
		be.id = t->id;
		be.kind = ES_KIND_ACTION;
		be.rel = l->rel;
		be.pos = (uint32_t)i;
		be.line = es_action_list_raw(l->l, i, &be.line_len);
		be.doc_updated_at = v.meta.updated_at;
		be.fp = es_action_fingerprint(&v);
		be.base = bson_get_data(&doc);
		be.base_len = doc.len;
		rc = a->p->base->put_entity(a->p->base->ctx, &be, err);
		bson_destroy(&doc);
		es_action_release(&v);
		if (rc < 0)
			return -1;
	}
	if (clean && l->exists) {
		struct es_base_file bf;

		bf.rel = l->rel;
		bf.st = l->read_st;
		bf.raw_fp = 0;
		return a->p->base->put_file(a->p->base->ctx, &bf, err);
	}
	return a->p->base->delete_file(a->p->base->ctx, l->rel, err);
}

/* Per item failures go to r->errors; none stops the pass. */
int
es__acts_apply(struct es__acts *a, struct es_error *err)
{
	(void)err;
	apply_docs(a);
	apply_lines(a);
	/*
	 * Where lines go before where they leave (issue 17): the lines kept
	 * (trash, conflicts) first. A crash between two writes then leaves
	 * a line twice, never nowhere: the baseline is rolled back, and a
	 * list written without the line would read as the user's delete.
	 */
	if (a->trash.len > 0) {
		struct es_error e;

		if (a->p->fs->append(a->p->fs->ctx, ES_FSIO_TRASH_ACTIONS,
		    a->trash.buf, a->trash.len, &e) < 0) {
			es__add_failure(a->p, &e);
		}
	}
	if (a->kept.len > 0) {
		struct es_error e;

		if (a->p->fs->append(a->p->fs->ctx, CONFLICTS_ACTIONS,
		    a->kept.buf, a->kept.len, &e) < 0) {
			es__add_failure(a->p, &e);
		} else
			es_log(ES_LOG_WARN, SUB, "the lines that lost a "
			    "conflict are kept in %s", CONFLICTS_ACTIONS);
	}
	/*
	 * Then every list that gains or changes a line, with the lines
	 * leaving it still there (a list may gain one line and lose
	 * another: a move between two lists that each gain one), then,
	 * with those lines gone, the lists that lose some: written twice
	 * when they also gained.
	 */
	for (int phase = 0; phase < 2; phase++)
		for (size_t i = 0; i < a->nlists; i++) {
			struct alist *l = &a->lists[i];
			struct es_error e;

			if (l->l == NULL || !l->dirty || l->failed ||
			    (phase == 0 && !l->gained) ||
			    (phase == 1 && l->ngone == 0))
				continue;
			if (phase == 1)
				list_compact(a, l);
			es_error_clear(&e);
			if (write_list(a, l, &e) < 0) {
				es__add_failure(a->p, &e);
				l->failed = true;
			}
		}
	for (size_t i = 0; i < a->nlists; i++)
		list_compact(a, &a->lists[i]);	/* failed ones too: rows */
	return 0;
}

/* The baseline: the rows forgotten, then those of every list read. */
int
es__acts_commit(struct es__acts *a, struct es_error *err)
{
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		for (size_t k = t->op_first; k < t->op_first + t->op_n &&
		    !t->failed; k++) {
			const struct es_op *op = &a->p->r->plan.ops[k];

			if (op->op == ES_OP_REPORT) {
				es_log(ES_LOG_WARN, SUB, "%s: %s", op->rel ?
				    op->rel : "-", op->reason);
				count_op(a, op);
			}
			if (op->op != ES_OP_BASELINE_FORGET)
				continue;
			if (a->p->base->delete_entity(a->p->base->ctx, &op->action->meta.id, err) < 0)
				return -1;
			count_op(a, op);
		}
		if (t->failed && t->has_base) {
			/* Re-read the lists involved next pass. */
			if (a->p->base->delete_file(a->p->base->ctx, t->base_rel,
			    err) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];

		if (l->l == NULL)
			continue;
		if (l->failed) {
			if (a->p->base->delete_file(a->p->base->ctx, l->rel, err) < 0)
				return -1;
			continue;
		}
		if (put_rows(a, l, err) < 0)
			return -1;
	}
	/* A quiet pass read no collection: its watermark stays (rules.h). */
	if (a->p->read.by_id[ES_READ_ACTIONS])
		return 0;
	return es__set_watermark(a->p, ES_KIND_ACTION, a->maxseen, err);
}

void
es__acts_free(struct es__acts *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		es_action_release(&t->base);
		es_action_release(&t->db);
		es_action_release(&t->file);
		free(t->base_rel);
		free(t->base_line);
	}
	free(a->acts);
	for (size_t i = 0; i < a->nlists; i++) {
		es_action_list_free(a->lists[i].l);
		free(a->lists[i].owner);
		free(a->lists[i].rel);
	}
	free(a->lists);
	free(a->by_id);
	es_buf_release(&a->buf);
	es_buf_release(&a->trash);
	es_buf_release(&a->kept);
	free(a);
}

