/*
 * test_config.c — settings: defaults, one key at a time, the environment,
 * INI files, precedence, the listen address, validation and the public URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "config.h"

/* ---- helpers ---------------------------------------------------------- */

/* A fake environment: NAME=value pairs, NULL-terminated. */
static const char *const *fake_env;

static char *
fake_getenv(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; fake_env != NULL && fake_env[i] != NULL; i++)
		if (strncmp(fake_env[i], name, n) == 0 && fake_env[i][n] == '=')
			return (char *)(uintptr_t)(fake_env[i] + n + 1);
	return NULL;
}

/* Write text to a new temporary file; path[] receives its name. */
static void
ini_file(char *path, size_t pathsz, const char *text)
{
	FILE	*fp;
	int	 fd;

	snprintf(path, pathsz, "/tmp/kw-config-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* Load text as a config file over c; returns config_load_file's result. */
static int
load_text(struct config *c, const char *text, char *err, size_t errsz)
{
	char	path[64];
	int	r;

	ini_file(path, sizeof(path), text);
	r = config_load_file(c, path, err, errsz);
	unlink(path);
	return r;
}

/* ---- defaults --------------------------------------------------------- */

static void
defaults(void **state)
{
	struct config c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8200");
	assert_string_equal(c.data_dir, "data");
	assert_string_equal(c.public_url, "");
	assert_true(c.threads >= 1 && c.threads <= KW_THREADS_MAX);
	assert_int_equal(c.max_connections, KW_CONN_LIMIT);
	assert_int_equal(c.connection_timeout, KW_CONN_TIMEOUT_S);
	assert_int_equal(c.auth_fail_limit, KW_AUTH_FAIL_LIMIT);
	assert_int_equal(c.auth_fail_window, KW_AUTH_FAIL_WINDOW_S);
	assert_int_equal(c.request_ttl_days, KW_REQUEST_TTL_DAYS);
	assert_int_equal(c.delivery_window, KW_DELIVERY_WINDOW_S);
	assert_true(c.audit_head_interval > 0);
}

static void
defaults_validate(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
}

/* ---- config_set ------------------------------------------------------- */

static void
set_each_key(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "data_dir", "/var/lib/kw", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "listen", "0.0.0.0:9000", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "public_url", "https://kw.example.com",
	    err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "threads", "8", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "max_connections", "100", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "connection_timeout", "15", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "auth_fail_limit", "5", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "auth_fail_window", "120", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "request_ttl_days", "7", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "delivery_window", "3600", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&c, "audit_head_interval", "60", err,
	    sizeof(err)), 0);

	assert_string_equal(c.data_dir, "/var/lib/kw");
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_string_equal(c.public_url, "https://kw.example.com");
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.max_connections, 100);
	assert_int_equal(c.connection_timeout, 15);
	assert_int_equal(c.auth_fail_limit, 5);
	assert_int_equal(c.auth_fail_window, 120);
	assert_int_equal(c.request_ttl_days, 7);
	assert_int_equal(c.delivery_window, 3600);
	assert_int_equal(c.audit_head_interval, 60);
}

