/*
 * execsync-sim's driver (issue 17 items 4 and 5): the command line, the
 * budget run over worker processes, the replay of one seed (or of a step
 * list of it), the regression file, and the report of a failure with its
 * shrunk history. The twin is sim-twin.c, the shrinker sim-shrink.c.
 *
 * Workers: --jobs J processes (fork), worker j runs the seeds S + i with
 * i % J == j and writes its tally and its first failures (at most
 * SIM_FAILS_KEPT, then it stops, unless --keep-going) through a pipe; the
 * parent sums them, shrinks the first SIM_SHRINK_SHOWN failures and
 * prints the figures.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/log.h"
#include "execsync/plan.h"
#include "execsync/xmalloc.h"

#include "sim-drive.h"

#define SIM_FAILS_KEPT		4	/* per worker, then it stops */
#define SIM_SHRINK_SHOWN	3	/* failures shrunk and shown */

void
sim_drive_usage(FILE *f)
{
	fprintf(f,
	    "usage: execsync-sim --histories N [--steps M] [--jobs J] "
	    "[--seed-base S]\n"
	    "           [--cas alternate|atomic|ferretdb | --ferretdb-cas] "
	    "[--regressions FILE]\n"
	    "           [--keep-going]\n"
	    "       execsync-sim --seed N [--steps M] [--steps-list LIST|FILE] "
	    "[--verbose] [--cas ...]\n"
	    "       execsync-sim --regressions FILE\n"
	    "       execsync-sim --twin [--histories N | --seed N] "
	    "[--steps M] [--seed-base S]\n"
	    "EXECSYNC_SIM_HISTORIES, when set, replaces --histories "
	    "(not with --twin).\n"
	    "LIST: step indices of the seed's history, 0-based and "
	    "increasing, a step's\n"
	    "arguments optionally replaced: \"3,7/0/1/0,12\".\n");
}

