/*
 * The one-time import (issue 4, SPEC §1 `execsync-migrate`): every project,
 * goal and action of a folder (SPEC §2) into an empty, or partly filled,
 * database (SPEC §3), as a library function so the command and the
 * benchmark run the same code.
 *
 * What a run does:
 *  0. refuse a folder that is synced already (SPEC 4.18): its baseline
 *     (<source>/.execsync/baseline.sqlite) holds entity rows. With this
 *     database and user, execsyncd --once syncs its changes; with another
 *     (its meta "identity" differs: a typo in --user-id), execsyncd --once
 *     --resync adopts it on purpose. ES_ECONFIG, nothing read from the
 *     database, nothing written. A baseline with no entity rows (an import
 *     that died before its one commit) does not count;
 *  1. scan and parse the whole folder (tree.h); a bad file or line is a
 *     problem (`path:line: reason`) and is skipped, the rest goes on;
 *  2. give every entity its slug (the file's; a slug already taken in the
 *     collection by a file earlier in path order gets -2, -3, ...) and a
 *     deterministic _id (docid.h), so a run after a crash sends the same
 *     _ids;
 *  3. read what the database holds, one find per collection (every
 *     document of the user, deleted ones too), and recognise the entities
 *     already there: by _id (an earlier run that died half-way), else by
 *     identity (SPEC 4.17): a project's or goal's slug, an action's list
 *     and text (action-ident.h, as execsyncd --once pairs them without a
 *     baseline: the API's documents, lines edited since, a fresh clone).
 *     Those are "already present", compared by meaning, and never sent;
 *  4. create the indexes the sync needs (es_store_ensure_indexes());
 *  5. insert the others per collection, unordered, in batches:
 *     ceil(N / batch) round trips; a document the server accepted is what
 *     was sent;
 *  6. write the per-machine baseline in one transaction: an entity row for
 *     every entity whose document means what the file means, a file row
 *     (stat data, raw fingerprint) for every file whose entities all got
 *     one and which had no problem. A document that differs (the API
 *     changed it, or it is deleted) gets no row: the first sync pass
 *     resolves it (SPEC 4.17).
 * Round trips: at most ceil(N / batch) + 20 for N documents (a ping, the
 * reads: one per collection with entities, plus about N / 10000 for what
 * the database holds, five createIndexes, the inserts).
 *
 * --dry-run (opts.dry_run): steps 0 to 3; writes nothing, neither to the
 * database nor to the baseline.
 *
 * Blocks (files, network, SQLite): not for an event loop thread. While
 * the inserts run, a thread of its own writes the baseline (joined before
 * es_migrate_run() returns), so SQLite's work overlaps the network waits.
 */
#ifndef EXECSYNC_MIGRATE_H
#define EXECSYNC_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"
#include "execsync/error.h"

#define ES_MIGRATE_BATCH_DEFAULT	1000
/* MongoDB's maxWriteBatchSize: one insert command holds at most this. */
#define ES_MIGRATE_BATCH_MAX		100000
/* batchSize of the finds that read what the database holds. */
#define ES_MIGRATE_READ_BATCH		10000

enum es_migrate_phase {
	ES_MIGRATE_SCAN,	/* files_done of files_total read */
	ES_MIGRATE_WRITE,	/* docs_done of docs_total sent */
	ES_MIGRATE_READ,	/* docs_done documents read */
	ES_MIGRATE_BASELINE,	/* writing the baseline */
};

struct es_migrate_progress {
	enum es_migrate_phase	 phase;
	size_t			 files_done, files_total;
	size_t			 docs_done, docs_total;
};

struct es_migrate_opts {
	const char	*source;	/* absolute path of the root */
	const char	*uri;		/* mongodb:// or mongodb+srv:// */
	const char	*database;
	const char	*user_id;
	size_t		 batch_size;	/* 0: ES_MIGRATE_BATCH_DEFAULT */
	bool		 dry_run;
	const char *const *ignore;	/* NULL-terminated globs; may be NULL */
	size_t		 max_file_size;	/* 0: 8 MiB */
	unsigned	 timeout_ms;	/* store timeout; 0: 10000 */
	int64_t		 now_ms;	/* created_at, updated_at; 0: clock */
	/* Called after every file and every batch; may be NULL. */
	void		(*progress)(const struct es_migrate_progress *p,
			    void *ud);
	void		*progress_ud;
};

