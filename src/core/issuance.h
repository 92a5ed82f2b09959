/*
 * issuance.h — minting a credential on its instance, revoking it there,
 * and reconciling what the instance holds with what keywarden recorded.
 *
 * The order is what makes a crash harmless: the intent (a pending
 * credential, its request in `issuing`) is committed before the instance
 * is called; the outcome is committed after.  Whatever a crash leaves in
 * between, reconciliation finishes or removes: a keywarden-<id> client
 * with an intent is adopted, one without a record is deleted.
 */
#ifndef KW_CORE_ISSUANCE_H
#define KW_CORE_ISSUANCE_H

#include "core/app.h"
#include "provider/provider.h"

struct issuance_outcome {
	int			issued;		/* 1: live and sealed */
	struct provider_error	perr;		/* when not */
	char			credential_id[KW_ID_MAX + 1];
};

/* Everything needed to call one instance, its bot token opened. */
struct issuance_conn {
	const struct provider_ops	*ops;
	struct provider_target		 t;
	struct app			*app;
	struct instance			 in;
	struct provider_error		 perr;	/* why the bot has no token */
	char				 url[KW_URL_MAX + 1];
	char				 bot[KW_BOT_TOKEN_MAX + 1];
	char				 name[KW_INSTANCE_NAME_MAX + 1];
};

/* Open the instance's bot credential and set up the call parameters
 * (the server's upstream timeout and attempts).  A static token is
 * unsealed; a client_credentials bot gets its cached access token, or a
 * fresh one from the instance (KW_ERR_UPSTREAM with c->perr filled when
 * that fails).  Close with issuance_conn_close(), which wipes the token.
 * 0 or a KW_ERR_*. */
int	 issuance_conn_open(struct app *app, const struct instance *in,
	    struct issuance_conn *c);
void	 issuance_conn_close(struct issuance_conn *c);

/* 1 if keywarden can mint on this instance (automatic issuance, an
 * Integration-bot credential, a known provider). */
int	 issuance_automatic(const struct instance *in);

/*
 * Mint the credential of request_id (in state `issuing`, its credential
 * pending) and record the outcome: issued, or failed with the instance's
 * error in the request's history.  adopt_client_id, when not NULL, is
 * the instance's id of a client that already exists for it (found by
 * reconciliation).  a is who/what caused it (the audit log's actor).
 * Returns 0 when the outcome was recorded (see out->issued), or a store
 * error (the request then stays `issuing` for reconciliation).
 */
int	 issuance_run(struct app *app, struct store *st, const struct actor *a,
	    const char *request_id, const char *adopt_client_id,
	    struct issuance_outcome *out);

/*
 * Revoke credential id: on the instance first (when it lives there),
 * then in the store with its audit event.  KW_ERR_CONFLICT when it is not
 * active or is a legacy token (those are revoked on the SaaS itself),
 * KW_ERR_UPSTREAM (perr filled) when the instance refused or
 * could not be reached: the credential then stays active.
 */
int	 issuance_revoke(struct app *app, struct store *st,
	    const struct actor *a, const char *id, const char *reason,
	    struct provider_error *perr);

/* The same, ending the credential as `to` (CS_REVOKED or CS_EXPIRED). */
int	 issuance_end(struct app *app, struct store *st, const struct actor *a,
	    const char *id, enum cred_state to, const char *reason,
	    struct provider_error *perr);

/*
 * The broker: a short-lived access token for broker credential c (active,
 * its client secret sealed) on instance in, by the client_credentials
 * grant with c's scopes, for ttl_s seconds.  Nothing is recorded here.
 * 0 (res filled; wipe it), KW_ERR_CONFLICT (no secret held),
 * KW_ERR_CONFIG (the instance's URL is no longer the one the client was
 * made at: the secret is not sent to another address),
 * KW_ERR_UPSTREAM (perr filled; a 429 carries perr->retry_after).
 */
int	 issuance_access_token(struct app *app, const struct credential *c,
	    const struct instance *in, long ttl_s, struct grant_result *res,
	    struct provider_error *perr);

/*
 * Rotate broker credential id in place: the instance gives its client a
 * new secret (the old one stops working), which is sealed in its stead,
 * with a credential.rotate event.  Holders notice nothing: same id, same
 * bound tokens.  KW_ERR_CONFLICT when it is not an active broker
 * credential minted on an automatic instance; KW_ERR_UPSTREAM (perr).
 */
int	 issuance_rotate_broker(struct app *app, struct store *st,
	    const struct actor *a, const char *id, struct provider_error *perr);

/* Summary of one reconciliation pass. */
struct reconcile_report {
	int	instances;
	int	adopted;	/* intents finished */
	int	failed;		/* intents that could not be finished */
	int	orphans_deleted;	/* clients with no record */
	int	leftovers_deleted;	/* clients of revoked credentials */
	int	missing;	/* active credentials gone from the instance */
	int	errors;		/* instances that could not be checked */
};

/* Compare every automatic instance with the store and mend the
 * differences (see above).  Safe to run while requests are served. */
int	 issuance_reconcile(struct app *app, struct store *st,
	    struct reconcile_report *rep);

#endif /* KW_CORE_ISSUANCE_H */
