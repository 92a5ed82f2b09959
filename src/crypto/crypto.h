/*
 * crypto.h — the only module that calls libsodium: the master key,
 * sealing of secrets at rest, personal-token generation and keyed
 * hashing, fingerprints, digests, random identifiers and constant-time
 * comparison.
 *
 * Subkeys are derived from the 32-byte master key with crypto_kdf, one
 * per purpose, so a token hash never shares a key with a seal.
 */
#ifndef KW_CRYPTO_H
#define KW_CRYPTO_H

#include <stddef.h>

#include "limits.h"

struct crypto_keys;	/* opaque; lives in locked, guarded memory */

/* Initialise libsodium; call once before anything else. 0 or KW_ERR_CRYPTO. */
int	 crypto_init(void);

/* Create a new random master key at path (O_EXCL, mode 0600).
 * KW_ERR_EXISTS if the file exists, KW_ERR_IO otherwise on failure. */
int	 crypto_master_key_create(const char *path);
/* Load the master key at path and derive subkeys.  Refuses a key file
 * readable by group/others or of the wrong size (KW_ERR_CONFIG).
 * On success *out is owned by the caller: crypto_keys_free(). */
int	 crypto_keys_load(const char *path, struct crypto_keys **out);
/* After crypto_keys_load() failed: what is wrong with the key file at
 * path (in data directory dir) and how to fix it, one sentence into
 * why[whysz] ("... has mode 0640; it must be readable by its owner
 * only: chmod 600 ..."). */
void	 crypto_keys_diagnose(const char *dir, const char *path, char *why,
	    size_t whysz);
/* Derive keys from raw master bytes (tests, tools). Caller frees. */
int	 crypto_keys_from_bytes(const unsigned char master[KW_MASTER_KEY_LEN],
	    struct crypto_keys **out);
/* Wipe and free; NULL ok. */
void	 crypto_keys_free(struct crypto_keys *k);

/* Write a new personal token "kw_" + base64url(32 random bytes) into
 * out (outsz >= KW_TOKEN_STR_MAX). */
int	 crypto_token_new(char *out, size_t outsz);
/* 1 if s has the shape of a personal token (prefix, length, alphabet). */
int	 crypto_token_wellformed(const char *s);
/* Keyed hash (BLAKE2b-256 under the token subkey) of a token. */
int	 crypto_token_hash(const struct crypto_keys *k, const char *token,
	    unsigned char out[KW_HASH_LEN]);
/* Fingerprint of a secret for display and audit: "fp_" + 16 hex chars of
 * a keyed hash under the fingerprint subkey.  outsz >= 20. */
int	 crypto_fingerprint(const struct crypto_keys *k, const void *secret,
	    size_t len, char *out, size_t outsz);

/* A new session secret, KW_SESSION_PREFIX + base64url(32 random bytes),
 * into out (outsz >= KW_TOKEN_STR_MAX).  Never a bearer token: it hashes
 * under its own subkey. */
int	 crypto_session_new(char *out, size_t outsz);
/* 1 if s has the shape of a session secret. */
int	 crypto_session_wellformed(const char *s);
/* Keyed hash of a session secret (the only form the store keeps). */
int	 crypto_session_hash(const struct crypto_keys *k, const char *session,
	    unsigned char out[KW_HASH_LEN]);
/* The CSRF token of a session: base64url of a keyed hash of its secret
 * under the CSRF subkey (KW_CSRF_LEN chars + NUL into out).  Derived,
 * so it is bound to that session and never stored. */
int	 crypto_session_csrf(const struct crypto_keys *k, const char *session,
	    char *out, size_t outsz);

/* n random bytes as unpadded base64url into out (state, nonce, PKCE
 * verifier).  0, or KW_ERR_INTERNAL when out is too small. */
int	 crypto_random_b64url(size_t n, char *out, size_t outsz);
/* The PKCE S256 challenge of verifier: base64url(SHA-256(verifier)). */
int	 crypto_pkce_s256(const char *verifier, char *out, size_t outsz);
/* Unpadded base64url of len bytes into out; 0 or KW_ERR_TOO_LARGE. */
int	 crypto_b64url_encode(const void *in, size_t len, char *out,
	    size_t outsz);
/* Padded standard base64 of len bytes into out (HTTP Basic). */
int	 crypto_b64_encode(const void *in, size_t len, char *out, size_t outsz);
/* Decode unpadded base64url text s into out; *outlen bytes.  0, or
 * KW_ERR_VALIDATION when it is not base64url or does not fit. */
int	 crypto_b64url_decode(const char *s, unsigned char *out, size_t outsz,
	    size_t *outlen);

/* 1 if the n bytes at a and b are equal, compared in constant time. */
int	 crypto_eq(const void *a, const void *b, size_t n);

/* Seal pt with XChaCha20-Poly1305 under the seal subkey; ad names what is
 * sealed (e.g. "instance:<id>:bot_token") and must be given again to open.
 * Output is nonce || ciphertext || tag, ptlen + KW_SEAL_OVERHEAD bytes. */
int	 crypto_seal(const struct crypto_keys *k, const char *ad,
	    const void *pt, size_t ptlen, unsigned char *out, size_t outsz,
	    size_t *outlen);
/* Open what crypto_seal produced.  KW_ERR_CRYPTO if it was altered or
 * the ad differs.  The caller wipes out after use. */
int	 crypto_open(const struct crypto_keys *k, const char *ad,
	    const unsigned char *ct, size_t ctlen, unsigned char *out,
	    size_t outsz, size_t *outlen);

/* A fresh random identifier: prefix + 24 lowercase hex chars. */
void	 crypto_random_id(const char *prefix, char *out, size_t outsz);
/* SHA-256 of data as 64 lowercase hex chars plus NUL into out[KW_HASH_HEX_LEN + 1]. */
void	 crypto_sha256_hex(const void *data, size_t len, char out[KW_HASH_HEX_LEN + 1]);

/* HMAC-SHA256 of msg under a key of any length (Slack request
 * signatures) into out[32].  0, or KW_ERR_CRYPTO. */
int	 crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
	    size_t msglen, unsigned char out[32]);

/* The audit chain's hashing is in crypto/sha256.h (OpenSSL, faster). */

#endif /* KW_CRYPTO_H */
