/*
 * The exit status of SPEC §1 and the --json line, the same in every
 * program (issue 18 items 3 and 5): execsyncd --once, execsync-migrate,
 * execsync-scan and execsyncd --status, the real binaries, each run with a
 * bad flag, a bad config (an unknown key, a bad value), a missing source
 * folder, an unset or empty source, an unreachable server (a closed port)
 * and a refused password (the fixture's FerretDB 1.24 refuses any
 * credentials: SCRAM is unsupported there, libmongoc reports
 * MONGOC_ERROR_CLIENT_AUTHENTICATE), always with --json: stdout is exactly
 * one line, one JSON object with "version" and the "exit_status" the
 * program exits with.
 */
#include "es-itest.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "execsync/cli.h"
#include "execsync/xmalloc.h"

enum prog { ONCE, MIGRATE, SCAN, STATUS, NPROGS };

static const struct {
	const char	*name;
	const char	*bin;
	const char	*mode;		/* execsyncd's --once or --status */
} progs[NPROGS] = {
	[ONCE] = { "execsyncd --once", ES_SYNCD_BIN, "--once" },
	[MIGRATE] = { "execsync-migrate", ES_MIGRATE_BIN, NULL },
	[SCAN] = { "execsync-scan", ES_SCAN_BIN, NULL },
	[STATUS] = { "execsyncd --status", ES_SYNCD_BIN, "--status" },
};

/* Nothing listens on port 1 of loopback: refused at once. */
#define CLOSED_URI	"mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=" \
			"2000&connectTimeoutMS=2000"

struct world {
	char	*tmp;
	char	*root;		/* an execution-system folder */
	struct es_buf out, err;
};

static void
world_begin(struct world *w, const char *tag)
{
	char *d;

	memset(w, 0, sizeof(*w));
	w->tmp = es_itest_tmpdir(tag);
	w->root = es_xasprintf("%s/root", w->tmp);
	d = es_xasprintf("%s/10k-projects", w->root);
	if (mkdir(w->root, 0755) != 0 || mkdir(d, 0755) != 0)
		fail_msg("mkdir %s: %s", d, strerror(errno));
	free(d);
}

static void
world_end(struct world *w)
{
	es_itest_rm_rf(w->tmp);
	free(w->tmp);
	free(w->root);
	es_buf_release(&w->out);
	es_buf_release(&w->err);
}

/* Writes tmp/name (mode 0600) holding body; returns its path. */
static char *
put_config(const struct world *w, const char *name, const char *body,
    mode_t mode)
{
	char *path = es_xasprintf("%s/%s", w->tmp, name);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(body, f);
	fclose(f);
	if (chmod(path, mode) != 0)
		fail_msg("chmod %s: %s", path, strerror(errno));
	return path;
}

/*
 * Checks what a --json run printed: exactly one line on stdout, one JSON
 * object with "version" (as --version prints it) and "exit_status" equal
 * to rc. Returns the object (decref it).
 */
static json_t *
check_json(const char *what, int rc, const struct es_buf *out)
{
	json_error_t je;
	json_t *o;
	const char *nl;

	if (out->len == 0 || out->buf[out->len - 1] != '\n' ||
	    (nl = memchr(out->buf, '\n', out->len)) != out->buf + out->len -
	    1)
		fail_msg("%s: stdout is not one line: '%s'", what,
		    out->buf != NULL ? out->buf : "");
	if ((o = json_loadb(out->buf, out->len, 0, &je)) == NULL ||
	    !json_is_object(o))
		fail_msg("%s: stdout is not one JSON object (%s): '%s'", what,
		    je.text, out->buf);
	if (!json_is_string(json_object_get(o, "version")) ||
	    strcmp(json_string_value(json_object_get(o, "version")),
	    es_cli_version()) != 0)
		fail_msg("%s: no \"version\" '%s' in '%s'", what,
		    es_cli_version(), out->buf);
	if (json_integer_value(json_object_get(o, "exit_status")) != rc)
		fail_msg("%s: \"exit_status\" is not %d in '%s'", what, rc,
		    out->buf);
	return o;
}

