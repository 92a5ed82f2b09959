/*
 * web.c — serves the web UI: the app shell (index.html) for a browser's
 * page loads and the static files it loads, all embedded in the binary
 * (see web.h and tools/webembed.c).  The UI itself talks to the JSON API
 * with a session cookie like any other client; nothing here reads the
 * store or knows who is signed in.
 *
 * Caching: static files live under /static/<build id>/ and never change
 * under a name, so they are cached for a year ("immutable"); the shell is
 * revalidated on each load (no-cache) against its ETag, the build id.
 * Every answer here carries the UI's Content-Security-Policy (set by the
 * HTTP layer for rs->page).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "api/api.h"
#include "api/web.h"

#define CACHE_STATIC	"public, max-age=31536000, immutable"
#define CACHE_SHELL	"no-cache"

/* Position of media type t in the Accept list a (case-insensitive), or
 * -1 when absent or refused with a zero quality ("text/html;q=0"). */
static long
accept_pos(const char *a, const char *t)
{
	const char	*p = strcasestr(a, t), *q;
	size_t		 n;

	if (p == NULL)
		return -1;
	n = strcspn(p, ",");
	for (q = p; (q = memchr(q, ';', n - (size_t)(q - p))) != NULL; q++) {
		q += 1 + strspn(q + 1, " ");
		if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=' &&
		    strtod(q + 2, NULL) <= 0.0)
			return -1;
		if (q >= p + n)
			break;
	}
	return (long)(p - a);
}

int
web_accept_html(const char *a)
{
	long html, json;

	if (a == NULL || (html = accept_pos(a, "text/html")) < 0)
		return 0;
	json = accept_pos(a, "application/json");
	return json < 0 || html < json;
}

int
web_wants_html(const struct http_req *rq)
{
	return web_accept_html(http_header(rq, "Accept"));
}

/* rs answers with asset a: its bytes, or 304 when the client's copy
 * (If-None-Match) is this build's. */
static int
send_asset(struct http_req *rq, struct http_resp *rs,
    const struct web_asset *a, const char *cache)
{
	const char *inm = http_header(rq, "If-None-Match");

	rs->page = 1;
	rs->cache = cache;
	if (http_resp_header(rs, "ETag", "\"%s\"", web_build_id) != 0)
		return KW_ERR_INTERNAL;
	if (a == web_shell && http_resp_header(rs, "Vary", "Accept") != 0)
		return KW_ERR_INTERNAL;
	if (inm != NULL && strstr(inm, web_build_id) != NULL) {
		rs->status = 304;
		return 0;
	}
	rs->data = a->data;
	rs->data_len = a->len;
	rs->content_type = a->type;
	return 0;
}

int
web_static(struct http_req *rq, struct http_resp *rs)
{
	const char	*build = rq->params[0], *name = rq->params[1];
	size_t		 i;

	if (strcmp(build, web_build_id) == 0)
		for (i = 0; i < web_nassets; i++)
			if (strcmp(web_assets[i].name, name) == 0 &&
			    &web_assets[i] != web_shell)
				return send_asset(rq, rs, &web_assets[i],
				    CACHE_STATIC);
	return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "no such file in this "
	    "build of keywarden's web UI (reload the page)");
}

int
web_page(struct http_req *rq, struct http_resp *rs)
{
	if (!web_wants_html(rq))
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL,
		    "no such resource: %s (the API is under /v1)", rq->path);
	return send_asset(rq, rs, web_shell, CACHE_SHELL);
}

int
web_landing(struct http_req *rq, struct http_resp *rs)
{
	if (!web_wants_html(rq)) {
		/* the same URL answers differently by Accept */
		if (http_resp_header(rs, "Vary", "Accept") != 0)
			return KW_ERR_INTERNAL;
		return api_landing(rq, rs);
	}
	return send_asset(rq, rs, web_shell, CACHE_SHELL);
}

int
web_config(struct http_req *rq, struct http_resp *rs)
{
	const struct app *app = rq->app;

	rs->body = json_pack("{s:b, s:s}", "sso", app->cfg.oidc_issuer[0] !=
	    '\0', "build", web_build_id);
	return rs->body ? 0 : KW_ERR_NOMEM;
}
