/*
 * The daemon's status snapshot and its renderings (status.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "execsync/log.h"
#include "status.h"

/* Seconds: from a save's 100 ms debounce to a slow server's seconds. */
const double es_latency_bounds[ES_LATENCY_NBUCKETS] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};

void
es_latency_observe(struct es_latency *h, double s)
{
	for (int i = 0; i < ES_LATENCY_NBUCKETS; i++)
		if (s <= es_latency_bounds[i])
			h->bucket[i]++;
	h->count++;
	h->sum_s += s;
}

void
es_status_remember(struct es_status_item *ring, size_t *n, int64_t at_ms,
    const char *path, const char *reason)
{
	struct es_status_item *it = &ring[*n % ES_STATUS_RECENT];

	it->at_ms = at_ms;
	snprintf(it->path, sizeof(it->path), "%s", path != NULL ? path : "");
	snprintf(it->reason, sizeof(it->reason), "%s",
	    reason != NULL ? reason : "");
	it->line = 0;
	it->code = NULL;
	(*n)++;
}

static const struct {
	unsigned	 bit;
	const char	*name;
} checks[] = {
	{ ES_UNHEALTHY_DATABASE, "database" },
	{ ES_UNHEALTHY_WATCHER, "watcher" },
	{ ES_UNHEALTHY_GUARD, "deletion guard" },
	{ ES_UNHEALTHY_ROOT, "root missing" },
	{ ES_UNHEALTHY_GIT, "git" },
	{ ES_UNHEALTHY_IDENTITY, "identity" },
};

/* A JSON string of s; bytes that are not UTF-8 escaped as the log does. */
static json_t *
jstr(const char *s)
{
	struct es_buf b = ES_BUF_INIT;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	es_log_escape(&b, s, strlen(s));
	j = json_string(b.buf);
	es_buf_release(&b);
	return j != NULL ? j : json_string("");
}

static json_t *
juint(uint64_t n)
{
	return json_integer(n > (uint64_t)INT64_MAX ? INT64_MAX :
	    (json_int_t)n);
}

/* "2026-12-06T15:42:42.123Z", or null for 0 (never). */
static json_t *
jtime(int64_t ms)
{
	struct tm tm;
	time_t t;
	char out[64];

	if (ms <= 0)
		return json_null();
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL)
		return json_null();
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(out);
}

static void
dump(json_t *o, struct es_buf *body)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));

	if (s == NULL)
		abort();	/* only on allocation failure */
	es_buf_addstr(body, s);
	free(s);
	json_decref(o);
}

static json_t *
checks_of(unsigned unhealthy)
{
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (unhealthy & checks[i].bit)
			json_array_append_new(a, json_string(checks[i].name));
	return a;
}

int
es_status_healthz(const struct es_status *s, bool privileged,
    struct es_buf *body)
{
	json_t *o = json_object();

	json_object_set_new(o, "status",
	    json_string(s->unhealthy != 0 ? "degraded" : "healthy"));
	json_object_set_new(o, "checks", checks_of(s->unhealthy));
	json_object_set_new(o, "database_connected",
	    json_boolean(s->db_connected));
	json_object_set_new(o, "change_source",
	    jstr(s->source != NULL ? s->source : "none"));
	if (privileged && s->unhealthy_why[0] != '\0')
		json_object_set_new(o, "details", jstr(s->unhealthy_why));
	dump(o, body);
	return s->unhealthy != 0 ? 503 : 200;
}

