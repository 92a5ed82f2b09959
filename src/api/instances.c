/*
 * instances.c — /v1/instances: the SaaS instances keywarden governs,
 * their policy, provisioners and Integration-bot credential (sealed at
 * rest, never returned).
 */
#include <stdio.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/valid.h"
#include "crypto/crypto.h"
#include "policy/scope.h"
#include "util/util.h"

#define DEFAULT_MAX_LIFETIME_DAYS	365
#define DEFAULT_ROTATION_DAYS		90
#define DEFAULT_GRACE_DAYS		7
#define GRACE_DAYS_MAX			90

static const char *const instance_fields[] = {
	"name", "display_name", "provider", "url", "provisioners",
	"allow_integrations", "issuance", "allowed_scopes",
	"max_lifetime_days", "rotation_days", "grace_days", "warn_days", "bot",
	"default_delivery", "allowed_deliveries", "max_access_ttl_seconds",
	NULL
};
static const char *const bot_fields[] = { "email", "oauth_token",
	"client_id", "client_secret", NULL };
static const int default_warn_days[] = { 30, 14, 7, 1 };
static const char *const providers[] = { "zendesk", NULL };
static const char *const issuances[] = { "automatic", "manual", NULL };

static int
valid_instance_name(const char *s)
{
	return kw_valid_slug(s, KW_INSTANCE_NAME_MAX);
}

static int
valid_url_loopback_ok(const char *s)
{
	return kw_valid_url(s, 1);
}

/* The associated data that binds a sealed bot token to its instance. */
static void
bot_ad(const struct instance *in, char *out, size_t outsz)
{
	snprintf(out, outsz, "keywarden:instance:%s:bot_token", in->id);
}

int
api_instance_bot_token(const struct app *app, const struct instance *in,
    char *out, size_t outsz)
{
	char	ad[128];
	size_t	n;
	int	r;

	if (in->bot_sealed_len == 0 || outsz < 1)
		return KW_ERR_CONFIG;
	bot_ad(in, ad, sizeof(ad));
	if ((r = crypto_open(app->keys, ad, in->bot_sealed, in->bot_sealed_len,
	    (unsigned char *)out, outsz - 1, &n)) != 0)
		return r;
	out[n] = '\0';
	return 0;
}

/* Read "bot": {"email", "oauth_token"} (a static token) or {"email",
 * "client_id", "client_secret"} (a confidential client keywarden runs
 * client_credentials with), or null; seal the token or secret. */
