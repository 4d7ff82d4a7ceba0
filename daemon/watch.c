/*
 * The file watcher (watch.h): libinotifytools under the libuv loop.
 *
 * libinotifytools 3.22.6 reads the events (inotifytools_next_events(0, 1):
 * never blocks once the descriptor is readable; a larger count spins in
 * its FIONREAD loop until that many bytes are queued) and owns the inotify
 * descriptor, which it does not expose: it is the /proc/self/fd entry
 * linked to "anon_inode:inotify" that appeared across
 * inotifytools_initialize(). Watches are added with inotify_add_watch(2)
 * on that descriptor and tracked here (wd -> relative folder), not in the
 * library's trees: those keep a record after its folder is deleted (they
 * ignore IN_IGNORED), lose or leak a record when an inode is watched twice
 * (same wd) and cannot remove a subtree; the library is only asked for
 * events, which it returns whether or not it knows the wd.
 *
 * Delivery: each path has a deadline (its last event + debounce). The
 * batch goes out when the whole watcher has been quiet for the debounce
 * (so a burst is one batch), or, under events that never stop, 10
 * debounces after the oldest pending path, with the paths already due.
 */
#include <sys/inotify.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <inotifytools/inotifytools.h>

#include "execsync/layout.h"
#include "execsync/xmalloc.h"

#include "watch.h"

#define DEFAULT_DEBOUNCE_MS	100
#define CAP_DEBOUNCES		10	/* the longest wait, in debounces */
#define DRAIN_MAX		8192	/* events per loop iteration */

#define DIR_MASK	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |	\
			 IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |	\
			 IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)
#define ROOT_MASK	(IN_CREATE | IN_DELETE | IN_MOVED_FROM |	\
			 IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |	\
			 IN_ONLYDIR)

struct wdir {
	int	 wd;
	char	*rel;		/* "" for the root */
};

struct pend {
	char		*rel;	/* NULL: a free slot */
	uint64_t	 due;	/* loop time, ms */
};

struct half {			/* an IN_MOVED_FROM waiting for its pair */
	uint32_t	 cookie;
	char		*rel;
	bool		 dir;
	uint64_t	 due;
};

struct es_watch {
	uv_loop_t	*loop;
	char		*root;
	unsigned	 debounce_ms;
	char		**ignore;	/* NULL-terminated copy, or NULL */
	es_watch_cb	 cb;
	void		*ud;

	int		 fd;		/* libinotifytools' descriptor */
	uv_poll_t	 poll;
	uv_timer_t	 timer;
	uv_idle_t	 idle;		/* drains on when DRAIN_MAX was hit */
	int		 closing;	/* handles not yet closed */

	struct wdir	*dirs;		/* sorted by wd */
	size_t		 ndirs, dircap;

	struct pend	*pend;		/* open addressing, power of 2 */
	size_t		 npend, pendcap;
	unsigned	 flags;		/* of the next batch */
	bool		 waiting;	/* paths or flags to deliver */
	uint64_t	 quiet_due;	/* last event + debounce */
	uint64_t	 oldest;	/* first event of the next batch */

	struct half	*halves;
	size_t		 nhalves, halfcap;

	unsigned long	 events, overflows;
};

static bool in_use;	/* libinotifytools has one global instance */

static void	arm(struct es_watch *);
static void	on_idle(uv_idle_t *);

/* Folders by wd. */

