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
 *
 * Under systemd (Type=notify, packaging/execsyncd.service) it says how it
 * is through sd_notify(3), which does nothing elsewhere: READY=1 once the
 * status endpoint listens and the start-up pass is queued (not done: that
 * pass may wait for the server, and the daemon is up meanwhile), STATUS=
 * when its health changes, RELOADING=1 and READY=1 around a SIGHUP,
 * STOPPING=1 on SIGTERM, and WATCHDOG=1 from a timer of the loop every
 * WATCHDOG_USEC/2, so a loop that stops turning gets restarted. An
 * unreachable server or a missing root does not stop the pings: the daemon
 * waits those out itself (SPEC 4.13, 4.18).
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
#include <systemd/sd-daemon.h>

#include "execsync/baseline.h"
#include "execsync/cli.h"
#include "execsync/lock.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "daemon-internal.h"

int64_t
es__d_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- systemd (sd_notify(3)) ------------------------------------------ */

/*
 * STATUS=, as `systemctl status` shows it: "syncing ROOT", or "degraded:"
 * and the failing checks of /healthz. prefix: more lines before it.
 */
static void
notify_status(const struct daemon *d, const char *prefix)
{
	struct es_buf body = ES_BUF_INIT, why = ES_BUF_INIT;
	json_t *h, *checks, *c;
	size_t i;

	if (d->st.unhealthy == 0)
		es_buf_addf(&why, "syncing %s", d->cfg.source);
	else {
		es_buf_addstr(&why, "degraded (execsyncd --status):");
		es_status_healthz(&d->st, false, &body);
		h = json_loads(body.buf != NULL ? body.buf : "", 0, NULL);
		checks = json_object_get(h, "checks");
		json_array_foreach(checks, i, c)
			es_buf_addf(&why, "%s %s", i > 0 ? "," : "",
			    json_string_value(c) != NULL ?
			    json_string_value(c) : "?");
		json_decref(h);
	}
	sd_notifyf(0, "%sSTATUS=%s", prefix, why.buf);
	es_buf_release(&why);
	es_buf_release(&body);
}

static void
on_watchdog_timer(uv_timer_t *t)
{
	(void)t;
	/* The loop turns: it ran this timer. */
	sd_notify(0, "WATCHDOG=1");
}

/* The watchdog's pings, when the service manager asks for them. */
static void
start_watchdog(struct daemon *d)
{
	uint64_t usec = 0;
	uint64_t ms;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	ms = usec / 2000 > 0 ? usec / 2000 : 1;
	uv_timer_start(&d->watchdog_timer, on_watchdog_timer, 0, ms);
	es_log(ES_LOG_DEBUG, SUB, "systemd watchdog: a ping every %llu ms",
	    (unsigned long long)ms);
}

void
es__d_set_unhealthy(struct daemon *d, unsigned bit, bool on)
{
	unsigned was = d->st.unhealthy;

	if (on)
		d->st.unhealthy |= bit;
	else
		d->st.unhealthy &= ~bit;
	if (d->st.unhealthy != was && !d->stopping)
		notify_status(d, "");
}

/* Remembers an error for /status and counts it. */
void
es__d_remember_error(struct daemon *d, const struct es_error *e)
{
	struct es_status_item *it;
	char msg[PATH_MAX + 600];

	es_error_format(e, msg, sizeof(msg));
	es_status_remember(d->st.errors_recent, &d->st.nerrors_recent,
	    es__d_now_ms(), e->path, msg);
	it = &d->st.errors_recent[(d->st.nerrors_recent - 1) %
	    ES_STATUS_RECENT];
	it->line = e->line;
	it->code = es_problem_name(es_problem_of(e));
	d->st.errors++;
}

/* --- work waiting for the worker ------------------------------------ */

void
es__d_add_path(struct daemon *d, const char *rel)
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
		es__d_add_path(d, j->paths[i]);
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
	/*
	 * A pass the deletion guard stopped or a git operation held applied
	 * nothing, and the change events it took are gone: until a pass goes
	 * through, each one reads the since-query too, which starts at the
	 * last watermark committed (issue 17: an edit against a delete the
	 * stopped pass had taken was trashed, not resurrected, SPEC 4.5).
	 */
	if (d->st.unhealthy & (ES_UNHEALTHY_GUARD | ES_UNHEALTHY_GIT))
		j->db_quiet = false;
	es__d_hold_attach(d, j);
	return j;
}

