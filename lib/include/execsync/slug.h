/*
 * Slugs and the other path components built from database values (SPEC §2
 * "Slugs", SPEC 4.11 "no path built from database values may leave the
 * root"). Pure: no I/O.
 *
 * es_slugify() is the API's slugify, character for character as Python 3.11
 * (Unicode 14.0.0) runs it (SPEC §2):
 *	slug = text.lower().strip()
 *	slug = re.sub(r'[^\w\s-]', '', slug)
 *	slug = re.sub(r'[\s_-]+', '-', slug)
 *	slug = re.sub(r'^-+|-+$', '', slug)
 * No normalisation: full lower-casing ('İ' -> "i̇", Greek final sigma as
 * Python places it), then every character that is not a word character
 * (Python's str.isalnum(): letters L*, numbers N*), whitespace (Python's
 * str.isspace(): tab, newline, U+001C..U+001F, U+0085, NBSP, U+2000..U+200A,
 * U+3000, ...), '_' or '-' is dropped, runs of whitespace, '_' and '-'
 * become one '-', and '-' is stripped from both ends.
 * "Learn Rust" -> "learn-rust", "C++ & Go!" -> "c-go", "foo_bar" ->
 * "foo-bar", "Café Münster" -> "café-münster", "Cafe" U+0301 -> "cafe"
 * (a combining mark is not a word character), "ﬁle ²" -> "ﬁle-²",
 * "ΟΔΟΣ" -> "οδος".
 * tests/unit/slug-table holds the differential table that proves it
 * (python3 regenerates it; every code point and 6,000 titles).
 *
 * The predicates below decide whether a value from the database may become
 * one path component; every path the tool builds from the database goes
 * through them first (es_layout_entity_path(), es_layout_action_path()).
 * es_slugify() itself never refuses anything.
 */
#ifndef EXECSYNC_SLUG_H
#define EXECSYNC_SLUG_H

#include <stdbool.h>
#include <stddef.h>

#include "execsync/error.h"

/* Longest file or folder name (one path component): Linux's NAME_MAX. */
#define ES_NAME_MAX	255

/*
 * Longest slug or context accepted as a file name: "<slug>.md" is at most
 * ES_NAME_MAX bytes.
 */
#define ES_SLUG_MAX	(ES_NAME_MAX - 3)

/*
 * The slug of len bytes at s (need not be NUL-terminated). Bytes that are
 * not valid UTF-8 (which the API's strings cannot hold) are taken as
 * U+FFFD, as Python's s.decode("utf-8", "replace") would: dropped like
 * punctuation, never an error. Returns a malloc'd string (the caller frees
 * it), possibly "" (e.g. for "!!!" or an emoji only title). Never NULL.
 */
char	*es_slugify(const char *s, size_t len);

/*
 * The area folder name (SPEC §2 "the area folder is its kebab-case form":
 * "Personal Growth Systems" -> "personal-growth-systems"): the area's slug,
 * es_slugify(area). Whitespace and control characters in the area are no
 * error: the slug turns them into '-' or drops them ("Health\tFitness" ->
 * "health-fitness"). Nor is a leading '.': a slug never starts with '.'
 * (".NET Projects" -> "net-projects"), and "." or ".." have an empty slug.
 * Returns a malloc'd string, or NULL with err ES_EUNSAFE naming the value
 * ("unsafe area '/etc'") when area is NULL or looks like a path ('/' or
 * '\\' anywhere: SPEC 4.11, an absolute area from the database is rejected
 * and reported, not silently slugified), is not valid UTF-8, or its slug is
 * empty ("", "!!!", "..") or over ES_NAME_MAX bytes.
 */
char	*es_area_dirname(const char *area, struct es_error *err);

/*
 * True when s may be the name, without ".md", of a file built from a
 * database value (a slug; layout.c and plan.c check every slug with it
 * before building a path): non-empty, at most ES_SLUG_MAX bytes (so the
 * file name is at most ES_NAME_MAX), valid UTF-8, no '/', '\\' or control
 * characters (C0, DEL, C1), not "." or "..", not starting with '.'. NULL is
 * not safe.
 */
bool	es_slug_is_safe(const char *s);

/*
 * Context names ("@macbook"): '@' and at least one more character, at most
 * ES_SLUG_MAX bytes (its list file is "<context>.md"), valid UTF-8, no
 * whitespace (ASCII or Unicode), no '/', '\\' or control characters, not
 * "@." or "@..". NULL is not valid.
 */
bool	es_context_is_valid(const char *ctx);

/*
 * s in Unicode Normalization Form C, malloc'd; NULL when s is already in
 * it (or is not valid UTF-8). File names can reach a clone decomposed
 * (NFD) while the API's slugs are what its titles were, nearly always
 * composed: identity pairing compares the two forms (SPEC 4.17).
 */
char	*es_slug_nfc(const char *s);

/*
 * The first of base, base-2, base-3, ... for which taken(candidate, ud)
 * returns false (SPEC §2: "a clash within one user and collection gets -2,
 * -3, ..."). taken sees a borrowed string, valid during the call only.
 * Returns a malloc'd string.
 */
char	*es_slug_unique(const char *base,
	    bool (*taken)(const char *slug, void *ud), void *ud);

#endif
