/*
 * auth.c — OpenID Connect sign-in for browsers: GET /auth/login sends the
 * browser to the identity provider, GET /auth/callback brings it back
 * with a code, which oidc/ exchanges and verifies; a known, active person
 * then gets a session (sessions.c).  Answers are HTML pages and
 * redirects, not JSON: a browser is on the other end.
 *
 * The login's secrets (state, nonce, PKCE verifier) and where to return
 * to are kept in a short-lived cookie sealed with keywarden's key
 * (XChaCha20-Poly1305, crypto_seal), not in server memory: nothing for an
 * unauthenticated caller to fill up, nothing lost on restart, any node
 * can finish a login another started.  The cookie also binds the login to
 * the browser that started it: a callback URL carried to another browser
 * (login CSRF) finds no cookie there and is refused.  It expires after
 * KW_OIDC_LOGIN_TTL_S and is cleared by the callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "api/sessions.h"
#include "api/throttle.h"
#include "crypto/crypto.h"
#include "oidc/oidc.h"
#include "util/buf.h"
#include "util/util.h"

#define SEAL_AD		"keywarden:oidc-login:v1"
#define CSP		"default-src 'self'; script-src 'self'; " \
			"style-src 'self'; img-src 'self' data:; " \
			"frame-ancestors 'none'; base-uri 'none'; " \
			"form-action 'self'"
#define LOGIN_PLAIN_MAX	(KW_OIDC_RETURN_MAX + 256)
#define LOGIN_COOKIE_MAX	(((LOGIN_PLAIN_MAX + KW_SEAL_OVERHEAD) * 4) / 3 + 8)

/* What the sealed cookie holds between login and callback. */
struct login {
	long long	exp;
	char		state[64];
	char		nonce[64];
	char		verifier[64];
	char		return_to[KW_OIDC_RETURN_MAX + 1];
};

static void
add_html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': buf_addstr(b, "&lt;"); break;
		case '>': buf_addstr(b, "&gt;"); break;
		case '&': buf_addstr(b, "&amp;"); break;
		case '"': buf_addstr(b, "&quot;"); break;
		case '\'': buf_addstr(b, "&#39;"); break;
		default: buf_add(b, s, 1);
		}
	}
}

/* An HTML page (status, title, message) for the browser; 0. */
static int
page(struct http_resp *rs, int status, const char *title, const char *msg)
{
	struct buf b;

	buf_init(&b, 8192);
	buf_addstr(&b, "<!doctype html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><title>");
	add_html(&b, title);
	buf_addstr(&b, " — keywarden</title></head>\n<body><main><h1>");
	add_html(&b, title);
	buf_addstr(&b, "</h1>\n<p>");
	add_html(&b, msg);
	buf_addstr(&b, "</p>\n<p><a href=\"/auth/login\">Sign in again</a>"
	    "</p></main></body></html>\n");
	rs->status = status;
	free(rs->text);
	rs->text = buf_err(&b) == 0 ? buf_detach(&b, NULL) : NULL;
	rs->content_type = "text/html; charset=utf-8";
	buf_free(&b);
	if (rs->text == NULL)
		return KW_ERR_NOMEM;
	return http_resp_header(rs, "Content-Security-Policy", "%s", CSP);
}

static int
login_cookie(struct app *app, struct http_resp *rs, const char *value)
{
	return http_resp_header(rs, "Set-Cookie", "%s=%s; Path=/auth/; "
	    "HttpOnly; SameSite=Lax; Max-Age=%d%s", KW_OIDC_COOKIE, value,
	    value[0] ? KW_OIDC_LOGIN_TTL_S : 0, sessions_secure(app) ?
	    "; Secure" : "");
}

