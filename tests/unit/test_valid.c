/*
 * test_valid.c — JSON field validation at the boundary: each jv_* either
 * fills its typed slot or fails with KW_ERR_VALIDATION naming the field.
 * (api_list_begin, the list pages, reads the query string of a live
 * connection: e2e covers it.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "api/valid.h"
#include "http/http.h"
#include "util/util.h"

/* ---- helpers ---------------------------------------------------------- */

static json_t *
obj(const char *text)
{
	json_error_t	 e;
	json_t		*o = json_loads(text, 0, &e);

	if (o == NULL)
		fail_msg("bad test JSON: %s", e.text);
	return o;
}

/* Assert that rq recorded a failure on field whose message contains what. */
static void
failed_on(const struct http_req *rq, const char *field, const char *what)
{
	assert_string_equal(rq->fail.field, field);
	if (strstr(rq->fail.message, what) == NULL)
		fail_msg("message '%s' lacks '%s'", rq->fail.message, what);
}

static int
no_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 0;
	return 1;
}

/* ---- jv_known --------------------------------------------------------- */

static void
known_accepts_listed_keys(void **state)
{
	static const char *const allowed[] = { "email", "name", NULL };
	struct http_req	 rq;
	json_t		*o = obj("{\"email\":\"a@b.c\",\"name\":\"A\"}");

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_known(&rq, o, allowed), 0);
	assert_string_equal(rq.fail.field, "");
	json_decref(o);
}

static void
known_names_unknown_key(void **state)
{
	static const char *const allowed[] = { "email", "name", NULL };
	struct http_req	 rq;
	json_t		*o = obj("{\"email\":\"a@b.c\",\"admin\":true}");

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_known(&rq, o, allowed), KW_ERR_VALIDATION);
	failed_on(&rq, "admin", "admin");
	json_decref(o);
}

/* The message and field of a failure reach the client as JSON strings,
 * so cutting a long key short must not split a UTF-8 character. */
static void
known_long_non_ascii_key_stays_text(void **state)
{
	static const char *const allowed[] = { "email", NULL };
	struct http_req	 rq;
	json_t		*o;
	char		 key[80];
	size_t		 nA;
	int		 r;

	(void)state;
	for (nA = 60; nA <= 66; nA++) {
		memset(key, 'a', nA);
		strcpy(key + nA, "\xc3\xa9");		/* U+00E9 */
		o = json_object();
		json_object_set_new(o, key, json_true());
		memset(&rq, 0, sizeof(rq));
		r = jv_known(&rq, o, allowed);
		json_decref(o);
		assert_int_equal(r, KW_ERR_VALIDATION);
		if (!kw_valid_text(rq.fail.message, sizeof(rq.fail.message)))
			fail_msg("message not UTF-8 for a key of %zu+2 bytes",
			    nA);
		if (!kw_valid_text(rq.fail.field, sizeof(rq.fail.field)))
			fail_msg("field not UTF-8 for a key of %zu+2 bytes",
			    nA);
	}
}

/* ---- jv_str ----------------------------------------------------------- */

static void
str_reads_value(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"name\":\"Ada Lovelace\"}");
	char		 out[32] = "x";
	int		 present = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", JV_REQUIRED, 31, out,
	    sizeof(out), &present), 0);
	assert_string_equal(out, "Ada Lovelace");
	assert_int_equal(present, 1);
	json_decref(o);
}

static void
str_absent_optional(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{}");
	char		 out[32] = "keep";
	int		 present = 1;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, sizeof(out),
	    &present), 0);
	assert_int_equal(present, 0);
	assert_string_equal(out, "keep");
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, sizeof(out),
	    NULL), 0);
	json_decref(o);
}

static void
str_required_missing(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"other\":\"x\"}");
	char		 out[32];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", JV_REQUIRED, 31, out,
	    sizeof(out), NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "name", "required");
	json_decref(o);
}

