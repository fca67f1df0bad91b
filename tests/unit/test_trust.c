/*
 * Unit tests for ledger/trust.c: witness trust policies, parsed from
 * good and bad files, and the quorum decided over cosigned checkpoints.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "testlib.h"
#include "tlog.h"
#include "trust.h"

#define ORIGIN "example.com/deploy/prod"
#define NW 4

static struct ldg_signer *logkey, *w[NW], *stranger, *notekey;
/* the verifier key texts of w[], stranger and a note (0x01) key */
static char wk[NW][LDG_VKEY_TEXT_MAX], sk[LDG_VKEY_TEXT_MAX],
	nk[LDG_VKEY_TEXT_MAX];
static char *note; /* a checkpoint signed by logkey, no cosignature */

static int group_setup(void **state)
{
	static const char *names[NW] = { "w1.example", "w2.example",
					 "w3.example", "w4.example" };
	uint8_t root[LDG_HASH_BYTES] = { 1, 2, 3 };

	if (ldg_crypto_init() ||
	    ldg_signer_generate("log.example", &logkey, NULL) ||
	    ldg_signer_generate_alg("stranger.example", LDG_ALG_COSIG,
				    &stranger, NULL) ||
	    ldg_signer_generate("note.example", &notekey, NULL))
		return -1;
	for (int i = 0; i < NW; i++) {
		if (ldg_signer_generate_alg(names[i], LDG_ALG_COSIG, &w[i],
					    NULL))
			return -1;
		ldg_cosigner_format(ldg_signer_vkey(w[i]), wk[i]);
	}
	ldg_cosigner_format(ldg_signer_vkey(stranger), sk);
	ldg_vkey_format(ldg_signer_vkey(notekey), nk);
	return ldg_checkpoint_make(ORIGIN, 42, root, logkey, &note, NULL);
}

static int group_teardown(void **state)
{
	for (int i = 0; i < NW; i++)
		ldg_signer_free(w[i]);
	ldg_signer_free(logkey);
	ldg_signer_free(stranger);
	ldg_signer_free(notekey);
	free(note);
	return 0;
}

/* printf into a static buffer: the policy text of a test */
static const char *fmt(const char *f, ...)
	__attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char buf[16384];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

static struct ldg_trust *parse_ok(const char *text)
{
	struct ldg_trust *t = NULL;
	struct ldg_err err = { 0 };
	int rc = ldg_trust_parse(text, strlen(text), &t, &err);

	if (rc)
		fail_msg("refused: %s\n%s", err.msg, text);
	assert_non_null(t);
	return t;
}

/* The policy is refused with a message containing why. */
static void parse_bad(const char *text, const char *why)
{
	struct ldg_trust *t = (struct ldg_trust *)1;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_trust_parse(text, strlen(text), &t, &err),
			 -EINVAL);
	assert_null(t);
	if (!strstr(err.msg, why))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, why);
}

/* note cosigned by the signers in ws (n of them) at time 1000 + i */
static struct ldg_checkpoint *cosigned(struct ldg_signer *const *ws, size_t n)
{
	struct ldg_checkpoint *cp = malloc(sizeof(*cp));
	char *text = malloc(strlen(note) + n * LDG_COSIG_LINE_MAX + 1);
	struct ldg_err err = { 0 };

	assert_non_null(cp);
	assert_non_null(text);
	assert_int_equal(ldg_checkpoint_parse(note, strlen(note), cp, &err), 0);
	strcpy(text, note);
	for (size_t i = 0; i < n; i++) {
		char line[LDG_COSIG_LINE_MAX];
		assert_int_equal(ldg_cosign(ws[i], 1000 + i, cp->text,
					    cp->text_len, line, &err),
				 0);
		strcat(text, line);
	}
	assert_int_equal(ldg_checkpoint_parse(text, strlen(text), cp, &err), 0);
	free(text);
	return cp;
}

/* ---- parsing ---- */

