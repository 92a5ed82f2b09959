/*
 * credentials.c — what was issued, to whom (credentials.h): the intent a
 * request becomes, its going live (sealed for one-time delivery, or kept
 * for the broker), who may see it, its reveal, revocation and the link of
 * a legacy token to its replacement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "core/issuance.h"
#include "core/app.h"
#include "core/credentials.h"
#include "core/legacy.h"
#include "crypto/crypto.h"
#include "policy/visibility.h"
#include "policy/workflow.h"
#include "util/util.h"

const char *const credential_delivery_modes[DM__COUNT + 1] = {
	[DM_TOKEN] = "token",
	[DM_BROKER] = "broker",
	[DM_CLIENT_SECRET] = "client_secret",
	[DM__COUNT] = NULL,
};

const char *
credential_delivery_mode_name(const struct credential *c)
{
	if (c->kind == KIND_INTEGRATION)
		return "integration";
	if (c->kind == KIND_LEGACY)
		return "not_applicable";
	return (unsigned)c->delivery_mode < DM__COUNT ?
	    credential_delivery_modes[c->delivery_mode] : "token";
}

void
credential_from_request(const struct request *r, struct credential *c)
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
credential_external(struct credential *c, json_t *ids)
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
credential_broker_ad(const struct credential *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "keywarden:credential:%s:client_secret", c->id);
}

int
credential_broker_seal(struct app *app, struct credential *c,
    const char *secret)
{
	char	ad[128];
	int	r;

	credential_broker_ad(c, ad, sizeof(ad));
	if ((r = crypto_seal(app->keys, ad, secret, strlen(secret),
	    c->broker_sealed, sizeof(c->broker_sealed),
	    &c->broker_sealed_len)) != 0)
		return r;
	return crypto_fingerprint(app->keys, secret, strlen(secret),
	    c->fingerprint, sizeof(c->fingerprint));
}

/*
 * Set c->expires_at as it goes live: the lifetime from now, or the
 * instance's expiry when that comes first (a token the SaaS expires tells
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
credential_activate(struct app *app, struct credential *c,
    const char *client_id, const char *secret, const char *expires_at)
{
	char		 ad[128], *payload = NULL;
	const char	*why;
	time_t		 now = kw_now();
	json_t		*o;
	int		 r;

	/* pending -> active, the table's CE_ACTIVATE (a conflict otherwise) */
	if ((r = policy_credential_step(c, CE_ACTIVATE, &why)) != 0)
		return r;
	/* a broker credential's client secret is kept, never delivered */
	if (c->kind == KIND_API_TOKEN && c->delivery_mode == DM_BROKER) {
		if ((r = credential_broker_seal(app, c, secret)) != 0)
			return r;
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
	kw_time_fmt(now, c->created_at, sizeof(c->created_at));
	expiry_settle(c, expires_at, now);
	c->delivery = DS_PENDING;
	kw_time_fmt(now + app->cfg.delivery_window, c->delivery_expires_at,
	    sizeof(c->delivery_expires_at));
	return 0;
}

int
credential_drop_intent(struct store *st, const struct request *r)
{
	struct credential	*c;
	const char		*why;
	int			 res = 0;

	if (r->credential_id[0] == '\0')
		return 0;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	/* a pending intent is abandoned (CE_ABANDON); anything else stays */
	if (store_credential_get(st, r->credential_id, c) == 0 &&
	    policy_credential_step(c, CE_ABANDON, &why) == 0) {
		kw_time_fmt(kw_now(), c->revoked_at, sizeof(c->revoked_at));
		kw_strlcpy(c->revoke_reason, "request withdrawn before issuance",
		    sizeof(c->revoke_reason));
		res = store_credential_update(st, c);
	}
	free(c);
	return res;
}

/* ---- who may see and change a credential ---- */

/* 1 if person_id provisions instance in. */
static int
provisions(const struct instance *in, const char *person_id)
{
	size_t i;

	for (i = 0; i < in->nprovisioners; i++)
		if (strcmp(in->provisioners[i].id, person_id) == 0)
			return 1;
	return 0;
}

/* 1 if a is the current manager of c's owner: they see their reports'
 * credentials as they see their requests, and may revoke them. */
static int
is_owners_manager(const struct actor *a, const struct credential *c)
{
	return a->person.id[0] != '\0' && c->owner_manager_id[0] != '\0' &&
	    strcmp(c->owner_manager_id, a->person.id) == 0;
}

