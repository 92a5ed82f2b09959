/*
 * oidc.h — the OpenID Connect relying party: discovery, the authorization
 * URL (code flow, PKCE S256, state, nonce), the code exchange at the token
 * endpoint and verification of the ID token against the issuer's JWKS.
 *
 * oidc.c is the only code that includes the JOSE library (cjose).  Every
 * outbound call goes through net/ (TLS verified, no redirects, timeouts,
 * size caps); the issuer and its endpoints must be https except on a
 * loopback address.  The discovery document and the JWKS are cached; the
 * JWKS is fetched again when an ID token names a key it does not hold.
 *
 * Errors: KW_ERR_UPSTREAM when the identity provider cannot be reached,
 * answers too slowly, or answers with a malformed document (nothing is
 * trusted then); KW_ERR_UNAUTHENTICATED when it answered but the sign-in
 * is refused (code refused, ID token invalid).  why gets a short reason
 * for the audit log and the error page, never a secret.
 */
#ifndef KW_OIDC_H
#define KW_OIDC_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "limits.h"

struct oidc;

/* What a verified ID token says about the person. */
struct oidc_identity {
	char	sub[256];
	char	email[KW_EMAIL_MAX + 1];
	char	name[KW_NAME_MAX + 1];
};

/* A relying party for cfg's [oidc] section, answering on public_url's
 * /auth/callback; reads the client secret file (which must not be
 * readable by others).  Nothing is fetched yet.  *out: oidc_free(). */
int	 oidc_new(const struct config *cfg, const char *public_url,
	    struct oidc **out, char *err, size_t errsz);
/* Wipe the secret and free; NULL ok. */
void	 oidc_free(struct oidc *o);

/* The URL to send the browser to: the issuer's authorization endpoint
 * (from discovery) with response_type=code, client_id, redirect_uri,
 * scope, state, nonce and the S256 code_challenge. */
int	 oidc_authorize_url(struct oidc *o, const char *state,
	    const char *nonce, const char *challenge, char *out, size_t outsz,
	    char *why, size_t whysz);

/* Exchange code (with the PKCE verifier) at the token endpoint and verify
 * the ID token it returns (signature, iss, aud, exp, iat, nonce,
 * email_verified) into *id. */
int	 oidc_redeem(struct oidc *o, const char *code, const char *verifier,
	    const char *nonce, struct oidc_identity *id, char *why,
	    size_t whysz);

/* Verify an ID token as oidc_redeem does, at time now. */
int	 oidc_verify(struct oidc *o, const char *id_token, const char *nonce,
	    time_t now, struct oidc_identity *id, char *why, size_t whysz);

/* 1 if email's domain is allowed (always, when no list is configured). */
int	 oidc_email_allowed(const struct oidc *o, const char *email);

#endif /* KW_OIDC_H */
