/*
 * Lib-internal: what the files of the one-shot pass share (engine.h is its
 * public face). One pass (pass.c) runs two peers behind the same verbs:
 *
 *	peer-entities*.c	projects and goals: one file, one document
 *	peer-actions*.c		actions: lines of the list files, one document
 *				each
 *
 *	new		borrow the pass
 *	gather		the baseline rows, the peer's part of the one scan,
 *			the documents (all of them when the pass reads in
 *			full, else the since-query of SPEC 4.1; with a quiet
 *			database only those the trigger names)
 *	pair		which file (line) is which document's
 *	plan		typed operations appended to r->plan (plan.h,
 *			plan-action.h): what --dry-run prints and the only
 *			thing apply executes (SPEC 4.9)
 *	apply		the plan's operations, inside the pass's baseline
 *			transaction
 *	commit		the peer's baseline rows and watermark
 *	free
 *
 * Not thread-safe; one pass at a time.
 */
#ifndef EXECSYNC_SYNC_PASS_H
#define EXECSYNC_SYNC_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/engine.h"
#include "execsync/action-list.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/layout.h"
#include "execsync/log.h"
#include "execsync/plan.h"
#include "execsync/rules.h"
#include "execsync/scan.h"
#include "execsync/store.h"
#include "execsync/tree.h"
#include "execsync/world.h"

#define SUB	"sync"

/* What the whole pass shares; every pointer borrowed. */
struct es__pass {
	const struct es_engine_opts	*o;
	const struct es_trigger		*t;
	const struct es_world_fs	*fs;	/* the world's three tables */
	const struct es_world_base	*base;
	const struct es_world_db	*db;
	int64_t				 now_ms;	/* its clock, read once */
	struct es_engine_result		*r;
	bool				 ignore_base;	/* resync or other identity */
	struct es_read_mode		 read;		/* full or since, SPEC 4.1 */
	bool				 full_next;	/* the next pass reads all */
	char				**unread;	/* scan's skipped, sorted */
	size_t				 nunread;
	/*
	 * The baseline holds the intents of a pass that died before its
	 * commit, or this pass wrote its own: the commit clears them.
	 */
	bool				 intents_pending;
};

/* ---- pass.c: helpers both peers use ---- */

/* Records e in r->errors and logs it (WARN); the caller counts failed. */
void	es__add_error(struct es__pass *p, const struct es_error *e);
/* The same, and one more item failed (r->failed). */
void	es__add_failure(struct es__pass *p, const struct es_error *e);
/* A compare-and-swap write of a document: UPDATE, DELETE, UNDELETE. */
bool	es__is_cas_op(const struct es_op *op);
/* Stat data equal, ctime included (a baseline file row's test). */
bool	es__same_stat(const struct es_stat *a, const struct es_stat *b);
/* As es_fsio_write()'s expect: ctime left out (a chmod is no edit). */
bool	es__same_content_stat(const struct es_stat *a,
	    const struct es_stat *b);
/* max_file_size, its default when 0. */
size_t	es__max_size(const struct es__pass *p);
/* A baseline meta integer; *v = -1 when absent or not a number. */
int	es__meta_int(struct es__pass *p, const char *key, int64_t *v,
	    struct es_error *err);
int	es__set_meta_int(struct es__pass *p, const char *key, int64_t v,
	    struct es_error *err);
/*
 * Binary search of key in the index idx[0..n), sorted by cmp(key, i, ud)
 * (i an element of idx, negative when key sorts before it): the element
 * found, or -1. The one search of the pass's id and path indexes.
 */
ssize_t	es__find_idx(const size_t *idx, size_t n, const void *key,
	    int (*cmp)(const void *key, size_t i, const void *ud),
	    const void *ud);
/*
 * Whether the scan could not take rel or a folder above it (unreadable,
 * a symbolic link): what the baseline has there is left alone, never
 * taken for deleted (es_path_below_any(), rules.h, SPEC 4.10).
 */
bool	es__unreadable(const struct es__pass *p, const char *rel);

/*
 * The watermark of a collection (meta "watermark.<collection>", -1 when
 * none); set: es_watermark_next() of the newest updated_at seen (rules.h,
 * SPEC 4.1).
 */
int	es__get_watermark(struct es__pass *p, enum es_kind k, int64_t *wm,
	    struct es_error *err);
int	es__set_watermark(struct es__pass *p, enum es_kind k, int64_t maxseen,
	    struct es_error *err);

/*
 * Whether the trigger asks for rel to be read even when its stat data
 * equal the baseline's (ES_TRIGGER_FULL, or rel among ES_TRIGGER_PATHS).
 */
bool	es__must_read(const struct es__pass *p, const char *rel);
/*
 * The documents of kind an ES_TRIGGER_CHANGES trigger names, sorted by _id,
 * one per _id (its last change); *n of them, NULL when none. What a
 * peer's since-read adds, and all a quiet one reads (world.h).
 */
