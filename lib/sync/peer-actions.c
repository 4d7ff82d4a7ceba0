/*
 * The actions peer of the pass (pass.h): action lines carry no ids, so
 * the lines of every list file that changed since the baseline are paired
 * with the baseline's lines (action-match.h), then with documents by the
 * id migrate or a crashed pass gave them, then by identity (SPEC 4.17);
 * each action is planned by es_plan_action_ops() (SPEC §2 "Action list
 * files", §4 rules 5, 7, 8, 15, 17). Applying and the commit are
 * peer-actions-apply.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-ident.h"
#include "execsync/action-list.h"
#include "execsync/action-match.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/fingerprint.h"
#include "execsync/log.h"
#include "execsync/plan-action.h"
#include "execsync/xmalloc.h"

#include "pass.h"

struct es__acts *
es__acts_new(struct es__pass *p)
{
	struct es__acts *a = es_xcalloc(1, sizeof(*a));

	a->p = p;
	a->maxseen = -1;
	return a;
}

static size_t
list_add(struct es__acts *a, const char *rel, const struct es_path_info *info)
{
	struct alist *l;

	if (a->nlists == a->alists) {
		a->alists = a->alists ? 2 * a->alists : 16;
		a->lists = es_xreallocarray(a->lists, a->alists,
		    sizeof(*a->lists));
	}
	l = &a->lists[a->nlists];
	memset(l, 0, sizeof(*l));
	l->rel = es_xstrdup(rel);
	l->info = *info;
	return a->nlists++;
}

void
es__acts_add_list(struct es__acts *a, const char *rel,
    const struct es_path_info *info, const struct es_stat *st)
{
	size_t i = list_add(a, rel, info);

	a->lists[i].on_disk = true;
	a->lists[i].st = *st;
}

static ssize_t
list_find(struct es__acts *a, const char *rel)
{
	/* Actions come by list (the baseline's order): the last one first. */
	if (a->last_list < a->nlists &&
	    strcmp(a->lists[a->last_list].rel, rel) == 0)
		return (ssize_t)a->last_list;
	for (size_t i = 0; i < a->nlists; i++)
		if (strcmp(a->lists[i].rel, rel) == 0) {
			a->last_list = i;
			return (ssize_t)i;
		}
	return -1;
}

ssize_t
es__acts_list_get(struct es__acts *a, const char *rel)
{
	struct es_path_info info;
	ssize_t i = list_find(a, rel);

	if (i >= 0)
		return i;
	if (es_layout_classify(rel, a->p->o->ignore, &info) != 1 ||
	    info.kind != ES_KIND_ACTION)
		return -1;
	return (ssize_t)list_add(a, rel, &info);
}

static struct act *
act_new(struct es__acts *a)
{
	struct act *t;

	if (a->nacts == a->aacts) {
		a->aacts = a->aacts ? 2 * a->aacts : 64;
		a->acts = es_xreallocarray(a->acts, a->aacts,
		    sizeof(*a->acts));
	}
	t = &a->acts[a->nacts++];
	memset(t, 0, sizeof(*t));
	es_action_init(&t->base);
	es_action_init(&t->db);
	es_action_init(&t->file);
	t->list = NOIDX;
	t->pos = NOIDX;
	return t;
}

/* ---- the baseline ---- */

/* A baseline row's base into t->base; -1 (said) when it does not decode. */
static int
decode_base(struct act *t, const uint8_t *data, size_t len, const char *rel)
{
	struct es_error err;
	bson_t doc;

	if (data == NULL || !bson_init_static(&doc, data, len)) {
		es_log(ES_LOG_WARN, SUB, "%s: baseline row is corrupt, ignored",
		    rel);
		return -1;
	}
	es_action_release(&t->base);
	if (es_action_decode(&doc, &t->base, &err) < 0) {
		es_log(ES_LOG_WARN, SUB, "%s: baseline row does not decode, "
		    "ignored: %s", rel, err.msg);
		es_action_release(&t->base);
		es_action_init(&t->base);
		return -1;
	}
	return 0;
}

