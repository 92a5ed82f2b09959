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

/* ---- requests, credentials, audit, revoke ----------------------------- */

static json_t *
json_of(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

/* Assert that query built from a is want. */
static void
assert_query(const struct cli_args *a, const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	cli_query_build(a, &b);
	assert_string_equal(buf_str(&b), want);
	buf_free(&b);
}

static void
test_handles(void **state)
{
	(void)state;
	assert_true(cli_handles("people"));
	assert_true(cli_handles("request"));
	assert_true(cli_handles("credential"));
	assert_true(cli_handles("audit"));
	assert_true(cli_handles("revoke"));
	assert_true(cli_handles("report"));
	assert_true(cli_handles("settings"));
	/* the plural/singular mix-ups are aliases */
	assert_true(cli_handles("requests"));
	assert_true(cli_handles("credentials"));
	assert_true(cli_handles("instance"));
	assert_true(cli_handles("person"));
	assert_string_equal(cli_canonical("requests"), "request");
	assert_string_equal(cli_canonical("person"), "people");
	assert_string_equal(cli_canonical("audit"), "audit");
	/* a typo gets its correction, another word none */
	assert_string_equal(cli_suggest("requets", NULL), "request");
	assert_string_equal(cli_suggest("peple", NULL), "people");
	assert_string_equal(cli_suggest("sevre", (const char *const[]){
	    "serve", "init", NULL }), "serve");
	assert_null(cli_suggest("frobnicate", NULL));
	assert_null(cli_suggest("x", NULL));
	assert_false(cli_handles("slack"));
	assert_false(cli_handles("settings slack"));
	assert_true(cli_handles("setting"));
	assert_false(cli_handles(""));
	assert_false(cli_handles(NULL));
}

static void
test_request_bodies(void **state)
{
	const struct cli_verb	*c = verb(&cli_requests, "create");
	const struct cli_verb	*ap = verb(&cli_requests, "approve");
	const struct cli_verb	*dn = verb(&cli_requests, "deny");
	const struct cli_verb	*wd = verb(&cli_requests, "withdraw");
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(c, &a, err, "request", "create", "--instance",
	    "global", "--kind", "api_token", "--justification", "weekly "
	    "export", "--use-case", "reporting", "--scope", "tickets:read",
	    "--scope", "users:read", "--lifetime-days", "90",
	    "--access-request-url", "https://jira.example.com/AR-1", NULL), 0);
	assert_body(c, &a, "{\"instance\":\"global\",\"kind\":\"api_token\","
	    "\"justification\":\"weekly export\",\"use_case\":\"reporting\","
	    "\"scopes\":[\"tickets:read\",\"users:read\"],\"lifetime_days\":90,"
	    "\"access_request_url\":\"https://jira.example.com/AR-1\"}");
	assert_int_equal(parse(c, &a, err, "request", "create", "--instance",
	    "global", "--kind", "integration", "--justification", "j",
	    "--use-case", "u", "--lifetime-days", "30", "--integration-name",
	    "Sync", "--redirect-uri", "https://a.example.com/cb",
	    "--redirect-uri", "https://b.example.com/cb", "--client-kind",
	    "public", NULL), 0);
	assert_body(c, &a, "{\"instance\":\"global\",\"kind\":\"integration\","
	    "\"justification\":\"j\",\"use_case\":\"u\",\"lifetime_days\":30,"
	    "\"integration\":{\"name\":\"Sync\",\"redirect_uris\":["
	    "\"https://a.example.com/cb\",\"https://b.example.com/cb\"],"
	    "\"client_kind\":\"public\"}}");
	assert_int_equal(parse(c, &a, err, "request", "create", "--instance",
	    "g", "--kind", "oauth", NULL), -1);
	assert_string_equal(err, "--kind takes one of: api_token|integration");
	assert_int_equal(parse(c, &a, err, "request", "create", "--instance",
	    "g", "--kind", "api_token", "--justification", "j", "--use-case",
	    "u", NULL), -1);
	assert_string_equal(err, "--lifetime-days is required");
	assert_int_equal(parse(c, &a, err, "request", "create", "--instance",
	    "g", "--kind", "integration", "--justification", "j", "--use-case",
	    "u", "--lifetime-days", "1", "--client-kind", "secret", NULL), -1);
	assert_string_equal(err,
	    "--client-kind takes one of: confidential|public");

	/* acknowledge_risk only when asked for; an empty approval is {}. */
	assert_int_equal(parse(ap, &a, err, "request", "approve", "r_1",
	    "--comment", "fine", "--acknowledge-risk", NULL), 0);
	assert_string_equal(a.pos[0], "r_1");
	assert_body(ap, &a, "{\"comment\":\"fine\",\"acknowledge_risk\":true}");
	assert_int_equal(parse(ap, &a, err, "request", "approve", "r_1",
	    "--comment", "fine", NULL), 0);
	assert_body(ap, &a, "{\"comment\":\"fine\"}");
	assert_int_equal(parse(ap, &a, err, "request", "approve", "r_1", NULL),
	    0);
	assert_body(ap, &a, "{}");
	assert_int_equal(parse(ap, &a, err, "request", "approve", "r_1",
	    "--acknowledge-risk=yes", NULL), -1);
	assert_string_equal(err, "--acknowledge-risk takes no value");
	assert_int_equal(parse(ap, &a, err, "request", "approve", NULL), -1);
	assert_string_equal(err, "missing ID");
	assert_int_equal(parse(dn, &a, err, "request", "deny", "r_1", NULL),
	    -1);
	assert_string_equal(err, "--comment is required");
	assert_int_equal(parse(dn, &a, err, "request", "deny", "r_1",
	    "--comment", "no", NULL), 0);
	assert_body(dn, &a, "{\"comment\":\"no\"}");
	assert_int_equal(parse(wd, &a, err, "request", "withdraw", "r_1",
	    NULL), 0);
	assert_body(wd, &a, "{}");
}

static void
test_fulfil_secret(void **state)
{
	const struct cli_verb	*f = verb(&cli_requests, "fulfil");
	struct cli_args		 a;
	json_t			*body = NULL;
	char			 err[CLI_ERR_MAX], path[] = "/tmp/kwsecXXXXXX";
	int			 fd, pfd[2], saved;

	(void)state;
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1", NULL),
	    -1);
	assert_string_equal(err, "--secret-file or --secret-env is required");
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret-file", "x", "--secret-env", "V", NULL), -1);
	assert_string_equal(err,
	    "--secret-file and --secret-env cannot be combined");
	/* There is no way to give the secret itself on the command line. */
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret", "s3cret", NULL), -1);
	assert_string_equal(err, "unknown option --secret");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "zd-token-123\n", 13), 13);
	close(fd);
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret-file", path, "--external-id", "9001", NULL), 0);
	assert_body(f, &a, "{\"secret\":\"zd-token-123\","
	    "\"external_id\":\"9001\"}");
	unlink(path);

	setenv("KW_TEST_SECRET", "from-env", 1);
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret-env", "KW_TEST_SECRET", NULL), 0);
	assert_body(f, &a, "{\"secret\":\"from-env\"}");
	unsetenv("KW_TEST_SECRET");

	/* "-" reads standard input up to the first newline, without
	 * waiting for end-of-file (the writer is still open). */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], "piped\nmore", 10), 10);
	saved = dup(STDIN_FILENO);
	assert_int_equal(dup2(pfd[0], STDIN_FILENO), STDIN_FILENO);
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret-file", "-", NULL), 0);
	assert_body(f, &a, "{\"secret\":\"piped\"}");
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	close(pfd[0]);
	close(pfd[1]);
	assert_null(body);
}

