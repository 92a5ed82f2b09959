/*
 * limits.h — every input limit in one place.  Each is enforced where the
 * input is parsed and produces its own clear error.
 */
#ifndef KW_LIMITS_H
#define KW_LIMITS_H

/* HTTP */
#define KW_BODY_MAX		(64 * 1024)	/* request body, bytes */
#define KW_URL_PATH_MAX		1024		/* request path, bytes */
#define KW_JSON_DEPTH_MAX	16		/* nesting of request bodies */
#define KW_PATH_PARAMS_MAX	4		/* {x} segments in a route */
#define KW_LIST_LIMIT_DEFAULT	50		/* ?limit= default */
#define KW_LIST_LIMIT_MAX	500		/* ?limit= maximum */
#define KW_CONN_LIMIT		1024		/* concurrent connections */
#define KW_CONN_TIMEOUT_S	30		/* idle connection timeout */
#define KW_BODY_DEADLINE_S	10		/* a request body must be in
						   within this of its headers */
#define KW_CONN_MEMORY		(8 * 1024)	/* per connection: request
						   line and headers */
#define KW_RESPONSE_MAX		(8 * 1024 * 1024) /* client: response cap */
#define KW_RESP_HEADERS_MAX	4		/* extra headers an answer adds
						   (the sign-in callback: 2
						   Set-Cookie, Location) */
#define KW_RESP_HEADER_NAME_MAX	40		/* bytes, with the NUL */
#define KW_RESP_HEADER_VALUE_MAX (2 * KW_URL_MAX + 64)	/* bytes, with the
						   NUL: a sign-in redirect */

/* Authentication throttling: failures per address per window. */
#define KW_AUTH_FAIL_LIMIT	20
#define KW_AUTH_FAIL_WINDOW_S	60
#define KW_AUTH_TRACK_SLOTS	1024		/* addresses tracked at once */
#define KW_AUTH_CACHE_TTL_MS	1000		/* an authentication is reused */
#define KW_AUTH_PREFIX_LEN	16		/* token bytes that key the
						   per-token failure count */

/* Operations: metrics, TLS, proxies */
#define KW_METRICS_ROUTES_MAX	96		/* routes with their own series */
#define KW_METRICS_INSTANCES_MAX 64		/* instances with their own
						   series; the rest: "other" */
#define KW_METRICS_JOBS_MAX	8		/* background jobs */
#define KW_METRICS_BODY_MAX	(4 * 1024 * 1024) /* the /metrics page */
#define KW_METRICS_TOKEN_MAX	256		/* metrics_token_file bytes */
#define KW_TLS_FILE_MAX		(256 * 1024)	/* a PEM certificate or key */
#define KW_PROXIES_MAX		32		/* trusted_proxies entries */
#define KW_PROXIES_TEXT_MAX	1024		/* trusted_proxies, bytes */
#define KW_STORE_URL_MAX	1024		/* store: sqlite or a libpq URI */
#define KW_JOBS_WAIT_S		60		/* jobs run waits for another
						   node's run this long */
#define KW_FORWARDED_HOPS_MAX	16		/* X-Forwarded-For hops read */

/* Fields (characters/bytes of UTF-8) */
#define KW_ID_MAX		40
#define KW_EMAIL_MAX		254
#define KW_NAME_MAX		200
#define KW_TEAM_MAX		64
#define KW_TEAMS_MAX		32		/* teams per person */
#define KW_ROLES_MAX		8		/* roles listed per person */
#define KW_SLACK_ID_MAX		32
#define KW_INSTANCE_NAME_MAX	64
#define KW_DISPLAY_NAME_MAX	200
#define KW_URL_MAX		2048
#define KW_PROVIDER_MAX		32
#define KW_PROVISIONERS_MAX	32		/* provisioners per instance */
#define KW_SCOPE_MAX		64
#define KW_SCOPES_MAX		32		/* scopes per instance/request */
#define KW_BOT_TOKEN_MAX	1024		/* instance bot credential */
#define KW_LIFETIME_DAYS_MAX	3650
#define KW_TIME_LEN		20		/* "2026-11-28T09:00:00Z" */
#define KW_CLIENT_IDENT_MAX	128		/* an OAuth client identifier */
#define KW_LABEL_MAX		200		/* a bound token's label */

/* Requests and credentials */
#define KW_TEXT_MAX		4000		/* justification, use case */
#define KW_COMMENT_MAX		2000		/* decision comments, reasons */
#define KW_REDIRECT_URIS_MAX	8		/* per integration */
#define KW_EXTERNAL_ID_MAX	64		/* id on the instance */
#define KW_SCIM_EXTERNAL_ID_MAX	256		/* a person's id at the IdP */
#define KW_SCIM_LABEL_MAX	100		/* a SCIM token's label */
#define KW_SCIM_FILTER_MAX	512		/* ?filter= text, bytes */
#define KW_SCIM_COUNT_MAX	200		/* ?count= maximum (maxResults) */
#define KW_SCIM_OPS_MAX		64		/* operations in one PATCH */
#define KW_SCIM_EMAILS_MAX	16		/* emails[] entries looked at */
#define KW_SCIM_USED_EVERY_S	60		/* last_used_at refreshed at most */
#define KW_EXTERNAL_JSON_MAX	1024		/* instance ids, as JSON */
#define KW_SECRET_MAX		4096		/* a credential's secret */
#define KW_HISTORY_MAX		256		/* entries kept per request */
#define KW_REQUEST_TTL_DAYS	14		/* pending requests expire */
#define KW_DELIVERY_WINDOW_S	(24 * 3600)	/* secret must be revealed */
#define KW_LIST_SCAN_MAX	5000		/* rows examined per list call */
#define KW_WARN_THRESHOLDS_MAX	8		/* expiry warnings per instance */
#define LEGACY_TOKENS_MAX	4096		/* legacy tokens read per sync
						   (at least any provider's
						   legacy_listed_max) */
