/*
 * The per-machine baseline (SPEC 4.1: "the tool remembers, per machine, what
 * it last synced"; 4.17; §6 decision table; §2 and 4.11 for .execsync/).
 */
#include "es-test.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "execsync/baseline.h"
#include "execsync/error.h"

#define MACBOOK "00k-next-actions/contexts/@macbook.md"

struct fx {
	char	dir[64];		/* mkdtemp'd, removed in teardown */
	char	db[PATH_MAX];		/* <dir>/b.sqlite */
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/es-baseline-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof(fx->db), "%s/b.sqlite", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(es_test_rm_tree(fx->dir), 0);
	free(fx);
	return 0;
}

static struct es_baseline *
open_ok(const char *path)
{
	struct es_error err;
	struct es_baseline *b;
	char msg[PATH_MAX + 600];

	es_error_clear(&err);
	b = es_baseline_open(path, &err);
	if (b == NULL)
		fail_msg("open: %s", es_error_format(&err, msg, sizeof(msg)));
	return b;
}

static struct es_baseline *
open_root_ok(const char *root)
{
	struct es_error err;
	struct es_baseline *b;
	char msg[PATH_MAX + 600];

	es_error_clear(&err);
	b = es_baseline_open_root(root, &err);
	if (b == NULL)
		fail_msg("open_root: %s",
		    es_error_format(&err, msg, sizeof(msg)));
	return b;
}

/* Every call below must succeed; a failure prints the baseline's error. */
#define OK(call) do {							\
	struct es_error err_;						\
	char msg_[PATH_MAX + 600];					\
	es_error_clear(&err_);						\
	if ((call) != 0)						\
		fail_msg("%s: %s", #call,				\
		    es_error_format(&err_, msg_, sizeof(msg_)));	\
} while (0)
#define E (&err_)

static bson_oid_t
oid(unsigned n)
{
	bson_oid_t o;

	memset(&o, 0, sizeof(o));
	o.bytes[0] = 0x65;
	o.bytes[8] = (uint8_t)(n >> 24);
	o.bytes[9] = (uint8_t)(n >> 16);
	o.bytes[10] = (uint8_t)(n >> 8);
	o.bytes[11] = (uint8_t)n;
	return o;
}

static void
assert_file_equal(const struct es_base_file *got,
    const struct es_base_file *want)
{
	assert_string_equal(got->rel, want->rel);
	assert_int_equal(got->st.dev, want->st.dev);
	assert_int_equal(got->st.ino, want->st.ino);
	assert_int_equal(got->st.size, want->st.size);
	assert_int_equal(got->st.mtime_ns, want->st.mtime_ns);
	assert_int_equal(got->st.ctime_ns, want->st.ctime_ns);
	assert_int_equal(got->st.mode, want->st.mode);
	assert_int_equal(got->raw_fp, want->raw_fp);
}

static void
assert_entity_equal(const struct es_base_entity *got,
    const struct es_base_entity *want)
{
	assert_memory_equal(got->id.bytes, want->id.bytes, 12);
	assert_int_equal(got->kind, want->kind);
	assert_string_equal(got->rel, want->rel);
	assert_int_equal(got->pos, want->pos);
	if (want->line == NULL)
		assert_null(got->line);
	else {
		assert_non_null(got->line);
		assert_bytes_equal(got->line, got->line_len, want->line,
		    want->line_len);
	}
	assert_int_equal(got->doc_updated_at, want->doc_updated_at);
	assert_int_equal(got->fp, want->fp);
	if (want->base == NULL)
		assert_null(got->base);
	else {
		assert_non_null(got->base);
		assert_bytes_equal(got->base, got->base_len, want->base,
		    want->base_len);
	}
}

/* SPEC 4.1: stat data and raw fingerprint, every bit of every field. */
static const struct es_base_file spec_4_1_files[] = {
	{ "10k-projects/active/learning/learn-rust.md",
	  { UINT64_MAX, 1, 0, -1, INT64_MIN, 0100644 },
	  UINT64_C(0x8000000000000001) },
	{ MACBOOK,
	  { 2049, UINT64_C(1) << 40, 8u << 20, INT64_MAX, 0, 0100600 },
	  UINT64_MAX },
	{ "30k-goals/active/\xc3\xa9t\xc3\xa9-ann\xc3\xa9" "e.md",
	  { 0, 0, 12345, -1000000000123, 1762646400123456789, 0120777 },
	  0 },
	{ "10k-projects/active/a b/it's \"quoted\".md",
	  { 64769, 9007199254740993u, 1, 1762646400000000000,
	    -1762646400000000000, 0100444 },
	  UINT64_C(0xfedcba9876543210) },
};

static void
test_baseline_file_round_trip(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_file got, repl;
	size_t nf, ne, i;
	size_t n = sizeof(spec_4_1_files) / sizeof(spec_4_1_files[0]);
	bool found;

	for (i = 0; i < n; i++)
		OK(es_baseline_put_file(b, &spec_4_1_files[i], E));
	for (i = 0; i < n; i++) {
		found = false;
		OK(es_baseline_get_file(b, spec_4_1_files[i].rel, &got, &found,
		    E));
		assert_true(found);
		assert_file_equal(&got, &spec_4_1_files[i]);
	}
	OK(es_baseline_get_file(b, "10k-projects/active/learning/nope.md",
	    &got, &found, E));
	assert_false(found);

	/* Insert or replace by rel: same key, new values, still n rows. */
	repl = spec_4_1_files[0];
	repl.st.mtime_ns = 1762646400000000001;
	repl.st.size = 42;
	repl.raw_fp = 7;
	OK(es_baseline_put_file(b, &repl, E));
	OK(es_baseline_get_file(b, repl.rel, &got, &found, E));
	assert_true(found);
	assert_file_equal(&got, &repl);
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, n);
	assert_int_equal(ne, 0);

	/* The returned rel is the baseline's copy and may be passed back. */
	OK(es_baseline_get_file(b, got.rel, &got, &found, E));
	assert_true(found);
	assert_string_equal(got.rel, repl.rel);

	OK(es_baseline_delete_file(b, spec_4_1_files[1].rel, E));
	OK(es_baseline_get_file(b, spec_4_1_files[1].rel, &got, &found, E));
	assert_false(found);
	OK(es_baseline_delete_file(b, "not/there.md", E));	/* no error */
	OK(es_baseline_count(b, &nf, NULL, E));
	assert_int_equal(nf, n - 1);
	es_baseline_free(b);
}

