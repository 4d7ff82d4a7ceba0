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

struct es_error {
	enum es_errcode	 code;
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

#endif