static void test_parse_accepts_sigsum_form(void **state)
{
	struct ldg_trust *t = parse_ok(
		fmt("# the witnesses we trust\n"
		    "witness   A %s  https://w1.example/   # trailing comment\n"
		    "\twitness B %s\r\n"
		    "witness C %s\n"
		    "\n"
		    "   \n"
		    "witness D %s http://w4.example:8080/witness\n"
		    "group two-of-abc 2 A B C\n"
		    "group d-alone any D\n"
		    "group both all two-of-abc d-alone\n"
		    "quorum both # at the end\n",
		    wk[0], wk[1], wk[2], wk[3]));
	ldg_trust_free(t);
	ldg_trust_free(NULL);
}

static void test_parse_accepts_a_witness_as_quorum(void **state)
{
	ldg_trust_free(parse_ok(fmt("witness A %s\nquorum A", wk[0])));
}

/* a type 0x04 witness key of transparency-dev/formats' policy tests,
 * with its URL; their type 0x01 keys are refused (ldg_cosigner_parse) */
static void test_parse_accepts_an_outside_cosigner_key(void **state)
{
	ldg_trust_free(parse_ok("witness w4 remora.n621.de+da77ade7+"
				"BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2 "
				"https://example.com/remora\n"
				"quorum w4\n"));
	parse_bad("witness w1 sigsum.org+e4ade967+"
		  "AZuUY6B08pW3QVHu8uvsrxWPcAv9nykap2Nb4oxCee+r "
		  "https://sigsum.org/witness/\nquorum w1\n",
		  "line 1: witness \"w1\": ");
}

/* names must be defined before they are used, so a group naming itself
 * or a later group (a cycle) is an unknown name */
static void test_parse_refuses_unknown_member_and_cycles(void **state)
{
	parse_bad(fmt("witness A %s\ngroup g any A X\nquorum g\n", wk[0]),
		  "line 2: unknown name \"X\"");
	parse_bad(fmt("witness A %s\ngroup g any A g\nquorum g\n", wk[0]),
		  "line 2: unknown name \"g\"");
	parse_bad(fmt("witness A %s\ngroup g any A h\ngroup h any A g\n"
		      "quorum g\n",
		      wk[0]),
		  "line 2: unknown name \"h\"");
	parse_bad(fmt("quorum A\nwitness A %s\n", wk[0]),
		  "line 1: unknown name \"A\"");
	parse_bad(fmt("witness A %s\nquorum B\n", wk[0]),
		  "line 2: unknown name \"B\"");
}

static void test_parse_refuses_bad_thresholds(void **state)
{
	const char *w2 = fmt("witness A %s\nwitness B %s\n", wk[0], wk[1]);
	char base[2048];

	snprintf(base, sizeof(base), "%s", w2);
	parse_bad(fmt("%sgroup g 3 A B\nquorum g\n", base),
		  "line 3: group \"g\": threshold 3 is not 1..2");
	parse_bad(fmt("%sgroup g 0 A B\nquorum g\n", base),
		  "threshold 0 is not 1..2");
	parse_bad(fmt("%sgroup g -1 A B\nquorum g\n", base),
		  "threshold \"-1\" is not a number, any or all");
	parse_bad(fmt("%sgroup g 01 A B\nquorum g\n", base),
		  "threshold \"01\" is not a number");
	parse_bad(fmt("%sgroup g two A B\nquorum g\n", base),
		  "threshold \"two\" is not a number");
	parse_bad(fmt("%sgroup g 99999999999999999999 A B\nquorum g\n", base),
		  "is not a number");
	parse_bad(fmt("%sgroup g any\nquorum g\n", base),
		  "line 3: expected \"group NAME THRESHOLD MEMBER...\"");
	parse_bad(fmt("%sgroup g 1 A A\nquorum g\n", base),
		  "line 3: group \"g\" names \"A\" twice");
}

