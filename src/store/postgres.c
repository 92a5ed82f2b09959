/*
 * postgres.c — the PostgreSQL backend of the store, for several keywarden
 * nodes sharing one database.  The only file that includes libpq-fe.h.
 *
 * Same schema semantics as sqlite.c, from the same numbered migration
 * list (pg_migrations[] holds version i's PostgreSQL text at index i - 1).
 * Every statement is prepared once per connection and run with bound
 * parameters; no SQL is ever formatted from input.
 *
 * Concurrency across nodes:
 *  - store_begin() takes the store's write lock, a transaction-scoped
 *    advisory lock, like SQLite's BEGIN IMMEDIATE: writers from every node
 *    are serialised, so the audit log (read head, append) stays one chain
 *    and seq order is commit order (cursors never skip a row);
 *  - state changes are conditional updates (WHERE state = $n) decided by
 *    the database;
 *  - store_lock_jobs() is a session advisory lock: one node runs the
 *    jobs and reconciliation; it is released when that node's connection
 *    ends (also when the node dies);
 *  - a transaction that changes what authenticates a caller notifies
 *    AUTH_CHANNEL as it commits (stmt_auth); store_watch() listens, so
 *    every node can empty its authentication cache.
 * Round trips are what a write transaction waits for (each node's
 * writes are serialised behind the write lock): BEGIN, the lock and the
 * audit head and settings reads go with the transaction's first read
 * (pg_begin); a write transaction's token and instance lookups are kept
 * (pg_cached); a part's SAVEPOINT waits for its first write; a part's
 * appends (and RELEASE) are sent as the part ends, without waiting, so
 * the server runs them while the next part is made, and their results
 * are read with the next statement that needs an answer, normally the
 * COMMIT (pipeline mode: pg_send_ahead, pg_batch); reads that belong
 * together share one.
 * A lost connection fails the call (KW_ERR_UNAVAILABLE) and the
 * transaction it was in; the next call outside a transaction reconnects.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "kw.h"
#include "limits.h"
#include "store/backend.h"
#include "util/buf.h"
#include "util/util.h"

/* Advisory lock keys (one 64-bit space per database). */
#define LOCK_WRITE	0x6b77000000000001LL	/* held by each write tx */
#define LOCK_JOBS	0x6b77000000000002LL	/* the node running jobs */
#define LOCK_MIGRATE	0x6b77000000000003LL	/* schema changes */
#define LOCK_TIMEOUT	"5s"		/* as SQLite's busy timeout */
#define PG_PARAMS_MAX	32
#define PG_CONNECT_TIMEOUT "5"		/* seconds */
#define PG_TEXT_OID	25		/* pg_type.h: text */
#define PG_QUEUE_MAX	40		/* statements waiting to be sent: a
				   group's parts, five each (a filing) */
#define PG_BATCH_MAX	(PG_QUEUE_MAX + 4)
#define AUTH_CHANNEL	"keywarden_auth"	/* see stmt_auth */
#define PG_CACHE_MAX	4		/* lookups kept in a write tx */

/* Numbered migrations: entry i brings the schema to version i + 1; the
 * same numbers as sqlite.c's list, the same tables and meaning. */
static const char *const pg_migrations[] = {
	/* 1: people, tokens, instances, audit */
	"CREATE TABLE people ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  email TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  manager_id TEXT REFERENCES people(id),"
	"  roles INTEGER NOT NULL DEFAULT 0,"
	"  teams TEXT NOT NULL DEFAULT '[]',"
	"  slack_user_id TEXT,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE UNIQUE INDEX people_email ON people (lower(email));"
	"CREATE TABLE tokens ("
	"  id TEXT PRIMARY KEY,"
	"  person_id TEXT NOT NULL REFERENCES people(id),"
	"  hash BYTEA NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL,"
	"  revoked_at TEXT);"
	"CREATE INDEX tokens_person ON tokens(person_id);"
	"CREATE TABLE instances ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL UNIQUE,"
	"  display_name TEXT NOT NULL,"
	"  provider TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  allow_integrations INTEGER NOT NULL,"
	"  issuance INTEGER NOT NULL,"
	"  allowed_scopes TEXT,"
	"  max_lifetime_days INTEGER NOT NULL,"
	"  rotation_days INTEGER NOT NULL,"
	"  grace_days INTEGER NOT NULL,"
	"  bot_email TEXT,"
	"  bot_sealed BYTEA,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE instance_provisioners ("
	"  instance_id TEXT NOT NULL REFERENCES instances(id),"
	"  pos INTEGER NOT NULL,"
	"  person_id TEXT NOT NULL REFERENCES people(id),"
	"  PRIMARY KEY (instance_id, person_id));"
	"CREATE INDEX instance_provisioners_person"
	"  ON instance_provisioners(person_id);"
	"CREATE TABLE audit_events ("
	"  seq BIGINT PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);",
	/* 2: access requests, their history, credentials */
	"CREATE TABLE requests ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  instance_id TEXT NOT NULL REFERENCES instances(id),"
	"  kind INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  purpose TEXT NOT NULL,"
	"  requester_id TEXT NOT NULL REFERENCES people(id),"
	"  manager_approver_id TEXT,"
	"  justification TEXT NOT NULL,"
	"  use_case TEXT NOT NULL,"
	"  scopes TEXT NOT NULL,"
	"  lifetime_days INTEGER NOT NULL,"
	"  access_request_url TEXT,"
	"  link TEXT NOT NULL,"
	"  integration TEXT,"
	"  credential_id TEXT,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  expires_at TEXT NOT NULL);"
	"CREATE INDEX requests_requester ON requests(requester_id);"
	"CREATE INDEX requests_instance ON requests(instance_id, state);"
	"CREATE INDEX requests_state ON requests(state, expires_at);"
	"CREATE TABLE request_history ("
	"  request_id TEXT NOT NULL REFERENCES requests(id),"
	"  pos INTEGER NOT NULL,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  comment TEXT NOT NULL,"
	"  PRIMARY KEY (request_id, pos));"
	"CREATE TABLE credentials ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  instance_id TEXT NOT NULL REFERENCES instances(id),"
	"  kind INTEGER NOT NULL,"
	"  owner_id TEXT NOT NULL REFERENCES people(id),"
	"  request_id TEXT,"
	"  purpose TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  scopes TEXT NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  expires_at TEXT,"
	"  last_used_at TEXT,"
	"  revoked_at TEXT,"
	"  revoke_reason TEXT,"
	"  external TEXT NOT NULL,"
	"  fingerprint TEXT,"
	"  delivery INTEGER NOT NULL,"
	"  delivery_expires_at TEXT,"
	"  sealed BYTEA,"
	"  rotated_from TEXT,"
	"  rotated_to TEXT,"
	"  lifetime_days INTEGER NOT NULL);"
	"CREATE INDEX credentials_owner ON credentials(owner_id);"
	"CREATE INDEX credentials_instance ON credentials(instance_id, state);"
	"CREATE INDEX credentials_expiry ON credentials(state, expires_at);"
	"CREATE INDEX credentials_request ON credentials(request_id);",
	/* 3: lifecycle and notifications */
	"ALTER TABLE instances ADD COLUMN warn_days TEXT NOT NULL"
	"  DEFAULT '[30,14,7,1]';"
	"ALTER TABLE credentials ADD COLUMN grace_until TEXT;"
	"ALTER TABLE credentials ADD COLUMN replacement_id TEXT;"
	"ALTER TABLE credentials ADD COLUMN external_key TEXT;"
	"CREATE UNIQUE INDEX credentials_external_key"
	"  ON credentials(instance_id, external_key)"
	"  WHERE external_key IS NOT NULL;"
	"CREATE INDEX credentials_grace ON credentials(state, grace_until);"
	"CREATE INDEX credentials_created ON credentials(state, created_at);"
	"CREATE INDEX credentials_delivery"
	"  ON credentials(delivery, delivery_expires_at);"
	"CREATE INDEX people_slack ON people(slack_user_id);"
	"CREATE TABLE credential_warnings ("
	"  credential_id TEXT NOT NULL REFERENCES credentials(id),"
	"  threshold_days INTEGER NOT NULL,"
	"  warned_at TEXT NOT NULL,"
	"  PRIMARY KEY (credential_id, threshold_days));"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  sealed BYTEA,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE outbox ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  channel TEXT NOT NULL,"
	"  recipient TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  created_at TEXT NOT NULL,"
	"  next_attempt_at TEXT NOT NULL,"
	"  claimed_until TEXT,"
	"  sent_at TEXT,"
	"  last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);"
	"CREATE TABLE slack_replays ("
	"  signature TEXT PRIMARY KEY,"
	"  seen_at TEXT NOT NULL);",
	/* 4: the legacy-token job reads only legacy tokens */
	"CREATE INDEX credentials_legacy ON credentials(state, seq)"
	"  WHERE kind = 2;",
	/* 5: outbox messages can fail for good; webhook rows name the
	 * sealed setting instead of holding its URL */
	"ALTER TABLE outbox ADD COLUMN failed_at TEXT;"
	"DROP INDEX outbox_due;"
	"CREATE INDEX outbox_due ON outbox(sent_at, failed_at,"
	"  next_attempt_at);"
	"UPDATE outbox SET recipient = 'webhook' WHERE channel = 'webhook';",
	/* 6: delivery modes, the broker's sealed client secrets, bound
	 * tokens, and keywarden's own client_credentials bot */
	"ALTER TABLE requests ADD COLUMN delivery_mode INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE credentials ADD COLUMN delivery_mode INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE credentials ADD COLUMN broker_sealed BYTEA;"
	"ALTER TABLE instances ADD COLUMN default_delivery INTEGER NOT NULL"
	"  DEFAULT 1;"
	"ALTER TABLE instances ADD COLUMN allowed_deliveries INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE instances ADD COLUMN max_access_ttl INTEGER NOT NULL"
	"  DEFAULT 3600;"
	"ALTER TABLE instances ADD COLUMN bot_client_id TEXT;"
	"ALTER TABLE instances ADD COLUMN bot_expires_at TEXT;"
	"CREATE TABLE bound_tokens ("
	"  id TEXT PRIMARY KEY,"
	"  credential_id TEXT NOT NULL REFERENCES credentials(id),"
	"  label TEXT NOT NULL,"
	"  hash BYTEA NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL,"
	"  last_used_at TEXT,"
	"  revoked_at TEXT);"
	"CREATE INDEX bound_tokens_credential ON bound_tokens(credential_id);",
	/* 7: SCIM — identity providers' tokens (keyed hashes only), and on
	 * each person the provider's id, who manages them, and whether the
	 * provider deleted them */
	"ALTER TABLE people ADD COLUMN external_id TEXT;"
	"ALTER TABLE people ADD COLUMN managed_by TEXT;"
	"ALTER TABLE people ADD COLUMN scim_deleted_at TEXT;"
	"CREATE TABLE scim_tokens ("
	"  seq BIGSERIAL PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  label TEXT,"
	"  hash BYTEA NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL,"
	"  last_used_at TEXT);",
	/* 8: personal tokens get a label, an expiry and a last use; browser
	 * sessions.  Tokens from before expire 90 days after the upgrade,
	 * as on SQLite (the same text form as kw_time_format). */
	"ALTER TABLE tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE tokens ADD COLUMN expires_at TEXT;"
	"ALTER TABLE tokens ADD COLUMN last_used_at TEXT;"
	"ALTER TABLE tokens ADD COLUMN warned_at TEXT;"
	"UPDATE tokens SET expires_at = to_char((now() AT TIME ZONE 'UTC')"
	"  + interval '90 days', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	"  WHERE revoked_at IS NULL;"
	"CREATE INDEX tokens_expiry ON tokens(expires_at)"
	"  WHERE revoked_at IS NULL AND warned_at IS NULL;"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  person_id TEXT NOT NULL REFERENCES people(id),"
	"  hash BYTEA NOT NULL UNIQUE,"
	"  method TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  expires_at TEXT NOT NULL,"
	"  last_seen_at TEXT NOT NULL);"
	"CREATE INDEX sessions_person ON sessions(person_id);"
	"CREATE INDEX sessions_expiry ON sessions(expires_at);",
};
_Static_assert(KW_NELEM(pg_migrations) == STORE_SCHEMA_VERSION,
    "postgres.c: one PostgreSQL migration per number of sqlite.c's list");

#define PERSON_COLS \
	"p.seq, p.id, p.email, p.name, coalesce(p.manager_id, ''), " \
	"coalesce(m.email, ''), p.roles, p.teams, " \
	"coalesce(p.slack_user_id, ''), p.active, p.created_at, p.updated_at, " \
	"coalesce(p.external_id, ''), coalesce(p.managed_by, ''), " \
	"coalesce(p.scim_deleted_at, '')"
#define PERSON_NCOLS	15	/* columns of PERSON_COLS */
#define PERSON_FROM " FROM people p LEFT JOIN people m ON m.id = p.manager_id "
#define INSTANCE_COLS \
	"seq, id, name, display_name, provider, url, allow_integrations, " \
	"issuance, allowed_scopes, max_lifetime_days, rotation_days, " \
	"coalesce(bot_email, ''), bot_sealed, created_at, updated_at, " \
	"grace_days, warn_days, default_delivery, allowed_deliveries, " \
	"max_access_ttl, coalesce(bot_client_id, ''), " \
	"coalesce(bot_expires_at, '')"
#define REQUEST_COLS \
	"r.seq, r.id, r.instance_id, i.name, r.kind, r.state, r.purpose, " \
	"r.requester_id, q.email, coalesce(q.manager_id, ''), " \
	"coalesce(m.email, ''), coalesce(r.manager_approver_id, ''), " \
	"r.justification, r.use_case, r.scopes, r.lifetime_days, " \
	"coalesce(r.access_request_url, ''), r.link, r.integration, " \
	"coalesce(r.credential_id, ''), r.created_at, r.updated_at, " \
	"r.expires_at, r.delivery_mode"
#define REQUEST_FROM " FROM requests r JOIN instances i ON i.id = " \
	"r.instance_id JOIN people q ON q.id = r.requester_id " \
	"LEFT JOIN people m ON m.id = q.manager_id "
#define IS_PROVISIONER(inst, who) "EXISTS (SELECT 1 FROM " \
	"instance_provisioners ip WHERE ip.instance_id = " inst \
	" AND ip.person_id = " who ")"
#define CREDENTIAL_COLS \
	"c.seq, c.id, c.instance_id, i.name, c.kind, c.owner_id, o.email, " \
	"coalesce(c.request_id, ''), c.purpose, c.name, c.scopes, c.state, " \
	"c.created_at, coalesce(c.expires_at, ''), " \
	"coalesce(c.last_used_at, ''), coalesce(c.revoked_at, ''), " \
	"coalesce(c.revoke_reason, ''), c.external, " \
	"coalesce(c.fingerprint, ''), c.delivery, " \
	"coalesce(c.delivery_expires_at, ''), c.sealed, " \
	"coalesce(c.rotated_from, ''), coalesce(c.rotated_to, ''), " \
	"c.lifetime_days, coalesce(c.grace_until, ''), " \
	"coalesce(c.replacement_id, ''), coalesce(c.external_key, ''), " \
	"c.delivery_mode, c.broker_sealed, coalesce(o.manager_id, '')"
#define CREDENTIAL_FROM " FROM credentials c JOIN instances i ON i.id = " \
	"c.instance_id JOIN people o ON o.id = c.owner_id "

enum stmt {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_RELEASE, S_ROLLBACK_TO,
	S_WRITE_LOCK, S_JOBS_LOCK, S_JOBS_UNLOCK, S_CLAIM, S_UNCLAIM,
	S_PERSON_INSERT, S_PERSON_UPDATE, S_PERSON_BY_ID, S_PERSON_BY_EMAIL,
	S_PERSON_LIST, S_PERSON_SCIM_COUNT, S_PERSON_SCIM_PAGE,
	S_SCIM_TOKEN_INSERT, S_SCIM_TOKEN_FIND, S_SCIM_TOKEN_LIST,
	S_SCIM_TOKEN_DELETE, S_SCIM_TOKEN_USED,
	S_TOKEN_INSERT, S_TOKEN_FIND, S_TOKEN_REVOKE_PERSON, S_TOKEN_LIST,
	S_TOKEN_REVOKE, S_TOKEN_TOUCH, S_TOKEN_EXPIRING, S_TOKEN_WARNED,
	S_SESS_INSERT, S_SESS_FIND, S_SESS_TOUCH, S_SESS_DELETE,
	S_SESS_DELETE_PERSON, S_SESS_PURGE,
	S_INSTANCE_INSERT, S_INSTANCE_UPDATE, S_INSTANCE_BY_NAME,
	S_INSTANCE_LIST, S_PROV_DELETE, S_PROV_INSERT, S_PROV_LIST,
	S_REQ_INSERT, S_REQ_TRANSITION, S_REQ_GET, S_REQ_LIST,
	S_HIST_APPEND, S_HIST_LIST,
	S_CRED_INSERT, S_CRED_UPDATE, S_CRED_GET, S_CRED_LIST,
	S_DUE_EXPIRING, S_DUE_GRACE, S_DUE_UNDELIVERED, S_DUE_ROTATION,
	S_DUE_LEGACY,
	S_CRED_BY_KEY,
	S_REQ_DUE, S_PERSON_BY_SLACK, S_WARN_ADD, S_SET_GET, S_SET_PUT,
	S_OUT_INSERT, S_OUT_CLAIM, S_OUT_SENT, S_OUT_RETRY, S_OUT_FAIL,
	S_OUT_PENDING,
	S_REPLAY_PURGE, S_REPLAY_ADD,
	S_BOUND_INSERT, S_BOUND_FIND, S_BOUND_LIST, S_BOUND_REVOKE,
	S_BOUND_REVOKE_CRED, S_BOUND_USED,
	S_AUDIT_HEAD, S_AUDIT_INSERT, S_AUDIT_LIST,
	S_STATS_REQ, S_STATS_CRED, S_STATS_MODE, S_STATS_OUTBOX,
	S_NOTIFY, S_PROV_BY_KEY, S_SET_ALL,
	S__COUNT
};

/* The queries below spell some stored integers out (c.state = 1 for an
 * active credential, r.state IN (0, 1) for a pending request, c.kind = 2
 * for a legacy token, c.delivery = 1 for a secret waiting to be
 * revealed): a reordered enum would silently change what they select.
 * policy/workflow.c pins every state value; these pin what is spelt here. */