static int
parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* "--name V" or "--name=V": the value, advancing *i; NULL: not this. */
static const char *
opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	const char *s = argv[*i];

	*missing = false;
	if (strncmp(s, name, n) != 0)
		return NULL;
	if (s[n] == '=')
		return s + n + 1;
	if (s[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int
sim_drive_parse(int argc, char **argv, const char *env_histories,
    struct sim_drive_args *a, char *msg, size_t msgsize)
{
	static const char *const num_opts[] = { "--histories", "--steps",
	    "--jobs", "--seed-base", "--seed" };
	bool has_hist = false, twin = false, missing;
	const char *v;
	uint64_t n;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		size_t k;

		for (k = 0; k < sizeof(num_opts) / sizeof(num_opts[0]); k++) {
			v = opt_value(argc, argv, &i, num_opts[k], &missing);
			if (v != NULL || missing)
				break;
		}
		if (k < sizeof(num_opts) / sizeof(num_opts[0])) {
			if (missing) {
				snprintf(msg, msgsize, "%s needs a value", s);
				return -1;
			}
			if (parse_u64(v, &n) < 0) {
				snprintf(msg, msgsize, "%s: bad number '%s'",
				    num_opts[k], v);
				return -1;
			}
			switch (k) {
			case 0:
				if (n == 0 || n > SIZE_MAX / 2)
					goto range;
				a->histories = n;
				has_hist = true;
				break;
			case 1:
				if (n == 0 || n > 100000)
					goto range;
				a->steps = n;
				break;
			case 2:
				if (n == 0 || n > 1024)
					goto range;
				a->jobs = (unsigned)n;
				break;
			case 3:
				a->seed_base = n;
				break;
			case 4:
				a->seed = n;
				a->has_seed = true;
				break;
			}
			continue;
range:
			snprintf(msg, msgsize, "%s: '%s' out of range",
			    num_opts[k], v);
			return -1;
		}
		if ((v = opt_value(argc, argv, &i, "--cas", &missing)) !=
		    NULL) {
			if (strcmp(v, "alternate") == 0)
				a->cas = SIM_CAS_ALTERNATE;
			else if (strcmp(v, "atomic") == 0)
				a->cas = SIM_CAS_ATOMIC;
			else if (strcmp(v, "ferretdb") == 0)
				a->cas = SIM_CAS_FERRETDB;
			else {
				snprintf(msg, msgsize, "--cas: bad form '%s' "
				    "(alternate, atomic, ferretdb)", v);
				return -1;
			}
		} else if ((v = opt_value(argc, argv, &i, "--steps-list",
		    &missing)) != NULL)
			a->steps_list = v;
		else if ((v = opt_value(argc, argv, &i, "--regressions",
		    &missing)) != NULL)
			a->regressions = v;
		else if (missing) {
			snprintf(msg, msgsize, "%s needs a value", s);
			return -1;
		} else if (strcmp(s, "--ferretdb-cas") == 0)
			a->cas = SIM_CAS_FERRETDB;
		else if (strcmp(s, "--verbose") == 0 || strcmp(s, "-v") == 0)
			a->verbose = true;
		else if (strcmp(s, "--keep-going") == 0)
			a->keep_going = true;
		else if (strcmp(s, "--twin") == 0)
			twin = true;
		else {
			snprintf(msg, msgsize, "unknown argument '%s'", s);
			return -1;
		}
	}
	if (twin) {
		if (a->regressions != NULL || a->steps_list != NULL) {
			snprintf(msg, msgsize, "--twin takes no --regressions "
			    "or --steps-list");
			return -1;
		}
		if (a->has_seed && has_hist) {
			snprintf(msg, msgsize, "--seed and --histories "
			    "exclude each other");
			return -1;
		}
		a->mode = SIM_MODE_TWIN;
		if (a->has_seed) {
			a->seed_base = a->seed;
			a->histories = 1;
		} else if (!has_hist)
			a->histories = 100;
		if (a->steps == 0)
			a->steps = SIM_DRIVE_TWIN_STEPS;
		return 0;
	}
	if (a->steps == 0)
		a->steps = SIM_DRIVE_STEPS;
	if (a->has_seed) {
		if (has_hist || a->regressions != NULL) {
			snprintf(msg, msgsize, "--seed replays one history: "
			    "no --histories or --regressions");
			return -1;
		}
		a->mode = SIM_MODE_REPLAY;
		return 0;
	}
	if (a->steps_list != NULL) {
		snprintf(msg, msgsize, "--steps-list needs --seed");
		return -1;
	}
	if (!has_hist && a->regressions == NULL) {
		snprintf(msg, msgsize, "nothing to do: give --histories, "
		    "--seed, --regressions or --twin");
		return -1;
	}
	a->mode = SIM_MODE_BUDGET;
	if (has_hist && env_histories != NULL && env_histories[0] != '\0') {
		if (parse_u64(env_histories, &n) < 0 || n == 0 ||
		    n > SIZE_MAX / 2) {
			snprintf(msg, msgsize, "EXECSYNC_SIM_HISTORIES: bad "
			    "number '%s'", env_histories);
			return -1;
		}
		a->histories = n;
	}
	return 0;
}

/* ---- step lists ---- */

int
sim_picks_parse(const char *s, struct sim_pick **out, size_t *n, char *msg,
    size_t msgsize)
{
	struct sim_pick *p = NULL;
	size_t np = 0, alloc = 0;
	const char *c = s;

	while (*c != '\0') {
		struct sim_pick k;
		uint32_t v[3];
		unsigned long long x;
		char *end;

		memset(&k, 0, sizeof(k));
		if (!isdigit((unsigned char)*c))
			goto bad;
		errno = 0;
		x = strtoull(c, &end, 10);
		if (errno != 0 || x > SIZE_MAX / 2)
			goto bad;
		k.i = (size_t)x;
		c = end;
		if (*c == '/') {
			for (int j = 0; j < 3; j++) {
				if (*c != '/' || !isdigit((unsigned char)c[1]))
					goto bad;
				errno = 0;
				x = strtoull(c + 1, &end, 10);
				if (errno != 0 || x > UINT32_MAX)
					goto bad;
				v[j] = (uint32_t)x;
				c = end;
			}
			k.args = true;
			k.a = v[0];
			k.b = v[1];
			k.c = v[2];
		}
		if (np > 0 && k.i <= p[np - 1].i) {
			snprintf(msg, msgsize, "step list: %zu after %zu: "
			    "indices must increase", k.i, p[np - 1].i);
			free(p);
			return -1;
		}
		if (np == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			p = es_xreallocarray(p, alloc, sizeof(*p));
		}
		p[np++] = k;
		if (*c == ',')
			c++;
		else if (*c != '\0')
			goto bad;
	}
	*out = p;
	*n = np;
	return 0;
bad:
	snprintf(msg, msgsize, "step list: bad entry at '%.20s' (want "
	    "i or i/a/b/c, comma-separated)", c);
	free(p);
	return -1;
}

void
sim_picks_format(const struct sim_pick *p, size_t n, struct es_buf *out)
{
	for (size_t k = 0; k < n; k++) {
		es_buf_addf(out, "%s%zu", k ? "," : "", p[k].i);
		if (p[k].args)
			es_buf_addf(out, "/%" PRIu32 "/%" PRIu32 "/%" PRIu32,
			    p[k].a, p[k].b, p[k].c);
	}
}

int
sim_picks_apply(const struct sim_history *h, const struct sim_pick *p,
    size_t n, struct sim_history *out, char *msg, size_t msgsize)
{
	out->seed = h->seed;
	out->n = 0;
	out->steps = es_xcalloc(n ? n : 1, sizeof(*out->steps));
	for (size_t k = 0; k < n; k++) {
		if (p[k].i >= h->n) {
			snprintf(msg, msgsize, "step list: step %zu past the "
			    "history's %zu steps", p[k].i, h->n);
			free(out->steps);
			out->steps = NULL;
			return -1;
		}
		out->steps[k] = h->steps[p[k].i];
		if (p[k].args) {
			out->steps[k].a = p[k].a;
			out->steps[k].b = p[k].b;
			out->steps[k].c = p[k].c;
		}
	}
	out->n = n;
	return 0;
}

/* A step list given as a file: its text without # comments and blanks. */
static char *
picks_text(const char *arg, char *msg, size_t msgsize)
{
	struct es_buf b = ES_BUF_INIT, t = ES_BUF_INIT;
	bool comment = false;
	FILE *f;
	int c;

	if (strspn(arg, "0123456789,/") == strlen(arg))
		return es_xstrdup(arg);
	if ((f = fopen(arg, "r")) == NULL) {
		snprintf(msg, msgsize, "%s: %s", arg, strerror(errno));
		return NULL;
	}
	while ((c = fgetc(f)) != EOF)
		es_buf_addch(&b, c);
	fclose(f);
	for (size_t i = 0; i < b.len; i++) {
		if (b.buf[i] == '#')
			comment = true;
		else if (b.buf[i] == '\n')
			comment = false;
		if (!comment && !isspace((unsigned char)b.buf[i]))
			es_buf_addch(&t, b.buf[i]);
	}
	es_buf_release(&b);
	return es_buf_detach(&t, NULL);
}

/* ---- one history ---- */

void
sim_drive_opts_for(uint64_t seed, size_t steps, enum sim_cas_mode cas,
    bool faults, struct sim_gen_opts *go, struct sim_env_opts *eo)
{
	int machines = 1 + (int)((seed >> 1) & 1);

	memset(go, 0, sizeof(*go));
	memset(eo, 0, sizeof(*eo));
	go->steps = steps;
	go->faults = faults;
	go->nmachines = machines;
	eo->nmachines = machines;
	eo->start_ms = SIM_DRIVE_START_MS;
	eo->cas_ferretdb = cas == SIM_CAS_FERRETDB ||
	    (cas == SIM_CAS_ALTERNATE && (seed & 1) != 0);
}

int
sim_drive_run(const struct sim_history *h, const struct sim_env_opts *eo,
    sim_step_cb cb, void *ud, struct sim_outcome *out, struct es_error *err)
{
	struct sim_run_opts ro;
	struct sim_env env;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sim_env_new(eo, &env, err) < 0)
		return -1;
	memset(&ro, 0, sizeof(ro));
	ro.cas_ferretdb = eo->cas_ferretdb;
	ro.on_step = cb;
	ro.ud = ud;
	rc = sim_run(h, &env, &ro, out, err);
	sim_env_free(&env);
	return rc;
}

