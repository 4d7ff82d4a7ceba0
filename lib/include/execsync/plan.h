/*
 * The sync engine's decision core for projects and goals (SPEC §4, §6): a
 * pure function from three versions of one entity (the baseline, the file,
 * the document) to a list of operations. No I/O, no clock ("now" is a
 * parameter), no database: structs in, structs out. Deterministic and total:
 * every combination of inputs, NULLs included, gives a well-defined plan.
 * Another layer applies the plan; --dry-run prints it instead (SPEC 4.9), so
 * the dry run and the real run are the same decisions.
 *
 * Decisions (each is a test in tests/unit/test-plan.c):
 *
 * Sides. With a baseline, the file side is "deleted" (file NULL),
 * "unchanged" (es_entity_diff(base, file) == 0) or "changed"; the database
 * side is "deleted" (db NULL, vanished, or db->meta.deleted, soft-deleted),
 * "unchanged" or "changed", the same way. Sides are compared with the
 * baseline by meaning, never by clock (SPEC 4.1): a reformatted file or a
 * document the API rewrote with equal values is unchanged.
 *
 * SPEC §6, row by row (baseline/file/database):
 *
 *  none/present/absent: DOC_INSERT (value = the file's meaning, its slug
 *    the file's), BASELINE_PUT.
 *  none/absent/present: FILE_WRITE at es_layout_entity_path(db),
 *    BASELINE_PUT; a hostile slug or area is -1 (ES_EUNSAFE) and no op at
 *    all (SPEC 4.11).
 *  none/present/present: identity match (SPEC 4.17). Equal meaning:
 *    BASELINE_PUT only. Different: every differing field is a conflict
 *    (there is no ancestor), the policy picks the side, the loser's whole
 *    version is kept (KEEP_*), a REPORT says so; never a delete.
 *  none/present/soft-deleted: DOC_UNDELETE with the file's meaning (SPEC
 *    4.17 "deletes nothing": a fresh clone that still has the file brings
 *    the document back rather than trash a file the user has), the deleted
 *    document's version kept first when it differed.
 *  none/absent/soft-deleted, none/absent/absent: nothing.
 *  yes/unchanged/unchanged: nothing at all, not even BASELINE_PUT. One
 *    exception: the file moved without a change of meaning (a goal into a
 *    subfolder, a project into another area folder with its `area` key
 *    unchanged): BASELINE_PUT records the new path.
 *  yes/changed/unchanged: DOC_UPDATE of exactly the changed fields,
 *    BASELINE_PUT. A file the user moved or renamed is this row:
 *    folder/slug/area changed on the file side, DOC_UPDATE of those, no
 *    file op (SPEC 4.6).
 *  yes/unchanged/changed: FILE_MOVE first when folder, area or slug moved
 *    the path (the API's complete, descope, activate, retitle: SPEC 4.6),
 *    then FILE_WRITE when a frontmatter key or the body changed (a pure
 *    move is no write: SPEC 4.8), BASELINE_PUT.
 *  yes/changed/changed: merge by field (SPEC 4.3), below.
 *  yes/deleted/unchanged: DOC_DELETE (soft), BASELINE_FORGET.
 *  yes/unchanged/deleted: FILE_TRASH, BASELINE_FORGET (a soft-deleted or
 *    a vanished document alike).
 *  yes/deleted/changed: the edit wins (SPEC 4.5): FILE_WRITE of the
 *    document's meaning at its path, BASELINE_PUT.
 *  yes/changed/deleted: the edit wins: DOC_UNDELETE with the file's
 *    meaning (KEEP_DOC_VERSION first when the document had changed before
 *    it was deleted), or DOC_INSERT when the document vanished (then
 *    BASELINE_FORGET of the old id before BASELINE_PUT), BASELINE_PUT.
 *  yes/deleted/deleted: BASELINE_FORGET only.
 *  file_broken or db_broken: one REPORT op, nothing else: an entity one
 *    side of which does not parse is left alone (SPEC 4.10); the caller
 *    logs the parse error itself.
 *
 * Merge by field (SPEC 4.3). A field changed on one side only is taken from
 * that side; changed on both sides to the same value is no conflict; to
 * different values, a conflict on that field. `content` changed on both
 * sides goes through es_merge3(base, file, db) first: a clean merge is the
 * merged body on both sides, no conflict; overlapping edits (or a merge
 * error) are a conflict on content. `extra` is one field: any two different
 * changes to it are a conflict. Conflicting fields take the policy's side;
 * the loser's whole version is kept, never dropped (SPEC 4.2):
 * KEEP_FILE_VERSION (the file lost; the applier copies its current bytes
 * under .execsync/conflicts/) or KEEP_DOC_VERSION (the document lost; the
 * applier stores it in sync_conflicts), then a REPORT naming the fields. The
 * result goes to both sides: DOC_UPDATE of the fields the document lacks,
 * FILE_MOVE/FILE_WRITE for what the file lacks, BASELINE_PUT of the result.
 *
 * Policy (config `conflict`, SPEC 4.2). ES_POLICY_NEWEST: the later write
 * wins, file_mtime_ms against db_updated_at; a tie goes to the database:
 * its copy is the one every other machine and app already sees, so keeping
 * it changes the least, and the file's version is kept on this machine where
 * its author is. ES_POLICY_FILE / ES_POLICY_DATABASE: that side wins.
 * --force is ES_POLICY_FILE ("the file side wins everywhere", SPEC 4.17):
 * it decides every conflict and identity match for the file; it deletes
 * nothing beyond the ordinary table (a document with no file and no baseline
 * still gets its file; deletes still need a baseline that proves one).
 *
 * Versions (SPEC 4.12). Every document write carries expect_updated_at =
 * db_updated_at, the version the plan was made against: the applier
 * compare-and-swaps on it and re-plans on a lost race. The value it writes
 * has meta.updated_at = max(now_ms, db_updated_at + 1), so a version never
 * repeats or goes back even when the database's clock is ahead of ours.
 *
 * Op order. One entity's ops come in the order they must be applied:
 * KEEP_* (save the loser before anything overwrites it), REPORT, document
 * ops, FILE_MOVE, FILE_WRITE, FILE_TRASH, BASELINE_*. When one fails, the
 * applier skips the rest of that entity's ops: the baseline is then still
 * the old one and the next pass decides again.
 */
