/*
 * requests.c — /v1/requests: filing an access request, the manager's and
 * the provisioner's decisions, withdrawal and manual fulfilment.  Who may
 * act is decided by policy/workflow.c; this file gathers the facts,
 * applies the decision and records it (history + audit) in the same
 * transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/issuance.h"
#include "api/valid.h"
#include "crypto/crypto.h"
#include "notify/notify.h"
#include "ticker.h"
#include "policy/workflow.h"
#include "util/util.h"

static const char *const request_fields[] = {
	"instance", "kind", "justification", "use_case", "scopes",
	"lifetime_days", "access_request_url", "integration", "delivery", NULL
};
static const char *const integration_fields[] = {
	"name", "redirect_uris", "client_kind", NULL
};
static const char *const kinds[] = { "api_token", "integration", NULL };
static const char *const client_kinds[] = { "confidential", "public", NULL };

void
api_request_link(const struct app *app, struct request *r)
{
	if (r->access_request_url[0] != '\0')
		kw_strlcpy(r->link, r->access_request_url, sizeof(r->link));
	else if ((size_t)snprintf(r->link, sizeof(r->link), "%s/requests/%s",
	    app->public_url, r->id) >= sizeof(r->link))
		r->link[0] = '\0';	/* cannot happen: public_url is bounded */
}

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
api_request_json(const struct request *r)
{
	json_t	*o, *scopes = json_array(), *integ = json_null(), *uris;
	size_t	 i;

	for (i = 0; i < r->nscopes; i++)
		json_array_append_new(scopes, json_string(r->scopes[i]));
	if (r->integration.present) {
		uris = json_array();
		for (i = 0; i < r->integration.nredirects; i++)
			json_array_append_new(uris, json_string(
			    r->integration.redirect_uris[i]));
		integ = json_pack("{s:s, s:o, s:s}", "name",
		    r->integration.name, "redirect_uris", uris, "client_kind",
		    client_kinds[r->integration.client_kind]);
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:o,"
	    " s:i}", "id", r->id, "instance", r->instance_name, "kind",
	    kinds[r->kind], "state", policy_state_name(r->state), "purpose",
	    r->purpose, "requester", r->requester_email, "manager",
	    str_or_null(r->manager_email), "justification", r->justification,
	    "use_case", r->use_case, "scopes", scopes, "lifetime_days",
	    r->lifetime_days);
	if (o == NULL) {
		json_decref(integ);
		return NULL;
	}
	json_object_set_new(o, "access_request_url",
	    str_or_null(r->access_request_url));
	json_object_set_new(o, "link", json_string(r->link));
	json_object_set_new(o, "integration", integ);
	json_object_set_new(o, "credential_id", str_or_null(r->credential_id));
	json_object_set_new(o, "delivery", json_string(r->kind ==
	    KIND_API_TOKEN ? api_delivery_modes[r->delivery_mode] :
	    "integration"));
	json_object_set_new(o, "created_at", json_string(r->created_at));
	json_object_set_new(o, "updated_at", json_string(r->updated_at));
	json_object_set_new(o, "expires_at", policy_state_final(r->state) ||
	    r->state == RS_AWAITING_FULFILMENT ? json_null() :
	    json_string(r->expires_at));
	return o;
}

static int
history_one(const struct history_entry *h, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:o}", "at",
	    h->at, "actor", h->actor, "action", h->action, "comment",
	    str_or_null(h->comment)));
	return 0;
}

int
api_request_history(struct store *st, const char *id, json_t *o)
{
	json_t	*h = json_array();
	int	 r;

	if ((r = store_history_each(st, id, history_one, h)) != 0) {
		json_decref(h);
		return r;
	}
	json_object_set_new(o, "history", h);
	return 0;
}

static int
valid_redirect(const char *s)
{
	return kw_valid_url(s, 1);
}

/* Read the "integration" object of a request body. */
static int
integration_parse(struct http_req *rq, json_t *b, struct integration_spec *in)
{
	json_t	*o = json_object_get(b, "integration");
	int	 ck = 0, r;

	memset(in, 0, sizeof(*in));
	if (o == NULL || json_is_null(o))
		return http_fail(rq, KW_ERR_VALIDATION, "integration",
		    "an integration request needs \"integration\": {\"name\", "
		    "\"redirect_uris\", \"client_kind\"}");
	if (!json_is_object(o))
		return http_fail(rq, KW_ERR_VALIDATION, "integration",
		    "'integration' must be an object");
	if ((r = jv_known(rq, o, integration_fields)) != 0 ||
	    (r = jv_str(rq, o, "name", JV_REQUIRED, KW_NAME_MAX, in->name,
	    sizeof(in->name), NULL)) != 0 ||
	    (r = jv_strs(rq, o, "redirect_uris", 0, KW_REDIRECT_URIS_MAX,
	    &in->redirect_uris[0][0], sizeof(in->redirect_uris[0]),
	    &in->nredirects, valid_redirect, "https URL", NULL)) != 0 ||
	    (r = jv_enum(rq, o, "client_kind", 0, client_kinds, &ck,
	    NULL)) != 0) {
		kw_fail_nest(&rq->fail, "integration");
		return r;
	}
	in->client_kind = ck ? CLIENT_PUBLIC : CLIENT_CONFIDENTIAL;
	in->present = 1;
	return 0;
}

