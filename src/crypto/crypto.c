/*
 * crypto.c — keys, sealing, token hashing and comparison over libsodium.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kw.h"
#include "crypto/crypto.h"

_Static_assert(crypto_auth_hmacsha256_BYTES == 32, "hmac size");
_Static_assert(KW_SEAL_OVERHEAD == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
    crypto_aead_xchacha20poly1305_ietf_ABYTES, "seal overhead");

#define KDF_CONTEXT	"keywardn"	/* exactly crypto_kdf_CONTEXTBYTES */

enum subkey { SUBKEY_TOKEN = 1, SUBKEY_SEAL = 2, SUBKEY_FINGERPRINT = 3,
	SUBKEY_SESSION = 4, SUBKEY_CSRF = 5 };

struct crypto_keys {
	unsigned char	token[crypto_generichash_KEYBYTES];
	unsigned char	seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char	fingerprint[crypto_generichash_KEYBYTES];
	unsigned char	session[crypto_generichash_KEYBYTES];
	unsigned char	csrf[crypto_generichash_KEYBYTES];
};

#define B64URL	sodium_base64_VARIANT_URLSAFE_NO_PADDING

int
crypto_init(void)
{
	return sodium_init() < 0 ? KW_ERR_CRYPTO : 0;
}

int
crypto_master_key_create(const char *path)
{
	unsigned char	key[KW_MASTER_KEY_LEN];
	int		fd, r = KW_ERR_IO;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    S_IRUSR | S_IWUSR);
	if (fd == -1)
		return errno == EEXIST ? KW_ERR_EXISTS : KW_ERR_IO;
	randombytes_buf(key, sizeof(key));
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) != 0)
		goto out;
	r = 0;
 out:
	sodium_memzero(key, sizeof(key));
	if (close(fd) != 0 && r == 0)
		r = KW_ERR_IO;
	if (r != 0)
		unlink(path);
	return r;
}

int
crypto_keys_from_bytes(const unsigned char master[KW_MASTER_KEY_LEN],
    struct crypto_keys **out)
{
	struct crypto_keys *k;

	*out = NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return KW_ERR_NOMEM;
	crypto_kdf_derive_from_key(k->token, sizeof(k->token), SUBKEY_TOKEN,
	    KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->seal, sizeof(k->seal), SUBKEY_SEAL,
	    KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->fingerprint, sizeof(k->fingerprint),
	    SUBKEY_FINGERPRINT, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->session, sizeof(k->session),
	    SUBKEY_SESSION, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->csrf, sizeof(k->csrf), SUBKEY_CSRF,
	    KDF_CONTEXT, master);
	sodium_mprotect_readonly(k);
	*out = k;
	return 0;
}

int
crypto_keys_load(const char *path, struct crypto_keys **out)
{
	unsigned char	master[KW_MASTER_KEY_LEN + 1];
	struct stat	st;
	ssize_t		n;
	int		fd, r = KW_ERR_CONFIG;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return KW_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		goto out;
	n = read(fd, master, sizeof(master));
	if (n != KW_MASTER_KEY_LEN)
		goto out;
	r = crypto_keys_from_bytes(master, out);
 out:
	sodium_memzero(master, sizeof(master));
	close(fd);
	return r;
}

void
crypto_keys_diagnose(const char *dir, const char *path, char *why,
    size_t whysz)
{
	struct stat	 st, db;
	char		 dbpath[KW_PATH_MAX + 32];
	int		 fd;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "the data directory %s does not exist "
		    "(or is not a directory): give the right --data-dir, or "
		    "create one with keywarden init --data-dir %s "
		    "--admin-email EMAIL", dir, dir);
		return;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/keywarden.db", dir);
	if (lstat(path, &st) != 0) {
		if (errno == EACCES)
			snprintf(why, whysz, "%s cannot be read (permission "
			    "denied): run keywarden as the user that owns the "
			    "data directory", dir);
		else if (stat(dbpath, &db) == 0)
			snprintf(why, whysz, "%s holds a store but no master "
			    "key (%s): restore master.key from your backup; "
			    "without it the sealed secrets cannot be opened "
			    "(init refuses an initialised directory)", dir,
			    path);
		else
			snprintf(why, whysz, "%s is not initialised (no %s): "
			    "run keywarden init --data-dir %s --admin-email "
			    "EMAIL", dir, path, dir);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s is not a regular file (a symbolic "
		    "link or other): put the key file itself there, mode 0600",
		    path);
		return;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(why, whysz, "%s has mode %04o; the master key must be "
		    "readable by its owner only: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, whysz, "%s cannot be opened (%s): run keywarden "
		    "as the file's owner (chown it to the service user)", path,
		    strerror(errno));
		return;
	}
	close(fd);
	if (st.st_size != KW_MASTER_KEY_LEN) {
		snprintf(why, whysz, "%s is %lld bytes long, not %d: it is "
		    "damaged; restore it from your backup", path,
		    (long long)st.st_size, KW_MASTER_KEY_LEN);
		return;
	}
	snprintf(why, whysz, "%s could not be loaded; check the file and "
	    "its permissions (owner only, mode 0600)", path);
}

