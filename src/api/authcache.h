/*
 * authcache.h — a small in-process cache of recent authentications
 * (keyed hash of the token -> the person), so that a busy client's
 * requests do not each cost a store lookup.
 *
 * An entry is used for at most KW_AUTH_CACHE_TTL_MS, and every write
 * this server commits to what an authentication rests on (a role
 * removed, a person offboarded, a token revoked or used: any write but
 * a request's filing and decisions, the audit log and the outbox, see
 * store_auth_touched) drops the whole cache at once (right after the
 * commit), so a change made through the API takes effect on the next
 * request.  An answer read from the store is remembered only if no such
 * write committed since the lookup began (the generation it started
 * in), so a lookup racing a revocation never puts a stale answer back.  A change made by
 * another process is seen by reads within the TTL; writes check the
 * caller again inside their transaction, without the cache (api.c).
 *
 * On a store shared by several nodes (PostgreSQL) the cache is watched
 * (authcache_watch): a thread listens for the store's notification of
 * any committed change to people, tokens, sessions or credentials, from
 * any node or the CLI, and empties the cache on each; the cache is used
 * only while that thread hears from the server (at least every
 * quarter-second), so a read sees another node's change once its
 * notification arrives (normally within milliseconds; never later than
 * the TTL).  See docs/SECURITY.md.
 */
#ifndef KW_API_AUTHCACHE_H
#define KW_API_AUTHCACHE_H

#include <stdint.h>

#include "limits.h"

struct authcache;
struct caller;

/* A new, empty cache, or NULL.  Free with authcache_free(). */
struct authcache *authcache_new(void);
void	 authcache_free(struct authcache *ac);
/* 1 and *c filled if hash was cached less than the TTL ago and since
 * the last invalidation; 0 otherwise.  now_ms: a monotonic clock.
 * *generation gets the cache's generation, for authcache_put(). */
int	 authcache_get(struct authcache *ac, const unsigned char *hash,
	    uint64_t now_ms, struct caller *c, uint64_t *generation);
/* Remember that hash authenticates c, as read from the store after
 * authcache_get() returned generation; nothing is remembered if the
 * cache was invalidated since. */
void	 authcache_put(struct authcache *ac, const unsigned char *hash,
	    uint64_t now_ms, const struct caller *c, uint64_t generation);
/* Forget everything (after any committed write). */
void	 authcache_invalidate(struct authcache *ac);
/* The store at store_url is shared with other nodes: from now on the
 * cache is used only while a watcher thread (started here, stopped by
 * authcache_free) listens for their changes.  0 or KW_ERR_NOMEM. */
int	 authcache_watch(struct authcache *ac, const char *store_url,
	    const char *data_dir);

#endif /* KW_API_AUTHCACHE_H */
