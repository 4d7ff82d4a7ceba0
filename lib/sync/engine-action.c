/*
 * The actions part of the one-shot pass (engine-action.h). Gather (baseline
 * rows, changed lists, documents), pair (line matcher, then ids and
 * identity), decide (plan-action.c), apply.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-ident.h"
#include "execsync/action-list.h"
#include "execsync/action-match.h"
#include "execsync/content.h"
#include "execsync/date.h"
#include "execsync/doc.h"
#include "execsync/docid.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/log.h"
#include "execsync/plan-action.h"
#include "execsync/xmalloc.h"

#include "engine-action.h"

#define SUB			"sync"
#define CONFLICTS_ACTIONS	".execsync/conflicts/actions.md"
#define NOIDX			((size_t)-1)
#define GONE			((size_t)-2)	/* a line removed by apply */

/* One list file. */
struct alist {
	char			*rel;
	struct es_path_info	 info;
	bool			 on_disk;	/* seen by the scan */
	struct es_stat		 st;		/* scan's stat */
	bool			 stat_same;	/* equals the file row */
	struct es_action_list	*l;		/* loaded, or NULL */
	bool			 exists;	/* was read from disk */
	struct es_stat		 read_st;
	es_fp_t			 read_fp;	/* of the bytes read */
	size_t			*owner;		/* act per action line */
	size_t			 nowner;
	size_t			 ngone;		/* lines marked GONE */
	bool			 dirty, failed, broken;
};

/* One action: up to three versions. */
struct act {
	bool			 has_base;
	bson_oid_t		 id;
	struct es_action	 base;
	char			*base_rel;
	uint32_t		 base_pos;
	char			*base_line;
	size_t			 base_line_len;
	int64_t			 base_ua;
	bool			 has_db, db_seen, db_broken;
	struct es_action	 db;
	int64_t			 db_ua;
	bool			 has_file;
	struct es_action	 file;
	size_t			 list;		/* its line's list */
	size_t			 pos;		/* and its position there */
	bool			 decided, failed;
	size_t			 op_first, op_n;	/* in r->plan */
	bool			 doc_written;
	int64_t			 doc_ua;
	bool			 insert_id;	/* id picked for an insert */
};

struct es__acts {
	const struct es_engine_opts	*o;
	struct es_store			*store;
	struct es_baseline		*b;
	struct es_engine_result		*r;
	bool				 ignore_base, full;
	struct alist			*lists;
	size_t				 nlists, alists;
	struct act			*acts;
	size_t				 nacts, aacts;
	size_t				 nbase;
	size_t				*by_id;
	size_t				 nby_id;
	int64_t				 maxseen;
	struct es_buf			 buf;
	struct es_buf			 trash, kept;	/* lines to append */
	char *const			*unread;	/* sorted, borrowed */
	size_t				 nunread;
};

static void
add_error(struct es__acts *a, const struct es_error *e)
{
	struct es_engine_result *r = a->r;

	r->errors = es_xreallocarray(r->errors, r->nerrors + 1,
	    sizeof(*r->errors));
	r->errors[r->nerrors++] = *e;
	es_log_error(e, ES_LOG_WARN, SUB);
}

static bool
same_stat(const struct es_stat *x, const struct es_stat *y)
{
	return x->dev == y->dev && x->ino == y->ino && x->size == y->size &&
	    x->mtime_ns == y->mtime_ns && x->ctime_ns == y->ctime_ns;
}

static size_t
max_size(const struct es__acts *a)
{
	return a->o->max_file_size ? a->o->max_file_size : ES_CONTENT_MAX_DEFAULT;
}

struct es__acts *
es__acts_new(const struct es_engine_opts *o, struct es_store *store,
    struct es_baseline *b, struct es_engine_result *r, bool ignore_base)
{
	struct es__acts *a = es_xcalloc(1, sizeof(*a));

	a->o = o;
	a->store = store;
	a->b = b;
	a->r = r;
	a->ignore_base = ignore_base;
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
	for (size_t i = 0; i < a->nlists; i++)
		if (strcmp(a->lists[i].rel, rel) == 0)
			return (ssize_t)i;
	return -1;
}

