/* Unit tests for fs/route.c's path parser: every path of the mounted
 * view (fs.h) parses into one struct lfs_path, and everything else is
 * -ENOENT. The handlers are tested through a real mount
 * (tests/scenario/mount.sh); those of a release's files also here, on
 * the fixture's ledger (fixture.h), for what a typed value's files hold. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "route.h"

static struct lfs_path parsed(const char *path)
{
	struct lfs_path p;

	assert_int_equal(lfs_parse(path, &p), 0);
	return p;
}

static void refused(const char *path)
{
	struct lfs_path p;

	if (lfs_parse(path, &p) != -ENOENT)
		fail_msg("%s parsed", path);
}

static void test_root_and_head(void **state)
{
	struct lfs_path p;

	assert_int_equal(parsed("/").node, LFS_ROOT);
	assert_int_equal(parsed("").node, LFS_ROOT);
	assert_int_equal(parsed("//").node, LFS_ROOT);
	p = parsed("/HEAD");
	assert_int_equal(p.node, LFS_HEAD);
	assert_int_equal(p.at, 0);
	refused("/HEAD/x");
	refused("/head");
	refused("/nothing");
	refused("/clusters.json");
}

static void test_clusters_tree(void **state)
{
	struct lfs_path p;

	assert_int_equal(parsed("/clusters").node, LFS_CLUSTERS);
	p = parsed("/clusters/staging");
	assert_int_equal(p.node, LFS_CLUSTER);
	assert_string_equal(p.cluster, "staging");
	p = parsed("/clusters/staging/api");
	assert_int_equal(p.node, LFS_RELEASE);
	assert_string_equal(p.target, "staging/api");
	p = parsed("/clusters/staging/api/image.tag");
	assert_int_equal(p.node, LFS_KEY);
	assert_string_equal(p.target, "staging/api");
	assert_string_equal(p.leaf, "image.tag");
	assert_int_equal(p.at, 0);
	/* repeated and trailing slashes are one separator */
	p = parsed("//clusters//prod-eu-1///web/");
	assert_int_equal(p.node, LFS_RELEASE);
	assert_string_equal(p.target, "prod-eu-1/web");
}

static void test_release_files(void **state)
{
	struct lfs_path p;

	p = parsed("/clusters/staging/api/values.yaml");
	assert_int_equal(p.node, LFS_VALUES);
	assert_string_equal(p.leaf, "values.yaml");
	assert_int_equal(parsed("/clusters/staging/api/history").node,
			 LFS_HISTORY);
	assert_int_equal(parsed("/clusters/staging/api/LOCKED").node,
			 LFS_LOCKED);
	/* nothing below a file */
	refused("/clusters/staging/api/image.tag/x");
	refused("/clusters/staging/api/values.yaml/x");
	refused("/clusters/staging/api/history/1");
}

static void test_bad_names_are_enoent(void **state)
{
	char path[600];

	refused("/clusters/-staging");
	refused("/clusters/Staging");
	refused("/clusters/staging/-api");
	refused("/clusters/staging/api/.hidden");
	refused("/clusters/staging/api/a..b");
	refused("/clusters/staging/api/!lock");
	/* a key of 253 characters is a key; 254 is not; a segment longer
	 * than any name is refused before it is copied */
	memcpy(path, "/clusters/s/a/", 14);
	memset(path + 14, 'k', 253);
	path[14 + 253] = '\0';
	assert_int_equal(parsed(path).node, LFS_KEY);
	assert_int_equal(strlen(parsed(path).leaf), 253);
	memset(path + 14, 'k', 254);
	path[14 + 254] = '\0';
	refused(path);
	memset(path + 14, 'k', 500);
	path[14 + 500] = '\0';
	refused(path);
	memset(path, 'c', 500);
	path[0] = '/';
	path[500] = '\0';
	refused(path);
}

static void test_entries(void **state)
{
	struct lfs_path p;

	assert_int_equal(parsed("/entries").node, LFS_ENTRIES);
	p = parsed("/entries/42");
	assert_int_equal(p.node, LFS_ENTRY);
	assert_int_equal(p.seq, 42);
	p = parsed("/entries/42.json");
	assert_int_equal(p.node, LFS_ENTRY_JSON);
	assert_int_equal(p.seq, 42);
	p = parsed("/entries/9223372036854775807");
	assert_int_equal(p.seq, INT64_MAX);
	/* one name per entry: no leading zeros, no seq 0 */
	refused("/entries/042");
	refused("/entries/0");
	refused("/entries/0.json");
	refused("/entries/.json");
	refused("/entries/42.JSON");
	refused("/entries/42.json.json");
	refused("/entries/-1");
	refused("/entries/x");
	refused("/entries/9223372036854775808");
	refused("/entries/42/x");
}

