/*
 * rate.h - the POST rate limit of `ledger serve`: a token bucket per
 * client address. A bucket holds up to 2 × per_sec tokens, refills at
 * per_sec a second, and each POST takes one; an empty bucket answers how
 * many whole seconds to wait (the Retry-After of a 429).
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

/* per_sec 0: no limit (srv_rate_take() always answers 0). NULL when out
 * of memory. */
struct srv_rate *srv_rate_new(unsigned per_sec);
void srv_rate_free(struct srv_rate *r);
unsigned srv_rate_per_sec(const struct srv_rate *r);

/* One POST from sa at now: 0 when within the rate, else the seconds to
 * wait (at least 1). */
unsigned srv_rate_take(struct srv_rate *r, const struct sockaddr *sa,
		       const struct timespec *now);

#endif
