/*
 * instances.c — creating and changing instances (instances.h): the
 * defaults, provisioners resolved to people, the Integration bot's
 * credential sealed to the instance, and the rule that it never follows
 * the instance to another URL unasked.
 */
#include <stdio.h>
#include <string.h>

#include "kw.h"
#include "core/app.h"
#include "core/credentials.h"
#include "core/instances.h"
#include "crypto/crypto.h"
#include "provider/provider.h"
#include "util/util.h"

#define DEFAULT_MAX_LIFETIME_DAYS	365
#define DEFAULT_ROTATION_DAYS		90
#define DEFAULT_GRACE_DAYS		7

static const int default_warn_days[] = { 30, 14, 7, 1 };

/* The associated data that binds a sealed bot token to its instance. */
static void
bot_ad(const struct instance *in, char *out, size_t outsz)
{
	snprintf(out, outsz, "keywarden:instance:%s:bot_token", in->id);
}

int
instance_bot_token(const struct app *app, const struct instance *in,
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

/* Set or drop in's bot as input gives, sealing its token or secret to
 * in's id; *bot gets what the audit records (its fingerprint only), or
 * stays NULL when it is dropped. */
static int
bot_set(struct app *app, struct instance *in, struct instance_input *input,
    json_t **bot)
{
	char	ad[128], fp[32];
	int	r;

	if (input->bot_email[0] == '\0') {
		in->bot_email[0] = '\0';
		in->bot_sealed_len = 0;
		in->bot_client_id[0] = in->bot_expires_at[0] = '\0';
		return 0;
	}
	kw_strlcpy(in->bot_email, input->bot_email, sizeof(in->bot_email));
	kw_strlcpy(in->bot_client_id, input->bot_client_id,
	    sizeof(in->bot_client_id));
	in->bot_expires_at[0] = '\0';
	bot_ad(in, ad, sizeof(ad));
	r = crypto_seal(app->keys, ad, input->bot_secret,
	    strlen(input->bot_secret), in->bot_sealed, sizeof(in->bot_sealed),
	    &in->bot_sealed_len);
	if (r == 0)
		r = crypto_fingerprint(app->keys, input->bot_secret,
		    strlen(input->bot_secret), fp, sizeof(fp));
	kw_wipe(input->bot_secret, sizeof(input->bot_secret));
	if (r != 0)
		return r;
	*bot = json_pack("{s:s, s:s, s:s}", "email", in->bot_email, "mode",
	    in->bot_client_id[0] ? "client_credentials" : "static_token",
	    in->bot_client_id[0] ? "secret_fingerprint" : "token_fingerprint",
	    fp);
	return 0;
}

/* Resolve the provisioners given (emails or ids) to people who exist. */
static int
provisioners_set(struct store *w, const struct instance_input *input,
    struct instance *in, struct kw_fail *f)
{
	struct person	p;
	size_t		i, j;
	int		r;

	for (i = 0; i < input->nprovisioners; i++) {
		r = store_person_get(w, input->provisioners[i], &p);
		if (r == KW_ERR_NOT_FOUND)
			return kw_fail(f, KW_ERR_VALIDATION, "provisioners",
			    "'provisioners': no person '%.200s'",
			    input->provisioners[i]);
		if (r != 0)
			return core_store_fail(r, "person",
			    input->provisioners[i], f);
		for (j = 0; j < i; j++)
			if (strcmp(in->provisioners[j].id, p.id) == 0)
				return kw_fail(f, KW_ERR_VALIDATION,
				    "provisioners", "'provisioners': %.200s "
				    "is listed twice", p.email);
		kw_strlcpy(in->provisioners[i].id, p.id,
		    sizeof(in->provisioners[i].id));
		kw_strlcpy(in->provisioners[i].email, p.email,
		    sizeof(in->provisioners[i].email));
	}
	in->nprovisioners = input->nprovisioners;
	return 0;
}

/* Apply input to in (inside the transaction on w); *bot as bot_set. */
static int
instance_apply(struct app *app, struct store *w, struct instance *in,
    struct instance_input *input, json_t **bot, struct kw_fail *f)
{
	const struct instance	*v = &input->v;
	unsigned		 g = input->given;
	int			 r;

	if (g & IF_NAME)
		kw_strlcpy(in->name, v->name, sizeof(in->name));
	if (g & IF_DISPLAY_NAME)
		kw_strlcpy(in->display_name, v->display_name,
		    sizeof(in->display_name));
	if (g & IF_PROVIDER)
		kw_strlcpy(in->provider, v->provider, sizeof(in->provider));
	if (g & IF_URL)
		kw_strlcpy(in->url, v->url, sizeof(in->url));
	if ((g & IF_PROVISIONERS) &&
	    (r = provisioners_set(w, input, in, f)) != 0)
		return r;
	if (g & IF_ALLOW_INTEGRATIONS)
		in->allow_integrations = v->allow_integrations;
	if (g & IF_ISSUANCE)
		in->issuance = v->issuance;
	if (g & IF_ALLOWED_SCOPES) {
		memcpy(in->allowed_scopes, v->allowed_scopes,
		    sizeof(in->allowed_scopes));
		in->nscopes = v->nscopes;
		in->scopes_restricted = v->scopes_restricted;
	}
	if (g & IF_MAX_LIFETIME_DAYS)
		in->max_lifetime_days = v->max_lifetime_days;
	if (g & IF_ROTATION_DAYS)
		in->rotation_days = v->rotation_days;
	if (g & IF_GRACE_DAYS)
		in->grace_days = v->grace_days;
	if (g & IF_WARN_DAYS) {
		memcpy(in->warn_days, v->warn_days, sizeof(in->warn_days));
		in->nwarn = v->nwarn;
	}
	if (g & IF_DEFAULT_DELIVERY)
		in->default_delivery = v->default_delivery;
	if (g & IF_ALLOWED_DELIVERIES)
		in->allowed_deliveries = v->allowed_deliveries;
	if (g & IF_MAX_ACCESS_TTL)
		in->max_access_ttl = v->max_access_ttl;
	if (in->allowed_deliveries != 0 &&
	    !(in->allowed_deliveries & (1u << in->default_delivery)))
		return kw_fail(f, KW_ERR_VALIDATION, "default_delivery",
		    "'default_delivery' \"%s\" is not in 'allowed_deliveries'",
		    credential_delivery_modes[in->default_delivery]);
	if ((g & IF_BOT) && (r = bot_set(app, in, input, bot)) != 0)
		return r;
	if (in->display_name[0] == '\0')
		kw_strlcpy(in->display_name, in->name, sizeof(in->display_name));
	return 0;
}

/* The audit details: the names of the fields given, with the bot's
 * fingerprint (bot consumed). */
static json_t *
changed_fields(const struct instance_input *input, json_t *bot)
{
	json_t *o = json_object();

	if (input->fields != NULL)
		json_object_set(o, "fields", input->fields);
	else
		json_object_set_new(o, "fields", json_array());
	if (bot != NULL)
		json_object_set_new(o, "bot", bot);
	return o;
}

int
instance_create(struct app *app, struct actor *a,
    struct instance_input *input, struct instance *in, struct kw_fail *f)
{
	struct store	*w;
	json_t		*bot = NULL;
	int		 r;

	memset(in, 0, sizeof(*in));
	kw_strlcpy(in->provider, provider_default()->name,
	    sizeof(in->provider));
	in->max_lifetime_days = DEFAULT_MAX_LIFETIME_DAYS;
	in->rotation_days = DEFAULT_ROTATION_DAYS;
	in->grace_days = DEFAULT_GRACE_DAYS;
	memcpy(in->warn_days, default_warn_days, sizeof(default_warn_days));
	in->nwarn = KW_NELEM(default_warn_days);
	in->default_delivery = DM_BROKER;
	in->max_access_ttl = KW_ACCESS_TTL_INSTANCE;
	/* the id comes first: the sealed bot token is bound to it */
	crypto_random_id("ins_", in->id, sizeof(in->id));
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = instance_apply(app, w, in, input, &bot, f)) != 0)
		goto out;
	kw_time_fmt(kw_now(), in->created_at, sizeof(in->created_at));
	kw_strlcpy(in->updated_at, in->created_at, sizeof(in->updated_at));
	if ((r = store_instance_insert(w, in)) != 0) {
		r = core_store_fail(r, "instance named", in->name, f);
		goto out;
	}
	r = core_audit(w, a, "instance.create", in->name,
	    changed_fields(input, bot), f);
	bot = NULL;
 out:
	r = core_tx_end(app, r, f);
 done:
	json_decref(bot);
	kw_wipe(input->bot_secret, sizeof(input->bot_secret));
	return r;
}

