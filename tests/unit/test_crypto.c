/*
 * test_crypto.c — the crypto module: personal tokens and their keyed
 * hashes, sealing of secrets at rest, the master key file, fingerprints,
 * identifiers and SHA-256.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kw.h"
#include "limits.h"
#include "crypto/crypto.h"
#include "crypto/sha256.h"

#define AD	"instance:in_1:bot_token"
#define SECRET	"zendesk-bot-oauth-token"

/* ---- helpers ---------------------------------------------------------- */

static void
master_fill(unsigned char m[KW_MASTER_KEY_LEN], unsigned char v)
{
	memset(m, v, KW_MASTER_KEY_LEN);
}

static struct crypto_keys *
keys_with(unsigned char v)
{
	unsigned char		 m[KW_MASTER_KEY_LEN];
	struct crypto_keys	*k = NULL;

	master_fill(m, v);
	assert_int_equal(crypto_keys_from_bytes(m, &k), 0);
	assert_non_null(k);
	return k;
}

/* A fresh temporary directory; path[] receives its name. */
static void
tmpdir(char *path, size_t pathsz)
{
	snprintf(path, pathsz, "/tmp/kw-crypto-XXXXXX");
	assert_non_null(mkdtemp(path));
}

static void
tmpdir_remove(const char *dir, const char *file)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	unlink(p);
	rmdir(dir);
}

/* Write n bytes to path with the given mode (exactly, despite umask). */
static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int
is_lowerhex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

static int
group_setup(void **state)
{
	(void)state;
	return crypto_init();
}

/* ---- init ------------------------------------------------------------- */

static void
init_is_idempotent(void **state)
{
	(void)state;
	assert_int_equal(crypto_init(), 0);
	assert_int_equal(crypto_init(), 0);
}

/* ---- personal tokens -------------------------------------------------- */

static void
token_has_prefix_length_and_alphabet(void **state)
{
	char	t[KW_TOKEN_STR_MAX];
	size_t	i, n;

	(void)state;
	assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
	n = strlen(t);
	assert_true(n >= 46);
	assert_true(n <= KW_TOKEN_STR_MAX);
	assert_memory_equal(t, "kw_", 3);
	for (i = 3; i < n; i++)
		assert_true(is_b64url(t[i]));
}

