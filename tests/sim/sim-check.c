/*
 * The invariants of a history (issue 17 item 3), each computed on its own
 * from what the env holds, never by asking the engine: the meaning of
 * every machine's synced files against the live documents (the real
 * parsers of lib/format), the tokens of the final state for the oracle,
 * the deletion guard's rule recomputed from a plan (SPEC 4.15), the
 * equality of a dry run's plan and the real one (SPEC 4.9), and what a
 * pass that should change nothing planned (SPEC 4.8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/doc.h"
#include "execsync/entity-file.h"
#include "execsync/layout.h"
#include "execsync/xmalloc.h"

#include "sim-hist.h"

#define TRASH_DIR	".execsync/trash/"
#define CONFLICTS_DIR	".execsync/conflicts/"

/* ---- the digest of everything ---- */

static void
fnv(uint64_t *h, const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++) {
		*h ^= c[i];
		*h *= 0x100000001b3ULL;
	}
}

static int
digest_file(const char *rel, const void *buf, size_t len, void *ud)
{
	fnv(ud, rel, strlen(rel) + 1);
	fnv(ud, &len, sizeof(len));
	fnv(ud, buf, len);
	return 0;
}

static int
digest_doc(const bson_t *doc, void *ud)
{
	fnv(ud, bson_get_data(doc), doc->len);
	return 0;
}

int
sim_digest(struct sim_env *e, uint64_t *out, struct es_error *err)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int m = 0; m < e->ops->nmachines; m++) {
		fnv(&h, &m, sizeof(m));
		if (e->ops->each_file(e->ctx, m, digest_file, &h, err) < 0)
			return -1;
	}
	for (int k = 0; k < 3; k++)
		if (e->ops->api_each(e->ctx, (enum es_kind)k, digest_doc, &h,
		    err) < 0)
			return -1;
	if (e->ops->conflicts_each(e->ctx, digest_doc, &h, err) < 0)
		return -1;
	*out = h;
	return 0;
}

/* ---- meaning ---- */

struct meaning {
	struct es_entity *ents;
	size_t		  nents, aents;
	char		**acts;		/* action keys */
	size_t		  nacts, aacts;
	char		  bad[400];	/* the first item that did not parse */
};

static void
meaning_release(struct meaning *mn)
{
	for (size_t i = 0; i < mn->nents; i++)
		es_entity_release(&mn->ents[i]);
	for (size_t i = 0; i < mn->nacts; i++)
		free(mn->acts[i]);
	free(mn->ents);
	free(mn->acts);
	memset(mn, 0, sizeof(*mn));
}

static struct es_entity *
add_ent(struct meaning *mn)
{
	if (mn->nents == mn->aents) {
		mn->aents = mn->aents ? mn->aents * 2 : 16;
		mn->ents = es_xreallocarray(mn->ents, mn->aents,
		    sizeof(*mn->ents));
	}
	return &mn->ents[mn->nents++];
}

static void
date_str(es_date_t d, char out[ES_DATE_BUFSZ])
{
	if (d == ES_DATE_NONE)
		snprintf(out, ES_DATE_BUFSZ, "-");
	else
		es_date_format(d, out);
}

static void
add_act(struct meaning *mn, const struct es_action *a)
{
	char due[ES_DATE_BUFSZ], defer[ES_DATE_BUFSZ], ad[ES_DATE_BUFSZ];
	char done[ES_DATE_BUFSZ];

	if (mn->nacts == mn->aacts) {
		mn->aacts = mn->aacts ? mn->aacts * 2 : 16;
		mn->acts = es_xreallocarray(mn->acts, mn->aacts,
		    sizeof(*mn->acts));
	}
	date_str(a->due, due);
	date_str(a->defer, defer);
	date_str(a->action_date, ad);
	date_str(a->completed, done);
	mn->acts[mn->nacts++] = es_xasprintf("action '%s' %s %s +%s due:%s "
	    "defer:%s date:%s done:%s (%c)", a->text ? a->text : "",
	    es_state_name(a->state) ? es_state_name(a->state) : "-",
	    a->context ? a->context : "-", a->project_slug ?
	    a->project_slug : "-", due, defer, ad, done,
	    a->priority ? a->priority : '-');
}

