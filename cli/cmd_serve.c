#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "api.h"
#include "rate.h"
#include "remote.h"
#include "serve.h"
#include "util.h"

static const char help[] =
	"usage: ledger serve [--listen ADDR:PORT] [--read-only]\n"
	"                    [--post-rate N[/s|/min|/h]]\n"
	"                    [--max-streams N] [--max-streams-per-addr N]\n"
	"                    [--allow-host NAME]...\n\n"
	"Serve the ledger over HTTP: a web page (http://ADDR:PORT/), a JSON\n"
	"API, Server-Sent Events for new entries, and appends of entries\n"
	"clients signed (see docs/api.md):\n"
	"  GET /api/v1/head                      origin, head seq, hash, root\n"
	"  GET /api/v1/state[?at=SEQ][&scope=S]  `ledger state --json`\n"
	"  GET /api/v1/history/CLUSTER[/RELEASE][?before=SEQ][&limit=N]\n"
	"                                  `ledger history --json`\n"
	"  GET /api/v1/entries?after=SEQ&limit=N entries after SEQ (<= 500)\n"
	"  GET /api/v1/entries/SEQ               `ledger show SEQ --json`, or\n"
	"                                        the signed bytes with\n"
	"                                        Accept: application/msgpack\n"
	"  GET /api/v1/verify                    `ledger verify --json`\n"
	"  GET /api/v1/events[?after=SEQ]        new entries as they come\n"
	"  GET /api/v1/releases[?scope=S]        `ledger status --json`\n"
	"  GET /api/v1/keys                      the keyring\n"
	"  GET /api/v1/entries/SEQ/check         one entry's signature, chain\n"
	"  GET /api/v1/checkpoint                the newest published checkpoint\n"
	"  POST /api/v1/checkpoint               publish one (ledger --remote\n"
	"                                        URL checkpoint); kept in\n"
	"                                        LEDGER_DIR/checkpoint\n"
	"  GET /tlog/checkpoint                  the same, for C2SP tlog-tiles\n"
	"  GET /tlog/tile/L/N[.p/W]              C2SP tiles of the head (the\n"
	"  GET /tlog/tile/entries/N[.p/W]        tree `ledger tiles` writes)\n"
	"  POST /api/v1/entries                  append signed entry bytes (or a batch)\n"
	"                                        (ledger --remote URL set ...)\n"
	"  POST /api/v1/drafts                   an entry to sign elsewhere\n"
	"                                        (the web page signs it)\n"
	"Prints \"listening on http://ADDR:PORT\" once ready; runs until\n"
	"SIGTERM or SIGINT, then exits 0.\n\n"
	"  --listen ADDR:PORT  numeric address and port (default\n"
	"                      127.0.0.1:8080; [::1]:8080 for IPv6; port 0\n"
	"                      picks a free one). The API has no\n"
	"                      authentication for reads: bind beyond\n"
	"                      loopback only where everyone who can connect\n"
	"                      may read. Appends are checked like local ones\n"
	"                      (signature, key, scope, lock, head)\n"
	"  --read-only         refuse POST (405); the server then never opens\n"
	"                      the ledger for writing\n"
	"  --post-rate N[/s|/min|/h]\n"
	"                      POSTs a second (or a minute, an hour) from\n"
	"                      one client address, in bursts of up to 2N\n"
	"                      (default 200/s; 0: no limit); beyond it 429\n"
	"                      with Retry-After\n"
	"  --max-streams N     event streams open at once (default 64, at\n"
	"                      most 128: the other connections of 256 are\n"
	"                      kept for ordinary requests); beyond it 503\n"
	"                      with Retry-After\n"
	"  --max-streams-per-addr N\n"
	"                      event streams from one client address\n"
	"                      (default 8, at most 32 of its 64\n"
	"                      connections); beyond it 429 with Retry-After\n"
	"  --allow-host NAME   a name clients may use for this server in the\n"
	"                      Host header (a proxy's name; repeatable, up\n"
	"                      to 16). Without it only the listen address\n"
	"                      (and localhost on loopback) is answered;\n"
	"                      other names get 421, against DNS rebinding\n";

void cli_stop_signals(sigset_t *set)
{
	/* every thread started from here inherits the mask: the signals
	 * reach only cli_wait_stop() */
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void cli_wait_stop(const sigset_t *set)
{
	int rc, sig;

	do {
		rc = sigwait(set, &sig);
	} while (rc == EINTR);
}

void cli_listening(const struct sockaddr_storage *addr, uint16_t port,
		   char host[INET6_ADDRSTRLEN])
{
	if (addr->ss_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)addr)->sin6_addr, host,
			  INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)addr)->sin_addr, host,
			  INET6_ADDRSTRLEN);
	printf(addr->ss_family == AF_INET6 ? "listening on http://[%s]:%u\n"
					   : "listening on http://%s:%u\n",
	       host, (unsigned)port);
	fflush(stdout);
}

