/*
 * zsim.h — the Zendesk simulator's internals: the state it holds, the
 * endpoint table's types and the helpers its files share.
 *
 *   zsim_main.c     arguments, signals, the listening line
 *   zsim_http.c     endpoint table, dispatch (faults, authentication,
 *                   scopes), Zendesk error shapes, cursor pagination
 *   zsim_store.c    the records, their indexes, the clock, the timeline
 *   zsim_oauth.c    /api/v2/oauth/clients, /api/v2/oauth/tokens, grants
 *   zsim_support.c  users/me, tickets, legacy /api/v2/api_tokens
 *   zsim_control.c  the /_sim/ control plane for tests
 *   zsim_util.c     base64, secrets, text checks
 *
 * All state lives in one struct zsim guarded by one mutex (sim->mu).
 * Functions named zsim_store_* expect the caller to hold it.  The
 * simulator keeps no secret it hands out: only SHA-256 digests of
 * tokens and client secrets, plus the short prefixes Zendesk shows.
 */
#ifndef ZSIM_H
#define ZSIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "limits.h"
#include "http/http.h"

/* Limits: memory is bounded whatever the tests or benchmark send. */
#define ZSIM_ADMINS_MAX		64
#define ZSIM_CLIENTS_MAX	100000
#define ZSIM_TOKENS_MAX		100000
#define ZSIM_LEGACY_MAX		256	/* Zendesk's per-account maximum */
#define ZSIM_TICKETS_MAX	10000
#define ZSIM_FAULTS_MAX		64
#define ZSIM_TEXT_MAX		255	/* characters in names, descriptions */
#define ZSIM_TEXT_BYTES		(4 * ZSIM_TEXT_MAX + 1)
#define ZSIM_URI_MAX		2048	/* characters in a URL field */
#define ZSIM_REDIRECTS_MAX	32
#define ZSIM_SCOPES_MAX		32
#define ZSIM_SCOPE_LEN_MAX	64
#define ZSIM_PAGE_DEFAULT	100
#define ZSIM_PAGE_MAX		100
#define ZSIM_HANG_MAX_MS	60000
#define ZSIM_RETRY_AFTER_MAX	86400
#define ZSIM_FAULT_COUNT_MAX	1000000
#define ZSIM_SECRET_LEN		64	/* hex characters of minted secrets */
#define ZSIM_LEGACY_LEN		40	/* characters of a legacy API token */
#define ZSIM_TOKEN_SHOWN	10	/* characters of a token Zendesk shows */
#define ZSIM_SECRET_SHOWN	6	/* characters of a client secret shown */
#define ZSIM_LEGACY_SHOWN	4	/* last characters of a legacy token */
#define ZSIM_TOKEN_BUCKETS	65536	/* hash index of minted tokens */
#define ZSIM_CLIENT_BUCKETS	65536	/* hash index of client identifiers */
#define ZSIM_THREADS_DEFAULT	16
#define ZSIM_GRANT_TTL_DEFAULT	1800	/* s; access tokens, enforced default */
#define ZSIM_GRANT_TTL_MIN	300
#define ZSIM_GRANT_TTL_MAX	172800
#define ZSIM_REFRESH_TTL_DEFAULT (30 * 86400)	/* s; refresh tokens */
#define ZSIM_REFRESH_TTL_MIN	(7 * 86400)
#define ZSIM_REFRESH_TTL_MAX	(90 * 86400)
#define ZSIM_RATE_LIMIT_DEFAULT	100000000	/* calls a minute: never hit
						   by tests or the benchmark */
#define ZSIM_RATE_LIMIT_MAX	1000000000
#define ZSIM_RATE_WINDOW_S	60
#define ZSIM_GRANT_STATUS_DEFAULT 201	/* what Zendesk's reference lists */
#define ZSIM_TICKETS_SEED_MAX	1000	/* tickets one control call seeds */
#define ZSIM_FORM_VALUE_MAX	2048	/* bytes of one grant form field */
#define ZSIM_PATTERN_MAX	96	/* bytes of a route pattern + .json */
#define ZSIM_LEGACY_IDLE_S	(30 * 86400)	/* unused this long: off */
#define ZSIM_LEGACY_PURGE_S	(60 * 86400)	/* deleted after deactivation */