struct es__named {
	bson_oid_t	 id;
	const bson_t	*doc;		/* the source's copy, or NULL */
	bool		 deleted;
	size_t		 order;		/* in the trigger */
	bool		 seen;		/* returned by the collection read */
	bool		 found;		/* read by _id, or the source's copy */
	bool		 vanished;	/* deleted, or not there when read */
};

struct es__named *es__changes_of(const struct es__pass *p, enum es_kind kind,
	    size_t *n);
/* id was returned by the collection read: not read again. */
void	es__changes_seen(struct es__named *v, size_t n, const bson_oid_t *id);
/*
 * The named documents the collection read did not return, to cb: the
 * source's copy when it has one (this user's only), else read by _id (one
 * find_one for a lone _id, one find_ids for several). A deleted change,
 * or a document read by _id that is not there, is marked vanished: the
 * peer takes it as hard-deleted (SPEC 4.5), as a full read would.
 */
int	es__changes_read(struct es__pass *p, enum es_kind kind,
	    struct es__named *v, size_t n, es_store_doc_cb cb, void *ud,
	    struct es_error *err);

/* ---- peer-entities*.c: projects and goals ---- */

struct es__ents;

struct es__ents *es__ents_new(struct es__pass *p);
int	es__ents_gather_baseline(struct es__ents *g, struct es_error *err);
/* One project or goal file of the scan (its rel taken over). */
int	es__ents_add_file(struct es__ents *g, struct es_scan_entry *se,
	    struct es_error *err);
int	es__ents_gather_docs(struct es__ents *g, struct es_error *err);
void	es__ents_pair(struct es__ents *g);
void	es__ents_plan(struct es__ents *g);
/* Baseline rows of kind k, for the deletion guard's total. */
size_t	es__ents_total(const struct es__ents *g, enum es_kind k);
int	es__ents_apply(struct es__ents *g, struct es_error *err);
int	es__ents_commit(struct es__ents *g, struct es_error *err);
void	es__ents_free(struct es__ents *g);	/* accepts NULL */

/*
 * The entity peer's state, shared by its files (peer-entities.c: gather
 * and plan; -pair.c: pairing; -docs.c: document writes; -apply.c:
 * applying and commit).
 */

/* A scanned project or goal file. */
struct fent {
	struct es_tree_file	 tf;	/* rel, info, st, raw_fp, status, entity */
	bool			 broken;
	bool			 paired;
};

/* One entity: up to three versions, then what applying did. */
struct ent {
	enum es_kind		 kind;
	bool			 has_base;
	struct es_entity	 base;
	char			*base_rel;
	int64_t			 base_ua;
	bool			 base_file;	/* a file row at base_rel */
	struct es_stat		 base_st;
	ssize_t			 file;		/* index into files, or -1 */
	bool			 has_db, db_broken, db_seen;
	struct es_entity	 db;
	int64_t			 db_ua;
	size_t			 op_first, op_n;
	/* apply state */
	char			*cur_rel;	/* where the file is now */
	bool			 wrote;
	struct es_stat		 new_st;
	es_fp_t			 new_raw;
	bool			 doc_written;
	int64_t			 doc_ua;
	bool			 inserted;
	bson_oid_t		 new_id;
};

/*
 * A file a pass was about to write or move for a document (meta
 * "intents", written and committed before the pass applies anything):
 * should the pass die before its baseline commit, the next pass knows
 * whose file rel is (es__ents_pair).
 */
struct es__intent {
	bson_oid_t	 id;
	enum es_kind	 kind;
	char		*rel;
};

struct es__ents {
	struct es__pass			*p;
	struct fent			*files;
	size_t				 nfiles, afiles;
	struct ent			*ents;
	size_t				 nents, aents;
	size_t				*by_id;		/* ents with a base, by id */
	size_t				*by_rel;	/* the same, by base_rel */
	size_t				 nby_id;
	struct es__intent		*intents;
	size_t				 nintents;
	bool				 full;		/* this peer read in full */
	int64_t				 maxseen[2];
	/* Results of the batched compare-and-swap writes, by index into
	 * r->plan.ops: 0 not batched, CAS_DONE, CAS_LOST or CAS_UNKNOWN
	 * (no answer; cas_err says why). */
	unsigned char			*cas_pre;
	struct es_error			 cas_err;
	struct es_buf			 buf;
	struct es_tree			 errs;		/* parse errors */
	/* The slugs documents hold and this pass's writes took (SPEC
	 * §2), by entity index: filled before planning. */
	struct es_slug_claims		 slugs;
};

enum { APPLY_OK = 0, APPLY_FAIL = -1, APPLY_LOST = -2 };

