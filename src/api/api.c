/*
 * api.c — the route table, authentication and authorisation of each
 * request, per-thread store connections, and the JSON shapes shared by
 * the resource handlers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "api/authcache.h"
#include "api/sessions.h"
#include "core/startup.h"
#include "api/throttle.h"
#include "api/web.h"
#include "core/app.h"
#include "core/credentials.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "metrics/metrics.h"
#include "oidc/oidc.h"
#include "util/util.h"

static const struct http_route routes[] = {
	{ "GET",   "/healthz",			api_healthz,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/metrics",			api_metrics,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/v1/me",			api_me_get,	ACCESS_PERSON, BODY_NONE, INLINE },
	{ "GET",   "/requests/{}",		web_landing,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/credentials/{}",		web_landing,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	/* the web UI (api/web.c): its files and the pages it draws */
	{ "GET",   "/static/{}/{}",		web_static,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/ui/config",		web_config,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/",				web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/signin",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/waiting",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/requests",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/credentials",		web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/new",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/instances",		web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/instances/{}",		web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/audit",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/people",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "GET",   "/settings",			web_page,	ACCESS_PUBLIC, BODY_NONE, INLINE },
	{ "POST",  "/v1/people",		api_people_create, ACCESS_ADMIN, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/people",		api_people_list, ACCESS_READER, BODY_NONE, INLINE },
	{ "GET",   "/v1/people/{}",		api_people_get,	ACCESS_PERSON, BODY_NONE, INLINE },
	{ "PATCH", "/v1/people/{}",		api_people_patch, ACCESS_ADMIN, BODY_REQUIRED, WAITS },
	{ "POST",  "/v1/people/{}/tokens",	api_people_token, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "GET",   "/v1/people/{}/tokens",	api_people_tokens, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "DELETE", "/v1/people/{}/tokens/{}",	api_people_token_revoke, ACCESS_PERSON, BODY_NONE, WAITS },
	{ "POST",  "/v1/people/{}/offboard",	api_people_offboard, ACCESS_ADMIN, BODY_OPTIONAL, WAITS },
	{ "POST",  "/v1/instances",		api_instances_create, ACCESS_ADMIN, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/instances",		api_instances_list, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "GET",   "/v1/instances/{}",		api_instances_get, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "PATCH", "/v1/instances/{}",		api_instances_patch, ACCESS_ADMIN, BODY_REQUIRED, WAITS },
	{ "POST",  "/v1/requests",		api_requests_create, ACCESS_PERSON, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/requests",		api_requests_list, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "GET",   "/v1/requests/{}",		api_requests_get, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "POST",  "/v1/requests/{}/approve",	api_requests_approve, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "POST",  "/v1/requests/{}/deny",	api_requests_deny, ACCESS_PERSON, BODY_REQUIRED, WAITS },
	{ "POST",  "/v1/requests/{}/withdraw",	api_requests_withdraw, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "POST",  "/v1/requests/{}/fulfil",	api_requests_fulfil, ACCESS_PERSON, BODY_REQUIRED, WAITS },
	{ "POST",  "/v1/credentials",		api_credentials_create, ACCESS_PERSON, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/credentials",		api_credentials_list, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "GET",   "/v1/credentials/{}",	api_credentials_get, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "POST",  "/v1/credentials/{}/reveal",	api_credentials_reveal, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "POST",  "/v1/credentials/{}/revoke",	api_credentials_revoke, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "GET",   "/v1/audit",			api_audit_list, ACCESS_READER, BODY_NONE, INLINE },
	{ "GET",   "/v1/audit/verify",		api_audit_verify, ACCESS_READER, BODY_NONE, INLINE },
	{ "POST",  "/v1/credentials/{}/rotate",	api_credentials_rotate, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "POST",  "/v1/credentials/{}/link-replacement", api_credentials_link, ACCESS_PERSON, BODY_REQUIRED, WAITS },
	{ "POST",  "/v1/credentials/{}/access-token", api_credentials_access_token, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "POST",  "/v1/credentials/{}/bound-tokens", api_bound_tokens_create, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "GET",   "/v1/credentials/{}/bound-tokens", api_bound_tokens_list, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "DELETE", "/v1/credentials/{}/bound-tokens/{}", api_bound_tokens_delete, ACCESS_PERSON, BODY_NONE, WAITS },
	{ "POST",  "/v1/instances/{}/sync",	api_instances_sync, ACCESS_PERSON, BODY_OPTIONAL, WAITS },
	{ "GET",   "/v1/reports/migration",	api_reports_migration, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "PUT",   "/v1/settings/slack",	api_settings_slack_put, ACCESS_ADMIN, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/settings/slack",	api_settings_slack_get, ACCESS_ADMIN, BODY_NONE, INLINE },
	{ "PUT",   "/v1/settings/email",	api_settings_email_put, ACCESS_ADMIN, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/settings/email",	api_settings_email_get, ACCESS_ADMIN, BODY_NONE, INLINE },
	{ "POST",  "/v1/slack/interactions",	api_slack_interactions, ACCESS_PUBLIC, BODY_FORM, WAITS },
	{ "POST",  "/v1/scim-tokens",		api_scim_tokens_create, ACCESS_ADMIN, BODY_OPTIONAL, WAITS },
	{ "GET",   "/v1/scim-tokens",		api_scim_tokens_list, ACCESS_ADMIN, BODY_NONE, INLINE },
	{ "DELETE", "/v1/scim-tokens/{}",	api_scim_tokens_delete, ACCESS_ADMIN, BODY_OPTIONAL, WAITS },
	{ "POST",  "/scim/v2/Users",		api_scim_users_create, ACCESS_SCIM, BODY_REQUIRED, WAITS },
	{ "GET",   "/scim/v2/Users",		api_scim_users_list, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "GET",   "/scim/v2/Users/{}",		api_scim_users_get, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "PUT",   "/scim/v2/Users/{}",		api_scim_users_put, ACCESS_SCIM, BODY_REQUIRED, WAITS },
	{ "PATCH", "/scim/v2/Users/{}",		api_scim_users_patch, ACCESS_SCIM, BODY_REQUIRED, WAITS },
	{ "DELETE", "/scim/v2/Users/{}",	api_scim_users_delete, ACCESS_SCIM, BODY_NONE, WAITS },
	{ "GET",   "/scim/v2/ServiceProviderConfig", api_scim_spc, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "GET",   "/scim/v2/ResourceTypes",	api_scim_resource_types, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "GET",   "/scim/v2/ResourceTypes/{}",	api_scim_resource_type, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "GET",   "/scim/v2/Schemas",		api_scim_schemas, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "GET",   "/scim/v2/Schemas/{}",	api_scim_schema, ACCESS_SCIM, BODY_NONE, INLINE },
	{ "POST",  "/v1/sessions",		api_sessions_create, ACCESS_PUBLIC, BODY_REQUIRED, WAITS },
	{ "GET",   "/v1/sessions/current",	api_sessions_current, ACCESS_PERSON, BODY_NONE, INLINE },
	{ "DELETE", "/v1/sessions/current",	api_sessions_end, ACCESS_PERSON, BODY_NONE, WAITS },
	{ "GET",   "/auth/login",		api_auth_login,	ACCESS_PUBLIC, BODY_NONE, WAITS },
	{ "GET",   "/auth/callback",		api_auth_callback, ACCESS_PUBLIC, BODY_NONE, WAITS },
};

const struct http_route *
api_routes(size_t *n)
{
	*n = KW_NELEM(routes);
	return routes;
}

/* The metrics are labelled with the route table's patterns. */
static void
name_routes(void)
{
	static const char	*methods[KW_NELEM(routes)];
	static const char	*patterns[KW_NELEM(routes)];
	size_t			 i;

	for (i = 0; i < KW_NELEM(routes); i++) {
		methods[i] = routes[i].method;
		patterns[i] = routes[i].pattern;
	}
	metrics_routes(methods, patterns, KW_NELEM(routes));
}

/* The bearer token that opens /metrics to non-loopback clients: the
 * file's first line, surrounding white space dropped. */
static int
load_metrics_token(struct app *app, const struct config *cfg, char *err,
    size_t errsz)
{
	char	*text = NULL, *p, *e;
	int	 r;

	if (cfg->metrics_token_file[0] == '\0')
		return 0;
	if ((r = kw_read_file(cfg->metrics_token_file, KW_METRICS_TOKEN_MAX,
	    &text, NULL)) != 0) {
		snprintf(err, errsz, "metrics_token_file: cannot read %.300s (%s)",
		    cfg->metrics_token_file, kw_strerror(r));
		return KW_ERR_CONFIG;
	}
	p = text + strspn(text, " \t\r\n");
	e = p + strcspn(p, "\r\n");
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	r = 0;
	if (strlen(p) < 16 || !kw_valid_text(p, KW_METRICS_TOKEN_MAX)) {
		snprintf(err, errsz, "metrics_token_file: %.300s must hold a token "
		    "of at least 16 characters on its first line",
		    cfg->metrics_token_file);
		r = KW_ERR_CONFIG;
	} else
		kw_strlcpy(app->metrics_token, p, sizeof(app->metrics_token));
	kw_wipe(text, strlen(text));
	free(text);
	return r;
}

static void
authcache_flush(void *arg)
{
	authcache_invalidate(arg);
}

int
api_app_init(struct app *app, const struct config *cfg, char *err,
    size_t errsz)
{
	int r;

	memset(app, 0, sizeof(*app));
	name_routes();
	if ((app->authcache = authcache_new()) == NULL)
		return KW_ERR_NOMEM;
	/* a commit may change roles, activity or tokens */
	app->on_commit = authcache_flush;
	app->on_commit_arg = app->authcache;
	if ((r = core_app_init(app, cfg, err, errsz)) != 0)
		return r;
	/* several nodes: the cache is watched for their changes */
	if (app->shared_store && (r = authcache_watch(app->authcache,
	    cfg->store, cfg->data_dir)) != 0) {
		snprintf(err, errsz, "cannot start the authentication cache's "
		    "watcher (%s)", kw_strerror(r));
		return r;
	}
	if ((r = addr_list_parse(cfg->trusted_proxies, &app->proxies, err,
	    errsz)) != 0 || (r = load_metrics_token(app, cfg, err, errsz)) != 0)
		return r;
	if (cfg->oidc_issuer[0] != '\0' && (r = oidc_new(cfg, app->public_url,
	    &app->oidc, err, errsz)) != 0)
		return r;
	if ((app->throttle = throttle_new(cfg->auth_fail_limit,
	    cfg->auth_fail_window)) == NULL)
		return KW_ERR_NOMEM;
	return 0;
}

void
api_app_cleanup(struct app *app)
{
	core_app_cleanup(app);
	kw_wipe(app->metrics_token, sizeof(app->metrics_token));
	throttle_free(app->throttle);
	app->throttle = NULL;
	authcache_free(app->authcache);
	app->authcache = NULL;
	oidc_free(app->oidc);
	app->oidc = NULL;
}

struct store *
api_store(struct http_req *rq)
{
	return core_store(rq->app);
}

const char *
api_bound_credential(const struct http_req *rq)
{
	const struct caller *c = rq->caller;

	return c != NULL && c->bound_credential[0] != '\0' ?
	    c->bound_credential : NULL;
}

const struct person *
api_me(const struct http_req *rq)
{
	const struct caller *c = rq->caller;

	return c ? &c->person : NULL;
}

int
api_has_role(const struct http_req *rq, unsigned roles)
{
	const struct person *me = api_me(rq);

	return me != NULL && (me->roles & roles) != 0;
}

static void	audit_refusal(struct http_req *, const char *);

/* The actor's check inside the write transaction (core/app.h): the
 * caller re-read on the writer. */
static int
actor_current(struct actor *a, struct store *w, struct kw_fail *f)
{
	struct http_req	*rq = a->door_arg;
	int		 r;

	if ((r = api_caller_current(rq, w)) == 0) {
		if (rq->caller != NULL)
			a->person = ((struct caller *)rq->caller)->person;
		return 0;
	}
	if (f != &rq->fail)
		*f = rq->fail, rq->fail.details = NULL;
	return r;
}

/* After the transaction ended: a role lost meanwhile is a refusal. */
static void
actor_refused(struct actor *a, int err, const struct kw_fail *f)
{
	if (err == KW_ERR_FORBIDDEN)
		audit_refusal(a->door_arg, f->message);
}

void
api_actor(struct http_req *rq, struct actor *a)
{
	const struct caller *c = rq->caller;

	memset(a, 0, sizeof(*a));
	a->door = c == NULL ? DOOR_API : c->scim ? DOOR_SCIM :
	    c->has_session ? DOOR_WEB : c->has_token ? DOOR_API : DOOR_SLACK;
	if (c != NULL) {
		a->person = c->person;
		kw_strlcpy(a->name, c->person.email, sizeof(a->name));
	} else
		kw_strlcpy(a->name, "anonymous", sizeof(a->name));
	a->current = actor_current;
	a->refused = actor_refused;
	a->door_arg = rq;
}

int
api_tx_begin(struct http_req *rq, struct store **st)
{
	struct actor a;

	api_actor(rq, &a);
	return core_tx_begin(rq->app, &a, st, &rq->fail);
}

int
api_tx_end(struct http_req *rq, struct store **st, int r)
{
	r = core_tx_end(rq->app, r, &rq->fail);
	*st = api_store(rq);
	return r;
}

int
api_audit(struct http_req *rq, struct store *st, const char *action,
    const char *subject, json_t *details)
{
	struct actor a;

	api_actor(rq, &a);
	return core_audit(st, &a, action, subject, details, &rq->fail);
}

int
api_store_fail(struct http_req *rq, int r, const char *what, const char *key)
{
	return core_store_fail(r, what, key, &rq->fail);
}

/* Record a refused authorisation (an authenticated person, a route they
 * may not use).  Best effort: the refusal stands even if this fails. */
static void
audit_refusal(struct http_req *rq, const char *why)
{
	struct store	*st;
	json_t		*d;

	if (core_write_begin(rq->app, &st) != 0)
		return;
	d = json_pack("{s:s, s:s, s:s}", "method", rq->method, "path",
	    rq->path, "reason", why);
	core_write_end(rq->app, api_audit(rq, st, "authz.denied", rq->path, d));
}

/* The bearer token of the Authorization header, or NULL. */
static const char *
bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/*
 * A bound token may call access-token for its own credential, and
 * nothing else: whether rq (its route known) is that call.
 */
static int
bound_allowed(const struct http_req *rq, const struct http_route *route)
{
	const struct caller *c = rq->caller;

	return route->handler == api_credentials_access_token &&
	    rq->nparams == 1 && strcmp(rq->params[0],
	    c->bound_credential) == 0;
}

/*
 * A failed authentication (err, with its message) of the presented token
 * tok (NULL when none could be read): counted per client address and
 * per token prefix (a keyed hash of its first KW_AUTH_PREFIX_LEN bytes,
 * so the key says nothing of the token).  Beyond the limit of either,
 * the answer is 429 with Retry-After instead of err.  Only failures get
 * here: a valid token is never throttled, whoever fails around it.
 */
int
api_auth_failed(struct http_req *rq, const char *tok, int err)
{
	struct app	*app = rq->app;
	unsigned char	 h[KW_HASH_LEN];
	char		 pre[KW_AUTH_PREFIX_LEN + 1], key[48];
	int64_t		 now = (int64_t)(kw_mono_us() / 1000000u);
	int		 ra = 0, ra2 = 0, i, limited;

	metrics_count(MC_AUTH_FAILED);
	limited = throttle_fail(app->throttle, rq->remote, now, &ra) != 0;
	if (tok != NULL) {
		kw_strlcpy(pre, tok, sizeof(pre));
		if (crypto_token_hash(app->keys, pre, h) == 0) {
			key[0] = 't';
			key[1] = ':';
			for (i = 0; i < 16; i++)
				snprintf(key + 2 + 2 * i, 3, "%02x", h[i]);
			if (throttle_fail(app->throttle, key, now, &ra2) != 0)
				limited = 1;
		}
		kw_wipe(pre, sizeof(pre));
	}
	if (!limited)
		return err;
	metrics_count(MC_AUTH_THROTTLED);
	rq->fail.retry_after = ra > ra2 ? ra : ra2;
	return http_fail(rq, KW_ERR_RATE_LIMITED, NULL, "too many failed "
	    "authentications; retry after %d seconds", rq->fail.retry_after);
}

/*
 * Not a personal token: perhaps a token bound to one broker credential
 * (alive only while that credential is active), from st, else from the
 * writer w.  The caller is then the credential's owner, limited to that
 * credential's access tokens (access_check); an inactive owner is the
 * handler's 409, not an authentication failure.
 */
static int
bound_lookup(struct http_req *rq, struct store *st, struct store *w,
    struct caller *c, uint64_t gen)
{
	struct app		*app = rq->app;
	struct bound_token	 b;
	int			 r;

	r = store_bound_find(st != NULL ? st : w, c->token_hash, &b,
	    &c->person);
	if (r == KW_ERR_NOT_FOUND || (r == 0 && !crypto_eq(c->token_hash,
	    b.hash, sizeof(b.hash))))
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "unknown or revoked token");
	if (r != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	kw_strlcpy(c->token_id, b.id, sizeof(c->token_id));
	kw_strlcpy(c->bound_credential, b.credential_id,
	    sizeof(c->bound_credential));
	if (st != NULL)
		authcache_put(app->authcache, c->token_hash,
		    kw_mono_us() / 1000, c, gen);
	return 0;
}

/*
 * The person and token behind the keyed hash c->token_hash, through the
 * authentication cache (st is this thread's connection, NULL when the
 * cache must not be used: c is then read from the writer w inside its
 * transaction).  0 with c->person and c->token_id filled, or a KW_ERR_*
 * with the message set (401: unknown, revoked or inactive).
 */
static int
token_lookup(struct http_req *rq, struct store *st, struct store *w,
    struct caller *c)
{
	struct app		*app = rq->app;
	struct token_rec	 t;
	uint64_t		 gen = 0;
	int			 r;

	/* on a shared store, only while it is watched (authcache.h) */
	if (st != NULL && authcache_get(app->authcache, c->token_hash,
	    kw_mono_us() / 1000, c, &gen))
		goto check;
	r = store_token_find(st != NULL ? st : w, c->token_hash, &t,
	    &c->person);
	if (r == KW_ERR_NOT_FOUND)
		return bound_lookup(rq, st, w, c, gen);
	if (r == 0 && !crypto_eq(c->token_hash, t.hash, sizeof(t.hash)))
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "unknown or revoked token");
	if (r != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if (!c->person.active)
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "this person is no longer active");
	kw_strlcpy(c->token_id, t.id, sizeof(c->token_id));
	kw_strlcpy(c->expires_at, t.expires_at, sizeof(c->expires_at));
	c->expires_s = api_time_or_zero(t.expires_at);
	c->seen_s = api_time_or_zero(t.last_used_at);
	c->bound_credential[0] = '\0';
	if (st != NULL)
		authcache_put(app->authcache, c->token_hash,
		    kw_mono_us() / 1000, c, gen);
 check:
	/* an expired token is refused, from the cache too */
	if (c->expires_s != 0 && kw_now() >= c->expires_s)
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "this token "
		    "expired at %s; ask for a new one", c->expires_at);
	return 0;
}

time_t
api_time_or_zero(const char *s)
{
	time_t t;

	return s[0] != '\0' && kw_time_parse(s, &t) == 0 ? t : 0;
}

/* The caller behind c's keyed hash, by what it presented: a bearer
 * token or a session cookie (see token_lookup; sessions_lookup). */
static int
caller_lookup(struct http_req *rq, struct store *st, struct store *w,
    struct caller *c)
{
	if (c->has_session)
		return sessions_lookup(rq, st, w, c);
	return token_lookup(rq, st, w, c);
}

/* Authenticate rq's bearer token (or, without an Authorization header,
 * its session cookie) into c; a failure counts against the client's
 * address.  The token's last use or the session's activity is recorded
 * (at most once a minute). */
static int
authenticate(struct http_req *rq, struct caller *c)
{
	struct app	*app = rq->app;
	struct store	*st;
	const char	*tok, *cookie;
	int		 r;

	if (rq->authorization == NULL) {
		if ((cookie = http_cookie(rq, KW_SESSION_COOKIE)) == NULL)
			return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
			    "send 'Authorization: Bearer <your kw_ token>' or "
			    "sign in (POST /v1/sessions, /auth/login)");
		if ((r = sessions_authenticate(rq, cookie, c)) ==
		    KW_ERR_UNAUTHENTICATED)
			return api_auth_failed(rq, NULL, r);
		return r;
	}
	if ((tok = bearer(rq->authorization)) == NULL ||
	    !crypto_token_wellformed(tok)) {
		tok = NULL;
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "the Authorization header does not carry a keywarden "
		    "bearer token");
		goto fail;
	}
	if ((st = api_store(rq)) == NULL)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if ((r = crypto_token_hash(app->keys, tok, c->token_hash)) != 0)
		return r;
	c->has_token = 1;
	if ((r = token_lookup(rq, st, NULL, c)) == 0)
		sessions_touch(app, c, kw_now());
	if (r != KW_ERR_UNAUTHENTICATED)
		return r;
 fail:
	return api_auth_failed(rq, tok, r);
}

/* 0 if rq's caller has the access level, else KW_ERR_FORBIDDEN with the
 * message set. */
static int
access_check(struct http_req *rq, enum http_access access)
{
	const struct caller *c = rq->caller;

	if (c != NULL && c->bound_credential[0] != '\0' && !c->bound_route)
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "this token is "
		    "bound to credential %.64s: it may only ask for that "
		    "credential's access tokens", c->bound_credential);
	if (access == ACCESS_ADMIN && !api_has_role(rq, ROLE_ADMIN))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL,
		    "only an admin may do this");
	if (access == ACCESS_READER &&
	    !api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL,
		    "only an admin or an auditor may do this");
	return 0;
}