#define LEGACY_OAUTH_MAX	65536		/* keywarden tokens matched per
						   sync */

#define KW_AUDIT_RECORD_MAX	(256 * 1024)	/* one serialised audit event */
#define KW_AUDIT_VERIFY_THREADS	4		/* readers of one verify, at
						   most (one per core) */
#define KW_AUDIT_VERIFY_RANGE_MIN 16384		/* events per reader, at
						   least */

/* The broker: access tokens dispensed for broker credentials */
#define KW_ACCESS_TTL_DEFAULT	1800		/* seconds, when not asked */
/* within every provider's access_ttl_min and _max (provider.h) */
#define KW_ACCESS_TTL_MIN	300		/* seconds */
#define KW_ACCESS_TTL_MAX	172800		/* 48 h */
#define KW_ACCESS_TTL_INSTANCE	3600		/* instance default ceiling */
#define KW_BOUND_TOKENS_MAX	64		/* live per credential */
#define KW_BOT_RENEW_MARGIN_S	120		/* renew the bot's token this
						   long before it expires */
#define KW_ACCESS_TOKEN_MAX	2048		/* a dispensed access token */

/* Secrets */
#define KW_MASTER_KEY_LEN	32
#define KW_TOKEN_RAW_LEN	32		/* random bytes in a personal token */
#define KW_TOKEN_PREFIX		"kw_"
#define KW_TOKEN_STR_MAX	128		/* longest token accepted */
#define KW_HASH_LEN		32
#define KW_HASH_HEX_LEN		(2 * KW_HASH_LEN)	/* a SHA-256 in hex, without
						 * the NUL (audit hashes) */
#define KW_SEAL_OVERHEAD	(24 + 16)	/* nonce + tag */
#define KW_SEALED_MAX		(KW_BOT_TOKEN_MAX + KW_SEAL_OVERHEAD)
#define KW_SEALED_SECRET_MAX	(KW_SECRET_MAX + 256 + KW_SEAL_OVERHEAD)

/* Personal tokens and sessions */
#define KW_TOKEN_LABEL_MAX	100		/* a personal token's label */
#define KW_TOKEN_DAYS_DEFAULT	90		/* expires_in_days default */
#define KW_TOKEN_DAYS_MAX	365		/* expires_in_days at most */
#define KW_TOKEN_WARN_DAYS	7		/* owner warned before expiry */
#define KW_TOUCH_S		60		/* last_used / last_seen written
						   at most this often */
#define KW_SESSION_PREFIX	"kws_"		/* session cookie value */
#define KW_SESSION_COOKIE	"kw_session"
#define KW_CSRF_LEN		43		/* base64url of 32 bytes */
#define KW_SESSION_MAX_AGE_S	43200		/* 12 h absolute */
#define KW_SESSION_IDLE_S	3600		/* 1 h idle */

/* OpenID Connect sign-in */
#define KW_OIDC_LOGIN_TTL_S	600		/* /auth/login to /auth/callback */
#define KW_OIDC_COOKIE		"kw_oidc"	/* the sealed login state */
#define KW_OIDC_RETURN_MAX	512		/* return_to path, bytes */
#define KW_OIDC_SKEW_S		60		/* iat/exp clock skew */
#define KW_OIDC_SCOPES_MAX	256		/* scopes setting, bytes */
#define KW_OIDC_DOMAINS_MAX	512		/* allowed_email_domains */
#define KW_OIDC_SECRET_MAX	512		/* client secret, bytes */
#define KW_OIDC_DOC_MAX		(256 * 1024)	/* discovery, JWKS, token answer */
#define KW_OIDC_KEYS_MAX	32		/* keys kept from a JWKS */
#define KW_OIDC_JWKS_REFRESH_S	1		/* unknown kid: JWKS refetched at
						   most once a second */
#define KW_OIDC_DISCOVERY_TTL_S	3600		/* discovery document reused */
#define KW_OIDC_TOKEN_MAX	16384		/* an ID token, bytes */
#define KW_OIDC_CODE_MAX	2048		/* authorization code, bytes */

/* An approval whose issuance another thread or node took over (the
 * reconciliation pass) waits this long for its outcome, looking every
 * KW_ISSUANCE_POLL_MS. */
#define KW_ISSUANCE_WAIT_S	30
#define KW_ISSUANCE_POLL_MS	50

/* Configuration */
#define KW_PATH_MAX		1024
#define KW_THREADS_MAX		64
/* Threads that run the handlers which may wait (routes marked WAITS,
 * `callout_workers`: those that call another service, and every write,
 * which waits for its group's durable commit): as many such requests
 * wait at once, and as many writes share one commit; more queue for a
 * free worker (never holding up other routes). */
#define KW_CALLOUT_WORKERS	16
#define KW_CALLOUT_WORKERS_MAX	64
/* Requests waiting for a free worker, per worker, at most: beyond, a
 * request that would wait is answered 503 with Retry-After at once
 * (load shed before it holds a connection for long). */
#define KW_CALLOUT_QUEUE_PER_WORKER 16

#endif /* KW_LIMITS_H */
