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
 * States are stored as the integers of their enums (store/sqlite.c keeps
 * them in INTEGER columns): a reordered or inserted value would turn
 * every stored row into another state.  Pin each one; a new state takes
 * the next free number.
 */
_Static_assert(RS_PENDING_MANAGER == 0, "stored request state");
_Static_assert(RS_PENDING_PROVISIONER == 1, "stored request state");
_Static_assert(RS_AWAITING_FULFILMENT == 2, "stored request state");
_Static_assert(RS_ISSUED == 3, "stored request state");
_Static_assert(RS_DENIED == 4, "stored request state");
_Static_assert(RS_WITHDRAWN == 5, "stored request state");
_Static_assert(RS_EXPIRED == 6, "stored request state");
_Static_assert(RS_FAILED == 7, "stored request state");
_Static_assert(RS_ISSUING == 8, "stored request state");
_Static_assert(RS__COUNT == 9, "a new request state: pin it above");
_Static_assert(CS_PENDING == 0, "stored credential state");
_Static_assert(CS_ACTIVE == 1, "stored credential state");
_Static_assert(CS_REVOKED == 2, "stored credential state");
_Static_assert(CS_EXPIRED == 3, "stored credential state");
_Static_assert(CS__COUNT == 4, "a new credential state: pin it above");
_Static_assert(RS__COUNT <= 32, "request_filter.states has a bit each");

/*
 * The whole request state machine: (state, action) -> who may, next
 * state.  A pair that is not here is refused with 409: decisions are
 * final.  A provisioner's approval leads to issuance: where keywarden can
 * mint on the instance the request goes to `issuing` (and from there to
 * issued or failed, decided by the instance's answer); otherwise it waits
 * in awaiting_fulfilment for the provisioner to create it by hand.
 * Keywarden's own changes (WHO_SYSTEM) are rows like any other.
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
	{ RS_ISSUING, RA_ISSUED, WHO_SYSTEM, RS_ISSUED,
	    "only keywarden records what the instance minted", 0 },
	{ RS_ISSUING, RA_ISSUE_FAILED, WHO_SYSTEM, RS_FAILED,
	    "only keywarden records a failed issuance", 0 },
	{ RS_PENDING_MANAGER, RA_EXPIRE, WHO_SYSTEM, RS_EXPIRED,
	    "only keywarden's jobs expire a request", 0 },
	{ RS_PENDING_PROVISIONER, RA_EXPIRE, WHO_SYSTEM, RS_EXPIRED,
	    "only keywarden's jobs expire a request", 0 },
	{ RS_PENDING_MANAGER, RA_OFFBOARD_WITHDRAW, WHO_SYSTEM, RS_WITHDRAWN,
	    "only an offboarding withdraws a request for its requester", 0 },
	{ RS_PENDING_PROVISIONER, RA_OFFBOARD_WITHDRAW, WHO_SYSTEM,
	    RS_WITHDRAWN,
	    "only an offboarding withdraws a request for its requester", 0 },
	{ RS_AWAITING_FULFILMENT, RA_OFFBOARD_WITHDRAW, WHO_SYSTEM,
	    RS_WITHDRAWN,
	    "only an offboarding withdraws a request for its requester", 0 },
};

/*
 * The credential state machine: (state, event, kinds) -> next state.
 * Keywarden's credentials change only by keywarden's doing; a legacy
 * token's state follows the instance's listing, and nothing else.
 */
#define KINDS_OWN	(1u << KIND_API_TOKEN | 1u << KIND_INTEGRATION)
#define KINDS_LEGACY	(1u << KIND_LEGACY)

static const struct cred_transition {
	enum cred_state	from;
	enum cred_event	event;
	unsigned	kinds;		/* bit per enum cred_kind */
	enum cred_state	to;
} cred_transitions[] = {
	{ CS_PENDING, CE_ACTIVATE, KINDS_OWN, CS_ACTIVE },
	{ CS_PENDING, CE_ABANDON, KINDS_OWN, CS_REVOKED },
	{ CS_ACTIVE, CE_REVOKE, KINDS_OWN, CS_REVOKED },
	{ CS_ACTIVE, CE_EXPIRE, KINDS_OWN, CS_EXPIRED },
	/* a token keywarden has just learnt of is pending until its first
	 * listing says what it is; Zendesk may deactivate a token and
	 * activate it again, and a token that disappeared and reappears
	 * (its id unchanged) is the one keywarden knew */
	{ CS_PENDING, CE_SYNC_ACTIVE, KINDS_LEGACY, CS_ACTIVE },
	{ CS_EXPIRED, CE_SYNC_ACTIVE, KINDS_LEGACY, CS_ACTIVE },
	{ CS_REVOKED, CE_SYNC_ACTIVE, KINDS_LEGACY, CS_ACTIVE },
	{ CS_PENDING, CE_SYNC_INACTIVE, KINDS_LEGACY, CS_EXPIRED },
	{ CS_ACTIVE, CE_SYNC_INACTIVE, KINDS_LEGACY, CS_EXPIRED },
	{ CS_REVOKED, CE_SYNC_INACTIVE, KINDS_LEGACY, CS_EXPIRED },
	{ CS_PENDING, CE_SYNC_GONE, KINDS_LEGACY, CS_REVOKED },
	{ CS_ACTIVE, CE_SYNC_GONE, KINDS_LEGACY, CS_REVOKED },
	{ CS_EXPIRED, CE_SYNC_GONE, KINDS_LEGACY, CS_REVOKED },
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
	[RA_ISSUED] = "issued",
	[RA_ISSUE_FAILED] = "issue_failed",
	[RA_EXPIRE] = "expire",
	[RA_OFFBOARD_WITHDRAW] = "offboard_withdraw",
};

