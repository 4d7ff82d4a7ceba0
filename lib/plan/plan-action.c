/*
 * The decision core for one action (SPEC §4, §6); plan-action.h documents
 * every row. Pure: structs in, a decision out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/layout.h"
#include "execsync/plan-action.h"
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
