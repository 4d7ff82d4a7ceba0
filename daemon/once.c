/*
 * What a one-shot pass prints (SPEC §1), whether execsyncd --once ran it
 * itself or the daemon of its root ran it (the daemon hands this text
 * back over its socket, and the command prints it as its own).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "execsync/cli.h"
#include "execsync/log.h"
#include "execsync/plan.h"

#include "daemon.h"

static json_t *
errors_json(const struct es_engine_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->nerrors; i++)
		json_array_append_new(a, es_cli_problem_json(&r->errors[i]));
	return a;
}

static void
set_size(json_t *o, const char *key, size_t n)
{
	json_object_set_new(o, key, json_integer((json_int_t)n));
}

static void
output_json(const struct es_once_flags *f, const struct es_engine_result *r,
    int status, const char *error, struct es_buf *out)
{
	json_t *o = json_object(), *applied = json_object();
	char *s;

	json_object_set_new(o, "version", json_string(es_cli_version()));
	json_object_set_new(o, "dry_run", json_boolean(f->dry_run));
	/* The dry run's plan is the real run's, op for op (SPEC 4.9). */
	json_object_set_new(o, "plan", es_plan_json(&r->plan));
	for (int k = 0; k <= ES_OP_REPORT; k++)
		if (r->applied[k] > 0)
			set_size(applied, es_op_kind_name((enum es_op_kind)k),
			    r->applied[k]);
	json_object_set_new(o, "applied", applied);
	set_size(o, "to_db", r->to_db);
	set_size(o, "to_file", r->to_file);
	set_size(o, "conflicts", r->conflicts);
	set_size(o, "failed", r->failed);
	set_size(o, "lost_races", r->lost_races);
	set_size(o, "entities", r->entities);
	set_size(o, "files_read", r->files_read);
	set_size(o, "docs_read", r->docs_read);
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
		es_buf_addf(out, "%s\n", s);
	free(s);
	json_decref(o);
}

void
es_once_output(const struct es_once_flags *f,
    const struct es_engine_result *r, int status, const char *error,
    struct es_buf *out)
{
	struct es_buf line = ES_BUF_INIT;

	if (f->json) {
		output_json(f, r, status, error, out);
		return;
	}
	if (f->dry_run) {
		for (size_t i = 0; i < r->plan.n; i++) {
			/* Bookkeeping is noise to a person: --verbose. */
			if (!f->verbose &&
			    es_op_is_bookkeeping(r->plan.ops[i].op))
				continue;
			es_buf_reset(&line);
			es_op_describe(&r->plan.ops[i], &line);
			es_buf_addf(out, "%s\n", line.buf);
		}
		es_plan_summary(&r->plan, f->verbose, out);
	}
	es_buf_release(&line);
}

void
es_pass_log_summary(const struct es_engine_result *r, const char *what,
    enum es_log_level level)
{
	if (r->held || r->guard_stopped)
		return;
	es_log(level, "sync", "%s: %zu entities, %zu files read, %zu "
	    "documents read (%s), %zu to the database, %zu to files, %zu "
	    "inserted, %zu updated, %zu deleted, %zu written, %zu moved, %zu "
	    "trashed, %zu conflicts, %zu failed, %llu round trips", what,
	    r->entities, r->files_read, r->docs_read, r->full_read ? "full" :
	    "recent", r->to_db, r->to_file, r->applied[ES_OP_DOC_INSERT],
	    r->applied[ES_OP_DOC_UPDATE] + r->applied[ES_OP_DOC_UNDELETE],
	    r->applied[ES_OP_DOC_DELETE], r->applied[ES_OP_FILE_WRITE],
	    r->applied[ES_OP_FILE_MOVE], r->applied[ES_OP_FILE_TRASH],
	    r->conflicts, r->failed, (unsigned long long)r->round_trips);
}
