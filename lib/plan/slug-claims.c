/*
 * SPEC §2, 4.4: which slug a pass's document write may carry, so the
 * plan, not the server's refusal, decides a "slug-2" (see rules.h).
 * One record per (kind, slug) seen: the documents holding it, the owner
 * that took it in this pass, whether a file is named so.
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/fingerprint.h"
#include "execsync/rules.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#include "hmap.h"

#define NONE	SIZE_MAX

struct es__slug_rec {
	enum es_kind	 kind;
	char		*slug;
	size_t		 holder;	/* a document's owner, when nholders */
	size_t		 nholders;
	size_t		 taker;		/* NONE: nobody took it */
	bool		 file;
};

struct es__slug_map {
	struct es_hmap	 m;
};

struct lookup {
	const struct es_slug_claims	*c;
	enum es_kind			 kind;
	const char			*slug;
};

static uint64_t
hash(enum es_kind kind, const char *slug)
{
	return es_fp_bytes(slug, strlen(slug)) ^ ((uint64_t)kind + 1) *
	    UINT64_C(0x9e3779b97f4a7c15);
}

static bool
rec_eq(const void *key, size_t id)
{
	const struct lookup *k = key;
	const struct es__slug_rec *r = &k->c->v[id];

	return r->kind == k->kind && strcmp(r->slug, k->slug) == 0;
}

/* The record of (kind, slug), made when absent. */
static struct es__slug_rec *
rec_get(struct es_slug_claims *c, enum es_kind kind, const char *slug)
{
	struct lookup k = { c, kind, slug };
	size_t id;

	if (c->map == NULL) {
		c->map = es_xcalloc(1, sizeof(*c->map));
		es__hmap_init(&c->map->m, 64);
	}
	id = es__hmap_intern(&c->map->m, hash(kind, slug), rec_eq, &k, c->n);
	if (id == c->n) {
		struct es__slug_rec *r;

		if (c->n == c->alloc) {
			c->alloc = c->alloc ? 2 * c->alloc : 64;
			c->v = es_xreallocarray(c->v, c->alloc, sizeof(*c->v));
		}
		r = &c->v[c->n++];
		r->kind = kind;
		r->slug = es_xstrdup(slug);
		r->holder = NONE;
		r->nholders = 0;
		r->taker = NONE;
		r->file = false;
	}
	return &c->v[id];
}

void
es_slug_claims_doc(struct es_slug_claims *c, enum es_kind kind,
    const char *slug, size_t owner)
{
	struct es__slug_rec *r;

	if (slug == NULL)
		return;
	r = rec_get(c, kind, slug);
	if (r->nholders == 0 || r->holder != owner)
		r->nholders++;
	r->holder = owner;
}

void
es_slug_claims_file(struct es_slug_claims *c, enum es_kind kind,
    const char *slug)
{
	if (slug != NULL)
		rec_get(c, kind, slug)->file = true;
}

/* Whether owner may not write r's slug: another's document or take. */
static bool
barred(const struct es__slug_rec *r, size_t owner)
{
	return r->nholders > 1 || (r->nholders == 1 && r->holder != owner) ||
	    (r->taker != NONE && r->taker != owner);
}

struct fresh_ctx {
	struct es_slug_claims	*c;
	enum es_kind		 kind;
	size_t			 owner;
};

static bool
fresh_taken(const char *slug, void *ud)
{
	struct fresh_ctx *f = ud;
	struct lookup k = { f->c, f->kind, slug };
	size_t id;

	/* Look up without adding: most candidates were never seen. */
	id = es__hmap_find(&f->c->map->m, hash(f->kind, slug), rec_eq, &k);
	return id != NONE && (barred(&f->c->v[id], f->owner) ||
	    f->c->v[id].file);
}

const char *
es_slug_claims_take(struct es_slug_claims *c, enum es_kind kind,
    const char *want, size_t owner)
{
	struct es__slug_rec *r = rec_get(c, kind, want);
	struct fresh_ctx f = { c, kind, owner };
	char *fresh;

	if (!barred(r, owner)) {
		r->taker = owner;
		return r->slug;
	}
	fresh = es_slug_unique(want, fresh_taken, &f);
	r = rec_get(c, kind, fresh);
	free(fresh);
	r->taker = owner;
	return r->slug;
}

void
es_slug_claims_release(struct es_slug_claims *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].slug);
	free(c->v);
	if (c->map != NULL)
		es__hmap_release(&c->map->m);
	free(c->map);
	c->v = NULL;
	c->map = NULL;
	c->n = c->alloc = 0;
}