/* BSON with NUL bytes inside a string value, as a body can never have but
 * a BSON header always has. */
static uint8_t *
make_bson(const char *title, size_t *len)
{
	bson_t *d = bson_new();
	uint32_t l;
	uint8_t *p;

	BSON_APPEND_UTF8(d, "title", title);
	bson_append_utf8(d, "odd", -1, "a\0b", 3);
	BSON_APPEND_INT64(d, "n", INT64_MIN);
	p = bson_destroy_with_steal(d, true, &l);
	*len = l;
	return p;
}

static void
test_baseline_entity_round_trip(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity ents[4], got, repl;
	size_t blen, ne, i;
	uint8_t *bson = make_bson("Learn Rust", &blen);
	static const char line_nul[] =
	    "- [ ] 2025-11-09 a\0b @macbook due:2025-11-15";
	bool found;

	assert_true(blen > 10);
	assert_non_null(memchr(bson, 0, blen));
	memset(ents, 0, sizeof(ents));
	/* A project: no line, a BSON base, top-bit fingerprint. */
	ents[0].id = oid(1);
	ents[0].kind = ES_KIND_PROJECT;
	ents[0].rel = "10k-projects/active/learning/learn-rust.md";
	ents[0].doc_updated_at = 1762646400123;
	ents[0].fp = UINT64_C(0x8000000000000000);
	ents[0].base = bson;
	ents[0].base_len = blen;
	/* An action with a NUL in its line, at the largest position. */
	ents[1].id = oid(2);
	ents[1].kind = ES_KIND_ACTION;
	ents[1].rel = MACBOOK;
	ents[1].pos = UINT32_MAX;
	ents[1].line = line_nul;
	ents[1].line_len = sizeof(line_nul) - 1;
	ents[1].doc_updated_at = INT64_MAX;
	ents[1].fp = UINT64_MAX;
	ents[1].base = bson;
	ents[1].base_len = blen;
	/* An empty line is not an absent one. */
	ents[2].id = oid(3);
	ents[2].kind = ES_KIND_ACTION;
	ents[2].rel = "00k-next-actions/@waiting.md";
	ents[2].pos = 0;
	ents[2].line = "";
	ents[2].line_len = 0;
	ents[2].doc_updated_at = -1;
	ents[2].fp = 1;
	ents[2].base = (const uint8_t *)"";
	ents[2].base_len = 0;
	/* A goal with neither line nor base. */
	ents[3].id = oid(4);
	ents[3].kind = ES_KIND_GOAL;
	ents[3].rel = "30k-goals/active/run-a-marathon.md";
	ents[3].doc_updated_at = INT64_MIN;
	ents[3].fp = UINT64_C(0xdeadbeefcafebabe);

	for (i = 0; i < 4; i++)
		OK(es_baseline_put_entity(b, &ents[i], E));
	for (i = 0; i < 4; i++) {
		found = false;
		OK(es_baseline_get_entity(b, &ents[i].id, &got, &found, E));
		assert_true(found);
		assert_entity_equal(&got, &ents[i]);
	}
	{
		bson_oid_t none = oid(99);

		OK(es_baseline_get_entity(b, &none, &got, &found, E));
		assert_false(found);
	}

	/* The action moved lists (SPEC §2: one document changing state). */
	repl = ents[1];
	repl.rel = "00k-next-actions/@waiting.md";
	repl.pos = 3;
	repl.line = "- [ ] moved";
	repl.line_len = strlen(repl.line);
	repl.doc_updated_at = 5;
	repl.base = NULL;
	repl.base_len = 0;
	OK(es_baseline_put_entity(b, &repl, E));
	OK(es_baseline_get_entity(b, &repl.id, &got, &found, E));
	assert_true(found);
	assert_entity_equal(&got, &repl);
	OK(es_baseline_count(b, NULL, &ne, E));
	assert_int_equal(ne, 4);

	OK(es_baseline_delete_entity(b, &ents[0].id, E));
	OK(es_baseline_get_entity(b, &ents[0].id, &got, &found, E));
	assert_false(found);
	OK(es_baseline_count(b, NULL, &ne, E));
	assert_int_equal(ne, 3);
	es_baseline_free(b);
	bson_free(bson);
}

struct walk {
	char	 rels[16][64];
	unsigned ids[16];
	size_t	 n;
	size_t	 stop_at;	/* 7 after this many rows; 0: never */
	struct es_baseline *b;
	size_t	 nested;	/* files seen by a walk inside a callback */
};

static int
walk_file(const struct es_base_file *f, void *ud)
{
	struct walk *w = ud;

	snprintf(w->rels[w->n], sizeof(w->rels[0]), "%s", f->rel);
	w->n++;
	return w->stop_at != 0 && w->n == w->stop_at ? 7 : 0;
}

static int
count_file(const struct es_base_file *f, void *ud)
{
	(void)f;
	(*(size_t *)ud)++;
	return 0;
}

static int
walk_entity(const struct es_base_entity *e, void *ud)
{
	struct walk *w = ud;
	struct es_error err;
	struct es_base_file f;
	bool found;

	w->ids[w->n] = e->id.bytes[11];
	snprintf(w->rels[w->n], sizeof(w->rels[0]), "%s", e->rel);
	w->n++;
	/* Reads of any kind, even another walk, work inside a callback. */
	if (w->b != NULL) {
		w->nested = 0;
		if (es_baseline_each_file(w->b, count_file, &w->nested,
		    &err) != 0)
			return -2;
		if (es_baseline_get_file(w->b, "b", &f, &found, &err) != 0 ||
		    !found)
			return -3;
	}
	return w->stop_at != 0 && w->n == w->stop_at ? 7 : 0;
}

/* Files come in strcmp order of rel (the scanner's order); entities by
 * kind, rel, pos, id. */
