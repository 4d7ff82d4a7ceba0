/*
 * execsyncd (SPEC §1, issue 16): the command line. Without --once or
 * --status it is the daemon (es_daemon_run(), daemon.c); --once runs one
 * reconciliation pass (es_engine_once(), lib/sync/pass.c), or, when a
 * daemon holds the root, hands the pass to that daemon over its socket and
 * prints its answer as its own; --status asks the root's daemon how it is.
 *
 * Exit status (SPEC §1, enum es_exit in error.h): 0 clean; 1 some items
 * failed or conflicted; 2 usage or configuration error (a missing folder,
 * a refused password), a wrong folder or identity; 3 the deletion guard
 * stopped the pass; 75 temporary: the database unreachable, a git
 * operation held the pass, another process holds the root's lock
 * (lock.h), or (--status) no daemon answers.
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

#include "daemon.h"
#include "http.h"

#define PROG	"execsyncd"

static const struct es_cli_opt opts[] = {
	{ "--once", NULL, "run one pass and exit (handed to the root's "
	    "daemon when one runs)" },
	{ "--status", NULL, "ask the root's daemon how it is and print it" },
	{ "--dry-run", NULL, "print the plan, one line per operation, and "
	    "change nothing" },
	{ "--force", NULL, "the file side wins every conflict" },
	{ "--resync", NULL, "forget the baseline, match by identity "
	    "(SPEC 4.17)" },
	{ "--init", NULL, "fill a folder with none of the three folders from "
	    "the database" },
	{ "--full", NULL, "read every document, not only recent ones" },
	{ "--json", NULL, "print the plan, the result or the status as one "
	    "JSON object" },
	{ "--verbose", NULL, "a dry run also lists the baseline's "
	    "bookkeeping (baseline, forget)" },
	{ "--log-level", "L", "error, warn, info (default) or debug" },
};

static const struct es_cli_spec spec = {
	.prog = PROG,
	.usage = "[--once [--dry-run [--verbose]] [--force] [--resync] [--init]\n"
	    "           [--full]]\n"
	    "           [--status] [--json] [--log-level L] [--config FILE]\n"
	    "           [options]",
	.about =
	    "Keeps the folder and the database in agreement (SPEC §4):\n"
	    "projects, goals and the actions of the action lists. Without\n"
	    "--once or --status it runs until stopped (SIGTERM), syncing\n"
	    "each saved file and each database change as it happens, with a\n"
	    "full pass every full_pass_s; SIGHUP reloads the configuration,\n"
	    "SIGUSR1 asks for a full pass. Its status endpoint answers on\n"
	    "status_listen and on a socket only its user can reach\n"
	    "(execsyncd --status asks it).\n"
	    "\n"
	    "--once brings both sides into agreement once; when a daemon\n"
	    "holds the folder the pass is handed to it. --resync forgets\n"
	    "this machine's baseline and matches the folder and the\n"
	    "database by identity; it creates no duplicates, deletes nothing\n"
	    "(SPEC 4.17) and also adopts a new database or user for a folder\n"
	    "synced with another one. --init fills a folder that has none of\n"
	    "00k-next-actions, 10k-projects, 30k-goals and no baseline from\n"
	    "the database (without it such a folder is refused: a wrong\n"
	    "--source or an unmounted disk). --max-delete 100 lets a mass\n"
	    "deletion through the deletion guard.\n",
	.epilog =
	    "Exit status: 0 clean, 1 items failed or conflicted, 2 usage or\n"
	    "configuration error (a refused password included), a wrong\n"
	    "folder or identity, 3 the deletion guard stopped the pass\n"
	    "(see --max-delete), 75 try again later: the database is\n"
	    "unreachable, a git operation runs in the folder, another\n"
	    "execsync process holds it, or, for --status, no daemon\n"
	    "answers.\n",
	.opts = opts,
	.nopts = sizeof(opts) / sizeof(opts[0]),
};

struct cli {
	struct es_cli	 args;
	const char	*log_level;
	bool		 once, status, json;
	struct es_once_flags f;
};

static void
parse_args(int argc, char **argv, struct cli *c)
{
	memset(c, 0, sizeof(*c));
	es_cli_main(&spec, argc, argv, &c->args);
	c->once = es_cli_flag(&spec, &c->args, "--once");
	c->status = es_cli_flag(&spec, &c->args, "--status");
	c->f.dry_run = es_cli_flag(&spec, &c->args, "--dry-run");
	c->f.force = es_cli_flag(&spec, &c->args, "--force");
	c->f.resync = es_cli_flag(&spec, &c->args, "--resync");
	c->f.init = es_cli_flag(&spec, &c->args, "--init");
	c->f.full = es_cli_flag(&spec, &c->args, "--full");
	c->f.verbose = es_cli_flag(&spec, &c->args, "--verbose");
	c->json = c->f.json = es_cli_flag(&spec, &c->args, "--json");
	c->log_level = es_cli_opt(&spec, &c->args, "--log-level");
	if (c->once && c->status)
		es_cli_usage_error(&spec, "--once and --status do not go "
		    "together");
	if (!c->once && (c->f.dry_run || c->f.force || c->f.resync ||
	    c->f.full))
		es_cli_usage_error(&spec, "--dry-run, --force, --resync and "
		    "--full go with --once");
}

static void
print_error(const struct es_error *err)
{
	char msg[PATH_MAX + 600];
	struct es_buf line = ES_BUF_INIT;

	es_error_format(err, msg, sizeof(msg));
	es_log_escape(&line, msg, strlen(msg));
	/* Under journald, an error's priority (sd-daemon(3)), as es_log(). */
	fprintf(stderr, "%s" PROG ": %s\n", es_log_to_journal() ? "<3>" : "",
	    line.buf);
	es_buf_release(&line);
}

