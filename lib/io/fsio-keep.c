/*
 * The versions fsio keeps aside (SPEC 4.2, 4.5): the trash, conflict
 * copies, and the append that .execsync/trash/actions.md grows by. Every
 * kept version gets a name of its own: none is ever replaced.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/scan.h"

#include "beneath.h"
#include "fsio-impl.h"

#define COPY_MAX	9999
#define APPEND_TRIES	3
#define APPEND_MAX	((size_t)64 << 20)

/* "<base>" for n == 0, else "<base>.<n>"; -1 with err when over NAME_MAX. */
static int
numbered(char *out, size_t size, const char *base, unsigned n,
    const char *rel, struct es_error *err)
{
	int w;

	if (n == 0)
		w = snprintf(out, size, "%s", base);
	else
		w = snprintf(out, size, "%s.%u", base, n);
	if (w < 0 || (size_t)w >= size)
		return es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0,
		    "name too long for a kept copy");
	return 0;
}

/*
 * Move from (in fdf) to the first free one of stem, stem.1, ... in fdt,
 * never replacing a kept version (SPEC 4.2, 4.5); name gets it. where
 * names the place in errors.
 */
static int
place_numbered(int fdf, const char *from, int fdt, const char *stem,
    char name[NAME_MAX + 1], const char *rel, const char *where,
    struct es_error *err)
{
	unsigned n;
	int e;

	for (n = 0;; n++) {
		if (n > COPY_MAX)
			return es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0,
			    "more than %d copies in %s", COPY_MAX, where);
		if (numbered(name, NAME_MAX + 1, stem, n, rel, err) == -1)
			return -1;
		if (es__fsio_rename(fdf, from, fdt, name, true) == 0)
			return 0;
		if ((e = errno) != EEXIST)
			return es_error_set_sys(err, e, rel,
			    "cannot move to %s", where);
	}
}

int
es_fsio_trash(int root_fd, const char *rel, struct es_buf *trash_rel,
    struct es_error *err)
{
	struct es_buf dst = ES_BUF_INIT;
	char name[NAME_MAX + 1];
	const char *bf, *bt;
	int fdf = -1, fdt = -1, rc = -1;

	if (!es__fsio_safe(rel))
		return es__fsio_unsafe(err, rel);
	if ((fdf = es__fsio_open_source(root_fd, rel, &bf, err)) == -1)
		goto out;
	es_buf_addf(&dst, "%s/%s", ES_FSIO_TRASH_DIR, rel);
	if ((fdt = es__fsio_open_parent(root_fd, dst.buf, true, &bt,
	    err)) == -1) {
		if (err != NULL)	/* name the file being trashed */
			snprintf(err->path, sizeof(err->path), "%s", rel);
		goto out;
	}
	if (place_numbered(fdf, bf, fdt, bt, name, rel, "the trash",
	    err) == -1)
		goto out;
	if (trash_rel != NULL) {
		es_buf_reset(trash_rel);
		es_buf_add(trash_rel, dst.buf, (size_t)(bt - dst.buf));
		es_buf_addstr(trash_rel, name);
	}
	rc = es__fsio_sync_both(fdf, fdt, rel, err);
out:
	if (fdf != -1)
		close(fdf);
	if (fdt != -1)
		close(fdt);
	es_buf_release(&dst);
	return rc;
}

int
es__fsio_keep(int root_fd, const char *rel, const char *side, int64_t now_ms,
    int fdf, const char *from, const void *buf, size_t len,
    struct es_buf *out_rel, struct es_error *err)
{
	struct es_buf dst = ES_BUF_INIT;
	struct es__fsio_tmp t = { -1, -1, "" };
	char stamp[32], stem[NAME_MAX + 1], name[NAME_MAX + 1];
	const char *base;
	int dfd = -1, w, rc = -1;

	if (!es__fsio_safe(rel))
		return es__fsio_unsafe(err, rel);
	if (es_fsio_conflict_stamp(rel, side, now_ms, stamp, sizeof(stamp),
	    err) < 0)
		return -1;

	es_buf_addf(&dst, "%s/%s", ES_FSIO_CONFLICT_DIR, rel);
	if ((dfd = es__fsio_open_parent(root_fd, dst.buf, true, &base,
	    err)) == -1) {
		if (err != NULL)
			snprintf(err->path, sizeof(err->path), "%s", rel);
		goto out;
	}
	w = snprintf(stem, sizeof(stem), "%s.%s.%s", base, stamp, side);
	if (w < 0 || (size_t)w >= sizeof(stem)) {
		es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0,
		    "name too long for a kept copy");
		goto out;
	}
	if (fdf == -1) {
		if (es__fsio_tmp_open(&t, dfd, stem, ES_FSIO_MODE_NEW, rel,
		    err) == -1 || es__fsio_tmp_fill(&t, buf, len,
		    ES__FSIO_AS_CREATED, rel, err) == -1)
			goto out;
		fdf = dfd;
		from = t.name;
	}
	if (place_numbered(fdf, from, dfd, stem, name, rel,
	    ES_FSIO_CONFLICT_DIR, err) == -1)
		goto out;
	t.name[0] = '\0';
	if (out_rel != NULL) {
		es_buf_reset(out_rel);
		es_buf_add(out_rel, dst.buf, (size_t)(base - dst.buf));
		es_buf_addstr(out_rel, name);
	}
	rc = es__fsio_sync_both(fdf, dfd, rel, err);