static void
test_baseline_each_order_and_stop(void **state)
{
	static const char *const put[] = {
		"b", "a/z", "\xc3\xa9", "a", "A", "a-b",
	};
	static const char *const want[] = {
		"A", "a", "a-b", "a/z", "b", "\xc3\xa9",
	};
	static const struct {
		unsigned	 id;
		enum es_kind	 kind;
		const char	*rel;
		uint32_t	 pos;
	} ents[] = {
		{ 9, ES_KIND_ACTION, "00k-next-actions/contexts/@phone.md", 0 },
		{ 8, ES_KIND_ACTION, MACBOOK, 2 },
		{ 7, ES_KIND_ACTION, MACBOOK, 10 },
		{ 6, ES_KIND_GOAL, "30k-goals/active/g.md", 0 },
		{ 5, ES_KIND_PROJECT, "10k-projects/active/x/b.md", 0 },
		{ 4, ES_KIND_PROJECT, "10k-projects/active/x/a.md", 0 },
		/* Same place twice (a duplicated line): id breaks the tie. */
		{ 3, ES_KIND_ACTION, MACBOOK, 2 },
	};
	static const unsigned want_ids[] = { 4, 5, 6, 3, 8, 7, 9 };
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct walk w;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(put) / sizeof(put[0]); i++) {
		struct es_base_file f;

		memset(&f, 0, sizeof(f));
		f.rel = put[i];
		f.st.ino = i;
		OK(es_baseline_put_file(b, &f, E));
	}
	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		struct es_base_entity e;

		memset(&e, 0, sizeof(e));
		e.id = oid(ents[i].id);
		e.kind = ents[i].kind;
		e.rel = ents[i].rel;
		e.pos = ents[i].pos;
		OK(es_baseline_put_entity(b, &e, E));
	}

	memset(&w, 0, sizeof(w));
	OK(es_baseline_each_file(b, walk_file, &w, E));
	assert_int_equal(w.n, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(w.rels[i], want[i]);

	memset(&w, 0, sizeof(w));
	w.b = b;
	OK(es_baseline_each_entity(b, walk_entity, &w, E));
	assert_int_equal(w.n, 7);
	assert_int_equal(w.nested, 6);
	for (i = 0; i < 7; i++)
		assert_int_equal(w.ids[i], want_ids[i]);

	/* Early stop: the callback's value comes back, no more rows. */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	rc = es_baseline_each_file(b, walk_file, &w, NULL);
	assert_int_equal(rc, 7);
	assert_int_equal(w.n, 2);
	memset(&w, 0, sizeof(w));
	w.stop_at = 3;
	rc = es_baseline_each_entity(b, walk_entity, &w, NULL);
	assert_int_equal(rc, 7);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.ids[2], 6);

	/* A stopped walk does not leave anything half-open: walk again. */
	memset(&w, 0, sizeof(w));
	OK(es_baseline_each_file(b, walk_file, &w, E));
	assert_int_equal(w.n, 6);
	es_baseline_free(b);
}

static void
put_simple_file(struct es_baseline *b, const char *rel, int64_t mtime)
{
	struct es_base_file f;

	memset(&f, 0, sizeof(f));
	f.rel = rel;
	f.st.mtime_ns = mtime;
	f.st.mode = 0100644;
	OK(es_baseline_put_file(b, &f, E));
}

static int64_t
file_mtime(struct es_baseline *b, const char *rel)
{
	struct es_base_file f;
	bool found;

	OK(es_baseline_get_file(b, rel, &f, &found, E));
	return found ? f.st.mtime_ns : -999;
}

