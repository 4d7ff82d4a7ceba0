/*
 * Configuration (SPEC §1): a YAML file, the environment and command-line
 * flags, in that order of precedence from low to high:
 *
 *	es_config_init(&c);			defaults
 *	es_config_load_file(&c, path, explicit, &err);	the YAML file
 *	es_config_apply_env(&c, &err);		EXECSYNC_MONGODB_URI
 *	es_config_set(&c, "poll_ms", "500", "--poll-ms", &err);	a flag
 *	es_config_finish(&c, ES_CONFIG_NEED_SOURCE | ..., &err);
 *
 * One table (config.c) drives the file keys, the flags ("--poll-ms" is
 * "poll_ms", parsed by cli.h for every program), validation and the --help
 * text. Keys and their values:
 *
 *	source		folder to sync (made absolute when finished)
 *	mongodb_uri	mongodb:// or mongodb+srv:// URI (also from the
 *			environment variable EXECSYNC_MONGODB_URI)
 *	database	default "execution_system"
 *	user_id		whose documents to sync
 *	status_listen	host:port or [v6]:port, default "127.0.0.1:8765";
 *			a non-loopback address needs status_token (SPEC §5)
 *	status_token	bearer token for /status over TCP
 *	debounce_ms	0..600000, default 100
 *	poll_ms		50..86400000, default 2000
 *	full_pass_s	0..604800, default 600 (0: no periodic full pass)
 *	conflict	newest (default), file or database (SPEC §4.2)
 *	max_delete	percent 0..100, default 50 (SPEC §4.15)
 *	max_file_size	1 byte .. 1 GiB, default 8 MiB
 *	ignore		list of glob patterns relative to the root
 *	log_format	text (default) or json: one object a line (log.h)
 *
 * Whole numbers are decimal digits only: no sign, no leading zero (YAML 1.1
 * reads 010 as octal), no "1_000", no trailing junk. Sizes are a whole
 * number of bytes, optionally followed (with or without one space) by a
 * binary unit: B, K or KiB, M or MiB, G or GiB, case-insensitive ("8 MiB",
 * "8M", "512KiB", "8388608"). "MB", "KB" and "GB" are refused because their
 * meaning (1000 or 1024) is ambiguous.
 *
 * Errors (code ES_ECONFIG, ES_EIO for an unreadable file) name the place
 * in err->path and err->line, so es_error_format() prints
 *	config.yaml:7: unknown key 'pol_ms' (did you mean 'poll_ms'?)
 *	--poll-ms: bad value '-5' for 'poll_ms' (want a whole number of
 *	    milliseconds)
 * A bad mongodb_uri is shown redacted (es_uri_redact()), a bad
 * status_token never. No function aborts or crashes on bad input; on error
 * the struct keeps its previous values (a file is applied all or nothing).
 *
 * Not thread-safe; use from the main thread at start-up.
 */
#ifndef EXECSYNC_CONFIG_H
#define EXECSYNC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/policy.h"

/* Number of keys in the table (the size of es_config.origin). */
#define ES_CONFIG_NKEYS		14

/* Largest max_file_size accepted: files are read whole into memory. */
#define ES_CONFIG_MAX_FILE_SIZE_LIMIT	(UINT64_C(1) << 30)
/* A config file larger than this is refused unread. */
#define ES_CONFIG_FILE_MAX	(1024 * 1024)
/* At most this many ignore patterns. */
#define ES_CONFIG_IGNORE_MAX	1000

/*
 * Every char * is owned by the struct (freed by es_config_release()); NULL
 * means unset. ignore is never NULL after es_config_init(). Read fields
 * directly; change them only through the functions below.
 */
struct es_config {
	char		*source;
	char		*mongodb_uri;
	char		*database;
	char		*user_id;
	char		*status_listen;
	char		*status_token;
	unsigned	 debounce_ms;
	unsigned	 poll_ms;
	unsigned	 full_pass_s;
	enum es_policy conflict;
	unsigned	 max_delete;
	uint64_t	 max_file_size;
	char		**ignore;	/* ignore[nignore] == NULL */
	size_t		 nignore;
	bool		 log_json;	/* log_format: json */
	/*
	 * Where each value came from, by key table index: NULL for the
	 * default, else "config.yaml:7", "--poll-ms",
	 * "EXECSYNC_MONGODB_URI". Read with es_config_origin().
	 */
	char		*origin[ES_CONFIG_NKEYS];
};

