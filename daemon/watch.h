/*
 * The file watcher of execsyncd (issue 16 item 1, SPEC 4.14): inotify
 * through libinotifytools, driven by the daemon's libuv loop, never
 * blocking it (the inotify descriptor is polled with a uv_poll_t and
 * drained with inotifytools_next_events(0, ...) on the loop thread).
 *
 * What is watched: the root itself (not recursively: only to see one of
 * the three synced top folders appear, vanish or be renamed) and,
 * recursively, 00k-next-actions/, 10k-projects/ and 30k-goals/ with every
 * folder created beneath them later (watch first, then list the new folder,
 * so a file created right after its mkdir is not missed). Never .execsync/,
 * .git/ or anything else in the root: the daemon's own baseline writes
 * must not wake it.
 *
 * What is reported: after debounce_ms of quiet on a path (each event on a
 * path pushes its deadline back; a burst of many paths is one batch: the
 * batch waits for debounce_ms of quiet on every path, or, while events
 * never stop, goes out 10 x debounce_ms after its first event with the
 * paths quiet by then), the batch of relative paths ('/'-separated,
 * sorted, unique) that were written and closed, created, deleted, or
 * moved in or out, for which es_layout_classify() says "synced" (1) or
 * which are folders. An
 * editor's save patterns (write in place; temp file renamed over; vim's
 * backup rename, write, delete; delete then create) end as the one path
 * of the file in one batch: a temp file's own name is not synced, so it
 * is not reported. A move inside the watched tree reports both names
 * (halves paired by cookie; a half with no partner within the debounce is
 * reported alone). Folders are those es_layout_descend() enters (created,
 * deleted, moved); a new or moved-in folder's synced files and folders are
 * reported with it. Ignore globs (config `ignore`) drop paths and folders
 * as the scan does (es_layout_classify(), es_layout_descend()).
 *
 * Flags of a batch: ES_WATCH_RESCAN when events were lost (IN_Q_OVERFLOW,
 * a watch that could not be added: the watch limit, ENOSPC), a folder
 * moved (its files move unseen) or a file system under the root was
 * unmounted; the daemon then runs a full pass (SPEC
 * 4.14). ES_WATCH_ROOT when a top folder or the root itself changed (the
 * root may be gone or unmounted: the daemon checks it). A batch may have
 * flags and no paths.
 */
#ifndef EXECSYNCD_WATCH_H
#define EXECSYNCD_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "execsync/error.h"

#define ES_WATCH_RESCAN	0x1u	/* events lost: a full pass */
#define ES_WATCH_ROOT	0x2u	/* the root or a top folder changed */

struct es_watch;

/*
 * A batch: rels[0..n) borrowed for the call only. The callback runs on
 * the loop thread and must not free w.
 */
typedef void (*es_watch_cb)(struct es_watch *w, const char *const *rels,
    size_t n, unsigned flags, void *ud);

struct es_watch_opts {
	const char		*root;		/* absolute path */
	unsigned		 debounce_ms;	/* 0: 100 */
	const char *const	*ignore;	/* NULL-terminated globs or NULL */
	es_watch_cb		 cb;
	void			*ud;
};

/*
 * Starts watching on loop. A root that does not exist or holds none of
 * the top folders is no error: the root is watched when it exists, and a
 * top folder when it appears (a root that appears later needs
 * es_watch_rewatch()). The watch limit at start is no error either: the
 * first batch carries ES_WATCH_RESCAN. Errors (inotify unavailable:
 * ES_EIO) return NULL with err filled. Only one watcher per process
 * (libinotifytools has global state): a second one is ES_EBUSY. Start it
 * early: the library select()s on its descriptor, which must be below
 * FD_SETSIZE (else ES_EIO).
 */
struct es_watch	*es_watch_new(uv_loop_t *loop, const struct es_watch_opts *o,
		    struct es_error *err);

/*
 * Watches everything again from scratch (after ES_WATCH_ROOT or
 * ES_WATCH_RESCAN, once the daemon has checked the root: after an
 * overflow, folders created meanwhile are not watched until then): 0, or
 * -1 with err (the watch limit: ES_ELIMIT, and the next batch carries
 * ES_WATCH_RESCAN). Files already there are not reported. Pending paths
 * are kept. May be called from the batch callback.
 */
int		 es_watch_rewatch(struct es_watch *w, struct es_error *err);

/* Folders watched now (for /status and /metrics). */
size_t		 es_watch_count(const struct es_watch *w);

/* Events seen and overflows since start (for /metrics). */
unsigned long	 es_watch_events(const struct es_watch *w);
unsigned long	 es_watch_overflows(const struct es_watch *w);

/*
 * Stops watching; the handles are closed on the loop (run the loop once
 * more for their close callbacks to free them). w may be NULL.
 */
void		 es_watch_free(struct es_watch *w);

/* /proc/sys/fs/inotify/max_queued_events, or -1 unreadable. */
long		 es_watch_max_queued_events(void);

#endif
