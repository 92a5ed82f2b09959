/*
 * notify.c — what keywarden tells whom: builds the Slack messages (text
 * plus Block Kit) for each event and queues them in the outbox, inside
 * the caller's transaction.  Delivery is slack.c's job.  Messages carry
 * names, states and links; never a secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "util/buf.h"
#include "util/util.h"

#define NOTIFY_TEXT_MAX	(32 * 1024)	/* one message's text, bytes */

/* 1 if Slack is configured; *webhook_set tells whether it has a channel
 * webhook (whose URL stays sealed in the settings: see SLACK_WEBHOOK_REF). */
static int
slack_configured(struct app *app, struct store *st, int *webhook_set)
{
	struct slack_settings	*s;
	int			 yes;

	*webhook_set = 0;
	if ((s = malloc(sizeof(*s))) == NULL)
		return 0;
	if ((yes = slack_settings_load(app, st, s) == 0))
		*webhook_set = s->webhook_url[0] != '\0';
	slack_settings_wipe(s);
	free(s);
	return yes;
}

/*
 * Queue payload (consumed) for recipient on channel.  A message that
 * could not be built (payload NULL) is logged and skipped: a
 * notification never fails the change that caused it.  Store errors are
 * returned (the caller's transaction fails with them).
 */
static int
enqueue(struct store *st, const char *channel, const char *recipient,
    const char *kind, json_t *payload)
{
	struct outbox_msg	m;
	int			r;

	memset(&m, 0, sizeof(m));
	if (payload == NULL ||
	    (m.payload = json_dumps(payload, JSON_COMPACT)) == NULL) {
		json_decref(payload);
		log_msg("error", "notify: a %s message could not be built; "
		    "it is skipped", kind);
		return 0;
	}
	json_decref(payload);
	crypto_random_id("msg_", m.id, sizeof(m.id));
	kw_strlcpy(m.channel, channel, sizeof(m.channel));
	kw_strlcpy(m.recipient, recipient, sizeof(m.recipient));
	kw_strlcpy(m.kind, kind, sizeof(m.kind));
	kw_time_fmt(kw_now(), m.created_at, sizeof(m.created_at));
	r = store_outbox_insert(st, &m);
	free(m.payload);
	return r;
}

/* Queue a DM to person id if they have a Slack user id. */
static int
dm(struct store *st, const char *person_id, const char *kind, json_t *payload)
{
	struct person p;

	if (person_id[0] == '\0' || store_person_get(st, person_id, &p) != 0 ||
	    p.slack_user_id[0] == '\0' || !p.active) {
		json_decref(payload);
		return 0;
	}
	return enqueue(st, "slack_dm", p.slack_user_id, kind, payload);
}

/* A section block of mrkdwn text, cut (between characters and entities,
 * "…" marking the cut) to what Slack accepts in one section.  NULL if it
 * cannot be built. */
static json_t *
section(const char *mrkdwn)
{
	char	*cut;
	size_t	 n = strlen(mrkdwn);
	json_t	*o;

	if (n <= SLACK_SECTION_MAX)
		return json_pack("{s:s, s:{s:s, s:s}}", "type", "section",
		    "text", "type", "mrkdwn", "text", mrkdwn);
	/* bytes >= characters: SLACK_SECTION_MAX - 3 bytes and "…" fit */
	n = slack_mrkdwn_cut(mrkdwn, SLACK_SECTION_MAX - 3);
	if ((cut = malloc(n + 4)) == NULL)
		return NULL;
	memcpy(cut, mrkdwn, n);
	memcpy(cut + n, "\u2026", 4);
	o = json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
	    "type", "mrkdwn", "text", cut);
	free(cut);
	return o;
}

static json_t *
button(const char *label, const char *action, const char *value,
    const char *url, const char *style)
{
	json_t *b = json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "button",
	    "text", "type", "plain_text", "text", label, "action_id", action);

	if (b == NULL)
		return NULL;
	if (value != NULL)
		json_object_set_new(b, "value", json_string(value));
	if (url != NULL)
		json_object_set_new(b, "url", json_string(url));
	if (style != NULL)
		json_object_set_new(b, "style", json_string(style));
	return b;
}

/* {"text": text, "blocks": blocks (consumed)}, or NULL. */
static json_t *
message(const char *text, json_t *blocks)
{
	if (blocks == NULL)
		return NULL;
	return json_pack("{s:s, s:o}", "text", text, "blocks", blocks);
}

/* The decision message: what is asked, by whom, why; Approve / Deny
 * buttons (value: the request id) and a link to keywarden.  NULL if it
 * cannot be built. */
