/*
 * The config file's loader (SPEC §1), for config.c: a file is read with
 * libyaml's event parser, never split by hand, in three phases so that a
 * bad file changes nothing: (1) events -> entries (key, raw value, line),
 * checking the shape; (2) each raw value -> a parsed value, through the
 * key table's own parsing (config-internal.h); (3) store them all. Every
 * error names the file and the line libyaml would.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "execsync/buf.h"
#include "execsync/config.h"
#include "execsync/error.h"
#include "execsync/log.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#include "config-internal.h"

/*
 * Line breaks as libyaml counts them ("\n", "\r\n", a lone "\r", NEL, LS,
 * PS) in data[0..off), so a reader error's byte offset becomes the line
 * libyaml's other errors would name.
 */
static unsigned
breaks_before(const char *data, size_t off)
{
	const unsigned char *s = (const unsigned char *)data;
	unsigned n = 0;

	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n')
			n++;
		else if (s[i] == '\r') {
			n++;
			if (i + 1 < off && s[i + 1] == '\n')
				i++;
		} else if (s[i] == 0xc2 && i + 1 < off && s[i + 1] == 0x85) {
			n++;
			i++;
		} else if (s[i] == 0xe2 && i + 2 < off && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
			n++;
			i += 2;
		}
	}
	return n;
}

/* A file after phase 1: raw values with their lines. */
struct entry {
	size_t		 idx;
	unsigned	 line;
	char		*scalar;	/* NULL for a list */
	char		**list;
	unsigned	*lines;		/* of each list item */
	size_t		 nlist;
};

struct loader {
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	bool		 have_ev;
	const char	*name;
	const char	*data;
	size_t		 len;
	struct entry	 ent[ES_CONFIG_NKEYS];
	size_t		 nent;
	struct es_error	*err;
};

/*
 * libyaml's 0-based line as ours. At the end of the stream libyaml adds a
 * line break of its own, so an error there ("{" unclosed) can name the
 * line after the last one: that is the last line.
 */
static unsigned
fix_line(const struct loader *ld, size_t yaml_line)
{
	const unsigned char *end = (const unsigned char *)ld->data + ld->len;
	unsigned last = breaks_before(ld->data, ld->len);
	unsigned line = (unsigned)yaml_line + 1;

	if (ld->len == 0 || (end[-1] != '\n' && end[-1] != '\r' &&
	    !(ld->len >= 2 && end[-2] == 0xc2 && end[-1] == 0x85) &&
	    !(ld->len >= 3 && end[-3] == 0xe2 && end[-2] == 0x80 &&
	    (end[-1] == 0xa8 || end[-1] == 0xa9))))
		last++;		/* a last line without a break */
	if (last == 0)
		last = 1;
	if (line == last + 1)
		line = last;
	return line;
}

static unsigned
ev_line(const struct loader *ld)
{
	return fix_line(ld, ld->ev.start_mark.line);
}

static int
yaml_failed(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem != NULL ? p->problem : "error";
	unsigned line;

	switch (p->error) {
	case YAML_READER_ERROR:
		line = fix_line(ld, breaks_before(ld->data,
		    p->problem_offset < ld->len ? p->problem_offset : ld->len));
		if (p->problem_value >= 0)
			return es_error_set(ld->err, ES_ECONFIG, ld->name, line,
			    "bad YAML: %s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xff);
		return es_error_set(ld->err, ES_ECONFIG, ld->name, line,
		    "bad YAML: %s", problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		line = fix_line(ld, p->problem_mark.line);
		if (p->context != NULL)
			return es_error_set(ld->err, ES_ECONFIG, ld->name, line,
			    "bad YAML: %s (%s that starts on line %u)", problem,
			    p->context, fix_line(ld, p->context_mark.line));
		return es_error_set(ld->err, ES_ECONFIG, ld->name, line,
		    "bad YAML: %s", problem);
	default:
		return es_error_set(ld->err, ES_ECONFIG, ld->name,
		    fix_line(ld, p->problem_mark.line), "bad YAML: %s",
		    problem);
	}
}

/* The next event into ld->ev (the previous one freed). */
static int
next(struct loader *ld)
{
	if (ld->have_ev)
		yaml_event_delete(&ld->ev);
	ld->have_ev = false;
	if (!yaml_parser_parse(&ld->parser, &ld->ev))
		return yaml_failed(ld);
	ld->have_ev = true;
	return 0;
}

static const char *
ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:	return "a list";
	case YAML_MAPPING_START_EVENT:	return "a mapping";
	case YAML_ALIAS_EVENT:		return "an alias";
	case YAML_SCALAR_EVENT:		return "a string";
	default:			return "something else";
	}
}

