/* Unit tests for serve/route.c: the route table of `ledger serve` and the
 * parsing of a path into its row. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"

/* The row's index of url, or the parse's negative errno. */
static int route_of(const char *url, struct srv_path *p, struct ldg_err *err)
{
	const struct srv_route *rt;
	int rc = srv_route_parse(url, &rt, p, err);

	if (rc)
		return rc;
	return (int)(rt - srv_routes);
}

/* Each of the n paths is refused with rc, saying why; *rt is the row
 * of a bad seq or scope (-EINVAL), NULL for no row (-ENOENT). */
static void expect_refused(const char *const *paths, size_t n, int rc)
{
	const struct srv_route *rt;
	struct srv_path p;

	for (size_t i = 0; i < n; i++) {
		struct ldg_err err = { 0 };
		assert_int_equal(srv_route_parse(paths[i], &rt, &p, &err), rc);
		assert_int_equal(rt == NULL, rc == -ENOENT);
		assert_true(strlen(err.msg) > 0);
	}
}

static void test_route_parses_every_endpoint(void **state)
{
	struct srv_path p;
	assert_int_equal(route_of("/api/v1/head", &p, NULL), SRV_R_HEAD);
	assert_int_equal(route_of("/api/v1/state", &p, NULL), SRV_R_STATE);
	assert_int_equal(route_of("/api/v1/entries", &p, NULL), SRV_R_ENTRIES);
	assert_int_equal(route_of("/api/v1/verify", &p, NULL), SRV_R_VERIFY);
	assert_int_equal(route_of("/api/v1/events", &p, NULL), SRV_R_EVENTS);
	assert_int_equal(route_of("/api/v1/entries/42", &p, NULL), SRV_R_ENTRY);
	assert_int_equal(p.seq, 42);
	assert_int_equal(route_of("/api/v1/history/staging/api", &p, NULL),
			 SRV_R_HISTORY);
	assert_string_equal(p.scope, "staging/api");
	assert_int_equal(route_of("/api/v1/history/prod", &p, NULL),
			 SRV_R_HISTORY);
	assert_string_equal(p.scope, "prod");
	assert_int_equal(route_of("/api/v1/releases", &p, NULL),
			 SRV_R_RELEASES);
	assert_int_equal(route_of("/api/v1/keys", &p, NULL), SRV_R_KEYS);
	assert_int_equal(route_of("/api/v1/drafts", &p, NULL), SRV_R_DRAFTS);
	assert_int_equal(route_of("/api/v1/checkpoint", &p, NULL),
			 SRV_R_CHECKPOINT);
	assert_int_equal(route_of("/api/v1/entries/7/check", &p, NULL),
			 SRV_R_CHECK);
	assert_int_equal(p.seq, 7);
	assert_int_equal(route_of("/api/v1/pending", &p, NULL), SRV_R_PENDING);
	assert_int_equal(route_of("/api/v1/policy", &p, NULL), SRV_R_POLICY);
	assert_int_equal(route_of("/api/v1/policies", &p, NULL),
			 SRV_R_POLICIES);
}

static void test_route_unknown_paths_are_enoent(void **state)
{
	static const char *const paths[] = {
		"",
		"/",
		"/api",
		"/api/v1",
		"/api/v1/",
		"/api/v1/head/",
		"/api/v1/heads",
		"/api/v2/head",
		"/API/v1/head",
		"/api/v1/entries/1/x",
		"/api/v1/entries/7/checks",
		"/api/v1/history/",
		"/api/v1/entries/",
		"//api/v1/head",
	};
	expect_refused(paths, sizeof(paths) / sizeof(paths[0]), -ENOENT);
}

/* C2SP tlog-tiles under /tlog/: the checkpoint, tiles and bundles by
 * their exact paths (tlog.h); anything else there is not found, as on a
 * static host. */
static void test_route_parses_tile_paths(void **state)
{
	static const char *const paths[] = {
		"/tlog/",
		"/tlog/tile",
		"/tlog/tile/0",
		"/tlog/tile/0/",
		"/tlog/tile/0/1",
		"/tlog/tile/0/x000/001",
		"/tlog/tile/00/000",
		"/tlog/tile/64/000",
		"/tlog/tile/0/000.p/256",
		"/tlog/tile/0/000.p/0",
		"/tlog/tile/0/000.p/",
		"/tlog/tile/0/001/234",
		"/tlog/tile/entries/x001",
		"/tlog/tile/entries/000/",
		"/tlog/checkpoint/",
		"/tlog/tile/0/000?",
	};
	struct srv_path p;

	assert_int_equal(route_of("/tlog/checkpoint", &p, NULL),
			 SRV_R_TLOG_CHECKPOINT);
	assert_int_equal(route_of("/tlog/tile/0/x001/x234/067", &p, NULL),
			 SRV_R_TLOG_TILE);
	assert_int_equal(p.level, 0);
	assert_int_equal(p.n, 1234067);
	assert_int_equal(p.width, 256);
	assert_int_equal(route_of("/tlog/tile/entries/003.p/112", &p, NULL),
			 SRV_R_TLOG_TILE);
	assert_int_equal(p.level, -1);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.width, 112);
	assert_int_equal(route_of("/tlog/tile/2/000.p/1", &p, NULL),
			 SRV_R_TLOG_TILE);
	assert_int_equal(p.level, 2);
	expect_refused(paths, sizeof(paths) / sizeof(paths[0]), -ENOENT);
}

