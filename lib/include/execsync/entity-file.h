/*
 * Projects and goals as files (SPEC §2 "Project and goal files"): YAML
 * frontmatter, then the Markdown body kept byte for byte. Pure: bytes in,
 * entities out and back.
 *
 * Known keys, in canonical order (the order of a file the tool creates):
 *	projects: area, title, type, created, started, last_reviewed, due,
 *		  completed, descoped
 *	goals:	  area, title, created, last_reviewed
 * then every other key, in file order, kept in e->extra (for goals that
 * includes `type: goal` and any `due`). Values:
 *	title, area	any scalar, as its text ("2025" is the string "2025")
 *	type		standard, coordination, habit or goal
 *	dates		strict YYYY-MM-DD, plain or quoted
 * null, an empty value or "" means the key is absent (a present but empty
 * title is "missing 'title'"). A project without an area key takes the
 * area folder's name. The body (e->content) is every byte after the
 * closing line, CRLF and all: never normalised.
 */
#ifndef EXECSYNC_ENTITY_FILE_H
#define EXECSYNC_ENTITY_FILE_H

#include <stddef.h>

#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"

/*
 * Parse a project (kind ES_KIND_PROJECT) or goal (ES_KIND_GOAL) file.
 * rel: path relative to the root, used in errors. folder and slug come from
 * the path (the caller classified it); area_dir is the area folder name for
 * projects (NULL for goals). Returns 0 and fills *out (caller-initialised
 * with es_entity_init; its meta is kept), 1 for a goal candidate that is not
 * a goal (no frontmatter, an unclosed one, or a frontmatter `type` other
 * than `goal`: supporting material, skip quietly), or -1 with err filled
 * (path:line: reason). On 1 and -1, *out is unchanged.
 *
 * Errors: everything es_frontmatter_parse() refuses, "bad date 'xyz' for
 * 'due'", "unknown type 'foo' (want standard, coordination, habit or
 * goal)", "'title' must be a single value, not a list or mapping",
 * "missing 'title'" (no line when the key is absent), and for extra keys
 * what es_yaml_value_to_bson() refuses (nested lists, keys with '.' or a
 * leading '$', infinite numbers).
 */
int	es_entity_file_parse(const char *data, size_t len, const char *rel,
	    enum es_kind kind, enum es_folder folder, const char *slug,
	    const char *area_dir, struct es_entity *out,
	    struct es_error *err);

/*
 * Appends to out the canonical bytes of a new file for e (LF, no BOM):
 * "---\n", one "key: value\n" line per present key in canonical order,
 * "---\n", the content. Absent values (NULL strings, ES_DATE_NONE,
 * ES_PTYPE_NONE) are omitted. Whatever e holds this writes something:
 * an extra key spelt like a known key is left out, and an extra value YAML
 * cannot hold (ObjectId, binary, NaN, ...) is written as the string of its
 * extended JSON. es_entity_file_check() tells beforehand whether the file
 * will parse back to e.
 */
void	es_entity_file_render(const struct es_entity *e, struct es_buf *out);

/*
 * Minimal edit (SPEC §2): old is the existing file; appends to out the file
 * that means e, changing only the lines of keys whose value changed
 * (replace the key's line, insert a missing key at its place in the
 * canonical order, remove the line of a key that became empty; an extra
 * key out of e's order has its lines moved verbatim), replacing the body
 * only if the content changed; BOM and EOL style (LF/CRLF) of the old file
 * are kept. If e means the same as old, out gets old's bytes exactly.
 *
 * For a project, an absent area key means the area folder's name, taken
 * from rel (its parent directory): rel must be the old file's path.
 * Returns -1 with err filled if old's frontmatter does not parse (values
 * that are bad, such as a bad date, are simply replaced) or if e fails
 * es_entity_file_check(); out is then unchanged.
 */
int	es_entity_file_update(const char *old, size_t old_len,
	    const char *rel, const struct es_entity *e, struct es_buf *out,
	    struct es_error *err);

/*
 * Whether e can be written as a file that parses back to e: a title, and an
 * extra whose keys are valid (es_yaml_value_key_ok(), not a known key's
 * name), with no list directly inside a list, no NUL byte or invalid UTF-8
 * in strings, only types YAML holds (null, bool, int32, int64, finite
 * double, string, datetime, array, document). Datetimes and int64 values
 * that fit int32 pass but read back as a string and an int32. Returns 0, or
 * -1 with err naming the field ("unsupported value type in extra.oid").
 */
int	es_entity_file_check(const struct es_entity *e, struct es_error *err);

#endif
