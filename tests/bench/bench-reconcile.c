/*
 * execsync-bench reconcile: the sync engine's passes after an import, against
 * their floors (issue 5; BENCHMARKS.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <mongoc/mongoc.h>
#include "execsync/action-line.h"
#include "execsync/action-list.h"
#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/engine.h"
#include "execsync/entity-file.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/scan.h"
#include "execsync/store.h"

#include "bench.h"

/* ---- reconcile: the sync engine's passes (issue 5) ---- */

#define NOOP_REPEAT	3
#define FLOOR_REPEAT	5
#define NEDIT		10
#define DAY_MS		(INT64_C(24) * 3600 * 1000)
/* 9999-12-31: a since that no document passes. */
#define FAR_FUTURE_MS	INT64_C(253402214400000)

struct pass_fig {
	double		 wall, cpu;
	uint64_t	 rt;
	size_t		 docs_read, files_read, ops, failed;
	bool		 full;
};

/* One migrated tree and what a pass needs. */
struct rec {
	char			*tree;	/* realpath, malloc'd */
	char			*db;
	int			 root;
	struct es_store		*store;
	struct es_baseline	*b;
	char			*ident;
};

static size_t nwalked;

static int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
walk_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path; (void)sb; (void)flag; (void)ftw;
	nwalked++;
	return 0;
}

/* The floor of the file side: nftw lstat()s every entry, reads nothing. */
static double
stat_walk(const char *tree, size_t *n)
{
	double t0 = now_ms();

	nwalked = 0;
	nftw(tree, walk_entry, 64, FTW_PHYS);
	*n = nwalked;
	return now_ms() - t0;
}

static int
count_doc(const bson_t *doc, void *ud)
{
	(void)doc;
	(*(size_t *)ud)++;
	return 0;
}

/*
 * The floor of the database side: one empty since-query per collection;
 * per_kind[k] gets each one's time (FerretDB scans the collection for it,
 * so the actions collection, ten times the others, weighs most).
 */
static double
query_floor(struct es_store *s, uint64_t *rt, size_t *ndocs,
    double per_kind[3])
{
	struct es_error err;
	uint64_t rt0 = es_store_round_trips(s);
	double t0 = now_ms(), t;

	*ndocs = 0;
	for (int k = 0; k < 3; k++) {
		t = now_ms();
		if (es_store_find(s, (enum es_kind)k, "bench", FAR_FUTURE_MS,
		    count_doc, ndocs, &err) < 0)
			report("query floor", &err);
		per_kind[k] = now_ms() - t;
	}
	t0 = now_ms() - t0;
	*rt = es_store_round_trips(s) - rt0;
	return t0;
}

/*
 * The bare full read of every document (the three collections, in the
 * order and batches es_store_find() uses): what any --resync pays the
 * server, with no decoding of ours.
 */
static double
full_read(struct es_store *s, uint64_t *rt, size_t *ndocs)
{
	struct es_error err;
	uint64_t rt0 = es_store_round_trips(s);
	double t0 = now_ms();

	*ndocs = 0;
	for (int k = 0; k < 3; k++)
		if (es_store_find(s, (enum es_kind)k, "bench", -1, count_doc,
		    ndocs, &err) < 0)
			report("full read", &err);
	t0 = now_ms() - t0;
	*rt = es_store_round_trips(s) - rt0;
	return t0;
}

/*
 * The same documents read with no sort and replies of up to 10,000
 * documents (a plain libmongoc find): what a full read could cost the
 * server if it asked for no order.
 */
static double
full_read_unsorted(const char *uri, const char *db, uint64_t *batches,
    size_t *ndocs)
{
	mongoc_client_t *c = mongoc_client_new(uri);
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	double t0 = now_ms();

	*ndocs = 0;
	*batches = 0;
	if (c == NULL)
		return 0;
	BSON_APPEND_UTF8(&filter, "user_id", "bench");
	BSON_APPEND_INT32(&opts, "batchSize", 10000);
	for (int k = 0; k < 3; k++) {
		mongoc_collection_t *col = mongoc_client_get_collection(c, db,
		    es_store_collection_name((enum es_kind)k));
		mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col,
		    &filter, &opts, NULL);
		const bson_t *doc;
		bson_error_t be;

		while (mongoc_cursor_next(cur, &doc))
			(*ndocs)++;
		if (mongoc_cursor_error(cur, &be))
			fprintf(stderr, "unsorted read: %s\n", be.message);
		*batches += (*ndocs + 9999) / 10000;
		mongoc_cursor_destroy(cur);
		mongoc_collection_destroy(col);
	}
	t0 = now_ms() - t0;
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_client_destroy(c);
	return t0;
}