/* An env that failed is a failure of the history too. */
static void
env_failed(struct sim_outcome *o, const struct es_error *err)
{
	char m[PATH_MAX + 600];

	o->failed = true;
	snprintf(o->why, sizeof(o->why), "env: %s",
	    es_error_format(err, m, sizeof(m)));
}

/*
 * The history of seed (steps long), picked by p[0..np) when p is not
 * NULL, run on a fresh env. 0, or -1 when the step list does not fit.
 */
static int
run_seed(uint64_t seed, size_t steps, enum sim_cas_mode cas,
    const struct sim_pick *p, size_t np, sim_step_cb cb, void *ud,
    struct sim_history *hout, struct sim_outcome *o, char *msg,
    size_t msgsize)
{
	struct sim_gen_opts go;
	struct sim_env_opts eo;
	struct sim_history h, hp;
	struct es_error err;

	sim_drive_opts_for(seed, steps, cas, true, &go, &eo);
	sim_gen(seed, &go, &h);
	if (p != NULL) {
		if (sim_picks_apply(&h, p, np, &hp, msg, msgsize) < 0) {
			sim_history_free(&h);
			return -1;
		}
		sim_history_free(&h);
		h = hp;
	}
	if (sim_drive_run(&h, &eo, cb, ud, o, &err) < 0)
		env_failed(o, &err);
	if (hout != NULL)
		*hout = h;
	else
		sim_history_free(&h);
	return 0;
}