/*
 * A row of the baseline walk. The walk without bases (a since-pass) leaves
 * t->base to base_need(): decoding every base was most of a no-op pass,
 * and only the actions whose list is read or whose document came back
 * need theirs (the others are left alone, SPEC 4.10).
 */
static int
on_base(const struct es_base_entity *be, void *ud)
{
	struct es__acts *a = ud;
	struct act *t;

	if (be->kind != ES_KIND_ACTION)
		return 0;
	t = act_new(a);
	if (be->base == NULL)
		t->base_lazy = true;
	else if (decode_base(t, be->base, be->base_len, be->rel) < 0) {
		a->nacts--;
		return 0;
	}
	t->has_base = true;
	bson_oid_copy(&be->id, &t->id);
	t->base.meta.id = be->id;
	t->base.meta.has_id = true;
	t->base_rel = es_xstrdup(be->rel);
	t->base_pos = be->pos;
	t->base_line = es_xmalloc(be->line_len + 1);
	if (be->line_len > 0)
		memcpy(t->base_line, be->line, be->line_len);
	t->base_line[be->line_len] = '\0';
	t->base_line_len = be->line_len;
	t->base_ua = be->doc_updated_at;
	return 0;
}

static int
cmp_act_id(const void *x, const void *y)
{
	return memcmp(((const struct es__act_id *)x)->id.bytes,
	    ((const struct es__act_id *)y)->id.bytes, sizeof(bson_oid_t));
}

