/*
 * issuance.c — calling the instance to mint and revoke credentials, and
 * reconciliation after a crash.  No store transaction is held while the
 * instance is called.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "metrics/metrics.h"
#include "core/issuance.h"
#include "audit/audit.h"
#include "core/credentials.h"
#include "core/instances.h"
#include "core/requests.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "policy/workflow.h"
#include "util/util.h"

#define IDENT_PREFIX	"keywarden-"
#define URL_TAG_LEN	16
#define INFLIGHT_MAX	256

/* keywarden itself, as the audit log names what jobs and reconciliation
 * do */
static void
keywarden(struct actor *k)
{
	actor_system(k, DOOR_JOB, "keywarden");
}

/* core_audit for the store error alone (no person reads why). */
static int
audit(struct store *w, const struct actor *a, const char *action,
    const char *subject, json_t *details)
{
	struct kw_fail f;

	memset(&f, 0, sizeof(f));
	return core_audit(w, a, action, subject, details, &f);
}

/*
 * Credentials being minted (or ended) right now: reconciliation leaves
 * them alone.  A claim is this process's, and the store's on connection
 * st (on PostgreSQL an advisory lock: another node's claim on the same
 * credential fails, and a node that dies gives its claims up).
 */
static pthread_mutex_t	inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static char		inflight[INFLIGHT_MAX][KW_ID_MAX + 1];

static int	inflight_local(const char *id);
static void	inflight_release_local(const char *id);

static int
inflight_claim(struct store *st, const char *id)
{
	if (!inflight_local(id))
		return 0;
	if (store_claim(st, id) != 1) {
		inflight_release_local(id);
		return 0;
	}
	return 1;
}

static void
inflight_release(struct store *st, const char *id)
{
	store_unclaim(st, id);
	inflight_release_local(id);
}

static int
inflight_local(const char *id)
{
	int i, free_slot = -1, r = 0;

	pthread_mutex_lock(&inflight_lock);
	for (i = 0; i < INFLIGHT_MAX; i++) {
		if (strcmp(inflight[i], id) == 0)
			goto out;		/* someone else has it */
		if (inflight[i][0] == '\0' && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		kw_strlcpy(inflight[free_slot], id, sizeof(inflight[0]));
		r = 1;
	}
 out:
	pthread_mutex_unlock(&inflight_lock);
	return r;
}

static void
inflight_release_local(const char *id)
{
	int i;

	pthread_mutex_lock(&inflight_lock);
	for (i = 0; i < INFLIGHT_MAX; i++)
		if (strcmp(inflight[i], id) == 0)
			inflight[i][0] = '\0';
	pthread_mutex_unlock(&inflight_lock);
}

int
issuance_automatic(const struct instance *in)
{
	return in->issuance == ISSUANCE_AUTOMATIC && in->bot_sealed_len > 0 &&
	    provider_find(in->provider) != NULL;
}

/*
 * keywarden's own access to instances whose bot is a confidential client
 * (client_credentials): the access tokens, in memory only, one per
 * instance, renewed KW_BOT_RENEW_MARGIN_S before they expire and at once
 * when an instance calls one invalid.  An entry is keyed by the instance
 * and its updated_at, so any change of the instance (a new bot secret, a
 * new URL) starts over.
 */
#define BOT_CACHE_SLOTS	64
#define BOT_SCOPE	"read write"
#define BOT_TOKEN_TTL_S	3600

struct bot_slot {
	char		instance_id[KW_ID_MAX + 1];
	char		version[KW_TIME_LEN + 1];
	char		token[KW_ACCESS_TOKEN_MAX + 1];
	uint64_t	expires_ms;		/* monotonic */
	uint64_t	used_ms;
};

static pthread_mutex_t	bot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bot_slot	bot_cache[BOT_CACHE_SLOTS];

/* Copy a cached live token of in into out; 1 if there was one. */
static int
bot_cached(const struct instance *in, char *out, size_t outsz)
{
	uint64_t	now = kw_mono_us() / 1000;
	int		i, found = 0;

	pthread_mutex_lock(&bot_lock);
	for (i = 0; i < BOT_CACHE_SLOTS && !found; i++) {
		struct bot_slot *b = &bot_cache[i];

		if (strcmp(b->instance_id, in->id) != 0 ||
		    strcmp(b->version, in->updated_at) != 0 ||
		    b->expires_ms < now + KW_BOT_RENEW_MARGIN_S * 1000ULL)
			continue;
		kw_strlcpy(out, b->token, outsz);
		b->used_ms = now;
		found = 1;
	}
	pthread_mutex_unlock(&bot_lock);
	return found;
}

/* Remember tok for in (replacing its old entry or the least used). */
static void
bot_remember(const struct instance *in, const char *tok, long ttl_s)
{
	struct bot_slot	*b = NULL;
	uint64_t	 now = kw_mono_us() / 1000;
	int		 i;

	pthread_mutex_lock(&bot_lock);
	for (i = 0; i < BOT_CACHE_SLOTS && b == NULL; i++)
		if (strcmp(bot_cache[i].instance_id, in->id) == 0)
			b = &bot_cache[i];
	for (i = 0; i < BOT_CACHE_SLOTS && b == NULL; i++)
		if (bot_cache[i].instance_id[0] == '\0')
			b = &bot_cache[i];
	for (i = 0; b == NULL && i < BOT_CACHE_SLOTS; i++)
		if (i == 0 || bot_cache[i].used_ms < b->used_ms)
			b = &bot_cache[i];
	kw_wipe(b, sizeof(*b));
	kw_strlcpy(b->instance_id, in->id, sizeof(b->instance_id));
	kw_strlcpy(b->version, in->updated_at, sizeof(b->version));
	kw_strlcpy(b->token, tok, sizeof(b->token));
	b->expires_ms = now + (uint64_t)ttl_s * 1000;
	b->used_ms = now;
	pthread_mutex_unlock(&bot_lock);
}

/* Forget in's cached token (the instance called it invalid). */
static void
bot_forget(const char *instance_id)
{
	int i;

	pthread_mutex_lock(&bot_lock);
	for (i = 0; i < BOT_CACHE_SLOTS; i++)
		if (strcmp(bot_cache[i].instance_id, instance_id) == 0)
			kw_wipe(&bot_cache[i], sizeof(bot_cache[i]));
	pthread_mutex_unlock(&bot_lock);
}

/* A fresh access token for c's client_credentials bot into c->bot. */
static int
bot_grant(struct issuance_conn *c)
{
	struct grant_spec	 g;
	struct grant_result	*res;
	char			*secret;
	int			 r;

	res = malloc(sizeof(*res));
	secret = malloc(KW_BOT_TOKEN_MAX + 1);
	if (res == NULL || secret == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	if ((r = instance_bot_token(c->app, &c->in, secret,
	    KW_BOT_TOKEN_MAX + 1)) != 0)
		goto out;
	memset(&g, 0, sizeof(g));
	g.identifier = c->in.bot_client_id;
	g.secret = secret;
	g.scope_text = BOT_SCOPE;
	g.expires_in = BOT_TOKEN_TTL_S;
	if ((r = c->ops->grant(&c->t, &g, res, &c->perr)) != 0) {
		log_msg("warn", "instance %s: keywarden's bot could not get an "
		    "access token (client_credentials): %s", c->in.name,
		    c->perr.message);
		goto out;
	}
	kw_strlcpy(c->bot, res->access_token, sizeof(c->bot));
	bot_remember(&c->in, res->access_token, res->expires_in);
 out:
	if (secret != NULL) {
		kw_wipe(secret, KW_BOT_TOKEN_MAX + 1);
		free(secret);
	}
	if (res != NULL) {
		kw_wipe(res, sizeof(*res));
		free(res);
	}
	return r;
}

/* The provider's 401 hook: renew the bot's token once. */
static int
bot_renew(void *arg)
{
	struct issuance_conn *c = arg;

	if (c->in.bot_client_id[0] == '\0')
		return KW_ERR_UPSTREAM;		/* a static token: no remedy */
	bot_forget(c->in.id);
	log_msg("info", "instance %s: the instance refused keywarden's access "
	    "token; renewing it", c->in.name);
	return bot_grant(c);
}

int
issuance_conn_open(struct app *app, const struct instance *in,
    struct issuance_conn *c)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	c->perr.retry_after = -1;
	if ((c->ops = provider_find(in->provider)) == NULL)
		return KW_ERR_INTERNAL;
	c->app = app;
	c->in = *in;
	kw_strlcpy(c->url, in->url, sizeof(c->url));
	n = strlen(c->url);
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	kw_strlcpy(c->name, in->name, sizeof(c->name));
	c->t.base_url = c->url;
	c->t.bot_token = c->bot;
	c->t.name = c->name;
	c->t.timeout_ms = (long)app->cfg.upstream_timeout * 1000;
	c->t.attempts = app->cfg.upstream_attempts;
	c->t.retry_wait_max_s = 2 * app->cfg.upstream_timeout + 30;
	c->t.renew = bot_renew;
	c->t.renew_arg = c;
	if (in->bot_client_id[0] == '\0')
		return instance_bot_token(app, in, c->bot, sizeof(c->bot));
	if (bot_cached(in, c->bot, sizeof(c->bot)))
		return 0;
	return bot_grant(c);
}

void
issuance_conn_close(struct issuance_conn *c)
{
	if (c != NULL) {
		kw_wipe(c->bot, sizeof(c->bot));
		kw_wipe(&c->in, sizeof(c->in));
	}
}

struct approvers {
	json_t	*names;
};

static int
approver(const struct history_entry *h, void *arg)
{
	struct approvers *a = arg;

	if (strcmp(h->action, "approved") == 0 ||
	    strcmp(h->action, "created") == 0)
		json_array_append_new(a->names, json_string(h->actor));
	return 0;
}

/* "keywarden: <link> for <requester>, approved by <a> and <b>" — what
 * the instance's admins see next to the client.  No secret. */
static void
describe(struct store *st, const struct request *r, char *out, size_t outsz)
{
	struct approvers	 a = { json_array() };
	size_t			 i, n;
	int			 len;

	store_history_each(st, r->id, approver, &a);
	len = snprintf(out, outsz, "keywarden %s for %s (%s)", r->id,
	    r->requester_email, r->link);
	n = json_array_size(a.names);
	for (i = 1; i < n && len > 0 && (size_t)len < outsz; i++)
		len += snprintf(out + len, outsz - (size_t)len, "%s%s",
		    i == 1 ? "; approved by " : ", ",
		    json_string_value(json_array_get(a.names, i)));
	json_decref(a.names);
}

/*
 * What names the address a client was made at: the first 16 hex digits of
 * the SHA-256 of the instance URL without trailing slashes.  A broker's
 * client secret goes only to the address it was made at (an instance
 * whose url changed gets it only after a rotation there).
 */
static void
url_tag(const char *url, char out[URL_TAG_LEN + 1])
{
	char	hex[KW_HASH_HEX_LEN + 1];
	size_t	n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	crypto_sha256_hex(url, n, hex);
	kw_strlcpy(out, hex, URL_TAG_LEN + 1);
}

/* 1 if c's client was made at in's current URL (or predates the tag). */
static int
url_tag_matches(const struct credential *c, const struct instance *in)
{
	json_t		*o = json_loads(c->external, 0, NULL);
	const char	*had = json_string_value(json_object_get(o,
			    "instance_url_tag"));
	char		 now[URL_TAG_LEN + 1];
	int		 ok;

	url_tag(in->url, now);
	ok = had == NULL || strcmp(had, now) == 0;
	json_decref(o);
	return ok;
}

static void
external_set(struct credential *c, json_t *d)
{
	char *t = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);

	kw_strlcpy(c->external, t ? t : "{}", sizeof(c->external));
	free(t);
}

