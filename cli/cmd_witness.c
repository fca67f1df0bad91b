#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>

#include "api.h"
#include "cli.h"
#include "remote.h"
#include "witness_http.h"

static const char help[] =
	"usage: ledger witness --listen ADDR:PORT --key FILE --logs FILE\n"
	"                      --db DIR\n\n"
	"Run a C2SP tlog-witness for the logs listed: it cosigns a log's\n"
	"checkpoint only when it is consistent with the latest one it\n"
	"cosigned for that log (kept in its own database), so that a log\n"
	"cannot show two histories to two people without one witness\n"
	"refusing. Routes:\n"
	"  POST /add-checkpoint      C2SP tlog-witness: 200 with the\n"
	"                            cosignature; 404 unknown origin, 403 no\n"
	"                            trusted signature, 400 old > size or a\n"
	"                            malformed body, 409 (text/x.tlog.size)\n"
	"                            old is not the stored size, 409 the same\n"
	"                            size with another root, 422 bad proof\n"
	"  GET /checkpoint?origin=O  Ledger's extension (not C2SP): the\n"
	"                            latest checkpoint cosigned for O\n"
	"Prints \"listening on http://ADDR:PORT\" once ready, one line on\n"
	"stderr per request; runs until SIGTERM or SIGINT, then exits 0.\n\n"
	"  --listen ADDR:PORT  numeric address and port (port 0 picks a free\n"
	"                      one)\n"
	"  --key FILE          the witness's private key (ledger keygen\n"
	"                      --witness NAME)\n"
	"  --logs FILE         the logs it witnesses: lines\n"
	"                      \"log ORIGIN KEY\" (KEY a ledger's note\n"
	"                      verifier key; several lines may name one\n"
	"                      origin), \"#\" comments\n"
	"  --db DIR            its database (created, mode 0700)\n";

int cmd_witness(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "logs", required_argument, NULL, 'g' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct ldg_witness_logs logs = { 0 };
	struct ldg_signer *key = NULL;
	struct ldg_witness *db = NULL;
	struct srv_witness *sw = NULL;
	struct srv_witness_opts wo;
	struct sockaddr_storage addr;
	const char *listen = NULL, *keyfile = NULL, *logsfile = NULL;
	const char *dbdir = NULL;
	char host[INET6_ADDRSTRLEN];
	socklen_t addrlen;
	sigset_t set;
	int opt, rc;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'l')
			listen = optarg;
		else if (opt == 'k')
			keyfile = optarg;
		else if (opt == 'g')
			logsfile = optarg;
		else if (opt == 'd')
			dbdir = optarg;
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (!listen || !keyfile || !logsfile || !dbdir)
		return cli_usage(c, "--listen, --key, --logs and --db are "
				    "required");
	if (srv_parse_listen(listen, &addr, &addrlen, &err))
		return cli_usage(c, "%s", err.msg);
	if (ldg_signer_load_alg(keyfile, LDG_ALG_COSIG, &key, &err) ||
	    ldg_witness_logs_load(logsfile, &logs, &err) ||
	    ldg_witness_open(dbdir, &db, &err)) {
		rc = cli_fail(c, &err);
		goto out;
	}
	cli_stop_signals(&set);
	wo.db = db;
	wo.logs = &logs;
	wo.key = key;
	if (srv_witness_start(&addr, addrlen, &wo, &sw, &err)) {
		ldg_err_prefix(&err, "%s", listen);
		rc = cli_fail(c, &err);
		goto out;
	}
	cli_listening(&addr, srv_witness_port(sw), host);
	cli_wait_stop(&set);
	srv_witness_stop(sw);
	rc = CLI_OK;
out:
	ldg_witness_close(db);
	ldg_witness_logs_free(&logs);
	ldg_signer_free(key);
	return rc;
}
