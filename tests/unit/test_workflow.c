/*
 * test_workflow.c — every cell of the request state machine (state ×
 * action × actor), the decision inputs, "actionable", and each instance
 * policy rule checked at filing.  The expectations are written out here
 * independently of the table in policy/workflow.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "policy/workflow.h"
#include "provider/provider.h"

enum actor { REQUESTER, MANAGER, REVIEWER, MANAGER_APPROVER_PROV,
	REQUESTER_PROV, OUTSIDER, DIRECT_REQUESTER, SYSTEM, ACTOR__COUNT };

static const char *const actor_names[] = { "requester", "manager",
	"reviewer", "manager-approver-provisioner", "requester-provisioner",
	"outsider", "direct-requester", "keywarden" };

static struct actor_facts
facts(enum actor a)
{
	struct actor_facts f;

	memset(&f, 0, sizeof(f));
	switch (a) {
	case REQUESTER:
		f.is_requester = 1;
		break;
	case MANAGER:
		f.is_manager = 1;
		break;
	case REVIEWER:
		f.is_provisioner = 1;
		break;
	case MANAGER_APPROVER_PROV:
		f.is_manager = f.is_provisioner = f.gave_manager_approval = 1;
		break;
	case REQUESTER_PROV:
		f.is_requester = f.is_provisioner = 1;
		break;
	case DIRECT_REQUESTER:
		f.is_requester = f.direct = 1;
		break;
	case SYSTEM:
		f.system = 1;
		break;
	default:
		break;
	}
	return f;
}

/* The specification, written as rules rather than as a table. */
static int
expected(enum req_state s, enum req_action a, enum actor who, int automatic,
    enum req_state *to)
{
	int requester = who == REQUESTER || who == REQUESTER_PROV ||
	    who == DIRECT_REQUESTER;
	int manager = who == MANAGER || who == MANAGER_APPROVER_PROV;
	/* a provisioner who is neither the requester nor gave the manager
	 * approval */
	int reviewer = who == REVIEWER;
	int keywarden = who == SYSTEM;

	/* keywarden's own changes: nobody else makes them */
	switch (a) {
	case RA_ISSUED:
	case RA_ISSUE_FAILED:
		if (s != RS_ISSUING)
			return KW_ERR_CONFLICT;
		*to = a == RA_ISSUED ? RS_ISSUED : RS_FAILED;
		return keywarden ? 0 : KW_ERR_FORBIDDEN;
	case RA_EXPIRE:		/* only while waiting for a decision */
		if (s != RS_PENDING_MANAGER && s != RS_PENDING_PROVISIONER)
			return KW_ERR_CONFLICT;
		*to = RS_EXPIRED;
		return keywarden ? 0 : KW_ERR_FORBIDDEN;
	case RA_OFFBOARD_WITHDRAW:	/* whatever is not yet being minted */
		if (s != RS_PENDING_MANAGER && s != RS_PENDING_PROVISIONER &&
		    s != RS_AWAITING_FULFILMENT)
			return KW_ERR_CONFLICT;
		*to = RS_WITHDRAWN;
		return keywarden ? 0 : KW_ERR_FORBIDDEN;
	default:
		break;
	}
	switch (s) {
	case RS_PENDING_MANAGER:
		if (a == RA_APPROVE || a == RA_DENY) {
			*to = a == RA_APPROVE ? RS_PENDING_PROVISIONER :
			    RS_DENIED;
			return manager ? 0 : KW_ERR_FORBIDDEN;
		}
		if (a == RA_WITHDRAW) {
			*to = RS_WITHDRAWN;
			return requester ? 0 : KW_ERR_FORBIDDEN;
		}
		return KW_ERR_CONFLICT;
	case RS_PENDING_PROVISIONER:
		if (a == RA_APPROVE || a == RA_DENY) {
			*to = a == RA_DENY ? RS_DENIED : automatic ?
			    RS_ISSUING : RS_AWAITING_FULFILMENT;
			return reviewer ? 0 : KW_ERR_FORBIDDEN;
		}
		if (a == RA_WITHDRAW) {
			*to = RS_WITHDRAWN;
			return requester ? 0 : KW_ERR_FORBIDDEN;
		}
		return KW_ERR_CONFLICT;
	case RS_AWAITING_FULFILMENT:
		if (a == RA_FULFIL) {
			*to = RS_ISSUED;
			return reviewer || who == DIRECT_REQUESTER ? 0 :
			    KW_ERR_FORBIDDEN;
		}
		if (a == RA_WITHDRAW) {
			*to = RS_WITHDRAWN;
			return requester ? 0 : KW_ERR_FORBIDDEN;
		}
		return KW_ERR_CONFLICT;	/* no deny after approval */
	default:
		return KW_ERR_CONFLICT;	/* issuing and every final state */
	}
}