/* The legacy API token timeline (ZENDESK.md), by the simulator's clock. */
#define ZSIM_LEGACY_IDLE_FROM	"2026-07-28T00:00:00Z"
#define ZSIM_LEGACY_CREATE_UNTIL "2026-10-27T00:00:00Z"
#define ZSIM_LEGACY_OFF_AT	"2027-04-30T00:00:00Z"
/* Local OAuth clients created from then on get enforced token TTLs. */
#define ZSIM_TTL_ENFORCED_FROM	"2026-04-30T00:00:00Z"

/* First ids; distinct ranges make a client id passed as a token id (or
 * the reverse) a 404 rather than a silent match. */
#define ZSIM_FIRST_USER_ID	1000001
#define ZSIM_FIRST_CLIENT_ID	360001
#define ZSIM_FIRST_TOKEN_ID	7200001
#define ZSIM_FIRST_ADMIN_TOKEN_ID 7100001	/* admin tokens' records */
#define ZSIM_FIRST_LEGACY_ID	900001
#define ZSIM_FIRST_TICKET_ID	1

/* Every record kept in a struct zsim_vec begins with its id. */
struct zsim_vec {
	void		**v;		/* sorted by id, ascending */
	size_t		  n;
	size_t		  cap;
};

struct zsim_admin {
	char		 hash[65];	/* SHA-256 of the bearer token */
	char		 shown[ZSIM_TOKEN_SHOWN + 1];	/* its first characters */
	char		 email[KW_EMAIL_MAX + 1];
	int64_t		 user_id;
	time_t		 created_at;
};

struct zsim_client {
	int64_t		 id;		/* first: see struct zsim_vec */
	int64_t		 user_id;
	json_t		*attrs;		/* name identifier kind redirect_uri
					   description company logo_url */
	char		 secret_hash[65];
	char		 secret_shown[ZSIM_SECRET_SHOWN + 4];	/* "abcdef..." */
	time_t		 created_at;
	time_t		 updated_at;
	int		 hidden;	/* left out of listings (tests) */
	struct zsim_client *next;	/* identifier bucket chain */
};

/* Times of 0 stand for JSON null. */
struct zsim_token {
	int64_t		 id;		/* first: see struct zsim_vec */
	int64_t		 client_id;
	int64_t		 user_id;
	char		 hash[65];
	char		 shown[ZSIM_TOKEN_SHOWN + 1];
	json_t		*scopes;	/* array of strings, as created */
	int		 scopes_valid;	/* 0: every call gets 403 */
	int		 granted;	/* by the client_credentials grant */
	time_t		 created_at;
	time_t		 expires_at;
	time_t		 used_at;
	int		 has_refresh;	/* issued with a refresh token */
	char		 refresh_hash[65];
	char		 refresh_shown[ZSIM_TOKEN_SHOWN + 1];
	time_t		 refresh_expires_at;
	struct zsim_token *next;	/* bucket chain */
};

struct zsim_legacy {
	int64_t		 id;
	int64_t		 user_id;	/* 0: null */
	char		 description[ZSIM_TEXT_BYTES];
	char		 hash[65];
	char		 shown[ZSIM_LEGACY_SHOWN + 1];
	time_t		 created_at;
	time_t		 updated_at;
	time_t		 last_used;
};

struct zsim_fault {
	int64_t		 id;
	int		 status;	/* 0: only hang */
	int		 count;		/* calls still to fail */
	int		 retry_after;
	int		 hang_ms;
	char		 path_prefix[256];
	char		 method[8];	/* "" = any */
};

struct zsim {
	pthread_mutex_t		 mu;
	char			 base_url[300];	/* http://127.0.0.1:PORT */
	atomic_int		 stopping;

	/* clock: real time unless set, then frozen until set again */
	int			 frozen;
	time_t			 fixed_now;
	time_t			 legacy_idle_from;
	time_t			 legacy_create_until;
	time_t			 legacy_off_at;
	time_t			 ttl_enforced_from;

