/*
 * One execsync process per root (issue 19 item 9, SPEC §1 exit status 75):
 * an exclusive flock(2) on <root>/.execsync/lock, taken before the baseline
 * is opened and held until the process ends or releases it. The file holds
 * the holder's PID, so the one refused can name it. The kernel drops the
 * lock when its holder dies (kill -9 included), so a crash never leaves a
 * stale lock behind; the file itself stays (removing it would let two
 * processes lock two different files).
 */
#ifndef EXECSYNC_LOCK_H
#define EXECSYNC_LOCK_H

#include <sys/types.h>

#include "execsync/error.h"

#define ES_LOCK_FILE	".execsync/lock"

struct es_lock;

enum es_lock_status {
	ES_LOCK_TAKEN,		/* *out is ours */
	ES_LOCK_HELD,		/* another process has it: *holder */
	ES_LOCK_ERROR = -1,	/* err says why */
};

/*
 * Take the root's lock without waiting. root_fd: an O_DIRECTORY
 * descriptor of the root (borrowed). Creates .execsync/ (0700; a symbolic
 * link there is refused, ES_EUNSAFE) and the lock file (0600). On
 * ES_LOCK_HELD, *holder is the PID written by the holder, or 0 when it
 * has not written it yet.
 */
enum es_lock_status es_lock_take(int root_fd, struct es_lock **out,
	    pid_t *holder, struct es_error *err);
/* Releases the lock; l may be NULL. */
void	es_lock_release(struct es_lock *l);

#endif