static void
test_list_queries(void **state)
{
	const struct cli_verb	*rl = verb(&cli_requests, "list");
	const struct cli_verb	*cl = verb(&cli_credentials, "list");
	const struct cli_verb	*al = verb(&cli_audit, "list");
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(rl, &a, err, "request", "list", "--state",
	    "pending_provisioner", "--actionable", "--requester", "a+b@x.io",
	    "--instance", "global", "--limit", "10", NULL), 0);
	assert_query(&a, "?state=pending_provisioner&actionable=true&"
	    "requester=a%2Bb@x.io&instance=global&limit=10");
	assert_int_equal(parse(rl, &a, err, "request", "list", "--state",
	    "open", NULL), -1);
	assert_non_null(strstr(err, "--state takes one of: pending_manager|"));
	assert_int_equal(parse(cl, &a, err, "credential", "list", "--owner",
	    "bob@x.io", "--state", "active", "--expiring-before",
	    "2026-12-31T00:00:00Z", "--cursor", "c/2", NULL), 0);
	assert_query(&a, "?owner=bob@x.io&state=active&"
	    "expiring_before=2026-12-31T00%3A00%3A00Z&cursor=c%2F2");
	assert_int_equal(parse(cl, &a, err, "credential", "list",
	    "--expiring-before", "2026-12-31", NULL), -1);
	assert_string_equal(err, "--expiring-before takes an RFC 3339 UTC "
	    "time (2026-11-28T09:00:00Z)");
	/* Every credential state the server knows, and every kind. */
	assert_int_equal(parse(cl, &a, err, "credential", "list", "--state",
	    "pending", "--kind", "legacy_api_token", NULL), 0);
	assert_query(&a, "?state=pending&kind=legacy_api_token");
	assert_int_equal(parse(cl, &a, err, "credential", "list", "--kind",
	    "integration", "--instance", "global", NULL), 0);
	assert_query(&a, "?kind=integration&instance=global");
	assert_int_equal(parse(cl, &a, err, "credential", "list", "--state",
	    "issued", NULL), -1);
	assert_string_equal(err,
	    "--state takes one of: pending|active|revoked|expired");
	assert_int_equal(parse(cl, &a, err, "credential", "list", "--kind",
	    "oauth", NULL), -1);
	assert_string_equal(err, "--kind takes one of: "
	    "api_token|integration|legacy_api_token");
	assert_int_equal(parse(cl, &a, err, "credential", "list", "--kind",
	    "api_token", "--kind", "integration", NULL), -1);
	assert_string_equal(err, "--kind given more than once");
	assert_int_equal(parse(rl, &a, err, "request", "list", "--state",
	    "issuing", NULL), 0);
	assert_query(&a, "?state=issuing");
	assert_int_equal(parse(al, &a, err, "audit", "list", "--after-seq",
	    "42", "--limit", "5", NULL), 0);
	assert_query(&a, "?after_seq=42&limit=5");
	assert_int_equal(parse(al, &a, err, "audit", "list", "--after-seq",
	    "-1", NULL), -1);
	assert_string_equal(err, "--after-seq takes a whole number");
}

static void
test_credential_bodies(void **state)
{
	const struct cli_verb	*cc = verb(&cli_credentials, "create");
	const struct cli_verb	*rv = verb(&cli_credentials, "revoke");
	const struct cli_verb	*ro = verb(&cli_credentials, "rotate");
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(cc, &a, err, "credential", "create",
	    "--instance", "global", "--purpose", "automation", "--link",
	    "https://wiki.example.com/x", "--scope", "read",
	    "--lifetime-days", "30", NULL), 0);
	assert_body(cc, &a, "{\"instance\":\"global\",\"purpose\":"
	    "\"automation\",\"link\":\"https://wiki.example.com/x\","
	    "\"scopes\":[\"read\"],\"lifetime_days\":30}");
	assert_int_equal(parse(cc, &a, err, "credential", "create",
	    "--instance", "global", "--purpose", "team", NULL), -1);
	assert_string_equal(err,
	    "--purpose takes one of: personal|automation");
	assert_int_equal(parse(rv, &a, err, "credential", "revoke", "c_1",
	    NULL), -1);
	assert_string_equal(err, "--reason is required");
	assert_int_equal(parse(rv, &a, err, "credential", "revoke", "c_1",
	    "--reason", "leaked", NULL), 0);
	assert_body(rv, &a, "{\"reason\":\"leaked\"}");
	assert_int_equal(parse(ro, &a, err, "credential", "rotate", "c_1",
	    NULL), 0);
	assert_body(ro, &a, "{}");
}

/* Parse the verb-less `keywarden revoke ...` (vi 0: no verb word). */
static int
parse_bare(const struct cli_verb *v, struct cli_args *a, char *err,
    char **argv, int argc)
{
	err[0] = '\0';
	return cli_args_parse(v, argc, argv, 0, a, err, CLI_ERR_MAX);
}

static void
test_revoke_args(void **state)
{
	const struct cli_verb	*v = &cli_revoke.verbs[0];
	char			*a1[] = { "revoke", "--instance", "global",
				    "--reason", "incident 7" };
	char			*a2[] = { "revoke", "--reason", "x" };
	char			*a3[] = { "revoke", "--instance", "g",
				    "--request", "r_1", "--reason", "x" };
	char			*a4[] = { "revoke", "--request", "r_1",
				    "--reason", "x", "--dry-run", "extra" };
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_true(cli_revoke.flags & CLI_R_BARE);
	assert_int_equal(parse_bare(v, &a, err, a1, 5), 0);
	assert_string_equal(cli_opt_get(&a, "instance"), "global");
	assert_string_equal(cli_opt_get(&a, "reason"), "incident 7");
	assert_null(cli_opt_get(&a, "request"));
	assert_null(cli_opt_get(&a, "dry-run"));
	assert_int_equal(parse_bare(v, &a, err, a2, 3), -1);
	assert_string_equal(err, "--instance or --request is required");
	assert_int_equal(parse_bare(v, &a, err, a3, 7), -1);
	assert_string_equal(err, "--instance and --request cannot be combined");
	assert_int_equal(parse_bare(v, &a, err, a4, 7), -1);
	assert_string_equal(err, "unexpected argument 'extra'");
	assert_int_equal(parse_bare(v, &a, err, a4, 6), 0);
	assert_string_equal(cli_opt_get(&a, "dry-run"), "");
}

