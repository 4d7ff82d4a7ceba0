/*
 * The worker thread (daemon.h): the one place passes run. It owns the
 * store (a mongoc client of its own), the baseline and the real world;
 * the loop hands it jobs and gets them back, filled, through an async
 * handle. A job never waits on the loop, and the loop never waits on a
 * job.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execsync/baseline.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/store.h"
#include "execsync/xmalloc.h"

#include "daemon.h"

#define SUB	"worker"

struct es_worker {
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	struct es_job		*todo, **todo_tail;	/* under mtx */
	struct es_job		*done, **done_tail;	/* under mtx */
	bool			 stop;			/* under mtx */
	struct es_config	 next_cfg;		/* under mtx */
	bool			 reconfigure;		/* under mtx */
	uv_async_t		*done_async;
	/* The thread's own, from here on. */
	struct es_config	 cfg;
	int			 root_fd;
	char			*identity;
	struct es_store		*store;
	bool			 indexed;
	struct es_baseline	*base;
};

void
es_job_free(struct es_job *j)
{
	if (j == NULL)
		return;
	for (size_t i = 0; i < j->npaths; i++)
		free(j->paths[i]);
	free(j->paths);
	for (size_t i = 0; i < j->nev; i++)
		if (j->ev[i].doc != NULL)
			bson_destroy(j->ev[i].doc);
	free(j->ev);
	for (size_t i = 0; i < j->nhold; i++)
		free(j->hold[i]);
	free(j->hold);
	es_engine_result_release(&j->r);
	free(j);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The store, opened and checked once per connection. */
static int
connect_store(struct es_worker *w, struct es_error *err)
{
	if (w->store == NULL && (w->store = es_store_open(w->cfg.mongodb_uri,
	    w->cfg.database, 10000, err)) == NULL)
		return -1;
	if (!w->indexed) {
		if (es_store_ping(w->store, err) < 0)
			return -1;
		if (es_store_ensure_indexes(w->store, err) < 0)
			return -1;
		w->indexed = true;
	}
	return 0;
}

static void
engine_opts(struct es_worker *w, const struct es_job *j,
    struct es_engine_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->root = w->cfg.source;
	o->root_fd = w->root_fd;
	o->user_id = w->cfg.user_id;
	o->identity = w->identity;
	o->policy = w->cfg.conflict;
	o->max_delete = w->cfg.max_delete;
	o->max_file_size = (size_t)w->cfg.max_file_size;
	o->full_pass_s = w->cfg.full_pass_s;
	o->ignore = (const char *const *)w->cfg.ignore;
	if (!j->once)
		return;
	o->dry_run = j->flags.dry_run;
	o->force = j->flags.force;
	o->resync = j->flags.resync;
	o->init = j->flags.init;
	o->full = j->flags.full;
	if (j->flags.force)
		o->policy = ES_POLICY_FILE;
	if (j->flags.max_delete_set)
		o->max_delete = j->flags.max_delete;
}

static int
count_kind(const struct es_base_entity *e, void *ud)
{
	size_t *counts = ud;

	if (e->kind <= ES_KIND_ACTION)
		counts[e->kind]++;
	return 0;
}

static void
run_job(struct es_worker *w, struct es_job *j)
{
	struct es_engine_opts o;
	struct es_world world;
	struct es_trigger t;
	struct es_change *ch = NULL;
	double t0 = mono_s();

	es_engine_result_init(&j->r);
	es_error_clear(&j->err);
	j->rc = -1;
	if (w->base == NULL && (w->base = es_baseline_open_root(w->cfg.source,
	    &j->err)) == NULL)
		goto out;
	if (connect_store(w, &j->err) < 0) {
		j->db_down = j->err.code == ES_EDB;
		goto out;
	}
	engine_opts(w, j, &o);
	memset(&t, 0, sizeof(t));
	t.kind = j->kind;
	t.db_quiet = j->db_quiet;
	t.paths = (const char *const *)j->paths;
	t.npaths = j->npaths;
	t.hold = (const char *const *)j->hold;
	t.nhold = j->nhold;
	if (j->nev > 0) {
		ch = es_xcalloc(j->nev, sizeof(*ch));
		for (size_t i = 0; i < j->nev; i++) {
			ch[i].kind = j->ev[i].kind;
			ch[i].id = j->ev[i].id;
			ch[i].doc = j->ev[i].doc;
			ch[i].deleted = j->ev[i].deleted;
		}
		t.changes = ch;
		t.nchanges = j->nev;
	}
	es_world_real_init(&world, w->root_fd, w->base, w->store);
	j->rc = es_pass_run(&o, &world, &t, &j->r, &j->err);
	if (j->rc < 0 && j->err.code == ES_EDB)
		j->db_down = true;
	/*
	 * The entities by kind for /status, after a pass that read
	 * everything or changed something (a walk of the baseline's rows,
	 * their bases left unread).
	 */
	if (j->rc >= 0 && (j->kind == ES_TRIGGER_FULL || j->once ||
	    j->r.to_db + j->r.to_file > 0)) {
		struct es_error cerr;

		j->counted = es_baseline_each_entity_nobase(w->base,
		    count_kind, j->counts, &cerr) == 0;
	}
out:
	free(ch);
	j->dur_s = mono_s() - t0;
}

static void *
worker_main(void *arg)
{
	struct es_worker *w = arg;

	for (;;) {
		struct es_job *j;

		pthread_mutex_lock(&w->mtx);
		while (!w->stop && w->todo == NULL)
			pthread_cond_wait(&w->cond, &w->mtx);
		if (w->stop) {
			pthread_mutex_unlock(&w->mtx);
			break;
		}
		if (w->reconfigure) {
			es_config_release(&w->cfg);
			w->cfg = w->next_cfg;
			es_config_init(&w->next_cfg);
			w->reconfigure = false;
		}
		j = w->todo;
		if ((w->todo = j->next) == NULL)
			w->todo_tail = &w->todo;
		j->next = NULL;
		pthread_mutex_unlock(&w->mtx);

		run_job(w, j);
		/*
		 * A pass's memory goes back to the system: an idle daemon
		 * holds its state, not the peak of its last pass.
		 */
		malloc_trim(0);

		pthread_mutex_lock(&w->mtx);
		*w->done_tail = j;
		w->done_tail = &j->next;
		pthread_mutex_unlock(&w->mtx);
		uv_async_send(w->done_async);
	}
	return NULL;
}

struct es_worker *
es_worker_start(const struct es_config *cfg, int root_fd, uv_async_t *done,
    struct es_error *err)
{
	struct es_worker *w = es_xcalloc(1, sizeof(*w));
	int rc;

	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->todo_tail = &w->todo;
	w->done_tail = &w->done;
	w->done_async = done;
	w->root_fd = root_fd;
	es_config_copy(&w->cfg, cfg);
	es_config_init(&w->next_cfg);
	w->identity = es_migrate_identity(cfg->mongodb_uri, cfg->database,
	    cfg->user_id);
	if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
		es_error_set_sys(err, rc, NULL, "cannot start the worker "
		    "thread");
		es_config_release(&w->cfg);
		es_config_release(&w->next_cfg);
		free(w->identity);
		free(w);
		return NULL;
	}
	return w;
}

