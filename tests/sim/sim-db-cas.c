/*
 * The simulated database's compare-and-swap (sim-db.c, world.h): both
 * forms of lib/io/store-write.c's cas_chunk(), step for step. MongoDB's:
 * a read by _id first when an op asks for its meaning, one unordered bulk
 * of updates filtered on {_id, user_id, updated_at: expected}, then,
 * unless all matched, a read by _id that tells our landed writes (DONE:
 * the document carries our new version) from lost ones. FerretDB's: the
 * versions (and meanings) read by lone _id, compared here, the documents
 * still as expected updated by lone _id: a writer that falls between the
 * read and the update is clobbered (the loss window of that server). The
 * race hook (sim_db_set_race) plays that writer: just before the bulk
 * (between the read and the update on FerretDB). Chunks as cas_run() cuts
 * them; a crash can fall between two documents of a bulk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/doc.h"
#include "execsync/rules.h"
#include "execsync/store.h"
#include "execsync/xmalloc.h"

#include "sim-db.h"

/* One update_cas_many call in progress. */
struct casrun {
	struct sim_db_mach	*mc;
	enum es_kind		 kind;
	const char		*user_id;
	bool			 first_write;	/* the call's own tick */
	bool			 refused;	/* the server refused one */
	struct es_error		 refusal;	/* the first refusal */
};

/* The version read_versions() sees: -1 absent, another user's, no date. */
static int64_t
version_of(const struct casrun *r, const bson_oid_t *id)
{
	const struct sim_db_cell *c = sim_db__get(r->mc->db, r->kind, id);

	return c != NULL && sim_db__user_is(c, r->user_id) && c->has_ua ?
	    c->ua : -1;
}

/*
 * Whether the document carries op's write (read_versions()'s ours[]):
 * its version and what the update writes (es_doc_has_update()).
 */
static bool
ours_of(const struct casrun *r, const struct es_store_cas *op)
{
	const struct sim_db_cell *c = sim_db__get(r->mc->db, r->kind, &op->id);

	return version_of(r, &op->id) == op->new_updated_at_ms &&
	    es_doc_has_update(c->doc, op->update);
}

/* Whether the document means what op expects (read_versions()'s same). */
static bool
same_of(const struct casrun *r, const struct es_store_cas *op)
{
	const struct sim_db_cell *c = sim_db__get(r->mc->db, r->kind, &op->id);
	es_fp_t fp;

	if (!op->check_meaning)
		return true;
	return c != NULL && es_doc_meaning(c->doc, r->kind, &fp) &&
	    fp == op->expect_fp;
}

/* Fires the race hook (once: it clears itself first). */
static void
race(struct sim_db *db, enum es_kind kind, const bson_oid_t *id)
{
	void (*cb)(void *, enum es_kind, const bson_oid_t *) = db->race;
	void *ud = db->race_ud;

	if (cb == NULL)
		return;
	db->race = NULL;
	db->race_ud = NULL;
	cb(ud, kind, id);
}

/* CW_STOP: the process died, or the simulation lacks something (err). */
enum { CW_OK, CW_NOMATCH, CW_REFUSED, CW_STOP };

/*
 * One update of the bulk: to the document with this id (a lone _id: any
 * user's) after the crash tick; the server's refusal noted in r.
 */
static int
cas_write(struct casrun *r, const bson_oid_t *id, const bson_t *update,
    struct es_error *err)
{
	struct sim_db *db = r->mc->db;
	struct sim_db_cell *c;
	bson_t *next;
	char why[256];
	int rc;

	if (!r->first_write && !sim_db__survive(r->mc,
	    sim_db__cname(r->kind), "update", err))
		return CW_STOP;
	r->first_write = false;
	if ((c = sim_db__get(db, r->kind, id)) == NULL)
		return CW_NOMATCH;
	next = bson_new();
	rc = sim_db_update_apply(c->doc, update, next, why, sizeof(why));
	if (rc < 0) {
		bson_destroy(next);
		sim_db__error(err, ES_EDB, sim_db__cname(r->kind), "update",
		    why);
		return CW_STOP;
	}
	if (rc == 0 && sim_db_doc_check(next, db->ferretdb, why,
	    sizeof(why)) != 0)
		rc = 1;
	if (rc == 0 && sim_db__slug_clash(db, r->kind, next, id)) {
		snprintf(why, sizeof(why), "E11000 duplicate key error "
		    "collection: %s index: user_id_1_slug_1",
		    sim_db__cname(r->kind));
		rc = 2;
	}
	if (rc != 0) {
		bson_destroy(next);
		if (!r->refused) {
			r->refused = true;
			sim_db__error(&r->refusal, rc == 2 ? ES_ECONFLICT :
			    ES_EDB, sim_db__cname(r->kind), "update", why);
		}
		return CW_REFUSED;
	}
	sim_db__replace(db, r->kind, c, next);
	return CW_OK;
}

/* cas_confirm(): DONE where the document carries our version. */
static void
cas_confirm(struct casrun *r, const struct es_store_cas *ops,
    const size_t *idx, size_t m, bool lone, enum es_store_cas_status *status)
{
	r->mc->trips += lone ? m : 1;
	for (size_t k = 0; k < m; k++) {
		size_t i = idx != NULL ? idx[k] : k;

		status[i] = ours_of(r, &ops[i]) ? ES_STORE_CAS_DONE :
		    ES_STORE_CAS_LOST;
	}
}

