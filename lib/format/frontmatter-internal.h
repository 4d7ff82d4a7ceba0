/*
 * Private to frontmatter.c (the file's parts, its lines and keys, the
 * edits) and frontmatter-yaml.c (the walk over libyaml's events that
 * fills the keys): the parsed file they share.
 */
#ifndef EXECSYNC_FRONTMATTER_INTERNAL_H
#define EXECSYNC_FRONTMATTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "execsync/error.h"
#include "execsync/frontmatter.h"

struct fm_line {
	const char	*p;
	size_t		 len;		/* with its EOL */
};

/* A key by its name, and its place among the keys of its mapping. */
struct keyref {
	const char	*p;
	size_t		 len;
	size_t		 idx;
};

struct es_frontmatter {
	char			*data;		/* our copy of the file */
	size_t			 len;
	bool			 present, bom, crlf, edited;
	const char		*open, *close;	/* delimiter lines, EOL incl. */
	size_t			 open_len, close_len;
	struct fm_line		*lines;		/* between the delimiters */
	size_t			 nlines, alines;
	size_t			 tail;		/* lines from an explicit "..." */
	struct es_frontmatter_key *keys;
	size_t			 nkeys, akeys;
	struct keyref		*byname;	/* the keys by name, then index */
	const char		*body;
	size_t			 body_len;
	char			**owned;	/* lines and bodies we wrote */
	size_t			 nowned, aowned;
};

/* File line of a line index: line 1 is the opening "---". */
static inline unsigned
es__fm_file_line(size_t idx)
{
	return (unsigned)(idx + 2);
}

/* Key bytes, then place: equal keys sort together, earliest first. */
int	es__fm_keyref_cmp(const void *a, const void *b);
/* A new zeroed key at the end of fm->keys (fm->byname grown with it). */
struct es_frontmatter_key *es__fm_add_key(struct es_frontmatter *fm);
/*
 * Parses the frontmatter's text (len bytes, fm->lines already cut) with
 * libyaml into fm->keys and fm->byname; -1 naming rel:line on bad YAML.
 */
int	es__fm_parse_yaml(struct es_frontmatter *fm, const char *text,
	    size_t len, const char *rel, struct es_error *err);

#endif
