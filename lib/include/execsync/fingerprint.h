/*
 * Content fingerprints (XXH3, 64 bits). Two kinds:
 *  - raw: of a file's bytes, to tell whether a file changed at all;
 *  - meaning: of an entity's or action's fields (meta excluded), so a file
 *    that was reformatted but means the same, or a document the API rewrote
 *    with equal values, is known to be equal.
 * Stable across runs and machines (XXH3 is stable since xxHash 0.8.0): they
 * are stored in the baseline.
 */
#ifndef EXECSYNC_FINGERPRINT_H
#define EXECSYNC_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "execsync/entity.h"

typedef uint64_t es_fp_t;

es_fp_t	es_fp_bytes(const void *p, size_t len);
es_fp_t	es_entity_fingerprint(const struct es_entity *e);
es_fp_t	es_action_fingerprint(const struct es_action *a);
/* 16 lower-case hex digits and a NUL. */
void	es_fp_hex(es_fp_t fp, char out[17]);

#endif
