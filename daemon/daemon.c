/*
 * The daemon's loop (issue 16, daemon.h): one libuv loop owns the state.
 * File events come from the watcher, database changes from the source
 * thread, timers and signals ask for full passes; all of it becomes work
 * waiting here, and the worker runs one pass at a time:
 *
 *	a --once handed over		that pass, with its flags
 *	a full pass due			ES_TRIGGER_FULL (start-up, every
 *					full_pass_s, SIGUSR1, lost events,
 *					a gap in the change source)
 *	database changes		ES_TRIGGER_CHANGES, db_quiet
 *	file events			ES_TRIGGER_PATHS, db_quiet
 *	a poll due (poll source)	ES_TRIGGER_ORDINARY: the since-query
 *
 * A pass that could not reach the server gives its work back to the queue
 * and the loop tries again later (1 s doubling to 30 s; at once when the
 * source reconnects): nothing is lost (SPEC 4.13). The root is checked
 * before anything is synced (SPEC 4.15, 4.18) and again every few seconds
 * while it is missing; the daemon stays up, unhealthy, meanwhile.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "execsync/baseline.h"
#include "execsync/cli.h"
#include "execsync/lock.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "daemon.h"
#include "status.h"
#include "watch.h"

#define SUB		"daemon"
#define ROOT_CHECK_MS	3000
#define RETRY_MIN_MS	1000
#define RETRY_MAX_MS	30000

struct daemon {
	uv_loop_t		*loop;
	const struct es_daemon_args *args;
	struct es_config	 cfg;
	struct es_status	 st;
	char			*socket_path;
	char			 unhealthy_root[256];
	/* The root, when ready: its descriptor, lock, worker, watcher. */
	bool			 ready;
	int			 root_fd;
	struct es_lock		*lock;
	struct es_worker	*worker;
	struct es_watch		*watch;
	struct es_http		*http;
	struct es_source	*source;
	struct es_source_report	 src;		/* the last report */
	/* Work waiting for the worker. */
	bool			 busy;		/* a job is in flight */
	bool			 need_full, need_poll;
	char			**paths;
	size_t			 npaths, cpaths;
	int64_t			 paths_since_ms;
	struct es_change_batch	 changes;
	int64_t			 changes_since_ms;
	struct es_job		*once, **once_tail;	/* handed over */
	unsigned		 retry_ms;	/* 0: not backing off */
	bool			 stopping;
	int			 exit_status;
	/* Handles. */
	uv_async_t		 worker_done, source_ready;
	uv_signal_t		 sig_term, sig_int, sig_hup, sig_usr1;
	uv_timer_t		 full_timer, poll_timer, root_timer,
				 retry_timer, gone_timer;
};

static void	kick(struct daemon *d);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_unhealthy(struct daemon *d, unsigned bit, bool on)
{
	if (on)
		d->st.unhealthy |= bit;
	else
		d->st.unhealthy &= ~bit;
}

/* Remembers an error for /status and counts it. */
static void
remember_error(struct daemon *d, const struct es_error *e)
{
	char msg[PATH_MAX + 600];

	es_error_format(e, msg, sizeof(msg));
	es_status_remember(d->st.errors_recent, &d->st.nerrors_recent,
	    now_ms(), e->path, msg);
	d->st.errors++;
}

/* --- the root ------------------------------------------------------- */

static bool
have_baseline(const char *root)
{
	char *path = es_xasprintf("%s/" ES_BASELINE_FILE, root);
	struct stat st;
	bool yes = lstat(path, &st) == 0;

	free(path);
	return yes;
}

static void	on_watch(struct es_watch *w, const char *const *rels,
		    size_t n, unsigned flags, void *ud);

/* Stops syncing the root (it vanished, or we are stopping). */
static void
root_down(struct daemon *d)
{
	if (!d->ready)
		return;
	es_worker_stop(d->worker);
	d->worker = NULL;
	d->busy = false;
	es_watch_free(d->watch);
	d->watch = NULL;
	es_lock_release(d->lock);
	d->lock = NULL;
	close(d->root_fd);
	d->root_fd = -1;
	d->ready = false;
}

