/*
 * The API's steps of a history (issue 17 item 2, SPEC §3): documents
 * written as the execution service writes them (tests/api-peer/peer.js:
 * every field, null where unset, dates as BSON datetimes at 00:00 UTC,
 * updated_at from the database's clock, a slug made unique, a new slug on
 * a retitle, soft deletes, a project's delete taking its actions along),
 * with ObjectIds from the run's generator. Every write carries a fresh
 * token of the oracle and tells it what the document held before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/date.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#include "sim-hist.h"

struct kv {
	const char	*key;
	bson_value_t	 v;
};

static bson_value_t
vstr(const char *s)
{
	bson_value_t v;

	memset(&v, 0, sizeof(v));
	if (s == NULL) {
		v.value_type = BSON_TYPE_NULL;
		return v;
	}
	v.value_type = BSON_TYPE_UTF8;
	v.value.v_utf8.str = (char *)s;
	v.value.v_utf8.len = (uint32_t)strlen(s);
	return v;
}

static bson_value_t
vdate(int64_t ms)
{
	bson_value_t v;

	memset(&v, 0, sizeof(v));
	v.value_type = BSON_TYPE_DATE_TIME;
	v.value.v_datetime = ms;
	return v;
}

static bson_value_t
vbool(bool b)
{
	bson_value_t v;

	memset(&v, 0, sizeof(v));
	v.value_type = BSON_TYPE_BOOL;
	v.value.v_bool = b;
	return v;
}

static bson_value_t
vdoc(const bson_t *d)
{
	bson_value_t v;

	memset(&v, 0, sizeof(v));
	v.value_type = BSON_TYPE_DOCUMENT;
	v.value.v_doc.data = (uint8_t *)bson_get_data(d);
	v.value.v_doc.data_len = d->len;
	return v;
}

/* old with kv[0..n) set (appended when absent), into out (initialised). */
static void
doc_with(const bson_t *old, const struct kv *kv, size_t n, bson_t *out)
{
	bool used[12] = { false };
	bson_iter_t it;

	bson_init(out);
	if (bson_iter_init(&it, old))
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			size_t j;

			for (j = 0; j < n; j++)
				if (strcmp(k, kv[j].key) == 0)
					break;
			if (j < n) {
				bson_append_value(out, k, -1, &kv[j].v);
				used[j] = true;
			} else
				bson_append_iter(out, k, -1, &it);
		}
	for (size_t j = 0; j < n; j++)
		if (!used[j])
			bson_append_value(out, kv[j].key, -1, &kv[j].v);
}

static const char *
doc_str(const bson_t *d, const char *key)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, d, key) && BSON_ITER_HOLDS_UTF8(&it))
		return bson_iter_utf8(&it, NULL);
	return NULL;
}

static bool
doc_has_date(const bson_t *d, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, d, key) &&
	    BSON_ITER_HOLDS_DATE_TIME(&it);
}

static void
doc_id(const bson_t *d, bson_oid_t *id)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, d, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), id);
	else
		memset(id, 0, sizeof(*id));
}

/* An ObjectId from the run's generator: ascending, then random. */
static void
new_oid(struct sim_run *r, bson_oid_t *id)
{
	uint64_t x = sim_rng_next(&r->rng);
	uint32_t n = ++r->oids;

	id->bytes[0] = 0x66;
	id->bytes[1] = (uint8_t)(n >> 16);
	id->bytes[2] = (uint8_t)(n >> 8);
	id->bytes[3] = (uint8_t)n;
	for (int i = 0; i < 8; i++)
		id->bytes[4 + i] = (uint8_t)(x >> (8 * i));
}

static int64_t
day_ms(int64_t now, int days)
{
	return es_date_to_ms(es_date_from_ms(now) + days);
}

/* An API call that failed because the database is down did nothing. */
static int
api_failed(struct sim_run *r, uint32_t tok0, struct es_error *err)
{
	if (err->code != ES_EDB)
		return -1;
	for (size_t i = tok0; i < r->orc.n; i++)
		r->orc.t[i].flags |= SIM_TOK_SUPERSEDED;
	es_error_clear(err);
	return 0;
}

