/*
 * forge.c - entries sealed without the writer's checks (forge.h).
 */
#include <errno.h>

#include "authz.h"
#include "forge.h"

int forge_seal(struct ldg_store *s, uint64_t head, const uint8_t *prev,
	       struct ldg_entry *e, const struct ldg_signer *k, uint8_t **buf,
	       size_t *len, struct ldg_err *err)
{
	uint8_t head_hash[LDG_HASH_BYTES];
	struct ldg_read *r;
	struct ldg_authz az;
	int rc = ldg_read_begin(s, &r, err);

	if (rc)
		return rc;
	if (!prev) {
		rc = ldg_head(r, &head, head_hash);
		prev = head_hash;
	}
	if (!rc)
		rc = ldg_authz_load(r, &az, err);
	ldg_read_end(r);
	if (rc)
		return rc;
	rc = ldg_entry_seal(e, head, prev, ldg_store_origin(s), &az, k, buf,
			    len, err);
	ldg_authz_free(&az);
	return rc;
}