/*
 * Whether the root can be synced now (SPEC 4.15, 4.18): a folder, with
 * one of the three top folders or a baseline (or --init), whose lock we
 * get. Returns 0; 1 with why filled: wait for it (root missing, not a
 * root, or, after start-up, held); or -1 with err: cannot go on (held at
 * start-up: a second daemon; no inotify; no thread).
 */
static int
root_up(struct daemon *d, bool starting, struct es_error *err)
{
	struct es_watch_opts wo;
	enum es_lock_status ls;
	pid_t holder = 0;
	int fd;

	if (d->ready)
		return 0;
	fd = open(d->cfg.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		es_error_set_sys(err, errno, d->cfg.source, "root missing: "
		    "cannot open the folder; nothing synced until it is back");
		return 1;
	}
	if (!es_engine_root_has_folders(fd) && !have_baseline(d->cfg.source) &&
	    !d->args->init) {
		close(fd);
		es_error_set(err, ES_ECONFIG, d->cfg.source, 0, "not an "
		    "execution-system folder (none of the three synced folders "
		    "and no baseline: unmounted, or a wrong source?); waiting "
		    "for it (--init fills a new folder)");
		return 1;
	}
	ls = es_lock_take(fd, &d->lock, &holder, err);
	if (ls != ES_LOCK_TAKEN) {
		close(fd);
		if (ls == ES_LOCK_HELD)
			es_error_set(err, ES_EBUSY, d->cfg.source, 0, "held "
			    "by another execsync process (pid %ld): %s",
			    (long)holder, starting ? "not starting" :
			    "waiting");
		return ls == ES_LOCK_HELD && !starting ? 1 : -1;
	}
	d->root_fd = fd;
	if ((d->worker = es_worker_start(&d->cfg, fd, &d->worker_done,
	    err)) == NULL)
		goto fail;
	memset(&wo, 0, sizeof(wo));
	wo.root = d->cfg.source;
	wo.debounce_ms = d->cfg.debounce_ms;
	wo.ignore = (const char *const *)d->cfg.ignore;
	wo.cb = on_watch;
	wo.ud = d;
	if ((d->watch = es_watch_new(d->loop, &wo, err)) == NULL)
		goto fail;
	d->ready = true;
	d->need_full = true;	/* the start-up full pass (SPEC 4.14) */
	return 0;
fail:
	es_worker_stop(d->worker);
	d->worker = NULL;
	es_lock_release(d->lock);
	d->lock = NULL;
	close(fd);
	d->root_fd = -1;
	return -1;
}

static void
on_root_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct es_error err;

	if (d->stopping || d->ready)
		return;
	if (root_up(d, false, &err) != 0) {
		es_error_format(&err, d->unhealthy_root,
		    sizeof(d->unhealthy_root));
		return;
	}
	es_log(ES_LOG_INFO, SUB, "%s: the folder is back: syncing",
	    d->cfg.source);
	set_unhealthy(d, ES_UNHEALTHY_ROOT, false);
	uv_timer_stop(&d->root_timer);
	kick(d);
}

/* The root is not syncable (now or any more): wait for it. */
static void
root_wait(struct daemon *d, const struct es_error *why)
{
	es_log_error(why, ES_LOG_ERROR, SUB);
	es_error_format(why, d->unhealthy_root, sizeof(d->unhealthy_root));
	set_unhealthy(d, ES_UNHEALTHY_ROOT, true);
	root_down(d);
	uv_timer_start(&d->root_timer, on_root_timer, ROOT_CHECK_MS,
	    ROOT_CHECK_MS);
}

/*
 * Whether the root's path no longer names the folder we hold: renamed
 * away or lazily unmounted, root_fd still reads the old folder, which a
 * pass would go on syncing. err says so.
 */
static bool
root_moved(struct daemon *d, struct es_error *err)
{
	struct stat a, b;

	if (stat(d->cfg.source, &a) < 0) {
		es_error_set_sys(err, errno, d->cfg.source, "root missing: "
		    "the folder is gone; nothing synced until it is back");
		return true;
	}
	if (fstat(d->root_fd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		es_error_set(err, ES_ECONFIG, d->cfg.source, 0, "root missing: "
		    "another folder, or none, is at this path now (moved or "
		    "unmounted); nothing synced until it is back");
		return true;
	}
	return false;
}

/* Out of the watcher's callback (root_wait() frees the watcher). */
static void
on_gone_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct es_error err;

	if (d->stopping || d->busy || !d->ready || !root_moved(d, &err))
		return;
	root_wait(d, &err);
}

