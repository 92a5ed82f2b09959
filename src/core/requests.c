/*
 * requests.c — the request workflow (requests.h): filing, the manager's
 * and the provisioner's decisions, withdrawal, manual fulfilment, issuing
 * once approved, the support-ops direct credentials and rotation.  Who
 * may act is decided by policy/workflow.c; this file gathers the facts,
 * applies the decision and records it (history + audit) in the same
 * transaction, whichever door the actor came through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw.h"
#include "ticker.h"
#include "core/app.h"
#include "core/credentials.h"
#include "core/issuance.h"
#include "core/requests.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "policy/visibility.h"
#include "policy/workflow.h"
#include "provider/provider.h"
#include "util/util.h"

const char *const request_kinds[] = { "api_token", "integration", NULL };
const char *const request_client_kinds[] = { "confidential", "public",
    NULL };

void
request_link(const struct app *app, struct request *r)
{
	if (r->access_request_url[0] != '\0')
		kw_strlcpy(r->link, r->access_request_url, sizeof(r->link));
	else if ((size_t)snprintf(r->link, sizeof(r->link), "%s/requests/%s",
	    app->public_url, r->id) >= sizeof(r->link))
		r->link[0] = '\0';	/* cannot happen: public_url is bounded */
}

int
request_history_add(struct store *w, const char *request_id,
    const char *actor, const char *action, const char *comment)
{
	struct history_entry h;

	memset(&h, 0, sizeof(h));
	kw_time_fmt(kw_now(), h.at, sizeof(h.at));
	kw_strlcpy(h.actor, actor, sizeof(h.actor));
	kw_strlcpy(h.action, action, sizeof(h.action));
	kw_strlcpy(h.comment, comment ? comment : "", sizeof(h.comment));
	return store_history_append(w, request_id, &h);
}

int
request_visible(const struct actor *a, const struct request *r,
    const struct instance *in, struct actor_facts *f)
{
	const struct person	*me = &a->person;
	struct store_viewer	 v;
	size_t			 i;

	memset(f, 0, sizeof(*f));
	if (me->id[0] == '\0')		/* no person: sees nothing */
		return 0;
	f->is_requester = strcmp(r->requester_id, me->id) == 0;
	f->is_manager = r->manager_id[0] != '\0' &&
	    strcmp(r->manager_id, me->id) == 0;
	f->gave_manager_approval = r->manager_approver_id[0] != '\0' &&
	    strcmp(r->manager_approver_id, me->id) == 0;
	f->direct = strcmp(r->purpose, "request") != 0;
	for (i = 0; i < in->nprovisioners; i++)
		if (strcmp(in->provisioners[i].id, me->id) == 0)
			f->is_provisioner = 1;
	/* who sees it is policy's one rule, the one the lists apply */
	policy_viewer(me, &v);
	return policy_may_see_request(&v, r, in);
}

/*
 * Load request id with its instance and the actor's facts; a request
 * the actor may not see is "not found".
 */
static int
load_visible(struct store *st, const struct actor *a, const char *id,
    struct request *r, struct instance *in, struct actor_facts *facts,
    struct kw_fail *f)
{
	int res;

	if ((res = store_request_get(st, id, r)) != 0 ||
	    (res = store_instance_get(st, r->instance_id, in)) != 0)
		return core_store_fail(res, "request", id, f);
	if (!request_visible(a, r, in, facts))
		return kw_fail(f, KW_ERR_NOT_FOUND, NULL,
		    "no request '%.64s'", id);
	return 0;
}

