/*
 * The simulated world's parts (tests/sim/, world layer of sim.h): one
 * sim_fs per machine (its folder, and the baseline store living in it),
 * one sim_db shared by the machines, two clocks (numbers), and the crash
 * counter a pass's mutating calls tick. sim-env.c composes them into the
 * env of sim.h; nothing else should need this header.
 */
#ifndef EXECSYNC_SIM_INTERNAL_H
#define EXECSYNC_SIM_INTERNAL_H

#include "sim.h"

/*
 * A crash at the at-th mutating call of one pass (0: none). Every
 * mutating seam function of the pass's world calls sim_crash_tick()
 * first: true means "the process died here": fail with ES_EIO "simulated
 * crash" (and every later call fails too).
 */
struct sim_crash {
	unsigned	 at;
	unsigned	 count;
	bool		 crashed;
};
bool	sim_crash_tick(struct sim_crash *c);

/* ---- sim-fs.c, sim-base.c: one machine's folder ---- */

struct sim_fs;

/* fs_clock: the workstation's clock, borrowed; mtimes and ctimes come from it. */
struct sim_fs	*sim_fs_new(const int64_t *fs_clock_ms, struct sim_crash *crash);
void	 sim_fs_free(struct sim_fs *fs);
/* The engine's tables (world.h), base included, over fs. */
void	 sim_fs_world(struct sim_fs *fs, struct es_world_fs *out);
/* The user's side (sim.h's env ops). */
int	 sim_fs_user_write(struct sim_fs *fs, const char *rel, const void *buf,
	    size_t len, enum sim_save how, struct es_error *err);
int	 sim_fs_user_read(struct sim_fs *fs, const char *rel,
	    struct es_buf *out, struct es_error *err);
int	 sim_fs_user_remove(struct sim_fs *fs, const char *rel,
	    struct es_error *err);
int	 sim_fs_user_rename(struct sim_fs *fs, const char *from,
	    const char *to, struct es_error *err);
int	 sim_fs_each(struct sim_fs *fs, sim_file_cb cb, void *ud,
	    struct es_error *err);
/* A symbolic link at rel (absent before) pointing to target: tests. */
int	 sim_fs_user_symlink(struct sim_fs *fs, const char *rel,
	    const char *target, struct es_error *err);
/*
 * Paths the user changed since the last call (file events), sorted,
 * unique; *paths and each string malloc'd, the caller frees them.
 */
int	 sim_fs_events(struct sim_fs *fs, char ***paths, size_t *n);
/* The first broken promise of the engine's calls (outside the root, an unlink), or NULL. */
const char *sim_fs_violation(struct sim_fs *fs);
/*
 * A planted bug (the lead's check that the invariants catch one): the
 * engine's write replaces its target in place, in two halves with a
 * crash point between them, instead of a temporary file renamed over.
 */
extern bool	 sim_plant_inplace_write;

/* sim-base.c: the baseline store of one machine, in memory (world.h). */
struct sim_base;
struct sim_base	*sim_base_new(struct sim_crash *crash);
void	 sim_base_free(struct sim_base *b);
void	 sim_base_table(struct sim_base *b, struct es_world_base *out);

/* ---- sim-db.c: the database ---- */

struct sim_db;

/* db_clock: the database's clock (the API's updated_at), borrowed. */
struct sim_db	*sim_db_new(const int64_t *db_clock_ms);
void	 sim_db_free(struct sim_db *db);
/*
 * The engine's table (world.h) for machine m: user SIM_USER, m's crash
 * counter, m's change cursor.
 */
void	 sim_db_world(struct sim_db *db, int m, struct sim_crash *crash,
	    struct es_world_db *out);
void	 sim_db_set_down(struct sim_db *db, bool down);
void	 sim_db_set_ferretdb(struct sim_db *db, bool on);
void	 sim_db_set_race(struct sim_db *db, void (*cb)(void *ud,
	    enum es_kind kind, const bson_oid_t *id), void *ud);
/* The API's side (sim.h's env ops). */
int	 sim_db_api_insert(struct sim_db *db, enum es_kind kind,
	    const bson_t *doc, struct es_error *err);
int	 sim_db_api_replace(struct sim_db *db, enum es_kind kind,
	    const bson_t *doc, struct es_error *err);
int	 sim_db_api_get(struct sim_db *db, enum es_kind kind,
	    const bson_oid_t *id, bson_t *out, struct es_error *err);
int	 sim_db_api_each(struct sim_db *db, enum es_kind kind, sim_doc_cb cb,
	    void *ud, struct es_error *err);
int	 sim_db_conflicts_each(struct sim_db *db, sim_doc_cb cb, void *ud,
	    struct es_error *err);
/* Writes since m's last call (every writer's), as change-source events. */
int	 sim_db_changes(struct sim_db *db, int m, struct es_change **out,
	    size_t *n, struct es_error *err);
void	 sim_db_changes_free(struct es_change *c, size_t n);

#endif