/* --- work waiting for the worker ------------------------------------ */

static void
add_path(struct daemon *d, const char *rel)
{
	if (d->npaths == d->cpaths) {
		d->cpaths = d->cpaths ? d->cpaths * 2 : 64;
		d->paths = es_xreallocarray(d->paths, d->cpaths,
		    sizeof(*d->paths));
	}
	d->paths[d->npaths++] = es_xstrdup(rel);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Moves the waiting paths into j, sorted and unique. */
static void
take_paths(struct daemon *d, struct es_job *j)
{
	size_t n = 0;

	if (d->npaths > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(d->paths, d->npaths, sizeof(*d->paths), cmp_str);
	for (size_t i = 0; i < d->npaths; i++) {
		if (n > 0 && strcmp(d->paths[n - 1], d->paths[i]) == 0) {
			free(d->paths[i]);
			continue;
		}
		d->paths[n++] = d->paths[i];
	}
	j->paths = d->paths;
	j->npaths = n;
	j->first_event_ms = d->paths_since_ms;
	d->paths = NULL;
	d->npaths = d->cpaths = 0;
	d->paths_since_ms = 0;
}

static void
add_change(struct daemon *d, struct es_change_event *ev)
{
	struct es_change_batch *b = &d->changes;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->ev = es_xreallocarray(b->ev, b->cap, sizeof(*b->ev));
	}
	b->ev[b->n++] = *ev;
	ev->doc = NULL;
}

static void
take_changes(struct daemon *d, struct es_job *j)
{
	j->ev = d->changes.ev;
	j->nev = d->changes.n;
	j->first_event_ms = d->changes_since_ms;
	es_change_batch_init(&d->changes);
	d->changes_since_ms = 0;
}

/* A job that could not reach the server: its work waits again. */
static void
give_back(struct daemon *d, struct es_job *j)
{
	switch (j->kind) {
	case ES_TRIGGER_FULL:
		d->need_full = true;
		break;
	case ES_TRIGGER_ORDINARY:
		d->need_poll = true;
		break;
	default:
		break;
	}
	for (size_t i = 0; i < j->npaths; i++)
		add_path(d, j->paths[i]);
	if (j->npaths > 0 && d->paths_since_ms == 0)
		d->paths_since_ms = j->first_event_ms;
	for (size_t i = 0; i < j->nev; i++)
		add_change(d, &j->ev[i]);
	if (j->nev > 0 && d->changes_since_ms == 0)
		d->changes_since_ms = j->first_event_ms;
}

static bool
database_up(const struct daemon *d)
{
	return d->src.up && d->retry_ms == 0;
}

/* The next job, or NULL when nothing waits or nothing can run. */
static struct es_job *
next_job(struct daemon *d)
{
	struct es_job *j;

	if (d->once != NULL) {
		j = d->once;
		if ((d->once = j->next) == NULL)
			d->once_tail = &d->once;
		j->next = NULL;
		return j;
	}
	if (!database_up(d))
		return NULL;
	if (!d->need_full && d->changes.n == 0 && d->npaths == 0 &&
	    !d->need_poll)
		return NULL;
	j = es_xcalloc(1, sizeof(*j));
	if (d->need_full) {
		/* A full pass reads everything: the waiting work with it. */
		j->kind = ES_TRIGGER_FULL;
		d->need_full = false;
		d->need_poll = false;
		take_paths(d, j);
		take_changes(d, j);
	} else if (d->changes.n > 0) {
		j->kind = ES_TRIGGER_CHANGES;
		j->db_quiet = d->src.kind != ES_SOURCE_POLL;
		take_changes(d, j);
	} else if (d->npaths > 0) {
		j->kind = ES_TRIGGER_PATHS;
		/* The source (or the poll) watches the database. */
		j->db_quiet = true;
		take_paths(d, j);
	} else {
		j->kind = ES_TRIGGER_ORDINARY;
		d->need_poll = false;
	}
	return j;
}

static void
kick(struct daemon *d)
{
	struct es_error err;
	struct es_job *j;

	if (d->stopping || d->busy || !d->ready)
		return;
	if (root_moved(d, &err)) {
		uv_timer_start(&d->gone_timer, on_gone_timer, 0, 0);
		return;
	}
	if ((j = next_job(d)) == NULL)
		return;
	d->busy = true;
	d->st.pass_running = true;
	es_worker_submit(d->worker, j);
}

static const char *
trigger_name(enum es_trigger_kind k)
{
	switch (k) {
	case ES_TRIGGER_FULL:
		return "full pass";
	case ES_TRIGGER_CHANGES:
		return "database changes";
	case ES_TRIGGER_PATHS:
		return "file changes";
	default:
		return "poll";
	}
}

/* --- results --------------------------------------------------------- */

static void
on_retry_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->retry_ms = 0;
	kick(d);
}

