/*
 * Deterministic ObjectIds of the one-time import (issue 4: idempotent
 * import; SPEC §2 identity: collection, user, slug; actions by list, text and
 * position).
 */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include <xxhash.h>

#include "execsync/docid.h"

static uint32_t
time_bytes(const bson_oid_t *oid)
{
	return (uint32_t)oid->bytes[0] << 24 | (uint32_t)oid->bytes[1] << 16 |
	    (uint32_t)oid->bytes[2] << 8 | oid->bytes[3];
}

static uint64_t
hash_bytes(const bson_oid_t *oid)
{
	uint64_t h = 0;

	for (int i = 4; i < 12; i++)
		h = h << 8 | oid->bytes[i];
	return h;
}

/* Bytes 0..3: the date as unsigned big-endian seconds, clamped. */
static void
test_docid_time_table(void **state)
{
	static const struct {
		int64_t		 in;
		uint32_t	 want;
	} cases[] = {
		{ 1761955200, 1761955200u },		/* 2025-11-01 */
		{ 0, 0 },
		{ -86400, 0 },				/* before 1970 */
		{ INT64_MIN, 0 },
		{ 4294944000LL, 4294944000u },		/* 2106-02-07 fits */
		{ 4294967295LL, 4294967295u },
		{ 4294967296LL, 4294967295u },		/* past 2^32 - 1 */
		{ INT64_MAX, 4294967295u },
		{ ES_DOCID_TIME_DEFAULT, 1577836800u },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bson_oid_t oid = es_docid("ana", ES_KIND_PROJECT, "x", 1,
		    cases[i].in);

		if (time_bytes(&oid) != cases[i].want)
			fail_msg("time %lld: got %u, want %u",
			    (long long)cases[i].in, time_bytes(&oid),
			    cases[i].want);
		/* libbson reads the same time back. */
		assert_int_equal((uint32_t)bson_oid_get_time_t(&oid),
		    cases[i].want);
	}
}

/* es_docid_time(): the first date that is set, else 2020-01-01. */
static void
test_docid_time_choice(void **state)
{
	(void)state;
	assert_int_equal(es_docid_time(es_test_day("2025-11-01"),
	    es_test_day("2025-12-01")), 1761955200);
	assert_int_equal(es_docid_time(ES_DATE_NONE,
	    es_test_day("2025-11-01")), 1761955200);
	assert_int_equal(es_docid_time(ES_DATE_NONE, ES_DATE_NONE),
	    ES_DOCID_TIME_DEFAULT);
	assert_int_equal(es_docid_time(es_test_day("1970-01-01"),
	    ES_DATE_NONE), 0);
}