/* Load credential id from st if a may see it (policy_may_see_credential:
 * the people who see its request), otherwise "not found".  *prov says
 * whether a is a provisioner of its instance. */
static int
load_visible(const struct actor *a, struct store *st, const char *id,
    struct credential *c, int *prov, struct kw_fail *f)
{
	struct store_viewer	 v;
	struct instance		*in;
	int			 r, seen;

	if ((r = store_credential_get(st, id, c)) != 0)
		return core_store_fail(r, "credential", id, f);
	if ((in = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = store_instance_get(st, c->instance_id, in)) != 0) {
		free(in);
		return core_store_fail(r, "credential", id, f);
	}
	*prov = a->person.id[0] != '\0' && provisions(in, a->person.id);
	policy_viewer(&a->person, &v);
	seen = policy_may_see_credential(&v, c, in);
	kw_wipe(in, sizeof(*in));
	free(in);
	if (!seen)
		return kw_fail(f, KW_ERR_NOT_FOUND, NULL,
		    "no credential '%.64s'", id);
	return 0;
}

int
credential_get(struct app *app, const struct actor *a, const char *id,
    struct credential *c, struct kw_fail *f)
{
	struct store	*st;
	int		 prov;

	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	return load_visible(a, st, id, c, &prov, f);
}

/* ---- reveal ---- */

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
reveal_gone(const struct credential *c, struct kw_fail *f)
{
	if (c->delivery == DS_DELIVERED && c->state == CS_ACTIVE)
		return kw_fail(f, KW_ERR_GONE, NULL, "the secret of '%s' "
		    "was already revealed, and it is shown only once. If you "
		    "lost it, rotate the credential to get a new secret: "
		    "keywarden credential rotate %s", c->id, c->id);
	if (c->delivery == DS_DELIVERED)
		return kw_fail(f, KW_ERR_GONE, NULL, "the secret of '%s' "
		    "was already revealed, and the credential is no longer "
		    "active: file a new request (keywarden request create) "
		    "if you still need access", c->id);
	return kw_fail(f, KW_ERR_GONE, NULL, "the delivery window of "
	    "'%s' passed and its secret was destroyed unread; the credential "
	    "is being revoked, so it cannot be rotated. File a new request "
	    "(keywarden request create), or ask a provisioner of %s", c->id,
	    c->instance_name);
}

/* Record a refused reveal (410), in its own transaction: the refusal
 * itself changed nothing.  Best effort: the refusal stands. */
static void
audit_reveal_refused(struct app *app, const struct actor *a,
    const struct credential *c)
{
	struct kw_fail	 scratch;
	struct store	*w;

	memset(&scratch, 0, sizeof(scratch));
	if (core_write_begin(app, &w) != 0)
		return;
	core_write_end(app, core_audit(w, a, "credential.reveal_refused",
	    c->id, json_pack("{s:s, s:s, s:s}", "error", "gone", "delivery",
	    c->delivery == DS_DELIVERED ? "delivered" : "expired",
	    "fingerprint", c->fingerprint), &scratch));
	kw_fail_clear(&scratch);
}