static void
tokens_differ(void **state)
{
	char a[KW_TOKEN_STR_MAX], b[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_token_new(a, sizeof(a)), 0);
	assert_int_equal(crypto_token_new(b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
}

static void
token_new_refuses_small_buffer(void **state)
{
	char t[20];

	(void)state;
	assert_int_not_equal(crypto_token_new(t, sizeof(t)), 0);
}

static void
wellformed_accepts_generated_tokens(void **state)
{
	char	t[KW_TOKEN_STR_MAX];
	int	i;

	(void)state;
	for (i = 0; i < 50; i++) {
		assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
		assert_true(crypto_token_wellformed(t));
	}
}

static void
wellformed_rejects_wrong_prefix(void **state)
{
	char t[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
	t[0] = 'K';
	assert_false(crypto_token_wellformed(t));
	t[0] = 'k';
	t[2] = '-';
	assert_false(crypto_token_wellformed(t));
	assert_false(crypto_token_wellformed(t + 3));	/* no prefix at all */
}

static void
wellformed_rejects_short(void **state)
{
	char t[KW_TOKEN_STR_MAX];

	(void)state;
	assert_false(crypto_token_wellformed(""));
	assert_false(crypto_token_wellformed("kw_"));
	assert_false(crypto_token_wellformed("kw_abc"));
	assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
	t[strlen(t) - 4] = '\0';	/* 29 bytes' worth of base64 */
	assert_false(crypto_token_wellformed(t));
}

/* A generated token with its 11th character replaced by c. */
static void
token_with(char *t, size_t tsz, char c)
{
	assert_int_equal(crypto_token_new(t, tsz), 0);
	t[10] = c;
}

static void
wellformed_rejects_bad_alphabet(void **state)
{
	const char	*bad = "+/.~ !\"%=\n\t";
	char		 t[KW_TOKEN_STR_MAX];

	(void)state;
	for (; *bad != '\0'; bad++) {
		token_with(t, sizeof(t), *bad);
		if (crypto_token_wellformed(t))
			fail_msg("accepted a token holding 0x%02x", *bad);
	}
}

/* Bytes outside ASCII are not base64url either. */
static void
wellformed_rejects_non_ascii(void **state)
{
	char	t[KW_TOKEN_STR_MAX];
	int	c;

	(void)state;
	for (c = 0x80; c <= 0xff; c++) {
		token_with(t, sizeof(t), (char)c);
		if (crypto_token_wellformed(t))
			fail_msg("accepted a token holding 0x%02x", c);
	}
}

static void
wellformed_rejects_padding(void **state)
{
	char t[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
	strcat(t, "=");
	assert_false(crypto_token_wellformed(t));
}

static void
wellformed_rejects_overlong(void **state)
{
	char t[KW_TOKEN_STR_MAX + 16];

	(void)state;
	memcpy(t, "kw_", 3);
	memset(t + 3, 'A', sizeof(t) - 4);
	t[sizeof(t) - 1] = '\0';
	assert_true(strlen(t) > KW_TOKEN_STR_MAX);
	assert_false(crypto_token_wellformed(t));
}

/* ---- token hashing ---------------------------------------------------- */

static void
token_hash_is_deterministic(void **state)
{
	struct crypto_keys	*k1 = keys_with(0x11), *k2 = keys_with(0x11);
	unsigned char		 a[KW_HASH_LEN], b[KW_HASH_LEN];
	char			 t[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
	assert_int_equal(crypto_token_hash(k1, t, a), 0);
	assert_int_equal(crypto_token_hash(k2, t, b), 0);
	assert_memory_equal(a, b, KW_HASH_LEN);
	crypto_keys_free(k1);
	crypto_keys_free(k2);
}

static void
token_hash_depends_on_master_key(void **state)
{
	struct crypto_keys	*k1 = keys_with(0x11), *k2 = keys_with(0x22);
	unsigned char		 a[KW_HASH_LEN], b[KW_HASH_LEN];
	char			 t[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_token_new(t, sizeof(t)), 0);
	assert_int_equal(crypto_token_hash(k1, t, a), 0);
	assert_int_equal(crypto_token_hash(k2, t, b), 0);
	assert_memory_not_equal(a, b, KW_HASH_LEN);
	crypto_keys_free(k1);
	crypto_keys_free(k2);
}

static void
token_hash_depends_on_token(void **state)
{
	struct crypto_keys	*k = keys_with(0x11);
	unsigned char		 a[KW_HASH_LEN], b[KW_HASH_LEN];
	char			 t1[KW_TOKEN_STR_MAX], t2[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_token_new(t1, sizeof(t1)), 0);
	assert_int_equal(crypto_token_new(t2, sizeof(t2)), 0);
	assert_int_equal(crypto_token_hash(k, t1, a), 0);
	assert_int_equal(crypto_token_hash(k, t2, b), 0);
	assert_memory_not_equal(a, b, KW_HASH_LEN);
	crypto_keys_free(k);
}

/* ---- constant-time comparison ----------------------------------------- */

static void
eq_equal_and_unequal(void **state)
{
	const unsigned char a[] = { 1, 2, 3, 4 }, b[] = { 1, 2, 3, 4 };
	const unsigned char c[] = { 1, 2, 3, 5 };

	(void)state;
	assert_true(crypto_eq(a, b, sizeof(a)));
	assert_false(crypto_eq(a, c, sizeof(a)));
	assert_true(crypto_eq(a, c, 3));	/* only n bytes count */
}

/* ---- sealing ---------------------------------------------------------- */

/* Seal SECRET under AD with k into ct; returns its length. */
static size_t
seal_secret(const struct crypto_keys *k, unsigned char *ct, size_t ctsz)
{
	size_t n = 0;

	assert_int_equal(crypto_seal(k, AD, SECRET, strlen(SECRET), ct, ctsz,
	    &n), 0);
	assert_int_equal(n, strlen(SECRET) + KW_SEAL_OVERHEAD);
	return n;
}

static void
seal_open_round_trip(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEALED_MAX], pt[KW_BOT_TOKEN_MAX];
	size_t			 n, m = 0;

	(void)state;
	n = seal_secret(k, ct, sizeof(ct));
	assert_null(memmem(ct, n, SECRET, strlen(SECRET)));
	assert_int_equal(crypto_open(k, AD, ct, n, pt, sizeof(pt), &m), 0);
	assert_int_equal(m, strlen(SECRET));
	assert_memory_equal(pt, SECRET, m);
	crypto_keys_free(k);
}

static void
seal_twice_differs(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 a[KW_SEALED_MAX], b[KW_SEALED_MAX];
	size_t			 n;

	(void)state;
	n = seal_secret(k, a, sizeof(a));
	assert_int_equal(seal_secret(k, b, sizeof(b)), n);
	assert_memory_not_equal(a, b, n);	/* fresh nonce each time */
	crypto_keys_free(k);
}

static void
seal_empty_plaintext(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEAL_OVERHEAD], pt[1];
	size_t			 n = 0, m = 99;

	(void)state;
	assert_int_equal(crypto_seal(k, AD, "", 0, ct, sizeof(ct), &n), 0);
	assert_int_equal(n, KW_SEAL_OVERHEAD);
	assert_int_equal(crypto_open(k, AD, ct, n, pt, sizeof(pt), &m), 0);
	assert_int_equal(m, 0);
	crypto_keys_free(k);
}

/* Flip one bit at offset off of a sealed secret; opening must fail. */
static void
flip_and_expect_failure(size_t off)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEALED_MAX], pt[KW_BOT_TOKEN_MAX];
	size_t			 n, m = 0;

	n = seal_secret(k, ct, sizeof(ct));
	if (off >= n)
		off = n - 1;
	ct[off] ^= 0x01;
	assert_int_equal(crypto_open(k, AD, ct, n, pt, sizeof(pt), &m),
	    KW_ERR_CRYPTO);
	crypto_keys_free(k);
}

static void
open_detects_flipped_nonce(void **state)
{
	(void)state;
	flip_and_expect_failure(0);
	flip_and_expect_failure(23);
}

static void
open_detects_flipped_ciphertext(void **state)
{
	(void)state;
	flip_and_expect_failure(24);
	flip_and_expect_failure(24 + strlen(SECRET) - 1);
}

static void
open_detects_flipped_tag(void **state)
{
	(void)state;
	flip_and_expect_failure(24 + strlen(SECRET));
	flip_and_expect_failure((size_t)-1);	/* the last byte */
}

static void
open_refuses_other_associated_data(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEALED_MAX], pt[KW_BOT_TOKEN_MAX];
	size_t			 n, m = 0;

	(void)state;
	n = seal_secret(k, ct, sizeof(ct));
	assert_int_equal(crypto_open(k, "instance:in_2:bot_token", ct, n, pt,
	    sizeof(pt), &m), KW_ERR_CRYPTO);
	assert_int_equal(crypto_open(k, "", ct, n, pt, sizeof(pt), &m),
	    KW_ERR_CRYPTO);
	crypto_keys_free(k);
}

