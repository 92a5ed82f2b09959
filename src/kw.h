/*
 * kw.h — the project-wide error enum and a few basics every module uses.
 *
 * Functions return 0 on success or one of the negative KW_ERR_* codes.
 * The HTTP status and JSON error code for each live in one table
 * (kw_err_status(), kw_err_code() in kw.c), so no caller maps them by hand.
 */
#ifndef KW_H
#define KW_H

#include <stdarg.h>
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

/*
 * Why an operation failed, for whoever answers (the HTTP API renders it
 * as its JSON error, Slack as a reply, the CLI as a line): a message for
 * people, the input field at fault ("" if none), more details (a jansson
 * object, owned; may be NULL) and, for KW_ERR_RATE_LIMITED or an upstream
 * 429, the seconds to wait.  Functions that can fail for reasons a person
 * must read take one as their last argument and return the KW_ERR_*.
 */
struct json_t;
struct kw_fail {
	char		 message[320];
	char		 field[64];
	struct json_t	*details;
	int		 retry_after;
};

/* Record err in f (message formatted, field may be NULL); returns err. */
int	 kw_fail(struct kw_fail *f, int err, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	 kw_failv(struct kw_fail *f, int err, const char *field,
	    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Attach details (consumed) to f, replacing any before. */
void	 kw_fail_details(struct kw_fail *f, struct json_t *details);
/* Prefix f's field with "outer." (a field of a nested object). */
void	 kw_fail_nest(struct kw_fail *f, const char *outer);
/* Forget what f holds (frees its details). */
void	 kw_fail_clear(struct kw_fail *f);

/* Human-readable text for an error code; static storage, never NULL. */
const char *kw_strerror(int err);
/* HTTP status for an error code (500 for unknown codes). */
int kw_err_status(int err);
/* API error code string ("validation_failed", ...); static storage. */
const char *kw_err_code(int err);

#define KW_UNUSED(x) ((void)(x))
#define KW_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif /* KW_H */
