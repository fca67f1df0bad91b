/*
 * rate.h - the POST rate limit of `ledger serve`: a token bucket per
 * client address. A rate is N POSTs a period (a second, a minute or an
 * hour). A bucket holds up to 2 × N tokens, refills at N a period, and
 * each POST takes one; an empty bucket answers how many whole seconds
 * to wait (the Retry-After of a 429).
 *
 * The table keeps SRV_RATE_ADDRS addresses; when it is full, the bucket
 * idle longest is recycled (it has refilled anyway unless it is busy).
 * Addresses are IPv4 or IPv6 hosts; ports are ignored.
 *
 * Thread-safe: srv_rate_take() takes the table's mutex. Time comes from
 * the caller (CLOCK_MONOTONIC), so tests need no sleeping.
 */
#ifndef SRV_RATE_H
#define SRV_RATE_H

#include <sys/socket.h>
#include <time.h>

#define SRV_RATE_ADDRS 1024 /* addresses whose rate is tracked */

struct srv_rate;

#define SRV_RATE_MAX 1000000 /* the largest N */

/* Parses "N", "N/s", "N/min" or "N/h" (N from 0 to SRV_RATE_MAX): N POSTs
 * a second, minute or hour. 0, or -EINVAL. */
int srv_rate_parse(const char *s, unsigned *n, unsigned *period_s);

/* n POSTs every period_s seconds (1, 60 or 3600; 0 counts as 1); n 0: no
 * limit (srv_rate_take() always answers 0). NULL when out of memory. */
struct srv_rate *srv_rate_new(unsigned n, unsigned period_s);
void srv_rate_free(struct srv_rate *r);
/* The rate's N, and its period as words ("a second", "a minute", "an
 * hour"), for messages. */
unsigned srv_rate_n(const struct srv_rate *r);
const char *srv_rate_period(const struct srv_rate *r);

/* One POST from sa at now: 0 when within the rate, else the seconds to
 * wait (at least 1). */
unsigned srv_rate_take(struct srv_rate *r, const struct sockaddr *sa,
		       const struct timespec *now);

#endif
