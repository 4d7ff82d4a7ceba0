/*
 * One line of an action list file (SPEC §2) <-> one struct es_action.
 *
 * Recognised lines, all at column 0 (an indented item is a note):
 *	- [ ] rest		checklist, open
 *	- [x] rest		checklist, done ("- [X] " too)
 *	(A) rest		todo.txt, priority A-Z
 *	x YYYY-MM-DD rest	todo.txt, done on that date
 * The marker is followed by a space or a tab ("- [ ]" alone is an action
 * with no text, hence an error; "-[ ]", "* [ ]" are notes). "x" not followed
 * by a space, a real date and a space or tab is a note ("x marks the spot").
 *
 * The rest is read as whitespace-separated words (space and tab):
 *	[(A)] [date] words		open lines
 *	[(A)] [completed] [(A)] [date] words
 *					"- [x] " lines (completed.md holds
 *					"- [x] <completed> <the original
 *					line after '- [ ] '>", SPEC §2)
 *	[date] words			"(A) " lines
 *	[(A)] [date] words		"x <completed> " lines
 * A word in a date slot that looks like a date (NNNN-NN-NN) but is not a real
 * day is an error (bad date '2025-13-01'); anything else ends the slots.
 * Among the words, tokens are whole words: the first "@ctx" (at least one
 * byte after the '@'; one holding a '/' is an error, SPEC §4.11), the first
 * "+slug", "due:YYYY-MM-DD", "defer:YYYY-MM-DD" (a bad date or a second one
 * is an error). Later "@x" and "+x" words are text, and so is
 * "bob@example.com". text = the remaining words joined by single spaces;
 * empty text is an error. A control character (other than tab) anywhere in
 * an action line is an error.
 *
 * Meaning:
 *  - state: es_list_state(list), except that a done line is
 *    ES_STATE_COMPLETED in any list. A "- [x] " line without a date has
 *    completed == ES_DATE_NONE (so does a "- [ ] " line in completed.md).
 *  - context: the line's "@ctx"; else, when list is ES_LIST_CONTEXT, a copy
 *    of list_context (e.g. "@macbook" for contexts/@macbook.md); else NULL.
 *    Contexts keep their '@'; project slugs lose their '+'.
 *
 * Errors carry only a message (ES_EPARSE); the caller adds path and line.
 * Pure: no I/O, no clock. Lines are bytes plus a length (no EOL, no NUL
 * needed); they are never read past len.
 */
#ifndef EXECSYNC_ACTION_LINE_H
#define EXECSYNC_ACTION_LINE_H

#include <stddef.h>

#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"

enum es_line_form {
	ES_LINE_CHECKLIST,	/* "- [ ] ..." / "- [x] ..." */
	ES_LINE_TODOTXT,	/* "(A) ..." / "x YYYY-MM-DD ..." */
};

/*
 * Returns 1 and fills *out (es_action_init()ed by the caller; its strings
 * become the caller's, freed by es_action_release()) for an action line,
 * 0 for a line that is not an action (out untouched), -1 with err filled
 * (message only) for an action line that is malformed (out untouched).
 * form may be NULL. list_context is borrowed ("@macbook", or NULL).
 */
int	es_action_line_parse(const char *line, size_t len,
	    enum es_list_kind list, const char *list_context,
	    struct es_action *out, enum es_line_form *form,
	    struct es_error *err);

/*
 * Appends to out the canonical line (no EOL) for a in a list of the given
 * kind and context:
 *	- [ ] [(A) ][date ]text[ @ctx][ +proj][ due:D][ defer:D]
 *	- [x] [completed ][(A) ][date ]text...		state completed
 * " @ctx" is left out when it equals the list's context. When the text holds
 * a word that would read as a context or project token, that token goes
 * before the text; when the text's first word would fill a priority or date
 * slot (say "2025-11-09 plans" with no date), the tokens go before the text.
 * form ES_LINE_TODOTXT writes "x <completed> [(A) ][date ]..." for a
 * completed action with a date, "(A) [date ]..." for one with a priority,
 * else falls back to the checklist form.
 *
 * Guarantee: when this returns 0, es_action_line_parse() of the line gives
 * an action with es_action_diff() == 0 against a (meta is ignored).
 * Returns -1 with err filled (message only) and out unchanged when a cannot
 * be written so: empty text; text with a control character or tab, or with
 * leading, trailing or repeated spaces (parsing would normalise them);
 * a text word starting with "due:" or "defer:"; a text word reading as a
 * context (or project) when a has none; a context that is not '@' plus
 * bytes without space, control or '/'; an empty project or one with a space;
 * a priority outside A-Z; a state the list does not give (only the list's
 * own state or ES_STATE_COMPLETED fit); completed set while state is not
 * completed; a completed action with a creation date but no completion date;
 * no context in a context list that has one (the line would read as the
 * list's context).
 */
int	es_action_line_render(const struct es_action *a,
	    enum es_list_kind list, const char *list_context,
	    enum es_line_form form, struct es_buf *out, struct es_error *err);

/*
 * Appends to out the line old (old_len bytes, no EOL) rewritten for a,
 * keeping as much of the old line as possible (SPEC §2: "rewriting a line
 * changes only that line"): when the old line is an action with the same
 * text and state, only the changed priority, dates and tokens are edited in
 * place (a replaced token keeps its place, a removed one goes with the
 * whitespace before it, a new one is appended at the end; new dates and
 * priority go to their slots), spacing and form kept. Otherwise (other text,
 * other state, old line not an action, or an in-place edit that would not
 * read back as a) the line is es_action_line_render()ed in the old line's
 * form. Updating with the action the old line already holds returns the old
 * bytes unchanged. Returns 0, or -1 with err filled (message only) and out
 * unchanged when a cannot be written (see es_action_line_render()).
 */
int	es_action_line_update(const char *old, size_t old_len,
	    enum es_list_kind list, const char *list_context,
	    const struct es_action *a, struct es_buf *out,
	    struct es_error *err);

#endif
