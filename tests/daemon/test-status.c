/*
 * The status renderings (daemon/status.h): /healthz for each check,
 * /status and its privacy, /metrics against the Prometheus text grammar,
 * and the routing of the three paths.
 */
#include "es-test.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "execsync/xmalloc.h"
#include "status.h"

#define NOW_MS		1765000000000LL	/* 2025-12-06 */
#define SECRET_ROOT	"/home/someone/secret-root"
#define SECRET_DB	"secretdbname"
#define SECRET_PATH	"10k-projects/secret-path.md"
#define SECRET_REASON	"bad date 'secret-reason'"
#define SECRET_WHY	"secret-why: the guard saw 40 deletes"

static const char *const secrets[] = {
	SECRET_ROOT, SECRET_DB, "secret-path", "secret-reason", "secret-why",
	NULL
};

/* A busy snapshot with a name in every place a name can go. */
static void
snapshot(struct es_status *s)
{
	memset(s, 0, sizeof(*s));
	s->version = "9.9.9";
	s->root = SECRET_ROOT;
	s->database = SECRET_DB;
	s->started_ms = NOW_MS - 3723000;
	s->db_connected = true;
	s->source = "oplog";
	s->source_tick_ms = 500;
	s->source_cost_ms = 13.5;
	s->last_full_pass_ms = NOW_MS - 60000;
	s->last_pass_ms = NOW_MS - 1000;
	s->last_pass_s = 0.25;
	s->last_event_ms = NOW_MS - 500;
	s->pending_paths = 3;
	s->pending_changes = 4;
	s->projects = 2000;
	s->goals = 200;
	s->actions = 20000;
	s->watches = 57;
	s->tcp_port = 8765;
	s->passes = 12;
	s->ops_ok[ES_SIDE_TO_DB] = 7;
	s->ops_failed[ES_SIDE_TO_DB] = 1;
	s->ops_ok[ES_SIDE_TO_FILE] = 5;
	s->errors = 2;
	s->conflicts = 1;
	s->overflows = 1;
	s->http_served = 10;
	s->http_dropped = 2;
	es_latency_observe(&s->latency[ES_SIDE_TO_DB], 0.03);
	es_latency_observe(&s->latency[ES_SIDE_TO_DB], 0.3);
	es_latency_observe(&s->latency[ES_SIDE_TO_DB], 100);
	es_latency_observe(&s->latency[ES_SIDE_TO_FILE], 0.7);
	es_status_remember(s->errors_recent, &s->nerrors_recent,
	    NOW_MS - 2000, SECRET_PATH, SECRET_REASON);
	es_status_remember(s->conflicts_recent, &s->nconflicts_recent,
	    NOW_MS - 1500, SECRET_PATH, "secret-reason both sides changed");
	snprintf(s->unhealthy_why, sizeof(s->unhealthy_why), "%s",
	    SECRET_WHY);
}

static json_t *
parse(const struct es_buf *b)
{
	json_error_t je;
	json_t *j = json_loadb(b->buf, b->len, 0, &je);

	if (j == NULL)
		fail_msg("not JSON (%s): %s", je.text, b->buf);
	return j;
}

static void
assert_no_secret(const char *what, const struct es_buf *b)
{
	for (int i = 0; secrets[i] != NULL; i++)
		if (strstr(b->buf, secrets[i]) != NULL)
			fail_msg("%s shows '%s': %s", what, secrets[i], b->buf);
}

