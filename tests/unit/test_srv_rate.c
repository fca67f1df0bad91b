/* Unit tests for serve/rate.c: the POST token buckets of `ledger serve`,
 * driven by a fake clock. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rate.h"

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	return ss;
}

static unsigned take(struct srv_rate *r, const struct sockaddr_storage *ss,
		     double t)
{
	struct timespec now = { (time_t)t,
				(long)((t - (double)(time_t)t) * 1e9) };

	return srv_rate_take(r, (const struct sockaddr *)ss, &now);
}

static void test_a_burst_of_twice_the_rate_then_wait(void **state)
{
	struct srv_rate *r = srv_rate_new(5, 1);
	struct sockaddr_storage a = v4("10.0.0.1", 1000);
	assert_non_null(r);
	for (int i = 0; i < 10; i++)
		assert_int_equal(take(r, &a, 100.0), 0);
	assert_int_equal(take(r, &a, 100.0), 1); /* empty: wait */
	/* a fifth of a second refills one token */
	assert_int_equal(take(r, &a, 100.2), 0);
	assert_int_equal(take(r, &a, 100.2), 1);
	srv_rate_free(r);
}

static void test_refill_is_capped_at_the_burst(void **state)
{
	struct srv_rate *r = srv_rate_new(2, 1);
	struct sockaddr_storage a = v4("10.0.0.1", 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(take(r, &a, 0.0), 0);
	assert_int_not_equal(take(r, &a, 0.0), 0);
	/* an hour idle gives 4 tokens, not 7200 */
	for (int i = 0; i < 4; i++)
		assert_int_equal(take(r, &a, 3600.0), 0);
	assert_int_not_equal(take(r, &a, 3600.0), 0);
	srv_rate_free(r);
}

static void test_the_wait_covers_the_missing_token(void **state)
{
	struct srv_rate *r = srv_rate_new(1, 1);
	struct sockaddr_storage a = v4("10.0.0.1", 1);
	unsigned w = 0;
	for (int i = 0; i < 2; i++)
		assert_int_equal(take(r, &a, 5.0), 0);
	/* each refused try is refused, and says at least a second */
	for (int i = 0; i < 3; i++) {
		w = take(r, &a, 5.0);
		assert_true(w >= 1);
	}
	/* after the wait it names, a POST goes through */
	assert_int_equal(take(r, &a, 5.0 + w), 0);
	srv_rate_free(r);
}

static void test_addresses_have_their_own_buckets(void **state)
{
	struct srv_rate *r = srv_rate_new(1, 1);
	struct sockaddr_storage a = v4("10.0.0.1", 1),
				a_other_port = v4("10.0.0.1", 2),
				b = v4("10.0.0.2", 1), c = v6("::1"),
				d = v6("2001:db8::1");
	assert_int_equal(take(r, &a, 1.0), 0);
	assert_int_equal(take(r, &a_other_port, 1.0), 0); /* same host */
	assert_int_not_equal(take(r, &a, 1.0), 0);
	assert_int_equal(take(r, &b, 1.0), 0);
	assert_int_equal(take(r, &c, 1.0), 0);
	assert_int_equal(take(r, &c, 1.0), 0);
	assert_int_not_equal(take(r, &c, 1.0), 0);
	assert_int_equal(take(r, &d, 1.0), 0);
	srv_rate_free(r);
}

static void test_a_full_table_recycles_the_idlest(void **state)
{
	struct srv_rate *r = srv_rate_new(1, 1);
	struct sockaddr_storage first = v4("10.1.0.0", 1), busy;
	char ip[32];
	/* the first address empties its bucket, then goes idle */
	assert_int_equal(take(r, &first, 0.0), 0);
	assert_int_equal(take(r, &first, 0.0), 0);
	assert_int_not_equal(take(r, &first, 0.0), 0);
	for (int i = 1; i < SRV_RATE_ADDRS; i++) {
		snprintf(ip, sizeof(ip), "10.2.%d.%d", i / 256, i % 256);
		busy = v4(ip, 1);
		assert_int_equal(take(r, &busy, 0.5), 0);
	}
	/* the table is full: a newcomer takes the idlest bucket (first's),
	 * and starts with a full one */
	busy = v4("10.3.0.1", 1);
	assert_int_equal(take(r, &busy, 0.6), 0);
	assert_int_equal(take(r, &busy, 0.6), 0);
	assert_int_not_equal(take(r, &busy, 0.6), 0);
	/* first comes back as a new address: a full bucket again */
	assert_int_equal(take(r, &first, 0.6), 0);
	srv_rate_free(r);
}

static void test_rate_zero_never_limits(void **state)
{
	struct srv_rate *r = srv_rate_new(0, 1);
	struct sockaddr_storage a = v4("10.0.0.1", 1);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(take(r, &a, 0.0), 0);
	assert_int_equal(srv_rate_n(r), 0);
	srv_rate_free(r);
	srv_rate_free(NULL);
}

static void test_a_rate_an_hour(void **state)
{
	struct srv_rate *r = srv_rate_new(2, 3600);
	struct sockaddr_storage a = v4("10.0.0.1", 1);
	unsigned w;
	assert_int_equal(srv_rate_n(r), 2);
	assert_string_equal(srv_rate_period(r), "an hour");
	for (int i = 0; i < 4; i++)
		assert_int_equal(take(r, &a, 0.0), 0);
	/* half an hour for the next token, even a minute later */
	assert_int_equal(take(r, &a, 0.0), 1800);
	w = take(r, &a, 60.0);
	assert_true(w >= 1740 && w <= 1741);
	assert_int_equal(take(r, &a, 1800.0), 0);
	assert_int_not_equal(take(r, &a, 1800.0), 0);
	srv_rate_free(r);
}

static void test_parse(void **state)
{
	unsigned n = 9, p = 9;
	assert_int_equal(srv_rate_parse("200", &n, &p), 0);
	assert_int_equal(n, 200);
	assert_int_equal(p, 1);
	assert_int_equal(srv_rate_parse("0", &n, &p), 0);
	assert_int_equal(n, 0);
	assert_int_equal(srv_rate_parse("5/s", &n, &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(srv_rate_parse("30/min", &n, &p), 0);
	assert_int_equal(n, 30);
	assert_int_equal(p, 60);
	assert_int_equal(srv_rate_parse("1000000/h", &n, &p), 0);
	assert_int_equal(n, 1000000);
	assert_int_equal(p, 3600);
	n = p = 9;
	assert_int_equal(srv_rate_parse("1000001", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("x", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("-1", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("5/", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("5/day", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("5/s/s", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("/h", &n, &p), -EINVAL);
	assert_int_equal(srv_rate_parse("12345678901234567890123456/h", &n, &p),
			 -EINVAL);
	/* refusals leave the outputs alone */
	assert_int_equal(n, 9);
	assert_int_equal(p, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_burst_of_twice_the_rate_then_wait),
		cmocka_unit_test(test_refill_is_capped_at_the_burst),
		cmocka_unit_test(test_the_wait_covers_the_missing_token),
		cmocka_unit_test(test_addresses_have_their_own_buckets),
		cmocka_unit_test(test_a_full_table_recycles_the_idlest),
		cmocka_unit_test(test_rate_zero_never_limits),
		cmocka_unit_test(test_a_rate_an_hour),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
