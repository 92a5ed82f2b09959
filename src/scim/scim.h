/*
 * scim.h — SCIM 2.0 (RFC 7643/7644) as pure functions: the filter
 * keywarden understands, a User resource read into plain fields, PATCH
 * operations applied to them, and the JSON shapes (User, ListResponse,
 * Error).  No HTTP, no store: the HTTP side (api/scim.c) looks people up
 * and writes them.
 */
#ifndef KW_SCIM_H
#define KW_SCIM_H

#include <jansson.h>

#include "limits.h"
#include "store/store.h"

#define SCIM_SCHEMA_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_SCHEMA_ENTERPRISE \
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_SCHEMA_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_SCHEMA_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_SCHEMA_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"

/* Why a SCIM input was refused: a KW_ERR_* (the HTTP status follows),
 * RFC 7644's scimType (static text; "" for none) and a detail. */
struct scim_error {
	int		 err;
	const char	*type;
	char		 detail[256];
};

/* The one filter keywarden serves: userName eq "<value>". */
struct scim_filter {
	char	user_name[KW_EMAIL_MAX + 1];
	int	impossible;	/* value no person can have: matches none */
};

/*
 * Parse a ?filter= text.  Attribute (userName, also with the core
 * schema's URN) and operator (eq) are case-insensitive; the value is a
 * JSON string literal (escapes decoded).  0, or KW_ERR_VALIDATION with
 * scimType invalidFilter for anything else.
 */
int	 scim_filter_parse(const char *text, struct scim_filter *f,
	    struct scim_error *e);

/* Which fields a resource or a PATCH set (struct scim_user.set). */
#define SU_USER_NAME	0x01u
#define SU_NAME		0x02u
#define SU_EXTERNAL_ID	0x04u
#define SU_MANAGER	0x08u
#define SU_ACTIVE	0x10u

/* A User as keywarden keeps it. */
struct scim_user {
	unsigned	set;				/* SU_* */
	char		user_name[KW_EMAIL_MAX + 1];	/* the email */
	char		name[KW_NAME_MAX + 1];
	char		external_id[KW_SCIM_EXTERNAL_ID_MAX + 1]; /* "" none */
	char		manager_id[KW_ID_MAX + 1];	/* SCIM id; "" none */
	int		active;
};

/*
 * Read a whole User resource (POST, PUT) into u (zeroed first).
 * userName is required and must be an email; the name is displayName,
 * else name.formatted, else name.givenName + name.familyName, else the
 * userName.  Attribute names are case-insensitive; unknown and read-only
 * attributes are ignored; wrong types are KW_ERR_VALIDATION invalidValue.
 * u->set says what the resource carried: attributes it leaves out are not
 * asserted (RFC 7644 §3.5.1), so a PUT keeps them; u->name holds the
 * userName when no name was given, for a creation.
 */
int	 scim_user_parse(const json_t *res, struct scim_user *u,
	    struct scim_error *e);

/*
 * Apply a PatchOp body to u (the current values): add, replace and
 * remove (op case-insensitive), with a path (userName, displayName,
 * name, name.formatted, active, externalId, emails..., the enterprise
 * manager or manager.value, with or without their schema URN) or without
 * one (the value is an object of such attributes: Okta's
 * {"active": false}).  active may be a boolean or the string "True" /
 * "False" (Entra ID).  Fields changed are added to u->set (cleared
 * first).  0 or KW_ERR_VALIDATION with invalidSyntax, invalidValue,
 * invalidPath, noTarget or mutability.
 */
int	 scim_patch_apply(const json_t *body, struct scim_user *u,
	    struct scim_error *e);

/* The User resource of p; base is the public URL (no trailing slash).
 * NULL on allocation failure. */
json_t	*scim_user_json(const struct person *p, const char *base);
/* A ListResponse of resources (consumed). */
json_t	*scim_list_json(json_t *resources, int64_t total, int64_t start);
/* An Error message: status as a string, scimType when type is not
 * empty, detail. */
json_t	*scim_error_json(int status, const char *type, const char *detail);
/* 1 if s is one of RFC 7644's scimType keywords. */
int	 scim_type_known(const char *s);

#endif /* KW_SCIM_H */
