/* Action lines (SPEC §2 "Action list files"). */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "execsync/action-line.h"
#include "execsync/xmalloc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define D(s) date_of(s)

static es_date_t
date_of(const char *s)
{
	es_date_t d = ES_DATE_NONE;

	if (s != NULL && !es_date_parse(s, strlen(s), &d))
		fail_msg("bad test date '%s'", s);
	return d;
}

static int
parse(const char *line, enum es_list_kind list, const char *ctx,
    struct es_action *a, enum es_line_form *form, struct es_error *err)
{
	es_action_init(a);
	return es_action_line_parse(line, strlen(line), list, ctx, a, form,
	    err);
}

static void
assert_str_or_null(const char *got, const char *want, const char *line)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", line,
		    got ? got : "(null)", want ? want : "(null)");
}

/* SPEC §2: which lines are actions, which are notes kept verbatim. */
static void
test_spec2_recognition(void **state)
{
	static const struct {
		const char	*line;
		int		 want;	/* 1 action, 0 note, -1 bad action */
	} cases[] = {
		{ "- [ ] Call mom", 1 },
		{ "- [x] 2025-11-10 Call mom", 1 },
		{ "- [X] Done", 1 },
		{ "- [ ]\tTabbed", 1 },
		{ "(A) Call mom", 1 },
		{ "(Z)\tLast", 1 },
		{ "x 2025-11-10 Call mom", 1 },
		{ "x 2025-11-10\tCall mom", 1 },
		{ "x marks the spot", 0 },
		{ "x 2025-13-01 not a date", 0 },
		{ "x 2025-11-10", 0 },
		{ "x  2025-11-10 two spaces", 0 },
		{ "X 2025-11-10 capital", 0 },
		{ "xylophone", 0 },
		{ "  - [ ] indented", 0 },
		{ "\t- [ ] indented", 0 },
		{ " (A) indented", 0 },
		{ "-[ ] no space", 0 },
		{ "- [] empty box", 0 },
		{ "- [ ]x glued", 0 },
		{ "- [y] other mark", 0 },
		{ "* [ ] star", 0 },
		{ "- item", 0 },
		{ "# Heading", 0 },
		{ "## - [ ] in a heading", 0 },
		{ "---", 0 },
		{ "", 0 },
		{ "Just a note", 0 },
		{ "(a) lower case", 0 },
		{ "(A)glued", 0 },
		{ "(AB) two letters", 0 },
		{ "- [ ]", -1 },
		{ "- [ ] ", -1 },
		{ "- [x]   ", -1 },
		{ "(A)", -1 },
		{ "x 2025-11-10 ", -1 },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;
		int r = parse(cases[i].line, ES_LIST_WAITING, NULL, &a, NULL,
		    &err);

		if (r != cases[i].want)
			fail_msg("'%s': got %d, want %d", cases[i].line, r,
			    cases[i].want);
		if (r != 1)
			assert_null(a.text);
		es_action_release(&a);
	}
}

struct fields {
	const char	*text;
	const char	*context;
	const char	*project;
	const char	*due;
	const char	*defer;
	const char	*date;
	const char	*completed;
	char		 priority;
	enum es_state	 state;
};

static void
check_fields(const char *line, const struct es_action *a,
    const struct fields *f)
{
	assert_str_or_null(a->text, f->text, line);
	assert_str_or_null(a->context, f->context, line);
	assert_str_or_null(a->project_slug, f->project, line);
	if (a->due != D(f->due) || a->defer != D(f->defer) ||
	    a->action_date != D(f->date) || a->completed != D(f->completed))
		fail_msg("'%s': dates differ", line);
	if (a->priority != f->priority)
		fail_msg("'%s': priority %d, want %d", line, a->priority,
		    f->priority);
	if (a->state != f->state)
		fail_msg("'%s': state %d, want %d", line, a->state, f->state);
}

