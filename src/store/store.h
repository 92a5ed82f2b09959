/*
 * store.h — the persistence interface.  Callers see plain records and
 * these functions; the backend (SQLite today, PostgreSQL later) is a
 * table of function pointers chosen when the store is opened, and is the
 * only code that knows SQL.
 *
 * A store handle is one connection: use it from one thread at a time.
 * Writes happen between store_begin() and store_commit()/store_rollback();
 * store_begin() takes the write lock, so everything in between (the change
 * and its audit event) commits or vanishes together.
 *
 * Errors: KW_ERR_NOT_FOUND, KW_ERR_CONFLICT (uniqueness), and
 * KW_ERR_UNAVAILABLE when the store cannot be read or written.
 */
#ifndef KW_STORE_H
#define KW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

#define ROLE_ADMIN	0x01u
#define ROLE_AUDITOR	0x02u

enum issuance { ISSUANCE_AUTOMATIC = 0, ISSUANCE_MANUAL = 1 };

/* How an api_token is handed out (API.md, "delivery"): a token revealed
 * once; a client whose secret keywarden keeps and for which it dispenses
 * short-lived access tokens; a client whose secret is revealed once. */
enum delivery_mode { DM_TOKEN = 0, DM_BROKER = 1, DM_CLIENT_SECRET = 2,
	DM__COUNT };

struct person {
	int64_t		seq;			/* insertion order, for cursors */
	char		id[KW_ID_MAX + 1];
	char		email[KW_EMAIL_MAX + 1];
	char		name[KW_NAME_MAX + 1];
	char		manager_id[KW_ID_MAX + 1];	/* "" = none */
	char		manager_email[KW_EMAIL_MAX + 1]; /* filled on read */
	unsigned	roles;			/* ROLE_* bits */
	size_t		nteams;
	char		teams[KW_TEAMS_MAX][KW_TEAM_MAX + 1];
	char		slack_user_id[KW_SLACK_ID_MAX + 1]; /* "" = none */
	int		active;
	char		created_at[KW_TIME_LEN + 1];
	char		updated_at[KW_TIME_LEN + 1];
	/* SCIM: the identity provider's id for the person, who manages the
	 * person ("" = keywarden itself, "scim"), and when the provider
	 * deleted it ("" = never; SCIM then answers 404 for it) */
	char		external_id[KW_SCIM_EXTERNAL_ID_MAX + 1];
	char		managed_by[16];
	char		scim_deleted_at[KW_TIME_LEN + 1];
};

/* A SCIM token: what an identity provider authenticates with. */
struct scim_token {
	char		id[KW_ID_MAX + 1];
	char		label[KW_SCIM_LABEL_MAX + 1];		/* "" = none */
	unsigned char	hash[KW_HASH_LEN];	/* keyed hash, never the token */
	char		created_at[KW_TIME_LEN + 1];
	char		last_used_at[KW_TIME_LEN + 1];		/* "" = never */
};

struct token_rec {
	char		id[KW_ID_MAX + 1];
	char		person_id[KW_ID_MAX + 1];
	unsigned char	hash[KW_HASH_LEN];
	char		created_at[KW_TIME_LEN + 1];
	char		revoked_at[KW_TIME_LEN + 1];	/* "" = live */
	char		label[KW_TOKEN_LABEL_MAX + 1];
	char		expires_at[KW_TIME_LEN + 1];	/* "" = never */
	char		last_used_at[KW_TIME_LEN + 1];	/* "" = never used */
};

/* A browser session: only the keyed hash of its secret is kept. */
struct session_rec {
	char		id[KW_ID_MAX + 1];
	char		person_id[KW_ID_MAX + 1];
	unsigned char	hash[KW_HASH_LEN];
	char		method[16];			/* "token", "oidc" */
	char		created_at[KW_TIME_LEN + 1];
	char		expires_at[KW_TIME_LEN + 1];	/* absolute end */
	char		last_seen_at[KW_TIME_LEN + 1];	/* for the idle end */
};

struct person_ref {
	char		id[KW_ID_MAX + 1];
	char		email[KW_EMAIL_MAX + 1];	/* filled on read */
};

