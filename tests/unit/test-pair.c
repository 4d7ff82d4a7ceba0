/*
 * Rename detection (SPEC 4.6, lib/pair.c): is a file at a new path the
 * same project or goal as a baseline entity that lost its file? Each row
 * of the table names the rule of pair.h it checks. Then the similarity
 * index, and the matching of several lost entities with several files
 * (slug first, best evidence first, the inode only as a tie-break, the
 * cost bound).
 */
#include "es-test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "execsync/entity.h"
#include "execsync/pair.h"
#include "execsync/xmalloc.h"

/* One side, as the table spells it. body NULL: a file that does not parse. */
struct side {
	enum es_kind	 kind;
	const char	*slug, *title, *area;
	enum es_folder	 folder;
	enum es_ptype	 type;
	const char	*created;	/* "YYYY-MM-DD" or NULL */
	const char	*body;
	unsigned	 ino;		/* 0: no inode known */
};

#define P	ES_KIND_PROJECT
#define G	ES_KIND_GOAL
#define ACT	ES_FOLDER_ACTIVE
#define INC	ES_FOLDER_INCUBATOR
#define STD	ES_PTYPE_STANDARD
#define HAB	ES_PTYPE_HABIT

/* The body of project-1 in the issue, and some variants of it. */
#define BODY1 \
    "# Project 1\n" \
    "\n" \
    "- call the plumber about the kitchen sink\n" \
    "- buy a new washer for the tap\n" \
    "- book the inspection for March\n" \
    "\n" \
    "Notes: the landlord pays for parts.\n"
#define BODY1_CRLF \
    "# Project 1\r\n" \
    "\r\n" \
    "- call the plumber about the kitchen sink  \r\n" \
    "- buy a new washer for the tap\r\n" \
    "\r\n" \
    "\r\n" \
    "- book the inspection for March\r\n" \
    "\r\n" \
    "Notes: the landlord pays for parts.\r\n"
#define BODY1_EDITED \
    "# Kitchen Repairs\n" \
    "\n" \
    "- call the plumber about the kitchen sink\n" \
    "- buy a new washer for the tap\n" \
    "- book the inspection for April\n" \
    "\n" \
    "Notes: the landlord pays for parts.\n"
#define PLANT \
    "# Plant a tree\n" \
    "\n" \
    "Pick a spot in the back garden with afternoon sun.\n" \
    "Dig the hole twice as wide as the root ball.\n"
/* The same template filled in differently: the headings in common. */
#define TEMPLATE_A \
    "## Outcome\n" \
    "A working bike for the commute, brakes and gears tuned\n" \
    "## Notes\n" \
    "The shop on Elm Street has the parts in stock this week\n"
#define TEMPLATE_B \
    "## Outcome\n" \
    "A garden bed with tomatoes and beans by the summer\n" \
    "## Notes\n" \
    "Ask the neighbours whether they want the leftover seedlings\n"

