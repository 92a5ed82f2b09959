/*
 * throttle.h — slowing down repeated failed authentications per key (a
 * client address, or the prefix of a presented token): after `limit`
 * failures within `window` seconds further failures of that key are
 * answered 429 with Retry-After until the window ends.  Only failures
 * are counted and judged: a valid token is never refused here (see
 * api_authorise).  A fixed table of KW_AUTH_TRACK_SLOTS keys bounds
 * memory whatever the attacker does.
 */
#ifndef KW_API_THROTTLE_H
#define KW_API_THROTTLE_H

#include <stdint.h>

struct throttle;

/* New limiter; NULL on allocation failure.  Free with throttle_free. */
struct throttle	*throttle_new(int limit, int window_s);
void		 throttle_free(struct throttle *t);
/* 0 if key is under its limit now; otherwise KW_ERR_RATE_LIMITED with
 * the seconds until it is not in *retry_after.  now is in seconds
 * (monotonic).  Keys are at most 47 bytes. */
int		 throttle_check(struct throttle *t, const char *key,
		    int64_t now, int *retry_after);
/* Record one failure of key at now; then as throttle_check (this failure
 * included). */
int		 throttle_fail(struct throttle *t, const char *key, int64_t now,
		    int *retry_after);

#endif /* KW_API_THROTTLE_H */
