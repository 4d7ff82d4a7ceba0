/*
 * execsync-bench: the benchmark program. Each subcommand prints its figures,
 * one "name: value" a line, so runs can be compared by machine.
 *
 *   execsync-bench parse [--tree DIR]   read vs scan+parse+fingerprint; one
 *                                       file of 100,000 keys vs libyaml
 *   execsync-bench check [--tree DIR]   every file parses; canonical render of
 *                                       every entity parses to the same
 *                                       fingerprint (exit 1 if not)
 *
 *   execsync-bench migrate [--tree DIR] [--uri URI] [--batch-size N]
 *                                       the import: es_migrate_run() vs a
 *                                       naive one insert per document vs
 *                                       the bare bulk inserts of the same
 *                                       documents, each on a fresh database
 *
 *   execsync-bench reconcile [--uri URI]
 *                                       the sync engine's passes after an
 *                                       import: no-op, ten edits, --resync
 *                                       (and on a tree ten times larger)
 *                                       against their floors (issue 5;
 *                                       bench-reconcile.c)
 *
 *   execsync-bench latency|idle [--uri URI]
 *                                       the daemon: how long a save and an
 *                                       API change take to cross, and what
 *                                       it costs at rest (issue 16;
 *                                       bench-daemon.c)
 *
 * Without --tree a default sample tree (contrib/make-sample-tree: 2,000
 * projects, 20,000 actions, 200 goals, seed 1) is generated in a temporary
 * folder and removed afterwards. migrate works on a copy of --tree (it
 * writes a baseline into the folder); its server is --uri, else
 * EXECSYNC_TEST_MONGODB_URI, else a private FerretDB started with
 * tests/ferretdb-fixture and stopped at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include <mongoc/mongoc.h>

#include "execsync/action-line.h"
#include "execsync/action-list.h"
#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/engine.h"
#include "execsync/entity-file.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/scan.h"
#include "execsync/store.h"

#include "bench.h"
#define REPEAT		7

struct counts {
	size_t	files, bytes, projects, goals, lists, actions, skipped, errors;
	es_fp_t	mix;	/* folds every fingerprint: keeps the work observable */
};

/* Bare cost of getting every file's bytes: open, read, close. */
static size_t
read_all(int root, const struct es_scan_result *sr, struct es_buf *b)
{
	size_t total = 0;

	for (size_t i = 0; i < sr->n; i++) {
		int fd = openat(root, sr->entries[i].rel, O_RDONLY | O_CLOEXEC);
		ssize_t r;

		if (fd < 0)
			continue;
		es_buf_reset(b);
		es_buf_grow(b, (size_t)sr->entries[i].st.size + 1);
		while ((r = read(fd, b->buf + b->len, b->alloc - b->len - 1)) > 0) {
			b->len += (size_t)r;
			if (b->alloc - b->len - 1 == 0)
				es_buf_grow(b, 4096);
		}
		total += b->len;
		close(fd);
	}
	return total;
}

/* Parse one entity file; with check, also verify render -> parse -> same fingerprint. */
static int
do_entity(const struct es_scan_entry *en, const struct es_buf *b, bool check,
    struct counts *c)
{
	struct es_entity e, again;
	struct es_error err;
	struct es_buf out = ES_BUF_INIT;
	int r, bad = 0;

