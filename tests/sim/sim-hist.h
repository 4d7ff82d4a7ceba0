/*
 * The history layer's private parts (sim-gen.c, sim-run.c, sim-oracle.c,
 * sim-check.c): the run's state, the oracle of tokens, the user's steps
 * and the invariants. Nothing outside the history layer includes this.
 *
 * Tokens: every user write (file side or API) puts a fresh token
 * "w000123w" (fixed width, so no token is a substring of another) in the
 * value it writes. The oracle remembers, per token, the step that wrote
 * it and whether a later user write that started from content holding it
 * removed it (superseded: the user saw it and chose to change it).
 */
#ifndef EXECSYNC_SIM_HIST_H
#define EXECSYNC_SIM_HIST_H

#include "sim.h"

#define SIM_TOKEN_LEN	8	/* "w000123w" */
#define SIM_TOKEN_MAX	999999

/* Limits of the world a history builds (speed: keep it tiny). */
#define SIM_MAX_PROJECTS	12
#define SIM_MAX_GOALS		4
#define SIM_MAX_ACTIONS		20

/* The PRNG (xoshiro256**, seeded with splitmix64). */
struct sim_rng {
	uint64_t	 s[4];
};
void	 sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
uint32_t sim_rng_below(struct sim_rng *r, uint32_t n);

/* ---- the oracle (sim-oracle.c) ---- */

enum {
	SIM_TOK_SUPERSEDED	= 1u << 0,
	SIM_TOK_RACE		= 1u << 1,	/* written inside a CAS race */
	SIM_TOK_FOUND		= 1u << 2,	/* in the final state */
	SIM_TOK_FOUND_TRASH	= 1u << 3,	/* only in .execsync/trash/ */
	SIM_TOK_API		= 1u << 4,	/* written by the API */
};

struct sim_token {
	uint32_t	 step;
	uint8_t		 kind;		/* enum es_kind of its holder */
	uint8_t		 flags;
	uint32_t	 mark;		/* scratch for set differences */
	uint32_t	 copies;	/* scratch: in the new text, by mark */
	char		 where[40];	/* what the write was */
};

struct sim_oracle {
	struct sim_token *t;
	size_t		 n, alloc;
	uint32_t	 epoch;
	/* the last step that deleted an entity of a kind (+1; 0 none) */
	uint32_t	 deleted_at[3];
	uint32_t	*ids;		/* scratch: tokens of a text */
	size_t		 nids, idsalloc;
};

void	sim_oracle_init(struct sim_oracle *o);
void	sim_oracle_release(struct sim_oracle *o);
/* A new token written at step by the user; its text into tok (9 bytes). */
uint32_t sim_oracle_new(struct sim_oracle *o, size_t step, enum es_kind kind,
	    unsigned flags, const char *where, char tok[SIM_TOKEN_LEN + 1]);
/*
 * A user replaced old by new (either may be NULL/0): every token of old
 * that new lacks is superseded. Called with the union of what the write
 * read and what it wrote when it spans several files.
 */
void	sim_oracle_replace(struct sim_oracle *o, const char *old,
	    size_t oldlen, const char *new, size_t newlen);
/* A user deleted an entity whose content was old: all its tokens go. */
void	sim_oracle_delete(struct sim_oracle *o, size_t step, enum es_kind kind,
	    const char *old, size_t oldlen);
/* Found in the final state: flag SIM_TOK_FOUND or SIM_TOK_FOUND_TRASH. */
void	sim_oracle_scan(struct sim_oracle *o, const char *p, size_t len,
	    unsigned flag);
void	sim_oracle_scan_doc(struct sim_oracle *o, const bson_t *doc,
	    unsigned flag);
/*
 * The verdict: 0 nothing lost; else the number lost, the first described
 * in why; ferretdb counts the losses that are FerretDB's CAS window.
 */
size_t	sim_oracle_verdict(const struct sim_oracle *o, bool cas_ferretdb,
	    size_t *ferretdb, char *why, size_t whysize);
/* Token ids in p[0..len) into o->ids (o->nids). */
void	sim_oracle_tokens(struct sim_oracle *o, const char *p, size_t len);

/* ---- the run (sim-run.c) ---- */