static void
healthz_checks(void **state)
{
	static const struct {
		unsigned	 bits;
		const char	*names;	/* the checks array, as JSON */
	} cases[] = {
		{ 0, "[]" },
		{ ES_UNHEALTHY_DATABASE, "[\"database\"]" },
		{ ES_UNHEALTHY_WATCHER, "[\"watcher\"]" },
		{ ES_UNHEALTHY_GUARD, "[\"deletion guard\"]" },
		{ ES_UNHEALTHY_ROOT, "[\"root missing\"]" },
		{ ES_UNHEALTHY_GIT, "[\"git\"]" },
		{ ES_UNHEALTHY_IDENTITY, "[\"identity\"]" },
		{ ES_UNHEALTHY_DATABASE | ES_UNHEALTHY_GUARD,
		    "[\"database\",\"deletion guard\"]" },
	};
	struct es_status s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_buf b = ES_BUF_INIT;
		json_t *j, *want;
		int code;

		snapshot(&s);
		s.unhealthy = cases[i].bits;
		code = es_status_healthz(&s, false, &b);
		assert_int_equal(code, cases[i].bits != 0 ? 503 : 200);
		j = parse(&b);
		assert_string_equal(json_string_value(json_object_get(j,
		    "status")), cases[i].bits != 0 ? "degraded" : "healthy");
		want = json_loads(cases[i].names, 0, NULL);
		if (!json_equal(json_object_get(j, "checks"), want))
			fail_msg("case %zu: checks %s, want %s", i, b.buf,
			    cases[i].names);
		assert_null(json_object_get(j, "details"));
		assert_no_secret("unprivileged /healthz", &b);
		json_decref(want);
		json_decref(j);
		es_buf_release(&b);
	}
}

static void
healthz_details_when_privileged(void **state)
{
	struct es_status s;
	struct es_buf b = ES_BUF_INIT;
	json_t *j;

	(void)state;
	snapshot(&s);
	s.unhealthy = ES_UNHEALTHY_GUARD;
	assert_int_equal(es_status_healthz(&s, true, &b), 503);
	j = parse(&b);
	assert_string_equal(json_string_value(json_object_get(j, "details")),
	    SECRET_WHY);
	json_decref(j);
	es_buf_release(&b);
}

static void
status_json_fields(void **state)
{
	struct es_status s;
	struct es_buf b = ES_BUF_INIT;
	json_t *j, *x;

	(void)state;
	snapshot(&s);
	es_status_json(&s, NOW_MS, true, &b);
	assert_null(strchr(b.buf, '\n'));
	j = parse(&b);
	assert_string_equal(json_string_value(json_object_get(j, "version")),
	    "9.9.9");
	assert_int_equal(json_integer_value(json_object_get(j, "uptime_s")),
	    3723);
	assert_string_equal(json_string_value(json_object_get(j, "root")),
	    SECRET_ROOT);
	x = json_object_get(j, "database");
	assert_true(json_is_true(json_object_get(x, "connected")));
	assert_string_equal(json_string_value(json_object_get(x, "name")),
	    SECRET_DB);
	x = json_object_get(j, "change_source");
	assert_string_equal(json_string_value(json_object_get(x, "kind")),
	    "oplog");
	assert_int_equal(json_integer_value(json_object_get(x, "tick_ms")),
	    500);
	assert_true(json_real_value(json_object_get(x, "cost_ms")) == 13.5);
	assert_string_equal(json_string_value(json_object_get(j,
	    "last_full_pass")), "2025-12-06T05:45:40.000Z");
	assert_true(json_is_string(json_object_get(j, "last_event")));
	x = json_object_get(j, "pending");
	assert_int_equal(json_integer_value(json_object_get(x, "files")), 3);
	assert_int_equal(json_integer_value(json_object_get(x, "database")),
	    4);
	x = json_object_get(j, "counts");
	assert_int_equal(json_integer_value(json_object_get(x, "actions")),
	    20000);
	assert_int_equal(json_integer_value(json_object_get(j, "watches")),
	    57);
	assert_int_equal(json_integer_value(json_object_get(j, "tcp_port")),
	    8765);
	x = json_array_get(json_object_get(j, "recent_errors"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "path")),
	    SECRET_PATH);
	assert_string_equal(json_string_value(json_object_get(x, "reason")),
	    SECRET_REASON);
	x = json_array_get(json_object_get(j, "recent_conflicts"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "path")),
	    SECRET_PATH);
	json_decref(j);

	/* Nothing yet: nulls, not 1970. */
	memset(&s, 0, sizeof(s));
	es_buf_reset(&b);
	es_status_json(&s, NOW_MS, true, &b);
	j = parse(&b);
	assert_true(json_is_null(json_object_get(j, "last_full_pass")));
	assert_true(json_is_null(json_object_get(j, "tcp_port")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "change_source"), "kind")), "none");
	json_decref(j);
	es_buf_release(&b);
}

