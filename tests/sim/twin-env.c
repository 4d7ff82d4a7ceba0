/*
 * The twin's env (issue 17 item 5): struct sim_env_ops over the real
 * world, so a history from the same generator runs through the real seams.
 *
 *	folders	one per machine, <tmp>/m<i>, under a fresh folder of $TMPDIR
 *		(or /tmp) that also holds a sentinel file: violation() is
 *		any change beside the roots (the sentinel's bytes or stat
 *		data, an entry that was not there)
 *	baseline es_baseline_open_root() on each root, as execsyncd does
 *	store	es_store_open() on the fixture's server, one fresh database
 *		per env (dropped by twin_env_free()), its indexes made
 *	passes	es_pass_run() in es_world_real_init()'s world with
 *		es_world_clock_fixed() on the twin's workstation clock; the
 *		pass's writes stamped with that clock too (twin_pass())
 *	user	real file calls for each enum sim_save pattern; after each
 *		write the file's mtime is set to the twin's workstation clock
 *		(utimensat), so "newest wins" sees the simulation's times
 *	API	libmongoc directly: whole documents as given (insert,
 *		replace by _id) into the same collections
 *	changes	a full compare against a snapshot of (kind, _id,
 *		updated_at) per machine: every writer's writes since the last
 *		call, whatever the clocks did (a since-query on updated_at
 *		would miss a write whose clock lags), one event per document
 *		with its copy as read now (the caller frees them as the
 *		simulation's: bson_destroy() each doc, free() the array);
 *		deleted only for a document gone
 *	events	the paths the twin's user side wrote, renamed or removed
 *
 * Clocks are the twin's numbers (start_ms, advanced by advance()), never
 * the system clock; only ctime is the kernel's. No faults (ops.faults
 * NULL). The database side is optional (uri NULL) for tests of the user
 * side on a real folder.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/engine.h"
#include "execsync/store.h"
#include "execsync/world.h"
#include "execsync/xmalloc.h"

#include "es-itest.h"
#include "sim-drive.h"

struct snap {
	int		 kind;
	bson_oid_t	 id;
	int64_t		 updated_at;
	bson_t		*doc;	/* while changes() compares, else NULL */
};

struct tmachine {
	char			*root;
	int			 fd;
	struct es_baseline	*b;
	struct es_store		*store;
	char			**ev;
	size_t			 nev, aev;
	struct snap		*snap;
	size_t			 nsnap;
};

struct twin {
	char			*dir;
	char			*uri, *dbname;
	mongoc_client_t		*client;
	int			 nmachines;
	struct tmachine		 m[SIM_MACHINES_MAX];
	struct stat		 sentinel;
	int64_t			 fs_ms, db_ms;
	char			 why[PATH_MAX + 64];
};

#define SENTINEL	"sentinel"
#define SENTINEL_TEXT	"nothing outside the roots may change\n"

static const struct sim_env_ops twin_ops;

/* ---- the user's side ---- */

static int
mkparents(int dirfd, const char *rel, struct es_error *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(rel);

	if (n >= sizeof(buf))
		return es_error_set(err, ES_ELIMIT, rel, 0, "path too long");
	memcpy(buf, rel, n + 1);
	for (char *c = strchr(buf, '/'); c != NULL; c = strchr(c + 1, '/')) {
		*c = '\0';
		if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
			return es_error_set_sys(err, errno, buf, "mkdir");
		*c = '/';
	}
	return 0;
}

static int
put_bytes(int dirfd, const char *rel, const void *buf, size_t len, int flags,
    struct es_error *err)
{
	int fd, e;

	fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    flags, 0644);
	if (fd < 0)
		return es_error_set_sys(err, errno, rel, "open");
	if (es_write_all(fd, buf, len) < 0) {
		e = errno;
		close(fd);
		return es_error_set_sys(err, e, rel, "write");
	}
	if (close(fd) < 0)
		return es_error_set_sys(err, errno, rel, "close");
	return 0;
}