/* ---- reports ---- */

static const char *
cas_flag(enum sim_cas_mode cas)
{
	switch (cas) {
	case SIM_CAS_ATOMIC:
		return " --cas atomic";
	case SIM_CAS_FERRETDB:
		return " --ferretdb-cas";
	case SIM_CAS_ALTERNATE:
	default:
		return "";
	}
}

/* Numbered steps, with their index in the seed's history. */
static void
print_steps(FILE *f, const struct sim_history *h, const struct sim_pick *p)
{
	struct es_buf b = ES_BUF_INIT;

	for (size_t i = 0; i < h->n; i++) {
		es_buf_reset(&b);
		sim_step_describe(&h->steps[i], &b);
		fprintf(f, "  %3zu. [#%zu] %s\n", i + 1, p ? p[i].i : i,
		    b.buf);
	}
	es_buf_release(&b);
}

/* p (picks of a history picked by base) in terms of the seed's history. */
static void
picks_compose(const struct sim_pick *base, struct sim_pick *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct sim_pick *b = &base[p[k].i];

		if (!p[k].args && b->args) {
			p[k].args = true;
			p[k].a = b->a;
			p[k].b = b->b;
			p[k].c = b->c;
		}
		p[k].i = b->i;
	}
}

/*
 * A failure: seed, why, and with shrink the shrunk history with its
 * replay command (and the line for regressions.txt).
 */
