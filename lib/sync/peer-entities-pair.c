/*
 * The pass's pairing of projects and goals (see pass.h): which
 * file is which entity's. By the baseline's path; a file that moved by
 * the evidence of pair.h (SPEC 4.6); what has no baseline by identity
 * (SPEC 4.17), a decomposed name meeting its composed slug; documents
 * sharing a slug are reported and left alone (SPEC 4.10).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/engine.h"
#include "execsync/entity-file.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/layout.h"
#include "execsync/log.h"
#include "execsync/pair.h"
#include "execsync/scan.h"
#include "execsync/slug.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

#include "execsync/rules.h"

#include "pass.h"

static ssize_t
find_file_by_rel(struct es__ents *g, const char *rel)
{
	size_t lo = 0, hi = g->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rel, g->files[mid].tf.rel);

		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static bool
file_usable(const struct fent *f, enum es_kind kind)
{
	return !f->paired && f->tf.info.kind == kind &&
	    f->tf.status != ES_TREE_NOT_SYNCED;
}

static void
pair(struct ent *e, struct es__ents *g, size_t fi)
{
	e->file = (ssize_t)fi;
	g->files[fi].paired = true;
}

static bool
ent_taken(size_t ref, void *ud)
{
	const struct es__ents *g = ud;

	return g->ents[ref].file >= 0;
}

/*
 * Identity (SPEC 4.17): documents with no baseline row and no file yet
 * meet files by (kind, slug) through one sorted index (es_slug_index,
 * rules.h), so each file finds its document by binary search. A linear
 * scan per file made a --resync quadratic in the size of the folder
 * (execsync-bench reconcile: resync_scale).
 *
 * Run twice. First (live_only) before rename detection, with the live
 * documents only: a file whose name is the slug of a live document this
 * machine never synced is that document's (its insert landed before a
 * crash rolled the baseline back, another machine made it, the API did),
 * never a lost file renamed onto a slug that is taken; taking it for a
 * rename planned one slug and wrote another (SPEC 4.9) and left a
 * duplicate (issue 17, seeds 3233, 1560). Then after rename detection,
 * deleted documents too, and what is left becomes new.
 */
static void
pair_by_identity(struct es__ents *g, bool live_only)
{
	struct es_slug_index ix = ES_SLUG_INDEX_INIT;

	for (size_t i = 0; i < g->nents; i++) {
		const struct ent *c = &g->ents[i];
		struct es_slug_cand sc = { c->kind, c->db.slug,
		    c->db.meta.deleted, false, i };

		if (!c->has_base && c->file < 0 && c->has_db &&
		    c->db.slug != NULL && (!live_only ||
		    (!c->db.meta.deleted && !c->db_broken)))
			es_slug_index_add(&ix, &sc);
	}
	es_slug_index_sort(&ix);
	for (size_t j = 0; j < g->nfiles; j++) {
		struct fent *f = &g->files[j];
		ssize_t k;
		struct ent *e;
		char *nfc;

		if (!file_usable(f, f->tf.info.kind))
			continue;
		k = es_slug_index_pair(&ix, f->tf.info.kind, f->tf.info.slug,
		    ent_taken, g);
		if (k < 0 && (nfc = es_slug_nfc(f->tf.info.slug)) != NULL) {
			/*
			 * A decomposed name (a clone made where names are
			 * NFD) meets its composed slug: the document's slug
			 * stands, and the file is renamed to it.
			 */
			k = es_slug_index_pair(&ix, f->tf.info.kind, nfc,
			    ent_taken, g);
			free(nfc);
			if (k >= 0 && !f->broken) {
				free(f->tf.entity.slug);
				f->tf.entity.slug = es_xstrdup(
				    g->ents[ix.v[k].ref].db.slug);
			}
		}
		if (k >= 0)
			e = &g->ents[ix.v[k].ref];
		else if (f->broken || live_only)
			continue;	/* broken: counted when read */
		else	/* may move g->ents */
			e = es__eng_ent_new(g, f->tf.info.kind);
		pair(e, g, j);
	}
	es_slug_index_release(&ix);
}

/* A document never synced here, by _id. */
struct idref {
	bson_oid_t	 id;
	size_t		 ref;
};

static int
idref_cmp(const void *a, const void *b)
{
	return bson_oid_compare(&((const struct idref *)a)->id,
	    &((const struct idref *)b)->id);
}

