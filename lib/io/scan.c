/*
 * The scanner: walks the three synced trees with descriptor-relative calls
 * and reads single files beneath the root, never following a symbolic link
 * (SPEC 4.11).
 *
 * Speed: a pass over a ~2,300-file tree is benchmarked against bare lstat(),
 * so each folder is opened once relative to its parent (no resolution from
 * the root per file), readdir()'s d_type decides what a name is, and only
 * synced regular files get an fstatat() (for their stat data).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/error.h"
#include "execsync/layout.h"
#include "execsync/scan.h"
#include "execsync/xmalloc.h"

#include "beneath.h"

#define SYMLINK_REASON	"symbolic link, not followed"

bool es__scan_no_openat2;

struct walk {
	const char *const	*ignore;
	struct es_buf		 rel;
	struct es_scan_entry	*entries;
	size_t			 n, cap;
	struct es_scan_skip	*skipped;
	size_t			 nskipped, scap;
};

static void
add_skip(struct walk *w, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_skip(struct walk *w, const char *rel, const char *fmt, ...)
{
	struct es_scan_skip *s;
	va_list ap;

	if (w->nskipped == w->scap) {
		w->scap = w->scap ? w->scap * 2 : 8;
		w->skipped = es_xreallocarray(w->skipped, w->scap,
		    sizeof(*w->skipped));
	}
	s = &w->skipped[w->nskipped++];
	s->rel = es_xstrdup(rel);
	va_start(ap, fmt);
	s->reason = es_xvasprintf(fmt, ap);
	va_end(ap);
}

static void
add_entry(struct walk *w, const struct es_path_info *info,
    const struct stat *sb)
{
	struct es_scan_entry *e;

	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->entries = es_xreallocarray(w->entries, w->cap,
		    sizeof(*w->entries));
	}
	e = &w->entries[w->n++];
	e->rel = es_xmemdup(w->rel.buf, w->rel.len);
	e->info = *info;
	es__stat_fill(&e->st, sb);
}

/* Not hidden, yet not storable: bytes that are not UTF-8, or controls. */
static bool
name_is_unstorable(const char *name, size_t n)
{
	size_t i;

	if (name[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] == 0x7f)
			return true;
	return !es_content_utf8_valid(name, n, NULL);
}

static bool
ends_with_md(const char *name, size_t n)
{
	return n > 3 && memcmp(name + n - 3, ".md", 3) == 0;
}

static int walk_dir(struct walk *w, int dfd, int depth, struct es_error *err);

/*
 * One name in a folder; w->rel holds its path. dfd is the folder's
 * descriptor (owned by the caller's DIR).
 */
static void
walk_name(struct walk *w, int dfd, const char *name, unsigned char type,
    int depth)
{
	const char *rel = w->rel.buf;
	struct es_path_info info;
	struct stat sb;
	int fd, e;

	if (w->rel.len >= PATH_MAX) {
		if (name[0] != '.')
			add_skip(w, rel, "path too long");
		return;
	}
	if (type == DT_UNKNOWN) {
		/* d_type unknown and the first fstatat() failed: say why. */
		if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
			e = errno;
			if (e != ENOENT && name[0] != '.')
				add_skip(w, rel, "cannot stat: %s",
				    strerror(e));
			return;
		}
		type = IFTODT(sb.st_mode);
	}

	switch (type) {
	case DT_DIR:
		if (!es_layout_descend(rel, w->ignore)) {
			if (depth > 0 && name_is_unstorable(name, strlen(name)))
				add_skip(w, rel, "folder name is not valid "
				    "UTF-8 or holds control characters");
			return;
		}
		fd = openat(dfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			e = es__nofollow_errno(dfd, name, errno);
			if (e == ENOENT)	/* gone since readdir() */
				return;
			if (e == ELOOP)		/* turned into a symlink */
				add_skip(w, rel, SYMLINK_REASON);
			else
				add_skip(w, rel, "cannot read folder: %s",
				    strerror(e));
			return;
		}
		(void)walk_dir(w, fd, depth + 1, NULL);
		return;
	case DT_LNK:
		/*
		 * Reported where it matters only: a link where a synced file
		 * or folder could be, not every link in the root.
		 */
		if (es_layout_classify(rel, w->ignore, NULL) == 1 ||
		    es_layout_descend(rel, w->ignore))
			add_skip(w, rel, SYMLINK_REASON);
		return;
	case DT_REG:
		if (es_layout_classify(rel, w->ignore, &info) != 1) {
			size_t n = strlen(name);

			if (depth > 0 && ends_with_md(name, n) &&
			    name_is_unstorable(name, n))
				add_skip(w, rel, "file name is not valid "
				    "UTF-8 or holds control characters");
			return;
		}
		if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
			e = errno;
			if (e != ENOENT)
				add_skip(w, rel, "cannot stat: %s",
				    strerror(e));
			return;
		}
		if (S_ISLNK(sb.st_mode))
			add_skip(w, rel, SYMLINK_REASON);
		else if (!S_ISREG(sb.st_mode))
			add_skip(w, rel, "not a regular file");
		else
			add_entry(w, &info, &sb);
		return;
	default:
		if (es_layout_classify(rel, w->ignore, NULL) == 1)
			add_skip(w, rel, "not a regular file");
		return;
	}
}

