/*
 * list.c — the list handlers' shared page (see list.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "kw.h"
#include "limits.h"
#include "api/api.h"
#include "api/list.h"

int
api_list_begin(struct http_req *rq, struct api_list *l)
{
	const char	*ls = http_query(rq, "limit");
	const char	*cs = http_query(rq, "cursor");
	char		*end;
	long long	 v;

	l->items = NULL;
	l->limit = KW_LIST_LIMIT_DEFAULT;
	l->after = 0;
	l->last = 0;
	l->more = 0;
	if (ls != NULL) {
		errno = 0;
		v = strtoll(ls, &end, 10);
		if (errno || end == ls || *end || v < 1 ||
		    v > KW_LIST_LIMIT_MAX)
			return http_fail(rq, KW_ERR_VALIDATION, "limit",
			    "'limit' must be an integer from 1 to %d",
			    KW_LIST_LIMIT_MAX);
		l->limit = (size_t)v;
	}
	if (cs != NULL && *cs != '\0') {
		errno = 0;
		v = strtoll(cs, &end, 10);
		if (errno || end == cs || *end || v < 0)
			return http_fail(rq, KW_ERR_VALIDATION, "cursor",
			    "'cursor' is not a cursor this server issued");
		l->after = v;
	}
	l->last = l->after;
	return 0;
}

void
api_list_all(struct api_list *l)
{
	l->items = NULL;
	l->limit = SIZE_MAX;
	l->after = 0;
	l->last = 0;
	l->more = 0;
}

int
api_list_add(struct api_list *l, json_t *item, int64_t seq)
{
	if (l->items == NULL && (l->items = json_array()) == NULL) {
		json_decref(item);
		return KW_ERR_NOMEM;
	}
	if (json_array_append_new(l->items, item) != 0)
		return KW_ERR_NOMEM;	/* item was released */
	l->last = seq;
	return 0;
}

int
api_list_end(struct http_req *rq, struct http_resp *rs, struct api_list *l,
    int r)
{
	json_t	*items = l->items;

	l->items = NULL;
	if (r != 0) {
		json_decref(items);
		return api_store_fail(rq, r, "", "");
	}
	if (items == NULL && (items = json_array()) == NULL)
		return KW_ERR_NOMEM;
	if ((rs->body = api_page(items, l->more ||
	    json_array_size(items) >= l->limit ? l->last : 0)) == NULL)
		return KW_ERR_NOMEM;
	return 0;
}