static void
rec_close(struct rec *x)
{
	es_baseline_free(x->b);
	x->b = NULL;
	es_store_free(x->store);
	x->store = NULL;
	if (x->root >= 0)
		close(x->root);
	x->root = -1;
	free(x->ident);
	x->ident = NULL;
}

static int
rec_open_baseline(struct rec *x)
{
	struct es_error err;

	if ((x->b = es_baseline_open_root(x->tree, &err)) == NULL) {
		report("baseline", &err);
		return -1;
	}
	return 0;
}

/* Imports tree into a fresh database db, then opens what a pass needs
 * (commands limited to timeout_ms). */
static int
rec_open(struct rec *x, const char *tree, const char *uri, const char *db,
    unsigned timeout_ms)
{
	struct es_migrate_opts o;
	struct es_migrate_result mr;
	struct es_error err;
	int rc;

	memset(x, 0, sizeof(*x));
	x->root = -1;
	if ((x->tree = realpath(tree, NULL)) == NULL) {
		fprintf(stderr, "execsync-bench: %s: %s\n", tree,
		    strerror(errno));
		return -1;
	}
	x->db = strdup(db);
	memset(&o, 0, sizeof(o));
	o.source = x->tree;
	o.uri = uri;
	o.database = db;
	o.user_id = "bench";
	rc = es_migrate_run(&o, &mr, &err);
	if (rc < 0)
		report("import", &err);
	else if (es_migrate_total(&mr).failed > 0) {
		fprintf(stderr, "import: %zu failed\n",
		    es_migrate_total(&mr).failed);
		rc = -1;
	} else
		fprintf(stderr, "imported %zu documents in %.0f ms\n", mr.docs,
		    mr.total_ms);
	es_migrate_result_release(&mr);
	if (rc < 0)
		return -1;
	if ((x->root = open(x->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "execsync-bench: %s: %s\n", x->tree,
		    strerror(errno));
		return -1;
	}
	x->store = open_store_timeout(uri, db, timeout_ms);
	if (es_store_ensure_indexes(x->store, &err) < 0) {
		report("indexes", &err);
		return -1;
	}
	x->ident = es_migrate_identity(uri, db, "bench");
	return rec_open_baseline(x);
}

/* One pass as execsyncd --once makes it (the clock at now), timed. */
static int
rec_pass(struct rec *x, bool resync, int64_t now, struct pass_fig *f)
{
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_error err;
	struct es_world w;
	struct es_trigger t;
	double t0, c0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.root = x->tree;
	o.root_fd = x->root;
	o.user_id = "bench";
	o.identity = x->ident;
	o.policy = ES_POLICY_NEWEST;
	o.resync = resync;
	o.max_delete = 50;
	o.full_pass_s = 600;	/* execsyncd's default */
	/* As es_engine_once(), with the clock at now. */
	es_world_real_init(&w, x->root, x->b, x->store);
	es_world_clock_fixed(&w, &now);
	memset(&t, 0, sizeof(t));
	t.kind = resync ? ES_TRIGGER_FULL : ES_TRIGGER_ORDINARY;
	es_engine_result_init(&r);
	c0 = cpu_ms();
	t0 = now_ms();
	rc = es_pass_run(&o, &w, &t, &r, &err);
	f->wall = now_ms() - t0;
	f->cpu = cpu_ms() - c0;
	f->rt = r.round_trips;
	f->docs_read = r.docs_read;
	f->files_read = r.files_read;
	f->ops = r.plan.n;
	f->failed = r.failed;
	f->full = r.full_read;
	if (rc < 0)
		report("pass", &err);
	for (size_t i = 0; i < r.nerrors; i++)
		report("pass item", &r.errors[i]);
	if (r.held || r.guard_stopped) {
		fprintf(stderr, "pass: held or stopped by the guard\n");
		rc = -1;
	}
	fprintf(stderr, "pass%s: %.1f ms, cpu %.1f ms, %llu round trips, "
	    "%zu files read, %zu documents read (%s), %zu ops, %zu failed\n",
	    resync ? " (resync)" : "", f->wall, f->cpu,
	    (unsigned long long)f->rt, f->files_read, f->docs_read,
	    f->full ? "full" : "recent", f->ops, f->failed);
	es_engine_result_release(&r);
	return rc < 0 || f->failed > 0 ? -1 : 0;
}

/* Deletes the baseline (SQLite file and journals) and opens a new one. */
static int
rec_forget(struct rec *x)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };

	es_baseline_free(x->b);
	x->b = NULL;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p;

		if (asprintf(&p, "%s/%s%s", x->tree, ES_BASELINE_FILE,
		    suffix[i]) < 0)
			exit(2);
		if (unlink(p) < 0 && errno != ENOENT)
			perror(p);
		free(p);
	}
	return rec_open_baseline(x);
}

