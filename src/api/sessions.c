/*
 * sessions.c — browser sessions (see sessions.h): POST /v1/sessions,
 * GET and DELETE /v1/sessions/current, and the cookie half of
 * authentication that api_authorise calls.
 */
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
#include "api/valid.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "util/util.h"

/* Methods that change nothing need no CSRF token. */
static const char *const safe_methods[] = { "GET", "HEAD", "OPTIONS", NULL };

int
sessions_secure(const struct app *app)
{
	return strncasecmp(app->public_url, "https://", 8) == 0;
}

/* 0 if the session c stands for is still alive at now. */
static int
session_alive(const struct app *app, const struct caller *c, time_t now)
{
	if (c->expires_s != 0 && now >= c->expires_s)
		return -1;
	if (c->seen_s != 0 && now - c->seen_s >= app->cfg.session_idle_timeout)
		return -1;
	return 0;
}

int
sessions_lookup(struct http_req *rq, struct store *st, struct store *w,
    struct caller *c)
{
	struct app		*app = rq->app;
	struct session_rec	 se;
	const char		*cookie;
	uint64_t		 gen = 0;
	int			 r;

	if (st != NULL &&
	    authcache_get(app->authcache, c->token_hash,
	    kw_mono_us() / 1000, c, &gen))
		goto check;
	r = store_session_find(st != NULL ? st : w, c->token_hash, &se,
	    &c->person);
	if (r == KW_ERR_NOT_FOUND || (r == 0 && !crypto_eq(c->token_hash,
	    se.hash, sizeof(se.hash))))
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "no such "
		    "session (signed out, expired or ended by an admin); sign "
		    "in again");
	if (r != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if (!c->person.active)
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "this person is no longer active");
	kw_strlcpy(c->session_id, se.id, sizeof(c->session_id));
	kw_strlcpy(c->expires_at, se.expires_at, sizeof(c->expires_at));
	c->expires_s = api_time_or_zero(se.expires_at);
	c->seen_s = api_time_or_zero(se.last_seen_at);
	/* the CSRF token is derived from the secret, which only the
	 * request's cookie holds */
	if (c->csrf[0] == '\0' &&
	    (cookie = http_cookie(rq, KW_SESSION_COOKIE)) != NULL &&
	    (r = crypto_session_csrf(app->keys, cookie, c->csrf,
	    sizeof(c->csrf))) != 0)
		return r;
	if (st != NULL)
		authcache_put(app->authcache, c->token_hash,
		    kw_mono_us() / 1000, c, gen);
 check:
	if (session_alive(app, c, kw_now()) != 0)
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "this "
		    "session has ended (12 h at most, and it ends when unused "
		    "for a while); sign in again");
	return 0;
}

int
sessions_authenticate(struct http_req *rq, const char *cookie,
    struct caller *c)
{
	struct app	*app = rq->app;
	struct store	*st;
	int		 r;

	if (!crypto_session_wellformed(cookie))
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "the "
		    "kw_session cookie is not a keywarden session; sign in "
		    "again");
	if ((r = crypto_session_hash(app->keys, cookie, c->token_hash)) != 0)
		return r;
	c->has_session = 1;
	if ((st = api_store(rq)) == NULL)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if ((r = sessions_lookup(rq, st, NULL, c)) != 0)
		return r;
	sessions_touch(app, c, kw_now());
	return 0;
}

int
sessions_csrf(struct http_req *rq, const struct caller *c)
{
	const char	*got;
	size_t		 i;

	for (i = 0; safe_methods[i] != NULL; i++)
		if (strcmp(rq->method, safe_methods[i]) == 0)
			return 0;
	got = http_header(rq, "X-CSRF-Token");
	/* the length is no secret (always KW_CSRF_LEN); the bytes are
	 * compared in constant time */
	if (got != NULL && strlen(got) == KW_CSRF_LEN &&
	    strlen(c->csrf) == KW_CSRF_LEN &&
	    crypto_eq(got, c->csrf, KW_CSRF_LEN))
		return 0;
	sessions_refused(rq->app, c->person.email, rq->path, got == NULL ?
	    "csrf_token_missing" : "csrf_token_mismatch", rq->remote,
	    json_pack("{s:s, s:s}", "method", rq->method, "session_id",
	    c->session_id));
	return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "a request signed in by "
	    "the session cookie that changes something must carry the "
	    "session's X-CSRF-Token header (GET /v1/sessions/current tells "
	    "it)");
}

