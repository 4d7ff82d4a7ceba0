/*
 * The sync engine's decision core for one action (SPEC §2 "Action list
 * files", §4 rules 2, 3, 5, 7, 8, §6): a pure function from three versions
 * of one action (the baseline, the line in its list file, the document) to
 * what each side must do. No I/O, no clock, no database. The same table as
 * plan.h's for projects and goals, per action instead of per file:
 *
 *  none/line/absent: DOC_INSERT of the line's meaning.
 *  none/absent/live document: FILE_ADD (the line goes to its list).
 *  none/line/live: identity match (SPEC 4.17): equal meaning, nothing;
 *    different, every differing field is a conflict (no ancestor), the
 *    policy's side is taken whole and the loser kept; never a delete.
 *  none/line/soft-deleted: DOC_UNDELETE with the line's meaning.
 *  yes/unchanged/unchanged: nothing.
 *  yes/changed/unchanged: DOC_UPDATE of the changed fields.
 *  yes/unchanged/changed: FILE_SET (the line rewritten in place), or
 *    FILE_MOVE when the state or context changed so that the line belongs
 *    to another list (SPEC §2, rule 7: completed by the API -> completed.md).
 *  yes/changed/changed: merge by field (SPEC 4.3): a field changed on one
 *    side is taken from it; on both to different values, a conflict decided
 *    by the policy (SPEC 4.2), the loser kept (KEEP_FILE: the line; KEEP_DOC:
 *    the document), both sides get the result.
 *  yes/deleted/unchanged: DOC_DELETE (soft), FORGET.
 *  yes/unchanged/deleted: FILE_TRASH (the line leaves its list for
 *    .execsync/trash/actions.md, SPEC 4.5), FORGET.
 *  yes/deleted/changed: the edit wins: FILE_ADD of the document's meaning.
 *  yes/changed/deleted: the edit wins: DOC_UNDELETE (DOC_INSERT when the
 *    document vanished) with the line's meaning.
 *  yes/deleted/deleted: FORGET only.
 *
 * A value the folder cannot hold as the database does is settled here so
 * that the next pass sees no difference (SPEC 4.8): a next action without a
 * context goes to contexts/@inbox.md and reads back as "@inbox", so the
 * result has context "@inbox" and the document is updated to it.
 */
#ifndef EXECSYNC_PLAN_ACTION_H
#define EXECSYNC_PLAN_ACTION_H

#include <stdbool.h>
#include <stdint.h>

#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/plan.h"

/* Every meaning field of an action (enum es_field). */
#define ES_PLAN_ACTION_F_ALL	(ES_F_TEXT | ES_F_CONTEXT | ES_F_PROJECT | \
	ES_F_STATE | ES_F_DUE | ES_F_DEFER | ES_F_ACTION_DATE | \
	ES_F_COMPLETED | ES_F_PRIORITY)

/*
 * One action, three versions; every pointer borrowed for the call.
 *	base		NULL: no baseline row
 *	file		NULL: no line (never was, or removed); file_rel is
 *			its list file
 *	db		NULL: no document (or vanished); db->meta.deleted:
 *			soft-deleted
 */
struct es_action_plan_input {
	const struct es_action	*base;
	const struct es_action	*file;
	const char		*file_rel;
	int64_t			 file_mtime_ms;
	const struct es_action	*db;
	int64_t			 db_updated_at;
	/* For es_plan_action_ops() only: */
	const char		*base_rel;	/* the list at the last sync */
	bson_oid_t		 id;		/* the document's _id */
	bool			 has_id;	/* false: a fresh one when inserted */
};

enum es_act_doc {
	ES_ACT_DOC_NONE,
	ES_ACT_DOC_INSERT,	/* a new document holding value */
	ES_ACT_DOC_UPDATE,	/* $set of doc_fields from value */
	ES_ACT_DOC_DELETE,	/* soft delete */
	ES_ACT_DOC_UNDELETE,	/* deleted: false plus $set of doc_fields */
};

