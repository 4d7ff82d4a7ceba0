/*
 * Who an action is when nothing else says it (SPEC 4.17: with no baseline,
 * "actions by list and text"): the list it belongs in, named from its state
 * and context as es_layout_action_path() names it, and its text.
 *
 *	next, context @phone	00k-next-actions/contexts/@phone.md
 *	waiting			00k-next-actions/@waiting.md
 *	completed		00k-next-actions/completed.md
 *
 * A document and a line meet when both give the same pair: a line checked
 * off in contexts/@phone.md ("- [x] Ring Bob") is a completed action and
 * meets the completed document "Ring Bob", whatever file holds the line.
 * Failing that, a line meets a document of its text whose list is the
 * file the line is in: the same line meets the document "Ring Bob" still
 * next in @phone when the other side has not seen the check yet. Several
 * actions with one identity are told apart by order only: a line takes
 * the first document not paired yet.
 *
 * An index sorts the identities of many actions once, so N lookups cost
 * O(N log N). execsyncd's pass without a baseline and execsync-migrate's
 * recognition of what a database already holds both pair through it, so
 * the two agree on what "already there" means.
 *
 * Pure: no I/O, no clock.
 */
#ifndef EXECSYNC_ACTION_IDENT_H
#define EXECSYNC_ACTION_IDENT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "execsync/buf.h"
#include "execsync/entity.h"

struct es_action_ident {
	char		*list;		/* malloc'd */
	const char	*text;		/* borrowed from the action */
	size_t		 ref;		/* the caller's index */
};

struct es_action_ident_index {
	struct es_action_ident	*v;
	size_t			 n, alloc;
};

#define ES_ACTION_IDENT_INDEX_INIT	{ NULL, 0, 0 }

/*
 * The list of a's identity into out (old content replaced). false, out
 * unchanged, when a has none: no text, no state, or a context
 * es_layout_action_path() refuses.
 */
bool	es_action_ident_list(const struct es_action *a, struct es_buf *out);

/*
 * Adds a's identity as ref. a must outlive the index (its text is
 * borrowed). Returns false, adding nothing, when a has no identity.
 */
bool	es_action_ident_add(struct es_action_ident_index *ix,
	    const struct es_action *a, size_t ref);

/* Sorts by list, text, then ref: once, after the adds, before the finds. */
void	es_action_ident_sort(struct es_action_ident_index *ix);

/*
 * The entries with a's identity: returns how many, and in *first the
 * index in ix->v of the first of them (they follow it, in ref order).
 * 0 when there are none or a has no identity.
 */
size_t	es_action_ident_find(const struct es_action_ident_index *ix,
	    const struct es_action *a, size_t *first);

/*
 * The entry line pairs with: the first with line's identity whose ref is
 * not taken (taken(ref, ud) false; taken NULL: none is), else the first
 * not taken whose list is rel (the list file holding the line; may be
 * NULL) and whose text is line's. Returns its index in ix->v, or -1.
 */
ssize_t	es_action_ident_pair(const struct es_action_ident_index *ix,
	    const struct es_action *line, const char *rel,
	    bool (*taken)(size_t ref, void *ud), void *ud);

void	es_action_ident_release(struct es_action_ident_index *ix);

#endif