#ifndef EXECSYNC_PLAN_H
#define EXECSYNC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/policy.h"

struct es_slug_claims;		/* rules.h */

/* Every meaning field of a project or goal (enum es_field). */
#define ES_PLAN_F_ALL	(ES_F_TITLE | ES_F_SLUG | ES_F_AREA | \
	ES_F_FOLDER | ES_F_TYPE | ES_F_CREATED | ES_F_STARTED | \
	ES_F_LAST_REVIEWED | ES_F_DUE | ES_F_COMPLETED | ES_F_DESCOPED | \
	ES_F_CONTENT | ES_F_EXTRA)

/*
 * One project or goal, three versions. Every pointer is borrowed for the
 * call; entities keep entity.h's invariants (content and extra never
 * NULL). Their meta is ignored except db->meta (id, deleted, created_at:
 * copied into the document ops) and base->meta.id (the baseline row's
 * document id, for BASELINE_FORGET).
 *
 *	base		NULL: no baseline row (first pass, --resync, new
 *			on both sides)
 *	base_rel	where the file was at the last sync
 *	file		NULL: no file (never existed, or deleted)
 *	file_broken	the file exists but does not parse
 *	db		NULL: no document (never existed, or vanished);
 *			db->meta.deleted: soft-deleted
 *	db_updated_at	the document's version as read (SPEC 4.12)
 *	db_broken	the document exists but does not decode
 *	slugs		NULL, or the slugs the collection holds and this
 *			pass took (rules.h): a write of a slug another
 *			document holds takes the first free slug-N instead,
 *			and the file is renamed to it (SPEC §2, 4.4)
 *	slug_owner	this entity, for slugs
 */
struct es_plan_input {
	enum es_kind		 kind;	/* PROJECT or GOAL */
	const struct es_entity	*base;
	const char		*base_rel;
	int64_t			 base_doc_updated_at;
	const struct es_entity	*file;
	const char		*file_rel;
	int64_t			 file_mtime_ms;
	bool			 file_broken;
	const struct es_entity	*db;
	int64_t			 db_updated_at;
	bool			 db_broken;
	struct es_slug_claims	*slugs;
	size_t			 slug_owner;
};

