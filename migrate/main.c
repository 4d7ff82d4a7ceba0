/*
 * execsync-migrate: the one-time import of a folder into MongoDB (SPEC §1,
 * issue 4). The work is es_migrate_run() (lib/sync/migrate.c); this file is the
 * command line, the progress bar and the summary.
 *
 *   execsync-migrate --source DIR --mongodb-uri URI --user-id ID
 *       [--database NAME] [--config FILE] [--dry-run] [--json]
 *       [--batch-size N] [--ignore GLOB]... [--max-file-size SIZE]
 *
 * Exit status (SPEC §1, enum es_exit): 0 everything imported or already
 * present; 1 some items failed (bad files or lines, refused documents); 2
 * usage or configuration error (a missing folder, a refused password), or
 * a folder synced already (one line on stderr, credentials redacted); 75
 * the database unreachable or the folder held by another process.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/buf.h"
#include "execsync/cli.h"
#include "execsync/config.h"
#include "execsync/error.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/progress.h"
#include "execsync/store.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#define PROG	"execsync-migrate"

static const struct es_cli_opt opts[] = {
	{ "--dry-run", NULL, "read everything, say what would be inserted, "
	    "write nothing" },
	{ "--json", NULL, "print the summary as one JSON object" },
	{ "--batch-size", "N", "documents per insert command, 1..100000 "
	    "(default 1000)" },
};

static const struct es_cli_spec spec = {
	.prog = PROG,
	.usage = "--source DIR --mongodb-uri URI --user-id ID\n"
	    "           [--database NAME] [--config FILE] [--dry-run]\n"
	    "           [--json] [--batch-size N] [options]",
	.about =
	    "Imports every project, goal and action of an execution-system\n"
	    "folder into MongoDB once, creates the indexes the sync needs\n"
	    "and records the baseline in DIR/.execsync/, so that the first\n"
	    "execsyncd pass has nothing to do.\n"
	    "\n"
	    "It never stores anything twice. A folder synced already (its\n"
	    "baseline holds entities) is refused with nothing done: run\n"
	    "execsyncd --once to sync its changes; to move it on purpose to\n"
	    "another database or user than its baseline names, run\n"
	    "execsyncd --once --resync. Without a baseline (a fresh clone,\n"
	    "an import that died half-way) it first reads what the database\n"
	    "holds and counts \"already present\" every entity found there:\n"
	    "projects and goals by slug, actions by list and text.\n",
	.epilog =
	    "Exit status: 0 all imported or already present, 1 some items\n"
	    "failed, 2 usage or configuration error (a refused password\n"
	    "included) or a folder synced already (nothing done), 75 the\n"
	    "database unreachable or the folder held by another execsync\n"
	    "process (try again later).\n",
	.opts = opts,
	.nopts = sizeof(opts) / sizeof(opts[0]),
};

static const char *const kind_names[3] = { "projects", "goals", "actions" };

/* Strictly decimal digits, 1 .. ES_MIGRATE_BATCH_MAX. */
static bool
parse_batch(const char *s, size_t *out)
{
	unsigned long v = 0;

	if (s[0] == '\0' || s[0] == '0')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > ES_MIGRATE_BATCH_MAX)
			return false;
	}
	*out = v;
	return true;
}

struct cli {
	struct es_cli	 args;
	bool		 dry_run, json;
	size_t		 batch;
};

static void
parse_args(int argc, char **argv, struct cli *c)
{
	const char *batch;

	memset(c, 0, sizeof(*c));
	es_cli_main(&spec, argc, argv, &c->args);
	c->dry_run = es_cli_flag(&spec, &c->args, "--dry-run");
	c->json = es_cli_flag(&spec, &c->args, "--json");
	batch = es_cli_opt(&spec, &c->args, "--batch-size");
	if (batch != NULL && !parse_batch(batch, &c->batch))
		es_cli_usage_error(&spec, "--batch-size: bad value '%s' (want "
		    "a whole number from 1 to %d)", batch,
		    ES_MIGRATE_BATCH_MAX);
}

static void
fatal_config(const struct cli *c, const struct es_error *err)
{
	char msg[PATH_MAX + 600];

	fprintf(stderr, PROG ": %s\n", es_error_format(err, msg, sizeof(msg)));
	if (c->json)
		es_cli_json_error(es_exit_status(err->code), msg);
	exit(es_exit_status(err->code));
}

