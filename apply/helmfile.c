#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		       struct apl_releases *out, const char *file, size_t doc_no,
		       struct ldg_err *err)
{
	struct apl_release r = { 0 }, *grown;
	yaml_node_t *labels;

	if (!rel || rel->type != YAML_MAPPING_NODE)
		return ldg_err_set(err, -EINVAL,
				   "%s: document %zu: a release is not a "
				   "mapping", file, doc_no);
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
					 "does not parse (line %zu: %s)", file,
					 parser.problem_mark.line + 1,
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
					 "is not a mapping", file, doc_no);
		} else if (rels) {
			if (rels->type != YAML_SEQUENCE_NODE) {
				rc = ldg_err_set(err, -EINVAL,
						 "%s: document %zu: releases "
						 "is not a list", file, doc_no);
			}
			for (yaml_node_item_t *i = rels->data.sequence.items.start;
			     !rc && rels->type == YAML_SEQUENCE_NODE &&
			     i < rels->data.sequence.items.top;
			     i++)
				rc = add_release(&doc,
						 yaml_document_get_node(&doc, *i),
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

int apl_run(char *const argv[], unsigned timeout_s,
	    struct apl_run_result *out, struct ldg_err *err)
{
	struct stream s[2] = { { -1, NULL, 0 }, { -1, NULL, 0 } };
	int po[2], pe[2], status = 0, open_fds = 2;
	uint64_t start = now_ms(), deadline, killed_at = 0;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe2(po, O_CLOEXEC))
		return ldg_err_set(err, -errno, "pipe: %s", strerror(errno));
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return ldg_err_set(err, -errno, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return ldg_err_set(err, -e, "fork: %s", strerror(e));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		setpgid(0, 0); /* a timeout kills helmfile and its helms */
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	s[0].fd = po[0];
	s[1].fd = pe[0];
	deadline = timeout_s ? start + (uint64_t)timeout_s * 1000 : 0;
	while (open_fds > 0) {
		struct pollfd pfd[2];
		int n = 0, wait_ms = 1000;
		uint64_t t = now_ms();

		if (deadline && !killed_at && t >= deadline) {
			kill(-pid, SIGTERM);
			killed_at = t;
			out->timed_out = true;
		}
		if (killed_at && t >= killed_at + KILL_GRACE_MS)
			kill(-pid, SIGKILL);
		for (int i = 0; i < 2; i++)
			if (s[i].fd >= 0) {
				pfd[n].fd = s[i].fd;
				pfd[n].events = POLLIN;
				n++;
			}
		if (deadline && !killed_at && deadline - t < 1000)
			wait_ms = (int)(deadline - t);
		if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR)
			break;
		for (int i = 0, k = 0; i < 2; i++) {
			if (s[i].fd < 0)
				continue;
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (drain(&s[i]) <= 0) {
					close(s[i].fd);
					s[i].fd = -1;
					open_fds--;
				}
			}
			k++;
		}
	}
	for (int i = 0; i < 2; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	/* the pipes are closed: the child is gone or detached its output;
	 * reap it, killing it if it outlives a timeout */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
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
			return ldg_err_set(err, -ENOENT,
					   "HELMFILE=%s: %s", env,
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
		while (start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
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
