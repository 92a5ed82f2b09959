/*
 * test_legacy.c — legacy_due(): when a classic Zendesk API token is
 * deactivated (30 days after its last use, or its creation when never
 * used) and how far that and the 2027-04-30 shutdown are from now.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "limits.h"
#include "core/legacy.h"
#include "provider/provider.h"
#include "util/util.h"

/* Zendesk's facts, through the registry as the core finds them. */
#define ZD	(provider_find("zendesk")->legacy)

static time_t
t_of(const char *s)
{
	time_t t;

	assert_int_equal(kw_time_parse(s, &t), 0);
	return t;
}

/* A legacy credential created at created, last used at last ("" never). */
static struct credential *
legacy(const char *created, const char *last)
{
	static struct credential c;

	memset(&c, 0, sizeof(c));
	c.kind = KIND_LEGACY;
	c.state = CS_ACTIVE;
	kw_strlcpy(c.created_at, created, sizeof(c.created_at));
	kw_strlcpy(c.last_used_at, last, sizeof(c.last_used_at));
	return &c;
}

static void
due_is_30_days_after_last_use(void **state)
{
	char	due[KW_TIME_LEN + 1];
	int	dd, ds;

	(void)state;
	assert_int_equal(legacy_due(ZD, legacy("2026-01-10T00:00:00Z",
	    "2026-10-10T12:00:00Z"), t_of("2026-11-01T00:00:00Z"), due, &dd,
	    &ds), 0);
	assert_string_equal(due, "2026-11-09T12:00:00Z");
	assert_int_equal(dd, 8);		/* 8.5 days, rounded down */
	assert_int_equal(ds, 180);	/* 2026-11-01 .. 2027-04-30 */
}

static void
never_used_counts_from_creation(void **state)
{
	char	due[KW_TIME_LEN + 1];
	int	dd;

	(void)state;
	assert_int_equal(legacy_due(ZD, legacy("2026-10-20T00:00:00Z", ""),
	    t_of("2026-11-01T00:00:00Z"), due, &dd, NULL), 0);
	assert_string_equal(due, "2026-11-19T00:00:00Z");
	assert_int_equal(dd, 18);
}

static void
month_and_year_boundaries(void **state)
{
	char due[KW_TIME_LEN + 1];

	(void)state;
	assert_int_equal(legacy_due(ZD, legacy("2026-01-01T00:00:00Z",
	    "2026-12-15T23:59:59Z"), 0, due, NULL, NULL), 0);
	assert_string_equal(due, "2027-01-14T23:59:59Z");
	assert_int_equal(legacy_due(ZD, legacy("2026-01-01T00:00:00Z",
	    "2028-02-01T00:00:00Z"), 0, due, NULL, NULL), 0);
	assert_string_equal(due, "2028-03-02T00:00:00Z");	/* leap year */
}

static void
inactive_token_still_gets_its_computed_date(void **state)
{
	struct credential	*c = legacy("2026-02-01T00:00:00Z",
				    "2026-09-15T00:00:00Z");
	char			 due[KW_TIME_LEN + 1];
	int			 dd, ds;

	(void)state;
	c->state = CS_EXPIRED;
	assert_int_equal(legacy_due(ZD, c, t_of("2026-11-01T00:00:00Z"), due,
	    &dd, &ds), 0);
	assert_string_equal(due, "2026-10-15T00:00:00Z");
	assert_int_equal(dd, -17);
	assert_int_equal(ds, 180);
}

