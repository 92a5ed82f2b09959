/*
 * ticker.h — the server's background thread: periodic work that is not
 * a request.  Today it logs the audit chain's head (seq and hash) at
 * start, every interval and at stop, so a copy kept elsewhere (a log
 * collector) can later prove the tail of the log was not cut off
 * (`keywarden audit verify --expect-head HASH`).
 */
#ifndef KW_TICKER_H
#define KW_TICKER_H

struct ticker;

/* Start the thread with its own store connection to data_dir.  *out is
 * owned by the caller: ticker_stop(). */
int	 ticker_start(const char *data_dir, int head_interval_s,
	    struct ticker **out);
/* Log the head once more, stop the thread and free; NULL ok. */
void	 ticker_stop(struct ticker *t);

#endif /* KW_TICKER_H */
