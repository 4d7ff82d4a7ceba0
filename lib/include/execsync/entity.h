/*
 * The data model: what a project, a goal and an action mean, independent of
 * how the folder (SPEC §2) or the database (SPEC §3) spells them. Parsers
 * produce these structs, renderers and BSON encoders consume them, and the
 * planner compares them. Pure: no I/O.
 *
 * Ownership: every char * and the extra document belong to the struct and are
 * freed by its _release(). Setters are plain assignments of es_xstrdup()ed
 * strings (free the old value first).
 */
#ifndef EXECSYNC_ENTITY_H
#define EXECSYNC_ENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/date.h"

enum es_kind {
	ES_KIND_PROJECT,
	ES_KIND_GOAL,
	ES_KIND_ACTION,
};

enum es_folder {
	ES_FOLDER_NONE = 0,
	ES_FOLDER_ACTIVE,
	ES_FOLDER_INCUBATOR,
	ES_FOLDER_COMPLETED,	/* projects only */
	ES_FOLDER_DESCOPED,	/* projects only */
};

enum es_ptype {
	ES_PTYPE_NONE = 0,	/* no "type" key */
	ES_PTYPE_STANDARD,
	ES_PTYPE_COORDINATION,
	ES_PTYPE_HABIT,
	ES_PTYPE_GOAL,
};

enum es_state {
	ES_STATE_NONE = 0,
	ES_STATE_NEXT,
	ES_STATE_WAITING,
	ES_STATE_DEFERRED,
	ES_STATE_INCUBATING,
	ES_STATE_COMPLETED,
};

/* The action list files of SPEC §2 (00k-next-actions/). */
enum es_list_kind {
	ES_LIST_NONE = 0,
	ES_LIST_CONTEXT,	/* contexts/@<context>.md: state next */
	ES_LIST_WAITING,	/* @waiting.md */
	ES_LIST_DEFERRED,	/* @deferred.md */
	ES_LIST_INCUBATING,	/* @incubating.md */
	ES_LIST_COMPLETED,	/* completed.md */
};

/* Database-side bookkeeping: not part of an entity's meaning. */
struct es_meta {
	bool		 has_id;
	bson_oid_t	 id;
	bool		 deleted;
	int64_t		 deleted_at;	/* ms since the epoch, 0 = none */
	int64_t		 created_at;
	int64_t		 updated_at;
};

/*
 * A project (ES_KIND_PROJECT) or a goal (ES_KIND_GOAL). Goals use title,
 * slug, area (optional), folder (active or incubator), created,
 * last_reviewed, content and extra; their other fields stay NONE.
 */
struct es_entity {
	enum es_kind	 kind;
	struct es_meta	 meta;
	char		*title;
	char		*slug;
	char		*area;		/* NULL when absent (goals) */
	enum es_folder	 folder;
	enum es_ptype	 type;
	es_date_t	 created;
	es_date_t	 started;
	es_date_t	 last_reviewed;
	es_date_t	 due;
	es_date_t	 completed;
	es_date_t	 descoped;
	char		*content;	/* body bytes, verbatim; never NULL */
	size_t		 content_len;
	bson_t		*extra;		/* unknown keys, file order; never NULL */
};

struct es_action {
	struct es_meta	 meta;
	char		*text;		/* the line without its tokens */
	char		*context;	/* "@macbook", or NULL */
	char		*project_slug;	/* without the '+', or NULL */
	enum es_state	 state;
	es_date_t	 due;
	es_date_t	 defer;
	es_date_t	 action_date;	/* creation date */
	es_date_t	 completed;
	char		 priority;	/* 'A'..'Z', or 0 */
};

/* Fields of an entity or action, as bits, for es_entity_diff(). */
enum es_field {
	ES_F_TITLE		= 1u << 0,
	ES_F_SLUG		= 1u << 1,
	ES_F_AREA		= 1u << 2,
	ES_F_FOLDER		= 1u << 3,
	ES_F_TYPE		= 1u << 4,
	ES_F_CREATED		= 1u << 5,
	ES_F_STARTED		= 1u << 6,
	ES_F_LAST_REVIEWED	= 1u << 7,
	ES_F_DUE		= 1u << 8,
	ES_F_COMPLETED		= 1u << 9,
	ES_F_DESCOPED		= 1u << 10,
	ES_F_CONTENT		= 1u << 11,
	ES_F_EXTRA		= 1u << 12,
	/* actions */
	ES_F_TEXT		= 1u << 13,
	ES_F_CONTEXT		= 1u << 14,
	ES_F_PROJECT		= 1u << 15,
	ES_F_STATE		= 1u << 16,
	ES_F_DEFER		= 1u << 17,
	ES_F_ACTION_DATE	= 1u << 18,
	ES_F_PRIORITY		= 1u << 19,
};

void	es_entity_init(struct es_entity *e, enum es_kind kind);
void	es_entity_release(struct es_entity *e);
/* Deep copy into dst (which must not hold anything: init or released). */
void	es_entity_copy(struct es_entity *dst, const struct es_entity *src);
/* Replaces the body with a copy of len bytes at p. */
void	es_entity_set_content(struct es_entity *e, const char *p, size_t len);
/* Two optional string fields (NULL: absent) are the same. */
bool	es_str_eq(const char *a, const char *b);
/* Bits (enum es_field) of the meaning fields that differ; meta ignored. */
unsigned es_entity_diff(const struct es_entity *a, const struct es_entity *b);

void	es_action_init(struct es_action *a);
void	es_action_release(struct es_action *a);
void	es_action_copy(struct es_action *dst, const struct es_action *src);
unsigned es_action_diff(const struct es_action *a, const struct es_action *b);

/* Names as the database and the folder spell them; NULL for NONE. */
const char *es_kind_collection(enum es_kind k);	/* "projects", ... */
const char *es_folder_name(enum es_folder f);	/* "active", ... */
const char *es_ptype_name(enum es_ptype t);	/* "standard", ... */
const char *es_state_name(enum es_state s);	/* "next", ... */
/* Exact, case-sensitive matches of the names above; false if unknown. */
bool	es_folder_parse(const char *s, size_t len, enum es_folder *out);
bool	es_ptype_parse(const char *s, size_t len, enum es_ptype *out);
bool	es_state_parse(const char *s, size_t len, enum es_state *out);
/* The state a list gives its lines (ES_LIST_COMPLETED: completed). */
enum es_state es_list_state(enum es_list_kind k);

#endif