static void
back_off(struct daemon *d)
{
	d->retry_ms = d->retry_ms == 0 ? RETRY_MIN_MS :
	    d->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : d->retry_ms * 2;
	uv_timer_start(&d->retry_timer, on_retry_timer, d->retry_ms, 0);
}

static void
on_poll_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->need_poll = true;
	kick(d);
}

static void
arm_poll(struct daemon *d, double cost_ms)
{
	uint64_t ms;

	if (d->src.kind != ES_SOURCE_POLL || !d->src.up)
		return;
	ms = es_poll_interval_ms(d->cfg.poll_ms, cost_ms);
	d->st.source_tick_ms = ms;
	uv_timer_start(&d->poll_timer, on_poll_timer, ms, 0);
}

/* Counts and health from one finished pass. */
static void
account(struct daemon *d, struct es_job *j)
{
	struct es_engine_result *r = &j->r;
	int64_t now = now_ms();

	d->st.passes++;
	d->st.last_pass_ms = now;
	d->st.last_pass_s = j->dur_s;
	d->st.ops_ok[ES_SIDE_TO_DB] += r->to_db;
	d->st.ops_ok[ES_SIDE_TO_FILE] += r->to_file;
	d->st.ops_failed[ES_SIDE_TO_DB] += r->failed;
	d->st.conflicts += r->conflicts;
	for (size_t i = 0; i < r->nerrors; i++)
		remember_error(d, &r->errors[i]);
	for (size_t i = 0; i < r->plan.n; i++) {
		const struct es_op *op = &r->plan.ops[i];

		if (op->op == ES_OP_KEEP_FILE_VERSION ||
		    op->op == ES_OP_KEEP_DOC_VERSION)
			es_status_remember(d->st.conflicts_recent,
			    &d->st.nconflicts_recent, now,
			    op->rel != NULL ? op->rel : "", op->reason);
	}
	if (j->first_event_ms > 0) {
		double s = (double)(now - j->first_event_ms) / 1000.0;

		if (r->to_db > 0)
			es_latency_observe(&d->st.latency[ES_SIDE_TO_DB], s);
		if (r->to_file > 0)
			es_latency_observe(&d->st.latency[ES_SIDE_TO_FILE], s);
	}
	if (j->kind == ES_TRIGGER_FULL && !r->held && !r->guard_stopped) {
		d->st.last_full_pass_ms = now;
		set_unhealthy(d, ES_UNHEALTHY_WATCHER, false);
	}
	set_unhealthy(d, ES_UNHEALTHY_GUARD, r->guard_stopped);
	set_unhealthy(d, ES_UNHEALTHY_GIT, r->held);
	if (j->counted) {
		d->st.projects = j->counts[ES_KIND_PROJECT];
		d->st.goals = j->counts[ES_KIND_GOAL];
		d->st.actions = j->counts[ES_KIND_ACTION];
	}
}

static void
reply_once(struct daemon *d, struct es_job *j)
{
	char msg[PATH_MAX + 600];
	const char *error = NULL;
	struct es_buf out = ES_BUF_INIT;
	json_t *o;
	char *s;
	int status;

	(void)d;
	if (j->rc < 0) {
		status = j->err.code == ES_EBUSY || j->db_down ? 75 : 2;
		error = es_error_format(&j->err, msg, sizeof(msg));
	} else
		status = es_engine_status(&j->r);
	es_once_output(&j->flags, &j->r, status, error, &out);
	o = json_pack("{s:i, s:s, s:s?}", "exit_status", status, "stdout",
	    out.buf != NULL ? out.buf : "", "error", error);
	s = json_dumps(o, JSON_COMPACT);
	es_http_reply(j->reply, 200, "application/json", s, strlen(s));
	free(s);
	json_decref(o);
	es_buf_release(&out);
}

