/*
 * The status endpoint's HTTP server (http.h): two libmicrohttpd daemons in
 * external-epoll mode, one per listener, each driven by a uv_poll_t on its
 * epoll descriptor and a uv_timer_t. Everything runs on the loop thread.
 *
 * The total per-request deadline: libmicrohttpd 0.9.75's own timeout is an
 * idle timeout (reset by every byte), so a client trickling bytes is never
 * cut by it. Each connection's start (its accept, then the end of its last
 * request) is kept here (MHD_OPTION_NOTIFY_CONNECTION); the timer is armed
 * for the earliest deadline too, and a connection past it is shut down
 * (shutdown(2) on its descriptor, which stays libmicrohttpd's to close): the
 * epoll descriptor turns readable, MHD_run() reads end of file and closes
 * the connection as if the client had gone.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "execsync/config.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"
#include "http-internal.h"
#include "http.h"

#define BODY_MAX	(64u * 1024)	/* a request body; past it: 413 */
/*
 * A connection's memory (MHD_OPTION_CONNECTION_MEMORY_LIMIT): libmicrohttpd
 * answers 431 to a request head that does not fit (measured: a 7,750-byte
 * header passes, 8,000 bytes do not).
 */
#define HEADERS_MAX	(8u * 1024)

struct listener;

/* One connection: MHD's socket context. */
struct conn {
	struct listener	*l;
	struct conn	*prev, *next;
	int		 fd;
	int64_t		 start_ms;	/* accept, or end of the last request */
	bool		 later;		/* a request put off: no deadline */
	bool		 cut;		/* shut down by the deadline */
};

/* One request: MHD's request context, made by the URI callback. */
struct es_http_req {
	struct listener		*l;
	struct MHD_Connection	*mc;
	struct es_http_req	*prev, *next;	/* h->later while put off */
	char			*query;		/* NULL: none */
	struct es_buf		 body;
	bool			 too_big;
	bool			 suspended;
	bool			 answered;	/* a response queued */
	bool			 replied;	/* es_http_reply() was called */
	int			 status;	/* the reply's */
	char			*content_type;
	struct es_buf		 answer;
};

struct listener {
	struct es_http		*h;
	const char		*name;		/* "tcp", "unix" */
	struct MHD_Daemon	*d;
	uv_poll_t		 poll;
	uv_timer_t		 timer;
	bool			 handles;	/* poll and timer initialised */
	bool			 in_run;
	bool			 kick;		/* run again at once */
	struct conn		*conns;
};

struct es_http {
	uv_loop_t		*loop;
	struct listener		 tcp, unx;
	char			*token;		/* NULL: none */
	size_t			 token_len;
	char			*socket_path;	/* ours to unlink, or NULL */
	dev_t			 sock_dev;
	ino_t			 sock_ino;
	unsigned		 max_conns, deadline_ms;
	es_http_handler		 handler;
	void			*ud;
	int			 port;
	unsigned long		 served, dropped;
	struct es_http_req	*later;		/* requests put off */
	int			 closing;	/* handles not yet closed */
};

/* Equal, in a time that depends on the token's length only. */
static bool
token_ok(const struct es_http *h, const char *got)
{
	size_t glen = strlen(got);
	unsigned char diff = glen != h->token_len;

	for (size_t i = 0; i < h->token_len; i++)
		diff |= (unsigned char)h->token[i] ^
		    (unsigned char)(i < glen ? got[i] : 0);
	return diff == 0;
}

static bool
privileged(const struct listener *l, struct MHD_Connection *mc)
{
	const struct es_http *h = l->h;
	const char *a;

	if (l == &h->unx)
		return true;
	if (h->token == NULL)
		return false;
	a = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return false;
	a += 7;
	while (*a == ' ')
		a++;
	return token_ok(h, a);
}

static enum MHD_Result
queue(struct es_http_req *r, int status, const char *ctype, const char *body,
    size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    "GET, POST");
	ret = MHD_queue_response(r->mc, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		r->answered = true;
		r->l->h->served++;
	}
	return ret;
}

