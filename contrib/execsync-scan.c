/*
 * execsync-scan: shows what execsync sees in a folder, without touching it or
 * any database: how many projects, goals, action lists and actions, what was
 * skipped (symlinks, unreadable folders) and every problem as
 * `path:line: reason`. Exit status: 0 clean, 1 some items have problems
 * or were skipped (es_tree_nproblems(): the judgement execsync-migrate
 * makes), 2 usage, configuration, or the folder cannot be read (SPEC §1).
 *
 *   execsync-scan [--json] [--config FILE] [--max-file-size SIZE]
 *       [--ignore GLOB]... DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "execsync/buf.h"
#include "execsync/cli.h"
#include "execsync/config.h"
#include "execsync/content.h"
#include "execsync/error.h"
#include "execsync/log.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

/*
 * Only the keys that change what a scan sees: a flag such as --mongodb-uri
 * would do nothing here, so it is refused as unknown rather than ignored.
 */
static const char *const scan_keys[] = { "max_file_size", "ignore",
    "log_format", NULL };

static const struct es_cli_opt scan_opts[] = {
	{ "--json", NULL, "print the result as one JSON object" },
};

static const struct es_cli_spec spec = {
	.prog = "execsync-scan",
	.usage = "[--json] [--config FILE] [--max-file-size SIZE]\n"
	    "           [--ignore GLOB]... DIR",
	.about =
	    "Shows what execsync sees in DIR without changing it or any\n"
	    "database: projects, goals, action lists and actions, what was\n"
	    "skipped and every problem as path:line: reason. --config reads\n"
	    "max_file_size, ignore and log_format from that file (the\n"
	    "default file is not read).\n",
	.epilog =
	    "Exit status: 0 clean, 1 some items have problems or were\n"
	    "skipped, 2 usage or the folder cannot be read.\n",
	.opts = scan_opts,
	.nopts = sizeof(scan_opts) / sizeof(scan_opts[0]),
	.keys = scan_keys,
	.args = "DIR",
	.min_args = 1,
	.max_args = 1,
};

static void __attribute__((noreturn))
fatal(const struct es_error *err, bool json)
{
	char msg[PATH_MAX + 600];

	fprintf(stderr, "execsync-scan: %s\n",
	    es_error_format(err, msg, sizeof(msg)));
	if (json)
		es_cli_json_error(es_exit_status(err->code), msg);
	exit(es_exit_status(err->code));
}

/*
 * One line of human output: file names and messages are data, so control
 * characters in them are escaped as the log does, never sent raw to the
 * terminal.
 */
static void
print_escaped(const char *prefix, const char *s, const char *s2)
{
	struct es_buf b = ES_BUF_INIT;

	es_buf_addstr(&b, prefix);
	es_log_escape(&b, s, strlen(s));
	if (s2 != NULL) {
		es_buf_addstr(&b, ": ");
		es_log_escape(&b, s2, strlen(s2));
	}
	puts(b.buf);
	es_buf_release(&b);
}

static void
print_human(const char *dir, const struct es_tree *t)
{
	char msg[PATH_MAX + 600];
	size_t not_goals = 0;

	for (size_t i = 0; i < t->nfiles; i++)
		if (t->files[i].status == ES_TREE_NOT_SYNCED)
			not_goals++;
	print_escaped("source: ", dir, NULL);
	printf("files: %zu (%zu bytes)\n", t->nfiles, t->bytes);
	printf("projects: %zu\n", t->nprojects);
	printf("goals: %zu (%zu supporting files under 30k-goals/ not synced)\n",
	    t->ngoals, not_goals);
	printf("action lists: %zu\n", t->nlists);
	printf("actions: %zu\n", t->nactions);
	printf("skipped: %zu\n", t->nskipped);
	for (size_t i = 0; i < t->nskipped; i++)
		print_escaped("  ", t->skipped[i].rel, t->skipped[i].reason);
	printf("errors: %zu\n", t->nerrors);
	for (size_t i = 0; i < t->nerrors; i++)
		print_escaped("  ", es_error_format(&t->errors[i], msg,
		    sizeof(msg)), NULL);
}

static void
print_json(const char *dir, const struct es_tree *t, int status)
{
	json_t *o = json_object(), *errs = json_array(), *skips = json_array();
	char *s;

	for (size_t i = 0; i < t->nerrors; i++) {
		const struct es_error *e = &t->errors[i];

		json_array_append_new(errs, es_cli_problem_json(e));
	}
	for (size_t i = 0; i < t->nskipped; i++)
		json_array_append_new(skips, json_pack("{s:s, s:s}",
		    "path", t->skipped[i].rel, "reason",
		    t->skipped[i].reason));
	json_object_set_new(o, "version", json_string(es_cli_version()));
	json_object_set_new(o, "source", json_string(dir));
	json_object_set_new(o, "files", json_integer((json_int_t)t->nfiles));
	json_object_set_new(o, "bytes", json_integer((json_int_t)t->bytes));
	json_object_set_new(o, "projects",
	    json_integer((json_int_t)t->nprojects));
	json_object_set_new(o, "goals", json_integer((json_int_t)t->ngoals));
	json_object_set_new(o, "action_lists",
	    json_integer((json_int_t)t->nlists));
	json_object_set_new(o, "actions",
	    json_integer((json_int_t)t->nactions));
	json_object_set_new(o, "skipped", skips);
	json_object_set_new(o, "errors", errs);
	json_object_set_new(o, "exit_status", json_integer(status));
	json_object_set_new(o, "error", json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(o);
}

int
main(int argc, char **argv)
{
	struct es_tree_opts opts = { NULL, ES_CONTENT_MAX_DEFAULT };
	struct es_config cfg;
	struct es_cli cli;
	struct es_tree t;
	struct es_error err;
	bool json;
	int root, rc;
	char *dir;

	es_cli_main(&spec, argc, argv, &cli);
	json = es_cli_flag(&spec, &cli, "--json");
	es_config_init(&cfg);
	if (cli.config != NULL &&
	    es_config_load_file(&cfg, cli.config, true, &err) < 0)
		fatal(&err, json);
	if (es_cli_apply(&cli, &cfg, &err) < 0)
		fatal(&err, json);
	es_log_set_json(cfg.log_json);
	opts.ignore = (const char *const *)cfg.ignore;
	opts.max_file_size = (size_t)cfg.max_file_size;
	if ((dir = realpath(cli.args[0], NULL)) == NULL ||
	    (root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		es_error_set_sys(&err, errno, cli.args[0], "cannot open the "
		    "folder");
		fatal(&err, json);
	}
	es_cli_release(&cli);
	if (es_tree_load(root, &opts, &t, &err) < 0)
		fatal(&err, json);
	rc = es_tree_nproblems(&t) ? ES_EXIT_ITEMS : ES_EXIT_OK;
	if (json)
		print_json(dir, &t, rc);
	else
		print_human(dir, &t);
	es_tree_release(&t);
	es_config_release(&cfg);
	close(root);
	free(dir);
	return rc;
}
