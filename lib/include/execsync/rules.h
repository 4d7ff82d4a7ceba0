/*
 * The rules of SPEC §4 a pass decides on the side, each a pure function
 * (no I/O, no clock: "now" is a parameter), table-tested in
 * tests/unit/test-rules-*.c under case names that cite the rule:
 *
 *	4.15	the mass-deletion guard			(guard.c)
 *	4.1	full read or since-query; the watermark	(readmode.c)
 *	4.12	the versions a document write sets and expects (versions.c)
 *	4.10	what a pass leaves alone		(alone.c)
 *	4.17	"is this duplicate document ours?"	(ours.c)
 *	4.10, 4.17 the slug identity of projects and goals (slug-ident.c)
 *
 * The pass (lib/sync/) gathers the facts and applies what these say.
 */
#ifndef EXECSYNC_RULES_H
#define EXECSYNC_RULES_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"
#include "execsync/fingerprint.h"

/* ---- SPEC 4.15: the mass-deletion guard (guard.c) ---- */

/* A collection smaller than this is never guarded. */
#define ES_GUARD_MIN_ENTITIES	10

/* One collection's share of a plan. */
struct es_guard_count {
	size_t	 deletes;	/* documents the plan soft-deletes */
	size_t	 trashes;	/* files (lines) it moves to the trash */
	size_t	 total;		/* the collection's entities in the baseline */
};

/*
 * Whether the plan deletes too much of one collection: deletes and
 * trashes together over max_delete percent of total, when the collection
 * has at least ES_GUARD_MIN_ENTITIES. max_delete 100 lets everything
 * through.
 */
bool	es_guard_trips(const struct es_guard_count *c, unsigned max_delete);

/* ---- SPEC 4.1: the read mode and the watermark (readmode.c) ---- */

/*
 * The since-query of a pass asks for documents with updated_at newer than
 * the collection's watermark minus ES_LOOKBACK_MS. After a pass the
 * watermark is the later of the newest updated_at seen and our clock (a
 * quiet database must not keep the last burst of changes inside the
 * window for ever), never past our clock plus ES_WATERMARK_AHEAD_MS (an
 * API clock far ahead must not push it into the future). So an API clock
 * that lags ours by less than the lookback is caught by the next pass;
 * anything older is caught by the next full read (every full_pass_s),
 * which also finds hard-deleted documents (SPEC 4.1: never trust one
 * clock).
 */
#define ES_LOOKBACK_MS		(10 * 60 * 1000)
#define ES_WATERMARK_AHEAD_MS	(5 * 60 * 1000)

/* The collections, as es_read_input.watermark_ms and es_read_mode.since. */
enum es_read_coll { ES_READ_PROJECTS, ES_READ_GOALS, ES_READ_ACTIONS,
	ES_READ_NCOLL };

struct es_read_input {
	bool		 base_empty;	/* the baseline has no entity row */
	bool		 ignore_base;	/* --resync, or another identity */
	bool		 force;		/* --force */
	bool		 full;		/* es_engine_opts.full */
	int64_t		 last_full_ms;	/* meta last_full_pass_ms; -1: none */
	unsigned	 full_pass_s;	/* 0: no periodic full read */
	int64_t		 now_ms;
	int64_t		 watermark_ms[ES_READ_NCOLL];	/* -1: none */
	bool		 quiet;		/* es_trigger.db_quiet, not FULL */
};

struct es_read_mode {
	bool		 full;		/* projects and goals: read all */
	bool		 full_actions;	/* actions: read all */
	/* What es_store_find() takes: -1 reads all, else the since value. */
	int64_t		 since[ES_READ_NCOLL];
	/*
	 * Quiet: no read of the collection at all (since[k] unused); only
	 * the documents the trigger names, by _id, and its watermark stays
	 * where it is.
	 */
	bool		 by_id[ES_READ_NCOLL];
};

/*
 * Full read or since-query, per collection. Projects and goals are read
 * whole on a first pass (no entity row at all), --resync or another
 * identity, --force, opts.full, with no full read on record or one older
 * than full_pass_s, or when either of their watermarks is missing;
 * actions whenever projects and goals are, or their own watermark is
 * missing.
 *
 * Quiet (a change source watches the database, es_trigger.db_quiet): the
 * periodic full read is not due (the daemon runs its own, ES_TRIGGER_FULL)
 * and a collection that is not read in full is not queried at all
 * (by_id): the source names what changed. A full read the pass needs for
 * its own sake (first pass, --resync, --force, opts.full, none on record
 * or asked for by the last pass, a watermark missing) still happens. A
 * by_id collection's watermark does not move: the pass saw only what it
 * was told, so a later since-query must still cover everything after the
 * last collection read (moving it to now would skip what the source
 * missed; SPEC 4.1).
 */
