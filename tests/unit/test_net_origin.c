/*
 * test_net_origin.c — net_same_origin(): the check that decides whether
 * a URL an instance handed back (links.next) may receive the bot's
 * credential.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "kw.h"
#include "net/http.h"

static const char *const base = "https://x.zendesk.com";

static void
test_same_origin_accepts_the_instance(void **state)
{
	static const char *const same[] = {
		"https://x.zendesk.com/api/v2/oauth/clients?page[after]=abc",
		"https://x.zendesk.com:443/api/v2/oauth/clients",
		"https://X.Zendesk.COM/api/v2/oauth/tokens",
		"https://x.zendesk.com",
		NULL
	};
	size_t i;

	(void)state;
	for (i = 0; same[i] != NULL; i++)
		if (!net_same_origin(base, same[i]))
			fail_msg("refused %s", same[i]);
	assert_true(net_same_origin("https://x.zendesk.com/", same[0]));
	assert_true(net_same_origin("http://127.0.0.1:4000",
	    "http://127.0.0.1:4000/api/v2/oauth/clients?page[after]=1"));
}

static void
test_same_origin_refuses_everything_else(void **state)
{
	static const char *const other[] = {
		/* a string prefix of the instance URL, another host */
		"https://x.zendesk.com.evil.example/api/v2/oauth/clients",
		"https://x.zendesk.comevil.example/",
		/* another port */
		"https://x.zendesk.com:8443/api/v2/oauth/clients",
		/* another scheme */
		"http://x.zendesk.com/api/v2/oauth/clients",
		/* credentials in the URL */
		"https://x.zendesk.com@evil.example/",
		"https://user:pw@x.zendesk.com/",
		/* another host altogether, or no URL */
		"https://y.zendesk.com/api/v2/oauth/clients",
		"ftp://x.zendesk.com/",
		"/api/v2/oauth/clients?page[after]=1",
		"",
		"not a url",
		NULL
	};
	size_t i;

	(void)state;
	for (i = 0; other[i] != NULL; i++)
		if (net_same_origin(base, other[i]))
			fail_msg("accepted %s", other[i]);
	/* "http://127.0.0.1:4000" is a prefix of these */
	assert_false(net_same_origin("http://127.0.0.1:4000",
	    "http://127.0.0.1:40001/api/v2/oauth/clients"));
	assert_false(net_same_origin("http://127.0.0.1:4000",
	    "http://127.0.0.1:4000@127.0.0.2:4000/"));
	assert_false(net_same_origin("http://127.0.0.1",
	    "http://127.0.0.10/"));
	assert_false(net_same_origin(NULL, base));
	assert_false(net_same_origin(base, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_origin_accepts_the_instance),
		cmocka_unit_test(test_same_origin_refuses_everything_else),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