/* The history's word on an issuance: the credential's name, and when
 * the instance expires a token before its approved lifetime ends, that
 * (the requester reads it in the answer and the notification). */
static void
issued_note(const struct credential *c, const struct issue_result *res,
    char *out, size_t outsz)
{
	if (res->expires_at[0] != '\0' &&
	    strcmp(c->expires_at, res->expires_at) == 0)
		snprintf(out, outsz, "%.1200s; note: the instance expires this "
		    "token at %s, before its approved lifetime of %d days "
		    "ends, so the credential expires then", c->name,
		    res->expires_at, c->lifetime_days);
	else
		kw_strlcpy(out, c->name, outsz);
}

/* Record the outcome in one transaction.  res is NULL on failure.
 * *owner_gone says whether the credential went live for an owner who is
 * no longer active (offboarded while it was minted). */
static int
record(struct app *app, struct store *st, const struct actor *a,
    struct request *r, struct credential *c, const struct issue_result *res,
    const struct provider_error *perr, int *owner_gone, const char *url,
    const char *provider)
{
	struct person	owner;
	char		comment[KW_COMMENT_MAX + 1], tag[URL_TAG_LEN + 1];
	const char	*why;
	json_t		*d;
	int		rc;

	if ((rc = core_write_begin(app, &st)) != 0)
		return rc;
	/* re-read: only `issuing` may become issued or failed (the table's
	 * RA_ISSUED and RA_ISSUE_FAILED rows) */
	if ((rc = store_request_get(st, r->id, r)) != 0 ||
	    (rc = store_credential_get(st, c->id, c)) != 0)
		goto out;
	if (r->state != RS_ISSUING || c->state != CS_PENDING) {
		rc = KW_ERR_CONFLICT;
		goto out;
	}
	kw_time_fmt(kw_now(), r->updated_at, sizeof(r->updated_at));
	if (res != NULL) {
		/* read in this transaction: an offboarding commits either
		 * before it (seen here) or after it (and finds it active) */
		if ((rc = store_person_get(st, c->owner_id, &owner)) != 0)
			goto out;
		*owner_gone = !owner.active;
		d = json_pack("{s:s, s:s, s:s}", "client_id", res->client_id,
		    "identifier", res->identifier, "token_id", res->token_id);
		if (res->expires_at[0] != '\0')
			json_object_set_new(d, "expires_at",
			    json_string(res->expires_at));
		json_object_set_new(d, "provider", json_string(provider));
		url_tag(url, tag);
		json_object_set_new(d, "instance_url_tag", json_string(tag));
		external_set(c, d);
		if (*owner_gone)
			json_object_set_new(d, "owner_active", json_false());
		if ((rc = credential_activate(app, c, res->identifier,
		    res->secret, res->expires_at)) != 0) {
			json_decref(d);
			goto out;
		}
		if (*owner_gone)	/* nobody to deliver to: due at once */
			kw_strlcpy(c->delivery_expires_at, r->updated_at,
			    sizeof(c->delivery_expires_at));
		if ((rc = policy_system_step(r, RA_ISSUED, &why)) != 0) {
			json_decref(d);
			goto out;
		}
		json_object_set_new(d, "fingerprint",
		    json_string(c->fingerprint));
		issued_note(c, res, comment, sizeof(comment));
		if ((rc = request_history_add(st, r->id, "keywarden", "issued",
		    comment)) != 0) {
			json_decref(d);
			goto out;
		}
		rc = audit(st, a, "credential.issue", c->id, d);
		if (rc == 0 && !*owner_gone)	/* nothing to collect */
			rc = notify_request(&app->notify, st,
			    NE_REQUEST_ISSUED, r, c);
	} else {
		if (perr->status != 0)
			snprintf(comment, sizeof(comment), "the instance "
			    "refused (HTTP %ld): %s", perr->status,
			    perr->message);
		else
			snprintf(comment, sizeof(comment), "the instance "
			    "could not be reached: %s", perr->message);
		if ((rc = policy_credential_step(c, CE_ABANDON, &why)) != 0 ||
		    (rc = policy_system_step(r, RA_ISSUE_FAILED, &why)) != 0)
			goto out;
		kw_strlcpy(c->revoked_at, r->updated_at, sizeof(c->revoked_at));
		kw_strlcpy(c->revoke_reason, "issuance failed",
		    sizeof(c->revoke_reason));
		if ((rc = request_history_add(st, r->id, "keywarden", "failed",
		    comment)) != 0)
			goto out;
		rc = audit(st, a, "request.fail", r->id, json_pack(
		    "{s:s, s:I, s:s}", "credential_id", c->id, "status",
		    (json_int_t)perr->status, "error", perr->message));
		if (rc == 0)
			rc = notify_request(&app->notify, st,
			    NE_REQUEST_FAILED, r, c);
	}
	if (rc != 0 || (rc = store_credential_update(st, c)) != 0 ||
	    (rc = store_request_transition(st, r, RS_ISSUING)) != 0)
		goto out;
	kw_fault("before_commit");
 out:
	return core_write_end(app, rc);
}

