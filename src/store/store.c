/*
 * store.c — the backend-neutral face of the store: picks a backend and
 * forwards each call to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "store/backend.h"
#include "util/util.h"

struct store {
	const struct store_ops	*ops;
	void			*ctx;
};

/* The backends a store URL can name, by prefix; the first entry is
 * the default.  where: what the backend's open() gets: the data
 * directory, the text after the prefix, or the whole URL. */
enum where { W_DIR, W_REST, W_URL };
static const struct backend_url {
	const char		*prefix;
	int			 exact;	/* the whole url, not a prefix */
	enum where		 where;
	const struct store_ops	*ops;
} backend_urls[] = {
	{ "",			1, W_DIR,  &store_sqlite_ops },
	{ "sqlite",		1, W_DIR,  &store_sqlite_ops },
	{ "sqlite:",		0, W_REST, &store_sqlite_ops },
	{ "postgresql://",	0, W_URL,  &store_postgres_ops },
	{ "postgres://",	0, W_URL,  &store_postgres_ops },
};

static const struct backend_url *
backend_for(const char *url)
{
	size_t i, n;

	if (url == NULL)
		url = "";
	for (i = 0; i < KW_NELEM(backend_urls); i++) {
		n = strlen(backend_urls[i].prefix);
		if (backend_urls[i].exact ? strcmp(url, backend_urls[i].prefix)
		    == 0 : strncmp(url, backend_urls[i].prefix, n) == 0)
			return &backend_urls[i];
	}
	return NULL;
}

int
store_url_valid(const char *url)
{
	return backend_for(url) != NULL;
}

void
store_url_redact(const char *url, char *out, size_t outsz)
{
	const char	*auth, *at, *colon, *pw;
	size_t		 n;

	kw_strlcpy(out, url, outsz);
	/* scheme://user:password@host...: the password's span */
	if ((auth = strstr(url, "://")) != NULL) {
		auth += 3;
		n = strcspn(auth, "/?");
		if ((at = memchr(auth, '@', n)) != NULL &&
		    (colon = memchr(auth, ':', (size_t)(at - auth))) != NULL &&
		    (size_t)(colon + 1 - url) < outsz)
			snprintf(out + (colon + 1 - url), outsz - (size_t)(
			    colon + 1 - url), "***%s", at);
	}
	/* ...?password=...: everything after it goes */
	if ((pw = strstr(out, "password=")) != NULL)
		kw_strlcpy((char *)pw + 9, "***", outsz - (size_t)(pw + 9 -
		    out));
}

int
store_url_is_shared(const char *url)
{
	const struct backend_url *b = backend_for(url);

	return b != NULL && b->ops == &store_postgres_ops;
}

int
store_open_url(const char *url, const char *dir, int flags,
    struct store **out)
{
	const struct backend_url	*b;
	struct store			*st;
	const char			*where;
	int				 r;

	*out = NULL;
	if ((b = backend_for(url)) == NULL)
		return KW_ERR_CONFIG;
	where = b->where == W_DIR ? dir : b->where == W_REST ?
	    url + strlen(b->prefix) : url;
	if (where == NULL || where[0] == '\0')
		return KW_ERR_CONFIG;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return KW_ERR_NOMEM;
	st->ops = b->ops;
	if ((r = st->ops->open(where, flags, &st->ctx)) != 0) {
		free(st);
		return r;
	}
	*out = st;
	return 0;
}

int
store_open(const char *dir, int flags, struct store **out)
{
	return store_open_url(NULL, dir, flags, out);
}

int
store_open_file(const char *path, int flags, struct store **out)
{
	struct store	*st;
	int		 r;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return KW_ERR_NOMEM;
	st->ops = &store_sqlite_ops;
	if ((r = st->ops->open_file(path, flags, &st->ctx)) != 0) {
		free(st);
		return r;
	}
	*out = st;
	return 0;
}

int
store_backup(struct store *st, const char *path, int64_t *seq,
    char hash[KW_HASH_HEX_LEN + 1])
{
	return st->ops->backup(st->ctx, path, seq, hash);
}