static void
finish(struct daemon *d, struct es_job *j)
{
	if (j->db_down) {
		set_unhealthy(d, ES_UNHEALTHY_DATABASE, true);
		es_log_error(&j->err, ES_LOG_WARN, SUB);
		if (!j->once)
			give_back(d, j);
		back_off(d);
	} else if (j->rc < 0) {
		if (j->err.code == ES_ECONFIG && !j->once) {
			/* The root went away, or is not ours: wait for it. */
			root_wait(d, &j->err);
			if (!j->once)
				give_back(d, j);
		} else {
			es_log_error(&j->err, ES_LOG_ERROR, SUB);
			remember_error(d, &j->err);
		}
	} else {
		set_unhealthy(d, ES_UNHEALTHY_DATABASE | ES_UNHEALTHY_ROOT |
		    ES_UNHEALTHY_IDENTITY, false);
		account(d, j);
		es_pass_log_summary(&j->r, j->once ? "pass done (--once)" :
		    trigger_name(j->kind), j->r.to_db + j->r.to_file > 0 ||
		    j->kind == ES_TRIGGER_FULL || j->once ? ES_LOG_INFO :
		    ES_LOG_DEBUG);
	}
	if (j->kind == ES_TRIGGER_ORDINARY && !j->once)
		arm_poll(d, j->dur_s * 1000.0);
	if (j->once && j->reply != NULL)
		reply_once(d, j);
	es_job_free(j);
}

static void
on_worker_done(uv_async_t *a)
{
	struct daemon *d = a->data;
	struct es_job *j, *next;

	if (d->worker == NULL)
		return;
	for (j = es_worker_take_done(d->worker); j != NULL; j = next) {
		next = j->next;
		d->busy = false;
		d->st.pass_running = false;
		finish(d, j);
	}
	if (d->stopping) {
		uv_stop(d->loop);
		return;
	}
	kick(d);
}

/* --- events ---------------------------------------------------------- */

static void
on_watch(struct es_watch *w, const char *const *rels, size_t n,
    unsigned flags, void *ud)
{
	struct daemon *d = ud;
	int64_t now = now_ms();

	(void)w;
	d->st.last_event_ms = now;
	for (size_t i = 0; i < n; i++)
		add_path(d, rels[i]);
	if (n > 0 && d->paths_since_ms == 0)
		d->paths_since_ms = now;
	if (flags & ES_WATCH_RESCAN) {
		es_log(ES_LOG_WARN, SUB, "file events were lost (inotify "
		    "queue overflow or the watch limit): a full pass (SPEC "
		    "4.14)");
		d->st.overflows++;
		set_unhealthy(d, ES_UNHEALTHY_WATCHER, true);
		d->need_full = true;
	}
	if (flags & ES_WATCH_ROOT)
		d->need_full = true;	/* its guards look at the root */
	kick(d);
}

static void
on_source_ready(uv_async_t *a)
{
	struct daemon *d = a->data;
	struct es_source_report rep;
	bool was_up = d->src.up;
	int64_t now = now_ms();

	es_source_take(d->source, &rep);
	d->src.kind = rep.kind;
	d->src.cost_ms = rep.cost_ms;
	d->src.up = rep.up;
	memcpy(d->src.error, rep.error, sizeof(d->src.error));
	d->st.db_connected = rep.up;
	d->st.source = rep.up ? es_source_kind_name(rep.kind) : "none";
	d->st.source_cost_ms = rep.cost_ms;
	if (rep.kind == ES_SOURCE_OPLOG)
		d->st.source_tick_ms = 500;
	else if (rep.kind == ES_SOURCE_STREAM)
		d->st.source_tick_ms = 0;
	set_unhealthy(d, ES_UNHEALTHY_DATABASE, !rep.up);
	if (rep.batch.gap)
		d->need_full = true;
	if (rep.batch.n > 0) {
		d->st.last_event_ms = now;
		if (d->changes_since_ms == 0)
			d->changes_since_ms = now;
	}
	for (size_t i = 0; i < rep.batch.n; i++)
		add_change(d, &rep.batch.ev[i]);
	rep.batch.n = 0;
	es_change_batch_release(&rep.batch);
	if (rep.up && !was_up) {
		d->retry_ms = 0;
		uv_timer_stop(&d->retry_timer);
		if (rep.kind == ES_SOURCE_POLL)
			d->need_poll = true;
	}
	kick(d);
}