/* A name read from a folder, waiting to be taken in sorted order. */
struct dent {
	const char	*name;		/* set once all names are read */
	size_t		 off, len;	/* in the names buffer */
	unsigned char	 type;
};

/*
 * Orders names so that a depth-first walk emits whole paths in strcmp()
 * order: a folder compares as its name followed by '/' (so "a-b/x" comes
 * before "a/x", as strcmp() has it, since '-' < '/'). With that, the
 * entries come out sorted and need no global sort of the large entry
 * structs afterwards.
 */
static int
cmp_dent(const void *va, const void *vb)
{
	const struct dent *a = va, *b = vb;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->name, b->name, n);
	unsigned char ca, cb;

	if (c != 0)
		return c;
	ca = a->len > n ? (unsigned char)a->name[n] :
	    a->type == DT_DIR ? '/' : 0;
	cb = b->len > n ? (unsigned char)b->name[n] :
	    b->type == DT_DIR ? '/' : 0;
	return (int)ca - (int)cb;
}

/*
 * Reads the folder open on dfd (taking ownership of dfd) whose path is
 * w->rel, then takes its names in order. Failures are skips, except for
 * the root (depth 0), where they are the error of the whole scan.
 */
static int
walk_dir(struct walk *w, int dfd, int depth, struct es_error *err)
{
	size_t base = w->rel.len, n = 0, cap = 0, i;
	struct es_buf names = ES_BUF_INIT;
	struct dent *dv = NULL;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int e, rc = -1;

	if ((d = fdopendir(dfd)) == NULL) {
		e = errno;
		close(dfd);
		if (depth == 0)
			return es_error_set_sys(err, e, NULL,
			    "cannot read the root");
		add_skip(w, w->rel.buf, "cannot read folder: %s", strerror(e));
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if ((e = errno) != 0) {
				if (depth == 0) {
					es_error_set_sys(err, e, NULL,
					    "cannot read the root");
					goto out;
				}
				add_skip(w, w->rel.buf,
				    "cannot read folder: %s", strerror(e));
			}
			break;
		}
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			dv = es_xreallocarray(dv, cap, sizeof(*dv));
		}
		dv[n].len = strlen(de->d_name);
		/* An offset for now: names.buf moves as it grows. */
		dv[n].off = names.len;
		dv[n].name = NULL;
		dv[n].type = de->d_type;
		/*
		 * Some file systems leave d_type empty: ask, without
		 * following. A failure leaves DT_UNKNOWN for walk_name() to
		 * report.
		 */
		if (dv[n].type == DT_UNKNOWN &&
		    fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0)
			dv[n].type = IFTODT(sb.st_mode);
		es_buf_add(&names, de->d_name, dv[n].len + 1);
		n++;
	}
	for (i = 0; i < n; i++)
		dv[i].name = names.buf + dv[i].off;
	if (n > 1)
		qsort(dv, n, sizeof(*dv), cmp_dent);
	for (i = 0; i < n; i++) {
		es_buf_setlen(&w->rel, base);
		if (base > 0)
			es_buf_addch(&w->rel, '/');
		es_buf_add(&w->rel, dv[i].name, dv[i].len);
		walk_name(w, dirfd(d), dv[i].name, dv[i].type, depth);
	}
	rc = 0;
