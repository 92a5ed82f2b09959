/*
 * cli_credentials.c — `keywarden credential ...`: listing, revealing
 * (exactly once), revoking, rotating and the direct issuance support-ops
 * may do.  See API.md, "Credentials" and "Lifecycle".  A revealed secret
 * goes to stdout alone and every buffer that held it is wiped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"
#include "util/util.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

/* Room reserved up front for a revealed secret, so the buffer holding
 * it never moves (realloc would leave an unwiped copy behind): the
 * longest secret and a client id, both as long again if every byte is a
 * control character replaced, and the labels. */
#define CRED_REVEAL_RESERVE	(4 * KW_SECRET_MAX)

static const struct cli_field cred_list_f[] = {
	{ "instance", "instance", CF_QSTR, 0, "NAME", NULL },
	{ "owner", "owner", CF_QSTR, 0, "EMAIL|ID", NULL },
	{ "state", "state", CF_QSTR, 0, "STATE",
	    "pending|active|revoked|expired" },
	{ "kind", "kind", CF_QSTR, 0, "KIND",
	    "api_token|integration|legacy_api_token" },
	{ "expiring-before", "expiring_before", CF_QTIME, 0, "RFC3339",
	    NULL },
	{ "limit", "limit", CF_QINT, 0, "N", NULL },
	{ "cursor", "cursor", CF_QSTR, 0, "CURSOR", NULL },
};

static const struct cli_field cred_revoke_f[] = {
	{ "reason", "reason", CF_STR, CLI_REQ, "TEXT", NULL },
};

static const struct cli_field cred_link_f[] = {
	{ "replacement", "replacement_id", CF_NSTR, CLI_REQ, "ID|none",
	    NULL },
};

static const struct cli_field cred_create_f[] = {
	{ "instance", "instance", CF_STR, CLI_REQ, "NAME", NULL },
	{ "purpose", "purpose", CF_STR, CLI_REQ, "personal|automation",
	    "personal|automation" },
	{ "link", "link", CF_STR, CLI_REQ, "URL", NULL },
	{ "scope", "scopes", CF_LIST, 0, "SCOPE", NULL },
	{ "lifetime-days", "lifetime_days", CF_INT, CLI_REQ, "N", NULL },
	{ "delivery", "delivery", CF_STR, 0, "broker|client_secret|token",
	    "broker|client_secret|token" },
};

static const struct cli_field cred_token_f[] = {
	{ "ttl", "ttl_seconds", CF_STR, 0, "DURATION", NULL },
};

static const struct cli_col cred_cols[] = {
	{ "ID",		"id" },
	{ "INSTANCE",	"instance" },
	{ "KIND",	"kind" },
	{ "OWNER",	"owner" },
	{ "STATE",	"state" },
	{ "EXPIRES",	"expires_at" },
	{ "DELIVERY",	"delivery.state" },
};

int
cli_reveal_render(struct buf *out, json_t *answer)
{
	json_t	*secret = json_object_get(answer, "secret");
	json_t	*cid = json_object_get(answer, "client_id");
	json_t	*csecret = json_object_get(answer, "client_secret");

	if (json_is_string(secret)) {
		cli_add_safe(out, json_string_value(secret));
		buf_addstr(out, "\n");
		return 0;
	}
	if (!json_is_string(cid) || !json_is_string(csecret))
		return -1;
	buf_addstr(out, "client_id: ");
	cli_add_safe(out, json_string_value(cid));
	buf_addstr(out, "\nclient_secret: ");
	cli_add_safe(out, json_string_value(csecret));
	buf_addstr(out, "\n");
	return 0;
}

/* Grow b to hold n bytes, then empty it: what is appended afterwards
 * (up to n bytes) stays where buf_free() wipes it. */
static void
cred_buf_reserve(struct buf *b, size_t n)
{
	buf_printf(b, "%*s", (int)n, "");
	if (buf_err(b) == 0) {
		b->len = 0;
		b->data[0] = '\0';
	}
}

/*
 * The one time a secret is visible: alone on stdout (or the JSON with
 * --json), the warning on stderr so a redirect captures only the
 * secret.  The server has already marked it delivered, so a failed
 * write must say that it is lost.
 */
