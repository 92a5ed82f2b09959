/*
 * router.c — matching request paths against the route table.  Pure
 * functions, no HTTP library: unit-tested directly.
 */
#include <string.h>

#include "kw.h"
#include "http/http.h"

/* Match one pattern; captures go into segbuf.  1 on a match. */
static int
match_one(const char *pat, const char *path, char *segbuf, size_t segbufsz,
    const char **params, size_t *nparams)
{
	size_t used = 0, n = 0;

	while (*pat != '\0' && *path != '\0') {
		if (pat[0] == '{' && pat[1] == '}') {
			size_t len = strcspn(path, "/");
			if (len == 0 || n >= KW_PATH_PARAMS_MAX ||
			    used + len + 1 > segbufsz)
				return 0;
			memcpy(segbuf + used, path, len);
			segbuf[used + len] = '\0';
			params[n++] = segbuf + used;
			used += len + 1;
			path += len;
			pat += 2;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	if (*pat != '\0' || *path != '\0')
		return 0;
	*nparams = n;
	return 1;
}

int
http_route_match(const struct http_route *routes, size_t nroutes,
    const char *method, const char *path, char *segbuf, size_t segbufsz,
    const char **params, size_t *nparams, const struct http_route **out)
{
	size_t	i;
	int	r = KW_ERR_NOT_FOUND;

	*out = NULL;
	*nparams = 0;
	for (i = 0; i < nroutes; i++) {
		if (!match_one(routes[i].pattern, path, segbuf, segbufsz,
		    params, nparams))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			*out = &routes[i];
			return 0;
		}
		r = KW_ERR_METHOD;
	}
	*nparams = 0;
	return r;
}

int
http_json_depth(const json_t *v)
{
	const char	*k;
	json_t		*c;
	size_t		 i;
	int		 d, max = 0;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c)
			if ((d = http_json_depth(c)) > max)
				max = d;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			if ((d = http_json_depth(c)) > max)
				max = d;
	}
	return max + 1;
}

json_t *
http_error_body(int err, const char *message, const char *field,
    json_t *details)
{
	json_t *e, *d;

	e = json_pack("{s:s, s:s}", "code", kw_err_code(err), "message",
	    message && *message ? message : kw_strerror(err));
	if (e == NULL) {
		/* the message was not valid UTF-8: say what we can */
		e = json_pack("{s:s, s:s}", "code", kw_err_code(err),
		    "message", kw_strerror(err));
		field = NULL;
	}
	d = json_is_object(details) ? json_deep_copy(details) : json_object();
	if (field != NULL && *field != '\0')
		json_object_set_new(d, "field", json_string(field));
	if (e != NULL && json_object_size(d) > 0)
		json_object_set(e, "details", d);
	json_decref(d);
	return json_pack("{s:o}", "error", e);
}
