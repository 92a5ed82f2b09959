/*
 * test_cli.c — the pure parts of the keywarden client and of the net
 * wrapper: option parsing against the verb tables, request body, path
 * and query building, table and error rendering, and net_do's refusals
 * and limits (against a one-shot HTTP responder on loopback; nothing
 * leaves the machine).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <pthread.h>
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
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "net/http.h"
#include "util/buf.h"

/* ---- helpers ---------------------------------------------------------- */

static const struct cli_verb *
verb(const struct cli_resource *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nverbs; i++)
		if (strcmp(r->verbs[i].name, name) == 0)
			return &r->verbs[i];
	fail_msg("no verb %s", name);
	return NULL;
}

/* Parse a NULL-terminated argument list (argv[0] the resource). */
static int
parse(const struct cli_verb *v, struct cli_args *a, char *err,
    const char *first, ...)
{
	char		*argv[64];
	const char	*s;
	va_list		 ap;
	int		 argc = 0;

	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *))
		argv[argc++] = (char *)(uintptr_t)s;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_args_parse(v, argc, argv, cli_find_verb(argc, argv), a,
	    err, CLI_ERR_MAX);
}

/* Assert that body built from a equals the JSON text want. */
static void
assert_body(const struct cli_verb *v, const struct cli_args *a,
    const char *want)
{
	json_t	*got = NULL, *exp;
	char	 err[CLI_ERR_MAX] = "";
	char	*s;

	assert_int_equal(cli_body_build(v, a, &got, err, sizeof(err)), 0);
	exp = json_loads(want, 0, NULL);
	assert_non_null(exp);
	if (!json_equal(got, exp)) {
		s = json_dumps(got, JSON_COMPACT);
		fail_msg("body %s, want %s", s, want);
	}
	json_decref(got);
	json_decref(exp);
}

/* ---- command line ----------------------------------------------------- */

static void
test_find_verb(void **state)
{
	char *a1[] = { "people", "--server", "http://x", "list", "--json" };
	char *a2[] = { "people", "--json", "show", "x" };
	char *a3[] = { "people", "--token=abc", "me" };
	char *a4[] = { "people", "--json" };
	char *a5[] = { "people", "--", "list" };

	(void)state;
	assert_int_equal(cli_find_verb(5, a1), 3);
	assert_int_equal(cli_find_verb(4, a2), 2);
	assert_int_equal(cli_find_verb(3, a3), 2);
	assert_int_equal(cli_find_verb(2, a4), 0);
	assert_int_equal(cli_find_verb(3, a5), 2);
}

static void
test_parse_create(void **state)
{
	const struct cli_verb	*v = verb(&cli_people, "create");
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(v, &a, err, "people", "create", "--email",
	    "a@example.com", "--json", "--name=Ann Lee", "--role", "admin",
	    "--server", "http://127.0.0.1:1", "--role", "auditor",
	    "--manager", "none", NULL), 0);
	assert_true(a.json);
	assert_string_equal(a.server, "http://127.0.0.1:1");
	assert_null(a.token);
	assert_int_equal(a.npos, 0);
	assert_body(v, &a, "{\"email\":\"a@example.com\",\"name\":\"Ann Lee\","
	    "\"roles\":[\"admin\",\"auditor\"],\"manager\":null}");
}

