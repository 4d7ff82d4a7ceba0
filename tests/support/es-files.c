/* Files under a folder, for the unit tests: see es-files.h. */
#include "es-files.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "es-test.h"

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
