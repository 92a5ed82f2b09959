/*
 * test_scim.c — SCIM parsing (scim/scim.c): the userName filter, User
 * resources, PATCH operations as Okta and Entra ID send them, and the
 * RFC 7644 shapes.
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
#include "scim/scim.h"

#define ENT SCIM_SCHEMA_ENTERPRISE

static json_t *
obj(const char *text)
{
	json_error_t	 e;
	json_t		*o = json_loads(text, 0, &e);

	if (o == NULL)
		fail_msg("bad test JSON: %s (%s)", e.text, text);
	return o;
}

/* ---- the filter ---- */

static void
filter_ok(const char *text, const char *want)
{
	struct scim_filter	f;
	struct scim_error	e;

	if (scim_filter_parse(text, &f, &e) != 0)
		fail_msg("'%s' refused: %s", text, e.detail);
	assert_int_equal(f.impossible, 0);
	assert_string_equal(f.user_name, want);
}

static void
filter_bad(const char *text)
{
	struct scim_filter	f;
	struct scim_error	e;

	if (scim_filter_parse(text, &f, &e) == 0)
		fail_msg("'%s' accepted", text);
	assert_int_equal(e.err, KW_ERR_VALIDATION);
	assert_string_equal(e.type, "invalidFilter");
}

static void
filter_user_name_eq(void **state)
{
	(void)state;
	filter_ok("userName eq \"ann@example.com\"", "ann@example.com");
	filter_ok("  userName   eq   \"ann@example.com\"  ", "ann@example.com");
	filter_ok("USERNAME EQ \"Ann@Example.com\"", "Ann@Example.com");
	filter_ok("username Eq \"ann@example.com\"", "ann@example.com");
	filter_ok(SCIM_SCHEMA_USER ":userName eq \"a@b.co\"", "a@b.co");
	filter_ok("urn:IETF:params:scim:schemas:core:2.0:User:userName eq "
	    "\"a@b.co\"", "a@b.co");
}

static void
filter_escapes_decoded(void **state)
{
	(void)state;
	filter_ok("userName eq \"a\\u0040b.co\"", "a@b.co");
	filter_ok("userName eq \"o\\\"neil@b.co\"", "o\"neil@b.co");
	filter_ok("userName eq \"back\\\\slash@b.co\"", "back\\slash@b.co");
	filter_ok("userName eq \"sl\\/ash@b.co\"", "sl/ash@b.co");
	filter_ok("userName eq \"j\\u00fcrgen@b.co\"", "j\xc3\xbcrgen@b.co");
}

static void
filter_values_nobody_has(void **state)
{
	struct scim_filter	f;
	struct scim_error	e;
	char			long_value[KW_EMAIL_MAX + 40];

	(void)state;
	/* well-formed, but no email looks like that: matches none */
	assert_int_equal(scim_filter_parse("userName eq \"no-at-sign\"", &f,
	    &e), 0);
	assert_int_equal(f.impossible, 1);
	assert_int_equal(scim_filter_parse("userName eq \"a\\u0000@b.co\"", &f,
	    &e), 0);
	assert_int_equal(f.impossible, 1);
	snprintf(long_value, sizeof(long_value), "userName eq \"%0*d@b.co\"",
	    KW_EMAIL_MAX, 0);
	assert_int_equal(scim_filter_parse(long_value, &f, &e), 0);
	assert_int_equal(f.impossible, 1);
}

static void
filter_others_refused(void **state)
{
	char huge[KW_SCIM_FILTER_MAX + 40];

	(void)state;
	filter_bad("");
	filter_bad("userName");
	filter_bad("userName eq");
	filter_bad("userName eq ann@example.com");
	filter_bad("userName eq \"unterminated");
	filter_bad("userName eq \"a@b.co\" and active eq true");
	filter_bad("userName eq \"a@b.co\" extra");
	filter_bad("userName ne \"a@b.co\"");
	filter_bad("userName sw \"a\"");
	filter_bad("userName co \"a\"");
	filter_bad("userName pr");
	filter_bad("userNames eq \"a@b.co\"");
	filter_bad("displayName eq \"Ann\"");
	filter_bad("externalId eq \"00u1\"");
	filter_bad("emails[type eq \"work\"].value eq \"a@b.co\"");
	filter_bad("userName eq\"a@b.co\"");
	filter_bad("userName eq \"bad \\x escape\"");
	filter_bad("(userName eq \"a@b.co\")");
	memset(huge, ' ', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "userName eq \"a@b.co\"", 20);
	filter_bad(huge);
}

