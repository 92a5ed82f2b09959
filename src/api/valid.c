/*
 * valid.c — typed field extraction with clear, field-naming errors.
 */
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "limits.h"
#include "api/valid.h"
#include "util/util.h"

int
jv_known(struct http_req *rq, json_t *obj, const char *const *allowed)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (allowed[i] == NULL)
			return http_fail(rq, KW_ERR_VALIDATION, k,
			    "unknown field '%.64s'", k);
	}
	return 0;
}

/* Common prologue: fetch key, handle absence and null.  Returns 1 when
 * the caller should read v, 0 when done, or an error. */
static int
fetch(struct http_req *rq, json_t *obj, const char *key, int flags,
    json_t **v, int *present)
{
	if (present)
		*present = 0;
	*v = obj ? json_object_get(obj, key) : NULL;
	if (*v == NULL) {
		if (flags & JV_REQUIRED)
			return http_fail(rq, KW_ERR_VALIDATION, key,
			    "'%s' is required", key);
		return 0;
	}
	if (present)
		*present = 1;
	if (json_is_null(*v)) {
		if (flags & JV_NULLABLE)
			return 0;
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must not be null", key);
	}
	return 1;
}

int
jv_str(struct http_req *rq, json_t *obj, const char *key, int flags,
    size_t max, char *out, size_t outsz, int *present)
{
	const char	*s;
	json_t		*v;
	int		 r;

	if ((r = fetch(rq, obj, key, flags, &v, present)) <= 0) {
		if (r == 0 && present && *present)
			out[0] = '\0';		/* null */
		return r;
	}
	if (!json_is_string(v))
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must be a string", key);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must not contain NUL characters", key);
	if (strlen(s) > max || strlen(s) >= outsz)
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' is longer than %zu bytes", key, max);
	if (!kw_valid_text(s, max))
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must not contain control characters", key);
	if ((flags & (JV_REQUIRED | JV_NONEMPTY)) &&
	    s[strspn(s, " \t")] == '\0')
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must not be empty", key);
	kw_strlcpy(out, s, outsz);
	return 0;
}

int
jv_bool(struct http_req *rq, json_t *obj, const char *key, int flags,
    int *out, int *present)
{
	json_t	*v;
	int	 r;

	if ((r = fetch(rq, obj, key, flags, &v, present)) <= 0)
		return r;
	if (!json_is_boolean(v))
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

int
jv_int(struct http_req *rq, json_t *obj, const char *key, int flags, int min,
    int max, int *out, int *present)
{
	json_int_t	 i;
	json_t		*v;
	int		 r;

	if ((r = fetch(rq, obj, key, flags, &v, present)) <= 0)
		return r;
	if (!json_is_integer(v))
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must be an integer", key);
	i = json_integer_value(v);
	if (i < min || i > max)
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must be between %d and %d", key, min, max);
	*out = (int)i;
	return 0;
}

int
jv_enum(struct http_req *rq, json_t *obj, const char *key, int flags,
    const char *const *vals, int *out, int *present)
{
	char	 s[64];
	int	 r, i, here;

	if ((r = jv_str(rq, obj, key, flags, sizeof(s) - 1, s, sizeof(s),
	    &here)) != 0)
		return r;
	if (present)
		*present = here;
	if (!here || json_is_null(json_object_get(obj, key)))
		return 0;
	for (i = 0; vals[i] != NULL; i++)
		if (strcmp(vals[i], s) == 0) {
			*out = i;
			return 0;
		}
	return http_fail(rq, KW_ERR_VALIDATION, key,
	    "'%s' has an unknown value '%.64s'", key, s);
}

int
jv_strs(struct http_req *rq, json_t *obj, const char *key, int flags,
    size_t maxn, char *base, size_t width, size_t *n,
    int (*ok)(const char *), const char *what, int *present)
{
	const char	*s;
	json_t		*v, *item;
	size_t		 i, j;
	int		 r;

	if ((r = fetch(rq, obj, key, flags, &v, present)) <= 0) {
		if (r == 0 && present && *present)
			*n = 0;
		return r;
	}
	if (!json_is_array(v))
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' must be an array of strings", key);
	if (json_array_size(v) > maxn)
		return http_fail(rq, KW_ERR_VALIDATION, key,
		    "'%s' has more than %zu entries", key, maxn);
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return http_fail(rq, KW_ERR_VALIDATION, key,
			    "'%s' must be an array of strings", key);
		s = json_string_value(item);
		if (strlen(s) >= width || !kw_valid_text(s, width - 1) ||
		    *s == '\0')
			return http_fail(rq, KW_ERR_VALIDATION, key,
			    "'%s': %s %zu is empty or longer than %zu bytes",
			    key, what, i + 1, width - 1);
		if (ok != NULL && !ok(s))
			return http_fail(rq, KW_ERR_VALIDATION, key,
			    "'%s': '%.64s' is not a valid %s", key, s, what);
		for (j = 0; j < i; j++)
			if (strcmp(base + j * width, s) == 0)
				return http_fail(rq, KW_ERR_VALIDATION, key,
				    "'%s': '%.64s' is listed twice", key, s);
		kw_strlcpy(base + i * width, s, width);
	}
	*n = json_array_size(v);
	return 0;
}
