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
 *                                       against their floors (issue 5)
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

#define REPEAT		7
#define MAX_FILE	ES_CONTENT_MAX_DEFAULT
#define FIXTURE		ES_SOURCE_DIR "/tests/ferretdb-fixture"

struct counts {
	size_t	files, bytes, projects, goals, lists, actions, skipped, errors;
	es_fp_t	mix;	/* folds every fingerprint: keeps the work observable */
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

/*
 * Generates a sample tree in a new temporary folder: the default one, or,
 * with scale > 1, one scale times larger (projects, actions and goals).
 */
static char *
make_tree_scaled(int scale)
{
	char tmpl[] = "/tmp/execsync-bench-XXXXXX";
	char *dir, *tree;
	pid_t pid;
	int status;

	if ((dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	if (asprintf(&tree, "%s/tree", dir) < 0)
		exit(2);
	fprintf(stderr, "generating the %s sample tree in %s\n",
	    scale > 1 ? "larger" : "default", tree);
	if ((pid = fork()) == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		if (scale > 1) {
			char p[32], a[32], g[32];

			snprintf(p, sizeof(p), "%d", 2000 * scale);
			snprintf(a, sizeof(a), "%d", 20000 * scale);
			snprintf(g, sizeof(g), "%d", 200 * scale);
			execlp("node", "node", ES_SOURCE_DIR
			    "/contrib/make-sample-tree", tree, "--projects", p,
			    "--actions", a, "--goals", g, (char *)NULL);
		} else
			execlp("node", "node", ES_SOURCE_DIR
			    "/contrib/make-sample-tree", tree, (char *)NULL);
		perror("node");
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "execsync-bench: make-sample-tree failed\n");
		exit(2);
	}
	return tree;
}

/* Generates the default sample tree in a new temporary folder. */
static char *
make_tree(void)
{
	return make_tree_scaled(1);
}

static void
remove_tree(char *tree)
{
	char *slash = strrchr(tree, '/');

	*slash = '\0';	/* the mkdtemp folder holding the tree */
	nftw(tree, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(tree);
}

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

static void
report(const char *what, const struct es_error *err)
{
	char msg[PATH_MAX + 600];

	fprintf(stderr, "%s: %s\n", what, es_error_format(err, msg, sizeof(msg)));
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

/* ---- migrate: the one-time import (issue 4) ---- */

/* User + system CPU time of this process so far. */
static double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}


#define MIGRATE_REPEAT	3	/* real and raw, alternated: medians */

/* Runs argv, output to stderr; its exit status, or -1. */
static int
run_quiet(char *const argv[])
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The first line of path, malloc'd, or NULL. */
static char *
first_line(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

static void
drop_db(const char *uri, const char *db)
{
	mongoc_client_t *c = mongoc_client_new(uri);
	mongoc_database_t *d;
	bson_error_t be;

	if (c == NULL)
		return;
	d = mongoc_client_get_database(c, db);
	if (!mongoc_database_drop_with_opts(d, NULL, &be))
		fprintf(stderr, "execsync-bench: drop %s: %s\n", db,
		    be.message);
	mongoc_database_destroy(d);
	mongoc_client_destroy(c);
}

static void
remove_file_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

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

static struct es_store *open_store_timeout(const char *, const char *,
    unsigned);

static struct es_store *
open_store(const char *uri, const char *db)
{
	return open_store_timeout(uri, db, 30000);
}

/*
 * The 10x tree's passes read 222,000 documents, and FerretDB scans each
 * collection for every batch: on a loaded machine one batch takes longer
 * than 30 s, so they get libmongoc's default socket timeout.
 */
static struct es_store *
open_store_timeout(const char *uri, const char *db, unsigned timeout_ms)
{
	struct es_error err;
	struct es_store *s = es_store_open(uri, db, timeout_ms, &err);

	if (s == NULL) {
		report("store", &err);
		exit(2);
	}
	return s;
}

/*
 * The server: uri_arg, else EXECSYNC_TEST_MONGODB_URI, else a private
 * FerretDB started with tests/ferretdb-fixture in a new folder (*fdb,
 * malloc'd; server_stop() it). *uri malloc'd, NULL when the fixture gave
 * none. -1 (said on stderr) when the fixture cannot start.
 */
static int
server_start(const char *uri_arg, char **fdb, char **uri)
{
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	char tmpl[] = "/tmp/execsync-bench-db-XXXXXX";
	char *start[] = { (char *)FIXTURE, (char *)"start", NULL, NULL };
	char *ufile;

	*fdb = *uri = NULL;
	if (uri_arg != NULL) {
		*uri = strdup(uri_arg);
		return 0;
	}
	if (env != NULL && env[0] != '\0') {
		*uri = strdup(env);
		return 0;
	}
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	*fdb = strdup(tmpl);
	start[2] = *fdb;
	if (run_quiet(start) != 0) {
		fprintf(stderr, "execsync-bench: cannot start FerretDB "
		    "(tests/ferretdb-fixture)\n");
		free(*fdb);
		*fdb = NULL;
		return -1;
	}
	if (asprintf(&ufile, "%s/uri", *fdb) < 0)
		exit(2);
	*uri = first_line(ufile);
	free(ufile);
	return 0;
}

/* Stops the FerretDB of server_start() and frees fdb; NULL: none. */
static void
server_stop(char *fdb)
{
	char *stop[] = { (char *)FIXTURE, (char *)"stop", fdb, NULL };

	if (fdb == NULL)
		return;
	run_quiet(stop);
	free(fdb);
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

/* ---- reconcile: the sync engine's passes (issue 5) ---- */

#define NOOP_REPEAT	3
#define FLOOR_REPEAT	5
#define NEDIT		10
#define DAY_MS		(INT64_C(24) * 3600 * 1000)
/* 9999-12-31: a since that no document passes. */
#define FAR_FUTURE_MS	INT64_C(253402214400000)

struct pass_fig {
	double		 wall, cpu;
	uint64_t	 rt;
	size_t		 docs_read, files_read, ops, failed;
	bool		 full;
};

/* One migrated tree and what a pass needs. */
struct rec {
	char			*tree;	/* realpath, malloc'd */
	char			*db;
	int			 root;
	struct es_store		*store;
	struct es_baseline	*b;
	char			*ident;
};

static size_t nwalked;

static int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
walk_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path; (void)sb; (void)flag; (void)ftw;
	nwalked++;
	return 0;
}

/* The floor of the file side: nftw lstat()s every entry, reads nothing. */
static double
stat_walk(const char *tree, size_t *n)
{
	double t0 = now_ms();

	nwalked = 0;
	nftw(tree, walk_entry, 64, FTW_PHYS);
	*n = nwalked;
	return now_ms() - t0;
}

static int
count_doc(const bson_t *doc, void *ud)
{
	(void)doc;
	(*(size_t *)ud)++;
	return 0;
}

/*
 * The floor of the database side: one empty since-query per collection;
 * per_kind[k] gets each one's time (FerretDB scans the collection for it,
 * so the actions collection, ten times the others, weighs most).
 */
static double
query_floor(struct es_store *s, uint64_t *rt, size_t *ndocs,
    double per_kind[3])
{
	struct es_error err;
	uint64_t rt0 = es_store_round_trips(s);
	double t0 = now_ms(), t;

	*ndocs = 0;
	for (int k = 0; k < 3; k++) {
		t = now_ms();
		if (es_store_find(s, (enum es_kind)k, "bench", FAR_FUTURE_MS,
		    count_doc, ndocs, &err) < 0)
			report("query floor", &err);
		per_kind[k] = now_ms() - t;
	}
	t0 = now_ms() - t0;
	*rt = es_store_round_trips(s) - rt0;
	return t0;
}

/*
 * The bare full read of every document (the three collections, in the
 * order and batches es_store_find() uses): what any --resync pays the
 * server, with no decoding of ours.
 */
static double
full_read(struct es_store *s, uint64_t *rt, size_t *ndocs)
{
	struct es_error err;
	uint64_t rt0 = es_store_round_trips(s);
	double t0 = now_ms();

	*ndocs = 0;
	for (int k = 0; k < 3; k++)
		if (es_store_find(s, (enum es_kind)k, "bench", -1, count_doc,
		    ndocs, &err) < 0)
			report("full read", &err);
	t0 = now_ms() - t0;
	*rt = es_store_round_trips(s) - rt0;
	return t0;
}

/*
 * The same documents read with no sort and replies of up to 10,000
 * documents (a plain libmongoc find): what a full read could cost the
 * server if it asked for no order.
 */
static double
full_read_unsorted(const char *uri, const char *db, uint64_t *batches,
    size_t *ndocs)
{
	mongoc_client_t *c = mongoc_client_new(uri);
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	double t0 = now_ms();

	*ndocs = 0;
	*batches = 0;
	if (c == NULL)
		return 0;
	BSON_APPEND_UTF8(&filter, "user_id", "bench");
	BSON_APPEND_INT32(&opts, "batchSize", 10000);
	for (int k = 0; k < 3; k++) {
		mongoc_collection_t *col = mongoc_client_get_collection(c, db,
		    es_store_collection_name((enum es_kind)k));
		mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col,
		    &filter, &opts, NULL);
		const bson_t *doc;
		bson_error_t be;

		while (mongoc_cursor_next(cur, &doc))
			(*ndocs)++;
		if (mongoc_cursor_error(cur, &be))
			fprintf(stderr, "unsorted read: %s\n", be.message);
		*batches += (*ndocs + 9999) / 10000;
		mongoc_cursor_destroy(cur);
		mongoc_collection_destroy(col);
	}
	t0 = now_ms() - t0;
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_client_destroy(c);
	return t0;
}

static void
rec_close(struct rec *x)
{
	es_baseline_free(x->b);
	x->b = NULL;
	es_store_free(x->store);
	x->store = NULL;
	if (x->root >= 0)
		close(x->root);
	x->root = -1;
	free(x->ident);
	x->ident = NULL;
}

static int
rec_open_baseline(struct rec *x)
{
	struct es_error err;

	if ((x->b = es_baseline_open_root(x->tree, &err)) == NULL) {
		report("baseline", &err);
		return -1;
	}
	return 0;
}

/* Imports tree into a fresh database db, then opens what a pass needs
 * (commands limited to timeout_ms). */
static int
rec_open(struct rec *x, const char *tree, const char *uri, const char *db,
    unsigned timeout_ms)
{
	struct es_migrate_opts o;
	struct es_migrate_result mr;
	struct es_error err;
	int rc;

	memset(x, 0, sizeof(*x));
	x->root = -1;
	if ((x->tree = realpath(tree, NULL)) == NULL) {
		fprintf(stderr, "execsync-bench: %s: %s\n", tree,
		    strerror(errno));
		return -1;
	}
	x->db = strdup(db);
	memset(&o, 0, sizeof(o));
	o.source = x->tree;
	o.uri = uri;
	o.database = db;
	o.user_id = "bench";
	rc = es_migrate_run(&o, &mr, &err);
	if (rc < 0)
		report("import", &err);
	else if (es_migrate_total(&mr).failed > 0) {
		fprintf(stderr, "import: %zu failed\n",
		    es_migrate_total(&mr).failed);
		rc = -1;
	} else
		fprintf(stderr, "imported %zu documents in %.0f ms\n", mr.docs,
		    mr.total_ms);
	es_migrate_result_release(&mr);
	if (rc < 0)
		return -1;
	if ((x->root = open(x->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "execsync-bench: %s: %s\n", x->tree,
		    strerror(errno));
		return -1;
	}
	x->store = open_store_timeout(uri, db, timeout_ms);
	if (es_store_ensure_indexes(x->store, &err) < 0) {
		report("indexes", &err);
		return -1;
	}
	x->ident = es_migrate_identity(uri, db, "bench");
	return rec_open_baseline(x);
}

/* One pass as execsyncd --once makes it (the clock at now), timed. */
static int
rec_pass(struct rec *x, bool resync, int64_t now, struct pass_fig *f)
{
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_error err;
	struct es_world w;
	struct es_trigger t;
	double t0, c0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.root = x->tree;
	o.root_fd = x->root;
	o.user_id = "bench";
	o.identity = x->ident;
	o.policy = ES_POLICY_NEWEST;
	o.resync = resync;
	o.max_delete = 50;
	o.full_pass_s = 600;	/* execsyncd's default */
	/* As es_engine_once(), with the clock at now. */
	es_world_real_init(&w, x->root, x->b, x->store);
	es_world_clock_fixed(&w, &now);
	memset(&t, 0, sizeof(t));
	t.kind = resync ? ES_TRIGGER_FULL : ES_TRIGGER_ORDINARY;
	es_engine_result_init(&r);
	c0 = cpu_ms();
	t0 = now_ms();
	rc = es_pass_run(&o, &w, &t, &r, &err);
	f->wall = now_ms() - t0;
	f->cpu = cpu_ms() - c0;
	f->rt = r.round_trips;
	f->docs_read = r.docs_read;
	f->files_read = r.files_read;
	f->ops = r.plan.n;
	f->failed = r.failed;
	f->full = r.full_read;
	if (rc < 0)
		report("pass", &err);
	for (size_t i = 0; i < r.nerrors; i++)
		report("pass item", &r.errors[i]);
	if (r.held || r.guard_stopped) {
		fprintf(stderr, "pass: held or stopped by the guard\n");
		rc = -1;
	}
	fprintf(stderr, "pass%s: %.1f ms, cpu %.1f ms, %llu round trips, "
	    "%zu files read, %zu documents read (%s), %zu ops, %zu failed\n",
	    resync ? " (resync)" : "", f->wall, f->cpu,
	    (unsigned long long)f->rt, f->files_read, f->docs_read,
	    f->full ? "full" : "recent", f->ops, f->failed);
	es_engine_result_release(&r);
	return rc < 0 || f->failed > 0 ? -1 : 0;
}

/* Deletes the baseline (SQLite file and journals) and opens a new one. */
static int
rec_forget(struct rec *x)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };

	es_baseline_free(x->b);
	x->b = NULL;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p;

		if (asprintf(&p, "%s/%s%s", x->tree, ES_BASELINE_FILE,
		    suffix[i]) < 0)
			exit(2);
		if (unlink(p) < 0 && errno != ENOENT)
			perror(p);
		free(p);
	}
	return rec_open_baseline(x);
}

/*
 * Edits n project files, picked evenly through the tree: one body line
 * changed (the last non-empty one gets a suffix), and an mtime set past
 * any the file had, as an editor's save gives it.
 */
static int
edit_projects(struct rec *x, size_t n, const char *tag, time_t mtime)
{
	struct es_scan_result sr;
	struct es_scan_opts opts = { NULL };
	struct es_error err;
	size_t nproj = 0, done = 0, k = 0, step;

	if (es_scan(x->root, &opts, &sr, &err) < 0) {
		report("scan", &err);
		return -1;
	}
	for (size_t i = 0; i < sr.n; i++)
		nproj += sr.entries[i].info.kind == ES_KIND_PROJECT;
	step = nproj / n ? nproj / n : 1;
	for (size_t i = 0; i < sr.n && done < n; i++) {
		const struct es_scan_entry *en = &sr.entries[i];
		struct es_buf b = ES_BUF_INIT, out = ES_BUF_INIT;
		struct es_stat st;
		struct timespec ts[2];
		size_t end;
		int fd;

		if (en->info.kind != ES_KIND_PROJECT || k++ % step != 0)
			continue;
		if (es_scan_read(x->root, en->rel, MAX_FILE, &b, &st,
		    &err) < 0) {
			report("read", &err);
			continue;
		}
		end = b.len;
		while (end > 0 && (b.buf[end - 1] == '\n' ||
		    b.buf[end - 1] == ' '))
			end--;
		es_buf_add(&out, b.buf, end);
		es_buf_add(&out, " (", 2);
		es_buf_add(&out, tag, strlen(tag));
		es_buf_add(&out, ")", 1);
		es_buf_add(&out, b.buf + end, b.len - end);
		fd = openat(x->root, en->rel, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || write(fd, out.buf, out.len) != (ssize_t)out.len)
			perror(en->rel);
		if (fd >= 0)
			close(fd);
		ts[0].tv_sec = ts[1].tv_sec = mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (utimensat(x->root, en->rel, ts, AT_SYMLINK_NOFOLLOW) < 0)
			perror(en->rel);
		es_buf_release(&b);
		es_buf_release(&out);
		done++;
	}
	es_scan_result_release(&sr);
	return done == n ? 0 : -1;
}

static int
cmd_reconcile(const char *uri_arg)
{
	char *fdb = NULL, *uri = NULL, *tree = NULL, *big = NULL;
	char *db1 = NULL, *db10 = NULL;
	struct rec x1, x10;
	struct pass_fig first, noop[NOOP_REPEAT], ten, full, settle, late;
	struct pass_fig rs, rs10, settled, noop10[NOOP_REPEAT], rk, rk10;
	double walk[FLOOR_REPEAT], floor[FLOOR_REPEAT], nw[NOOP_REPEAT];
	double kfloor[3][FLOOR_REPEAT], per_kind[3];
	double w, q, noop_wall, noop_cpu, noop10_cpu, fr1, fr10;
	double fu1, fu10;
	uint64_t fr1_rt, fr10_rt, fu_b;
	size_t fr1_docs, fr10_docs, fu_docs;
	uint64_t floor_rt = 0, noop_rt;
	size_t nfiles = 0, nfound = 0;
	int64_t t0, t1;
	int rc = 2, bad = 0;

	memset(&x1, 0, sizeof(x1));
	memset(&x10, 0, sizeof(x10));
	x1.root = x10.root = -1;
	if (server_start(uri_arg, &fdb, &uri) < 0)
		return 2;
	if (uri == NULL) {
		fprintf(stderr, "execsync-bench: no server URI\n");
		goto out;
	}
	es_store_global_init();
	es_log_set_level(ES_LOG_ERROR);
	if (asprintf(&db1, "es_bench_rec_%ld", (long)getpid()) < 0 ||
	    asprintf(&db10, "es_bench_rec10_%ld", (long)getpid()) < 0)
		exit(2);
	tree = make_tree();
	if (rec_open(&x1, tree, uri, db1, 30000) < 0)
		goto out;

	/* The floors, warm: walk and query alternated, medians. */
	for (int i = 0; i < FLOOR_REPEAT; i++) {
		walk[i] = stat_walk(x1.tree, &nfiles);
		floor[i] = query_floor(x1.store, &floor_rt, &nfound,
		    per_kind);
		for (int k = 0; k < 3; k++)
			kfloor[k][i] = per_kind[k];
	}
	w = median(walk, FLOOR_REPEAT);
	q = median(floor, FLOOR_REPEAT);
	for (int k = 0; k < 3; k++)
		per_kind[k] = median(kfloor[k], FLOOR_REPEAT);
	if (nfound != 0)
		fprintf(stderr, "query floor: %zu documents found\n", nfound);

	/*
	 * Right after the import, every document's updated_at is within the
	 * lookback of the watermark, so a since-query returns them all: the
	 * honest no-op of that moment. The first pass is a full read (no
	 * full pass recorded yet).
	 */
	t0 = clock_ms();
	bad |= rec_pass(&x1, false, t0, &first);
	for (int i = 0; i < NOOP_REPEAT; i++) {
		bad |= rec_pass(&x1, false, clock_ms(), &noop[i]);
		nw[i] = noop[i].wall;
	}
	noop_wall = median(nw, NOOP_REPEAT);
	for (int i = 0; i < NOOP_REPEAT; i++)
		nw[i] = noop[i].cpu;
	noop_cpu = median(nw, NOOP_REPEAT);
	noop_rt = noop[NOOP_REPEAT - 1].rt;

	bad |= edit_projects(&x1, NEDIT, "edited", time(NULL) + 5);
	bad |= rec_pass(&x1, false, clock_ms(), &ten);

	/*
	 * Long after the last change (simulated with the pass's clock, a
	 * legitimate input of the engine): a day later the periodic full
	 * read runs (full_pass_s) while one file is edited; a minute after
	 * that, the no-op's since-query returns only what changed within
	 * the lookback of that edit.
	 */
	t1 = clock_ms() + DAY_MS;
	bad |= edit_projects(&x1, 1, "a day later", time(NULL) + 10);
	bad |= rec_pass(&x1, false, t1, &settle);
	full = settle;
	bad |= rec_pass(&x1, false, t1 + 60 * 1000, &late);

	/*
	 * The no-op once every collection's watermark is at the last pass's
	 * clock, as the engine would record it if it advanced the watermark
	 * to its own clock and not only to the newest updated_at it saw
	 * (written here into the baseline's meta, between passes): its
	 * since-queries then return nothing.
	 */
	for (int k = 0; k < 3; k++) {
		char key[64], val[32];
		struct es_error err;

		snprintf(key, sizeof(key), "watermark.%s",
		    es_store_collection_name((enum es_kind)k));
		snprintf(val, sizeof(val), "%lld", (long long)(t1 + 60 * 1000));
		if (es_baseline_set_meta(x1.b, key, val, &err) < 0)
			report("watermark", &err);
	}
	bad |= rec_pass(&x1, false, t1 + 120 * 1000, &settled);

	/* --resync without a baseline (SPEC 4.17). */
	if (rec_forget(&x1) < 0)
		goto out;
	fr1 = full_read(x1.store, &fr1_rt, &fr1_docs);
	fu1 = full_read_unsorted(uri, db1, &fu_b, &fu_docs);
	bad |= rec_pass(&x1, true, t1 + 180 * 1000, &rs);
	/* --resync again, now over the baseline the first one made. */
	bad |= rec_pass(&x1, true, t1 + 240 * 1000, &rk);

	/* The same on a tree ten times larger. */
	big = make_tree_scaled(10);
	if (rec_open(&x10, big, uri, db10, 300000) < 0 || rec_forget(&x10) < 0)
		goto out;
	fr10 = full_read(x10.store, &fr10_rt, &fr10_docs);
	fu10 = full_read_unsorted(uri, db10, &fu_b, &fu_docs);
	bad |= rec_pass(&x10, true, clock_ms(), &rs10);
	/* The no-op after it, as at 1x: the since-queries return them all. */
	for (int i = 0; i < NOOP_REPEAT; i++) {
		bad |= rec_pass(&x10, false, clock_ms(), &noop10[i]);
		nw[i] = noop10[i].cpu;
	}
	noop10_cpu = median(nw, NOOP_REPEAT);
	bad |= rec_pass(&x10, true, clock_ms(), &rk10);

	printf("files: %zu\n", nfiles);
	printf("stat_walk_ms: %.2f\n", w);
	printf("query_floor_ms: %.2f\n", q);
	printf("query_floor_round_trips: %llu\n",
	    (unsigned long long)floor_rt);
	/* Each collection's part: an empty query costs a scan on FerretDB. */
	for (int k = 0; k < 3; k++)
		printf("query_floor_%s_ms: %.2f\n",
		    es_store_collection_name((enum es_kind)k), per_kind[k]);
	printf("first_pass_ms: %.1f\n", first.wall);
	printf("first_pass_round_trips: %llu\n",
	    (unsigned long long)first.rt);
	printf("noop_pass_ms: %.1f\n", noop_wall);
	printf("noop_round_trips: %llu\n", (unsigned long long)noop_rt);
	printf("noop_cpu_ms: %.1f\n", noop_cpu);
	printf("noop_docs_read: %zu\n", noop[0].docs_read);
	printf("ten_edit_pass_ms: %.1f\n", ten.wall);
	printf("ten_edit_round_trips: %llu\n", (unsigned long long)ten.rt);
	printf("ten_edit_cpu_ms: %.1f\n", ten.cpu);
	printf("ten_edit_files_read: %zu\n", ten.files_read);
	printf("periodic_full_pass_ms: %.1f\n", full.wall);
	printf("periodic_full_round_trips: %llu\n",
	    (unsigned long long)full.rt);
	printf("noop_late_pass_ms: %.1f\n", late.wall);
	printf("noop_late_round_trips: %llu\n", (unsigned long long)late.rt);
	printf("noop_late_cpu_ms: %.1f\n", late.cpu);
	printf("noop_late_docs_read: %zu\n", late.docs_read);
	printf("noop_settled_pass_ms: %.1f\n", settled.wall);
	printf("noop_settled_round_trips: %llu\n",
	    (unsigned long long)settled.rt);
	printf("noop_settled_cpu_ms: %.1f\n", settled.cpu);
	printf("noop_settled_docs_read: %zu\n", settled.docs_read);
	printf("resync_ms: %.1f\n", rs.wall);
	printf("resync_round_trips: %llu\n", (unsigned long long)rs.rt);
	printf("resync_cpu_ms: %.1f\n", rs.cpu);
	printf("resync_10x_ms: %.1f\n", rs10.wall);
	printf("resync_10x_round_trips: %llu\n", (unsigned long long)rs10.rt);
	printf("resync_10x_cpu_ms: %.1f\n", rs10.cpu);
	/* The server's share: reading every document, nothing decoded. */
	printf("full_read_ms: %.1f\n", fr1);
	printf("full_read_docs: %zu\n", fr1_docs);
	printf("full_read_round_trips: %llu\n", (unsigned long long)fr1_rt);
	printf("full_read_10x_ms: %.1f\n", fr10);
	printf("full_read_10x_docs: %zu\n", fr10_docs);
	printf("full_read_10x_round_trips: %llu\n",
	    (unsigned long long)fr10_rt);
	printf("noop_vs_floor: %.2f\n", noop_wall / (w + q));
	printf("noop_late_vs_floor: %.2f\n", late.wall / (w + q));
	printf("noop_settled_vs_floor: %.2f\n", settled.wall / (w + q));
	printf("ten_vs_noop: %.2f\n", ten.cpu / noop_cpu);
	printf("resync_scale: %.2f\n", rs10.wall / rs.wall);
	printf("resync_cpu_scale: %.2f\n", rs10.cpu / rs.cpu);
	/* The same over a full baseline: it is cleared and written again. */
	printf("resync_kept_cpu_ms: %.1f\n", rk.cpu);
	printf("resync_kept_10x_cpu_ms: %.1f\n", rk10.cpu);
	printf("resync_kept_cpu_scale: %.2f\n", rk10.cpu / rk.cpu);
	printf("noop_pass_cpu_ms: %.1f\n", noop_cpu);
	printf("noop_pass_10x_cpu_ms: %.1f\n", noop10_cpu);
	printf("noop_pass_cpu_scale: %.2f\n", noop10_cpu / noop_cpu);
	printf("full_read_scale: %.2f\n", fr10 / fr1);
	printf("full_read_unsorted_ms: %.1f\n", fu1);
	printf("full_read_unsorted_10x_ms: %.1f\n", fu10);
	printf("full_read_unsorted_scale: %.2f\n", fu10 / fu1);
	printf("ten_minus_noop_round_trips: %lld\n",
	    (long long)ten.rt - (long long)noop_rt);
	rc = bad ? 1 : 0;
out:
	rec_close(&x1);
	rec_close(&x10);
	free(x1.tree);
	free(x10.tree);
	free(x1.db);
	free(x10.db);
	if (uri != NULL) {
		drop_db(uri, db1);
		drop_db(uri, db10);
		es_store_global_cleanup();
	}
	if (tree != NULL)
		remove_tree(tree);
	if (big != NULL)
		remove_tree(big);
	server_stop(fdb);
	free(db1);
	free(db10);
	free(uri);
	return rc;
}

/* A copy of dir in a new temporary folder ("<tmp>/tree"), for migrate,
 * which writes its baseline into the folder it imports. */
static char *
copy_tree(const char *dir)
{
	char tmpl[] = "/tmp/execsync-bench-XXXXXX";
	char *tmp, *tree;

	if ((tmp = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	if (asprintf(&tree, "%s/tree", tmp) < 0)
		exit(2);
	char *argv[] = { (char *)"cp", (char *)"-a", (char *)dir, tree, NULL };

	if (run_quiet(argv) != 0) {
		fprintf(stderr, "execsync-bench: cannot copy %s\n", dir);
		exit(2);
	}
	return tree;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: execsync-bench parse|check [--tree DIR]\n"
	    "       execsync-bench migrate [--tree DIR] [--uri URI] "
	    "[--batch-size N]\n"
	    "       execsync-bench reconcile [--uri URI]\n");
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
