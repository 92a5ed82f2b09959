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
#include "api/issuance.h"
#include "api/valid.h"
#include "crypto/crypto.h"
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

const char *const api_delivery_modes[DM__COUNT + 1] = {
	[DM_TOKEN] = "token",
	[DM_BROKER] = "broker",
	[DM_CLIENT_SECRET] = "client_secret",
	[DM__COUNT] = NULL,
};

const char *
api_delivery_mode_name(const struct credential *c)
{
	if (c->kind == KIND_INTEGRATION)
		return "integration";
	if (c->kind == KIND_LEGACY)
		return "not_applicable";
	return (unsigned)c->delivery_mode < DM__COUNT ?
	    api_delivery_modes[c->delivery_mode] : "token";
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
	    json_null(), "mode", api_delivery_mode_name(c)));
	json_object_set_new(o, "rotated_from", str_or_null(c->rotated_from));
	json_object_set_new(o, "rotated_to", str_or_null(c->rotated_to));
	if (c->kind == KIND_LEGACY)
		json_object_set_new(o, "replacement_id",
		    str_or_null(c->replacement_id));
	return o;
}

void
api_credential_from_request(const struct request *r, struct credential *c)
{
	memset(c, 0, sizeof(*c));
	crypto_random_id("cred_", c->id, sizeof(c->id));
	kw_strlcpy(c->instance_id, r->instance_id, sizeof(c->instance_id));
	c->kind = r->kind;
	kw_strlcpy(c->owner_id, r->requester_id, sizeof(c->owner_id));
	kw_strlcpy(c->request_id, r->id, sizeof(c->request_id));
	kw_strlcpy(c->purpose, r->purpose, sizeof(c->purpose));
	kw_strlcpy(c->name, r->integration.present ? r->integration.name :
	    r->link, sizeof(c->name));
	memcpy(c->scopes, r->scopes, sizeof(c->scopes));
	c->nscopes = r->nscopes;
	c->state = CS_PENDING;
	kw_time_fmt(kw_now(), c->created_at, sizeof(c->created_at));
	kw_strlcpy(c->external, "{}", sizeof(c->external));
	c->delivery = DS_NOT_APPLICABLE;
	c->delivery_mode = r->kind == KIND_API_TOKEN ? r->delivery_mode :
	    DM_TOKEN;
	/* the lifetime starts at issuance: expires_at is set then */
	c->lifetime_days = r->lifetime_days;
}

int
api_credential_external(struct credential *c, json_t *ids)
{
	char	*t;
	int	 r = 0;

	/* jansson writes the JSON: a value is a string, whatever it holds */
	if (ids == NULL || !json_is_object(ids) || (t = json_dumps(ids,
	    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)) == NULL) {
		json_decref(ids);
		return KW_ERR_NOMEM;
	}
	if (strlen(t) >= sizeof(c->external))
		r = KW_ERR_VALIDATION;	/* never cut: a cut is not JSON */
	else
		kw_strlcpy(c->external, t, sizeof(c->external));
	free(t);
	json_decref(ids);
	return r;
}

/* The associated data binding a sealed secret to its credential. */
static void
delivery_ad(const struct credential *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "keywarden:credential:%s:delivery", c->id);
}

void
api_credential_broker_ad(const struct credential *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "keywarden:credential:%s:client_secret", c->id);
}

int
api_credential_broker_seal(struct app *app, struct credential *c,
    const char *secret)
{
	char	ad[128];
	int	r;

	api_credential_broker_ad(c, ad, sizeof(ad));
	if ((r = crypto_seal(app->keys, ad, secret, strlen(secret),
	    c->broker_sealed, sizeof(c->broker_sealed),
	    &c->broker_sealed_len)) != 0)
		return r;
	return crypto_fingerprint(app->keys, secret, strlen(secret),
	    c->fingerprint, sizeof(c->fingerprint));
}