/* The configuration: file, environment, flags (SPEC §1). */
static void
configure(const struct cli *c, struct es_config *cfg)
{
	struct es_error err;
	struct es_buf path = ES_BUF_INIT;

	es_config_init(cfg);
	if (c->args.config != NULL) {
		if (es_config_load_file(cfg, c->args.config, true, &err) < 0)
			fatal_config(c, &err);
	} else if (es_config_default_path(&path) != NULL &&
	    es_config_load_file(cfg, path.buf, false, &err) < 0)
		fatal_config(c, &err);
	es_buf_release(&path);
	if (es_config_apply_env(cfg, &err) < 0)
		fatal_config(c, &err);
	if (es_cli_apply(&c->args, cfg, &err) < 0)
		fatal_config(c, &err);
	if (es_config_finish(cfg, ES_CONFIG_NEED_SOURCE | ES_CONFIG_NEED_URI |
	    ES_CONFIG_NEED_USER, &err) < 0)
		fatal_config(c, &err);
}

static void
on_progress(const struct es_migrate_progress *p, void *ud)
{
	static const char *const names[] = { "scanning", "writing",
	    "reading", "baseline" };
	struct es_progress *bar = ud;

	/* At most 10 draws a second; a new phase is drawn at once. */
	es_progress_update(bar, names[p->phase], p->files_done, p->files_total,
	    p->docs_done, p->docs_total, false);
}

static size_t
rt_limit(const struct es_migrate_result *r)
{
	size_t b = r->batch_size ? r->batch_size : 1;

	return (r->docs + b - 1) / b + 20;
}

/* A problem line, escaped: file names and action text are user data. */
static void
format_problem(const struct es_error *e, struct es_buf *out)
{
	char msg[PATH_MAX + 600];

	es_buf_reset(out);
	es_error_format(e, msg, sizeof(msg));
	es_log_escape(out, msg, strlen(msg));
}

static void
print_text(const struct es_config *cfg, const struct es_migrate_result *r,
    double secs)
{
	struct es_migrate_count tot = es_migrate_total(r);
	char *uri = es_uri_redact(cfg->mongodb_uri);
	struct es_buf line = ES_BUF_INIT;

	printf("source:      %s\n", cfg->source);
	printf("database:    %s (database %s, user %s)\n", uri, cfg->database,
	    cfg->user_id);
	printf("\n%-10s %8s %12s %16s %8s\n", "", "found",
	    r->dry_run ? "would insert" : "inserted", "already present",
	    "failed");
	for (int k = 0; k < 3; k++)
		printf("%-10s %8zu %12zu %16zu %8zu\n", kind_names[k],
		    r->count[k].found, r->count[k].inserted,
		    r->count[k].present, r->count[k].failed);
	printf("%-10s %8zu %12zu %16zu %8zu\n\n", "total", tot.found,
	    tot.inserted, tot.present, tot.failed);
	if (tot.differs > 0)
		printf("differs:     %zu already in the database with other "
		    "content: no baseline\n             for them, the first "
		    "execsyncd pass resolves them (SPEC 4.17)\n", tot.differs);
	if (r->renamed > 0) {
		printf("slugs:       %zu taken by an earlier file in the same "
		    "collection (SPEC §2):\n", r->renamed);
		for (size_t i = 0; i < r->nnotes; i++) {
			format_problem(&r->notes[i], &line);
			printf("             %s\n", line.buf);
		}
	}
	if (r->nproblems > 0)
		printf("problems:    %zu (listed on stderr as path:line: "
		    "reason)\n", r->nproblems);
	printf("round trips: %llu (limit for %zu documents in batches of %zu: "
	    "%zu)\n", (unsigned long long)r->round_trips, r->docs,
	    r->batch_size, rt_limit(r));
	if (r->dry_run)
		printf("dry run:     nothing was written\n");
	else if (r->baseline_written)
		printf("baseline:    %zu entities, %zu files in %s\n",
		    r->baseline_entities, r->baseline_files,
		    r->baseline_path);
	printf("time:        %.2f s", secs);
	if (!r->dry_run && secs > 0 && tot.inserted > 0)
		printf(" (%.0f documents inserted per second)",
		    (double)tot.inserted / secs);
	printf("\n");
	es_buf_release(&line);
	free(uri);
}

static json_t *
count_json(const struct es_migrate_count *c, bool dry)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "found", (json_int_t)c->found,
	    dry ? "would_insert" : "inserted", (json_int_t)c->inserted,
	    "already_present", (json_int_t)c->present,
	    "differs", (json_int_t)c->differs,
	    "failed", (json_int_t)c->failed);
}

