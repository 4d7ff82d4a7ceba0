/*
 * Lib-internal: what the pieces of the plan share: plan.c (the decisions),
 * plan-list.c (the list and the field names) and plan-describe.c.
 */
#ifndef EXECSYNC_PLAN_INTERNAL_H
#define EXECSYNC_PLAN_INTERNAL_H

#include <stddef.h>

struct es_plan;

/* The fields an operation carries, in the order reasons name them. */
struct es__plan_field {
	unsigned	 bit;
	const char	*name;
};

extern const struct es__plan_field es__plan_fields[];
extern const size_t es__plan_nfields;

/* The i-th field's name and bit (enum es_field), or NULL past the last. */
const char	*es__plan_field_name(size_t i, unsigned *bit);

/* Moves every op of src to the end of dst; src is left empty. */
void		 es__plan_splice(struct es_plan *dst, struct es_plan *src);

/* "title, due" into a small fixed buffer, for reasons. */
const char	*es__plan_fields_str(unsigned fields, char *buf, size_t size);

/* "'content', 'due'" for conflict reports. */
const char	*es__plan_fields_quoted(unsigned fields, char *buf,
		    size_t size);

#endif
