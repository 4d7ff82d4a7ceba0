/*
 * Errors are values, filled where the failure happens by the level that knows
 * the object, and formatted compiler-style: "path:line: message". A parser
 * returns a status and fills a struct es_error; it never prints.
 *
 * Wording: lower case, no final full stop, the bad value quoted
 * ("bad date '2025-13-01'"). Paths are relative to the sync root. Messages
 * never contain credentials: anything carrying a MongoDB URI goes through
 * es_uri_redact() first.
 */
#ifndef EXECSYNC_ERROR_H
#define EXECSYNC_ERROR_H

#include <limits.h>
#include <stdbool.h>

enum es_errcode {
	ES_OK = 0,
	ES_EPARSE,	/* malformed input: YAML, dates, enum values, lines */
	ES_EIO,		/* a system call failed; sys holds errno */
	ES_EDB,		/* the database refused or could not be reached */
	ES_ELIMIT,	/* over a limit: file size, path length, counts */
	ES_EUNSAFE,	/* a value that would leave the root, a symlink, ... */
	ES_ECONFIG,	/* configuration file, flags or environment */
	ES_EUSAGE,	/* command line */
	ES_ECONFLICT,	/* a write lost a compare-and-swap race */
	ES_EBUSY,	/* the root is held by another process: try later */
};

/*
 * The kind of one problem item (a skipped file, line or document), shown
 * as a stable kebab-case word, the "code" of a problem in every program's
 * --json output and in the man pages. One table in error.c gives each its
 * word, its meaning and the es_errcode it carries; add new ones at the end.
 */
enum es_problem {
	ES_PROB_NONE = 0,	/* not set: derived from the es_errcode */
	ES_PROB_BAD_YAML,
	ES_PROB_BAD_DATE,
	ES_PROB_UNKNOWN_VALUE,
	ES_PROB_BAD_UTF8,
	ES_PROB_NUL_BYTE,
	ES_PROB_TOO_LARGE,
	ES_PROB_CONFLICT_MARKERS,
	ES_PROB_BAD_DOCUMENT,
	ES_PROB_UNSAFE_PATH,
	ES_PROB_SYMLINK,
	ES_PROB_MISSING_FIELD,
	ES_PROB_BAD_ACTION,
	ES_PROB_BAD_FRONTMATTER,
	ES_PROB_BAD_VALUE,
	ES_PROB_NOT_WRITTEN,
	ES_PROB_SLUG_TAKEN,
	ES_PROB_IO,
	ES_PROB_DATABASE,
	ES_PROB_CONFLICT,
	ES_PROB_OTHER,
	ES_PROB_COUNT
};

struct es_error {
	enum es_errcode	 code;
	enum es_problem	 problem;	/* ES_PROB_NONE: from code */
	int		 sys;		/* errno of the call that failed, else 0 */
	unsigned	 line;		/* 1-based; 0 when no line applies */
	char		 path[PATH_MAX];	/* relative to the root; "" if none */
	char		 msg[512];
};

/* A cleared error: code ES_OK, empty path and message. */
void	es_error_clear(struct es_error *err);

/*
 * Fill err (when not NULL) and return -1, so failing is one line:
 *	return es_error_set(err, ES_EPARSE, rel, 7, "bad date '%s'", s);
 * path may be NULL. Over-long messages are truncated, never overflow.
 */
int	es_error_set(struct es_error *err, enum es_errcode code,
	    const char *path, unsigned line, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/*
 * As es_error_set(), for a failed system call: sys is the errno value the
 * caller copied right after the call; ": strerror(sys)" is appended.
 */
int	es_error_set_sys(struct es_error *err, int sys, const char *path,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * "path:line: msg", "path: msg" or "msg", into out (always NUL-terminated,
 * truncated to size). Returns out.
 */
const char *es_error_format(const struct es_error *err, char *out,
	    unsigned long size);

/*
 * len bytes of s as a message shows a value from a file: control bytes as
 * '?', cut with "..." to fit out (outsz bytes, always NUL-terminated).
 */
void	es_error_shown(const char *s, unsigned long len, char *out,
	    unsigned long outsz);

/* A short stable name for a code ("parse", "io", ...), for logs and JSON. */
const char *es_errcode_name(enum es_errcode code);

/*
 * As es_error_set(), for one problem item: the es_errcode is the one the
 * problem's table row carries, and the problem is kept for its word.
 */
int	es_problem_set(struct es_error *err, enum es_problem prob,
	    const char *path, unsigned line, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* err's problem, the one set or else the one its es_errcode implies. */
enum es_problem es_problem_of(const struct es_error *err);
/* The problem's kebab-case word ("bad-date"); "other" when out of range. */
const char *es_problem_name(enum es_problem prob);
/* Its meaning in one line, for the man pages and --help. */
const char *es_problem_meaning(enum es_problem prob);

/*
 * Exit statuses, the same in every program (SPEC §1). A service manager
 * retries ES_EXIT_TEMP only.
 */
enum es_exit {
	ES_EXIT_OK = 0,		/* done */
	ES_EXIT_ITEMS = 1,	/* done; items skipped or conflicted */
	ES_EXIT_CONFIG = 2,	/* usage, configuration (a refused password
				   included), wrong folder or identity */
	ES_EXIT_GUARD = 3,	/* stopped by the deletion guard */
	ES_EXIT_TEMP = 75,	/* EX_TEMPFAIL: the database unreachable, a
				   git operation, the root held: retry */
};

/*
 * The exit status of a run stopped by an error of this code: ES_EXIT_TEMP
 * for ES_EDB (unreachable), ES_EBUSY and ES_ECONFLICT, else
 * ES_EXIT_CONFIG. Pure, table-tested (tests/unit/test-exit.c).
 */
int	es_exit_status(enum es_errcode code);

#endif