void	es_read_mode(const struct es_read_input *in, struct es_read_mode *out);

/* The since value for a watermark: watermark minus the lookback, >= 0. */
int64_t	es_read_since(int64_t watermark_ms);

/*
 * The watermark after a pass, from the newest updated_at seen (start it
 * at the watermark read, -1 when none) and now (see ES_LOOKBACK_MS).
 */
int64_t	es_watermark_next(int64_t maxseen_ms, int64_t now_ms);

/*
 * Whether a pass records last_full_pass_ms, and the value: now after a
 * full read; -1 ("none on record": the next pass reads all, whatever
 * full_pass_s) when the pass asks for a full read next (a slug clash a
 * since-query may have half seen).
 */
bool	es_read_last_full(bool full, bool full_next, int64_t now_ms,
	    int64_t *value);

/*
 * Whether a document a since-query did not return stands as the
 * baseline's version (unchanged). After a full read it does not: it is
 * gone (hard-deleted).
 */
bool	es_read_unseen_is_base(bool full, bool has_base, bool db_seen);

/* ---- SPEC 4.12: document versions (versions.c) ---- */

enum es_write_kind { ES_WRITE_INSERT, ES_WRITE_UPDATE, ES_WRITE_DELETE,
	ES_WRITE_UNDELETE };

/* What one document write sets and expects. */
struct es_write_version {
	bool		 cas;		/* a compare-and-swap on expect */
	int64_t		 expect;	/* the updated_at read */
	int64_t		 updated_at;	/* the version it sets */
	int64_t		 created_at;	/* inserts: now; else 0 (kept) */
	bool		 deleted;	/* the deleted flag it leaves */
	int64_t		 deleted_at;	/* now for a delete, else 0 */
};

/*
 * The version a document write sets: now, or one past the version read
 * when the database's clock runs ahead of ours, so a compare-and-swap on
 * it can never be fooled by a repeated value. read_ms 0: none read.
 */
int64_t	es_version_next(int64_t read_ms, int64_t now_ms);

/*
 * The versions of a write of this kind on a document read at read_ms:
 * an insert sets created_at = updated_at = now and is no CAS; the others
 * are a CAS on read_ms setting es_version_next(); a delete sets deleted
 * and deleted_at = now; an update or undelete leaves it live.
 */
void	es_version_write(enum es_write_kind k, int64_t read_ms,
	    int64_t now_ms, struct es_write_version *out);

/*
 * The document version the baseline records after a pass: the one our
 * write set when it landed, else the one read.
 */
int64_t	es_version_baseline(bool written, int64_t written_ms,
	    int64_t read_ms);

/* ---- SPEC 4.10: what a pass leaves alone (alone.c) ---- */

/*
 * Whether rel is one of rels (sorted, as es_scan_result.skipped) or lies
 * below one of them: a path the scan could not take.
 */
bool	es_path_below_any(const char *rel, char *const *rels, size_t n);

/*
 * A project or goal of the baseline whose file the scan did not see:
 * true when its path lies below a path the scan could not take, so the
 * file is taken as unreadable (file_broken), never as deleted.
 */
bool	es_alone_entity_unread(bool has_file, bool has_base,
	    const char *base_rel, char *const *unread, size_t nunread);

/* An action list's state in a pass. */
enum es_list_state {
	ES_LIST_UNKNOWN,	/* not a list of the pass (gone, outside) */
	ES_LIST_NOT_READ,	/* unchanged, or could not be read */
	ES_LIST_READ,		/* read, every line parsed */
	ES_LIST_BROKEN,		/* read, a line did not parse */
};

/* What es_alone_action() looks at. */
struct es_alone_act {
	bool			 db_broken;	/* document does not decode */
	bool			 has_base, has_line;
	enum es_list_state	 base_list;	/* the baseline row's list */
	enum es_list_state	 line_list;	/* the line's list */
};

/*
 * Whether an action is left alone this pass (no decision, no op, its
 * baseline row kept): its document does not decode; or it has a base
 * row but no line and its list was not read (its lines are the
 * baseline's) or did not parse whole (a line that no longer parses is no
 * removed line).
 */
bool	es_alone_action(const struct es_alone_act *a);

/*
 * Whether a pass reads an action list whose stat data it has: always
 * without a baseline; a list not on disk (to be created) or whose stat
 * data changed. Lists the database touched are read too
 * (es_action_db_changed()).
 */
bool	es_action_list_must_read(bool ignore_base, bool on_disk,
	    bool stat_same);

/*
 * Whether the database changed an action since the baseline, so its
 * lists must be read: a new live document; a base row whose document is
 * gone after a full read; a deleted or changed one. base or db NULL: no
 * such version.
 */
bool	es_action_db_changed(const struct es_action *base,
	    const struct es_action *db, bool full);

