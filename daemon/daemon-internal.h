/*
 * What the loop's files share (daemon.c, daemon-root.c, daemon-http.c):
 * the loop's state, owned by the loop thread alone, and the functions one
 * file calls in another. Private to daemon/.
 */
#ifndef EXECSYNCD_DAEMON_INTERNAL_H
#define EXECSYNCD_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "execsync/lock.h"

#include "daemon.h"
#include "http.h"
#include "status.h"
#include "watch.h"

#define SUB		"daemon"	/* the log's subsystem */
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
	char			 unhealthy_identity[256];
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
	/* Deletes waiting to be confirmed (daemon-hold.c). */
	struct es_held {
		char		*rel;
		int64_t		 since_ms;
	}			*held;
	size_t			 nheld, cheld;
	/* Handles. */
	uv_async_t		 worker_done, source_ready;
	uv_signal_t		 sig_term, sig_int, sig_hup, sig_usr1;
	uv_timer_t		 full_timer, poll_timer, root_timer,
				 retry_timer, gone_timer,
				 hold_timer, watchdog_timer;
};

/* daemon.c */
int64_t	es__d_now_ms(void);
void	es__d_kick(struct daemon *d);
void	es__d_set_unhealthy(struct daemon *d, unsigned bit, bool on);
void	es__d_remember_error(struct daemon *d, const struct es_error *e);
void	es__d_add_path(struct daemon *d, const char *rel);
void	es__d_on_watch(struct es_watch *w, const char *const *rels,
	    size_t n, unsigned flags, void *ud);

/* daemon-root.c: the root, its lock, the worker and watcher on it */
int	es__d_root_up(struct daemon *d, bool starting, struct es_error *err);
void	es__d_root_down(struct daemon *d);
void	es__d_root_wait(struct daemon *d, const struct es_error *why);
bool	es__d_root_moved(struct daemon *d, struct es_error *err);
void	es__d_on_gone_timer(uv_timer_t *t);
void	es__d_name_holder(struct daemon *d, struct es_error *err);

/* daemon-hold.c: deletes held for a moment (an editor's delete, create) */
void	es__d_hold_seen(struct daemon *d, const char *rel, int64_t now);
void	es__d_hold_attach(const struct daemon *d, struct es_job *j);
void	es__d_hold_release(struct daemon *d);

/* daemon-http.c: the status endpoint's answers, --once handed over */
int	es__d_on_http(const struct es_http_request *req, struct es_buf *body,
	    const char **ctype, void *ud);
void	es__d_reply_once(struct daemon *d, struct es_job *j);

#endif