static void
test_usage_new(void **state)
{
	const struct cli_resource *const rs[] = { &cli_people, &cli_instances,
	    &cli_requests, &cli_credentials, &cli_audit, &cli_revoke,
	    &cli_report, &cli_settings_slack };
	struct buf	 b;
	const char	*line, *nl;
	size_t		 i, j;

	(void)state;
	buf_init(&b, CLI_OUT_MAX);
	cli_verb_usage(&b, "usage: ", &cli_revoke, &cli_revoke.verbs[0]);
	assert_string_equal(buf_str(&b), "usage: keywarden revoke "
	    "(--instance NAME | --request ID) --reason TEXT\n"
	    "           [--dry-run]\n");
	buf_free(&b);
	cli_verb_usage(&b, "usage: ", &cli_requests,
	    verb(&cli_requests, "fulfil"));
	assert_string_equal(buf_str(&b), "usage: keywarden request fulfil ID "
	    "(--secret-file FILE | --secret-env VAR)\n"
	    "           [--external-id ID]\n");
	buf_free(&b);
	/* Every synopsis stays within the width. */
	for (i = 0; i < KW_NELEM(rs); i++)
		for (j = 0; j < rs[i]->nverbs; j++)
			cli_verb_usage(&b, "  ", rs[i], &rs[i]->verbs[j]);
	for (line = buf_str(&b); (nl = strchr(line, '\n')); line = nl + 1)
		assert_true(nl - line <= CLI_USAGE_WIDTH);
	buf_free(&b);
}

static void
test_timeline(void **state)
{
	json_t		*h;
	struct buf	 b;

	(void)state;
	/* Out of order on the wire, same-second entries kept in order, a
	 * comment with quotes and a newline, none, an unknown actor. */
	h = json_of("["
	    "{\"at\":\"2026-11-28T10:00:00Z\",\"actor\":\"pat@example.com\","
	    "\"action\":\"approve\",\"comment\":\"ok \\\"go\\\"\\nnow\"},"
	    "{\"at\":\"2026-11-28T09:00:00Z\",\"actor\":\"alice@example.com\","
	    "\"action\":\"create\",\"comment\":\"\"},"
	    "{\"at\":\"2026-11-28T09:30:00Z\",\"actor\":\"bob@example.com\","
	    "\"action\":\"approve\",\"comment\":\"fine\"},"
	    "{\"at\":\"2026-11-28T10:00:00Z\",\"actor\":null,"
	    "\"action\":\"issue\",\"comment\":null},"
	    "\"junk\"]");
	buf_init(&b, 4096);
	cli_timeline_render(&b, h);
	assert_string_equal(buf_str(&b),
	    "2026-11-28T09:00:00Z  alice@example.com  create\n"
	    "2026-11-28T09:30:00Z  bob@example.com    approve  \"fine\"\n"
	    "2026-11-28T10:00:00Z  pat@example.com    approve  "
	    "\"ok \\\"go\\\"?now\"\n"
	    "2026-11-28T10:00:00Z  -                  issue\n");
	buf_free(&b);
	json_decref(h);
	/* Nothing for an empty or missing history. */
	cli_timeline_render(&b, NULL);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void
test_request_render(void **state)
{
	json_t		*r;
	struct buf	 b;

	(void)state;
	r = json_of("{\"id\":\"r_1\",\"instance\":\"global\",\"kind\":"
	    "\"api_token\",\"state\":\"awaiting_fulfilment\",\"requester\":"
	    "\"alice@example.com\",\"manager\":\"bob@example.com\","
	    "\"justification\":\"export\",\"use_case\":\"reports\","
	    "\"scopes\":[\"tickets:read\",\"users:read\"],\"lifetime_days\":90,"
	    "\"access_request_url\":null,\"link\":"
	    "\"https://kw.example.com/requests/r_1\",\"integration\":null,"
	    "\"credential_id\":null,\"created_at\":\"2026-11-28T09:00:00Z\","
	    "\"updated_at\":\"2026-11-28T10:00:00Z\",\"expires_at\":null,"
	    "\"fulfilment\":{\"name\":\"https://kw.example.com/requests/r_1\","
	    "\"instance_url\":\"https://g.zendesk.com\"},"
	    "\"history\":[{\"at\":\"2026-11-28T09:00:00Z\",\"actor\":"
	    "\"alice@example.com\",\"action\":\"create\",\"comment\":\"\"}]}");
	buf_init(&b, 8192);
	cli_request_render(&b, r);
	assert_string_equal(buf_str(&b),
	    "id:             r_1\n"
	    "instance:       global\n"
	    "kind:           api_token\n"
	    "state:          awaiting_fulfilment\n"
	    "requester:      alice@example.com\n"
	    "manager:        bob@example.com\n"
	    "justification:  export\n"
	    "use case:       reports\n"
	    "scopes:         tickets:read, users:read\n"
	    "lifetime:       90 days (the credential's, once issued)\n"
	    "link:           https://kw.example.com/requests/r_1\n"
	    "credential:     -\n"
	    "created:        2026-11-28T09:00:00Z\n"
	    "updated:        2026-11-28T10:00:00Z\n"
	    "pending until:  -\n"
	    "\n"
	    "Create the credential on the instance with this exact name:\n"
	    "\n"
	    "    https://kw.example.com/requests/r_1\n"
	    "\n"
	    "  instance_url:  https://g.zendesk.com\n"
	    "\n"
	    "Then hand keywarden its secret: keywarden request fulfil r_1 "
	    "--secret-file FILE\n"
	    "\n"
	    "history:\n"
	    "2026-11-28T09:00:00Z  alice@example.com  create\n");
	buf_free(&b);
	json_decref(r);

	/* An integration shows its details; no fulfilment outside its state. */
	r = json_of("{\"id\":\"r_2\",\"kind\":\"integration\",\"state\":"
	    "\"pending_manager\",\"scopes\":[],\"integration\":{\"name\":"
	    "\"Sync\",\"redirect_uris\":[\"https://a.example.com/cb\"],"
	    "\"client_kind\":\"confidential\"},\"fulfilment\":{\"name\":\"x\"},"
	    "\"history\":[]}");
	cli_request_render(&b, r);
	assert_non_null(strstr(buf_str(&b), "\nintegration:    Sync\n"
	    "client kind:    confidential\n"
	    "redirect uris:  https://a.example.com/cb\n"));
	assert_non_null(strstr(buf_str(&b), "\nscopes:         (none)\n"));
	assert_null(strstr(buf_str(&b), "Create the credential"));
	assert_non_null(strstr(buf_str(&b), "\nhistory: (none)\n"));
	buf_free(&b);
	json_decref(r);
}

static void
test_request_state_render(void **state)
{
	json_t		*r;
	struct buf	 b;

	(void)state;
	buf_init(&b, 4096);
	r = json_of("{\"id\":\"r_1\",\"state\":\"issued\",\"credential_id\":"
	    "\"c_9\"}");
	cli_request_state_render(&b, r);
	assert_string_equal(buf_str(&b), "request r_1: issued\n"
	    "credential: c_9\n"
	    "Its owner reveals the secret, once, with: keywarden credential "
	    "reveal c_9\n");
	buf_free(&b);
	json_decref(r);
	r = json_of("{\"id\":\"r_1\",\"state\":\"failed\",\"history\":["
	    "{\"action\":\"approve\",\"comment\":\"ok\"},{\"action\":\"fail\","
	    "\"comment\":\"instance said 403\"}]}");
	cli_request_state_render(&b, r);
	assert_string_equal(buf_str(&b), "request r_1: failed\n"
	    "reason: instance said 403\n");
	buf_free(&b);
	json_decref(r);
	r = json_of("{\"id\":\"r_1\",\"state\":\"awaiting_fulfilment\","
	    "\"fulfilment\":{\"name\":\"kw r_1\"}}");
	cli_request_state_render(&b, r);
	assert_string_equal(buf_str(&b), "request r_1: awaiting_fulfilment\n"
	    "\nCreate the credential on the instance with this exact name:\n"
	    "\n    kw r_1\n\n"
	    "Then hand keywarden its secret: keywarden request fulfil r_1 "
	    "--secret-file FILE\n");
	buf_free(&b);
	json_decref(r);
	r = json_of("{\"id\":\"r\\u001b1\",\"state\":\"denied\"}");
	cli_request_state_render(&b, r);
	assert_string_equal(buf_str(&b), "request r?1: denied\n");
	buf_free(&b);
	json_decref(r);
}

static void
test_reveal_render(void **state)
{
	json_t		*r;
	struct buf	 b;

	(void)state;
	buf_init(&b, 4096);
	r = json_of("{\"secret\":\"zd-abc\"}");
	assert_int_equal(cli_reveal_render(&b, r), 0);
	assert_string_equal(buf_str(&b), "zd-abc\n");
	buf_free(&b);
	json_decref(r);
	r = json_of("{\"client_id\":\"kw_sync\",\"client_secret\":\"cs-1\"}");
	assert_int_equal(cli_reveal_render(&b, r), 0);
	assert_string_equal(buf_str(&b),
	    "client_id: kw_sync\nclient_secret: cs-1\n");
	buf_free(&b);
	/* The wipe leaves the strings' bytes zeroed, whatever the depth. */
	json_object_set_new(r, "nested", json_pack("{s:[s]}", "a", "deep"));
	cli_json_wipe_all(r);
	assert_int_equal(json_string_value(json_object_get(r,
	    "client_secret"))[0], '\0');
	assert_int_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(r, "nested"), "a"), 0))[0], '\0');
	json_decref(r);
	r = json_of("{\"client_id\":\"kw_sync\"}");
	assert_int_equal(cli_reveal_render(&b, r), -1);
	buf_free(&b);
	json_decref(r);
}

