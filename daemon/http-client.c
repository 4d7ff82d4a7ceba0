/*
 * The client side of the status endpoint (http.h): where a root's daemon
 * listens (es_http_socket_path) and one request to it over its socket
 * (es_http_unix_request), for execsyncd --status and --once handed over.
 * Blocking, with a deadline: never called on the daemon's loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uv.h>
#include <xxhash.h>

#include "execsync/xmalloc.h"
#include "http-internal.h"
#include "http.h"

#define ANSWER_MAX	(64u * 1024 * 1024)	/* an answer, at most */

int64_t
es__http_now_ms(void)
{
	return (int64_t)(uv_hrtime() / 1000000);
}

int
es__http_sockaddr(struct sockaddr_un *sa, const char *path,
    struct es_error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return es_error_set(err, ES_ECONFIG, path, 0, "socket path "
		    "longer than %zu bytes", sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* The folder of the sockets, checked (and made when mk): 0 or -1. */
static int
socket_dir(const char *dir, bool mk, struct es_error *err)
{
	struct stat st;

	if (mk && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return es_error_set_sys(err, errno, dir, "cannot make the "
		    "socket folder");
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT && !mk)
			return 0;	/* no daemon there: connect says so */
		return es_error_set_sys(err, errno, dir, "cannot stat");
	}
	if (!S_ISDIR(st.st_mode))
		return es_error_set(err, ES_EUNSAFE, dir, 0, "not a folder "
		    "(a link?): refused as the socket folder");
	if (st.st_uid != geteuid())
		return es_error_set(err, ES_EUNSAFE, dir, 0, "owned by uid "
		    "%u, not by this user: refused as the socket folder",
		    (unsigned)st.st_uid);
	if ((st.st_mode & 077) == 0)
		return 0;
	if (!mk)	/* others could have put a socket there */
		return es_error_set(err, ES_EUNSAFE, dir, 0, "mode %03o, not "
		    "private (0700): refused as the socket folder",
		    (unsigned)(st.st_mode & 0777));
	if (chmod(dir, 0700) != 0)
		return es_error_set_sys(err, errno, dir, "cannot make it "
		    "private (0700)");
	return 0;
}

char *
es_http_socket_path(const char *root, bool mk, struct es_error *err)
{
	char real[PATH_MAX], name[48], *dir, *path;
	const char *rt = getenv("XDG_RUNTIME_DIR"), *base;
	struct sockaddr_un sa;
	size_t n = 0;

	if (realpath(root, real) == NULL) {
		/* A missing root still has its daemon: the path as given. */
		if (root[0] != '/' || strlen(root) >= sizeof(real)) {
			es_error_set_sys(err, errno, root, "cannot resolve");
			return NULL;
		}
		snprintf(real, sizeof(real), "%s", root);
	}
	base = strrchr(real, '/');
	base = base != NULL ? base + 1 : real;
	for (; *base != '\0' && n < 24; base++)
		name[n++] = (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *base) != NULL) ?
		    *base : '_';
	if (n == 0)
		name[n++] = 'r';
	snprintf(name + n, sizeof(name) - n, "-%016llx",
	    (unsigned long long)XXH64(real, strlen(real), 0));

	if (rt != NULL && rt[0] == '/') {
		dir = es_xasprintf("%s/execsync", rt);
	} else
		dir = es_xasprintf("/tmp/execsync-%u", (unsigned)geteuid());
	if (socket_dir(dir, mk, err) != 0) {
		free(dir);
		return NULL;
	}
	path = es_xasprintf("%s/%s.sock", dir, name);
	free(dir);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		es_error_set(err, ES_ECONFIG, path, 0, "socket path longer "
		    "than %zu bytes (set a shorter XDG_RUNTIME_DIR)",
		    sizeof(sa.sun_path) - 1);
		free(path);
		return NULL;
	}
	return path;
}

/* Milliseconds left until deadline (-1: none), 0 when passed. */
static int
left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - es__http_now_ms();
	return left > 0 ? (int)left : 0;
}