int
store_replace(const char *dir, const char *staged, const char *suffix,
    char *aside, size_t asidesz)
{
	return store_sqlite_ops.replace(dir, staged, suffix, aside, asidesz);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st->ctx);
	free(st);
}

int store_schema_version(struct store *st) { return st->ops->schema_version(st->ctx); }
int store_check(struct store *st, char *why, size_t whysz) { return st->ops->check(st->ctx, why, whysz); }
const char *store_backend(const struct store *st) { return st->ops->name; }
int store_lock_jobs(struct store *st) { return st->ops->lock_jobs(st->ctx); }
void store_unlock_jobs(struct store *st) { st->ops->unlock_jobs(st->ctx); }
int store_claim(struct store *st, const char *key) { return st->ops->claim(st->ctx, key); }
void store_unclaim(struct store *st, const char *key) { st->ops->unclaim(st->ctx, key); }

int
store_watch(struct store *st, int timeout_ms)
{
	if (st->ops->watch == NULL)
		return KW_ERR_UNAVAILABLE;
	return st->ops->watch(st->ctx, timeout_ms);
}
int store_begin(struct store *st) { return st->ops->begin(st->ctx); }
int store_commit(struct store *st) { return st->ops->commit(st->ctx); }
void store_rollback(struct store *st) { st->ops->rollback(st->ctx); }
int store_savepoint(struct store *st) { return st->ops->savepoint(st->ctx); }
int store_release(struct store *st) { return st->ops->release(st->ctx); }
void store_rollback_to(struct store *st) { st->ops->rollback_to(st->ctx); }
int store_auth_touched(struct store *st) { return st->ops->auth_touched(st->ctx); }

int
store_person_insert(struct store *st, const struct person *p)
{
	return st->ops->person_insert(st->ctx, p);
}

int
store_person_update(struct store *st, const struct person *p)
{
	return st->ops->person_update(st->ctx, p);
}

int
store_person_get(struct store *st, const char *key, struct person *p)
{
	return st->ops->person_get(st->ctx, key, p);
}

int
store_person_each(struct store *st, int64_t after, size_t limit,
    store_person_cb cb, void *arg)
{
	return st->ops->person_each(st->ctx, after, limit, cb, arg);
}

int
store_token_insert(struct store *st, const struct token_rec *t)
{
	return st->ops->token_insert(st->ctx, t);
}

int
store_token_find(struct store *st, const unsigned char hash[KW_HASH_LEN],
    struct token_rec *t, struct person *owner)
{
	return st->ops->token_find(st->ctx, hash, t, owner);
}

int
store_token_revoke_person(struct store *st, const char *person_id,
    const char *at, int *n)
{
	return st->ops->token_revoke_person(st->ctx, person_id, at, n);
}

int
store_token_each(struct store *st, const char *person_id, store_token_cb cb,
    void *arg)
{
	return st->ops->token_each(st->ctx, person_id, cb, arg);
}

int
store_token_revoke(struct store *st, const char *person_id, const char *id,
    const char *at)
{
	return st->ops->token_revoke(st->ctx, person_id, id, at);
}

int
store_token_touch(struct store *st, const char *id, const char *at)
{
	return st->ops->token_touch(st->ctx, id, at);
}

int
store_token_expiring(struct store *st, const char *before, const char *now,
    size_t limit, store_token_cb cb, void *arg)
{
	return st->ops->token_expiring(st->ctx, before, now, limit, cb, arg);
}

int
store_token_warned(struct store *st, const char *id, const char *at)
{
	return st->ops->token_warned(st->ctx, id, at);
}

int
store_session_insert(struct store *st, const struct session_rec *se)
{
	return st->ops->session_insert(st->ctx, se);
}

int
store_session_find(struct store *st, const unsigned char hash[KW_HASH_LEN],
    struct session_rec *se, struct person *owner)
{
	return st->ops->session_find(st->ctx, hash, se, owner);
}