/* The configuration: file, environment, flags (also for SIGHUP). */
static int
configure(const struct cli *c, struct es_config *cfg, struct es_error *err)
{
	struct es_buf path = ES_BUF_INIT;
	int rc = -1;

	es_config_init(cfg);
	if (c->args.config != NULL) {
		if (es_config_load_file(cfg, c->args.config, true, err) < 0)
			goto out;
	} else if (es_config_default_path(&path) != NULL &&
	    es_config_load_file(cfg, path.buf, false, err) < 0)
		goto out;
	if (es_config_apply_env(cfg, err) < 0 ||
	    es_cli_apply(&c->args, cfg, err) < 0 ||
	    es_config_finish(cfg, ES_CONFIG_NEED_SOURCE | ES_CONFIG_NEED_URI |
	    ES_CONFIG_NEED_USER, err) < 0)
		goto out;
	rc = 0;
out:
	es_buf_release(&path);
	if (rc < 0)
		es_config_release(cfg);
	return rc;
}

static int
reload_config(struct es_config *out, struct es_error *err, void *ud)
{
	return configure(ud, out, err);
}

/*
 * --once on a root a daemon holds: the daemon runs the pass with our
 * flags and sends back what we would have printed and our exit status.
 * Returns that status, or -1 when no daemon answers on the root's socket
 * (the holder is another one-shot process).
 */
static int
hand_over(const struct cli *c, const struct es_config *cfg)
{
	struct es_buf answer = ES_BUF_INIT;
	struct es_error err;
	json_t *req, *ans = NULL;
	json_error_t je;
	char *path, *body;
	int http = 0, status = -1;

	if ((path = es_http_socket_path(cfg->source, false, &err)) == NULL)
		return -1;
	req = json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "dry_run",
	    c->f.dry_run, "force", c->f.force, "resync", c->f.resync, "init",
	    c->f.init, "full", c->f.full, "json", c->f.json, "verbose",
	    c->f.verbose);
	if (es_config_origin(cfg, "max_delete") != NULL)
		json_object_set_new(req, "max_delete",
		    json_integer(cfg->max_delete));
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (es_http_unix_request(path, "POST", "/once", body, 0, &http,
	    &answer, &err) < 0)
		goto out;
	if (http != 200 || (ans = json_loadb(answer.buf, answer.len, 0,
	    &je)) == NULL || !json_is_integer(json_object_get(ans,
	    "exit_status"))) {
		char msg[PATH_MAX + 300];

		snprintf(msg, sizeof(msg), "the daemon of %s answered HTTP "
		    "%d: %.200s", cfg->source, http, answer.buf != NULL ?
		    answer.buf : "");
		fprintf(stderr, PROG ": %s\n", msg);
		/* Its daemon is busy or restarting: try again later. */
		status = ES_EXIT_TEMP;
		if (c->json)
			es_cli_json_error(status, msg);
		goto out;
	}
	es_log(ES_LOG_INFO, "sync", "%s: a daemon holds the folder: the "
	    "pass ran there", cfg->source);
	fputs(json_string_value(json_object_get(ans, "stdout")) ?
	    json_string_value(json_object_get(ans, "stdout")) : "", stdout);
	if (json_is_string(json_object_get(ans, "error")))
		fprintf(stderr, PROG ": %s\n",
		    json_string_value(json_object_get(ans, "error")));
	status = (int)json_integer_value(json_object_get(ans,
	    "exit_status"));
