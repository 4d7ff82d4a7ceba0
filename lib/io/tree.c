#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/entity-file.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

static void
add_error(struct es_tree *t, const struct es_error *e)
{
	if (t == NULL)
		return;
	t->errors = es_xreallocarray(t->errors, t->nerrors + 1,
	    sizeof(*t->errors));
	t->errors[t->nerrors++] = *e;
}

void
es_tree_load_file(int root_fd, const struct es_tree_opts *opts,
    struct es_tree_file *f, struct es_buf *buf, struct es_tree *t)
{
	struct es_error err;

	f->status = ES_TREE_FAILED;
	f->list = NULL;
	es_entity_init(&f->entity, f->info.kind == ES_KIND_GOAL ?
	    ES_KIND_GOAL : ES_KIND_PROJECT);
	es_buf_reset(buf);
	if (es_scan_read(root_fd, f->rel, opts->max_file_size, buf, &f->st,
	    &err) < 0) {
		add_error(t, &err);
		return;
	}
	es_tree_file_parse(f, buf->buf, buf->len, t);
}

void
es_tree_file_parse(struct es_tree_file *f, const char *data, size_t len,
    struct es_tree *t)
{
	struct es_error err;
	const char *ctx;
	int r;

	f->raw_fp = es_fp_bytes(data, len);
	if (t)
		t->bytes += len;
	if (f->info.kind == ES_KIND_ACTION) {
		ctx = f->info.context[0] ? f->info.context : NULL;
		f->list = es_action_list_parse(data, len, f->rel,
		    f->info.list, ctx);
		for (size_t i = 0; i < es_action_list_nerrors(f->list); i++)
			add_error(t, es_action_list_error(f->list, i));
		f->status = ES_TREE_OK;
		if (t) {
			t->nlists++;
			t->nactions += es_action_list_count(f->list);
		}
		return;
	}
	r = es_entity_file_parse(data, len, f->rel, f->info.kind,
	    f->info.folder, f->info.slug,
	    f->info.kind == ES_KIND_PROJECT ? f->info.area_dir : NULL,
	    &f->entity, &err);
	if (r < 0) {
		add_error(t, &err);
		return;
	}
	if (r == 1) {
		f->status = ES_TREE_NOT_SYNCED;
		return;
	}
	f->status = ES_TREE_OK;
	if (t) {
		if (f->info.kind == ES_KIND_PROJECT)
			t->nprojects++;
		else
			t->ngoals++;
	}
}

int
es_tree_load(int root_fd, const struct es_tree_opts *opts, struct es_tree *t,
    struct es_error *err)
{
	return es_tree_load_each(root_fd, opts, NULL, NULL, t, err);
}

int
es_tree_load_each(int root_fd, const struct es_tree_opts *opts,
    void (*each)(const struct es_tree *t, size_t i, size_t errors_before,
    void *ud), void *ud, struct es_tree *t, struct es_error *err)
{
	struct es_scan_opts so = { opts->ignore };
	struct es_scan_result sr;
	struct es_buf buf = ES_BUF_INIT;

	memset(t, 0, sizeof(*t));
	if (es_scan(root_fd, &so, &sr, err) < 0)
		return -1;
	t->files = es_xcalloc(sr.n ? sr.n : 1, sizeof(*t->files));
	t->nfiles = sr.n;
	for (size_t i = 0; i < sr.n; i++) {
		struct es_tree_file *f = &t->files[i];
		size_t before = t->nerrors;

		f->rel = sr.entries[i].rel;	/* taken over */
		sr.entries[i].rel = NULL;
		f->info = sr.entries[i].info;
		f->st = sr.entries[i].st;
		es_tree_load_file(root_fd, opts, f, &buf, t);
		if (each != NULL)
			each(t, i, before, ud);
	}
	t->skipped = sr.skipped;
	t->nskipped = sr.nskipped;
	sr.skipped = NULL;
	sr.nskipped = 0;
	es_scan_result_release(&sr);
	es_buf_release(&buf);
	return 0;
}

void
es_tree_release(struct es_tree *t)
{
	for (size_t i = 0; i < t->nfiles; i++) {
		free(t->files[i].rel);
		es_entity_release(&t->files[i].entity);
		es_action_list_free(t->files[i].list);
	}
	free(t->files);
	free(t->errors);
	for (size_t i = 0; i < t->nskipped; i++) {
		free(t->skipped[i].rel);
		free(t->skipped[i].reason);
	}
	free(t->skipped);
	memset(t, 0, sizeof(*t));
}

size_t
es_tree_nproblems(const struct es_tree *t)
{
	return t->nerrors + t->nskipped;
}
