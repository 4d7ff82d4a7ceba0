/*
 * Recognising action lines across edits: the line matcher of the sync
 * engine (SPEC §2 "Action list files", §4 rules 5, 7, 17).
 *
 * Action lines carry no identifiers, so the engine tells which document a
 * line of a list file is by comparing each list with what this machine last
 * synced (the baseline): an edited line is an update of the same document, a
 * line that went to another list is one document changing state (say
 * contexts/@macbook.md -> @waiting.md, or checked off into completed.md as
 * "- [x] 2025-11-10 <the line>"), only a line with no ancestor is a new
 * action and only a baseline line with no descendant a deleted one (rule 5).
 *
 * The input holds action lines only: headings, notes, blank lines and
 * frontmatter never take part (a list file's non-action lines cannot move a
 * match). Positions count action lines within their list.
 *
 * How lines are paired, in rounds of decreasing evidence; a line paired in
 * one round takes no part in later ones:
 *  0. Per list file, a line diff (Myers' O(ND) longest common subsequence)
 *     of the baseline lines and the current lines, in position order, by
 *     exact bytes. Lines it keeps are SAME (copies of one line pair in
 *     order). The rest form hunks: k baseline lines replaced by m current
 *     lines between two kept ones.
 *  1. Same bytes, same list, anywhere in it: SAME. A line moved within its
 *     list is still the same action; its position is all that changed, and
 *     the engine records positions for every line anyway.
 *  2. Same text (es_action.text: the line without its tokens), same hunk:
 *     EDITED (a date, a token or the priority changed in place).
 *  3. Same text, same list, another hunk: EDITED (moved within the list and
 *     edited).
 *  4. Same bytes, another list: MOVED.
 *  5. Same text, another list: MOVED (a state change, possibly with edits; a
 *     line checked off into completed.md keeps its text).
 *  6. Similar text in the same hunk: EDITED. Similarity is the longest
 *     common subsequence of the two texts' words (split on spaces and tabs,
 *     the first 256 words) over the longer word count; here it must be at
 *     least 1/2. Best scores pair first. In a hunk of more than 4096 line
 *     pairs only lines near the same relative place are compared.
 *  7. Similarity of at least 4/5 anywhere: MOVED, or EDITED within a list.
 *  8. A hunk of exactly one line replaced by one line, both still unpaired:
 *     EDITED, whatever the texts (the line was rewritten in place).
 * What is left is NEW (current lines) and REMOVED (baseline lines).
 *
 * Why this order: a line more often stays in its list than leaves it, so
 * exact text within a list (2, 3) goes first; but an exact text found in
 * another list (4, 5) is stronger evidence than a resemblance or a place in
 * the same list (6, 8): when "Call mom" leaves @phone for @waiting and "Call
 * dad" takes its place, "Call mom" moved and "Call dad" is new, not an edit
 * of "Call mom".
 *
 * Ties (copies of one line or one text) are broken by list path (byte
 * order), then position, then index in the input array, so the result
 * depends only on the input and never on memory addresses.
 *
 * Fast path: a list file whose stat data equal the baseline's need not be
 * read or passed at all (neither its baseline lines nor its current ones):
 * it has no line to pair across lists, so leaving it out changes nothing
 * for the other lines. Lines of a list are compared by bytes from both ends
 * first, so an unchanged list costs one comparison per line, and only the
 * lines between the first and the last change are hashed and diffed; the
 * later rounds see only unpaired lines, through hash maps and sorting, never
 * all lines against all lines.
 *
 * Pure: no I/O, no clock, no global state; deterministic and total (any
 * input, including NULL rel, line or action, empty lines, repeated
 * positions, gives a result). Thread-safe on distinct outputs.
 */
#ifndef EXECSYNC_ACTION_MATCH_H
#define EXECSYNC_ACTION_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"

/*
 * One action line as last synced (from the baseline: struct
 * es_base_entity's rel, pos, line and its decoded meaning). Every pointer is
 * borrowed and must outlive the matches. rel NULL reads as ""; line NULL as
 * an empty line; action NULL (meaning unknown) makes the raw line stand for
 * the text in rounds 2, 3, 5-7. id is carried, not read.
 */
struct es_match_base {
	bson_oid_t		 id;
	const char		*rel;		/* its list file, relative to the root */
	uint32_t		 pos;		/* index among that list's action lines */
	const char		*line;		/* raw line as last synced, no EOL */
	size_t			 line_len;
	const struct es_action	*action;	/* its meaning then, or NULL */
};

/*
 * One action line now (from a parsed list file: es_action_list_raw(),
 * es_action_list_get()). Same rules as struct es_match_base.
 */
struct es_match_line {
	const char		*rel;
	uint32_t		 pos;
	const char		*line;
	size_t			 line_len;
	const struct es_action	*action;
};

enum es_match_kind {
	ES_MATCH_SAME,		/* identical line, same list: nothing to do */
	ES_MATCH_EDITED,	/* same action, same list, line text changed */
	ES_MATCH_MOVED,		/* same action, now in another list (a state
				 * change, SPEC §2), possibly also edited */
	ES_MATCH_NEW,		/* a current line with no ancestor */
	ES_MATCH_REMOVED,	/* a baseline line with no descendant */
};

/*
 * base is NULL for NEW, now is NULL for REMOVED; both set otherwise. The
 * kind follows from the pair: another list is MOVED; the same list with the
 * same bytes is SAME, with other bytes EDITED.
 */
struct es_match {
	enum es_match_kind	 kind;
	const struct es_match_base *base;
	const struct es_match_line *now;
};

/*
 * Pairs every baseline line with at most one current line and vice versa
 * (see the rounds above). *out gets a new array (free() it; never NULL) of
 * *nout = nnow + (number of REMOVED) entries: first one per current line in
 * the order of now[] (so (*out)[i].now == &now[i] for i < nnow), then one
 * REMOVED entry per unpaired baseline line, in the order of base[]. base or
 * now may be NULL when its count is 0. Cannot fail.
 */
void	es_action_match(const struct es_match_base *base, size_t nbase,
	    const struct es_match_line *now, size_t nnow,
	    struct es_match **out, size_t *nout);

/* "same", "edited", "moved", "new", "removed"; "unknown" otherwise. */
const char *es_match_kind_name(enum es_match_kind k);

/*
 * Internal (lib and its unit test only): the line diff of round 0 on
 * sequences of class numbers. Fills mate[i] with the index in b of a[i]'s
 * partner, or SIZE_MAX, for a longest common subsequence of a and b (pairs
 * increase in both indices), and returns the number of pairs. When a
 * region needs more than about 2,000 edits the search stops there and the
 * region's lines stay unpaired (shorter than longest, never wrong: the
 * later rounds still pair equal lines).
 */
size_t	es__action_match_lcs(const size_t *a, size_t na, const size_t *b,
	    size_t nb, size_t *mate);

#endif