/* ---- SPEC 4.17: "is this duplicate document ours?" (ours.c) ---- */

enum es_ours {
	ES_OURS_NO,		/* another user's, or does not decode */
	ES_OURS_SAME,		/* the user's, live, meaning want */
	ES_OURS_DIFFERS,	/* the user's, deleted or meaning otherwise */
};

/*
 * A document found under the _id (or identity) of an entity we would
 * write, meaning want (es_entity_fingerprint() or
 * es_action_fingerprint() of what we would write): SAME is ours already
 * there (a rerun, or a pass that died before its baseline commit), never
 * to insert again. meta, when not NULL, gets the document's for SAME and
 * DIFFERS (id, timestamps).
 */
enum es_ours es_ours_judge(const bson_t *doc, enum es_kind kind,
	    const char *user_id, es_fp_t want, struct es_meta *meta);

/*
 * SPEC 4.1, 4.12: the meaning of a document of kind as the pass compares
 * it (es_entity_fingerprint(), es_action_fingerprint(); soft-deleted or
 * not), in *fp; false when it does not decode. A compare-and-swap checks
 * it beside the version: an API whose clock went back can stamp its
 * write with the very version a pass expects (issue 17, seed 376645).
 */
bool	es_doc_meaning(const bson_t *doc, enum es_kind kind, es_fp_t *fp);

/* ---- SPEC 4.10, 4.17: slug identity of projects and goals ---- */

/* A document that may meet a file by (kind, slug). */
struct es_slug_cand {
	enum es_kind	 kind;
	const char	*slug;		/* borrowed */
	bool		 deleted;
	bool		 has_base;	/* es_slug_shared() only */
	size_t		 ref;		/* the caller's index */
};

struct es_slug_index {
	struct es_slug_cand	*v;
	size_t			 n, alloc;
};

#define ES_SLUG_INDEX_INIT	{ NULL, 0, 0 }

void	es_slug_index_add(struct es_slug_index *ix,
	    const struct es_slug_cand *c);
/* Sorts by kind, slug, then ref: once, after the adds. */
void	es_slug_index_sort(struct es_slug_index *ix);
/*
 * The document a file of kind and slug pairs with (SPEC 4.17): the first
 * live one not taken (taken(ref, ud); NULL: none is), else the first
 * soft-deleted one not taken. Its index in ix->v, or -1.
 */
ssize_t	es_slug_index_pair(const struct es_slug_index *ix, enum es_kind kind,
	    const char *slug, bool (*taken)(size_t ref, void *ud), void *ud);
/*
 * SPEC 4.10: live documents sharing (kind, slug) cannot all own the file
 * of that slug. For each entry of a sorted index of live documents,
 * alone[i] says whether it is left alone: every one of a group of two or
 * more, except the only one with a baseline row when exactly one has.
 * shared_by[i] (may be NULL) gets the group's size.
 */
void	es_slug_shared(const struct es_slug_index *ix, bool *alone,
	    size_t *shared_by);
void	es_slug_index_release(struct es_slug_index *ix);

/* ---- SPEC §2, 4.4: the slug a document write may take (slug-claims.c) ---- */

/*
 * The collection's unique index on (user_id, slug) counts live and
 * soft-deleted documents alike. A pass that writes a slug another
 * document holds (a new file named like another area's file, a file
 * renamed onto a trashed project's name) is refused by the server, so
 * the plan gives such a write the first free slug-2, slug-3, ... and
 * renames its file (SPEC §2), and a dry run shows exactly that (SPEC
 * 4.9). Only documents the pass read are known here; one it did not read
 * is found by the write's refusal at apply time, as before.
 *
 * Fill with _doc and _file, then _take in the order the pass writes.
 * Strings are copied. Cost: one hash lookup per call.
 */
struct es_slug_claims {
	struct es__slug_rec	*v;
	size_t			 n, alloc;
	struct es__slug_map	*map;
};

#define ES_SLUG_CLAIMS_INIT	{ NULL, 0, 0, NULL }

/* A document read, of kind, holding slug; owner: the caller's entity. */
void	es_slug_claims_doc(struct es_slug_claims *c, enum es_kind kind,
	    const char *slug, size_t owner);
/* A file of kind in the folder, named slug (a fresh slug avoids it). */
void	es_slug_claims_file(struct es_slug_claims *c, enum es_kind kind,
	    const char *slug);
/*
 * The slug owner's write of want may carry: want itself unless another
 * owner's document holds it or another owner took it before; else the
 * first slug-N that no document, no other owner's take and no file has.
 * What is returned is taken for owner: a pointer into c, valid until
 * es_slug_claims_release().
 */
const char *es_slug_claims_take(struct es_slug_claims *c, enum es_kind kind,
	    const char *want, size_t owner);
void	es_slug_claims_release(struct es_slug_claims *c);

#endif