/*
 * Runs program p with --json, --config cfg (when not NULL), the extra
 * arguments (NULL-terminated) and, for execsync-scan, the folder dir last.
 * Checks the JSON line and that the status is want; returns the object.
 */
static json_t *
run(struct world *w, enum prog p, const char *cfg, const char *dir,
    int want, const char *const *extra)
{
	char *argv[16], *what;
	size_t n = 0;
	int rc;
	json_t *o;

	argv[n++] = (char *)progs[p].bin;
	if (progs[p].mode != NULL)
		argv[n++] = (char *)progs[p].mode;
	argv[n++] = (char *)"--json";
	if (cfg != NULL) {
		argv[n++] = (char *)"--config";
		argv[n++] = (char *)cfg;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 13; i++)
		argv[n++] = (char *)extra[i];
	if (p == SCAN && dir != NULL)
		argv[n++] = (char *)dir;
	argv[n] = NULL;
	es_buf_reset(&w->out);
	es_buf_reset(&w->err);
	rc = es_itest_run(argv, &w->out, &w->err, 60);
	what = es_xasprintf("%s (%s)", progs[p].name, cfg != NULL ? cfg :
	    "no config");
	if (rc != want)
		fail_msg("%s: exit status %d, want %d; stderr: %s", what, rc,
		    want, w->err.buf != NULL ? w->err.buf : "");
	o = check_json(what, rc, &w->out);
	free(what);
	return o;
}

/* Whether the JSON's "error" (or stderr) says needle. */
static bool
says(const struct world *w, const json_t *o, const char *needle)
{
	const char *e = json_string_value(json_object_get(o, "error"));

	return (e != NULL && strstr(e, needle) != NULL) ||
	    (w->err.buf != NULL && strstr(w->err.buf, needle) != NULL);
}

static void
test_exit_bad_flag(void **state)
{
	static const char *const bad[] = { "--jsn", NULL };
	struct world w;
	json_t *o;

	(void)state;
	world_begin(&w, "xflag");
	for (int p = 0; p < NPROGS; p++) {
		o = run(&w, (enum prog)p, NULL, w.root, 2, bad);
		assert_true(says(&w, o, "unknown option '--jsn'"));
		json_decref(o);
	}
	world_end(&w);
}

static void
test_exit_bad_config(void **state)
{
	struct world w;
	char *unknown, *value;
	json_t *o;

	(void)state;
	world_begin(&w, "xconf");
	unknown = put_config(&w, "unknown.yaml", "user_id: u\nsorce: /x\n",
	    0600);
	value = put_config(&w, "value.yaml", "user_id: u\ndebounce_ms: "
	    "soon\n", 0600);
	for (int p = 0; p < NPROGS; p++) {
		o = run(&w, (enum prog)p, unknown, w.root, 2, NULL);
		assert_true(says(&w, o, "unknown.yaml:2:"));
		json_decref(o);
		o = run(&w, (enum prog)p, value, w.root, 2, NULL);
		assert_true(says(&w, o, "value.yaml:2:"));
		json_decref(o);
	}
	free(unknown);
	free(value);
	world_end(&w);
}

/* A missing folder is a configuration error, found before connecting. */
static void
test_exit_missing_source(void **state)
{
	struct world w;
	char *cfg, *body, *missing;
	json_t *o;

	(void)state;
	world_begin(&w, "xmiss");
	missing = es_xasprintf("%s/not-there", w.tmp);
	/* A closed port: a program that connected first would say 75. */
	body = es_xasprintf("source: %s\nmongodb_uri: " CLOSED_URI "\n"
	    "user_id: u\n", missing);
	cfg = put_config(&w, "missing.yaml", body, 0600);
	for (int p = 0; p < NPROGS; p++) {
		o = run(&w, (enum prog)p, cfg, missing, 2, NULL);
		assert_true(says(&w, o, "not-there"));
		json_decref(o);
	}
	free(body);
	free(cfg);
	free(missing);
	world_end(&w);
}