static int
bot_apply(struct http_req *rq, json_t *b, struct instance *in,
    json_t *changed)
{
	struct app	*app = rq->app;
	json_t		*bot = json_object_get(b, "bot");
	char		 tok[KW_BOT_TOKEN_MAX + 1], ad[128], fp[32];
	int		 r, here = 0;

	if (bot == NULL)
		return 0;
	json_object_set_new(changed, "bot", json_null());
	if (json_is_null(bot)) {
		in->bot_email[0] = '\0';
		in->bot_sealed_len = 0;
		in->bot_client_id[0] = in->bot_expires_at[0] = '\0';
		return 0;
	}
	if (!json_is_object(bot))
		return http_fail(rq, KW_ERR_VALIDATION, "bot",
		    "'bot' must be an object {\"email\", \"oauth_token\"}");
	if ((r = jv_known(rq, bot, bot_fields)) != 0 ||
	    (r = jv_str(rq, bot, "email", JV_REQUIRED, KW_EMAIL_MAX,
	    in->bot_email, sizeof(in->bot_email), NULL)) != 0)
		goto fix_field;
	if (!kw_valid_email(in->bot_email))
		return http_fail(rq, KW_ERR_VALIDATION, "bot.email",
		    "'bot.email' is not a valid email address");
	if ((r = jv_str(rq, bot, "client_id", 0, KW_CLIENT_IDENT_MAX,
	    in->bot_client_id, sizeof(in->bot_client_id), &here)) != 0)
		goto fix_field;
	in->bot_expires_at[0] = '\0';
	if (here && in->bot_client_id[0] != '\0') {
		if (json_object_get(bot, "oauth_token") != NULL)
			return http_fail(rq, KW_ERR_VALIDATION,
			    "bot.oauth_token", "give 'bot.oauth_token' or "
			    "'bot.client_id' with 'bot.client_secret', not "
			    "both");
		if (strspn(in->bot_client_id, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    strlen(in->bot_client_id))
			return http_fail(rq, KW_ERR_VALIDATION, "bot.client_id",
			    "'bot.client_id' is the client's identifier: "
			    "letters, digits, '.', '-' and '_'");
		r = jv_str(rq, bot, "client_secret", JV_REQUIRED | JV_NONEMPTY,
		    KW_BOT_TOKEN_MAX, tok, sizeof(tok), NULL);
	} else {
		in->bot_client_id[0] = '\0';
		if (json_object_get(bot, "client_secret") != NULL)
			return http_fail(rq, KW_ERR_VALIDATION, "bot.client_id",
			    "'bot.client_secret' needs 'bot.client_id'");
		r = jv_str(rq, bot, "oauth_token", JV_REQUIRED, KW_BOT_TOKEN_MAX,
		    tok, sizeof(tok), NULL);
	}
	if (r != 0)
		goto fix_field;
	bot_ad(in, ad, sizeof(ad));
	r = crypto_seal(app->keys, ad, tok, strlen(tok), in->bot_sealed,
	    sizeof(in->bot_sealed), &in->bot_sealed_len);
	if (r == 0)
		r = crypto_fingerprint(app->keys, tok, strlen(tok), fp,
		    sizeof(fp));
	kw_wipe(tok, sizeof(tok));
	if (r != 0)
		return r;
	json_object_set_new(changed, "bot", json_pack("{s:s, s:s, s:s}",
	    "email", in->bot_email, "mode", in->bot_client_id[0] ?
	    "client_credentials" : "static_token", in->bot_client_id[0] ?
	    "secret_fingerprint" : "token_fingerprint", fp));
	return 0;
 fix_field:
	kw_fail_nest(&rq->fail, "bot");
	return r;
}

/* Resolve provisioners (emails or ids) to people who exist. */
static int
provisioners_apply(struct http_req *rq, struct store *st, json_t *b,
    struct instance *in, int *here)
{
	char	keys[KW_PROVISIONERS_MAX][KW_EMAIL_MAX + 1];
	size_t	n = 0, i, j;
	int	r;
	struct person p;

	if ((r = jv_strs(rq, b, "provisioners", 0, KW_PROVISIONERS_MAX,
	    &keys[0][0], sizeof(keys[0]), &n, NULL, "person", here)) != 0 ||
	    !*here)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = store_person_get(st, keys[i], &p)) == KW_ERR_NOT_FOUND)
			return http_fail(rq, KW_ERR_VALIDATION, "provisioners",
			    "'provisioners': no person '%.200s'", keys[i]);
		if (r != 0)
			return api_store_fail(rq, r, "person", keys[i]);
		for (j = 0; j < i; j++)
			if (strcmp(in->provisioners[j].id, p.id) == 0)
				return http_fail(rq, KW_ERR_VALIDATION,
				    "provisioners", "'provisioners': %.200s "
				    "is listed twice", p.email);
		kw_strlcpy(in->provisioners[i].id, p.id,
		    sizeof(in->provisioners[i].id));
		kw_strlcpy(in->provisioners[i].email, p.email,
		    sizeof(in->provisioners[i].email));
	}
	in->nprovisioners = n;
	return 0;
}

/* "warn_days": [30, 14, 7, 1] — days before expiry when owners are
 * warned; kept in descending order. */
