/*
 * audit.c — appending to and verifying the hash-chained audit log.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "audit/audit.h"
#include "crypto/sha256.h"
#include "limits.h"
#include "util/buf.h"
#include "util/util.h"

#define VERIFY_PAGE	10000

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

/* The hash of ev into out[65] with the hasher h, serialising through
 * the scratch b.  0, KW_ERR_TOO_LARGE or KW_ERR_CRYPTO. */
static int
hash_into(const struct audit_event *ev, struct sha256 *h, struct buf *b,
    char out[65])
{
	int r;

	/* one buffer, one update: prev_hash "\n" canonical */
	b->len = 0;
	buf_addstr(b, ev->prev_hash);
	buf_add(b, "\n", 1);
	if ((r = canonical(ev, b)) != 0)
		return r;
	return sha256_hex(h, b->data, b->len, out);
}

int
audit_hash(const struct audit_event *ev, char out[65])
{
	struct sha256	*h;
	struct buf	 b;
	int		 r;

	if ((r = sha256_new(&h)) != 0)
		return r;
	buf_init(&b, KW_AUDIT_RECORD_MAX);
	r = hash_into(ev, h, &b, out);
	buf_free(&b);
	sha256_free(h);
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

struct walk {
	struct buf		 scratch;	/* reused for every event */
	struct sha256		*hasher;	/* idem */
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
	else if (hash_into(ev, w->hasher, &w->scratch, h) != 0)
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

/*
 * Verification runs as a two-stage pipeline: the calling thread reads
 * events from the store into batches, a second thread serialises and
 * hashes them in order (verify_one, as before).  Reading and hashing
 * each cost about half of the walk, so on two cores the log is checked
 * nearly twice as fast, with the same verdict.
 */
#define PIPE_BATCH	1024		/* events per batch */
#define PIPE_DEPTH	4		/* batches in flight */
#define PIPE_TEXT	(1024 * 1024)	/* details text per batch, soft */

struct batch {
	struct audit_event	 ev[PIPE_BATCH];
	size_t			 off[PIPE_BATCH];	/* details in text */
	struct buf		 text;
	size_t			 n;
};

struct pipe {
	pthread_mutex_t		 lock;
	pthread_cond_t		 changed;
	struct batch		*b[PIPE_DEPTH];
	size_t			 head, tail;	/* filled: tail..head-1 */
	int			 eof;
	atomic_int		 stop;		/* the hasher found a fault */
	int64_t			 rd_seq;	/* the last event read */
	struct walk		*w;
};

static int
pipe_put(const struct audit_event *ev, void *arg)
{
	struct pipe	*p = arg;
	struct batch	*b;
	size_t		 dl = strlen(ev->details);

	if (atomic_load(&p->stop))
		return 1;
	pthread_mutex_lock(&p->lock);
	while (p->head - p->tail == PIPE_DEPTH && !atomic_load(&p->stop))
		pthread_cond_wait(&p->changed, &p->lock);
	pthread_mutex_unlock(&p->lock);
	if (atomic_load(&p->stop))
		return 1;
	/* the head batch is the reader's alone until it is published */
	b = p->b[p->head % PIPE_DEPTH];
	b->ev[b->n] = *ev;
	b->off[b->n] = b->text.len;
	/* an event too large to be keywarden's fails in hash_into */
	if (dl >= KW_AUDIT_RECORD_MAX || buf_add(&b->text, ev->details,
	    dl + 1) != 0)
		b->off[b->n] = SIZE_MAX;
	b->n++;
	p->rd_seq = ev->seq;
	if (b->n == PIPE_BATCH || b->text.len >= PIPE_TEXT) {
		pthread_mutex_lock(&p->lock);
		p->head++;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
	return 0;
}

/* The hasher: verify_one over each batch in order. */
static void *
pipe_hash(void *arg)
{
	static const char	 huge[] = "\"too large\"";
	struct pipe		*p = arg;
	struct batch		*b;
	struct audit_event	*ev;
	size_t			 i;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == p->tail && !p->eof)
			pthread_cond_wait(&p->changed, &p->lock);
		if (p->head == p->tail) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		b = p->b[p->tail % PIPE_DEPTH];
		pthread_mutex_unlock(&p->lock);
		for (i = 0; i < b->n && !atomic_load(&p->stop); i++) {
			ev = &b->ev[i];
			if (b->off[i] == SIZE_MAX) {
				/* make hash_into refuse it, as it would */
				ev->details = huge;
				snprintf(p->w->v->reason, sizeof(p->w->v->reason),
				    "the event is too large to be one keywarden "
				    "wrote");
				p->w->v->ok = 0;
				p->w->v->first_bad_seq = ev->seq;
				atomic_store(&p->stop, 1);
				break;
			}
			ev->details = b->text.data + b->off[i];
			if (verify_one(ev, p->w) != 0)
				atomic_store(&p->stop, 1);
		}
		b->n = 0;
		b->text.len = 0;
		pthread_mutex_lock(&p->lock);
		p->tail++;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Read the whole log through the pipeline.  0 or a store error. */
static int
walk_all(struct store *st, struct walk *w)
{
	struct pipe	p;
	pthread_t	th;
	int64_t		before;
	size_t		i;
	int		r = 0;

	memset(&p, 0, sizeof(p));
	p.w = w;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.changed, NULL);
	for (i = 0; i < PIPE_DEPTH; i++) {
		if ((p.b[i] = calloc(1, sizeof(*p.b[i]))) == NULL) {
			r = KW_ERR_NOMEM;
			goto out;
		}
		buf_init(&p.b[i]->text, PIPE_TEXT + 2 * KW_AUDIT_RECORD_MAX);
	}
	if (pthread_create(&th, NULL, pipe_hash, &p) != 0) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	do {
		before = p.rd_seq;
		r = store_audit_each(st, p.rd_seq, VERIFY_PAGE, pipe_put, &p);
	} while (r == 0 && p.rd_seq != before);
	pthread_mutex_lock(&p.lock);
	if (p.b[p.head % PIPE_DEPTH]->n > 0 && !atomic_load(&p.stop))
		p.head++;		/* the last, partial batch */
	p.eof = 1;
	pthread_cond_broadcast(&p.changed);
	pthread_mutex_unlock(&p.lock);
	pthread_join(th, NULL);
	if (r > 0)
		r = 0;			/* stopped at a fault: a verdict */
 out:
	for (i = 0; i < PIPE_DEPTH; i++)
		if (p.b[i] != NULL) {
			buf_free(&p.b[i]->text);
			free(p.b[i]);
		}
	pthread_cond_destroy(&p.changed);
	pthread_mutex_destroy(&p.lock);
	return r;
}

int
audit_verify_head(struct store *st, const char *expect_head,
    struct audit_verdict *v)
{
	struct walk	w;
	int		r;

	memset(v, 0, sizeof(*v));
	memset(&w, 0, sizeof(w));
	v->ok = 1;
	w.v = v;
	w.expect = expect_head;
	if ((r = sha256_new(&w.hasher)) != 0)
		return r;
	buf_init(&w.scratch, KW_AUDIT_RECORD_MAX);
	r = walk_all(st, &w);
	buf_free(&w.scratch);
	sha256_free(w.hasher);
	if (r < 0)
		return r;
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

/* The last two events, as audit_verify_tail() reads them. */
struct tail {
	struct buf	 scratch;
	struct sha256	*hasher;
	int		 n;
	int64_t		 seq[2];
	char		 hash[2][65];		/* as stored */
	char		 prev[2][65];		/* as stored */
	int		 recomputes[2];
};

static int
tail_one(const struct audit_event *ev, void *arg)
{
	struct tail	*t = arg;
	char		 h[65];

	if (t->n >= 2)
		return 1;
	t->seq[t->n] = ev->seq;
	kw_strlcpy(t->hash[t->n], ev->hash, sizeof(t->hash[0]));
	kw_strlcpy(t->prev[t->n], ev->prev_hash, sizeof(t->prev[0]));
	t->recomputes[t->n] = hash_into(ev, t->hasher, &t->scratch, h) == 0 &&
	    memcmp(h, ev->hash, sizeof(h)) == 0;
	t->n++;
	return 0;
}

int
audit_verify_tail(struct store *st, struct audit_verdict *v)
{
	struct tail	 t;
	int64_t		 head;
	char		 hhash[65];
	int		 r, last;

	memset(v, 0, sizeof(*v));
	memset(&t, 0, sizeof(t));
	v->ok = 1;
	if ((r = store_audit_head(st, &head, hhash)) != 0)
		return r;
	if (head == 0)
		return 0;
	if ((r = sha256_new(&t.hasher)) != 0)
		return r;
	buf_init(&t.scratch, KW_AUDIT_RECORD_MAX);
	r = store_audit_each(st, head > 2 ? head - 2 : 0, 2, tail_one, &t);
	buf_free(&t.scratch);
	sha256_free(t.hasher);
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