static void
status_json_private(void **state)
{
	struct es_status s;
	struct es_buf b = ES_BUF_INIT;
	json_t *j;

	(void)state;
	snapshot(&s);
	es_status_json(&s, NOW_MS, false, &b);
	assert_no_secret("unprivileged /status", &b);
	j = parse(&b);
	/* The counts are still there. */
	assert_int_equal(json_integer_value(json_object_get(j, "errors")), 2);
	assert_int_equal(json_array_size(json_object_get(j,
	    "recent_errors")), 1);
	json_decref(j);
	es_buf_release(&b);
}

static void
status_json_ring_and_bad_bytes(void **state)
{
	struct es_status s;
	struct es_buf b = ES_BUF_INIT;
	char path[32];
	json_t *j, *a;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "p%d", i);
		es_status_remember(s.errors_recent, &s.nerrors_recent,
		    NOW_MS + i, path, "r");
	}
	es_status_remember(s.conflicts_recent, &s.nconflicts_recent, NOW_MS,
	    "bad\xff\xfe", "x\x01y");
	es_status_json(&s, NOW_MS, true, &b);
	j = parse(&b);
	a = json_object_get(j, "recent_errors");
	assert_int_equal(json_array_size(a), ES_STATUS_RECENT);
	/* Oldest first: p8 .. p39. */
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, 0), "path")), "p8");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, ES_STATUS_RECENT - 1), "path")), "p39");
	a = json_object_get(j, "recent_conflicts");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(a, 0), "path")), "bad\\xff\\xfe");
	json_decref(j);
	es_buf_release(&b);
}

/* The Prometheus text format 0.0.4, line by line. */
struct family {
	char	 name[128];
	char	 type[16];
};

/* A histogram's sample names its family plus one of these. */
static bool
suffix_ok(const char *rest, size_t n)
{
	return (n == 7 && strncmp(rest, "_bucket", 7) == 0) ||
	    (n == 4 && strncmp(rest, "_sum", 4) == 0) ||
	    (n == 6 && strncmp(rest, "_count", 6) == 0);
}

/*
 * Checks b against the format: HELP and TYPE lines, samples whose family
 * was declared before them. false with why filled on the first bad line.
 */
static bool
metrics_grammar_ok(const struct es_buf *b, struct family *fam, size_t *nfam,
    size_t max, char *why, size_t whysz)
{
	static const char *sample_re = "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	    "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*"
	    ",?\\})? "
	    "(NaN|[+-]Inf|[+-]?[0-9]+(\\.[0-9]*)?([eE][+-]?[0-9]+)?)"
	    "( -?[0-9]+)?$";
	static const char *help_re = "^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$";
	static const char *type_re = "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "(counter|gauge|histogram|summary|untyped)$";
	regex_t rs, rh, rt;
	regmatch_t m[3];
	char *copy = es_xstrdup(b->buf), *line, *save = NULL;
	bool ok = true;

	assert_int_equal(regcomp(&rs, sample_re, REG_EXTENDED), 0);
	assert_int_equal(regcomp(&rh, help_re, REG_EXTENDED), 0);
	assert_int_equal(regcomp(&rt, type_re, REG_EXTENDED), 0);
	*nfam = 0;
	if (b->len == 0 || b->buf[b->len - 1] != '\n') {
		snprintf(why, whysz, "no final newline");
		ok = false;
	}
	for (line = strtok_r(copy, "\n", &save); ok && line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			if (regexec(&rh, line, 0, NULL, 0) != 0) {
				snprintf(why, whysz, "bad HELP: %s", line);
				ok = false;
			}
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			if (regexec(&rt, line, 3, m, 0) != 0 || *nfam == max) {
				snprintf(why, whysz, "bad TYPE: %s", line);
				ok = false;
				continue;
			}
			snprintf(fam[*nfam].name, sizeof(fam[0].name), "%.*s",
			    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
			snprintf(fam[*nfam].type, sizeof(fam[0].type), "%.*s",
			    (int)(m[2].rm_eo - m[2].rm_so), line + m[2].rm_so);
			(*nfam)++;
		} else if (line[0] != '#') {
			size_t n;
			bool found = false;

			if (regexec(&rs, line, 2, m, 0) != 0) {
				snprintf(why, whysz, "not a sample: '%s'",
				    line);
				ok = false;
				continue;
			}
			n = (size_t)(m[1].rm_eo - m[1].rm_so);
			/* Its family was declared before it. */
			for (size_t i = 0; i < *nfam; i++) {
				size_t fl = strlen(fam[i].name);
				const char *rest = line + fl;

				if (fl > n ||
				    strncmp(line, fam[i].name, fl) != 0)
					continue;
				if (fl == n)
					found = true;
				else if (suffix_ok(rest, n - fl) &&
				    strcmp(fam[i].type, "histogram") == 0)
					found = true;
			}
			if (!found) {
				snprintf(why, whysz, "sample before its TYPE: "
				    "%s", line);
				ok = false;
			}
		}
	}
	regfree(&rs);
	regfree(&rh);
	regfree(&rt);
	free(copy);
	return ok;
}

