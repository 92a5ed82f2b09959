/*
 * audit.c (api) — /v1/audit: reading and verifying the hash-chained log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/list.h"
#include "api/valid.h"
#include "audit/audit.h"

/* A page being filled: the filters (NULL: any), the matches, the last
 * sequence number examined and how many were examined. */
struct audit_page {
	const char	*actor, *action, *subject, *since, *until;
	struct api_list	 l;		/* its cursor: the last examined */
	size_t		 seen;		/* examined in all */
	size_t		 got;		/* rows the last read returned */
};

/* 1 if ev passes p's filters: actor and subject exactly, action exactly
 * or as a prefix ending in '.' ("request." is every request action), at
 * within [since, until] (RFC 3339 UTC text compares in time order). */
static int
event_match(const struct audit_event *ev, const struct audit_page *p)
{
	size_t n;

	if (p->actor != NULL && strcmp(ev->actor, p->actor) != 0)
		return 0;
	if (p->subject != NULL && strcmp(ev->subject, p->subject) != 0)
		return 0;
	if (p->action != NULL) {
		n = strlen(p->action);
		if (n > 0 && p->action[n - 1] == '.' ?
		    strncmp(ev->action, p->action, n) != 0 :
		    strcmp(ev->action, p->action) != 0)
			return 0;
	}
	if (p->since != NULL && strcmp(ev->at, p->since) < 0)
		return 0;
	if (p->until != NULL && strcmp(ev->at, p->until) > 0)
		return 0;
	return 1;
}

static int
event_one(const struct audit_event *ev, void *arg)
{
	struct audit_page	*p = arg;
	json_t			*d;

	p->got++;
	if (json_array_size(p->l.items) >= p->l.limit)
		return 0;	/* the page is full: left for the next one */
	p->l.last = ev->seq;
	p->seen++;
	if (!event_match(ev, p))
		return 0;
	if ((d = json_loads(ev->details, 0, NULL)) == NULL)
		d = json_string(ev->details);	/* shown as stored */
	return api_list_add(&p->l, json_pack("{s:I, s:s, s:s, s:s, s:s,"
	    " s:o, s:s, s:s}", "seq", (json_int_t)ev->seq, "at", ev->at,
	    "actor", ev->actor, "action", ev->action, "subject", ev->subject,
	    "details", d, "prev_hash", ev->prev_hash, "hash", ev->hash),
	    ev->seq);
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

/* The filter query parameter key, or NULL when absent or empty; a value
 * that is too long is refused. */
static int
filter_param(struct http_req *rq, const char *key, size_t max,
    const char **out)
{
	const char *v = http_query(rq, key);

	*out = v != NULL && *v != '\0' ? v : NULL;
	if (*out != NULL && strlen(*out) > max)
		return http_fail(rq, KW_ERR_VALIDATION, key, "'%s' is longer "
		    "than %zu bytes", key, max);
	return 0;
}

/*
 * GET /v1/audit?after_seq=&limit=[&actor=&action=&subject=&since=&until=]
 * Filters are applied while reading in order; one call examines at most
 * KW_LIST_SCAN_MAX events, so a sparse filter may answer fewer items than
 * the limit with a next_cursor to go on from (the last event examined).
 */
int
api_audit_list(struct http_req *rq, struct http_resp *rs)
{
	struct audit_page	 p = { 0 };
	struct store		*st;
	const char		*v;
	char			*end;
	size_t			 chunk;
	int			 r, filtered, more;

	if ((r = api_list_begin(rq, &p.l)) != 0)
		return r;
	if ((v = http_query(rq, "after_seq")) != NULL && *v != '\0') {
		errno = 0;
		p.l.after = p.l.last = strtoll(v, &end, 10);
		if (errno || end == v || *end || p.l.after < 0)
			return http_fail(rq, KW_ERR_VALIDATION, "after_seq",
			    "'after_seq' must be a non-negative integer");
	}
	if ((r = filter_param(rq, "actor", KW_EMAIL_MAX, &p.actor)) != 0 ||
	    (r = filter_param(rq, "action", KW_NAME_MAX, &p.action)) != 0 ||
	    (r = filter_param(rq, "subject", KW_URL_MAX, &p.subject)) != 0 ||
	    (r = filter_param(rq, "since", KW_TIME_LEN, &p.since)) != 0 ||
	    (r = filter_param(rq, "until", KW_TIME_LEN, &p.until)) != 0)
		return r;
	filtered = p.actor || p.action || p.subject || p.since || p.until;
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	chunk = filtered ? KW_LIST_LIMIT_MAX : p.l.limit;
	for (;;) {
		p.got = 0;
		if ((r = store_audit_each(st, p.l.last, chunk, event_one,
		    &p)) != 0) {
			json_decref(p.l.items);
			return audit_unreadable(rq, r);
		}
		/* the log may go on, or the page is full */
		more = p.got == chunk || json_array_size(p.l.items) >= p.l.limit;
		/* stop at the end of the log, a full page, or the scan cap */
		if (!filtered || !more ||
		    json_array_size(p.l.items) >= p.l.limit ||
		    p.seen >= KW_LIST_SCAN_MAX)
			break;
	}
	p.l.more = more;
	return api_list_end(rq, rs, &p.l, 0);
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
	if (head != NULL && (strlen(head) != KW_HASH_HEX_LEN ||
	    strspn(head, "0123456789abcdef") != KW_HASH_HEX_LEN))
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
