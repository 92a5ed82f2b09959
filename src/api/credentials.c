/*
 * credentials.c — /v1/credentials: what was issued, to whom, its one-time
 * delivery, and its revocation.  A credential's secret exists in
 * keywarden only sealed, only until its owner reveals it once; after
 * that keywarden keeps a fingerprint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/list.h"
#include "api/valid.h"
#include "core/credentials.h"
#include "policy/visibility.h"
#include "util/util.h"

static const char *const kind_names[] = {
	[KIND_API_TOKEN] = "api_token",
	[KIND_INTEGRATION] = "integration",
	[KIND_LEGACY] = "legacy_api_token",
};
static const char *const state_names[CS__COUNT] = {
	[CS_PENDING] = "pending",
	[CS_ACTIVE] = "active",
	[CS_REVOKED] = "revoked",
	[CS_EXPIRED] = "expired",
};
static const char *const delivery_names[] = {
	[DS_NOT_APPLICABLE] = "not_applicable",
	[DS_PENDING] = "pending",
	[DS_DELIVERED] = "delivered",
	[DS_EXPIRED] = "expired",
};

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
api_credential_json(const struct credential *c)
{
	json_t	*o, *scopes = json_array(), *ext;
	size_t	 i;

	for (i = 0; i < c->nscopes; i++)
		json_array_append_new(scopes, json_string(c->scopes[i]));
	if ((ext = json_loads(c->external[0] ? c->external : "{}", 0,
	    NULL)) == NULL)
		ext = json_object();
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:s, s:s}",
	    "id", c->id, "instance", c->instance_name, "kind",
	    kind_names[c->kind], "owner", c->owner_email, "request_id",
	    str_or_null(c->request_id), "purpose", c->purpose, "name", c->name,
	    "scopes", scopes, "state", state_names[c->state], "created_at",
	    c->created_at);
	if (o == NULL) {
		json_decref(ext);
		return NULL;
	}
	json_object_set_new(o, "expires_at", str_or_null(c->expires_at));
	json_object_set_new(o, "last_used_at", str_or_null(c->last_used_at));
	json_object_set_new(o, "revoked_at", str_or_null(c->revoked_at));
	json_object_set_new(o, "revoke_reason", str_or_null(c->revoke_reason));
	/* token mode: when the instance expires the token itself */
	if (c->kind == KIND_API_TOKEN && json_is_string(json_object_get(ext,
	    "expires_at")))
		json_object_set(o, "instance_expires_at",
		    json_object_get(ext, "expires_at"));
	json_object_set_new(o, "external", ext);
	json_object_set_new(o, "fingerprint", str_or_null(c->fingerprint));
	json_object_set_new(o, "delivery", json_pack("{s:s, s:o, s:s}", "state",
	    delivery_names[c->delivery], "expires_at",
	    c->delivery == DS_PENDING ? str_or_null(c->delivery_expires_at) :
	    json_null(), "mode", credential_delivery_mode_name(c)));
	json_object_set_new(o, "rotated_from", str_or_null(c->rotated_from));
	json_object_set_new(o, "rotated_to", str_or_null(c->rotated_to));
	if (c->kind == KIND_LEGACY)
		json_object_set_new(o, "replacement_id",
		    str_or_null(c->replacement_id));
	return o;
}