static void
str_wrong_type(void **state)
{
	const char *const bodies[] = { "{\"name\":5}", "{\"name\":true}",
	    "{\"name\":[\"a\"]}", "{\"name\":{}}", NULL };
	struct http_req	 rq;
	json_t		*o;
	char		 out[32];
	size_t		 i;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_str(&rq, o, "name", 0, 31, out,
		    sizeof(out), NULL), KW_ERR_VALIDATION);
		failed_on(&rq, "name", "string");
		json_decref(o);
	}
}

static void
str_null_not_nullable(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"name\":null}");
	char		 out[32];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, sizeof(out), NULL),
	    KW_ERR_VALIDATION);
	failed_on(&rq, "name", "null");
	json_decref(o);
}

static void
str_too_long(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"name\":\"abcdef\"}");
	char		 out[32];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 5, out, sizeof(out), NULL),
	    KW_ERR_VALIDATION);
	failed_on(&rq, "name", "longer than 5");
	/* exactly max fits */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 6, out, sizeof(out), NULL),
	    0);
	assert_string_equal(out, "abcdef");
	/* the output buffer bounds it too */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, 6, NULL),
	    KW_ERR_VALIDATION);
	json_decref(o);
}

static void
str_control_characters(void **state)
{
	const char *const bodies[] = { "{\"name\":\"a\\nb\"}",
	    "{\"name\":\"a\\tb\"}", "{\"name\":\"\\u001b[31m\"}",
	    "{\"name\":\"a\\u007fb\"}", NULL };
	struct http_req	 rq;
	json_t		*o;
	char		 out[32];
	size_t		 i;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_str(&rq, o, "name", 0, 31, out,
		    sizeof(out), NULL), KW_ERR_VALIDATION);
		failed_on(&rq, "name", "control");
		json_decref(o);
	}
}

static void
str_nul_inside(void **state)
{
	struct http_req	 rq;
	json_t		*o = json_loads("{\"name\":\"adm\\u0000in\"}",
			    JSON_ALLOW_NUL, NULL);
	char		 out[32];

	(void)state;
	assert_non_null(o);
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, sizeof(out), NULL),
	    KW_ERR_VALIDATION);
	failed_on(&rq, "name", "NUL");
	json_decref(o);
}

static void
str_empty_when_required(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"name\":\"\"}");
	char		 out[32] = "x";

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", JV_REQUIRED, 31, out,
	    sizeof(out), NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "name", "empty");
	/* optional: empty is a value */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, sizeof(out), NULL),
	    0);
	assert_string_equal(out, "");
	json_decref(o);
}

static void
str_blank_when_required_or_nonempty(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"blank\":\"   \",\"empty\":\"\","
			    "\"padded\":\" a \"}");
	char		 out[32] = "x";

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "blank", JV_REQUIRED, 31, out,
	    sizeof(out), NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "blank", "empty");
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "blank", JV_NONEMPTY, 31, out,
	    sizeof(out), NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "blank", "empty");
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "empty", JV_NONEMPTY, 31, out,
	    sizeof(out), NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "empty", "empty");
	/* JV_NONEMPTY alone: absent is fine, a non-blank value is kept as is */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "absent", JV_NONEMPTY, 31, out,
	    sizeof(out), NULL), 0);
	assert_int_equal(jv_str(&rq, o, "padded", JV_NONEMPTY, 31, out,
	    sizeof(out), NULL), 0);
	assert_string_equal(out, " a ");
	json_decref(o);
}

static void
str_nullable_null(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"manager\":null}");
	char		 out[32] = "old";
	int		 present = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "manager", JV_NULLABLE, 31, out,
	    sizeof(out), &present), 0);
	assert_string_equal(out, "");
	assert_int_equal(present, 1);
	assert_string_equal(rq.fail.field, "");
	json_decref(o);
}