static void
report_failure(FILE *f, uint64_t seed, size_t steps, enum sim_cas_mode cas,
    const struct sim_pick *p0, size_t np0, const struct sim_outcome *o,
    bool shrink)
{
	struct sim_gen_opts go;
	struct sim_env_opts eo;
	struct sim_history h, hs;
	struct sim_outcome so;
	struct sim_pick *ps = NULL;
	struct es_buf list = ES_BUF_INIT;
	struct es_error err;
	size_t nps = 0, runs = 0;
	char msg[256];

	sim_drive_opts_for(seed, steps, cas, true, &go, &eo);
	fprintf(f, "FAIL seed %" PRIu64 " (%s CAS, %d machine%s): step %zu: "
	    "%s\n", seed, eo.cas_ferretdb ? "FerretDB's" : "atomic",
	    eo.nmachines, eo.nmachines > 1 ? "s" : "", o->step, o->why);
	if (p0 != NULL)
		sim_picks_format(p0, np0, &list);
	if (!shrink) {
		fprintf(f, "  replay: execsync-sim --seed %" PRIu64
		    " --steps %zu%s%s%s\n", seed, steps, cas_flag(cas),
		    list.len ? " --steps-list " : "", list.buf);
		es_buf_release(&list);
		return;
	}
	sim_gen(seed, &go, &h);
	if (p0 != NULL) {
		struct sim_history hp;

		if (sim_picks_apply(&h, p0, np0, &hp, msg, sizeof(msg)) < 0) {
			fprintf(f, "  %s\n", msg);
			sim_history_free(&h);
			es_buf_release(&list);
			return;
		}
		sim_history_free(&h);
		h = hp;
	}
	if (sim_shrink_ex(&h, &eo, &hs, &ps, &nps, &runs, &so, &err) < 0) {
		fprintf(f, "  shrink: %s\n", err.msg);
		sim_history_free(&h);
		es_buf_release(&list);
		return;
	}
	if (p0 != NULL)
		picks_compose(p0, ps, nps);
	es_buf_reset(&list);
	sim_picks_format(ps, nps, &list);
	fprintf(f, "  shrunk: %zu -> %zu steps (%zu runs): step %zu: %s\n",
	    h.n, hs.n, runs, so.step, so.why);
	print_steps(f, &hs, ps);
	fprintf(f, "  replay: execsync-sim --seed %" PRIu64 " --steps %zu%s "
	    "--steps-list %s\n", seed, steps, cas_flag(cas), list.buf);
	fprintf(f, "  regression line: %" PRIu64 " %zu %s\n", seed, steps,
	    list.buf);
	free(ps);
	sim_history_free(&hs);
	sim_history_free(&h);
	es_buf_release(&list);
}

/* ---- replay ---- */

struct replay {
	const struct sim_history	*h;
	const struct sim_pick		*p;
	bool				 verbose;
	size_t				 next;	/* steps printed */
};

/* Steps up to upto; fail: the failing step (tagged, and the rest). */
static void
replay_print_to(struct replay *r, size_t upto, const struct sim_outcome *fail)
{
	struct es_buf b = ES_BUF_INIT;

	for (; r->next < upto && r->next < r->h->n; r->next++) {
		const char *tag = "";

		if (fail != NULL && fail->failed)
			tag = r->next == fail->step ? "   <- fails here" :
			    r->next > fail->step ? "   (not run)" : "";
		es_buf_reset(&b);
		sim_step_describe(&r->h->steps[r->next], &b);
		printf("%3zu. [#%zu] %s%s\n", r->next + 1,
		    r->p ? r->p[r->next].i : r->next, b.buf, tag);
	}
	es_buf_release(&b);
}

static int
replay_step(size_t i, const struct sim_step *s, const struct es_plan *plan,
    void *ud)
{
	struct replay *r = ud;
	struct es_buf b = ES_BUF_INIT;

	(void)s;
	replay_print_to(r, i + 1, NULL);
	if (r->verbose && plan != NULL) {
		for (size_t k = 0; k < plan->n; k++) {
			es_buf_reset(&b);
			es_op_describe(&plan->ops[k], &b);
			printf("       op %s\n", b.buf);
		}
		if (plan->n == 0)
			printf("       (no op)\n");
	}
	es_buf_release(&b);
	return 0;
}

static void
print_outcome(const struct sim_outcome *o)
{
	printf("passes: %zu\nguard_trips: %zu\nconflicts: %zu\n"
	    "ferretdb_window: %zu\n", o->passes, o->guard_trips, o->conflicts,
	    o->ferretdb_window);
	if (o->failed)
		printf("result: FAIL at step %zu: %s\n", o->step, o->why);
	else
		printf("result: ok\n");
}

