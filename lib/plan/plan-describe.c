/*
 * A plan described for people and for scripts (plan.h): the one line per
 * operation that --dry-run prints, and the JSON object per operation of
 * --json (SPEC §1: direction, op, kind, id, path, from). The decisions
 * themselves are plan.c's and plan-action.c's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "execsync/buf.h"
#include "execsync/plan.h"

#include "plan-internal.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const op_names[] = {
	[ES_OP_DOC_INSERT] = "insert",
	[ES_OP_DOC_UPDATE] = "update",
	[ES_OP_DOC_DELETE] = "delete",
	[ES_OP_DOC_UNDELETE] = "undelete",
	[ES_OP_FILE_WRITE] = "write",
	[ES_OP_FILE_MOVE] = "move",
	[ES_OP_FILE_TRASH] = "trash",
	[ES_OP_KEEP_FILE_VERSION] = "keep-file-version",
	[ES_OP_KEEP_DOC_VERSION] = "keep-doc-version",
	[ES_OP_BASELINE_PUT] = "baseline",
	[ES_OP_BASELINE_FORGET] = "forget",
	[ES_OP_REPORT] = "report",
};

const char *
es_op_kind_name(enum es_op_kind k)
{
	return (size_t)k < NELEM(op_names) && op_names[k] ? op_names[k] : "?";
}

const char *
es_direction_name(enum es_direction d)
{
	switch (d) {
	case ES_DIR_TO_DB:
		return "file->db";
	case ES_DIR_TO_FILE:
		return "db->file";
	case ES_DIR_NONE:
	default:
		return "-";
	}
}

static const char *
kind_name(enum es_kind k)
{
	switch (k) {
	case ES_KIND_PROJECT:
		return "project";
	case ES_KIND_GOAL:
		return "goal";
	case ES_KIND_ACTION:
		return "action";
	}
	return "?";
}

/* Paths are user data: control bytes become \xNN so no line is forged. */
static void
add_escaped(struct es_buf *out, const char *s, bool ascii_only)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f || *c == '\\' ||
		    (ascii_only && *c >= 0x80))
			es_buf_addf(out, "\\x%02x", *c);
		else
			es_buf_addch(out, *c);
	}
}

/* The document id an op carries, or NULL. */
static const bson_oid_t *
op_id(const struct es_op *op)
{
	if (op->value != NULL && op->value->meta.has_id)
		return &op->value->meta.id;
	if (op->action != NULL && op->action->meta.has_id)
		return &op->action->meta.id;
	return NULL;
}

void
es_op_describe(const struct es_op *op, struct es_buf *out)
{
	const bson_oid_t *id = op_id(op);
	char hex[25];

	es_buf_addf(out, "%s %s %s", es_direction_name(op->dir),
	    es_op_kind_name(op->op), kind_name(op->kind));
	if (op->rel != NULL) {
		es_buf_addch(out, ' ');
		add_escaped(out, op->rel, false);
	}
	if (op->rel_from != NULL) {
		es_buf_addstr(out, " from ");
		add_escaped(out, op->rel_from, false);
	}
	if (id != NULL) {
		bson_oid_to_string(id, hex);
		es_buf_addf(out, " id %s", hex);
	}
	if (op->fields != 0 && (op->op == ES_OP_DOC_UPDATE ||
	    op->op == ES_OP_DOC_UNDELETE || op->op == ES_OP_FILE_WRITE ||
	    op->op == ES_OP_FILE_MOVE) && op->fields != ES_PLAN_F_ALL) {
		es_buf_addstr(out, " fields ");
		es_plan_fields_format(op->fields, out);
	}
	es_buf_addstr(out, ": ");
	add_escaped(out, op->reason, false);
}

/* jansson wants UTF-8: a string that is not is given in \xNN form. */
static void
json_set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v;

	if (s == NULL)
		return;
	if ((v = json_string(s)) == NULL) {
		struct es_buf b = ES_BUF_INIT;

		add_escaped(&b, s, true);
		v = json_string(b.buf);
		es_buf_release(&b);
	}
	if (v != NULL)
		json_object_set_new(obj, key, v);
}