/* Everything between begin and commit lands together or not at all. */
static void
test_baseline_transaction_rollback(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_error err;
	size_t nf;
	char *v;

	put_simple_file(b, "a.md", 1);
	OK(es_baseline_set_meta(b, "since.projects", "100", E));

	OK(es_baseline_begin(b, E));
	put_simple_file(b, "a.md", 2);
	put_simple_file(b, "b.md", 2);
	OK(es_baseline_set_meta(b, "since.projects", "200", E));
	assert_int_equal(file_mtime(b, "a.md"), 2);	/* visible inside */
	es_baseline_rollback(b);
	assert_int_equal(file_mtime(b, "a.md"), 1);
	assert_int_equal(file_mtime(b, "b.md"), -999);
	OK(es_baseline_get_meta(b, "since.projects", &v, E));
	assert_string_equal(v, "100");
	free(v);
	es_baseline_rollback(b);	/* no transaction: nothing happens */
	es_baseline_rollback(NULL);

	/* Two begins in a row: the second is an error, the first goes on. */
	OK(es_baseline_begin(b, E));
	assert_int_equal(es_baseline_begin(b, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_string_equal(err.path, fx->db);
	put_simple_file(b, "c.md", 3);
	OK(es_baseline_commit(b, E));
	assert_int_equal(file_mtime(b, "c.md"), 3);

	/* Freed with an open transaction: it is dropped. */
	OK(es_baseline_begin(b, E));
	put_simple_file(b, "d.md", 4);
	es_baseline_free(b);
	b = open_ok(fx->db);
	assert_int_equal(file_mtime(b, "d.md"), -999);
	OK(es_baseline_count(b, &nf, NULL, E));
	assert_int_equal(nf, 2);
	/* Commit without begin is an error, not a crash. */
	assert_int_equal(es_baseline_commit(b, &err), -1);
	es_baseline_free(b);
}

/*
 * baseline.h: "a pass that dies half-way leaves the previous baseline"
 * (SPEC 4.1: what this machine last synced, not half of a pass). A child process begins, writes enough to spill dirty pages
 * into the WAL, and dies without committing.
 */
static void
test_baseline_crash_inside_transaction(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity e, got;
	static uint8_t blob[2048];
	unsigned i;
	size_t nf, ne;
	pid_t pid;
	int status;
	bool found;
	char *v;

	memset(blob, 0xab, sizeof(blob));
	memset(&e, 0, sizeof(e));
	e.kind = ES_KIND_PROJECT;
	e.rel = "10k-projects/active/x/p.md";
	e.base = blob;
	e.base_len = 16;
	for (i = 0; i < 10; i++) {
		e.id = oid(i);
		e.fp = i;
		OK(es_baseline_put_entity(b, &e, E));
	}
	put_simple_file(b, e.rel, 11);
	OK(es_baseline_set_meta(b, "since.projects", "old", E));
	es_baseline_free(b);

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct es_error cerr;
		struct es_baseline *cb = es_baseline_open(fx->db, &cerr);

		if (cb == NULL || es_baseline_begin(cb, &cerr) != 0)
			_exit(1);
		e.base_len = sizeof(blob);
		for (i = 0; i < 5000; i++) {
			e.id = oid(i);	/* 0..9 replace, others new */
			e.fp = 1000000 + i;
			if (es_baseline_put_entity(cb, &e, &cerr) != 0)
				_exit(2);
		}
		if (es_baseline_delete_file(cb, e.rel, &cerr) != 0 ||
		    es_baseline_set_meta(cb, "since.projects", "new",
		    &cerr) != 0)
			_exit(3);
		_exit(0);	/* dies: no commit, no close */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The dead child's uncommitted pages did reach the WAL file. */
	{
		char wal[PATH_MAX + 8];
		struct stat sb;

		snprintf(wal, sizeof(wal), "%s-wal", fx->db);
		assert_int_equal(stat(wal, &sb), 0);
		assert_true(sb.st_size > (1 << 20));
	}

	b = open_ok(fx->db);
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, 1);
	assert_int_equal(ne, 10);
	for (i = 0; i < 10; i++) {
		e.id = oid(i);
		OK(es_baseline_get_entity(b, &e.id, &got, &found, E));
		assert_true(found);
		assert_int_equal(got.fp, i);
		assert_int_equal(got.base_len, 16);
	}
	OK(es_baseline_get_meta(b, "since.projects", &v, E));
	assert_string_equal(v, "old");
	free(v);
	/* And it takes writes again. */
	put_simple_file(b, "after.md", 12);
	es_baseline_free(b);
	b = open_ok(fx->db);
	assert_int_equal(file_mtime(b, "after.md"), 12);
	es_baseline_free(b);
}

/* SPEC 4.17: --resync forgets files and entities; meta is kept. */
static void
test_baseline_clear_keeps_meta(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity e;
	size_t nf, ne;
	char *v;

	memset(&e, 0, sizeof(e));
	e.id = oid(1);
	e.kind = ES_KIND_GOAL;
	e.rel = "30k-goals/active/g.md";
	OK(es_baseline_put_entity(b, &e, E));
	put_simple_file(b, "30k-goals/active/g.md", 1);
	OK(es_baseline_set_meta(b, "user_id", "u-1", E));

	/* Inside a transaction that is rolled back, clear is undone too. */
	OK(es_baseline_begin(b, E));
	OK(es_baseline_clear(b, E));
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf + ne, 0);
	es_baseline_rollback(b);
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, 1);
	assert_int_equal(ne, 1);

	OK(es_baseline_clear(b, E));
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, 0);
	assert_int_equal(ne, 0);
	OK(es_baseline_get_meta(b, "user_id", &v, E));
	assert_string_equal(v, "u-1");
	free(v);
	OK(es_baseline_get_meta(b, "schema_version", &v, E));
	assert_string_equal(v, "1");
	free(v);
	es_baseline_free(b);
}

static void
test_baseline_meta(void **state)
{
	static const struct {
		const char	*key, *value;
	} cases[] = {
		{ "user_id", "6543a1b2c3d4e5f601234567" },
		{ "database", "execution_system" },
		{ "since.actions", "1762646400123" },
		{ "empty", "" },
		{ "unicode \xc3\xa9", "caf\xc3\xa9 'quoted' \"x\"\n2nd line" },
	};
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_error err;
	size_t i;
	char *v = (char *)"junk";

	OK(es_baseline_get_meta(b, "missing", &v, E));
	assert_null(v);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		OK(es_baseline_set_meta(b, cases[i].key, cases[i].value, E));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		OK(es_baseline_get_meta(b, cases[i].key, &v, E));
		assert_non_null(v);
		assert_string_equal(v, cases[i].value);
		free(v);
	}
	OK(es_baseline_set_meta(b, "user_id", "other", E));
	OK(es_baseline_get_meta(b, "user_id", &v, E));
	assert_string_equal(v, "other");
	free(v);
	assert_int_equal(es_baseline_set_meta(b, "k", NULL, &err), -1);
	es_baseline_free(b);
}

/* SPEC 4.1: the baseline survives restarts. */
static void
test_baseline_reopen_keeps_everything(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity e, got;
	struct es_base_file gotf;
	size_t blen, i;
	uint8_t *bson = make_bson("Reopen", &blen);
	bool found;
	char *v;

	for (i = 0; i < sizeof(spec_4_1_files) / sizeof(spec_4_1_files[0]);
	    i++)
		OK(es_baseline_put_file(b, &spec_4_1_files[i], E));
	memset(&e, 0, sizeof(e));
	e.id = oid(77);
	e.kind = ES_KIND_ACTION;
	e.rel = "00k-next-actions/@deferred.md";
	e.pos = 12;
	e.line = "- [ ] x\0y";
	e.line_len = 9;
	e.doc_updated_at = -62135596800000;
	e.fp = UINT64_C(0x8badf00d8badf00d);
	e.base = bson;
	e.base_len = blen;
	OK(es_baseline_put_entity(b, &e, E));
	OK(es_baseline_set_meta(b, "user_id", "u", E));
	es_baseline_free(b);

	for (int round = 0; round < 2; round++) {
		b = open_ok(fx->db);
		for (i = 0; i < sizeof(spec_4_1_files) /
		    sizeof(spec_4_1_files[0]); i++) {
			OK(es_baseline_get_file(b, spec_4_1_files[i].rel,
			    &gotf, &found, E));
			assert_true(found);
			assert_file_equal(&gotf, &spec_4_1_files[i]);
		}
		OK(es_baseline_get_entity(b, &e.id, &got, &found, E));
		assert_true(found);
		assert_entity_equal(&got, &e);
		OK(es_baseline_get_meta(b, "user_id", &v, E));
		assert_string_equal(v, "u");
		free(v);
		es_baseline_free(b);
	}
	bson_free(bson);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, or NULL when it does not exist. Caller frees. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
assert_state_dir(const char *root)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/.execsync", root);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/.execsync/baseline.sqlite", root);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
}

/*
 * SPEC §2: "The tool adds .execsync/ to the repository's .git/info/exclude"
 * (4.17: so a fresh clone has no baseline). Earlier lines are kept, with or
 * without a final newline; the line is added once, however often we open.
 */