static bool
is_deleted(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "deleted") &&
	    BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
}

struct doc_walk {
	struct meaning	*mn;
	enum es_kind	 kind;
};

static int
meaning_doc(const bson_t *doc, void *ud)
{
	struct doc_walk *w = ud;
	struct es_error err;

	if (is_deleted(doc))
		return 0;
	if (w->kind == ES_KIND_ACTION) {
		struct es_action a;

		if (es_action_decode(doc, &a, &err) < 0) {
			if (w->mn->bad[0] == '\0')
				snprintf(w->mn->bad, sizeof(w->mn->bad),
				    "%.100s: %.200s", err.path, err.msg);
			es_action_release(&a);
			return 0;
		}
		add_act(w->mn, &a);
		es_action_release(&a);
		return 0;
	}
	if (es_entity_decode(doc, w->kind, add_ent(w->mn), &err) < 0) {
		es_entity_release(&w->mn->ents[--w->mn->nents]);
		if (w->mn->bad[0] == '\0')
			snprintf(w->mn->bad, sizeof(w->mn->bad),
			    "%.100s: %.200s", err.path, err.msg);
	}
	return 0;
}

static int
meaning_file(const char *rel, const void *buf, size_t len, void *ud)
{
	struct meaning *mn = ud;
	struct es_path_info info;
	struct es_error err;

	if (es_layout_classify(rel, NULL, &info) != 1)
		return 0;
	if (info.kind == ES_KIND_ACTION) {
		struct es_action_list *l = es_action_list_parse(buf, len, rel,
		    info.list, info.context[0] ? info.context : NULL);

		for (size_t i = 0; i < es_action_list_count(l); i++)
			add_act(mn, es_action_list_get(l, i));
		es_action_list_free(l);
	} else {
		struct es_entity *e = add_ent(mn);
		int rc;

		es_entity_init(e, info.kind);
		rc = es_entity_file_parse(buf, len, rel, info.kind,
		    info.folder, info.slug, info.kind == ES_KIND_PROJECT ?
		    info.area_dir : NULL, e, &err);
		if (rc != 0) {
			es_entity_release(e);
			mn->nents--;
			if (rc < 0 && mn->bad[0] == '\0')
				snprintf(mn->bad, sizeof(mn->bad),
				    "%.100s:%u: %.200s", rel, err.line,
				    err.msg);
		}
	}
	return 0;
}

