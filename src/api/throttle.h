/*
 * throttle.h — slowing down repeated failed authentications per client
 * address: after `limit` failures within `window` seconds the address is
 * refused (429, Retry-After) until the window ends.  A fixed table of
 * KW_AUTH_TRACK_SLOTS addresses bounds memory whatever the attacker does.
 */
#ifndef KW_API_THROTTLE_H
#define KW_API_THROTTLE_H

#include <stdint.h>

struct throttle;

/* New limiter; NULL on allocation failure.  Free with throttle_free. */
struct throttle	*throttle_new(int limit, int window_s);
void		 throttle_free(struct throttle *t);
/* 0 if addr may try now; otherwise KW_ERR_RATE_LIMITED with the seconds
 * until it may in *retry_after.  now is in seconds (monotonic). */
int		 throttle_check(struct throttle *t, const char *addr,
		    int64_t now, int *retry_after);
/* Record one failure of addr at now. */
void		 throttle_fail(struct throttle *t, const char *addr, int64_t now);

#endif /* KW_API_THROTTLE_H */