static size_t
dir_find(const struct es_watch *w, int wd, bool *found)
{
	size_t lo = 0, hi = w->ndirs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->dirs[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < w->ndirs && w->dirs[lo].wd == wd;
	return lo;
}

static void
dir_put(struct es_watch *w, int wd, const char *rel)
{
	bool found;
	size_t i = dir_find(w, wd, &found);

	if (found) {		/* the same inode again: its latest name */
		free(w->dirs[i].rel);
		w->dirs[i].rel = es_xstrdup(rel);
		return;
	}
	if (w->ndirs == w->dircap) {
		w->dircap = w->dircap ? w->dircap * 2 : 16;
		w->dirs = es_xreallocarray(w->dirs, w->dircap,
		    sizeof(*w->dirs));
	}
	memmove(&w->dirs[i + 1], &w->dirs[i],
	    (w->ndirs - i) * sizeof(*w->dirs));
	w->dirs[i].wd = wd;
	w->dirs[i].rel = es_xstrdup(rel);
	w->ndirs++;
}

static void
dir_drop_at(struct es_watch *w, size_t i)
{
	free(w->dirs[i].rel);
	memmove(&w->dirs[i], &w->dirs[i + 1],
	    (w->ndirs - i - 1) * sizeof(*w->dirs));
	w->ndirs--;
}

/* rel is prefix itself or lies beneath it. */
static bool
is_under(const char *rel, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(rel, prefix, n) == 0 &&
	    (rel[n] == '\0' || rel[n] == '/');
}

/* Stops watching prefix and every folder beneath it. */
static void
drop_tree(struct es_watch *w, const char *prefix)
{
	size_t i = 0;

	while (i < w->ndirs) {
		if (is_under(w->dirs[i].rel, prefix)) {
			/* Gone already (EINVAL) when the folder was deleted. */
			(void)inotify_rm_watch(w->fd, w->dirs[i].wd);
			dir_drop_at(w, i);
		} else
			i++;
	}
}

/* The folders under from are now under to; returns how many. */
static size_t
rename_tree(struct es_watch *w, const char *from, const char *to)
{
	size_t n = strlen(from), moved = 0;

	for (size_t i = 0; i < w->ndirs; i++) {
		char *rel = w->dirs[i].rel;

		if (!is_under(rel, from))
			continue;
		w->dirs[i].rel = es_xasprintf("%s%s", to, rel + n);
		free(rel);
		moved++;
	}
	return moved;
}

/* Pending paths: a set of strings with a deadline each. */

static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static void
pend_insert(struct pend *t, size_t cap, char *rel, uint64_t due)
{
	size_t i = hash(rel) & (cap - 1);

	while (t[i].rel != NULL)
		i = (i + 1) & (cap - 1);
	t[i].rel = rel;
	t[i].due = due;
}

static void
pend_grow(struct es_watch *w)
{
	size_t cap = w->pendcap ? w->pendcap * 2 : 64;
	struct pend *t = es_xcalloc(cap, sizeof(*t));

	for (size_t i = 0; i < w->pendcap; i++)
		if (w->pend[i].rel != NULL)
			pend_insert(t, cap, w->pend[i].rel, w->pend[i].due);
	free(w->pend);
	w->pend = t;
	w->pendcap = cap;
}

/* Something for the next batch happened now. */
static void
touch(struct es_watch *w, uint64_t now)
{
	if (!w->waiting) {
		w->waiting = true;
		w->oldest = now;
	}
	w->quiet_due = now + w->debounce_ms;
}

static void
pend_add(struct es_watch *w, const char *rel)
{
	uint64_t now = uv_now(w->loop);
	size_t i;

	touch(w, now);
	if (w->pendcap != 0) {
		i = hash(rel) & (w->pendcap - 1);
		for (; w->pend[i].rel != NULL; i = (i + 1) & (w->pendcap - 1))
			if (strcmp(w->pend[i].rel, rel) == 0) {
				w->pend[i].due = now + w->debounce_ms;
				return;
			}
	}
	if ((w->npend + 1) * 2 > w->pendcap)
		pend_grow(w);
	pend_insert(w->pend, w->pendcap, es_xstrdup(rel),
	    now + w->debounce_ms);
	w->npend++;
}

static void
flag(struct es_watch *w, unsigned f)
{
	touch(w, uv_now(w->loop));
	w->flags |= f;
}

/* Adding watches. */

static bool
is_top(const char *name)
{
	return strcmp(name, ES_DIR_ACTIONS) == 0 ||
	    strcmp(name, ES_DIR_PROJECTS) == 0 ||
	    strcmp(name, ES_DIR_GOALS) == 0;
}

static char *
join(const char *dir, const char *name)
{
	return *dir == '\0' ? es_xstrdup(name) :
	    es_xasprintf("%s/%s", dir, name);
}

/*
 * Watches the folder rel, then lists it: its folders the scan would enter
 * are added the same way, and with report its synced files and folders are
 * pending (they may have been written before the watch). Returns -1 at the
 * watch limit (the batch then carries ES_WATCH_RESCAN), else 0: a folder
 * that vanished or cannot be read is left to the scan.
 */
static int
add_tree(struct es_watch *w, const char *rel, bool report)
{
	char *abs = es_xasprintf("%s/%s", w->root, rel);
	DIR *d;
	struct dirent *de;
	int wd, dfd, rc = 0;

	wd = inotify_add_watch(w->fd, abs, DIR_MASK);
	if (wd == -1) {
		int sys = errno;

		free(abs);
		if (sys == ENOSPC) {
			flag(w, ES_WATCH_RESCAN);
			return -1;
		}
		return 0;
	}
	dir_put(w, wd, rel);
	dfd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(abs);
	if (dfd == -1 || (d = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		return 0;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		unsigned char type = de->d_type;
		struct stat st;
		char *crel;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (type == DT_UNKNOWN) {
			if (fstatat(dfd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		crel = join(rel, de->d_name);
		if (type == DT_DIR) {
			if (es_layout_descend(crel,
			    (const char *const *)w->ignore)) {
				if (report)
					pend_add(w, crel);
				rc = add_tree(w, crel, report);
			}
		} else if (report && es_layout_classify(crel,
		    (const char *const *)w->ignore, NULL) == 1)
			pend_add(w, crel);
		free(crel);
	}
	closedir(d);
	return rc;
}

/* The root and the top folders there are now. */
static int
add_all(struct es_watch *w)
{
	static const char *const tops[] = {
		ES_DIR_ACTIONS, ES_DIR_PROJECTS, ES_DIR_GOALS
	};
	int wd;

	wd = inotify_add_watch(w->fd, w->root, ROOT_MASK);
	if (wd == -1) {
		if (errno == ENOSPC) {
			flag(w, ES_WATCH_RESCAN);
			return -1;
		}
		return 0;	/* no root: the daemon checks it */
	}
	dir_put(w, wd, "");
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		if (add_tree(w, tops[i], false) == -1)
			return -1;
	return 0;
}

/* Events. */

static struct half *
half_take(struct es_watch *w, uint32_t cookie, struct half *out)
{
	for (size_t i = 0; i < w->nhalves; i++) {
		if (w->halves[i].cookie != cookie)
			continue;
		*out = w->halves[i];
		w->halves[i] = w->halves[--w->nhalves];
		return out;
	}
	return NULL;
}

static void
half_add(struct es_watch *w, uint32_t cookie, const char *rel, bool dir)
{
	if (w->nhalves == w->halfcap) {
		w->halfcap = w->halfcap ? w->halfcap * 2 : 8;
		w->halves = es_xreallocarray(w->halves, w->halfcap,
		    sizeof(*w->halves));
	}
	w->halves[w->nhalves].cookie = cookie;
	w->halves[w->nhalves].rel = es_xstrdup(rel);
	w->halves[w->nhalves].dir = dir;
	w->halves[w->nhalves].due = uv_now(w->loop) + w->debounce_ms;
	w->nhalves++;
}

/* An event about name in the root: only the top folders matter. */
static void
root_event(struct es_watch *w, uint32_t mask, const char *name)
{
	if (!is_top(name))
		return;
	flag(w, ES_WATCH_ROOT);
	pend_add(w, name);
	if (mask & (IN_DELETE | IN_MOVED_FROM))
		drop_tree(w, name);
	else if ((mask & (IN_CREATE | IN_MOVED_TO)) && (mask & IN_ISDIR)) {
		drop_tree(w, name);
		(void)add_tree(w, name, true);
	}
}

static void
folder_moved_in(struct es_watch *w, uint32_t cookie, const char *rel)
{
	const char *const *ign = (const char *const *)w->ignore;
	struct half h;
	bool keep = es_layout_descend(rel, ign);

	if (half_take(w, cookie, &h) != NULL) {
		/* Moved inside the tree: its watches follow it. */
		if (!keep)
			drop_tree(w, h.rel);
		else if (rename_tree(w, h.rel, rel) == 0)
			(void)add_tree(w, rel, true);
		free(h.rel);
	} else if (keep)
		(void)add_tree(w, rel, true);
	if (keep)
		pend_add(w, rel);
}

static void
handle(struct es_watch *w, const struct inotify_event *ev)
{
	const char *const *ign = (const char *const *)w->ignore;
	bool found, isdir = (ev->mask & IN_ISDIR) != 0;
	size_t i;
	char *rel;
	const char *dir;

	w->events++;
	if (ev->mask & IN_Q_OVERFLOW) {
		w->overflows++;
		flag(w, ES_WATCH_RESCAN);
		return;
	}
	i = dir_find(w, ev->wd, &found);
	if (!found)		/* a watch dropped since */
		return;
	if (ev->mask & IN_IGNORED) {
		dir_drop_at(w, i);
		return;
	}
	dir = w->dirs[i].rel;
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
		if (*dir == '\0' || is_top(dir))
			flag(w, ES_WATCH_ROOT);
		if (ev->mask & IN_UNMOUNT)
			flag(w, ES_WATCH_RESCAN);
		return;
	}
	if (ev->len == 0 || ev->name[0] == '\0')
		return;
	if (*dir == '\0') {
		root_event(w, ev->mask, ev->name);
		return;
	}
	rel = join(dir, ev->name);
	if (isdir) {
		if (ev->mask & IN_MOVED_FROM) {
			/* Its files left with it, unseen: a full pass. */
			flag(w, ES_WATCH_RESCAN);
			half_add(w, ev->cookie, rel, true);
			if (es_layout_descend(rel, ign))
				pend_add(w, rel);
		} else if (ev->mask & IN_MOVED_TO)
			folder_moved_in(w, ev->cookie, rel);
		else if (es_layout_descend(rel, ign)) {
			if (ev->mask & IN_CREATE)
				(void)add_tree(w, rel, true);
			pend_add(w, rel);
		}
	} else {
		struct half h;

		if ((ev->mask & IN_MOVED_TO) && half_take(w, ev->cookie,
		    &h) != NULL)
			free(h.rel);
		if (es_layout_classify(rel, ign, NULL) == 1)
			pend_add(w, rel);
	}
	free(rel);
}

static void
drain(struct es_watch *w)
{
	struct inotify_event *ev;
	int n;

	uv_update_time(w->loop);
	for (n = 0; n < DRAIN_MAX; n++) {
		if ((ev = inotifytools_next_events(0, 1)) == NULL)
			break;
		handle(w, ev);
	}
	/* Events the library holds in its buffer never wake the poll. */
	if (n == DRAIN_MAX)
		uv_idle_start(&w->idle, on_idle);
	arm(w);
}

static void
on_idle(uv_idle_t *h)
{
	struct es_watch *w = h->data;

	uv_idle_stop(h);
	drain(w);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	drain(h->data);
}

/* Delivery. */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sends the paths due by until (all of them: UINT64_MAX) and the flags. */
static void
deliver(struct es_watch *w, uint64_t until)
{
	struct pend *keep = NULL;
	char **rels = es_xreallocarray(NULL, w->npend + 1, sizeof(*rels));
	size_t n = 0, left = 0, cap = w->pendcap;
	unsigned flags = w->flags;

	if (cap != 0)
		keep = es_xcalloc(cap, sizeof(*keep));
	for (size_t i = 0; i < w->pendcap; i++) {
		struct pend *p = &w->pend[i];

		if (p->rel == NULL)
			continue;
		if (p->due <= until)
			rels[n++] = p->rel;
		else {
			pend_insert(keep, cap, p->rel, p->due);
			left++;
		}
	}
	free(w->pend);
	w->pend = keep;
	w->npend = left;
	w->flags = 0;
	w->waiting = left != 0;
	if (left != 0) {
		w->oldest = uv_now(w->loop);
		w->quiet_due = 0;
		for (size_t i = 0; i < cap; i++)
			if (keep[i].rel != NULL && keep[i].due > w->quiet_due)
				w->quiet_due = keep[i].due;
	}
	qsort(rels, n, sizeof(*rels), cmp_str);
	if (n != 0 || flags != 0)
		w->cb(w, (const char *const *)rels, n, flags, w->ud);
	for (size_t i = 0; i < n; i++)
		free(rels[i]);
	free(rels);
}

static void
on_timer(uv_timer_t *t)
{
	struct es_watch *w = t->data;
	uint64_t now = uv_now(w->loop);
	size_t i = 0;

	while (i < w->nhalves) {
		struct half *h = &w->halves[i];

		if (h->due > now) {
			i++;
			continue;
		}
		/* Moved out of the tree: stop following it. */
		if (h->dir)
			drop_tree(w, h->rel);
		free(h->rel);
		*h = w->halves[--w->nhalves];
	}
	if (w->waiting) {
		if (now >= w->quiet_due)
			deliver(w, UINT64_MAX);
		else if (now >= w->oldest +
		    (uint64_t)w->debounce_ms * CAP_DEBOUNCES)
			deliver(w, now);
	}
	arm(w);
}

/* The timer to the next thing due: a batch or a move's lone half. */
static void
arm(struct es_watch *w)
{
	uint64_t next = UINT64_MAX, now = uv_now(w->loop);

	if (w->closing)
		return;
	if (w->waiting) {
		next = w->quiet_due;
		if (w->oldest + (uint64_t)w->debounce_ms * CAP_DEBOUNCES < next)
			next = w->oldest +
			    (uint64_t)w->debounce_ms * CAP_DEBOUNCES;
	}
	for (size_t i = 0; i < w->nhalves; i++)
		if (w->halves[i].due < next)
			next = w->halves[i].due;
	if (next == UINT64_MAX) {
		uv_timer_stop(&w->timer);
		return;
	}
	uv_timer_start(&w->timer, on_timer, next > now ? next - now : 0, 0);
}

/* Set-up and tear-down. */

/* The inotify descriptors open now; the caller frees *fds. */
static size_t
inotify_fds(int **fds)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0, cap = 0;

	*fds = NULL;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[64], link[64];
		ssize_t len;
		long fd;
		char *end;

		fd = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || fd < 0 ||
		    fd > INT_MAX || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%ld", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, "anon_inode:inotify") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			*fds = es_xreallocarray(*fds, cap, sizeof(**fds));
		}
		(*fds)[n++] = (int)fd;
	}
	closedir(d);
	return n;
}

/*
 * inotifytools_initialize(), and the descriptor it opened: the one inotify
 * descriptor that was not there before. -1 with err.
 */
static int
init_inotify(struct es_error *err)
{
	int *before, *after, fd = -1;
	size_t nb, na;

	nb = inotify_fds(&before);
	if (!inotifytools_initialize()) {
		int sys = inotifytools_error();

		free(before);
		return es_error_set_sys(err, sys, NULL,
		    "cannot start inotify");
	}
	na = inotify_fds(&after);
	for (size_t i = 0; i < na && fd != -2; i++) {
		size_t j = 0;

		while (j < nb && before[j] != after[i])
			j++;
		if (j < nb)
			continue;
		fd = fd == -1 ? after[i] : -2;	/* -2: not one */
	}
	free(before);
	free(after);
	if (fd < 0) {
		inotifytools_cleanup();
		return es_error_set(err, ES_EIO, NULL, 0, "cannot find the "
		    "inotify descriptor of libinotifytools in /proc/self/fd");
	}
	if (fd >= FD_SETSIZE) {
		/* The library select()s on it: FD_SET() would overflow. */
		inotifytools_cleanup();
		return es_error_set(err, ES_EIO, NULL, 0, "inotify "
		    "descriptor %d over FD_SETSIZE: start the watcher "
		    "before opening many files", fd);
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

struct es_watch *
es_watch_new(uv_loop_t *loop, const struct es_watch_opts *o,
    struct es_error *err)
{
	struct es_watch *w;
	size_t n = 0;
	int fd;

	if (in_use) {
		es_error_set(err, ES_EBUSY, NULL, 0,
		    "a file watcher already runs in this process");
		return NULL;
	}
	if ((fd = init_inotify(err)) == -1)
		return NULL;
	in_use = true;
	w = es_xcalloc(1, sizeof(*w));
	w->loop = loop;
	w->root = es_xstrdup(o->root);
	w->debounce_ms = o->debounce_ms ? o->debounce_ms : DEFAULT_DEBOUNCE_MS;
	if (o->ignore != NULL) {
		while (o->ignore[n] != NULL)
			n++;
		w->ignore = es_xcalloc(n + 1, sizeof(*w->ignore));
		for (size_t i = 0; i < n; i++)
			w->ignore[i] = es_xstrdup(o->ignore[i]);
	}
	w->cb = o->cb;
	w->ud = o->ud;
	w->fd = fd;
	uv_poll_init(loop, &w->poll, fd);
	uv_timer_init(loop, &w->timer);
	uv_idle_init(loop, &w->idle);
	w->poll.data = w->timer.data = w->idle.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_poll);
	(void)add_all(w);
	arm(w);
	return w;
}

int
es_watch_rewatch(struct es_watch *w, struct es_error *err)
{
	while (w->ndirs > 0) {
		(void)inotify_rm_watch(w->fd, w->dirs[w->ndirs - 1].wd);
		dir_drop_at(w, w->ndirs - 1);
	}
	for (size_t i = 0; i < w->nhalves; i++)
		free(w->halves[i].rel);
	w->nhalves = 0;
	if (add_all(w) == -1) {
		arm(w);
		return es_error_set(err, ES_ELIMIT, NULL, 0,
		    "cannot watch every folder: the inotify watch limit "
		    "(fs.inotify.max_user_watches) is reached");
	}
	arm(w);
	return 0;
}

size_t
es_watch_count(const struct es_watch *w)
{
	return w->ndirs;
}

unsigned long
es_watch_events(const struct es_watch *w)
{
	return w->events;
}

unsigned long
es_watch_overflows(const struct es_watch *w)
{
	return w->overflows;
}

static void
on_close(uv_handle_t *h)
{
	struct es_watch *w = h->data;

	if (--w->closing == 0)
		free(w);
}

void
es_watch_free(struct es_watch *w)
{
	if (w == NULL)
		return;
	uv_poll_stop(&w->poll);
	/*
	 * Events left in the library's static buffer would come out of the
	 * next instance's first read: with no watch left (nothing new can
	 * come but IN_IGNORED), read them out.
	 */
	for (size_t i = 0; i < w->ndirs; i++)
		(void)inotify_rm_watch(w->fd, w->dirs[i].wd);
	while (inotifytools_next_events(0, 1) != NULL)
		;
	inotifytools_cleanup();
	in_use = false;
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].rel);
	free(w->dirs);
	for (size_t i = 0; i < w->pendcap; i++)
		free(w->pend[i].rel);
	free(w->pend);
	for (size_t i = 0; i < w->nhalves; i++)
		free(w->halves[i].rel);
	free(w->halves);
	if (w->ignore != NULL)
		for (size_t i = 0; w->ignore[i] != NULL; i++)
			free(w->ignore[i]);
	free(w->ignore);
	free(w->root);
	w->closing = 3;
	uv_close((uv_handle_t *)&w->poll, on_close);
	uv_close((uv_handle_t *)&w->timer, on_close);
	uv_close((uv_handle_t *)&w->idle, on_close);
}

long
es_watch_max_queued_events(void)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "re");
	long v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
