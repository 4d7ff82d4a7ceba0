/*
 * The status endpoint seen from outside (daemon-wire.h): a checker of the
 * Prometheus text format and a small TCP client.
 */
#include "daemon-wire.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es-itest.h"
#include "execsync/xmalloc.h"

static bool
name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	    (!first && isdigit((unsigned char)c));
}

/* The family a sample belongs to, and whether TYPE named it. */
struct prom_family {
	char	 name[128];
	char	 type[32];
	bool	 inf;		/* a histogram's le="+Inf" bucket seen */
};

static struct prom_family *
prom_find(struct prom_family *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return &f[i];
	return NULL;
}

/*
 * Checks text against the Prometheus text format 0.0.4: NULL when it is
 * valid, else why (a static buffer) with the line.
 */
const char *
prom_check(const char *text)
{
	static char why[512];
	struct prom_family fam[128];
	size_t nfam = 0, lineno = 0;

	if (text[0] == '\0' || text[strlen(text) - 1] != '\n')
		return "not ended by a newline";
	for (const char *l = text; *l != '\0';) {
		const char *end = strchr(l, '\n');
		char line[1024], name[128], *p, *v;
		struct prom_family *f;
		size_t len = (size_t)(end - l), n = 0;
		double val;

		lineno++;
		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		l = end + 1;
		if (line[0] == '\0')
			continue;
		if (line[0] == '#') {
			char kw[8], fname[128], type[32];

			if (sscanf(line, "# %7s %127s %31s", kw, fname,
			    type) >= 2 && strcmp(kw, "TYPE") == 0) {
				if (strcmp(type, "counter") != 0 &&
				    strcmp(type, "gauge") != 0 &&
				    strcmp(type, "histogram") != 0 &&
				    strcmp(type, "summary") != 0 &&
				    strcmp(type, "untyped") != 0)
					goto bad;
				if (prom_find(fam, nfam, fname) != NULL ||
				    nfam == 128)
					goto bad;
				snprintf(fam[nfam].name, sizeof(fam[0].name),
				    "%s", fname);
				snprintf(fam[nfam].type, sizeof(fam[0].type),
				    "%s", type);
				fam[nfam++].inf = false;
			}
			continue;
		}
		for (p = line; name_char(*p, p == line); p++)
			if (n < sizeof(name) - 1)
				name[n++] = *p;
		name[n] = '\0';
		if (n == 0)
			goto bad;
		if (*p == '{') {
			for (p++; *p != '}';) {
				if (!name_char(*p, true) || *p == ':')
					goto bad;
				while (name_char(*p, false) && *p != ':')
					p++;
				if (p[0] != '=' || p[1] != '"')
					goto bad;
				for (p += 2; *p != '"'; p++) {
					if (*p == '\0')
						goto bad;
					if (*p == '\\' && (p[1] == '\\' ||
					    p[1] == '"' || p[1] == 'n'))
						p++;
					else if (*p == '\\')
						goto bad;
				}
				p++;
				if (*p == ',')
					p++;
				else if (*p != '}')
					goto bad;
			}
			p++;
		}
		if (*p++ != ' ')
			goto bad;
		if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 ||
		    strcmp(p, "NaN") == 0)
			val = 0;
		else {
			errno = 0;
			val = strtod(p, &v);
			if (v == p || errno != 0 || (*v != '\0' &&
			    (*v != ' ' || strspn(v + 1, "-0123456789") !=
			    strlen(v + 1))))
				goto bad;
		}
		if ((f = prom_find(fam, nfam, name)) == NULL) {
			/* A histogram's or summary's series. */
			static const char *const suf[] = { "_bucket", "_sum",
			    "_count" };

			for (size_t k = 0; k < 3 && f == NULL; k++) {
				size_t sl = strlen(suf[k]);

				if (n > sl && strcmp(name + n - sl, suf[k]) ==
				    0) {
					name[n - sl] = '\0';
					f = prom_find(fam, nfam, name);
					name[n - sl] = suf[k][0];
				}
			}
		}
		if (f == NULL) {
			snprintf(why, sizeof(why), "line %zu: '%.400s' has "
			    "no # TYPE before it", lineno, line);
			return why;
		}
		if (strcmp(f->type, "counter") == 0 && val < 0)
			goto bad;
		if (strstr(line, "le=\"+Inf\"") != NULL)
			f->inf = true;
		continue;
bad:
		snprintf(why, sizeof(why), "line %zu: malformed: '%.400s'",
		    lineno, line);
		return why;
	}
	for (size_t i = 0; i < nfam; i++)
		if (strcmp(fam[i].type, "histogram") == 0 && !fam[i].inf) {
			snprintf(why, sizeof(why), "histogram %s has no "
			    "le=\"+Inf\" bucket", fam[i].name);
			return why;
		}
	return NULL;
}

/* One request on TCP (raw bytes): the status, 0 closed with no answer. */
int
tcp_exchange(int port, const char *raw, size_t len, int timeout_ms,
    struct es_buf *ans)
{
	struct sockaddr_in a;
	int64_t deadline = es_itest_mono_ms() + timeout_ms;
	int fd, st = 0;
	char chunk[4096];

	es_buf_reset(ans);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1)
		fail_msg("connect 127.0.0.1:%d: %s", port, strerror(errno));
	(void)send(fd, raw, len, MSG_NOSIGNAL);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(deadline - es_itest_mono_ms());
		ssize_t r;

		if (left <= 0) {
			close(fd);
			return -1;
		}
		if (poll(&p, 1, left) <= 0)
			continue;
		if ((r = recv(fd, chunk, sizeof(chunk), 0)) <= 0)
			break;
		es_buf_add(ans, chunk, (size_t)r);
	}
	close(fd);
	es_buf_addstr(ans, "");
	if (ans->len > 12 && strncmp(ans->buf, "HTTP/1.", 7) == 0)
		st = atoi(ans->buf + 9);
	return st;
}

int
tcp_get(int port, const char *path, struct es_buf *ans)
{
	char *req = es_xasprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n", path);
	int st = tcp_exchange(port, req, strlen(req), 5000, ans);

	free(req);
	return st;
}

int
tcp_open_nb(int port)
{
	struct sockaddr_in a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fail_msg("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
		/* Refused at accept time is a fine answer too. */
		close(fd);
		return -1;
	}
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}