static int
cred_print_reveal(const struct cli_ctx *ctx, json_t *answer)
{
	struct buf	b;
	int		rc;

	/* Unbuffered: no stdio buffer keeps a copy after we are done. */
	setvbuf(ctx->out, NULL, _IONBF, 0);
	if (ctx->json)
		rc = cli_print_json(ctx, answer);
	else {
		buf_init(&b, CLI_OUT_MAX);
		cred_buf_reserve(&b, CRED_REVEAL_RESERVE);
		if (cli_reveal_render(&b, answer) != 0) {
			fprintf(ctx->err, "keywarden: the answer holds no "
			    "secret\n");
			buf_free(&b);
			return CLI_EXIT_FAIL;
		}
		rc = cli_emit(ctx, &b);
		buf_free(&b);
	}
	if (rc == CLI_EXIT_OK)
		fprintf(ctx->err, "keywarden: this secret is shown only "
		    "once: store it now; it cannot be revealed again\n");
	else
		fprintf(ctx->err, "keywarden: the secret was revealed but "
		    "not written out, and cannot be revealed again: rotate "
		    "or revoke the credential\n");
	return rc;
}

static int
cred_print_list(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, cred_cols, KW_NELEM(cred_cols));
}

/* "credential ID: STATE" (after a revocation). */
static void
cred_state_render(struct buf *out, json_t *cred)
{
	buf_addstr(out, "credential ");
	cli_add_value(out, json_object_get(cred, "id"));
	buf_addstr(out, ": ");
	cli_add_value(out, json_object_get(cred, "state"));
	buf_addstr(out, "\n");
}

/* After link-replacement: "legacy credential ID is replaced by ID". */
static void
cred_link_render(struct buf *out, json_t *cred)
{
	json_t *rep = json_object_get(cred, "replacement_id");

	buf_addstr(out, "legacy credential ");
	cli_add_value(out, json_object_get(cred, "id"));
	if (json_is_string(rep)) {
		buf_addstr(out, " is replaced by ");
		cli_add_value(out, rep);
	} else
		buf_addstr(out, " has no replacement linked");
	buf_addstr(out, "\n");
}

static int
cred_print_link(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, cred_link_render);
}

void
cli_issued_render(struct buf *out, json_t *cred)
{
	json_t	*from = json_object_get(cred, "rotated_from");
	json_t	*state = json_object_get(cred, "state");
	json_t	*req = json_object_get(cred, "request_id");
	json_t	*mode = cli_json_path(cred, "delivery.mode");

	if (json_is_string(from)) {
		buf_addstr(out, "successor ");
		cli_add_value(out, json_object_get(cred, "id"));
		buf_addstr(out, " of ");
		cli_add_value(out, from);
		buf_addstr(out, ": ");
		cli_add_value(out, state);
		buf_addstr(out, "\n\n");
	}
	cli_object_render(out, cred);
	if (json_is_string(state) &&
	    strcmp(json_string_value(state), "pending") == 0) {
		/* A manual instance: someone creates it there first. */
		buf_addstr(out, "\nNot issued yet: its request awaits "
		    "fulfilment by hand; see: keywarden request show ");
		cli_add_value(out, req);
		buf_addstr(out, "\nOnce it is fulfilled, its owner reveals the "
		    "secret, once, with: keywarden credential reveal ");
	} else if (json_is_string(mode) &&
	    strcmp(json_string_value(mode), "broker") == 0)
		buf_addstr(out, "\nkeywarden keeps its secret: its owner gets "
		    "short-lived access tokens with: keywarden credential "
		    "token ");
	else
		buf_addstr(out, "\nThe secret is delivered once: its owner "
		    "reveals it with: keywarden credential reveal ");
	cli_add_value(out, json_object_get(cred, "id"));
	buf_addstr(out, "\n");
	if (json_is_string(from)) {
		buf_addstr(out, "The predecessor ");
		cli_add_value(out, from);
		buf_addstr(out, " stays active for the instance's grace period "
		    "(grace_days), then is revoked.\n");
	}
}

static int
cred_print_state(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, cred_state_render);
}

static int
cred_print_issued(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, cli_issued_render);
}

/* "1800", "90s", "30m", "2h" into seconds; -1 if it is none of those
 * (the server checks the range). */
static long
cred_duration(const char *s)
{
	static const struct { char unit; long mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 },
	};
	char	*end;
	long	 v;
	size_t	 i;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v <= 0 || v > 1000000L)
		return -1;
	if (*end == '\0')
		return v;
	for (i = 0; i < KW_NELEM(units); i++)
		if (end[0] == units[i].unit && end[1] == '\0')
			return v * units[i].mult;
	return -1;
}