static int
api_replace(struct sim_run *r, enum es_kind kind, const bson_t *old,
    const bson_t *neu, uint32_t tok0, bool deleting, struct es_error *err)
{
	if (r->ops->api_replace(r->env->ctx, kind, neu, err) < 0)
		return api_failed(r, tok0, err);
	if (deleting)
		sim_oracle_delete(&r->orc, r->step, kind,
		    (const char *)bson_get_data(old), old->len);
	else
		sim_oracle_replace(&r->orc, (const char *)bson_get_data(old),
		    old->len, (const char *)bson_get_data(neu), neu->len);
	return 0;
}

struct slug_q {
	struct sim_run	*r;
	enum es_kind	 kind;
	const char	*slug;
	const bson_oid_t *self;
	bool		 found;
};

static int
slug_cb(const bson_t *doc, void *ud)
{
	struct slug_q *q = ud;
	const char *s = doc_str(doc, "slug");
	bson_oid_t id;

	doc_id(doc, &id);
	if (s != NULL && strcmp(s, q->slug) == 0 && (q->self == NULL ||
	    !bson_oid_equal(&id, q->self)))
		q->found = true;
	return q->found;
}

static bool
slug_taken(const char *slug, void *ud)
{
	struct slug_q *q = ud;
	struct es_error err;

	q->slug = slug;
	q->found = false;
	if (q->r->ops->api_each(q->r->env->ctx, q->kind, slug_cb, q, &err) < 0)
		return false;
	return q->found;
}

/* The API's slug for title: unique among all documents of kind. */
static char *
api_slug(struct sim_run *r, enum es_kind kind, const char *title,
    const bson_oid_t *self)
{
	struct slug_q q = { r, kind, NULL, self, false };
	char *base = es_slugify(title, strlen(title)), *s;

	s = es_slug_unique(base, slug_taken, &q);
	free(base);
	return s;
}

static int
api_create(struct sim_run *r, const struct sim_step *s, uint32_t a,
    struct es_error *err)
{
	bool project = a % 3 != 0;
	enum es_kind kind = project ? ES_KIND_PROJECT : ES_KIND_GOAL;
	int64_t now = r->ops->db_now_ms(r->env->ctx);
	char tok[SIM_TOKEN_LEN + 1], title[64], content[128];
	uint32_t tok0 = (uint32_t)r->orc.n;
	bson_t doc, extra;
	bson_oid_t id;
	char *slug;
	int rc = 0;

	if (sim_list_docs(r, kind, err) < 0)
		return -1;
	if (r->ndocs >= (project ? SIM_MAX_PROJECTS : SIM_MAX_GOALS))
		return 0;
	sim_oracle_new(&r->orc, r->step, kind, SIM_TOK_API, project ?
	    "api: project title" : "api: goal title", tok);
	snprintf(title, sizeof(title), "%s %s", project ? "Plan" : "Aim", tok);
	if ((s->c >> 4) % 4 == 0)
		snprintf(content, sizeof(content), "# From the API\n\nCreated "
		    "there.\n");
	else
		snprintf(content, sizeof(content), "# From the API\n\nCreated "
		    "there, number %u.\n", (s->c >> 6) % 1000);
	slug = api_slug(r, kind, title, NULL);
	new_oid(r, &id);
	bson_init(&doc);
	bson_init(&extra);
	BSON_APPEND_OID(&doc, "_id", &id);
	BSON_APPEND_UTF8(&doc, "user_id", SIM_USER);
	BSON_APPEND_UTF8(&doc, "title", title);
	BSON_APPEND_UTF8(&doc, "slug", slug);
	if (project) {
		BSON_APPEND_UTF8(&doc, "area", sim_areas[s->b % 3]);
		BSON_APPEND_UTF8(&doc, "folder", (s->b >> 2) % 2 ? "incubator" :
		    "active");
		BSON_APPEND_UTF8(&doc, "type", "standard");
	} else {
		BSON_APPEND_NULL(&doc, "area");
		BSON_APPEND_UTF8(&doc, "folder", (s->b >> 2) % 3 == 0 ?
		    "incubator" : "active");
	}
	BSON_APPEND_UTF8(&doc, "content", content);
	BSON_APPEND_DATE_TIME(&doc, "created", day_ms(now, 0));
	if (project) {
		BSON_APPEND_NULL(&doc, "started");
		BSON_APPEND_NULL(&doc, "last_reviewed");
		BSON_APPEND_NULL(&doc, "due");
		BSON_APPEND_NULL(&doc, "completed");
		BSON_APPEND_NULL(&doc, "descoped");
	} else
		BSON_APPEND_NULL(&doc, "last_reviewed");
	BSON_APPEND_DOCUMENT(&doc, "extra", &extra);
	BSON_APPEND_BOOL(&doc, "deleted", false);
	BSON_APPEND_NULL(&doc, "deleted_at");
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	if (r->ops->api_insert(r->env->ctx, kind, &doc, err) < 0)
		rc = api_failed(r, tok0, err);
	bson_destroy(&doc);
	bson_destroy(&extra);
	free(slug);
	return rc;
}