struct instance {
	int64_t		seq;
	char		id[KW_ID_MAX + 1];
	char		name[KW_INSTANCE_NAME_MAX + 1];
	char		display_name[KW_DISPLAY_NAME_MAX + 1];
	char		provider[KW_PROVIDER_MAX + 1];
	char		url[KW_URL_MAX + 1];
	size_t		nprovisioners;
	struct person_ref provisioners[KW_PROVISIONERS_MAX];
	int		allow_integrations;
	enum issuance	issuance;
	int		scopes_restricted;	/* 0: allowed_scopes is null */
	size_t		nscopes;
	char		allowed_scopes[KW_SCOPES_MAX][KW_SCOPE_MAX + 1];
	int		max_lifetime_days;
	int		rotation_days;
	int		grace_days;		/* predecessor overlap */
	size_t		nwarn;			/* expiry warning thresholds */
	int		warn_days[KW_WARN_THRESHOLDS_MAX];	/* descending */
	enum delivery_mode default_delivery;
	unsigned	allowed_deliveries;	/* bit per mode; 0 = all */
	int		max_access_ttl;		/* broker: seconds */
	char		bot_client_id[KW_CLIENT_IDENT_MAX + 1];	/* "" = the
						   bot is a static token */
	char		bot_expires_at[KW_TIME_LEN + 1];	/* static token
						   the SaaS expires; "" */
	char		bot_email[KW_EMAIL_MAX + 1];	/* "" = none */
	size_t		bot_sealed_len;			/* 0 = none */
	unsigned char	bot_sealed[KW_SEALED_MAX];	/* never returned */
	char		created_at[KW_TIME_LEN + 1];
	char		updated_at[KW_TIME_LEN + 1];
};

struct audit_event {
	int64_t		seq;
	char		at[KW_TIME_LEN + 1];
	char		actor[KW_EMAIL_MAX + 1];	/* email or "system" */
	char		action[64];
	char		subject[KW_INSTANCE_NAME_MAX + KW_ID_MAX + 16];
	const char	*details;		/* canonical JSON object text */
	char		prev_hash[KW_HASH_HEX_LEN + 1];
	char		hash[KW_HASH_HEX_LEN + 1];
};

enum cred_kind { KIND_API_TOKEN = 0, KIND_INTEGRATION = 1, KIND_LEGACY = 2 };

/* Request states, stored as these integers (policy/workflow.c pins each
 * value with _Static_assert); the transitions live in its table. */
enum req_state {
	RS_PENDING_MANAGER = 0,
	RS_PENDING_PROVISIONER,
	RS_AWAITING_FULFILMENT,
	RS_ISSUED,
	RS_DENIED,
	RS_WITHDRAWN,
	RS_EXPIRED,
	RS_FAILED,
	RS_ISSUING,		/* approved; being minted on the instance */
	RS__COUNT
};

enum client_kind { CLIENT_CONFIDENTIAL = 0, CLIENT_PUBLIC = 1 };

struct integration_spec {
	int		present;
	char		name[KW_NAME_MAX + 1];
	enum client_kind client_kind;
	size_t		nredirects;
	char		redirect_uris[KW_REDIRECT_URIS_MAX][KW_URL_MAX + 1];
};

struct request {
	int64_t		seq;
	char		id[KW_ID_MAX + 1];
	char		instance_id[KW_ID_MAX + 1];
	char		instance_name[KW_INSTANCE_NAME_MAX + 1];  /* on read */
	enum cred_kind	kind;
	enum req_state	state;
	char		purpose[16];		/* request|personal|automation */
	char		requester_id[KW_ID_MAX + 1];
	char		requester_email[KW_EMAIL_MAX + 1];	/* on read */
	char		manager_id[KW_ID_MAX + 1];	/* requester's, on read */
	char		manager_email[KW_EMAIL_MAX + 1];	/* on read */
	char		manager_approver_id[KW_ID_MAX + 1];
	char		justification[KW_TEXT_MAX + 1];
	char		use_case[KW_TEXT_MAX + 1];
	size_t		nscopes;
	char		scopes[KW_SCOPES_MAX][KW_SCOPE_MAX + 1];
	int		lifetime_days;
	char		access_request_url[KW_URL_MAX + 1];	/* "" = none */
	char		link[KW_URL_MAX + 1];
	struct integration_spec integration;
	char		credential_id[KW_ID_MAX + 1];		/* "" = none */
	char		created_at[KW_TIME_LEN + 1];
	char		updated_at[KW_TIME_LEN + 1];
	char		expires_at[KW_TIME_LEN + 1];	/* while pending */
	enum delivery_mode delivery_mode;	/* api_token only */
};