/* A plain scalar YAML reads as null: "", "~", "null". */
static bool
is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* The scalar in ld->ev as a C string, checked; NULL with the error set. */
static char *
scalar(struct loader *ld, const char *key)
{
	const yaml_event_t *ev = &ld->ev;
	size_t len = ev->data.scalar.length;

	if (is_null(ev)) {
		es_error_set(ld->err, ES_ECONFIG, ld->name, ev_line(ld),
		    "no value for '%s' (remove the line to keep the default)",
		    key);
		return NULL;
	}
	if (memchr(ev->data.scalar.value, '\0', len) != NULL) {
		es_error_set(ld->err, ES_ECONFIG, ld->name, ev_line(ld),
		    "NUL byte in the value of '%s'", key);
		return NULL;
	}
	return es_xmemdup(ev->data.scalar.value, len);
}

static int
read_list(struct loader *ld, struct entry *e, const char *key)
{
	char *s;

	for (;;) {
		if (next(ld) != 0)
			return -1;
		if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (ld->ev.type != YAML_SCALAR_EVENT)
			return es_error_set(ld->err, ES_ECONFIG, ld->name,
			    ev_line(ld), "'%s' must be a list of strings "
			    "(got %s in it)", key, ev_kind(&ld->ev));
		if (e->nlist >= ES_CONFIG_IGNORE_MAX)
			return es_error_set(ld->err, ES_ECONFIG, ld->name,
			    ev_line(ld), "too many '%s' patterns (at most %d)",
			    key, ES_CONFIG_IGNORE_MAX);
		if ((s = scalar(ld, key)) == NULL)
			return -1;
		e->lines = es_xreallocarray(e->lines, e->nlist + 1,
		    sizeof(*e->lines));
		e->lines[e->nlist] = ev_line(ld);
		es__config_list_add(&e->list, &e->nlist, s);
	}
}

