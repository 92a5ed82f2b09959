/*
 * sha256.h — SHA-256 at hardware speed for the audit chain, from OpenSSL's
 * libcrypto (which uses the CPU's SHA instructions; libsodium's portable
 * code is about four times slower here).  sha256.c is the only code that
 * includes OpenSSL; everything else in crypto/ stays on libsodium.
 *
 * A hasher is a reusable context: create one per long walk (audit
 * verification) and hash record after record with it, without an
 * allocation or a digest lookup per record.
 */
#ifndef KW_CRYPTO_SHA256_H
#define KW_CRYPTO_SHA256_H

#include <stddef.h>

#include "limits.h"

struct sha256;

/* A new hasher in *out (owned: sha256_free).  0 or KW_ERR_NOMEM /
 * KW_ERR_CRYPTO when libcrypto has no SHA-256. */
int	 sha256_new(struct sha256 **out);
void	 sha256_free(struct sha256 *h);

/* Start a new digest on h (forgetting any unfinished one). */
int	 sha256_init(struct sha256 *h);
/* Feed n bytes of p. */
int	 sha256_update(struct sha256 *h, const void *p, size_t n);
/* Finish: the digest as 64 lowercase hex chars plus NUL into out[KW_HASH_HEX_LEN + 1]. */
int	 sha256_final_hex(struct sha256 *h, char out[KW_HASH_HEX_LEN + 1]);
/* init + update + final in one call.  0 or KW_ERR_CRYPTO. */
int	 sha256_hex(struct sha256 *h, const void *p, size_t n, char out[KW_HASH_HEX_LEN + 1]);
/* The same, the digest as 32 bytes into out. */
int	 sha256_digest(struct sha256 *h, const void *p, size_t n,
	    unsigned char out[32]);
/* The 32 bytes of a digest as 64 lowercase hex chars plus NUL. */
void	 sha256_hex_of(const unsigned char d[32], char out[KW_HASH_HEX_LEN + 1]);

#endif /* KW_CRYPTO_SHA256_H */