void
crypto_keys_free(struct crypto_keys *k)
{
	if (k != NULL)
		sodium_free(k);	/* wipes */
}

/* prefix + base64url(KW_TOKEN_RAW_LEN random bytes) into out. */
static int
secret_new(const char *prefix, char *out, size_t outsz)
{
	unsigned char	raw[KW_TOKEN_RAW_LEN];
	size_t		plen = strlen(prefix);
	size_t		need = plen + sodium_base64_ENCODED_LEN(sizeof(raw),
			    B64URL);

	if (outsz < need || need > KW_TOKEN_STR_MAX)
		return KW_ERR_INTERNAL;
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, plen);
	sodium_bin2base64(out + plen, outsz - plen, raw, sizeof(raw), B64URL);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

/* 1 if s is prefix + base64url of at least KW_TOKEN_RAW_LEN bytes. */
static int
secret_wellformed(const char *prefix, const char *s)
{
	unsigned char	 raw[KW_TOKEN_STR_MAX];
	size_t		 plen = strlen(prefix), n, rawlen;
	const char	*end;

	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";

	n = strnlen(s, KW_TOKEN_STR_MAX + 1);
	if (n > KW_TOKEN_STR_MAX || strncmp(s, prefix, plen) != 0)
		return 0;
	/* check the alphabet here: some libsodium versions map bytes
	 * >= 0x80 to '_' instead of refusing them */
	if (strspn(s + plen, alphabet) != n - plen)
		return 0;
	if (sodium_base642bin(raw, sizeof(raw), s + plen, n - plen, NULL,
	    &rawlen, &end, B64URL) != 0 || *end != '\0')
		return 0;
	sodium_memzero(raw, sizeof(raw));
	return rawlen >= KW_TOKEN_RAW_LEN;
}

int
crypto_token_new(char *out, size_t outsz)
{
	return secret_new(KW_TOKEN_PREFIX, out, outsz);
}

int
crypto_token_wellformed(const char *s)
{
	return secret_wellformed(KW_TOKEN_PREFIX, s);
}

int
crypto_session_new(char *out, size_t outsz)
{
	return secret_new(KW_SESSION_PREFIX, out, outsz);
}

int
crypto_session_wellformed(const char *s)
{
	return secret_wellformed(KW_SESSION_PREFIX, s);
}

int
crypto_session_hash(const struct crypto_keys *k, const char *session,
    unsigned char out[KW_HASH_LEN])
{
	if (crypto_generichash(out, KW_HASH_LEN, (const unsigned char *)
	    session, strlen(session), k->session, sizeof(k->session)) != 0)
		return KW_ERR_CRYPTO;
	return 0;
}

int
crypto_session_csrf(const struct crypto_keys *k, const char *session,
    char *out, size_t outsz)
{
	unsigned char	h[32];
	int		r;

	if (crypto_generichash(h, sizeof(h), (const unsigned char *)session,
	    strlen(session), k->csrf, sizeof(k->csrf)) != 0)
		return KW_ERR_CRYPTO;
	r = crypto_b64url_encode(h, sizeof(h), out, outsz);
	sodium_memzero(h, sizeof(h));
	return r;
}

int
crypto_b64url_encode(const void *in, size_t len, char *out, size_t outsz)
{
	if (outsz < sodium_base64_ENCODED_LEN(len, B64URL))
		return KW_ERR_TOO_LARGE;
	sodium_bin2base64(out, outsz, in, len, B64URL);
	return 0;
}

