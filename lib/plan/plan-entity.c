/*
 * es_plan_entity() (plan.h): what is done around one decision of
 * plan.c (es__plan_decide()). The input as the decision reads it (a file
 * at its baseline path keeps the baseline's slug), and a slug the
 * collection holds for another document given up for a free one (SPEC
 * §2, 4.4) before the ops reach the caller's plan.
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/plan.h"
#include "execsync/rules.h"
#include "execsync/xmalloc.h"

#include "plan-internal.h"

/*
 * One decision of the entity into out (an initialised plan); taken: the
 * slug its file asked for when another document holds it (in->file then
 * carries the free one).
 */
static int
plan_once(const struct es_plan_input *in, enum es_policy policy,
    int64_t now_ms, const char *taken, struct es_plan *out,
    struct es_error *err)
{
	struct es_plan_input kept;
	struct es_entity named;

	/*
	 * A file still at its baseline path was not renamed, so its name
	 * says nothing new about the slug: the baseline's slug stands (an
	 * import that gave it slug-2 for a clash left the file's name alone;
	 * the decision renames the file to its slug). Unless that slug is
	 * taken: then the file asks for the free one.
	 */
	if (taken == NULL && in->base != NULL && in->file != NULL &&
	    in->base_rel != NULL &&
	    in->file_rel != NULL && strcmp(in->base_rel, in->file_rel) == 0 &&
	    in->base->slug != NULL && (in->file->slug == NULL ||
	    strcmp(in->base->slug, in->file->slug) != 0)) {
		named = *in->file;	/* shallow: only slug differs */
		named.slug = in->base->slug;
		kept = *in;
		kept.file = &named;
		in = &kept;
	}
	return es__plan_decide(in, policy, now_ms, taken, out, err);
}

/* The slug ops write to the document, or NULL: none changes it. */
static const char *
slug_written(const struct es_plan *ops)
{
	for (size_t i = 0; i < ops->n; i++) {
		const struct es_op *op = &ops->ops[i];

		if (op->value != NULL && (op->op == ES_OP_DOC_INSERT ||
		    ((op->op == ES_OP_DOC_UPDATE ||
		    op->op == ES_OP_DOC_UNDELETE) && (op->fields & ES_F_SLUG))))
			return op->value->slug;
	}
	return NULL;
}

/*
 * SPEC §2, 4.4: ops that write a slug another document holds (the
 * unique index refuses it) are decided again with the file asking for
 * the first free slug-N, so the plan renames the file and a dry run
 * shows it (SPEC 4.9). Kept only when the new decision writes that slug
 * or none; else the first stands and the server's refusal decides at
 * apply time.
 */
static void
plan_free_slug(const struct es_plan_input *in, enum es_policy policy,
    int64_t now_ms, struct es_plan *ops, struct es_error *err)
{
	const char *want = slug_written(ops), *got, *again;
	struct es_plan_input asked;
	struct es_entity named;
	struct es_plan alt = ES_PLAN_INIT;
	char *taken;

	if (want == NULL || in->slugs == NULL || in->file == NULL)
		return;
	got = es_slug_claims_take(in->slugs, in->kind, want, in->slug_owner);
	if (strcmp(got, want) == 0)
		return;
	taken = es_xstrdup(want);
	named = *in->file;	/* shallow: only slug differs */
	named.slug = (char *)got;
	asked = *in;
	asked.file = &named;
	if (plan_once(&asked, policy, now_ms, taken, &alt, err) == 0 &&
	    ((again = slug_written(&alt)) == NULL ||
	    strcmp(again, got) == 0)) {
		es_plan_release(ops);
		*ops = alt;
	} else {
		es_plan_release(&alt);
	}
	free(taken);
}

int
es_plan_entity(const struct es_plan_input *in, enum es_policy policy,
    int64_t now_ms, struct es_plan *plan, struct es_error *err)
{
	struct es_plan ops = ES_PLAN_INIT;
	int rc;

	rc = plan_once(in, policy, now_ms, NULL, &ops, err);
	if (rc == 0) {
		plan_free_slug(in, policy, now_ms, &ops, err);
		es__plan_splice(plan, &ops);
	}
	es_plan_release(&ops);
	return rc;
}
