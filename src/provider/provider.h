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
	const char	*bot_token;	/* the Integration bot's token */
	long		 timeout_ms;	/* per attempt */
	int		 attempts;	/* total tries of one call */
	int		 retry_wait_max_s; /* longest single wait honoured */
	const char	*name;		/* the instance's name (metrics) */
};

/* Why a call failed: the instance's status and message (never a secret). */
struct provider_error {
	long	status;			/* 0: no answer (transport) */
	char	message[PROVIDER_MSG_MAX];
};

/* What to mint. */
struct issue_spec {
	enum cred_kind		 kind;
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
	char	secret[KW_SECRET_MAX + 1];	/* full token / client secret */
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
};

/* The provider called name, or NULL. */
const struct provider_ops *provider_find(const char *name);

extern const struct provider_ops provider_zendesk;

#endif /* KW_PROVIDER_H */