static const struct tcase {
	const char		*name;
	struct side		 base, file;
	enum es_pair_rule	 want;
} cases[] = {
	/* kind */
	{ "kind: a goal never pairs with a project of the same slug",
	    { P, "run-far", "Run Far", "Health", ACT, STD, NULL, BODY1, 1 },
	    { G, "run-far", "Run Far", NULL, ACT, 0, NULL, BODY1, 1 },
	    ES_PAIR_NONE },
	/* slug */
	{ "slug: same slug in another folder and area",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "project-1", "Project 1", "Garden", INC, STD, "2025-01-02",
	    BODY1, 2 },
	    ES_PAIR_SLUG },
	{ "slug: same slug, everything else rewritten",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "project-1", "Other", "Garden", INC, HAB, "2026-03-04",
	    PLANT, 2 },
	    ES_PAIR_SLUG },
	{ "slug: same slug, the file does not parse",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "project-1", NULL, NULL, INC, 0, NULL, NULL, 2 },
	    ES_PAIR_SLUG },
	{ "slug: a goal moved into a subfolder",
	    { G, "run-far", "Run Far", NULL, ACT, 0, NULL, "keep going\n", 1 },
	    { G, "run-far", "Run Farther", NULL, ACT, 0, NULL, "keep going\n",
	    2 },
	    ES_PAIR_SLUG },
	/* body */
	{ "body: an editor's retitle (new file name and title, same body)",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "kitchen-repairs", "Kitchen Repairs", "Home", ACT, STD,
	    "2025-01-02", BODY1, 2 },
	    ES_PAIR_BODY },
	{ "body: retitle plus a small edit of the body",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "kitchen-repairs", "Kitchen Repairs", "Home", ACT, STD,
	    "2025-01-02", BODY1_EDITED, 2 },
	    ES_PAIR_BODY },
	{ "body: renamed and moved to another area and folder",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "flat-repairs", "Flat Repairs", "Landlord", INC, HAB,
	    "2025-01-02", BODY1_EDITED, 0 },
	    ES_PAIR_BODY },
	{ "body: line endings, trailing blanks and blank lines do not count",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "project-one", "Project One", "Home", ACT, STD, "2025-01-02",
	    BODY1_CRLF, 2 },
	    ES_PAIR_BODY },
	{ "body: created missing on one side is no contradiction",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "kitchen-repairs", "Kitchen Repairs", "Home", ACT, STD, NULL,
	    BODY1, 2 },
	    ES_PAIR_BODY },
	{ "body: unrelated content with the same inode (the issue)",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 7 },
	    { P, "plant-tree", "Plant Tree", "Garden", INC, HAB, "2026-03-04",
	    PLANT, 7 },
	    ES_PAIR_NONE },
	{ "body: unrelated content, same area, type, created and inode",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 7 },
	    { P, "plant-tree", "Plant Tree", "Home", ACT, STD, "2025-01-02",
	    PLANT, 7 },
	    ES_PAIR_NONE },
	{ "body: one template filled in two ways is under 50%",
	    { P, "fix-bike", "Fix Bike", "Home", ACT, STD, "2025-01-02",
	    TEMPLATE_A, 7 },
	    { P, "plant-beds", "Plant Beds", "Home", ACT, STD, "2025-01-02",
	    TEMPLATE_B, 7 },
	    ES_PAIR_NONE },
	{ "body: text on one side only, another title",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    "", 7 },
	    { P, "plant-tree", "Plant Tree", "Home", ACT, STD, "2025-01-02",
	    PLANT, 7 },
	    ES_PAIR_NONE },
	/* created */
	{ "created: same body, another created date",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 1 },
	    { P, "project-2", "Project 2", "Home", ACT, STD, "2025-06-07",
	    BODY1, 1 },
	    ES_PAIR_NONE },
	/* title */
	{ "title: empty bodies, other titles, same inode",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    "", 7 },
	    { P, "plant-tree", "Plant Tree", "Home", ACT, STD, "2025-01-02",
	    "", 7 },
	    ES_PAIR_NONE },
	{ "title: blank bodies (whitespace only), other titles",
	    { P, "project-1", "Project 1", "Home", ACT, STD, NULL,
	    "\n\n  \r\n", 7 },
	    { P, "plant-tree", "Plant Tree", "Home", ACT, STD, NULL, "\n", 7 },
	    ES_PAIR_NONE },
	{ "title: an empty project retitled is not taken for a rename",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    "", 7 },
	    { P, "project-one", "Project One", "Home", ACT, STD, "2025-01-02",
	    "", 7 },
	    ES_PAIR_NONE },
	{ "title: empty bodies, same title and created (a renamed file)",
	    { P, "plan-2", "Plan", "Home", ACT, STD, "2025-01-02", "", 1 },
	    { P, "plan", "Plan", "Work", ACT, STD, "2025-01-02", "", 2 },
	    ES_PAIR_TITLE },
	{ "title: same title, created differs",
	    { P, "plan-2", "Plan", "Home", ACT, STD, "2025-01-02", "", 1 },
	    { P, "plan", "Plan", "Work", ACT, STD, "2025-05-05", "", 1 },
	    ES_PAIR_NONE },
	{ "title: a body written into an empty project, same title",
	    { P, "plan-2", "Plan", "Home", ACT, STD, "2025-01-02", "", 1 },
	    { P, "plan", "Plan", "Work", ACT, STD, "2025-01-02", PLANT, 2 },
	    ES_PAIR_TITLE },
	/* hold */
	{ "hold: a file that does not parse at the lost file's inode",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 7 },
	    { P, "plant-tree", NULL, NULL, INC, 0, NULL, NULL, 7 },
	    ES_PAIR_HOLD },
	{ "hold: a file that does not parse elsewhere is not the entity",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 7 },
	    { P, "plant-tree", NULL, NULL, INC, 0, NULL, NULL, 8 },
	    ES_PAIR_NONE },
	{ "hold: no inode known for the lost file",
	    { P, "project-1", "Project 1", "Home", ACT, STD, "2025-01-02",
	    BODY1, 0 },
	    { P, "plant-tree", NULL, NULL, INC, 0, NULL, NULL, 0 },
	    ES_PAIR_NONE },
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? es_xstrdup(v) : NULL;
}

