/*
 * The driver of the simulation (tests/sim/, driver layer of sim.h): the
 * command line of execsync-sim, step lists (a chosen subsequence of a
 * seed's steps, arguments possibly simplified), the shrinker's core, the
 * per-seed choices and the twin. sim-main.c, sim-drive.c, sim-shrink.c,
 * sim-twin.c and twin-env.c share it; nothing else needs it.
 *
 * Per seed (sim_drive_opts_for()): the CAS form alternates by default (odd
 * seeds FerretDB's read-compare-update, even seeds MongoDB's atomic one;
 * --cas atomic|ferretdb, or --ferretdb-cas, pins it), and machines
 * alternate by the next bit (seed >> 1 even: one folder, odd: two folders
 * on one database), so every fourth seed covers each combination and a
 * seed alone says how to replay it.
 */
#ifndef EXECSYNC_SIM_DRIVE_H
#define EXECSYNC_SIM_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"

#define SIM_DRIVE_STEPS		50	/* default --steps */
#define SIM_DRIVE_TWIN_STEPS	12	/* default --steps of --twin */
#define SIM_DRIVE_START_MS	INT64_C(1767225600000)	/* 2026-01-01Z */
#define SIM_DRIVE_SHRINK_RUNS	2000	/* sim_shrink()'s effort */

enum sim_cas_mode {
	SIM_CAS_ALTERNATE = 0,	/* odd seeds FerretDB's form */
	SIM_CAS_ATOMIC,
	SIM_CAS_FERRETDB
};

enum sim_drive_mode {
	SIM_MODE_BUDGET = 0,	/* --histories (and/or --regressions) */
	SIM_MODE_REPLAY,	/* --seed */
	SIM_MODE_TWIN		/* --twin */
};

struct sim_drive_args {
	enum sim_drive_mode	 mode;
	size_t			 histories;	/* 0 with --regressions alone */
	size_t			 steps;		/* 0: the mode's default */
	unsigned		 jobs;		/* 0: online CPUs */
	uint64_t		 seed_base;
	uint64_t		 seed;		/* --seed */
	bool			 has_seed;
	enum sim_cas_mode	 cas;
	bool			 verbose;
	bool			 keep_going;	/* past the first failures */
	const char		*steps_list;	/* borrowed from argv */
	const char		*regressions;	/* borrowed from argv */
};

/*
 * Parses argv (argv[0] the program). env_histories is
 * EXECSYNC_SIM_HISTORIES (NULL or "" when unset): it replaces the value of
 * --histories in the budget mode (never the twin's). Returns 0, or -1 with
 * a one-line reason in msg (then exit 2 with the usage).
 */
int	sim_drive_parse(int argc, char **argv, const char *env_histories,
	    struct sim_drive_args *a, char *msg, size_t msgsize);
void	sim_drive_usage(FILE *f);

/*
 * A step list: "3,7/0/1/0,12" picks steps 3, 7 and 12 of the seed's
 * history, step 7 with its arguments a, b, c replaced by 0, 1, 0. Indices
 * are 0-based, increasing.
 */
struct sim_pick {
	size_t		 i;
	bool		 args;	/* a, b, c replace the step's */
	uint32_t	 a, b, c;
};
int	sim_picks_parse(const char *s, struct sim_pick **out, size_t *n,
	    char *msg, size_t msgsize);
void	sim_picks_format(const struct sim_pick *p, size_t n,
	    struct es_buf *out);
/* out (malloc'd) = the picked steps of h; -1 when an index is past h. */
int	sim_picks_apply(const struct sim_history *h, const struct sim_pick *p,
	    size_t n, struct sim_history *out, char *msg, size_t msgsize);

/* The generator's and the env's options of seed. */
void	sim_drive_opts_for(uint64_t seed, size_t steps, enum sim_cas_mode cas,
	    bool faults, struct sim_gen_opts *go, struct sim_env_opts *eo);

/*
 * Delta debugging over h's steps (sim-shrink.c): chunks, then single
 * steps, then arguments toward 0, as long as fails() holds and at most
 * max_runs calls of it. *out (malloc'd) the picks of h kept. Returns the
 * number of calls made. fails(h) itself is assumed true.
 */
typedef bool (*sim_fails_fn)(const struct sim_history *h, void *ud);
size_t	sim_shrink_picks(const struct sim_history *h, sim_fails_fn fails,
	    void *ud, size_t max_runs, struct sim_pick **out, size_t *nout);

/*
 * sim_shrink() with the picks: *picks (malloc'd) the step list that
 * replays out from h, *runs the histories run.
 */
int	sim_shrink_ex(const struct sim_history *h,
	    const struct sim_env_opts *eo, struct sim_history *out,
	    struct sim_pick **picks, size_t *npicks, size_t *runs,
	    struct sim_outcome *why, struct es_error *err);
/* The invariant family of a why: its text up to the first ':'. */
size_t	sim_why_family(const char *why);

/* One history on a fresh simulated env (eo), with an observer. */
int	sim_drive_run(const struct sim_history *h,
	    const struct sim_env_opts *eo, sim_step_cb cb, void *ud,
	    struct sim_outcome *out, struct es_error *err);

/* ---- sim-drive.c, sim-replay.c: runs and their reports ---- */

/* What a set of histories did (summed over workers). */
struct sim_tally {
	uint64_t	 histories, steps, failures, window;
	uint64_t	 passes, guard_trips, conflicts;
	uint64_t	 nfails;	/* records that follow */
};

void	sim_tally_add(struct sim_tally *t, const struct sim_history *h,
	    const struct sim_outcome *o);
int	sim_drive_parse_u64(const char *s, uint64_t *out);
/* An env that failed is a failure of the history too. */
void	sim_drive_env_failed(struct sim_outcome *o, const struct es_error *err);
/*
 * The history of seed (steps long), picked by p[0..np) when p is not
 * NULL, run on a fresh env; *hout (may be NULL) gets it. 0, or -1 (msg)
 * when the step list does not fit.
 */
int	sim_drive_run_seed(uint64_t seed, size_t steps, enum sim_cas_mode cas,
	    const struct sim_pick *p, size_t np, sim_step_cb cb, void *ud,
	    struct sim_history *hout, struct sim_outcome *o, char *msg,
	    size_t msgsize);
/*
 * A failure: seed, why, and with shrink the shrunk history, its replay
 * command and its line for regressions.txt.
 */
void	sim_drive_report(FILE *f, uint64_t seed, size_t steps,
	    enum sim_cas_mode cas, const struct sim_pick *p0, size_t np0,
	    const struct sim_outcome *o, bool shrink);
/* --seed: exit status. */
int	sim_drive_replay(const struct sim_drive_args *a);
/* --regressions: every line run, failures reported; -1 a bad file. */
int	sim_drive_regressions(const struct sim_drive_args *a,
	    struct sim_tally *t);

int	sim_drive_main(int argc, char **argv);
/* --twin (sim-twin.c): exit status 0, 1 (a disagreement) or 2. */
int	sim_twin_main(const struct sim_drive_args *a);

/* ---- twin-env.c: the real world behind struct sim_env_ops ---- */

struct twin_opts {
	const char	*uri;		/* NULL: no database (tests) */
	const char	*dbname;	/* fresh, dropped by twin_env_free() */
	int		 nmachines;
	int64_t		 start_ms;
};
int	twin_env_new(const struct twin_opts *o, struct sim_env *out,
	    struct es_error *err);
/* The folder of machine m (for messages). */
const char *twin_env_root(struct sim_env *e, int m);
void	twin_env_free(struct sim_env *e);

#endif
