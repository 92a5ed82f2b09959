/*
 * test_slack.c — the pure parts of the Slack channel: HMAC-SHA256 and
 * request signatures (against vectors computed independently with
 * Python's hmac module), their verification window, form decoding, the
 * response_url allow-list, the mrkdwn text builder (user strings escaped,
 * cut between characters) and which Slack errors are permanent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "crypto/crypto.h"
#include "notify/slack.h"
#include "util/buf.h"

#define SECRET	"8f742231b10e8888abcd99yyyzzz85a5"
#define TS	"1531420618"
#define BODY	"payload=%7B%22type%22%3A%22block_actions%22%7D"
/* hmac.new(SECRET, b"v0:" + TS + b":" + BODY, sha256).hexdigest() */
#define SIG	"v0=9dffc25b49a4a7fc2e15c9c9450bf8af" \
		"09eb501fcef9039eaea3deb58af0c82c"
#define NOW	((time_t)1531420618)

static int
setup(void **state)
{
	(void)state;
	return crypto_init();
}

static void
tohex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* ---- HMAC ---------------------------------------------------------------- */

static void
hmac_known_vector(void **state)
{
	static const char msg[] = "The quick brown fox jumps over the lazy dog";
	unsigned char	 mac[32];
	char		 h[KW_HASH_HEX_LEN + 1];

	(void)state;
	assert_int_equal(crypto_hmac_sha256("key", 3, msg, strlen(msg), mac),
	    0);
	tohex(mac, sizeof(mac), h);
	assert_string_equal(h, "f7bc83f430538424b13298e6aa6fb143"
	    "ef4d59a14946175997479dbc2d1a3cd8");
}

static void
hmac_long_key(void **state)
{
	unsigned char	 key[100], mac[32];
	char		 h[KW_HASH_HEX_LEN + 1];

	(void)state;
	memset(key, 'k', sizeof(key));	/* longer than a block: hashed */
	assert_int_equal(crypto_hmac_sha256(key, sizeof(key), "hello", 5,
	    mac), 0);
	tohex(mac, sizeof(mac), h);
	assert_string_equal(h, "3fd578d761a4f6703009e92d2e8a0aea"
	    "22ab9ab50d4ad250dc95d8c369dec3f5");
}

/* ---- signatures ---------------------------------------------------------- */

static void
signature_known_vector(void **state)
{
	unsigned char	 mac[32];
	char		 sig[SLACK_SIG_LEN + 1], h[KW_HASH_HEX_LEN + 1];
	const char	*base = "v0:" TS ":" BODY;

	(void)state;
	assert_int_equal(slack_signature(SECRET, TS, BODY, strlen(BODY), sig),
	    0);
	assert_string_equal(sig, SIG);
	/* the same through the primitive */
	assert_int_equal(crypto_hmac_sha256(SECRET, strlen(SECRET), base,
	    strlen(base), mac), 0);
	tohex(mac, sizeof(mac), h);
	assert_string_equal(h, SIG + 3);
}

static void
signature_refuses_non_decimal_timestamp(void **state)
{
	char sig[SLACK_SIG_LEN + 1];

	(void)state;
	assert_int_equal(slack_signature(SECRET, "12a", BODY, strlen(BODY),
	    sig), KW_ERR_VALIDATION);
	assert_int_equal(slack_signature(SECRET, "", BODY, strlen(BODY), sig),
	    KW_ERR_VALIDATION);
	assert_int_equal(slack_signature(SECRET, "-5", BODY, strlen(BODY),
	    sig), KW_ERR_VALIDATION);
}

static void
verify_accepts_good_signature(void **state)
{
	(void)state;
	assert_int_equal(slack_verify(SECRET, TS, SIG, BODY, strlen(BODY),
	    NOW), 0);
	assert_int_equal(slack_verify(SECRET, TS, SIG, BODY, strlen(BODY),
	    NOW + 300), 0);
	assert_int_equal(slack_verify(SECRET, TS, SIG, BODY, strlen(BODY),
	    NOW - 300), 0);
}