int cmd_serve(int argc, char **argv, struct cli_ctx *c)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "post-rate", required_argument, NULL, 'p' },
		{ "max-streams", required_argument, NULL, 's' },
		{ "max-streams-per-addr", required_argument, NULL, 'a' },
		{ "writer-fd", required_argument, NULL, 'w' },
		{ "allow-host", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct ldg_err err = { 0 };
	struct sockaddr_storage addr;
	struct ldg_store *s;
	struct srv_writer *writer = NULL;
	char dir[PATH_MAX], cp_path[PATH_MAX + 32];
	struct srv_opts so = { .post_rate = SRV_POST_RATE };
	bool read_only = false;
	uint64_t max_streams = SRV_STREAMS_MAX;
	uint64_t max_streams_addr = SRV_STREAMS_PER_IP;
	struct srv *sv;
	const char *listen = "127.0.0.1:8080";
	char host[INET6_ADDRSTRLEN];
	socklen_t addrlen;
	sigset_t set;
	int opt, rc, writer_fd = -1;
	const char *allow[SRV_ALLOW_HOSTS_MAX];
	size_t n_allow = 0;

	c->help = help;
	for (;;) {
		opt = cli_getopt(c, argc, argv, ":hL:", opts, NULL, &rc);
		if (opt == 0)
			break;
		if (opt == 'l') {
			listen = optarg;
		} else if (opt == 'r') {
			read_only = true;
		} else if (opt == 'p') {
			if (srv_rate_parse(optarg, &so.post_rate,
					   &so.post_period_s))
				return cli_usage(c,
						 "--post-rate %s: expected 0 "
						 "(no limit) to 1000000 POSTs "
						 "a second, or N/min or N/h",
						 optarg);
		} else if (opt == 'w') {
			/* internal: the server runs itself again as its
			 * writer process (serve/writer.h) */
			writer_fd = atoi(optarg);
			if (writer_fd != SRV_WRITER_FD)
				return cli_usage(c, "--writer-fd is internal");
		} else if (opt == 'H') {
			if (srv_check_allow_host(optarg, &err))
				return cli_usage(c, "%s", err.msg);
			if (n_allow == SRV_ALLOW_HOSTS_MAX)
				return cli_usage(c, "more than %d --allow-host",
						 SRV_ALLOW_HOSTS_MAX);
			allow[n_allow++] = optarg;
		} else if (opt == 's') {
			if (ldg_parse_seq(optarg, &max_streams) ||
			    max_streams > SRV_STREAMS_CAP)
				return cli_usage(c,
						 "--max-streams %s: expected "
						 "1 to %d event streams",
						 optarg, SRV_STREAMS_CAP);
		} else if (opt == 'a') {
			if (ldg_parse_seq(optarg, &max_streams_addr) ||
			    max_streams_addr > SRV_STREAMS_PER_IP_CAP)
				return cli_usage(c,
						 "--max-streams-per-addr %s: "
						 "expected 1 to %d event "
						 "streams",
						 optarg,
						 SRV_STREAMS_PER_IP_CAP);
		}
	}
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage(c, "unexpected argument \"%s\"", argv[optind]);
	if (writer_fd >= 0) {
		rc = cli_ledger_dir(c, dir);
		if (rc)
			return rc;
		srv_writer_child(writer_fd, dir);
	}
	if (srv_parse_listen(listen, &addr, &addrlen, &err))
		return cli_usage(c, "%s", err.msg);
	rc = cli_open_ro(c, &s);
	if (rc)
		return rc;
	/* the writer is this program run again (serve/writer.h); it opens
	 * the ledger itself, read-write, once the read-only open proved it
	 * is there (LMDB: one environment per process) */
	rc = cli_ledger_dir(c, dir);
	if (rc) {
		ldg_store_close(s);
		return rc;
	}
	if (!read_only) {
		if (srv_writer_start(dir, &writer, &err)) {
			ldg_store_close(s);
			return cli_fail(c, &err);
		}
	}
	cli_stop_signals(&set);
	so.allow_hosts = allow;
	so.n_allow_hosts = n_allow;
	so.max_streams = (unsigned)max_streams;
	so.max_streams_per_addr = (unsigned)max_streams_addr;
	/* beside the ledger's data.mdb: kept across restarts (and served,
	 * not taken, when read-only) */
	snprintf(cp_path, sizeof(cp_path), "%s/%s", dir, SRV_CHECKPOINT_FILE);
	so.checkpoint_path = cp_path;
	if (srv_start(s, writer, &addr, addrlen, &so, &sv, &err)) {
		ldg_err_prefix(&err, "%s", listen);
		rc = cli_fail(c, &err);
		srv_writer_stop(writer);
		ldg_store_close(s);
		return rc;
	}
	cli_listening(&addr, srv_port(sv), host);
	if (!srv_addr_is_loopback(&addr))
		cli_error("serve: warning: listening on %s, beyond loopback; "
			  "anyone who can connect can read the whole ledger",
			  host);
	cli_wait_stop(&set);
	srv_stop(sv);
	/* the SIGTERM may be the writer's own (writer.h): it kept dying */
	rc = srv_writer_failed(writer) ? CLI_BAD : CLI_OK;
	if (rc)
		cli_error("serve: the ledger writer died %d times within %d s; "
			  "exiting for the service manager to restart the "
			  "server",
			  SRV_WRITER_DEATHS_MAX, SRV_WRITER_WINDOW_S);
	srv_writer_stop(writer);
	ldg_store_close(s);
	return rc;
}