void
es_worker_submit(struct es_worker *w, struct es_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&w->mtx);
	*w->todo_tail = j;
	w->todo_tail = &j->next;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

struct es_job *
es_worker_take_done(struct es_worker *w)
{
	struct es_job *j;

	pthread_mutex_lock(&w->mtx);
	j = w->done;
	w->done = NULL;
	w->done_tail = &w->done;
	pthread_mutex_unlock(&w->mtx);
	return j;
}

void
es_worker_reconfigure(struct es_worker *w, const struct es_config *cfg)
{
	pthread_mutex_lock(&w->mtx);
	es_config_release(&w->next_cfg);
	es_config_copy(&w->next_cfg, cfg);
	w->reconfigure = true;
	pthread_mutex_unlock(&w->mtx);
}

void
es_worker_stop(struct es_worker *w)
{
	struct es_job *j, *next;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mtx);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->thread, NULL);
	for (j = w->todo; j != NULL; j = next) {
		next = j->next;
		es_job_free(j);
	}
	for (j = w->done; j != NULL; j = next) {
		next = j->next;
		es_job_free(j);
	}
	es_baseline_free(w->base);
	es_store_free(w->store);
	es_config_release(&w->cfg);
	es_config_release(&w->next_cfg);
	free(w->identity);
	pthread_mutex_destroy(&w->mtx);
	pthread_cond_destroy(&w->cond);
	free(w);
}