/* Bytes 4..11: XXH3-64 of user NUL collection NUL key, big-endian. */
static void
test_docid_hash_is_xxh3_of_identity(void **state)
{
	static const struct {
		const char	*user;
		enum es_kind	 kind;
		const char	*key;
		const char	*coll;
	} cases[] = {
		{ "ana", ES_KIND_PROJECT, "learn-rust", "projects" },
		{ "ana", ES_KIND_GOAL, "learn-rust", "goals" },
		{ "ana", ES_KIND_ACTION, "00k-next-actions/@waiting.md\n1\n"
		    "- [ ] Call Bob", "actions" },
		{ "", ES_KIND_PROJECT, "", "projects" },
		{ "user-ünïcode", ES_KIND_PROJECT, "café-münster",
		    "projects" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[512];
		size_t ul = strlen(cases[i].user), cl = strlen(cases[i].coll),
		    kl = strlen(cases[i].key);
		bson_oid_t oid;

		memcpy(buf, cases[i].user, ul + 1);
		memcpy(buf + ul + 1, cases[i].coll, cl + 1);
		memcpy(buf + ul + cl + 2, cases[i].key, kl);
		oid = es_docid(cases[i].user, cases[i].kind, cases[i].key, kl,
		    1761955200);
		assert_true(hash_bytes(&oid) ==
		    XXH3_64bits(buf, ul + cl + 2 + kl));
	}
}

/* Any change of user, collection or key gives another id; NUL-separated
 * fields cannot be shifted into each other. */
static void
test_docid_identity_distinct(void **state)
{
	static const struct {
		const char	*user;
		enum es_kind	 kind;
		const char	*key;
	} cases[] = {
		{ "ana", ES_KIND_PROJECT, "learn-rust" },
		{ "bob", ES_KIND_PROJECT, "learn-rust" },
		{ "ana", ES_KIND_GOAL, "learn-rust" },
		{ "ana", ES_KIND_ACTION, "learn-rust" },
		{ "ana", ES_KIND_PROJECT, "learn-rust-2" },
		{ "an", ES_KIND_PROJECT, "alearn-rust" },
		{ "ana", ES_KIND_PROJECT, "Learn-rust" },
		{ "ana", ES_KIND_PROJECT, "" },
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	bson_oid_t ids[sizeof(cases) / sizeof(cases[0])];

	(void)state;
	for (size_t i = 0; i < n; i++)
		ids[i] = es_docid(cases[i].user, cases[i].kind, cases[i].key,
		    strlen(cases[i].key), ES_DOCID_TIME_DEFAULT);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (bson_oid_equal(&ids[i], &ids[j]))
				fail_msg("cases %zu and %zu share an id", i, j);
	/* A key is bytes: a NUL inside is part of it. */
	bson_oid_t a = es_docid("ana", ES_KIND_ACTION, "a\0b", 3, 0);
	bson_oid_t b = es_docid("ana", ES_KIND_ACTION, "a", 1, 0);
	assert_false(bson_oid_equal(&a, &b));
	/* NULL user is "". */
	a = es_docid(NULL, ES_KIND_PROJECT, "x", 1, 0);
	b = es_docid("", ES_KIND_PROJECT, "x", 1, 0);
	assert_true(bson_oid_equal(&a, &b));
}

/*
 * Golden values: ids live in users' databases, so the scheme must never
 * change; a rerun of a newer execsync-migrate must hit the same _ids.
 */
static void
test_docid_golden(void **state)
{
	static const struct {
		const char	*user;
		enum es_kind	 kind;
		const char	*key;
		int64_t		 time_s;
		const char	*hex;
	} cases[] = {
		{ "ana", ES_KIND_PROJECT, "learn-rust", 1761955200,
		    "69054d80fc2ecd9b1842c31a" },
		{ "ana", ES_KIND_GOAL, "run-a-marathon", ES_DOCID_TIME_DEFAULT,
		    "5e0be10029f6c5e7b2a17036" },
		{ "ana", ES_KIND_ACTION, "00k-next-actions/contexts/@phone.md\n"
		    "1\n- [ ] 2025-11-09 Call Bob about the budget @phone",
		    1762646400, "690fd980bae46363ca4c5e00" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bson_oid_t oid = es_docid(cases[i].user, cases[i].kind,
		    cases[i].key, strlen(cases[i].key), cases[i].time_s);
		char hex[25];

		bson_oid_to_string(&oid, hex);
		if (strcmp(hex, cases[i].hex) != 0)
			fail_msg("case %zu: got %s, want %s", i, hex,
			    cases[i].hex);
	}
}

/* Action keys: list, occurrence, raw line, LF-separated. */
static void
test_docid_action_key(void **state)
{
	static const struct {
		const char	*rel;
		unsigned	 occ;
		const char	*raw;
		const char	*want;
	} cases[] = {
		{ "00k-next-actions/@waiting.md", 1, "- [ ] Call Bob",
		    "00k-next-actions/@waiting.md\n1\n- [ ] Call Bob" },
		{ "00k-next-actions/contexts/@phone.md", 12, "(A) x",
		    "00k-next-actions/contexts/@phone.md\n12\n(A) x" },
		{ "00k-next-actions/completed.md", 2, "",
		    "00k-next-actions/completed.md\n2\n" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_buf b = ES_BUF_INIT;

		es_docid_action_key(&b, cases[i].rel, cases[i].occ,
		    cases[i].raw, strlen(cases[i].raw));
		assert_string_equal(b.buf, cases[i].want);
		es_buf_release(&b);
	}
}

/* es_docid_action(): the key above, time from action_date else completed;
 * each occurrence of a repeated line is its own document. */
static void
test_docid_action(void **state)
{
	const char *rel = "00k-next-actions/@waiting.md";
	const char *raw = "- [ ] 2025-11-09 Call Bob";
	struct es_buf key = ES_BUF_INIT;
	struct es_action a;
	bson_oid_t got, want, second;

	(void)state;
	es_action_init(&a);
	a.action_date = es_test_day("2025-11-09");
	a.completed = es_test_day("2025-11-20");
	got = es_docid_action("ana", rel, 1, raw, strlen(raw), &a);
	es_docid_action_key(&key, rel, 1, raw, strlen(raw));
	want = es_docid("ana", ES_KIND_ACTION, key.buf, key.len, 1762646400);
	assert_true(bson_oid_equal(&got, &want));
	second = es_docid_action("ana", rel, 2, raw, strlen(raw), &a);
	assert_false(bson_oid_equal(&got, &second));
	/* Same hash, other time: only the first four bytes differ. */
	a.action_date = ES_DATE_NONE;
	got = es_docid_action("ana", rel, 1, raw, strlen(raw), &a);
	assert_int_equal(time_bytes(&got), 1763596800u);	/* 2025-11-20 */
	assert_true(hash_bytes(&got) == hash_bytes(&want));
	a.completed = ES_DATE_NONE;
	got = es_docid_action("ana", rel, 1, raw, strlen(raw), &a);
	assert_int_equal(time_bytes(&got), 1577836800u);
	/* The same line in another list is another action. */
	got = es_docid_action("ana", "00k-next-actions/@deferred.md", 1, raw,
	    strlen(raw), &a);
	assert_true(hash_bytes(&got) != hash_bytes(&want));
	es_action_release(&a);
	es_buf_release(&key);
}

/* Projects and goals: key slug, time created. */
static void
test_docid_entity(void **state)
{
	struct es_entity e;
	bson_oid_t got, want;

	(void)state;
	es_entity_init(&e, ES_KIND_PROJECT);
	e.slug = strdup("learn-rust");
	e.created = es_test_day("2025-11-01");
	got = es_docid_entity("ana", &e);
	want = es_docid("ana", ES_KIND_PROJECT, "learn-rust", 10, 1761955200);
	assert_true(bson_oid_equal(&got, &want));
	e.kind = ES_KIND_GOAL;
	e.created = ES_DATE_NONE;
	got = es_docid_entity("ana", &e);
	want = es_docid("ana", ES_KIND_GOAL, "learn-rust", 10,
	    ES_DOCID_TIME_DEFAULT);
	assert_true(bson_oid_equal(&got, &want));
	es_entity_release(&e);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_docid_time_table),
	cmocka_unit_test(test_docid_time_choice),
	cmocka_unit_test(test_docid_hash_is_xxh3_of_identity),
	cmocka_unit_test(test_docid_identity_distinct),
	cmocka_unit_test(test_docid_golden),
	cmocka_unit_test(test_docid_action_key),
	cmocka_unit_test(test_docid_action),
	cmocka_unit_test(test_docid_entity),
};

ES_TEST_MAIN(tests)