static void
test_parse_errors(void **state)
{
	const struct cli_verb	*c = verb(&cli_people, "create");
	const struct cli_verb	*u = verb(&cli_people, "update");
	const struct cli_verb	*s = verb(&cli_people, "show");
	const struct cli_verb	*ic = verb(&cli_instances, "create");
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(c, &a, err, "people", "create", "--email",
	    "a@example.com", NULL), -1);
	assert_string_equal(err, "--name is required");
	assert_int_equal(parse(c, &a, err, "people", "create", "--email",
	    "a@x.io", "--email", "b@x.io", "--name", "n", NULL), -1);
	assert_string_equal(err, "--email given more than once");
	assert_int_equal(parse(u, &a, err, "people", "update", "a@x.io",
	    "--role", "admin", "--no-roles", NULL), -1);
	assert_string_equal(err, "--role and --no-roles cannot be combined");
	assert_int_equal(parse(u, &a, err, "people", "update", "a@x.io",
	    "--active", "yes", NULL), -1);
	assert_string_equal(err, "--active takes true or false");
	assert_int_equal(parse(u, &a, err, "people", "update", "a@x.io",
	    "--no-roles=1", NULL), -1);
	assert_string_equal(err, "--no-roles takes no value");
	assert_int_equal(parse(u, &a, err, "people", "update", "a@x.io",
	    "--bogus", NULL), -1);
	assert_string_equal(err, "unknown option --bogus");
	assert_int_equal(parse(u, &a, err, "people", "update", "a@x.io",
	    "--name", NULL), -1);
	assert_string_equal(err, "--name needs a value");
	assert_int_equal(parse(u, &a, err, "people", "update", "a@x.io",
	    "-x", NULL), -1);
	assert_string_equal(err, "unknown option -x");
	assert_int_equal(parse(s, &a, err, "people", "show", NULL), -1);
	assert_string_equal(err, "missing ID|EMAIL");
	assert_int_equal(parse(s, &a, err, "people", "show", "a", "b",
	    NULL), -1);
	assert_string_equal(err, "unexpected argument 'b'");
	assert_int_equal(parse(s, &a, err, "people", "show", "..", NULL), -1);
	assert_string_equal(err, "invalid ID|EMAIL");
	assert_int_equal(parse(ic, &a, err, "instances", "create", "--name",
	    "g", "--url", "https://g.example.com", "--issuance", "auto",
	    NULL), -1);
	assert_string_equal(err, "--issuance takes one of: automatic|manual");
	assert_int_equal(parse(ic, &a, err, "instances", "create", "--name",
	    "g", "--url", "https://g.example.com", "--rotation-days", "-3",
	    NULL), -1);
	assert_string_equal(err, "--rotation-days takes a whole number");
	assert_int_equal(parse(ic, &a, err, "instances", "create", "--name",
	    "g", "--url", "https://g.example.com", "--bot-token-file", "f",
	    "--bot-token-env", "V", NULL), -1);
	assert_string_equal(err,
	    "--bot-token-file and --bot-token-env cannot be combined");
	/* --help skips the checks; "--" makes the rest positional. */
	assert_int_equal(parse(c, &a, err, "people", "create", "--help",
	    NULL), 0);
	assert_true(a.help);
	assert_int_equal(parse(s, &a, err, "people", "show", "--", "-odd",
	    NULL), 0);
	assert_string_equal(a.pos[0], "-odd");
}

