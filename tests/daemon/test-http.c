/*
 * The status endpoint's server (daemon/http.h) on real sockets: each case
 * runs the server on a libuv loop on a thread of its own and talks to it
 * from the test's thread with blocking clients, each wait bounded.
 */
#include "es-test.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "http.h"
#include "status.h"

#define TOKEN	"s3cret-token"

struct srv {
	uv_loop_t		 loop;
	uv_async_t		 stop;
	uv_timer_t		 later_timer;
	uv_thread_t		 thread;
	struct es_http		*h;
	struct es_http_req	*pending;	/* put off by /later, /never */
	struct es_status	 st;
	char			 dir[64];
	char			 sock[96];
	int			 port;
	unsigned long		 served, dropped;
};

static int64_t
mono_ms(void)
{
	return (int64_t)(uv_hrtime() / 1000000);
}

static void
on_later(uv_timer_t *t)
{
	struct srv *s = t->data;

	es_http_reply(s->pending, 200, "text/plain", "answered later", 14);
	s->pending = NULL;
}

static int
handler(const struct es_http_request *req, struct es_buf *body,
    const char **ctype, void *ud)
{
	struct srv *s = ud;
	int code;

	if (strcmp(req->path, "/echo") == 0) {
		es_buf_addf(body, "method=%s path=%s query=%s body_len=%zu "
		    "privileged=%d unix=%d", req->method, req->path,
		    req->query != NULL ? req->query : "-", req->body_len,
		    req->privileged, req->unix_socket);
		*ctype = "text/plain";
		return 200;
	}
	if (strcmp(req->path, "/later") == 0 ||
	    strcmp(req->path, "/never") == 0) {
		s->pending = req->later;
		if (strcmp(req->path, "/later") == 0)
			uv_timer_start(&s->later_timer, on_later, 100, 0);
		return ES_HTTP_LATER;
	}
	code = es_status_answer(&s->st, mono_ms(), req->method, req->path,
	    req->privileged, body, ctype);
	return code != 0 ? code : 404;
}

static void
run_loop(void *arg)
{
	struct srv *s = arg;

	uv_run(&s->loop, UV_RUN_DEFAULT);
}

static void
on_stop(uv_async_t *a)
{
	struct srv *s = a->data;

	if (s->h != NULL) {
		s->served = es_http_served(s->h);
		s->dropped = es_http_dropped(s->h);
	}
	es_http_free(s->h);
	s->h = NULL;
	uv_close((uv_handle_t *)&s->stop, NULL);
	uv_close((uv_handle_t *)&s->later_timer, NULL);
}

static void
srv_init(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/es-http-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sock, sizeof(s->sock), "%s/d.sock", s->dir);
	s->st.version = "test";
	s->st.root = "/secret/root";
	s->st.source = "poll";
	assert_int_equal(uv_loop_init(&s->loop), 0);
}

/* Starts the server with o (handler and ud filled here); err on failure. */
static int
srv_start(struct srv *s, struct es_http_opts *o, struct es_error *err)
{
	o->handler = handler;
	o->ud = s;
	s->h = es_http_new(&s->loop, o, err);
	if (s->h == NULL)
		return -1;
	s->port = es_http_port(s->h);
	uv_async_init(&s->loop, &s->stop, on_stop);
	s->stop.data = s;
	uv_timer_init(&s->loop, &s->later_timer);
	s->later_timer.data = s;
	assert_int_equal(uv_thread_create(&s->thread, run_loop, s), 0);
	return 0;
}

static void
srv_start_ok(struct srv *s, struct es_http_opts *o)
{
	struct es_error err;
	char msg[1024];

	es_error_clear(&err);
	if (srv_start(s, o, &err) != 0)
		fail_msg("es_http_new: %s", es_error_format(&err, msg,
		    sizeof(msg)));
}