static void
open_refuses_other_master_key(void **state)
{
	struct crypto_keys	*k1 = keys_with(0x33), *k2 = keys_with(0x44);
	unsigned char		 ct[KW_SEALED_MAX], pt[KW_BOT_TOKEN_MAX];
	size_t			 n, m = 0;

	(void)state;
	n = seal_secret(k1, ct, sizeof(ct));
	assert_int_equal(crypto_open(k2, AD, ct, n, pt, sizeof(pt), &m),
	    KW_ERR_CRYPTO);
	crypto_keys_free(k1);
	crypto_keys_free(k2);
}

static void
open_refuses_truncated_input(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEALED_MAX], pt[KW_BOT_TOKEN_MAX];
	size_t			 n, m = 0;

	(void)state;
	n = seal_secret(k, ct, sizeof(ct));
	assert_int_equal(crypto_open(k, AD, ct, n - 1, pt, sizeof(pt), &m),
	    KW_ERR_CRYPTO);
	assert_int_equal(crypto_open(k, AD, ct, KW_SEAL_OVERHEAD, pt,
	    sizeof(pt), &m), KW_ERR_CRYPTO);
	assert_int_equal(crypto_open(k, AD, ct, KW_SEAL_OVERHEAD - 1, pt,
	    sizeof(pt), &m), KW_ERR_CRYPTO);
	assert_int_equal(crypto_open(k, AD, ct, 0, pt, sizeof(pt), &m),
	    KW_ERR_CRYPTO);
	crypto_keys_free(k);
}

