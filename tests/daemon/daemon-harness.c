/* The daemon's end-to-end harness: see daemon-harness.h. */
#include "daemon-harness.h"

#include <sys/stat.h>
#include <sys/types.h>


#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/error.h"
#include "execsync/xmalloc.h"

#include "http.h"

#define HTTP_TIMEOUT_MS	5000

int
dt_setup(void **state)
{
	struct dt *t = es_xcalloc(1, sizeof(*t));

	t->inotify_saved = -1;
	*state = t;
	return 0;
}

#define MAX_QUEUED	"/proc/sys/fs/inotify/max_queued_events"

static char *
inotify_saved_path(void)
{
	const char *bin = getenv("ES_BINARY_DIR");

	return es_xasprintf("%s/daemon-inotify-saved", bin != NULL ? bin :
	    "/tmp");
}

bool
dt_inotify_lower(struct dt *t, long n)
{
	char *saved = inotify_saved_path(), *s;
	long old;
	FILE *f;

	/* A run killed before its cleanup left the true value there. */
	if ((s = es_read_file(saved, NULL)) == NULL)
		s = es_read_file(MAX_QUEUED, NULL);
	if (s == NULL || (old = strtol(s, NULL, 10)) <= 0) {
		free(s);
		free(saved);
		return false;
	}
	free(s);
	/* Kept first, so the cleanup step can restore it if we die. */
	if ((f = fopen(saved, "w")) == NULL) {
		free(saved);
		return false;
	}
	fprintf(f, "%ld\n", old);
	fclose(f);
	if ((f = fopen(MAX_QUEUED, "w")) == NULL ||
	    fprintf(f, "%ld\n", n) < 0 || fclose(f) == EOF) {
		unlink(saved);
		free(saved);
		return false;
	}
	t->inotify_saved = old;
	free(saved);
	return true;
}

void
dt_inotify_restore(struct dt *t)
{
	char *saved;
	FILE *f;

	if (t->inotify_saved < 0)
		return;
	if ((f = fopen(MAX_QUEUED, "w")) == NULL ||
	    fprintf(f, "%ld\n", t->inotify_saved) < 0 || fclose(f) == EOF)
		fail_msg("restore %s to %ld: %s", MAX_QUEUED, t->inotify_saved,
		    strerror(errno));
	saved = inotify_saved_path();
	unlink(saved);
	free(saved);
	t->inotify_saved = -1;
}

static int	ferretdb_local(struct dt *t, const char *a1, const char *a2,
		    bool must);

int
dt_teardown(void **state)
{
	struct dt *t = *state;

	dt_inotify_restore(t);
	es_proc_kill(&t->other);
	for (int i = 0; i < t->nroots; i++) {
		char name[32];

		snprintf(name, sizeof(name), "daemon %d", i);
		if (t->d[i].pid > 0)
			kill(t->d[i].pid, SIGKILL);
		es_proc_wait(&t->d[i], 10000);
		if (t->log[i] != NULL)
			es_proc_print_tail(&t->d[i], name, 60);
		es_proc_kill(&t->d[i]);
		free(t->cfg[i]);
		free(t->sock[i]);
		free(t->log[i]);
		if (i > 0)
			free(t->root[i]);
	}
	if (t->mc != NULL)
		mongoc_client_destroy(t->mc);
	/* The world's database is dropped while its server still runs. */
	if (t->begun) {
		if (t->server_dir == NULL || t->server_up)
			w_end(&t->w);
		else {
			es_itest_rm_rf(t->w.tmp);
			free(t->w.tmp);
			free(t->w.root);
			es_buf_release(&t->w.out);
			es_buf_release(&t->w.err);
			free(t->w.t.uri);
			free(t->w.t.db);
			es_store_free(t->w.t.store);
		}
	}
	if (t->server_dir != NULL) {
		ferretdb_local(t, "--stop", NULL, false);
		es_itest_rm_rf(t->server_dir);
		free(t->server_dir);
	}
	if (t->run != NULL) {
		es_itest_rm_rf(t->run);
		free(t->run);
	}
	free(t);
	return 0;
}

/* --- roots and configuration ----------------------------------------- */