static const char *const cred_state_names[CS__COUNT] = {
	[CS_PENDING] = "pending",
	[CS_ACTIVE] = "active",
	[CS_REVOKED] = "revoked",
	[CS_EXPIRED] = "expired",
};

static const char *const cred_event_names[CE__COUNT] = {
	[CE_ACTIVATE] = "activate",
	[CE_ABANDON] = "abandon",
	[CE_REVOKE] = "revoke",
	[CE_EXPIRE] = "expire",
	[CE_SYNC_ACTIVE] = "sync_active",
	[CE_SYNC_INACTIVE] = "sync_inactive",
	[CE_SYNC_GONE] = "sync_gone",
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
	if (f->system)
		w |= WHO_SYSTEM;
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
	if (action == RA_DENY && (in == NULL || !in->has_comment)) {
		*why = "a denial needs a comment saying why";
		return KW_ERR_VALIDATION;
	}
	if (action == RA_APPROVE && from == RS_PENDING_PROVISIONER &&
	    (in == NULL || (in->kind == KIND_INTEGRATION &&
	    !in->acknowledge_risk))) {
		*why = "integrations are hard to revoke: approve with "
		    "\"acknowledge_risk\": true";
		return KW_ERR_VALIDATION;
	}
	*to = t->issues && in != NULL && in->automatic ? RS_ISSUING : t->to;
	*why = "allowed";
	return 0;
}

int
policy_system_transition(enum req_state from, enum req_action action,
    enum req_state *to, const char **why)
{
	struct actor_facts f;

	memset(&f, 0, sizeof(f));
	f.system = 1;
	return policy_transition(from, action, &f, NULL, to, why);
}

int
policy_request_step(struct request *r, enum req_action action,
    const struct actor_facts *f, const struct decision_input *in,
    const char **why)
{
	enum req_state	to;
	int		rc;

	if ((rc = policy_transition(r->state, action, f, in, &to, why)) == 0)
		r->state = to;
	return rc;
}

int
policy_system_step(struct request *r, enum req_action action,
    const char **why)
{
	enum req_state	to;
	int		rc;

	if ((rc = policy_system_transition(r->state, action, &to, why)) == 0)
		r->state = to;
	return rc;
}

enum req_state
policy_filed_state(int approved, int automatic)
{
	if (!approved)
		return RS_PENDING_MANAGER;
	return automatic ? RS_ISSUING : RS_AWAITING_FULFILMENT;
}

const char *
policy_cred_state_name(enum cred_state s)
{
	return (unsigned)s < CS__COUNT ? cred_state_names[s] : "unknown";
}

const char *
policy_cred_event_name(enum cred_event ev)
{
	return (unsigned)ev < CE__COUNT ? cred_event_names[ev] : "unknown";
}

int
policy_credential_transition(enum cred_state from, enum cred_event ev,
    enum cred_kind kind, enum cred_state *to, const char **why)
{
	size_t i;

	for (i = 0; i < KW_NELEM(cred_transitions); i++) {
		if (cred_transitions[i].from != from ||
		    cred_transitions[i].event != ev)
			continue;
		if ((unsigned)kind >= 32 ||
		    (cred_transitions[i].kinds & 1u << (unsigned)kind) == 0) {
			*why = kind == KIND_LEGACY ? "a legacy token's state "
			    "follows the instance's listing" : "only a legacy "
			    "token follows the instance's listing";
			return KW_ERR_CONFLICT;
		}
		*to = cred_transitions[i].to;
		*why = "allowed";
		return 0;
	}
	*why = from == CS_REVOKED || from == CS_EXPIRED ?
	    "the credential has ended" : from == CS_ACTIVE ?
	    "the credential is already live" :
	    "the credential is not live yet";
	return KW_ERR_CONFLICT;
}

int
policy_credential_step(struct credential *c, enum cred_event ev,
    const char **why)
{
	enum cred_state	to;
	int		rc;

	if ((rc = policy_credential_transition(c->state, ev, c->kind, &to,
	    why)) == 0)
		c->state = to;
	return rc;
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
		if (f->syntax == NULL) {
			snprintf(why, whysz, "instance '%s' has provider "
			    "'%.32s', whose scopes keywarden does not know",
			    in->name, in->provider);
			f->field = "scopes";
			return KW_ERR_POLICY;
		}
		if (!policy_scope_valid(f->syntax, f->scopes[i])) {
			snprintf(why, whysz, "'%.64s' is not a %s (%s)",
			    f->scopes[i], f->syntax->noun, f->syntax->help);
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