int
api_authorise(struct http_req *rq, const struct http_route *route)
{
	struct caller	*c;
	int		 r;

	if (route->access == ACCESS_PUBLIC)
		return 0;
	if (route->access == ACCESS_SCIM)	/* SCIM tokens only (scim.c) */
		return api_scim_authorise(rq);
	/* the token is checked first, and only failures are throttled
	 * (api_auth_failed): nobody else's failures lock a valid token
	 * out */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = authenticate(rq, c)) != 0 ||
	    (c->has_session && (r = sessions_csrf(rq, c)) != 0)) {
		kw_wipe(c, sizeof(*c));
		free(c);
		return r;
	}
	c->access = route->access;
	rq->caller = c;
	c->bound_route = c->bound_credential[0] != '\0' &&
	    bound_allowed(rq, route);
	if ((r = access_check(rq, route->access)) != 0)
		audit_refusal(rq, rq->fail.message);
	return r;
}

int
api_reauthorise(struct http_req *rq, const struct http_route *route)
{
	struct caller	*c = rq->caller, *now;
	struct store	*st;
	int		 r;

	if (route->access == ACCESS_PUBLIC || c == NULL)
		return 0;
	if (c->scim)		/* an identity provider (scim.c) */
		return api_scim_current(rq, api_store(rq));
	if ((now = calloc(1, sizeof(*now))) == NULL)
		return KW_ERR_NOMEM;
	memcpy(now->token_hash, c->token_hash, sizeof(now->token_hash));
	now->has_token = c->has_token;
	now->has_session = c->has_session;
	memcpy(now->csrf, c->csrf, sizeof(now->csrf));	/* checked already */
	if ((st = api_store(rq)) == NULL)
		r = http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	else
		r = caller_lookup(rq, st, NULL, now);
	kw_wipe(c, sizeof(*c));
	free(c);
	rq->caller = NULL;
	if (r != 0) {
		kw_wipe(now, sizeof(*now));
		free(now);
		/* valid when its headers came: not a guess to throttle */
		return r;
	}
	now->access = route->access;	/* a cache hit brought another's */
	rq->caller = now;
	now->bound_route = now->bound_credential[0] != '\0' &&
	    bound_allowed(rq, route);
	if ((r = access_check(rq, route->access)) != 0)
		audit_refusal(rq, rq->fail.message);
	return r;
}