/* Parse a POST /v1/requests body into r (everything but ids/times). */
static int
request_parse(struct http_req *rq, json_t *b, struct request *r,
    char *instance, size_t instancesz)
{
	int kind = 0, here, res;

	if ((res = jv_known(rq, b, request_fields)) != 0 ||
	    (res = jv_str(rq, b, "instance", JV_REQUIRED, KW_INSTANCE_NAME_MAX,
	    instance, instancesz, NULL)) != 0 ||
	    (res = jv_enum(rq, b, "kind", JV_REQUIRED, kinds, &kind,
	    NULL)) != 0 ||
	    (res = jv_str(rq, b, "justification", JV_REQUIRED, KW_TEXT_MAX,
	    r->justification, sizeof(r->justification), NULL)) != 0 ||
	    (res = jv_str(rq, b, "use_case", JV_REQUIRED, KW_TEXT_MAX,
	    r->use_case, sizeof(r->use_case), NULL)) != 0 ||
	    (res = jv_int(rq, b, "lifetime_days", JV_REQUIRED, 1,
	    KW_LIFETIME_DAYS_MAX, &r->lifetime_days, NULL)) != 0 ||
	    (res = jv_str(rq, b, "access_request_url", JV_NULLABLE, KW_URL_MAX,
	    r->access_request_url, sizeof(r->access_request_url),
	    &here)) != 0)
		return res;
	r->kind = kind ? KIND_INTEGRATION : KIND_API_TOKEN;
	if (r->access_request_url[0] != '\0' &&
	    !kw_valid_url(r->access_request_url, 0))
		return http_fail(rq, KW_ERR_VALIDATION, "access_request_url",
		    "'access_request_url' must be an https:// URL");
	if ((res = jv_strs(rq, b, "scopes", r->kind == KIND_API_TOKEN ?
	    JV_REQUIRED : 0, KW_SCOPES_MAX, &r->scopes[0][0],
	    sizeof(r->scopes[0]), &r->nscopes, NULL, "scope", NULL)) != 0)
		return res;
	if (r->kind == KIND_API_TOKEN && r->nscopes == 0)
		return http_fail(rq, KW_ERR_VALIDATION, "scopes",
		    "an api_token needs at least one scope");
	if (r->kind == KIND_INTEGRATION)
		return integration_parse(rq, b, &r->integration);
	if (json_object_get(b, "integration") != NULL &&
	    !json_is_null(json_object_get(b, "integration")))
		return http_fail(rq, KW_ERR_VALIDATION, "integration",
		    "'integration' is only for kind \"integration\"");
	return 0;
}

/* The facts of the caller against request r on instance in. */
static void
facts_for(const struct http_req *rq, const struct request *r,
    const struct instance *in, struct actor_facts *f)
{
	const struct person	*me = api_me(rq);
	size_t			 i;

	memset(f, 0, sizeof(*f));
	f->is_requester = strcmp(r->requester_id, me->id) == 0;
	f->is_manager = r->manager_id[0] != '\0' &&
	    strcmp(r->manager_id, me->id) == 0;
	f->gave_manager_approval = r->manager_approver_id[0] != '\0' &&
	    strcmp(r->manager_approver_id, me->id) == 0;
	f->direct = strcmp(r->purpose, "request") != 0;
	for (i = 0; i < in->nprovisioners; i++)
		if (strcmp(in->provisioners[i].id, me->id) == 0)
			f->is_provisioner = 1;
}

static int
may_see(const struct http_req *rq, const struct actor_facts *f)
{
	return api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR) || f->is_requester ||
	    f->is_manager || f->is_provisioner;
}

/*
 * Load request id with its instance and the caller's facts; a request
 * the caller may not see is "not found".
 */
static int
load_visible(struct http_req *rq, struct store *st, const char *id,
    struct request *r, struct instance *in, struct actor_facts *f)
{
	int res;

	if ((res = store_request_get(st, id, r)) != 0 ||
	    (res = store_instance_get(st, r->instance_id, in)) != 0)
		return api_store_fail(rq, res, "request", id);
	facts_for(rq, r, in, f);
	if (!may_see(rq, f))
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL,
		    "no request '%.64s'", id);
	return 0;
}

int
api_history_add(struct store *st, const char *request_id, const char *actor,
    const char *action, const char *comment)
{
	struct history_entry h;

	memset(&h, 0, sizeof(h));
	kw_time_fmt(kw_now(), h.at, sizeof(h.at));
	kw_strlcpy(h.actor, actor, sizeof(h.actor));
	kw_strlcpy(h.action, action, sizeof(h.action));
	kw_strlcpy(h.comment, comment ? comment : "", sizeof(h.comment));
	return store_history_append(st, request_id, &h);
}

/* What the provisioner creates by hand: an API token's OAuth client is
 * named with the request's link; an integration keeps its own name and
 * carries the link in its description (as automatic issuance does). */
static json_t *
fulfilment_json(const struct request *r, const struct instance *in)
{
	char ident[KW_ID_MAX + 16];

	snprintf(ident, sizeof(ident), "keywarden-%s", r->credential_id);
	if (r->kind == KIND_INTEGRATION)
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name",
		    r->integration.name, "description", r->link, "identifier",
		    ident, "instance_url", in->url, "credential_id",
		    r->credential_id, "instructions", "Create the OAuth client "
		    "on the instance as its Integration bot, with exactly this "
		    "name, identifier and description, then POST its secret "
		    "and identifier (external_id) to /v1/requests/{id}/fulfil; "
		    "never send it in chat.");
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", r->link,
	    "identifier", ident, "instance_url", in->url, "credential_id",
	    r->credential_id, "instructions", "Create the credential on the "
	    "instance with exactly this name, then POST its secret to "
	    "/v1/requests/{id}/fulfil; never send it in chat.");
}

/* The request's JSON with its history (and what to name the credential
 * while it waits for manual fulfilment). */
static int
request_answer(struct http_req *rq, struct store *st, const struct request *r,
    const struct instance *in, json_t **out)
{
	json_t	*o;
	int	 res;

	if ((o = api_request_json(r)) == NULL)
		return KW_ERR_NOMEM;
	if ((res = api_request_history(st, r->id, o)) != 0) {
		json_decref(o);
		return api_store_fail(rq, res, "request", r->id);
	}
	if (r->state == RS_AWAITING_FULFILMENT)
		json_object_set_new(o, "fulfilment", fulfilment_json(r, in));
	*out = o;
	return 0;
}

