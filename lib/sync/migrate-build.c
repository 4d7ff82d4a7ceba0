/*
 * The import's documents (see migrate-internal.h): unique slugs per
 * collection (SPEC §2), deterministic _ids (docid.h), every document
 * built in memory, in path order, before anything is sent.
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/fingerprint.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#include "migrate-internal.h"

/* ---- slugs (SPEC §2: a clash in one collection gets -2, -3) ---- */

struct strset {
	char	**slot;
	size_t	  cap, n;
};

static size_t
strset_pos(const struct strset *s, const char *str)
{
	size_t i = (size_t)es_fp_bytes(str, strlen(str)) & (s->cap - 1);

	while (s->slot[i] != NULL && strcmp(s->slot[i], str) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static bool
strset_has(const struct strset *s, const char *str)
{
	return s->cap > 0 && s->slot[strset_pos(s, str)] != NULL;
}

/* Adds a borrowed string (it must outlive the set). */
static void
strset_add(struct strset *s, const char *str)
{
	if (2 * (s->n + 1) > s->cap) {
		struct strset g = { NULL, s->cap ? 2 * s->cap : 64, 0 };

		g.slot = es_xcalloc(g.cap, sizeof(*g.slot));
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i] != NULL) {
				g.slot[strset_pos(&g, s->slot[i])] = s->slot[i];
				g.n++;
			}
		free(s->slot);
		*s = g;
	}
	size_t i = strset_pos(s, str);

	if (s->slot[i] == NULL) {
		s->slot[i] = (char *)str;
		s->n++;
	}
}

struct taken_ctx {
	const struct strset *files, *claimed;
};

static bool
slug_taken(const char *slug, void *ud)
{
	const struct taken_ctx *c = ud;

	return strset_has(c->files, slug) || strset_has(c->claimed, slug);
}

/*
 * The first file (in path order) with a slug keeps it; a later one gets
 * the first of slug-2, slug-3, ... that no file has and no earlier file
 * was given. Path order is fixed, so a rerun assigns the same slugs.
 */
static void
assign_slugs(struct mig *m, enum es_kind kind)
{
	struct strset files = { NULL, 0, 0 }, claimed = { NULL, 0, 0 };
	struct taken_ctx ctx = { &files, &claimed };
	char **fresh = NULL;
	size_t nfresh = 0;

	for (size_t i = 0; i < m->t.nfiles; i++) {
		struct es_tree_file *f = &m->t.files[i];

		if (f->status == ES_TREE_OK && f->info.kind == kind)
			strset_add(&files, f->entity.slug);
	}
	for (size_t i = 0; i < m->t.nfiles; i++) {
		struct es_tree_file *f = &m->t.files[i];
		char *slug;

		if (f->status != ES_TREE_OK || f->info.kind != kind)
			continue;
		if (!strset_has(&claimed, f->entity.slug)) {
			strset_add(&claimed, f->entity.slug);
			continue;
		}
		slug = es_slug_unique(f->entity.slug, slug_taken, &ctx);
		m->r->notes = es_xreallocarray(m->r->notes, m->r->nnotes + 1,
		    sizeof(*m->r->notes));
		es_error_set(&m->r->notes[m->r->nnotes], ES_OK, f->rel, 0,
		    "slug '%s' is taken by an earlier file, imported as '%s'",
		    f->entity.slug, slug);
		m->r->nnotes++;
		/* The old string is in the sets: free it only at the end. */
		fresh = es_xreallocarray(fresh, nfresh + 1, sizeof(*fresh));
		fresh[nfresh++] = f->entity.slug;
		f->entity.slug = slug;
		strset_add(&claimed, slug);
		m->r->renamed++;
	}
	for (size_t i = 0; i < nfresh; i++)
		free(fresh[i]);
	free(fresh);
	free(files.slot);
	free(claimed.slot);
}

/* ---- documents ---- */

void
es__mig_set_meta(struct es_meta *meta, const bson_oid_t *id, int64_t now)
{
	memset(meta, 0, sizeof(*meta));
	meta->has_id = true;
	bson_oid_copy(id, &meta->id);
	meta->deleted = false;
	meta->created_at = now;
	meta->updated_at = now;
}

