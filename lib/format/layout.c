/*
 * Paths <-> entities (SPEC §2). Classification runs on every name the
 * scanner and the watcher see, so it works on the string in place: no
 * allocation, one pass to split, fnmatch() only when ignore patterns exist.
 */
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/layout.h"
#include "execsync/slug.h"

#define MAX_DEPTH	64	/* deeper paths are not synced */
#define NAME_MAX_LEN	255

struct comp {
	const char	*p;
	size_t		 n;
};

static bool
comp_is(const struct comp *c, const char *s)
{
	size_t n = strlen(s);

	return c->n == n && memcmp(c->p, s, n) == 0;
}

/*
 * A name the tool will neither sync nor descend into, whatever its place:
 * hidden (".git", ".execsync", ".#x", ".x.swp", "." and ".."), empty,
 * over-long, or not valid UTF-8 / holding control characters (it could not
 * be stored in the database as a string).
 */
static bool
comp_is_bad(const struct comp *c)
{
	size_t i;

	if (c->n == 0 || c->n > NAME_MAX_LEN || c->p[0] == '.')
		return true;
	for (i = 0; i < c->n; i++) {
		unsigned char ch = (unsigned char)c->p[i];

		if (ch < 0x20 || ch == 0x7f)
			return true;
		if (ch >= 0x80)
			break;
	}
	if (i < c->n && !es_content_utf8_valid(c->p, c->n, NULL))
		return true;
	return false;
}

/* Editor leftovers (SPEC §2): "x~" backups and vim's "4913" write probe. */
static bool
name_is_editor_junk(const struct comp *c)
{
	return (c->n > 0 && c->p[c->n - 1] == '~') || comp_is(c, "4913");
}

/* Splits rel at '/'; returns the count, or -1 when it is not usable. */
static int
split(const char *rel, struct comp *cv)
{
	const char *p = rel, *s;
	int n = 0;

	if (rel == NULL || rel[0] == '\0')
		return -1;
	for (;;) {
		if (n == MAX_DEPTH)
			return -1;
		s = strchr(p, '/');
		cv[n].p = p;
		cv[n].n = s ? (size_t)(s - p) : strlen(p);
		if (comp_is_bad(&cv[n]))
			return -1;
		n++;
		if (s == NULL)
			break;
		p = s + 1;
	}
	return n;
}

/*
 * True when pattern pat matches rel itself (when it may: is_dir, or the
 * pattern does not end in '/') or one of the folders above rel.
 */
static bool
pattern_matches(const char *pat, const char *rel, bool is_dir)
{
	char pbuf[PATH_MAX], rbuf[PATH_MAX];
	size_t plen, rlen, i;
	bool dir_only = false;

	while (pat[0] == '/')
		pat++;
	plen = strlen(pat);
	if (plen == 0 || plen >= sizeof(pbuf))
		return false;
	memcpy(pbuf, pat, plen + 1);
	while (plen > 0 && pbuf[plen - 1] == '/') {
		pbuf[--plen] = '\0';
		dir_only = true;
	}
	if (plen == 0)
		return false;
	rlen = strlen(rel);
	if (rlen >= sizeof(rbuf))
		return false;
	if ((is_dir || !dir_only) && fnmatch(pbuf, rel, FNM_PATHNAME) == 0)
		return true;
	memcpy(rbuf, rel, rlen + 1);
	for (i = 0; i < rlen; i++) {
		if (rbuf[i] != '/')
			continue;
		rbuf[i] = '\0';
		if (fnmatch(pbuf, rbuf, FNM_PATHNAME) == 0)
			return true;
		rbuf[i] = '/';
	}
	return false;
}

static bool
is_ignored(const char *rel, bool is_dir, const char *const *ignore)
{
	size_t i;

	if (ignore == NULL)
		return false;
	for (i = 0; ignore[i] != NULL; i++)
		if (pattern_matches(ignore[i], rel, is_dir))
			return true;
	return false;
}

static bool
parse_folder(const struct comp *c, enum es_folder *f)
{
	return es_folder_parse(c->p, c->n, f);
}

