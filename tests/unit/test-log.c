/*
 * The log: one escaped line per event (STYLE "Logging"), JSON mode, level
 * filter, hook, journald prefix, URI redaction (SPEC §4.11), threads.
 */
#include "es-test.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/log.h"

/* A fresh log writing to a temporary file, every setting at its default. */
static FILE *
capture(void)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	es_log_set_stream(f);
	es_log_set_level(ES_LOG_INFO);
	es_log_set_json(false);
	es_log_set_journald(false);
	es_log_set_hook(NULL, NULL);
	es_log_set_secret_uri(NULL);
	return f;
}

/* What was written to f; f is closed and stderr restored. */
static char *
captured(FILE *f)
{
	struct es_buf b = ES_BUF_INIT;
	char chunk[4096];
	size_t n;

	es_log_set_stream(NULL);
	rewind(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		es_buf_add(&b, chunk, n);
	fclose(f);
	return es_buf_detach(&b, NULL);
}

static void
assert_matches(const char *s, const char *re)
{
	regex_t rx;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&rx, s, 0, NULL, 0) != 0) {
		regfree(&rx);
		fail_msg("'%s' does not match /%s/", s, re);
	}
	regfree(&rx);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* STYLE "Logging": data can never forge a line (tmux's stravis use). */
static void
test_log_escape_table(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*want;
	} cases[] = {
#define C(in, want)	{ in, sizeof(in) - 1, want }
		C("plain text", "plain text"),
		C("a\nb", "a\\nb"),
		C("\r\t", "\\r\\t"),
		C("back\\slash", "back\\\\slash"),
		C("\x1b[31mred", "\\x1b[31mred"),
		C("\x01\x1f\x7f", "\\x01\\x1f\\x7f"),
		C("a\0b", "a\\x00b"),
		/* Valid UTF-8 passes. */
		C("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		C("\xc2\xa0", "\xc2\xa0"),
		/* C1 controls (CSI) are escaped. */
		C("\xc2\x9b" "2J", "\\xc2\\x9b" "2J"),
		C("\xc2\x85", "\\xc2\\x85"),
		/* Invalid UTF-8, byte by byte. */
		C("\xff", "\\xff"),
		C("\xc3", "\\xc3"),
		C("\xc3(", "\\xc3("),
		C("\xc0\xaf", "\\xc0\\xaf"),
		C("\xe0\x80\xaf", "\\xe0\\x80\\xaf"),
		C("\xed\xa0\x80", "\\xed\\xa0\\x80"),
		C("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"),
		C("\xf0\x9f\x98", "\\xf0\\x9f\\x98"),
		C("\x80", "\\x80"),
#undef C
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_buf b = ES_BUF_INIT;

		es_log_escape(&b, cases[i].in, cases[i].len);
		if (strcmp(b.buf, cases[i].want) != 0)
			fail_msg("case %zu: want '%s', got '%s'", i,
			    cases[i].want, b.buf);
		es_buf_release(&b);
	}
}

static void
test_log_line_format(void **state)
{
	FILE *f = capture();
	char *out;

	(void)state;
	es_log(ES_LOG_WARN, "scan", "%s:%d: bad date '%s', item skipped",
	    "10k-projects/active/x.md", 7, "2025-13-01");
	es_log(ES_LOG_INFO, NULL, "no subsystem");
	out = captured(f);
	assert_matches(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{3}Z warn scan 10k-projects/active/x.md:7: bad "
	    "date '2025-13-01', item skipped\n"
	    "[0-9TZ:.-]+ info - no subsystem\n$");
	free(out);
}

/* A message carrying a newline stays one line: no forged entries. */
static void
test_log_no_forged_lines(void **state)
{
	FILE *f = capture();
	char *out;

	(void)state;
	es_log(ES_LOG_INFO, "scan", "renamed %s", "a.md\n2025-01-01T00:00:00"
	    ".000Z error store fake\r\x1b[2J");
	out = captured(f);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "info scan renamed a.md\\n2025-01-01T00:00:"
	    "00.000Z error store fake\\r\\x1b[2J\n"));
	free(out);
}

