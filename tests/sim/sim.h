/*
 * Deterministic simulation (issue 17): seeded two-sided histories with
 * faults, run against an in-memory world, checked by invariants, shrunk
 * and replayed from their seed; the twin runs the same histories against
 * a real folder and a real FerretDB.
 *
 * Three layers, each in its own files:
 *
 *	world	sim-fs.c sim-base.c sim-db.c sim-env.c
 *		the simulated folder(s) with their baseline stores, the
 *		simulated database, the clocks; es_world tables over them
 *		(world.h) and the env below over the whole
 *	history	sim-gen.c sim-run.c sim-oracle.c sim-check.c
 *		the generator (seed -> steps), the executor (steps -> calls
 *		on an env), the oracle (every write, where it went) and the
 *		invariants
 *	driver	sim-main.c sim-shrink.c sim-twin.c twin-env.c
 *		execsync-sim: budgets, jobs, shrinking, replay, the twin
 *
 * A history is a pure function of its seed: no threads inside one, no
 * sleeping, no system clock, no randomness but the seeded generator's.
 */
#ifndef EXECSYNC_SIM_H
#define EXECSYNC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/buf.h"
#include "execsync/engine.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/world.h"

/* ------------------------------------------------------------------ */
/* The environment a history runs in: the simulated one or the twin's.  */
/* ------------------------------------------------------------------ */

#define SIM_MACHINES_MAX	2	/* folders syncing one database */

/* How a user's editor saves a file (issue 17 item 1). */
enum sim_save {
	SIM_SAVE_IN_PLACE = 0,	/* open O_TRUNC, write */
	SIM_SAVE_RENAME_OVER,	/* write .name.swp-like temp, rename over */
	SIM_SAVE_VIM_BACKUP,	/* rename to name~, write new, unlink name~ */
	SIM_SAVE_DELETE_CREATE,	/* unlink, then create (may be a new inode) */
	SIM_SAVE_N
};

/* Faults only the simulated env can play (NULL in the twin's ops). */
struct sim_faults_ops {
	/* The database refuses every call (ES_EDB) while down. */
	void	(*db_down)(void *ctx, bool down);
	/*
	 * The next pass on machine m crashes at its n-th mutating call of
	 * the world (fs write, move, trash, conflict copy, append; db
	 * insert, update; base put, delete, commit), n >= 1: that call and
	 * every later one of the pass fail, the baseline transaction is
	 * rolled back, and a file write caught mid-way leaves what a crash
	 * leaves (a temporary file, or with a plant the half-written
	 * target). 0 cancels.
	 */
	void	(*crash_at)(void *ctx, int m, unsigned n);
	/* Whether the last pass crashed (then the executor "restarts"). */
	bool	(*crashed)(void *ctx, int m);
	/* Shift the workstation's (fs) or the database's clock by ms. */
	void	(*clock_jump)(void *ctx, bool db_side, int64_t ms);
	/*
	 * Within the next pass, the next compare-and-swap of a document
	 * races a concurrent API write: cb(ud, kind, id) runs (and writes
	 * through api_replace) just before an atomic CAS, or between the
	 * read and the update of the FerretDB form. cb NULL cancels.
	 */
	void	(*cas_race)(void *ctx, void (*cb)(void *ud, enum es_kind kind,
		    const bson_oid_t *id), void *ud);
	/* Atomic (MongoDB) or read-compare-update (FerretDB) CAS. */
	void	(*cas_ferretdb)(void *ctx, bool on);
};

/* A regular file anywhere under a machine's root, .execsync/ included. */
typedef int (*sim_file_cb)(const char *rel, const void *buf, size_t len,
    void *ud);
typedef int (*sim_doc_cb)(const bson_t *doc, void *ud);

/*
 * What a history does to a world. Every int-returning function returns 0
 * or -1 with err filled, unless it says otherwise. Paths are relative to
 * machine m's root.
 */