/*
 * Set c->expires_at as it goes live: the lifetime from now, or the
 * instance's expiry when that comes first (a token Zendesk expires tells
 * the truth), but never later than the ceiling the intent may carry in
 * c->expires_at (a rotation's successor keeps its predecessor's expiry: a
 * rotation never extends access).
 */
static void
expiry_settle(struct credential *c, const char *instance_exp, time_t now)
{
	char	natural[KW_TIME_LEN + 1];
	time_t	ceiling, t, inst;

	kw_time_fmt(now + (time_t)c->lifetime_days * 86400, natural,
	    sizeof(natural));
	if (instance_exp != NULL && instance_exp[0] != '\0' &&
	    kw_time_parse(instance_exp, &inst) == 0 &&
	    inst < now + (time_t)c->lifetime_days * 86400)
		kw_time_fmt(inst, natural, sizeof(natural));
	if (c->expires_at[0] != '\0' &&
	    kw_time_parse(c->expires_at, &ceiling) == 0 &&
	    (kw_time_parse(natural, &t) != 0 || t > ceiling))
		return;			/* the ceiling stands */
	kw_strlcpy(c->expires_at, natural, sizeof(c->expires_at));
}

int
api_credential_activate(struct app *app, struct credential *c,
    const char *client_id, const char *secret, const char *expires_at)
{
	char		 ad[128], *payload = NULL;
	time_t		 now = kw_now();
	json_t		*o;
	int		 r;

	/* a broker credential's client secret is kept, never delivered */
	if (c->kind == KIND_API_TOKEN && c->delivery_mode == DM_BROKER) {
		if ((r = api_credential_broker_seal(app, c, secret)) != 0)
			return r;
		c->state = CS_ACTIVE;
		kw_time_fmt(now, c->created_at, sizeof(c->created_at));
		expiry_settle(c, NULL, now);
		c->delivery = DS_NOT_APPLICABLE;
		return 0;
	}
	/* an integration, or a client_secret delivery, is delivered as
	 * identifier + secret */
	if (c->kind == KIND_INTEGRATION || (c->kind == KIND_API_TOKEN &&
	    c->delivery_mode == DM_CLIENT_SECRET)) {
		o = json_pack("{s:s, s:s}", "client_id", client_id,
		    "client_secret", secret);
		payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (payload == NULL)
			return KW_ERR_NOMEM;
	}
	delivery_ad(c, ad, sizeof(ad));
	r = crypto_seal(app->keys, ad, payload ? payload : secret,
	    strlen(payload ? payload : secret), c->sealed, sizeof(c->sealed),
	    &c->sealed_len);
	if (r == 0)
		r = crypto_fingerprint(app->keys, secret, strlen(secret),
		    c->fingerprint, sizeof(c->fingerprint));
	if (payload != NULL) {
		kw_wipe(payload, strlen(payload));
		free(payload);
	}
	if (r != 0)
		return r;
	c->state = CS_ACTIVE;
	kw_time_fmt(now, c->created_at, sizeof(c->created_at));
	expiry_settle(c, expires_at, now);
	c->delivery = DS_PENDING;
	kw_time_fmt(now + app->cfg.delivery_window, c->delivery_expires_at,
	    sizeof(c->delivery_expires_at));
	return 0;
}

/* 1 if the caller is a provisioner of the credential's instance. */
static int
is_provisioner(struct http_req *rq, struct store *st, const char *instance_id)
{
	const struct person	*me = api_me(rq);
	struct instance		*in;
	size_t			 i;
	int			 yes = 0;

	if ((in = malloc(sizeof(*in))) == NULL)
		return 0;
	if (store_instance_get(st, instance_id, in) == 0)
		for (i = 0; i < in->nprovisioners; i++)
			if (strcmp(in->provisioners[i].id, me->id) == 0)
				yes = 1;
	kw_wipe(in, sizeof(*in));
	free(in);
	return yes;
}

/* 1 if the caller is the current manager of c's owner: they see their
 * reports' credentials as they see their requests, and may revoke them. */