/* The name without ".md" into out, which must not end up empty. */
static bool
md_stem(const struct comp *c, char out[256])
{
	size_t n;

	if (c->n <= 3 || memcmp(c->p + c->n - 3, ".md", 3) != 0)
		return false;
	n = c->n - 3;
	memcpy(out, c->p, n);
	out[n] = '\0';
	return true;
}

static int
classify_actions(const struct comp *cv, int n, struct es_path_info *info)
{
	if (n == 2) {
		if (comp_is(&cv[1], "@waiting.md"))
			info->list = ES_LIST_WAITING;
		else if (comp_is(&cv[1], "@deferred.md"))
			info->list = ES_LIST_DEFERRED;
		else if (comp_is(&cv[1], "@incubating.md"))
			info->list = ES_LIST_INCUBATING;
		else if (comp_is(&cv[1], "completed.md"))
			info->list = ES_LIST_COMPLETED;
		else
			return 0;
		info->kind = ES_KIND_ACTION;
		return 1;
	}
	if (n == 3 && comp_is(&cv[1], "contexts")) {
		if (!md_stem(&cv[2], info->context) ||
		    !es_context_is_valid(info->context))
			return 0;
		info->kind = ES_KIND_ACTION;
		info->list = ES_LIST_CONTEXT;
		return 1;
	}
	return 0;
}

static int
classify_projects(const struct comp *cv, int n, struct es_path_info *info)
{
	if (n != 4 || !parse_folder(&cv[1], &info->folder))
		return 0;
	if (!md_stem(&cv[3], info->slug))
		return 0;
	memcpy(info->area_dir, cv[2].p, cv[2].n);
	info->area_dir[cv[2].n] = '\0';
	info->kind = ES_KIND_PROJECT;
	return 1;
}

static int
classify_goals(const struct comp *cv, int n, struct es_path_info *info)
{
	if (n < 3)
		return 0;
	if (!comp_is(&cv[1], "active") && !comp_is(&cv[1], "incubator"))
		return 0;
	if (!parse_folder(&cv[1], &info->folder))
		return 0;
	/* "_goals-summary.md" and the like are supporting material. */
	if (cv[n - 1].p[0] == '_' || !md_stem(&cv[n - 1], info->slug))
		return 0;
	info->kind = ES_KIND_GOAL;
	return 1;
}

int
es_layout_classify(const char *rel, const char *const *ignore,
    struct es_path_info *out)
{
	struct comp cv[MAX_DEPTH];
	struct es_path_info tmp, *info = out ? out : &tmp;
	int n, r = 0;

	memset(info, 0, sizeof(*info));
	if ((n = split(rel, cv)) < 0)
		goto out;
	if (name_is_editor_junk(&cv[n - 1]))
		goto out;
	if (comp_is(&cv[0], ES_DIR_ACTIONS))
		r = classify_actions(cv, n, info);
	else if (comp_is(&cv[0], ES_DIR_PROJECTS))
		r = classify_projects(cv, n, info);
	else if (comp_is(&cv[0], ES_DIR_GOALS))
		r = classify_goals(cv, n, info);
	/* Patterns last: most paths are decided without fnmatch(). */
	if (r == 1 && is_ignored(rel, false, ignore))
		r = 0;
out:
	if (r != 1)
		memset(info, 0, sizeof(*info));
	return r;
}

bool
es_layout_descend(const char *rel_dir, const char *const *ignore)
{
	struct comp cv[MAX_DEPTH];
	enum es_folder f;
	int n;
	bool ok = false;

	if (rel_dir == NULL)
		return false;
	if (rel_dir[0] == '\0')
		return true;
	if ((n = split(rel_dir, cv)) < 0)
		return false;
	if (comp_is(&cv[0], ES_DIR_ACTIONS))
		ok = n == 1 || (n == 2 && comp_is(&cv[1], "contexts"));
	else if (comp_is(&cv[0], ES_DIR_PROJECTS))
		ok = n == 1 || (n <= 3 && parse_folder(&cv[1], &f));
	else if (comp_is(&cv[0], ES_DIR_GOALS))
		ok = n == 1 || comp_is(&cv[1], "active") ||
		    comp_is(&cv[1], "incubator");
	if (ok && is_ignored(rel_dir, true, ignore))
		ok = false;
	return ok;
}

