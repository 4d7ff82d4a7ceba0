/*
 * The generator (issue 17 item 2): a seed becomes a list of steps. A pure
 * function of the seed and the options: xoshiro256** seeded through
 * splitmix64, no other source of randomness.
 *
 * Steps are weighted so histories are interesting: edits on both sides
 * and passes of every kind most of the time, faults at a lower rate. One
 * history in eight holds a "bulk" episode: the projects grow past the
 * deletion guard's minimum, get synced, and then most of them go at once
 * (a git checkout on a machine, or a bulk delete through the API), so the
 * guard of SPEC 4.15 trips and the user lets it through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "sim-hist.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint32_t
sim_rng_below(struct sim_rng *r, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)((sim_rng_next(r) >> 32) % n);
}

/* Weights of each op (faults only with o->faults). */
static const struct {
	uint8_t	 op;
	uint8_t	 w;
	bool	 fault;
} weights[] = {
	{ SIM_FILE_CREATE, 12, false },
	{ SIM_FILE_EDIT_FIELD, 10, false },
	{ SIM_FILE_EDIT_BODY, 12, false },
	{ SIM_FILE_MOVE, 4, false },
	{ SIM_FILE_DELETE, 3, false },
	{ SIM_ACTION_ADD, 12, false },
	{ SIM_ACTION_EDIT, 8, false },
	{ SIM_ACTION_MOVE, 4, false },
	{ SIM_ACTION_COMPLETE, 4, false },
	{ SIM_ACTION_DELETE, 3, false },
	{ SIM_GIT_CHECKOUT, 2, false },
	{ SIM_API_CREATE, 10, false },
	{ SIM_API_EDIT_FIELD, 8, false },
	{ SIM_API_EDIT_CONTENT, 10, false },
	{ SIM_API_RETITLE, 4, false },
	{ SIM_API_MOVE_PROJECT, 4, false },
	{ SIM_API_DELETE_PROJECT, 2, false },
	{ SIM_API_ACTION_CREATE, 8, false },
	{ SIM_API_ACTION_EDIT, 6, false },
	{ SIM_API_ACTION_COMPLETE, 4, false },
	{ SIM_API_ACTION_DELETE, 2, false },
	{ SIM_PASS_PATHS, 12, false },
	{ SIM_PASS_CHANGES, 10, false },
	{ SIM_PASS_ORDINARY, 10, false },
	{ SIM_PASS_FULL, 6, false },
	{ SIM_DRY_RUN, 4, false },
	{ SIM_ADVANCE, 8, false },
	{ SIM_DB_OUTAGE, 3, true },
	{ SIM_CRASH, 4, true },
	{ SIM_LOSE_EVENTS, 2, true },
	{ SIM_CLOCK_JUMP, 2, true },
	{ SIM_CAS_RACE, 4, true },
};

static void
put(struct sim_history *h, size_t *i, struct sim_rng *r, uint8_t op,
    uint8_t m, uint32_t a, uint32_t b, uint32_t c)
{
	struct sim_step *s;

	if (*i >= h->n)
		return;
	s = &h->steps[(*i)++];
	s->op = op;
	s->m = m;
	s->a = a;
	s->b = b;
	s->c = c;
	(void)r;
}

/*
 * The bulk episode: about 11 projects, a pass on each machine, most of
 * them deleted at once on one side, passes again.
 */
static void
bulk(struct sim_history *h, size_t *i, struct sim_rng *r, int nm)
{
	uint32_t n = 10 + sim_rng_below(r, 2);
	bool api = sim_rng_below(r, 2) == 0;
	uint8_t m = (uint8_t)sim_rng_below(r, (uint32_t)nm);

	for (uint32_t k = 0; k < n; k++) {
		/* a % 3 != 0: a project */
		uint32_t a = 3 * sim_rng_below(r, 1000) + 1;

		if (sim_rng_below(r, 2) == 0)
			put(h, i, r, SIM_FILE_CREATE, m, a,
			    sim_rng_below(r, 1u << 30),
			    sim_rng_below(r, 1u << 30));
		else
			put(h, i, r, SIM_API_CREATE, m, a,
			    sim_rng_below(r, 1u << 30),
			    sim_rng_below(r, 1u << 30));
	}
	for (int k = 0; k < nm; k++)
		put(h, i, r, SIM_PASS_FULL, (uint8_t)k, 0, 0, 0);
	if (api)
		put(h, i, r, SIM_API_DELETE_PROJECT, m, sim_rng_below(r, 100),
		    0, 0);		/* c % 8 == 0: bulk */
	else
		put(h, i, r, SIM_GIT_CHECKOUT, m, sim_rng_below(r, 100), 0,
		    0);		/* b % 4 == 0: bulk delete */
	for (int k = 0; k < nm; k++)
		put(h, i, r, SIM_PASS_ORDINARY, (uint8_t)k, 0, 0, 0);
}