/* 1 if a and b have the same roles and teams. */
static int
same_powers(const struct person *a, const struct person *b)
{
	size_t i;

	if (a->roles != b->roles || a->nteams != b->nteams)
		return 0;
	for (i = 0; i < a->nteams; i++)
		if (strcmp(a->teams[i], b->teams[i]) != 0)
			return 0;
	return 1;
}

/*
 * Inside the write transaction on w, before the handler changes
 * anything: is rq's caller still who the handler decided for?  Read from
 * the writer itself (committed state, and earlier members of the group),
 * never from the cache.  Bearer callers: the token must still be live
 * and its person active; Slack callers (no token): the person must still
 * be active.  The route's level must still hold (403), and roles and
 * teams must be unchanged (409: the handler decided on the old ones).
 * On success the caller's person is refreshed.
 */
int
api_caller_current(struct http_req *rq, struct store *w)
{
	struct caller	*c = rq->caller, *now;
	int		 r, same;

	if (c == NULL)
		return 0;
	if (c->scim)		/* an identity provider (scim.c) */
		return api_scim_current(rq, w);
	if ((now = calloc(1, sizeof(*now))) == NULL)
		return KW_ERR_NOMEM;
	*now = *c;
	if (c->has_token || c->has_session)
		r = caller_lookup(rq, NULL, w, now);
	else if ((r = store_person_get(w, c->person.id, &now->person)) ==
	    KW_ERR_NOT_FOUND || (r == 0 && !now->person.active))
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "this person is no longer active");
	else if (r != 0)
		r = http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if (r == 0) {
		same = same_powers(&c->person, &now->person);
		*c = *now;	/* fresh name, manager, ... for the handler */
		if ((r = access_check(rq, c->access)) == 0 && !same)
			r = http_fail(rq, KW_ERR_CONFLICT, NULL, "your roles "
			    "or teams changed while this request was being "
			    "handled; nothing was changed: send it again");
	}
	kw_wipe(now, sizeof(*now));
	free(now);
	return r;
}

