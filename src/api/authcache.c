/*
 * authcache.c — fixed-size, direct-mapped, generation-invalidated.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/authcache.h"
#include "crypto/crypto.h"
#include "util/util.h"

#define SLOTS	256

struct entry {
	unsigned char	hash[KW_HASH_LEN];
	uint64_t	at_ms;
	uint64_t	generation;
	int		used;
	struct caller	caller;
};

struct authcache {
	pthread_mutex_t	lock;
	uint64_t	generation;
	struct entry	slots[SLOTS];
};

struct authcache *
authcache_new(void)
{
	struct authcache *ac;

	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return NULL;
	pthread_mutex_init(&ac->lock, NULL);
	ac->generation = 1;
	return ac;
}

void
authcache_free(struct authcache *ac)
{
	if (ac == NULL)
		return;
	pthread_mutex_destroy(&ac->lock);
	kw_wipe(ac, sizeof(*ac));
	free(ac);
}

static struct entry *
slot(struct authcache *ac, const unsigned char *hash)
{
	/* the hash is uniformly distributed already */
	return &ac->slots[(hash[0] | (unsigned)hash[1] << 8) % SLOTS];
}

int
authcache_get(struct authcache *ac, const unsigned char *hash,
    uint64_t now_ms, struct caller *c, uint64_t *generation)
{
	struct entry	*e;
	int		 hit = 0;

	pthread_mutex_lock(&ac->lock);
	*generation = ac->generation;
	e = slot(ac, hash);
	if (e->used && e->generation == ac->generation &&
	    now_ms - e->at_ms < KW_AUTH_CACHE_TTL_MS &&
	    crypto_eq(e->hash, hash, KW_HASH_LEN)) {
		*c = e->caller;
		hit = 1;
	}
	pthread_mutex_unlock(&ac->lock);
	return hit;
}

void
authcache_put(struct authcache *ac, const unsigned char *hash,
    uint64_t now_ms, const struct caller *c, uint64_t generation)
{
	struct entry *e;

	pthread_mutex_lock(&ac->lock);
	/* a write committed since the store was read: what was read may
	 * already be stale, so it is not remembered */
	if (generation != ac->generation) {
		pthread_mutex_unlock(&ac->lock);
		return;
	}
	e = slot(ac, hash);
	memcpy(e->hash, hash, KW_HASH_LEN);
	e->at_ms = now_ms;
	e->generation = ac->generation;
	e->caller = *c;
	e->used = 1;
	pthread_mutex_unlock(&ac->lock);
}

void
authcache_invalidate(struct authcache *ac)
{
	pthread_mutex_lock(&ac->lock);
	ac->generation++;
	pthread_mutex_unlock(&ac->lock);
}