static ssize_t
find_by_id(struct es__acts *a, const bson_oid_t *id)
{
	size_t lo = 0, hi = a->nby_id, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(id->bytes, a->by_id[mid].id.bytes, sizeof(*id));
		if (c == 0)
			return (ssize_t)a->by_id[mid].i;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static void
index_ids(struct es__acts *a)
{
	free(a->by_id);
	a->by_id = es_xcalloc(a->nacts ? a->nacts : 1, sizeof(*a->by_id));
	a->nby_id = 0;
	for (size_t i = 0; i < a->nacts; i++)
		if (a->acts[i].has_base || a->acts[i].has_db) {
			a->by_id[a->nby_id].id = a->acts[i].id;
			a->by_id[a->nby_id++].i = i;
		}
	qsort(a->by_id, a->nby_id, sizeof(*a->by_id), cmp_act_id);
}

/* An unchanged document: the base, at the baseline's version. */
static void
db_from_base(struct act *t)
{
	es_action_release(&t->db);
	es_action_copy(&t->db, &t->base);
	t->db.meta = t->base.meta;
	t->db.meta.updated_at = t->base_ua;
}

/*
 * t's base when the walk left it out: read and decoded now, and the
 * document that stood for it (not returned, or returned at the base's
 * version: doc_is_base()) made from it. A row that does not decode is as
 * if it were not there, as on_base() ignores one; a document taken for
 * it is then left alone (db_broken), never lost, until a full read
 * decodes it.
 */
static int
base_need(struct es__acts *a, struct act *t, struct es_error *err)
{
	const uint8_t *data;
	size_t len;
	bool found;

	if (!t->base_lazy)
		return 0;
	t->base_lazy = false;
	if (a->p->base->get_base(a->p->base->ctx, &t->id, &data, &len,
	    &found, err) < 0)
		return -1;
	if (!found || decode_base(t, data, len, t->base_rel) < 0) {
		t->has_base = false;
		if (t->db_as_base && t->db_seen)
			t->db_broken = true;	/* see above */
		else if (t->db_as_base)
			t->has_db = false;
		return 0;
	}
	t->base.meta.id = t->id;
	t->base.meta.has_id = true;
	if (t->db_as_base)
		db_from_base(t);
	return 0;
}

static int
load_baseline(struct es__acts *a, struct es_error *err)
{
	if (a->p->ignore_base)
		return 0;
	/* A full read compares every document with its base: all of them. */
	if ((a->p->read.full_actions ? a->p->base->each_entity :
	    a->p->base->each_entity_nobase)(a->p->base->ctx, on_base, a,
	    err) < 0)
		return -1;
	a->nbase = a->nacts;
	index_ids(a);
	for (size_t i = 0; i < a->nlists; i++) {
		struct es_base_file bf;
		bool found = false;

		if (a->p->base->get_file(a->p->base->ctx, a->lists[i].rel, &bf, &found,
		    err) < 0)
			return -1;
		a->lists[i].stat_same = found && es__same_stat(&bf.st,
		    &a->lists[i].st) && !es__must_read(a->p, a->lists[i].rel);
	}
	/* Lists of the baseline that are gone. */
	for (size_t i = 0; i < a->nbase; i++)
		if (es__acts_list_get(a, a->acts[i].base_rel) < 0)
			a->acts[i].has_base = false;	/* outside now */
	return 0;
}

/* ---- the database ---- */

/* An _id against a named document of the trigger (sorted by _id). */
static int
cmp_named(const void *key, const void *elem)
{
	return bson_oid_compare(key, &((const struct es__named *)elem)->id);
}

/*
 * Whether doc, returned by a since-query, is at the version t's baseline
 * row recorded and not deleted: then it is taken for the base, and
 * neither it nor the base is decoded (the no-op pass decoded both for
 * every document of the lookback window). Is this safe? The version is
 * updated_at: every write of ours sets a new one, later than the one it
 * expects, by compare-and-swap (SPEC 4.12), but the API is only bound to
 * set updated_at (SPEC 3), with its own clock, which may be behind: a
 * write of the API can carry the version it replaced (a clock set back,
 * two writes in one millisecond). So it is not provably safe, and it is
 * taken only where the pass trusts updated_at already: a since-pass takes
 * every document the query does not return for its base on that same
 * evidence (es_read_unseen_is_base()). A full read (full_pass_s, --force)
 * is the check of that trust and decodes every document and every base
 * (its walk is not lazy, so t->base_lazy is false), and a document a
 * change source named (the trigger's ids) is decoded: the event says it
 * changed.
 */

static bool
doc_is_base(const struct es__acts *a, const bson_t *doc,
    const bson_oid_t *id, const struct act *t, int64_t *ua)
{
	bson_iter_t it;

	if (a->full || !t->base_lazy || !t->has_base || t->db_seen ||
	    (a->nnamed > 0 && bsearch(id, a->named, a->nnamed,
	    sizeof(*a->named), cmp_named) != NULL) ||
	    !bson_iter_init_find(&it, doc, "updated_at") ||
	    !BSON_ITER_HOLDS_DATE_TIME(&it) ||
	    (*ua = bson_iter_date_time(&it)) != t->base_ua ||
	    !bson_iter_init_find(&it, doc, "deleted") ||
	    !BSON_ITER_HOLDS_BOOL(&it) || bson_iter_bool(&it))
		return false;
	return true;
}

static int
on_doc(const bson_t *doc, void *ud)
{
	struct es__acts *a = ud;
	struct es_action tmp;
	struct es_error err;
	bson_iter_t it;
	ssize_t bi = -1;
	struct act *t;

	a->p->r->docs_read++;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it)) {
		bi = find_by_id(a, bson_iter_oid(&it));
		es__changes_seen(a->named, a->nnamed, bson_iter_oid(&it));
	}
	if (es_action_decode(doc, &tmp, &err) < 0) {
		es_action_release(&tmp);
		es__add_failure(a->p, &err);
		if (bi >= 0) {
			a->acts[bi].db_broken = true;
			a->acts[bi].db_seen = true;
		}
		return 0;
	}
	if (tmp.meta.updated_at > a->maxseen)
		a->maxseen = tmp.meta.updated_at;
	t = bi >= 0 ? &a->acts[bi] : act_new(a);
	if (bi < 0)
		bson_oid_copy(&tmp.meta.id, &t->id);
	es_action_release(&t->db);
	t->db = tmp;
	t->has_db = t->db_seen = true;
	t->db_ua = tmp.meta.updated_at;
	return 0;
}