int
crypto_b64_encode(const void *in, size_t len, char *out, size_t outsz)
{
	if (outsz < sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL))
		return KW_ERR_TOO_LARGE;
	sodium_bin2base64(out, outsz, in, len, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
crypto_b64url_decode(const char *s, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *end;

	*outlen = 0;
	if (strspn(s, alphabet) != strlen(s) ||
	    sodium_base642bin(out, outsz, s, strlen(s), NULL, outlen, &end,
	    B64URL) != 0 || *end != '\0')
		return KW_ERR_VALIDATION;
	return 0;
}

int
crypto_random_b64url(size_t n, char *out, size_t outsz)
{
	unsigned char	raw[64];
	int		r;

	if (n > sizeof(raw))
		return KW_ERR_INTERNAL;
	randombytes_buf(raw, n);
	r = crypto_b64url_encode(raw, n, out, outsz);
	sodium_memzero(raw, sizeof(raw));
	return r == 0 ? 0 : KW_ERR_INTERNAL;
}

int
crypto_pkce_s256(const char *verifier, char *out, size_t outsz)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)verifier,
	    strlen(verifier));
	return crypto_b64url_encode(h, sizeof(h), out, outsz);
}

int
crypto_token_hash(const struct crypto_keys *k, const char *token,
    unsigned char out[KW_HASH_LEN])
{
	if (crypto_generichash(out, KW_HASH_LEN, (const unsigned char *)token,
	    strlen(token), k->token, sizeof(k->token)) != 0)
		return KW_ERR_CRYPTO;
	return 0;
}

int
crypto_fingerprint(const struct crypto_keys *k, const void *secret,
    size_t len, char *out, size_t outsz)
{
	unsigned char h[8];

	if (outsz < 3 + 2 * sizeof(h) + 1)
		return KW_ERR_INTERNAL;
	if (crypto_generichash(h, sizeof(h), secret, len, k->fingerprint,
	    sizeof(k->fingerprint)) != 0)
		return KW_ERR_CRYPTO;
	memcpy(out, "fp_", 3);
	sodium_bin2hex(out + 3, outsz - 3, h, sizeof(h));
	return 0;
}

int
crypto_eq(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

int
crypto_seal(const struct crypto_keys *k, const char *ad, const void *pt,
    size_t ptlen, unsigned char *out, size_t outsz, size_t *outlen)
{
	const size_t		 nlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	unsigned long long	 clen;

	if (outsz < ptlen + KW_SEAL_OVERHEAD)
		return KW_ERR_TOO_LARGE;
	randombytes_buf(out, nlen);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + nlen, &clen, pt,
	    ptlen, (const unsigned char *)ad, strlen(ad), NULL, out,
	    k->seal) != 0)
		return KW_ERR_CRYPTO;
	*outlen = nlen + (size_t)clen;
	return 0;
}

int
crypto_open(const struct crypto_keys *k, const char *ad,
    const unsigned char *ct, size_t ctlen, unsigned char *out, size_t outsz,
    size_t *outlen)
{
	const size_t		 nlen = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	unsigned long long	 plen;

	if (ctlen < KW_SEAL_OVERHEAD)
		return KW_ERR_CRYPTO;
	if (outsz < ctlen - KW_SEAL_OVERHEAD)
		return KW_ERR_TOO_LARGE;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL,
	    ct + nlen, ctlen - nlen, (const unsigned char *)ad, strlen(ad),
	    ct, k->seal) != 0)
		return KW_ERR_CRYPTO;
	*outlen = (size_t)plen;
	return 0;
}

void
crypto_random_id(const char *prefix, char *out, size_t outsz)
{
	unsigned char	raw[12];
	size_t		plen = strlen(prefix);

	if (outsz < plen + 2 * sizeof(raw) + 1) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, prefix, plen);
	sodium_bin2hex(out + plen, outsz - plen, raw, sizeof(raw));
}

void
crypto_sha256_hex(const void *data, size_t len, char out[KW_HASH_HEX_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int
crypto_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char out[32])
{
	crypto_auth_hmacsha256_state	st;
	int				r = 0;

	/* the init/update/final form takes a key of any length (a longer
	 * one is hashed first, as RFC 2104 says) */
	if (crypto_auth_hmacsha256_init(&st, key, keylen) != 0 ||
	    crypto_auth_hmacsha256_update(&st, msg, msglen) != 0 ||
	    crypto_auth_hmacsha256_final(&st, out) != 0)
		r = KW_ERR_CRYPTO;
	sodium_memzero(&st, sizeof(st));
	return r;
}