int
request_get(struct app *app, const struct actor *a, const char *id,
    struct request *r, struct instance *in, struct kw_fail *f)
{
	struct actor_facts	 facts;
	struct instance		*mine = NULL;
	struct store		*st;
	int			 res;

	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	if (in == NULL && (in = mine = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	res = load_visible(st, a, id, r, in, &facts, f);
	free(mine);
	return res;
}

/*
 * The delivery mode of an api_token r filed on instance in: delivery if
 * given, else the instance's default_delivery; either must be in its
 * allowed_deliveries (KW_ERR_POLICY).  A manual instance delivers only
 * what its provisioner pastes, a token: its default becomes `token`, and
 * asking it for a client is refused.
 */
static int
delivery_resolve(int delivery, const struct instance *in, struct request *r,
    struct kw_fail *f)
{
	int	mode = delivery, here = delivery >= 0, manual;

	if (r->kind != KIND_API_TOKEN) {
		if (here)
			return kw_fail(f, KW_ERR_VALIDATION, "delivery",
			    "'delivery' is only for kind \"api_token\": an "
			    "integration is delivered as its client's "
			    "identifier and secret");
		r->delivery_mode = DM_TOKEN;
		return 0;
	}
	if (here && mode >= DM__COUNT)
		return kw_fail(f, KW_ERR_VALIDATION, "delivery",
		    "'delivery' has an unknown value");
	manual = !issuance_automatic(in);
	if (!here)
		mode = manual ? DM_TOKEN : (int)in->default_delivery;
	if (manual && mode != DM_TOKEN)
		return kw_fail(f, KW_ERR_POLICY, NULL, "instance %s issues "
		    "by hand: it can deliver only \"token\", not \"%s\"",
		    in->name, credential_delivery_modes[mode]);
	if (in->allowed_deliveries != 0 &&
	    !(in->allowed_deliveries & (1u << mode)))
		return kw_fail(f, KW_ERR_POLICY, NULL, "instance %s does not "
		    "allow delivery \"%s\"", in->name,
		    credential_delivery_modes[mode]);
	r->delivery_mode = (enum delivery_mode)mode;
	return 0;
}

/* Load the instance a filing names (KW_ERR_VALIDATION if there is none)
 * and apply its policy to what r asks for (KW_ERR_POLICY with the
 * rule). */
static int
check_filing(struct store *st, const struct actor *a, const char *instance,
    int delivery, struct request *r, int direct, struct instance *in,
    struct kw_fail *f)
{
	struct filing	fl;
	char		why[256];
	int		res;

	if ((res = store_instance_get(st, instance, in)) != 0)
		return res == KW_ERR_NOT_FOUND ? kw_fail(f,
		    KW_ERR_VALIDATION, "instance", "'instance': no instance "
		    "'%s'", instance) : core_store_fail(res, "instance",
		    instance, f);
	memset(&fl, 0, sizeof(fl));
	fl.kind = r->kind;
	fl.nscopes = r->nscopes;
	fl.scopes = r->scopes;
	fl.lifetime_days = r->lifetime_days;
	fl.requester_active = a->person.active;
	fl.requester_has_manager = a->person.manager_id[0] != '\0';
	fl.direct = direct;
	fl.syntax = provider_scopes(in->provider);
	if (policy_check_filing(in, &fl, why, sizeof(why)) != 0)
		return kw_fail(f, KW_ERR_POLICY, fl.field, "%s", why);
	return delivery_resolve(delivery, in, r, f);
}

int
request_create(struct app *app, struct actor *a, const char *instance,
    int delivery, struct request *r, struct instance *in_out,
    struct history_entry *h_out, struct kw_fail *f)
{
	struct history_entry	 h;
	struct instance		 in;
	struct store		*st = NULL;
	time_t			 now = kw_now();
	int			 res;

	if ((res = core_tx_begin(app, a, &st, f)) != 0)
		return res;
	if ((res = check_filing(st, a, instance, delivery, r, 0, &in,
	    f)) != 0)
		goto out;
	crypto_random_id("req_", r->id, sizeof(r->id));
	kw_strlcpy(r->instance_id, in.id, sizeof(r->instance_id));
	kw_strlcpy(r->purpose, "request", sizeof(r->purpose));
	kw_strlcpy(r->requester_id, a->person.id, sizeof(r->requester_id));
	r->state = policy_filed_state(0, 0);
	request_link(app, r);
	kw_time_fmt(now, r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_time_fmt(now + (time_t)app->cfg.request_ttl_days * 86400,
	    r->expires_at, sizeof(r->expires_at));
	memset(&h, 0, sizeof(h));
	kw_strlcpy(h.at, r->created_at, sizeof(h.at));
	kw_strlcpy(h.actor, a->person.email, sizeof(h.actor));
	kw_strlcpy(h.action, "created", sizeof(h.action));
	if ((res = store_request_insert(st, r)) != 0 ||
	    (res = store_history_append(st, r->id, &h)) != 0) {
		res = core_store_fail(res, "request", r->id, f);
		goto out;
	}
	if ((res = core_audit(st, a, "request.create", r->id, json_pack(
	    "{s:s, s:s, s:i, s:s, s:s}", "instance", in.name, "kind",
	    request_kinds[r->kind], "lifetime_days", r->lifetime_days, "link",
	    r->link, "delivery", r->kind == KIND_API_TOKEN ?
	    credential_delivery_modes[r->delivery_mode] : "integration"), f)) != 0)
		goto out;
	/*
	 * The names the manager's message and the answer show, as a read
	 * back would join them: the instance read above and the requester
	 * the door re-read on this writer (actor->current), both in this
	 * transaction, which holds the write lock.  Without that check the
	 * person may be older: read the request back.  (seq is not known
	 * without reading it; nothing that creates a request uses it.)
	 */
	if (a->current != NULL) {
		kw_strlcpy(r->instance_name, in.name, sizeof(r->instance_name));
		kw_strlcpy(r->requester_email, a->person.email,
		    sizeof(r->requester_email));
		kw_strlcpy(r->manager_id, a->person.manager_id,
		    sizeof(r->manager_id));
		kw_strlcpy(r->manager_email, a->person.manager_email,
		    sizeof(r->manager_email));
		r->seq = 0;
	} else if ((res = store_request_get(st, r->id, r)) != 0)
		goto out;
	res = notify_request(&app->notify, st, NE_REQUEST_CREATED, r, NULL);
 out:
	if ((res = core_tx_end(app, res, f)) != 0)
		return res;
	/* committed as written above: the answer needs no read back */
	if (in_out != NULL)
		*in_out = in;
	if (h_out != NULL)
		*h_out = h;
	return 0;
}

/* Record a refused decision, in its own transaction (the refused change
 * itself was rolled back).  Best effort. */
static void
audit_refused(struct app *app, const struct actor *a, const char *id,
    enum req_action action, int err, const char *why)
{
	struct kw_fail	 f;
	struct store	*w;

	if (core_write_begin(app, &w) != 0)
		return;
	memset(&f, 0, sizeof(f));
	core_write_end(app, core_audit(w, a, "request.refused", id,
	    json_pack("{s:s, s:s, s:s}", "action", policy_action_name(action),
	    "error", kw_err_code(err), "reason", why), &f));
	kw_fail_clear(&f);
}

/* The provisioner approved: record the credential keywarden is about to
 * make (its intent), named with the request's link. */
static int
credential_intent(struct store *w, struct request *r, struct kw_fail *f)
{
	struct credential	*c;
	int			 res;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	credential_from_request(r, c);
	kw_strlcpy(r->credential_id, c->id, sizeof(r->credential_id));
	if ((res = store_credential_insert(w, c)) != 0)
		res = core_store_fail(res, "credential", c->id, f);
	free(c);
	return res;
}

/* Manual fulfilment: seal the secret for one-time delivery, keep its
 * fingerprint, and make the credential live. */
static int
fulfil(struct app *app, struct store *w, struct request *r,
    struct decision *d, json_t *details, struct kw_fail *f)
{
	struct credential	*c;
	struct person		 owner;
	int			 res;

	if (r->kind == KIND_INTEGRATION && d->external_id[0] == '\0')
		return kw_fail(f, KW_ERR_VALIDATION, "external_id",
		    "an integration needs 'external_id': the client "
		    "identifier it has on the instance");
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = store_credential_get(w, r->credential_id, c)) != 0) {
		res = core_store_fail(res, "credential", r->credential_id, f);
		goto out;
	}
	if (c->state != CS_PENDING) {
		res = kw_fail(f, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "is no longer waiting to be fulfilled", c->id);
		goto out;
	}
	if ((res = store_person_get(w, c->owner_id, &owner)) != 0) {
		res = core_store_fail(res, "person", c->owner_id, f);
		goto out;
	}
	if (!owner.active) {	/* no credential goes live for them */
		res = kw_fail(f, KW_ERR_CONFLICT, NULL, "the owner, %s, is "
		    "no longer active: nothing is issued to them; delete what "
		    "was created on the instance", owner.email);
		goto out;
	}
	if (d->external_id[0] != '\0' &&
	    (res = credential_external(c, json_pack("{s:s}",
	    "external_id", d->external_id))) != 0) {
		if (res == KW_ERR_VALIDATION)
			res = kw_fail(f, res, "external_id", "'external_id' "
			    "is too long once written as JSON");
		goto out;
	}
	if ((res = credential_activate(app, c, d->external_id,
	    d->secret, NULL)) != 0 ||
	    (res = store_credential_update(w, c)) != 0) {
		res = core_store_fail(res, "credential", c->id, f);
		goto out;
	}
	json_object_set_new(details, "credential_id", json_string(c->id));
	json_object_set_new(details, "fingerprint", json_string(c->fingerprint));
 out:
	kw_wipe(c, sizeof(*c));
	free(c);
	return res;
}

/*
 * Someone else took the issuance over between the approval's commit and
 * its own claim: the reconciliation pass (it finishes whatever is
 * `issuing`), on this node or another.  Wait, boundedly, for the request
 * to leave `issuing` and answer with its outcome as if this thread had
 * minted it.  (This runs on a call-out worker: the wait holds up no
 * other request.)
 */
static int
issued_elsewhere(struct store *st, const char *request_id,
    struct kw_fail *f)
{
	const struct timespec	 step = { 0, KW_ISSUANCE_POLL_MS * 1000000L };
	struct request		*r;
	uint64_t		 until;
	int			 res = KW_ERR_CONFLICT;

