/*
 * The executor (issue 17 item 2): runs a history's steps on an env, only
 * through env->ops (the simulated world and the twin's real one alike),
 * checks the cheap invariants after each step and the rest at the end.
 *
 * Passes are run as the daemon runs them: a paths pass takes the file
 * events since the last pass (minus some after SIM_LOSE_EVENTS, and then
 * the next pass is a full one, as the daemon's after a queue overflow); a
 * changes pass takes the change-source events and leaves the database
 * quiet; after a crash the process restarts with nothing but the env, and
 * its first pass is a full one; after the deletion guard stopped a pass,
 * the user runs the next one with max_delete 100.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/layout.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "sim-hist.h"

struct trig {
	struct es_trigger	 t;
	char			**paths;
	size_t			 npaths;
	struct es_change	*ch;
	size_t			 nch;
};

static void
fail(struct sim_run *r, size_t step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct sim_run *r, size_t step, const char *fmt, ...)
{
	va_list ap;

	if (r->out->failed)
		return;
	r->out->failed = true;
	r->out->step = step;
	va_start(ap, fmt);
	vsnprintf(r->out->why, sizeof(r->out->why), fmt, ap);
	va_end(ap);
}

static void
paths_free(char **p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

static void
changes_free(struct es_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].doc != NULL)
			bson_destroy((bson_t *)c[i].doc);
	free(c);
}

static void
trig_release(struct trig *t)
{
	paths_free(t->paths, t->npaths);
	changes_free(t->ch, t->nch);
	memset(t, 0, sizeof(*t));
}

/* The events since the last pass, dropped (a restart, a full pass). */
static int
drain(struct sim_run *r, int m, struct es_error *err)
{
	struct trig t;

	memset(&t, 0, sizeof(t));
	if (r->ops->file_events(r->env->ctx, m, &t.paths, &t.npaths, err) < 0)
		return -1;
	if (r->ops->changes(r->env->ctx, m, &t.ch, &t.nch, err) < 0) {
		trig_release(&t);
		return -1;
	}
	trig_release(&t);
	return 0;
}

static int
trig_build(struct sim_run *r, int m, enum es_trigger_kind kind,
    struct trig *t, struct es_error *err)
{
	struct sim_mach *mc = &r->mach[m];

	memset(t, 0, sizeof(*t));
	if (mc->need_full)
		kind = ES_TRIGGER_FULL;
	t->t.kind = kind;
	switch (kind) {
	case ES_TRIGGER_PATHS:
		if (r->ops->file_events(r->env->ctx, m, &t->paths, &t->npaths,
		    err) < 0)
			return -1;
		if (mc->lose) {
			/* the kernel dropped every other event */
			size_t k = 0;

			for (size_t i = 0; i < t->npaths; i++)
				if (i % 2 == 1)
					t->paths[k++] = t->paths[i];
				else
					free(t->paths[i]);
			t->npaths = k;
			mc->lose = false;
			mc->need_full = true;	/* the daemon's next pass */
		}
		t->t.paths = (const char *const *)t->paths;
		t->t.npaths = t->npaths;
		/* As the daemon: the change source watches the database. */
		t->t.db_quiet = !mc->stopped;
		return 0;
	case ES_TRIGGER_CHANGES:
		if (r->ops->changes(r->env->ctx, m, &t->ch, &t->nch, err) < 0)
			return -1;
		t->t.changes = t->ch;
		t->t.nchanges = t->nch;
		/* As the daemon: not quiet after a stopped or held pass. */
		t->t.db_quiet = !mc->stopped;
		return 0;
	default:
		return drain(r, m, err);
	}
}

/*
 * What the guard counts (SPEC 4.15: the collection's entities in the
 * baseline), learnt from the folder right after a pass of m that applied
 * everything it planned: then every synced file (every action line) of m
 * has its baseline row and nothing else has one. Passes that stop, fail
 * or crash leave the baseline as it was; a pass with items skipped makes
 * it unknown until the next clean one.
 */