static void
test_log_json_lines_parse(void **state)
{
	FILE *f = capture();
	char *out, *line, *save = NULL;
	size_t n = 0;

	(void)state;
	es_log_set_json(true);
	es_log(ES_LOG_ERROR, "store", "write failed: \"%s\"", "quote\ttab");
	es_log(ES_LOG_INFO, "scan", "%s", "caf\xc3\xa9 \xff");
	out = captured(f);
	assert_int_equal(count_lines(out), 2);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		const char *ts, *lvl, *sub, *msg;

		if (o == NULL)
			fail_msg("not JSON: '%s': %s", line, jerr.text);
		assert_int_equal(json_unpack(o, "{s:s, s:s, s:s, s:s}", "ts",
		    &ts, "level", &lvl, "sub", &sub, "msg", &msg), 0);
		assert_int_equal(json_object_size(o), 4);
		assert_int_equal(strlen(ts), 24);
		assert_matches(ts, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z$");
		if (n == 0) {
			assert_string_equal(lvl, "error");
			assert_string_equal(sub, "store");
			assert_string_equal(msg,
			    "write failed: \"quote\\ttab\"");
		} else {
			assert_string_equal(lvl, "info");
			assert_string_equal(sub, "scan");
			assert_string_equal(msg, "caf\xc3\xa9 \\xff");
		}
		json_decref(o);
	}
	assert_int_equal(n, 2);
	free(out);
}

static void
test_log_level_filter(void **state)
{
	FILE *f = capture();
	char *out;

	(void)state;
	es_log_set_level(ES_LOG_WARN);
	assert_int_equal(es_log_get_level(), ES_LOG_WARN);
	es_log(ES_LOG_DEBUG, "t", "debug 1");
	es_log(ES_LOG_INFO, "t", "info 1");
	es_log(ES_LOG_WARN, "t", "warn 1");
	es_log(ES_LOG_ERROR, "t", "error 1");
	es_log_set_level(ES_LOG_DEBUG);
	es_log(ES_LOG_DEBUG, "t", "debug 2");
	es_log_set_level(ES_LOG_ERROR);
	es_log(ES_LOG_WARN, "t", "warn 2");
	out = captured(f);
	assert_int_equal(count_lines(out), 3);
	assert_null(strstr(out, "debug 1"));
	assert_null(strstr(out, "info 1"));
	assert_null(strstr(out, "warn 2"));
	assert_non_null(strstr(out, " warn t warn 1\n"));
	assert_non_null(strstr(out, " error t error 1\n"));
	assert_non_null(strstr(out, " debug t debug 2\n"));
	free(out);
	es_log_set_level(ES_LOG_INFO);
}

