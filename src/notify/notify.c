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
#include "api/api.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "util/util.h"

/* 1 if Slack is configured; *webhook gets its channel webhook or "". */
static int
slack_configured(struct app *app, struct store *st, char *webhook,
    size_t webhooksz)
{
	struct slack_settings	*s;
	int			 yes;

	webhook[0] = '\0';
	if ((s = malloc(sizeof(*s))) == NULL)
		return 0;
	if ((yes = slack_settings_load(app, st, s) == 0))
		kw_strlcpy(webhook, s->webhook_url, webhooksz);
	slack_settings_wipe(s);
	free(s);
	return yes;
}

/* Queue payload (consumed) for recipient on channel. */
static int
enqueue(struct store *st, const char *channel, const char *recipient,
    const char *kind, json_t *payload)
{
	struct outbox_msg	m;
	int			r;

	memset(&m, 0, sizeof(m));
	if (payload == NULL)
		return KW_ERR_NOMEM;
	crypto_random_id("msg_", m.id, sizeof(m.id));
	kw_strlcpy(m.channel, channel, sizeof(m.channel));
	kw_strlcpy(m.recipient, recipient, sizeof(m.recipient));
	kw_strlcpy(m.kind, kind, sizeof(m.kind));
	kw_time_fmt(kw_now(), m.created_at, sizeof(m.created_at));
	m.payload = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);
	if (m.payload == NULL)
		return KW_ERR_NOMEM;
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

static json_t *
section(const char *mrkdwn)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
	    "type", "mrkdwn", "text", mrkdwn);
}

static json_t *
button(const char *label, const char *action, const char *value,
    const char *url, const char *style)
{
	json_t *b = json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "button",
	    "text", "type", "plain_text", "text", label, "action_id", action);

	if (value != NULL)
		json_object_set_new(b, "value", json_string(value));
	if (url != NULL)
		json_object_set_new(b, "url", json_string(url));
	if (style != NULL)
		json_object_set_new(b, "style", json_string(style));
	return b;
}

static json_t *
message(const char *text, json_t *blocks)
{
	return json_pack("{s:s, s:o}", "text", text, "blocks", blocks);
}

/* The decision message: what is asked, by whom, why; Approve / Deny
 * buttons (value: the request id) and a link to keywarden. */
static json_t *
decision_message(struct app *app, const struct request *r, const char *lead)
{
	char	 text[KW_TEXT_MAX + 1024], url[KW_URL_MAX + 64];
	size_t	 i;
	int	 n;

	snprintf(url, sizeof(url), "%s/requests/%s", app->public_url, r->id);
	n = snprintf(text, sizeof(text), "%s\n*%s* asks for an *%s* on *%s* "
	    "for %d days", lead, r->requester_email, r->kind ==
	    KIND_INTEGRATION ? "integration" : "API token", r->instance_name,
	    r->lifetime_days);
	for (i = 0; i < r->nscopes && n > 0 && (size_t)n < sizeof(text); i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s`%s`",
		    i ? ", " : ", scopes ", r->scopes[i]);
	if (n > 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n,
		    ".\n*Why:* %.1000s\n*Use:* %.1000s", r->justification,
		    r->use_case);
	return message(text, json_pack("[o, {s:s, s:[o, o, o]}]",
	    section(text), "type", "actions", "elements",
	    button("Approve", "approve", r->id, NULL, "primary"),
	    button("Deny", "deny", r->id, NULL, "danger"),
	    button("Open in keywarden", "open", NULL, url, NULL)));
}