struct sim_env_ops {
	int	nmachines;
	/* The user's side of machine m: an editor, git, a shell. */
	int	(*write_file)(void *ctx, int m, const char *rel, const void *buf,
		    size_t len, enum sim_save how, struct es_error *err);
	/* 1 read, 0 absent. */
	int	(*read_file)(void *ctx, int m, const char *rel,
		    struct es_buf *out, struct es_error *err);
	int	(*remove_file)(void *ctx, int m, const char *rel,
		    struct es_error *err);
	int	(*rename_file)(void *ctx, int m, const char *from,
		    const char *to, struct es_error *err);
	/* Every regular file in rel order; cb non-zero stops. */
	int	(*each_file)(void *ctx, int m, sim_file_cb cb, void *ud,
		    struct es_error *err);
	/*
	 * The API (SPEC §3) writing the database directly: whole documents
	 * by _id, updated_at as the caller set it (from api_now_ms()).
	 */
	int	(*api_insert)(void *ctx, enum es_kind kind, const bson_t *doc,
		    struct es_error *err);
	int	(*api_replace)(void *ctx, enum es_kind kind, const bson_t *doc,
		    struct es_error *err);
	/* 1 found (out initialised), 0 absent. */
	int	(*api_get)(void *ctx, enum es_kind kind, const bson_oid_t *id,
		    bson_t *out, struct es_error *err);
	/* Every document of the user, deleted ones too, in _id order. */
	int	(*api_each)(void *ctx, enum es_kind kind, sim_doc_cb cb,
		    void *ud, struct es_error *err);
	/* Every document of sync_conflicts, in insertion order. */
	int	(*conflicts_each)(void *ctx, sim_doc_cb cb, void *ud,
		    struct es_error *err);
	/* The database's clock and the workstation's, ms since the epoch. */
	int64_t	(*db_now_ms)(void *ctx);
	int64_t	(*fs_now_ms)(void *ctx);
	/* Time passes (both clocks), ms >= 0. */
	void	(*advance)(void *ctx, int64_t ms);
	/*
	 * One pass on machine m (es_pass_run() in m's world; o->root,
	 * root_fd and user_id are the env's to fill). r initialised by the
	 * caller. Returns what es_pass_run() returns.
	 */
	int	(*pass)(void *ctx, int m, const struct es_engine_opts *o,
		    const struct es_trigger *t, struct es_engine_result *r,
		    struct es_error *err);
	/* Changes (change-source events) since the last call, for m. */
	int	(*changes)(void *ctx, int m, struct es_change **out, size_t *n,
		    struct es_error *err);
	/* Paths written since the last call on m (file events), sorted. */
	int	(*file_events)(void *ctx, int m, char ***paths, size_t *n,
		    struct es_error *err);
	/* Any path outside a root touched, or a synced file unlinked. */
	const char *(*violation)(void *ctx);
	const struct sim_faults_ops *faults;	/* NULL: none */
};

struct sim_env {
	const struct sim_env_ops	*ops;
	void				*ctx;
};

/* The simulated env (sim-env.c), user "u1"; free with sim_env_free(). */
struct sim_env_opts {
	int	 nmachines;	/* 1 or 2 */
	int64_t	 start_ms;	/* both clocks' start */
	bool	 cas_ferretdb;	/* FerretDB's CAS form */
};
int	sim_env_new(const struct sim_env_opts *o, struct sim_env *out,
	    struct es_error *err);
void	sim_env_free(struct sim_env *e);

#define SIM_USER	"u1"

/* ------------------------------------------------------------------ */
/* Histories.                                                          */
/* ------------------------------------------------------------------ */

/*
 * One step. Its arguments are random numbers interpreted against the
 * state when it runs (entity a % count, field b % nfields, ...), so any
 * subsequence of a history is a history: that is what shrinking needs.
 */
