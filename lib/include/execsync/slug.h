/*
 * Slugs and the other path components built from database values (SPEC §2
 * "Slugs", SPEC 4.11 "no path built from database values may leave the
 * root"). Pure: no I/O.
 *
 * es_slugify() is the API's slugify (Python, like Django's
 * slugify(allow_unicode=True)), so a slug made here equals the one the API
 * makes from the same title:
 *	NFKC, lower-case, drop every character that is not a word character
 *	(Unicode letters L*, numbers N*, '_'), whitespace or '-', turn runs of
 *	whitespace and '-' into one '-', strip '-' and '_' from both ends.
 * "Learn Rust" -> "learn-rust", "C++ & Go!" -> "c-go",
 * "Café Münster" -> "café-münster".
 *
 * The predicates below decide whether a value from the database may become
 * one path component; every path the tool builds from the database goes
 * through them first (es_layout_entity_path(), es_layout_action_path()).
 */
#ifndef EXECSYNC_SLUG_H
#define EXECSYNC_SLUG_H

#include <stdbool.h>
#include <stddef.h>

#include "execsync/error.h"

/* Longest slug, area folder or context accepted as a path component. */
#define ES_SLUG_MAX	200

/*
 * The slug of len bytes at s (need not be NUL-terminated). Invalid UTF-8
 * bytes are dropped like punctuation, never an error. Returns a malloc'd
 * string (the caller frees it), possibly "" (e.g. for "!!!" or an emoji
 * only title). Never NULL.
 */
char	*es_slugify(const char *s, size_t len);

/*
 * The area folder name (SPEC §2 "the area folder is its kebab-case form":
 * "Personal Growth Systems" -> "personal-growth-systems"): the area's slug.
 * Returns a malloc'd string, or NULL with err ES_EUNSAFE naming the value
 * ("unsafe area '/etc'") when area is NULL or empty, contains '/', '\\' or a
 * control character, starts with '.' (SPEC 4.11: an absolute area from the
 * database is rejected and reported, not silently slugified), or is empty
 * or not es_slug_is_safe() after slugifying.
 */
char	*es_area_dirname(const char *area, struct es_error *err);

/*
 * True when s may be used as one path component built from a database
 * value: non-empty, at most ES_SLUG_MAX bytes, valid UTF-8, no '/', '\\' or
 * control characters (C0, DEL, C1), not "." or "..", not starting with '.'.
 * NULL is not safe.
 */
bool	es_slug_is_safe(const char *s);

/*
 * Context names ("@macbook"): '@' and at least one more character, at most
 * ES_SLUG_MAX bytes, valid UTF-8, no whitespace (ASCII or Unicode), no '/',
 * '\\' or control characters, not "@." or "@..". NULL is not valid.
 */
bool	es_context_is_valid(const char *ctx);

/*
 * The first of base, base-2, base-3, ... for which taken(candidate, ud)
 * returns false (SPEC §2: "a clash within one user and collection gets -2,
 * -3, ..."). taken sees a borrowed string, valid during the call only.
 * Returns a malloc'd string.
 */
char	*es_slug_unique(const char *base,
	    bool (*taken)(const char *slug, void *ud), void *ud);

#endif
