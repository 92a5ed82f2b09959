/*
 * settings.c — the notification channels' settings (admin):
 * /v1/settings/slack (the bot token and signing secret, the webhook URL)
 * and /v1/settings/email (where e-mail goes out, the SMTP password).
 * Secrets are sealed at rest and never returned: an answer says only
 * whether each is set, the audit event holds fingerprints.  Validation
 * happens here, so the senders only ever meet URLs and addresses they
 * can use.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/valid.h"
#include "crypto/crypto.h"
#include "net/http.h"
#include "notify/email.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "util/util.h"

/* ---- shared ------------------------------------------------------------ */

/* Overwrite a secret's text in the parsed request body, before the HTTP
 * layer frees it. */
static void
body_wipe(json_t *b, const char *key)
{
	json_t *v = json_object_get(b, key);

	if (json_is_string(v))
		kw_wipe((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

/* The answer to a GET whose settings did not load (r): not configured
 * yet (PUT path), the store, or sealed data that no longer opens. */
static int
load_fail(struct http_req *rq, int r, const char *what, const char *path)
{
	if (r == KW_ERR_NOT_FOUND)
		return http_fail(rq, r, NULL, "%s is not configured; PUT %s",
		    what, path);
	if (r == KW_ERR_UNAVAILABLE)
		return api_store_fail(rq, r, "", "");
	return http_fail(rq, KW_ERR_INTERNAL, NULL, "the stored %s settings "
	    "cannot be opened; PUT them again", what);
}

/* ---- Slack ------------------------------------------------------------- */

static json_t *
slack_json(const struct slack_settings *s)
{
	/* the webhook URL is a secret (anyone holding it can post): only
	 * whether it is set */
	return json_pack("{s:s, s:b, s:b, s:b, s:s}", "api_base_url",
	    s->api_base_url, "webhook_set", s->webhook_url[0] != '\0',
	    "bot_token_set", s->bot_token[0] != '\0', "signing_secret_set",
	    s->signing_secret[0] != '\0', "updated_at", s->updated_at);
}

/* Read a PUT body into s (checked, api_base_url defaulted). */
static int
slack_parse(struct http_req *rq, json_t *b, struct slack_settings *s)
{
	static const char *const fields[] = { "bot_token", "signing_secret",
	    "api_base_url", "webhook_url", NULL };
	size_t	n;
	int	r, here;

	if ((r = jv_known(rq, b, fields)) != 0 ||
	    (r = jv_str(rq, b, "bot_token", JV_REQUIRED, SLACK_TOKEN_MAX,
	    s->bot_token, sizeof(s->bot_token), NULL)) != 0 ||
	    (r = jv_str(rq, b, "signing_secret", JV_REQUIRED,
	    SLACK_SECRET_MAX, s->signing_secret, sizeof(s->signing_secret),
	    NULL)) != 0 ||
	    (r = jv_str(rq, b, "api_base_url", JV_NULLABLE, KW_URL_MAX,
	    s->api_base_url, sizeof(s->api_base_url), &here)) != 0 ||
	    (r = jv_str(rq, b, "webhook_url", JV_NULLABLE, KW_URL_MAX,
	    s->webhook_url, sizeof(s->webhook_url), NULL)) != 0)
		return r;
	if (strncmp(s->bot_token, SLACK_BOT_PREFIX,
	    strlen(SLACK_BOT_PREFIX)) != 0 ||
	    strcspn(s->bot_token, " \t") != strlen(s->bot_token))
		return http_fail(rq, KW_ERR_VALIDATION, "bot_token",
		    "'bot_token' must be a Slack bot token (xoxb-...)");
	if (strcspn(s->signing_secret, " \t") != strlen(s->signing_secret))
		return http_fail(rq, KW_ERR_VALIDATION, "signing_secret",
		    "'signing_secret' must not contain spaces");
	if (s->api_base_url[0] == '\0')
		kw_strlcpy(s->api_base_url, SLACK_API_DEFAULT,
		    sizeof(s->api_base_url));
	n = strlen(s->api_base_url);
	while (n > 0 && s->api_base_url[n - 1] == '/')
		s->api_base_url[--n] = '\0';
	if (!kw_valid_url(s->api_base_url, 1) ||
	    strcspn(s->api_base_url, "?#") != n)
		return http_fail(rq, KW_ERR_VALIDATION, "api_base_url",
		    "'api_base_url' must be an https:// URL without query "
		    "(http:// only to loopback)");
	if (s->webhook_url[0] != '\0' && !kw_valid_url(s->webhook_url, 1))
		return http_fail(rq, KW_ERR_VALIDATION, "webhook_url",
		    "'webhook_url' must be an https:// URL (http:// only to "
		    "loopback) or null");
	return 0;
}

int
api_settings_slack_put(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct slack_settings	*s;
	struct store		*st = NULL;
	char			 fp_bot[32], fp_sig[32];
	int			 r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	r = slack_parse(rq, rq->body, s);
	body_wipe(rq->body, "bot_token");
	body_wipe(rq->body, "signing_secret");
	body_wipe(rq->body, "webhook_url");
	if (r != 0)
		goto done;
	kw_time_fmt(kw_now(), s->updated_at, sizeof(s->updated_at));
	if ((r = crypto_fingerprint(app->keys, s->bot_token,
	    strlen(s->bot_token), fp_bot, sizeof(fp_bot))) != 0 ||
	    (r = crypto_fingerprint(app->keys, s->signing_secret,
	    strlen(s->signing_secret), fp_sig, sizeof(fp_sig))) != 0)
		goto done;
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = slack_settings_save(app->keys, st, s)) != 0) {
		r = api_store_fail(rq, r, "setting", SLACK_SETTING_KEY);
		goto out;
	}
	r = api_audit(rq, st, "settings.slack", SLACK_SETTING_KEY, json_pack(
	    "{s:s, s:b, s:s, s:s}", "api_base_url", s->api_base_url,
	    "webhook_set", s->webhook_url[0] != '\0', "bot_token_fingerprint",
	    fp_bot, "signing_secret_fingerprint", fp_sig));
 out:
	if ((r = api_tx_end(rq, &st, r)) == 0)
		rs->body = slack_json(s);
 done:
	slack_settings_wipe(s);
	free(s);
	return r;
}

int
api_settings_slack_get(struct http_req *rq, struct http_resp *rs)
{
	struct slack_settings	*s;
	struct store		*st;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = slack_settings_load(((struct app *)rq->app)->keys, st,
	    s)) == 0)
		rs->body = slack_json(s);
	else
		r = load_fail(rq, r, "Slack", "/v1/settings/slack");
	slack_settings_wipe(s);
	free(s);
	return r;
}