static void
test_exit_empty_source(void **state)
{
	struct world w;
	char *empty, *unset;
	json_t *o;

	(void)state;
	world_begin(&w, "xempty");
	empty = put_config(&w, "empty.yaml", "source: ''\nmongodb_uri: "
	    CLOSED_URI "\nuser_id: u\n", 0600);
	unset = put_config(&w, "unset.yaml", "mongodb_uri: " CLOSED_URI
	    "\nuser_id: u\n", 0600);
	for (int p = 0; p < NPROGS; p++) {
		o = run(&w, (enum prog)p, empty, "", 2, NULL);
		if (p != SCAN)
			assert_true(says(&w, o, "empty.yaml:1:"));
		json_decref(o);
		/* execsync-scan takes its folder as an argument only. */
		if (p == SCAN)
			continue;
		o = run(&w, (enum prog)p, unset, NULL, 2, NULL);
		assert_true(says(&w, o, "no source folder"));
		json_decref(o);
	}
	world_end(&w);
	free(empty);
	free(unset);
}

/*
 * An unreachable server is temporary: 75 for the programs that connect;
 * execsync-scan connects to nothing (0), execsyncd --status finds no
 * daemon (75).
 */
static void
test_exit_unreachable_server(void **state)
{
	static const int want[NPROGS] = { [ONCE] = 75, [MIGRATE] = 75,
	    [SCAN] = 0, [STATUS] = 75 };
	struct world w;
	char *cfg, *body;
	json_t *o;

	(void)state;
	world_begin(&w, "xdown");
	body = es_xasprintf("source: %s\nmongodb_uri: " CLOSED_URI "\n"
	    "user_id: u\n", w.root);
	cfg = put_config(&w, "down.yaml", body, 0600);
	for (int p = 0; p < NPROGS; p++) {
		o = run(&w, (enum prog)p, cfg, w.root, want[p], NULL);
		json_decref(o);
	}
	/* And the plain flags, no config file. */
	{
		static const char *const flags[] = { "--mongodb-uri",
		    CLOSED_URI, "--user-id", "u", "--source", NULL, NULL };
		const char *f[7];

		memcpy(f, flags, sizeof(f));
		f[5] = w.root;
		o = run(&w, MIGRATE, NULL, NULL, 75, f);
		assert_true(says(&w, o, "cannot reach the server"));
		json_decref(o);
		o = run(&w, ONCE, NULL, NULL, 75, f);
		json_decref(o);
	}
	free(body);
	free(cfg);
	world_end(&w);
}

/*
 * A refused password is a configuration error (2), said as such, never
 * "cannot reach the server", and never showing the password.
 */
static void
test_exit_refused_password(void **state)
{
	struct world w;
	char *uri = es_itest_uri(), *cred, *cfg, *body;
	const char *p3 = strstr(uri, "://");
	json_t *o;

	(void)state;
	world_begin(&w, "xauth");
	assert_non_null(p3);
	cred = es_xasprintf("%.*s://execsync:s3cr3t@%s", (int)(p3 - uri), uri,
	    p3 + 3);
	body = es_xasprintf("source: %s\nmongodb_uri: \"%s\"\nuser_id: u\n"
	    "database: %s\n", w.root, cred, "es_t_xauth");
	cfg = put_config(&w, "auth.yaml", body, 0600);
	for (int p = ONCE; p <= MIGRATE; p++) {
		o = run(&w, (enum prog)p, cfg, NULL, 2, NULL);
		assert_true(says(&w, o, "refused the user name or password"));
		assert_false(says(&w, o, "cannot reach"));
		assert_null(strstr(w.out.buf, "s3cr3t"));
		assert_null(strstr(w.err.buf, "s3cr3t"));
		json_decref(o);
	}
	free(body);
	free(cfg);
	free(cred);
	free(uri);
	world_end(&w);
}