/*
 * The delivery mode of an api_token filed with body b on instance in:
 * "delivery" if given, else the instance's default_delivery; either must
 * be in its allowed_deliveries (422).  A manual instance delivers only
 * what its provisioner pastes, a token: its default becomes `token`, and
 * asking it for a client is refused (422).
 */
static int
delivery_resolve(struct http_req *rq, json_t *b, const struct instance *in,
    struct request *r)
{
	int	mode = 0, here = 0, res, manual;

	if ((res = jv_enum(rq, b, "delivery", JV_NULLABLE, api_delivery_modes,
	    &mode, &here)) != 0)
		return res;
	here = here && !json_is_null(json_object_get(b, "delivery"));
	if (r->kind != KIND_API_TOKEN) {
		if (here)
			return http_fail(rq, KW_ERR_VALIDATION, "delivery",
			    "'delivery' is only for kind \"api_token\": an "
			    "integration is delivered as its client's "
			    "identifier and secret");
		r->delivery_mode = DM_TOKEN;
		return 0;
	}
	manual = !issuance_automatic(in);
	if (!here)
		mode = manual ? DM_TOKEN : (int)in->default_delivery;
	if (manual && mode != DM_TOKEN)
		return http_fail(rq, KW_ERR_POLICY, NULL, "instance %s issues "
		    "by hand: it can deliver only \"token\", not \"%s\"",
		    in->name, api_delivery_modes[mode]);
	if (in->allowed_deliveries != 0 &&
	    !(in->allowed_deliveries & (1u << mode)))
		return http_fail(rq, KW_ERR_POLICY, NULL, "instance %s does not "
		    "allow delivery \"%s\"", in->name,
		    api_delivery_modes[mode]);
	r->delivery_mode = (enum delivery_mode)mode;
	return 0;
}

/* Load the instance a filing names (400 if there is none) and apply its
 * policy to what r asks for (422 with the rule). */
static int
check_filing(struct http_req *rq, struct store *st, const char *instance,
    struct request *r, int direct, struct instance *in)
{
	const struct person	*me = api_me(rq);
	struct filing		 fl;
	char			 why[256];
	int			 res;

	if ((res = store_instance_get(st, instance, in)) != 0)
		return res == KW_ERR_NOT_FOUND ? http_fail(rq,
		    KW_ERR_VALIDATION, "instance", "'instance': no instance "
		    "'%s'", instance) : api_store_fail(rq, res, "instance",
		    instance);
	memset(&fl, 0, sizeof(fl));
	fl.kind = r->kind;
	fl.nscopes = r->nscopes;
	fl.scopes = r->scopes;
	fl.lifetime_days = r->lifetime_days;
	fl.requester_active = me->active;
	fl.requester_has_manager = me->manager_id[0] != '\0';
	fl.direct = direct;
	if (policy_check_filing(in, &fl, why, sizeof(why)) != 0)
		return http_fail(rq, KW_ERR_POLICY, fl.field, "%s", why);
	return delivery_resolve(rq, rq->body, in, r);
}

