/*
 * Safe writes in the user's folder (SPEC 4.2, 4.5, 4.6, 4.11).
 *
 * Every change goes through one pattern: open the target's folder beneath
 * the root without following symbolic links, prepare the new state beside
 * the target (a complete, fsynced temporary file), switch to it with one
 * rename, then fsync the folder so the rename itself survives a crash.
 * openrsync's downloader does the temporary-file-then-rename but never
 * fsyncs; without the fsyncs a crash can leave an empty file where the old
 * one was (ext4 delayed allocation), which is the "half" this module exists
 * to rule out.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fsio.h"
#include "execsync/scan.h"

#include "fsio-internal.h"

#define SYMLINK_FMT	"'%s' is a symbolic link, not followed"
#define CHANGED_MSG	"changed on disk while syncing"
#define EXISTS_MSG	"already exists"
#define TMP_TAG		".execsync-"
#define TMP_RAND	6
#define TMP_TRIES	64
#define WRITE_CHUNK	((size_t)256 << 10)
#define COPY_MAX	9999
#define APPEND_TRIES	3
#define APPEND_MAX	((size_t)64 << 20)

void	(*es__fsio_before_commit)(void *);
void	*es__fsio_before_commit_arg;
bool	 es__fsio_no_openat2;

static atomic_int fail_at[ES_FSIO_OP_COUNT];
static atomic_int fail_calls[ES_FSIO_OP_COUNT];

void
es__fsio_fail_after(enum es_fsio_op op, int n)
{
	if ((unsigned)op >= ES_FSIO_OP_COUNT)
		return;
	atomic_store(&fail_calls[op], 0);
	atomic_store(&fail_at[op], n < 0 ? 0 : n);
}

/* True, with errno EIO, when the test seam fails this call of op. */
static bool
injected(enum es_fsio_op op)
{
	int at = atomic_load_explicit(&fail_at[op], memory_order_relaxed);

	if (at == 0)
		return false;
	if (atomic_fetch_add(&fail_calls[op], 1) + 1 != at)
		return false;
	errno = EIO;
	return true;
}

static ssize_t
io_write(int fd, const void *p, size_t n)
{
	if (injected(ES_FSIO_OP_WRITE))
		return -1;
	return write(fd, p, n);
}

static int
io_fsync(int fd)
{
	if (injected(ES_FSIO_OP_FSYNC))
		return -1;
	return fsync(fd);
}

static int
io_dirfsync(int dfd)
{
	if (injected(ES_FSIO_OP_DIRFSYNC))
		return -1;
	if (fsync(dfd) == 0)
		return 0;
	/*
	 * Some file systems (CIFS, some FUSE ones) cannot sync a folder and
	 * say EINVAL: the rename is done and nothing more can be asked of
	 * them, so failing here would only make the engine retry forever.
	 */
	return errno == EINVAL ? 0 : -1;
}

/*
 * Rename a in fdf to b in fdt; with noreplace, an existing b is never
 * replaced (errno EEXIST). Returns 0 or -1 with errno set.
 */