static void test_at_seq(void **state)
{
	struct lfs_path p;

	assert_int_equal(parsed("/at").node, LFS_AT);
	p = parsed("/at/3");
	assert_int_equal(p.node, LFS_AT_SEQ);
	assert_int_equal(p.at, 3);
	p = parsed("/at/3/clusters");
	assert_int_equal(p.node, LFS_CLUSTERS);
	assert_int_equal(p.at, 3);
	p = parsed("/at/3/clusters/staging/api/image.tag");
	assert_int_equal(p.node, LFS_KEY);
	assert_int_equal(p.at, 3);
	assert_string_equal(p.target, "staging/api");
	assert_string_equal(p.leaf, "image.tag");
	refused("/at/03");
	refused("/at/0");
	refused("/at/x");
	refused("/at/3/HEAD");
	refused("/at/3/entries");
	refused("/at/3/at/2");
}

static void test_keys(void **state)
{
	struct lfs_path p;

	assert_int_equal(parsed("/keys").node, LFS_KEYS);
	p = parsed("/keys/alice.pub");
	assert_int_equal(p.node, LFS_KEYFILE);
	assert_string_equal(p.leaf, "alice");
	p = parsed("/keys/ci.bot_1-X.pub");
	assert_string_equal(p.leaf, "ci.bot_1-X");
	refused("/keys/alice");
	refused("/keys/.pub");
	refused("/keys/alice.key");
	refused("/keys/a b.pub");
	refused("/keys/alice.pub/x");
}

/* promotion policies: POLICY and PENDING beside a release's values,
 * the top-level policies file and pending/SEQ */
static void test_policy_paths(void **state)
{
	struct lfs_path p;

	p = parsed("/clusters/production/api/POLICY");
	assert_int_equal(p.node, LFS_POLICY);
	assert_string_equal(p.target, "production/api");
	assert_int_equal(p.at, 0);
	p = parsed("/clusters/production/api/PENDING");
	assert_int_equal(p.node, LFS_PENDING);
	assert_string_equal(p.target, "production/api");
	/* under at/SEQ/ they parse (their handlers say ENOENT there) */
	p = parsed("/at/7/clusters/production/api/POLICY");
	assert_int_equal(p.node, LFS_POLICY);
	assert_int_equal(p.at, 7);
	/* other spellings are key names, as for LOCKED */
	assert_int_equal(parsed("/clusters/production/api/policy").node,
			 LFS_KEY);
	assert_int_equal(parsed("/clusters/production/api/POLICY.x").node,
			 LFS_KEY);
	refused("/clusters/production/api/POLICY/x");
	refused("/clusters/production/api/PENDING/12");
	assert_int_equal(parsed("/policies").node, LFS_POLICIES);
	refused("/policies/x");
	refused("/POLICIES");
	assert_int_equal(parsed("/pending").node, LFS_PROPOSALS);
	p = parsed("/pending/12");
	assert_int_equal(p.node, LFS_PROPOSAL);
	assert_int_equal(p.seq, 12);
	assert_int_equal(parsed("/pending/9223372036854775807").seq, INT64_MAX);
	/* one name per proposal, as for entries/ */
	refused("/pending/012");
	refused("/pending/0");
	refused("/pending/12.json");
	refused("/pending/x");
	refused("/pending/-1");
	refused("/pending/9223372036854775808");
	refused("/pending/12/x");
	refused("/at/3/pending");
	refused("/at/3/policies");
	refused("/clusters/production/api/pending/12");
}

/* drift: DRIFT beside a release's values, a file that changes with the
 * ledger only */
static void test_drift_path(void **state)
{
	struct lfs_path p;

	p = parsed("/clusters/staging/api/DRIFT");
	assert_int_equal(p.node, LFS_DRIFT);
	assert_string_equal(p.target, "staging/api");
	assert_string_equal(p.leaf, "DRIFT");
	assert_false(lfs_route_of(&p)->dir);
	assert_non_null(lfs_route_of(&p)->render);
	assert_false(lfs_immutable(&p));
	assert_false(lfs_route_of(&p)->clock);
	/* under at/SEQ/ it parses (its handler says ENOENT there) */
	p = parsed("/at/7/clusters/staging/api/DRIFT");
	assert_int_equal(p.node, LFS_DRIFT);
	assert_int_equal(p.at, 7);
	/* other spellings are key names */
	assert_int_equal(parsed("/clusters/staging/api/drift").node, LFS_KEY);
	assert_int_equal(parsed("/clusters/staging/api/DRIFT.x").node, LFS_KEY);
	refused("/clusters/staging/api/DRIFT/x");
	refused("/clusters/staging/DRIFT");
}