out:
	json_decref(ans);
	free(body);
	free(path);
	es_buf_release(&answer);
	return status;
}

static int
run_once(const struct cli *c, struct es_config *cfg)
{
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_store *store = NULL;
	struct es_baseline *b = NULL;
	struct es_error err;
	struct es_buf out = ES_BUF_INIT;
	char msg[PATH_MAX + 600], *ident = NULL;
	const char *error = NULL;
	struct es_lock *lock = NULL;
	enum es_lock_status ls;
	pid_t holder = 0;
	int root = -1, status = 2, handed;

	es_engine_result_init(&r);
	es_error_clear(&err);
	root = open(cfg->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		es_error_set_sys(&err, errno, cfg->source, "cannot open the "
		    "folder");
		goto fail;
	}
	/*
	 * SPEC 4.9: a dry run changes nothing, not even by creating
	 * .execsync/ or adding it to .git/info/exclude: with no baseline yet
	 * it plans against an empty one in memory. So does a pass the engine
	 * will refuse for a folder that is not one (SPEC 4.18).
	 */
	if (!es_baseline_exists(cfg->source) && (c->f.dry_run ||
	    (!c->f.init && !es_engine_root_has_folders(root))))
		b = es_baseline_open(":memory:", &err);
	else if ((ls = es_lock_take(root, &lock, &holder, &err)) ==
	    ES_LOCK_HELD) {
		/* A daemon runs the pass for us; else try again later. */
		if ((handed = hand_over(c, cfg)) >= 0) {
			status = handed;
			goto done;
		}
		if (holder > 0)
			es_error_set(&err, ES_EBUSY, cfg->source, 0, "held by "
			    "another execsync process (pid %ld): nothing "
			    "synced, try again when it is done", (long)holder);
		else
			es_error_set(&err, ES_EBUSY, cfg->source, 0, "held by "
			    "another execsync process: nothing synced, try "
			    "again when it is done");
		goto fail;
	} else if (ls == ES_LOCK_TAKEN)
		b = es_baseline_open_root(cfg->source, &err);
	if (b == NULL)
		goto fail;
	/*
	 * The database only once the root is ours: a second process must
	 * not even create indexes beside a pass whose writes FerretDB is
	 * still working through.
	 */
	if ((store = es_store_open(cfg->mongodb_uri, cfg->database, 10000,
	    &err)) == NULL)
		goto fail;
	if (es_store_ping(store, &err) < 0)
		goto fail;
	if (!c->f.dry_run && es_store_ensure_indexes(store, &err) < 0)
		goto fail;
	ident = es_migrate_identity(cfg->mongodb_uri, cfg->database,
	    cfg->user_id);
	memset(&o, 0, sizeof(o));
	o.root = cfg->source;
	o.root_fd = root;
	o.user_id = cfg->user_id;
	o.identity = ident;
	o.policy = c->f.force ? ES_POLICY_FILE : cfg->conflict;
	o.force = c->f.force;
	o.dry_run = c->f.dry_run;
	o.resync = c->f.resync;
	o.init = c->f.init;
	o.full = c->f.full;
	o.max_delete = cfg->max_delete;
	o.max_file_size = (size_t)cfg->max_file_size;
	o.full_pass_s = cfg->full_pass_s;
	o.ignore = (const char *const *)cfg->ignore;
	if (es_engine_once(&o, store, b, &r, &err) < 0)
		goto fail;
	status = es_engine_status(&r);
	es_pass_log_summary(&r, c->f.dry_run ? "dry run" : "pass done",
	    ES_LOG_INFO);
	goto out;
fail:
	status = es_exit_status(err.code);
	error = es_error_format(&err, msg, sizeof(msg));
	print_error(&err);
out:
	es_once_output(&c->f, &r, status, error, &out);
	if (out.len > 0)
		fwrite(out.buf, 1, out.len, stdout);
done:
	es_buf_release(&out);
	es_engine_result_release(&r);
	es_baseline_free(b);
	es_lock_release(lock);
	es_store_free(store);
	free(ident);
	if (root >= 0)
		close(root);
	return status;
}

