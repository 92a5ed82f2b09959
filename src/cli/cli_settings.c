/*
 * cli_settings.c — `keywarden settings slack ...`: the Slack app
 * keywarden speaks through (admin).  See API.md, "Slack".  The bot token
 * and the signing secret are read from files or environment variables,
 * never from argv, and wiped once sent; the server answers without them.
 * The webhook URL is a secret as well (whoever holds it can post): it may
 * come from a file or the environment too, and is only shown as set.
 */
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

static const struct cli_field slack_set_f[] = {
	{ "bot-token-file", "bot_token", CF_SECRET_FILE, CLI_REQ, "FILE",
	    NULL },
	{ "bot-token-env", "bot_token", CF_SECRET_ENV, CLI_REQ, "VAR", NULL },
	{ "signing-secret-file", "signing_secret", CF_SECRET_FILE, CLI_REQ,
	    "FILE", NULL },
	{ "signing-secret-env", "signing_secret", CF_SECRET_ENV, CLI_REQ,
	    "VAR", NULL },
	{ "api-base-url", "api_base_url", CF_STR, 0, "URL", NULL },
	{ "webhook-url", "webhook_url", CF_NSTR, 0, "URL|none", NULL },
	{ "webhook-url-file", "webhook_url", CF_SECRET_FILE, 0, "FILE", NULL },
	{ "webhook-url-env", "webhook_url", CF_SECRET_ENV, 0, "VAR", NULL },
};

static const struct cli_verb slack_verbs[] = {
	{ "show", NULL, "GET", "/v1/settings/slack", NOFIELDS, 0,
	    cli_print_object, "Show the Slack settings (admin): the API base "
	    "URL, the webhook and whether the secrets are set, never the "
	    "secrets.", NULL },
	{ "set", NULL, "PUT", "/v1/settings/slack", FIELDS(slack_set_f), 0,
	    cli_print_object, "Configure Slack (admin): the bot token "
	    "(xoxb-...) and the signing secret are read from a file (\"-\": "
	    "stdin, for one of them) or an environment variable.  The webhook "
	    "URL, where issuances and revocations are announced, is a secret too: prefer "
	    "--webhook-url-file or --webhook-url-env (--webhook-url none: no "
	    "announcements).", NULL },
};

const struct cli_resource cli_settings_slack = {
	"settings slack", slack_verbs, KW_NELEM(slack_verbs), 0
};