out:
	es__fsio_tmp_discard(&t);
	if (dfd != -1)
		close(dfd);
	es_buf_release(&dst);
	return rc;
}

int
es_fsio_conflict_stamp(const char *rel, const char *side, int64_t now_ms,
    char *stamp, size_t size, struct es_error *err)
{
	struct tm tm;
	int64_t secs;
	time_t tt;

	if (side == NULL || (strcmp(side, "file") != 0 &&
	    strcmp(side, "database") != 0))
		return es_error_set(err, ES_EUSAGE, rel, 0,
		    "bad conflict side '%s'", side ? side : "(null)");
	/* Floor, so a time before the epoch names its own second. */
	secs = now_ms / 1000 - (now_ms % 1000 < 0);
	tt = (time_t)secs;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(stamp, size, "%Y%m%dT%H%M%SZ", &tm) == 0)
		return es_error_set(err, ES_EUSAGE, rel, 0,
		    "bad time %lld ms", (long long)now_ms);
	return 0;
}

int
es_fsio_conflict_copy(int root_fd, const char *rel, const char *side,
    int64_t now_ms, const void *buf, size_t len, struct es_buf *out_rel,
    struct es_error *err)
{
	return es__fsio_keep(root_fd, rel, side, now_ms, -1, NULL, buf, len,
	    out_rel, err);
}

/*
 * Read base in dfd whole into out, its stat data into st; absent is 0 with
 * out empty and st zeroed (the "must not exist" expect of es__fsio_write_at()).
 */
static int
read_at(int dfd, const char *base, const char *rel, struct es_buf *out,
    struct es_stat *st, struct es_error *err)
{
	struct stat sb;
	int r;
	int fd, e, rc = -1;

	es_buf_reset(out);
	memset(st, 0, sizeof(*st));
	/* O_NONBLOCK: a FIFO in the file's place must not hang the pass. */
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ENOENT)
			return 0;
		if (e == ELOOP)
			return es_problem_set(err, ES_PROB_SYMLINK, rel, 0,
			    ES__FSIO_SYMLINK_FMT, rel);
		return es_error_set_sys(err, e, rel, "cannot open");
	}
	if (fstat(fd, &sb) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot stat");
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		es_error_set(err, ES_EIO, rel, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)sb.st_size > APPEND_MAX)
		goto toobig;
	es_buf_grow(out, (size_t)sb.st_size + 1);
	if ((r = es_buf_read_fd(out, fd, APPEND_MAX)) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot read");
		goto out;
	}
	if (r == 1)
		goto toobig;
	es__stat_fill(st, &sb);
	rc = 0;
	goto out;
toobig:
	es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0, "file is over the %zu-byte "
	    "limit for appending", APPEND_MAX);
out:
	close(fd);
	if (rc == -1)
		es_buf_reset(out);
	return rc;
}

int
es_fsio_append(int root_fd, const char *rel, const void *buf, size_t len,
    struct es_error *err)
{
	struct es_buf data = ES_BUF_INIT;
	struct es_error le;
	struct es_stat expect;
	const char *base;
	es_fp_t fp;
	int dfd, i, rc = -1;

	if (!es__fsio_safe(rel))
		return es__fsio_unsafe(err, rel);
	if ((dfd = es__fsio_open_parent(root_fd, rel, true, &base, err)) == -1)
		return -1;
	es_error_clear(&le);
	for (i = 0; i < APPEND_TRIES; i++) {
		if (read_at(dfd, base, rel, &data, &expect, &le) == -1)
			break;
		fp = es_fp_bytes(data.buf, data.len);
		es_buf_add(&data, buf, len);
		if (es__fsio_write_at(root_fd, dfd, rel, base, data.buf,
		    data.len, ES_FSIO_MODE_NEW, &expect, &fp, false, NULL,
		    &le) == 0) {
			rc = 0;
			break;
		}
		/* Someone else changed it meanwhile: read it again. */
		if (le.code != ES_ECONFLICT)
			break;
	}
	if (rc == -1 && err != NULL)
		*err = le;
	close(dfd);
	es_buf_release(&data);
	return rc;
}