int
store_session_touch(struct store *st, const char *id, const char *at)
{
	return st->ops->session_touch(st->ctx, id, at);
}

int
store_session_delete(struct store *st, const char *id)
{
	return st->ops->session_delete(st->ctx, id);
}

int
store_session_delete_person(struct store *st, const char *person_id, int *n)
{
	return st->ops->session_delete_person(st->ctx, person_id, n);
}

int
store_session_purge(struct store *st, const char *now,
    const char *idle_before, int *n)
{
	return st->ops->session_purge(st->ctx, now, idle_before, n);
}

int
store_instance_insert(struct store *st, const struct instance *in)
{
	return st->ops->instance_insert(st->ctx, in);
}

int
store_instance_update(struct store *st, const struct instance *in)
{
	return st->ops->instance_update(st->ctx, in);
}

int
store_instance_get(struct store *st, const char *key, struct instance *in)
{
	return st->ops->instance_get(st->ctx, key, in);
}

int
store_instance_each(struct store *st, int64_t after, size_t limit,
    store_instance_cb cb, void *arg)
{
	return st->ops->instance_each(st->ctx, after, limit, cb, arg);
}

int
store_request_insert(struct store *st, const struct request *rq)
{
	return st->ops->request_insert(st->ctx, rq);
}

int
store_request_transition(struct store *st, const struct request *rq,
    enum req_state from)
{
	return st->ops->request_transition(st->ctx, rq, from);
}

int
store_request_get(struct store *st, const char *id, struct request *rq)
{
	return st->ops->request_get(st->ctx, id, rq);
}

int
store_request_each(struct store *st, const struct request_filter *f,
    int64_t after, size_t limit, store_request_cb cb, void *arg)
{
	return st->ops->request_each(st->ctx, f, after, limit, cb, arg);
}

int
store_history_append(struct store *st, const char *request_id,
    const struct history_entry *h)
{
	return st->ops->history_append(st->ctx, request_id, h);
}

int
store_history_each(struct store *st, const char *request_id,
    store_history_cb cb, void *arg)
{
	return st->ops->history_each(st->ctx, request_id, cb, arg);
}

int
store_credential_insert(struct store *st, const struct credential *c)
{
	return st->ops->credential_insert(st->ctx, c);
}

int
store_credential_update(struct store *st, const struct credential *c)
{
	return st->ops->credential_update(st->ctx, c);
}

int
store_credential_get(struct store *st, const char *id, struct credential *c)
{
	return st->ops->credential_get(st->ctx, id, c);
}

int
store_credential_each(struct store *st, const struct credential_filter *f,
    int64_t after, size_t limit, store_credential_cb cb, void *arg)
{
	return st->ops->credential_each(st->ctx, f, after, limit, cb, arg);
}

int
store_credential_due(struct store *st, enum cred_due due, const char *before,
    int64_t after, size_t limit, store_credential_cb cb, void *arg)
{
	return st->ops->credential_due(st->ctx, due, before, after, limit, cb,
	    arg);
}

int
store_credential_by_key(struct store *st, const char *instance_id,
    const char *key, struct credential *c)
{
	return st->ops->credential_by_key(st->ctx, instance_id, key, c);
}

int
store_request_due(struct store *st, const char *before, int64_t after,
    size_t limit, store_request_cb cb, void *arg)
{
	return st->ops->request_due(st->ctx, before, after, limit, cb, arg);
}

int
store_person_by_slack(struct store *st, const char *slack_id, struct person *p)
{
	return st->ops->person_by_slack(st->ctx, slack_id, p);
}

int
store_warning_add(struct store *st, const char *credential_id, int threshold,
    const char *at)
{
	return st->ops->warning_add(st->ctx, credential_id, threshold, at);
}

int
store_setting_get(struct store *st, const char *key, char *value,
    size_t valuesz, unsigned char *sealed, size_t sealedsz, size_t *sealed_len)
{
	return st->ops->setting_get(st->ctx, key, value, valuesz, sealed,
	    sealedsz, sealed_len);
}

