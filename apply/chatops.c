#include <errno.h>
#include <string.h>

#include "chatops.h"

#define MAX_WORDS 8

int apl_check_sha(const char *sha, struct ldg_err *err)
{
	size_t n = strlen(sha);

	if (n < 7 || n > 64 || strspn(sha, "0123456789abcdefABCDEF") != n)
		return ldg_err_set(err, -EINVAL,
				   "invalid --sha \"%.80s\": expected 7 to 64 "
				   "hex digits",
				   sha);
	return 0;
}

static int check_tag(const char *tag, struct ldg_err *err)
{
	size_t n = strlen(tag);

	if (n < 1 || n > APL_TAG_MAX || tag[0] == '.' || tag[0] == '-' ||
	    strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_.-") != n)
		return ldg_err_set(err, -EINVAL,
				   "invalid tag \"%.80s\": use 1-128 of "
				   "A-Z, a-z, 0-9, '_', '.' and '-', not "
				   "starting with '.' or '-'",
				   tag);
	return 0;
}

int apl_chatops_parse(const char *comment, const char *sha,
		      struct apl_deploy *out, struct ldg_err *err)
{
	char buf[APL_COMMENT_MAX + 1], *words[MAX_WORDS];
	const char *start = comment, *end;
	size_t len, n = 0;
	bool have_cluster = false, have_tag = false;
	char *save = NULL;

	memset(out, 0, sizeof(*out));
	if (apl_check_sha(sha, err))
		return -EINVAL;
	while (*start && strchr(" \t\r\n", *start))
		start++;
	end = start + strlen(start);
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	len = (size_t)(end - start);
	if (len == 0)
		return ldg_err_set(err, -EINVAL, "the comment is empty");
	if (len > APL_COMMENT_MAX)
		return ldg_err_set(err, -EINVAL, "the comment is too long");
	memcpy(buf, start, len);
	buf[len] = '\0';
	if (strncmp(buf, "/deploy", 7) || (buf[7] && !strchr(" \t", buf[7])))
		return ldg_err_set(err, -EINVAL,
				   "not a deploy command: the comment must be "
				   "exactly \"/deploy RELEASE cluster=CLUSTER "
				   "[tag=TAG]\"");
	if (strpbrk(buf, "\r\n"))
		return ldg_err_set(err, -EINVAL,
				   "the comment has more than the /deploy "
				   "line; nothing else may be in it");
	for (char *w = strtok_r(buf, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (n == MAX_WORDS)
			return ldg_err_set(err, -EINVAL,
					   "too many words after /deploy");
		words[n++] = w;
	}
	if (n < 2)
		return ldg_err_set(err, -EINVAL,
				   "/deploy needs a release: /deploy RELEASE "
				   "cluster=CLUSTER [tag=TAG]");
	if (ldg_check_release(words[1], err))
		return -EINVAL;
	strcpy(out->release, words[1]);
	for (size_t i = 2; i < n; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq)
			return ldg_err_set(err, -EINVAL,
					   "unexpected \"%.40s\": only "
					   "cluster=CLUSTER and tag=TAG may "
					   "follow the release",
					   words[i]);
		*eq = '\0';
		if (!strcmp(words[i], "cluster") && !have_cluster) {
			if (ldg_check_cluster(eq + 1, err))
				return -EINVAL;
			strcpy(out->cluster, eq + 1);
			have_cluster = true;
		} else if (!strcmp(words[i], "tag") && !have_tag) {
			if (check_tag(eq + 1, err))
				return -EINVAL;
			strcpy(out->tag, eq + 1);
			have_tag = true;
		} else {
			return ldg_err_set(err, -EINVAL,
					   "unexpected or repeated \"%.40s=\": "
					   "only cluster= and tag= may follow "
					   "the release, once each",
					   words[i]);
		}
	}
	if (!have_cluster)
		return ldg_err_set(err, -EINVAL,
				   "missing cluster=CLUSTER: /deploy %s "
				   "cluster=CLUSTER [tag=TAG]",
				   out->release);
	if (!have_tag) {
		memcpy(out->tag, sha, 7);
		out->tag[7] = '\0';
		for (int i = 0; i < 7; i++)
			if (out->tag[i] >= 'A' && out->tag[i] <= 'F')
				out->tag[i] = (char)(out->tag[i] + 32);
	}
	return 0;
}