/*
 * An '@' left in the password: a configuration error with the hint, found
 * before connecting; a mongodb+srv host DNS does not know is not "bad
 * mongodb uri".
 */
static void
test_exit_uri_wording(void **state)
{
	static const char *const at[] = { "--mongodb-uri",
	    "mongodb://us:p@ss@127.0.0.1:1/", "--user-id", "u", NULL };
	static const char *const srv[] = { "--mongodb-uri",
	    "mongodb+srv://cluster0.execsync-test.invalid/", "--user-id",
	    "u", NULL };
	struct world w;
	char *body, *cfg;
	json_t *o;

	(void)state;
	world_begin(&w, "xuri");
	body = es_xasprintf("source: %s\n", w.root);
	cfg = put_config(&w, "src.yaml", body, 0600);
	for (int p = ONCE; p <= MIGRATE; p++) {
		o = run(&w, (enum prog)p, cfg, NULL, 2, at);
		assert_true(says(&w, o, "percent-encoded as %40"));
		json_decref(o);
	}
	o = run(&w, MIGRATE, cfg, NULL, 75, srv);
	assert_true(says(&w, o, "cannot look up the mongodb+srv host"));
	assert_false(says(&w, o, "bad mongodb uri"));
	json_decref(o);
	free(body);
	free(cfg);
	world_end(&w);
}

/*
 * A relative source in a config file is relative to the file's folder;
 * a file holding a password that others may read gets a warning naming
 * it and the fix.
 */
