#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

static void __attribute__((noreturn))
out_of_memory(size_t size)
{
	fprintf(stderr, "execsync: fatal: out of memory allocating %zu bytes\n",
	    size);
	abort();
}

void *
es_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
es_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(nmemb * size);
	return p;
}

void *
es_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
es_xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	return es_xrealloc(ptr, nmemb * size);
}

char *
es_xstrdup(const char *s)
{
	return es_xmemdup(s, strlen(s));
}

char *
es_xstrndup(const char *s, size_t n)
{
	return es_xmemdup(s, strnlen(s, n));
}

char *
es_xmemdup(const void *p, size_t n)
{
	char *s;

	if (n == SIZE_MAX)
		out_of_memory(n);
	s = es_xmalloc(n + 1);
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *
es_xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		out_of_memory(0);
	return s;
}

char *
es_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = es_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