static void
test_verify_render(void **state)
{
	json_t		*v;
	struct buf	 b;

	(void)state;
	buf_init(&b, 4096);
	v = json_of("{\"ok\":true,\"events\":12,\"head\":\"ab12\"}");
	assert_int_equal(cli_verify_render(&b, v), CLI_EXIT_OK);
	assert_string_equal(buf_str(&b),
	    "audit log intact: 12 events, head ab12\n");
	buf_free(&b);
	json_decref(v);
	v = json_of("{\"ok\":false,\"first_bad_seq\":7,\"reason\":"
	    "\"hash mismatch\"}");
	assert_int_equal(cli_verify_render(&b, v), CLI_EXIT_FAIL);
	assert_string_equal(buf_str(&b),
	    "audit log BROKEN at event 7: hash mismatch\n");
	buf_free(&b);
	json_decref(v);
	v = json_of("{\"ok\":\"yes\"}");
	assert_int_equal(cli_verify_render(&b, v), CLI_EXIT_FAIL);
	buf_free(&b);
	json_decref(v);
}

static void
test_list_dotted(void **state)
{
	static const struct cli_col cols[] = {
		{ "ID", "id" }, { "DELIVERY", "delivery.state" },
	};
	json_t		*ans;
	struct buf	 b;

	(void)state;
	ans = json_of("{\"items\":[{\"id\":\"c_1\",\"delivery\":{\"state\":"
	    "\"pending\"}},{\"id\":\"c_2\",\"delivery\":null}],"
	    "\"next_cursor\":null}");
	buf_init(&b, 4096);
	cli_list_render(&b, ans, cols, KW_NELEM(cols));
	assert_string_equal(buf_str(&b),
	    "ID   DELIVERY\n"
	    "c_1  pending\n"
	    "c_2  -\n");
	buf_free(&b);
	json_decref(ans);
	buf_init(&b, 4096);
	cli_indent(&b, "a\nb\n", "> ");
	cli_indent(&b, "c", "> ");
	assert_string_equal(buf_str(&b), "> a\n> b\n> c\n");
	buf_free(&b);
}

/* ---- bulk revocation -------------------------------------------------- */

/* A scripted server: per credential, the status of each attempt in turn
 * (0: success, -1: unreachable). */
struct fake_rv {
	const char	*id[4];
	long		 script[4][CLI_REVOKE_ATTEMPTS];
	int		 calls[4];
	unsigned	 slept[8];
	size_t		 nslept;
};

static int
fake_revoke(void *arg, const char *id, struct cli_fail *fail)
{
	struct fake_rv	*f = arg;
	size_t		 i;
	long		 s;

	for (i = 0; i < 4 && strcmp(f->id[i], id) != 0; i++)
		;
	assert_true(i < 4);
	s = f->script[i][f->calls[i]++];
	if (s == 0)
		return 0;
	if (s < 0) {
		fail->neterr = KW_ERR_UPSTREAM;
		snprintf(fail->text, sizeof(fail->text), "cannot reach server");
	} else {
		fail->status = s;
		snprintf(fail->text, sizeof(fail->text), "%ld some_code: no", s);
	}
	return -1;
}

static void
fake_sleep(void *arg, unsigned seconds)
{
	struct fake_rv *f = arg;

	f->slept[f->nslept++] = seconds;
}

static void
test_revoke_classify(void **state)
{
	struct cli_fail f;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.neterr = KW_ERR_UPSTREAM;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_RETRY);
	f.neterr = KW_ERR_VALIDATION;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_FAILED);
	f.neterr = 0;
	f.status = 409;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_NOT_ACTIVE);
	f.status = 502;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_RETRY);
	f.status = 429;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_RETRY);
	f.status = 200;		/* success without a readable answer */
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_RETRY);
	f.status = 403;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_FAILED);
	f.status = 404;
	assert_int_equal(cli_revoke_classify(&f), CLI_RV_FAILED);
}

