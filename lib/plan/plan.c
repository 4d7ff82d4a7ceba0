/*
 * The decision core for projects and goals (SPEC §4, §6): three versions of
 * one entity in, operations out. plan.h documents every decision; the
 * comments here say how. The entry point, es_plan_entity(), and what it
 * does around a decision are plan-entity.c's; the plan's list and its
 * field names are plan-list.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/doc.h"
#include "execsync/layout.h"
#include "execsync/merge.h"
#include "execsync/plan.h"
#include "execsync/rules.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#include "plan-internal.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Fields that live in the path only, never in a file's bytes (SPEC §2:
 * "the folder comes from the path", "the slug is the file name"). */
#define PATH_ONLY	(ES_F_FOLDER | ES_F_SLUG)

enum side {
	SIDE_DELETED,		/* absent, vanished or soft-deleted */
	SIDE_UNCHANGED,
	SIDE_CHANGED,		/* also: present, with no baseline */
};

enum winner {
	WIN_FILE,
	WIN_DB,
};

struct planner {
	const struct es_plan_input *in;
	enum es_policy		 policy;
	int64_t			 now_ms;
	/* This entity's ops, spliced into the caller's plan on success. */
	struct es_plan		 ops;
	struct es_error		*err;
	/* The slug the file's name asked for, held by another document
	 * (es_plan_input.slugs): the file is renamed away from it. */
	const char		*slug_taken;
};

static struct es_entity *
entity_dup(const struct es_entity *e)
{
	struct es_entity *c = es_xmalloc(sizeof(*c));

	es_entity_copy(c, e);
	return c;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? es_xstrdup(s) : NULL;
}

/* Appends a zeroed op of this entity to the planner's list. */
static struct es_op *
op_add(struct planner *p, enum es_op_kind k, enum es_direction dir)
{
	struct es_plan *l = &p->ops;
	struct es_op *op;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->ops = es_xreallocarray(l->ops, l->alloc, sizeof(*l->ops));
	}
	op = &l->ops[l->n++];
	memset(op, 0, sizeof(*op));
	op->op = k;
	op->dir = dir;
	op->kind = p->in->kind;
	return op;
}

