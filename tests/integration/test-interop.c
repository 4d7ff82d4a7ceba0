/*
 * SPEC §3: "the tool must read what the API writes and write what the API
 * can read". The API is played by the API peer on the official Node.js
 * driver (tests/api-peer/peer.js): it reads what we write, field by field
 * with exact BSON types, and we decode what it writes, through every
 * operation the API does (create, retitle, complete, descope, activate,
 * delete), and a hostile document is a clean error (SPEC 4.10).
 */
#include "es-itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/doc.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

#define T0	1762646400000LL		/* 2025-11-09T00:00:00Z */
#define DAY	86400000LL
#define CONTENT	"# Learn Rust\n\nNotes \xc3\xa9t\xc3\xa9.\r\n"

static void
assert_day(es_date_t d, const char *want)
{
	char buf[ES_DATE_BUFSZ];

	if (d == ES_DATE_NONE)
		fail_msg("no date, want %s", want);
	es_date_format(d, buf);
	assert_string_equal(buf, want);
}

/* The sub-document at path (e.g. "projects.0") of doc, as a static view. */
static void
sub_doc(const bson_t *doc, const char *path, bson_t *out)
{
	bson_iter_t top, it;
	const uint8_t *data;
	uint32_t len;

	if (!bson_iter_init(&top, doc) ||
	    !bson_iter_find_descendant(&top, path, &it) ||
	    !BSON_ITER_HOLDS_DOCUMENT(&it))
		fail_msg("no document at '%s'", path);
	bson_iter_document(&it, &len, &data);
	assert_true(bson_init_static(out, data, len));
}

static void
insert_ok(struct es_itest *t, enum es_kind kind, const bson_t *doc)
{
	struct es_error err;

	if (es_store_insert(t->store, kind, doc, &err) != 0)
		fail_msg("insert: %s: %s", err.path, err.msg);
}

static void
load_entity(struct es_itest *t, enum es_kind kind, const bson_oid_t *id,
    struct es_entity *e)
{
	struct es_error err;
	bson_t doc;
	bool found;

	if (es_store_find_one(t->store, kind, id, &doc, &found, &err) != 0)
		fail_msg("find_one: %s", err.msg);
	assert_true(found);
	assert_true(es_doc_user_is(&doc, t->user));
	if (es_entity_decode(&doc, kind, e, &err) != 0)
		fail_msg("decode: %s: %s", err.path, err.msg);
	bson_destroy(&doc);
}

static void
load_action(struct es_itest *t, const bson_oid_t *id, struct es_action *a)
{
	struct es_error err;
	bson_t doc;
	bool found;

	if (es_store_find_one(t->store, ES_KIND_ACTION, id, &doc, &found,
	    &err) != 0)
		fail_msg("find_one: %s", err.msg);
	assert_true(found);
	if (es_action_decode(&doc, a, &err) != 0)
		fail_msg("decode: %s: %s", err.path, err.msg);
	bson_destroy(&doc);
}

/* Runs a peer command that prints one document; returns its _id. */
static void
peer_id(struct es_itest *t, const char *cmd, const char *json, bson_oid_t *id)
{
	bson_t doc;

	assert_true(es_itest_peer(t, cmd, json, &doc));
	es_itest_oid(&doc, "_id", id);
	bson_destroy(&doc);
}

static void
peer_quiet(struct es_itest *t, const char *cmd, const char *json)
{
	bson_t doc;

	es_itest_peer(t, cmd, json, &doc);
	bson_destroy(&doc);
}

static void
our_project(struct es_entity *e, int64_t now)
{
	es_entity_init(e, ES_KIND_PROJECT);
	e->meta.has_id = true;
	bson_oid_init(&e->meta.id, NULL);
	e->meta.created_at = now - 1000;
	e->meta.updated_at = now;
	e->title = es_xstrdup("Learn Rust");
	e->slug = es_xstrdup("learn-rust");
	e->area = es_xstrdup("Learning");
	e->folder = ES_FOLDER_ACTIVE;
	e->type = ES_PTYPE_COORDINATION;
	e->created = es_test_day("2025-11-01");
	e->started = es_test_day("2025-11-02");
	e->last_reviewed = es_test_day("2025-11-09");
	e->due = es_test_day("2025-12-31");
	e->completed = ES_DATE_NONE;
	e->descoped = ES_DATE_NONE;
	es_entity_set_content(e, CONTENT, strlen(CONTENT));
	bson_destroy(e->extra);
	e->extra = BCON_NEW("owner", BCON_UTF8("me"), "n", BCON_INT32(3),
	    "tags", "[", BCON_UTF8("a"), BCON_UTF8("b"), "]",
	    "flag", BCON_BOOL(true), "none", BCON_NULL);
}