	if ((r = malloc(sizeof(*r))) == NULL)
		return kw_fail(f, KW_ERR_NOMEM, NULL, "out of memory");
	until = kw_mono_us() + (uint64_t)KW_ISSUANCE_WAIT_S * 1000000u;
	while (store_request_get(st, request_id, r) == 0) {
		if (r->state == RS_ISSUED) {
			res = 0;
			break;
		}
		if (r->state != RS_ISSUING) {
			kw_fail_details(f, json_pack("{s:s, s:s}",
			    "request_id", request_id, "state",
			    policy_state_name(r->state)));
			res = kw_fail(f, KW_ERR_UPSTREAM, NULL, "the instance "
			    "did not issue the credential; the request is now "
			    "%s (its history says why)",
			    policy_state_name(r->state));
			break;
		}
		if (kw_mono_us() >= until)
			break;
		nanosleep(&step, NULL);
	}
	free(r);
	if (res == KW_ERR_CONFLICT)	/* still issuing, or unreadable */
		res = kw_fail(f, KW_ERR_UNAVAILABLE, NULL, "the approval is "
		    "recorded and keywarden is issuing the credential; "
		    "GET /v1/requests/%s tells when it is done", request_id);
	return res;
}

/*
 * The approval is recorded (the request is `issuing`, the credential's
 * intent stored): now mint it on the instance.  A refusal there is an
 * answer for the provisioner (KW_ERR_UPSTREAM, the request is `failed`);
 * trouble with the store leaves the request to reconciliation.
 */
static int
issue_now(struct app *app, const struct actor *a, const char *request_id,
    struct kw_fail *f)
{
	struct issuance_outcome	o;
	struct store		*st;
	int			res;

