/*
 * The user's steps of a history on a machine's folder (issue 17 item 2):
 * an editor, git, a shell; the API's are in sim-api.c. Files are real
 * Markdown as SPEC §2 shapes them (project and goal files with YAML
 * frontmatter, action lists with context and project tokens). Every write
 * carries a fresh token of the oracle, and tells the oracle what it read
 * and what it wrote.
 *
 * A step's numbers are read against the state when it runs (entity
 * a % count, ...); with nothing to act on it does nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/action-list.h"
#include "execsync/date.h"
#include "execsync/layout.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#include "sim-hist.h"

const char *const sim_areas[3] = { "Home", "Work", "Learning" };
static const char *const area_dirs[3] = { "home", "work", "learning" };
static const char *const pfolders[4] = { "active", "incubator", "completed",
    "descoped" };
static const char *const lists[3] = {
	"00k-next-actions/contexts/@home.md",
	"00k-next-actions/contexts/@work.md",
	"00k-next-actions/@waiting.md",
};
static const char *const list_heads[3] = { "# @home\n\n", "# @work\n\n",
    "# Waiting\n\n" };
#define COMPLETED_LIST	"00k-next-actions/completed.md"

/* ---- listing the state ---- */

void
sim_files_clear(struct sim_run *r)
{
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].rel);
	r->nfiles = 0;
}

void
sim_docs_clear(struct sim_run *r)
{
	for (size_t i = 0; i < r->ndocs; i++)
		bson_destroy(r->docs[i]);
	r->ndocs = 0;
}

static int
list_file_cb(const char *rel, const void *buf, size_t len, void *ud)
{
	struct sim_run *r = ud;
	struct es_path_info info;

	(void)buf;
	(void)len;
	if (es_layout_classify(rel, NULL, &info) != 1)
		return 0;
	if (r->nfiles == r->filesalloc) {
		r->filesalloc = r->filesalloc ? r->filesalloc * 2 : 32;
		r->files = es_xreallocarray(r->files, r->filesalloc,
		    sizeof(*r->files));
	}
	r->files[r->nfiles].rel = es_xstrdup(rel);
	r->files[r->nfiles].kind = info.kind;
	r->files[r->nfiles].list = info.list;
	r->nfiles++;
	return 0;
}

int
sim_list_files(struct sim_run *r, int m, struct es_error *err)
{
	sim_files_clear(r);
	return r->ops->each_file(r->env->ctx, m, list_file_cb, r, err);
}

bool
sim_doc_live(const bson_t *doc)
{
	bson_iter_t it;

	return !(bson_iter_init_find(&it, doc, "deleted") &&
	    BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it));
}

static int
list_doc_cb(const bson_t *doc, void *ud)
{
	struct sim_run *r = ud;

	if (!sim_doc_live(doc))
		return 0;
	if (r->ndocs == r->docsalloc) {
		r->docsalloc = r->docsalloc ? r->docsalloc * 2 : 32;
		r->docs = es_xreallocarray(r->docs, r->docsalloc,
		    sizeof(*r->docs));
	}
	r->docs[r->ndocs++] = bson_copy(doc);
	return 0;
}

int
sim_list_docs(struct sim_run *r, enum es_kind kind, struct es_error *err)
{
	sim_docs_clear(r);
	return r->ops->api_each(r->env->ctx, kind, list_doc_cb, r, err);
}

/* The i-th file of one of the kinds (bit 1 << kind), or -1. */
static long
nth_file(struct sim_run *r, unsigned kinds, uint32_t i, bool lists_ok)
{
	size_t n = 0;

	for (size_t k = 0; k < r->nfiles; k++)
		n += ((kinds >> r->files[k].kind) & 1) && (lists_ok ||
		    r->files[k].list != ES_LIST_COMPLETED);
	if (n == 0)
		return -1;
	i %= (uint32_t)n;
	for (size_t k = 0; k < r->nfiles; k++)
		if (((kinds >> r->files[k].kind) & 1) && (lists_ok ||
		    r->files[k].list != ES_LIST_COMPLETED) && i-- == 0)
			return (long)k;
	return -1;
}

