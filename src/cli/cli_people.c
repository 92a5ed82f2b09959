/*
 * cli_people.c — `keywarden people ...`: the verbs, their options and
 * how their answers are shown.  See API.md, "People".
 */
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

static const struct cli_field people_list_f[] = {
	{ "limit",	"limit",	CF_QINT,	0, "N",		NULL },
	{ "cursor",	"cursor",	CF_QSTR,	0, "CURSOR",	NULL },
};

static const struct cli_field people_create_f[] = {
	{ "email",	"email",	 CF_STR,  CLI_REQ, "EMAIL",	NULL },
	{ "name",	"name",		 CF_STR,  CLI_REQ, "NAME",	NULL },
	{ "manager",	"manager",	 CF_NSTR, 0, "EMAIL",		NULL },
	{ "role",	"roles",	 CF_LIST, 0, "ROLE",		NULL },
	{ "team",	"teams",	 CF_LIST, 0, "TEAM",		NULL },
	{ "slack",	"slack_user_id", CF_NSTR, 0, "SLACK_USER_ID",	NULL },
};

static const struct cli_field people_update_f[] = {
	{ "email",	"email",	 CF_STR,   0, "EMAIL",		NULL },
	{ "name",	"name",		 CF_STR,   0, "NAME",		NULL },
	{ "manager",	"manager",	 CF_NSTR,  0, "EMAIL|none",	NULL },
	{ "role",	"roles",	 CF_LIST,  0, "ROLE",		NULL },
	{ "no-roles",	"roles",	 CF_CLEAR, 0, NULL,		NULL },
	{ "team",	"teams",	 CF_LIST,  0, "TEAM",		NULL },
	{ "no-teams",	"teams",	 CF_CLEAR, 0, NULL,		NULL },
	{ "slack",	"slack_user_id", CF_NSTR,  0, "SLACK_USER_ID|none", NULL },
	{ "active",	"active",	 CF_BOOL,  0, "true|false",	NULL },
};

static const struct cli_col people_cols[] = {
	{ "ID",		"id" },
	{ "EMAIL",	"email" },
	{ "NAME",	"name" },
	{ "MANAGER",	"manager" },
	{ "ROLES",	"roles" },
	{ "TEAMS",	"teams" },
	{ "ACTIVE",	"active" },
};

static int
people_print_list(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, people_cols, KW_NELEM(people_cols));
}

static const struct cli_col token_cols[] = {
	{ "TOKEN ID",	"id" },
	{ "LABEL",	"label" },
	{ "CREATED",	"created_at" },
	{ "EXPIRES",	"expires_at" },
	{ "LAST USED",	"last_used_at" },
	{ "ACTIVE",	"active" },
	{ "REVOKED",	"revoked_at" },
};

static const struct cli_field people_token_f[] = {
	{ "label", "label", CF_STR, 0, "TEXT", NULL },
	{ "expires-in-days", "expires_in_days", CF_INT, 0, "DAYS", NULL },
};

static int
people_print_tokens(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, token_cols, KW_NELEM(token_cols));
}

static const struct cli_field people_revoke_token_f[] = {
	{ "token-id", "token_id", CF_STR, CLI_REQ, "TOKEN_ID", NULL },
};

/* people revoke-token ID|EMAIL --token-id TOKEN_ID: DELETE one token. */
static int
people_revoke_token(const struct cli_ctx *ctx, const struct cli_verb *v,
    const struct cli_args *a)
{
	struct buf	 url;
	json_t		*answer = NULL;
	int		 rc;

	KW_UNUSED(v);
	buf_init(&url, KW_URL_MAX + 512);
	cli_url(&url, ctx, "/v1/people/{}/tokens/", a->pos[0]);
	cli_pct_encode(&url, cli_opt_get(a, "token-id"));
	if (buf_err(&url) != 0) {
		fprintf(ctx->err, "keywarden: request URL too long\n");
		buf_free(&url);
		return CLI_EXIT_USAGE;
	}
	rc = cli_exchange(ctx, "DELETE", buf_str(&url), NULL, 0, &answer,
	    NULL);
	if (rc == CLI_EXIT_OK)
		rc = ctx->json ? cli_print_json(ctx, answer) :
		    cli_print_object(ctx, answer);
	json_decref(answer);
	buf_free(&url);
	return rc;
}

