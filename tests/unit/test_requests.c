/*
 * test_requests.c — who sees a request and with which facts
 * (request_visible in core/requests.c), for an actor of any door: the
 * requester, their manager, a provisioner of the instance, the person who
 * gave the manager approval, an admin or an auditor, and no one else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "core/requests.h"

static struct request	req;
static struct instance	inst;

static int
setup(void **state)
{
	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&inst, 0, sizeof(inst));
	strcpy(req.id, "req_1");
	strcpy(req.requester_id, "p_req");
	strcpy(req.manager_id, "p_mgr");
	strcpy(req.purpose, "request");
	inst.nprovisioners = 2;
	strcpy(inst.provisioners[0].id, "p_prov0");
	strcpy(inst.provisioners[1].id, "p_prov1");
	return 0;
}

/* A person's actor through door d. */
static struct actor
person(const char *id, unsigned roles, enum door d)
{
	struct actor a;

	memset(&a, 0, sizeof(a));
	a.door = d;
	strcpy(a.person.id, id);
	snprintf(a.name, sizeof(a.name), "%s@example.com", id);
	a.person.roles = roles;
	a.person.active = 1;
	return a;
}

static void
each_relation_sees_with_its_facts(void **state)
{
	struct actor_facts	f;
	struct actor		a;

	(void)state;
	a = person("p_req", 0, DOOR_API);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
	assert_true(f.is_requester && !f.is_manager && !f.is_provisioner);
	assert_false(f.direct);

	a = person("p_mgr", 0, DOOR_SLACK);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
	assert_true(f.is_manager && !f.is_requester && !f.is_provisioner);

	a = person("p_prov1", 0, DOOR_WEB);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
	assert_true(f.is_provisioner && !f.is_manager);
	assert_false(f.gave_manager_approval);

	strcpy(req.manager_approver_id, "p_prov1");
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
	assert_true(f.gave_manager_approval);

	strcpy(req.purpose, "personal");
	a = person("p_req", 0, DOOR_API);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
	assert_true(f.direct);
}

static void
admins_and_auditors_see_everything_without_facts(void **state)
{
	struct actor_facts	f;
	struct actor		a;

	(void)state;
	a = person("p_admin", ROLE_ADMIN, DOOR_API);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
	assert_false(f.is_requester || f.is_manager || f.is_provisioner);
	a = person("p_aud", ROLE_AUDITOR, DOOR_WEB);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 1);
}

static void
others_see_nothing(void **state)
{
	struct actor_facts	f;
	struct actor		a;

	(void)state;
	a = person("p_other", 0, DOOR_API);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 0);
	/* a request with no manager: an empty manager id matches no one */
	req.manager_id[0] = '\0';
	a = person("p_mgr", 0, DOOR_SLACK);
	assert_int_equal(request_visible(&a, &req, &inst, &f), 0);
	assert_false(f.is_manager);
	/* keywarden itself (a job, the CLI offline) is no person */
	actor_system(&a, DOOR_JOB, "keywarden");
	a.person.roles = ROLE_ADMIN;	/* roles without a person count not */
	assert_int_equal(request_visible(&a, &req, &inst, &f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(each_relation_sees_with_its_facts, setup),
		cmocka_unit_test_setup(
		    admins_and_auditors_see_everything_without_facts, setup),
		cmocka_unit_test_setup(others_see_nothing, setup),
	};

	return cmocka_run_group_tests_name("requests", tests, NULL, NULL);
}
