/*
 * SPEC 4.17, 4.18: the one answer to "is this duplicate document ours?"
 * (see rules.h), for execsyncd's inserts refused as duplicates and for
 * execsync-migrate's recognition of what the database holds.
 */
#include "execsync/doc.h"
#include "execsync/rules.h"

/* The document's meaning and meta; -1 when it does not decode. */
static int
decode_fp(const bson_t *doc, enum es_kind kind, es_fp_t *fp,
    struct es_meta *m)
{
	struct es_error err;
	int rc;

	if (kind == ES_KIND_ACTION) {
		struct es_action a;

		rc = es_action_decode(doc, &a, &err);
		*fp = rc == 0 ? es_action_fingerprint(&a) : 0;
		*m = a.meta;
		es_action_release(&a);
	} else {
		struct es_entity e;

		rc = es_entity_decode(doc, kind, &e, &err);
		*fp = rc == 0 ? es_entity_fingerprint(&e) : 0;
		*m = e.meta;
		es_entity_release(&e);
	}
	return rc;
}

bool
es_doc_meaning(const bson_t *doc, enum es_kind kind, es_fp_t *fp)
{
	struct es_meta m;

	return decode_fp(doc, kind, fp, &m) == 0;
}

enum es_ours
es_ours_judge(const bson_t *doc, enum es_kind kind, const char *user_id,
    es_fp_t want, struct es_meta *meta)
{
	struct es_meta m;
	es_fp_t fp;

	if (!es_doc_user_is(doc, user_id))
		return ES_OURS_NO;
	if (decode_fp(doc, kind, &fp, &m) < 0)
		return ES_OURS_NO;
	if (meta != NULL)
		*meta = m;
	return !m.deleted && fp == want ? ES_OURS_SAME : ES_OURS_DIFFERS;
}