/*
 * Ask for an access token of credential a->pos[0] (--ttl DURATION): the
 * answer in *answer (caller wipes and frees).  Works with a personal
 * token of the owner or a token bound to the credential.
 */
static int
cred_access(const struct cli_ctx *ctx, const struct cli_args *a,
    json_t **answer)
{
	struct buf	 url;
	const char	*ttl = cli_opt_get(a, "ttl");
	char		 body[64] = "{}";
	long		 secs;
	int		 rc;

	*answer = NULL;
	if (ttl != NULL) {
		if ((secs = cred_duration(ttl)) < 0) {
			fprintf(ctx->err, "keywarden: --ttl '%.32s' is not a "
			    "duration like 1800, 90s, 30m or 2h\n", ttl);
			return CLI_EXIT_USAGE;
		}
		snprintf(body, sizeof(body), "{\"ttl_seconds\":%ld}", secs);
	}
	buf_init(&url, KW_URL_MAX);
	cli_url(&url, ctx, "/v1/credentials/{}/access-token", a->pos[0]);
	rc = buf_err(&url) ? CLI_EXIT_USAGE : cli_exchange(ctx, "POST",
	    buf_str(&url), body, strlen(body), answer, NULL);
	buf_free(&url);
	if (rc == CLI_EXIT_OK && !json_is_string(json_object_get(*answer,
	    "access_token"))) {
		fprintf(ctx->err, "keywarden: the answer holds no access "
		    "token\n");
		rc = CLI_EXIT_FAIL;
	}
	return rc;
}

static void
cred_answer_free(json_t *answer)
{
	if (answer != NULL)
		cli_json_wipe_all(answer);
	json_decref(answer);
}

/* `credential token ID [--ttl 30m]`: the access token alone on stdout,
 * for $(...). */
static int
cred_token_run(const struct cli_ctx *ctx, const struct cli_verb *v,
    const struct cli_args *a)
{
	json_t	*answer;
	int	 rc;

	KW_UNUSED(v);
	if ((rc = cred_access(ctx, a, &answer)) == CLI_EXIT_OK) {
		if (ctx->json)
			rc = cli_print_json(ctx, answer);
		else {
			/* unbuffered: no stdio buffer keeps a copy */
			setvbuf(ctx->out, NULL, _IONBF, 0);
			if (fprintf(ctx->out, "%s\n", json_string_value(
			    json_object_get(answer, "access_token"))) < 0)
				rc = CLI_EXIT_FAIL;
		}
	}
	cred_answer_free(answer);
	return rc;
}

/*
 * The names of the variables `credential exec` sets, from the provider the
 * answer names: "<PROVIDER>_ACCESS_TOKEN" and "<PROVIDER>_URL" (the names
 * the SaaS's own tools read).  0, or -1 when the answer names no provider
 * keywarden could spell as a variable (a server older than the CLI).
 */
static int
exec_env_names(const json_t *answer, char *tok, size_t toksz, char *url,
    size_t urlsz)
{
	const char	*p = json_string_value(json_object_get(answer,
			    "provider"));
	char		 up[KW_PROVIDER_MAX + 1];
	size_t		 i;

	if (p == NULL || p[0] == '\0' || strlen(p) > KW_PROVIDER_MAX)
		return -1;
	for (i = 0; p[i] != '\0'; i++) {
		if (!isalnum((unsigned char)p[i]) && p[i] != '_')
			return -1;
		up[i] = (char)toupper((unsigned char)p[i]);
	}
	up[i] = '\0';
	snprintf(tok, toksz, "%s_ACCESS_TOKEN", up);
	snprintf(url, urlsz, "%s_URL", up);
	return 0;
}

/*
 * `credential exec ID -- CMD [ARGS...]`: CMD replaces keywarden with the
 * access token and the instance's URL in its environment (for a Zendesk
 * instance ZENDESK_ACCESS_TOKEN and ZENDESK_URL: exec_env_names).  Every
 * copy keywarden made is wiped before the exec; the environment's copy is
 * CMD's.
 */