struct history_entry {
	char		at[KW_TIME_LEN + 1];
	char		actor[KW_EMAIL_MAX + 1];
	char		action[32];
	char		comment[KW_COMMENT_MAX + 1];
};

/*
 * Whom a list is for.  policy_viewer() (policy/visibility.h) fills it
 * from the caller; a request or a credential is listed when `all` is set,
 * or when person_id is its requester (owner), that person's current
 * manager, or a provisioner of its instance.  That is the rule of
 * policy_may_see_request()/_credential(), which each backend's list
 * queries implement in their own language (tests/unit/test_visibility.c
 * compares the two).
 */
struct store_viewer {
	const char	*person_id;	/* the caller; NULL or "" = nobody */
	int		 all;		/* sees everything: admins, auditors,
					   keywarden's own jobs */
};

/* Which requests a list may show, and filters on them. */
struct request_filter {
	struct store_viewer viewer;
	unsigned	 states;	/* bit per enum req_state; 0 = all */
	const char	*instance_id;	/* NULL = any */
	const char	*requester_id;	/* NULL = any */
};

/* Credential states, stored as these integers (pinned, and their
 * transitions tabled, in policy/workflow.c). */
enum cred_state { CS_PENDING = 0, CS_ACTIVE, CS_REVOKED, CS_EXPIRED,
	CS__COUNT };
enum delivery_state { DS_NOT_APPLICABLE = 0, DS_PENDING, DS_DELIVERED,
	DS_EXPIRED };

struct credential {
	int64_t		seq;
	char		id[KW_ID_MAX + 1];
	char		instance_id[KW_ID_MAX + 1];
	char		instance_name[KW_INSTANCE_NAME_MAX + 1];  /* on read */
	enum cred_kind	kind;
	char		owner_id[KW_ID_MAX + 1];
	char		owner_email[KW_EMAIL_MAX + 1];		/* on read */
	char		owner_manager_id[KW_ID_MAX + 1];	/* the owner's
						   current manager, on read;
						   "" = none */
	char		request_id[KW_ID_MAX + 1];		/* "" = none */
	char		purpose[16];
	char		name[KW_URL_MAX + 1];
	size_t		nscopes;
	char		scopes[KW_SCOPES_MAX][KW_SCOPE_MAX + 1];
	enum cred_state	state;
	int		lifetime_days;		/* from issuance */
	char		created_at[KW_TIME_LEN + 1];
	char		expires_at[KW_TIME_LEN + 1];
	char		last_used_at[KW_TIME_LEN + 1];
	char		revoked_at[KW_TIME_LEN + 1];
	char		revoke_reason[KW_COMMENT_MAX + 1];
	char		external[KW_EXTERNAL_JSON_MAX + 1];	/* JSON object */
	char		fingerprint[32];
	enum delivery_state delivery;
	char		delivery_expires_at[KW_TIME_LEN + 1];
	size_t		sealed_len;			/* 0 = nothing held */
	unsigned char	sealed[KW_SEALED_SECRET_MAX];
	char		rotated_from[KW_ID_MAX + 1];
	char		rotated_to[KW_ID_MAX + 1];
	char		grace_until[KW_TIME_LEN + 1];	/* predecessor: revoke at */
	char		replacement_id[KW_ID_MAX + 1];	/* legacy: its successor */
	char		external_key[KW_EXTERNAL_ID_MAX + 1]; /* "" or unique id
							   on the instance */
	enum delivery_mode delivery_mode;	/* api_token only */
	size_t		broker_sealed_len;	/* broker: the client secret */
	unsigned char	broker_sealed[KW_SEALED_MAX];	/* never revealed */
};

