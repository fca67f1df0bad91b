#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "helmfile.h"

#define KILL_GRACE_MS 5000

void apl_releases_free(struct apl_releases *r)
{
	if (!r)
		return;
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

void apl_run_result_free(struct apl_run_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* ---- reading `helmfile build` ---- */

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
			    const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    strlen(key) == k->data.scalar.length &&
		    !memcmp(k->data.scalar.value, key, k->data.scalar.length))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static bool scalar_copy(yaml_node_t *n, char *out, size_t cap)
{
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length >= cap)
		return false;
	memcpy(out, n->data.scalar.value, n->data.scalar.length);
	out[n->data.scalar.length] = '\0';
	return true;
}

static int add_release(yaml_document_t *doc, yaml_node_t *rel,
		       struct apl_releases *out, const char *file,
		       size_t doc_no, struct ldg_err *err)
{
	struct apl_release r = { 0 }, *grown;
	yaml_node_t *labels;

	if (!rel || rel->type != YAML_MAPPING_NODE)
		return ldg_err_set(err, -EINVAL,
				   "%s: document %zu: a release is not a "
				   "mapping",
				   file, doc_no);
	if (!scalar_copy(map_get(doc, rel, "name"), r.name, sizeof(r.name)) ||
	    ldg_check_release(r.name, NULL))
		return ldg_err_set(err, -EINVAL,
				   "%s: document %zu: a release has no valid "
				   "name (1-53 of a-z, 0-9 and inner '-')",
				   file, doc_no);
	scalar_copy(map_get(doc, rel, "namespace"), r.ns, sizeof(r.ns));
	labels = map_get(doc, rel, "labels");
	if (labels && labels->type != YAML_MAPPING_NODE)
		return ldg_err_set(err, -EINVAL,
				   "%s: release %s: labels is not a mapping",
				   file, r.name);
	scalar_copy(map_get(doc, labels, "deployment"), r.label,
		    sizeof(r.label));
	r.mode = !strcmp(r.label, "manual") ? APL_MANUAL
		 : !strcmp(r.label, "auto") ? APL_AUTO
					    : APL_UNLABELLED;
	grown = realloc(out->v, (out->n + 1) * sizeof(*grown));
	if (!grown)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	out->v = grown;
	out->v[out->n++] = r;
	return 0;
}