/* Deterministic noise: filters made of the characters that matter
 * (quotes, escapes, spaces, letters of the grammar) never crash the
 * parser (ASan and UBSan watch) and either parse or are invalidFilter. */
static void
filter_noise(void **state)
{
	static const char alphabet[] = "\"\\ uU0@aeqEQnNrs:.[]()\t";
	struct scim_filter	f;
	struct scim_error	e;
	char			text[KW_SCIM_FILTER_MAX + 64];
	uint32_t		x = 12345;
	size_t			i, n;
	int			round, r;

	(void)state;
	for (round = 0; round < 20000; round++) {
		x = x * 1103515245u + 12345u;
		n = (x >> 8) % (sizeof(text) - 1);
		for (i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			text[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		/* half of them start like the real thing */
		if (round % 2 == 0 && n > 13)
			memcpy(text, "userName eq \"", 13);
		text[n] = '\0';
		r = scim_filter_parse(text, &f, &e);
		if (r != 0) {
			assert_int_equal(r, KW_ERR_VALIDATION);
			assert_string_equal(e.type, "invalidFilter");
		}
	}
}

/* ---- User resources ---- */

static void
user_parse_full(void **state)
{
	struct scim_user	 u;
	struct scim_error	 e;
	json_t			*o = obj("{\"schemas\": [\"" SCIM_SCHEMA_USER
	    "\", \"" ENT "\"], \"userName\": \"ann@example.com\","
	    " \"displayName\": \"Ann Lee\", \"name\": {\"formatted\": \"Dr."
	    " Ann Lee\", \"givenName\": \"Ann\"}, \"externalId\": \"00u1\","
	    " \"active\": false, \"emails\": [{\"value\": \"ann@example.com\","
	    " \"primary\": true}], \"title\": \"ignored\", \"" ENT "\":"
	    " {\"manager\": {\"value\": \"per_m\"}, \"department\": \"Ops\"},"
	    " \"id\": \"per_ignored\", \"meta\": {\"x\": 1}}");

	(void)state;
	assert_int_equal(scim_user_parse(o, &u, &e), 0);
	assert_string_equal(u.user_name, "ann@example.com");
	assert_string_equal(u.name, "Ann Lee");	/* displayName first */
	assert_string_equal(u.external_id, "00u1");
	assert_string_equal(u.manager_id, "per_m");
	assert_int_equal(u.active, 0);
	assert_int_equal(u.set, SU_USER_NAME | SU_NAME | SU_EXTERNAL_ID |
	    SU_MANAGER | SU_ACTIVE);
	json_decref(o);
}

static void
user_parse_names_and_defaults(void **state)
{
	struct scim_user	 u;
	struct scim_error	 e;
	json_t			*o;

	(void)state;
	/* attribute names are case-insensitive; formatted beats the parts */
	o = obj("{\"USERNAME\": \"a@b.co\", \"Name\": {\"Formatted\": \"F\","
	    " \"givenName\": \"G\", \"familyName\": \"L\"}}");
	assert_int_equal(scim_user_parse(o, &u, &e), 0);
	assert_string_equal(u.name, "F");
	assert_int_equal(u.active, 1);
	/* absent attributes are not asserted: a PUT keeps them */
	assert_int_equal(u.set, SU_USER_NAME | SU_NAME);
	json_decref(o);
	o = obj("{\"userName\": \"a@b.co\", \"name\": {\"givenName\": \"G\","
	    " \"familyName\": \"L\"}}");
	assert_int_equal(scim_user_parse(o, &u, &e), 0);
	assert_string_equal(u.name, "G L");
	json_decref(o);
	o = obj("{\"userName\": \"a@b.co\"}");
	assert_int_equal(scim_user_parse(o, &u, &e), 0);
	assert_string_equal(u.name, "a@b.co");	/* for a creation */
	assert_int_equal(u.set, SU_USER_NAME);
	json_decref(o);
	/* given as null or "": cleared */
	o = obj("{\"userName\": \"a@b.co\", \"externalId\": null, \""
	    ENT "\": {\"manager\": null}}");
	assert_int_equal(scim_user_parse(o, &u, &e), 0);
	assert_int_equal(u.set, SU_USER_NAME | SU_EXTERNAL_ID | SU_MANAGER);
	assert_string_equal(u.manager_id, "");
	json_decref(o);
	/* Entra's string booleans */
	o = obj("{\"userName\": \"a@b.co\", \"active\": \"False\"}");
	assert_int_equal(scim_user_parse(o, &u, &e), 0);
	assert_int_equal(u.active, 0);
	json_decref(o);
}

static void
user_bad(const char *text, const char *type)
{
	struct scim_user	 u;
	struct scim_error	 e;
	json_t			*o = obj(text);

	if (scim_user_parse(o, &u, &e) == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(e.err, KW_ERR_VALIDATION);
	assert_string_equal(e.type, type);
	json_decref(o);
}

static void
user_parse_refusals(void **state)
{
	(void)state;
	user_bad("{}", "invalidValue");
	user_bad("{\"userName\": null}", "invalidValue");
	user_bad("{\"userName\": 7}", "invalidValue");
	user_bad("{\"userName\": \"not-an-email\"}", "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"active\": \"yes\"}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"active\": 0}", "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"displayName\": [\"x\"]}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"displayName\": \"\"}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"name\": \"Ann\"}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"name\": {\"givenName\": 1}}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"emails\": {}}", "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"emails\": [\"a@b.co\"]}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"externalId\": 5}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"" ENT "\": \"x\"}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"" ENT "\": {\"manager\": 5}}",
	    "invalidValue");
	user_bad("{\"userName\": \"a@b.co\", \"displayName\": \"a\\u0007\"}",
	    "invalidValue");
	user_bad("{\"schemas\": \"x\", \"userName\": \"a@b.co\"}",
	    "invalidSyntax");
}

/* ---- PATCH ---- */

static void
current(struct scim_user *u)
{
	memset(u, 0, sizeof(*u));
	strcpy(u->user_name, "ann@example.com");
	strcpy(u->name, "Ann");
	strcpy(u->external_id, "00u1");
	strcpy(u->manager_id, "per_m");
	u->active = 1;
}

static void
patch_ok(const char *ops, struct scim_user *u)
{
	struct scim_error	 e;
	char			 text[2048];
	json_t			*o;

	snprintf(text, sizeof(text), "{\"schemas\": [\"" SCIM_SCHEMA_PATCH
	    "\"], \"Operations\": %s}", ops);
	o = obj(text);
	current(u);
	if (scim_patch_apply(o, u, &e) != 0)
		fail_msg("refused: %s: %s", ops, e.detail);
	json_decref(o);
}

static void
patch_bad(const char *body, const char *type)
{
	struct scim_user	 u;
	struct scim_error	 e;
	json_t			*o = obj(body);

	current(&u);
	if (scim_patch_apply(o, &u, &e) == 0)
		fail_msg("accepted: %s", body);
	assert_int_equal(e.err, KW_ERR_VALIDATION);
	assert_string_equal(e.type, type);
	json_decref(o);
}

static void
patch_active_styles(void **state)
{
	struct scim_user u;

	(void)state;
	/* Entra ID: capitalised op, a path, a string boolean */
	patch_ok("[{\"op\": \"Replace\", \"path\": \"active\", \"value\":"
	    " \"False\"}]", &u);
	assert_int_equal(u.active, 0);
	assert_int_equal(u.set, SU_ACTIVE);
	/* Okta: no path, a value object */
	patch_ok("[{\"op\": \"replace\", \"value\": {\"active\": false}}]", &u);
	assert_int_equal(u.active, 0);
	assert_int_equal(u.set, SU_ACTIVE);
	patch_ok("[{\"op\": \"add\", \"path\": \"ACTIVE\", \"value\": true}]",
	    &u);
	assert_int_equal(u.active, 1);
	patch_ok("[{\"op\": \"replace\", \"path\": \"" SCIM_SCHEMA_USER
	    ":active\", \"value\": \"false\"}]", &u);
	assert_int_equal(u.active, 0);
	/* the name only: active untouched */
	patch_ok("[{\"op\": \"replace\", \"path\": \"displayName\", \"value\":"
	    " \"Ann Lee\"}]", &u);
	assert_int_equal(u.set, SU_NAME);
	assert_int_equal(u.active, 1);
	assert_string_equal(u.name, "Ann Lee");
}

static void
patch_attributes(void **state)
{
	struct scim_user u;

	(void)state;
	patch_ok("[{\"op\": \"replace\", \"value\": {\"userName\": "
	    "\"ann.lee@example.com\", \"name\": {\"formatted\": \"A L\"},"
	    " \"externalId\": \"00u2\", \"nickName\": \"ignored\"}}]", &u);
	assert_string_equal(u.user_name, "ann.lee@example.com");
	assert_string_equal(u.name, "A L");
	assert_string_equal(u.external_id, "00u2");
	assert_int_equal(u.set, SU_USER_NAME | SU_NAME | SU_EXTERNAL_ID);
	patch_ok("[{\"op\": \"replace\", \"path\": \"name.formatted\","
	    " \"value\": \"F\"}, {\"op\": \"replace\", \"path\":"
	    " \"name.givenName\", \"value\": \"ignored\"}]", &u);
	assert_string_equal(u.name, "F");
	assert_int_equal(u.set, SU_NAME);
	patch_ok("[{\"op\": \"remove\", \"path\": \"externalId\"}]", &u);
	assert_string_equal(u.external_id, "");
	assert_int_equal(u.set, SU_EXTERNAL_ID);
	/* emails with a value filter: checked, not kept */
	patch_ok("[{\"op\": \"replace\", \"path\": \"emails[type eq \\\"work\\\"]"
	    ".value\", \"value\": \"x@y.z\"}]", &u);
	assert_int_equal(u.set, 0);
	/* unknown attributes are ignored */
	patch_ok("[{\"op\": \"add\", \"path\": \"title\", \"value\": \"CTO\"}]",
	    &u);
	assert_int_equal(u.set, 0);
	/* several operations, in order */
	patch_ok("[{\"op\": \"replace\", \"path\": \"displayName\", \"value\":"
	    " \"One\"}, {\"op\": \"replace\", \"path\": \"displayName\","
	    " \"value\": \"Two\"}]", &u);
	assert_string_equal(u.name, "Two");
}

static void
patch_manager(void **state)
{
	struct scim_user u;

	(void)state;
	/* Entra ID: the manager as a bare id */
	patch_ok("[{\"op\": \"Add\", \"path\": \"" ENT ":manager\", \"value\":"
	    " \"per_x\"}]", &u);
	assert_string_equal(u.manager_id, "per_x");
	assert_int_equal(u.set, SU_MANAGER);
	patch_ok("[{\"op\": \"replace\", \"path\": \"" ENT ":manager\","
	    " \"value\": {\"value\": \"per_y\"}}]", &u);
	assert_string_equal(u.manager_id, "per_y");
	patch_ok("[{\"op\": \"replace\", \"path\": \"" ENT ":manager.value\","
	    " \"value\": \"per_z\"}]", &u);
	assert_string_equal(u.manager_id, "per_z");
	/* the extension as a path-less value member */
	patch_ok("[{\"op\": \"replace\", \"value\": {\"" ENT "\": {\"manager\":"
	    " {\"value\": \"per_w\"}}}}]", &u);
	assert_string_equal(u.manager_id, "per_w");
	patch_ok("[{\"op\": \"replace\", \"value\": {\"" ENT ":manager\":"
	    " \"per_v\"}}]", &u);
	assert_string_equal(u.manager_id, "per_v");
	/* removal, and replacing with null or "" */
	patch_ok("[{\"op\": \"Remove\", \"path\": \"" ENT ":manager\"}]", &u);
	assert_string_equal(u.manager_id, "");
	assert_int_equal(u.set, SU_MANAGER);
	patch_ok("[{\"op\": \"replace\", \"path\": \"" ENT ":manager\","
	    " \"value\": null}]", &u);
	assert_string_equal(u.manager_id, "");
	patch_ok("[{\"op\": \"replace\", \"path\": \"" ENT ":manager\","
	    " \"value\": {\"value\": \"\"}}]", &u);
	assert_string_equal(u.manager_id, "");
	/* other members of the extension are not kept */
	patch_ok("[{\"op\": \"replace\", \"path\": \"" ENT ":department\","
	    " \"value\": \"Ops\"}]", &u);
	assert_int_equal(u.set, 0);
	assert_string_equal(u.manager_id, "per_m");
}

#define PATCH_BODY(ops) "{\"schemas\": [\"" SCIM_SCHEMA_PATCH "\"]," \
	" \"Operations\": " ops "}"

static void
patch_refusals(void **state)
{
	(void)state;
	patch_bad("{}", "invalidSyntax");
	patch_bad(PATCH_BODY("[]"), "invalidSyntax");
	patch_bad(PATCH_BODY("{}"), "invalidSyntax");
	patch_bad(PATCH_BODY("[\"replace\"]"), "invalidSyntax");
	patch_bad(PATCH_BODY("[{\"op\": \"move\", \"path\": \"active\"}]"),
	    "invalidSyntax");
	patch_bad(PATCH_BODY("[{\"op\": 1, \"path\": \"active\"}]"),
	    "invalidSyntax");
	patch_bad(PATCH_BODY("[{\"op\": \"remove\"}]"), "noTarget");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"active\"}]"),
	    "invalidValue");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"active\","
	    " \"value\": \"maybe\"}]"), "invalidValue");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"active\","
	    " \"value\": 1}]"), "invalidValue");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"value\": true}]"),
	    "invalidValue");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": 5,"
	    " \"value\": 1}]"), "invalidPath");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"\","
	    " \"value\": 1}]"), "invalidPath");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"emails[type\","
	    " \"value\": 1}]"), "invalidPath");
	patch_bad(PATCH_BODY("[{\"op\": \"remove\", \"path\": \"userName\"}]"),
	    "mutability");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"userName\","
	    " \"value\": \"nope\"}]"), "invalidValue");
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"displayName\","
	    " \"value\": 3}]"), "invalidValue");
	/* a later failing operation fails the whole request */
	patch_bad(PATCH_BODY("[{\"op\": \"replace\", \"path\": \"displayName\","
	    " \"value\": \"ok\"}, {\"op\": \"replace\", \"path\": \"active\","
	    " \"value\": []}]"), "invalidValue");
}