/* The items of a ring, oldest first; names only when privileged. */
static json_t *
ring_of(const struct es_status_item *ring, size_t n, bool privileged)
{
	json_t *a = json_array();
	size_t first = n > ES_STATUS_RECENT ? n - ES_STATUS_RECENT : 0;

	for (size_t i = first; i < n; i++) {
		const struct es_status_item *it = &ring[i % ES_STATUS_RECENT];
		json_t *o = json_object();

		json_object_set_new(o, "at", jtime(it->at_ms));
		if (privileged) {
			json_object_set_new(o, "path", jstr(it->path));
			/* A problem's shape (issue 18): path, line, code. */
			if (it->code != NULL) {
				json_object_set_new(o, "line",
				    json_integer(it->line));
				json_object_set_new(o, "code",
				    json_string(it->code));
			}
			json_object_set_new(o, "reason", jstr(it->reason));
		}
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
ops_of(const struct es_status *s, enum es_side d)
{
	json_t *o = json_object();

	json_object_set_new(o, "ok", juint(s->ops_ok[d]));
	json_object_set_new(o, "failed", juint(s->ops_failed[d]));
	return o;
}

void
es_status_json(const struct es_status *s, int64_t now_ms, bool privileged,
    struct es_buf *body)
{
	json_t *o = json_object(), *x;
	int64_t up = now_ms > s->started_ms ? now_ms - s->started_ms : 0;

	json_object_set_new(o, "version", jstr(s->version));
	json_object_set_new(o, "uptime_s", json_integer(up / 1000));
	json_object_set_new(o, "status",
	    json_string(s->unhealthy != 0 ? "degraded" : "healthy"));
	json_object_set_new(o, "checks", checks_of(s->unhealthy));
	if (privileged) {
		json_object_set_new(o, "root", jstr(s->root));
		if (s->unhealthy_why[0] != '\0')
			json_object_set_new(o, "details",
			    jstr(s->unhealthy_why));
	}

	x = json_object();
	if (privileged)
		json_object_set_new(x, "name", jstr(s->database));
	json_object_set_new(x, "connected", json_boolean(s->db_connected));
	json_object_set_new(o, "database", x);

	x = json_object();
	json_object_set_new(x, "kind",
	    jstr(s->source != NULL ? s->source : "none"));
	json_object_set_new(x, "tick_ms", juint(s->source_tick_ms));
	json_object_set_new(x, "cost_ms", json_real(s->source_cost_ms));
	json_object_set_new(o, "change_source", x);

	json_object_set_new(o, "last_full_pass", jtime(s->last_full_pass_ms));
	x = json_object();
	json_object_set_new(x, "at", jtime(s->last_pass_ms));
	json_object_set_new(x, "duration_s", json_real(s->last_pass_s));
	json_object_set_new(x, "running", json_boolean(s->pass_running));
	json_object_set_new(o, "last_pass", x);
	json_object_set_new(o, "passes", juint(s->passes));
	json_object_set_new(o, "last_event", jtime(s->last_event_ms));

	x = json_object();
	json_object_set_new(x, "files", juint(s->pending_paths));
	json_object_set_new(x, "database", juint(s->pending_changes));
	json_object_set_new(o, "pending", x);

	x = json_object();
	json_object_set_new(x, "projects", juint(s->projects));
	json_object_set_new(x, "goals", juint(s->goals));
	json_object_set_new(x, "actions", juint(s->actions));
	json_object_set_new(o, "counts", x);

	x = json_object();
	json_object_set_new(x, "to_db", ops_of(s, ES_SIDE_TO_DB));
	json_object_set_new(x, "to_file", ops_of(s, ES_SIDE_TO_FILE));
	json_object_set_new(o, "operations", x);
	json_object_set_new(o, "errors", juint(s->errors));
	json_object_set_new(o, "conflicts", juint(s->conflicts));
	json_object_set_new(o, "recent_errors",
	    ring_of(s->errors_recent, s->nerrors_recent, privileged));
	json_object_set_new(o, "recent_conflicts",
	    ring_of(s->conflicts_recent, s->nconflicts_recent, privileged));
	json_object_set_new(o, "watches", juint(s->watches));
	json_object_set_new(o, "inotify_overflows", juint(s->overflows));
	json_object_set_new(o, "tcp_port",
	    s->tcp_port != 0 ? json_integer(s->tcp_port) : json_null());
	dump(o, body);
}

/*
 * A sample value: Prometheus reads Go floats ("1e-05", "NaN", "+Inf").
 * Whole numbers (counts) in full, large ones (timestamps) to the
 * millisecond, the rest to 9 digits.
 */
static void
addval(struct es_buf *b, double v)
{
	if (isnan(v))
		es_buf_addstr(b, "NaN");
	else if (isinf(v))
		es_buf_addstr(b, v > 0 ? "+Inf" : "-Inf");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 &&
	    v == (double)(int64_t)v)
		es_buf_addf(b, "%lld", (long long)v);
	else if (v >= 1e6 || v <= -1e6)
		es_buf_addf(b, "%.3f", v);
	else
		es_buf_addf(b, "%.9g", v);
}

static void
family(struct es_buf *b, const char *name, const char *type,
    const char *help)
{
	es_buf_addf(b, "# HELP execsync_%s %s\n# TYPE execsync_%s %s\n",
	    name, help, name, type);
}

static void
sample(struct es_buf *b, const char *name, const char *labels, double v)
{
	es_buf_addf(b, "execsync_%s%s%s%s ", name,
	    labels != NULL ? "{" : "", labels != NULL ? labels : "",
	    labels != NULL ? "}" : "");
	addval(b, v);
	es_buf_addch(b, '\n');
}

/* A label value escaped per the text format: \\, \" and \n. */
static void
addlabel(struct es_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			es_buf_addch(b, '\\');
		if (*v == '\n')
			es_buf_addstr(b, "\\n");
		else
			es_buf_addch(b, *v);
	}
}