static const struct {
	const char	*before;	/* NULL: no .git/info at all */
	const char	*after;
} spec_2_exclude[] = {
	{ NULL, ".execsync/\n" },
	{ "", ".execsync/\n" },
	{ "# git ls-files --others --exclude-from=.git/info/exclude\n*.o\n",
	  "# git ls-files --others --exclude-from=.git/info/exclude\n*.o\n"
	  ".execsync/\n" },
	{ "*.o", "*.o\n.execsync/\n" },
	{ "*.o\n\n", "*.o\n\n.execsync/\n" },
	{ ".execsync/\n", ".execsync/\n" },
	{ "*.o\n.execsync/", "*.o\n.execsync/" },
	{ "/.execsync\n", "/.execsync\n" },
	{ ".execsync/   \n*.o\n", ".execsync/   \n*.o\n" },
	{ ".execsync/foo\n", ".execsync/foo\n.execsync/\n" },
	{ "#.execsync/\n", "#.execsync/\n.execsync/\n" },
	{ "a\r\n.execsync/\r\n", "a\r\n.execsync/\r\n.execsync/\n" },
};

static void
test_baseline_open_root_git_exclude(void **state)
{
	struct fx *fx = *state;
	char root[256], path[PATH_MAX];
	size_t i, len;
	char *got;

	for (i = 0; i < sizeof(spec_2_exclude) / sizeof(spec_2_exclude[0]);
	    i++) {
		snprintf(root, sizeof(root), "%s/r%zu", fx->dir, i);
		assert_int_equal(mkdir(root, 0755), 0);
		snprintf(path, sizeof(path), "%s/.git", root);
		assert_int_equal(mkdir(path, 0755), 0);
		if (spec_2_exclude[i].before != NULL) {
			snprintf(path, sizeof(path), "%s/.git/info", root);
			assert_int_equal(mkdir(path, 0755), 0);
			snprintf(path, sizeof(path), "%s/.git/info/exclude",
			    root);
			write_file(path, spec_2_exclude[i].before,
			    strlen(spec_2_exclude[i].before));
		}
		for (int n = 0; n < 3; n++)
			es_baseline_free(open_root_ok(root));
		assert_state_dir(root);
		snprintf(path, sizeof(path), "%s/.git/info/exclude", root);
		got = read_file(path, &len);
		assert_non_null(got);
		assert_bytes_equal(got, len, spec_2_exclude[i].after,
		    strlen(spec_2_exclude[i].after));
		free(got);
	}
}