static int
io_rename(int fdf, const char *a, int fdt, const char *b, bool noreplace)
{
	int e;

	if (injected(ES_FSIO_OP_RENAME))
		return -1;
	if (!noreplace)
		return renameat(fdf, a, fdt, b);
	if (renameat2(fdf, a, fdt, b, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/*
	 * The file system lacks RENAME_NOREPLACE (NFS, some FUSE ones): a
	 * hard link is refused with EEXIST just as atomically; then drop
	 * the old name.
	 */
	if (linkat(fdf, a, fdt, b, 0) == -1)
		return -1;
	if (unlinkat(fdf, a, 0) == -1) {
		e = errno;
		(void)unlinkat(fdt, b, 0);
		errno = e;
		return -1;
	}
	return 0;
}

static void
stat_fill(struct es_stat *st, const struct stat *sb)
{
	st->dev = (uint64_t)sb->st_dev;
	st->ino = (uint64_t)sb->st_ino;
	st->size = (uint64_t)sb->st_size;
	st->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	    sb->st_mtim.tv_nsec;
	st->ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
	    sb->st_ctim.tv_nsec;
	st->mode = (uint32_t)sb->st_mode;
}

/* The fields the header promises to compare; see es_fsio_write(). */
static bool
stat_matches(const struct stat *sb, const struct es_stat *want)
{
	struct es_stat cur;

	stat_fill(&cur, sb);
	return cur.dev == want->dev && cur.ino == want->ino &&
	    cur.size == want->size && cur.mtime_ns == want->mtime_ns;
}

static bool
expect_absent(const struct es_stat *x)
{
	return x->dev == 0 && x->ino == 0;
}

/*
 * Plain names only, checked before any call so that neither the kernel's
 * RESOLVE_BENEATH nor the fallback walk is the only guard (a slug
 * "../../.bashrc" from the database never reaches a system call, SPEC
 * 4.11), and nothing under .git/, which SPEC §2 says is never touched.
 */
static bool
rel_is_safe(const char *rel)
{
	const char *p, *s;
	size_t n;

	if (rel == NULL || rel[0] == '\0' || rel[0] == '/' ||
	    strlen(rel) >= PATH_MAX)
		return false;
	if (strncmp(rel, ".git", 4) == 0 && (rel[4] == '\0' || rel[4] == '/'))
		return false;
	for (p = rel;; p = s + 1) {
		s = strchr(p, '/');
		n = s ? (size_t)(s - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (s == NULL)
			return true;
	}
}

static int
unsafe(struct es_error *err, const char *rel)
{
	return es_error_set(err, ES_EUNSAFE, rel, 0, "unsafe path");
}

/*
 * The errno to report for a failed O_NOFOLLOW open of name in dfd: with
 * O_DIRECTORY a symlink says ENOTDIR, not ELOOP; say ELOOP for every
 * symlink, as openat2() does, so both ways give the same error.
 */
static int
nofollow_errno(int dfd, const char *name, int e)
{
	struct stat sb;

	if ((e == ENOTDIR || e == ELOOP) &&
	    fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISLNK(sb.st_mode) ? ELOOP : e;
	return e;
}

/*
 * Without openat2(), or when it failed: one component of dir at a time,
 * each opened with O_NOFOLLOW relative to the previous one, so no symlink
 * is followed and nothing is created beyond one. With create, a missing
 * folder is made (0755) and its parent synced, so the chain of folders
 * survives a crash along with the file that the caller renames into it.
 * dir is modified while walking and restored. Returns an owned descriptor,
 * or -1 with err (path = rel) naming the component at fault.
 */
static int
walk_parent(int root_fd, const char *rel, char *dir, bool create,
    struct es_error *err)
{
	char *p, *s;
	int dfd = root_fd, fd, e;
	bool made;

	for (p = dir;; p = s + 1) {
		if ((s = strchr(p, '/')) != NULL)
			*s = '\0';
		made = false;
again:
		fd = openat(dfd, p,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			e = errno;
			if (e == ENOENT && create && !made) {
				made = true;
				if (mkdirat(dfd, p, 0755) == -1) {
					e = errno;
					/* EEXIST: made meanwhile; look again. */
					if (e != EEXIST) {
						es_error_set_sys(err, e, rel,
						    "cannot create folder '%s'",
						    dir);
						goto fail;
					}
				} else if (io_dirfsync(dfd) == -1) {
					e = errno;
					es_error_set_sys(err, e, rel,
					    "cannot sync the folder holding "
					    "'%s'", dir);
					goto fail;
				}
				goto again;
			}
			e = nofollow_errno(dfd, p, e);
			if (e == ELOOP) {
				es_error_set(err, ES_EUNSAFE, rel, 0,
				    SYMLINK_FMT, dir);
				if (err != NULL)
					err->sys = e;
			} else
				es_error_set_sys(err, e, rel,
				    "cannot open folder '%s'", dir);
			goto fail;
		}
		if (dfd != root_fd)
			close(dfd);
		dfd = fd;
		if (s == NULL)
			return dfd;
		*s = '/';
	}
fail:
	if (s != NULL)
		*s = '/';
	if (dfd != root_fd)
		close(dfd);
	return -1;
}

/*
 * Opens the folder holding rel's last name (the root itself for a bare
 * name) for reading and fsync, creating missing folders when create, and
 * points *base into rel at that name. Returns an owned descriptor or -1
 * with err.
 */
static int
open_parent(int root_fd, const char *rel, bool create, const char **base,
    struct es_error *err)
{
	char dir[PATH_MAX];
	const char *slash;
	struct open_how how;
	size_t n;
	long fd;
	int e;

	if (strlen(rel) >= sizeof(dir))
		return es_error_set(err, ES_ELIMIT, rel, 0, "path too long");
	if ((slash = strrchr(rel, '/')) == NULL) {
		*base = rel;
		fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1) {
			e = errno;
			return es_error_set_sys(err, e, rel,
			    "cannot open the root");
		}
		return (int)fd;
	}
	n = (size_t)(slash - rel);
	memcpy(dir, rel, n);
	dir[n] = '\0';
	*base = slash + 1;
	if (!es__fsio_no_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, root_fd, dir, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		e = errno;
		if (e == EXDEV)
			return es_error_set(err, ES_EUNSAFE, rel, 0,
			    "path leaves the root");
		/*
		 * Anything else goes to the walk: ENOSYS (kernel before
		 * 5.6), EPERM (a seccomp filter that does not know the
		 * call), ENOENT (folders to create), and ELOOP or ENOTDIR,
		 * for which the walk names the component at fault.
		 */
	}
	return walk_parent(root_fd, rel, dir, create, err);
}

/*
 * Stat base in dfd without following: 1 for a regular file (sb filled), 0
 * when absent, -1 with err (a symlink, something else, a failed call).
 */
static int
target_stat(int dfd, const char *base, const char *rel, struct stat *sb,
    struct es_error *err)
{
	int e;

	if (fstatat(dfd, base, sb, AT_SYMLINK_NOFOLLOW) == -1) {
		e = errno;
		if (e == ENOENT)
			return 0;
		return es_error_set_sys(err, e, rel, "cannot stat");
	}
	if (S_ISLNK(sb->st_mode))
		return es_error_set(err, ES_EUNSAFE, rel, 0, SYMLINK_FMT, rel);
	if (!S_ISREG(sb->st_mode))
		return es_error_set(err, ES_EIO, rel, 0, "not a regular file");
	return 1;
}

/* A temporary file beside its target. */
struct tmp {
	int	 dfd;			/* borrowed */
	int	 fd;
	char	 name[NAME_MAX + 1];	/* "" when there is none to remove */
};

/*
 * ".<base>.execsync-XXXXXX", base cut so the name fits NAME_MAX. The
 * random part only makes collisions rare; O_EXCL makes them harmless.
 */
static void
tmp_name(char *out, size_t size, const char *base)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static atomic_uint counter;
	unsigned char rnd[TMP_RAND];
	char tail[TMP_RAND + 1];
	size_t blen = strlen(base), room, i;
	unsigned v;

	room = NAME_MAX - 1 - (sizeof(TMP_TAG) - 1) - TMP_RAND;
	if (blen > room)
		blen = room;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* No entropy yet (early boot): a counter is enough. */
		v = atomic_fetch_add(&counter, 1) * 2654435761u ^
		    (unsigned)getpid();
		for (i = 0; i < sizeof(rnd); i++, v >>= 5)
			rnd[i] = (unsigned char)(v + i * 97);
	}
	for (i = 0; i < TMP_RAND; i++)
		tail[i] = set[rnd[i] % (sizeof(set) - 1)];
	tail[TMP_RAND] = '\0';
	snprintf(out, size, ".%.*s%s%s", (int)blen, base, TMP_TAG, tail);
}

static int
tmp_open(struct tmp *t, int dfd, const char *base, const char *rel,
    struct es_error *err)
{
	int i, e = EEXIST;

	t->dfd = dfd;
	for (i = 0; i < TMP_TRIES; i++) {
		tmp_name(t->name, sizeof(t->name), base);
		t->fd = openat(dfd, t->name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (t->fd != -1)
			return 0;
		if ((e = errno) != EEXIST)
			break;
	}
	t->name[0] = '\0';
	return es_error_set_sys(err, e, rel, "cannot create temporary file");
}

/* Write all of buf, give the file its mode, fsync it. */
static int
tmp_fill(struct tmp *t, const void *buf, size_t len, mode_t mode,
    const char *rel, struct es_error *err)
{
	const char *p = buf;
	size_t off = 0, n;
	ssize_t r;
	int e;

	while (off < len) {
		n = len - off < WRITE_CHUNK ? len - off : WRITE_CHUNK;
		if ((r = io_write(t->fd, p + off, n)) == -1) {
			e = errno;
			if (e == EINTR)
				continue;
			return es_error_set_sys(err, e, rel,
			    "cannot write temporary file");
		}
		off += (size_t)r;
	}
	/* Exactly the mode asked for: fchmod() ignores the umask. */
	if (fchmod(t->fd, mode) == -1) {
		e = errno;
		return es_error_set_sys(err, e, rel,
		    "cannot set the mode of temporary file");
	}
	if (io_fsync(t->fd) == -1) {
		e = errno;
		return es_error_set_sys(err, e, rel,
		    "cannot sync temporary file");
	}
	return 0;
}

static void
tmp_discard(struct tmp *t)
{
	if (t->name[0] != '\0')
		(void)unlinkat(t->dfd, t->name, 0);
	if (t->fd != -1)
		close(t->fd);
	t->name[0] = '\0';
	t->fd = -1;
}

/* es_fsio_write() once rel's folder is open on dfd and base is its name. */
static int
write_at(int dfd, const char *rel, const char *base, const void *buf,
    size_t len, mode_t mode_if_new, const struct es_stat *expect,
    struct es_stat *st_out, struct es_error *err)
{
	struct tmp t = { dfd, -1, "" };
	struct stat sb;
	mode_t mode;
	bool absent = expect != NULL && expect_absent(expect);
	int r, e, rc = -1;

	if ((r = target_stat(dfd, base, rel, &sb, err)) == -1)
		goto out;
	/* Refuse early when the answer is already known: no useless write. */
	if (absent && r == 1) {
		es_error_set(err, ES_ECONFLICT, rel, 0, EXISTS_MSG);
		goto out;
	}
	if (expect != NULL && !absent && (r == 0 ||
	    !stat_matches(&sb, expect))) {
		es_error_set(err, ES_ECONFLICT, rel, 0, CHANGED_MSG);
		goto out;
	}
	mode = (r == 1 ? sb.st_mode : mode_if_new) & 07777;
	if (tmp_open(&t, dfd, base, rel, err) == -1 ||
	    tmp_fill(&t, buf, len, mode, rel, err) == -1)
		goto out;
	if (es__fsio_before_commit != NULL)
		es__fsio_before_commit(es__fsio_before_commit_arg);
	/* Again, as late as possible: the write took time. */
	if (expect != NULL && !absent) {
		if ((r = target_stat(dfd, base, rel, &sb, err)) == -1)
			goto out;
		if (r == 0 || !stat_matches(&sb, expect)) {
			es_error_set(err, ES_ECONFLICT, rel, 0, CHANGED_MSG);
			goto out;
		}
	}
	if (io_rename(dfd, t.name, dfd, base, absent) == -1) {
		e = errno;
		if (absent && e == EEXIST)
			es_error_set(err, ES_ECONFLICT, rel, 0, EXISTS_MSG);
		else
			es_error_set_sys(err, e, rel,
			    "cannot rename temporary file into place");
		goto out;
	}
	t.name[0] = '\0';
	/* From our descriptor: an edit right after the rename is not ours. */
	if (st_out != NULL) {
		if (fstat(t.fd, &sb) == -1) {
			e = errno;
			es_error_set_sys(err, e, rel, "cannot stat");
			goto out;
		}
		stat_fill(st_out, &sb);
	}
	if (io_dirfsync(dfd) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot sync folder");
		goto out;
	}
	rc = 0;
out:
	tmp_discard(&t);
	return rc;
}

int
es_fsio_write(int root_fd, const char *rel, const void *buf, size_t len,
    mode_t mode_if_new, const struct es_stat *expect, struct es_stat *st_out,
    struct es_error *err)
{
	const char *base;
	int dfd, rc;

	if (!rel_is_safe(rel))
		return unsafe(err, rel);
	if ((dfd = open_parent(root_fd, rel, true, &base, err)) == -1)
		return -1;
	rc = write_at(dfd, rel, base, buf, len, mode_if_new, expect, st_out,
	    err);
	close(dfd);
	return rc;
}

/* fsync the folders of a move: the target's first, then the source's. */
static int
sync_both(int fdf, int fdt, const char *rel, struct es_error *err)
{
	struct stat a, b;
	int e;

	if (io_dirfsync(fdt) == -1) {
		e = errno;
		return es_error_set_sys(err, e, rel, "cannot sync folder");
	}
	if (fstat(fdf, &a) == 0 && fstat(fdt, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	if (io_dirfsync(fdf) == -1) {
		e = errno;
		return es_error_set_sys(err, e, rel,
		    "cannot sync the folder moved from");
	}
	return 0;
}

/*
 * Opens the source of a move or trash and checks it is a regular file.
 * Returns its folder's descriptor (base set) or -1 with err.
 */
static int
open_source(int root_fd, const char *rel, const char **base,
    struct es_error *err)
{
	struct stat sb;
	int dfd, r;

	if ((dfd = open_parent(root_fd, rel, false, base, err)) == -1)
		return -1;
	if ((r = target_stat(dfd, *base, rel, &sb, err)) == 1)
		return dfd;
	if (r == 0)
		es_error_set_sys(err, ENOENT, rel, "cannot move");
	close(dfd);
	return -1;
}

int
es_fsio_move(int root_fd, const char *from, const char *to,
    struct es_error *err)
{
	const char *bf, *bt;
	int fdf = -1, fdt = -1, e, rc = -1;

	if (!rel_is_safe(from))
		return unsafe(err, from);
	if (!rel_is_safe(to))
		return unsafe(err, to);
	if ((fdf = open_source(root_fd, from, &bf, err)) == -1)
		goto out;
	if ((fdt = open_parent(root_fd, to, true, &bt, err)) == -1)
		goto out;
	if (io_rename(fdf, bf, fdt, bt, true) == -1) {
		e = errno;
		if (e == EEXIST)
			es_error_set(err, ES_ECONFLICT, to, 0, EXISTS_MSG);
		else
			es_error_set_sys(err, e, to, "cannot move '%s' here",
			    from);
		goto out;
	}
	rc = sync_both(fdf, fdt, to, err);
out:
	if (fdf != -1)
		close(fdf);
	if (fdt != -1)
		close(fdt);
	return rc;
}

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
		return es_error_set(err, ES_ELIMIT, rel, 0,
		    "name too long for a kept copy");
	return 0;
}

int
es_fsio_trash(int root_fd, const char *rel, struct es_buf *trash_rel,
    struct es_error *err)
{
	struct es_buf dst = ES_BUF_INIT;
	char name[NAME_MAX + 1];
	const char *bf, *bt;
	size_t dirlen;
	unsigned n;
	int fdf = -1, fdt = -1, e, rc = -1;

	if (!rel_is_safe(rel))
		return unsafe(err, rel);
	if ((fdf = open_source(root_fd, rel, &bf, err)) == -1)
		goto out;
	es_buf_addf(&dst, "%s/%s", ES_FSIO_TRASH_DIR, rel);
	if ((fdt = open_parent(root_fd, dst.buf, true, &bt, err)) == -1) {
		if (err != NULL)	/* name the file being trashed */
			snprintf(err->path, sizeof(err->path), "%s", rel);
		goto out;
	}
	dirlen = (size_t)(bt - dst.buf);
	for (n = 0;; n++) {
		if (n > COPY_MAX) {
			es_error_set(err, ES_ELIMIT, rel, 0, "more than %d "
			    "copies in the trash", COPY_MAX);
			goto out;
		}
		if (numbered(name, sizeof(name), bt, n, rel, err) == -1)
			goto out;
		/* SPEC 4.5: never replace what the trash already keeps. */
		if (io_rename(fdf, bf, fdt, name, true) == 0)
			break;
		if ((e = errno) != EEXIST) {
			es_error_set_sys(err, e, rel,
			    "cannot move to the trash");
			goto out;
		}
	}
	if (trash_rel != NULL) {
		es_buf_reset(trash_rel);
		es_buf_add(trash_rel, dst.buf, dirlen);
		es_buf_addstr(trash_rel, name);
	}
	rc = sync_both(fdf, fdt, rel, err);
out:
	if (fdf != -1)
		close(fdf);
	if (fdt != -1)
		close(fdt);
	es_buf_release(&dst);
	return rc;
}

int
es_fsio_conflict_copy(int root_fd, const char *rel, const char *side,
    int64_t now_ms, const void *buf, size_t len, struct es_buf *out_rel,
    struct es_error *err)
{
	struct es_buf dst = ES_BUF_INIT;
	struct tmp t = { -1, -1, "" };
	char stamp[32], stem[NAME_MAX + 1], name[NAME_MAX + 1];
	const char *base;
	struct tm tm;
	int64_t secs;
	time_t tt;
	size_t dirlen;
	unsigned n;
	int dfd = -1, w, e, rc = -1;

	if (!rel_is_safe(rel))
		return unsafe(err, rel);
	if (side == NULL || (strcmp(side, "file") != 0 &&
	    strcmp(side, "database") != 0))
		return es_error_set(err, ES_EUSAGE, rel, 0,
		    "bad conflict side '%s'", side ? side : "(null)");
	/* Floor, so a time before the epoch names its own second. */
	secs = now_ms / 1000 - (now_ms % 1000 < 0);
	tt = (time_t)secs;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return es_error_set(err, ES_EUSAGE, rel, 0,
		    "bad time %lld ms", (long long)now_ms);

	es_buf_addf(&dst, "%s/%s", ES_FSIO_CONFLICT_DIR, rel);
	if ((dfd = open_parent(root_fd, dst.buf, true, &base, err)) == -1) {
		if (err != NULL)
			snprintf(err->path, sizeof(err->path), "%s", rel);
		goto out;
	}
	dirlen = (size_t)(base - dst.buf);
	w = snprintf(stem, sizeof(stem), "%s.%s.%s", base, stamp, side);
	if (w < 0 || (size_t)w >= sizeof(stem)) {
		es_error_set(err, ES_ELIMIT, rel, 0,
		    "name too long for a kept copy");
		goto out;
	}
	if (tmp_open(&t, dfd, stem, rel, err) == -1 ||
	    tmp_fill(&t, buf, len, ES_FSIO_MODE_NEW, rel, err) == -1)
		goto out;
	for (n = 0;; n++) {
		if (n > COPY_MAX) {
			es_error_set(err, ES_ELIMIT, rel, 0, "more than %d "
			    "conflict copies in one second", COPY_MAX);
			goto out;
		}
		if (numbered(name, sizeof(name), stem, n, rel, err) == -1)
			goto out;
		/* SPEC 4.2: a kept version is never overwritten. */
		if (io_rename(dfd, t.name, dfd, name, true) == 0)
			break;
		if ((e = errno) != EEXIST) {
			es_error_set_sys(err, e, rel,
			    "cannot keep conflict copy");
			goto out;
		}
	}
	t.name[0] = '\0';
	if (io_dirfsync(dfd) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot sync folder");
		goto out;
	}
	if (out_rel != NULL) {
		es_buf_reset(out_rel);
		es_buf_add(out_rel, dst.buf, dirlen);
		es_buf_addstr(out_rel, name);
	}
	rc = 0;
out:
	tmp_discard(&t);
	if (dfd != -1)
		close(dfd);
	es_buf_release(&dst);
	return rc;
}

/*
 * Read base in dfd whole into out, its stat data into st; absent is 0 with
 * out empty and st zeroed (the "must not exist" expect of write_at()).
 */
static int
read_at(int dfd, const char *base, const char *rel, struct es_buf *out,
    struct es_stat *st, struct es_error *err)
{
	struct stat sb;
	ssize_t r;
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
			return es_error_set(err, ES_EUNSAFE, rel, 0,
			    SYMLINK_FMT, rel);
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
	for (;;) {
		if (out->len > APPEND_MAX)
			goto toobig;
		if (out->alloc - out->len - 1 == 0)
			es_buf_grow(out, WRITE_CHUNK);
		r = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (r == -1) {
			e = errno;
			if (e == EINTR)
				continue;
			es_error_set_sys(err, e, rel, "cannot read");
			goto out;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->buf[out->len] = '\0';
	}
	stat_fill(st, &sb);
	rc = 0;
	goto out;
toobig:
	es_error_set(err, ES_ELIMIT, rel, 0, "file is over the %zu-byte "
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
	int dfd, i, rc = -1;

	if (!rel_is_safe(rel))
		return unsafe(err, rel);
	if ((dfd = open_parent(root_fd, rel, true, &base, err)) == -1)
		return -1;
	es_error_clear(&le);
	for (i = 0; i < APPEND_TRIES; i++) {
		if (read_at(dfd, base, rel, &data, &expect, &le) == -1)
			break;
		es_buf_add(&data, buf, len);
		if (write_at(dfd, rel, base, data.buf, data.len,
		    ES_FSIO_MODE_NEW, &expect, NULL, &le) == 0) {
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