static void
event(struct tmachine *m, const char *rel)
{
	if (m->nev == m->aev) {
		m->aev = m->aev ? 2 * m->aev : 16;
		m->ev = es_xreallocarray(m->ev, m->aev, sizeof(*m->ev));
	}
	m->ev[m->nev++] = es_xstrdup(rel);
}

/* A sibling of rel: its folder, then prefix, its base name, suffix. */
static void
sibling(const char *rel, const char *prefix, const char *suffix, char *out,
    size_t size)
{
	const char *slash = strrchr(rel, '/');
	int dl = slash ? (int)(slash - rel + 1) : 0;

	snprintf(out, size, "%.*s%s%s%s", dl, rel, prefix, rel + dl, suffix);
}

static int
twin_write(void *ctx, int mi, const char *rel, const void *buf, size_t len,
    enum sim_save how, struct es_error *err)
{
	struct twin *tw = ctx;
	struct tmachine *m = &tw->m[mi];
	struct timespec ts[2];
	char tmp[PATH_MAX];
	int rc;

	if (mkparents(m->fd, rel, err) < 0)
		return -1;
	switch (how) {
	case SIM_SAVE_RENAME_OVER:
		sibling(rel, ".", ".swp", tmp, sizeof(tmp));
		if (put_bytes(m->fd, tmp, buf, len, O_TRUNC, err) < 0)
			return -1;
		event(m, tmp);
		if (renameat(m->fd, tmp, m->fd, rel) < 0)
			return es_error_set_sys(err, errno, rel, "rename");
		break;
	case SIM_SAVE_VIM_BACKUP:
		sibling(rel, "", "~", tmp, sizeof(tmp));
		rc = renameat(m->fd, rel, m->fd, tmp);
		if (rc < 0 && errno != ENOENT)
			return es_error_set_sys(err, errno, rel, "rename");
		if (rc == 0)
			event(m, tmp);
		if (put_bytes(m->fd, rel, buf, len, O_EXCL, err) < 0)
			return -1;
		if (rc == 0 && unlinkat(m->fd, tmp, 0) < 0)
			return es_error_set_sys(err, errno, tmp, "unlink");
		break;
	case SIM_SAVE_DELETE_CREATE:
		if (unlinkat(m->fd, rel, 0) < 0 && errno != ENOENT)
			return es_error_set_sys(err, errno, rel, "unlink");
		if (put_bytes(m->fd, rel, buf, len, O_EXCL, err) < 0)
			return -1;
		break;
	case SIM_SAVE_IN_PLACE:
	default:
		if (put_bytes(m->fd, rel, buf, len, O_TRUNC, err) < 0)
			return -1;
		break;
	}
	ts[0].tv_sec = ts[1].tv_sec = tw->fs_ms / 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(tw->fs_ms % 1000) * 1000000;
	if (utimensat(m->fd, rel, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return es_error_set_sys(err, errno, rel, "utimensat");
	event(m, rel);
	return 0;
}

static int
twin_read(void *ctx, int mi, const char *rel, struct es_buf *out,
    struct es_error *err)
{
	struct twin *tw = ctx;
	int fd, rc, e;

	fd = openat(tw->m[mi].fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return es_error_set_sys(err, errno, rel, "open");
	}
	rc = es_buf_read_fd(out, fd, (size_t)64 << 20);
	e = errno;
	close(fd);
	if (rc != 0)
		return es_error_set_sys(err, rc < 0 ? e : EFBIG, rel, "read");
	return 1;
}

static int
twin_remove(void *ctx, int mi, const char *rel, struct es_error *err)
{
	struct twin *tw = ctx;

	if (unlinkat(tw->m[mi].fd, rel, 0) < 0)
		return es_error_set_sys(err, errno, rel, "unlink");
	event(&tw->m[mi], rel);
	return 0;
}

static int
twin_rename(void *ctx, int mi, const char *from, const char *to,
    struct es_error *err)
{
	struct twin *tw = ctx;
	struct tmachine *m = &tw->m[mi];

	if (strcmp(from, to) == 0)
		return 0;
	if (mkparents(m->fd, to, err) < 0)
		return -1;
	if (renameat(m->fd, from, m->fd, to) < 0)
		return es_error_set_sys(err, errno, from, "rename to '%s'", to);
	event(m, from);
	event(m, to);
	return 0;
}

struct flist {
	char	**rel;
	size_t	 n, alloc;
};

static int
walk(int dirfd, const char *prefix, struct flist *l, struct es_error *err)
{
	DIR *d;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, prefix[0] ? prefix : ".", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return es_error_set_sys(err, e, prefix, "opendir");
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *rel;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		rel = prefix[0] ? es_xasprintf("%s/%s", prefix, de->d_name) :
		    es_xstrdup(de->d_name);
		if (fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(rel);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int rc = walk(dirfd, rel, l, err);

			free(rel);
			if (rc < 0) {
				closedir(d);
				return -1;
			}
			continue;
		}
		/* The real baseline is SQLite's; the simulation's is none. */
		if (!S_ISREG(st.st_mode) ||
		    strncmp(rel, ES_BASELINE_FILE,
		    strlen(ES_BASELINE_FILE)) == 0 ||
		    strcmp(rel, ".execsync/lock") == 0) {
			free(rel);
			continue;
		}
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? 2 * l->alloc : 32;
			l->rel = es_xreallocarray(l->rel, l->alloc,
			    sizeof(*l->rel));
		}
		l->rel[l->n++] = rel;
	}
	closedir(d);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
twin_each_file(void *ctx, int mi, sim_file_cb cb, void *ud,
    struct es_error *err)
{
	struct twin *tw = ctx;
	struct flist l = { NULL, 0, 0 };
	struct es_buf b = ES_BUF_INIT;
	int rc = walk(tw->m[mi].fd, "", &l, err);