	es_entity_init(&e, en->info.kind);
	r = es_entity_file_parse(b->buf, b->len, en->rel, en->info.kind,
	    en->info.folder, en->info.slug,
	    en->info.kind == ES_KIND_PROJECT ? en->info.area_dir : NULL, &e,
	    &err);
	if (r < 0) {
		c->errors++;
		if (check)
			report("parse", &err);
		goto out;
	}
	if (r == 1) {
		c->skipped++;
		goto out;
	}
	if (en->info.kind == ES_KIND_PROJECT)
		c->projects++;
	else
		c->goals++;
	c->mix ^= es_entity_fingerprint(&e);
	if (!check)
		goto out;
	es_entity_file_render(&e, &out);
	es_entity_init(&again, en->info.kind);
	if (es_entity_file_parse(out.buf, out.len, en->rel, en->info.kind,
	    en->info.folder, en->info.slug,
	    en->info.kind == ES_KIND_PROJECT ? en->info.area_dir : NULL,
	    &again, &err) != 0) {
		report("canonical render does not parse", &err);
		bad = 1;
	} else if (es_entity_fingerprint(&again) != es_entity_fingerprint(&e)) {
		fprintf(stderr, "%s: canonical render changes the meaning\n",
		    en->rel);
		bad = 1;
	}
	es_entity_release(&again);
out:
	es_buf_release(&out);
	es_entity_release(&e);
	return bad;
}

static int
do_list(const struct es_scan_entry *en, const struct es_buf *b, bool check,
    struct counts *c)
{
	struct es_action_list *l;
	const char *ctx = en->info.context[0] ? en->info.context : NULL;
	struct es_buf out = ES_BUF_INIT;
	int bad = 0;

	l = es_action_list_parse(b->buf, b->len, en->rel, en->info.list, ctx);
	c->lists++;
	c->errors += es_action_list_nerrors(l);
	for (size_t i = 0; i < es_action_list_count(l); i++) {
		const struct es_action *a = es_action_list_get(l, i);

		c->actions++;
		c->mix ^= es_action_fingerprint(a);
	}
	if (!check)
		goto out;
	for (size_t i = 0; i < es_action_list_nerrors(l); i++)
		report("action", es_action_list_error(l, i));
	es_action_list_render(l, &out);
	if (out.len != b->len || memcmp(out.buf, b->buf, b->len) != 0) {
		fprintf(stderr, "%s: list does not render back to its bytes\n",
		    en->rel);
		bad = 1;
	}
	for (size_t i = 0; i < es_action_list_count(l) && !bad; i++) {
		const struct es_action *a = es_action_list_get(l, i);
		struct es_action back;
		struct es_error err;
		struct es_buf line = ES_BUF_INIT;
		enum es_line_form form;

		if (es_action_line_render(a, en->info.list, ctx,
		    ES_LINE_CHECKLIST, &line, &err) < 0) {
			fprintf(stderr, "%s:%u: cannot render: %s\n", en->rel,
			    es_action_list_line(l, i), err.msg);
			bad = 1;
		} else {
			es_action_init(&back);
			if (es_action_line_parse(line.buf, line.len,
			    en->info.list, ctx, &back, &form, &err) != 1 ||
			    es_action_diff(a, &back) != 0) {
				fprintf(stderr, "%s:%u: canonical line '%s' "
				    "changes the meaning\n", en->rel,
				    es_action_list_line(l, i), line.buf);
				bad = 1;
			}
			es_action_release(&back);
		}
		es_buf_release(&line);
	}
out:
	es_buf_release(&out);
	es_action_list_free(l);
	return bad;
}

/* Scan, read, parse and fingerprint everything once. */
static int
parse_all(int root, bool check, struct counts *c)
{
	struct es_scan_result sr;
	struct es_scan_opts opts = { NULL };
	struct es_error err;
	struct es_buf b = ES_BUF_INIT;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	if (es_scan(root, &opts, &sr, &err) < 0) {
		report("scan", &err);
		exit(2);
	}
	for (size_t i = 0; i < sr.n; i++) {
		const struct es_scan_entry *en = &sr.entries[i];
		struct es_stat st;

		es_buf_reset(&b);
		if (es_scan_read(root, en->rel, MAX_FILE, &b, &st, &err) < 0) {
			c->errors++;
			if (check)
				report("read", &err);
			continue;
		}
		c->files++;
		c->bytes += b.len;
		if (en->info.kind == ES_KIND_ACTION)
			bad |= do_list(en, &b, check, c);
		else
			bad |= do_entity(en, &b, check, c);
	}
	es_buf_release(&b);
	es_scan_result_release(&sr);
	return bad;
}