static size_t
count_files(struct sim_run *r, enum es_kind kind)
{
	size_t n = 0;

	for (size_t k = 0; k < r->nfiles; k++)
		n += r->files[k].kind == kind;
	return n;
}

static enum sim_save
save_of(const struct sim_step *s, unsigned k)
{
	return (enum sim_save)(((s->c >> 12) + k) % SIM_SAVE_N);
}

static void
today(int64_t ms, int days, char out[ES_DATE_BUFSZ])
{
	es_date_format(es_date_from_ms(ms) + days, out);
}

/* ---- frontmatter and body, as text ---- */

/* The frontmatter's lines [*fm0, *fm1); the body from *body. */
static bool
fm_bounds(const char *p, size_t len, size_t *fm0, size_t *fm1, size_t *body)
{
	size_t i = 4;

	if (len < 8 || memcmp(p, "---\n", 4) != 0)
		return false;
	while (i + 4 <= len) {
		if (memcmp(p + i, "---\n", 4) == 0) {
			*fm0 = 4;
			*fm1 = i;
			*body = i + 4;
			return true;
		}
		while (i < len && p[i] != '\n')
			i++;
		i++;
	}
	return false;
}

/* The line of key in the frontmatter: [*l0, *l1) with its LF. */
static bool
fm_find(const char *p, size_t fm0, size_t fm1, const char *key, size_t *l0,
    size_t *l1)
{
	size_t kl = strlen(key);

	for (size_t i = fm0; i < fm1;) {
		size_t e = i;

		while (e < fm1 && p[e] != '\n')
			e++;
		if (e < fm1)
			e++;
		if (e - i > kl && memcmp(p + i, key, kl) == 0 && p[i + kl] ==
		    ':') {
			*l0 = i;
			*l1 = e;
			return true;
		}
		i = e;
	}
	return false;
}

/* p with key's line set to val (NULL: removed), into out. */
static bool
fm_set(const char *p, size_t len, const char *key, const char *val,
    struct es_buf *out)
{
	size_t fm0, fm1, body, l0, l1;

	es_buf_reset(out);
	if (!fm_bounds(p, len, &fm0, &fm1, &body))
		return false;
	if (!fm_find(p, fm0, fm1, key, &l0, &l1))
		l0 = l1 = fm1;
	es_buf_add(out, p, l0);
	if (val != NULL)
		es_buf_addf(out, "%s: %s\n", key, val);
	es_buf_add(out, p + l1, len - l1);
	return true;
}

/*
 * Edits the text of lines [from, len) of p: op 0-1 replace line k, 2
 * insert before line k, 3 delete line k (k modulo the count). new is the
 * line (no LF). Into out.
 */
void
sim_edit_lines(const char *p, size_t len, size_t from, unsigned op, uint32_t k,
    const char *new, struct es_buf *out)
{
	size_t n = 0, i, line = 0, at;

	for (i = from; i < len; i++)
		n += p[i] == '\n';
	if (len > from && p[len - 1] != '\n')
		n++;
	if (n == 0)
		op = 2;
	k = op == 2 ? k % (uint32_t)(n + 1) : k % (uint32_t)n;
	es_buf_reset(out);
	at = from;
	for (i = from; i < len && line < k; i++)
		if (p[i] == '\n') {
			line++;
			at = i + 1;
		}
	if (line < k)
		at = len;
	es_buf_add(out, p, at);
	if (at == len && len > from && p[len - 1] != '\n')
		es_buf_addch(out, '\n');
	if (op != 3)
		es_buf_addf(out, "%s\n", new);
	if (op == 2) {
		es_buf_add(out, p + at, len - at);
		return;
	}
	/* skip the old line k */
	for (i = at; i < len && p[i] != '\n'; i++)
		;
	if (i < len)
		i++;
	es_buf_add(out, p + i, len - i);
}

/* ---- the file side ---- */

static int
read_rel(struct sim_run *r, int m, const char *rel, struct es_buf *out,
    struct es_error *err)
{
	es_buf_reset(out);
	return r->ops->read_file(r->env->ctx, m, rel, out, err);
}