static int
base_snapshot(struct sim_run *r, int m, struct es_error *err)
{
	struct sim_mach *mc = &r->mach[m];

	if (sim_list_files(r, m, err) < 0)
		return -1;
	memset(mc->base, 0, sizeof(mc->base));
	for (size_t i = 0; i < r->nfiles; i++) {
		struct es_action_list *l;
		struct es_path_info info;

		if (r->files[i].kind != ES_KIND_ACTION) {
			mc->base[r->files[i].kind]++;
			continue;
		}
		es_buf_reset(&r->b1);
		if (r->ops->read_file(r->env->ctx, m, r->files[i].rel, &r->b1,
		    err) < 0)
			return -1;
		if (es_layout_classify(r->files[i].rel, NULL, &info) != 1)
			continue;
		l = es_action_list_parse(r->b1.buf, r->b1.len, r->files[i].rel,
		    info.list, info.context[0] ? info.context : NULL);
		mc->base[ES_KIND_ACTION] += es_action_list_count(l);
		es_action_list_free(l);
	}
	mc->unsure = false;
	return 0;
}

static void
race_cb(void *ud, enum es_kind kind, const bson_oid_t *id)
{
	struct sim_run *r = ud;
	struct es_error err;

	es_error_clear(&err);
	if (sim_api_race_edit(r, kind, id, &err) < 0)
		fail(r, r->step, "the env failed in a CAS race's API write: "
		    "%s: %s", err.path, err.msg);
}

/*
 * One pass of machine m; res released by the caller. *prc what the pass
 * returned; the faults armed for "the next pass" are spent.
 */
static int
pass(struct sim_run *r, int m, struct trig *t, bool dry,
    struct es_engine_result *res, int *prc, struct es_error *perr)
{
	const struct sim_faults_ops *f = r->ops->faults;
	struct sim_mach *mc = &r->mach[m];
	struct es_engine_opts eo;
	bool crashed = false;

	/*
	 * A pass takes time: no two passes share a "now" (the version they
	 * give their writes), as no two real ones do but by a 1-ms fluke.
	 */
	r->ops->advance(r->env->ctx, 1 + (int64_t)sim_rng_below(&r->rng, 40));
	memset(&eo, 0, sizeof(eo));
	eo.policy = ES_POLICY_NEWEST;
	eo.dry_run = dry;
	eo.max_delete = mc->max100 ? 100 : 50;
	eo.full_pass_s = 0;
	es_engine_result_init(res);
	es_error_clear(perr);
	*prc = r->ops->pass(r->env->ctx, m, &eo, &t->t, res, perr);
	r->out->passes++;
	if (f != NULL && mc->crash_armed) {
		crashed = f->crashed(r->env->ctx, m);
		f->crash_at(r->env->ctx, m, 0);
		mc->crash_armed = false;
	}
	if (f != NULL && r->race_pending) {
		f->cas_race(r->env->ctx, NULL, NULL);
		r->race_pending = false;
	}
	if (f != NULL && r->outage_left > 0 && --r->outage_left == 0)
		f->db_down(r->env->ctx, false);
	if (crashed) {
		/* the process restarts: only the env survives */
		mc->need_full = true;
		*prc = -1;
		return drain(r, m, perr);
	}
	if (*prc < 0) {
		/* the daemon tries again; what it had is read anew */
		mc->need_full = true;
		return 0;
	}
	r->out->conflicts += res->conflicts;
	if (!res->held) {
		size_t total[3];
		char why[200];
		bool want;

		for (int k = 0; k < 3; k++)
			total[k] = mc->base[k];
		want = sim_guard_expected(&res->plan, total, eo.max_delete, why,
		    sizeof(why));
		if (!mc->unsure && want != res->guard_stopped)
			fail(r, r->step, "deletion guard (SPEC 4.15) on "
			    "machine %d %s: %s", m, res->guard_stopped ?
			    "tripped but should not have" : "should have "
			    "tripped", why);
		if (res->guard_stopped) {
			if (!dry) {
				r->out->guard_trips++;
				mc->stopped = true;
			}
			mc->max100 = true;
			return 0;
		}
	}
	if (!dry && res->held)
		mc->stopped = true;
	if (dry || res->held)
		return 0;
	mc->max100 = false;
	mc->stopped = false;
	mc->need_full = false;
	if (res->failed > 0 || res->lost_races > 0 || res->nerrors > 0) {
		mc->unsure = true;
		return 0;
	}
	return base_snapshot(r, m, perr);
}

