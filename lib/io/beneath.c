/* Opening beneath the root (see beneath.h). */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "beneath.h"


int
es__nofollow_errno(int dfd, const char *name, int e)
{
	struct stat sb;

	if ((e == ENOTDIR || e == ELOOP) &&
	    fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return S_ISLNK(sb.st_mode) ? ELOOP : e;
	return e;
}

int
es__openat2_beneath(int root_fd, const char *rel, int flags)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	if (!(flags & O_PATH))
		how.flags |= O_NOFOLLOW;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	return fd >= 0 ? (int)fd : -1;
}

void
es__stat_fill(struct es_stat *st, const struct stat *sb)
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