static void
dt_layout(struct dt *t, int i)
{
	char *p;

	put_at(t, i, SEED_PROJECT, p = project_text("Base Camp", "Home",
	    "# Base Camp\n\nthe seed\n"));
	free(p);
	put_at(t, i, "30k-goals/active/run-far.md",
	    "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	put_at(t, i, "00k-next-actions/contexts/@home.md",
	    "# Home\n\n- [ ] 2025-01-02 Water the plants @home\n");
}

void
dt_config(struct dt *t, int i, const char *extra)
{
	char *yaml;
	FILE *f;

	yaml = es_xasprintf(
	    "# execsyncd end-to-end test, root %d\n"
	    "source: '%s'\n"
	    "mongodb_uri: '%s'\n"
	    "database: '%s'\n"
	    "user_id: '%s'\n"
	    "status_listen: '127.0.0.1:0'\n"
	    "debounce_ms: 50\n"
	    "poll_ms: 200\n"
	    "full_pass_s: 600\n"
	    "%s",
	    i, t->root[i], t->w.t.uri, t->w.t.db, t->w.t.user,
	    extra != NULL ? extra : "");
	if ((f = fopen(t->cfg[i], "w")) == NULL ||
	    fputs(yaml, f) == EOF || fclose(f) == EOF)
		fail_msg("write %s: %s", t->cfg[i], strerror(errno));
	free(yaml);
}

static void
dt_root_init(struct dt *t, int i, const char *extra)
{
	struct es_error err;

	t->cfg[i] = es_xasprintf("%s/config%d.yaml", t->w.tmp, i);
	t->log[i] = es_xasprintf("%s/daemon%d.log", t->w.tmp, i);
	dt_layout(t, i);
	dt_config(t, i, extra);
	if ((t->sock[i] = es_http_socket_path(t->root[i], false, &err)) ==
	    NULL)
		fail_msg("es_http_socket_path %s: %s", t->root[i], err.msg);
	t->nroots = i + 1;
}

void
dt_begin(struct dt *t, const char *tag, const char *extra)
{
	char *tmpl;

	w_begin(&t->w, tag);
	t->begun = true;
	/* A runtime folder of the case's own: sockets never shared. */
	tmpl = es_xasprintf("%s/run", t->w.tmp);
	if (mkdir(tmpl, 0700) == -1)
		fail_msg("mkdir %s: %s", tmpl, strerror(errno));
	t->run = tmpl;
	setenv("XDG_RUNTIME_DIR", t->run, 1);
	if ((t->mc = mongoc_client_new(t->w.t.uri)) == NULL)
		fail_msg("mongoc_client_new %s", t->w.t.uri);
	t->root[0] = t->w.root;
	dt_root_init(t, 0, extra);
}

int
dt_add_root(struct dt *t, const char *extra)
{
	int i = t->nroots;

	assert_true(i < DT_MAXROOTS);
	t->root[i] = es_xasprintf("%s/tree%d", t->w.tmp, i);
	if (mkdir(t->root[i], 0755) == -1)
		fail_msg("mkdir %s: %s", t->root[i], strerror(errno));
	dt_root_init(t, i, extra);
	return i;
}

/* --- the daemon --------------------------------------------------------- */

void
d_start(struct dt *t, int i)
{
	char *argv[] = { (char *)ES_SYNCD_BIN, (char *)"--config", t->cfg[i],
	    (char *)"--log-level", (char *)"debug", NULL };
	FILE *f;

	/* A line between starts, so a reader can tell them apart. */
	if ((f = fopen(t->log[i], "a")) != NULL) {
		fprintf(f, "==== test: execsyncd --config %s\n", t->cfg[i]);
		fclose(f);
	}
	es_proc_start(&t->d[i], argv, t->log[i]);
}

struct health_want {
	int		 i, want;
	const char	*check;
};

