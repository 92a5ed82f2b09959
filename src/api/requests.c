/*
 * requests.c — /v1/requests: filing an access request, the manager's and
 * the provisioner's decisions, withdrawal and manual fulfilment; and
 * POST /v1/credentials (support-ops) and /v1/credentials/{id}/rotate.
 * Each handler reads its body, calls the workflow (core/requests.h) as
 * the caller's actor and renders the answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/list.h"
#include "api/valid.h"
#include "core/credentials.h"
#include "core/requests.h"
#include "policy/visibility.h"
#include "policy/workflow.h"
#include "util/util.h"

static const char *const request_fields[] = {
	"instance", "kind", "justification", "use_case", "scopes",
	"lifetime_days", "access_request_url", "integration", "delivery", NULL
};
static const char *const integration_fields[] = {
	"name", "redirect_uris", "client_kind", NULL
};
static const char *const *const kinds = request_kinds;
static const char *const *const client_kinds = request_client_kinds;

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
	    KIND_API_TOKEN ? credential_delivery_modes[r->delivery_mode] :
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
request_answer(struct http_req *rq, const struct request *r,
    const struct instance *in, json_t **out)
{
	struct store	*st;
	json_t		*o;
	int		 res;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
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
 * "delivery": the mode asked for (a name of credential_delivery_modes), or
 * REQUEST_DELIVERY_DEFAULT when absent or null (the instance decides).
 */
static int
delivery_parse(struct http_req *rq, json_t *b, int *delivery)
{
	int mode = 0, here = 0, res;

	if ((res = jv_enum(rq, b, "delivery", JV_NULLABLE,
	    credential_delivery_modes, &mode, &here)) != 0)
		return res;
	*delivery = here && !json_is_null(json_object_get(b, "delivery")) ?
	    mode : REQUEST_DELIVERY_DEFAULT;
	return 0;
}

int
api_requests_create(struct http_req *rq, struct http_resp *rs)
{
	struct history_entry	 h;
	struct actor		 a;
	json_t			*o, *hist;
	struct request		*r;
	struct instance		*in;
	char			 instance[KW_INSTANCE_NAME_MAX + 1];
	int			 res, delivery;

	r = calloc(1, sizeof(*r));
	in = malloc(sizeof(*in));
	if (r == NULL || in == NULL) {
		res = KW_ERR_NOMEM;
		goto done;
	}
	if ((res = request_parse(rq, rq->body, r, instance,
	    sizeof(instance))) != 0 ||
	    (res = delivery_parse(rq, rq->body, &delivery)) != 0)
		goto done;
	api_actor(rq, &a);
	if ((res = request_create(rq->app, &a, instance, delivery, r, in, &h,
	    &rq->fail)) != 0)
		goto done;
	/* the request as committed, its history the one entry written */
	if ((o = api_request_json(r)) == NULL ||
	    (hist = json_array()) == NULL) {
		json_decref(o);
		res = KW_ERR_NOMEM;
		goto done;
	}
	history_one(&h, hist);
	json_object_set_new(o, "history", hist);
	if (r->state == RS_AWAITING_FULFILMENT)
		json_object_set_new(o, "fulfilment", fulfilment_json(r, in));
	rs->body = o;
	rs->status = 201;
 done:
	free(r);
	free(in);
	return res;
}

/* The request of the path as the caller may see it; with a decision d,
 * after the caller takes action on it (decided by the workflow).  The
 * answer is the request as it is now. */
static int
request_show(struct http_req *rq, enum req_action action,
    struct decision *d, json_t **answer)
{
	struct actor	 a;
	struct request	*r;
	struct instance	*in;
	int		 res;

	r = malloc(sizeof(*r));
	in = malloc(sizeof(*in));
	if (r == NULL || in == NULL)
		res = KW_ERR_NOMEM;
	else {
		api_actor(rq, &a);
		if (d == NULL)
			res = request_get(rq->app, &a, rq->params[0], r, in,
			    &rq->fail);
		else
			res = request_act(rq->app, &a, rq->params[0], action,
			    d, 0, r, in, &rq->fail);
		if (res == 0)
			res = request_answer(rq, r, in, answer);
	}
	free(r);
	free(in);
	return res;
}

