/*
 * The baseline's folder, <root>/.execsync (SPEC §2, 4.11, 4.17): made
 * private and opened without following a link, named in the repository's
 * .git/info/exclude so git never carries it, and the path SQLite opens
 * read back from the opened folder. baseline.c is the store inside it.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

#include "state-dir.h"

#define EXCLUDE_MAX		((size_t)1 << 20)
#define EXCLUDE_LINE		".execsync/"
#define EXCLUDE_REL		".git/info/exclude"

/*
 * Create (0700) and open <root>/.execsync without following a symbolic
 * link in its place (SPEC 4.11): a link could point the baseline, the trash
 * and the conflict copies anywhere.
 */
int
es_baseline_state_dir_open(int rootfd, struct es_error *err)
{
	bool created = false;
	int fd, e;

	if (mkdirat(rootfd, ES_BASELINE_DIR, 0700) == 0)
		created = true;
	else if ((e = errno) != EEXIST) {
		es_error_set_sys(err, e, ES_BASELINE_DIR,
		    "cannot create folder");
		return -1;
	}
	fd = openat(rootfd, ES_BASELINE_DIR,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP || e == ENOTDIR)
			es_error_set(err, ES_EUNSAFE, ES_BASELINE_DIR, 0,
			    "refusing '%s': not a folder (symbolic link?)",
			    ES_BASELINE_DIR);
		else
			es_error_set_sys(err, e, ES_BASELINE_DIR,
			    "cannot open folder");
		return -1;
	}
	/* mkdir's mode went through the umask; conflict copies are private. */
	if (created && fchmod(fd, 0700) == -1) {
		e = errno;
		close(fd);
		es_error_set_sys(err, e, ES_BASELINE_DIR,
		    "cannot chmod folder");
		return -1;
	}
	return fd;
}

/*
 * Whether the exclude file already has a line that ignores .execsync at the
 * top: ".execsync/" or its equivalents "/.execsync/", ".execsync",
 * "/.execsync". git trims trailing spaces of a pattern, so do we; it does
 * not trim a CR, and neither do we.
 */
static bool
exclude_has_line(const char *p, size_t len)
{
	static const char *const forms[] = {
		".execsync/", "/.execsync/", ".execsync", "/.execsync",
	};
	const char *end = p + len, *nl;
	size_t n, i;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl == NULL ? end : nl) - p;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
			if (strlen(forms[i]) == n &&
			    memcmp(p, forms[i], n) == 0)
				return true;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return false;
}

/*
 * SPEC §2: "The tool adds .execsync/ to the repository's .git/info/exclude",
 * so a fresh clone has no baseline (4.17) and the baseline, trash and
 * conflict copies are never committed. Only when .git is a real folder (not
 * a symlink, not a worktree's "gitdir:" file); never through a symlinked
 * info/ or exclude; flock() so two processes starting together add one line.
 */