_Static_assert(RS_PENDING_MANAGER == 0 && RS_PENDING_PROVISIONER == 1,
    "r.state IN (0, 1) means the pending states");
_Static_assert(CS_ACTIVE == 1, "c.state = 1 means active");
_Static_assert(KIND_LEGACY == 2, "c.kind = 2 means a legacy token");
_Static_assert(DS_PENDING == 1, "c.delivery = 1 means waiting for reveal");
_Static_assert(WARN_ROTATION == -1, "threshold_days = -1 is the rotation "
    "flag");

static const char *const stmt_sql[S__COUNT] = {
	[S_BEGIN] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT kw_part",
	[S_RELEASE] = "RELEASE kw_part",
	[S_ROLLBACK_TO] = "ROLLBACK TO kw_part",
	[S_WRITE_LOCK] = "SELECT pg_advisory_xact_lock($1::bigint)",
	[S_JOBS_LOCK] = "SELECT pg_try_advisory_lock($1::bigint)",
	[S_JOBS_UNLOCK] = "SELECT pg_advisory_unlock($1::bigint)",
	/* claims live in a second key space (two int4 keys) */
	[S_CLAIM] = "SELECT pg_try_advisory_lock(1803968512,"
	    " hashtext($1))",
	[S_UNCLAIM] = "SELECT pg_advisory_unlock(1803968512, hashtext($1))",
	[S_PERSON_INSERT] =
	    "INSERT INTO people (id, email, name, manager_id, roles, teams,"
	    " slack_user_id, active, created_at, updated_at, external_id,"
	    " managed_by, scim_deleted_at)"
	    " VALUES ($1, $2, $3, nullif($4, ''), $5::integer, $6,"
	    " nullif($7, ''), $8::integer, $9, $10, nullif($11, ''),"
	    " nullif($12, ''), nullif($13, ''))",
	[S_PERSON_UPDATE] =
	    "UPDATE people SET email = $2, name = $3,"
	    " manager_id = nullif($4, ''), roles = $5::integer, teams = $6,"
	    " slack_user_id = nullif($7, ''), active = $8::integer,"
	    " updated_at = $10, external_id = nullif($11, ''),"
	    " managed_by = nullif($12, ''),"
	    " scim_deleted_at = nullif($13, '') WHERE id = $1",
	[S_PERSON_SCIM_COUNT] =
	    "SELECT count(*) FROM people WHERE scim_deleted_at IS NULL",
	[S_PERSON_SCIM_PAGE] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE p.scim_deleted_at IS NULL ORDER BY p.seq"
	    " LIMIT $2::bigint OFFSET $1::bigint",
	[S_SCIM_TOKEN_INSERT] =
	    "INSERT INTO scim_tokens (id, label, hash, created_at)"
	    " VALUES ($1, nullif($2, ''), $3::bytea, $4)",
	[S_SCIM_TOKEN_FIND] =
	    "SELECT id, coalesce(label, ''), hash, created_at,"
	    " coalesce(last_used_at, '') FROM scim_tokens"
	    " WHERE hash = $1::bytea",
	[S_SCIM_TOKEN_LIST] =
	    "SELECT id, coalesce(label, ''), created_at,"
	    " coalesce(last_used_at, '') FROM scim_tokens ORDER BY seq",
	[S_SCIM_TOKEN_DELETE] = "DELETE FROM scim_tokens WHERE id = $1",
	[S_SCIM_TOKEN_USED] =
	    "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1",
	[S_PERSON_BY_ID] = "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id = $1",
	[S_PERSON_BY_EMAIL] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE lower(p.email) = lower($1)",
	[S_PERSON_LIST] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE p.seq > $1::bigint ORDER BY p.seq LIMIT $2::bigint",
	[S_TOKEN_INSERT] =
	    "INSERT INTO tokens (id, person_id, hash, created_at, label,"
	    " expires_at) VALUES ($1, $2, $3::bytea, $4, $5, nullif($6, ''))",
	[S_TOKEN_FIND] =
	    "SELECT " PERSON_COLS ", t.id, t.person_id, t.hash, t.created_at,"
	    " t.label, coalesce(t.expires_at, ''),"
	    " coalesce(t.last_used_at, '')"
	    " FROM tokens t JOIN people p ON p.id = t.person_id"
	    " LEFT JOIN people m ON m.id = p.manager_id"
	    " WHERE t.hash = $1::bytea AND t.revoked_at IS NULL",
	[S_TOKEN_REVOKE_PERSON] =
	    "UPDATE tokens SET revoked_at = $2"
	    " WHERE person_id = $1 AND revoked_at IS NULL",
	[S_TOKEN_LIST] =
	    "SELECT id, person_id, created_at, coalesce(revoked_at, ''),"
	    " label, coalesce(expires_at, ''), coalesce(last_used_at, '')"
	    " FROM tokens WHERE person_id = $1 ORDER BY created_at, id",
	[S_TOKEN_REVOKE] =
	    "UPDATE tokens SET revoked_at = $3"
	    " WHERE person_id = $1 AND id = $2 AND revoked_at IS NULL",
	[S_TOKEN_TOUCH] =
	    "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
	/* live tokens expiring by $1 (and not yet), never warned about */
	[S_TOKEN_EXPIRING] =
	    "SELECT id, person_id, created_at, '', label, expires_at,"
	    " coalesce(last_used_at, '') FROM tokens"
	    " WHERE revoked_at IS NULL AND warned_at IS NULL"
	    " AND expires_at <= $1 AND expires_at > $2"
	    " ORDER BY expires_at LIMIT $3::bigint",
	/* conditional: of two nodes warning at once, one sees 1 row */
	[S_TOKEN_WARNED] =
	    "UPDATE tokens SET warned_at = $2"
	    " WHERE id = $1 AND warned_at IS NULL",
	[S_SESS_INSERT] =
	    "INSERT INTO sessions (id, person_id, hash, method, created_at,"
	    " expires_at, last_seen_at)"
	    " VALUES ($1, $2, $3::bytea, $4, $5, $6, $7)",
	[S_SESS_FIND] =
	    "SELECT " PERSON_COLS ", s.id, s.person_id, s.hash, s.method,"
	    " s.created_at, s.expires_at, s.last_seen_at"
	    " FROM sessions s JOIN people p ON p.id = s.person_id"
	    " LEFT JOIN people m ON m.id = p.manager_id"
	    " WHERE s.hash = $1::bytea",
	[S_SESS_TOUCH] =
	    "UPDATE sessions SET last_seen_at = $2 WHERE id = $1",
	[S_SESS_DELETE] = "DELETE FROM sessions WHERE id = $1",
	[S_SESS_DELETE_PERSON] = "DELETE FROM sessions WHERE person_id = $1",
	[S_SESS_PURGE] =
	    "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
	[S_INSTANCE_INSERT] =
	    "INSERT INTO instances (id, name, display_name, provider, url,"
	    " allow_integrations, issuance, allowed_scopes, max_lifetime_days,"
	    " rotation_days, bot_email, bot_sealed, created_at, updated_at,"
	    " grace_days, warn_days, default_delivery, allowed_deliveries,"
	    " max_access_ttl, bot_client_id, bot_expires_at)"
	    " VALUES ($1, $2, $3, $4, $5, $6::integer, $7::integer, $8,"
	    " $9::integer, $10::integer, nullif($11, ''), $12::bytea, $13, $14,"
	    " $15::integer, $16, $17::integer, $18::integer, $19::integer,"
	    " nullif($20, ''), nullif($21, ''))",
	[S_INSTANCE_UPDATE] =
	    "UPDATE instances SET name = $2, display_name = $3, provider = $4,"
	    " url = $5, allow_integrations = $6::integer,"
	    " issuance = $7::integer, allowed_scopes = $8,"
	    " max_lifetime_days = $9::integer, rotation_days = $10::integer,"
	    " bot_email = nullif($11, ''), bot_sealed = $12::bytea,"
	    " updated_at = $14, grace_days = $15::integer, warn_days = $16,"
	    " default_delivery = $17::integer,"
	    " allowed_deliveries = $18::integer, max_access_ttl = $19::integer,"
	    " bot_client_id = nullif($20, ''), bot_expires_at = nullif($21, '')"
	    " WHERE id = $1",
	[S_INSTANCE_BY_NAME] = "SELECT " INSTANCE_COLS
	    " FROM instances WHERE name = $1 OR id = $1",
	[S_INSTANCE_LIST] = "SELECT " INSTANCE_COLS
	    " FROM instances WHERE seq > $1::bigint ORDER BY seq"
	    " LIMIT $2::bigint",
	[S_PROV_DELETE] =
	    "DELETE FROM instance_provisioners WHERE instance_id = $1",
	[S_PROV_INSERT] =
	    "INSERT INTO instance_provisioners (instance_id, pos, person_id)"
	    " VALUES ($1, $2::integer, $3)",
	[S_PROV_LIST] =
	    "SELECT ip.person_id, p.email FROM instance_provisioners ip"
	    " JOIN people p ON p.id = ip.person_id"
	    " WHERE ip.instance_id = $1 ORDER BY ip.pos",
	[S_REQ_INSERT] =
	    "INSERT INTO requests (id, instance_id, kind, state, purpose,"
	    " requester_id, manager_approver_id, justification, use_case,"
	    " scopes, lifetime_days, access_request_url, link, integration,"
	    " credential_id, created_at, updated_at, expires_at, delivery_mode)"
	    " VALUES ($1, $2, $3::integer, $4::integer, $5, $6, nullif($7, ''),"
	    " $8, $9, $10, $11::integer, nullif($12, ''), $13, $14,"
	    " nullif($15, ''), $16, $17, $18, $19::integer)",
	[S_REQ_TRANSITION] =
	    "UPDATE requests SET state = $2::integer,"
	    " manager_approver_id = nullif($3, ''),"
	    " credential_id = nullif($4, ''), updated_at = $5"
	    " WHERE id = $1 AND state = $6::integer",
	[S_REQ_GET] = "SELECT " REQUEST_COLS REQUEST_FROM "WHERE r.id = $1",
	[S_REQ_LIST] = "SELECT " REQUEST_COLS REQUEST_FROM
	    "WHERE r.seq > $1::bigint"
	    " AND ($2::integer = 1 OR r.requester_id = $3::text OR"
	    " q.manager_id = $3::text OR "
	    IS_PROVISIONER("r.instance_id", "$3::text") ")"
	    " AND ($4::bigint = 0 OR (($4::bigint >> r.state) & 1) = 1)"
	    " AND ($5::text IS NULL OR r.instance_id = $5::text)"
	    " AND ($6::text IS NULL OR r.requester_id = $6::text)"
	    " ORDER BY r.seq LIMIT $7::bigint",
	[S_HIST_APPEND] =
	    "INSERT INTO request_history (request_id, pos, at, actor, action,"
	    " comment) VALUES ($1, (SELECT coalesce(max(pos), 0) + 1 FROM"
	    " request_history WHERE request_id = $1), $2, $3, $4, $5)",
	[S_HIST_LIST] =
	    "SELECT at, actor, action, comment FROM request_history"
	    " WHERE request_id = $1 ORDER BY pos",
	[S_CRED_INSERT] =
	    "INSERT INTO credentials (id, instance_id, kind, owner_id,"
	    " request_id, purpose, name, scopes, state, created_at, expires_at,"
	    " last_used_at, revoked_at, revoke_reason, external, fingerprint,"
	    " delivery, delivery_expires_at, sealed, rotated_from, rotated_to,"
	    " lifetime_days, grace_until, replacement_id, external_key,"
	    " delivery_mode, broker_sealed)"
	    " VALUES ($1, $2, $3::integer, $4, nullif($5, ''), $6, $7, $8,"
	    " $9::integer, $10, nullif($11, ''), nullif($12, ''),"
	    " nullif($13, ''), nullif($14, ''), $15, nullif($16, ''),"
	    " $17::integer, nullif($18, ''), $19::bytea, nullif($20, ''),"
	    " nullif($21, ''), $22::integer, nullif($23, ''), nullif($24, ''),"
	    " nullif($25, ''), $26::integer, $27::bytea)",
	[S_CRED_UPDATE] =
	    "UPDATE credentials SET name = $7, scopes = $8, state = $9::integer,"
	    " created_at = $10, expires_at = nullif($11, ''),"
	    " last_used_at = nullif($12, ''), revoked_at = nullif($13, ''),"
	    " revoke_reason = nullif($14, ''), external = $15,"
	    " fingerprint = nullif($16, ''), delivery = $17::integer,"
	    " delivery_expires_at = nullif($18, ''), sealed = $19::bytea,"
	    " rotated_from = nullif($20, ''), rotated_to = nullif($21, ''),"
	    " lifetime_days = $22::integer, grace_until = nullif($23, ''),"
	    " replacement_id = nullif($24, ''), external_key = nullif($25, ''),"
	    " delivery_mode = $26::integer, broker_sealed = $27::bytea"
	    " WHERE id = $1",
	[S_CRED_GET] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.id = $1",
	[S_CRED_LIST] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.seq > $1::bigint"
	    " AND ($2::integer = 1 OR c.owner_id = $3::text OR"
	    " o.manager_id = $3::text OR "
	    IS_PROVISIONER("c.instance_id", "$3::text") ")"
	    " AND ($4::text IS NULL OR c.instance_id = $4::text)"
	    " AND ($5::text IS NULL OR c.owner_id = $5::text)"
	    " AND ($6::integer < 0 OR c.state = $6::integer)"
	    " AND ($7::text IS NULL OR (c.expires_at IS NOT NULL AND"
	    " c.expires_at < $7::text))"
	    " AND ($9::integer < 0 OR c.kind = $9::integer)"
	    " ORDER BY c.seq LIMIT $8::bigint",
	[S_DUE_EXPIRING] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.state = 1 AND c.expires_at IS NOT NULL"
	    " AND c.expires_at <= $1 AND c.seq > $2::bigint ORDER BY c.seq"
	    " LIMIT $3::bigint",
	[S_DUE_GRACE] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.state = 1 AND c.grace_until IS NOT NULL"
	    " AND c.grace_until <= $1 AND c.seq > $2::bigint ORDER BY c.seq"
	    " LIMIT $3::bigint",
	[S_DUE_UNDELIVERED] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.delivery = 1 AND c.delivery_expires_at <= $1"
	    " AND c.seq > $2::bigint ORDER BY c.seq LIMIT $3::bigint",
	[S_DUE_ROTATION] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.state = 1 AND c.kind != 2 AND c.created_at <= $1"
	    " AND c.rotated_to IS NULL AND c.seq > $2::bigint AND NOT EXISTS"
	    " (SELECT 1 FROM credential_warnings w WHERE w.credential_id ="
	    " c.id AND w.threshold_days = -1) ORDER BY c.seq LIMIT $3::bigint",
	[S_DUE_LEGACY] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.kind = 2 AND c.state = 1 AND c.seq > $2::bigint"
	    " AND $1::text IS NOT NULL ORDER BY c.seq LIMIT $3::bigint",
	[S_CRED_BY_KEY] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.instance_id = $1 AND c.external_key = $2",
	[S_REQ_DUE] = "SELECT " REQUEST_COLS REQUEST_FROM
	    "WHERE r.state IN (0, 1) AND r.expires_at <= $1"
	    " AND r.seq > $2::bigint ORDER BY r.seq LIMIT $3::bigint",
	[S_PERSON_BY_SLACK] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE p.slack_user_id = $1",
	[S_WARN_ADD] =
	    "INSERT INTO credential_warnings (credential_id, threshold_days,"
	    " warned_at) VALUES ($1, $2::integer, $3) ON CONFLICT DO NOTHING",
	[S_SET_GET] = "SELECT value, sealed FROM settings WHERE key = $1",
	[S_SET_ALL] = "SELECT value, sealed, key FROM settings",
	[S_SET_PUT] =
	    "INSERT INTO settings (key, value, sealed, updated_at)"
	    " VALUES ($1, $2, $3::bytea, $4) ON CONFLICT (key) DO UPDATE SET"
	    " value = excluded.value, sealed = excluded.sealed,"
	    " updated_at = excluded.updated_at",
	[S_OUT_INSERT] =
	    "INSERT INTO outbox (id, channel, recipient, kind, payload,"
	    " created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
	/* SKIP LOCKED: two nodes claiming at once take different rows */
	[S_OUT_CLAIM] =
	    "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1"
	    " WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL"
	    " AND failed_at IS NULL AND next_attempt_at <= $1 AND"
	    " (claimed_until IS NULL OR claimed_until <= $4) ORDER BY seq"
	    " LIMIT $3::bigint FOR UPDATE SKIP LOCKED)"
	    " RETURNING seq, id, channel, recipient, kind, payload, attempts,"
	    " created_at, next_attempt_at, coalesce(last_error, '')",
	[S_OUT_SENT] =
	    "UPDATE outbox SET sent_at = $2, claimed_until = NULL,"
	    " last_error = NULL WHERE id = $1",
	[S_OUT_RETRY] =
	    "UPDATE outbox SET next_attempt_at = $2, claimed_until = NULL,"
	    " last_error = $3 WHERE id = $1",
	[S_OUT_FAIL] =
	    "UPDATE outbox SET failed_at = $2, claimed_until = NULL,"
	    " last_error = $3 WHERE id = $1",
	[S_OUT_PENDING] = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
	    " AND failed_at IS NULL",
	[S_REPLAY_PURGE] = "DELETE FROM slack_replays WHERE seen_at < $1",
	[S_REPLAY_ADD] =
	    "INSERT INTO slack_replays (signature, seen_at) VALUES ($1, $2)"
	    " ON CONFLICT DO NOTHING",
	[S_BOUND_INSERT] =
	    "INSERT INTO bound_tokens (id, credential_id, label, hash,"
	    " created_at) VALUES ($1, $2, $3, $4::bytea, $5)",
	/* a bound token lives only as long as its credential is active */
	[S_BOUND_FIND] =
	    "SELECT " PERSON_COLS ", b.id, b.credential_id, b.hash,"
	    " b.created_at FROM bound_tokens b"
	    " JOIN credentials c ON c.id = b.credential_id AND c.state = 1"
	    " JOIN people p ON p.id = c.owner_id"
	    " LEFT JOIN people m ON m.id = p.manager_id"
	    " WHERE b.hash = $1::bytea AND b.revoked_at IS NULL",
	[S_BOUND_LIST] =
	    "SELECT id, credential_id, label, created_at,"
	    " coalesce(last_used_at, '') FROM bound_tokens"
	    " WHERE credential_id = $1 AND revoked_at IS NULL"
	    " ORDER BY created_at, id",
	[S_BOUND_REVOKE] =
	    "UPDATE bound_tokens SET revoked_at = $3"
	    " WHERE credential_id = $1 AND id = $2 AND revoked_at IS NULL",
	[S_BOUND_REVOKE_CRED] =
	    "UPDATE bound_tokens SET revoked_at = $2"
	    " WHERE credential_id = $1 AND revoked_at IS NULL",
	[S_BOUND_USED] =
	    "UPDATE bound_tokens SET last_used_at = $2 WHERE id = $1",
	[S_AUDIT_HEAD] =
	    "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
	[S_AUDIT_INSERT] =
	    "INSERT INTO audit_events (seq, at, actor, action, subject,"
	    " details, prev_hash, hash) VALUES ($1::bigint, $2, $3, $4, $5, $6,"
	    " $7, $8)",
	[S_AUDIT_LIST] =
	    "SELECT seq, at, actor, action, subject, details, prev_hash, hash"
	    " FROM audit_events WHERE seq > $1::bigint ORDER BY seq"
	    " LIMIT $2::bigint",
	[S_STATS_REQ] = "SELECT state, count(*) FROM requests GROUP BY state",
	[S_STATS_CRED] =
	    "SELECT state, kind, delivery, count(*) FROM credentials"
	    " GROUP BY state, kind, delivery",
	[S_STATS_MODE] =
	    "SELECT state, delivery_mode, count(*) FROM credentials"
	    " WHERE kind = 0 GROUP BY state, delivery_mode",
	[S_STATS_OUTBOX] = "SELECT count(*), coalesce(min(created_at), '')"
	    " FROM outbox WHERE sent_at IS NULL",
	/* delivered when the transaction commits (see stmt_auth) */
	[S_NOTIFY] = "SELECT pg_notify('" AUTH_CHANNEL "', '')",
	/* S_PROV_LIST by S_INSTANCE_BY_NAME's key: both go in one round
	 * trip (pg_instance_get) */
	[S_PROV_BY_KEY] =
	    "SELECT ip.person_id, p.email, ip.instance_id"
	    " FROM instance_provisioners ip JOIN people p ON p.id = ip.person_id"
	    " WHERE ip.instance_id IN (SELECT id FROM instances"
	    " WHERE name = $1 OR id = $1) ORDER BY ip.pos",
};