static void
test_bulk_revoke(void **state)
{
	struct fake_rv	 f = {
		.id = { "c_1", "c_2", "c_3", "c_4" },
		.script = {
			{ 0 },			/* revoked at once */
			{ 502, -1, 0 },		/* revoked on the third try */
			{ 409 },		/* already revoked */
			{ 503, 403 },		/* then refused for good */
		},
	};
	struct cli_bulk	 b;
	struct buf	 sum;
	json_t		*j, *exp;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*out;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(cli_bulk_add(&b, "c_1", "alice@example.com"), 0);
	assert_int_equal(cli_bulk_add(&b, "c_2", NULL), 0);
	assert_int_equal(cli_bulk_add(&b, "c_3", "bob@example.com"), 0);
	assert_int_equal(cli_bulk_add(&b, "c_1", "dup@example.com"), 0);
	assert_int_equal(cli_bulk_add(&b, "c_4", "carol@example.com"), 0);
	assert_int_equal(b.n, 4);
	assert_non_null(out = open_memstream(&text, &len));
	assert_int_equal(cli_bulk_revoke(&b, fake_revoke, fake_sleep, &f, out),
	    1);
	fclose(out);
	assert_string_equal(text,
	    "c_1  alice@example.com  revoked\n"
	    "c_2  failed, will retry: 502 some_code: no\n"
	    "c_3  bob@example.com  not active: 409 some_code: no\n"
	    "c_4  carol@example.com  failed, will retry: 503 some_code: no\n"
	    "c_2  failed, will retry: cannot reach server\n"
	    "c_4  carol@example.com  FAILED after 2 attempts: "
	    "403 some_code: no\n"
	    "c_2  revoked (attempt 3)\n");
	free(text);
	/* One try each, a retry after 1 s, the last after 2 s. */
	assert_int_equal(f.calls[0], 1);
	assert_int_equal(f.calls[1], 3);
	assert_int_equal(f.calls[2], 1);
	assert_int_equal(f.calls[3], 2);
	assert_int_equal(f.nslept, 2);
	assert_int_equal(f.slept[0], 1);
	assert_int_equal(f.slept[1], 2);

	buf_init(&sum, 1024);
	assert_int_equal(cli_bulk_summary(&b, &sum), CLI_EXIT_FAIL);
	assert_string_equal(buf_str(&sum), "revoked 2 of 4 credentials, "
	    "1 no longer active, 1 FAILED\n");
	buf_free(&sum);
	j = cli_bulk_json(&b);
	exp = json_of("{\"revoked\":2,\"not_active\":1,\"failed\":1,"
	    "\"results\":["
	    "{\"id\":\"c_1\",\"owner\":\"alice@example.com\",\"result\":"
	    "\"revoked\",\"attempts\":1,\"error\":null},"
	    "{\"id\":\"c_2\",\"owner\":null,\"result\":\"revoked\","
	    "\"attempts\":3,\"error\":null},"
	    "{\"id\":\"c_3\",\"owner\":\"bob@example.com\",\"result\":"
	    "\"not_active\",\"attempts\":1,\"error\":\"409 some_code: no\"},"
	    "{\"id\":\"c_4\",\"owner\":\"carol@example.com\",\"result\":"
	    "\"failed\",\"attempts\":2,\"error\":\"403 some_code: no\"}]}");
	assert_true(json_equal(j, exp));
	json_decref(j);
	json_decref(exp);
	cli_bulk_free(&b);
}

static void
test_bulk_revoke_gives_up(void **state)
{
	struct fake_rv	 f = {
		.id = { "c_1", "c_2", "x", "y" },
		.script = { { -1, -1, -1 }, { 0 } },
	};
	struct cli_bulk	 b;
	struct buf	 sum;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(cli_bulk_add(&b, "c_1", NULL), 0);
	assert_int_equal(cli_bulk_add(&b, "c_2", NULL), 0);
	/* Without output; transient failures stop after the attempts. */
	assert_int_equal(cli_bulk_revoke(&b, fake_revoke, fake_sleep, &f,
	    NULL), 1);
	assert_int_equal(f.calls[0], CLI_REVOKE_ATTEMPTS);
	assert_int_equal(b.t[0].state, CLI_RV_FAILED);
	assert_string_equal(b.t[0].why, "cannot reach server");
	assert_int_equal(f.nslept, CLI_REVOKE_ATTEMPTS - 1);
	cli_bulk_free(&b);

	/* All well: no sleeping, exit 0; nothing at all: exit 0. */
	memset(&f, 0, sizeof(f));
	f.id[0] = "c_1";
	f.id[1] = f.id[2] = f.id[3] = "-";
	assert_int_equal(cli_bulk_add(&b, "c_1", NULL), 0);
	assert_int_equal(cli_bulk_revoke(&b, fake_revoke, fake_sleep, &f,
	    NULL), 0);
	assert_int_equal(f.nslept, 0);
	buf_init(&sum, 1024);
	assert_int_equal(cli_bulk_summary(&b, &sum), CLI_EXIT_OK);
	assert_string_equal(buf_str(&sum), "revoked 1 of 1 credential\n");
	buf_free(&sum);
	cli_bulk_free(&b);
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

/* ---- instance lifecycle fields, secret limits, settings, help ---------- */

static void
test_instance_lifecycle_fields(void **state)
{
	const struct cli_verb	*ic = verb(&cli_instances, "create");
	const struct cli_verb	*iu = verb(&cli_instances, "update");
	struct cli_args		 a;
	struct buf		 b;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(ic, &a, err, "instances", "create", "--name",
	    "g", "--url", "https://g.zendesk.com", "--grace-days", "0",
	    "--warn-day", "30", "--warn-day", "7", "--warn-day", "3650", NULL),
	    0);
	assert_body(ic, &a, "{\"name\":\"g\",\"url\":\"https://g.zendesk.com\","
	    "\"grace_days\":0,\"warn_days\":[30,7,3650]}");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--grace-days", "14", NULL), 0);
	assert_body(iu, &a, "{\"grace_days\":14}");
	/* --no-warn-days sends the empty list: no warnings at all. */
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--no-warn-days", NULL), 0);
	assert_body(iu, &a, "{\"warn_days\":[]}");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--warn-day=1", NULL), 0);
	assert_body(iu, &a, "{\"warn_days\":[1]}");

	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--warn-day", "7", "--no-warn-days", NULL), -1);
	assert_string_equal(err,
	    "--warn-day and --no-warn-days cannot be combined");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--no-warn-days", "--no-warn-days", NULL), -1);
	assert_string_equal(err, "--no-warn-days given more than once");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--no-warn-days=1", NULL), -1);
	assert_string_equal(err, "--no-warn-days takes no value");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--warn-day", "1d", NULL), -1);
	assert_string_equal(err, "--warn-day takes a whole number");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--warn-day", "-7", NULL), -1);
	assert_string_equal(err, "--warn-day takes a whole number");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--grace-days", "-1", NULL), -1);
	assert_string_equal(err, "--grace-days takes a whole number");
	assert_int_equal(parse(iu, &a, err, "instances", "update", "g",
	    "--grace-days", "1", "--grace-days", "2", NULL), -1);
	assert_string_equal(err, "--grace-days given more than once");

	buf_init(&b, CLI_OUT_MAX);
	cli_verb_usage(&b, "  ", &cli_instances, iu);
	assert_non_null(strstr(buf_str(&b), "[--grace-days N]"));
	assert_non_null(strstr(buf_str(&b),
	    "[--warn-day N... | --no-warn-days]"));
	buf_free(&b);
}

