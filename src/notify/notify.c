/*
 * notify.c — what keywarden tells whom.  Each event becomes a neutral
 * notice (plain text: what happened, the link, fields); each recipient
 * gets it through the first channel that reaches them (notifiers[]:
 * Slack, then e-mail), rendered by that channel and queued in the
 * outbox inside the caller's transaction.  notify_flush() later claims
 * due messages and hands each to its channel's send, with one set of
 * retry rules for all channels.  Messages carry names, states and
 * links; never a secret.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "util/buf.h"
#include "util/util.h"

#define NOTIFY_TEXT_MAX		(32 * 1024)	/* one text, bytes */
#define NOTIFY_LEASE_S		60	/* a claimed message is ours this long */
#define NOTIFY_BATCH		5	/* messages per claim: 5 x 2 calls x
					   5 s stays inside the lease */
#define NOTIFY_ROUNDS_MAX	40	/* claims per flush */
#define NOTIFY_FLUSH_BUDGET_S	30	/* no new claim after this long */
#define NOTIFY_BACKOFF_FIRST_S	30
#define NOTIFY_BACKOFF_MAX_S	3600

/* The channels that reach people, in order of preference. */
static const struct notifier_ops *const notifiers[] = {
	&notifier_slack,
	&notifier_email,
};
#define NOTIFIERS	KW_NELEM(notifiers)

/* Every outbox channel and who sends it.  The Slack family has three:
 * DMs, the channel webhook and response_url updates, each held apart. */
static const struct {
	const char			*channel;
	const struct notifier_ops	*ops;
} channels[] = {
	{ "slack_dm",	&notifier_slack },
	{ "webhook",	&notifier_slack },
	{ "response",	&notifier_slack },
	{ "email",	&notifier_email },
};
#define CHANNELS	KW_NELEM(channels)

/* Which channels are set up, read once per event. */
struct reach {
	int	on[NOTIFIERS];
	int	any;
	int	webhook;	/* Slack's channel webhook is set */
};

/*
 * A channel's settings, loaded and opened (its secrets included) for as
 * long as they are needed, then wiped: the same for every channel.  NULL
 * when the channel is not configured (or its settings cannot be read).
 */
static void *
channel_open(const struct notifier_ops *ops, const struct notify_env *env,
    struct store *st)
{
	void *s;

	if ((s = calloc(1, ops->settings_size)) == NULL)
		return NULL;
	if (ops->load(env->keys, st, s) != 0) {
		ops->wipe(s);
		free(s);
		return NULL;
	}
	return s;
}

static void
channel_close(const struct notifier_ops *ops, void *s)
{
	if (s == NULL)
		return;
	ops->wipe(s);
	free(s);
}

/* 1 if the channel is set up (its settings load). */
static int
channel_configured(const struct notifier_ops *ops,
    const struct notify_env *env, struct store *st)
{
	void *s = channel_open(ops, env, st);

	channel_close(ops, s);
	return s != NULL;
}