/* The value of the sample line starting with prefix ("name{labels} "). */
static double
value_of(const struct es_buf *b, const char *prefix)
{
	const char *p = b->buf;
	size_t n = strlen(prefix);

	while (p != NULL) {
		if (strncmp(p, prefix, n) == 0)
			return strtod(p + n, NULL);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	fail_msg("no sample '%s' in:\n%s", prefix, b->buf);
	return 0;
}

static void
metrics_parse(void **state)
{
	static const char *const dirs[] = { "to_db", "to_file" };
	struct es_status s;
	struct es_buf b = ES_BUF_INIT;
	struct family fam[64];
	size_t nfam;
	char key[128], why[256];

	(void)state;
	snapshot(&s);
	s.source = "we\"ird\\so\nurce";	/* label escapes */
	s.passes = 1234567891;			/* whole, not 1.23e+09 */
	s.last_full_pass_ms = NOW_MS + 123;
	es_status_metrics(&s, NOW_MS, &b);
	if (!metrics_grammar_ok(&b, fam, &nfam, 64, why, sizeof(why)))
		fail_msg("%s", why);
	/* Every sample is ours. */
	for (const char *p = b.buf; *p != '\0'; p = strchr(p, '\n') + 1)
		assert_true(p[0] == '#' || strncmp(p, "execsync_", 9) == 0);
	assert_no_secret("/metrics", &b);
	assert_true(nfam >= 15);
	assert_true(strstr(b.buf, "source=\"we\\\"ird\\\\so\\nurce\"} 1\n")
	    != NULL);
	assert_true(value_of(&b, "execsync_operations_total{direction="
	    "\"to_db\",outcome=\"ok\"} ") == 7);
	assert_true(value_of(&b, "execsync_operations_total{direction="
	    "\"to_db\",outcome=\"failed\"} ") == 1);
	assert_true(value_of(&b, "execsync_pending{side=\"files\"} ") == 3);
	assert_true(value_of(&b, "execsync_change_source_cost_seconds ") ==
	    0.0135);
	assert_true(value_of(&b, "execsync_last_pass_duration_seconds ") ==
	    0.25);
	assert_true(value_of(&b, "execsync_healthy ") == 1);
	assert_non_null(strstr(b.buf, "\nexecsync_passes_total 1234567891\n"));
	assert_non_null(strstr(b.buf, "\nexecsync_last_full_pass_timestamp_"
	    "seconds 1765000000.123\n"));

	/* Histograms: cumulative, le increasing, +Inf = count. */
	for (int d = 0; d < 2; d++) {
		double prev = 0, v, count;

		for (int i = 0; i < ES_LATENCY_NBUCKETS; i++) {
			snprintf(key, sizeof(key), "execsync_sync_latency_"
			    "seconds_bucket{direction=\"%s\",le=\"%g\"} ",
			    dirs[d], es_latency_bounds[i]);
			v = value_of(&b, key);
			assert_true(v >= prev);
			if (i > 0)
				assert_true(es_latency_bounds[i] >
				    es_latency_bounds[i - 1]);
			prev = v;
		}
		snprintf(key, sizeof(key), "execsync_sync_latency_seconds_"
		    "bucket{direction=\"%s\",le=\"+Inf\"} ", dirs[d]);
		v = value_of(&b, key);
		snprintf(key, sizeof(key), "execsync_sync_latency_seconds_"
		    "count{direction=\"%s\"} ", dirs[d]);
		count = value_of(&b, key);
		assert_true(v >= prev);
		assert_true(v == count);
		assert_true(count == (d == 0 ? 3 : 1));
	}
	/* 0.03 and 0.3 under 0.5, 100 only in +Inf. */
	assert_true(value_of(&b, "execsync_sync_latency_seconds_bucket{"
	    "direction=\"to_db\",le=\"0.5\"} ") == 2);
	assert_true(value_of(&b, "execsync_sync_latency_seconds_sum{"
	    "direction=\"to_db\"} ") == 100.33);
	es_buf_release(&b);
}

static void
metrics_grammar_catches(void **state)
{
	/* The checker itself rejects what is not the format. */
	static const char *const bad[] = {
		"execsync_x 1\n",			/* no TYPE */
		"# TYPE execsync_x gauge\nexecsync_x\n",	/* no value */
		"# TYPE execsync_x gauge\nexecsync_x{a=b} 1\n",
		"# TYPE execsync_x gauge\nexecsync_x 1 2 3\n",
		"# TYPE execsync_x gauge\nexecsync_x 1",	/* no newline */
		"# TYPE execsync_x gauge\nexecsync_x_bucket 1\n",
		"# TYPE execsync_x histogram\nexecsync_x_bucket{le=\"1\"} x\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct es_buf b = ES_BUF_INIT;
		struct family fam[4];
		size_t nfam;
		char why[256];

		es_buf_addstr(&b, bad[i]);
		if (metrics_grammar_ok(&b, fam, &nfam, 4, why, sizeof(why)))
			fail_msg("case %zu passed: %s", i, bad[i]);
		es_buf_release(&b);
	}
}

static void
answer_routes(void **state)
{
	static const struct {
		const char	*method, *path;
		bool		 privileged;
		int		 status;
		const char	*type;		/* NULL: not set */
		const char	*has;		/* in the body */
	} cases[] = {
		{ "GET", "/healthz", false, 200, ES_STATUS_JSON_TYPE,
		    "\"healthy\"" },
		{ "GET", "/status", false, 403, ES_STATUS_JSON_TYPE,
		    "socket" },
		{ "GET", "/status", true, 200, ES_STATUS_JSON_TYPE,
		    SECRET_ROOT },
		{ "GET", "/metrics", false, 200, ES_STATUS_METRICS_TYPE,
		    "# TYPE execsync_up gauge" },
		{ "POST", "/metrics", true, 405, ES_STATUS_JSON_TYPE, "" },
		{ "POST", "/status", true, 405, ES_STATUS_JSON_TYPE, "" },
		{ "GET", "/", true, 0, NULL, NULL },
		{ "GET", "/status/x", true, 0, NULL, NULL },
		{ "GET", "/once", true, 0, NULL, NULL },
	};
	struct es_status s;

	(void)state;
	snapshot(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_buf b = ES_BUF_INIT;
		const char *type = NULL;
		int code;

		code = es_status_answer(&s, NOW_MS, cases[i].method,
		    cases[i].path, cases[i].privileged, &b, &type);
		if (code != cases[i].status)
			fail_msg("%s %s: %d, want %d", cases[i].method,
			    cases[i].path, code, cases[i].status);
		if (cases[i].type != NULL)
			assert_string_equal(type, cases[i].type);
		else
			assert_int_equal(b.len, 0);
		if (cases[i].has != NULL)
			assert_non_null(strstr(b.buf, cases[i].has));
		if (!cases[i].privileged)
			assert_no_secret(cases[i].path, &b);
		es_buf_release(&b);
	}
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(healthz_checks),
	cmocka_unit_test(healthz_details_when_privileged),
	cmocka_unit_test(status_json_fields),
	cmocka_unit_test(status_json_private),
	cmocka_unit_test(status_json_ring_and_bad_bytes),
	cmocka_unit_test(metrics_parse),
	cmocka_unit_test(metrics_grammar_catches),
	cmocka_unit_test(answer_routes),
};

ES_TEST_MAIN(tests)
