/*
 * backend.h — what a store backend implements.  store.c dispatches every
 * store_* call through one of these tables; callers never see it.
 */
#ifndef KW_STORE_BACKEND_H
#define KW_STORE_BACKEND_H

#include "store/store.h"

/* The schema version this binary uses: every backend's numbered list of
 * migrations has this many entries (sqlite.c's migrations[] and
 * postgres.c's pg_migrations[], entry i bringing the schema to i + 1;
 * both files check it at compile time). */
#define STORE_SCHEMA_VERSION	8

/* A table as `store copy` moves it: every column, in the order both
 * backends' schemas share; late: a column (index) written in a second
 * pass, after every row is in (a reference to a row of the same table:
 * people's manager), or -1. */
#define STORE_COLS_MAX	32
struct store_table {
	const char	*name;
	const char	*key;		/* the column late updates go by */
	int		 late;
	size_t		 ncols;
	const char	*cols[STORE_COLS_MAX];
};

/* One value of a row in flight: SQL NULL, an integer, text or bytes. */
enum store_vtype { SV_NULL, SV_INT, SV_TEXT, SV_BLOB };
struct store_value {
	enum store_vtype	 type;
	int64_t			 i;
	const char		*s;	/* SV_TEXT */
	const unsigned char	*b;	/* SV_BLOB */
	size_t			 len;
};
typedef int (*store_row_cb)(const struct store_table *,
    const struct store_value *, void *);

struct store_ops {
	const char *name;
	int	(*open)(const char *dir, int flags, void **ctx);
	int	(*open_file)(const char *path, int flags, void **ctx);
	int	(*backup)(void *ctx, const char *path, int64_t *seq,
		    char *hash);
	int	(*replace)(const char *dir, const char *staged,
		    const char *suffix, char *aside, size_t asidesz);
	void	(*close)(void *ctx);
	int	(*schema_version)(void *ctx);
	int	(*check)(void *ctx, char *why, size_t whysz);
	int	(*begin)(void *ctx);
	int	(*commit)(void *ctx);
	void	(*rollback)(void *ctx);
	int	(*savepoint)(void *ctx);
	int	(*release)(void *ctx);
	void	(*rollback_to)(void *ctx);
	/* 1 if the last transaction begun ran a write that may change an
	 * authentication (store_auth_touched) */
	int	(*auth_touched)(void *ctx);
	int	(*lock_jobs)(void *ctx);
	void	(*unlock_jobs)(void *ctx);
	/* store copy: read every row of a table (the source; NULL: this
	 * backend is never a source), write one (the target; NULL: never a
	 * target), the late column of the row whose key is key, and the
	 * tables this database holds (each name to cb; 0 or an error) */
	int	(*rows_each)(void *ctx, const struct store_table *,
		    store_row_cb cb, void *arg);
	int	(*row_insert)(void *ctx, const struct store_table *,
		    const struct store_value *);
	int	(*row_late)(void *ctx, const struct store_table *,
		    const struct store_value *key,
		    const struct store_value *v);
	int	(*copy_done)(void *ctx, const struct store_table *);
	int	(*tables_each)(void *ctx, int (*cb)(const char *, void *),
		    void *arg);
	int	(*claim)(void *ctx, const char *key);
	void	(*unclaim)(void *ctx, const char *key);
	/* store_watch (NULL: one node, nothing to watch) */
	int	(*watch)(void *ctx, int timeout_ms);

	int	(*person_insert)(void *, const struct person *);
	int	(*person_update)(void *, const struct person *);
	int	(*person_get)(void *, const char *, struct person *);
	int	(*person_each)(void *, int64_t, size_t, store_person_cb, void *);

	int	(*token_insert)(void *, const struct token_rec *);
	int	(*token_find)(void *, const unsigned char *, struct token_rec *,
		    struct person *);
	int	(*token_revoke_person)(void *, const char *, const char *, int *);
	int	(*token_each)(void *, const char *, store_token_cb, void *);
	int	(*token_revoke)(void *, const char *, const char *, const char *);
	int	(*token_touch)(void *, const char *, const char *);
	int	(*token_expiring)(void *, const char *, const char *, size_t,
		    store_token_cb, void *);
	int	(*token_warned)(void *, const char *, const char *);