static int
read_mapping(struct loader *ld)
{
	const struct kdef *k;
	const char *key, *name;
	struct entry *e;
	unsigned line;
	char show[80];
	size_t len;
	int idx;

	for (;;) {
		if (next(ld) != 0)
			return -1;
		if (ld->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		line = ev_line(ld);
		if (ld->ev.type != YAML_SCALAR_EVENT)
			return es_error_set(ld->err, ES_ECONFIG, ld->name, line,
			    "keys must be plain names (got %s)",
			    ev_kind(&ld->ev));
		name = (const char *)ld->ev.data.scalar.value;
		len = ld->ev.data.scalar.length;
		if ((idx = es__config_find_key(name, len)) < 0)
			return es__config_unknown_key(name, len, ld->name,
			    line, ld->err);
		k = es__config_kdef((size_t)idx);
		key = k->pub.name;
		for (size_t i = 0; i < ld->nent; i++)
			if (ld->ent[i].idx == (size_t)idx)
				return es_error_set(ld->err, ES_ECONFIG,
				    ld->name, line, "duplicate key '%s' (first "
				    "on line %u)", key, ld->ent[i].line);
		e = &ld->ent[ld->nent++];
		e->idx = (size_t)idx;
		e->line = line;

		if (next(ld) != 0)
			return -1;
		switch (ld->ev.type) {
		case YAML_SCALAR_EVENT:
			if ((e->scalar = scalar(ld, key)) == NULL)
				return -1;
			if (k->type == K_LIST)
				return es_error_set(ld->err, ES_ECONFIG,
				    ld->name, ev_line(ld), "'%s' must be a "
				    "list of patterns (got a single string; "
				    "write %s: ['%s'])", key, key,
				    es__config_shown(NULL, e->scalar, show,
				    sizeof(show)));
			break;
		case YAML_SEQUENCE_START_EVENT:
			if (k->type != K_LIST)
				return es_error_set(ld->err, ES_ECONFIG,
				    ld->name, ev_line(ld), "'%s' must be a "
				    "single value (got a list)", key);
			if (read_list(ld, e, key) != 0)
				return -1;
			break;
		case YAML_ALIAS_EVENT:
			return es_error_set(ld->err, ES_ECONFIG, ld->name,
			    ev_line(ld), "YAML aliases are not supported "
			    "(value of '%s')", key);
		default:
			return es_error_set(ld->err, ES_ECONFIG, ld->name,
			    ev_line(ld), "'%s' must be %s (got %s)", key,
			    k->type == K_LIST ? "a list of patterns" :
			    "a single value", ev_kind(&ld->ev));
		}
	}
}

/* Phase 1: the events of the whole stream into ld->ent. */
static int
read_stream(struct loader *ld)
{
	if (next(ld) != 0)		/* STREAM-START */
		return -1;
	if (next(ld) != 0)
		return -1;
	if (ld->ev.type == YAML_STREAM_END_EVENT)
		return 0;		/* empty, or only comments */
	if (next(ld) != 0)		/* after DOCUMENT-START */
		return -1;
	switch (ld->ev.type) {
	case YAML_MAPPING_START_EVENT:
		if (read_mapping(ld) != 0)
			return -1;
		break;
	case YAML_SCALAR_EVENT:
		if (is_null(&ld->ev))
			break;		/* "---" alone */
		/* FALLTHROUGH */
	default:
		return es_error_set(ld->err, ES_ECONFIG, ld->name, ev_line(ld),
		    "the configuration must be a mapping of keys to values "
		    "(got %s)", ev_kind(&ld->ev));
	}
	if (next(ld) != 0)		/* DOCUMENT-END */
		return -1;
	if (next(ld) != 0)
		return -1;
	if (ld->ev.type != YAML_STREAM_END_EVENT)
		return es_error_set(ld->err, ES_ECONFIG, ld->name, ev_line(ld),
		    "only one YAML document is allowed (a second starts here)");
	return 0;
}

int
es_config_load_buffer(struct es_config *c, const char *data, size_t len,
    const char *name, struct es_error *err)
{
	struct loader ld;
	struct kval vals[ES_CONFIG_NKEYS];
	size_t nvals = 0;
	char origin[PATH_MAX + 16];
	int rc = -1;

	memset(&ld, 0, sizeof(ld));
	memset(vals, 0, sizeof(vals));
	if (data == NULL)
		data = "";
	ld.name = name;
	ld.data = data;
	ld.len = len;
	ld.err = err;
	/*
	 * libyaml would decode UTF-16 by its byte order mark; we promise
	 * UTF-8 and libyaml's line numbers, so refuse it plainly.
	 */
	if (len >= 2 && (((unsigned char)data[0] == 0xff &&
	    (unsigned char)data[1] == 0xfe) || ((unsigned char)data[0] ==
	    0xfe && (unsigned char)data[1] == 0xff)))
		return es_error_set(err, ES_ECONFIG, name, 1,
		    "the file is UTF-16: save it as UTF-8");
	if (!yaml_parser_initialize(&ld.parser))
		return es_error_set(err, ES_ECONFIG, name, 1,
		    "cannot start the YAML parser");
	yaml_parser_set_encoding(&ld.parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)data,
	    len);
	if (read_stream(&ld) != 0)
		goto out;

	/* Phase 2: every value checked before anything changes. */
	for (nvals = 0; nvals < ld.nent; nvals++) {
		struct entry *e = &ld.ent[nvals];
		const struct kdef *k = es__config_kdef(e->idx);
		struct kval *v = &vals[nvals];

		if (e->scalar != NULL) {
			if (es__config_parse_value(k, e->scalar, v, name,
			    e->line, err) != 0)
				goto out;
			continue;
		}
		memset(v, 0, sizeof(*v));
		for (size_t i = 0; i < e->nlist; i++) {
			struct kval one;

			if (e->list[i][0] == '\0') {
				es_error_set(err, ES_ECONFIG, name, e->lines[i],
				    "empty pattern in '%s'", k->pub.name);
				goto out;
			}
			if (es__config_parse_value(k, e->list[i], &one, name,
			    e->lines[i], err) != 0)
				goto out;
			es__config_list_add(&v->list, &v->nlist, one.list[0]);
			free(one.list);
		}
	}

	/* Phase 3. */
	for (size_t i = 0; i < ld.nent; i++) {
		snprintf(origin, sizeof(origin), "%s:%u", name, ld.ent[i].line);
		es__config_store(c, ld.ent[i].idx, &vals[i], origin, false);
	}
	rc = 0;
out:
	/* Stored values were taken; the rest were never stored. */
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++)
		es__config_kval_release(&vals[i]);
	for (size_t i = 0; i < ld.nent; i++) {
		free(ld.ent[i].scalar);
		es__config_free_list(ld.ent[i].list, ld.ent[i].nlist);
		free(ld.ent[i].lines);
	}
	if (ld.have_ev)
		yaml_event_delete(&ld.ev);
	yaml_parser_delete(&ld.parser);
	return rc;
}