/* Fills e (when the side parses) and the item that borrows it. */
static void
side_make(const struct side *s, struct es_entity *e, struct es_pair_item *it)
{
	es_entity_init(e, s->kind);
	memset(it, 0, sizeof(*it));
	it->kind = s->kind;
	it->slug = s->slug;
	it->has_ino = s->ino != 0;
	it->dev = 2049;
	it->ino = s->ino;
	if (s->body == NULL)
		return;
	set_str(&e->title, s->title);
	set_str(&e->slug, s->slug);
	set_str(&e->area, s->area);
	e->folder = s->folder;
	e->type = s->type;
	if (s->created != NULL)
		assert_true(es_date_parse(s->created, strlen(s->created),
		    &e->created));
	es_entity_set_content(e, s->body, strlen(s->body));
	it->e = e;
}

static void
test_rules_table(void **state)
{
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];
		struct es_entity be, fe;
		struct es_pair_item b, f;
		struct es_pair_verdict v;

		side_make(&c->base, &be, &b);
		side_make(&c->file, &fe, &f);
		v = es_pair_judge(&b, &f);
		if (v.rule != c->want) {
			print_error("%s: want %s, got %s (similarity %u%%)\n",
			    c->name, es_pair_rule_name(c->want),
			    es_pair_rule_name(v.rule), v.similarity);
			bad++;
		}
		/* The inode never changes a verdict about a parsed file. */
		if (c->file.body != NULL && c->base.ino != 0) {
			f.has_ino = true;
			f.ino = b.ino + (f.ino == b.ino);
			if (es_pair_judge(&b, &f).rule != c->want) {
				print_error("%s: the inode changed the verdict"
				    "\n", c->name);
				bad++;
			}
		}
		es_entity_release(&be);
		es_entity_release(&fe);
	}
	assert_int_equal(bad, 0);
}

/* ---- the similarity index ---- */

static const struct {
	const char	*name, *a, *b;
	unsigned	 want;
} sims[] = {
	{ "identical", BODY1, BODY1, 100 },
	{ "both empty: nothing to compare", "", "", 0 },
	{ "blank only", "\n \n", "\t\r\n", 0 },
	{ "one side empty", BODY1, "", 0 },
	{ "CRLF, trailing blanks, blank lines", BODY1, BODY1_CRLF, 100 },
	{ "lines reordered", "a line\nb line\n", "b line\na line\n", 100 },
	{ "disjoint", BODY1, PLANT, 0 },
	/* "aaaa\n" 5 bytes of "aaaa\nbbbb\n" 10: 50%, the threshold. */
	{ "half kept", "aaaa\nbbbb\n", "aaaa\ncccc\n", 50 },
	{ "a duplicate line counts once per copy", "x\nx\nx\nx\n", "x\n",
	    25 },
	{ "shorter copy: over the larger size", "aaaa\n", "aaaa\nbbbb\n",
	    50 },
};