static void test_parse_refuses_duplicate_names_and_keys(void **state)
{
	parse_bad(fmt("witness A %s\nwitness A %s\nquorum A\n", wk[0], wk[1]),
		  "line 2: the name \"A\" is defined already (line 1)");
	parse_bad(fmt("witness A %s\ngroup A any A\nquorum A\n", wk[0]),
		  "line 2: the name \"A\" is defined already (line 1)");
	/* one key under two names would count one cosignature twice */
	parse_bad(fmt("witness A %s\nwitness B %s\ngroup g 2 A B\nquorum g\n",
		      wk[0], wk[0]),
		  "line 2: witness \"B\" has the key of witness \"A\"");
}

/* a witness under two members of a group of threshold 2 or more
 * (directly or through groups) would let its one cosignature count
 * twice towards that threshold */
static void test_parse_refuses_a_witness_under_two_members(void **state)
{
	char base[2048];

	snprintf(base, sizeof(base), "%s",
		 fmt("witness A %s\nwitness B %s\nwitness C %s\n", wk[0], wk[1],
		     wk[2]));
	parse_bad(fmt("%sgroup sub any A B\ngroup g 2 A sub\nquorum g\n", base),
		  "line 5: group \"g\": witness \"A\" is under both \"A\" and "
		  "\"sub\"");
	parse_bad(fmt("%sgroup x any A B\ngroup y any B C\ngroup g all x y\n"
		      "quorum g\n",
		      base),
		  "line 6: group \"g\": witness \"B\" is under both \"x\" and "
		  "\"y\"");
	/* one member alone meets an "any": an overlap counts nothing
	 * twice there; nor do disjoint members */
	ldg_trust_free(
		parse_ok(fmt("%sgroup x any A B\ngroup y any B C\n"
			     "group g any x y\ngroup h 2 x C\nquorum g\n",
			     base)));
}

static void test_parse_refuses_quorum_lines(void **state)
{
	parse_bad(fmt("witness A %s\n", wk[0]), "no quorum line");
	parse_bad("", "no quorum line");
	parse_bad("# nothing\n", "no quorum line");
	parse_bad(fmt("witness A %s\nwitness B %s\nquorum A\nquorum B\n", wk[0],
		      wk[1]),
		  "line 4: a second quorum line (the first is line 3)");
	parse_bad(fmt("witness A %s\nquorum none\n", wk[0]),
		  "line 2: \"quorum none\" demands no cosignature");
	parse_bad(fmt("witness A %s\nquorum A B\n", wk[0]),
		  "line 2: expected \"quorum NAME\"");
}

static void test_parse_refuses_bad_witness_lines(void **state)
{
	/* a ledger (note, 0x01) key is not a cosigner key */
	parse_bad(fmt("witness A %s\nquorum A\n", nk),
		  "line 1: witness \"A\": ");
	parse_bad("witness A not+a+key\nquorum A\n", "line 1: witness \"A\"");
	parse_bad("witness A\nquorum A\n",
		  "line 1: expected \"witness NAME KEY [URL]\"");
	parse_bad(fmt("witness A %s http://x/ extra\nquorum A\n", wk[0]),
		  "line 1: expected \"witness NAME KEY [URL]\"");
	parse_bad(fmt("witness any %s\nquorum any\n", wk[0]),
		  "line 1: \"any\" is a keyword, not a witness name");
	parse_bad(fmt("witness none %s\nquorum none\n", wk[0]),
		  "\"none\" is a keyword");
	parse_bad(fmt("witness A %s\ngroup all any A\nquorum A\n", wk[0]),
		  "line 2: \"all\" is a keyword, not a group name");
	parse_bad(fmt("witness "
		      "N23456789012345678901234567890123456789012345678901234"
		      "56789012345 %s\nquorum A\n",
		      wk[0]),
		  "line 1: witness name \"N234");
}

