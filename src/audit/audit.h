/*
 * audit.h — the hash-chained audit log.  Each event's hash is SHA-256 over
 * the previous event's hash and the event's canonical serialisation, so
 * modifying, deleting, inserting or reordering an event breaks the chain.
 *
 * audit_append() must be called inside the caller's store transaction:
 * the change and its event commit together or not at all.
 */
#ifndef KW_AUDIT_H
#define KW_AUDIT_H

#include <stdint.h>

#include <jansson.h>

#include "limits.h"
#include "store/store.h"

/* Append an event.  actor is an email or "system"; details (may be NULL)
 * is consumed (its reference is released), and must never hold a
 * secret.  Returns 0, or
 * KW_ERR_UNAVAILABLE when the event could not be written (the caller
 * then rolls back and answers 503). */
int	 audit_append(struct store *st, const char *actor, const char *action,
	    const char *subject, json_t *details);

/* Canonical serialisation of an event (without prev_hash/hash): compact
 * JSON with sorted keys, its details as stored (audit_append stores them
 * in canonical form).  Returns a malloc'd string or NULL. */
char	*audit_canonical(const struct audit_event *ev);
/* Compute an event's hash — SHA-256 over prev_hash, "\n" and the
 * canonical serialisation — into out[KW_HASH_HEX_LEN + 1].  0, or KW_ERR_TOO_LARGE. */
int	 audit_hash(const struct audit_event *ev, char out[KW_HASH_HEX_LEN + 1]);

struct audit_verdict {
	int		ok;
	int		head_missing;	/* the chain links, but no event has
					   the expected head (not broken as
					   such: another log's head, a typo,
					   or the tail cut off after it) */
	int64_t		events;
	int64_t		first_bad_seq;
	char		head[KW_HASH_HEX_LEN + 1];
	char		reason[160];
};
/* Walk the whole log checking sequence, links and hashes. 0 on a
 * completed walk (whatever the verdict), or a store error.  Long logs
 * are walked in consecutive ranges at once, one reader thread (and
 * store connection) per core, up to KW_AUDIT_VERIFY_THREADS; the
 * verdict is the one a single walk from the start gives. */
int	 audit_verify(struct store *st, struct audit_verdict *v);
/* The same, and the log must still hold an event whose hash is
 * expect_head (a head logged earlier and kept elsewhere): if the tail was
 * cut off at or before it, the verdict is broken. */
int	 audit_verify_head(struct store *st, const char *expect_head,
	    struct audit_verdict *v);

/* audit_verify_head with the walk split into n ranges (1 <=
 * n <= KW_AUDIT_VERIFY_THREADS; fewer on a log of fewer than n events,
 * or on a backend with one connection), whatever the number of cores
 * and the log's length: the same verdict for every n. */
int	 audit_verify_split(struct store *st, const char *expect_head, int n,
	    struct audit_verdict *v);

/* Check only the end of the log (cheap, for every start): the newest
 * event's hash recomputes from its contents and its prev_hash is the hash
 * of the event before it (one seq earlier), whose own hash recomputes
 * too; on a log of one event, its prev_hash is empty.  0 on a completed
 * check (verdict in v: ok, or first_bad_seq and reason), or a store
 * error. */
int	 audit_verify_tail(struct store *st, struct audit_verdict *v);

#endif /* KW_AUDIT_H */