int
credential_reveal(struct app *app, struct actor *a, const char *id,
    json_t **secret_out, struct kw_fail *f)
{
	struct credential	*c;
	struct store		*w;
	unsigned char		*pt = NULL;
	char			 ad[128], now[KW_TIME_LEN + 1];
	size_t			 ptlen = 0;
	json_t			*secret = NULL;
	int			 r, prov, window_passed = 0, gone = 0;

	*secret_out = NULL;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = load_visible(a, w, id, c, &prov, f)) != 0)
		goto out;
	if (strcmp(c->owner_id, a->person.id) != 0) {
		r = kw_fail(f, KW_ERR_FORBIDDEN, NULL,
		    "only the credential's owner may reveal its secret");
		goto out;
	}
	if (c->kind == KIND_API_TOKEN && c->delivery_mode == DM_BROKER) {
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "is a broker credential: keywarden keeps its secret and "
		    "never reveals it; ask for a short-lived access token "
		    "instead (POST /v1/credentials/%.64s/access-token, or "
		    "'keywarden credential token %.64s')", c->id, c->id, c->id);
		goto out;
	}
	kw_time_fmt(kw_now(), now, sizeof(now));
	if (c->delivery != DS_PENDING || c->sealed_len == 0 ||
	    c->state != CS_ACTIVE) {
		r = reveal_gone(c, f);
		gone = 1;
		goto out;
	}
	if (strcmp(now, c->delivery_expires_at) >= 0) {
		/* too late: destroy it now (the jobs revoke the credential) */
		drop_sealed(c, DS_EXPIRED);
		window_passed = 1;
		if ((r = store_credential_update(w, c)) == 0)
			r = core_audit(w, a, "credential.delivery_expired",
			    c->id, json_pack("{s:s}", "fingerprint",
			    c->fingerprint), f);
		goto out;
	}
	if ((pt = malloc(c->sealed_len)) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	delivery_ad(c, ad, sizeof(ad));
	if ((r = crypto_open(app->keys, ad, c->sealed, c->sealed_len, pt,
	    c->sealed_len, &ptlen)) != 0) {
		r = kw_fail(f, KW_ERR_INTERNAL, NULL,
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
	if ((r = store_credential_update(w, c)) != 0) {
		r = core_store_fail(r, "credential", c->id, f);
		goto out;
	}
	r = core_audit(w, a, "credential.reveal", c->id, json_pack("{s:s}",
	    "fingerprint", c->fingerprint), f);
 out:
	r = core_tx_end(app, r, f);
	if (r == 0 && window_passed) {
		r = reveal_gone(c, f);
		gone = 1;
	}
	if (gone)
		audit_reveal_refused(app, a, c);
	if (r == 0) {
		*secret_out = secret;
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

/* ---- revoke ---- */

int
credential_revoke_fail(int r, const char *id,
    const struct provider_error *perr, struct kw_fail *f)
{
	switch (r) {
	case 0:
		return 0;
	case KW_ERR_CONFLICT:
		return kw_fail(f, r, NULL, "credential '%.64s' is not active "
		    "(already revoked or expired, or still being issued)", id);
	case KW_ERR_UPSTREAM:
		kw_fail_details(f, json_pack("{s:I, s:s}", "status",
		    (json_int_t)perr->status, "instance_error", perr->message));
		return kw_fail(f, r, NULL, "the instance did not revoke "
		    "credential '%.64s': %s; it stays active there until a "
		    "retry succeeds (try again; reconciliation retries too), "
		    "and its secret can no longer be revealed", id,
		    perr->message);
	case KW_ERR_UNRECORDED:
		return kw_fail(f, KW_ERR_UNAVAILABLE, NULL, "credential "
		    "'%.64s' was deleted on the instance, but keywarden could "
		    "not record it yet; its secret can no longer be revealed "
		    "and reconciliation (or a retried revocation) will "
		    "complete the record", id);
	default:
		return core_store_fail(r, "credential", id, f);
	}
}

int
credential_revoke(struct app *app, struct actor *a, const char *id,
    const char *reason, struct credential *after, struct kw_fail *f)
{
	struct provider_error	 perr;
	struct credential	*c;
	struct store		*st;
	char			 why[KW_COMMENT_MAX + 1];
	int			 r, prov;

	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = load_visible(a, st, id, c, &prov, f)) != 0)
		goto out;
	if (strcmp(c->owner_id, a->person.id) != 0 && !prov &&
	    !is_owners_manager(a, c) && !actor_has_role(a, ROLE_ADMIN)) {
		r = kw_fail(f, KW_ERR_FORBIDDEN, NULL, "only the owner, "
		    "the owner's manager, a provisioner of the instance or an "
		    "admin may revoke");
		goto out;
	}
	if (c->kind == KIND_LEGACY) {
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "'%.64s' is a legacy "
		    "%s API token: keywarden tracks it but cannot revoke it; "
		    "delete it on %s, then sync the instance", c->id,
		    legacy_saas(st, c), legacy_saas(st, c));
		goto out;
	}
	if (reason[0] == '\0')
		snprintf(why, sizeof(why), "revoked by %s", a->person.email);
	else
		kw_strlcpy(why, reason, sizeof(why));
	memset(&perr, 0, sizeof(perr));
	r = issuance_revoke(app, st, a, c->id, why, &perr);
	if ((r = credential_revoke_fail(r, c->id, &perr, f)) == 0 &&
	    after != NULL && (r = store_credential_get(st, c->id, after)) != 0)
		r = core_store_fail(r, "credential", c->id, f);
 out:
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

/* ---- linking a legacy token's replacement ---- */

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

/*
 * Check that replacement id rid may replace legacy credential c (exists,
 * is keywarden's own, on the same instance) for a; rep is scratch.  A
 * credential on another instance is "not found" to anyone but an admin.
 */
static int
link_check(const struct actor *a, struct store *st,
    const struct credential *c, const char *rid, struct credential *rep,
    struct kw_fail *f)
{
	int r;

	r = store_credential_get(st, rid, rep);
	if (r != 0 && r != KW_ERR_NOT_FOUND)
		return core_store_fail(r, "", "", f);
	if (r == KW_ERR_NOT_FOUND || (strcmp(rep->instance_id,
	    c->instance_id) != 0 && !actor_has_role(a, ROLE_ADMIN)))
		return kw_fail(f, KW_ERR_VALIDATION, "replacement_id",
		    "'replacement_id': no credential '%.64s' on instance "
		    "'%.64s'", rid, c->instance_name);
	if (rep->kind == KIND_LEGACY)
		return kw_fail(f, KW_ERR_VALIDATION, "replacement_id",
		    "'replacement_id' names a legacy API token; name the "
		    "keywarden credential that replaces it");
	if (strcmp(rep->instance_id, c->instance_id) != 0)
		return kw_fail(f, KW_ERR_VALIDATION, "replacement_id",
		    "'replacement_id' is on instance '%.64s', not on '%.64s'",
		    rep->instance_name, c->instance_name);
	return 0;
}

/* Load legacy credential id for a: 404 when they may not see it, 403
 * when they may not change it, 409 when it is not legacy. */
static int
link_load(const struct actor *a, struct store *st, const char *id,
    struct credential *c, struct instance *in, struct kw_fail *f)
{
	struct store_viewer	v;
	int			r, prov;

	if ((r = store_credential_get(st, id, c)) != 0)
		return core_store_fail(r, "credential", id, f);
	if ((r = store_instance_get(st, c->instance_id, in)) != 0)
		return core_store_fail(r, "instance", c->instance_id, f);
	prov = a->person.id[0] != '\0' && provisions(in, a->person.id);
	policy_viewer(&a->person, &v);
	if (!policy_may_see_credential(&v, c, in))
		return kw_fail(f, KW_ERR_NOT_FOUND, NULL,
		    "no credential '%.64s'", id);
	if (!prov && !actor_has_role(a, ROLE_ADMIN))
		return kw_fail(f, KW_ERR_FORBIDDEN, NULL, "only an admin "
		    "or a provisioner of instance '%.64s' may link a "
		    "replacement", c->instance_name);
	if (c->kind != KIND_LEGACY)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' is not a legacy API token; only those are "
		    "replaced", id);
	return 0;
}

int
credential_link(struct app *app, struct actor *a, const char *id,
    const char *rid, struct credential *c, struct kw_fail *f)
{
	struct credential	*rep;
	struct instance		*in;
	struct store		*w;
	char			 prev[KW_ID_MAX + 1];
	int			 r;

	rep = malloc(sizeof(*rep));
	in = malloc(sizeof(*in));
	if (rep == NULL || in == NULL) {
		r = KW_ERR_NOMEM;
		goto done;
	}
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = link_load(a, w, id, c, in, f)) != 0 ||
	    (rid[0] != '\0' && (r = link_check(a, w, c, rid, rep, f)) != 0))
		goto out;
	kw_strlcpy(prev, c->replacement_id, sizeof(prev));
	kw_strlcpy(c->replacement_id, rid, sizeof(c->replacement_id));
	if ((r = store_credential_update(w, c)) != 0) {
		r = core_store_fail(r, "credential", c->id, f);
		goto out;
	}
	r = core_audit(w, a, "credential.link_replacement", c->id, json_pack(
	    "{s:o, s:o, s:s, s:s}", "replacement_id", str_or_null(rid),
	    "previous", str_or_null(prev), "instance", c->instance_name,
	    "api_token_key", c->external_key), f);
 out:
	r = core_tx_end(app, r, f);
 done:
	if (rep != NULL)
		kw_wipe(rep, sizeof(*rep));
	free(rep);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return r;
}