static int
write_rel(struct sim_run *r, int m, const char *rel, const struct es_buf *b,
    enum sim_save how, struct es_error *err)
{
	return r->ops->write_file(r->env->ctx, m, rel, b->buf, b->len, how,
	    err);
}

static int
file_create(struct sim_run *r, const struct sim_step *s, uint32_t a,
    uint32_t b, unsigned k, struct es_error *err)
{
	bool project = a % 3 != 0;
	enum es_kind kind = project ? ES_KIND_PROJECT : ES_KIND_GOAL;
	char tok[SIM_TOKEN_LEN + 1], title[64], rel[256], date[ES_DATE_BUFSZ];
	char *slug;
	int rc;

	if (count_files(r, kind) >= (project ? SIM_MAX_PROJECTS :
	    SIM_MAX_GOALS))
		return 0;
	sim_oracle_new(&r->orc, r->step, kind, 0, project ? "file: project "
	    "title" : "file: goal title", tok);
	snprintf(title, sizeof(title), "%s %s", project ? "Proj" : "Goal",
	    tok);
	slug = es_slugify(title, strlen(title));
	today(r->ops->fs_now_ms(r->env->ctx), 0, date);
	es_buf_reset(&r->b1);
	if (project) {
		snprintf(rel, sizeof(rel), ES_DIR_PROJECTS "/%s/%s/%s.md",
		    pfolders[(b >> 2) % 2], area_dirs[b % 3], slug);
		es_buf_addf(&r->b1, "---\narea: %s\ntitle: %s\ntype: "
		    "standard\ncreated: %s\n---\n# The project\n\nWhy: it "
		    "matters.\nNext: a first step.\nLater: the rest.\n",
		    sim_areas[b % 3], title, date);
		/* one in four from the bare template, the rest made their own */
		if ((b >> 4) % 4 != 0)
			es_buf_addf(&r->b1, "Draft %u of %s.\n", (b >> 6) %
			    1000, area_dirs[(b >> 2) % 3]);
	} else {
		snprintf(rel, sizeof(rel), ES_DIR_GOALS "/%s/%s.md",
		    (b >> 2) % 3 == 0 ? "incubator" : "active", slug);
		es_buf_addf(&r->b1, "---\ntitle: %s\ncreated: %s\n---\n# The "
		    "goal\n\nA goal worth having.\n", title, date);
		if ((b >> 4) % 4 != 0)
			es_buf_addf(&r->b1, "Since %u.\n", (b >> 6) % 1000);
	}
	free(slug);
	rc = write_rel(r, s->m, rel, &r->b1, save_of(s, k), err);
	if (rc == 0)
		list_file_cb(rel, NULL, 0, r);
	return rc;
}

static int
file_edit_field(struct sim_run *r, const struct sim_step *s,
    struct es_error *err)
{
	long f = nth_file(r, 1u << ES_KIND_PROJECT | 1u << ES_KIND_GOAL, s->a,
	    true);
	char tok[SIM_TOKEN_LEN + 1], val[64];
	const char *key = NULL, *v = val;
	bool project;
	int rc;

	if (f < 0)
		return 0;
	project = r->files[f].kind == ES_KIND_PROJECT;
	if ((rc = read_rel(r, s->m, r->files[f].rel, &r->b1, err)) <= 0)
		return rc;
	switch (s->b % 5) {
	case 2:
		if (project) {
			key = "due";
			if (s->c % 3 == 0)
				v = NULL;
			else
				today(r->ops->fs_now_ms(r->env->ctx),
				    (int)(s->c % 20), val);
			break;
		}
		/* FALLTHROUGH */
	case 3:
		key = "last_reviewed";
		today(r->ops->fs_now_ms(r->env->ctx), 0, val);
		break;
	case 4:
		if (project) {
			static const char *const types[3] = { "standard",
			    "habit", "coordination" };

			key = "type";
			snprintf(val, sizeof(val), "%s", types[s->c % 3]);
			break;
		}
		/* FALLTHROUGH */
	case 0:
		key = "title";
		sim_oracle_new(&r->orc, r->step, r->files[f].kind, 0,
		    "file: title", tok);
		snprintf(val, sizeof(val), "%s %s", project ? "Proj" : "Goal",
		    tok);
		break;
	default:
		key = "note";
		sim_oracle_new(&r->orc, r->step, r->files[f].kind, 0,
		    "file: extra key 'note'", tok);
		snprintf(val, sizeof(val), "%s", tok);
		break;
	}
	if (!fm_set(r->b1.buf, r->b1.len, key, v, &r->b2))
		return 0;
	if ((rc = write_rel(r, s->m, r->files[f].rel, &r->b2, save_of(s, 0),
	    err)) < 0)
		return rc;
	sim_oracle_replace(&r->orc, r->b1.buf, r->b1.len, r->b2.buf,
	    r->b2.len);
	return 0;
}