static enum MHD_Result
queue_error(struct es_http_req *r, int status, const char *what)
{
	char body[128];
	int n;

	n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", what);
	return queue(r, status, "application/json", body, (size_t)n);
}

static struct conn *
conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
later_unlink(struct es_http *h, struct es_http_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (h->later == r)
		h->later = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/* The handler's answer, or put off. */
static enum MHD_Result
dispatch(struct es_http_req *r, const char *method, const char *url)
{
	struct listener *l = r->l;
	struct es_http *h = l->h;
	struct es_http_request req;
	struct es_buf body = ES_BUF_INIT;
	const char *ctype = "text/plain; charset=utf-8";
	enum MHD_Result ret;
	struct conn *c;
	int status;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.query = r->query;
	req.body = r->body.len > 0 ? r->body.buf : NULL;
	req.body_len = r->body.len;
	req.privileged = privileged(l, r->mc);
	req.unix_socket = l == &h->unx;
	req.later = r;
	status = h->handler(&req, &body, &ctype, h->ud);
	if (status == ES_HTTP_LATER) {
		es_buf_release(&body);
		MHD_suspend_connection(r->mc);
		r->suspended = true;
		r->next = h->later;
		if (h->later != NULL)
			h->later->prev = r;
		h->later = r;
		if ((c = conn_of(r->mc)) != NULL)
			c->later = true;
		return MHD_YES;
	}
	if (status < 100 || status > 599) {
		es_log(ES_LOG_ERROR, "http", "%s %s: the handler answered %d",
		    method, url, status);
		es_buf_release(&body);
		return queue_error(r, 500, "internal error");
	}
	ret = queue(r, status, ctype != NULL ? ctype : "text/plain",
	    body.buf, body.len);
	es_buf_release(&body);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **req_cls)
{
	struct es_http_req *r = *req_cls;
	const char *cl;

	(void)cls;
	(void)version;
	if (r == NULL)		/* no URI callback: cannot happen */
		return MHD_NO;
	if (r->mc == NULL) {	/* the first call: headers only */
		r->mc = mc;
		if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
			return queue_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method not allowed");
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > BODY_MAX)
			return queue_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body over 64 KiB");
		return MHD_YES;
	}
	if (*upload_len > 0) {	/* a piece of the body */
		if (r->body.len + *upload_len > BODY_MAX)
			r->too_big = true;
		if (!r->too_big)
			es_buf_add(&r->body, upload, *upload_len);
		*upload_len = 0;
		return MHD_YES;
	}
	if (r->replied) {	/* resumed by es_http_reply() */
		r->suspended = false;
		return queue(r, r->status, r->content_type, r->answer.buf,
		    r->answer.len);
	}
	if (r->answered || r->suspended)
		return MHD_YES;
	if (r->too_big)
		return queue_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body over 64 KiB");
	return dispatch(r, method, url);
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct es_http_req *r = es_xcalloc(1, sizeof(*r));
	const char *q = strchr(uri, '?');

	(void)mc;
	r->l = cls;
	es_buf_init(&r->body, 0);
	es_buf_init(&r->answer, 0);
	if (q != NULL)
		r->query = es_xstrdup(q + 1);
	return r;
}