/*
 * What we write, as the official driver reads it back: every field with
 * its BSON type and value (SPEC §3), and the whole document unchanged.
 */
static void
test_interop_peer_reads_ours(void **state)
{
	struct es_itest t;
	struct es_entity p, g;
	struct es_action a;
	bson_t ours_p = BSON_INITIALIZER, ours_g = BSON_INITIALIZER;
	bson_t ours_a = BSON_INITIALIZER, dump, dp, dg, da;
	bson_oid_t id;
	int64_t now = es_itest_now_ms();

	(void)state;
	es_itest_begin(&t, "reads_ours");
	our_project(&p, now);
	es_entity_encode(&p, t.user, &ours_p);
	insert_ok(&t, ES_KIND_PROJECT, &ours_p);

	es_entity_init(&g, ES_KIND_GOAL);
	g.meta.has_id = true;
	bson_oid_init(&g.meta.id, NULL);
	g.meta.created_at = g.meta.updated_at = now;
	g.title = es_xstrdup("Run a marathon");
	g.slug = es_xstrdup("run-a-marathon");
	g.folder = ES_FOLDER_INCUBATOR;
	g.created = es_test_day("2025-10-01");
	es_entity_set_content(&g, "why\n", 4);
	es_entity_encode(&g, t.user, &ours_g);
	insert_ok(&t, ES_KIND_GOAL, &ours_g);

	es_action_init(&a);
	a.meta.has_id = true;
	bson_oid_init(&a.meta.id, NULL);
	a.meta.created_at = a.meta.updated_at = now;
	a.text = es_xstrdup("Refactor the auth module");
	a.context = es_xstrdup("@macbook");
	a.project_slug = es_xstrdup("learn-rust");
	a.state = ES_STATE_NEXT;
	a.due = es_test_day("2025-11-15");
	a.defer = es_test_day("2025-11-12");
	a.action_date = es_test_day("2025-11-09");
	a.priority = 'B';
	es_action_encode(&a, t.user, &ours_a);
	insert_ok(&t, ES_KIND_ACTION, &ours_a);

	es_itest_peer(&t, "dump", "{}", &dump);
	sub_doc(&dump, "projects.0", &dp);
	sub_doc(&dump, "goals.0", &dg);
	sub_doc(&dump, "actions.0", &da);
	assert_int_equal(es_itest_type(&dump, "projects.1"), BSON_TYPE_EOD);

	/* Project, field by field. */
	es_itest_oid(&dp, "_id", &id);
	assert_true(bson_oid_equal(&id, &p.meta.id));
	assert_string_equal(es_itest_str(&dp, "user_id"), "ana");
	assert_string_equal(es_itest_str(&dp, "title"), "Learn Rust");
	assert_string_equal(es_itest_str(&dp, "slug"), "learn-rust");
	assert_string_equal(es_itest_str(&dp, "area"), "Learning");
	assert_string_equal(es_itest_str(&dp, "folder"), "active");
	assert_string_equal(es_itest_str(&dp, "type"), "coordination");
	assert_string_equal(es_itest_str(&dp, "content"), CONTENT);
	assert_int_equal(es_itest_date(&dp, "created"),
	    es_itest_day_ms("2025-11-01"));
	assert_int_equal(es_itest_date(&dp, "started"),
	    es_itest_day_ms("2025-11-02"));
	assert_int_equal(es_itest_date(&dp, "last_reviewed"), T0);
	assert_int_equal(es_itest_date(&dp, "due"),
	    es_itest_day_ms("2025-12-31"));
	assert_int_equal(es_itest_date(&dp, "due") % DAY, 0);
	assert_int_equal(es_itest_type(&dp, "completed"), BSON_TYPE_NULL);
	assert_int_equal(es_itest_type(&dp, "descoped"), BSON_TYPE_NULL);
	assert_int_equal(es_itest_type(&dp, "deleted"), BSON_TYPE_BOOL);
	assert_int_equal(es_itest_type(&dp, "deleted_at"), BSON_TYPE_NULL);
	assert_int_equal(es_itest_date(&dp, "created_at"), now - 1000);
	assert_int_equal(es_itest_date(&dp, "updated_at"), now);
	assert_int_equal(es_itest_type(&dp, "extra"), BSON_TYPE_DOCUMENT);
	assert_string_equal(es_itest_str(&dp, "extra.owner"), "me");
	assert_int_equal(es_itest_type(&dp, "extra.n"), BSON_TYPE_INT32);
	assert_int_equal(es_itest_type(&dp, "extra.tags"), BSON_TYPE_ARRAY);
	assert_string_equal(es_itest_str(&dp, "extra.tags.1"), "b");
	assert_int_equal(es_itest_type(&dp, "extra.flag"), BSON_TYPE_BOOL);
	assert_int_equal(es_itest_type(&dp, "extra.none"), BSON_TYPE_NULL);
	/* Nothing added, dropped, reordered or retyped on the way. */
	assert_true(bson_equal(&dp, &ours_p));

	/* Goal: no project-only fields; area unset is null. */
	assert_string_equal(es_itest_str(&dg, "folder"), "incubator");
	assert_int_equal(es_itest_type(&dg, "area"), BSON_TYPE_NULL);
	assert_int_equal(es_itest_type(&dg, "type"), BSON_TYPE_EOD);
	assert_int_equal(es_itest_type(&dg, "due"), BSON_TYPE_EOD);
	assert_int_equal(es_itest_date(&dg, "created"),
	    es_itest_day_ms("2025-10-01"));
	assert_int_equal(es_itest_type(&dg, "last_reviewed"), BSON_TYPE_NULL);
	assert_int_equal(es_itest_type(&dg, "extra"), BSON_TYPE_DOCUMENT);
	assert_true(bson_equal(&dg, &ours_g));

	/* Action. */
	assert_string_equal(es_itest_str(&da, "text"),
	    "Refactor the auth module");
	assert_string_equal(es_itest_str(&da, "context"), "@macbook");
	assert_string_equal(es_itest_str(&da, "project_slug"), "learn-rust");
	assert_string_equal(es_itest_str(&da, "state"), "next");
	assert_string_equal(es_itest_str(&da, "priority"), "B");
	assert_int_equal(es_itest_date(&da, "due"),
	    es_itest_day_ms("2025-11-15"));
	assert_int_equal(es_itest_date(&da, "defer"),
	    es_itest_day_ms("2025-11-12"));
	assert_int_equal(es_itest_date(&da, "action_date"), T0);
	assert_int_equal(es_itest_type(&da, "completed"), BSON_TYPE_NULL);
	assert_int_equal(es_itest_type(&da, "extra"), BSON_TYPE_EOD);
	assert_true(bson_equal(&da, &ours_a));

	/* And the API's own lookups find them: by slug, by id. */
	{
		bson_t got;
		char json[128], hex[25];

		assert_true(es_itest_peer(&t, "get",
		    "{\"collection\": \"goals\", \"slug\": \"run-a-marathon\"}",
		    &got));
		assert_string_equal(es_itest_str(&got, "title"),
		    "Run a marathon");
		bson_destroy(&got);
		bson_oid_to_string(&a.meta.id, hex);
		snprintf(json, sizeof(json), "{\"id\": \"%s\"}", hex);
		assert_true(es_itest_peer(&t, "complete-action", json, &got));
		assert_string_equal(es_itest_str(&got, "state"), "completed");
		bson_destroy(&got);
	}

	bson_destroy(&dump);
	bson_destroy(&ours_p);
	bson_destroy(&ours_g);
	bson_destroy(&ours_a);
	es_entity_release(&p);
	es_entity_release(&g);
	es_action_release(&a);
	es_itest_end(&t);
}

