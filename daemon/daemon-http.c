/*
 * The daemon's answers on its status endpoint (SPEC §5): /healthz,
 * /status and /metrics from the loop's snapshot (status.c renders them),
 * and POST /once on the socket: a `execsyncd --once` handed over, run as
 * the next pass and answered with what the command prints.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "execsync/baseline.h"
#include "execsync/lock.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "daemon-internal.h"

void
es__d_reply_once(struct daemon *d, struct es_job *j)
{
	char msg[PATH_MAX + 600];
	const char *error = NULL;
	struct es_buf out = ES_BUF_INIT;
	json_t *o;
	char *s;
	int status;

	(void)d;
	if (j->rc < 0) {
		status = j->db_down ? ES_EXIT_TEMP :
		    es_exit_status(j->err.code);
		error = es_error_format(&j->err, msg, sizeof(msg));
	} else
		status = es_engine_status(&j->r);
	es_once_output(&j->flags, &j->r, status, error, &out);
	o = json_pack("{s:i, s:s, s:s?}", "exit_status", status, "stdout",
	    out.buf != NULL ? out.buf : "", "error", error);
	s = json_dumps(o, JSON_COMPACT);
	es_http_reply(j->reply, 200, "application/json", s, strlen(s));
	free(s);
	json_decref(o);
	es_buf_release(&out);
}

static void
snapshot(struct daemon *d)
{
	d->st.pending_paths = d->npaths;
	d->st.pending_changes = d->changes.n;
	d->st.watches = d->watch != NULL ? es_watch_count(d->watch) : 0;
	d->st.tcp_port = d->http != NULL ? es_http_port(d->http) : 0;
	d->st.unhealthy_why[0] = '\0';
	if (d->st.unhealthy & ES_UNHEALTHY_ROOT)
		snprintf(d->st.unhealthy_why, sizeof(d->st.unhealthy_why),
		    "%.255s", d->unhealthy_root);
	else if (d->st.unhealthy & ES_UNHEALTHY_DATABASE)
		snprintf(d->st.unhealthy_why, sizeof(d->st.unhealthy_why),
		    "%.255s", d->src.error);
	else if (d->st.unhealthy & ES_UNHEALTHY_IDENTITY)
		snprintf(d->st.unhealthy_why, sizeof(d->st.unhealthy_why),
		    "%.255s", d->unhealthy_identity);
}

static bool
json_flag(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* POST /once on the socket: a --once handed over (main.c). */
static int
once_request(struct daemon *d, const struct es_http_request *req,
    struct es_buf *body)
{
	json_t *o, *md;
	json_error_t je;
	struct es_job *j;
	char *s;

	if (!req->unix_socket) {
		es_buf_addstr(body, "{\"error\":\"only on the socket\"}\n");
		return 403;
	}
	if (!d->ready) {
		o = json_pack("{s:i, s:s, s:s}", "exit_status", 75, "stdout",
		    "", "error", d->unhealthy_root);
		s = json_dumps(o, JSON_COMPACT);
		es_buf_addstr(body, s);
		free(s);
		json_decref(o);
		return 200;
	}
	if (req->body == NULL || (o = json_loadb(req->body, req->body_len, 0,
	    &je)) == NULL || !json_is_object(o)) {
		es_buf_addstr(body, "{\"error\":\"want a JSON object of "
		    "flags\"}\n");
		return 400;
	}
	j = es_xcalloc(1, sizeof(*j));
	j->once = true;
	j->flags.dry_run = json_flag(o, "dry_run");
	j->flags.verbose = json_flag(o, "verbose");
	j->flags.force = json_flag(o, "force");
	j->flags.resync = json_flag(o, "resync");
	j->flags.init = json_flag(o, "init");
	j->flags.full = json_flag(o, "full");
	j->flags.json = json_flag(o, "json");
	if (json_is_integer(md = json_object_get(o, "max_delete")) &&
	    json_integer_value(md) >= 0 && json_integer_value(md) <= 100) {
		j->flags.max_delete_set = true;
		j->flags.max_delete = (unsigned)json_integer_value(md);
	}
	json_decref(o);
	j->kind = j->flags.full || j->flags.force || j->flags.resync ?
	    ES_TRIGGER_FULL : ES_TRIGGER_ORDINARY;
	j->reply = req->later;
	*d->once_tail = j;
	d->once_tail = &j->next;
	es__d_kick(d);
	return ES_HTTP_LATER;
}

int
es__d_on_http(const struct es_http_request *req, struct es_buf *body,
    const char **ctype, void *ud)
{
	struct daemon *d = ud;
	int64_t now = es__d_now_ms();

	*ctype = "application/json";
	snapshot(d);
	if (strcmp(req->method, "POST") == 0) {
		if (strcmp(req->path, "/once") == 0)
			return once_request(d, req, body);
		es_buf_addstr(body, "{\"error\":\"not found\"}\n");
		return 404;
	}
	if (strcmp(req->path, "/healthz") == 0)
		return es_status_healthz(&d->st, req->privileged, body);
	if (strcmp(req->path, "/status") == 0) {
		if (!req->privileged) {
			es_buf_addstr(body, "{\"error\":\"/status names files: "
			    "ask over the daemon's socket (execsyncd "
			    "--status) or send Authorization: Bearer "
			    "<status_token>\"}\n");
			return 403;
		}
		es_status_json(&d->st, now, true, body);
		return 200;
	}
	if (strcmp(req->path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4";
		es_status_metrics(&d->st, now, body);
		return 200;
	}
	es_buf_addstr(body, "{\"error\":\"not found: try /healthz, /status "
	    "or /metrics\"}\n");
	return 404;
}