void
sim_gen(uint64_t seed, const struct sim_gen_opts *o, struct sim_history *h)
{
	struct sim_rng r;
	unsigned total = 0;
	int nm = o->nmachines < 1 ? 1 : o->nmachines > SIM_MACHINES_MAX ?
	    SIM_MACHINES_MAX : o->nmachines;
	size_t i = 0, bulk_at = SIZE_MAX;

	sim_rng_seed(&r, seed);
	h->seed = seed;
	h->n = o->steps;
	h->steps = es_xcalloc(h->n + 1, sizeof(*h->steps));
	for (size_t k = 0; k < sizeof(weights) / sizeof(weights[0]); k++)
		if (o->faults || !weights[k].fault)
			total += weights[k].w;
	if (h->n >= 20 && sim_rng_below(&r, 8) == 0)
		bulk_at = sim_rng_below(&r, (uint32_t)(h->n / 3));
	while (i < h->n) {
		uint32_t x = sim_rng_below(&r, total);
		uint8_t op = SIM_ADVANCE;

		if (i == bulk_at) {
			bulk(h, &i, &r, nm);
			continue;
		}
		for (size_t k = 0; k < sizeof(weights) / sizeof(weights[0]);
		    k++) {
			if (!o->faults && weights[k].fault)
				continue;
			if (x < weights[k].w) {
				op = weights[k].op;
				break;
			}
			x -= weights[k].w;
		}
		put(h, &i, &r, op, (uint8_t)sim_rng_below(&r, (uint32_t)nm),
		    (uint32_t)(sim_rng_next(&r) >> 33),
		    (uint32_t)(sim_rng_next(&r) >> 33),
		    (uint32_t)(sim_rng_next(&r) >> 33));
	}
}

void
sim_history_free(struct sim_history *h)
{
	if (h == NULL)
		return;
	free(h->steps);
	h->steps = NULL;
	h->n = 0;
}

static const char *const names[SIM_OP_N] = {
	[SIM_FILE_CREATE] = "file: create",
	[SIM_FILE_EDIT_FIELD] = "file: edit field",
	[SIM_FILE_EDIT_BODY] = "file: edit body",
	[SIM_FILE_MOVE] = "file: move",
	[SIM_FILE_DELETE] = "file: delete",
	[SIM_ACTION_ADD] = "file: add action",
	[SIM_ACTION_EDIT] = "file: edit action",
	[SIM_ACTION_MOVE] = "file: move action",
	[SIM_ACTION_COMPLETE] = "file: complete action",
	[SIM_ACTION_DELETE] = "file: delete action",
	[SIM_GIT_CHECKOUT] = "git: checkout",
	[SIM_API_CREATE] = "api: create",
	[SIM_API_EDIT_FIELD] = "api: edit field",
	[SIM_API_EDIT_CONTENT] = "api: edit content",
	[SIM_API_RETITLE] = "api: retitle project",
	[SIM_API_MOVE_PROJECT] = "api: move project",
	[SIM_API_DELETE_PROJECT] = "api: delete project",
	[SIM_API_ACTION_CREATE] = "api: create action",
	[SIM_API_ACTION_EDIT] = "api: edit action",
	[SIM_API_ACTION_COMPLETE] = "api: complete action",
	[SIM_API_ACTION_DELETE] = "api: delete action",
	[SIM_PASS_PATHS] = "pass: paths",
	[SIM_PASS_CHANGES] = "pass: changes",
	[SIM_PASS_ORDINARY] = "pass: ordinary",
	[SIM_PASS_FULL] = "pass: full",
	[SIM_DRY_RUN] = "pass: dry run",
	[SIM_ADVANCE] = "time: advance",
	[SIM_DB_OUTAGE] = "fault: database down",
	[SIM_CRASH] = "fault: crash",
	[SIM_LOSE_EVENTS] = "fault: lose file events",
	[SIM_CLOCK_JUMP] = "fault: clock jump",
	[SIM_CAS_RACE] = "fault: CAS race",
};

void
sim_step_describe(const struct sim_step *s, struct es_buf *out)
{
	const char *name = s->op < SIM_OP_N ? names[s->op] : "?";

	es_buf_addf(out, "m%u %s", (unsigned)s->m, name);
	switch (s->op) {
	case SIM_FILE_CREATE:
	case SIM_API_CREATE:
		es_buf_addf(out, " %s", s->a % 3 != 0 ? "project" : "goal");
		break;
	case SIM_GIT_CHECKOUT:
		es_buf_addf(out, " (%s)", s->b % 4 == 0 ? "deletes most" :
		    s->b % 4 == 1 ? "adds several" : "edits several");
		break;
	case SIM_API_DELETE_PROJECT:
		if (s->c % 8 == 0) {
			es_buf_addstr(out, " (most of them)");
			return;
		}
		break;
	case SIM_DB_OUTAGE:
		es_buf_addf(out, " for %u passes", s->a % 4 + 1);
		return;
	case SIM_CRASH:
		es_buf_addf(out, " at call %u of the next pass", s->a % 40 + 1);
		return;
	case SIM_CLOCK_JUMP:
		es_buf_addf(out, " (%s)", s->b % 2 ? "database" : "workstation");
		break;
	default:
		break;
	}
	es_buf_addf(out, " #%u #%u #%u", s->a, s->b, s->c);
}
