/*
 * test_metrics.c — the metrics registry: what a request, an instance call
 * and a job leave on the page, cumulative histogram buckets, label
 * escaping, and the store gauges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kw.h"
#include "metrics/metrics.h"
#include "util/buf.h"

static const char *const methods[] = { "GET", "POST" };
static const char *const patterns[] = { "/v1/me", "/v1/requests/{}/approve" };

static char *
render(const struct metrics_store *s)
{
	struct buf	b;
	char		*out;

	buf_init(&b, 1 << 22);
	assert_int_equal(metrics_render(&b, s), 0);
	out = buf_detach(&b, NULL);
	assert_non_null(out);
	return out;
}

static int
setup(void **state)
{
	(void)state;
	metrics_routes(methods, patterns, 2);
	metrics_reset();
	return 0;
}

static void
requests_are_labelled_by_pattern_and_status(void **state)
{
	struct metrics_store	 s;
	char			*page;

	(void)state;
	memset(&s, 0, sizeof(s));
	metrics_http(1, 200, 700);		/* 0.7 ms */
	metrics_http(1, 200, 3000000);		/* 3 s */
	metrics_http(SIZE_MAX, 404, 100);
	metrics_http(0, 299, 100);		/* not a status we list */
	page = render(&s);
	assert_non_null(strstr(page, "keywarden_http_request_duration_seconds"
	    "_count{method=\"POST\",route=\"/v1/requests/{}/approve\","
	    "status=\"200\"} 2\n"));
	/* cumulative: the 0.7 ms one is under 1 ms, both under +Inf */
	assert_non_null(strstr(page, "route=\"/v1/requests/{}/approve\","
	    "status=\"200\",le=\"0.0005\"} 0\n"));
	assert_non_null(strstr(page, "route=\"/v1/requests/{}/approve\","
	    "status=\"200\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(page, "route=\"/v1/requests/{}/approve\","
	    "status=\"200\",le=\"2.5\"} 1\n"));
	assert_non_null(strstr(page, "route=\"/v1/requests/{}/approve\","
	    "status=\"200\",le=\"5\"} 2\n"));
	assert_non_null(strstr(page, "route=\"/v1/requests/{}/approve\","
	    "status=\"200\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(page, "_sum{method=\"POST\",route=\"/v1/"
	    "requests/{}/approve\",status=\"200\"} 3.000700\n"));
	assert_non_null(strstr(page, "route=\"unmatched\",status=\"404\""));
	assert_non_null(strstr(page, "route=\"/v1/me\",status=\"other\""));
	/* a route never called has no series */
	assert_null(strstr(page, "route=\"/v1/me\",status=\"200\""));
	free(page);
}

static void
counters_instances_and_jobs(void **state)
{
	struct metrics_store	 s;
	char			*page;

	(void)state;
	memset(&s, 0, sizeof(s));
	metrics_count(MC_ISSUANCE_ISSUED);
	metrics_count(MC_ISSUANCE_ISSUED);
	metrics_count(MC_REVOCATION_UPSTREAM);
	metrics_instance_call("global", 0, 1000);
	metrics_instance_call("global", 2, 1000);
	metrics_instance_call("we\"ird\\name", 1, 1000);
	metrics_job("jobs", 1, 5000);
	metrics_job("jobs", 0, 5000);
	page = render(&s);
	assert_non_null(strstr(page,
	    "keywarden_issuance_total{outcome=\"issued\"} 2\n"));
	assert_non_null(strstr(page,
	    "keywarden_revocations_total{outcome=\"failed\"} 1\n"));
	assert_non_null(strstr(page, "keywarden_instance_calls_total{"
	    "instance=\"global\",result=\"no_answer\"} 1\n"));
	assert_non_null(strstr(page, "instance=\"we\\\"ird\\\\name\","
	    "result=\"http_error\"} 1\n"));
	assert_non_null(strstr(page, "keywarden_job_runs_total{job=\"jobs\","
	    "result=\"failed\"} 1\n"));
	assert_non_null(strstr(page,
	    "keywarden_job_duration_seconds_count{job=\"jobs\"} 2\n"));
	free(page);
}

static void
store_gauges(void **state)
{
	struct metrics_store	 s;
	char			*page;

	(void)state;
	memset(&s, 0, sizeof(s));
	page = render(&s);
	assert_non_null(strstr(page, "keywarden_store_up 0\n"));
	assert_null(strstr(page, "keywarden_requests{"));
	free(page);
	s.ok = 1;
	s.now = 1764669600;				/* 2025-12-02T10:00:00Z */
	s.st.requests[RS_PENDING_MANAGER] = 3;
	s.st.credentials[CS_ACTIVE][KIND_INTEGRATION][DS_DELIVERED] = 4;
	s.st.outbox_pending = 2;
	strcpy(s.st.outbox_oldest, "2025-12-02T09:59:00Z");
	s.st.audit_head_seq = 42;
	page = render(&s);
	assert_non_null(strstr(page,
	    "keywarden_requests{state=\"pending_manager\"} 3\n"));
	assert_non_null(strstr(page, "keywarden_requests{state=\"issued\"} 0\n"));
	assert_non_null(strstr(page, "keywarden_credentials{state=\"active\","
	    "kind=\"integration\",delivery=\"delivered\"} 4\n"));
	assert_non_null(strstr(page, "keywarden_outbox_pending 2\n"));
	assert_non_null(strstr(page,
	    "keywarden_outbox_oldest_age_seconds 60\n"));
	assert_non_null(strstr(page, "keywarden_audit_head_sequence 42\n"));
	free(page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(requests_are_labelled_by_pattern_and_status,
		    setup),
		cmocka_unit_test_setup(counters_instances_and_jobs, setup),
		cmocka_unit_test_setup(store_gauges, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