/* Stops a started server (or cleans a loop whose es_http_new failed). */
static void
srv_done(struct srv *s, bool started)
{
	if (started) {
		uv_async_send(&s->stop);
		uv_thread_join(&s->thread);
	} else {
		uv_run(&s->loop, UV_RUN_DEFAULT);	/* closing handles */
	}
	assert_int_equal(uv_loop_close(&s->loop), 0);
	es_test_rm_tree(s->dir);
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("connect to port %d: %s", port, strerror(errno));
	return fd;
}

/*
 * Reads fd until end of file or timeout_ms; returns the status of the
 * answer (its body in body when not NULL), -1 when the connection ended
 * without one, -2 on timeout.
 */
static int
read_answer(int fd, int timeout_ms, struct es_buf *body)
{
	struct es_buf raw = ES_BUF_INIT;
	int64_t deadline = mono_ms() + timeout_ms;
	char chunk[4096], *end;
	int status = -1;
	ssize_t n;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ms();

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			status = -2;
			goto out;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		es_buf_add(&raw, chunk, (size_t)n);
	}
	if (raw.len >= 12 && strncmp(raw.buf, "HTTP/1.", 7) == 0)
		status = atoi(raw.buf + 9);
	if (body != NULL && (end = strstr(raw.buf, "\r\n\r\n")) != NULL)
		es_buf_addstr(body, end + 4);
	if (body != NULL && status > 0) {	/* keep the head too */
		es_buf_addstr(body, "\n--head--\n");
		es_buf_add(body, raw.buf, (size_t)(end - raw.buf));
	}
out:
	es_buf_release(&raw);
	return status;
}

/* Sends the raw request on a new TCP connection: the answer's status. */
static int
tcp_request(int port, const char *raw, struct es_buf *body)
{
	int fd = tcp_connect(port), status;

	assert_int_equal(send(fd, raw, strlen(raw), MSG_NOSIGNAL),
	    (ssize_t)strlen(raw));
	status = read_answer(fd, 5000, body);
	close(fd);
	return status;
}

static int
tcp_get(int port, const char *path, const char *headers, struct es_buf *body)
{
	struct es_buf req = ES_BUF_INIT;
	int status;

	es_buf_addf(&req, "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: "
	    "close\r\n\r\n", path, headers != NULL ? headers : "");
	status = tcp_request(port, req.buf, body);
	es_buf_release(&req);
	return status;
}

static int
unix_get(const char *sock, const char *method, const char *path,
    struct es_buf *body)
{
	struct es_error err;
	char msg[1024];
	int status = 0;

	if (es_http_unix_request(sock, method, path, NULL, 5000, &status, body,
	    &err) != 0)
		fail_msg("%s", es_error_format(&err, msg, sizeof(msg)));
	return status;
}