static void
every_cell(void **state)
{
	struct decision_input	in;
	struct actor_facts	f;
	enum req_state		to, want_to;
	const char		*why;
	char			where[160];
	int			s, a, who, autom, got, want, cells = 0;

	(void)state;
	for (s = 0; s < RS__COUNT; s++)
		for (a = 0; a < RA__COUNT; a++)
			for (who = 0; who < ACTOR__COUNT; who++)
				for (autom = 0; autom < 2; autom++) {
		memset(&in, 0, sizeof(in));
		in.kind = KIND_API_TOKEN;
		in.has_comment = 1;
		in.automatic = autom;
		f = facts((enum actor)who);
		to = want_to = RS__COUNT;
		got = policy_transition((enum req_state)s, (enum req_action)a,
		    &f, &in, &to, &why);
		want = expected((enum req_state)s, (enum req_action)a,
		    (enum actor)who, autom, &want_to);
		snprintf(where, sizeof(where), "%s / %s / %s / automatic=%d",
		    policy_state_name((enum req_state)s),
		    policy_action_name((enum req_action)a), actor_names[who],
		    autom);
		if (got != want)
			fail_msg("%s: got %d, want %d", where, got, want);
		if (got == 0 && to != want_to)
			fail_msg("%s: next state %s, want %s", where,
			    policy_state_name(to), policy_state_name(want_to));
		assert_non_null(why);
		assert_true(strlen(why) > 0);
		cells++;
	}
	assert_int_equal(cells, RS__COUNT * RA__COUNT * ACTOR__COUNT * 2);
}

static void
deny_needs_a_comment(void **state)
{
	struct decision_input	in = { KIND_API_TOKEN, 0, 0, 0 };
	struct actor_facts	f = facts(MANAGER);
	enum req_state		to;
	const char		*why;

	(void)state;
	assert_int_equal(policy_transition(RS_PENDING_MANAGER, RA_DENY, &f, &in,
	    &to, &why), KW_ERR_VALIDATION);
	assert_non_null(strstr(why, "comment"));
	/* the wrong actor hears 403 before being told about the comment */
	f = facts(OUTSIDER);
	assert_int_equal(policy_transition(RS_PENDING_MANAGER, RA_DENY, &f, &in,
	    &to, &why), KW_ERR_FORBIDDEN);
}

static void
integration_review_needs_acknowledged_risk(void **state)
{
	struct decision_input	in = { KIND_INTEGRATION, 0, 0, 1 };
	struct actor_facts	f = facts(REVIEWER);
	enum req_state		to;
	const char		*why;

	(void)state;
	assert_int_equal(policy_transition(RS_PENDING_PROVISIONER, RA_APPROVE,
	    &f, &in, &to, &why), KW_ERR_VALIDATION);
	assert_non_null(strstr(why, "acknowledge_risk"));
	in.acknowledge_risk = 1;
	assert_int_equal(policy_transition(RS_PENDING_PROVISIONER, RA_APPROVE,
	    &f, &in, &to, &why), 0);
	assert_int_equal(to, RS_ISSUING);
	/* the manager's stage does not ask for it */
	in.acknowledge_risk = 0;
	f = facts(MANAGER);
	assert_int_equal(policy_transition(RS_PENDING_MANAGER, RA_APPROVE, &f,
	    &in, &to, &why), 0);
	/* nor does denying */
	in.has_comment = 1;
	f = facts(REVIEWER);
	assert_int_equal(policy_transition(RS_PENDING_PROVISIONER, RA_DENY, &f,
	    &in, &to, &why), 0);
}