int
api_requests_create(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	const struct person	*me = api_me(rq);
	struct request		*r;
	struct instance		 in;
	struct store		*st = NULL;
	char			 instance[KW_INSTANCE_NAME_MAX + 1];
	time_t			 now = kw_now();
	int			 res;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = request_parse(rq, rq->body, r, instance,
	    sizeof(instance))) != 0)
		goto done;
	if ((res = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((res = check_filing(rq, st, instance, r, 0, &in)) != 0)
		goto out;
	crypto_random_id("req_", r->id, sizeof(r->id));
	kw_strlcpy(r->instance_id, in.id, sizeof(r->instance_id));
	kw_strlcpy(r->purpose, "request", sizeof(r->purpose));
	kw_strlcpy(r->requester_id, me->id, sizeof(r->requester_id));
	r->state = RS_PENDING_MANAGER;
	api_request_link(app, r);
	kw_time_fmt(now, r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_time_fmt(now + (time_t)app->cfg.request_ttl_days * 86400,
	    r->expires_at, sizeof(r->expires_at));
	if ((res = store_request_insert(st, r)) != 0 ||
	    (res = api_history_add(st, r->id, me->email, "created", NULL)) != 0) {
		res = api_store_fail(rq, res, "request", r->id);
		goto out;
	}
	if ((res = api_audit(rq, st, "request.create", r->id, json_pack(
	    "{s:s, s:s, s:i, s:s, s:s}", "instance", in.name, "kind",
	    kinds[r->kind], "lifetime_days", r->lifetime_days, "link",
	    r->link, "delivery", r->kind == KIND_API_TOKEN ?
	    api_delivery_modes[r->delivery_mode] : "integration"))) != 0)
		goto out;
	/* the answer and the manager's message show names: read it back */
	if ((res = store_request_get(st, r->id, r)) == 0)
		res = notify_request(app, st, NE_REQUEST_CREATED, r, NULL);
 out:
	res = api_tx_end(rq, &st, res);
	if (res == 0) {
		/* re-read: the answer shows names, manager and history */
		if ((res = store_request_get(st, r->id, r)) == 0 &&
		    (res = request_answer(rq, st, r, &in, &rs->body)) == 0)
			rs->status = 201;
	}
 done:
	free(r);
	return res;
}

int
api_requests_get(struct http_req *rq, struct http_resp *rs)
{
	struct request		*r;
	struct instance		 in;
	struct actor_facts	 f;
	struct store		*st;
	int			 res;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = malloc(sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = load_visible(rq, st, rq->params[0], r, &in, &f)) == 0)
		res = request_answer(rq, st, r, &in, &rs->body);
	free(r);
	return res;
}

/* Listing: the store applies visibility and filters; "actionable" is
 * decided here by the same policy that decides the actions. */
struct list_walk {
	struct http_req		*rq;
	struct store		*st;
	json_t			*items;
	size_t			 limit;
	int			 actionable;
	int64_t			 last;		/* last seq examined */
	size_t			 scanned;
	struct instance		 in;		/* cache of the last one */
};

static int
list_one(const struct request *r, void *arg)
{
	struct list_walk	*w = arg;
	struct actor_facts	 f;
	json_t			*o;

	w->last = r->seq;
	w->scanned++;
	if (w->actionable) {
		if (strcmp(w->in.id, r->instance_id) != 0 &&
		    store_instance_get(w->st, r->instance_id, &w->in) != 0)
			return KW_ERR_UNAVAILABLE;
		facts_for(w->rq, r, &w->in, &f);
		if (!policy_actionable(r->state, &f))
			return 0;
	}
	if ((o = api_request_json(r)) == NULL)
		return KW_ERR_NOMEM;
	json_array_append_new(w->items, o);
	return json_array_size(w->items) >= w->limit ? 1 : 0;
}

static int
list_filter(struct http_req *rq, struct store *st, struct request_filter *f,
    char *inst_id, char *req_id, int *actionable)
{
	const char	*v;
	struct instance	*in;
	struct person	 p;
	enum req_state	 s;
	int		 res;

	*actionable = 0;
	if ((v = http_query(rq, "state")) != NULL && *v != '\0') {
		if (policy_state_parse(v, &s) != 0)
			return http_fail(rq, KW_ERR_VALIDATION, "state",
			    "'state' has an unknown value '%.64s'", v);
		f->states = 1u << s;
	}
	if ((v = http_query(rq, "instance")) != NULL && *v != '\0') {
		if ((in = malloc(sizeof(*in))) == NULL)
			return KW_ERR_NOMEM;
		res = store_instance_get(st, v, in);
		kw_strlcpy(inst_id, in->id, KW_ID_MAX + 1);
		free(in);
		if (res != 0)
			return res == KW_ERR_NOT_FOUND ? http_fail(rq,
			    KW_ERR_VALIDATION, "instance", "no instance "
			    "'%.64s'", v) : api_store_fail(rq, res, "", "");
		f->instance_id = inst_id;
	}
	if ((v = http_query(rq, "requester")) != NULL && *v != '\0') {
		if ((res = store_person_get(st, v, &p)) != 0)
			return res == KW_ERR_NOT_FOUND ? http_fail(rq,
			    KW_ERR_VALIDATION, "requester", "no person "
			    "'%.64s'", v) : api_store_fail(rq, res, "", "");
		kw_strlcpy(req_id, p.id, KW_ID_MAX + 1);
		f->requester_id = req_id;
	}
	if ((v = http_query(rq, "actionable")) != NULL && *v != '\0') {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return http_fail(rq, KW_ERR_VALIDATION, "actionable",
			    "'actionable' must be true or false");
		*actionable = strcmp(v, "true") == 0;
	}
	return 0;
}

int
api_requests_list(struct http_req *rq, struct http_resp *rs)
{
	struct request_filter	 f;
	struct list_walk	*w;
	struct store		*st;
	char			 inst_id[KW_ID_MAX + 1], req_id[KW_ID_MAX + 1];
	long long		 after;
	int64_t			 before;
	int			 res, more = 0;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	memset(&f, 0, sizeof(f));
	f.viewer_id = api_me(rq)->id;
	f.viewer_all = api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = jv_page(rq, &w->limit, &after)) != 0 ||
	    (res = list_filter(rq, st, &f, inst_id, req_id,
	    &w->actionable)) != 0)
		goto out;
	w->rq = rq;
	w->st = st;
	w->items = json_array();
	w->last = after;
	/* Walk pages until the answer is full, the store is exhausted, or
	 * the scan budget is spent (the cursor then resumes the scan). */
	do {
		before = w->last;
		res = store_request_each(st, &f, w->last, w->limit, list_one, w);
		if (res < 0) {
			res = api_store_fail(rq, res, "", "");
			goto out;
		}
		more = res == 1 || (w->last != before &&
		    w->scanned >= KW_LIST_SCAN_MAX);
	} while (res == 0 && w->last != before && !more);
	res = 0;
	rs->body = api_page(w->items, more ? w->last : 0);
	w->items = NULL;
 out:
	json_decref(w->items);
	free(w);
	return res;
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

/* Record a refused decision, in its own transaction (the refused change
 * itself was rolled back). */
static void
audit_refused(struct http_req *rq, struct store *st, const char *id,
    enum req_action a, int err, const char *why)
{
	if (core_write_begin(rq->app, &st) != 0)
		return;
	core_write_end(rq->app, api_audit(rq, st, "request.refused", id,
	    json_pack("{s:s, s:s, s:s}", "action", policy_action_name(a),
	    "error", kw_err_code(err), "reason", why)));
}

static int
decision_parse(struct http_req *rq, enum req_action a, struct decision *d)
{
	static const char *const plain[] = { "comment", "acknowledge_risk",
	    NULL };
	static const char *const fulfil[] = { "secret", "external_id",
	    "comment", NULL };
	int res;

	if ((res = jv_known(rq, rq->body, a == RA_FULFIL ? fulfil :
	    plain)) != 0 ||
	    (res = jv_str(rq, rq->body, "comment", JV_NULLABLE,
	    KW_COMMENT_MAX, d->comment, sizeof(d->comment), NULL)) != 0 ||
	    (res = jv_bool(rq, rq->body, "acknowledge_risk", 0,
	    &d->acknowledge_risk, NULL)) != 0)
		return res;
	if (a != RA_FULFIL)
		return 0;
	if ((res = jv_str(rq, rq->body, "secret", JV_REQUIRED, KW_SECRET_MAX,
	    d->secret, sizeof(d->secret), NULL)) != 0 ||
	    (res = jv_str(rq, rq->body, "external_id", JV_NULLABLE,
	    KW_EXTERNAL_ID_MAX, d->external_id, sizeof(d->external_id),
	    NULL)) != 0)
		return res;
	return 0;
}