/* Seal l into the cookie value out. */
static int
login_seal(struct app *app, const struct login *l, char *out, size_t outsz)
{
	char		plain[LOGIN_PLAIN_MAX];
	unsigned char	sealed[LOGIN_PLAIN_MAX + KW_SEAL_OVERHEAD];
	size_t		slen;
	int		n, r;

	n = snprintf(plain, sizeof(plain), "%lld\n%s\n%s\n%s\n%s", l->exp,
	    l->state, l->nonce, l->verifier, l->return_to);
	if (n < 0 || (size_t)n >= sizeof(plain))
		return KW_ERR_INTERNAL;
	r = crypto_seal(app->keys, SEAL_AD, plain, (size_t)n, sealed,
	    sizeof(sealed), &slen);
	if (r == 0)
		r = crypto_b64url_encode(sealed, slen, out, outsz);
	kw_wipe(plain, sizeof(plain));
	return r;
}

/* Copy the next '\n'-ended field of *p into out. */
static int
field(char **p, char *out, size_t outsz, int last)
{
	size_t n = last ? strlen(*p) : strcspn(*p, "\n");

	if ((!last && (*p)[n] != '\n') || n >= outsz)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + (last ? 0 : 1);
	return 0;
}

/* Open the cookie value v into *l: KW_ERR_CRYPTO when it was not sealed
 * by this keywarden (or was altered). */
static int
login_open(struct app *app, const char *v, struct login *l)
{
	unsigned char	sealed[LOGIN_PLAIN_MAX + KW_SEAL_OVERHEAD];
	char		plain[LOGIN_PLAIN_MAX + 1], num[24], *p = plain;
	size_t		slen, plen;
	int		r = KW_ERR_CRYPTO;

	memset(l, 0, sizeof(*l));
	if (strlen(v) > LOGIN_COOKIE_MAX ||
	    crypto_b64url_decode(v, sealed, sizeof(sealed), &slen) != 0 ||
	    crypto_open(app->keys, SEAL_AD, sealed, slen,
	    (unsigned char *)plain, sizeof(plain) - 1, &plen) != 0)
		return KW_ERR_CRYPTO;
	plain[plen] = '\0';
	if (field(&p, num, sizeof(num), 0) == 0 &&
	    field(&p, l->state, sizeof(l->state), 0) == 0 &&
	    field(&p, l->nonce, sizeof(l->nonce), 0) == 0 &&
	    field(&p, l->verifier, sizeof(l->verifier), 0) == 0 &&
	    field(&p, l->return_to, sizeof(l->return_to), 1) == 0) {
		l->exp = strtoll(num, NULL, 10);
		r = 0;
	}
	kw_wipe(plain, sizeof(plain));
	return r;
}

/*
 * Count a refused sign-in against the client's address, as failed bearer
 * tokens are: 1 (and a 429 page on rs) once the address is beyond its
 * budget, when the refusal is no longer audited either (nobody fills the
 * audit log from outside); 0 otherwise.
 */
static int
throttled(struct http_req *rq, struct http_resp *rs)
{
	struct app	*app = rq->app;
	int		 ra = 0;

	if (throttle_fail(app->throttle, rq->remote,
	    (int64_t)(kw_mono_us() / 1000000u), &ra) == 0)
		return 0;
	page(rs, 429, "Too many attempts", "Too many failed sign-ins from "
	    "this address; wait a minute and try again.");
	rs->retry_after = ra;
	return 1;
}

static int
not_configured(struct http_resp *rs)
{
	return page(rs, 404, "Single sign-on is off", "This keywarden has no "
	    "[oidc] section in its configuration. Sign in with a personal "
	    "token instead (POST /v1/sessions).");
}

/*
 * GET /auth/login[?return_to=/path]: 302 to the identity provider's
 * authorization endpoint, with the sealed login cookie.
 */
