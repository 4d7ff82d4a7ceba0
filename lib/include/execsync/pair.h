/*
 * Is a file at a new path the same project or goal as a baseline entity
 * whose file is gone (SPEC 4.6)? Pure: entities and stat numbers in, a
 * verdict out; no I/O, no clock.
 *
 * "A file at a new path is the same entity only when the evidence agrees
 * (same slug, or content similar enough to call it a rename); an inode
 * number is a hint, never an identity, since a deleted file's inode is
 * often given to the next new one." The rules, in order (each is a case in
 * tests/unit/test-pair.c):
 *
 *  kind	a project never pairs with a goal.
 *  slug	the same file name (slug) is the same entity: a move between
 *		folders or areas keeps the name. A file that does not parse
 *		pairs by name too (the planner then leaves it alone).
 *  hold	a file that does not parse shows no content: at the lost
 *		file's inode it holds the entity (the planner reports it and
 *		changes nothing) until it parses and can be judged; anywhere
 *		else it is not the entity. The inode delays a decision here,
 *		it never makes one.
 *  created	when both sides have a `created` date, they agree; a rename
 *		does not change when a project was created.
 *  body	both bodies have text (a line that is not blank): they are
 *		the same entity when the body similarity is at least
 *		ES_PAIR_MIN_SIMILARITY percent, git's default for rename
 *		detection (-M50%). The similarity, like git's, is the share
 *		of the bytes in common: lines (trailing blanks and CR
 *		dropped, blank lines ignored) are matched as a multiset and
 *		each matched line counts its length plus one; the sum over
 *		the larger body's total. An editor's retitle (new file name,
 *		new title, same body) is a rename by this rule.
 *  title	a blank body on either side shows nothing to compare: then
 *		the title must be the same (and `created` agree). Two empty
 *		projects are never "similar" by their bodies alone; an empty
 *		project retitled and renamed in one go is taken as deleted
 *		and created: its document is soft-deleted, not lost.
 *
 * The inode (dev and ino both equal) only breaks ties between candidates
 * the rules accept, and holds a broken file; alone it never pairs.
 */
#ifndef EXECSYNC_PAIR_H
#define EXECSYNC_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "execsync/entity.h"

#define ES_PAIR_MIN_SIMILARITY	50	/* percent, as git's -M50% */
/*
 * The bounds of one es_pair_match() (see there): (lost, file) pairs the
 * similar step looks at, git's rename limit (1000 x 1000); lines merged by
 * body comparisons (about a tenth of a second).
 */
#define ES_PAIR_MAX_PAIRS	1000000
#define ES_PAIR_MAX_WORK	10000000

enum es_pair_rule {
	ES_PAIR_NONE = 0,	/* not the same entity */
	ES_PAIR_SLUG,		/* same kind and file name */
	ES_PAIR_BODY,		/* bodies similar enough */
	ES_PAIR_TITLE,		/* a blank body, the same title */
	ES_PAIR_HOLD,		/* a broken file at the lost file's inode */
};

/*
 * One side of a candidate pair: a baseline entity that lost its file
 * (slug: its baseline slug; dev/ino: its file row's, has_ino false when
 * there was none) or a file at a path no baseline entity had (slug: its
 * file name without ".md"; e NULL when it does not parse). Borrowed.
 */
struct es_pair_item {
	enum es_kind		 kind;
	const char		*slug;
	/*
	 * A lost entity's other name, or NULL: the slug its document has
	 * now, when the app changed it (a retitle). A file of that name is
	 * the entity too: the pass that renamed it for the app may have died
	 * before its baseline commit (issue 19 item 3).
	 */
	const char		*alias;
	const struct es_entity	*e;
	bool			 has_ino;
	uint64_t		 dev, ino;
};

/*
 * score ranks accepted pairs: 101 for a slug, the similarity (50-100) for
 * a body, 50 for a title, 0 for a hold. agree counts the frontmatter
 * fields that are equal (title, area, folder, type, a set created): the
 * next tie-break, before the inode.
 */
struct es_pair_verdict {
	enum es_pair_rule	 rule;
	unsigned		 similarity;	/* body similarity, percent */
	unsigned		 score;
	unsigned		 agree;
	bool			 same_inode;
};

/* The rules above for one pair. */
struct es_pair_verdict es_pair_judge(const struct es_pair_item *base,
	    const struct es_pair_item *file);

/* The body similarity in percent (0 when both are blank). */
unsigned es_pair_similarity(const char *a, size_t alen, const char *b,
	    size_t blen);

/* es_pair_match()'s bounds; 0 (or a NULL pointer): the defaults above. */
struct es_pair_limits {
	size_t	max_pairs;
	size_t	max_work;
};

/* What es_pair_match() did, for the log. */
struct es_pair_stats {
	size_t	compared;	/* body comparisons made */
	size_t	work;		/* lines they merged */
	size_t	skipped;	/* pairs left unjudged: over a bound */
};

/*
 * Pairs lost baseline entities with new files, each at most once: first by
 * slug; then by content, identical bodies (blank ones: the same title)
 * before similar ones, best score first (then agree, then the inode, then
 * the lower indexes: the result is deterministic); then the holds.
 * match[i] is the index into files of lost[i]'s file or -1, why[i] (may be
 * NULL) the verdict.
 *
 * Cost: the slug, identical-content and hold steps sort (n log n; at most
 * max_pairs pairs of one identical body are judged). The similar step
 * looks at every remaining (lost, file) pair of one kind, cheaply (kind,
 * created, blank bodies, titles, body sizes: 50% needs the smaller body to
 * be at least half the larger) unless that leaves a body comparison, which
 * merges the two bodies' sorted lines; comparisons stop when max_work lines
 * have been merged, and the step is left out when over max_pairs pairs
 * remain. Pairs left out are counted in stats->skipped; an entity left
 * without its file is then soft-deleted and the file created, which keeps
 * both (SPEC 4.5).
 */
void	es_pair_match(const struct es_pair_item *lost, size_t nlost,
	    const struct es_pair_item *files, size_t nfiles,
	    const struct es_pair_limits *limits, ssize_t *match,
	    struct es_pair_verdict *why, struct es_pair_stats *stats);

/* "slug", "body", ...; "none". */
const char *es_pair_rule_name(enum es_pair_rule r);

#endif