int
es_layout_entity_path(const struct es_entity *e, struct es_buf *out,
    struct es_error *err)
{
	const char *slug = e->slug ? e->slug : "";
	const char *fname = es_folder_name(e->folder);
	char *area = NULL;
	int rc = -1;

	/* SPEC 4.11: validate every component before building anything. */
	if (!es_slug_is_safe(e->slug)) {
		es_problem_set(err, ES_PROB_UNSAFE_PATH, NULL, 0, "unsafe slug '%s'",
		    slug);
		goto out;
	}
	switch (e->kind) {
	case ES_KIND_PROJECT:
		if (fname == NULL) {
			es_problem_set(err, ES_PROB_BAD_DOCUMENT, NULL, 0,
			    "no folder for project '%s'", slug);
			goto out;
		}
		if ((area = es_area_dirname(e->area, err)) == NULL)
			goto out;
		es_buf_reset(out);
		es_buf_addf(out, "%s/%s/%s/%s.md", ES_DIR_PROJECTS, fname,
		    area, slug);
		break;
	case ES_KIND_GOAL:
		if (e->folder != ES_FOLDER_ACTIVE &&
		    e->folder != ES_FOLDER_INCUBATOR) {
			es_problem_set(err, ES_PROB_UNKNOWN_VALUE, NULL, 0,
			    "bad folder '%s' for goal '%s'",
			    fname ? fname : "", slug);
			goto out;
		}
		es_buf_reset(out);
		es_buf_addf(out, "%s/%s/%s.md", ES_DIR_GOALS, fname, slug);
		break;
	default:
		es_problem_set(err, ES_PROB_BAD_DOCUMENT, NULL, 0,
		    "'%s' is not a project or goal", slug);
		goto out;
	}
	rc = 0;
out:
	free(area);
	return rc;
}

int
es_layout_list_path(enum es_list_kind list, const char *context,
    struct es_buf *out, struct es_error *err)
{
	const char *name;

	switch (list) {
	case ES_LIST_CONTEXT:
		if (context == NULL)
			context = "@inbox";
		if (!es_context_is_valid(context))
			return es_problem_set(err, ES_PROB_UNSAFE_PATH, NULL, 0,
			    "unsafe context '%s'", context);
		es_buf_reset(out);
		es_buf_addf(out, "%s/contexts/%s.md", ES_DIR_ACTIONS, context);
		return 0;
	case ES_LIST_WAITING:
		name = "@waiting.md";
		break;
	case ES_LIST_DEFERRED:
		name = "@deferred.md";
		break;
	case ES_LIST_INCUBATING:
		name = "@incubating.md";
		break;
	case ES_LIST_COMPLETED:
		name = "completed.md";
		break;
	default:
		return es_problem_set(err, ES_PROB_BAD_DOCUMENT, NULL, 0, "no action list");
	}
	es_buf_reset(out);
	es_buf_addf(out, "%s/%s", ES_DIR_ACTIONS, name);
	return 0;
}

int
es_layout_action_path(const struct es_action *a, struct es_buf *out,
    struct es_error *err)
{
	enum es_list_kind list;

	switch (a->state) {
	case ES_STATE_NEXT:
		list = ES_LIST_CONTEXT;
		break;
	case ES_STATE_WAITING:
		list = ES_LIST_WAITING;
		break;
	case ES_STATE_DEFERRED:
		list = ES_LIST_DEFERRED;
		break;
	case ES_STATE_INCUBATING:
		list = ES_LIST_INCUBATING;
		break;
	case ES_STATE_COMPLETED:
		list = ES_LIST_COMPLETED;
		break;
	default:
		return es_problem_set(err, ES_PROB_BAD_DOCUMENT, NULL, 0,
		    "action has no state");
	}
	return es_layout_list_path(list, a->context, out, err);
}

bool
es_rel_is_plain(const char *rel)
{
	const char *p, *s;
	size_t n;

	if (rel == NULL || rel[0] == '\0' || rel[0] == '/' ||
	    strlen(rel) >= PATH_MAX)
		return false;
	for (p = rel;; p = s + 1) {
		s = strchr(p, '/');
		n = s ? (size_t)(s - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (s == NULL)
			return true;
	}
}
