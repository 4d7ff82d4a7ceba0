/*
 * The driver's own parts (issue 17, sim-drive.c, sim-shrink.c,
 * twin-env.c): execsync-sim's command line, step lists, the per-seed
 * choices, the shrinker on predicates whose minimal failing histories are
 * known, and the twin's user side on a real temporary folder.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es-test.h"

#include "execsync/buf.h"
#include "execsync/xmalloc.h"

#include "sim-drive.h"

static int
parse(struct sim_drive_args *a, const char *env, char *msg, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "execsync-sim";
	va_start(ap, msg);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	msg[0] = '\0';
	return sim_drive_parse(argc, argv, env, a, msg, 256);
}

static void
test_parse_budget(void **state)
{
	struct sim_drive_args a;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&a, NULL, msg, "--histories", "100000",
	    "--steps", "50", "--jobs=3", "--seed-base", "7", NULL), 0);
	assert_int_equal(a.mode, SIM_MODE_BUDGET);
	assert_int_equal(a.histories, 100000);
	assert_int_equal(a.steps, 50);
	assert_int_equal(a.jobs, 3);
	assert_int_equal(a.seed_base, 7);
	assert_int_equal(a.cas, SIM_CAS_ALTERNATE);
	assert_int_equal(parse(&a, NULL, msg, "--histories", "5",
	    "--ferretdb-cas", "--regressions", "r.txt", "--keep-going",
	    NULL), 0);
	assert_true(a.keep_going);
	assert_int_equal(a.cas, SIM_CAS_FERRETDB);
	assert_string_equal(a.regressions, "r.txt");
	assert_int_equal(a.steps, SIM_DRIVE_STEPS);
	assert_int_equal(a.jobs, 0);
	/* The regressions alone: no budget. */
	assert_int_equal(parse(&a, NULL, msg, "--regressions", "r.txt",
	    NULL), 0);
	assert_int_equal(a.histories, 0);
	assert_int_equal(parse(&a, NULL, msg, "--seed", "42", "--steps-list",
	    "1,3/0/0/1", "--verbose", "--cas", "atomic", NULL), 0);
	assert_int_equal(a.mode, SIM_MODE_REPLAY);
	assert_int_equal(a.seed, 42);
	assert_true(a.verbose);
	assert_int_equal(a.cas, SIM_CAS_ATOMIC);
	assert_string_equal(a.steps_list, "1,3/0/0/1");
	assert_int_equal(parse(&a, NULL, msg, "--twin", "--histories", "100",
	    NULL), 0);
	assert_int_equal(a.mode, SIM_MODE_TWIN);
	assert_int_equal(a.histories, 100);
	assert_int_equal(a.steps, SIM_DRIVE_TWIN_STEPS);
	assert_int_equal(parse(&a, NULL, msg, "--twin", "--seed", "9", NULL),
	    0);
	assert_int_equal(a.histories, 1);
	assert_int_equal(a.seed_base, 9);
}

/* EXECSYNC_SIM_HISTORIES replaces --histories, never the twin's. */
static void
test_parse_env_histories(void **state)
{
	struct sim_drive_args a;
	char msg[256];

	(void)state;
	assert_int_equal(parse(&a, "5000", msg, "--histories", "100000",
	    "--steps", "50", NULL), 0);
	assert_int_equal(a.histories, 5000);
	assert_int_equal(parse(&a, "", msg, "--histories", "100000", NULL),
	    0);
	assert_int_equal(a.histories, 100000);
	assert_int_equal(parse(&a, "5000", msg, "--twin", "--histories",
	    "100", NULL), 0);
	assert_int_equal(a.histories, 100);
	assert_int_equal(parse(&a, "lots", msg, "--histories", "10", NULL),
	    -1);
	assert_non_null(strstr(msg, "EXECSYNC_SIM_HISTORIES"));
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char	*argv[4];
		const char	*want;
	} bad[] = {
		{ { NULL }, "nothing to do" },
		{ { "--histories", NULL }, "needs a value" },
		{ { "--histories", "0", NULL }, "out of range" },
		{ { "--histories", "-3", NULL }, "bad number" },
		{ { "--histories", "12x", NULL }, "bad number" },
		{ { "--steps", "0", "--histories", "1" }, "out of range" },
		{ { "--jobs", "0", "--histories", "1" }, "out of range" },
		{ { "--frobnicate", NULL }, "unknown argument" },
		{ { "--cas", "sometimes", NULL }, "bad form" },
		{ { "--seed", "1", "--histories", "2" }, "replays one" },
		{ { "--steps-list", "1,2", "--histories", "2" }, "needs --seed" },
		{ { "--twin", "--regressions", "x", NULL }, "--twin takes" },
	};
	struct sim_drive_args a;
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[6] = { "execsync-sim" };
		int argc = 1;

		for (int k = 0; k < 4 && bad[i].argv[k] != NULL; k++)
			argv[argc++] = (char *)bad[i].argv[k];
		msg[0] = '\0';
		assert_int_equal(sim_drive_parse(argc, argv, NULL, &a, msg,
		    sizeof(msg)), -1);
		if (strstr(msg, bad[i].want) == NULL)
			fail_msg("case %zu: want '%s' in '%s'", i,
			    bad[i].want, msg);
	}
}