/*
 * A file with no baseline row whose deterministic _id (docid.h: what its
 * insert sends) names a document never synced here is that document's:
 * the insert landed and the pass died before its baseline commit, and
 * the document changed since (the API retitled it: its slug is no longer
 * the file's name). Without this the insert met its own
 * _id, was taken for a slug clash, and the file got a second document
 * and a "-2" name the dry run had not planned (issue 17, seed 36218;
 * SPEC 4.9, 4.18). The plan then resolves the two as identity matches
 * are (SPEC 4.17): by the policy, nothing deleted; a document the API
 * deleted meanwhile is undeleted with the file's meaning, its own
 * version kept (issue 17, seed 131726: the insert met its own _id and
 * the file became "-2", which the dry run had not planned). After
 * rename detection: the _id is made of the slug and the dates, so a file
 * renamed onto a deleted project's name computes that project's _id
 * without being it (test-sync-hostile), and its baseline entity must
 * claim it first.
 */
static void
pair_by_docid(struct es__ents *g)
{
	struct idref *v;
	size_t n = 0;

	v = es_xcalloc(g->nents ? g->nents : 1, sizeof(*v));
	for (size_t i = 0; i < g->nents; i++) {
		const struct ent *c = &g->ents[i];

		if (!c->has_base && c->file < 0 && c->has_db &&
		    !c->db_broken && c->db.meta.has_id) {
			v[n].id = c->db.meta.id;
			v[n++].ref = i;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), idref_cmp);
	for (size_t j = 0; n > 0 && j < g->nfiles; j++) {
		struct fent *f = &g->files[j];
		struct idref key, *hit;
		struct ent *e;

		if (!file_usable(f, f->tf.info.kind) || f->broken)
			continue;
		key.id = es_docid_entity(g->p->o->user_id, &f->tf.entity);
		hit = bsearch(&key, v, n, sizeof(*v), idref_cmp);
		if (hit == NULL)
			continue;
		e = &g->ents[hit->ref];
		if (e->kind == f->tf.info.kind && e->file < 0)
			pair(e, g, j);
	}
	free(v);
}

/*
 * The intents of a pass that died before its baseline commit (pass.h): a
 * file it wrote or moved for a document is that document's, when the
 * path pairing left both free (a file at an entity's baseline path stays
 * that entity's). Without this, a new document's file written just
 * before the crash met, after the API had retitled the document, no
 * document of its name, and became a second document (issue 17, seed
 * 19406).
 */
static void
pair_by_intent(struct es__ents *g)
{
	for (size_t k = 0; k < g->nintents; k++) {
		const struct es__intent *it = &g->intents[k];
		ssize_t fi = find_file_by_rel(g, it->rel);
		struct ent *e = NULL;

		if (fi < 0 || !file_usable(&g->files[fi], it->kind))
			continue;
		for (size_t i = 0; i < g->nents && e == NULL; i++)
			if (g->ents[i].kind == it->kind && g->ents[i].has_db &&
			    !g->ents[i].db_broken && g->ents[i].file < 0 &&
			    bson_oid_equal(&g->ents[i].db.meta.id, &it->id))
				e = &g->ents[i];
		if (e != NULL)
			pair(e, g, (size_t)fi);
	}
}

/*
 * SPEC 4.10: live documents of this user sharing a slug (left by the
 * replaced script, or a client without the unique index) cannot both own
 * the file of that slug. The one this machine synced keeps it; the others
 * are reported and left alone, and when none was synced all of them are
 * (a file with that slug then pairs with one of them and is left alone
 * too), until the user resolves it in the app (es_slug_shared(),
 * rules.h). Never a stopped pass.
 */
void
es__eng_mark_shared_slugs(struct es__ents *g)
{
	struct es_slug_index ix = ES_SLUG_INDEX_INIT;
	bool *alone;
	size_t *shared;

	for (size_t i = 0; i < g->nents; i++) {
		const struct ent *e = &g->ents[i];
		struct es_slug_cand sc = { e->kind, e->db.slug, false,
		    e->has_base, i };

		if (e->has_db && !e->db_broken && !e->db.meta.deleted &&
		    e->db.slug != NULL)
			es_slug_index_add(&ix, &sc);
	}
	es_slug_index_sort(&ix);
	alone = es_xcalloc(ix.n ? ix.n : 1, sizeof(*alone));
	shared = es_xcalloc(ix.n ? ix.n : 1, sizeof(*shared));
	es_slug_shared(&ix, alone, shared);
	for (size_t k = 0; k < ix.n; k++) {
		struct ent *e = &g->ents[ix.v[k].ref];
		struct es_error err;
		char hex[25], where[64];

		if (!alone[k])
			continue;
		bson_oid_to_string(&e->db.meta.id, hex);
		snprintf(where, sizeof(where), "%s/%s",
		    es_kind_collection(e->kind), hex);
		es_problem_set(&err, ES_PROB_SLUG_TAKEN, where, 0, "slug '%s' "
		    "is shared by %zu documents: left alone until only one "
		    "has it (SPEC 4.10)", e->db.slug, shared[k]);
		es__add_failure(g->p, &err);
		e->db_broken = true;
	}
	free(alone);
	free(shared);
	es_slug_index_release(&ix);
}

