/*
 * The decision core for one action (SPEC §4, §6); plan-action.h documents
 * every row. Pure: structs in, a decision out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-line.h"
#include "execsync/doc.h"
#include "execsync/layout.h"
#include "execsync/plan-action.h"
#include "execsync/rules.h"
#include "execsync/xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const unsigned fields[] = { ES_F_TEXT, ES_F_CONTEXT, ES_F_PROJECT,
    ES_F_STATE, ES_F_DUE, ES_F_DEFER, ES_F_ACTION_DATE, ES_F_COMPLETED,
    ES_F_PRIORITY };

void
es_action_decision_release(struct es_action_decision *d)
{
	if (d == NULL)
		return;
	es_action_release(&d->value);
	memset(d, 0, sizeof(*d));
	es_action_init(&d->value);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? es_xstrdup(s) : NULL;
}

static void
field_take(struct es_action *dst, const struct es_action *src, unsigned bit)
{
	switch (bit) {
	case ES_F_TEXT:
		free(dst->text);
		dst->text = dup_or_null(src->text);
		break;
	case ES_F_CONTEXT:
		free(dst->context);
		dst->context = dup_or_null(src->context);
		break;
	case ES_F_PROJECT:
		free(dst->project_slug);
		dst->project_slug = dup_or_null(src->project_slug);
		break;
	case ES_F_STATE:
		dst->state = src->state;
		break;
	case ES_F_DUE:
		dst->due = src->due;
		break;
	case ES_F_DEFER:
		dst->defer = src->defer;
		break;
	case ES_F_ACTION_DATE:
		dst->action_date = src->action_date;
		break;
	case ES_F_COMPLETED:
		dst->completed = src->completed;
		break;
	case ES_F_PRIORITY:
		dst->priority = src->priority;
		break;
	default:
		break;
	}
}

static void
reason(struct es_action_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reason(struct es_action_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static void
fields_str(unsigned f, char *buf, size_t size)
{
	struct es_buf b = ES_BUF_INIT;

	es_plan_fields_format(f, &b);
	snprintf(buf, size, "%s", b.buf ? b.buf : "");
	es_buf_release(&b);
}

/* The later write wins under `newest`; a tie goes to the database (plan.h). */
static bool
file_wins(const struct es_action_plan_input *in, enum es_policy policy)
{
	switch (policy) {
	case ES_POLICY_FILE:
		return true;
	case ES_POLICY_DATABASE:
		return false;
	case ES_POLICY_NEWEST:
	default:
		return in->file_mtime_ms > in->db_updated_at;
	}
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * SPEC 4.8: a next action without a context lives in contexts/@inbox.md and
 * reads back as "@inbox"; settle on that now, on both sides.
 */
static void
settle_inbox(struct es_action *v)
{
	if (v->state == ES_STATE_NEXT && v->context == NULL)
		v->context = es_xstrdup("@inbox");
}

/*
 * The file side after the result v is known: where the line goes. A line
 * whose state and context are as the result says stays (SET when another
 * field changed); otherwise it belongs to v's list (MOVE, or SET when that
 * is its own list).
 */
static int
file_side(const struct es_action_plan_input *in,
    struct es_action_decision *d, struct es_error *err)
{
	struct es_buf path = ES_BUF_INIT;

	if (es_layout_action_path(&d->value, &path, err) < 0)
		return -1;
	snprintf(d->list_rel, sizeof(d->list_rel), "%s", path.buf);
	es_buf_release(&path);
	if (in->file == NULL) {
		d->file = ES_ACT_FILE_ADD;
		return 0;
	}
	if (es_action_diff(in->file, &d->value) == 0) {
		d->file = ES_ACT_FILE_NONE;
		return 0;
	}
	if (in->file->state == d->value.state &&
	    str_eq(in->file->context, d->value.context))
		d->file = ES_ACT_FILE_SET;
	else if (in->file_rel != NULL && strcmp(in->file_rel,
	    d->list_rel) == 0)
		d->file = ES_ACT_FILE_SET;
	else
		d->file = ES_ACT_FILE_MOVE;
	return 0;
}

/* The document side after the result is known: $set what it lacks. */
static void
doc_side(const struct es_action_plan_input *in, struct es_action_decision *d)
{
	unsigned diff;

	if (in->db == NULL) {
		d->doc = ES_ACT_DOC_INSERT;
		d->doc_fields = ES_PLAN_ACTION_F_ALL;
		return;
	}
	diff = es_action_diff(in->db, &d->value);
	if (in->db->meta.deleted) {
		d->doc = ES_ACT_DOC_UNDELETE;
		d->doc_fields = diff;
	} else if (diff != 0) {
		d->doc = ES_ACT_DOC_UPDATE;
		d->doc_fields = diff;
	}
}

static void
take_value(struct es_action_decision *d, const struct es_action *from,
    const struct es_action_plan_input *in)
{
	es_action_release(&d->value);
	es_action_copy(&d->value, from);
	if (in->db != NULL) {
		d->value.meta = in->db->meta;
		d->value.meta.deleted = false;
		d->value.meta.deleted_at = 0;
	} else
		memset(&d->value.meta, 0, sizeof(d->value.meta));
}

/*
 * One piece, longer than most: it is plan-action.h's table read top to
 * bottom (no baseline; with one: deleted on either side; both present,
 * merged by field), so each row can be checked against the header.
 */
int
es_plan_action(const struct es_action_plan_input *in, enum es_policy policy,
    struct es_action_decision *d, struct es_error *err)
{
	const struct es_action *base = in->base, *file = in->file;
	const struct es_action *db = in->db;
	bool db_live = db != NULL && !db->meta.deleted;
	unsigned fchg, dchg;
	char fs[96];

	memset(d, 0, sizeof(*d));
	es_action_init(&d->value);
	if (base == NULL) {
		if (file == NULL) {
			if (!db_live)
				return 0;
			take_value(d, db, in);
			settle_inbox(&d->value);
			reason(d, "new in the database");
			goto both;
		}
		if (db == NULL) {
			take_value(d, file, in);
			reason(d, "new line");
			goto both;
		}
		if (!db_live) {
			take_value(d, file, in);
			reason(d, "line present, document deleted: "
			    "brought back (SPEC 4.17)");
			goto both;
		}
		d->conflicts = es_action_diff(file, db);
		if (d->conflicts == 0) {
			take_value(d, db, in);
			goto both;
		}
		fields_str(d->conflicts, fs, sizeof(fs));
		if (file_wins(in, policy)) {
			take_value(d, file, in);
			d->keep = ES_ACT_KEEP_DOC;
		} else {
			take_value(d, db, in);
			settle_inbox(&d->value);
			d->keep = ES_ACT_KEEP_FILE;
		}
		reason(d, "conflict (no baseline): %s; %s wins, the other "
		    "kept", fs, d->keep == ES_ACT_KEEP_DOC ? "the file" :
		    "the database");
		goto both;
	}
	fchg = file != NULL ? es_action_diff(base, file) : 0;
	dchg = db_live ? es_action_diff(base, db) : 0;
	if (file == NULL && !db_live) {
		d->forget = true;
		reason(d, "deleted on both sides");
		return 0;
	}
	if (file == NULL) {
		if (dchg == 0) {
			d->doc = ES_ACT_DOC_DELETE;
			d->forget = true;
			take_value(d, db, in);
			reason(d, "line removed");
			return 0;
		}
		take_value(d, db, in);
		settle_inbox(&d->value);
		reason(d, "line removed, document edited: the edit wins "
		    "(SPEC 4.5)");
		goto both;
	}
	if (!db_live) {
		if (fchg == 0) {
			d->file = ES_ACT_FILE_TRASH;
			d->forget = true;
			take_value(d, file, in);
			reason(d, "document deleted");
			return 0;
		}
		take_value(d, file, in);
		reason(d, "document deleted, line edited: the edit wins "
		    "(SPEC 4.5)");
		goto both;
	}
	/* Both present, with a baseline: merge by field (SPEC 4.3). */
	take_value(d, base, in);
	for (size_t i = 0; i < NELEM(fields); i++) {
		unsigned bit = fields[i];

		if ((fchg & bit) && (dchg & bit)) {
			if ((es_action_diff(file, db) & bit) == 0)
				field_take(&d->value, file, bit);
			else
				d->conflicts |= bit;
		} else if (fchg & bit)
			field_take(&d->value, file, bit);
		else if (dchg & bit)
			field_take(&d->value, db, bit);
	}
	/*
	 * A state and its completion date go together: the side whose state
	 * wins brings its date (an action waiting on one side and completed
	 * on the other must not come out waiting with a completion date,
	 * which no list can hold).
	 */
	if ((d->conflicts & ES_F_STATE) && ((fchg ^ dchg) & ES_F_COMPLETED))
		d->conflicts |= ES_F_COMPLETED;
	if (d->conflicts != 0) {
		const struct es_action *w;

		if (file_wins(in, policy)) {
			w = file;
			d->keep = ES_ACT_KEEP_DOC;
		} else {
			w = db;
			d->keep = ES_ACT_KEEP_FILE;
		}
		for (size_t i = 0; i < NELEM(fields); i++)
			if (d->conflicts & fields[i])
				field_take(&d->value, w, fields[i]);
		fields_str(d->conflicts, fs, sizeof(fs));
		reason(d, "conflict: %s; %s wins, the other kept", fs,
		    w == file ? "the file" : "the database");
	} else if (fchg != 0 && dchg != 0) {
		fields_str(fchg | dchg, fs, sizeof(fs));
		reason(d, "merged: %s", fs);
	} else if (fchg != 0) {
		fields_str(fchg, fs, sizeof(fs));
		reason(d, "line changed: %s", fs);
	} else if (dchg != 0) {
		fields_str(dchg, fs, sizeof(fs));
		reason(d, "database changed: %s", fs);
	}
	settle_inbox(&d->value);
both:
	doc_side(in, d);
	if (file_side(in, d, err) < 0) {
		if (err->path[0] == '\0' && db != NULL && db->meta.has_id) {
			char hex[25];

			bson_oid_to_string(&db->meta.id, hex);
			snprintf(err->path, sizeof(err->path), "actions/%s",
			    hex);
		}
		es_action_decision_release(d);
		return -1;
	}
	return 0;
}

/* ---- the decision as operations ---- */

static struct es_op *
op_push(struct es_plan *p, const struct es_action_plan_input *in,
    enum es_op_kind k, enum es_direction dir, const char *rel,
    const struct es_action *v, const char *text, const char *why)
{
	struct es_op *op;

	if (p->n == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 16;
		p->ops = es_xreallocarray(p->ops, p->alloc, sizeof(*p->ops));
	}
	op = &p->ops[p->n++];
	memset(op, 0, sizeof(*op));
	op->op = k;
	op->dir = dir;
	op->kind = ES_KIND_ACTION;
	op->rel = dup_or_null(rel);
	op->action = es_xmalloc(sizeof(*op->action));
	es_action_copy(op->action, v);
	op->action->meta.id = in->id;
	op->action->meta.has_id = in->has_id;
	snprintf(op->reason, sizeof(op->reason), "action '%.60s': %.90s",
	    text != NULL ? text : "", why);
	return op;
}

/* The line the result needs must be writable in its list (SPEC 4.8). */
static int
check_render(const struct es_action_decision *d, const char *cur,
    struct es_error *err)
{
	const char *rel;
	struct es_path_info info;
	struct es_buf line = ES_BUF_INIT;
	int rc;

	if (d->file == ES_ACT_FILE_ADD || d->file == ES_ACT_FILE_MOVE)
		rel = d->list_rel;
	else if (d->file == ES_ACT_FILE_SET)
		rel = cur;
	else
		return 0;
	if (rel == NULL || es_layout_classify(rel, NULL, &info) != 1)
		return es_problem_set(err, ES_PROB_UNSAFE_PATH, rel ? rel : "", 0,
		    "not an action list");
	rc = es_action_line_render(&d->value, info.list, info.context[0] ?
	    info.context : NULL, ES_LINE_CHECKLIST, &line, err);
	es_buf_release(&line);
	if (rc < 0 && err->path[0] == '\0')
		snprintf(err->path, sizeof(err->path), "%s", rel);
	return rc;
}

/* The value a document op writes: its versions (SPEC 4.12, rules.h). */
static void
doc_value(const struct es_action_plan_input *in,
    const struct es_action_decision *d, int64_t now_ms, struct es_action *v)
{
	static const enum es_write_kind kinds[] = {
		[ES_ACT_DOC_INSERT] = ES_WRITE_INSERT,
		[ES_ACT_DOC_UPDATE] = ES_WRITE_UPDATE,
		[ES_ACT_DOC_DELETE] = ES_WRITE_DELETE,
		[ES_ACT_DOC_UNDELETE] = ES_WRITE_UNDELETE,
	};
	struct es_write_version wv;

	es_version_write(kinds[d->doc], in->db != NULL ? in->db_updated_at :
	    0, now_ms, &wv);
	es_action_copy(v, &d->value);
	v->meta.updated_at = wv.updated_at;
	v->meta.deleted = wv.deleted;
	v->meta.deleted_at = wv.deleted_at;
	if (d->doc == ES_ACT_DOC_INSERT)
		v->meta.created_at = wv.created_at;
}

static void
emit_doc(const struct es_action_plan_input *in,
    const struct es_action_decision *d, int64_t now_ms, const char *cur,
    struct es_plan *p)
{
	static const enum es_op_kind kinds[] = {
		[ES_ACT_DOC_INSERT] = ES_OP_DOC_INSERT,
		[ES_ACT_DOC_UPDATE] = ES_OP_DOC_UPDATE,
		[ES_ACT_DOC_DELETE] = ES_OP_DOC_DELETE,
		[ES_ACT_DOC_UNDELETE] = ES_OP_DOC_UNDELETE,
	};
	struct es_action v;
	struct es_op *op;

	if (d->doc == ES_ACT_DOC_NONE)
		return;
	doc_value(in, d, now_ms, &v);
	op = op_push(p, in, kinds[d->doc], ES_DIR_TO_DB, cur, &v, d->value.text,
	    d->reason);
	es_action_release(&v);
	if (d->doc == ES_ACT_DOC_INSERT)
		return;
	op->expect_updated_at = in->db_updated_at;
	op->fields = d->doc == ES_ACT_DOC_DELETE ? ES_DOC_F_DELETED :
	    d->doc == ES_ACT_DOC_UNDELETE ? d->doc_fields | ES_DOC_F_DELETED :
	    d->doc_fields;
}

static void
emit_file(const struct es_action_plan_input *in,
    const struct es_action_decision *d, const char *cur, struct es_plan *p)
{
	struct es_action v;
	struct es_op *op = NULL;

	es_action_copy(&v, &d->value);
	switch (d->file) {
	case ES_ACT_FILE_ADD:
		op_push(p, in, ES_OP_FILE_WRITE, ES_DIR_TO_FILE, d->list_rel, &v,
		    v.text, d->reason);
		break;
	case ES_ACT_FILE_SET:
		op = op_push(p, in, ES_OP_FILE_WRITE, ES_DIR_TO_FILE, cur, &v,
		    v.text, d->reason);
		break;
	case ES_ACT_FILE_MOVE:
		op = op_push(p, in, ES_OP_FILE_MOVE, ES_DIR_TO_FILE, d->list_rel,
		    &v, v.text, d->reason);
		op->rel_from = dup_or_null(cur);
		break;
	case ES_ACT_FILE_TRASH:
		op_push(p, in, ES_OP_FILE_TRASH, ES_DIR_TO_FILE, cur, &v, v.text,
		    d->reason);
		break;
	default:
		break;
	}
	if (op != NULL && in->file != NULL)
		op->fields = es_action_diff(in->file, &d->value);
	es_action_release(&v);
}

int
es_plan_action_ops(const struct es_action_plan_input *in,
    enum es_policy policy, int64_t now_ms, struct es_plan *plan,
    struct es_error *err)
{
	struct es_action_decision d;
	const char *cur = in->file != NULL ? in->file_rel : in->base_rel;
	const char *text;

	if (es_plan_action(in, policy, &d, err) < 0)
		return -1;
	if (check_render(&d, cur, err) < 0) {
		es_action_decision_release(&d);
		return -1;
	}
	text = d.value.text;
	if (d.keep == ES_ACT_KEEP_FILE && in->file != NULL)
		op_push(plan, in, ES_OP_KEEP_FILE_VERSION, ES_DIR_NONE, cur,
		    in->file, text, d.reason);
	else if (d.keep == ES_ACT_KEEP_DOC && in->db != NULL)
		op_push(plan, in, ES_OP_KEEP_DOC_VERSION, ES_DIR_NONE, cur, in->db,
		    text, d.reason);
	if (d.conflicts)
		op_push(plan, in, ES_OP_REPORT, ES_DIR_NONE, cur, &d.value, text,
		    d.reason);
	emit_doc(in, &d, now_ms, cur, plan);
	emit_file(in, &d, cur, plan);
	if (d.forget && in->base != NULL)
		op_push(plan, in, ES_OP_BASELINE_FORGET, ES_DIR_NONE, cur,
		    in->base, text, d.reason);
	es_action_decision_release(&d);
	return 0;
}

const char *
es_act_doc_name(enum es_act_doc d)
{
	static const char *const names[] = { "none", "insert", "update",
	    "delete", "undelete" };

	return (size_t)d < NELEM(names) ? names[d] : "unknown";
}

const char *
es_act_file_name(enum es_act_file f)
{
	static const char *const names[] = { "none", "add", "set", "move",
	    "trash" };

	return (size_t)f < NELEM(names) ? names[f] : "unknown";
}
