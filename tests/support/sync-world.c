/* The sync tests' harness: see sync-world.h. */
#include "sync-world.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/engine.h"
#include "execsync/migrate.h"
#include "execsync/store.h"
#include "execsync/xmalloc.h"

#ifndef ES_SYNCD_BIN
#error "ES_SYNCD_BIN (the path of execsyncd) is not defined"
#endif

void
w_begin(struct world *w, const char *tag)
{
	memset(w, 0, sizeof(*w));
	es_itest_begin(&w->t, tag);
	w->tmp = es_itest_tmpdir(tag);
	w->root = es_xasprintf("%s/tree", w->tmp);
	if (mkdir(w->root, 0755) < 0)
		fail_msg("mkdir %s: %s", w->root, strerror(errno));
	es_buf_init(&w->out, 0);
	es_buf_init(&w->err, 0);
}

void
w_end(struct world *w)
{
	es_itest_end(&w->t);
	es_itest_rm_rf(w->tmp);
	free(w->tmp);
	free(w->root);
	es_buf_release(&w->out);
	es_buf_release(&w->err);
}

/* Runs execsyncd --once on w's folder and database, then extra. */
int
syncd(struct world *w, const char *const *extra)
{
	return syncd_via(w, NULL, extra);
}

int
syncd_via(struct world *w, const char *const *pre, const char *const *extra)
{
	char *argv[48];
	int n = 0, rc;

	for (size_t i = 0; pre != NULL && pre[i] != NULL && n < 8; i++)
		argv[n++] = (char *)pre[i];
	argv[n++] = (char *)ES_SYNCD_BIN;
	argv[n++] = (char *)"--once";
	argv[n++] = (char *)"--source";
	argv[n++] = w->root;
	argv[n++] = (char *)"--mongodb-uri";
	argv[n++] = w->t.uri;
	argv[n++] = (char *)"--user-id";
	argv[n++] = (char *)w->t.user;
	argv[n++] = (char *)"--database";
	argv[n++] = w->t.db;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 47; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	es_buf_reset(&w->out);
	es_buf_reset(&w->err);
	rc = es_itest_run(argv, &w->out, &w->err, 60);
	if (rc == 2)
		print_message("execsyncd stderr: %s\n", w->err.buf ?
		    w->err.buf : "");
	return rc;
}

int
syncd1(struct world *w, const char *a)
{
	const char *extra[2] = { a, NULL };

	return syncd(w, extra);
}

char *
path_of(const struct world *w, const char *rel)
{
	return es_xasprintf("%s/%s", w->root, rel);
}

void
put(const struct world *w, const char *rel, const char *s)
{
	char *path = path_of(w, rel);
	FILE *f;

	for (char *p = path + strlen(w->root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) < 0 && errno != EEXIST)
				fail_msg("mkdir %s: %s", path, strerror(errno));
			*p = '/';
		}
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(s, 1, strlen(s), f) != strlen(s))
		fail_msg("write %s: %s", path, strerror(errno));
	fclose(f);
	free(path);
}

/* The file's bytes, malloc'd, or NULL when it does not exist. */
char *
get(const struct world *w, const char *rel)
{
	char *path = path_of(w, rel);
	struct es_buf b = ES_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	free(path);
	if (f == NULL)
		return NULL;
	es_buf_addstr(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		es_buf_add(&b, chunk, n);
	fclose(f);
	return es_buf_detach(&b, NULL);
}

bool
exists(const struct world *w, const char *rel)
{
	char *path = path_of(w, rel);
	struct stat st;
	bool r = lstat(path, &st) == 0;

	free(path);
	return r;
}

/* Sets rel's mtime to now + off_s (never sleep: SPEC 4.1 tests). */
void
set_mtime(const struct world *w, const char *rel, int64_t off_s)
{
	char *path = path_of(w, rel);
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += off_s;
	ts[1] = ts[0];
	if (utimensat(AT_FDCWD, path, ts, 0) < 0)
		fail_msg("utimensat %s: %s", path, strerror(errno));
	free(path);
}

int64_t
mtime_ns(const struct world *w, const char *rel)
{
	char *path = path_of(w, rel);
	struct stat st;

	if (lstat(path, &st) < 0)
		fail_msg("lstat %s: %s", path, strerror(errno));
	free(path);
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

void
assert_file_has(const struct world *w, const char *rel, const char *needle)
{
	char *s = get(w, rel);

	if (s == NULL)
		fail_msg("%s: no such file", rel);
	if (!contains(s, needle))
		fail_msg("%s: no '%s' in:\n%s", rel, needle, s);
	free(s);
}

/* The live or newest deleted document with this slug; false if none. */
bool
doc_get(const struct world *w, const char *coll, const char *slug,
    bson_t *doc)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"collection\":\"%s\",\"slug\":\"%s\"}",
	    coll, slug);
	return es_itest_peer(&w->t, "get", json, doc);
}

