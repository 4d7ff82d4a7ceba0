/*
 * YAML frontmatter of a Markdown file (SPEC §2 "Project and goal files"):
 * split the bytes, parse the top-level keys with libyaml's event parser, and
 * edit the file minimally: replace, remove, insert or move one key's lines
 * while every other byte (comments, quoting, blank lines, the body, the byte
 * order mark, the line endings) stays as it was. Pure: bytes in, bytes out.
 *
 * Shape of a file:
 *	[EF BB BF] "---" EOL  lines...  ("---" | "...") [EOL]  body
 * The frontmatter exists iff the first line (after an optional UTF-8 BOM)
 * is exactly "---" followed by LF or CRLF; it ends at the next line that is
 * exactly "---" or "..." (before its LF or CRLF); the body is every byte
 * after that line's end, verbatim, possibly empty and possibly without a
 * final newline. The EOL style is the first line's (CRLF or LF); new lines
 * get it.
 *
 * The frontmatter text must be one YAML document holding a block mapping
 * (no document, or an empty one, means no keys). Refused, with
 * "rel:line: reason" where line is the file's line: YAML syntax errors
 * (libyaml's own words), a top level that is not a block mapping, keys that
 * are not scalars, duplicate keys (at any depth), anchors and aliases
 * ("YAML aliases are not supported"), explicit tags other than !!str, NUL
 * bytes in values, keys over ES_YAML_KEY_MAX bytes, nesting deeper than 64.
 *
 * An edited frontmatter is an opaque object; keys are numbered in file
 * order, 0-based, and the numbers change when keys are inserted, moved or
 * removed.
 */
#ifndef EXECSYNC_FRONTMATTER_H
#define EXECSYNC_FRONTMATTER_H

#include <stdbool.h>
#include <stddef.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/yaml-value.h"

struct es_frontmatter;

struct es_frontmatter_key {
	char			*name;		/* NUL-terminated */
	size_t			 name_len;
	/* The value as parsed; released (kind 0) once the key was replaced
	 * or inserted, since the text no longer says what it held. */
	struct es_yaml_value	 value;
	unsigned		 line;		/* file line as parsed; 0 if new */
	unsigned		 first, last;	/* file lines it occupies now */
};

enum es_frontmatter_shape {
	ES_FM_NONE,		/* the file does not open with "---" */
	ES_FM_UNCLOSED,		/* it does, but no closing line follows */
	ES_FM_CLOSED,
};

enum es_frontmatter_where {
	ES_FM_AFTER,		/* right after the anchor key's last line */
	ES_FM_BEFORE,		/* right before the anchor key's first line */
	ES_FM_END,		/* after the last frontmatter line */
};

/* How the file is split, without parsing any YAML (cheap). */
enum es_frontmatter_shape es_frontmatter_shape(const char *data, size_t len);

/*
 * Parses len bytes at data (copied: data may go away afterwards). A file
 * without frontmatter gives an object with no keys whose body is the whole
 * file after the BOM. Returns NULL with err filled on bad input, among
 * which "rel:1: frontmatter is not closed". Never aborts on any input.
 */
struct es_frontmatter *es_frontmatter_parse(const char *data, size_t len,
	    const char *rel, struct es_error *err);
/* NULL is fine. */
void	es_frontmatter_free(struct es_frontmatter *fm);

bool	es_frontmatter_present(const struct es_frontmatter *fm);
bool	es_frontmatter_has_bom(const struct es_frontmatter *fm);
bool	es_frontmatter_is_crlf(const struct es_frontmatter *fm);
size_t	es_frontmatter_nkeys(const struct es_frontmatter *fm);
/* Borrowed, valid until the next edit or es_frontmatter_free(). */
const struct es_frontmatter_key *es_frontmatter_key(
	    const struct es_frontmatter *fm, size_t i);
/* Index of the key spelt name (len bytes) into *i, the first one if edits
 * made two; false if absent. O(log n): keys are kept sorted by name. */
bool	es_frontmatter_find(const struct es_frontmatter *fm, const char *name,
	    size_t len, size_t *i);
/* The body, borrowed like a key; *len gets its length. */
const char *es_frontmatter_body(const struct es_frontmatter *fm, size_t *len);
/* Whether an edit or es_frontmatter_set_body() changed anything yet. */
bool	es_frontmatter_edited(const struct es_frontmatter *fm);

/*
 * Edits. value is YAML text for one line (from es_yaml_value_render_*()),
 * never holding a line break; the line written is the key's indentation,
 * the key (es_yaml_value_render_string(), block context), ": ", value and
 * the file's EOL. Indices out of range are programming errors (abort).
 */
/* Key i's lines become that one line. */
void	es_frontmatter_replace(struct es_frontmatter *fm, size_t i,
	    const char *value, size_t vlen);
/* Key i's lines go. */
void	es_frontmatter_remove(struct es_frontmatter *fm, size_t i);
/* A new key line; anchor is ignored for ES_FM_END. */
void	es_frontmatter_insert(struct es_frontmatter *fm,
	    enum es_frontmatter_where where, size_t anchor, const char *key,
	    size_t klen, const char *value, size_t vlen);
/* Key i's lines, verbatim, go next to anchor (which must differ from i). */
void	es_frontmatter_move(struct es_frontmatter *fm, size_t i,
	    enum es_frontmatter_where where, size_t anchor);
/* The body becomes a copy of len bytes at p. */
void	es_frontmatter_set_body(struct es_frontmatter *fm, const char *p,
	    size_t len);

/*
 * Appends the file to out: BOM if it had one, the opening line, the
 * frontmatter lines, the closing line, the body. Without edits that is the
 * parsed bytes exactly. A file that had no frontmatter gets "---" lines
 * around its keys once it has some.
 */
void	es_frontmatter_render(const struct es_frontmatter *fm,
	    struct es_buf *out);

#endif
