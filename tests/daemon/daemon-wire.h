/*
 * The status endpoint seen from outside, for the daemon's end-to-end
 * tests (test-daemon.c): a checker of the Prometheus text format and a
 * small TCP client that sends raw bytes, well formed or not.
 */
#ifndef ES_DAEMON_WIRE_H
#define ES_DAEMON_WIRE_H

#include <stddef.h>

#include "execsync/buf.h"

/*
 * Checks text against the Prometheus text format 0.0.4 (names, labels
 * and their escapes, values, a # TYPE before each family's samples, a
 * histogram's +Inf bucket): NULL when valid, else why (a static buffer)
 * naming the line.
 */
const char *prom_check(const char *text);

/*
 * Sends len raw bytes to 127.0.0.1:port and reads until the server
 * closes: the HTTP status of the answer, 0 when it closed without one,
 * -1 when it still had not closed after timeout_ms. ans gets the bytes.
 */
int	tcp_exchange(int port, const char *raw, size_t len, int timeout_ms,
	    struct es_buf *ans);
/* GET path with Connection: close, as tcp_exchange(). */
int	tcp_get(int port, const char *path, struct es_buf *ans);
/* A non-blocking connection to 127.0.0.1:port, or -1 when refused. */
int	tcp_open_nb(int port);

#endif