static void
actionable_follows_the_table(void **state)
{
	struct actor_facts f;

	(void)state;
	f = facts(MANAGER);
	assert_true(policy_actionable(RS_PENDING_MANAGER, &f));
	assert_false(policy_actionable(RS_PENDING_PROVISIONER, &f));
	f = facts(REVIEWER);
	assert_true(policy_actionable(RS_PENDING_PROVISIONER, &f));
	assert_true(policy_actionable(RS_AWAITING_FULFILMENT, &f));
	assert_false(policy_actionable(RS_PENDING_MANAGER, &f));
	f = facts(MANAGER_APPROVER_PROV);
	assert_false(policy_actionable(RS_PENDING_PROVISIONER, &f));
	/* withdrawing is possible but nothing waits for the requester */
	f = facts(REQUESTER);
	assert_false(policy_actionable(RS_PENDING_MANAGER, &f));
	f = facts(DIRECT_REQUESTER);
	assert_true(policy_actionable(RS_AWAITING_FULFILMENT, &f));
}

static void
state_names_round_trip(void **state)
{
	enum req_state	s;
	int		i;

	(void)state;
	for (i = 0; i < RS__COUNT; i++) {
		assert_int_equal(policy_state_parse(policy_state_name(
		    (enum req_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(policy_state_parse("approved", &s), -1);
	assert_true(policy_state_final(RS_DENIED));
	assert_true(policy_state_final(RS_ISSUED));
	assert_false(policy_state_final(RS_ISSUING));
	assert_false(policy_state_final(RS_AWAITING_FULFILMENT));
}

/* ---- instance policy at filing ---- */

static struct instance in_global;
static char scopes[4][KW_SCOPE_MAX + 1];

static struct filing
filing(enum cred_kind kind, size_t nscopes, int lifetime)
{
	struct filing f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.nscopes = nscopes;
	f.scopes = (const char (*)[KW_SCOPE_MAX + 1])scopes;
	f.syntax = provider_scopes("zendesk");	/* as the door looks it up */
	f.lifetime_days = lifetime;
	f.requester_active = 1;
	f.requester_has_manager = 1;
	return f;
}

static int
setup_instance(void **state)
{
	(void)state;
	memset(&in_global, 0, sizeof(in_global));
	strcpy(in_global.name, "usgov");
	in_global.allow_integrations = 0;
	in_global.scopes_restricted = 1;
	in_global.nscopes = 2;
	strcpy(in_global.allowed_scopes[0], "read");
	strcpy(in_global.allowed_scopes[1], "tickets:read");
	in_global.max_lifetime_days = 90;
	return 0;
}

static void
filing_rules(void **state)
{
	struct filing	f;
	char		why[256];

	(void)state;
	strcpy(scopes[0], "tickets:read");
	f = filing(KIND_API_TOKEN, 1, 90);
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    0);
	f = filing(KIND_INTEGRATION, 0, 30);
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "integrations"));
	assert_string_equal(f.field, "kind");	/* shown next to the field */
	strcpy(scopes[1], "tickets:write");
	f = filing(KIND_API_TOKEN, 2, 30);
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "tickets:write"));
	assert_string_equal(f.field, "scopes");
	strcpy(scopes[1], "tickets:delete");
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "not a Zendesk scope"));
	/* a provider keywarden does not know has no valid scope */
	strcpy(in_global.provider, "unknown");
	strcpy(scopes[1], "tickets:read");
	f.syntax = provider_scopes(in_global.provider);
	assert_null(f.syntax);
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "'unknown'"));
	assert_string_equal(f.field, "scopes");
	in_global.provider[0] = '\0';
	f = filing(KIND_API_TOKEN, 1, 91);
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "90"));
	assert_string_equal(f.field, "lifetime_days");
	f = filing(KIND_API_TOKEN, 1, 30);
	f.requester_has_manager = 0;
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "manager"));
	assert_null(f.field);		/* the requester's standing */
	f.direct = 1;			/* support-ops: no manager needed */
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    0);
	f.requester_active = 0;
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
	assert_non_null(strstr(why, "not active"));
	/* an unrestricted instance takes any valid scope */
	in_global.scopes_restricted = 0;
	strcpy(scopes[0], "macros:write");
	f = filing(KIND_API_TOKEN, 1, 30);
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    0);
	strcpy(scopes[0], "macros:admin");
	assert_int_equal(policy_check_filing(&in_global, &f, why, sizeof(why)),
	    KW_ERR_POLICY);
}

/* ---- keywarden's own request transitions ---- */