/*
 * cas_chunk(), both forms. MongoDB's: when an op asks for its meaning, a
 * read by _id first (a document at the expected version meaning
 * something else is LOST, not sent); one bulk of updates filtered on
 * {_id, user_id, updated_at: expected}. FerretDB's: always that read (by
 * lone _id, or by one $in past SIM_DB_CAS_LONE_MAX), the comparison here,
 * the documents still as expected updated by lone _id. Then, unless all
 * matched, a read by _id that sorts ours from lost ones. The race hook
 * falls just before the bulk: between the read and the update on
 * FerretDB. -1: a CW_STOP (err filled).
 */
static int
cas_chunk(struct casrun *r, const struct es_store_cas *ops, size_t m,
    enum es_store_cas_status *status, struct es_error *err)
{
	bool lone = r->mc->db->ferretdb, first = lone, refused = false;
	size_t *sent = es_xcalloc(m ? m : 1, sizeof(*sent)), nsent = 0;
	size_t matched = 0;

	for (size_t k = 0; k < m; k++)
		first |= ops[k].check_meaning;
	if (first)
		r->mc->trips += lone && m <= SIM_DB_CAS_LONE_MAX ? m : 1;
	for (size_t k = 0; k < m; k++) {
		int64_t ua = version_of(r, &ops[k].id);

		if (!first || (ua == ops[k].expected_updated_at_ms &&
		    ua != ops[k].new_updated_at_ms && same_of(r, &ops[k])))
			sent[nsent++] = k;
		else
			status[k] = ours_of(r, &ops[k]) ?
			    ES_STORE_CAS_DONE : ES_STORE_CAS_LOST;
	}
	if (m > 0)
		race(r->mc->db, r->kind, &ops[0].id);
	if (nsent == 0) {
		free(sent);
		return 0;
	}
	r->mc->trips++;
	for (size_t j = 0; j < nsent; j++) {
		size_t k = sent[j];
		int w;

		/* MongoDB's filter {_id, user_id, updated_at: expected}. */
		if (!lone && (version_of(r, &ops[k].id) !=
		    ops[k].expected_updated_at_ms ||
		    ops[k].expected_updated_at_ms < 0))
			continue;
		w = cas_write(r, &ops[k].id, ops[k].update, err);
		if (w == CW_STOP) {
			free(sent);
			return -1;
		}
		if (w == CW_REFUSED)
			refused = true;
		else if (w == CW_OK)
			matched++;
	}
	if (matched == nsent && !refused)
		for (size_t j = 0; j < nsent; j++)
			status[sent[j]] = ES_STORE_CAS_DONE;
	else
		cas_confirm(r, ops, sent, nsent,
		    lone && nsent <= SIM_DB_CAS_LONE_MAX, status);
	free(sent);
	return 0;
}

/* cas_run(): ops in chunks of ES_STORE_CAS_CHUNK_START, then more. */
static int
cas_run(struct casrun *r, const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	size_t i = 0, size = ES_STORE_CAS_CHUNK_START;
	char why[256];

	for (size_t k = 0; k < n; k++)
		status[k] = ES_STORE_CAS_UNKNOWN;
	if (!sim_db__survive(r->mc, sim_db__cname(r->kind), "update", err) ||
	    !sim_db__reachable(r->mc, sim_db__cname(r->kind), "update", err))
		return -1;
	r->first_write = true;
	while (i < n) {
		size_t m = n - i < size ? n - i : size;

		/* libmongoc refuses a malformed update before sending the
		 * chunk (and the simulation an operator it lacks). */
		for (size_t k = i; k < i + m; k++)
			if (sim_db_update_check(ops[k].update, why,
			    sizeof(why)) != 0)
				return sim_db__error(err, ES_EDB,
				    sim_db__cname(r->kind),
				    "update", why);
		if (cas_chunk(r, ops + i, m, status + i, err) < 0) {
			for (size_t k = i; k < n; k++)
				status[k] = ES_STORE_CAS_UNKNOWN;
			return -1;
		}
		size = es_store_chunk_next(m, 0, SIM_DB_CHUNK_TARGET_MS,
		    ES_STORE_CAS_CHUNK_MAX);
		i += m;
	}
	return 0;
}

int
sim_db__update_cas(void *ctx, enum es_kind kind, const char *user_id,
    const struct es_store_cas *op, bool *matched, struct es_error *err)
{
	struct casrun r = { .mc = SIM_DB_MACH(ctx), .kind = kind,
	    .user_id = user_id };
	enum es_store_cas_status st;

	*matched = false;
	if (cas_run(&r, op, 1, &st, err) < 0)
		return -1;
	/* Refused rather than lost: the caller needs the server's reason. */
	if (st == ES_STORE_CAS_LOST && r.refused) {
		if (err != NULL)
			*err = r.refusal;
		return -1;
	}
	*matched = st == ES_STORE_CAS_DONE;
	return 0;
}

int
sim_db__update_cas_many(void *ctx, enum es_kind kind, const char *user_id,
    const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	struct casrun r = { .mc = SIM_DB_MACH(ctx), .kind = kind,
	    .user_id = user_id };

	return cas_run(&r, ops, n, status, err);
}
