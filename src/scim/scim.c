/*
 * scim.c — SCIM 2.0 parsing and shapes (see scim.h): the userName filter,
 * User resources, PATCH operations.  Pure: plain structs in and out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "scim/scim.h"
#include "util/util.h"

#define CORE_PREFIX	SCIM_SCHEMA_USER ":"
#define ENT_PREFIX	SCIM_SCHEMA_ENTERPRISE ":"

static const char *const scim_types[] = {
	"invalidFilter", "tooMany", "uniqueness", "mutability",
	"invalidSyntax", "invalidPath", "noTarget", "invalidValue",
	"invalidVers", "sensitive", NULL
};

int
scim_type_known(const char *s)
{
	size_t i;

	for (i = 0; scim_types[i] != NULL; i++)
		if (strcmp(s, scim_types[i]) == 0)
			return 1;
	return 0;
}

/* Fill e (always KW_ERR_VALIDATION) and return its code. */
static int __attribute__((format(printf, 3, 4)))
fail(struct scim_error *e, const char *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	kw_utf8_sanitize(e->detail);
	e->err = KW_ERR_VALIDATION;
	e->type = type;
	return e->err;
}

/* ---- the filter ---- */

/* s past leading spaces. */
static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The end of the JSON string literal starting at s ('"'), or NULL. */
static const char *
literal_end(const char *s)
{
	for (s++; *s != '\0'; s++) {
		if (*s == '\\') {
			if (*++s == '\0')
				return NULL;
		} else if (*s == '"')
			return s + 1;
	}
	return NULL;
}

int
scim_filter_parse(const char *text, struct scim_filter *f,
    struct scim_error *e)
{
	const char	*p = skip_ws(text), *attr, *end;
	json_t		*v = NULL;
	size_t		 n;
	int		 r;

	memset(f, 0, sizeof(*f));
	if (strlen(text) > KW_SCIM_FILTER_MAX)
		return fail(e, "invalidFilter", "the filter is longer than %d "
		    "bytes", KW_SCIM_FILTER_MAX);
	attr = p;
	p += strcspn(p, " \t");
	n = (size_t)(p - attr);
	if (n >= sizeof(CORE_PREFIX) - 1 &&
	    strncasecmp(attr, CORE_PREFIX, sizeof(CORE_PREFIX) - 1) == 0) {
		attr += sizeof(CORE_PREFIX) - 1;
		n -= sizeof(CORE_PREFIX) - 1;
	}
	if (n != 8 || strncasecmp(attr, "userName", 8) != 0)
		return fail(e, "invalidFilter", "only 'userName eq \"...\"' is "
		    "supported as a filter");
	p = skip_ws(p);
	if (strncasecmp(p, "eq", 2) != 0 || (p[2] != ' ' && p[2] != '\t'))
		return fail(e, "invalidFilter", "only the 'eq' operator is "
		    "supported on userName");
	p = skip_ws(p + 2);
	if (*p != '"' || (end = literal_end(p)) == NULL ||
	    *skip_ws(end) != '\0')
		return fail(e, "invalidFilter", "the value must be one quoted "
		    "string, e.g. userName eq \"ann@example.com\"");
	/* the value is a JSON string: let the JSON parser decode escapes */
	v = json_loadb(p, (size_t)(end - p), JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, NULL);
	if (!json_is_string(v)) {
		r = fail(e, "invalidFilter", "the quoted value is not a valid "
		    "string");
		goto out;
	}
	r = 0;
	if (json_string_length(v) > KW_EMAIL_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    strchr(json_string_value(v), '@') == NULL)
		f->impossible = 1;	/* no email looks like that */
	else
		kw_strlcpy(f->user_name, json_string_value(v),
		    sizeof(f->user_name));
 out:
	json_decref(v);
	return r;
}

/* ---- reading attributes ---- */

/* The member of o named name, ignoring case (RFC 7643 §2.1), or NULL. */
static json_t *
get_ci(const json_t *o, const char *name)
{
	const char	*k;
	json_t		*v;

	if (!json_is_object(o))
		return NULL;
	json_object_foreach((json_t *)o, k, v)
		if (strcasecmp(k, name) == 0)
			return v;
	return NULL;
}

/* Copy string v (named what) into out; NULL or JSON null is "" when
 * nullable.  Text must be valid UTF-8 without controls and fit. */