static int
file_edit_body(struct sim_run *r, const struct sim_step *s, long f,
    unsigned k, struct es_error *err)
{
	char tok[SIM_TOKEN_LEN + 1], line[64];
	size_t fm0, fm1, body;
	unsigned op;
	int rc;

	if (f < 0)
		f = nth_file(r, 1u << ES_KIND_PROJECT | 1u << ES_KIND_GOAL,
		    s->a, true);
	if (f < 0)
		return 0;
	if ((rc = read_rel(r, s->m, r->files[f].rel, &r->b1, err)) <= 0)
		return rc;
	if (!fm_bounds(r->b1.buf, r->b1.len, &fm0, &fm1, &body))
		return 0;
	op = k > 0 ? 2 : s->b % 4;
	line[0] = '\0';
	if (op != 3) {
		/* a deleted line carries no token: nothing to find */
		sim_oracle_new(&r->orc, r->step, r->files[f].kind, 0,
		    "file: body line", tok);
		snprintf(line, sizeof(line), "%s %s.", (s->b + k) % 2 ?
		    "Edit" : "Note", tok);
	}
	sim_edit_lines(r->b1.buf, r->b1.len, body, op, s->c + k * 7, line, &r->b2);
	if ((rc = write_rel(r, s->m, r->files[f].rel, &r->b2, save_of(s, k),
	    err)) < 0)
		return rc;
	sim_oracle_replace(&r->orc, r->b1.buf, r->b1.len, r->b2.buf,
	    r->b2.len);
	return 0;
}

static int
file_move(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	long f = nth_file(r, 1u << ES_KIND_PROJECT | 1u << ES_KIND_GOAL, s->a,
	    true);
	struct es_path_info info;
	char to[512];
	int rc;

	if (f < 0 || es_layout_classify(r->files[f].rel, NULL, &info) != 1)
		return 0;
	if (info.kind == ES_KIND_GOAL) {
		snprintf(to, sizeof(to), ES_DIR_GOALS "/%s/%.200s.md",
		    info.folder == ES_FOLDER_ACTIVE ? "incubator" : "active",
		    info.slug);
	} else if (s->c % 3 != 0) {
		unsigned cur = (unsigned)info.folder - 1;

		snprintf(to, sizeof(to), ES_DIR_PROJECTS "/%s/%.100s/%.200s.md",
		    pfolders[(cur + 1 + s->b % 3) % 4], info.area_dir,
		    info.slug);
	} else {
		/* another area: the frontmatter and the folder */
		unsigned ar = 0;

		for (unsigned i = 0; i < 3; i++)
			if (strcmp(info.area_dir, area_dirs[i]) == 0)
				ar = i;
		ar = (ar + 1 + s->b % 2) % 3;
		snprintf(to, sizeof(to), ES_DIR_PROJECTS "/%s/%s/%.200s.md",
		    es_folder_name(info.folder), area_dirs[ar], info.slug);
		if ((rc = read_rel(r, s->m, r->files[f].rel, &r->b1, err)) <= 0)
			return rc;
		if (!fm_set(r->b1.buf, r->b1.len, "area", sim_areas[ar], &r->b2))
			return 0;
		if (write_rel(r, s->m, r->files[f].rel, &r->b2, save_of(s, 0),
		    err) < 0)
			return -1;
	}
	if ((rc = read_rel(r, s->m, to, &r->b3, err)) != 0)
		return rc < 0 ? -1 : 0;
	return r->ops->rename_file(r->env->ctx, s->m, r->files[f].rel, to,
	    err);
}

