/*
 * sessions.h — browser sessions: a cookie (kw_session) that stands for a
 * person, opened with a personal token (POST /v1/sessions) or by OpenID
 * Connect sign-in (api/auth.c), ended by sign-out, its absolute or idle
 * end, or offboarding.
 *
 * The cookie carries a random secret; the store keeps only its keyed hash
 * (crypto_session_hash, a subkey of its own).  The CSRF token is derived
 * from the secret under another subkey, so it is bound to that session
 * and never stored.  A state-changing request authenticated by the cookie
 * must echo it in X-CSRF-Token.
 */
#ifndef KW_API_SESSIONS_H
#define KW_API_SESSIONS_H

#include <time.h>

#include <jansson.h>

#include "api/api.h"

/* Authenticate rq by the session secret cookie into c (its keyed hash in
 * c->token_hash, has_session set) and record its activity; expired, idle
 * or unknown sessions and inactive people are 401 (the caller counts
 * them against the address's failure budget). */
int	 sessions_authenticate(struct http_req *rq, const char *cookie,
	    struct caller *c);
/* The session and person behind c->token_hash, as token_lookup does for
 * bearer tokens: through the authentication cache when st (this thread's
 * connection) is given, else read from the writer w inside its
 * transaction.  Its absolute and idle ends are checked either way. */
int	 sessions_lookup(struct http_req *rq, struct store *st,
	    struct store *w, struct caller *c);
/* A request authenticated by cookie that changes state must carry the
 * session's CSRF token: 0, or 403 (audited as auth.refused). */
int	 sessions_csrf(struct http_req *rq, const struct caller *c);
/* Write c's last use (token) or last activity (session) when the last
 * record is older than the bookkeeping interval (KW_TOUCH_S, or a
 * quarter of the idle timeout).  Best effort: a failure changes nothing
 * for the request. */
void	 sessions_touch(struct app *app, struct caller *c, time_t now);

/*
 * Open a session for p inside the caller's write transaction st, with
 * its auth.login audit event (details consumed: how the person proved
 * who they are).  On success the Set-Cookie header is on rs, and *answer
 * (may be NULL) gets {"person", "expires_at", "csrf_token"}.
 */
int	 sessions_open(struct app *app, struct store *st,
	    const struct person *p, const char *method, json_t *details,
	    struct http_resp *rs, json_t **answer);
/* Record a refused sign-in (auth.refused) by actor ("anonymous" when
 * unknown) about subject, with reason; best effort, in a transaction of
 * its own.  details (consumed, may be NULL) are added. */
void	 sessions_refused(struct app *app, const char *actor,
	    const char *subject, const char *reason, const char *remote,
	    json_t *details);
/* 1 if app's public URL is https (cookies get Secure). */
int	 sessions_secure(const struct app *app);

#endif /* KW_API_SESSIONS_H */