static void test_parse_refuses_other_lines_and_bytes(void **state)
{
	parse_bad(fmt("witness A %s\nwitnesses B\nquorum A\n", wk[0]),
		  "line 2: unknown line \"witnesses\" (expected witness, "
		  "group or quorum)");
	parse_bad(fmt("log %s\nwitness A %s\nquorum A\n", nk, wk[0]),
		  "line 1: a log line");
	parse_bad(fmt("witness A %s\nquorum A\x01\n", wk[0]),
		  "line 2: control character 0x01");
	parse_bad(fmt("witness A %s\nquorum \xc3\xa9\n", wk[0]),
		  "line 2: byte 0xc3");
	/* anything goes in a comment but control characters */
	ldg_trust_free(parse_ok(
		fmt("# \xc3\xa9t\xc3\xa9\nwitness A %s\nquorum A\n", wk[0])));
	{
		const char nul[] = "quorum A\0\n";
		struct ldg_trust *t;
		assert_int_equal(ldg_trust_parse(nul, sizeof(nul) - 1, &t,
						 NULL),
				 -EINVAL);
	}
}

static void test_parse_limits(void **state)
{
	char *text = malloc(LDG_TRUST_FILE_MAX + 1);
	size_t n = 0;
	struct ldg_trust *t;

	/* 64 groups, one of 64 members, is fine */
	n = 0;
	n += (size_t)sprintf(text + n, "witness A %s\n", wk[0]);
	for (int i = 0; i < LDG_TRUST_GROUPS - 1; i++)
		n += (size_t)sprintf(text + n, "group g%d any A\n", i);
	n += (size_t)sprintf(text + n, "group top any");
	for (int i = 0; i < LDG_TRUST_GROUPS - 1; i++)
		n += (size_t)sprintf(text + n, " g%d", i);
	n += (size_t)sprintf(text + n, " A\nquorum top\n");
	ldg_trust_free(parse_ok(text));
	/* one group more */
	n -= strlen("quorum top\n");
	n += (size_t)sprintf(text + n, "group more any A\nquorum top\n");
	parse_bad(text, "more than 64 groups");
	/* 65 members */
	n = 0;
	n += (size_t)sprintf(text + n, "witness A %s\n", wk[0]);
	for (int i = 0; i < LDG_TRUST_MEMBERS; i++)
		n += (size_t)sprintf(text + n, "group g%d any A\n", i);
	n += (size_t)sprintf(text + n, "group top any");
	for (int i = 0; i < LDG_TRUST_MEMBERS; i++)
		n += (size_t)sprintf(text + n, " g%d", i);
	n += (size_t)sprintf(text + n, " A\nquorum top\n");
	parse_bad(text, "has more than 64 members");
	/* 64 witnesses, then 65 */
	n = 0;
	for (int i = 0; i <= LDG_TRUST_WITNESSES; i++) {
		struct ldg_signer *k;
		char name[16], vk[LDG_VKEY_TEXT_MAX];

		snprintf(name, sizeof(name), "k%d", i);
		assert_int_equal(ldg_signer_generate_alg(name, LDG_ALG_COSIG,
							 &k, NULL),
				 0);
		ldg_cosigner_format(ldg_signer_vkey(k), vk);
		ldg_signer_free(k);
		if (i == LDG_TRUST_WITNESSES) {
			sprintf(text + n, "quorum w0\n");
			ldg_trust_free(parse_ok(text));
		}
		n += (size_t)sprintf(text + n, "witness w%d %s\n", i, vk);
	}
	sprintf(text + n, "quorum w0\n");
	parse_bad(text, "line 65: more than 64 witnesses");

	/* a file of LDG_TRUST_FILE_MAX bytes */
	memset(text, '#', LDG_TRUST_FILE_MAX);
	assert_int_equal(ldg_trust_parse(text, LDG_TRUST_FILE_MAX, &t, NULL),
			 -EINVAL);
	free(text);
}

static void test_load_prefixes_the_path(void **state)
{
	char *dir = tl_mkdtemp(), path[4096];
	const char *text = fmt("witness A %s\nquorum B\n", wk[0]);
	struct ldg_trust *t;
	struct ldg_err err = { 0 };

	snprintf(path, sizeof(path), "%s/policy", dir);
	assert_int_equal(tl_write_file(path, text, strlen(text), 0644), 0);
	assert_int_equal(ldg_trust_load(path, &t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, ": line 2: unknown name \"B\""));
	text = fmt("witness A %s\nquorum A\n", wk[0]);
	assert_int_equal(tl_write_file(path, text, strlen(text), 0644), 0);
	assert_int_equal(ldg_trust_load(path, &t, &err), 0);
	ldg_trust_free(t);
	/* a directory is not a policy */
	assert_int_not_equal(ldg_trust_load(dir, &t, &err), 0);
	assert_null(t);
	tl_rmrf(dir);
	free(dir);
}