static void
op_reason(struct es_op *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
op_reason(struct es_op *op, const char *fmt, ...)
{
	va_list ap;

	/* Truncation is fine: the reason is one line for people. */
	va_start(ap, fmt);
	vsnprintf(op->reason, sizeof(op->reason), fmt, ap);
	va_end(ap);
}

/*
 * The version a document write sets (SPEC 4.12): later than the version the
 * plan saw even when the database's clock runs ahead of ours, so a
 * compare-and-swap on it can never be fooled by a repeated value.
 */
static int64_t
new_version(const struct planner *p)
{
	return es_version_next(p->in->db_updated_at, p->now_ms);
}

/* The document bookkeeping an op's value carries: the document's when there
 * is one, else the baseline's (its id), else none. */
static void
stamp(const struct planner *p, struct es_entity *v)
{
	const struct es_plan_input *in = p->in;

	if (in->db != NULL)
		v->meta = in->db->meta;
	else if (in->base != NULL)
		v->meta = in->base->meta;
	else
		memset(&v->meta, 0, sizeof(v->meta));
}

/* Copies the field `bit` of src into dst. */
static void
field_take(struct es_entity *dst, const struct es_entity *src, unsigned bit)
{
	switch (bit) {
	case ES_F_TITLE:
		free(dst->title);
		dst->title = dup_or_null(src->title);
		break;
	case ES_F_SLUG:
		free(dst->slug);
		dst->slug = dup_or_null(src->slug);
		break;
	case ES_F_AREA:
		free(dst->area);
		dst->area = dup_or_null(src->area);
		break;
	case ES_F_FOLDER:
		dst->folder = src->folder;
		break;
	case ES_F_TYPE:
		dst->type = src->type;
		break;
	case ES_F_CREATED:
		dst->created = src->created;
		break;
	case ES_F_STARTED:
		dst->started = src->started;
		break;
	case ES_F_LAST_REVIEWED:
		dst->last_reviewed = src->last_reviewed;
		break;
	case ES_F_DUE:
		dst->due = src->due;
		break;
	case ES_F_COMPLETED:
		dst->completed = src->completed;
		break;
	case ES_F_DESCOPED:
		dst->descoped = src->descoped;
		break;
	case ES_F_CONTENT:
		es_entity_set_content(dst, src->content, src->content_len);
		break;
	case ES_F_EXTRA:
		bson_destroy(dst->extra);
		dst->extra = bson_copy(src->extra);
		break;
	default:
		break;
	}
}

/* The place errors name: "<collection>/<hex id>" (as doc.h's decode). */
static int
fail_here(struct planner *p)
{
	const struct es_plan_input *in = p->in;
	const char *coll = es_kind_collection(in->kind);
	const struct es_meta *m = NULL;
	char hex[25];

	if (p->err == NULL)
		return -1;
	if (in->db != NULL && in->db->meta.has_id)
		m = &in->db->meta;
	else if (in->base != NULL && in->base->meta.has_id)
		m = &in->base->meta;
	if (m != NULL) {
		bson_oid_to_string(&m->id, hex);
		snprintf(p->err->path, sizeof(p->err->path), "%s/%s",
		    coll ? coll : "?", hex);
	} else {
		snprintf(p->err->path, sizeof(p->err->path), "%s/?",
		    coll ? coll : "?");
	}
	return -1;
}

/* Whether the last component of rel is slug + ".md". */
static bool
name_is_slug(const char *rel, const char *slug)
{
	const char *name = strrchr(rel, '/');
	size_t n;

	name = name != NULL ? name + 1 : rel;
	if (slug == NULL)
		return true;	/* nothing to follow */
	n = strlen(slug);
	return strncmp(name, slug, n) == 0 && strcmp(name + n, ".md") == 0;
}

static unsigned
path_fields(enum es_kind k)
{
	return k == ES_KIND_PROJECT ? PATH_ONLY | ES_F_AREA : PATH_ONLY;
}

/*
 * Where the file of `to` goes when the file of `from` is at cur (SPEC 4.6):
 * only the components whose value changed are rebuilt, each validated first
 * (SPEC 4.11), so a project file in an area folder of the user's choosing
 * stays there until its area changes, and a goal keeps its subfolder. With
 * no cur (a new file), or a cur of an unexpected shape, the path is
 * es_layout_entity_path(to), which validates every component.
 */
static int
move_target(struct planner *p, const char *cur, const struct es_entity *from,
    const struct es_entity *to, struct es_buf *out)
{
	enum es_kind k = p->in->kind;
	unsigned d;
	const char *comp[64];
	char *copy = NULL, *area = NULL;
	size_t n = 0;
	int rc = -1;

	es_buf_reset(out);
	if (cur == NULL || from == NULL)
		goto fresh;
	d = es_entity_diff(from, to) & path_fields(k);
	/* SPEC §2: the file name is the slug, whatever the file says. */
	if (!name_is_slug(cur, to->slug))
		d |= ES_F_SLUG;
	if (d == 0) {
		es_buf_addstr(out, cur);
		return 0;
	}
	if ((d & ES_F_SLUG) && !es_slug_is_safe(to->slug)) {
		es_problem_set(p->err, ES_PROB_UNSAFE_PATH, NULL, 0, "unsafe slug '%s'",
		    to->slug ? to->slug : "");
		return fail_here(p);
	}
	if ((d & ES_F_FOLDER) && (es_folder_name(to->folder) == NULL ||
	    (k == ES_KIND_GOAL && to->folder != ES_FOLDER_ACTIVE &&
	    to->folder != ES_FOLDER_INCUBATOR))) {
		const char *f = es_folder_name(to->folder);

		es_problem_set(p->err, ES_PROB_UNKNOWN_VALUE, NULL, 0,
		    "bad folder '%s' for %s '%s'", f ? f : "",
		    k == ES_KIND_GOAL ? "goal" : "project",
		    to->slug ? to->slug : "");
		return fail_here(p);
	}
	if ((d & ES_F_AREA) && (area = es_area_dirname(to->area, p->err)) ==
	    NULL)
		return fail_here(p);

	/* Split on '/', empty components kept (then the shape is wrong). */
	copy = es_xstrdup(cur);
	for (char *s = copy, *slash; s != NULL; s = slash) {
		if ((slash = strchr(s, '/')) != NULL)
			*slash++ = '\0';
		if (n == NELEM(comp))
			goto fresh;
		comp[n++] = s;
	}
	if (k == ES_KIND_PROJECT) {
		if (n != 4 || strcmp(comp[0], ES_DIR_PROJECTS) != 0)
			goto fresh;
		if (d & ES_F_AREA)
			comp[2] = area;
	} else {
		if (n < 3 || strcmp(comp[0], ES_DIR_GOALS) != 0)
			goto fresh;
	}
	if (d & ES_F_FOLDER)
		comp[1] = es_folder_name(to->folder);
	for (size_t i = 0; i + 1 < n; i++)
		es_buf_addf(out, "%s/", comp[i]);
	if (d & ES_F_SLUG)
		es_buf_addf(out, "%s.md", to->slug);
	else
		es_buf_addstr(out, comp[n - 1]);
	rc = 0;
	goto out;
fresh:
	rc = es_layout_entity_path(to, out, p->err);
	if (rc == -1)
		fail_here(p);
out:
	free(copy);
	free(area);
	return rc;
}

/* Baseline bookkeeping: value is what both sides now say. */
static void
baseline_put(struct planner *p, const struct es_entity *value, const char *rel,
    bool doc_written, bool doc_inserted, const char *why)
{
	struct es_op *op = op_add(p, ES_OP_BASELINE_PUT, ES_DIR_NONE);

	op->rel = dup_or_null(rel);
	op->value = entity_dup(value);
	stamp(p, op->value);
	op->value->meta.deleted = false;
	op->value->meta.deleted_at = 0;
	if (doc_inserted) {
		memset(&op->value->meta, 0, sizeof(op->value->meta));
		op->value->meta.created_at = op->value->meta.updated_at =
		    p->now_ms;
	} else {
		op->value->meta.updated_at = doc_written ? new_version(p) :
		    p->in->db_updated_at;
	}
	op_reason(op, "%s", why);
}

static void
baseline_forget(struct planner *p, const char *why)
{
	const struct es_plan_input *in = p->in;
	struct es_op *op = op_add(p, ES_OP_BASELINE_FORGET, ES_DIR_NONE);

	op->rel = dup_or_null(in->base_rel);
	op->value = entity_dup(in->base);
	/* The row is the baseline's: its id, whatever the document says. */
	if (!in->base->meta.has_id)
		stamp(p, op->value);
	op_reason(op, "%s", why);
}

/* A document op against the version the plan saw (SPEC 4.12). */
static struct es_op *
doc_op(struct planner *p, enum es_op_kind k, const struct es_entity *value,
    unsigned fields)
{
	const struct es_plan_input *in = p->in;
	struct es_op *op = op_add(p, k, ES_DIR_TO_DB);

	op->rel = dup_or_null(in->file_rel ? in->file_rel : in->base_rel);
	op->value = entity_dup(value);
	op->fields = fields;
	if (k == ES_OP_DOC_INSERT) {
		/* A new document: the applier picks its id. */
		memset(&op->value->meta, 0, sizeof(op->value->meta));
		op->value->meta.created_at = op->value->meta.updated_at =
		    p->now_ms;
		return op;
	}
	stamp(p, op->value);
	op->expect_updated_at = in->db_updated_at;
	op->value->meta.updated_at = new_version(p);
	if (k == ES_OP_DOC_DELETE) {
		op->value->meta.deleted = true;
		op->value->meta.deleted_at = p->now_ms;
	} else {
		op->value->meta.deleted = false;
		op->value->meta.deleted_at = 0;
	}
	return op;
}

/*
 * Brings the file from what it means now (cur, at cur_rel) to value: a move
 * when the path changes, a write when its bytes must (never a write for a
 * pure move: SPEC 4.8). With no cur the file is new: written whole at the
 * path hint_rel/hint give (the baseline's, when the file comes back), or at
 * es_layout_entity_path(value). *final gets the file's path afterwards.
 */
static int
to_file(struct planner *p, const char *cur_rel, const struct es_entity *cur,
    const char *hint_rel, const struct es_entity *hint,
    const struct es_entity *value, const char *why, struct es_buf *final)
{
	struct es_op *op;
	unsigned d;

	if (cur != NULL) {
		if (move_target(p, cur_rel, cur, value, final) == -1)
			return -1;
		d = es_entity_diff(cur, value);
		if (cur_rel != NULL && strcmp(final->buf, cur_rel) != 0) {
			op = op_add(p, ES_OP_FILE_MOVE, ES_DIR_TO_FILE);
			op->rel = es_xstrdup(final->buf);
			op->rel_from = es_xstrdup(cur_rel);
			op->fields = d & path_fields(p->in->kind);
			op->value = entity_dup(value);
			stamp(p, op->value);
			op_reason(op, "%s", why);
		}
		if ((d & ~PATH_ONLY) == 0)
			return 0;
		op = op_add(p, ES_OP_FILE_WRITE, ES_DIR_TO_FILE);
		op->fields = d & ~PATH_ONLY;
	} else {
		if (move_target(p, hint_rel, hint, value, final) == -1)
			return -1;
		op = op_add(p, ES_OP_FILE_WRITE, ES_DIR_TO_FILE);
		op->fields = ES_PLAN_F_ALL;
	}
	op->rel = es_xstrdup(final->buf);
	op->value = entity_dup(value);
	stamp(p, op->value);
	op_reason(op, "%s", why);
	return 0;
}

/*
 * SPEC §2: after a pass every file is named by its document's slug, so a
 * fresh clone pairs each file with one document. A file that stays where
 * it is but whose name is not the slug of what it now means (an import
 * gave it slug-2 for a clash and changes no file) is moved to its name.
 * *final gets the file's path afterwards.
 */
static int
follow_slug(struct planner *p, const char *rel, const struct es_entity *v,
    struct es_buf *final)
{
	char why[160];

	if (p->slug_taken != NULL)
		snprintf(why, sizeof(why), "slug '%s' is taken in the "
		    "database; the file takes '%s' (SPEC §2)", p->slug_taken,
		    v->slug ? v->slug : "");
	else
		snprintf(why, sizeof(why), "file name follows the slug '%s' "
		    "(SPEC §2)", v->slug ? v->slug : "");
	return to_file(p, rel, v, NULL, NULL, v, why, final);
}

static enum winner
policy_winner(const struct planner *p)
{
	switch (p->policy) {
	case ES_POLICY_FILE:
		return WIN_FILE;
	case ES_POLICY_DATABASE:
		return WIN_DB;
	case ES_POLICY_NEWEST:
	default:
		/* Ties go to the database (plan.h). */
		return p->in->file_mtime_ms > p->in->db_updated_at ?
		    WIN_FILE : WIN_DB;
	}
}

static const char *
policy_phrase(const struct planner *p)
{
	switch (p->policy) {
	case ES_POLICY_FILE:
		return "policy file";
	case ES_POLICY_DATABASE:
		return "policy database";
	case ES_POLICY_NEWEST:
	default:
		return "newest wins";
	}
}

/* The loser's whole version is kept, then said (SPEC 4.2). */
static void
keep_loser(struct planner *p, enum winner w, const char *what)
{
	const struct es_plan_input *in = p->in;
	struct es_op *op;

	if (w == WIN_DB) {
		op = op_add(p, ES_OP_KEEP_FILE_VERSION, ES_DIR_NONE);
		op->rel = dup_or_null(in->file_rel);
		op->value = entity_dup(in->file);
		stamp(p, op->value);
	} else {
		op = op_add(p, ES_OP_KEEP_DOC_VERSION, ES_DIR_NONE);
		op->rel = dup_or_null(in->file_rel);
		op->value = entity_dup(in->db);
	}
	op_reason(op, "%s: %s (%s), %s version kept", what, policy_phrase(p),
	    w == WIN_DB ? "database" : "file",
	    w == WIN_DB ? "file" : "database");
	op = op_add(p, ES_OP_REPORT, ES_DIR_NONE);
	op->rel = dup_or_null(in->file_rel);
	memcpy(op->reason, p->ops.ops[p->ops.n - 2].reason,
	    sizeof(op->reason));
}

/*
 * Applies the merged result r to both sides: the document gets the fields it
 * lacks, the file is moved/written where it lacks something, and the
 * baseline records r where the file ends up.
 */
static int
settle(struct planner *p, const struct es_entity *r, const char *why)
{
	const struct es_plan_input *in = p->in;
	struct es_buf final = ES_BUF_INIT;
	struct es_op *op;
	unsigned to_db = es_entity_diff(in->db, r);
	int rc = -1;

	if (to_db != 0) {
		op = doc_op(p, ES_OP_DOC_UPDATE, r, to_db);
		op_reason(op, "%s", why);
	}
	if (to_file(p, in->file_rel, in->file, NULL, NULL, r, why,
	    &final) == -1)
		goto out;
	baseline_put(p, r, final.buf, to_db != 0, false, why);
	rc = 0;
out:
	es_buf_release(&final);
	return rc;
}

/* SPEC 4.17: both sides present, no baseline: match by identity. */
static int
plan_identity(struct planner *p)
{
	const struct es_plan_input *in = p->in;
	unsigned d = es_entity_diff(in->file, in->db);
	enum winner w;
	char fs[128], what[160];

	if (d == 0) {
		struct es_buf final = ES_BUF_INIT;
		int rc = follow_slug(p, in->file_rel, in->file, &final);

		if (rc == 0)
			baseline_put(p, in->file, final.buf, false, false,
			    "matched by identity, same meaning (SPEC 4.17)");
		es_buf_release(&final);
		return rc;
	}
	/* No ancestor: every difference is a conflict for the policy. */
	w = policy_winner(p);
	snprintf(what, sizeof(what), "no baseline, sides differ on %s",
	    es__plan_fields_quoted(d, fs, sizeof(fs)));
	keep_loser(p, w, what);
	return settle(p, w == WIN_FILE ? in->file : in->db, what);
}

static int
plan_no_base(struct planner *p)
{
	const struct es_plan_input *in = p->in;
	struct es_buf final = ES_BUF_INIT;
	struct es_op *op;
	int rc = -1;

	if (in->file != NULL && in->db != NULL && !in->db->meta.deleted) {
		rc = plan_identity(p);
	} else if (in->file != NULL && in->db != NULL) {
		/* Matched a soft-deleted document: deletes nothing (4.17). */
		unsigned d = es_entity_diff(in->db, in->file);

		if (d != 0) {
			op = op_add(p, ES_OP_KEEP_DOC_VERSION, ES_DIR_NONE);
			op->rel = dup_or_null(in->file_rel);
			op->value = entity_dup(in->db);
			op_reason(op, "deleted document differs from the file, "
			    "database version kept");
		}
		static const char why[] = "no baseline, file matches a "
		    "deleted document: undeleted (SPEC 4.17)";

		op = doc_op(p, ES_OP_DOC_UNDELETE, in->file,
		    d | ES_DOC_F_DELETED);
		op_reason(op, "%s", why);
		if (follow_slug(p, in->file_rel, in->file, &final) == -1)
			goto out;
		baseline_put(p, in->file, final.buf, true, false, why);
		rc = 0;
	} else if (in->file != NULL) {
		op = doc_op(p, ES_OP_DOC_INSERT, in->file, ES_PLAN_F_ALL);
		op_reason(op, "new file (SPEC 4.4)");
		if (follow_slug(p, in->file_rel, in->file, &final) == -1)
			goto out;
		baseline_put(p, in->file, final.buf, true, true,
		    "new file (SPEC 4.4)");
		rc = 0;
	} else if (in->db != NULL && !in->db->meta.deleted) {
		if (to_file(p, NULL, NULL, NULL, NULL, in->db,
		    "new document (SPEC 4.4)", &final) == -1)
			goto out;
		baseline_put(p, in->db, final.buf, false, false,
		    "new document (SPEC 4.4)");
		rc = 0;
	} else {
		rc = 0;		/* nothing on either side that lives */
	}
out:
	es_buf_release(&final);
	return rc;
}

/* Both sides changed since the baseline: merge by field (SPEC 4.3). */
static int
plan_merge(struct planner *p)
{
	const struct es_plan_input *in = p->in;
	const struct es_entity *b = in->base, *f = in->file, *d = in->db;
	unsigned fb = es_entity_diff(b, f), db = es_entity_diff(b, d);
	unsigned differ = es_entity_diff(f, d), conflicts = 0;
	struct es_entity r;
	struct es_buf why = ES_BUF_INIT, merged = ES_BUF_INIT;
	enum winner w = WIN_DB;
	int rc;

	es_entity_copy(&r, b);
	for (size_t i = 0; i < es__plan_nfields; i++) {
		unsigned bit = es__plan_fields[i].bit;
		const char *from;

		if ((bit & ES_PLAN_F_ALL) == 0 || ((fb | db) & bit) == 0)
			continue;
		if ((fb & bit) && !(db & bit)) {
			field_take(&r, f, bit);
			from = "file";
		} else if ((db & bit) && !(fb & bit)) {
			field_take(&r, d, bit);
			from = "database";
		} else if (!(differ & bit)) {
			field_take(&r, f, bit);
			from = "both";
		} else if (bit == ES_F_CONTENT && es_merge3(b->content,
		    b->content_len, f->content, f->content_len, d->content,
		    d->content_len, &merged) == 0) {
			es_entity_set_content(&r, merged.buf, merged.len);
			from = "merged";
		} else {
			conflicts |= bit;
			continue;	/* decided below, by the policy */
		}
		es_buf_addf(&why, "%s%s (%s)", why.len ? ", " : "",
		    es__plan_fields[i].name, from);
	}
	if (conflicts != 0) {
		char fs[128], what[160];

		w = policy_winner(p);
		for (size_t i = 0; i < es__plan_nfields; i++)
			if (conflicts & es__plan_fields[i].bit)
				field_take(&r, w == WIN_FILE ? f : d,
				    es__plan_fields[i].bit);
		snprintf(what, sizeof(what), "conflict on %s",
		    es__plan_fields_quoted(conflicts, fs, sizeof(fs)));
		keep_loser(p, w, what);
		es_buf_addf(&why, "%s%s (conflict: %s)", why.len ? ", " : "",
		    es__plan_fields_str(conflicts, fs, sizeof(fs)),
		    w == WIN_FILE ? "file" : "database");
	}
	{
		struct es_buf reason = ES_BUF_INIT;

		if (es_entity_diff(f, d) == 0)
			es_buf_addf(&reason, "both made the same change: %s",
			    why.buf);
		else
			es_buf_addf(&reason, "both changed, merged: %s",
			    why.buf);
		rc = settle(p, &r, reason.buf);
		es_buf_release(&reason);
	}
	es_entity_release(&r);
	es_buf_release(&why);
	es_buf_release(&merged);
	return rc;
}

static enum side
side_of(const struct es_entity *base, const struct es_entity *e,
    bool deleted)
{
	if (e == NULL || deleted)
		return SIDE_DELETED;
	if (base != NULL && es_entity_diff(base, e) == 0)
		return SIDE_UNCHANGED;
	return SIDE_CHANGED;
}

static int
plan_with_base(struct planner *p)
{
	const struct es_plan_input *in = p->in;
	enum side fs = side_of(in->base, in->file, false);
	enum side ds = side_of(in->base, in->db,
	    in->db != NULL && in->db->meta.deleted);
	struct es_buf final = ES_BUF_INIT;
	struct es_op *op;
	char names[128], why[512];
	unsigned d;
	int rc = -1;

	switch (fs * 3 + ds) {
	case SIDE_UNCHANGED * 3 + SIDE_UNCHANGED:
		/* Nothing, unless the file moved without a change of meaning
		 * (the baseline then learns its new place) or is not named
		 * by its slug. */
		if (in->file_rel == NULL)
			break;
		if (follow_slug(p, in->file_rel, in->file, &final) == -1)
			goto out;
		if (in->base_rel == NULL || strcmp(final.buf,
		    in->base_rel) != 0)
			baseline_put(p, in->file, final.buf, false, false,
			    strcmp(final.buf, in->file_rel) != 0 ?
			    "file renamed to its slug" :
			    "file moved, same meaning");
		break;
	case SIDE_CHANGED * 3 + SIDE_UNCHANGED:
		d = es_entity_diff(in->db, in->file);
		snprintf(why, sizeof(why), "file changed: %s",
		    es__plan_fields_str(d, names, sizeof(names)));
		op = doc_op(p, ES_OP_DOC_UPDATE, in->file, d);
		op_reason(op, "%s", why);
		if (follow_slug(p, in->file_rel, in->file, &final) == -1)
			goto out;
		baseline_put(p, in->file, final.buf, true, false, why);
		break;
	case SIDE_UNCHANGED * 3 + SIDE_CHANGED:
		d = es_entity_diff(in->file, in->db);
		snprintf(why, sizeof(why), "database changed: %s",
		    es__plan_fields_str(d, names, sizeof(names)));
		if (to_file(p, in->file_rel, in->file, NULL, NULL, in->db, why,
		    &final) == -1)
			goto out;
		baseline_put(p, in->db, final.buf, false, false, why);
		break;
	case SIDE_CHANGED * 3 + SIDE_CHANGED:
		if (plan_merge(p) == -1)
			goto out;
		break;
	case SIDE_DELETED * 3 + SIDE_UNCHANGED:
		op = doc_op(p, ES_OP_DOC_DELETE, in->db, ES_DOC_F_DELETED);
		op_reason(op, "deleted in the folder (SPEC 4.5)");
		baseline_forget(p, "deleted in the folder (SPEC 4.5)");
		break;
	case SIDE_UNCHANGED * 3 + SIDE_DELETED:
		op = op_add(p, ES_OP_FILE_TRASH, ES_DIR_TO_FILE);
		op->rel = dup_or_null(in->file_rel);
		op->value = entity_dup(in->file);
		stamp(p, op->value);
		snprintf(why, sizeof(why), "%s in the database (SPEC 4.5)",
		    in->db != NULL ? "deleted" : "vanished");
		op_reason(op, "%s", why);
		baseline_forget(p, why);
		break;
	case SIDE_DELETED * 3 + SIDE_CHANGED:
		d = es_entity_diff(in->base, in->db);
		snprintf(why, sizeof(why), "edit wins over delete (SPEC 4.5): "
		    "deleted in the folder, database changed %s, file comes "
		    "back", es__plan_fields_str(d, names, sizeof(names)));
		if (to_file(p, NULL, NULL, in->base_rel, in->base, in->db, why,
		    &final) == -1)
			goto out;
		baseline_put(p, in->db, final.buf, false, false, why);
		break;
	case SIDE_CHANGED * 3 + SIDE_DELETED:
		d = es_entity_diff(in->base, in->file);
		snprintf(why, sizeof(why), "edit wins over delete (SPEC 4.5): "
		    "%s in the database, file changed %s",
		    in->db != NULL ? "deleted" : "vanished",
		    es__plan_fields_str(d, names, sizeof(names)));
		if (in->db != NULL) {
			/* The document changed before it was deleted: its
			 * version is kept too, so no edit is lost (4.2). */
			if (es_entity_diff(in->base, in->db) != 0) {
				op = op_add(p, ES_OP_KEEP_DOC_VERSION,
				    ES_DIR_NONE);
				op->rel = dup_or_null(in->file_rel);
				op->value = entity_dup(in->db);
				op_reason(op, "the deleted document had "
				    "changes of its own, database version "
				    "kept");
			}
			op = doc_op(p, ES_OP_DOC_UNDELETE, in->file,
			    es_entity_diff(in->db, in->file) |
			    ES_DOC_F_DELETED);
			op_reason(op, "%s", why);
			if (follow_slug(p, in->file_rel, in->file,
			    &final) == -1)
				goto out;
			baseline_put(p, in->file, final.buf, true, false,
			    why);
		} else {
			op = doc_op(p, ES_OP_DOC_INSERT, in->file,
			    ES_PLAN_F_ALL);
			op_reason(op, "%s", why);
			if (follow_slug(p, in->file_rel, in->file,
			    &final) == -1)
				goto out;
			baseline_forget(p, why);
			baseline_put(p, in->file, final.buf, true, true,
			    why);
		}
		break;
	case SIDE_DELETED * 3 + SIDE_DELETED:
		baseline_forget(p, "deleted on both sides");
		break;
	}
	rc = 0;
out:
	es_buf_release(&final);
	return rc;
}

int
es__plan_decide(const struct es_plan_input *in, enum es_policy policy,
    int64_t now_ms, const char *slug_taken, struct es_plan *out,
    struct es_error *err)
{
	struct planner p;
	struct es_op *op;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.in = in;
	p.policy = policy;
	p.now_ms = now_ms;
	p.err = err;
	p.slug_taken = slug_taken;
	p.ops = *out;

	if (in->kind != ES_KIND_PROJECT && in->kind != ES_KIND_GOAL) {
		es_error_set(err, ES_EPARSE, NULL, 0,
		    "not a project or goal: actions are planned by line");
		fail_here(&p);
		goto out;
	}
	if (in->file_broken || in->db_broken) {
		/* SPEC 4.10: the unreadable side may hold the only copy of an
		 * edit, so neither side is touched until it reads again. */
		op = op_add(&p, ES_OP_REPORT, ES_DIR_NONE);
		op->rel = dup_or_null(in->file_rel ? in->file_rel :
		    in->base_rel);
		op_reason(op, "%s, entity left alone",
		    in->file_broken && in->db_broken ?
		    "neither the file parses nor the document decodes" :
		    in->file_broken ?
		    "the file cannot be read or does not parse" :
		    "the document does not decode");
		rc = 0;
	} else if (in->base == NULL) {
		rc = plan_no_base(&p);
	} else {
		rc = plan_with_base(&p);
	}
out:
	*out = p.ops;
	return rc;
}
