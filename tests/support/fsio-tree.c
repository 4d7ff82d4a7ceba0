/* The fsio tests' folder trees: see fsio-tree.h. */
#include "fsio-tree.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "es-test.h"

/* fsio's test seams as a case starts: real calls, no hook, no faults. */
static void
reset_seams(void)
{
	es__fsio_no_openat2 = false;
	es__fsio_no_exchange = false;
	es__fsio_hook = NULL;
	es__fsio_hook_arg = NULL;
	for (int op = 0; op < ES_FSIO_OP_COUNT; op++)
		es__fsio_fail_after((enum es_fsio_op)op, 0);
}

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
	reset_seams();
}

void
tree_release(struct tree *t)
{
	close(t->fd);
	es_test_rm_tree(t->root);
	es_test_rm_tree(t->outside);
	reset_seams();
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