/*
 * The floor set by libyaml alone: the frontmatter text of every project and
 * goal file, already in memory, run through libyaml's event parser and
 * nothing else. Shows how much of parse_ms no code of ours can remove.
 */
struct fm_texts {
	char	**text;
	size_t	 *len;
	size_t	  n;
};

/* Where the frontmatter text of a file's bytes is: false if it has none. */
static bool
frontmatter_text(const char *buf, size_t len, const char **text,
    size_t *tlen)
{
	const char *p = buf, *end = buf + len, *q;

	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (end - p < 4 || memcmp(p, "---", 3) != 0)
		return false;
	p = memchr(p, '\n', (size_t)(end - p));
	if (p == NULL)
		return false;
	p++;
	for (q = p; q < end;) {
		const char *nl;

		if (end - q >= 3 && memcmp(q, "---", 3) == 0)
			break;
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL) {
			q = end;
			break;
		}
		q = nl + 1;
	}
	*text = p;
	*tlen = (size_t)(q - p);
	return true;
}

static void
collect_frontmatter(int root, const struct es_scan_result *sr,
    struct fm_texts *ft)
{
	struct es_buf b = ES_BUF_INIT;

	memset(ft, 0, sizeof(*ft));
	for (size_t i = 0; i < sr->n; i++) {
		const char *p;
		size_t n;
		struct es_stat st;
		struct es_error err;

		if (sr->entries[i].info.kind == ES_KIND_ACTION)
			continue;
		es_buf_reset(&b);
		if (es_scan_read(root, sr->entries[i].rel, MAX_FILE, &b, &st,
		    &err) < 0)
			continue;
		if (!frontmatter_text(b.buf, b.len, &p, &n))
			continue;
		ft->text = realloc(ft->text, (ft->n + 1) * sizeof(*ft->text));
		ft->len = realloc(ft->len, (ft->n + 1) * sizeof(*ft->len));
		ft->text[ft->n] = strndup(p, n);
		ft->len[ft->n] = n;
		ft->n++;
	}
	es_buf_release(&b);
}

/* Runs len bytes at text through libyaml's event parser: the events. */
static size_t
yaml_events(const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t events = 0;
	bool done = false;

	yaml_parser_initialize(&parser);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	while (!done && yaml_parser_parse(&parser, &ev)) {
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		events++;
	}
	yaml_parser_delete(&parser);
	return events;
}

static size_t
yaml_floor(const struct fm_texts *ft)
{
	size_t events = 0;

	for (size_t i = 0; i < ft->n; i++)
		events += yaml_events(ft->text[i], ft->len[i]);
	return events;
}

static void
free_frontmatter(struct fm_texts *ft)
{
	for (size_t i = 0; i < ft->n; i++)
		free(ft->text[i]);
	free(ft->text);
	free(ft->len);
}

/*
 * One project file of 100,000 frontmatter keys (issue 19): our parse, the
 * path of a sync pass from the file's bytes to an entity, against
 * libyaml's event parser alone on its frontmatter, in the same run. A step
 * quadratic in the keys shows as a ratio growing with them.
 */
#ifndef MANY_KEYS
#define MANY_KEYS	100000		/* -DMANY_KEYS=20000: the growth */
#endif

/* Known keys, then n extra keys of assorted values, some not ASCII. */
static void
make_many_keys(struct es_buf *b, size_t n)
{
	es_buf_addstr(b, "---\ntitle: Many keys at the Café\n"
	    "type: standard\ncreated: 2024-01-02\n");
	for (size_t i = 0; i < n; i++) {
		es_buf_addf(b, "key_%06zu: ", i);
		switch (i % 5) {
		case 0:
			es_buf_addf(b, "%zu\n", i);
			break;
		case 1:
			es_buf_addf(b, "value %zu\n", i);
			break;
		case 2:
			es_buf_addf(b, "\"quoted: %zu\"\n", i);
			break;
		case 3:
			es_buf_addstr(b, "[a, b]\n");
			break;
		default:
			es_buf_addstr(b, "résumé\n");
			break;
		}
	}
	es_buf_addstr(b, "---\n# Many keys\n");
}