static void
system_transitions(void **state)
{
	struct actor_facts	f;
	struct request		r;
	enum req_state		to;
	const char		*why;

	(void)state;
	assert_int_equal(policy_system_transition(RS_ISSUING, RA_ISSUED, &to,
	    &why), 0);
	assert_int_equal(to, RS_ISSUED);
	assert_int_equal(policy_system_transition(RS_ISSUING, RA_ISSUE_FAILED,
	    &to, &why), 0);
	assert_int_equal(to, RS_FAILED);
	/* someone acted first: the job's expiry finds it decided */
	assert_int_equal(policy_system_transition(RS_DENIED, RA_EXPIRE, &to,
	    &why), KW_ERR_CONFLICT);
	assert_non_null(strstr(why, "final"));
	assert_int_equal(policy_system_transition(RS_AWAITING_FULFILMENT,
	    RA_EXPIRE, &to, &why), KW_ERR_CONFLICT);
	/* keywarden never decides in a person's place */
	assert_int_equal(policy_system_transition(RS_PENDING_MANAGER,
	    RA_APPROVE, &to, &why), KW_ERR_FORBIDDEN);
	assert_int_equal(policy_system_transition(RS_PENDING_MANAGER,
	    RA_WITHDRAW, &to, &why), KW_ERR_FORBIDDEN);
	/* and no person records an issuance */
	f = facts(REVIEWER);
	assert_int_equal(policy_transition(RS_ISSUING, RA_ISSUED, &f, NULL,
	    &to, &why), KW_ERR_FORBIDDEN);
	/* nothing waits for a person in keywarden's own rows */
	f = facts(REVIEWER);
	assert_false(policy_actionable(RS_ISSUING, &f));

	/* the step functions change the record only when the table agrees */
	memset(&r, 0, sizeof(r));
	r.state = RS_PENDING_PROVISIONER;
	assert_int_equal(policy_system_step(&r, RA_EXPIRE, &why), 0);
	assert_int_equal(r.state, RS_EXPIRED);
	assert_int_equal(policy_system_step(&r, RA_OFFBOARD_WITHDRAW, &why),
	    KW_ERR_CONFLICT);
	assert_int_equal(r.state, RS_EXPIRED);
	r.state = RS_AWAITING_FULFILMENT;
	assert_int_equal(policy_system_step(&r, RA_OFFBOARD_WITHDRAW, &why), 0);
	assert_int_equal(r.state, RS_WITHDRAWN);
	r.state = RS_ISSUING;
	assert_int_equal(policy_system_step(&r, RA_OFFBOARD_WITHDRAW, &why),
	    KW_ERR_CONFLICT);
	assert_int_equal(policy_system_step(&r, RA_ISSUE_FAILED, &why), 0);
	assert_int_equal(r.state, RS_FAILED);
}

static void
request_step_applies_the_table(void **state)
{
	struct decision_input	in = { KIND_API_TOKEN, 0, 1, 1 };
	struct actor_facts	f = facts(MANAGER);
	struct request		r;
	const char		*why;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = RS_PENDING_MANAGER;
	assert_int_equal(policy_request_step(&r, RA_APPROVE, &f, &in, &why),
	    0);
	assert_int_equal(r.state, RS_PENDING_PROVISIONER);
	/* refused: unchanged */
	assert_int_equal(policy_request_step(&r, RA_APPROVE, &f, &in, &why),
	    KW_ERR_FORBIDDEN);
	assert_int_equal(r.state, RS_PENDING_PROVISIONER);
	f = facts(REVIEWER);
	assert_int_equal(policy_request_step(&r, RA_APPROVE, &f, &in, &why),
	    0);
	assert_int_equal(r.state, RS_ISSUING);
	assert_int_equal(policy_request_step(&r, RA_DENY, &f, &in, &why),
	    KW_ERR_CONFLICT);
	assert_int_equal(r.state, RS_ISSUING);
}

static void
filed_states(void **state)
{
	(void)state;
	assert_int_equal(policy_filed_state(0, 0), RS_PENDING_MANAGER);
	assert_int_equal(policy_filed_state(0, 1), RS_PENDING_MANAGER);
	assert_int_equal(policy_filed_state(1, 0), RS_AWAITING_FULFILMENT);
	assert_int_equal(policy_filed_state(1, 1), RS_ISSUING);
}

/* ---- credentials ---- */

/* The specification of the credential states, written as rules. */
static int
cred_expected(enum cred_state s, enum cred_event ev, enum cred_kind kind,
    enum cred_state *to)
{
	int legacy = kind == KIND_LEGACY;