int
store_setting_put(struct store *st, const char *key, const char *value,
    const unsigned char *sealed, size_t sealed_len, const char *at)
{
	return st->ops->setting_put(st->ctx, key, value, sealed, sealed_len, at);
}

int
store_outbox_insert(struct store *st, const struct outbox_msg *m)
{
	return st->ops->outbox_insert(st->ctx, m);
}

int
store_outbox_claim(struct store *st, const char *due, const char *now,
    const char *lease_until, size_t limit, store_outbox_cb cb, void *arg)
{
	return st->ops->outbox_claim(st->ctx, due, now, lease_until, limit, cb,
	    arg);
}

int
store_outbox_sent(struct store *st, const char *id, const char *at)
{
	return st->ops->outbox_sent(st->ctx, id, at);
}

int
store_outbox_retry(struct store *st, const char *id, const char *next,
    const char *error)
{
	return st->ops->outbox_retry(st->ctx, id, next, error);
}

int
store_outbox_fail(struct store *st, const char *id, const char *at,
    const char *error)
{
	return st->ops->outbox_fail(st->ctx, id, at, error);
}

int
store_outbox_pending(struct store *st, int64_t *n)
{
	return st->ops->outbox_pending(st->ctx, n);
}

int
store_stats(struct store *st, struct store_stats *out)
{
	return st->ops->stats(st->ctx, out);
}

int
store_replay_check(struct store *st, const char *signature, const char *at,
    const char *before)
{
	return st->ops->replay_check(st->ctx, signature, at, before);
}

int
store_audit_head(struct store *st, int64_t *seq, char hash[KW_HASH_HEX_LEN + 1])
{
	return st->ops->audit_head(st->ctx, seq, hash);
}

int
store_audit_insert(struct store *st, const struct audit_event *ev)
{
	return st->ops->audit_insert(st->ctx, ev);
}

int
store_audit_each(struct store *st, int64_t after, size_t limit,
    store_audit_cb cb, void *arg)
{
	return st->ops->audit_each(st->ctx, after, limit, cb, arg);
}

/*
 * The tables `store copy` moves, parents before the rows that refer to
 * them.  A table the source holds that is not here stops the copy (a
 * new table needs its entry: nothing is ever left behind silently).
 */
static const struct store_table copy_tables[] = {
	{ "people", "id", 4, 14, { "seq", "id", "email", "name", "manager_id",
	    "roles", "teams", "slack_user_id", "active", "created_at",
	    "updated_at", "external_id", "managed_by", "scim_deleted_at" } },
	{ "tokens", NULL, -1, 9, { "id", "person_id", "hash", "created_at",
	    "revoked_at", "label", "expires_at", "last_used_at",
	    "warned_at" } },
	{ "scim_tokens", NULL, -1, 6, { "seq", "id", "label", "hash",
	    "created_at", "last_used_at" } },
	{ "sessions", NULL, -1, 7, { "id", "person_id", "hash", "method",
	    "created_at", "expires_at", "last_seen_at" } },
	{ "instances", NULL, -1, 22, { "seq", "id", "name", "display_name",
	    "provider", "url", "allow_integrations", "issuance",
	    "allowed_scopes", "max_lifetime_days", "rotation_days",
	    "grace_days", "bot_email", "bot_sealed", "created_at",
	    "updated_at", "warn_days", "default_delivery",
	    "allowed_deliveries", "max_access_ttl", "bot_client_id",
	    "bot_expires_at" } },
	{ "instance_provisioners", NULL, -1, 3, { "instance_id", "pos",
	    "person_id" } },
	{ "requests", NULL, -1, 20, { "seq", "id", "instance_id", "kind",
	    "state", "purpose", "requester_id", "manager_approver_id",
	    "justification", "use_case", "scopes", "lifetime_days",
	    "access_request_url", "link", "integration", "credential_id",
	    "created_at", "updated_at", "expires_at", "delivery_mode" } },
	{ "request_history", NULL, -1, 6, { "request_id", "pos", "at",
	    "actor", "action", "comment" } },
	{ "credentials", NULL, -1, 28, { "seq", "id", "instance_id", "kind",
	    "owner_id", "request_id", "purpose", "name", "scopes", "state",
	    "created_at", "expires_at", "last_used_at", "revoked_at",
	    "revoke_reason", "external", "fingerprint", "delivery",
	    "delivery_expires_at", "sealed", "rotated_from", "rotated_to",
	    "lifetime_days", "grace_until", "replacement_id",
	    "external_key", "delivery_mode", "broker_sealed" } },
	{ "bound_tokens", NULL, -1, 7, { "id", "credential_id", "label",
	    "hash", "created_at", "last_used_at", "revoked_at" } },
	{ "credential_warnings", NULL, -1, 3, { "credential_id",
	    "threshold_days", "warned_at" } },
	{ "settings", NULL, -1, 4, { "key", "value", "sealed",
	    "updated_at" } },
	{ "outbox", NULL, -1, 13, { "seq", "id", "channel", "recipient",
	    "kind", "payload", "attempts", "created_at", "next_attempt_at",
	    "claimed_until", "sent_at", "last_error", "failed_at" } },
	{ "slack_replays", NULL, -1, 2, { "signature", "seen_at" } },
	{ "audit_events", NULL, -1, 8, { "seq", "at", "actor", "action",
	    "subject", "details", "prev_hash", "hash" } },
};