/* A token bound to one broker credential: it may only ask for that
 * credential's access tokens.  Stored as a keyed hash. */
struct bound_token {
	char		id[KW_ID_MAX + 1];
	char		credential_id[KW_ID_MAX + 1];
	char		label[KW_LABEL_MAX + 1];
	unsigned char	hash[KW_HASH_LEN];
	char		created_at[KW_TIME_LEN + 1];
	char		last_used_at[KW_TIME_LEN + 1];	/* "" = never */
};

struct credential_filter {
	struct store_viewer viewer;
	const char	*instance_id;	/* NULL = any */
	const char	*owner_id;	/* NULL = any */
	int		 state;		/* -1 = any */
	int		 kind;		/* -1 = any (enum cred_kind) */
	const char	*expiring_before; /* RFC 3339 or NULL */
};

/* A notification waiting to be sent (see notify/). */
struct outbox_msg {
	int64_t		seq;
	char		id[KW_ID_MAX + 1];
	char		channel[16];		/* slack_dm, webhook, response */
	char		recipient[KW_URL_MAX + 1];  /* user id, a response
						       URL or "webhook" (the
						       sealed setting) */
	char		kind[48];		/* request.created, digest, ... */
	char		*payload;		/* JSON; owned by the store on
						   read, borrowed on insert */
	int		attempts;
	char		created_at[KW_TIME_LEN + 1];
	char		next_attempt_at[KW_TIME_LEN + 1];
	char		last_error[256];
};

/* Credentials that jobs look for, each through its own index. */
enum cred_due {
	DUE_EXPIRING,		/* active, expires_at <= before */
	DUE_GRACE_OVER,		/* active predecessor, grace_until <= before */
	DUE_UNDELIVERED,	/* delivery pending, window ends <= before */
	DUE_ROTATION,		/* active, not legacy, not rotated, issued
				   <= before, not yet flagged for rotation */
	DUE_LEGACY,		/* active legacy tokens (before unused) */
};

/* Warning thresholds with a meaning of their own (credential_warnings). */
#define WARN_ROTATION		(-1)		/* flagged for rotation */
#define WARN_LEGACY_BASE	1000		/* 1000 + days, legacy tokens */

typedef int (*store_person_cb)(const struct person *, void *);
typedef int (*store_outbox_cb)(const struct outbox_msg *, void *);
typedef int (*store_request_cb)(const struct request *, void *);
typedef int (*store_history_cb)(const struct history_entry *, void *);
typedef int (*store_credential_cb)(const struct credential *, void *);
typedef int (*store_instance_cb)(const struct instance *, void *);
typedef int (*store_audit_cb)(const struct audit_event *, void *);
typedef int (*store_bound_cb)(const struct bound_token *, void *);

/* One audit event as read for a walk over the log (audit verify): its
 * text columns by pointer (NUL-terminated, valid only during the
 * callback they are handed to), not copied into struct audit_event. */
struct audit_row {
	int64_t		 seq;
	const char	*at, *actor, *action, *subject, *details, *prev_hash,
			*hash;
};
typedef int (*store_audit_row_cb)(const struct audit_row *, void *);

struct store;

/* Flags for store_open. */
#define STORE_MIGRATE	0x01	/* create/upgrade the schema */
#define STORE_CREATE	0x02	/* the database may be created */
#define STORE_MMAP	0x04	/* read through a memory map (the server's
				   connections no longer ask for one: see
				   ARCHITECTURE.md, "The store") */
#define STORE_EXISTING	0x08	/* the database must already hold a
				   keywarden schema: a file without one (or
				   not a database) is KW_ERR_CONFIG, never
				   migrated into one */
#define STORE_SCAN	0x10	/* a walk over everything (audit verify): a
				   map as large as SQLite allows */
#define STORE_NEW	0x20	/* init: a store that already holds a
				   keywarden schema is KW_ERR_EXISTS */
#define STORE_SCAN	0x10	/* a walk over everything (audit verify):
				   the database file read ahead 256 KiB at a
				   time, not mapped */