	switch (ev) {
	case CE_ACTIVATE:		/* minted or fulfilled */
	case CE_ABANDON:		/* never issued */
		if (legacy || s != CS_PENDING)
			return KW_ERR_CONFLICT;
		*to = ev == CE_ACTIVATE ? CS_ACTIVE : CS_REVOKED;
		return 0;
	case CE_REVOKE:
	case CE_EXPIRE:			/* only what is live ends */
		if (legacy || s != CS_ACTIVE)
			return KW_ERR_CONFLICT;
		*to = ev == CE_REVOKE ? CS_REVOKED : CS_EXPIRED;
		return 0;
	case CE_SYNC_ACTIVE:		/* legacy: whatever the instance says */
		*to = CS_ACTIVE;
		return legacy && s != CS_ACTIVE ? 0 : KW_ERR_CONFLICT;
	case CE_SYNC_INACTIVE:
		*to = CS_EXPIRED;
		return legacy && s != CS_EXPIRED ? 0 : KW_ERR_CONFLICT;
	case CE_SYNC_GONE:
		*to = CS_REVOKED;
		return legacy && s != CS_REVOKED ? 0 : KW_ERR_CONFLICT;
	default:
		return KW_ERR_CONFLICT;
	}
}

static void
every_credential_cell(void **state)
{
	struct credential	*c;
	enum cred_state		 to, want_to;
	const char		*why;
	int			 s, ev, kind, got, want, cells = 0;

	(void)state;
	assert_non_null(c = calloc(1, sizeof(*c)));
	for (s = 0; s < CS__COUNT; s++)
		for (ev = 0; ev < CE__COUNT; ev++)
			for (kind = KIND_API_TOKEN; kind <= KIND_LEGACY; kind++) {
		to = want_to = CS__COUNT;
		why = NULL;
		got = policy_credential_transition((enum cred_state)s,
		    (enum cred_event)ev, (enum cred_kind)kind, &to, &why);
		want = cred_expected((enum cred_state)s, (enum cred_event)ev,
		    (enum cred_kind)kind, &want_to);
		if (got != want)
			fail_msg("%s / %s / kind %d: got %d, want %d",
			    policy_cred_state_name((enum cred_state)s),
			    policy_cred_event_name((enum cred_event)ev), kind,
			    got, want);
		if (got == 0 && to != want_to)
			fail_msg("%s / %s / kind %d: next %s, want %s",
			    policy_cred_state_name((enum cred_state)s),
			    policy_cred_event_name((enum cred_event)ev), kind,
			    policy_cred_state_name(to),
			    policy_cred_state_name(want_to));
		assert_non_null(why);
		assert_true(strlen(why) > 0);
		/* the step function agrees, and leaves a refusal unchanged */
		c->state = (enum cred_state)s;
		c->kind = (enum cred_kind)kind;
		assert_int_equal(policy_credential_step(c, (enum cred_event)ev,
		    &why), got);
		assert_int_equal(c->state, got == 0 ? want_to :
		    (enum cred_state)s);
		cells++;
	}
	assert_int_equal(cells, CS__COUNT * CE__COUNT * 3);
	free(c);
}

static void
names_cover_every_value(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < RA__COUNT; i++)
		assert_string_not_equal(policy_action_name((enum req_action)i),
		    "unknown");
	for (i = 0; i < CS__COUNT; i++)
		assert_string_not_equal(policy_cred_state_name(
		    (enum cred_state)i), "unknown");
	for (i = 0; i < CE__COUNT; i++)
		assert_string_not_equal(policy_cred_event_name(
		    (enum cred_event)i), "unknown");
	assert_string_equal(policy_action_name(RA__COUNT), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_cell),
		cmocka_unit_test(deny_needs_a_comment),
		cmocka_unit_test(integration_review_needs_acknowledged_risk),
		cmocka_unit_test(actionable_follows_the_table),
		cmocka_unit_test(state_names_round_trip),
		cmocka_unit_test(system_transitions),
		cmocka_unit_test(request_step_applies_the_table),
		cmocka_unit_test(filed_states),
		cmocka_unit_test(every_credential_cell),
		cmocka_unit_test(names_cover_every_value),
		cmocka_unit_test_setup(filing_rules, setup_instance),
	};

	return cmocka_run_group_tests_name("workflow", tests, NULL, NULL);
}