char *
doc_content(const struct world *w, const char *slug)
{
	bson_t doc;
	char *s;

	assert_true(doc_get(w, "projects", slug, &doc));
	s = strdup(es_itest_str(&doc, "content"));
	bson_destroy(&doc);
	return s;
}

void
peer(const struct world *w, const char *cmd, const char *json)
{
	bson_t doc;

	if (es_itest_peer(&w->t, cmd, json, &doc))
		bson_destroy(&doc);
}

void
peer_clock(const struct world *w, int64_t off_ms, const char *cmd,
    const char *json)
{
	bson_t doc;

	if (es_itest_peer_clock(&w->t, off_ms, cmd, json, &doc))
		bson_destroy(&doc);
}

bool
doc_deleted(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "deleted") &&
	    BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
}

/* Documents of this user in coll (deleted ones too). */
size_t
count_docs(const struct world *w, const char *coll)
{
	return count_where(w, coll, NULL);
}

size_t
count_where(const struct world *w, const char *coll, const bson_t *extra)
{
	mongoc_client_t *c = mongoc_client_new(w->t.uri);
	mongoc_collection_t *col;
	bson_t filter = BSON_INITIALIZER;
	bson_error_t be;
	int64_t n;

	if (c == NULL)
		fail_msg("mongoc_client_new");
	col = mongoc_client_get_collection(c, w->t.db, coll);
	BSON_APPEND_UTF8(&filter, "user_id", w->t.user);
	if (extra != NULL)
		bson_concat(&filter, extra);
	n = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL,
	    &be);
	if (n < 0)
		fail_msg("count %s: %s", coll, be.message);
	bson_destroy(&filter);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
	return (size_t)n;
}

char *
dump(const struct world *w)
{
	struct es_buf out = ES_BUF_INIT;

	if (es_itest_peer_run(&w->t, 0, "dump", "{}", &out, NULL) != 0)
		fail_msg("peer dump failed");
	return es_buf_detach(&out, NULL);
}

/* Every path, mtime and content hash under root but .execsync/. */
char *
snapshot(const struct world *w)
{
	struct es_buf out = ES_BUF_INIT;
	char *cmd = es_xasprintf("cd '%s' && find . -path ./.execsync -prune "
	    "-o -printf '%%P %%y %%s %%T@ %%m\\n' | sort && find . -path "
	    "./.execsync -prune -o -type f -print0 | sort -z | xargs -0 -r "
	    "sha256sum", w->root);
	char *argv[] = { (char *)"sh", (char *)"-c", cmd, NULL };

	if (es_itest_run(argv, &out, NULL, 30) != 0)
		fail_msg("snapshot failed");
	free(cmd);
	es_buf_addstr(&out, "");
	return es_buf_detach(&out, NULL);
}

/*
 * One pass of the engine in this process, as execsyncd --once runs it, so
 * a test can play the user at a chosen point of it (fsio's test seam).
 * Returns the pass's exit status.
 */
int
engine_pass(struct world *w)
{
	return engine_pass_world(w, NULL, NULL, NULL, NULL);
}

int
engine_pass_world(struct world *w,
    void (*wrap)(struct es_world *ew, void *ud), void *ud,
    const struct es_trigger *t, struct es_engine_result *out)
{
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_trigger ordinary;
	struct es_world ew;
	struct es_store *store;
	struct es_baseline *b;
	struct es_error err;
	char *ident = es_migrate_identity(w->t.uri, w->t.db, w->t.user);
	int fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	assert_true(fd >= 0);
	store = es_store_open(w->t.uri, w->t.db, 10000, &err);
	assert_non_null(store);
	b = es_baseline_open_root(w->root, &err);
	assert_non_null(b);
	memset(&o, 0, sizeof(o));
	o.root = w->root;
	o.root_fd = fd;
	o.user_id = w->t.user;
	o.identity = ident;
	o.policy = ES_POLICY_NEWEST;
	o.max_delete = 50;
	memset(&ordinary, 0, sizeof(ordinary));
	es_world_real_init(&ew, fd, b, store);
	if (wrap != NULL)
		wrap(&ew, ud);
	es_engine_result_init(&r);
	es_buf_reset(&w->err);
	if (es_pass_run(&o, &ew, t != NULL ? t : &ordinary, &r, &err) < 0) {
		char msg[PATH_MAX + 600];

		es_buf_addstr(&w->err, es_error_format(&err, msg,
		    sizeof(msg)));
		rc = 2;
	} else
		rc = es_engine_status(&r);
	if (out != NULL) {
		*out = r;
		es_engine_result_init(&r);
	}
	es_engine_result_release(&r);
	es_baseline_free(b);
	es_store_free(store);
	free(ident);
	close(fd);
	return rc;
}
