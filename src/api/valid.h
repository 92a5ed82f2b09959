/*
 * valid.h — checking request bodies at the boundary.  Each jv_* reads one
 * field of a JSON object into a typed slot, or fails with
 * KW_ERR_VALIDATION naming the field and what to fix (through
 * http_fail, so the message reaches the client).  Handlers then work on
 * checked values only.
 */
#ifndef KW_API_VALID_H
#define KW_API_VALID_H

#include <stddef.h>

#include <jansson.h>

#include "http/http.h"

#define JV_REQUIRED	0x01	/* absent is an error */
#define JV_NULLABLE	0x02	/* null is accepted, read as ""/empty */
#define JV_NONEMPTY	0x04	/* a string must hold a non-blank char */

/* Reject any key of obj not in the NULL-terminated list allowed. */
int	 jv_known(struct http_req *rq, json_t *obj, const char *const *allowed);

/* A string of at most max bytes of text (no control characters).
 * *present (may be NULL) says whether the key was there. */
int	 jv_str(struct http_req *rq, json_t *obj, const char *key, int flags,
	    size_t max, char *out, size_t outsz, int *present);
int	 jv_bool(struct http_req *rq, json_t *obj, const char *key, int flags,
	    int *out, int *present);
int	 jv_int(struct http_req *rq, json_t *obj, const char *key, int flags,
	    int min, int max, int *out, int *present);
/* A string that must be one of vals (NULL-terminated); *out = its index. */
int	 jv_enum(struct http_req *rq, json_t *obj, const char *key, int flags,
	    const char *const *vals, int *out, int *present);

/* An array of up to maxn distinct strings, each at most width-1 bytes and
 * accepted by ok (may be NULL), into the rows of base (width apart).
 * what describes an item for messages ("scope"). */
int	 jv_strs(struct http_req *rq, json_t *obj, const char *key, int flags,
	    size_t maxn, char *base, size_t width, size_t *n,
	    int (*ok)(const char *), const char *what, int *present);

#endif /* KW_API_VALID_H */