static void
req_free(struct es_http_req *r)
{
	free(r->query);
	free(r->content_type);
	es_buf_release(&r->body);
	es_buf_release(&r->answer);
	free(r);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct listener *l = cls;
	struct es_http_req *r = *req_cls;
	struct conn *c = conn_of(mc);

	*req_cls = NULL;
	if (c != NULL) {
		/* The next request's deadline starts now. */
		c->start_ms = es__http_now_ms();
		c->later = false;
	}
	if (r == NULL)
		return;
	if (!r->answered && (c == NULL || !c->cut)) {
		l->h->dropped++;
		es_log(ES_LOG_DEBUG, "http", "%s request ended unanswered "
		    "(code %d)", l->name, (int)toe);
	}
	later_unlink(l->h, r);
	req_free(r);
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	struct conn *c = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = es_xcalloc(1, sizeof(*c));
		c->l = l;
		ci = MHD_get_connection_info(mc,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : -1;
		c->start_ms = es__http_now_ms();
		c->next = l->conns;
		if (l->conns != NULL)
			l->conns->prev = c;
		l->conns = c;
		*socket_context = c;
		return;
	}
	if (c == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	*socket_context = NULL;
}

/* Logs libmicrohttpd's messages at debug: they are about clients. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct es_buf b = ES_BUF_INIT;

	es_buf_vaddf(&b, fmt, ap);
	while (b.len > 0 && b.buf[b.len - 1] == '\n')
		es_buf_setlen(&b, b.len - 1);
	es_log(ES_LOG_DEBUG, "http", "%s: %s",
	    ((struct listener *)cls)->name, b.buf);
	es_buf_release(&b);
}
#pragma GCC diagnostic pop

/*
 * Shuts down the connections past their deadline; returns the time until
 * the earliest deadline still to come, -1 when none.
 */
static int64_t
cut_late(struct listener *l, int64_t now)
{
	struct es_http *h = l->h;
	int64_t next = -1, left;

	for (struct conn *c = l->conns; c != NULL; c = c->next) {
		if (c->later || c->cut)
			continue;
		left = c->start_ms + h->deadline_ms - now;
		if (left <= 0) {
			c->cut = true;
			h->dropped++;
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_RDWR);
			es_log(ES_LOG_DEBUG, "http", "%s connection dropped: "
			    "past the deadline of %u ms", l->name,
			    h->deadline_ms);
			l->kick = true;
			continue;
		}
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

static void	on_timer(uv_timer_t *t);

/* One turn of a daemon, then the timer armed for the next one. */
static void
drive(struct listener *l)
{
	MHD_UNSIGNED_LONG_LONG to;
	int64_t next;

	if (l->d == NULL || l->in_run)
		return;
	l->kick = false;
	(void)cut_late(l, es__http_now_ms());
	l->in_run = true;
	MHD_run(l->d);
	l->in_run = false;
	next = cut_late(l, es__http_now_ms());
	if (MHD_get_timeout(l->d, &to) == MHD_YES &&
	    (next < 0 || (MHD_UNSIGNED_LONG_LONG)next > to))
		next = (int64_t)to;
	if (l->kick)
		next = 0;
	if (next >= 0)
		uv_timer_start(&l->timer, on_timer, (uint64_t)next, 0);
	else
		uv_timer_stop(&l->timer);
}

static void
on_timer(uv_timer_t *t)
{
	drive(t->data);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	(void)events;
	if (status < 0)
		es_log(ES_LOG_WARN, "http", "poll: %s", uv_strerror(status));
	drive(p->data);
}

void
es_http_reply(struct es_http_req *r, int status, const char *content_type,
    const char *body, size_t len)
{
	struct listener *l = r->l;
	struct conn *c;

	if (r->replied || !r->suspended)
		return;
	r->replied = true;
	r->status = status >= 100 && status <= 599 ? status : 500;
	r->content_type = es_xstrdup(content_type != NULL ? content_type :
	    "text/plain; charset=utf-8");
	es_buf_add(&r->answer, body != NULL ? body : "", len);
	later_unlink(l->h, r);
	if ((c = conn_of(r->mc)) != NULL) {
		c->later = false;	/* sending the answer has a deadline */
		c->start_ms = es__http_now_ms();
	}
	MHD_resume_connection(r->mc);
	l->kick = true;
	if (!l->in_run && l->handles)
		uv_timer_start(&l->timer, on_timer, 0, 0);
}

/* Starts libmicrohttpd on fd (which it then owns) and the handles. */
static int
listener_start(struct es_http *h, struct listener *l, const char *name,
    int fd, bool v6, struct es_error *err)
{
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	int rc;

	l->h = h;
	l->name = name;
	l->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, h->max_conns,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADERS_MAX,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, l,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l,
	    MHD_OPTION_END);
	if (l->d == NULL)	/* fd may leak here: MHD may have closed it */
		return es_error_set(err, ES_EIO, NULL, 0,
		    "cannot start the %s status server", name);
	di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL || (rc = uv_poll_init(h->loop, &l->poll,
	    di->epoll_fd)) != 0) {
		MHD_stop_daemon(l->d);
		l->d = NULL;
		return es_error_set(err, ES_EIO, NULL, 0,
		    "cannot poll the %s status server", name);
	}
	uv_timer_init(h->loop, &l->timer);
	l->poll.data = l;
	l->timer.data = l;
	l->handles = true;
	uv_poll_start(&l->poll, UV_READABLE, on_poll);
	drive(l);
	return 0;
}

