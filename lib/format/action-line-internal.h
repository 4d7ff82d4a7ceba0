/*
 * Lib-internal: what the action-line scanner and renderer
 * (action-line.c) share with the in-place updater (action-line-update.c).
 * A line is scanned once into a struct scan; with collect set, its words
 * keep their roles and offsets so an update touches only the words whose
 * meaning changed.
 */
#ifndef EXECSYNC_ACTION_LINE_INTERNAL_H
#define EXECSYNC_ACTION_LINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/action-line.h"
#include "execsync/buf.h"

#define NO_WORD	SIZE_MAX
/* Longest bad value quoted in a message: enough to find it in the line. */
#define QUOTE_MAX 80

enum role {
	R_MARK,		/* "- [ ]", "- [x]", the "x" of "x DATE" */
	R_PRI,		/* "(A)", also as the todo.txt marker */
	R_COMPLETED,
	R_DATE,		/* creation date */
	R_CONTEXT,
	R_PROJECT,
	R_DUE,
	R_DEFER,
	R_TEXT,
};

struct word {
	size_t		 off;
	size_t		 len;
	enum role	 role;
};

/* The optional leading fields of a line, in the order they may appear. */
enum slot {
	S_PRI,
	S_COMPLETED,
	S_DATE,
};

struct scan {
	enum es_line_form form;
	bool		 done;
	bool		 pri_is_mark;	/* "(A) text": priority as marker */
	char		 pri;
	es_date_t	 completed;
	es_date_t	 action_date;
	es_date_t	 due;
	es_date_t	 defer;
	size_t		 ctx_off, ctx_len;	/* ctx_len 0: no token */
	size_t		 proj_off, proj_len;
	char		*text;		/* joined text words, owned */
	size_t		 text_len;

	/* Only when collecting (updates). */
	bool		 collect;
	struct word	*w;
	size_t		 nw, aw;
	size_t		 i_pri, i_completed, i_date;
	size_t		 i_ctx, i_proj, i_due, i_defer;
	size_t		 i_header;	/* last word before the body */
};

/* One pass over a line: 1 an action line, 0 not one, -1 bad (err). */
int	es__al_scan_line(const char *s, size_t len, struct scan *sc,
	    struct es_error *err);
/* The action a scanned line means in list (its context file's). */
void	es__al_scan_fill(const char *s, struct scan *sc,
	    enum es_list_kind list, const char *list_context,
	    struct es_action *out);
void	es__al_scan_release(struct scan *sc);
/* Whether line parses back to exactly a (render and update check). */
bool	es__al_reads_back(const char *line, size_t len,
	    enum es_list_kind list, const char *list_context,
	    const struct es_action *a);
/* "YYYY-MM-DD" appended. */
void	es__al_add_date(struct es_buf *b, es_date_t d);
bool	es__al_date_ok(es_date_t d);

#endif