static void
test_body_update(void **state)
{
	const struct cli_verb	*u = verb(&cli_people, "update");
	struct cli_args		 a;
	json_t			*body = NULL;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(u, &a, err, "people", "update", "p_1",
	    "--no-teams", "--active", "false", "--slack", "U123", NULL), 0);
	assert_string_equal(a.pos[0], "p_1");
	assert_body(u, &a, "{\"teams\":[],\"active\":false,"
	    "\"slack_user_id\":\"U123\"}");
	/* An update that changes nothing is refused before any request. */
	assert_int_equal(parse(u, &a, err, "people", "update", "p_1", NULL), 0);
	assert_int_equal(cli_body_build(u, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	assert_null(body);
}

static void
test_body_instance_secrets(void **state)
{
	const struct cli_verb	*ic = verb(&cli_instances, "create");
	const struct cli_verb	*iu = verb(&cli_instances, "update");
	struct cli_args		 a;
	json_t			*body = NULL;
	char			 err[CLI_ERR_MAX], path[] = "/tmp/kwtokXXXXXX";
	int			 fd;

	(void)state;
	setenv("KW_TEST_BOT", "s3cret-env", 1);
	assert_int_equal(parse(ic, &a, err, "instances", "create", "--name",
	    "global", "--url", "https://g.zendesk.com", "--provisioner",
	    "p@x.io", "--allow-integrations", "true", "--scope", "read",
	    "--max-lifetime-days", "365", "--bot-email", "bot@x.io",
	    "--bot-token-env", "KW_TEST_BOT", "--issuance", "manual", NULL), 0);
	assert_body(ic, &a, "{\"name\":\"global\",\"url\":"
	    "\"https://g.zendesk.com\",\"provisioners\":[\"p@x.io\"],"
	    "\"allow_integrations\":true,\"allowed_scopes\":[\"read\"],"
	    "\"max_lifetime_days\":365,\"issuance\":\"manual\","
	    "\"bot\":{\"email\":\"bot@x.io\",\"oauth_token\":\"s3cret-env\"}}");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret-file\r\nignored\n", 21), 21);
	close(fd);
	assert_int_equal(parse(iu, &a, err, "instances", "update", "global",
	    "--bot-token-file", path, "--any-scope", NULL), 0);
	assert_body(iu, &a, "{\"bot\":{\"oauth_token\":\"s3cret-file\"},"
	    "\"allowed_scopes\":null}");

	/* An empty file, an unset variable, a missing file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	assert_int_equal(parse(iu, &a, err, "instances", "update", "global",
	    "--bot-token-file", path, NULL), 0);
	assert_int_equal(cli_body_build(iu, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	unlink(path);
	assert_int_equal(cli_body_build(iu, &a, &body, err, sizeof(err)),
	    KW_ERR_IO);
	assert_non_null(strstr(err, "cannot read --bot-token-file"));
	unsetenv("KW_TEST_BOT");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "global",
	    "--bot-token-env", "KW_TEST_BOT", NULL), 0);
	assert_int_equal(cli_body_build(iu, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	assert_string_equal(err, "--bot-token-env: environment variable "
	    "KW_TEST_BOT is not set");
	assert_null(body);
}

static void
test_path_query(void **state)
{
	const struct cli_verb	*l = verb(&cli_people, "list");
	struct cli_args		 a;
	struct buf		 b;
	char			 err[CLI_ERR_MAX];

	(void)state;
	buf_init(&b, 1024);
	cli_path_build(&b, "/v1/people/{}/tokens", "a+b@x.io");
	assert_string_equal(buf_str(&b), "/v1/people/a%2Bb@x.io/tokens");
	buf_free(&b);
	cli_path_build(&b, "/v1/people/{}", "../me?x=1#y");
	assert_string_equal(buf_str(&b), "/v1/people/..%2Fme%3Fx%3D1%23y");
	buf_free(&b);
	cli_path_build(&b, "/v1/people", NULL);
	assert_string_equal(buf_str(&b), "/v1/people");
	buf_free(&b);

	assert_int_equal(parse(l, &a, err, "people", "list", "--limit", "5",
	    "--cursor", "a b&c=d", NULL), 0);
	cli_query_build(&a, &b);
	assert_string_equal(buf_str(&b), "?limit=5&cursor=a%20b%26c%3Dd");
	buf_free(&b);
	assert_int_equal(parse(l, &a, err, "people", "list", NULL), 0);
	cli_query_build(&a, &b);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void
test_usage(void **state)
{
	const struct cli_verb	*ic = verb(&cli_instances, "create");
	struct buf		 b;
	const char		*line, *nl;

	(void)state;
	buf_init(&b, CLI_OUT_MAX);
	cli_verb_usage(&b, "usage: ", &cli_people, verb(&cli_people, "list"));
	assert_string_equal(buf_str(&b),
	    "usage: keywarden people list [--limit N] [--cursor CURSOR]\n");
	buf_free(&b);
	cli_verb_usage(&b, "  ", &cli_people, verb(&cli_people, "update"));
	assert_non_null(strstr(buf_str(&b), "[--role ROLE... | --no-roles]"));
	buf_free(&b);
	cli_verb_usage(&b, "  ", &cli_instances, ic);
	assert_non_null(strstr(buf_str(&b), "--name NAME --url URL"));
	assert_non_null(strstr(buf_str(&b),
	    "[--bot-token-file FILE | --bot-token-env VAR]"));
	for (line = buf_str(&b); (nl = strchr(line, '\n')); line = nl + 1)
		assert_true(nl - line <= CLI_USAGE_WIDTH);
	buf_free(&b);
}

/* ---- rendering -------------------------------------------------------- */

static void
test_table(void **state)
{
	static const char *const hdr[] = { "ID", "NAME", "ACTIVE" };
	struct cli_table	t;
	struct buf		b;

	(void)state;
	cli_table_init(&t, hdr, 3);
	cli_table_cell(&t, "p_1");
	cli_table_cell(&t, "Zoë Ångström");
	cli_table_cell(&t, "true");
	cli_table_cell(&t, "p_22");
	cli_table_cell(&t, "bad\033[2Jname");
	cli_table_cell(&t, "false");
	buf_init(&b, 4096);
	assert_int_equal(cli_table_render(&t, &b), 0);
	assert_string_equal(buf_str(&b),
	    "ID    NAME          ACTIVE\n"
	    "p_1   Zoë Ångström  true\n"
	    "p_22  bad?[2Jname   false\n");
	buf_free(&b);
	cli_table_free(&t);
}

static void
test_list_render(void **state)
{
	static const struct cli_col cols[] = {
		{ "EMAIL", "email" }, { "MANAGER", "manager" },
		{ "ROLES", "roles" }, { "ACTIVE", "active" },
	};
	json_t		*ans;
	struct buf	 b;

	(void)state;
	ans = json_loads("{\"items\":[{\"email\":\"a@x.io\",\"manager\":null,"
	    "\"roles\":[\"admin\",\"auditor\"],\"active\":true},"
	    "{\"email\":\"bb@x.io\",\"manager\":\"a@x.io\",\"roles\":[],"
	    "\"active\":false}],\"next_cursor\":\"c2\"}", 0, NULL);
	assert_non_null(ans);
	buf_init(&b, 4096);
	cli_list_render(&b, ans, cols, KW_NELEM(cols));
	assert_string_equal(buf_str(&b),
	    "EMAIL    MANAGER  ROLES          ACTIVE\n"
	    "a@x.io   -        admin,auditor  true\n"
	    "bb@x.io  a@x.io   -              false\n"
	    "next cursor: c2\n");
	buf_free(&b);
	json_decref(ans);
}

static void
test_object_render(void **state)
{
	json_t		*obj;
	struct buf	 b;

	(void)state;
	obj = json_loads("{\"name\":\"global\",\"max_lifetime_days\":365,"
	    "\"teams\":[\"a\",\"b\"],\"bot\":{\"email\":\"bot@x.io\"},"
	    "\"x\":[{\"k\":1}],\"roles\":[],\"manager\":null,\"e\":\"\"}",
	    0, NULL);
	buf_init(&b, 4096);
	cli_object_render(&b, obj);
	assert_string_equal(buf_str(&b),
	    "name:               global\n"
	    "max_lifetime_days:  365\n"
	    "teams:              a, b\n"
	    "bot.email:          bot@x.io\n"
	    "x:                  [{\"k\":1}]\n"
	    "roles:              (none)\n"
	    "manager:            -\n"
	    "e:\n");
	buf_free(&b);
	json_decref(obj);
}

static void
test_error_format(void **state)
{
	const char	*e1 = "{\"error\":{\"code\":\"validation_failed\","
	    "\"message\":\"email is not valid\",\"details\":{\"field\":"
	    "\"email\"}}}";
	const char	*e2 = "{\"error\":{\"code\":\"unauthenticated\","
	    "\"message\":\"no token\"}}";
	struct buf	 b;

	(void)state;
	buf_init(&b, 4096);
	cli_error_format(&b, 400, e1, strlen(e1));
	assert_string_equal(buf_str(&b), "keywarden: 400 validation_failed: "
	    "email is not valid (field: email)\n");
	buf_free(&b);
	cli_error_format(&b, 401, e2, strlen(e2));
	assert_string_equal(buf_str(&b),
	    "keywarden: 401 unauthenticated: no token\n");
	buf_free(&b);
	cli_error_format(&b, 502, "<html>", 6);
	assert_string_equal(buf_str(&b), "keywarden: 502 error: the server's "
	    "answer carries no error description\n");
	buf_free(&b);
}

/* ---- net_do ----------------------------------------------------------- */

static int
net_setup(void **state)
{
	(void)state;
	return net_global_init();
}

static int
net_teardown(void **state)
{
	(void)state;
	net_global_cleanup();
	return 0;
}

static void
test_net_refusals(void **state)
{
	struct net_request	rq;
	struct net_response	rs;
	const char		*bad_hdr[] = { "X-A: 1\r\nX-B: 2", NULL };

	(void)state;
	memset(&rq, 0, sizeof(rq));
	/* Plain http to a non-loopback host: refused before any traffic. */
	rq.url = "http://example.com/v1/me";
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	assert_int_equal(rs.status, 0);
	assert_non_null(strstr(rs.error, "loopback"));
	net_response_free(&rs);
	rq.url = "ftp://127.0.0.1/x";
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	net_response_free(&rs);
	rq.url = "https://user:pw@example.com/";
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	net_response_free(&rs);
	rq.url = "http://127.0.0.1:1/";
	rq.method = "TRACE";
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	net_response_free(&rs);
	rq.method = "GET";
	rq.body = "{}";
	rq.body_len = 2;
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	net_response_free(&rs);
	rq.body = NULL;
	rq.bearer = "kw_x\r\nX-Evil: 1";
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	net_response_free(&rs);
	rq.bearer = NULL;
	rq.extra_headers = bad_hdr;
	assert_int_equal(net_do(&rq, &rs), KW_ERR_VALIDATION);
	net_response_free(&rs);
}

/* A one-shot HTTP responder on 127.0.0.1: accepts one connection,
 * records the request, sends the canned answer. */
struct responder {
	int		 lfd;
	int		 port;
	const char	*answer;
	size_t		 answer_len;
	char		 request[8192];
	pthread_t	 thr;
};

static void *
responder_main(void *arg)
{
	struct responder	*r = arg;
	size_t			 n = 0, off = 0;
	ssize_t			 k;
	char			*eoh;
	long			 clen = 0;
	int			 fd;

	if ((fd = accept(r->lfd, NULL, NULL)) < 0)
		return NULL;
	for (;;) {
		k = read(fd, r->request + n, sizeof(r->request) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		r->request[n] = '\0';
		if ((eoh = strstr(r->request, "\r\n\r\n")) == NULL)
			continue;
		if (strcasestr(r->request, "content-length:") != NULL)
			clen = atol(strcasestr(r->request,
			    "content-length:") + 15);
		if (n >= (size_t)(eoh + 4 - r->request) + (size_t)clen)
			break;
	}
	while (off < r->answer_len) {
		k = write(fd, r->answer + off, r->answer_len - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	close(fd);
	return NULL;
}

static void
responder_start(struct responder *r, const char *answer, size_t len)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);

	memset(r, 0, sizeof(*r));
	r->answer = answer;
	r->answer_len = len;
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(r->lfd, 1), 0);
	assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&sin, &sl), 0);
	r->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&r->thr, NULL, responder_main, r), 0);
}