/* Every combination of op, path and value (right, wrong, absent) parses
 * or is refused with a SCIM error: never a crash, never anything else. */
static void
patch_combinations(void **state)
{
	static const char *const ops[] = { NULL, "\"add\"", "\"Replace\"",
	    "\"remove\"", "\"x\"", "1", "null" };
	static const char *const paths[] = { NULL, "\"active\"",
	    "\"userName\"", "\"name\"", "\"name.formatted\"",
	    "\"" ENT ":manager\"", "\"" ENT "\"", "\"emails[type eq\"",
	    "\"emails[type eq \\\"work\\\"].value\"", "\"\"", "5",
	    "\"externalId\"" };
	static const char *const values[] = { NULL, "true", "\"False\"",
	    "null", "{}", "[]", "5", "\"a@b.co\"", "{\"active\": \"x\"}",
	    "{\"value\": \"per_x\"}", "{\"name\": {\"formatted\": 7}}",
	    "{\"" ENT "\": {\"manager\": []}}" };
	struct scim_user	 u;
	struct scim_error	 e;
	char			 text[1024];
	size_t			 i, j, k, n;
	json_t			*o;
	int			 r;

	(void)state;
	for (i = 0; i < KW_NELEM(ops); i++)
		for (j = 0; j < KW_NELEM(paths); j++)
			for (k = 0; k < KW_NELEM(values); k++) {
				n = (size_t)snprintf(text, sizeof(text),
				    "{\"Operations\": [{\"x\": 0");
				if (ops[i] != NULL)
					n += (size_t)snprintf(text + n,
					    sizeof(text) - n, ", \"op\": %s",
					    ops[i]);
				if (paths[j] != NULL)
					n += (size_t)snprintf(text + n,
					    sizeof(text) - n, ", \"path\": %s",
					    paths[j]);
				if (values[k] != NULL)
					n += (size_t)snprintf(text + n,
					    sizeof(text) - n, ", \"value\": %s",
					    values[k]);
				snprintf(text + n, sizeof(text) - n, "}]}");
				o = obj(text);
				current(&u);
				r = scim_patch_apply(o, &u, &e);
				json_decref(o);
				if (r != 0) {
					assert_int_equal(r, KW_ERR_VALIDATION);
					assert_true(scim_type_known(e.type));
				}
			}
}