static void
test_log_level_names(void **state)
{
	static const struct {
		const char		*in;
		bool			 ok;
		enum es_log_level	 want;
	} cases[] = {
		{ "error", true, ES_LOG_ERROR }, { "warn", true, ES_LOG_WARN },
		{ "warning", true, ES_LOG_WARN }, { "INFO", true, ES_LOG_INFO },
		{ "debug", true, ES_LOG_DEBUG }, { "trace", false, 0 },
		{ "", false, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum es_log_level l = ES_LOG_INFO;

		assert_int_equal(es_log_level_parse(cases[i].in, &l),
		    cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(l, cases[i].want);
	}
	assert_string_equal(es_log_level_name(ES_LOG_WARN), "warn");
}

struct hooked {
	size_t			 n;
	enum es_log_level	 level[8];
	char			 sub[8][32];
	char			 msg[8][128];
};

static void
hook(enum es_log_level l, const char *sub, const char *msg, void *ud)
{
	struct hooked *h = ud;

	/* Logging from the hook is dropped, not a deadlock. */
	es_log(ES_LOG_ERROR, "hook", "re-entered");
	if (h->n < 8) {
		h->level[h->n] = l;
		snprintf(h->sub[h->n], sizeof(h->sub[0]), "%s", sub);
		snprintf(h->msg[h->n], sizeof(h->msg[0]), "%s", msg);
		h->n++;
	}
}

static void
test_log_hook_receives_lines(void **state)
{
	struct hooked h = { 0 };
	FILE *f = capture();
	char *out;

	(void)state;
	es_log_set_hook(hook, &h);
	es_log_set_level(ES_LOG_ERROR);
	es_log(ES_LOG_ERROR, "scan", "a.md:3: bad date '%s'", "x\ny");
	es_log(ES_LOG_WARN, "plan", "conflict on b.md");	/* hook only */
	es_log(ES_LOG_INFO, "scan", "pass done");		/* neither */
	es_log_set_hook(NULL, NULL);
	es_log(ES_LOG_ERROR, "scan", "after removal");
	out = captured(f);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.level[0], ES_LOG_ERROR);
	assert_string_equal(h.sub[0], "scan");
	assert_string_equal(h.msg[0], "a.md:3: bad date 'x\\ny'");
	assert_int_equal(h.level[1], ES_LOG_WARN);
	assert_string_equal(h.sub[1], "plan");
	assert_string_equal(h.msg[1], "conflict on b.md");
	assert_int_equal(count_lines(out), 2);
	assert_null(strstr(out, "re-entered"));
	assert_null(strstr(out, "conflict"));
	free(out);
	es_log_set_level(ES_LOG_INFO);
}

/* A stream whose dev:ino JOURNAL_STREAM names, as systemd sets it. */
static FILE *
journal_stream(void)
{
	FILE *f = tmpfile();
	struct stat st;
	char js[64];

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	return f;
}

/* Under systemd, the sd-daemon priority prefix and no time stamp. */
static void
test_log_journald_prefix(void **state)
{
	FILE *f = capture(), *other;
	char *out;

	(void)state;
	es_log_set_journald(true);
	es_log(ES_LOG_ERROR, "a", "e");
	es_log(ES_LOG_WARN, "a", "w");
	es_log(ES_LOG_INFO, "a", "i");
	es_log(ES_LOG_DEBUG, "a", "filtered");
	es_log_set_json(true);
	es_log(ES_LOG_INFO, "a", "j");
	out = captured(f);
	assert_matches(out, "^<3>error a e\n<4>warn a w\n<6>info a i\n"
	    "<6>\\{\"ts\":\"[^\"]+\",\"level\":\"info\",\"sub\":\"a\","
	    "\"msg\":\"j\"\\}\n$");
	free(out);

	/* Detected: JOURNAL_STREAM names this very file. */
	f = capture();
	free(captured(f));
	f = journal_stream();
	es_log_set_journald_auto();
	es_log_set_stream(f);
	es_log(ES_LOG_WARN, "a", "detected");
	out = captured(f);
	assert_string_equal(out, "<4>warn a detected\n");
	free(out);

	/* Inherited by a child whose stderr went elsewhere: not the journal. */
	f = journal_stream();
	other = tmpfile();
	assert_non_null(other);
	es_log_set_stream(other);
	es_log(ES_LOG_WARN, "a", "elsewhere");
	fclose(f);
	out = captured(other);
	assert_matches(out, "^[0-9-]+T[0-9:.]+Z warn a elsewhere\n$");
	free(out);

	/* Forced off wins over detection. */
	f = journal_stream();
	es_log_set_journald(false);
	es_log_set_stream(f);
	es_log(ES_LOG_WARN, "a", "forced off");
	out = captured(f);
	assert_matches(out, "^[0-9-]+T[0-9:.]+Z warn a forced off\n$");
	free(out);
	unsetenv("JOURNAL_STREAM");
}

/* SPEC §4.11: the configured URI's password never reaches the log. */
static void
test_log_redacts_credentials(void **state)
{
	FILE *f = capture();
	char *out;

	(void)state;
	es_log_set_secret_uri("mongodb://u:hunter%32@h/db");
	es_log(ES_LOG_ERROR, "store", "auth failed for %s (password %s)",
	    "mongodb://u:hunter%32@h/db", "hunter2");
	es_log(ES_LOG_ERROR, "store", "other uri mongodb://x:y@z/");
	es_log_set_secret_uri(NULL);
	out = captured(f);
	assert_null(strstr(out, "hunter"));
	assert_non_null(strstr(out, "auth failed for mongodb://u:***@h/db "
	    "(password ***)\n"));
	assert_non_null(strstr(out, "other uri mongodb://x:***@z/\n"));
	free(out);
}

static void
test_log_error_format(void **state)
{
	struct es_error err;
	FILE *f = capture();
	char *out;

	(void)state;
	es_error_set(&err, ES_EPARSE, "10k-projects/active/l/learn-rust.md", 7,
	    "bad date '%s'", "2025-13-01");
	es_log_error(&err, ES_LOG_WARN, "scan");
	es_error_set(&err, ES_ECONFIG, NULL, 0, "no source folder");
	es_log_error(&err, ES_LOG_ERROR, "config");
	out = captured(f);
	assert_non_null(strstr(out, " warn scan 10k-projects/active/l/"
	    "learn-rust.md:7: bad date '2025-13-01'\n"));
	assert_non_null(strstr(out, " error config no source folder\n"));
	free(out);
}

static void
test_log_long_message_truncated(void **state)
{
	FILE *f = capture();
	char *big = malloc(ES_LOG_MSG_MAX * 2 + 1), *out;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', ES_LOG_MSG_MAX * 2);
	big[ES_LOG_MSG_MAX * 2] = '\0';
	es_log(ES_LOG_INFO, "t", "%s", big);
	out = captured(f);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, " [truncated]\n"));
	assert_true(strlen(out) < ES_LOG_MSG_MAX + 100);
	free(out);
	free(big);
}