/* The provisioner approved: record the credential keywarden is about to
 * make (its intent), named with the request's link. */
static int
credential_intent(struct http_req *rq, struct store *st, struct request *r)
{
	struct credential	*c;
	int			 res;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	api_credential_from_request(r, c);
	kw_strlcpy(r->credential_id, c->id, sizeof(r->credential_id));
	if ((res = store_credential_insert(st, c)) != 0)
		res = api_store_fail(rq, res, "credential", c->id);
	free(c);
	return res;
}

/* Manual fulfilment: seal the secret for one-time delivery, keep its
 * fingerprint, and make the credential live. */
static int
fulfil(struct http_req *rq, struct store *st, struct request *r,
    struct decision *d, json_t *details)
{
	struct credential	*c;
	struct person		 owner;
	int			 res;

	if (r->kind == KIND_INTEGRATION && d->external_id[0] == '\0')
		return http_fail(rq, KW_ERR_VALIDATION, "external_id",
		    "an integration needs 'external_id': the client "
		    "identifier it has on the instance");
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = store_credential_get(st, r->credential_id, c)) != 0) {
		res = api_store_fail(rq, res, "credential", r->credential_id);
		goto out;
	}
	if (c->state != CS_PENDING) {
		res = http_fail(rq, KW_ERR_CONFLICT, NULL, "credential '%.64s' "
		    "is no longer waiting to be fulfilled", c->id);
		goto out;
	}
	if ((res = store_person_get(st, c->owner_id, &owner)) != 0) {
		res = api_store_fail(rq, res, "person", c->owner_id);
		goto out;
	}
	if (!owner.active) {	/* no credential goes live for them */
		res = http_fail(rq, KW_ERR_CONFLICT, NULL, "the owner, %s, is "
		    "no longer active: nothing is issued to them; delete what "
		    "was created on the instance", owner.email);
		goto out;
	}
	if (d->external_id[0] != '\0' &&
	    (res = api_credential_external(c, json_pack("{s:s}",
	    "external_id", d->external_id))) != 0) {
		if (res == KW_ERR_VALIDATION)
			res = http_fail(rq, res, "external_id", "'external_id' "
			    "is too long once written as JSON");
		goto out;
	}
	if ((res = api_credential_activate(rq->app, c, d->external_id,
	    d->secret, NULL)) != 0 ||
	    (res = store_credential_update(st, c)) != 0) {
		res = api_store_fail(rq, res, "credential", c->id);
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
 * The approval is recorded (the request is `issuing`, the credential's
 * intent stored): now mint it on the instance.  A refusal there is an
 * answer for the provisioner (502, the request is `failed`); trouble
 * with the store leaves the request to reconciliation.
 */
static int
issue_now(struct http_req *rq, struct store *st, const char *request_id)
{
	struct issuance_outcome	o;
	int			res;

	res = issuance_run(rq->app, st, api_me(rq)->email, request_id, NULL, &o);
	if (res != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL, "the approval "
		    "is recorded but the outcome of the issuance could not be "
		    "(%s); keywarden will finish it", kw_strerror(res));
	if (o.issued)
		return 0;
	rq->fail.details = json_pack("{s:I, s:s, s:s, s:s}", "status",
	    (json_int_t)o.perr.status, "instance_error", o.perr.message,
	    "request_id", request_id, "state", "failed");
	return http_fail(rq, KW_ERR_UPSTREAM, NULL, "the instance did not "
	    "issue the credential: %s; the request is now failed (its history "
	    "says why) and nothing was left on the instance", o.perr.message);
}

int
api_request_act(struct http_req *rq, const char *id, int action,
    struct decision *d, int defer_issuance, json_t **answer)
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
	const struct person	*me = api_me(rq);
	struct decision_input	 in_d;
	struct actor_facts	 f;
	struct request		*r;
	struct instance		 in;
	struct credential	*c = NULL;
	struct store		*st = NULL;
	enum req_state		 from, to;
	const char		*why = "";
	json_t			*details = NULL;
	enum req_action		 a = (enum req_action)action;
	int			 res, refused = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((res = load_visible(rq, st, id, r, &in, &f)) != 0)
		goto out;
	memset(&in_d, 0, sizeof(in_d));
	in_d.kind = r->kind;
	in_d.acknowledge_risk = d->acknowledge_risk;
	in_d.has_comment = d->comment[strspn(d->comment, " \t")] != '\0';
	in_d.automatic = issuance_automatic(&in);
	from = r->state;
	if ((res = policy_transition(from, a, &f, &in_d, &to, &why)) != 0) {
		res = http_fail(rq, res, res == KW_ERR_VALIDATION ?
		    (a == RA_DENY ? "comment" : "acknowledge_risk") : NULL,
		    "%s", why);
		refused = res != KW_ERR_VALIDATION;
		goto out;
	}
	details = json_pack("{s:s, s:s, s:s}", "action", policy_action_name(a),
	    "from", policy_state_name(from), "to", policy_state_name(to));
	if (a == RA_APPROVE && from == RS_PENDING_MANAGER)
		kw_strlcpy(r->manager_approver_id, me->id,
		    sizeof(r->manager_approver_id));
	if (a == RA_APPROVE && from == RS_PENDING_PROVISIONER)
		res = credential_intent(rq, st, r);
	if (res == 0 && a == RA_FULFIL)
		res = fulfil(rq, st, r, d, details);
	if (res == 0 && a == RA_WITHDRAW)
		res = api_drop_intent(st, r);
	if (res != 0)
		goto out;
	r->state = to;
	kw_time_fmt(kw_now(), r->updated_at, sizeof(r->updated_at));
	if ((res = store_request_transition(st, r, from)) != 0 ||
	    (res = api_history_add(st, r->id, me->email, done_names[a],
	    d->comment)) != 0) {
		res = api_store_fail(rq, res, "request", r->id);
		goto out;
	}
	if (d->comment[0] != '\0')
		json_object_set_new(details, "comment", json_string(d->comment));
	if ((res = api_audit(rq, st, a == RA_FULFIL ? "request.fulfil" :
	    a == RA_APPROVE ? "request.approve" : a == RA_DENY ?
	    "request.deny" : "request.withdraw", r->id,
	    json_incref(details))) != 0)
		goto out;
	if (to == RS_PENDING_PROVISIONER || to == RS_ISSUED ||
	    to == RS_DENIED || to == RS_WITHDRAWN) {
		if (to == RS_ISSUED && (c = malloc(sizeof(*c))) != NULL &&
		    store_credential_get(st, r->credential_id, c) != 0) {
			free(c);
			c = NULL;
		}
		res = notify_request(rq->app, st, events[to], r, c);
	}
 out:
	res = api_tx_end(rq, &st, res);
	if (refused)
		audit_refused(rq, st, id, a, res, why);
	if (res == 0 && r->state == RS_ISSUING) {
		if (defer_issuance)
			ticker_wake("reconcile");	/* finishes it soon */
		else
			res = issue_now(rq, st, r->id);
	}
	if (res == 0 && answer != NULL &&
	    (res = store_request_get(st, r->id, r)) == 0)
		res = request_answer(rq, st, r, &in, answer);
 done:
	json_decref(details);
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	free(r);
	return res;
}

