/*
 * test_router.c — route matching against a small table, JSON depth, and
 * the API's error object with the single error-code mapping table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "http/http.h"

/* ---- the table -------------------------------------------------------- */

static int
h_dummy(struct http_req *rq, struct http_resp *rs)
{
	(void)rq;
	(void)rs;
	return 0;
}

#define R(method, pattern, body) \
	{ method, pattern, h_dummy, ACCESS_ADMIN, body, INLINE }

static const struct http_route routes[] = {
	R("GET",	"/v1/health",			BODY_NONE),	/* 0 */
	R("GET",	"/v1/people",			BODY_NONE),
	R("POST",	"/v1/people",			BODY_REQUIRED),
	R("GET",	"/v1/people/{}",		BODY_NONE),	/* 3 */
	R("PATCH",	"/v1/people/{}",		BODY_REQUIRED),
	R("DELETE",	"/v1/people/{}/tokens/{}",	BODY_NONE),	/* 5 */
	R("GET",	"/v1/a/{}/b/{}/c/{}/d/{}",	BODY_NONE),
	R("GET",	"/v1/a/{}/b/{}/c/{}/d/{}/e/{}",	BODY_NONE),
};

/* The outcome of one match. */
struct m {
	int				 r;
	const struct http_route		*route;
	const char			*params[KW_PATH_PARAMS_MAX];
	size_t				 nparams;
	char				 seg[KW_URL_PATH_MAX];
};

static int
match(struct m *m, const char *method, const char *path, size_t segsz)
{
	memset(m, 0, sizeof(*m));
	assert_true(segsz <= sizeof(m->seg));
	m->r = http_route_match(routes, KW_NELEM(routes), method, path, m->seg,
	    segsz, m->params, &m->nparams, &m->route);
	return m->r;
}

/* ---- matching --------------------------------------------------------- */

static void
exact_match(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "GET", "/v1/health", sizeof(m.seg)), 0);
	assert_ptr_equal(m.route, &routes[0]);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(match(&m, "POST", "/v1/people", sizeof(m.seg)), 0);
	assert_ptr_equal(m.route, &routes[2]);
	assert_int_equal(m.route->body, BODY_REQUIRED);
}

static void
captures_one_segment(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "GET", "/v1/people/per_123", sizeof(m.seg)),
	    0);
	assert_ptr_equal(m.route, &routes[3]);
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "per_123");
	assert_int_equal(match(&m, "PATCH", "/v1/people/a@b.c", sizeof(m.seg)),
	    0);
	assert_ptr_equal(m.route, &routes[4]);
	assert_string_equal(m.params[0], "a@b.c");
}

static void
captures_two_segments(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "DELETE", "/v1/people/per_1/tokens/tok_2",
	    sizeof(m.seg)), 0);
	assert_ptr_equal(m.route, &routes[5]);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "per_1");
	assert_string_equal(m.params[1], "tok_2");
}

static void
captures_up_to_the_limit(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "GET", "/v1/a/1/b/2/c/3/d/4", sizeof(m.seg)),
	    0);
	assert_int_equal(m.nparams, KW_PATH_PARAMS_MAX);
	assert_string_equal(m.params[3], "4");
	/* a pattern with more captures than params[] can hold never matches */
	assert_int_equal(match(&m, "GET", "/v1/a/1/b/2/c/3/d/4/e/5",
	    sizeof(m.seg)), KW_ERR_NOT_FOUND);
	assert_null(m.route);
}

static void
method_mismatch(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "DELETE", "/v1/health", sizeof(m.seg)),
	    KW_ERR_METHOD);
	assert_null(m.route);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(match(&m, "PUT", "/v1/people/per_1", sizeof(m.seg)),
	    KW_ERR_METHOD);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(match(&m, "get", "/v1/health", sizeof(m.seg)),
	    KW_ERR_METHOD);
}

static void
unknown_path(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "GET", "/v1/nothing", sizeof(m.seg)),
	    KW_ERR_NOT_FOUND);
	assert_null(m.route);
	assert_int_equal(match(&m, "GET", "", sizeof(m.seg)), KW_ERR_NOT_FOUND);
	assert_int_equal(match(&m, "GET", "/", sizeof(m.seg)),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(match(&m, "GET", "/v1/healthz", sizeof(m.seg)),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(match(&m, "GET", "/v1/people/per_1/extra",
	    sizeof(m.seg)), KW_ERR_NOT_FOUND);
}

static void
trailing_slash_not_matched(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "GET", "/v1/health/", sizeof(m.seg)),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(match(&m, "GET", "/v1/people/per_1/", sizeof(m.seg)),
	    KW_ERR_NOT_FOUND);
}