/* SPEC §2: tokens anywhere, whole words only, first @/+ wins. */
static void
test_spec2_tokens(void **state)
{
	static const struct {
		const char	*line;
		struct fields	 f;
	} cases[] = {
		{ "- [ ] 2025-11-09 Refactor the auth module @macbook "
		  "+api-redesign due:2025-11-15 defer:2025-11-12",
		  { "Refactor the auth module", "@macbook", "api-redesign",
		    "2025-11-15", "2025-11-12", "2025-11-09", NULL, 0,
		    ES_STATE_WAITING } },
		{ "- [ ] Email bob@example.com about +x",
		  { "Email bob@example.com about", NULL, "x", NULL, NULL,
		    NULL, NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] @home +p Fix @later +q sink",
		  { "Fix @later +q sink", "@home", "p", NULL, NULL, NULL,
		    NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] due:2025-01-02 Pay   rent\t now  ",
		  { "Pay rent now", NULL, NULL, "2025-01-02", NULL, NULL,
		    NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] Use @ and + alone, C++ too",
		  { "Use @ and + alone, C++ too", NULL, NULL, NULL, NULL,
		    NULL, NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] Thing 2025-11-09 later",
		  { "Thing 2025-11-09 later", NULL, NULL, NULL, NULL, NULL,
		    NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] Due: discuss due-dates and deferral",
		  { "Due: discuss due-dates and deferral", NULL, NULL, NULL,
		    NULL, NULL, NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] x defer:2025-02-28",
		  { "x", NULL, NULL, NULL, "2025-02-28", NULL, NULL, 0,
		    ES_STATE_WAITING } },
		{ "- [ ] Café Münster @büro +naïve",
		  { "Café Münster", "@büro", "naïve", NULL, NULL, NULL,
		    NULL, 0, ES_STATE_WAITING } },
		/* Priorities: a "(A)" word in the priority slot only. */
		{ "- [ ] (B) Thing",
		  { "Thing", NULL, NULL, NULL, NULL, NULL, NULL, 'B',
		    ES_STATE_WAITING } },
		{ "- [ ] (B) 2025-11-09 Thing",
		  { "Thing", NULL, NULL, NULL, NULL, "2025-11-09", NULL,
		    'B', ES_STATE_WAITING } },
		{ "- [ ] 2025-11-09 (B) Thing",
		  { "(B) Thing", NULL, NULL, NULL, NULL, "2025-11-09", NULL,
		    0, ES_STATE_WAITING } },
		{ "- [ ] (b) Thing",
		  { "(b) Thing", NULL, NULL, NULL, NULL, NULL, NULL, 0,
		    ES_STATE_WAITING } },
		{ "- [ ] 2025-11-09 2025-11-10 Thing",
		  { "2025-11-10 Thing", NULL, NULL, NULL, NULL, "2025-11-09",
		    NULL, 0, ES_STATE_WAITING } },
		{ "- [ ] @c 2025-11-10 Thing",
		  { "2025-11-10 Thing", "@c", NULL, NULL, NULL, NULL, NULL,
		    0, ES_STATE_WAITING } },
		/* A done line in a state list: completed, date or not. */
		{ "- [x] 2025-11-10 Thing",
		  { "Thing", NULL, NULL, NULL, NULL, NULL, "2025-11-10", 0,
		    ES_STATE_COMPLETED } },
		{ "- [X] Thing",
		  { "Thing", NULL, NULL, NULL, NULL, NULL, NULL, 0,
		    ES_STATE_COMPLETED } },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;
		enum es_line_form form = ES_LINE_TODOTXT;

		if (parse(cases[i].line, ES_LIST_WAITING, NULL, &a, &form,
		    &err) != 1)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		assert_int_equal(form, ES_LINE_CHECKLIST);
		check_fields(cases[i].line, &a, &cases[i].f);
		es_action_release(&a);
	}
}

/* SPEC §2: completed.md holds "- [x] <completion-date> <original rest>". */
static void
test_spec2_completed_md(void **state)
{
	static const struct {
		enum es_list_kind list;
		const char	*line;
		struct fields	 f;
	} cases[] = {
		{ ES_LIST_COMPLETED,
		  "- [x] 2025-11-10 2025-11-09 Refactor @macbook +api",
		  { "Refactor", "@macbook", "api", NULL, NULL, "2025-11-09",
		    "2025-11-10", 0, ES_STATE_COMPLETED } },
		{ ES_LIST_COMPLETED, "- [x] 2025-11-10 (A) 2025-11-09 Text",
		  { "Text", NULL, NULL, NULL, NULL, "2025-11-09",
		    "2025-11-10", 'A', ES_STATE_COMPLETED } },
		{ ES_LIST_COMPLETED, "- [x] (A) 2025-11-10 Text",
		  { "Text", NULL, NULL, NULL, NULL, NULL, "2025-11-10", 'A',
		    ES_STATE_COMPLETED } },
		{ ES_LIST_COMPLETED, "- [x] 2025-11-10 Text",
		  { "Text", NULL, NULL, NULL, NULL, NULL, "2025-11-10", 0,
		    ES_STATE_COMPLETED } },
		{ ES_LIST_COMPLETED, "- [x] Text",
		  { "Text", NULL, NULL, NULL, NULL, NULL, NULL, 0,
		    ES_STATE_COMPLETED } },
		/* An open box in completed.md: the list says completed. */
		{ ES_LIST_COMPLETED, "- [ ] 2025-11-09 Text",
		  { "Text", NULL, NULL, NULL, NULL, "2025-11-09", NULL, 0,
		    ES_STATE_COMPLETED } },
		/* A done line in a context list keeps the list's context. */
		{ ES_LIST_CONTEXT, "- [x] 2025-11-10 Text",
		  { "Text", "@macbook", NULL, NULL, NULL, NULL, "2025-11-10",
		    0, ES_STATE_COMPLETED } },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;

		if (parse(cases[i].line, cases[i].list, "@macbook", &a, NULL,
		    &err) != 1)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		check_fields(cases[i].line, &a, &cases[i].f);
		es_action_release(&a);
	}
}