/* Open the store of data directory dir.  Without STORE_CREATE a missing
 * database is KW_ERR_NOT_FOUND.  A schema older than this binary's is
 * upgraded with STORE_MIGRATE, refused (KW_ERR_CONFIG) otherwise; so is a
 * newer one.  *out is owned by the caller: store_close(). */
int	 store_open(const char *dir, int flags, struct store **out);
/* Open the store named by url: NULL, "" or "sqlite" is the SQLite file
 * of data directory dir; "sqlite:DIR" that of DIR; "postgresql://..."
 * (or "postgres://...") a PostgreSQL database, several nodes sharing it.
 * KW_ERR_CONFIG for any other url.  Flags and *out as for store_open;
 * a PostgreSQL server that cannot be reached is KW_ERR_UNAVAILABLE. */
int	 store_open_url(const char *url, const char *dir, int flags,
	    struct store **out);
/* Copy every row of store from (SQLite) into the new, empty store to
 * (PostgreSQL) in one transaction, keeping seqs, so the audit chain
 * verifies with the same head.  *rows gets the rows copied.  A table
 * the source holds that the copy does not know stops it
 * (KW_ERR_CONFIG, its name in unknown[unknownsz]); so does a pair of
 * backends it cannot go between.  KW_ERR_CONFLICT if to is not empty. */
int	 store_copy(struct store *from, struct store *to, int64_t *rows,
	    char *unknown, size_t unknownsz);
/* Whether url names a store backend at all (config validation). */
int	 store_url_valid(const char *url);
/* url with any password replaced by "***", into out[outsz]. */
void	 store_url_redact(const char *url, char *out, size_t outsz);
/* Whether url names a PostgreSQL store (several nodes may share it). */
int	 store_url_is_shared(const char *url);
/* Open the database file at path itself (a restore's staged copy of a
 * backup) instead of a data directory's.  Flags as for store_open. */
int	 store_open_file(const char *path, int flags, struct store **out);
/* Close; NULL ok. */
void	 store_close(struct store *st);
/* Online backup: copy the whole store as of one instant (one read
 * transaction; other connections keep writing meanwhile) into a new,
 * self-contained file at path, created mode 0600 (KW_ERR_EXISTS if path
 * exists; removed again on failure).  *seq and hash[KW_HASH_HEX_LEN + 1] get the audit
 * head the copy holds.  The copy is the database only: the master key
 * is never in it.  KW_ERR_IO when path cannot be created. */
int	 store_backup(struct store *st, const char *path, int64_t *seq,
	    char hash[KW_HASH_HEX_LEN + 1]);
/* Make the database file staged (a closed copy, already checked) the
 * store of data directory dir, keeping the store it replaces, and its
 * journal files, aside under their names with suffix appended
 * (KW_ERR_EXISTS if such a name is taken; nothing is moved then).
 * aside[asidesz] gets the path the old database was kept under, or ""
 * when dir had none.  Run only while nothing else has the store open. */
int	 store_replace(const char *dir, const char *staged,
	    const char *suffix, char *aside, size_t asidesz);
/* Schema version in use. */
int	 store_schema_version(struct store *st);
/* Check the database: its structure (pages, indexes, constraints) and
 * that every table and column this binary uses is there.  0, or
 * KW_ERR_UNAVAILABLE with what is wrong in why[whysz]. */
int	 store_check(struct store *st, char *why, size_t whysz);
/* Take the jobs lock (jobs and reconciliation run on one node at a
 * time): 1 if this connection holds it (kept until store_unlock_jobs, or
 * until the connection ends: a node that dies gives it up), 0 if another
 * connection holds it, or an error.  Never waits.  SQLite: always 1. */
int	 store_lock_jobs(struct store *st);
void	 store_unlock_jobs(struct store *st);
/* Claim key (a credential being minted) across every node sharing the
 * store: 1 if this connection now holds it, 0 if another connection
 * does, or an error; held until store_unclaim on the same connection or
 * until the connection ends.  SQLite (one node): always 1. */