static int
take_str(const json_t *v, const char *what, int nullable, char *out,
    size_t outsz, struct scim_error *e)
{
	if (v == NULL || (nullable && json_is_null(v))) {
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return fail(e, "invalidValue", "'%s' must be a string", what);
	if (!kw_valid_text(json_string_value(v), outsz - 1) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return fail(e, "invalidValue", "'%s' must be text of at most "
		    "%zu bytes", what, outsz - 1);
	kw_strlcpy(out, json_string_value(v), outsz);
	return 0;
}

static int
take_user_name(const json_t *v, struct scim_user *u, struct scim_error *e)
{
	int r;

	if (v == NULL || json_is_null(v))
		return fail(e, "invalidValue", "'userName' is required");
	if ((r = take_str(v, "userName", 0, u->user_name,
	    sizeof(u->user_name), e)) != 0)
		return r;
	if (!kw_valid_email(u->user_name))
		return fail(e, "invalidValue", "'userName' must be the "
		    "person's email address");
	u->set |= SU_USER_NAME;
	return 0;
}

static int
take_name(const json_t *v, const char *what, struct scim_user *u,
    struct scim_error *e)
{
	int r;

	if (v == NULL || json_is_null(v))
		return 0;		/* nothing said: the name stays */
	if ((r = take_str(v, what, 0, u->name, sizeof(u->name), e)) != 0)
		return r;
	if (u->name[0] == '\0')
		return fail(e, "invalidValue", "'%s' must not be empty", what);
	u->set |= SU_NAME;
	return 0;
}

/* active: a boolean, or "True"/"False" as Entra ID sends it. */
static int
take_active(const json_t *v, struct scim_user *u, struct scim_error *e)
{
	if (json_is_boolean(v))
		u->active = json_is_true(v);
	else if (json_is_string(v) &&
	    strcasecmp(json_string_value(v), "true") == 0)
		u->active = 1;
	else if (json_is_string(v) &&
	    strcasecmp(json_string_value(v), "false") == 0)
		u->active = 0;
	else
		return fail(e, "invalidValue", "'active' must be true or "
		    "false");
	u->set |= SU_ACTIVE;
	return 0;
}

/* The manager: {"value": "<SCIM id>"}, a bare id string (Entra ID's
 * PATCH), or null / "" / {} for none. */
static int
take_manager(const json_t *v, struct scim_user *u, struct scim_error *e)
{
	int r;

	if (json_is_object(v))
		v = get_ci(v, "value");
	if ((r = take_str(v, "manager.value", 1, u->manager_id,
	    sizeof(u->manager_id), e)) != 0)
		return r;
	u->set |= SU_MANAGER;
	return 0;
}

static int
take_external_id(const json_t *v, struct scim_user *u, struct scim_error *e)
{
	int r;

	if ((r = take_str(v, "externalId", 1, u->external_id,
	    sizeof(u->external_id), e)) != 0)
		return r;
	u->set |= SU_EXTERNAL_ID;
	return 0;
}

/* emails: checked for shape, not kept (userName is the email). */
static int
check_emails(const json_t *v, struct scim_error *e)
{
	char	buf[KW_EMAIL_MAX + 1];
	size_t	i;
	json_t	*x;
	int	r;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fail(e, "invalidValue", "'emails' must be an array");
	json_array_foreach(v, i, x) {
		if (i >= KW_SCIM_EMAILS_MAX)
			break;
		if (!json_is_object(x))
			return fail(e, "invalidValue", "'emails' must hold "
			    "objects");
		if ((r = take_str(get_ci(x, "value"), "emails.value", 1, buf,
		    sizeof(buf), e)) != 0)
			return r;
	}
	return 0;
}

/* name: {formatted, givenName, familyName}; formatted, else the two
 * others joined, becomes the name unless displayName set it. */
static int
take_name_object(const json_t *v, struct scim_user *u, int display_given,
    struct scim_error *e)
{
	char	given[KW_NAME_MAX + 1], family[KW_NAME_MAX + 1];
	char	joined[2 * KW_NAME_MAX + 2];
	int	r;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(e, "invalidValue", "'name' must be an object");
	if ((r = take_str(get_ci(v, "givenName"), "name.givenName", 1, given,
	    sizeof(given), e)) != 0 || (r = take_str(get_ci(v, "familyName"),
	    "name.familyName", 1, family, sizeof(family), e)) != 0)
		return r;
	if (display_given)
		return take_str(get_ci(v, "formatted"), "name.formatted", 1,
		    given, sizeof(given), e);
	if (get_ci(v, "formatted") != NULL &&
	    !json_is_null(get_ci(v, "formatted")))
		return take_name(get_ci(v, "formatted"), "name.formatted", u,
		    e);
	if (given[0] == '\0' && family[0] == '\0')
		return 0;
	/* joined, then cut on a character boundary to fit */
	kw_strlcpy(joined, given, sizeof(joined));
	if (given[0] != '\0' && family[0] != '\0')
		strcat(joined, " ");
	strcat(joined, family);
	joined[kw_utf8_cut(joined, sizeof(u->name) - 1)] = '\0';
	kw_strlcpy(u->name, joined, sizeof(u->name));
	u->set |= SU_NAME;
	return 0;
}

/* The enterprise extension object: its manager (other members, such as
 * department, are not kept). */
static int
take_enterprise(const json_t *v, struct scim_user *u, struct scim_error *e)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(e, "invalidValue", "'%s' must be an object",
		    SCIM_SCHEMA_ENTERPRISE);
	if (get_ci(v, "manager") == NULL)
		return 0;
	return take_manager(get_ci(v, "manager"), u, e);
}

/* schemas, when given, must be an array of strings. */
static int
check_schemas(const json_t *res, struct scim_error *e)
{
	json_t	*v = get_ci(res, "schemas"), *x;
	size_t	 i;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(e, "invalidSyntax", "'schemas' must be an array of "
		    "schema URNs");
	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return fail(e, "invalidSyntax", "'schemas' must be an "
			    "array of schema URNs");
	return 0;
}

int
scim_user_parse(const json_t *res, struct scim_user *u, struct scim_error *e)
{
	json_t	*disp;
	int	 r;

	memset(u, 0, sizeof(*u));
	u->active = 1;
	disp = get_ci(res, "displayName");
	if ((r = check_schemas(res, e)) != 0 ||
	    (r = take_user_name(get_ci(res, "userName"), u, e)) != 0 ||
	    (r = take_name(disp, "displayName", u, e)) != 0 ||
	    (r = take_name_object(get_ci(res, "name"), u,
	    (u->set & SU_NAME) != 0, e)) != 0 ||
	    (get_ci(res, "externalId") != NULL &&
	    (r = take_external_id(get_ci(res, "externalId"), u, e)) != 0) ||
	    (r = check_emails(get_ci(res, "emails"), e)) != 0 ||
	    (r = take_enterprise(get_ci(res, SCIM_SCHEMA_ENTERPRISE), u,
	    e)) != 0)
		return r;
	if (get_ci(res, "active") != NULL &&
	    (r = take_active(get_ci(res, "active"), u, e)) != 0)
		return r;
	/* absent attributes are not asserted (RFC 7644 §3.5.1 lets a
	 * replacement keep them): only a name falls back, for a creation */
	if (!(u->set & SU_NAME))
		kw_strlcpy(u->name, u->user_name, sizeof(u->name));
	return 0;
}

/* ---- PATCH ---- */

enum patch_op { OP_ADD, OP_REPLACE, OP_REMOVE };

/* Strip the core schema's URN from a path ("urn:...:User:userName"). */
static const char *
core_path(const char *path)
{
	if (strncasecmp(path, CORE_PREFIX, sizeof(CORE_PREFIX) - 1) == 0)
		return path + sizeof(CORE_PREFIX) - 1;
	return path;
}

static int apply_path(enum patch_op op, const char *path, const json_t *v,
    struct scim_user *u, struct scim_error *e);

/* A value object without a path: each member is a path of its own. */
static int
apply_object(enum patch_op op, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	const char	*k;
	json_t		*x;
	int		 r;

	if (!json_is_object(v))
		return fail(e, "invalidValue", "an operation without a 'path' "
		    "needs an object 'value'");
	json_object_foreach((json_t *)v, k, x)
		if ((r = apply_path(op, k, x, u, e)) != 0)
			return r;
	return 0;
}

/* The enterprise extension, whole or one of its members. */
static int
apply_enterprise(enum patch_op op, const char *rest, const json_t *v,
    struct scim_user *u, struct scim_error *e)
{
	if (*rest == '\0') {		/* the extension object itself */
		if (op == OP_REMOVE) {
			u->manager_id[0] = '\0';
			u->set |= SU_MANAGER;
			return 0;
		}
		return take_enterprise(v, u, e);
	}
	if (strcasecmp(rest, ":manager") != 0 &&
	    strcasecmp(rest, ":manager.value") != 0)
		return 0;		/* department & co: not kept */
	if (op == OP_REMOVE || json_is_null(v)) {
		u->manager_id[0] = '\0';
		u->set |= SU_MANAGER;
		return 0;
	}
	return take_manager(v, u, e);
}

/* What an attribute path does with a value (remove: v is NULL). */
typedef int (*attr_patch)(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e);

static int
patch_user_name(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	return remove ? fail(e, "mutability", "'userName' cannot be removed") :
	    take_user_name(v, u, e);
}

/* The name cannot be removed (keywarden needs one): removal is a no-op. */
static int
patch_display_name(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	return remove ? 0 : take_name(v, "displayName", u, e);
}

static int
patch_formatted(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	return remove ? 0 : take_name(v, "name.formatted", u, e);
}

static int
patch_name(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	return remove ? 0 : take_name_object(v, u, 0, e);
}

/* Removing active says nothing: it stays as it is. */
static int
patch_active(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	return remove ? 0 : take_active(v, u, e);
}

static int
patch_external_id(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	return take_external_id(remove ? NULL : v, u, e);
}

static int
patch_emails(int remove, const json_t *v, struct scim_user *u,
    struct scim_error *e)
{
	KW_UNUSED(u);
	return remove ? 0 : check_emails(v, e);
}

/* The core attributes a PATCH path may name (case-insensitive). */
static const struct {
	const char	*path;
	attr_patch	 fn;
} core_attrs[] = {
	{ "userName",		patch_user_name },
	{ "displayName",	patch_display_name },
	{ "name.formatted",	patch_formatted },
	{ "name",		patch_name },
	{ "active",		patch_active },
	{ "externalId",		patch_external_id },
	{ "emails",		patch_emails },
};

/*
 * One attribute path gets value v (NULL for remove; null removes too).
 * Paths not in core_attrs nor the enterprise manager are ignored:
 * keywarden does not keep those attributes.
 */
static int
apply_path(enum patch_op op, const char *path, const json_t *v,
    struct scim_user *u, struct scim_error *e)
{
	const char	*p = core_path(path);
	size_t		 i;

	/* a value filter selects within a multi-valued attribute (emails,
	 * phoneNumbers, ...): keywarden keeps none of them */
	if (strchr(p, '[') != NULL)
		return 0;
	if (strncasecmp(p, SCIM_SCHEMA_ENTERPRISE,
	    sizeof(SCIM_SCHEMA_ENTERPRISE) - 1) == 0)
		return apply_enterprise(op, p + sizeof(SCIM_SCHEMA_ENTERPRISE) -
		    1, v, u, e);
	for (i = 0; i < KW_NELEM(core_attrs); i++)
		if (strcasecmp(p, core_attrs[i].path) == 0)
			return core_attrs[i].fn(op == OP_REMOVE ||
			    json_is_null(v), v, u, e);
	return 0;
}

/* The op keyword of an operation. */
static int
op_kind(const json_t *v, enum patch_op *op, struct scim_error *e)
{
	static const char *const names[] = { "add", "replace", "remove" };
	size_t i;

	if (json_is_string(v))
		for (i = 0; i < KW_NELEM(names); i++)
			if (strcasecmp(json_string_value(v), names[i]) == 0) {
				*op = (enum patch_op)i;
				return 0;
			}
	return fail(e, "invalidSyntax", "each operation's 'op' must be add, "
	    "replace or remove");
}

/* A path: an attribute path, its value filter ("[...]") closed. */
static int
op_path(const json_t *v, char *out, size_t outsz, struct scim_error *e)
{
	const char	*s;
	size_t		 n;

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) >= outsz ||
	    !kw_valid_text(json_string_value(v), outsz - 1))
		return fail(e, "invalidPath", "'path' must be an attribute "
		    "path");
	s = json_string_value(v);
	n = strcspn(s, "[");
	if (s[n] == '[' && strchr(s + n, ']') == NULL)
		return fail(e, "invalidPath", "'path' has an unclosed '['");
	kw_strlcpy(out, s, outsz);
	return 0;
}