static void
reach_load(const struct notify_env *env, struct store *st, struct reach *rc)
{
	struct slack_settings	*s;
	size_t			 i;

	memset(rc, 0, sizeof(*rc));
	for (i = 0; i < NOTIFIERS; i++)
		if ((rc->on[i] = channel_configured(notifiers[i], env, st)))
			rc->any = 1;
	if (rc->on[0] && (s = malloc(sizeof(*s))) != NULL) {
		if (slack_settings_load(env->keys, st, s) == 0)
			rc->webhook = s->webhook_url[0] != '\0';
		slack_settings_wipe(s);
		free(s);
	}
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

/*
 * Send notice n (borrowed) to person p through the first configured
 * channel that reaches them.  Inactive people and people no channel
 * reaches get nothing.
 */
static int
to_person(struct store *st, const struct reach *rc,
    const struct person *p, const json_t *n)
{
	char	addr[KW_URL_MAX + 1];
	size_t	i;

	if (n == NULL || !p->active)
		return 0;
	for (i = 0; i < NOTIFIERS; i++)
		if (rc->on[i] && notifiers[i]->address(p, addr,
		    sizeof(addr)) == 0)
			return enqueue(st, notifiers[i]->channel, addr,
			    json_string_value(json_object_get(n, "kind")),
			    notifiers[i]->render(n));
	return 0;
}

/* to_person() for a person id ("" or unknown: nobody). */
static int
to_id(struct store *st, const struct reach *rc,
    const char *person_id, const json_t *n)
{
	struct person p;

	if (person_id[0] == '\0' || store_person_get(st, person_id, &p) != 0)
		return 0;
	return to_person(st, rc, &p, n);
}

/* A notice {"kind", "subject", "lead"} from the text in lead (freed),
 * or NULL when it could not be built. */
static json_t *
notice(const char *kind, const char *subject, struct buf *lead)
{
	json_t *n = NULL;

	if (buf_err(lead) == 0)
		n = json_pack("{s:s, s:s, s:s}", "kind", kind, "subject",
		    subject, "lead", buf_str(lead));
	buf_free(lead);
	return n;
}

/* Add {"label", "value"} to n's fields (value NULL shows as "-").
 * Texts are whole here (at most KW_COMMENT_MAX bytes as stored); each
 * channel cuts what it cannot show, between characters. */
static void
field(json_t *n, const char *label, const char *value)
{
	json_t *f;

	if (n == NULL)
		return;
	if ((f = json_object_get(n, "fields")) == NULL) {
		f = json_array();
		json_object_set_new(n, "fields", f);
	}
	json_array_append_new(f, json_pack("{s:s, s:s}", "label", label,
	    "value", value != NULL && value[0] != '\0' ? value : "-"));
}

static void
link(json_t *n, const char *label, const char *url)
{
	if (n == NULL)
		return;
	json_object_set_new(n, "link", json_string(url));
	json_object_set_new(n, "link_label", json_string(label));
}

static const char *
kind_word(const struct request *r)
{
	return r->kind == KIND_INTEGRATION ? "integration" : "API token";
}

/*
 * The decision notice: what is asked, by whom, why, naming the request;
 * Approve / Deny (value: the request id) where the channel has buttons,
 * and the link to the request in keywarden.
 */
static json_t *
decision_notice(const struct notify_env *env,
    const struct request *r, const char *kind,
    const char *lead)
{
	struct buf	 t, subj, scopes;
	char		 url[KW_URL_MAX + 64];
	json_t		*n;
	size_t		 i;

	buf_init(&t, NOTIFY_TEXT_MAX);
	buf_init(&subj, NOTIFY_TEXT_MAX);
	buf_init(&scopes, NOTIFY_TEXT_MAX);
	snprintf(url, sizeof(url), "%s/requests/%s", env->public_url, r->id);
	buf_printf(&t, "%s: request %s.\n%s asks for an %s on %s for %d "
	    "days", lead, r->id, r->requester_email, kind_word(r),
	    r->instance_name, r->lifetime_days);
	for (i = 0; i < r->nscopes; i++)
		buf_printf(&scopes, "%s%s", i ? ", " : "", r->scopes[i]);
	if (r->nscopes > 0)
		buf_printf(&t, ", scopes %s", buf_str(&scopes));
	buf_printf(&t, ".");
	buf_printf(&subj, "[keywarden] %s on %s waits for your decision "
	    "(%s)", r->requester_email, r->instance_name, r->id);
	n = buf_err(&subj) == 0 ? notice(kind, buf_str(&subj), &t) : NULL;
	buf_free(&t);
	field(n, "Why", r->justification);
	field(n, "Use", r->use_case);
	link(n, "Open in keywarden", url);
	if (n != NULL)
		json_object_set_new(n, "decide", json_string(r->id));
	buf_free(&subj);
	buf_free(&scopes);
	return n;
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

/* Send n to the provisioners of r's instance who may review r (not the
 * requester, not the manager approver). */
static int
to_reviewers(struct store *st, const struct reach *rc,
    const struct request *r, const json_t *n)
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
			res = to_id(st, rc, id, n);
		}
	kw_wipe(in, sizeof(*in));
	free(in);
	return res;
}