	if ((st = core_store(app)) == NULL)
		res = KW_ERR_UNAVAILABLE;
	else
		res = issuance_run(app, st, a, request_id, NULL,
		    &o);
	if (res == KW_ERR_CONFLICT)
		return issued_elsewhere(st, request_id, f);
	if (res != 0)
		return kw_fail(f, KW_ERR_UNAVAILABLE, NULL, "the approval "
		    "is recorded but the outcome of the issuance could not be "
		    "(%s); keywarden will finish it", kw_strerror(res));
	if (o.issued)
		return 0;
	kw_fail_details(f, json_pack("{s:I, s:s, s:s, s:s}", "status",
	    (json_int_t)o.perr.status, "instance_error", o.perr.message,
	    "request_id", request_id, "state", "failed"));
	return kw_fail(f, KW_ERR_UPSTREAM, NULL, "the instance did not "
	    "issue the credential: %s; the request is now failed (its history "
	    "says why) and nothing was left on the instance", o.perr.message);
}

int
request_act(struct app *app, struct actor *a, const char *id,
    enum req_action action, struct decision *d, int defer_issuance,
    struct request *out, struct instance *in_out, struct kw_fail *f)
{
	static const char *const done_names[RA__COUNT] = {
		[RA_APPROVE] = "approved", [RA_DENY] = "denied",
		[RA_WITHDRAW] = "withdrawn", [RA_FULFIL] = "fulfilled",
	};
	static const enum notify_event events[RS__COUNT] = {
		[RS_PENDING_PROVISIONER] = NE_REQUEST_REVIEW,
		[RS_ISSUED] = NE_REQUEST_ISSUED,
		[RS_DENIED] = NE_REQUEST_DENIED,
		[RS_WITHDRAWN] = NE_REQUEST_WITHDRAWN,
	};
	struct decision_input	 in_d;
	struct actor_facts	 facts;
	struct request		*r;
	struct instance		 in;
	struct credential	*c = NULL;
	struct store		*st = NULL;
	enum req_state		 from, to;
	const char		*why = "";
	json_t			*details = NULL;
	int			 res, refused = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = core_tx_begin(app, a, &st, f)) != 0)
		goto done;
	if ((res = load_visible(st, a, id, r, &in, &facts, f)) != 0)
		goto out;
	memset(&in_d, 0, sizeof(in_d));
	in_d.kind = r->kind;
	in_d.acknowledge_risk = d->acknowledge_risk;
	in_d.has_comment = d->comment[strspn(d->comment, " \t")] != '\0';
	in_d.automatic = issuance_automatic(&in);
	from = r->state;
	/* the table decides, and the record takes the state it says; the
	 * store commits it only if the request is still in `from` */
	if ((res = policy_request_step(r, action, &facts, &in_d, &why)) != 0) {
		res = kw_fail(f, res, res == KW_ERR_VALIDATION ?
		    (action == RA_DENY ? "comment" : "acknowledge_risk") :
		    NULL, "%s", why);
		refused = res != KW_ERR_VALIDATION;
		goto out;
	}
	to = r->state;
	details = json_pack("{s:s, s:s, s:s}", "action",
	    policy_action_name(action), "from", policy_state_name(from), "to",
	    policy_state_name(to));
	if (action == RA_APPROVE && from == RS_PENDING_MANAGER)
		kw_strlcpy(r->manager_approver_id, a->person.id,
		    sizeof(r->manager_approver_id));
	if (action == RA_APPROVE && from == RS_PENDING_PROVISIONER)
		res = credential_intent(st, r, f);
	if (res == 0 && action == RA_FULFIL)
		res = fulfil(app, st, r, d, details, f);
	if (res == 0 && action == RA_WITHDRAW)
		res = credential_drop_intent(st, r);
	if (res != 0)
		goto out;
	kw_time_fmt(kw_now(), r->updated_at, sizeof(r->updated_at));
	if ((res = store_request_transition(st, r, from)) != 0 ||
	    (res = request_history_add(st, r->id, a->person.email,
	    done_names[action], d->comment)) != 0) {
		res = core_store_fail(res, "request", r->id, f);
		goto out;
	}
	if (d->comment[0] != '\0')
		json_object_set_new(details, "comment", json_string(d->comment));
	if ((res = core_audit(st, a, action == RA_FULFIL ? "request.fulfil" :
	    action == RA_APPROVE ? "request.approve" : action == RA_DENY ?
	    "request.deny" : "request.withdraw", r->id, json_incref(details),
	    f)) != 0)
		goto out;
	if (to == RS_PENDING_PROVISIONER || to == RS_ISSUED ||
	    to == RS_DENIED || to == RS_WITHDRAWN) {
		if (to == RS_ISSUED && (c = malloc(sizeof(*c))) != NULL &&
		    store_credential_get(st, r->credential_id, c) != 0) {
			free(c);
			c = NULL;
		}
		res = notify_request(&app->notify, st, events[to], r, c);
	}
 out:
	res = core_tx_end(app, res, f);
	if (refused)
		audit_refused(app, a, id, action, res, why);
	if (res == 0 && r->state == RS_ISSUING) {
		if (defer_issuance)
			ticker_wake("reconcile");	/* finishes it soon */
		else
			res = issue_now(app, a, r->id, f);
	}
	if (res == 0 && out != NULL) {
		if ((st = core_store(app)) == NULL ||
		    (res = store_request_get(st, r->id, out)) != 0)
			res = core_store_fail(st == NULL ? KW_ERR_UNAVAILABLE :
			    res, "request", r->id, f);
	}
	if (res == 0 && in_out != NULL)
		*in_out = in;
 done:
	json_decref(details);
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	free(r);
	return res;
}

