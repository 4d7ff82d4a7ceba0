/*
 * The status endpoint's HTTP server (issue 16 item 5, SPEC §5):
 * libmicrohttpd in external-epoll mode (MHD_USE_EPOLL, no thread of its
 * own), driven by the daemon's libuv loop: a uv_poll_t on each daemon's
 * epoll descriptor, MHD_run() when it is readable, a uv_timer_t armed from
 * MHD_get_timeout(). Two listeners:
 *
 *	tcp	status_listen ("HOST:PORT"; port 0 takes a free port,
 *		es_http_port() says which; "" or NULL: no TCP). A host that
 *		is not loopback needs a token (ES_ECONFIG at start). A port
 *		in use is ES_ECONFIG naming it.
 *	unix	the socket at socket_path (mode 0600, made by es_http_new:
 *		a stale socket file is replaced; a live one, answered by
 *		another daemon, is ES_EBUSY). Every request on it is
 *		privileged.
 *
 * A TCP request is privileged when it carries "Authorization: Bearer
 * <token>" equal to the configured token (compared in constant time).
 * What privilege allows is the handler's business (SPEC §5: names only
 * when privileged).
 *
 * Limits, so that slow or many clients never stall syncing (the loop
 * never blocks on a client): at most max_conns connections per listener
 * (the rest wait, not accepted, in a listen backlog of max_conns; past
 * that the kernel refuses or delays them), a request head of about 8 KiB
 * (431), a request body of at most 64 KiB (413, announced or chunked),
 * only GET and POST (405, before the handler), and a total deadline of
 * deadline_ms on each request, from the accept (or the end of the
 * connection's previous request) to the end of its answer: a client
 * trickling a byte every 200 ms is cut when it passes (MHD's idle timeout
 * alone does not bound it), and so is an idle kept-alive connection. A
 * request answered later (ES_HTTP_LATER) is no longer under the deadline
 * until es_http_reply(), which starts a new one for sending the answer.
 * The limits are per listener: a full TCP listener leaves the socket
 * answering.
 *
 * Logs (es_log, subsystem "http"): where it listens and a stale socket
 * replaced at info; dropped connections and libmicrohttpd's messages at
 * debug. Never the token.
 */
#ifndef EXECSYNCD_HTTP_H
#define EXECSYNCD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "execsync/buf.h"
#include "execsync/error.h"

#define ES_HTTP_LATER	0	/* handler's status: es_http_reply() follows */

struct es_http;
struct es_http_req;		/* a request answered later */

struct es_http_request {
	const char		*method;	/* "GET" or "POST" */
	const char		*path;		/* "/status", %-decoded */
	const char		*query;		/* after '?' as sent, or NULL */
	const char		*body;		/* NUL-ended, or NULL */
	size_t			 body_len;
	bool			 privileged;	/* unix socket, or the token */
	bool			 unix_socket;	/* came in on the socket */
	struct es_http_req	*later;		/* for es_http_reply() */
};
/* Every pointer in it is borrowed for the handler's call only. */

/*
 * Answers req: returns an HTTP status (200, 404, ...) with body and
 * *content_type (static) filled, or ES_HTTP_LATER to answer later with
 * es_http_reply(req->later, ...) from the loop thread. req->later is
 * valid from an ES_HTTP_LATER return until es_http_reply() or
 * es_http_free(), whichever comes first; never after another return. A
 * status outside 100..599 is answered 500 (and logged). Runs on the loop
 * thread; must not block.
 */
typedef int (*es_http_handler)(const struct es_http_request *req,
    struct es_buf *body, const char **content_type, void *ud);

struct es_http_opts {
	const char	*listen;	/* "HOST:PORT"; "" or NULL: off */
	const char	*socket_path;	/* NULL: no socket */
	const char	*token;		/* NULL or "": none */
	unsigned	 max_conns;	/* per listener; 0: 32 */
	unsigned	 deadline_ms;	/* per request; 0: 5000 */
	es_http_handler	 handler;
	void		*ud;
};

/*
 * Starts listening (the strings of o are copied). NULL with err:
 * ES_ECONFIG for a bad listen value, a host off loopback without a token,
 * an address in use (err->sys EADDRINUSE) or not available, a socket path
 * too long; ES_EBUSY when a daemon answers on socket_path; ES_EUNSAFE
 * when something that is not a socket is there (left alone); ES_EIO
 * otherwise (then, rarely, handles may still be closing on the loop).
 * Call on the loop thread (or before the loop runs). Idle, it arms no
 * timer: no connection, no wake-up.
 */
struct es_http	*es_http_new(uv_loop_t *loop, const struct es_http_opts *o,
		    struct es_error *err);
/* The TCP port listened on (the one port 0 got), 0 without TCP. */
int		 es_http_port(const struct es_http *h);
/*
 * Answers a request the handler put off (loop thread); content_type and
 * body are copied. Once per request: a second call does nothing.
 */
void		 es_http_reply(struct es_http_req *later, int status,
		    const char *content_type, const char *body, size_t len);
/*
 * Requests, by outcome (for /metrics): served, answered by the handler or
 * by a limit of ours (405, 413); dropped, cut by the deadline or ended
 * without an answer. What libmicrohttpd refuses itself (400, 431) is in
 * neither.
 */
unsigned long	 es_http_served(const struct es_http *h);
unsigned long	 es_http_dropped(const struct es_http *h);
/*
 * Stops listening (unlinks the socket, when still ours), answers requests
 * put off with 503 (as far as their clients read at once), closes the
 * handles on the loop: h is freed when the loop has run their close
 * callbacks (uv_run until they have). Not from inside the handler. h
 * may be NULL.
 */
void		 es_http_free(struct es_http *h);

/*
 * The socket path of the daemon of root (SPEC §5):
 * $XDG_RUNTIME_DIR/execsync/<name>.sock, or /tmp/execsync-<uid>/ without
 * XDG_RUNTIME_DIR (made 0700; refused, ES_EUNSAFE, when another user owns
 * it or it is a link). <name> derives from the root's real path (its last
 * component, cleaned, and a hash of the whole path), so two roots never
 * share one; a root that does not exist (yet) is taken as given, which
 * must then be absolute. mkdir: make the folder when missing (a missing
 * folder is no error without it: connecting then fails with ENOENT). An
 * existing folder must be a folder, not a link, and ours (ES_EUNSAFE);
 * wider than 0700 it is made 0700 with mkdir, refused without. Returned
 * malloc'd; NULL with err on error (ES_ECONFIG when the path would not
 * fit a socket address).
 */
char		*es_http_socket_path(const char *root, bool mkdir,
		    struct es_error *err);

/*
 * One request to a daemon's socket (execsyncd --status, --once handed
 * over): method, path, body (a string sent as application/json, or
 * NULL); the answer's status into *status and its body appended to answer
 * (at most 64 MiB). timeout_ms bounds the whole exchange (0: none).
 * Blocking: not for the loop thread. 0, or -1 with err (ES_EIO, err->sys
 * ECONNREFUSED or ENOENT when no daemon listens, ETIMEDOUT on the
 * timeout).
 */
int		 es_http_unix_request(const char *socket_path,
		    const char *method, const char *path, const char *body,
		    int timeout_ms, int *status, struct es_buf *answer,
		    struct es_error *err);

#endif
