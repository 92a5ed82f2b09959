/*
 * store.c — the backend-neutral face of the store: picks a backend and
 * forwards each call to it.
 */
#include <stdlib.h>

#include "kw.h"
#include "store/backend.h"

struct store {
	const struct store_ops	*ops;
	void			*ctx;
};

int
store_open(const char *dir, int flags, struct store **out)
{
	struct store	*st;
	int		 r;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return KW_ERR_NOMEM;
	st->ops = &store_sqlite_ops;
	if ((r = st->ops->open(dir, flags, &st->ctx)) != 0) {
		free(st);
		return r;
	}
	*out = st;
	return 0;
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
int store_begin(struct store *st) { return st->ops->begin(st->ctx); }
int store_commit(struct store *st) { return st->ops->commit(st->ctx); }
void store_rollback(struct store *st) { st->ops->rollback(st->ctx); }
int store_savepoint(struct store *st) { return st->ops->savepoint(st->ctx); }
int store_release(struct store *st) { return st->ops->release(st->ctx); }
void store_rollback_to(struct store *st) { st->ops->rollback_to(st->ctx); }

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
store_outbox_claim(struct store *st, const char *now, const char *lease_until,
    size_t limit, store_outbox_cb cb, void *arg)
{
	return st->ops->outbox_claim(st->ctx, now, lease_until, limit, cb, arg);
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
