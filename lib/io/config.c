/*
 * Configuration (SPEC §1). One table, keys[], drives the file keys, the
 * flags, validation, the defaults and --help, so they cannot drift apart.
 * This file holds the table, what a value of each type must be (parsing
 * and checking), storing a value with its origin, and the flags, the
 * environment and the final checks. The config file's loader, which reads
 * through these, is config-file.c (private header config-internal.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/cli.h"
#include "execsync/config.h"
#include "execsync/error.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#include "config-internal.h"

#define F(field)	offsetof(struct es_config, field)

/* Keep in the order of struct es_config; config.h documents each key. */
static const struct kdef keys[ES_CONFIG_NKEYS] = {
	{ { "source", "--source", "DIR", NULL,
	    "the folder to sync" },
	    K_PATH, F(source), 0, 0, "a folder" },
	{ { "mongodb_uri", "--mongodb-uri", "URI", NULL,
	    "MongoDB connection string (also EXECSYNC_MONGODB_URI)" },
	    K_URI, F(mongodb_uri), 0, 0,
	    "a mongodb:// or mongodb+srv:// URI" },
	{ { "database", "--database", "NAME", "execution_system",
	    "database name" },
	    K_DBNAME, F(database), 0, 0,
	    "a database name of at most 63 bytes without / \\ . \" $, space "
	    "or control characters" },
	{ { "user_id", "--user-id", "ID", NULL,
	    "whose documents to sync (their user_id field)" },
	    K_STRING, F(user_id), 0, 0,
	    "a user id of at most 256 bytes without control characters" },
	{ { "status_listen", "--status-listen", "HOST:PORT", "127.0.0.1:8765",
	    "address of the HTTP status endpoint" },
	    K_LISTEN, F(status_listen), 0, 0, "host:port or [ipv6]:port" },
	{ { "status_token", "--status-token", "TOKEN", NULL,
	    "bearer token for /status over TCP (required off loopback)" },
	    K_TOKEN, F(status_token), 0, 0,
	    "printable ASCII without spaces, at most 1024 bytes" },
	{ { "debounce_ms", "--debounce-ms", "MS", "100",
	    "wait this long after a file event before syncing" },
	    K_UINT, F(debounce_ms), 0, 600000, "milliseconds" },
	{ { "poll_ms", "--poll-ms", "MS", "2000",
	    "look for database changes this often" },
	    K_UINT, F(poll_ms), 50, 86400000, "milliseconds" },
	{ { "full_pass_s", "--full-pass-s", "SECONDS", "600",
	    "full pass this often (0: never)" },
	    K_UINT, F(full_pass_s), 0, 604800, "seconds" },
	{ { "conflict", "--conflict", "POLICY", "newest",
	    "who wins a conflict: newest, file or database" },
	    K_CONFLICT, F(conflict), 0, 0, "newest, file or database" },
	{ { "max_delete", "--max-delete", "PCT", "50",
	    "refuse a pass that deletes more than this percent of a "
	    "collection" },
	    K_UINT, F(max_delete), 0, 100, "percent" },
	{ { "max_file_size", "--max-file-size", "SIZE", "8 MiB",
	    "skip larger files (bytes, or with K/KiB, M/MiB, G/GiB)" },
	    K_SIZE, F(max_file_size), 1, ES_CONFIG_MAX_FILE_SIZE_LIMIT,
	    "bytes or a size like '8 MiB' (units B, K, KiB, M, MiB, G, GiB)" },
	{ { "ignore", "--ignore", "GLOB", NULL,
	    "glob pattern, relative to the root, of files to leave alone "
	    "(repeatable)" },
	    K_LIST, F(ignore), 0, 0, "a list of glob patterns" },
	{ { "log_format", "--log-format", "FORMAT", "text",
	    "log lines on stderr: text, or json (one object a line)" },
	    K_LOGFMT, F(log_json), 0, 0, "text or json" },
};

const struct kdef *
es__config_kdef(size_t idx)
{
	return &keys[idx];
}

void
es__config_kval_release(struct kval *v)
{
	free(v->s);
	for (size_t i = 0; i < v->nlist; i++)
		free(v->list[i]);
	free(v->list);
	memset(v, 0, sizeof(*v));
}

void
es__config_list_add(char ***list, size_t *n, char *s)
{
	*list = es_xreallocarray(*list, *n + 2, sizeof(**list));
	(*list)[(*n)++] = s;
	(*list)[*n] = NULL;
}

/*
 * A value as messages show it: at most 60 bytes, control characters as
 * '?', so a message stays one line. The URI redacted first (SPEC §4.11).
 */