static json_t *
plain_message(const char *text)
{
	return message(text, json_pack("[o]", section(text)));
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

int
notify_request(struct app *app, struct store *st, enum notify_event ev,
    const struct request *r, const struct credential *c)
{
	struct last_entry	 last;
	char			 webhook[KW_URL_MAX + 1];
	char			 text[2 * KW_URL_MAX + KW_COMMENT_MAX + 256];
	int			 res = 0;

	if (!slack_configured(app, st, webhook, sizeof(webhook)))
		return 0;
	memset(&last, 0, sizeof(last));
	if (r != NULL && (ev == NE_REQUEST_DENIED || ev == NE_REQUEST_FAILED))
		store_history_each(st, r->id, keep_last, &last);
	switch (ev) {
	case NE_REQUEST_CREATED:
		return dm(st, r->manager_id, "request.created",
		    decision_message(app, r, "A request from your report "
		    "waits for your approval."));
	case NE_REQUEST_REVIEW:
		return review_dms(app, st, r);
	case NE_REQUEST_ISSUED:
		snprintf(text, sizeof(text), "Your %s for *%s* is ready "
		    "(request %s). Reveal it *once*, within the delivery "
		    "window, at %s/credentials/%s or with `keywarden credential "
		    "reveal %s`. It is named %s on the instance.",
		    r->kind == KIND_INTEGRATION ? "integration" : "API token",
		    r->instance_name, r->id, app->public_url, r->credential_id,
		    r->credential_id, r->link);
		res = dm(st, r->requester_id, "request.issued",
		    plain_message(text));
		if (res == 0 && webhook[0] != '\0') {
			snprintf(text, sizeof(text), "keywarden issued %s "
			    "(%s) on %s to %s: %s", r->credential_id,
			    r->kind == KIND_INTEGRATION ? "integration" :
			    "api_token", r->instance_name, r->requester_email,
			    r->link);
			res = enqueue(st, "webhook", webhook, "record.issued",
			    plain_message(text));
		}
		return res;
	case NE_REQUEST_DENIED:
		snprintf(text, sizeof(text), "Your request %s for *%s* was "
		    "denied by %s: %s", r->id, r->instance_name, last.h.actor,
		    last.h.comment);
		return dm(st, r->requester_id, "request.denied",
		    plain_message(text));
	case NE_REQUEST_FAILED:
		snprintf(text, sizeof(text), "Keywarden could not issue your "
		    "request %s on *%s*: %s. Nothing was left on the instance; "
		    "file a new request when it is fixed.", r->id,
		    r->instance_name, last.h.comment);
		return dm(st, r->requester_id, "request.failed",
		    plain_message(text));
	case NE_REQUEST_EXPIRED:
		snprintf(text, sizeof(text), "Your request %s for *%s* expired "
		    "without a decision (%s).", r->id, r->instance_name,
		    app->public_url);
		return dm(st, r->requester_id, "request.expired",
		    plain_message(text));
	case NE_CREDENTIAL_REVOKED:
		if (c == NULL || webhook[0] == '\0')
			return 0;
		snprintf(text, sizeof(text), "keywarden revoked %s on %s "
		    "(owner %s): %s", c->id, c->instance_name, c->owner_email,
		    c->revoke_reason);
		return enqueue(st, "webhook", webhook, "record.revoked",
		    plain_message(text));
	}
	return 0;
}

int
notify_digest(struct app *app, struct store *st, const struct person *owner,
    json_t *items)
{
	char	 webhook[KW_URL_MAX + 1], line[KW_URL_MAX + 256];
	json_t	*blocks, *it;
	size_t	 i, n = json_array_size(items);

	if (n == 0 || owner->slack_user_id[0] == '\0' ||
	    !slack_configured(app, st, webhook, sizeof(webhook)))
		return 0;
	snprintf(line, sizeof(line), "%zu of your keywarden credentials need "
	    "attention. Rotate them at %s or with `keywarden credential "
	    "rotate ID`.", n, app->public_url);
	blocks = json_pack("[o]", section(line));
	json_array_foreach(items, i, it) {
		const char *id = json_string_value(json_object_get(it,
		    "credential_id"));
		const char *inst = json_string_value(json_object_get(it,
		    "instance"));
		const char *name = json_string_value(json_object_get(it,
		    "name"));
		json_int_t left = json_integer_value(json_object_get(it,
		    "days_left"));
		snprintf(line, sizeof(line), "• `%s` on *%s* (%s): expires in "
		    "%lld day(s)%s", id ? id : "?", inst ? inst : "?",
		    name ? name : "", (long long)left,
		    json_is_true(json_object_get(it, "rotation_due")) ?
		    "; rotation due" : "");
		json_array_append_new(blocks, section(line));
	}
	snprintf(line, sizeof(line), "%zu of your keywarden credentials need "
	    "attention", n);
	return enqueue(st, "slack_dm", owner->slack_user_id, "digest",
	    message(line, blocks));
}

int
notify_legacy(struct app *app, struct store *st,
    const struct person *provisioner, json_t *items)
{
	char	 webhook[KW_URL_MAX + 1], line[KW_URL_MAX + 512];
	json_t	*blocks, *it;
	size_t	 i, n = json_array_size(items);

	if (n == 0 || provisioner->slack_user_id[0] == '\0' ||
	    !slack_configured(app, st, webhook, sizeof(webhook)))
		return 0;
	snprintf(line, sizeof(line), "%zu legacy Zendesk API tokens are close "
	    "to being switched off. See %s (migration report) and replace "
	    "them with keywarden credentials.", n, app->public_url);
	blocks = json_pack("[o]", section(line));
	json_array_foreach(items, i, it) {
		const char *name = json_string_value(json_object_get(it,
		    "name"));
		const char *inst = json_string_value(json_object_get(it,
		    "instance"));
		const char *due = json_string_value(json_object_get(it,
		    "deactivation_due"));
		snprintf(line, sizeof(line), "• *%s* on %s: deactivated for "
		    "inactivity on %s, switched off for good on %s",
		    name ? name : "?", inst ? inst : "?", due ? due : "-",
		    json_string_value(json_object_get(it, "shutdown")) ?
		    json_string_value(json_object_get(it, "shutdown")) : "-");
		json_array_append_new(blocks, section(line));
	}
	snprintf(line, sizeof(line), "%zu legacy API tokens need migration",
	    n);
	return enqueue(st, "slack_dm", provisioner->slack_user_id,
	    "legacy.warning", message(line, blocks));
}

/* Copy s into out with Slack's three control characters escaped, so a
 * label cannot mention a channel or forge a link. */
static void
slack_escape(const char *s, char *out, size_t outsz)
{
	size_t		 n = 0;
	const char	*rep;

	for (; *s != '\0' && n + 6 < outsz; s++) {
		rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ?
		    "&gt;" : NULL;
		if (rep != NULL) {
			memcpy(out + n, rep, strlen(rep));
			n += strlen(rep);
		} else
			out[n++] = *s;
	}
	out[n] = '\0';
}

int
notify_token_expiry(struct app *app, struct store *st,
    const struct person *owner, const struct token_rec *t)
{
	char	 webhook[KW_URL_MAX + 1], line[KW_TOKEN_LABEL_MAX * 5 +
		     2 * KW_EMAIL_MAX + 512];
	char	 label[KW_TOKEN_LABEL_MAX * 5 + 1];

	if (owner->slack_user_id[0] == '\0' || !owner->active ||
	    !slack_configured(app, st, webhook, sizeof(webhook)))
		return 0;
	slack_escape(t->label[0] ? t->label : "(no label)", label,
	    sizeof(label));
	snprintf(line, sizeof(line), "Your keywarden personal token `%s` "
	    "(%s) expires on %s. Ask for a new one before then: "
	    "`keywarden people token %s`.", t->id, label, t->expires_at,
	    owner->email);
	return enqueue(st, "slack_dm", owner->slack_user_id, "token.expiring",
	    message(line, json_pack("[o]", section(line))));
}

int
notify_slack_response(struct app *app, struct store *st,
    const char *response_url, const char *text)
{
	char webhook[KW_URL_MAX + 1];

	if (!slack_configured(app, st, webhook, sizeof(webhook)))
		return 0;
	return enqueue(st, "response", response_url, "slack.response",
	    json_pack("{s:b, s:s}", "replace_original", 1, "text", text));
}
