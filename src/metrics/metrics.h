/*
 * metrics.h — the process's metrics registry, rendered as Prometheus
 * text exposition (version 0.0.4) by GET /metrics.
 *
 * Counters and histograms live in static arrays of atomics: recording is
 * a few relaxed atomic additions, with no lock and no allocation, so it
 * can sit on every request's path.  Labels are fixed vocabularies (route
 * patterns, status codes, outcomes) or instance names (at most
 * KW_METRICS_INSTANCES_MAX): never a raw path, an email or a secret.
 * Gauges that describe the store (requests by state, ...) are read at
 * scrape time and handed to metrics_render().
 */
#ifndef KW_METRICS_H
#define KW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"

/* Counters with a fixed label set. */
enum metrics_counter {
	MC_ISSUANCE_ISSUED,		/* minted on the instance, recorded */
	MC_ISSUANCE_FAILED,		/* the instance refused or was down */
	MC_ISSUANCE_ERROR,		/* keywarden could not finish */
	MC_REVOCATION_OK,
	MC_REVOCATION_UPSTREAM,		/* the instance refused or was down */
	MC_REVOCATION_ERROR,
	MC_AUTH_FAILED,			/* a bad or unknown token */
	MC_AUTH_THROTTLED,		/* refused with 429 */
	MC_HTTP_SHED,			/* 503 at once: too many waited for
					   a call-out worker */
	MC__COUNT
};

/* Name the HTTP routes: patterns[i] and methods[i] label route i
 * (borrowed; they must live as long as the process).  Call once before
 * serving; routes beyond KW_METRICS_ROUTES_MAX count as "other". */
void	 metrics_routes(const char *const *methods,
	    const char *const *patterns, size_t n);
/* One HTTP request: route index (SIZE_MAX: no route matched), status
 * (0: aborted before an answer), duration in microseconds. */
void	 metrics_http(size_t route, int status, uint64_t us);
/* Add one to a counter. */
void	 metrics_count(enum metrics_counter c);
/* One call to an instance (an attempt): its name, 0 for an HTTP answer
 * of 2xx, 1 for another HTTP status, 2 for no answer; duration in us. */
void	 metrics_instance_call(const char *instance, int result, uint64_t us);
/* One run of a background job: its name (a literal), ok, duration. */
void	 metrics_job(const char *job, int ok, uint64_t us);

/* What the store says at scrape time. */
struct metrics_store {
	struct store_stats	st;
	int			ok;		/* 0: the store could not say */
	int64_t			now;		/* unix time, for ages */
};

/* Render everything into b (text exposition 0.0.4). 0 or buf's error. */
int	 metrics_render(struct buf *b, const struct metrics_store *s);
/* Forget every recorded value (tests). */
void	 metrics_reset(void);

#endif /* KW_METRICS_H */