static enum es_trigger_kind
kind_of(uint8_t op, uint32_t a)
{
	static const enum es_trigger_kind dry[4] = { ES_TRIGGER_ORDINARY,
	    ES_TRIGGER_FULL, ES_TRIGGER_PATHS, ES_TRIGGER_CHANGES };

	switch (op) {
	case SIM_PASS_PATHS:
		return ES_TRIGGER_PATHS;
	case SIM_PASS_CHANGES:
		return ES_TRIGGER_CHANGES;
	case SIM_PASS_FULL:
		return ES_TRIGGER_FULL;
	case SIM_DRY_RUN:
		return dry[a % 4];
	default:
		return ES_TRIGGER_ORDINARY;
	}
}

static bool
faults_pending(const struct sim_run *r, int m)
{
	return r->outage_left > 0 || r->race_pending || r->mach[m].crash_armed;
}

static int
pass_step(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	struct es_engine_result res, real;
	struct es_error perr;
	struct trig t;
	uint64_t d0, d1;
	int m = s->m, prc, prc2;
	bool check, real_ran;

	if (trig_build(r, m, kind_of(s->op, s->a), &t, err) < 0)
		return -1;
	if (s->op != SIM_DRY_RUN) {
		int rc = pass(r, m, &t, false, &res, &prc, &perr);

		if (rc == 0 && r->o->on_step != NULL && r->o->on_step(r->step,
		    s, &res.plan, r->o->ud) != 0)
			r->stop = true;
		r->stepped = true;
		es_engine_result_release(&res);
		trig_release(&t);
		return rc;
	}
	/* SPEC 4.9: a dry run changes nothing, and plans the real pass */
	check = !faults_pending(r, m);
	real_ran = false;
	if (sim_digest(r->env, &d0, err) < 0 ||
	    pass(r, m, &t, true, &res, &prc, &perr) < 0 ||
	    sim_digest(r->env, &d1, err) < 0) {
		es_engine_result_release(&res);
		trig_release(&t);
		return -1;
	}
	if (d0 != d1)
		fail(r, r->step, "dry run (SPEC 4.9) on machine %d changed a "
		    "file or a document", m);
	if (check && prc == 0 && !res.guard_stopped && !res.held &&
	    !r->out->failed) {
		char why[400];

		if (pass(r, m, &t, false, &real, &prc2, &perr) < 0) {
			es_engine_result_release(&res);
			es_engine_result_release(&real);
			trig_release(&t);
			return -1;
		}
		real_ran = true;
		if (prc2 == 0 && !real.guard_stopped && !real.held &&
		    !sim_plans_same(&res.plan, &real.plan, why, sizeof(why)))
			fail(r, r->step, "dry run (SPEC 4.9) on machine %d: "
			    "%s", m, why);
		if (r->o->on_step != NULL && r->o->on_step(r->step, s,
		    &real.plan, r->o->ud) != 0)
			r->stop = true;
		r->stepped = true;
		es_engine_result_release(&real);
	}
	/* events the dry run took and no real pass used: read everything */
	if (!real_ran && (t.npaths > 0 || t.nch > 0))
		r->mach[m].need_full = true;
	es_engine_result_release(&res);
	trig_release(&t);
	return 0;
}

static int
fault_step(struct sim_run *r, const struct sim_step *s)
{
	const struct sim_faults_ops *f = r->ops->faults;

	if (s->op == SIM_LOSE_EVENTS) {
		r->mach[s->m].lose = true;
		return 0;
	}
	if (f == NULL)
		return 0;
	switch (s->op) {
	case SIM_DB_OUTAGE:
		f->db_down(r->env->ctx, true);
		r->outage_left = (int)(s->a % 4) + 1;
		break;
	case SIM_CRASH:
		f->crash_at(r->env->ctx, s->m, s->a % 40 + 1);
		r->mach[s->m].crash_armed = true;
		break;
	case SIM_CLOCK_JUMP: {
		int64_t ms = (int64_t)(s->a % 3600 + 1) * 1000 *
		    (s->c % 4 == 0 ? 24 : 1);

		f->clock_jump(r->env->ctx, s->b % 2 == 1, s->c % 2 ? -ms : ms);
		break;
	}
	case SIM_CAS_RACE:
		f->cas_race(r->env->ctx, race_cb, r);
		r->race_pending = true;
		break;
	default:
		break;
	}
	return 0;
}