static void
test_similarity(void **state)
{
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(sims) / sizeof(sims[0]); i++) {
		unsigned got = es_pair_similarity(sims[i].a, strlen(sims[i].a),
		    sims[i].b, strlen(sims[i].b));
		unsigned rev = es_pair_similarity(sims[i].b, strlen(sims[i].b),
		    sims[i].a, strlen(sims[i].a));

		if (got != sims[i].want || rev != got) {
			print_error("%s: want %u, got %u (reversed %u)\n",
			    sims[i].name, sims[i].want, got, rev);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* The threshold is git's: at 50% a rename, just under it not. */
static void
test_threshold(void **state)
{
	struct side base = { P, "old", "Old", "Home", ACT, STD, NULL,
	    "aaaa\nbbbb\n", 1 };
	struct side at = { P, "new", "New", "Home", ACT, STD, NULL,
	    "aaaa\ncccc\n", 2 };
	struct side under = { P, "new", "New", "Home", ACT, STD, NULL,
	    "aaaa\ncccccc\n", 2 };
	struct es_entity be, fe;
	struct es_pair_item b, f;
	struct es_pair_verdict v;

	(void)state;
	side_make(&base, &be, &b);
	side_make(&at, &fe, &f);
	v = es_pair_judge(&b, &f);
	assert_int_equal(v.rule, ES_PAIR_BODY);
	assert_int_equal(v.similarity, ES_PAIR_MIN_SIMILARITY);
	es_entity_release(&fe);
	side_make(&under, &fe, &f);
	v = es_pair_judge(&b, &f);
	assert_int_equal(v.rule, ES_PAIR_NONE);
	es_entity_release(&be);
	es_entity_release(&fe);
}

/* ---- matching ---- */

struct mfx {
	struct es_entity	*le, *fe;
	struct es_pair_item	*l, *f;
	size_t			 nl, nf;
	ssize_t			*match;
	struct es_pair_verdict	*why;
	struct es_pair_stats	 st;
};

static void
mfx_init(struct mfx *m, const struct side *l, size_t nl, const struct side *f,
    size_t nf)
{
	memset(m, 0, sizeof(*m));
	m->nl = nl;
	m->nf = nf;
	m->le = es_xcalloc(nl + 1, sizeof(*m->le));
	m->fe = es_xcalloc(nf + 1, sizeof(*m->fe));
	m->l = es_xcalloc(nl + 1, sizeof(*m->l));
	m->f = es_xcalloc(nf + 1, sizeof(*m->f));
	m->match = es_xcalloc(nl + 1, sizeof(*m->match));
	m->why = es_xcalloc(nl + 1, sizeof(*m->why));
	for (size_t i = 0; i < nl; i++)
		side_make(&l[i], &m->le[i], &m->l[i]);
	for (size_t j = 0; j < nf; j++)
		side_make(&f[j], &m->fe[j], &m->f[j]);
}

static void
mfx_run(struct mfx *m, size_t max_pairs, size_t max_work)
{
	struct es_pair_limits lim = { max_pairs, max_work };

	es_pair_match(m->l, m->nl, m->f, m->nf, &lim, m->match, m->why,
	    &m->st);
}

static void
mfx_release(struct mfx *m)
{
	for (size_t i = 0; i < m->nl; i++)
		es_entity_release(&m->le[i]);
	for (size_t j = 0; j < m->nf; j++)
		es_entity_release(&m->fe[j]);
	free(m->le);
	free(m->fe);
	free(m->l);
	free(m->f);
	free(m->match);
	free(m->why);
}

/* SPEC 4.6, the issue: project-1 deleted, plant-tree created on its inode. */
static void
test_match_issue_not_paired(void **state)
{
	struct side l[] = { { P, "project-1", "Project 1", "Home", ACT, STD,
	    "2025-01-02", BODY1, 7 } };
	struct side f[] = { { P, "plant-tree", "Plant Tree", "Garden", INC,
	    HAB, "2026-03-04", PLANT, 7 } };
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 1, f, 1);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], -1);
	mfx_release(&m);
}

/*
 * Issue 19 item 3: the app retitled an empty project (slug old-name ->
 * new-name), the pass renamed and rewrote its file (a new inode, a new
 * title) and died before its baseline commit. No body, another title,
 * another inode: only the document's current slug (the alias) says it is
 * the same entity, so no second document is made.
 */
static void
test_match_alias_after_crash(void **state)
{
	struct side l[] = { { P, "old-name", "Old Name", "Home", ACT, STD,
	    "2025-01-02", "", 7 } };
	struct side f[] = { { P, "new-name", "New Name", "Home", ACT, STD,
	    "2025-01-02", "", 9 } };
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 1, f, 1);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], -1);	/* without the alias: lost */
	mfx_release(&m);
	mfx_init(&m, l, 1, f, 1);
	m.l[0].alias = "new-name";
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 0);
	assert_int_equal(m.why[0].rule, ES_PAIR_SLUG);
	/* An alias never takes another entity's file by its own slug. */
	m.l[0].alias = "other";
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], -1);
	mfx_release(&m);
}

