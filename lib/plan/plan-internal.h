/*
 * Lib-internal: what the pieces of the plan share: plan.c (the decisions),
 * plan-entity.c (around them), plan-list.c (the list and the field names)
 * and plan-describe.c.
 */
#ifndef EXECSYNC_PLAN_INTERNAL_H
#define EXECSYNC_PLAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "execsync/plan.h"

/* The fields an operation carries, in the order reasons name them. */
struct es__plan_field {
	unsigned	 bit;
	const char	*name;
};

extern const struct es__plan_field es__plan_fields[];
extern const size_t es__plan_nfields;

/* The i-th field's name and bit (enum es_field), or NULL past the last. */
const char	*es__plan_field_name(size_t i, unsigned *bit);

/*
 * One decision of plan.c: in's ops appended to out (an initialised plan),
 * as es_plan_entity() without what it does around it (plan-entity.c).
 * slug_taken: the slug the file asked for, held by another document (the
 * reason of the rename then names it), else NULL.
 */
int		 es__plan_decide(const struct es_plan_input *in,
		    enum es_policy policy, int64_t now_ms,
		    const char *slug_taken, struct es_plan *out,
		    struct es_error *err);

/* Moves every op of src to the end of dst; src is left empty. */
void		 es__plan_splice(struct es_plan *dst, struct es_plan *src);

/* "title, due" into a small fixed buffer, for reasons. */
const char	*es__plan_fields_str(unsigned fields, char *buf, size_t size);

/* "'content', 'due'" for conflict reports. */
const char	*es__plan_fields_quoted(unsigned fields, char *buf,
		    size_t size);

#endif
