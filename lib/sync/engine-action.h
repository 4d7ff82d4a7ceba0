/*
 * Lib-internal: the actions part of the one-shot pass (engine.c calls it;
 * SPEC §2 "Action list files", §4 rules 5, 7, 8, 15, 17). Action lines
 * carry no identifiers, so the lines of every list file that changed since
 * the baseline are paired with the baseline's lines (action-match.h), each
 * action is decided by es_plan_action(), and the plan is applied: document
 * writes first (new actions in one bulk insert), then one write per changed
 * list file, then the baseline rows of every list read, in one go.
 *
 * Not thread-safe; one pass at a time.
 */
#ifndef EXECSYNC_ENGINE_ACTION_H
#define EXECSYNC_ENGINE_ACTION_H

#include <stdbool.h>
#include <stddef.h>

#include "execsync/baseline.h"
#include "execsync/engine.h"
#include "execsync/error.h"
#include "execsync/layout.h"
#include "execsync/scan.h"
#include "execsync/store.h"

struct es__acts;

/* Everything borrowed must outlive es__acts_free(). */
struct es__acts *es__acts_new(const struct es_engine_opts *o,
	    struct es_store *store, struct es_baseline *b,
	    struct es_engine_result *r, bool ignore_base);
/* One action list from the scan (rel copied). */
void	es__acts_add_list(struct es__acts *a, const char *rel,
	    const struct es_path_info *info, const struct es_stat *st);
/*
 * Paths the scan could not take (unreadable folders and files, symbolic
 * links: es_scan_result.skipped), sorted, borrowed: a list at or below one
 * is left alone, never taken for a list whose lines were all removed.
 */
void	es__acts_set_unreadable(struct es__acts *a, char *const *rels,
	    size_t n);
/* Whether rel is one of the sorted rels or lies below one of them. */
bool	es__path_below_any(const char *rel, char *const *rels, size_t n);
/*
 * Load the baseline's action rows, read the changed lists and the
 * documents (all of them when full), pair, decide; the ops go to r->plan.
 * -1 with err when the pass cannot go on (baseline or database errors).
 */
int	es__acts_plan(struct es__acts *a, bool full, struct es_error *err);
/* Baseline rows of actions, for the deletion guard's total. */
size_t	es__acts_total(const struct es__acts *a);
/* Apply, inside the caller's baseline transaction. */
int	es__acts_apply(struct es__acts *a, struct es_error *err);
void	es__acts_free(struct es__acts *a);	/* accepts NULL */

/*
 * The since-query of a pass asks for documents with updated_at newer than
 * the collection's watermark minus ES__LOOKBACK_MS. After a pass the
 * watermark is the later of the newest updated_at seen and our clock (a
 * quiet database must not keep the last burst of changes inside the window
 * for ever), never past our clock plus ES__WATERMARK_AHEAD_MS (an API clock
 * far ahead must not push it into the future). So an API clock that lags
 * ours by less than the lookback is caught by the next pass; anything
 * older is caught by the next full read (every full_pass_s), which also
 * finds hard-deleted documents (SPEC 4.1: never trust one clock).
 */
#define ES__LOOKBACK_MS		(10 * 60 * 1000)
#define ES__WATERMARK_AHEAD_MS	(5 * 60 * 1000)

static inline int64_t
es__watermark(int64_t maxseen, int64_t now_ms)
{
	int64_t wm = maxseen > now_ms ? maxseen : now_ms;

	if (wm > now_ms + ES__WATERMARK_AHEAD_MS)
		wm = now_ms + ES__WATERMARK_AHEAD_MS;
	return wm < 0 ? 0 : wm;
}

#endif
