/*
 * list.h — the list handlers' shared page: ?limit= and ?cursor= parsed
 * with the same errors everywhere, items collected as the store walks,
 * and the answer {"items": [...], "next_cursor": "N" | null}.  A list
 * handler reads
 *
 *	if ((r = api_list_begin(rq, &l)) != 0)
 *		return r;
 *	... r = store_x_each(st, ..., l.after, l.limit, one, &l);
 *	return api_list_end(rq, rs, &l, r);
 *
 * with one() calling api_list_add(&l, item_json, item_seq).  The cursor
 * is the last item's sequence number: opaque to clients.
 */
#ifndef KW_API_LIST_H
#define KW_API_LIST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http/http.h"

struct api_list {
	json_t		*items;		/* owned until api_list_end; NULL
					 * until the first item */
	size_t		 limit;		/* ?limit=, or the default */
	long long	 after;		/* ?cursor=, 0 for the start */
	int64_t		 last;		/* the cursor to go on from */
	int		 more;		/* set: there is more although the
					 * page is not full (a scan cap) */
};

/* Parse ?limit= (1..KW_LIST_LIMIT_MAX) and ?cursor= into l and start an
 * empty page (l->last = l->after).  0, or the http_fail result.  Nothing
 * is allocated until the first item: a handler may still return early
 * (a bad filter) without api_list_end. */
int	 api_list_begin(struct http_req *rq, struct api_list *l);
/* Start a page that holds everything (no ?limit=, no next_cursor). */
void	 api_list_all(struct api_list *l);
/* Append item (consumed; NULL is KW_ERR_NOMEM) and remember seq as the
 * cursor.  Returns 0 or KW_ERR_NOMEM, for a store walk's callback. */
int	 api_list_add(struct api_list *l, json_t *item, int64_t seq);
/* Finish: r is the store walk's result.  On 0 the page goes to rs->body,
 * with next_cursor when the page is full or l->more; otherwise the items
 * are dropped and the store's error answered (api_store_fail).  Returns
 * the handler's result. */
int	 api_list_end(struct http_req *rq, struct http_resp *rs,
	    struct api_list *l, int r);

#endif /* KW_API_LIST_H */
