/*
 * workflow.h — who may do what to an access request, and what the
 * instance's policy allows at filing time.  Pure functions over plain
 * facts: the API gathers the facts, these decide, the tests cover every
 * cell of the table.
 */
#ifndef KW_POLICY_WORKFLOW_H
#define KW_POLICY_WORKFLOW_H

#include <stddef.h>

#include "policy/scope.h"
#include "store/store.h"

/*
 * What changes a request's state.  The first four are people's decisions
 * (the API, Slack); the rest are keywarden's own (WHO_SYSTEM): the
 * instance's answer to an issuance, the expiry job, and the withdrawal
 * of an offboarded person's open requests.  Each (state, action) pair
 * allowed is one row of the table in workflow.c.
 */
enum req_action { RA_APPROVE = 0, RA_DENY, RA_WITHDRAW, RA_FULFIL,
	RA_ISSUED,		/* the instance minted it */
	RA_ISSUE_FAILED,	/* the instance refused or was unreachable */
	RA_EXPIRE,		/* no decision within request_ttl_days */
	RA_OFFBOARD_WITHDRAW,	/* the requester was offboarded */
	RA__COUNT };

/* What the caller is to one request. */
struct actor_facts {
	int	is_requester;
	int	is_manager;		/* the requester's current manager */
	int	is_provisioner;		/* of the request's instance */
	int	gave_manager_approval;	/* approved at the manager stage */
	int	direct;			/* a support-ops direct request */
	int	system;			/* keywarden itself (issuance, jobs,
					   offboarding), never a person */
};

/* What came with the decision. */
struct decision_input {
	enum cred_kind	kind;
	int		acknowledge_risk;
	int		has_comment;
	int		automatic;	/* keywarden can mint on the instance */
};

/* The capacities in which an actor may act (bits). */
#define WHO_REQUESTER	0x1u	/* the person who asked */
#define WHO_MANAGER	0x2u	/* the requester's manager */
#define WHO_REVIEWER	0x4u	/* a provisioner who is neither the
				   requester nor the manager approver */
#define WHO_SELF_ISSUER	0x8u	/* requester of a support-ops request */
#define WHO_SYSTEM	0x10u	/* keywarden itself */

/* The capacities the facts give (WHO_* bits). */
unsigned policy_capacities(const struct actor_facts *f);

/*
 * Decide action on a request in state from.  Returns 0 and the next
 * state in *to, or: KW_ERR_CONFLICT when the state allows no such
 * action (decisions are final), KW_ERR_FORBIDDEN when this actor may
 * not take it, KW_ERR_VALIDATION when the decision lacks what it needs
 * (a comment to deny, acknowledge_risk to approve an integration).
 * *why (static text) says which rule applied.
 */
int	 policy_transition(enum req_state from, enum req_action action,
	    const struct actor_facts *f, const struct decision_input *in,
	    enum req_state *to, const char **why);

/*
 * A transition keywarden makes itself (RA_ISSUED, RA_ISSUE_FAILED,
 * RA_EXPIRE, RA_OFFBOARD_WITHDRAW): policy_transition() with the
 * system's facts.  0 and *to, or KW_ERR_CONFLICT when the request is no
 * longer in a state that allows it (someone acted first).
 */
int	 policy_system_transition(enum req_state from, enum req_action action,
	    enum req_state *to, const char **why);

/*
 * The state a request is filed in: pending_manager for a request, and
 * for what needs no approval (a support-ops request, a rotation's
 * successor) issuing where keywarden mints on the instance (automatic),
 * else awaiting_fulfilment.
 */
enum req_state policy_filed_state(int approved, int automatic);

/* 1 if some action in state `state` waits for an actor with these
 * facts (for ?actionable=true). */
int	 policy_actionable(enum req_state state, const struct actor_facts *f);

/* Names of states and actions as the API spells them. */
const char *policy_state_name(enum req_state s);
int	 policy_state_parse(const char *name, enum req_state *out);
const char *policy_action_name(enum req_action a);
/* 1 for denied, withdrawn, expired, failed, issued. */
int	 policy_state_final(enum req_state s);

/*
 * What changes a credential's state.  Keywarden's own credentials
 * (api_token, integration) go live when minted or fulfilled, are
 * abandoned when their issuance fails or their request is withdrawn
 * first, and end revoked or expired.  A legacy token's state mirrors
 * what the instance lists (legacy sync): active, deactivated (expired),
 * or no longer there (revoked).
 */
enum cred_event {
	CE_ACTIVATE = 0,	/* minted or fulfilled: pending -> active */
	CE_ABANDON,		/* never issued: pending -> revoked */
	CE_REVOKE,		/* active -> revoked */
	CE_EXPIRE,		/* active -> expired */
	CE_SYNC_ACTIVE,		/* legacy: the instance lists it active */
	CE_SYNC_INACTIVE,	/* legacy: the instance lists it inactive */
	CE_SYNC_GONE,		/* legacy: the instance no longer lists it */
	CE__COUNT
};

/*
 * Decide event ev on a credential of kind kind in state from: 0 and the
 * next state in *to, or KW_ERR_CONFLICT (the state or the kind allows no
 * such change) with why (static text).
 */
int	 policy_credential_transition(enum cred_state from,
	    enum cred_event ev, enum cred_kind kind, enum cred_state *to,
	    const char **why);
/* Apply ev to c: c->state becomes the table's next state, or nothing
 * changes and KW_ERR_CONFLICT is returned. */
int	 policy_credential_step(struct credential *c, enum cred_event ev,
	    const char **why);
const char *policy_cred_state_name(enum cred_state s);
const char *policy_cred_event_name(enum cred_event ev);

/* Apply a request transition to r: on 0, r->state is the next state;
 * otherwise r is unchanged.  _system_step is keywarden's own. */
int	 policy_request_step(struct request *r, enum req_action action,
	    const struct actor_facts *f, const struct decision_input *in,
	    const char **why);
int	 policy_system_step(struct request *r, enum req_action action,
	    const char **why);

/* What is being asked for, checked against the instance's policy. */
struct filing {
	enum cred_kind	 kind;
	size_t		 nscopes;
	const char	(*scopes)[KW_SCOPE_MAX + 1];
	/* the instance's provider's scope syntax (provider_scopes());
	 * NULL: a provider keywarden does not know, no scope is valid */
	const struct scope_syntax *syntax;
	int		 lifetime_days;
	int		 requester_active;
	int		 requester_has_manager;
	int		 direct;	/* support-ops: no manager needed */
	const char	*field;		/* out: the request field a refusal
					   is about ("kind", "scopes",
					   "lifetime_days"), or NULL */
};

/* 0 if the instance's policy allows the filing, else KW_ERR_POLICY with
 * the rule that refused it, in why[whysz], and f->field set to the field
 * it is about (NULL for the requester's own standing). */
int	 policy_check_filing(const struct instance *in, struct filing *f,
	    char *why, size_t whysz);

#endif /* KW_POLICY_WORKFLOW_H */