int
api_auth_login(struct http_req *rq, struct http_resp *rs)
{
	struct app	*app = rq->app;
	struct login	 l;
	const char	*rt = http_query(rq, "return_to");
	char		 challenge[64], why[256];
	char		 url[KW_URL_MAX * 2], cookie[LOGIN_COOKIE_MAX + 1];
	int		 r;

	if (app->oidc == NULL)
		return not_configured(rs);
	memset(&l, 0, sizeof(l));
	if (rt == NULL || rt[0] == '\0')
		rt = "/";
	if (!kw_local_path(rt, KW_OIDC_RETURN_MAX)) {
		if (throttled(rq, rs))
			return 0;
		sessions_refused(app, "anonymous", "sign-in",
		    "return_to_not_local", rq->remote, json_pack("{s:s%}",
		    "return_to", rt, strnlen(rt, 200)));
		return page(rs, 400, "Sign-in refused", "return_to must be a "
		    "path on this site (such as /requests/abc), not another "
		    "address.");
	}
	kw_strlcpy(l.return_to, rt, sizeof(l.return_to));
	l.exp = (long long)kw_now() + KW_OIDC_LOGIN_TTL_S;
	if ((r = crypto_random_b64url(32, l.state, sizeof(l.state))) != 0 ||
	    (r = crypto_random_b64url(32, l.nonce, sizeof(l.nonce))) != 0 ||
	    (r = crypto_random_b64url(32, l.verifier, sizeof(l.verifier))) !=
	    0 || (r = crypto_pkce_s256(l.verifier, challenge,
	    sizeof(challenge))) != 0 ||
	    (r = login_seal(app, &l, cookie, sizeof(cookie))) != 0)
		goto out;
	if (oidc_authorize_url(app->oidc, l.state, l.nonce, challenge, url,
	    sizeof(url), why, sizeof(why)) != 0) {
		log_msg("warn", "sign-in: the identity provider cannot be "
		    "used: %s", why);
		r = page(rs, 502, "Sign-in is unavailable", "The identity "
		    "provider cannot be reached or answered with something "
		    "keywarden cannot use. Try again in a few minutes; if it "
		    "persists, tell your keywarden admin.");
		goto out;
	}
	if ((r = login_cookie(app, rs, cookie)) != 0 ||
	    (r = http_resp_header(rs, "Location", "%s", url)) != 0)
		goto out;
	rs->status = 302;
 out:
	kw_wipe(&l, sizeof(l));
	kw_wipe(cookie, sizeof(cookie));
	return r;
}

/* A refusal: audited, the login cookie cleared, a page for the browser. */
static int
refuse(struct http_req *rq, struct http_resp *rs, int status,
    const char *subject, const char *reason, const char *msg)
{
	struct app *app = rq->app;

	/* the provider's trouble is not the browser's failure */
	if (status != 502 && throttled(rq, rs)) {
		login_cookie(app, rs, "");
		return 0;
	}
	sessions_refused(app, "anonymous", subject, reason, rq->remote,
	    json_pack("{s:s}", "method", "oidc"));
	login_cookie(app, rs, "");
	return page(rs, status, status == 502 ? "Sign-in is unavailable" :
	    "Sign-in refused", msg);
}

/* The person a verified identity maps to: by email, known and active. */
static int
person_of(struct http_req *rq, struct http_resp *rs,
    const struct oidc_identity *id, struct person *p)
{
	struct app	*app = rq->app;
	struct store	*st;
	int		 r;

	if (!oidc_email_allowed(app->oidc, id->email)) {
		refuse(rq, rs, 403, id->email, "email_domain_not_allowed",
		    "Your e-mail address is not in a domain this keywarden "
		    "accepts.");
		return KW_ERR_FORBIDDEN;
	}
	if ((st = api_store(rq)) == NULL) {
		page(rs, 503, "Sign-in is unavailable", "keywarden cannot "
		    "read its store right now; try again shortly.");
		return KW_ERR_UNAVAILABLE;
	}
	r = store_person_get(st, id->email, p);
	if (r == 0 && p->active)
		return 0;
	if (r != 0 && r != KW_ERR_NOT_FOUND) {
		page(rs, 503, "Sign-in is unavailable", "keywarden cannot "
		    "read its store right now; try again shortly.");
		return KW_ERR_UNAVAILABLE;
	}
	refuse(rq, rs, 403, id->email, r == 0 ? "inactive_person" :
	    "unknown_person", "You signed in at your identity provider, but "
	    "keywarden has no active person with that e-mail address. Ask a "
	    "keywarden admin to add you.");
	return KW_ERR_FORBIDDEN;
}

