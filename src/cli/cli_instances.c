/*
 * cli_instances.c — `keywarden instances ...`: the verbs, their options
 * and how their answers are shown.  See API.md, "Instances".  The bot's
 * OAuth token or client secret is read from a file or an environment
 * variable, never from the command line, where ps and shell history
 * would see it.
 */
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

/* The options create and update share. */
#define INSTANCE_FIELDS \
	{ "display-name", "display_name", CF_STR, 0, "TEXT", NULL }, \
	{ "provider", "provider", CF_STR, 0, "PROVIDER", NULL }, \
	{ "provisioner", "provisioners", CF_LIST, 0, "EMAIL", NULL }, \
	{ "no-provisioners", "provisioners", CF_CLEAR, 0, NULL, NULL }, \
	{ "allow-integrations", "allow_integrations", CF_BOOL, 0, \
	    "true|false", NULL }, \
	{ "issuance", "issuance", CF_STR, 0, "automatic|manual", \
	    "automatic|manual" }, \
	{ "scope", "allowed_scopes", CF_LIST, 0, "SCOPE", NULL }, \
	{ "any-scope", "allowed_scopes", CF_NULL, 0, NULL, NULL }, \
	{ "max-lifetime-days", "max_lifetime_days", CF_INT, 0, "N", NULL }, \
	{ "rotation-days", "rotation_days", CF_INT, 0, "N", NULL }, \
	{ "grace-days", "grace_days", CF_INT, 0, "N", NULL }, \
	{ "warn-day", "warn_days", CF_INT_LIST, 0, "N", NULL }, \
	{ "no-warn-days", "warn_days", CF_CLEAR, 0, NULL, NULL }, \
	{ "bot-email", "bot.email", CF_STR, 0, "EMAIL", NULL }, \
	{ "bot-token-file", "bot.oauth_token", CF_SECRET_FILE, 0, "FILE", \
	    NULL }, \
	{ "bot-token-env", "bot.oauth_token", CF_SECRET_ENV, 0, "VAR", NULL }, \
	{ "bot-client-id", "bot.client_id", CF_STR, 0, "IDENTIFIER", NULL }, \
	{ "bot-client-secret-file", "bot.client_secret", CF_SECRET_FILE, 0, \
	    "FILE", NULL }, \
	{ "bot-client-secret-env", "bot.client_secret", CF_SECRET_ENV, 0, \
	    "VAR", NULL }, \
	{ "default-delivery", "default_delivery", CF_STR, 0, \
	    "broker|client_secret|token", "broker|client_secret|token" }, \
	{ "allowed-delivery", "allowed_deliveries", CF_LIST, 0, "MODE", \
	    NULL }, \
	{ "any-delivery", "allowed_deliveries", CF_NULL, 0, NULL, NULL }, \
	{ "max-access-ttl", "max_access_ttl_seconds", CF_INT, 0, "SECONDS", \
	    NULL }

static const struct cli_field inst_list_f[] = {
	{ "limit",	"limit",	CF_QINT,	0, "N",		NULL },
	{ "cursor",	"cursor",	CF_QSTR,	0, "CURSOR",	NULL },
};

static const struct cli_field inst_create_f[] = {
	{ "name", "name", CF_STR, CLI_REQ, "NAME", NULL },
	{ "url", "url", CF_STR, CLI_REQ, "URL", NULL },
	INSTANCE_FIELDS,
};

static const struct cli_field inst_update_f[] = {
	{ "url", "url", CF_STR, 0, "URL", NULL },
	INSTANCE_FIELDS,
};

static const struct cli_col inst_cols[] = {
	{ "NAME",		"name" },
	{ "DISPLAY NAME",	"display_name" },
	{ "PROVIDER",		"provider" },
	{ "URL",		"url" },
	{ "ISSUANCE",		"issuance" },
	{ "INTEGRATIONS",	"allow_integrations" },
	{ "PROVISIONERS",	"provisioners" },
};

/* After a sync: what keywarden learnt from the instance. */
static void
inst_sync_render(struct buf *out, json_t *r)
{
	buf_addstr(out, "instance ");
	cli_add_value(out, json_object_get(r, "instance"));
	buf_addstr(out, ": ");
	cli_add_value(out, json_object_get(r, "legacy_tokens"));
	buf_addstr(out, " legacy API tokens listed; ");
	cli_add_value(out, json_object_get(r, "imported"));
	buf_addstr(out, " imported, ");
	cli_add_value(out, json_object_get(r, "updated"));
	buf_addstr(out, " updated, ");
	cli_add_value(out, json_object_get(r, "removed"));
	buf_addstr(out, " no longer on the instance; last use updated for ");
	cli_add_value(out, json_object_get(r, "oauth_last_used_updated"));
	buf_addstr(out, " keywarden credentials\n");
}

static int
inst_print_sync(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, inst_sync_render);
}

static int
inst_print_list(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, inst_cols, KW_NELEM(inst_cols));
}

static const struct cli_verb inst_verbs[] = {
	{ "list", NULL, "GET", "/v1/instances", FIELDS(inst_list_f), 0,
	    inst_print_list, "List the instances keywarden governs.", NULL },
	{ "show", "NAME", "GET", "/v1/instances/{}", NOFIELDS, 0,
	    cli_print_object, "Show one instance, with its rotation grace "
	    "and expiry warning days (never its bot token).",
	    NULL },
	{ "create", NULL, "POST", "/v1/instances", FIELDS(inst_create_f), 0,
	    cli_print_object, "Add an instance (admin).  The bot token is "
	    "read from --bot-token-file (\"-\": stdin) or --bot-token-env; "
	    "--grace-days: how long a rotated credential stays active, "
	    "--warn-day: days before expiry owners are warned (repeat).",
	    NULL },
	{ "update", "NAME", "PATCH", "/v1/instances/{}", FIELDS(inst_update_f),
	    CLI_V_NONEMPTY, cli_print_object, "Change an instance (admin); "
	    "--any-scope lifts the scope restriction, --warn-day replaces "
	    "the expiry warnings and --no-warn-days turns them off.  A new "
	    "--url needs the bot's credential again in the same call "
	    "(--bot-email with --bot-token-file or --bot-token-env).", NULL },
	{ "sync", "NAME", "POST", "/v1/instances/{}/sync", NOFIELDS, 0,
	    inst_print_sync, "Read the instance's legacy API tokens and the "
	    "last use of keywarden's tokens (admin, provisioner).", NULL },
};

const struct cli_resource cli_instances = {
	"instances", inst_verbs, KW_NELEM(inst_verbs), 0
};