static bool
health_is(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct health_want *h = ud;
	struct es_buf ans = ES_BUF_INIT;
	json_t *j, *checks;
	json_error_t je;
	bool ok = false;
	int st;

	if (!es_proc_running(&t->d[h->i]))
		fail_msg("daemon %d exited (status %d)", h->i,
		    t->d[h->i].status);
	st = d_http(t, h->i, "GET", "/healthz", NULL, &ans);
	snprintf(why, whysz, "HTTP %d %.300s", st, ans.buf != NULL ?
	    ans.buf : "");
	if (st != h->want)
		goto out;
	if (h->check == NULL) {
		ok = true;
		goto out;
	}
	if ((j = json_loadb(ans.buf, ans.len, 0, &je)) == NULL)
		fail_msg("/healthz: not JSON (%s): %s", je.text, ans.buf);
	checks = json_object_get(j, "checks");
	for (size_t k = 0; k < json_array_size(checks); k++) {
		const char *s = json_string_value(json_array_get(checks, k));

		if (s != NULL && strstr(s, h->check) != NULL)
			ok = true;
	}
	json_decref(j);
out:
	es_buf_release(&ans);
	return ok;
}

void
d_wait_health(struct dt *t, int i, int want, const char *check,
    int64_t timeout_ms)
{
	struct health_want h = { i, want, check };
	char what[128];

	snprintf(what, sizeof(what), "daemon %d: /healthz %d%s%s", i, want,
	    check != NULL ? " naming " : "", check != NULL ? check : "");
	dt_wait(t, what, timeout_ms, 50, health_is, &h);
}

/*
 * Settled: /status says a pass has finished, none runs, nothing is
 * pending.
 */
static bool
settled(struct dt *t, void *ud, char *why, size_t whysz)
{
	int i = *(int *)ud;
	json_t *st = d_status(t, i), *p;
	bool running, ok;

	p = json_object_get(st, "pending");
	running = json_is_true(json_object_get(json_object_get(st,
	    "last_pass"), "running"));
	ok = json_integer_value(json_object_get(st, "passes")) >= 1 &&
	    !running &&
	    json_integer_value(json_object_get(p, "files")) == 0 &&
	    json_integer_value(json_object_get(p, "database")) == 0;
	snprintf(why, whysz, "passes %lld%s, pending %lld files, %lld "
	    "database", (long long)json_integer_value(json_object_get(st,
	    "passes")), running ? " (one running)" : "",
	    (long long)json_integer_value(json_object_get(p, "files")),
	    (long long)json_integer_value(json_object_get(p, "database")));
	json_decref(st);
	return ok;
}

void
d_settle(struct dt *t, int i, int64_t timeout_ms)
{
	char what[64];

	snprintf(what, sizeof(what), "daemon %d: settled", i);
	dt_wait(t, what, timeout_ms, 20, settled, &i);
}

void
d_ready(struct dt *t, int i)
{
	d_wait_health(t, i, 200, NULL, 30000);
	d_settle(t, i, 60000);
}

void
d_up(struct dt *t, int i)
{
	d_start(t, i);
	d_ready(t, i);
}

int
d_tcp_port(struct dt *t, int i)
{
	char *log, *p;
	int port = 0;

	es_proc_wait_log(&t->d[i], "(port ", 30000);
	log = es_proc_output(&t->d[i]);
	/* The last start's line. */
	for (p = log; (p = strstr(p, "(port ")) != NULL; p++)
		port = atoi(p + 6);
	free(log);
	if (port <= 0 || port > 65535)
		fail_msg("daemon %d: no TCP port in its log", i);
	return port;
}

int
d_http(struct dt *t, int i, const char *method, const char *path,
    const char *body, struct es_buf *ans)
{
	struct es_buf local = ES_BUF_INIT;
	struct es_error err;
	int status = 0;

	if (ans == NULL)
		ans = &local;
	es_buf_reset(ans);
	if (es_http_unix_request(t->sock[i], method, path, body,
	    HTTP_TIMEOUT_MS, &status, ans, &err) < 0) {
		es_buf_reset(ans);
		es_buf_addstr(ans, err.msg);
		status = -1;
	}
	es_buf_addstr(ans, "");
	es_buf_release(&local);
	return status;
}

json_t *
d_status(struct dt *t, int i)
{
	struct es_buf ans = ES_BUF_INIT;
	json_error_t je;
	json_t *j;
	char msg[1024];
	int st = d_http(t, i, "GET", "/status", NULL, &ans);

	if (st != 200)
		snprintf(msg, sizeof(msg), "daemon %d: /status: HTTP %d: "
		    "%.900s", i, st, ans.buf);
	else if ((j = json_loadb(ans.buf, ans.len, 0, &je)) == NULL ||
	    !json_is_object(j))
		snprintf(msg, sizeof(msg), "daemon %d: /status is not a JSON "
		    "object (%s): %.800s", i, je.text, ans.buf);
	else {
		es_buf_release(&ans);
		return j;
	}
	/* fail_msg() leaves: free first (the sanitizer's leak check). */
	es_buf_release(&ans);
	fail_msg("%s", msg);
	return NULL;
}