static void
verify_refuses_stale_or_future_timestamp(void **state)
{
	(void)state;
	assert_int_equal(slack_verify(SECRET, TS, SIG, BODY, strlen(BODY),
	    NOW + 301), KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify(SECRET, TS, SIG, BODY, strlen(BODY),
	    NOW - 301), KW_ERR_UNAUTHENTICATED);
}

static void
verify_refuses_tampering(void **state)
{
	char bad[sizeof(SIG)];

	(void)state;
	/* another body, another secret, another timestamp */
	assert_int_equal(slack_verify(SECRET, TS, SIG, BODY "x",
	    strlen(BODY) + 1, NOW), KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify(SECRET "x", TS, SIG, BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify(SECRET, "1531420619", SIG, BODY,
	    strlen(BODY), NOW), KW_ERR_UNAUTHENTICATED);
	/* one flipped digit, a truncated or wrong-version signature */
	memcpy(bad, SIG, sizeof(SIG));
	bad[10] = bad[10] == '0' ? '1' : '0';
	assert_int_equal(slack_verify(SECRET, TS, bad, BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
	bad[sizeof(SIG) - 2] = '\0';
	memcpy(bad, SIG, sizeof(SIG) - 2);
	assert_int_equal(slack_verify(SECRET, TS, bad, BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
	memcpy(bad, SIG, sizeof(SIG));
	bad[1] = '1';
	assert_int_equal(slack_verify(SECRET, TS, bad, BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
	/* upper-case hex is not what Slack sends */
	assert_int_equal(slack_verify(SECRET, TS, "V0=9DFFC25B49A4A7FC2E15C9"
	    "C9450BF8AF09EB501FCEF9039EAEA3DEB58AF0C82C", BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
}

static void
verify_refuses_missing_parts(void **state)
{
	(void)state;
	assert_int_equal(slack_verify(SECRET, NULL, SIG, BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify(SECRET, TS, NULL, BODY, strlen(BODY),
	    NOW), KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify("", TS, SIG, BODY, strlen(BODY), NOW),
	    KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify(SECRET, "1531420618.5", SIG, BODY,
	    strlen(BODY), NOW), KW_ERR_UNAUTHENTICATED);
	assert_int_equal(slack_verify(SECRET, "99999999999999999999", SIG,
	    BODY, strlen(BODY), NOW), KW_ERR_UNAUTHENTICATED);
}

/* ---- forms --------------------------------------------------------------- */

static void
form_decodes_plus_and_escapes(void **state)
{
	static const char b[] = "a=1&payload=%7B%22t%22%3A+%22x+y%22%7D&z=";
	char out[128];

	(void)state;
	assert_int_equal(slack_form_value(b, strlen(b), "payload", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "{\"t\": \"x y\"}");
	assert_int_equal(slack_form_value(b, strlen(b), "a", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "1");
	assert_int_equal(slack_form_value(b, strlen(b), "z", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(slack_form_value(b, strlen(b), "missing", out,
	    sizeof(out)), KW_ERR_NOT_FOUND);
}

static void
form_decodes_escaped_names_and_utf8(void **state)
{
	static const char b[] = "pay%6Coad=caf%C3%A9%2b%26";
	char out[64];

	(void)state;
	assert_int_equal(slack_form_value(b, strlen(b), "payload", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "caf\xc3\xa9+&");
}

static void
form_respects_length(void **state)
{
	static const char b[] = "payload=abc&x=1";
	char out[64];

	(void)state;
	/* only the first 11 bytes are the body */
	assert_int_equal(slack_form_value(b, 11, "payload", out, sizeof(out)),
	    0);
	assert_string_equal(out, "abc");
	assert_int_equal(slack_form_value(b, 11, "x", out, sizeof(out)),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(slack_form_value(b, 10, "payload", out, sizeof(out)),
	    0);
	assert_string_equal(out, "ab");
}

static void
form_refuses_bad_escapes(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(slack_form_value("payload=%4", 10, "payload", out,
	    sizeof(out)), KW_ERR_VALIDATION);
	assert_int_equal(slack_form_value("payload=%", 9, "payload", out,
	    sizeof(out)), KW_ERR_VALIDATION);
	assert_int_equal(slack_form_value("payload=%zz", 11, "payload", out,
	    sizeof(out)), KW_ERR_VALIDATION);
	assert_int_equal(slack_form_value("payload=a%00b", 13, "payload", out,
	    sizeof(out)), KW_ERR_VALIDATION);
}

static void
form_refuses_overflow(void **state)
{
	char out[4];

	(void)state;
	assert_int_equal(slack_form_value("payload=abcd", 12, "payload", out,
	    sizeof(out)), KW_ERR_TOO_LARGE);
	assert_int_equal(slack_form_value("payload=abc", 11, "payload", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "abc");
}

/* ---- response_url allow-list --------------------------------------------- */

static void
response_url_allows_slack_hooks(void **state)
{
	(void)state;
	assert_true(slack_response_url_ok("https://hooks.slack.com/actions/"
	    "T1/1234/abcd", "https://slack.com/api"));
	assert_true(slack_response_url_ok("https://hooks.slack.com/actions/x",
	    NULL));
}

static void
response_url_allows_the_configured_origin(void **state)
{
	(void)state;
	assert_true(slack_response_url_ok("http://127.0.0.1:4567/actions/1",
	    "http://127.0.0.1:4567/api"));
	assert_true(slack_response_url_ok("https://slack.example.com/a",
	    "https://slack.example.com/api"));
	/* another port, scheme or host is another origin */
	assert_false(slack_response_url_ok("http://127.0.0.1:4568/actions/1",
	    "http://127.0.0.1:4567/api"));
	assert_false(slack_response_url_ok("https://127.0.0.1:4567/actions/1",
	    "http://127.0.0.1:4567/api"));
	assert_false(slack_response_url_ok("https://slack.example.com.evil.io"
	    "/a", "https://slack.example.com/api"));
	assert_false(slack_response_url_ok("https://slack.example.com:8443/a",
	    "https://slack.example.com/api"));
}

static void
response_url_refuses_the_rest(void **state)
{
	(void)state;
	assert_false(slack_response_url_ok("https://evil.example/actions/1",
	    "https://slack.com/api"));
	assert_false(slack_response_url_ok("http://hooks.slack.com/actions/1",
	    "https://slack.com/api"));
	assert_false(slack_response_url_ok("https://hooks.slack.com.evil.io/"
	    "x", "https://slack.com/api"));
	assert_false(slack_response_url_ok("https://hooks.slack.com@evil.io/"
	    "x", "https://slack.com/api"));
	assert_false(slack_response_url_ok("https://hooks.slack.com",
	    "https://slack.com/api"));
	assert_false(slack_response_url_ok("http://10.0.0.1/actions/1",
	    "http://10.0.0.1/api"));
	assert_false(slack_response_url_ok("ftp://hooks.slack.com/x",
	    "https://slack.com/api"));
	assert_false(slack_response_url_ok("", "https://slack.com/api"));
	assert_false(slack_response_url_ok(NULL, "https://slack.com/api"));
}

/* ---- mrkdwn ------------------------------------------------------------- */

static void
mrkdwn_escapes_every_string_argument(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(slack_mrkdwn_printf(&b, "*Why:* %s <%s|x> %d%%",
	    "<!here> & <https://evil.example|Open in keywarden>", "ok", 7), 0);
	/* the format is markup, the arguments are data */
	assert_string_equal(buf_str(&b), "*Why:* &lt;!here&gt; &amp; "
	    "&lt;https://evil.example|Open in keywarden&gt; <ok|x> 7%");
	buf_free(&b);
	buf_init(&b, 4096);
	assert_int_equal(slack_mrkdwn_printf(&b, "%s|%zu|%lld|%s", "a>b",
	    (size_t)12, -3LL, getenv("KW_TEST_UNSET_VARIABLE")), 0);
	assert_string_equal(buf_str(&b), "a&gt;b|12|-3|-");
	buf_free(&b);
}

static void
mrkdwn_precision_cuts_between_characters(void **state)
{
	struct buf	b;
	char		euros[3 * 5 + 1] = "";
	int		i;

	(void)state;
	for (i = 0; i < 5; i++)
		strcat(euros, "\xe2\x82\xac");		/* U+20AC, 3 bytes */
	buf_init(&b, 4096);
	/* 7 bytes fall inside the third euro sign: two are kept */
	assert_int_equal(slack_mrkdwn_printf(&b, "[%.*s]", 7, euros), 0);
	assert_string_equal(buf_str(&b), "[\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x80\xa6]");
	buf_free(&b);
	/* short enough: as is, no mark; the cut counts input bytes */
	buf_init(&b, 4096);
	assert_int_equal(slack_mrkdwn_printf(&b, "%.*s|%.*s", 15, euros, 2,
	    "<<<"), 0);
	assert_string_equal(buf_str(&b), "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	    "\xe2\x82\xac\xe2\x82\xac|&lt;&lt;\xe2\x80\xa6");
	buf_free(&b);
}

static void
mrkdwn_refuses_unknown_conversions(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(slack_mrkdwn_printf(&b, "%x", 1u), KW_ERR_INTERNAL);
	buf_free(&b);
	buf_init(&b, 8);
	assert_int_equal(slack_mrkdwn_printf(&b, "%s", "<<<<<<<<"),
	    KW_ERR_TOO_LARGE);
	buf_free(&b);
}

static void
mrkdwn_cut_keeps_characters_and_entities_whole(void **state)
{
	(void)state;
	assert_int_equal(slack_mrkdwn_cut("abc", 10), 3);
	assert_int_equal(slack_mrkdwn_cut("abcdef", 4), 4);
	/* inside "&lt;": back to before the '&' */
	assert_int_equal(slack_mrkdwn_cut("ab&lt;cd", 4), 2);
	assert_int_equal(slack_mrkdwn_cut("ab&lt;cd", 5), 2);
	assert_int_equal(slack_mrkdwn_cut("ab&lt;cd", 6), 6);
	assert_int_equal(slack_mrkdwn_cut("&amp;&amp;", 9), 5);
	/* inside a 3-byte character */
	assert_int_equal(slack_mrkdwn_cut("a\xe2\x82\xac", 3), 1);
	assert_int_equal(slack_mrkdwn_cut("a\xe2\x82\xac", 4), 4);
}

static void
permanent_errors_are_the_message_level_ones(void **state)
{
	static const char *const permanent[] = { "invalid_blocks",
	    "msg_too_long", "invalid_arguments", "channel_not_found",
	    "user_not_found", "no_text", "invalid_payload", "expired_url" };
	static const char *const transient[] = { "invalid_auth",
	    "not_authed", "token_revoked", "account_inactive", "ratelimited",
	    "internal_error", "fatal_error", "service_unavailable", "",
	    "invalid_blocks2" };
	size_t i;

	(void)state;
	for (i = 0; i < KW_NELEM(permanent); i++)
		assert_true(slack_error_permanent(permanent[i]));
	for (i = 0; i < KW_NELEM(transient); i++)
		assert_false(slack_error_permanent(transient[i]));
	assert_false(slack_error_permanent(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hmac_known_vector),
		cmocka_unit_test(hmac_long_key),
		cmocka_unit_test(signature_known_vector),
		cmocka_unit_test(signature_refuses_non_decimal_timestamp),
		cmocka_unit_test(verify_accepts_good_signature),
		cmocka_unit_test(verify_refuses_stale_or_future_timestamp),
		cmocka_unit_test(verify_refuses_tampering),
		cmocka_unit_test(verify_refuses_missing_parts),
		cmocka_unit_test(form_decodes_plus_and_escapes),
		cmocka_unit_test(form_decodes_escaped_names_and_utf8),
		cmocka_unit_test(form_respects_length),
		cmocka_unit_test(form_refuses_bad_escapes),
		cmocka_unit_test(form_refuses_overflow),
		cmocka_unit_test(response_url_allows_slack_hooks),
		cmocka_unit_test(response_url_allows_the_configured_origin),
		cmocka_unit_test(response_url_refuses_the_rest),
		cmocka_unit_test(mrkdwn_escapes_every_string_argument),
		cmocka_unit_test(mrkdwn_precision_cuts_between_characters),
		cmocka_unit_test(mrkdwn_refuses_unknown_conversions),
		cmocka_unit_test(mrkdwn_cut_keeps_characters_and_entities_whole),
		cmocka_unit_test(permanent_errors_are_the_message_level_ones),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
