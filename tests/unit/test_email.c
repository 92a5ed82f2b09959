/*
 * test_email.c — the e-mail message builder: every required header
 * once, CR/LF in user text never starting a header line, non-ASCII
 * subjects RFC 2047-encoded, bodies quoted-printable with short lines and
 * no line starting with '.', and unusable addresses refused.
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
#include "net/http.h"
#include "notify/email.h"
#include "util/buf.h"

#define AT	((time_t)1764670500)	/* 2025-12-02T10:15:00Z, a Tuesday */

/* The header block of msg (up to the blank line) into a new string. */
static char *
headers_of(const char *msg)
{
	const char	*end = strstr(msg, "\r\n\r\n");
	char		*h;

	assert_non_null(end);
	h = strndup(msg, (size_t)(end - msg) + 2);
	assert_non_null(h);
	return h;
}

/* How many header lines (not continuations) start with name. */
static int
count_headers(const char *h, const char *name)
{
	const char	*p = h;
	int		 n = 0;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, strlen(name)) == 0)
			n++;
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return n;
}

static void
test_headers_are_all_there(void **state)
{
	struct buf	 b;
	char		*h;

	(void)state;
	buf_init(&b, EMAIL_MESSAGE_MAX);
	assert_int_equal(email_message(&b, "kw@example.com", "ann@example.org",
	    "[keywarden] your request", "hello\n", AT, "kw_0a1b"), 0);
	h = headers_of(buf_str(&b));
	assert_non_null(strstr(h, "From: keywarden <kw@example.com>\r\n"));
	assert_non_null(strstr(h, "To: <ann@example.org>\r\n"));
	assert_non_null(strstr(h, "Subject: [keywarden] your request\r\n"));
	assert_non_null(strstr(h, "Date: Tue, 02 Dec 2025 10:15:00 +0000\r\n"));
	assert_non_null(strstr(h, "Message-ID: <kw_0a1b@example.com>\r\n"));
	assert_non_null(strstr(h, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(h, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(h,
	    "Content-Transfer-Encoding: quoted-printable\r\n"));
	free(h);
	buf_free(&b);
}

static void
test_crlf_in_the_subject_never_makes_a_header(void **state)
{
	static const char *const evil[] = {
		"hi\r\nBcc: victim@example.net",
		"hi\nBcc: victim@example.net",
		"hi\rBcc: victim@example.net",
		"caf\xc3\xa9\r\nBcc: victim@example.net",
		"x\r\n\r\nfake body",
	};
	struct buf	 b;
	char		*h;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		buf_init(&b, EMAIL_MESSAGE_MAX);
		assert_int_equal(email_message(&b, "kw@example.com",
		    "ann@example.org", evil[i], "body\n", AT, "kw_1"), 0);
		h = headers_of(buf_str(&b));
		assert_int_equal(count_headers(h, "Bcc:"), 0);
		assert_int_equal(count_headers(h, "Subject:"), 1);
		assert_int_equal(count_headers(h, "To:"), 1);
		/* the first blank line is the end of the real headers */
		assert_non_null(strstr(buf_str(&b), "Auto-Submitted: "
		    "auto-generated\r\n\r\n"));
		free(h);
		buf_free(&b);
	}
}

static void
test_addresses_with_line_breaks_are_refused(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, EMAIL_MESSAGE_MAX);
	assert_int_equal(email_message(&b, "kw@example.com",
	    "ann@example.org\r\nBcc: x@example.net", "s", "b", AT, "kw_1"),
	    KW_ERR_VALIDATION);
	assert_int_equal(email_message(&b, "kw@example.com\nX: y",
	    "ann@example.org", "s", "b", AT, "kw_1"), KW_ERR_VALIDATION);
	assert_int_equal(email_message(&b, "kw@example.com",
	    "Ann <ann@example.org>", "s", "b", AT, "kw_1"), KW_ERR_VALIDATION);
	assert_int_equal(email_message(&b, "kw@example.com",
	    "ann@example.org", "s", "b", AT, "kw\r\n1"), KW_ERR_VALIDATION);
	buf_free(&b);
}