static int
warn_days_apply(struct http_req *rq, json_t *b, struct instance *in)
{
	json_t	*a = json_object_get(b, "warn_days"), *v;
	int	 days[KW_WARN_THRESHOLDS_MAX], t;
	size_t	 i, j, n;

	if (a == NULL)
		return 0;
	if (!json_is_array(a) || (n = json_array_size(a)) >
	    KW_WARN_THRESHOLDS_MAX)
		return http_fail(rq, KW_ERR_VALIDATION, "warn_days",
		    "'warn_days' must be an array of up to %d day counts",
		    KW_WARN_THRESHOLDS_MAX);
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > KW_LIFETIME_DAYS_MAX)
			return http_fail(rq, KW_ERR_VALIDATION, "warn_days",
			    "'warn_days' entries must be integers from 1 to "
			    "%d", KW_LIFETIME_DAYS_MAX);
		days[i] = (int)json_integer_value(v);
		for (j = 0; j < i; j++)
			if (days[j] == days[i])
				return http_fail(rq, KW_ERR_VALIDATION,
				    "warn_days", "'warn_days' lists %d twice",
				    days[i]);
	}
	for (i = 1; i < n; i++)		/* descending */
		for (j = i; j > 0 && days[j - 1] < days[j]; j--) {
			t = days[j];
			days[j] = days[j - 1];
			days[j - 1] = t;
		}
	memcpy(in->warn_days, days, n * sizeof(days[0]));
	in->nwarn = n;
	return 0;
}

/* "default_delivery", "allowed_deliveries" (null: all) and
 * "max_access_ttl_seconds" of the broker; the default must be allowed. */
static int
delivery_apply(struct http_req *rq, json_t *b, struct instance *in)
{
	json_t	*a = json_object_get(b, "allowed_deliveries"), *v;
	size_t	 i, k;
	int	 mode, here, r;

	if ((r = jv_enum(rq, b, "default_delivery", 0, api_delivery_modes,
	    &mode, &here)) != 0)
		return r;
	if (here)
		in->default_delivery = (enum delivery_mode)mode;
	if (a != NULL && json_is_null(a))
		in->allowed_deliveries = 0;
	else if (a != NULL) {
		if (!json_is_array(a) || json_array_size(a) == 0)
			return http_fail(rq, KW_ERR_VALIDATION,
			    "allowed_deliveries", "'allowed_deliveries' must be "
			    "null or a non-empty array of \"broker\", "
			    "\"client_secret\", \"token\"");
		in->allowed_deliveries = 0;
		json_array_foreach(a, i, v) {
			for (k = 0; k < DM__COUNT; k++)
				if (json_is_string(v) && strcmp(
				    json_string_value(v),
				    api_delivery_modes[k]) == 0)
					break;
			if (k == DM__COUNT)
				return http_fail(rq, KW_ERR_VALIDATION,
				    "allowed_deliveries", "'allowed_deliveries' "
				    "entries are \"broker\", \"client_secret\" "
				    "or \"token\"");
			in->allowed_deliveries |= 1u << k;
		}
	}
	if ((r = jv_int(rq, b, "max_access_ttl_seconds", 0, KW_ACCESS_TTL_MIN,
	    KW_ACCESS_TTL_MAX, &in->max_access_ttl, &here)) != 0)
		return r;
	if (in->allowed_deliveries != 0 &&
	    !(in->allowed_deliveries & (1u << in->default_delivery)))
		return http_fail(rq, KW_ERR_VALIDATION, "default_delivery",
		    "'default_delivery' \"%s\" is not in 'allowed_deliveries'",
		    api_delivery_modes[in->default_delivery]);
	return 0;
}

/* Apply body b to in; changed gets the name of each field given (the
 * bot as its fingerprint only). */
static int
instance_apply(struct http_req *rq, struct store *st, json_t *b,
    struct instance *in, int creating, json_t *changed)
{
	int req = JV_NONEMPTY | (creating ? JV_REQUIRED : 0), here, v = 0, r;