int
instance_get(struct app *app, const char *key, struct instance *in,
    struct kw_fail *f)
{
	struct store	*st;
	int		 r;

	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	if ((r = store_instance_get(st, key, in)) != 0)
		return core_store_fail(r, "instance", key, f);
	return 0;
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

int
instance_update(struct app *app, struct actor *a, const char *key,
    struct instance_input *input, struct instance *in, struct kw_fail *f)
{
	struct store	*w;
	json_t		*bot = NULL, *details;
	char		 old_url[KW_URL_MAX + 1];
	int		 r;

	memset(in, 0, sizeof(*in));
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		goto done;
	if ((r = store_instance_get(w, key, in)) != 0) {
		r = core_store_fail(r, "instance", key, f);
		goto out;
	}
	kw_strlcpy(old_url, in->url, sizeof(old_url));
	if ((r = instance_apply(app, w, in, input, &bot, f)) != 0)
		goto out;
	/* a bot credential goes only to the URL it was given for */
	if (!same_url(old_url, in->url) && in->bot_sealed_len != 0 &&
	    !(input->given & IF_BOT)) {
		r = kw_fail(f, KW_ERR_VALIDATION, "bot", "changing 'url' "
		    "requires the Integration bot's credential for the new URL "
		    "in the same request ('bot': {\"email\", \"oauth_token\"}); "
		    "keywarden never sends a credential to a host it was not "
		    "given for");
		goto out;
	}
	kw_time_fmt(kw_now(), in->updated_at, sizeof(in->updated_at));
	if ((r = store_instance_update(w, in)) != 0) {
		r = core_store_fail(r, "instance named", in->name, f);
		goto out;
	}
	details = changed_fields(input, bot);
	bot = NULL;
	if (!same_url(old_url, in->url))
		json_object_set_new(details, "url", json_pack("{s:s, s:s}",
		    "old", old_url, "new", in->url));
	r = core_audit(w, a, "instance.update", in->name, details, f);
 out:
	r = core_tx_end(app, r, f);
 done:
	json_decref(bot);
	kw_wipe(input->bot_secret, sizeof(input->bot_secret));
	return r;
}
