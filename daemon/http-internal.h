/*
 * Shared by http.c (the server) and http-client.c (the client side) only.
 */
#ifndef EXECSYNCD_HTTP_INTERNAL_H
#define EXECSYNCD_HTTP_INTERNAL_H

#include <sys/un.h>

#include <stdint.h>

#include "execsync/error.h"

/* A monotonic clock, in milliseconds. */
int64_t	es__http_now_ms(void);
/* Fills sa for path: 0, or -1 with err (ES_ECONFIG) when it is too long. */
int	es__http_sockaddr(struct sockaddr_un *sa, const char *path,
	    struct es_error *err);

#endif