/* Write len bytes of data to a new temporary file; its path in path. */
static void
temp_file(char *path, const void *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/kwsecXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
test_secret_limits(void **state)
{
	const struct cli_verb	*f = verb(&cli_requests, "fulfil");
	struct cli_args		 a;
	json_t			*body = NULL;
	char			 err[CLI_ERR_MAX], path[32];
	char			*big;

	(void)state;
	/* The server keeps secrets of up to KW_SECRET_MAX bytes: so does
	 * the client, from a file and from the environment. */
	assert_int_equal(CLI_SECRET_MAX, KW_SECRET_MAX);
	big = malloc(KW_SECRET_MAX + 3);
	assert_non_null(big);
	memset(big, 'x', KW_SECRET_MAX);
	big[KW_SECRET_MAX] = '\n';
	temp_file(path, big, KW_SECRET_MAX + 1);
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret-file", path, NULL), 0);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)), 0);
	assert_int_equal(json_string_length(json_object_get(body, "secret")),
	    KW_SECRET_MAX);
	json_decref(body);
	body = NULL;
	unlink(path);
	/* The same without a line ending, and with CR LF. */
	temp_file(path, big, KW_SECRET_MAX);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)), 0);
	assert_int_equal(json_string_length(json_object_get(body, "secret")),
	    KW_SECRET_MAX);
	json_decref(body);
	body = NULL;
	unlink(path);
	big[KW_SECRET_MAX] = '\r';
	big[KW_SECRET_MAX + 1] = '\n';
	temp_file(path, big, KW_SECRET_MAX + 2);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)), 0);
	assert_int_equal(json_string_length(json_object_get(body, "secret")),
	    KW_SECRET_MAX);
	json_decref(body);
	body = NULL;
	unlink(path);

	/* One byte more is a usage error, with or without a newline. */
	big[KW_SECRET_MAX] = 'x';
	big[KW_SECRET_MAX + 1] = '\n';
	temp_file(path, big, KW_SECRET_MAX + 2);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	assert_string_equal(err, "--secret-file: secret longer than 4096 "
	    "bytes");
	assert_null(body);
	unlink(path);
	temp_file(path, big, KW_SECRET_MAX + 1);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	assert_string_equal(err, "--secret-file: secret longer than 4096 "
	    "bytes");
	unlink(path);

	/* A NUL byte in the secret's line would cut it short: refused.  One
	 * after the first line is not part of the secret. */
	temp_file(path, "ab\0cd\n", 6);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	assert_non_null(strstr(err, "holds a NUL byte"));
	unlink(path);
	temp_file(path, "abcd\n\0", 6);
	assert_body(f, &a, "{\"secret\":\"abcd\"}");
	unlink(path);

	/* The environment: 4096 bytes pass, 4097 do not. */
	big[KW_SECRET_MAX] = '\0';
	setenv("KW_TEST_BIG", big, 1);
	assert_int_equal(parse(f, &a, err, "request", "fulfil", "r_1",
	    "--secret-env", "KW_TEST_BIG", NULL), 0);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)), 0);
	assert_int_equal(json_string_length(json_object_get(body, "secret")),
	    KW_SECRET_MAX);
	json_decref(body);
	body = NULL;
	big[KW_SECRET_MAX] = 'x';
	big[KW_SECRET_MAX + 1] = '\0';
	setenv("KW_TEST_BIG", big, 1);
	assert_int_equal(cli_body_build(f, &a, &body, err, sizeof(err)),
	    KW_ERR_VALIDATION);
	assert_string_equal(err, "--secret-env: secret longer than 4096 "
	    "bytes");
	assert_null(body);
	unsetenv("KW_TEST_BIG");
	free(big);
}