static json_t *
decision_message(struct app *app, const struct request *r, const char *lead)
{
	struct buf	 head, why, use, text;
	char		 url[KW_URL_MAX + 64];
	json_t		*m = NULL;
	size_t		 i;

	buf_init(&head, NOTIFY_TEXT_MAX);
	buf_init(&why, NOTIFY_TEXT_MAX);
	buf_init(&use, NOTIFY_TEXT_MAX);
	buf_init(&text, NOTIFY_TEXT_MAX);
	snprintf(url, sizeof(url), "%s/requests/%s", app->public_url, r->id);
	slack_mrkdwn_printf(&head, "%s\n*%s* asks for an *%s* on *%s* for %d "
	    "days", lead, r->requester_email, r->kind == KIND_INTEGRATION ?
	    "integration" : "API token", r->instance_name, r->lifetime_days);
	for (i = 0; i < r->nscopes; i++)
		slack_mrkdwn_printf(&head, "%s`%s`", i ? ", " : ", scopes ",
		    r->scopes[i]);
	slack_mrkdwn_printf(&head, ".");
	slack_mrkdwn_printf(&why, "*Why:* %.*s", SLACK_FIELD_SHOWN_MAX,
	    r->justification);
	slack_mrkdwn_printf(&use, "*Use:* %.*s", SLACK_FIELD_SHOWN_MAX,
	    r->use_case);
	buf_printf(&text, "%s\n%s\n%s", buf_str(&head), buf_str(&why),
	    buf_str(&use));
	if (buf_err(&head) == 0 && buf_err(&why) == 0 && buf_err(&use) == 0 &&
	    buf_err(&text) == 0)
		m = message(buf_str(&text), json_pack("[o, o, o, {s:s, "
		    "s:[o, o, o]}]", section(buf_str(&head)),
		    section(buf_str(&why)), section(buf_str(&use)), "type",
		    "actions", "elements", button("Approve", "approve", r->id,
		    NULL, "primary"), button("Deny", "deny", r->id, NULL,
		    "danger"), button("Open in keywarden", "open", NULL, url,
		    NULL)));
	buf_free(&head);
	buf_free(&why);
	buf_free(&use);
	buf_free(&text);
	return m;
}

/* A one-section message of the mrkdwn text in t (freed), or NULL. */
static json_t *
plain_message(struct buf *t)
{
	json_t *m = NULL;

	if (buf_err(t) == 0)
		m = message(buf_str(t), json_pack("[o]", section(buf_str(t))));
	buf_free(t);
	return m;
}

struct last_entry {
	struct history_entry h;
};

static int
keep_last(const struct history_entry *h, void *arg)
{
	((struct last_entry *)arg)->h = *h;
	return 0;
}

/* The provisioners who may review r (not the requester, not the manager
 * approver). */
