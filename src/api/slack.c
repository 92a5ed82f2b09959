/*
 * slack.c — /v1/slack/interactions: the Approve and Deny buttons of
 * keywarden's Slack messages (its settings: settings.c).  A click is
 * trusted only after its signature checks out; it then acts as the
 * person whose slack_user_id clicked, under exactly the rules of the API.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "api/valid.h"
#include "core/requests.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "policy/workflow.h"
#include "util/buf.h"
#include "util/util.h"

#define SLACK_TEXT_MAX	(KW_COMMENT_MAX + KW_URL_MAX + 256)

static const char unknown_user[] = "keywarden does not know your Slack "
    "account; ask an admin to set your slack_user_id";

/* ---- interactions ------------------------------------------------------ */

/* What a block_actions payload asks. */
struct slack_click {
	char	user[KW_SLACK_ID_MAX + 1];
	char	action[16];			/* approve, deny */
	char	request_id[KW_ID_MAX + 1];
	char	response_url[KW_URL_MAX + 1];	/* "" = none */
};

/*
 * The signature check, before anything else is looked at: headers, the
 * HMAC over the raw body, the 300 s window, and the replay memory.
 * Every failure is the same 401.
 */
static int
verify(struct http_req *rq, struct store *st, const char *secret,
    time_t now)
{
	const char	*sig = http_header(rq, "X-Slack-Signature");
	char		 at[KW_TIME_LEN + 1], before[KW_TIME_LEN + 1];
	int		 r;

	if (slack_verify(secret, http_header(rq, "X-Slack-Request-Timestamp"),
	    sig, rq->raw_body ? rq->raw_body : "", rq->raw_len, now) != 0)
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "missing, stale or bad Slack signature");
	kw_time_fmt(now, at, sizeof(at));
	kw_time_fmt(now - SLACK_REPLAY_KEEP_S, before, sizeof(before));
	if ((r = store_replay_check(st, sig, at, before)) < 0)
		return api_store_fail(rq, r, "", "");
	if (r != 1)
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL,
		    "this Slack request was already received (replay)");
	return 0;
}

/* Copy string member key of o into out; 0 or -1. */
static int
member(json_t *o, const char *key, char *out, size_t outsz)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= outsz ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	kw_strlcpy(out, json_string_value(v), outsz);
	return 0;
}

/* Read the form's payload.  1 when it is a click keywarden does not
 * handle (a link button), 0 for approve/deny, or an error. */
static int
click_parse(struct http_req *rq, struct slack_click *c)
{
	char		*text;
	json_t		*p = NULL, *a, *u;
	int		 r;

	memset(c, 0, sizeof(*c));
	if ((text = malloc(KW_BODY_MAX + 1)) == NULL)
		return KW_ERR_NOMEM;
	r = slack_form_value(rq->raw_body ? rq->raw_body : "", rq->raw_len,
	    "payload", text, KW_BODY_MAX + 1);
	if (r != 0) {
		r = http_fail(rq, KW_ERR_VALIDATION, "payload", "the form "
		    "needs a 'payload' field holding Slack's JSON");
		goto out;
	}
	p = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	u = json_object_get(p, "user");
	a = json_array_get(json_object_get(p, "actions"), 0);
	if (!json_is_object(p) || !json_is_string(json_object_get(p,
	    "type")) || strcmp(json_string_value(json_object_get(p, "type")),
	    "block_actions") != 0 || member(u, "id", c->user,
	    sizeof(c->user)) != 0 || !json_is_object(a)) {
		r = http_fail(rq, KW_ERR_VALIDATION, "payload", "expected a "
		    "block_actions payload with user.id and actions");
		goto out;
	}
	(void)member(p, "response_url", c->response_url,
	    sizeof(c->response_url));
	if (member(a, "action_id", c->action, sizeof(c->action)) != 0 ||
	    (strcmp(c->action, "approve") != 0 &&
	    strcmp(c->action, "deny") != 0)) {
		r = 1;		/* "Open in keywarden" and the like */
		goto out;
	}
	if (member(a, "value", c->request_id, sizeof(c->request_id)) != 0)
		r = http_fail(rq, KW_ERR_VALIDATION, "payload",
		    "actions[0].value must be a request id");
 out:
	json_decref(p);
	free(text);
	return r;
}

/* Queue the update of the clicked message, if its response_url is one
 * keywarden may call.  Best effort: the decision stands regardless. */
static void
update_message(struct http_req *rq, struct store *st,
    const struct slack_click *c, const char *api_base_url, const char *text)
{
	int r;

	if (c->response_url[0] == '\0')
		return;
	if (!slack_response_url_ok(c->response_url, api_base_url)) {
		log_msg("warn", "slack: a response_url outside Slack was "
		    "ignored (request %s)", c->request_id);
		return;
	}
	if ((r = core_write_begin(rq->app, &st)) == 0)
		r = core_write_end(rq->app, notify_slack_response(
		    &((struct app *)rq->app)->notify, st, c->response_url,
		    text));
	if (r != 0)
		log_msg("error", "slack: cannot queue the message update for "
		    "request %s (%s)", c->request_id, kw_strerror(r));
}

/*
 * The Slack actor's check inside the write transaction (core/app.h):
 * the person who clicked, re-read on the writer, must still be active
 * and hold the roles and teams keywarden decided on; their record is
 * refreshed.
 */