void
es__d_kick(struct daemon *d)
{
	struct es_error err;
	struct es_job *j;

	if (d->stopping || d->busy || !d->ready)
		return;
	if (es__d_root_moved(d, &err)) {
		uv_timer_start(&d->gone_timer, es__d_on_gone_timer, 0, 0);
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
	es__d_kick(d);
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
	es__d_kick(d);
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
	int64_t now = es__d_now_ms();

	d->st.passes++;
	d->st.last_pass_ms = now;
	d->st.last_pass_s = j->dur_s;
	d->st.ops_ok[ES_SIDE_TO_DB] += r->to_db;
	d->st.ops_ok[ES_SIDE_TO_FILE] += r->to_file;
	d->st.ops_failed[ES_SIDE_TO_DB] += r->failed;
	d->st.conflicts += r->conflicts;
	for (size_t i = 0; i < r->nerrors; i++)
		es__d_remember_error(d, &r->errors[i]);
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
		es__d_set_unhealthy(d, ES_UNHEALTHY_WATCHER, false);
	}
	es__d_set_unhealthy(d, ES_UNHEALTHY_GUARD, r->guard_stopped);
	es__d_set_unhealthy(d, ES_UNHEALTHY_GIT, r->held);
	if (j->counted) {
		d->st.projects = j->counts[ES_KIND_PROJECT];
		d->st.goals = j->counts[ES_KIND_GOAL];
		d->st.actions = j->counts[ES_KIND_ACTION];
	}
}

static void
finish(struct daemon *d, struct es_job *j)
{
	if (j->db_down) {
		es__d_set_unhealthy(d, ES_UNHEALTHY_DATABASE, true);
		es_log_error(&j->err, ES_LOG_WARN, SUB);
		if (!j->once)
			give_back(d, j);
		back_off(d);
	} else if (j->rc < 0) {
		if (j->r.wrong_identity) {
			/*
			 * SPEC 4.18: the baseline is another database's or
			 * user's. Nothing syncs until the configuration is
			 * fixed (SIGHUP) or `execsyncd --once --resync`
			 * adopts the new one; said once, not at every pass.
			 */
			if ((d->st.unhealthy & ES_UNHEALTHY_IDENTITY) == 0) {
				es_log_error(&j->err, ES_LOG_ERROR, SUB);
				es__d_remember_error(d, &j->err);
			} else
				es_log_error(&j->err, ES_LOG_DEBUG, SUB);
			es_error_format(&j->err, d->unhealthy_identity,
			    sizeof(d->unhealthy_identity));
			es__d_set_unhealthy(d, ES_UNHEALTHY_IDENTITY, true);
		} else if (j->err.code == ES_ECONFIG && !j->once) {
			/* The root went away, or is not ours: wait for it. */
			es__d_root_wait(d, &j->err);
			if (!j->once)
				give_back(d, j);
		} else {
			es_log_error(&j->err, ES_LOG_ERROR, SUB);
			es__d_remember_error(d, &j->err);
		}
	} else {
		es__d_set_unhealthy(d, ES_UNHEALTHY_DATABASE | ES_UNHEALTHY_ROOT |
		    ES_UNHEALTHY_IDENTITY, false);
		account(d, j);
		es_pass_log_summary(&j->r, j->once ? "pass done (--once)" :
		    trigger_name(j->kind), j->r.to_db + j->r.to_file > 0 ||
		    j->kind == ES_TRIGGER_FULL || j->once ? ES_LOG_INFO :
		    ES_LOG_DEBUG);
	}
	/*
	 * The poll's next turn: its interval from what this poll cost; a
	 * full pass read everything, and its cost is not a poll's.
	 */
	if (j->kind == ES_TRIGGER_ORDINARY && !j->once)
		arm_poll(d, j->dur_s * 1000.0);
	else if (j->kind == ES_TRIGGER_FULL && !j->once &&
	    !uv_is_active((uv_handle_t *)&d->poll_timer))
		arm_poll(d, 0);
	if (j->once && j->reply != NULL)
		es__d_reply_once(d, j);
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
	es__d_kick(d);
}

/* --- events ---------------------------------------------------------- */

