/*
 * audit.c — appending to and verifying the hash-chained audit log.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kw.h"
#include "audit/audit.h"
#include "crypto/sha256.h"
#include "limits.h"
#include "util/buf.h"
#include "util/util.h"

/*
 * The canonical serialisation: compact JSON with sorted keys, written in
 * one pass into the caller's space (no parse, no allocation: verifying a
 * long log is bounded by reading and hashing, not by a JSON library).
 * details go in as stored; audit_append stores them canonical (compact,
 * sorted keys, ASCII), so any change to their bytes changes the hash.
 */
struct out {
	char	*p, *end;
	int	 full;		/* something did not fit (sticky) */
};

static void
put(struct out *o, const void *s, size_t n)
{
	if (o->full || n > (size_t)(o->end - o->p)) {
		o->full = 1;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

/* The bytes that go into a JSON string as they are: printable ASCII
 * but '"' and '\\' (NUL is not one: it ends the text). */
static const unsigned char json_plain[256] = {
	['\x20'] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* s as a JSON string.  Plain ASCII (nearly every field) is copied as it
 * is; anything else goes through buf_add_json_str, the one authority on
 * the escaping that stored hashes were computed with. */
static void
put_json_str(struct out *o, const char *s)
{
	struct buf	b;
	size_t		k;

	for (k = 0; json_plain[(unsigned char)s[k]]; k++)
		;
	if (s[k] == '\0') {
		put(o, "\"", 1);
		put(o, s, k);
		put(o, "\"", 1);
		return;
	}
	buf_init(&b, KW_AUDIT_RECORD_MAX);
	buf_add_json_str(&b, s);
	if (buf_err(&b) != 0)
		o->full = 1;
	else
		put(o, b.data, b.len);
	buf_free(&b);
}

static void
put_int(struct out *o, int64_t seq)
{
	char		 s[24], *p = s + sizeof(s);
	uint64_t	 v = seq < 0 ? 0 - (uint64_t)seq : (uint64_t)seq;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	if (seq < 0)
		*--p = '-';
	put(o, p, (size_t)(s + sizeof(s) - p));
}

#define PUT_LIT(o, s)	put((o), (s), sizeof(s) - 1)

static void
canonical(const struct audit_row *ev, struct out *o)
{
	PUT_LIT(o, "{\"action\":");
	put_json_str(o, ev->action);
	PUT_LIT(o, ",\"actor\":");
	put_json_str(o, ev->actor);
	PUT_LIT(o, ",\"at\":");
	put_json_str(o, ev->at);
	PUT_LIT(o, ",\"details\":");
	put(o, ev->details, strlen(ev->details));
	PUT_LIT(o, ",\"seq\":");
	put_int(o, ev->seq);
	PUT_LIT(o, ",\"subject\":");
	put_json_str(o, ev->subject);
	PUT_LIT(o, "}");
}

/* What is hashed for ev — prev_hash, "\n", the canonical form — into
 * rec[cap] (cap <= KW_AUDIT_RECORD_MAX).  Its length, or 0 when it does
 * not fit (no event keywarden writes is larger than the maximum). */
static size_t
hash_input(const struct audit_row *ev, char *rec, size_t cap)
{
	struct out o = { rec, rec + cap, 0 };

	put(&o, ev->prev_hash, strlen(ev->prev_hash));
	PUT_LIT(&o, "\n");
	canonical(ev, &o);
	return o.full ? 0 : (size_t)(o.p - rec);
}

/* ev as a row (pointing into ev). */
static struct audit_row
row_of(const struct audit_event *ev)
{
	struct audit_row r = { ev->seq, ev->at, ev->actor, ev->action,
	    ev->subject, ev->details, ev->prev_hash, ev->hash };

	return r;
}

char *
audit_canonical(const struct audit_event *ev)
{
	struct audit_row	 row = row_of(ev);
	struct out		 o;
	char			*c;

	if ((c = malloc(KW_AUDIT_RECORD_MAX + 1)) == NULL)
		return NULL;
	o = (struct out){ c, c + KW_AUDIT_RECORD_MAX, 0 };
	canonical(&row, &o);
	if (o.full) {
		free(c);
		return NULL;
	}
	*o.p = '\0';
	return c;
}

int
audit_hash(const struct audit_event *ev, char out[KW_HASH_HEX_LEN + 1])
{
	struct audit_row	 row = row_of(ev);
	struct sha256		*h;
	unsigned char		 d[32];
	char			*rec;
	size_t			 n, cap;
	int			 r;

	/* room for the worst case (an escaped byte takes 6, "\u00XX"; keys,
	 * punctuation and seq under 128), not the maximum: this is every
	 * append */
	cap = strlen(row.prev_hash) + strlen(row.details) + 128 + 6 *
	    (strlen(row.at) + strlen(row.actor) + strlen(row.action) +
	    strlen(row.subject));
	if (cap > KW_AUDIT_RECORD_MAX)
		cap = KW_AUDIT_RECORD_MAX;
	if ((rec = malloc(cap)) == NULL)
		return KW_ERR_NOMEM;
	if ((n = hash_input(&row, rec, cap)) == 0)
		r = KW_ERR_TOO_LARGE;
	else if ((r = sha256_new(&h)) == 0) {
		if ((r = sha256_digest(h, rec, n, d)) == 0)
			sha256_hex_of(d, out);
		sha256_free(h);
	}
	free(rec);
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
	/* the subject may be a request path: keep every event valid UTF-8
	 * (it is listed as JSON), whatever was asked for */
	kw_utf8_sanitize(ev.actor);
	kw_utf8_sanitize(ev.action);
	kw_utf8_sanitize(ev.subject);
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

/*
 * Verification.  An event's hash depends only on its own row (its
 * prev_hash is stored), so the log splits into consecutive seq ranges
 * walked at once, one reader per core, each on its own connection: a
 * walker checks its events' hashes and the links between them; the
 * links across ranges (each range's first event against the previous
 * range's last) are checked after, in order, so the verdict is the one
 * a single walk from the start gives, word for word.
 */
struct walker {
	struct store		*st;		/* its own connection */
	pthread_t		 th;
	int			 threaded;
	int			 idx;
	int64_t			 after, upto;	/* its range of seq */
	struct split		*split;
	struct sha256		*hasher;
	char			*rec;		/* hash input, reused */
	const char		*expect;	/* hash to find, or NULL */
	/* what the walk found */
	int			 r;		/* store error, or 0 */
	int64_t			 n;		/* events read */
	int64_t			 first_seq;	/* the first event read */
	char			 first_prev[KW_HASH_HEX_LEN + 1];
	int			 first_prev_ok;
	int64_t			 events;	/* checked and sound */
	int64_t			 last_seq;	/* the last sound one */
	char			 prev[KW_HASH_HEX_LEN + 1];	/* its hash */
	int			 found;		/* expect was seen */
	int			 bad;		/* stopped at a fault: */
	int64_t			 bad_seq;
	char			 reason[160];
};

struct split {
	atomic_int	 first_bad;	/* the earliest walker at a fault */
};

/* The fault of event seq, found by a single walk that had verified up
 * to last_seq (the first bad event is the first one missing, or seq). */
static int64_t
bad_seq_of(int64_t seq, int64_t last_seq)
{
	return seq < last_seq + 1 ? seq : last_seq + 1;
}

static int
walk_fault(struct walker *w, int64_t bad_seq, const char *reason)
{
	int cur = atomic_load(&w->split->first_bad);

	w->bad = 1;
	w->bad_seq = bad_seq;
	kw_strlcpy(w->reason, reason, sizeof(w->reason));
	/* walkers after this one need not go on */
	while (w->idx < cur && !atomic_compare_exchange_weak(
	    &w->split->first_bad, &cur, w->idx))
		;
	return 1;		/* stop the walk */
}

/* One event of w's range (store_audit_scan's callback). */
static int
walk_one(const struct audit_row *ev, void *arg)
{
	struct walker	*w = arg;
	unsigned char	 d[32];
	char		 h[KW_HASH_HEX_LEN + 1], why[160];
	size_t		 n;

	if (atomic_load_explicit(&w->split->first_bad,
	    memory_order_relaxed) < w->idx)
		return 1;	/* an earlier range is broken: moot */
	if (w->n++ == 0) {
		/* its links to the range before: checked when joining */
		w->first_seq = ev->seq;
		/* longer than a hash: it links to nothing */
		w->first_prev_ok = kw_strlcpy(w->first_prev, ev->prev_hash,
		    sizeof(w->first_prev)) < sizeof(w->first_prev);
	} else if (ev->seq != w->last_seq + 1) {
		snprintf(why, sizeof(why), "sequence gap: expected %lld, "
		    "found %lld", (long long)(w->last_seq + 1),
		    (long long)ev->seq);
		return walk_fault(w, bad_seq_of(ev->seq, w->last_seq), why);
	} else if (strcmp(ev->prev_hash, w->prev) != 0)
		return walk_fault(w, ev->seq, "prev_hash does not match the "
		    "previous event's hash");
	if ((n = hash_input(ev, w->rec, KW_AUDIT_RECORD_MAX)) == 0)
		return walk_fault(w, ev->seq, "the event is too large to be "
		    "one keywarden wrote");
	if (sha256_digest(w->hasher, w->rec, n, d) != 0)
		return KW_ERR_CRYPTO;
	sha256_hex_of(d, h);
	/* hashes are public: no need for a constant-time comparison */
	if (strcmp(h, ev->hash) != 0)
		return walk_fault(w, ev->seq, "hash does not match the "
		    "event's contents");
	w->last_seq = ev->seq;
	memcpy(w->prev, h, sizeof(w->prev));
	w->events++;
	if (w->expect != NULL && strcmp(h, w->expect) == 0)
		w->found = 1;
	return 0;
}

static void *
walk_range(void *arg)
{
	struct walker *w = arg;

	w->r = store_audit_scan(w->st, w->after, w->upto, walk_one, w);
	if (w->r > 0)
		w->r = 0;		/* stopped at a fault: a verdict */
	return NULL;
}

/*
 * Join the walkers' findings in seq order, as one walk from the start
 * would have met them: each range's first event must follow the last
 * sound event before it (seq, then link); then the range's own verdict.
 * 0 (verdict in v) or the first store error.
 */
static int
walk_join(struct walker *ws, int n, struct audit_verdict *v, int *found)
{
	struct walker	*w;
	int64_t		 last = 0;
	char		 prev[KW_HASH_HEX_LEN + 1] = "";
	int		 i;

	for (i = 0; i < n; i++) {
		w = &ws[i];
		if (w->r != 0)
			return w->r;
		*found |= w->found;
		if (w->n == 0)
			continue;
		if (w->first_seq != last + 1) {
			v->first_bad_seq = bad_seq_of(w->first_seq, last);
			snprintf(v->reason, sizeof(v->reason), "sequence gap: "
			    "expected %lld, found %lld", (long long)(last + 1),
			    (long long)w->first_seq);
		} else if (!w->first_prev_ok ||
		    strcmp(w->first_prev, prev) != 0) {
			v->first_bad_seq = w->first_seq;
			snprintf(v->reason, sizeof(v->reason), "prev_hash does "
			    "not match the previous event's hash");
		} else {
			v->events += w->events;
			if (w->events > 0) {
				last = w->last_seq;
				memcpy(prev, w->prev, sizeof(prev));
			}
			if (!w->bad)
				continue;
			v->first_bad_seq = w->bad_seq;
			kw_strlcpy(v->reason, w->reason, sizeof(v->reason));
		}
		v->ok = 0;
		break;
	}
	kw_strlcpy(v->head, prev, sizeof(v->head));
	return 0;
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
	long	 cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t	 head;
	char	 hash[KW_HASH_HEX_LEN + 1];
	int	 n, r;

	if ((r = store_audit_head(st, &head, hash)) != 0)
		return r;
	/* a range per core, but not for short logs (a thread and a
	 * connection cost more than a few thousand events) */
	n = cpus < 1 ? 1 : cpus > KW_AUDIT_VERIFY_THREADS ?
	    KW_AUDIT_VERIFY_THREADS : (int)cpus;
	if (head / KW_AUDIT_VERIFY_RANGE_MIN < n)
		n = (int)(head / KW_AUDIT_VERIFY_RANGE_MIN);
	return audit_verify_split(st, expect_head, n < 1 ? 1 : n, v);
}

/* Set up walker i of n over a log whose head is head: its range, its
 * connection (the caller's for the first), hasher and buffer. */
static int
walker_init(struct walker *w, int i, int n, int64_t head, struct store *st,
    struct split *sp, const char *expect_head)
{
	int r;

	w->idx = i;
	w->split = sp;
	w->expect = expect_head;
	w->after = head / n * i;
	/* the last range is open: events appended meanwhile count too */
	w->upto = i == n - 1 ? INT64_MAX : head / n * (i + 1);
	if (i == 0)
		w->st = st;
	else if ((r = store_open_sibling(st, &w->st)) != 0)
		return r;
	if ((r = sha256_new(&w->hasher)) != 0)
		return r;
	if ((w->rec = malloc(KW_AUDIT_RECORD_MAX)) == NULL)
		return KW_ERR_NOMEM;
	return 0;
}

static void
walker_free(struct walker *w)
{
	if (w->idx > 0)
		store_close(w->st);
	sha256_free(w->hasher);
	free(w->rec);
}

int
audit_verify_split(struct store *st, const char *expect_head, int n,
    struct audit_verdict *v)
{
	struct walker	 ws[KW_AUDIT_VERIFY_THREADS];
	struct split	 sp;
	int64_t		 head;
	char		 hash[KW_HASH_HEX_LEN + 1];
	int		 i, r, found = 0;

	memset(v, 0, sizeof(*v));
	memset(ws, 0, sizeof(ws));
	v->ok = 1;
	atomic_init(&sp.first_bad, KW_AUDIT_VERIFY_THREADS);	/* none */
	if (n < 1 || n > KW_AUDIT_VERIFY_THREADS)
		return KW_ERR_INTERNAL;
	if ((r = store_audit_head(st, &head, hash)) != 0)
		return r;
	if (head < n)
		n = 1;
	for (i = 0; i < n; i++) {
		if ((r = walker_init(&ws[i], i, n, head, st, &sp,
		    expect_head)) == KW_ERR_INTERNAL && i > 0) {
			/* no other connection on this backend: one walk */
			while (i > 0)
				walker_free(&ws[i--]);
			ws[0].upto = INT64_MAX;
			n = 1;
			r = 0;
			break;
		}
		if (r != 0) {
			n = i + 1;
			goto out;
		}
	}
	for (i = 1; i < n; i++)
		ws[i].threaded = pthread_create(&ws[i].th, NULL, walk_range,
		    &ws[i]) == 0;
	walk_range(&ws[0]);
	for (i = 1; i < n; i++) {
		if (ws[i].threaded)
			pthread_join(ws[i].th, NULL);
		else
			walk_range(&ws[i]);	/* no thread: here, after */
	}
	if ((r = walk_join(ws, n, v, &found)) != 0)
		goto out;
	if (v->ok && expect_head != NULL && !found) {
		v->ok = 0;
		v->head_missing = 1;
		v->first_bad_seq = v->events + 1;
		snprintf(v->reason, sizeof(v->reason), "no event has the "
		    "expected head hash: it is from another log or mistyped, "
		    "or events were removed from the end of this one");
	}
 out:
	for (i = 0; i < n; i++)
		walker_free(&ws[i]);
	return r;
}

/* The last two events, as audit_verify_tail() reads them. */
struct tail {
	int		 n;
	int64_t		 seq[2];
	char		 hash[2][KW_HASH_HEX_LEN + 1];		/* as stored */
	char		 prev[2][KW_HASH_HEX_LEN + 1];		/* as stored */
	int		 recomputes[2];
};

static int
tail_one(const struct audit_event *ev, void *arg)
{
	struct tail	*t = arg;
	char		 h[KW_HASH_HEX_LEN + 1];

	if (t->n >= 2)
		return 1;
	t->seq[t->n] = ev->seq;
	kw_strlcpy(t->hash[t->n], ev->hash, sizeof(t->hash[0]));
	kw_strlcpy(t->prev[t->n], ev->prev_hash, sizeof(t->prev[0]));
	t->recomputes[t->n] = audit_hash(ev, h) == 0 &&
	    strcmp(h, ev->hash) == 0;
	t->n++;
	return 0;
}

int
audit_verify_tail(struct store *st, struct audit_verdict *v)
{
	struct tail	 t;
	int64_t		 head;
	char		 hhash[KW_HASH_HEX_LEN + 1];
	int		 r, last;

	memset(v, 0, sizeof(*v));
	memset(&t, 0, sizeof(t));
	v->ok = 1;
	if ((r = store_audit_head(st, &head, hhash)) != 0)
		return r;
	if (head == 0)
		return 0;
	r = store_audit_each(st, head > 2 ? head - 2 : 0, 2, tail_one, &t);
	if (r < 0)
		return r;
	last = t.n - 1;
	kw_strlcpy(v->head, hhash, sizeof(v->head));
	if (t.n == 0 || t.seq[last] != head)
		snprintf(v->reason, sizeof(v->reason), "the newest event "
		    "(%lld) cannot be read back", (long long)head);
	else if (!t.recomputes[last])
		snprintf(v->reason, sizeof(v->reason), "the newest event's "
		    "hash does not match its contents");
	else if (head == 1 && t.prev[last][0] != '\0')
		snprintf(v->reason, sizeof(v->reason), "the first event has "
		    "a prev_hash");
	else if (head > 1 && (t.n != 2 || t.seq[0] != head - 1))
		snprintf(v->reason, sizeof(v->reason), "sequence gap: event "
		    "%lld is missing", (long long)(head - 1));
	else if (head > 1 && strcmp(t.prev[1], t.hash[0]) != 0)
		snprintf(v->reason, sizeof(v->reason), "the newest event's "
		    "prev_hash does not match the previous event's hash");
	else if (head > 1 && !t.recomputes[0]) {
		snprintf(v->reason, sizeof(v->reason), "hash does not match "
		    "the event's contents");
		head--;
	} else {
		v->events = t.n;
		return 0;
	}
	v->ok = 0;
	v->first_bad_seq = head;
	return 0;
}
