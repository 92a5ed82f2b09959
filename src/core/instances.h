/*
 * instances.h — the SaaS instances keywarden governs: their creation and
 * changes (policy, provisioners, the Integration bot's credential, sealed
 * at rest and bound to the instance and its URL), and opening that
 * credential to call the instance.
 */
#ifndef KW_CORE_INSTANCES_H
#define KW_CORE_INSTANCES_H

#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "core/app.h"
#include "store/store.h"

/* The fields of an instance a change gives (bits of instance_input.given). */
enum instance_field {
	IF_NAME			= 1u << 0,
	IF_DISPLAY_NAME		= 1u << 1,
	IF_PROVIDER		= 1u << 2,
	IF_URL			= 1u << 3,
	IF_PROVISIONERS		= 1u << 4,
	IF_ALLOW_INTEGRATIONS	= 1u << 5,
	IF_ISSUANCE		= 1u << 6,
	IF_ALLOWED_SCOPES	= 1u << 7,	/* with scopes_restricted */
	IF_MAX_LIFETIME_DAYS	= 1u << 8,
	IF_ROTATION_DAYS	= 1u << 9,
	IF_GRACE_DAYS		= 1u << 10,
	IF_WARN_DAYS		= 1u << 11,
	IF_DEFAULT_DELIVERY	= 1u << 12,
	IF_ALLOWED_DELIVERIES	= 1u << 13,
	IF_MAX_ACCESS_TTL	= 1u << 14,
	IF_BOT			= 1u << 15,
};

/*
 * A change to an instance, as a front door read it: the given fields'
 * values in v, provisioners as the emails or ids given (resolved here),
 * and the bot: none (bot_email ""), or bot_email with a static token or
 * with bot_client_id and its client secret in bot_secret (plaintext:
 * sealed here, then wiped).  fields names the fields given, in the order
 * given, for the audit event (not consumed).
 */
struct instance_input {
	unsigned	 given;
	struct instance	 v;
	size_t		 nprovisioners;
	char		 provisioners[KW_PROVISIONERS_MAX][KW_EMAIL_MAX + 1];
	char		 bot_email[KW_EMAIL_MAX + 1];
	char		 bot_client_id[KW_CLIENT_IDENT_MAX + 1];
	char		 bot_secret[KW_BOT_TOKEN_MAX + 1];
	json_t		*fields;
};

/* Instance key (id or name) into in (anyone signed in sees instances);
 * KW_ERR_NOT_FOUND with f filled when there is none. */
int	 instance_get(struct app *app, const char *key, struct instance *in,
	    struct kw_fail *f);
/* Admin a creates instance in from input (defaults for what it does not
 * give; name and url required); instance.create.  0 with out the new
 * instance (wipe it). */
int	 instance_create(struct app *app, struct actor *a,
	    struct instance_input *input, struct instance *out,
	    struct kw_fail *f);
/* Admin a changes instance key (id or name) as input gives;
 * instance.update.  A bot credential is sent only to the URL it was given
 * for: moving an instance that holds one to another URL must give it
 * again (KW_ERR_VALIDATION on "bot").  0 with out the instance now. */
int	 instance_update(struct app *app, struct actor *a, const char *key,
	    struct instance_input *input, struct instance *out,
	    struct kw_fail *f);

/* Open instance in's Integration-bot token into out (wipe it after). */
int	 instance_bot_token(const struct app *app, const struct instance *in,
	    char *out, size_t outsz);

#endif /* KW_CORE_INSTANCES_H */