static void
on_full_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->need_full = true;
	kick(d);
}

/* --- signals --------------------------------------------------------- */

static void
stop(struct daemon *d)
{
	if (d->stopping)
		return;
	es_log(ES_LOG_INFO, SUB, "stopping%s", d->busy ? " after the pass "
	    "in flight" : "");
	d->stopping = true;
	if (!d->busy)
		uv_stop(d->loop);
}

/* The settings a reload cannot change, in the order of reload()'s names. */
static char **
fixed_field(struct es_config *c, size_t i)
{
	char **f[] = { &c->source, &c->mongodb_uri, &c->database,
	    &c->user_id, &c->status_listen, &c->status_token };

	return f[i];
}

static void
reload(struct daemon *d)
{
	struct es_config nc;
	struct es_error err;
	static const char *const fixed[] = { "source", "mongodb_uri",
	    "database", "user_id", "status_listen", "status_token" };

	if (d->args->reload == NULL ||
	    d->args->reload(&nc, &err, d->args->reload_ud) < 0) {
		es_log_error(&err, ES_LOG_ERROR, SUB);
		es_log(ES_LOG_ERROR, SUB, "SIGHUP: the new configuration is "
		    "refused: keeping the old one");
		return;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		const char *a = *fixed_field(&d->cfg, i);
		const char *b = *fixed_field(&nc, i);

		if ((a == NULL) != (b == NULL) || (a != NULL &&
		    strcmp(a, b) != 0))
			es_log(ES_LOG_WARN, SUB, "SIGHUP: %s changed: it takes "
			    "effect when the daemon restarts", fixed[i]);
		/* Keep what the running daemon was started with. */
		free(*fixed_field(&nc, i));
		*fixed_field(&nc, i) = a != NULL ? es_xstrdup(a) : NULL;
	}
	es_config_release(&d->cfg);
	d->cfg = nc;
	d->st.root = d->cfg.source;
	d->st.database = d->cfg.database;
	if (d->worker != NULL)
		es_worker_reconfigure(d->worker, &d->cfg);
	if (d->cfg.full_pass_s > 0)
		uv_timer_start(&d->full_timer, on_full_timer,
		    (uint64_t)d->cfg.full_pass_s * 1000,
		    (uint64_t)d->cfg.full_pass_s * 1000);
	else
		uv_timer_stop(&d->full_timer);
	es_log(ES_LOG_INFO, SUB, "SIGHUP: configuration reloaded");
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	switch (signum) {
	case SIGTERM:
	case SIGINT:
		stop(d);
		break;
	case SIGHUP:
		reload(d);
		break;
	case SIGUSR1:
		es_log(ES_LOG_INFO, SUB, "SIGUSR1: a full pass");
		d->need_full = true;
		kick(d);
		break;
	}
}

/* --- HTTP ------------------------------------------------------------ */

static void
snapshot(struct daemon *d)
{
	d->st.pending_paths = d->npaths;
	d->st.pending_changes = d->changes.n;
	d->st.watches = d->watch != NULL ? es_watch_count(d->watch) : 0;
	d->st.tcp_port = d->http != NULL ? es_http_port(d->http) : 0;
	d->st.unhealthy_why[0] = '\0';
	if (d->st.unhealthy & ES_UNHEALTHY_ROOT)
		snprintf(d->st.unhealthy_why, sizeof(d->st.unhealthy_why),
		    "%.255s", d->unhealthy_root);
	else if (d->st.unhealthy & ES_UNHEALTHY_DATABASE)
		snprintf(d->st.unhealthy_why, sizeof(d->st.unhealthy_why),
		    "%.255s", d->src.error);
}