struct copy {
	struct store	*to;
	int64_t		 rows;
	char		*unknown;	/* a source table not in the list */
	size_t		 unknownsz;
};

static int
copy_known(const char *name, void *arg)
{
	struct copy	*c = arg;
	size_t		 i;

	for (i = 0; i < KW_NELEM(copy_tables); i++)
		if (strcmp(copy_tables[i].name, name) == 0)
			return 0;
	kw_strlcpy(c->unknown, name, c->unknownsz);
	return KW_ERR_CONFIG;
}

static int
copy_row(const struct store_table *t, const struct store_value *v, void *arg)
{
	struct copy *c = arg;

	c->rows++;
	return c->to->ops->row_insert(c->to->ctx, t, v);
}

static int
copy_late(const struct store_table *t, const struct store_value *v, void *arg)
{
	struct copy	*c = arg;
	size_t		 k;

	if (v[t->late].type == SV_NULL)
		return 0;
	for (k = 0; k < t->ncols && strcmp(t->cols[k], t->key) != 0; k++)
		;
	if (k == t->ncols)
		return KW_ERR_INTERNAL;
	return c->to->ops->row_late(c->to->ctx, t, &v[k], &v[t->late]);
}

int
store_copy(struct store *from, struct store *to, int64_t *rows,
    char *unknown, size_t unknownsz)
{
	struct copy	c = { to, 0, unknown, unknownsz };
	size_t		i;
	int		r;

	*rows = 0;
	unknown[0] = '\0';
	if (from->ops->rows_each == NULL || to->ops->row_insert == NULL)
		return KW_ERR_CONFIG;
	if ((r = from->ops->tables_each(from->ctx, copy_known, &c)) != 0)
		return r;
	/* one instant of the source (its writers wait), one transaction
	 * of the target: all or nothing */
	if ((r = store_begin(from)) != 0)
		return r;
	if ((r = store_begin(to)) != 0)
		goto out;
	for (i = 0; r == 0 && i < KW_NELEM(copy_tables); i++)
		r = from->ops->rows_each(from->ctx, &copy_tables[i], copy_row,
		    &c);
	for (i = 0; r == 0 && i < KW_NELEM(copy_tables); i++)
		if (copy_tables[i].late >= 0)
			r = from->ops->rows_each(from->ctx, &copy_tables[i],
			    copy_late, &c);
	for (i = 0; r == 0 && i < KW_NELEM(copy_tables); i++)
		r = to->ops->copy_done(to->ctx, &copy_tables[i]);
	if (r == 0)
		r = store_commit(to);
	else
		store_rollback(to);
 out:
	store_rollback(from);
	*rows = c.rows;
	return r;
}

