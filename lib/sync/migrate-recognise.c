/*
 * What the database already holds of the folder (see migrate-internal.h):
 * by _id, else by identity (slug; list and text), judged by the one
 * "is this duplicate ours?" predicate, es_ours_judge() (rules.h).
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/action-ident.h"
#include "execsync/action-list.h"
#include "execsync/doc.h"
#include "execsync/rules.h"
#include "execsync/xmalloc.h"

#include "migrate-internal.h"

static int
cmp_id(const void *key, const struct item *it)
{
	return bson_oid_compare(key, &it->id);
}

static int
cmp_slug(const void *key, const struct item *it)
{
	return strcmp(key, it->slug);
}

/* The item of key in index (items sorted by cmp), or NULL. */
static struct item *
find_item(struct kindset *ks, const size_t *index, const void *key,
    int (*cmp)(const void *, const struct item *))
{
	size_t lo = 0, hi = ks->n;

	if (index == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct item *it = &ks->items[index[mid]];
		int c = cmp(key, it);

		if (c == 0)
			return it;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool
doc_id(const bson_t *doc, bson_oid_t *id)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_OID(&it))
		return false;
	bson_oid_copy(bson_iter_oid(&it), id);
	return true;
}

static const char *
doc_slug(const bson_t *doc)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "slug") ||
	    !BSON_ITER_HOLDS_UTF8(&it))
		return NULL;
	return bson_iter_utf8(&it, NULL);
}

/* ---- the database ---- */

/* A document no item claimed by _id: an action awaiting its identity. */
struct spare {
	bson_t			*doc;
	struct es_action	 a;	/* decoded */
	bool			 taken;
};

struct readctx {
	struct mig	*m;
	enum es_kind	 kind;
	struct spare	*spare;		/* actions */
	size_t		 nspare, aspare;
};

/*
 * Whether doc means what it was built from (es_ours_judge(): the user's,
 * decoded, live, the same meaning fingerprint): M_EQUAL, else M_DIFFERS,
 * present either way. Records the document's id and timestamps for the
 * baseline.
 */
static void
judge(struct mig *m, struct item *it, enum es_kind kind, const bson_t *doc)
{
	struct es_meta meta;
	enum es_ours v = es_ours_judge(doc, kind, m->o->user_id, it->fp,
	    &meta);

	it->match = v == ES_OURS_SAME ? M_EQUAL : M_DIFFERS;
	if (v == ES_OURS_NO)
		return;
	bson_oid_copy(&meta.id, &it->db_id);
	it->db_created_at = meta.created_at;
	it->db_updated_at = meta.updated_at;
}

static int
on_read(const bson_t *doc, void *ud)
{
	struct readctx *c = ud;
	struct kindset *ks = &c->m->k[c->kind];
	struct item *it;
	struct spare *s;
	struct es_error e;
	const char *slug;
	bson_oid_t id;

	c->m->docs_done++;
	if ((c->m->docs_done & 1023) == 0)
		es__mig_progress(c->m, ES_MIGRATE_READ, c->m->t.nfiles);
	/* Our own _id: an earlier import, or one that died half-way. */
	if (doc_id(doc, &id) &&
	    (it = find_item(ks, ks->by_id, &id, cmp_id)) != NULL) {
		judge(c->m, it, c->kind, doc);
		return 0;
	}
	/* Same slug, other _id: the entity is there under the API's id
	 * (SPEC 4.17 identity: collection, user, slug); judged after the
	 * cursor, in case our own _id comes later. */
	if (c->kind != ES_KIND_ACTION) {
		if ((slug = doc_slug(doc)) != NULL && (it = find_item(ks,
		    ks->by_slug, slug, cmp_slug)) != NULL && it->cand == NULL)
			it->cand = bson_copy(doc);
		return 0;
	}
	/* An action under another _id: paired by list and text after the
	 * cursor. One that cannot be decoded has no identity. */
	if (c->nspare == c->aspare) {
		c->aspare = c->aspare ? 2 * c->aspare : 64;
		c->spare = es_xreallocarray(c->spare, c->aspare,
		    sizeof(*c->spare));
	}
	s = &c->spare[c->nspare];
	if (es_action_decode(doc, &s->a, &e) < 0) {
		es_action_release(&s->a);
		return 0;
	}
	s->doc = bson_copy(doc);
	s->taken = false;
	c->nspare++;
	return 0;
}

static bool
spare_taken(size_t ref, void *ud)
{
	const struct readctx *c = ud;

	return c->spare[ref].taken;
}

/*
 * Actions the _ids did not pair meet the remaining documents by list and
 * text (SPEC 4.17), as execsyncd --once pairs lines without a baseline
 * (es_action_ident_pair()): the n-th such line of an identity the n-th
 * document, deleted ones included, so nothing the database has, live or
 * deleted, is inserted again.
 */
static void
pair_actions(struct mig *m, struct readctx *c)
{
	struct kindset *ks = &m->k[ES_KIND_ACTION];
	struct es_action_ident_index ix = ES_ACTION_IDENT_INDEX_INIT;

	for (size_t i = 0; i < c->nspare; i++)
		es_action_ident_add(&ix, &c->spare[i].a, i);
	es_action_ident_sort(&ix);
	for (size_t i = 0; i < ks->n && ix.n > 0; i++) {
		struct item *it = &ks->items[i];
		const struct es_tree_file *f = &m->t.files[it->file];
		struct spare *s;
		ssize_t j;

		if (it->match != M_NONE)
			continue;
		j = es_action_ident_pair(&ix, es_action_list_get(f->list,
		    it->pos), f->rel, spare_taken, c);
		if (j < 0)
			continue;
		s = &c->spare[ix.v[j].ref];
		s->taken = true;
		judge(m, it, ES_KIND_ACTION, s->doc);
	}
	es_action_ident_release(&ix);
}

/*
 * What the database already holds of the folder, before anything is
 * written (SPEC 4.18: a rerun, on any folder state, never duplicates):
 * one find per collection with items, every document of the user, deleted
 * ones too. An item is present when a document has its _id (an earlier
 * import, or one that died half-way), else its identity: the slug for a
 * project or goal, list and text for an action (the API's documents, a
 * line edited since, a fresh clone of a synced folder). Present items get
 * status 1 and are not sent; the rest status 0. With an empty database
 * each find costs one round trip.
 */
int
es__mig_recognise(struct mig *m, struct es_error *err)
{
	m->docs_done = 0;
	for (int k = 0; k < NKINDS; k++) {
		struct readctx c = { m, es__mig_kinds[k], NULL, 0, 0 };
		struct kindset *ks = &m->k[k];
		int rc = 0;

		if (ks->n == 0)
			continue;
		es__mig_progress(m, ES_MIGRATE_READ, m->t.nfiles);
		rc = es_store_find(m->store, es__mig_kinds[k], m->o->user_id,
		    -1, on_read, &c, err);
		if (rc == 0 && es__mig_kinds[k] == ES_KIND_ACTION)
			pair_actions(m, &c);
		for (size_t i = 0; i < ks->n; i++) {
			struct item *it = &ks->items[i];

			if (rc == 0 && it->match == M_NONE && it->cand != NULL)
				judge(m, it, es__mig_kinds[k], it->cand);
			if (it->cand != NULL)
				bson_destroy(it->cand);
			it->cand = NULL;
			ks->status[i] = it->match == M_NONE ? 0 : 1;
		}
		for (size_t i = 0; i < c.nspare; i++) {
			bson_destroy(c.spare[i].doc);
			es_action_release(&c.spare[i].a);
		}
		free(c.spare);
		if (rc < 0)
			return -1;
	}
	return 0;
}
