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
 * When not NULL, called once per es_fsio_write() (and per append try) after
 * the temporary file is complete and right before the compare-and-swap
 * check: a test edits the target there to play a concurrent editor.
 */
extern void	(*es__fsio_before_commit)(void *arg);
extern void	*es__fsio_before_commit_arg;

/*
 * When true, folders are opened one component at a time with O_NOFOLLOW,
 * without trying openat2(), as on kernels before 5.6.
 */
extern bool	es__fsio_no_openat2;

#endif
