/*
 * test_web.c — the web UI's embedding and content negotiation: the
 * generated table holds the shell with its static directory filled in,
 * every file has a type, and Accept headers of browsers and API clients
 * are told apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/web.h"

static void
accept_negotiation(void **state)
{
	(void)state;
	/* browsers' page loads */
	assert_true(web_accept_html("text/html,application/xhtml+xml,"
	    "application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"));
	assert_true(web_accept_html("TEXT/HTML"));
	assert_true(web_accept_html("text/html, application/json;q=0.5"));
	/* API clients, curl, fetch() with JSON, and explicit refusals */
	assert_false(web_accept_html(NULL));
	assert_false(web_accept_html("*/*"));
	assert_false(web_accept_html("application/json"));
	assert_false(web_accept_html("application/json, text/html;q=0.5"));
	assert_false(web_accept_html("text/html;q=0, application/json"));
	assert_false(web_accept_html("text/html; q=0.0"));
	assert_true(web_accept_html("text/html;q=0.1"));
}

static void
embedded_table(void **state)
{
	char	base[64];
	size_t	i;
	int	seen_js = 0;

	(void)state;
	assert_int_equal(strlen(web_build_id), 16);
	assert_non_null(web_shell);
	assert_string_equal(web_shell->name, "index.html");
	snprintf(base, sizeof(base), "\"/static/%s/app.js\"", web_build_id);
	/* the placeholder became this build's static directory */
	assert_non_null(memmem(web_shell->data, web_shell->len, base,
	    strlen(base)));
	assert_null(memmem(web_shell->data, web_shell->len, "@STATIC@", 8));
	for (i = 0; i < web_nassets; i++) {
		assert_non_null(web_assets[i].type);
		assert_true(web_assets[i].len > 0);
		/* nothing inline a strict CSP would block, nothing remote */
		assert_null(memmem(web_assets[i].data, web_assets[i].len,
		    "from 'http", 10));
		assert_null(memmem(web_assets[i].data, web_assets[i].len,
		    "src=\"http", 9));
		assert_null(memmem(web_assets[i].data, web_assets[i].len,
		    "href=\"http", 10));
		assert_null(memmem(web_assets[i].data, web_assets[i].len,
		    "url(http", 8));
		seen_js += strcmp(web_assets[i].name, "app.js") == 0;
	}
	assert_int_equal(seen_js, 1);
	assert_null(memmem(web_shell->data, web_shell->len, "<script>", 8));
	assert_null(memmem(web_shell->data, web_shell->len, "style=", 6));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accept_negotiation),
		cmocka_unit_test(embedded_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
