/*
 * broker.c — the broker's front door: short-lived access tokens for
 * `broker` credentials (POST /v1/credentials/{id}/access-token) and the
 * tokens bound to one such credential (/v1/credentials/{id}/bound-tokens).
 * keywarden keeps the client secret sealed; what leaves is an access
 * token Zendesk expires by itself, recorded by its fingerprint only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/issuance.h"
#include "api/valid.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "util/util.h"

/* 1 if person_id provisions instance_id (and so may see its
 * credentials). */
static int
provisioner_of(struct store *st, const char *instance_id,
    const char *person_id)
{
	struct instance	*in;
	size_t		 i;
	int		 yes = 0;

	if ((in = malloc(sizeof(*in))) == NULL)
		return 0;
	if (store_instance_get(st, instance_id, in) == 0)
		for (i = 0; i < in->nprovisioners; i++)
			if (strcmp(in->provisioners[i].id, person_id) == 0)
				yes = 1;
	kw_wipe(in, sizeof(*in));
	free(in);
	return yes;
}

/* Load credential id for its owner (or the token bound to it) to verb.
 * Someone else who may see it gets 403 (verb NULL: may read it), anyone
 * else 404. */
static int
load_owned(struct http_req *rq, struct store *st, const char *id,
    struct credential *c, const char *verb)
{
	int r;

	if ((r = store_credential_get(st, id, c)) != 0)
		return api_store_fail(rq, r, "credential", id);
	if (strcmp(c->owner_id, api_me(rq)->id) == 0)
		return 0;
	if (api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR) ||
	    provisioner_of(st, c->instance_id, api_me(rq)->id))
		return verb == NULL ? 0 : http_fail(rq, KW_ERR_FORBIDDEN, NULL,
		    "only the credential's owner may %s", verb);
	return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "no credential '%.64s'",
	    id);
}

/* 1 if keywarden committed to ending c and is deleting it on the
 * instance (its "revoking" intent). */
static int
being_revoked(const struct credential *c)
{
	json_t	*o = json_loads(c->external, 0, NULL);
	int	 yes = json_object_get(o, "revoking") != NULL;

	json_decref(o);
	return yes;
}

/* 409 unless c is an active broker credential of an active owner. */
static int
check_broker(struct http_req *rq, const struct credential *c,
    const struct person *owner)
{
	if (c->kind != KIND_API_TOKEN || c->delivery_mode != DM_BROKER)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' is not a broker credential (its delivery mode is "
		    "%s): keywarden does not hold its secret",
		    c->id, api_delivery_mode_name(c));
	if (c->state != CS_ACTIVE || being_revoked(c))
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' is not active", c->id);
	if (!owner->active)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "the owner of "
		    "credential '%.64s' is no longer active", c->id);
	return 0;
}

/* The instance's answer when it gave no token: 429 with its wait passed
 * on, or 502. */
static int
grant_fail(struct http_req *rq, const struct provider_error *perr)
{
	rq->fail.details = json_pack("{s:I, s:s}", "status",
	    (json_int_t)perr->status, "instance_error", perr->message);
	if (perr->status == 429) {
		rq->fail.retry_after = perr->retry_after > 0 ?
		    (int)perr->retry_after : 1;
		return http_fail(rq, KW_ERR_RATE_LIMITED, NULL, "the instance "
		    "is rate limiting; retry after %d seconds",
		    rq->fail.retry_after);
	}
	return http_fail(rq, KW_ERR_UPSTREAM, NULL, "the instance gave no "
	    "access token: %s", perr->message);
}

/* Record a dispensing: its audit event (fingerprint and expiry, never the
 * token) and the bound token's use, in one transaction; the credential
 * must still be active. */
static int
record_dispensing(struct http_req *rq, const struct credential *c,
    const char *fp, const char *expires_at, long ttl)
{
	const char		*bound = api_bound_credential(rq);
	const struct caller	*who = rq->caller;
	struct credential	*now;
	struct store		*st;
	char			 at[KW_TIME_LEN + 1];
	int			 r;

	if ((now = malloc(sizeof(*now))) == NULL)
		return KW_ERR_NOMEM;
	kw_time_fmt(kw_now(), at, sizeof(at));
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = store_credential_get(st, c->id, now)) != 0) {
		r = api_store_fail(rq, r, "credential", c->id);
		goto out;
	}
	if (now->state != CS_ACTIVE) {
		r = http_fail(rq, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "was revoked meanwhile", c->id);
		goto out;
	}
	if (bound != NULL && (r = store_bound_used(st, who->token_id,
	    at)) != 0) {
		r = api_store_fail(rq, r, "bound token", who->token_id);
		goto out;
	}
	r = api_audit(rq, st, "credential.access_token", c->id, json_pack(
	    "{s:s, s:s, s:I, s:s}", "fingerprint", fp, "expires_at",
	    expires_at, "ttl_seconds", (json_int_t)ttl, "via", bound != NULL ?
	    who->token_id : "owner"));
 out:
	r = api_tx_end(rq, &st, r);
 done:
	kw_wipe(now, sizeof(*now));
	free(now);
	return r;
}

