/*
 * execsync-bench latency | idle: the daemon's figures (issue 16), on the
 * generated 2,000/20,000/200 tree imported into a server with the 100-entry
 * OpLog of the test fixture, the daemon (build/daemon/execsyncd) running
 * against it as a user would run it.
 *
 *   latency	200 saves of project files, one at a time (the next when the
 *		previous is in the database), and 200 API changes to
 *		projects made the same way (the next when the previous is in
 *		its file); their p50 and p99 beside the floors: for a save
 *		the debounce plus the median of the commands the daemon
 *		issues for it (on FerretDB a read by _id and an update by
 *		_id, on MongoDB the compare-and-swap), for an API change the
 *		source's tick plus the median cost of one read of it, each
 *		issued here against the same collection
 *   idle	the daemon's CPU and RSS over 60 s of nothing, the server's
 *		CPU over the same window with the OpLog source, and over 4
 *		poll intervals with the poll source (the OpLog dropped)
 *
 * A CPU percentage is CPU seconds (/proc/PID/stat) over wall seconds x 100:
 * percent of one core. Every window starts after the start-up full pass.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/migrate.h"

#include "bench.h"
#include "http.h"

#define SAVES		200
#define FLOOR_SAMPLES	20
#define WAIT_MS		60000
#define IDLE_S		60
#define DEBOUNCE_MS	100

struct bd {
	char		*tree, *root, *tmp, *fdb, *uri, *db, *cfg, *sock;
	char		*log;
	pid_t		 daemon;
	mongoc_client_t	*client;
	mongoc_collection_t *projects;
	bool		 ferretdb;
};

/* ---- the daemon ---- */

static void
write_config(struct bd *b)
{
	FILE *f;

	if (asprintf(&b->cfg, "%s/config.yaml", b->tmp) < 0)
		exit(2);
	if ((f = fopen(b->cfg, "w")) == NULL) {
		perror(b->cfg);
		exit(2);
	}
	fprintf(f, "source: %s\nmongodb_uri: \"%s\"\ndatabase: %s\n"
	    "user_id: bench\nstatus_listen: \"\"\ndebounce_ms: %d\n"
	    "full_pass_s: 600\n", b->root, b->uri, b->db, DEBOUNCE_MS);
	fclose(f);
}

