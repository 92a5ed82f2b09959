/*
 * sha.c — an anchor of the benchmark: raw SHA-256 throughput over records
 * of a given size, for the audit chain's verification to be read against.
 *
 *   sodium          libsodium crypto_hash_sha256 (one call per record), the
 *                   library keywarden's audit chain uses
 *   sodium_stream   libsodium init/update/final, as audit_hash() feeds it
 *                   (prev hash, "\n", canonical record) plus the hex
 *   evp_reused      OpenSSL EVP, one context reused (only if built with
 *                   HAVE_LIBCRYPTO)
 *   evp_oneshot     OpenSSL EVP_Digest (idem)
 *   evp_reused_cpu  evp_reused per second of CPU time (user + sys) rather
 *                   than of wall time
 *
 * Each is run for SECONDS over a ring of distinct records and printed as
 * one JSON line: {"record_bytes":N,"sodium":H,...} in hashes per second.
 *
 * usage: bench-sha RECORD_BYTES SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#ifdef HAVE_LIBCRYPTO
#include <openssl/evp.h>
#endif

#define RING	1024
#define BATCH	1024		/* hashes between clock reads */

static unsigned char	*recs;
static size_t		 reclen;
static unsigned char	 sink[32];
static double		 last_cpu_rate;	/* of the last run(), per CPU-s */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + sys) of this process so far. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char *
rec(size_t i)
{
	unsigned char *r = recs + (i % RING) * reclen;

	/* make each hash depend on the previous one */
	r[reclen - 1] ^= sink[0];
	return r;
}

static void
h_sodium(size_t i)
{
	crypto_hash_sha256(sink, rec(i), reclen);
}

static void
h_sodium_stream(size_t i)
{
	crypto_hash_sha256_state	 st;
	unsigned char			*r = rec(i);
	char				 hex[65];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, r, 64);
	crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&st, r + 65, reclen - 65);
	crypto_hash_sha256_final(&st, sink);
	sodium_bin2hex(hex, sizeof(hex), sink, 32);
	sink[1] ^= (unsigned char)hex[0];
}

#ifdef HAVE_LIBCRYPTO
static EVP_MD_CTX	*ctx;
static EVP_MD		*md;

static void
h_evp_reused(size_t i)
{
	unsigned int n;

	EVP_DigestInit_ex(ctx, md, NULL);
	EVP_DigestUpdate(ctx, rec(i), reclen);
	EVP_DigestFinal_ex(ctx, sink, &n);
}

static void
h_evp_oneshot(size_t i)
{
	unsigned int n;

	EVP_Digest(rec(i), reclen, sink, &n, EVP_sha256(), NULL);
}
#endif

static double
run(void (*fn)(size_t), double seconds)
{
	double	t0 = now_s(), c0 = cpu_s(), t;
	size_t	i = 0, j;

	do {
		for (j = 0; j < BATCH; j++)
			fn(i++);
		t = now_s();
	} while (t - t0 < seconds);
	last_cpu_rate = (double)i / (cpu_s() - c0);
	return (double)i / (t - t0);
}

int
main(int argc, char **argv)
{
	double	seconds;
	size_t	i;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-sha RECORD_BYTES SECONDS\n");
		return 2;
	}
	reclen = (size_t)atoi(argv[1]);
	seconds = atof(argv[2]);
	if (reclen < 80 || reclen > 65536 || seconds <= 0) {
		fprintf(stderr, "bench-sha: RECORD_BYTES in [80, 65536]\n");
		return 2;
	}
	if (sodium_init() < 0 || (recs = malloc(RING * reclen)) == NULL)
		return 1;
	randombytes_buf(recs, RING * reclen);
	printf("{\"record_bytes\":%zu", reclen);
	printf(",\"sodium\":%.0f", run(h_sodium, seconds));
	printf(",\"sodium_stream\":%.0f", run(h_sodium_stream, seconds));
#ifdef HAVE_LIBCRYPTO
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		return 1;
	printf(",\"evp_reused\":%.0f", run(h_evp_reused, seconds));
	/* the same per second of CPU: what a loaded machine does not skew */
	printf(",\"evp_reused_cpu\":%.0f", last_cpu_rate);
	printf(",\"evp_oneshot\":%.0f", run(h_evp_oneshot, seconds));
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
#endif
	for (i = 0; i < sizeof(sink); i++)
		sink[0] ^= sink[i];
	printf(",\"sink\":%u}\n", sink[0]);
	free(recs);
	return 0;
}