/*
 * POST /v1/credentials/{id}/access-token {"ttl_seconds"}: the owner, or a
 * token bound to the credential, gets a fresh access token from the
 * instance.  Nothing is recorded when the instance gives none.
 */
int
api_credentials_access_token(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "ttl_seconds", NULL };
	struct app		*app = rq->app;
	struct provider_error	 perr;
	struct grant_result	*g = NULL;
	struct credential	*c = NULL;
	struct instance		*in = NULL;
	struct store		*st;
	char			 fp[32], exp[KW_TIME_LEN + 1];
	json_t			*scopes;
	size_t			 i;
	int			 ttl = KW_ACCESS_TTL_DEFAULT, r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	c = malloc(sizeof(*c));
	in = malloc(sizeof(*in));
	g = calloc(1, sizeof(*g));
	if (c == NULL || in == NULL || g == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_int(rq, rq->body, "ttl_seconds", 0, KW_ACCESS_TTL_MIN,
	    KW_ACCESS_TTL_MAX, &ttl, NULL)) != 0 ||
	    (r = load_owned(rq, st, rq->params[0], c,
	    "ask for its access tokens")) != 0 ||
	    (r = check_broker(rq, c, api_me(rq))) != 0)
		goto out;
	if ((r = store_instance_get(st, c->instance_id, in)) != 0) {
		r = api_store_fail(rq, r, "instance", c->instance_id);
		goto out;
	}
	if (ttl > in->max_access_ttl) {
		r = http_fail(rq, KW_ERR_VALIDATION, "ttl_seconds",
		    "'ttl_seconds' must be from %d to %d on instance %s",
		    KW_ACCESS_TTL_MIN, in->max_access_ttl, in->name);
		goto out;
	}
	r = issuance_access_token(app, c, in, ttl, g, &perr);
	if (r == KW_ERR_UPSTREAM) {
		r = grant_fail(rq, &perr);
		goto out;
	}
	if (r == KW_ERR_CONFLICT) {
		r = http_fail(rq, KW_ERR_CONFLICT, NULL, "keywarden holds no "
		    "client secret for credential '%.64s'", c->id);
		goto out;
	}
	if (r == KW_ERR_CONFIG) {
		/* its secret goes only where its client was made */
		r = http_fail(rq, KW_ERR_CONFLICT, NULL, "instance %s has a new "
		    "URL since credential '%.64s' was issued: its client secret "
		    "is not sent there; rotate the credential (a new secret, "
		    "at the new address) or revoke it", in->name, c->id);
		goto out;
	}
	if (r != 0)
		goto out;
	kw_time_fmt(kw_now() + (time_t)g->expires_in, exp, sizeof(exp));
	if ((r = crypto_fingerprint(app->keys, g->access_token,
	    strlen(g->access_token), fp, sizeof(fp))) != 0 ||
	    (r = record_dispensing(rq, c, fp, exp, ttl)) != 0)
		goto out;
	scopes = json_array();
	for (i = 0; i < c->nscopes; i++)
		json_array_append_new(scopes, json_string(c->scopes[i]));
	rs->body = json_pack("{s:s, s:s, s:s, s:o, s:s}", "access_token",
	    g->access_token, "token_type", "Bearer", "expires_at", exp,
	    "scopes", scopes, "instance_url", in->url);
	rs->status = 201;
 out:
	if (g != NULL) {
		kw_wipe(g, sizeof(*g));
		free(g);
	}
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return r;
}

struct bound_count {
	size_t	 n;
	json_t	*items;		/* NULL: count only */
};