/* ---- shapes ---- */

json_t *
api_person_json(const struct person *p)
{
	json_t	*roles = json_array(), *teams = json_array();
	size_t	 i;

	if (p->roles & ROLE_ADMIN)
		json_array_append_new(roles, json_string("admin"));
	if (p->roles & ROLE_AUDITOR)
		json_array_append_new(roles, json_string("auditor"));
	for (i = 0; i < p->nteams; i++)
		json_array_append_new(teams, json_string(p->teams[i]));
	return json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o, s:s?, s:b, s:s, s:s,"
	    " s:s?}",
	    "id", p->id, "email", p->email, "name", p->name,
	    "manager", p->manager_email[0] ? p->manager_email : NULL,
	    "roles", roles, "teams", teams,
	    "slack_user_id", p->slack_user_id[0] ? p->slack_user_id : NULL,
	    "active", p->active, "created_at", p->created_at,
	    "updated_at", p->updated_at,
	    "managed_by", p->managed_by[0] ? p->managed_by : NULL);
}

/* The broker's settings of in, added to o. */
static void
instance_delivery_json(const struct instance *in, json_t *o)
{
	json_t	*allowed = json_null();
	size_t	 k;

	if (in->allowed_deliveries != 0) {
		allowed = json_array();
		for (k = 0; k < DM__COUNT; k++)
			if (in->allowed_deliveries & (1u << k))
				json_array_append_new(allowed,
				    json_string(credential_delivery_modes[k]));
	}
	json_object_set_new(o, "default_delivery",
	    json_string(credential_delivery_modes[in->default_delivery %
	    DM__COUNT]));
	json_object_set_new(o, "allowed_deliveries", allowed);
	json_object_set_new(o, "max_access_ttl_seconds",
	    json_integer(in->max_access_ttl));
}