/* The one time a token is visible: show it alone on its line, say so. */
static int
people_print_token(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_token(ctx, answer, 1, "store it now (e.g. in a "
	    "password manager).\nIt cannot be retrieved again; if it is "
	    "lost, issue a new one.\n");
}

/* A list of ids (strings, or objects with an "id") as "a, b" or
 * "none". */
static void
people_ids(struct buf *b, json_t *list)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(list) == 0)
		buf_addstr(b, "none");
	json_array_foreach(list, i, v) {
		if (i > 0)
			buf_addstr(b, ", ");
		cli_add_value(b, json_is_object(v) ?
		    json_object_get(v, "id") : v);
	}
}

/* The offboarding summary: who, what died, and each credential's
 * outcome on its own line (a failure says why; retry with revoke). */
static int
people_print_offboard(const struct cli_ctx *ctx, json_t *answer)
{
	struct buf	 b;
	json_t		*person = json_object_get(answer, "person"), *c;
	json_t		*creds = json_object_get(answer, "credentials_revoked");
	size_t		 i;
	int		 rc;

	buf_init(&b, CLI_OUT_MAX);
	buf_addstr(&b, "offboarded:         ");
	cli_add_value(&b, json_object_get(person, "email"));
	buf_addstr(&b, " (now inactive)\ntokens revoked:     ");
	cli_add_value(&b, json_object_get(answer, "tokens_revoked"));
	buf_addstr(&b, "\nrequests withdrawn: ");
	people_ids(&b, json_object_get(answer, "requests_withdrawn"));
	buf_addstr(&b, "\ncredentials:        ");
	if (json_array_size(creds) == 0)
		buf_addstr(&b, "none active");
	json_array_foreach(creds, i, c) {
		buf_addstr(&b, "\n  ");
		cli_add_value(&b, json_object_get(c, "id"));
		buf_addstr(&b, "  ");
		cli_add_value(&b, json_object_get(c, "result"));
	}
	buf_addstr(&b, "\n");
	rc = cli_emit(ctx, &b);
	buf_free(&b);
	return rc;
}

static const struct cli_verb people_verbs[] = {
	{ "list", NULL, "GET", "/v1/people", FIELDS(people_list_f), 0,
	    people_print_list, "List people, a page at a time.", NULL },
	{ "show", "ID|EMAIL", "GET", "/v1/people/{}", NOFIELDS, 0,
	    cli_print_object, "Show one person.", NULL },
	{ "me", NULL, "GET", "/v1/me", NOFIELDS, 0,
	    cli_print_object, "Show the person the token belongs to.", NULL },
	{ "create", NULL, "POST", "/v1/people", FIELDS(people_create_f), 0,
	    cli_print_object, "Add a person (admin).", NULL },
	{ "update", "ID|EMAIL", "PATCH", "/v1/people/{}",
	    FIELDS(people_update_f), CLI_V_NONEMPTY, cli_print_object,
	    "Change a person's fields (admin); --no-roles/--no-teams clear "
	    "the list.", NULL },
	{ "token", "ID|EMAIL", "POST", "/v1/people/{}/tokens",
	    FIELDS(people_token_f), CLI_V_SECRET, people_print_token, "Issue "
	    "a personal keywarden token (expires in 90 days unless "
	    "--expires-in-days, at most 365); it is shown only once.", NULL },
	{ "tokens", "ID|EMAIL", "GET", "/v1/people/{}/tokens", NOFIELDS, 0,
	    people_print_tokens, "List a person's tokens (ids and dates, "
	    "never the tokens).", NULL },
	{ "revoke-token", "ID|EMAIL", NULL, NULL,
	    FIELDS(people_revoke_token_f), 0, NULL, "Revoke one of a "
	    "person's tokens (admin, or yourself); it fails from the next "
	    "request on.", people_revoke_token },
	{ "offboard", "ID|EMAIL", "POST", "/v1/people/{}/offboard", NOFIELDS,
	    0, people_print_offboard, "Deactivate a person, kill their tokens, "
	    "withdraw their requests and revoke their credentials (admin).",
	    NULL },
};

const struct cli_resource cli_people = {
	"people", people_verbs, KW_NELEM(people_verbs), 0
};