struct sim_mach {
	bool		 need_full;	/* after a crash or lost events */
	bool		 max100;	/* after the deletion guard tripped */
	bool		 stopped;	/* guard or git: the next pass not quiet */
	bool		 lose;		/* the next paths pass loses events */
	bool		 crash_armed;
	bool		 unsure;	/* base[] unknown (items skipped) */
	size_t		 base[3];	/* baseline rows, by enum es_kind */
};

/* A synced file of one machine, as a step sees it. */
struct sim_file {
	char		*rel;
	enum es_kind	 kind;
	enum es_list_kind list;
};

struct sim_run {
	struct sim_env		*env;
	const struct sim_env_ops *ops;
	const struct sim_run_opts *o;
	struct sim_outcome	*out;
	struct sim_rng		 rng;	/* ObjectIds and choices of the run */
	size_t			 step;
	uint32_t		 oids;	/* ObjectIds made */
	struct sim_oracle	 orc;
	struct sim_mach		 mach[SIM_MACHINES_MAX];
	int			 outage_left;
	bool			 race_pending;
	bool			 in_race;
	bool			 stepped;	/* on_step called by the step */
	bool			 stop;		/* on_step said stop */
	/* scratch, reused */
	struct sim_file		*files;
	size_t			 nfiles, filesalloc;
	bson_t			**docs;
	size_t			 ndocs, docsalloc;
	struct es_buf		 b1, b2, b3;
};

/* ---- the user's steps (sim-user.c: files; sim-api.c: the API) ---- */

/* 0 done (or nothing to act on), -1 the env failed (err). */
int	sim_user_step(struct sim_run *r, const struct sim_step *s,
	    struct es_error *err);
int	sim_api_step(struct sim_run *r, const struct sim_step *s,
	    struct es_error *err);
extern const char *const sim_areas[3];	/* "Home", "Work", "Learning" */
/* Whether doc is not soft-deleted. */
bool	sim_doc_live(const bson_t *doc);
/*
 * The text of lines [from, len) of p edited: op 0-1 replace line k, 2
 * insert before line k, 3 delete line k (k modulo the count); new is the
 * line (no LF). Into out.
 */
void	sim_edit_lines(const char *p, size_t len, size_t from, unsigned op,
	    uint32_t k, const char *new, struct es_buf *out);
/* The API edit a CAS race plays on the raced document. */
int	sim_api_race_edit(struct sim_run *r, enum es_kind kind,
	    const bson_oid_t *id, struct es_error *err);
/* The synced files of machine m into r->files (sorted by rel). */
int	sim_list_files(struct sim_run *r, int m, struct es_error *err);
/* The live documents of kind into r->docs (_id order). */
int	sim_list_docs(struct sim_run *r, enum es_kind kind,
	    struct es_error *err);
void	sim_files_clear(struct sim_run *r);
void	sim_docs_clear(struct sim_run *r);

/* ---- invariants (sim-check.c) ---- */

/* A 64-bit digest of every file of every machine and every document. */
int	sim_digest(struct sim_env *e, uint64_t *out, struct es_error *err);
/*
 * Whether every machine's synced files mean what the live documents
 * mean (and each has its counterpart): false with the first difference
 * in why.
 */
int	sim_check_converged(struct sim_env *e, bool *ok, char *why,
	    size_t whysize, struct es_error *err);
/* The tokens of the final state into the oracle. */
int	sim_check_scan(struct sim_env *e, struct sim_oracle *o,
	    struct es_error *err);
/*
 * The deletion guard of SPEC 4.15 recomputed from plan and the size of
 * each collection (totals, by enum es_kind): whether it trips at
 * max_delete; the first collection that does in why.
 */
bool	sim_guard_expected(const struct es_plan *plan, const size_t total[3],
	    unsigned max_delete, char *why, size_t whysize);
/* Whether two plans hold the same ops (SPEC 4.9); the first difference. */
bool	sim_plans_same(const struct es_plan *a, const struct es_plan *b,
	    char *why, size_t whysize);
/* Whether a plan changes anything on either side (SPEC 4.8). */
bool	sim_plan_changes(const struct es_plan *p, char *why, size_t whysize);

#endif
