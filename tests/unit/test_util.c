/*
 * test_util.c — the boundary syntax checks (email, URL, slug, text), RFC
 * 3339 times, bounded copies, the length-tracked buffer, and jansson's
 * wiping allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "util/addr.h"
#include "util/buf.h"
#include "util/jalloc.h"
#include "util/util.h"

/* s with bytes outside printable ASCII shown as \xNN, for messages. */
static const char *
esc(const char *s)
{
	static char	out[512];
	size_t		n = 0;

	for (; *s != '\0' && n + 5 < sizeof(out); s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f)
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, sizeof(out) - n,
			    "\\x%02x", c);
	}
	out[n] = '\0';
	return out;
}

/* Assert f(s) == want for every string of a NULL-terminated list, naming
 * the first one that disagrees. */
#define EXPECT_ALL(f, want, list) do {					\
	size_t i_;							\
	for (i_ = 0; (list)[i_] != NULL; i_++)				\
		if (!!(f((list)[i_])) != (want))			\
			fail_msg("%s(\"%s\") should be %d", #f,		\
			    esc((list)[i_]), (want));			\
} while (0)

static int
url_strict(const char *s)
{
	return kw_valid_url(s, 0);
}

static int
url_loopback_ok(const char *s)
{
	return kw_valid_url(s, 1);
}

static int
text_64(const char *s)
{
	return kw_valid_text(s, 64);
}

static int
slug_16(const char *s)
{
	return kw_valid_slug(s, 16);
}

/* ---- email ------------------------------------------------------------ */

static void
email_good(void **state)
{
	const char *const good[] = { "a@b.co", "ada@example.com",
	    "first.last+tag@sub.example.co.uk", "x_y-z@e-x.ample.org", NULL };

	(void)state;
	EXPECT_ALL(kw_valid_email, 1, good);
}

static void
email_bad(void **state)
{
	const char *const bad[] = { "", "a", "@b.co", "a@", "a@b",
	    "a@@b.co", "a@b@c.co", "a b@c.co", "a@b .co", " a@b.co",
	    "a@b.co ", "a@.co", "a@b.", "a@b..co", "a@-b.co", "a\t@b.co",
	    "<a>@b.co", "a,b@c.co", "\"a\"@b.co", "a@[1.2.3.4]",
	    "\xc3\xa4@b.co", NULL };

	(void)state;
	EXPECT_ALL(kw_valid_email, 0, bad);
}

static void
email_length_limit(void **state)
{
	char	s[KW_EMAIL_MAX + 2];
	size_t	n;

	(void)state;
	/* local part of a's, then "@example.com", exactly KW_EMAIL_MAX */
	n = KW_EMAIL_MAX - strlen("@example.com");
	memset(s, 'a', n);
	strcpy(s + n, "@example.com");
	assert_int_equal(strlen(s), KW_EMAIL_MAX);
	assert_true(kw_valid_email(s));
	memset(s, 'a', n + 1);
	strcpy(s + n + 1, "@example.com");
	assert_false(kw_valid_email(s));
}

/* ---- URLs ------------------------------------------------------------- */

static void
url_https_accepted(void **state)
{
	const char *const good[] = { "https://kw.example.com",
	    "https://kw.example.com/", "https://kw.example.com:8443/a/b?q=1#f",
	    "https://acme.zendesk.com", "https://[::1]:8443/",
	    "https://kw.example.com/path@with-at", NULL };

	(void)state;
	EXPECT_ALL(url_strict, 1, good);
	EXPECT_ALL(url_loopback_ok, 1, good);
}

static void
url_plain_http_refused_off_loopback(void **state)
{
	const char *const bad[] = { "http://kw.example.com",
	    "http://10.0.0.1:8200/", "http://128.0.0.1/", "http://0.0.0.0/",
	    "http://[::2]/", NULL };

	(void)state;
	EXPECT_ALL(url_strict, 0, bad);
	EXPECT_ALL(url_loopback_ok, 0, bad);
}

static void
url_loopback_http_only_when_allowed(void **state)
{
	const char *const loop[] = { "http://127.0.0.1:9",
	    "http://127.0.0.1:9/", "http://127.1.2.3/x",
	    "http://localhost:8080/api", "http://[::1]:8200/", "http://[::1]",
	    NULL };

	(void)state;
	EXPECT_ALL(url_strict, 0, loop);
	EXPECT_ALL(url_loopback_ok, 1, loop);
}

