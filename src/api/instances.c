/*
 * instances.c — /v1/instances: the SaaS instances keywarden governs,
 * their policy, provisioners and Integration-bot credential (sealed at
 * rest by core/instances.c, never returned).  Here the body is read into
 * a struct instance_input; the core applies it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/list.h"
#include "api/valid.h"
#include "core/credentials.h"
#include "core/instances.h"
#include "policy/scope.h"
#include "provider/provider.h"
#include "util/util.h"

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
static const char *const issuances[] = { "automatic", "manual", NULL };

/* A provider keywarden does not know has no valid scope. */
static int
scope_none(const char *s)
{
	return policy_scope_valid(NULL, s);
}

/* The registry's provider names, NULL-terminated, into names. */
static void
provider_names(const char *names[PROVIDER_COUNT_MAX + 1])
{
	const struct provider_ops	*ops;
	size_t				 i;

	for (i = 0; i < PROVIDER_COUNT_MAX &&
	    (ops = provider_at(i)) != NULL; i++)
		names[i] = ops->name;
	names[i] = NULL;
}

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

/* Read "bot": {"email", "oauth_token"} (a static token) or {"email",
 * "client_id", "client_secret"} (a confidential client keywarden runs
 * client_credentials with), or null (no bot). */
static int
bot_parse(struct http_req *rq, json_t *b, struct instance_input *input)
{
	json_t	*bot = json_object_get(b, "bot");
	int	 r, here = 0;

	if (bot == NULL)
		return 0;
	input->given |= IF_BOT;
	if (json_is_null(bot))
		return 0;
	if (!json_is_object(bot))
		return http_fail(rq, KW_ERR_VALIDATION, "bot",
		    "'bot' must be an object {\"email\", \"oauth_token\"}");
	if ((r = jv_known(rq, bot, bot_fields)) != 0 ||
	    (r = jv_str(rq, bot, "email", JV_REQUIRED, KW_EMAIL_MAX,
	    input->bot_email, sizeof(input->bot_email), NULL)) != 0)
		goto fix_field;
	if (!kw_valid_email(input->bot_email))
		return http_fail(rq, KW_ERR_VALIDATION, "bot.email",
		    "'bot.email' is not a valid email address");
	if ((r = jv_str(rq, bot, "client_id", 0, KW_CLIENT_IDENT_MAX,
	    input->bot_client_id, sizeof(input->bot_client_id), &here)) != 0)
		goto fix_field;
	if (here && input->bot_client_id[0] != '\0') {
		if (json_object_get(bot, "oauth_token") != NULL)
			return http_fail(rq, KW_ERR_VALIDATION,
			    "bot.oauth_token", "give 'bot.oauth_token' or "
			    "'bot.client_id' with 'bot.client_secret', not "
			    "both");
		if (strspn(input->bot_client_id, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
		    strlen(input->bot_client_id))
			return http_fail(rq, KW_ERR_VALIDATION, "bot.client_id",
			    "'bot.client_id' is the client's identifier: "
			    "letters, digits, '.', '-' and '_'");
		r = jv_str(rq, bot, "client_secret", JV_REQUIRED | JV_NONEMPTY,
		    KW_BOT_TOKEN_MAX, input->bot_secret,
		    sizeof(input->bot_secret), NULL);
	} else {
		input->bot_client_id[0] = '\0';
		if (json_object_get(bot, "client_secret") != NULL)
			return http_fail(rq, KW_ERR_VALIDATION, "bot.client_id",
			    "'bot.client_secret' needs 'bot.client_id'");
		r = jv_str(rq, bot, "oauth_token", JV_REQUIRED, KW_BOT_TOKEN_MAX,
		    input->bot_secret, sizeof(input->bot_secret), NULL);
	}
	if (r != 0)
		goto fix_field;
	return 0;
 fix_field:
	kw_fail_nest(&rq->fail, "bot");
	return r;
}

/* "warn_days": [30, 14, 7, 1] — days before expiry when owners are
 * warned; kept in descending order. */
static int
warn_days_parse(struct http_req *rq, json_t *b, struct instance_input *input)
{
	struct instance	*in = &input->v;
	json_t		*a = json_object_get(b, "warn_days"), *v;
	int		 days[KW_WARN_THRESHOLDS_MAX], t;
	size_t		 i, j, n;

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
	input->given |= IF_WARN_DAYS;
	return 0;
}

/* "default_delivery", "allowed_deliveries" (null: all) and
 * "max_access_ttl_seconds" of the broker (the core checks that the
 * default is allowed). */
static int
delivery_parse(struct http_req *rq, json_t *b, struct instance_input *input)
{
	struct instance	*in = &input->v;
	json_t		*a = json_object_get(b, "allowed_deliveries"), *v;
	size_t		 i, k;
	int		 mode, here, r;

	if ((r = jv_enum(rq, b, "default_delivery", 0,
	    credential_delivery_modes, &mode, &here)) != 0)
		return r;
	if (here) {
		in->default_delivery = (enum delivery_mode)mode;
		input->given |= IF_DEFAULT_DELIVERY;
	}
	if (a != NULL)
		input->given |= IF_ALLOWED_DELIVERIES;
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
				    credential_delivery_modes[k]) == 0)
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
	if (here)
		input->given |= IF_MAX_ACCESS_TTL;
	return 0;
}