	if ((r = jv_known(rq, b, instance_fields)) != 0)
		return r;
	if ((r = jv_str(rq, b, "name", req, KW_INSTANCE_NAME_MAX, in->name,
	    sizeof(in->name), &here)) != 0)
		return r;
	if (here && !valid_instance_name(in->name))
		return http_fail(rq, KW_ERR_VALIDATION, "name",
		    "'name' must be lower-case letters, digits, - and _");
	if ((r = jv_str(rq, b, "display_name", 0, KW_DISPLAY_NAME_MAX,
	    in->display_name, sizeof(in->display_name), &here)) != 0)
		return r;
	if ((r = jv_enum(rq, b, "provider", 0, providers, &v, &here)) != 0)
		return r;
	if (here)
		kw_strlcpy(in->provider, providers[v], sizeof(in->provider));
	if ((r = jv_str(rq, b, "url", req, KW_URL_MAX, in->url,
	    sizeof(in->url), &here)) != 0)
		return r;
	if (here && !valid_url_loopback_ok(in->url))
		return http_fail(rq, KW_ERR_VALIDATION, "url",
		    "'url' must be an https:// URL (plain http only to "
		    "127.0.0.1 or localhost)");
	if ((r = provisioners_apply(rq, st, b, in, &here)) != 0)
		return r;
	if ((r = jv_bool(rq, b, "allow_integrations", 0,
	    &in->allow_integrations, &here)) != 0)
		return r;
	if ((r = jv_enum(rq, b, "issuance", 0, issuances, &v, &here)) != 0)
		return r;
	if (here)
		in->issuance = v == 1 ? ISSUANCE_MANUAL : ISSUANCE_AUTOMATIC;
	if ((r = jv_strs(rq, b, "allowed_scopes", JV_NULLABLE, KW_SCOPES_MAX,
	    &in->allowed_scopes[0][0], sizeof(in->allowed_scopes[0]),
	    &in->nscopes, policy_scope_valid, "Zendesk scope", &here)) != 0)
		return r;
	if (here)
		in->scopes_restricted =
		    !json_is_null(json_object_get(b, "allowed_scopes"));
	if ((r = jv_int(rq, b, "max_lifetime_days", 0, 1, KW_LIFETIME_DAYS_MAX,
	    &in->max_lifetime_days, &here)) != 0 ||
	    (r = jv_int(rq, b, "rotation_days", 0, 1, KW_LIFETIME_DAYS_MAX,
	    &in->rotation_days, &here)) != 0 ||
	    (r = jv_int(rq, b, "grace_days", 0, 0, GRACE_DAYS_MAX,
	    &in->grace_days, &here)) != 0)
		return r;
	if ((r = warn_days_apply(rq, b, in)) != 0 ||
	    (r = delivery_apply(rq, b, in)) != 0 ||
	    (r = bot_apply(rq, b, in, changed)) != 0)
		return r;
	if (in->display_name[0] == '\0')
		kw_strlcpy(in->display_name, in->name, sizeof(in->display_name));
	return 0;
}

/* The names of the fields given in b, with the bot's fingerprint. */
static json_t *
changed_fields(json_t *b, json_t *bot)
{
	json_t		*o = json_object(), *fields = json_array(), *v;
	const char	*k;

	json_object_foreach(b, k, v)
		json_array_append_new(fields, json_string(k));
	json_object_set_new(o, "fields", fields);
	if (bot != NULL && !json_is_null(bot))
		json_object_set(o, "bot", bot);
	return o;
}

int
api_instances_create(struct http_req *rq, struct http_resp *rs)
{
	struct instance	 in;
	struct store	*st;
	json_t		*changed = json_object();
	int		 r;

	memset(&in, 0, sizeof(in));
	kw_strlcpy(in.provider, "zendesk", sizeof(in.provider));
	in.max_lifetime_days = DEFAULT_MAX_LIFETIME_DAYS;
	in.rotation_days = DEFAULT_ROTATION_DAYS;
	in.grace_days = DEFAULT_GRACE_DAYS;
	memcpy(in.warn_days, default_warn_days, sizeof(default_warn_days));
	in.nwarn = KW_NELEM(default_warn_days);
	in.default_delivery = DM_BROKER;
	in.max_access_ttl = KW_ACCESS_TTL_INSTANCE;
	/* the id comes first: the sealed bot token is bound to it */
	crypto_random_id("ins_", in.id, sizeof(in.id));
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = instance_apply(rq, st, rq->body, &in, 1, changed)) != 0)
		goto out;
	kw_time_fmt(kw_now(), in.created_at, sizeof(in.created_at));
	kw_strlcpy(in.updated_at, in.created_at, sizeof(in.updated_at));
	if ((r = store_instance_insert(st, &in)) != 0) {
		r = api_store_fail(rq, r, "instance named", in.name);
		goto out;
	}
	r = api_audit(rq, st, "instance.create", in.name,
	    changed_fields(rq->body, json_object_get(changed, "bot")));
 out:
	r = api_tx_end(rq, &st, r);
 done:
	json_decref(changed);
	if (r == 0) {
		rs->status = 201;
		rs->body = api_instance_json(&in);
	}
	kw_wipe(&in, sizeof(in));
	return r;
}