static void
empty_segment_not_captured(void **state)
{
	struct m m;

	(void)state;
	assert_int_equal(match(&m, "GET", "/v1/people/", sizeof(m.seg)),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(match(&m, "DELETE", "/v1/people//tokens/tok_1",
	    sizeof(m.seg)), KW_ERR_NOT_FOUND);
	assert_int_equal(match(&m, "DELETE", "/v1/people/per_1/tokens/",
	    sizeof(m.seg)), KW_ERR_NOT_FOUND);
	assert_null(m.route);
	assert_int_equal(m.nparams, 0);
}

/* Match into a heap segbuf of exactly segsz bytes, so that ASan sees any
 * write past it; on a match, *first gets a copy of the first capture. */
static int
match_exact_buf(const char *method, const char *path, size_t segsz,
    char *first, size_t firstsz)
{
	const struct http_route	*route = NULL;
	const char		*params[KW_PATH_PARAMS_MAX];
	size_t			 nparams = 99;
	char			*seg = malloc(segsz ? segsz : 1);
	int			 r;

	assert_non_null(seg);
	r = http_route_match(routes, KW_NELEM(routes), method, path, seg, segsz,
	    params, &nparams, &route);
	if (r == 0) {
		assert_non_null(route);
		assert_true(nparams >= 1);
		snprintf(first, firstsz, "%s", params[0]);
	} else {
		assert_null(route);
		assert_int_equal(nparams, 0);
	}
	free(seg);
	return r;
}

static void
small_segbuf_fails_safely(void **state)
{
	char first[32];

	(void)state;
	/* "per_123" needs 8 bytes with its NUL */
	assert_int_equal(match_exact_buf("GET", "/v1/people/per_123", 7, first,
	    sizeof(first)), KW_ERR_NOT_FOUND);
	assert_int_equal(match_exact_buf("GET", "/v1/people/per_123", 8, first,
	    sizeof(first)), 0);
	assert_string_equal(first, "per_123");
	/* two captures: "p" NUL "t" NUL */
	assert_int_equal(match_exact_buf("DELETE", "/v1/people/p/tokens/t", 3,
	    first, sizeof(first)), KW_ERR_NOT_FOUND);
	assert_int_equal(match_exact_buf("DELETE", "/v1/people/p/tokens/t", 4,
	    first, sizeof(first)), 0);
	assert_int_equal(match_exact_buf("GET", "/v1/people/x", 0, first,
	    sizeof(first)), KW_ERR_NOT_FOUND);
}

/* ---- JSON depth ------------------------------------------------------- */

static int
depth_of(const char *text)
{
	json_t	*v = json_loads(text, JSON_DECODE_ANY, NULL);
	int	 d;

	assert_non_null(v);
	d = http_json_depth(v);
	json_decref(v);
	return d;
}

static void
json_depth(void **state)
{
	(void)state;
	assert_int_equal(depth_of("1"), 1);
	assert_int_equal(depth_of("\"s\""), 1);
	assert_int_equal(depth_of("{}"), 1);
	assert_int_equal(depth_of("[]"), 1);
	assert_int_equal(depth_of("{\"a\":1}"), 2);
	assert_int_equal(depth_of("{\"a\":[1,2]}"), 3);
	assert_int_equal(depth_of("{\"a\":1,\"b\":{\"c\":{\"d\":[]}}}"), 4);
	assert_int_equal(depth_of("[[[[[[]]]]]]"), 6);
	assert_int_equal(depth_of("[1,[2,[3]],{\"x\":[[4]]}]"), 5);
}

/* ---- the error object ------------------------------------------------- */

static void
error_body_shape(void **state)
{
	json_t *b, *e;

	(void)state;
	assert_non_null(b = http_error_body(KW_ERR_VALIDATION,
	    "'email' is required", "email", NULL));
	assert_int_equal(json_object_size(b), 1);
	assert_non_null(e = json_object_get(b, "error"));
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    "validation_failed");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "'email' is required");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(e, "details"), "field")), "email");
	json_decref(b);
}