int apl_parse_build(const char *yaml, size_t len, const char *file,
		    struct apl_releases *out, struct ldg_err *err)
{
	yaml_parser_t parser;
	size_t doc_no = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return ldg_err_set(err, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	while (!rc) {
		yaml_document_t doc;
		yaml_node_t *root, *rels;

		if (!yaml_parser_load(&parser, &doc)) {
			rc = ldg_err_set(err, -EINVAL,
					 "%s: helmfile build printed YAML that "
					 "does not parse (line %zu: %s)",
					 file, parser.problem_mark.line + 1,
					 parser.problem ? parser.problem : "?");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		doc_no++;
		/* NULL too when root is not a mapping */
		rels = map_get(&doc, root, "releases");
		if (root->type != YAML_MAPPING_NODE) {
			rc = ldg_err_set(err, -EINVAL,
					 "%s: document %zu of helmfile build "
					 "is not a mapping",
					 file, doc_no);
		} else if (rels) {
			if (rels->type != YAML_SEQUENCE_NODE) {
				rc = ldg_err_set(err, -EINVAL,
						 "%s: document %zu: releases "
						 "is not a list",
						 file, doc_no);
			}
			for (yaml_node_item_t *i =
				     rels->data.sequence.items.start;
			     !rc && rels->type == YAML_SEQUENCE_NODE &&
			     i < rels->data.sequence.items.top;
			     i++)
				rc = add_release(&doc,
						 yaml_document_get_node(&doc,
									*i),
						 out, file, doc_no, err);
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (!rc && doc_no == 0)
		rc = ldg_err_set(err, -EINVAL,
				 "%s: helmfile build printed no state", file);
	if (rc)
		apl_releases_free(out);
	return rc;
}

/* ---- running ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct stream {
	int fd;
	char *buf;
	size_t len;
};

/* Reads what is there; keeps the last APL_OUTPUT_MAX bytes. */
static int drain(struct stream *s)
{
	char chunk[65536];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : (int)n;
	if (s->len + (size_t)n > APL_OUTPUT_MAX) {
		size_t drop = s->len + (size_t)n - APL_OUTPUT_MAX;
		if (drop > s->len)
			drop = s->len;
		memmove(s->buf, s->buf + drop, s->len - drop);
		s->len -= drop;
	}
	char *grown = realloc(s->buf, s->len + (size_t)n + 1);
	if (!grown)
		return -1;
	s->buf = grown;
	memcpy(s->buf + s->len, chunk, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	return 1;
}

/* What the keeper tells the applier once helmfile's group is gone. */
struct keeper_report {
	int status;    /* helmfile's wait status */
	int timed_out; /* the keeper stopped it after timeout_s */
};

/* The keeper's own pause: until a child changes state, the applier dies
 * (PR_SET_PDEATHSIG below), or ms pass. */
static void keeper_pause(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
			       (long)(ms % 1000) * 1000000 };
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, SIGCHLD);
	sigaddset(&wake, SIGTERM);
	(void)sigtimedwait(&wake, NULL, &ts);
}

/* helmfile itself, in the keeper's fork: its own process group, stdin
 * /dev/null, the pipes as stdout and stderr, and keep[] inherited. */
static void __attribute__((noreturn))
exec_helmfile(char *const argv[], const int *keep, size_t n_keep,
	      const sigset_t *mask, pid_t keeper, int out_fd, int err_fd)
{
	int devnull = open("/dev/null", O_RDONLY);

	/* the keeper dies only by SIGKILL: so does helmfile */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != keeper)
		_exit(127);
	setpgid(0, 0); /* a stop reaches helmfile and its helms */
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] > 2)
			fcntl(keep[i], F_SETFD, 0); /* no FD_CLOEXEC */
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execv(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* The keeper: the applier's child for one helmfile run. It never execs,
 * so it holds every descriptor the applier holds (the locks among them)
 * until it exits, and it exits only when helmfile and everything still in
 * its process group are gone. It stops that group (SIGTERM, SIGKILL
 * KILL_GRACE_MS later) after timeout_s, or as soon as the applier dies,
 * however it dies. */
static void __attribute__((noreturn))
keeper(char *const argv[], unsigned timeout_s, const int *keep, size_t n_keep,
       pid_t applier, int out_fd, int err_fd, int report_fd)
{
	struct keeper_report rep = { 127 << 8, 0 };
	sigset_t all, mask;
	uint64_t start = now_ms(), deadline, term_at = 0;
	bool done = false, killed = false;
	pid_t self = getpid(), h, p;
	int st;

	/* nothing reaches the keeper but what it waits for: a Ctrl-C or a
	 * SIGTERM meant for the applier must not orphan helmfile */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &mask);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != applier)
		_exit(127); /* it died before the line above */
	/* out of the reach of signals for the applier's process group too
	 * (kill -9 of a shell job): a keeper is there to outlive it */
	setpgid(0, 0);
	/* helmfile's orphans (helm, when helmfile is gone) come here to be
	 * reaped, not to an init that may not reap */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	h = fork();
	if (h == 0)
		exec_helmfile(argv, keep, n_keep, &mask, self, out_fd, err_fd);
	if (h < 0) {
		dprintf(err_fd, "cannot run %s: fork: %s\n", argv[0],
			strerror(errno));
		(void)!write(report_fd, &rep, sizeof(rep));
		_exit(0);
	}
	setpgid(h, h); /* whichever of the two runs first */
	close(out_fd);
	close(err_fd);
	deadline = timeout_s ? start + (uint64_t)timeout_s * 1000 : 0;
	for (;;) {
		uint64_t t, wait_ms = 1000;
		bool orphaned;

		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == h) {
				rep.status = st;
				done = true;
			}
		if (done && kill(-h, 0) && errno == ESRCH)
			break;
		t = now_ms();
		orphaned = getppid() != applier;
		if (!term_at && (orphaned || (deadline && t >= deadline))) {
			kill(-h, SIGTERM);
			term_at = t;
			rep.timed_out = !orphaned;
		}
		if (term_at && !killed && t >= term_at + KILL_GRACE_MS) {
			kill(-h, SIGKILL);
			killed = true;
		}
		if (!term_at && deadline && deadline - t < wait_ms)
			wait_ms = deadline - t;
		if (term_at && !killed && term_at + KILL_GRACE_MS - t < wait_ms)
			wait_ms = term_at + KILL_GRACE_MS - t;
		keeper_pause(wait_ms);
	}
	(void)!write(report_fd, &rep, sizeof(rep));
	_exit(0);
}

