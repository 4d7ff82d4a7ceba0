#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "execsync/error.h"

void
es_error_clear(struct es_error *err)
{
	err->code = ES_OK;
	err->problem = ES_PROB_NONE;
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
	err->problem = ES_PROB_NONE;
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
	err->problem = ES_PROB_NONE;
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

/*
 * The problem codes (SPEC §1, issue 18): one row each, its word in the
 * --json output and the man pages, the es_errcode it carries, its meaning.
 * The words are stable: never rename one, add new rows at the end.
 */
static const struct {
	const char	*name;
	enum es_errcode	 code;
	const char	*meaning;
} problems[ES_PROB_COUNT] = {
	[ES_PROB_NONE] = { "other", ES_EPARSE, "not classified" },
	[ES_PROB_BAD_YAML] = { "bad-yaml", ES_EPARSE,
	    "the frontmatter is not valid YAML, or uses a YAML feature "
	    "execsync does not read (aliases, tags, nested lists)" },
	[ES_PROB_BAD_DATE] = { "bad-date", ES_EPARSE,
	    "a date that is not YYYY-MM-DD, or out of range" },
	[ES_PROB_UNKNOWN_VALUE] = { "unknown-value", ES_EPARSE,
	    "a value outside its list (a project type, a state, a "
	    "priority)" },
	[ES_PROB_BAD_UTF8] = { "bad-utf8", ES_EPARSE,
	    "the file is not valid UTF-8" },
	[ES_PROB_NUL_BYTE] = { "nul-byte", ES_EPARSE,
	    "a NUL byte in a file, a key or a value" },
	[ES_PROB_TOO_LARGE] = { "too-large", ES_ELIMIT,
	    "a file over max_file_size, a value or a name over its limit" },
	[ES_PROB_CONFLICT_MARKERS] = { "conflict-markers", ES_EPARSE,
	    "unresolved git conflict markers (<<<<<<<, =======, >>>>>>>)" },
	[ES_PROB_BAD_DOCUMENT] = { "bad-document", ES_EPARSE,
	    "a database document with a missing or mistyped field" },
	[ES_PROB_UNSAFE_PATH] = { "unsafe-path", ES_EUNSAFE,
	    "a path or name (slug, area, context) that would leave the "
	    "root" },
	[ES_PROB_SYMLINK] = { "symlink", ES_EUNSAFE,
	    "a symbolic link, never followed" },
	[ES_PROB_MISSING_FIELD] = { "missing-field", ES_EPARSE,
	    "a required field is missing (a file's title)" },
	[ES_PROB_BAD_ACTION] = { "bad-action", ES_EPARSE,
	    "an action line that does not read (no text, a bad context, "
	    "project or token)" },
	[ES_PROB_BAD_FRONTMATTER] = { "bad-frontmatter", ES_EPARSE,
	    "the frontmatter is not closed or not a mapping of keys" },
	[ES_PROB_BAD_VALUE] = { "bad-value", ES_EPARSE,
	    "a value of the wrong shape (a list where one value is "
	    "wanted, a number out of range)" },
	[ES_PROB_NOT_WRITTEN] = { "not-written", ES_ELIMIT,
	    "a file that would be written over a limit: left as it is" },
	[ES_PROB_SLUG_TAKEN] = { "slug-taken", ES_ECONFLICT,
	    "documents share a slug (left alone until one has it), or a "
	    "slug another document holds could not be given up" },
	[ES_PROB_IO] = { "io", ES_EIO,
	    "a system call failed on this item (permissions, disk)" },
	[ES_PROB_DATABASE] = { "database", ES_EDB,
	    "the database refused this item's write" },
	[ES_PROB_CONFLICT] = { "conflict", ES_ECONFLICT,
	    "both sides changed the item: resolved by the conflict policy, "
	    "the losing version kept" },
	[ES_PROB_OTHER] = { "other", ES_EPARSE,
	    "any other problem with one item" },
};

int
es_problem_set(struct es_error *err, enum es_problem prob, const char *path,
    unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	if ((unsigned)prob >= ES_PROB_COUNT)
		prob = ES_PROB_OTHER;
	err->code = problems[prob].code;
	err->problem = prob;
	err->sys = 0;
	err->line = line;
	set_path(err, path);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

enum es_problem
es_problem_of(const struct es_error *err)
{
	if (err->problem > ES_PROB_NONE && err->problem < ES_PROB_COUNT)
		return err->problem;
	switch (err->code) {
	case ES_ELIMIT:		return ES_PROB_TOO_LARGE;
	case ES_EUNSAFE:	return ES_PROB_UNSAFE_PATH;
	case ES_EIO:		return ES_PROB_IO;
	case ES_EDB:		return ES_PROB_DATABASE;
	case ES_ECONFLICT:	return ES_PROB_CONFLICT;
	default:		return ES_PROB_OTHER;
	}
}

const char *
es_problem_name(enum es_problem prob)
{
	if ((unsigned)prob >= ES_PROB_COUNT)
		return "other";
	return problems[prob].name;
}

const char *
es_problem_meaning(enum es_problem prob)
{
	if ((unsigned)prob >= ES_PROB_COUNT)
		prob = ES_PROB_OTHER;
	return problems[prob].meaning;
}

int
es_exit_status(enum es_errcode code)
{
	switch (code) {
	case ES_OK:
		return ES_EXIT_OK;
	case ES_EDB:
	case ES_EBUSY:
	case ES_ECONFLICT:
		return ES_EXIT_TEMP;
	case ES_EPARSE:
	case ES_EIO:
	case ES_ELIMIT:
	case ES_EUNSAFE:
	case ES_ECONFIG:
	case ES_EUSAGE:
		return ES_EXIT_CONFIG;
	}
	return ES_EXIT_CONFIG;
}
