/*
 * ticker.c — a thread that wakes every interval (or when told to stop).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "kw.h"
#include "log.h"
#include "ticker.h"
#include "store/store.h"

struct ticker {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	int		 stop;
	int		 interval;
	struct store	*st;
};

static void
log_head(struct ticker *t)
{
	int64_t	 seq;
	char	 hash[65];
	json_t	*o;

	if (store_audit_head(t->st, &seq, hash) != 0) {
		log_msg("error", "audit: cannot read the chain head");
		return;
	}
	o = json_pack("{s:s, s:I, s:s}", "event", "audit_head", "seq",
	    (json_int_t)seq, "hash", hash);
	if (o != NULL) {
		log_json(o);
		json_decref(o);
	}
}

static void *
run(void *arg)
{
	struct ticker	*t = arg;
	struct timespec	 deadline;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += t->interval;
		while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock,
		    &deadline) != ETIMEDOUT)
			;
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->lock);
		log_head(t);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int
ticker_start(const char *data_dir, int head_interval_s, struct ticker **out)
{
	struct ticker	*t;
	int		 r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = store_open(data_dir, 0, &t->st)) != 0) {
		free(t);
		return r;
	}
	t->interval = head_interval_s;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	log_head(t);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		store_close(t->st);
		free(t);
		return KW_ERR_INTERNAL;
	}
	*out = t;
	return 0;
}

void
ticker_stop(struct ticker *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	log_head(t);
	store_close(t->st);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