out:
	es_buf_setlen(&w->rel, base);
	closedir(d);
	es_buf_release(&names);
	free(dv);
	return rc;
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct es_scan_entry *)a)->rel,
	    ((const struct es_scan_entry *)b)->rel);
}

static bool
entries_sorted(const struct es_scan_entry *v, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1].rel, v[i].rel) > 0)
			return false;
	return true;
}

static int
cmp_skip(const void *a, const void *b)
{
	return strcmp(((const struct es_scan_skip *)a)->rel,
	    ((const struct es_scan_skip *)b)->rel);
}

int
es_scan(int root_fd, const struct es_scan_opts *opts,
    struct es_scan_result *out, struct es_error *err)
{
	struct walk w;
	int fd, e, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.ignore = opts ? opts->ignore : NULL;
	es_buf_init(&w.rel, 256);

	/* Our own descriptor: fdopendir() takes it and moves its offset. */
	fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		es_error_set_sys(err, e, NULL, "cannot read the root");
		goto out;
	}
	if (walk_dir(&w, fd, 0, err) == -1)
		goto out;
	/*
	 * The walk emits entries in order (cmp_dent()); check it, cheaply,
	 * rather than trust it, since callers merge on this order.
	 */
	if (!entries_sorted(w.entries, w.n))
		qsort(w.entries, w.n, sizeof(*w.entries), cmp_entry);
	if (w.nskipped > 1)
		qsort(w.skipped, w.nskipped, sizeof(*w.skipped), cmp_skip);
	out->entries = w.entries;
	out->n = w.n;
	out->skipped = w.skipped;
	out->nskipped = w.nskipped;
	w.entries = NULL;
	w.skipped = NULL;
	w.n = w.nskipped = 0;
	rc = 0;
out:
	{
		struct es_scan_result tmp = { w.entries, w.n, w.skipped,
		    w.nskipped };

		es_scan_result_release(&tmp);
	}
	es_buf_release(&w.rel);
	return rc;
}

void
es_scan_result_release(struct es_scan_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->entries[i].rel);
	for (i = 0; i < r->nskipped; i++) {
		free(r->skipped[i].rel);
		free(r->skipped[i].reason);
	}
	free(r->entries);
	free(r->skipped);
	memset(r, 0, sizeof(*r));
}

/* The error for a failed open of rel, errno e. */
static int
open_error(struct es_error *err, const char *rel, int e)
{
	int rc;

	if (e == ELOOP) {
		rc = es_problem_set(err, ES_PROB_SYMLINK, rel, 0, SYMLINK_REASON);
		if (err)
			err->sys = e;
		return rc;
	}
	if (e == EXDEV)
		return es_problem_set(err, ES_PROB_UNSAFE_PATH, rel, 0,
		    "path leaves the root");
	return es_error_set_sys(err, e, rel, "cannot open");
}

/*
 * Without openat2(): one component at a time, each folder opened with
 * O_NOFOLLOW relative to the previous one, so no symlink is followed on the
 * way. Returns the descriptor or -1 with errno set.
 */
static int
open_walk(int root_fd, const char *rel, int flags)
{
	char buf[PATH_MAX];
	char *p, *s;
	int dfd = root_fd, fd, e;
	size_t n = strlen(rel);

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, rel, n + 1);
	/* O_PATH|O_NOFOLLOW would open a symlink itself: read instead. */
	if (flags & O_PATH)
		flags = (flags & ~O_PATH) | O_RDONLY;
	for (p = buf; (s = strchr(p, '/')) != NULL; p = s + 1) {
		*s = '\0';
		fd = openat(dfd, p,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = fd == -1 ? es__nofollow_errno(dfd, p, errno) : 0;
		if (dfd != root_fd)
			close(dfd);
		if (fd == -1) {
			errno = e;
			return -1;
		}
		dfd = fd;
	}
	fd = openat(dfd, p, flags | O_NOFOLLOW | O_CLOEXEC);
	e = fd == -1 ? es__nofollow_errno(dfd, p, errno) : 0;
	if (dfd != root_fd)
		close(dfd);
	errno = e;
	return fd;
}

