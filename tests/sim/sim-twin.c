/*
 * execsync-sim --twin (issue 17 item 5): the same histories (faults off,
 * short) on the simulated env and on the real one (twin-env.c: real
 * folders, the real baseline, the fixture's FerretDB), compared after
 * every step.
 *
 * Lockstep without threads: sim_run() drives the twin; after the twin's
 * step i its observer replays steps 0..i of the same history on a fresh
 * simulated env (a history is a pure function of its seed, and short:
 * the quadratic cost is nothing beside one real pass) and, at step i,
 * compares the two: the operation lists (op, direction, kind, document
 * id, path, source path; shown with es_op_describe()) and
 * sim_env_same(). After the last step both runs' final checks are
 * compared the same way. The simulated env uses FerretDB's CAS form, as
 * the real store does on FerretDB (without faults no race can tell the
 * two forms apart).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/plan.h"
#include "execsync/store.h"
#include "execsync/xmalloc.h"

#include "es-itest.h"
#include "sim-drive.h"

struct opkey {
	int		 op, dir, kind;
	char		 id[25];
	char		*rel, *from, *desc;
};

struct oplist {
	struct opkey	*k;
	size_t		 n;
	bool		 none;	/* the step ran no pass */
};

static void
oplist_release(struct oplist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->k[i].rel);
		free(l->k[i].from);
		free(l->k[i].desc);
	}
	free(l->k);
	memset(l, 0, sizeof(*l));
}

static void
oplist_from(const struct es_plan *p, struct oplist *l)
{
	struct es_buf b = ES_BUF_INIT;

	oplist_release(l);
	if (p == NULL) {
		l->none = true;
		return;
	}
	l->k = es_xcalloc(p->n ? p->n : 1, sizeof(*l->k));
	l->n = p->n;
	for (size_t i = 0; i < p->n; i++) {
		const struct es_op *op = &p->ops[i];
		struct opkey *k = &l->k[i];

		k->op = (int)op->op;
		k->dir = (int)op->dir;
		k->kind = (int)op->kind;
		if (op->value != NULL && op->value->meta.has_id)
			bson_oid_to_string(&op->value->meta.id, k->id);
		else if (op->action != NULL && op->action->meta.has_id)
			bson_oid_to_string(&op->action->meta.id, k->id);
		k->rel = op->rel ? es_xstrdup(op->rel) : NULL;
		k->from = op->rel_from ? es_xstrdup(op->rel_from) : NULL;
		es_buf_reset(&b);
		es_op_describe(op, &b);
		k->desc = es_buf_detach(&b, NULL);
	}
	es_buf_release(&b);
}

static bool
str_eq(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
oplist_equal(const struct oplist *a, const struct oplist *b)
{
	if (a->none != b->none || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct opkey *x = &a->k[i], *y = &b->k[i];

		if (x->op != y->op || x->dir != y->dir || x->kind != y->kind ||
		    strcmp(x->id, y->id) != 0 || !str_eq(x->rel, y->rel) ||
		    !str_eq(x->from, y->from))
			return false;
	}
	return true;
}

static void
oplist_print(FILE *f, const char *side, const struct oplist *l)
{
	fprintf(f, "  %s:%s\n", side, l->none ? " (no pass)" :
	    l->n == 0 ? " (no op)" : "");
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "    %s\n", l->k[i].desc);
}

struct lockstep {
	const struct sim_history	*h;
	struct sim_env_opts		 eo;
	struct sim_env			*twin;
	struct sim_env			 sim;
	size_t				 target;
	bool				 reached;
	struct oplist			 tw_ops, sim_ops;
	/* the verdict */
	size_t				 agreed;
	bool				 disagree;
	size_t				 step;
	char				 why[1024];
};