static void
set_int_range_bounds(void **state)
{
	struct config	c;
	char		err[256] = "";
	char		max[16];

	(void)state;
	config_defaults(&c);
	snprintf(max, sizeof(max), "%d", KW_THREADS_MAX);
	assert_int_equal(config_set(&c, "threads", "1", err, sizeof(err)), 0);
	assert_int_equal(c.threads, 1);
	assert_int_equal(config_set(&c, "threads", max, err, sizeof(err)), 0);
	assert_int_equal(c.threads, KW_THREADS_MAX);
	/* the call-out workers: 16 unless set, 1 to their maximum */
	config_defaults(&c);
	assert_int_equal(c.callout_workers, KW_CALLOUT_WORKERS);
	assert_int_equal(config_set(&c, "callout_workers", "1", err,
	    sizeof(err)), 0);
	assert_int_equal(c.callout_workers, 1);
	snprintf(max, sizeof(max), "%d", KW_CALLOUT_WORKERS_MAX + 1);
	assert_int_equal(config_set(&c, "callout_workers", max, err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "callout_workers", "0", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(c.callout_workers, 1);
}

static void
set_refuses_bad_int(void **state)
{
	const char *const bad[] = { "", "abc", "4x", "4.5", "0x10",
	    "99999999999999999999", NULL };
	struct config	c;
	char		err[256];
	size_t		i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		config_defaults(&c);
		err[0] = '\0';
		assert_int_equal(config_set(&c, "threads", bad[i], err,
		    sizeof(err)), KW_ERR_CONFIG);
		assert_non_null(strstr(err, "threads"));
		assert_int_equal(c.threads, 8);		/* unchanged */
	}
}

static void
set_refuses_out_of_range(void **state)
{
	struct config	c;
	char		err[256] = "", over[16];

	(void)state;
	config_defaults(&c);
	snprintf(over, sizeof(over), "%d", KW_THREADS_MAX + 1);
	assert_int_equal(config_set(&c, "threads", "0", err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "threads", "-1", err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "threads", over, err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_non_null(strstr(err, "threads"));
	assert_int_equal(config_set(&c, "connection_timeout", "3601", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "max_connections", "65537", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "auth_fail_window", "86401", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "auth_fail_limit", "0", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "request_ttl_days", "366", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "delivery_window", "59", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "audit_head_interval", "0", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_int_equal(c.threads, 8);
}

static void
set_refuses_unknown_key(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "colour", "blue", err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_non_null(strstr(err, "colour"));
}

static void
set_refuses_bad_strings(void **state)
{
	struct config	c;
	char		err[256] = "", longv[400];

	(void)state;
	config_defaults(&c);
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	assert_int_equal(config_set(&c, "listen", longv, err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_non_null(strstr(err, "listen"));
	assert_int_equal(config_set(&c, "data_dir", "a\tb", err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_int_equal(config_set(&c, "data_dir", "bad\xff", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_string_equal(c.listen, "127.0.0.1:8200");
	assert_string_equal(c.data_dir, "data");
}

static void
env_names(void **state)
{
	(void)state;
	assert_string_equal(config_env_name("listen"), "KEYWARDEN_LISTEN");
	assert_string_equal(config_env_name("data_dir"), "KEYWARDEN_DATA_DIR");
	assert_null(config_env_name("colour"));
}

/* ---- environment ------------------------------------------------------ */

static void
env_applies_variables(void **state)
{
	static const char *const env[] = {
		"KEYWARDEN_LISTEN=127.0.0.1:9999",
		"KEYWARDEN_THREADS=7",
		"KEYWARDEN_DATA_DIR=",		/* empty: ignored */
		"KEYWARDEN_UNRELATED=1",
		"LISTEN=0.0.0.0:1",		/* not ours */
		NULL,
	};
	struct config	c;
	char		err[256] = "";

	(void)state;
	fake_env = env;
	config_defaults(&c);
	assert_int_equal(config_load_env(&c, fake_getenv, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "127.0.0.1:9999");
	assert_int_equal(c.threads, 7);
	assert_string_equal(c.data_dir, "data");
	fake_env = NULL;
}

static void
env_refuses_bad_value(void **state)
{
	static const char *const env[] = { "KEYWARDEN_THREADS=lots", NULL };
	struct config	c;
	char		err[256] = "";

	(void)state;
	fake_env = env;
	config_defaults(&c);
	assert_int_equal(config_load_env(&c, fake_getenv, err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_non_null(strstr(err, "threads"));
	fake_env = NULL;
}

/* ---- INI files -------------------------------------------------------- */

static void
file_valid(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c,
	    "; keywarden\n"
	    "[server]\n"
	    "listen = 127.0.0.1:8300\n"
	    "data_dir = /srv/kw\n"
	    "threads = 6\n"
	    "public_url = https://kw.example.com/\n",
	    err, sizeof(err)), 0);
	assert_string_equal(c.listen, "127.0.0.1:8300");
	assert_string_equal(c.data_dir, "/srv/kw");
	assert_int_equal(c.threads, 6);
	assert_string_equal(c.public_url, "https://kw.example.com/");
}

static void
file_refuses_unknown_section(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c, "[server]\nthreads = 3\n[client]\n"
	    "threads = 4\n", err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "client"));
	assert_non_null(strstr(err, ":4:"));		/* the line */
}

static void
file_refuses_key_outside_section(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c, "threads = 7\n", err, sizeof(err)),
	    KW_ERR_CONFIG);
	assert_int_equal(c.threads, 8);
}

static void
file_refuses_unknown_key(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c, "[server]\nlisten = 127.0.0.1:1\n"
	    "colour = blue\n", err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "colour"));
	assert_non_null(strstr(err, ":3:"));
}

static void
file_refuses_bad_value(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c, "[server]\nthreads = many\n", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "threads"));
	assert_int_equal(c.threads, 8);
}

static void
file_refuses_syntax_error(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c, "[server]\nthis is not ini\n", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, ":2:"));
}

/* inih (Debian's build) reads lines of at most INI_MAX_LINE bytes and
 * would split a longer one silently: such a file is refused with a
 * message that names the line and the way out, and nothing is applied. */
static void
file_refuses_long_lines_clearly(void **state)
{
	struct config	c;
	char		err[256] = "", dir[401], text[600];

	(void)state;
	dir[0] = '/';
	memset(dir + 1, 'd', sizeof(dir) - 2);
	dir[sizeof(dir) - 1] = '\0';
	snprintf(text, sizeof(text), "[server]\nthreads = 3\ndata_dir = %s\n",
	    dir);
	config_defaults(&c);
	assert_int_equal(load_text(&c, text, err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(c.threads, 8);			/* nothing applied */
	assert_string_equal(c.data_dir, "data");
	/* the same value is fine through config_set (env, flags) */
	assert_int_equal(config_set(&c, "data_dir", dir, err, sizeof(err)), 0);
	assert_string_equal(c.data_dir, dir);
}

static void
file_missing(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent-kw/kw.conf", err,
	    sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "/nonexistent-kw/kw.conf"));
}

/* ---- precedence ------------------------------------------------------- */

static void
precedence_defaults_env_file_flags(void **state)
{
	static const char *const env[] = {
		"KEYWARDEN_LISTEN=127.0.0.1:1111",
		"KEYWARDEN_THREADS=3",
		"KEYWARDEN_CONNECTION_TIMEOUT=11",
		NULL,
	};
	struct config	c;
	char		err[256] = "";

	(void)state;
	fake_env = env;
	config_defaults(&c);
	assert_int_equal(config_load_env(&c, fake_getenv, err, sizeof(err)), 0);
	assert_int_equal(load_text(&c, "[server]\nthreads = 5\n"
	    "connection_timeout = 12\n", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "connection_timeout", "13", err,
	    sizeof(err)), 0);

	assert_string_equal(c.data_dir, "data");		/* default */
	assert_string_equal(c.listen, "127.0.0.1:1111");	/* env */
	assert_int_equal(c.threads, 5);				/* file */
	assert_int_equal(c.connection_timeout, 13);		/* flag */
	fake_env = NULL;
}

/* ---- listen addresses ------------------------------------------------- */

static void
split_listen_ipv4(void **state)
{
	char	host[64];
	int	port = 0;

	(void)state;
	assert_int_equal(config_split_listen("127.0.0.1:8200", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8200);
	assert_int_equal(config_split_listen("localhost:65535", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 65535);
}

static void
split_listen_ipv6(void **state)
{
	char	host[64];
	int	port = 0;

	(void)state;
	assert_int_equal(config_split_listen("[::1]:8200", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8200);
	assert_int_equal(config_split_listen("[::1]", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen("[::1]8200", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen("[::1:8200", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen("[]:8200", host, sizeof(host),
	    &port), -1);
}

static void
split_listen_refuses_bad_port(void **state)
{
	const char *const bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
	    "127.0.0.1:80x", "127.0.0.1:65536", "127.0.0.1:-1",
	    "127.0.0.1:99999999999999999999", NULL };
	char	host[64];
	int	port;
	size_t	i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		port = 12345;
		assert_int_equal(config_split_listen(bad[i], host,
		    sizeof(host), &port), -1);
		assert_int_equal(port, 12345);
	}
}

/* An IPv6 address without brackets or port is a missing port, not the
 * host ":" on port 1. */
static void
split_listen_refuses_bare_ipv6(void **state)
{
	char	host[64];
	int	port = 12345;

	(void)state;
	assert_int_equal(config_split_listen("::1", host, sizeof(host), &port),
	    -1);
	assert_int_equal(config_split_listen("fe80::1", host, sizeof(host),
	    &port), -1);
	assert_int_equal(port, 12345);
}

static void
split_listen_refuses_empty_host(void **state)
{
	char	host[64];
	int	port;

	(void)state;
	assert_int_equal(config_split_listen(":8200", host, sizeof(host),
	    &port), -1);
	assert_int_equal(config_split_listen("", host, sizeof(host), &port),
	    -1);
}

static void
split_listen_refuses_host_too_long(void **state)
{
	char	host[8];
	int	port;

	(void)state;
	assert_int_equal(config_split_listen("127.0.0.1:80", host,
	    sizeof(host), &port), -1);
	assert_int_equal(config_split_listen("1234567:80", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "1234567");
}

/* ---- validation ------------------------------------------------------- */

static void
validate_refuses_empty_data_dir(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	c.data_dir[0] = '\0';
	assert_int_equal(config_validate(&c, err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "data_dir"));
}

static void
validate_refuses_bad_listen(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "listen", "localhost", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "listen"));
}

static void
validate_public_url(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "public_url", "https://kw.example.com",
	    err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "public_url", "http://127.0.0.1:8200",
	    err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "public_url", "ftp://kw.example.com",
	    err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "public_url"));
	assert_int_equal(config_set(&c, "public_url", "kw.example.com", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), KW_ERR_CONFIG);
}

/* config_validate of the defaults with public_url set to url. */
static int
validate_with_public_url(const char *url)
{
	struct config	c;
	char		err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_set(&c, "public_url", url, err, sizeof(err)),
	    0);
	return config_validate(&c, err, sizeof(err));
}

/* A public URL that starts with "http://" must still be a URL. */
static void
validate_refuses_malformed_http_public_url(void **state)
{
	(void)state;
	assert_int_equal(validate_with_public_url("http://"), KW_ERR_CONFIG);
	assert_int_equal(validate_with_public_url("http://kw example.com"),
	    KW_ERR_CONFIG);
	assert_int_equal(validate_with_public_url("http://user@kw.example.com"),
	    KW_ERR_CONFIG);
}

/* ---- public URL ------------------------------------------------------- */

static void
public_url_derived_from_listen(void **state)
{
	struct config	c;
	char		url[KW_URL_MAX + 64], err[256];

	(void)state;
	config_defaults(&c);
	config_public_url(&c, url, sizeof(url));
	assert_string_equal(url, "http://127.0.0.1:8200");
	assert_int_equal(config_set(&c, "listen", "[::1]:9000", err,
	    sizeof(err)), 0);
	config_public_url(&c, url, sizeof(url));
	assert_string_equal(url, "http://[::1]:9000");
}

static void
public_url_explicit_strips_trailing_slash(void **state)
{
	struct config	c;
	char		url[KW_URL_MAX + 64], err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_set(&c, "public_url", "https://kw.example.com/",
	    err, sizeof(err)), 0);
	config_public_url(&c, url, sizeof(url));
	assert_string_equal(url, "https://kw.example.com");
	assert_int_equal(config_set(&c, "public_url",
	    "https://example.com/kw///", err, sizeof(err)), 0);
	config_public_url(&c, url, sizeof(url));
	assert_string_equal(url, "https://example.com/kw");
}

static void
print_is_json_with_effective_url(void **state)
{
	struct config	 c;
	json_t		*o;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*fp;

	(void)state;
	config_defaults(&c);
	assert_non_null(fp = open_memstream(&text, &len));
	config_print(&c, fp);
	fclose(fp);
	assert_non_null(o = json_loads(text, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, "public_url")),
	    "http://127.0.0.1:8200");
	assert_string_equal(json_string_value(json_object_get(o, "listen")),
	    "127.0.0.1:8200");
	assert_int_equal(json_integer_value(json_object_get(o, "threads")),
	    c.threads);
	/* [oidc] is nested, as in the file */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    o, "oidc"), "scopes")), "openid email profile");
	assert_null(json_object_get(o, "oidc_scopes"));
	json_decref(o);
	free(text);
}