/*
 * The statements that change what authenticates a caller (a person's
 * roles, teams or activity, a token, a session, a credential's state
 * that keeps its bound tokens alive): a transaction that ran one
 * notifies AUTH_CHANNEL as it commits, and every node's watcher
 * (store_watch) then drops its authentication cache.
 */
static const unsigned char stmt_auth[S__COUNT] = {
	[S_PERSON_UPDATE] = 1,
	[S_TOKEN_REVOKE_PERSON] = 1, [S_TOKEN_REVOKE] = 1,
	[S_SESS_DELETE] = 1, [S_SESS_DELETE_PERSON] = 1, [S_SESS_PURGE] = 1,
	[S_BOUND_REVOKE] = 1, [S_BOUND_REVOKE_CRED] = 1,
	[S_CRED_UPDATE] = 1,
};

/*
 * Appends whose callers only ever fail on an error: inside a part
 * (pg_savepoint) they are queued instead of waiting for their answer,
 * and go with the part's next statement that needs one, or with its
 * RELEASE.  An error then fails that later call of the same part
 * (KW_ERR_UNAVAILABLE), at the latest its release: the part is rolled
 * back as if the append itself had failed.
 */
static const unsigned char stmt_behind[S__COUNT] = {
	[S_REQ_INSERT] = 1, [S_HIST_APPEND] = 1, [S_AUDIT_INSERT] = 1,
	[S_OUT_INSERT] = 1,
};

/*
 * Writes that change nothing an authentication or a cached lookup rests
 * on (people, tokens, sessions, SCIM and bound tokens, credentials'
 * states, instances and their provisioners, settings): a request's
 * workflow appends and moves states with these.  Any other statement
 * but a SELECT empties the write transaction's cache (pg_cached) and
 * marks it (store_auth_touched: the API drops its authentication cache
 * after the commit).
 */
static const unsigned char stmt_keeps[S__COUNT] = {
	[S_SAVEPOINT] = 1, [S_RELEASE] = 1,
	[S_REQ_INSERT] = 1, [S_REQ_TRANSITION] = 1, [S_HIST_APPEND] = 1,
	[S_AUDIT_INSERT] = 1, [S_OUT_INSERT] = 1, [S_CRED_INSERT] = 1,
	[S_WARN_ADD] = 1, [S_OUT_CLAIM] = 1, [S_OUT_SENT] = 1,
	[S_OUT_RETRY] = 1, [S_OUT_FAIL] = 1, [S_REPLAY_PURGE] = 1,
	[S_REPLAY_ADD] = 1, [S_BOUND_USED] = 1,
};

/* Bound parameters of one statement, all as text (bytea in its hex
 * form); strings built here are owned and freed by pg_params_free. */
struct params {
	int		 n;
	const char	*v[PG_PARAMS_MAX];
	char		*own[PG_PARAMS_MAX];
};

struct pg {
	PGconn		*conn;
	char		*conninfo;
	unsigned char	 prepared[S__COUNT];
	int		 in_tx;		/* BEGIN queued or sent, no COMMIT or
					   ROLLBACK yet */
	int		 lost;		/* the connection broke in this tx */
	int		 jobs_locked;	/* this session holds LOCK_JOBS */
	/* the audit head as this transaction left it: while it holds the
	 * write lock no other node appends, so after the first read each
	 * append of a group moves it here instead of a round trip; unknown
	 * outside a transaction and after anything was undone */
	int		 head_known;
	int64_t		 head_seq;
	char		 head_hash[65];
	/* statements that wait to go with the next one, in the same round
	 * trip (libpq's pipeline mode): a transaction's BEGIN, lock and
	 * first reads (pg_begin), a part's SAVEPOINT (pg_savepoint), its
	 * appends (stmt_behind) and RELEASE until the part ends */
	struct queued {
		enum stmt	 id;
		struct params	 p;	/* owned copies */
	}		 queued[PG_QUEUE_MAX];
	int		 nqueued;
	/* statements sent ahead (pg_send_ahead), their results not read
	 * yet: the connection is in pipeline mode, and the next batch reads
	 * them first (pg_collect) */
	int		 ahead;
	int		 in_part;	/* a part is open (pg_savepoint) */
	/* every setting, as this write transaction read them: settings
	 * change only in write transactions, and this one holds the write
	 * lock (pg_setting_get) */
	PGresult	*settings;
	int		 broken;	/* a queued statement failed: the
					   transaction can only roll back */
	int		 auth_changed;	/* this tx ran a stmt_auth one */
	int		 auth_touched;	/* the last tx begun ran a write
					   outside stmt_keeps (pg_dirty) */
	int		 listening;	/* LISTEN AUTH_CHANNEL (pg_watch) */
	/* lookups this write transaction made (pg_cached), kept until a
	 * statement that may change what they read runs (stmt_keeps) */
	struct cached {
		enum stmt	 id;
		unsigned char	*key;
		size_t		 keylen;
		PGresult	*res[2];
	}		 cache[PG_CACHE_MAX];
	int		 ncached;
};


static void
p_str(struct params *p, int i, const char *v)
{
	p->v[i - 1] = v;
	if (i > p->n)
		p->n = i;
}

static void
p_own(struct params *p, int i, char *v)
{
	p->own[i - 1] = v;
	p_str(p, i, v);
}

static void
p_int(struct params *p, int i, int64_t v)
{
	char *s = malloc(24);

	if (s != NULL)
		snprintf(s, 24, "%lld", (long long)v);
	p_own(p, i, s);
}

static void
p_opt(struct params *p, int i, const char *v)
{
	p_str(p, i, v);		/* NULL binds SQL NULL */
}

/*
 * The viewer of a list query: $all is 1 when it sees everything; $who is
 * its person id, or NULL for nobody (NULL equals nothing, so no person
 * column matches it).  The queries then admit a row when
 *   $all = 1 OR requester/owner = $who OR their manager = $who OR
 *   $who provisions the row's instance
 * which is policy_may_see_request()/_credential() (policy/visibility.c).
 */
static void
p_viewer(struct params *p, int all, int who, const struct store_viewer *v)
{
	p_int(p, all, v->all != 0);
	p_opt(p, who, v->person_id != NULL && v->person_id[0] != '\0' ?
	    v->person_id : NULL);
}

/* bytea as "\x<hex>"; NULL when len is 0. */
static void
p_blob(struct params *p, int i, const unsigned char *b, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char	*s;
	size_t	 k;

	if (len == 0) {
		p_str(p, i, NULL);
		return;
	}
	if ((s = malloc(2 * len + 3)) != NULL) {
		s[0] = '\\';
		s[1] = 'x';
		for (k = 0; k < len; k++) {
			s[2 + 2 * k] = hex[b[k] >> 4];
			s[3 + 2 * k] = hex[b[k] & 15];
		}
		s[2 + 2 * len] = '\0';
	}
	p_own(p, i, s);
}

static void
pg_params_free(struct params *p)
{
	int i;

	for (i = 0; i < PG_PARAMS_MAX; i++)
		if (p->own[i] != NULL) {
			kw_wipe(p->own[i], strlen(p->own[i]));
			free(p->own[i]);
		}
}

/* Is this result's error a broken connection (or a server going
 * away), as opposed to an error of the statement? */
static int
conn_lost(const struct pg *q, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK)
		return 1;
	return st == NULL || strncmp(st, "08", 2) == 0 ||
	    strncmp(st, "57P", 3) == 0;
}

/* Map a failed result to a project error. */
static int
res_err(const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (st != NULL && (strcmp(st, "23505") == 0 ||
	    strcmp(st, "23503") == 0))
		return KW_ERR_CONFLICT;	/* unique / foreign key */
	return KW_ERR_UNAVAILABLE;
}

/* Forget the queued statements from the from-th on (never sent). */
static void
pg_unqueue(struct pg *q, int from)
{
	while (q->nqueued > from)
		pg_params_free(&q->queued[--q->nqueued].p);
}

/* The first n queued statements were sent (or never will be): forget
 * them, keeping those behind. */
static void
pg_unqueue_sent(struct pg *q, int n)
{
	int i;

	for (i = 0; i < n; i++)
		pg_params_free(&q->queued[i].p);
	memmove(q->queued, q->queued + n,
	    (size_t)(q->nqueued - n) * sizeof(q->queued[0]));
	q->nqueued -= n;
}

/* Forget the write transaction's cached lookups. */
static void
pg_uncache(struct pg *q)
{
	struct cached *c;

	while (q->ncached > 0) {
		c = &q->cache[--q->ncached];
		PQclear(c->res[0]);
		PQclear(c->res[1]);
		free(c->key);
		memset(c, 0, sizeof(*c));
	}
}

/* Statement id is about to run: the cached lookups go unless it is a
 * read or changes nothing they read (stmt_keeps). */
static void
pg_dirty(struct pg *q, enum stmt id)
{
	if (stmt_keeps[id] || strncmp(stmt_sql[id], "SELECT", 6) == 0)
		return;
	pg_uncache(q);
	if (id != S_BEGIN && id != S_COMMIT && id != S_ROLLBACK &&
	    id != S_ROLLBACK_TO)
		q->auth_touched = 1;
}

/*
 * A lookup (statement id, then its companion when there is one, by key)
 * made earlier in this write transaction: its results, still owned by
 * the cache, or NULL.  While the transaction holds the store's write
 * lock nobody else changes people, tokens or instances (every write
 * takes the lock), and this transaction's own changes to them empty the
 * cache (pg_dirty), as does undoing a part (pg_rollback_to): the same
 * lookup would read the same rows.  A group's parts often ask the same
 * (the instance a request is filed on, a busy caller's token).
 */
static PGresult **
pg_cached(struct pg *q, enum stmt id, const void *key, size_t keylen)
{
	int i;

	if (!q->in_tx || q->lost || q->broken)
		return NULL;
	for (i = 0; i < q->ncached; i++)
		if (q->cache[i].id == id && q->cache[i].keylen == keylen &&
		    memcmp(q->cache[i].key, key, keylen) == 0)
			return q->cache[i].res;
	return NULL;
}

/* Keep res[0..n) as the lookup's, taken over by the cache: the cached
 * copy, or NULL when it is not kept (res stays the caller's). */
static PGresult **
pg_cache(struct pg *q, enum stmt id, const void *key, size_t keylen,
    PGresult **res, int n)
{
	struct cached	*c;
	int		 i;

	if (!q->in_tx || q->lost || q->broken)
		return NULL;
	if (q->ncached == PG_CACHE_MAX)
		pg_uncache(q);
	c = &q->cache[q->ncached];
	if ((c->key = malloc(keylen + 1)) == NULL)
		return NULL;
	memcpy(c->key, key, keylen);
	c->keylen = keylen;
	c->id = id;
	for (i = 0; i < n; i++)
		c->res[i] = res[i];
	q->ncached++;
	return c->res;
}

/* Forget the connection (the next call outside a transaction makes a
 * new one); the session's locks went with it. */
static void
pg_drop(struct pg *q)
{
	PQfinish(q->conn);
	q->conn = NULL;
	memset(q->prepared, 0, sizeof(q->prepared));
	q->jobs_locked = 0;
	q->listening = 0;
	q->ahead = 0;
	pg_unqueue(q, 0);
	pg_uncache(q);
}

/* A new connection to q->conninfo, with keywarden's session settings;
 * 0 or KW_ERR_UNAVAILABLE. */
static int
pg_connect(struct pg *q)
{
	static const char *const keys[] = { "connect_timeout", "dbname",
	    NULL };
	const char	*vals[] = { PG_CONNECT_TIMEOUT, q->conninfo, NULL };
	PGresult	*res;
	int		 ok;

	pg_drop(q);
	/* the URI's own connect_timeout, if any, wins (it comes later) */
	q->conn = PQconnectdbParams(keys, vals, 1);
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
		pg_drop(q);
		return KW_ERR_UNAVAILABLE;
	}
	/* wait for a lock no longer than SQLite waits for its own */
	res = PQexec(q->conn, "SET lock_timeout = '" LOCK_TIMEOUT "';"
	    " SET client_min_messages = error");
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		pg_drop(q);
		return KW_ERR_UNAVAILABLE;
	}
	return 0;
}

/* (Re)connect when the connection is gone; never inside a transaction
 * (its work is lost: the caller must roll back first). */
static int
pg_ready(struct pg *q)
{
	if (q->lost)
		return KW_ERR_UNAVAILABLE;
	if (q->conn != NULL && PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	if (q->in_tx) {
		q->lost = 1;
		return KW_ERR_UNAVAILABLE;
	}
	return pg_connect(q);
}

/* The number of parameters statement sql uses (its highest $n). */
static int
stmt_nparams(const char *sql)
{
	long	 v;
	int	 n = 0;
	char	*e;

	while ((sql = strchr(sql, '$')) != NULL) {
		v = strtol(++sql, &e, 10);
		if (e != sql && v > n && v <= PG_PARAMS_MAX)
			n = (int)v;
	}
	return n;
}

/* Prepare statement id on q's connection (once per connection), its
 * parameters all typed text (the SQL casts where it needs another). */
static int
pg_prepare(struct pg *q, enum stmt id, char *why, size_t whysz)
{
	Oid		 types[PG_PARAMS_MAX];
	PGresult	*res;
	char		 name[16];
	int		 i, n, r = 0;

	if (q->prepared[id])
		return 0;
	n = stmt_nparams(stmt_sql[id]);
	for (i = 0; i < n; i++)
		types[i] = PG_TEXT_OID;
	snprintf(name, sizeof(name), "kw%d", (int)id);
	res = PQprepare(q->conn, name, stmt_sql[id], n, types);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (why != NULL)
			snprintf(why, whysz, "%.*s", (int)strcspn(
			    PQresultErrorMessage(res), "\n"),
			    PQresultErrorMessage(res));
		if (conn_lost(q, res)) {
			if (q->in_tx)
				q->lost = 1;
			else
				pg_drop(q);
		}
		r = KW_ERR_UNAVAILABLE;
	} else
		q->prepared[id] = 1;
	PQclear(res);
	return r;
}

/* A statement's results are lost with the connection: inside a
 * transaction it is marked lost (the caller rolls back), outside it the
 * connection is dropped (the next call reconnects). */
static void
pg_lost(struct pg *q)
{
	if (q->in_tx)
		q->lost = 1;
	else
		pg_drop(q);
}

static int	pg_batch(struct pg *, int, const enum stmt *,
		    struct params **, PGresult **);

/* Queue statement id with p's parameters (copied; p is freed) to go
 * with the next one (see struct pg); a full queue is sent first. */
static int
pg_queue(struct pg *q, enum stmt id, struct params *p)
{
	struct queued	*e;
	PGresult	*res;
	int		 i, r = 0;

	if (q->broken)
		r = KW_ERR_UNAVAILABLE;
	else if (q->nqueued == PG_QUEUE_MAX)
		r = pg_batch(q, 0, NULL, NULL, &res);
	if (r != 0) {
		if (p != NULL)
			pg_params_free(p);
		return r;
	}
	pg_dirty(q, id);
	e = &q->queued[q->nqueued];
	memset(e, 0, sizeof(*e));
	e->id = id;
	for (i = 0; p != NULL && i < p->n; i++) {
		if (p->v[i] == NULL)
			continue;
		if ((e->p.own[i] = strdup(p->v[i])) == NULL) {
			pg_params_free(&e->p);
			pg_params_free(p);
			return KW_ERR_NOMEM;
		}
		e->p.v[i] = e->p.own[i];
	}
	e->p.n = p != NULL ? p->n : 0;
	if (p != NULL)
		pg_params_free(p);
	q->nqueued++;
	return 0;
}

/* What the failed result res means (KW_ERR_*); queued: the statement
 * was queued (its caller has been told it went well).  A lost
 * connection, or a queued statement that failed (a part's SAVEPOINT,
 * appends or RELEASE, perhaps sent with a later part's statement),
 * leaves the transaction good only for rolling back: its commit fails,
 * and every part of it learns so. */
static int
pg_failed(struct pg *q, int queued, const PGresult *res)
{
	if (conn_lost(q, res)) {
		pg_lost(q);
		return KW_ERR_UNAVAILABLE;
	}
	if (queued && q->in_tx)
		q->broken = 1;
	return queued ? KW_ERR_UNAVAILABLE : res_err(res);
}

