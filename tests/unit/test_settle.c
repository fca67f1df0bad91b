/* Unit tests for ldg_store_settle() on a read-only store (ledger/store.c)
 * and ldg_helper_path() (ledger/util.c): the helper program ledger-settle
 * that publishes a commit whose writer was killed between data.mdb and
 * the lock file, run with posix_spawn() from a threaded caller.
 *
 * The killed writer is this program run again as "test_settle write DIR"
 * under LD_PRELOAD=kill_after_meta.so (tests/tools): its commit reaches
 * data.mdb and it dies before it tells the lock file, which this
 * process's read-only store keeps alive. meson sets
 * KILL_AFTER_META_PRELOAD (the LD_PRELOAD for it) and LEDGER_SETTLE (the
 * helper in the build tree). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "keys.h"
#include "ops.h"
#include "store.h"
#include "testlib.h"
#include "util.h"

#define ORIGIN "example.com/settle"

static const uint8_t seed[32] = { 7 };

struct fx {
	char *tmp;
	char dir[PATH_MAX];
	char key[PATH_MAX];
	struct ldg_store *ro; /* keeps the lock file alive */
};

static uint64_t head_of(struct ldg_store *s)
{
	struct ldg_read *r;
	uint64_t seq = 0;

	assert_int_equal(ldg_read_begin(s, &r, NULL), 0);
	assert_int_equal(ldg_head(r, &seq, NULL), 0);
	ldg_read_end(r);
	return seq;
}

/* The writer's side: one set, which kill_after_meta.so ends with SIGKILL
 * after its commit is in data.mdb. Exit 3 if it lived. */
static int writer(const char *dir, const char *key)
{
	struct ldg_kv kv = { .key = "image.tag", .value = "killed" };
	struct ldg_result res = { 0 };
	struct ldg_signer *k;
	struct ldg_store *s;

	if (ldg_crypto_init() || ldg_signer_load(key, &k, NULL) ||
	    ldg_store_open(dir, 0, &s, NULL))
		return 2;
	ldg_set(s, k, "staging/api", &kv, 1, "killed mid-commit", NULL, 0,
		false, &res, NULL);
	ldg_result_free(&res);
	ldg_store_close(s);
	ldg_signer_free(k);
	return 3;
}

/* Runs the writer and requires its death by SIGKILL. Forked while this
 * process has one thread; the child execs at once. */
static void killed_writer(struct fx *f)
{
	const char *preload = getenv("KILL_AFTER_META_PRELOAD");
	char *argv[] = { "test_settle", "write", f->dir, f->key, NULL };
	pid_t pid;
	int st;

	assert_non_null(preload);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("LDG_KILL_AFTER_META", "1", 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ldg_result res = { 0 };
	struct ldg_err err = { 0 };
	struct ldg_signer *k;

	if (!f || ldg_crypto_init())
		return -1;
	f->tmp = tl_mkdtemp();
	snprintf(f->dir, sizeof(f->dir), "%s/ledger", f->tmp);
	snprintf(f->key, sizeof(f->key), "%s/admin.key", f->tmp);
	k = tl_signer_from_seed(f->tmp, "admin", seed);
	if (!k || ldg_init(f->dir, ORIGIN, k, &res, &err) ||
	    ldg_store_open(f->dir, LDG_OPEN_RDONLY, &f->ro, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	ldg_result_free(&res);
	ldg_signer_free(k);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ldg_store_close(f->ro);
	tl_rmrf(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

struct settle_call {
	struct ldg_store *s;
	bool published;
	int rc;
};

static void *settle_thread(void *arg)
{
	struct settle_call *c = arg;

	c->rc = ldg_store_settle(c->s, &c->published);
	return NULL;
}

static void test_settle_publishes_a_killed_writers_commit(void **state)
{
	struct fx *f = *state;
	struct settle_call c = { .s = f->ro };
	struct ldg_read *old;
	uint64_t seq;
	pthread_t t;

	assert_int_equal(head_of(f->ro), 1);
	killed_writer(f);
	/* the commit is in data.mdb, but the lock file does not say so */
	assert_int_equal(head_of(f->ro), 1);
	/* from a second thread while the first holds a read transaction:
	 * a threaded caller, as the mount and the server are */
	assert_int_equal(ldg_read_begin(f->ro, &old, NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, settle_thread, &c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.rc, 0);
	assert_true(c.published);
	/* the old snapshot stays as it was; a new one sees the commit */
	assert_int_equal(ldg_head(old, &seq, NULL), 0);
	assert_int_equal(seq, 1);
	ldg_read_end(old);
	assert_int_equal(head_of(f->ro), 2);
	/* nothing left to publish */
	assert_int_equal(ldg_store_settle(f->ro, &c.published), 0);
	assert_false(c.published);
}

static void test_settle_without_its_helper_says_enoent(void **state)
{
	struct fx *f = *state;
	const char *helper = getenv("LEDGER_SETTLE");
	char saved[PATH_MAX];
	bool published = true;

	assert_non_null(helper);
	snprintf(saved, sizeof(saved), "%s", helper);
	killed_writer(f);
	setenv("LEDGER_SETTLE", "/nonexistent/ledger-settle", 1);
	assert_int_equal(ldg_store_settle(f->ro, &published), -ENOENT);
	assert_false(published);
	assert_int_equal(head_of(f->ro), 1);
	/* the same commit is not tried again, even with the helper back */
	setenv("LEDGER_SETTLE", saved, 1);
	assert_int_equal(ldg_store_settle(f->ro, &published), 0);
	assert_false(published);
	assert_int_equal(head_of(f->ro), 1);
}

static void test_helper_path_order(void **state)
{
	char self[PATH_MAX], want[PATH_MAX], out[PATH_MAX], tiny[8];
	ssize_t n;

	/* $env first, when it names an executable */
	setenv("TEST_SETTLE_HELPER", "/bin/sh", 1);
	assert_int_equal(ldg_helper_path("no-such-helper", "TEST_SETTLE_HELPER",
					 out, sizeof(out)),
			 0);
	assert_string_equal(out, "/bin/sh");
	/* a $env that is not executable is not looked past */
	setenv("TEST_SETTLE_HELPER", "/nonexistent/x", 1);
	assert_int_equal(ldg_helper_path("test_settle", "TEST_SETTLE_HELPER",
					 out, sizeof(out)),
			 -ENOENT);
	unsetenv("TEST_SETTLE_HELPER");
	/* then beside the running executable: this test is beside itself */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(want, sizeof(want), "%s", self);
	assert_int_equal(ldg_helper_path("test_settle", "TEST_SETTLE_HELPER",
					 out, sizeof(out)),
			 0);
	assert_string_equal(out, want);
	/* a path that does not fit is not found */
	assert_int_equal(ldg_helper_path("test_settle", "TEST_SETTLE_HELPER",
					 tiny, sizeof(tiny)),
			 -ENOENT);
	/* nowhere: not beside it, not in LEDGER_LIBEXECDIR */
	assert_int_equal(ldg_helper_path("no-such-helper", "TEST_SETTLE_HELPER",
					 out, sizeof(out)),
			 -ENOENT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_settle_publishes_a_killed_writers_commit, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_settle_without_its_helper_says_enoent, setup,
			teardown),
		cmocka_unit_test(test_helper_path_order),
	};

	if (argc == 4 && !strcmp(argv[1], "write"))
		return writer(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
