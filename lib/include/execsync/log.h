/*
 * The log: one line per event, written whole under a mutex, so lines from
 * several threads (libmongoc logs from its monitor threads) never mix.
 *
 *	2025-11-09T12:34:56.789Z warn scan a/x.md:7: bad date '2025-13-01'
 *
 * Plain form: "<ISO 8601 UTC time> <level> <subsystem> <message>". Under
 * journald the line starts with the sd-daemon priority ("<3>" error, "<4>"
 * warn, "<6>" info, "<7>" debug) and drops the time, which the journal adds.
 * JSON form (es_log_set_json): one object per line,
 * {"ts":"...","level":"warn","sub":"scan","msg":"..."}, the prefix too when
 * under journald.
 *
 * Every message is made safe before it is written (STYLE "Logging"):
 *   1. MongoDB URIs in it are redacted, and so are the secrets of the URI
 *      given to es_log_set_secret_uri() wherever they appear (SPEC §4.11);
 *   2. it is escaped by es_log_escape(), so data (file names, action text)
 *      can never forge a line; the JSON "msg" holds the same escaped text;
 *   3. it is cut at ES_LOG_MSG_MAX bytes, marked " [truncated]".
 *
 * Settings (level, stream, JSON, journald, hook) are process-wide; set them
 * at start-up. es_log() and es_log_error() may be called from any thread.
 */
#ifndef EXECSYNC_LOG_H
#define EXECSYNC_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "execsync/buf.h"
#include "execsync/error.h"

enum es_log_level {
	ES_LOG_ERROR,
	ES_LOG_WARN,
	ES_LOG_INFO,
	ES_LOG_DEBUG,
};

#define ES_LOG_MSG_MAX	8192

/* Events above l are not written. Default ES_LOG_INFO. */
void	es_log_set_level(enum es_log_level l);
enum es_log_level es_log_get_level(void);
/* "error", "warn", "info", "debug". */
const char *es_log_level_name(enum es_log_level l);
/* Parses a level name (as above, also "warning"); false if unknown. */
bool	es_log_level_parse(const char *s, enum es_log_level *out);

void	es_log_set_json(bool on);
/*
 * Forces the journald prefix on or off. Unless called, it is detected per
 * stream: on when JOURNAL_STREAM ("<dev>:<inode>", set by systemd) names
 * the stream's file.
 */
void	es_log_set_journald(bool on);
/* Back to detecting it (the default). */
void	es_log_set_journald_auto(void);
/*
 * Whether lines carry the journald prefix now: a program's own messages
 * to stderr (a fatal error before logging is set up) start with "<3>"
 * then, as es_log()'s do.
 */
bool	es_log_to_journal(void);
/* Where lines go; NULL restores stderr. The stream is borrowed. */
void	es_log_set_stream(FILE *f);

/*
 * fn receives each event written, plus every error and warn event even when
 * the level filters it out (the daemon's /status ring must not depend on
 * verbosity), with the subsystem and the redacted, escaped message. It runs
 * on the logging thread under the log mutex: keep it short; a call to
 * es_log() from inside it is dropped. NULL removes the hook. ud is
 * borrowed.
 */
void	es_log_set_hook(void (*fn)(enum es_log_level, const char *sub,
	    const char *msg, void *ud), void *ud);

/*
 * Remember uri (copied) so that its password and secret options are masked
 * in every later message, wherever they appear (a libmongoc error echoing
 * the password, say). NULL forgets it.
 */
void	es_log_set_secret_uri(const char *uri);

/* Logs one event. sub is the subsystem ("scan", "store"); NULL gives "-". */
void	es_log(enum es_log_level l, const char *sub, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Logs err as "path:line: msg" (es_error_format()). */
void	es_log_error(const struct es_error *err, enum es_log_level l,
	    const char *sub);

/*
 * Appends data[0..len) to out escaped after stravis(3): '\n' -> "\n",
 * '\r' -> "\r", '\t' -> "\t", '\\' -> "\\", other C0 controls, DEL, C1
 * controls (U+0080..U+009F) and every byte that is not part of valid UTF-8
 * (overlong forms, surrogates, past U+10FFFF, truncated) -> "\xNN" in lower
 * case hex. Other valid UTF-8 passes unchanged. The result is valid UTF-8
 * without control characters.
 */
void	es_log_escape(struct es_buf *out, const void *data, size_t len);

/*
 * Routes libmongoc's log into es_log (subsystem "mongoc", message
 * "<domain>: <message>"): error and critical -> error, warning -> warn,
 * message and info -> info, debug and trace -> debug (so dropped unless
 * the level is debug). Call before mongoc_init().
 */
void	es_log_mongoc_handler_install(void);

#endif