/*
 * SPEC §3, what the API does to a project: create, update a title (the
 * slug follows), complete, descope, activate (started only if empty),
 * delete (with its actions). We decode each state.
 */
static void
test_interop_we_read_peer_projects(void **state)
{
	struct es_itest t;
	struct es_entity e, prev;
	struct es_action a;
	bson_oid_t id, id2, aid, aid_other;
	bson_t out;
	bson_iter_t it;

	(void)state;
	es_itest_begin(&t, "peer_projects");
	peer_id(&t, "create-project",
	    "{\"title\": \"Learn Rust!\", \"area\": \"Learning\","
	    " \"type\": \"habit\", \"content\": \"# Learn Rust\\n\\nbody\\n\","
	    " \"created\": \"2025-11-01\", \"started\": \"2025-11-02\","
	    " \"last_reviewed\": \"2025-11-09\", \"due\": \"2025-12-31\","
	    " \"extra\": {\"owner\": \"me\", \"n\": 3, \"tags\": [\"a\"],"
	    " \"ok\": true, \"none\": null}}", &id);
	load_entity(&t, ES_KIND_PROJECT, &id, &e);
	assert_string_equal(e.title, "Learn Rust!");
	assert_string_equal(e.slug, "learn-rust");
	assert_string_equal(e.area, "Learning");
	assert_int_equal(e.folder, ES_FOLDER_ACTIVE);
	assert_int_equal(e.type, ES_PTYPE_HABIT);
	assert_int_equal(e.content_len, strlen("# Learn Rust\n\nbody\n"));
	assert_string_equal(e.content, "# Learn Rust\n\nbody\n");
	assert_day(e.created, "2025-11-01");
	assert_day(e.started, "2025-11-02");
	assert_day(e.last_reviewed, "2025-11-09");
	assert_day(e.due, "2025-12-31");
	assert_int_equal(e.completed, ES_DATE_NONE);
	assert_int_equal(e.descoped, ES_DATE_NONE);
	assert_false(e.meta.deleted);
	assert_int_equal(e.meta.deleted_at, 0);
	assert_true(e.meta.updated_at > 0);
	assert_int_equal(e.meta.created_at, e.meta.updated_at);
	assert_int_equal(bson_count_keys(e.extra), 5);
	assert_true(bson_iter_init_find(&it, e.extra, "n"));
	assert_int_equal(bson_iter_type(&it), BSON_TYPE_INT32);
	assert_int_equal(bson_iter_int32(&it), 3);
	es_entity_copy(&prev, &e);
	es_entity_release(&e);

	/* Retitle: the API changes the slug too (SPEC §3). */
	peer_quiet(&t, "retitle-project",
	    "{\"slug\": \"learn-rust\", \"title\": \"Learn Rust Deeply\"}");
	load_entity(&t, ES_KIND_PROJECT, &id, &e);
	assert_string_equal(e.title, "Learn Rust Deeply");
	assert_string_equal(e.slug, "learn-rust-deeply");
	assert_int_equal(es_entity_diff(&prev, &e), ES_F_TITLE | ES_F_SLUG);
	assert_true(e.meta.updated_at >= prev.meta.updated_at);
	es_entity_release(&prev);
	es_entity_release(&e);

	/* Complete, descope, activate: folder and its date. */
	peer_quiet(&t, "complete-project",
	    "{\"slug\": \"learn-rust-deeply\", \"date\": \"2026-01-05\"}");
	load_entity(&t, ES_KIND_PROJECT, &id, &e);
	assert_int_equal(e.folder, ES_FOLDER_COMPLETED);
	assert_day(e.completed, "2026-01-05");
	es_entity_release(&e);
	peer_quiet(&t, "descope-project",
	    "{\"slug\": \"learn-rust-deeply\", \"date\": \"2026-01-06\"}");
	load_entity(&t, ES_KIND_PROJECT, &id, &e);
	assert_int_equal(e.folder, ES_FOLDER_DESCOPED);
	assert_day(e.descoped, "2026-01-06");
	es_entity_release(&e);
	peer_quiet(&t, "activate-project",
	    "{\"slug\": \"learn-rust-deeply\", \"date\": \"2026-01-07\"}");
	load_entity(&t, ES_KIND_PROJECT, &id, &e);
	assert_int_equal(e.folder, ES_FOLDER_ACTIVE);
	assert_day(e.started, "2025-11-02");	/* kept: it was set */
	es_entity_release(&e);

	/* A project never started gets started on activation. */
	peer_id(&t, "create-project",
	    "{\"title\": \"Someday\", \"area\": \"Personal Growth Systems\","
	    " \"folder\": \"incubator\"}", &id2);
	load_entity(&t, ES_KIND_PROJECT, &id2, &e);
	assert_int_equal(e.folder, ES_FOLDER_INCUBATOR);
	assert_int_equal(e.type, ES_PTYPE_STANDARD);
	assert_int_equal(e.started, ES_DATE_NONE);
	assert_true(e.created != ES_DATE_NONE);	/* today, by default */
	es_entity_release(&e);
	peer_quiet(&t, "activate-project",
	    "{\"slug\": \"someday\", \"date\": \"2026-02-01\"}");
	load_entity(&t, ES_KIND_PROJECT, &id2, &e);
	assert_int_equal(e.folder, ES_FOLDER_ACTIVE);
	assert_day(e.started, "2026-02-01");
	es_entity_release(&e);

	/* Delete: soft, and the project's live actions with it. */
	peer_id(&t, "create-action",
	    "{\"text\": \"read chapter 3\", \"context\": \"@books\","
	    " \"project_slug\": \"learn-rust-deeply\"}", &aid);
	peer_id(&t, "create-action",
	    "{\"text\": \"other\", \"project_slug\": \"someday\"}",
	    &aid_other);
	assert_true(es_itest_peer(&t, "delete-project",
	    "{\"slug\": \"learn-rust-deeply\"}", &out));
	assert_true(bson_iter_init_find(&it, &out, "actions_deleted"));
	assert_int_equal(bson_iter_as_int64(&it), 1);
	bson_destroy(&out);
	load_entity(&t, ES_KIND_PROJECT, &id, &e);
	assert_true(e.meta.deleted);
	assert_true(e.meta.deleted_at > 0);
	assert_int_equal(e.meta.updated_at, e.meta.deleted_at);
	es_entity_release(&e);
	load_action(&t, &aid, &a);
	assert_true(a.meta.deleted);
	assert_string_equal(a.context, "@books");
	es_action_release(&a);
	load_action(&t, &aid_other, &a);
	assert_false(a.meta.deleted);
	es_action_release(&a);
	es_itest_end(&t);
}