const char *
es__config_shown(const struct kdef *k, const char *v, char *out, size_t size)
{
	char *red = NULL;
	size_t n, i;

	if (k != NULL && k->type == K_URI)
		v = red = es_uri_redact(v);
	n = strlen(v);
	for (i = 0; i < n && i < 60 && i + 4 < size; i++)
		out[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' :
		    v[i];
	if (i < n && i + 4 <= size)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
	free(red);
	return out;
}

static bool
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* Printable ASCII without spaces: it travels in an HTTP header. */
static bool
is_token(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Decimal digits only, no leading zero, no overflow. */
static bool
parse_decimal(const char *s, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (n > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*out = n;
	return true;
}

/*
 * "8388608", "8 MiB", "8MiB", "8M", "512 KiB", "1 GiB", "100 B". Returns 1
 * on success, 0 when malformed, -1 for a decimal unit (MB, kB, ...).
 */
static int
parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char	*unit;
		unsigned	 shift;
	} units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gib", 30 },
	};
	size_t nd = strspn(s, "0123456789");
	const char *u = s + nd;
	uint64_t n;

	if (!parse_decimal(s, nd, &n))
		return 0;
	if (*u == ' ' && u[1] != '\0')
		u++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(u, units[i].unit) != 0)
			continue;
		if (n > (UINT64_MAX >> units[i].shift))
			n = UINT64_MAX;		/* out of range anyway */
		else
			n <<= units[i].shift;
		*out = n;
		return 1;
	}
	if (strcasecmp(u, "kb") == 0 || strcasecmp(u, "mb") == 0 ||
	    strcasecmp(u, "gb") == 0)
		return -1;
	return 0;
}

bool
es_config_split_listen(const char *s, char *host, size_t hostsz,
    unsigned *port)
{
	const char *h, *p;
	size_t hl;
	uint64_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = s + 1;
		hl = (size_t)(close - h);
		p = close + 2;
		if (hl == 0 || strspn(h, "0123456789abcdefABCDEF:.") < hl)
			return false;
	} else {
		const char *colon = strrchr(s, ':');

		if (colon == NULL)
			return false;
		h = s;
		hl = (size_t)(colon - s);
		p = colon + 1;
		if (hl == 0 || strspn(h, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") < hl)
			return false;
	}
	if (!parse_decimal(p, strlen(p), &n) || n > 65535 || hl >= hostsz)
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)n;
	return true;
}

bool
es_config_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

/*
 * Checks v for key k and fills out (owned by the caller:
 * es__config_kval_release()).
 * path and line name the place in messages. One ignore pattern for K_LIST.
 */
