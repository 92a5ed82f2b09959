/*
 * kw.h — the project-wide error enum and a few basics every module uses.
 *
 * Functions return 0 on success or one of the negative KW_ERR_* codes.
 * The HTTP status and JSON error code for each live in one table
 * (kw_err_status(), kw_err_code() in kw.c), so no caller maps them by hand.
 */
#ifndef KW_H
#define KW_H

#include <stddef.h>
#include <stdint.h>

#define KW_VERSION "0.1.0"

enum kw_err {
	KW_OK = 0,
	KW_ERR_NOMEM = -1,		/* allocation failed */
	KW_ERR_INTERNAL = -2,		/* a bug or an impossible state */
	KW_ERR_INVALID_JSON = -3,	/* body is not JSON / not an object */
	KW_ERR_VALIDATION = -4,		/* a field is missing/wrong; see field */
	KW_ERR_UNAUTHENTICATED = -5,
	KW_ERR_FORBIDDEN = -6,
	KW_ERR_NOT_FOUND = -7,
	KW_ERR_CONFLICT = -8,		/* wrong state, or a duplicate */
	KW_ERR_GONE = -9,
	KW_ERR_TOO_LARGE = -10,
	KW_ERR_MEDIA_TYPE = -11,
	KW_ERR_POLICY = -12,
	KW_ERR_RATE_LIMITED = -13,
	KW_ERR_UPSTREAM = -14,
	KW_ERR_UNAVAILABLE = -15,	/* store or audit log cannot be written */
	KW_ERR_METHOD = -16,		/* path exists, method does not */
	KW_ERR_IO = -17,		/* local file or socket trouble */
	KW_ERR_CRYPTO = -18,		/* authentication of sealed data failed */
	KW_ERR_CONFIG = -19,		/* bad configuration */
	KW_ERR_EXISTS = -20,		/* e.g. init on an initialised dir */
	KW_ERR_UNRECORDED = -21,	/* done on the instance, but the store
					   could not record it yet */
};

/* Human-readable text for an error code; static storage, never NULL. */
const char *kw_strerror(int err);
/* HTTP status for an error code (500 for unknown codes). */
int kw_err_status(int err);
/* API error code string ("validation_failed", ...); static storage. */
const char *kw_err_code(int err);

#define KW_UNUSED(x) ((void)(x))
#define KW_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif /* KW_H */