void
sessions_touch(struct app *app, struct caller *c, time_t now)
{
	struct store	*w;
	char		 at[KW_TIME_LEN + 1];
	time_t		 every = KW_TOUCH_S;
	int		 r;

	/* a session's idle end is judged from last_seen_at: record it
	 * often enough that it never ends early by more than a quarter of
	 * the idle time */
	if (c->has_session && app->cfg.session_idle_timeout / 4 < every)
		every = app->cfg.session_idle_timeout / 4;
	/* a bound token is not a personal token: its use is the
	 * broker's to record */
	if ((c->seen_s != 0 && now - c->seen_s < every) ||
	    c->bound_credential[0] != '\0')
		return;
	kw_time_fmt(now, at, sizeof(at));
	if (core_write_begin(app, &w) != 0)
		return;
	r = c->has_session ? store_session_touch(w, c->session_id, at) :
	    store_token_touch(w, c->token_id, at);
	if (core_write_end(app, r) == 0)
		c->seen_s = now;
}

void
sessions_refused(struct app *app, const char *actor, const char *subject,
    const char *reason, const char *remote, json_t *details)
{
	struct store	*w;
	json_t		*d = json_is_object(details) ? details : json_object();

	if (d != details)
		json_decref(details);
	json_object_set_new(d, "reason", json_string(reason));
	json_object_set_new(d, "remote", json_string(remote ? remote : ""));
	log_msg("warn", "sign-in refused: %s", reason);
	if (core_write_begin(app, &w) != 0) {
		json_decref(d);
		return;
	}
	core_write_end(app, audit_append(w, actor, "auth.refused", subject, d));
}

/* The Set-Cookie value for secret (or, NULL, the one that clears it). */
static int
set_cookie(struct app *app, struct http_resp *rs, const char *secret)
{
	return http_resp_header(rs, "Set-Cookie", "%s=%s; Path=/; HttpOnly; "
	    "SameSite=Lax; Max-Age=%d%s", KW_SESSION_COOKIE,
	    secret ? secret : "", secret ? app->cfg.session_max_age : 0,
	    sessions_secure(app) ? "; Secure" : "");
}

int
sessions_open(struct app *app, struct store *st, const struct person *p,
    const char *method, json_t *details, struct http_resp *rs,
    json_t **answer)
{
	struct session_rec	 se;
	char			 secret[KW_TOKEN_STR_MAX];
	char			 csrf[KW_CSRF_LEN + 1];
	time_t			 now = kw_now();
	json_t			*d = json_is_object(details) ? details :
				    json_object();
	int			 r;

	if (d != details)
		json_decref(details);
	memset(&se, 0, sizeof(se));
	if ((r = crypto_session_new(secret, sizeof(secret))) != 0 ||
	    (r = crypto_session_hash(app->keys, secret, se.hash)) != 0 ||
	    (r = crypto_session_csrf(app->keys, secret, csrf,
	    sizeof(csrf))) != 0)
		goto out;
	crypto_random_id("ses_", se.id, sizeof(se.id));
	kw_strlcpy(se.person_id, p->id, sizeof(se.person_id));
	kw_strlcpy(se.method, method, sizeof(se.method));
	kw_time_fmt(now, se.created_at, sizeof(se.created_at));
	kw_time_fmt(now, se.last_seen_at, sizeof(se.last_seen_at));
	kw_time_fmt(now + app->cfg.session_max_age, se.expires_at,
	    sizeof(se.expires_at));
	if ((r = store_session_insert(st, &se)) != 0)
		goto out;
	json_object_set_new(d, "method", json_string(method));
	json_object_set_new(d, "session_id", json_string(se.id));
	json_object_set_new(d, "expires_at", json_string(se.expires_at));
	r = audit_append(st, p->email, "auth.login", p->email, d);
	d = NULL;
	if (r != 0)
		goto out;
	if ((r = set_cookie(app, rs, secret)) != 0)
		goto out;
	if (answer != NULL)
		*answer = json_pack("{s:o, s:s, s:s}", "person",
		    api_person_json(p), "expires_at", se.expires_at,
		    "csrf_token", csrf);
 out:
	json_decref(d);
	kw_wipe(secret, sizeof(secret));
	kw_wipe(csrf, sizeof(csrf));
	return r;
}

/* The personal token tok (not a bound or SCIM token: those live
 * elsewhere and are never found here) and its live, active person. */
static int
token_person(struct http_req *rq, struct store *st, const char *tok,
    struct token_rec *t, struct person *p, const char **why)
{
	struct app	*app = rq->app;
	unsigned char	 h[KW_HASH_LEN];
	time_t		 exp;
	int		 r;

	*why = "unknown_token";
	if (!crypto_token_wellformed(tok))
		return KW_ERR_UNAUTHENTICATED;
	if ((r = crypto_token_hash(app->keys, tok, h)) != 0)
		return r;
	r = store_token_find(st, h, t, p);
	if (r == KW_ERR_NOT_FOUND || (r == 0 && !crypto_eq(h, t->hash,
	    sizeof(h))))
		return KW_ERR_UNAUTHENTICATED;
	if (r != 0)
		return KW_ERR_UNAVAILABLE;
	exp = api_time_or_zero(t->expires_at);
	if (exp != 0 && kw_now() >= exp) {
		*why = "token_expired";
		return KW_ERR_UNAUTHENTICATED;
	}
	if (!p->active) {
		*why = "person_inactive";
		return KW_ERR_UNAUTHENTICATED;
	}
	return 0;
}