/* Send n to every provisioner of the instance instance_id. */
static int
to_provisioners(struct store *st, const struct reach *rc,
    const char *instance_id, const json_t *n)
{
	struct instance	*in;
	size_t		 i;
	int		 res = 0;

	if ((in = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	if (store_instance_get(st, instance_id, in) == 0)
		for (i = 0; res == 0 && i < in->nprovisioners; i++)
			res = to_id(st, rc, in->provisioners[i].id, n);
	kw_wipe(in, sizeof(*in));
	free(in);
	return res;
}

/* A plain notice: subject and lead printed from fmt. */
static json_t *
simple(const char *kind, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *
simple(const char *kind, const char *subject, const char *fmt, ...)
{
	struct buf	t;
	va_list		ap;

	buf_init(&t, NOTIFY_TEXT_MAX);
	va_start(ap, fmt);
	buf_vprintf(&t, fmt, ap);
	va_end(ap);
	return notice(kind, subject, &t);
}

/* The identifier a manually fulfilled credential has on its instance
 * ("" when keywarden minted it: then it has a client_id). */
static int
manual_external(const struct credential *c, char *out, size_t outsz)
{
	json_t		*o = json_loads(c->external, 0, NULL);
	const char	*s = json_string_value(json_object_get(o,
			    "external_id"));
	int		 manual = json_object_get(o, "client_id") == NULL;

	kw_strlcpy(out, s != NULL ? s : "", outsz);
	json_decref(o);
	return manual;
}

/* Ask the provisioners of a manually fulfilled credential, just revoked
 * in keywarden, to delete it on the instance: keywarden never held a
 * connection there that could. */
static int
revoked_manual(struct store *st, const struct reach *rc,
    const struct credential *c)
{
	char	 ext[KW_EXTERNAL_ID_MAX + 1], subj[256];
	json_t	*n;
	int	 res;

	if (c->kind == KIND_LEGACY || !manual_external(c, ext, sizeof(ext)))
		return 0;
	snprintf(subj, sizeof(subj), "[keywarden] delete credential %s on "
	    "%s", c->id, c->instance_name);
	n = simple("credential.revoked_manual", subj, "Credential %s of %s "
	    "on %s was revoked in keywarden (%s). It was fulfilled by hand, "
	    "so keywarden cannot delete it on the instance: please delete "
	    "it there now.", c->id, c->owner_email, c->instance_name,
	    c->revoke_reason);
	field(n, "Name on the instance", c->name);
	field(n, "Identifier on the instance", ext[0] ? ext :
	    "(not recorded at fulfilment)");
	res = to_provisioners(st, rc, c->instance_id, n);
	json_decref(n);
	return res;
}

/*
 * "Your ... is ready", for the requester: how to get at it depends on
 * its delivery mode (a broker credential's secret never leaves
 * keywarden), and a token the instance expires early says so.  Never a
 * secret.
 */
static json_t *
issued_notice(const struct request *r, const struct credential *c,
    const char *url)
{
	char		 subj[256];
	json_t		*n, *ext;
	const char	*at;

	snprintf(subj, sizeof(subj), "[keywarden] your %s for %s is ready "
	    "(%s)", kind_word(r), r->instance_name, r->id);
	if (c != NULL && c->kind == KIND_API_TOKEN &&
	    c->delivery_mode == DM_BROKER) {
		n = simple("request.issued", subj, "Your broker credential for "
		    "%s is ready (request %s). keywarden keeps its secret: get "
		    "short-lived access tokens with: keywarden credential "
		    "token %s (or keywarden credential exec %s -- CMD), or make "
		    "a bound token for a script.\nIt is named %s on the "
		    "instance.", r->instance_name, r->id, r->credential_id,
		    r->credential_id, r->link);
		link(n, "Open it in keywarden", url);
		return n;
	}
	n = simple("request.issued", subj, "Your %s for %s is ready (request "
	    "%s). Reveal it once, within the delivery window, at %s or with: "
	    "keywarden credential reveal %s\nIt is named %s on the instance.",
	    c != NULL && c->kind == KIND_API_TOKEN &&
	    c->delivery_mode == DM_CLIENT_SECRET ? "OAuth client" :
	    kind_word(r), r->instance_name, r->id, url, r->credential_id,
	    r->link);
	link(n, "Reveal it in keywarden", url);
	if (c == NULL || c->kind != KIND_API_TOKEN)
		return n;
	ext = json_loads(c->external[0] ? c->external : "{}", 0, NULL);
	at = json_string_value(json_object_get(ext, "expires_at"));
	if (at != NULL && strcmp(at, c->expires_at) == 0)
		field(n, "Expires early", "the instance expires this token "
		    "before its approved lifetime ends; the credential expires "
		    "then too");
	json_decref(ext);
	return n;
}

/* The Slack channel webhook's record of an issuance or revocation. */
static int
record(struct store *st, const char *kind, json_t *n)
{
	json_t *payload = n != NULL ? notifier_slack.render(n) : NULL;

	json_decref(n);
	return enqueue(st, "webhook", SLACK_WEBHOOK_REF, kind, payload);
}

/* The notice (or notices) of ev; see notify.h for who gets what. */
static int
request_event(const struct notify_env *env,
    struct store *st, const struct reach *rc,
    enum notify_event ev, const struct request *r,
    const struct credential *c)
{
	struct last_entry	 last;
	char			 url[KW_URL_MAX + 64], subj[256];
	json_t			*n = NULL;
	int			 res = 0;

	memset(&last, 0, sizeof(last));
	if (r != NULL && (ev == NE_REQUEST_DENIED || ev == NE_REQUEST_FAILED))
		store_history_each(st, r->id, keep_last, &last);
	if (r != NULL)
		snprintf(url, sizeof(url), "%s/requests/%s", env->public_url,
		    r->id);
	switch (ev) {
	case NE_REQUEST_CREATED:
		n = decision_notice(env, r, "request.created", "A request "
		    "from your report waits for your approval");
		res = to_id(st, rc, r->manager_id, n);
		break;
	case NE_REQUEST_REVIEW:
		n = decision_notice(env, r, "request.review", "A request "
		    "waits for your review (manager approved)");
		res = to_reviewers(st, rc, r, n);
		break;
	case NE_REQUEST_ISSUED:
		snprintf(url, sizeof(url), "%s/credentials/%s",
		    env->public_url, r->credential_id);
		n = issued_notice(r, c, url);
		res = to_id(st, rc, r->requester_id, n);
		if (res == 0 && rc->webhook)
			res = record(st, "record.issued", simple(
			    "record.issued", "issued", "keywarden issued %s "
			    "(%s) on %s to %s: %s", r->credential_id,
			    r->kind == KIND_INTEGRATION ? "integration" :
			    "api_token", r->instance_name, r->requester_email,
			    r->link));
		break;
	case NE_REQUEST_DENIED:
		snprintf(subj, sizeof(subj), "[keywarden] your request %s for "
		    "%s was denied", r->id, r->instance_name);
		n = simple("request.denied", subj, "Your request %s for %s "
		    "was denied by %s: %s", r->id, r->instance_name,
		    last.h.actor, last.h.comment);
		link(n, "Open in keywarden", url);
		res = to_id(st, rc, r->requester_id, n);
		break;
	case NE_REQUEST_FAILED:
		snprintf(subj, sizeof(subj), "[keywarden] your request %s for "
		    "%s could not be issued", r->id, r->instance_name);
		n = simple("request.failed", subj, "Keywarden could not issue "
		    "your request %s on %s: %s. Nothing was left on the "
		    "instance; file a new request when it is fixed.", r->id,
		    r->instance_name, last.h.comment);
		link(n, "Open in keywarden", url);
		res = to_id(st, rc, r->requester_id, n);
		break;
	case NE_REQUEST_EXPIRED:
		snprintf(subj, sizeof(subj), "[keywarden] your request %s for "
		    "%s expired", r->id, r->instance_name);
		n = simple("request.expired", subj, "Your request %s for %s "
		    "expired without a decision (%s).", r->id,
		    r->instance_name, env->public_url);
		link(n, "Open in keywarden", url);
		res = to_id(st, rc, r->requester_id, n);
		break;
	case NE_REQUEST_WITHDRAWN:
		/* whoever was asked to decide hears it no longer needs to:
		 * the manager before their approval, the reviewers after */
		snprintf(subj, sizeof(subj), "[keywarden] request %s on %s "
		    "was withdrawn", r->id, r->instance_name);
		n = simple("request.withdrawn", subj, "%s withdrew request %s "
		    "(%s on %s). Nothing is left for you to decide; the "
		    "buttons of the earlier message no longer apply.",
		    r->requester_email, r->id, kind_word(r),
		    r->instance_name);
		link(n, "Open in keywarden", url);
		res = r->manager_approver_id[0] == '\0' ?
		    to_id(st, rc, r->manager_id, n) :
		    to_reviewers(st, rc, r, n);
		break;
	case NE_CREDENTIAL_REVOKED:
		if (c == NULL)
			break;
		res = revoked_manual(st, rc, c);
		if (res == 0 && rc->webhook)
			res = record(st, "record.revoked", simple(
			    "record.revoked", "revoked", "keywarden revoked "
			    "%s on %s (owner %s): %s", c->id,
			    c->instance_name, c->owner_email,
			    c->revoke_reason));
		break;
	}
	json_decref(n);
	return res;
}

int
notify_request(const struct notify_env *env,
    struct store *st, enum notify_event ev,
    const struct request *r, const struct credential *c)
{
	struct reach rc;

	reach_load(env, st, &rc);
	if (!rc.any)
		return 0;
	return request_event(env, st, &rc, ev, r, c);
}

static const char *
item_str(json_t *it, const char *key)
{
	const char *s = json_string_value(json_object_get(it, key));

	return s != NULL ? s : "-";
}

/* A list notice: lead, one plain line per item, where to see them all. */
static json_t *
list_notice(const char *kind, const char *subject, struct buf *lead,
    json_t *items, void (*line)(struct buf *, json_t *), const char *more,
    const char *url)
{
	struct buf	 t;
	json_t		*n = notice(kind, subject, lead), *lines, *it;
	size_t		 i;

	if (n == NULL || (lines = json_array()) == NULL) {
		json_decref(n);
		return NULL;
	}
	json_object_set_new(n, "items", lines);
	json_array_foreach(items, i, it) {
		buf_init(&t, NOTIFY_TEXT_MAX);
		line(&t, it);
		if (buf_err(&t) != 0 ||
		    json_array_append_new(lines, json_string(buf_str(&t)))
		    != 0) {
			buf_free(&t);
			json_decref(n);
			return NULL;
		}
		buf_free(&t);
	}
	json_object_set_new(n, "more", json_string(more));
	link(n, "Open in keywarden", url);
	return n;
}

static void
digest_line(struct buf *t, json_t *it)
{
	buf_printf(t, "%s on %s (%s): expires in %lld day(s)%s",
	    item_str(it, "credential_id"), item_str(it, "instance"),
	    item_str(it, "name"),
	    (long long)json_integer_value(json_object_get(it, "days_left")),
	    json_is_true(json_object_get(it, "rotation_due")) ?
	    "; rotation due" : "");
}

int
notify_digest(const struct notify_env *env,
    struct store *st, const struct person *owner,
    json_t *items)
{
	struct reach	 rc;
	struct buf	 lead;
	char		 subj[128], more[KW_URL_MAX + 128], url[KW_URL_MAX + 64];
	json_t		*n;
	size_t		 cnt = json_array_size(items);
	int		 res;

	if (cnt == 0)
		return 0;
	reach_load(env, st, &rc);
	if (!rc.any)
		return 0;
	buf_init(&lead, NOTIFY_TEXT_MAX);
	buf_printf(&lead, "%zu of your keywarden credentials need attention. "
	    "Rotate them at %s or with: keywarden credential rotate ID", cnt,
	    env->public_url);
	snprintf(subj, sizeof(subj), "[keywarden] %zu of your credentials "
	    "need attention", cnt);
	snprintf(url, sizeof(url), "%s/credentials", env->public_url);
	snprintf(more, sizeof(more), "%s or keywarden credential list", url);
	n = list_notice("digest", subj, &lead, items, digest_line, more, url);
	res = to_person(st, &rc, owner, n);
	json_decref(n);
	return res;
}

static void
legacy_line(struct buf *t, json_t *it)
{
	buf_printf(t, "%s on %s: deactivated for inactivity on %s, switched "
	    "off for good on %s", item_str(it, "name"), item_str(it,
	    "instance"), item_str(it, "deactivation_due"),
	    item_str(it, "shutdown"));
}

int
notify_legacy(const struct notify_env *env, struct store *st,
    const struct person *provisioner, json_t *items)
{
	struct reach	 rc;
	struct buf	 lead;
	char		 subj[128], more[KW_URL_MAX + 128], url[KW_URL_MAX + 64];
	json_t		*n;
	size_t		 cnt = json_array_size(items);
	int		 res;

	if (cnt == 0)
		return 0;
	reach_load(env, st, &rc);
	if (!rc.any)
		return 0;
	buf_init(&lead, NOTIFY_TEXT_MAX);
	/* items are one instance's: one provider's title */
	buf_printf(&lead, "%zu legacy %s API tokens are close to being "
	    "switched off. See %s (migration report) and replace them with "
	    "keywarden credentials.", cnt, item_str(json_array_get(items, 0),
	    "provider"), env->public_url);
	snprintf(subj, sizeof(subj), "[keywarden] %zu legacy API tokens need "
	    "migration", cnt);
	snprintf(url, sizeof(url), "%s/reports/migration", env->public_url);
	snprintf(more, sizeof(more), "in the migration report (%s or "
	    "keywarden report migration)", url);
	n = list_notice("legacy.warning", subj, &lead, items, legacy_line,
	    more, url);
	res = to_person(st, &rc, provisioner, n);
	json_decref(n);
	return res;
}

int
notify_token_expiry(const struct notify_env *env, struct store *st,
    const struct person *owner, const struct token_rec *t)
{
	struct reach	 rc;
	json_t		*n;
	int		 res;

	reach_load(env, st, &rc);
	if (!rc.any)
		return 0;
	/* the label is the owner's text: the channel escapes it */
	n = simple("token.expiring", "[keywarden] your personal token expires "
	    "soon", "Your keywarden personal token %s expires on %s. Ask for "
	    "a new one before then: keywarden people token %s.", t->id,
	    t->expires_at, owner->email);
	field(n, "Label", t->label[0] ? t->label : "(no label)");
	field(n, "Expires", t->expires_at);
	res = to_person(st, &rc, owner, n);
	json_decref(n);
	return res;
}

int
notify_slack_response(const struct notify_env *env, struct store *st,
    const char *response_url, const char *text)
{
	if (!channel_configured(&notifier_slack, env, st))
		return 0;
	return enqueue(st, "response", response_url, "slack.response",
	    json_pack("{s:b, s:s}", "replace_original", 1, "text", text));
}

/* ---- the sender -------------------------------------------------------- */

struct flush {
	const struct notify_env	*env;
	struct store		*st;
	struct notify_report	*rep;
	time_t			 now;
	size_t			 claimed;	/* in this round */
	void			*ctx[NOTIFIERS];  /* open settings */
	int			 opened[NOTIFIERS];
	/* a channel on hold: later messages wait without a call */
	int			 held[CHANNELS];
	time_t			 held_until[CHANNELS]; /* 0: backoff */
	char			 held_error[CHANNELS][NOTIFY_ERROR_MAX];
};

/*
 * A Retry-After outlives the run that received it: later runs of this
 * process (the background thread) keep off that channel until then,
 * even for messages queued since.
 */
static pthread_mutex_t	limit_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t		limit_until[CHANNELS];

static void
limits_load(struct flush *f)
{
	size_t d;

	pthread_mutex_lock(&limit_lock);
	for (d = 0; d < CHANNELS; d++)
		if (limit_until[d] > f->now) {
			f->held[d] = 1;
			f->held_until[d] = limit_until[d];
			snprintf(f->held_error[d], sizeof(f->held_error[d]),
			    "rate limited: waiting for its Retry-After");
		}
	pthread_mutex_unlock(&limit_lock);
}

static void
limit_store(size_t d, time_t until)
{
	pthread_mutex_lock(&limit_lock);
	if (until > limit_until[d])
		limit_until[d] = until;
	pthread_mutex_unlock(&limit_lock);
}

static time_t
backoff_s(int attempts)
{
	time_t d = NOTIFY_BACKOFF_FIRST_S;

	while (--attempts > 0 && d < NOTIFY_BACKOFF_MAX_S)
		d *= 2;
	return d > NOTIFY_BACKOFF_MAX_S ? NOTIFY_BACKOFF_MAX_S : d;
}

/* Record the outcome of message m, sent on channel d. */
static int
settle(struct flush *f, const struct outbox_msg *m, size_t d,
    struct notify_attempt *a)
{
	char	 at[KW_TIME_LEN + 1];
	time_t	 next;
	int	 r;

	if (a->sent) {
		kw_time_fmt(kw_now(), at, sizeof(at));
		if ((r = store_outbox_sent(f->st, m->id, at)) != 0)
			log_msg("error", "notify: message %s was delivered but "
			    "cannot be marked so (%s); it may be sent twice",
			    m->id, kw_strerror(r));
		f->rep->sent++;
		return 0;
	}
	if (a->permanent) {
		/* retrying cannot help: failed, the error kept for operators */
		kw_time_fmt(f->now, at, sizeof(at));
		log_msg("error", "notify: %s message %s (%s, attempt %d) "
		    "failed for good: %s; it is not retried", m->channel, m->id,
		    m->kind, m->attempts, a->error);
		f->rep->failed++;
		if ((r = store_outbox_fail(f->st, m->id, at, a->error)) != 0)
			log_msg("error", "notify: cannot mark message %s failed "
			    "(%s); it is tried again when its lease ends",
			    m->id, kw_strerror(r));
		return 0;
	}
	next = f->now + backoff_s(m->attempts);
	if (a->retry_after >= 0)
		next = f->now + (a->retry_after > 0 ? a->retry_after : 1);
	if (a->hold && d < CHANNELS && !f->held[d]) {
		f->held[d] = 1;
		f->held_until[d] = a->retry_after >= 0 ? next : 0;
		if (a->retry_after >= 0)
			limit_store(d, next);
		kw_strlcpy(f->held_error[d], a->error,
		    sizeof(f->held_error[d]));
	}
	kw_time_fmt(next, at, sizeof(at));
	log_msg("warn", "notify: %s message %s (%s, attempt %d) not "
	    "delivered: %s; next attempt at %s", m->channel, m->id, m->kind,
	    m->attempts, a->error, at);
	f->rep->retried++;
	if ((r = store_outbox_retry(f->st, m->id, at, a->error)) != 0)
		log_msg("error", "notify: cannot reschedule message %s (%s); "
		    "it is retried when its lease ends", m->id,
		    kw_strerror(r));
	return 0;
}

/* The open settings of ops for this run (opened on first use), or NULL
 * when that channel is not configured. */
static void *
channel_ctx(struct flush *f, const struct notifier_ops *ops)
{
	size_t i;

	for (i = 0; i < NOTIFIERS; i++)
		if (notifiers[i] == ops) {
			if (!f->opened[i]) {
				f->opened[i] = 1;
				f->ctx[i] = channel_open(ops, f->env, f->st);
			}
			return f->ctx[i];
		}
	return NULL;
}

static int
send_one(const struct outbox_msg *m, void *arg)
{
	struct flush		*f = arg;
	struct notify_attempt	 a;
	size_t			 d;
	void			*ctx;
	json_t			*payload;

	f->claimed++;
	memset(&a, 0, sizeof(a));
	a.retry_after = -1;
	for (d = 0; d < CHANNELS; d++)
		if (strcmp(m->channel, channels[d].channel) == 0)
			break;
	if (d == CHANNELS) {
		a.permanent = 1;
		snprintf(a.error, sizeof(a.error), "unknown channel");
		return settle(f, m, d, &a);
	}
	if (f->held[d]) {
		/* its channel failed a moment ago: wait with it */
		kw_strlcpy(a.error, f->held_error[d], sizeof(a.error));
		if (f->held_until[d] > 0)
			a.retry_after = (long)(f->held_until[d] - f->now);
		return settle(f, m, d, &a);
	}
	if ((ctx = channel_ctx(f, channels[d].ops)) == NULL) {
		a.hold = 1;
		snprintf(a.error, sizeof(a.error), "%s is not configured",
		    channels[d].ops->name);
		return settle(f, m, d, &a);
	}
	if ((payload = json_loads(m->payload, 0, NULL)) == NULL ||
	    !json_is_object(payload)) {
		json_decref(payload);
		a.permanent = 1;
		snprintf(a.error, sizeof(a.error), "malformed payload");
		return settle(f, m, d, &a);
	}
	channels[d].ops->send(ctx, m, payload, &a);
	json_decref(payload);
	return settle(f, m, d, &a);
}

int
notify_flush(const struct notify_env *env, struct store *st, time_t now,
    struct notify_report *rep)
{
	struct reach	 rc;
	struct flush	*f;
	char		 at[KW_TIME_LEN + 1], lease[KW_TIME_LEN + 1];
	char		 real[KW_TIME_LEN + 1];
	uint64_t	 t0 = kw_mono_us();
	time_t		 spent;
	int64_t		 pending = 0;
	size_t		 i;
	int		 r = 0, round;

	memset(rep, 0, sizeof(*rep));
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return KW_ERR_NOMEM;
	/* nothing configured: whatever is queued waits for the settings */
	reach_load(env, st, &rc);
	if (!rc.any)
		goto count;
	f->env = env;
	f->st = st;
	f->rep = rep;
	f->now = now;
	limits_load(f);
	for (round = 0; round < NOTIFY_ROUNDS_MAX; round++) {
		spent = (time_t)((kw_mono_us() - t0) / 1000000u);
		if (spent >= NOTIFY_FLUSH_BUDGET_S)
			break;
		/* what is due as of now (a `jobs run --now` may run
		 * ahead), but leases on the real clock: a sender running
		 * ahead must not take over what another is sending */
		kw_time_fmt(now, at, sizeof(at));
		kw_time_fmt(kw_now(), real, sizeof(real));
		kw_time_fmt(kw_now() + NOTIFY_LEASE_S, lease, sizeof(lease));
		f->claimed = 0;
		if ((r = store_outbox_claim(st, at, real, lease, NOTIFY_BATCH,
		    send_one, f)) != 0 || f->claimed < NOTIFY_BATCH)
			break;
	}
 count:
	for (i = 0; i < NOTIFIERS; i++)
		if (f->opened[i] && f->ctx[i] != NULL)
			channel_close(notifiers[i], f->ctx[i]);
	if (store_outbox_pending(st, &pending) == 0)
		rep->pending = pending > 1000000 ? 1000000 : (int)pending;
	else if (r == 0)
		r = KW_ERR_UNAVAILABLE;
	free(f);
	return r;
}

int
notify_setting_str(json_t *o, const char *key, char *out, size_t outsz)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= outsz)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}
