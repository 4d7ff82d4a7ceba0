/*
 * The daemon's private interfaces (issue 16): the loop (daemon.c), the
 * worker thread that runs passes (worker.c), the change-source thread
 * (source.c) and the one-shot pass's output (once.c).
 *
 * Threads and what each owns:
 *
 *	loop	the libuv loop (daemon.c): every piece of state, the
 *		watcher, the HTTP server, the timers, the signals, the
 *		queue of work waiting for the worker, the status snapshot
 *	worker	the store (its own mongoc client), the baseline, the world:
 *		runs one job at a time (es_pass_run()) and hands the result
 *		back with uv_async_send(); never touches the loop's state
 *	source	the change source (changes.h, its own mongoc client): waits
 *		for database changes and hands batches back the same way
 *
 * Nothing is shared but the two hand-over queues, each under its mutex.
 */
#ifndef EXECSYNCD_DAEMON_H
#define EXECSYNCD_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "execsync/buf.h"
#include "execsync/changes.h"
#include "execsync/config.h"
#include "execsync/engine.h"
#include "execsync/error.h"
#include "execsync/log.h"
#include "execsync/world.h"

#include "http.h"

/* What a one-shot pass was asked for (execsyncd --once, or handed over). */
struct es_once_flags {
	bool		 dry_run, force, resync, init, full, json;
	bool		 verbose;	/* a dry run lists bookkeeping too */
	bool		 max_delete_set;
	unsigned	 max_delete;
};

/* One pass for the worker. */
struct es_job {
	enum es_trigger_kind	 kind;
	bool			 db_quiet;
	char			**paths;	/* owned, sorted */
	size_t			 npaths;
	struct es_change_event	*ev;		/* owned (docs too) */
	size_t			 nev;
	char			**hold;		/* owned: es_trigger.hold */
	size_t			 nhold;
	bool			 once;		/* a handed-over --once */
	struct es_once_flags	 flags;
	struct es_http_req	*reply;		/* answer when done, or NULL */
	int64_t			 first_event_ms;	/* for latency; 0 none */
	/* Filled by the worker. */
	int			 rc;		/* es_pass_run()'s */
	struct es_error		 err;
	struct es_engine_result	 r;
	double			 dur_s;
	bool			 db_down;	/* the server did not answer */
	size_t			 counts[3];	/* baseline entities by kind */
	bool			 counted;	/* counts filled */
	struct es_job		*next;
};

void	es_job_free(struct es_job *j);

/* The worker: one thread, one job at a time. */
struct es_worker;

/*
 * Starts the worker for cfg's root (root_fd borrowed, the lock taken by
 * the caller). done is sent after each job; es_worker_take_done() hands
 * the finished jobs over.
 */
struct es_worker *es_worker_start(const struct es_config *cfg, int root_fd,
		    uv_async_t *done, struct es_error *err);
/* Queues j (the worker owns it until it comes back done). */
void		 es_worker_submit(struct es_worker *w, struct es_job *j);
/* Finished jobs, oldest first (a list through ->next), or NULL. */
struct es_job	*es_worker_take_done(struct es_worker *w);
/* New settings for the next jobs (SIGHUP): copied. */
void		 es_worker_reconfigure(struct es_worker *w,
		    const struct es_config *cfg);
/* Finishes the job in flight, drops queued ones, joins. w may be NULL. */
void		 es_worker_stop(struct es_worker *w);

/* The change-source thread. */
struct es_source;

struct es_source_report {
	enum es_source_kind	 kind;
	bool			 up;		/* connected */
	double			 cost_ms;	/* the last read */
	struct es_change_batch	 batch;		/* events since last take */
	char			 error[512];	/* why down, or "" */
};

struct es_source *es_source_start(const struct es_config *cfg,
		    uv_async_t *ready, struct es_error *err);
/* What happened since the last call (events moved into out->batch). */
void		 es_source_take(struct es_source *s,
		    struct es_source_report *out);
/* s may be NULL. */
void		 es_source_stop(struct es_source *s);

/*
 * The daemon: runs until SIGTERM or SIGINT; returns the exit status (0,
 * or 2/75 when it cannot start: SPEC §1).
 */
struct es_daemon_args {
	const char		*config_path;	/* for SIGHUP; NULL: default */
	struct es_config	*cfg;		/* loaded, checked */
	bool			 init;		/* --init */
	/* Reloads the configuration (SIGHUP): 0, or -1 with err. */
	int			(*reload)(struct es_config *out,
				    struct es_error *err, void *ud);
	void			*reload_ud;
};

int	es_daemon_run(const struct es_daemon_args *a);

/*
 * The one-shot pass's output (SPEC §1): the plan lines of a dry run and
 * the summary for people, or one JSON object. out: what goes to stdout.
 */
void	es_once_output(const struct es_once_flags *f,
	    const struct es_engine_result *r, int status, const char *error,
	    struct es_buf *out);
/* The one log line of a pass that ran ("pass done: ..."). */
void	es_pass_log_summary(const struct es_engine_result *r,
	    const char *what, enum es_log_level level);

#endif