/*
 * POST /v1/sessions {"token": "kw_..."}: trade a personal token for a
 * session cookie.  Public (the token in the body is the credential), so
 * the address's failure budget is checked here.
 */
int
api_sessions_create(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct token_rec	 t;
	struct person		 p;
	struct store		*st;
	char			 tok[KW_TOKEN_STR_MAX + 1];
	const char		*why;
	json_t			*answer = NULL;
	int			 r;

	if ((r = jv_known(rq, rq->body, (const char *const[]){ "token",
	    NULL })) != 0 ||
	    (r = jv_str(rq, rq->body, "token", JV_REQUIRED | JV_NONEMPTY,
	    KW_TOKEN_STR_MAX, tok, sizeof(tok), NULL)) != 0)
		goto done;
	if ((st = api_store(rq)) == NULL) {
		r = api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
		goto done;
	}
	if ((r = token_person(rq, st, tok, &t, &p, &why)) != 0) {
		if (r == KW_ERR_UNAVAILABLE) {
			r = api_store_fail(rq, r, "", "");
			goto done;
		}
		/* only failures are counted, as for bearer tokens; beyond
		 * the limit they are answered 429 and no longer audited */
		if (throttle_fail(app->throttle, rq->remote, (int64_t)
		    (kw_mono_us() / 1000000u), &rq->fail.retry_after) != 0) {
			r = http_fail(rq, KW_ERR_RATE_LIMITED, NULL, "too many "
			    "failed authentications; retry after %d seconds",
			    rq->fail.retry_after);
			goto done;
		}
		sessions_refused(app, "anonymous", "session", why, rq->remote,
		    json_pack("{s:s}", "method", "token"));
		r = http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "%s",
		    strcmp(why, "token_expired") == 0 ? "this token has "
		    "expired; ask for a new one" : strcmp(why,
		    "person_inactive") == 0 ? "this person is no longer active" :
		    "not a live personal token (bound and SCIM tokens cannot "
		    "open sessions)");
		goto done;
	}
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	kw_time_fmt(kw_now(), t.last_used_at, sizeof(t.last_used_at));
	if ((r = store_token_touch(st, t.id, t.last_used_at)) == 0)
		r = sessions_open(app, st, &p, "token", json_pack("{s:s}", "token_id",
	    t.id), rs, &answer);
	if (r != 0 && r != KW_ERR_UNAVAILABLE)
		r = http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the session could not be recorded; nothing was changed");
	r = api_tx_end(rq, &st, r);
	if (r == 0) {
		rs->status = 201;
		rs->body = answer;
		answer = NULL;
	}
 done:
	json_decref(answer);
	kw_wipe(tok, sizeof(tok));
	return r;
}

/* The caller's session, or a 404 for a bearer-token caller. */
static const struct caller *
session_of(struct http_req *rq)
{
	const struct caller *c = rq->caller;

	if (c == NULL || !c->has_session) {
		http_fail(rq, KW_ERR_NOT_FOUND, NULL, "no session: this request "
		    "was not signed in by the kw_session cookie");
		return NULL;
	}
	return c;
}

/* GET /v1/sessions/current: who, until when, and the CSRF token (a page
 * signed in through SSO learns it here). */
int
api_sessions_current(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	const struct caller	*c;
	char			 idle[KW_TIME_LEN + 1];

	if ((c = session_of(rq)) == NULL)
		return KW_ERR_NOT_FOUND;
	kw_time_fmt((c->seen_s ? c->seen_s : kw_now()) +
	    app->cfg.session_idle_timeout, idle, sizeof(idle));
	rs->body = json_pack("{s:o, s:s, s:s, s:s, s:s}", "person",
	    api_person_json(&c->person), "expires_at", c->expires_at,
	    "idle_expires_at", idle, "csrf_token", c->csrf, "id",
	    c->session_id);
	return 0;
}

/* DELETE /v1/sessions/current: sign out; the cookie is cleared. */
int
api_sessions_end(struct http_req *rq, struct http_resp *rs)
{
	const struct caller	*c;
	struct store		*st;
	int			 r;

	if ((c = session_of(rq)) == NULL)
		return KW_ERR_NOT_FOUND;
	if ((r = api_tx_begin(rq, &st)) != 0)
		return r;
	if ((r = store_session_delete(st, c->session_id)) != 0)
		r = api_store_fail(rq, r, "session", c->session_id);
	else
		r = api_audit(rq, st, "auth.logout", c->person.email,
		    json_pack("{s:s}", "session_id", c->session_id));
	r = api_tx_end(rq, &st, r);
	if (r == 0 && (r = set_cookie(rq->app, rs, NULL)) == 0)
		rs->status = 204;
	return r;
}