/* Read body b into input (creating: name and url are required); the
 * bits of the fields given are set in input->given.  Scopes are those of
 * the provider the body names, else of provider (the instance's). */
static int
instance_parse(struct http_req *rq, json_t *b, int creating,
    const char *provider, struct instance_input *input)
{
	const struct scope_syntax *syntax;
	const char	*providers[PROVIDER_COUNT_MAX + 1];
	struct instance	*in = &input->v;
	json_t		*v_;
	const char	*k;
	int		 req = JV_NONEMPTY | (creating ? JV_REQUIRED : 0);
	int		 here, v = 0, r;
	size_t		 n = 0;

#define GIVEN(bit)	do { if (here) input->given |= (bit); } while (0)
	if ((r = jv_known(rq, b, instance_fields)) != 0)
		return r;
	if ((r = jv_str(rq, b, "name", req, KW_INSTANCE_NAME_MAX, in->name,
	    sizeof(in->name), &here)) != 0)
		return r;
	if (here && !valid_instance_name(in->name))
		return http_fail(rq, KW_ERR_VALIDATION, "name",
		    "'name' must be lower-case letters, digits, - and _");
	GIVEN(IF_NAME);
	if ((r = jv_str(rq, b, "display_name", 0, KW_DISPLAY_NAME_MAX,
	    in->display_name, sizeof(in->display_name), &here)) != 0)
		return r;
	GIVEN(IF_DISPLAY_NAME);
	provider_names(providers);
	if ((r = jv_enum(rq, b, "provider", 0, providers, &v, &here)) != 0)
		return r;
	if (here)
		kw_strlcpy(in->provider, providers[v], sizeof(in->provider));
	GIVEN(IF_PROVIDER);
	syntax = provider_scopes(here ? in->provider : provider);
	if ((r = jv_str(rq, b, "url", req, KW_URL_MAX, in->url,
	    sizeof(in->url), &here)) != 0)
		return r;
	if (here && !valid_url_loopback_ok(in->url))
		return http_fail(rq, KW_ERR_VALIDATION, "url",
		    "'url' must be an https:// URL (plain http only to "
		    "127.0.0.1 or localhost)");
	GIVEN(IF_URL);
	/* emails or ids: the core finds the people */
	if ((r = jv_strs(rq, b, "provisioners", 0, KW_PROVISIONERS_MAX,
	    &input->provisioners[0][0], sizeof(input->provisioners[0]), &n,
	    NULL, "person", &here)) != 0)
		return r;
	input->nprovisioners = here ? n : 0;
	GIVEN(IF_PROVISIONERS);
	if ((r = jv_bool(rq, b, "allow_integrations", 0,
	    &in->allow_integrations, &here)) != 0)
		return r;
	GIVEN(IF_ALLOW_INTEGRATIONS);
	if ((r = jv_enum(rq, b, "issuance", 0, issuances, &v, &here)) != 0)
		return r;
	if (here)
		in->issuance = v == 1 ? ISSUANCE_MANUAL : ISSUANCE_AUTOMATIC;
	GIVEN(IF_ISSUANCE);
	if ((r = jv_strs(rq, b, "allowed_scopes", JV_NULLABLE, KW_SCOPES_MAX,
	    &in->allowed_scopes[0][0], sizeof(in->allowed_scopes[0]),
	    &in->nscopes, syntax != NULL ? syntax->valid : scope_none,
	    syntax != NULL ? syntax->noun : "scope", &here)) != 0)
		return r;
	if (here)
		in->scopes_restricted =
		    !json_is_null(json_object_get(b, "allowed_scopes"));
	GIVEN(IF_ALLOWED_SCOPES);
	if ((r = jv_int(rq, b, "max_lifetime_days", 0, 1, KW_LIFETIME_DAYS_MAX,
	    &in->max_lifetime_days, &here)) != 0)
		return r;
	GIVEN(IF_MAX_LIFETIME_DAYS);
	if ((r = jv_int(rq, b, "rotation_days", 0, 1, KW_LIFETIME_DAYS_MAX,
	    &in->rotation_days, &here)) != 0)
		return r;
	GIVEN(IF_ROTATION_DAYS);
	if ((r = jv_int(rq, b, "grace_days", 0, 0, GRACE_DAYS_MAX,
	    &in->grace_days, &here)) != 0)
		return r;
	GIVEN(IF_GRACE_DAYS);
#undef GIVEN
	if ((r = warn_days_parse(rq, b, input)) != 0 ||
	    (r = delivery_parse(rq, b, input)) != 0 ||
	    (r = bot_parse(rq, b, input)) != 0)
		return r;
	/* the names of the fields given, for the audit event */
	if ((input->fields = json_array()) == NULL)
		return KW_ERR_NOMEM;
	json_object_foreach(b, k, v_)
		json_array_append_new(input->fields, json_string(k));
	return 0;
}

