/*
 * test_provider.c — the provider registry: names resolve to their
 * provider_ops (and nothing else does), every entry is complete, and the
 * scope syntax and legacy facts are reached through the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "policy/scope.h"
#include "provider/provider.h"
#include "util/util.h"

static void
find_by_name(void **state)
{
	const struct provider_ops *ops;

	(void)state;
	ops = provider_find("zendesk");
	assert_non_null(ops);
	assert_string_equal(ops->name, "zendesk");
	assert_ptr_equal(ops, &provider_zendesk);
	assert_ptr_equal(provider_default(), ops);
	/* names are exact: no case folding, no prefixes */
	assert_null(provider_find("Zendesk"));
	assert_null(provider_find("zendes"));
	assert_null(provider_find("zendesk "));
	assert_null(provider_find(""));
	assert_null(provider_find(NULL));
}

static void
registry_entries_complete(void **state)
{
	const struct provider_ops	*ops, *other;
	size_t				 i, j;

	(void)state;
	assert_non_null(provider_at(0));
	for (i = 0; (ops = provider_at(i)) != NULL; i++) {
		assert_true(i < PROVIDER_COUNT_MAX);
		assert_true(strlen(ops->name) > 0 &&
		    strlen(ops->name) <= KW_PROVIDER_MAX);
		assert_non_null(ops->title);
		assert_non_null(ops->scopes);
		assert_non_null(ops->scopes->valid);
		assert_non_null(ops->scopes->noun);
		assert_non_null(ops->scopes->help);
		assert_non_null(ops->issue);
		assert_non_null(ops->revoke);
		assert_ptr_equal(provider_find(ops->name), ops);
		/* keywarden's bounds are ones every provider takes */
		assert_true(ops->access_ttl_min > 0);
		assert_true(ops->access_ttl_min <= KW_ACCESS_TTL_MIN);
		assert_true(KW_ACCESS_TTL_MAX <= ops->access_ttl_max);
		assert_true(KW_ACCESS_TTL_MIN <= KW_ACCESS_TTL_INSTANCE &&
		    KW_ACCESS_TTL_INSTANCE <= ops->access_ttl_max);
		/* a sync reads a whole listing */
		assert_true(ops->legacy == NULL ||
		    ops->legacy_listed_max <= LEGACY_TOKENS_MAX);
		if (ops->legacy != NULL) {
			assert_non_null(ops->list_legacy);
			assert_true(ops->legacy->idle_days > 0);
			assert_non_null(ops->legacy->key_prefix);
			assert_non_null(ops->legacy->created_key);
		}
		for (j = 0; j < i; j++) {
			other = provider_at(j);
			assert_string_not_equal(other->name, ops->name);
		}
	}
	assert_null(provider_at(i + 1));
}

static void
scopes_through_ops(void **state)
{
	const struct provider_ops	*ops = provider_find("zendesk");
	const struct scope_syntax	*sx = ops->scopes;

	(void)state;
	assert_ptr_equal(provider_scopes("zendesk"), sx);
	assert_null(provider_scopes("nope"));
	assert_null(provider_scopes(NULL));
	assert_true(sx->valid("read"));
	assert_true(sx->valid("impersonate"));
	assert_true(sx->valid("tickets:write"));
	assert_true(sx->valid("auditlogs:read"));
	assert_false(sx->valid("auditlogs:write"));	/* read-only */
	assert_true(sx->valid("web_widget:write"));
	assert_false(sx->valid("web_widget:read"));	/* write-only */
	assert_false(sx->valid("tickets:delete"));
	assert_false(sx->valid("ticket:read"));
	assert_false(sx->valid("tickets"));
	assert_false(sx->valid(""));
	/* policy's view: an unknown provider accepts nothing */
	assert_true(policy_scope_valid(sx, "users:read"));
	assert_false(policy_scope_valid(NULL, "users:read"));
	assert_string_equal(ops->title, "Zendesk");
	assert_string_equal(sx->noun, "Zendesk scope");
	assert_non_null(strstr(sx->help, "<resource>:read|write"));
}

static void
legacy_facts(void **state)
{
	const struct provider_ops	*ops = provider_find("zendesk");
	time_t				 off, from;

	(void)state;
	assert_non_null(ops->legacy);
	assert_non_null(ops->list_legacy);
	assert_string_equal(ops->legacy->shutdown, "2027-04-30T00:00:00Z");
	assert_int_equal(ops->legacy->idle_days, 30);
	assert_string_equal(ops->legacy->key_prefix, "api_token:");
	assert_int_equal(kw_time_parse(ops->legacy->shutdown, &off), 0);
	assert_int_equal(kw_time_parse(ops->legacy->expiring_clients_from,
	    &from), 0);
	assert_true(from < off);
	assert_int_equal(strlen(ops->legacy->refresh_deadline), 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_by_name),
		cmocka_unit_test(registry_entries_complete),
		cmocka_unit_test(scopes_through_ops),
		cmocka_unit_test(legacy_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
