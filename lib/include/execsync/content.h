/*
 * The checks every synced file passes once, when it is read (SPEC 4.10, and
 * STYLE "validate UTF-8, NUL bytes and the 8 MiB limit once, in scan"), so
 * the parsers after it may assume clean text. Pure: no I/O.
 */
#ifndef EXECSYNC_CONTENT_H
#define EXECSYNC_CONTENT_H

#include <stdbool.h>
#include <stddef.h>

#include "execsync/error.h"

/* The default max_file_size of SPEC §1. */
#define ES_CONTENT_MAX_DEFAULT	((size_t)8 << 20)

/*
 * Returns 0 when the len bytes at data are acceptable as a synced text
 * file, else -1 with err filled (path = rel, which may be NULL; line = the
 * 1-based line of the fault where one applies), checked in this order:
 *  - ES_ELIMIT, line 0: len > max_size
 *	("file is 9437184 bytes, over the 8388608-byte limit");
 *  - ES_EPARSE: the first NUL byte ("NUL byte") or invalid UTF-8
 *	("invalid UTF-8": overlong forms, surrogates, code points above
 *	U+10FFFF, stray or missing continuation bytes), whichever comes first;
 *  - ES_EPARSE: an unresolved git conflict ("unresolved git conflict marker
 *	'<<<<<<<'", at the line of the marker): a line that is "<<<<<<<" or
 *	starts with "<<<<<<< ", followed later by a line that is exactly
 *	"=======" and later still by a line that is ">>>>>>>" or starts with
 *	">>>>>>> ". A lone "=======" is a Markdown setext heading underline,
 *	not a conflict. Lines end with LF or CRLF.
 * data may be NULL when len is 0. Never reads past data + len.
 */
int	es_content_check(const char *data, size_t len, size_t max_size,
	    const char *rel, struct es_error *err);

/*
 * True when the len bytes at data are valid UTF-8 (no NUL check). *bad gets
 * the offset of the first invalid byte when false and bad is not NULL.
 */
bool	es_content_utf8_valid(const char *data, size_t len, size_t *bad);

#endif
