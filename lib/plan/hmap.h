/*
 * Lib-internal (plan/): open addressing from a 64-bit hash to small ids,
 * for the line matcher's interning (line classes, words, list names).
 * Keys live with the caller; eq() tells whether id's key is the one
 * looked up, so a hash collision costs a comparison, never a wrong answer.
 */
#ifndef EXECSYNC_HMAP_H
#define EXECSYNC_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ES_HMAP_NONE	SIZE_MAX

struct es_hslot {
	uint64_t	 h;
	size_t		 id;		/* ES_HMAP_NONE: empty */
};

struct es_hmap {
	struct es_hslot	*slots;
	size_t		 cap, n;
};

typedef bool (*es_hmap_eq)(const void *key, size_t id);

/* An empty map sized for about hint ids. */
void	es__hmap_init(struct es_hmap *m, size_t hint);
void	es__hmap_release(struct es_hmap *m);
/* The id of key (hash h); when absent, next is stored and returned. */
size_t	es__hmap_intern(struct es_hmap *m, uint64_t h, es_hmap_eq eq,
	    const void *key, size_t next);
/* The id of key (hash h), or ES_HMAP_NONE: adds nothing. */
size_t	es__hmap_find(const struct es_hmap *m, uint64_t h, es_hmap_eq eq,
	    const void *key);

#endif