	int	(*session_insert)(void *, const struct session_rec *);
	int	(*session_find)(void *, const unsigned char *,
		    struct session_rec *, struct person *);
	int	(*session_touch)(void *, const char *, const char *);
	int	(*session_delete)(void *, const char *);
	int	(*session_delete_person)(void *, const char *, int *);
	int	(*session_purge)(void *, const char *, const char *, int *);

	int	(*person_scim_count)(void *, int64_t *);
	int	(*person_scim_page)(void *, int64_t, size_t, store_person_cb,
		    void *);
	int	(*scim_token_insert)(void *, const struct scim_token *);
	int	(*scim_token_find)(void *, const unsigned char *,
		    struct scim_token *);
	int	(*scim_token_each)(void *, store_scim_token_cb, void *);
	int	(*scim_token_delete)(void *, const char *);
	int	(*scim_token_used)(void *, const char *, const char *);

	int	(*instance_insert)(void *, const struct instance *);
	int	(*instance_update)(void *, const struct instance *);
	int	(*instance_get)(void *, const char *, struct instance *);
	int	(*instance_each)(void *, int64_t, size_t, store_instance_cb,
		    void *);

	int	(*request_insert)(void *, const struct request *);
	int	(*request_transition)(void *, const struct request *,
		    enum req_state);
	int	(*request_get)(void *, const char *, struct request *);
	int	(*request_each)(void *, const struct request_filter *, int64_t,
		    size_t, store_request_cb, void *);
	int	(*history_append)(void *, const char *,
		    const struct history_entry *);
	int	(*history_each)(void *, const char *, store_history_cb, void *);

	int	(*credential_insert)(void *, const struct credential *);
	int	(*credential_update)(void *, const struct credential *);
	int	(*credential_get)(void *, const char *, struct credential *);
	int	(*credential_each)(void *, const struct credential_filter *,
		    int64_t, size_t, store_credential_cb, void *);

	int	(*credential_due)(void *, enum cred_due, const char *, int64_t,
		    size_t, store_credential_cb, void *);
	int	(*credential_by_key)(void *, const char *, const char *,
		    struct credential *);
	int	(*request_due)(void *, const char *, int64_t, size_t,
		    store_request_cb, void *);
	int	(*person_by_slack)(void *, const char *, struct person *);
	int	(*warning_add)(void *, const char *, int, const char *);
	int	(*setting_get)(void *, const char *, char *, size_t,
		    unsigned char *, size_t, size_t *);
	int	(*setting_put)(void *, const char *, const char *,
		    const unsigned char *, size_t, const char *);
	int	(*outbox_insert)(void *, const struct outbox_msg *);
	int	(*outbox_claim)(void *, const char *, const char *,
		    const char *, size_t, store_outbox_cb, void *);
	int	(*outbox_sent)(void *, const char *, const char *);
	int	(*outbox_retry)(void *, const char *, const char *,
		    const char *);
	int	(*outbox_fail)(void *, const char *, const char *,
		    const char *);
	int	(*outbox_pending)(void *, int64_t *);
	int	(*replay_check)(void *, const char *, const char *,
		    const char *);

	int	(*stats)(void *, struct store_stats *);
	int	(*audit_head)(void *, int64_t *, char *);
	int	(*audit_insert)(void *, const struct audit_event *);
	int	(*audit_each)(void *, int64_t, size_t, store_audit_cb, void *);

	int	(*bound_insert)(void *, const struct bound_token *);
	int	(*bound_find)(void *, const unsigned char *,
		    struct bound_token *, struct person *);
	int	(*bound_each)(void *, const char *, store_bound_cb, void *);
	int	(*bound_revoke)(void *, const char *, const char *,
		    const char *);
	int	(*bound_used)(void *, const char *, const char *);
	/* optional (store.c falls back on open_sibling == NULL and on
	 * audit_each for audit_scan == NULL) */
	int	(*open_sibling)(void *, void **);
	int	(*audit_scan)(void *, int64_t, int64_t, store_audit_row_cb,
		    void *);
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_postgres_ops;

#endif /* KW_STORE_BACKEND_H */
