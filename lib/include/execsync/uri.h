/*
 * Credentials never appear in logs, /status or errors (SPEC §4.11): every
 * place that shows a MongoDB URI, or a message that may echo one, goes
 * through these two functions.
 *
 * Both work on the text alone, never through libmongoc, so they also redact
 * URIs libmongoc cannot parse (a password with an unescaped '@', '/' or '?')
 * and never log anything themselves. When the text is ambiguous they redact
 * more rather than less: for a string that is not a well-formed URI, the
 * user info is everything up to the last '@', and its password everything
 * after the first ':' in it.
 *
 * What is a secret: the password of the user info ("user:pass@"), and in the
 * query the values of "authMechanismProperties" and of every option whose
 * name contains "password", "secret" or "token" (case-insensitive), e.g.
 * "password=", "tlsCertificateKeyFilePassword=". The user name, hosts,
 * database and other options are kept: they help a person find the problem.
 *
 * Pure, no global state: safe from any thread.
 */
#ifndef EXECSYNC_URI_H
#define EXECSYNC_URI_H

#include <stdbool.h>

/*
 * A copy of uri safe to show, each secret replaced by "***":
 *	mongodb://u:s3cr%40t@h:1/db?authSource=admin
 *	-> mongodb://u:***@h:1/db?authSource=admin
 * A URI without secrets comes back byte for byte. uri NULL gives NULL;
 * otherwise the result is malloc'd and the caller's to free().
 */
char	*es_uri_redact(const char *uri);

/*
 * A copy of msg (e.g. a libmongoc error) with every occurrence of uri's
 * secrets, as written in uri and percent-decoded, replaced by "***"; any
 * URI embedded in msg ("mongodb://..." or "mongodb+srv://...", up to
 * white space or a quote) is redacted as by es_uri_redact() too. uri may be
 * NULL (then only embedded URIs are redacted). msg NULL gives NULL;
 * otherwise the result is malloc'd and the caller's to free().
 */
char	*es_uri_redact_message(const char *msg, const char *uri);

/* Whether uri's user information holds a password ("user:pw@host"). */
bool	es_uri_has_password(const char *uri);
/*
 * Whether an '@' is left unencoded in uri's user name or password (it
 * must be %40): for a hint beside libmongoc's error.
 */
bool	es_uri_userinfo_has_at(const char *uri);

#endif
