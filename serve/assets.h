/*
 * assets.h - the web page (serve/web/: index.html, app.js, app.css),
 * compiled into the binary so that `ledger serve` needs no file on disk.
 *
 *   GET /             index.html   text/html; charset=utf-8
 *   GET /ui/app.js    app.js       text/javascript; charset=utf-8
 *   GET /ui/app.css   app.css      text/css; charset=utf-8
 *
 * The bytes, types and ETags are generated at build time by serve/embed.c
 * (a native program) into assets_data.c; this header is their contract.
 * Every asset is non-empty, data[len] is a NUL (not counted in len), and
 * etag is the ready ETag header value, quotes included: a strong
 * validator, the FNV-1a 64-bit hash of the bytes in hex, so it changes
 * whenever a file does.
 *
 * Thread-safe: everything here is constant.
 */
#ifndef SRV_ASSETS_H
#define SRV_ASSETS_H

#include <stddef.h>

struct srv_asset {
	const char *path;	   /* the request path: "/", "/ui/app.js" */
	const char *type;	   /* Content-Type */
	const unsigned char *data; /* len bytes, then a NUL */
	size_t len;
	const char *etag; /* "\"0123456789abcdef\"" */
};

/* The asset served at path (exact match, no query), or NULL. */
const struct srv_asset *srv_asset_find(const char *path);

/* The generated table (assets_data.c); use srv_asset_find(). */
extern const struct srv_asset srv_assets[];
extern const size_t srv_assets_n;

#endif