int
request_direct_allowed(const struct actor *a, struct kw_fail *f)
{
	size_t i;

	for (i = 0; i < a->person.nteams; i++)
		if (strcmp(a->person.teams[i], "support-ops") == 0)
			return 0;
	return kw_fail(f, KW_ERR_FORBIDDEN, NULL, "only members of the team "
	    "support-ops may issue credentials without a request; file a "
	    "request instead");
}

/*
 * The support-ops exception is recorded like every request (a request of
 * purpose personal/automation, born approved, with its history saying
 * why) and the credential is named with the given link.  Until the
 * instance is called automatically, the member fulfils it themselves.
 */
int
request_create_direct(struct app *app, struct actor *a, const char *instance,
    const char *purpose, int delivery, struct request *r,
    struct credential *c, struct kw_fail *f)
{
	struct instance	 in;
	struct store	*st = NULL;
	time_t		 now = kw_now();
	int		 res;

	if ((res = request_direct_allowed(a, f)) != 0)
		return res;
	if ((res = core_tx_begin(app, a, &st, f)) != 0)
		return res;
	r->kind = KIND_API_TOKEN;
	if ((res = check_filing(st, a, instance, delivery, r, 1, &in,
	    f)) != 0)
		goto out;
	crypto_random_id("req_", r->id, sizeof(r->id));
	kw_strlcpy(r->instance_id, in.id, sizeof(r->instance_id));
	kw_strlcpy(r->purpose, purpose, sizeof(r->purpose));
	kw_strlcpy(r->requester_id, a->person.id, sizeof(r->requester_id));
	r->kind = KIND_API_TOKEN;
	r->state = policy_filed_state(1, issuance_automatic(&in));
	request_link(app, r);
	snprintf(r->justification, sizeof(r->justification),
	    "support-ops %s credential (no request flow)", purpose);
	kw_strlcpy(r->use_case, r->link, sizeof(r->use_case));
	kw_time_fmt(now, r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_strlcpy(r->expires_at, r->created_at, sizeof(r->expires_at));
	credential_from_request(r, c);
	kw_strlcpy(r->credential_id, c->id, sizeof(r->credential_id));
	if ((res = store_request_insert(st, r)) != 0 ||
	    (res = request_history_add(st, r->id, a->person.email, "created",
	    "support-ops exception: issued without approvals")) != 0 ||
	    (res = store_credential_insert(st, c)) != 0) {
		res = core_store_fail(res, "credential", c->id, f);
		goto out;
	}
	res = core_audit(st, a, "credential.create_direct", c->id, json_pack(
	    "{s:s, s:s, s:s, s:s, s:s}", "instance", in.name, "purpose",
	    purpose, "link", r->link, "request_id", r->id,
	    "delivery", credential_delivery_modes[r->delivery_mode]), f);
 out:
	if ((res = core_tx_end(app, res, f)) != 0)
		return res;
	if (r->state == RS_ISSUING && (res = issue_now(app, a, r->id, f)) != 0)
		return res;
	if ((st = core_store(app)) == NULL ||
	    (res = store_credential_get(st, c->id, c)) != 0)
		return core_store_fail(st == NULL ? KW_ERR_UNAVAILABLE : res,
		    "credential", c->id, f);
	return 0;
}

/*
 * Rotation: a successor with the same instance, kind, scopes, name and
 * owner.  Rotation replaces the secret, never the approval: the
 * successor keeps the predecessor's expires_at (capped by the instance's
 * maximum lifetime of today), today's instance policy applies to what it
 * would mint (KW_ERR_POLICY), and an owner who is no longer active gets
 * none (KW_ERR_CONFLICT).  Like the support-ops exception it is recorded
 * as a request born approved (its history says it is a rotation), so
 * issuance, manual fulfilment, reconciliation and notifications all work
 * the same.  The predecessor stays active for the instance's grace
 * period; the jobs revoke it then.
 */

/* Check that old may be rotated today; *until gets the successor's
 * expiry (the predecessor's, capped by the instance's maximum). */
static int
rotation_allowed(struct store *st, const struct credential *old,
    const struct request *orig, const struct instance *in, time_t *until,
    struct kw_fail *f)
{
	struct person	 owner;
	struct filing	 fl;
	time_t		 now = kw_now(), cap;
	char		 why[256];
	int		 res;