/* A document of the since-query: on_doc(), or the base (doc_is_base()). */
static int
on_doc_since(const bson_t *doc, void *ud)
{
	struct es__acts *a = ud;
	const bson_oid_t *id;
	bson_iter_t it;
	struct act *t;
	ssize_t bi;
	int64_t ua;

	if (a->full || !bson_iter_init_find(&it, doc, "_id") ||
	    !BSON_ITER_HOLDS_OID(&it) ||
	    (bi = find_by_id(a, (id = bson_iter_oid(&it)))) < 0 ||
	    !doc_is_base(a, doc, id, &a->acts[bi], &ua))
		return on_doc(doc, ud);
	a->p->r->docs_read++;
	t = &a->acts[bi];
	if (ua > a->maxseen)
		a->maxseen = ua;
	t->has_db = t->db_seen = t->db_as_base = true;
	t->db_ua = ua;
	return 0;
}

static int
load_docs(struct es__acts *a, struct es_error *err)
{
	int64_t wm;
	int rc;

	if (es__get_watermark(a->p, ES_KIND_ACTION, &wm, err) < 0)
		return -1;
	a->full = a->p->read.full_actions;
	if (wm > a->maxseen)
		a->maxseen = wm;
	/*
	 * A since-read adds the trigger's documents by _id; a quiet one
	 * (by_id) reads only those (world.h).
	 */
	if (a->p->read.since[ES_READ_ACTIONS] >= 0)
		a->named = es__changes_of(a->p, ES_KIND_ACTION, &a->nnamed);
	rc = 0;
	if (!a->p->read.by_id[ES_READ_ACTIONS])
		rc = a->p->db->find(a->p->db->ctx, ES_KIND_ACTION,
		    a->p->o->user_id, a->p->read.since[ES_READ_ACTIONS],
		    on_doc_since, a, err);
	if (rc == 0)
		rc = es__changes_read(a->p, ES_KIND_ACTION, a->named,
		    a->nnamed, on_doc, a, err);
	for (size_t i = 0; rc == 0 && i < a->nnamed; i++) {
		ssize_t bi;

		/* Gone: as a full read sees it (SPEC 4.5). */
		if (a->named[i].vanished &&
		    (bi = find_by_id(a, &a->named[i].id)) >= 0 &&
		    !a->acts[bi].has_db)
			a->acts[bi].db_seen = true;
	}
	free(a->named);
	a->named = NULL;
	a->nnamed = 0;
	if (rc < 0)
		return -1;
	/* Not returned by a since-query: unchanged since the baseline. */
	for (size_t i = 0; i < a->nbase; i++) {
		struct act *t = &a->acts[i];

		if (!es_read_unseen_is_base(a->full, t->has_base, t->db_seen)) {
			/* A new version came back: compared with its base. */
			if (t->has_base && !t->db_as_base &&
			    base_need(a, t, err) < 0)
				return -1;
			continue;
		}
		t->db_ua = t->base_ua;
		t->has_db = t->db_as_base = true;
		if (!t->base_lazy)
			db_from_base(t);	/* else base_need() makes it */
	}
	index_ids(a);
	return 0;
}