static int
cmp_ent(const void *a, const void *b)
{
	const struct es_entity *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	return strcmp(x->slug ? x->slug : "", y->slug ? y->slug : "");
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
meaning_sort(struct meaning *mn)
{
	if (mn->nents > 1)
		qsort(mn->ents, mn->nents, sizeof(*mn->ents), cmp_ent);
	if (mn->nacts > 1)
		qsort(mn->acts, mn->nacts, sizeof(*mn->acts), cmp_str);
}

/* m < 0: the documents; else machine m's synced files. */
static int
meaning_of(struct sim_env *e, int m, struct meaning *mn, struct es_error *err)
{
	memset(mn, 0, sizeof(*mn));
	if (m >= 0) {
		if (e->ops->each_file(e->ctx, m, meaning_file, mn, err) < 0)
			return -1;
	} else
		for (int k = 0; k < 3; k++) {
			struct doc_walk w = { mn, (enum es_kind)k };

			if (e->ops->api_each(e->ctx, (enum es_kind)k,
			    meaning_doc, &w, err) < 0)
				return -1;
		}
	meaning_sort(mn);
	return 0;
}

static const char *
ent_name(const struct es_entity *e)
{
	return e->kind == ES_KIND_PROJECT ? "project" : "goal";
}

/* Whether x and y mean the same; the first difference in why. */
static bool
meaning_same(const struct meaning *x, const char *xn, const struct meaning *y,
    const char *yn, char *why, size_t whysize)
{
	size_t i = 0, j = 0;

	if (x->bad[0] || y->bad[0]) {
		snprintf(why, whysize, "%s: does not parse: %s", x->bad[0] ?
		    xn : yn, x->bad[0] ? x->bad : y->bad);
		return false;
	}
	while (i < x->nents || j < y->nents) {
		int c = i == x->nents ? 1 : j == y->nents ? -1 :
		    cmp_ent(&x->ents[i], &y->ents[j]);

		if (c < 0) {
			snprintf(why, whysize, "%s has %s '%s', %s has not",
			    xn, ent_name(&x->ents[i]), x->ents[i].slug, yn);
			return false;
		}
		if (c > 0) {
			snprintf(why, whysize, "%s has %s '%s', %s has not",
			    yn, ent_name(&y->ents[j]), y->ents[j].slug, xn);
			return false;
		}
		if (es_entity_diff(&x->ents[i], &y->ents[j]) != 0 ||
		    x->ents[i].folder != y->ents[j].folder) {
			struct es_buf f = ES_BUF_INIT;
			unsigned d = es_entity_diff(&x->ents[i], &y->ents[j]);

			es_plan_fields_format(d, &f);
			snprintf(why, whysize, "%s '%s' differs between %s and "
			    "%s: %s%s", ent_name(&x->ents[i]), x->ents[i].slug,
			    xn, yn, f.buf, x->ents[i].folder !=
			    y->ents[j].folder ? " folder" : "");
			es_buf_release(&f);
			return false;
		}
		i++;
		j++;
	}
	for (i = 0, j = 0; i < x->nacts || j < y->nacts;) {
		int c = i == x->nacts ? 1 : j == y->nacts ? -1 :
		    strcmp(x->acts[i], y->acts[j]);

		if (c != 0) {
			snprintf(why, whysize, "%s has %s, %s has not",
			    c < 0 ? xn : yn, c < 0 ? x->acts[i] : y->acts[j],
			    c < 0 ? yn : xn);
			return false;
		}
		i++;
		j++;
	}
	return true;
}

int
sim_check_converged(struct sim_env *e, bool *ok, char *why, size_t whysize,
    struct es_error *err)
{
	struct meaning docs, files;
	char name[32];

	*ok = true;
	if (meaning_of(e, -1, &docs, err) < 0)
		return -1;
	for (int m = 0; m < e->ops->nmachines && *ok; m++) {
		if (meaning_of(e, m, &files, err) < 0) {
			meaning_release(&docs);
			return -1;
		}
		snprintf(name, sizeof(name), "machine %d's files", m);
		*ok = meaning_same(&files, name, &docs, "the database", why,
		    whysize);
		meaning_release(&files);
	}
	meaning_release(&docs);
	return 0;
}

bool
sim_env_same(struct sim_env *a, struct sim_env *b, char *why, size_t whysize)
{
	struct meaning x, y;
	struct es_error err;
	char xn[48], yn[48];
	bool same = true;

	if (a->ops->nmachines != b->ops->nmachines) {
		snprintf(why, whysize, "%d machines against %d",
		    a->ops->nmachines, b->ops->nmachines);
		return false;
	}
	for (int m = -1; m < a->ops->nmachines && same; m++) {
		if (meaning_of(a, m, &x, &err) < 0) {
			snprintf(why, whysize, "first env: %s", err.msg);
			return false;
		}
		if (meaning_of(b, m, &y, &err) < 0) {
			meaning_release(&x);
			snprintf(why, whysize, "second env: %s", err.msg);
			return false;
		}
		if (m < 0) {
			snprintf(xn, sizeof(xn), "the first database");
			snprintf(yn, sizeof(yn), "the second database");
		} else {
			snprintf(xn, sizeof(xn), "first env's machine %d", m);
			snprintf(yn, sizeof(yn), "second env's machine %d", m);
		}
		same = meaning_same(&x, xn, &y, yn, why, whysize);
		meaning_release(&x);
		meaning_release(&y);
	}
	return same;
}

/* ---- tokens of the final state ---- */

static int
scan_file(const char *rel, const void *buf, size_t len, void *ud)
{
	struct sim_oracle *o = ud;

	if (strncmp(rel, CONFLICTS_DIR, strlen(CONFLICTS_DIR)) == 0 ||
	    es_layout_classify(rel, NULL, NULL) == 1)
		sim_oracle_scan(o, buf, len, SIM_TOK_FOUND);
	else if (strncmp(rel, TRASH_DIR, strlen(TRASH_DIR)) == 0)
		sim_oracle_scan(o, buf, len, SIM_TOK_FOUND_TRASH);
	return 0;
}

static int
scan_live_doc(const bson_t *doc, void *ud)
{
	if (!is_deleted(doc))
		sim_oracle_scan_doc(ud, doc, SIM_TOK_FOUND);
	return 0;
}

static int
scan_conflict_doc(const bson_t *doc, void *ud)
{
	sim_oracle_scan_doc(ud, doc, SIM_TOK_FOUND);
	return 0;
}

int
sim_check_scan(struct sim_env *e, struct sim_oracle *o, struct es_error *err)
{
	for (int m = 0; m < e->ops->nmachines; m++)
		if (e->ops->each_file(e->ctx, m, scan_file, o, err) < 0)
			return -1;
	for (int k = 0; k < 3; k++)
		if (e->ops->api_each(e->ctx, (enum es_kind)k, scan_live_doc, o,
		    err) < 0)
			return -1;
	return e->ops->conflicts_each(e->ctx, scan_conflict_doc, o, err);
}

/* ---- plans ---- */

bool
sim_guard_expected(const struct es_plan *plan, const size_t total[3],
    unsigned max_delete, char *why, size_t whysize)
{
	static const char *const names[3] = { "projects", "goals", "actions" };
	size_t n[3] = { 0, 0, 0 };
	bool trips = false;

	for (size_t i = 0; i < plan->n; i++) {
		const struct es_op *op = &plan->ops[i];

		if ((op->op == ES_OP_DOC_DELETE || op->op == ES_OP_FILE_TRASH) &&
		    (unsigned)op->kind < 3)
			n[op->kind]++;
	}
	for (int k = 0; k < 3; k++) {
		/* SPEC 4.15: over max_delete percent of at least 10 */
		if (total[k] < 10 || n[k] * 100 <= (size_t)max_delete * total[k])
			continue;
		if (!trips)
			snprintf(why, whysize, "%zu of %zu %s deleted or "
			    "trashed, over %u%%", n[k], total[k], names[k],
			    max_delete);
		trips = true;
	}
	if (!trips)
		snprintf(why, whysize, "deletes %zu/%zu projects, %zu/%zu "
		    "goals, %zu/%zu actions, max %u%%", n[0], total[0], n[1],
		    total[1], n[2], total[2], max_delete);
	return trips;
}

bool
sim_plans_same(const struct es_plan *a, const struct es_plan *b, char *why,
    size_t whysize)
{
	struct es_buf x = ES_BUF_INIT, y = ES_BUF_INIT;
	bool same = true;

	for (size_t i = 0; same && (i < a->n || i < b->n); i++) {
		es_buf_reset(&x);
		es_buf_reset(&y);
		if (i < a->n)
			es_op_describe(&a->ops[i], &x);
		if (i < b->n)
			es_op_describe(&b->ops[i], &y);
		if (i >= a->n || i >= b->n || strcmp(x.buf, y.buf) != 0) {
			/* an insert's id is only picked when applied */
			if (i < a->n && i < b->n && a->ops[i].op ==
			    b->ops[i].op && a->ops[i].op == ES_OP_DOC_INSERT &&
			    es_str_eq(a->ops[i].rel, b->ops[i].rel))
				continue;
			snprintf(why, whysize, "op %zu: dry run planned '%s', "
			    "the real pass '%s'", i, i < a->n ? x.buf :
			    "(nothing)", i < b->n ? y.buf : "(nothing)");
			same = false;
		}
	}
	es_buf_release(&x);
	es_buf_release(&y);
	return same;
}

bool
sim_plan_changes(const struct es_plan *p, char *why, size_t whysize)
{
	for (size_t i = 0; i < p->n; i++) {
		struct es_buf b = ES_BUF_INIT;

		switch (p->ops[i].op) {
		case ES_OP_REPORT:
		case ES_OP_BASELINE_PUT:
		case ES_OP_BASELINE_FORGET:
			continue;
		default:
			break;
		}
		es_op_describe(&p->ops[i], &b);
		snprintf(why, whysize, "%s", b.buf);
		es_buf_release(&b);
		return true;
	}
	return false;
}