/* The list at rel, known to the pass (a list that is not there yet too). */
static ssize_t
list_get(struct es__acts *a, const char *rel)
{
	struct es_path_info info;
	ssize_t i = list_find(a, rel);

	if (i >= 0)
		return i;
	if (es_layout_classify(rel, a->o->ignore, &info) != 1 ||
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

static int
on_base(const struct es_base_entity *be, void *ud)
{
	struct es__acts *a = ud;
	struct es_error err;
	struct act *t;
	bson_t doc;

	if (be->kind != ES_KIND_ACTION)
		return 0;
	if (!bson_init_static(&doc, be->base, be->base_len)) {
		es_log(ES_LOG_WARN, SUB, "%s: baseline row is corrupt, ignored",
		    be->rel);
		return 0;
	}
	t = act_new(a);
	es_action_release(&t->base);
	if (es_action_decode(&doc, &t->base, &err) < 0) {
		es_log(ES_LOG_WARN, SUB, "%s: baseline row does not decode, "
		    "ignored: %s", be->rel, err.msg);
		es_action_release(&t->base);
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
cmp_act_id(const void *x, const void *y, void *ud)
{
	const struct act *acts = ud;

	return bson_oid_compare(&acts[*(const size_t *)x].id,
	    &acts[*(const size_t *)y].id);
}

static ssize_t
find_by_id(struct es__acts *a, const bson_oid_t *id)
{
	size_t lo = 0, hi = a->nby_id;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bson_oid_compare(id, &a->acts[a->by_id[mid]].id);

		if (c == 0)
			return (ssize_t)a->by_id[mid];
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
	a->by_id = es_xcalloc(a->nacts ? a->nacts : 1, sizeof(size_t));
	a->nby_id = 0;
	for (size_t i = 0; i < a->nacts; i++)
		if (a->acts[i].has_base || a->acts[i].has_db)
			a->by_id[a->nby_id++] = i;
	qsort_r(a->by_id, a->nby_id, sizeof(size_t), cmp_act_id, a->acts);
}

static int
load_baseline(struct es__acts *a, struct es_error *err)
{
	if (a->ignore_base)
		return 0;
	if (es_baseline_each_entity(a->b, on_base, a, err) < 0)
		return -1;
	a->nbase = a->nacts;
	index_ids(a);
	for (size_t i = 0; i < a->nlists; i++) {
		struct es_base_file bf;
		bool found = false;

		if (es_baseline_get_file(a->b, a->lists[i].rel, &bf, &found,
		    err) < 0)
			return -1;
		a->lists[i].stat_same = found && same_stat(&bf.st,
		    &a->lists[i].st);
	}
	/* Lists of the baseline that are gone. */
	for (size_t i = 0; i < a->nbase; i++)
		if (list_get(a, a->acts[i].base_rel) < 0)
			a->acts[i].has_base = false;	/* outside now */
	return 0;
}

/* ---- the database ---- */

static int
on_doc(const bson_t *doc, void *ud)
{
	struct es__acts *a = ud;
	struct es_action tmp;
	struct es_error err;
	bson_iter_t it;
	ssize_t bi = -1;
	struct act *t;

	a->r->docs_read++;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		bi = find_by_id(a, bson_iter_oid(&it));
	if (es_action_decode(doc, &tmp, &err) < 0) {
		es_action_release(&tmp);
		add_error(a, &err);
		a->r->failed++;
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

static int
meta_int(struct es__acts *a, const char *key, int64_t *v,
    struct es_error *err)
{
	char *s = NULL, *end;
	long long n;

	*v = -1;
	if (es_baseline_get_meta(a->b, key, &s, err) < 0)
		return -1;
	if (s == NULL)
		return 0;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0' && end != s)
		*v = n;
	free(s);
	return 0;
}

static int
load_docs(struct es__acts *a, struct es_error *err)
{
	int64_t wm, since;

	if (meta_int(a, "watermark.actions", &wm, err) < 0)
		return -1;
	if (wm < 0)
		a->full = true;
	since = wm - ES__LOOKBACK_MS;
	if (since < 0)
		since = 0;
	if (wm > a->maxseen)
		a->maxseen = wm;
	if (a->full)
		a->r->full_read = true;
	if (es_store_find(a->store, ES_KIND_ACTION, a->o->user_id,
	    a->full ? -1 : since, on_doc, a, err) < 0)
		return -1;
	/* Not returned by a since-query: unchanged since the baseline. */
	for (size_t i = 0; i < a->nbase; i++) {
		struct act *t = &a->acts[i];

		if (!t->has_base || t->db_seen || a->full)
			continue;
		es_action_release(&t->db);
		es_action_copy(&t->db, &t->base);
		t->db.meta = t->base.meta;
		t->db.meta.updated_at = t->base_ua;
		t->db_ua = t->base_ua;
		t->has_db = true;
	}
	index_ids(a);
	return 0;
}

/* ---- the lists ---- */

void
es__acts_set_unreadable(struct es__acts *a, char *const *rels, size_t n)
{
	a->unread = rels;
	a->nunread = n;
}

static int
list_load(struct es__acts *a, size_t li)
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
	if (es__path_below_any(l->rel, a->unread, a->nunread)) {
		l->broken = true;
		return -1;
	}
	es_buf_reset(&a->buf);
	if (l->on_disk) {
		if (es_scan_read(a->o->root_fd, l->rel, max_size(a), &a->buf,
		    &l->read_st, &err) < 0) {
			if (!(err.code == ES_EIO && err.sys == ENOENT)) {
				add_error(a, &err);
				a->r->failed++;
				l->broken = true;
				return -1;
			}
		} else {
			l->exists = true;
			l->read_fp = es_fp_bytes(a->buf.buf, a->buf.len);
			a->r->files_read++;
		}
	}
	l->l = es_action_list_parse(a->buf.buf ? a->buf.buf : "",
	    a->buf.len, l->rel, l->info.list, ctx);
	for (size_t i = 0; i < es_action_list_nerrors(l->l); i++) {
		add_error(a, es_action_list_error(l->l, i));
		a->r->failed++;
		l->broken = true;	/* re-read next pass: said again */
	}
	n = es_action_list_count(l->l);
	l->owner = es_xcalloc(n ? n : 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		l->owner[i] = NOIDX;
	l->nowner = n;
	return 0;
}

static bool
db_changed(const struct es__acts *a, const struct act *t)
{
	if (!t->has_base)
		return t->has_db && !t->db.meta.deleted;
	if (!t->has_db)
		return a->full;
	return t->db.meta.deleted || es_action_diff(&t->base, &t->db) != 0;
}

/* Which lists to read: changed on disk, gone, or touched by the database. */
static void
choose_lists(struct es__acts *a)
{
	struct es_buf path = ES_BUF_INIT;
	struct es_error err;

	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];

		if (a->ignore_base || !l->on_disk || !l->stat_same)
			list_load(a, i);
	}
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];
		ssize_t li;

		if (t->db_broken || !db_changed(a, t))
			continue;
		if (t->has_base && (li = list_find(a, t->base_rel)) >= 0)
			list_load(a, (size_t)li);
		if (t->has_db && !t->db.meta.deleted &&
		    es_layout_action_path(&t->db, &path, &err) == 0 &&
		    (li = list_get(a, path.buf)) >= 0)
			list_load(a, (size_t)li);
	}
	es_buf_release(&path);
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
			id = es_docid_action(a->o->user_id, l->rel, occ[j],
			    raw, len, x);
			ti = find_by_id(a, &id);
			if (ti >= 0 && (a->acts[ti].has_file ||
			    a->acts[ti].has_base))
				ti = -1;
			if (ti < 0)
				ti = find_identity(a, &ix, l->rel, x);
			if (ti < 0) {
				struct act *t = act_new(a);

				t->id = id;
				t->insert_id = true;
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

static const char *
cur_rel(const struct es__acts *a, const struct act *t)
{
	return t->list != NOIDX ? a->lists[t->list].rel : t->base_rel;
}

static void
decide(struct es__acts *a, struct act *t)
{
	struct es_action_plan_input in;
	struct es_error err;
	const struct alist *l = t->list != NOIDX ? &a->lists[t->list] : NULL;

	t->op_first = t->op_n = 0;
	if (t->db_broken)
		return;
	/* A list not read: its lines are the baseline's, unchanged. */
	if (t->has_base && !t->has_file) {
		ssize_t li = list_find(a, t->base_rel);

		if (li >= 0 && a->lists[li].l == NULL)
			return;
		/*
		 * SPEC 4.10: a line that no longer parses is reported, not
		 * taken for a removed one (no delete); its row waits.
		 */
		if (li >= 0 && a->lists[li].broken)
			return;
	}
	if (l != NULL && l->broken && l->l == NULL)
		return;
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
	t->op_first = a->r->plan.n;
	if (es_plan_action_ops(&in, a->o->policy, a->o->now_ms, &a->r->plan,
	    &err) < 0) {
		add_error(a, &err);
		a->r->failed++;
		t->failed = true;
		return;
	}
	t->op_n = a->r->plan.n - t->op_first;
	t->decided = true;
}

int
es__acts_plan(struct es__acts *a, bool full, struct es_error *err)
{
	a->full = full || a->ignore_base;
	if (load_baseline(a, err) < 0 || load_docs(a, err) < 0)
		return -1;
	choose_lists(a);
	pair_lines(a);
	for (size_t i = 0; i < a->nacts; i++)
		decide(a, &a->acts[i]);
	a->r->entities += a->nacts;
	return 0;
}

size_t
es__acts_total(const struct es__acts *a)
{
	return a->nbase;
}

/* ---- applying ---- */

static void
count_op(struct es__acts *a, const struct es_op *op)
{
	struct es_buf line = ES_BUF_INIT;

	a->r->applied[op->op]++;
	if (op->dir == ES_DIR_TO_DB)
		a->r->to_db++;
	else if (op->dir == ES_DIR_TO_FILE)
		a->r->to_file++;
	es_op_describe(op, &line);
	es_log(ES_LOG_INFO, SUB, "%s", line.buf);
	es_buf_release(&line);
}

static void
fail_act(struct es__acts *a, struct act *t, const struct es_error *e)
{
	struct es_error x = *e;

	if (x.path[0] == '\0')
		snprintf(x.path, sizeof(x.path), "%s", cur_rel(a, t) ?
		    cur_rel(a, t) : "actions");
	add_error(a, &x);
	a->r->failed++;
	t->failed = true;
}

static int
keep_doc(struct es__acts *a, const struct es_op *op, struct es_error *err)
{
	bson_t doc = BSON_INITIALIZER, lost = BSON_INITIALIZER;
	int rc;

	es_action_encode(op->action, a->o->user_id, &lost);
	BSON_APPEND_UTF8(&doc, "user_id", a->o->user_id);
	BSON_APPEND_UTF8(&doc, "collection", "actions");
	BSON_APPEND_OID(&doc, "doc_id", &op->action->meta.id);
	BSON_APPEND_DATE_TIME(&doc, "kept_at", a->o->now_ms);
	BSON_APPEND_UTF8(&doc, "reason", op->reason);
	BSON_APPEND_DOCUMENT(&doc, "doc", &lost);
	rc = es_store_insert_conflict(a->store, &doc, err);
	bson_destroy(&doc);
	bson_destroy(&lost);
	return rc;
}

static void
line_note(struct es__acts *a, struct es_buf *to, const char *rel,
    const char *line, size_t len)
{
	char day[ES_DATE_BUFSZ];

	es_date_format(es_date_from_ms(a->o->now_ms), day);
	es_buf_addf(to, "%s %s: ", day, rel);
	es_buf_add(to, line, len);
	es_buf_addstr(to, "\n");
}

static bool
is_cas_op(const struct es_op *op)
{
	return op->op == ES_OP_DOC_UPDATE || op->op == ES_OP_DOC_DELETE ||
	    op->op == ES_OP_DOC_UNDELETE;
}

/* One document write of the plan, by the act it belongs to. */
struct docw {
	size_t		 ti;
	struct es_op	*op;
};

/*
 * The action documents' compare-and-swap writes of a pass, in bulk
 * (es_store_update_cas_many): one round trip for a few lines, chunks the
 * socket timeout allows for many. A line whose write got no answer is
 * reported and left for the next pass, never taken for a lost race: a
 * write of ours that landed is recognised by its version.
 */
static void
apply_cas(struct es__acts *a, const struct docw *w, size_t n)
{
	struct es_store_cas *cas = es_xcalloc(n, sizeof(*cas));
	bson_t *upd = es_xcalloc(n, sizeof(*upd));
	enum es_store_cas_status *status = es_xcalloc(n, sizeof(*status));
	struct es_error err, lost;

	for (size_t k = 0; k < n; k++) {
		const struct es_action *v = w[k].op->action;
		bson_t body = BSON_INITIALIZER;

		es_action_encode_set(v, w[k].op->fields, v->meta.updated_at,
		    &body);
		bson_init(&upd[k]);
		bson_append_document(&upd[k], "$set", 4, &body);
		bson_destroy(&body);
		cas[k].id = v->meta.id;
		cas[k].expected_updated_at_ms = w[k].op->expect_updated_at;
		cas[k].new_updated_at_ms = v->meta.updated_at;
		cas[k].update = &upd[k];
	}
	es_error_clear(&err);
	(void)es_store_update_cas_many(a->store, ES_KIND_ACTION,
	    a->o->user_id, cas, n, status, &err);
	for (size_t k = 0; k < n; k++) {
		struct act *t = &a->acts[w[k].ti];

		if (status[k] == ES_STORE_CAS_UNKNOWN) {
			fail_act(a, t, &err);
			continue;
		}
		if (status[k] == ES_STORE_CAS_LOST) {
			/* SPEC 4.12: changed meanwhile; the next pass
			 * decides again from the new version. */
			es_error_set(&lost, ES_ECONFLICT, NULL, 0, "action "
			    "'%s': the document changed while syncing; left "
			    "for the next pass", t->db.text ? t->db.text :
			    "");
			a->r->lost_races++;
			fail_act(a, t, &lost);
			a->r->failed--;
			continue;
		}
		t->doc_written = true;
		t->doc_ua = w[k].op->action->meta.updated_at;
		if (t->doc_ua > a->maxseen)
			a->maxseen = t->doc_ua;
		count_op(a, w[k].op);
	}
	for (size_t k = 0; k < n; k++)
		bson_destroy(&upd[k]);
	free(status);
	free(upd);
	free(cas);
}

/* The new documents, in one unordered bulk (ids deterministic). */
static void
apply_inserts(struct es__acts *a, const struct docw *w, size_t n)
{
	bson_t **docs = es_xcalloc(n, sizeof(*docs));
	int *status = es_xcalloc(n, sizeof(*status));
	struct es_error err;

	for (size_t k = 0; k < n; k++) {
		docs[k] = bson_new();
		es_action_encode(w[k].op->action, a->o->user_id, docs[k]);
	}
	es_error_clear(&err);
	es_store_insert_many(a->store, ES_KIND_ACTION,
	    (const bson_t *const *)docs, n, 0, status, &err);
	for (size_t k = 0; k < n; k++) {
		struct act *t = &a->acts[w[k].ti];

		if (status[k] == 0 || status[k] == 1) {
			/* 1: our deterministic id is there already, from
			 * a pass that died before its baseline. */
			t->doc_written = true;
			t->doc_ua = w[k].op->action->meta.updated_at;
			t->has_db = true;
			if (t->doc_ua > a->maxseen)
				a->maxseen = t->doc_ua;
			count_op(a, w[k].op);
		} else {
			if (err.msg[0] == '\0')
				es_error_set(&err, ES_EDB, NULL, 0,
				    "insert failed");
			fail_act(a, t, &err);
		}
	}
	for (size_t k = 0; k < n; k++)
		bson_destroy(docs[k]);
	free(docs);
	free(status);
}

/*
 * The document ops of the plan: the losers kept first, then every
 * compare-and-swap (SPEC 4.12) and every insert, in bulk (issue 5).
 */
static void
apply_docs(struct es__acts *a)
{
	const struct es_plan *p = &a->r->plan;
	struct docw *ins = NULL, *cas = NULL;
	size_t nins = 0, ncas = 0;

	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		for (size_t k = t->op_first; k < t->op_first + t->op_n &&
		    !t->failed; k++) {
			struct es_op *op = &p->ops[k];
			struct es_error err;

			es_error_clear(&err);
			if (op->op == ES_OP_KEEP_DOC_VERSION) {
				if (keep_doc(a, op, &err) < 0) {
					fail_act(a, t, &err);
					break;
				}
				es_log(ES_LOG_WARN, SUB, "%s: the database's "
				    "version of '%s' is kept in %s",
				    cur_rel(a, t), op->action->text,
				    ES_STORE_CONFLICTS);
				a->r->conflicts++;
				count_op(a, op);
			} else if (op->op == ES_OP_DOC_INSERT) {
				ins = es_xreallocarray(ins, nins + 1,
				    sizeof(*ins));
				ins[nins].ti = i;
				ins[nins++].op = op;
			} else if (is_cas_op(op)) {
				cas = es_xreallocarray(cas, ncas + 1,
				    sizeof(*cas));
				cas[ncas].ti = i;
				cas[ncas++].op = op;
			}
		}
	}
	if (ncas > 0)
		apply_cas(a, cas, ncas);
	if (nins > 0)
		apply_inserts(a, ins, nins);
	free(cas);
	free(ins);
}

static int
owner_append(struct es__acts *a, size_t li, size_t ti,
    const struct es_action *v, struct es_error *err)
{
	struct alist *l = &a->lists[li];

	if (list_load(a, li) < 0)
		return es_error_set(err, ES_EIO, l->rel, 0, "cannot read");
	if (es_action_list_append(l->l, v, err) < 0)
		return -1;
	l->owner = es_xreallocarray(l->owner, l->nowner + 1,
	    sizeof(*l->owner));
	a->acts[ti].list = li;
	a->acts[ti].pos = l->nowner;
	l->owner[l->nowner++] = ti;
	l->dirty = true;
	return 0;
}

/*
 * A line leaves its list. Only marked here, so that every other line
 * keeps the position it was paired at (issue 15: looking positions up
 * again made apply quadratic in a list's length); list_compact() removes
 * the marked lines once per list.
 */
static void
owner_remove(struct alist *l, size_t pos)
{
	l->owner[pos] = GONE;
	l->ngone++;
	l->dirty = true;
}

static void
list_compact(struct es__acts *a, struct alist *l)
{
	size_t n = 0;

	if (l->ngone == 0)
		return;
	for (size_t i = l->nowner; i-- > 0; )
		if (l->owner[i] == GONE)
			es_action_list_remove(l->l, i);
	for (size_t i = 0; i < l->nowner; i++) {
		if (l->owner[i] == GONE)
			continue;
		if (l->owner[i] != NOIDX)
			a->acts[l->owner[i]].pos = n;
		l->owner[n++] = l->owner[i];
	}
	l->nowner = n;
	l->ngone = 0;
}

/* One line op of the plan, on the lists in memory. */
static int
apply_line_op(struct es__acts *a, size_t ti, const struct es_op *op,
    struct es_error *err)
{
	struct act *t = &a->acts[ti];
	struct alist *l = t->list != NOIDX ? &a->lists[t->list] : NULL;
	size_t pos = l != NULL && l->l != NULL && t->pos < l->nowner &&
	    l->owner[t->pos] == ti ? t->pos : NOIDX;
	const char *raw = NULL;
	size_t len = 0, from = t->list;
	ssize_t to;

	if (pos != NOIDX)
		raw = es_action_list_raw(l->l, pos, &len);
	switch (op->op) {
	case ES_OP_KEEP_FILE_VERSION:
		if (raw == NULL)
			return 1;
		line_note(a, &a->kept, l->rel, raw, len);
		a->r->conflicts++;
		return 0;
	case ES_OP_FILE_TRASH:
		if (pos == NOIDX)
			return 1;
		line_note(a, &a->trash, l->rel, raw, len);
		owner_remove(l, pos);
		return 0;
	case ES_OP_FILE_WRITE:
		if (pos != NOIDX && strcmp(l->rel, op->rel) == 0) {
			/* The line is there: rewritten in place. */
			if (es_action_list_set(l->l, pos, op->action, err) < 0)
				return -1;
			l->dirty = true;
			return 0;
		}
		/* A new line: appended, as a move's. */
		/* FALLTHROUGH */
	case ES_OP_FILE_MOVE:
		if ((to = list_get(a, op->rel)) < 0)
			return es_error_set(err, ES_EUNSAFE, op->rel, 0,
			    "not an action list");
		if (owner_append(a, (size_t)to, ti, op->action, err) < 0)
			return -1;
		/* list_get may have moved the array. */
		if (op->op == ES_OP_FILE_MOVE && pos != NOIDX)
			owner_remove(&a->lists[from], pos);
		return 0;
	default:
		return 1;	/* not a line op */
	}
}

/* Edit the lists in memory; each file is written once afterwards. */
static void
apply_lines(struct es__acts *a)
{
	const struct es_plan *p = &a->r->plan;

	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		for (size_t k = t->op_first; k < t->op_first + t->op_n &&
		    !t->failed; k++) {
			struct es_error err;
			int rc;

			es_error_clear(&err);
			rc = apply_line_op(a, i, &p->ops[k], &err);
			if (rc < 0)
				fail_act(a, t, &err);
			else if (rc == 0)
				count_op(a, &p->ops[k]);
		}
	}
	for (size_t i = 0; i < a->nlists; i++)
		list_compact(a, &a->lists[i]);
}

static int
write_list(struct es__acts *a, struct alist *l, struct es_error *err)
{
	struct es_buf out = ES_BUF_INIT;
	struct es_stat zero, st;
	int rc = -1;

	memset(&zero, 0, sizeof(zero));
	if (!l->exists) {
		size_t n = es_action_list_count(l->l);
		const struct es_action **v = es_xcalloc(n ? n : 1,
		    sizeof(*v));

		for (size_t i = 0; i < n; i++)
			v[i] = es_action_list_get(l->l, i);
		rc = es_action_list_render_new(l->info.list,
		    l->info.context[0] ? l->info.context : NULL,
		    (const struct es_action *const *)v, n, &out, err);
		free(v);
		if (rc < 0)
			goto out;
		/* Read back, so the lines and positions are the file's. */
		es_action_list_free(l->l);
		l->l = es_action_list_parse(out.buf, out.len, l->rel,
		    l->info.list, l->info.context[0] ? l->info.context : NULL);
	} else
		es_action_list_render(l->l, &out);
	rc = es_fsio_write(a->o->root_fd, l->rel, out.buf, out.len,
	    ES_FSIO_MODE_NEW, l->exists ? &l->read_st : &zero,
	    l->exists ? &l->read_fp : NULL, &st, err);
	if (rc == 0) {
		struct es_stat now;

		l->exists = true;
		l->read_st = st;
		/*
		 * Stat again for the ctime the rename gave, but only if no
		 * one wrote since: a line appended right after our rename
		 * must make the next pass read the list.
		 */
		if (es_scan_stat(a->o->root_fd, l->rel, &now, NULL) == 1 &&
		    now.dev == st.dev && now.ino == st.ino &&
		    now.size == st.size && now.mtime_ns == st.mtime_ns)
			l->read_st = now;
	}
out:
	es_buf_release(&out);
	return rc;
}

static int
put_rows(struct es__acts *a, struct alist *l, struct es_error *err)
{
	bool clean = !l->broken && !l->failed;

	for (size_t i = 0; i < l->nowner; i++) {
		struct act *t;
		struct es_action v;
		struct es_base_entity be;
		bson_t doc = BSON_INITIALIZER;
		int rc;

		if (l->owner[i] == NOIDX) {
			clean = false;
			continue;
		}
		t = &a->acts[l->owner[i]];
		if (t->failed || !t->decided) {
			clean = false;
			continue;
		}
		if (!t->doc_written && !t->has_db)
			continue;
		es_action_copy(&v, es_action_list_get(l->l, i));
		v.meta = t->has_db ? t->db.meta : t->base.meta;
		v.meta.id = t->id;
		v.meta.has_id = true;
		v.meta.deleted = false;
		v.meta.deleted_at = 0;
		v.meta.updated_at = t->doc_written ? t->doc_ua : t->db_ua;
		es_action_encode(&v, a->o->user_id, &doc);
		memset(&be, 0, sizeof(be));
		be.id = t->id;
		be.kind = ES_KIND_ACTION;
		be.rel = l->rel;
		be.pos = (uint32_t)i;
		be.line = es_action_list_raw(l->l, i, &be.line_len);
		be.doc_updated_at = v.meta.updated_at;
		be.fp = es_action_fingerprint(&v);
		be.base = bson_get_data(&doc);
		be.base_len = doc.len;
		rc = es_baseline_put_entity(a->b, &be, err);
		bson_destroy(&doc);
		es_action_release(&v);
		if (rc < 0)
			return -1;
	}
	if (clean && l->exists) {
		struct es_base_file bf;

		bf.rel = l->rel;
		bf.st = l->read_st;
		bf.raw_fp = 0;
		return es_baseline_put_file(a->b, &bf, err);
	}
	return es_baseline_delete_file(a->b, l->rel, err);
}

int
es__acts_apply(struct es__acts *a, struct es_error *err)
{
	char key[] = "watermark.actions", s[32];
	int64_t wm;

	apply_docs(a);
	apply_lines(a);
	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];
		struct es_error e;

		if (l->l == NULL || !l->dirty)
			continue;
		es_error_clear(&e);
		if (write_list(a, l, &e) < 0) {
			add_error(a, &e);
			a->r->failed++;
			l->failed = true;
		}
	}
	if (a->trash.len > 0) {
		struct es_error e;

		if (es_fsio_append(a->o->root_fd, ES_FSIO_TRASH_ACTIONS,
		    a->trash.buf, a->trash.len, &e) < 0) {
			add_error(a, &e);
			a->r->failed++;
		}
	}
	if (a->kept.len > 0) {
		struct es_error e;

		if (es_fsio_append(a->o->root_fd, CONFLICTS_ACTIONS,
		    a->kept.buf, a->kept.len, &e) < 0) {
			add_error(a, &e);
			a->r->failed++;
		} else
			es_log(ES_LOG_WARN, SUB, "the lines that lost a "
			    "conflict are kept in %s", CONFLICTS_ACTIONS);
	}
	/* The baseline: the rows forgotten, then those of every list read. */
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		for (size_t k = t->op_first; k < t->op_first + t->op_n &&
		    !t->failed; k++) {
			const struct es_op *op = &a->r->plan.ops[k];

			if (op->op == ES_OP_REPORT) {
				es_log(ES_LOG_WARN, SUB, "%s: %s", op->rel ?
				    op->rel : "-", op->reason);
				count_op(a, op);
			}
			if (op->op != ES_OP_BASELINE_FORGET)
				continue;
			if (es_baseline_delete_entity(a->b,
			    &op->action->meta.id, err) < 0)
				return -1;
			count_op(a, op);
		}
		if (t->failed && t->has_base) {
			/* Re-read the lists involved next pass. */
			if (es_baseline_delete_file(a->b, t->base_rel,
			    err) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < a->nlists; i++) {
		struct alist *l = &a->lists[i];

		if (l->l == NULL)
			continue;
		if (l->failed) {
			if (es_baseline_delete_file(a->b, l->rel, err) < 0)
				return -1;
			continue;
		}
		if (put_rows(a, l, err) < 0)
			return -1;
	}
	wm = es__watermark(a->maxseen, a->o->now_ms);
	snprintf(s, sizeof(s), "%" PRId64, wm);
	return es_baseline_set_meta(a->b, key, s, err);
}

void
es__acts_free(struct es__acts *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nacts; i++) {
		struct act *t = &a->acts[i];

		es_action_release(&t->base);
		es_action_release(&t->db);
		es_action_release(&t->file);
		free(t->base_rel);
		free(t->base_line);
	}
	free(a->acts);
	for (size_t i = 0; i < a->nlists; i++) {
		es_action_list_free(a->lists[i].l);
		free(a->lists[i].owner);
		free(a->lists[i].rel);
	}
	free(a->lists);
	free(a->by_id);
	es_buf_release(&a->buf);
	es_buf_release(&a->trash);
	es_buf_release(&a->kept);
	free(a);
}
