/*
 * SPEC 4.16: tell whether a git operation is under way in the root, from the
 * marker files git itself leaves while one runs.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "execsync/gitstate.h"

/* A .git file is one line; more is not a gitdir file. */
#define GITFILE_MAX	4096
/* Folders climbed looking for .git; deeper trees are not worth the calls. */
#define UP_MAX		64

/* In the order of the header's list: the common, short-lived ones first. */
static const char *const markers[] = {
	"index.lock",
	"rebase-merge",
	"rebase-apply",
	"MERGE_HEAD",
	"CHERRY_PICK_HEAD",
	"REVERT_HEAD",
	"sequencer",
	"BISECT_LOG",
};

/*
 * The folder named by a .git file ("gitdir: <path>\n", as git writes it in
 * worktrees and submodules), opened relative to dfd, the folder holding
 * that .git file. Returns a descriptor or -1.
 */
static int
open_gitfile_dir(int dfd)
{
	char buf[GITFILE_MAX + 1];
	char *p, *end;
	ssize_t r;
	size_t len = 0;
	int fd, gfd = -1;

	fd = openat(dfd, ".git", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	while (len < sizeof(buf) - 1) {
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (len == 0 || len >= sizeof(buf) - 1 ||
	    memchr(buf, '\0', len) != NULL ||
	    strncmp(buf, "gitdir: ", 8) != 0)
		goto out;
	p = buf + 8;
	end = p + strcspn(p, "\r\n");
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == p)
		goto out;
	*end = '\0';
	gfd = openat(dfd, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
out:
	close(fd);
	return gfd;
}

/*
 * The git folder of the repository at dfd: .git as a folder (followed
 * when a link), or the folder a .git file names. *present says whether
 * dfd has a .git at all, usable or not. Returns a descriptor or -1.
 */
static int
open_gitdir(int dfd, bool *present)
{
	struct stat sb;
	int gfd;

	*present = true;
	gfd = openat(dfd, ".git", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (gfd != -1)
		return gfd;
	if (fstatat(dfd, ".git", &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		*present = false;
		return -1;
	}
	return S_ISREG(sb.st_mode) ? open_gitfile_dir(dfd) : -1;
}

/*
 * Finds the repository as git does: the root's .git, else its parents'
 * (the root may be a folder inside the repository), stopping at the first
 * .git, at the top of the file system and, as git does unless told
 * otherwise (GIT_DISCOVERY_ACROSS_FILESYSTEM), at a mount point.
 */
static int
find_gitdir(int root_fd)
{
	struct stat cur, up;
	bool present;
	int fd = root_fd, next, gfd = -1, i;

	for (i = 0; i < UP_MAX; i++) {
		gfd = open_gitdir(fd, &present);
		if (present || fstat(fd, &cur) == -1)
			break;
		next = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (next == -1)
			break;
		if (fstat(next, &up) == -1 || up.st_dev != cur.st_dev ||
		    up.st_ino == cur.st_ino) {
			close(next);
			break;
		}
		if (fd != root_fd)
			close(fd);
		fd = next;
	}
	if (fd != root_fd)
		close(fd);
	return gfd;
}

bool
es_git_busy(int root_fd, const char **what)
{
	struct stat sb;
	size_t i;
	bool busy = false;
	int gfd;

	if (what != NULL)
		*what = NULL;
	if ((gfd = find_gitdir(root_fd)) == -1)
		return false;
	for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		/* Existence is all: a marker may be a file or a folder. */
		if (fstatat(gfd, markers[i], &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			if (what != NULL)
				*what = markers[i];
			busy = true;
			break;
		}
	}
	close(gfd);
	return busy;
}