static void
distances_round_down(void **state)
{
	struct credential	*c = legacy("2026-01-01T00:00:00Z",
				    "2026-10-01T00:00:00Z");
	time_t			 due = t_of("2026-10-31T00:00:00Z");
	int			 dd;

	(void)state;
	assert_int_equal(legacy_due(ZD, c, due, NULL, &dd, NULL), 0);
	assert_int_equal(dd, 0);			/* on the day */
	assert_int_equal(legacy_due(ZD, c, due - 1, NULL, &dd, NULL), 0);
	assert_int_equal(dd, 0);			/* a second before */
	assert_int_equal(legacy_due(ZD, c, due - 86400, NULL, &dd, NULL), 0);
	assert_int_equal(dd, 1);
	assert_int_equal(legacy_due(ZD, c, due + 1, NULL, &dd, NULL), 0);
	assert_int_equal(dd, -1);			/* just passed */
	assert_int_equal(legacy_due(ZD, c, due + 86400, NULL, &dd, NULL), 0);
	assert_int_equal(dd, -1);
	assert_int_equal(legacy_due(ZD, c, due + 86401, NULL, &dd, NULL), 0);
	assert_int_equal(dd, -2);
}

static void
shutdown_distance(void **state)
{
	struct credential	*c = legacy("2026-01-01T00:00:00Z", "");
	time_t			 off = t_of(ZD->shutdown);
	int			 ds;

	(void)state;
	assert_string_equal(ZD->shutdown, "2027-04-30T00:00:00Z");
	assert_int_equal(legacy_due(ZD, c, off, NULL, NULL, &ds), 0);
	assert_int_equal(ds, 0);
	assert_int_equal(legacy_due(ZD, c, off - 14 * 86400, NULL, NULL, &ds),
	    0);
	assert_int_equal(ds, 14);
	assert_int_equal(legacy_due(ZD, c, off + 3600, NULL, NULL, &ds), 0);
	assert_int_equal(ds, -1);
}

static void
refuses_what_it_cannot_compute(void **state)
{
	struct credential	*c;
	char			 due[KW_TIME_LEN + 1] = "untouched";
	int			 dd = 42, ds = 42;

	(void)state;
	c = legacy("2026-01-01T00:00:00Z", "");
	c->kind = KIND_API_TOKEN;
	assert_int_equal(legacy_due(ZD, c, 0, due, &dd, &ds),
	    KW_ERR_VALIDATION);
	c = legacy("", "");
	assert_int_equal(legacy_due(ZD, c, 0, due, &dd, &ds),
	    KW_ERR_VALIDATION);
	c = legacy("2026-01-01T00:00:00Z", "yesterday");
	assert_int_equal(legacy_due(ZD, c, 0, due, &dd, &ds),
	    KW_ERR_VALIDATION);
	/* a provider without legacy tokens has no dates for them */
	c = legacy("2026-01-01T00:00:00Z", "");
	assert_int_equal(legacy_due(NULL, c, 0, due, &dd, &ds),
	    KW_ERR_VALIDATION);
	assert_string_equal(due, "untouched");
	assert_int_equal(dd, 42);
	assert_int_equal(ds, 42);
}

static void
reads_nothing_but_the_credential(void **state)
{
	struct credential	*c = legacy("2026-05-01T00:00:00Z",
				    "2026-06-01T00:00:00Z");
	struct credential	 before;
	char			 due[KW_TIME_LEN + 1];

	(void)state;
	before = *c;
	assert_int_equal(legacy_due(ZD, c, t_of("2026-06-02T00:00:00Z"), due,
	    NULL, NULL), 0);
	assert_memory_equal(&before, c, sizeof(before));
	assert_string_equal(due, "2026-07-01T00:00:00Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(due_is_30_days_after_last_use),
		cmocka_unit_test(never_used_counts_from_creation),
		cmocka_unit_test(month_and_year_boundaries),
		cmocka_unit_test(inactive_token_still_gets_its_computed_date),
		cmocka_unit_test(distances_round_down),
		cmocka_unit_test(shutdown_distance),
		cmocka_unit_test(refuses_what_it_cannot_compute),
		cmocka_unit_test(reads_nothing_but_the_credential),
	};

	return cmocka_run_group_tests_name("legacy", tests, NULL, NULL);
}