static void
test_picks(void **state)
{
	struct sim_pick *p;
	struct sim_history h, out;
	struct es_buf b = ES_BUF_INIT;
	char msg[256];
	size_t n;

	(void)state;
	assert_int_equal(sim_picks_parse("3,7/0/1/2,12", &p, &n, msg,
	    sizeof(msg)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[1].i, 7);
	assert_true(p[1].args);
	assert_int_equal(p[1].c, 2);
	assert_false(p[2].args);
	sim_picks_format(p, n, &b);
	assert_string_equal(b.buf, "3,7/0/1/2,12");
	h.seed = 1;
	h.n = 13;
	h.steps = es_xcalloc(h.n, sizeof(*h.steps));
	for (size_t i = 0; i < h.n; i++) {
		h.steps[i].op = (uint8_t)i;
		h.steps[i].a = h.steps[i].b = h.steps[i].c = 100;
	}
	assert_int_equal(sim_picks_apply(&h, p, n, &out, msg, sizeof(msg)), 0);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.steps[0].op, 3);
	assert_int_equal(out.steps[0].a, 100);
	assert_int_equal(out.steps[1].op, 7);
	assert_int_equal(out.steps[1].b, 1);
	free(out.steps);
	h.n = 12;	/* 12 is past it now */
	assert_int_equal(sim_picks_apply(&h, p, n, &out, msg, sizeof(msg)),
	    -1);
	assert_non_null(strstr(msg, "past"));
	free(p);
	free(h.steps);
	es_buf_release(&b);
	assert_int_equal(sim_picks_parse("3,3", &p, &n, msg, sizeof(msg)),
	    -1);
	assert_non_null(strstr(msg, "increase"));
	assert_int_equal(sim_picks_parse("3,x", &p, &n, msg, sizeof(msg)),
	    -1);
	assert_int_equal(sim_picks_parse("3/1/2", &p, &n, msg, sizeof(msg)),
	    -1);
	assert_int_equal(sim_picks_parse("", &p, &n, msg, sizeof(msg)), 0);
	assert_int_equal(n, 0);
	free(p);
}

static void
test_opts_for_seed(void **state)
{
	struct sim_gen_opts go;
	struct sim_env_opts eo;

	(void)state;
	sim_drive_opts_for(4, 50, SIM_CAS_ALTERNATE, true, &go, &eo);
	assert_false(eo.cas_ferretdb);
	assert_int_equal(eo.nmachines, 1);
	assert_int_equal(go.steps, 50);
	assert_true(go.faults);
	sim_drive_opts_for(7, 12, SIM_CAS_ALTERNATE, false, &go, &eo);
	assert_true(eo.cas_ferretdb);
	assert_int_equal(eo.nmachines, 2);
	assert_int_equal(go.nmachines, 2);
	assert_false(go.faults);
	sim_drive_opts_for(7, 12, SIM_CAS_ATOMIC, true, &go, &eo);
	assert_false(eo.cas_ferretdb);
	sim_drive_opts_for(4, 12, SIM_CAS_FERRETDB, true, &go, &eo);
	assert_true(eo.cas_ferretdb);
}

/*
 * A planted bug: fails when an SIM_API_RETITLE is followed, at any
 * distance, by a SIM_FILE_EDIT_FIELD whose a is even. Noise around them.
 */
struct pred {
	size_t	 runs;
};