static void
patch_too_many_operations(void **state)
{
	char	body[16384];
	size_t	n;
	int	i;

	(void)state;
	n = (size_t)snprintf(body, sizeof(body), "{\"Operations\": [");
	for (i = 0; i <= KW_SCIM_OPS_MAX; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s{\"op\":"
		    " \"add\", \"path\": \"title\", \"value\": \"x\"}",
		    i ? ", " : "");
	snprintf(body + n, sizeof(body) - n, "]}");
	patch_bad(body, "invalidSyntax");
}

/* ---- shapes ---- */

static void
shapes(void **state)
{
	struct person	 p;
	json_t		*u, *l, *e;

	(void)state;
	memset(&p, 0, sizeof(p));
	strcpy(p.id, "per_1");
	strcpy(p.email, "ann@example.com");
	strcpy(p.name, "Ann");
	strcpy(p.created_at, "2026-12-01T00:00:00Z");
	strcpy(p.updated_at, "2026-12-02T00:00:00Z");
	p.active = 1;
	u = scim_user_json(&p, "https://kw.example.com");
	assert_non_null(u);
	assert_int_equal(json_array_size(json_object_get(u, "schemas")), 1);
	assert_null(json_object_get(u, ENT));
	assert_null(json_object_get(u, "externalId"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    u, "meta"), "location")),
	    "https://kw.example.com/scim/v2/Users/per_1");
	json_decref(u);
	strcpy(p.manager_id, "per_m");
	strcpy(p.external_id, "00u1");
	u = scim_user_json(&p, "https://kw.example.com");
	assert_int_equal(json_array_size(json_object_get(u, "schemas")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(u, ENT), "manager"), "value")), "per_m");
	l = scim_list_json(json_pack("[o]", u), 7, 3);
	assert_int_equal(json_integer_value(json_object_get(l,
	    "totalResults")), 7);
	assert_int_equal(json_integer_value(json_object_get(l,
	    "itemsPerPage")), 1);
	assert_int_equal(json_integer_value(json_object_get(l,
	    "startIndex")), 3);
	json_decref(l);
	e = scim_error_json(409, "uniqueness", "taken");
	assert_string_equal(json_string_value(json_object_get(e, "status")),
	    "409");
	assert_string_equal(json_string_value(json_object_get(e, "scimType")),
	    "uniqueness");
	json_decref(e);
	e = scim_error_json(404, "", "no");
	assert_null(json_object_get(e, "scimType"));
	json_decref(e);
	assert_true(scim_type_known("invalidFilter"));
	assert_false(scim_type_known("email"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filter_user_name_eq),
		cmocka_unit_test(filter_escapes_decoded),
		cmocka_unit_test(filter_values_nobody_has),
		cmocka_unit_test(filter_others_refused),
		cmocka_unit_test(filter_noise),
		cmocka_unit_test(user_parse_full),
		cmocka_unit_test(user_parse_names_and_defaults),
		cmocka_unit_test(user_parse_refusals),
		cmocka_unit_test(patch_active_styles),
		cmocka_unit_test(patch_attributes),
		cmocka_unit_test(patch_manager),
		cmocka_unit_test(patch_refusals),
		cmocka_unit_test(patch_combinations),
		cmocka_unit_test(patch_too_many_operations),
		cmocka_unit_test(shapes),
	};

	return cmocka_run_group_tests_name("scim", tests, NULL, NULL);
}
