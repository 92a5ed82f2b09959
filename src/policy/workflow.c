/*
 * workflow.c — the request state machine as one table, and the instance
 * policy applied when a request is filed.
 */
#include <stdio.h>
#include <string.h>

#include "kw.h"
#include "policy/scope.h"
#include "policy/workflow.h"

/*
 * The whole state machine: (state, action) -> who may, next state.
 * A pair that is not here is refused with 409: decisions are final.
 * A provisioner's approval leads to issuance: where keywarden can mint on
 * the instance the request goes to `issuing` (and from there to issued
 * or failed, decided by the instance's answer); otherwise it waits in
 * awaiting_fulfilment for the provisioner to create it by hand.
 */
static const struct transition {
	enum req_state	from;
	enum req_action	action;
	unsigned	who;
	enum req_state	to;
	const char	*who_text;
	int		issues;		/* automatic: to `issuing` instead */
} transitions[] = {
	{ RS_PENDING_MANAGER, RA_APPROVE, WHO_MANAGER, RS_PENDING_PROVISIONER,
	    "only the requester's manager may approve at this stage", 0 },
	{ RS_PENDING_MANAGER, RA_DENY, WHO_MANAGER, RS_DENIED,
	    "only the requester's manager may deny at this stage", 0 },
	{ RS_PENDING_MANAGER, RA_WITHDRAW, WHO_REQUESTER, RS_WITHDRAWN,
	    "only the requester may withdraw a request", 0 },
	{ RS_PENDING_PROVISIONER, RA_APPROVE, WHO_REVIEWER,
	    RS_AWAITING_FULFILMENT,
	    "only a provisioner of the instance who is neither the requester "
	    "nor the manager who approved may review this request", 1 },
	{ RS_PENDING_PROVISIONER, RA_DENY, WHO_REVIEWER, RS_DENIED,
	    "only a provisioner of the instance who is neither the requester "
	    "nor the manager who approved may review this request", 0 },
	{ RS_PENDING_PROVISIONER, RA_WITHDRAW, WHO_REQUESTER, RS_WITHDRAWN,
	    "only the requester may withdraw a request", 0 },
	{ RS_AWAITING_FULFILMENT, RA_FULFIL, WHO_REVIEWER | WHO_SELF_ISSUER,
	    RS_ISSUED,
	    "only a provisioner of the instance who is neither the requester "
	    "nor the manager who approved may fulfil this request", 0 },
	{ RS_AWAITING_FULFILMENT, RA_WITHDRAW, WHO_REQUESTER, RS_WITHDRAWN,
	    "only the requester may withdraw a request", 0 },
};

static const char *const state_names[RS__COUNT] = {
	[RS_PENDING_MANAGER] = "pending_manager",
	[RS_PENDING_PROVISIONER] = "pending_provisioner",
	[RS_AWAITING_FULFILMENT] = "awaiting_fulfilment",
	[RS_ISSUED] = "issued",
	[RS_DENIED] = "denied",
	[RS_WITHDRAWN] = "withdrawn",
	[RS_EXPIRED] = "expired",
	[RS_FAILED] = "failed",
	[RS_ISSUING] = "issuing",
};

static const char *const action_names[RA__COUNT] = {
	[RA_APPROVE] = "approve",
	[RA_DENY] = "deny",
	[RA_WITHDRAW] = "withdraw",
	[RA_FULFIL] = "fulfil",
};

const char *
policy_state_name(enum req_state s)
{
	return (unsigned)s < RS__COUNT ? state_names[s] : "unknown";
}

int
policy_state_parse(const char *name, enum req_state *out)
{
	int i;

	for (i = 0; i < RS__COUNT; i++)
		if (strcmp(state_names[i], name) == 0) {
			*out = (enum req_state)i;
			return 0;
		}
	return -1;
}

const char *
policy_action_name(enum req_action a)
{
	return (unsigned)a < RA__COUNT ? action_names[a] : "unknown";
}

int
policy_state_final(enum req_state s)
{
	return s == RS_ISSUED || s == RS_DENIED || s == RS_WITHDRAWN ||
	    s == RS_EXPIRED || s == RS_FAILED;
}