int
es__config_parse_value(const struct kdef *k, const char *v, struct kval *out,
    const char *path, unsigned line, struct es_error *err)
{
	const char *name = k->pub.name;
	char show[80], host[256];
	unsigned port;
	size_t len = strlen(v);
	int rc;

	memset(out, 0, sizeof(*out));
	/* SPEC §1: an empty status_listen turns TCP off. */
	if (len == 0 && k->type != K_LIST && k->type != K_LISTEN)
		return es_error_set(err, ES_ECONFIG, path, line,
		    "empty value for '%s' (want %s)", name,
		    k->type == K_UINT ? "a whole number" : k->unit);
	switch (k->type) {
	case K_PATH:
		break;
	case K_URI:
		if ((strncmp(v, "mongodb://", 10) != 0 || len == 10) &&
		    (strncmp(v, "mongodb+srv://", 14) != 0 || len == 14))
			goto bad;
		if (strpbrk(v, " ") != NULL || has_ctl(v))
			goto bad;
		/* libmongoc would take the host from the first '@'. */
		if (es_uri_userinfo_has_at(v))
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad value for '%s': an '@' in the user name or "
			    "password must be percent-encoded as %%40", name);
		break;
	case K_DBNAME:
		if (len > 63 || strpbrk(v, "/\\. \"$") != NULL || has_ctl(v))
			goto bad;
		break;
	case K_STRING:
		if (len > 256 || has_ctl(v))
			goto bad;
		break;
	case K_LISTEN:
		if (len > 0 && !es_config_split_listen(v, host, sizeof(host),
		    &port))
			goto bad;
		break;
	case K_TOKEN:
		/* A secret: say what is wrong, never what it is. */
		if (len > 1024 || !is_token(v))
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad value for '%s' (want %s)", name, k->unit);
		break;
	case K_UINT:
		if (!parse_decimal(v, len, &out->n))
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad value '%s' for '%s' (want a whole number of "
			    "%s)", es__config_shown(k, v, show, sizeof(show)),
			    name, k->unit);
		if (out->n < k->min || out->n > k->max)
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad value '%s' for '%s' (want %llu..%llu %s)",
			    es__config_shown(k, v, show, sizeof(show)), name,
			    (unsigned long long)k->min,
			    (unsigned long long)k->max, k->unit);
		return 0;
	case K_SIZE:
		rc = parse_size(v, &out->n);
		if (rc < 0)
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad value '%s' for '%s' (units are binary: write "
			    "KiB, MiB or GiB)",
			    es__config_shown(k, v, show, sizeof(show)), name);
		if (rc == 0)
			goto bad;
		if (out->n < k->min || out->n > k->max)
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad value '%s' for '%s' (want 1 byte to 1 GiB)",
			    es__config_shown(k, v, show, sizeof(show)), name);
		return 0;
	case K_LOGFMT:
		if (strcmp(v, "text") == 0)
			out->n = 0;
		else if (strcmp(v, "json") == 0)
			out->n = 1;
		else
			return es_error_set(err, ES_ECONFIG, path, line,
			    "'%s' must be one of text, json (got '%s')", name,
			    es__config_shown(k, v, show, sizeof(show)));
		return 0;
	case K_CONFLICT:
		if (strcmp(v, "newest") == 0)
			out->n = ES_POLICY_NEWEST;
		else if (strcmp(v, "file") == 0)
			out->n = ES_POLICY_FILE;
		else if (strcmp(v, "database") == 0)
			out->n = ES_POLICY_DATABASE;
		else
			return es_error_set(err, ES_ECONFIG, path, line,
			    "'%s' must be one of newest, file, database "
			    "(got '%s')", name,
			    es__config_shown(k, v, show, sizeof(show)));
		return 0;
	case K_LIST:
		if (len == 0)
			return 0;	/* es_config_set: empty the list */
		if (has_ctl(v))
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad ignore pattern '%s' (control characters)",
			    es__config_shown(k, v, show, sizeof(show)));
		if (v[0] == '/')
			return es_error_set(err, ES_ECONFIG, path, line,
			    "bad ignore pattern '%s' (patterns are relative to "
			    "the root: drop the leading '/')",
			    es__config_shown(k, v, show, sizeof(show)));
		es__config_list_add(&out->list, &out->nlist, es_xstrdup(v));
		return 0;
	}
	out->s = es_xstrdup(v);
	return 0;
bad:
	return es_error_set(err, ES_ECONFIG, path, line,
	    "bad value '%s' for '%s' (want %s)",
	    es__config_shown(k, v, show, sizeof(show)), name, k->unit);
}

/* The char * field of key idx, or NULL when it is not a string key. */
static char **
string_field(struct es_config *c, size_t idx)
{
	switch (keys[idx].type) {
	case K_PATH:
	case K_URI:
	case K_DBNAME:
	case K_STRING:
	case K_LISTEN:
	case K_TOKEN:
		return (char **)((char *)c + keys[idx].off);
	default:
		return NULL;
	}
}

void
es__config_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/*
 * Stores v (taking its contents) as key idx from origin (NULL: default).
 * append: add to the ignore list instead of replacing it.
 */
void
es__config_store(struct es_config *c, size_t idx, struct kval *v,
    const char *origin, bool append)
{
	const struct kdef *k = &keys[idx];
	char *base = (char *)c;
	char **sf = string_field(c, idx);

	if (sf != NULL) {
		free(*sf);
		*sf = v->s;
		v->s = NULL;
	}
	switch (k->type) {
	case K_UINT:
		*(unsigned *)(base + k->off) = (unsigned)v->n;
		break;
	case K_SIZE:
		*(uint64_t *)(base + k->off) = v->n;
		break;
	case K_CONFLICT:
		*(enum es_policy *)(base + k->off) =
		    (enum es_policy)v->n;
		break;
	case K_LOGFMT:
		*(bool *)(base + k->off) = v->n != 0;
		break;
	case K_LIST:
		if (!append) {
			es__config_free_list(c->ignore, c->nignore);
			c->ignore = es_xcalloc(1, sizeof(*c->ignore));
			c->nignore = 0;
		}
		for (size_t i = 0; i < v->nlist; i++)
			es__config_list_add(&c->ignore, &c->nignore,
			    v->list[i]);
		free(v->list);
		v->list = NULL;
		v->nlist = 0;
		break;
	default:	/* a string: stored above */
		break;
	}
	free(c->origin[idx]);
	c->origin[idx] = origin != NULL ? es_xstrdup(origin) : NULL;
}