static void
responder_stop(struct responder *r)
{
	pthread_join(r->thr, NULL);
	close(r->lfd);
}

static void
test_net_exchange(void **state)
{
	static const char	 ans[] = "HTTP/1.1 429 Too Many Requests\r\n"
	    "Content-Type: application/json\r\nRetry-After:  17 \r\n"
	    "Content-Length: 13\r\nConnection: close\r\n\r\n{\"a\":\"hello\"}";
	const char		*extra[] = { "X-Trace: t1", NULL };
	struct responder	 r;
	struct net_request	 rq;
	struct net_response	 rs;
	char			 url[64];

	(void)state;
	responder_start(&r, ans, sizeof(ans) - 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/people", r.port);
	memset(&rq, 0, sizeof(rq));
	rq.method = "PATCH";
	rq.url = url;
	rq.bearer = "kw_secret";
	rq.content_type = "application/json";
	rq.body = "{\"x\":1}";
	rq.body_len = 7;
	rq.extra_headers = extra;
	assert_int_equal(net_do(&rq, &rs), 0);
	responder_stop(&r);
	assert_int_equal(rs.status, 429);
	assert_string_equal(rs.retry_after, "17");
	assert_string_equal(buf_str(&rs.body), "{\"a\":\"hello\"}");
	assert_string_equal(rs.error, "");
	net_response_free(&rs);
	assert_true(strncmp(r.request, "PATCH /v1/people HTTP/1.1\r\n", 27) == 0);
	assert_non_null(strstr(r.request, "Authorization: Bearer kw_secret\r\n"));
	assert_non_null(strstr(r.request, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(r.request, "X-Trace: t1\r\n"));
	assert_non_null(strstr(r.request, "\r\n\r\n{\"x\":1}"));
}

static void
test_net_too_large(void **state)
{
	static const char	 chunked[] = "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	    "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n";
	static const char	 sized[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 32\r\nConnection: close\r\n\r\n"
	    "0123456789abcdef0123456789abcdef";
	struct responder	 r;
	struct net_request	 rq;
	struct net_response	 rs;
	char			 url[64];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.max_response = 16;
	/* Without a length up front the cap trips while reading... */
	responder_start(&r, chunked, sizeof(chunked) - 1);
	snprintf(url, sizeof(url), "http://localhost:%d/", r.port);
	assert_int_equal(net_do(&rq, &rs), KW_ERR_TOO_LARGE);
	responder_stop(&r);
	net_response_free(&rs);
	/* ...and with Content-Length it trips before the body. */
	responder_start(&r, sized, sizeof(sized) - 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", r.port);
	assert_int_equal(net_do(&rq, &rs), KW_ERR_TOO_LARGE);
	responder_stop(&r);
	assert_non_null(strstr(rs.error, "larger"));
	net_response_free(&rs);
}

static void
test_net_unreachable(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	struct net_request	 rq;
	struct net_response	 rs;
	char			 url[64];
	int			 fd;

	(void)state;
	/* A port that was just free: nothing listens there now. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	memset(&rq, 0, sizeof(rq));
	rq.url = url;
	rq.timeout_ms = 2000;
	assert_int_equal(net_do(&rq, &rs), KW_ERR_UPSTREAM);
	assert_true(rs.error[0] != '\0');
	net_response_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_verb),
		cmocka_unit_test(test_parse_create),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_body_update),
		cmocka_unit_test(test_body_instance_secrets),
		cmocka_unit_test(test_path_query),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_list_render),
		cmocka_unit_test(test_object_render),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_net_refusals),
		cmocka_unit_test(test_net_exchange),
		cmocka_unit_test(test_net_too_large),
		cmocka_unit_test(test_net_unreachable),
	};

	return cmocka_run_group_tests(tests, net_setup, net_teardown);
}
