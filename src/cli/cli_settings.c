/*
 * cli_settings.c — `keywarden settings slack ...`: the Slack app
 * keywarden speaks through, and `keywarden settings email ...`: the SMTP
 * server that reaches people without Slack (admin).  See API.md,
 * "Notifications".  The SMTP password, like the Slack secrets, is read
 * from a file or the environment only.  The bot token
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

static const struct cli_field email_set_f[] = {
	{ "smtp-url", "smtp_url", CF_STR, CLI_REQ, "URL", NULL },
	{ "from", "from", CF_STR, CLI_REQ, "ADDRESS", NULL },
	{ "username", "username", CF_NSTR, 0, "NAME|none", NULL },
	{ "password-file", "password", CF_SECRET_FILE, 0, "FILE", NULL },
	{ "password-env", "password", CF_SECRET_ENV, 0, "VAR", NULL },
	{ "no-password", "password", CF_NULL, 0, NULL, NULL },
};

static const struct cli_verb email_verbs[] = {
	{ "show", NULL, "GET", "/v1/settings/email", NOFIELDS, 0,
	    cli_print_object, "Show the e-mail settings (admin): SMTP URL, "
	    "sender, user name and whether a password is set, never the "
	    "password.", NULL },
	{ "set", NULL, "PUT", "/v1/settings/email", FIELDS(email_set_f), 0,
	    cli_print_object, "Configure e-mail (admin) for people without a "
	    "Slack id: --smtp-url smtps://host:465 (TLS) or smtp://host:587 "
	    "(STARTTLS required; plain smtp:// only to a loopback relay), "
	    "--from the sender address, and optionally --username with the "
	    "password from --password-file (\"-\": stdin) or --password-env. "
	    "Without a password option, the stored password is kept for the "
	    "same user name.  \"set\" may be left out: keywarden settings "
	    "email --smtp-url ... --from ...", NULL },
};

const struct cli_resource cli_settings_email = {
	"settings email", email_verbs, KW_NELEM(email_verbs), 0
};