/*
 * Baseline entities that lost their file and files at a path no baseline
 * entity had: es_pair_match() decides which are the same (same slug, or
 * content similar enough; the inode only breaks ties). What stays unpaired
 * plans as deleted and as new (SPEC 4.5, 4.6).
 */
static void
pair_moved(struct es__ents *g, size_t nbase)
{
	struct es_pair_item *lost, *files;
	struct es_pair_verdict *why;
	struct es_pair_stats st;
	size_t *li, *fi, nl = 0, nf = 0;
	ssize_t *match;

	lost = es_xcalloc(nbase ? nbase : 1, sizeof(*lost));
	li = es_xcalloc(nbase ? nbase : 1, sizeof(*li));
	files = es_xcalloc(g->nfiles ? g->nfiles : 1, sizeof(*files));
	fi = es_xcalloc(g->nfiles ? g->nfiles : 1, sizeof(*fi));
	for (size_t i = 0; i < nbase; i++) {
		struct ent *e = &g->ents[i];

		if (!e->has_base || e->file >= 0)
			continue;
		lost[nl].kind = e->kind;
		lost[nl].slug = e->base.slug;
		if (e->has_db && !e->db_broken && e->db.slug != NULL &&
		    (e->base.slug == NULL || strcmp(e->db.slug,
		    e->base.slug) != 0))
			lost[nl].alias = e->db.slug;
		lost[nl].e = &e->base;
		lost[nl].has_ino = e->base_file;
		lost[nl].dev = e->base_st.dev;
		lost[nl].ino = e->base_st.ino;
		li[nl++] = i;
	}
	for (size_t j = 0; nl > 0 && j < g->nfiles; j++) {
		struct fent *f = &g->files[j];

		if (!file_usable(f, f->tf.info.kind))
			continue;
		files[nf].kind = f->tf.info.kind;
		files[nf].slug = f->tf.info.slug;
		files[nf].e = f->broken ? NULL : &f->tf.entity;
		files[nf].has_ino = true;
		files[nf].dev = f->tf.st.dev;
		files[nf].ino = f->tf.st.ino;
		fi[nf++] = j;
	}
	match = es_xcalloc(nl ? nl : 1, sizeof(*match));
	why = es_xcalloc(nl ? nl : 1, sizeof(*why));
	es_pair_match(lost, nl, files, nf, NULL, match, why, &st);
	for (size_t k = 0; k < nl; k++) {
		struct ent *e = &g->ents[li[k]];
		struct fent *f;

		if (match[k] < 0)
			continue;
		f = &g->files[fi[match[k]]];
		pair(e, g, fi[match[k]]);
		if (why[k].rule == ES_PAIR_BODY)
			es_log(ES_LOG_INFO, SUB, "%s: the same %s as %s (body "
			    "%u%% similar)", f->tf.rel, e->kind ==
			    ES_KIND_GOAL ? "goal" : "project", e->base_rel,
			    why[k].similarity);
		else if (why[k].rule == ES_PAIR_TITLE)
			es_log(ES_LOG_INFO, SUB, "%s: the same %s as %s (same "
			    "title)", f->tf.rel, e->kind == ES_KIND_GOAL ?
			    "goal" : "project", e->base_rel);
		else if (why[k].rule == ES_PAIR_HOLD)
			es_log(ES_LOG_INFO, SUB, "%s: has the inode of %s, "
			    "which is left alone until the file parses",
			    f->tf.rel, e->base_rel);
	}
	if (st.skipped > 0)
		es_log(ES_LOG_WARN, SUB, "rename detection: %zu pairs of a "
		    "lost and a new file were not compared (too many); what "
		    "is left unpaired is taken as deleted and created",
		    st.skipped);
	free(lost);
	free(li);
	free(files);
	free(fi);
	free(match);
	free(why);
}

void
es__eng_pair_all(struct es__ents *g)
{
	size_t nbase = g->nents;

	/* 1. by the path of the last sync */
	for (size_t i = 0; i < nbase; i++) {
		struct ent *e = &g->ents[i];
		ssize_t fi;

		if (!e->has_base)
			continue;
		fi = find_file_by_rel(g, e->base_rel);
		if (fi >= 0 && file_usable(&g->files[fi], e->kind))
			pair(e, g, (size_t)fi);
	}
	/* 2. what a pass that died before its commit wrote (its intents) */
	pair_by_intent(g);
	/* 3. identity with a live document never synced here (SPEC 4.17) */
	pair_by_identity(g, true);
	/* 4. a moved or renamed file, when the evidence agrees (SPEC 4.6) */
	pair_moved(g, nbase);
	/* 5. a file's own document, by the _id its insert sends */
	pair_by_docid(g);
	/* 6. identity (SPEC 4.17): kind and slug, documents without a base */
	pair_by_identity(g, false);
}