void
es__d_on_watch(struct es_watch *w, const char *const *rels, size_t n,
    unsigned flags, void *ud)
{
	struct daemon *d = ud;
	int64_t now = es__d_now_ms();

	(void)w;
	d->st.last_event_ms = now;
	for (size_t i = 0; i < n; i++) {
		es__d_add_path(d, rels[i]);
		es__d_hold_seen(d, rels[i], now);
	}
	if (n > 0 && d->paths_since_ms == 0)
		d->paths_since_ms = now;
	if (flags & ES_WATCH_RESCAN) {
		es_log(ES_LOG_WARN, SUB, "file events were lost (inotify "
		    "queue overflow or the watch limit): a full pass (SPEC "
		    "4.14)");
		d->st.overflows++;
		es__d_set_unhealthy(d, ES_UNHEALTHY_WATCHER, true);
		d->need_full = true;
	}
	if (flags & ES_WATCH_ROOT)
		d->need_full = true;	/* its guards look at the root */
	es__d_kick(d);
}

static void
on_source_ready(uv_async_t *a)
{
	struct daemon *d = a->data;
	struct es_source_report rep;
	bool was_up = d->src.up;
	int64_t now = es__d_now_ms();

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
	es__d_set_unhealthy(d, ES_UNHEALTHY_DATABASE, !rep.up);
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
	es__d_kick(d);
}

static void
on_full_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->need_full = true;
	es__d_kick(d);
}

/* --- signals --------------------------------------------------------- */

static void
stop(struct daemon *d)
{
	if (d->stopping)
		return;
	es_log(ES_LOG_INFO, SUB, "stopping%s", d->busy ? " after the pass "
	    "in flight" : "");
	sd_notifyf(0, "STOPPING=1\nSTATUS=stopping%s", d->busy ?
	    " after the pass in flight" : "");
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
	es_log_set_json(d->cfg.log_json);
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

/* RELOADING=1 with the time of the request (Type=notify-reload wants it). */
static void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000 +
	    (unsigned long long)ts.tv_nsec / 1000);
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
		notify_reloading();
		reload(d);
		notify_status(d, "READY=1\n");
		break;
	case SIGUSR1:
		es_log(ES_LOG_INFO, SUB, "SIGUSR1: a full pass");
		d->need_full = true;
		es__d_kick(d);
		break;
	}
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
	uv_timer_init(d->loop, &d->hold_timer);
	uv_timer_init(d->loop, &d->watchdog_timer);
	d->full_timer.data = d->poll_timer.data = d->root_timer.data =
	    d->retry_timer.data = d->gone_timer.data =
	    d->hold_timer.data = d->watchdog_timer.data = d;

	/* A second daemon on this root is refused here or by the lock. */
	if ((d->socket_path = es_http_socket_path(d->cfg.source, true,
	    err)) == NULL)
		return -1;
	memset(&ho, 0, sizeof(ho));
	ho.listen = d->cfg.status_listen;
	ho.socket_path = d->socket_path;
	ho.token = d->cfg.status_token;
	ho.handler = es__d_on_http;
	ho.ud = d;
	if ((d->http = es_http_new(d->loop, &ho, err)) == NULL) {
		if (err->code == ES_EBUSY)
			es__d_name_holder(d, err);
		return -1;
	}
	if (es_http_port(d->http) > 0)
		es_log(ES_LOG_INFO, SUB, "status endpoint: http://%s (port "
		    "%d), socket %s", d->cfg.status_listen,
		    es_http_port(d->http), d->socket_path);
	else
		es_log(ES_LOG_INFO, SUB, "status endpoint: socket %s",
		    d->socket_path);

	if ((rc = es__d_root_up(d, true, err)) < 0)
		return -1;
	if (rc > 0)
		es__d_root_wait(d, err);
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
	d.st.started_ms = es__d_now_ms();
	d.st.source = "none";
	d.src.kind = ES_SOURCE_POLL;
	uv_loop_init(&loop);
	d.loop = &loop;
	es_error_clear(&err);
	if (start(&d, &err) < 0) {
		char msg[PATH_MAX + 600];

		es_log_error(&err, ES_LOG_ERROR, SUB);
		status = err.code == ES_EBUSY ? 75 : 2;
		sd_notifyf(0, "STATUS=%s", es_error_format(&err, msg,
		    sizeof(msg)));
	} else {
		es_log(ES_LOG_INFO, SUB, "watching %s (pid %ld)",
		    d.cfg.source, (long)getpid());
		es__d_kick(&d);
		/* Listening, the start-up pass queued. */
		notify_status(&d, "READY=1\n");
		start_watchdog(&d);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	/* Stopping: the worker finished its pass (or had none). */
	d.stopping = true;
	es_source_stop(d.source);
	es__d_root_down(&d);
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
	es__d_hold_release(&d);
	free(d.socket_path);
	es_config_release(&d.cfg);
	if (status == 0)
		es_log(ES_LOG_INFO, SUB, "stopped");
	return status;
}