/* SPEC §2: plain todo.txt lines, priority and completion kept. */
static void
test_spec2_todotxt(void **state)
{
	static const struct {
		const char	*line;
		struct fields	 f;
	} cases[] = {
		{ "(A) 2025-11-09 text @ctx +proj",
		  { "text", "@ctx", "proj", NULL, NULL, "2025-11-09", NULL,
		    'A', ES_STATE_DEFERRED } },
		{ "(A) (B) text",
		  { "(B) text", NULL, NULL, NULL, NULL, NULL, NULL, 'A',
		    ES_STATE_DEFERRED } },
		{ "(C)\ttext due:2026-01-31",
		  { "text", NULL, NULL, "2026-01-31", NULL, NULL, NULL, 'C',
		    ES_STATE_DEFERRED } },
		{ "x 2025-11-10 2025-11-09 text",
		  { "text", NULL, NULL, NULL, NULL, "2025-11-09",
		    "2025-11-10", 0, ES_STATE_COMPLETED } },
		{ "x 2025-11-10 (B) 2025-11-09 text",
		  { "text", NULL, NULL, NULL, NULL, "2025-11-09",
		    "2025-11-10", 'B', ES_STATE_COMPLETED } },
		{ "x 2025-11-10 text",
		  { "text", NULL, NULL, NULL, NULL, NULL, "2025-11-10", 0,
		    ES_STATE_COMPLETED } },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;
		enum es_line_form form = ES_LINE_CHECKLIST;

		if (parse(cases[i].line, ES_LIST_DEFERRED, NULL, &a, &form,
		    &err) != 1)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		assert_int_equal(form, ES_LINE_TODOTXT);
		check_fields(cases[i].line, &a, &cases[i].f);
		es_action_release(&a);
	}
}

