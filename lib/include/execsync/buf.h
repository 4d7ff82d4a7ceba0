/*
 * A growable byte buffer (after git's strbuf).
 *
 * Invariants: after es_buf_init() (or ES_BUF_INIT) buf is never NULL; buf[len]
 * is always '\0', so the bytes can be used as a C string when they hold no
 * NUL; alloc > len unless alloc == 0 (then buf points at a shared empty
 * string and must not be written). Grow only through these functions. File
 * content is bytes plus len: a NUL inside is data, never a terminator.
 */
#ifndef EXECSYNC_BUF_H
#define EXECSYNC_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct es_buf {
	size_t	 alloc;
	size_t	 len;
	char	*buf;
};

extern char es_buf_empty[];
#define ES_BUF_INIT { 0, 0, es_buf_empty }

void	es_buf_init(struct es_buf *b, size_t hint);
/* Frees the bytes and leaves b as after es_buf_init(b, 0). */
void	es_buf_release(struct es_buf *b);
/* Makes room for at least extra more bytes (plus the NUL). */
void	es_buf_grow(struct es_buf *b, size_t extra);
/* Length to 0, keeping the allocation. */
void	es_buf_reset(struct es_buf *b);
/* Sets len (<= current len) and writes the NUL. */
void	es_buf_setlen(struct es_buf *b, size_t len);
void	es_buf_add(struct es_buf *b, const void *data, size_t len);
void	es_buf_addstr(struct es_buf *b, const char *s);
void	es_buf_addch(struct es_buf *b, int c);
void	es_buf_addf(struct es_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	es_buf_vaddf(struct es_buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/*
 * Hands the bytes to the caller (free() them) and leaves b empty and
 * initialised. *len_out gets the length when not NULL. Never returns NULL.
 */
char	*es_buf_detach(struct es_buf *b, size_t *len_out);

/*
 * Appends what fd gives until end of file, reading at most max + 1 bytes
 * so that a file larger than max is seen without reading it all (EINTR is
 * retried). Returns 0 at end of file, 1 when more than max bytes came
 * (b->len is then max + 1), or -1 with errno set.
 */
int	es_buf_read_fd(struct es_buf *b, int fd, size_t max);

/*
 * Writes all n bytes of p to fd (EINTR and short writes retried): 0, or
 * -1 with errno set.
 */
int	es_write_all(int fd, const void *p, size_t n);

#endif
