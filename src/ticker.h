/*
 * ticker.h — the server's background thread: periodic work that is not
 * a request.  Each task runs once at start, then every its interval:
 *   - reconciliation of every automatic instance with the store (see
 *     core/issuance.h), so a crash never leaves a half-made credential;
 *   - the lifecycle jobs (core/jobs.h) and the notification outbox;
 *   - a log line with the audit chain's head (seq and hash), also at
 *     stop, so a copy kept elsewhere (a log collector) can later prove
 *     the log's tail was not cut off (`audit verify --expect-head`).
 */
#ifndef KW_TICKER_H
#define KW_TICKER_H

struct app;
struct ticker;

/* Start the thread with its own store connection.  *out is owned by the
 * caller: ticker_stop(). */
int	 ticker_start(struct app *app, struct ticker **out);
/* Run task ("reconcile", "jobs", "outbox") as soon as the thread is free
 * (e.g. after a Slack approval left an issuance to finish).  No-op when
 * no ticker runs. */
void	 ticker_wake(const char *task);
/* Stop the thread (after the task in progress), log the head once more,
 * and free; NULL ok. */
void	 ticker_stop(struct ticker *t);

#endif /* KW_TICKER_H */
