/*
 * Private to config.c (the key table, values, storing) and config-file.c
 * (the YAML file loader): what the loader reads through. A value goes
 * raw string -> es__config_parse_value() -> struct kval ->
 * es__config_store(), so a file, a flag and the environment are checked
 * and stored by the same code.
 */
#ifndef EXECSYNC_CONFIG_INTERNAL_H
#define EXECSYNC_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/config.h"
#include "execsync/error.h"

enum ktype {
	K_PATH,		/* any non-empty string */
	K_URI,		/* mongodb:// or mongodb+srv://, shown redacted */
	K_DBNAME,	/* a MongoDB database name */
	K_STRING,	/* printable, one line */
	K_LISTEN,	/* host:port */
	K_TOKEN,	/* secret: never shown */
	K_UINT,		/* decimal, in [min, max] */
	K_SIZE,		/* bytes with an optional binary unit */
	K_CONFLICT,	/* newest, file, database */
	K_LIST,		/* ignore patterns */
	K_LOGFMT,	/* text, json */
};

struct kdef {
	struct es_config_key pub;
	enum ktype	 type;
	size_t		 off;	/* of its field in es_config */
	uint64_t	 min, max;
	/* K_UINT: the unit ("milliseconds"); else what a value must be. */
	const char	*unit;
};

/* A parsed value, before it is stored. */
struct kval {
	char		*s;
	uint64_t	 n;
	char		**list;
	size_t		 nlist;
};

/* Key idx (< ES_CONFIG_NKEYS) of the table. */
const struct kdef *es__config_kdef(size_t idx);
/* The index of key name[0..len) as in the file, else -1. */
int	es__config_find_key(const char *name, size_t len);
/* -1 with "unknown key 'x' (did you mean 'y'?)" at path:line. */
int	es__config_unknown_key(const char *name, size_t len, const char *path,
	    unsigned line, struct es_error *err);
/*
 * A value as messages show it: at most 60 bytes, control characters as
 * '?', the URI of a K_URI key (k may be NULL) redacted. Returns out.
 */
const char *es__config_shown(const struct kdef *k, const char *v, char *out,
	    size_t size);
/* Parses v as a value of k into out; -1 naming path:line when bad. */
int	es__config_parse_value(const struct kdef *k, const char *v,
	    struct kval *out, const char *path, unsigned line,
	    struct es_error *err);
/*
 * Stores v (taking its contents) as key idx from origin (NULL: default).
 * append: add to the ignore list instead of replacing it.
 */
void	es__config_store(struct es_config *c, size_t idx, struct kval *v,
	    const char *origin, bool append);
void	es__config_kval_release(struct kval *v);
/* Appends s (taken) to the NULL-terminated list of *n strings. */
void	es__config_list_add(char ***list, size_t *n, char *s);
void	es__config_free_list(char **list, size_t n);

#endif