static void
print_json(const struct es_config *cfg, const struct es_migrate_result *r,
    double secs, int status, const char *error)
{
	struct es_migrate_count tot = es_migrate_total(r);
	json_t *o = json_object(), *probs = json_array(), *notes = json_array();
	char *uri = es_uri_redact(cfg->mongodb_uri), *s;

	for (size_t i = 0; i < r->nproblems; i++) {
		json_array_append_new(probs,
		    es_cli_problem_json(&r->problems[i]));
	}
	json_object_set_new(o, "version", json_string(es_cli_version()));
	json_object_set_new(o, "source", json_string(cfg->source));
	json_object_set_new(o, "uri", json_string(uri));
	json_object_set_new(o, "database", json_string(cfg->database));
	json_object_set_new(o, "user_id", json_string(cfg->user_id));
	json_object_set_new(o, "dry_run", json_boolean(r->dry_run));
	for (int k = 0; k < 3; k++)
		json_object_set_new(o, kind_names[k],
		    count_json(&r->count[k], r->dry_run));
	json_object_set_new(o, "total", count_json(&tot, r->dry_run));
	json_object_set_new(o, "renamed_slugs",
	    json_integer((json_int_t)r->renamed));
	for (size_t i = 0; i < r->nnotes; i++) {
		const struct es_error *e = &r->notes[i];
		char msg[PATH_MAX + 600];

		json_array_append_new(notes, json_pack("{s:s, s:s}", "path",
		    e->path, "message", es_error_format(e, msg, sizeof(msg))));
	}
	json_object_set_new(o, "notes", notes);
	json_object_set_new(o, "problems", probs);
	json_object_set_new(o, "documents", json_integer((json_int_t)r->docs));
	json_object_set_new(o, "batch_size",
	    json_integer((json_int_t)r->batch_size));
	json_object_set_new(o, "round_trips",
	    json_integer((json_int_t)r->round_trips));
	json_object_set_new(o, "round_trips_limit",
	    json_integer((json_int_t)rt_limit(r)));
	if (r->dry_run || !r->baseline_written)
		json_object_set_new(o, "baseline", json_null());
	else
		json_object_set_new(o, "baseline", json_pack("{s:s, s:I, s:I}",
		    "path", r->baseline_path,
		    "entities", (json_int_t)r->baseline_entities,
		    "files", (json_int_t)r->baseline_files));
	json_object_set_new(o, "seconds", json_real(secs));
	json_object_set_new(o, "ms", json_pack("{s:f, s:f, s:f, s:f}",
	    "load", r->load_ms, "insert", r->insert_ms, "read", r->read_ms,
	    "baseline", r->baseline_ms));
	json_object_set_new(o, "exit_status", json_integer(status));
	json_object_set_new(o, "error", error ? json_string(error) :
	    json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s != NULL)
		puts(s);
	free(s);
	free(uri);
	json_decref(o);
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct es_config cfg;
	struct es_migrate_opts o;
	struct es_migrate_result r;
	struct es_migrate_count tot;
	struct es_progress *bar;
	struct es_error err;
	struct es_buf line = ES_BUF_INIT;
	char msg[PATH_MAX + 600];
	const char *error = NULL;
	int rc, status;

	parse_args(argc, argv, &c);
	configure(&c, &cfg);
	es_cli_release(&c.args);
	es_log_set_level(ES_LOG_INFO);
	es_log_set_json(c.json || cfg.log_json);
	es_log_set_secret_uri(cfg.mongodb_uri);
	es_store_global_init();
	es_log_mongoc_handler_install();

	memset(&o, 0, sizeof(o));
	o.source = cfg.source;
	o.uri = cfg.mongodb_uri;
	o.database = cfg.database;
	o.user_id = cfg.user_id;
	o.batch_size = c.batch;
	o.dry_run = c.dry_run;
	o.ignore = (const char *const *)cfg.ignore;
	o.max_file_size = (size_t)cfg.max_file_size;
	bar = es_progress_new(STDERR_FILENO, !c.json);
	o.progress = on_progress;
	o.progress_ud = bar;

	es_error_clear(&err);
	rc = es_migrate_run(&o, &r, &err);
	es_progress_free(bar);
	tot = es_migrate_total(&r);
	if (rc < 0) {
		es_error_format(&err, msg, sizeof(msg));
		error = msg;
		status = es_exit_status(err.code);
	} else
		status = tot.failed > 0 || r.nproblems > 0 ? 1 : 0;

	if (c.json)
		print_json(&cfg, &r, r.total_ms / 1000.0, status, error);
	else if (rc == 0 || r.connected) {
		/* (Before the server answered, only the error line below.) */
		for (size_t i = 0; i < r.nproblems; i++) {
			format_problem(&r.problems[i], &line);
			fprintf(stderr, "%s\n", line.buf);
		}
		print_text(&cfg, &r, r.total_ms / 1000.0);
	}
	if (error != NULL) {
		es_buf_reset(&line);
		es_log_escape(&line, error, strlen(error));
		fflush(stdout);
		fprintf(stderr, PROG ": %s\n", line.buf);
	}
	es_buf_release(&line);
	es_migrate_result_release(&r);
	es_store_global_cleanup();
	es_config_release(&cfg);
	return status;
}