static int
replay(const struct sim_drive_args *a)
{
	struct sim_gen_opts go;
	struct sim_env_opts eo;
	struct sim_history h, hp;
	struct sim_pick *p = NULL;
	struct sim_outcome o;
	struct replay r;
	struct es_error err;
	size_t np = 0;
	char msg[256], *text;

	sim_drive_opts_for(a->seed, a->steps, a->cas, true, &go, &eo);
	sim_gen(a->seed, &go, &h);
	if (a->steps_list != NULL) {
		if ((text = picks_text(a->steps_list, msg, sizeof(msg))) ==
		    NULL || sim_picks_parse(text, &p, &np, msg,
		    sizeof(msg)) < 0 || sim_picks_apply(&h, p, np, &hp, msg,
		    sizeof(msg)) < 0) {
			fprintf(stderr, "execsync-sim: %s\n", msg);
			free(text);
			free(p);
			sim_history_free(&h);
			return 2;
		}
		free(text);
		sim_history_free(&h);
		h = hp;
	}
	printf("seed %" PRIu64 ": %zu steps, %s CAS, %d machine%s\n", a->seed,
	    h.n, eo.cas_ferretdb ? "FerretDB's" : "atomic", eo.nmachines,
	    eo.nmachines > 1 ? "s" : "");
	memset(&r, 0, sizeof(r));
	r.h = &h;
	r.p = p;
	r.verbose = a->verbose;
	if (sim_drive_run(&h, &eo, replay_step, &r, &o, &err) < 0)
		env_failed(&o, &err);
	replay_print_to(&r, h.n, &o);
	print_outcome(&o);
	free(p);
	sim_history_free(&h);
	return o.failed ? 1 : 0;
}

/* ---- the budget ---- */

struct tally {
	uint64_t	 histories, steps, failures, window;
	uint64_t	 passes, guard_trips, conflicts;
	uint64_t	 nfails;	/* records that follow */
};

struct failrec {
	uint64_t	 seed;
	uint64_t	 step;
	char		 why[512];
};

static void
tally_add(struct tally *t, const struct sim_history *h,
    const struct sim_outcome *o)
{
	t->histories++;
	t->steps += h->n;
	t->window += o->ferretdb_window;
	t->passes += o->passes;
	t->guard_trips += o->guard_trips;
	t->conflicts += o->conflicts;
	if (o->failed)
		t->failures++;
}

static void
worker(const struct sim_drive_args *a, unsigned j, unsigned jobs, int fd)
{
	struct failrec f[SIM_FAILS_KEPT];
	struct tally t;
	char msg[256];

	memset(&t, 0, sizeof(t));
	memset(f, 0, sizeof(f));
	for (size_t i = j; i < a->histories; i += jobs) {
		struct sim_history h;
		struct sim_outcome o;
		uint64_t seed = a->seed_base + i;

		if (t.nfails == SIM_FAILS_KEPT && !a->keep_going)
			break;
		run_seed(seed, a->steps, a->cas, NULL, 0, NULL, NULL, &h, &o,
		    msg, sizeof(msg));
		tally_add(&t, &h, &o);
		sim_history_free(&h);
		if (o.failed && t.nfails < SIM_FAILS_KEPT) {
			f[t.nfails].seed = seed;
			f[t.nfails].step = o.step;
			memcpy(f[t.nfails].why, o.why, sizeof(o.why));
			f[t.nfails].why[sizeof(f->why) - 1] = '\0';
			t.nfails++;
		}
	}
	if (es_write_all(fd, &t, sizeof(t)) < 0 ||
	    es_write_all(fd, f, t.nfails * sizeof(f[0])) < 0)
		exit(3);
}