static int
bench_many_keys(void)
{
	struct es_buf b = ES_BUF_INIT;
	double ours[REPEAT], floor[REPEAT];
	const char *text;
	size_t tlen, nextra = 0;
	int rc = 0;

	make_many_keys(&b, MANY_KEYS);
	if (!frontmatter_text(b.buf, b.len, &text, &tlen))
		abort();
	for (int i = 0; i < REPEAT; i++) {
		struct es_entity e;
		struct es_error err;
		double t0 = now_ms();

		es_entity_init(&e, ES_KIND_PROJECT);
		if (es_entity_file_parse(b.buf, b.len,
		    "10k-projects/active/home/many-keys.md", ES_KIND_PROJECT,
		    ES_FOLDER_ACTIVE, "many-keys", "home", &e, &err) != 0) {
			report("many keys", &err);
			rc = 1;
		}
		nextra = (size_t)bson_count_keys(e.extra);
		es_entity_release(&e);
		ours[i] = now_ms() - t0;
		t0 = now_ms();
		yaml_events(text, tlen);
		floor[i] = now_ms() - t0;
	}
	if (nextra != MANY_KEYS) {
		fprintf(stderr, "many keys: %zu extra keys, want %d\n", nextra,
		    MANY_KEYS);
		rc = 1;
	}
	double o = median(ours, REPEAT), f = median(floor, REPEAT);

	printf("parse_keys_100k_bytes: %zu\n", b.len);
	printf("parse_keys_100k_ms: %.2f\n", o);
	printf("parse_keys_100k_floor_ms: %.2f\n", f);
	printf("parse_keys_100k_vs_floor: %.2f\n", o / f);
	es_buf_release(&b);
	return rc;
}

static int
cmd_parse(int root)
{
	struct es_scan_result sr;
	struct es_scan_opts opts = { NULL };
	struct es_error err;
	struct es_buf b = ES_BUF_INIT;
	struct counts c;
	double read_ms[REPEAT], parse_ms[REPEAT], walk_ms[REPEAT], yaml_ms[REPEAT];
	size_t bytes = 0;
	struct fm_texts ft;

	if (es_scan(root, &opts, &sr, &err) < 0) {
		report("scan", &err);
		return 2;
	}
	/* Warm the page cache and the allocator, then alternate the two sides
	 * so that both see the same machine state. */
	read_all(root, &sr, &b);
	parse_all(root, false, &c);
	collect_frontmatter(root, &sr, &ft);
	for (int i = 0; i < REPEAT; i++) {
		struct es_scan_result w;
		double t0 = now_ms();

		bytes = read_all(root, &sr, &b);
		read_ms[i] = now_ms() - t0;
		t0 = now_ms();
		parse_all(root, false, &c);
		parse_ms[i] = now_ms() - t0;
		t0 = now_ms();
		if (es_scan(root, &opts, &w, &err) == 0)
			es_scan_result_release(&w);
		walk_ms[i] = now_ms() - t0;
		t0 = now_ms();
		yaml_floor(&ft);
		yaml_ms[i] = now_ms() - t0;
	}
	double r = median(read_ms, REPEAT), p = median(parse_ms, REPEAT);
	double w = median(walk_ms, REPEAT), y = median(yaml_ms, REPEAT);

	printf("files: %zu\n", sr.n);
	printf("bytes: %zu\n", bytes);
	printf("projects: %zu\n", c.projects);
	printf("goals: %zu\n", c.goals);
	printf("action_lists: %zu\n", c.lists);
	printf("actions: %zu\n", c.actions);
	printf("not_goals: %zu\n", c.skipped);
	printf("errors: %zu\n", c.errors);
	printf("read_ms: %.2f\n", r);
	printf("parse_ms: %.2f\n", p);
	printf("parse_vs_read: %.2f\n", p / r);
	/* Where the time goes: the walk alone, and libyaml alone on the
	 * frontmatter texts already in memory (both are parts of parse_ms). */
	printf("walk_ms: %.2f\n", w);
	printf("yaml_floor_ms: %.2f\n", y);
	printf("frontmatters: %zu\n", ft.n);
	printf("floor_vs_read: %.2f\n", (r + w + y) / r);
	free_frontmatter(&ft);
	es_buf_release(&b);
	es_scan_result_release(&sr);
	return bench_many_keys();
}

