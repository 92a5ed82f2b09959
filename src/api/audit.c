/*
 * audit.c (api) — /v1/audit: reading and verifying the hash-chained log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/valid.h"
#include "audit/audit.h"

struct audit_page {
	json_t	*items;
	int64_t	 last;
};

static int
event_one(const struct audit_event *ev, void *arg)
{
	struct audit_page	*p = arg;
	json_t			*d;

	if ((d = json_loads(ev->details, 0, NULL)) == NULL)
		d = json_string(ev->details);	/* shown as stored */
	json_array_append_new(p->items, json_pack("{s:I, s:s, s:s, s:s, s:s,"
	    " s:o, s:s, s:s}", "seq", (json_int_t)ev->seq, "at", ev->at,
	    "actor", ev->actor, "action", ev->action, "subject", ev->subject,
	    "details", d, "prev_hash", ev->prev_hash, "hash", ev->hash));
	p->last = ev->seq;
	return 0;
}

/* The audit log could not be read (r, a store error): say which part
 * and where to look, not only "unavailable". */
static int
audit_unreadable(struct http_req *rq, int r)
{
	if (r == KW_ERR_NOMEM)
		return r;
	return http_fail(rq, KW_ERR_UNAVAILABLE, NULL, "the audit log cannot "
	    "be read from the store (%s): the database may be damaged; "
	    "'keywarden serve --check' and 'keywarden audit verify "
	    "--data-dir DIR' on the server say what is wrong",
	    kw_strerror(r));
}

int
api_audit_list(struct http_req *rq, struct http_resp *rs)
{
	struct audit_page	 p = { NULL, 0 };
	struct store		*st;
	const char		*v;
	char			*end;
	long long		 after;
	size_t			 limit;
	int			 r;

	if ((r = jv_page(rq, &limit, &after)) != 0)
		return r;
	if ((v = http_query(rq, "after_seq")) != NULL && *v != '\0') {
		errno = 0;
		after = strtoll(v, &end, 10);
		if (errno || end == v || *end || after < 0)
			return http_fail(rq, KW_ERR_VALIDATION, "after_seq",
			    "'after_seq' must be a non-negative integer");
	}
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	p.items = json_array();
	if ((r = store_audit_each(st, after, limit, event_one, &p)) != 0) {
		json_decref(p.items);
		return audit_unreadable(rq, r);
	}
	rs->body = api_page(p.items, json_array_size(p.items) == limit ?
	    p.last : 0);
	return 0;
}

int
api_audit_verify(struct http_req *rq, struct http_resp *rs)
{
	struct audit_verdict	 v;
	struct store		*st;
	const char		*head;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	head = http_query(rq, "expect_head");
	if (head != NULL && (strlen(head) != 64 ||
	    strspn(head, "0123456789abcdef") != 64))
		return http_fail(rq, KW_ERR_VALIDATION, "expect_head",
		    "'expect_head' must be a 64-character hex SHA-256");
	if ((r = audit_verify_head(st, head, &v)) != 0)
		return audit_unreadable(rq, r);
	if (v.ok)
		rs->body = json_pack("{s:b, s:I, s:s}", "ok", 1, "events",
		    (json_int_t)v.events, "head", v.head);
	else if (v.head_missing)
		rs->body = json_pack("{s:b, s:b, s:I, s:s, s:s, s:I}", "ok", 0,
		    "expected_head_found", 0, "first_bad_seq",
		    (json_int_t)v.first_bad_seq, "reason", v.reason, "head",
		    v.head, "events_verified", (json_int_t)v.events);
	else
		rs->body = json_pack("{s:b, s:I, s:s, s:I}", "ok", 0,
		    "first_bad_seq", (json_int_t)v.first_bad_seq, "reason",
		    v.reason, "events_verified", (json_int_t)v.events);
	return 0;
}