static void
seal_refuses_small_output(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEALED_MAX];
	size_t			 n = 0;

	(void)state;
	assert_int_equal(crypto_seal(k, AD, SECRET, strlen(SECRET), ct,
	    strlen(SECRET) + KW_SEAL_OVERHEAD - 1, &n), KW_ERR_TOO_LARGE);
	crypto_keys_free(k);
}

static void
open_refuses_small_output(void **state)
{
	struct crypto_keys	*k = keys_with(0x33);
	unsigned char		 ct[KW_SEALED_MAX], pt[KW_BOT_TOKEN_MAX];
	size_t			 n, m = 0;

	(void)state;
	n = seal_secret(k, ct, sizeof(ct));
	assert_int_equal(crypto_open(k, AD, ct, n, pt, strlen(SECRET) - 1,
	    &m), KW_ERR_TOO_LARGE);
	assert_int_equal(crypto_open(k, AD, ct, n, pt, strlen(SECRET), &m), 0);
	crypto_keys_free(k);
}

/* ---- the master key file ---------------------------------------------- */

static void
master_key_create_makes_private_32_byte_file(void **state)
{
	char		dir[64], path[128];
	struct stat	st;

	(void)state;
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	assert_int_equal(crypto_master_key_create(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, KW_MASTER_KEY_LEN);
	assert_int_equal(st.st_mode & 0777, 0600);
	tmpdir_remove(dir, "master.key");
}

static void
master_key_create_refuses_existing_file(void **state)
{
	char		dir[64], path[128];
	unsigned char	before[KW_MASTER_KEY_LEN], after[KW_MASTER_KEY_LEN];
	int		fd;

	(void)state;
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	assert_int_equal(crypto_master_key_create(path), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, before, sizeof(before)), sizeof(before));
	close(fd);

	assert_int_equal(crypto_master_key_create(path), KW_ERR_EXISTS);

	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, after, sizeof(after)), sizeof(after));
	close(fd);
	assert_memory_equal(before, after, sizeof(before));	/* untouched */
	tmpdir_remove(dir, "master.key");
}

static void
master_key_create_fails_in_missing_dir(void **state)
{
	(void)state;
	assert_int_equal(crypto_master_key_create(
	    "/nonexistent-kw-dir/master.key"), KW_ERR_IO);
}

static void
keys_load_refuses_group_or_world_readable(void **state)
{
	unsigned char		 m[KW_MASTER_KEY_LEN];
	struct crypto_keys	*k = (struct crypto_keys *)1;
	char			 dir[64], path[128];

	(void)state;
	master_fill(m, 0x55);
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);

	write_file(path, m, sizeof(m), 0640);
	assert_int_equal(crypto_keys_load(path, &k), KW_ERR_CONFIG);
	assert_null(k);
	write_file(path, m, sizeof(m), 0604);
	assert_int_equal(crypto_keys_load(path, &k), KW_ERR_CONFIG);
	assert_null(k);
	write_file(path, m, sizeof(m), 0400);
	assert_int_equal(crypto_keys_load(path, &k), 0);
	crypto_keys_free(k);
	tmpdir_remove(dir, "master.key");
}

static void
keys_load_refuses_wrong_size(void **state)
{
	unsigned char		 m[KW_MASTER_KEY_LEN + 1];
	struct crypto_keys	*k = NULL;
	char			 dir[64], path[128];

	(void)state;
	memset(m, 0x55, sizeof(m));
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);

	write_file(path, m, KW_MASTER_KEY_LEN - 1, 0600);
	assert_int_equal(crypto_keys_load(path, &k), KW_ERR_CONFIG);
	write_file(path, m, KW_MASTER_KEY_LEN + 1, 0600);
	assert_int_equal(crypto_keys_load(path, &k), KW_ERR_CONFIG);
	write_file(path, m, 0, 0600);
	assert_int_equal(crypto_keys_load(path, &k), KW_ERR_CONFIG);
	assert_null(k);
	tmpdir_remove(dir, "master.key");
}