	if (rc == 0 && l.n > 0)
		qsort(l.rel, l.n, sizeof(*l.rel), cmp_str);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		es_buf_reset(&b);
		rc = twin_read(ctx, mi, l.rel[i], &b, err);
		if (rc < 0)
			break;
		rc = rc == 1 ? cb(l.rel[i], b.buf, b.len, ud) : 0;
		if (rc != 0)
			rc = 0, i = l.n;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.rel[i]);
	free(l.rel);
	es_buf_release(&b);
	return rc < 0 ? -1 : 0;
}

static int
twin_file_events(void *ctx, int mi, char ***paths, size_t *n,
    struct es_error *err)
{
	struct twin *tw = ctx;
	struct tmachine *m = &tw->m[mi];
	size_t k = 0;

	(void)err;
	if (m->nev > 0)
		qsort(m->ev, m->nev, sizeof(*m->ev), cmp_str);
	for (size_t i = 0; i < m->nev; i++) {
		if (k > 0 && strcmp(m->ev[k - 1], m->ev[i]) == 0)
			free(m->ev[i]);
		else
			m->ev[k++] = m->ev[i];
	}
	*paths = m->ev;
	*n = k;
	m->ev = NULL;
	m->nev = m->aev = 0;
	return 0;
}

/* ---- the API's side ---- */

static mongoc_collection_t *
coll(struct twin *tw, const char *name)
{
	return mongoc_client_get_collection(tw->client, tw->dbname, name);
}

static int
db_error(struct twin *tw, const char *what, const char *name,
    const bson_error_t *be, struct es_error *err)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tw->dbname, name);
	return es_error_set(err, be->code == 11000 ? ES_ECONFLICT : ES_EDB,
	    path, 0, "%s: %s", what, be->message);
}

static int
twin_api_insert(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	struct twin *tw = ctx;
	const char *name = es_kind_collection(kind);
	mongoc_collection_t *c = coll(tw, name);
	bson_error_t be;
	bool ok;

	ok = mongoc_collection_insert_one(c, doc, NULL, NULL, &be);
	mongoc_collection_destroy(c);
	return ok ? 0 : db_error(tw, "insert", name, &be, err);
}

