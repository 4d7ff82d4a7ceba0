/* Hash to small ids: see hmap.h. */
#include <stdlib.h>

#include "execsync/xmalloc.h"

#include "hmap.h"

static void
hmap_alloc(struct es_hmap *m, size_t cap)
{
	m->slots = es_xreallocarray(NULL, cap, sizeof(*m->slots));
	for (size_t i = 0; i < cap; i++)
		m->slots[i].id = ES_HMAP_NONE;
	m->cap = cap;
	m->n = 0;
}

void
es__hmap_init(struct es_hmap *m, size_t hint)
{
	size_t cap = 16;

	while (cap / 2 < hint && cap < SIZE_MAX / 4)
		cap *= 2;
	hmap_alloc(m, cap);
}

void
es__hmap_release(struct es_hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static void
hmap_grow(struct es_hmap *m)
{
	struct es_hslot *old = m->slots;
	size_t ocap = m->cap, n = m->n;

	hmap_alloc(m, ocap * 2);
	for (size_t i = 0; i < ocap; i++) {
		size_t j;

		if (old[i].id == ES_HMAP_NONE)
			continue;
		j = (size_t)old[i].h & (m->cap - 1);
		while (m->slots[j].id != ES_HMAP_NONE)
			j = (j + 1) & (m->cap - 1);
		m->slots[j] = old[i];
	}
	m->n = n;
	free(old);
}

size_t
es__hmap_intern(struct es_hmap *m, uint64_t h, es_hmap_eq eq, const void *key,
    size_t next)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		hmap_grow(m);
	for (i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct es_hslot *s = &m->slots[i];

		if (s->id == ES_HMAP_NONE) {
			s->h = h;
			s->id = next;
			m->n++;
			return next;
		}
		if (s->h == h && eq(key, s->id))
			return s->id;
	}
}

size_t
es__hmap_find(const struct es_hmap *m, uint64_t h, es_hmap_eq eq,
    const void *key)
{
	if (m->cap == 0)
		return ES_HMAP_NONE;
	for (size_t i = (size_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct es_hslot *s = &m->slots[i];

		if (s->id == ES_HMAP_NONE)
			return ES_HMAP_NONE;
		if (s->h == h && eq(key, s->id))
			return s->id;
	}
}