static int
decide(struct http_req *rq, struct http_resp *rs, enum req_action a)
{
	struct decision	*d;
	int		 res;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = decision_parse(rq, a, d)) == 0)
		res = api_request_act(rq, rq->params[0], a, d, 0, &rs->body);
	kw_wipe(d, sizeof(*d));
	free(d);
	return res;
}

int
api_requests_approve(struct http_req *rq, struct http_resp *rs)
{
	return decide(rq, rs, RA_APPROVE);
}

int
api_requests_deny(struct http_req *rq, struct http_resp *rs)
{
	return decide(rq, rs, RA_DENY);
}

int
api_requests_withdraw(struct http_req *rq, struct http_resp *rs)
{
	return decide(rq, rs, RA_WITHDRAW);
}

int
api_requests_fulfil(struct http_req *rq, struct http_resp *rs)
{
	return decide(rq, rs, RA_FULFIL);
}

/*
 * POST /v1/credentials — the seed's two exceptions: members of the team
 * support-ops issue credentials for their personal use or for support-
 * ops automation without the two approvals.  It is recorded like every
 * request (a request of purpose personal/automation, born approved, with
 * its history saying why) and the credential is named with the given
 * link.  Until the instance is called automatically, the member fulfils
 * it themselves.
 */
static int
support_ops_member(const struct person *p)
{
	size_t i;

	for (i = 0; i < p->nteams; i++)
		if (strcmp(p->teams[i], "support-ops") == 0)
			return 1;
	return 0;
}

int
api_credentials_create(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "instance", "purpose", "link",
	    "scopes", "lifetime_days", "delivery", NULL };
	static const char *const purposes[] = { "personal", "automation",
	    NULL };
	struct app		*app = rq->app;
	const struct person	*me = api_me(rq);
	struct request		*r = NULL;
	struct credential	*c = NULL;
	struct instance		 in;
	struct store		*st = NULL;
	char			 instance[KW_INSTANCE_NAME_MAX + 1];
	time_t			 now = kw_now();
	int			 purpose = 0, res;

	if (!support_ops_member(me))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "only members of "
		    "the team support-ops may issue credentials without a "
		    "request; file a request instead");
	r = calloc(1, sizeof(*r));
	c = calloc(1, sizeof(*c));
	if (r == NULL || c == NULL) {
		res = KW_ERR_NOMEM;
		goto done;
	}
	if ((res = jv_known(rq, rq->body, fields)) != 0 ||
	    (res = jv_str(rq, rq->body, "instance", JV_REQUIRED,
	    KW_INSTANCE_NAME_MAX, instance, sizeof(instance), NULL)) != 0 ||
	    (res = jv_enum(rq, rq->body, "purpose", JV_REQUIRED, purposes,
	    &purpose, NULL)) != 0 ||
	    (res = jv_str(rq, rq->body, "link", JV_REQUIRED, KW_URL_MAX,
	    r->access_request_url, sizeof(r->access_request_url),
	    NULL)) != 0 ||
	    (res = jv_strs(rq, rq->body, "scopes", JV_REQUIRED, KW_SCOPES_MAX,
	    &r->scopes[0][0], sizeof(r->scopes[0]), &r->nscopes, NULL,
	    "scope", NULL)) != 0 ||
	    (res = jv_int(rq, rq->body, "lifetime_days", JV_REQUIRED, 1,
	    KW_LIFETIME_DAYS_MAX, &r->lifetime_days, NULL)) != 0)
		goto done;
	if (!kw_valid_url(r->access_request_url, 0)) {
		res = http_fail(rq, KW_ERR_VALIDATION, "link",
		    "'link' must be an https:// URL to what the credential "
		    "is for");
		goto done;
	}
	if (r->nscopes == 0) {
		res = http_fail(rq, KW_ERR_VALIDATION, "scopes",
		    "at least one scope is needed");
		goto done;
	}
	if ((res = api_tx_begin(rq, &st)) != 0)
		goto done;
	r->kind = KIND_API_TOKEN;
	if ((res = check_filing(rq, st, instance, r, 1, &in)) != 0)
		goto out;
	crypto_random_id("req_", r->id, sizeof(r->id));
	kw_strlcpy(r->instance_id, in.id, sizeof(r->instance_id));
	kw_strlcpy(r->purpose, purposes[purpose], sizeof(r->purpose));
	kw_strlcpy(r->requester_id, me->id, sizeof(r->requester_id));
	r->kind = KIND_API_TOKEN;
	r->state = issuance_automatic(&in) ? RS_ISSUING :
	    RS_AWAITING_FULFILMENT;
	api_request_link(app, r);
	snprintf(r->justification, sizeof(r->justification),
	    "support-ops %s credential (no request flow)", purposes[purpose]);
	kw_strlcpy(r->use_case, r->link, sizeof(r->use_case));
	kw_time_fmt(now, r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_strlcpy(r->expires_at, r->created_at, sizeof(r->expires_at));
	api_credential_from_request(r, c);
	kw_strlcpy(r->credential_id, c->id, sizeof(r->credential_id));
	if ((res = store_request_insert(st, r)) != 0 ||
	    (res = api_history_add(st, r->id, me->email, "created",
	    "support-ops exception: issued without approvals")) != 0 ||
	    (res = store_credential_insert(st, c)) != 0) {
		res = api_store_fail(rq, res, "credential", c->id);
		goto out;
	}
	res = api_audit(rq, st, "credential.create_direct", c->id, json_pack(
	    "{s:s, s:s, s:s, s:s, s:s}", "instance", in.name, "purpose",
	    purposes[purpose], "link", r->link, "request_id", r->id,
	    "delivery", api_delivery_modes[r->delivery_mode]));
 out:
	res = api_tx_end(rq, &st, res);
	if (res == 0 && r->state == RS_ISSUING)
		res = issue_now(rq, st, r->id);
	if (res == 0 && (res = store_credential_get(st, c->id, c)) == 0) {
		rs->status = 201;
		rs->body = api_credential_json(c);
	}
 done:
	free(r);
	free(c);
	return res;
}