/*
 * Edits n project files, picked evenly through the tree: one body line
 * changed (the last non-empty one gets a suffix), and an mtime set past
 * any the file had, as an editor's save gives it.
 */
static int
edit_projects(struct rec *x, size_t n, const char *tag, time_t mtime)
{
	struct es_scan_result sr;
	struct es_scan_opts opts = { NULL };
	struct es_error err;
	size_t nproj = 0, done = 0, k = 0, step;

	if (es_scan(x->root, &opts, &sr, &err) < 0) {
		report("scan", &err);
		return -1;
	}
	for (size_t i = 0; i < sr.n; i++)
		nproj += sr.entries[i].info.kind == ES_KIND_PROJECT;
	step = nproj / n ? nproj / n : 1;
	for (size_t i = 0; i < sr.n && done < n; i++) {
		const struct es_scan_entry *en = &sr.entries[i];
		struct es_buf b = ES_BUF_INIT, out = ES_BUF_INIT;
		struct es_stat st;
		struct timespec ts[2];
		size_t end;
		int fd;

		if (en->info.kind != ES_KIND_PROJECT || k++ % step != 0)
			continue;
		if (es_scan_read(x->root, en->rel, MAX_FILE, &b, &st,
		    &err) < 0) {
			report("read", &err);
			continue;
		}
		end = b.len;
		while (end > 0 && (b.buf[end - 1] == '\n' ||
		    b.buf[end - 1] == ' '))
			end--;
		es_buf_add(&out, b.buf, end);
		es_buf_add(&out, " (", 2);
		es_buf_add(&out, tag, strlen(tag));
		es_buf_add(&out, ")", 1);
		es_buf_add(&out, b.buf + end, b.len - end);
		fd = openat(x->root, en->rel, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || write(fd, out.buf, out.len) != (ssize_t)out.len)
			perror(en->rel);
		if (fd >= 0)
			close(fd);
		ts[0].tv_sec = ts[1].tv_sec = mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (utimensat(x->root, en->rel, ts, AT_SYMLINK_NOFOLLOW) < 0)
			perror(en->rel);
		es_buf_release(&b);
		es_buf_release(&out);
		done++;
	}
	es_scan_result_release(&sr);
	return done == n ? 0 : -1;
}