void
es_config_init(struct es_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ignore = es_xcalloc(1, sizeof(*c->ignore));
	/* The defaults are the table's, parsed as a user's value would be. */
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++) {
		struct kval v;

		if (keys[i].pub.defval == NULL)
			continue;
		if (es__config_parse_value(&keys[i], keys[i].pub.defval, &v,
		    NULL, 0, NULL) != 0) {
			fprintf(stderr, "config: bad default for %s\n",
			    keys[i].pub.name);
			abort();	/* a bug in the table, not input */
		}
		es__config_store(c, i, &v, NULL, false);
		es__config_kval_release(&v);
	}
}

void
es_config_release(struct es_config *c)
{
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++) {
		if (string_field(c, i) != NULL)
			free(*string_field(c, i));
		free(c->origin[i]);
	}
	es__config_free_list(c->ignore, c->nignore);
	memset(c, 0, sizeof(*c));
}

void
es_config_copy(struct es_config *dst, const struct es_config *src)
{
	/* The scalars by value, then every owned string again. */
	*dst = *src;
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++) {
		char **sf = string_field(dst, i);

		if (sf != NULL && *sf != NULL)
			*sf = es_xstrdup(*sf);
		if (src->origin[i] != NULL)
			dst->origin[i] = es_xstrdup(src->origin[i]);
	}
	dst->ignore = es_xcalloc(src->nignore + 1, sizeof(*dst->ignore));
	for (size_t i = 0; i < src->nignore; i++)
		dst->ignore[i] = es_xstrdup(src->ignore[i]);
}

/* The index of key name[0..len) as in the file, else -1. */
int
es__config_find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++)
		if (strlen(keys[i].pub.name) == len &&
		    memcmp(keys[i].pub.name, name, len) == 0)
			return (int)i;
	return -1;
}

int
es__config_unknown_key(const char *name, size_t len, const char *path,
    unsigned line, struct es_error *err)
{
	const char *best = NULL;
	size_t bestd = 3;
	char show[80], *copy;

	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++) {
		const char *kn = keys[i].pub.name;
		size_t d = es_edit_distance(name, len, kn, strlen(kn), 2);

		if (d < bestd) {
			bestd = d;
			best = kn;
		}
	}
	copy = es_xmemdup(name, len);
	es__config_shown(NULL, copy, show, sizeof(show));
	free(copy);
	if (best != NULL)
		return es_error_set(err, ES_ECONFIG, path, line,
		    "unknown key '%s' (did you mean '%s'?)", show, best);
	return es_error_set(err, ES_ECONFIG, path, line, "unknown key '%s'",
	    show);
}

/* "--poll-ms", "poll-ms" -> "poll_ms" into norm (truncated to size). */
static size_t
normalize_key(const char *key, char *norm, size_t size)
{
	size_t n = 0;

	if (strncmp(key, "--", 2) == 0)
		key += 2;
	for (; key[n] != '\0' && n + 1 < size; n++)
		norm[n] = key[n] == '-' ? '_' : key[n];
	norm[n] = '\0';
	return n;
}

static int
key_index(const char *key)
{
	char norm[64];
	size_t n = normalize_key(key, norm, sizeof(norm));

	if (strlen(key) >= sizeof(norm))
		return -1;
	return es__config_find_key(norm, n);
}

int
es_config_set(struct es_config *c, const char *key, const char *value,
    const char *origin, struct es_error *err)
{
	struct kval v;
	char norm[64];
	int idx;
	bool append;

	if ((idx = key_index(key)) < 0)
		return es__config_unknown_key(norm, normalize_key(key, norm,
		    sizeof(norm)), origin, 0, err);
	if (es__config_parse_value(&keys[idx], value, &v, origin, 0, err) != 0)
		return -1;
	append = keys[idx].type == K_LIST && value[0] != '\0' &&
	    c->origin[idx] != NULL && origin != NULL &&
	    strcmp(c->origin[idx], origin) == 0;
	es__config_store(c, (size_t)idx, &v, origin, append);
	es__config_kval_release(&v);
	return 0;
}

int
es_config_apply_env(struct es_config *c, struct es_error *err)
{
	const char *v = getenv("EXECSYNC_MONGODB_URI");

	if (v == NULL || v[0] == '\0')
		return 0;
	return es_config_set(c, "mongodb_uri", v, "EXECSYNC_MONGODB_URI", err);
}

