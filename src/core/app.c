/*
 * app.c — the core's context: the application's keys and store
 * connections (one per thread), the group commit that every write goes
 * through, and the actor's transaction and audit helpers (app.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "audit/audit.h"
#include "core/app.h"
#include "core/startup.h"
#include "crypto/crypto.h"
#include "util/util.h"

static int	group_new(struct app *);
static void	group_free(struct group *);

void
actor_system(struct actor *a, enum door door, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->door = door;
	kw_strlcpy(a->name, name, sizeof(a->name));
}

int
actor_has_role(const struct actor *a, unsigned roles)
{
	return a->person.id[0] != '\0' && (a->person.roles & roles) != 0;
}

int
core_app_init(struct app *app, const struct config *cfg, char *err,
    size_t errsz)
{
	char		 path[KW_PATH_MAX + 32];
	struct store	*st = NULL;
	int		 r;

	app->cfg = *cfg;
	config_public_url(cfg, app->public_url, sizeof(app->public_url));
	pthread_mutex_init(&app->stores_lock, NULL);
	snprintf(path, sizeof(path), "%s/master.key", cfg->data_dir);
	if ((r = crypto_keys_load(path, &app->keys)) != 0) {
		crypto_keys_diagnose(cfg->data_dir, path, err, errsz);
		return r;
	}
	app->notify.keys = app->keys;
	app->notify.public_url = app->public_url;
	/* every node migrates under the store's migration lock */
	if ((r = store_open_url(cfg->store, cfg->data_dir, STORE_MIGRATE,
	    &st)) != 0) {
		store_url_redact(cfg->store, path, sizeof(path));
		snprintf(err, errsz, "%s: cannot open the store (%s)",
		    store_url_is_shared(cfg->store) ? path : cfg->data_dir,
		    kw_strerror(r));
		return r;
	}
	/* several nodes: a cached authorisation could be stale */
	app->shared_store = store_url_is_shared(cfg->store);
	app->stores[app->nstores++] = st;	/* the main thread's */
	/* a damaged store or audit chain, or the wrong key: stop here */
	if ((r = core_startup_check(app, err, errsz)) != 0)
		return r;
	if ((r = group_new(app)) != 0) {
		snprintf(err, errsz, "%s: cannot open the store for writing "
		    "(%s)", cfg->data_dir, kw_strerror(r));
		return r;
	}
	return 0;
}

void
core_app_cleanup(struct app *app)
{
	size_t i;

	group_free(app->group);
	app->group = NULL;
	for (i = 0; i < app->nstores; i++)
		store_close(app->stores[i]);
	app->nstores = 0;
	crypto_keys_free(app->keys);
	app->keys = NULL;
	app->notify.keys = NULL;
	pthread_mutex_destroy(&app->stores_lock);
}

/*
 * One store connection per HTTP worker thread, opened on first use and
 * remembered in app->stores so cleanup can close it.  A thread that ends
 * (the listener restarts on a certificate reload) closes its own and
 * gives its place back.
 */
static _Thread_local struct store *tl_store;
static _Thread_local const struct app *tl_owner;
static pthread_key_t	tl_key;
static pthread_once_t	tl_once = PTHREAD_ONCE_INIT;

struct tl_conn {
	struct app	*app;
	struct store	*st;
};

static void
tl_release(void *arg)
{
	struct tl_conn	*t = arg;
	struct app	*app = t->app;
	size_t		 i;

	pthread_mutex_lock(&app->stores_lock);
	for (i = 0; i < app->nstores; i++)
		if (app->stores[i] == t->st) {
			app->stores[i] = app->stores[--app->nstores];
			store_close(t->st);
			break;
		}
	pthread_mutex_unlock(&app->stores_lock);
	free(t);
}

static void
tl_key_make(void)
{
	pthread_key_create(&tl_key, tl_release);
}

struct store *
core_store(struct app *app)
{
	struct store	*st;
	struct tl_conn	*t;

	if (tl_store != NULL && tl_owner == app)
		return tl_store;
	pthread_once(&tl_once, tl_key_make);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	pthread_mutex_lock(&app->stores_lock);
	if (app->nstores >= APP_STORES_MAX ||
	    store_open_url(app->cfg.store, app->cfg.data_dir, 0, &st) != 0)
		st = NULL;
	else
		app->stores[app->nstores++] = st;
	pthread_mutex_unlock(&app->stores_lock);
	if (st == NULL) {
		free(t);
		log_msg("error", "cannot open a store connection");
		return NULL;
	}
	t->app = app;
	t->st = st;
	free(pthread_getspecific(tl_key));	/* an earlier app's, gone */
	pthread_setspecific(tl_key, t);
	tl_store = st;
	tl_owner = app;
	return st;
}

/* The group commit's state (see app.h). */
#define GROUP_MAX	64		/* changes per commit at most */
#define GROUP_RING	256		/* outcomes remembered */

struct group {
	pthread_mutex_t	 lock;		/* held from begin to end */
	atomic_int	 waiting;	/* threads queued to begin */
	struct store	*writer;
	void		(*on_commit)(void *);
	void		*on_commit_arg;
	int		 open;		/* a transaction is open */
	uint64_t	 seq;		/* the open (or last) group */
	int		 members;	/* changes kept in the open group */
	/* the outcomes, under their own lock: a member waits for its
	 * group's without holding lock, which the next group's first
	 * member may hold while it waits for the store's write lock */
	pthread_mutex_t	 done_lock;
	pthread_cond_t	 committed;
	uint64_t	 done;		/* the last group committed */
	int		 result[GROUP_RING];
};

