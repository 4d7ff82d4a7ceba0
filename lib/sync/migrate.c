/*
 * The one-time import (see migrate.h). One pass, in this order: refuse a
 * folder whose baseline says it is synced already, load the folder, build
 * every document in memory (slugs, deterministic _ids), connect, read what
 * the database holds (one find per collection) and recognise the entities
 * already there, indexes, unordered bulk inserts of the others per
 * collection (meanwhile a thread writes the baseline as if all succeed),
 * then the baseline's corrections and its one commit. Nothing is queried
 * per document.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/action-ident.h"
#include "execsync/action-list.h"
#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/fingerprint.h"
#include "execsync/layout.h"
#include "execsync/lock.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/slug.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#define NKINDS			3
#define TIMEOUT_DEFAULT		10000u

#define NOT_A_FOLDER	"not an execution-system folder (none of " \
	ES_DIR_ACTIONS ", " ES_DIR_PROJECTS ", " ES_DIR_GOALS ")"

/* What the database holds for an entity (recognise(), insert_all()). */
enum match {
	M_NONE,		/* no document with its _id or identity */
	M_EQUAL,	/* a live document meaning the same */
	M_DIFFERS,	/* a document that differs, is deleted, or is bad */
};

struct item {
	size_t		 file;		/* index into the tree's files */
	uint32_t	 pos;		/* actions: index among action lines */
	unsigned	 line;		/* actions: file line; else 0 */
	const char	*slug;		/* projects, goals: the entity's */
	bson_oid_t	 id;
	es_fp_t		 fp;		/* meaning, meta excluded */
	bson_t		*doc;		/* what is inserted */
	enum match	 match;
	bson_oid_t	 db_id;		/* the document it matched */
	int64_t		 db_created_at, db_updated_at;
	bson_t		*cand;		/* a document: our slug, other _id */
};

struct kindset {
	struct item	*items;
	size_t		 n;
	const bson_t	**docs;		/* the documents to send */
	size_t		*send;		/* their items */
	size_t		 nsend;
	/* Per item: 1 present (recognise()), then es_store_insert_many()'s
	 * for those sent: 0 inserted, 1 duplicate, -1 refused, -2 not sent. */
	int		*status;
	size_t		*by_id;		/* item indices sorted by _id */
	size_t		*by_slug;	/* projects, goals: sorted by slug */
	size_t		 load_failed;	/* bad files and lines of this kind */
};

struct mig;

struct bl {
	struct mig	*m;
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 active;	/* started, not finished */
	bool		 threaded;
	bool		 decided;	/* under mu: the outcome is known */
	bool		 commit;
	int		 rc;
	struct es_error	 err;
	bool		 synced;	/* entity rows appeared meanwhile */
	size_t		 entities, files;
};

struct mig {
	const struct es_migrate_opts	*o;
	struct es_migrate_result	*r;
	int				 root;
	struct es_tree			 t;
	bool				 loaded;
	bool				*file_ok;	/* may get a file row */
	struct kindset			 k[NKINDS];
	struct es_store			*store;
	struct es_lock			*lock;	/* the root's (lock.h) */
	int64_t				 now;
	size_t				 docs_total, docs_done;
	struct bl			 bl;	/* the baseline writer */
};

static const enum es_kind kinds[NKINDS] = { ES_KIND_PROJECT, ES_KIND_GOAL,
    ES_KIND_ACTION };

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
add_problem(struct es_migrate_result *r, const struct es_error *e)
{
	r->problems = es_xreallocarray(r->problems, r->nproblems + 1,
	    sizeof(*r->problems));
	r->problems[r->nproblems++] = *e;
}

static void
progress(struct mig *m, enum es_migrate_phase phase, size_t files_done)
{
	struct es_migrate_progress p;

	if (m->o->progress == NULL)
		return;
	p.phase = phase;
	p.files_done = files_done;
	p.files_total = m->t.nfiles;
	p.docs_done = m->docs_done;
	p.docs_total = m->docs_total;
	m->o->progress(&p, m->o->progress_ud);
}

/* ---- the folder ---- */

/*
 * The root must hold at least one of the three synced trees: a wrong path
 * (or an unmounted disk) must never look like an empty execution system.
 */
