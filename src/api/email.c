/*
 * email.c — /v1/settings/email (admin): where e-mail notifications go
 * out.  The SMTP password is sealed at rest and never returned; the
 * answer says only whether one is set.  Validation happens here, so the
 * sender only ever meets URLs and addresses it can use.
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
#include "util/util.h"

static json_t *
settings_json(const struct email_settings *s)
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
settings_parse(struct http_req *rq, struct store *st, json_t *b,
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
		if (email_settings_load(rq->app, st, old) == 0 &&
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
	json_t			*pw;
	char			 fp[32] = "";
	int			 r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = settings_parse(rq, st, rq->body, s)) != 0)
		goto out;
	kw_time_fmt(kw_now(), s->updated_at, sizeof(s->updated_at));
	if (s->password[0] != '\0' && (r = crypto_fingerprint(app->keys,
	    s->password, strlen(s->password), fp, sizeof(fp))) != 0)
		goto out;
	if ((r = email_settings_save(app, st, s)) != 0) {
		r = api_store_fail(rq, r, "setting", EMAIL_SETTING_KEY);
		goto out;
	}
	r = api_audit(rq, st, "settings.email", EMAIL_SETTING_KEY, json_pack(
	    "{s:s, s:s, s:s, s:s?}", "smtp_url", s->smtp_url, "from", s->from,
	    "username", s->username, "password_fingerprint", fp[0] ? fp :
	    NULL));
 out:
	if ((r = api_tx_end(rq, &st, r)) == 0)
		rs->body = settings_json(s);
 done:
	/* the HTTP layer frees the body without wiping it */
	if ((pw = json_object_get(rq->body, "password")) != NULL &&
	    json_is_string(pw))
		kw_wipe((char *)(uintptr_t)json_string_value(pw),
		    json_string_length(pw));
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
	r = email_settings_load(rq->app, st, s);
	if (r == 0)
		rs->body = settings_json(s);
	else if (r == KW_ERR_NOT_FOUND)
		r = http_fail(rq, r, NULL, "e-mail is not configured; PUT "
		    "/v1/settings/email");
	else if (r == KW_ERR_UNAVAILABLE)
		r = api_store_fail(rq, r, "", "");
	else
		r = http_fail(rq, KW_ERR_INTERNAL, NULL, "the stored e-mail "
		    "settings cannot be opened; PUT them again");
	email_settings_wipe(s);
	free(s);
	return r;
}