/* store: a backend the binary knows, and never its password in print */
static void
store_is_checked_and_its_password_never_printed(void **state)
{
	struct config	 c;
	json_t		*o;
	char		 err[256] = "", *text = NULL;
	size_t		 len = 0;
	FILE		*fp;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.store, "sqlite");
	assert_int_equal(config_set(&c, "store", "mysql://db/kw", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), KW_ERR_CONFIG);
	assert_non_null(strstr(err, "store"));
	assert_int_equal(config_set(&c, "store",
	    "postgresql://kw:hunter2@db:5432/kw", err, sizeof(err)), 0);
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	assert_non_null(fp = open_memstream(&text, &len));
	config_print(&c, fp);
	fclose(fp);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(o = json_loads(text, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(o, "store")),
	    "postgresql://kw:***@db:5432/kw");
	json_decref(o);
	free(text);
}

/* ---- sessions and [oidc] ---------------------------------------------- */

static void
session_defaults_and_keys(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.session_max_age, 43200);
	assert_int_equal(c.session_idle_timeout, 3600);
	assert_string_equal(c.oidc_scopes, "openid email profile");
	assert_int_equal(load_text(&c, "[server]\nsession_max_age = 600\n"
	    "session_idle_timeout = 60\n", err, sizeof(err)), 0);
	assert_int_equal(c.session_max_age, 600);
	assert_int_equal(c.session_idle_timeout, 60);
	assert_int_not_equal(load_text(&c, "[server]\nsession_max_age = 0\n",
	    err, sizeof(err)), 0);
}

