#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rate.h"
#include "util.h"

struct bucket {
	struct sockaddr_storage addr;
	double tokens;
	struct timespec last;
};

static const struct {
	const char *unit, *word;
	unsigned seconds;
} periods[] = {
	{ "s", "a second", 1 },
	{ "min", "a minute", 60 },
	{ "h", "an hour", 3600 },
};

struct srv_rate {
	unsigned count, period_s; /* count POSTs every period_s seconds */
	double per_sec;		  /* n / period_s: the refill */
	pthread_mutex_t lock;
	size_t n;
	struct bucket b[SRV_RATE_ADDRS];
};

int srv_rate_parse(const char *s, unsigned *n, unsigned *period_s)
{
	const char *slash = strchr(s, '/');
	char num[24];
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t v;
	size_t i;

	if (len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = 0;
	/* ldg_parse_seq() refuses 0, which means no limit here */
	if (!strcmp(num, "0"))
		v = 0;
	else if (ldg_parse_seq(num, &v) || v > SRV_RATE_MAX)
		return -EINVAL;
	for (i = 0; slash && i < sizeof(periods) / sizeof(periods[0]); i++)
		if (!strcmp(slash + 1, periods[i].unit))
			break;
	if (slash && i == sizeof(periods) / sizeof(periods[0]))
		return -EINVAL;
	*n = (unsigned)v;
	*period_s = slash ? periods[i].seconds : 1;
	return 0;
}

struct srv_rate *srv_rate_new(unsigned n, unsigned period_s)
{
	struct srv_rate *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->count = n;
	r->period_s = period_s ? period_s : 1;
	r->per_sec = (double)n / r->period_s;
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

unsigned srv_rate_n(const struct srv_rate *r)
{
	return r->count;
}

const char *srv_rate_period(const struct srv_rate *r)
{
	for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
		if (periods[i].seconds == r->period_s)
			return periods[i].word;
	return "a second";
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
	double burst = 2.0 * r->count, wait = 0, elapsed;
	unsigned w;
	struct bucket *b = NULL, *oldest = NULL;
	size_t alen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						: sizeof(struct sockaddr_in);

	if (!r->count)
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
		wait = (1 - b->tokens) * r->period_s / r->count;
	pthread_mutex_unlock(&r->lock);
	/* whole seconds, rounded up: time enough for the missing token */
	w = (unsigned)wait;
	return w < wait ? w + 1 : w;
}