/* Names that merely start like a loopback address are not loopback. */
static void
url_loopback_lookalikes_refused(void **state)
{
	const char *const bad[] = { "http://127.evil.com/",
	    "http://127.0.0.1.nip.io/", "http://localhost.evil.com/",
	    "http://127.0.0.256/", NULL };

	(void)state;
	EXPECT_ALL(url_loopback_ok, 0, bad);
}

static void
url_userinfo_refused(void **state)
{
	const char *const bad[] = { "https://user@kw.example.com",
	    "https://user:pw@kw.example.com/",
	    "https://kw.example.com@evil.com/", "http://x@127.0.0.1/", NULL };

	(void)state;
	EXPECT_ALL(url_strict, 0, bad);
	EXPECT_ALL(url_loopback_ok, 0, bad);
}

static void
url_spaces_and_controls_refused(void **state)
{
	const char *const bad[] = { "https://kw.example.com/a b",
	    "https://kw example.com", " https://kw.example.com",
	    "https://kw.example.com\n", "https://kw.example.com/\x7f",
	    "https://kw.example.com/\xc3\xa4", NULL };

	(void)state;
	EXPECT_ALL(url_loopback_ok, 0, bad);
}

static void
url_other_schemes_and_shapes_refused(void **state)
{
	const char *const bad[] = { "", "ftp://kw.example.com",
	    "file:///etc/passwd", "javascript:alert(1)", "kw.example.com",
	    "//kw.example.com", "HTTPS//kw.example.com", "https://",
	    "https:///path", "https://:443/", "https://[::1", "https://[]/",
	    "https://kw.exa<mple.com/", NULL };

	(void)state;
	EXPECT_ALL(url_loopback_ok, 0, bad);
}

static void
url_length_limit(void **state)
{
	char	u[KW_URL_MAX + 2];
	size_t	head = strlen("https://kw.example.com/");

	(void)state;
	memcpy(u, "https://kw.example.com/", head);
	memset(u + head, 'a', KW_URL_MAX - head);
	u[KW_URL_MAX] = '\0';
	assert_true(kw_valid_url(u, 0));		/* exactly KW_URL_MAX */
	strcat(u, "a");
	assert_false(kw_valid_url(u, 0));
}

static void
url_is_loopback(void **state)
{
	const char *const yes[] = { "http://127.0.0.1:9/", "http://127.1.2.3/",
	    "http://localhost/", "http://LOCALHOST:80/", "http://[::1]:80/",
	    "https://127.0.0.1/", NULL };
	const char *const no[] = { "http://128.0.0.1/", "http://127.evil.com/",
	    "http://localhost.evil.com/", "http://[::2]/", "ftp://127.0.0.1/",
	    "http://0.0.0.0/", "https://kw.example.com/", "127.0.0.1", NULL };

	(void)state;
	EXPECT_ALL(kw_url_is_loopback, 1, yes);
	EXPECT_ALL(kw_url_is_loopback, 0, no);
}

/* ---- slugs ------------------------------------------------------------ */

static void
slug_good_and_bad(void **state)
{
	const char *const good[] = { "a", "0day", "acme-support",
	    "acme_eu-2", NULL };
	const char *const bad[] = { "", "-a", "_a", "A", "aB", "a b", "a.b",
	    "a/b", "\xc3\xa9t\xc3\xa9", "a\n", NULL };

	(void)state;
	EXPECT_ALL(slug_16, 1, good);
	EXPECT_ALL(slug_16, 0, bad);
}

static void
slug_length_limit(void **state)
{
	(void)state;
	assert_true(kw_valid_slug("abcd", 4));
	assert_false(kw_valid_slug("abcde", 4));
}

/* ---- text ------------------------------------------------------------- */

static void
text_good(void **state)
{
	const char *const good[] = { "", "plain ASCII, with punctuation!",
	    "Zo\xc3\xab", "\xe6\xbc\xa2\xe5\xad\x97", "\xf0\x9f\x94\x91 key",
	    "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", NULL };

	(void)state;
	EXPECT_ALL(text_64, 1, good);
}

static void
text_refuses_controls(void **state)
{
	const char *const bad[] = { "a\tb", "a\nb", "a\rb", "\x01", "\x1b[31m",
	    "\x1f", "del\x7f", NULL };

	(void)state;
	EXPECT_ALL(text_64, 0, bad);
}