int
api_requests_get(struct http_req *rq, struct http_resp *rs)
{
	return request_show(rq, RA__COUNT /* none */, NULL, &rs->body);
}

/* Listing: the store applies visibility and filters; "actionable" is
 * decided here by the same policy that decides the actions. */
struct list_walk {
	struct actor		 a;
	struct store		*st;
	struct api_list		 l;		/* cursor: last seq examined */
	int			 actionable;
	size_t			 scanned;
	struct instance		 in;		/* cache of the last one */
};

static int
list_one(const struct request *r, void *arg)
{
	struct list_walk	*w = arg;
	struct actor_facts	 f;
	json_t			*o;

	w->l.last = r->seq;
	w->scanned++;
	if (w->actionable) {
		if (strcmp(w->in.id, r->instance_id) != 0 &&
		    store_instance_get(w->st, r->instance_id, &w->in) != 0)
			return KW_ERR_UNAVAILABLE;
		(void)request_visible(&w->a, r, &w->in, &f);
		if (!policy_actionable(r->state, &f))
			return 0;
	}
	if ((o = api_request_json(r)) == NULL ||
	    api_list_add(&w->l, o, r->seq) != 0)
		return KW_ERR_NOMEM;
	return json_array_size(w->l.items) >= w->l.limit ? 1 : 0;
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
	int64_t			 before;
	int			 res, more = 0;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	memset(&f, 0, sizeof(f));
	policy_viewer(api_me(rq), &f.viewer);
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = api_list_begin(rq, &w->l)) != 0 ||
	    (res = list_filter(rq, st, &f, inst_id, req_id,
	    &w->actionable)) != 0)
		goto out;
	api_actor(rq, &w->a);
	w->st = st;
	/* Walk pages until the answer is full, the store is exhausted, or
	 * the scan budget is spent (the cursor then resumes the scan). */
	do {
		before = w->l.last;
		res = store_request_each(st, &f, w->l.last, w->l.limit,
		    list_one, w);
		if (res < 0)
			break;
		more = res == 1 || (w->l.last != before &&
		    w->scanned >= KW_LIST_SCAN_MAX);
	} while (res == 0 && w->l.last != before && !more);
	w->l.more = more;
	res = api_list_end(rq, rs, &w->l, res < 0 ? res : 0);
 out:
	free(w);
	return res;
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


static int
decide(struct http_req *rq, struct http_resp *rs, enum req_action a)
{
	struct decision	*d;
	int		 res;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return KW_ERR_NOMEM;
	if ((res = decision_parse(rq, a, d)) == 0)
		res = request_show(rq, a, d, &rs->body);
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
 * ops automation without the two approvals (core/requests.h).
 */
int
api_credentials_create(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "instance", "purpose", "link",
	    "scopes", "lifetime_days", "delivery", NULL };
	static const char *const purposes[] = { "personal", "automation",
	    NULL };
	struct actor		 a;
	struct request		*r = NULL;
	struct credential	*c = NULL;
	char			 instance[KW_INSTANCE_NAME_MAX + 1];
	int			 purpose = 0, delivery, res;

	api_actor(rq, &a);
	if ((res = request_direct_allowed(&a, &rq->fail)) != 0)
		return res;
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
	if ((res = delivery_parse(rq, rq->body, &delivery)) != 0)
		goto done;
	if ((res = request_create_direct(rq->app, &a, instance,
	    purposes[purpose], delivery, r, c, &rq->fail)) == 0) {
		rs->status = 201;
		rs->body = api_credential_json(c);
	}
 done:
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(r);
	free(c);
	return res;
}

/* POST /v1/credentials/{id}/rotate (core/requests.h: request_rotate). */
int
api_credentials_rotate(struct http_req *rq, struct http_resp *rs)
{
	struct actor		 a;
	struct credential	*c;
	int			 res;

	if ((res = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0)
		return res;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	api_actor(rq, &a);
	if ((res = request_rotate(rq->app, &a, rq->params[0], c,
	    &rq->fail)) == 0) {
		rs->status = 201;
		rs->body = api_credential_json(c);
	}
	kw_wipe(c, sizeof(*c));
	free(c);
	return res;
}
