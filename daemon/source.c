/*
 * The change-source thread (daemon.h, changes.h): opens the cheapest
 * source the server has, waits on it and hands what it finds to the loop.
 * When the server cannot be reached it says so and opens again with a
 * capped backoff (1 s doubling to 30 s); every reopen chooses the source
 * again, and a reopen is a gap (events may have been missed: the loop runs
 * a full pass), except for a change stream resumed from the last resume
 * token it gave (a token the server cannot resume from is a gap that
 * es_changes_next() reports itself). The token lives as long as the
 * daemon: a restart runs the start-up full pass anyway. A poll source has nothing to wait on: the loop polls with
 * ordinary passes, and this thread only sleeps until it is stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "daemon.h"

#define SUB		"source"
#define WAIT_MS		1000	/* one wait of the source, at most */
#define BACKOFF_MIN_MS	1000
#define BACKOFF_MAX_MS	30000

struct es_source {
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;		/* stop, for sleeps */
	bool			 stop;		/* under mtx */
	struct es_source_report	 rep;		/* under mtx */
	uv_async_t		*ready;
	struct es_config	 cfg;		/* the thread's */
};

/* Sleeps ms, or less when stopped; true when stopped. */
static bool
nap(struct es_source *s, unsigned ms)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mtx);
	while (!s->stop && pthread_cond_timedwait(&s->cond, &s->mtx,
	    &until) != ETIMEDOUT)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->mtx);
	return stop;
}

static bool
stopping(struct es_source *s)
{
	bool stop;

	pthread_mutex_lock(&s->mtx);
	stop = s->stop;
	pthread_mutex_unlock(&s->mtx);
	return stop;
}

/* Publishes state (and moves b's events over), then wakes the loop. */
static void
publish(struct es_source *s, struct es_changes *c, bool up,
    const struct es_error *err, struct es_change_batch *b)
{
	pthread_mutex_lock(&s->mtx);
	s->rep.up = up;
	if (c != NULL) {
		s->rep.kind = es_changes_kind(c);
		s->rep.cost_ms = es_changes_last_cost_ms(c);
	}
	if (err != NULL)
		es_error_format(err, s->rep.error, sizeof(s->rep.error));
	else
		s->rep.error[0] = '\0';
	if (b != NULL) {
		struct es_change_batch *to = &s->rep.batch;

		to->gap = to->gap || b->gap;
		for (size_t i = 0; i < b->n; i++) {
			if (to->n == to->cap) {
				to->cap = to->cap ? to->cap * 2 : 64;
				to->ev = es_xreallocarray(to->ev, to->cap,
				    sizeof(*to->ev));
			}
			to->ev[to->n++] = b->ev[i];
		}
		b->n = 0;	/* the docs moved with the events */
		b->gap = false;
	}
	pthread_mutex_unlock(&s->mtx);
	uv_async_send(s->ready);
}

static void *
source_main(void *arg)
{
	struct es_source *s = arg;
	struct es_change_batch b;
	unsigned backoff = BACKOFF_MIN_MS;
	bool opened_before = false;
	char *token = NULL;		/* the last stream's, to resume */

	es_change_batch_init(&b);
	while (!stopping(s)) {
		struct es_error err;
		struct es_changes *c;
		enum es_changes_status st;

		c = es_changes_open(s->cfg.mongodb_uri, s->cfg.database,
		    s->cfg.user_id, token, &err);
		if (c == NULL) {
			es_log_error(&err, ES_LOG_WARN, SUB);
			publish(s, NULL, false, &err, NULL);
			if (nap(s, backoff))
				break;
			backoff = backoff * 2 > BACKOFF_MAX_MS ?
			    BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		es_log(ES_LOG_INFO, SUB, "change source: %s",
		    es_source_kind_name(es_changes_kind(c)));
		/*
		 * Events between the last read and this open are unknown,
		 * unless a stream resumed where the last one stopped.
		 */
		b.gap = opened_before && !(token != NULL &&
		    es_changes_kind(c) == ES_SOURCE_STREAM);
		opened_before = true;
		publish(s, c, true, NULL, &b);
		while (!stopping(s)) {
			es_change_batch_reset(&b);
			st = es_changes_next(c, WAIT_MS, &b, &err);
			if (st == ES_CHANGES_ERROR) {
				es_log_error(&err, ES_LOG_WARN, SUB);
				publish(s, c, false, &err, NULL);
				break;
			}
			if (st == ES_CHANGES_POLL) {
				publish(s, c, true, NULL, NULL);
				/* Nothing to wait on: sleep until stopped. */
				while (!nap(s, 60000))
					;
				break;
			}
			if (st == ES_CHANGES_EVENTS)
				publish(s, c, true, NULL, &b);
			if (es_changes_kind(c) == ES_SOURCE_STREAM) {
				char *t = es_changes_token(c);

				if (t != NULL) {
					free(token);
					token = t;
				}
			}
		}
		es_changes_free(c);
		if (!stopping(s) && nap(s, backoff))
			break;
	}
	es_change_batch_release(&b);
	free(token);
	return NULL;
}

struct es_source *
es_source_start(const struct es_config *cfg, uv_async_t *ready,
    struct es_error *err)
{
	struct es_source *s = es_xcalloc(1, sizeof(*s));
	int rc;

	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->ready = ready;
	s->rep.kind = ES_SOURCE_POLL;
	es_change_batch_init(&s->rep.batch);
	es_config_copy(&s->cfg, cfg);
	if ((rc = pthread_create(&s->thread, NULL, source_main, s)) != 0) {
		es_error_set_sys(err, rc, NULL, "cannot start the change "
		    "source thread");
		es_config_release(&s->cfg);
		free(s);
		return NULL;
	}
	return s;
}

void
es_source_take(struct es_source *s, struct es_source_report *out)
{
	pthread_mutex_lock(&s->mtx);
	out->kind = s->rep.kind;
	out->up = s->rep.up;
	out->cost_ms = s->rep.cost_ms;
	memcpy(out->error, s->rep.error, sizeof(out->error));
	out->batch = s->rep.batch;
	es_change_batch_init(&s->rep.batch);
	pthread_mutex_unlock(&s->mtx);
}

void
es_source_stop(struct es_source *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mtx);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mtx);
	pthread_join(s->thread, NULL);
	es_change_batch_release(&s->rep.batch);
	es_config_release(&s->cfg);
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->cond);
	free(s);
}