/*
 * Open rel beneath root_fd without following any symlink. Returns the
 * descriptor, or -1 with errno set.
 */
static int
open_beneath(int root_fd, const char *rel, int flags)
{
	int fd;

	if (!es__scan_no_openat2) {
		if ((fd = es__openat2_beneath(root_fd, rel, flags)) >= 0)
			return fd;
		if (errno != ENOSYS && errno != EPERM)
			return -1;
	}
	return open_walk(root_fd, rel, flags);
}

int
es_scan_read(int root_fd, const char *rel, size_t max_size,
    struct es_buf *out, struct es_stat *st, struct es_error *err)
{
	struct stat sb;
	int fd = -1, e, r, rc = -1;

	es_buf_reset(out);
	if (!es_rel_is_plain(rel)) {
		es_problem_set(err, ES_PROB_UNSAFE_PATH, rel, 0, "unsafe path");
		goto out;
	}
	/* O_NONBLOCK: a FIFO in a file's place must not hang the pass. */
	fd = open_beneath(root_fd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		open_error(err, rel, errno);
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot stat");
		goto out;
	}
	if (st != NULL)
		es__stat_fill(st, &sb);
	if (!S_ISREG(sb.st_mode)) {
		es_error_set(err, ES_EIO, rel, 0, "not a regular file");
		goto out;
	}
	/* SPEC 4.10: refuse before reading a byte. */
	if ((uint64_t)sb.st_size > max_size) {
		es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0,
		    "file is %llu bytes, over the %zu-byte limit",
		    (unsigned long long)sb.st_size, max_size);
		goto out;
	}
	/* One byte more than fstat said, to see EOF (or growth) at once. */
	es_buf_grow(out, (size_t)sb.st_size + 1);
	if ((r = es_buf_read_fd(out, fd, max_size)) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot read");
		goto out;
	}
	if (r == 1) {
		es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0, "file grew over the "
		    "%zu-byte limit while being read", max_size);
		goto out;
	}
	if (es_content_check(out->buf, out->len, max_size, rel, err) == -1)
		goto out;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc == -1)
		es_buf_reset(out);
	return rc;
}

int
es_scan_stat(int root_fd, const char *rel, struct es_stat *st,
    struct es_error *err)
{
	char parent[PATH_MAX];
	const char *slash, *base = rel;
	struct stat sb;
	int dfd = root_fd, e, rc = -1;

	if (!es_rel_is_plain(rel))
		return es_problem_set(err, ES_PROB_UNSAFE_PATH, rel, 0, "unsafe path");
	if ((slash = strrchr(rel, '/')) != NULL) {
		size_t n = (size_t)(slash - rel);

		memcpy(parent, rel, n);
		parent[n] = '\0';
		base = slash + 1;
		dfd = open_beneath(root_fd, parent, O_PATH | O_DIRECTORY);
		if (dfd == -1) {
			e = errno;
			if (e == ENOENT || e == ENOTDIR)
				return 0;
			return open_error(err, rel, e);
		}
	}
	if (fstatat(dfd, base, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR)
			rc = 0;
		else
			es_error_set_sys(err, e, rel, "cannot stat");
		goto out;
	}
	if (st != NULL)
		es__stat_fill(st, &sb);
	if (S_ISLNK(sb.st_mode))
		es_problem_set(err, ES_PROB_SYMLINK, rel, 0, SYMLINK_REASON);
	else if (!S_ISREG(sb.st_mode))
		es_error_set(err, ES_EIO, rel, 0, "not a regular file");
	else
		rc = 1;
out:
	if (dfd != root_fd)
		close(dfd);
	return rc;
}