/* what the table says of each kind of path */
static void test_routes_and_immutability(void **state)
{
	struct lfs_path p;

	p = parsed("/clusters/staging");
	assert_true(lfs_route_of(&p)->dir);
	assert_false(lfs_immutable(&p));
	p = parsed("/clusters/staging/api/image.tag");
	assert_false(lfs_route_of(&p)->dir);
	assert_non_null(lfs_route_of(&p)->render);
	assert_false(lfs_immutable(&p));
	assert_false(lfs_immutable((p = parsed("/HEAD"), &p)));
	/* history never changes: entries/, at/SEQ/..., keys/NAME.pub */
	assert_true(lfs_immutable((p = parsed("/entries/1"), &p)));
	assert_true(lfs_immutable((p = parsed("/entries/1.json"), &p)));
	assert_true(lfs_immutable((p = parsed("/at/2"), &p)));
	assert_true(lfs_immutable(
		(p = parsed("/at/2/clusters/staging/api/values.yaml"), &p)));
	assert_true(lfs_immutable((p = parsed("/keys/alice.pub"), &p)));
	/* the listings of huge directories resume from offsets */
	assert_true(lfs_route_of((p = parsed("/entries"), &p))->offsets);
	assert_true(lfs_route_of((p = parsed("/at"), &p))->offsets);
	assert_false(lfs_route_of((p = parsed("/clusters"), &p))->offsets);
	/* policies and proposals change with the ledger; what POLICY and
	 * policies say of a freeze window changes with the clock too */
	p = parsed("/clusters/production/api/POLICY");
	assert_false(lfs_immutable(&p));
	assert_true(lfs_route_of(&p)->clock);
	assert_true(lfs_route_of((p = parsed("/policies"), &p))->clock);
	p = parsed("/clusters/production/api/PENDING");
	assert_false(lfs_immutable(&p));
	assert_false(lfs_route_of(&p)->clock);
	p = parsed("/pending/12");
	assert_false(lfs_immutable(&p));
	assert_false(lfs_route_of(&p)->clock);
	assert_false(lfs_route_of(&p)->dir);
	p = parsed("/pending");
	assert_true(lfs_route_of(&p)->dir);
	assert_false(lfs_immutable(&p));
	assert_false(lfs_route_of(&p)->clock);
	assert_false(lfs_route_of((p = parsed("/HEAD"), &p))->clock);
	assert_false(
		lfs_route_of((p = parsed("/clusters/staging/api/history"), &p))
			->clock);
}

/* The content route's handler renders for path, from f's head. */
static char *rendered(struct fx *f, const char *path)
{
	struct lfs_path p = parsed(path);
	struct ldg_read *r;
	uint64_t mtime;
	size_t len;
	char *buf;

	assert_int_equal(ldg_read_begin(f->s, &r, NULL), 0);
	assert_int_equal(lfs_route_of(&p)->render(r, &p, &buf, &len, &mtime),
			 0);
	ldg_read_end(r);
	assert_int_equal(len, strlen(buf));
	return buf;
}

/* A typed value's KEY file holds its JSON text and the newline, as
 * `ledger get` prints it; values.yaml gives it its YAML type, while a
 * string that reads the same stays quoted. */
static void test_typed_values_files(void **state)
{
	static const struct {
		const char *path, *want;
	} files[] = {
		{ "/clusters/staging/api/replicas", "3\n" },
		{ "/clusters/staging/api/on", "false\n" },
		{ "/clusters/staging/api/ports", "[80,\"x\",null]\n" },
		{ "/clusters/staging/api/name", "3\n" },
		{ "/clusters/staging/api/values.yaml",
		  "name: \"3\"\n\"on\": false\nports: [80, \"x\", null]\n"
		  "replicas: 3\n" },
	};
	struct fx *f = *state;
	struct ldg_kv kv[] = {
		{ .key = "name", .value = "3" },
		{ .key = "on", .value = "false", .type = LDG_V_JSON },
		{ .key = "ports",
		  .value = "[80,\"x\",null]",
		  .type = LDG_V_JSON },
		{ .key = "replicas", .value = "3", .type = LDG_V_JSON },
	};
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };

	if (ldg_set(f->s, f->admin, "staging/api", kv, 4, "typed", NULL, 0, 0,
		    &res, &err))
		fail_msg("%s", err.msg);
	ldg_result_free(&res);
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char *got = rendered(f, files[i].path);
		if (strcmp(got, files[i].want))
			fail_msg("%s: \"%s\", not \"%s\"", files[i].path, got,
				 files[i].want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_and_head),
		cmocka_unit_test(test_clusters_tree),
		cmocka_unit_test(test_release_files),
		cmocka_unit_test(test_bad_names_are_enoent),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_at_seq),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_policy_paths),
		cmocka_unit_test(test_drift_path),
		cmocka_unit_test(test_routes_and_immutability),
		cmocka_unit_test_setup_teardown(test_typed_values_files,
						fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, fx_group_setup, NULL);
}