/* Several equally similar candidates: the inode breaks the tie. */
static void
test_match_inode_breaks_tie(void **state)
{
	struct side l[] = { { P, "project-1", "Project 1", "Home", ACT, STD,
	    "2025-01-02", BODY1, 7 } };
	struct side f[] = {
		{ P, "copy-a", "Copy", "Home", ACT, STD, "2025-01-02", BODY1,
		    8 },
		{ P, "copy-b", "Copy", "Home", ACT, STD, "2025-01-02", BODY1,
		    7 },
		{ P, "copy-c", "Copy", "Home", ACT, STD, "2025-01-02", BODY1,
		    9 },
	};
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 1, f, 3);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 1);
	assert_int_equal(m.why[0].rule, ES_PAIR_BODY);
	assert_true(m.why[0].same_inode);
	mfx_release(&m);
}

/* Better evidence beats the inode: the more similar body wins. */
static void
test_match_evidence_before_inode(void **state)
{
	struct side l[] = { { P, "project-1", "Project 1", "Home", ACT, STD,
	    "2025-01-02", BODY1, 7 } };
	struct side f[] = {
		{ P, "edited", "Kitchen Repairs", "Home", ACT, STD,
		    "2025-01-02", BODY1_EDITED, 7 },
		{ P, "renamed", "Kitchen", "Home", ACT, STD, "2025-01-02",
		    BODY1, 8 },
	};
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 1, f, 2);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 1);
	assert_int_equal(m.why[0].similarity, 100);
	mfx_release(&m);
}

/* The slug step first; each file at most once; two renames at once. */
static void
test_match_slug_first_each_file_once(void **state)
{
	struct side l[] = {
		{ P, "alpha", "Alpha", "Work", ACT, STD, "2025-01-02",
		    BODY1, 1 },
		{ P, "beta", "Beta", "Work", ACT, STD, "2025-01-02", PLANT,
		    2 },
		{ P, "gamma", "Gamma", "Work", ACT, STD, "2025-01-02", PLANT,
		    3 },
	};
	struct side f[] = {
		/* alpha moved, its body now beta's: the name decides */
		{ P, "alpha", "Alpha", "Home", INC, STD, "2025-01-02", PLANT,
		    1 },
		/* beta retitled */
		{ P, "beta-two", "Beta Two", "Work", ACT, STD, "2025-01-02",
		    PLANT, 2 },
	};
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 3, f, 2);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 0);
	assert_int_equal(m.why[0].rule, ES_PAIR_SLUG);
	assert_int_equal(m.match[1], 1);
	assert_int_equal(m.why[1].rule, ES_PAIR_BODY);
	assert_int_equal(m.match[2], -1);	/* same body, file taken */
	mfx_release(&m);
}

/* Two files with one slug (two area folders): the inode picks. */
static void
test_match_slug_inode_tie(void **state)
{
	struct side l[] = { { P, "plan", "Plan", "Work", ACT, STD,
	    "2025-01-02", BODY1, 5 } };
	struct side f[] = {
		{ P, "plan", "Plan", "Home", ACT, STD, "2025-01-02", PLANT,
		    4 },
		{ P, "plan", "Plan", "Side", ACT, STD, "2025-01-02", PLANT,
		    5 },
	};
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 1, f, 2);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 1);
	mfx_release(&m);
}

/* A broken file holds only what content did not pair. */
static void
test_match_hold_after_content(void **state)
{
	struct side l[] = {
		{ P, "alpha", "Alpha", "Work", ACT, STD, "2025-01-02", BODY1,
		    1 },
		{ P, "beta", "Beta", "Work", ACT, STD, "2025-01-02", PLANT, 2 },
	};
	struct side f[] = {
		{ P, "broken", NULL, NULL, ACT, 0, NULL, NULL, 1 },
		{ P, "alpha-2", "Alpha 2", "Work", ACT, STD, "2025-01-02",
		    BODY1, 9 },
		{ P, "broken-2", NULL, NULL, ACT, 0, NULL, NULL, 2 },
	};
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 2, f, 3);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 1);
	assert_int_equal(m.why[0].rule, ES_PAIR_BODY);
	assert_int_equal(m.match[1], 2);
	assert_int_equal(m.why[1].rule, ES_PAIR_HOLD);
	mfx_release(&m);
}

/*
 * The bounds: body comparisons stop after max_work lines merged; over
 * max_pairs remaining pairs the similar step is left out (identical bodies
 * are still found). What is left out is counted, never guessed.
 */