/* ---- the quorum ---- */

static const char *policy_2of3_and_d(void)
{
	return fmt("witness A %s\nwitness B %s\nwitness C %s\nwitness D %s\n"
		   "group abc 2 A B C\n"
		   "group q all abc D\n"
		   "quorum q\n",
		   wk[0], wk[1], wk[2], wk[3]);
}

static void test_check_quorum_met_names_who_signed(void **state)
{
	struct ldg_trust *t = parse_ok(policy_2of3_and_d());
	struct ldg_signer *ws[] = { w[3], w[0], w[2] };
	struct ldg_checkpoint *cp = cosigned(ws, 3);
	struct ldg_trust_report rep;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), 0);
	assert_true(rep.met);
	assert_string_equal(rep.quorum, "q");
	assert_int_equal(rep.n, 4);
	assert_string_equal(rep.w[0].name, "A");
	assert_int_equal(rep.w[0].seen, LDG_COSIG_OK);
	assert_int_equal(rep.w[0].time, 1001);
	assert_int_equal(rep.w[1].seen, LDG_COSIG_ABSENT);
	assert_int_equal(rep.w[1].time, 0);
	assert_int_equal(rep.w[2].seen, LDG_COSIG_OK);
	assert_int_equal(rep.w[2].time, 1002);
	assert_int_equal(rep.w[3].seen, LDG_COSIG_OK);
	assert_int_equal(rep.w[3].time, 1000);
	assert_string_equal(rep.w[3].key.name, "w4.example");
	free(cp);
	ldg_trust_free(t);
}

static void test_check_quorum_not_met_names_the_group(void **state)
{
	struct ldg_trust *t = parse_ok(policy_2of3_and_d());
	struct ldg_signer *ws[] = { w[0], w[1] };  /* abc yes, D no */
	struct ldg_signer *ws2[] = { w[0], w[3] }; /* abc no, D yes */
	struct ldg_checkpoint *cp = cosigned(ws, 2);
	struct ldg_trust_report rep;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EACCES);
	assert_false(rep.met);
	assert_int_equal(rep.w[0].seen, LDG_COSIG_OK);
	assert_int_equal(rep.w[3].seen, LDG_COSIG_ABSENT);
	assert_string_equal(err.msg,
			    "witness quorum \"q\" not met: group \"q\" has 1 "
			    "of the 2 it needs (met: abc; not met: D)");
	free(cp);
	cp = cosigned(ws2, 2);
	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EACCES);
	assert_string_equal(err.msg,
			    "witness quorum \"q\" not met: group \"q\" has 1 "
			    "of the 2 it needs (met: D; not met: abc (1 of "
			    "2))");
	free(cp);
	/* no cosignature at all */
	cp = cosigned(ws, 0);
	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EACCES);
	assert_non_null(strstr(err.msg, "has 0 of the 2 it needs (met: none;"
					" not met: abc (0 of 2), D)"));
	free(cp);
	ldg_trust_free(t);
}

static void test_check_witness_quorum_and_any(void **state)
{
	struct ldg_trust *t = parse_ok(fmt("witness A %s\nquorum A\n", wk[0]));
	struct ldg_trust *any = parse_ok(fmt("witness A %s\nwitness B %s\n"
					     "group g any A B\nquorum g\n",
					     wk[0], wk[1]));
	struct ldg_signer *ws[] = { w[1] };
	struct ldg_checkpoint *cp = cosigned(ws, 1);
	struct ldg_trust_report rep;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EACCES);
	assert_string_equal(err.msg, "witness quorum \"A\" not met: witness "
				     "\"A\" did not cosign");
	assert_int_equal(ldg_trust_check(any, cp, &rep, &err), 0);
	free(cp);
	ldg_trust_free(t);
	ldg_trust_free(any);
}