static bool
retitle_then_edit(const struct sim_history *h, void *ud)
{
	struct pred *p = ud;
	bool seen = false;

	p->runs++;
	for (size_t i = 0; i < h->n; i++) {
		if (h->steps[i].op == SIM_API_RETITLE)
			seen = true;
		else if (seen && h->steps[i].op == SIM_FILE_EDIT_FIELD &&
		    h->steps[i].a % 2 == 0)
			return true;
	}
	return false;
}

static void
noise_history(struct sim_history *h, size_t n)
{
	h->seed = 1;
	h->n = n;
	h->steps = es_xcalloc(n, sizeof(*h->steps));
	for (size_t i = 0; i < n; i++) {
		h->steps[i].op = (uint8_t)(i % 2 ? SIM_PASS_FULL : SIM_ADVANCE);
		h->steps[i].a = (uint32_t)(i * 7919 + 1);
		h->steps[i].b = (uint32_t)(i * 31);
		h->steps[i].c = 5;
	}
}

static void
test_shrink_to_minimal(void **state)
{
	struct sim_history h;
	struct sim_pick *p;
	struct pred pr = { 0 };
	size_t n, runs;

	(void)state;
	noise_history(&h, 50);
	h.steps[11].op = SIM_API_RETITLE;
	h.steps[12].op = SIM_FILE_EDIT_FIELD;	/* before: no matter */
	h.steps[12].a = 4;
	h.steps[40].op = SIM_FILE_EDIT_FIELD;	/* odd a: no bug */
	h.steps[40].a = 3;
	h.steps[47].op = SIM_FILE_EDIT_FIELD;
	h.steps[47].a = 1000;
	assert_true(retitle_then_edit(&h, &pr));
	runs = sim_shrink_picks(&h, retitle_then_edit, &pr, 2000, &p, &n);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].i, 11);
	/* 12 comes first and is as good as 47: the shrinker keeps one. */
	assert_true(p[1].i == 12 || p[1].i == 40 || p[1].i == 47);
	/* Arguments toward 0: a even stays failing at 0. */
	assert_true(p[0].args);
	assert_int_equal(p[0].a, 0);
	assert_int_equal(p[0].b, 0);
	assert_int_equal(p[0].c, 0);
	assert_true(p[1].args);
	assert_int_equal(p[1].a, 0);
	assert_true(runs <= 2000);
	assert_int_equal(runs + 1, pr.runs);
	free(p);
	free(h.steps);
}

static bool
always(const struct sim_history *h, void *ud)
{
	(void)h;
	(*(size_t *)ud)++;
	return true;
}

static bool
never(const struct sim_history *h, void *ud)
{
	(void)h;
	(*(size_t *)ud)++;
	return false;
}

/* Bounded effort; nothing removed that the failure needs. */
static void
test_shrink_bounded(void **state)
{
	struct sim_history h;
	struct sim_pick *p;
	size_t n, runs, calls = 0;

	(void)state;
	noise_history(&h, 200);
	runs = sim_shrink_picks(&h, always, &calls, 2000, &p, &n);
	assert_int_equal(n, 0);
	assert_true(runs < 20);
	free(p);
	calls = 0;
	runs = sim_shrink_picks(&h, never, &calls, 25, &p, &n);
	assert_int_equal(runs, 25);
	assert_int_equal(calls, 25);
	assert_int_equal(n, 200);	/* nothing could go */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p[i].i, i);
		assert_false(p[i].args);
	}
	free(p);
	free(h.steps);
	assert_int_equal(sim_why_family("lost edit: file a.md"), 9);
	assert_int_equal(sim_why_family("no colon here"), 0);
	assert_int_equal(sim_why_family(": empty family"), 0);
}

/* ---- the twin's user side on a real folder ---- */

static int
collect(const char *rel, const void *buf, size_t len, void *ud)
{
	struct es_buf *b = ud;

	es_buf_addf(b, "%s=%.*s;", rel, (int)len, (const char *)buf);
	return 0;
}

