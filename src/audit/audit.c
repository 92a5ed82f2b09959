/*
 * audit.c — appending to and verifying the hash-chained audit log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "limits.h"
#include "util/buf.h"
#include "util/util.h"

#define VERIFY_PAGE	1000

/*
 * The canonical serialisation: compact JSON with sorted keys, built
 * directly (no parse, no allocation per field: verification of a long
 * log is bounded by hashing, not by a JSON library).  details go in as
 * stored; audit_append stores them canonical (compact, sorted keys,
 * ASCII), so any change to their bytes changes the hash.
 */
static int
canonical(const struct audit_event *ev, struct buf *b)
{
	char		 seq[24], *p = seq + sizeof(seq);
	uint64_t	 v = ev->seq < 0 ? (uint64_t)-ev->seq : (uint64_t)ev->seq;

	*--p = '\0';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	if (ev->seq < 0)
		*--p = '-';
	buf_addstr(b, "{\"action\":");
	buf_add_json_str(b, ev->action);
	buf_addstr(b, ",\"actor\":");
	buf_add_json_str(b, ev->actor);
	buf_addstr(b, ",\"at\":");
	buf_add_json_str(b, ev->at);
	buf_addstr(b, ",\"details\":");
	buf_addstr(b, ev->details);
	buf_addstr(b, ",\"seq\":");
	buf_addstr(b, p);
	buf_addstr(b, ",\"subject\":");
	buf_add_json_str(b, ev->subject);
	buf_addstr(b, "}");
	return buf_err(b);
}

char *
audit_canonical(const struct audit_event *ev)
{
	struct buf b;

	buf_init(&b, KW_AUDIT_RECORD_MAX);
	if (canonical(ev, &b) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* The hash of ev into out[65], serialising through the scratch b. */
static int
hash_into(const struct audit_event *ev, struct buf *b, char out[65])
{
	struct crypto_sha256	h;
	int			r;

	/* one buffer, one update: prev_hash "\n" canonical */
	b->len = 0;
	buf_addstr(b, ev->prev_hash);
	buf_add(b, "\n", 1);
	if ((r = canonical(ev, b)) != 0)
		return r;
	crypto_sha256_init(&h);
	crypto_sha256_update(&h, b->data, b->len);
	crypto_sha256_final_hex(&h, out);
	return 0;
}

int
audit_hash(const struct audit_event *ev, char out[65])
{
	struct buf	b;
	int		r;

	buf_init(&b, KW_AUDIT_RECORD_MAX);
	r = hash_into(ev, &b, out);
	buf_free(&b);
	return r;
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
	struct buf		 scratch;	/* reused for every event */
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
	else if (hash_into(ev, &w->scratch, h) != 0)
		snprintf(v->reason, sizeof(v->reason),
		    "the event is too large to be one keywarden wrote");
	/* hashes are public: no need for a constant-time comparison */
	else if (memcmp(h, ev->hash, sizeof(h)) != 0)
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
	buf_init(&w.scratch, KW_AUDIT_RECORD_MAX);
	do {
		before = w.last_seq;
		r = store_audit_each(st, w.last_seq, VERIFY_PAGE, verify_one, &w);
		if (r < 0) {
			buf_free(&w.scratch);
			return r;
		}
	} while (r == 0 && w.last_seq != before);
	buf_free(&w.scratch);
	kw_strlcpy(v->head, w.prev, sizeof(v->head));
	if (v->ok && expect_head != NULL && w.expect_seq == 0) {
		v->ok = 0;
		v->head_missing = 1;
		v->first_bad_seq = v->events + 1;
		snprintf(v->reason, sizeof(v->reason), "no event has the "
		    "expected head hash: it is from another log or mistyped, "
		    "or events were removed from the end of this one");
	}
	return 0;
}