int apl_run(char *const argv[], unsigned timeout_s, const int *keep,
	    size_t n_keep, struct apl_run_result *out, struct ldg_err *err)
{
	struct stream s[2] = { { -1, NULL, 0 }, { -1, NULL, 0 } };
	struct keeper_report rep;
	int po[2], pe[2], pr[2], status = 0, open_fds = 2;
	uint64_t start = now_ms();
	pid_t applier = getpid(), pid;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	if (pipe2(po, O_CLOEXEC))
		return ldg_err_set(err, -errno, "pipe: %s", strerror(errno));
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]), close(po[1]);
		return ldg_err_set(err, -errno, "pipe: %s", strerror(errno));
	}
	if (pipe2(pr, O_CLOEXEC)) {
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return ldg_err_set(err, -errno, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		close(pr[0]), close(pr[1]);
		return ldg_err_set(err, -e, "fork: %s", strerror(e));
	}
	if (pid == 0) {
		close(po[0]), close(pe[0]), close(pr[0]);
		keeper(argv, timeout_s, keep, n_keep, applier, po[1], pe[1],
		       pr[1]);
	}
	close(po[1]), close(pe[1]), close(pr[1]);
	s[0].fd = po[0];
	s[1].fd = pe[0];
	while (open_fds > 0) {
		struct pollfd pfd[2];
		int k = 0;

		for (int i = 0; i < 2; i++)
			if (s[i].fd >= 0) {
				pfd[k].fd = s[i].fd;
				pfd[k].events = POLLIN;
				k++;
			}
		if (poll(pfd, (nfds_t)k, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0, j = 0; i < 2; i++) {
			if (s[i].fd < 0)
				continue;
			if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (drain(&s[i]) <= 0) {
					close(s[i].fd);
					s[i].fd = -1;
					open_fds--;
				}
			}
			j++;
		}
	}
	for (int i = 0; i < 2; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	/* the keeper reports when helmfile's whole group is gone */
	do
		n = read(pr[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(pr[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(rep)) {
		status = rep.status;
		out->timed_out = rep.timed_out;
	}
	out->duration_ms = now_ms() - start;
	out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
					   : 128 + WTERMSIG(status);
	out->out = s[0].buf ? s[0].buf : strdup("");
	out->out_len = s[0].len;
	out->err = s[1].buf ? s[1].buf : strdup("");
	out->err_len = s[1].len;
	return 0;
}

int apl_helmfile_binary(char *out, size_t len, struct ldg_err *err)
{
	const char *env = getenv("HELMFILE");
	const char *path = getenv("PATH");
	char *copy, *save = NULL;

	if (env && *env) {
		if (access(env, X_OK))
			return ldg_err_set(err, -ENOENT, "HELMFILE=%s: %s", env,
					   strerror(errno));
		snprintf(out, len, "%s", env);
		return 0;
	}
	copy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return ldg_err_set(err, -ENOMEM, "out of memory");
	for (char *d = strtok_r(copy, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		struct stat st;
		snprintf(out, len, "%s/helmfile", *d ? d : ".");
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	return ldg_err_set(err, -ENOENT,
			   "helmfile not found on PATH: install it, or set "
			   "HELMFILE=/path/to/helmfile");
}

char *apl_output_tail(const char *text, size_t len, size_t max)
{
	size_t start = len > max ? len - max : 0;
	size_t at, cl;
	char *out, *o;

	/* start at a line (or at least a character) boundary */
	if (start) {
		const char *nl = memchr(text + start, '\n', len - start);
		if (nl && (size_t)(nl - text) + 1 < len)
			start = (size_t)(nl - text) + 1;
		while (start < len &&
		       ((unsigned char)text[start] & 0xc0) == 0x80)
			start++;
	}
	while (len > start && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	out = malloc(3 * (len - start) + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = start; i < len;) {
		unsigned char c = (unsigned char)text[i];
		size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c == '\n') {
			memcpy(o, " | ", 3);
			o += 3;
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = ' ';
			i++;
		} else if (c < 0x80) {
			*o++ = (char)c;
			i++;
		} else if (i + n <= len && ldg_text_ok(text + i, n)) {
			/* no bidi control or line separator in a reason
			 * (format.md section 14): one '?' for it */
			if (ldg_text_display_control(text + i, n, &at, &cl)) {
				*o++ = '?';
			} else {
				memcpy(o, text + i, n);
				o += n;
			}
			i += n;
		} else {
			*o++ = '?';
			i++;
		}
	}
	*o = '\0';
	return out;
}