/* "~/x" or "x" -> "/home/u/x", "/cwd/x"; trailing slashes dropped. */
static int
absolute_source(struct es_config *c, struct es_error *err)
{
	struct es_buf b = ES_BUF_INIT;
	const char *src = c->source, *home;
	char cwd[PATH_MAX];
	int e;

	if (src[0] == '~' && (src[1] == '/' || src[1] == '\0')) {
		if ((home = getenv("HOME")) == NULL || home[0] != '/')
			return es_error_set(err, ES_ECONFIG,
			    es_config_origin(c, "source"), 0, "cannot expand "
			    "'~' in source: HOME is not set");
		es_buf_addstr(&b, home);
		es_buf_addch(&b, '/');
		es_buf_addstr(&b, src + 1 + (src[1] == '/'));
	} else if (src[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			e = errno;
			return es_error_set_sys(err, e, NULL, "cannot make "
			    "source '%s' absolute", src);
		}
		es_buf_addstr(&b, cwd);
		es_buf_addch(&b, '/');
		es_buf_addstr(&b, src);
	} else
		es_buf_addstr(&b, src);
	while (b.len > 1 && b.buf[b.len - 1] == '/')
		es_buf_setlen(&b, b.len - 1);
	free(c->source);
	c->source = es_buf_detach(&b, NULL);
	return 0;
}

int
es_config_finish(struct es_config *c, unsigned need, struct es_error *err)
{
	char host[256];
	unsigned port;

	if ((need & ES_CONFIG_NEED_SOURCE) && c->source == NULL)
		return es_error_set(err, ES_ECONFIG, NULL, 0, "no source "
		    "folder: set 'source' in the config file or pass --source");
	if ((need & ES_CONFIG_NEED_URI) && c->mongodb_uri == NULL)
		return es_error_set(err, ES_ECONFIG, NULL, 0, "no MongoDB URI: "
		    "set 'mongodb_uri' in the config file or "
		    "EXECSYNC_MONGODB_URI, or pass --mongodb-uri");
	if ((need & ES_CONFIG_NEED_USER) && c->user_id == NULL)
		return es_error_set(err, ES_ECONFIG, NULL, 0, "no user id: set "
		    "'user_id' in the config file or pass --user-id");
	/* SPEC §1: empty is no TCP listener. */
	if (c->status_listen != NULL && c->status_listen[0] != '\0' &&
	    !es_config_split_listen(c->status_listen, host, sizeof(host),
	    &port))
		return es_error_set(err, ES_ECONFIG,
		    es_config_origin(c, "status_listen"), 0, "bad value for "
		    "'status_listen' (want host:port or [ipv6]:port)");
	/* SPEC §5: off loopback, /status must need a token. */
	if (c->status_listen != NULL && c->status_listen[0] != '\0' &&
	    !es_config_host_is_loopback(host) && c->status_token == NULL)
		return es_error_set(err, ES_ECONFIG,
		    es_config_origin(c, "status_listen"), 0, "status_listen "
		    "'%s' is not a loopback address: set 'status_token' too",
		    c->status_listen);
	if (c->source != NULL && absolute_source(c, err) != 0)
		return -1;
	return 0;
}

const char *
es_config_default_path(struct es_buf *out)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	es_buf_reset(out);
	/* The XDG base directory spec ignores a relative value. */
	if (xdg != NULL && xdg[0] == '/')
		es_buf_addf(out, "%s/execsync/config.yaml", xdg);
	else if (home != NULL && home[0] != '\0')
		es_buf_addf(out, "%s/.config/execsync/config.yaml", home);
	else
		return NULL;
	return out->buf;
}

const char *
es_config_origin(const struct es_config *c, const char *key)
{
	int idx = key_index(key);

	if (idx < 0 || c->origin[idx] == NULL)
		return "default";
	return c->origin[idx];
}

const struct es_config_key *
es_config_key_at(size_t i)
{
	return i < ES_CONFIG_NKEYS ? &keys[i].pub : NULL;
}

const struct es_config_key *
es_config_key_find(const char *name)
{
	int idx = key_index(name);

	return idx < 0 ? NULL : &keys[idx].pub;
}

void
es_config_help(struct es_buf *out)
{
	for (size_t i = 0; i < ES_CONFIG_NKEYS; i++) {
		const struct es_config_key *k = &keys[i].pub;
		int w;

		w = (int)(strlen(k->flag) + 1 + strlen(k->metavar));
		es_buf_addf(out, "  %s %s%*s %s", k->flag, k->metavar,
		    w < 28 ? 28 - w : 1, "", k->help);
		if (k->defval != NULL)
			es_buf_addf(out, " (default %s)", k->defval);
		es_buf_addch(out, '\n');
	}
}

const char *
es_config_conflict_name(enum es_policy p)
{
	switch (p) {
	case ES_POLICY_NEWEST:	return "newest";
	case ES_POLICY_FILE:		return "file";
	case ES_POLICY_DATABASE:	return "database";
	}
	return "newest";
}