int
scim_patch_apply(const json_t *body, struct scim_user *u,
    struct scim_error *e)
{
	char		 path[KW_SCIM_FILTER_MAX + 1];
	json_t		*ops, *o, *v;
	enum patch_op	 op = OP_ADD;
	size_t		 i;
	int		 r;

	u->set = 0;
	if ((r = check_schemas(body, e)) != 0)
		return r;
	ops = get_ci(body, "Operations");
	if (!json_is_array(ops) || json_array_size(ops) == 0)
		return fail(e, "invalidSyntax", "'Operations' must be a "
		    "non-empty array");
	if (json_array_size(ops) > KW_SCIM_OPS_MAX)
		return fail(e, "invalidSyntax", "at most %d operations per "
		    "request", KW_SCIM_OPS_MAX);
	json_array_foreach(ops, i, o) {
		if (!json_is_object(o))
			return fail(e, "invalidSyntax", "each operation must "
			    "be an object");
		if ((r = op_kind(get_ci(o, "op"), &op, e)) != 0)
			return r;
		v = get_ci(o, "value");
		if (get_ci(o, "path") == NULL) {
			if (op == OP_REMOVE)
				return fail(e, "noTarget", "'remove' needs a "
				    "'path'");
			r = apply_object(op, v, u, e);
		} else if ((r = op_path(get_ci(o, "path"), path, sizeof(path),
		    e)) == 0) {
			if (op != OP_REMOVE && v == NULL)
				return fail(e, "invalidValue", "'%s' needs a "
				    "'value'", op == OP_ADD ? "add" :
				    "replace");
			r = apply_path(op, path, v, u, e);
		}
		if (r != 0)
			return r;
	}
	return 0;
}