static void
get_on_tcp_and_socket(void **state)
{
	struct srv s;
	struct es_http_opts o = { .listen = "127.0.0.1:0" };
	struct es_buf b = ES_BUF_INIT;
	struct stat st;

	(void)state;
	srv_init(&s);
	o.socket_path = s.sock;
	srv_start_ok(&s, &o);
	assert_true(s.port > 0);
	assert_int_equal(tcp_get(s.port, "/healthz", NULL, &b), 200);
	assert_non_null(strstr(b.buf, "\"status\":\"healthy\""));
	assert_non_null(strstr(b.buf, "Content-Type: application/json"));
	es_buf_reset(&b);
	assert_int_equal(tcp_get(s.port, "/echo?a=1&b=%20", NULL, &b), 200);
	assert_non_null(strstr(b.buf, "method=GET path=/echo query=a=1&b=%20 "
	    "body_len=0 privileged=0 unix=0"));
	es_buf_reset(&b);
	assert_int_equal(unix_get(s.sock, "GET", "/echo", &b), 200);
	assert_string_equal(b.buf, "method=GET path=/echo query=- body_len=0 "
	    "privileged=1 unix=1");
	es_buf_reset(&b);
	assert_int_equal(unix_get(s.sock, "GET", "/status", &b), 200);
	assert_non_null(strstr(b.buf, "\"root\":\"/secret/root\""));
	es_buf_reset(&b);
	/* A POST body arrives whole. */
	{
		struct es_error err;
		int status;
		char big[20000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(es_http_unix_request(s.sock, "POST", "/echo",
		    big, 5000, &status, &b, &err), 0);
		assert_int_equal(status, 200);
		assert_non_null(strstr(b.buf, "method=POST path=/echo "
		    "query=- body_len=19999 privileged=1"));
	}
	/* The socket is the owner's only. */
	assert_int_equal(lstat(s.sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	srv_done(&s, true);
	assert_true(s.served >= 5);
	/* es_http_free removed the socket file. */
	assert_int_not_equal(lstat(s.sock, &st), 0);
	es_buf_release(&b);
}

static void
tcp_off(void **state)
{
	struct srv s;
	struct es_http_opts o = { .listen = "" };
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	srv_init(&s);
	o.socket_path = s.sock;
	srv_start_ok(&s, &o);
	assert_int_equal(s.port, 0);
	assert_int_equal(unix_get(s.sock, "GET", "/healthz", &b), 200);
	srv_done(&s, true);
	es_buf_release(&b);
}

static void
port_in_use(void **state)
{
	struct srv s;
	struct es_http_opts o = { 0 };
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct es_error err;
	char listen_s[64];
	int fd, one = 1;

	(void)state;
	srv_init(&s);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(listen_s, sizeof(listen_s), "127.0.0.1:%d",
	    ntohs(sa.sin_port));
	o.listen = listen_s;
	o.socket_path = s.sock;
	assert_int_equal(srv_start(&s, &o, &err), -1);
	assert_int_equal(err.code, ES_ECONFIG);
	assert_int_equal(err.sys, EADDRINUSE);
	assert_non_null(strstr(err.msg, listen_s));
	/* Nothing left behind: the socket was not made. */
	assert_int_equal(access(s.sock, F_OK), -1);
	close(fd);
	srv_done(&s, false);
}

static void
non_loopback_needs_token(void **state)
{
	static const char *const refused[] = {
		"0.0.0.0:0", "[::]:0", "192.0.2.1:8765",
	};
	struct srv s;
	struct es_http_opts o = { 0 };
	struct es_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		srv_init(&s);
		o.listen = refused[i];
		o.token = i == 0 ? "" : NULL;
		assert_int_equal(srv_start(&s, &o, &err), -1);
		assert_int_equal(err.code, ES_ECONFIG);
		assert_non_null(strstr(err.msg, "status_token"));
		assert_non_null(strstr(err.msg, refused[i]));
		srv_done(&s, false);
	}
	srv_init(&s);
	o.listen = "bad";
	assert_int_equal(srv_start(&s, &o, &err), -1);
	assert_int_equal(err.code, ES_ECONFIG);
	srv_done(&s, false);
	/* Loopback by name and in IPv6 need none. */
	srv_init(&s);
	o.listen = "localhost:0";
	o.token = NULL;
	srv_start_ok(&s, &o);
	assert_true(s.port > 0);
	srv_done(&s, true);
	srv_init(&s);
	o.listen = "[::1]:0";
	if (srv_start(&s, &o, &err) == 0) {
		assert_true(s.port > 0);
		srv_done(&s, true);
	} else {	/* a machine without IPv6 */
		assert_int_equal(err.sys, EADDRNOTAVAIL);
		srv_done(&s, false);
	}
	/* With a token it listens. */
	srv_init(&s);
	o.listen = "0.0.0.0:0";
	o.token = TOKEN;
	srv_start_ok(&s, &o);
	assert_true(s.port > 0);
	assert_int_equal(tcp_get(s.port, "/healthz", NULL, NULL), 200);
	srv_done(&s, true);
}

static void
status_needs_token(void **state)
{
	static const struct {
		const char	*path;
		const char	*headers;
		int		 status;
	} cases[] = {
		{ "/status", NULL, 403 },
		{ "/status", "Authorization: Bearer wrong\r\n", 403 },
		{ "/status", "Authorization: Bearer " TOKEN "x\r\n", 403 },
		{ "/status", "Authorization: Bearer s3cret\r\n", 403 },
		{ "/status", "Authorization: Basic " TOKEN "\r\n", 403 },
		{ "/status", "Authorization: Bearer " TOKEN "\r\n", 200 },
		{ "/status", "authorization: bearer " TOKEN "\r\n", 200 },
		{ "/healthz", NULL, 200 },
		{ "/metrics", NULL, 200 },
		{ "/nowhere", NULL, 404 },
		{ "/", "Authorization: Bearer " TOKEN "\r\n", 404 },
	};
	struct srv s;
	struct es_http_opts o = { .listen = "127.0.0.1:0", .token = TOKEN };
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	srv_init(&s);
	srv_start_ok(&s, &o);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got;

		es_buf_reset(&b);
		got = tcp_get(s.port, cases[i].path, cases[i].headers, &b);
		if (got != cases[i].status)
			fail_msg("%s with %s: %d, want %d", cases[i].path,
			    cases[i].headers != NULL ? cases[i].headers :
			    "nothing", got, cases[i].status);
		if (got == 403)
			assert_non_null(strstr(b.buf, "socket"));
		if (got != 200 || strcmp(cases[i].path, "/status") != 0)
			assert_null(strstr(b.buf, "/secret/root"));
		else
			assert_non_null(strstr(b.buf, "/secret/root"));
	}
	srv_done(&s, true);

	/* Without a token configured, TCP /status is 403 whatever is sent. */
	srv_init(&s);
	o.token = NULL;
	srv_start_ok(&s, &o);
	assert_int_equal(tcp_get(s.port, "/status", "Authorization: Bearer "
	    "\r\n", NULL), 403);
	assert_int_equal(tcp_get(s.port, "/status", "Authorization: Bearer "
	    TOKEN "\r\n", NULL), 403);
	srv_done(&s, true);
	es_buf_release(&b);
}

static void
bad_requests(void **state)
{
	struct srv s;
	struct es_http_opts o = { .listen = "127.0.0.1:0" };
	struct es_buf b = ES_BUF_INIT, req = ES_BUF_INIT;
	char *big;
	int code;

	(void)state;
	srv_init(&s);
	srv_start_ok(&s, &o);
	assert_int_equal(tcp_request(s.port, "PUT /healthz HTTP/1.1\r\n"
	    "Host: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", &b),
	    405);
	assert_non_null(strstr(b.buf, "Allow: GET, POST"));
	/* Refused before any handler sees it. */
	assert_int_equal(tcp_request(s.port, "PUT /echo HTTP/1.1\r\n"
	    "Host: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	    NULL), 405);
	assert_int_equal(tcp_request(s.port, "DELETE /status HTTP/1.1\r\n"
	    "Host: x\r\nConnection: close\r\n\r\n", NULL), 405);
	assert_int_equal(tcp_request(s.port, "BREW /healthz HTTP/1.1\r\n"
	    "Host: x\r\nConnection: close\r\n\r\n", NULL), 405);
	assert_int_equal(tcp_request(s.port, "GET /healthz HTTP/1.1\r\n"
	    "Bad header line\r\n\r\n", NULL), 400);
	/* Not HTTP at all: closed, with 400 or nothing. */
	code = tcp_request(s.port, "garbage\r\n\r\n", NULL);
	assert_true(code == 400 || code == -1);

	/* Headers: 6 KiB pass, 9 KiB are 431. */
	big = malloc(9 * 1024 + 1);
	memset(big, 'a', 9 * 1024);
	big[6 * 1024] = '\0';
	es_buf_addf(&req, "X-Big: %s\r\n", big);
	assert_int_equal(tcp_get(s.port, "/healthz", req.buf, NULL), 200);
	big[6 * 1024] = 'a';
	big[9 * 1024] = '\0';
	es_buf_reset(&req);
	es_buf_addf(&req, "X-Big: %s\r\n", big);
	assert_int_equal(tcp_get(s.port, "/healthz", req.buf, NULL), 431);
	free(big);

	/* Bodies: 64 KiB pass, past it 413 (announced or chunked). */
	big = malloc(65 * 1024 + 1);
	memset(big, 'b', 65 * 1024);
	es_buf_reset(&req);
	es_buf_addf(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
	    "%u\r\nConnection: close\r\n\r\n", 64 * 1024);
	es_buf_add(&req, big, 64 * 1024);
	es_buf_reset(&b);
	assert_int_equal(tcp_request(s.port, req.buf, &b), 200);
	assert_non_null(strstr(b.buf, "body_len=65536"));
	es_buf_reset(&req);
	es_buf_addf(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
	    "%u\r\nConnection: close\r\n\r\n", 65 * 1024);
	assert_int_equal(tcp_request(s.port, req.buf, NULL), 413);
	es_buf_reset(&req);
	es_buf_addstr(&req, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
	for (int i = 0; i < 5; i++) {
		es_buf_addf(&req, "%x\r\n", 16 * 1024);
		es_buf_add(&req, big, 16 * 1024);
		es_buf_addstr(&req, "\r\n");
	}
	es_buf_addstr(&req, "0\r\n\r\n");
	assert_int_equal(tcp_request(s.port, req.buf, NULL), 413);
	free(big);
	/* Still serving. */
	assert_int_equal(tcp_get(s.port, "/healthz", NULL, NULL), 200);
	srv_done(&s, true);
	es_buf_release(&b);
	es_buf_release(&req);
}

/*
 * A client trickling a byte every 200 ms is cut by the deadline, while
 * another client gets its answer at once.
 */
static void
slowloris_dropped(void **state)
{
	static const char trickle[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct srv s;
	struct es_http_opts o = { .listen = "127.0.0.1:0",
	    .deadline_ms = 1000 };
	int64_t t0, cut = -1, t;
	size_t sent = 0;
	bool asked = false;
	int fd;

	(void)state;
	srv_init(&s);
	o.socket_path = s.sock;
	srv_start_ok(&s, &o);
	fd = tcp_connect(s.port);
	t0 = mono_ms();
	while (sent < sizeof(trickle) - 1 && mono_ms() - t0 < 5000) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
		char c;

		if (send(fd, trickle + sent, 1, MSG_NOSIGNAL) != 1)
			break;
		sent++;
		/* Wait 200 ms for the next byte, or for the server to cut. */
		if (poll(&p, 1, 200) == 1 && recv(fd, &c, 1, 0) <= 0)
			break;
		if (!asked && mono_ms() - t0 >= 400) {
			/* Meanwhile others are answered promptly. */
			t = mono_ms();
			assert_int_equal(tcp_get(s.port, "/healthz", NULL,
			    NULL), 200);
			assert_true(mono_ms() - t < 500);
			asked = true;
		}
	}
	cut = mono_ms() - t0;
	close(fd);
	assert_true(asked);
	/* Cut after the deadline, well before 5 s (or the trickle's end). */
	if (cut < 900 || cut > 2500)
		fail_msg("the trickler ran %lld ms and sent %zu bytes",
		    (long long)cut, sent);
	srv_done(&s, true);
	assert_true(s.dropped >= 1);
}

/* More idle connections than allowed: the socket still answers. */
static void
idle_connections_leave_socket(void **state)
{
	struct srv s;
	struct es_http_opts o = { .listen = "127.0.0.1:0", .max_conns = 3,
	    .deadline_ms = 1500 };
	struct es_buf b = ES_BUF_INIT;
	int fds[5], fd;
	int64_t t;

	(void)state;
	srv_init(&s);
	o.socket_path = s.sock;
	srv_start_ok(&s, &o);
	/* Three taken, two more waiting in the backlog. */
	for (int i = 0; i < 5; i++)
		fds[i] = tcp_connect(s.port);
	t = mono_ms();
	assert_int_equal(unix_get(s.sock, "GET", "/healthz", &b), 200);
	assert_true(mono_ms() - t < 500);
	/* TCP is full: a new client waits... */
	fd = tcp_connect(s.port);
	assert_int_equal(send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", 53, MSG_NOSIGNAL), 53);
	/* ...until the deadline drops the idle ones. */
	assert_int_equal(read_answer(fd, 200, NULL), -2);
	assert_int_equal(read_answer(fd, 5000, NULL), 200);
	close(fd);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	srv_done(&s, true);
	assert_true(s.dropped >= 3);
	es_buf_release(&b);
}

static void
answered_later(void **state)
{
	struct srv s;
	struct es_http_opts o = { .listen = "127.0.0.1:0",
	    .deadline_ms = 1000 };
	struct es_buf b = ES_BUF_INIT;
	int fd;

	(void)state;
	srv_init(&s);
	o.socket_path = s.sock;
	srv_start_ok(&s, &o);
	assert_int_equal(tcp_get(s.port, "/later", NULL, &b), 200);
	assert_non_null(strstr(b.buf, "answered later"));
	es_buf_reset(&b);
	assert_int_equal(unix_get(s.sock, "GET", "/later", &b), 200);
	assert_non_null(strstr(b.buf, "answered later"));

	/* Put off past the deadline: not cut; answered 503 at the stop. */
	fd = tcp_connect(s.port);
	assert_int_equal(send(fd, "GET /never HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", 51, MSG_NOSIGNAL), 51);
	assert_int_equal(read_answer(fd, 1500, NULL), -2);
	uv_async_send(&s.stop);
	uv_thread_join(&s.thread);
	assert_int_equal(read_answer(fd, 2000, NULL), 503);
	close(fd);
	assert_int_equal(uv_loop_close(&s.loop), 0);
	es_test_rm_tree(s.dir);
	es_buf_release(&b);
}

static void
stale_and_live_socket(void **state)
{
	struct srv s, s2;
	struct es_http_opts o = { 0 };
	struct sockaddr_un sa;
	struct es_error err;
	struct es_buf b = ES_BUF_INIT;
	char *got;
	int fd;

	(void)state;
	/* A stale socket file (bound, nobody listening) is replaced. */
	srv_init(&s);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	o.socket_path = s.sock;
	srv_start_ok(&s, &o);
	assert_int_equal(unix_get(s.sock, "GET", "/healthz", &b), 200);

	/* A live one is another daemon's. */
	srv_init(&s2);
	o.socket_path = s.sock;
	assert_int_equal(srv_start(&s2, &o, &err), -1);
	assert_int_equal(err.code, ES_EBUSY);
	srv_done(&s2, false);
	/* and still answers. */
	es_buf_reset(&b);
	assert_int_equal(unix_get(s.sock, "GET", "/healthz", &b), 200);
	srv_done(&s, true);

	/* A file that is not a socket is left alone. */
	srv_init(&s);
	fd = open(s.sock, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	o.socket_path = s.sock;
	assert_int_equal(srv_start(&s, &o, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	got = NULL;
	{
		FILE *f = fopen(s.sock, "r");
		char buf[8] = { 0 };

		assert_non_null(f);
		assert_int_equal(fread(buf, 1, sizeof(buf), f), 4);
		fclose(f);
		got = buf;
		assert_string_equal(got, "keep");
	}
	srv_done(&s, false);
	es_buf_release(&b);
}

static void
unix_request_errors(void **state)
{
	struct srv s;
	struct sockaddr_un sa;
	struct es_error err;
	struct es_buf b = ES_BUF_INIT;
	int fd, status;
	int64_t t;

	(void)state;
	srv_init(&s);
	assert_int_equal(es_http_unix_request(s.sock, "GET", "/healthz", NULL,
	    1000, &status, &b, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ENOENT);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s.sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(es_http_unix_request(s.sock, "GET", "/healthz", NULL,
	    1000, &status, &b, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ECONNREFUSED);

	/* Listening, never answering: the timeout. */
	assert_int_equal(listen(fd, 4), 0);
	t = mono_ms();
	assert_int_equal(es_http_unix_request(s.sock, "GET", "/healthz", NULL,
	    300, &status, &b, &err), -1);
	assert_int_equal(err.sys, ETIMEDOUT);
	assert_true(mono_ms() - t >= 300 && mono_ms() - t < 2000);
	close(fd);
	srv_done(&s, false);
	es_buf_release(&b);
}

static void
socket_path_rules(void **state)
{
	char dir[64], root1[128], root2[128], rt[128], *p1, *p2, *p3;
	struct es_error err;
	struct stat st;
	const char *old = getenv("XDG_RUNTIME_DIR");
	char *saved = old != NULL ? strdup(old) : NULL;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/es-http-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(root1, sizeof(root1), "%s/a b/notes", dir);
	snprintf(root2, sizeof(root2), "%s/c/notes", dir);
	snprintf(rt, sizeof(rt), "%s/a b", dir);
	assert_int_equal(mkdir(rt, 0700), 0);
	assert_int_equal(mkdir(root1, 0700), 0);
	snprintf(rt, sizeof(rt), "%s/run", dir);
	assert_int_equal(mkdir(rt, 0700), 0);
	setenv("XDG_RUNTIME_DIR", rt, 1);

	p1 = es_http_socket_path(root1, true, &err);
	assert_non_null(p1);
	assert_int_equal(strncmp(p1, rt, strlen(rt)), 0);
	assert_non_null(strstr(p1, "/execsync/notes-"));
	assert_int_equal(strcmp(p1 + strlen(p1) - 5, ".sock"), 0);
	snprintf(rt, sizeof(rt), "%s/run/execsync", dir);
	assert_int_equal(lstat(rt, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Same root, same path (also by another spelling); others differ. */
	snprintf(rt, sizeof(rt), "%s/a b/../a b/notes/", dir);
	p2 = es_http_socket_path(rt, false, &err);
	assert_string_equal(p1, p2);
	p3 = es_http_socket_path(root2, false, &err);	/* missing root */
	assert_non_null(p3);
	assert_string_not_equal(p1, p3);
	free(p2);
	free(p3);

	/* A folder others can write to: refused, or made private. */
	snprintf(rt, sizeof(rt), "%s/run/execsync", dir);
	assert_int_equal(chmod(rt, 0777), 0);
	assert_null(es_http_socket_path(root1, false, &err));
	assert_int_equal(err.code, ES_EUNSAFE);
	p2 = es_http_socket_path(root1, true, &err);
	assert_string_equal(p1, p2);
	assert_int_equal(lstat(rt, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(p1);
	free(p2);

	/* A link in place of the folder is refused. */
	snprintf(rt, sizeof(rt), "%s/run/execsync", dir);
	assert_int_equal(es_test_rm_tree(rt), 0);
	assert_int_equal(symlink(dir, rt), 0);
	assert_null(es_http_socket_path(root1, true, &err));
	assert_int_equal(err.code, ES_EUNSAFE);

	if (saved != NULL)
		setenv("XDG_RUNTIME_DIR", saved, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(saved);
	es_test_rm_tree(dir);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(get_on_tcp_and_socket),
	cmocka_unit_test(tcp_off),
	cmocka_unit_test(port_in_use),
	cmocka_unit_test(non_loopback_needs_token),
	cmocka_unit_test(status_needs_token),
	cmocka_unit_test(bad_requests),
	cmocka_unit_test(slowloris_dropped),
	cmocka_unit_test(idle_connections_leave_socket),
	cmocka_unit_test(answered_later),
	cmocka_unit_test(stale_and_live_socket),
	cmocka_unit_test(unix_request_errors),
	cmocka_unit_test(socket_path_rules),
};

ES_TEST_MAIN(tests)
