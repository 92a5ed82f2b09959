/*
 * cli_scim.c — `keywarden scim-tokens ...`: the tokens identity
 * providers authenticate to /scim/v2 with (admin).  See API.md, "SCIM
 * 2.0 for identity providers".
 */
#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

static const struct cli_field scim_create_f[] = {
	{ "label",	"label",	CF_STR,	0, "LABEL",	NULL },
};

static const struct cli_col scim_cols[] = {
	{ "TOKEN ID",	"id" },
	{ "LABEL",	"label" },
	{ "CREATED",	"created_at" },
	{ "LAST USED",	"last_used_at" },
};

static int
scim_print_list(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, scim_cols, KW_NELEM(scim_cols));
}

/* The one time a SCIM token is visible: alone on its line, and where it
 * goes. */
static int
scim_print_token(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_token(ctx, answer, 0, "paste it into the identity "
	    "provider's SCIM\nsettings (bearer token) now.  It works on "
	    "/scim/v2 only.\n");
}

static const struct cli_verb scim_verbs[] = {
	{ "create", NULL, "POST", "/v1/scim-tokens", FIELDS(scim_create_f),
	    CLI_V_SECRET, scim_print_token, "Create a SCIM token for an "
	    "identity provider (admin); it is shown only once.", NULL },
	{ "list", NULL, "GET", "/v1/scim-tokens", NOFIELDS, 0,
	    scim_print_list, "List the SCIM tokens (ids, labels, dates; never "
	    "the tokens).", NULL },
	{ "delete", "TOKEN_ID", "DELETE", "/v1/scim-tokens/{}", NOFIELDS, 0,
	    cli_print_object, "Delete a SCIM token; the provider using it is "
	    "refused from the next request.", NULL },
};

const struct cli_resource cli_scim_tokens = {
	"scim-tokens", scim_verbs, KW_NELEM(scim_verbs), 0
};
