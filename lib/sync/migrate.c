/*
 * The one-time import (see migrate.h). One pass, in this order: refuse a
 * folder whose baseline says it is synced already, load the folder, build
 * every document in memory (slugs, deterministic _ids), connect, read what
 * the database holds (one find per collection) and recognise the entities
 * already there, indexes, unordered bulk inserts of the others per
 * collection (meanwhile a thread writes the baseline as if all succeed),
 * then the baseline's corrections and its one commit. Nothing is queried
 * per document.
 *
 * This file runs the import and loads the folder; migrate-build.c builds
 * the documents, migrate-recognise.c recognises what the database holds,
 * migrate-insert.c inserts the rest, migrate-baseline.c writes the
 * baseline (private header migrate-internal.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/gitstate.h"
#include "execsync/layout.h"
#include "execsync/lock.h"
#include "execsync/migrate.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

#include "migrate-internal.h"

#define NOT_A_FOLDER	"not an execution-system folder (none of " \
	ES_DIR_ACTIONS ", " ES_DIR_PROJECTS ", " ES_DIR_GOALS ")"

const enum es_kind es__mig_kinds[NKINDS] = { ES_KIND_PROJECT, ES_KIND_GOAL,
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

void
es__mig_add_problem(struct es_migrate_result *r, const struct es_error *e)
{
	r->problems = es_xreallocarray(r->problems, r->nproblems + 1,
	    sizeof(*r->problems));
	r->problems[r->nproblems++] = *e;
}

void
es__mig_progress(struct mig *m, enum es_migrate_phase phase, size_t files_done)
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

/* After each file of the load: its problems, whether it is whole, progress. */
static void
loaded_one(const struct es_tree *t, size_t i, size_t before, void *ud)
{
	struct mig *m = ud;
	const struct es_tree_file *f = &t->files[i];

	if (m->file_ok == NULL)
		m->file_ok = es_xcalloc(t->nfiles, sizeof(*m->file_ok));
	/* One failed item per problem: a bad file is one project or goal,
	 * a bad line one action. */
	m->k[f->info.kind].load_failed += t->nerrors - before;
	m->file_ok[i] = f->status == ES_TREE_OK && t->nerrors == before;
	es__mig_progress(m, ES_MIGRATE_SCAN, i + 1);
}

/* The folder, file by file (es_tree_load_each), each problem counted
 * against its kind. */
static int
load(struct mig *m, struct es_error *err)
{
	struct es_tree_opts topts;
	struct es_tree *t = &m->t;

	topts.ignore = m->o->ignore;
	topts.max_file_size = m->o->max_file_size ? m->o->max_file_size :
	    ES_CONTENT_MAX_DEFAULT;
	if (es_tree_load_each(m->root, &topts, loaded_one, m, t, err) < 0)
		return -1;
	m->loaded = true;
	if (m->file_ok == NULL)
		m->file_ok = es_xcalloc(1, sizeof(*m->file_ok));

	for (size_t i = 0; i < t->nerrors; i++)
		es__mig_add_problem(m->r, &t->errors[i]);
	/* Symbolic links and the like where a synced file could be: not
	 * followed (SPEC 4.11), reported, and a failed item when the path
	 * names one. */
	for (size_t i = 0; i < t->nskipped; i++) {
		struct es_error e;
		int k = kind_index_of_rel(t->skipped[i].rel);

		es_problem_set(&e, ES_PROB_UNSAFE_PATH, t->skipped[i].rel, 0, "%s",
		    t->skipped[i].reason);
		es__mig_add_problem(m->r, &e);
		if (k >= 0)
			m->k[k].load_failed++;
	}
	m->r->files = t->nfiles;
	return 0;
}

/* ---- the run ---- */

static void
mig_release(struct mig *m)
{
	struct es_error ignored;

	/* The baseline thread reads m: it must be done first. */
	es__mig_bl_finish(m, false, &ignored);
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
	const char *busy = NULL;

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
	/* A half-done checkout is no state to import: try later (75). */
	if (check && es_git_busy(m->root, &busy))
		return es_error_set(err, ES_EBUSY, o->source, 0, "held: git "
		    "operation in progress (%s), nothing imported: try again "
		    "when it is done", busy);
	if (check && !o->dry_run && take_lock(m, err) < 0)
		return -1;
	if (check && es__mig_check_baseline(m, err) < 0)
		return -1;
	if (load(m, err) < 0)
		return -1;
	es__mig_build(m);
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
	if (es__mig_connect(&m, err) < 0 || es__mig_recognise(&m, err) < 0) {
		all_unsent(&m);
		es__mig_tally(&m);
		goto out;
	}
	r->read_ms = mono_ms() - t1;
	if (o->dry_run) {
		es__mig_tally(&m);
		rc = 0;
		goto out;
	}
	t1 = mono_ms();
	if (es_store_ensure_indexes(m.store, err) < 0) {
		all_unsent(&m);
		es__mig_tally(&m);
		goto out;
	}
	r->baseline_path = es_xasprintf("%s/%s", o->source, ES_BASELINE_FILE);
	es__mig_bl_start(&m);
	if (es__mig_insert_all(&m, err) < 0) {
		size_t unsent = 0;
		struct es_error e = *err;

		for (int k = 0; k < NKINDS; k++)
			for (size_t i = 0; i < m.k[k].n; i++)
				unsent += m.k[k].status[i] == -2;
		es_error_set(err, ES_EDB, e.path, 0, "%s; %zu documents not "
		    "written: rerunning execsync-migrate finishes the job",
		    e.msg, unsent);
		es__mig_tally(&m);
		r->insert_ms = mono_ms() - t1;
		goto out;
	}
	es__mig_tally(&m);
	r->insert_ms = mono_ms() - t1;
	t1 = mono_ms();
	m.docs_done = m.docs_total;
	es__mig_progress(&m, ES_MIGRATE_BASELINE, m.t.nfiles);
	if (es__mig_bl_finish(&m, true, err) < 0) {
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