static int
review_dms(struct app *app, struct store *st, const struct request *r)
{
	struct instance	*in;
	size_t		 i;
	int		 res = 0;

	if ((in = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	if (store_instance_get(st, r->instance_id, in) == 0)
		for (i = 0; res == 0 && i < in->nprovisioners; i++) {
			const char *id = in->provisioners[i].id;
			if (strcmp(id, r->requester_id) == 0 ||
			    strcmp(id, r->manager_approver_id) == 0)
				continue;
			res = dm(st, id, "request.review", decision_message(app,
			    r, "A request waits for your review (manager "
			    "approved)."));
		}
	kw_wipe(in, sizeof(*in));
	free(in);
	return res;
}

/* "Your ... is ready": how to get at it depends on its delivery mode;
 * a token the instance expires early says so.  Never a secret. */
static void
issued_text(const struct app *app, const struct request *r,
    const struct credential *c, struct buf *t)
{
	json_t		*ext;
	const char	*at;

	if (c != NULL && c->kind == KIND_API_TOKEN &&
	    c->delivery_mode == DM_BROKER) {
		slack_mrkdwn_printf(t, "Your broker credential for *%s* is "
		    "ready (request %s). keywarden keeps its secret: get "
		    "short-lived access tokens with `keywarden credential "
		    "token %s` (or `keywarden credential exec %s -- CMD`), or "
		    "make a bound token for a script. It is named %s on the "
		    "instance.", r->instance_name, r->id, r->credential_id,
		    r->credential_id, r->link);
		return;
	}
	slack_mrkdwn_printf(t, "Your %s for *%s* is ready (request %s). "
	    "Reveal it *once*, within the delivery window, at "
	    "%s/credentials/%s or with `keywarden credential reveal %s`. It "
	    "is named %s on the instance.",
	    r->kind == KIND_INTEGRATION ? "integration" : c != NULL &&
	    c->delivery_mode == DM_CLIENT_SECRET ? "OAuth client" :
	    "API token", r->instance_name, r->id, app->public_url,
	    r->credential_id, r->credential_id, r->link);
	if (c == NULL || c->kind != KIND_API_TOKEN)
		return;
	ext = json_loads(c->external[0] ? c->external : "{}", 0, NULL);
	at = json_string_value(json_object_get(ext, "expires_at"));
	if (at != NULL && strcmp(at, c->expires_at) == 0)
		slack_mrkdwn_printf(t, " Note: the instance expires this token "
		    "at %s, before its approved lifetime ends; the credential "
		    "expires then too.", c->expires_at);
	json_decref(ext);
}

int
notify_request(struct app *app, struct store *st, enum notify_event ev,
    const struct request *r, const struct credential *c)
{
	struct last_entry	 last;
	struct buf		 t;
	int			 webhook, res = 0;

	if (!slack_configured(app, st, &webhook))
		return 0;
	memset(&last, 0, sizeof(last));
	if (r != NULL && (ev == NE_REQUEST_DENIED || ev == NE_REQUEST_FAILED))
		store_history_each(st, r->id, keep_last, &last);
	buf_init(&t, NOTIFY_TEXT_MAX);
	switch (ev) {
	case NE_REQUEST_CREATED:
		buf_free(&t);
		return dm(st, r->manager_id, "request.created",
		    decision_message(app, r, "A request from your report "
		    "waits for your approval."));
	case NE_REQUEST_REVIEW:
		buf_free(&t);
		return review_dms(app, st, r);
	case NE_REQUEST_ISSUED:
		issued_text(app, r, c, &t);
		res = dm(st, r->requester_id, "request.issued",
		    plain_message(&t));
		if (res == 0 && webhook) {
			buf_init(&t, NOTIFY_TEXT_MAX);
			slack_mrkdwn_printf(&t, "keywarden issued %s (%s) on %s "
			    "to %s: %s", r->credential_id,
			    r->kind == KIND_INTEGRATION ? "integration" :
			    "api_token", r->instance_name, r->requester_email,
			    r->link);
			res = enqueue(st, "webhook", SLACK_WEBHOOK_REF,
			    "record.issued", plain_message(&t));
		}
		return res;
	case NE_REQUEST_DENIED:
		slack_mrkdwn_printf(&t, "Your request %s for *%s* was denied by "
		    "%s: %.*s", r->id, r->instance_name, last.h.actor,
		    SLACK_FIELD_SHOWN_MAX, last.h.comment);
		return dm(st, r->requester_id, "request.denied",
		    plain_message(&t));
	case NE_REQUEST_FAILED:
		slack_mrkdwn_printf(&t, "Keywarden could not issue your request "
		    "%s on *%s*: %.*s. Nothing was left on the instance; file "
		    "a new request when it is fixed.", r->id, r->instance_name,
		    SLACK_FIELD_SHOWN_MAX, last.h.comment);
		return dm(st, r->requester_id, "request.failed",
		    plain_message(&t));
	case NE_REQUEST_EXPIRED:
		slack_mrkdwn_printf(&t, "Your request %s for *%s* expired "
		    "without a decision (%s).", r->id, r->instance_name,
		    app->public_url);
		return dm(st, r->requester_id, "request.expired",
		    plain_message(&t));
	case NE_CREDENTIAL_REVOKED:
		if (c == NULL || !webhook)
			break;
		slack_mrkdwn_printf(&t, "keywarden revoked %s on %s (owner %s): "
		    "%.*s", c->id, c->instance_name, c->owner_email,
		    SLACK_FIELD_SHOWN_MAX, c->revoke_reason);
		return enqueue(st, "webhook", SLACK_WEBHOOK_REF,
		    "record.revoked", plain_message(&t));
	}
	buf_free(&t);
	return 0;
}

/*
 * A list message: a lead section, one section per item (line() writes
 * item i's text) and, past what one message may hold (SLACK_BLOCKS_MAX),
 * a last section that counts the rest and sends the reader to keywarden.
 * NULL if it cannot be built.
 */
static json_t *
list_message(const char *fallback, const char *lead,
    json_t *items, void (*line)(struct buf *, json_t *), const char *where)
{
	struct buf	 t;
	json_t		*blocks, *it;
	size_t		 i, n = json_array_size(items);
	size_t		 shown = n;

	if (shown > SLACK_BLOCKS_MAX - 1)
		shown = SLACK_BLOCKS_MAX - 2;	/* lead + items + the rest */
	if ((blocks = json_array()) == NULL ||
	    json_array_append_new(blocks, section(lead)) != 0)
		goto fail;
	json_array_foreach(items, i, it) {
		if (i >= shown)
			break;
		buf_init(&t, NOTIFY_TEXT_MAX);
		line(&t, it);
		if (buf_err(&t) != 0 ||
		    json_array_append_new(blocks, section(buf_str(&t))) != 0) {
			buf_free(&t);
			goto fail;
		}
		buf_free(&t);
	}
	if (shown < n) {
		buf_init(&t, NOTIFY_TEXT_MAX);
		slack_mrkdwn_printf(&t, "\u2026 and %zu more: see them all in "
		    "keywarden, %s", n - shown, where);
		if (buf_err(&t) != 0 ||
		    json_array_append_new(blocks, section(buf_str(&t))) != 0) {
			buf_free(&t);
			goto fail;
		}
		buf_free(&t);
	}
	return message(fallback, blocks);
 fail:
	json_decref(blocks);
	return NULL;
}

static const char *
item_str(json_t *it, const char *key)
{
	return json_string_value(json_object_get(it, key));
}

static void
digest_line(struct buf *t, json_t *it)
{
	slack_mrkdwn_printf(t, "\u2022 `%s` on *%s* (%s): expires in %lld "
	    "day(s)%s", item_str(it, "credential_id"), item_str(it,
	    "instance"), item_str(it, "name"),
	    (long long)json_integer_value(json_object_get(it, "days_left")),
	    json_is_true(json_object_get(it, "rotation_due")) ?
	    "; rotation due" : "");
}

int
notify_digest(struct app *app, struct store *st, const struct person *owner,
    json_t *items)
{
	struct buf	 lead, fallback, where;
	json_t		*m = NULL;
	size_t		 n = json_array_size(items);
	int		 webhook;

	if (n == 0 || owner->slack_user_id[0] == '\0' ||
	    !slack_configured(app, st, &webhook))
		return 0;
	buf_init(&lead, NOTIFY_TEXT_MAX);
	buf_init(&fallback, NOTIFY_TEXT_MAX);
	buf_init(&where, NOTIFY_TEXT_MAX);
	slack_mrkdwn_printf(&lead, "%zu of your keywarden credentials need "
	    "attention. Rotate them at %s or with `keywarden credential "
	    "rotate ID`.", n, app->public_url);
	slack_mrkdwn_printf(&fallback, "%zu of your keywarden credentials "
	    "need attention", n);
	slack_mrkdwn_printf(&where, "%s/credentials or `keywarden credential "
	    "list`", app->public_url);
	if (buf_err(&lead) == 0 && buf_err(&fallback) == 0 &&
	    buf_err(&where) == 0)
		m = list_message(buf_str(&fallback), buf_str(&lead), items,
		    digest_line, buf_str(&where));
	buf_free(&lead);
	buf_free(&fallback);
	buf_free(&where);
	return enqueue(st, "slack_dm", owner->slack_user_id, "digest", m);
}

static void
legacy_line(struct buf *t, json_t *it)
{
	slack_mrkdwn_printf(t, "\u2022 *%s* on %s: deactivated for inactivity "
	    "on %s, switched off for good on %s", item_str(it, "name"),
	    item_str(it, "instance"), item_str(it, "deactivation_due"),
	    item_str(it, "shutdown"));
}

int
notify_legacy(struct app *app, struct store *st,
    const struct person *provisioner, json_t *items)
{
	struct buf	 lead, fallback, where;
	json_t		*m = NULL;
	size_t		 n = json_array_size(items);
	int		 webhook;

	if (n == 0 || provisioner->slack_user_id[0] == '\0' ||
	    !slack_configured(app, st, &webhook))
		return 0;
	buf_init(&lead, NOTIFY_TEXT_MAX);
	buf_init(&fallback, NOTIFY_TEXT_MAX);
	buf_init(&where, NOTIFY_TEXT_MAX);
	slack_mrkdwn_printf(&lead, "%zu legacy Zendesk API tokens are close to "
	    "being switched off. See %s (migration report) and replace them "
	    "with keywarden credentials.", n, app->public_url);
	slack_mrkdwn_printf(&fallback, "%zu legacy API tokens need migration",
	    n);
	slack_mrkdwn_printf(&where, "in the migration report (%s/reports/"
	    "migration or `keywarden report migration`)", app->public_url);
	if (buf_err(&lead) == 0 && buf_err(&fallback) == 0 &&
	    buf_err(&where) == 0)
		m = list_message(buf_str(&fallback), buf_str(&lead), items,
		    legacy_line, buf_str(&where));
	buf_free(&lead);
	buf_free(&fallback);
	buf_free(&where);
	return enqueue(st, "slack_dm", provisioner->slack_user_id,
	    "legacy.warning", m);
}

int
notify_slack_response(struct app *app, struct store *st,
    const char *response_url, const char *text)
{
	int webhook;

	if (!slack_configured(app, st, &webhook))
		return 0;
	return enqueue(st, "response", response_url, "slack.response",
	    json_pack("{s:b, s:s}", "replace_original", 1, "text", text));
}
