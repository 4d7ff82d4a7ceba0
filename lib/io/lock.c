/* The per-root process lock (see lock.h). */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/lock.h"
#include "execsync/xmalloc.h"

struct es_lock {
	int	 fd;
};

/* The PID in the lock file, or 0 when it holds none yet. */
static pid_t
read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;
	char *end;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 0 || (*end != '\n' && *end != '\0'))
		return 0;
	return (pid_t)pid;
}

enum es_lock_status
es_lock_take(int root_fd, struct es_lock **out, pid_t *holder,
    struct es_error *err)
{
	char pid[32];
	int dirfd, fd, e, n;

	*out = NULL;
	*holder = 0;
	if ((dirfd = es_baseline_state_dir_open(root_fd, err)) == -1)
		return ES_LOCK_ERROR;
	fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	e = errno;
	close(dirfd);
	if (fd == -1) {
		es_error_set_sys(err, e, ES_LOCK_FILE, "cannot open");
		return ES_LOCK_ERROR;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		e = errno;
		if (e == EWOULDBLOCK) {
			*holder = read_holder(fd);
			close(fd);
			return ES_LOCK_HELD;
		}
		close(fd);
		es_error_set_sys(err, e, ES_LOCK_FILE, "cannot lock");
		return ES_LOCK_ERROR;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		e = errno;
		close(fd);
		es_error_set_sys(err, e, ES_LOCK_FILE, "cannot write");
		return ES_LOCK_ERROR;
	}
	*out = es_xmalloc(sizeof(**out));
	(*out)->fd = fd;
	return ES_LOCK_TAKEN;
}

void
es_lock_release(struct es_lock *l)
{
	if (l == NULL)
		return;
	close(l->fd);	/* drops the flock */
	free(l);
}
