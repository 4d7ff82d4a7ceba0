/*
 * The simulated env of sim.h (issue 17): one sim_fs per machine (with its
 * baseline store and crash counter), one sim_db shared by the machines,
 * and two clocks as numbers (the workstation's, which the folders' mtimes
 * and the passes' "now" read, and the database's, which the API's
 * updated_at reads). Each machine's es_world is composed of the three
 * tables; a pass runs es_pass_run() in it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "sim-internal.h"

struct machine {
	struct sim_fs		*fs;
	struct sim_crash	 crash;
	struct es_world		 w;
	bool			 last_crashed;
	char			 root[32];
};

struct env {
	int		 nmachines;
	int64_t		 fs_clock, db_clock;
	struct sim_db	*db;
	struct machine	 m[SIM_MACHINES_MAX];
};

static struct machine *
mach(void *ctx, int m)
{
	struct env *e = ctx;

	if (m < 0 || m >= e->nmachines)
		m = 0;
	return &e->m[m];
}

/* ---- the user's side ---- */

static int
e_write_file(void *ctx, int m, const char *rel, const void *buf, size_t len,
    enum sim_save how, struct es_error *err)
{
	return sim_fs_user_write(mach(ctx, m)->fs, rel, buf, len, how, err);
}

static int
e_read_file(void *ctx, int m, const char *rel, struct es_buf *out,
    struct es_error *err)
{
	return sim_fs_user_read(mach(ctx, m)->fs, rel, out, err);
}

static int
e_remove_file(void *ctx, int m, const char *rel, struct es_error *err)
{
	return sim_fs_user_remove(mach(ctx, m)->fs, rel, err);
}

static int
e_rename_file(void *ctx, int m, const char *from, const char *to,
    struct es_error *err)
{
	return sim_fs_user_rename(mach(ctx, m)->fs, from, to, err);
}

static int
e_each_file(void *ctx, int m, sim_file_cb cb, void *ud, struct es_error *err)
{
	return sim_fs_each(mach(ctx, m)->fs, cb, ud, err);
}

/* ---- the API's side ---- */

static int
e_api_insert(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	return sim_db_api_insert(((struct env *)ctx)->db, kind, doc, err);
}

static int
e_api_replace(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	return sim_db_api_replace(((struct env *)ctx)->db, kind, doc, err);
}

static int
e_api_get(void *ctx, enum es_kind kind, const bson_oid_t *id, bson_t *out,
    struct es_error *err)
{
	return sim_db_api_get(((struct env *)ctx)->db, kind, id, out, err);
}

static int
e_api_each(void *ctx, enum es_kind kind, sim_doc_cb cb, void *ud,
    struct es_error *err)
{
	return sim_db_api_each(((struct env *)ctx)->db, kind, cb, ud, err);
}

static int
e_conflicts_each(void *ctx, sim_doc_cb cb, void *ud, struct es_error *err)
{
	return sim_db_conflicts_each(((struct env *)ctx)->db, cb, ud, err);
}

/* ---- clocks ---- */

static int64_t
e_db_now_ms(void *ctx)
{
	return ((struct env *)ctx)->db_clock;
}

static int64_t
e_fs_now_ms(void *ctx)
{
	return ((struct env *)ctx)->fs_clock;
}

static void
e_advance(void *ctx, int64_t ms)
{
	struct env *e = ctx;

	if (ms < 0)
		ms = 0;
	e->fs_clock += ms;
	e->db_clock += ms;
}

static int64_t
clock_fs(void *ctx)
{
	return *(const int64_t *)ctx;
}

/* ---- passes and events ---- */

static int
e_pass(void *ctx, int m, const struct es_engine_opts *o,
    const struct es_trigger *t, struct es_engine_result *r,
    struct es_error *err)
{
	struct machine *mc = mach(ctx, m);
	struct es_engine_opts po = *o;
	int rc;

	po.root = mc->root;
	po.root_fd = -1;	/* the pass reaches the folder by its seams */
	po.user_id = SIM_USER;
	mc->crash.count = 0;
	mc->crash.crashed = false;
	rc = es_pass_run(&po, &mc->w, t, r, err);
	/* The process is gone (or the pass over): its transaction too. */
	mc->last_crashed = mc->crash.crashed;
	if (mc->crash.crashed)
		mc->w.fs.base.rollback(mc->w.fs.base.ctx);
	mc->crash.at = 0;
	mc->crash.count = 0;
	mc->crash.crashed = false;
	return rc;
}