static void
str_utf8(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"name\":\"Zo\\u00eb \\u6f22\"}");
	char		 out[32];

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 31, out, sizeof(out), NULL),
	    0);
	assert_string_equal(out, "Zo\xc3\xab \xe6\xbc\xa2");
	/* max counts bytes: these 8 bytes do not fit in 7 */
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_str(&rq, o, "name", 0, 7, out, sizeof(out), NULL),
	    KW_ERR_VALIDATION);
	json_decref(o);
}

/* ---- jv_bool ---------------------------------------------------------- */

static void
bool_values(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"t\":true,\"f\":false}");
	int		 v = -1, present = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_bool(&rq, o, "t", JV_REQUIRED, &v, &present), 0);
	assert_int_equal(v, 1);
	assert_int_equal(present, 1);
	assert_int_equal(jv_bool(&rq, o, "f", JV_REQUIRED, &v, &present), 0);
	assert_int_equal(v, 0);
	v = 7;
	assert_int_equal(jv_bool(&rq, o, "absent", 0, &v, &present), 0);
	assert_int_equal(v, 7);
	assert_int_equal(present, 0);
	json_decref(o);
}

static void
bool_refuses_other_types(void **state)
{
	const char *const bodies[] = { "{\"b\":1}", "{\"b\":\"true\"}",
	    "{\"b\":0}", "{\"b\":[]}", NULL };
	struct http_req	 rq;
	json_t		*o;
	size_t		 i;
	int		 v;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_bool(&rq, o, "b", 0, &v, NULL),
		    KW_ERR_VALIDATION);
		failed_on(&rq, "b", "true or false");
		json_decref(o);
	}
	memset(&rq, 0, sizeof(rq));
	o = obj("{}");
	assert_int_equal(jv_bool(&rq, o, "b", JV_REQUIRED, &v, NULL),
	    KW_ERR_VALIDATION);
	failed_on(&rq, "b", "required");
	json_decref(o);
}

/* ---- jv_int ----------------------------------------------------------- */

static void
int_in_range(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"lo\":1,\"hi\":3650,\"mid\":90}");
	int		 v = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_int(&rq, o, "lo", 0, 1, 3650, &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(jv_int(&rq, o, "hi", 0, 1, 3650, &v, NULL), 0);
	assert_int_equal(v, 3650);
	assert_int_equal(jv_int(&rq, o, "mid", 0, 1, 3650, &v, NULL), 0);
	assert_int_equal(v, 90);
	json_decref(o);
}

static void
int_out_of_range(void **state)
{
	const char *const bodies[] = { "{\"days\":0}", "{\"days\":3651}",
	    "{\"days\":-1}", "{\"days\":4294967297}",
	    "{\"days\":-9223372036854775808}", NULL };
	struct http_req	 rq;
	json_t		*o;
	size_t		 i;
	int		 v = 42;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_int(&rq, o, "days", 0, 1, 3650, &v, NULL),
		    KW_ERR_VALIDATION);
		failed_on(&rq, "days", "between 1 and 3650");
		assert_int_equal(v, 42);
		json_decref(o);
	}
}

static void
int_refuses_non_integers(void **state)
{
	const char *const bodies[] = { "{\"days\":\"30\"}", "{\"days\":30.0}",
	    "{\"days\":1.5}", "{\"days\":true}", "{\"days\":1e3}", NULL };
	struct http_req	 rq;
	json_t		*o;
	size_t		 i;
	int		 v;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_int(&rq, o, "days", 0, 1, 3650, &v, NULL),
		    KW_ERR_VALIDATION);
		failed_on(&rq, "days", "integer");
		json_decref(o);
	}
}

/* ---- jv_enum ---------------------------------------------------------- */

static const char *const issuance[] = { "automatic", "manual", NULL };

static void
enum_index(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"issuance\":\"manual\"}");
	int		 v = -1, present = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_enum(&rq, o, "issuance", JV_REQUIRED, issuance, &v,
	    &present), 0);
	assert_int_equal(v, 1);
	assert_int_equal(present, 1);
	json_decref(o);
}

