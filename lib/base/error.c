#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "execsync/error.h"

void
es_error_clear(struct es_error *err)
{
	err->code = ES_OK;
	err->sys = 0;
	err->line = 0;
	err->path[0] = '\0';
	err->msg[0] = '\0';
}

static void
set_path(struct es_error *err, const char *path)
{
	if (path == NULL)
		err->path[0] = '\0';
	else
		snprintf(err->path, sizeof(err->path), "%s", path);
}

int
es_error_set(struct es_error *err, enum es_errcode code, const char *path,
    unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	err->sys = 0;
	err->line = line;
	set_path(err, path);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
es_error_set_sys(struct es_error *err, int sys, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (err == NULL)
		return -1;
	err->code = ES_EIO;
	err->sys = sys;
	err->line = 0;
	set_path(err, path);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s",
		    strerror(sys));
	return -1;
}

const char *
es_error_format(const struct es_error *err, char *out, unsigned long size)
{
	if (size == 0)
		return out;
	if (err->path[0] != '\0' && err->line > 0)
		snprintf(out, size, "%s:%u: %s", err->path, err->line,
		    err->msg);
	else if (err->path[0] != '\0')
		snprintf(out, size, "%s: %s", err->path, err->msg);
	else
		snprintf(out, size, "%s", err->msg);
	return out;
}

void
es_error_shown(const char *s, unsigned long len, char *out,
    unsigned long outsz)
{
	unsigned long n = 0;

	for (unsigned long i = 0; i < len && n + 4 < outsz; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[n++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (n + 4 >= outsz && outsz > 4) {
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n] = '\0';
}

const char *
es_errcode_name(enum es_errcode code)
{
	switch (code) {
	case ES_OK:		return "ok";
	case ES_EPARSE:		return "parse";
	case ES_EIO:		return "io";
	case ES_EDB:		return "database";
	case ES_ELIMIT:		return "limit";
	case ES_EUNSAFE:	return "unsafe";
	case ES_ECONFIG:	return "config";
	case ES_EUSAGE:		return "usage";
	case ES_ECONFLICT:	return "conflict";
	case ES_EBUSY:		return "busy";
	}
	return "unknown";
}
