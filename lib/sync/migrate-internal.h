/*
 * Lib-internal: what the files of the one-time import share (see
 * migrate.h). migrate.c runs it: the folder, then build (migrate-build.c:
 * slugs, deterministic _ids, the documents), recognise (migrate-
 * recognise.c: what the database holds already), insert (migrate-
 * insert.c: unordered bulk inserts, the tally), with the baseline written
 * meanwhile by a thread of its own (migrate-baseline.c). Not thread-safe
 * beyond what migrate-baseline.c says of its thread.
 */
#ifndef EXECSYNC_MIGRATE_INTERNAL_H
#define EXECSYNC_MIGRATE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/baseline.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/lock.h"
#include "execsync/migrate.h"
#include "execsync/store.h"
#include "execsync/tree.h"

#define NKINDS			3

/* What the database holds for an entity (recognise, then insert). */
enum match {
	M_NONE,		/* no document with its _id or identity */
	M_EQUAL,	/* a live document meaning the same */
	M_DIFFERS,	/* a document that differs, is deleted, or is bad */
};

struct item {
	size_t		 file;		/* index into the tree's files */
	uint32_t	 pos;		/* actions: index among action lines */
	unsigned	 line;		/* actions: file line; else 0 */
	const char	*slug;		/* projects, goals: the entity's */
	bson_oid_t	 id;
	es_fp_t		 fp;		/* meaning, meta excluded */
	bson_t		*doc;		/* what is inserted */
	enum match	 match;
	bson_oid_t	 db_id;		/* the document it matched */
	int64_t		 db_created_at, db_updated_at;
	bson_t		*cand;		/* a document: our slug, other _id */
};

struct kindset {
	struct item	*items;
	size_t		 n;
	const bson_t	**docs;		/* the documents to send */
	size_t		*send;		/* their items */
	size_t		 nsend;
	/* Per item: 1 present (es__mig_recognise()), then
	 * es_store_insert_many()'s for those sent: 0 inserted, 1 duplicate,
	 * -1 refused, -2 not sent. */
	int		*status;
	size_t		*by_id;		/* item indices sorted by _id */
	size_t		*by_slug;	/* projects, goals: sorted by slug */
	size_t		 load_failed;	/* bad files and lines of this kind */
};

struct mig;

struct bl {
	struct mig	*m;
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 active;	/* started, not finished */
	bool		 threaded;
	bool		 decided;	/* under mu: the outcome is known */
	bool		 commit;
	int		 rc;
	struct es_error	 err;
	bool		 synced;	/* entity rows appeared meanwhile */
	size_t		 entities, files;
};

struct mig {
	const struct es_migrate_opts	*o;
	struct es_migrate_result	*r;
	int				 root;
	struct es_tree			 t;
	bool				 loaded;
	bool				*file_ok;	/* may get a file row */
	struct kindset			 k[NKINDS];
	struct es_store			*store;
	struct es_lock			*lock;	/* the root's (lock.h) */
	int64_t				 now;
	size_t				 docs_total, docs_done;
	struct bl			 bl;	/* the baseline writer */
};

/* Projects, goals, actions: m->k[] is indexed by enum es_kind. */
extern const enum es_kind es__mig_kinds[NKINDS];

/* migrate.c */
void	es__mig_add_problem(struct es_migrate_result *r,
	    const struct es_error *e);
void	es__mig_progress(struct mig *m, enum es_migrate_phase phase,
	    size_t files_done);

/* migrate-build.c: slugs, ids and the documents of every entity. */
void	es__mig_set_meta(struct es_meta *meta, const bson_oid_t *id,
	    int64_t now);
void	es__mig_build(struct mig *m);

/* migrate-recognise.c: what the database holds of the folder. */
int	es__mig_recognise(struct mig *m, struct es_error *err);

/* migrate-insert.c: the server, the inserts, the tally. */
int	es__mig_connect(struct mig *m, struct es_error *err);
int	es__mig_insert_all(struct mig *m, struct es_error *err);
void	es__mig_tally(struct mig *m);

/* migrate-baseline.c: the baseline, checked first, written meanwhile. */
int	es__mig_check_baseline(struct mig *m, struct es_error *err);
void	es__mig_bl_start(struct mig *m);
int	es__mig_bl_finish(struct mig *m, bool commit, struct es_error *err);

#endif
