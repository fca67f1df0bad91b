/* libFuzzer: reading `helmfile build` output (libyaml). */
#include <stdint.h>

#include "helmfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apl_releases r;

	if (apl_parse_build((const char *)data, size, "fuzz.yaml", &r, NULL) ==
	    0)
		apl_releases_free(&r);
	return 0;
}
