/*
 * The sync engine's one-shot pass (issue 5, SPEC §4, §6): gather the three
 * versions of every entity (the baseline, the file, the document), let the
 * pure planners (plan.h; plan-action.h for the actions of the list files,
 * paired line by line with action-match.h) decide, then apply the plan or,
 * for --dry-run, only return it (SPEC 4.9: the same decisions either way).
 *
 * One pass:
 *  1. guards (SPEC 4.15, 4.18): the root is a folder; a folder with none
 *     of the three synced top folders is refused, never "everything was
 *     deleted" (a baseline with rows: an unmounted folder) nor filled
 *     (no baseline: the wrong folder) unless opts.init asks to fill it; a
 *     baseline recorded for another identity (database, user) is refused
 *     unless opts.resync adopts the new one; a running git operation
 *     holds the pass (SPEC 4.16);
 *  2. the file side: es_scan(); a file whose stat data equal its baseline
 *     file row is not read, its meaning is the baseline's (SPEC §6);
 *  3. the database side: every document (a full read) on the first pass,
 *     --resync, --force, opts.full or when the last full read is older
 *     than full_pass_s; otherwise only documents with updated_at past the
 *     watermark minus a lookback (see lib/sync/pass.h);
 *  4. pairing by id, then es_pair_match() for files that moved (same
 *     slug, or content similar enough; the inode only a hint: SPEC 4.6,
 *     pair.h), then by identity (kind, slug: SPEC 4.17);
 *  5. es_plan_entity() per entity, es_plan_action_ops() per action, the
 *     deletion guard (SPEC 4.15) on the whole plan;
 *  6. apply exactly the ops of the plan (r->plan: what --dry-run returns,
 *     SPEC 4.9), every baseline write in one transaction.
 *
 * lib/sync/: pass.c runs the pass; peer-entities*.c (projects, goals) and
 * peer-actions*.c (actions) are its two peers behind the same verbs
 * (gather, pair, plan, apply, commit; private header pass.h).
 *
 * Blocks on files, the network and SQLite: a one-shot pass or a worker.
 */
#ifndef EXECSYNC_ENGINE_H
#define EXECSYNC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/baseline.h"
#include "execsync/error.h"
#include "execsync/plan.h"
#include "execsync/store.h"
#include "execsync/world.h"

/* Every borrowed pointer must outlive the call. */
struct es_engine_opts {
	const char		*root;		/* absolute path, for messages */
	int			 root_fd;	/* O_DIRECTORY, borrowed */
	const char		*user_id;
	const char		*identity;	/* es_migrate_identity(); NULL: unchecked */
	enum es_policy		 policy;	/* --force: ES_POLICY_FILE */
	bool			 force;		/* also forces a full read */
	bool			 dry_run;	/* plan only, write nothing */
	bool			 resync;	/* SPEC 4.17: forget the baseline */
	bool			 init;		/* SPEC 4.18: fill a bare folder */
	bool			 full;		/* read every document */
	unsigned		 max_delete;	/* percent, 0..100 */
	size_t			 max_file_size;	/* 0: 8 MiB */
	unsigned		 full_pass_s;	/* 0: no periodic full read */
	const char *const	*ignore;	/* NULL-terminated globs, or NULL */
};

/* Counts of one pass; plan holds the ops planned (dry run) or applied. */
struct es_engine_result {
	struct es_plan		 plan;
	size_t			 applied[ES_OP_REPORT + 1];	/* by op kind */
	size_t			 to_db, to_file;	/* ops applied per direction */
	size_t			 conflicts;	/* REPORT ops of conflicts */
	size_t			 failed;	/* items skipped or not applied */
	size_t			 lost_races;	/* CAS lost twice: next pass */
	size_t			 entities;	/* entities looked at */
	size_t			 files_read;	/* files read (stat changed) */
	size_t			 docs_read;	/* documents read */
	bool			 full_read;	/* every document was read */
	bool			 held;		/* a git operation ran */
	const char		*held_by;	/* its marker (static) */
	bool			 guard_stopped;	/* SPEC 4.15 */
	bool			 wrong_identity; /* SPEC 4.18: refused (-1) */
	struct es_error		*errors;	/* per item, path:line: reason */
	size_t			 nerrors;
	uint64_t		 round_trips;
};

void	es_engine_result_init(struct es_engine_result *r);
/* Frees what r owns; r may be NULL. */
void	es_engine_result_release(struct es_engine_result *r);

/*
 * One pass. Returns 0 when the pass ran (to the end, held by git, or
 * stopped by the deletion guard: r says which; per-item failures are in
 * r->errors), or -1 with err filled when it could not run (a root that is
 * not a folder, a folder refused by the guards of step 1 (ES_ECONFIG), the
 * database or the baseline failing): exit status 2 for a command. r
 * (initialised by
 * the caller) is filled either way.
 */
int	es_engine_once(const struct es_engine_opts *o, struct es_store *store,
	    struct es_baseline *b, struct es_engine_result *r,
	    struct es_error *err);

/*
 * The same pass in the world w (world.h: the folder and the baseline
 * store, the database, the clock; the pass reaches nothing else), started
 * by t (NULL: ES_TRIGGER_ORDINARY). The pass's "now" is w's clock, read
 * once. es_engine_once() is es_pass_run() in the real world
 * (es_world_real_init()) with ES_TRIGGER_FULL when o->full, o->force or
 * o->resync, else ES_TRIGGER_ORDINARY.
 */
int	es_pass_run(const struct es_engine_opts *o, const struct es_world *w,
	    const struct es_trigger *t, struct es_engine_result *r,
	    struct es_error *err);

/*
 * Whether the root holds one of the three synced top folders (SPEC §2;
 * never followed): without one and without a baseline a pass is refused
 * unless opts.init (SPEC 4.18). A caller with no baseline yet checks it
 * before creating one, so a refused folder gets no .execsync/ either.
 */
bool	es_engine_root_has_folders(int root_fd);

/*
 * The exit status of a pass that returned 0 (SPEC §1, enum es_exit): 3 the
 * deletion guard stopped it, 75 a git operation held it, 1 items failed,
 * conflicted or lost a race, else 0.
 */
int	es_engine_status(const struct es_engine_result *r);

#endif