static int
slack_current(struct actor *a, struct store *w, struct kw_fail *f)
{
	struct person	*now;
	size_t		 i;
	int		 r, same;

	if ((now = malloc(sizeof(*now))) == NULL)
		return KW_ERR_NOMEM;
	r = store_person_get(w, a->person.id, now);
	if (r == KW_ERR_NOT_FOUND || (r == 0 && !now->active))
		r = kw_fail(f, KW_ERR_UNAUTHENTICATED, NULL,
		    "this person is no longer active");
	else if (r != 0)
		r = kw_fail(f, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if (r == 0) {
		same = now->roles == a->person.roles &&
		    now->nteams == a->person.nteams;
		for (i = 0; same && i < now->nteams; i++)
			same = strcmp(now->teams[i], a->person.teams[i]) == 0;
		a->person = *now;
		if (!same)
			r = kw_fail(f, KW_ERR_CONFLICT, NULL, "your roles or "
			    "teams changed while this request was being "
			    "handled; nothing was changed: send it again");
	}
	free(now);
	return r;
}

/* The actor of person p clicking in Slack. */
static void
slack_actor(struct actor *a, const struct person *p)
{
	memset(a, 0, sizeof(*a));
	a->door = DOOR_SLACK;
	a->person = *p;
	kw_strlcpy(a->name, p->email, sizeof(a->name));
	a->current = slack_current;
}

/* The mrkdwn text of fmt (its string arguments escaped: see
 * slack_mrkdwn_printf) into text[textsz], cut between characters and
 * entities when it does not fit. */
static void mrkdwn(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
mrkdwn(char *text, size_t textsz, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;
	const char	*s;
	size_t		n;

	buf_init(&b, textsz * 6);
	va_start(ap, fmt);
	slack_mrkdwn_vprintf(&b, fmt, ap);
	va_end(ap);
	s = buf_err(&b) == 0 ? buf_str(&b) : "keywarden could not word its "
	    "answer; see the request in keywarden";
	n = slack_mrkdwn_cut(s, textsz - 1);
	memcpy(text, s, n);
	text[n] = '\0';
	buf_free(&b);
}

/* Act as person p on the click; text gets what to tell them. */
static void
click_act(struct http_req *rq, struct store *st, const struct person *p,
    const struct slack_click *c, const char *api_base_url, char *text,
    size_t textsz)
{
	struct app	*app = rq->app;
	struct actor	 a;
	struct decision	*d;
	struct kw_fail	 f;
	int		 approve = strcmp(c->action, "approve") == 0, r, field;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(text, textsz, "keywarden is short of memory; try "
		    "again");
		return;
	}
	slack_actor(&a, p);
	memset(&f, 0, sizeof(f));
	kw_strlcpy(d->comment, approve ? "approved from Slack" :
	    "denied from Slack", sizeof(d->comment));
	/* acknowledge_risk stays 0: integrations are approved in keywarden */
	r = request_act(app, &a, c->request_id, approve ? RA_APPROVE : RA_DENY,
	    d, 1, NULL, NULL, &f);
	free(d);
	if (r == 0) {
		mrkdwn(text, textsz, "%s by %s", approve ? "Approved" :
		    "Denied", p->email);
		update_message(rq, st, c, api_base_url, text);
		return;
	}
	/* Slack gets a 200 whatever happened: the reason is its text */
	field = strcmp(f.field, "acknowledge_risk") == 0;
	if (f.message[0] == '\0')
		kw_strlcpy(f.message, "keywarden could not record the "
		    "decision", sizeof(f.message));
	if (r == KW_ERR_UNAVAILABLE || r == KW_ERR_NOMEM ||
	    r == KW_ERR_INTERNAL) {
		/* transient: keep the buttons, say so */
		mrkdwn(text, textsz, "keywarden could not record your "
		    "decision right now (%s); try again", f.message);
	} else {
		mrkdwn(text, textsz, "Not %s: %s.%s See %s/requests/%s",
		    approve ? "approved" : "denied", f.message, field ?
		    " An integration cannot be approved from Slack: approve "
		    "it in keywarden with acknowledge_risk." : "",
		    app->public_url, c->request_id);
		update_message(rq, st, c, api_base_url, text);
	}
	kw_fail_clear(&f);
}

int
api_slack_interactions(struct http_req *rq, struct http_resp *rs)
{
	struct slack_settings	*s;
	struct slack_click	 c;
	struct person		 p;
	struct store		*st;
	char			*text = NULL;
	time_t			 now = kw_now();
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = slack_settings_load(((struct app *)rq->app)->keys, st,
	    s)) != 0) {
		r = r == KW_ERR_UNAVAILABLE ? api_store_fail(rq, r, "", "") :
		    http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "Slack is not "
		    "configured: no signing secret to check this request");
		goto out;
	}
	r = verify(rq, st, s->signing_secret, now);
	kw_wipe(s->signing_secret, sizeof(s->signing_secret));
	kw_wipe(s->bot_token, sizeof(s->bot_token));
	if (r != 0)
		goto out;
	if ((r = click_parse(rq, &c)) < 0)
		goto out;
	if ((text = calloc(1, SLACK_TEXT_MAX)) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	if (r == 1)
		r = 0;		/* nothing to do; Slack wants its 200 */
	else if ((r = store_person_by_slack(st, c.user, &p)) == 0 &&
	    p.active)
		click_act(rq, st, &p, &c, s->api_base_url, text,
		    SLACK_TEXT_MAX);
	else if (r == 0 || r == KW_ERR_NOT_FOUND) {
		kw_strlcpy(text, unknown_user, SLACK_TEXT_MAX);
		r = 0;
	} else {
		r = api_store_fail(rq, r, "", "");
		goto out;
	}
	rs->status = 200;
	rs->body = text[0] == '\0' ? json_object() : json_pack("{s:s, s:s}",
	    "response_type", "ephemeral", "text", text);
 out:
	free(text);
	slack_settings_wipe(s);
	free(s);
	return r;
}
