/*
 * chatops.h - pull-request comments that deploy:
 *
 *   /deploy RELEASE cluster=CLUSTER [tag=TAG]
 *
 * The comment must be exactly one such command (surrounding white space
 * aside): anything else is refused with the reason, so a chatty comment
 * never deploys by accident. TAG defaults to the first 7 characters of
 * the commit SHA; tags follow Docker's rule [A-Za-z0-9_][A-Za-z0-9_.-]*,
 * at most 128 characters. Pure parsing; thread-safe.
 */
#ifndef APL_CHATOPS_H
#define APL_CHATOPS_H

#include "err.h"
#include "names.h"

#define APL_TAG_MAX 128
#define APL_COMMENT_MAX 4096

struct apl_deploy {
	char release[LDG_RELEASE_MAX + 1];
	char cluster[LDG_CLUSTER_MAX + 1];
	char tag[APL_TAG_MAX + 1];
};

/* Checks a commit SHA: 7 to 64 hex digits. */
int apl_check_sha(const char *sha, struct ldg_err *err);

int apl_chatops_parse(const char *comment, const char *sha,
		      struct apl_deploy *out, struct ldg_err *err);

#endif