static int
twin_api_replace(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	struct twin *tw = ctx;
	const char *name = es_kind_collection(kind);
	mongoc_collection_t *c;
	bson_iter_t it;
	bson_error_t be;
	bson_t sel;
	bool ok;

	if (!bson_iter_init_find(&it, doc, "_id"))
		return es_error_set(err, ES_EUSAGE, name, 0, "replace: no _id");
	bson_init(&sel);
	bson_append_value(&sel, "_id", 3, bson_iter_value(&it));
	c = coll(tw, name);
	ok = mongoc_collection_replace_one(c, &sel, doc, NULL, NULL, &be);
	mongoc_collection_destroy(c);
	bson_destroy(&sel);
	return ok ? 0 : db_error(tw, "replace", name, &be, err);
}

/* Every document of filter in name, sorted by sort (may be NULL). */
static int
each_doc(struct twin *tw, const char *name, const bson_t *filter,
    const bson_t *opts, sim_doc_cb cb, void *ud, struct es_error *err)
{
	mongoc_collection_t *c = coll(tw, name);
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t be;
	int rc = 0;

	cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
	while (rc == 0 && mongoc_cursor_next(cur, &doc))
		rc = cb(doc, ud);
	if (rc == 0 && mongoc_cursor_error(cur, &be))
		rc = db_error(tw, "find", name, &be, err);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(c);
	return rc < 0 ? -1 : 0;
}

struct got {
	bool	 found;
	bson_t	*out;
};

static int
get_one(const bson_t *doc, void *ud)
{
	struct got *g = ud;

	bson_copy_to(doc, g->out);
	g->found = true;
	return 1;
}

static int
twin_api_get(void *ctx, enum es_kind kind, const bson_oid_t *id, bson_t *out,
    struct es_error *err)
{
	struct twin *tw = ctx;
	struct got g = { false, out };
	bson_t filter;
	int rc;

	bson_init(&filter);
	BSON_APPEND_OID(&filter, "_id", id);
	rc = each_doc(tw, es_kind_collection(kind), &filter, NULL, get_one,
	    &g, err);
	bson_destroy(&filter);
	if (rc < 0) {
		if (g.found)
			bson_destroy(out);
		return -1;
	}
	return g.found ? 1 : 0;
}

static int
twin_api_each(void *ctx, enum es_kind kind, sim_doc_cb cb, void *ud,
    struct es_error *err)
{
	struct twin *tw = ctx;
	bson_t filter, opts, sort;
	int rc;

	bson_init(&filter);
	BSON_APPEND_UTF8(&filter, "user_id", SIM_USER);
	bson_init(&opts);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "_id", 1);
	bson_append_document_end(&opts, &sort);
	rc = each_doc(tw, es_kind_collection(kind), &filter, &opts, cb, ud,
	    err);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

static int
twin_conflicts_each(void *ctx, sim_doc_cb cb, void *ud, struct es_error *err)
{
	struct twin *tw = ctx;
	bson_t filter;
	int rc;

	bson_init(&filter);
	rc = each_doc(tw, ES_STORE_CONFLICTS, &filter, NULL, cb, ud, err);
	bson_destroy(&filter);
	return rc;
}

/* ---- clocks, passes, changes ---- */

static int64_t
twin_db_now(void *ctx)
{
	return ((struct twin *)ctx)->db_ms;
}

static int64_t
twin_fs_now(void *ctx)
{
	return ((struct twin *)ctx)->fs_ms;
}

static void
twin_advance(void *ctx, int64_t ms)
{
	struct twin *tw = ctx;

	tw->fs_ms += ms;
	tw->db_ms += ms;
}