/*
 * Credential id went live for an owner offboarded while it was minted
 * (the offboarding could not see it: it was still pending).  Revoke it
 * at once, on the instance and in the store, audited.  If the instance
 * cannot be reached now, its delivery window is already over, so the
 * next jobs run revokes it (and repeating the offboarding does too).
 */
static void
revoke_for_gone_owner(struct app *app, struct store *st, const char *id)
{
	struct provider_error	e;
	struct actor		k;
	int			rc;

	keywarden(&k);
	rc = issuance_end(app, st, &k, id, CS_REVOKED,
	    "owner offboarded during issuance", &e);
	log_msg(rc == 0 ? "warn" : "error", "credential %s: its owner was "
	    "offboarded while it was minted: %s", id, rc == 0 ? "revoked" :
	    rc == KW_ERR_UPSTREAM ? e.message : kw_strerror(rc));
}

int
issuance_run(struct app *app, struct store *st, const struct actor *a,
    const char *request_id, const char *adopt_client_id,
    struct issuance_outcome *out)
{
	struct issue_result	*res = NULL;
	struct issue_spec	 spec;
	struct credential	*c = NULL;
	struct request		*r = NULL;
	struct instance		*in = NULL;
	struct issuance_conn		*cn = NULL;
	struct provider_error	 e2;
	char			 ident[PROVIDER_IDENT_MAX], desc[1024];
	int			 rc, prc, claimed = 0, owner_gone = 0;

	memset(out, 0, sizeof(*out));
	r = malloc(sizeof(*r));
	c = malloc(sizeof(*c));
	in = malloc(sizeof(*in));
	cn = malloc(sizeof(*cn));
	res = calloc(1, sizeof(*res));
	if (r == NULL || c == NULL || in == NULL || cn == NULL || res == NULL) {
		rc = KW_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_request_get(st, request_id, r)) != 0 ||
	    (rc = store_credential_get(st, r->credential_id, c)) != 0 ||
	    (rc = store_instance_get(st, r->instance_id, in)) != 0)
		goto out;
	kw_strlcpy(out->credential_id, c->id, sizeof(out->credential_id));
	if (r->state != RS_ISSUING || c->state != CS_PENDING) {
		rc = KW_ERR_CONFLICT;
		goto out;
	}
	if (!(claimed = inflight_claim(st, c->id))) {
		rc = KW_ERR_CONFLICT;		/* being minted already */
		goto out;
	}
	/* whoever held the claim before may have finished meanwhile (on
	 * this node or another): look again, now that it is ours */
	if ((rc = store_request_get(st, request_id, r)) != 0 ||
	    (rc = store_credential_get(st, r->credential_id, c)) != 0)
		goto out;
	if (r->state != RS_ISSUING || c->state != CS_PENDING) {
		rc = KW_ERR_CONFLICT;
		goto out;
	}
	rc = issuance_conn_open(app, in, cn);
	if (rc == KW_ERR_UPSTREAM) {
		/* keywarden's own access failed: the issuance did */
		out->perr = cn->perr;
		rc = record(app, st, a, r, c, NULL, &out->perr, &owner_gone,
		    in->url, in->provider);
		goto out;
	}
	if (rc != 0)
		goto out;
	snprintf(ident, sizeof(ident), IDENT_PREFIX "%s", c->id);
	describe(st, r, desc, sizeof(desc));
	memset(&spec, 0, sizeof(spec));
	spec.kind = r->kind;
	spec.delivery = r->kind == KIND_API_TOKEN ? c->delivery_mode : DM_TOKEN;
	spec.identifier = ident;
	spec.name = c->name;
	spec.description = desc;
	spec.client_kind = r->integration.client_kind;
	spec.nredirects = r->integration.nredirects;
	spec.redirect_uris = r->integration.redirect_uris;
	spec.nscopes = r->nscopes;
	spec.scopes = r->scopes;
	rc = adopt_client_id ? cn->ops->adopt(&cn->t, &spec, adopt_client_id,
	    res, &out->perr) : cn->ops->issue(&cn->t, &spec, res, &out->perr);
	if (rc == 0)
		kw_strlcpy(res->identifier, ident, sizeof(res->identifier));
	if (rc != 0 && rc != KW_ERR_UPSTREAM) {
		metrics_count(MC_ISSUANCE_ERROR);
		goto out;
	}
	prc = rc;
	out->issued = rc == 0;
	rc = record(app, st, a, r, c, out->issued ? res : NULL,
	    &out->perr, &owner_gone, in->url, in->provider);
	if (rc == 0 && out->issued && owner_gone)
		revoke_for_gone_owner(app, st, c->id);
	if (rc != 0 && out->issued) {
		/* minted but not recorded: take it back; if that fails too,
		 * reconciliation finds the client (the intent is still there) */
		log_msg("error", "credential %s: minted but not recorded (%s); "
		    "deleting it from the instance", c->id, kw_strerror(rc));
		if (cn->ops->revoke(&cn->t, res->client_id, res->token_id,
		    &e2) != 0)
			log_msg("error", "credential %s: %s", c->id, e2.message);
		out->issued = 0;
	}
	metrics_count(out->issued ? MC_ISSUANCE_ISSUED : prc == KW_ERR_UPSTREAM ?
	    MC_ISSUANCE_FAILED : MC_ISSUANCE_ERROR);
 out:
	if (cn != NULL) {
		issuance_conn_close(cn);
		free(cn);
	}
	if (res != NULL) {
		kw_wipe(res, sizeof(*res));
		free(res);
	}
	if (claimed)
		inflight_release(st, out->credential_id);
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	free(r);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return rc;
}