static int
is_owners_manager(struct http_req *rq, struct store *st,
    const struct credential *c)
{
	struct person owner;

	return store_person_get(st, c->owner_id, &owner) == 0 &&
	    owner.manager_id[0] != '\0' &&
	    strcmp(owner.manager_id, api_me(rq)->id) == 0;
}

/*
 * Load credential id if the caller may see it (owner, the owner's
 * manager, provisioner of its instance, admin, auditor: the people who
 * see its request); otherwise it is "not found".  *prov says whether the
 * caller is a provisioner of its instance.
 */
static int
load_visible(struct http_req *rq, struct store *st, const char *id,
    struct credential *c, int *prov)
{
	int r;

	if ((r = store_credential_get(st, id, c)) != 0)
		return api_store_fail(rq, r, "credential", id);
	*prov = is_provisioner(rq, st, c->instance_id);
	if (strcmp(c->owner_id, api_me(rq)->id) != 0 && !*prov &&
	    !is_owners_manager(rq, st, c) &&
	    !api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR))
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL,
		    "no credential '%.64s'", id);
	return 0;
}

int
api_credentials_get(struct http_req *rq, struct http_resp *rs)
{
	struct credential	*c;
	struct store		*st;
	int			 r, prov;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = load_visible(rq, st, rq->params[0], c, &prov)) == 0)
		rs->body = api_credential_json(c);
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

struct cred_list {
	json_t	*items;
	int64_t	 last;
};

static int
list_one(const struct credential *c, void *arg)
{
	struct cred_list *l = arg;

	json_array_append_new(l->items, api_credential_json(c));
	l->last = c->seq;
	return 0;
}

int
api_credentials_list(struct http_req *rq, struct http_resp *rs)
{
	struct credential_filter f;
	struct cred_list	 l = { NULL, 0 };
	struct instance		*in = NULL;
	struct person		 p;
	struct store		*st;
	const char		*v;
	char			 inst_id[KW_ID_MAX + 1], owner_id[KW_ID_MAX + 1];
	long long		 after;
	size_t			 limit, i;
	time_t			 t;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	memset(&f, 0, sizeof(f));
	f.viewer_id = api_me(rq)->id;
	f.viewer_all = api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR);
	f.state = -1;
	f.kind = -1;
	if ((r = jv_page(rq, &limit, &after)) != 0)
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
	l.items = json_array();
	if ((r = store_credential_each(st, &f, after, limit, list_one,
	    &l)) != 0) {
		json_decref(l.items);
		return api_store_fail(rq, r, "", "");
	}
	rs->body = api_page(l.items, json_array_size(l.items) == limit ?
	    l.last : 0);
	return 0;
}

/* Destroy what is held for delivery. */
static void
drop_sealed(struct credential *c, enum delivery_state to)
{
	kw_wipe(c->sealed, sizeof(c->sealed));
	c->sealed_len = 0;
	c->delivery = to;
}

/*
 * The 410 of a reveal that comes too late, saying what works now: a
 * secret already revealed is replaced by rotating the credential (the
 * owner may, while it is active); one destroyed unread leaves a
 * credential that is being revoked, which rotation refuses, so a new
 * request (or a provisioner) is the way.
 */
static int
reveal_gone(struct http_req *rq, const struct credential *c)
{
	if (c->delivery == DS_DELIVERED && c->state == CS_ACTIVE)
		return http_fail(rq, KW_ERR_GONE, NULL, "the secret of '%s' "
		    "was already revealed, and it is shown only once. If you "
		    "lost it, rotate the credential to get a new secret: "
		    "keywarden credential rotate %s", c->id, c->id);
	if (c->delivery == DS_DELIVERED)
		return http_fail(rq, KW_ERR_GONE, NULL, "the secret of '%s' "
		    "was already revealed, and the credential is no longer "
		    "active: file a new request (keywarden request create) "
		    "if you still need access", c->id);
	return http_fail(rq, KW_ERR_GONE, NULL, "the delivery window of "
	    "'%s' passed and its secret was destroyed unread; the credential "
	    "is being revoked, so it cannot be rotated. File a new request "
	    "(keywarden request create), or ask a provisioner of %s", c->id,
	    c->instance_name);
}