int	 store_claim(struct store *st, const char *key);
void	 store_unclaim(struct store *st, const char *key);
/* Watch for changes other connections (other nodes, the CLI) commit to
 * what authenticates a caller: people, personal and bound tokens,
 * sessions, credentials' states.  st must be a connection of its own,
 * used for nothing else.  Waits up to timeout_ms; 1 if such a change
 * may have been committed since the last call (always on the first call
 * and after a reconnection: changes may have been missed), 0 if none was
 * and the connection was seen alive, KW_ERR_UNAVAILABLE if the server
 * cannot be reached (the next call reconnects).  SQLite (one node):
 * always KW_ERR_UNAVAILABLE. */
int	 store_watch(struct store *st, int timeout_ms);
/* Name of the backend ("sqlite", "postgresql"). */
const char *store_backend(const struct store *st);

int	 store_begin(struct store *st);		/* write transaction */
int	 store_commit(struct store *st);
void	 store_rollback(struct store *st);	/* no-op outside a tx */
/* Nested parts of a write transaction: a savepoint, released into the
 * transaction or rolled back to (undoing only what followed it). */
int	 store_savepoint(struct store *st);
int	 store_release(struct store *st);
void	 store_rollback_to(struct store *st);
/* 1 if the last transaction begun on st ran a write that may change who
 * a caller is or may do (people, tokens, sessions, SCIM and bound
 * tokens, credentials' states, instances, settings: anything but the
 * appends and state moves of a request's workflow, the audit log and
 * the outbox), even if it was rolled back; 0 otherwise. */
int	 store_auth_touched(struct store *st);

int	 store_person_insert(struct store *, const struct person *);
int	 store_person_update(struct store *, const struct person *);
/* Look a person up by id or, when the key contains '@', by email
 * (case-insensitive). */
int	 store_person_get(struct store *, const char *key, struct person *);
/* Call cb for up to limit people with seq > after, in seq order.
 * A non-zero return from cb stops the walk and is returned. */
int	 store_person_each(struct store *, int64_t after, size_t limit,
	    store_person_cb cb, void *arg);

int	 store_token_insert(struct store *, const struct token_rec *);
/* The live (unrevoked) token with this keyed hash and its person.
 * token->hash is filled from the store for a constant-time re-check. */
int	 store_token_find(struct store *, const unsigned char hash[KW_HASH_LEN],
	    struct token_rec *token, struct person *owner);
/* The tokens of person_id (live and revoked), oldest first: only ids and
 * times (token->revoked_at), never anything that authenticates. */
typedef int (*store_token_cb)(const struct token_rec *, void *);
int	 store_token_each(struct store *, const char *person_id,
	    store_token_cb cb, void *arg);
/* Revoke token id of person_id at time at: KW_ERR_NOT_FOUND when there
 * is no such live token. */
int	 store_token_revoke(struct store *, const char *person_id,
	    const char *id, const char *at);
/* Revoke every live token of person_id at time at; *n gets the count. */
int	 store_token_revoke_person(struct store *, const char *person_id,
	    const char *at, int *n);
/* Record that token id was used at time at. */
int	 store_token_touch(struct store *, const char *id, const char *at);
/* Live tokens never warned about that expire after now and by before,
 * soonest first, at most limit (ids, owner, label, times). */
int	 store_token_expiring(struct store *, const char *before,
	    const char *now, size_t limit, store_token_cb cb, void *arg);
/* Record the expiry warning of token id: 1 the first time, 0 if it had
 * been (someone else warned), or a KW_ERR_*. */
int	 store_token_warned(struct store *, const char *id, const char *at);

int	 store_session_insert(struct store *, const struct session_rec *);
/* The session with this keyed hash, and its person (expiry is the
 * caller's to judge).  se->hash is filled for a constant-time check. */
int	 store_session_find(struct store *, const unsigned char hash[KW_HASH_LEN],
	    struct session_rec *se, struct person *owner);
/* Record activity on session id at time at. */
int	 store_session_touch(struct store *, const char *id, const char *at);
/* End session id: KW_ERR_NOT_FOUND when there is none. */
int	 store_session_delete(struct store *, const char *id);
/* End every session of person_id; *n gets the count. */
int	 store_session_delete_person(struct store *, const char *person_id,
	    int *n);