static void	pg_begun(struct pg *, enum stmt, PGresult *);

/*
 * Read the results of a pipeline that ends with a Sync: first ahead
 * statements' sent ahead, then nq queued ones (qids[]) (all were told
 * they went well: a failure breaks the transaction, pg_failed; the
 * reads pg_begin queued are kept, pg_begun), then n into res[i] (the
 * caller PQclear()s them); leave pipeline mode.  0, or the first
 * failure (the server skips what follows it).
 */
static int
pg_collect(struct pg *q, int ahead, int nq, const enum stmt *qids, int n,
    PGresult **res)
{
	PGresult	*got;
	int		 i, j, r = 0;

	for (j = 0; j < ahead + nq + n; j++) {
		i = j - ahead - nq;
		if ((got = PQgetResult(q->conn)) == NULL) {
			pg_lost(q);
			return KW_ERR_UNAVAILABLE;
		}
		if (PQresultStatus(got) == PGRES_COMMAND_OK ||
		    PQresultStatus(got) == PGRES_TUPLES_OK) {
			if (i >= 0 && r == 0)
				res[i] = got;
			else if (i < 0 && j >= ahead && r == 0 && q->in_tx &&
			    (qids[j - ahead] == S_AUDIT_HEAD ||
			    qids[j - ahead] == S_SET_ALL))
				pg_begun(q, qids[j - ahead], got);
			else
				PQclear(got);
		} else {
			/* the first failure says why; the rest were skipped */
			if (r == 0)
				r = pg_failed(q, i < 0, got);
			PQclear(got);
		}
		if (q->conn == NULL)
			return r;	/* dropped: nothing more to read */
		/* each statement's results end with a NULL */
		if ((got = PQgetResult(q->conn)) != NULL) {
			PQclear(got);
			pg_lost(q);
			return KW_ERR_UNAVAILABLE;
		}
	}
	got = PQgetResult(q->conn);
	if (got == NULL || PQresultStatus(got) != PGRES_PIPELINE_SYNC ||
	    PQexitPipelineMode(q->conn) != 1) {
		PQclear(got);
		pg_lost(q);
		return KW_ERR_UNAVAILABLE;
	}
	PQclear(got);
	return r;
}

/* Read what was sent ahead (one round trip: a Sync), before a statement
 * that cannot go in a pipeline (PQprepare) or when a batch fails before
 * its own are sent: 0, or KW_ERR_UNAVAILABLE with the transaction
 * broken. */
static int
pg_sync_ahead(struct pg *q)
{
	int n = q->ahead;

	q->ahead = 0;
	if (n == 0)
		return 0;
	if (q->lost || q->conn == NULL)
		return KW_ERR_UNAVAILABLE;
	if (PQpipelineSync(q->conn) != 1) {
		pg_lost(q);
		return KW_ERR_UNAVAILABLE;
	}
	return pg_collect(q, n, 0, NULL, 0, NULL);
}

/*
 * Send the queued statements now, without waiting for them (pipeline
 * mode, no Sync): the server runs a part's appends while the next part
 * is made under the write lock, instead of all of them at the COMMIT.
 * Their results are read by the next batch (pg_collect), so a failure
 * still breaks the transaction and fails its commit for every part.
 * Statements not yet prepared on this connection wait for that batch.
 */
static void
pg_send_ahead(struct pg *q)
{
	char	name[16];
	int	j;

	if (q->nqueued == 0 || q->queued[0].id == S_BEGIN || q->broken ||
	    q->lost || q->conn == NULL)
		return;
	for (j = 0; j < q->nqueued; j++)
		if (!q->prepared[q->queued[j].id])
			return;
	if (q->ahead == 0 && PQenterPipelineMode(q->conn) != 1)
		return;
	for (j = 0; j < q->nqueued; j++) {
		snprintf(name, sizeof(name), "kw%d", (int)q->queued[j].id);
		if (PQsendQueryPrepared(q->conn, name,
		    stmt_nparams(stmt_sql[q->queued[j].id]),
		    q->queued[j].p.v, NULL, NULL, 0) != 1)
			break;
	}
	q->ahead += j;
	if (j < q->nqueued || PQflush(q->conn) != 0)
		pg_lost(q);	/* the connection is in an unknown state */
	pg_unqueue_sent(q, j);
}

/*
 * Send the queued statements, then ids[0..n) with parameters p[i] (each
 * may be NULL; freed here), in one round trip (pipeline mode when there
 * is more than one, or when some were sent ahead), and read their
 * results, after those sent ahead: 0 with res[i] holding each one's
 * (the caller PQclear()s them), or an error with every res[i] NULL.
 * The statements are independent; after one fails the server skips the
 * rest.  A statement that changes what authenticates a caller
 * (stmt_auth) is notified: at commit inside a transaction, at once
 * outside one.
 */
static int
pg_batch(struct pg *q, int n, const enum stmt *ids, struct params **p,
    PGresult **res)
{
	enum stmt	 all[PG_BATCH_MAX];
	struct params	*ap[PG_BATCH_MAX];
	PGresult	*got;
	char		 name[16];
	int		 i, j, nq, ahead, total, held, r = 0, notify = 0;

	for (i = 0; i < n; i++)
		res[i] = NULL;
	nq = q->nqueued;
	/* a part's SAVEPOINT waits for the part's first write: reads need
	 * nothing undone (should one fail, the transaction is broken) */
	for (held = nq > 0 && n > 0 && q->queued[nq - 1].id == S_SAVEPOINT,
	    i = 0; held && i < n; i++)
		if (strncmp(stmt_sql[ids[i]], "SELECT", 6) != 0)
			held = 0;
	if (held)
		nq--;
	total = nq + n;
	if (q->broken)
		r = KW_ERR_UNAVAILABLE;
	else if (total > PG_BATCH_MAX)
		r = KW_ERR_INTERNAL;
	else
		r = pg_ready(q);
	for (j = 0; r == 0 && j < total; j++) {
		all[j] = j < nq ? q->queued[j].id : ids[j - nq];
		ap[j] = j < nq ? &q->queued[j].p : p != NULL ? p[j - nq] : NULL;
		pg_dirty(q, all[j]);
		/* PQprepare cannot go in a pipeline */
		if (!q->prepared[all[j]] && q->ahead > 0)
			r = pg_sync_ahead(q);
		if (r == 0)
			r = pg_prepare(q, all[j], NULL, 0);
	}
	if (r != 0) {
		if (nq > 0 && q->in_tx)
			q->broken = 1;	/* what was queued was not done */
		goto out;
	}
	ahead = q->ahead;
	if (total == 1 && ahead == 0) {	/* the plain way: no pipeline */
		snprintf(name, sizeof(name), "kw%d", (int)all[0]);
		got = PQexecPrepared(q->conn, name,
		    stmt_nparams(stmt_sql[all[0]]), ap[0] != NULL ?
		    ap[0]->v : NULL, NULL, NULL, 0);
		if (got != NULL && (PQresultStatus(got) == PGRES_COMMAND_OK ||
		    PQresultStatus(got) == PGRES_TUPLES_OK)) {
			if (n == 1)
				res[0] = got;
			else
				PQclear(got);
		} else {
			r = pg_failed(q, nq > 0, got);
			PQclear(got);
		}
		goto out;
	}
	if (ahead == 0 && PQenterPipelineMode(q->conn) != 1) {
		pg_lost(q);
		r = KW_ERR_UNAVAILABLE;
		goto out;
	}
	for (j = 0; j < total; j++) {
		snprintf(name, sizeof(name), "kw%d", (int)all[j]);
		if (PQsendQueryPrepared(q->conn, name,
		    stmt_nparams(stmt_sql[all[j]]), ap[j] != NULL ?
		    ap[j]->v : NULL, NULL, NULL, 0) != 1)
			break;
	}
	q->ahead = 0;
	if (j < total || PQpipelineSync(q->conn) != 1) {
		pg_lost(q);	/* the connection is in an unknown state */
		r = KW_ERR_UNAVAILABLE;
		goto out;
	}
	r = pg_collect(q, ahead, nq, all, n, res);
 out:
	if (q->ahead > 0 && pg_sync_ahead(q) != 0)
		r = KW_ERR_UNAVAILABLE;	/* failed before its own were sent */
	pg_unqueue_sent(q, nq);
	if (r != 0 && held && q->in_tx)
		q->broken = 1;	/* a read failed outside any savepoint */
	if (r != 0)
		for (i = 0; i < n; i++) {
			PQclear(res[i]);
			res[i] = NULL;
		}
	else
		for (i = 0; i < n; i++)
			if (stmt_auth[ids[i]])
				notify = 1;
	for (i = 0; p != NULL && i < n; i++)
		if (p[i] != NULL)
			pg_params_free(p[i]);
	if (notify && q->in_tx)
		q->auth_changed = 1;
	else if (notify) {
		enum stmt	 ns = S_NOTIFY;
		PGresult	*nr;

		/* best effort: the change is made; other nodes' caches
		 * forget it within their time to live anyway */
		if (pg_batch(q, 1, &ns, NULL, &nr) == 0)
			PQclear(nr);
	}
	return r;
}

/*
 * Run statement id with p's parameters: the result (caller PQclear()s
 * it) or NULL with *err set.  A lost connection marks the transaction
 * lost; a unique violation is KW_ERR_CONFLICT.
 */
static PGresult *
pg_run(struct pg *q, enum stmt id, struct params *p, int *err)
{
	PGresult *res;

	*err = pg_batch(q, 1, &id, &p, &res);
	return *err == 0 ? res : NULL;
}

/* Run a statement that returns no rows; *changed (may be NULL) gets
 * the rows it changed. */
static int
pg_exec(struct pg *q, enum stmt id, struct params *p, int64_t *changed)
{
	PGresult	*res;
	int		 r;

	if (changed == NULL && stmt_behind[id] && q->in_part)
		return pg_queue(q, id, p);
	if ((res = pg_run(q, id, p, &r)) == NULL)
		return r;
	if (changed != NULL)
		*changed = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

static const char *
col(const PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static void
col_str(const PGresult *res, int row, int c, char *dst, size_t dstsz)
{
	const char *v = col(res, row, c);

	kw_strlcpy(dst, v ? v : "", dstsz);
}

static int64_t
col_int(const PGresult *res, int row, int c)
{
	const char *v = col(res, row, c);

	return v ? strtoll(v, NULL, 10) : 0;
}

/* A bytea column into dst[dstsz]: its length, or 0 when NULL, empty or
 * too long. */
static size_t
col_blob(const PGresult *res, int row, int c, unsigned char *dst,
    size_t dstsz)
{
	unsigned char	*b;
	size_t		 n = 0;

	if (PQgetisnull(res, row, c))
		return 0;
	if ((b = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row,
	    c), &n)) == NULL)
		return 0;
	if (n > dstsz)
		n = 0;
	if (n > 0)
		memcpy(dst, b, n);
	kw_wipe(b, n);
	PQfreemem(b);
	return n;
}

/* Encode n strings of width w as a JSON array; caller frees. */
static char *
strings_to_json(const char *base, size_t n, size_t w)
{
	json_t	*a = json_array();
	char	*out;
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(base + i * w));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

static size_t
json_to_strings(const char *text, char *base, size_t max, size_t w)
{
	json_t	*a, *v;
	size_t	 i, n = 0;

	if (text == NULL || (a = json_loads(text, 0, NULL)) == NULL)
		return 0;
	json_array_foreach(a, i, v) {
		if (n >= max || !json_is_string(v))
			continue;
		kw_strlcpy(base + n * w, json_string_value(v), w);
		n++;
	}
	json_decref(a);
	return n;
}

static char *
ints_to_json(const int *v, size_t n)
{
	json_t	*a = json_array();
	char	*out;
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

static size_t
json_to_ints(const char *text, int *v, size_t max)
{
	json_t	*a, *x;
	size_t	 i, n = 0;

	if (text == NULL || (a = json_loads(text, 0, NULL)) == NULL)
		return 0;
	json_array_foreach(a, i, x)
		if (n < max && json_is_integer(x))
			v[n++] = (int)json_integer_value(x);
	json_decref(a);
	return n;
}

/* Run plain SQL text of our own (never input): 0 or UNAVAILABLE. */
static int
pg_simple(struct pg *q, const char *sql)
{
	PGresult	*res = PQexec(q->conn, sql);
	int		 ok;

	ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	return ok ? 0 : KW_ERR_UNAVAILABLE;
}

/* The schema version, -1 when it cannot be read; 0 for a database that
 * holds no keywarden schema. */
static int
pg_version(struct pg *q)
{
	PGresult	*res;
	int		 v = -1;

	res = PQexec(q->conn, "SELECT to_regclass('keywarden_schema')"
	    " IS NOT NULL");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	v = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (v == 0)
		return 0;
	v = -1;
	res = PQexec(q->conn, "SELECT coalesce(max(version), 0)"
	    " FROM keywarden_schema");
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1)
		v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

/* Whether the store holds anything (an init or a copy that failed
 * half-way leaves the schema but no event: such a store counts as new).
 * Unreadable counts as holding data. */
static int
pg_holds_data(struct pg *q)
{
	PGresult	*res;
	int		 held;

	res = PQexec(q->conn, "SELECT EXISTS (SELECT 1 FROM audit_events)"
	    " OR EXISTS (SELECT 1 FROM people)");
	held = res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "f") != 0;
	PQclear(res);
	return held;
}

/* One migration step to version v, in its own transaction. */
static int
pg_migrate_step(struct pg *q, int v)
{
	PGresult	*res;
	char		 num[16];
	const char	*vals[1] = { num };
	int		 ok;

	snprintf(num, sizeof(num), "%d", v);
	if (pg_simple(q, "BEGIN") != 0)
		return KW_ERR_UNAVAILABLE;
	if (pg_simple(q, "CREATE TABLE IF NOT EXISTS keywarden_schema"
	    " (version INTEGER NOT NULL)") != 0 ||
	    pg_simple(q, pg_migrations[v - 1]) != 0) {
		pg_simple(q, "ROLLBACK");
		return KW_ERR_UNAVAILABLE;
	}
	res = PQexecParams(q->conn, "INSERT INTO keywarden_schema (version)"
	    " VALUES ($1::integer)", 1, NULL, vals, NULL, NULL, 0);
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok || pg_simple(q, "COMMIT") != 0) {
		pg_simple(q, "ROLLBACK");
		return KW_ERR_UNAVAILABLE;
	}
	return 0;
}

/* Bring the schema to STORE_SCHEMA_VERSION under the migration lock
 * (nodes starting together migrate once; init's check that the store
 * is new cannot race another init). */
static int
pg_migrate(struct pg *q, int flags)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 v, i, r = 0;

	p_int(&p, 1, LOCK_MIGRATE);
	res = PQexecParams(q->conn, "SELECT pg_advisory_lock($1::bigint)", 1,
	    NULL, p.v, NULL, NULL, 0);
	r = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK ? 0 :
	    KW_ERR_UNAVAILABLE;
	PQclear(res);
	if (r != 0)
		goto done;
	if ((v = pg_version(q)) < 0)
		r = KW_ERR_UNAVAILABLE;
	else if (v > 0 && (flags & STORE_NEW) && pg_holds_data(q))
		r = KW_ERR_EXISTS;
	else if (v == 0 && !(flags & STORE_CREATE))
		r = (flags & STORE_EXISTING) ? KW_ERR_CONFIG : KW_ERR_NOT_FOUND;
	else if (v > STORE_SCHEMA_VERSION ||
	    (v < STORE_SCHEMA_VERSION && !(flags & STORE_MIGRATE)))
		r = KW_ERR_CONFIG;
	for (i = v + 1; r == 0 && i <= STORE_SCHEMA_VERSION; i++)
		r = pg_migrate_step(q, i);
	res = PQexecParams(q->conn, "SELECT pg_advisory_unlock($1::bigint)", 1,
	    NULL, p.v, NULL, NULL, 0);
	PQclear(res);
 done:
	pg_params_free(&p);
	return r;
}

static void	pg_close(void *);

/*
 * Open the database named by the libpq URI url.  Without STORE_CREATE
 * a database with no keywarden schema is KW_ERR_NOT_FOUND (or
 * KW_ERR_CONFIG with STORE_EXISTING); with STORE_NEW one that has a
 * schema is KW_ERR_EXISTS; versions as for sqlite.c.  The URI may carry
 * a password: it is kept for reconnecting, never logged.
 */
static int
pg_open(const char *url, int flags, void **ctx)
{
	PQconninfoOption	*opts;
	struct pg		*q;
	char			*err = NULL;
	int			 r;

	*ctx = NULL;
	if ((opts = PQconninfoParse(url, &err)) == NULL) {
		PQfreemem(err);
		return KW_ERR_CONFIG;	/* not a URI libpq understands */
	}
	PQconninfoFree(opts);
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return KW_ERR_NOMEM;
	if ((q->conninfo = strdup(url)) == NULL) {
		free(q);
		return KW_ERR_NOMEM;
	}
	if ((r = pg_connect(q)) != 0 || (r = pg_migrate(q, flags)) != 0) {
		pg_close(q);
		return r;
	}
	*ctx = q;
	return 0;
}

/* Another connection to the same database (a parallel reader). */
static int
pg_open_sibling(void *ctx, void **out)
{
	struct pg	*q = ctx, *s;
	int		 r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KW_ERR_NOMEM;
	if ((s->conninfo = strdup(q->conninfo)) == NULL) {
		free(s);
		return KW_ERR_NOMEM;
	}
	if ((r = pg_connect(s)) != 0) {
		pg_close(s);
		return r;
	}
	*out = s;
	return 0;
}

static int
pg_open_file(const char *path, int flags, void **ctx)
{
	KW_UNUSED(path);
	KW_UNUSED(flags);
	*ctx = NULL;
	return KW_ERR_CONFIG;	/* a PostgreSQL store is not a file */
}

static void
pg_close(void *ctx)
{
	struct pg *q = ctx;

	if (q == NULL)
		return;
	pg_drop(q);
	PQclear(q->settings);
	kw_wipe(q->conninfo, strlen(q->conninfo));
	free(q->conninfo);
	free(q);
}

static int
pg_schema_version(void *ctx)
{
	struct pg *q = ctx;

	return pg_ready(q) == 0 ? pg_version(q) : -1;
}

/* The structure check: every statement this binary uses prepares
 * (tables and columns are there); PostgreSQL checks its own pages. */