static int
group_new(struct app *app)
{
	struct group *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return KW_ERR_NOMEM;
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_init(&g->done_lock, NULL);
	pthread_cond_init(&g->committed, NULL);
	g->on_commit = app->on_commit;
	g->on_commit_arg = app->on_commit_arg;
	app->group = g;
	return store_open_url(app->cfg.store, app->cfg.data_dir, 0,
	    &g->writer);
}

static void
group_free(struct group *g)
{
	if (g == NULL)
		return;
	store_close(g->writer);
	pthread_cond_destroy(&g->committed);
	pthread_mutex_destroy(&g->done_lock);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* Commit the open group (roll back an empty one) and tell its members;
 * called with g->lock held.  The on_commit hook runs before anyone learns
 * of it, when the group wrote what an authentication rests on (the
 * API's authentication cache: roles, activity or tokens may have
 * changed; store_auth_touched). */
static void
group_close(struct group *g)
{
	int rc = 0;

	if (g->members > 0) {
		rc = store_commit(g->writer);
		if (g->on_commit != NULL && store_auth_touched(g->writer))
			g->on_commit(g->on_commit_arg);
	} else
		store_rollback(g->writer);
	g->open = 0;
	pthread_mutex_lock(&g->done_lock);
	g->result[g->seq % GROUP_RING] = rc;
	g->done = g->seq;
	pthread_cond_broadcast(&g->committed);
	pthread_mutex_unlock(&g->done_lock);
}

int
core_write_begin(struct app *app, struct store **w)
{
	struct group	*g = app->group;
	int		 r;

	atomic_fetch_add(&g->waiting, 1);
	pthread_mutex_lock(&g->lock);
	atomic_fetch_sub(&g->waiting, 1);
	if (!g->open) {
		if ((r = store_begin(g->writer)) != 0)
			goto fail;
		g->open = 1;
		g->seq++;
		g->members = 0;
	}
	if ((r = store_savepoint(g->writer)) != 0)
		goto fail;
	*w = g->writer;
	return 0;
 fail:
	/* close the open group for those already in it: nobody else may
	 * be coming to commit it */
	if (g->open)
		group_close(g);
	pthread_mutex_unlock(&g->lock);
	return KW_ERR_UNAVAILABLE;
}

int
core_write_end(struct app *app, int r)
{
	struct group	*g = app->group;
	uint64_t	 mine = g->seq;
	int		 rc;

	if (r == 0 && store_release(g->writer) != 0)
		r = KW_ERR_UNAVAILABLE;
	if (r != 0)
		store_rollback_to(g->writer);
	else
		g->members++;
	/* the last of a burst (or a full group) commits for everyone; the
	 * others let the next member in and wait for that commit */
	if (atomic_load(&g->waiting) == 0 || g->members >= GROUP_MAX)
		group_close(g);
	pthread_mutex_unlock(&g->lock);
	pthread_mutex_lock(&g->done_lock);
	while (g->done < mine)
		pthread_cond_wait(&g->committed, &g->done_lock);
	rc = g->result[mine % GROUP_RING];
	pthread_mutex_unlock(&g->done_lock);
	if (r == 0 && rc != 0)
		r = KW_ERR_UNAVAILABLE;
	return r;
}

int
core_tx_begin(struct app *app, struct actor *a, struct store **w,
    struct kw_fail *f)
{
	int r;

	if (core_write_begin(app, w) != 0)
		return kw_fail(f, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be written; nothing was changed");
	if (a->current == NULL || (r = a->current(a, *w, f)) == 0)
		return 0;
	core_write_end(app, r);		/* nothing was done: undone */
	*w = NULL;
	if (a->refused != NULL)
		a->refused(a, r, f);
	return r;
}

int
core_tx_end(struct app *app, int r, struct kw_fail *f)
{
	int rc = core_write_end(app, r);

	if (r == 0 && rc != 0)
		r = kw_fail(f, KW_ERR_UNAVAILABLE, NULL,
		    "the change could not be committed; nothing was changed");
	return r;
}

int
core_audit(struct store *w, const struct actor *a, const char *action,
    const char *subject, json_t *details, struct kw_fail *f)
{
	if (audit_append(w, a->name[0] ? a->name : "anonymous", action,
	    subject, details) != 0)
		return kw_fail(f, KW_ERR_UNAVAILABLE, NULL,
		    "the audit log cannot be written; nothing was changed");
	return 0;
}

int
core_store_fail(int r, const char *what, const char *key, struct kw_fail *f)
{
	switch (r) {
	case KW_ERR_NOT_FOUND:
		return kw_fail(f, r, NULL, "no %s '%.200s'", what, key);
	case KW_ERR_CONFLICT:
		return kw_fail(f, r, NULL, "a %s '%.200s' already exists",
		    what, key);
	case KW_ERR_NOMEM:
	case KW_ERR_UNAVAILABLE:
		return kw_fail(f, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be used right now; nothing was changed");
	default:
		return r;
	}
}