static void
daemon_start(struct bd *b)
{
	int fd;

	if ((b->daemon = fork()) == 0) {
		if ((fd = open(b->log, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) >= 0)
			dup2(fd, STDERR_FILENO);
		setenv("MONGOC_DISABLE_SHM", "1", 1);
		execl(ES_SYNCD_BIN, ES_SYNCD_BIN, "--config", b->cfg,
		    "--log-level", getenv("ES_BENCH_LOG_LEVEL") != NULL ?
		    getenv("ES_BENCH_LOG_LEVEL") : "warn", (char *)NULL);
		perror(ES_SYNCD_BIN);
		_exit(127);
	}
	if (b->daemon < 0) {
		perror("fork");
		exit(2);
	}
}

static void
daemon_stop(struct bd *b)
{
	int status;

	if (b->daemon <= 0)
		return;
	kill(b->daemon, SIGTERM);
	waitpid(b->daemon, &status, 0);
	b->daemon = 0;
}

/* GET path over the daemon's socket: its JSON, or NULL. */
static json_t *
get_json(struct bd *b, const char *path)
{
	struct es_buf ans = ES_BUF_INIT;
	struct es_error err;
	json_error_t je;
	json_t *j = NULL;
	int status = 0;

	if (es_http_unix_request(b->sock, "GET", path, NULL, 5000, &status,
	    &ans, &err) == 0 && ans.len > 0)
		j = json_loadb(ans.buf, ans.len, 0, &je);
	es_buf_release(&ans);
	return j;
}

/* A number at a dotted path of /status ("source.tick_ms"), or -1. */
static double
status_num(json_t *st, const char *dotted)
{
	char key[128], *save = NULL, *tok;
	json_t *v = st;

	snprintf(key, sizeof(key), "%s", dotted);
	for (tok = strtok_r(key, ".", &save); tok != NULL && v != NULL;
	    tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return json_is_number(v) ? json_number_value(v) : -1;
}

static const char *
status_str(json_t *st, const char *k1, const char *k2)
{
	json_t *v = json_object_get(st, k1);

	if (k2 != NULL)
		v = json_object_get(v, k2);
	return json_is_string(v) ? json_string_value(v) : "unknown";
}

/* Waits for the daemon's start-up full pass; its /status then. */
static json_t *
daemon_ready(struct bd *b)
{
	double t0 = now_ms();

	while (now_ms() - t0 < 600000) {
		json_t *st = get_json(b, "/status");

		if (st != NULL && json_is_string(json_object_get(st,
		    "last_full_pass")) && json_is_false(json_object_get(
		    json_object_get(st, "last_pass"), "running")))
			return st;
		json_decref(st);
		if (waitpid(b->daemon, NULL, WNOHANG) == b->daemon) {
			fprintf(stderr, "execsync-bench: the daemon exited; "
			    "see %s\n", b->log);
			exit(2);
		}
		usleep(50000);
	}
	fprintf(stderr, "execsync-bench: no full pass in 10 min\n");
	exit(2);
}

/*
 * Seconds until FerretDB has trimmed its OpLog back to about its cap. The
 * import just wrote 22,200 documents and FerretDB trims the capped
 * collection lazily (about once a minute): until then every read of it
 * scans them all (2-3 s). The figures are of the steady state, not of that
 * minute (README, "FerretDB and its OpLog").
 */
static double
source_settle(struct bd *b)
{
	mongoc_collection_t *op = mongoc_client_get_collection(b->client,
	    "local", "oplog.rs");
	double t0 = now_ms();
	int64_t n;

	while (now_ms() - t0 < 300000) {
		n = mongoc_collection_count_documents(op, &(bson_t)
		    BSON_INITIALIZER, NULL, NULL, NULL, NULL);
		if (n >= 0 && n <= 150)
			break;
		usleep(1000000);
	}
	mongoc_collection_destroy(op);
	return (now_ms() - t0) / 1000;
}

/* execsync_operations_total{direction="to_db",outcome="ok"} N */
static double
ops_to_db(struct bd *b)
{
	struct es_buf ans = ES_BUF_INIT;
	struct es_error err;
	const char *key = "execsync_operations_total{direction=\"to_db\","
	    "outcome=\"ok\"} ";
	const char *p;
	double n = -1;
	int status = 0;

	if (es_http_unix_request(b->sock, "GET", "/metrics", NULL, 5000,
	    &status, &ans, &err) == 0 && ans.buf != NULL &&
	    (p = strstr(ans.buf, key)) != NULL)
		n = strtod(p + strlen(key), NULL);
	es_buf_release(&ans);
	return n;
}

/* ---- setup ---- */

/* A failed run (exit) still stops its daemon and its server. */
static struct bd *running;

static void
cleanup_at_exit(void)
{
	if (running == NULL)
		return;
	if (running->daemon > 0)
		kill(running->daemon, SIGTERM);
	server_stop(running->fdb);
	running->fdb = NULL;
}

static void
setup(struct bd *b, const char *uri_arg)
{
	struct es_migrate_opts o;
	struct es_migrate_result r;
	struct es_error err;
	char *run;

	memset(b, 0, sizeof(*b));
	b->tree = make_tree_scaled(1);
	if ((b->root = realpath(b->tree, NULL)) == NULL) {
		perror(b->tree);
		exit(2);
	}
	b->tmp = strdup(b->root);
	*strrchr(b->tmp, '/') = '\0';
	if (server_start(uri_arg, &b->fdb, &b->uri) < 0 || b->uri == NULL)
		exit(2);
	running = b;
	atexit(cleanup_at_exit);
	if (asprintf(&b->db, "es_bench_daemon_%ld", (long)getpid()) < 0 ||
	    asprintf(&b->log, "%s/daemon.log", b->tmp) < 0 ||
	    asprintf(&run, "%s/run", b->tmp) < 0)
		exit(2);
	mkdir(run, 0700);
	setenv("XDG_RUNTIME_DIR", run, 1);
	free(run);
	memset(&o, 0, sizeof(o));
	o.source = b->root;
	o.uri = b->uri;
	o.user_id = "bench";
	o.database = b->db;
	fprintf(stderr, "importing the tree\n");
	if (es_migrate_run(&o, &r, &err) < 0) {
		report("import", &err);
		exit(2);
	}
	es_migrate_result_release(&r);
	write_config(b);
	if ((b->sock = es_http_socket_path(b->root, true, &err)) == NULL) {
		report("socket", &err);
		exit(2);
	}
	b->client = mongoc_client_new(b->uri);
	b->projects = mongoc_client_get_collection(b->client, b->db,
	    "projects");
	{
		bson_t cmd = BSON_INITIALIZER, reply;
		bson_iter_t it;

		BSON_APPEND_INT32(&cmd, "buildInfo", 1);
		if (mongoc_client_command_simple(b->client, "admin", &cmd,
		    NULL, &reply, NULL))
			b->ferretdb = bson_iter_init_find(&it, &reply,
			    "ferretdb");
		bson_destroy(&reply);
		bson_destroy(&cmd);
	}
}

static void
teardown(struct bd *b)
{
	char *keep[] = { (char *)"cp", b->log, (char *)"/tmp/"
	    "execsync-bench-daemon.log", NULL };

	daemon_stop(b);
	run_quiet(keep);	/* the daemon's log outlives the tree */
	mongoc_collection_destroy(b->projects);
	mongoc_client_destroy(b->client);
	drop_db(b->uri, b->db);
	server_stop(b->fdb);
	running = NULL;
	remove_tree(b->tree);
	free(b->root);
	free(b->tmp);
	free(b->uri);
	free(b->db);
	free(b->cfg);
	free(b->sock);
	free(b->log);
}

/* ---- the projects to change ---- */

struct proj {
	bson_oid_t	 id;
	char		*slug;
	char		*path;	/* absolute */
};

struct projs {
	struct proj	*v;
	size_t		 n;
};

static struct projs *walk_target;

static int
find_file(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	const char *base = path + ftw->base;

	(void)sb;
	if (flag != FTW_F)
		return 0;
	for (size_t i = 0; i < walk_target->n; i++) {
		size_t l = strlen(walk_target->v[i].slug);

		if (walk_target->v[i].path == NULL &&
		    strncmp(base, walk_target->v[i].slug, l) == 0 &&
		    strcmp(base + l, ".md") == 0) {
			walk_target->v[i].path = strdup(path);
			break;
		}
	}
	return 0;
}

/* 2 x SAVES active projects of the database and their files. */
static void
pick_projects(struct bd *b, struct projs *p)
{
	bson_t *filter = BCON_NEW("folder", "active", "deleted", BCON_BOOL(
	    false));
	bson_t *opts = BCON_NEW("limit", BCON_INT64(2 * SAVES),
	    "projection", "{", "slug", BCON_INT32(1), "}");
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_iter_t it;
	char *dir;

	p->v = calloc(2 * SAVES, sizeof(*p->v));
	p->n = 0;
	cur = mongoc_collection_find_with_opts(b->projects, filter, opts,
	    NULL);
	while (mongoc_cursor_next(cur, &doc) && p->n < 2 * SAVES) {
		if (!bson_iter_init_find(&it, doc, "_id") ||
		    !BSON_ITER_HOLDS_OID(&it))
			continue;
		bson_oid_copy(bson_iter_oid(&it), &p->v[p->n].id);
		if (!bson_iter_init_find(&it, doc, "slug") ||
		    !BSON_ITER_HOLDS_UTF8(&it))
			continue;
		p->v[p->n++].slug = strdup(bson_iter_utf8(&it, NULL));
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(filter);
	bson_destroy(opts);
	if (asprintf(&dir, "%s/10k-projects", b->root) < 0)
		exit(2);
	walk_target = p;
	nftw(dir, find_file, 16, FTW_PHYS);
	free(dir);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].path == NULL) {
			fprintf(stderr, "execsync-bench: no file for %s\n",
			    p->v[i].slug);
			exit(2);
		}
	if (p->n < 2 * SAVES) {
		fprintf(stderr, "execsync-bench: only %zu active projects\n",
		    p->n);
		exit(2);
	}
}

static void
free_projects(struct projs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].slug);
		free(p->v[i].path);
	}
	free(p->v);
}