static const char *const dir_name[ES_SIDE_N] = { "to_db", "to_file" };

void
es_status_metrics(const struct es_status *s, int64_t now_ms,
    struct es_buf *b)
{
	char lab[96];
	int64_t up = now_ms > s->started_ms ? now_ms - s->started_ms : 0;

	family(b, "up", "gauge", "1 while the daemon runs");
	sample(b, "up", NULL, 1);
	family(b, "healthy", "gauge", "1 when every health check passes");
	sample(b, "healthy", NULL, s->unhealthy == 0);
	family(b, "uptime_seconds", "gauge",
	    "seconds since the daemon started");
	sample(b, "uptime_seconds", NULL, (double)up / 1000);
	family(b, "database_connected", "gauge",
	    "1 while the database server answers");
	sample(b, "database_connected", NULL, s->db_connected);

	family(b, "operations_total", "counter",
	    "operations applied, by direction and outcome");
	for (int d = 0; d < ES_SIDE_N; d++) {
		snprintf(lab, sizeof(lab), "direction=\"%s\",outcome=\"ok\"",
		    dir_name[d]);
		sample(b, "operations_total", lab, (double)s->ops_ok[d]);
		snprintf(lab, sizeof(lab),
		    "direction=\"%s\",outcome=\"failed\"", dir_name[d]);
		sample(b, "operations_total", lab, (double)s->ops_failed[d]);
	}
	family(b, "errors_total", "counter", "errors met");
	sample(b, "errors_total", NULL, (double)s->errors);
	family(b, "conflicts_total", "counter", "conflicts met");
	sample(b, "conflicts_total", NULL, (double)s->conflicts);

	family(b, "sync_latency_seconds", "histogram",
	    "from a change on one side to its write on the other");
	for (int d = 0; d < ES_SIDE_N; d++) {
		const struct es_latency *h = &s->latency[d];

		for (int i = 0; i < ES_LATENCY_NBUCKETS; i++) {
			snprintf(lab, sizeof(lab), "direction=\"%s\",le=\"%g\"",
			    dir_name[d], es_latency_bounds[i]);
			sample(b, "sync_latency_seconds_bucket", lab,
			    (double)h->bucket[i]);
		}
		snprintf(lab, sizeof(lab), "direction=\"%s\",le=\"+Inf\"",
		    dir_name[d]);
		sample(b, "sync_latency_seconds_bucket", lab,
		    (double)h->count);
		snprintf(lab, sizeof(lab), "direction=\"%s\"", dir_name[d]);
		sample(b, "sync_latency_seconds_sum", lab, h->sum_s);
		sample(b, "sync_latency_seconds_count", lab,
		    (double)h->count);
	}