/*
 * The pass's own writes get the twin's clock as mtime too, as the
 * simulated folder's do (a kernel would stamp the system's time, and a
 * file the engine wrote then the user moved would look newer than every
 * database write of the simulated clock). The real write and append are
 * wrapped: stamp, then the stat data the engine records are the stamped
 * file's. One pass at a time: the wrapped world is this file's.
 */
static struct {
	struct es_world_fs	 real;
	int			 fd;
	int64_t			 now;
} stamp_pass;

static int
stamp(const char *rel, struct es_error *err)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = stamp_pass.now / 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(stamp_pass.now % 1000) *
	    1000000;
	if (utimensat(stamp_pass.fd, rel, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return es_error_set_sys(err, errno, rel, "utimensat");
	return 0;
}

static int
stamped_write(void *ctx, const char *rel, const void *buf, size_t len,
    mode_t mode_if_new, const struct es_stat *expect, const es_fp_t *fp,
    struct es_stat *st_out, struct es_error *err)
{
	if (stamp_pass.real.write(ctx, rel, buf, len, mode_if_new, expect, fp,
	    st_out, err) < 0 || stamp(rel, err) < 0)
		return -1;
	if (st_out != NULL && stamp_pass.real.stat(ctx, rel, st_out, err) != 1)
		return es_error_set(err, ES_EIO, rel, 0, "gone after write");
	return 0;
}

static int
stamped_append(void *ctx, const char *rel, const void *buf, size_t len,
    struct es_error *err)
{
	if (stamp_pass.real.append(ctx, rel, buf, len, err) < 0)
		return -1;
	return stamp(rel, err);
}

static int
twin_pass(void *ctx, int mi, const struct es_engine_opts *o,
    const struct es_trigger *t, struct es_engine_result *r,
    struct es_error *err)
{
	struct twin *tw = ctx;
	struct tmachine *m = &tw->m[mi];
	struct es_engine_opts oo = *o;
	struct es_world w;
	int64_t now = tw->fs_ms;

	oo.root = m->root;
	oo.root_fd = m->fd;
	oo.user_id = SIM_USER;
	es_world_real_init(&w, m->fd, m->b, m->store);
	es_world_clock_fixed(&w, &now);
	stamp_pass.real = w.fs;
	stamp_pass.fd = m->fd;
	stamp_pass.now = now;
	w.fs.write = stamped_write;
	w.fs.append = stamped_append;
	return es_pass_run(&oo, &w, t, r, err);
}

struct snapfill {
	struct snap	*s;
	size_t		 n, alloc;
	int		 kind;
};

static int
snap_add(const bson_t *doc, void *ud)
{
	struct snapfill *f = ud;
	bson_iter_t it;
	struct snap s;

	memset(&s, 0, sizeof(s));
	s.kind = f->kind;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), &s.id);
	if (bson_iter_init_find(&it, doc, "updated_at") &&
	    BSON_ITER_HOLDS_DATE_TIME(&it))
		s.updated_at = bson_iter_date_time(&it);
	s.doc = bson_copy(doc);
	if (f->n == f->alloc) {
		f->alloc = f->alloc ? 2 * f->alloc : 32;
		f->s = es_xreallocarray(f->s, f->alloc, sizeof(*f->s));
	}
	f->s[f->n++] = s;
	return 0;
}

/* (kind, _id) order, as both lists are read. */
static int
snap_cmp(const struct snap *a, const struct snap *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return bson_oid_compare(&a->id, &b->id);
}

static int
snap_qcmp(const void *a, const void *b)
{
	return snap_cmp(a, b);
}

static int
twin_changes(void *ctx, int mi, struct es_change **out, size_t *n,
    struct es_error *err)
{
	static const enum es_kind kinds[] = { ES_KIND_PROJECT, ES_KIND_GOAL,
	    ES_KIND_ACTION };
	struct twin *tw = ctx;
	struct tmachine *m = &tw->m[mi];
	struct snapfill f = { NULL, 0, 0, 0 };
	struct es_change *c = NULL;
	size_t nc = 0, i = 0, j = 0;