static bool
json_flag(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* POST /once on the socket: a --once handed over (main.c). */
static int
once_request(struct daemon *d, const struct es_http_request *req,
    struct es_buf *body)
{
	json_t *o, *md;
	json_error_t je;
	struct es_job *j;
	char *s;

	if (!req->unix_socket) {
		es_buf_addstr(body, "{\"error\":\"only on the socket\"}\n");
		return 403;
	}
	if (!d->ready) {
		o = json_pack("{s:i, s:s, s:s}", "exit_status", 75, "stdout",
		    "", "error", d->unhealthy_root);
		s = json_dumps(o, JSON_COMPACT);
		es_buf_addstr(body, s);
		free(s);
		json_decref(o);
		return 200;
	}
	if (req->body == NULL || (o = json_loadb(req->body, req->body_len, 0,
	    &je)) == NULL || !json_is_object(o)) {
		es_buf_addstr(body, "{\"error\":\"want a JSON object of "
		    "flags\"}\n");
		return 400;
	}
	j = es_xcalloc(1, sizeof(*j));
	j->once = true;
	j->flags.dry_run = json_flag(o, "dry_run");
	j->flags.force = json_flag(o, "force");
	j->flags.resync = json_flag(o, "resync");
	j->flags.init = json_flag(o, "init");
	j->flags.full = json_flag(o, "full");
	j->flags.json = json_flag(o, "json");
	if (json_is_integer(md = json_object_get(o, "max_delete")) &&
	    json_integer_value(md) >= 0 && json_integer_value(md) <= 100) {
		j->flags.max_delete_set = true;
		j->flags.max_delete = (unsigned)json_integer_value(md);
	}
	json_decref(o);
	j->kind = j->flags.full || j->flags.force || j->flags.resync ?
	    ES_TRIGGER_FULL : ES_TRIGGER_ORDINARY;
	j->reply = req->later;
	*d->once_tail = j;
	d->once_tail = &j->next;
	kick(d);
	return ES_HTTP_LATER;
}

static int
on_http(const struct es_http_request *req, struct es_buf *body,
    const char **ctype, void *ud)
{
	struct daemon *d = ud;
	int64_t now = now_ms();

	*ctype = "application/json";
	snapshot(d);
	if (strcmp(req->method, "POST") == 0) {
		if (strcmp(req->path, "/once") == 0)
			return once_request(d, req, body);
		es_buf_addstr(body, "{\"error\":\"not found\"}\n");
		return 404;
	}
	if (strcmp(req->path, "/healthz") == 0)
		return es_status_healthz(&d->st, req->privileged, body);
	if (strcmp(req->path, "/status") == 0) {
		if (!req->privileged) {
			es_buf_addstr(body, "{\"error\":\"/status names files: "
			    "ask over the daemon's socket (execsyncd "
			    "--status) or send Authorization: Bearer "
			    "<status_token>\"}\n");
			return 403;
		}
		es_status_json(&d->st, now, true, body);
		return 200;
	}
	if (strcmp(req->path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4";
		es_status_metrics(&d->st, now, body);
		return 200;
	}
	es_buf_addstr(body, "{\"error\":\"not found: try /healthz, /status "
	    "or /metrics\"}\n");
	return 404;
}

/* --- start and stop --------------------------------------------------- */

static void
close_cb(uv_handle_t *h)
{
	(void)h;
}

static void
close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, close_cb);
}

/*
 * Another daemon answers on the root's socket: say which process holds
 * the root, as the lock would have (SPEC §1: a clear message naming it).
 */