static int
sim_side(size_t i, const struct sim_step *s, const struct es_plan *plan,
    void *ud)
{
	struct lockstep *ls = ud;
	char why[512];

	(void)s;
	if (i != ls->target)
		return 0;
	ls->reached = true;
	oplist_from(plan, &ls->sim_ops);
	if (!oplist_equal(&ls->sim_ops, &ls->tw_ops)) {
		ls->disagree = true;
		snprintf(ls->why, sizeof(ls->why), "the operation lists "
		    "differ");
	} else if (!sim_env_same(&ls->sim, ls->twin, why, sizeof(why))) {
		ls->disagree = true;
		snprintf(ls->why, sizeof(ls->why), "the envs differ: %s", why);
	}
	return 1;
}

/* The simulated env's steps 0..target; sim_side() compares at target. */
static int
sim_upto(struct lockstep *ls, size_t target, struct sim_outcome *o)
{
	struct sim_run_opts ro;
	struct es_error err;
	int rc;

	ls->target = target;
	ls->reached = false;
	memset(o, 0, sizeof(*o));
	if (sim_env_new(&ls->eo, &ls->sim, &err) < 0) {
		memset(&ls->sim, 0, sizeof(ls->sim));
		snprintf(ls->why, sizeof(ls->why), "sim env: %s", err.msg);
		return -1;
	}
	memset(&ro, 0, sizeof(ro));
	ro.cas_ferretdb = ls->eo.cas_ferretdb;
	ro.on_step = sim_side;
	ro.ud = ls;
	rc = sim_run(ls->h, &ls->sim, &ro, o, &err);
	if (rc < 0)
		snprintf(ls->why, sizeof(ls->why), "sim run: %s", err.msg);
	return rc;
}

static int
twin_side(size_t i, const struct sim_step *s, const struct es_plan *plan,
    void *ud)
{
	struct lockstep *ls = ud;
	struct sim_outcome o;
	int rc;

	(void)s;
	oplist_from(plan, &ls->tw_ops);
	rc = sim_upto(ls, i, &o);
	if (ls->sim.ops != NULL)
		sim_env_free(&ls->sim);
	ls->step = i;
	if (rc < 0) {
		ls->disagree = true;
		return 1;
	}
	if (!ls->reached) {
		ls->disagree = true;
		snprintf(ls->why, sizeof(ls->why), "the simulation stopped "
		    "before step %zu: %s", i, o.why);
		return 1;
	}
	if (ls->disagree)
		return 1;
	ls->agreed++;
	return 0;
}

struct twin_tally {
	size_t	 histories, steps, agreed, disagreements, twin_failures;
	bool	 shown;
};

static void
show(FILE *f, const struct lockstep *ls, uint64_t seed, bool final)
{
	struct es_buf b = ES_BUF_INIT;

	fprintf(f, "DISAGREE seed %" PRIu64 " %s %zu: %s\n", seed,
	    final ? "after the final checks, steps" : "step", ls->step,
	    ls->why);
	fprintf(f, "  history:\n");
	for (size_t i = 0; i < ls->h->n && (final || i <= ls->step); i++) {
		es_buf_reset(&b);
		sim_step_describe(&ls->h->steps[i], &b);
		fprintf(f, "  %3zu. %s%s\n", i + 1, b.buf, !final &&
		    i == ls->step ? "   <- here" : "");
	}
	oplist_print(f, "twin", &ls->tw_ops);
	oplist_print(f, "sim", &ls->sim_ops);
	fprintf(f, "  replay: execsync-sim --twin --seed %" PRIu64
	    " --steps %zu\n", seed, ls->h->n);
	es_buf_release(&b);
}