char *
d_metrics(struct dt *t, int i)
{
	struct es_buf ans = ES_BUF_INIT;
	char msg[1024];
	int st = d_http(t, i, "GET", "/metrics", NULL, &ans);

	if (st != 200) {
		snprintf(msg, sizeof(msg), "daemon %d: /metrics: HTTP %d: "
		    "%.900s", i, st, ans.buf);
		es_buf_release(&ans);
		fail_msg("%s", msg);
	}
	return es_buf_detach(&ans, NULL);
}

double
metric_sum(const char *text, const char *name, const char *const *labels)
{
	size_t nl = strlen(name);
	double sum = -1;

	for (const char *l = text; *l != '\0';) {
		const char *end = strchr(l, '\n'), *v;
		size_t len = end != NULL ? (size_t)(end - l) : strlen(l);
		char line[1024];
		bool match;

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		l += len + (end != NULL);
		if (strncmp(line, name, nl) != 0 || (line[nl] != '{' &&
		    line[nl] != ' '))
			continue;
		match = true;
		for (size_t k = 0; labels != NULL && labels[k] != NULL; k++)
			if (line[nl] != '{' || strstr(line, labels[k]) == NULL)
				match = false;
		if (!match || (v = strrchr(line, line[nl] == '{' ? '}' :
		    ' ')) == NULL)
			continue;
		if (*v == '}')
			v++;
		sum = (sum < 0 ? 0 : sum) + strtod(v, NULL);
	}
	return sum;
}

double
d_ops_to_db(struct dt *t, int i)
{
	static const char *const to_db[] = { "direction=\"to_db\"",
	    "outcome=\"ok\"", NULL };
	char *m = d_metrics(t, i);
	double v = metric_sum(m, OPS_METRIC, to_db);

	if (v < 0)
		fail_msg("/metrics has no %s{direction=\"to_db\","
		    "outcome=\"ok\"}:\n%s", OPS_METRIC, m);
	free(m);
	return v;
}

int
d_run(struct dt *t, int i, const char *const *extra, struct es_buf *out,
    struct es_buf *err)
{
	char *argv[24];
	int n = 0;

	argv[n++] = (char *)ES_SYNCD_BIN;
	argv[n++] = (char *)"--config";
	argv[n++] = t->cfg[i];
	for (size_t k = 0; extra != NULL && extra[k] != NULL && n < 23; k++)
		argv[n++] = (char *)extra[k];
	argv[n] = NULL;
	if (out != NULL)
		es_buf_reset(out);
	if (err != NULL)
		es_buf_reset(err);
	return es_itest_run(argv, out, err, 60);
}

/* --- files and documents ------------------------------------------------ */

struct world
dt_at(const struct dt *t, int i)
{
	struct world w = t->w;

	w.root = t->root[i];
	return w;
}

void
put_at(const struct dt *t, int i, const char *rel, const char *s)
{
	struct world w = dt_at(t, i);

	put(&w, rel, s);
}

char *
get_at(const struct dt *t, int i, const char *rel)
{
	struct world w = dt_at(t, i);

	return get(&w, rel);
}

char *
project_text(const char *title, const char *area, const char *body)
{
	return es_xasprintf("---\narea: %s\ntitle: %s\ntype: standard\n"
	    "created: 2025-01-02\n---\n%s", area, title, body);
}

char *
project_path(const char *slug, const char *area_dir)
{
	return es_xasprintf("10k-projects/active/%s/%s.md", area_dir, slug);
}