int
store_person_scim_count(struct store *st, int64_t *n)
{
	return st->ops->person_scim_count(st->ctx, n);
}

int
store_person_scim_page(struct store *st, int64_t offset, size_t limit,
    store_person_cb cb, void *arg)
{
	return st->ops->person_scim_page(st->ctx, offset, limit, cb, arg);
}

int
store_scim_token_insert(struct store *st, const struct scim_token *t)
{
	return st->ops->scim_token_insert(st->ctx, t);
}

int
store_scim_token_find(struct store *st, const unsigned char hash[KW_HASH_LEN],
    struct scim_token *t)
{
	return st->ops->scim_token_find(st->ctx, hash, t);
}

int
store_scim_token_each(struct store *st, store_scim_token_cb cb, void *arg)
{
	return st->ops->scim_token_each(st->ctx, cb, arg);
}

int
store_scim_token_delete(struct store *st, const char *id)
{
	return st->ops->scim_token_delete(st->ctx, id);
}

int
store_scim_token_used(struct store *st, const char *id, const char *at)
{
	return st->ops->scim_token_used(st->ctx, id, at);
}

int
store_bound_insert(struct store *st, const struct bound_token *b)
{
	return st->ops->bound_insert(st->ctx, b);
}

int
store_bound_find(struct store *st, const unsigned char hash[KW_HASH_LEN],
    struct bound_token *b, struct person *owner)
{
	return st->ops->bound_find(st->ctx, hash, b, owner);
}

int
store_bound_each(struct store *st, const char *credential_id,
    store_bound_cb cb, void *arg)
{
	return st->ops->bound_each(st->ctx, credential_id, cb, arg);
}

int
store_bound_revoke(struct store *st, const char *credential_id,
    const char *id, const char *at)
{
	return st->ops->bound_revoke(st->ctx, credential_id, id, at);
}

int
store_bound_used(struct store *st, const char *id, const char *at)
{
	return st->ops->bound_used(st->ctx, id, at);
}

/* A backend without audit_scan: audit_each page by page, each event
 * handed on as a row. */
struct scan_each {
	int64_t			 upto, last;
	int			 past;		/* read beyond upto */
	store_audit_row_cb	 cb;
	void			*arg;
};

static int
scan_each_one(const struct audit_event *ev, void *arg)
{
	struct scan_each	*e = arg;
	struct audit_row	 row;

	if (ev->seq > e->upto) {
		e->past = 1;
		return 1;
	}
	e->last = ev->seq;
	row.seq = ev->seq;
	row.at = ev->at;
	row.actor = ev->actor;
	row.action = ev->action;
	row.subject = ev->subject;
	row.details = ev->details;
	row.prev_hash = ev->prev_hash;
	row.hash = ev->hash;
	return e->cb(&row, e->arg);
}

int
store_audit_scan(struct store *st, int64_t after, int64_t upto,
    store_audit_row_cb cb, void *arg)
{
	struct scan_each	e = { upto, after, 0, cb, arg };
	int64_t			before;
	int			r;

	if (st->ops->audit_scan != NULL)
		return st->ops->audit_scan(st->ctx, after, upto, cb, arg);
	do {
		before = e.last;
		r = st->ops->audit_each(st->ctx, e.last, 1000, scan_each_one,
		    &e);
	} while (r == 0 && e.last != before);
	return e.past ? 0 : r;
}

int
store_open_sibling(struct store *st, struct store **out)
{
	struct store	*sib;
	int		 r;

	*out = NULL;
	if (st->ops->open_sibling == NULL)
		return KW_ERR_INTERNAL;
	if ((sib = calloc(1, sizeof(*sib))) == NULL)
		return KW_ERR_NOMEM;
	sib->ops = st->ops;
	if ((r = st->ops->open_sibling(st->ctx, &sib->ctx)) != 0) {
		free(sib);
		return r;
	}
	*out = sib;
	return 0;
}