	struct zsim_admin	 admins[ZSIM_ADMINS_MAX];
	size_t			 nadmins;
	struct zsim_vec		 clients;	/* struct zsim_client * */
	struct zsim_vec		 tokens;	/* struct zsim_token * */
	struct zsim_token	**buckets;	/* ZSIM_TOKEN_BUCKETS chains */
	struct zsim_client	**id_buckets;	/* ZSIM_CLIENT_BUCKETS chains */
	struct zsim_legacy	 legacy[ZSIM_LEGACY_MAX];
	size_t			 nlegacy;
	json_t			*tickets;	/* array of ticket objects */
	struct zsim_fault	 faults[ZSIM_FAULTS_MAX];
	size_t			 nfaults;
	int			 token_expires_in; /* s; 0 = never (default) */
	int			 grant_status;	/* 201 (Zendesk's reference)
					   or 200 */
	int			 new_client_tokens_expire; /* POST
					   /api/v2/oauth/tokens for clients
					   with enforced TTLs sets expires_at */

	/* the per-minute account rate limit (real time, fixed windows) */
	int			 rate_limit;
	uint64_t		 rate_window;	/* minute number of the count */
	int			 rate_count;

	int64_t			 next_user_id;
	int64_t			 next_client_id;
	int64_t			 next_token_id;
	int64_t			 next_legacy_id;
	int64_t			 next_ticket_id;
	int64_t			 next_fault_id;

	uint64_t		 requests;	/* Zendesk API calls served */
	uint64_t		*ep_requests;	/* per endpoint, same order */
};

/* ---- the endpoint table (zsim_http.c) ---- */

enum zsim_who {
	WHO_CONTROL,	/* /_sim/: no auth, no faults, not counted */
	WHO_OPEN,	/* counted, faults apply, no auth (grants, 404s) */
	WHO_ANY,	/* any valid credential, subject to scopes */
	WHO_ADMIN,	/* configured admin tokens and legacy API tokens */
};

enum zsim_rw { RW_NONE, RW_READ, RW_WRITE };

enum zsim_caller_kind { CALLER_NONE, CALLER_ADMIN, CALLER_OAUTH,
	CALLER_LEGACY };

/* One call being served: what a handler reads and fills. */
struct zsim_call {
	struct zsim		*sim;
	struct http_req		*rq;
	struct http_resp	*rs;
	enum zsim_caller_kind	 kind;
	int64_t			 user_id;	/* the authenticated user */
	int64_t			 token_id;	/* CALLER_OAUTH: its token */
};

typedef void (*zsim_fn)(struct zsim_call *c);

struct zsim_endpoint {
	const char	*method;
	const char	*pattern;
	enum zsim_who	 who;
	const char	*resource;	/* scope resource, or NULL */
	enum zsim_rw	 rw;
	zsim_fn		 fn;
};

/* The route table for http_server_start (built once; static storage). */
const struct http_route *zsim_routes(size_t *n);
/* The authorise hook: remembers which endpoint a call is for. */
int	 zsim_authorise(struct http_req *rq, const struct http_route *route);
/* Number of endpoints and the name ("GET /api/v2/...") of endpoint i. */
size_t	 zsim_endpoint_count(void);
const char *zsim_endpoint_name(size_t i);

/* ---- answers (zsim_http.c); each sets c->rs, the body is owned ---- */

void	 zsim_reply(struct zsim_call *c, int status, json_t *body);
/* {"error": error, "description": description} */
void	 zsim_error(struct zsim_call *c, int status, const char *error,
	    const char *description);
