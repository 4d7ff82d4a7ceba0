/*
 * Fuzz the decoding of documents (SPEC §3, 4.10: a bad document is one
 * clean error, never a crash). The input is one BSON document, decoded as
 * a project, a goal and an action. Invariants, abort() when broken:
 *  - a failure names the document and a message;
 *  - what decodes encodes to a document that decodes again to the same
 *    fields and meta (the one walk over the keys must find what a search
 *    by name found, the first of a repeated key included).
 * Everything is freed on every path, so leaks show.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/doc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_meta(const struct es_meta *a, const struct es_meta *b)
{
	if (!bson_oid_equal(&a->id, &b->id) || a->deleted != b->deleted ||
	    a->deleted_at != b->deleted_at ||
	    a->created_at != b->created_at || a->updated_at != b->updated_at)
		abort();
}

static void
entity(const bson_t *doc, enum es_kind kind)
{
	struct es_entity e, back;
	struct es_error err;
	bson_t out = BSON_INITIALIZER;

	if (es_entity_decode(doc, kind, &e, &err) < 0) {
		if (err.msg[0] == '\0')
			abort();
		es_entity_release(&e);
		return;
	}
	es_entity_encode(&e, "u", &out);
	if (es_entity_decode(&out, kind, &back, &err) < 0 ||
	    es_entity_diff(&e, &back) != 0)
		abort();
	same_meta(&e.meta, &back.meta);
	es_entity_release(&back);
	es_entity_release(&e);
	bson_destroy(&out);
}

static void
action(const bson_t *doc)
{
	struct es_action a, back;
	struct es_error err;
	bson_t out = BSON_INITIALIZER;

	if (es_action_decode(doc, &a, &err) < 0) {
		if (err.msg[0] == '\0')
			abort();
		es_action_release(&a);
		return;
	}
	es_action_encode(&a, "u", &out);
	if (es_action_decode(&out, &back, &err) < 0 ||
	    es_action_diff(&a, &back) != 0)
		abort();
	same_meta(&a.meta, &back.meta);
	es_action_release(&back);
	es_action_release(&a);
	bson_destroy(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bson_t doc;

	if (!bson_init_static(&doc, data, size))
		return 0;
	entity(&doc, ES_KIND_PROJECT);
	entity(&doc, ES_KIND_GOAL);
	action(&doc);
	return 0;
}
