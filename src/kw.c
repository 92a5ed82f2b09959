/*
 * kw.c — the single mapping from project error codes to text, HTTP status
 * and the API's JSON error code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "util/util.h"

static const struct {
	int		 err;
	int		 status;
	const char	*code;
	const char	*text;
} errtab[] = {
	{ KW_OK,		 200, "ok",			"success" },
	{ KW_ERR_NOMEM,		 500, "internal",		"out of memory" },
	{ KW_ERR_INTERNAL,	 500, "internal",		"internal error" },
	{ KW_ERR_INVALID_JSON,	 400, "invalid_json",		"body is not a JSON object" },
	{ KW_ERR_VALIDATION,	 400, "validation_failed",	"validation failed" },
	{ KW_ERR_UNAUTHENTICATED,401, "unauthenticated",	"authentication required" },
	{ KW_ERR_FORBIDDEN,	 403, "forbidden",		"not allowed" },
	{ KW_ERR_NOT_FOUND,	 404, "not_found",		"not found" },
	{ KW_ERR_CONFLICT,	 409, "conflict",		"conflict" },
	{ KW_ERR_GONE,		 410, "gone",			"gone" },
	{ KW_ERR_TOO_LARGE,	 413, "payload_too_large",	"payload too large" },
	{ KW_ERR_MEDIA_TYPE,	 415, "unsupported_media_type",	"unsupported media type" },
	{ KW_ERR_POLICY,	 422, "policy_violation",	"policy violation" },
	{ KW_ERR_RATE_LIMITED,	 429, "rate_limited",		"too many requests" },
	{ KW_ERR_UPSTREAM,	 502, "upstream_error",		"upstream error" },
	{ KW_ERR_UNAVAILABLE,	 503, "unavailable",		"store unavailable" },
	{ KW_ERR_METHOD,	 405, "method_not_allowed",	"method not allowed" },
	{ KW_ERR_IO,		 500, "internal",		"input/output error" },
	{ KW_ERR_CRYPTO,	 500, "internal",		"cryptographic failure" },
	{ KW_ERR_CONFIG,	 500, "internal",		"configuration error" },
	{ KW_ERR_EXISTS,	 409, "conflict",		"already exists" },
	{ KW_ERR_UNRECORDED,	 503, "unavailable",		"done on the instance; keywarden will complete its record" },
};

static int
lookup(int err)
{
	size_t i;

	for (i = 0; i < KW_NELEM(errtab); i++)
		if (errtab[i].err == err)
			return (int)i;
	return 1;	/* KW_ERR_INTERNAL */
}

const char *
kw_strerror(int err)
{
	return errtab[lookup(err)].text;
}

int
kw_err_status(int err)
{
	return errtab[lookup(err)].status;
}

const char *
kw_err_code(int err)
{
	return errtab[lookup(err)].code;
}

int
kw_fail(struct kw_fail *f, int err, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kw_failv(f, err, field, fmt, ap);
	va_end(ap);
	return err;
}

int
kw_failv(struct kw_fail *f, int err, const char *field, const char *fmt,
    va_list ap)
{
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	kw_strlcpy(f->field, field ? field : "", sizeof(f->field));
	/* a cut (%.64s, the field's size) may have split a character */
	kw_utf8_sanitize(f->message);
	kw_utf8_sanitize(f->field);
	return err;
}

void
kw_fail_details(struct kw_fail *f, struct json_t *details)
{
	json_decref(f->details);
	f->details = details;
}

void
kw_fail_nest(struct kw_fail *f, const char *outer)
{
	char n[sizeof(f->field) + 64];

	if (f->field[0] == '\0')
		return;
	snprintf(n, sizeof(n), "%s.%s", outer, f->field);
	kw_strlcpy(f->field, n, sizeof(f->field));
	kw_utf8_sanitize(f->field);
}

void
kw_fail_clear(struct kw_fail *f)
{
	json_decref(f->details);
	memset(f, 0, sizeof(*f));
}