static int
cmp_item_id(const void *a, const void *b, void *ud)
{
	const struct item *items = ud;

	return bson_oid_compare(&items[*(const size_t *)a].id,
	    &items[*(const size_t *)b].id);
}

static int
cmp_item_slug(const void *a, const void *b, void *ud)
{
	const struct item *items = ud;

	return strcmp(items[*(const size_t *)a].slug,
	    items[*(const size_t *)b].slug);
}

/* Slugs, ids and the documents of every entity, in path order. */
void
es__mig_build(struct mig *m)
{
	const char *user = m->o->user_id;
	size_t cap[NKINDS] = { 0, 0, 0 };

	assign_slugs(m, ES_KIND_PROJECT);
	assign_slugs(m, ES_KIND_GOAL);
	for (size_t i = 0; i < m->t.nfiles; i++) {
		struct es_tree_file *f = &m->t.files[i];

		if (f->status != ES_TREE_OK)
			continue;
		cap[f->info.kind] += f->info.kind == ES_KIND_ACTION ?
		    es_action_list_count(f->list) : 1;
	}
	for (int k = 0; k < NKINDS; k++) {
		m->k[k].items = es_xcalloc(cap[k] ? cap[k] : 1,
		    sizeof(struct item));
		m->k[k].docs = es_xcalloc(cap[k] ? cap[k] : 1,
		    sizeof(bson_t *));
		m->k[k].status = es_xcalloc(cap[k] ? cap[k] : 1, sizeof(int));
		m->k[k].send = es_xcalloc(cap[k] ? cap[k] : 1, sizeof(size_t));
	}
	for (size_t i = 0; i < m->t.nfiles; i++) {
		struct es_tree_file *f = &m->t.files[i];
		struct kindset *ks = &m->k[f->info.kind];

		if (f->status != ES_TREE_OK)
			continue;
		if (f->info.kind != ES_KIND_ACTION) {
			struct item *it = &ks->items[ks->n++];
			struct es_entity *e = &f->entity;

			it->file = i;
			it->slug = e->slug;
			it->id = es_docid_entity(user, e);
			es__mig_set_meta(&e->meta, &it->id, m->now);
			it->fp = es_entity_fingerprint(e);
			it->doc = bson_new();
			es_entity_encode(e, user, it->doc);
			continue;
		}
		size_t n = es_action_list_count(f->list);
		unsigned *occ = es_action_list_occurrences(f->list);

		for (size_t j = 0; j < n; j++) {
			const struct es_action *a = es_action_list_get(f->list,
			    j);
			struct item *it = &ks->items[ks->n++];
			struct es_action tmp = *a;	/* shallow, for meta */
			size_t len;
			const char *raw = es_action_list_raw(f->list, j, &len);

			it->file = i;
			it->pos = (uint32_t)j;
			it->line = es_action_list_line(f->list, j);
			it->id = es_docid_action(user, f->rel, occ[j], raw, len,
			    a);
			es__mig_set_meta(&tmp.meta, &it->id, m->now);
			it->fp = es_action_fingerprint(a);
			it->doc = bson_new();
			es_action_encode(&tmp, user, it->doc);
		}
		free(occ);
	}
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];

		ks->by_id = es_xcalloc(ks->n ? ks->n : 1, sizeof(size_t));
		for (size_t i = 0; i < ks->n; i++) {
			ks->docs[i] = ks->items[i].doc;
			ks->status[i] = -2;
			ks->by_id[i] = i;
		}
		qsort_r(ks->by_id, ks->n, sizeof(size_t), cmp_item_id,
		    ks->items);
		if (es__mig_kinds[k] != ES_KIND_ACTION) {
			ks->by_slug = es_xcalloc(ks->n ? ks->n : 1,
			    sizeof(size_t));
			memcpy(ks->by_slug, ks->by_id, ks->n * sizeof(size_t));
			qsort_r(ks->by_slug, ks->n, sizeof(size_t),
			    cmp_item_slug, ks->items);
		}
		m->docs_total += ks->n;
		m->r->docs += ks->n;
		m->r->count[k].found = ks->n + ks->load_failed;
	}
}
