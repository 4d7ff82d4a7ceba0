/*
 * The plan itself (plan.h), apart from the decisions that fill it (plan.c):
 * its list of operations (init, release, splice, count) and the names of
 * the fields an operation carries, as reasons and --dry-run list them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/doc.h"
#include "execsync/plan.h"
#include "execsync/xmalloc.h"

#include "plan-internal.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const struct es__plan_field es__plan_fields[] = {
	{ ES_F_TITLE, "title" },
	{ ES_F_SLUG, "slug" },
	{ ES_F_AREA, "area" },
	{ ES_F_FOLDER, "folder" },
	{ ES_F_TYPE, "type" },
	{ ES_F_CREATED, "created" },
	{ ES_F_STARTED, "started" },
	{ ES_F_LAST_REVIEWED, "last_reviewed" },
	{ ES_F_DUE, "due" },
	{ ES_F_COMPLETED, "completed" },
	{ ES_F_DESCOPED, "descoped" },
	{ ES_F_CONTENT, "content" },
	{ ES_F_EXTRA, "extra" },
	{ ES_F_TEXT, "text" },
	{ ES_F_CONTEXT, "context" },
	{ ES_F_PROJECT, "project_slug" },
	{ ES_F_STATE, "state" },
	{ ES_F_DEFER, "defer" },
	{ ES_F_ACTION_DATE, "action_date" },
	{ ES_F_PRIORITY, "priority" },
	{ ES_DOC_F_DELETED, "deleted" },
};

const size_t es__plan_nfields = NELEM(es__plan_fields);

const char *
es__plan_field_name(size_t i, unsigned *bit)
{
	if (i >= NELEM(es__plan_fields))
		return NULL;
	*bit = es__plan_fields[i].bit;
	return es__plan_fields[i].name;
}

void
es_plan_init(struct es_plan *p)
{
	p->ops = NULL;
	p->n = p->alloc = 0;
}

static void
op_release(struct es_op *op)
{
	free(op->rel);
	free(op->rel_from);
	if (op->value != NULL) {
		es_entity_release(op->value);
		free(op->value);
	}
	if (op->action != NULL) {
		es_action_release(op->action);
		free(op->action);
	}
	memset(op, 0, sizeof(*op));
}

void
es_plan_release(struct es_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		op_release(&p->ops[i]);
	free(p->ops);
	es_plan_init(p);
}

/* Moves every op of src to the end of dst; src is left empty. */
void
es__plan_splice(struct es_plan *dst, struct es_plan *src)
{
	if (src->n == 0)
		return;
	if (dst->n + src->n > dst->alloc) {
		size_t want = dst->alloc ? dst->alloc * 2 : 8;

		while (want < dst->n + src->n)
			want *= 2;
		dst->ops = es_xreallocarray(dst->ops, want, sizeof(*dst->ops));
		dst->alloc = want;
	}
	memcpy(dst->ops + dst->n, src->ops, src->n * sizeof(*src->ops));
	dst->n += src->n;
	free(src->ops);
	es_plan_init(src);
}

void
es_plan_fields_format(unsigned fields, struct es_buf *out)
{
	bool first = true;

	for (size_t i = 0; i < NELEM(es__plan_fields); i++) {
		if ((fields & es__plan_fields[i].bit) == 0)
			continue;
		if (!first)
			es_buf_addstr(out, ", ");
		es_buf_addstr(out, es__plan_fields[i].name);
		first = false;
	}
}

/* "title, due" into a small fixed buffer, for reasons. */
const char *
es__plan_fields_str(unsigned fields, char *buf, size_t size)
{
	struct es_buf b = ES_BUF_INIT;

	es_plan_fields_format(fields, &b);
	snprintf(buf, size, "%s", b.buf);
	es_buf_release(&b);
	return buf;
}

/* "'content', 'due'" for conflict reports. */
const char *
es__plan_fields_quoted(unsigned fields, char *buf, size_t size)
{
	struct es_buf b = ES_BUF_INIT;

	for (size_t i = 0; i < NELEM(es__plan_fields); i++) {
		if ((fields & es__plan_fields[i].bit) == 0)
			continue;
		es_buf_addf(&b, "%s'%s'", b.len ? ", " : "",
		    es__plan_fields[i].name);
	}
	snprintf(buf, size, "%s", b.buf);
	es_buf_release(&b);
	return buf;
}


void
es_plan_count(const struct es_plan *p, enum es_kind k, size_t *deletes,
    size_t *trashes)
{
	size_t nd = 0, nt = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (p->ops[i].kind != k)
			continue;
		if (p->ops[i].op == ES_OP_DOC_DELETE)
			nd++;
		else if (p->ops[i].op == ES_OP_FILE_TRASH)
			nt++;
	}
	if (deletes != NULL)
		*deletes = nd;
	if (trashes != NULL)
		*trashes = nt;
}
