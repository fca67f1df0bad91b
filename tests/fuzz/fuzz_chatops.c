/* libFuzzer: the /deploy comment parser. The first line of the input is
 * the SHA, the rest the comment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *nl;
	struct apl_deploy d;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		if (apl_chatops_parse(nl + 1, text, &d, NULL) == 0 &&
		    (ldg_check_release(d.release, NULL) ||
		     ldg_check_cluster(d.cluster, NULL) || !d.tag[0]))
			abort(); /* accepted something invalid */
	}
	free(text);
	return 0;
}
