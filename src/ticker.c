/*
 * ticker.c — a thread that runs each periodic task when it is due, and
 * wakes at once when told to stop.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kw.h"
#include "log.h"
#include "ticker.h"
#include "core/app.h"
#include "core/issuance.h"
#include "core/jobs.h"
#include "metrics/metrics.h"
#include "store/store.h"
#include "util/util.h"

struct ticker {
	pthread_t	 thread;
	int		 poked;			/* ticker_wake() was called */
	time_t		 due[8];		/* per task; 0 = now */
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	int		 stop;
	struct app	*app;
	struct store	*st;
};

static _Atomic(struct ticker *) running;	/* for ticker_wake() */

static int
log_head(struct ticker *t)
{
	int64_t	 seq;
	char	 hash[KW_HASH_HEX_LEN + 1];
	json_t	*o;

	if (store_audit_head(t->st, &seq, hash) != 0) {
		log_msg("error", "audit: cannot read the chain head");
		return KW_ERR_UNAVAILABLE;
	}
	o = json_pack("{s:s, s:I, s:s}", "event", "audit_head", "seq",
	    (json_int_t)seq, "hash", hash);
	if (o != NULL) {
		log_json(o);
		json_decref(o);
	}
	return 0;
}

static int
reconcile(struct ticker *t)
{
	struct reconcile_report	 rep;
	json_t			*o;
	int			 r;

	r = issuance_reconcile(t->app, t->st, &rep);
	o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "event",
	    "reconcile", "result", r == 0 ? "ok" : kw_strerror(r), "instances",
	    rep.instances, "adopted", rep.adopted, "failed", rep.failed,
	    "orphans_deleted", rep.orphans_deleted, "leftovers_deleted",
	    rep.leftovers_deleted, "missing", rep.missing, "errors",
	    rep.errors);
	if (o != NULL) {
		log_json(o);
		json_decref(o);
	}
	return r;
}

static void
log_summary(const char *event, json_t *sum)
{
	if (sum == NULL)
		return;
	json_object_set_new(sum, "event", json_string(event));
	log_json(sum);
	json_decref(sum);
}

static int
jobs(struct ticker *t)
{
	struct actor	 a;
	json_t		*sum = NULL;
	int		 r;

	actor_system(&a, DOOR_JOB, "keywarden");
	if ((r = jobs_run(t->app, &a, t->st, kw_now(), &sum)) != 0)
		log_msg("error", "jobs: the store could not be read");
	log_summary("jobs", sum);
	return r;
}

static int
outbox(struct ticker *t)
{
	json_t	*sum = NULL;
	int	 r;

	r = jobs_flush_outbox(t->app, t->st, kw_now(), &sum);
	/* quiet unless something happened */
	if (sum != NULL && json_integer_value(json_object_get(sum, "sent")) ==
	    0 && json_integer_value(json_object_get(sum, "retried")) == 0 &&
	    json_integer_value(json_object_get(sum, "failed")) == 0) {
		json_decref(sum);
		return r;
	}
	log_summary("outbox", sum);
	return r;
}

/* exclusive: one node at a time runs it (the store's jobs lock, see
 * run_task); the outbox is safe on every node (claims are leased, SKIP
 * LOCKED). */
static const struct task {
	const char	*name;
	int		(*run)(struct ticker *);	/* 0: ok */
	size_t		 interval_off;	/* offset of its seconds in config */
	int		 exclusive;
} tasks[] = {
	{ "reconcile", reconcile, offsetof(struct config, reconcile_interval),
	    1 },
	{ "jobs", jobs, offsetof(struct config, jobs_interval), 1 },
	{ "outbox", outbox, offsetof(struct config, notify_interval), 0 },
	{ "audit_head", log_head, offsetof(struct config, audit_head_interval),
	    0 },
};

/*
 * Run task k unless another node runs an exclusive task right now: the
 * store's jobs lock is held for the run only (so `keywarden jobs run`
 * can take its turn too), and goes with the session of a node that
 * dies.  -1 when skipped, else the task's result.
 */
static int
run_task(struct ticker *t, const struct task *k)
{
	int r;

	if (!k->exclusive)
		return k->run(t);
	if (store_lock_jobs(t->st) != 1)
		return -1;		/* another node has it: next time */
	r = k->run(t);
	store_unlock_jobs(t->st);
	return r;
}
_Static_assert(KW_NELEM(tasks) <= KW_NELEM(((struct ticker *)0)->due),
    "ticker: more tasks than due slots");

static void *
run(void *arg)
{
	struct ticker	*t = arg;
	struct timespec	 deadline;
	time_t		 now, next;
	uint64_t	 t0;
	size_t		 i;
	int		 r;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		t->poked = 0;
		now = time(NULL);
		next = now + 3600;
		for (i = 0; i < KW_NELEM(tasks) && !t->stop; i++) {
			if (t->due[i] <= now) {
				pthread_mutex_unlock(&t->lock);
				t0 = kw_mono_us();
				if ((r = run_task(t, &tasks[i])) != -1)
					metrics_job(tasks[i].name, r == 0,
					    kw_mono_us() - t0);
				pthread_mutex_lock(&t->lock);
				t->due[i] = time(NULL) + *(const int *)
				    (const void *)((const char *)&t->app->cfg +
				    tasks[i].interval_off);
			}
			if (t->due[i] < next)
				next = t->due[i];
		}
		deadline.tv_sec = next;
		deadline.tv_nsec = 0;
		while (!t->stop && !t->poked && time(NULL) < next &&
		    pthread_cond_timedwait(&t->wake, &t->lock, &deadline) !=
		    ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int
ticker_start(struct app *app, struct ticker **out)
{
	struct ticker	*t;
	int		 r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = store_open_url(app->cfg.store, app->cfg.data_dir, 0,
	    &t->st)) != 0) {
		free(t);
		return r;
	}
	t->app = app;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		store_close(t->st);
		free(t);
		return KW_ERR_INTERNAL;
	}
	*out = t;
	running = t;
	return 0;
}

void
ticker_wake(const char *task)
{
	struct ticker	*t = running;
	size_t		 i;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < KW_NELEM(tasks); i++)
		if (strcmp(tasks[i].name, task) == 0)
			t->due[i] = 0;
	t->poked = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

void
ticker_stop(struct ticker *t)
{
	if (t == NULL)
		return;
	running = NULL;
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