enum sim_op {
	/* the file side of machine m (step.m) */
	SIM_FILE_CREATE = 0,	/* project or goal file */
	SIM_FILE_EDIT_FIELD,
	SIM_FILE_EDIT_BODY,	/* a hunk: overlapping or not */
	SIM_FILE_MOVE,		/* folder or area */
	SIM_FILE_DELETE,
	SIM_ACTION_ADD,		/* a line, with notes around it */
	SIM_ACTION_EDIT,
	SIM_ACTION_MOVE,	/* to another list */
	SIM_ACTION_COMPLETE,
	SIM_ACTION_DELETE,
	SIM_GIT_CHECKOUT,	/* many files at once */
	/* the API (SPEC §3) */
	SIM_API_CREATE,
	SIM_API_EDIT_FIELD,
	SIM_API_EDIT_CONTENT,
	SIM_API_RETITLE,
	SIM_API_MOVE_PROJECT,	/* complete, descope, activate */
	SIM_API_DELETE_PROJECT,
	SIM_API_ACTION_CREATE,
	SIM_API_ACTION_EDIT,
	SIM_API_ACTION_COMPLETE,
	SIM_API_ACTION_DELETE,
	/* passes of machine m, as the daemon runs them */
	SIM_PASS_PATHS,		/* the file events since the last pass */
	SIM_PASS_CHANGES,	/* change-source events, db_quiet */
	SIM_PASS_ORDINARY,
	SIM_PASS_FULL,
	SIM_DRY_RUN,		/* then checks: nothing changed, plan = next */
	/* time and faults */
	SIM_ADVANCE,
	SIM_DB_OUTAGE,		/* down for the next a % 4 + 1 passes */
	SIM_CRASH,		/* the next pass crashes at call a % 40 + 1 */
	SIM_LOSE_EVENTS,	/* the next triggered pass misses some */
	SIM_CLOCK_JUMP,		/* b picks the side, a the size and sign */
	SIM_CAS_RACE,		/* the next CAS races an API write */
	SIM_OP_N
};

struct sim_step {
	uint8_t		 op;	/* enum sim_op */
	uint8_t		 m;	/* machine */
	uint32_t	 a, b, c;
};

struct sim_history {
	uint64_t	 seed;
	struct sim_step	*steps;
	size_t		 n;
};

struct sim_gen_opts {
	size_t	 steps;
	bool	 faults;	/* false: the twin's (no fault ops) */
	int	 nmachines;
};

/* The steps of seed (malloc'd; sim_history_free()). Deterministic. */
void	sim_gen(uint64_t seed, const struct sim_gen_opts *o,
	    struct sim_history *h);
void	sim_history_free(struct sim_history *h);
/* One readable line ("api: retitle project #2", no newline). */
void	sim_step_describe(const struct sim_step *s, struct es_buf *out);

/* What happened to one history. */
struct sim_outcome {
	bool	 failed;
	size_t	 step;		/* the failing step (h->n: the final checks) */
	char	 why[512];	/* the invariant broken, with the evidence */
	size_t	 ferretdb_window; /* API writes lost to FerretDB's CAS form */
	size_t	 passes, guard_trips, conflicts;
};

/*
 * Per-step observer (the twin): after step i, the ops of its passes (NULL
 * when the step ran no pass) and the env. Non-zero stops the run.
 */
typedef int (*sim_step_cb)(size_t i, const struct sim_step *s,
    const struct es_plan *plan, void *ud);

struct sim_run_opts {
	bool		 cas_ferretdb;	/* the env's form, for the oracle */
	sim_step_cb	 on_step;	/* NULL: none */
	void		*ud;
};

/*
 * Runs h on env (fresh), then the final checks: faults off, two passes
 * per machine converge, a third changes nothing, nothing lost, no
 * violation. Returns 0 with *out filled (out->failed says the verdict);
 * -1 only when the env itself failed (err).
 */
int	sim_run(const struct sim_history *h, struct sim_env *env,
	    const struct sim_run_opts *o, struct sim_outcome *out,
	    struct es_error *err);

/*
 * Whether two envs hold the same meaning: documents (meaning fields),
 * and each machine's synced files; the first difference in why.
 */
bool	sim_env_same(struct sim_env *a, struct sim_env *b, char *why,
	    size_t whysize);

/* Shrinks a failing h (sim-shrink.c): a shorter history that still fails. */
int	sim_shrink(const struct sim_history *h, const struct sim_env_opts *eo,
	    struct sim_history *out, struct sim_outcome *why,
	    struct es_error *err);

#endif