bool
db_doc(struct dt *t, const char *coll, const char *slug, bson_t *out)
{
	mongoc_collection_t *c;
	mongoc_cursor_t *cur;
	const bson_t *d;
	bson_t filter = BSON_INITIALIZER;
	bson_error_t be;
	bool found = false;

	c = mongoc_client_get_collection(t->mc, t->w.t.db, coll);
	BSON_APPEND_UTF8(&filter, "user_id", t->w.t.user);
	BSON_APPEND_UTF8(&filter, "slug", slug);
	cur = mongoc_collection_find_with_opts(c, &filter, NULL, NULL);
	while (mongoc_cursor_next(cur, &d)) {
		if (found && !doc_deleted(out))
			continue;
		if (found)
			bson_destroy(out);
		bson_copy_to(d, out);
		found = true;
	}
	if (mongoc_cursor_error(cur, &be))
		fail_msg("find %s %s: %s", coll, slug, be.message);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(c);
	bson_destroy(&filter);
	return found;
}

size_t
live_count(struct dt *t, const char *coll)
{
	bson_t extra = BSON_INITIALIZER, ne;

	BSON_APPEND_DOCUMENT_BEGIN(&extra, "deleted", &ne);
	BSON_APPEND_BOOL(&ne, "$ne", true);
	bson_append_document_end(&extra, &ne);
	{
		size_t n = count_where(&t->w, coll, &extra);

		bson_destroy(&extra);
		return n;
	}
}

char *
field_text(const bson_t *doc, const char *field)
{
	bson_iter_t top, it;

	if (!bson_iter_init(&top, doc) ||
	    !bson_iter_find_descendant(&top, field, &it))
		return NULL;
	switch (bson_iter_type(&it)) {
	case BSON_TYPE_UTF8:
		return es_xstrdup(bson_iter_utf8(&it, NULL));
	case BSON_TYPE_BOOL:
		return es_xstrdup(bson_iter_bool(&it) ? "true" : "false");
	case BSON_TYPE_INT32:
	case BSON_TYPE_INT64:
		return es_xasprintf("%lld", (long long)bson_iter_as_int64(&it));
	case BSON_TYPE_DATE_TIME:
		return es_xasprintf("%lld",
		    (long long)bson_iter_date_time(&it));
	case BSON_TYPE_NULL:
		return es_xstrdup("null");
	default:
		return es_xstrdup("?");
	}
}

/* --- waiting ------------------------------------------------------------ */

int64_t
dt_wait(struct dt *t, const char *what, int64_t timeout_ms, int every_ms,
    dt_cond c, void *ud)
{
	int64_t t0 = es_itest_mono_ms(), deadline = t0 + timeout_ms;
	char why[512];

	for (;;) {
		why[0] = '\0';
		if (c(t, ud, why, sizeof(why)))
			return es_itest_mono_ms() - t0;
		if (es_itest_mono_ms() >= deadline)
			fail_msg("%s: not within %lld ms (last seen: %s)", what,
			    (long long)timeout_ms, why[0] ? why : "-");
		es_poll_pause(every_ms);
	}
}

struct doc_want {
	const char	*coll, *slug, *field, *want;
};

static bool
doc_has(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct doc_want *d = ud;
	bson_t doc;
	char *v;
	bool ok;

	if (!db_doc(t, d->coll, d->slug, &doc)) {
		snprintf(why, whysz, "no document");
		return false;
	}
	v = field_text(&doc, d->field);
	ok = v != NULL && strstr(v, d->want) != NULL;
	snprintf(why, whysz, "%s = %.300s", d->field, v != NULL ? v :
	    "(absent)");
	free(v);
	bson_destroy(&doc);
	return ok;
}

int64_t
wait_doc(struct dt *t, const char *coll, const char *slug, const char *field,
    const char *want, int64_t timeout_ms)
{
	struct doc_want d = { coll, slug, field, want };
	char what[512];

	snprintf(what, sizeof(what), "%s '%s': %s holding '%.100s'", coll,
	    slug, field, want);
	return dt_wait(t, what, timeout_ms, 30, doc_has, &d);
}

struct count_want {
	const char	*coll;
	size_t		 n;
};

static bool
count_is(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct count_want *c = ud;
	size_t n = live_count(t, c->coll);

	snprintf(why, whysz, "%zu live documents", n);
	return n == c->n;
}

void
wait_live_count(struct dt *t, const char *coll, size_t n, int64_t timeout_ms)
{
	struct count_want c = { coll, n };
	char what[128];

	snprintf(what, sizeof(what), "%zu live %s", n, coll);
	/* A count reads the whole collection on FerretDB: not too often. */
	dt_wait(t, what, timeout_ms, 250, count_is, &c);
}

