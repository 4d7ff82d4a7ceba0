/*
 * Deletes the daemon waits to confirm. An editor that saves by deleting
 * the file and creating it again, slower than the debounce, shows the
 * watcher a delete first: synced at once, it would soft-delete the
 * document and the file written a moment later would become a new one
 * ("alpha-2"). So a path the watcher reports and that is absent is held
 * for DELETE_GRACE_MS: passes leave what the baseline has there alone
 * (es_trigger.hold, world.h) until the path is back (an edit, synced as
 * one) or the grace is over (then a pass syncs the delete, SPEC 4.5).
 * Syncthing waits up to 60 s for deletes; a save's gap is milliseconds.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "daemon-internal.h"

#define DELETE_GRACE_MS	2000

static ssize_t
find(const struct daemon *d, const char *rel)
{
	for (size_t i = 0; i < d->nheld; i++)
		if (strcmp(d->held[i].rel, rel) == 0)
			return (ssize_t)i;
	return -1;
}

static void
drop(struct daemon *d, size_t i)
{
	free(d->held[i].rel);
	d->held[i] = d->held[--d->nheld];
}

static void	on_hold_timer(uv_timer_t *t);

/* The timer for the first hold to end. */
static void
arm(struct daemon *d)
{
	int64_t first = 0, now = es__d_now_ms();

	for (size_t i = 0; i < d->nheld; i++)
		if (first == 0 || d->held[i].since_ms < first)
			first = d->held[i].since_ms;
	if (first == 0) {
		uv_timer_stop(&d->hold_timer);
		return;
	}
	first += DELETE_GRACE_MS;
	uv_timer_start(&d->hold_timer, on_hold_timer,
	    first > now ? (uint64_t)(first - now) : 0, 0);
}

/* Holds over: their paths go to the next pass, which syncs the delete. */
static void
on_hold_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int64_t now = es__d_now_ms();

	for (size_t i = 0; i < d->nheld;) {
		if (now - d->held[i].since_ms < DELETE_GRACE_MS) {
			i++;
			continue;
		}
		es__d_add_path(d, d->held[i].rel);
		drop(d, i);
	}
	if (d->paths_since_ms == 0)
		d->paths_since_ms = now;
	arm(d);
	es__d_kick(d);
}

void
es__d_hold_seen(struct daemon *d, const char *rel, int64_t now)
{
	struct stat st;
	ssize_t i = find(d, rel);
	bool gone;

	if (!d->ready)
		return;
	gone = fstatat(d->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT;
	if (!gone) {
		if (i >= 0)
			drop(d, (size_t)i);	/* back: an edit, not a delete */
		arm(d);
		return;
	}
	if (i >= 0)
		return;			/* held already: its grace runs on */
	if (d->nheld == d->cheld) {
		d->cheld = d->cheld ? d->cheld * 2 : 16;
		d->held = es_xreallocarray(d->held, d->cheld,
		    sizeof(*d->held));
	}
	d->held[d->nheld].rel = es_xstrdup(rel);
	d->held[d->nheld++].since_ms = now;
	arm(d);
}

void
es__d_hold_attach(const struct daemon *d, struct es_job *j)
{
	if (d->nheld == 0)
		return;
	j->hold = es_xcalloc(d->nheld, sizeof(*j->hold));
	for (size_t i = 0; i < d->nheld; i++)
		j->hold[j->nhold++] = es_xstrdup(d->held[i].rel);
}

void
es__d_hold_release(struct daemon *d)
{
	while (d->nheld > 0)
		drop(d, d->nheld - 1);
	free(d->held);
	d->held = NULL;
	d->cheld = 0;
}
