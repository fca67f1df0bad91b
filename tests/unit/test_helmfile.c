/* Unit tests for apply/helmfile.c's reader of `helmfile build`: the
 * releases, namespaces and deployment labels of every state document,
 * and the refusals (one line naming the file and the document). Running
 * helmfile is tested with a stand-in on PATH (tests/scenario/apply.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "helmfile.h"

static int parse(const char *yaml, struct apl_releases *out,
		 struct ldg_err *err)
{
	return apl_parse_build(yaml, strlen(yaml), "helmfile.yaml", out, err);
}

/* yaml is refused with -EINVAL and a message containing want */
static void refused(const char *yaml, const char *want)
{
	struct apl_releases r;
	struct ldg_err err = { 0 };

	assert_int_equal(parse(yaml, &r, &err), -EINVAL);
	assert_int_equal(err.code, -EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, want);
	assert_null(r.v);
	assert_int_equal(r.n, 0);
}

static void test_reads_releases_of_every_document(void **state)
{
	static const char yaml[] = "---\n"
				   "#  Source: clusters/staging/helmfile.yaml\n"
				   "\n"
				   "filepath: clusters/staging/helmfile.yaml\n"
				   "releases:\n"
				   "- chart: ./charts/api\n"
				   "  name: api\n"
				   "  namespace: apps\n"
				   "  labels:\n"
				   "    deployment: manual\n"
				   "- name: web\n"
				   "  labels: {deployment: auto, team: web}\n"
				   "- name: cron\n"
				   "  namespace: batch\n"
				   "---\n"
				   "#  Source: clusters/prod/helmfile.yaml\n"
				   "\n"
				   "helmfiles:\n"
				   "- path: nested.yaml\n"
				   "releases:\n"
				   "- name: api\n"
				   "  labels:\n"
				   "    deployment: canary\n";
	struct apl_releases r;
	struct ldg_err err = { 0 };

	assert_int_equal(parse(yaml, &r, &err), 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.v[0].name, "api");
	assert_string_equal(r.v[0].ns, "apps");
	assert_string_equal(r.v[0].label, "manual");
	assert_int_equal(r.v[0].mode, APL_MANUAL);
	assert_string_equal(r.v[1].name, "web");
	assert_string_equal(r.v[1].ns, "");
	assert_int_equal(r.v[1].mode, APL_AUTO);
	assert_string_equal(r.v[2].name, "cron");
	assert_string_equal(r.v[2].ns, "batch");
	assert_string_equal(r.v[2].label, "");
	assert_int_equal(r.v[2].mode, APL_UNLABELLED);
	/* another label value is kept as written, and left alone */
	assert_string_equal(r.v[3].label, "canary");
	assert_int_equal(r.v[3].mode, APL_UNLABELLED);
	apl_releases_free(&r);
	assert_null(r.v);
	assert_int_equal(r.n, 0);
	apl_releases_free(NULL);
}

static void test_documents_without_releases_are_states(void **state)
{
	struct apl_releases r;

	assert_int_equal(parse("---\nhelmfiles:\n- path: a.yaml\n"
			       "---\nreleases: []\n",
			       &r, NULL),
			 0);
	assert_int_equal(r.n, 0);
	apl_releases_free(&r);
	/* labels are matched exactly: Manual is not manual */
	assert_int_equal(parse("releases:\n- name: a\n  labels:\n"
			       "    deployment: Manual\n",
			       &r, NULL),
			 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].mode, APL_UNLABELLED);
	apl_releases_free(&r);
}

static void test_too_long_fields_are_dropped_not_cut(void **state)
{
	char yaml[512];
	struct apl_releases r;

	/* a namespace or label longer than kept reads as none */
	snprintf(yaml, sizeof(yaml),
		 "releases:\n- name: a\n  namespace: %0*d\n"
		 "  labels: {deployment: %0*d}\n",
		 LDG_RELEASE_MAX + 11, 0, 32, 0);
	assert_int_equal(parse(yaml, &r, NULL), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].ns, "");
	assert_string_equal(r.v[0].label, "");
	apl_releases_free(&r);
}

static void test_refuses_what_is_not_a_build(void **state)
{
	refused("", "printed no state");
	refused("# only a comment\n", "printed no state");
	refused("releases: [\n", "does not parse (line ");
	refused("- a\n- b\n", "document 1 of helmfile build is not a mapping");
	refused("releases: {}\n", "document 1: releases is not a list");
	refused("---\nreleases: []\n---\nreleases: x\n",
		"document 2: releases is not a list");
	refused("releases:\n- just-a-name\n",
		"document 1: a release is not a mapping");
	refused("releases:\n- labels: {deployment: manual}\n",
		"a release has no valid name");
	refused("releases:\n- name: Api\n", "a release has no valid name");
	refused("releases:\n- name: [api]\n", "a release has no valid name");
	refused("releases:\n- name: api\n  labels: [deployment]\n",
		"release api: labels is not a mapping");
	/* the file is named in every refusal */
	refused("releases: {}\n", "helmfile.yaml: ");
}

static void test_a_refusal_keeps_nothing_of_earlier_documents(void **state)
{
	/* the first document's release is freed, not returned */
	refused("---\nreleases:\n- name: api\n---\nreleases:\n- name: -x\n",
		"document 2: a release has no valid name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_releases_of_every_document),
		cmocka_unit_test(test_documents_without_releases_are_states),
		cmocka_unit_test(test_too_long_fields_are_dropped_not_cut),
		cmocka_unit_test(test_refuses_what_is_not_a_build),
		cmocka_unit_test(
			test_a_refusal_keeps_nothing_of_earlier_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