enum es_act_file {
	ES_ACT_FILE_NONE,
	ES_ACT_FILE_ADD,	/* append value's line to list_rel */
	ES_ACT_FILE_SET,	/* rewrite the line in place (file_rel) */
	ES_ACT_FILE_MOVE,	/* remove the line, append it to list_rel */
	ES_ACT_FILE_TRASH,	/* remove the line, append it to the trash */
};

enum es_act_keep {
	ES_ACT_KEEP_NONE,
	ES_ACT_KEEP_FILE,	/* the line lost a conflict: keep it */
	ES_ACT_KEEP_DOC,	/* the document lost: keep it */
};

/*
 * The decision; es_action_decision_release() it. value is the action's
 * meaning after the pass on both sides (meta from the document when there
 * is one); list_rel is where its line belongs for ADD and MOVE. forget: drop
 * the baseline row. conflicts: the fields both sides changed differently.
 */
struct es_action_decision {
	enum es_act_doc		 doc;
	unsigned		 doc_fields;
	enum es_act_file	 file;
	enum es_act_keep	 keep;
	bool			 forget;
	unsigned		 conflicts;
	struct es_action	 value;
	char			 list_rel[256];
	char			 reason[160];
};

void	es_action_decision_release(struct es_action_decision *d);

/*
 * Decide one action. out need not be initialised. Returns 0 (possibly
 * with nothing to do: doc NONE, file NONE), or -1 with err filled and out
 * released when the action must be skipped and reported: a database value
 * that cannot become a list path (ES_EUNSAFE "unsafe context '@a/b'", SPEC
 * 4.11) or a state of none (ES_EPARSE). Deterministic and total.
 */
int	es_plan_action(const struct es_action_plan_input *in,
	    enum es_policy policy, struct es_action_decision *out,
	    struct es_error *err);

/*
 * The same decision as typed operations (plan.h, kind ES_KIND_ACTION, the
 * action in op->action), appended to plan: what --dry-run prints and the
 * only thing the applier executes (SPEC 4.9). In order:
 *
 *	KEEP_FILE_VERSION  the line lost (action: the line's meaning; rel: its
 *			list), or KEEP_DOC_VERSION (action: the document as
 *			read, meta included)
 *	REPORT		the conflicting fields
 *	DOC_INSERT	action: the value, meta.id in->id when in->has_id,
 *			created_at = updated_at = now_ms
 *	DOC_UPDATE, DOC_DELETE, DOC_UNDELETE
 *			$set of fields (DELETE: ES_DOC_F_DELETED, deleted_at
 *			now_ms; UNDELETE: ES_DOC_F_DELETED too) on
 *			expect_updated_at = in->db_updated_at, the new version
 *			max(now_ms, db_updated_at + 1) in action->meta.updated_at
 *			(SPEC 4.12)
 *	FILE_WRITE	ADD: the line appended to rel (fields 0); SET: the
 *			line rewritten in place in rel (fields: what changed)
 *	FILE_MOVE	the line leaves rel_from and is appended to rel
 *	FILE_TRASH	the line leaves rel for .execsync/trash/actions.md
 *	BASELINE_FORGET	the baseline row of action->meta.id (only with a
 *			baseline)
 *
 * rel of the other ops is the line's list (in->file_rel, else
 * in->base_rel). The line the result needs must render in its list (SPEC
 * 4.8): when it cannot, -1 with err naming the list and plan unchanged, as
 * for es_plan_action()'s own errors. No op when there is nothing to do.
 */
int	es_plan_action_ops(const struct es_action_plan_input *in,
	    enum es_policy policy, int64_t now_ms, struct es_plan *plan,
	    struct es_error *err);

/* "none", "insert", ...; "add", "set", "move", "trash". */
const char *es_act_doc_name(enum es_act_doc d);
const char *es_act_file_name(enum es_act_file f);

#endif
