/*
 * sha256.c — SHA-256 through OpenSSL's EVP interface with a reused
 * context.  The digest algorithm is fetched once per process (an implicit
 * fetch per record costs as much as hashing a short record).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kw.h"
#include "crypto/sha256.h"

struct sha256 {
	EVP_MD_CTX	*ctx;
};

static pthread_once_t	 md_once = PTHREAD_ONCE_INIT;
static EVP_MD		*md;		/* lives as long as the process */

static void
md_fetch(void)
{
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int
sha256_new(struct sha256 **out)
{
	struct sha256 *h;

	*out = NULL;
	pthread_once(&md_once, md_fetch);
	if (md == NULL)
		return KW_ERR_CRYPTO;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return KW_ERR_NOMEM;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL) {
		free(h);
		return KW_ERR_NOMEM;
	}
	*out = h;
	return 0;
}

void
sha256_free(struct sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int
sha256_init(struct sha256 *h)
{
	return EVP_DigestInit_ex(h->ctx, md, NULL) == 1 ? 0 : KW_ERR_CRYPTO;
}

int
sha256_update(struct sha256 *h, const void *p, size_t n)
{
	return EVP_DigestUpdate(h->ctx, p, n) == 1 ? 0 : KW_ERR_CRYPTO;
}

void
sha256_hex_of(const unsigned char d[32], char out[KW_HASH_HEX_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	unsigned int		i;

	/* a digest is no secret: a plain loop, not a constant-time one */
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[KW_HASH_HEX_LEN] = '\0';
}

int
sha256_final_hex(struct sha256 *h, char out[KW_HASH_HEX_LEN + 1])
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	if (EVP_DigestFinal_ex(h->ctx, d, &n) != 1 || n != 32)
		return KW_ERR_CRYPTO;
	sha256_hex_of(d, out);
	return 0;
}

int
sha256_hex(struct sha256 *h, const void *p, size_t n, char out[KW_HASH_HEX_LEN + 1])
{
	int r;

	if ((r = sha256_init(h)) != 0 || (r = sha256_update(h, p, n)) != 0)
		return r;
	return sha256_final_hex(h, out);
}

int
sha256_digest(struct sha256 *h, const void *p, size_t n,
    unsigned char out[32])
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	dn = 0;

	if (EVP_DigestInit_ex(h->ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, p, n) != 1 ||
	    EVP_DigestFinal_ex(h->ctx, d, &dn) != 1 || dn != 32)
		return KW_ERR_CRYPTO;
	memcpy(out, d, 32);
	return 0;
}