/*
 * POST /v1/credentials/{id}/rotate — a successor with the same instance,
 * kind, scopes, name and owner.  Rotation replaces the secret, never the
 * approval: the successor keeps the predecessor's expires_at (capped by
 * the instance's maximum lifetime of today), today's instance policy
 * applies to what it would mint (422), and an owner who is no longer
 * active gets none (409).  Like the support-ops exception it is recorded
 * as a request born approved (its history says it is a rotation), so
 * issuance, manual fulfilment, reconciliation and notifications all work
 * the same.  The predecessor stays active for the instance's grace
 * period; the jobs revoke it then.
 */

/* Check that old may be rotated today; *until gets the successor's
 * expiry (the predecessor's, capped by the instance's maximum). */
static int
rotation_allowed(struct http_req *rq, struct store *st,
    const struct credential *old, const struct request *orig,
    const struct instance *in, time_t *until)
{
	struct person	 owner;
	struct filing	 fl;
	time_t		 now = kw_now(), cap;
	char		 why[256];
	int		 res;

	if ((res = store_person_get(st, old->owner_id, &owner)) != 0)
		return api_store_fail(rq, res, "person", old->owner_id);
	if (!owner.active)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "the owner of "
		    "'%.64s', %s, is no longer active: a rotation would give "
		    "them a new secret; revoke the credential instead",
		    old->id, owner.email);
	if (kw_time_parse(old->expires_at, until) != 0 || *until <= now)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "credential "
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
	if (policy_check_filing(in, &fl, why, sizeof(why)) != 0)
		return http_fail(rq, KW_ERR_POLICY, NULL, "%s: the instance's "
		    "policy no longer allows what '%.64s' holds; file a new "
		    "request", why, old->id);
	return 0;
}

static int
rotation_prepare(struct http_req *rq, struct store *st, struct credential *old,
    struct request *r, struct credential *c, struct instance *in)
{
	const struct person	*me = api_me(rq);
	struct request		 orig;
	time_t			 now = kw_now(), until;
	char			 note[KW_COMMENT_MAX + 1];
	int			 res;

	if (old->state != CS_ACTIVE || old->kind == KIND_LEGACY)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "only an active "
		    "keywarden credential can be rotated");
	if (old->rotated_to[0] != '\0')
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' was already rotated to '%.64s'", old->id,
		    old->rotated_to);
	if ((res = store_request_get(st, old->request_id, &orig)) != 0 ||
	    (res = store_instance_get(st, old->instance_id, in)) != 0)
		return api_store_fail(rq, res, "request", old->request_id);
	if ((res = rotation_allowed(rq, st, old, &orig, in, &until)) != 0)
		return res;
	/* the successor: the original request's terms, the same expiry */
	*r = orig;
	crypto_random_id("req_", r->id, sizeof(r->id));
	r->lifetime_days = (int)((until - now + 86399) / 86400);
	r->state = issuance_automatic(in) ? RS_ISSUING : RS_AWAITING_FULFILMENT;
	r->manager_approver_id[0] = '\0';
	kw_time_fmt(now, r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_strlcpy(r->expires_at, r->created_at, sizeof(r->expires_at));
	api_credential_from_request(r, c);
	kw_time_fmt(until, c->expires_at, sizeof(c->expires_at)); /* ceiling */
	kw_strlcpy(c->name, old->name, sizeof(c->name));
	kw_strlcpy(c->rotated_from, old->id, sizeof(c->rotated_from));
	kw_strlcpy(r->credential_id, c->id, sizeof(r->credential_id));
	kw_strlcpy(old->rotated_to, c->id, sizeof(old->rotated_to));
	kw_time_fmt(now + (time_t)in->grace_days * 86400, old->grace_until,
	    sizeof(old->grace_until));
	snprintf(note, sizeof(note), "rotation of %s by %s", old->id,
	    me->email);
	if ((res = store_request_insert(st, r)) != 0 ||
	    (res = api_history_add(st, r->id, me->email, "created", note)) != 0 ||
	    (res = store_credential_insert(st, c)) != 0 ||
	    (res = store_credential_update(st, old)) != 0)
		return api_store_fail(rq, res, "credential", c->id);
	return api_audit(rq, st, "credential.rotate", old->id, json_pack(
	    "{s:s, s:s, s:s, s:s}", "successor", c->id, "request_id", r->id,
	    "grace_until", old->grace_until, "expires_at", c->expires_at));
}