static int
bound_one(const struct bound_token *b, void *arg)
{
	struct bound_count *l = arg;

	l->n++;
	if (l->items != NULL)
		json_array_append_new(l->items, json_pack("{s:s, s:s, s:s, "
		    "s:o}", "id", b->id, "label", b->label, "created_at",
		    b->created_at, "last_used_at", b->last_used_at[0] ?
		    json_string(b->last_used_at) : json_null()));
	return 0;
}

/* POST /v1/credentials/{id}/bound-tokens {"label"}: the owner makes a
 * token that can do one thing, get this credential's access tokens. */
int
api_bound_tokens_create(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "label", NULL };
	struct app		*app = rq->app;
	struct bound_token	 b;
	struct bound_count	 cnt = { 0, NULL };
	struct credential	*c;
	struct store		*st;
	char			 tok[KW_TOKEN_STR_MAX];
	int			 r;

	memset(&b, 0, sizeof(b));
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_str(rq, rq->body, "label", JV_REQUIRED | JV_NONEMPTY,
	    KW_LABEL_MAX, b.label, sizeof(b.label), NULL)) != 0 ||
	    (r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = load_owned(rq, st, rq->params[0], c,
	    "make tokens bound to it")) != 0 ||
	    (r = check_broker(rq, c, api_me(rq))) != 0)
		goto out;
	if ((r = store_bound_each(st, c->id, bound_one, &cnt)) != 0) {
		r = api_store_fail(rq, r, "", "");
		goto out;
	}
	if (cnt.n >= KW_BOUND_TOKENS_MAX) {
		r = http_fail(rq, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "already has %d bound tokens; delete one first", c->id,
		    KW_BOUND_TOKENS_MAX);
		goto out;
	}
	if ((r = crypto_token_new(tok, sizeof(tok))) != 0 ||
	    (r = crypto_token_hash(app->keys, tok, b.hash)) != 0)
		goto out;
	crypto_random_id("btk_", b.id, sizeof(b.id));
	kw_strlcpy(b.credential_id, c->id, sizeof(b.credential_id));
	kw_time_fmt(kw_now(), b.created_at, sizeof(b.created_at));
	if ((r = store_bound_insert(st, &b)) != 0) {
		r = api_store_fail(rq, r, "bound token", b.id);
		goto out;
	}
	r = api_audit(rq, st, "credential.bound_token_create", c->id,
	    json_pack("{s:s, s:s}", "token_id", b.id, "label", b.label));
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0) {
		rs->status = 201;
		rs->body = json_pack("{s:s, s:s, s:s, s:s}", "id", b.id,
		    "token", tok, "label", b.label, "credential_id", c->id);
	}
 done:
	kw_wipe(tok, sizeof(tok));
	kw_wipe(&b, sizeof(b));
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

/* GET /v1/credentials/{id}/bound-tokens: the live ones, never a secret. */
int
api_bound_tokens_list(struct http_req *rq, struct http_resp *rs)
{
	struct bound_count	 l = { 0, NULL };
	struct credential	*c;
	struct store		*st;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	/* metadata only: whoever may see the credential may see these */
	if ((r = load_owned(rq, st, rq->params[0], c, NULL)) != 0)
		goto out;
	l.items = json_array();
	if ((r = store_bound_each(st, c->id, bound_one, &l)) != 0) {
		json_decref(l.items);
		r = api_store_fail(rq, r, "", "");
		goto out;
	}
	rs->body = api_page(l.items, 0);
 out:
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

/* DELETE /v1/credentials/{id}/bound-tokens/{tid}: it dies at once. */
int
api_bound_tokens_delete(struct http_req *rq, struct http_resp *rs)
{
	struct credential	*c;
	struct store		*st;
	char			 now[KW_TIME_LEN + 1];
	int			 r;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = load_owned(rq, st, rq->params[0], c,
	    "delete its bound tokens")) != 0)
		goto out;
	kw_time_fmt(kw_now(), now, sizeof(now));
	if ((r = store_bound_revoke(st, c->id, rq->params[1], now)) != 0) {
		r = r == KW_ERR_NOT_FOUND ? http_fail(rq, r, NULL, "no live "
		    "bound token '%.64s' on credential '%.64s'", rq->params[1],
		    c->id) : api_store_fail(rq, r, "", "");
		goto out;
	}
	r = api_audit(rq, st, "credential.bound_token_revoke", c->id,
	    json_pack("{s:s}", "token_id", rq->params[1]));
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0)
		rs->body = json_pack("{s:s, s:s, s:s}", "id", rq->params[1],
		    "credential_id", c->id, "revoked_at", now);
 done:
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}