static void
test_interop_we_read_peer_goals(void **state)
{
	struct es_itest t;
	struct es_entity e;
	bson_oid_t id;

	(void)state;
	es_itest_begin(&t, "peer_goals");
	peer_id(&t, "create-goal",
	    "{\"title\": \"Run a Marathon\", \"folder\": \"incubator\","
	    " \"content\": \"why\\n\", \"created\": \"2025-10-01\","
	    " \"extra\": {\"type\": \"goal\", \"horizon\": \"3y\"}}", &id);
	load_entity(&t, ES_KIND_GOAL, &id, &e);
	assert_int_equal(e.kind, ES_KIND_GOAL);
	assert_string_equal(e.title, "Run a Marathon");
	assert_string_equal(e.slug, "run-a-marathon");
	assert_null(e.area);			/* the API wrote null */
	assert_int_equal(e.folder, ES_FOLDER_INCUBATOR);
	assert_string_equal(e.content, "why\n");
	assert_day(e.created, "2025-10-01");
	assert_int_equal(e.last_reviewed, ES_DATE_NONE);
	assert_int_equal(bson_count_keys(e.extra), 2);
	es_entity_release(&e);

	peer_quiet(&t, "update-goal",
	    "{\"slug\": \"run-a-marathon\", \"set\": {\"folder\": \"active\","
	    " \"last_reviewed\": \"2025-11-20\", \"area\": \"Health\"}}");
	load_entity(&t, ES_KIND_GOAL, &id, &e);
	assert_int_equal(e.folder, ES_FOLDER_ACTIVE);
	assert_day(e.last_reviewed, "2025-11-20");
	assert_string_equal(e.area, "Health");
	es_entity_release(&e);

	peer_quiet(&t, "delete-goal", "{\"slug\": \"run-a-marathon\"}");
	load_entity(&t, ES_KIND_GOAL, &id, &e);
	assert_true(e.meta.deleted);
	assert_true(e.meta.deleted_at > 0);
	es_entity_release(&e);
	es_itest_end(&t);
}