static void
test_exit_config_file_source_and_mode(void **state)
{
	struct world w;
	char *cfg, *dir;
	json_t *o;

	(void)state;
	world_begin(&w, "xrel");
	dir = es_xasprintf("%s/etc", w.tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	cfg = put_config(&w, "etc/rel.yaml", "source: ../root\n"
	    "mongodb_uri: mongodb://us:pw@127.0.0.1:1/\nuser_id: u\n", 0644);
	/* The folder is found (no daemon: 75, not a missing folder's 2). */
	o = run(&w, STATUS, cfg, NULL, 75, NULL);
	json_decref(o);
	if (strstr(w.err.buf, "rel.yaml: holds a password and other users "
	    "may read it (mode 644): chmod 600 ") == NULL)
		fail_msg("no warning: %s", w.err.buf);
	assert_int_equal(chmod(cfg, 0600), 0);
	o = run(&w, STATUS, cfg, NULL, 75, NULL);
	json_decref(o);
	assert_null(strstr(w.err.buf, "chmod 600"));
	free(cfg);
	free(dir);
	world_end(&w);
}

/*
 * A git operation in progress is temporary (SPEC 4.16): 75 from
 * execsync-migrate (before connecting) and from execsyncd --once (the
 * pass held); the deletion guard's 3 is checked by tests/sync/test-sync.c.
 */
static void
test_exit_git_hold(void **state)
{
	struct world w;
	char *uri = es_itest_uri(), *db = es_itest_dbname("xgit"), *git;
	const char *args[] = { "--source", NULL, "--mongodb-uri", uri,
	    "--user-id", "u", "--database", db, NULL };
	json_t *o;
	FILE *f;

	(void)state;
	world_begin(&w, "xgit");
	git = es_xasprintf("%s/.git", w.root);
	assert_int_equal(mkdir(git, 0755), 0);
	free(git);
	git = es_xasprintf("%s/.git/index.lock", w.root);
	assert_non_null(f = fopen(git, "w"));
	fclose(f);
	args[1] = w.root;
	o = run(&w, MIGRATE, NULL, NULL, 75, args);
	assert_true(says(&w, o, "git operation in progress"));
	json_decref(o);
	o = run(&w, ONCE, NULL, NULL, 75, args);
	assert_true(says(&w, o, "git operation in progress"));
	json_decref(o);
	free(git);
	es_itest_drop_db(uri, db);
	free(db);
	free(uri);
	world_end(&w);
}

/* Writes root/rel holding len bytes of data (folders made as needed). */
static void
put_file(const struct world *w, const char *rel, const char *data,
    size_t len)
{
	char *path = es_xasprintf("%s/%s", w->root, rel), *slash;
	FILE *f;

	for (slash = strchr(path + strlen(w->root) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	if ((f = fopen(path, "w")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fwrite(data, 1, len, f);
	fclose(f);
	free(path);
}

/* The code of the problem whose path ends in rel; fails when none. */
static const char *
problem_code(const json_t *arr, const char *rel, json_int_t line)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));

		if (p == NULL || strlen(p) < strlen(rel) ||
		    strcmp(p + strlen(p) - strlen(rel), rel) != 0)
			continue;
		assert_true(json_is_string(json_object_get(e, "reason")));
		if (json_integer_value(json_object_get(e, "line")) != line)
			fail_msg("%s: line %lld, want %lld (%s)", rel,
			    (long long)json_integer_value(json_object_get(e,
			    "line")), (long long)line, json_string_value(
			    json_object_get(e, "message")));
		return json_string_value(json_object_get(e, "code"));
	}
	fail_msg("no problem for %s", rel);
	return NULL;
}

/*
 * One problem shape in every program: path, line, code, reason; code a
 * word of the one list (error.c). execsync-scan and execsync-migrate
 * --dry-run (which connects: the fixture's server) on the same files.
 */
static void
test_exit_problem_codes(void **state)
{
	static const char nul[] = "---\ntitle: N\n---\nbody\0x\n";
	static const char date[] = "---\ntitle: D\ndue: 2025-13-01\n---\n";
	static const char yaml[] = "---\ntitle: [x\n---\n";
	static const char type[] = "---\ntitle: T\ntype: odd\n---\n";
	struct world w;
	char *uri = es_itest_uri(), *db = es_itest_dbname("xprob");
	const char *args[] = { "--dry-run", "--source", NULL, "--mongodb-uri",
	    uri, "--user-id", "u", "--database", db, NULL };
	json_t *o;

	(void)state;
	world_begin(&w, "xprob");
	put_file(&w, "10k-projects/active/a/date.md", date, strlen(date));
	put_file(&w, "10k-projects/active/a/nul.md", nul, sizeof(nul) - 1);
	put_file(&w, "10k-projects/active/a/yaml.md", yaml, strlen(yaml));
	put_file(&w, "10k-projects/active/a/type.md", type, strlen(type));
	o = run(&w, SCAN, NULL, w.root, 1, NULL);
	assert_string_equal(problem_code(json_object_get(o, "errors"),
	    "date.md", 3), "bad-date");
	assert_string_equal(problem_code(json_object_get(o, "errors"),
	    "nul.md", 4), "nul-byte");
	assert_string_equal(problem_code(json_object_get(o, "errors"),
	    "type.md", 3), "unknown-value");
	assert_string_equal(problem_code(json_object_get(o, "errors"),
	    "yaml.md", 2), "bad-yaml");
	json_decref(o);
	args[2] = w.root;
	o = run(&w, MIGRATE, NULL, NULL, 1, args);
	assert_string_equal(problem_code(json_object_get(o, "problems"),
	    "date.md", 3), "bad-date");
	assert_string_equal(problem_code(json_object_get(o, "problems"),
	    "nul.md", 4), "nul-byte");
	json_decref(o);
	es_itest_drop_db(uri, db);
	free(db);
	free(uri);
	world_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_exit_bad_flag),
	cmocka_unit_test(test_exit_bad_config),
	cmocka_unit_test(test_exit_missing_source),
	cmocka_unit_test(test_exit_empty_source),
	cmocka_unit_test(test_exit_unreachable_server),
	cmocka_unit_test(test_exit_refused_password),
	cmocka_unit_test(test_exit_uri_wording),
	cmocka_unit_test(test_exit_config_file_source_and_mode),
	cmocka_unit_test(test_exit_problem_codes),
	cmocka_unit_test(test_exit_git_hold),
};

ES_ITEST_MAIN(tests)