unsigned
policy_capacities(const struct actor_facts *f)
{
	unsigned w = 0;

	if (f->is_requester)
		w |= WHO_REQUESTER;
	if (f->is_manager && !f->is_requester)
		w |= WHO_MANAGER;
	/* two distinct people besides the requester, always */
	if (f->is_provisioner && !f->is_requester && !f->gave_manager_approval)
		w |= WHO_REVIEWER;
	if (f->direct && f->is_requester)
		w |= WHO_SELF_ISSUER;
	return w;
}

static const struct transition *
find(enum req_state from, enum req_action action)
{
	size_t i;

	for (i = 0; i < KW_NELEM(transitions); i++)
		if (transitions[i].from == from &&
		    transitions[i].action == action)
			return &transitions[i];
	return NULL;
}

int
policy_transition(enum req_state from, enum req_action action,
    const struct actor_facts *f, const struct decision_input *in,
    enum req_state *to, const char **why)
{
	const struct transition *t = find(from, action);

	if (t == NULL) {
		*why = policy_state_final(from) ?
		    "the request is closed; its decisions are final" :
		    "the request is not in a state that allows this";
		return KW_ERR_CONFLICT;
	}
	if ((policy_capacities(f) & t->who) == 0) {
		*why = t->who_text;
		return KW_ERR_FORBIDDEN;
	}
	if (action == RA_DENY && !in->has_comment) {
		*why = "a denial needs a comment saying why";
		return KW_ERR_VALIDATION;
	}
	if (action == RA_APPROVE && from == RS_PENDING_PROVISIONER &&
	    in->kind == KIND_INTEGRATION && !in->acknowledge_risk) {
		*why = "integrations are hard to revoke: approve with "
		    "\"acknowledge_risk\": true";
		return KW_ERR_VALIDATION;
	}
	*to = t->issues && in->automatic ? RS_ISSUING : t->to;
	*why = "allowed";
	return 0;
}

int
policy_actionable(enum req_state state, const struct actor_facts *f)
{
	unsigned	w = policy_capacities(f);
	size_t		i;

	for (i = 0; i < KW_NELEM(transitions); i++)
		if (transitions[i].from == state &&
		    transitions[i].action != RA_WITHDRAW &&
		    (transitions[i].who & w) != 0)
			return 1;
	return 0;
}

static int
scope_allowed(const struct instance *in, const char *scope)
{
	size_t i;

	if (!in->scopes_restricted)
		return 1;
	for (i = 0; i < in->nscopes; i++)
		if (strcmp(in->allowed_scopes[i], scope) == 0)
			return 1;
	return 0;
}

int
policy_check_filing(const struct instance *in, struct filing *f,
    char *why, size_t whysz)
{
	size_t i;

	f->field = NULL;
	if (!f->requester_active) {
		snprintf(why, whysz, "the requester is not active");
		return KW_ERR_POLICY;
	}
	if (!f->direct && !f->requester_has_manager) {
		snprintf(why, whysz, "the requester has no manager to approve "
		    "the request; ask an admin to set one");
		return KW_ERR_POLICY;
	}
	if (f->kind == KIND_INTEGRATION && !in->allow_integrations) {
		snprintf(why, whysz, "instance '%s' does not allow "
		    "integrations", in->name);
		f->field = "kind";
		return KW_ERR_POLICY;
	}
	for (i = 0; i < f->nscopes; i++) {
		if (!policy_scope_valid(f->scopes[i])) {
			snprintf(why, whysz, "'%.64s' is not a Zendesk scope "
			    "(read, write, impersonate or <resource>:read|write)",
			    f->scopes[i]);
			f->field = "scopes";
			return KW_ERR_POLICY;
		}
		if (!scope_allowed(in, f->scopes[i])) {
			snprintf(why, whysz, "scope '%.64s' is not allowed on "
			    "instance '%s'", f->scopes[i], in->name);
			f->field = "scopes";
			return KW_ERR_POLICY;
		}
	}
	if (f->lifetime_days > in->max_lifetime_days) {
		snprintf(why, whysz, "lifetime of %d days is over instance "
		    "'%s''s maximum of %d days", f->lifetime_days, in->name,
		    in->max_lifetime_days);
		f->field = "lifetime_days";
		return KW_ERR_POLICY;
	}
	return 0;
}