static void
error_body_without_field_or_message(void **state)
{
	json_t *b, *e;

	(void)state;
	assert_non_null(b = http_error_body(KW_ERR_NOT_FOUND, NULL, NULL, NULL));
	e = json_object_get(b, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    "not_found");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    kw_strerror(KW_ERR_NOT_FOUND));
	assert_null(json_object_get(e, "details"));
	json_decref(b);

	assert_non_null(b = http_error_body(KW_ERR_FORBIDDEN, "", "", NULL));
	e = json_object_get(b, "error");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    kw_strerror(KW_ERR_FORBIDDEN));
	assert_null(json_object_get(e, "details"));
	json_decref(b);
}

/* A message or field that is not valid UTF-8 (a cut-short client key)
 * must still produce the error object, never NULL (an empty body). */
static void
error_body_survives_broken_utf8(void **state)
{
	json_t *b, *e;

	(void)state;
	b = http_error_body(KW_ERR_VALIDATION, "unknown field 'caf\xc3'",
	    "caf\xc3", NULL);
	assert_non_null(b);
	e = json_object_get(b, "error");
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    "validation_failed");
	assert_non_null(json_string_value(json_object_get(e, "message")));
	json_decref(b);
}

static void
error_codes_and_statuses(void **state)
{
	static const struct {
		int		 err;
		int		 status;
		const char	*code;
	} want[] = {
		{ KW_ERR_INVALID_JSON,	 400, "invalid_json" },
		{ KW_ERR_VALIDATION,	 400, "validation_failed" },
		{ KW_ERR_UNAUTHENTICATED, 401, "unauthenticated" },
		{ KW_ERR_FORBIDDEN,	 403, "forbidden" },
		{ KW_ERR_NOT_FOUND,	 404, "not_found" },
		{ KW_ERR_METHOD,	 405, "method_not_allowed" },
		{ KW_ERR_CONFLICT,	 409, "conflict" },
		{ KW_ERR_EXISTS,	 409, "conflict" },
		{ KW_ERR_GONE,		 410, "gone" },
		{ KW_ERR_TOO_LARGE,	 413, "payload_too_large" },
		{ KW_ERR_MEDIA_TYPE,	 415, "unsupported_media_type" },
		{ KW_ERR_POLICY,	 422, "policy_violation" },
		{ KW_ERR_RATE_LIMITED,	 429, "rate_limited" },
		{ KW_ERR_UPSTREAM,	 502, "upstream_error" },
		{ KW_ERR_UNAVAILABLE,	 503, "unavailable" },
		{ KW_ERR_NOMEM,		 500, "internal" },
		{ KW_ERR_INTERNAL,	 500, "internal" },
		{ KW_ERR_IO,		 500, "internal" },
		{ KW_ERR_CRYPTO,	 500, "internal" },
		{ KW_ERR_CONFIG,	 500, "internal" },
	};
	json_t	*b;
	size_t	 i;

	(void)state;
	for (i = 0; i < KW_NELEM(want); i++) {
		assert_int_equal(kw_err_status(want[i].err), want[i].status);
		assert_string_equal(kw_err_code(want[i].err), want[i].code);
		assert_non_null(b = http_error_body(want[i].err, NULL, NULL,
		    NULL));
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(b, "error"), "code")), want[i].code);
		json_decref(b);
	}
}

static void
unknown_error_code_is_internal(void **state)
{
	(void)state;
	assert_int_equal(kw_err_status(-999), 500);
	assert_string_equal(kw_err_code(-999), "internal");
	assert_int_equal(kw_err_status(12345), 500);
	assert_non_null(kw_strerror(-999));
	assert_int_equal(kw_err_status(KW_OK), 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_match),
		cmocka_unit_test(captures_one_segment),
		cmocka_unit_test(captures_two_segments),
		cmocka_unit_test(captures_up_to_the_limit),
		cmocka_unit_test(method_mismatch),
		cmocka_unit_test(unknown_path),
		cmocka_unit_test(trailing_slash_not_matched),
		cmocka_unit_test(empty_segment_not_captured),
		cmocka_unit_test(small_segbuf_fails_safely),
		cmocka_unit_test(json_depth),
		cmocka_unit_test(error_body_shape),
		cmocka_unit_test(error_body_without_field_or_message),
		cmocka_unit_test(error_body_survives_broken_utf8),
		cmocka_unit_test(error_codes_and_statuses),
		cmocka_unit_test(unknown_error_code_is_internal),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