static int
tcp_open(struct es_http *h, const char *listen_s, bool *v6,
    struct es_error *err)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], portstr[8];
	unsigned port;
	int fd = -1, one = 1, e, rc;

	if (!es_config_split_listen(listen_s, host, sizeof(host), &port))
		return es_error_set(err, ES_ECONFIG, NULL, 0, "bad value for "
		    "'status_listen' '%s' (want host:port or [ipv6]:port)",
		    listen_s);
	if (!es_config_host_is_loopback(host) && h->token == NULL)
		return es_error_set(err, ES_ECONFIG, NULL, 0, "status_listen "
		    "'%s' is not a loopback address: set 'status_token' too",
		    listen_s);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &ai)) != 0)
		return es_error_set(err, ES_ECONFIG, NULL, 0, "status_listen "
		    "'%s': %s", listen_s, gai_strerror(rc));
	*v6 = ai->ai_family == AF_INET6;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (*v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, (int)h->max_conns) != 0) {
		e = errno;
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	return fd;
fail:
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	es_error_set(err, ES_ECONFIG, NULL, 0, "status_listen '%s': %s%s",
	    listen_s, strerror(e), e == EADDRINUSE ? " (another program "
	    "listens there: choose another port, or 0 for any)" : "");
	if (err != NULL)
		err->sys = e;
	return -1;
}

/* 0: nobody answers at path (removed when stale); -1 with err. */
static int
unix_clear(const char *path, struct es_error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return es_error_set_sys(err, errno, path, "cannot stat");
	}
	if (!S_ISSOCK(st.st_mode))
		return es_error_set(err, ES_EUNSAFE, path, 0, "exists and is "
		    "not a socket: left alone");
	if (es__http_sockaddr(&sa, path, err) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return es_error_set_sys(err, errno, path, "socket");
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return es_error_set(err, ES_EBUSY, path, 0, "another daemon "
		    "answers on this socket");
	if (e != ECONNREFUSED)
		return es_error_set_sys(err, e, path, "cannot connect");
	if (unlink(path) != 0 && errno != ENOENT)
		return es_error_set_sys(err, errno, path, "cannot remove the "
		    "stale socket");
	es_log(ES_LOG_INFO, "http", "%s: replaced a stale socket", path);
	return 0;
}

