/*
 * auth.c — OpenID Connect sign-in pages (placeholder until oidc/ lands).
 */
#include "kw.h"
#include "api/api.h"

int
api_auth_login(struct http_req *rq, struct http_resp *rs)
{
	KW_UNUSED(rs);
	return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "single sign-on is not "
	    "configured");
}

int
api_auth_callback(struct http_req *rq, struct http_resp *rs)
{
	KW_UNUSED(rs);
	return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "single sign-on is not "
	    "configured");
}