	for (size_t k = 0; k < 3; k++) {
		f.kind = (int)kinds[k];
		if (twin_api_each(ctx, kinds[k], snap_add, &f, err) < 0) {
			for (j = 0; j < f.n; j++)
				bson_destroy(f.s[j].doc);
			free(f.s);
			return -1;
		}
	}
	if (f.n > 1)
		qsort(f.s, f.n, sizeof(*f.s), snap_qcmp);
	c = es_xcalloc(f.n + m->nsnap + 1, sizeof(*c));
	while (i < m->nsnap || j < f.n) {
		int d = i == m->nsnap ? 1 : j == f.n ? -1 :
		    snap_cmp(&m->snap[i], &f.s[j]);

		if (d < 0) {		/* gone */
			c[nc].kind = (enum es_kind)m->snap[i].kind;
			c[nc].id = m->snap[i].id;
			c[nc++].deleted = true;
			i++;
		} else if (d > 0 ||	/* new, or written since */
		    m->snap[i].updated_at != f.s[j].updated_at) {
			c[nc].kind = (enum es_kind)f.s[j].kind;
			c[nc].id = f.s[j].id;
			c[nc++].doc = f.s[j].doc;
			f.s[j].doc = NULL;
			if (d == 0)
				i++;
			j++;
		} else {
			i++;
			j++;
		}
	}
	for (j = 0; j < f.n; j++) {
		if (f.s[j].doc != NULL)
			bson_destroy(f.s[j].doc);
		f.s[j].doc = NULL;
	}
	free(m->snap);
	m->snap = f.s;
	m->nsnap = f.n;
	*out = c;
	*n = nc;
	return 0;
}

static const char *
twin_violation(void *ctx)
{
	struct twin *tw = ctx;
	struct stat st;
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tw->dir, SENTINEL);
	if (stat(path, &st) < 0 || st.st_ino != tw->sentinel.st_ino ||
	    st.st_size != tw->sentinel.st_size ||
	    st.st_mtim.tv_sec != tw->sentinel.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != tw->sentinel.st_mtim.tv_nsec) {
		snprintf(tw->why, sizeof(tw->why), "%s changed", path);
		return tw->why;
	}
	if ((d = opendir(tw->dir)) == NULL) {
		snprintf(tw->why, sizeof(tw->why), "%s: gone", tw->dir);
		return tw->why;
	}
	while ((de = readdir(d)) != NULL) {
		const char *s = de->d_name;

		if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
		    strcmp(s, SENTINEL) == 0 || (s[0] == 'm' &&
		    s[1] >= '0' && s[1] < '0' + tw->nmachines && !s[2]))
			continue;
		snprintf(tw->why, sizeof(tw->why), "%s/%s appeared beside the "
		    "roots", tw->dir, s);
		closedir(d);
		return tw->why;
	}
	closedir(d);
	return NULL;
}

static const struct sim_env_ops twin_ops = {
	.nmachines = 0,		/* per env: see twin_env_new() */
	.write_file = twin_write,
	.read_file = twin_read,
	.remove_file = twin_remove,
	.rename_file = twin_rename,
	.each_file = twin_each_file,
	.api_insert = twin_api_insert,
	.api_replace = twin_api_replace,
	.api_get = twin_api_get,
	.api_each = twin_api_each,
	.conflicts_each = twin_conflicts_each,
	.db_now_ms = twin_db_now,
	.fs_now_ms = twin_fs_now,
	.advance = twin_advance,
	.pass = twin_pass,
	.changes = twin_changes,
	.file_events = twin_file_events,
	.violation = twin_violation,
	.faults = NULL,
};

/* The ops with nmachines set: one copy per env (ops is const). */
struct twin_box {
	struct sim_env_ops	 ops;
	struct twin		 tw;
};

const char *
twin_env_root(struct sim_env *e, int m)
{
	struct twin *tw = e->ctx;

	return tw->m[m].root;
}