static int
pg_check(void *ctx, char *why, size_t whysz)
{
	struct pg	*q = ctx;
	char		 msg[256];
	int		 i;

	why[0] = '\0';
	if (pg_ready(q) != 0) {
		snprintf(why, whysz, "the PostgreSQL server cannot be reached");
		return KW_ERR_UNAVAILABLE;
	}
	for (i = 0; i < S__COUNT; i++)
		if (pg_prepare(q, (enum stmt)i, msg, sizeof(msg)) != 0) {
			snprintf(why, whysz, "the schema is not the one this "
			    "binary expects: %s", msg);
			return KW_ERR_UNAVAILABLE;
		}
	return 0;
}

/*
 * BEGIN, then the store's write lock (see the top of the file), then
 * what most write transactions read first under it (the audit log's
 * head, which every change appends to, and the settings, which its
 * notifications read: pg_audit_head, pg_setting_get), queued to go with
 * the transaction's first statement that needs an answer, normally its
 * first part's first read: the lock is waited for in that round trip,
 * and what follows it in the pipeline reads under it.  A lock not
 * granted (lock_timeout) fails that statement and breaks the
 * transaction (pg_failed).
 */
static void	pg_rollback(void *);

static int
pg_begin(void *ctx)
{
	static const enum stmt ids[] = { S_BEGIN, S_WRITE_LOCK, S_AUDIT_HEAD,
	    S_SET_ALL };
	struct pg	*q = ctx;
	struct params	 p;
	size_t		 i;

	if (q->in_tx)
		return KW_ERR_INTERNAL;
	/* reconnect first: from here a lost connection is the tx's */
	if (pg_ready(q) != 0)
		return KW_ERR_UNAVAILABLE;
	pg_unqueue(q, 0);
	q->in_part = 0;
	q->in_tx = 1;
	q->auth_touched = 0;
	q->head_known = 0;
	for (i = 0; i < KW_NELEM(ids); i++) {
		memset(&p, 0, sizeof(p));
		if (ids[i] == S_WRITE_LOCK)
			p_int(&p, 1, LOCK_WRITE);
		if (pg_queue(q, ids[i], &p) != 0) {
			pg_rollback(q);
			return KW_ERR_UNAVAILABLE;
		}
	}
	return 0;
}

/* A result of the reads pg_begin queued: the audit head or the
 * settings, kept for the transaction (taken over). */
static void
pg_begun(struct pg *q, enum stmt id, PGresult *res)
{
	if (id == S_SET_ALL) {
		PQclear(q->settings);
		q->settings = res;
		return;
	}
	q->head_seq = 0;
	q->head_hash[0] = '\0';
	if (PQntuples(res) == 1) {
		q->head_seq = col_int(res, 0, 0);
		col_str(res, 0, 1, q->head_hash, sizeof(q->head_hash));
	}
	q->head_known = 1;
	PQclear(res);
}

static int
pg_auth_touched(void *ctx)
{
	return ((struct pg *)ctx)->auth_touched;
}

/* The transaction is over (committed or rolled back): forget its
 * state; a connection lost in it is dropped. */
static void
pg_tx_done(struct pg *q)
{
	if (q->lost)
		pg_drop(q);
	q->in_tx = 0;
	q->head_known = 0;
	q->lost = 0;
	q->broken = 0;
	q->auth_changed = 0;
	q->in_part = 0;
	q->ahead = 0;
	pg_unqueue(q, 0);
	PQclear(q->settings);
	q->settings = NULL;
	pg_uncache(q);
}

/* The transaction's COMMIT or ROLLBACK was sent: end it on the server
 * if it is still open there (a statement or a queued one failed, and
 * what followed it in its pipeline was skipped), and forget it. */
static void
pg_tx_close(struct pg *q)
{
	if (!q->lost && q->conn != NULL &&
	    PQtransactionStatus(q->conn) != PQTRANS_IDLE) {
		PQclear(PQexec(q->conn, "ROLLBACK"));
		if (PQtransactionStatus(q->conn) != PQTRANS_IDLE)
			q->lost = 1;
	}
	pg_tx_done(q);
}

/* COMMIT (after the queued RELEASE, and the notification of a change to
 * what authenticates a caller), in one round trip.  A transaction that
 * failed on the server answers COMMIT with ROLLBACK: that is a failure
 * too, as is a queued statement that failed. */
static int
pg_commit(void *ctx)
{
	struct pg	*q = ctx;
	enum stmt	 ids[2];
	PGresult	*res[2];
	int		 n = 0, r;

	if (q->auth_changed)
		ids[n++] = S_NOTIFY;
	ids[n++] = S_COMMIT;
	if ((r = pg_batch(q, n, ids, NULL, res)) == 0) {
		if (strcmp(PQcmdStatus(res[n - 1]), "COMMIT") != 0)
			r = KW_ERR_UNAVAILABLE;
		PQclear(res[0]);
		if (n == 2)
			PQclear(res[1]);
	}
	pg_tx_close(q);
	return r ? KW_ERR_UNAVAILABLE : 0;
}

static void
pg_rollback(void *ctx)
{
	struct pg	*q = ctx;
	int		 sent;

	if (!q->in_tx)
		return;
	/* the BEGIN still queued: nothing was sent, nothing to undo */
	sent = q->nqueued == 0 || q->queued[0].id != S_BEGIN;
	pg_unqueue(q, 0);	/* never sent: nothing to undo */
	q->broken = 0;
	if (!q->lost && sent)
		pg_exec(q, S_ROLLBACK, NULL, NULL);
	pg_tx_close(q);
}

/*
 * A part of a write transaction costs no round trip of its own: its
 * SAVEPOINT goes with its first statement, its appends (stmt_behind)
 * and RELEASE with the next part's first statement or the COMMIT.  A
 * queued statement that fails (only a server in trouble does: the
 * appends are of new rows under the write lock) breaks the transaction:
 * everything after it fails and the COMMIT becomes a rollback, so no
 * part that was told it was released is ever committed without the
 * others, and every part learns the failure from the commit.
 */
static int
pg_savepoint(void *ctx)
{
	struct pg *q = ctx;

	int r;

	if (!q->in_tx)
		return KW_ERR_INTERNAL;
	if ((r = pg_queue(q, S_SAVEPOINT, NULL)) == 0)
		q->in_part = 1;
	return r;
}

static int
pg_release(void *ctx)
{
	struct pg	*q = ctx;
	int		 i;

	if (!q->in_tx)
		return KW_ERR_INTERNAL;
	q->in_part = 0;
	if (q->broken)
		return KW_ERR_UNAVAILABLE;
	/* a part that only read and appended while its SAVEPOINT waited
	 * (pg_batch): that SAVEPOINT need not go at all, nor a RELEASE;
	 * its appends join the transaction itself */
	for (i = q->nqueued - 1; i >= 0 && stmt_behind[q->queued[i].id]; i--)
		;
	if (i >= 0 && q->queued[i].id == S_SAVEPOINT) {
		pg_params_free(&q->queued[i].p);
		memmove(&q->queued[i], &q->queued[i + 1],
		    (size_t)(q->nqueued - i - 1) * sizeof(q->queued[0]));
		q->nqueued--;
	} else if (pg_queue(q, S_RELEASE, NULL) != 0)
		return KW_ERR_UNAVAILABLE;
	/* the part's appends (and RELEASE) go now, and are answered with
	 * the next part's first statement or the COMMIT: should one fail,
	 * the transaction is broken (pg_failed) and its commit fails for
	 * every part */
	pg_send_ahead(q);
	return 0;
}

static void
pg_rollback_to(void *ctx)
{
	static const enum stmt ids[] = { S_ROLLBACK_TO, S_RELEASE };
	struct pg	*q = ctx;
	PGresult	*res[2];
	int		 i;

	q->head_known = 0;	/* an append may be undone */
	q->in_part = 0;
	PQclear(q->settings);	/* so may a setting */
	q->settings = NULL;
	pg_uncache(q);		/* and what the cache read */
	if (!q->in_tx || q->broken)
		return;		/* the commit rolls everything back */
	/* what was queued since the part began was never sent */
	for (i = q->nqueued - 1; i >= 0; i--)
		if (q->queued[i].id == S_SAVEPOINT) {
			pg_unqueue(q, i);
			return;	/* nor was the SAVEPOINT: nothing to undo */
		}
	pg_unqueue(q, 0);	/* the part's appends, never sent */
	/* ROLLBACK TO keeps the savepoint open: release it too */
	if (pg_batch(q, 2, ids, NULL, res) == 0) {
		PQclear(res[0]);
		PQclear(res[1]);
	} else if (q->in_tx)
		q->broken = 1;	/* the part may not be undone */
}

/* Try to become the node that runs the jobs: 1 if this connection
 * holds the lock (now or already), 0 if another session does. */
static int
pg_lock_jobs(void *ctx)
{
	struct pg	*q = ctx;
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	if (q->jobs_locked && pg_ready(q) == 0 && q->jobs_locked)
		return 1;
	p_int(&p, 1, LOCK_JOBS);
	if ((res = pg_run(q, S_JOBS_LOCK, &p, &r)) == NULL)
		return r;
	q->jobs_locked = PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return q->jobs_locked;
}

static void
pg_unlock_jobs(void *ctx)
{
	struct pg	*q = ctx;
	struct params	 p = { 0 };

	if (!q->jobs_locked)
		return;
	p_int(&p, 1, LOCK_JOBS);
	pg_exec(q, S_JOBS_UNLOCK, &p, NULL);
	q->jobs_locked = 0;
}

/* Claim key across nodes (see store_claim): a session advisory lock. */
static int
pg_claim(void *ctx, const char *key)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_str(&p, 1, key);
	if ((res = pg_run(ctx, S_CLAIM, &p, &r)) == NULL)
		return r;
	r = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return r;
}

static void
pg_unclaim(void *ctx, const char *key)
{
	struct params p = { 0 };

	p_str(&p, 1, key);
	pg_exec(ctx, S_UNCLAIM, &p, NULL);
}

/* ---- people ---- */

static int
person_params(struct params *p, const struct person *ps)
{
	char *teams = strings_to_json(&ps->teams[0][0], ps->nteams,
	    sizeof(ps->teams[0]));

	if (teams == NULL)
		return KW_ERR_NOMEM;
	p_str(p, 1, ps->id);
	p_str(p, 2, ps->email);
	p_str(p, 3, ps->name);
	p_str(p, 4, ps->manager_id);
	p_int(p, 5, ps->roles);
	p_own(p, 6, teams);
	p_str(p, 7, ps->slack_user_id);
	p_int(p, 8, ps->active);
	p_str(p, 9, ps->created_at);
	p_str(p, 10, ps->updated_at);
	p_str(p, 11, ps->external_id);
	p_str(p, 12, ps->managed_by);
	p_str(p, 13, ps->scim_deleted_at);
	return 0;
}

static void
person_row(const PGresult *res, int i, struct person *p)
{
	memset(p, 0, sizeof(*p));
	p->seq = col_int(res, i, 0);
	col_str(res, i, 1, p->id, sizeof(p->id));
	col_str(res, i, 2, p->email, sizeof(p->email));
	col_str(res, i, 3, p->name, sizeof(p->name));
	col_str(res, i, 4, p->manager_id, sizeof(p->manager_id));
	col_str(res, i, 5, p->manager_email, sizeof(p->manager_email));
	p->roles = (unsigned)col_int(res, i, 6);
	p->nteams = json_to_strings(col(res, i, 7), &p->teams[0][0],
	    KW_TEAMS_MAX, sizeof(p->teams[0]));
	col_str(res, i, 8, p->slack_user_id, sizeof(p->slack_user_id));
	p->active = (int)col_int(res, i, 9);
	col_str(res, i, 10, p->created_at, sizeof(p->created_at));
	col_str(res, i, 11, p->updated_at, sizeof(p->updated_at));
	col_str(res, i, 12, p->external_id, sizeof(p->external_id));
	col_str(res, i, 13, p->managed_by, sizeof(p->managed_by));
	col_str(res, i, 14, p->scim_deleted_at, sizeof(p->scim_deleted_at));
}