/*
 * GET /auth/callback?code=...&state=...: check the state against the
 * sealed cookie, redeem the code, map the verified e-mail to an active
 * person, open a session and send the browser back where it started.
 */
int
api_auth_callback(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct oidc_identity	 id;
	struct login		 l;
	struct person		 p;
	struct store		*st;
	const char		*code = http_query(rq, "code");
	const char		*state = http_query(rq, "state");
	const char		*cookie = http_cookie(rq, KW_OIDC_COOKIE);
	char			 why[256];
	int			 r;

	memset(&l, 0, sizeof(l));
	if (app->oidc == NULL)
		return not_configured(rs);
	if (http_query(rq, "error") != NULL) {
		r = refuse(rq, rs, 403, "sign-in", "idp_refused", "The identity "
		    "provider did not sign you in (cancelled or refused).");
		goto out;
	}
	if (code == NULL || state == NULL || code[0] == '\0' ||
	    strlen(code) > KW_OIDC_CODE_MAX || strlen(state) >= sizeof(l.state)) {
		r = refuse(rq, rs, 400, "sign-in", "callback_malformed", "This "
		    "address is missing its code or state.");
		goto out;
	}
	if (cookie == NULL || login_open(app, cookie, &l) != 0 ||
	    l.exp < (long long)kw_now()) {
		r = refuse(rq, rs, 400, "sign-in", cookie == NULL ?
		    "login_state_missing" : "login_state_invalid", "This "
		    "sign-in was not started in this browser, or took longer "
		    "than 10 minutes. Start again.");
		goto out;
	}
	/* RFC 9207: an issuer that names itself must be ours (a mix-up
	 * with another identity provider otherwise) */
	if (http_query(rq, "iss") != NULL &&
	    strcmp(http_query(rq, "iss"), app->cfg.oidc_issuer) != 0) {
		r = refuse(rq, rs, 403, "sign-in", "issuer_mismatch", "This "
		    "sign-in answer comes from another identity provider.");
		goto out;
	}
	if (strlen(state) != strlen(l.state) ||
	    !crypto_eq(state, l.state, strlen(l.state))) {
		r = refuse(rq, rs, 403, "sign-in", "state_mismatch", "This "
		    "sign-in answer does not belong to the sign-in this browser "
		    "started. Start again.");
		goto out;
	}
	r = oidc_redeem(app->oidc, code, l.verifier, l.nonce, &id, why,
	    sizeof(why));
	if (r == KW_ERR_UPSTREAM) {
		log_msg("warn", "sign-in: identity provider failed: %s", why);
		r = refuse(rq, rs, 502, "sign-in", "idp_unavailable", "The "
		    "identity provider cannot be reached or answered with "
		    "something keywarden cannot use. No session was opened; "
		    "try again in a few minutes.");
		goto out;
	}
	if (r != 0) {
		r = refuse(rq, rs, 403, "sign-in", why, "The identity "
		    "provider's answer could not be verified, so keywarden did "
		    "not sign you in. Start again.");
		goto out;
	}
	if ((r = person_of(rq, rs, &id, &p)) != 0) {
		r = 0;			/* the page says why */
		goto out;
	}
	if ((r = core_write_begin(app, &st)) != 0) {
		r = page(rs, 503, "Sign-in is unavailable", "keywarden cannot "
		    "record the session right now; try again shortly.");
		goto out;
	}
	r = core_write_end(app, sessions_open(app, st, &p, "oidc", json_pack(
	    "{s:s, s:s}", "issuer", app->cfg.oidc_issuer, "subject", id.sub),
	    rs, NULL));
	if (r != 0) {
		r = page(rs, 503, "Sign-in is unavailable", "keywarden cannot "
		    "record the session right now; try again shortly.");
		goto out;
	}
	if ((r = login_cookie(app, rs, "")) != 0 ||
	    (r = http_resp_header(rs, "Location", "%s", l.return_to)) != 0)
		goto out;
	rs->status = 302;
 out:
	kw_wipe(&l, sizeof(l));
	return r;
}
