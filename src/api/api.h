/*
 * api.h — the application behind the HTTP front end: its shared state,
 * the route table, authentication, and helpers every resource file
 * (people.c, instances.c, ...) uses.
 */
#ifndef KW_API_H
#define KW_API_H

#include <pthread.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "limits.h"
#include "http/http.h"
#include "core/app.h"
#include "store/store.h"

/* The authenticated caller, attached to a request by api_authorise. */
struct caller {
	struct person	 person;
	char		 token_id[KW_ID_MAX + 1];
	unsigned char	 token_hash[KW_HASH_LEN]; /* keyed hash of the token
						   or the session secret */
	int		 has_token;	/* a bearer token */
	int		 has_session;	/* a session cookie (neither: Slack) */
	int		 scim;		/* a SCIM token (token_id, token_hash;
					   the person is only the actor name
					   "scim:<token id>", no roles) */
	enum http_access access;	/* the route's level */
	/* a bound token: the one credential it may get access tokens for,
	 * and nothing else ("" for a personal token); bound_route says
	 * whether this request is that call */
	char		 bound_credential[KW_ID_MAX + 1];
	int		 bound_route;
	/* a browser session (cookie): its id and CSRF token ("" for a
	 * bearer token) */
	char		 session_id[KW_ID_MAX + 1];
	char		 csrf[KW_CSRF_LEN + 1];
	/* the session's absolute end, or the token's expiry ("" / 0: none) */
	char		 expires_at[KW_TIME_LEN + 1];
	time_t		 expires_s;
	/* the last use (token) or activity (session) on record; 0: never */
	time_t		 seen_s;
};

/* Prepare app for the HTTP front end: the core (core_app_init) and the
 * front doors' state (throttle, authentication cache, OpenID Connect,
 * trusted proxies, metrics token).  0 or a KW_ERR_* with a message in
 * err.  api_app_cleanup() after the HTTP server stopped. */
int	 api_app_init(struct app *app, const struct config *cfg, char *err,
	    size_t errsz);
void	 api_app_cleanup(struct app *app);

/* The route table. */
const struct http_route *api_routes(size_t *n);
/* The authorise hook for the HTTP server (authentication, throttling,
 * route access level), when the headers are in. */
int	 api_authorise(struct http_req *rq, const struct http_route *route);
/* The reauthorise hook, when the body is in and the handler is about to
 * run: the same checks against the store as it is now (the caller may
 * have been offboarded, their token revoked or their roles changed while
 * the body arrived); rq's caller is replaced by the fresh one.  Not
 * called for a request without a body (the check at the headers was
 * just made). */
int	 api_reauthorise(struct http_req *rq, const struct http_route *route);
/* A failed authentication err of the presented token tok (NULL if none
 * could be read), counted per address and token prefix: err, or 429
 * (message and Retry-After set) beyond the limit. */
int	 api_auth_failed(struct http_req *rq, const char *tok, int err);
/* Inside a write transaction on w, before anything changes: 0 if rq's
 * caller may still act as authorised (token live, person active, same
 * roles and teams), else the error with its message (401, 403, 409). */
int	 api_caller_current(struct http_req *rq, struct store *w);

/* This thread's store connection (core_store), or NULL. */
struct store *api_store(struct http_req *rq);
/* The actor (core/app.h) of rq's caller: their person, their door, and
 * the check that they may still act inside a write transaction. */
void	 api_actor(struct http_req *rq, struct actor *a);
/* The authenticated person of the request. */
const struct person *api_me(const struct http_req *rq);
/* The credential the caller's bound token is bound to, or NULL for a
 * personal token. */
const char *api_bound_credential(const struct http_req *rq);
/* 1 if the caller has one of the role bits. */
int	 api_has_role(const struct http_req *rq, unsigned roles);

/*
 * The caller's writes (core_tx_begin / core_tx_end with rq's actor and
 * rq->fail): *st is the writer, exclusively the caller's until
 * api_tx_end().  Inside the transaction, before anything is changed, the
 * caller is checked again on the writer (no cache): their token still
 * live and they still active (else KW_ERR_UNAUTHENTICATED), the route's
 * access level still theirs (KW_ERR_FORBIDDEN), their roles and teams
 * those the handler decided on (else KW_ERR_CONFLICT: send it again).
 * 0, or one of those / KW_ERR_UNAVAILABLE with the transaction already
 * ended (do not call api_tx_end then).  api_tx_end keeps the change when
 * r is 0 (else undoes it), waits until it is committed and returns r, or
 * KW_ERR_UNAVAILABLE; *st is then this thread's own connection.
 */
int	 api_tx_begin(struct http_req *rq, struct store **st);
int	 api_tx_end(struct http_req *rq, struct store **st, int r);
/* Append an audit event by the caller (inside a transaction; details
 * consumed); maps a failure to KW_ERR_UNAVAILABLE with a message. */
int	 api_audit(struct http_req *rq, struct store *st, const char *action,
	    const char *subject, json_t *details);
/* Map a store error to a client message for the object named what. */
int	 api_store_fail(struct http_req *rq, int r, const char *what,
	    const char *key);

/* A personal token's JSON (never its secret or hash). */
json_t	*api_token_json(const struct token_rec *t);


/* An RFC 3339 time as seconds, 0 for "" or an unreadable one. */
time_t	 api_time_or_zero(const char *s);