static int
cred_exec_run(const struct cli_ctx *ctx, const struct cli_verb *v,
    const struct cli_args *a)
{
	json_t	*answer;
	char	 tok_var[KW_PROVIDER_MAX + 16], url_var[KW_PROVIDER_MAX + 16];
	int	 rc, set;

	KW_UNUSED(v);
	if (a->nrest < 1 || a->rest[0] == NULL || a->rest[0][0] == '\0') {
		fprintf(ctx->err, "keywarden: usage: keywarden credential exec "
		    "ID [--ttl DURATION] -- CMD [ARGS...]\n");
		return CLI_EXIT_USAGE;
	}
	if ((rc = cred_access(ctx, a, &answer)) != CLI_EXIT_OK) {
		cred_answer_free(answer);
		return rc;
	}
	if (exec_env_names(answer, tok_var, sizeof(tok_var), url_var,
	    sizeof(url_var)) != 0) {
		cred_answer_free(answer);
		fprintf(ctx->err, "keywarden: the server did not say which "
		    "provider the instance is; upgrade the server\n");
		return CLI_EXIT_FAIL;
	}
	set = setenv(tok_var, json_string_value(
	    json_object_get(answer, "access_token")), 1) == 0 &&
	    setenv(url_var, json_is_string(json_object_get(answer,
	    "instance_url")) ? json_string_value(json_object_get(answer,
	    "instance_url")) : "", 1) == 0;
	cred_answer_free(answer);
	if (!set) {
		fprintf(ctx->err, "keywarden: cannot set the environment\n");
		return CLI_EXIT_FAIL;
	}
	fflush(NULL);
	execvp(a->rest[0], a->rest);
	fprintf(ctx->err, "keywarden: cannot run %.200s: %s\n", a->rest[0],
	    strerror(errno));
	unsetenv(tok_var);
	return CLI_EXIT_NOEXEC;
}

static const struct cli_verb cred_verbs[] = {
	{ "list", NULL, "GET", "/v1/credentials", FIELDS(cred_list_f), 0,
	    cred_print_list, "List the credentials you may see; --state "
	    "pending|active|revoked|expired, --kind api_token|integration|"
	    "legacy_api_token.", NULL },
	{ "show", "ID", "GET", "/v1/credentials/{}", NOFIELDS, 0,
	    cli_print_object, "Show a credential (never its secret).", NULL },
	{ "reveal", "ID", "POST", "/v1/credentials/{}/reveal", NOFIELDS,
	    CLI_V_SECRET | CLI_V_OWNJSON, cred_print_reveal, "Print your "
	    "credential's secret on stdout; this works exactly once.", NULL },
	{ "revoke", "ID", "POST", "/v1/credentials/{}/revoke",
	    FIELDS(cred_revoke_f), 0, cred_print_state, "Revoke a credential "
	    "on its instance.", NULL },
	{ "create", NULL, "POST", "/v1/credentials", FIELDS(cred_create_f), 0,
	    cred_print_issued, "Issue a credential at once, without a "
	    "request (support-ops).", NULL },
	{ "rotate", "ID", "POST", "/v1/credentials/{}/rotate", NOFIELDS, 0,
	    cred_print_issued, "Issue a successor (shown with its id, state "
	    "and rotated_from); the old credential stays active for the "
	    "instance's grace period.", NULL },
	{ "token", "ID", "POST", "/v1/credentials/{}/access-token",
	    FIELDS(cred_token_f), 0, NULL, "Print a short-lived access "
	    "token (the instance's) of a broker credential alone on stdout (--ttl "
	    "30m); works with a token bound to the credential.",
	    cred_token_run },
	{ "exec", "ID", "POST", "/v1/credentials/{}/access-token",
	    FIELDS(cred_token_f), CLI_V_REST, NULL, "Run '-- CMD [ARGS...]' "
	    "with <PROVIDER>_ACCESS_TOKEN and <PROVIDER>_URL (for Zendesk: "
	    "ZENDESK_ACCESS_TOKEN, ZENDESK_URL) set from a fresh access token "
	    "of a broker credential.", cred_exec_run },
	{ "link-replacement", "ID", "POST",
	    "/v1/credentials/{}/link-replacement", FIELDS(cred_link_f), 0,
	    cred_print_link, "Record which keywarden credential replaces a "
	    "legacy API token (\"none\" removes the link).", NULL },
};

const struct cli_resource cli_credentials = {
	"credential", cred_verbs, KW_NELEM(cred_verbs), 0
};
