/* Shared helpers of the integration tests; see es-itest.h. */
#include "es-itest.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "execsync/date.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

size_t
jcount(const json_t *j, const char *kind, const char *field)
{
	json_t *v = json_object_get(json_object_get(j, kind), field);

	if (!json_is_integer(v))
		fail_msg("summary has no %s.%s", kind, field);
	return (size_t)json_integer_value(v);
}

int
es_itest_group_setup(void **state)
{
	(void)state;
	es_store_global_init();
	return 0;
}

int
es_itest_group_teardown(void **state)
{
	(void)state;
	es_store_global_cleanup();
	return 0;
}

char *
es_itest_uri(void)
{
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	const char *bin = getenv("ES_BINARY_DIR");
	char path[PATH_MAX], line[4096];
	FILE *f;
	size_t n;

	if (env != NULL && env[0] != '\0')
		return es_xstrdup(env);
	if (bin == NULL)
		fail_msg("neither EXECSYNC_TEST_MONGODB_URI nor ES_BINARY_DIR "
		    "is set (run through ctest)");
	snprintf(path, sizeof(path), "%s/ferretdb-test/uri", bin);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: %s (is the ferretdb fixture running?)", path,
		    strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		fail_msg("%s: empty", path);
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return es_xstrdup(line);
}

char *
es_itest_dbname(const char *tag)
{
	return es_xasprintf("es_t_%s_%ld", tag, (long)getpid());
}

void
es_itest_drop_db(const char *uri, const char *db)
{
	mongoc_client_t *c;
	mongoc_database_t *d;
	bson_error_t be;
	bool ok;

	c = mongoc_client_new(uri);
	if (c == NULL)
		fail_msg("drop %s: bad uri", db);
	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	d = mongoc_client_get_database(c, db);
	ok = mongoc_database_drop_with_opts(d, NULL, &be);
	mongoc_database_destroy(d);
	mongoc_client_destroy(c);
	if (!ok)
		fail_msg("drop %s: %s", db, be.message);
}

void
es_itest_begin(struct es_itest *t, const char *tag)
{
	struct es_error err;

	t->uri = es_itest_uri();
	t->db = es_itest_dbname(tag);
	t->user = "ana";
	t->store = es_store_open(t->uri, t->db, 5000, &err);
	if (t->store == NULL)
		fail_msg("es_store_open: %s", err.msg);
}

void
es_itest_end(struct es_itest *t)
{
	es_store_free(t->store);
	t->store = NULL;
	es_itest_drop_db(t->uri, t->db);
	free(t->uri);
	free(t->db);
	t->uri = t->db = NULL;
}

char *
es_itest_tmpdir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl;

	tmpl = es_xasprintf("%s/es-itest-%s.XXXXXX",
	    tmp && tmp[0] ? tmp : "/tmp", tag);
	if (mkdtemp(tmpl) == NULL)
		fail_msg("mkdtemp %s: %s", tmpl, strerror(errno));
	return tmpl;
}