static int
run_step(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	if (s->m >= r->ops->nmachines)
		return 0;
	switch (s->op) {
	case SIM_PASS_PATHS:
	case SIM_PASS_CHANGES:
	case SIM_PASS_ORDINARY:
	case SIM_PASS_FULL:
	case SIM_DRY_RUN:
		return pass_step(r, s, err);
	case SIM_ADVANCE:
		r->ops->advance(r->env->ctx, (int64_t)(s->a % 600 + 1) * 1000 *
		    (s->b % 8 == 0 ? 60 : 1));
		return 0;
	case SIM_DB_OUTAGE:
	case SIM_CRASH:
	case SIM_LOSE_EVENTS:
	case SIM_CLOCK_JUMP:
	case SIM_CAS_RACE:
		return fault_step(r, s);
	default:
		if (s->op >= SIM_OP_N)
			return 0;
		/* the user's step; time moves a little for the mtimes */
		r->ops->advance(r->env->ctx, 1000);
		return sim_user_step(r, s, err);
	}
}

/* One pass of the final checks; the guard let through as a user would. */
static int
final_pass(struct sim_run *r, int m, enum es_trigger_kind kind,
    struct es_engine_result *res, struct es_error *err)
{
	struct es_error perr;
	int prc = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct trig t;

		if (attempt > 0)
			es_engine_result_release(res);
		if (trig_build(r, m, kind, &t, err) < 0)
			return -1;
		if (pass(r, m, &t, false, res, &prc, &perr) < 0) {
			trig_release(&t);
			return -1;
		}
		trig_release(&t);
		if (prc < 0) {
			fail(r, r->step, "final pass on machine %d failed: "
			    "%s: %s", m, perr.path, perr.msg);
			return 0;
		}
		if (!res->guard_stopped)
			return 0;
	}
	return 0;
}

static int
final_checks(struct sim_run *r, struct es_error *err)
{
	const struct sim_faults_ops *f = r->ops->faults;
	int nm = r->ops->nmachines;
	struct es_engine_result res;
	size_t lost, ferret;
	uint64_t d0, d1;
	char why[400];
	bool ok;

	if (f != NULL) {
		f->db_down(r->env->ctx, false);
		f->cas_race(r->env->ctx, NULL, NULL);
		for (int m = 0; m < nm; m++)
			f->crash_at(r->env->ctx, m, 0);
	}
	r->outage_left = 0;
	r->race_pending = false;
	for (int m = 0; m < nm; m++) {
		r->mach[m].crash_armed = false;
		r->mach[m].lose = false;
	}
	/* once faults stop, two passes make both sides agree */
	for (int round = 0; round < 2 && !r->out->failed; round++)
		for (int m = 0; m < nm && !r->out->failed; m++) {
			r->ops->advance(r->env->ctx, 2000);
			if (final_pass(r, m, round == 0 ? ES_TRIGGER_FULL :
			    ES_TRIGGER_ORDINARY, &res, err) < 0) {
				es_engine_result_release(&res);
				return -1;
			}
			es_engine_result_release(&res);
		}
	if (r->out->failed)
		return 0;
	if (sim_check_converged(r->env, &ok, why, sizeof(why), err) < 0)
		return -1;
	if (!ok) {
		fail(r, r->step, "no convergence after two passes per "
		    "machine: %s", why);
		return 0;
	}
	/* SPEC 4.8: a third pass changes nothing */
	if (sim_digest(r->env, &d0, err) < 0)
		return -1;
	for (int m = 0; m < nm && !r->out->failed; m++) {
		r->ops->advance(r->env->ctx, 2000);
		if (final_pass(r, m, ES_TRIGGER_ORDINARY, &res, err) < 0) {
			es_engine_result_release(&res);
			return -1;
		}
		if (sim_plan_changes(&res.plan, why, sizeof(why)))
			fail(r, r->step, "third pass on machine %d (SPEC 4.8) "
			    "plans a change: %s", m, why);
		es_engine_result_release(&res);
	}
	if (sim_digest(r->env, &d1, err) < 0)
		return -1;
	if (!r->out->failed && d0 != d1)
		fail(r, r->step, "third pass (SPEC 4.8) changed a file or a "
		    "document");
	/* nothing lost */
	if (sim_check_scan(r->env, &r->orc, err) < 0)
		return -1;
	lost = sim_oracle_verdict(&r->orc, r->o != NULL && r->o->cas_ferretdb,
	    &ferret, why, sizeof(why));
	r->out->ferretdb_window = ferret;
	if (lost > 0)
		fail(r, r->step, "%s%s", why, lost > 1 ? " (and more)" : "");
	return 0;
}

