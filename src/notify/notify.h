/*
 * notify.h — telling people what happened, through a durable outbox.
 *
 * Producers call notify_*() inside the transaction of the change that
 * causes the message, so it is recorded exactly when the change is; the
 * sender (notify_flush(), run by the server's background thread and by
 * `keywarden jobs run`) delivers what is due, later.  An outage or a 429
 * only delays messages; none is lost, and the API call that caused one
 * never waits for the channel.
 *
 * An event first becomes a neutral notice (what happened, the link, plain
 * fields; see struct notice below); then each recipient gets it through
 * one channel, a table of functions (struct notifier_ops): Slack for
 * people with a slack_user_id (slack.c), e-mail for the others when SMTP
 * is configured (email.c).  The channel renders the notice (escaping
 * user text its own way) into the outbox payload, and sends it later.
 *
 * No message ever contains a secret: they carry links to keywarden.
 * Outbox recipients are Slack user ids, e-mail addresses or references to
 * a sealed setting (SLACK_WEBHOOK_REF); the channel's own secrets (bot
 * token, webhook URL, SMTP password) are unsealed only at send time.
 */
#ifndef KW_NOTIFY_H
#define KW_NOTIFY_H

#include <time.h>

#include <jansson.h>

#include "store/store.h"

struct crypto_keys;

/*
 * What notify needs from the application, passed in by its caller (the
 * core fills one per application): the keys that open the channels'
 * sealed settings, and the public URL that links in messages point to.
 */
struct notify_env {
	const struct crypto_keys	*keys;
	const char			*public_url;	/* no trailing '/' */
};

enum notify_event {
	NE_REQUEST_CREATED,	/* -> the requester's manager, with buttons */
	NE_REQUEST_REVIEW,	/* manager approved -> the instance's
				   provisioners, with buttons */
	NE_REQUEST_ISSUED,	/* -> the requester: reveal it, once */
	NE_REQUEST_DENIED,	/* -> the requester */
	NE_REQUEST_FAILED,	/* -> the requester */
	NE_REQUEST_EXPIRED,	/* -> the requester */
	NE_REQUEST_WITHDRAWN,	/* -> whoever was asked to decide */
	NE_CREDENTIAL_REVOKED,	/* -> the channel webhook (a record); the
				   provisioners, if fulfilled by hand */
};

/* Queue the messages for ev about request r (and its credential c, may
 * be NULL) in the caller's transaction.  Each person gets them by Slack
 * if they have a Slack user id and Slack is configured, else by e-mail if
 * SMTP is configured; otherwise nothing.  A message that
 * cannot be built is logged and skipped (0): only a store error is
 * returned (the caller's change then fails with it). */
int	 notify_request(const struct notify_env *env,
	    struct store *st, enum notify_event ev,
	    const struct request *r, const struct credential *c);

/* Queue one expiry digest for owner: items is an array of
 * {"credential_id", "name", "instance", "expires_at", "days_left",
 *  "rotation_due"} (borrowed). */
int	 notify_digest(const struct notify_env *env, struct store *st,
	    const struct person *owner, json_t *items);

/* Queue one legacy-token warning for a provisioner: items is an array of
 * {"instance", "name", "last_used_at", "deactivation_due", "shutdown",
 * "provider" (the SaaS's title)}, all of one instance. */
int	 notify_legacy(const struct notify_env *env, struct store *st,
	    const struct person *provisioner, json_t *items);

/* Queue the warning that owner's personal token t expires soon (a DM;
 * nothing for people without a Slack user id). */
int	 notify_token_expiry(const struct notify_env *env, struct store *st,
	    const struct person *owner, const struct token_rec *t);

/* Queue the update of a Slack message after a button was used. */
int	 notify_slack_response(const struct notify_env *env, struct store *st,
	    const char *response_url, const char *text);

/*
 * A neutral notice, as JSON built by notify.c and read by the renderers:
 *   {"kind": "request.created", "subject": "<one line>",
 *    "lead": "<plain text: what happened>",
 *    "fields": [{"label": "Why", "value": "..."}],   (optional)
 *    "items": ["<plain line>", ...],                   (optional; lists)
 *    "more": "<where the whole list is>",              (with items)
 *    "link": "<URL>", "link_label": "Open in keywarden",
 *    "decide": "<request id>"}                          (Approve/Deny)
 * Every string is plain UTF-8 as typed; a renderer escapes for its medium.
 */

/* What one delivery attempt came to (filled by a notifier's send). */
#define NOTIFY_ERROR_MAX	200
struct notify_attempt {
	int	 sent;
	int	 hold;		/* the destination is down or refuses us:
				   call it no more in this run */
	int	 permanent;	/* this message can never be delivered:
				   mark it failed, do not retry */
	long	 retry_after;	/* seconds the destination asked for, or -1 */
	char	 error[NOTIFY_ERROR_MAX];
};

/*
 * One channel.  load reads and opens its settings (settings_size bytes,
 * the secrets included) into out: 0, or an error when the channel is not
 * configured or its settings cannot be read; wipe clears them (notify.c
 * opens, keeps for a run and wipes a channel's settings, the same way for
 * every channel).  address gives the outbox recipient for person p (0) or
 * says p cannot be reached this way (-1); render turns a notice
 * (borrowed) into the outbox payload (a new reference, or NULL when it
 * cannot be built); send delivers one claimed message (payload borrowed)
 * with the settings load filled, and fills a.
 */
struct notifier_ops {
	const char	*name;		/* "slack", "email" */
	const char	*channel;	/* outbox channel of its messages to
					   people */
	size_t	 settings_size;
	int	 (*load)(const struct crypto_keys *, struct store *,
		    void *out);
	void	 (*wipe)(void *settings);
	int	 (*address)(const struct person *p, char *out, size_t outsz);
	json_t	*(*render)(const json_t *notice);
	void	 (*send)(const void *settings, const struct outbox_msg *m,
		    json_t *payload, struct notify_attempt *a);
};

extern const struct notifier_ops notifier_slack;
extern const struct notifier_ops notifier_email;

/* For a channel's settings: copy o's string member key into out (outsz
 * bytes, terminator included).  0, or -1 when it is missing, not a
 * string or too long. */
int	 notify_setting_str(json_t *o, const char *key, char *out,
	    size_t outsz);

struct notify_report {
	int	sent;
	int	retried;	/* failed this time, will be tried again */
	int	failed;		/* refused for good (invalid_blocks,
				   user_not_found, ...): not retried */
	int	pending;	/* left in the outbox after this run */
};

/* Deliver what is due at now.  Safe to run from several processes at
 * once (messages are claimed with a lease). */
int	 notify_flush(const struct notify_env *env,
	    struct store *st, time_t now,
	    struct notify_report *rep);

#endif /* KW_NOTIFY_H */