static int
pg_person_write(struct pg *q, enum stmt id, const struct person *ps)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 r;

	if ((r = person_params(&p, ps)) != 0) {
		pg_params_free(&p);
		return r;
	}
	if ((r = pg_exec(q, id, &p, &n)) == 0 && n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
pg_person_insert(void *ctx, const struct person *p)
{
	return pg_person_write(ctx, S_PERSON_INSERT, p);
}

static int
pg_person_update(void *ctx, const struct person *p)
{
	return pg_person_write(ctx, S_PERSON_UPDATE, p);
}

/* Run a one-row lookup with a single text key: the result holding its
 * row, or NULL with *err (KW_ERR_NOT_FOUND when there is none). */
static PGresult *
pg_one(struct pg *q, enum stmt id, const char *k1, const char *k2, int *err)
{
	struct params	 p = { 0 };
	PGresult	*res;

	p_str(&p, 1, k1);
	if (k2 != NULL)
		p_str(&p, 2, k2);
	if ((res = pg_run(q, id, &p, err)) == NULL)
		return NULL;
	if (PQntuples(res) < 1) {
		PQclear(res);
		*err = KW_ERR_NOT_FOUND;
		return NULL;
	}
	return res;
}

static int
pg_person_get(void *ctx, const char *key, struct person *p)
{
	PGresult	*res;
	int		 r;

	if ((res = pg_one(ctx, strchr(key, '@') ? S_PERSON_BY_EMAIL :
	    S_PERSON_BY_ID, key, NULL, &r)) == NULL)
		return r;
	person_row(res, 0, p);
	PQclear(res);
	return 0;
}

static int
pg_person_each(void *ctx, int64_t after, size_t limit, store_person_cb cb,
    void *arg)
{
	struct params	 p = { 0 };
	struct person	 ps;
	PGresult	*res;
	int		 i, r = 0;

	p_int(&p, 1, after);
	p_int(&p, 2, (int64_t)limit);
	if ((res = pg_run(ctx, S_PERSON_LIST, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		person_row(res, i, &ps);
		r = cb(&ps, arg);
	}
	PQclear(res);
	return r;
}

/* ---- tokens ---- */

static int
pg_token_insert(void *ctx, const struct token_rec *t)
{
	struct params p = { 0 };

	p_str(&p, 1, t->id);
	p_str(&p, 2, t->person_id);
	p_blob(&p, 3, t->hash, KW_HASH_LEN);
	p_str(&p, 4, t->created_at);
	p_str(&p, 5, t->label);
	p_str(&p, 6, t->expires_at);
	return pg_exec(ctx, S_TOKEN_INSERT, &p, NULL);
}

static int
pg_token_find(void *ctx, const unsigned char *hash, struct token_rec *t,
    struct person *owner)
{
	struct pg	*q = ctx;
	struct params	 p = { 0 };
	PGresult	*res, **got;
	int		 r;

	/* inside a write transaction, perhaps as an earlier part of it
	 * read it (the same caller's requests, pg_cached) */
	if ((got = pg_cached(q, S_TOKEN_FIND, hash, KW_HASH_LEN)) != NULL)
		res = got[0];
	else {
		p_blob(&p, 1, hash, KW_HASH_LEN);
		if ((res = pg_run(q, S_TOKEN_FIND, &p, &r)) == NULL)
			return r;
		if ((got = pg_cache(q, S_TOKEN_FIND, hash, KW_HASH_LEN, &res,
		    1)) != NULL)
			res = got[0];
	}
	r = KW_ERR_NOT_FOUND;
	if (PQntuples(res) == 1) {
		memset(t, 0, sizeof(*t));
		if (col_blob(res, 0, PERSON_NCOLS + 2, t->hash,
		    KW_HASH_LEN) == KW_HASH_LEN) {
			person_row(res, 0, owner);
			col_str(res, 0, PERSON_NCOLS, t->id, sizeof(t->id));
			col_str(res, 0, PERSON_NCOLS + 1, t->person_id,
			    sizeof(t->person_id));
			col_str(res, 0, PERSON_NCOLS + 3, t->created_at,
			    sizeof(t->created_at));
			col_str(res, 0, PERSON_NCOLS + 4, t->label,
			    sizeof(t->label));
			col_str(res, 0, PERSON_NCOLS + 5, t->expires_at,
			    sizeof(t->expires_at));
			col_str(res, 0, PERSON_NCOLS + 6, t->last_used_at,
			    sizeof(t->last_used_at));
			r = 0;
		}
	}
	if (got == NULL)
		PQclear(res);
	return r;
}

static int
pg_token_revoke_person(void *ctx, const char *person_id, const char *at,
    int *n)
{
	struct params	 p = { 0 };
	int64_t		 changed = 0;
	int		 r;

	*n = 0;
	p_str(&p, 1, person_id);
	p_str(&p, 2, at);
	if ((r = pg_exec(ctx, S_TOKEN_REVOKE_PERSON, &p, &changed)) == 0)
		*n = (int)changed;
	return r;
}

static int
pg_token_each(void *ctx, const char *person_id, store_token_cb cb, void *arg)
{
	struct params		 p = { 0 };
	struct token_rec	 t;
	PGresult		*res;
	int			 i, r = 0;

	p_str(&p, 1, person_id);
	if ((res = pg_run(ctx, S_TOKEN_LIST, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(&t, 0, sizeof(t));
		col_str(res, i, 0, t.id, sizeof(t.id));
		col_str(res, i, 1, t.person_id, sizeof(t.person_id));
		col_str(res, i, 2, t.created_at, sizeof(t.created_at));
		col_str(res, i, 3, t.revoked_at, sizeof(t.revoked_at));
		col_str(res, i, 4, t.label, sizeof(t.label));
		col_str(res, i, 5, t.expires_at, sizeof(t.expires_at));
		col_str(res, i, 6, t.last_used_at, sizeof(t.last_used_at));
		r = cb(&t, arg);
	}
	PQclear(res);
	return r;
}

static int
pg_token_revoke(void *ctx, const char *person_id, const char *id,
    const char *at)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 r;

	p_str(&p, 1, person_id);
	p_str(&p, 2, id);
	p_str(&p, 3, at);
	if ((r = pg_exec(ctx, S_TOKEN_REVOKE, &p, &n)) == 0 && n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

/* Run statement id with text arguments a (and b, unless NULL); *n (may
 * be NULL) gets the number of rows changed. */
static int
pg_exec2(struct pg *q, enum stmt id, const char *a, const char *b, int *n)
{
	struct params	 p = { 0 };
	int64_t		 changed = 0;
	int		 r;

	if (n != NULL)
		*n = 0;
	p_str(&p, 1, a);
	if (b != NULL)
		p_str(&p, 2, b);
	if ((r = pg_exec(q, id, &p, &changed)) == 0 && n != NULL)
		*n = (int)changed;
	return r;
}

static int
pg_token_touch(void *ctx, const char *id, const char *at)
{
	return pg_exec2(ctx, S_TOKEN_TOUCH, id, at, NULL);
}

static int
pg_token_expiring(void *ctx, const char *before, const char *now,
    size_t limit, store_token_cb cb, void *arg)
{
	struct params		 p = { 0 };
	struct token_rec	 t;
	PGresult		*res;
	int			 i, r = 0;

	p_str(&p, 1, before);
	p_str(&p, 2, now);
	p_int(&p, 3, (int64_t)limit);
	if ((res = pg_run(ctx, S_TOKEN_EXPIRING, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(&t, 0, sizeof(t));
		col_str(res, i, 0, t.id, sizeof(t.id));
		col_str(res, i, 1, t.person_id, sizeof(t.person_id));
		col_str(res, i, 2, t.created_at, sizeof(t.created_at));
		col_str(res, i, 4, t.label, sizeof(t.label));
		col_str(res, i, 5, t.expires_at, sizeof(t.expires_at));
		col_str(res, i, 6, t.last_used_at, sizeof(t.last_used_at));
		r = cb(&t, arg);
	}
	PQclear(res);
	return r;
}

static int
pg_token_warned(void *ctx, const char *id, const char *at)
{
	int n, r;

	if ((r = pg_exec2(ctx, S_TOKEN_WARNED, id, at, &n)) != 0)
		return r;
	return n == 1;
}

/* ---- sessions ---- */

static int
pg_session_insert(void *ctx, const struct session_rec *se)
{
	struct params p = { 0 };

	p_str(&p, 1, se->id);
	p_str(&p, 2, se->person_id);
	p_blob(&p, 3, se->hash, KW_HASH_LEN);
	p_str(&p, 4, se->method);
	p_str(&p, 5, se->created_at);
	p_str(&p, 6, se->expires_at);
	p_str(&p, 7, se->last_seen_at);
	return pg_exec(ctx, S_SESS_INSERT, &p, NULL);
}

static int
pg_session_find(void *ctx, const unsigned char *hash, struct session_rec *se,
    struct person *owner)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_blob(&p, 1, hash, KW_HASH_LEN);
	if ((res = pg_run(ctx, S_SESS_FIND, &p, &r)) == NULL)
		return r;
	r = KW_ERR_NOT_FOUND;
	if (PQntuples(res) == 1) {
		memset(se, 0, sizeof(*se));
		if (col_blob(res, 0, PERSON_NCOLS + 2, se->hash,
		    KW_HASH_LEN) == KW_HASH_LEN) {
			person_row(res, 0, owner);
			col_str(res, 0, PERSON_NCOLS, se->id, sizeof(se->id));
			col_str(res, 0, PERSON_NCOLS + 1, se->person_id,
			    sizeof(se->person_id));
			col_str(res, 0, PERSON_NCOLS + 3, se->method,
			    sizeof(se->method));
			col_str(res, 0, PERSON_NCOLS + 4, se->created_at,
			    sizeof(se->created_at));
			col_str(res, 0, PERSON_NCOLS + 5, se->expires_at,
			    sizeof(se->expires_at));
			col_str(res, 0, PERSON_NCOLS + 6, se->last_seen_at,
			    sizeof(se->last_seen_at));
			r = 0;
		}
	}
	PQclear(res);
	return r;
}

static int
pg_session_touch(void *ctx, const char *id, const char *at)
{
	return pg_exec2(ctx, S_SESS_TOUCH, id, at, NULL);
}

static int
pg_session_delete(void *ctx, const char *id)
{
	int n, r;

	if ((r = pg_exec2(ctx, S_SESS_DELETE, id, NULL, &n)) == 0 && n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
pg_session_delete_person(void *ctx, const char *person_id, int *n)
{
	return pg_exec2(ctx, S_SESS_DELETE_PERSON, person_id, NULL, n);
}

static int
pg_session_purge(void *ctx, const char *now, const char *idle_before, int *n)
{
	return pg_exec2(ctx, S_SESS_PURGE, now, idle_before, n);
}

/* ---- people as SCIM sees them ---- */

static int
pg_person_scim_count(void *ctx, int64_t *n)
{
	PGresult	*res;
	int		 r;

	*n = 0;
	if ((res = pg_run(ctx, S_PERSON_SCIM_COUNT, NULL, &r)) == NULL)
		return r;
	r = PQntuples(res) == 1 ? 0 : KW_ERR_UNAVAILABLE;
	if (r == 0)
		*n = col_int(res, 0, 0);
	PQclear(res);
	return r;
}

static int
pg_person_scim_page(void *ctx, int64_t offset, size_t limit,
    store_person_cb cb, void *arg)
{
	struct params	 p = { 0 };
	struct person	 ps;
	PGresult	*res;
	int		 i, r = 0;

	p_int(&p, 1, offset);
	p_int(&p, 2, (int64_t)limit);
	if ((res = pg_run(ctx, S_PERSON_SCIM_PAGE, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		person_row(res, i, &ps);
		r = cb(&ps, arg);
	}
	PQclear(res);
	return r;
}

/* ---- SCIM tokens ---- */

static int
pg_scim_token_insert(void *ctx, const struct scim_token *t)
{
	struct params p = { 0 };

	p_str(&p, 1, t->id);
	p_str(&p, 2, t->label);
	p_blob(&p, 3, t->hash, KW_HASH_LEN);
	p_str(&p, 4, t->created_at);
	return pg_exec(ctx, S_SCIM_TOKEN_INSERT, &p, NULL);
}

static int
pg_scim_token_find(void *ctx, const unsigned char *hash, struct scim_token *t)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_blob(&p, 1, hash, KW_HASH_LEN);
	if ((res = pg_run(ctx, S_SCIM_TOKEN_FIND, &p, &r)) == NULL)
		return r;
	r = KW_ERR_NOT_FOUND;
	if (PQntuples(res) == 1) {
		memset(t, 0, sizeof(*t));
		if (col_blob(res, 0, 2, t->hash, KW_HASH_LEN) == KW_HASH_LEN) {
			col_str(res, 0, 0, t->id, sizeof(t->id));
			col_str(res, 0, 1, t->label, sizeof(t->label));
			col_str(res, 0, 3, t->created_at,
			    sizeof(t->created_at));
			col_str(res, 0, 4, t->last_used_at,
			    sizeof(t->last_used_at));
			r = 0;
		}
	}
	PQclear(res);
	return r;
}

static int
pg_scim_token_each(void *ctx, store_scim_token_cb cb, void *arg)
{
	struct scim_token	 t;
	PGresult		*res;
	int			 i, r = 0;

	if ((res = pg_run(ctx, S_SCIM_TOKEN_LIST, NULL, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(&t, 0, sizeof(t));
		col_str(res, i, 0, t.id, sizeof(t.id));
		col_str(res, i, 1, t.label, sizeof(t.label));
		col_str(res, i, 2, t.created_at, sizeof(t.created_at));
		col_str(res, i, 3, t.last_used_at, sizeof(t.last_used_at));
		r = cb(&t, arg);
	}
	PQclear(res);
	return r;
}

static int
pg_scim_token_delete(void *ctx, const char *id)
{
	int n, r;

	if ((r = pg_exec2(ctx, S_SCIM_TOKEN_DELETE, id, NULL, &n)) == 0 &&
	    n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
pg_scim_token_used(void *ctx, const char *id, const char *at)
{
	return pg_exec2(ctx, S_SCIM_TOKEN_USED, id, at, NULL);
}

/* ---- instances ---- */

static int
instance_params(struct params *p, const struct instance *in)
{
	char *scopes = NULL, *warn;

	if (in->scopes_restricted && (scopes = strings_to_json(
	    &in->allowed_scopes[0][0], in->nscopes,
	    sizeof(in->allowed_scopes[0]))) == NULL)
		return KW_ERR_NOMEM;
	if ((warn = ints_to_json(in->warn_days, in->nwarn)) == NULL) {
		free(scopes);
		return KW_ERR_NOMEM;
	}
	p_str(p, 1, in->id);
	p_str(p, 2, in->name);
	p_str(p, 3, in->display_name);
	p_str(p, 4, in->provider);
	p_str(p, 5, in->url);
	p_int(p, 6, in->allow_integrations);
	p_int(p, 7, (int)in->issuance);
	p_own(p, 8, scopes);
	p_int(p, 9, in->max_lifetime_days);
	p_int(p, 10, in->rotation_days);
	p_str(p, 11, in->bot_email);
	p_blob(p, 12, in->bot_sealed, in->bot_sealed_len);
	p_str(p, 13, in->created_at);
	p_str(p, 14, in->updated_at);
	p_int(p, 15, in->grace_days);
	p_own(p, 16, warn);
	p_int(p, 17, (int)in->default_delivery);
	p_int(p, 18, (int64_t)in->allowed_deliveries);
	p_int(p, 19, in->max_access_ttl);
	p_str(p, 20, in->bot_client_id);
	p_str(p, 21, in->bot_expires_at);
	return 0;
}

static void
instance_row(const PGresult *res, int i, struct instance *in)
{
	const char *scopes;

	memset(in, 0, sizeof(*in));
	in->seq = col_int(res, i, 0);
	col_str(res, i, 1, in->id, sizeof(in->id));
	col_str(res, i, 2, in->name, sizeof(in->name));
	col_str(res, i, 3, in->display_name, sizeof(in->display_name));
	col_str(res, i, 4, in->provider, sizeof(in->provider));
	col_str(res, i, 5, in->url, sizeof(in->url));
	in->allow_integrations = (int)col_int(res, i, 6);
	in->issuance = (enum issuance)col_int(res, i, 7);
	if ((scopes = col(res, i, 8)) != NULL) {
		in->scopes_restricted = 1;
		in->nscopes = json_to_strings(scopes,
		    &in->allowed_scopes[0][0], KW_SCOPES_MAX,
		    sizeof(in->allowed_scopes[0]));
	}
	in->max_lifetime_days = (int)col_int(res, i, 9);
	in->rotation_days = (int)col_int(res, i, 10);
	col_str(res, i, 11, in->bot_email, sizeof(in->bot_email));
	in->bot_sealed_len = col_blob(res, i, 12, in->bot_sealed,
	    sizeof(in->bot_sealed));
	col_str(res, i, 13, in->created_at, sizeof(in->created_at));
	col_str(res, i, 14, in->updated_at, sizeof(in->updated_at));
	in->grace_days = (int)col_int(res, i, 15);
	in->nwarn = json_to_ints(col(res, i, 16), in->warn_days,
	    KW_WARN_THRESHOLDS_MAX);
	in->default_delivery = (enum delivery_mode)col_int(res, i, 17);
	in->allowed_deliveries = (unsigned)col_int(res, i, 18);
	in->max_access_ttl = (int)col_int(res, i, 19);
	col_str(res, i, 20, in->bot_client_id, sizeof(in->bot_client_id));
	col_str(res, i, 21, in->bot_expires_at, sizeof(in->bot_expires_at));
}

static int
pg_provisioners_write(struct pg *q, const struct instance *in)
{
	struct params	 p = { 0 };
	size_t		 i;
	int		 r;

	p_str(&p, 1, in->id);
	if ((r = pg_exec(q, S_PROV_DELETE, &p, NULL)) != 0)
		return r;
	for (i = 0; i < in->nprovisioners; i++) {
		memset(&p, 0, sizeof(p));
		p_str(&p, 1, in->id);
		p_int(&p, 2, (int64_t)i);
		p_str(&p, 3, in->provisioners[i].id);
		if ((r = pg_exec(q, S_PROV_INSERT, &p, NULL)) != 0)
			return r;
	}
	return 0;
}

static int
pg_provisioners_read(struct pg *q, struct instance *in)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 i, r;

	p_str(&p, 1, in->id);
	if ((res = pg_run(q, S_PROV_LIST, &p, &r)) == NULL)
		return r;
	in->nprovisioners = 0;
	for (i = 0; i < PQntuples(res) &&
	    in->nprovisioners < KW_PROVISIONERS_MAX; i++) {
		struct person_ref *pr = &in->provisioners[in->nprovisioners++];
		col_str(res, i, 0, pr->id, sizeof(pr->id));
		col_str(res, i, 1, pr->email, sizeof(pr->email));
	}
	PQclear(res);
	return 0;
}

static int
pg_instance_write(struct pg *q, enum stmt id, const struct instance *in)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 r;

	if ((r = instance_params(&p, in)) != 0) {
		pg_params_free(&p);
		return r;
	}
	if ((r = pg_exec(q, id, &p, &n)) != 0)
		return r;
	if (n == 0)
		return KW_ERR_NOT_FOUND;
	return pg_provisioners_write(q, in);
}

static int
pg_instance_insert(void *ctx, const struct instance *in)
{
	return pg_instance_write(ctx, S_INSTANCE_INSERT, in);
}

static int
pg_instance_update(void *ctx, const struct instance *in)
{
	return pg_instance_write(ctx, S_INSTANCE_UPDATE, in);
}

static int
pg_instance_get(void *ctx, const char *key, struct instance *in)
{
	static const enum stmt ids[] = { S_INSTANCE_BY_NAME, S_PROV_BY_KEY };
	struct pg	*q = ctx;
	struct params	 p1 = { 0 }, p2 = { 0 }, *ps[] = { &p1, &p2 };
	PGresult	*res[2], **got;
	int		 i, r;

	/* the instance and its provisioners in one round trip, or as this
	 * write transaction read them (pg_cached) */
	if ((got = pg_cached(q, S_INSTANCE_BY_NAME, key, strlen(key))) ==
	    NULL) {
		p_str(&p1, 1, key);
		p_str(&p2, 1, key);
		if ((r = pg_batch(q, 2, ids, ps, res)) != 0)
			return r;
		if ((got = pg_cache(q, S_INSTANCE_BY_NAME, key, strlen(key),
		    res, 2)) == NULL)
			got = res;
		else
			res[0] = res[1] = NULL;	/* the cache's */
	}
	r = 0;
	if (PQntuples(got[0]) < 1)
		r = KW_ERR_NOT_FOUND;
	else {
		instance_row(got[0], 0, in);
		in->nprovisioners = 0;
		for (i = 0; i < PQntuples(got[1]) &&
		    in->nprovisioners < KW_PROVISIONERS_MAX; i++) {
			struct person_ref *pr;

			/* the key could name another instance by its id */
			if (strcmp(PQgetvalue(got[1], i, 2), in->id) != 0)
				continue;
			pr = &in->provisioners[in->nprovisioners++];
			col_str(got[1], i, 0, pr->id, sizeof(pr->id));
			col_str(got[1], i, 1, pr->email, sizeof(pr->email));
		}
	}
	if (got == res) {
		PQclear(res[0]);
		PQclear(res[1]);
	}
	return r;
}

static int
pg_instance_each(void *ctx, int64_t after, size_t limit,
    store_instance_cb cb, void *arg)
{
	struct params	 p = { 0 };
	struct instance	*in;
	PGresult	*res;
	int		 i, r = 0;

	if ((in = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	p_int(&p, 1, after);
	p_int(&p, 2, (int64_t)limit);
	if ((res = pg_run(ctx, S_INSTANCE_LIST, &p, &r)) == NULL) {
		free(in);
		return r;
	}
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		instance_row(res, i, in);
		if ((r = pg_provisioners_read(ctx, in)) == 0)
			r = cb(in, arg);
	}
	PQclear(res);
	kw_wipe(in, sizeof(*in));
	free(in);
	return r;
}

/* ---- requests ---- */

static char *
integration_to_json(const struct integration_spec *in)
{
	json_t	*o, *uris = json_array();
	char	*out;
	size_t	 i;

	for (i = 0; i < in->nredirects; i++)
		json_array_append_new(uris, json_string(in->redirect_uris[i]));
	o = json_pack("{s:s, s:i, s:o}", "name", in->name, "client_kind",
	    (int)in->client_kind, "redirect_uris", uris);
	out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return out;
}

static void
integration_from_json(const char *text, struct integration_spec *in)
{
	json_t		*o, *v;
	const char	*name;
	size_t		 i;

	memset(in, 0, sizeof(*in));
	if (text == NULL || (o = json_loads(text, 0, NULL)) == NULL)
		return;
	in->present = 1;
	if ((name = json_string_value(json_object_get(o, "name"))) != NULL)
		kw_strlcpy(in->name, name, sizeof(in->name));
	in->client_kind = (enum client_kind)json_integer_value(
	    json_object_get(o, "client_kind"));
	json_array_foreach(json_object_get(o, "redirect_uris"), i, v) {
		if (in->nredirects >= KW_REDIRECT_URIS_MAX ||
		    !json_is_string(v))
			continue;
		kw_strlcpy(in->redirect_uris[in->nredirects++],
		    json_string_value(v), sizeof(in->redirect_uris[0]));
	}
	json_decref(o);
}

static void
request_row(const PGresult *res, int i, struct request *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = col_int(res, i, 0);
	col_str(res, i, 1, r->id, sizeof(r->id));
	col_str(res, i, 2, r->instance_id, sizeof(r->instance_id));
	col_str(res, i, 3, r->instance_name, sizeof(r->instance_name));
	r->kind = (enum cred_kind)col_int(res, i, 4);
	r->state = (enum req_state)col_int(res, i, 5);
	col_str(res, i, 6, r->purpose, sizeof(r->purpose));
	col_str(res, i, 7, r->requester_id, sizeof(r->requester_id));
	col_str(res, i, 8, r->requester_email, sizeof(r->requester_email));
	col_str(res, i, 9, r->manager_id, sizeof(r->manager_id));
	col_str(res, i, 10, r->manager_email, sizeof(r->manager_email));
	col_str(res, i, 11, r->manager_approver_id,
	    sizeof(r->manager_approver_id));
	col_str(res, i, 12, r->justification, sizeof(r->justification));
	col_str(res, i, 13, r->use_case, sizeof(r->use_case));
	r->nscopes = json_to_strings(col(res, i, 14), &r->scopes[0][0],
	    KW_SCOPES_MAX, sizeof(r->scopes[0]));
	r->lifetime_days = (int)col_int(res, i, 15);
	col_str(res, i, 16, r->access_request_url,
	    sizeof(r->access_request_url));
	col_str(res, i, 17, r->link, sizeof(r->link));
	integration_from_json(col(res, i, 18), &r->integration);
	col_str(res, i, 19, r->credential_id, sizeof(r->credential_id));
	col_str(res, i, 20, r->created_at, sizeof(r->created_at));
	col_str(res, i, 21, r->updated_at, sizeof(r->updated_at));
	col_str(res, i, 22, r->expires_at, sizeof(r->expires_at));
	r->delivery_mode = (enum delivery_mode)col_int(res, i, 23);
}

static int
pg_request_insert(void *ctx, const struct request *r)
{
	struct params	 p = { 0 };
	char		*scopes, *integ = NULL;

	scopes = strings_to_json(&r->scopes[0][0], r->nscopes,
	    sizeof(r->scopes[0]));
	if (r->integration.present)
		integ = integration_to_json(&r->integration);
	if (scopes == NULL || (r->integration.present && integ == NULL)) {
		free(scopes);
		free(integ);
		return KW_ERR_NOMEM;
	}
	p_str(&p, 1, r->id);
	p_str(&p, 2, r->instance_id);
	p_int(&p, 3, (int)r->kind);
	p_int(&p, 4, (int)r->state);
	p_str(&p, 5, r->purpose);
	p_str(&p, 6, r->requester_id);
	p_str(&p, 7, r->manager_approver_id);
	p_str(&p, 8, r->justification);
	p_str(&p, 9, r->use_case);
	p_own(&p, 10, scopes);
	p_int(&p, 11, r->lifetime_days);
	p_str(&p, 12, r->access_request_url);
	p_str(&p, 13, r->link);
	p_own(&p, 14, integ);
	p_str(&p, 15, r->credential_id);
	p_str(&p, 16, r->created_at);
	p_str(&p, 17, r->updated_at);
	p_str(&p, 18, r->expires_at);
	p_int(&p, 19, (int)r->delivery_mode);
	return pg_exec(ctx, S_REQ_INSERT, &p, NULL);
}

static int
pg_request_transition(void *ctx, const struct request *r,
    enum req_state from)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 rc;

	p_str(&p, 1, r->id);
	p_int(&p, 2, (int)r->state);
	p_str(&p, 3, r->manager_approver_id);
	p_str(&p, 4, r->credential_id);
	p_str(&p, 5, r->updated_at);
	p_int(&p, 6, (int)from);
	if ((rc = pg_exec(ctx, S_REQ_TRANSITION, &p, &n)) != 0)
		return rc;
	return n == 1 ? 0 : KW_ERR_CONFLICT;
}

static int
pg_request_get(void *ctx, const char *id, struct request *r)
{
	PGresult	*res;
	int		 rc;

	if ((res = pg_one(ctx, S_REQ_GET, id, NULL, &rc)) == NULL)
		return rc;
	request_row(res, 0, r);
	PQclear(res);
	return 0;
}

/* Call cb for each row of res as a request. */
static int
requests_walk(PGresult *res, store_request_cb cb, void *arg)
{
	struct request	*r;
	int		 i, ret = 0;

	if ((r = malloc(sizeof(*r))) == NULL) {
		PQclear(res);
		return KW_ERR_NOMEM;
	}
	for (i = 0; ret == 0 && i < PQntuples(res); i++) {
		request_row(res, i, r);
		ret = cb(r, arg);
	}
	PQclear(res);
	free(r);
	return ret;
}

static int
pg_request_each(void *ctx, const struct request_filter *f, int64_t after,
    size_t limit, store_request_cb cb, void *arg)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_int(&p, 1, after);
	p_viewer(&p, 2, 3, &f->viewer);
	p_int(&p, 4, (int64_t)f->states);
	p_opt(&p, 5, f->instance_id);
	p_opt(&p, 6, f->requester_id);
	p_int(&p, 7, (int64_t)limit);
	if ((res = pg_run(ctx, S_REQ_LIST, &p, &r)) == NULL)
		return r;
	return requests_walk(res, cb, arg);
}

static int
pg_history_append(void *ctx, const char *request_id,
    const struct history_entry *h)
{
	struct params p = { 0 };

	p_str(&p, 1, request_id);
	p_str(&p, 2, h->at);
	p_str(&p, 3, h->actor);
	p_str(&p, 4, h->action);
	p_str(&p, 5, h->comment);
	return pg_exec(ctx, S_HIST_APPEND, &p, NULL);
}

static int
pg_history_each(void *ctx, const char *request_id, store_history_cb cb,
    void *arg)
{
	struct params		 p = { 0 };
	struct history_entry	 h;
	PGresult		*res;
	int			 i, r = 0;

	p_str(&p, 1, request_id);
	if ((res = pg_run(ctx, S_HIST_LIST, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		col_str(res, i, 0, h.at, sizeof(h.at));
		col_str(res, i, 1, h.actor, sizeof(h.actor));
		col_str(res, i, 2, h.action, sizeof(h.action));
		col_str(res, i, 3, h.comment, sizeof(h.comment));
		r = cb(&h, arg);
	}
	PQclear(res);
	return r;
}

/* ---- credentials ---- */

static void
credential_row(const PGresult *res, int i, struct credential *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = col_int(res, i, 0);
	col_str(res, i, 1, c->id, sizeof(c->id));
	col_str(res, i, 2, c->instance_id, sizeof(c->instance_id));
	col_str(res, i, 3, c->instance_name, sizeof(c->instance_name));
	c->kind = (enum cred_kind)col_int(res, i, 4);
	col_str(res, i, 5, c->owner_id, sizeof(c->owner_id));
	col_str(res, i, 6, c->owner_email, sizeof(c->owner_email));
	col_str(res, i, 7, c->request_id, sizeof(c->request_id));
	col_str(res, i, 8, c->purpose, sizeof(c->purpose));
	col_str(res, i, 9, c->name, sizeof(c->name));
	c->nscopes = json_to_strings(col(res, i, 10), &c->scopes[0][0],
	    KW_SCOPES_MAX, sizeof(c->scopes[0]));
	c->state = (enum cred_state)col_int(res, i, 11);
	col_str(res, i, 12, c->created_at, sizeof(c->created_at));
	col_str(res, i, 13, c->expires_at, sizeof(c->expires_at));
	col_str(res, i, 14, c->last_used_at, sizeof(c->last_used_at));
	col_str(res, i, 15, c->revoked_at, sizeof(c->revoked_at));
	col_str(res, i, 16, c->revoke_reason, sizeof(c->revoke_reason));
	col_str(res, i, 17, c->external, sizeof(c->external));
	col_str(res, i, 18, c->fingerprint, sizeof(c->fingerprint));
	c->delivery = (enum delivery_state)col_int(res, i, 19);
	col_str(res, i, 20, c->delivery_expires_at,
	    sizeof(c->delivery_expires_at));
	c->sealed_len = col_blob(res, i, 21, c->sealed, sizeof(c->sealed));
	col_str(res, i, 22, c->rotated_from, sizeof(c->rotated_from));
	col_str(res, i, 23, c->rotated_to, sizeof(c->rotated_to));
	c->lifetime_days = (int)col_int(res, i, 24);
	col_str(res, i, 25, c->grace_until, sizeof(c->grace_until));
	col_str(res, i, 26, c->replacement_id, sizeof(c->replacement_id));
	col_str(res, i, 27, c->external_key, sizeof(c->external_key));
	c->delivery_mode = (enum delivery_mode)col_int(res, i, 28);
	c->broker_sealed_len = col_blob(res, i, 29, c->broker_sealed,
	    sizeof(c->broker_sealed));
	col_str(res, i, 30, c->owner_manager_id, sizeof(c->owner_manager_id));
}

static int
pg_credential_write(struct pg *q, enum stmt id, const struct credential *c)
{
	struct params	 p = { 0 };
	char		*scopes;
	int64_t		 n = 0;
	int		 r;

	if ((scopes = strings_to_json(&c->scopes[0][0], c->nscopes,
	    sizeof(c->scopes[0]))) == NULL)
		return KW_ERR_NOMEM;
	p_str(&p, 1, c->id);
	p_str(&p, 2, c->instance_id);
	p_int(&p, 3, (int)c->kind);
	p_str(&p, 4, c->owner_id);
	p_str(&p, 5, c->request_id);
	p_str(&p, 6, c->purpose);
	p_str(&p, 7, c->name);
	p_own(&p, 8, scopes);
	p_int(&p, 9, (int)c->state);
	p_str(&p, 10, c->created_at);
	p_str(&p, 11, c->expires_at);
	p_str(&p, 12, c->last_used_at);
	p_str(&p, 13, c->revoked_at);
	p_str(&p, 14, c->revoke_reason);
	p_str(&p, 15, c->external[0] ? c->external : "{}");
	p_str(&p, 16, c->fingerprint);
	p_int(&p, 17, (int)c->delivery);
	p_str(&p, 18, c->delivery_expires_at);
	p_blob(&p, 19, c->sealed, c->sealed_len);
	p_str(&p, 20, c->rotated_from);
	p_str(&p, 21, c->rotated_to);
	p_int(&p, 22, c->lifetime_days);
	p_str(&p, 23, c->grace_until);
	p_str(&p, 24, c->replacement_id);
	p_str(&p, 25, c->external_key);
	p_int(&p, 26, (int)c->delivery_mode);
	p_blob(&p, 27, c->broker_sealed, c->broker_sealed_len);
	if ((r = pg_exec(q, id, &p, &n)) == 0 && n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
pg_credential_insert(void *ctx, const struct credential *c)
{
	return pg_credential_write(ctx, S_CRED_INSERT, c);
}

static int
pg_credential_update(void *ctx, const struct credential *c)
{
	return pg_credential_write(ctx, S_CRED_UPDATE, c);
}

static int
pg_credential_get(void *ctx, const char *id, struct credential *c)
{
	PGresult	*res;
	int		 r;

	if ((res = pg_one(ctx, S_CRED_GET, id, NULL, &r)) == NULL)
		return r;
	credential_row(res, 0, c);
	PQclear(res);
	return 0;
}

/* Call cb for each row of res as a credential. */
static int
credentials_walk(PGresult *res, store_credential_cb cb, void *arg)
{
	struct credential	*c;
	int			 i, ret = 0;

	if ((c = malloc(sizeof(*c))) == NULL) {
		PQclear(res);
		return KW_ERR_NOMEM;
	}
	for (i = 0; ret == 0 && i < PQntuples(res); i++) {
		credential_row(res, i, c);
		ret = cb(c, arg);
	}
	PQclear(res);
	kw_wipe(c, sizeof(*c));
	free(c);
	return ret;
}

static int
pg_credential_each(void *ctx, const struct credential_filter *f,
    int64_t after, size_t limit, store_credential_cb cb, void *arg)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_int(&p, 1, after);
	p_viewer(&p, 2, 3, &f->viewer);
	p_opt(&p, 4, f->instance_id);
	p_opt(&p, 5, f->owner_id);
	p_int(&p, 6, f->state);
	p_opt(&p, 7, f->expiring_before);
	p_int(&p, 8, (int64_t)limit);
	p_int(&p, 9, f->kind);
	if ((res = pg_run(ctx, S_CRED_LIST, &p, &r)) == NULL)
		return r;
	return credentials_walk(res, cb, arg);
}

/* ---- jobs' queries ---- */

static int
pg_credential_due(void *ctx, enum cred_due due, const char *before,
    int64_t after, size_t limit, store_credential_cb cb, void *arg)
{
	static const enum stmt which[] = {
		[DUE_EXPIRING] = S_DUE_EXPIRING,
		[DUE_GRACE_OVER] = S_DUE_GRACE,
		[DUE_UNDELIVERED] = S_DUE_UNDELIVERED,
		[DUE_ROTATION] = S_DUE_ROTATION,
		[DUE_LEGACY] = S_DUE_LEGACY,
	};
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_str(&p, 1, before);
	p_int(&p, 2, after);
	p_int(&p, 3, (int64_t)limit);
	if ((res = pg_run(ctx, which[due], &p, &r)) == NULL)
		return r;
	return credentials_walk(res, cb, arg);
}

static int
pg_credential_by_key(void *ctx, const char *instance_id, const char *key,
    struct credential *c)
{
	PGresult	*res;
	int		 r;

	if ((res = pg_one(ctx, S_CRED_BY_KEY, instance_id, key, &r)) == NULL)
		return r;
	credential_row(res, 0, c);
	PQclear(res);
	return 0;
}

static int
pg_request_due(void *ctx, const char *before, int64_t after, size_t limit,
    store_request_cb cb, void *arg)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_str(&p, 1, before);
	p_int(&p, 2, after);
	p_int(&p, 3, (int64_t)limit);
	if ((res = pg_run(ctx, S_REQ_DUE, &p, &r)) == NULL)
		return r;
	return requests_walk(res, cb, arg);
}

static int
pg_person_by_slack(void *ctx, const char *slack_id, struct person *p)
{
	PGresult	*res;
	int		 r;

	if ((res = pg_one(ctx, S_PERSON_BY_SLACK, slack_id, NULL, &r)) ==
	    NULL)
		return r;
	person_row(res, 0, p);
	PQclear(res);
	return 0;
}

static int
pg_warning_add(void *ctx, const char *credential_id, int threshold,
    const char *at)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 r;

	p_str(&p, 1, credential_id);
	p_int(&p, 2, threshold);
	p_str(&p, 3, at);
	if ((r = pg_exec(ctx, S_WARN_ADD, &p, &n)) != 0)
		return r;
	return n == 1;
}

static int
pg_setting_get(void *ctx, const char *key, char *value, size_t valuesz,
    unsigned char *sealed, size_t sealedsz, size_t *sealed_len)
{
	struct pg	*q = ctx;
	PGresult	*res;
	int		 i, r;

	*sealed_len = 0;
	/* a write transaction reads them all once: a group's every part
	 * reads the same few (the notification channels) */
	if (q->in_tx && q->settings == NULL && !q->lost) {
		if ((res = pg_run(q, S_SET_ALL, NULL, &r)) == NULL)
			return r;
		q->settings = res;
	}
	if (q->in_tx && q->settings != NULL) {
		for (i = 0; i < PQntuples(q->settings); i++)
			if (strcmp(PQgetvalue(q->settings, i, 2), key) == 0)
				break;
		if (i == PQntuples(q->settings))
			return KW_ERR_NOT_FOUND;
		col_str(q->settings, i, 0, value, valuesz);
		*sealed_len = col_blob(q->settings, i, 1, sealed, sealedsz);
		return 0;
	}
	if ((res = pg_one(ctx, S_SET_GET, key, NULL, &r)) == NULL)
		return r;
	col_str(res, 0, 0, value, valuesz);
	*sealed_len = col_blob(res, 0, 1, sealed, sealedsz);
	PQclear(res);
	return 0;
}

static int
pg_setting_put(void *ctx, const char *key, const char *value,
    const unsigned char *sealed, size_t sealed_len, const char *at)
{
	struct pg	*q = ctx;
	struct params	 p = { 0 };

	PQclear(q->settings);	/* read again, with this one */
	q->settings = NULL;
	p_str(&p, 1, key);
	p_str(&p, 2, value);
	p_blob(&p, 3, sealed, sealed_len);
	p_str(&p, 4, at);
	return pg_exec(ctx, S_SET_PUT, &p, NULL);
}

static int
pg_outbox_insert(void *ctx, const struct outbox_msg *m)
{
	struct params p = { 0 };

	p_str(&p, 1, m->id);
	p_str(&p, 2, m->channel);
	p_str(&p, 3, m->recipient);
	p_str(&p, 4, m->kind);
	p_str(&p, 5, m->payload);
	p_str(&p, 6, m->created_at);
	return pg_exec(ctx, S_OUT_INSERT, &p, NULL);
}

static int
pg_outbox_claim(void *ctx, const char *due, const char *now,
    const char *lease_until, size_t limit, store_outbox_cb cb, void *arg)
{
	struct params		 p = { 0 };
	struct outbox_msg	 m;
	PGresult		*res;
	int			 i, r = 0;

	p_str(&p, 1, due);
	p_str(&p, 2, lease_until);
	p_int(&p, 3, (int64_t)limit);
	p_str(&p, 4, now);
	if ((res = pg_run(ctx, S_OUT_CLAIM, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(&m, 0, sizeof(m));
		m.seq = col_int(res, i, 0);
		col_str(res, i, 1, m.id, sizeof(m.id));
		col_str(res, i, 2, m.channel, sizeof(m.channel));
		col_str(res, i, 3, m.recipient, sizeof(m.recipient));
		col_str(res, i, 4, m.kind, sizeof(m.kind));
		if ((m.payload = strdup(col(res, i, 5) ? col(res, i, 5) :
		    "{}")) == NULL) {
			r = KW_ERR_NOMEM;
			break;
		}
		m.attempts = (int)col_int(res, i, 6);
		col_str(res, i, 7, m.created_at, sizeof(m.created_at));
		col_str(res, i, 8, m.next_attempt_at,
		    sizeof(m.next_attempt_at));
		col_str(res, i, 9, m.last_error, sizeof(m.last_error));
		r = cb(&m, arg);
		free(m.payload);
	}
	PQclear(res);
	return r;
}

static int
pg_outbox_sent(void *ctx, const char *id, const char *at)
{
	struct params p = { 0 };

	p_str(&p, 1, id);
	p_str(&p, 2, at);
	return pg_exec(ctx, S_OUT_SENT, &p, NULL);
}

static int
pg_outbox_retry(void *ctx, const char *id, const char *next,
    const char *error)
{
	struct params p = { 0 };

	p_str(&p, 1, id);
	p_str(&p, 2, next);
	p_str(&p, 3, error);
	return pg_exec(ctx, S_OUT_RETRY, &p, NULL);
}

static int
pg_outbox_fail(void *ctx, const char *id, const char *at, const char *error)
{
	struct params p = { 0 };

	p_str(&p, 1, id);
	p_str(&p, 2, at);
	p_str(&p, 3, error);
	return pg_exec(ctx, S_OUT_FAIL, &p, NULL);
}

static int
pg_outbox_pending(void *ctx, int64_t *n)
{
	PGresult	*res;
	int		 r;

	*n = 0;
	if ((res = pg_run(ctx, S_OUT_PENDING, NULL, &r)) == NULL)
		return r;
	if (PQntuples(res) == 1)
		*n = col_int(res, 0, 0);
	PQclear(res);
	return 0;
}

static int	pg_audit_head(void *, int64_t *, char *);

/* The metrics page's counts (values outside the enums are skipped). */
static int
pg_stats(void *ctx, struct store_stats *o)
{
	PGresult	*res;
	int64_t		 a, k, d;
	char		 h[65];
	int		 i, r;

	memset(o, 0, sizeof(*o));
	if ((res = pg_run(ctx, S_STATS_REQ, NULL, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++)
		if ((a = col_int(res, i, 0)) >= 0 && a < RS__COUNT)
			o->requests[a] = col_int(res, i, 1);
	PQclear(res);
	if ((res = pg_run(ctx, S_STATS_CRED, NULL, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		a = col_int(res, i, 0);
		k = col_int(res, i, 1);
		d = col_int(res, i, 2);
		if (a >= 0 && a < CS__COUNT && k >= 0 && k < STORE_KINDS &&
		    d >= 0 && d < STORE_DELIVERIES)
			o->credentials[a][k][d] = col_int(res, i, 3);
	}
	PQclear(res);
	if ((res = pg_run(ctx, S_STATS_MODE, NULL, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		a = col_int(res, i, 0);
		d = col_int(res, i, 1);
		if (a >= 0 && a < CS__COUNT && d >= 0 && d < DM__COUNT)
			o->api_tokens_by_mode[a][d] = col_int(res, i, 2);
	}
	PQclear(res);
	if ((res = pg_run(ctx, S_STATS_OUTBOX, NULL, &r)) == NULL)
		return r;
	if (PQntuples(res) == 1) {
		o->outbox_pending = col_int(res, 0, 0);
		col_str(res, 0, 1, o->outbox_oldest, sizeof(o->outbox_oldest));
	}
	PQclear(res);
	return pg_audit_head(ctx, &o->audit_head_seq, h);
}

static int
pg_replay_check(void *ctx, const char *signature, const char *at,
    const char *before)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 r;

	p_str(&p, 1, before);
	if ((r = pg_exec(ctx, S_REPLAY_PURGE, &p, NULL)) != 0)
		return r;
	memset(&p, 0, sizeof(p));
	p_str(&p, 1, signature);
	p_str(&p, 2, at);
	if ((r = pg_exec(ctx, S_REPLAY_ADD, &p, &n)) != 0)
		return r;
	return n == 1;
}

/* ---- bound tokens ---- */

static int
pg_bound_insert(void *ctx, const struct bound_token *b)
{
	struct params p = { 0 };

	p_str(&p, 1, b->id);
	p_str(&p, 2, b->credential_id);
	p_str(&p, 3, b->label);
	p_blob(&p, 4, b->hash, KW_HASH_LEN);
	p_str(&p, 5, b->created_at);
	return pg_exec(ctx, S_BOUND_INSERT, &p, NULL);
}

static int
pg_bound_find(void *ctx, const unsigned char *hash, struct bound_token *b,
    struct person *owner)
{
	struct params	 p = { 0 };
	PGresult	*res;
	int		 r;

	p_blob(&p, 1, hash, KW_HASH_LEN);
	if ((res = pg_run(ctx, S_BOUND_FIND, &p, &r)) == NULL)
		return r;
	r = KW_ERR_NOT_FOUND;
	if (PQntuples(res) == 1) {
		memset(b, 0, sizeof(*b));
		if (col_blob(res, 0, PERSON_NCOLS + 2, b->hash,
		    KW_HASH_LEN) == KW_HASH_LEN) {
			person_row(res, 0, owner);
			col_str(res, 0, PERSON_NCOLS, b->id, sizeof(b->id));
			col_str(res, 0, PERSON_NCOLS + 1, b->credential_id,
			    sizeof(b->credential_id));
			col_str(res, 0, PERSON_NCOLS + 3, b->created_at,
			    sizeof(b->created_at));
			r = 0;
		}
	}
	PQclear(res);
	return r;
}

static int
pg_bound_each(void *ctx, const char *credential_id, store_bound_cb cb,
    void *arg)
{
	struct params		 p = { 0 };
	struct bound_token	 b;
	PGresult		*res;
	int			 i, r = 0;

	p_str(&p, 1, credential_id);
	if ((res = pg_run(ctx, S_BOUND_LIST, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(&b, 0, sizeof(b));
		col_str(res, i, 0, b.id, sizeof(b.id));
		col_str(res, i, 1, b.credential_id, sizeof(b.credential_id));
		col_str(res, i, 2, b.label, sizeof(b.label));
		col_str(res, i, 3, b.created_at, sizeof(b.created_at));
		col_str(res, i, 4, b.last_used_at, sizeof(b.last_used_at));
		r = cb(&b, arg);
	}
	PQclear(res);
	return r;
}

/* Revoke bound token id of credential_id, or all of them (id NULL). */
static int
pg_bound_revoke(void *ctx, const char *credential_id, const char *id,
    const char *at)
{
	struct params	 p = { 0 };
	int64_t		 n = 0;
	int		 r;

	p_str(&p, 1, credential_id);
	if (id != NULL) {
		p_str(&p, 2, id);
		p_str(&p, 3, at);
	} else
		p_str(&p, 2, at);
	r = pg_exec(ctx, id ? S_BOUND_REVOKE : S_BOUND_REVOKE_CRED, &p, &n);
	if (r == 0 && id != NULL && n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
pg_bound_used(void *ctx, const char *id, const char *at)
{
	struct params p = { 0 };

	p_str(&p, 1, id);
	p_str(&p, 2, at);
	return pg_exec(ctx, S_BOUND_USED, &p, NULL);
}

/* ---- audit ---- */

static int
pg_audit_head(void *ctx, int64_t *seq, char *hash)
{
	struct pg	*q = ctx;
	PGresult	*res;
	int		 r;

	if (q->in_tx && q->head_known && !q->lost) {
		*seq = q->head_seq;
		kw_strlcpy(hash, q->head_hash, 65);
		return 0;
	}
	*seq = 0;
	hash[0] = '\0';
	if ((res = pg_run(ctx, S_AUDIT_HEAD, NULL, &r)) == NULL)
		return r;
	if (PQntuples(res) == 1) {
		*seq = col_int(res, 0, 0);
		col_str(res, 0, 1, hash, 65);
	}
	PQclear(res);
	if (q->in_tx) {		/* under the write lock (pg_begin) */
		q->head_seq = *seq;
		kw_strlcpy(q->head_hash, hash, sizeof(q->head_hash));
		q->head_known = 1;
	}
	return 0;
}

static int
pg_audit_insert(void *ctx, const struct audit_event *ev)
{
	struct pg	*q = ctx;
	struct params	 p = { 0 };

	p_int(&p, 1, ev->seq);
	p_str(&p, 2, ev->at);
	p_str(&p, 3, ev->actor);
	p_str(&p, 4, ev->action);
	p_str(&p, 5, ev->subject);
	p_str(&p, 6, ev->details);
	p_str(&p, 7, ev->prev_hash);
	p_str(&p, 8, ev->hash);
	/* Any failure here, even a duplicate seq, means "not written". */
	if (pg_exec(ctx, S_AUDIT_INSERT, &p, NULL) != 0) {
		q->head_known = 0;
		return KW_ERR_UNAVAILABLE;
	}
	if (q->in_tx && q->head_known && ev->seq == q->head_seq + 1) {
		q->head_seq = ev->seq;
		kw_strlcpy(q->head_hash, ev->hash, sizeof(q->head_hash));
	} else
		q->head_known = 0;
	return 0;
}

static int
pg_audit_each(void *ctx, int64_t after, size_t limit, store_audit_cb cb,
    void *arg)
{
	struct params		 p = { 0 };
	struct audit_event	 ev;
	PGresult		*res;
	int			 i, r = 0;

	p_int(&p, 1, after);
	p_int(&p, 2, (int64_t)limit);
	if ((res = pg_run(ctx, S_AUDIT_LIST, &p, &r)) == NULL)
		return r;
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		memset(&ev, 0, sizeof(ev));
		ev.seq = col_int(res, i, 0);
		col_str(res, i, 1, ev.at, sizeof(ev.at));
		col_str(res, i, 2, ev.actor, sizeof(ev.actor));
		col_str(res, i, 3, ev.action, sizeof(ev.action));
		col_str(res, i, 4, ev.subject, sizeof(ev.subject));
		ev.details = col(res, i, 5) ? col(res, i, 5) : "{}";
		col_str(res, i, 6, ev.prev_hash, sizeof(ev.prev_hash));
		col_str(res, i, 7, ev.hash, sizeof(ev.hash));
		r = cb(&ev, arg);
	}
	PQclear(res);
	return r;
}

/* ---- store copy (the target side) ---- */

#define COPY_SQL_MAX	4096

/* v as a text parameter into params slot i (bytea in hex). */
static void
p_value(struct params *p, int i, const struct store_value *v)
{
	switch (v->type) {
	case SV_INT:
		p_int(p, i, v->i);
		break;
	case SV_TEXT:
		p_str(p, i, v->s);
		break;
	case SV_BLOB:
		if (v->len > 0)
			p_blob(p, i, v->b, v->len);
		else
			p_str(p, i, "\\x");
		break;
	default:
		p_str(p, i, NULL);
	}
}

/* Run sql (built from a table spec, never input) with p's values,
 * parameter types left to the server (the columns'). */
static int
pg_copy_exec(struct pg *q, struct buf *sql, struct params *p, int n)
{
	PGresult	*res;
	int		 r;

	if (buf_err(sql) != 0) {
		pg_params_free(p);
		return KW_ERR_NOMEM;
	}
	pg_uncache(q);		/* a row of any table */
	q->auth_touched = 1;
	res = PQexecParams(q->conn, buf_str(sql), n, NULL, p->v, NULL, NULL,
	    0);
	r = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK ? 0 :
	    res ? res_err(res) : KW_ERR_UNAVAILABLE;
	PQclear(res);
	pg_params_free(p);
	return r;
}

static int
pg_row_insert(void *ctx, const struct store_table *t,
    const struct store_value *v)
{
	struct params	 p = { 0 };
	struct buf	 sql;
	size_t		 i;
	int		 r;

	buf_init(&sql, COPY_SQL_MAX);
	buf_printf(&sql, "INSERT INTO %s (", t->name);
	for (i = 0; i < t->ncols; i++)
		buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i]);
	buf_addstr(&sql, ") VALUES (");
	for (i = 0; i < t->ncols; i++) {
		buf_printf(&sql, "%s$%zu", i ? ", " : "", i + 1);
		if ((int)i == t->late)
			p_str(&p, (int)i + 1, NULL);	/* second pass */
		else
			p_value(&p, (int)i + 1, &v[i]);
	}
	buf_addstr(&sql, ")");
	r = pg_copy_exec(ctx, &sql, &p, (int)t->ncols);
	buf_free(&sql);
	return r;
}

static int
pg_row_late(void *ctx, const struct store_table *t,
    const struct store_value *key, const struct store_value *v)
{
	struct params	 p = { 0 };
	struct buf	 sql;
	int		 r;

	buf_init(&sql, COPY_SQL_MAX);
	buf_printf(&sql, "UPDATE %s SET %s = $2 WHERE %s = $1", t->name,
	    t->cols[t->late], t->key);
	p_value(&p, 1, key);
	p_value(&p, 2, v);
	r = pg_copy_exec(ctx, &sql, &p, 2);
	buf_free(&sql);
	return r;
}

/* After a copy: the table's seq sequence continues past its rows. */
static int
pg_copy_done(void *ctx, const struct store_table *t)
{
	struct params	 p = { 0 };
	struct buf	 sql;
	size_t		 i;
	int		 r = 0;

	for (i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i], "seq") == 0)
			break;
	if (i == t->ncols)
		return 0;
	buf_init(&sql, COPY_SQL_MAX);
	buf_printf(&sql, "SELECT setval(pg_get_serial_sequence('%s', 'seq'),"
	    " coalesce(max(seq), 0) + 1, false) FROM %s", t->name, t->name);
	if (buf_err(&sql) == 0) {
		PGresult *res = PQexecParams(((struct pg *)ctx)->conn,
		    buf_str(&sql), 0, NULL, NULL, NULL, NULL, 0);
		r = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK ? 0 :
		    KW_ERR_UNAVAILABLE;
		PQclear(res);
	} else
		r = KW_ERR_NOMEM;
	buf_free(&sql);
	pg_params_free(&p);
	return r;
}

/* The tables of the schema keywarden uses (but its version table). */
static int
pg_tables_each(void *ctx, int (*cb)(const char *, void *), void *arg)
{
	struct pg	*q = ctx;
	PGresult	*res;
	int		 i, r = 0;

	if ((r = pg_ready(q)) != 0)
		return r;
	res = PQexec(q->conn, "SELECT tablename FROM pg_tables WHERE"
	    " schemaname = current_schema() AND tablename <>"
	    " 'keywarden_schema'");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		return KW_ERR_UNAVAILABLE;
	}
	for (i = 0; r == 0 && i < PQntuples(res); i++)
		r = cb(PQgetvalue(res, i, 0), arg);
	PQclear(res);
	return r;
}

/* PostgreSQL has its own online backups (pg_dump, base backups):
 * keywarden's file backup is for a SQLite store. */
static int
pg_backup(void *ctx, const char *path, int64_t *seq, char *hash)
{
	KW_UNUSED(ctx);
	KW_UNUSED(path);
	*seq = 0;
	hash[0] = '\0';
	return KW_ERR_CONFIG;
}

/* Drain the notifications libpq has read: 1 if there was one. */
static int
pg_notified(struct pg *q)
{
	PGnotify	*n;
	int		 got = 0;

	while ((n = PQnotifies(q->conn)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

/*
 * store_watch: this connection LISTENs on AUTH_CHANNEL (stmt_auth).  A
 * wait that sees no notification ends with a round trip, so that 0
 * always means the server was reached just now.
 */
static int
pg_watch(void *ctx, int timeout_ms)
{
	struct pg	*q = ctx;
	struct pollfd	 pfd;
	PGresult	*res;
	int		 ok, n;

	if (q->in_tx)
		return KW_ERR_INTERNAL;
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK ||
	    !q->listening) {
		if (pg_connect(q) != 0)
			return KW_ERR_UNAVAILABLE;
		res = PQexec(q->conn, "LISTEN " AUTH_CHANNEL);
		ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			pg_drop(q);
			return KW_ERR_UNAVAILABLE;
		}
		q->listening = 1;
		return 1;	/* what changed before is not known */
	}
	if (pg_notified(q))
		return 1;
	pfd.fd = PQsocket(q->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	n = poll(&pfd, 1, timeout_ms);
	if ((n < 0 && errno != EINTR) ||
	    (n > 0 && PQconsumeInput(q->conn) != 1)) {
		pg_drop(q);
		return KW_ERR_UNAVAILABLE;
	}
	if (pg_notified(q))
		return 1;
	/* nothing came: is the server still there? */
	res = PQexec(q->conn, "");
	ok = res != NULL && PQresultStatus(res) == PGRES_EMPTY_QUERY;
	PQclear(res);
	if (!ok) {
		pg_drop(q);
		return KW_ERR_UNAVAILABLE;
	}
	return pg_notified(q);
}

const struct store_ops store_postgres_ops = {
	.name = "postgresql",
	.open = pg_open,
	.open_file = pg_open_file,
	.backup = pg_backup,
	.replace = NULL,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.check = pg_check,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_to = pg_rollback_to,
	.auth_touched = pg_auth_touched,
	.lock_jobs = pg_lock_jobs,
	.unlock_jobs = pg_unlock_jobs,
	.watch = pg_watch,
	.rows_each = NULL,		/* copies come from SQLite */
	.row_insert = pg_row_insert,
	.row_late = pg_row_late,
	.copy_done = pg_copy_done,
	.tables_each = pg_tables_each,
	.claim = pg_claim,
	.unclaim = pg_unclaim,
	.person_insert = pg_person_insert,
	.person_update = pg_person_update,
	.person_get = pg_person_get,
	.person_each = pg_person_each,
	.token_insert = pg_token_insert,
	.token_find = pg_token_find,
	.token_revoke_person = pg_token_revoke_person,
	.token_each = pg_token_each,
	.token_revoke = pg_token_revoke,
	.token_touch = pg_token_touch,
	.token_expiring = pg_token_expiring,
	.token_warned = pg_token_warned,
	.session_insert = pg_session_insert,
	.session_find = pg_session_find,
	.session_touch = pg_session_touch,
	.session_delete = pg_session_delete,
	.session_delete_person = pg_session_delete_person,
	.session_purge = pg_session_purge,
	.person_scim_count = pg_person_scim_count,
	.person_scim_page = pg_person_scim_page,
	.scim_token_insert = pg_scim_token_insert,
	.scim_token_find = pg_scim_token_find,
	.scim_token_each = pg_scim_token_each,
	.scim_token_delete = pg_scim_token_delete,
	.scim_token_used = pg_scim_token_used,
	.instance_insert = pg_instance_insert,
	.instance_update = pg_instance_update,
	.instance_get = pg_instance_get,
	.instance_each = pg_instance_each,
	.request_insert = pg_request_insert,
	.request_transition = pg_request_transition,
	.request_get = pg_request_get,
	.request_each = pg_request_each,
	.history_append = pg_history_append,
	.history_each = pg_history_each,
	.credential_insert = pg_credential_insert,
	.credential_update = pg_credential_update,
	.credential_get = pg_credential_get,
	.credential_each = pg_credential_each,
	.credential_due = pg_credential_due,
	.credential_by_key = pg_credential_by_key,
	.request_due = pg_request_due,
	.person_by_slack = pg_person_by_slack,
	.warning_add = pg_warning_add,
	.setting_get = pg_setting_get,
	.setting_put = pg_setting_put,
	.outbox_insert = pg_outbox_insert,
	.outbox_claim = pg_outbox_claim,
	.outbox_sent = pg_outbox_sent,
	.outbox_retry = pg_outbox_retry,
	.outbox_fail = pg_outbox_fail,
	.outbox_pending = pg_outbox_pending,
	.stats = pg_stats,
	.replay_check = pg_replay_check,
	.bound_insert = pg_bound_insert,
	.bound_find = pg_bound_find,
	.bound_each = pg_bound_each,
	.bound_revoke = pg_bound_revoke,
	.bound_used = pg_bound_used,
	.audit_head = pg_audit_head,
	.audit_insert = pg_audit_insert,
	.audit_each = pg_audit_each,
	.open_sibling = pg_open_sibling,
	.audit_scan = NULL,		/* store.c pages through audit_each */
};
