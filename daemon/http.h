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
 * (the rest refused at accept), headers at most 8 KiB (431), a request
 * body at most 64 KiB (413), only GET and POST (405), and a total
 * per-request deadline of deadline_ms from accept to the end of the
 * request (a client trickling a byte a second is dropped when it passes;
 * MHD's idle timeout alone does not bound it). A request answered later
 * (ES_HTTP_LATER) is no longer under the deadline.
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
	const char		*path;		/* "/status", no query string */
	const char		*query;		/* after '?', or NULL */
	const char		*body;		/* POST body (NUL-ended) or NULL */
	size_t			 body_len;
	bool			 privileged;	/* unix socket, or the token */
	bool			 unix_socket;	/* came in on the socket */
	struct es_http_req	*later;		/* for es_http_reply() */
};

/*
 * Answers req: returns an HTTP status (200, 404, ...) with body and
 * *content_type (static) filled, or ES_HTTP_LATER to answer later with
 * es_http_reply(req->later, ...) from the loop thread. Runs on the loop
 * thread; must not block.
 */
typedef int (*es_http_handler)(const struct es_http_request *req,
    struct es_buf *body, const char **content_type, void *ud);

struct es_http_opts {
	const char	*listen;	/* "127.0.0.1:8765", "[::1]:0"; ""/NULL off */
	const char	*socket_path;	/* NULL: no socket */
	const char	*token;		/* NULL or "": none */
	unsigned	 max_conns;	/* per listener; 0: 32 */
	unsigned	 deadline_ms;	/* per request; 0: 5000 */
	es_http_handler	 handler;
	void		*ud;
};

struct es_http	*es_http_new(uv_loop_t *loop, const struct es_http_opts *o,
		    struct es_error *err);
/* The TCP port listened on (the one port 0 got), 0 without TCP. */
int		 es_http_port(const struct es_http *h);
/* Answers a request the handler put off (loop thread). */
void		 es_http_reply(struct es_http_req *later, int status,
		    const char *content_type, const char *body, size_t len);
/* Requests answered, by outcome (for /metrics). */
unsigned long	 es_http_served(const struct es_http *h);
unsigned long	 es_http_dropped(const struct es_http *h);
/*
 * Stops listening (unlinks the socket), answers requests put off with
 * 503, closes the handles on the loop. h may be NULL.
 */
void		 es_http_free(struct es_http *h);

/*
 * The socket path of the daemon of root (SPEC §5):
 * $XDG_RUNTIME_DIR/execsync/<name>.sock, or /tmp/execsync-<uid>/ without
 * XDG_RUNTIME_DIR (made 0700; refused, ES_EUNSAFE, when another user owns
 * it or it is a link). <name> derives from the root's real path (its last
 * component, cleaned, and a hash of the whole path), so two roots never
 * share one. mkdir: make the folder when missing. NULL with err on error.
 */
char		*es_http_socket_path(const char *root, bool mkdir,
		    struct es_error *err);

/*
 * One request to a daemon's socket (execsyncd --status, --once handed
 * over): method, path, body (may be NULL); the answer's status and body.
 * timeout_ms 0: none. -1 with err (ES_EIO, err->sys ECONNREFUSED or
 * ENOENT when no daemon listens).
 */
int		 es_http_unix_request(const char *socket_path,
		    const char *method, const char *path, const char *body,
		    int timeout_ms, int *status, struct es_buf *answer,
		    struct es_error *err);

#endif
