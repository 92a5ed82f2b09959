/*
 * throttle.c — fixed-window failure counting per key (address, token
 * prefix).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "limits.h"
#include "api/throttle.h"
#include "util/util.h"

#define PROBE	8	/* slots looked at per address */

struct slot {
	char	addr[48];
	int64_t	window_start;
	int	failures;
};

struct throttle {
	pthread_mutex_t	lock;
	atomic_int	tracked;	/* slots in use: 0 = nothing to check */
	int		limit;
	int		window;
	struct slot	slots[KW_AUTH_TRACK_SLOTS];
};

struct throttle *
throttle_new(int limit, int window_s)
{
	struct throttle *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->limit = limit;
	t->window = window_s;
	return t;
}

void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint32_t
addr_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The slot for addr: its own, else a free or expired one, else the
 * oldest of the probed slots (evicted). */
static struct slot *
slot_for(struct throttle *t, const char *addr, int64_t now, int create)
{
	struct slot	*s, *victim = NULL;
	uint32_t	 h = addr_hash(addr);
	int		 i;

	for (i = 0; i < PROBE; i++) {
		s = &t->slots[(h + (uint32_t)i) % KW_AUTH_TRACK_SLOTS];
		if (strcmp(s->addr, addr) == 0)
			return s;
		if (victim != NULL && victim->addr[0] == '\0')
			continue;		/* already have a free slot */
		if (victim == NULL || s->addr[0] == '\0' ||
		    s->window_start < victim->window_start)
			victim = s;
	}
	if (!create)
		return NULL;
	if (victim->addr[0] == '\0')
		atomic_fetch_add(&t->tracked, 1);
	memset(victim, 0, sizeof(*victim));
	kw_strlcpy(victim->addr, addr, sizeof(victim->addr));
	victim->window_start = now;
	return victim;
}

int
throttle_check(struct throttle *t, const char *addr, int64_t now,
    int *retry_after)
{
	struct slot	*s;
	int		 r = 0;

	*retry_after = 0;
	/* the common case, no failure anywhere lately: no lock at all */
	if (atomic_load(&t->tracked) == 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	s = slot_for(t, addr, now, 0);
	if (s != NULL && now - s->window_start < t->window &&
	    s->failures >= t->limit) {
		*retry_after = (int)(s->window_start + t->window - now);
		if (*retry_after < 1)
			*retry_after = 1;
		r = KW_ERR_RATE_LIMITED;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

int
throttle_fail(struct throttle *t, const char *addr, int64_t now,
    int *retry_after)
{
	struct slot	*s;
	int		 r = 0;

	*retry_after = 0;
	pthread_mutex_lock(&t->lock);
	s = slot_for(t, addr, now, 1);
	if (now - s->window_start >= t->window) {
		s->window_start = now;
		s->failures = 0;
	}
	s->failures++;
	if (s->failures > t->limit) {
		*retry_after = (int)(s->window_start + t->window - now);
		if (*retry_after < 1)
			*retry_after = 1;
		r = KW_ERR_RATE_LIMITED;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}