/* The instance-side ids recorded for a credential. */
static void
external_ids(const struct credential *c, char *client_id, char *token_id)
{
	json_t		*o = json_loads(c->external, 0, NULL);
	const char	*s;

	client_id[0] = token_id[0] = '\0';
	if ((s = json_string_value(json_object_get(o, "client_id"))) != NULL)
		kw_strlcpy(client_id, s, PROVIDER_ID_MAX);
	if ((s = json_string_value(json_object_get(o, "token_id"))) != NULL)
		kw_strlcpy(token_id, s, PROVIDER_ID_MAX);
	json_decref(o);
}

/*
 * The intent to end a credential, kept in its external record as
 * "revoking": "revoked"|"expired" from the moment keywarden commits to
 * deleting it on the instance until the outcome is recorded.  A
 * credential with an intent is finished by whoever comes next: a retried
 * revocation, or reconciliation.
 */
#define INTENT_KEY	"revoking"

/* Set (to = CS_REVOKED or CS_EXPIRED) or clear (to = -1) the intent in
 * c->external.  0, or KW_ERR_INTERNAL when the record would not fit. */
static int
intent_set(struct credential *c, int to)
{
	json_t	*o = json_loads(c->external[0] ? c->external : "{}", 0, NULL);
	char	*t = NULL;
	int	 rc = KW_ERR_INTERNAL;

	if (!json_is_object(o))
		goto out;
	if (to < 0)
		json_object_del(o, INTENT_KEY);
	else
		json_object_set_new(o, INTENT_KEY, json_string(
		    to == CS_EXPIRED ? "expired" : "revoked"));
	t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (t == NULL || strlen(t) >= sizeof(c->external))
		goto out;
	kw_strlcpy(c->external, t, sizeof(c->external));
	rc = 0;
 out:
	free(t);
	json_decref(o);
	return rc;
}

/* The state an intent in c ends the credential in, or -1 for none. */
static int
intent_get(const struct credential *c)
{
	json_t		*o = json_loads(c->external, 0, NULL);
	const char	*v = json_string_value(json_object_get(o, INTENT_KEY));
	int		 to = -1;

	if (v != NULL)
		to = strcmp(v, "expired") == 0 ? CS_EXPIRED : CS_REVOKED;
	json_decref(o);
	return to;
}

/*
 * Commit the intent to end credential id before the instance is called,
 * with its audit event: from then on its sealed secret is gone (nothing
 * revealable can outlive the client) and a crash or a failed final
 * commit is finished later.  0, KW_ERR_CONFLICT when it is no longer
 * active, or a store error (then nothing was changed).
 */
static int
intent_commit(struct app *app, struct store *st, const struct actor *a,
    const char *id, enum cred_state to, const char *reason)
{
	struct credential	*c;
	int			 rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((rc = core_write_begin(app, &st)) != 0)
		goto done;
	if ((rc = store_credential_get(st, id, c)) != 0)
		goto out;
	if (c->state != CS_ACTIVE) {
		rc = KW_ERR_CONFLICT;
		goto out;
	}
	if (intent_get(c) == (int)to)
		goto out;	/* a retry: committed already, nothing new */
	if ((rc = intent_set(c, to)) != 0)
		goto out;
	kw_strlcpy(c->revoke_reason, reason, sizeof(c->revoke_reason));
	if (c->delivery == DS_PENDING) {
		kw_wipe(c->sealed, sizeof(c->sealed));
		c->sealed_len = 0;
		c->delivery = DS_EXPIRED;
	}
	if ((rc = store_credential_update(st, c)) != 0)
		goto out;
	rc = audit(st, a, "credential.revoke_begin", c->id,
	    json_pack("{s:s, s:s, s:s, s:s}", "reason", reason, "to",
	    to == CS_EXPIRED ? "expired" : "revoked", "fingerprint",
	    c->fingerprint, "instance", c->instance_name));
 out:
	rc = core_write_end(app, rc);
 done:
	kw_wipe(c, sizeof(*c));
	free(c);
	return rc;
}

/* Mark c revoked or expired (inside a transaction) with its audit event
 * and the channel's record; any intent is cleared. */
static int
mark_revoked(struct app *app, struct store *st, const struct actor *a,
    struct credential *c, enum cred_state to, const char *reason,
    const char *action)
{
	const char	*why;
	int		 rc;

	if ((rc = policy_credential_step(c, to == CS_EXPIRED ? CE_EXPIRE :
	    CE_REVOKE, &why)) != 0)
		return rc;
	if (intent_get(c) >= 0 && (rc = intent_set(c, -1)) != 0)
		return rc;
	kw_time_fmt(kw_now(), c->revoked_at, sizeof(c->revoked_at));
	kw_strlcpy(c->revoke_reason, reason, sizeof(c->revoke_reason));
	if (c->delivery == DS_PENDING) {
		kw_wipe(c->sealed, sizeof(c->sealed));
		c->sealed_len = 0;
		c->delivery = DS_EXPIRED;
	}
	/* a broker's client is gone: its secret is of no use any more */
	kw_wipe(c->broker_sealed, sizeof(c->broker_sealed));
	c->broker_sealed_len = 0;
	if (store_credential_update(st, c) != 0 ||
	    store_bound_revoke(st, c->id, NULL, c->revoked_at) != 0)
		return KW_ERR_UNAVAILABLE;
	if ((rc = audit(st, a, action, c->id, json_pack(
	    "{s:s, s:s, s:s, s:s}", "reason", reason, "fingerprint",
	    c->fingerprint, "owner", c->owner_email, "instance",
	    c->instance_name))) != 0)
		return rc;
	return notify_request(&app->notify, st, NE_CREDENTIAL_REVOKED, NULL, c);
}

int
issuance_revoke(struct app *app, struct store *st, const struct actor *a,
    const char *id, const char *reason, struct provider_error *perr)
{
	return issuance_end(app, st, a, id, CS_REVOKED, reason, perr);
}