int
es__acts_list_load(struct es__acts *a, size_t li)
{
	struct alist *l = &a->lists[li];
	const char *ctx = l->info.context[0] ? l->info.context : NULL;
	struct es_error err;
	size_t n;

	if (l->l != NULL)
		return 0;
	/*
	 * A list the scan could not take (its folder unreadable, a symbolic
	 * link) is no empty list: its lines stay as the baseline has them
	 * (the scan's problem is reported once, by the caller).
	 */
	if (es__unreadable(a->p, l->rel)) {
		l->broken = true;
		return -1;
	}
	es_buf_reset(&a->buf);
	if (l->on_disk) {
		if (a->p->fs->read(a->p->fs->ctx, l->rel, es__max_size(a->p), &a->buf,
		    &l->read_st, &err) < 0) {
			if (!(err.code == ES_EIO && err.sys == ENOENT)) {
				es__add_failure(a->p, &err);
				l->broken = true;
				return -1;
			}
		} else {
			l->exists = true;
			l->read_fp = es_fp_bytes(a->buf.buf, a->buf.len);
			a->p->r->files_read++;
		}
	}
	l->l = es_action_list_parse(a->buf.buf ? a->buf.buf : "",
	    a->buf.len, l->rel, l->info.list, ctx);
	for (size_t i = 0; i < es_action_list_nerrors(l->l); i++) {
		es__add_failure(a->p, es_action_list_error(l->l, i));
		l->broken = true;	/* re-read next pass: said again */
	}
	n = es_action_list_count(l->l);
	l->owner = es_xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		l->owner[i] = NOIDX;
	l->nowner = n;
	return 0;
}

/*
 * Which lists to read: changed on disk, gone, or touched by the database;
 * then the bases of the actions of the lists read (base_need()).
 */
static int
choose_lists(struct es__acts *a, struct es_error *berr)
{
	struct es_buf path = ES_BUF_INIT;
	struct es_error err;

	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];

		if (es_action_list_must_read(a->p->ignore_base, l->on_disk,
		    l->stat_same))
			es__acts_list_load(a, i);
	}
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];
		ssize_t li;

		/*
		 * Seen and no document: gone, as a full read sees it. Lazy:
		 * the document is the base's version.
		 */
		if (t->db_broken || (t->base_lazy && t->db_as_base) ||
		    !es_action_db_changed(t->has_base ? &t->base : NULL,
		    t->has_db ? &t->db : NULL, a->full || t->db_seen))
			continue;
		if (t->has_base && (li = list_find(a, t->base_rel)) >= 0)
			es__acts_list_load(a, (size_t)li);
		if (t->has_db && !t->db.meta.deleted &&
		    es_layout_action_path(&t->db, &path, &err) == 0 &&
		    (li = es__acts_list_get(a, path.buf)) >= 0)
			es__acts_list_load(a, (size_t)li);
	}
	es_buf_release(&path);
	for (size_t i = 0; i < a->nbase; i++) {
		struct act *t = &a->acts[i];
		ssize_t li;

		if (t->base_lazy && t->has_base &&
		    (li = list_find(a, t->base_rel)) >= 0 &&
		    a->lists[li].l != NULL && base_need(a, t, berr) < 0)
			return -1;
	}
	return 0;
}

/*
 * Identity (SPEC 4.17): documents without a base row meet lines by list
 * and text (action-ident.h, shared with execsync-migrate), sorted once so
 * that a pass with no baseline pairs N lines in O(N log N).
 */
static void
identity_index(struct es__acts *a, struct es_action_ident_index *ix)
{
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		if (!t->has_base && t->has_db && !t->db_broken)
			es_action_ident_add(ix, &t->db, i);
	}
	es_action_ident_sort(ix);
}

static bool
act_has_line(size_t ti, void *ud)
{
	const struct es__acts *a = ud;

	return a->acts[ti].has_file;
}

static ssize_t
find_identity(struct es__acts *a, const struct es_action_ident_index *ix,
    const char *rel, const struct es_action *x)
{
	ssize_t j = es_action_ident_pair(ix, x, rel, act_has_line, a);

	return j < 0 ? -1 : (ssize_t)ix->v[j].ref;
}

static void
take_line(struct es__acts *a, size_t ti, size_t li, size_t pos)
{
	struct act *t = &a->acts[ti];
	struct alist *l = &a->lists[li];

	t->has_file = true;
	t->list = li;
	t->pos = pos;
	es_action_release(&t->file);
	es_action_copy(&t->file, es_action_list_get(l->l, pos));
	l->owner[pos] = ti;
}

