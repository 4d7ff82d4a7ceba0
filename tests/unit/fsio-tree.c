/* The fsio tests' folder trees: see fsio-tree.h. */
#include "fsio-tree.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "es-test.h"

void
tree_init(struct tree *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/es-fsio-XXXXXX");
	snprintf(t->outside, sizeof(t->outside), "/tmp/es-fsio-out-XXXXXX");
	if (mkdtemp(t->root) == NULL || mkdtemp(t->outside) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	t->fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
	umask(022);
	es__fsio_no_openat2 = false;
	es__fsio_no_exchange = false;
	es__fsio_hook = NULL;
	es__fsio_hook_arg = NULL;
	for (int op = 0; op < ES_FSIO_OP_COUNT; op++)
		es__fsio_fail_after((enum es_fsio_op)op, 0);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p) == -1 ? -1 : 0;
}

void
tree_release(struct tree *t)
{
	close(t->fd);
	nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	nftw(t->outside, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	es__fsio_no_openat2 = false;
	es__fsio_no_exchange = false;
	es__fsio_hook = NULL;
	for (int op = 0; op < ES_FSIO_OP_COUNT; op++)
		es__fsio_fail_after((enum es_fsio_op)op, 0);
}

void
path_of(char *out, size_t size, const char *base, const char *rel)
{
	int n = snprintf(out, size, "%s/%s", base, rel);

	assert_true(n > 0 && (size_t)n < size);
}

void
mkdirs(const char *base, const char *rel)
{
	char p[PATH_MAX];
	size_t n = strlen(base);

	assert_true(n + 1 + strlen(rel) < sizeof(p));
	memcpy(p, base, n);
	p[n++] = '/';
	for (const char *s = rel; *s != '\0'; s++) {
		if (*s == '/') {
			p[n] = '\0';
			if (mkdir(p, 0755) == -1 && errno != EEXIST)
				fail_msg("mkdir %s: %s", p, strerror(errno));
		}
		p[n++] = *s;
	}
}

void
put(const char *base, const char *rel, const void *data, size_t len,
    mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	mkdirs(base, rel);
	path_of(p, sizeof(p), base, rel);
	/* In place when it exists: same inode, as an editor saving in place. */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (fd == -1)
		fail_msg("open %s: %s", p, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

void
put_str(const char *base, const char *rel, const char *s)
{
	put(base, rel, s, strlen(s), 0644);
}

void
link_to(const char *base, const char *rel, const char *target)
{
	char p[PATH_MAX];

	mkdirs(base, rel);
	path_of(p, sizeof(p), base, rel);
	if (symlink(target, p) == -1)
		fail_msg("symlink %s: %s", p, strerror(errno));
}

/* The bytes of base/rel (malloc'd, NUL added), or NULL when absent. */
char *
slurp(const char *base, const char *rel, size_t *len)
{
	char p[PATH_MAX];
	struct stat sb;
	char *buf;
	ssize_t r;
	int fd;

	path_of(p, sizeof(p), base, rel);
	if ((fd = open(p, O_RDONLY | O_NOFOLLOW)) == -1) {
		assert_int_equal(errno, ENOENT);
		*len = 0;
		return NULL;
	}
	assert_int_equal(fstat(fd, &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	r = read(fd, buf, (size_t)sb.st_size + 1);
	assert_int_equal(r, sb.st_size);
	buf[r] = '\0';
	close(fd);
	*len = (size_t)r;
	return buf;
}

void
assert_file(const char *base, const char *rel, const void *want, size_t n)
{
	size_t len;
	char *got = slurp(base, rel, &len);

	if (got == NULL)
		fail_msg("%s: absent", rel);
	assert_bytes_equal(got, len, want, n);
	free(got);
}

void
assert_absent(const char *base, const char *rel)
{
	char p[PATH_MAX];
	struct stat sb;

	path_of(p, sizeof(p), base, rel);
	if (lstat(p, &sb) == 0)
		fail_msg("%s: exists, want absent", rel);
	assert_int_equal(errno, ENOENT);
}

mode_t
mode_of(const char *base, const char *rel)
{
	char p[PATH_MAX];
	struct stat sb;

	path_of(p, sizeof(p), base, rel);
	assert_int_equal(lstat(p, &sb), 0);
	return sb.st_mode;
}

ino_t
ino_of(const char *base, const char *rel)
{
	char p[PATH_MAX];
	struct stat sb;

	path_of(p, sizeof(p), base, rel);
	assert_int_equal(lstat(p, &sb), 0);
	return sb.st_ino;
}

static int ntemps;

static int
count_temp(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	if (strstr(p + ftw->base, ".execsync-") != NULL)
		ntemps++;
	return 0;
}

/* No ".<name>.execsync-XXXXXX" anywhere under base. */
void
assert_no_temp(const char *base)
{
	ntemps = 0;
	assert_int_equal(nftw(base, count_temp, 16, FTW_PHYS), 0);
	assert_int_equal(ntemps, 0);
}

int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Deterministic bytes with plenty of NULs and CRs. */
char *
make_bytes(size_t n, unsigned seed)
{
	char *b = malloc(n ? n : 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (char)(seed >> 16);
		if (i % 97 == 0)
			b[i] = '\0';
	}
	return b;
}

/* es__fsio_hook: another writer, between our write and rename. */
void
edit_now(enum es_fsio_point at, void *arg)
{
	struct edit *e = arg;
	char p[PATH_MAX];
	size_t n = strlen(e->text);
	int fd;

	if (at != e->at || ++e->calls > e->max)
		return;
	path_of(p, sizeof(p), e->root, e->rel);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, e->text, n), (ssize_t)n);
	close(fd);
}
