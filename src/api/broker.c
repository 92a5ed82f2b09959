/*
 * broker.c — the broker's front door: short-lived access tokens for
 * `broker` credentials (POST /v1/credentials/{id}/access-token) and the
 * tokens bound to one such credential (/v1/credentials/{id}/bound-tokens).
 * The broker itself is core/broker.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/valid.h"
#include "core/credentials.h"
#include "util/util.h"

/*
 * POST /v1/credentials/{id}/access-token {"ttl_seconds"}: the owner, or a
 * token bound to the credential, gets a fresh access token from the
 * instance.  Nothing is recorded when the instance gives none.
 */
int
api_credentials_access_token(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "ttl_seconds", NULL };
	const struct caller	*who = rq->caller;
	struct credential_access *out;
	struct actor		 a;
	json_t			*scopes;
	size_t			 i;
	int			 ttl = KW_ACCESS_TTL_DEFAULT, r;

	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_int(rq, rq->body, "ttl_seconds", 0, KW_ACCESS_TTL_MIN,
	    KW_ACCESS_TTL_MAX, &ttl, NULL)) != 0)
		return r;
	if ((out = malloc(sizeof(*out))) == NULL)
		return KW_ERR_NOMEM;
	api_actor(rq, &a);
	/* a bound token acts for its credential's owner, and is recorded */
	if ((r = credential_access_token(rq->app, &a, rq->params[0], ttl,
	    api_bound_credential(rq) != NULL ? who->token_id : NULL,
	    out, &rq->fail)) == 0) {
		scopes = json_array();
		for (i = 0; i < out->nscopes; i++)
			json_array_append_new(scopes,
			    json_string(out->scopes[i]));
		rs->body = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}",
		    "access_token", out->access_token, "token_type", "Bearer",
		    "expires_at", out->expires_at, "scopes", scopes,
		    "instance_url", out->instance_url, "provider",
		    out->provider);
		rs->status = 201;
	}
	kw_wipe(out, sizeof(*out));
	free(out);
	return r;
}

static int
bound_one(const struct bound_token *b, void *arg)
{
	json_t *items = arg;

	json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:o}", "id",
	    b->id, "label", b->label, "created_at", b->created_at,
	    "last_used_at", b->last_used_at[0] ?
	    json_string(b->last_used_at) : json_null()));
	return 0;
}

/* POST /v1/credentials/{id}/bound-tokens {"label"}: the owner makes a
 * token that can do one thing, get this credential's access tokens. */
int
api_bound_tokens_create(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "label", NULL };
	struct bound_token	 b;
	struct actor		 a;
	char			 label[KW_LABEL_MAX + 1];
	char			 tok[KW_TOKEN_STR_MAX];
	int			 r;

	memset(&b, 0, sizeof(b));
	tok[0] = '\0';
	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_str(rq, rq->body, "label", JV_REQUIRED | JV_NONEMPTY,
	    KW_LABEL_MAX, label, sizeof(label), NULL)) != 0)
		return r;
	api_actor(rq, &a);
	if ((r = credential_bound_create(rq->app, &a, rq->params[0], label,
	    &b, tok, sizeof(tok), &rq->fail)) == 0) {
		rs->status = 201;
		rs->body = json_pack("{s:s, s:s, s:s, s:s}", "id", b.id,
		    "token", tok, "label", b.label, "credential_id",
		    b.credential_id);
	}
	kw_wipe(tok, sizeof(tok));
	kw_wipe(&b, sizeof(b));
	return r;
}

/* GET /v1/credentials/{id}/bound-tokens: the live ones, never a secret. */
int
api_bound_tokens_list(struct http_req *rq, struct http_resp *rs)
{
	struct actor	 a;
	json_t		*items = json_array();
	int		 r;

	api_actor(rq, &a);
	if ((r = credential_bound_each(rq->app, &a, rq->params[0], bound_one,
	    items, &rq->fail)) != 0) {
		json_decref(items);
		return r;
	}
	rs->body = api_page(items, 0);
	return 0;
}

/* DELETE /v1/credentials/{id}/bound-tokens/{tid}: it dies at once. */
int
api_bound_tokens_delete(struct http_req *rq, struct http_resp *rs)
{
	struct actor	a;
	char		now[KW_TIME_LEN + 1];
	int		r;

	api_actor(rq, &a);
	if ((r = credential_bound_delete(rq->app, &a, rq->params[0],
	    rq->params[1], now, &rq->fail)) == 0)
		rs->body = json_pack("{s:s, s:s, s:s}", "id", rq->params[1],
		    "credential_id", rq->params[0], "revoked_at", now);
	return r;
}
