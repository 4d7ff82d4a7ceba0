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

/*
 * Candidates for an identity match: documents with no baseline row and no
 * file yet, sorted by (kind, slug), so each file finds its document by
 * binary search. A linear scan per file made a --resync quadratic in the
 * size of the folder (execsync-bench reconcile: resync_scale).
 */
static int
cmp_cand(const void *a, const void *b, void *ud)
{
	const struct ent *ents = ud;
	const struct ent *x = &ents[*(const size_t *)a];
	const struct ent *y = &ents[*(const size_t *)b];
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->db.slug, y->db.slug)) != 0)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The first unpaired candidate of this kind and slug, or -1. */
static ssize_t
find_cand(struct es__ents *g, const size_t *cand, size_t n, enum es_kind kind,
    const char *slug)
{
	size_t lo = 0, hi = n;
	ssize_t del = -1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ent *c = &g->ents[cand[mid]];
		int d = c->kind != kind ? (c->kind < kind ? -1 : 1) :
		    strcmp(c->db.slug, slug);

		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A live document before a soft-deleted one with the same slug. */
	for (; lo < n; lo++) {
		const struct ent *c = &g->ents[cand[lo]];

		if (c->kind != kind || strcmp(c->db.slug, slug) != 0)
			return del;
		if (c->file >= 0)
			continue;
		if (!c->db.meta.deleted)
			return (ssize_t)cand[lo];
		if (del < 0)
			del = (ssize_t)cand[lo];
	}
	return del;
}

static void
pair_by_identity(struct es__ents *g)
{
	size_t *cand, n = 0, nents = g->nents;

	cand = es_xcalloc(nents ? nents : 1, sizeof(*cand));
	for (size_t i = 0; i < nents; i++) {
		const struct ent *c = &g->ents[i];

		if (!c->has_base && c->file < 0 && c->has_db &&
		    c->db.slug != NULL)
			cand[n++] = i;
	}
	qsort_r(cand, n, sizeof(*cand), cmp_cand, g->ents);
	for (size_t j = 0; j < g->nfiles; j++) {
		struct fent *f = &g->files[j];
		ssize_t ci;
		struct ent *e;
		char *nfc;

		if (!file_usable(f, f->tf.info.kind))
			continue;
		ci = find_cand(g, cand, n, f->tf.info.kind, f->tf.info.slug);
		if (ci < 0 && (nfc = es_slug_nfc(f->tf.info.slug)) != NULL) {
			/*
			 * A decomposed name (a clone made where names are
			 * NFD) meets its composed slug: the document's slug
			 * stands, and the file is renamed to it.
			 */
			ci = find_cand(g, cand, n, f->tf.info.kind, nfc);
			free(nfc);
			if (ci >= 0 && !f->broken) {
				free(f->tf.entity.slug);
				f->tf.entity.slug = es_xstrdup(
				    g->ents[ci].db.slug);
			}
		}
		if (ci >= 0)
			e = &g->ents[ci];
		else if (f->broken)
			continue;	/* counted when read */
		else
			e = es__eng_ent_new(g, f->tf.info.kind);	/* may move g->ents */
		pair(e, g, j);
	}
	free(cand);
}

/*
 * SPEC 4.10: live documents of this user sharing a slug (left by the
 * replaced script, or a client without the unique index) cannot both own
 * the file of that slug. The one this machine synced keeps it; the others
 * are reported and left alone, and when none was synced all of them are
 * (a file with that slug then pairs with one of them and is left alone
 * too), until the user resolves it in the app. Never a stopped pass.
 */
void
es__eng_mark_shared_slugs(struct es__ents *g)
{
	size_t *v = es_xcalloc(g->nents ? g->nents : 1, sizeof(*v)), n = 0;

	for (size_t i = 0; i < g->nents; i++) {
		const struct ent *e = &g->ents[i];

		if (e->has_db && !e->db_broken && !e->db.meta.deleted &&
		    e->db.slug != NULL)
			v[n++] = i;
	}
	qsort_r(v, n, sizeof(*v), cmp_cand, g->ents);
	for (size_t i = 0, j; i < n; i = j) {
		const struct ent *first = &g->ents[v[i]];
		size_t nbase = 0;

		for (j = i; j < n && g->ents[v[j]].kind == first->kind &&
		    strcmp(g->ents[v[j]].db.slug, first->db.slug) == 0; j++)
			nbase += g->ents[v[j]].has_base;
		if (j - i < 2)
			continue;
		for (size_t k = i; k < j; k++) {
			struct ent *e = &g->ents[v[k]];
			struct es_error err;
			char hex[25], where[64];

			if (nbase == 1 && e->has_base)
				continue;
			bson_oid_to_string(&e->db.meta.id, hex);
			snprintf(where, sizeof(where), "%s/%s",
			    es_kind_collection(e->kind), hex);
			es_error_set(&err, ES_ECONFLICT, where, 0, "slug '%s' "
			    "is shared by %zu documents: left alone until only "
			    "one has it (SPEC 4.10)", e->db.slug, j - i);
			es__add_failure(g->p, &err);
			e->db_broken = true;
		}
	}
	free(v);
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
	/* 2. a moved or renamed file, when the evidence agrees (SPEC 4.6) */
	pair_moved(g, nbase);
	/* 3. identity (SPEC 4.17): kind and slug, documents without a base */
	pair_by_identity(g);
}