/* Record a refused reveal (410), in its own transaction: the refusal
 * itself changed nothing. */
static void
audit_reveal_refused(struct http_req *rq, const struct credential *c)
{
	struct store *st;

	if (core_write_begin(rq->app, &st) != 0)
		return;
	core_write_end(rq->app, api_audit(rq, st, "credential.reveal_refused",
	    c->id, json_pack("{s:s, s:s, s:s}", "error", "gone", "delivery",
	    c->delivery == DS_DELIVERED ? "delivered" : "expired",
	    "fingerprint", c->fingerprint)));
}

/*
 * Reveal: the owner gets the secret exactly once.  The sealed copy is
 * destroyed and the delivery recorded in the same transaction, which
 * commits before the secret is sent: if it cannot be recorded, it is not
 * shown.
 */
int
api_credentials_reveal(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct credential	*c;
	struct store		*st;
	unsigned char		*pt = NULL;
	char			 ad[128], now[KW_TIME_LEN + 1];
	size_t			 ptlen = 0;
	json_t			*secret = NULL;
	int			 r, prov, window_passed = 0, gone = 0;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0 ||
	    (r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = load_visible(rq, st, rq->params[0], c, &prov)) != 0)
		goto out;
	if (strcmp(c->owner_id, api_me(rq)->id) != 0) {
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL,
		    "only the credential's owner may reveal its secret");
		goto out;
	}
	if (c->kind == KIND_API_TOKEN && c->delivery_mode == DM_BROKER) {
		r = http_fail(rq, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "is a broker credential: keywarden keeps its secret and "
		    "never reveals it; ask for a short-lived access token "
		    "instead (POST /v1/credentials/%.64s/access-token, or "
		    "'keywarden credential token %.64s')", c->id, c->id, c->id);
		goto out;
	}
	kw_time_fmt(kw_now(), now, sizeof(now));
	if (c->delivery != DS_PENDING || c->sealed_len == 0 ||
	    c->state != CS_ACTIVE) {
		r = reveal_gone(rq, c);
		gone = 1;
		goto out;
	}
	if (strcmp(now, c->delivery_expires_at) >= 0) {
		/* too late: destroy it now (the jobs revoke the credential) */
		drop_sealed(c, DS_EXPIRED);
		window_passed = 1;
		if ((r = store_credential_update(st, c)) == 0)
			r = api_audit(rq, st, "credential.delivery_expired",
			    c->id, json_pack("{s:s}", "fingerprint",
			    c->fingerprint));
		goto out;
	}
	if ((pt = malloc(c->sealed_len)) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	delivery_ad(c, ad, sizeof(ad));
	if ((r = crypto_open(app->keys, ad, c->sealed, c->sealed_len, pt,
	    c->sealed_len, &ptlen)) != 0) {
		r = http_fail(rq, KW_ERR_INTERNAL, NULL,
		    "the sealed secret cannot be opened");
		goto out;
	}
	secret = c->kind == KIND_INTEGRATION || (c->kind == KIND_API_TOKEN &&
	    c->delivery_mode == DM_CLIENT_SECRET) ?
	    json_loadb((const char *)pt, ptlen, 0, NULL) :
	    json_pack("{s:s%}", "secret", (const char *)pt, ptlen);
	if (secret == NULL) {
		r = KW_ERR_INTERNAL;
		goto out;
	}
	drop_sealed(c, DS_DELIVERED);
	if ((r = store_credential_update(st, c)) != 0) {
		r = api_store_fail(rq, r, "credential", c->id);
		goto out;
	}
	r = api_audit(rq, st, "credential.reveal", c->id, json_pack("{s:s}",
	    "fingerprint", c->fingerprint));
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0 && window_passed) {
		r = reveal_gone(rq, c);
		gone = 1;
	}
	if (gone)
		audit_reveal_refused(rq, c);
	if (r == 0) {
		rs->body = secret;
		secret = NULL;
	}
 done:
	if (pt != NULL) {
		kw_wipe(pt, c->sealed_len > ptlen ? c->sealed_len : ptlen);
		free(pt);
	}
	json_decref(secret);
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