static int
e_changes(void *ctx, int m, struct es_change **out, size_t *n,
    struct es_error *err)
{
	struct env *e = ctx;

	if (m < 0 || m >= e->nmachines)
		m = 0;
	return sim_db_changes(e->db, m, out, n, err);
}

static int
e_file_events(void *ctx, int m, char ***paths, size_t *n,
    struct es_error *err)
{
	(void)err;
	return sim_fs_events(mach(ctx, m)->fs, paths, n);
}

static const char *
e_violation(void *ctx)
{
	struct env *e = ctx;
	const char *v;

	for (int i = 0; i < e->nmachines; i++)
		if ((v = sim_fs_violation(e->m[i].fs)) != NULL)
			return v;
	return NULL;
}

/* ---- faults ---- */

static void
f_db_down(void *ctx, bool down)
{
	sim_db_set_down(((struct env *)ctx)->db, down);
}

static void
f_crash_at(void *ctx, int m, unsigned n)
{
	mach(ctx, m)->crash.at = n;
}

static bool
f_crashed(void *ctx, int m)
{
	return mach(ctx, m)->last_crashed;
}

static void
f_clock_jump(void *ctx, bool db_side, int64_t ms)
{
	struct env *e = ctx;

	if (db_side)
		e->db_clock += ms;
	else
		e->fs_clock += ms;
}

static void
f_cas_race(void *ctx, void (*cb)(void *ud, enum es_kind kind,
    const bson_oid_t *id), void *ud)
{
	sim_db_set_race(((struct env *)ctx)->db, cb, ud);
}

static void
f_cas_ferretdb(void *ctx, bool on)
{
	sim_db_set_ferretdb(((struct env *)ctx)->db, on);
}

static const struct sim_faults_ops faults = {
	.db_down = f_db_down, .crash_at = f_crash_at, .crashed = f_crashed,
	.clock_jump = f_clock_jump, .cas_race = f_cas_race,
	.cas_ferretdb = f_cas_ferretdb,
};

/* The same table for one or two machines: only nmachines differs. */
#define ENV_OPS(n) {							\
	.nmachines = (n),						\
	.write_file = e_write_file, .read_file = e_read_file,		\
	.remove_file = e_remove_file, .rename_file = e_rename_file,	\
	.each_file = e_each_file, .api_insert = e_api_insert,		\
	.api_replace = e_api_replace, .api_get = e_api_get,		\
	.api_each = e_api_each, .conflicts_each = e_conflicts_each,	\
	.db_now_ms = e_db_now_ms, .fs_now_ms = e_fs_now_ms,		\
	.advance = e_advance, .pass = e_pass, .changes = e_changes,	\
	.file_events = e_file_events, .violation = e_violation,	\
	.faults = &faults,						\
}

static const struct sim_env_ops ops[SIM_MACHINES_MAX] = {
	ENV_OPS(1), ENV_OPS(2),
};

int
sim_env_new(const struct sim_env_opts *o, struct sim_env *out,
    struct es_error *err)
{
	struct env *e;

	memset(out, 0, sizeof(*out));
	if (o->nmachines < 1 || o->nmachines > SIM_MACHINES_MAX)
		return es_error_set(err, ES_EUSAGE, "", 0,
		    "%d machines: 1 or %d", o->nmachines, SIM_MACHINES_MAX);
	e = es_xcalloc(1, sizeof(*e));
	e->nmachines = o->nmachines;
	e->fs_clock = e->db_clock = o->start_ms;
	e->db = sim_db_new(&e->db_clock);
	sim_db_set_ferretdb(e->db, o->cas_ferretdb);
	for (int i = 0; i < e->nmachines; i++) {
		struct machine *mc = &e->m[i];

		snprintf(mc->root, sizeof(mc->root), "/sim/m%u",
		    (unsigned)i & 1);
		mc->fs = sim_fs_new(&e->fs_clock, &mc->crash);
		sim_fs_world(mc->fs, &mc->w.fs);
		sim_db_world(e->db, i, &mc->crash, &mc->w.db);
		mc->w.clock.ctx = &e->fs_clock;
		mc->w.clock.now_ms = clock_fs;
	}
	out->ops = &ops[e->nmachines - 1];
	out->ctx = e;
	return 0;
}

void
sim_env_free(struct sim_env *s)
{
	struct env *e;

	if (s == NULL || (e = s->ctx) == NULL)
		return;
	for (int i = 0; i < e->nmachines; i++)
		sim_fs_free(e->m[i].fs);
	sim_db_free(e->db);
	free(e);
	s->ctx = NULL;
	s->ops = NULL;
}
