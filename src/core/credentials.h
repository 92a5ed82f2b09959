/*
 * credentials.h — what was issued, to whom: a credential's one-time
 * delivery, its revocation, the link of a legacy token to its
 * replacement, and the broker (short-lived access tokens for `broker`
 * credentials, and the tokens bound to one of them).  A credential's
 * secret exists in keywarden only sealed: until its owner reveals it
 * once, or, for a broker credential, for as long as it lives.
 */
#ifndef KW_CORE_CREDENTIALS_H
#define KW_CORE_CREDENTIALS_H

#include <jansson.h>

#include "kw.h"
#include "core/app.h"
#include "provider/provider.h"
#include "store/store.h"

/* The names of enum delivery_mode, NULL-terminated. */
extern const char *const credential_delivery_modes[DM__COUNT + 1];
/* c's delivery mode as the API names it ("integration" for those). */
const char *credential_delivery_mode_name(const struct credential *c);

/* A pending credential (the intent) for request r. */
void	 credential_from_request(const struct request *r,
	    struct credential *c);
/* Make c live: seal secret (with client_id for integrations) for one-
 * time delivery, keep its fingerprint, start its lifetime (expires_at
 * overrides it when the instance set one).  An expires_at already on the
 * pending c is a ceiling: the credential never lives past it. */
int	 credential_activate(struct app *app, struct credential *c,
	    const char *client_id, const char *secret, const char *expires_at);
/* Seal a broker credential's client secret into c (and fingerprint it);
 * the associated data binding it to c is credential_broker_ad. */
int	 credential_broker_seal(struct app *app, struct credential *c,
	    const char *secret);
void	 credential_broker_ad(const struct credential *c, char *out,
	    size_t outsz);
/* Store the instance-side ids ids (an object; consumed) as c's external
 * JSON, written by jansson (never formatted by hand: a value cannot
 * break out of its string).  KW_ERR_VALIDATION if it does not fit. */
int	 credential_external(struct credential *c, json_t *ids);
/* A withdrawn request's pending credential (its intent) is dropped
 * (inside the caller's transaction on st). */
int	 credential_drop_intent(struct store *st, const struct request *r);

/*
 * Credential id as actor a may see it: its owner, the owner's manager, a
 * provisioner of its instance, an admin or an auditor (the people who see
 * its request); anyone else gets KW_ERR_NOT_FOUND.  0 with c filled
 * (wipe it), or a KW_ERR_* with f filled.
 */
int	 credential_get(struct app *app, const struct actor *a, const char *id,
	    struct credential *c, struct kw_fail *f);

/*
 * Reveal: the owner gets the secret of credential id exactly once, as
 * *secret ({"secret"} for a token, {"client_id", "client_secret"} for an
 * integration or a client_secret delivery; wipe and free it).  The sealed
 * copy is destroyed and the delivery recorded (credential.reveal) in one
 * transaction, which commits before *secret is set.  A reveal that comes
 * too late is KW_ERR_GONE saying what works now, and recorded
 * (credential.reveal_refused); a broker credential's is KW_ERR_CONFLICT.
 */
int	 credential_reveal(struct app *app, struct actor *a, const char *id,
	    json_t **secret, struct kw_fail *f);

/*
 * Revoke credential id (on its instance, then in the store with its
 * audit event) for a, who must be its owner, the owner's manager, a
 * provisioner of its instance or an admin.  reason "" says who revoked
 * it.  0 with after (may be NULL) the credential as it is now.
 */
int	 credential_revoke(struct app *app, struct actor *a, const char *id,
	    const char *reason, struct credential *after, struct kw_fail *f);
/* f's message for an issuance_revoke() / issuance_end() result r on
 * credential id (perr: the instance's error); returns the error to
 * answer with (0 for 0). */
int	 credential_revoke_fail(int r, const char *id,
	    const struct provider_error *perr, struct kw_fail *f);

/*
 * Link legacy credential id to the keywarden credential replacement_id
 * that replaces it ("" unlinks), for an admin or a provisioner of its
 * instance (credential.link_replacement).  0 with c (scratch of the
 * caller's; wipe it) the legacy credential as linked.
 */
int	 credential_link(struct app *app, struct actor *a, const char *id,
	    const char *replacement_id, struct credential *c,
	    struct kw_fail *f);

/* ---- the broker (core/broker.c) ---- */

/* What a dispensing gives: the access token (wipe it) and where it
 * works. */
struct credential_access {
	char	access_token[KW_ACCESS_TOKEN_MAX + 1];
	char	expires_at[KW_TIME_LEN + 1];
	char	instance_url[KW_URL_MAX + 1];
	char	provider[KW_PROVIDER_MAX + 1];	/* the instance's */
	size_t	nscopes;
	char	scopes[KW_SCOPES_MAX][KW_SCOPE_MAX + 1];
};

/*
 * A fresh access token for broker credential id, valid ttl seconds (the
 * instance's max_access_ttl at most: else KW_ERR_VALIDATION on
 * "ttl_seconds"), for its owner a, or through the token bound_id bound to
 * it (NULL: the owner themself).  Recorded (credential.access_token, its
 * fingerprint, never the token; the bound token's use) in one
 * transaction; nothing is recorded when the instance gives none
 * (KW_ERR_UPSTREAM, or KW_ERR_RATE_LIMITED with f->retry_after).
 */
int	 credential_access_token(struct app *app, struct actor *a,
	    const char *id, int ttl, const char *bound_id,
	    struct credential_access *out, struct kw_fail *f);

/* The owner a makes a token bound to broker credential id, labelled
 * label: b gets its record, tok (toksz bytes) the token to show once
 * (wipe both). */
int	 credential_bound_create(struct app *app, struct actor *a,
	    const char *id, const char *label, struct bound_token *b,
	    char *tok, size_t toksz, struct kw_fail *f);
/* Call fn for each live token bound to credential id, which a may see
 * (metadata only, never a secret). */
int	 credential_bound_each(struct app *app, const struct actor *a,
	    const char *id, int (*fn)(const struct bound_token *, void *),
	    void *arg, struct kw_fail *f);
/* The owner a deletes token tid bound to credential id; it dies at once.
 * revoked_at (KW_TIME_LEN + 1) gets the time. */
int	 credential_bound_delete(struct app *app, struct actor *a,
	    const char *id, const char *tid, char *revoked_at,
	    struct kw_fail *f);

#endif /* KW_CORE_CREDENTIALS_H */