static void
test_settings_slack(void **state)
{
	const struct cli_verb	*sh = verb(&cli_settings_slack, "show");
	const struct cli_verb	*ss = verb(&cli_settings_slack, "set");
	struct cli_args		 a;
	struct buf		 b;
	json_t			*body = NULL;
	char			 err[CLI_ERR_MAX], path[32];
	int			 pfd[2], saved;

	(void)state;
	assert_string_equal(cli_settings_slack.name, "settings slack");
	assert_string_equal(sh->method, "GET");
	assert_string_equal(sh->path, "/v1/settings/slack");
	assert_string_equal(ss->method, "PUT");
	assert_string_equal(ss->path, "/v1/settings/slack");
	assert_int_equal(parse(sh, &a, err, "settings", "show", NULL), 0);
	assert_int_equal(parse(sh, &a, err, "settings", "show", "x", NULL),
	    -1);

	/* What cli_run hands on: the group word, then the verb ("slack" is
	 * taken out once it picked the resource). */
	temp_file(path, "xoxb-1-2-abc\n", 13);
	setenv("KW_TEST_SIG", "8f14e45fceea167a", 1);
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--bot-token-file", path, "--signing-secret-env", "KW_TEST_SIG",
	    "--api-base-url", "http://127.0.0.1:9/api", "--webhook-url",
	    "none", NULL), 0);
	assert_body(ss, &a, "{\"bot_token\":\"xoxb-1-2-abc\","
	    "\"signing_secret\":\"8f14e45fceea167a\","
	    "\"api_base_url\":\"http://127.0.0.1:9/api\","
	    "\"webhook_url\":null}");
	/* The secrets in the body are wiped in place before it is freed. */
	assert_int_equal(cli_body_build(ss, &a, &body, err, sizeof(err)), 0);
	cli_json_wipe(body, "bot_token");
	cli_json_wipe(body, "signing_secret");
	assert_int_equal(json_string_value(json_object_get(body,
	    "bot_token"))[0], '\0');
	assert_int_equal(json_string_value(json_object_get(body,
	    "signing_secret"))[0], '\0');
	json_decref(body);
	body = NULL;
	unlink(path);
	setenv("KW_TEST_BOT", "xoxb-from-env", 1);
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--signing-secret-env", "KW_TEST_SIG", "--bot-token-env",
	    "KW_TEST_BOT", "--webhook-url", "https://hooks.example.com/T/B",
	    NULL), 0);
	assert_body(ss, &a, "{\"signing_secret\":\"8f14e45fceea167a\","
	    "\"bot_token\":\"xoxb-from-env\","
	    "\"webhook_url\":\"https://hooks.example.com/T/B\"}");

	/* The webhook URL is a secret too: from the environment or a file
	 * (one line, like the others), or "none" to turn it off. */
	setenv("KW_TEST_HOOK", "https://hooks.example.com/T/B/x", 1);
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--signing-secret-env", "KW_TEST_SIG", "--bot-token-env",
	    "KW_TEST_BOT", "--webhook-url-env", "KW_TEST_HOOK", NULL), 0);
	assert_body(ss, &a, "{\"signing_secret\":\"8f14e45fceea167a\","
	    "\"bot_token\":\"xoxb-from-env\","
	    "\"webhook_url\":\"https://hooks.example.com/T/B/x\"}");
	unsetenv("KW_TEST_HOOK");
	temp_file(path, "https://hooks.example.com/T/B/y\n", 32);
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--signing-secret-env", "KW_TEST_SIG", "--bot-token-env",
	    "KW_TEST_BOT", "--webhook-url-file", path, NULL), 0);
	assert_body(ss, &a, "{\"signing_secret\":\"8f14e45fceea167a\","
	    "\"bot_token\":\"xoxb-from-env\","
	    "\"webhook_url\":\"https://hooks.example.com/T/B/y\"}");
	unlink(path);
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--signing-secret-env", "KW_TEST_SIG", "--bot-token-env",
	    "KW_TEST_BOT", "--webhook-url", "none", "--webhook-url-env",
	    "KW_TEST_HOOK", NULL), -1);
	assert_string_equal(err,
	    "--webhook-url and --webhook-url-env cannot be combined");
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--signing-secret-env", "KW_TEST_SIG", "--bot-token-file", "-",
	    "--webhook-url-file", "-", NULL), -1);
	assert_string_equal(err, "--bot-token-file and --webhook-url-file "
	    "cannot both read standard input ('-'): give one a file");

	/* Both secrets are required; neither can come from argv. */
	assert_int_equal(parse(ss, &a, err, "settings", "set", NULL), -1);
	assert_string_equal(err, "--bot-token-file or --bot-token-env is "
	    "required");
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--bot-token-env", "KW_TEST_BOT", NULL), -1);
	assert_string_equal(err, "--signing-secret-file or "
	    "--signing-secret-env is required");
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--bot-token", "xoxb-argv", NULL), -1);
	assert_string_equal(err, "unknown option --bot-token");
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--signing-secret", "s", NULL), -1);
	assert_string_equal(err, "unknown option --signing-secret");
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--bot-token-file", "f", "--bot-token-env", "V",
	    "--signing-secret-env", "W", NULL), -1);
	assert_string_equal(err,
	    "--bot-token-file and --bot-token-env cannot be combined");
	/* Standard input holds one secret, not two. */
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--bot-token-file", "-", "--signing-secret-file", "-", NULL), -1);
	assert_string_equal(err, "--bot-token-file and --signing-secret-file "
	    "cannot both read standard input ('-'): give one a file");

	/* One of them from standard input, the other from the environment. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], "xoxb-piped\n", 11), 11);
	saved = dup(STDIN_FILENO);
	assert_int_equal(dup2(pfd[0], STDIN_FILENO), STDIN_FILENO);
	assert_int_equal(parse(ss, &a, err, "settings", "set",
	    "--bot-token-file", "-", "--signing-secret-env", "KW_TEST_SIG",
	    NULL), 0);
	assert_body(ss, &a, "{\"bot_token\":\"xoxb-piped\","
	    "\"signing_secret\":\"8f14e45fceea167a\"}");
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	close(pfd[0]);
	close(pfd[1]);
	unsetenv("KW_TEST_SIG");
	unsetenv("KW_TEST_BOT");

	buf_init(&b, CLI_OUT_MAX);
	cli_verb_usage(&b, "  ", &cli_settings_slack, ss);
	/* A group of alternatives too wide for a line breaks before "|". */
	assert_string_equal(buf_str(&b), "  keywarden settings slack set "
	    "(--bot-token-file FILE | --bot-token-env VAR)\n"
	    "      (--signing-secret-file FILE | --signing-secret-env VAR)\n"
	    "      [--api-base-url URL] [--webhook-url URL|none | "
	    "--webhook-url-file FILE\n"
	    "      | --webhook-url-env VAR]\n");
	buf_free(&b);
	cli_verb_usage(&b, "usage: ", &cli_settings_slack, ss);
	assert_string_equal(buf_str(&b), "usage: keywarden settings slack set\n"
	    "           (--bot-token-file FILE | --bot-token-env VAR)\n"
	    "           (--signing-secret-file FILE | --signing-secret-env "
	    "VAR)\n"
	    "           [--api-base-url URL] [--webhook-url URL|none\n"
	    "           | --webhook-url-file FILE | --webhook-url-env VAR]\n");
	buf_free(&b);
	cli_verb_usage(&b, "  ", &cli_settings_slack, sh);
	assert_string_equal(buf_str(&b), "  keywarden settings slack show\n");
	buf_free(&b);
}

/* `keywarden help` (cli_usage) lists every verb of every resource. */
static void
test_usage_lists_everything(void **state)
{
	const struct cli_resource *const rs[] = { &cli_people, &cli_instances,
	    &cli_requests, &cli_credentials, &cli_audit, &cli_revoke,
	    &cli_report, &cli_settings_slack };
	static const char *const lines[] = {
		"\n  keywarden revoke (--instance NAME | --request ID) --reason "
		    "TEXT [--dry-run]\n",
		"\n  keywarden report migration [--instance NAME]\n",
		"\n  keywarden settings slack show\n",
		"\n  keywarden settings slack set (--bot-token-file FILE | "
		    "--bot-token-env VAR)\n",
		"\n  keywarden credential rotate ID\n",
		"\n  keywarden credential link-replacement ID --replacement "
		    "ID|none\n",
		"\n  keywarden instances sync NAME\n",
		"[--state STATE] [--kind KIND]",
	};
	struct buf	 want;
	char		*text = NULL;
	size_t		 len = 0, i, j;
	FILE		*fp;

	(void)state;
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	fputc('\n', fp);
	cli_usage(fp);
	fclose(fp);
	for (i = 0; i < KW_NELEM(rs); i++)
		for (j = 0; j < rs[i]->nverbs; j++) {
			buf_init(&want, 1024);
			buf_printf(&want, "\n  keywarden %s", rs[i]->name);
			if (rs[i]->verbs[j].name != NULL)
				buf_printf(&want, " %s", rs[i]->verbs[j].name);
			if (strstr(text, buf_str(&want)) == NULL)
				fail_msg("help lacks '%s'", buf_str(&want) + 3);
			buf_free(&want);
		}
	for (i = 0; i < KW_NELEM(lines); i++)
		if (strstr(text, lines[i]) == NULL)
			fail_msg("help lacks '%s'", lines[i]);
	free(text);
}

static void
test_issued_render(void **state)
{
	json_t		*c;
	struct buf	 b;

	(void)state;
	/* A rotation on an automatic instance: the successor, active. */
	c = json_of("{\"id\":\"c_2\",\"instance\":\"global\",\"state\":"
	    "\"active\",\"request_id\":\"r_2\",\"delivery\":{\"state\":"
	    "\"pending\"},\"rotated_from\":\"c_1\",\"rotated_to\":null}");
	buf_init(&b, 4096);
	cli_issued_render(&b, c);
	assert_string_equal(buf_str(&b),
	    "successor c_2 of c_1: active\n"
	    "\n"
	    "id:              c_2\n"
	    "instance:        global\n"
	    "state:           active\n"
	    "request_id:      r_2\n"
	    "delivery.state:  pending\n"
	    "rotated_from:    c_1\n"
	    "rotated_to:      -\n"
	    "\n"
	    "The secret is delivered once: its owner reveals it with: "
	    "keywarden credential reveal c_2\n"
	    "The predecessor c_1 stays active for the instance's grace period "
	    "(grace_days), then is revoked.\n");
	buf_free(&b);
	json_decref(c);

	/* On a manual instance the successor waits for a fulfilment. */
	c = json_of("{\"id\":\"c_3\",\"state\":\"pending\",\"request_id\":"
	    "\"r_3\",\"rotated_from\":\"c_1\"}");
	cli_issued_render(&b, c);
	assert_true(strncmp(buf_str(&b), "successor c_3 of c_1: pending\n\n",
	    31) == 0);
	assert_non_null(strstr(buf_str(&b), "\nNot issued yet: its request "
	    "awaits fulfilment by hand; see: keywarden request show r_3\n"
	    "Once it is fulfilled, its owner reveals the secret, once, with: "
	    "keywarden credential reveal c_3\n"));
	assert_null(strstr(buf_str(&b), "The secret is delivered once"));
	buf_free(&b);
	json_decref(c);

	/* Issued directly: no successor line, no predecessor. */
	c = json_of("{\"id\":\"c_4\",\"state\":\"active\",\"rotated_from\":"
	    "null}");
	cli_issued_render(&b, c);
	assert_string_equal(buf_str(&b),
	    "id:            c_4\n"
	    "state:         active\n"
	    "rotated_from:  -\n"
	    "\n"
	    "The secret is delivered once: its owner reveals it with: "
	    "keywarden credential reveal c_4\n");
	buf_free(&b);
	json_decref(c);
}

