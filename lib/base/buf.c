#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/xmalloc.h"

char es_buf_empty[1];

void
es_buf_init(struct es_buf *b, size_t hint)
{
	b->alloc = 0;
	b->len = 0;
	b->buf = es_buf_empty;
	if (hint)
		es_buf_grow(b, hint);
}

void
es_buf_release(struct es_buf *b)
{
	if (b->alloc)
		free(b->buf);
	es_buf_init(b, 0);
}

void
es_buf_grow(struct es_buf *b, size_t extra)
{
	size_t need, n;

	if (extra >= (size_t)-1 - b->len - 1)
		need = (size_t)-1; /* es_xrealloc reports it */
	else
		need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > ((size_t)-1) / 2 ? need : n * 2;
	if (b->alloc == 0) {
		b->buf = es_xmalloc(n);
		b->buf[0] = '\0';
	} else
		b->buf = es_xrealloc(b->buf, n);
	b->alloc = n;
}

void
es_buf_reset(struct es_buf *b)
{
	es_buf_setlen(b, 0);
}

void
es_buf_setlen(struct es_buf *b, size_t len)
{
	if (b->alloc == 0)
		return;
	if (len > b->len)
		len = b->len;
	b->len = len;
	b->buf[len] = '\0';
}

void
es_buf_add(struct es_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	es_buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void
es_buf_addstr(struct es_buf *b, const char *s)
{
	es_buf_add(b, s, strlen(s));
}

void
es_buf_addch(struct es_buf *b, int c)
{
	es_buf_grow(b, 1);
	b->buf[b->len++] = (char)c;
	b->buf[b->len] = '\0';
}

void
es_buf_vaddf(struct es_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	es_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->alloc - b->len) {
		es_buf_grow(b, (size_t)n);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
es_buf_addf(struct es_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	es_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *
es_buf_detach(struct es_buf *b, size_t *len_out)
{
	char *p;

	if (b->alloc == 0)
		es_buf_grow(b, 0);
	p = b->buf;
	if (len_out)
		*len_out = b->len;
	es_buf_init(b, 0);
	return p;
}

#define READ_CHUNK	((size_t)64 << 10)

int
es_buf_read_fd(struct es_buf *b, int fd, size_t max)
{
	size_t start = b->len, want;
	ssize_t r;

	for (;;) {
		if (b->len - start > max)
			return 1;
		if (b->alloc - b->len <= 1)
			es_buf_grow(b, READ_CHUNK);
		want = b->alloc - b->len - 1;
		if (want > max + 1 - (b->len - start))
			want = max + 1 - (b->len - start);
		r = read(fd, b->buf + b->len, want);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		b->len += (size_t)r;
		b->buf[b->len] = '\0';
	}
}

int
es_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