static int
cmp_fail(const void *x, const void *y)
{
	const struct failrec *a = x, *b = y;

	return a->seed < b->seed ? -1 : a->seed > b->seed;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the workers; t summed, *fails (malloc'd) their failures. */
static int
budget(const struct sim_drive_args *a, unsigned jobs, struct tally *t,
    struct failrec **fails)
{
	pid_t pid[1024];
	int fds[1024], rc = 0;
	struct failrec *all = NULL;
	size_t nall = 0;

	memset(t, 0, sizeof(*t));
	fflush(NULL);
	for (unsigned j = 0; j < jobs; j++) {
		int p[2];

		if (pipe(p) < 0) {
			perror("execsync-sim: pipe");
			return -1;
		}
		if ((pid[j] = fork()) < 0) {
			perror("execsync-sim: fork");
			return -1;
		}
		if (pid[j] == 0) {
			for (unsigned k = 0; k < j; k++)
				close(fds[k]);
			close(p[0]);
			worker(a, j, jobs, p[1]);
			close(p[1]);
			exit(0);
		}
		close(p[1]);
		fds[j] = p[0];
	}
	for (unsigned j = 0; j < jobs; j++) {
		struct es_buf b = ES_BUF_INIT;
		struct tally w;
		int st;

		if (es_buf_read_fd(&b, fds[j], 1 << 20) != 0 ||
		    b.len < sizeof(w)) {
			fprintf(stderr, "execsync-sim: worker %u sent no "
			    "tally\n", j);
			rc = -1;
		} else {
			memcpy(&w, b.buf, sizeof(w));
			if (b.len != sizeof(w) + w.nfails *
			    sizeof(struct failrec)) {
				fprintf(stderr, "execsync-sim: worker %u: bad "
				    "report\n", j);
				rc = -1;
			} else {
				t->histories += w.histories;
				t->steps += w.steps;
				t->failures += w.failures;
				t->window += w.window;
				t->passes += w.passes;
				t->guard_trips += w.guard_trips;
				t->conflicts += w.conflicts;
				all = es_xreallocarray(all, nall + w.nfails +
				    1, sizeof(*all));
				memcpy(all + nall, b.buf + sizeof(w),
				    w.nfails * sizeof(*all));
				nall += w.nfails;
			}
		}
		es_buf_release(&b);
		close(fds[j]);
		while (waitpid(pid[j], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "execsync-sim: worker %u died "
			    "(status %d)\n", j, st);
			rc = -1;
		}
	}
	if (nall > 0)
		qsort(all, nall, sizeof(*all), cmp_fail);
	t->nfails = nall;
	*fails = all;
	return rc;
}

/* ---- regressions ---- */

/* Runs every line of path; failures reported (not shrunk: they are). */
static int
regressions(const struct sim_drive_args *a, struct tally *t)
{
	FILE *f = fopen(a->regressions, "r");
	char line[8192], msg[256];
	unsigned lineno = 0;

	memset(t, 0, sizeof(*t));
	if (f == NULL) {
		fprintf(stderr, "execsync-sim: %s: %s\n", a->regressions,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tok[4], *save = NULL, *c;
		struct sim_pick *p = NULL;
		struct sim_history h;
		struct sim_outcome o;
		uint64_t seed, steps = a->steps;
		size_t np = 0, nt = 0;

		lineno++;
		if ((c = strchr(line, '#')) != NULL)
			*c = '\0';
		for (c = strtok_r(line, " \t\r\n", &save); c != NULL && nt < 4;
		    c = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = c;
		if (nt == 0)
			continue;
		if (nt > 3 || parse_u64(tok[0], &seed) < 0 ||
		    (nt > 1 && (parse_u64(tok[1], &steps) < 0 || steps == 0 ||
		    steps > 100000))) {
			fprintf(stderr, "%s:%u: bad line (want: seed [steps] "
			    "[step-list])\n", a->regressions, lineno);
			fclose(f);
			return -1;
		}
		if (nt == 3 && sim_picks_parse(tok[2], &p, &np, msg,
		    sizeof(msg)) < 0) {
			fprintf(stderr, "%s:%u: %s\n", a->regressions, lineno,
			    msg);
			fclose(f);
			return -1;
		}
		if (run_seed(seed, steps, a->cas, nt == 3 ? p : NULL, np,
		    NULL, NULL, &h, &o, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "%s:%u: %s\n", a->regressions, lineno,
			    msg);
			free(p);
			fclose(f);
			return -1;
		}
		tally_add(t, &h, &o);
		if (o.failed) {
			printf("regression %s:%u:\n", a->regressions, lineno);
			report_failure(stdout, seed, steps, a->cas,
			    nt == 3 ? p : NULL, np, &o, false);
		}
		sim_history_free(&h);
		free(p);
	}
	fclose(f);
	return 0;
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 && n < 1024 ? (unsigned)n : 1;
}

static int
run_budget(const struct sim_drive_args *a)
{
	struct tally reg, t;
	struct failrec *fails = NULL;
	unsigned jobs = a->jobs ? a->jobs : online_cpus();
	double t0 = mono_s(), el;
	int bad = 0;

	memset(&t, 0, sizeof(t));
	memset(&reg, 0, sizeof(reg));
	if (a->regressions != NULL && regressions(a, &reg) < 0)
		return 2;
	if (a->histories > 0) {
		if (jobs > a->histories)
			jobs = (unsigned)a->histories;
		if (budget(a, jobs, &t, &fails) < 0)
			bad = 1;
	}
	el = mono_s() - t0;
	for (size_t k = 0; k < t.nfails; k++) {
		struct sim_outcome o;

		memset(&o, 0, sizeof(o));
		o.failed = true;
		o.step = fails[k].step;
		memcpy(o.why, fails[k].why, sizeof(o.why));
		report_failure(stdout, fails[k].seed, a->steps, a->cas, NULL,
		    0, &o, k < SIM_SHRINK_SHOWN);
	}
	free(fails);
	if (t.histories < a->histories && !bad)
		printf("stopped after the first failures of each worker "
		    "(--keep-going runs all %zu)\n", a->histories);
	if (a->regressions != NULL)
		printf("regressions: %" PRIu64 "\nregression_failures: %"
		    PRIu64 "\n", reg.histories, reg.failures);
	printf("histories: %" PRIu64 "\n", t.histories);
	printf("steps: %zu\n", a->steps);
	printf("steps_total: %" PRIu64 "\n", t.steps + reg.steps);
	printf("failures: %" PRIu64 "\n", t.failures + reg.failures);
	printf("ferretdb_window: %" PRIu64 "\n", t.window + reg.window);
	printf("passes: %" PRIu64 "\n", t.passes + reg.passes);
	printf("guard_trips: %" PRIu64 "\n", t.guard_trips + reg.guard_trips);
	printf("conflicts: %" PRIu64 "\n", t.conflicts + reg.conflicts);
	printf("jobs: %u\n", jobs);
	printf("elapsed_s: %.2f\n", el);
	printf("histories_per_s: %.1f\n",
	    el > 0 ? (double)(t.histories + reg.histories) / el : 0.0);
	if (bad)
		return 2;
	return t.failures + reg.failures == 0 ? 0 : 1;
}

int
sim_drive_main(int argc, char **argv)
{
	struct sim_drive_args a;
	FILE *devnull = NULL;
	char msg[512];
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		sim_drive_usage(stdout);
		return 0;
	}
	if (sim_drive_parse(argc, argv, getenv("EXECSYNC_SIM_HISTORIES"), &a,
	    msg, sizeof(msg)) < 0) {
		fprintf(stderr, "execsync-sim: %s\n", msg);
		sim_drive_usage(stderr);
		return 2;
	}
	/* Passes print nothing: the figures are the output. */
	es_log_set_level(ES_LOG_ERROR);
	if (!a.verbose && (devnull = fopen("/dev/null", "w")) != NULL)
		es_log_set_stream(devnull);
	switch (a.mode) {
	case SIM_MODE_REPLAY:
		rc = replay(&a);
		break;
	case SIM_MODE_TWIN:
		rc = sim_twin_main(&a);
		break;
	case SIM_MODE_BUDGET:
	default:
		rc = run_budget(&a);
		break;
	}
	fflush(stdout);
	es_log_set_stream(NULL);
	if (devnull != NULL)
		fclose(devnull);
	return rc;
}