/* peer-entities.c */
struct ent *es__eng_ent_new(struct es__ents *g, enum es_kind kind);
void	es__eng_plan_one(struct es__ents *g, struct ent *e,
	    struct es_plan *plan);

/* peer-entities-pair.c: which file is which entity's (SPEC 4.6, 4.10,
 * 4.17). */
void	es__eng_mark_shared_slugs(struct es__ents *g);
void	es__eng_pair_all(struct es__ents *g);

/* peer-entities-docs.c: the document writes. */
void	es__eng_batch_inserts(struct es__ents *g, enum es_kind kind);
void	es__eng_batch_cas(struct es__ents *g, enum es_kind kind);
int	es__eng_apply_insert(struct es__ents *g, struct ent *e,
	    struct es_op *op, struct es_error *err);
int	es__eng_apply_doc_update(struct es__ents *g, struct ent *e,
	    struct es_op *op, struct es_error *err);

/* ---- peer-actions*.c: the action lists ---- */

struct es__acts;

struct es__acts *es__acts_new(struct es__pass *p);
/* One action list of the scan (rel copied). */
void	es__acts_add_list(struct es__acts *a, const char *rel,
	    const struct es_path_info *info, const struct es_stat *st);
/*
 * The baseline's action rows, the lists to read (changed on disk or
 * touched by the database) and the documents. -1 with err when the pass
 * cannot go on (baseline or database errors).
 */
int	es__acts_gather(struct es__acts *a, struct es_error *err);
/* Lines to documents: the line matcher, then ids and identity. */
void	es__acts_pair(struct es__acts *a);
void	es__acts_plan(struct es__acts *a);
size_t	es__acts_total(const struct es__acts *a);
int	es__acts_apply(struct es__acts *a, struct es_error *err);
int	es__acts_commit(struct es__acts *a, struct es_error *err);
void	es__acts_free(struct es__acts *a);	/* accepts NULL */

/*
 * The actions peer's state, shared by its files (peer-actions.c: gather,
 * pair, plan; peer-actions-apply.c: apply and commit).
 */
#define NOIDX			((size_t)-1)
#define GONE			((size_t)-2)	/* a line removed by apply */

/* One list file. */
struct alist {
	char			*rel;
	struct es_path_info	 info;
	bool			 on_disk;	/* seen by the scan */
	struct es_stat		 st;		/* scan's stat */
	bool			 stat_same;	/* equals the file row */
	struct es_action_list	*l;		/* loaded, or NULL */
	bool			 exists;	/* was read from disk */
	struct es_stat		 read_st;
	es_fp_t			 read_fp;	/* of the bytes read */
	size_t			*owner;		/* act per action line */
	size_t			 nowner;
	size_t			 ngone;		/* lines marked GONE */
	bool			 lost;		/* a line left it this pass */
	bool			 gained;	/* a line came or changed */
	bool			 dirty, failed, broken;
};

/*
 * The actions' id index: ids beside their index, so a binary search reads
 * one small array instead of a large struct a step (a cache miss each).
 */
struct es__act_id {
	bson_oid_t		 id;
	size_t			 i;
};

/* One action: up to three versions. */
struct act {
	bool			 has_base;
	bson_oid_t		 id;
	struct es_action	 base;
	bool			 base_lazy;	/* base not read yet */
	char			*base_rel;
	uint32_t		 base_pos;
	char			*base_line;
	size_t			 base_line_len;
	int64_t			 base_ua;
	bool			 has_db, db_seen, db_broken;
	bool			 db_as_base;	/* db: the base's version */
	struct es_action	 db;		/* made from the base */
	int64_t			 db_ua;
	bool			 has_file;
	struct es_action	 file;
	size_t			 list;		/* its line's list */
	size_t			 pos;		/* and its position there */
	bool			 decided, failed;
	size_t			 op_first, op_n;	/* in r->plan */
	bool			 doc_written;
	int64_t			 doc_ua;
};

struct es__acts {
	struct es__pass			*p;
	bool				 full;		/* this peer read in full */
	struct alist			*lists;
	size_t				 nlists, alists;
	struct act			*acts;
	size_t				 nacts, aacts;
	size_t				 nbase;
	struct es__act_id		*by_id;	/* sorted by id */
	size_t				 nby_id;
	size_t				 last_list;	/* list_find()'s */
	int64_t				 maxseen;
	struct es__named		*named;	/* the trigger's documents */
	size_t				 nnamed;
	struct es_buf			 buf;
	struct es_buf			 trash, kept;	/* lines to append */
};

/* peer-actions.c */
int	es__acts_list_load(struct es__acts *a, size_t li);
/* The list at rel, known to the pass (a list not there yet too), or -1. */
ssize_t	es__acts_list_get(struct es__acts *a, const char *rel);
/* The list of t's line, else the baseline's. */
const char *es__acts_cur_rel(const struct es__acts *a, const struct act *t);

#endif