int
issuance_end(struct app *app, struct store *st, const struct actor *a,
    const char *id, enum cred_state to, const char *reason,
    struct provider_error *perr)
{
	struct credential	*c;
	struct instance		*in;
	struct issuance_conn	*cn;
	char			 client_id[PROVIDER_ID_MAX];
	char			 token_id[PROVIDER_ID_MAX];
	int			 rc, deleted = 0;

	memset(perr, 0, sizeof(*perr));
	c = malloc(sizeof(*c));
	in = malloc(sizeof(*in));
	cn = malloc(sizeof(*cn));
	if (c == NULL || in == NULL || cn == NULL) {
		rc = KW_ERR_NOMEM;
		goto out;
	}
	memset(cn, 0, sizeof(*cn));
	if ((rc = store_credential_get(st, id, c)) != 0 ||
	    (rc = store_instance_get(st, c->instance_id, in)) != 0)
		goto out;
	/* legacy tokens live and die on the SaaS; keywarden only tracks them */
	if (c->state != CS_ACTIVE || c->kind == KIND_LEGACY) {
		rc = KW_ERR_CONFLICT;
		goto out;
	}
	external_ids(c, client_id, token_id);
	/* on the instance first: a credential keywarden calls revoked must
	 * be dead there.  The intent is committed before the call, so that
	 * what the instance did is never lost with the final commit. */
	if (client_id[0] != '\0' && issuance_automatic(in)) {
		if ((rc = intent_commit(app, st, a, id, to, reason)) != 0)
			goto out;
		if ((rc = issuance_conn_open(app, in, cn)) != 0) {
			*perr = cn->perr;
			goto out;
		}
		if ((rc = cn->ops->revoke(&cn->t, client_id, token_id,
		    perr)) != 0)
			goto out;
		deleted = 1;
		kw_fault("after_revoke_call");
	}
	if ((rc = core_write_begin(app, &st)) != 0)
		goto unrecorded;
	if ((rc = store_credential_get(st, id, c)) == 0) {
		if (c->state != CS_ACTIVE)
			rc = KW_ERR_CONFLICT;
		else
			rc = mark_revoked(app, st, a, c, to, reason,
			    to == CS_EXPIRED ? "credential.expire" :
			    "credential.revoke");
	}
	rc = core_write_end(app, rc);
	if (rc == KW_ERR_CONFLICT && deleted &&
	    (c->state == CS_REVOKED || c->state == CS_EXPIRED))
		rc = 0;		/* finished meanwhile (reconciliation) */
 unrecorded:
	if (rc != 0 && rc != KW_ERR_CONFLICT && deleted) {
		/* the instance changed: say so, and leave the intent for
		 * reconciliation (or a retry) to record */
		log_msg("error", "credential %s: deleted on the instance, but "
		    "the store could not record it (%s); reconciliation will "
		    "complete the record", id, kw_strerror(rc));
		rc = KW_ERR_UNRECORDED;
	}
 out:
	/* a credential that is not live (or not there) was no attempt */
	if (rc != KW_ERR_CONFLICT && rc != KW_ERR_NOT_FOUND)
		metrics_count(rc == 0 ? MC_REVOCATION_OK : rc == KW_ERR_UPSTREAM ?
		    MC_REVOCATION_UPSTREAM : MC_REVOCATION_ERROR);
	if (cn != NULL)
		issuance_conn_close(cn);
	free(cn);
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return rc;
}

/* ---- reconciliation ---- */

#define SEEN_MAX	4096	/* clients examined per instance and pass */

struct seen {
	size_t	n;
	struct provider_client c[SEEN_MAX];
};

static int
see_client(const struct provider_client *pc, void *arg)
{
	struct seen *s = arg;

	if (strncmp(pc->identifier, IDENT_PREFIX, strlen(IDENT_PREFIX)) != 0)
		return 0;			/* not ours: never touched */
	if (s->n < SEEN_MAX)
		s->c[s->n++] = *pc;
	return 0;
}

static const struct provider_client *
seen_find(const struct seen *s, const char *cred_id)
{
	size_t	n = strlen(IDENT_PREFIX), i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->c[i].identifier + n, cred_id) == 0)
			return &s->c[i];
	return NULL;
}

struct idl {
	size_t	n;
	char	ids[SEEN_MAX][KW_ID_MAX + 1];
};

static int
collect_live(const struct credential *c, void *arg)
{
	struct idl *l = arg;

	if ((c->state == CS_PENDING || c->state == CS_ACTIVE) &&
	    l->n < SEEN_MAX)
		kw_strlcpy(l->ids[l->n++], c->id, sizeof(l->ids[0]));
	return 0;
}

static void
reconcile_audit(struct app *app, const char *action, const char *subject,
    json_t *details)
{
	struct store	*w;
	struct actor	 k;

	if (core_write_begin(app, &w) != 0) {
		json_decref(details);
		return;
	}
	keywarden(&k);
	core_write_end(app, audit(w, &k, action, subject, details));
}

/* Record credential id ended as `to`, in its own transaction, if it is
 * still active.  0, KW_ERR_CONFLICT, or a store error. */
static int
record_end(struct app *app, struct credential *c, const char *id,
    enum cred_state to, const char *reason, const char *action)
{
	struct store	*w;
	struct actor	 k;
	char		 why[KW_COMMENT_MAX + 1];
	int		 rc;

	keywarden(&k);
	kw_strlcpy(why, reason, sizeof(why));	/* may alias c's */
	if ((rc = core_write_begin(app, &w)) != 0)
		return rc;
	if ((rc = store_credential_get(w, id, c)) == 0)
		rc = c->state != CS_ACTIVE ? KW_ERR_CONFLICT :
		    mark_revoked(app, w, &k, c, to, why, action);
	return core_write_end(app, rc);
}

/* An active credential whose end was committed but not recorded (the
 * final commit failed, or keywarden died after the call): delete it on
 * the instance (already gone counts) and record it. */
static void
reconcile_intent(struct app *app, struct store *st, struct issuance_conn *cn,
    struct credential *c, struct reconcile_report *rep)
{
	struct provider_error	 e;
	char			 cid[PROVIDER_ID_MAX], tid[PROVIDER_ID_MAX];
	char			 id[KW_ID_MAX + 1];
	int			 to = intent_get(c);

	if (!inflight_claim(st, c->id))
		return;
	kw_strlcpy(id, c->id, sizeof(id));
	external_ids(c, cid, tid);
	if (cn->ops->revoke(&cn->t, cid, tid, &e) != 0) {
		log_msg("warn", "reconcile: credential %s: the instance did "
		    "not delete it: %s; will retry", id, e.message);
		rep->errors++;
	} else if (record_end(app, c, id, to, c->revoke_reason[0] ?
	    c->revoke_reason : "revoked", to == CS_EXPIRED ?
	    "credential.expire" : "credential.revoke") == 0) {
		rep->leftovers_deleted++;
		log_msg("info", "reconcile: credential %s: its revocation is "
		    "now recorded", id);
	}
	inflight_release(st, id);
}