/* 1 if a and b name the same instance URL (trailing slashes aside, as
 * issuance_conn_open strips them). */
static int
same_url(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	while (na > 0 && a[na - 1] == '/')
		na--;
	while (nb > 0 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncmp(a, b, na) == 0;
}

/*
 * A bot credential is sent only to the URL it was given for: a PATCH that
 * moves an instance holding one to another URL must give the credential
 * again ("bot": {...}, or null to drop it).  0, or the 400 naming "bot".
 */
static int
url_change_check(struct http_req *rq, const struct instance *in,
    const char *old_url)
{
	if (same_url(old_url, in->url) || in->bot_sealed_len == 0 ||
	    json_object_get(rq->body, "bot") != NULL)
		return 0;
	return http_fail(rq, KW_ERR_VALIDATION, "bot", "changing 'url' "
	    "requires the Integration bot's credential for the new URL in the "
	    "same request ('bot': {\"email\", \"oauth_token\"}); keywarden "
	    "never sends a credential to a host it was not given for");
}

int
api_instances_patch(struct http_req *rq, struct http_resp *rs)
{
	struct instance	 in;
	struct store	*st;
	json_t		*changed = json_object(), *details;
	char		 old_url[KW_URL_MAX + 1];
	int		 r;

	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = store_instance_get(st, rq->params[0], &in)) != 0) {
		r = api_store_fail(rq, r, "instance", rq->params[0]);
		goto out;
	}
	kw_strlcpy(old_url, in.url, sizeof(old_url));
	if ((r = instance_apply(rq, st, rq->body, &in, 0, changed)) != 0 ||
	    (r = url_change_check(rq, &in, old_url)) != 0)
		goto out;
	kw_time_fmt(kw_now(), in.updated_at, sizeof(in.updated_at));
	if ((r = store_instance_update(st, &in)) != 0) {
		r = api_store_fail(rq, r, "instance named", in.name);
		goto out;
	}
	details = changed_fields(rq->body, json_object_get(changed, "bot"));
	if (!same_url(old_url, in.url))
		json_object_set_new(details, "url", json_pack("{s:s, s:s}",
		    "old", old_url, "new", in.url));
	r = api_audit(rq, st, "instance.update", in.name, details);
 out:
	r = api_tx_end(rq, &st, r);
 done:
	json_decref(changed);
	if (r == 0)
		rs->body = api_instance_json(&in);
	kw_wipe(&in, sizeof(in));
	return r;
}

int
api_instances_get(struct http_req *rq, struct http_resp *rs)
{
	struct instance	 in;
	struct store	*st;
	int		 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = store_instance_get(st, rq->params[0], &in)) != 0)
		return api_store_fail(rq, r, "instance", rq->params[0]);
	rs->body = api_instance_json(&in);
	kw_wipe(&in, sizeof(in));
	return 0;
}

struct list_ctx {
	json_t	*items;
	int64_t	 last;
};

static int
list_instance(const struct instance *in, void *arg)
{
	struct list_ctx *l = arg;

	json_array_append_new(l->items, api_instance_json(in));
	l->last = in->seq;
	return 0;
}

int
api_instances_list(struct http_req *rq, struct http_resp *rs)
{
	struct list_ctx	 l = { NULL, 0 };
	struct store	*st;
	long long	 after;
	size_t		 limit;
	int		 r;

	if ((r = jv_page(rq, &limit, &after)) != 0)
		return r;
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	l.items = json_array();
	if ((r = store_instance_each(st, after, limit, list_instance, &l)) != 0) {
		json_decref(l.items);
		return api_store_fail(rq, r, "", "");
	}
	rs->body = api_page(l.items, json_array_size(l.items) == limit ?
	    l.last : 0);
	return 0;
}