static void
keys_load_refuses_missing_file(void **state)
{
	struct crypto_keys *k = NULL;

	(void)state;
	assert_int_equal(crypto_keys_load("/nonexistent-kw-dir/master.key",
	    &k), KW_ERR_IO);
	assert_null(k);
}

static void
keys_load_matches_keys_from_bytes(void **state)
{
	unsigned char		 m[KW_MASTER_KEY_LEN];
	unsigned char		 a[KW_HASH_LEN], b[KW_HASH_LEN];
	struct crypto_keys	*fk = NULL, *bk = NULL;
	char			 dir[64], path[128], fa[32], fb[32];
	const char		*tok = "kw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
				    "AAAAAAAA";
	int			 fd;

	(void)state;
	tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	assert_int_equal(crypto_master_key_create(path), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, m, sizeof(m)), sizeof(m));
	close(fd);

	assert_int_equal(crypto_keys_load(path, &fk), 0);
	assert_int_equal(crypto_keys_from_bytes(m, &bk), 0);
	assert_int_equal(crypto_token_hash(fk, tok, a), 0);
	assert_int_equal(crypto_token_hash(bk, tok, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(crypto_fingerprint(fk, "x", 1, fa, sizeof(fa)), 0);
	assert_int_equal(crypto_fingerprint(bk, "x", 1, fb, sizeof(fb)), 0);
	assert_string_equal(fa, fb);
	crypto_keys_free(fk);
	crypto_keys_free(bk);
	tmpdir_remove(dir, "master.key");
}

static void
keys_free_accepts_null(void **state)
{
	(void)state;
	crypto_keys_free(NULL);
}

/* ---- fingerprints, identifiers, digests ------------------------------- */

static void
fingerprint_shape_and_determinism(void **state)
{
	struct crypto_keys	*k = keys_with(0x66), *k2 = keys_with(0x77);
	char			 a[20], b[20], c[20], d[20];

	(void)state;
	assert_int_equal(crypto_fingerprint(k, SECRET, strlen(SECRET), a,
	    sizeof(a)), 0);
	assert_int_equal(strlen(a), 19);
	assert_memory_equal(a, "fp_", 3);
	assert_true(is_lowerhex(a + 3, 16));
	assert_int_equal(crypto_fingerprint(k, SECRET, strlen(SECRET), b,
	    sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(crypto_fingerprint(k, "other", 5, c, sizeof(c)), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(crypto_fingerprint(k2, SECRET, strlen(SECRET), d,
	    sizeof(d)), 0);
	assert_string_not_equal(a, d);
	assert_int_not_equal(crypto_fingerprint(k, SECRET, strlen(SECRET), a,
	    19), 0);
	crypto_keys_free(k);
	crypto_keys_free(k2);
}

static void
random_id_shape(void **state)
{
	char a[64], b[64], small[10] = "xxxxxxxxx";

	(void)state;
	crypto_random_id("per_", a, sizeof(a));
	assert_int_equal(strlen(a), 4 + 24);
	assert_memory_equal(a, "per_", 4);
	assert_true(is_lowerhex(a + 4, 24));
	crypto_random_id("per_", b, sizeof(b));
	assert_string_not_equal(a, b);
	crypto_random_id("per_", small, sizeof(small));
	assert_string_equal(small, "");
}

static void
sha256_known_vector(void **state)
{
	char h[65];

	(void)state;
	crypto_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}

static void
sha256_incremental_equals_one_shot(void **state)
{
	const char		*msg = "prev-hash\n"
				    "{\"seq\":1,\"actor\":\"system\"}";
	struct sha256		*h;
	char			 one[65], inc[65], again[65];
	size_t			 i, n = strlen(msg);

	(void)state;
	crypto_sha256_hex(msg, n, one);
	assert_int_equal(sha256_new(&h), 0);
	assert_int_equal(sha256_init(h), 0);
	for (i = 0; i < n; i += 5)
		assert_int_equal(sha256_update(h, msg + i,
		    n - i < 5 ? n - i : 5), 0);
	assert_int_equal(sha256_final_hex(h, inc), 0);
	assert_string_equal(one, inc);
	/* the context is reused: the same answer the second time */
	assert_int_equal(sha256_hex(h, msg, n, again), 0);
	assert_string_equal(one, again);
	sha256_free(h);
}

/* OpenSSL's SHA-256 gives libsodium's answers (the chain's hashes made
 * before the switch still verify): FIPS 180-2 vectors, and lengths
 * around the 64-byte block boundary. */
static void
sha256_openssl_matches_known_vectors(void **state)
{
	struct sha256	*h;
	char		 buf[300], a[65], b[65];
	size_t		 n;

	(void)state;
	assert_int_equal(sha256_new(&h), 0);
	assert_int_equal(sha256_hex(h, "abc", 3, a), 0);
	assert_string_equal(a, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(sha256_hex(h, "abcdbcdecdefdefgefghfghighijhijki"
	    "jkljklmklmnlmnomnopnopq", 56, a), 0);
	assert_string_equal(a, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	assert_int_equal(sha256_hex(h, "", 0, a), 0);
	assert_string_equal(a, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	for (n = 0; n < sizeof(buf); n++) {
		buf[n] = (char)('a' + n % 26);
		assert_int_equal(sha256_hex(h, buf, n + 1, a), 0);
		crypto_sha256_hex(buf, n + 1, b);
		assert_string_equal(a, b);
	}
	sha256_free(h);
	sha256_free(NULL);
}


/* ---- sessions, CSRF, PKCE, base64url ----------------------------------- */

static void
session_secret_shape_and_kinds(void **state)
{
	char tok[KW_TOKEN_STR_MAX], ses[KW_TOKEN_STR_MAX];

	(void)state;
	assert_int_equal(crypto_session_new(ses, sizeof(ses)), 0);
	assert_int_equal(crypto_token_new(tok, sizeof(tok)), 0);
	assert_memory_equal(ses, KW_SESSION_PREFIX, strlen(KW_SESSION_PREFIX));
	assert_true(crypto_session_wellformed(ses));
	/* a session secret is no bearer token, and the other way round */
	assert_false(crypto_token_wellformed(ses));
	assert_false(crypto_session_wellformed(tok));
	assert_false(crypto_session_wellformed("kws_short"));
}

static void
session_hash_differs_from_token_hash(void **state)
{
	struct crypto_keys	*k = keys_with(0x11);
	unsigned char		 a[KW_HASH_LEN], b[KW_HASH_LEN];
	const char		*s = "kws_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

	(void)state;
	assert_int_equal(crypto_session_hash(k, s, a), 0);
	assert_int_equal(crypto_token_hash(k, s, b), 0);
	assert_memory_not_equal(a, b, KW_HASH_LEN);
	crypto_keys_free(k);
}

static void
csrf_is_bound_to_the_session_and_key(void **state)
{
	struct crypto_keys	*k1 = keys_with(0x11), *k2 = keys_with(0x22);
	char			 s1[KW_TOKEN_STR_MAX], s2[KW_TOKEN_STR_MAX];
	char			 a[KW_CSRF_LEN + 1], b[KW_CSRF_LEN + 1];
	char			 c[KW_CSRF_LEN + 1], d[KW_CSRF_LEN + 1];

	(void)state;
	assert_int_equal(crypto_session_new(s1, sizeof(s1)), 0);
	assert_int_equal(crypto_session_new(s2, sizeof(s2)), 0);
	assert_int_equal(crypto_session_csrf(k1, s1, a, sizeof(a)), 0);
	assert_int_equal(crypto_session_csrf(k1, s1, b, sizeof(b)), 0);
	assert_int_equal(crypto_session_csrf(k1, s2, c, sizeof(c)), 0);
	assert_int_equal(crypto_session_csrf(k2, s1, d, sizeof(d)), 0);
	assert_int_equal(strlen(a), KW_CSRF_LEN);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	/* the CSRF token reveals nothing of the secret */
	assert_null(strstr(s1, a));
	assert_int_not_equal(crypto_session_csrf(k1, s1, a, KW_CSRF_LEN), 0);
	crypto_keys_free(k1);
	crypto_keys_free(k2);
}

static void
pkce_s256_known_vector(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(crypto_pkce_s256(
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW-gFWFOEjXk", out, sizeof(out)), 0);
	/* base64url(SHA-256(verifier)), computed independently */
	assert_string_equal(out, "90EpwHQr_xi9uDtjYyz5mq9Z4RekugHRqg5ijpXC3FQ");
}

static void
b64url_round_trip_and_refusals(void **state)
{
	unsigned char	in[40], back[40];
	char		text[64], rnd[64];
	size_t		n, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 250);
	assert_int_equal(crypto_b64url_encode(in, sizeof(in), text,
	    sizeof(text)), 0);
	assert_null(strpbrk(text, "+/="));
	assert_int_equal(crypto_b64url_decode(text, back, sizeof(back), &n), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(in, back, n);
	assert_int_not_equal(crypto_b64url_decode("ab+c", back, sizeof(back),
	    &n), 0);
	assert_int_not_equal(crypto_b64url_decode("YWJj=", back, sizeof(back),
	    &n), 0);
	assert_int_not_equal(crypto_b64url_decode(text, back, 4, &n), 0);
	assert_int_not_equal(crypto_b64url_encode(in, sizeof(in), text, 8), 0);
	assert_int_equal(crypto_random_b64url(32, rnd, sizeof(rnd)), 0);
	assert_int_equal(strlen(rnd), 43);
	assert_int_equal(crypto_b64_encode("a:b", 3, text, sizeof(text)), 0);
	assert_string_equal(text, "YTpi");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_is_idempotent),
		cmocka_unit_test(token_has_prefix_length_and_alphabet),
		cmocka_unit_test(tokens_differ),
		cmocka_unit_test(token_new_refuses_small_buffer),
		cmocka_unit_test(wellformed_accepts_generated_tokens),
		cmocka_unit_test(wellformed_rejects_wrong_prefix),
		cmocka_unit_test(wellformed_rejects_short),
		cmocka_unit_test(wellformed_rejects_bad_alphabet),
		cmocka_unit_test(wellformed_rejects_non_ascii),
		cmocka_unit_test(wellformed_rejects_padding),
		cmocka_unit_test(wellformed_rejects_overlong),
		cmocka_unit_test(token_hash_is_deterministic),
		cmocka_unit_test(token_hash_depends_on_master_key),
		cmocka_unit_test(token_hash_depends_on_token),
		cmocka_unit_test(eq_equal_and_unequal),
		cmocka_unit_test(seal_open_round_trip),
		cmocka_unit_test(seal_twice_differs),
		cmocka_unit_test(seal_empty_plaintext),
		cmocka_unit_test(open_detects_flipped_nonce),
		cmocka_unit_test(open_detects_flipped_ciphertext),
		cmocka_unit_test(open_detects_flipped_tag),
		cmocka_unit_test(open_refuses_other_associated_data),
		cmocka_unit_test(open_refuses_other_master_key),
		cmocka_unit_test(open_refuses_truncated_input),
		cmocka_unit_test(seal_refuses_small_output),
		cmocka_unit_test(open_refuses_small_output),
		cmocka_unit_test(master_key_create_makes_private_32_byte_file),
		cmocka_unit_test(master_key_create_refuses_existing_file),
		cmocka_unit_test(master_key_create_fails_in_missing_dir),
		cmocka_unit_test(keys_load_refuses_group_or_world_readable),
		cmocka_unit_test(keys_load_refuses_wrong_size),
		cmocka_unit_test(keys_load_refuses_missing_file),
		cmocka_unit_test(keys_load_matches_keys_from_bytes),
		cmocka_unit_test(keys_free_accepts_null),
		cmocka_unit_test(fingerprint_shape_and_determinism),
		cmocka_unit_test(random_id_shape),
		cmocka_unit_test(sha256_known_vector),
		cmocka_unit_test(sha256_incremental_equals_one_shot),
		cmocka_unit_test(sha256_openssl_matches_known_vectors),
		cmocka_unit_test(session_secret_shape_and_kinds),
		cmocka_unit_test(session_hash_differs_from_token_hash),
		cmocka_unit_test(csrf_is_bound_to_the_session_and_key),
		cmocka_unit_test(pkce_s256_known_vector),
		cmocka_unit_test(b64url_round_trip_and_refusals),
	};

	return cmocka_run_group_tests_name("crypto", tests, group_setup, NULL);
}
