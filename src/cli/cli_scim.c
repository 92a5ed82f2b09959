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
	struct buf	b;
	int		rc;

	buf_init(&b, CLI_OUT_MAX);
	cli_list_render(&b, answer, scim_cols, KW_NELEM(scim_cols));
	rc = cli_emit(ctx, &b);
	buf_free(&b);
	return rc;
}

/* The one time a SCIM token is visible: alone on its line, and where it
 * goes. */
static int
scim_print_token(const struct cli_ctx *ctx, json_t *answer)
{
	json_t		*tok = json_object_get(answer, "token");
	struct buf	 b;
	int		 rc;

	if (!json_is_string(tok)) {
		fprintf(ctx->err, "keywarden: the answer holds no token\n");
		return CLI_EXIT_FAIL;
	}
	buf_init(&b, CLI_OUT_MAX);
	buf_addstr(&b, "token id: ");
	cli_value_text(&b, json_object_get(answer, "id"), ",");
	buf_addstr(&b, "\ntoken:    ");
	cli_add_safe(&b, json_string_value(tok));
	buf_addstr(&b, "\n\nThis token is shown only once: paste it into the "
	    "identity provider's SCIM\nsettings (bearer token) now.  It works "
	    "on /scim/v2 only.\n");
	rc = cli_emit(ctx, &b);
	buf_free(&b);
	cli_json_wipe(answer, "token");
	return rc;
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
