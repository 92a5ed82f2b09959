/*
 * workflow.h — who may do what to an access request, and what the
 * instance's policy allows at filing time.  Pure functions over plain
 * facts: the API gathers the facts, these decide, the tests cover every
 * cell of the table.
 */
#ifndef KW_POLICY_WORKFLOW_H
#define KW_POLICY_WORKFLOW_H

#include <stddef.h>

#include "store/store.h"

enum req_action { RA_APPROVE = 0, RA_DENY, RA_WITHDRAW, RA_FULFIL,
	RA__COUNT };

/* What the caller is to one request. */
struct actor_facts {
	int	is_requester;
	int	is_manager;		/* the requester's current manager */
	int	is_provisioner;		/* of the request's instance */
	int	gave_manager_approval;	/* approved at the manager stage */
	int	direct;			/* a support-ops direct request */
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

/* 1 if some action in state `state` waits for an actor with these
 * facts (for ?actionable=true). */
int	 policy_actionable(enum req_state state, const struct actor_facts *f);

/* Names of states and actions as the API spells them. */
const char *policy_state_name(enum req_state s);
int	 policy_state_parse(const char *name, enum req_state *out);
const char *policy_action_name(enum req_action a);
/* 1 for denied, withdrawn, expired, failed, issued. */
int	 policy_state_final(enum req_state s);

/* What is being asked for, checked against the instance's policy. */
struct filing {
	enum cred_kind	 kind;
	size_t		 nscopes;
	const char	(*scopes)[KW_SCOPE_MAX + 1];
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