int
api_credentials_get(struct http_req *rq, struct http_resp *rs)
{
	struct credential	*c;
	struct actor		 a;
	int			 r;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	api_actor(rq, &a);
	if ((r = credential_get(rq->app, &a, rq->params[0], c,
	    &rq->fail)) == 0)
		rs->body = api_credential_json(c);
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

static int
list_one(const struct credential *c, void *arg)
{
	return api_list_add(arg, api_credential_json(c), c->seq);
}

int
api_credentials_list(struct http_req *rq, struct http_resp *rs)
{
	struct credential_filter f;
	struct api_list		 l;
	struct instance		*in = NULL;
	struct person		 p;
	struct store		*st;
	const char		*v;
	char			 inst_id[KW_ID_MAX + 1], owner_id[KW_ID_MAX + 1];
	size_t			 i;
	time_t			 t;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	memset(&f, 0, sizeof(f));
	policy_viewer(api_me(rq), &f.viewer);
	f.state = -1;
	f.kind = -1;
	if ((r = api_list_begin(rq, &l)) != 0)
		return r;
	if ((v = http_query(rq, "state")) != NULL && *v != '\0') {
		for (i = 0; i < CS__COUNT; i++)
			if (strcmp(state_names[i], v) == 0)
				f.state = (int)i;
		if (f.state < 0)
			return http_fail(rq, KW_ERR_VALIDATION, "state",
			    "'state' has an unknown value '%.64s'", v);
	}
	if ((v = http_query(rq, "kind")) != NULL && *v != '\0') {
		for (i = 0; i < KW_NELEM(kind_names); i++)
			if (strcmp(kind_names[i], v) == 0)
				f.kind = (int)i;
		if (f.kind < 0)
			return http_fail(rq, KW_ERR_VALIDATION, "kind",
			    "'kind' has an unknown value '%.64s'", v);
	}
	if ((v = http_query(rq, "instance")) != NULL && *v != '\0') {
		if ((in = malloc(sizeof(*in))) == NULL)
			return KW_ERR_NOMEM;
		r = store_instance_get(st, v, in);
		kw_strlcpy(inst_id, in->id, sizeof(inst_id));
		kw_wipe(in, sizeof(*in));
		free(in);
		if (r != 0)
			return r == KW_ERR_NOT_FOUND ? http_fail(rq,
			    KW_ERR_VALIDATION, "instance", "no instance "
			    "'%.64s'", v) : api_store_fail(rq, r, "", "");
		f.instance_id = inst_id;
	}
	if ((v = http_query(rq, "owner")) != NULL && *v != '\0') {
		if ((r = store_person_get(st, v, &p)) != 0)
			return r == KW_ERR_NOT_FOUND ? http_fail(rq,
			    KW_ERR_VALIDATION, "owner", "no person '%.64s'",
			    v) : api_store_fail(rq, r, "", "");
		kw_strlcpy(owner_id, p.id, sizeof(owner_id));
		f.owner_id = owner_id;
	}
	if ((v = http_query(rq, "expiring_before")) != NULL && *v != '\0') {
		if (kw_time_parse(v, &t) != 0)
			return http_fail(rq, KW_ERR_VALIDATION,
			    "expiring_before", "'expiring_before' must be an "
			    "RFC 3339 UTC time like 2026-11-28T09:00:00Z");
		f.expiring_before = v;
	}
	r = store_credential_each(st, &f, l.after, l.limit, list_one, &l);
	return api_list_end(rq, rs, &l, r);
}

/*
 * Reveal: the owner gets the secret exactly once (core/credentials.h:
 * the delivery is recorded before the secret is sent).
 */
int
api_credentials_reveal(struct http_req *rq, struct http_resp *rs)
{
	struct actor	 a;
	json_t		*secret;
	int		 r;

	if ((r = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0)
		return r;
	api_actor(rq, &a);
	if ((r = credential_reveal(rq->app, &a, rq->params[0], &secret,
	    &rq->fail)) == 0)
		rs->body = secret;
	return r;
}

int
api_credentials_revoke(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "reason", NULL };
	struct credential	*c;
	struct actor		 a;
	char			 reason[KW_COMMENT_MAX + 1] = "";
	int			 r;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_str(rq, rq->body, "reason", JV_NULLABLE, KW_COMMENT_MAX,
	    reason, sizeof(reason), NULL)) != 0)
		goto out;
	api_actor(rq, &a);
	if ((r = credential_revoke(rq->app, &a, rq->params[0], reason, c,
	    &rq->fail)) == 0)
		rs->body = api_credential_json(c);
 out:
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

/* POST /v1/credentials/{id}/link-replacement {"replacement_id"}: a
 * legacy token is linked to the keywarden credential that replaces it
 * (null unlinks). */
int
api_credentials_link(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "replacement_id", NULL };
	struct credential	*c;
	struct actor		 a;
	char			 rid[KW_ID_MAX + 1] = "";
	json_t			*o;
	int			 r;

	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_str(rq, rq->body, "replacement_id", JV_REQUIRED |
	    JV_NULLABLE, KW_ID_MAX, rid, sizeof(rid), NULL)) != 0)
		return r;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	api_actor(rq, &a);
	if ((r = credential_link(rq->app, &a, rq->params[0], rid, c,
	    &rq->fail)) == 0) {
		if ((o = api_credential_json(c)) == NULL)
			r = KW_ERR_NOMEM;
		else {
			json_object_set_new(o, "replacement_id",
			    str_or_null(c->replacement_id));
			rs->body = o;
		}
	}
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}
