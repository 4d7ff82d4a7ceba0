/*
 * execsyncd: for now one reconciliation pass of projects, goals and actions
 * (`--once`, issue 5); the work is es_engine_once() (lib/sync/pass.c), this
 * file is the command line, the configuration and the output. The
 * background daemon is not built yet.
 *
 * Exit status: 0 clean; 1 some items failed, conflicts happened, the
 * deletion guard stopped the pass or a git operation held it; 2 usage,
 * configuration or connection error, a wrong folder or identity; 75
 * another process holds the root's lock (lock.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/cli.h"
#include "execsync/config.h"
#include "execsync/engine.h"
#include "execsync/error.h"
#include "execsync/lock.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/plan.h"
#include "execsync/store.h"
#include "execsync/xmalloc.h"

#define PROG	"execsyncd"

static const struct es_cli_opt opts[] = {
	{ "--once", NULL, "run one pass and exit (the background daemon is "
	    "not built yet)" },
	{ "--dry-run", NULL, "print the plan, one line per operation, and "
	    "change nothing" },
	{ "--force", NULL, "the file side wins every conflict" },
	{ "--resync", NULL, "forget the baseline, match by identity "
	    "(SPEC 4.17)" },
	{ "--init", NULL, "fill a folder with none of the three folders from "
	    "the database" },
	{ "--full", NULL, "read every document, not only recent ones" },
	{ "--json", NULL, "print the plan or the result as one JSON object" },
	{ "--log-level", "L", "error, warn, info (default) or debug" },
};

static const struct es_cli_spec spec = {
	.prog = PROG,
	.usage = "--once [--dry-run] [--force] [--resync] [--init]\n"
	    "           [--full] [--json] [--log-level L] [--config FILE]\n"
	    "           [options]",
	.about =
	    "Brings the folder and the database into agreement once (SPEC\n"
	    "§4): projects, goals and the actions of the action lists.\n"
	    "\n"
	    "--resync forgets this machine's baseline and matches the\n"
	    "folder and the database by identity; it creates no duplicates,\n"
	    "deletes nothing (SPEC 4.17) and also adopts a new database or\n"
	    "user for a folder synced with another one. --init fills a\n"
	    "folder that has none of 00k-next-actions, 10k-projects,\n"
	    "30k-goals and no baseline from the database (without it such a\n"
	    "folder is refused: a wrong --source or an unmounted disk).\n"
	    "--max-delete 100 lets a mass deletion through the deletion\n"
	    "guard.\n",
	.epilog =
	    "Exit status: 0 clean, 1 items failed, conflicts, the deletion\n"
	    "guard or a git operation held the pass, 2 usage, configuration\n"
	    "or connection error, a wrong folder or identity, 75 another\n"
	    "execsync process holds the folder (try again later).\n",
	.opts = opts,
	.nopts = sizeof(opts) / sizeof(opts[0]),
};

struct cli {
	struct es_cli	 args;
	const char	*log_level;
	bool		 once, dry_run, force, resync, init, full, json;
};

static void
parse_args(int argc, char **argv, struct cli *c)
{
	memset(c, 0, sizeof(*c));
	es_cli_main(&spec, argc, argv, &c->args);
	c->once = es_cli_flag(&spec, &c->args, "--once");
	c->dry_run = es_cli_flag(&spec, &c->args, "--dry-run");
	c->force = es_cli_flag(&spec, &c->args, "--force");
	c->resync = es_cli_flag(&spec, &c->args, "--resync");
	c->init = es_cli_flag(&spec, &c->args, "--init");
	c->full = es_cli_flag(&spec, &c->args, "--full");
	c->json = es_cli_flag(&spec, &c->args, "--json");
	c->log_level = es_cli_opt(&spec, &c->args, "--log-level");
}

static void __attribute__((noreturn))
fatal(const struct es_error *err)
{
	char msg[PATH_MAX + 600];
	struct es_buf line = ES_BUF_INIT;

	es_error_format(err, msg, sizeof(msg));
	es_log_escape(&line, msg, strlen(msg));
	fprintf(stderr, PROG ": %s\n", line.buf);
	es_buf_release(&line);
	exit(2);
}

static void
configure(const struct cli *c, struct es_config *cfg)
{
	struct es_error err;
	struct es_buf path = ES_BUF_INIT;

	es_config_init(cfg);
	if (c->args.config != NULL) {
		if (es_config_load_file(cfg, c->args.config, true, &err) < 0)
			fatal(&err);
	} else if (es_config_default_path(&path) != NULL &&
	    es_config_load_file(cfg, path.buf, false, &err) < 0)
		fatal(&err);
	es_buf_release(&path);
	if (es_config_apply_env(cfg, &err) < 0)
		fatal(&err);
	if (es_cli_apply(&c->args, cfg, &err) < 0)
		fatal(&err);
	if (es_config_finish(cfg, ES_CONFIG_NEED_SOURCE | ES_CONFIG_NEED_URI |
	    ES_CONFIG_NEED_USER, &err) < 0)
		fatal(&err);
}

static json_t *
errors_json(const struct es_engine_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->nerrors; i++) {
		char msg[PATH_MAX + 600];
		const struct es_error *e = &r->errors[i];

		json_array_append_new(a, json_pack("{s:s, s:I, s:s, s:s}",
		    "path", e->path, "line", (json_int_t)e->line,
		    "reason", e->msg,
		    "message", es_error_format(e, msg, sizeof(msg))));
	}
	return a;
}

static void
print_json(const struct cli *c, const struct es_engine_result *r,
    int status, const char *error)
{
	json_t *o = json_object(), *applied = json_object();
	char *s;

	json_object_set_new(o, "version", json_string(es_cli_version()));
	json_object_set_new(o, "dry_run", json_boolean(c->dry_run));
	/* The dry run's plan is the real run's, op for op (SPEC 4.9). */
	json_object_set_new(o, "plan", es_plan_json(&r->plan));
	for (int k = 0; k <= ES_OP_REPORT; k++)
		if (r->applied[k] > 0)
			json_object_set_new(applied,
			    es_op_kind_name((enum es_op_kind)k),
			    json_integer((json_int_t)r->applied[k]));
	json_object_set_new(o, "applied", applied);
	json_object_set_new(o, "to_db", json_integer((json_int_t)r->to_db));
	json_object_set_new(o, "to_file",
	    json_integer((json_int_t)r->to_file));
	json_object_set_new(o, "conflicts",
	    json_integer((json_int_t)r->conflicts));
	json_object_set_new(o, "failed", json_integer((json_int_t)r->failed));
	json_object_set_new(o, "lost_races",
	    json_integer((json_int_t)r->lost_races));
	json_object_set_new(o, "entities",
	    json_integer((json_int_t)r->entities));
	json_object_set_new(o, "files_read",
	    json_integer((json_int_t)r->files_read));
	json_object_set_new(o, "docs_read",
	    json_integer((json_int_t)r->docs_read));
	json_object_set_new(o, "full_read", json_boolean(r->full_read));
	json_object_set_new(o, "held", json_boolean(r->held));
	json_object_set_new(o, "held_by", r->held_by ?
	    json_string(r->held_by) : json_null());
	json_object_set_new(o, "guard_stopped",
	    json_boolean(r->guard_stopped));
	json_object_set_new(o, "errors", errors_json(r));
	json_object_set_new(o, "round_trips",
	    json_integer((json_int_t)r->round_trips));
	json_object_set_new(o, "exit_status", json_integer(status));
	json_object_set_new(o, "error", error ? json_string(error) :
	    json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s != NULL)
		puts(s);
	free(s);
	json_decref(o);
}