int
cmd_reconcile(const char *uri_arg)
{
	char *fdb = NULL, *uri = NULL, *tree = NULL, *big = NULL;
	char *db1 = NULL, *db10 = NULL;
	struct rec x1, x10;
	struct pass_fig first, noop[NOOP_REPEAT], ten, full, settle, late;
	struct pass_fig rs, rs10, settled, noop10[NOOP_REPEAT], rk, rk10;
	double walk[FLOOR_REPEAT], floor[FLOOR_REPEAT], nw[NOOP_REPEAT];
	double kfloor[3][FLOOR_REPEAT], per_kind[3];
	double w, q, noop_wall, noop_cpu, noop10_cpu, fr1, fr10;
	double fu1, fu10;
	uint64_t fr1_rt, fr10_rt, fu_b;
	size_t fr1_docs, fr10_docs, fu_docs;
	uint64_t floor_rt = 0, noop_rt;
	size_t nfiles = 0, nfound = 0;
	int64_t t0, t1;
	int rc = 2, bad = 0;

	memset(&x1, 0, sizeof(x1));
	memset(&x10, 0, sizeof(x10));
	x1.root = x10.root = -1;
	if (server_start(uri_arg, &fdb, &uri) < 0)
		return 2;
	if (uri == NULL) {
		fprintf(stderr, "execsync-bench: no server URI\n");
		goto out;
	}
	es_store_global_init();
	es_log_set_level(ES_LOG_ERROR);
	if (asprintf(&db1, "es_bench_rec_%ld", (long)getpid()) < 0 ||
	    asprintf(&db10, "es_bench_rec10_%ld", (long)getpid()) < 0)
		exit(2);
	tree = make_tree();
	if (rec_open(&x1, tree, uri, db1, 30000) < 0)
		goto out;

	/* The floors, warm: walk and query alternated, medians. */
	for (int i = 0; i < FLOOR_REPEAT; i++) {
		walk[i] = stat_walk(x1.tree, &nfiles);
		floor[i] = query_floor(x1.store, &floor_rt, &nfound,
		    per_kind);
		for (int k = 0; k < 3; k++)
			kfloor[k][i] = per_kind[k];
	}
	w = median(walk, FLOOR_REPEAT);
	q = median(floor, FLOOR_REPEAT);
	for (int k = 0; k < 3; k++)
		per_kind[k] = median(kfloor[k], FLOOR_REPEAT);
	if (nfound != 0)
		fprintf(stderr, "query floor: %zu documents found\n", nfound);

	/*
	 * Right after the import, every document's updated_at is within the
	 * lookback of the watermark, so a since-query returns them all: the
	 * honest no-op of that moment. The first pass is a full read (no
	 * full pass recorded yet).
	 */
	t0 = clock_ms();
	bad |= rec_pass(&x1, false, t0, &first);
	for (int i = 0; i < NOOP_REPEAT; i++) {
		bad |= rec_pass(&x1, false, clock_ms(), &noop[i]);
		nw[i] = noop[i].wall;
	}
	noop_wall = median(nw, NOOP_REPEAT);
	for (int i = 0; i < NOOP_REPEAT; i++)
		nw[i] = noop[i].cpu;
	noop_cpu = median(nw, NOOP_REPEAT);
	noop_rt = noop[NOOP_REPEAT - 1].rt;

	bad |= edit_projects(&x1, NEDIT, "edited", time(NULL) + 5);
	bad |= rec_pass(&x1, false, clock_ms(), &ten);

	/*
	 * Long after the last change (simulated with the pass's clock, a
	 * legitimate input of the engine): a day later the periodic full
	 * read runs (full_pass_s) while one file is edited; a minute after
	 * that, the no-op's since-query returns only what changed within
	 * the lookback of that edit.
	 */
	t1 = clock_ms() + DAY_MS;
	bad |= edit_projects(&x1, 1, "a day later", time(NULL) + 10);
	bad |= rec_pass(&x1, false, t1, &settle);
	full = settle;
	bad |= rec_pass(&x1, false, t1 + 60 * 1000, &late);

	/*
	 * The no-op once every collection's watermark is at the last pass's
	 * clock, as the engine would record it if it advanced the watermark
	 * to its own clock and not only to the newest updated_at it saw
	 * (written here into the baseline's meta, between passes): its
	 * since-queries then return nothing.
	 */
	for (int k = 0; k < 3; k++) {
		char key[64], val[32];
		struct es_error err;

		snprintf(key, sizeof(key), "watermark.%s",
		    es_store_collection_name((enum es_kind)k));
		snprintf(val, sizeof(val), "%lld", (long long)(t1 + 60 * 1000));
		if (es_baseline_set_meta(x1.b, key, val, &err) < 0)
			report("watermark", &err);
	}
	bad |= rec_pass(&x1, false, t1 + 120 * 1000, &settled);

	/* --resync without a baseline (SPEC 4.17). */
	if (rec_forget(&x1) < 0)
		goto out;
	fr1 = full_read(x1.store, &fr1_rt, &fr1_docs);
	fu1 = full_read_unsorted(uri, db1, &fu_b, &fu_docs);
	bad |= rec_pass(&x1, true, t1 + 180 * 1000, &rs);
	/* --resync again, now over the baseline the first one made. */
	bad |= rec_pass(&x1, true, t1 + 240 * 1000, &rk);

	/* The same on a tree ten times larger. */
	big = make_tree_scaled(10);
	if (rec_open(&x10, big, uri, db10, 300000) < 0 || rec_forget(&x10) < 0)
		goto out;
	fr10 = full_read(x10.store, &fr10_rt, &fr10_docs);
	fu10 = full_read_unsorted(uri, db10, &fu_b, &fu_docs);
	bad |= rec_pass(&x10, true, clock_ms(), &rs10);
	/* The no-op after it, as at 1x: the since-queries return them all. */
	for (int i = 0; i < NOOP_REPEAT; i++) {
		bad |= rec_pass(&x10, false, clock_ms(), &noop10[i]);
		nw[i] = noop10[i].cpu;
	}
	noop10_cpu = median(nw, NOOP_REPEAT);
	bad |= rec_pass(&x10, true, clock_ms(), &rk10);

	printf("files: %zu\n", nfiles);
	printf("stat_walk_ms: %.2f\n", w);
	printf("query_floor_ms: %.2f\n", q);
	printf("query_floor_round_trips: %llu\n",
	    (unsigned long long)floor_rt);
	/* Each collection's part: an empty query costs a scan on FerretDB. */
	for (int k = 0; k < 3; k++)
		printf("query_floor_%s_ms: %.2f\n",
		    es_store_collection_name((enum es_kind)k), per_kind[k]);
	printf("first_pass_ms: %.1f\n", first.wall);
	printf("first_pass_round_trips: %llu\n",
	    (unsigned long long)first.rt);
	printf("noop_pass_ms: %.1f\n", noop_wall);
	printf("noop_round_trips: %llu\n", (unsigned long long)noop_rt);
	printf("noop_cpu_ms: %.1f\n", noop_cpu);
	printf("noop_docs_read: %zu\n", noop[0].docs_read);
	printf("ten_edit_pass_ms: %.1f\n", ten.wall);
	printf("ten_edit_round_trips: %llu\n", (unsigned long long)ten.rt);
	printf("ten_edit_cpu_ms: %.1f\n", ten.cpu);
	printf("ten_edit_files_read: %zu\n", ten.files_read);
	printf("periodic_full_pass_ms: %.1f\n", full.wall);
	printf("periodic_full_round_trips: %llu\n",
	    (unsigned long long)full.rt);
	printf("noop_late_pass_ms: %.1f\n", late.wall);
	printf("noop_late_round_trips: %llu\n", (unsigned long long)late.rt);
	printf("noop_late_cpu_ms: %.1f\n", late.cpu);
	printf("noop_late_docs_read: %zu\n", late.docs_read);
	printf("noop_settled_pass_ms: %.1f\n", settled.wall);
	printf("noop_settled_round_trips: %llu\n",
	    (unsigned long long)settled.rt);
	printf("noop_settled_cpu_ms: %.1f\n", settled.cpu);
	printf("noop_settled_docs_read: %zu\n", settled.docs_read);
	printf("resync_ms: %.1f\n", rs.wall);
	printf("resync_round_trips: %llu\n", (unsigned long long)rs.rt);
	printf("resync_cpu_ms: %.1f\n", rs.cpu);
	printf("resync_10x_ms: %.1f\n", rs10.wall);
	printf("resync_10x_round_trips: %llu\n", (unsigned long long)rs10.rt);
	printf("resync_10x_cpu_ms: %.1f\n", rs10.cpu);
	/* The server's share: reading every document, nothing decoded. */
	printf("full_read_ms: %.1f\n", fr1);
	printf("full_read_docs: %zu\n", fr1_docs);
	printf("full_read_round_trips: %llu\n", (unsigned long long)fr1_rt);
	printf("full_read_10x_ms: %.1f\n", fr10);
	printf("full_read_10x_docs: %zu\n", fr10_docs);
	printf("full_read_10x_round_trips: %llu\n",
	    (unsigned long long)fr10_rt);
	printf("noop_vs_floor: %.2f\n", noop_wall / (w + q));
	printf("noop_late_vs_floor: %.2f\n", late.wall / (w + q));
	printf("noop_settled_vs_floor: %.2f\n", settled.wall / (w + q));
	printf("ten_vs_noop: %.2f\n", ten.cpu / noop_cpu);
	printf("resync_scale: %.2f\n", rs10.wall / rs.wall);
	printf("resync_cpu_scale: %.2f\n", rs10.cpu / rs.cpu);
	/* The same over a full baseline: it is cleared and written again. */
	printf("resync_kept_cpu_ms: %.1f\n", rk.cpu);
	printf("resync_kept_10x_cpu_ms: %.1f\n", rk10.cpu);
	printf("resync_kept_cpu_scale: %.2f\n", rk10.cpu / rk.cpu);
	printf("noop_pass_cpu_ms: %.1f\n", noop_cpu);
	printf("noop_pass_10x_cpu_ms: %.1f\n", noop10_cpu);
	printf("noop_pass_cpu_scale: %.2f\n", noop10_cpu / noop_cpu);
	printf("full_read_scale: %.2f\n", fr10 / fr1);
	printf("full_read_unsorted_ms: %.1f\n", fu1);
	printf("full_read_unsorted_10x_ms: %.1f\n", fu10);
	printf("full_read_unsorted_scale: %.2f\n", fu10 / fu1);
	printf("ten_minus_noop_round_trips: %lld\n",
	    (long long)ten.rt - (long long)noop_rt);
	rc = bad ? 1 : 0;
out:
	rec_close(&x1);
	rec_close(&x10);
	free(x1.tree);
	free(x10.tree);
	free(x1.db);
	free(x10.db);
	if (uri != NULL) {
		drop_db(uri, db1);
		drop_db(uri, db10);
		es_store_global_cleanup();
	}
	if (tree != NULL)
		remove_tree(tree);
	if (big != NULL)
		remove_tree(big);
	server_stop(fdb);
	free(db1);
	free(db10);
	free(uri);
	return rc;
}