static int
file_delete(struct sim_run *r, const struct sim_step *s, long f,
    struct es_error *err)
{
	int rc;

	if (f < 0)
		f = nth_file(r, 1u << ES_KIND_PROJECT | 1u << ES_KIND_GOAL,
		    s->a, true);
	if (f < 0)
		return 0;
	if ((rc = read_rel(r, s->m, r->files[f].rel, &r->b1, err)) <= 0)
		return rc;
	if (r->ops->remove_file(r->env->ctx, s->m, r->files[f].rel, err) < 0)
		return -1;
	sim_oracle_delete(&r->orc, r->step, r->files[f].kind, r->b1.buf,
	    r->b1.len);
	return 0;
}

/* git checkout: b % 4 == 0 deletes most projects, 1 adds, else edits. */
static int
git_checkout(struct sim_run *r, const struct sim_step *s,
    struct es_error *err)
{
	switch (s->b % 4) {
	case 0: {
		size_t n = r->nfiles;

		/* backwards: file_delete does not reorder r->files */
		for (size_t i = n; i-- > 0;)
			if (r->files[i].kind == ES_KIND_PROJECT &&
			    (i + s->a) % 5 != 0 && file_delete(r, s, (long)i,
			    err) < 0)
				return -1;
		return 0;
	}
	case 1:
		for (unsigned k = 0; k < 5; k++)
			if (file_create(r, s, s->a + 3 * k + 1 - s->a % 3,
			    s->c + k, k, err) < 0)
				return -1;
		return 0;
	default:
		for (unsigned k = 0; k < 4 && k < r->nfiles; k++) {
			long f = nth_file(r, 1u << ES_KIND_PROJECT |
			    1u << ES_KIND_GOAL, s->a + k * 3, true);

			if (f >= 0 && file_edit_body(r, s, f, k + 1, err) < 0)
				return -1;
		}
		return 0;
	}
}

/* ---- action lists ---- */

struct act_pos {
	long			 f;	/* in r->files */
	struct es_action_list	*l;
	size_t			 i;
};

static size_t
list_index(const char *rel)
{
	for (size_t i = 0; i < 3; i++)
		if (strcmp(rel, lists[i]) == 0)
			return i;
	return 3;
}

static struct es_action_list *
parse_list(struct sim_run *r, int m, const char *rel, struct es_buf *b,
    struct es_error *err, int *rc)
{
	struct es_path_info info;

	*rc = read_rel(r, m, rel, b, err);
	if (*rc < 0 || es_layout_classify(rel, NULL, &info) != 1)
		return NULL;
	return es_action_list_parse(b->buf, b->len, rel, info.list,
	    info.context[0] ? info.context : NULL);
}

/* The a-th open action line of machine m's lists, into p (b1: its file). */
static int
find_action(struct sim_run *r, int m, uint32_t a, struct act_pos *p,
    struct es_error *err)
{
	size_t total = 0;
	int rc;

	p->l = NULL;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (total == 0)
				return 0;
			a %= (uint32_t)total;
		}
		for (size_t k = 0; k < r->nfiles; k++) {
			struct es_action_list *l;
			size_t n;

			if (r->files[k].kind != ES_KIND_ACTION ||
			    r->files[k].list == ES_LIST_COMPLETED)
				continue;
			l = parse_list(r, m, r->files[k].rel, &r->b1, err, &rc);
			if (rc < 0)
				return -1;
			n = l != NULL ? es_action_list_count(l) : 0;
			if (pass == 0) {
				total += n;
				es_action_list_free(l);
				continue;
			}
			if (a < n) {
				p->f = (long)k;
				p->l = l;
				p->i = a;
				return 0;
			}
			a -= (uint32_t)n;
			es_action_list_free(l);
		}
	}
	return 0;
}

static size_t
count_actions(struct sim_run *r, int m, struct es_error *err, int *rc)
{
	size_t n = 0;

	*rc = 0;
	for (size_t k = 0; k < r->nfiles; k++) {
		struct es_action_list *l;

		if (r->files[k].kind != ES_KIND_ACTION)
			continue;
		l = parse_list(r, m, r->files[k].rel, &r->b1, err, rc);
		if (*rc < 0)
			return 0;
		n += l != NULL ? es_action_list_count(l) : 0;
		es_action_list_free(l);
	}
	return n;
}

