/*
 * Three-way merge of bodies on libgit2's git_merge_file() (SPEC 4.3).
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <git2.h>

#include "execsync/merge.h"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static int git_init_rc;

/*
 * git_libgit2_init() is refcounted and never undone here: the library's
 * global state (a few allocations) lives as long as the process, which is
 * cheaper than initialising and shutting down around every merge.
 */
static void
git_init(void)
{
	git_init_rc = git_libgit2_init();
}

static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

int
es_merge3(const char *base, size_t base_len, const char *ours,
    size_t ours_len, const char *theirs, size_t theirs_len,
    struct es_buf *out)
{
	git_merge_file_input in_base, in_ours, in_theirs;
	git_merge_file_options opts;
	git_merge_file_result res;
	int rc = -1;

	/*
	 * The trivial cases are answered here, byte for byte, so that they
	 * never depend on how xdiff treats a missing final newline or a NUL.
	 */
	if (same(ours, ours_len, theirs, theirs_len) ||
	    same(base, base_len, theirs, theirs_len)) {
		es_buf_add(out, ours ? ours : "", ours_len);
		return 0;
	}
	if (same(base, base_len, ours, ours_len)) {
		es_buf_add(out, theirs ? theirs : "", theirs_len);
		return 0;
	}

	pthread_once(&git_once, git_init);
	if (git_init_rc < 0)
		return -1;

	memset(&res, 0, sizeof(res));
	if (git_merge_file_input_init(&in_base,
	    GIT_MERGE_FILE_INPUT_VERSION) != 0 ||
	    git_merge_file_input_init(&in_ours,
	    GIT_MERGE_FILE_INPUT_VERSION) != 0 ||
	    git_merge_file_input_init(&in_theirs,
	    GIT_MERGE_FILE_INPUT_VERSION) != 0 ||
	    git_merge_file_options_init(&opts,
	    GIT_MERGE_FILE_OPTIONS_VERSION) != 0)
		goto out;
	in_base.ptr = base ? base : "";
	in_base.size = base_len;
	in_ours.ptr = ours ? ours : "";
	in_ours.size = ours_len;
	in_theirs.ptr = theirs ? theirs : "";
	in_theirs.size = theirs_len;
	/* Default favour (none): overlapping hunks stay a conflict. */
	opts.favor = GIT_MERGE_FILE_FAVOR_NORMAL;
	opts.flags = GIT_MERGE_FILE_DEFAULT;

	if (git_merge_file(&res, &in_base, &in_ours, &in_theirs, &opts) != 0)
		goto out;
	if (!res.automergeable) {
		rc = 1;
		goto out;
	}
	es_buf_add(out, res.ptr ? res.ptr : "", res.len);
	rc = 0;
out:
	git_merge_file_result_free(&res);
	return rc;
}