	if ((res = store_person_get(st, old->owner_id, &owner)) != 0)
		return core_store_fail(res, "person", old->owner_id, f);
	if (!owner.active)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "the owner of "
		    "'%.64s', %s, is no longer active: a rotation would give "
		    "them a new secret; revoke the credential instead",
		    old->id, owner.email);
	if (kw_time_parse(old->expires_at, until) != 0 || *until <= now)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' has reached its expiry; file a new request",
		    old->id);
	cap = now + (time_t)in->max_lifetime_days * 86400;
	if (*until > cap)
		*until = cap;
	memset(&fl, 0, sizeof(fl));
	fl.kind = old->kind;
	fl.nscopes = orig->nscopes;
	fl.scopes = orig->scopes;
	fl.lifetime_days = (int)((*until - now + 86399) / 86400);
	fl.requester_active = 1;	/* checked above, as a conflict */
	fl.direct = 1;			/* approved already: no manager */
	fl.syntax = provider_scopes(in->provider);
	if (policy_check_filing(in, &fl, why, sizeof(why)) != 0)
		return kw_fail(f, KW_ERR_POLICY, NULL, "%s: the instance's "
		    "policy no longer allows what '%.64s' holds; file a new "
		    "request", why, old->id);
	return 0;
}

static int
rotation_prepare(struct store *st, const struct actor *a,
    struct credential *old, struct request *r, struct credential *c,
    struct instance *in, struct kw_fail *f)
{
	struct request	 orig;
	time_t		 now = kw_now(), until;
	char		 note[KW_COMMENT_MAX + 1];
	int		 res;