json_t *
api_instance_json(const struct instance *in)
{
	json_t	*prov = json_array(), *scopes = json_null(), *bot = json_null();
	json_t	*warn = json_array(), *o;
	size_t	 i;

	for (i = 0; i < in->nprovisioners; i++)
		json_array_append_new(prov,
		    json_string(in->provisioners[i].email));
	if (in->scopes_restricted) {
		scopes = json_array();
		for (i = 0; i < in->nscopes; i++)
			json_array_append_new(scopes,
			    json_string(in->allowed_scopes[i]));
	}
	if (in->bot_email[0] != '\0' || in->bot_sealed_len > 0) {
		bot = json_pack("{s:s?, s:b, s:s}", "email", in->bot_email[0] ?
		    in->bot_email : NULL, "credential_set",
		    in->bot_sealed_len > 0, "mode", in->bot_client_id[0] ?
		    "client_credentials" : "static_token");
		if (in->bot_client_id[0] != '\0')
			json_object_set_new(bot, "client_id",
			    json_string(in->bot_client_id));
		else if (in->bot_expires_at[0] != '\0')
			json_object_set_new(bot, "expires_at",
			    json_string(in->bot_expires_at));
	}
	for (i = 0; i < in->nwarn; i++)
		json_array_append_new(warn, json_integer(in->warn_days[i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:o, s:i,"
	    " s:i, s:i, s:o, s:s, s:s}",
	    "id", in->id, "name", in->name, "display_name", in->display_name,
	    "provider", in->provider, "url", in->url, "provisioners", prov,
	    "allow_integrations", in->allow_integrations,
	    "issuance", in->issuance == ISSUANCE_MANUAL ? "manual" :
	    "automatic", "allowed_scopes", scopes,
	    "max_lifetime_days", in->max_lifetime_days,
	    "rotation_days", in->rotation_days, "grace_days", in->grace_days,
	    "bot", bot,
	    "created_at", in->created_at, "updated_at", in->updated_at);
	if (o != NULL) {
		json_object_set_new(o, "warn_days", warn);
		instance_delivery_json(in, o);
	} else
		json_decref(warn);
	return o;
}

json_t *
api_page(json_t *items, int64_t next)
{
	char cur[32];

	if (next <= 0)
		return json_pack("{s:o, s:n}", "items", items, "next_cursor");
	snprintf(cur, sizeof(cur), "%lld", (long long)next);
	return json_pack("{s:o, s:s}", "items", items, "next_cursor", cur);
}

/* ---- trivial resources ---- */

int
api_healthz(struct http_req *rq, struct http_resp *rs)
{
	KW_UNUSED(rq);
	rs->body = json_pack("{s:s}", "status", "ok");
	return 0;
}

/*
 * /requests/{id} and /credentials/{id}: the links that name credentials
 * on instances and that chat messages carry.  They say where to look,
 * with a keywarden token; they do not even say whether the id exists.
 */
int
api_landing(struct http_req *rq, struct http_resp *rs)
{
	const char	*id = rq->params[0];
	int		 req = strncmp(rq->path, "/requests/", 10) == 0;

	if (strlen(id) > KW_ID_MAX || strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_") != strlen(id))
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "not a keywarden "
		    "identifier");
	rs->body = json_pack("{s:s, s:s, s:s+, s:s+, s:s}", "kind",
	    req ? "request" : "credential", "id", id, "api",
	    req ? "/v1/requests/" : "/v1/credentials/", id, "cli",
	    req ? "keywarden request show " : "keywarden credential reveal ",
	    id, "note", "keywarden shows this to people with a keywarden "
	    "token who may see it (Authorization: Bearer kw_...)");
	return 0;
}

int
api_me_get(struct http_req *rq, struct http_resp *rs)
{
	rs->body = api_person_json(api_me(rq));
	return 0;
}
