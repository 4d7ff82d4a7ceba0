/*
 * A program running in the background of a test (the daemon's end-to-end
 * tests): started with stdin from /dev/null and stdout and stderr appended
 * to a log file, watched, stopped with a signal, waited for with a
 * deadline (es_itest_mono_ms() measures). Part of es-itest-support.
 * Every helper fails the running cmocka test on an unexpected
 * error; none sleeps for a guess (a wait polls the condition).
 *
 *	struct es_proc p;
 *	es_proc_start(&p, argv, "/tmp/x/daemon.log");
 *	...
 *	rc = es_proc_stop(&p, SIGTERM, 10000);	(SIGKILL after 10 s)
 *
 * A teardown calls es_proc_kill() whatever happened, so that a failing
 * case leaves no process behind.
 */
#ifndef ES_PROC_H
#define ES_PROC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

struct es_proc {
	pid_t	 pid;		/* 0: not started, or reaped */
	int	 status;	/* once reaped: exit status, or 128 + signal */
	char	*log;		/* malloc'd path; NULL before start */
};

/*
 * Starts argv (argv[0] looked up in PATH); output appended to log. p is
 * zeroed, or one whose process has been reaped (started again).
 */
void	es_proc_start(struct es_proc *p, char *const argv[], const char *log);
/* Whether it still runs (reaps it when it has exited). */
bool	es_proc_running(struct es_proc *p);
/*
 * Waits at most timeout_ms for it to exit: its status (exit status, or
 * 128 + signal), or -1 when it still runs. A reaped process: its status.
 */
int	es_proc_wait(struct es_proc *p, int64_t timeout_ms);
/*
 * Sends sig and waits at most timeout_ms; still running then: SIGKILL
 * and wait. Returns the status, or -1 when it needed the SIGKILL.
 */
int	es_proc_stop(struct es_proc *p, int sig, int64_t timeout_ms);
/* SIGKILL and reap when it runs; frees log. Safe on any es_proc. */
void	es_proc_kill(struct es_proc *p);
/* Sends sig (fails the test when it does not run). */
void	es_proc_signal(struct es_proc *p, int sig);
/* The log file's bytes (malloc'd, NUL added; "" when missing). */
char	*es_proc_output(const struct es_proc *p);
/* Whether the log holds needle. */
bool	es_proc_logged(const struct es_proc *p, const char *needle);
/*
 * Waits at most timeout_ms for needle in the log; fails the test with the
 * log when it does not come (or the process exits first).
 */
void	es_proc_wait_log(struct es_proc *p, const char *needle,
	    int64_t timeout_ms);
/* Prints the last nlines lines of the log (cmocka print_message). */
void	es_proc_print_tail(const struct es_proc *p, const char *name,
	    int nlines);

/* The bytes of the file at path (malloc'd, NUL added), NULL when absent. */
char	*es_read_file(const char *path, size_t *len);
/* Sleeps ms: only between two checks of a condition, never for a guess. */
void	es_poll_pause(int ms);

#endif