/* ---- the measurements ---- */

static double
pct(double *v, int n, double q)
{
	int i = (int)ceil(q * n) - 1;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[i < 0 ? 0 : i];
}

/* One save: a body line appended in place; ms until the daemon wrote it. */
static double
one_save(struct bd *b, const struct proj *p, int i)
{
	double before = ops_to_db(b), t0;
	char line[96];
	int fd, n;

	n = snprintf(line, sizeof(line), "\nbench save %d\n", i);
	if ((fd = open(p->path, O_WRONLY | O_APPEND)) < 0 ||
	    write(fd, line, (size_t)n) != n) {
		perror(p->path);
		exit(2);
	}
	t0 = now_ms();
	close(fd);
	while (ops_to_db(b) <= before) {
		if (now_ms() - t0 > WAIT_MS) {
			fprintf(stderr, "execsync-bench: save %d of %s not in "
			    "the database after %d ms\n", i, p->path, WAIT_MS);
			exit(1);
		}
		usleep(1000);
	}
	return now_ms() - t0;
}

/* Whether path holds needle. */
static bool
file_has(const char *path, const char *needle)
{
	struct es_buf buf = ES_BUF_INIT;
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);
	bool yes;

	if (fd < 0)
		return false;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		es_buf_add(&buf, chunk, (size_t)n);
	close(fd);
	yes = buf.buf != NULL && strstr(buf.buf, needle) != NULL;
	es_buf_release(&buf);
	return yes;
}