struct file_want {
	int		 i;
	const char	*rel, *want;
};

static bool
file_has(struct dt *t, void *ud, char *why, size_t whysz)
{
	struct file_want *f = ud;
	char *s = get_at(t, f->i, f->rel);
	bool ok = s != NULL && (f->want == NULL || strstr(s, f->want) !=
	    NULL);

	snprintf(why, whysz, "%.400s", s != NULL ? s : "(no file)");
	free(s);
	return f->want == NULL ? s == NULL : ok;
}

int64_t
wait_file(struct dt *t, int i, const char *rel, const char *want,
    int64_t timeout_ms)
{
	struct file_want f = { i, rel, want };
	char what[512];

	assert_non_null(want);
	snprintf(what, sizeof(what), "root %d: %s holding '%.100s'", i, rel,
	    want);
	return dt_wait(t, what, timeout_ms, 20, file_has, &f);
}

void
wait_gone(struct dt *t, int i, const char *rel, int64_t timeout_ms)
{
	struct file_want f = { i, rel, NULL };
	char what[512];

	snprintf(what, sizeof(what), "root %d: %s gone", i, rel);
	dt_wait(t, what, timeout_ms, 20, file_has, &f);
}

/* --- a private server ---------------------------------------------------- */

/*
 * contrib/ferretdb-local DIR a1 a2: the project's own way to run a
 * FerretDB with its OpLog, in the background. Returns its exit status;
 * must: fail the test unless 0.
 */
static int
ferretdb_local(struct dt *t, const char *a1, const char *a2, bool must)
{
	const char *src = getenv("ES_SOURCE_DIR");
	char *prog, *argv[5];
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	int rc;

	if (src == NULL)
		fail_msg("ES_SOURCE_DIR is not set (run through ctest)");
	prog = es_xasprintf("%s/contrib/ferretdb-local", src);
	argv[0] = prog;
	argv[1] = t->server_dir;
	argv[2] = (char *)a1;
	argv[3] = (char *)a2;
	argv[4] = NULL;
	rc = es_itest_run(argv, &out, &err, 60);
	free(prog);
	if (rc != 0 && must) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "ferretdb-local %s: exit %d: %.900s",
		    a1, rc, err.buf != NULL ? err.buf : "");
		es_buf_release(&out);
		es_buf_release(&err);
		fail_msg("%s", msg);
	}
	es_buf_release(&out);
	es_buf_release(&err);
	return rc;
}

void
dt_server_start(struct dt *t)
{
	bool first = t->server_dir == NULL;
	char port[16], *s, *p, *uri;

	if (first)
		t->server_dir = es_itest_tmpdir("ferretdb");
	/* The first start takes a free port; a restart the same one. */
	snprintf(port, sizeof(port), "%d", first ? 0 : t->server_port);
	ferretdb_local(t, "--port", port, true);
	t->server_up = true;
	if (!first)
		return;
	p = es_xasprintf("%s/uri", t->server_dir);
	s = es_read_file(p, NULL);
	free(p);
	if (s == NULL || (p = strrchr(s, ':')) == NULL ||
	    (t->server_port = atoi(p + 1)) <= 0)
		fail_msg("ferretdb-local wrote no URI with a port: %s",
		    s != NULL ? s : "(none)");
	free(s);
	/* Short timeouts: the outage must show within seconds. */
	uri = es_xasprintf("mongodb://127.0.0.1:%d/?serverSelectionTimeoutMS="
	    "2000&connectTimeoutMS=2000", t->server_port);
	setenv("EXECSYNC_TEST_MONGODB_URI", uri, 1);
	free(uri);
}

void
dt_server_stop(struct dt *t)
{
	ferretdb_local(t, "--stop", NULL, true);
	t->server_up = false;
}

/* --- files -------------------------------------------------------------- */

static const char *match_glob;
static size_t match_count;

static int
match_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	if (fnmatch(match_glob, path + ftw->base, 0) == 0)
		match_count++;
	return 0;
}

size_t
count_matching(const struct dt *t, int i, const char *glob)
{
	match_glob = glob;
	match_count = 0;
	if (nftw(t->root[i], match_one, 16, FTW_PHYS) == -1)
		fail_msg("nftw %s: %s", t->root[i], strerror(errno));
	return match_count;
}