/* Forget sessions past their end (expires_at <= now) or idle since
 * idle_before; *n gets the count. */
int	 store_session_purge(struct store *, const char *now,
	    const char *idle_before, int *n);

/* People as SCIM sees them (not deleted by the provider): *n gets their
 * number; _page calls cb for up to limit of them after skipping offset,
 * in seq order. */
int	 store_person_scim_count(struct store *, int64_t *n);
int	 store_person_scim_page(struct store *, int64_t offset, size_t limit,
	    store_person_cb cb, void *arg);

int	 store_scim_token_insert(struct store *, const struct scim_token *);
/* The SCIM token with this keyed hash (t->hash filled from the store for
 * a constant-time re-check); KW_ERR_NOT_FOUND if none. */
int	 store_scim_token_find(struct store *,
	    const unsigned char hash[KW_HASH_LEN], struct scim_token *t);
/* Every SCIM token, oldest first, without its hash. */
typedef int (*store_scim_token_cb)(const struct scim_token *, void *);
int	 store_scim_token_each(struct store *, store_scim_token_cb cb,
	    void *arg);
/* Delete SCIM token id: KW_ERR_NOT_FOUND when there is none. */
int	 store_scim_token_delete(struct store *, const char *id);
/* Record that SCIM token id was used at time at. */
int	 store_scim_token_used(struct store *, const char *id, const char *at);

int	 store_instance_insert(struct store *, const struct instance *);
int	 store_instance_update(struct store *, const struct instance *);
/* Look an instance up by name or id. */
int	 store_instance_get(struct store *, const char *key, struct instance *);
int	 store_instance_each(struct store *, int64_t after, size_t limit,
	    store_instance_cb cb, void *arg);

int	 store_request_insert(struct store *, const struct request *);
/* Update the mutable fields (state, manager_approver_id, credential_id,
 * updated_at) of the request in state `from`; KW_ERR_CONFLICT when the
 * request is no longer in that state (someone else acted first). */
int	 store_request_transition(struct store *, const struct request *,
	    enum req_state from);
int	 store_request_get(struct store *, const char *id, struct request *);
/* Requests the filter admits with seq > after, in seq order. */
int	 store_request_each(struct store *, const struct request_filter *,
	    int64_t after, size_t limit, store_request_cb cb, void *arg);
int	 store_history_append(struct store *, const char *request_id,
	    const struct history_entry *);
int	 store_history_each(struct store *, const char *request_id,
	    store_history_cb cb, void *arg);

int	 store_credential_insert(struct store *, const struct credential *);
/* Write every mutable field of the credential. */
int	 store_credential_update(struct store *, const struct credential *);
int	 store_credential_get(struct store *, const char *id,
	    struct credential *);
int	 store_credential_each(struct store *,
	    const struct credential_filter *, int64_t after, size_t limit,
	    store_credential_cb cb, void *arg);

/* Credentials due for a job (see enum cred_due), seq > after. */
int	 store_credential_due(struct store *, enum cred_due, const char *before,
	    int64_t after, size_t limit, store_credential_cb cb, void *arg);
/* The credential on instance_id with this external key (legacy tokens). */
int	 store_credential_by_key(struct store *, const char *instance_id,
	    const char *key, struct credential *);
/* Pending requests (manager or provisioner stage) with expires_at <=
 * before, seq > after. */
int	 store_request_due(struct store *, const char *before, int64_t after,
	    size_t limit, store_request_cb cb, void *arg);
/* The person with this Slack user id. */
int	 store_person_by_slack(struct store *, const char *slack_id,
	    struct person *);

/* Record that credential id was warned at threshold days: 1 if this is
 * the first time, 0 if it had been (someone else warned). */
int	 store_warning_add(struct store *, const char *credential_id,
	    int threshold, const char *at);

/* Settings: a text value and an optional sealed secret per key. */
int	 store_setting_get(struct store *, const char *key, char *value,
	    size_t valuesz, unsigned char *sealed, size_t sealedsz,
	    size_t *sealed_len);
int	 store_setting_put(struct store *, const char *key, const char *value,
	    const unsigned char *sealed, size_t sealed_len, const char *at);

