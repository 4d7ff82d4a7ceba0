/* es_buf_read_fd(): the one bounded read-to-EOF loop (scan, fsio). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "es-test.h"

#include "execsync/buf.h"

/* A pipe holding len bytes of s, its write end closed: EOF after them. */
static int
pipe_with(const char *s, size_t len)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], s, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

static void
test_buf_read_fd_table(void **state)
{
	static const struct {
		const char	*in;
		size_t		 max;
		int		 rc;
		size_t		 len;	/* bytes appended */
	} cases[] = {
		{ "", 10, 0, 0 },
		{ "0123456789", 10, 0, 10 },		/* exactly max */
		{ "0123456789", 100, 0, 10 },
		{ "0123456789", 9, 1, 10 },		/* max + 1: too big */
		{ "0123456789", 3, 1, 4 },		/* stops at max + 1 */
		{ "0123456789", 0, 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_buf b = ES_BUF_INIT;
		int fd = pipe_with(cases[i].in, strlen(cases[i].in));

		es_buf_addstr(&b, "kept:");	/* appends after it */
		assert_int_equal(es_buf_read_fd(&b, fd, cases[i].max),
		    cases[i].rc);
		assert_int_equal(b.len, 5 + cases[i].len);
		assert_memory_equal(b.buf, "kept:", 5);
		assert_memory_equal(b.buf + 5, cases[i].in, cases[i].len);
		assert_int_equal(b.buf[b.len], '\0');
		close(fd);
		es_buf_release(&b);
	}
}

static void
test_buf_read_fd_error(void **state)
{
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	assert_int_equal(es_buf_read_fd(&b, -1, 10), -1);
	assert_int_equal(errno, EBADF);
	es_buf_release(&b);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_buf_read_fd_table),
	cmocka_unit_test(test_buf_read_fd_error),
};

ES_TEST_MAIN(tests)