/*
 * Every line of the lists read: its baseline ancestor by the line matcher
 * first, then the document of the id migrate or a crashed pass gave it,
 * then one by identity, else a new action with its deterministic id.
 */
static void
pair_lines(struct es__acts *a)
{
	struct es_match_base *mb = NULL;
	struct es_match_line *ml = NULL;
	size_t *mbi = NULL, nb = 0, nl = 0, cap = 0;
	struct es_match *m = NULL;
	size_t nm = 0;
	struct es_action_ident_index ix = ES_ACTION_IDENT_INDEX_INIT;

	for (size_t i = 0; i < a->nlists; i++)
		if (a->lists[i].l != NULL)
			cap += a->lists[i].nowner;
	ml = es_xcalloc(cap ? cap : 1, sizeof(*ml));
	mb = es_xcalloc(a->nbase ? a->nbase : 1, sizeof(*mb));
	mbi = es_xcalloc(a->nbase ? a->nbase : 1, sizeof(*mbi));
	for (size_t i = 0; i < a->nbase; i++) {
		struct act *t = &a->acts[i];
		ssize_t li;

		if (!t->has_base || (li = list_find(a, t->base_rel)) < 0 ||
		    a->lists[li].l == NULL)
			continue;
		mb[nb].id = t->id;
		mb[nb].rel = t->base_rel;
		mb[nb].pos = t->base_pos;
		mb[nb].line = t->base_line;
		mb[nb].line_len = t->base_line_len;
		mb[nb].action = &t->base;
		mbi[nb++] = i;
	}
	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];

		if (l->l == NULL)
			continue;
		for (size_t j = 0; j < l->nowner; j++) {
			ml[nl].rel = l->rel;
			ml[nl].pos = (uint32_t)j;
			ml[nl].line = es_action_list_raw(l->l, j,
			    &ml[nl].line_len);
			ml[nl].action = es_action_list_get(l->l, j);
			nl++;
		}
	}
	es_action_match(mb, nb, ml, nl, &m, &nm);
	/* Lines with an ancestor first, so identity sees only the rest. */
	for (size_t k = 0; k < nl; k++) {
		size_t ti;
		ssize_t li;

		if (m[k].base == NULL)
			continue;
		ti = mbi[m[k].base - mb];
		li = list_find(a, m[k].now->rel);
		take_line(a, ti, (size_t)li, m[k].now->pos);
	}
	identity_index(a, &ix);
	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];
		unsigned *occ;

		if (l->l == NULL)
			continue;
		occ = es_action_list_occurrences(l->l);
		for (size_t j = 0; j < l->nowner; j++) {
			const struct es_action *x;
			const char *raw;
			size_t len;
			bson_oid_t id;
			ssize_t ti;

			if (l->owner[j] != NOIDX)
				continue;
			x = es_action_list_get(l->l, j);
			raw = es_action_list_raw(l->l, j, &len);
			/* The id migrate or a crashed pass gave this line. */
			id = es_docid_action(a->p->o->user_id, l->rel, occ[j],
			    raw, len, x);
			ti = find_by_id(a, &id);
			/*
			 * Its document is another line's (a crash between a
			 * move's two list writes left the line twice, and
			 * the copy at the destination took the document):
			 * this line's id is the next one free, the same in
			 * every pass, so its insert never meets a document
			 * that differs, pass after pass (issue 17, seed
			 * 26429); the copy becomes an action of its own,
			 * nothing lost.
			 */
			for (unsigned k = 1; ti >= 0 && (a->acts[ti].has_file ||
			    a->acts[ti].has_base) && k < 64; k++) {
				id = es_docid_action(a->p->o->user_id, l->rel,
				    occ[j] + 1000 * k, raw, len, x);
				ti = find_by_id(a, &id);
			}
			if (ti >= 0 && (a->acts[ti].has_file ||
			    a->acts[ti].has_base))
				ti = -1;
			if (ti < 0)
				ti = find_identity(a, &ix, l->rel, x);
			if (ti < 0) {
				struct act *t = act_new(a);

				t->id = id;	/* the id its insert gets */
				ti = (ssize_t)(t - a->acts);
			}
			take_line(a, (size_t)ti, i, j);
		}
		free(occ);
	}
	es_action_ident_release(&ix);
	free(m);
	free(mb);
	free(mbi);
	free(ml);
}