void
es_itest_rm_rf(const char *path)
{
	es_test_rm_tree(path);
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
es_itest_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
es_itest_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

/* Reads what is there on fd into b; false at end of file. */
static bool
drain(int fd, struct es_buf *b)
{
	char chunk[4096];
	ssize_t r;

	r = read(fd, chunk, sizeof(chunk));
	if (r <= 0)
		return r < 0 && (errno == EINTR || errno == EAGAIN);
	if (b != NULL)
		es_buf_add(b, chunk, (size_t)r);
	return true;
}

int
es_itest_run(char *const argv[], struct es_buf *out, struct es_buf *errout,
    unsigned timeout_s)
{
	int po[2], pe[2], status, devnull;
	int64_t deadline = es_itest_mono_ms() + (int64_t)timeout_s * 1000;
	bool open_o = true, open_e = true, killed = false;
	pid_t pid;

	if (pipe(po) == -1 || pipe(pe) == -1)
		fail_msg("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull != -1)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		close(po[1]);
		close(pe[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* Both pipes at once: a child filling stderr must not block. */
	while (open_o || open_e) {
		struct pollfd p[2];
		int np = 0, left = (int)(deadline - es_itest_mono_ms());

		if (left <= 0) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		if (open_o)
			p[np++] = (struct pollfd){ po[0], POLLIN, 0 };
		if (open_e)
			p[np++] = (struct pollfd){ pe[0], POLLIN, 0 };
		if (poll(p, (nfds_t)np, left) <= 0)
			continue;
		for (int i = 0; i < np; i++) {
			if (p[i].revents == 0)
				continue;
			if (p[i].fd == po[0] && !drain(po[0], out))
				open_o = false;
			else if (p[i].fd == pe[0] && !drain(pe[0], errout))
				open_e = false;
		}
	}
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
	if (killed)
		fail_msg("%s: still running after %u s, killed", argv[0],
		    timeout_s);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int
es_itest_peer_run(const struct es_itest *t, int64_t clock_offset_ms,
    const char *cmd, const char *json, struct es_buf *out,
    struct es_buf *errout)
{
	const char *src = getenv("ES_SOURCE_DIR");
	char *peer, offset[32];
	char *argv[16];
	int n = 0, rc;

	if (src == NULL)
		fail_msg("ES_SOURCE_DIR is not set (run through ctest)");
	peer = es_xasprintf("%s/tests/api-peer/peer.js", src);
	if (access(peer, R_OK) == -1)
		fail_msg("%s: %s", peer, strerror(errno));
	snprintf(offset, sizeof(offset), "%lld", (long long)clock_offset_ms);
	argv[n++] = (char *)"node";
	argv[n++] = peer;
	argv[n++] = (char *)"--uri";
	argv[n++] = t->uri;
	argv[n++] = (char *)"--db";
	argv[n++] = t->db;
	argv[n++] = (char *)"--user";
	argv[n++] = (char *)t->user;
	if (clock_offset_ms != 0) {
		argv[n++] = (char *)"--clock-offset-ms";
		argv[n++] = offset;
	}
	argv[n++] = (char *)cmd;
	argv[n++] = (char *)(json ? json : "{}");
	argv[n] = NULL;
	rc = es_itest_run(argv, out, errout, 30);
	free(peer);
	return rc;
}

bool
es_itest_peer_clock(const struct es_itest *t, int64_t clock_offset_ms,
    const char *cmd, const char *json, bson_t *doc)
{
	struct es_buf out, errout;
	bson_error_t be;
	bool found = true;
	int rc;

	es_buf_init(&out, 0);
	es_buf_init(&errout, 0);
	rc = es_itest_peer_run(t, clock_offset_ms, cmd, json, &out, &errout);
	if (rc != 0)
		fail_msg("peer %s %s: exit %d: %s", cmd, json ? json : "{}", rc,
		    errout.buf);
	while (out.len > 0 && (out.buf[out.len - 1] == '\n' ||
	    out.buf[out.len - 1] == '\r'))
		es_buf_setlen(&out, out.len - 1);
	if (strcmp(out.buf, "null") == 0) {
		bson_init(doc);
		found = false;
	} else if (!bson_init_from_json(doc, out.buf, (ssize_t)out.len, &be))
		fail_msg("peer %s: output is not a JSON document (%s): %s",
		    cmd, be.message, out.buf);
	es_buf_release(&out);
	es_buf_release(&errout);
	return found;
}

bool
es_itest_peer(const struct es_itest *t, const char *cmd, const char *json,
    bson_t *doc)
{
	return es_itest_peer_clock(t, 0, cmd, json, doc);
}

static void
find_typed(const bson_t *doc, const char *key, bson_type_t type,
    bson_iter_t *it)
{
	bson_iter_t top;

	if (!bson_iter_init(&top, doc) || !bson_iter_find_descendant(&top, key,
	    it))
		fail_msg("field '%s' missing", key);
	if (bson_iter_type(it) != type)
		fail_msg("field '%s': type 0x%02x, want 0x%02x", key,
		    (unsigned)bson_iter_type(it), (unsigned)type);
}

const char *
es_itest_str(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	find_typed(doc, key, BSON_TYPE_UTF8, &it);
	return bson_iter_utf8(&it, NULL);
}

int64_t
es_itest_date(const bson_t *doc, const char *key)
{
	bson_iter_t it;

	find_typed(doc, key, BSON_TYPE_DATE_TIME, &it);
	return bson_iter_date_time(&it);
}

void
es_itest_oid(const bson_t *doc, const char *key, bson_oid_t *out)
{
	bson_iter_t it;

	find_typed(doc, key, BSON_TYPE_OID, &it);
	bson_oid_copy(bson_iter_oid(&it), out);
}

bson_type_t
es_itest_type(const bson_t *doc, const char *key)
{
	bson_iter_t top, it;

	if (!bson_iter_init(&top, doc) || !bson_iter_find_descendant(&top, key,
	    &it))
		return BSON_TYPE_EOD;
	return bson_iter_type(&it);
}

int64_t
es_itest_day_ms(const char *ymd)
{
	es_date_t d;

	if (!es_date_parse(ymd, strlen(ymd), &d))
		fail_msg("bad test date '%s'", ymd);
	return es_date_to_ms(d);
}