/* JSON shapes of the API. */
json_t	*api_person_json(const struct person *p);
json_t	*api_instance_json(const struct instance *in);
json_t	*api_request_json(const struct request *r);
json_t	*api_credential_json(const struct credential *c);
/* Add the request's "history" array to o. */
int	 api_request_history(struct store *st, const char *id, json_t *o);

/* {"items": items, "next_cursor": "<next>"|null}; items is consumed. */
json_t	*api_page(json_t *items, int64_t next);

/* Resource handlers (one file each). */
int	 api_healthz(struct http_req *, struct http_resp *);
int	 api_metrics(struct http_req *, struct http_resp *);
int	 api_me_get(struct http_req *, struct http_resp *);
int	 api_landing(struct http_req *, struct http_resp *);
int	 api_people_create(struct http_req *, struct http_resp *);
int	 api_people_list(struct http_req *, struct http_resp *);
int	 api_people_get(struct http_req *, struct http_resp *);
int	 api_people_patch(struct http_req *, struct http_resp *);
int	 api_people_token(struct http_req *, struct http_resp *);
int	 api_people_tokens(struct http_req *, struct http_resp *);
int	 api_people_token_revoke(struct http_req *, struct http_resp *);
int	 api_people_offboard(struct http_req *, struct http_resp *);
int	 api_instances_create(struct http_req *, struct http_resp *);
int	 api_instances_list(struct http_req *, struct http_resp *);
int	 api_instances_get(struct http_req *, struct http_resp *);
int	 api_instances_patch(struct http_req *, struct http_resp *);
int	 api_requests_create(struct http_req *, struct http_resp *);
int	 api_requests_list(struct http_req *, struct http_resp *);
int	 api_requests_get(struct http_req *, struct http_resp *);
int	 api_requests_approve(struct http_req *, struct http_resp *);
int	 api_requests_deny(struct http_req *, struct http_resp *);
int	 api_requests_withdraw(struct http_req *, struct http_resp *);
int	 api_requests_fulfil(struct http_req *, struct http_resp *);
int	 api_credentials_create(struct http_req *, struct http_resp *);
int	 api_credentials_list(struct http_req *, struct http_resp *);
int	 api_credentials_get(struct http_req *, struct http_resp *);
int	 api_credentials_reveal(struct http_req *, struct http_resp *);
int	 api_credentials_revoke(struct http_req *, struct http_resp *);
int	 api_credentials_rotate(struct http_req *, struct http_resp *);
int	 api_credentials_link(struct http_req *, struct http_resp *);
int	 api_credentials_access_token(struct http_req *, struct http_resp *);
int	 api_bound_tokens_create(struct http_req *, struct http_resp *);
int	 api_bound_tokens_list(struct http_req *, struct http_resp *);
int	 api_bound_tokens_delete(struct http_req *, struct http_resp *);
int	 api_instances_sync(struct http_req *, struct http_resp *);
int	 api_reports_migration(struct http_req *, struct http_resp *);
int	 api_settings_slack_put(struct http_req *, struct http_resp *);
int	 api_settings_slack_get(struct http_req *, struct http_resp *);
int	 api_settings_email_put(struct http_req *, struct http_resp *);
int	 api_settings_email_get(struct http_req *, struct http_resp *);
int	 api_slack_interactions(struct http_req *, struct http_resp *);
int	 api_audit_list(struct http_req *, struct http_resp *);
int	 api_sessions_create(struct http_req *, struct http_resp *);
int	 api_sessions_current(struct http_req *, struct http_resp *);
int	 api_sessions_end(struct http_req *, struct http_resp *);
int	 api_auth_login(struct http_req *, struct http_resp *);
int	 api_auth_callback(struct http_req *, struct http_resp *);
int	 api_audit_verify(struct http_req *, struct http_resp *);

/* SCIM (scim.c): the dialect of /scim/v2 (application/scim+json, SCIM
 * errors) for the HTTP server, their authentication by a SCIM
 * token, its administration, and the resources. */
const struct http_dialect *api_dialect(const char *path);
int	 api_scim_authorise(struct http_req *rq);
/* 0 if rq's SCIM token still exists in st (read inside a transaction or
 * before the handler), else 401 with the message set. */
int	 api_scim_current(struct http_req *rq, struct store *st);
int	 api_scim_tokens_create(struct http_req *, struct http_resp *);
int	 api_scim_tokens_list(struct http_req *, struct http_resp *);
int	 api_scim_tokens_delete(struct http_req *, struct http_resp *);
int	 api_scim_users_create(struct http_req *, struct http_resp *);
int	 api_scim_users_list(struct http_req *, struct http_resp *);
int	 api_scim_users_get(struct http_req *, struct http_resp *);
int	 api_scim_users_put(struct http_req *, struct http_resp *);
int	 api_scim_users_patch(struct http_req *, struct http_resp *);
int	 api_scim_users_delete(struct http_req *, struct http_resp *);
int	 api_scim_spc(struct http_req *, struct http_resp *);
int	 api_scim_resource_types(struct http_req *, struct http_resp *);
int	 api_scim_resource_type(struct http_req *, struct http_resp *);
int	 api_scim_schemas(struct http_req *, struct http_resp *);
int	 api_scim_schema(struct http_req *, struct http_resp *);

#endif /* KW_API_H */
