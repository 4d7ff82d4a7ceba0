/*
 * YAML values of the frontmatter (SPEC §2 "Project and goal files"): the
 * tree a parsed value makes, the typing of its scalars, its conversion to
 * the BSON of an entity's `extra` sub-document, and the way back, rendering
 * strings and BSON values as YAML text that parses back to the same value.
 * Pure: no I/O, no locale (numbers always use '.').
 *
 * Typing follows the YAML 1.2 core schema, narrowed: only plain, untagged
 * scalars are typed; quoted and block scalars, and `!!str` ones, are strings.
 *
 *	null, Null, NULL, ~, (empty)		null
 *	true, True, TRUE, false, False, FALSE	bool
 *	[-+]?[0-9]+				int32 if it fits, else int64;
 *						out of int64 range: string
 *	[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?	double
 *	anything else (dates, .inf, 0x1F, yes)	string
 *
 * What MongoDB and FerretDB cannot store is refused when converting to BSON
 * (NOTES-deps §2 "Limits"): lists directly inside lists, keys containing '.'
 * or starting with '$', infinite numbers.
 */
#ifndef EXECSYNC_YAML_VALUE_H
#define EXECSYNC_YAML_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/buf.h"
#include "execsync/error.h"

/* Longest key accepted, in bytes: a rendered simple key must stay under
 * libyaml's 1024-character limit even when every byte needs an escape. */
#define ES_YAML_KEY_MAX	200
/* Deepest nesting of lists and mappings accepted (parse) and written
 * (render): no input can make the recursion exhaust the stack. */
#define ES_YAML_DEPTH_MAX	64

enum es_yaml_kind {
	ES_YAML_SCALAR = 1,
	ES_YAML_SEQUENCE,
	ES_YAML_MAPPING,
};

/*
 * A parsed value. Scalars carry their text (NUL-terminated, len bytes, no
 * NUL inside: the frontmatter parser refuses those); collections their
 * items, each of a mapping's items with the key it sits under. Everything
 * is owned by the node and freed by es_yaml_value_release().
 */
struct es_yaml_value {
	enum es_yaml_kind	 kind;
	unsigned		 line;	/* 1-based file line where it starts */
	bool			 plain;	/* scalar: plain style, untagged */
	char			*str;	/* scalar text */
	size_t			 len;
	char			*key;	/* item of a mapping: its key, else NULL */
	size_t			 key_len;
	unsigned		 key_line;
	struct es_yaml_value	*items;	/* sequence or mapping: nitems items */
	size_t			 nitems;
};

/* Frees what v owns (items recursively) and zeroes it; NULL is fine. */
void	es_yaml_value_release(struct es_yaml_value *v);

enum es_yaml_type {
	ES_YAML_NULL,
	ES_YAML_BOOL,
	ES_YAML_INT32,
	ES_YAML_INT64,
	ES_YAML_DOUBLE,
	ES_YAML_STRING,
};

struct es_yaml_scalar {
	enum es_yaml_type	 type;
	bool			 b;
	int64_t			 i;	/* INT32 and INT64 */
	double			 d;	/* may be infinite ("1e999") */
};

/*
 * The type of a scalar of len bytes at s (no NUL needed at s[len]); plain
 * is false for quoted, block and `!!str` scalars, which are always strings.
 * Fills *out when not NULL. Never fails.
 */
enum es_yaml_type es_yaml_value_type(const char *s, size_t len, bool plain,
	    struct es_yaml_scalar *out);

/*
 * Whether key may be a field name in MongoDB and FerretDB and in our files:
 * not empty, at most ES_YAML_KEY_MAX bytes, no '.', no leading '$', no NUL.
 * On false, *why (when not NULL) gets a static reason ("contains '.'").
 */
bool	es_yaml_value_key_ok(const char *key, size_t len, const char **why);

/*
 * Appends v to doc under key (klen bytes): scalars typed as above, sequences
 * as arrays, mappings as sub-documents, in file order. On bad input (a list
 * directly inside a list, a bad key, an infinite number) returns -1 with err
 * filled as "rel:line: reason" and doc holding a partial value: the caller
 * throws doc away. key itself is checked too (es_yaml_value_key_ok()).
 */
int	es_yaml_value_to_bson(const struct es_yaml_value *v, bson_t *doc,
	    const char *key, size_t klen, const char *rel, struct es_error *err);

/* Where a scalar goes: after "key: " or as a key (block), or inside [] {}. */
enum es_yaml_ctx {
	ES_YAML_BLOCK,
	ES_YAML_FLOW,
};

/*
 * Appends s (len bytes, UTF-8) to out as one YAML scalar on one line that
 * parses back, in ctx, to the same string: plain when that is safe (it
 * would not read as null, bool, a number or YAML 1.1's yes/no/on/off, and
 * holds no indicator where YAML would see one), else double-quoted with
 * escapes. Bytes that are not UTF-8 become \xNN escapes, which read back as
 * U+00NN: the value then differs (callers check UTF-8 first).
 */
void	es_yaml_value_render_string(const char *s, size_t len,
	    enum es_yaml_ctx ctx, struct es_buf *out);

/*
 * Whether es_yaml_value_render_string() writes s plain in ctx.
 */
bool	es_yaml_value_plain_ok(const char *s, size_t len, enum es_yaml_ctx ctx);

/*
 * Appends the value at it (a positioned iterator) to out as YAML text that
 * parses back to it: null, true/false, decimal integers, doubles in the
 * shortest form that reads back equal (always with '.' or 'e'), strings as
 * above, arrays and documents in flow style ([a, b], {k: v}), datetimes at
 * 00:00 UTC as YYYY-MM-DD, other datetimes as ISO-8601 strings. ctx is the
 * context of the value itself (FLOW inside a collection).
 *
 * Returns -1 with err filled (no path, no line) for what YAML cannot hold
 * here: "unsupported value type in <where>" for ObjectId, binary, decimal128,
 * regex and the like, "infinite or NaN number in <where>", "nesting too deep
 * in <where>"; where names the value, e.g. "extra.tags". out may then hold a
 * partial rendering.
 */
int	es_yaml_value_render_bson(const bson_iter_t *it, enum es_yaml_ctx ctx,
	    const char *where, struct es_buf *out, struct es_error *err);

/*
 * Whether two positioned iterators hold the same value: same BSON type and
 * same bytes (so int32 1 differs from int64 1 and from double 1.0, and
 * documents compare in key order).
 */
bool	es_yaml_value_bson_equal(const bson_iter_t *a, const bson_iter_t *b);

/*
 * Into the array or document at it, depth levels down already: its first
 * child in child, or -1 (err naming where) when that would pass
 * ES_YAML_DEPTH_MAX or the document is corrupt. Shared by the walks over
 * a BSON value (rendering it, checking that it can be rendered).
 */
int	es_yaml_value_recurse(const bson_iter_t *it, int depth,
	    const char *where, bson_iter_t *child, struct es_error *err);

#endif
