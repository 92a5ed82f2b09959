/*
 * broker.c — the broker (core/credentials.h): short-lived access tokens
 * for `broker` credentials and the tokens bound to one such credential.
 * keywarden keeps the client secret sealed; what leaves is an access
 * token the instance expires by itself, recorded by its fingerprint only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "core/issuance.h"
#include "core/app.h"
#include "core/credentials.h"
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
load_owned(const struct actor *a, struct store *st, const char *id,
    struct credential *c, const char *verb, struct kw_fail *f)
{
	int r;

	if ((r = store_credential_get(st, id, c)) != 0)
		return core_store_fail(r, "credential", id, f);
	if (strcmp(c->owner_id, a->person.id) == 0)
		return 0;
	if (actor_has_role(a, ROLE_ADMIN | ROLE_AUDITOR) ||
	    provisioner_of(st, c->instance_id, a->person.id))
		return verb == NULL ? 0 : kw_fail(f, KW_ERR_FORBIDDEN, NULL,
		    "only the credential's owner may %s", verb);
	return kw_fail(f, KW_ERR_NOT_FOUND, NULL, "no credential '%.64s'",
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
check_broker(const struct credential *c, const struct person *owner,
    struct kw_fail *f)
{
	if (c->kind != KIND_API_TOKEN || c->delivery_mode != DM_BROKER)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' is not a broker credential (its delivery mode is "
		    "%s): keywarden does not hold its secret",
		    c->id, credential_delivery_mode_name(c));
	if (c->state != CS_ACTIVE || being_revoked(c))
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' is not active", c->id);
	if (!owner->active)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "the owner of "
		    "credential '%.64s' is no longer active", c->id);
	return 0;
}

/* The instance's answer when it gave no token: 429 with its wait passed
 * on, or 502. */
static int
grant_fail(const struct provider_error *perr, struct kw_fail *f)
{
	kw_fail_details(f, json_pack("{s:I, s:s}", "status",
	    (json_int_t)perr->status, "instance_error", perr->message));
	if (perr->status == 429) {
		f->retry_after = perr->retry_after > 0 ?
		    (int)perr->retry_after : 1;
		return kw_fail(f, KW_ERR_RATE_LIMITED, NULL, "the instance "
		    "is rate limiting; retry after %d seconds",
		    f->retry_after);
	}
	return kw_fail(f, KW_ERR_UPSTREAM, NULL, "the instance gave no "
	    "access token: %s", perr->message);
}

/* Record a dispensing: its audit event (fingerprint and expiry, never the
 * token) and the bound token's use, in one transaction; the credential
 * must still be active. */
static int
record_dispensing(struct app *app, struct actor *a,
    const struct credential *c, const char *bound_id, const char *fp,
    const char *expires_at, long ttl, struct kw_fail *f)
{
	struct credential	*now;
	struct store		*w;
	char			 at[KW_TIME_LEN + 1];
	int			 r;

	if ((now = malloc(sizeof(*now))) == NULL)
		return KW_ERR_NOMEM;
	kw_time_fmt(kw_now(), at, sizeof(at));
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = store_credential_get(w, c->id, now)) != 0) {
		r = core_store_fail(r, "credential", c->id, f);
		goto out;
	}
	if (now->state != CS_ACTIVE) {
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "was revoked meanwhile", c->id);
		goto out;
	}
	if (bound_id != NULL && (r = store_bound_used(w, bound_id, at)) != 0) {
		r = core_store_fail(r, "bound token", bound_id, f);
		goto out;
	}
	r = core_audit(w, a, "credential.access_token", c->id, json_pack(
	    "{s:s, s:s, s:I, s:s}", "fingerprint", fp, "expires_at",
	    expires_at, "ttl_seconds", (json_int_t)ttl, "via",
	    bound_id != NULL ? bound_id : "owner"), f);
 out:
	r = core_tx_end(app, r, f);
 done:
	kw_wipe(now, sizeof(*now));
	free(now);
	return r;
}

int
credential_access_token(struct app *app, struct actor *a, const char *id,
    int ttl, const char *bound_id, struct credential_access *out,
    struct kw_fail *f)
{
	struct provider_error	 perr;
	struct grant_result	*g = NULL;
	struct credential	*c = NULL;
	struct instance		*in = NULL;
	struct store		*st;
	char			 fp[32];
	size_t			 i;
	int			 r;