static void
text_refuses_broken_sequences(void **state)
{
	const char *const bad[] = {
	    "\x80",			/* lone continuation byte */
	    "a\xbf",
	    "\xc3",			/* truncated at the end */
	    "\xc3(",			/* lead byte without continuation */
	    "\xe6\xbc",
	    "\xf0\x9f\x94",
	    "\xc0\xaf",			/* overlong 2-byte '/' */
	    "\xc1\xbf",
	    "\xf5\x80\x80\x80",		/* lead bytes that never occur */
	    "\xf8\x88\x80\x80\x80",
	    "\xfe", "\xff",
	    NULL };

	(void)state;
	EXPECT_ALL(text_64, 0, bad);
}

/* Overlong 3- and 4-byte forms, UTF-16 surrogates and code points above
 * U+10FFFF are not UTF-8 either (RFC 3629 section 4). */
static void
text_refuses_overlong_and_surrogates(void **state)
{
	const char *const bad[] = {
	    "\xe0\x80\xaf",		/* overlong '/' */
	    "\xe0\x9f\xbf",		/* overlong U+07FF */
	    "\xed\xa0\x80",		/* U+D800, a surrogate */
	    "\xed\xbf\xbf",		/* U+DFFF */
	    "\xf0\x80\x80\xaf",		/* overlong '/' */
	    "\xf0\x8f\xbf\xbf",		/* overlong U+FFFF */
	    "\xf4\x90\x80\x80",		/* U+110000 */
	    NULL };

	(void)state;
	EXPECT_ALL(text_64, 0, bad);
}

/* U+0080..U+009F are control characters too (C1); U+009B is a CSI that
 * some terminals obey like ESC [. */
static void
text_refuses_c1_controls(void **state)
{
	const char *const bad[] = { "\xc2\x80", "\xc2\x9b" "31m", "\xc2\x9f",
	    NULL };

	(void)state;
	EXPECT_ALL(text_64, 0, bad);
	assert_true(kw_valid_text("\xc2\xa0", 64));	/* U+00A0 is not */
}

static void
text_length_in_bytes(void **state)
{
	(void)state;
	assert_true(kw_valid_text("ab", 2));
	assert_false(kw_valid_text("abc", 2));
	assert_true(kw_valid_text("\xc3\xab", 2));
	assert_false(kw_valid_text("\xc3\xab", 1));
	assert_true(kw_valid_text("", 0));
}

/* ---- time ------------------------------------------------------------- */

static void
time_round_trip(void **state)
{
	const char *const times[] = { "1970-01-01T00:00:00Z",
	    "2026-11-28T09:00:00Z", "2028-02-29T23:59:59Z",
	    "2099-12-31T23:59:59Z", NULL };
	char	out[KW_TIME_LEN + 1];
	time_t	t;
	size_t	i;

	(void)state;
	for (i = 0; times[i] != NULL; i++) {
		assert_int_equal(kw_time_parse(times[i], &t), 0);
		kw_time_fmt(t, out, sizeof(out));
		assert_string_equal(out, times[i]);
	}
	assert_int_equal(kw_time_parse("2000-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 946684800);
	kw_time_fmt(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00Z");
}

static void
time_parse_rejects_other_shapes(void **state)
{
	const char *const bad[] = { "", "2026-11-28", "2026-11-28T09:00:00",
	    "2026-11-28T09:00:00.5Z", "2026-11-28T09:00:00+00:00",
	    "2026-11-28 09:00:00Z", "2026-11-28t09:00:00z",
	    "2026-11-28T09:00:00Zx", " 2026-11-28T09:00:00Z",
	    "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
	    "2026-11-00T00:00:00Z", "2026-11-32T00:00:00Z",
	    "2026-11-28T24:00:00Z", "2026-11-28T09:60:00Z",
	    "x026-11-28T09:00:00Z", "2026/11/28T09:00:00Z", NULL };
	time_t	t = 12345;
	size_t	i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		if (kw_time_parse(bad[i], &t) != -1)
			fail_msg("kw_time_parse(\"%s\") accepted", esc(bad[i]));
		assert_int_equal(t, 12345);
	}
}

/* A day that its month does not have is not a time, and neither is a
 * field padded with a space; neither may be silently moved. */
static void
time_parse_rejects_impossible_dates(void **state)
{
	const char *const bad[] = { "2026-02-31T00:00:00Z",
	    "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
	    "2026- 1-01T00:00:00Z", NULL };
	time_t	t;
	size_t	i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++)
		if (kw_time_parse(bad[i], &t) != -1)
			fail_msg("kw_time_parse(\"%s\") accepted", esc(bad[i]));
}

static void
now_honours_fake_clock(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(kw_time_parse("2026-11-28T09:00:00Z", &t), 0);
	setenv("KEYWARDEN_FAKE_NOW", "2026-11-28T09:00:00Z", 1);
	assert_int_equal(kw_now(), t);
	setenv("KEYWARDEN_FAKE_NOW", "garbage", 1);
	assert_true(kw_now() > t - 10 * 365 * 86400);	/* the real clock */
	unsetenv("KEYWARDEN_FAKE_NOW");
}

/* ---- bounded copies --------------------------------------------------- */

static void
strlcpy_truncates_and_terminates(void **state)
{
	char d[4] = "xyz";

	(void)state;
	assert_int_equal(kw_strlcpy(d, "ab", sizeof(d)), 2);
	assert_string_equal(d, "ab");
	assert_int_equal(kw_strlcpy(d, "abcdef", sizeof(d)), 6);
	assert_string_equal(d, "abc");
	assert_int_equal(kw_strlcpy(d, "zz", 0), 2);
	assert_string_equal(d, "abc");		/* untouched */
	kw_wipe(NULL, 10);
	kw_wipe(d, sizeof(d));
	assert_int_equal(d[0], 0);
	assert_int_equal(d[3], 0);
}

/* ---- buf -------------------------------------------------------------- */

static void
buf_starts_empty(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_err(&b), 0);
	buf_free(&b);
	buf_free(NULL);
}

