/*
 * Project and goal files (SPEC §2) from arbitrary bytes: parsing never
 * crashes, and what parses keeps the module's promises, checked with
 * abort():
 *  - update(old, parse(old)) gives old's bytes exactly (SPEC 4.8: a file
 *    whose meaning did not change is never rewritten);
 *  - render(e) parses back to e (same fingerprint), and is a fixed point:
 *    render(parse(render(e))) == render(e);
 *  - update(old, e') for an edited e' parses back to e'.
 * Everything is freed on every path, so leaks show under LeakSanitizer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/date.h"
#include "execsync/entity-file.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REL_PROJECT	"10k-projects/active/learning/fuzz.md"
#define REL_GOAL	"30k-goals/active/fuzz.md"

static void
die(const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
	fprintf(stderr, "invariant broken: %s\n--- a (%zu bytes)\n%.*s\n"
	    "--- b (%zu bytes)\n%.*s\n", what, alen, (int)alen, a, blen,
	    (int)blen, b);
	abort();
}

static int
parse(const char *p, size_t len, enum es_kind kind, struct es_entity *e)
{
	struct es_error err;
	int rc;

	es_entity_init(e, kind);
	rc = es_entity_file_parse(p, len,
	    kind == ES_KIND_PROJECT ? REL_PROJECT : REL_GOAL, kind,
	    ES_FOLDER_ACTIVE, "fuzz",
	    kind == ES_KIND_PROJECT ? "learning" : NULL, e, &err);
	if (rc == -1 && err.msg[0] == '\0')
		die("error without a message", p, len, "", 0);
	return rc;
}

/* e' for the third invariant: a few fields changed, an extra key more. */
static void
edit(const struct es_entity *e, struct es_entity *e2, uint8_t salt)
{
	bson_iter_t it;
	bson_t *extra;
	bool first = true;

	es_entity_copy(e2, e);
	if (salt & 1) {
		free(e2->title);
		e2->title = strdup(salt & 2 ? "Changed: title #2" : "yes");
	}
	/* Goals have no due date of their own (a `due` key is extra). */
	if (e->kind == ES_KIND_PROJECT)
		e2->due = e2->due == ES_DATE_NONE ?
		    es_date_from_ymd(2030, 1, 2) : ES_DATE_NONE;
	e2->last_reviewed = es_date_from_ymd(2025, 11, 9);
	if (salt & 4) {
		/* A project without an area key takes its folder's name, so
		 * only a goal can lose its area. */
		free(e2->area);
		e2->area = (salt & 8) && e->kind == ES_KIND_GOAL ? NULL :
		    strdup("Personal Growth");
	}
	/* Drop the first extra key (not a goal's `type`), add one. */
	extra = bson_new();
	if (bson_iter_init(&it, e->extra))
		while (bson_iter_next(&it)) {
			if (first && (salt & 16) &&
			    strcmp(bson_iter_key(&it), "type") != 0) {
				first = false;
				continue;
			}
			bson_append_iter(extra, NULL, 0, &it);
		}
	if (!bson_has_field(extra, "fuzz_added"))
		BSON_APPEND_INT32(extra, "fuzz_added", salt);
	bson_destroy(e2->extra);
	e2->extra = extra;
	if (salt & 32)
		es_entity_set_content(e2, "new body\n", 9);
}

static void
check(const char *in, size_t size, enum es_kind kind, uint8_t salt)
{
	const char *rel = kind == ES_KIND_PROJECT ? REL_PROJECT : REL_GOAL;
	struct es_entity e, back, e2, back2;
	struct es_buf r = ES_BUF_INIT, r2 = ES_BUF_INIT, u = ES_BUF_INIT;
	struct es_error err;
	int rc;

	if (parse(in, size, kind, &e) != 0)
		goto out_e;

	if (es_entity_file_update(in, size, rel, &e, &u, &err) != 0)
		die("update of a parsed file failed", in, size, err.msg,
		    strlen(err.msg));
	if (u.len != size || memcmp(u.buf, in, size) != 0)
		die("update with the same meaning changed bytes", in, size,
		    u.buf, u.len);

	if (es_entity_file_check(&e, &err) != 0)
		die("a parsed entity fails check", in, size, err.msg,
		    strlen(err.msg));
	es_entity_file_render(&e, &r);
	rc = parse(r.buf, r.len, kind, &back);
	if (rc != 0)
		die("render does not parse back", in, size, r.buf, r.len);
	if (es_entity_fingerprint(&back) != es_entity_fingerprint(&e))
		die("render parses back to another meaning", in, size, r.buf,
		    r.len);
	es_entity_file_render(&back, &r2);
	if (r2.len != r.len || memcmp(r2.buf, r.buf, r.len) != 0)
		die("render is not a fixed point", r.buf, r.len, r2.buf,
		    r2.len);
	es_entity_release(&back);

	edit(&e, &e2, salt);
	es_buf_reset(&u);
	if (es_entity_file_update(in, size, rel, &e2, &u, &err) != 0)
		die("update with an edited entity failed", in, size, err.msg,
		    strlen(err.msg));
	rc = parse(u.buf, u.len, kind, &back2);
	if (rc != 0)
		die("updated file does not parse", in, size, u.buf, u.len);
	if (es_entity_fingerprint(&back2) != es_entity_fingerprint(&e2))
		die("updated file means something else", in, size, u.buf,
		    u.len);
	es_entity_release(&back2);
	es_entity_release(&e2);
out_e:
	es_entity_release(&e);
	es_buf_release(&r);
	es_buf_release(&r2);
	es_buf_release(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t salt = size ? data[size - 1] : 0;
	char *copy;

	/* A private copy: the module must not read past size. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	check(copy, size, ES_KIND_PROJECT, salt);
	check(copy, size, ES_KIND_GOAL, salt);
	free(copy);
	return 0;
}
