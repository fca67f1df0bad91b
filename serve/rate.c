#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"

struct bucket {
	struct sockaddr_storage addr;
	double tokens;
	struct timespec last;
};

struct srv_rate {
	unsigned per_sec;
	pthread_mutex_t lock;
	size_t n;
	struct bucket b[SRV_RATE_ADDRS];
};

struct srv_rate *srv_rate_new(unsigned per_sec)
{
	struct srv_rate *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->per_sec = per_sec;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void srv_rate_free(struct srv_rate *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

unsigned srv_rate_per_sec(const struct srv_rate *r)
{
	return r->per_sec;
}

static bool same_host(const struct sockaddr_storage *a,
		      const struct sockaddr *sa)
{
	if (a->ss_family != sa->sa_family)
		return false;
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
	if (sa->sa_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)sa)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

static bool earlier(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

unsigned srv_rate_take(struct srv_rate *r, const struct sockaddr *sa,
		       const struct timespec *now)
{
	double burst = 2.0 * r->per_sec, wait = 0, elapsed;
	struct bucket *b = NULL, *oldest = NULL;
	size_t alen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						: sizeof(struct sockaddr_in);

	if (!r->per_sec)
		return 0;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n && !b; i++) {
		if (same_host(&r->b[i].addr, sa))
			b = &r->b[i];
		else if (!oldest || earlier(&r->b[i].last, &oldest->last))
			oldest = &r->b[i];
	}
	if (!b) {
		b = r->n < SRV_RATE_ADDRS ? &r->b[r->n++] : oldest;
		memset(&b->addr, 0, sizeof(b->addr));
		memcpy(&b->addr, sa, alen);
		b->tokens = burst;
		b->last = *now;
	}
	elapsed = (double)(now->tv_sec - b->last.tv_sec) +
		  (double)(now->tv_nsec - b->last.tv_nsec) / 1e9;
	if (elapsed > 0) {
		b->tokens += elapsed * r->per_sec;
		b->last = *now;
	}
	if (b->tokens > burst)
		b->tokens = burst;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (1 - b->tokens) / r->per_sec;
	pthread_mutex_unlock(&r->lock);
	return wait > 0 ? (unsigned)wait + 1 : 0;
}