#define STRAYS_MAX	1024	/* unrecorded tokens deleted per instance
				   and pass */

/*
 * The one token keywarden made for each active token-mode credential
 * whose client this pass listed (sorted by client id), and the tokens
 * found on those clients that keywarden has no record of.
 */
struct held {
	size_t	n;
	struct held_token {
		char	client_id[PROVIDER_ID_MAX];
		char	token_id[PROVIDER_ID_MAX];
		char	cred_id[KW_ID_MAX + 1];
	} h[SEEN_MAX];
	size_t	nstrays;
	struct stray {
		char	token_id[PROVIDER_ID_MAX];
		size_t	held;		/* index into h */
	} strays[STRAYS_MAX];
};

static int
held_cmp(const void *a, const void *b)
{
	return strcmp(((const struct held_token *)a)->client_id,
	    ((const struct held_token *)b)->client_id);
}

/* Remember c's recorded token when c is an active api_token credential
 * (token mode: keywarden made its token with POST /api/v2/oauth/tokens)
 * whose client pc was listed.  Integrations' clients are left out: the
 * tokens there are the integration's own. */
static void
held_add(struct held *h, const struct credential *c,
    const struct provider_client *pc)
{
	struct held_token	*t;
	char			 cid[PROVIDER_ID_MAX], tid[PROVIDER_ID_MAX];

	external_ids(c, cid, tid);
	if (c->kind != KIND_API_TOKEN || tid[0] == '\0' ||
	    strcmp(cid, pc->id) != 0 || intent_get(c) >= 0 || h->n >= SEEN_MAX)
		return;
	t = &h->h[h->n++];
	kw_strlcpy(t->client_id, cid, sizeof(t->client_id));
	kw_strlcpy(t->token_id, tid, sizeof(t->token_id));
	kw_strlcpy(t->cred_id, c->id, sizeof(t->cred_id));
}

static int
see_token(const struct provider_token *pt, void *arg)
{
	struct held		*h = arg;
	struct held_token	 key, *k;

	kw_strlcpy(key.client_id, pt->client_id, sizeof(key.client_id));
	if ((k = bsearch(&key, h->h, h->n, sizeof(h->h[0]), held_cmp)) ==
	    NULL || strcmp(k->token_id, pt->id) == 0 ||
	    h->nstrays >= STRAYS_MAX)
		return 0;
	kw_strlcpy(h->strays[h->nstrays].token_id, pt->id,
	    sizeof(h->strays[0].token_id));
	h->strays[h->nstrays++].held = (size_t)(k - h->h);
	return 0;
}

/*
 * keywarden made exactly one token on the client of a token-mode
 * credential (its recorded token_id); any other token there, such as one
 * whose creation reached the instance after a crash, has no record: it
 * is deleted and reported.  One listing of the account's tokens serves
 * every client of the pass (not one call per credential: the instance's
 * rate limit is shared with everything else that calls it).
 */
static void
reconcile_tokens(struct app *app, struct issuance_conn *cn,
    const struct instance *in, struct held *h, struct reconcile_report *rep)
{
	struct provider_error	 e;
	const struct held_token	*k;
	size_t			 i;

	if (h->n == 0)
		return;
	qsort(h->h, h->n, sizeof(h->h[0]), held_cmp);
	if (cn->ops->list_tokens(&cn->t, see_token, h, &e) != 0) {
		log_msg("warn", "reconcile: instance %s: tokens: %s", in->name,
		    e.message);
		rep->errors++;
		return;
	}
	for (i = 0; i < h->nstrays; i++) {
		k = &h->h[h->strays[i].held];
		if (cn->ops->revoke(&cn->t, NULL, h->strays[i].token_id,
		    &e) != 0) {
			log_msg("warn", "reconcile: instance %s: token %s: %s",
			    in->name, h->strays[i].token_id, e.message);
			rep->errors++;
			continue;
		}
		rep->orphans_deleted++;
		log_msg("warn", "reconcile: instance %s: deleted token %s of "
		    "client %s (credential %s), which keywarden has no record "
		    "of", in->name, h->strays[i].token_id, k->client_id,
		    k->cred_id);
		reconcile_audit(app, "reconcile.orphan_token_deleted",
		    k->cred_id, json_pack("{s:s, s:s, s:s}", "client_id",
		    k->client_id, "token_id", h->strays[i].token_id,
		    "instance", in->name));
	}
}

/* A pending credential: finish it (adopting its client if there is one)
 * unless it is being minted right now. */
static void
reconcile_pending(struct app *app, struct store *st, const struct credential *c,
    const struct provider_client *pc, struct reconcile_report *rep)
{
	struct issuance_outcome	 o;
	struct request		*r;
	struct actor		 k;

	if ((r = malloc(sizeof(*r))) == NULL)
		return;
	keywarden(&k);
	if (store_request_get(st, c->request_id, r) == 0 &&
	    r->state == RS_ISSUING && issuance_run(app, st, &k,
	    r->id, pc ? pc->id : NULL, &o) == 0) {
		if (o.issued)
			rep->adopted++;
		else
			rep->failed++;
		log_msg(o.issued ? "info" : "warn", "reconcile: request %s %s",
		    r->id, o.issued ? "finished: credential issued" :
		    "could not be finished: marked failed");
	}
	free(r);
}

/*
 * A static bot token: ask the instance when it expires (once per token
 * and process, at the first reconciliation pass that sees it) and keep
 * that on the instance (bot.expires_at), with an audit event when it
 * changes, so an admin sees it coming (a client_credentials bot renews
 * itself).
 */
/* Instances (id and updated_at) whose bot token this process asked
 * about already: once per bot token and process is enough. */
static pthread_mutex_t	asked_lock = PTHREAD_MUTEX_INITIALIZER;
static char		asked[BOT_CACHE_SLOTS][KW_ID_MAX + KW_TIME_LEN + 2];

/* 1 the first time for in as it is now (and remember it). */
static int
bot_expiry_first(const struct instance *in)
{
	char	key[sizeof(asked[0])];
	int	i, free_slot = 0, first = 1;

	snprintf(key, sizeof(key), "%s/%s", in->id, in->updated_at);
	pthread_mutex_lock(&asked_lock);
	for (i = 0; i < BOT_CACHE_SLOTS && first; i++) {
		if (strcmp(asked[i], key) == 0)
			first = 0;
		else if (strncmp(asked[i], in->id, strlen(in->id)) == 0 ||
		    asked[i][0] == '\0')
			free_slot = i;
	}
	if (first)
		kw_strlcpy(asked[free_slot], key, sizeof(asked[0]));
	pthread_mutex_unlock(&asked_lock);
	return first;
}

static void
bot_expiry_check(struct app *app, struct instance *in,
    struct issuance_conn *cn)
{
	struct provider_error	 e;
	struct instance		*now;
	struct store		*w;
	struct actor		 k;
	char			 at[KW_TIME_LEN + 1];
	int			 rc;