static void
test_twin_save_patterns(void **state)
{
	static const char *const rels[SIM_SAVE_N] = {
		"10k-projects/active/a/in-place.md",
		"10k-projects/active/a/rename-over.md",
		"20k-goals/vim.md",
		"20k-goals/delete-create.md",
	};
	struct twin_opts o;
	struct sim_env e;
	struct es_error err;
	struct es_buf b = ES_BUF_INIT, want = ES_BUF_INIT;
	char **ev, path[PATH_MAX];
	size_t nev;
	struct stat st;
	int fd;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.nmachines = 2;
	o.start_ms = SIM_DRIVE_START_MS;
	assert_int_equal(twin_env_new(&o, &e, &err), 0);
	assert_null(e.ops->faults);
	assert_int_equal(e.ops->nmachines, 2);
	assert_null(e.ops->violation(e.ctx));
	for (int how = 0; how < SIM_SAVE_N; how++) {
		/* Twice: new, then over the old bytes. */
		assert_int_equal(e.ops->write_file(e.ctx, 0, rels[how], "old",
		    3, (enum sim_save)how, &err), 0);
		e.ops->advance(e.ctx, 1500);
		assert_int_equal(e.ops->write_file(e.ctx, 0, rels[how],
		    "new bytes", 9, (enum sim_save)how, &err), 0);
		snprintf(path, sizeof(path), "%s/%s", twin_env_root(&e, 0),
		    rels[how]);
		assert_int_equal(stat(path, &st), 0);
		/* mtime: the twin's clock, not the system's. */
		assert_int_equal((int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000, e.ops->fs_now_ms(e.ctx));
		es_buf_reset(&b);
		assert_int_equal(e.ops->read_file(e.ctx, 0, rels[how], &b,
		    &err), 1);
		assert_string_equal(b.buf, "new bytes");
	}
	assert_int_equal(e.ops->fs_now_ms(e.ctx), SIM_DRIVE_START_MS + 6000);
	assert_int_equal(e.ops->db_now_ms(e.ctx), SIM_DRIVE_START_MS + 6000);
	/* No temporary or backup file left; sorted walk. */
	es_buf_reset(&b);
	assert_int_equal(e.ops->each_file(e.ctx, 0, collect, &b, &err), 0);
	es_buf_addf(&want, "%s=new bytes;%s=new bytes;%s=new bytes;"
	    "%s=new bytes;", rels[0], rels[1], rels[3], rels[2]);
	assert_string_equal(b.buf, want.buf);
	/* Events: sorted, unique, the editors' side files too, as the
	 * simulated folder's (sim-fs-user.c); then empty. */
	assert_int_equal(e.ops->file_events(e.ctx, 0, &ev, &nev, &err), 0);
	assert_int_equal(nev, 6);
	assert_string_equal(ev[0], "10k-projects/active/a/.rename-over.md.swp");
	assert_string_equal(ev[1], rels[0]);
	assert_string_equal(ev[3], rels[3]);
	assert_string_equal(ev[5], "20k-goals/vim.md~");
	for (size_t i = 0; i < nev; i++)
		free(ev[i]);
	free(ev);
	assert_int_equal(e.ops->file_events(e.ctx, 0, &ev, &nev, &err), 0);
	assert_int_equal(nev, 0);
	free(ev);
	/* Rename and remove, read of an absent file, machine 1 apart. */
	assert_int_equal(e.ops->rename_file(e.ctx, 0, rels[2],
	    "20k-goals/sub/moved.md", &err), 0);
	assert_int_equal(e.ops->remove_file(e.ctx, 0, rels[0], &err), 0);
	es_buf_reset(&b);
	assert_int_equal(e.ops->read_file(e.ctx, 0, rels[0], &b, &err), 0);
	assert_int_equal(e.ops->file_events(e.ctx, 0, &ev, &nev, &err), 0);
	assert_int_equal(nev, 3);
	for (size_t i = 0; i < nev; i++)
		free(ev[i]);
	free(ev);
	es_buf_reset(&b);
	assert_int_equal(e.ops->each_file(e.ctx, 1, collect, &b, &err), 0);
	assert_int_equal(b.len, 0);
	assert_null(e.ops->violation(e.ctx));
	/* Something beside the roots is a violation. */
	snprintf(path, sizeof(path), "%s/../stray", twin_env_root(&e, 0));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(e.ops->violation(e.ctx));
	assert_non_null(strstr(e.ops->violation(e.ctx), "stray"));
	twin_env_free(&e);
	es_buf_release(&b);
	es_buf_release(&want);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_budget),
		cmocka_unit_test(test_parse_env_histories),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_picks),
		cmocka_unit_test(test_opts_for_seed),
		cmocka_unit_test(test_shrink_to_minimal),
		cmocka_unit_test(test_shrink_bounded),
		cmocka_unit_test(test_twin_save_patterns),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