/* ---- planning ---- */

const char *
es__acts_cur_rel(const struct es__acts *a, const struct act *t)
{
	return t->list != NOIDX ? a->lists[t->list].rel : t->base_rel;
}

/* A list's state in this pass, for es_alone_action() (rules.h). */
static enum es_list_state
list_state(const struct es__acts *a, ssize_t li)
{
	const struct alist *l;

	if (li < 0)
		return ES_LIST_UNKNOWN;
	l = &a->lists[li];
	if (l->l == NULL)
		return ES_LIST_NOT_READ;
	return l->broken ? ES_LIST_BROKEN : ES_LIST_READ;
}

static void
decide(struct es__acts *a, struct act *t)
{
	struct es_alone_act al;
	struct es_action_plan_input in;
	struct es_error err;
	const struct alist *l = t->list != NOIDX ? &a->lists[t->list] : NULL;

	t->op_first = t->op_n = 0;
	memset(&al, 0, sizeof(al));
	al.db_broken = t->db_broken;
	al.has_base = t->has_base;
	al.has_line = t->has_file;
	al.base_list = t->has_base ? list_state(a, list_find(a,
	    t->base_rel)) : ES_LIST_UNKNOWN;
	al.line_list = t->list != NOIDX ? list_state(a, (ssize_t)t->list) :
	    ES_LIST_UNKNOWN;
	/*
	 * SPEC 4.10: a list not read holds the baseline's lines, unchanged;
	 * a line that no longer parses is reported, not taken for a removed
	 * one (no delete): its row waits.
	 */
	if (es_alone_action(&al))
		return;
	/* Not alone, so a list of it was read: choose_lists() decoded it. */
	if (t->base_lazy && base_need(a, t, &err) < 0) {
		es__add_failure(a->p, &err);
		t->failed = true;
		return;
	}
	memset(&in, 0, sizeof(in));
	if (t->has_base)
		in.base = &t->base;
	if (t->has_file) {
		in.file = &t->file;
		in.file_rel = l->rel;
		in.file_mtime_ms = (l->exists ? l->read_st.mtime_ns :
		    l->st.mtime_ns) / 1000000;
	}
	if (t->has_db) {
		in.db = &t->db;
		in.db_updated_at = t->db_ua;
	}
	if (t->has_base)
		in.base_rel = t->base_rel;
	/*
	 * Every action has its _id before it is planned: the document's, the
	 * baseline's, or the deterministic one of its line (docid.h); a
	 * document that vanished comes back under the id it had.
	 */
	in.id = t->id;
	in.has_id = true;
	es_error_clear(&err);
	t->op_first = a->p->r->plan.n;
	if (es_plan_action_ops(&in, a->p->o->policy, a->p->now_ms, &a->p->r->plan,
	    &err) < 0) {
		es__add_failure(a->p, &err);
		t->failed = true;
		return;
	}
	t->op_n = a->p->r->plan.n - t->op_first;
	t->decided = true;
}

int
es__acts_gather(struct es__acts *a, struct es_error *err)
{
	if (load_baseline(a, err) < 0 || load_docs(a, err) < 0)
		return -1;
	return choose_lists(a, err);
}

void
es__acts_pair(struct es__acts *a)
{
	pair_lines(a);
}

void
es__acts_plan(struct es__acts *a)
{
	for (size_t i = 0; i < a->nacts; i++)
		decide(a, &a->acts[i]);
	a->p->r->entities += a->nacts;
}

size_t
es__acts_total(const struct es__acts *a)
{
	return a->nbase;
}