static int
cmd_check(int root)
{
	struct counts c;
	int bad = parse_all(root, true, &c);

	printf("files: %zu\n", c.files);
	printf("projects: %zu\n", c.projects);
	printf("goals: %zu\n", c.goals);
	printf("actions: %zu\n", c.actions);
	printf("errors: %zu\n", c.errors);
	printf("round_trip: %s\n", bad || c.errors ? "FAILED" : "ok");
	return bad || c.errors ? 1 : 0;
}

#define MIGRATE_REPEAT	3	/* real and raw, alternated: medians */

/* The bare inserts of prebuilt documents, as es_migrate_run() batches them. */
static double
raw_insert(struct es_store *s, const struct es_migrate_docs *d, size_t batch,
    size_t *failed)
{
	struct es_error err;
	double t0 = now_ms();

	*failed = 0;
	for (int k = 0; k < 3; k++) {
		int *st = calloc(d->n[k] ? d->n[k] : 1, sizeof(int));

		if (st == NULL)
			exit(2);
		if (es_store_insert_many(s, (enum es_kind)k,
		    (const bson_t *const *)d->docs[k], d->n[k], batch, st,
		    &err) < 0)
			report("raw insert", &err);
		for (size_t i = 0; i < d->n[k]; i++)
			*failed += st[i] != 0;
		free(st);
	}
	return now_ms() - t0;
}

/* What the replaced script does: read, then one insert per document. */
static double
naive_import(struct es_store *s, const struct es_migrate_opts *o,
    size_t *ndocs, size_t *failed)
{
	struct es_migrate_docs d;
	struct es_error err;
	double t0 = now_ms();

	*failed = *ndocs = 0;
	if (es_migrate_build_docs(o, &d, &err) < 0) {
		report("naive import", &err);
		exit(2);
	}
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < d.n[k]; i++) {
			if (es_store_insert(s, (enum es_kind)k, d.docs[k][i],
			    &err) < 0)
				(*failed)++;
			(*ndocs)++;
		}
	t0 = now_ms() - t0;
	es_migrate_docs_release(&d);
	return t0;
}

/*
 * One es_migrate_run() of a generated tree ten times the default one, on a
 * fresh database (its name appended to names): wall and CPU.
 */
static int
migrate_10x(const char *uri, char **names, size_t *nnames, double *wall,
    double *cpu)
{
	struct es_migrate_result r;
	struct es_migrate_opts o;
	struct es_error err;
	char *big, *src, *db;
	int rc = -1;

	big = make_tree_scaled(10);
	if ((src = realpath(big, NULL)) == NULL) {
		perror(big);
		remove_tree(big);
		return -1;
	}
	if (asprintf(&db, "es_bench_real10_%ld", (long)getpid()) < 0)
		exit(2);
	names[(*nnames)++] = db;
	memset(&o, 0, sizeof(o));
	o.source = src;
	o.uri = uri;
	o.user_id = "bench";
	o.database = db;
	*cpu = cpu_ms();
	if (es_migrate_run(&o, &r, &err) < 0)
		report("import 10x", &err);
	else if (es_migrate_total(&r).failed > 0)
		fprintf(stderr, "import 10x: %zu failed\n",
		    es_migrate_total(&r).failed);
	else
		rc = 0;
	*cpu = cpu_ms() - *cpu;
	*wall = r.total_ms;
	fprintf(stderr, "import 10x: %.0f ms, cpu %.0f ms\n", *wall, *cpu);
	es_migrate_result_release(&r);
	free(src);
	remove_tree(big);
	return rc;
}