static void
name_holder(struct daemon *d, struct es_error *err)
{
	struct es_lock *lock = NULL;
	struct es_error e2;
	pid_t holder = 0;
	struct stat st;
	char *path;
	int fd;

	/* Only a lock that exists: never make .execsync/ in a folder. */
	path = es_xasprintf("%s/" ES_LOCK_FILE, d->cfg.source);
	fd = lstat(path, &st);
	free(path);
	if (fd < 0 || (fd = open(d->cfg.source, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return;
	if (es_lock_take(fd, &lock, &holder, &e2) == ES_LOCK_HELD &&
	    holder > 0)
		es_error_set(err, ES_EBUSY, d->cfg.source, 0, "held by another "
		    "execsync daemon (pid %ld, answering on %s): not starting",
		    (long)holder, d->socket_path);
	es_lock_release(lock);
	close(fd);
}

static int
start(struct daemon *d, struct es_error *err)
{
	struct es_http_opts ho;
	int rc;

	uv_async_init(d->loop, &d->worker_done, on_worker_done);
	uv_async_init(d->loop, &d->source_ready, on_source_ready);
	d->worker_done.data = d->source_ready.data = d;
	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	uv_signal_init(d->loop, &d->sig_hup);
	uv_signal_init(d->loop, &d->sig_usr1);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data =
	    d->sig_usr1.data = d;
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	uv_signal_start(&d->sig_usr1, on_signal, SIGUSR1);
	uv_timer_init(d->loop, &d->full_timer);
	uv_timer_init(d->loop, &d->poll_timer);
	uv_timer_init(d->loop, &d->root_timer);
	uv_timer_init(d->loop, &d->retry_timer);
	uv_timer_init(d->loop, &d->gone_timer);
	d->full_timer.data = d->poll_timer.data = d->root_timer.data =
	    d->retry_timer.data = d->gone_timer.data = d;

	/* A second daemon on this root is refused here or by the lock. */
	if ((d->socket_path = es_http_socket_path(d->cfg.source, true,
	    err)) == NULL)
		return -1;
	memset(&ho, 0, sizeof(ho));
	ho.listen = d->cfg.status_listen;
	ho.socket_path = d->socket_path;
	ho.token = d->cfg.status_token;
	ho.handler = on_http;
	ho.ud = d;
	if ((d->http = es_http_new(d->loop, &ho, err)) == NULL) {
		if (err->code == ES_EBUSY)
			name_holder(d, err);
		return -1;
	}
	if (es_http_port(d->http) > 0)
		es_log(ES_LOG_INFO, SUB, "status endpoint: http://%s (port "
		    "%d), socket %s", d->cfg.status_listen,
		    es_http_port(d->http), d->socket_path);
	else
		es_log(ES_LOG_INFO, SUB, "status endpoint: socket %s",
		    d->socket_path);

	if ((rc = root_up(d, true, err)) < 0)
		return -1;
	if (rc > 0)
		root_wait(d, err);
	if ((d->source = es_source_start(&d->cfg, &d->source_ready,
	    err)) == NULL)
		return -1;
	if (d->cfg.full_pass_s > 0)
		uv_timer_start(&d->full_timer, on_full_timer,
		    (uint64_t)d->cfg.full_pass_s * 1000,
		    (uint64_t)d->cfg.full_pass_s * 1000);
	return 0;
}

int
es_daemon_run(const struct es_daemon_args *a)
{
	struct daemon d;
	struct es_error err;
	uv_loop_t loop;
	int status = 0;

	memset(&d, 0, sizeof(d));
	d.args = a;
	d.root_fd = -1;
	d.once_tail = &d.once;
	es_config_copy(&d.cfg, a->cfg);
	es_change_batch_init(&d.changes);
	d.st.version = es_cli_version();
	d.st.root = d.cfg.source;
	d.st.database = d.cfg.database;
	d.st.started_ms = now_ms();
	d.st.source = "none";
	d.src.kind = ES_SOURCE_POLL;
	uv_loop_init(&loop);
	d.loop = &loop;
	es_error_clear(&err);
	if (start(&d, &err) < 0) {
		es_log_error(&err, ES_LOG_ERROR, SUB);
		status = err.code == ES_EBUSY ? 75 : 2;
	} else {
		es_log(ES_LOG_INFO, SUB, "watching %s (pid %ld)",
		    d.cfg.source, (long)getpid());
		kick(&d);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	/* Stopping: the worker finished its pass (or had none). */
	d.stopping = true;
	es_source_stop(d.source);
	root_down(&d);
	es_http_free(d.http);
	uv_walk(&loop, close_walk, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	for (struct es_job *j = d.once, *next; j != NULL; j = next) {
		next = j->next;
		es_job_free(j);
	}
	for (size_t i = 0; i < d.npaths; i++)
		free(d.paths[i]);
	free(d.paths);
	es_change_batch_release(&d.changes);
	free(d.socket_path);
	es_config_release(&d.cfg);
	if (status == 0)
		es_log(ES_LOG_INFO, SUB, "stopped");
	return status;
}