static void
oidc_section(void **state)
{
	struct config	c;
	char		err[256] = "";

	(void)state;
	config_defaults(&c);
	assert_int_equal(load_text(&c, "[oidc]\nissuer = https://idp.example."
	    "com/oauth2/default\nclient_id = kw\nclient_secret_file = /etc/"
	    "kw/secret\nallowed_email_domains = example.com\n", err,
	    sizeof(err)), 0);
	assert_string_equal(c.oidc_issuer,
	    "https://idp.example.com/oauth2/default");
	assert_string_equal(c.oidc_client_id, "kw");
	assert_string_equal(c.oidc_allowed_email_domains, "example.com");
	assert_int_equal(config_validate(&c, err, sizeof(err)), 0);
	/* the [oidc] keys live in [oidc], without their prefix */
	config_defaults(&c);
	assert_int_not_equal(load_text(&c, "[server]\noidc_issuer = "
	    "https://idp.example.com\n", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "[oidc]"));
	assert_int_not_equal(load_text(&c, "[oidc]\nlisten = 1.2.3.4:1\n",
	    err, sizeof(err)), 0);
}

static void
oidc_validation(void **state)
{
	static const struct { const char *issuer; int ok; } cases[] = {
		{ "https://idp.example.com", 1 },
		{ "https://tenant.auth0.com/", 1 },
		{ "http://127.0.0.1:9400", 1 },
		{ "http://localhost:9400", 1 },
		{ "http://idp.example.com", 0 },
		{ "https://idp.example.com?x=1", 0 },
		{ "ftp://idp.example.com", 0 },
	};
	struct config	c;
	char		err[256];
	size_t		i;

	(void)state;
	for (i = 0; i < KW_NELEM(cases); i++) {
		config_defaults(&c);
		snprintf(c.oidc_issuer, sizeof(c.oidc_issuer), "%s",
		    cases[i].issuer);
		snprintf(c.oidc_client_id, sizeof(c.oidc_client_id), "kw");
		snprintf(c.oidc_client_secret_file,
		    sizeof(c.oidc_client_secret_file), "/secret");
		assert_int_equal(config_validate(&c, err, sizeof(err)) == 0,
		    cases[i].ok);
	}
	/* all or nothing */
	config_defaults(&c);
	snprintf(c.oidc_issuer, sizeof(c.oidc_issuer), "https://idp.example");
	assert_int_not_equal(config_validate(&c, err, sizeof(err)), 0);
	config_defaults(&c);
	snprintf(c.oidc_client_id, sizeof(c.oidc_client_id), "kw");
	assert_int_not_equal(config_validate(&c, err, sizeof(err)), 0);
	config_defaults(&c);
	snprintf(c.oidc_issuer, sizeof(c.oidc_issuer), "https://idp.example");
	snprintf(c.oidc_client_id, sizeof(c.oidc_client_id), "kw");
	snprintf(c.oidc_client_secret_file,
	    sizeof(c.oidc_client_secret_file), "/secret");
	snprintf(c.oidc_scopes, sizeof(c.oidc_scopes), "email profile");
	assert_int_not_equal(config_validate(&c, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(store_is_checked_and_its_password_never_printed),
		cmocka_unit_test(defaults_validate),
		cmocka_unit_test(set_each_key),
		cmocka_unit_test(set_int_range_bounds),
		cmocka_unit_test(set_refuses_bad_int),
		cmocka_unit_test(set_refuses_out_of_range),
		cmocka_unit_test(set_refuses_unknown_key),
		cmocka_unit_test(set_refuses_bad_strings),
		cmocka_unit_test(env_names),
		cmocka_unit_test(env_applies_variables),
		cmocka_unit_test(env_refuses_bad_value),
		cmocka_unit_test(file_valid),
		cmocka_unit_test(file_refuses_unknown_section),
		cmocka_unit_test(file_refuses_key_outside_section),
		cmocka_unit_test(file_refuses_unknown_key),
		cmocka_unit_test(file_refuses_bad_value),
		cmocka_unit_test(file_refuses_syntax_error),
		cmocka_unit_test(file_refuses_long_lines_clearly),
		cmocka_unit_test(file_missing),
		cmocka_unit_test(precedence_defaults_env_file_flags),
		cmocka_unit_test(split_listen_ipv4),
		cmocka_unit_test(split_listen_ipv6),
		cmocka_unit_test(split_listen_refuses_bad_port),
		cmocka_unit_test(split_listen_refuses_bare_ipv6),
		cmocka_unit_test(split_listen_refuses_empty_host),
		cmocka_unit_test(split_listen_refuses_host_too_long),
		cmocka_unit_test(validate_refuses_empty_data_dir),
		cmocka_unit_test(validate_refuses_bad_listen),
		cmocka_unit_test(validate_public_url),
		cmocka_unit_test(validate_refuses_malformed_http_public_url),
		cmocka_unit_test(public_url_derived_from_listen),
		cmocka_unit_test(public_url_explicit_strips_trailing_slash),
		cmocka_unit_test(print_is_json_with_effective_url),
		cmocka_unit_test(session_defaults_and_keys),
		cmocka_unit_test(oidc_section),
		cmocka_unit_test(oidc_validation),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