static void
buf_grows(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b, 1 << 20);
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_add(&b, i % 2 ? "b" : "a", 1), 0);
	assert_int_equal(b.len, 5000);
	assert_true(b.cap > 5000);
	assert_int_equal(strlen(buf_str(&b)), 5000);
	assert_memory_equal(buf_str(&b), "abab", 4);
	assert_int_equal(buf_str(&b)[4999], 'b');
	assert_int_equal(buf_err(&b), 0);
	buf_free(&b);
}

static void
buf_binary_bytes(void **state)
{
	struct buf	b;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	assert_int_equal(buf_add(&b, NULL, 0), 0);
	assert_int_equal(b.len, 3);
	buf_free(&b);
}

static void
buf_max_is_enforced_and_sticky(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_addstr(&b, "0123456789"), 0);	/* max bytes */
	assert_int_equal(buf_addstr(&b, "x"), KW_ERR_TOO_LARGE);
	assert_int_equal(buf_err(&b), KW_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "0123456789");
	/* the first error sticks: later small appends fail too */
	assert_int_equal(buf_add(&b, "", 0), KW_ERR_TOO_LARGE);
	assert_int_equal(buf_printf(&b, "%d", 1), KW_ERR_TOO_LARGE);
	assert_int_equal(b.len, 10);
	buf_free(&b);
	/* after buf_free the buffer is usable again */
	assert_int_equal(buf_err(&b), 0);
	assert_int_equal(buf_addstr(&b, "ok"), 0);
	assert_string_equal(buf_str(&b), "ok");
	buf_free(&b);
}

static void
buf_one_large_append_over_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_addstr(&b, "0123456789A"), KW_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_add(&b, "x", SIZE_MAX), KW_ERR_TOO_LARGE);
	buf_free(&b);
}

static void
buf_printf_appends(void **state)
{
	struct buf	 b;
	char		 big[600];

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(buf_printf(&b, "%s=%d", "threads", 4), 0);
	assert_int_equal(buf_printf(&b, ", %s", "done"), 0);
	assert_string_equal(buf_str(&b), "threads=4, done");
	assert_int_equal(b.len, strlen("threads=4, done"));
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_printf(&b, "[%s]", big), 0);	/* grows */
	assert_int_equal(b.len, 15 + 2 + 599);
	assert_int_equal(buf_str(&b)[b.len - 1], ']');
	assert_int_equal(buf_str(&b)[b.len], '\0');
	buf_free(&b);
}

static void
buf_printf_over_max(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%s", "1234"), 0);
	assert_int_equal(buf_printf(&b, "%s", "56789"), KW_ERR_TOO_LARGE);
	assert_string_equal(buf_str(&b), "1234");
	assert_int_equal(buf_err(&b), KW_ERR_TOO_LARGE);
	buf_free(&b);
}

