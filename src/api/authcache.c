/*
 * authcache.c — fixed-size, direct-mapped, generation-invalidated; on a
 * shared store, watched (authcache_watch).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "api/authcache.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "util/util.h"

#define SLOTS	256
#define WATCH_MS	250	/* the watcher's wait: also how soon it stops */
/* the cache is used only until this long after the watcher last heard
 * from the server (a wait and a round trip fit well within it) */
#define WATCH_LIVE_MS	1000

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
	int		watched;	/* usable only while live */
	uint64_t	live_until_ms;
	struct entry	slots[SLOTS];
	/* the watcher thread (authcache_watch) */
	pthread_t	watcher;
	int		watching;
	atomic_int	stop;
	char		*store_url;
	char		*data_dir;
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
	if (ac->watching) {
		atomic_store(&ac->stop, 1);
		pthread_join(ac->watcher, NULL);
	}
	if (ac->store_url != NULL) {
		kw_wipe(ac->store_url, strlen(ac->store_url));
		free(ac->store_url);
	}
	free(ac->data_dir);
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
	if ((!ac->watched || now_ms < ac->live_until_ms) &&
	    e->used && e->generation == ac->generation &&
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
	 * already be stale, so it is not remembered; nor while the watcher
	 * cannot tell of other nodes' writes */
	if (generation != ac->generation ||
	    (ac->watched && now_ms >= ac->live_until_ms)) {
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

/* Sleep ms milliseconds, or less if asked to stop. */
static void
watch_pause(struct authcache *ac, int ms)
{
	struct timespec ts = { 0, 50 * 1000000L };

	for (; ms > 0 && !atomic_load(&ac->stop); ms -= 50)
		nanosleep(&ts, NULL);
}

/*
 * The watcher: a connection of its own waits for the store's
 * notifications of changes to what authenticates a caller (store_watch)
 * and empties the cache on each.  Each wait that ends well keeps the
 * cache usable a little longer (live_until_ms); when the server cannot
 * be reached the cache is emptied and unused until the watcher listens
 * again (it then empties it once more: it may have missed changes).
 */
static void *
watch_main(void *arg)
{
	struct authcache	*ac = arg;
	struct store		*st = NULL;
	uint64_t		 now;
	int			 r, down = 0;

	while (!atomic_load(&ac->stop)) {
		if (st == NULL && store_open_url(ac->store_url, ac->data_dir,
		    0, &st) != 0)
			st = NULL;
		r = st != NULL ? store_watch(st, WATCH_MS) : KW_ERR_UNAVAILABLE;
		now = kw_mono_us() / 1000;
		pthread_mutex_lock(&ac->lock);
		if (r == 0 || r == 1) {
			if (r == 1)
				ac->generation++;
			ac->live_until_ms = now + WATCH_LIVE_MS;
		} else {
			ac->generation++;
			ac->live_until_ms = 0;
		}
		pthread_mutex_unlock(&ac->lock);
		if (r == 0 || r == 1) {
			if (down)
				log_msg("info", "authentication cache: watching "
				    "the store again");
			down = 0;
			continue;
		}
		if (!down)
			log_msg("warn", "authentication cache: cannot watch the "
			    "store for other nodes' changes; not used until it "
			    "can");
		down = 1;
		watch_pause(ac, WATCH_MS);
	}
	store_close(st);
	return NULL;
}

int
authcache_watch(struct authcache *ac, const char *store_url,
    const char *data_dir)
{
	if (ac->watching)
		return 0;
	if ((ac->store_url = strdup(store_url)) == NULL ||
	    (ac->data_dir = strdup(data_dir)) == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_lock(&ac->lock);
	ac->watched = 1;
	ac->live_until_ms = 0;
	ac->generation++;
	pthread_mutex_unlock(&ac->lock);
	if (pthread_create(&ac->watcher, NULL, watch_main, ac) != 0)
		return KW_ERR_NOMEM;	/* the cache stays unused */
	ac->watching = 1;
	return 0;
}