	if (old->state != CS_ACTIVE || old->kind == KIND_LEGACY)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "only an active "
		    "keywarden credential can be rotated");
	if (old->rotated_to[0] != '\0')
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' was already rotated to '%.64s'", old->id,
		    old->rotated_to);
	if ((res = store_request_get(st, old->request_id, &orig)) != 0 ||
	    (res = store_instance_get(st, old->instance_id, in)) != 0)
		return core_store_fail(res, "request", old->request_id, f);
	if ((res = rotation_allowed(st, old, &orig, in, &until, f)) != 0)
		return res;
	/* the successor: the original request's terms, the same expiry */
	*r = orig;
	crypto_random_id("req_", r->id, sizeof(r->id));
	r->lifetime_days = (int)((until - now + 86399) / 86400);
	r->state = policy_filed_state(1, issuance_automatic(in));
	r->manager_approver_id[0] = '\0';
	kw_time_fmt(now, r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_strlcpy(r->expires_at, r->created_at, sizeof(r->expires_at));
	credential_from_request(r, c);
	kw_time_fmt(until, c->expires_at, sizeof(c->expires_at)); /* ceiling */
	kw_strlcpy(c->name, old->name, sizeof(c->name));
	kw_strlcpy(c->rotated_from, old->id, sizeof(c->rotated_from));
	kw_strlcpy(r->credential_id, c->id, sizeof(r->credential_id));
	kw_strlcpy(old->rotated_to, c->id, sizeof(old->rotated_to));
	kw_time_fmt(now + (time_t)in->grace_days * 86400, old->grace_until,
	    sizeof(old->grace_until));
	snprintf(note, sizeof(note), "rotation of %s by %s", old->id,
	    a->person.email);
	if ((res = store_request_insert(st, r)) != 0 ||
	    (res = request_history_add(st, r->id, a->person.email, "created",
	    note)) != 0 ||
	    (res = store_credential_insert(st, c)) != 0 ||
	    (res = store_credential_update(st, old)) != 0)
		return core_store_fail(res, "credential", c->id, f);
	return core_audit(st, a, "credential.rotate", old->id, json_pack(
	    "{s:s, s:s, s:s, s:s}", "successor", c->id, "request_id", r->id,
	    "grace_until", old->grace_until, "expires_at", c->expires_at), f);
}

/* The successor could not be minted: the predecessor is no longer
 * rotated (it can be rotated again), in its own transaction. */
static void
rotation_undo(struct app *app, const struct actor *a, const char *old_id)
{
	struct credential	*old;
	struct store		*w;
	struct kw_fail		 f;
	int			 r;

	if ((old = malloc(sizeof(*old))) == NULL)
		return;
	memset(&f, 0, sizeof(f));
	if (core_write_begin(app, &w) == 0) {
		r = store_credential_get(w, old_id, old);
		if (r == 0) {
			old->rotated_to[0] = old->grace_until[0] = '\0';
			if ((r = store_credential_update(w, old)) == 0)
				r = core_audit(w, a, "credential.rotate_failed",
				    old_id, NULL, &f);
		}
		core_write_end(app, r);
	}
	kw_fail_clear(&f);
	kw_wipe(old, sizeof(*old));
	free(old);
}

/* The same rules as for a successor (today's instance policy, an active
 * owner) before a broker credential is rotated in place; r is scratch. */
static int
broker_rotation_check(struct store *st, const struct credential *old,
    struct request *r, const struct instance *in, struct kw_fail *f)
{
	time_t	until;
	int	res;

	if (old->state != CS_ACTIVE)
		return kw_fail(f, KW_ERR_CONFLICT, NULL, "only an active "
		    "keywarden credential can be rotated");
	if ((res = store_request_get(st, old->request_id, r)) != 0)
		return core_store_fail(res, "request", old->request_id, f);
	return rotation_allowed(st, old, r, in, &until, f);
}

