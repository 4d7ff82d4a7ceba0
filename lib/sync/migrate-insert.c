/*
 * The import's writes (see migrate-internal.h): the server, unordered bulk
 * inserts of what the database lacks, and the tally per kind.
 */
#include <stdlib.h>

#include "execsync/xmalloc.h"

#include "migrate-internal.h"

#define TIMEOUT_DEFAULT		10000u

int
es__mig_connect(struct mig *m, struct es_error *err)
{
	unsigned timeout = m->o->timeout_ms ? m->o->timeout_ms :
	    TIMEOUT_DEFAULT;

	m->store = es_store_open(m->o->uri, m->o->database, timeout, err);
	if (m->store == NULL)
		return -1;
	/*
	 * One clear failure before anything else when the server is away;
	 * a refused password (ES_ECONFIG) says so itself (store.c).
	 */
	if (es_store_ping(m->store, err) < 0) {
		struct es_error e = *err;

		if (e.code != ES_EDB)
			return -1;
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
 * Unordered bulk inserts of the items es__mig_recognise() did not find
 * (status 0), batch by batch (progress after each). Their status becomes
 * the insert's. -1 when the connection was lost: what was not sent gets
 * -2 (not sent).
 */
int
es__mig_insert_all(struct mig *m, struct es_error *err)
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
	es__mig_progress(m, ES_MIGRATE_WRITE, m->t.nfiles);
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];
		int *st = es_xcalloc(batch, sizeof(*st));

		for (size_t start = 0; start < ks->nsend; start += batch) {
			size_t cnt = ks->nsend - start < batch ?
			    ks->nsend - start : batch;
			struct es_error e;
			int rc;

			es_error_clear(&e);
			rc = es_store_insert_many(m->store, es__mig_kinds[k],
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
				es__mig_add_problem(m->r, &p);
			}
			m->docs_done += cnt;
			es__mig_progress(m, ES_MIGRATE_WRITE, m->t.nfiles);
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
	es__mig_add_problem(m->r, &p);
}

/* One item into c, from its status (es__mig_recognise(), then the insert's). */
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
void
es__mig_tally(struct mig *m)
{
	for (int k = 0; k < NKINDS; k++) {
		struct kindset *ks = &m->k[k];
		struct es_migrate_count *c = &m->r->count[k];

		c->failed = ks->load_failed;
		for (size_t i = 0; i < ks->n; i++)
			tally_item(m, &ks->items[i], ks->status[i], c);
	}
}