static void
buf_detach_hands_over(void **state)
{
	struct buf	 b;
	char		*p;
	size_t		 n = 0;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_addstr(&b, "hello"), 0);
	p = buf_detach(&b, &n);
	assert_non_null(p);
	assert_string_equal(p, "hello");
	assert_int_equal(n, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	free(p);
	/* the buffer can be used again */
	assert_int_equal(buf_addstr(&b, "again"), 0);
	assert_string_equal(buf_str(&b), "again");
	buf_free(&b);
}

static void
buf_detach_empty(void **state)
{
	struct buf	 b;
	char		*p;
	size_t		 n = 99;

	(void)state;
	buf_init(&b, 100);
	p = buf_detach(&b, &n);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(n, 0);
	free(p);
	p = buf_detach(&b, NULL);
	assert_non_null(p);
	free(p);
	buf_free(&b);
}


static void
local_path_only_same_origin(void **state)
{
	static const struct { const char *s; int ok; } cases[] = {
		{ "/", 1 }, { "/requests/req_1", 1 }, { "/a?b=c#d", 1 },
		{ "", 0 }, { "//evil.example/x", 0 }, { "/\\evil.example", 0 },
		{ "https://evil.example/", 0 }, { "javascript:alert(1)", 0 },
		{ "evil", 0 }, { "/a b", 0 }, { "/a\tb", 0 }, { "/a\\b", 0 },
		{ "/\xc3\xa9", 0 },
	};
	char	long_path[600];
	size_t	i;

	(void)state;
	for (i = 0; i < KW_NELEM(cases); i++)
		assert_int_equal(kw_local_path(cases[i].s, 512), cases[i].ok);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_false(kw_local_path(long_path, 512));
}

/* Log text: whatever the bytes, valid JSON of valid Unicode; the audit
 * form (buf_add_json_str) is left as it was. */
static void
buf_json_text_replaces_malformed_utf8(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "/plain", "\"/plain\"" },
		{ "caf\xc3\xa9", "\"caf\\u00E9\"" },
		{ "\xf0\x9f\x98\x80", "\"\\uD83D\\uDE00\"" },
		{ "\xed\xa0\x80", "\"\\uFFFD\\uFFFD\\uFFFD\"" }, /* surrogate */
		{ "\xed\xb0\x80x", "\"\\uFFFD\\uFFFD\\uFFFDx\"" },
		{ "\xc0\xaf", "\"\\uFFFD\\uFFFD\"" },		/* overlong */
		{ "\xf8\x88\x80\x80\x80", "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD"
		    "\\uFFFD\"" },
		{ "\xf4\x90\x80\x80", "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\"" },
		{ "a\xe2\x82", "\"a\\uFFFD\\uFFFD\"" },		/* cut short */
		{ "\xff\xfe", "\"\\uFFFD\\uFFFD\"" },
		{ "q\"\\\n\x01", "\"q\\\"\\\\\\n\\u0001\"" },
	};
	struct buf	b;
	size_t		i;

	(void)state;
	for (i = 0; i < KW_NELEM(cases); i++) {
		buf_init(&b, 1024);
		buf_add_json_text(&b, cases[i].in);
		if (strcmp(buf_str(&b), cases[i].out) != 0)
			fail_msg("%s -> %s, want %s", esc(cases[i].in),
			    buf_str(&b), cases[i].out);
		buf_free(&b);
	}
	/* the canonical audit form keeps its historical output */
	buf_init(&b, 1024);
	buf_add_json_str(&b, "\xed\xa0\x80");
	assert_string_equal(buf_str(&b), "\"\\uD800\"");
	buf_free(&b);
}

static void
utf8_cut_never_splits_a_character(void **state)
{
	/* "a", U+00E9 (2 bytes), U+20AC (3), U+1F600 (4) */
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	static const size_t want[] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10 };
	size_t max;

	(void)state;
	for (max = 0; max < KW_NELEM(want); max++)
		assert_int_equal(kw_utf8_cut(s, max), want[max]);
	assert_int_equal(kw_utf8_cut("", 5), 0);
	/* a stray continuation byte counts as one character */
	assert_int_equal(kw_utf8_cut("\x80\x80x", 2), 2);
	/* a truncated sequence at the end is not read past */
	assert_int_equal(kw_utf8_cut("ab\xe2\x82", 10), 4);
}