/* Whether <root>/.execsync/baseline.sqlite exists (never followed). */
static bool
have_baseline(const char *root)
{
	char *path = es_xasprintf("%s/" ES_BASELINE_FILE, root);
	struct stat st;
	bool yes = lstat(path, &st) == 0;

	free(path);
	return yes;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct es_config cfg;
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_store *store = NULL;
	struct es_baseline *b = NULL;
	struct es_error err;
	struct es_buf line = ES_BUF_INIT;
	enum es_log_level lvl = ES_LOG_INFO;
	char msg[PATH_MAX + 600], *ident = NULL;
	const char *error = NULL;
	struct es_lock *lock = NULL;
	enum es_lock_status ls;
	pid_t holder = 0;
	int root = -1, status = 2;

	parse_args(argc, argv, &c);
	if (!c.once) {
		fprintf(stderr, PROG ": the background daemon is not built "
		    "yet; run with --once\n");
		es_cli_release(&c.args);
		return 2;
	}
	if (c.log_level != NULL && !es_log_level_parse(c.log_level, &lvl))
		es_cli_usage_error(&spec, "--log-level: bad value '%s' (want "
		    "error, warn, info or debug)", c.log_level);
	configure(&c, &cfg);
	es_cli_release(&c.args);
	es_log_set_level(lvl);
	es_log_set_secret_uri(cfg.mongodb_uri);
	es_store_global_init();
	es_log_mongoc_handler_install();
	es_engine_result_init(&r);
	es_error_clear(&err);

	root = open(cfg.source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		es_error_set_sys(&err, errno, cfg.source, "cannot open the "
		    "folder");
		goto fail;
	}
	/*
	 * SPEC 4.9: a dry run changes nothing, not even by creating
	 * .execsync/ or adding it to .git/info/exclude: with no baseline yet
	 * it plans against an empty one in memory. So does a pass the engine
	 * will refuse for a folder that is not one (SPEC 4.18).
	 */
	if (!have_baseline(cfg.source) && (c.dry_run ||
	    (!c.init && !es_engine_root_has_folders(root))))
		b = es_baseline_open(":memory:", &err);
	else if ((ls = es_lock_take(root, &lock, &holder, &err)) ==
	    ES_LOCK_HELD) {
		/* One process per root: try again when it is done (75). */
		if (holder > 0)
			es_error_set(&err, ES_EBUSY, cfg.source, 0, "held by "
			    "another execsync process (pid %ld): nothing "
			    "synced, try again when it is done", (long)holder);
		else
			es_error_set(&err, ES_EBUSY, cfg.source, 0, "held by "
			    "another execsync process: nothing synced, try "
			    "again when it is done");
		goto fail;
	} else if (ls == ES_LOCK_TAKEN)
		b = es_baseline_open_root(cfg.source, &err);
	if (b == NULL)
		goto fail;
	/*
	 * The database only once the root is ours: a second process must
	 * not even create indexes beside a pass whose writes FerretDB is
	 * still working through.
	 */
	if ((store = es_store_open(cfg.mongodb_uri, cfg.database, 10000,
	    &err)) == NULL)
		goto fail;
	if (es_store_ping(store, &err) < 0)
		goto fail;
	if (!c.dry_run && es_store_ensure_indexes(store, &err) < 0)
		goto fail;
	ident = es_migrate_identity(cfg.mongodb_uri, cfg.database,
	    cfg.user_id);
	memset(&o, 0, sizeof(o));
	o.root = cfg.source;
	o.root_fd = root;
	o.user_id = cfg.user_id;
	o.identity = ident;
	o.policy = c.force ? ES_POLICY_FILE : cfg.conflict;
	o.force = c.force;
	o.dry_run = c.dry_run;
	o.resync = c.resync;
	o.init = c.init;
	o.full = c.full;
	o.max_delete = cfg.max_delete;
	o.max_file_size = (size_t)cfg.max_file_size;
	o.full_pass_s = cfg.full_pass_s;
	o.ignore = (const char *const *)cfg.ignore;
	if (es_engine_once(&o, store, b, &r, &err) < 0)
		goto fail;
	status = es_engine_status(&r);
	if (c.dry_run && !c.json)
		for (size_t i = 0; i < r.plan.n; i++) {
			es_buf_reset(&line);
			es_op_describe(&r.plan.ops[i], &line);
			printf("%s\n", line.buf);
		}
	if (!r.held && !r.guard_stopped)
		es_log(ES_LOG_INFO, "sync", "%s: %zu entities, %zu files read, "
		    "%zu documents read (%s), %zu to the database, %zu to "
		    "files, %zu inserted, %zu updated, %zu deleted, %zu "
		    "written, %zu moved, %zu trashed, %zu conflicts, %zu "
		    "failed, %llu round trips", c.dry_run ? "dry run" :
		    "pass done", r.entities, r.files_read, r.docs_read,
		    r.full_read ? "full" : "recent", r.to_db, r.to_file,
		    r.applied[ES_OP_DOC_INSERT], r.applied[ES_OP_DOC_UPDATE] +
		    r.applied[ES_OP_DOC_UNDELETE], r.applied[ES_OP_DOC_DELETE],
		    r.applied[ES_OP_FILE_WRITE], r.applied[ES_OP_FILE_MOVE],
		    r.applied[ES_OP_FILE_TRASH], r.conflicts, r.failed,
		    (unsigned long long)r.round_trips);
	goto out;
fail:
	status = err.code == ES_EBUSY ? 75 : 2;
	es_error_format(&err, msg, sizeof(msg));
	error = msg;
	es_buf_reset(&line);
	es_log_escape(&line, msg, strlen(msg));
	fprintf(stderr, PROG ": %s\n", line.buf);
out:
	if (c.json)
		print_json(&c, &r, status, error);
	es_engine_result_release(&r);
	es_buf_release(&line);
	es_baseline_free(b);
	es_lock_release(lock);
	es_store_free(store);
	free(ident);
	if (root >= 0)
		close(root);
	es_store_global_cleanup();
	es_config_release(&cfg);
	return status;
}