static void
test_interop_we_read_peer_actions(void **state)
{
	struct es_itest t;
	struct es_action a;
	bson_oid_t id, id2;
	char json[256], hex[25];

	(void)state;
	es_itest_begin(&t, "peer_actions");
	peer_id(&t, "create-action",
	    "{\"text\": \"Refactor the auth module\", \"context\": \"@macbook\","
	    " \"project_slug\": \"api-redesign\", \"state\": \"waiting\","
	    " \"due\": \"2025-11-15\", \"defer\": \"2025-11-12\","
	    " \"action_date\": \"2025-11-09\", \"priority\": \"A\"}", &id);
	load_action(&t, &id, &a);
	assert_string_equal(a.text, "Refactor the auth module");
	assert_string_equal(a.context, "@macbook");
	assert_string_equal(a.project_slug, "api-redesign");
	assert_int_equal(a.state, ES_STATE_WAITING);
	assert_day(a.due, "2025-11-15");
	assert_day(a.defer, "2025-11-12");
	assert_day(a.action_date, "2025-11-09");
	assert_int_equal(a.completed, ES_DATE_NONE);
	assert_int_equal(a.priority, 'A');
	assert_false(a.meta.deleted);
	es_action_release(&a);

	/* Only the required text: every optional field null. */
	peer_id(&t, "create-action", "{\"text\": \"call mum\"}", &id2);
	load_action(&t, &id2, &a);
	assert_string_equal(a.text, "call mum");
	assert_null(a.context);
	assert_null(a.project_slug);
	assert_int_equal(a.state, ES_STATE_NEXT);
	assert_int_equal(a.due, ES_DATE_NONE);
	assert_int_equal(a.priority, 0);
	es_action_release(&a);

	bson_oid_to_string(&id, hex);
	snprintf(json, sizeof(json), "{\"id\": \"%s\", \"date\": \"2025-11-20\"}",
	    hex);
	peer_quiet(&t, "complete-action", json);
	load_action(&t, &id, &a);
	assert_int_equal(a.state, ES_STATE_COMPLETED);
	assert_day(a.completed, "2025-11-20");
	es_action_release(&a);

	snprintf(json, sizeof(json), "{\"id\": \"%s\"}", hex);
	peer_quiet(&t, "delete-action", json);
	load_action(&t, &id, &a);
	assert_true(a.meta.deleted);
	assert_true(a.meta.deleted_at > 0);
	assert_int_equal(a.state, ES_STATE_COMPLETED);
	es_action_release(&a);
	es_itest_end(&t);
}