static bson_t *
by_id(const bson_oid_t *id)
{
	bson_t *f = bson_new();

	BSON_APPEND_OID(f, "_id", id);
	return f;
}

/* The document's content, malloc'd. */
static char *
content_of(struct bd *b, const bson_oid_t *id)
{
	bson_t *f = by_id(id);
	mongoc_cursor_t *cur = mongoc_collection_find_with_opts(b->projects,
	    f, NULL, NULL);
	const bson_t *doc;
	bson_iter_t it;
	char *s = NULL;

	if (mongoc_cursor_next(cur, &doc) &&
	    bson_iter_init_find(&it, doc, "content") &&
	    BSON_ITER_HOLDS_UTF8(&it))
		s = strdup(bson_iter_utf8(&it, NULL));
	mongoc_cursor_destroy(cur);
	bson_destroy(f);
	return s != NULL ? s : strdup("");
}

/* One API change: content and updated_at by _id; ms until in the file. */
static double
one_api_change(struct bd *b, const struct proj *p, int i)
{
	char marker[64], *content, *nc;
	bson_t *f = by_id(&p->id), *u;
	bson_error_t be;
	double t0;

	snprintf(marker, sizeof(marker), "bench api %d", i);
	content = content_of(b, &p->id);
	if (asprintf(&nc, "%s\n%s\n", content, marker) < 0)
		exit(2);
	u = BCON_NEW("$set", "{", "content", BCON_UTF8(nc), "updated_at",
	    BCON_DATE_TIME((int64_t)time(NULL) * 1000 + i % 1000), "}");
	if (!mongoc_collection_update_one(b->projects, f, u, NULL, NULL,
	    &be)) {
		fprintf(stderr, "execsync-bench: update: %s\n", be.message);
		exit(2);
	}
	t0 = now_ms();
	while (!file_has(p->path, marker)) {
		if (now_ms() - t0 > WAIT_MS) {
			fprintf(stderr, "execsync-bench: API change %d not in "
			    "%s after %d ms\n", i, p->path, WAIT_MS);
			exit(1);
		}
		usleep(1000);
	}
	bson_destroy(f);
	bson_destroy(u);
	free(content);
	free(nc);
	return now_ms() - t0;
}

