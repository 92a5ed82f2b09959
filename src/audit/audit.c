/*
 * audit.c — appending to and verifying the hash-chained audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "util/util.h"

#define VERIFY_PAGE	1000

char *
audit_canonical(const struct audit_event *ev)
{
	json_t	*o, *d;
	char	*out;

	if ((d = json_loads(ev->details, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return NULL;
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "seq",
	    (json_int_t)ev->seq, "at", ev->at, "actor", ev->actor, "action",
	    ev->action, "subject", ev->subject, "details", d);
	if (o == NULL)
		return NULL;
	out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	return out;
}

int
audit_hash(const struct audit_event *ev, char out[65])
{
	struct crypto_sha256	 h;
	char			*canon;

	if ((canon = audit_canonical(ev)) == NULL)
		return KW_ERR_INVALID_JSON;
	crypto_sha256_init(&h);
	crypto_sha256_update(&h, ev->prev_hash, strlen(ev->prev_hash));
	crypto_sha256_update(&h, "\n", 1);
	crypto_sha256_update(&h, canon, strlen(canon));
	crypto_sha256_final_hex(&h, out);
	free(canon);
	return 0;
}

int
audit_append(struct store *st, const char *actor, const char *action,
    const char *subject, json_t *details)
{
	struct audit_event	 ev;
	char			*dtext = NULL;
	int			 r;

	memset(&ev, 0, sizeof(ev));
	if ((r = store_audit_head(st, &ev.seq, ev.prev_hash)) != 0)
		return KW_ERR_UNAVAILABLE;
	ev.seq++;
	kw_time_fmt(kw_now(), ev.at, sizeof(ev.at));
	kw_strlcpy(ev.actor, actor, sizeof(ev.actor));
	kw_strlcpy(ev.action, action, sizeof(ev.action));
	kw_strlcpy(ev.subject, subject, sizeof(ev.subject));
	dtext = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII) : strdup("{}");
	json_decref(details);
	if (dtext == NULL)
		return KW_ERR_UNAVAILABLE;
	ev.details = dtext;
	if (audit_hash(&ev, ev.hash) != 0 ||
	    store_audit_insert(st, &ev) != 0)
		r = KW_ERR_UNAVAILABLE;
	free(dtext);
	return r;
}

struct walk {
	struct audit_verdict	*v;
	int64_t			 last_seq;
	char			 prev[65];
	const char		*expect;	/* hash to find, or NULL */
	int64_t			 expect_seq;	/* where it was found */
};

static int
verify_one(const struct audit_event *ev, void *arg)
{
	struct walk		*w = arg;
	struct audit_verdict	*v = w->v;
	char			 h[65];

	if (ev->seq != w->last_seq + 1)
		snprintf(v->reason, sizeof(v->reason),
		    "sequence gap: expected %lld, found %lld",
		    (long long)(w->last_seq + 1), (long long)ev->seq);
	else if (strcmp(ev->prev_hash, w->prev) != 0)
		snprintf(v->reason, sizeof(v->reason),
		    "prev_hash does not match the previous event's hash");
	else if (audit_hash(ev, h) != 0)
		snprintf(v->reason, sizeof(v->reason),
		    "details are not valid JSON");
	else if (!crypto_eq(h, ev->hash, sizeof(h)))
		snprintf(v->reason, sizeof(v->reason),
		    "hash does not match the event's contents");
	else {
		w->last_seq = ev->seq;
		kw_strlcpy(w->prev, ev->hash, sizeof(w->prev));
		v->events++;
		if (w->expect != NULL && strcmp(ev->hash, w->expect) == 0)
			w->expect_seq = ev->seq;
		return 0;
	}
	v->ok = 0;
	v->first_bad_seq = ev->seq < w->last_seq + 1 ? ev->seq :
	    w->last_seq + 1;
	return 1;	/* stop the walk */
}

int
audit_verify(struct store *st, struct audit_verdict *v)
{
	return audit_verify_head(st, NULL, v);
}

int
audit_verify_head(struct store *st, const char *expect_head,
    struct audit_verdict *v)
{
	struct walk	w;
	int64_t		before;
	int		r;

	memset(v, 0, sizeof(*v));
	memset(&w, 0, sizeof(w));
	v->ok = 1;
	w.v = v;
	w.expect = expect_head;
	do {
		before = w.last_seq;
		r = store_audit_each(st, w.last_seq, VERIFY_PAGE, verify_one, &w);
		if (r < 0)
			return r;
	} while (r == 0 && w.last_seq != before);
	kw_strlcpy(v->head, w.prev, sizeof(v->head));
	if (v->ok && expect_head != NULL && w.expect_seq == 0) {
		v->ok = 0;
		v->first_bad_seq = v->events + 1;
		snprintf(v->reason, sizeof(v->reason), "no event has the "
		    "expected head hash: events were removed from the end, or "
		    "the log was replaced");
	}
	return 0;
}