	keywarden(&k);
	if (in->bot_client_id[0] != '\0' || cn->ops->bot_expiry == NULL ||
	    !bot_expiry_first(in) ||
	    cn->ops->bot_expiry(&cn->t, at, sizeof(at), &e) != 0 ||
	    strcmp(at, in->bot_expires_at) == 0)
		return;
	if (at[0] != '\0')
		log_msg("warn", "instance %s: keywarden's bot token expires at "
		    "%s; give the instance a confidential client (bot."
		    "client_id, bot.client_secret) or a new token before then",
		    in->name, at);
	if ((now = malloc(sizeof(*now))) == NULL)
		return;
	if (core_write_begin(app, &w) == 0) {
		rc = store_instance_get(w, in->id, now);
		/* only the bot token that was asked about */
		if (rc == 0 && (strcmp(now->updated_at, in->updated_at) != 0 ||
		    now->bot_client_id[0] != '\0'))
			rc = KW_ERR_CONFLICT;
		if (rc == 0) {
			kw_strlcpy(now->bot_expires_at, at,
			    sizeof(now->bot_expires_at));
			if ((rc = store_instance_update(w, now)) == 0)
				rc = audit(w, &k,
				    "instance.bot_expiry", in->name, json_pack(
				    "{s:s?}", "expires_at", at[0] ? at : NULL));
		}
		core_write_end(app, rc);
	}
	kw_wipe(now, sizeof(*now));
	free(now);
}

static void
reconcile_instance(struct app *app, struct store *st, struct instance *in,
    struct reconcile_report *rep)
{
	struct credential_filter f;
	struct provider_error	 e;
	struct credential	*c = NULL;
	struct seen		*s = NULL;
	struct idl		*l = NULL;
	struct held		*h = NULL;
	struct issuance_conn	*cn = NULL;
	char			 cid[PROVIDER_ID_MAX], tid[PROVIDER_ID_MAX];
	char			 listed_at[KW_TIME_LEN + 1];
	char			 cred_id[KW_ID_MAX + 1];
	struct provider_client	 pc;
	size_t			 i, n = strlen(IDENT_PREFIX);
	int			 rc;

	s = calloc(1, sizeof(*s));
	l = calloc(1, sizeof(*l));
	h = calloc(1, sizeof(*h));
	c = malloc(sizeof(*c));
	cn = malloc(sizeof(*cn));
	if (s == NULL || l == NULL || h == NULL || c == NULL || cn == NULL ||
	    issuance_conn_open(app, in, cn) != 0) {
		rep->errors++;
		goto out;
	}
	bot_expiry_check(app, in, cn);
	kw_time_fmt(kw_now() - 1, listed_at, sizeof(listed_at));
	if (cn->ops->list_clients(&cn->t, see_client, s, &e) != 0) {
		log_msg("warn", "reconcile: instance %s: %s", in->name,
		    e.message);
		rep->errors++;
		goto out;
	}
	/* clients the instance has that keywarden did not finish */
	for (i = 0; i < s->n; i++) {
		rc = store_credential_get(st, s->c[i].identifier + n, c);
		if (rc != 0 && rc != KW_ERR_NOT_FOUND) {
			rep->errors++;
			goto out;
		}
		if (rc == KW_ERR_NOT_FOUND ||
		    strcmp(c->instance_id, in->id) != 0) {
			/* no record at all: an orphan */
			if (cn->ops->revoke(&cn->t, s->c[i].id, NULL, &e) == 0) {
				rep->orphans_deleted++;
				log_msg("warn", "reconcile: instance %s: deleted "
				    "client %s (%s), which keywarden has no "
				    "record of", in->name, s->c[i].id,
				    s->c[i].identifier);
				reconcile_audit(app, "reconcile.orphan_deleted",
				    in->name, json_pack("{s:s, s:s}",
				    "client_id", s->c[i].id, "identifier",
				    s->c[i].identifier));
			}
		} else if (c->state == CS_REVOKED || c->state == CS_EXPIRED) {
			if (!inflight_claim(st, c->id))
				continue;
			if (cn->ops->revoke(&cn->t, s->c[i].id, NULL, &e) == 0) {
				rep->leftovers_deleted++;
				reconcile_audit(app, "reconcile.leftover_deleted",
				    c->id, json_pack("{s:s, s:s}", "client_id",
				    s->c[i].id, "instance", in->name));
			}
			inflight_release(st, c->id);
		} else if (c->state == CS_PENDING)
			reconcile_pending(app, st, c, &s->c[i], rep);
		else if (c->state == CS_ACTIVE)
			held_add(h, c, &s->c[i]);
	}
	reconcile_tokens(app, cn, in, h, rep);
	/* what keywarden recorded that the instance lacks (only when the
	 * listing was complete) */
	if (s->n >= SEEN_MAX)
		goto out;
	memset(&f, 0, sizeof(f));
	f.viewer.all = 1;
	f.instance_id = in->id;
	f.state = -1;
	f.kind = -1;
	if (store_credential_each(st, &f, 0, SEEN_MAX, collect_live, l) < 0) {
		rep->errors++;
		goto out;
	}
	for (i = 0; i < l->n; i++) {
		if (store_credential_get(st, l->ids[i], c) != 0)
			continue;
		if (c->state == CS_ACTIVE && intent_get(c) >= 0) {
			reconcile_intent(app, st, cn, c, rep);
			continue;
		}
		if (seen_find(s, c->id) != NULL)
			continue;
		if (c->state == CS_PENDING) {
			/* the instance was never reached: mint it now */
			reconcile_pending(app, st, c, NULL, rep);
			continue;
		}
		external_ids(c, cid, tid);
		/* manual, issued after the listing began, or busy */
		if (cid[0] == '\0' || strcmp(c->created_at, listed_at) >= 0 ||
		    !inflight_claim(st, c->id))
			continue;
		/* a listing is only a hint: the instance itself must say
		 * that this client is gone (404) before keywarden believes
		 * it; an answer from anywhere else leaves it active */
		kw_strlcpy(cred_id, c->id, sizeof(cred_id));
		rc = cn->ops->get_client(&cn->t, cid, &pc, &e);
		if (rc == 0)
			log_msg("warn", "reconcile: instance %s: its listing "
			    "omits client %s (credential %s), but the instance "
			    "still has it: left active", in->name, cid,
			    cred_id);
		else if (rc != KW_ERR_NOT_FOUND) {
			log_msg("warn", "reconcile: instance %s: client %s "
			    "(credential %s) could not be checked: %s", in->name,
			    cid, cred_id, e.message);
			rep->errors++;
		} else if (record_end(app, c, cred_id, CS_REVOKED, "missing "
		    "on the instance (deleted outside keywarden)",
		    "reconcile.missing") == 0) {
			rep->missing++;
			log_msg("warn", "reconcile: credential %s is not on "
			    "instance %s any more: marked revoked", cred_id,
			    in->name);
		}
		inflight_release(st, cred_id);
	}
 out:
	if (cn != NULL)
		issuance_conn_close(cn);
	free(cn);
	free(s);
	free(l);
	free(h);
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
}

struct inst_list {
	size_t	n;
	char	names[KW_LIST_LIMIT_MAX][KW_INSTANCE_NAME_MAX + 1];
	int64_t	last;
};