static int
unix_open(struct es_http *h, const char *path, struct es_error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, e;

	if (es__http_sockaddr(&sa, path, err) != 0 ||
	    unix_clear(path, err) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return es_error_set_sys(err, errno, path, "socket");
	/* Linux makes the file with the socket's mode: never wider. */
	if (fchmod(fd, 0600) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return es_error_set(err, ES_EBUSY, path, 0, "another "
			    "daemon took this socket");
		return es_error_set_sys(err, e, path, "cannot bind");
	}
	if (chmod(path, 0600) != 0 || lstat(path, &st) != 0 ||
	    listen(fd, (int)h->max_conns) != 0) {
		e = errno;
		close(fd);
		unlink(path);
		return es_error_set_sys(err, e, path, "cannot listen");
	}
	h->socket_path = es_xstrdup(path);
	h->sock_dev = st.st_dev;
	h->sock_ino = st.st_ino;
	return fd;
}

/* Unlinks our socket file, when it is still ours. */
static void
unix_remove(struct es_http *h)
{
	struct stat st;

	if (h->socket_path == NULL)
		return;
	if (lstat(h->socket_path, &st) == 0 && st.st_dev == h->sock_dev &&
	    st.st_ino == h->sock_ino)
		unlink(h->socket_path);
	free(h->socket_path);
	h->socket_path = NULL;
}

struct es_http *
es_http_new(uv_loop_t *loop, const struct es_http_opts *o,
    struct es_error *err)
{
	struct es_http *h = es_xcalloc(1, sizeof(*h));
	bool tcp = o->listen != NULL && o->listen[0] != '\0', v6 = false;
	int tfd = -1, ufd = -1;

	h->loop = loop;
	h->handler = o->handler;
	h->ud = o->ud;
	h->max_conns = o->max_conns != 0 ? o->max_conns : 32;
	h->deadline_ms = o->deadline_ms != 0 ? o->deadline_ms : 5000;
	if (o->token != NULL && o->token[0] != '\0') {
		h->token = es_xstrdup(o->token);
		h->token_len = strlen(o->token);
	}
	if (tcp && (tfd = tcp_open(h, o->listen, &v6, err)) < 0)
		goto fail;
	if (o->socket_path != NULL &&
	    (ufd = unix_open(h, o->socket_path, err)) < 0)
		goto fail;
	if (tfd >= 0) {
		if (listener_start(h, &h->tcp, "tcp", tfd, v6, err) != 0) {
			tfd = -1;
			goto fail;
		}
		tfd = -1;
		es_log(ES_LOG_INFO, "http", "listening on %s (port %d)",
		    o->listen, h->port);
	}
	if (ufd >= 0) {
		if (listener_start(h, &h->unx, "unix", ufd, false, err) != 0) {
			ufd = -1;
			goto fail;
		}
		ufd = -1;
		es_log(ES_LOG_INFO, "http", "listening on %s",
		    h->socket_path);
	}
	return h;
fail:
	if (tfd >= 0)
		close(tfd);
	if (ufd >= 0)
		close(ufd);
	es_http_free(h);
	return NULL;
}

int
es_http_port(const struct es_http *h)
{
	return h != NULL && h->tcp.d != NULL ? h->port : 0;
}

unsigned long
es_http_served(const struct es_http *h)
{
	return h->served;
}

unsigned long
es_http_dropped(const struct es_http *h)
{
	return h->dropped;
}

static void
http_release(struct es_http *h)
{
	unix_remove(h);
	free(h->token);
	free(h);
}

static void
on_closed(uv_handle_t *hd)
{
	struct listener *l = hd->data;
	struct es_http *h = l->h;

	if (--h->closing == 0)
		http_release(h);
}

static void
listener_stop(struct listener *l)
{
	struct es_http *h = l->h;

	if (l->d == NULL)
		return;
	/* Give resumed requests (answered 503) a chance to go out. */
	for (int i = 0; i < 4 && !l->in_run; i++) {
		l->in_run = true;
		MHD_run(l->d);
		l->in_run = false;
	}
	if (l->handles)
		uv_poll_stop(&l->poll);
	MHD_stop_daemon(l->d);
	l->d = NULL;
	if (l->handles) {
		uv_timer_stop(&l->timer);
		h->closing += 2;
		uv_close((uv_handle_t *)&l->poll, on_closed);
		uv_close((uv_handle_t *)&l->timer, on_closed);
	}
}

void
es_http_free(struct es_http *h)
{
	static const char gone[] = "{\"error\":\"the daemon is stopping\"}";

	if (h == NULL)
		return;
	while (h->later != NULL)
		es_http_reply(h->later, 503, "application/json", gone,
		    sizeof(gone) - 1);
	listener_stop(&h->tcp);
	listener_stop(&h->unx);
	unix_remove(h);
	if (h->closing == 0)
		http_release(h);
}
