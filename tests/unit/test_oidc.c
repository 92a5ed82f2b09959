/*
 * test_oidc.c — the OpenID Connect relying party's parts that need no
 * identity provider: the client secret file, allowed e-mail domains, and
 * ID tokens refused for their header before any key is fetched (the
 * issuer below is a closed loopback port: a fetch would fail with
 * another reason).
 */
#include <sys/stat.h>

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
#include "config.h"
#include "crypto/crypto.h"
#include "oidc/oidc.h"
#include "util/util.h"

static char secret_path[64];

static void
secret_file(const char *text, mode_t mode)
{
	FILE	*fp;
	int	 fd;

	snprintf(secret_path, sizeof(secret_path), "/tmp/kw-oidc-XXXXXX");
	assert_true((fd = mkstemp(secret_path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(secret_path, mode), 0);
}

static void
config_for(struct config *c, const char *domains)
{
	config_defaults(c);
	snprintf(c->oidc_issuer, sizeof(c->oidc_issuer),
	    "http://127.0.0.1:9");
	snprintf(c->oidc_client_id, sizeof(c->oidc_client_id), "kw");
	snprintf(c->oidc_client_secret_file,
	    sizeof(c->oidc_client_secret_file), "%s", secret_path);
	snprintf(c->oidc_allowed_email_domains,
	    sizeof(c->oidc_allowed_email_domains), "%s", domains);
	c->upstream_timeout = 1;
}

static void
secret_file_must_be_private(void **state)
{
	struct config	 c;
	struct oidc	*o = NULL;
	char		 err[256];

	(void)state;
	secret_file("s3cret\n", 0644);
	config_for(&c, "");
	assert_int_equal(oidc_new(&c, "http://127.0.0.1:8200", &o, err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_null(o);
	assert_non_null(strstr(err, "0600"));
	assert_null(strstr(err, "s3cret"));
	unlink(secret_path);
	secret_file("\n", 0600);
	config_for(&c, "");
	assert_int_equal(oidc_new(&c, "http://127.0.0.1:8200", &o, err,
	    sizeof(err)), KW_ERR_CONFIG);
	unlink(secret_path);
	config_for(&c, "");
	assert_int_equal(oidc_new(&c, "http://127.0.0.1:8200", &o, err,
	    sizeof(err)), KW_ERR_CONFIG);	/* the file is gone */
}

static void
allowed_domains(void **state)
{
	static const struct { const char *list, *email; int ok; } cases[] = {
		{ "", "a@anything.example", 1 },
		{ "example.com", "a@example.com", 1 },
		{ "example.com", "a@EXAMPLE.com", 1 },
		{ "example.com", "a@evil-example.com", 0 },
		{ "example.com", "a@example.com.evil", 0 },
		{ "example.com", "a@sub.example.com", 0 },
		{ "example.org, example.com", "a@example.com", 1 },
		{ "example.org example.com", "a@example.com", 1 },
		{ "example.org,example.com", "a@example.net", 0 },
	};
	struct config	 c;
	struct oidc	*o;
	char		 err[256];
	size_t		 i;

	(void)state;
	secret_file("s3cret\n", 0600);
	for (i = 0; i < KW_NELEM(cases); i++) {
		config_for(&c, cases[i].list);
		assert_int_equal(oidc_new(&c, "http://127.0.0.1:8200", &o,
		    err, sizeof(err)), 0);
		assert_int_equal(oidc_email_allowed(o, cases[i].email),
		    cases[i].ok);
		oidc_free(o);
	}
	unlink(secret_path);
}

static void
header_refusals_before_any_fetch(void **state)
{
	static const struct { const char *tok, *why; } cases[] = {
		/* {"alg":"none"} */
		{ "eyJhbGciOiJub25lIn0.e30.", "id_token_alg_refused: none" },
		/* {"alg":"HS256"} */
		{ "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "id_token_alg_refused: HS256" },
		/* {} */
		{ "e30.e30.c2ln", "id_token_alg_refused: (none)" },
		{ "not a token", "id_token_malformed" },
		{ "", "id_token_malformed" },
	};
	struct config		 c;
	struct oidc		*o;
	struct oidc_identity	 id;
	char			 err[256], why[128];
	size_t			 i;

	(void)state;
	secret_file("s3cret\n", 0600);
	config_for(&c, "");
	assert_int_equal(oidc_new(&c, "http://127.0.0.1:8200", &o, err,
	    sizeof(err)), 0);
	for (i = 0; i < KW_NELEM(cases); i++) {
		why[0] = '\0';
		assert_int_equal(oidc_verify(o, cases[i].tok, "nonce",
		    kw_now(), &id, why, sizeof(why)), KW_ERR_UNAUTHENTICATED);
		assert_string_equal(why, cases[i].why);
		assert_string_equal(id.email, "");
	}
	oidc_free(o);
	unlink(secret_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secret_file_must_be_private),
		cmocka_unit_test(allowed_domains),
		cmocka_unit_test(header_refusals_before_any_fetch),
	};

	assert_int_equal(crypto_init(), 0);
	return cmocka_run_group_tests_name("oidc", tests, NULL, NULL);
}