void	 zsim_not_found(struct zsim_call *c);
void	 zsim_forbidden(struct zsim_call *c, const char *description);
/* 422 RecordInvalid with details (consumed). */
void	 zsim_invalid(struct zsim_call *c, json_t *details);
/* Add {"description","error"} under field in a details object. */
void	 zsim_detail(json_t *details, const char *field, const char *error,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The body's object under key, or NULL after answering 400
 * ParameterMissing. */
json_t	*zsim_wrapper(struct zsim_call *c, const char *key);
/* A plain-text answer (Zendesk's 429 body); text is copied. */
void	 zsim_reply_text(struct zsim_call *c, int status, const char *text);
/* Parse an id path parameter ("123" or "123.json"); -1 if malformed. */
int64_t	 zsim_param_id(const struct zsim_call *c, size_t i);

/* ---- cursor pagination (zsim_http.c) ---- */

struct zsim_page {
	size_t		 size;
	int64_t		 after;		/* items with a larger id */
};

/* Read page[size] / page[after]; 0, or -1 after answering 400. */
int	 zsim_page_parse(struct zsim_call *c, struct zsim_page *pg);
/* Add "meta" and "links" to body for a page whose last item has
 * last_id (0 when the page is empty); keep names query parameters
 * (NULL-terminated) carried into links.next. */
void	 zsim_page_finish(struct zsim_call *c, json_t *body,
	    const struct zsim_page *pg, int64_t last_id, int has_more,
	    const char *const *keep);

/* ---- state (zsim_store.c); zsim_store_* need sim->mu held ---- */

int	 zsim_init(struct zsim *sim, const char *base_url);
void	 zsim_free(struct zsim *sim);
void	 zsim_lock(struct zsim *sim);
void	 zsim_unlock(struct zsim *sim);
/* Drop clients, tokens, legacy tokens, tickets, faults and counters;
 * keep admins, the clock and the id counters. */
void	 zsim_store_reset(struct zsim *sim);

time_t	 zsim_store_now(const struct zsim *sim);
void	 zsim_store_set_now(struct zsim *sim, time_t t);	/* freezes */
void	 zsim_store_real_time(struct zsim *sim);

/* Add an admin; its user id in *user_id.  KW_ERR_CONFLICT if the token
 * or the email is already an admin's, KW_ERR_TOO_LARGE when full. */
int	 zsim_store_admin_add(struct zsim *sim, const char *token,
	    const char *email, int64_t *user_id);
const struct zsim_admin *zsim_store_admin_by_token(const struct zsim *sim,
	    const char *hash);
const struct zsim_admin *zsim_store_admin_by_email(const struct zsim *sim,
	    const char *email);
const struct zsim_admin *zsim_store_admin_by_id(const struct zsim *sim,
	    int64_t user_id);

/* Sorted vectors of records that begin with their id. */
void	*zsim_vec_find(const struct zsim_vec *v, int64_t id);
/* Index of the first record with an id > after. */
size_t	 zsim_vec_after(const struct zsim_vec *v, int64_t after);
int	 zsim_vec_push(struct zsim_vec *v, void *rec);
void	*zsim_vec_remove(struct zsim_vec *v, int64_t id);

/* Store a new client (ownership passes to the store). */
int	 zsim_store_client_add(struct zsim *sim, struct zsim_client *cl);
/* Apply validated attributes to a stored client (keeps the index). */
void	 zsim_store_client_update(struct zsim *sim, struct zsim_client *cl,
	    json_t *attrs);
struct zsim_client *zsim_store_client_by_identifier(const struct zsim *sim,
	    const char *identifier);
void	 zsim_client_free(struct zsim_client *cl);
/* Delete a client and all its tokens. */
void	 zsim_store_client_delete(struct zsim *sim, int64_t id);

/* Index a new token (ownership passes to the store). */
int	 zsim_store_token_add(struct zsim *sim, struct zsim_token *t);
struct zsim_token *zsim_store_token_by_hash(const struct zsim *sim,
	    const char *hash);
void	 zsim_store_token_delete(struct zsim *sim, int64_t id);
/* Drop the tokens that can no longer be used (expired, no live refresh
 * token); how many went. */
size_t	 zsim_store_token_sweep(struct zsim *sim);
void	 zsim_token_free(struct zsim_token *t);

/* Legacy tokens: remove those deleted by the timeline, then report. */
void	 zsim_store_legacy_sweep(struct zsim *sim);
/* 1 if the legacy token is active now; *deactivated_at is set (else 0). */
int	 zsim_legacy_active(const struct zsim *sim,
	    const struct zsim_legacy *l, time_t *deactivated_at);
struct zsim_legacy *zsim_store_legacy_add(struct zsim *sim,
	    const char *description, int64_t user_id, time_t created_at,
	    time_t last_used, char *token, size_t tokensz);

/* 1 if tokens of cl get the enforced TTL defaults (created on or after
 * ZSIM_TTL_ENFORCED_FROM). */
int	 zsim_store_client_enforced(const struct zsim *sim,
	    const struct zsim_client *cl);
/* The token whose refresh token has digest hash, or NULL. */
struct zsim_token *zsim_store_token_by_refresh(const struct zsim *sim,
	    const char *hash);
/* Store a ticket; NULL when full or out of memory.  The result is
 * borrowed from the store. */
json_t	*zsim_store_ticket_add(struct zsim *sim, const char *subject,
	    int64_t requester_id);

/* Take the first pending fault matching method and path (count--);
 * 1 and *out filled when one matched. */
int	 zsim_store_fault_take(struct zsim *sim, const char *method,
	    const char *path, struct zsim_fault *out);

/* ---- rendering (zsim_oauth.c, zsim_support.c) ---- */

/* JSON for a client with "secret": secret (the full one after create
 * and generate_secret, else cl->secret_shown); NULL leaves it out. */
json_t	*zsim_client_json(const struct zsim *sim,
	    const struct zsim_client *cl, const char *secret);
/* JSON for a token; full_token is added only when non-NULL. */
json_t	*zsim_token_json(const struct zsim *sim, const struct zsim_token *t,
	    const char *full_token);
json_t	*zsim_legacy_json(const struct zsim *sim,
	    const struct zsim_legacy *l);
/* 1 if s is a scope Zendesk knows. */
int	 zsim_scope_valid(const char *s);
/* 1 if scopes grant resource:rw. */
int	 zsim_scopes_allow(const json_t *scopes, const char *resource,
	    enum zsim_rw rw);

/* ---- handlers ---- */

void	 zsim_clients_list(struct zsim_call *c);
void	 zsim_clients_create(struct zsim_call *c);
void	 zsim_clients_show(struct zsim_call *c);
void	 zsim_clients_update(struct zsim_call *c);
void	 zsim_clients_generate_secret(struct zsim_call *c);
void	 zsim_clients_delete(struct zsim_call *c);
void	 zsim_tokens_list(struct zsim_call *c);
void	 zsim_tokens_create(struct zsim_call *c);
void	 zsim_tokens_show(struct zsim_call *c);
void	 zsim_tokens_delete(struct zsim_call *c);
void	 zsim_grant(struct zsim_call *c);
void	 zsim_tokens_current(struct zsim_call *c);
void	 zsim_users_me(struct zsim_call *c);
void	 zsim_tickets_list(struct zsim_call *c);
void	 zsim_tickets_create(struct zsim_call *c);
void	 zsim_api_tokens_list(struct zsim_call *c);
void	 zsim_api_tokens_create(struct zsim_call *c);
void	 zsim_unknown_endpoint(struct zsim_call *c);

void	 zsim_ctl_clock_get(struct zsim_call *c);
void	 zsim_ctl_clock_set(struct zsim_call *c);
void	 zsim_ctl_admins_add(struct zsim_call *c);
void	 zsim_ctl_faults_list(struct zsim_call *c);
void	 zsim_ctl_faults_add(struct zsim_call *c);
void	 zsim_ctl_faults_clear(struct zsim_call *c);
void	 zsim_ctl_legacy_add(struct zsim_call *c);
void	 zsim_ctl_options(struct zsim_call *c);
void	 zsim_ctl_tickets_seed(struct zsim_call *c);
void	 zsim_ctl_authorize(struct zsim_call *c);
void	 zsim_ctl_client_hidden(struct zsim_call *c);
void	 zsim_ctl_state(struct zsim_call *c);
void	 zsim_ctl_stats(struct zsim_call *c);
void	 zsim_ctl_reset(struct zsim_call *c);

/* ---- utilities (zsim_util.c) ---- */

/* A fresh random secret of len lowercase hex characters (len < outsz). */
void	 zsim_secret_new(char *out, size_t outsz, size_t len);
/* SHA-256 of s as 64 hex characters into out[65]. */
void	 zsim_hash(const char *s, char out[65]);
/* 1 if the two digests are equal (constant time). */
int	 zsim_hash_eq(const char a[65], const char b[65]);
/* Number of characters (UTF-8 code points) in s. */
size_t	 zsim_chars(const char *s);
/* Base64 (standard or URL alphabet, padding optional) decode of s into
 * out (NUL-terminated); -1 if malformed or too long. */
int	 zsim_b64_decode(const char *s, char *out, size_t outsz);
/* Base64url without padding of the n bytes at p into out. */
void	 zsim_b64url_encode(const void *p, size_t n, char *out, size_t outsz);
/* Format t as RFC 3339, or JSON null when t is 0. */
json_t	*zsim_time_json(time_t t);
/* The OAuth grant fields of an application/x-www-form-urlencoded body
 * as a JSON object of strings; NULL if one is malformed (a bad escape,
 * %00, not UTF-8) or too long. */
json_t	*zsim_form_parse(const char *raw, size_t len);
/* Parse a JSON RFC 3339 string; 0, or -1 when not one. */
int	 zsim_time_from_json(const json_t *v, time_t *out);

#endif /* ZSIM_H */