int
api_drop_intent(struct store *st, const struct request *r)
{
	struct credential	*c;
	int			 res = 0;

	if (r->credential_id[0] == '\0')
		return 0;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if (store_credential_get(st, r->credential_id, c) == 0 &&
	    c->state == CS_PENDING) {
		c->state = CS_REVOKED;
		kw_time_fmt(kw_now(), c->revoked_at, sizeof(c->revoked_at));
		kw_strlcpy(c->revoke_reason, "request withdrawn before issuance",
		    sizeof(c->revoke_reason));
		res = store_credential_update(st, c);
	}
	free(c);
	return res;
}

/* Map issuance_revoke's outcome to the API's answer. */
int
api_revoke_fail(struct http_req *rq, int r, const char *id,
    const struct provider_error *perr)
{
	switch (r) {
	case 0:
		return 0;
	case KW_ERR_CONFLICT:
		return http_fail(rq, r, NULL, "credential '%.64s' is not active "
		    "(already revoked or expired, or still being issued)", id);
	case KW_ERR_UPSTREAM:
		rq->fail.details = json_pack("{s:I, s:s}", "status",
		    (json_int_t)perr->status, "instance_error", perr->message);
		return http_fail(rq, r, NULL, "the instance did not revoke "
		    "credential '%.64s': %s; it stays active there until a "
		    "retry succeeds (try again; reconciliation retries too), "
		    "and its secret can no longer be revealed", id,
		    perr->message);
	case KW_ERR_UNRECORDED:
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL, "credential "
		    "'%.64s' was deleted on the instance, but keywarden could "
		    "not record it yet; its secret can no longer be revealed "
		    "and reconciliation (or a retried revocation) will "
		    "complete the record", id);
	default:
		return api_store_fail(rq, r, "credential", id);
	}
}

int
api_credentials_revoke(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "reason", NULL };
	struct provider_error	 perr;
	struct credential	*c;
	struct store		*st;
	char			 reason[KW_COMMENT_MAX + 1] = "";
	int			 r, prov;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_str(rq, rq->body, "reason", JV_NULLABLE, KW_COMMENT_MAX,
	    reason, sizeof(reason), NULL)) != 0 ||
	    (r = load_visible(rq, st, rq->params[0], c, &prov)) != 0)
		goto out;
	if (strcmp(c->owner_id, api_me(rq)->id) != 0 && !prov &&
	    !is_owners_manager(rq, st, c) && !api_has_role(rq, ROLE_ADMIN)) {
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL, "only the owner, "
		    "the owner's manager, a provisioner of the instance or an "
		    "admin may revoke");
		goto out;
	}
	if (c->kind == KIND_LEGACY) {
		r = http_fail(rq, KW_ERR_CONFLICT, NULL, "'%.64s' is a legacy "
		    "Zendesk API token: keywarden tracks it but cannot revoke "
		    "it; delete it on Zendesk, then sync the instance", c->id);
		goto out;
	}
	if (reason[0] == '\0')
		snprintf(reason, sizeof(reason), "revoked by %s",
		    api_me(rq)->email);
	r = issuance_revoke(rq->app, st, api_me(rq)->email, c->id, reason,
	    &perr);
	if ((r = api_revoke_fail(rq, r, c->id, &perr)) == 0 &&
	    (r = store_credential_get(st, c->id, c)) == 0)
		rs->body = api_credential_json(c);
 out:
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}