/* No .git folder (or a worktree's .git file): no git files are made. */
static void
test_baseline_open_root_without_git(void **state)
{
	struct fx *fx = *state;
	char root[256], path[PATH_MAX];
	struct stat sb;
	struct es_baseline *b;
	size_t len;
	char *got;
	mode_t old;

	snprintf(root, sizeof(root), "%s/plain", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	/* A permissive umask does not widen .execsync beyond 0700. */
	old = umask(0);
	b = open_root_ok(root);
	umask(old);
	put_simple_file(b, "10k-projects/active/x/y.md", 1);
	es_baseline_free(b);
	assert_state_dir(root);
	snprintf(path, sizeof(path), "%s/.git", root);
	assert_int_equal(lstat(path, &sb), -1);
	assert_int_equal(errno, ENOENT);

	snprintf(root, sizeof(root), "%s/worktree", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git", root);
	write_file(path, "gitdir: /elsewhere/.git/worktrees/w\n", 36);
	es_baseline_free(open_root_ok(root));
	assert_state_dir(root);
	got = read_file(path, &len);
	assert_bytes_equal(got, len, "gitdir: /elsewhere/.git/worktrees/w\n",
	    36);
	free(got);

	/* Reopening the root finds the earlier rows. */
	snprintf(root, sizeof(root), "%s/plain", fx->dir);
	b = open_root_ok(root);
	assert_int_equal(file_mtime(b, "10k-projects/active/x/y.md"), 1);
	es_baseline_free(b);
}

/* A root named through a symbolic link is fine (SQLite's NOFOLLOW refuses a
 * link anywhere in the name, so the real path is used). */
static void
test_baseline_open_root_through_linked_root(void **state)
{
	struct fx *fx = *state;
	char root[256], link[256];
	struct es_baseline *b;

	snprintf(root, sizeof(root), "%s/real", fx->dir);
	snprintf(link, sizeof(link), "%s/link", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(symlink("real", link), 0);
	b = open_root_ok(link);
	put_simple_file(b, "a.md", 5);
	es_baseline_free(b);
	assert_state_dir(root);
	b = open_root_ok(root);
	assert_int_equal(file_mtime(b, "a.md"), 5);
	es_baseline_free(b);
}

static void
assert_refused(const char *root, const char *path, const char *msg)
{
	struct es_error err;

	es_error_clear(&err);
	assert_null(es_baseline_open_root(root, &err));
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_string_equal(err.path, path);
	assert_string_equal(err.msg, msg);
}

static bool
dir_is_empty(const char *path)
{
	char cmd[PATH_MAX + 64];

	/* find prints nothing for an empty folder. */
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", path);
	return system(cmd) == 0;
}

/* SPEC 4.11: symlinks are never followed out of the root. */
static void
test_baseline_open_root_refuses_symlink(void **state)
{
	struct fx *fx = *state;
	char root[256], outside[256], path[PATH_MAX];

	snprintf(root, sizeof(root), "%s/root", fx->dir);
	snprintf(outside, sizeof(outside), "%s/outside", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/.execsync", root);
	assert_int_equal(symlink(outside, path), 0);
	assert_refused(root, ".execsync",
	    "refusing '.execsync': not a folder (symbolic link?)");
	assert_true(dir_is_empty(outside));

	/* A dangling link is refused too, and not created through. */
	assert_int_equal(unlink(path), 0);
	snprintf(outside, sizeof(outside), "%s/gone", fx->dir);
	assert_int_equal(symlink(outside, path), 0);
	assert_refused(root, ".execsync",
	    "refusing '.execsync': not a folder (symbolic link?)");
	assert_int_equal(access(outside, F_OK), -1);
}

static void
test_baseline_open_root_refuses_file(void **state)
{
	struct fx *fx = *state;
	char root[256], path[PATH_MAX];
	size_t len;
	char *got;

	snprintf(root, sizeof(root), "%s/root", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/.execsync", root);
	write_file(path, "mine\n", 5);
	assert_refused(root, ".execsync",
	    "refusing '.execsync': not a folder (symbolic link?)");
	got = read_file(path, &len);
	assert_bytes_equal(got, len, "mine\n", 5);
	free(got);
}

/* Never write through a symlinked exclude file (or info folder). */
static void
test_baseline_open_root_refuses_linked_exclude(void **state)
{
	struct fx *fx = *state;
	char root[256], outside[256], path[PATH_MAX];
	size_t len;
	char *got;

	snprintf(root, sizeof(root), "%s/root", fx->dir);
	snprintf(outside, sizeof(outside), "%s/victim", fx->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git/info", root);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(outside, "keep", 4);
	snprintf(path, sizeof(path), "%s/.git/info/exclude", root);
	assert_int_equal(symlink(outside, path), 0);
	assert_refused(root, ".git/info/exclude",
	    "refusing '.git/info/exclude': symbolic link, not followed");
	got = read_file(outside, &len);
	assert_bytes_equal(got, len, "keep", 4);
	free(got);

	/* info/ itself a link to a folder outside. */
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/.git/info", root);
	assert_int_equal(rmdir(path), 0);
	snprintf(outside, sizeof(outside), "%s/info-out", fx->dir);
	assert_int_equal(mkdir(outside, 0755), 0);
	assert_int_equal(symlink(outside, path), 0);
	assert_refused(root, ".git/info",
	    "refusing '.git/info': not a folder (symbolic link?)");
	assert_true(dir_is_empty(outside));
}

/* The database and what SQLite may have left beside it. */
static void
remove_db(const char *db)
{
	char p[PATH_MAX + 8];

	assert_int_equal(unlink(db), 0);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

/* An older execsync must not misread (or write) a newer baseline. */
static void
test_baseline_future_schema_refused(void **state)
{
	static const struct {
		const char	*version;
		const char	*msg;
	} cases[] = {
		{ "2", "baseline was written by a newer execsync (schema 2; "
		    "this one knows 1)" },
		{ "137",
		    "baseline was written by a newer execsync (schema 137; "
		    "this one knows 1)" },
		{ "abc", "bad schema version 'abc'" },
		{ "1x", "bad schema version '1x'" },
		{ "-1", "bad schema version '-1'" },
	};
	struct fx *fx = *state;
	struct es_baseline *b;
	struct es_error err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = open_ok(fx->db);
		put_simple_file(b, "kept.md", 9);
		OK(es_baseline_set_meta(b, "schema_version", cases[i].version,
		    E));
		es_baseline_free(b);

		es_error_clear(&err);
		assert_null(es_baseline_open(fx->db, &err));
		assert_int_equal(err.code, ES_EIO);
		assert_string_equal(err.path, fx->db);
		assert_string_equal(err.msg, cases[i].msg);
		remove_db(fx->db);
	}
	/* The current version opens, and keeps its rows. */
	b = open_ok(fx->db);
	put_simple_file(b, "kept.md", 9);
	es_baseline_free(b);
	b = open_ok(fx->db);
	assert_int_equal(file_mtime(b, "kept.md"), 9);
	es_baseline_free(b);
}

/* A file that is not a baseline, and rows a bad tool wrote, are errors
 * naming the file, never a crash. */
static void
test_baseline_bad_file_and_rows(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b;
	struct es_error err;
	struct walk w;
	sqlite3 *db;
	char garbage[4096];

	memset(garbage, 'x', sizeof(garbage));
	write_file(fx->db, garbage, sizeof(garbage));
	es_error_clear(&err);
	assert_null(es_baseline_open(fx->db, &err));
	assert_int_equal(err.code, ES_EIO);
	assert_string_equal(err.path, fx->db);
	assert_non_null(strstr(err.msg, "file is not a database"));
	remove_db(fx->db);

	es_error_clear(&err);
	assert_null(es_baseline_open(fx->dir, &err));	/* a folder */
	assert_int_equal(err.code, ES_EIO);
	assert_string_equal(err.path, fx->dir);

	/* A good row first, so the bad one comes in the middle of a walk. */
	b = open_ok(fx->db);
	{
		struct es_base_entity e;

		memset(&e, 0, sizeof(e));
		e.id = oid(1);
		e.rel = "10k-good.md";
		OK(es_baseline_put_entity(b, &e, E));
	}
	es_baseline_free(b);
	assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO entity (id, kind, rel, pos, doc_updated_at, fp) "
	    "VALUES (x'0102', 0, 'short-id.md', 0, 0, 0);"
	    "INSERT INTO file (rel, dev, ino, size, mtime_ns, ctime_ns, mode,"
	    " raw_fp) VALUES ('bad-mode.md', 0, 0, 0, 0, 0, -5, 0)",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	b = open_ok(fx->db);
	memset(&w, 0, sizeof(w));
	es_error_clear(&err);
	assert_int_equal(es_baseline_each_entity(b, walk_entity, &w, &err),
	    -1);
	assert_int_equal(w.n, 1);
	assert_int_equal(err.code, ES_EIO);
	assert_string_equal(err.msg, "corrupt entity row in 'short-id.md'");
	es_error_clear(&err);
	assert_int_equal(es_baseline_each_file(b, walk_file, &w, &err), -1);
	assert_string_equal(err.msg, "corrupt file row 'bad-mode.md'");
	/* The baseline still works afterwards. */
	put_simple_file(b, "ok.md", 1);
	assert_int_equal(file_mtime(b, "ok.md"), 1);
	es_baseline_free(b);
}

/* The hot path: a first pass over a large folder puts ~22,000 rows. */
static void
test_baseline_bulk_22000(void **state)
{
	enum { N = 22000 };
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity e;
	struct timespec t0, t1;
	char rel[64], line[96];
	size_t blen, nf, ne;
	uint8_t *bson = make_bson("A typical action text of some length",
	    &blen);
	unsigned i;

	memset(&e, 0, sizeof(e));
	e.kind = ES_KIND_ACTION;
	e.base = bson;
	e.base_len = blen;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	OK(es_baseline_begin(b, E));
	for (i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel),
		    "00k-next-actions/contexts/@ctx-%u.md", i % 40);
		snprintf(line, sizeof(line),
		    "- [ ] 2025-11-09 action number %u @ctx-%u +proj "
		    "due:2025-12-01",
		    i, i % 40);
		e.id = oid(i);
		e.rel = rel;
		e.pos = i / 40;
		e.line = line;
		e.line_len = strlen(line);
		e.doc_updated_at = 1762646400000 + i;
		e.fp = UINT64_C(0x9e3779b97f4a7c15) * (i + 1);
		OK(es_baseline_put_entity(b, &e, E));
	}
	OK(es_baseline_commit(b, E));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, 0);
	assert_int_equal(ne, N);
	print_message("22000 entity puts in one transaction: %.1f ms\n",
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6));
	es_baseline_free(b);
	bson_free(bson);
}

static int
count_entity(const struct es_base_entity *e, void *ud)
{
	(void)e;
	(*(size_t *)ud)++;
	return 0;
}

/* Walking 22,000 rows, and reading each back by id, after a bulk put. */
static void
test_baseline_bulk_walk(void **state)
{
	enum { N = 22000 };
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity e, got;
	struct timespec t0, t1, t2;
	size_t count = 0;
	unsigned i;
	bool found;

	memset(&e, 0, sizeof(e));
	e.kind = ES_KIND_PROJECT;
	OK(es_baseline_begin(b, E));
	for (i = 0; i < N; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "10k-projects/active/a/p%05u.md",
		    N - i);
		e.id = oid(i);
		e.rel = rel;
		OK(es_baseline_put_entity(b, &e, E));
	}
	OK(es_baseline_commit(b, E));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	OK(es_baseline_each_entity(b, count_entity, &count, E));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(count, N);
	for (i = 0; i < N; i++) {
		e.id = oid(i);
		OK(es_baseline_get_entity(b, &e.id, &got, &found, E));
		assert_true(found);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	print_message("walk of 22000 entities: %.1f ms; 22000 gets: %.1f ms\n",
	    ((double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6),
	    ((double)(t2.tv_sec - t1.tv_sec) * 1e3 +
	    (double)(t2.tv_nsec - t1.tv_nsec) / 1e6));
	es_baseline_free(b);
}


/* ---- issue 15: linear cost, small memory ---- */

/* n project rows of base_len bytes each, in one transaction. */
static void
put_projects(struct es_baseline *b, unsigned first, unsigned n,
    size_t base_len, uint64_t fp)
{
	static uint8_t blob[4096];
	struct es_base_entity e;
	char rel[64];

	assert_true(base_len <= sizeof(blob));
	memset(blob, 0x5a, sizeof(blob));
	memset(&e, 0, sizeof(e));
	e.kind = ES_KIND_PROJECT;
	e.base = blob;
	e.base_len = base_len;
	OK(es_baseline_begin(b, E));
	for (unsigned i = first; i < first + n; i++) {
		snprintf(rel, sizeof(rel), "10k-projects/active/a/p%06u.md",
		    i);
		e.id = oid(i);
		e.rel = rel;
		e.fp = fp + i;
		OK(es_baseline_put_entity(b, &e, E));
		put_simple_file(b, rel, (int64_t)i);
	}
	OK(es_baseline_commit(b, E));
}

/* The frames in the WAL of path, read by a connection of our own. */
static long
wal_frames(const char *path, bool truncate)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, truncate ?
	    "PRAGMA wal_checkpoint(TRUNCATE)" :
	    "PRAGMA wal_checkpoint(PASSIVE)", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 0);	/* not busy */
	n = (long)sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static long
page_count(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/*
 * --resync clears a baseline of every row (SPEC 4.17). With SQLite's
 * secure_delete on (Debian's build) every freed page was written again,
 * zeroed, so a clear wrote the whole file into the WAL; dropped and made
 * again with secure_delete off, it writes a few pages.
 */
static void
test_baseline_clear_writes_few_pages(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	size_t nf, ne;
	long pages, frames;

	/* b stays open: the last connection to close empties the WAL. */
	put_projects(b, 0, 3000, 1024, 0);
	pages = page_count(fx->db);
	assert_true(pages > 900);
	(void)wal_frames(fx->db, true);		/* an empty WAL */

	OK(es_baseline_begin(b, E));
	OK(es_baseline_clear(b, E));
	OK(es_baseline_commit(b, E));
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf + ne, 0);
	frames = wal_frames(fx->db, false);
	es_baseline_free(b);
	print_message("clear of %ld pages wrote %ld WAL frames\n", pages,
	    frames);
	assert_true(frames < pages / 20);
}

/*
 * The tables dropped and made again inside a transaction: the kept
 * statements work on the new ones at once, and the rows put after the
 * clear are the only ones at commit.
 */
static void
test_baseline_clear_then_refill(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity e, got;
	size_t nf, ne;
	bool found;

	put_projects(b, 0, 50, 100, 0);
	OK(es_baseline_begin(b, E));
	OK(es_baseline_clear(b, E));
	memset(&e, 0, sizeof(e));
	e.id = oid(7);
	e.kind = ES_KIND_GOAL;
	e.rel = "30k-goals/active/g.md";
	e.fp = 77;
	OK(es_baseline_put_entity(b, &e, E));
	put_simple_file(b, e.rel, 5);
	OK(es_baseline_get_entity(b, &e.id, &got, &found, E));
	assert_true(found);
	assert_int_equal(got.kind, ES_KIND_GOAL);
	OK(es_baseline_commit(b, E));
	es_baseline_free(b);

	b = open_ok(fx->db);
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, 1);
	assert_int_equal(ne, 1);
	OK(es_baseline_get_entity(b, &e.id, &got, &found, E));
	assert_true(found);
	assert_int_equal(got.fp, 77);
	assert_int_equal(file_mtime(b, "30k-goals/active/g.md"), 5);
	es_baseline_free(b);
}

/*
 * kill -9 after the tables were dropped and half refilled: the previous
 * baseline is all there (SPEC 4.17: --resync, then a crash).
 */
static void
test_baseline_killed_after_clear(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct es_base_entity got;
	size_t nf, ne;
	pid_t pid;
	int status;
	bool found;

	put_projects(b, 0, 200, 500, 100);
	es_baseline_free(b);

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct es_error cerr;
		struct es_baseline *cb = es_baseline_open(fx->db, &cerr);
		static uint8_t blob[2048];
		struct es_base_entity e;

		if (cb == NULL || es_baseline_begin(cb, &cerr) != 0 ||
		    es_baseline_clear(cb, &cerr) != 0)
			_exit(1);
		memset(&e, 0, sizeof(e));
		e.kind = ES_KIND_ACTION;
		e.rel = "00k-next-actions/a.md";
		e.base = blob;
		e.base_len = sizeof(blob);
		for (unsigned i = 0; i < 5000; i++) {
			e.id = oid(100000 + i);
			e.pos = i;
			if (es_baseline_put_entity(cb, &e, &cerr) != 0)
				_exit(2);
		}
		kill(getpid(), SIGKILL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	b = open_ok(fx->db);
	OK(es_baseline_count(b, &nf, &ne, E));
	assert_int_equal(nf, 200);
	assert_int_equal(ne, 200);
	for (unsigned i = 0; i < 200; i++) {
		bson_oid_t id = oid(i);

		OK(es_baseline_get_entity(b, &id, &got, &found, E));
		assert_true(found);
		assert_int_equal(got.fp, 100 + i);
		assert_int_equal(got.base_len, 500);
	}
	es_baseline_free(b);
}

/* The page cache's size for a transaction's data (pure). */
static void
test_baseline_cache_kib(void **state)
{
	static const struct {
		uint64_t	bytes;
		unsigned	kib;
	} t[] = {
		{ 0, 2048 },				/* SQLite's default */
		{ 17u << 20, 2048 },			/* the sample tree */
		{ 32u << 20, 2048 },
		{ (32u << 20) + 16384, 2049 },
		{ 172u << 20, 11008 },			/* ten times it */
		{ 512u << 20, 32768 },
		{ UINT64_C(1) << 40, 32768 },		/* at most 32 MiB */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(es_baseline_cache_kib(t[i].bytes), t[i].kib);
}

/*
 * The cache grows while a transaction writes and its memory is given back
 * at the commit, so a daemon idles small between passes.
 */
static void
test_baseline_cache_given_back(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	sqlite3_int64 before, high, after;

	before = sqlite3_memory_used();
	sqlite3_memory_highwater(1);
	put_projects(b, 0, 60000, 1024, 0);
	high = sqlite3_memory_highwater(0);
	after = sqlite3_memory_used();
	print_message("SQLite memory: %lld before, %lld at most, %lld after "
	    "a 60,000-row transaction\n", (long long)before, (long long)high,
	    (long long)after);
	assert_true(high - before > (4 << 20));	/* over the 2 MiB default */
	assert_true(after - before < (1 << 20));
	es_baseline_free(b);
}

struct nobase_walk {
	struct es_baseline	*b;
	size_t			 n, with_base;
	char			 last[64];
};

/* The lazy pattern: walk without bases, read one where it is needed. */
static int
on_nobase(const struct es_base_entity *e, void *ud)
{
	struct nobase_walk *w = ud;
	const uint8_t *base;
	size_t len;
	bool found;

	assert_null(e->base);
	assert_int_equal(e->base_len, 0);
	assert_true(strcmp(e->rel, w->last) > 0);
	snprintf(w->last, sizeof(w->last), "%s", e->rel);
	if (e->fp % 10 == 0) {
		OK(es_baseline_get_base(w->b, &e->id, &base, &len, &found, E));
		assert_true(found);
		assert_non_null(base);
		assert_int_equal(len, 300);
		assert_int_equal(base[0], 0x5a);
		w->with_base++;
	}
	w->n++;
	return 0;
}

static void
test_baseline_nobase_walk_and_lazy_base(void **state)
{
	struct fx *fx = *state;
	struct es_baseline *b = open_ok(fx->db);
	struct nobase_walk w;
	struct es_base_entity e;
	const uint8_t *base;
	size_t len;
	bson_oid_t id;
	bool found;

	put_projects(b, 0, 100, 300, 0);
	memset(&w, 0, sizeof(w));
	w.b = b;
	OK(es_baseline_each_entity_nobase(b, on_nobase, &w, E));
	assert_int_equal(w.n, 100);
	assert_int_equal(w.with_base, 10);

	/* No such row; a row without a base; an empty base. */
	id = oid(999);
	OK(es_baseline_get_base(b, &id, &base, &len, &found, E));
	assert_false(found);
	assert_null(base);
	memset(&e, 0, sizeof(e));
	e.id = oid(500);
	e.kind = ES_KIND_GOAL;
	e.rel = "30k-goals/active/g.md";
	OK(es_baseline_put_entity(b, &e, E));
	OK(es_baseline_get_base(b, &e.id, &base, &len, &found, E));
	assert_true(found);
	assert_null(base);
	assert_int_equal(len, 0);
	e.base = (const uint8_t *)"";
	OK(es_baseline_put_entity(b, &e, E));
	OK(es_baseline_get_base(b, &e.id, &base, &len, &found, E));
	assert_true(found);
	assert_non_null(base);
	assert_int_equal(len, 0);
	es_baseline_free(b);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_baseline_file_round_trip, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_entity_round_trip, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_each_order_and_stop, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_transaction_rollback, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_crash_inside_transaction, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_clear_keeps_meta, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_meta, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_reopen_keeps_everything, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_open_root_git_exclude, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_open_root_without_git, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_open_root_through_linked_root, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_open_root_refuses_symlink, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_open_root_refuses_file, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_open_root_refuses_linked_exclude, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_future_schema_refused, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_bad_file_and_rows, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_bulk_22000, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_clear_writes_few_pages,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(test_baseline_clear_then_refill, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_killed_after_clear,
	    setup, teardown),
	cmocka_unit_test(test_baseline_cache_kib),
	cmocka_unit_test_setup_teardown(test_baseline_cache_given_back, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_baseline_nobase_walk_and_lazy_base,
	    setup, teardown),
	cmocka_unit_test_setup_teardown(test_baseline_bulk_walk, setup,
	    teardown),
};

ES_TEST_MAIN(tests)