static void
print_status(const char *root, json_t *st)
{
	json_t *h = json_object_get(st, "health");
	json_t *src = json_object_get(st, "change_source");
	const char *s;

	/* /status carries "status" and "checks" at its top level. */
	if (!json_is_object(h))
		h = st;

	printf("execsyncd for %s\n", root);
	s = json_string_value(json_object_get(h, "status"));
	printf("  health:        %s\n", s != NULL ? s : "unknown");
	if (json_is_array(json_object_get(h, "checks")))
		for (size_t i = 0; i < json_array_size(json_object_get(h,
		    "checks")); i++)
			printf("    failing:     %s\n", json_string_value(
			    json_array_get(json_object_get(h, "checks"), i)));
	s = json_string_value(json_object_get(src, "kind"));
	printf("  change source: %s\n", s != NULL ? s : "unknown");
	printf("  pending:       %lld file, %lld database\n",
	    (long long)json_integer_value(json_object_get(json_object_get(st,
	    "pending"), "files")),
	    (long long)json_integer_value(json_object_get(json_object_get(st,
	    "pending"), "database")));
	printf("  passes:        %lld\n", (long long)json_integer_value(
	    json_object_get(st, "passes")));
}

/* --status: the root's daemon, over its socket. */
static int
ask_status(const struct cli *c, const struct es_config *cfg)
{
	struct es_buf answer = ES_BUF_INIT;
	struct es_error err;
	json_error_t je;
	json_t *st = NULL;
	char *path, msg[PATH_MAX + 600];
	int fd, http = 0, status = 0;

	/* A missing folder is a configuration error, not "no daemon". */
	if ((fd = open(cfg->source, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		es_error_set_sys(&err, errno, cfg->source, "cannot open the "
		    "folder");
		print_error(&err);
		status = ES_EXIT_CONFIG;
		if (c->json)
			es_cli_json_error(status, es_error_format(&err, msg,
			    sizeof(msg)));
		return status;
	}
	close(fd);
	if ((path = es_http_socket_path(cfg->source, false, &err)) == NULL ||
	    es_http_unix_request(path, "GET", "/status", NULL, 5000, &http,
	    &answer, &err) < 0) {
		if (path != NULL)
			es_error_set(&err, ES_EBUSY, cfg->source, 0, "no "
			    "daemon answers for this folder (socket %s)", path);
		print_error(&err);
		status = ES_EXIT_TEMP;
		if (c->json)
			es_cli_json_error(status, es_error_format(&err, msg,
			    sizeof(msg)));
		goto out;
	}
	if (http != 200 || (st = json_loadb(answer.buf, answer.len, 0,
	    &je)) == NULL || !json_is_object(st)) {
		snprintf(msg, sizeof(msg), "the daemon answered HTTP %d",
		    http);
		fprintf(stderr, PROG ": %s\n", msg);
		status = ES_EXIT_TEMP;
		if (c->json)
			es_cli_json_error(status, msg);
		goto out;
	}
	if (c->json) {
		char *s;

		json_object_set_new(st, "version",
		    json_string(es_cli_version()));
		json_object_set_new(st, "exit_status", json_integer(0));
		s = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	} else
		print_status(cfg->source, st);
out:
	json_decref(st);
	free(path);
	es_buf_release(&answer);
	return status;
}

int
main(int argc, char **argv)
{
	struct cli c;
	struct es_config cfg;
	struct es_error err;
	struct es_daemon_args da;
	enum es_log_level lvl = ES_LOG_INFO;
	int status;

	parse_args(argc, argv, &c);
	if (c.log_level != NULL && !es_log_level_parse(c.log_level, &lvl))
		es_cli_usage_error(&spec, "--log-level: bad value '%s' (want "
		    "error, warn, info or debug)", c.log_level);
	if (configure(&c, &cfg, &err) < 0) {
		print_error(&err);
		if (c.json) {
			struct es_engine_result r;
			struct es_buf out = ES_BUF_INIT;
			char msg[PATH_MAX + 600];

			es_engine_result_init(&r);
			es_once_output(&c.f, &r, 2, es_error_format(&err, msg,
			    sizeof(msg)), &out);
			fwrite(out.buf, 1, out.len, stdout);
			es_buf_release(&out);
			es_engine_result_release(&r);
		}
		es_cli_release(&c.args);
		return 2;
	}
	es_log_set_level(lvl);
	es_log_set_json(cfg.log_json);
	es_log_set_secret_uri(cfg.mongodb_uri);
	es_log_set_journald_auto();
	es_store_global_init();
	es_log_mongoc_handler_install();
	if (c.status)
		status = ask_status(&c, &cfg);
	else if (c.once)
		status = run_once(&c, &cfg);
	else {
		memset(&da, 0, sizeof(da));
		da.cfg = &cfg;
		da.init = c.f.init;
		da.reload = reload_config;
		da.reload_ud = &c;
		status = es_daemon_run(&da);
	}
	es_store_global_cleanup();
	es_config_release(&cfg);
	es_cli_release(&c.args);
	return status;
}
