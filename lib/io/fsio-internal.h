/*
 * Test seams of fsio (STYLE "Anomaly tests", after SQLite's I/O failure
 * injection). Never set outside tests: with everything at its zero value,
 * fsio behaves as in production. Not thread-safe to change while fsio calls
 * run; set them before the call under test.
 */
#ifndef EXECSYNC_FSIO_INTERNAL_H
#define EXECSYNC_FSIO_INTERNAL_H

#include <stdbool.h>

/* The system calls a failure can be injected into. */
enum es_fsio_op {
	ES_FSIO_OP_WRITE,	/* each write(2) of file bytes */
	ES_FSIO_OP_FSYNC,	/* fsync(2) of a written file */
	ES_FSIO_OP_RENAME,	/* renameat(2)/renameat2(2) into place */
	ES_FSIO_OP_DIRFSYNC,	/* fsync(2) of a folder */
	ES_FSIO_OP_COUNT
};

/*
 * From now on, the n-th call (1-based) of op fails with EIO instead of
 * running; later calls run again. n = 0 disables the injection for op.
 * Each op counts separately.
 */
void	es__fsio_fail_after(enum es_fsio_op op, int n);

/*
 * The moments of an es_fsio_write() (and of each append try) at which
 * es__fsio_hook runs, so that a test can play a concurrent editor there.
 * The last two happen only with a compare-and-swap expect (a file that
 * must still be what the caller read) and a file system that swaps.
 */
enum es_fsio_point {
	ES_FSIO_AT_COMMIT,	/* temporary file complete, before the
				 * last look at rel */
	ES_FSIO_AT_RENAME,	/* after that look, right before the
				 * rename (or the swap) into place */
	ES_FSIO_AT_SWAPPED,	/* right after the swap, before the first
				 * look at the file swapped out */
	ES_FSIO_AT_SYNCED,	/* after the folder fsync, before the
				 * second look */
};

/* When not NULL, called at every point above with es__fsio_hook_arg. */
extern void	(*es__fsio_hook)(enum es_fsio_point at, void *arg);
extern void	*es__fsio_hook_arg;

/*
 * When true, folders are opened one component at a time with O_NOFOLLOW,
 * without trying openat2(), as on kernels before 5.6.
 */
extern bool	es__fsio_no_openat2;

/*
 * When true, renameat2(RENAME_EXCHANGE) is not tried, as on a file system
 * without it (NFS, most FUSE ones): the check-then-rename fallback.
 */
extern bool	es__fsio_no_exchange;

#endif
