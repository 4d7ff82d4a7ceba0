/*
 * A whole action list file (SPEC §2: 00k-next-actions/contexts/@<ctx>.md,
 * @waiting.md, @deferred.md, @incubating.md, completed.md), kept lossless:
 * every line that is not an action (frontmatter, headings, notes, blank
 * lines, malformed action lines) stays byte for byte where it is, and an
 * edit rewrites only the line it concerns.
 *
 * Lines are split on LF; a CR before the LF belongs to the line ending
 * (CRLF), each line keeps its own ending, the last line may have none. A
 * UTF-8 byte order mark is kept. Frontmatter is a first line "---" up to the
 * next line "---": kept verbatim, never read as actions (an unterminated
 * block is not frontmatter). Line numbers are 1-based file lines, counting
 * frontmatter lines.
 *
 * Pure: no I/O. Not thread-safe; one owner at a time.
 */
#ifndef EXECSYNC_ACTION_LIST_H
#define EXECSYNC_ACTION_LIST_H

#include <stddef.h>

#include "execsync/action-line.h"
#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"

struct es_action_list;

/*
 * Parses len bytes at data (copied; data may be freed afterwards). rel is
 * the file's path relative to the root, for messages (copied; may be NULL).
 * kind and context come from the path (context "@macbook" for
 * contexts/@macbook.md, else NULL; copied). A malformed action line does not
 * fail the parse: it is kept verbatim as a non-action line and reported by
 * es_action_list_error(). Never returns NULL.
 */
struct es_action_list *es_action_list_parse(const char *data, size_t len,
	    const char *rel, enum es_list_kind kind, const char *context);
/* Accepts NULL. */
void	es_action_list_free(struct es_action_list *l);

/* Number of action lines. */
size_t	es_action_list_count(const struct es_action_list *l);
/*
 * The i-th action in file order (i < count). Borrowed: valid until the next
 * edit of l or es_action_list_free(); es_action_copy() it to keep it. Its
 * meta is empty (lines carry no identifiers).
 */
const struct es_action *es_action_list_get(const struct es_action_list *l,
	    size_t i);
/* The 1-based file line of the i-th action, after the edits so far. */
unsigned es_action_list_line(const struct es_action_list *l, size_t i);
/* The bytes of the i-th action line without its EOL, for line diffs
 * (borrowed like es_action_list_get()). */
const char *es_action_list_raw(const struct es_action_list *l, size_t i,
	    size_t *len);

/*
 * occ[i] (a malloc'd array, one per action line) = how many action lines
 * of l up to and including the i-th are byte-identical to it: the second
 * "- [ ] Call Bob" is another action. It feeds the deterministic _id of an
 * action (docid.h), so execsync-migrate and the sync pass must share it.
 */
unsigned	*es_action_list_occurrences(const struct es_action_list *l);

/* Malformed action lines found by the parse, in file order. */
size_t	es_action_list_nerrors(const struct es_action_list *l);
/* The i-th of them: ES_EPARSE, "rel:line: reason" (es_error_format()).
 * Borrowed until es_action_list_free(). */
const struct es_error *es_action_list_error(const struct es_action_list *l,
	    size_t i);

/*
 * Edits. SPEC §2: every non-action line stays where it is, order is kept,
 * rewriting a line changes only that line.
 *
 * es_action_list_set() rewrites the i-th action line for a through
 * es_action_line_update() (same text: tokens edited in place, form kept);
 * setting the action the line already holds changes nothing. Returns 0, or
 * -1 with err filled (rel and the line) and l unchanged when a cannot be
 * written in this list (see es_action_line_render()).
 */
int	es_action_list_set(struct es_action_list *l, size_t i,
	    const struct es_action *a, struct es_error *err);
/* Removes the i-th action line with its EOL; later actions move up. */
void	es_action_list_remove(struct es_action_list *l, size_t i);
/*
 * Adds a canonical checklist line for a after the last action line, or at
 * the end of the file when it has none (giving a final EOL to the previous
 * last line if it lacked one). The new line ends with the file's EOL (that
 * of its first line that has one; LF for a file without). The new action is
 * the last one (index count - 1). Returns 0, or -1 with err filled (rel, no
 * line) and l unchanged when a cannot be written in this list.
 */
int	es_action_list_append(struct es_action_list *l,
	    const struct es_action *a, struct es_error *err);

/* Appends the file's bytes now to out: unchanged lines byte for byte. */
void	es_action_list_render(const struct es_action_list *l,
	    struct es_buf *out);

/*
 * Appends to out the bytes of a new list file (one that does not exist
 * yet) holding acts[0..n) in that order: a heading line, a blank line, then
 * one canonical checklist line per action, all LF-terminated. The heading is
 * "# " and the context for a context list ("# @macbook"), else the list's
 * name: "# Next actions" (context list without context), "# Waiting",
 * "# Deferred", "# Incubating", "# Completed", or "# Actions" (ES_LIST_NONE).
 * Returns 0, or -1 with err filled (message only) and out unchanged when an
 * action cannot be written in this list.
 */
int	es_action_list_render_new(enum es_list_kind kind, const char *context,
	    const struct es_action *const *acts, size_t n, struct es_buf *out,
	    struct es_error *err);

#endif