static int
action_add(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	const char *rel = lists[s->b % 3];
	char tok[SIM_TOKEN_LEN + 1], tok2[SIM_TOKEN_LEN + 1], date[ES_DATE_BUFSZ];
	char line[160];
	long p;
	int rc;

	if (count_actions(r, s->m, err, &rc) >= SIM_MAX_ACTIONS || rc < 0)
		return rc;
	if ((rc = read_rel(r, s->m, rel, &r->b1, err)) < 0)
		return -1;
	if (rc == 0)
		es_buf_addstr(&r->b1, list_heads[s->b % 3]);
	sim_oracle_new(&r->orc, r->step, ES_KIND_ACTION, 0, "file: action text",
	    tok);
	snprintf(line, sizeof(line), "- [ ] %s %s", s->c % 2 ? "Do" : "Call",
	    tok);
	p = nth_file(r, 1u << ES_KIND_PROJECT, s->a, true);
	if (s->c % 4 == 0 && p >= 0) {
		struct es_path_info info;

		if (es_layout_classify(r->files[p].rel, NULL, &info) == 1)
			snprintf(line + strlen(line), sizeof(line) -
			    strlen(line), " +%.60s", info.slug);
	}
	if (s->c % 5 == 1) {
		today(r->ops->fs_now_ms(r->env->ctx), (int)(s->a % 10), date);
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    " due:%s", date);
	}
	if (s->c % 3 == 0 && s->b % 3 == 2)
		strncat(line, " @home", sizeof(line) - strlen(line) - 1);
	if (s->c % 3 == 1) {
		/* a note under it */
		sim_oracle_new(&r->orc, r->step, ES_KIND_ACTION, 0,
		    "file: note line in a list", tok2);
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		    "\n  Note %s", tok2);
	}
	sim_edit_lines(r->b1.buf, r->b1.len, 0, 2, 1 + (s->a >> 3), line, &r->b2);
	return write_rel(r, s->m, rel, &r->b2, save_of(s, 0), err);
}

static int
action_edit(struct sim_run *r, const struct sim_step *s, struct es_error *err)
{
	struct act_pos p;
	struct es_action a;
	char tok[SIM_TOKEN_LEN + 1], text[64], date[ES_DATE_BUFSZ];
	int rc = 0;

	if (find_action(r, s->m, s->a, &p, err) < 0)
		return -1;
	if (p.l == NULL)
		return 0;
	es_action_init(&a);
	es_action_copy(&a, es_action_list_get(p.l, p.i));
	if (s->b % 3 == 2) {
		today(r->ops->fs_now_ms(r->env->ctx), (int)(s->c % 9), date);
		es_date_parse(date, strlen(date), &a.due);
	} else {
		sim_oracle_new(&r->orc, r->step, ES_KIND_ACTION, 0,
		    "file: action text", tok);
		snprintf(text, sizeof(text), "%s %s", s->c % 2 ? "Do" : "Ask",
		    tok);
		free(a.text);
		a.text = es_xstrdup(text);
	}
	if (es_action_list_set(p.l, p.i, &a, err) == 0) {
		es_buf_reset(&r->b2);
		es_action_list_render(p.l, &r->b2);
		rc = write_rel(r, s->m, r->files[p.f].rel, &r->b2,
		    save_of(s, 0), err);
		if (rc == 0)
			sim_oracle_replace(&r->orc, r->b1.buf, r->b1.len,
			    r->b2.buf, r->b2.len);
	}
	es_action_release(&a);
	es_action_list_free(p.l);
	return rc;
}

