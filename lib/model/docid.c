/*
 * Deterministic ObjectIds (see docid.h): 4 bytes of time, 8 of XXH3-64 over
 * the identity. Stored in databases: never change the byte layout.
 */
#include <string.h>

#include <xxhash.h>

#include "execsync/docid.h"

bson_oid_t
es_docid(const char *user_id, enum es_kind kind, const char *key,
    size_t key_len, int64_t time_s)
{
	struct es_buf in = ES_BUF_INIT;
	const char *coll;
	bson_oid_t oid;
	uint64_t h;
	uint32_t t;

	if (user_id == NULL)
		user_id = "";
	if ((coll = es_kind_collection(kind)) == NULL)
		coll = "";
	/*
	 * The NULs end the two strings, which cannot hold one, so
	 * ("ab", "c") and ("a", "bc") hash different inputs.
	 */
	es_buf_grow(&in, strlen(user_id) + strlen(coll) + 2 + key_len);
	es_buf_add(&in, user_id, strlen(user_id) + 1);
	es_buf_add(&in, coll, strlen(coll) + 1);
	if (key_len > 0)
		es_buf_add(&in, key, key_len);
	h = XXH3_64bits(in.buf, in.len);
	es_buf_release(&in);

	/* ObjectId times are unsigned 32-bit seconds: clamp, never wrap. */
	if (time_s < 0)
		t = 0;
	else if (time_s > (int64_t)UINT32_MAX)
		t = UINT32_MAX;
	else
		t = (uint32_t)time_s;
	oid.bytes[0] = (uint8_t)(t >> 24);
	oid.bytes[1] = (uint8_t)(t >> 16);
	oid.bytes[2] = (uint8_t)(t >> 8);
	oid.bytes[3] = (uint8_t)t;
	for (int i = 0; i < 8; i++)
		oid.bytes[4 + i] = (uint8_t)(h >> (56 - 8 * i));
	return oid;
}

int64_t
es_docid_time(es_date_t d1, es_date_t d2)
{
	if (d1 != ES_DATE_NONE)
		return es_date_to_ms(d1) / 1000;
	if (d2 != ES_DATE_NONE)
		return es_date_to_ms(d2) / 1000;
	return ES_DOCID_TIME_DEFAULT;
}

bson_oid_t
es_docid_entity(const char *user_id, const struct es_entity *e)
{
	const char *slug = e->slug ? e->slug : "";

	return es_docid(user_id, e->kind, slug, strlen(slug),
	    es_docid_time(e->created, ES_DATE_NONE));
}

void
es_docid_action_key(struct es_buf *out, const char *list_rel,
    unsigned occurrence, const char *raw, size_t raw_len)
{
	es_buf_addf(out, "%s\n%u\n", list_rel ? list_rel : "", occurrence);
	if (raw_len > 0)
		es_buf_add(out, raw, raw_len);
}

bson_oid_t
es_docid_action(const char *user_id, const char *list_rel,
    unsigned occurrence, const char *raw, size_t raw_len,
    const struct es_action *a)
{
	struct es_buf key = ES_BUF_INIT;
	bson_oid_t oid;

	es_docid_action_key(&key, list_rel, occurrence, raw, raw_len);
	oid = es_docid(user_id, ES_KIND_ACTION, key.buf, key.len,
	    es_docid_time(a->action_date, a->completed));
	es_buf_release(&key);
	return oid;
}