int	 store_outbox_insert(struct store *, const struct outbox_msg *);
/* Claim up to limit messages due at due (not sent, next_attempt_at <=
 * due) and unclaimed or whose claim ended by now, until lease_until, and
 * pass each to cb.  Leases are real time: now and lease_until come from
 * the real clock even when due is another time (`jobs run --now`).  Two
 * senders never get the same message within a lease. */
int	 store_outbox_claim(struct store *, const char *due, const char *now,
	    const char *lease_until, size_t limit, store_outbox_cb cb,
	    void *arg);
/* The message was delivered. */
int	 store_outbox_sent(struct store *, const char *id, const char *at);
/* It was not: try again at next (error kept for operators). */
int	 store_outbox_retry(struct store *, const char *id, const char *next,
	    const char *error);
/* It never will be (a permanent error): failed at at, never claimed
 * again, error kept for operators. */
int	 store_outbox_fail(struct store *, const char *id, const char *at,
	    const char *error);
/* Messages not yet sent nor failed, for the jobs summary. */
int	 store_outbox_pending(struct store *, int64_t *n);

/* Remember a Slack request signature: 1 if new, 0 if seen before (a
 * replay).  Signatures older than before are forgotten. */
int	 store_replay_check(struct store *, const char *signature,
	    const char *at, const char *before);

/* Counts for the metrics page: rows by state (and kind, delivery; API
 * tokens by delivery mode), the
 * outbox's unsent messages and its oldest one, the audit head. */
#define STORE_KINDS		3	/* enum cred_kind */
#define STORE_DELIVERIES	4	/* enum delivery_state */
struct store_stats {
	int64_t	requests[RS__COUNT];
	int64_t	credentials[CS__COUNT][STORE_KINDS][STORE_DELIVERIES];
	int64_t	api_tokens_by_mode[CS__COUNT][DM__COUNT];	/* delivery mode */
	int64_t	outbox_pending;
	char	outbox_oldest[KW_TIME_LEN + 1];	/* created_at; "" = none */
	int64_t	audit_head_seq;
};
int	 store_stats(struct store *, struct store_stats *out);

/* The last audit event's seq and hash (0 and "" on an empty log). */
int	 store_audit_head(struct store *, int64_t *seq, char hash[KW_HASH_HEX_LEN + 1]);
int	 store_audit_insert(struct store *, const struct audit_event *);
int	 store_audit_each(struct store *, int64_t after, size_t limit,
	    store_audit_cb cb, void *arg);
/* Every audit event with after < seq <= upto, in seq order, handed to cb
 * by pointer (one statement, one read snapshot; nothing copied).  A
 * non-zero return from cb stops the walk and is returned; otherwise 0
 * or KW_ERR_UNAVAILABLE. */
int	 store_audit_scan(struct store *, int64_t after, int64_t upto,
	    store_audit_row_cb cb, void *arg);
/* Another connection to st's database, opened as st was, for a reader
 * in another thread (a parallel walk of the audit log).  *out is owned
 * by the caller (store_close).  KW_ERR_INTERNAL when the backend cannot
 * (the caller then reads through st alone). */
int	 store_open_sibling(struct store *st, struct store **out);

/* Bound tokens (see struct bound_token). */
int	 store_bound_insert(struct store *, const struct bound_token *);
/* The live bound token with this keyed hash, its credential active, and
 * the credential's owner.  b->hash is filled for a constant-time check. */
int	 store_bound_find(struct store *, const unsigned char hash[KW_HASH_LEN],
	    struct bound_token *b, struct person *owner);
/* The live bound tokens of credential_id, oldest first (no hashes). */
int	 store_bound_each(struct store *, const char *credential_id,
	    store_bound_cb cb, void *arg);
/* Revoke bound token id of credential_id (KW_ERR_NOT_FOUND if there is
 * no such live one), or with id NULL every one of the credential. */
int	 store_bound_revoke(struct store *, const char *credential_id,
	    const char *id, const char *at);
/* Record a use of bound token id at time at. */
int	 store_bound_used(struct store *, const char *id, const char *at);

#endif /* KW_STORE_H */