/* signed-note: lines by keys the policy does not name are ignored */
static void test_check_ignores_unknown_cosigners(void **state)
{
	struct ldg_trust *t = parse_ok(fmt("witness A %s\nquorum A\n", wk[0]));
	struct ldg_signer *ws[] = { stranger, w[0], w[1] };
	struct ldg_checkpoint *cp = cosigned(ws, 3);
	struct ldg_trust_report rep;
	struct ldg_err err = { 0 };

	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), 0);
	assert_int_equal(rep.n, 1);
	free(cp);
	/* only strangers */
	cp = cosigned(ws, 1);
	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EACCES);
	free(cp);
	ldg_trust_free(t);
}

/* a bad line by a policy witness refuses the checkpoint, even when the
 * quorum is met without it */
static void test_check_refuses_a_bad_cosignature_by_a_witness(void **state)
{
	struct ldg_trust *t = parse_ok(policy_2of3_and_d());
	struct ldg_signer *ws[] = { w[0], w[1], w[2], w[3] };
	struct ldg_checkpoint *cp = cosigned(ws, 4);
	struct ldg_trust_report rep;
	struct ldg_err err = { 0 };
	size_t i;

	for (i = 0; i < cp->n_sigs; i++)
		if (cp->sigs[i].cosig &&
		    !strcmp(cp->sigs[i].name, "w2.example"))
			break;
	assert_true(i < cp->n_sigs);
	cp->sigs[i].sig[10] ^= 1;
	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EBADMSG);
	assert_false(rep.met);
	assert_int_equal(rep.w[1].seen, LDG_COSIG_BAD);
	assert_int_equal(rep.w[0].seen, LDG_COSIG_OK);
	assert_string_equal(err.msg, "the cosignature of witness \"B\" (key "
				     "w2.example) does not verify");
	/* a changed time is a bad signature too */
	cp->sigs[i].sig[10] ^= 1;
	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), 0);
	cp->sigs[i].time++;
	assert_int_equal(ldg_trust_check(t, cp, &rep, &err), -EBADMSG);
	free(cp);
	ldg_trust_free(t);
}

/* a cosignature of another checkpoint does not count */
static void test_check_refuses_a_cosignature_of_another_note(void **state)
{
	struct ldg_trust *t = parse_ok(fmt("witness A %s\nquorum A\n", wk[0]));
	struct ldg_signer *ws[] = { w[0] };
	struct ldg_checkpoint *cp = cosigned(ws, 1);
	struct ldg_trust_report rep;

	cp->text[cp->text_len - 2] ^= 1; /* the root's base64 */
	assert_int_equal(ldg_trust_check(t, cp, &rep, NULL), -EBADMSG);
	free(cp);
	ldg_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts_sigsum_form),
		cmocka_unit_test(test_parse_accepts_a_witness_as_quorum),
		cmocka_unit_test(test_parse_accepts_an_outside_cosigner_key),
		cmocka_unit_test(test_parse_refuses_unknown_member_and_cycles),
		cmocka_unit_test(test_parse_refuses_bad_thresholds),
		cmocka_unit_test(test_parse_refuses_duplicate_names_and_keys),
		cmocka_unit_test(
			test_parse_refuses_a_witness_under_two_members),
		cmocka_unit_test(test_parse_refuses_quorum_lines),
		cmocka_unit_test(test_parse_refuses_bad_witness_lines),
		cmocka_unit_test(test_parse_refuses_other_lines_and_bytes),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_load_prefixes_the_path),
		cmocka_unit_test(test_check_quorum_met_names_who_signed),
		cmocka_unit_test(test_check_quorum_not_met_names_the_group),
		cmocka_unit_test(test_check_witness_quorum_and_any),
		cmocka_unit_test(test_check_ignores_unknown_cosigners),
		cmocka_unit_test(
			test_check_refuses_a_bad_cosignature_by_a_witness),
		cmocka_unit_test(
			test_check_refuses_a_cosignature_of_another_note),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
