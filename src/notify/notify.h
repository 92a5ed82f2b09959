/*
 * notify.h — telling people what happened, through a durable outbox.
 *
 * Producers call notify_*() inside the transaction of the change that
 * causes the message, so it is recorded exactly when the change is; the
 * sender (notify_flush(), run by the server's background thread and by
 * `keywarden jobs run`) delivers what is due, later, through Slack.  An
 * outage or a 429 only delays messages; none is lost, and the API call
 * that caused one never waits for Slack.
 *
 * No message ever contains a secret: they carry links to keywarden.  The
 * channel webhook's URL is not stored with its messages either (they name
 * the setting, SLACK_WEBHOOK_REF).  Every user-supplied string is escaped
 * for Slack (slack_mrkdwn_printf) and every message stays within Block
 * Kit's limits.
 */
#ifndef KW_NOTIFY_H
#define KW_NOTIFY_H

#include <time.h>

#include <jansson.h>

#include "store/store.h"

struct app;

enum notify_event {
	NE_REQUEST_CREATED,	/* -> the requester's manager, with buttons */
	NE_REQUEST_REVIEW,	/* manager approved -> the instance's
				   provisioners, with buttons */
	NE_REQUEST_ISSUED,	/* -> the requester: reveal it, once */
	NE_REQUEST_DENIED,	/* -> the requester */
	NE_REQUEST_FAILED,	/* -> the requester */
	NE_REQUEST_EXPIRED,	/* -> the requester */
	NE_CREDENTIAL_REVOKED,	/* -> the channel webhook (a record) */
};

/* Queue the messages for ev about request r (and its credential c, may
 * be NULL) in the caller's transaction.  People without a Slack user id,
 * or a keywarden without Slack settings, get nothing.  A message that
 * cannot be built is logged and skipped (0): only a store error is
 * returned (the caller's change then fails with it). */
int	 notify_request(struct app *app, struct store *st, enum notify_event ev,
	    const struct request *r, const struct credential *c);

/* Queue one expiry digest for owner: items is an array of
 * {"credential_id", "name", "instance", "expires_at", "days_left",
 *  "rotation_due"} (borrowed). */
int	 notify_digest(struct app *app, struct store *st,
	    const struct person *owner, json_t *items);

/* Queue one legacy-token warning for a provisioner: items is an array of
 * {"instance", "name", "last_used_at", "deactivation_due", "shutdown"}. */
int	 notify_legacy(struct app *app, struct store *st,
	    const struct person *provisioner, json_t *items);

/* Queue the warning that owner's personal token t expires soon (a DM;
 * nothing for people without a Slack user id). */
int	 notify_token_expiry(struct app *app, struct store *st,
	    const struct person *owner, const struct token_rec *t);

/* Queue the update of a Slack message after a button was used. */
int	 notify_slack_response(struct app *app, struct store *st,
	    const char *response_url, const char *text);

struct notify_report {
	int	sent;
	int	retried;	/* failed this time, will be tried again */
	int	failed;		/* refused for good (invalid_blocks,
				   user_not_found, ...): not retried */
	int	pending;	/* left in the outbox after this run */
};

/* Deliver what is due at now.  Safe to run from several processes at
 * once (messages are claimed with a lease). */
int	 notify_flush(struct app *app, struct store *st, time_t now,
	    struct notify_report *rep);

#endif /* KW_NOTIFY_H */