static void
test_log_mongoc_handler(void **state)
{
	FILE *f = capture();
	char *out;

	(void)state;
	es_log_mongoc_handler_install();
	mongoc_log(MONGOC_LOG_LEVEL_WARNING, "cluster", "cannot reach "
	    "mongodb://u:pw@h:1/db");
	mongoc_log(MONGOC_LOG_LEVEL_CRITICAL, "client", "bad");
	mongoc_log(MONGOC_LOG_LEVEL_DEBUG, "monitor", "debug dropped");
	mongoc_log(MONGOC_LOG_LEVEL_INFO, "x", "info kept");
	es_log_set_level(ES_LOG_DEBUG);
	mongoc_log(MONGOC_LOG_LEVEL_DEBUG, "monitor", "debug kept");
	mongoc_log_set_handler(mongoc_log_default_handler, NULL);
	out = captured(f);
	assert_non_null(strstr(out, " warn mongoc cluster: cannot reach "
	    "mongodb://u:***@h:1/db\n"));
	assert_non_null(strstr(out, " error mongoc client: bad\n"));
	assert_non_null(strstr(out, " info mongoc x: info kept\n"));
	assert_non_null(strstr(out, " debug mongoc monitor: debug kept\n"));
	assert_null(strstr(out, "debug dropped"));
	free(out);
	es_log_set_level(ES_LOG_INFO);
}

#define NTHREADS	4
#define NLINES		300

static void *
writer(void *arg)
{
	intptr_t id = (intptr_t)arg;

	for (int i = 0; i < NLINES; i++)
		es_log(ES_LOG_INFO, "thread", "writer %d line %d with some "
		    "padding to make interleaving likely", (int)id, i);
	return NULL;
}

/* Lines from several threads never mix (libmongoc logs from its own). */
static void
test_log_threads_whole_lines(void **state)
{
	pthread_t t[NTHREADS];
	FILE *f = capture();
	char *out, *line, *save = NULL;
	size_t n = 0;

	(void)state;
	for (intptr_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer,
		    (void *)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	out = captured(f);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++)
		assert_matches(line, "^[0-9TZ:.-]+ info thread writer [0-3] "
		    "line [0-9]+ with some padding to make interleaving "
		    "likely$");
	assert_int_equal(n, NTHREADS * NLINES);
	free(out);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_log_escape_table),
	cmocka_unit_test(test_log_line_format),
	cmocka_unit_test(test_log_no_forged_lines),
	cmocka_unit_test(test_log_json_lines_parse),
	cmocka_unit_test(test_log_level_filter),
	cmocka_unit_test(test_log_level_names),
	cmocka_unit_test(test_log_hook_receives_lines),
	cmocka_unit_test(test_log_journald_prefix),
	cmocka_unit_test(test_log_redacts_credentials),
	cmocka_unit_test(test_log_error_format),
	cmocka_unit_test(test_log_long_message_truncated),
	cmocka_unit_test(test_log_mongoc_handler),
	cmocka_unit_test(test_log_threads_whole_lines),
};

ES_TEST_MAIN(tests)