/*
 * Operations. `value` is the entity's meaning after the op:
 *
 *	DOC_INSERT	a new document (value->meta.has_id false: the
 *			engine gives it its deterministic id, docid.h, before
 *			the plan is printed or applied; a slug clash with a
 *			document the pass did not read is found by the
 *			server: the applier then picks the unique slug, SPEC
 *			§2, renaming the file to match, and the op holds the
 *			id and path it really wrote)
 *	DOC_UPDATE	$set of `fields` from value, compare-and-swap on
 *			expect_updated_at
 *	DOC_DELETE	soft delete: value->meta.deleted, deleted_at = now;
 *			fields = ES_DOC_F_DELETED (doc.h)
 *	DOC_UNDELETE	deleted: false plus $set of `fields`
 *			(ES_DOC_F_DELETED | the changed fields)
 *	FILE_WRITE	write value at rel; fields: the keys to change by
 *			minimal edit (SPEC §2), or ES_PLAN_F_ALL for a new
 *			file, rendered whole
 *	FILE_MOVE	rename rel_from to rel, bytes unchanged; fields: the
 *			path fields that moved it
 *	FILE_TRASH	move rel to .execsync/trash/<rel> (SPEC 4.5)
 *	KEEP_FILE_VERSION  the file at rel lost a conflict: keep its
 *			current bytes under .execsync/conflicts/ (value: their
 *			meaning) before anything overwrites them
 *	KEEP_DOC_VERSION   the document lost: keep value (meta included)
 *			in the sync_conflicts collection
 *	BASELINE_PUT	record value as synced, its file at rel;
 *			value->meta.updated_at is the document version after
 *			the pass (the applier puts what it really wrote; after
 *			a DOC_INSERT it fills in the id it chose)
 *	BASELINE_FORGET	drop the row of value->meta.id
 *	REPORT		tell people (log, /status): reason; value NULL
 */
enum es_op_kind {
	ES_OP_DOC_INSERT,
	ES_OP_DOC_UPDATE,
	ES_OP_DOC_DELETE,
	ES_OP_DOC_UNDELETE,
	ES_OP_FILE_WRITE,
	ES_OP_FILE_MOVE,
	ES_OP_FILE_TRASH,
	ES_OP_KEEP_FILE_VERSION,
	ES_OP_KEEP_DOC_VERSION,
	ES_OP_BASELINE_PUT,
	ES_OP_BASELINE_FORGET,
	ES_OP_REPORT,
};

enum es_direction {
	ES_DIR_NONE,		/* baseline, keep and report ops */
	ES_DIR_TO_DB,		/* file -> database */
	ES_DIR_TO_FILE,		/* database -> file */
};

/*
 * One operation; everything in it is owned by the plan.
 *	rel		file ops: the target (MOVE: the destination); other
 *			ops: the entity's file, or NULL
 *	rel_from	MOVE: the source; else NULL
 *	fields		es_field bits, as described above
 *	value		NULL only for REPORT
 *	expect_updated_at  DOC_UPDATE, DOC_DELETE, DOC_UNDELETE: the version
 *			the write must find (SPEC 4.12)
 *	action		kind ACTION (plan-action.h, es_plan_action_ops()):
 *			the action after the op, its meta.id the document's
 *			_id (meta.has_id false: an insert whose id is picked
 *			when applied); value is then NULL. rel is the list
 *			file, rel_from a MOVE's old list.
 *	reason		one line for people ("file changed: due")
 */
struct es_op {
	enum es_op_kind		 op;
	enum es_direction	 dir;
	enum es_kind		 kind;
	char			*rel;
	char			*rel_from;
	unsigned		 fields;
	struct es_entity	*value;
	struct es_action	*action;
	int64_t			 expect_updated_at;
	char			 reason[160];
};

/* A growing list of ops; ES_PLAN_INIT or es_plan_init() before use. */
struct es_plan {
	struct es_op	*ops;
	size_t		 n, alloc;
};

