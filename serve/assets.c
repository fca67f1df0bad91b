#include <string.h>

#include "assets.h"

const struct srv_asset *srv_asset_find(const char *path)
{
	if (!path)
		return NULL;
	for (size_t i = 0; i < srv_assets_n; i++)
		if (strcmp(srv_assets[i].path, path) == 0)
			return &srv_assets[i];
	return NULL;
}