static void
test_fulfilment_render(void **state)
{
	json_t		*r;
	struct buf	 b;

	(void)state;
	/* An integration: name, identifier and description, the exact
	 * values; the identifier is the external id to hand back. */
	r = json_of("{\"id\":\"r_3\",\"kind\":\"integration\",\"state\":"
	    "\"awaiting_fulfilment\",\"fulfilment\":{\"name\":\"Sync\","
	    "\"description\":\"https://kw.example.com/requests/r_3\","
	    "\"identifier\":\"keywarden-c_3\",\"instance_url\":"
	    "\"https://g.zendesk.com\",\"credential_id\":\"c_3\","
	    "\"instructions\":\"Create it.\"}}");
	buf_init(&b, 8192);
	cli_request_state_render(&b, r);
	assert_string_equal(buf_str(&b),
	    "request r_3: awaiting_fulfilment\n"
	    "\n"
	    "Create the OAuth client on the instance with exactly these "
	    "values:\n"
	    "\n"
	    "    name:         Sync\n"
	    "    identifier:   keywarden-c_3\n"
	    "    description:  https://kw.example.com/requests/r_3\n"
	    "\n"
	    "  instance_url:   https://g.zendesk.com\n"
	    "  credential_id:  c_3\n"
	    "  instructions:   Create it.\n"
	    "\n"
	    "Then hand keywarden its secret: keywarden request fulfil r_3 "
	    "--secret-file FILE --external-id keywarden-c_3\n");
	buf_free(&b);
	json_decref(r);

	/* An API token: name and identifier; no external id needed.  What
	 * the server sends is never trusted to be printable. */
	r = json_of("{\"id\":\"r_4\",\"kind\":\"api_token\",\"state\":"
	    "\"awaiting_fulfilment\",\"history\":[],\"fulfilment\":{\"name\":"
	    "\"https://kw.example.com/requests/r_4\",\"identifier\":"
	    "\"keywarden-c\\u001b4\"}}");
	cli_request_render(&b, r);
	assert_non_null(strstr(buf_str(&b),
	    "\nCreate the credential on the instance with exactly these "
	    "values:\n"
	    "\n"
	    "    name:        https://kw.example.com/requests/r_4\n"
	    "    identifier:  keywarden-c?4\n"
	    "\n"
	    "Then hand keywarden its secret: keywarden request fulfil r_4 "
	    "--secret-file FILE\n"));
	buf_free(&b);
	json_decref(r);

	/* An integration whose fulfilment lacks an identifier still says
	 * that an external id is needed. */
	r = json_of("{\"id\":\"r_5\",\"kind\":\"integration\",\"state\":"
	    "\"awaiting_fulfilment\",\"fulfilment\":{\"name\":\"Sync\"}}");
	cli_request_state_render(&b, r);
	assert_string_equal(buf_str(&b),
	    "request r_5: awaiting_fulfilment\n"
	    "\n"
	    "Create the OAuth client on the instance with this exact name:\n"
	    "\n"
	    "    Sync\n"
	    "\n"
	    "Then hand keywarden its secret: keywarden request fulfil r_5 "
	    "--secret-file FILE --external-id CLIENT_IDENTIFIER\n");
	buf_free(&b);
	json_decref(r);
}

/* `credential exec ID -- CMD ARGS`: everything after "--" is CMD's own
 * command line, options included; other verbs keep "--" as the end of
 * options. */
static void
test_exec_rest(void **state)
{
	const struct cli_verb	*ex = verb(&cli_credentials, "exec");
	const struct cli_verb	*tk = verb(&cli_credentials, "token");
	struct cli_args		 a;
	char			 err[CLI_ERR_MAX];

	(void)state;
	assert_int_equal(parse(ex, &a, err, "credential", "exec", "cred_1",
	    "--ttl", "30m", "--", "curl", "-H", "--json", "x", NULL), 0);
	assert_int_equal((int)a.npos, 1);
	assert_string_equal(a.pos[0], "cred_1");
	assert_string_equal(cli_opt_get(&a, "ttl"), "30m");
	assert_int_equal(a.nrest, 4);
	assert_string_equal(a.rest[0], "curl");
	assert_string_equal(a.rest[2], "--json");
	assert_null(a.rest[4]);
	assert_false(a.json);		/* CMD's --json, not keywarden's */
	assert_int_equal(parse(ex, &a, err, "credential", "exec", "cred_1",
	    NULL), 0);
	assert_int_equal(a.nrest, 0);
	assert_int_equal(parse(tk, &a, err, "credential", "token", "cred_1",
	    "--", "x", NULL), -1);	/* no command line for token */
	assert_null(a.rest);
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
		cmocka_unit_test(test_handles),
		cmocka_unit_test(test_request_bodies),
		cmocka_unit_test(test_fulfil_secret),
		cmocka_unit_test(test_list_queries),
		cmocka_unit_test(test_credential_bodies),
		cmocka_unit_test(test_revoke_args),
		cmocka_unit_test(test_usage_new),
		cmocka_unit_test(test_timeline),
		cmocka_unit_test(test_request_render),
		cmocka_unit_test(test_request_state_render),
		cmocka_unit_test(test_reveal_render),
		cmocka_unit_test(test_verify_render),
		cmocka_unit_test(test_list_dotted),
		cmocka_unit_test(test_revoke_classify),
		cmocka_unit_test(test_bulk_revoke),
		cmocka_unit_test(test_bulk_revoke_gives_up),
		cmocka_unit_test(test_instance_lifecycle_fields),
		cmocka_unit_test(test_secret_limits),
		cmocka_unit_test(test_settings_slack),
		cmocka_unit_test(test_usage_lists_everything),
		cmocka_unit_test(test_issued_render),
		cmocka_unit_test(test_fulfilment_render),
		cmocka_unit_test(test_exec_rest),
		cmocka_unit_test(test_net_refusals),
		cmocka_unit_test(test_net_exchange),
		cmocka_unit_test(test_net_too_large),
		cmocka_unit_test(test_net_unreachable),
	};

	return cmocka_run_group_tests(tests, net_setup, net_teardown);
}