static void test_route_longer_than_path_max_is_enoent(void **state)
{
	char url[SRV_PATH_MAX + 2];
	struct srv_path p;
	memset(url, 'a', sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	memcpy(url, "/api/v1/history/", 16);
	assert_int_equal(route_of(url, &p, NULL), -ENOENT);
}

static void test_route_rejects_bad_seq_and_names_with_einval(void **state)
{
	static const char *const paths[] = {
		"/api/v1/entries/0",
		"/api/v1/entries/-1",
		"/api/v1/entries/+1",
		"/api/v1/entries/1x",
		"/api/v1/entries/ 1",
		"/api/v1/entries/99999999999999999999",
		"/api/v1/entries/9223372036854775808",
		"/api/v1/entries/x/check",
		"/api/v1/entries//check",
		"/api/v1/history/Prod",
		"/api/v1/history/prod/",
		"/api/v1/history/prod/a/b",
		"/api/v1/history/prod/API",
		"/api/v1/history/-x",
		"/api/v1/history/a_b",
	};
	expect_refused(paths, sizeof(paths) / sizeof(paths[0]), -EINVAL);
}

static void test_route_entry_takes_the_largest_seq(void **state)
{
	struct srv_path p;
	assert_int_equal(route_of("/api/v1/entries/9223372036854775807", &p,
				  NULL),
			 SRV_R_ENTRY);
	assert_true(p.seq == INT64_MAX);
}

static void test_route_params_belong_to_their_route(void **state)
{
	assert_true(srv_route_param_ok(SRV_R_STATE, "at"));
	assert_true(srv_route_param_ok(SRV_R_STATE, "scope"));
	assert_false(srv_route_param_ok(SRV_R_STATE, "after"));
	assert_true(srv_route_param_ok(SRV_R_ENTRIES, "after"));
	assert_true(srv_route_param_ok(SRV_R_ENTRIES, "limit"));
	assert_false(srv_route_param_ok(SRV_R_ENTRIES, "at"));
	assert_true(srv_route_param_ok(SRV_R_HISTORY, "before"));
	assert_true(srv_route_param_ok(SRV_R_HISTORY, "limit"));
	assert_true(srv_route_param_ok(SRV_R_EVENTS, "after"));
	assert_false(srv_route_param_ok(SRV_R_EVENTS, "limit"));
	assert_false(srv_route_param_ok(SRV_R_HEAD, "at"));
	assert_false(srv_route_param_ok(SRV_R_ENTRY, "after"));
	assert_false(srv_route_param_ok(SRV_R_STATE, "AT"));
	assert_false(srv_route_param_ok(SRV_R_STATE, ""));
	assert_true(srv_route_param_ok(SRV_R_RELEASES, "scope"));
	assert_false(srv_route_param_ok(SRV_R_KEYS, "scope"));
	assert_false(srv_route_param_ok(SRV_R_DRAFTS, "scope"));
	assert_true(srv_route_param_ok(SRV_R_PENDING, "scope"));
	assert_false(srv_route_param_ok(SRV_R_PENDING, "target"));
	assert_true(srv_route_param_ok(SRV_R_POLICY, "target"));
	assert_false(srv_route_param_ok(SRV_R_POLICY, "scope"));
	assert_false(srv_route_param_ok(SRV_R_POLICIES, "target"));
}

static void test_route_methods_are_in_the_table(void **state)
{
	/* the POST routes of docs/api.md, and no other */
	for (size_t i = 0; i < SRV_R_COUNT; i++)
		assert_int_equal(srv_routes[i].post != NULL,
				 i == SRV_R_ENTRIES || i == SRV_R_DRAFTS ||
					 i == SRV_R_CHECKPOINT);
	/* drafts are POST only */
	for (size_t i = 0; i < SRV_R_COUNT; i++)
		assert_int_equal(srv_routes[i].get == NULL, i == SRV_R_DRAFTS);
}

static void test_route_every_post_says_what_body_it_takes(void **state)
{
	for (size_t i = 0; i < SRV_R_COUNT; i++) {
		const struct srv_route *rt = &srv_routes[i];
		if (!rt->post) {
			assert_null(rt->bodies[0].type);
			continue;
		}
		assert_non_null(rt->bodies[0].type);
		assert_true(rt->bodies[0].max > 0);
		assert_non_null(rt->body_hint);
		assert_non_null(strstr(rt->body_hint, rt->bodies[0].type));
	}
	assert_string_equal(srv_routes[SRV_R_ENTRIES].bodies[0].type,
			    "application/json");
	assert_string_equal(srv_routes[SRV_R_ENTRIES].bodies[1].type,
			    "application/msgpack");
	assert_string_equal(srv_routes[SRV_R_CHECKPOINT].bodies[0].type,
			    "text/plain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_parses_every_endpoint),
		cmocka_unit_test(test_route_unknown_paths_are_enoent),
		cmocka_unit_test(test_route_parses_tile_paths),
		cmocka_unit_test(test_route_longer_than_path_max_is_enoent),
		cmocka_unit_test(
			test_route_rejects_bad_seq_and_names_with_einval),
		cmocka_unit_test(test_route_entry_takes_the_largest_seq),
		cmocka_unit_test(test_route_params_belong_to_their_route),
		cmocka_unit_test(test_route_methods_are_in_the_table),
		cmocka_unit_test(test_route_every_post_says_what_body_it_takes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