static int
open_source(const char *source, int *root, struct es_error *err)
{
	static const char *const dirs[] = { ES_DIR_ACTIONS, ES_DIR_PROJECTS,
	    ES_DIR_GOALS };
	struct stat st;
	int fd, e;

	*root = -1;
	if (source == NULL || source[0] == '\0')
		return es_error_set(err, ES_ECONFIG, NULL, 0,
		    "no source folder given");
	fd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return es_error_set(err, ES_ECONFIG, source, 0, "%s",
			    NOT_A_FOLDER);
		return es_error_set_sys(err, e, source, "cannot open folder");
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (fstatat(fd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			*root = fd;
			return 0;
		}
	close(fd);
	return es_error_set(err, ES_ECONFIG, source, 0, "%s", NOT_A_FOLDER);
}

/* The kind a synced path holds; -1 for anything else. */
static int
kind_index_of_rel(const char *rel)
{
	struct es_path_info info;

	if (es_layout_classify(rel, NULL, &info) != 1)
		return -1;
	return (int)info.kind;
}

/* es_tree_load(), file by file, so progress can be shown and each problem
 * counted against its kind. */
static int
load(struct mig *m, struct es_error *err)
{
	struct es_tree_opts topts;
	struct es_scan_opts so;
	struct es_scan_result sr;
	struct es_buf buf = ES_BUF_INIT;
	struct es_tree *t = &m->t;

	topts.ignore = m->o->ignore;
	topts.max_file_size = m->o->max_file_size ? m->o->max_file_size :
	    ES_CONTENT_MAX_DEFAULT;
	so.ignore = m->o->ignore;
	memset(t, 0, sizeof(*t));
	if (es_scan(m->root, &so, &sr, err) < 0)
		return -1;
	m->loaded = true;
	t->files = es_xcalloc(sr.n ? sr.n : 1, sizeof(*t->files));
	t->nfiles = sr.n;
	m->file_ok = es_xcalloc(sr.n ? sr.n : 1, sizeof(*m->file_ok));
	for (size_t i = 0; i < sr.n; i++) {
		struct es_tree_file *f = &t->files[i];
		size_t before = t->nerrors;

		f->rel = sr.entries[i].rel;	/* taken over */
		sr.entries[i].rel = NULL;
		f->info = sr.entries[i].info;
		f->st = sr.entries[i].st;
		es_tree_load_file(m->root, &topts, f, &buf, t);
		/* One failed item per problem: a bad file is one project or
		 * goal, a bad line one action. */
		m->k[f->info.kind].load_failed += t->nerrors - before;
		m->file_ok[i] = f->status == ES_TREE_OK && t->nerrors == before;
		progress(m, ES_MIGRATE_SCAN, i + 1);
	}
	t->skipped = sr.skipped;
	t->nskipped = sr.nskipped;
	sr.skipped = NULL;
	sr.nskipped = 0;
	es_scan_result_release(&sr);
	es_buf_release(&buf);

	for (size_t i = 0; i < t->nerrors; i++)
		add_problem(m->r, &t->errors[i]);
	/* Symbolic links and the like where a synced file could be: not
	 * followed (SPEC 4.11), reported, and a failed item when the path
	 * names one. */
	for (size_t i = 0; i < t->nskipped; i++) {
		struct es_error e;
		int k = kind_index_of_rel(t->skipped[i].rel);

		es_error_set(&e, ES_EUNSAFE, t->skipped[i].rel, 0, "%s",
		    t->skipped[i].reason);
		add_problem(m->r, &e);
		if (k >= 0)
			m->k[k].load_failed++;
	}
	m->r->files = t->nfiles;
	return 0;
}

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

static void
set_meta(struct es_meta *meta, const bson_oid_t *id, int64_t now)
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
static void
build(struct mig *m)
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
			set_meta(&e->meta, &it->id, m->now);
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
			set_meta(&tmp.meta, &it->id, m->now);
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
		if (kinds[k] != ES_KIND_ACTION) {
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

/* The item with this _id, or NULL. */
static struct item *
find_by_id(struct kindset *ks, const bson_oid_t *id)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct item *it = &ks->items[ks->by_id[mid]];
		int c = bson_oid_compare(id, &it->id);

		if (c == 0)
			return it;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static struct item *
find_by_slug(struct kindset *ks, const char *slug)
{
	size_t lo = 0, hi = ks->n;

	if (ks->by_slug == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct item *it = &ks->items[ks->by_slug[mid]];
		int c = strcmp(slug, it->slug);

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
 * Whether doc means what it was built from: decoded, live, same meaning
 * fingerprint. Records the document's id and timestamps for the baseline.
 */
static void
judge(struct item *it, enum es_kind kind, const bson_t *doc)
{
	struct es_error e;
	struct es_meta meta;
	es_fp_t fp;
	int rc;

	if (kind == ES_KIND_ACTION) {
		struct es_action a;

		rc = es_action_decode(doc, &a, &e);
		fp = es_action_fingerprint(&a);
		meta = a.meta;
		es_action_release(&a);
	} else {
		struct es_entity ent;

		rc = es_entity_decode(doc, kind, &ent, &e);
		fp = es_entity_fingerprint(&ent);
		meta = ent.meta;
		es_entity_release(&ent);
	}
	if (rc < 0) {
		it->match = M_DIFFERS;
		return;
	}
	it->match = !meta.deleted && fp == it->fp ? M_EQUAL : M_DIFFERS;
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
		progress(c->m, ES_MIGRATE_READ, c->m->t.nfiles);
	/* Our own _id: an earlier import, or one that died half-way. */
	if (doc_id(doc, &id) && (it = find_by_id(ks, &id)) != NULL) {
		judge(it, c->kind, doc);
		return 0;
	}
	/* Same slug, other _id: the entity is there under the API's id
	 * (SPEC 4.17 identity: collection, user, slug); judged after the
	 * cursor, in case our own _id comes later. */
	if (c->kind != ES_KIND_ACTION) {
		if ((slug = doc_slug(doc)) != NULL &&
		    (it = find_by_slug(ks, slug)) != NULL && it->cand == NULL)
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
		judge(it, ES_KIND_ACTION, s->doc);
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
static int
recognise(struct mig *m, struct es_error *err)
{
	m->docs_done = 0;
	for (int k = 0; k < NKINDS; k++) {
		struct readctx c = { m, kinds[k], NULL, 0, 0 };
		struct kindset *ks = &m->k[k];
		int rc = 0;

		if (ks->n == 0)
			continue;
		progress(m, ES_MIGRATE_READ, m->t.nfiles);
		rc = es_store_find(m->store, kinds[k], m->o->user_id, -1,
		    on_read, &c, err);
		if (rc == 0 && kinds[k] == ES_KIND_ACTION)
			pair_actions(m, &c);
		for (size_t i = 0; i < ks->n; i++) {
			struct item *it = &ks->items[i];

			if (rc == 0 && it->match == M_NONE && it->cand != NULL)
				judge(it, kinds[k], it->cand);
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

static int
connect_store(struct mig *m, struct es_error *err)
{
	unsigned timeout = m->o->timeout_ms ? m->o->timeout_ms :
	    TIMEOUT_DEFAULT;

	m->store = es_store_open(m->o->uri, m->o->database, timeout, err);
	if (m->store == NULL)
		return -1;
	/* One clear failure before anything else when the server is away. */
	if (es_store_ping(m->store, err) < 0) {
		struct es_error e = *err;

		return es_error_set(err, ES_EDB, e.path, 0, "cannot reach the "
		    "server: %s", e.msg);
	}
	m->r->connected = true;
	es_store_set_batch_size(m->store, ES_MIGRATE_READ_BATCH);
	return 0;
}

static const char *
item_rel(const struct mig *m, const struct item *it)
{
	return m->t.files[it->file].rel;
}

/*
 * Unordered bulk inserts of the items recognise() did not find (status 0),
 * batch by batch (progress after each). Their status becomes the
 * insert's. -1 when the connection was lost: what was not sent gets -2
 * (not sent).
 */
static int
insert_all(struct mig *m, struct es_error *err)
{
	size_t batch = m->r->batch_size;

	m->docs_done = m->docs_total = 0;
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];

		ks->nsend = 0;
		for (size_t i = 0; i < ks->n; i++) {
			if (ks->status[i] != 0)
				continue;
			ks->status[i] = -2;
			ks->docs[ks->nsend] = ks->items[i].doc;
			ks->send[ks->nsend++] = i;
		}
		m->docs_total += ks->nsend;
	}
	progress(m, ES_MIGRATE_WRITE, m->t.nfiles);
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];
		int *st = es_xcalloc(batch, sizeof(*st));

		for (size_t start = 0; start < ks->nsend; start += batch) {
			size_t cnt = ks->nsend - start < batch ?
			    ks->nsend - start : batch;
			struct es_error e;
			int rc;

			es_error_clear(&e);
			rc = es_store_insert_many(m->store, kinds[k],
			    ks->docs + start, cnt, batch, st, &e);
			for (size_t j = 0; j < cnt; j++) {
				struct item *it = &ks->items[ks->send[start +
				    j]];
				struct es_error p;

				ks->status[ks->send[start + j]] = st[j];
				if (st[j] == 0) {
					/* Accepted: what was sent. */
					it->match = M_EQUAL;
					bson_oid_copy(&it->id, &it->db_id);
					it->db_created_at = m->now;
					it->db_updated_at = m->now;
				}
				if (st[j] != -1)
					continue;
				es_error_set(&p, ES_EDB, item_rel(m, it),
				    it->line, "document refused by the "
				    "database: %s", e.msg);
				add_problem(m->r, &p);
			}
			m->docs_done += cnt;
			progress(m, ES_MIGRATE_WRITE, m->t.nfiles);
			if (rc < 0) {
				free(st);
				*err = e;
				return -1;
			}
		}
		free(st);
	}
	return 0;
}

static void
item_problem(struct mig *m, const struct item *it, const char *msg)
{
	struct es_error p;

	es_error_set(&p, ES_EDB, item_rel(m, it), it->line, "%s", msg);
	add_problem(m->r, &p);
}

/* One item into c, from its status (recognise(), then the insert's). */
static void
tally_item(struct mig *m, const struct item *it, int status,
    struct es_migrate_count *c)
{
	switch (status) {
	case 0:
		c->inserted++;	/* or, in a dry run, would be */
		return;
	case 1:
		if (it->match == M_NONE) {
			/* Not there when read, refused when sent. */
			c->failed++;
			item_problem(m, it, "refused as a duplicate: a "
			    "document with its _id or slug appeared during "
			    "the import; execsyncd --once pairs them");
			return;
		}
		c->present++;
		if (it->match == M_DIFFERS)
			c->differs++;
		return;
	default:
		c->failed++;	/* refused (reported then) or not sent */
	}
}

/* Per kind: inserted, present, differs, failed from the statuses. */
static void
tally(struct mig *m)
{
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];
		struct es_migrate_count *c = &m->r->count[k];

		c->failed = ks->load_failed;
		for (size_t i = 0; i < ks->n; i++)
			tally_item(m, &ks->items[i], ks->status[i], c);
	}
}

/* ---- the baseline ---- */

char *
es_migrate_identity(const char *uri, const char *database,
    const char *user_id)
{
	char *red = es_uri_redact(uri ? uri : ""), *out;
	const char *p = strstr(red, "://"), *hosts, *at;
	size_t schemelen, len;

	if (p == NULL) {
		out = es_xasprintf("%s/%s user_id=%s", red,
		    database ? database : "", user_id ? user_id : "");
		free(red);
		return out;
	}
	schemelen = (size_t)(p - red);
	hosts = p + 3;
	len = strcspn(hosts, "/?");
	/* No user name: who logs in does not change whose data it is. */
	for (at = hosts + len; at > hosts && at[-1] != '@'; at--)
		;
	if (at > hosts) {
		len -= (size_t)(at - hosts);
		hosts = at;
	}
	out = es_xasprintf("%.*s://%.*s/%s user_id=%s", (int)schemelen, red,
	    (int)len, hosts, database ? database : "",
	    user_id ? user_id : "");
	free(red);
	return out;
}

/*
 * SPEC 4.18: a folder whose baseline holds entity rows is synced already,
 * and importing it again could only add copies of what the sync keeps
 * (issue 14: an action the API created, or one edited or moved since, has
 * no _id the import could recompute). The run is refused before anything
 * is written, dry run included: with this database and user, execsyncd
 * --once syncs the changes; with another (a typo in --user-id or
 * --database), execsyncd --once --resync adopts it on purpose. A baseline
 * without entity rows (an import that died before its one commit, a pass
 * over an empty folder) is not a synced folder.
 */
static int
check_baseline(struct mig *m, struct es_error *err)
{
	struct es_baseline *b;
	struct stat st;
	char *old = NULL, *ident;
	size_t nfiles, nentities;
	int e;

	if (fstatat(m->root, ES_BASELINE_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return es_error_set_sys(err, e, ES_BASELINE_FILE,
		    "cannot read");
	}
	if ((b = es_baseline_open_root(m->o->source, err)) == NULL)
		return -1;
	if (es_baseline_count(b, &nfiles, &nentities, err) < 0 ||
	    es_baseline_get_meta(b, "identity", &old, err) < 0) {
		es_baseline_free(b);
		return -1;
	}
	es_baseline_free(b);
	if (nentities == 0) {
		free(old);
		return 0;
	}
	ident = es_migrate_identity(m->o->uri, m->o->database, m->o->user_id);
	if (old != NULL && strcmp(old, ident) == 0)
		es_error_set(err, ES_ECONFIG, m->o->source, 0, "already synced "
		    "with %s (%zu entities in %s): nothing imported; run "
		    "execsyncd --once to sync changes", ident, nentities,
		    ES_BASELINE_FILE);
	else
		es_error_set(err, ES_ECONFIG, m->o->source, 0, "synced with "
		    "%s%s%s (%zu entities in %s), not with '%s': nothing "
		    "imported; check --user-id and --database, or let "
		    "execsyncd --once --resync adopt the new one on purpose "
		    "(it matches by identity, creates what the database "
		    "lacks and deletes nothing)", old ? "'" : "", old ? old :
		    "a database and user it does not name", old ? "'" : "",
		    nentities, ES_BASELINE_FILE, ident);
	free(old);
	free(ident);
	return -1;
}

/*
 * One entity row. The base is the document as the database holds it: id,
 * created_at and updated_at are the document's (ours, unless an earlier
 * run or the API wrote it).
 */
static int
put_row(struct mig *m, struct es_baseline *b, enum es_kind kind,
    const struct item *it, const bson_oid_t *id, int64_t created_at,
    int64_t updated_at, struct es_error *err)
{
	const struct es_tree_file *f = &m->t.files[it->file];
	struct es_base_entity be;
	bson_t *base = it->doc, *own = NULL;
	int rc;

	memset(&be, 0, sizeof(be));
	if (!bson_oid_equal(id, &it->id) || created_at != m->now ||
	    updated_at != m->now) {
		own = bson_new();
		if (kind == ES_KIND_ACTION) {
			struct es_action tmp = *es_action_list_get(f->list,
			    it->pos);

			set_meta(&tmp.meta, id, 0);
			tmp.meta.created_at = created_at;
			tmp.meta.updated_at = updated_at;
			es_action_encode(&tmp, m->o->user_id, own);
		} else {
			struct es_entity tmp = f->entity;

			set_meta(&tmp.meta, id, 0);
			tmp.meta.created_at = created_at;
			tmp.meta.updated_at = updated_at;
			es_entity_encode(&tmp, m->o->user_id, own);
		}
		base = own;
	}
	bson_oid_copy(id, &be.id);
	be.kind = kind;
	be.rel = f->rel;
	if (kind == ES_KIND_ACTION) {
		be.pos = it->pos;
		be.line = es_action_list_raw(f->list, it->pos, &be.line_len);
	}
	be.doc_updated_at = updated_at;
	be.fp = it->fp;
	be.base = bson_get_data(base);
	be.base_len = base->len;
	rc = es_baseline_put_entity(b, &be, err);
	if (own != NULL)
		bson_destroy(own);
	return rc;
}

/*
 * The baseline is written by a thread of its own while the inserts run, so
 * SQLite's work (about 0.1 s for 22,000 rows) hides behind the waits on
 * the network instead of adding to them. Inside one transaction it first
 * writes every row as if every insert will succeed (what a first import
 * sees), then waits for the outcome, corrects the rows of the entities
 * that did not get there as sent, and commits: all or nothing.
 *
 * Sharing: until the outcome is handed over (bl->decided, under bl->mu)
 * the thread reads only what no one changes after build(): the tree, the
 * items' ids, fingerprints and documents, file_ok. After it, the main
 * thread only waits for it.
 */
static void *
bl_main(void *arg)
{
	struct bl *bl = arg;
	struct mig *m = bl->m;
	struct es_baseline *b;
	struct es_error *err = &bl->err;
	char *ident = NULL;
	bool *ok = NULL, commit = false;
	size_t nfiles, nentities;

	bl->rc = -1;
	if ((b = es_baseline_open_root(m->o->source, err)) == NULL)
		goto wait;
	if (es_baseline_begin(b, err) < 0)
		goto wait;
	/*
	 * check_baseline() let the run go on: no entity rows. Were there
	 * some now, a sync pass wrote them meanwhile: never overwrite it.
	 * Rows of files alone (say an empty list) are rewritten below.
	 */
	if (es_baseline_count(b, &nfiles, &nentities, err) < 0)
		goto wait;
	if (nentities > 0) {
		bl->synced = true;
		es_error_set(err, ES_EIO, ES_BASELINE_FILE, 0, "%zu entities "
		    "were synced while importing: the baseline is left as "
		    "it is, the first execsyncd --once pairs the documents",
		    nentities);
		goto wait;
	}
	if (es_baseline_clear(b, err) < 0)
		goto wait;
	ident = es_migrate_identity(m->o->uri, m->o->database, m->o->user_id);
	if (es_baseline_set_meta(b, "identity", ident, err) < 0)
		goto wait;
	for (int k = 0; k < NKINDS; k++)
		for (size_t i = 0; i < m->k[k].n; i++)
			if (put_row(m, b, kinds[k], &m->k[k].items[i],
			    &m->k[k].items[i].id, m->now, m->now, err) < 0)
				goto wait;
	for (size_t i = 0; i < m->t.nfiles; i++) {
		const struct es_tree_file *f = &m->t.files[i];
		struct es_base_file bf;

		if (!m->file_ok[i])
			continue;
		bf.rel = f->rel;
		bf.st = f->st;
		bf.raw_fp = f->raw_fp;
		if (es_baseline_put_file(b, &bf, err) < 0)
			goto wait;
	}
	bl->rc = 0;
wait:
	pthread_mutex_lock(&bl->mu);
	while (!bl->decided)
		pthread_cond_wait(&bl->cv, &bl->mu);
	commit = bl->commit;
	pthread_mutex_unlock(&bl->mu);
	if (bl->rc < 0 || !commit)
		goto fail;

	/* The outcome: correct what did not go as sent. */
	bl->rc = -1;
	ok = es_xcalloc(m->t.nfiles ? m->t.nfiles : 1, sizeof(*ok));
	memcpy(ok, m->file_ok, m->t.nfiles * sizeof(*ok));
	for (int k = 0; k < NKINDS; k++)
		for (size_t i = 0; i < m->k[k].n; i++) {
			struct item *it = &m->k[k].items[i];
			bool same_id = bson_oid_equal(&it->db_id, &it->id);

			if (it->match != M_EQUAL || !same_id)
				if (es_baseline_delete_entity(b, &it->id,
				    err) < 0)
					goto fail;
			if (it->match != M_EQUAL) {
				/* A file row says "read and synced": only
				 * when all of it was. */
				ok[it->file] = false;
				continue;
			}
			if ((!same_id || it->db_created_at != m->now ||
			    it->db_updated_at != m->now) && put_row(m, b,
			    kinds[k], it, &it->db_id, it->db_created_at,
			    it->db_updated_at, err) < 0)
				goto fail;
			bl->entities++;
		}
	for (size_t i = 0; i < m->t.nfiles; i++) {
		if (ok[i]) {
			bl->files++;
			continue;
		}
		if (m->file_ok[i] && es_baseline_delete_file(b,
		    m->t.files[i].rel, err) < 0)
			goto fail;
	}
	if (es_baseline_commit(b, err) < 0)
		goto fail;
	bl->rc = 0;
	goto out;
fail:
	bl->rc = commit ? -1 : 0;
	bl->entities = bl->files = 0;
	if (b != NULL)
		es_baseline_rollback(b);
out:
	free(ok);
	free(ident);
	es_baseline_free(b);
	return NULL;
}

/* Starts the baseline thread; without a thread, bl_finish() runs it. */
static void
bl_start(struct mig *m)
{
	struct bl *bl = &m->bl;

	memset(bl, 0, sizeof(*bl));
	bl->m = m;
	pthread_mutex_init(&bl->mu, NULL);
	pthread_cond_init(&bl->cv, NULL);
	bl->active = true;
	bl->threaded = pthread_create(&bl->thr, NULL, bl_main, bl) == 0;
}

/*
 * Hands the outcome over (commit: write it; else roll back) and waits for
 * the thread. Returns its status, err filled on failure.
 */
static int
bl_finish(struct mig *m, bool commit, struct es_error *err)
{
	struct bl *bl = &m->bl;

	if (!bl->active)
		return 0;
	pthread_mutex_lock(&bl->mu);
	bl->decided = true;
	bl->commit = commit;
	pthread_cond_signal(&bl->cv);
	pthread_mutex_unlock(&bl->mu);
	if (bl->threaded)
		pthread_join(bl->thr, NULL);
	else
		bl_main(bl);
	pthread_cond_destroy(&bl->cv);
	pthread_mutex_destroy(&bl->mu);
	bl->active = false;
	if (!commit)
		return 0;
	if (bl->rc < 0) {
		*err = bl->err;
		return -1;
	}
	m->r->baseline_written = true;
	m->r->baseline_entities = bl->entities;
	m->r->baseline_files = bl->files;
	return 0;
}

/* ---- the run ---- */

static void
mig_release(struct mig *m)
{
	struct es_error ignored;

	/* The baseline thread reads m: it must be done first. */
	bl_finish(m, false, &ignored);
	es_lock_release(m->lock);
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];

		for (size_t i = 0; i < ks->n; i++) {
			if (ks->items[i].doc != NULL)
				bson_destroy(ks->items[i].doc);
			if (ks->items[i].cand != NULL)
				bson_destroy(ks->items[i].cand);
		}
		free(ks->items);
		free(ks->docs);
		free(ks->send);
		free(ks->status);
		free(ks->by_id);
		free(ks->by_slug);
	}
	if (m->loaded)
		es_tree_release(&m->t);
	free(m->file_ok);
	es_store_free(m->store);
	if (m->root >= 0)
		close(m->root);
}

/*
 * One execsync process per root (lock.h): an import beside a running pass
 * would write the baseline under it. A dry run writes nothing and needs
 * no lock.
 */
static int
take_lock(struct mig *m, struct es_error *err)
{
	pid_t holder;

	switch (es_lock_take(m->root, &m->lock, &holder, err)) {
	case ES_LOCK_TAKEN:
		return 0;
	case ES_LOCK_HELD:
		if (holder > 0)
			return es_error_set(err, ES_EBUSY, m->o->source, 0,
			    "held by another execsync process (pid %ld): "
			    "nothing imported, try again when it is done",
			    (long)holder);
		return es_error_set(err, ES_EBUSY, m->o->source, 0, "held by "
		    "another execsync process: nothing imported, try again "
		    "when it is done");
	case ES_LOCK_ERROR:
	default:
		return -1;
	}
}

static int
start(struct mig *m, const struct es_migrate_opts *o,
    struct es_migrate_result *r, bool check, struct es_error *err)
{
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	m->o = o;
	m->r = r;
	m->root = -1;
	m->now = o->now_ms ? o->now_ms : real_ms();
	r->dry_run = o->dry_run;
	r->batch_size = o->batch_size ? o->batch_size :
	    ES_MIGRATE_BATCH_DEFAULT;
	if (r->batch_size > ES_MIGRATE_BATCH_MAX)
		return es_error_set(err, ES_ECONFIG, NULL, 0, "batch size %zu "
		    "over the limit of %d", r->batch_size,
		    ES_MIGRATE_BATCH_MAX);
	if (o->user_id == NULL || o->user_id[0] == '\0')
		return es_error_set(err, ES_ECONFIG, NULL, 0,
		    "no user id given");
	if (open_source(o->source, &m->root, err) < 0)
		return -1;
	if (check && !o->dry_run && take_lock(m, err) < 0)
		return -1;
	if (check && check_baseline(m, err) < 0)
		return -1;
	if (load(m, err) < 0)
		return -1;
	build(m);
	return 0;
}

/* Every item failed: nothing is known of the database. */
static void
all_unsent(struct mig *m)
{
	for (int k = 0; k < NKINDS; k++)
		for (size_t i = 0; i < m->k[k].n; i++)
			m->k[k].status[i] = -2;
}

int
es_migrate_run(const struct es_migrate_opts *o, struct es_migrate_result *r,
    struct es_error *err)
{
	struct mig m;
	double t0 = mono_ms(), t1;
	int rc = -1;

	if (start(&m, o, r, true, err) < 0)
		goto out;
	r->load_ms = mono_ms() - t0;
	t1 = mono_ms();
	if (o->uri == NULL || o->database == NULL || o->database[0] == '\0') {
		es_error_set(err, ES_ECONFIG, NULL, 0,
		    "no mongodb uri or database given");
		goto out;
	}
	if (connect_store(&m, err) < 0 || recognise(&m, err) < 0) {
		all_unsent(&m);
		tally(&m);
		goto out;
	}
	r->read_ms = mono_ms() - t1;
	if (o->dry_run) {
		tally(&m);
		rc = 0;
		goto out;
	}
	t1 = mono_ms();
	if (es_store_ensure_indexes(m.store, err) < 0) {
		all_unsent(&m);
		tally(&m);
		goto out;
	}
	r->baseline_path = es_xasprintf("%s/%s", o->source, ES_BASELINE_FILE);
	bl_start(&m);
	if (insert_all(&m, err) < 0) {
		size_t unsent = 0;
		struct es_error e = *err;

		for (int k = 0; k < NKINDS; k++)
			for (size_t i = 0; i < m.k[k].n; i++)
				unsent += m.k[k].status[i] == -2;
		es_error_set(err, ES_EDB, e.path, 0, "%s; %zu documents not "
		    "written: rerunning execsync-migrate finishes the job",
		    e.msg, unsent);
		tally(&m);
		r->insert_ms = mono_ms() - t1;
		goto out;
	}
	tally(&m);
	r->insert_ms = mono_ms() - t1;
	t1 = mono_ms();
	m.docs_done = m.docs_total;
	progress(&m, ES_MIGRATE_BASELINE, m.t.nfiles);
	if (bl_finish(&m, true, err) < 0) {
		struct es_error e = *err;

		if (!m.bl.synced)
			es_error_set(err, e.code, e.path, e.line, "%s; the "
			    "documents are written, rerunning "
			    "execsync-migrate writes the baseline", e.msg);
		goto out;
	}
	r->baseline_ms = mono_ms() - t1;
	rc = 0;
out:
	if (m.store != NULL)
		r->round_trips = es_store_round_trips(m.store);
	r->total_ms = mono_ms() - t0;
	mig_release(&m);
	return rc;
}

void
es_migrate_result_release(struct es_migrate_result *r)
{
	if (r == NULL)
		return;
	free(r->problems);
	free(r->notes);
	free(r->baseline_path);
	memset(r, 0, sizeof(*r));
}

struct es_migrate_count
es_migrate_total(const struct es_migrate_result *r)
{
	struct es_migrate_count t = { 0, 0, 0, 0, 0 };

	for (int k = 0; k < NKINDS; k++) {
		t.found += r->count[k].found;
		t.inserted += r->count[k].inserted;
		t.present += r->count[k].present;
		t.differs += r->count[k].differs;
		t.failed += r->count[k].failed;
	}
	return t;
}

int
es_migrate_build_docs(const struct es_migrate_opts *o,
    struct es_migrate_docs *d, struct es_error *err)
{
	struct es_migrate_result r;
	struct mig m;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (start(&m, o, &r, false, err) < 0)
		goto out;
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m.k[k];

		d->docs[k] = es_xcalloc(ks->n ? ks->n : 1, sizeof(bson_t *));
		for (size_t i = 0; i < ks->n; i++) {
			/* Handed over. */
			d->docs[k][i] = ks->items[i].doc;
			ks->items[i].doc = NULL;
		}
		d->n[k] = ks->n;
	}
	rc = 0;
out:
	mig_release(&m);
	es_migrate_result_release(&r);
	return rc;
}

void
es_migrate_docs_release(struct es_migrate_docs *d)
{
	if (d == NULL)
		return;
	for (int k = 0; k < NKINDS; k++) {
		for (size_t i = 0; i < d->n[k]; i++)
			bson_destroy(d->docs[k][i]);
		free(d->docs[k]);
	}
	memset(d, 0, sizeof(*d));
}