json_t *
es_op_json(const struct es_op *op)
{
	json_t *o = json_object(), *fields;
	const bson_oid_t *id = op_id(op);
	char hex[25] = "";

	if (o == NULL)
		return NULL;
	json_set_str(o, "op", es_op_kind_name(op->op));
	json_set_str(o, "direction", es_direction_name(op->dir));
	json_set_str(o, "kind", kind_name(op->kind));
	json_set_str(o, "path", op->rel);
	json_set_str(o, "from", op->rel_from);
	if (id != NULL)
		bson_oid_to_string(id, hex);
	json_set_str(o, "id", hex);
	if (op->fields != 0 && (fields = json_array()) != NULL) {
		const char *name;
		unsigned bit;

		for (size_t i = 0; (name = es__plan_field_name(i, &bit)) !=
		    NULL; i++)
			if (op->fields & bit)
				json_array_append_new(fields,
				    json_string(name));
		json_object_set_new(o, "fields", fields);
	}
	if (op->op == ES_OP_DOC_UPDATE || op->op == ES_OP_DOC_DELETE ||
	    op->op == ES_OP_DOC_UNDELETE)
		json_object_set_new(o, "expect_updated_at",
		    json_integer(op->expect_updated_at));
	json_set_str(o, "reason", op->reason);
	return o;
}

json_t *
es_plan_json(const struct es_plan *p)
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < p->n; i++) {
		json_t *o = es_op_json(&p->ops[i]);

		if (o != NULL)
			json_array_append_new(a, o);
	}
	return a;
}

bool
es_op_is_bookkeeping(enum es_op_kind k)
{
	return k == ES_OP_BASELINE_PUT || k == ES_OP_BASELINE_FORGET;
}

void
es_plan_tally(const struct es_plan *p, size_t *applied, size_t *to_db,
    size_t *to_file)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct es_op *op = &p->ops[i];

		if ((size_t)op->op <= ES_OP_REPORT)
			applied[op->op]++;
		if (op->dir == ES_DIR_TO_DB)
			(*to_db)++;
		else if (op->dir == ES_DIR_TO_FILE)
			(*to_file)++;
	}
}

static const char *
kind_plural(enum es_kind k, size_t n)
{
	switch (k) {
	case ES_KIND_PROJECT:
		return n == 1 ? "project" : "projects";
	case ES_KIND_GOAL:
		return n == 1 ? "goal" : "goals";
	case ES_KIND_ACTION:
		return n == 1 ? "action" : "actions";
	}
	return "?";
}

void
es_plan_summary(const struct es_plan *p, bool verbose, struct es_buf *out)
{
	static const enum es_direction dirs[] = { ES_DIR_TO_DB,
	    ES_DIR_TO_FILE, ES_DIR_NONE };
	static const enum es_kind kinds[] = { ES_KIND_PROJECT, ES_KIND_GOAL,
	    ES_KIND_ACTION };
	size_t books = 0;

	for (size_t i = 0; i < p->n; i++)
		if (es_op_is_bookkeeping(p->ops[i].op))
			books++;
	/* Nothing to do prints nothing, as the plan's lines are none. */
	if (p->n == books && (books == 0 || !verbose))
		return;
	es_buf_addf(out, "would change: %zu operation%s\n", p->n - books,
	    p->n - books == 1 ? "" : "s");
	for (size_t d = 0; d < NELEM(dirs); d++)
		for (int k = 0; k <= ES_OP_REPORT; k++) {
			size_t n[3] = { 0, 0, 0 };
			bool any = false, first = true;

			if (es_op_is_bookkeeping((enum es_op_kind)k))
				continue;
			for (size_t i = 0; i < p->n; i++) {
				const struct es_op *op = &p->ops[i];

				if (op->dir != dirs[d] || (int)op->op != k)
					continue;
				for (size_t j = 0; j < NELEM(kinds); j++)
					if (op->kind == kinds[j]) {
						n[j]++;
						any = true;
					}
			}
			if (!any)
				continue;
			es_buf_addf(out, "  %-8s %-17s", es_direction_name(
			    dirs[d]), es_op_kind_name((enum es_op_kind)k));
			for (size_t j = 0; j < NELEM(kinds); j++) {
				if (n[j] == 0)
					continue;
				es_buf_addf(out, "%s%zu %s", first ? " " : ", ",
				    n[j], kind_plural(kinds[j], n[j]));
				first = false;
			}
			es_buf_addch(out, '\n');
		}
	if (books > 0)
		es_buf_addf(out, "  %-26s %zu%s\n", "bookkeeping", books,
		    verbose ? "" : " (listed with --verbose)");
}
