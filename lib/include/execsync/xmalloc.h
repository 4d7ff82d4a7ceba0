/*
 * Allocation that cannot fail: on exhaustion (or a size that overflows) the
 * process prints one line and aborts. Input, files or the database can never
 * make these abort, because every size derived from them is bounded first
 * (max_file_size, document limits) before it reaches an allocation.
 */
#ifndef EXECSYNC_XMALLOC_H
#define EXECSYNC_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*es_xmalloc(size_t size);
void	*es_xcalloc(size_t nmemb, size_t size);
void	*es_xrealloc(void *ptr, size_t size);
/* realloc of nmemb * size with an overflow check before multiplying. */
void	*es_xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*es_xstrdup(const char *s);
/* Copies at most n bytes and NUL-terminates. */
char	*es_xstrndup(const char *s, size_t n);
/* Copies exactly n bytes and adds a NUL after them. */
char	*es_xmemdup(const void *p, size_t n);
char	*es_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char	*es_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