void
twin_env_free(struct sim_env *e)
{
	struct twin *tw;
	struct twin_box *box;

	if (e == NULL || e->ctx == NULL)
		return;
	tw = e->ctx;
	box = (struct twin_box *)((char *)tw - offsetof(struct twin_box, tw));
	for (int i = 0; i < tw->nmachines; i++) {
		struct tmachine *m = &tw->m[i];

		es_baseline_free(m->b);
		es_store_free(m->store);
		if (m->fd >= 0)
			close(m->fd);
		for (size_t k = 0; k < m->nev; k++)
			free(m->ev[k]);
		free(m->ev);
		free(m->snap);
		free(m->root);
	}
	if (tw->client != NULL) {
		mongoc_database_t *d = mongoc_client_get_database(tw->client,
		    tw->dbname);

		mongoc_database_drop_with_opts(d, NULL, NULL);
		mongoc_database_destroy(d);
		mongoc_client_destroy(tw->client);
	}
	if (tw->dir != NULL)
		es_itest_rm_rf(tw->dir);
	free(tw->dir);
	free(tw->uri);
	free(tw->dbname);
	free(box);
	e->ctx = NULL;
	e->ops = NULL;
}

int
twin_env_new(const struct twin_opts *o, struct sim_env *out,
    struct es_error *err)
{
	struct twin_box *box = es_xcalloc(1, sizeof(*box));
	struct twin *tw = &box->tw;
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];

	box->ops = twin_ops;
	box->ops.nmachines = o->nmachines;
	out->ops = &box->ops;
	out->ctx = tw;
	tw->nmachines = o->nmachines;
	tw->fs_ms = tw->db_ms = o->start_ms;
	for (int i = 0; i < SIM_MACHINES_MAX; i++)
		tw->m[i].fd = -1;
	tw->dir = es_xasprintf("%s/es-twin.XXXXXX", tmp && tmp[0] ? tmp :
	    "/tmp");
	if (mkdtemp(tw->dir) == NULL) {
		es_error_set_sys(err, errno, tw->dir, "mkdtemp");
		free(tw->dir);
		tw->dir = NULL;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", tw->dir, SENTINEL);
	if (put_bytes(AT_FDCWD, path, SENTINEL_TEXT, strlen(SENTINEL_TEXT),
	    O_EXCL, err) < 0 || stat(path, &tw->sentinel) < 0)
		goto fail;
	if (o->uri != NULL) {
		bson_error_t be;
		mongoc_uri_t *u = mongoc_uri_new_with_error(o->uri, &be);

		tw->uri = es_xstrdup(o->uri);
		tw->dbname = es_xstrdup(o->dbname);
		if (u == NULL) {
			es_error_set(err, ES_ECONFIG, NULL, 0, "bad uri: %s",
			    be.message);
			goto fail;
		}
		tw->client = mongoc_client_new_from_uri(u);
		mongoc_uri_destroy(u);
		if (tw->client == NULL) {
			es_error_set(err, ES_ECONFIG, NULL, 0, "no client");
			goto fail;
		}
		mongoc_client_set_error_api(tw->client,
		    MONGOC_ERROR_API_VERSION_2);
	}
	for (int i = 0; i < o->nmachines; i++) {
		struct tmachine *m = &tw->m[i];

		m->root = es_xasprintf("%s/m%d", tw->dir, i);
		if (mkdir(m->root, 0755) < 0) {
			es_error_set_sys(err, errno, m->root, "mkdir");
			goto fail;
		}
		m->fd = open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (m->fd < 0) {
			es_error_set_sys(err, errno, m->root, "open");
			goto fail;
		}
		if (o->uri == NULL)
			continue;
		if ((m->b = es_baseline_open_root(m->root, err)) == NULL ||
		    (m->store = es_store_open(o->uri, o->dbname, 10000,
		    err)) == NULL)
			goto fail;
		if (i == 0 && es_store_ensure_indexes(m->store, err) < 0)
			goto fail;
	}
	return 0;
fail:
	twin_env_free(out);
	return -1;
}