static int
cmd_migrate(const char *tree, const char *uri_arg, size_t batch)
{
	char *fdb = NULL, *uri = NULL, *src, *base = NULL;
	char *names[MIGRATE_REPEAT * 2 + 2];
	double real[MIGRATE_REPEAT], raw[MIGRATE_REPEAT], naive;
	double cpu[MIGRATE_REPEAT], cpu1, cpu10 = 0, real10 = 0;
	struct es_migrate_result r;
	struct es_migrate_opts o;
	struct es_migrate_docs docs;
	struct es_error err;
	size_t ndocs = 0, failed = 0, nnaive, nfail, nnames = 0;
	uint64_t rt = 0;
	double load = 0, ins = 0, rd = 0, bl = 0;
	int rc = 2;

	if ((src = realpath(tree, NULL)) == NULL) {
		fprintf(stderr, "execsync-bench: %s: %s\n", tree,
		    strerror(errno));
		return 2;
	}
	if (server_start(uri_arg, &fdb, &uri) < 0)
		return 2;
	if (uri == NULL) {
		fprintf(stderr, "execsync-bench: no server URI\n");
		goto out;
	}
	es_store_global_init();
	/* FerretDB's missing endSessions makes libmongoc warn at every
	 * client close: noise between the figures. */
	es_log_set_level(ES_LOG_ERROR);
	if (asprintf(&base, "%s/.execsync", src) < 0)
		exit(2);

	memset(&o, 0, sizeof(o));
	o.source = src;
	o.uri = uri;
	o.user_id = "bench";
	o.batch_size = batch;
	if (es_migrate_build_docs(&o, &docs, &err) < 0) {
		report("build", &err);
		goto out;
	}
	/* Alternate the two so both see the same server state; each run on
	 * a fresh database, each import without a baseline. */
	for (int i = 0; i < MIGRATE_REPEAT; i++) {
		struct es_store *s;
		char *db;

		if (asprintf(&db, "es_bench_raw_%ld_%d", (long)getpid(), i) < 0)
			exit(2);
		names[nnames++] = db;
		s = open_store(uri, db);
		raw[i] = raw_insert(s, &docs, batch ? batch :
		    ES_MIGRATE_BATCH_DEFAULT, &nfail);
		es_store_free(s);
		if (nfail > 0)
			fprintf(stderr, "raw: %zu documents not inserted\n",
			    nfail);

		if (asprintf(&db, "es_bench_real_%ld_%d", (long)getpid(),
		    i) < 0)
			exit(2);
		names[nnames++] = db;
		remove_file_tree(base);
		o.database = db;
		cpu[i] = cpu_ms();
		if (es_migrate_run(&o, &r, &err) < 0) {
			report("import", &err);
			es_migrate_result_release(&r);
			goto out;
		}
		cpu[i] = cpu_ms() - cpu[i];
		real[i] = r.total_ms;
		if (i == 0 || r.total_ms <= real[0]) {
			load = r.load_ms;
			ins = r.insert_ms;
			rd = r.read_ms;
			bl = r.baseline_ms;
		}
		rt = r.round_trips;
		ndocs = r.docs;
		failed = es_migrate_total(&r).failed;
		es_migrate_result_release(&r);
		fprintf(stderr, "run %d: raw %.0f ms, import %.0f ms\n", i + 1,
		    raw[i], real[i]);
	}
	{
		char *db;
		struct es_store *s;

		if (asprintf(&db, "es_bench_naive_%ld", (long)getpid()) < 0)
			exit(2);
		names[nnames++] = db;
		s = open_store(uri, db);
		fprintf(stderr, "naive import: one insert per document...\n");
		naive = naive_import(s, &o, &nnaive, &nfail);
		es_store_free(s);
		if (nfail > 0)
			fprintf(stderr, "naive: %zu documents not inserted\n",
			    nfail);
	}
	es_migrate_docs_release(&docs);
	cpu1 = median(cpu, MIGRATE_REPEAT);
	/* The same import on a tree ten times larger, our CPU against 1x. */
	if (migrate_10x(uri, names, &nnames, &real10, &cpu10) < 0)
		goto out;

	double rm = median(real, MIGRATE_REPEAT), wm = median(raw,
	    MIGRATE_REPEAT);
	size_t b = batch ? batch : ES_MIGRATE_BATCH_DEFAULT;

	printf("docs: %zu\n", ndocs);
	printf("batch_size: %zu\n", b);
	printf("failed: %zu\n", failed);
	printf("real_ms: %.1f\n", rm);
	printf("real_load_ms: %.1f\n", load);
	printf("real_insert_ms: %.1f\n", ins);
	printf("real_read_ms: %.1f\n", rd);
	printf("real_baseline_ms: %.1f\n", bl);
	printf("docs_per_s: %.0f\n", ndocs / (rm / 1e3));
	printf("round_trips: %llu\n", (unsigned long long)rt);
	printf("round_trips_limit: %zu\n", (ndocs + b - 1) / b + 20);
	printf("naive_ms: %.1f\n", naive);
	printf("naive_docs_per_s: %.0f\n", nnaive / (naive / 1e3));
	printf("raw_ms: %.1f\n", wm);
	printf("raw_docs_per_s: %.0f\n", ndocs / (wm / 1e3));
	printf("speedup_vs_naive: %.2f\n", naive / rm);
	printf("vs_raw: %.2f\n", rm / wm);
	printf("migrate_cpu_ms: %.1f\n", cpu1);
	printf("migrate_10x_ms: %.1f\n", real10);
	printf("migrate_10x_cpu_ms: %.1f\n", cpu10);
	printf("migrate_scale: %.2f\n", real10 / rm);
	printf("migrate_cpu_scale: %.2f\n", cpu10 / cpu1);
	rc = failed == 0 ? 0 : 1;
out:
	for (size_t i = 0; i < nnames; i++) {
		drop_db(uri, names[i]);
		free(names[i]);
	}
	if (uri != NULL)
		es_store_global_cleanup();
	server_stop(fdb);
	free(base);
	free(uri);
	free(src);
	return rc;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: execsync-bench parse|check [--tree DIR]\n"
	    "       execsync-bench migrate [--tree DIR] [--uri URI] "
	    "[--batch-size N]\n"
	    "       execsync-bench reconcile|latency|idle [--uri URI]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "uri", required_argument, NULL, 'u' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	char *tree = NULL, *made = NULL, *end;
	const char *cmd, *uri = NULL;
	size_t batch = 0;
	int ch, root, rc;

	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 't')
			tree = optarg;
		else if (ch == 'u')
			uri = optarg;
		else if (ch == 'b') {
			errno = 0;
			batch = strtoul(optarg, &end, 10);
			if (errno || *end || batch == 0 ||
			    batch > ES_MIGRATE_BATCH_MAX)
				usage();
		} else
			usage();
	}
	if (strcmp(cmd, "migrate") == 0) {
		/* Its own copy: the import writes a baseline into it. */
		made = tree ? copy_tree(tree) : make_tree();
		rc = cmd_migrate(made, uri, batch);
		remove_tree(made);
		return rc;
	}
	if (strcmp(cmd, "latency") == 0 || strcmp(cmd, "idle") == 0) {
		if (tree != NULL || batch != 0)
			usage();
		return strcmp(cmd, "latency") == 0 ? bench_latency(uri) :
		    bench_idle(uri);
	}
	if (strcmp(cmd, "reconcile") == 0) {
		if (tree != NULL || batch != 0)
			usage();
		return cmd_reconcile(uri);
	}
	if (tree == NULL)
		tree = made = make_tree();
	if ((root = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "execsync-bench: %s: %s\n", tree, strerror(errno));
		return 2;
	}
	if (strcmp(cmd, "parse") == 0)
		rc = cmd_parse(root);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(root);
	else
		usage();
	close(root);
	if (made)
		remove_tree(made);
	return rc;
}
