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
#include "api/throttle.h"
#include "api/web.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "util/util.h"

static const struct http_route routes[] = {
	{ "GET",   "/healthz",			api_healthz,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/v1/me",			api_me_get,	ACCESS_PERSON, BODY_NONE },
	{ "GET",   "/requests/{}",		web_landing,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/credentials/{}",		web_landing,	ACCESS_PUBLIC, BODY_NONE },
	/* the web UI (api/web.c): its files and the pages it draws */
	{ "GET",   "/static/{}/{}",		web_static,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/ui/config",		web_config,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/",				web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/signin",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/waiting",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/requests",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/credentials",		web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/new",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/instances",		web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/instances/{}",		web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/audit",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/people",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/settings",			web_page,	ACCESS_PUBLIC, BODY_NONE },
	{ "POST",  "/v1/people",		api_people_create, ACCESS_ADMIN, BODY_REQUIRED },
	{ "GET",   "/v1/people",		api_people_list, ACCESS_READER, BODY_NONE },
	{ "GET",   "/v1/people/{}",		api_people_get,	ACCESS_PERSON, BODY_NONE },
	{ "PATCH", "/v1/people/{}",		api_people_patch, ACCESS_ADMIN, BODY_REQUIRED },
	{ "POST",  "/v1/people/{}/tokens",	api_people_token, ACCESS_PERSON, BODY_OPTIONAL },
	{ "GET",   "/v1/people/{}/tokens",	api_people_tokens, ACCESS_PERSON, BODY_NONE },
	{ "DELETE", "/v1/people/{}/tokens/{}",	api_people_token_revoke, ACCESS_PERSON, BODY_NONE },
	{ "POST",  "/v1/people/{}/offboard",	api_people_offboard, ACCESS_ADMIN, BODY_OPTIONAL },
	{ "POST",  "/v1/instances",		api_instances_create, ACCESS_ADMIN, BODY_REQUIRED },
	{ "GET",   "/v1/instances",		api_instances_list, ACCESS_PERSON, BODY_NONE },
	{ "GET",   "/v1/instances/{}",		api_instances_get, ACCESS_PERSON, BODY_NONE },
	{ "PATCH", "/v1/instances/{}",		api_instances_patch, ACCESS_ADMIN, BODY_REQUIRED },
	{ "POST",  "/v1/requests",		api_requests_create, ACCESS_PERSON, BODY_REQUIRED },
	{ "GET",   "/v1/requests",		api_requests_list, ACCESS_PERSON, BODY_NONE },
	{ "GET",   "/v1/requests/{}",		api_requests_get, ACCESS_PERSON, BODY_NONE },
	{ "POST",  "/v1/requests/{}/approve",	api_requests_approve, ACCESS_PERSON, BODY_OPTIONAL },
	{ "POST",  "/v1/requests/{}/deny",	api_requests_deny, ACCESS_PERSON, BODY_REQUIRED },
	{ "POST",  "/v1/requests/{}/withdraw",	api_requests_withdraw, ACCESS_PERSON, BODY_OPTIONAL },
	{ "POST",  "/v1/requests/{}/fulfil",	api_requests_fulfil, ACCESS_PERSON, BODY_REQUIRED },
	{ "POST",  "/v1/credentials",		api_credentials_create, ACCESS_PERSON, BODY_REQUIRED },
	{ "GET",   "/v1/credentials",		api_credentials_list, ACCESS_PERSON, BODY_NONE },
	{ "GET",   "/v1/credentials/{}",	api_credentials_get, ACCESS_PERSON, BODY_NONE },
	{ "POST",  "/v1/credentials/{}/reveal",	api_credentials_reveal, ACCESS_PERSON, BODY_OPTIONAL },
	{ "POST",  "/v1/credentials/{}/revoke",	api_credentials_revoke, ACCESS_PERSON, BODY_OPTIONAL },
	{ "GET",   "/v1/audit",			api_audit_list, ACCESS_READER, BODY_NONE },
	{ "GET",   "/v1/audit/verify",		api_audit_verify, ACCESS_READER, BODY_NONE },
	{ "POST",  "/v1/credentials/{}/rotate",	api_credentials_rotate, ACCESS_PERSON, BODY_OPTIONAL },
	{ "POST",  "/v1/credentials/{}/link-replacement", api_credentials_link, ACCESS_PERSON, BODY_REQUIRED },
	{ "POST",  "/v1/instances/{}/sync",	api_instances_sync, ACCESS_PERSON, BODY_OPTIONAL },
	{ "GET",   "/v1/reports/migration",	api_reports_migration, ACCESS_PERSON, BODY_NONE },
	{ "PUT",   "/v1/settings/slack",	api_settings_slack_put, ACCESS_ADMIN, BODY_REQUIRED },
	{ "GET",   "/v1/settings/slack",	api_settings_slack_get, ACCESS_ADMIN, BODY_NONE },
	{ "POST",  "/v1/slack/interactions",	api_slack_interactions, ACCESS_PUBLIC, BODY_FORM },
	{ "POST",  "/v1/sessions",		api_sessions_create, ACCESS_PUBLIC, BODY_REQUIRED },
	{ "GET",   "/v1/sessions/current",	api_sessions_current, ACCESS_PERSON, BODY_NONE },
	{ "DELETE", "/v1/sessions/current",	api_sessions_end, ACCESS_PERSON, BODY_NONE },
	{ "GET",   "/auth/login",		api_auth_login,	ACCESS_PUBLIC, BODY_NONE },
	{ "GET",   "/auth/callback",		api_auth_callback, ACCESS_PUBLIC, BODY_NONE },
};

const struct http_route *
api_routes(size_t *n)
{
	*n = KW_NELEM(routes);
	return routes;
}

static int	group_new(struct app *);
static void	group_free(struct group *);

int
api_app_init(struct app *app, const struct config *cfg, char *err,
    size_t errsz)
{
	char		 path[KW_PATH_MAX + 32];
	struct store	*st = NULL;
	int		 r;

	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	config_public_url(cfg, app->public_url, sizeof(app->public_url));
	pthread_mutex_init(&app->stores_lock, NULL);
	snprintf(path, sizeof(path), "%s/master.key", cfg->data_dir);
	if ((r = crypto_keys_load(path, &app->keys)) != 0) {
		snprintf(err, errsz, "%s: cannot load the master key (%s); "
		    "run 'keywarden init' first, and keep the file mode 0600",
		    path, kw_strerror(r));
		return r;
	}
	if ((r = store_open(cfg->data_dir, STORE_MIGRATE, &st)) != 0) {
		snprintf(err, errsz, "%s: cannot open the store (%s)",
		    cfg->data_dir, kw_strerror(r));
		return r;
	}
	app->stores[app->nstores++] = st;	/* the main thread's */
	if ((app->throttle = throttle_new(cfg->auth_fail_limit,
	    cfg->auth_fail_window)) == NULL ||
	    (app->authcache = authcache_new()) == NULL)
		return KW_ERR_NOMEM;
	if ((r = group_new(app)) != 0) {
		snprintf(err, errsz, "%s: cannot open the store for writing "
		    "(%s)", cfg->data_dir, kw_strerror(r));
		return r;
	}
	return 0;
}

void
api_app_cleanup(struct app *app)
{
	size_t i;

	group_free(app->group);
	app->group = NULL;
	for (i = 0; i < app->nstores; i++)
		store_close(app->stores[i]);
	app->nstores = 0;
	crypto_keys_free(app->keys);
	app->keys = NULL;
	throttle_free(app->throttle);
	app->throttle = NULL;
	authcache_free(app->authcache);
	app->authcache = NULL;
	pthread_mutex_destroy(&app->stores_lock);
}

/*
 * One store connection per HTTP worker thread, opened on first use and
 * remembered in app->stores so cleanup can close it.
 */
static _Thread_local struct store *tl_store;
static _Thread_local const struct app *tl_owner;

struct store *
api_store(struct http_req *rq)
{
	struct app	*app = rq->app;
	struct store	*st;

	if (tl_store != NULL && tl_owner == app)
		return tl_store;
	pthread_mutex_lock(&app->stores_lock);
	if (app->nstores >= APP_STORES_MAX ||
	    store_open(app->cfg.data_dir, STORE_MMAP, &st) != 0)
		st = NULL;
	else
		app->stores[app->nstores++] = st;
	pthread_mutex_unlock(&app->stores_lock);
	if (st == NULL) {
		log_msg("error", "cannot open a store connection");
		return NULL;
	}
	tl_store = st;
	tl_owner = app;
	return st;
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

/* The group commit's state (see api.h). */
#define GROUP_MAX	64		/* changes per commit at most */
#define GROUP_RING	256		/* outcomes remembered */

struct group {
	pthread_mutex_t	 lock;		/* held from begin to end */
	pthread_cond_t	 committed;
	atomic_int	 waiting;	/* threads queued to begin */
	struct store	*writer;
	int		 open;		/* a transaction is open */
	uint64_t	 seq;		/* the open (or last) group */
	uint64_t	 done;		/* the last group committed */
	int		 members;	/* changes kept in the open group */
	int		 result[GROUP_RING];
};

static int
group_new(struct app *app)
{
	struct group *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->committed, NULL);
	app->group = g;
	return store_open(app->cfg.data_dir, STORE_MMAP, &g->writer);
}

static void
group_free(struct group *g)
{
	if (g == NULL)
		return;
	store_close(g->writer);
	pthread_cond_destroy(&g->committed);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* Commit the open group (roll back an empty one) and tell its members;
 * called with g->lock held. */
static void
group_close(struct group *g)
{
	int rc = 0;

	if (g->members > 0)
		rc = store_commit(g->writer);
	else
		store_rollback(g->writer);
	g->open = 0;
	g->result[g->seq % GROUP_RING] = rc;
	g->done = g->seq;
	pthread_cond_broadcast(&g->committed);
}

int
api_write_begin(struct app *app, struct store **w)
{
	struct group	*g = app->group;
	int		 r;

	atomic_fetch_add(&g->waiting, 1);
	pthread_mutex_lock(&g->lock);
	atomic_fetch_sub(&g->waiting, 1);
	if (!g->open) {
		if ((r = store_begin(g->writer)) != 0)
			goto fail;
		g->open = 1;
		g->seq++;
		g->members = 0;
	}
	if ((r = store_savepoint(g->writer)) != 0)
		goto fail;
	*w = g->writer;
	return 0;
 fail:
	/* close the open group for those already in it: nobody else may
	 * be coming to commit it */
	if (g->open)
		group_close(g);
	pthread_mutex_unlock(&g->lock);
	return KW_ERR_UNAVAILABLE;
}

static int	write_end(struct app *, int, int);

int
api_write_end(struct app *app, int r)
{
	return write_end(app, r, 1);
}

int
api_write_end_keep_cache(struct app *app, int r)
{
	return write_end(app, r, 0);
}

/* Keep or undo the caller's change, wait for its commit; a committed
 * change drops the authentication cache when invalidate is set. */
static int
write_end(struct app *app, int r, int invalidate)
{
	struct group	*g = app->group;
	uint64_t	 mine = g->seq;
	int		 rc;

	if (r == 0 && store_release(g->writer) != 0)
		r = KW_ERR_UNAVAILABLE;
	if (r != 0)
		store_rollback_to(g->writer);
	else
		g->members++;
	/* the last of a burst (or a full group) commits for everyone */
	if (atomic_load(&g->waiting) == 0 || g->members >= GROUP_MAX)
		group_close(g);
	else
		while (g->done < mine)
			pthread_cond_wait(&g->committed, &g->lock);
	rc = g->result[mine % GROUP_RING];
	pthread_mutex_unlock(&g->lock);
	if (r == 0 && rc != 0)
		r = KW_ERR_UNAVAILABLE;
	if (r == 0 && invalidate)	/* roles, activity or tokens may
					   have changed */
		authcache_invalidate(app->authcache);
	return r;
}

int
api_tx_begin(struct http_req *rq, struct store **st)
{
	if (api_write_begin(rq->app, st) != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be written; nothing was changed");
	return 0;
}

int
api_tx_end(struct http_req *rq, struct store **st, int r)
{
	int rc = api_write_end(rq->app, r);

	*st = api_store(rq);
	if (r == 0 && rc != 0)
		r = http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the change could not be committed; nothing was changed");
	return r;
}

int
api_audit(struct http_req *rq, struct store *st, const char *action,
    const char *subject, json_t *details)
{
	const struct person *me = api_me(rq);

	if (audit_append(st, me ? me->email : "anonymous", action, subject,
	    details) != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the audit log cannot be written; nothing was changed");
	return 0;
}

int
api_store_fail(struct http_req *rq, int r, const char *what, const char *key)
{
	switch (r) {
	case KW_ERR_NOT_FOUND:
		return http_fail(rq, r, NULL, "no %s '%.200s'", what, key);
	case KW_ERR_CONFLICT:
		return http_fail(rq, r, NULL, "a %s '%.200s' already exists",
		    what, key);
	case KW_ERR_NOMEM:
	case KW_ERR_UNAVAILABLE:
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be used right now; nothing was changed");
	default:
		return r;
	}
}

void
api_nest_field(struct http_req *rq, const char *outer)
{
	char f[sizeof(rq->err_field) + 64];

	if (rq->err_field[0] == '\0')
		return;
	snprintf(f, sizeof(f), "%s.%s", outer, rq->err_field);
	kw_strlcpy(rq->err_field, f, sizeof(rq->err_field));
}

/* Record a refused authorisation (an authenticated person, a route they
 * may not use).  Best effort: the refusal stands even if this fails. */
static void
audit_refusal(struct http_req *rq, const char *why)
{
	struct store	*st;
	json_t		*d;

	if (api_write_begin(rq->app, &st) != 0)
		return;
	d = json_pack("{s:s, s:s, s:s}", "method", rq->method, "path",
	    rq->path, "reason", why);
	api_write_end(rq->app, api_audit(rq, st, "authz.denied", rq->path, d));
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

/* The token's expiry or last use as a time, 0 for none. */
static time_t
time_or_zero(const char *s)
{
	time_t t;

	return s[0] != '\0' && kw_time_parse(s, &t) == 0 ? t : 0;
}

/*
 * Who the request is from: a bearer token when there is an Authorization
 * header, else the session cookie (sessions.c).  Both are looked up by
 * keyed hash through the authentication cache; an expired token is
 * refused even from the cache.
 */
static int
authenticate(struct http_req *rq, struct caller *c)
{
	struct app		*app = rq->app;
	struct token_rec	 t;
	struct store		*st;
	unsigned char		 h[KW_HASH_LEN];
	const char		*tok, *cookie;
	time_t			 now;
	int			 r;

	if (rq->authorization == NULL) {
		if ((cookie = http_cookie(rq, KW_SESSION_COOKIE)) != NULL)
			return sessions_authenticate(rq, cookie, c);
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "send 'Authorization: Bearer <your kw_ token>' or sign in "
		    "(POST /v1/sessions, /auth/login)");
	}
	if ((tok = bearer(rq->authorization)) == NULL ||
	    !crypto_token_wellformed(tok)) {
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "the Authorization header does not carry a keywarden "
		    "bearer token");
		goto fail;
	}
	if ((st = api_store(rq)) == NULL)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if ((r = crypto_token_hash(app->keys, tok, h)) != 0)
		return r;
	if (authcache_get(app->authcache, h, kw_mono_us() / 1000, c))
		goto check;
	r = store_token_find(st, h, &t, &c->person);
	if (r == KW_ERR_NOT_FOUND || (r == 0 && !crypto_eq(h, t.hash,
	    sizeof(h)))) {
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "unknown or revoked token");
		goto fail;
	}
	if (r != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if (!c->person.active) {
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "this person is no longer active");
		goto fail;
	}
	kw_strlcpy(c->token_id, t.id, sizeof(c->token_id));
	kw_strlcpy(c->expires_at, t.expires_at, sizeof(c->expires_at));
	c->expires_s = time_or_zero(t.expires_at);
	c->seen_s = time_or_zero(t.last_used_at);
	authcache_put(app->authcache, h, kw_mono_us() / 1000, c);
 check:
	now = kw_now();
	if (c->expires_s != 0 && now >= c->expires_s) {
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "this token "
		    "expired at %s; ask for a new one", c->expires_at);
		goto fail;
	}
	sessions_touch(app, c, h, now);
	return 0;
 fail:
	throttle_fail(app->throttle, rq->remote,
	    (int64_t)(kw_mono_us() / 1000000u));
	return r;
}

int
api_authorise(struct http_req *rq, const struct http_route *route)
{
	struct app	*app = rq->app;
	struct caller	*c;
	int		 r;

	if (route->access == ACCESS_PUBLIC)
		return 0;
	if (throttle_check(app->throttle, rq->remote,
	    (int64_t)(kw_mono_us() / 1000000u), &rq->retry_after) != 0)
		return http_fail(rq, KW_ERR_RATE_LIMITED, NULL,
		    "too many failed authentications from this address; "
		    "retry after %d seconds", rq->retry_after);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = authenticate(rq, c)) != 0 ||
	    (c->session_id[0] != '\0' && (r = sessions_csrf(rq, c)) != 0)) {
		kw_wipe(c, sizeof(*c));
		free(c);
		return r;
	}
	rq->caller = c;
	if (route->access == ACCESS_ADMIN && !api_has_role(rq, ROLE_ADMIN))
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL,
		    "only an admin may do this");
	else if (route->access == ACCESS_READER &&
	    !api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR))
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL,
		    "only an admin or an auditor may do this");
	if (r != 0)
		audit_refusal(rq, rq->err_message);
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
	return json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o, s:s?, s:b, s:s, s:s}",
	    "id", p->id, "email", p->email, "name", p->name,
	    "manager", p->manager_email[0] ? p->manager_email : NULL,
	    "roles", roles, "teams", teams,
	    "slack_user_id", p->slack_user_id[0] ? p->slack_user_id : NULL,
	    "active", p->active, "created_at", p->created_at,
	    "updated_at", p->updated_at);
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
	if (in->bot_email[0] != '\0' || in->bot_sealed_len > 0)
		bot = json_pack("{s:s?, s:b}", "email", in->bot_email[0] ?
		    in->bot_email : NULL, "credential_set",
		    in->bot_sealed_len > 0);
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
	if (o != NULL)
		json_object_set_new(o, "warn_days", warn);
	else
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
