/*
 * provider.h — what keywarden needs from a SaaS instance, one table of
 * functions per SaaS (zendesk.c first), chosen by the instance's
 * "provider".  Every call goes through net/ (TLS on, timeouts, size cap,
 * no redirects) as the instance's Integration bot, and retries on its
 * own: 429 after Retry-After, 5xx and timeouts with bounded exponential
 * backoff; 4xx fail at once.
 */
#ifndef KW_PROVIDER_H
#define KW_PROVIDER_H

#include <stddef.h>

#include "limits.h"
#include "store/store.h"

#define PROVIDER_ID_MAX		32	/* an instance-side id, as text */
#define PROVIDER_IDENT_MAX	128	/* an OAuth client identifier */
#define PROVIDER_MSG_MAX	256

/* Where to call and as whom; everything borrowed. */
struct provider_target {
	const char	*base_url;	/* the instance URL, no trailing / */
	const char	*bot_token;	/* the Integration bot's access token */
	long		 timeout_ms;	/* per attempt */
	int		 attempts;	/* total tries of one call */
	int		 retry_wait_max_s; /* longest single wait honoured */
	/* When the instance calls bot_token invalid (401 invalid_token):
	 * renew it in place (bot_token's buffer), once per call; 0 or a
	 * KW_ERR_*.  NULL: no renewal. */
	int		(*renew)(void *renew_arg);
	void		*renew_arg;
	const char	*name;		/* the instance's name (metrics) */
};

/* Why a call failed: the instance's status and message (never a secret). */
struct provider_error {
	long	status;			/* 0: no answer (transport) */
	long	retry_after;		/* 429: seconds asked, or -1 */
	char	message[PROVIDER_MSG_MAX];
};

/* What to mint. */
struct issue_spec {
	enum cred_kind		 kind;
	enum delivery_mode	 delivery;	/* api_token: token or client */
	const char		*identifier;	/* keywarden-<credential id> */
	const char		*name;		/* the link, or the app name */
	const char		*description;
	enum client_kind	 client_kind;
	size_t			 nredirects;
	const char		(*redirect_uris)[KW_URL_MAX + 1];
	size_t			 nscopes;
	const char		(*scopes)[KW_SCOPE_MAX + 1];
};

/* What was minted.  secret must be wiped by the caller (kw_wipe). */
struct issue_result {
	char	client_id[PROVIDER_ID_MAX];	/* the client's id */
	char	identifier[PROVIDER_IDENT_MAX];
	char	token_id[PROVIDER_ID_MAX];	/* "" for integrations */
	char	secret[KW_SECRET_MAX + 1];	/* full token / client secret
						   (integration, broker and
						   client_secret delivery) */
	char	expires_at[KW_TIME_LEN + 1];	/* "" = does not expire */
};

struct provider_client {
	char	id[PROVIDER_ID_MAX];
	char	identifier[PROVIDER_IDENT_MAX];
};

struct provider_token {
	char	id[PROVIDER_ID_MAX];
	char	client_id[PROVIDER_ID_MAX];
	char	used_at[KW_TIME_LEN + 1];	/* "" = never */
};

struct provider_legacy {
	char	id[PROVIDER_ID_MAX];
	char	description[KW_NAME_MAX + 1];
	int	active;
	char	created_at[KW_TIME_LEN + 1];
	char	last_used_at[KW_TIME_LEN + 1];	/* "" = never */
};

/* A client_credentials grant: who asks, for what, for how long.  All
 * borrowed; secret is the client's. */
struct grant_spec {
	const char		*identifier;	/* the client's identifier */
	const char		*secret;
	size_t			 nscopes;
	const char		(*scopes)[KW_SCOPE_MAX + 1];
	const char		*scope_text;	/* or this, space-separated */
	long			 expires_in;	/* seconds */
};

/* What the grant gave.  access_token must be wiped by the caller. */
struct grant_result {
	char	access_token[KW_ACCESS_TOKEN_MAX + 1];
	long	expires_in;			/* seconds, as answered */
};

typedef int (*provider_client_cb)(const struct provider_client *, void *);
typedef int (*provider_token_cb)(const struct provider_token *, void *);
typedef int (*provider_legacy_cb)(const struct provider_legacy *, void *);

/* All return 0 or KW_ERR_UPSTREAM (with *err filled), KW_ERR_NOMEM. */
struct provider_ops {
	const char *name;
	/* Mint a credential.  On failure nothing is left on the instance
	 * (what was made is deleted again, as far as the instance lets). */
	int	(*issue)(const struct provider_target *, const struct issue_spec *,
		    struct issue_result *, struct provider_error *);
	/* Finish a credential whose client already exists (found after a
	 * crash): drop its old tokens and mint a fresh token, or a fresh
	 * secret for an integration. */
	int	(*adopt)(const struct provider_target *, const struct issue_spec *,
		    const char *client_id, struct issue_result *,
		    struct provider_error *);
	/* Delete the token (if any), then the client (if any: NULL or ""
	 * deletes the token alone); "not found" counts as already gone. */
	int	(*revoke)(const struct provider_target *, const char *client_id,
		    const char *token_id, struct provider_error *);
	/* Ask the instance directly for one client.  0 with *out filled
	 * when it has it; KW_ERR_NOT_FOUND only when it answered 404 for
	 * it; KW_ERR_UPSTREAM for anything else.  What a listing omits is
	 * confirmed gone this way before keywarden records it gone. */
	int	(*get_client)(const struct provider_target *,
		    const char *client_id, struct provider_client *out,
		    struct provider_error *);
	int	(*list_clients)(const struct provider_target *,
		    provider_client_cb, void *, struct provider_error *);
	int	(*list_tokens)(const struct provider_target *,
		    provider_token_cb, void *, struct provider_error *);
	int	(*list_legacy)(const struct provider_target *,
		    provider_legacy_cb, void *, struct provider_error *);
	/* Run the client_credentials grant (no bot credential is sent).
	 * A 429 is not retried: err->retry_after carries its wait. */
	int	(*grant)(const struct provider_target *,
		    const struct grant_spec *, struct grant_result *,
		    struct provider_error *);
	/* Give client_id a new secret (the old one stops working); the new
	 * one goes to secret (wipe it). */
	int	(*new_secret)(const struct provider_target *,
		    const char *client_id, char *secret, size_t secretsz,
		    struct provider_error *);
	/* When the bot's own token expires, as the instance reports it:
	 * RFC 3339 into expires_at, "" if it does not expire. */
	int	(*bot_expiry)(const struct provider_target *, char *expires_at,
		    size_t sz, struct provider_error *);
};

/* The provider called name, or NULL. */
const struct provider_ops *provider_find(const char *name);

extern const struct provider_ops provider_zendesk;

#endif /* KW_PROVIDER_H */