/* A key of the table, for --help, docs and command-line parsing. */
struct es_config_key {
	const char	*name;		/* in the file: "poll_ms" */
	const char	*flag;		/* "--poll-ms" */
	const char	*metavar;	/* "MS" */
	const char	*defval;	/* "2000", or NULL when none */
	const char	*help;		/* one lower-case line */
};

/* Fills c with the defaults. */
void	es_config_init(struct es_config *c);
/* Frees everything c owns; es_config_init() it again to reuse it. */
void	es_config_release(struct es_config *c);
/* dst (uninitialised) becomes a deep copy of src. */
void	es_config_copy(struct es_config *dst, const struct es_config *src);

/*
 * Loads a YAML file, a mapping of the keys above. explicit: the user named
 * the file (--config), so a missing file is an error; otherwise (the
 * default path) a missing file leaves c as it was and returns 0. The path
 * as given names the file in messages. Returns 0 or -1 with err filled.
 */
int	es_config_load_file(struct es_config *c, const char *path,
	    bool explicit, struct es_error *err);

/*
 * Parses data[0..len) (bytes, need not be NUL-terminated) as a config file
 * named name in messages. Empty input, or only comments, changes nothing.
 * Errors: YAML syntax (libyaml's problem and line), UTF-16 input, a
 * top level that is not a mapping, unknown or duplicate keys, a list or
 * mapping where a string is wanted (and a string where the ignore list
 * is), aliases, several documents, empty values, bad values. Every error
 * carries a line number >= 1. Returns 0 or -1 with err filled; on error c
 * is unchanged.
 */
int	es_config_load_buffer(struct es_config *c, const char *data,
	    size_t len, const char *name, struct es_error *err);

/*
 * Sets one key from a string, as the command line and the environment
 * give it. key as in the file ("poll_ms"; "poll-ms" and "--poll-ms" are
 * accepted too); origin names the source in messages and in c->origin
 * ("--poll-ms"). For "ignore", the first call from an origin replaces the
 * list and later calls from the same origin add to it (a repeated
 * --ignore flag); an empty value empties the list. Returns 0 or -1 with
 * err filled (unknown key with a suggestion, bad value); on error c is
 * unchanged.
 */
int	es_config_set(struct es_config *c, const char *key,
	    const char *value, const char *origin, struct es_error *err);

/*
 * EXECSYNC_MONGODB_URI, when set and not empty, replaces mongodb_uri
 * (SPEC §1). Call after loading the file, before the flags.
 */
int	es_config_apply_env(struct es_config *c, struct es_error *err);

#define ES_CONFIG_NEED_SOURCE	0x1u
#define ES_CONFIG_NEED_URI	0x2u
#define ES_CONFIG_NEED_USER	0x4u

/*
 * Final checks once every layer is applied: the keys in need are set; a
 * non-loopback status_listen has a status_token (SPEC §5); source is made
 * absolute ("~/" from $HOME, a relative path from the working directory,
 * trailing slashes dropped; it need not exist yet). Returns 0 or -1 with
 * err filled, naming where the offending value came from.
 */
int	es_config_finish(struct es_config *c, unsigned need,
	    struct es_error *err);

/*
 * The default config file, $XDG_CONFIG_HOME/execsync/config.yaml (when
 * that is set and absolute), else $HOME/.config/execsync/config.yaml.
 * Replaces out's content and returns out->buf, or returns NULL (out
 * empty) when neither variable helps.
 */
const char *es_config_default_path(struct es_buf *out);

/* Where key's value came from: "default", "config.yaml:7", "--poll-ms". */
const char *es_config_origin(const struct es_config *c, const char *key);

/* The key table: index 0 .. ES_CONFIG_NKEYS - 1; NULL past the end. */
const struct es_config_key *es_config_key_at(size_t i);
/*
 * The key named name, as in the file ("poll_ms") or as a flag
 * ("--poll-ms", "poll-ms"); NULL when none.
 */
const struct es_config_key *es_config_key_find(const char *name);

/* Appends the table for --help: one line per key with default and meaning. */
void	es_config_help(struct es_buf *out);

/* "newest", "file", "database". */
const char *es_config_conflict_name(enum es_policy p);

/*
 * Splits "host:port" or "[v6addr]:port" into host (brackets dropped,
 * NUL-terminated in hostsz bytes) and port (0..65535). False when malformed
 * or the host does not fit.
 */
bool	es_config_split_listen(const char *s, char *host, size_t hostsz,
	    unsigned *port);
/* host is "localhost", an address in 127.0.0.0/8 or "::1". */
bool	es_config_host_is_loopback(const char *host);

#endif