/* Whether key's value came from the file path (origin "path:line"). */
static bool
from_file(const struct es_config *c, const char *key, const char *path)
{
	const char *o = es_config_origin(c, key);
	size_t n = strlen(path);

	return o != NULL && strncmp(o, path, n) == 0 && o[n] == ':';
}

/*
 * What a file's values mean beyond themselves (issue 18): a relative
 * source is relative to the file's folder, not to where the program
 * runs; a file holding a password that others may read gets a warning.
 */
static void
after_file(struct es_config *c, const char *path, mode_t mode)
{
	const char *slash;
	char *abs;

	if (from_file(c, "mongodb_uri", path) && (mode & 077) != 0 &&
	    es_uri_has_password(c->mongodb_uri))
		es_log(ES_LOG_WARN, "config", "%s: holds a password and other "
		    "users may read it (mode %03o): chmod 600 %s", path,
		    (unsigned)(mode & 0777), path);
	if (!from_file(c, "source", path) || c->source == NULL ||
	    c->source[0] == '/' || c->source[0] == '~' ||
	    (slash = strrchr(path, '/')) == NULL)
		return;
	abs = es_xasprintf("%.*s/%s", (int)(slash - path), path, c->source);
	free(c->source);
	c->source = abs;
}

int
es_config_load_file(struct es_config *c, const char *path, bool explicit,
    struct es_error *err)
{
	struct es_buf b = ES_BUF_INIT;
	struct stat st;
	int fd, e, r, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		if (e == ENOENT && !explicit)
			return 0;	/* the default file is optional */
		return es_error_set_sys(err, e, path,
		    "cannot open the config file");
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		es_error_set_sys(err, e, path, "cannot stat the config file");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		es_error_set(err, ES_ECONFIG, path, 0, "not a regular file");
		goto out;
	}
	if ((r = es_buf_read_fd(&b, fd, ES_CONFIG_FILE_MAX)) == -1) {
		es_error_set_sys(err, errno, path,
		    "cannot read the config file");
		goto out;
	}
	if (r == 1) {
		es_error_set(err, ES_ELIMIT, path, 0, "the config file "
		    "is larger than %d bytes", ES_CONFIG_FILE_MAX);
		goto out;
	}
	if ((rc = es_config_load_buffer(c, b.buf, b.len, path, err)) == 0)
		after_file(c, path, st.st_mode);
out:
	close(fd);
	es_buf_release(&b);
	return rc;
}