#define ES_PLAN_INIT { NULL, 0, 0 }

void	es_plan_init(struct es_plan *p);
/* Frees every op and leaves p empty and initialised; accepts a released p. */
void	es_plan_release(struct es_plan *p);

/*
 * Decide one entity (SPEC §6) and append its ops to plan. now_ms is the
 * wall clock of the pass (document versions, deleted_at).
 *
 * Returns 0 (possibly with no op: nothing to do), or -1 with err filled and
 * plan unchanged when the entity must be skipped and reported: a value from
 * the database that cannot become a path (ES_EUNSAFE, "unsafe slug
 * '../../x'", "unsafe area '/etc'": SPEC 4.11), a folder the kind cannot
 * have (ES_EPARSE, "bad folder 'completed' for goal 'x'"), or a kind other
 * than project or goal (ES_EPARSE). err->path is "<collection>/<hex id>"
 * ("<collection>/?" without an id).
 */
int	es_plan_entity(const struct es_plan_input *in, enum es_policy policy,
	    int64_t now_ms, struct es_plan *plan, struct es_error *err);

/*
 * For the mass-deletion guard (SPEC 4.15, the caller's): the DOC_DELETE and
 * FILE_TRASH ops of kind k in p. Either pointer may be NULL.
 */
void	es_plan_count(const struct es_plan *p, enum es_kind k,
	    size_t *deletes, size_t *trashes);

/*
 * One line (no newline) for --dry-run and the log (SPEC 4.9), appended to
 * out: direction, operation, entity, path, document id, reason:
 *	file->db update project 10k-projects/active/learning/learn-rust.md
 *	    id 65f0c0ffee0000000000beef fields due: file changed: due
 *	db->file move project 10k-projects/completed/x/a.md from
 *	    10k-projects/active/x/a.md: database changed: folder, completed
 * Control characters and backslashes in paths are written as \xNN, so
 * data cannot forge a line.
 */
void	es_op_describe(const struct es_op *op, struct es_buf *out);

/*
 * The same as a JSON object (--json): {"op", "direction", "kind", "path",
 * "from", "id", "fields": [names], "expect_updated_at", "reason"}; "id" is
 * always there (the document's _id, or "" when the op has none: a report,
 * an insert whose id is only picked when applied), "from" only for a move,
 * other keys without a value are left out. Nothing in it depends on the
 * pass's clock, so a dry run and the real run of one state print the same
 * objects (SPEC 4.9). A new reference; the caller json_decref()s it.
 * es_plan_json() is the array of every op.
 */
json_t	*es_op_json(const struct es_op *op);
json_t	*es_plan_json(const struct es_plan *p);

/* Whether an op only keeps the baseline (baseline, forget): shown in a
 * dry run with --verbose only. */
bool	es_op_is_bookkeeping(enum es_op_kind k);

/*
 * What a plan would do, counted as a pass counts what it applied: ops by
 * kind into applied (ES_OP_REPORT + 1 counters, added to), and the ops
 * with a direction into *to_db and *to_file. For a dry run's counts.
 */
void	es_plan_tally(const struct es_plan *p, size_t *applied,
	    size_t *to_db, size_t *to_file);

/*
 * The short summary that ends a dry run (as rclone's stats do): one line
 * per direction and operation with its count per entity kind, then the
 * bookkeeping ops in one line, appended to out:
 *	would change: 10 operations
 *	  file->db insert   2 projects, 5 actions
 *	  db->file write    1 goal
 *	  bookkeeping       2 (shown with --verbose)
 * Nothing when there is nothing to show: an empty plan, or (without
 * verbose) one of bookkeeping only, so a settled folder's dry run prints
 * nothing at all.
 */
void	es_plan_summary(const struct es_plan *p, bool verbose,
	    struct es_buf *out);

/* Stable names for logs and JSON: "insert", "update", ..., "file->db". */
const char *es_op_kind_name(enum es_op_kind k);
const char *es_direction_name(enum es_direction d);
/* Field names joined by ", " ("title, due"), appended to out. */
void	es_plan_fields_format(unsigned fields, struct es_buf *out);

#endif