static int
collect_instance(const struct instance *in, void *arg)
{
	struct inst_list *l = arg;

	if (issuance_automatic(in))
		kw_strlcpy(l->names[l->n++], in->name, sizeof(l->names[0]));
	l->last = in->seq;
	return 0;
}

int
issuance_reconcile(struct app *app, struct store *st,
    struct reconcile_report *rep)
{
	struct inst_list	*l;
	struct instance		*in;
	int64_t			 after = 0;
	size_t			 i;
	int			 rc = 0;

	memset(rep, 0, sizeof(*rep));
	l = malloc(sizeof(*l));
	in = malloc(sizeof(*in));
	if (l == NULL || in == NULL) {
		rc = KW_ERR_NOMEM;
		goto out;
	}
	do {
		l->n = 0;
		l->last = after;
		if ((rc = store_instance_each(st, after, KW_LIST_LIMIT_MAX,
		    collect_instance, l)) != 0)
			goto out;
		for (i = 0; i < l->n; i++) {
			if (store_instance_get(st, l->names[i], in) != 0)
				continue;
			rep->instances++;
			reconcile_instance(app, st, in, rep);
		}
		if (l->last == after)
			break;
		after = l->last;
	} while (1);
 out:
	free(l);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return rc;
}

/* ---- the broker ---- */

/* The call parameters of in for a grant: no bot credential at all. */
static int
grant_target(struct app *app, const struct instance *in,
    struct provider_target *t, char *url, size_t urlsz,
    const struct provider_ops **ops)
{
	size_t n;

	if ((*ops = provider_find(in->provider)) == NULL ||
	    (*ops)->grant == NULL)
		return KW_ERR_INTERNAL;
	kw_strlcpy(url, in->url, urlsz);
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
	memset(t, 0, sizeof(*t));
	t->base_url = url;
	t->name = in->name;
	t->timeout_ms = (long)app->cfg.upstream_timeout * 1000;
	t->attempts = app->cfg.upstream_attempts;
	t->retry_wait_max_s = 0;
	return 0;
}

int
issuance_access_token(struct app *app, const struct credential *c,
    const struct instance *in, long ttl_s, struct grant_result *res,
    struct provider_error *perr)
{
	const struct provider_ops	*ops;
	struct provider_target		 t;
	struct grant_spec		 g;
	char				 url[KW_URL_MAX + 1], ad[128];
	char				 ident[PROVIDER_IDENT_MAX];
	char				 secret[KW_BOT_TOKEN_MAX + 1];
	size_t				 n = 0;
	int				 rc;

	memset(perr, 0, sizeof(*perr));
	perr->retry_after = -1;
	if (c->broker_sealed_len == 0)
		return KW_ERR_CONFLICT;
	if (!url_tag_matches(c, in))
		return KW_ERR_CONFIG;		/* the instance moved */
	if ((rc = grant_target(app, in, &t, url, sizeof(url), &ops)) != 0)
		return rc;
	credential_broker_ad(c, ad, sizeof(ad));
	if ((rc = crypto_open(app->keys, ad, c->broker_sealed,
	    c->broker_sealed_len, (unsigned char *)secret, sizeof(secret) - 1,
	    &n)) != 0)
		return rc;
	secret[n] = '\0';
	snprintf(ident, sizeof(ident), IDENT_PREFIX "%s", c->id);
	memset(&g, 0, sizeof(g));
	g.identifier = ident;
	g.secret = secret;
	g.nscopes = c->nscopes;
	g.scopes = c->scopes;
	g.expires_in = ttl_s;
	rc = ops->grant(&t, &g, res, perr);
	kw_wipe(secret, sizeof(secret));
	return rc;
}

/* The new secret was made at in's current URL: say so in c's external. */
static int
retag(struct credential *c, const struct instance *in)
{
	json_t	*o = json_loads(c->external, 0, NULL);
	char	 tag[URL_TAG_LEN + 1];

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	url_tag(in->url, tag);
	json_object_set_new(o, "instance_url_tag", json_string(tag));
	external_set(c, o);
	json_decref(o);
	return 0;
}

int
issuance_rotate_broker(struct app *app, struct store *st,
    const struct actor *a, const char *id, struct provider_error *perr)
{
	struct credential	*c;
	struct instance		*in;
	struct issuance_conn	*cn;
	char			 client_id[PROVIDER_ID_MAX];
	char			 token_id[PROVIDER_ID_MAX];
	char			 old_fp[sizeof(c->fingerprint)];
	char			 secret[KW_BOT_TOKEN_MAX + 1] = "";
	struct store		*claim_st = st;	/* st becomes the writer */
	int			 rc, claimed = 0;

	memset(perr, 0, sizeof(*perr));
	perr->retry_after = -1;
	c = malloc(sizeof(*c));
	in = malloc(sizeof(*in));
	cn = calloc(1, sizeof(*cn));
	if (c == NULL || in == NULL || cn == NULL) {
		rc = KW_ERR_NOMEM;
		goto out;
	}
	if ((rc = store_credential_get(st, id, c)) != 0 ||
	    (rc = store_instance_get(st, c->instance_id, in)) != 0)
		goto out;
	external_ids(c, client_id, token_id);
	if (c->state != CS_ACTIVE || c->kind != KIND_API_TOKEN ||
	    c->delivery_mode != DM_BROKER || client_id[0] == '\0' ||
	    !issuance_automatic(in)) {
		rc = KW_ERR_CONFLICT;
		goto out;
	}
	if (!(claimed = inflight_claim(claim_st, c->id))) {
		rc = KW_ERR_CONFLICT;		/* being rotated already */
		goto out;
	}
	if ((rc = issuance_conn_open(app, in, cn)) != 0) {
		*perr = cn->perr;
		goto out;
	}
	if ((rc = cn->ops->new_secret(&cn->t, client_id, secret,
	    sizeof(secret), perr)) != 0)
		goto out;
	if ((rc = core_write_begin(app, &st)) != 0)
		goto lost;
	if ((rc = store_credential_get(st, id, c)) == 0) {
		kw_strlcpy(old_fp, c->fingerprint, sizeof(old_fp));
		if (c->state != CS_ACTIVE)
			rc = KW_ERR_CONFLICT;
		else if ((rc = credential_broker_seal(app, c,
		    secret)) == 0 && (rc = retag(c, in)) == 0 &&
		    (rc = store_credential_update(st, c)) == 0)
			rc = audit(st, a, "credential.rotate",
			    c->id, json_pack("{s:b, s:s, s:s}", "in_place", 1,
			    "previous_fingerprint", old_fp, "fingerprint",
			    c->fingerprint));
	}
	if ((rc = core_write_end(app, rc)) == 0)
		goto out;
 lost:
	/* the old secret is dead on the instance and the new one could not
	 * be kept: the next rotation mends it */
	log_msg("error", "credential %s: its new client secret could not be "
	    "recorded (%s); rotate it again", id, kw_strerror(rc));
 out:
	kw_wipe(secret, sizeof(secret));
	if (claimed)
		inflight_release(claim_st, id);
	if (cn != NULL)
		issuance_conn_close(cn);
	free(cn);
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return rc;
}