/* The commands the daemon issues for one save, issued here: median ms. */
static double
save_floor(struct bd *b, const struct projs *p)
{
	double v[FLOOR_SAMPLES];
	bson_error_t be;

	for (int i = 0; i < FLOOR_SAMPLES; i++) {
		const bson_oid_t *id = &p->v[i].id;
		bson_t *f = by_id(id), *u;
		double t0 = now_ms();
		int64_t ua = (int64_t)time(NULL) * 1000;

		if (b->ferretdb) {
			/* Read by _id, compare on the client, update by _id. */
			char *c = content_of(b, id);

			free(c);
		} else
			BSON_APPEND_DATE_TIME(f, "updated_at", ua);
		u = BCON_NEW("$set", "{", "updated_at", BCON_DATE_TIME(ua +
		    1), "}");
		if (!mongoc_collection_update_one(b->projects, f, u, NULL,
		    NULL, &be))
			fprintf(stderr, "execsync-bench: floor: %s\n",
			    be.message);
		v[i] = now_ms() - t0;
		bson_destroy(f);
		bson_destroy(u);
	}
	return median(v, FLOOR_SAMPLES);
}

/* One read of the OpLog as the source reads it: median ms. */
static double
oplog_read_floor(struct bd *b)
{
	mongoc_collection_t *op = mongoc_client_get_collection(b->client,
	    "local", "oplog.rs");
	double v[FLOOR_SAMPLES];

	for (int i = 0; i < FLOOR_SAMPLES; i++) {
		bson_t *f = BCON_NEW("ts", "{", "$gt", BCON_TIMESTAMP(
		    (uint32_t)time(NULL), 0), "}");
		mongoc_cursor_t *cur;
		const bson_t *doc;
		double t0 = now_ms();

		cur = mongoc_collection_find_with_opts(op, f, NULL, NULL);
		while (mongoc_cursor_next(cur, &doc))
			;
		mongoc_cursor_destroy(cur);
		v[i] = now_ms() - t0;
		bson_destroy(f);
	}
	mongoc_collection_destroy(op);
	return median(v, FLOOR_SAMPLES);
}

int
bench_latency(const char *uri_arg)
{
	struct bd b;
	struct projs p;
	json_t *st;
	double save[SAVES], api[SAVES], fl_save, fl_api, tick;
	const char *source;

	setup(&b, uri_arg);
	daemon_start(&b);
	st = daemon_ready(&b);
	source = status_str(st, "change_source", "kind");
	tick = status_num(st, "change_source.tick_ms");
	printf("change_source: %s\n", source);
	printf("source_settle_s: %.1f\n", source_settle(&b));
	pick_projects(&b, &p);
	fprintf(stderr, "%d saves\n", SAVES);
	for (int i = 0; i < SAVES; i++)
		if ((save[i] = one_save(&b, &p.v[i], i)) > 1000)
			fprintf(stderr, "save %d: %.0f ms (%s)\n", i, save[i],
			    p.v[i].path);
	fprintf(stderr, "%d API changes\n", SAVES);
	for (int i = 0; i < SAVES; i++)
		if ((api[i] = one_api_change(&b, &p.v[SAVES + i], i)) > 1000)
			fprintf(stderr, "API change %d: %.0f ms (%s)\n", i,
			    api[i], p.v[SAVES + i].path);
	daemon_stop(&b);
	fl_save = DEBOUNCE_MS + save_floor(&b, &p);
	fl_api = (tick > 0 ? tick : 0) + oplog_read_floor(&b);
	printf("file_to_db_p50_ms: %.0f\n", pct(save, SAVES, 0.5));
	printf("file_to_db_p99_ms: %.0f\n", pct(save, SAVES, 0.99));
	printf("file_to_db_floor_ms: %.0f\n", fl_save);
	printf("file_to_db_p99_vs_floor: %.2f\n", pct(save, SAVES, 0.99) /
	    fl_save);
	printf("db_to_file_p50_ms: %.0f\n", pct(api, SAVES, 0.5));
	printf("db_to_file_p99_ms: %.0f\n", pct(api, SAVES, 0.99));
	printf("db_to_file_floor_ms: %.0f\n", fl_api);
	printf("db_to_file_p99_vs_floor: %.2f\n", pct(api, SAVES, 0.99) /
	    fl_api);
	json_decref(st);
	free_projects(&p);
	teardown(&b);
	return 0;
}

