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
 * to rule out. A write over a file the caller read switches by swapping
 * (RENAME_EXCHANGE), so that the file it replaces can still be looked at,
 * and swapped back, when an edit landed in it at the last moment.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY	/* XXH3_state_t on the stack */
#include <xxhash.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/layout.h"
#include "execsync/fsio.h"
#include "execsync/scan.h"

#include "beneath.h"
#include "fsio-impl.h"
#include "fsio-internal.h"

#define CHANGED_MSG	"changed on disk while syncing"
#define EXISTS_MSG	"already exists"
#define TMP_TAG		".execsync-"
#define TMP_RAND	6
#define TMP_TRIES	64
#define WRITE_CHUNK	((size_t)256 << 10)
#define READ_CHUNK	((size_t)16 << 10)

void	(*es__fsio_hook)(enum es_fsio_point, void *);
void	*es__fsio_hook_arg;
bool	 es__fsio_no_openat2;
bool	 es__fsio_no_exchange;

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

static void
hook(enum es_fsio_point at)
{
	if (es__fsio_hook != NULL)
		es__fsio_hook(at, es__fsio_hook_arg);
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
int
es__fsio_rename(int fdf, const char *a, int fdt, const char *b, bool noreplace)
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

/*
 * Swap names a and b of folder dfd in one step (renameat2
 * RENAME_EXCHANGE): both stay linked. Returns 0, or -1 with errno (EINVAL
 * or ENOSYS where the file system or kernel cannot, ENOENT when either is
 * missing).
 */
static int
io_exchange(int dfd, const char *a, const char *b)
{
	if (injected(ES_FSIO_OP_RENAME))
		return -1;
	if (es__fsio_no_exchange) {
		errno = EINVAL;
		return -1;
	}
	return renameat2(dfd, a, dfd, b, RENAME_EXCHANGE);
}

/* The fields the header promises to compare; see es_fsio_write(). */
static bool
stat_matches(const struct stat *sb, const struct es_stat *want)
{
	struct es_stat cur;

	es__stat_fill(&cur, sb);
	return cur.dev == want->dev && cur.ino == want->ino &&
	    cur.size == want->size && cur.mtime_ns == want->mtime_ns;
}

/* The same inode with the same size and mtime: no write seen between. */
static bool
same_content_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool
expect_absent(const struct es_stat *x)
{
	return x->dev == 0 && x->ino == 0;
}

/*
 * Whether name in dfd is still the file the caller read: a regular file
 * (not followed) whose stat data match expect and, with fp, whose bytes
 * hash to *fp (es_fp_bytes(), XXH3; streamed). Stat data alone miss a
 * same-size rewrite within one tick of the file system's clock, and one
 * whose mtime was set back. Anything that cannot be confirmed (absent,
 * unreadable) is "no".
 */
static bool
same_file(int dfd, const char *name, const struct es_stat *expect,
    const es_fp_t *fp)
{
	XXH3_state_t hs;
	char chunk[READ_CHUNK];
	struct stat sb;
	ssize_t r;
	bool ok = false;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return false;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    !stat_matches(&sb, expect))
		goto out;
	if (fp == NULL) {
		ok = true;
		goto out;
	}
	XXH3_INITSTATE(&hs);
	if (XXH3_64bits_reset(&hs) != XXH_OK)
		goto out;
	for (;;) {
		if ((r = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		if (XXH3_64bits_update(&hs, chunk, (size_t)r) != XXH_OK)
			goto out;
	}
	ok = XXH3_64bits_digest(&hs) == *fp;
out:
	close(fd);
	return ok;
}

/*
 * Plain names only, checked before any call so that neither the kernel's
 * RESOLVE_BENEATH nor the fallback walk is the only guard (a slug
 * "../../.bashrc" from the database never reaches a system call, SPEC
 * 4.11), and nothing under .git/, which SPEC §2 says is never touched.
 */
bool
es__fsio_safe(const char *rel)
{
	if (rel != NULL && strncmp(rel, ".git", 4) == 0 &&
	    (rel[4] == '\0' || rel[4] == '/'))
		return false;
	return es_rel_is_plain(rel);
}

int
es__fsio_unsafe(struct es_error *err, const char *rel)
{
	return es_problem_set(err, ES_PROB_UNSAFE_PATH, rel, 0, "unsafe path");
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
			e = es__nofollow_errno(dfd, p, e);
			if (e == ELOOP) {
				es_problem_set(err, ES_PROB_SYMLINK, rel, 0,
				    ES__FSIO_SYMLINK_FMT, dir);
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
int
es__fsio_open_parent(int root_fd, const char *rel, bool create,
    const char **base, struct es_error *err)
{
	char dir[PATH_MAX];
	const char *slash;
	size_t n;
	long fd;
	int e;

	if (strlen(rel) >= sizeof(dir))
		return es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0, "path too long");
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
		fd = es__openat2_beneath(root_fd, dir, O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			return (int)fd;
		e = errno;
		if (e == EXDEV)
			return es_problem_set(err, ES_PROB_UNSAFE_PATH, rel, 0,
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
		return es_problem_set(err, ES_PROB_SYMLINK, rel, 0,
		    ES__FSIO_SYMLINK_FMT, rel);
	if (!S_ISREG(sb->st_mode))
		return es_error_set(err, ES_EIO, rel, 0, "not a regular file");
	return 1;
}

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

/*
 * Creates the temporary file with mode (the umask, or the folder's default
 * ACL, applies as for any new file).
 */
int
es__fsio_tmp_open(struct es__fsio_tmp *t, int dfd, const char *base,
    mode_t mode, const char *rel, struct es_error *err)
{
	int i, e = EEXIST;

	t->dfd = dfd;
	for (i = 0; i < TMP_TRIES; i++) {
		tmp_name(t->name, sizeof(t->name), base);
		t->fd = openat(dfd, t->name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode);
		if (t->fd != -1)
			return 0;
		if ((e = errno) != EEXIST)
			break;
	}
	t->name[0] = '\0';
	return es_error_set_sys(err, e, rel, "cannot create temporary file");
}

/* Write all of buf, give the file mode (unless ES__FSIO_AS_CREATED), fsync. */
int
es__fsio_tmp_fill(struct es__fsio_tmp *t, const void *buf, size_t len,
    mode_t mode, const char *rel, struct es_error *err)
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
	/* A replaced file's bits exactly: fchmod() ignores the umask. */
	if (mode != ES__FSIO_AS_CREATED && fchmod(t->fd, mode) == -1) {
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

void
es__fsio_tmp_discard(struct es__fsio_tmp *t)
{
	if (t->name[0] != '\0')
		(void)unlinkat(t->dfd, t->name, 0);
	if (t->fd != -1)
		close(t->fd);
	t->name[0] = '\0';
	t->fd = -1;
}

/* One es_fsio_write() under way. */
struct wr {
	int			 root_fd;
	const char		*rel, *base;
	const void		*buf;
	size_t			 len;
	const struct es_stat	*expect;
	const es_fp_t		*fp;
	bool			 keep;	/* if refused, ours kept */
	struct es__fsio_tmp	 t;
	struct stat		 ours;	/* the complete temp file */
	bool			 shown;	/* ours was at rel (swapped) */
};

static int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A refused compare-and-swap: rel stays the user's and nothing is lost.
 * w->t.name holds ours (refused before the swap, or swapped back), or a
 * version of the user's when an editor's save or a failed swap-back got in
 * the way: that one is moved, never removed, to ES_FSIO_CONFLICT_DIR (or
 * left where it is if even that fails). With keep, ours is kept there too
 * once it has been at rel, where someone may have seen or copied it;
 * refused before, it was never more than a hidden temporary file, and the
 * next pass makes it again. Returns -1 with ES_ECONFLICT CHANGED_MSG,
 * saying where versions are kept.
 */
static int
refuse(struct wr *w, struct es_error *err)
{
	struct es_buf mine = ES_BUF_INIT, theirs = ES_BUF_INIT;
	struct stat sb;
	int64_t now = clock_ms();
	const char *slash = strrchr(w->rel, '/');
	int dlen = slash ? (int)(slash - w->rel + 1) : 0;

	if (fstatat(w->t.dfd, w->t.name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !same_content_stat(&sb, &w->ours)) {
		if (es__fsio_keep(w->root_fd, w->rel, "file", now, w->t.dfd,
		    w->t.name, NULL, 0, &theirs, NULL) == -1 &&
		    theirs.len == 0)
			es_buf_addf(&theirs, "%.*s%s", dlen, w->rel,
			    w->t.name);
		w->t.name[0] = '\0';	/* not ours to remove */
	}
	if (w->keep && w->shown)
		(void)es__fsio_keep(w->root_fd, w->rel, "database", now, -1,
		    NULL, w->buf, w->len, &mine, NULL);
	es_error_set(err, ES_ECONFLICT, w->rel, 0, "%s%s%s%s%s", CHANGED_MSG,
	    theirs.len ? "; a version with changes made meanwhile is kept "
	    "in " : "", theirs.len ? theirs.buf : "",
	    mine.len ? "; this pass's version is kept in " : "",
	    mine.len ? mine.buf : "");
	es_buf_release(&mine);
	es_buf_release(&theirs);
	return -1;
}

/*
 * The commit of a write whose expect names a file (SPEC 4.11, 4.12): ours
 * takes rel's place only if rel is still the file the caller read. Where
 * the file system can, by swapping (renameat2 RENAME_EXCHANGE) and then
 * looking at the file swapped out twice: right away, and again after the
 * folder fsync, so that a writer that opened the old file just before the
 * swap has had time to land its write. A change seen there swaps back.
 * Where it cannot, the look right before a plain rename is the last. See
 * ARCHITECTURE.md "Safety of file writes" for the window that remains.
 */
static int
commit_cas(struct wr *w, struct stat *post, struct es_error *err)
{
	struct stat sb;
	int dfd = w->t.dfd, e, synced;
	bool ok;

	if (!same_file(dfd, w->base, w->expect, w->fp))
		return refuse(w, err);
	hook(ES_FSIO_AT_RENAME);
	if (io_exchange(dfd, w->t.name, w->base) == -1) {
		e = errno;
		if (e == ENOENT)		/* deleted meanwhile */
			return refuse(w, err);
		if (e == EINVAL || e == ENOSYS) {
			if (es__fsio_rename(dfd, w->t.name, dfd, w->base,
			    false) == 0)
				goto renamed;
			e = errno;
		}
		return es_error_set_sys(err, e, w->rel,
		    "cannot rename temporary file into place");
	}
	/* rel is ours now; t.name holds the file that was there. */
	w->shown = true;
	if (fstat(w->t.fd, post) == -1)
		*post = w->ours;
	hook(ES_FSIO_AT_SWAPPED);
	synced = 0;
	e = 0;
	if ((ok = same_file(dfd, w->t.name, w->expect, w->fp))) {
		if ((synced = io_dirfsync(dfd)) == -1)
			e = errno;
		hook(ES_FSIO_AT_SYNCED);
		ok = same_file(dfd, w->t.name, w->expect, w->fp);
	}
	if (!ok) {
		/* Back, unless an editor saved over ours meanwhile. */
		if (fstatat(dfd, w->base, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    sb.st_dev == w->ours.st_dev &&
		    sb.st_ino == w->ours.st_ino &&
		    io_exchange(dfd, w->t.name, w->base) == 0)
			(void)io_dirfsync(dfd);
		return refuse(w, err);
	}
	/* The old version, unchanged: dropped, as a rename drops it. */
	(void)unlinkat(dfd, w->t.name, 0);
	w->t.name[0] = '\0';
	if (synced == -1)
		return es_error_set_sys(err, e, w->rel, "cannot sync folder");
	return 0;
renamed:
	w->t.name[0] = '\0';
	if (fstat(w->t.fd, post) == -1)
		*post = w->ours;
	if (io_dirfsync(dfd) == -1) {
		e = errno;
		return es_error_set_sys(err, e, w->rel, "cannot sync folder");
	}
	return 0;
}

/* es_fsio_write() once rel's folder is open on dfd and base is its name. */
int
es__fsio_write_at(int root_fd, int dfd, const char *rel, const char *base,
    const void *buf, size_t len, mode_t mode_if_new,
    const struct es_stat *expect, const es_fp_t *fp, bool keep,
    struct es_stat *st_out, struct es_error *err)
{
	struct wr w = { root_fd, rel, base, buf, len, expect, fp, keep,
	    { dfd, -1, "" }, { 0 }, false };
	struct stat sb, post;
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
	/*
	 * A replaced file keeps its permission bits; a new one is created
	 * with mode_if_new through the umask, as the folders are.
	 */
	if (es__fsio_tmp_open(&w.t, dfd, base, r == 1 ? 0600 :
	    mode_if_new & 07777, rel, err) == -1 ||
	    es__fsio_tmp_fill(&w.t, buf, len, r == 1 ? sb.st_mode & 07777 :
	    ES__FSIO_AS_CREATED, rel, err) == -1)
		goto out;
	if (fstat(w.t.fd, &w.ours) == -1) {
		e = errno;
		es_error_set_sys(err, e, rel, "cannot stat temporary file");
		goto out;
	}
	hook(ES_FSIO_AT_COMMIT);
	if (expect != NULL && !absent) {
		if (commit_cas(&w, &post, err) == -1)
			goto out;
	} else {
		hook(ES_FSIO_AT_RENAME);
		if (es__fsio_rename(dfd, w.t.name, dfd, base, absent) == -1) {
			e = errno;
			if (absent && e == EEXIST)
				es_error_set(err, ES_ECONFLICT, rel, 0,
				    EXISTS_MSG);
			else
				es_error_set_sys(err, e, rel, "cannot rename "
				    "temporary file into place");
			goto out;
		}
		w.t.name[0] = '\0';
		if (fstat(w.t.fd, &post) == -1)
			post = w.ours;
		if (io_dirfsync(dfd) == -1) {
			e = errno;
			es_error_set_sys(err, e, rel, "cannot sync folder");
			goto out;
		}
	}
	/*
	 * Our bytes' stat data, with the ctime the rename gave them; if a
	 * write has already landed in them, the stat data from before, so
	 * that the edit is not mistaken for ours.
	 */
	if (st_out != NULL)
		es__stat_fill(st_out, same_content_stat(&post, &w.ours) ?
		    &post : &w.ours);
	rc = 0;
out:
	es__fsio_tmp_discard(&w.t);
	return rc;
}

int
es_fsio_write(int root_fd, const char *rel, const void *buf, size_t len,
    mode_t mode_if_new, const struct es_stat *expect, const es_fp_t *fp,
    struct es_stat *st_out, struct es_error *err)
{
	const char *base;
	int dfd, rc;

	if (!es__fsio_safe(rel))
		return es__fsio_unsafe(err, rel);
	if ((dfd = es__fsio_open_parent(root_fd, rel, true, &base, err)) == -1)
		return -1;
	rc = es__fsio_write_at(root_fd, dfd, rel, base, buf, len, mode_if_new,
	    expect, fp, true, st_out, err);
	close(dfd);
	return rc;
}

/* fsync the folders of a move: the target's first, then the source's. */
int
es__fsio_sync_both(int fdf, int fdt, const char *rel, struct es_error *err)
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
int
es__fsio_open_source(int root_fd, const char *rel, const char **base,
    struct es_error *err)
{
	struct stat sb;
	int dfd, r;

	if ((dfd = es__fsio_open_parent(root_fd, rel, false, base, err)) == -1)
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

	if (!es__fsio_safe(from))
		return es__fsio_unsafe(err, from);
	if (!es__fsio_safe(to))
		return es__fsio_unsafe(err, to);
	if ((fdf = es__fsio_open_source(root_fd, from, &bf, err)) == -1)
		goto out;
	if ((fdt = es__fsio_open_parent(root_fd, to, true, &bt, err)) == -1)
		goto out;
	if (es__fsio_rename(fdf, bf, fdt, bt, true) == -1) {
		e = errno;
		if (e == EEXIST)
			es_error_set(err, ES_ECONFLICT, to, 0, EXISTS_MSG);
		else
			es_error_set_sys(err, e, to, "cannot move '%s' here",
			    from);
		goto out;
	}
	rc = es__fsio_sync_both(fdf, fdt, to, err);
out:
	if (fdf != -1)
		close(fdf);
	if (fdt != -1)
		close(fdt);
	return rc;
}