static FILE *
devnull(void)
{
	static FILE *f;

	if (f == NULL)
		f = fopen("/dev/null", "w");
	return f;
}

int
sim_run(const struct sim_history *h, struct sim_env *env,
    const struct sim_run_opts *o, struct sim_outcome *out,
    struct es_error *err)
{
	static const struct sim_run_opts none;
	struct sim_run r;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	es_error_clear(err);
	/* passes print nothing (EXECSYNC_SIM_LOG=1: everything, to read) */
	if (getenv("EXECSYNC_SIM_LOG") == NULL) {
		es_log_set_level(ES_LOG_ERROR);
		if (devnull() != NULL)
			es_log_set_stream(devnull());
	} else {
		es_log_set_level(ES_LOG_DEBUG);
		es_log_set_stream(NULL);
	}
	r.env = env;
	r.ops = env->ops;
	r.o = o != NULL ? o : &none;
	r.out = out;
	sim_rng_seed(&r.rng, h->seed ^ 0x5157ab1eULL);
	sim_oracle_init(&r.orc);
	es_buf_init(&r.b1, 4096);
	es_buf_init(&r.b2, 4096);
	es_buf_init(&r.b3, 4096);
	if (r.ops->faults != NULL)
		r.ops->faults->cas_ferretdb(env->ctx, r.o->cas_ferretdb);
	/* an execution-system folder: its three top folders, with a README */
	for (int m = 0; m < r.ops->nmachines && rc == 0; m++)
		for (int k = 0; k < 3 && rc == 0; k++) {
			static const char *const readme[3] = {
				"00k-next-actions/README.md",
				"10k-projects/README.md",
				"30k-goals/README.md",
			};
			static const char text[] = "Not synced.\n";

			rc = r.ops->write_file(env->ctx, m, readme[k], text,
			    sizeof(text) - 1, SIM_SAVE_IN_PLACE, err);
		}
	for (size_t i = 0; rc == 0 && i < h->n && !out->failed; i++) {
		const char *v;

		r.step = i;
		r.stepped = false;
		if (run_step(&r, &h->steps[i], err) < 0) {
			rc = -1;
			break;
		}
		if ((v = r.ops->violation(env->ctx)) != NULL)
			fail(&r, i, "violation: %s", v);
		if (!r.stepped && r.o->on_step != NULL && r.o->on_step(i,
		    &h->steps[i], NULL, r.o->ud) != 0)
			r.stop = true;
		if (r.stop)
			break;
	}
	r.step = h->n;
	if (rc == 0 && !out->failed)
		rc = final_checks(&r, err);
	if (rc == 0 && !out->failed) {
		const char *v = r.ops->violation(env->ctx);

		if (v != NULL)
			fail(&r, h->n, "violation: %s", v);
	}
	sim_files_clear(&r);
	sim_docs_clear(&r);
	free(r.files);
	free(r.docs);
	sim_oracle_release(&r.orc);
	es_buf_release(&r.b1);
	es_buf_release(&r.b2);
	es_buf_release(&r.b3);
	return rc;
}
