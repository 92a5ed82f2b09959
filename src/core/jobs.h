/*
 * jobs.h — the credential lifecycle's periodic work, run by the server's
 * background thread every --jobs-interval seconds and on demand by
 * `keywarden jobs run [--now T]`:
 *   - stale requests (pending past their expires_at) become expired;
 *   - secrets not revealed within the delivery window are destroyed and
 *     their credentials revoked;
 *   - credentials past expires_at are revoked on the instance: expired;
 *   - predecessors of a rotation are revoked when their grace ends;
 *   - owners get one digest per run of credentials crossing an expiry
 *     threshold (30, 14, 7, 1 days by default) or due for rotation;
 *   - provisioners are warned of legacy API tokens near their end;
 *   - the notification outbox is delivered.
 * Each job asks the store only for what is due (indexed), and is safe to
 * run from two processes at once: every change is conditional on the
 * state it starts from, warnings are recorded once per credential and
 * threshold in the same transaction as their message.
 */
#ifndef KW_CORE_JOBS_H
#define KW_CORE_JOBS_H

#include <time.h>

#include <jansson.h>

struct actor;
struct app;
struct store;

/* Run every job once as if the time were now, as actor a (keywarden
 * itself: actor_system with DOOR_JOB from the server's thread, DOOR_CLI
 * from `jobs run`; the audit log names it); *summary (owned by the
 * caller) says what each did.  0, or a store error. */
int	 jobs_run(struct app *app, const struct actor *a, struct store *st,
	    time_t now, json_t **summary);

/* Deliver the outbox only (the background thread does this often). */
int	 jobs_flush_outbox(struct app *app, struct store *st, time_t now,
	    json_t **summary);

#endif /* KW_CORE_JOBS_H */