/* Waits for events on fd: 1 ready, 0 timed out, -1 errno. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, left_ms(deadline));
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* The answer's body from raw bytes after the head: Content-Length or EOF. */
static int
parse_answer(const struct es_buf *raw, int *status, struct es_buf *answer,
    const char *spath, struct es_error *err)
{
	const char *end, *p, *cl = NULL;
	size_t head, blen;

	if (raw->len < 12 || strncmp(raw->buf, "HTTP/1.", 7) != 0 ||
	    raw->buf[8] != ' ' || (end = strstr(raw->buf, "\r\n\r\n")) == NULL)
		return es_error_set(err, ES_EIO, spath, 0, "not an HTTP "
		    "answer");
	*status = atoi(raw->buf + 9);
	head = (size_t)(end - raw->buf) + 4;
	for (p = strstr(raw->buf, "\r\n"); p != NULL && p < end;
	    p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
			cl = p + 17;
		if (strncasecmp(p + 2, "Transfer-Encoding:", 18) == 0)
			return es_error_set(err, ES_EIO, spath, 0, "a chunked "
			    "answer (not expected from the daemon)");
	}
	blen = raw->len - head;
	if (cl != NULL) {
		unsigned long long want = strtoull(cl, NULL, 10);

		if (want > blen)
			return es_error_set(err, ES_EIO, spath, 0, "the "
			    "answer was cut short");
		blen = (size_t)want;
	}
	es_buf_add(answer, raw->buf + head, blen);
	return 0;
}

int
es_http_unix_request(const char *spath, const char *method, const char *path,
    const char *body, int timeout_ms, int *status, struct es_buf *answer,
    struct es_error *err)
{
	struct es_buf req = ES_BUF_INIT, raw = ES_BUF_INIT;
	struct sockaddr_un sa;
	struct timeval tv;
	char chunk[8192];
	int64_t deadline = timeout_ms > 0 ? es__http_now_ms() + timeout_ms : -1;
	size_t off = 0;
	ssize_t n;
	int fd = -1, rc = -1, e;

	if (es__http_sockaddr(&sa, spath, err) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return es_error_set_sys(err, errno, spath, "socket");
	if (timeout_ms > 0) {	/* connect waits on a full backlog */
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		es_error_set_sys(err, e == EAGAIN ? ETIMEDOUT : e, spath,
		    "cannot connect to the daemon");
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		es_error_set_sys(err, errno, spath, "fcntl");
		goto out;
	}
	es_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n", method, path);
	if (body != NULL)
		es_buf_addf(&req, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n", strlen(body));
	es_buf_addstr(&req, "\r\n");
	if (body != NULL)
		es_buf_addstr(&req, body);
	while (off < req.len) {
		n = send(fd, req.buf + off, req.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			es_error_set_sys(err, errno, spath, "cannot send");
			goto out;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline)) <= 0) {
			es_error_set_sys(err, rc == 0 ? ETIMEDOUT : errno,
			    spath, "cannot send");
			rc = -1;
			goto out;
		}
		rc = -1;
	}
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == 0)
			break;
		if (n > 0) {
			es_buf_add(&raw, chunk, (size_t)n);
			if (raw.len > ANSWER_MAX) {
				es_error_set(err, ES_ELIMIT, spath, 0, "the "
				    "answer is over %u bytes", ANSWER_MAX);
				goto out;
			}
			continue;
		}
		if (errno != EAGAIN && errno != EINTR) {
			es_error_set_sys(err, errno, spath, "cannot read");
			goto out;
		}
		if ((rc = wait_fd(fd, POLLIN, deadline)) <= 0) {
			es_error_set_sys(err, rc == 0 ? ETIMEDOUT : errno,
			    spath, "no answer from the daemon");
			rc = -1;
			goto out;
		}
		rc = -1;
	}
	rc = parse_answer(&raw, status, answer, spath, err);
out:
	if (fd >= 0)
		close(fd);
	es_buf_release(&req);
	es_buf_release(&raw);
	return rc;
}