/* A broker credential is rotated in place (same id, bound tokens keep
 * working): a new client secret on the instance, sealed instead. */
static int
rotate_in_place(struct app *app, const struct actor *a, const char *id,
    struct kw_fail *f)
{
	struct provider_error	 perr;
	struct store		*st;
	int			 res;

	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	res = issuance_rotate_broker(app, st, a, id, &perr);
	switch (res) {
	case 0:
		return 0;
	case KW_ERR_CONFLICT:
		return kw_fail(f, res, NULL, "only an active broker "
		    "credential minted by keywarden can be rotated in place");
	case KW_ERR_UPSTREAM:
		kw_fail_details(f, json_pack("{s:I, s:s}", "status",
		    (json_int_t)perr.status, "instance_error", perr.message));
		return kw_fail(f, res, NULL, "the instance did not give the "
		    "client a new secret: %s; nothing changed", perr.message);
	default:
		return core_store_fail(res, "credential", id, f);
	}
}

/* 1 if me is the current manager of c's owner. */
static int
owners_manager(struct store *st, const struct credential *c,
    const struct person *me)
{
	struct person owner;

	return store_person_get(st, c->owner_id, &owner) == 0 &&
	    strcmp(owner.manager_id, me->id) == 0;
}

/* Who may rotate old: its owner, a provisioner of its instance, an
 * admin.  Who may see it (an auditor, the owner's manager) is told why;
 * anyone else does not learn it exists. */
static int
rotation_who(struct store *st, const struct actor *a, const char *id,
    const struct credential *old, const struct instance *in,
    struct kw_fail *f)
{
	const struct person	*me = &a->person;
	size_t			 i;

	if (me->id[0] != '\0' && strcmp(old->owner_id, me->id) == 0)
		return 0;
	if (actor_has_role(a, ROLE_ADMIN))
		return 0;
	for (i = 0; i < in->nprovisioners; i++)
		if (me->id[0] != '\0' &&
		    strcmp(in->provisioners[i].id, me->id) == 0)
			return 0;
	return actor_has_role(a, ROLE_AUDITOR) || owners_manager(st, old, me) ?
	    kw_fail(f, KW_ERR_FORBIDDEN, NULL, "only the owner, a provisioner "
	    "of the instance or an admin may rotate") : kw_fail(f,
	    KW_ERR_NOT_FOUND, NULL, "no credential '%.64s'", id);
}

int
request_rotate(struct app *app, struct actor *a, const char *id,
    struct credential *out, struct kw_fail *f)
{
	struct credential	*old, *c;
	struct request		*r;
	struct instance		*in;
	struct store		*st = NULL;
	int			 res, broker = 0;

	old = malloc(sizeof(*old));
	c = malloc(sizeof(*c));
	r = malloc(sizeof(*r));
	in = malloc(sizeof(*in));
	if (old == NULL || c == NULL || r == NULL || in == NULL) {
		res = KW_ERR_NOMEM;
		goto done;
	}
	if ((res = core_tx_begin(app, a, &st, f)) != 0)
		goto done;
	if ((res = store_credential_get(st, id, old)) != 0 ||
	    (res = store_instance_get(st, old->instance_id, in)) != 0) {
		res = core_store_fail(res, "credential", id, f);
		goto out;
	}
	if ((res = rotation_who(st, a, id, old, in, f)) != 0)
		goto out;
	broker = old->kind == KIND_API_TOKEN && old->delivery_mode == DM_BROKER;
	if (broker)
		res = broker_rotation_check(st, old, r, in, f);
	else
		res = rotation_prepare(st, a, old, r, c, in, f);
 out:
	res = core_tx_end(app, res, f);
	if (broker) {
		if (res == 0 && (res = rotate_in_place(app, a, old->id,
		    f)) == 0)
			kw_strlcpy(c->id, old->id, sizeof(c->id));
	} else if (res == 0 && r->state == RS_ISSUING &&
	    (res = issue_now(app, a, r->id, f)) != 0)
		rotation_undo(app, a, old->id);
	if (res == 0 && ((st = core_store(app)) == NULL ||
	    (res = store_credential_get(st, c->id, out)) != 0))
		res = core_store_fail(st == NULL ? KW_ERR_UNAVAILABLE : res,
		    "credential", c->id, f);
 done:
	if (old != NULL)
		kw_wipe(old, sizeof(*old));
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(old);
	free(c);
	free(r);
	free(in);
	return res;
}
