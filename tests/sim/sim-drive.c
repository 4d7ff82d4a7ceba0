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

int
sim_drive_parse_u64(const char *s, uint64_t *out)
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
			if (sim_drive_parse_u64(v, &n) < 0) {
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
		if (sim_drive_parse_u64(env_histories, &n) < 0 || n == 0 ||
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
void
sim_drive_env_failed(struct sim_outcome *o, const struct es_error *err)
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
int
sim_drive_run_seed(uint64_t seed, size_t steps, enum sim_cas_mode cas,
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
		sim_drive_env_failed(o, &err);
	if (hout != NULL)
		*hout = h;
	else
		sim_history_free(&h);
	return 0;
}

/* ---- the budget ---- */

struct failrec {
	uint64_t	 seed;
	uint64_t	 step;
	char		 why[512];
};

static void
worker(const struct sim_drive_args *a, unsigned j, unsigned jobs, int fd)
{
	struct failrec f[SIM_FAILS_KEPT];
	struct sim_tally t;
	char msg[256];

	memset(&t, 0, sizeof(t));
	memset(f, 0, sizeof(f));
	for (size_t i = j; i < a->histories; i += jobs) {
		struct sim_history h;
		struct sim_outcome o;
		uint64_t seed = a->seed_base + i;

		if (t.nfails == SIM_FAILS_KEPT && !a->keep_going)
			break;
		sim_drive_run_seed(seed, a->steps, a->cas, NULL, 0, NULL, NULL, &h, &o,
		    msg, sizeof(msg));
		sim_tally_add(&t, &h, &o);
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
budget(const struct sim_drive_args *a, unsigned jobs, struct sim_tally *t,
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
		struct sim_tally w;
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

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 && n < 1024 ? (unsigned)n : 1;
}

static int
run_budget(const struct sim_drive_args *a)
{
	struct sim_tally reg, t;
	struct failrec *fails = NULL;
	unsigned jobs = a->jobs ? a->jobs : online_cpus();
	double t0 = mono_s(), el;
	int bad = 0;

	memset(&t, 0, sizeof(t));
	memset(&reg, 0, sizeof(reg));
	if (a->regressions != NULL && sim_drive_regressions(a, &reg) < 0)
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
		sim_drive_report(stdout, fails[k].seed, a->steps, a->cas, NULL,
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
	printf("jobs: %u\n", a->histories > 0 ? jobs : 0);
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
		rc = sim_drive_replay(&a);
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
