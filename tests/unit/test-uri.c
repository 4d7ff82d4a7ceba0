/* URI redaction: credentials never in logs, /status or errors (SPEC §4.11). */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "execsync/uri.h"

/* SPEC §4.11: the redacted form of each URI. */
static void
test_uri_redact_spec_4_11_table(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		/* The password, percent-encoded as the URI spec asks. */
		{ "mongodb://u:s3cr%40t@h:1/db?authSource=admin",
		  "mongodb://u:***@h:1/db?authSource=admin" },
		{ "mongodb+srv://alice:hunter2@cluster0.ab1cd.mongodb.net/"
		  "execution_system?retryWrites=true&w=majority",
		  "mongodb+srv://alice:***@cluster0.ab1cd.mongodb.net/"
		  "execution_system?retryWrites=true&w=majority" },
		/* Nothing secret: byte for byte. */
		{ "mongodb://localhost", "mongodb://localhost" },
		{ "mongodb://h1:27017,h2:27018/db?replicaSet=rs0",
		  "mongodb://h1:27017,h2:27018/db?replicaSet=rs0" },
		{ "mongodb://[::1]:27017/db", "mongodb://[::1]:27017/db" },
		{ "mongodb://%2Ftmp%2Fmongodb-27017.sock/db",
		  "mongodb://%2Ftmp%2Fmongodb-27017.sock/db" },
		/* A user without a password (X.509) is kept. */
		{ "mongodb://alice@h/db?authMechanism=MONGODB-X509",
		  "mongodb://alice@h/db?authMechanism=MONGODB-X509" },
		/* '@' in an option value is data, not user info. */
		{ "mongodb://h:1/db?appName=me@host",
		  "mongodb://h:1/db?appName=me@host" },
		{ "mongodb://u:p@h:1/db?appName=me@host",
		  "mongodb://u:***@h:1/db?appName=me@host" },
		/* Malformed: unescaped '@', '/', '?' and ':' in the password. */
		{ "mongodb://u:p@ss@h/db", "mongodb://u:***@h/db" },
		{ "mongodb://u:p/ss@h/db", "mongodb://u:***@h/db" },
		{ "mongodb://u:p?ss@h/db", "mongodb://u:***@h/db" },
		{ "mongodb://u:p:ss@h/db", "mongodb://u:***@h/db" },
		{ "mongodb://u:p@[::1]:27017/db", "mongodb://u:***@[::1]:27017/db" },
		/* Empty user or password: still masked. */
		{ "mongodb://u:@h", "mongodb://u:***@h" },
		{ "mongodb://:pw@h", "mongodb://:***@h" },
		/* Secrets in the options. */
		{ "mongodb://h/db?password=x&authSource=admin",
		  "mongodb://h/db?password=***&authSource=admin" },
		{ "mongodb://u@h/?authMechanism=MONGODB-AWS&"
		  "authMechanismProperties=AWS_SESSION_TOKEN:abc",
		  "mongodb://u@h/?authMechanism=MONGODB-AWS&"
		  "authMechanismProperties=***" },
		{ "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=k3y&x=1",
		  "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***&x=1" },
		{ "mongodb://u:a@h/?sslClientCertificateKeyPassword=b;w=1",
		  "mongodb://u:***@h/?sslClientCertificateKeyPassword=***;w=1" },
		/* Garbage. */
		{ "u:pass@host", "u:***@host" },
		{ "http://u:p@h", "http://u:***@h" },
		{ "not a uri", "not a uri" },
		{ "", "" },
		{ "@@@", "@@@" },
		{ "mongodb://", "mongodb://" },
		{ "mongodb://u:p@", "mongodb://u:***@" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = es_uri_redact(cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("'%s': want '%s', got '%s'", cases[i].in,
			    cases[i].want, got);
		free(got);
	}
	assert_null(es_uri_redact(NULL));
}

/* Whatever the password holds, the result never shows it. */
static void
test_uri_redact_never_shows_password(void **state)
{
	static const char *const pw[] = {
		"hunter2", "p@ss", "p/ss", "p?ss", "p:ss", "p#ss", "p%40ss",
		"p&ss=1", "ab@cd/ef?gh", "x=y@z", "p,h2:1", "[::1]", "p ss",
		"%", "pw?appName=a", "a@",
	};
	/* Each URI is before + password + after. */
	static const char *const shape[][2] = {
		{ "mongodb://user:", "@host:27017/db?authSource=admin" },
		{ "mongodb+srv://user:", "@cluster.example.net/?retryWrites=1" },
		{ "mongodb://user:", "@h1,h2:27018" },
		{ "mongodb://user:", "@host" },
		{ "user:", "@host" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(pw) / sizeof(pw[0]); i++)
		for (size_t j = 0; j < sizeof(shape) / sizeof(shape[0]); j++) {
			char uri[256], *got;

			snprintf(uri, sizeof(uri), "%s%s%s", shape[j][0], pw[i],
			    shape[j][1]);
			got = es_uri_redact(uri);
			if (strstr(got, pw[i]) != NULL ||
			    strstr(got, "user:***@") == NULL)
				fail_msg("'%s' -> '%s'", uri, got);
			free(got);
		}
}

static void
test_uri_redact_message_table(void **state)
{
	static const char uri[] = "mongodb://u:s3cr%40t@h:1/db?authSource=admin"
	    "&tlsCertificateKeyFilePassword=k%2Fy";
	static const struct {
		const char	*msg;
		const char	*uri;
		const char	*want;
	} cases[] = {
		/* The URI echoed, the password decoded and encoded. */
		{ "cannot connect to mongodb://u:s3cr%40t@h:1/db: auth failed",
		  uri, "cannot connect to mongodb://u:***@h:1/db: auth failed" },
		{ "bad password 's3cr@t'", uri, "bad password '***'" },
		{ "bad password s3cr%40t.", uri, "bad password ***." },
		{ "s3cr@ts3cr@t", uri, "******" },
		{ "key k/y and k%2Fy", uri, "key *** and ***" },
		{ "nothing to hide here", uri, "nothing to hide here" },
		{ "", uri, "" },
		/* Without a known URI, embedded URIs are still redacted. */
		{ "uri \"mongodb://a:b@h/x\" rejected", NULL,
		  "uri \"mongodb://a:***@h/x\" rejected" },
		{ "uri mongodb+srv://a:b@c.example.net/?w=1 rejected", NULL,
		  "uri mongodb+srv://a:***@c.example.net/?w=1 rejected" },
		{ "MONGODB://x:y@h", NULL, "MONGODB://x:***@h" },
		{ "plain s3cr@t", NULL, "plain s3cr@t" },
		/* A URI without secrets masks nothing. */
		{ "host h:1", "mongodb://h:1", "host h:1" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = es_uri_redact_message(cases[i].msg, cases[i].uri);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("'%s': want '%s', got '%s'", cases[i].msg,
			    cases[i].want, got);
		free(got);
	}
	assert_null(es_uri_redact_message(NULL, uri));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_uri_redact_spec_4_11_table),
	cmocka_unit_test(test_uri_redact_never_shows_password),
	cmocka_unit_test(test_uri_redact_message_table),
};

ES_TEST_MAIN(tests)
