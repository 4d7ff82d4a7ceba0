/*
 * execsync-sim's reports, replays and regressions (issue 17 item 4): a
 * failure with its shrunk history and the command that replays it,
 * `--seed N [--steps-list LIST]` printing every step (and with --verbose
 * each pass's plan), and the regression file's seeds. The budget and the
 * command line are sim-drive.c.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/plan.h"
#include "execsync/xmalloc.h"

#include "sim-drive.h"

void
sim_tally_add(struct sim_tally *t, const struct sim_history *h,
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

/* Where a history of n steps failed, for people (steps from 1). */
static const char *
where(const struct sim_outcome *o, size_t n, char *buf, size_t size)
{
	if (o->step >= n)
		snprintf(buf, size, "in the final checks");
	else
		snprintf(buf, size, "at step %zu", o->step + 1);
	return buf;
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
void
sim_drive_report(FILE *f, uint64_t seed, size_t steps, enum sim_cas_mode cas,
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
	fprintf(f, "FAIL seed %" PRIu64 " (%s CAS, %d machine%s): %s: %s\n",
	    seed, eo.cas_ferretdb ? "FerretDB's" : "atomic", eo.nmachines,
	    eo.nmachines > 1 ? "s" : "", where(o, p0 ? np0 : steps, msg,
	    sizeof(msg)), o->why);
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
	fprintf(f, "  shrunk: %zu -> %zu steps (%zu runs): %s: %s\n",
	    h.n, hs.n, runs, where(&so, hs.n, msg, sizeof(msg)), so.why);
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
print_outcome(const struct sim_outcome *o, size_t n)
{
	printf("passes: %zu\nguard_trips: %zu\nconflicts: %zu\n"
	    "ferretdb_window: %zu\n", o->passes, o->guard_trips, o->conflicts,
	    o->ferretdb_window);
	if (o->failed && o->step >= n)
		printf("result: FAIL in the final checks: %s\n", o->why);
	else if (o->failed)
		printf("result: FAIL at step %zu: %s\n", o->step + 1, o->why);
	else
		printf("result: ok\n");
}

int
sim_drive_replay(const struct sim_drive_args *a)
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
		sim_drive_env_failed(&o, &err);
	replay_print_to(&r, h.n, &o);
	print_outcome(&o, h.n);
	free(p);
	sim_history_free(&h);
	return o.failed ? 1 : 0;
}

/* ---- regressions ---- */

/* Runs every line of path; failures reported (not shrunk: they are). */
int
sim_drive_regressions(const struct sim_drive_args *a, struct sim_tally *t)
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
		if (nt > 3 || sim_drive_parse_u64(tok[0], &seed) < 0 ||
		    (nt > 1 && (sim_drive_parse_u64(tok[1], &steps) < 0 || steps == 0 ||
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
		if (sim_drive_run_seed(seed, steps, a->cas, nt == 3 ? p : NULL, np,
		    NULL, NULL, &h, &o, msg, sizeof(msg)) < 0) {
			fprintf(stderr, "%s:%u: %s\n", a->regressions, lineno,
			    msg);
			free(p);
			fclose(f);
			return -1;
		}
		sim_tally_add(t, &h, &o);
		if (o.failed) {
			printf("regression %s:%u:\n", a->regressions, lineno);
			sim_drive_report(stdout, seed, steps, a->cas,
			    nt == 3 ? p : NULL, np, &o, false);
		}
		sim_history_free(&h);
		free(p);
	}
	fclose(f);
	return 0;
}

