/*
 * The daemon's root (daemon.h): whether it can be synced (a folder, with
 * one of the three synced folders or a baseline, or --init: SPEC 4.15,
 * 4.18), its lock, and the worker and the watcher that live while it is
 * held; waiting for it while it is missing, moved or unmounted.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "execsync/baseline.h"
#include "execsync/lock.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "daemon-internal.h"

/* Stops syncing the root (it vanished, or we are stopping). */
void
es__d_root_down(struct daemon *d)
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
int
es__d_root_up(struct daemon *d, bool starting, struct es_error *err)
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
	if (!es_engine_root_has_folders(fd) && !es_baseline_exists(d->cfg.source) &&
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
	wo.cb = es__d_on_watch;
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
	if (es__d_root_up(d, false, &err) != 0) {
		es_error_format(&err, d->unhealthy_root,
		    sizeof(d->unhealthy_root));
		return;
	}
	es_log(ES_LOG_INFO, SUB, "%s: the folder is back: syncing",
	    d->cfg.source);
	es__d_set_unhealthy(d, ES_UNHEALTHY_ROOT, false);
	uv_timer_stop(&d->root_timer);
	es__d_kick(d);
}

/* The root is not syncable (now or any more): wait for it. */
void
es__d_root_wait(struct daemon *d, const struct es_error *why)
{
	es_log_error(why, ES_LOG_ERROR, SUB);
	es_error_format(why, d->unhealthy_root, sizeof(d->unhealthy_root));
	es__d_set_unhealthy(d, ES_UNHEALTHY_ROOT, true);
	es__d_root_down(d);
	uv_timer_start(&d->root_timer, on_root_timer, ROOT_CHECK_MS,
	    ROOT_CHECK_MS);
}

/*
 * Whether the root's path no longer names the folder we hold: renamed
 * away or lazily unmounted, root_fd still reads the old folder, which a
 * pass would go on syncing. err says so.
 */
bool
es__d_root_moved(struct daemon *d, struct es_error *err)
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

/* Out of the watcher's callback (es__d_root_wait() frees the watcher). */
void
es__d_on_gone_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct es_error err;

	if (d->stopping || d->busy || !d->ready || !es__d_root_moved(d, &err))
		return;
	es__d_root_wait(d, &err);
}

/*
 * Another daemon answers on the root's socket: say which process holds
 * the root, as the lock would have (SPEC §1: a clear message naming it).
 */
void
es__d_name_holder(struct daemon *d, struct es_error *err)
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