static void
test_match_bounds(void **state)
{
	struct side l[] = {
		{ P, "a", "A", "W", ACT, STD, NULL, "one\ntwo\nthree\n", 1 },
		{ P, "b", "B", "W", ACT, STD, NULL, "four\nfive\nsix\n", 2 },
		{ P, "c", "C", "W", ACT, STD, NULL, "seven\neight\n", 5 },
	};
	struct side f[] = {
		{ P, "a2", "A2", "W", ACT, STD, NULL, "one\ntwo\nthree!\n", 3 },
		{ P, "b2", "B2", "W", ACT, STD, NULL, "four\nfive\nsix!\n", 4 },
		{ P, "c2", "C2", "W", ACT, STD, NULL, "eight\nseven\n", 6 },
	};
	struct mfx m;

	(void)state;
	mfx_init(&m, l, 3, f, 3);
	mfx_run(&m, 0, 0);
	assert_int_equal(m.match[0], 0);
	assert_int_equal(m.match[1], 1);
	assert_int_equal(m.match[2], 2);
	assert_int_equal(m.st.compared, 4);	/* a, b against a2, b2 */
	assert_int_equal(m.st.work, 4 * 6);
	assert_int_equal(m.st.skipped, 0);
	/* Room for one comparison of 3 + 3 lines. */
	mfx_run(&m, 0, 6);
	assert_int_equal(m.st.compared, 1);
	assert_int_equal(m.st.skipped, 3);
	assert_int_equal(m.match[0], 0);
	assert_int_equal(m.match[1], -1);	/* left out: deleted, created */
	assert_int_equal(m.match[2], 2);
	/* 2 x 2 similar pairs remain, over 3. */
	mfx_run(&m, 3, 0);
	assert_int_equal(m.st.compared, 0);
	assert_int_equal(m.st.skipped, 4);
	assert_int_equal(m.match[0], -1);
	assert_int_equal(m.match[1], -1);
	assert_int_equal(m.match[2], 2);
	mfx_release(&m);
}

/*
 * Thousands of renamed files with their bodies kept: found by sorting,
 * without a single body comparison; each finds its own.
 */
static void
test_match_many_identical(void **state)
{
	enum { N = 3000 };
	struct side *l = es_xcalloc(N, sizeof(*l));
	struct side *f = es_xcalloc(N, sizeof(*f));
	char **strs = es_xcalloc(4 * N, sizeof(*strs));
	struct mfx m;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		strs[4 * i] = es_xasprintf("old-%zu", i);
		strs[4 * i + 1] = es_xasprintf("new-%zu", (i * 7919) % N);
		strs[4 * i + 2] = es_xasprintf("body of project %zu\nline\n",
		    i);
		strs[4 * i + 3] = es_xasprintf("body of project %zu\nline\n",
		    (i * 7919) % N);
		l[i] = (struct side){ P, strs[4 * i], "T", "W", ACT, STD,
		    NULL, strs[4 * i + 2], (unsigned)i + 1 };
		f[i] = (struct side){ P, strs[4 * i + 1], "T", "W", ACT, STD,
		    NULL, strs[4 * i + 3], (unsigned)i + 1 };
	}
	mfx_init(&m, l, N, f, N);
	mfx_run(&m, 0, 0);
	for (size_t i = 0; i < N; i++) {
		ssize_t j = m.match[i];

		assert_true(j >= 0);
		assert_string_equal(m.fe[j].content, m.le[i].content);
	}
	assert_int_equal(m.st.compared, 0);	/* found by sorting alone */
	mfx_release(&m);
	for (size_t i = 0; i < 4 * N; i++)
		free(strs[i]);
	free(strs);
	free(l);
	free(f);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rules_table),
	cmocka_unit_test(test_similarity),
	cmocka_unit_test(test_threshold),
	cmocka_unit_test(test_match_issue_not_paired),
	cmocka_unit_test(test_match_alias_after_crash),
	cmocka_unit_test(test_match_inode_breaks_tie),
	cmocka_unit_test(test_match_evidence_before_inode),
	cmocka_unit_test(test_match_slug_first_each_file_once),
	cmocka_unit_test(test_match_slug_inode_tie),
	cmocka_unit_test(test_match_hold_after_content),
	cmocka_unit_test(test_match_bounds),
	cmocka_unit_test(test_match_many_identical),
};

ES_TEST_MAIN(tests)