/* ---- addresses ---------------------------------------------------------- */

static void
addr_list_parses_and_matches(void **state)
{
	struct addr_list	l;
	char			err[160];

	(void)state;
	assert_int_equal(addr_list_parse("10.0.0.0/8, 192.0.2.7 fd00::/8,"
	    "::1", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 4);
	assert_true(addr_list_match(&l, "10.200.3.4"));
	assert_true(addr_list_match(&l, "::ffff:10.1.1.1"));	/* mapped */
	assert_true(addr_list_match(&l, "192.0.2.7"));
	assert_false(addr_list_match(&l, "192.0.2.8"));
	assert_true(addr_list_match(&l, "fd12:3456::1"));
	assert_false(addr_list_match(&l, "fe80::1"));
	assert_true(addr_list_match(&l, "::1"));
	assert_false(addr_list_match(&l, "11.0.0.1"));
	assert_false(addr_list_match(&l, "not-an-address"));
	assert_int_equal(addr_list_parse("", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_false(addr_list_match(&l, "10.0.0.1"));
	/* odd prefixes */
	assert_int_equal(addr_list_parse("172.16.0.0/12", &l, err,
	    sizeof(err)), 0);
	assert_true(addr_list_match(&l, "172.31.255.255"));
	assert_false(addr_list_match(&l, "172.32.0.0"));
}

static void
addr_list_refuses_bad_entries(void **state)
{
	static const char *const bad[] = { "10.0.0.0/33", "10.0.0.0/", "/8",
	    "10.0.0", "fd00::/129", "example.com", "10.0.0.0/8x",
	    "1.2.3.4/-1" };
	struct addr_list	l;
	char			err[160];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(addr_list_parse(bad[i], &l, err, sizeof(err)),
		    KW_ERR_CONFIG);
		assert_non_null(strstr(err, "trusted_proxies"));
	}
}

static void
addr_client_takes_the_rightmost_untrusted_hop(void **state)
{
	struct addr_list	l;
	char			err[160], out[64];

	(void)state;
	assert_int_equal(addr_list_parse("127.0.0.1, 10.0.0.0/8", &l, err,
	    sizeof(err)), 0);
	/* an untrusted peer: its header is not believed */
	addr_client(&l, "198.51.100.1", "203.0.113.9", out, sizeof(out));
	assert_string_equal(out, "198.51.100.1");
	/* a trusted peer: the rightmost hop that is not ours */
	addr_client(&l, "127.0.0.1", "6.6.6.6, 203.0.113.9 ,10.0.0.2", out,
	    sizeof(out));
	assert_string_equal(out, "203.0.113.9");
	/* no header: the peer */
	addr_client(&l, "127.0.0.1", NULL, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	/* garbage in the chain: the last trusted hop seen */
	addr_client(&l, "127.0.0.1", "evil, 10.0.0.3", out, sizeof(out));
	assert_string_equal(out, "10.0.0.3");
	addr_client(&l, "127.0.0.1", "", out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	/* IPv6 clients */
	addr_client(&l, "127.0.0.1", "2001:db8::7", out, sizeof(out));
	assert_string_equal(out, "2001:db8::7");
	/* without a list, nothing is trusted */
	addr_client(NULL, "127.0.0.1", "203.0.113.9", out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
}

static void
addr_loopback(void **state)
{
	(void)state;
	assert_true(addr_is_loopback("127.0.0.1"));
	assert_true(addr_is_loopback("127.9.8.7"));
	assert_true(addr_is_loopback("::1"));
	assert_true(addr_is_loopback("::ffff:127.0.0.1"));
	assert_false(addr_is_loopback("10.0.0.1"));
	assert_false(addr_is_loopback("::2"));
	assert_false(addr_is_loopback("unknown"));
}

/* ---- jansson's wiping allocator (util/jalloc.c) ---- */

static void
alloc_wipe_clears_whole_block(void **state)
{
	unsigned char	*p;
	size_t		 n, i;

	(void)state;
	assert_int_equal(kw_alloc_wipe(NULL), 0);
	p = malloc(37);
	assert_non_null(p);
	n = malloc_usable_size(p);
	assert_true(n >= 37);
	memset(p, 0xa5, n);
	assert_int_equal(kw_alloc_wipe(p), n);
	for (i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
	free(p);
}

static size_t	freed_blocks, freed_dirty, freed_biggest;

static void
record_freed(const void *p, size_t n)
{
	const unsigned char	*c = p;
	size_t			 i;

	freed_blocks++;
	for (i = 0; i < n; i++)
		if (c[i] != 0) {
			freed_dirty++;
			break;
		}
	if (n > freed_biggest)
		freed_biggest = n;
}

/* The case from the review: json_string_set(s, "") frees the old value
 * without clearing it; with the allocator installed it is wiped. */
static void
json_free_wipes_secret(void **state)
{
	static const char	 secret[] = "kwt_0123456789abcdef0123456789abcdef";
	json_malloc_t		 m;
	json_free_t		 f;
	json_t			*o, *s;
	char			*dump;

	(void)state;
	kw_json_alloc_install();
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(f, kw_json_free);
	assert_ptr_equal(m, malloc);

	freed_blocks = freed_dirty = freed_biggest = 0;
	kw_json_freed_hook = record_freed;
	s = json_string(secret);
	assert_non_null(s);
	assert_int_equal(json_string_set(s, ""), 0);
	assert_true(freed_blocks >= 1);
	assert_true(freed_biggest >= sizeof(secret));
	assert_int_equal(freed_dirty, 0);

	/* an object holding it, and the dump buffer's growth */
	freed_blocks = freed_biggest = 0;
	o = json_pack("{s:s, s:o}", "token", secret, "empty", s);
	assert_non_null(o);
	dump = json_dumps(o, 0);
	assert_non_null(dump);
	assert_non_null(strstr(dump, secret));
	kw_json_free(dump);
	json_decref(o);
	assert_true(freed_blocks >= 3);
	assert_true(freed_biggest >= sizeof(secret));
	assert_int_equal(freed_dirty, 0);
	kw_json_freed_hook = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8_cut_never_splits_a_character),
		cmocka_unit_test(addr_list_parses_and_matches),
		cmocka_unit_test(addr_list_refuses_bad_entries),
		cmocka_unit_test(addr_client_takes_the_rightmost_untrusted_hop),
		cmocka_unit_test(addr_loopback),
		cmocka_unit_test(email_good),
		cmocka_unit_test(email_bad),
		cmocka_unit_test(email_length_limit),
		cmocka_unit_test(url_https_accepted),
		cmocka_unit_test(url_plain_http_refused_off_loopback),
		cmocka_unit_test(url_loopback_http_only_when_allowed),
		cmocka_unit_test(url_loopback_lookalikes_refused),
		cmocka_unit_test(url_userinfo_refused),
		cmocka_unit_test(url_spaces_and_controls_refused),
		cmocka_unit_test(url_other_schemes_and_shapes_refused),
		cmocka_unit_test(url_length_limit),
		cmocka_unit_test(url_is_loopback),
		cmocka_unit_test(slug_good_and_bad),
		cmocka_unit_test(slug_length_limit),
		cmocka_unit_test(text_good),
		cmocka_unit_test(text_refuses_controls),
		cmocka_unit_test(text_refuses_broken_sequences),
		cmocka_unit_test(text_refuses_overlong_and_surrogates),
		cmocka_unit_test(text_refuses_c1_controls),
		cmocka_unit_test(text_length_in_bytes),
		cmocka_unit_test(time_round_trip),
		cmocka_unit_test(time_parse_rejects_other_shapes),
		cmocka_unit_test(time_parse_rejects_impossible_dates),
		cmocka_unit_test(now_honours_fake_clock),
		cmocka_unit_test(strlcpy_truncates_and_terminates),
		cmocka_unit_test(buf_starts_empty),
		cmocka_unit_test(buf_grows),
		cmocka_unit_test(buf_binary_bytes),
		cmocka_unit_test(buf_max_is_enforced_and_sticky),
		cmocka_unit_test(buf_one_large_append_over_max),
		cmocka_unit_test(buf_printf_appends),
		cmocka_unit_test(buf_printf_over_max),
		cmocka_unit_test(buf_detach_hands_over),
		cmocka_unit_test(buf_detach_empty),
		cmocka_unit_test(buf_json_text_replaces_malformed_utf8),
		cmocka_unit_test(local_path_only_same_origin),
		cmocka_unit_test(alloc_wipe_clears_whole_block),
		cmocka_unit_test(json_free_wipes_secret),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