/* One seed on both sides. 0 agreed, 1 disagreed, -1 the twin failed. */
static int
one_seed(const char *uri, uint64_t seed, size_t steps, struct twin_tally *t)
{
	struct sim_gen_opts go;
	struct sim_history h;
	struct sim_run_opts ro;
	struct sim_outcome tw_out, sim_out;
	struct twin_opts to;
	struct lockstep ls;
	struct sim_env twin;
	struct es_error err;
	char dbname[64], why[512];
	int rc = 0;

	memset(&ls, 0, sizeof(ls));
	sim_drive_opts_for(seed, steps, SIM_CAS_FERRETDB, false, &go, &ls.eo);
	sim_gen(seed, &go, &h);
	ls.h = &h;
	snprintf(dbname, sizeof(dbname), "es_t_twin_%ld_%" PRIu64,
	    (long)getpid(), seed);
	memset(&to, 0, sizeof(to));
	to.uri = uri;
	to.dbname = dbname;
	to.nmachines = ls.eo.nmachines;
	to.start_ms = ls.eo.start_ms;
	if (twin_env_new(&to, &twin, &err) < 0) {
		fprintf(stderr, "execsync-sim: twin of seed %" PRIu64 ": %s: "
		    "%s\n", seed, err.path, err.msg);
		sim_history_free(&h);
		return -1;
	}
	ls.twin = &twin;
	memset(&ro, 0, sizeof(ro));
	ro.cas_ferretdb = true;
	ro.on_step = twin_side;
	ro.ud = &ls;
	if (sim_run(&h, &twin, &ro, &tw_out, &err) < 0) {
		fprintf(stderr, "execsync-sim: twin of seed %" PRIu64 ": %s: "
		    "%s\n", seed, err.path, err.msg);
		rc = -1;
		goto out;
	}
	t->histories++;
	t->steps += ls.disagree ? ls.step + 1 : h.n;
	t->agreed += ls.agreed;
	if (tw_out.failed)
		t->twin_failures++;
	if (!ls.disagree) {
		/* The final checks of both runs. */
		if (sim_upto(&ls, SIZE_MAX, &sim_out) < 0)
			ls.disagree = true;
		else if (tw_out.failed != sim_out.failed) {
			ls.disagree = true;
			snprintf(ls.why, sizeof(ls.why), "final checks: twin "
			    "%.480s, sim %.480s", tw_out.failed ? tw_out.why : "ok",
			    sim_out.failed ? sim_out.why : "ok");
		} else if (!sim_env_same(&ls.sim, &twin, why, sizeof(why))) {
			ls.disagree = true;
			snprintf(ls.why, sizeof(ls.why), "after the final "
			    "checks the envs differ: %s", why);
		}
		if (ls.sim.ops != NULL)
			sim_env_free(&ls.sim);
		ls.step = h.n;
		if (ls.disagree) {
			oplist_release(&ls.tw_ops);
			oplist_release(&ls.sim_ops);
		}
	}
	if (ls.disagree) {
		t->disagreements++;
		rc = 1;
		if (!t->shown) {
			show(stdout, &ls, seed, ls.step == h.n);
			t->shown = true;
		}
	}
out:
	oplist_release(&ls.tw_ops);
	oplist_release(&ls.sim_ops);
	twin_env_free(&twin);
	sim_history_free(&h);
	return rc;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
sim_twin_main(const struct sim_drive_args *a)
{
	struct twin_tally t;
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	const char *bin = getenv("ES_BINARY_DIR");
	char path[PATH_MAX], *uri;
	double t0 = mono_s(), el;
	int errors = 0;

	if (env == NULL || env[0] == '\0') {
		snprintf(path, sizeof(path), "%s/ferretdb-test/uri",
		    bin ? bin : ".");
		if (bin == NULL || access(path, R_OK) < 0) {
			fprintf(stderr, "execsync-sim: --twin needs a server: "
			    "EXECSYNC_TEST_MONGODB_URI, or ES_BINARY_DIR with "
			    "the ferretdb fixture running (ctest -R "
			    "sim.twin)\n");
			return 2;
		}
	}
	uri = es_itest_uri();
	es_store_global_init();
	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < a->histories; i++)
		if (one_seed(uri, a->seed_base + i, a->steps, &t) < 0)
			errors++;
	el = mono_s() - t0;
	es_store_global_cleanup();
	free(uri);
	printf("histories: %zu\n", t.histories);
	printf("steps: %zu\n", t.steps);
	printf("agreed_steps: %zu\n", t.agreed);
	printf("disagreements: %zu\n", t.disagreements);
	printf("twin_failures: %zu\n", t.twin_failures);
	printf("twin_errors: %d\n", errors);
	printf("elapsed_s: %.2f\n", el);
	if (errors > 0)
		return 2;
	return t.disagreements == 0 && t.twin_failures == 0 ? 0 : 1;
}