static int
git_exclude(int rootfd, struct es_error *err)
{
	struct es_buf text = ES_BUF_INIT;
	struct stat sb;
	int gitfd = -1, infofd = -1, fd = -1, e, ret = -1;
	int r;

	gitfd = openat(rootfd, ".git",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (gitfd == -1) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR || e == ELOOP)
			ret = 0;	/* not a plain git work tree */
		else
			es_error_set_sys(err, e, ".git", "cannot open folder");
		goto out;
	}
	if (mkdirat(gitfd, "info", 0777) == -1 && (e = errno) != EEXIST) {
		es_error_set_sys(err, e, ".git/info", "cannot create folder");
		goto out;
	}
	infofd = openat(gitfd, "info",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (infofd == -1) {
		e = errno;
		if (e == ELOOP || e == ENOTDIR)
			es_error_set(err, ES_EUNSAFE, ".git/info", 0,
			    "refusing '.git/info': not a folder "
			    "(symbolic link?)");
		else
			es_error_set_sys(err, e, ".git/info",
			    "cannot open folder");
		goto out;
	}
	/* O_NONBLOCK: a FIFO planted there must not hang the open. */
	fd = openat(infofd, "exclude", O_RDWR | O_CREAT | O_APPEND |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			es_error_set(err, ES_EUNSAFE, EXCLUDE_REL, 0,
			    "refusing '%s': symbolic link, not followed",
			    EXCLUDE_REL);
		else
			es_error_set_sys(err, e, EXCLUDE_REL, "cannot open");
		goto out;
	}
	if (fstat(fd, &sb) == -1) {
		es_error_set_sys(err, errno, EXCLUDE_REL, "cannot stat");
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		es_error_set(err, ES_EUNSAFE, EXCLUDE_REL, 0,
		    "refusing '%s': not a regular file", EXCLUDE_REL);
		goto out;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if ((e = errno) != EINTR) {
			es_error_set_sys(err, e, EXCLUDE_REL, "cannot lock");
			goto out;
		}
	}
	if (fstat(fd, &sb) == -1) {
		es_error_set_sys(err, errno, EXCLUDE_REL, "cannot stat");
		goto out;
	}
	if ((uint64_t)sb.st_size > EXCLUDE_MAX ||
	    (r = es_buf_read_fd(&text, fd, EXCLUDE_MAX)) == 1) {
		es_error_set(err, ES_ELIMIT, EXCLUDE_REL, 0,
		    "file is over the %zu-byte limit", EXCLUDE_MAX);
		goto out;
	}
	if (r == -1) {
		es_error_set_sys(err, errno, EXCLUDE_REL, "cannot read");
		goto out;
	}
	if (!exclude_has_line(text.buf, text.len)) {
		/* Keep the earlier last line a line of its own. */
		const char *add = (text.len > 0 &&
		    text.buf[text.len - 1] != '\n') ?
		    "\n" EXCLUDE_LINE "\n" : EXCLUDE_LINE "\n";

		if (es_write_all(fd, add, strlen(add)) == -1) {
			es_error_set_sys(err, errno, EXCLUDE_REL,
			    "cannot write");
			goto out;
		}
	}
	ret = 0;
out:
	es_buf_release(&text);
	if (fd != -1)
		close(fd);	/* also drops the lock */
	if (infofd != -1)
		close(infofd);
	if (gitfd != -1)
		close(gitfd);
	return ret;
}

/*
 * The path SQLite opens: the folder's real path, read back from the
 * descriptor we just opened without following links. SQLITE_OPEN_NOFOLLOW
 * refuses a symbolic link in any component of the name, so a root reached
 * through a link (~/exec -> ~/sync/exec) would otherwise be refused, and a
 * .execsync swapped for a link after our check is still refused.
 */
static char *
db_path(const char *root, int dirfd, struct es_error *err)
{
	char proc[64], real[PATH_MAX];
	char *r, *p;
	ssize_t n;
	int e;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	n = readlink(proc, real, sizeof(real));
	if (n > 0 && (size_t)n < sizeof(real) && real[0] == '/') {
		real[n] = '\0';
		return es_xasprintf("%s/baseline.sqlite",
		    strcmp(real, "/") == 0 ? "" : real);
	}
	/* No /proc: resolve the root instead. */
	if ((r = realpath(root, NULL)) == NULL) {
		e = errno;
		es_error_set_sys(err, e, root, "cannot resolve root");
		return NULL;
	}
	p = es_xasprintf("%s/%s", strcmp(r, "/") == 0 ? "" : r,
	    ES_BASELINE_FILE);
	free(r);
	return p;
}

/*
 * Everything es_baseline_open_root() does before SQLite opens the file:
 * the root is an absolute path to a folder; .execsync is made (0700) and
 * opened without following a link; .git/info/exclude names it; the path
 * SQLite is to open is read back from the folder's descriptor.
 */
char *
es__state_dir_prepare(const char *root, struct es_error *err)
{
	char *path = NULL;
	int rootfd = -1, dirfd = -1;

	if (root == NULL || root[0] != '/') {
		es_error_set(err, ES_EIO, root, 0,
		    "root is not an absolute path");
		goto out;
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd == -1) {
		es_error_set_sys(err, errno, root, "cannot open root");
		goto out;
	}
	if ((dirfd = es_baseline_state_dir_open(rootfd, err)) == -1)
		goto out;
	if (git_exclude(rootfd, err) == -1)
		goto out;
	path = db_path(root, dirfd, err);
out:
	if (dirfd != -1)
		close(dirfd);
	if (rootfd != -1)
		close(rootfd);
	return path;
}