/* The successor could not be minted: the predecessor is no longer
 * rotated (it can be rotated again), in its own transaction. */
static void
rotation_undo(struct http_req *rq, struct store *st, const char *old_id)
{
	struct credential	*old;
	int			 r;

	if ((old = malloc(sizeof(*old))) == NULL)
		return;
	if (core_write_begin(rq->app, &st) == 0) {
		r = store_credential_get(st, old_id, old);
		if (r == 0) {
			old->rotated_to[0] = old->grace_until[0] = '\0';
			if ((r = store_credential_update(st, old)) == 0)
				r = api_audit(rq, st, "credential.rotate_failed",
				    old_id, NULL);
		}
		core_write_end(rq->app, r);
	}
	kw_wipe(old, sizeof(*old));
	free(old);
}

/* The same rules as for a successor (today's instance policy, an active
 * owner) before a broker credential is rotated in place; r is scratch. */
static int
broker_rotation_check(struct http_req *rq, struct store *st,
    const struct credential *old, struct request *r,
    const struct instance *in)
{
	time_t	until;
	int	res;

	if (old->state != CS_ACTIVE)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "only an active "
		    "keywarden credential can be rotated");
	if ((res = store_request_get(st, old->request_id, r)) != 0)
		return api_store_fail(rq, res, "request", old->request_id);
	return rotation_allowed(rq, st, old, r, in, &until);
}

/* A broker credential is rotated in place (same id, bound tokens keep
 * working): a new client secret on the instance, sealed instead. */
static int
rotate_in_place(struct http_req *rq, struct store *st, const char *id)
{
	struct provider_error	perr;
	int			res;

	res = issuance_rotate_broker(rq->app, st, api_me(rq)->email, id,
	    &perr);
	switch (res) {
	case 0:
		return 0;
	case KW_ERR_CONFLICT:
		return http_fail(rq, res, NULL, "only an active broker "
		    "credential minted by keywarden can be rotated in place");
	case KW_ERR_UPSTREAM:
		rq->fail.details = json_pack("{s:I, s:s}", "status",
		    (json_int_t)perr.status, "instance_error", perr.message);
		return http_fail(rq, res, NULL, "the instance did not give the "
		    "client a new secret: %s; nothing changed", perr.message);
	default:
		return api_store_fail(rq, res, "credential", id);
	}
}

int
api_credentials_rotate(struct http_req *rq, struct http_resp *rs)
{
	const struct person	*me = api_me(rq);
	struct credential	*old, *c;
	struct request		*r;
	struct instance		*in;
	struct store		*st = NULL;
	size_t			 i;
	int			 res, allowed, broker = 0;

	old = malloc(sizeof(*old));
	c = malloc(sizeof(*c));
	r = malloc(sizeof(*r));
	in = malloc(sizeof(*in));
	if (old == NULL || c == NULL || r == NULL || in == NULL) {
		res = KW_ERR_NOMEM;
		goto done;
	}
	if ((res = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0 ||
	    (res = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((res = store_credential_get(st, rq->params[0], old)) != 0 ||
	    (res = store_instance_get(st, old->instance_id, in)) != 0) {
		res = api_store_fail(rq, res, "credential", rq->params[0]);
		goto out;
	}
	allowed = strcmp(old->owner_id, me->id) == 0 ||
	    api_has_role(rq, ROLE_ADMIN);
	for (i = 0; i < in->nprovisioners; i++)
		if (strcmp(in->provisioners[i].id, me->id) == 0)
			allowed = 1;
	if (!allowed) {
		/* who may see it (an auditor, the owner's manager) is told
		 * why; anyone else does not learn it exists */
		res = api_has_role(rq, ROLE_AUDITOR) ||
		    owners_manager(st, old, me) ? http_fail(rq,
		    KW_ERR_FORBIDDEN, NULL, "only the owner, a provisioner of "
		    "the instance or an admin may rotate") : http_fail(rq,
		    KW_ERR_NOT_FOUND, NULL, "no credential '%.64s'",
		    rq->params[0]);
		goto out;
	}
	broker = old->kind == KIND_API_TOKEN && old->delivery_mode == DM_BROKER;
	if (broker)
		res = broker_rotation_check(rq, st, old, r, in);
	else
		res = rotation_prepare(rq, st, old, r, c, in);
 out:
	res = api_tx_end(rq, &st, res);
	if (broker) {
		if (res == 0 && (res = rotate_in_place(rq, st, old->id)) == 0 &&
		    (res = store_credential_get(st, old->id, c)) == 0) {
			rs->status = 201;
			rs->body = api_credential_json(c);
		}
		goto done;
	}
	if (res == 0 && r->state == RS_ISSUING &&
	    (res = issue_now(rq, st, r->id)) != 0)
		rotation_undo(rq, st, old->id);
	if (res == 0 && (res = store_credential_get(st, c->id, c)) == 0) {
		rs->status = 201;
		rs->body = api_credential_json(c);
	}
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
