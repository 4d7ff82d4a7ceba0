/*
 * Lib-internal: what the files of the projects-and-goals pass share
 * (engine.c: gather and plan; engine-pair.c: pairing; engine-apply.c:
 * applying). Not thread-safe; one pass at a time.
 */
#ifndef EXECSYNC_ENGINE_INTERNAL_H
#define EXECSYNC_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "execsync/buf.h"
#include "execsync/engine.h"
#include "execsync/entity.h"
#include "execsync/plan.h"
#include "execsync/scan.h"
#include "execsync/tree.h"

#define SUB	"sync"

/* A scanned project or goal file. */
struct fent {
	struct es_tree_file	 tf;	/* rel, info, st, raw_fp, status, entity */
	bool			 broken;
	bool			 paired;
};

/* One entity: up to three versions, then what applying did. */
#define ES_ENGINE_READ_BATCH	10000

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

struct eng {
	const struct es_engine_opts	*o;
	struct es_store			*store;
	struct es_baseline		*b;
	struct es_engine_result		*r;
	struct fent			*files;
	size_t				 nfiles;
	struct ent			*ents;
	size_t				 nents, aents;
	size_t				*by_id;		/* ents with a base, by id */
	size_t				*by_rel;	/* the same, by base_rel */
	size_t				 nby_id;
	bool				 ignore_base;	/* resync or other identity */
	bool				 full;
	bool				 force_full_next;
	int64_t				 maxseen[2];
	/* Results of the batched compare-and-swap writes, by index into
	 * r->plan.ops: 0 not batched, CAS_DONE, CAS_LOST or CAS_UNKNOWN
	 * (no answer; cas_err says why). */
	unsigned char			*cas_pre;
	struct es_error			 cas_err;
	struct es_buf			 buf;
	struct es_tree			 errs;		/* parse errors */
	struct es__acts			*acts;		/* the actions part */
	char				**unread;	/* scan's skipped, sorted */
	size_t				 nunread;
};

enum { APPLY_OK = 0, APPLY_FAIL = -1, APPLY_LOST = -2 };

/* engine.c */
void	es__eng_add_error(struct es_engine_result *r, const struct es_error *e,
	    enum es_log_level l);
struct ent *es__eng_ent_new(struct eng *g, enum es_kind kind);
bool	es__eng_same_content_stat(const struct es_stat *a,
	    const struct es_stat *b);
void	es__eng_plan_one(struct eng *g, struct ent *e, struct es_plan *plan);

/* engine-pair.c: which file is which entity's (SPEC 4.6, 4.10, 4.17). */
void	es__eng_mark_shared_slugs(struct eng *g);
void	es__eng_pair_all(struct eng *g);

/* engine-docs.c: the document writes. */
void	es__eng_batch_inserts(struct eng *g, enum es_kind kind);
void	es__eng_batch_cas(struct eng *g, enum es_kind kind);
int	es__eng_apply_insert(struct eng *g, struct ent *e, struct es_op *op,
	    struct es_error *err);
int	es__eng_apply_doc_update(struct eng *g, struct ent *e,
	    struct es_op *op, struct es_error *err);

/* engine-apply.c: documents, files, then the baseline in one go. */
int	es__eng_apply_all(struct eng *g, struct es_error *err);

#endif