static void
enum_unknown_value(void **state)
{
	const char *const bodies[] = { "{\"issuance\":\"Manual\"}",
	    "{\"issuance\":\"sometimes\"}", "{\"issuance\":\"\"}", NULL };
	struct http_req	 rq;
	json_t		*o;
	size_t		 i;
	int		 v = -1;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_enum(&rq, o, "issuance", 0, issuance, &v,
		    NULL), KW_ERR_VALIDATION);
		assert_string_equal(rq.fail.field, "issuance");
		assert_int_equal(v, -1);
		json_decref(o);
	}
	memset(&rq, 0, sizeof(rq));
	o = obj("{\"issuance\":\"sometimes\"}");
	assert_int_equal(jv_enum(&rq, o, "issuance", 0, issuance, &v, NULL),
	    KW_ERR_VALIDATION);
	failed_on(&rq, "issuance", "sometimes");
	json_decref(o);
}

static void
enum_absent_and_wrong_type(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"issuance\":1}");
	int		 v = -1, present = 1;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_enum(&rq, o, "issuance", 0, issuance, &v, NULL),
	    KW_ERR_VALIDATION);
	failed_on(&rq, "issuance", "string");
	json_decref(o);

	memset(&rq, 0, sizeof(rq));
	o = obj("{}");
	assert_int_equal(jv_enum(&rq, o, "issuance", 0, issuance, &v, &present),
	    0);
	assert_int_equal(present, 0);
	assert_int_equal(v, -1);
	assert_int_equal(jv_enum(&rq, o, "issuance", JV_REQUIRED, issuance, &v,
	    NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "issuance", "required");
	json_decref(o);
}

/* ---- jv_strs ---------------------------------------------------------- */

#define W	16	/* row width in these tests */

static void
strs_reads_array(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"teams\":[\"support\",\"billing\"]}");
	char		 rows[4][W];
	size_t		 n = 99;
	int		 present = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "teams", JV_REQUIRED, 4, rows[0], W,
	    &n, NULL, "team", &present), 0);
	assert_int_equal(n, 2);
	assert_int_equal(present, 1);
	assert_string_equal(rows[0], "support");
	assert_string_equal(rows[1], "billing");
	json_decref(o);
}

static void
strs_empty_array_and_null(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"a\":[],\"b\":null}");
	char		 rows[4][W];
	size_t		 n = 99;
	int		 present = 0;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "a", 0, 4, rows[0], W, &n, NULL,
	    "team", &present), 0);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(jv_strs(&rq, o, "b", JV_NULLABLE, 4, rows[0], W, &n,
	    NULL, "team", &present), 0);
	assert_int_equal(n, 0);
	assert_int_equal(present, 1);
	assert_int_equal(jv_strs(&rq, o, "b", 0, 4, rows[0], W, &n, NULL,
	    "team", &present), KW_ERR_VALIDATION);
	failed_on(&rq, "b", "null");
	json_decref(o);
}

static void
strs_not_an_array(void **state)
{
	const char *const bodies[] = { "{\"teams\":\"support\"}",
	    "{\"teams\":{\"a\":\"b\"}}", "{\"teams\":[\"a\",1]}",
	    "{\"teams\":[[\"a\"]]}", NULL };
	struct http_req	 rq;
	json_t		*o;
	char		 rows[4][W];
	size_t		 i, n;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		memset(&rq, 0, sizeof(rq));
		o = obj(bodies[i]);
		assert_int_equal(jv_strs(&rq, o, "teams", 0, 4, rows[0], W, &n,
		    NULL, "team", NULL), KW_ERR_VALIDATION);
		failed_on(&rq, "teams", "array of strings");
		json_decref(o);
	}
}

static void
strs_too_many(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"teams\":[\"a\",\"b\",\"c\"]}");
	char		 rows[2][W];
	size_t		 n = 99;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "teams", 0, 2, rows[0], W, &n, NULL,
	    "team", NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "teams", "more than 2");
	assert_int_equal(n, 99);
	json_decref(o);
}