/* The a-th action leaves its list: completed, moved, or deleted. */
static int
action_out(struct sim_run *r, const struct sim_step *s, bool complete,
    bool delete, struct es_error *err)
{
	struct act_pos p;
	struct es_action a;
	struct es_action_list *dl = NULL;
	struct es_buf old = ES_BUF_INIT, neu = ES_BUF_INIT;
	const char *to = NULL;
	size_t li;
	int rc = 0;

	if (find_action(r, s->m, s->a, &p, err) < 0)
		return -1;
	if (p.l == NULL)
		return 0;
	es_action_init(&a);
	es_action_copy(&a, es_action_list_get(p.l, p.i));
	es_buf_add(&old, r->b1.buf, r->b1.len);
	li = list_index(r->files[p.f].rel);
	if (complete) {
		char date[ES_DATE_BUFSZ];

		to = COMPLETED_LIST;
		a.state = ES_STATE_COMPLETED;
		today(r->ops->fs_now_ms(r->env->ctx), 0, date);
		es_date_parse(date, strlen(date), &a.completed);
	} else if (!delete) {
		size_t t = (li + 1 + s->b % 2) % 3;

		to = lists[t];
		if (t == 2)
			a.state = ES_STATE_WAITING;
		else {
			a.state = ES_STATE_NEXT;
			free(a.context);
			a.context = es_xstrdup(t == 0 ? "@home" : "@work");
		}
	}
	if (to != NULL) {
		dl = parse_list(r, s->m, to, &r->b3, err, &rc);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			es_action_list_free(dl);
			es_buf_reset(&r->b3);
			es_buf_addstr(&r->b3, complete ? "# Completed\n\n" :
			    list_heads[list_index(to)]);
			{
				struct es_path_info info;

				es_layout_classify(to, NULL, &info);
				dl = es_action_list_parse(r->b3.buf, r->b3.len,
				    to, info.list, info.context[0] ?
				    info.context : NULL);
			}
		}
		es_buf_add(&old, r->b3.buf, r->b3.len);
		if (es_action_list_append(dl, &a, err) < 0) {
			rc = 0;		/* cannot be written there: no-op */
			goto out;
		}
	}
	es_action_list_remove(p.l, p.i);
	es_buf_reset(&r->b2);
	es_action_list_render(p.l, &r->b2);
	if ((rc = write_rel(r, s->m, r->files[p.f].rel, &r->b2, save_of(s, 0),
	    err)) < 0)
		goto out;
	es_buf_add(&neu, r->b2.buf, r->b2.len);
	if (dl != NULL) {
		es_buf_reset(&r->b2);
		es_action_list_render(dl, &r->b2);
		if ((rc = write_rel(r, s->m, to, &r->b2, save_of(s, 1),
		    err)) < 0)
			goto out;
		es_buf_add(&neu, r->b2.buf, r->b2.len);
	}
	/* the removed line's tokens go, the rest stays */
	if (delete)
		sim_oracle_delete(&r->orc, r->step, ES_KIND_ACTION, NULL, 0);
	sim_oracle_replace(&r->orc, old.buf, old.len, neu.buf, neu.len);
out:
	es_action_release(&a);
	es_action_list_free(p.l);
	es_action_list_free(dl);
	es_buf_release(&old);
	es_buf_release(&neu);
	return rc < 0 ? -1 : 0;
}

int
sim_user_step(struct sim_run *r, const struct sim_step *s,
    struct es_error *err)
{
	if (s->op > SIM_GIT_CHECKOUT)
		return sim_api_step(r, s, err);
	if (sim_list_files(r, s->m, err) < 0)
		return -1;
	switch (s->op) {
	case SIM_FILE_CREATE:
		return file_create(r, s, s->a, s->b, 0, err);
	case SIM_FILE_EDIT_FIELD:
		return file_edit_field(r, s, err);
	case SIM_FILE_EDIT_BODY:
		return file_edit_body(r, s, -1, 0, err);
	case SIM_FILE_MOVE:
		return file_move(r, s, err);
	case SIM_FILE_DELETE:
		return file_delete(r, s, -1, err);
	case SIM_ACTION_ADD:
		return action_add(r, s, err);
	case SIM_ACTION_EDIT:
		return action_edit(r, s, err);
	case SIM_ACTION_MOVE:
		return action_out(r, s, false, false, err);
	case SIM_ACTION_COMPLETE:
		return action_out(r, s, true, false, err);
	case SIM_ACTION_DELETE:
		return action_out(r, s, false, true, err);
	case SIM_GIT_CHECKOUT:
		return git_checkout(r, s, err);
	default:
		return 0;
	}
}