/* ---- shapes ---- */

json_t *
scim_user_json(const struct person *p, const char *base)
{
	json_t	*o, *schemas;
	char	 loc[KW_URL_MAX + 64];

	snprintf(loc, sizeof(loc), "%s/scim/v2/Users/%s", base, p->id);
	schemas = json_pack("[s]", SCIM_SCHEMA_USER);
	o = json_pack("{s:o, s:s, s:s, s:{s:s}, s:s, s:[{s:s, s:s, s:b}],"
	    " s:b, s:{s:s, s:s, s:s, s:s}}",
	    "schemas", schemas, "id", p->id, "userName", p->email,
	    "name", "formatted", p->name, "displayName", p->name,
	    "emails", "value", p->email, "type", "work", "primary", 1,
	    "active", p->active,
	    "meta", "resourceType", "User", "created", p->created_at,
	    "lastModified", p->updated_at, "location", loc);
	if (o == NULL)
		return NULL;
	if (p->external_id[0] != '\0')
		json_object_set_new(o, "externalId",
		    json_string(p->external_id));
	if (p->manager_id[0] != '\0') {
		snprintf(loc, sizeof(loc), "%s/scim/v2/Users/%s", base,
		    p->manager_id);
		json_array_append_new(schemas, json_string(
		    SCIM_SCHEMA_ENTERPRISE));
		json_object_set_new(o, SCIM_SCHEMA_ENTERPRISE, json_pack(
		    "{s:{s:s, s:s, s:s}}", "manager", "value", p->manager_id,
		    "$ref", loc, "displayName", p->manager_email));
	}
	return o;
}

json_t *
scim_list_json(json_t *resources, int64_t total, int64_t start)
{
	return json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas",
	    SCIM_SCHEMA_LIST, "totalResults", (json_int_t)total,
	    "itemsPerPage", (json_int_t)json_array_size(resources),
	    "startIndex", (json_int_t)start, "Resources", resources);
}

json_t *
scim_error_json(int status, const char *type, const char *detail)
{
	char	st[8];
	json_t	*o;

	snprintf(st, sizeof(st), "%d", status);
	o = json_pack("{s:[s], s:s, s:s}", "schemas", SCIM_SCHEMA_ERROR,
	    "status", st, "detail", detail);
	if (o != NULL && type != NULL && type[0] != '\0')
		json_object_set_new(o, "scimType", json_string(type));
	return o;
}