static void
strs_duplicates(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"teams\":[\"a\",\"b\",\"a\"]}");
	char		 rows[4][W];
	size_t		 n = 99;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "teams", 0, 4, rows[0], W, &n, NULL,
	    "team", NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "teams", "twice");
	assert_int_equal(n, 99);
	json_decref(o);
}

static void
strs_validator_rejects(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"teams\":[\"ok\",\"NotOk\"]}");
	char		 rows[4][W];
	size_t		 n = 99;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "teams", 0, 4, rows[0], W, &n,
	    no_upper, "team", NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "teams", "'NotOk' is not a valid team");
	json_decref(o);
}

static void
strs_empty_or_long_item(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{\"a\":[\"x\",\"\"],"
			    "\"b\":[\"0123456789abcdef\"],"
			    "\"c\":[\"0123456789abcde\"],"
			    "\"d\":[\"a\\u0001\"]}");
	char		 rows[4][W];
	size_t		 n = 99;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "a", 0, 4, rows[0], W, &n, NULL,
	    "team", NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "a", "team 2 is empty");
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "b", 0, 4, rows[0], W, &n, NULL,
	    "team", NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "b", "longer than 15");
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "c", 0, 4, rows[0], W, &n, NULL,
	    "team", NULL), 0);		/* width-1 bytes fit */
	assert_string_equal(rows[0], "0123456789abcde");
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "d", 0, 4, rows[0], W, &n, NULL,
	    "team", NULL), KW_ERR_VALIDATION);
	assert_string_equal(rq.fail.field, "d");
	json_decref(o);
}

static void
strs_required_missing(void **state)
{
	struct http_req	 rq;
	json_t		*o = obj("{}");
	char		 rows[4][W];
	size_t		 n = 99;
	int		 present = 1;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(jv_strs(&rq, o, "teams", 0, 4, rows[0], W, &n, NULL,
	    "team", &present), 0);
	assert_int_equal(present, 0);
	assert_int_equal(jv_strs(&rq, o, "teams", JV_REQUIRED, 4, rows[0], W,
	    &n, NULL, "team", NULL), KW_ERR_VALIDATION);
	failed_on(&rq, "teams", "required");
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_accepts_listed_keys),
		cmocka_unit_test(known_names_unknown_key),
		cmocka_unit_test(known_long_non_ascii_key_stays_text),
		cmocka_unit_test(str_reads_value),
		cmocka_unit_test(str_absent_optional),
		cmocka_unit_test(str_required_missing),
		cmocka_unit_test(str_wrong_type),
		cmocka_unit_test(str_null_not_nullable),
		cmocka_unit_test(str_too_long),
		cmocka_unit_test(str_control_characters),
		cmocka_unit_test(str_nul_inside),
		cmocka_unit_test(str_empty_when_required),
		cmocka_unit_test(str_blank_when_required_or_nonempty),
		cmocka_unit_test(str_nullable_null),
		cmocka_unit_test(str_utf8),
		cmocka_unit_test(bool_values),
		cmocka_unit_test(bool_refuses_other_types),
		cmocka_unit_test(int_in_range),
		cmocka_unit_test(int_out_of_range),
		cmocka_unit_test(int_refuses_non_integers),
		cmocka_unit_test(enum_index),
		cmocka_unit_test(enum_unknown_value),
		cmocka_unit_test(enum_absent_and_wrong_type),
		cmocka_unit_test(strs_reads_array),
		cmocka_unit_test(strs_empty_array_and_null),
		cmocka_unit_test(strs_not_an_array),
		cmocka_unit_test(strs_too_many),
		cmocka_unit_test(strs_duplicates),
		cmocka_unit_test(strs_validator_rejects),
		cmocka_unit_test(strs_empty_or_long_item),
		cmocka_unit_test(strs_required_missing),
	};

	return cmocka_run_group_tests_name("valid", tests, NULL, NULL);
}