/* What a write works in: the parsed body and the instance it gives back
 * (both may hold the bot's secret, so both are wiped when done). */
struct instance_work {
	struct instance_input	input;
	struct instance		in;
};

/* Forget w (NULL is fine), its bot secret wiped. */
static void
work_free(struct instance_work *w)
{
	if (w == NULL)
		return;
	json_decref(w->input.fields);
	kw_wipe(w, sizeof(*w));
	free(w);
}

int
api_instances_create(struct http_req *rq, struct http_resp *rs)
{
	struct instance_work	*w;
	struct actor		 a;
	int			 r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = instance_parse(rq, rq->body, 1,
	    provider_default()->name, &w->input)) != 0)
		goto out;
	api_actor(rq, &a);
	if ((r = instance_create(rq->app, &a, &w->input, &w->in,
	    &rq->fail)) == 0) {
		rs->status = 201;
		rs->body = api_instance_json(&w->in);
	}
 out:
	work_free(w);
	return r;
}

int
api_instances_patch(struct http_req *rq, struct http_resp *rs)
{
	struct instance_work	*w;
	struct actor		 a;
	int			 r;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return KW_ERR_NOMEM;
	/* an unknown instance is 404 whatever the body says */
	if ((r = instance_get(rq->app, rq->params[0], &w->in,
	    &rq->fail)) != 0 ||
	    (r = instance_parse(rq, rq->body, 0, w->in.provider,
	    &w->input)) != 0)
		goto out;
	api_actor(rq, &a);
	if ((r = instance_update(rq->app, &a, rq->params[0], &w->input,
	    &w->in, &rq->fail)) == 0)
		rs->body = api_instance_json(&w->in);
 out:
	work_free(w);
	return r;
}

int
api_instances_get(struct http_req *rq, struct http_resp *rs)
{
	struct instance	 in;
	int		 r;

	if ((r = instance_get(rq->app, rq->params[0], &in, &rq->fail)) != 0)
		return r;
	rs->body = api_instance_json(&in);
	kw_wipe(&in, sizeof(in));
	return 0;
}

static int
list_instance(const struct instance *in, void *arg)
{
	return api_list_add(arg, api_instance_json(in), in->seq);
}

int
api_instances_list(struct http_req *rq, struct http_resp *rs)
{
	struct api_list	 l;
	struct store	*st;
	int		 r;

	if ((r = api_list_begin(rq, &l)) != 0)
		return r;
	if ((st = api_store(rq)) == NULL)
		return api_list_end(rq, rs, &l, KW_ERR_UNAVAILABLE);
	r = store_instance_each(st, l.after, l.limit, list_instance, &l);
	return api_list_end(rq, rs, &l, r);
}