/* Decodes every project of the user: good ones counted, errors kept. */
struct walk {
	int		 good;
	int		 bad;
	char		 msgs[4][256];
};

static int
walk_projects(const bson_t *doc, void *ud)
{
	struct walk *w = ud;
	struct es_entity e;
	struct es_error err;

	if (es_entity_decode(doc, ES_KIND_PROJECT, &e, &err) == 0)
		w->good++;
	else {
		assert_int_equal(err.code, ES_EPARSE);
		if (w->bad < 4)
			es_error_format(&err, w->msgs[w->bad],
			    sizeof(w->msgs[0]));
		w->bad++;
	}
	es_entity_release(&e);
	return 0;
}

/*
 * SPEC 4.10: documents with a missing or mistyped field, planted raw by a
 * client: each is one clean error naming the document and the field; the
 * others still decode.
 */
static void
test_interop_hostile_documents(void **state)
{
	struct es_itest t;
	struct walk w;
	struct es_error err;
	struct es_action a;
	bson_oid_t id;
	bson_t doc;
	bool found;
	char want[256], hex[25];
	int i;

	(void)state;
	es_itest_begin(&t, "hostile");
	peer_quiet(&t, "create-project",
	    "{\"title\": \"Fine\", \"area\": \"A\"}");
	peer_quiet(&t, "insert-raw",
	    "{\"collection\": \"projects\", \"doc\": {"
	    "\"_id\": {\"$oid\": \"650000000000000000000001\"},"
	    " \"slug\": \"no-title\", \"folder\": \"active\","
	    " \"updated_at\": {\"$date\": {\"$numberLong\": \"1000\"}}}}");
	peer_quiet(&t, "insert-raw",
	    "{\"collection\": \"projects\", \"doc\": {"
	    "\"_id\": {\"$oid\": \"650000000000000000000002\"},"
	    " \"title\": \"T\", \"slug\": \"due-string\", \"folder\": \"active\","
	    " \"due\": \"2025-12-31\","
	    " \"updated_at\": {\"$date\": {\"$numberLong\": \"2000\"}}}}");
	peer_quiet(&t, "insert-raw",
	    "{\"collection\": \"projects\", \"doc\": {"
	    "\"_id\": \"not-an-oid\", \"title\": \"T\", \"slug\": \"s\","
	    " \"updated_at\": {\"$date\": {\"$numberLong\": \"3000\"}}}}");
	peer_quiet(&t, "insert-raw",
	    "{\"collection\": \"projects\", \"doc\": {"
	    "\"_id\": {\"$oid\": \"650000000000000000000004\"},"
	    " \"title\": {\"$numberInt\": \"42\"}, \"slug\": \"s4\","
	    " \"extra\": [1, 2], \"sync\": {\"m\": 1},"
	    " \"updated_at\": {\"$date\": {\"$numberLong\": \"4000\"}}}}");

	memset(&w, 0, sizeof(w));
	if (es_store_find(t.store, ES_KIND_PROJECT, t.user, -1, walk_projects,
	    &w, &err) != 0)
		fail_msg("find: %s", err.msg);
	assert_int_equal(w.good, 1);
	assert_int_equal(w.bad, 4);
	/* In updated_at order: 1000, 2000, 3000, 4000, then the good one. */
	assert_string_equal(w.msgs[0],
	    "projects/650000000000000000000001: field 'title': missing");
	assert_string_equal(w.msgs[1],
	    "projects/650000000000000000000002: field 'due': expected a date, got string");
	assert_string_equal(w.msgs[2],
	    "projects/'not-an-oid': field '_id': expected an objectid, got string");
	assert_string_equal(w.msgs[3],
	    "projects/650000000000000000000004: field 'title': expected a string, got int32");

	/* An action the API's enum does not know; one with a bad date. */
	peer_quiet(&t, "insert-raw",
	    "{\"collection\": \"actions\", \"doc\": {"
	    "\"_id\": {\"$oid\": \"650000000000000000000005\"},"
	    " \"text\": \"x\", \"state\": \"done\"}}");
	peer_quiet(&t, "insert-raw",
	    "{\"collection\": \"actions\", \"doc\": {"
	    "\"_id\": {\"$oid\": \"650000000000000000000006\"},"
	    " \"text\": \"x\", \"state\": \"next\", \"defer\": {\"$numberInt\": \"7\"}}}");
	for (i = 5; i <= 6; i++) {
		snprintf(hex, sizeof(hex), "65000000000000000000000%d", i);
		bson_oid_init_from_string(&id, hex);
		if (es_store_find_one(t.store, ES_KIND_ACTION, &id, &doc,
		    &found, &err) != 0)
			fail_msg("find_one: %s", err.msg);
		assert_true(found);
		assert_int_equal(es_action_decode(&doc, &a, &err), -1);
		es_action_release(&a);
		bson_destroy(&doc);
		es_error_format(&err, want, sizeof(want));
		if (i == 5)
			assert_string_equal(want,
			    "actions/650000000000000000000005: field 'state': "
			    "expected next, waiting, deferred, incubating or "
			    "completed, got 'done'");
		else
			assert_string_equal(want,
			    "actions/650000000000000000000006: field 'defer': "
			    "expected a date, got int32");
	}
	es_itest_end(&t);
}