static void
test_non_ascii_subject_is_encoded(void **state)
{
	struct buf	 b;
	char		*h, *line, *save = NULL, *copy;

	(void)state;
	buf_init(&b, EMAIL_MESSAGE_MAX);
	assert_int_equal(email_message(&b, "kw@example.com", "ann@example.org",
	    "Demande d\xc3\xa9j\xc3\xa0 refus\xc3\xa9" "e pour l'instance "
	    "\xc3\xa9t\xc3\xa9-2026 \xe2\x80\x94 voir keywarden", "b\n", AT,
	    "kw_1"), 0);
	h = headers_of(buf_str(&b));
	assert_non_null(strstr(h, "Subject: =?UTF-8?Q?Demande_d=C3=A9j=C3=A0"));
	assert_non_null(strstr(h, "?=\r\n =?UTF-8?Q?"));
	/* folded into several words, each line short, all 7-bit */
	copy = h;
	for (line = strtok_r(copy, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		const unsigned char *p;
		assert_true(strlen(line) <= 78);
		for (p = (const unsigned char *)line; *p; p++)
			assert_true(*p < 0x80);
	}
	free(h);
	buf_free(&b);
}

static void
test_body_is_quoted_printable(void **state)
{
	struct buf	 b;
	const char	*body, *p, *nl;
	char		 big[400];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, EMAIL_MESSAGE_MAX);
	assert_int_equal(email_message(&b, "kw@example.com", "ann@example.org",
	    "s", "caf\xc3\xa9 = 1\n.\n.hidden\ntrailing \n", AT, "kw_1"), 0);
	body = strstr(buf_str(&b), "\r\n\r\n") + 4;
	assert_string_equal(body, "caf=C3=A9 =3D 1\r\n=2E\r\n=2Ehidden\r\n"
	    "trailing=20\r\n");
	buf_free(&b);
	buf_init(&b, EMAIL_MESSAGE_MAX);
	assert_int_equal(email_message(&b, "kw@example.com", "ann@example.org",
	    "s", big, AT, "kw_1"), 0);
	body = strstr(buf_str(&b), "\r\n\r\n") + 4;
	for (p = body; *p; p = nl + 2) {
		nl = strstr(p, "\r\n");
		assert_non_null(nl);
		assert_true(nl - p <= 76);
	}
	buf_free(&b);
}

static void
test_smtp_urls(void **state)
{
	static const char *const good[] = { "smtp://mail.example.com:587",
	    "smtps://mail.example.com", "smtps://mail.example.com:465",
	    "smtp://127.0.0.1:2525", "smtp://[::1]:25", NULL };
	static const char *const bad[] = { "http://mail.example.com",
	    "https://mail.example.com", "smtp://", "smtps://:465",
	    "smtp://user:pw@mail.example.com", "smtp://mail.example.com?x=1",
	    "smtp://mail.example.com#f", "smtp://mail example.com",
	    "smtp://mail.example.com\r\nX: y", NULL };
	char	why[NET_ERROR_MAX];
	size_t	i;

	(void)state;
	for (i = 0; good[i] != NULL; i++)
		assert_int_equal(net_smtp_url_check(good[i], why, sizeof(why)),
		    0);
	for (i = 0; bad[i] != NULL; i++)
		assert_int_equal(net_smtp_url_check(bad[i], why, sizeof(why)),
		    KW_ERR_VALIDATION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_are_all_there),
		cmocka_unit_test(test_crlf_in_the_subject_never_makes_a_header),
		cmocka_unit_test(test_addresses_with_line_breaks_are_refused),
		cmocka_unit_test(test_non_ascii_subject_is_encoded),
		cmocka_unit_test(test_body_is_quoted_printable),
		cmocka_unit_test(test_smtp_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