	memset(out, 0, sizeof(*out));
	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	c = malloc(sizeof(*c));
	in = malloc(sizeof(*in));
	g = calloc(1, sizeof(*g));
	if (c == NULL || in == NULL || g == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	if ((r = load_owned(a, st, id, c, "ask for its access tokens",
	    f)) != 0 || (r = check_broker(c, &a->person, f)) != 0)
		goto out;
	if ((r = store_instance_get(st, c->instance_id, in)) != 0) {
		r = core_store_fail(r, "instance", c->instance_id, f);
		goto out;
	}
	if (ttl > in->max_access_ttl) {
		r = kw_fail(f, KW_ERR_VALIDATION, "ttl_seconds",
		    "'ttl_seconds' must be from %d to %d on instance %s",
		    KW_ACCESS_TTL_MIN, in->max_access_ttl, in->name);
		goto out;
	}
	memset(&perr, 0, sizeof(perr));
	r = issuance_access_token(app, c, in, ttl, g, &perr);
	if (r == KW_ERR_UPSTREAM) {
		r = grant_fail(&perr, f);
		goto out;
	}
	if (r == KW_ERR_CONFLICT) {
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "keywarden holds no "
		    "client secret for credential '%.64s'", c->id);
		goto out;
	}
	if (r == KW_ERR_CONFIG) {
		/* its secret goes only where its client was made */
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "instance %s has a new "
		    "URL since credential '%.64s' was issued: its client secret "
		    "is not sent there; rotate the credential (a new secret, "
		    "at the new address) or revoke it", in->name, c->id);
		goto out;
	}
	if (r != 0)
		goto out;
	kw_time_fmt(kw_now() + (time_t)g->expires_in, out->expires_at,
	    sizeof(out->expires_at));
	if ((r = crypto_fingerprint(app->keys, g->access_token,
	    strlen(g->access_token), fp, sizeof(fp))) != 0 ||
	    (r = record_dispensing(app, a, c, bound_id, fp, out->expires_at,
	    ttl, f)) != 0)
		goto out;
	kw_strlcpy(out->access_token, g->access_token,
	    sizeof(out->access_token));
	kw_strlcpy(out->instance_url, in->url, sizeof(out->instance_url));
	kw_strlcpy(out->provider, in->provider, sizeof(out->provider));
	for (i = 0; i < c->nscopes && i < KW_SCOPES_MAX; i++)
		kw_strlcpy(out->scopes[i], c->scopes[i],
		    sizeof(out->scopes[i]));
	out->nscopes = i;
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

static int
bound_count(const struct bound_token *b, void *arg)
{
	size_t *n = arg;

	(void)b;
	(*n)++;
	return 0;
}

int
credential_bound_create(struct app *app, struct actor *a, const char *id,
    const char *label, struct bound_token *b, char *tok, size_t toksz,
    struct kw_fail *f)
{
	struct credential	*c;
	struct store		*w;
	size_t			 n = 0;
	int			 r;

	memset(b, 0, sizeof(*b));
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = load_owned(a, w, id, c, "make tokens bound to it", f)) != 0 ||
	    (r = check_broker(c, &a->person, f)) != 0)
		goto out;
	if ((r = store_bound_each(w, c->id, bound_count, &n)) != 0) {
		r = core_store_fail(r, "", "", f);
		goto out;
	}
	if (n >= KW_BOUND_TOKENS_MAX) {
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "already has %d bound tokens; delete one first", c->id,
		    KW_BOUND_TOKENS_MAX);
		goto out;
	}
	kw_strlcpy(b->label, label, sizeof(b->label));
	if ((r = crypto_token_new(tok, toksz)) != 0 ||
	    (r = crypto_token_hash(app->keys, tok, b->hash)) != 0)
		goto out;
	crypto_random_id("btk_", b->id, sizeof(b->id));
	kw_strlcpy(b->credential_id, c->id, sizeof(b->credential_id));
	kw_time_fmt(kw_now(), b->created_at, sizeof(b->created_at));
	if ((r = store_bound_insert(w, b)) != 0) {
		r = core_store_fail(r, "bound token", b->id, f);
		goto out;
	}
	r = core_audit(w, a, "credential.bound_token_create", c->id,
	    json_pack("{s:s, s:s}", "token_id", b->id, "label", b->label), f);
 out:
	r = core_tx_end(app, r, f);
 done:
	if (r != 0)
		kw_wipe(tok, toksz);
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

int
credential_bound_each(struct app *app, const struct actor *a,
    const char *id, int (*fn)(const struct bound_token *, void *),
    void *arg, struct kw_fail *f)
{
	struct credential	*c;
	struct store		*st;
	int			 r;

	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	/* metadata only: whoever may see the credential may see these */
	if ((r = load_owned(a, st, id, c, NULL, f)) == 0 &&
	    (r = store_bound_each(st, c->id, fn, arg)) != 0)
		r = core_store_fail(r, "", "", f);
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

int
credential_bound_delete(struct app *app, struct actor *a, const char *id,
    const char *tid, char *revoked_at, struct kw_fail *f)
{
	struct credential	*c;
	struct store		*w;
	int			 r;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = load_owned(a, w, id, c, "delete its bound tokens", f)) != 0)
		goto out;
	kw_time_fmt(kw_now(), revoked_at, KW_TIME_LEN + 1);
	if ((r = store_bound_revoke(w, c->id, tid, revoked_at)) != 0) {
		r = r == KW_ERR_NOT_FOUND ? kw_fail(f, r, NULL, "no live "
		    "bound token '%.64s' on credential '%.64s'", tid, c->id) :
		    core_store_fail(r, "", "", f);
		goto out;
	}
	r = core_audit(w, a, "credential.bound_token_revoke", c->id,
	    json_pack("{s:s}", "token_id", tid), f);
 out:
	r = core_tx_end(app, r, f);
 done:
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}