/* ---- e-mail ------------------------------------------------------------ */

static json_t *
email_json(const struct email_settings *s)
{
	return json_pack("{s:s, s:s, s:s?, s:b, s:s}", "smtp_url",
	    s->smtp_url, "from", s->from, "username", s->username[0] ?
	    s->username : NULL, "password_set", s->password[0] != '\0',
	    "updated_at", s->updated_at);
}

/* Read a PUT body into s.  An absent "password" keeps the stored one
 * (when the user name is unchanged), so the sender can be changed
 * without handling the secret again; null removes it. */
static int
email_parse(struct http_req *rq, struct store *st, json_t *b,
    struct email_settings *s)
{
	static const char *const fields[] = { "smtp_url", "from", "username",
	    "password", NULL };
	struct email_settings	*old;
	char			 why[NET_ERROR_MAX];
	int			 r, pw_here;

	if ((r = jv_known(rq, b, fields)) != 0 ||
	    (r = jv_str(rq, b, "smtp_url", JV_REQUIRED | JV_NONEMPTY,
	    KW_URL_MAX, s->smtp_url, sizeof(s->smtp_url), NULL)) != 0 ||
	    (r = jv_str(rq, b, "from", JV_REQUIRED | JV_NONEMPTY, KW_EMAIL_MAX,
	    s->from, sizeof(s->from), NULL)) != 0 ||
	    (r = jv_str(rq, b, "username", JV_NULLABLE, EMAIL_USER_MAX,
	    s->username, sizeof(s->username), NULL)) != 0 ||
	    (r = jv_str(rq, b, "password", JV_NULLABLE, EMAIL_PASSWORD_MAX,
	    s->password, sizeof(s->password), &pw_here)) != 0)
		return r;
	if (net_smtp_url_check(s->smtp_url, why, sizeof(why)) != 0)
		return http_fail(rq, KW_ERR_VALIDATION, "smtp_url",
		    "'smtp_url' must be smtps://host[:port] (TLS) or "
		    "smtp://host[:port] (STARTTLS required; plain only to a "
		    "loopback host): %s", why);
	if (!kw_valid_email(s->from) || strpbrk(s->from, "<>\r\n") != NULL)
		return http_fail(rq, KW_ERR_VALIDATION, "from", "'from' must "
		    "be a plain e-mail address (ops@example.com)");
	if (strpbrk(s->username, "\r\n") != NULL ||
	    strpbrk(s->password, "\r\n") != NULL)
		return http_fail(rq, KW_ERR_VALIDATION, strpbrk(s->username,
		    "\r\n") ? "username" : "password", "line breaks are not "
		    "allowed in SMTP credentials");
	if (!pw_here && s->username[0] != '\0' &&
	    (old = calloc(1, sizeof(*old))) != NULL) {
		if (email_settings_load(((struct app *)rq->app)->keys, st,
		    old) == 0 &&
		    strcmp(old->username, s->username) == 0)
			memcpy(s->password, old->password, sizeof(s->password));
		email_settings_wipe(old);
		free(old);
	}
	if (s->username[0] == '\0' && s->password[0] != '\0')
		return http_fail(rq, KW_ERR_VALIDATION, "username", "a "
		    "'password' needs a 'username'");
	return 0;
}

int
api_settings_email_put(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct email_settings	*s;
	struct store		*st = NULL;
	char			 fp[32] = "";
	int			 r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = email_parse(rq, st, rq->body, s)) != 0)
		goto out;
	kw_time_fmt(kw_now(), s->updated_at, sizeof(s->updated_at));
	if (s->password[0] != '\0' && (r = crypto_fingerprint(app->keys,
	    s->password, strlen(s->password), fp, sizeof(fp))) != 0)
		goto out;
	if ((r = email_settings_save(app->keys, st, s)) != 0) {
		r = api_store_fail(rq, r, "setting", EMAIL_SETTING_KEY);
		goto out;
	}
	r = api_audit(rq, st, "settings.email", EMAIL_SETTING_KEY, json_pack(
	    "{s:s, s:s, s:s, s:s?}", "smtp_url", s->smtp_url, "from", s->from,
	    "username", s->username, "password_fingerprint", fp[0] ? fp :
	    NULL));
 out:
	if ((r = api_tx_end(rq, &st, r)) == 0)
		rs->body = email_json(s);
 done:
	body_wipe(rq->body, "password");
	email_settings_wipe(s);
	free(s);
	return r;
}

int
api_settings_email_get(struct http_req *rq, struct http_resp *rs)
{
	struct email_settings	*s;
	struct store		*st;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = email_settings_load(((struct app *)rq->app)->keys, st,
	    s)) == 0)
		rs->body = email_json(s);
	else
		r = load_fail(rq, r, "e-mail", "/v1/settings/email");
	email_settings_wipe(s);
	free(s);
	return r;
}