/* The a-th live document of the kinds (bits), copied into out. */
static bool
pick_doc(struct sim_run *r, unsigned kinds, uint32_t a, enum es_kind *kind,
    bson_t *out, struct es_error *err, int *rc)
{
	size_t n[3] = { 0, 0, 0 }, total = 0;

	*rc = 0;
	for (int k = 0; k < 3; k++) {
		if (!((kinds >> k) & 1))
			continue;
		if (sim_list_docs(r, (enum es_kind)k, err) < 0) {
			*rc = -1;
			return false;
		}
		n[k] = r->ndocs;
		total += r->ndocs;
	}
	if (total == 0)
		return false;
	a %= (uint32_t)total;
	for (int k = 0; k < 3; k++) {
		if (!((kinds >> k) & 1))
			continue;
		if (a < n[k]) {
			if (sim_list_docs(r, (enum es_kind)k, err) < 0) {
				*rc = -1;
				return false;
			}
			*kind = (enum es_kind)k;
			bson_copy_to(r->docs[a], out);
			return true;
		}
		a -= (uint32_t)n[k];
	}
	return false;
}

static int
api_edit(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	int64_t now = r->ops->db_now_ms(r->env->ctx);
	uint32_t tok0 = (uint32_t)r->orc.n;
	char tok[SIM_TOKEN_LEN + 1], text[256];
	struct kv kv[4];
	size_t n = 0;
	enum es_kind kind;
	bson_t old, neu, extra;
	bson_iter_t it;
	char *slug = NULL;
	int rc;
	unsigned kinds = s->op >= SIM_API_ACTION_CREATE ?
	    1u << ES_KIND_ACTION : s->op == SIM_API_RETITLE ||
	    s->op == SIM_API_MOVE_PROJECT ? 1u << ES_KIND_PROJECT :
	    1u << ES_KIND_PROJECT | 1u << ES_KIND_GOAL;

	if (!pick_doc(r, kinds, s->a, &kind, &old, err, &rc))
		return rc;
	bson_init(&extra);
	switch (s->op) {
	case SIM_API_EDIT_FIELD:
		switch (kind == ES_KIND_PROJECT ? s->b % 5 : 1 + s->b % 2) {
		case 0:
			kv[n].key = "due";
			kv[n++].v = vdate(day_ms(now, (int)(s->c % 20)));
			break;
		case 1:
			kv[n].key = "last_reviewed";
			kv[n++].v = vdate(day_ms(now, 0));
			break;
		case 3:
			kv[n].key = "area";
			kv[n++].v = vstr(sim_areas[s->c % 3]);
			break;
		case 4:
			kv[n].key = "type";
			kv[n++].v = vstr(s->c % 2 ? "habit" : "coordination");
			break;
		default:
			/* a key of extra, as the API keeps unknown keys */
			sim_oracle_new(&r->orc, r->step, kind, SIM_TOK_API,
			    "api: extra key 'note'", tok);
			if (bson_iter_init_find(&it, &old, "extra") &&
			    BSON_ITER_HOLDS_DOCUMENT(&it)) {
				bson_t cur;
				const uint8_t *d;
				uint32_t dl;

				bson_iter_document(&it, &dl, &d);
				if (bson_init_static(&cur, d, dl))
					bson_copy_to_excluding_noinit(&cur,
					    &extra, "note", NULL);
			}
			BSON_APPEND_UTF8(&extra, "note", tok);
			kv[n].key = "extra";
			kv[n++].v = vdoc(&extra);
			break;
		}
		break;
	case SIM_API_EDIT_CONTENT: {
		const char *c = doc_str(&old, "content");

		sim_oracle_new(&r->orc, r->step, kind, SIM_TOK_API,
		    "api: content line", tok);
		snprintf(text, sizeof(text), "Api %s.", tok);
		if (c == NULL)
			c = "";
		sim_edit_lines(c, strlen(c), 0, s->b % 3, s->c, text, &r->b2);
		kv[n].key = "content";
		kv[n++].v = vstr(r->b2.buf);
		break;
	}
	case SIM_API_RETITLE: {
		bson_oid_t id;

		doc_id(&old, &id);
		sim_oracle_new(&r->orc, r->step, kind, SIM_TOK_API,
		    "api: project title", tok);
		snprintf(text, sizeof(text), "Plan %s", tok);
		slug = api_slug(r, kind, text, &id);
		kv[n].key = "title";
		kv[n++].v = vstr(text);
		kv[n].key = "slug";
		kv[n++].v = vstr(slug);
		break;
	}
	case SIM_API_MOVE_PROJECT:
		switch (s->b % 3) {
		case 0:
			kv[n].key = "folder";
			kv[n++].v = vstr("completed");
			kv[n].key = "completed";
			kv[n++].v = vdate(day_ms(now, 0));
			break;
		case 1:
			kv[n].key = "folder";
			kv[n++].v = vstr("descoped");
			kv[n].key = "descoped";
			kv[n++].v = vdate(day_ms(now, 0));
			break;
		default:
			kv[n].key = "folder";
			kv[n++].v = vstr("active");
			if (!doc_has_date(&old, "started")) {
				kv[n].key = "started";
				kv[n++].v = vdate(day_ms(now, 0));
			}
			break;
		}
		break;
	case SIM_API_ACTION_EDIT:
		if (s->b % 3 == 2) {
			kv[n].key = "due";
			kv[n++].v = vdate(day_ms(now, (int)(s->c % 9)));
			break;
		}
		sim_oracle_new(&r->orc, r->step, kind, SIM_TOK_API,
		    "api: action text", tok);
		snprintf(text, sizeof(text), "%s %s", s->c % 2 ? "Check" :
		    "Mail", tok);
		kv[n].key = "text";
		kv[n++].v = vstr(text);
		break;
	case SIM_API_ACTION_COMPLETE: {
		const char *st = doc_str(&old, "state");

		if (st != NULL && strcmp(st, "completed") == 0)
			goto out;
		kv[n].key = "state";
		kv[n++].v = vstr("completed");
		kv[n].key = "completed";
		kv[n++].v = vdate(day_ms(now, 0));
		break;
	}
	default:
		goto out;
	}
	kv[n].key = "updated_at";
	kv[n++].v = vdate(now);
	doc_with(&old, kv, n, &neu);
	rc = api_replace(r, kind, &old, &neu, tok0, false, err);
	bson_destroy(&neu);
out:
	bson_destroy(&old);
	bson_destroy(&extra);
	free(slug);
	return rc;
}

