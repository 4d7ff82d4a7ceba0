/*
 * Lib-internal: what plan.c shares with plan-describe.c.
 */
#ifndef EXECSYNC_PLAN_INTERNAL_H
#define EXECSYNC_PLAN_INTERNAL_H

#include <stddef.h>

/* The i-th field's name and bit (enum es_field), or NULL past the last. */
const char	*es__plan_field_name(size_t i, unsigned *bit);

#endif