/*
 * Our compare-and-swap update as the API reads it, then the API writing
 * with a clock a day behind ours (SPEC §3: the tool must notice changes
 * "even when the API's clock is behind"): its updated_at goes backwards,
 * and our write against the version we hold is still refused, because the
 * check is equality with that version, not order.
 */
static void
test_interop_cas_and_clock_skew(void **state)
{
	struct es_itest t;
	struct es_entity e, now_e;
	bson_t body = BSON_INITIALIZER, update = BSON_INITIALIZER, got;
	struct es_error err;
	bool matched;
	int64_t now = es_itest_now_ms();

	(void)state;
	es_itest_begin(&t, "cas_skew");
	our_project(&e, now);
	{
		bson_t doc = BSON_INITIALIZER;

		es_entity_encode(&e, t.user, &doc);
		insert_ok(&t, ES_KIND_PROJECT, &doc);
		bson_destroy(&doc);
	}
	/* We complete it (SPEC §3 spelling) and change an unknown key. */
	e.folder = ES_FOLDER_COMPLETED;
	e.completed = es_test_day("2026-01-05");
	e.due = ES_DATE_NONE;
	bson_destroy(e.extra);
	e.extra = BCON_NEW("owner", BCON_UTF8("you"));
	es_entity_encode_set(&e, ES_F_FOLDER | ES_F_COMPLETED | ES_F_DUE |
	    ES_F_EXTRA, now + 10, &body);
	BSON_APPEND_DOCUMENT(&update, "$set", &body);
	if (es_store_update_cas(t.store, ES_KIND_PROJECT, &e.meta.id, t.user,
	    now, now + 10, &update, &matched, &err) != 0)
		fail_msg("cas: %s", err.msg);
	assert_true(matched);
	bson_destroy(&body);
	bson_destroy(&update);

	assert_true(es_itest_peer(&t, "get",
	    "{\"collection\": \"projects\", \"slug\": \"learn-rust\"}", &got));
	assert_string_equal(es_itest_str(&got, "folder"), "completed");
	assert_int_equal(es_itest_date(&got, "completed"),
	    es_itest_day_ms("2026-01-05"));
	assert_int_equal(es_itest_type(&got, "due"), BSON_TYPE_NULL);
	assert_string_equal(es_itest_str(&got, "extra.owner"), "you");
	assert_int_equal(es_itest_type(&got, "extra.n"), BSON_TYPE_EOD);
	assert_int_equal(es_itest_date(&got, "updated_at"), now + 10);
	assert_int_equal(es_itest_date(&got, "created_at"), now - 1000);
	bson_destroy(&got);

	/* The API, its clock a day behind, sets due. */
	assert_true(es_itest_peer_clock(&t, -DAY, "update-project",
	    "{\"slug\": \"learn-rust\", \"set\": {\"due\": \"2026-03-01\"}}",
	    &got));
	bson_destroy(&got);
	load_entity(&t, ES_KIND_PROJECT, &e.meta.id, &now_e);
	assert_true(now_e.meta.updated_at < now);	/* went backwards */
	assert_day(now_e.due, "2026-03-01");
	assert_string_equal(now_e.title, "Learn Rust");

	/* Our next write still holds version now + 10: refused. */
	body = (bson_t)BSON_INITIALIZER;
	update = (bson_t)BSON_INITIALIZER;
	BSON_APPEND_UTF8(&body, "title", "Mine");
	BSON_APPEND_DATE_TIME(&body, "updated_at", now + 20);
	BSON_APPEND_DOCUMENT(&update, "$set", &body);
	assert_int_equal(es_store_update_cas(t.store, ES_KIND_PROJECT,
	    &e.meta.id, t.user, now + 10, now + 20, &update, &matched, &err),
	    0);
	assert_false(matched);
	/* Against the version just read: applied. */
	assert_int_equal(es_store_update_cas(t.store, ES_KIND_PROJECT,
	    &e.meta.id, t.user, now_e.meta.updated_at, now + 20, &update,
	    &matched, &err), 0);
	assert_true(matched);
	es_entity_release(&now_e);
	load_entity(&t, ES_KIND_PROJECT, &e.meta.id, &now_e);
	assert_string_equal(now_e.title, "Mine");
	assert_day(now_e.due, "2026-03-01");
	es_entity_release(&now_e);
	bson_destroy(&body);
	bson_destroy(&update);
	es_entity_release(&e);
	es_itest_end(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_interop_peer_reads_ours),
	cmocka_unit_test(test_interop_we_read_peer_projects),
	cmocka_unit_test(test_interop_we_read_peer_goals),
	cmocka_unit_test(test_interop_we_read_peer_actions),
	cmocka_unit_test(test_interop_hostile_documents),
	cmocka_unit_test(test_interop_cas_and_clock_skew),
};

ES_ITEST_MAIN(tests)
