#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fs.h"

static const char help[] =
	"usage: ledger mount MOUNTPOINT [-f] [-o OPTIONS]\n\n"
	"Serve the ledger as a read-only filesystem:\n"
	"  HEAD                                 \"SEQ HASH\"\n"
	"  clusters/CLUSTER/RELEASE/KEY         the current value\n"
	"  clusters/CLUSTER/RELEASE/values.yaml all keys as nested YAML\n"
	"  clusters/CLUSTER/RELEASE/history     the `ledger history` table\n"
	"  clusters/CLUSTER/RELEASE/LOCKED      only while locked: the reason\n"
	"  clusters/CLUSTER/RELEASE/POLICY      only while a policy or freeze\n"
	"                                       window covers it: `ledger\n"
	"                                       policy show CLUSTER/RELEASE`\n"
	"  clusters/CLUSTER/RELEASE/PENDING     only while it has pending\n"
	"                                       proposals: `ledger pending`\n"
	"  policies                             `ledger policy show`\n"
	"  pending/SEQ                          each pending proposal\n"
	"  entries/SEQ, entries/SEQ.json        `ledger show SEQ [--json]`\n"
	"  at/SEQ/clusters/...                  the clusters/ tree as of SEQ\n"
	"                                       (values, no POLICY or PENDING)\n"
	"  keys/NAME.pub                        verifier keys\n"
	"Changes appear under clusters/ and HEAD within a second. Unmount\n"
	"with `fusermount3 -u MOUNTPOINT` (or Ctrl-C with -f).\n\n"
	"Values are effective values: a proposal changes them only when\n"
	"approved. A key named values.yaml, history, LOCKED, POLICY or\n"
	"PENDING is only in values.yaml.\n\n"
	"  -f, --foreground     stay in the foreground\n"
	"  -o, --options OPTS   extra FUSE mount options, comma-separated or\n"
	"                       repeated (e.g. allow_other); the mount is\n"
	"                       always read-only\n";

/* True when path is already a mount point (listed in mountinfo). */
static bool is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[8192], mp[PATH_MAX];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1)
			found = !strcmp(mp, path);
	fclose(f);
	return found;
}

int cmd_mount(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "foreground", no_argument, NULL, 'f' },
		{ "options", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	char dir[PATH_MAX], mp[PATH_MAX];
	char options[1024] = "";
	bool foreground = false;
	struct stat st;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:fo:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'f') {
			foreground = true;
		} else if (opt == 'o') {
			if (strlen(options) + strlen(optarg) + 2 >
			    sizeof(options))
				return cli_usage(c, "too many -o options");
			if (options[0])
				strcat(options, ",");
			strcat(options, optarg);
		}
	}
	if (rc >= 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage(c, "expected one MOUNTPOINT");
	if (stat(argv[optind], &st) || !realpath(argv[optind], mp)) {
		if (errno == ENOTCONN)
			ldg_err_set(&err, -ENOTCONN,
				    "%s: a stale mount (its "
				    "daemon died); run fusermount3 -u %s",
				    argv[optind], argv[optind]);
		else
			ldg_err_set(&err, -ENOENT, "%s: %s", argv[optind],
				    strerror(errno));
		return cli_fail(c, &err);
	}
	if (!S_ISDIR(st.st_mode)) {
		ldg_err_set(&err, -ENOTDIR, "%s: not a directory",
			    argv[optind]);
		return cli_fail(c, &err);
	}
	if (is_mounted(mp)) {
		ldg_err_set(&err, -EBUSY,
			    "%s is already mounted (unmount it "
			    "with fusermount3 -u %s)",
			    mp, mp);
		err.code = -EINVAL; /* an environment problem: exit 2 */
		return cli_fail(c, &err);
	}
	if (access("/dev/fuse", R_OK | W_OK)) {
		ldg_err_set(&err, -ENODEV,
			    "/dev/fuse: %s (is the fuse module "
			    "loaded and /dev/fuse usable here?)",
			    strerror(errno));
		return cli_fail(c, &err);
	}
	rc = cli_ledger_dir(c, dir);
	if (rc)
		return rc;
	/* the daemon opens the ledger before it mounts; this process
	 * returns when it has, or says in one line why it could not */
	rc = lfs_run(dir, mp, foreground, options[0] ? options : NULL, &err);
	if (rc == -ENODATA)
		ldg_err_set(&err, -ENOENT,
			    "%s is not initialised (run "
			    "ledger init)",
			    dir);
	return rc ? cli_fail(c, &err) : CLI_OK;
}
