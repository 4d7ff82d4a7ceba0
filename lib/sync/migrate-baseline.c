/*
 * The import's baseline (see migrate-internal.h): refused when the folder
 * is synced already (SPEC 4.18), written by a thread of its own while the
 * inserts run, corrected from their outcome, committed once.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/doc.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#include "migrate-internal.h"

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
int
es__mig_check_baseline(struct mig *m, struct es_error *err)
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

			es__mig_set_meta(&tmp.meta, id, 0);
			tmp.meta.created_at = created_at;
			tmp.meta.updated_at = updated_at;
			es_action_encode(&tmp, m->o->user_id, own);
		} else {
			struct es_entity tmp = f->entity;

			es__mig_set_meta(&tmp.meta, id, 0);
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
 * the thread reads only what no one changes after es__mig_build(): the
 * tree, the items' ids, fingerprints and documents, file_ok. After it,
 * the main thread only waits for it.
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
	 * es__mig_check_baseline() let the run go on: no entity rows. Were
	 * there some now, a sync pass wrote them meanwhile: never overwrite
	 * it. Rows of files alone (say an empty list) are rewritten below.
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
			if (put_row(m, b, es__mig_kinds[k], &m->k[k].items[i],
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
			    es__mig_kinds[k], it, &it->db_id, it->db_created_at,
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

/* Starts the baseline thread; without a thread, es__mig_bl_finish() runs it. */
void
es__mig_bl_start(struct mig *m)
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
int
es__mig_bl_finish(struct mig *m, bool commit, struct es_error *err)
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