/* Soft delete of one document (and, for a project, its actions). */
static int
api_delete_one(struct sim_run *r, enum es_kind kind, const bson_t *old,
    struct es_error *err)
{
	int64_t now = r->ops->db_now_ms(r->env->ctx);
	struct kv kv[3] = {
		{ "deleted", vbool(true) },
		{ "deleted_at", vdate(now) },
		{ "updated_at", vdate(now) },
	};
	const char *slug = doc_str(old, "slug");
	bson_t neu;
	int rc;

	doc_with(old, kv, 3, &neu);
	rc = api_replace(r, kind, old, &neu, (uint32_t)r->orc.n, true, err);
	bson_destroy(&neu);
	if (rc < 0 || kind != ES_KIND_PROJECT || slug == NULL)
		return rc;
	if (sim_list_docs(r, ES_KIND_ACTION, err) < 0)
		return -1;
	for (size_t i = 0; i < r->ndocs; i++) {
		const char *ps = doc_str(r->docs[i], "project_slug");

		if (ps == NULL || strcmp(ps, slug) != 0)
			continue;
		doc_with(r->docs[i], kv, 3, &neu);
		rc = api_replace(r, ES_KIND_ACTION, r->docs[i], &neu,
		    (uint32_t)r->orc.n, true, err);
		bson_destroy(&neu);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
api_delete(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	enum es_kind kind;
	bson_t old;
	int rc;

	if (s->op == SIM_API_DELETE_PROJECT && s->c % 8 == 0) {
		/* most projects at once */
		bson_t **docs;
		size_t n;

		if (sim_list_docs(r, ES_KIND_PROJECT, err) < 0)
			return -1;
		n = r->ndocs;
		docs = es_xcalloc(n + 1, sizeof(*docs));
		for (size_t i = 0; i < n; i++)
			docs[i] = bson_copy(r->docs[i]);
		rc = 0;
		for (size_t i = 0; i < n; i++) {
			if (rc == 0 && (i + s->a) % 5 != 0)
				rc = api_delete_one(r, ES_KIND_PROJECT, docs[i],
				    err);
			bson_destroy(docs[i]);
		}
		free(docs);
		return rc;
	}
	if (!pick_doc(r, s->op == SIM_API_DELETE_PROJECT ?
	    1u << ES_KIND_PROJECT : 1u << ES_KIND_ACTION, s->a, &kind, &old,
	    err, &rc))
		return rc;
	rc = api_delete_one(r, kind, &old, err);
	bson_destroy(&old);
	return rc;
}

static int
api_action_create(struct sim_run *r, const struct sim_step *s,
    struct es_error *err)
{
	static const char *const ctxs[3] = { "@home", "@work", NULL };
	int64_t now = r->ops->db_now_ms(r->env->ctx);
	char tok[SIM_TOKEN_LEN + 1], text[64];
	uint32_t tok0 = (uint32_t)r->orc.n;
	char *pslug = NULL;
	bson_oid_t id;
	bson_t doc;
	int rc = 0;

	if (s->c % 4 == 0) {
		if (sim_list_docs(r, ES_KIND_PROJECT, err) < 0)
			return -1;
		if (r->ndocs > 0 && doc_str(r->docs[s->a % r->ndocs], "slug"))
			pslug = es_xstrdup(doc_str(r->docs[s->a % r->ndocs],
			    "slug"));
	}
	if (sim_list_docs(r, ES_KIND_ACTION, err) < 0)
		return -1;
	if (r->ndocs >= SIM_MAX_ACTIONS)
		goto out;
	sim_oracle_new(&r->orc, r->step, ES_KIND_ACTION, SIM_TOK_API,
	    "api: action text", tok);
	snprintf(text, sizeof(text), "Buy %s", tok);
	new_oid(r, &id);
	bson_init(&doc);
	BSON_APPEND_OID(&doc, "_id", &id);
	BSON_APPEND_UTF8(&doc, "user_id", SIM_USER);
	BSON_APPEND_UTF8(&doc, "text", text);
	if (ctxs[s->b % 3] != NULL)
		BSON_APPEND_UTF8(&doc, "context", ctxs[s->b % 3]);
	else
		BSON_APPEND_NULL(&doc, "context");
	if (pslug != NULL)
		BSON_APPEND_UTF8(&doc, "project_slug", pslug);
	else
		BSON_APPEND_NULL(&doc, "project_slug");
	BSON_APPEND_UTF8(&doc, "state", (s->c >> 2) % 4 == 0 ? "waiting" :
	    "next");
	BSON_APPEND_NULL(&doc, "due");
	BSON_APPEND_NULL(&doc, "defer");
	BSON_APPEND_NULL(&doc, "action_date");
	BSON_APPEND_NULL(&doc, "completed");
	BSON_APPEND_NULL(&doc, "priority");
	BSON_APPEND_BOOL(&doc, "deleted", false);
	BSON_APPEND_NULL(&doc, "deleted_at");
	BSON_APPEND_DATE_TIME(&doc, "created_at", now);
	BSON_APPEND_DATE_TIME(&doc, "updated_at", now);
	if (r->ops->api_insert(r->env->ctx, ES_KIND_ACTION, &doc, err) < 0)
		rc = api_failed(r, tok0, err);
	bson_destroy(&doc);
out:
	free(pslug);
	return rc;
}

/*
 * The API's write that races a pass's compare-and-swap. It lands while the
 * pass runs, a few ms after the pass began: its updated_at is the
 * database's clock plus 7 ms. Not plus 0: it would often be the very
 * version the pass expects (a document written at this ms by the API or
 * by the pass, whose clocks here stand still during a pass), and such a
 * write landing between the compare-and-swap's read (which checks the
 * meaning) and MongoDB's filtered update passes the filter: the one case
 * store.h leaves, which needs the same millisecond twice in a real
 * database. Stamps that equal the expected version otherwise (a clock
 * jump, then an API edit: seed 376645) are generated by the histories.
 */
int
sim_api_race_edit(struct sim_run *r, enum es_kind kind, const bson_oid_t *id,
    struct es_error *err)
{
	int64_t now = r->ops->db_now_ms(r->env->ctx) + 7;
	uint32_t tok0 = (uint32_t)r->orc.n;
	char tok[SIM_TOKEN_LEN + 1], text[64];
	struct kv kv[2];
	bson_t old, neu;
	int rc;

	if ((rc = r->ops->api_get(r->env->ctx, kind, id, &old, err)) <= 0)
		return rc < 0 ? api_failed(r, tok0, err) : 0;
	if (!sim_doc_live(&old)) {
		/* the app edits no deleted document */
		bson_destroy(&old);
		return 0;
	}
	sim_oracle_new(&r->orc, r->step, kind, SIM_TOK_API | SIM_TOK_RACE,
	    kind == ES_KIND_ACTION ? "api: action text, in a CAS race" :
	    "api: content line, in a CAS race", tok);
	if (kind == ES_KIND_ACTION) {
		snprintf(text, sizeof(text), "Race %s", tok);
		kv[0].key = "text";
		kv[0].v = vstr(text);
	} else {
		const char *c = doc_str(&old, "content");

		snprintf(text, sizeof(text), "Race %s.", tok);
		if (c == NULL)
			c = "";
		sim_edit_lines(c, strlen(c), 0, 2, 1000, text, &r->b3);
		kv[0].key = "content";
		kv[0].v = vstr(r->b3.buf);
	}
	kv[1].key = "updated_at";
	kv[1].v = vdate(now);
	doc_with(&old, kv, 2, &neu);
	rc = api_replace(r, kind, &old, &neu, tok0, false, err);
	bson_destroy(&old);
	bson_destroy(&neu);
	return rc;
}

int
sim_api_step(struct sim_run *r, const struct sim_step *s,
    struct es_error *err)
{
	switch (s->op) {
	case SIM_API_CREATE:
		return api_create(r, s, s->a, err);
	case SIM_API_DELETE_PROJECT:
	case SIM_API_ACTION_DELETE:
		return api_delete(r, s, err);
	case SIM_API_ACTION_CREATE:
		return api_action_create(r, s, err);
	case SIM_API_EDIT_FIELD:
	case SIM_API_EDIT_CONTENT:
	case SIM_API_RETITLE:
	case SIM_API_MOVE_PROJECT:
	case SIM_API_ACTION_EDIT:
	case SIM_API_ACTION_COMPLETE:
		return api_edit(r, s, err);
	default:
		return 0;
	}
}