/*
 * Per kind. found = inserted + present + failed. Dry run: inserted means
 * "would be inserted". differs counts the present ones whose document
 * means something else, or is deleted: they get no baseline row.
 */
struct es_migrate_count {
	size_t	 found;
	size_t	 inserted;
	size_t	 present;
	size_t	 differs;
	size_t	 failed;
};

struct es_migrate_result {
	struct es_migrate_count	 count[3];	/* by enum es_kind */
	struct es_error		*problems;	/* path:line: reason */
	size_t			 nproblems;
	size_t			 files;		/* synced files read */
	size_t			 docs;		/* documents built */
	bool			 connected;	/* the server answered */
	size_t			 renamed;	/* slugs given -2, -3, ... */
	struct es_error		*notes;		/* one per renamed slug */
	size_t			 nnotes;
	uint64_t		 round_trips;
	size_t			 batch_size;	/* as used */
	bool			 dry_run;
	/* Baseline (not in a dry run). */
	bool			 baseline_written;
	size_t			 baseline_entities, baseline_files;
	char			*baseline_path;		/* malloc'd or NULL */
	/* Milliseconds per step, for people and benchmarks. */
	double			 load_ms, insert_ms, read_ms, baseline_ms;
	double			 total_ms;
};

/*
 * Runs the import. Returns 0 when it ran to the end (problems and failed
 * items are in *r: the caller's exit status 1), or -1 with err filled when
 * it could not (exit status 2):
 *	ES_ECONFIG	missing options, a source that is not an
 *			execution-system folder (none of 00k-next-actions,
 *			10k-projects, 30k-goals), a URI libmongoc refuses,
 *			a folder synced already (step 0: the message says
 *			with which identity and what to run instead)
 *	ES_EDB		the server cannot be reached, or the connection was
 *			lost mid-run: the documents not sent are counted
 *			failed and the message says that rerunning finishes
 *			the job
 *	ES_EIO		the folder or the baseline cannot be read or
 *			written
 * Either way *r (which need not be initialised) holds what was counted and
 * must be released with es_migrate_result_release(). The caller must have
 * called es_store_global_init(). Credentials never appear in err or r.
 */
int	es_migrate_run(const struct es_migrate_opts *o,
	    struct es_migrate_result *r, struct es_error *err);
void	es_migrate_result_release(struct es_migrate_result *r);

/* The sum of found (etc.) over the three kinds. */
struct es_migrate_count es_migrate_total(const struct es_migrate_result *r);

/*
 * The documents a run would insert, built exactly as es_migrate_run()
 * builds them (same slugs, _ids, fields, created_at = updated_at =
 * o->now_ms), without touching the database: for benchmarks that time the
 * bare inserts of the same documents. Only source, user_id, ignore,
 * max_file_size and now_ms of o are used. Returns 0 or -1 with err (the
 * folder cannot be read). Release with es_migrate_docs_release().
 */
struct es_migrate_docs {
	bson_t		**docs[3];	/* by enum es_kind */
	size_t		  n[3];
};
int	es_migrate_build_docs(const struct es_migrate_opts *o,
	    struct es_migrate_docs *d, struct es_error *err);
void	es_migrate_docs_release(struct es_migrate_docs *d);

/*
 * Who a baseline belongs to (its meta "identity"): the URI's scheme and
 * hosts (no user name, password or options), the database and the user:
 *	mongodb://127.0.0.1:27017/execution_system user_id=ana
 * A baseline recorded for another identity describes another database:
 * es_migrate_run() refuses to import into a folder whose baseline holds
 * entity rows, whichever identity it records. malloc'd.
 */
char	*es_migrate_identity(const char *uri, const char *database,
	    const char *user_id);

#endif
