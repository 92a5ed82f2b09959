/*
 * app.h — the core's context and its actors.
 *
 * The core (src/core/) is keywarden's workflow: requests and their state
 * machine, issuance and reconciliation, credentials, jobs, legacy sync,
 * people's lifecycle.  Every front door (the HTTP API and web UI, Slack
 * interactions, SCIM, the CLI's offline commands, the background jobs)
 * calls the same core functions with an actor saying who acts and
 * through which door; core functions never see HTTP.  They return 0 or a
 * KW_ERR_* and, when a person must read why, fill a struct kw_fail (kw.h)
 * that the door renders (a JSON error, a Slack reply, a CLI line).
 *
 * Dependency order (scripts/check-includes enforces it):
 *   http -> api -> core -> {policy, provider, notify, audit, store, crypto}
 */
#ifndef KW_CORE_APP_H
#define KW_CORE_APP_H

#include <pthread.h>

#include <jansson.h>

#include "config.h"
#include "kw.h"
#include "limits.h"
#include "notify/notify.h"
#include "store/store.h"
#include "util/addr.h"

struct authcache;
struct group;
struct oidc;
struct crypto_keys;
struct throttle;

#define APP_STORES_MAX	(KW_THREADS_MAX + KW_CALLOUT_WORKERS_MAX + 8)

/* The application context: configuration, keys, store connections and
 * the group commit; then what the front doors keep (the core never
 * touches those). */
struct app {
	struct config		 cfg;
	char			 public_url[KW_URL_MAX + 1];
	struct crypto_keys	*keys;
	struct notify_env	 notify;	/* keys, public_url for notify/ */
	pthread_mutex_t		 stores_lock;	/* guards stores[] */
	struct group		*group;		/* writes: group commit */
	struct store		*stores[APP_STORES_MAX];
	size_t			 nstores;
	/* called after a group commit that wrote what an authentication
	 * rests on (store_auth_touched), before anyone learns of it (the
	 * API empties its authentication cache); may be NULL */
	void			(*on_commit)(void *);
	void			*on_commit_arg;
	int			 shared_store;	/* PostgreSQL: other nodes
						   write too */

	/* the front doors' state (api/) */
	struct throttle		*throttle;
	struct authcache	*authcache;	/* watched when shared_store */
	struct oidc		*oidc;		/* NULL: no [oidc] section */
	struct addr_list	 proxies;	/* trusted_proxies, parsed */
	char			 metrics_token[KW_METRICS_TOKEN_MAX + 1];
					/* "" = /metrics on loopback only */
};

/* The door an actor comes through (recorded with what they do). */
enum door {
	DOOR_API,	/* the HTTP API: a bearer token */
	DOOR_WEB,	/* the web UI: a session cookie */
	DOOR_SLACK,	/* a Slack interaction */
	DOOR_SCIM,	/* an identity provider */
	DOOR_CLI,	/* an offline CLI command on the data directory */
	DOOR_JOB,	/* keywarden itself: jobs, reconciliation */
};

/*
 * Who acts.  person is the acting person (roles, teams, manager) for
 * the API, the web UI and Slack; for SCIM, the CLI and jobs it is empty
 * (no roles) and name alone says who acts ("scim:<token id>", "system",
 * "keywarden").  name is what the audit log records as the actor.
 *
 * current, when set, is the door's check that the actor may still act,
 * run inside the write transaction on the writer before anything
 * changes (the API re-reads the caller's token, activity and roles
 * there, never from a cache); it may refresh person.  0 to go on, else
 * an error with f filled.  refused, when set, is then called after the
 * transaction ended (the API records a lost role in the audit log).
 */
struct actor {
	enum door	 door;
	struct person	 person;
	char		 name[KW_EMAIL_MAX + 1];
	int		(*current)(struct actor *, struct store *w,
			    struct kw_fail *f);
	void		(*refused)(struct actor *, int err,
			    const struct kw_fail *f);
	void		*door_arg;	/* the door's, for current */
};

/* An actor for keywarden itself (jobs, reconciliation, the CLI offline):
 * no person, no check. */
void	 actor_system(struct actor *a, enum door door, const char *name);
/* 1 if the actor is a person with one of the role bits. */
int	 actor_has_role(const struct actor *a, unsigned roles);

/*
 * Prepare app's core from a validated configuration: load the master key
 * of cfg->data_dir, open (and migrate) the store, check it (core/startup.h)
 * and open the writer.  0 or a KW_ERR_* with a message in err.
 */
int	 core_app_init(struct app *app, const struct config *cfg, char *err,
	    size_t errsz);
/* Close every store connection and free the keys. */
void	 core_app_cleanup(struct app *app);

/* This thread's store connection (opened on first use), or NULL. */
struct store *core_store(struct app *app);

/*
 * Writes, committed in groups.  core_write_begin() hands out the shared
 * writer connection, inside a transaction that several changes join one
 * after the other (each in its own savepoint); the last of a burst
 * commits them all with one fsync, and every member learns the outcome
 * before going on.  Each member's change still commits with its own
 * audit event or not at all; a member whose change fails is rolled back
 * alone (on PostgreSQL, an append that fails once its member is done,
 * which only a server in trouble does, fails the whole group: every
 * member is told so).  *w is the caller's until core_write_end(app, r), which keeps
 * (r == 0) or undoes the change, waits for the commit and returns r or
 * KW_ERR_UNAVAILABLE.  Never nest.
 */
int	 core_write_begin(struct app *app, struct store **w);
int	 core_write_end(struct app *app, int r);

/*
 * The same for an actor's change: after core_write_begin, the actor's
 * door checks it may still act (actor->current).  0, or
 * KW_ERR_UNAVAILABLE / the check's error with f filled and the
 * transaction already ended (do not call core_tx_end then).
 * core_tx_end keeps or undoes (r), waits for the commit, and returns r,
 * or KW_ERR_UNAVAILABLE (f filled) when the commit failed.
 */
int	 core_tx_begin(struct app *app, struct actor *a, struct store **w,
	    struct kw_fail *f);
int	 core_tx_end(struct app *app, int r, struct kw_fail *f);

/* Append an audit event by actor a (inside a transaction; details
 * consumed); a failure is KW_ERR_UNAVAILABLE with f filled. */
int	 core_audit(struct store *w, const struct actor *a, const char *action,
	    const char *subject, json_t *details, struct kw_fail *f);

/* Map a store error r about the object what (key: its id or name) to a
 * message in f; returns r. */
int	 core_store_fail(int r, const char *what, const char *key,
	    struct kw_fail *f);

#endif /* KW_CORE_APP_H */