	family(b, "pending", "gauge", "changes seen, not yet synced, by side");
	sample(b, "pending", "side=\"files\"", (double)s->pending_paths);
	sample(b, "pending", "side=\"database\"", (double)s->pending_changes);
	family(b, "pass_running", "gauge", "1 while a pass runs");
	sample(b, "pass_running", NULL, s->pass_running);
	family(b, "last_pass_duration_seconds", "gauge",
	    "how long the last pass took");
	sample(b, "last_pass_duration_seconds", NULL, s->last_pass_s);
	family(b, "last_full_pass_timestamp_seconds", "gauge",
	    "when the last full pass ended (0: none yet)");
	sample(b, "last_full_pass_timestamp_seconds", NULL,
	    (double)s->last_full_pass_ms / 1000);
	family(b, "passes_total", "counter", "passes run");
	sample(b, "passes_total", NULL, (double)s->passes);
	family(b, "entities", "gauge", "entities in the baseline, by kind");
	sample(b, "entities", "kind=\"project\"", (double)s->projects);
	sample(b, "entities", "kind=\"goal\"", (double)s->goals);
	sample(b, "entities", "kind=\"action\"", (double)s->actions);
	family(b, "watches", "gauge", "folders watched");
	sample(b, "watches", NULL, (double)s->watches);
	family(b, "inotify_overflows_total", "counter",
	    "times the kernel dropped file events");
	sample(b, "inotify_overflows_total", NULL, (double)s->overflows);

	family(b, "change_source_info", "gauge",
	    "the source of database changes in use");
	es_buf_addstr(b, "execsync_change_source_info{source=\"");
	addlabel(b, s->source != NULL ? s->source : "none");
	es_buf_addstr(b, "\"} 1\n");
	family(b, "change_source_tick_seconds", "gauge",
	    "time between two reads of the change source");
	sample(b, "change_source_tick_seconds", NULL,
	    (double)s->source_tick_ms / 1000);
	family(b, "change_source_cost_seconds", "gauge",
	    "how long the last read of the change source took");
	sample(b, "change_source_cost_seconds", NULL,
	    s->source_cost_ms / 1000);

	family(b, "http_requests_total", "counter",
	    "status requests answered, and dropped by the server's limits");
	sample(b, "http_requests_total", "outcome=\"served\"",
	    (double)s->http_served);
	sample(b, "http_requests_total", "outcome=\"dropped\"",
	    (double)s->http_dropped);
}

int
es_status_answer(const struct es_status *s, int64_t now_ms,
    const char *method, const char *path, bool privileged,
    struct es_buf *body, const char **content_type)
{
	enum { HEALTHZ, STATUS, METRICS } which;

	if (strcmp(path, "/healthz") == 0)
		which = HEALTHZ;
	else if (strcmp(path, "/status") == 0)
		which = STATUS;
	else if (strcmp(path, "/metrics") == 0)
		which = METRICS;
	else
		return 0;
	*content_type = ES_STATUS_JSON_TYPE;
	if (strcmp(method, "GET") != 0) {
		es_buf_addstr(body, "{\"error\":\"method not allowed\"}");
		return 405;
	}
	switch (which) {
	case HEALTHZ:
		return es_status_healthz(s, privileged, body);
	case STATUS:
		if (!privileged) {
			es_buf_addstr(body, "{\"error\":\"forbidden\",\"hint\":"
			    "\"/status names files: ask over the daemon's "
			    "socket (execsyncd --status) or send "
			    "'Authorization: Bearer <status_token>'\"}");
			return 403;
		}
		es_status_json(s, now_ms, true, body);
		return 200;
	case METRICS:
		*content_type = ES_STATUS_METRICS_TYPE;
		es_status_metrics(s, now_ms, body);
		return 200;
	}
	return 0;
}
