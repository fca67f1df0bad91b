/*
 * checkpoint.c - the checkpoint exchange: the tree head a server's full
 * check proves, signed here and published there.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "client_impl.h"
#include "util.h"

int clt_checkpoint_sign(const char *base, const struct ldg_signer *k,
			char **note, uint64_t *size, struct ldg_err *err)
{
	uint8_t root[LDG_HASH_BYTES];
	json_t *j = NULL;
	const char *origin, *rh;
	long status = 0;
	int rc;

	*note = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ldg_err_set(err, -EIO, "cannot initialise libcurl");
	/* the tree head the server's full check proves, as a local
	 * `ledger checkpoint` signs only what verify proves */
	rc = clt_http_json(base, "/api/v1/verify", NULL, NULL, 0, &status, &j,
			   err);
	if (rc)
		goto out;
	if (status == 200 && json_is_false(json_object_get(j, "ok"))) {
		json_t *bad = json_object_get(j, "bad_seq");
		const char *problem =
			json_string_value(json_object_get(j, "problem"));
		rc = ldg_err_set(err, -EPERM,
				 "refusing to sign: the ledger at %s does not "
				 "verify (%s%lld: %.300s)",
				 base, json_is_integer(bad) ? "entry " : "",
				 json_is_integer(bad)
					 ? (long long)json_integer_value(bad)
					 : 0LL,
				 problem ? problem : "?");
		goto out;
	}
	origin = json_string_value(json_object_get(j, "origin"));
	rh = json_string_value(json_object_get(j, "root"));
	*size = (uint64_t)json_integer_value(json_object_get(j, "head"));
	if (status != 200 || !origin || !rh ||
	    ldg_unhex(rh, root, LDG_HASH_BYTES) || *size == 0) {
		rc = status != 200 ? clt_server_error(status, j, -EIO, err)
				   : ldg_err_set(err, -EIO,
						 "%s holds no ledger", base);
		goto out;
	}
	rc = ldg_checkpoint_make(origin, *size, root, k, note, err);
out:
	if (rc) {
		free(*note);
		*note = NULL;
	}
	json_decref(j);
	curl_global_cleanup();
	return rc;
}

int clt_checkpoint_publish(const char *base, const char *note,
			   struct ldg_err *err)
{
	json_t *j = NULL;
	long status = 0;
	int rc = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ldg_err_set(err, -EIO, "cannot initialise libcurl");
	for (int i = 0; i < CLT_TRIES; i++) {
		json_decref(j);
		j = NULL;
		rc = clt_http_json(base, "/api/v1/checkpoint", "text/plain",
				   (const uint8_t *)note, strlen(note), &status,
				   &j, err);
		if (rc || status != 429)
			break;
		sleep(1); /* over the POST rate: Retry-After is a second */
	}
	if (!rc && status != 201)
		rc = clt_server_error(status, j,
				      status == 403   ? -EACCES
				      : status == 409 ? -ESTALE
				      : status == 405 || status == 404
					      ? -ENOTSUP
					      : -EIO,
				      err);
	json_decref(j);
	curl_global_cleanup();
	return rc;
}

int clt_checkpoint(const char *base, const struct ldg_signer *k, char **note,
		   uint64_t *size, struct ldg_err *err)
{
	int rc = clt_checkpoint_sign(base, k, note, size, err);

	if (!rc)
		rc = clt_checkpoint_publish(base, *note, err);
	if (rc) {
		free(*note);
		*note = NULL;
	}
	return rc;
}
