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
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "policy/workflow.h"

enum actor { REQUESTER, MANAGER, REVIEWER, MANAGER_APPROVER_PROV,
	REQUESTER_PROV, OUTSIDER, DIRECT_REQUESTER, ACTOR__COUNT };

static const char *const actor_names[] = { "requester", "manager",
	"reviewer", "manager-approver-provisioner", "requester-provisioner",
	"outsider", "direct-requester" };

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_cell),
		cmocka_unit_test(deny_needs_a_comment),
		cmocka_unit_test(integration_review_needs_acknowledged_risk),
		cmocka_unit_test(actionable_follows_the_table),
		cmocka_unit_test(state_names_round_trip),
		cmocka_unit_test_setup(filing_rules, setup_instance),
	};

	return cmocka_run_group_tests_name("workflow", tests, NULL, NULL);
}