/* SPEC §4.10: a malformed action line is an error naming the bad value. */
static void
test_spec4_10_line_errors(void **state)
{
	static const struct {
		const char	*line;
		const char	*msg;
	} cases[] = {
		{ "- [ ] Pay due:xyz", "bad date 'xyz' in 'due:'" },
		{ "- [ ] Pay due:2025-02-30",
		  "bad date '2025-02-30' in 'due:'" },
		{ "- [ ] Pay due:", "bad date '' in 'due:'" },
		{ "- [ ] Pay defer:tomorrow",
		  "bad date 'tomorrow' in 'defer:'" },
		{ "- [ ] Pay due:2025-01-01 due:2025-01-02",
		  "more than one 'due:' token" },
		{ "- [ ] Pay defer:2025-01-01 x defer:2025-01-01",
		  "more than one 'defer:' token" },
		{ "- [ ] 2025-13-01 Fix", "bad date '2025-13-01'" },
		{ "(A) 2025-02-29 Fix", "bad date '2025-02-29'" },
		{ "- [x] 2025-11-10 2025-02-30 Fix", "bad date '2025-02-30'" },
		{ "- [x] 0000-01-01 Fix", "bad date '0000-01-01'" },
		{ "- [ ] @home/office Fix", "bad context '@home/office'" },
		{ "- [ ] @../x Fix", "bad context '@../x'" },
		/* Issue 19 item 10: what the database could never sync back. */
		{ "- [ ] Call @.. now", "bad context '@..'" },
		{ "- [ ] Call @. now", "bad context '@.'" },
		{ "- [ ] Call @a\\b now", "bad context '@a\\b'" },
		{ "- [ ] @ctx +p due:2025-01-01", "action has no text" },
		{ "- [ ]", "action has no text" },
		{ "(A)", "action has no text" },
		{ "- [ ] a\001b", "control character 0x01 in action line" },
		{ "- [ ] a\rb", "control character 0x0d in action line" },
		{ "- [ ] tail\177", "control character 0x7f in action line" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;

		es_error_clear(&err);
		if (parse(cases[i].line, ES_LIST_CONTEXT, "@x", &a, NULL,
		    &err) != -1)
			fail_msg("'%s': parsed", cases[i].line);
		assert_int_equal(err.code, ES_EPARSE);
		assert_string_equal(err.msg, cases[i].msg);
		assert_int_equal(err.line, 0);
		assert_null(a.text);
		assert_null(a.context);
		es_action_release(&a);
	}

	/* A NUL byte inside the line is data, and an error. */
	{
		static const char nul[] = "- [ ] a\0b";
		struct es_action a;
		struct es_error err;

		es_action_init(&a);
		assert_int_equal(es_action_line_parse(nul, sizeof(nul) - 1,
		    ES_LIST_WAITING, NULL, &a, NULL, &err), -1);
		assert_string_equal(err.msg,
		    "control character 0x00 in action line");
	}
}

/* SPEC §2: state from the list, context from contexts/@<ctx>.md. */
static void
test_spec2_state_and_context_from_list(void **state)
{
	static const struct {
		enum es_list_kind list;
		const char	*list_ctx;
		const char	*line;
		const char	*context;
		enum es_state	 state;
	} cases[] = {
		{ ES_LIST_CONTEXT, "@macbook", "- [ ] Fix", "@macbook",
		  ES_STATE_NEXT },
		{ ES_LIST_CONTEXT, "@macbook", "- [ ] Fix @phone", "@phone",
		  ES_STATE_NEXT },
		{ ES_LIST_CONTEXT, NULL, "- [ ] Fix", NULL, ES_STATE_NEXT },
		{ ES_LIST_WAITING, "@macbook", "- [ ] Fix", NULL,
		  ES_STATE_WAITING },
		{ ES_LIST_WAITING, NULL, "- [ ] Fix @ana", "@ana",
		  ES_STATE_WAITING },
		{ ES_LIST_DEFERRED, NULL, "- [ ] Fix", NULL,
		  ES_STATE_DEFERRED },
		{ ES_LIST_INCUBATING, NULL, "(B) Fix", NULL,
		  ES_STATE_INCUBATING },
		{ ES_LIST_COMPLETED, NULL, "- [x] 2025-01-01 Fix", NULL,
		  ES_STATE_COMPLETED },
		{ ES_LIST_INCUBATING, NULL, "x 2025-01-01 Fix", NULL,
		  ES_STATE_COMPLETED },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;

		if (parse(cases[i].line, cases[i].list, cases[i].list_ctx,
		    &a, NULL, &err) != 1)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		assert_str_or_null(a.context, cases[i].context,
		    cases[i].line);
		assert_int_equal(a.state, cases[i].state);
		es_action_release(&a);
	}
}

/* SPEC §4.8: canonical lines survive parse -> render byte for byte. */
static void
test_spec4_8_canonical_lines_round_trip(void **state)
{
	static const struct {
		enum es_list_kind list;
		const char	*list_ctx;
		const char	*line;
	} cases[] = {
		{ ES_LIST_CONTEXT, "@phone", "- [ ] Call mom" },
		{ ES_LIST_CONTEXT, "@office", "- [ ] 2025-11-09 Refactor the "
		  "auth module @macbook +api-redesign due:2025-11-15 "
		  "defer:2025-11-12" },
		{ ES_LIST_CONTEXT, "@macbook", "- [ ] 2025-11-09 Refactor "
		  "+api-redesign due:2025-11-15" },
		{ ES_LIST_WAITING, NULL, "- [ ] (A) 2025-11-09 Plan @home" },
		{ ES_LIST_COMPLETED, NULL, "- [x] 2025-11-10 (A) 2025-11-09 "
		  "Refactor @macbook +api" },
		{ ES_LIST_COMPLETED, NULL, "- [x] 2025-11-10 Refactor" },
		{ ES_LIST_COMPLETED, NULL, "- [x] Done" },
		{ ES_LIST_CONTEXT, "@home", "- [x] 2025-11-10 Done" },
		{ ES_LIST_WAITING, NULL, "- [ ] @home Email @bob about it" },
		{ ES_LIST_WAITING, NULL, "- [ ] +proj Discuss +other due:"
		  "2025-01-01" },
		{ ES_LIST_WAITING, NULL, "- [ ] @home 2025-11-09 plans" },
		{ ES_LIST_WAITING, NULL, "- [ ] due:2025-01-01 (B) plans" },
		{ ES_LIST_CONTEXT, "@macbook", "- [ ] @macbook 2025-11-09 "
		  "plans" },
		{ ES_LIST_CONTEXT, "@macbook", "- [ ] @macbook Ping @bob" },
		{ ES_LIST_DEFERRED, NULL, "(A) 2025-11-09 text @ctx +proj" },
		{ ES_LIST_DEFERRED, NULL, "(Z) text defer:2025-11-12" },
		{ ES_LIST_DEFERRED, NULL, "x 2025-11-10 2025-11-09 text" },
		{ ES_LIST_DEFERRED, NULL, "x 2025-11-10 (C) text @c" },
		{ ES_LIST_NONE, NULL, "- [ ] Café Münster 日本語 +naïve" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;
		struct es_buf out = ES_BUF_INIT;
		enum es_line_form form;

		if (parse(cases[i].line, cases[i].list, cases[i].list_ctx,
		    &a, &form, &err) != 1)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		if (es_action_line_render(&a, cases[i].list, cases[i].list_ctx,
		    form, &out, &err) != 0)
			fail_msg("'%s': %s", cases[i].line, err.msg);
		assert_string_equal(out.buf, cases[i].line);
		es_buf_release(&out);
		es_action_release(&a);
	}
}

/* Deterministic PRNG (xorshift32), so failures reproduce. */
static uint32_t rng_state = 2463534242u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static const char *const plain_words[] = {
	"Refactor", "the", "auth", "module", "call", "Ana", "about", "x",
	"taxes", "C++", "bob@example.com", "naïve", "日本語", "-", "[", "]",
	"due", "defer", "Due:", "1", "a+b", "2025", "(a)", "e-mail",
};
/* Words that look like tokens, dates or priorities. */
static const char *const tricky_words[] = {
	"@home", "@a/b", "+proj", "+", "@", "2025-11-09", "2025-13-01",
	"(A)", "(Z)", "due:2025-01-01", "defer:x", "- [ ]", "x",
};
static const char *const contexts[] = {
	"@macbook", "@phone", "@home", "@agenda-ana", "@büro",
};
static const char *const projects[] = {
	"api-redesign", "learn-rust", "café-kultur", "a", "x/y",
};

static void
gen_action(struct es_action *a, enum es_list_kind list, bool tricky)
{
	struct es_buf t = ES_BUF_INIT;
	size_t n = 1 + rng() % 6;

	es_action_init(a);
	for (size_t i = 0; i < n; i++) {
		const char *w = tricky && rng() % 3 == 0 ?
		    tricky_words[rng() % NELEM(tricky_words)] :
		    plain_words[rng() % NELEM(plain_words)];

		if (i > 0)
			es_buf_addch(&t, ' ');
		es_buf_addstr(&t, w);
	}
	a->text = es_buf_detach(&t, NULL);
	if (rng() % 2)
		a->context = es_xstrdup(contexts[rng() % NELEM(contexts)]);
	if (rng() % 3 == 0)
		a->project_slug = es_xstrdup(projects[rng() % NELEM(projects)]);
	if (rng() % 4 == 0)
		a->due = (es_date_t)(19000 + rng() % 2000);
	if (rng() % 6 == 0)
		a->defer = (es_date_t)(19000 + rng() % 2000);
	if (rng() % 2)
		a->action_date = (es_date_t)(19000 + rng() % 2000);
	if (rng() % 5 == 0)
		a->priority = (char)('A' + rng() % 26);
	a->state = es_list_state(list);
	if (list == ES_LIST_COMPLETED || rng() % 8 == 0) {
		a->state = ES_STATE_COMPLETED;
		if (rng() % 6 != 0)
			a->completed = (es_date_t)(19000 + rng() % 2000);
	}
}

/*
 * The round-trip promise of es_action_line_render(): whatever it accepts
 * parses back to the same action (SPEC §4.8, file -> document -> file).
 * Plain actions are always accepted.
 */
static void
test_spec4_8_generated_actions_round_trip(void **state)
{
	static const enum es_list_kind lists[] = { ES_LIST_CONTEXT,
	    ES_LIST_WAITING, ES_LIST_DEFERRED, ES_LIST_INCUBATING,
	    ES_LIST_COMPLETED, ES_LIST_NONE };
	size_t accepted = 0, total = 0, plain_refused = 0;

	(void)state;
	for (int round = 0; round < 4000; round++) {
		enum es_list_kind list = lists[rng() % NELEM(lists)];
		const char *lctx = list == ES_LIST_CONTEXT ?
		    contexts[rng() % NELEM(contexts)] : NULL;
		bool tricky = round % 2 == 1;
		struct es_action a, b;
		struct es_error err;
		struct es_buf out = ES_BUF_INIT;
		enum es_line_form form = rng() % 2 ? ES_LINE_TODOTXT :
		    ES_LINE_CHECKLIST, got;

		gen_action(&a, list, tricky);
		/* A context list's own context when the action has none. */
		if (list == ES_LIST_CONTEXT && a.context == NULL)
			a.context = es_xstrdup(lctx);
		if (a.state == ES_STATE_COMPLETED &&
		    a.completed == ES_DATE_NONE)
			a.action_date = ES_DATE_NONE;
		total++;
		if (es_action_line_render(&a, list, lctx, form, &out,
		    &err) != 0) {
			assert_int_equal(out.len, 0);
			if (!tricky)
				plain_refused++;
			es_action_release(&a);
			continue;
		}
		accepted++;
		if (parse(out.buf, list, lctx, &b, &got, &err) != 1)
			fail_msg("'%s': %s", out.buf, err.msg);
		if (es_action_diff(&a, &b) != 0)
			fail_msg("'%s': diff %#x", out.buf,
			    es_action_diff(&a, &b));
		es_buf_release(&out);
		es_action_release(&a);
		es_action_release(&b);
	}
	assert_int_equal(plain_refused, 0);
	/* Tricky texts are refused only when they cannot be written. */
	assert_true(accepted > total * 3 / 4);
}

/* Actions render refuses, each with its reason (SPEC §4.10). */
static void
test_render_refuses_unrepresentable(void **state)
{
	static const struct {
		const char	*text;
		const char	*context;
		const char	*project;
		enum es_list_kind list;
		enum es_state	 state;
		const char	*completed;
		const char	*date;
		char		 priority;
		const char	*msg;
	} cases[] = {
		{ "", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "action has no text" },
		{ NULL, NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "action has no text" },
		{ "a\nb", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "control character 0x0a in action text" },
		{ "a\tb", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "control character 0x09 in action text" },
		{ " lead", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "action text ' lead' has leading, trailing "
		  "or repeated spaces" },
		{ "a  b", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "action text 'a  b' has leading, trailing or "
		  "repeated spaces" },
		{ "pay due:2025-01-01", "@x", NULL, ES_LIST_WAITING,
		  ES_STATE_WAITING, NULL, NULL, 0,
		  "text word 'due:2025-01-01' would read as a token" },
		{ "see defer:", "@x", NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "text word 'defer:' would read as a token" },
		{ "ping @bob", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "text word '@bob' would read as a context" },
		{ "+1 this", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "text word '+1' would read as a project" },
		{ "fix", "@a/b", NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "bad context '@a/b'" },
		{ "fix", "home", NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "bad context 'home'" },
		{ "fix", "@", NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "bad context '@'" },
		{ "fix", "@a b", NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "bad context '@a b'" },
		{ "fix", "@..", NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "bad context '@..'" },
		{ "fix", NULL, "", ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "bad project slug ''" },
		{ "fix", NULL, "a b", ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 0, "bad project slug 'a b'" },
		{ "fix", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING, NULL,
		  NULL, 'a', "bad priority 97" },
		{ "fix", "@m", NULL, ES_LIST_CONTEXT, ES_STATE_WAITING, NULL,
		  NULL, 0, "state 'waiting' does not fit a list of state "
		  "'next'" },
		{ "fix", NULL, NULL, ES_LIST_WAITING, ES_STATE_NONE, NULL,
		  NULL, 0, "state 'none' does not fit a list of state "
		  "'waiting'" },
		{ "fix", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  "2025-01-01", NULL, 0,
		  "completion date on an action in state 'waiting'" },
		{ "fix", NULL, NULL, ES_LIST_COMPLETED, ES_STATE_COMPLETED,
		  NULL, "2025-01-01", 0, "completed action with a creation "
		  "date but no completion date" },
		{ "fix", NULL, NULL, ES_LIST_CONTEXT, ES_STATE_NEXT, NULL,
		  NULL, 0, "action has no context but its list gives it "
		  "'@m'" },
		{ "2025-11-09 plans", NULL, NULL, ES_LIST_WAITING,
		  ES_STATE_WAITING, NULL, NULL, 0, "action text '2025-11-09 "
		  "plans' cannot be written as a line that reads back the "
		  "same" },
		{ "(B) plans", NULL, NULL, ES_LIST_WAITING, ES_STATE_WAITING,
		  NULL, NULL, 0, "action text '(B) plans' cannot be written "
		  "as a line that reads back the same" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;
		struct es_buf out = ES_BUF_INIT;

		es_action_init(&a);
		a.text = cases[i].text ? es_xstrdup(cases[i].text) : NULL;
		a.context = cases[i].context ?
		    es_xstrdup(cases[i].context) : NULL;
		a.project_slug = cases[i].project ?
		    es_xstrdup(cases[i].project) : NULL;
		a.state = cases[i].state;
		a.completed = D(cases[i].completed);
		a.action_date = D(cases[i].date);
		a.priority = cases[i].priority;
		es_buf_addstr(&out, "keep");
		es_error_clear(&err);
		if (es_action_line_render(&a, cases[i].list,
		    cases[i].list == ES_LIST_CONTEXT ? "@m" : NULL,
		    ES_LINE_CHECKLIST, &out, &err) != -1)
			fail_msg("case %zu: rendered '%s'", i, out.buf);
		assert_string_equal(err.msg, cases[i].msg);
		assert_int_equal(err.code, ES_EPARSE);
		assert_string_equal(out.buf, "keep");
		es_buf_release(&out);
		es_action_release(&a);
	}
}

/*
 * SPEC §2 "Rewriting a line changes only that line", and within the line
 * only what changed. The target action is given as a line parsed in the
 * same list.
 */
static void
test_spec2_update_in_place(void **state)
{
	static const struct {
		const char	*old;
		const char	*target;
		const char	*want;
	} cases[] = {
		/* Only the due token changes; odd spacing survives. */
		{ "- [ ]  2025-11-09  Refactor  the auth @mac due:2025-11-15 "
		  "+api",
		  "- [ ] 2025-11-09 Refactor the auth @mac +api "
		  "due:2025-12-01",
		  "- [ ]  2025-11-09  Refactor  the auth @mac due:2025-12-01 "
		  "+api" },
		{ "- [ ] Fix  sink @home due:2025-01-01",
		  "- [ ] Fix sink @home",
		  "- [ ] Fix  sink @home" },
		{ "- [ ] Fix sink due:2025-01-01 @home",
		  "- [ ] Fix sink @home",
		  "- [ ] Fix sink @home" },
		{ "- [ ] @home Fix sink", "- [ ] Fix sink @work",
		  "- [ ] @work Fix sink" },
		{ "- [ ] @home Fix sink", "- [ ] Fix sink", "- [ ] Fix sink" },
		{ "- [ ] Fix +a sink", "- [ ] Fix sink +b",
		  "- [ ] Fix +b sink" },
		{ "- [ ] Fix sink", "- [ ] Fix sink @home +p due:2025-01-01 "
		  "defer:2024-12-01",
		  "- [ ] Fix sink @home +p due:2025-01-01 defer:2024-12-01" },
		{ "- [ ] Fix sink  ", "- [ ] Fix sink due:2025-01-01",
		  "- [ ] Fix sink due:2025-01-01  " },
		{ "- [ ] 2025-11-09 Fix", "- [ ] (B) 2025-11-09 Fix",
		  "- [ ] (B) 2025-11-09 Fix" },
		{ "- [ ] (B) Fix", "- [ ] (B) 2025-11-09 Fix",
		  "- [ ] (B) 2025-11-09 Fix" },
		{ "- [ ]   Fix", "- [ ] (B) 2025-11-09 Fix",
		  "- [ ] (B) 2025-11-09   Fix" },
		{ "- [ ] (B) 2025-11-09 Fix", "- [ ] (C) 2025-11-10 Fix",
		  "- [ ] (C) 2025-11-10 Fix" },
		{ "- [ ] 2025-11-09 Fix", "- [ ] Fix", "- [ ] Fix" },
		{ "- [x] 2025-11-10 Fix", "- [x] 2025-11-11 (A) Fix",
		  "- [x] 2025-11-11 (A) Fix" },
		/* todo.txt stays todo.txt. */
		{ "(A) 2025-11-09 text @ctx +proj",
		  "(A) 2025-11-09 text @ctx +other",
		  "(A) 2025-11-09 text @ctx +other" },
		{ "(A) text", "(B) text due:2025-03-01",
		  "(B) text due:2025-03-01" },
		{ "x 2025-11-10 2025-11-09 text",
		  "x 2025-11-11 2025-11-09 text",
		  "x 2025-11-11 2025-11-09 text" },
		{ "x 2025-11-10 text", "x 2025-11-10 (A) 2025-11-09 text",
		  "x 2025-11-10 (A) 2025-11-09 text" },
		/* Not in place: new text (rendered in the old form), a
		 * todo.txt line losing its "(A)", a new state. */
		{ "(A) Fix sink @home", "(A) Fix the sink @home",
		  "(A) Fix the sink @home" },
		{ "- [ ]  Fix  sink", "- [ ] Fix tap", "- [ ] Fix tap" },
		{ "(A) Fix sink", "- [ ] Fix sink", "- [ ] Fix sink" },
		{ "- [ ] Fix sink", "- [x] 2025-01-02 Fix sink",
		  "- [x] 2025-01-02 Fix sink" },
		/* Removing the date would let the text slide into its slot:
		 * the line is rendered, with a token in front. */
		{ "- [ ] 2025-11-09 2025-11-10 plans @c",
		  "- [ ] @c 2025-11-10 plans", "- [ ] @c 2025-11-10 plans" },
		/* Not an action before: rendered. */
		{ "a note", "- [ ] Fix", "- [ ] Fix" },
		/* Nothing changed: the same bytes, spacing and all. */
		{ "- [ ]   Fix   sink  @home ", "- [ ] Fix sink @home",
		  "- [ ]   Fix   sink  @home " },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_action a;
		struct es_error err;
		struct es_buf out = ES_BUF_INIT;

		if (parse(cases[i].target, ES_LIST_WAITING, NULL, &a, NULL,
		    &err) != 1)
			fail_msg("'%s': %s", cases[i].target, err.msg);
		if (es_action_line_update(cases[i].old, strlen(cases[i].old),
		    ES_LIST_WAITING, NULL, &a, &out, &err) != 0)
			fail_msg("'%s': %s", cases[i].old, err.msg);
		assert_string_equal(out.buf, cases[i].want);
		es_buf_release(&out);
		es_action_release(&a);
	}
}

/* update in a context list, and its refusal leaving out untouched. */
static void
test_update_context_list_and_refusal(void **state)
{
	struct es_action a;
	struct es_error err;
	struct es_buf out = ES_BUF_INIT;
	const char *old = "- [ ] Fix sink due:2025-01-01";

	(void)state;
	assert_int_equal(parse(old, ES_LIST_CONTEXT, "@home", &a, NULL, &err),
	    1);
	assert_string_equal(a.context, "@home");
	/* The list's context is implied: nothing to write. */
	a.due = D("2025-02-02");
	assert_int_equal(es_action_line_update(old, strlen(old),
	    ES_LIST_CONTEXT, "@home", &a, &out, &err), 0);
	assert_string_equal(out.buf, "- [ ] Fix sink due:2025-02-02");
	es_buf_reset(&out);
	/* Another context is written explicitly. */
	free(a.context);
	a.context = es_xstrdup("@work");
	assert_int_equal(es_action_line_update(old, strlen(old),
	    ES_LIST_CONTEXT, "@home", &a, &out, &err), 0);
	assert_string_equal(out.buf, "- [ ] Fix sink due:2025-02-02 @work");
	es_buf_reset(&out);
	/* A context with a '/' cannot be written. */
	free(a.context);
	a.context = es_xstrdup("@a/b");
	es_buf_addstr(&out, "keep");
	assert_int_equal(es_action_line_update(old, strlen(old),
	    ES_LIST_CONTEXT, "@home", &a, &out, &err), -1);
	assert_string_equal(err.msg, "bad context '@a/b'");
	assert_string_equal(out.buf, "keep");
	es_buf_release(&out);
	es_action_release(&a);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_spec2_recognition),
	cmocka_unit_test(test_spec2_tokens),
	cmocka_unit_test(test_spec2_completed_md),
	cmocka_unit_test(test_spec2_todotxt),
	cmocka_unit_test(test_spec4_10_line_errors),
	cmocka_unit_test(test_spec2_state_and_context_from_list),
	cmocka_unit_test(test_spec4_8_canonical_lines_round_trip),
	cmocka_unit_test(test_spec4_8_generated_actions_round_trip),
	cmocka_unit_test(test_render_refuses_unrepresentable),
	cmocka_unit_test(test_spec2_update_in_place),
	cmocka_unit_test(test_update_context_list_and_refusal),
};

ES_TEST_MAIN(tests)