/* ---- idle ---- */

/* utime + stime of pid in seconds, or -1. */
static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long ut, stm;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* After the command name's ')': state is field 3, utime 14. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
	    &stm) != 2)
		return -1;
	return (double)(ut + stm) / (double)sysconf(_SC_CLK_TCK);
}

static double
proc_rss_mb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	double kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lf kB", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024.0;
}

static pid_t
server_pid(const struct bd *b)
{
	char *path, *line;
	pid_t pid = 0;

	if (b->fdb == NULL)
		return 0;
	if (asprintf(&path, "%s/pid", b->fdb) < 0)
		exit(2);
	if ((line = first_line(path)) != NULL)
		pid = (pid_t)atol(line);
	free(line);
	free(path);
	return pid;
}

/* CPU percent of pid over a window of s seconds (sleeping through it). */
static double
window_pct(pid_t pid, double s, pid_t pid2, double *pct2)
{
	double c0 = proc_cpu_s(pid), d0 = pid2 > 0 ? proc_cpu_s(pid2) : 0;
	double t0 = now_ms(), wall;

	while (now_ms() - t0 < s * 1000)
		usleep(100000);
	wall = (now_ms() - t0) / 1000;
	if (pct2 != NULL)
		*pct2 = pid2 > 0 ? (proc_cpu_s(pid2) - d0) / wall * 100 : -1;
	return (proc_cpu_s(pid) - c0) / wall * 100;
}

static void
drop_oplog(struct bd *b)
{
	mongoc_collection_t *op = mongoc_client_get_collection(b->client,
	    "local", "oplog.rs");
	bson_error_t be;

	if (!mongoc_collection_drop(op, &be))
		fprintf(stderr, "execsync-bench: drop the OpLog: %s\n",
		    be.message);
	mongoc_collection_destroy(op);
}

int
bench_idle(const char *uri_arg)
{
	struct bd b;
	json_t *st;
	double cpu, srv, srv_poll, interval;
	pid_t spid;

	setup(&b, uri_arg);
	spid = server_pid(&b);
	daemon_start(&b);
	st = daemon_ready(&b);
	printf("change_source: %s\n", status_str(st, "change_source",
	    "kind"));
	json_decref(st);
	printf("source_settle_s: %.1f\n", source_settle(&b));
	cpu = window_pct(b.daemon, IDLE_S, spid, &srv);
	printf("idle_cpu_pct: %.2f\n", cpu);
	printf("idle_rss_mb: %.1f\n", proc_rss_mb(b.daemon));
	printf("idle_server_cpu_pct_oplog: %.2f\n", srv);
	daemon_stop(&b);
	if (b.fdb == NULL) {
		/* Not our server: its OpLog stays. */
		teardown(&b);
		return 0;
	}
	drop_oplog(&b);
	daemon_start(&b);
	st = daemon_ready(&b);
	/* The first poll sets the interval: wait for it. */
	do {
		json_decref(st);
		usleep(200000);
		st = get_json(&b, "/status");
	} while (st != NULL && status_num(st, "passes") < 2);
	interval = status_num(st, "change_source.tick_ms");
	printf("poll_source: %s\n", status_str(st, "change_source", "kind"));
	printf("poll_interval_ms: %.0f\n", interval);
	json_decref(st);
	/* Four whole poll intervals of the server. */
	srv_poll = window_pct(spid, 4 * (interval > 0 ? interval : 2000) /
	    1000, 0, NULL);
	printf("idle_server_cpu_pct_poll: %.2f\n", srv_poll);
	teardown(&b);
	return 0;
}
