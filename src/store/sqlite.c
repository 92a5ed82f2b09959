/*
 * sqlite.c — the SQLite backend of the store: WAL mode, numbered schema
 * migrations, and one table of prepared statements.  Every value is a
 * bound parameter; no SQL is ever formatted from input.
 */
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "kw.h"
#include "limits.h"
#include "store/backend.h"
#include "util/buf.h"
#include "util/util.h"

#define DB_FILE		"keywarden.db"
#define BUSY_TIMEOUT_MS	5000
#define BACKUP_BUSY_TRIES 200	/* x 25 ms: a backup waits up to 5 s */
#define BACKUP_BUSY_MS	25

/* Numbered migrations: entry i brings the schema to version i + 1. */
static const char *const migrations[] = {
	/* 1: people, tokens, instances, audit */
	"CREATE TABLE people ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  name TEXT NOT NULL,"
	"  manager_id TEXT REFERENCES people(id),"
	"  roles INTEGER NOT NULL DEFAULT 0,"
	"  teams TEXT NOT NULL DEFAULT '[]',"
	"  slack_user_id TEXT,"
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE tokens ("
	"  id TEXT PRIMARY KEY,"
	"  person_id TEXT NOT NULL REFERENCES people(id),"
	"  hash BLOB NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL,"
	"  revoked_at TEXT);"
	"CREATE INDEX tokens_person ON tokens(person_id);"
	"CREATE TABLE instances ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
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
	"  bot_sealed BLOB,"
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
	"  seq INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  details TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);",
	/* 2: access requests, their history, credentials */
	"CREATE TABLE requests ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
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
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
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
	"  sealed BLOB,"
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
	"  sealed BLOB,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE outbox ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
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
	/* 5: outbox messages can fail for good (never claimed again), and
	 * the channel webhook's URL, a secret sealed in the settings, is no
	 * longer copied into the outbox: rows from before name the setting
	 * instead (secure_delete overwrites the old text) */
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
	"ALTER TABLE credentials ADD COLUMN broker_sealed BLOB;"
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
	"  hash BLOB NOT NULL UNIQUE,"
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
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  label TEXT,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL,"
	"  last_used_at TEXT);",
	/* 8: personal tokens get a label, an expiry and a last use; browser
	 * sessions.  Tokens from before expire 90 days after the upgrade
	 * (their owners are warned 7 days before): nothing breaks at the
	 * upgrade, and no token lives forever. */
	"ALTER TABLE tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE tokens ADD COLUMN expires_at TEXT;"
	"ALTER TABLE tokens ADD COLUMN last_used_at TEXT;"
	"ALTER TABLE tokens ADD COLUMN warned_at TEXT;"
	"UPDATE tokens SET expires_at ="
	"  strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+90 days')"
	"  WHERE revoked_at IS NULL;"
	"CREATE INDEX tokens_expiry ON tokens(expires_at)"
	"  WHERE revoked_at IS NULL AND warned_at IS NULL;"
	"CREATE TABLE sessions ("
	"  id TEXT PRIMARY KEY,"
	"  person_id TEXT NOT NULL REFERENCES people(id),"
	"  hash BLOB NOT NULL UNIQUE,"
	"  method TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  expires_at TEXT NOT NULL,"
	"  last_seen_at TEXT NOT NULL);"
	"CREATE INDEX sessions_person ON sessions(person_id);"
	"CREATE INDEX sessions_expiry ON sessions(expires_at);",
};
#define SCHEMA_VERSION ((int)KW_NELEM(migrations))
_Static_assert(KW_NELEM(migrations) == STORE_SCHEMA_VERSION,
    "sqlite.c: a new migration needs STORE_SCHEMA_VERSION (backend.h) and "
    "its PostgreSQL text in postgres.c's pg_migrations[]");

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
	S_AUDIT_HEAD, S_AUDIT_INSERT, S_AUDIT_LIST, S_AUDIT_SCAN,
	S_BOUND_INSERT, S_BOUND_FIND, S_BOUND_LIST, S_BOUND_REVOKE,
	S_BOUND_REVOKE_CRED, S_BOUND_USED,
	S_STATS_REQ, S_STATS_CRED, S_STATS_MODE, S_STATS_OUTBOX,
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
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT kw_part",
	[S_RELEASE] = "RELEASE kw_part",
	[S_ROLLBACK_TO] = "ROLLBACK TO kw_part",
	[S_PERSON_INSERT] =
	    "INSERT INTO people (id, email, name, manager_id, roles, teams,"
	    " slack_user_id, active, created_at, updated_at, external_id,"
	    " managed_by, scim_deleted_at)"
	    " VALUES (?1, ?2, ?3, nullif(?4, ''), ?5, ?6, nullif(?7, ''), ?8,"
	    " ?9, ?10, nullif(?11, ''), nullif(?12, ''), nullif(?13, ''))",
	[S_PERSON_UPDATE] =
	    "UPDATE people SET email = ?2, name = ?3,"
	    " manager_id = nullif(?4, ''), roles = ?5, teams = ?6,"
	    " slack_user_id = nullif(?7, ''), active = ?8, updated_at = ?10,"
	    " external_id = nullif(?11, ''), managed_by = nullif(?12, ''),"
	    " scim_deleted_at = nullif(?13, '')"
	    " WHERE id = ?1",
	[S_PERSON_SCIM_COUNT] =
	    "SELECT count(*) FROM people WHERE scim_deleted_at IS NULL",
	[S_PERSON_SCIM_PAGE] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE p.scim_deleted_at IS NULL ORDER BY p.seq LIMIT ?2 OFFSET ?1",
	[S_SCIM_TOKEN_INSERT] =
	    "INSERT INTO scim_tokens (id, label, hash, created_at)"
	    " VALUES (?1, nullif(?2, ''), ?3, ?4)",
	[S_SCIM_TOKEN_FIND] =
	    "SELECT id, coalesce(label, ''), hash, created_at,"
	    " coalesce(last_used_at, '') FROM scim_tokens WHERE hash = ?1",
	[S_SCIM_TOKEN_LIST] =
	    "SELECT id, coalesce(label, ''), created_at,"
	    " coalesce(last_used_at, '') FROM scim_tokens ORDER BY seq",
	[S_SCIM_TOKEN_DELETE] = "DELETE FROM scim_tokens WHERE id = ?1",
	[S_SCIM_TOKEN_USED] =
	    "UPDATE scim_tokens SET last_used_at = ?2 WHERE id = ?1",
	[S_PERSON_BY_ID] = "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id = ?1",
	[S_PERSON_BY_EMAIL] =
	    "SELECT " PERSON_COLS PERSON_FROM "WHERE p.email = ?1",
	[S_PERSON_LIST] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE p.seq > ?1 ORDER BY p.seq LIMIT ?2",
	[S_TOKEN_INSERT] =
	    "INSERT INTO tokens (id, person_id, hash, created_at, label,"
	    " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, ''))",
	[S_TOKEN_FIND] =
	    "SELECT " PERSON_COLS ", t.id, t.person_id, t.hash, t.created_at,"
	    " t.label, coalesce(t.expires_at, ''),"
	    " coalesce(t.last_used_at, '')"
	    " FROM tokens t JOIN people p ON p.id = t.person_id"
	    " LEFT JOIN people m ON m.id = p.manager_id"
	    " WHERE t.hash = ?1 AND t.revoked_at IS NULL",
	[S_TOKEN_REVOKE_PERSON] =
	    "UPDATE tokens SET revoked_at = ?2"
	    " WHERE person_id = ?1 AND revoked_at IS NULL",
	[S_TOKEN_LIST] =
	    "SELECT id, person_id, created_at, coalesce(revoked_at, ''),"
	    " label, coalesce(expires_at, ''), coalesce(last_used_at, '')"
	    " FROM tokens WHERE person_id = ?1 ORDER BY created_at, id",
	[S_TOKEN_REVOKE] =
	    "UPDATE tokens SET revoked_at = ?3"
	    " WHERE person_id = ?1 AND id = ?2 AND revoked_at IS NULL",
	[S_TOKEN_TOUCH] =
	    "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1",
	/* live tokens expiring by ?1 (and not yet), never warned about */
	[S_TOKEN_EXPIRING] =
	    "SELECT id, person_id, created_at, '', label, expires_at,"
	    " coalesce(last_used_at, '') FROM tokens"
	    " WHERE revoked_at IS NULL AND warned_at IS NULL"
	    " AND expires_at <= ?1 AND expires_at > ?2"
	    " ORDER BY expires_at LIMIT ?3",
	[S_TOKEN_WARNED] =
	    "UPDATE tokens SET warned_at = ?2"
	    " WHERE id = ?1 AND warned_at IS NULL",
	[S_SESS_INSERT] =
	    "INSERT INTO sessions (id, person_id, hash, method, created_at,"
	    " expires_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_SESS_FIND] =
	    "SELECT " PERSON_COLS ", s.id, s.person_id, s.hash, s.method,"
	    " s.created_at, s.expires_at, s.last_seen_at"
	    " FROM sessions s JOIN people p ON p.id = s.person_id"
	    " LEFT JOIN people m ON m.id = p.manager_id"
	    " WHERE s.hash = ?1",
	[S_SESS_TOUCH] =
	    "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1",
	[S_SESS_DELETE] = "DELETE FROM sessions WHERE id = ?1",
	[S_SESS_DELETE_PERSON] = "DELETE FROM sessions WHERE person_id = ?1",
	[S_SESS_PURGE] =
	    "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2",
	[S_INSTANCE_INSERT] =
	    "INSERT INTO instances (id, name, display_name, provider, url,"
	    " allow_integrations, issuance, allowed_scopes, max_lifetime_days,"
	    " rotation_days, bot_email, bot_sealed, created_at, updated_at,"
	    " grace_days, warn_days, default_delivery, allowed_deliveries,"
	    " max_access_ttl, bot_client_id, bot_expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, nullif(?11, ''),"
	    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, nullif(?20, ''),"
	    " nullif(?21, ''))",
	[S_INSTANCE_UPDATE] =
	    "UPDATE instances SET name = ?2, display_name = ?3, provider = ?4,"
	    " url = ?5, allow_integrations = ?6, issuance = ?7,"
	    " allowed_scopes = ?8, max_lifetime_days = ?9, rotation_days = ?10,"
	    " bot_email = nullif(?11, ''), bot_sealed = ?12, updated_at = ?14,"
	    " grace_days = ?15, warn_days = ?16, default_delivery = ?17,"
	    " allowed_deliveries = ?18, max_access_ttl = ?19,"
	    " bot_client_id = nullif(?20, ''), bot_expires_at = nullif(?21, '')"
	    " WHERE id = ?1",
	[S_INSTANCE_BY_NAME] = "SELECT " INSTANCE_COLS
	    " FROM instances WHERE name = ?1 OR id = ?1",
	[S_INSTANCE_LIST] = "SELECT " INSTANCE_COLS
	    " FROM instances WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[S_PROV_DELETE] =
	    "DELETE FROM instance_provisioners WHERE instance_id = ?1",
	[S_PROV_INSERT] =
	    "INSERT INTO instance_provisioners (instance_id, pos, person_id)"
	    " VALUES (?1, ?2, ?3)",
	[S_PROV_LIST] =
	    "SELECT ip.person_id, p.email FROM instance_provisioners ip"
	    " JOIN people p ON p.id = ip.person_id"
	    " WHERE ip.instance_id = ?1 ORDER BY ip.pos",
	[S_REQ_INSERT] =
	    "INSERT INTO requests (id, instance_id, kind, state, purpose,"
	    " requester_id, manager_approver_id, justification, use_case,"
	    " scopes, lifetime_days, access_request_url, link, integration,"
	    " credential_id, created_at, updated_at, expires_at, delivery_mode)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, ''), ?8, ?9, ?10,"
	    " ?11, nullif(?12, ''), ?13, ?14, nullif(?15, ''), ?16, ?17, ?18,"
	    " ?19)",
	[S_REQ_TRANSITION] =
	    "UPDATE requests SET state = ?2,"
	    " manager_approver_id = nullif(?3, ''),"
	    " credential_id = nullif(?4, ''), updated_at = ?5"
	    " WHERE id = ?1 AND state = ?6",
	[S_REQ_GET] = "SELECT " REQUEST_COLS REQUEST_FROM "WHERE r.id = ?1",
	[S_REQ_LIST] = "SELECT " REQUEST_COLS REQUEST_FROM
	    "WHERE r.seq > ?1"
	    " AND (?2 = 1 OR r.requester_id = ?3 OR q.manager_id = ?3 OR "
	    IS_PROVISIONER("r.instance_id", "?3") ")"
	    " AND (?4 = 0 OR ((?4 >> r.state) & 1) = 1)"
	    " AND (?5 IS NULL OR r.instance_id = ?5)"
	    " AND (?6 IS NULL OR r.requester_id = ?6)"
	    " ORDER BY r.seq LIMIT ?7",
	[S_HIST_APPEND] =
	    "INSERT INTO request_history (request_id, pos, at, actor, action,"
	    " comment) VALUES (?1, (SELECT coalesce(max(pos), 0) + 1 FROM"
	    " request_history WHERE request_id = ?1), ?2, ?3, ?4, ?5)",
	[S_HIST_LIST] =
	    "SELECT at, actor, action, comment FROM request_history"
	    " WHERE request_id = ?1 ORDER BY pos",
	[S_CRED_INSERT] =
	    "INSERT INTO credentials (id, instance_id, kind, owner_id,"
	    " request_id, purpose, name, scopes, state, created_at, expires_at,"
	    " last_used_at, revoked_at, revoke_reason, external, fingerprint,"
	    " delivery, delivery_expires_at, sealed, rotated_from, rotated_to,"
	    " lifetime_days, grace_until, replacement_id, external_key,"
	    " delivery_mode, broker_sealed)"
	    " VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), ?6, ?7, ?8, ?9, ?10,"
	    " nullif(?11, ''), nullif(?12, ''), nullif(?13, ''), nullif(?14, ''),"
	    " ?15, nullif(?16, ''), ?17, nullif(?18, ''), ?19, nullif(?20, ''),"
	    " nullif(?21, ''), ?22, nullif(?23, ''), nullif(?24, ''),"
	    " nullif(?25, ''), ?26, ?27)",
	[S_CRED_UPDATE] =
	    "UPDATE credentials SET name = ?7, scopes = ?8, state = ?9,"
	    " created_at = ?10, expires_at = nullif(?11, ''),"
	    " last_used_at = nullif(?12, ''), revoked_at = nullif(?13, ''),"
	    " revoke_reason = nullif(?14, ''), external = ?15,"
	    " fingerprint = nullif(?16, ''), delivery = ?17,"
	    " delivery_expires_at = nullif(?18, ''), sealed = ?19,"
	    " rotated_from = nullif(?20, ''), rotated_to = nullif(?21, ''),"
	    " lifetime_days = ?22, grace_until = nullif(?23, ''),"
	    " replacement_id = nullif(?24, ''), external_key = nullif(?25, ''),"
	    " delivery_mode = ?26, broker_sealed = ?27"
	    " WHERE id = ?1",
	[S_CRED_GET] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.id = ?1",
	[S_CRED_LIST] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.seq > ?1"
	    " AND (?2 = 1 OR c.owner_id = ?3 OR o.manager_id = ?3 OR "
	    IS_PROVISIONER("c.instance_id", "?3") ")"
	    " AND (?4 IS NULL OR c.instance_id = ?4)"
	    " AND (?5 IS NULL OR c.owner_id = ?5)"
	    " AND (?6 < 0 OR c.state = ?6)"
	    " AND (?7 IS NULL OR (c.expires_at IS NOT NULL AND"
	    " c.expires_at < ?7))"
	    " AND (?9 < 0 OR c.kind = ?9)"
	    " ORDER BY c.seq LIMIT ?8",
	[S_DUE_EXPIRING] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.state = 1 AND c.expires_at IS NOT NULL"
	    " AND c.expires_at <= ?1 AND c.seq > ?2 ORDER BY c.seq LIMIT ?3",
	[S_DUE_GRACE] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.state = 1 AND c.grace_until IS NOT NULL"
	    " AND c.grace_until <= ?1 AND c.seq > ?2 ORDER BY c.seq LIMIT ?3",
	[S_DUE_UNDELIVERED] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.delivery = 1 AND c.delivery_expires_at <= ?1"
	    " AND c.seq > ?2 ORDER BY c.seq LIMIT ?3",
	[S_DUE_ROTATION] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.state = 1 AND c.kind != 2 AND c.created_at <= ?1"
	    " AND c.rotated_to IS NULL AND c.seq > ?2 AND NOT EXISTS (SELECT 1"
	    " FROM credential_warnings w WHERE w.credential_id = c.id AND"
	    " w.threshold_days = -1) ORDER BY c.seq LIMIT ?3",
	[S_DUE_LEGACY] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.kind = 2 AND c.state = 1 AND c.seq > ?2"
	    " AND ?1 IS NOT NULL ORDER BY c.seq LIMIT ?3",
	[S_CRED_BY_KEY] = "SELECT " CREDENTIAL_COLS CREDENTIAL_FROM
	    "WHERE c.instance_id = ?1 AND c.external_key = ?2",
	[S_REQ_DUE] = "SELECT " REQUEST_COLS REQUEST_FROM
	    "WHERE r.state IN (0, 1) AND r.expires_at <= ?1 AND r.seq > ?2"
	    " ORDER BY r.seq LIMIT ?3",
	[S_PERSON_BY_SLACK] = "SELECT " PERSON_COLS PERSON_FROM
	    "WHERE p.slack_user_id = ?1",
	[S_WARN_ADD] =
	    "INSERT OR IGNORE INTO credential_warnings (credential_id,"
	    " threshold_days, warned_at) VALUES (?1, ?2, ?3)",
	[S_SET_GET] = "SELECT value, sealed FROM settings WHERE key = ?1",
	[S_SET_PUT] =
	    "INSERT INTO settings (key, value, sealed, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET"
	    " value = excluded.value, sealed = excluded.sealed,"
	    " updated_at = excluded.updated_at",
	[S_OUT_INSERT] =
	    "INSERT INTO outbox (id, channel, recipient, kind, payload,"
	    " created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[S_OUT_CLAIM] =
	    "UPDATE outbox SET claimed_until = ?2, attempts = attempts + 1"
	    " WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL"
	    " AND failed_at IS NULL AND next_attempt_at <= ?1 AND (claimed_until IS NULL OR"
	    " claimed_until <= ?4) ORDER BY seq LIMIT ?3)"
	    " RETURNING seq, id, channel, recipient, kind, payload, attempts,"
	    " created_at, next_attempt_at, coalesce(last_error, '')",
	[S_OUT_SENT] =
	    "UPDATE outbox SET sent_at = ?2, claimed_until = NULL,"
	    " last_error = NULL WHERE id = ?1",
	[S_OUT_RETRY] =
	    "UPDATE outbox SET next_attempt_at = ?2, claimed_until = NULL,"
	    " last_error = ?3 WHERE id = ?1",
	[S_OUT_FAIL] =
	    "UPDATE outbox SET failed_at = ?2, claimed_until = NULL,"
	    " last_error = ?3 WHERE id = ?1",
	[S_OUT_PENDING] = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
	    " AND failed_at IS NULL",
	[S_REPLAY_PURGE] = "DELETE FROM slack_replays WHERE seen_at < ?1",
	[S_REPLAY_ADD] =
	    "INSERT OR IGNORE INTO slack_replays (signature, seen_at)"
	    " VALUES (?1, ?2)",
	[S_AUDIT_HEAD] =
	    "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
	[S_AUDIT_INSERT] =
	    "INSERT INTO audit_events (seq, at, actor, action, subject,"
	    " details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_AUDIT_LIST] =
	    "SELECT seq, at, actor, action, subject, details, prev_hash, hash"
	    " FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
	[S_BOUND_INSERT] =
	    "INSERT INTO bound_tokens (id, credential_id, label, hash,"
	    " created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	/* a bound token lives only as long as its credential is active */
	[S_BOUND_FIND] =
	    "SELECT " PERSON_COLS ", b.id, b.credential_id, b.hash,"
	    " b.created_at FROM bound_tokens b"
	    " JOIN credentials c ON c.id = b.credential_id AND c.state = 1"
	    " JOIN people p ON p.id = c.owner_id"
	    " LEFT JOIN people m ON m.id = p.manager_id"
	    " WHERE b.hash = ?1 AND b.revoked_at IS NULL",
	[S_BOUND_LIST] =
	    "SELECT id, credential_id, label, created_at,"
	    " coalesce(last_used_at, '') FROM bound_tokens"
	    " WHERE credential_id = ?1 AND revoked_at IS NULL"
	    " ORDER BY created_at, id",
	[S_BOUND_REVOKE] =
	    "UPDATE bound_tokens SET revoked_at = ?3"
	    " WHERE credential_id = ?1 AND id = ?2 AND revoked_at IS NULL",
	[S_BOUND_REVOKE_CRED] =
	    "UPDATE bound_tokens SET revoked_at = ?2"
	    " WHERE credential_id = ?1 AND revoked_at IS NULL",
	[S_BOUND_USED] =
	    "UPDATE bound_tokens SET last_used_at = ?2 WHERE id = ?1",
	[S_AUDIT_SCAN] =
	    "SELECT seq, at, actor, action, subject, details, prev_hash, hash"
	    " FROM audit_events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
	[S_STATS_REQ] = "SELECT state, count(*) FROM requests GROUP BY state",
	[S_STATS_CRED] =
	    "SELECT state, kind, delivery, count(*) FROM credentials"
	    " GROUP BY state, kind, delivery",
	[S_STATS_MODE] =
	    "SELECT state, delivery_mode, count(*) FROM credentials"
	    " WHERE kind = 0 GROUP BY state, delivery_mode",
	[S_STATS_OUTBOX] = "SELECT count(*), min(created_at) FROM outbox"
	    " WHERE sent_at IS NULL",
};

struct sq {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S__COUNT];
	int		 in_tx;
	int		 flags;		/* as opened (for a sibling) */
	int		 auth_touched;	/* see stmt_quiet */
};

/*
 * Writes that change nothing an authentication rests on (people,
 * tokens, sessions, SCIM and bound tokens, credentials' states,
 * instances, settings): a request's workflow appends and moves states
 * with these.  Any other write marks the transaction (sq_stmt) and
 * store_auth_touched() tells the API to drop its authentication cache
 * after the commit.
 */
static const unsigned char stmt_quiet[S__COUNT] = {
	[S_BEGIN] = 1, [S_COMMIT] = 1, [S_ROLLBACK] = 1, [S_SAVEPOINT] = 1,
	[S_RELEASE] = 1, [S_ROLLBACK_TO] = 1,
	[S_REQ_INSERT] = 1, [S_REQ_TRANSITION] = 1, [S_HIST_APPEND] = 1,
	[S_AUDIT_INSERT] = 1, [S_OUT_INSERT] = 1, [S_CRED_INSERT] = 1,
	[S_WARN_ADD] = 1, [S_OUT_CLAIM] = 1, [S_OUT_SENT] = 1,
	[S_OUT_RETRY] = 1, [S_OUT_FAIL] = 1, [S_REPLAY_PURGE] = 1,
	[S_REPLAY_ADD] = 1, [S_BOUND_USED] = 1,
};

/* Map a SQLite result to a project error. */
static int
sq_err(int rc)
{
	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return KW_ERR_CONFLICT;
	case SQLITE_NOMEM:
		return KW_ERR_NOMEM;
	default:
		/* busy, full, read-only, I/O, trigger aborts, ... */
		return KW_ERR_UNAVAILABLE;
	}
}

/* The prepared statement for id, reset and with bindings cleared. */
static sqlite3_stmt *
sq_stmt(struct sq *q, enum stmt id)
{
	sqlite3_stmt *s = q->stmt[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(q->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
			return NULL;
		q->stmt[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (!stmt_quiet[id] && !sqlite3_stmt_readonly(s))
		q->auth_touched = 1;
	return s;
}

/* Step a statement that returns no rows. */
static int
sq_exec(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE ? 0 : sq_err(sqlite3_extended_errcode(
	    sqlite3_db_handle(s)));

	sqlite3_reset(s);
	return r;
}

static void
col_str(sqlite3_stmt *s, int i, char *dst, size_t dstsz)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	kw_strlcpy(dst, t ? (const char *)t : "", dstsz);
}

static void
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
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

/* Decode a JSON array of strings into at most max slots of width w. */
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

static int
sq_user_version(struct sq *q)
{
	sqlite3_stmt	*s;
	int		 v = -1;

	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Bring the schema to SCHEMA_VERSION, one migration per transaction. */
static int
sq_migrate(struct sq *q, int flags)
{
	char	pragma[64];
	int	v, i;

	if ((v = sq_user_version(q)) < 0)
		return (flags & STORE_EXISTING) ? KW_ERR_CONFIG :
		    KW_ERR_UNAVAILABLE;
	if (v == 0 && (flags & STORE_EXISTING))
		return KW_ERR_CONFIG;	/* not a keywarden store */
	if (v > 0 && (flags & STORE_NEW))
		return KW_ERR_EXISTS;	/* initialised already */
	if (v > SCHEMA_VERSION)
		return KW_ERR_CONFIG;	/* written by a newer keywarden */
	if (v < SCHEMA_VERSION && !(flags & STORE_MIGRATE))
		return KW_ERR_CONFIG;
	for (i = v; i < SCHEMA_VERSION; i++) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d;",
		    i + 1);
		if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return KW_ERR_UNAVAILABLE;
		if (sqlite3_exec(q->db, migrations[i], NULL, NULL, NULL) !=
		    SQLITE_OK ||
		    sqlite3_exec(q->db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) !=
		    SQLITE_OK) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return KW_ERR_UNAVAILABLE;
		}
	}
	return 0;
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

/* ---- the read-ahead VFS of a scan ---- */

/*
 * A walk over the whole audit log (STORE_SCAN) reads the database once,
 * page after page, each page a pread(2) of 4 KiB: on this machine kind a
 * system call costs about as much as hashing the dozen events a page
 * holds (and a memory map costs more: a page fault per 64 KiB, then
 * cache misses on every first touch; measured ~20% more CPU per event
 * than reads).  This VFS is the default one, except that the main database
 * file is read SCAN_CHUNK bytes at a time and SQLite's page reads are
 * served from the last chunk.  The chunk is dropped at every lock change
 * (the start and end of each read transaction) and at every write: in a
 * read transaction the database pages SQLite reads from the file cannot
 * change (a checkpoint backfills only frames the reader sees in the
 * WAL, and those pages it reads from the WAL), so what was read ahead is
 * what a read would return.
 */
#define SCAN_VFS	"keywarden-scan"
#define SCAN_CHUNK	(256 * 1024)

struct ra_file {
	sqlite3_file	 base;		/* methods: ra_io */
	sqlite3_file	*real;		/* the default VFS's, right after */
	unsigned char	*chunk;		/* SCAN_CHUNK bytes, or NULL */
	sqlite3_int64	 off;		/* where chunk starts in the file */
	int		 len;		/* bytes of it valid (0: none) */
};

static sqlite3_vfs	 scan_vfs;
static pthread_once_t	 scan_once = PTHREAD_ONCE_INIT;
static int		 scan_ok;

#define RA(f)	((struct ra_file *)(f))
#define REAL(f)	(RA(f)->real)

static int
ra_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods->xClose(REAL(f));

	sqlite3_free(RA(f)->chunk);
	return rc;
}

static int
ra_read(sqlite3_file *f, void *dst, int n, sqlite3_int64 off)
{
	struct ra_file	*ra = RA(f);
	int		 rc, got;

	if (ra->chunk == NULL || n > SCAN_CHUNK)
		return REAL(f)->pMethods->xRead(REAL(f), dst, n, off);
	if (off < ra->off || off + n > ra->off + ra->len) {
		/* a short read past the end zero-fills: keep what is real */
		ra->len = 0;
		rc = REAL(f)->pMethods->xRead(REAL(f), ra->chunk, SCAN_CHUNK,
		    off);
		if (rc == SQLITE_IOERR_SHORT_READ) {
			sqlite3_int64 size;

			if (REAL(f)->pMethods->xFileSize(REAL(f), &size) !=
			    SQLITE_OK)
				return SQLITE_IOERR_READ;
			got = size - off < SCAN_CHUNK ? (int)(size - off) :
			    SCAN_CHUNK;
		} else if (rc == SQLITE_OK)
			got = SCAN_CHUNK;
		else
			return rc;
		ra->off = off;
		ra->len = got > 0 ? got : 0;
		if (off + n > ra->off + ra->len) {
			/* beyond the end: as the default VFS answers */
			ra->len = 0;
			return REAL(f)->pMethods->xRead(REAL(f), dst, n, off);
		}
	}
	memcpy(dst, ra->chunk + (off - ra->off), (size_t)n);
	return SQLITE_OK;
}

static int
ra_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	RA(f)->len = 0;
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int
ra_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	RA(f)->len = 0;
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
ra_sync(sqlite3_file *f, int flags)
{
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
ra_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
ra_lock(sqlite3_file *f, int lock)
{
	RA(f)->len = 0;
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int
ra_unlock(sqlite3_file *f, int lock)
{
	RA(f)->len = 0;
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int
ra_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
ra_file_control(sqlite3_file *f, int op, void *arg)
{
	RA(f)->len = 0;
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
ra_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
ra_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
ra_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, p);
}

static int
ra_shm_lock(sqlite3_file *f, int ofs, int n, int flags)
{
	RA(f)->len = 0;
	return REAL(f)->pMethods->xShmLock(REAL(f), ofs, n, flags);
}

static void
ra_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
ra_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

/* version 2: no memory map (STORE_SCAN reads, it does not map); the
 * default VFS's files are version 3 */
static const sqlite3_io_methods ra_io = {
	2, ra_close, ra_read, ra_write, ra_truncate, ra_sync, ra_file_size,
	ra_lock, ra_unlock, ra_check_reserved, ra_file_control,
	ra_sector_size, ra_device, ra_shm_map, ra_shm_lock, ra_shm_barrier,
	ra_shm_unmap, NULL, NULL
};

/* The default VFS's xOpen; the main database gets the read-ahead. */
static int
ra_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *oflags)
{
	sqlite3_vfs	*real = vfs->pAppData;
	struct ra_file	*ra = RA(f);
	int		 rc;

	memset(ra, 0, sizeof(*ra));
	ra->real = (sqlite3_file *)(ra + 1);
	if ((rc = real->xOpen(real, name, ra->real, flags, oflags)) !=
	    SQLITE_OK)
		return rc;
	ra->base.pMethods = &ra_io;
	/* the database only (not its WAL or journal); without the memory
	 * every read goes straight through */
	if (flags & SQLITE_OPEN_MAIN_DB)
		ra->chunk = sqlite3_malloc(SCAN_CHUNK);
	return SQLITE_OK;
}

static void
scan_vfs_register(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	if (real == NULL || real->iVersion < 2)
		return;
	scan_vfs = *real;
	scan_vfs.zName = SCAN_VFS;
	scan_vfs.szOsFile = (int)sizeof(struct ra_file) + real->szOsFile;
	scan_vfs.pAppData = real;
	scan_vfs.xOpen = ra_open;
	scan_vfs.pNext = NULL;
	scan_ok = sqlite3_vfs_register(&scan_vfs, 0) == SQLITE_OK;
}

/* The VFS for a connection opened with flags: the read-ahead one for a
 * scan (if it could be set up), else the default (NULL). */
static const char *
sq_vfs(int flags)
{
	if (!(flags & STORE_SCAN))
		return NULL;
	pthread_once(&scan_once, scan_vfs_register);
	return scan_ok ? SCAN_VFS : NULL;
}

/* Open the database file at path (see store_open_file). */
static int
sq_open_file(const char *path, int flags, void **ctx)
{
	struct sq	*q;
	struct stat	 sb;
	int		 r = KW_ERR_UNAVAILABLE, oflags;

	*ctx = NULL;
	if (!(flags & STORE_CREATE) && stat(path, &sb) != 0)
		return KW_ERR_NOT_FOUND;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return KW_ERR_NOMEM;
	oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	/* a scan reads ahead, without a map (see the read-ahead VFS) */
	if (sqlite3_open_v2(path, &q->db, oflags, sq_vfs(flags)) != SQLITE_OK)
		goto out;
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	if (sqlite3_exec(q->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	    "PRAGMA secure_delete=ON;", NULL, NULL, NULL) != SQLITE_OK) {
		if ((flags & STORE_EXISTING) &&
		    sqlite3_errcode(q->db) == SQLITE_NOTADB)
			r = KW_ERR_CONFIG;
		goto out;
	}
	/* a map only when asked: the server's connections do not ask, since
	 * in WAL mode a reader that finds the log changed unmaps the whole
	 * map (SQLite's pagerBeginReadTransaction), so under steady writes
	 * (the broker audits every dispensing) each read paid a munmap and a
	 * TLB shootdown */
	if ((flags & STORE_MMAP) && sqlite3_exec(q->db, "PRAGMA mmap_size="
	    "268435456;", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if ((r = sq_migrate(q, flags)) != 0)
		goto out;
	q->flags = flags;
	*ctx = q;
	return 0;
 out:
	sqlite3_close_v2(q->db);
	free(q);
	return r;
}

static int
sq_open(const char *dir, int flags, void **ctx)
{
	char path[KW_PATH_MAX];

	*ctx = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, DB_FILE) >=
	    sizeof(path))
		return KW_ERR_CONFIG;
	return sq_open_file(path, flags, ctx);
}

/* Another connection to the database of ctx, opened with its map
 * settings; never creating or migrating (ctx did that). */
static int
sq_open_sibling(void *ctx, void **out)
{
	struct sq	*q = ctx;
	const char	*path = sqlite3_db_filename(q->db, "main");

	*out = NULL;
	if (path == NULL || *path == '\0')
		return KW_ERR_INTERNAL;
	return sq_open_file(path, q->flags & (STORE_MMAP | STORE_SCAN), out);
}

/* Finalize q's prepared statements. */
static void
sq_stmts_finalize(struct sq *q)
{
	size_t i;

	for (i = 0; i < S__COUNT; i++) {
		sqlite3_finalize(q->stmt[i]);
		q->stmt[i] = NULL;
	}
}

static void
sq_close(void *ctx)
{
	struct sq	*q = ctx;

	if (q == NULL)
		return;
	sq_stmts_finalize(q);
	sqlite3_close_v2(q->db);
	free(q);
}


/* One process runs SQLite's jobs at a time already (BEGIN IMMEDIATE
 * serialises their writes, and a node is one process): always "held". */
static int
sq_lock_jobs(void *ctx)
{
	KW_UNUSED(ctx);
	return 1;
}

static void
sq_unlock_jobs(void *ctx)
{
	KW_UNUSED(ctx);
}

/* Claims are the one process's own (issuance.c keeps them). */
static int
sq_claim(void *ctx, const char *key)
{
	KW_UNUSED(ctx);
	KW_UNUSED(key);
	return 1;
}

static void
sq_unclaim(void *ctx, const char *key)
{
	KW_UNUSED(ctx);
	KW_UNUSED(key);
}

static int
sq_schema_version(void *ctx)
{
	return sq_user_version(ctx);
}

/*
 * PRAGMA quick_check (every page, index entry and NOT NULL/CHECK
 * constraint; O(size of the file)), then every statement of stmt_sql is
 * prepared: a table or column this binary needs that is missing or
 * renamed shows here rather than as a 503 later.
 */
static int
sq_check(void *ctx, char *why, size_t whysz)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = NULL;
	const char	*t;
	int		 rc, i;

	why[0] = '\0';
	if (sqlite3_prepare_v2(q->db, "PRAGMA quick_check(5)", -1, &s,
	    NULL) != SQLITE_OK) {
		snprintf(why, whysz, "the integrity check cannot run: %s",
		    sqlite3_errmsg(q->db));
		return KW_ERR_UNAVAILABLE;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(s, 0);
		if (t != NULL && strcmp(t, "ok") != 0 && why[0] == '\0')
			snprintf(why, whysz, "integrity check: %s", t);
	}
	if (rc != SQLITE_DONE && why[0] == '\0')
		snprintf(why, whysz, "integrity check: %s",
		    sqlite3_errmsg(q->db));
	sqlite3_finalize(s);
	if (why[0] != '\0') {
		for (t = why; (t = strchr(t, '\n')) != NULL; )
			why[t - why] = ' ';	/* one line */
		return KW_ERR_UNAVAILABLE;
	}
	for (i = 0; i < S__COUNT; i++)
		if (sq_stmt(q, (enum stmt)i) == NULL) {
			snprintf(why, whysz, "the schema is not the one this "
			    "binary expects: %s", sqlite3_errmsg(q->db));
			return KW_ERR_UNAVAILABLE;
		}
	return 0;
}

static int
sq_begin(void *ctx)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_BEGIN);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((r = sq_exec(s)) == 0)
		q->in_tx = 1;
	q->auth_touched = 0;
	return r ? KW_ERR_UNAVAILABLE : 0;
}

static int
sq_auth_touched(void *ctx)
{
	return ((struct sq *)ctx)->auth_touched;
}

static int
sq_commit(void *ctx)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_COMMIT);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((r = sq_exec(s)) != 0) {
		/* A failed COMMIT may leave the transaction open. */
		if (!sqlite3_get_autocommit(q->db))
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		q->in_tx = 0;
		return KW_ERR_UNAVAILABLE;
	}
	q->in_tx = 0;
	return 0;
}

static void
sq_rollback(void *ctx)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s;

	if (!q->in_tx && sqlite3_get_autocommit(q->db))
		return;
	if ((s = sq_stmt(q, S_ROLLBACK)) != NULL)
		sq_exec(s);
	q->in_tx = 0;
}

static int
sq_savepoint(void *ctx)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_SAVEPOINT);

	return s == NULL || sq_exec(s) != 0 ? KW_ERR_UNAVAILABLE : 0;
}

static int
sq_release(void *ctx)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_RELEASE);

	return s == NULL || sq_exec(s) != 0 ? KW_ERR_UNAVAILABLE : 0;
}

static void
sq_rollback_to(void *ctx)
{
	sqlite3_stmt *s;

	/* ROLLBACK TO keeps the savepoint open: release it too */
	if ((s = sq_stmt(ctx, S_ROLLBACK_TO)) != NULL)
		sq_exec(s);
	sq_release(ctx);
}

/* ---- people ---- */

static int
person_bind(sqlite3_stmt *s, const struct person *p)
{
	char *teams = strings_to_json(&p->teams[0][0], p->nteams,
	    sizeof(p->teams[0]));

	if (teams == NULL)
		return KW_ERR_NOMEM;
	bind_str(s, 1, p->id);
	bind_str(s, 2, p->email);
	bind_str(s, 3, p->name);
	bind_str(s, 4, p->manager_id);
	sqlite3_bind_int(s, 5, (int)p->roles);
	sqlite3_bind_text(s, 6, teams, -1, free);
	bind_str(s, 7, p->slack_user_id);
	sqlite3_bind_int(s, 8, p->active);
	bind_str(s, 9, p->created_at);
	bind_str(s, 10, p->updated_at);
	bind_str(s, 11, p->external_id);
	bind_str(s, 12, p->managed_by);
	bind_str(s, 13, p->scim_deleted_at);
	return 0;
}

static void
person_row(sqlite3_stmt *s, struct person *p)
{
	memset(p, 0, sizeof(*p));
	p->seq = sqlite3_column_int64(s, 0);
	col_str(s, 1, p->id, sizeof(p->id));
	col_str(s, 2, p->email, sizeof(p->email));
	col_str(s, 3, p->name, sizeof(p->name));
	col_str(s, 4, p->manager_id, sizeof(p->manager_id));
	col_str(s, 5, p->manager_email, sizeof(p->manager_email));
	p->roles = (unsigned)sqlite3_column_int(s, 6);
	p->nteams = json_to_strings((const char *)sqlite3_column_text(s, 7),
	    &p->teams[0][0], KW_TEAMS_MAX, sizeof(p->teams[0]));
	col_str(s, 8, p->slack_user_id, sizeof(p->slack_user_id));
	p->active = sqlite3_column_int(s, 9);
	col_str(s, 10, p->created_at, sizeof(p->created_at));
	col_str(s, 11, p->updated_at, sizeof(p->updated_at));
	col_str(s, 12, p->external_id, sizeof(p->external_id));
	col_str(s, 13, p->managed_by, sizeof(p->managed_by));
	col_str(s, 14, p->scim_deleted_at, sizeof(p->scim_deleted_at));
}

static int
sq_person_write(struct sq *q, enum stmt id, const struct person *p)
{
	sqlite3_stmt	*s = sq_stmt(q, id);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((r = person_bind(s, p)) != 0)
		return r;
	if ((r = sq_exec(s)) == 0 && sqlite3_changes(q->db) == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
sq_person_insert(void *ctx, const struct person *p)
{
	return sq_person_write(ctx, S_PERSON_INSERT, p);
}

static int
sq_person_update(void *ctx, const struct person *p)
{
	return sq_person_write(ctx, S_PERSON_UPDATE, p);
}

static int
sq_person_get(void *ctx, const char *key, struct person *p)
{
	sqlite3_stmt	*s;
	int		 rc, r;

	s = sq_stmt(ctx, strchr(key, '@') ? S_PERSON_BY_EMAIL : S_PERSON_BY_ID);
	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, key);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		person_row(s, p);
		r = 0;
	} else
		r = rc == SQLITE_DONE ? KW_ERR_NOT_FOUND : KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

static int
sq_person_each(void *ctx, int64_t after, size_t limit, store_person_cb cb,
    void *arg)
{
	struct person	 p;
	sqlite3_stmt	*s = sq_stmt(ctx, S_PERSON_LIST);
	int		 rc, r = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		person_row(s, &p);
		r = cb(&p, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

/* ---- people as SCIM sees them ---- */

static int
sq_person_scim_count(void *ctx, int64_t *n)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_PERSON_SCIM_COUNT);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : KW_ERR_UNAVAILABLE;
}

static int
sq_person_scim_page(void *ctx, int64_t offset, size_t limit,
    store_person_cb cb, void *arg)
{
	struct person	 p;
	sqlite3_stmt	*s = sq_stmt(ctx, S_PERSON_SCIM_PAGE);
	int		 rc, r = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_int64(s, 1, offset);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		person_row(s, &p);
		r = cb(&p, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

/* ---- SCIM tokens ---- */

static int
sq_scim_token_insert(void *ctx, const struct scim_token *t)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_SCIM_TOKEN_INSERT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, t->id);
	bind_str(s, 2, t->label);
	sqlite3_bind_blob(s, 3, t->hash, KW_HASH_LEN, SQLITE_TRANSIENT);
	bind_str(s, 4, t->created_at);
	return sq_exec(s);
}

static int
sq_scim_token_find(void *ctx, const unsigned char *hash, struct scim_token *t)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_SCIM_TOKEN_FIND);
	int		 rc, r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_blob(s, 1, hash, KW_HASH_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, 2) == KW_HASH_LEN) {
		memset(t, 0, sizeof(*t));
		col_str(s, 0, t->id, sizeof(t->id));
		col_str(s, 1, t->label, sizeof(t->label));
		memcpy(t->hash, sqlite3_column_blob(s, 2), KW_HASH_LEN);
		col_str(s, 3, t->created_at, sizeof(t->created_at));
		col_str(s, 4, t->last_used_at, sizeof(t->last_used_at));
		r = 0;
	} else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
		    KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

static int
sq_scim_token_each(void *ctx, store_scim_token_cb cb, void *arg)
{
	struct scim_token	 t;
	sqlite3_stmt		*s = sq_stmt(ctx, S_SCIM_TOKEN_LIST);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		col_str(s, 0, t.id, sizeof(t.id));
		col_str(s, 1, t.label, sizeof(t.label));
		col_str(s, 2, t.created_at, sizeof(t.created_at));
		col_str(s, 3, t.last_used_at, sizeof(t.last_used_at));
		ret = cb(&t, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return ret;
}

static int
sq_scim_token_delete(void *ctx, const char *id)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_SCIM_TOKEN_DELETE);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	if ((r = sq_exec(s)) == 0 && sqlite3_changes(q->db) == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
sq_scim_token_used(void *ctx, const char *id, const char *at)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_SCIM_TOKEN_USED);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	bind_str(s, 2, at);
	return sq_exec(s);
}

/* ---- tokens ---- */

static int
sq_token_insert(void *ctx, const struct token_rec *t)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_TOKEN_INSERT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, t->id);
	bind_str(s, 2, t->person_id);
	sqlite3_bind_blob(s, 3, t->hash, KW_HASH_LEN, SQLITE_TRANSIENT);
	bind_str(s, 4, t->created_at);
	bind_str(s, 5, t->label);
	bind_str(s, 6, t->expires_at);
	return sq_exec(s);
}

static int
sq_token_find(void *ctx, const unsigned char *hash, struct token_rec *t,
    struct person *owner)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_TOKEN_FIND);
	int		 rc, r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_blob(s, 1, hash, KW_HASH_LEN, SQLITE_STATIC);
	/* one statement, one read transaction: this runs per request */
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, PERSON_NCOLS + 2) == KW_HASH_LEN) {
		person_row(s, owner);
		memset(t, 0, sizeof(*t));
		col_str(s, PERSON_NCOLS, t->id, sizeof(t->id));
		col_str(s, PERSON_NCOLS + 1, t->person_id, sizeof(t->person_id));
		memcpy(t->hash, sqlite3_column_blob(s, PERSON_NCOLS + 2),
		    KW_HASH_LEN);
		col_str(s, PERSON_NCOLS + 3, t->created_at,
		    sizeof(t->created_at));
		col_str(s, PERSON_NCOLS + 4, t->label, sizeof(t->label));
		col_str(s, PERSON_NCOLS + 5, t->expires_at,
		    sizeof(t->expires_at));
		col_str(s, PERSON_NCOLS + 6, t->last_used_at,
		    sizeof(t->last_used_at));
		r = 0;
	} else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
		    KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

static int
sq_token_revoke_person(void *ctx, const char *person_id, const char *at,
    int *n)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_TOKEN_REVOKE_PERSON);
	int		 r;

	*n = 0;
	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, person_id);
	bind_str(s, 2, at);
	if ((r = sq_exec(s)) == 0)
		*n = sqlite3_changes(q->db);
	return r;
}

static int
sq_token_each(void *ctx, const char *person_id, store_token_cb cb, void *arg)
{
	struct token_rec	 t;
	sqlite3_stmt		*s = sq_stmt(ctx, S_TOKEN_LIST);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, person_id);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		col_str(s, 0, t.id, sizeof(t.id));
		col_str(s, 1, t.person_id, sizeof(t.person_id));
		col_str(s, 2, t.created_at, sizeof(t.created_at));
		col_str(s, 3, t.revoked_at, sizeof(t.revoked_at));
		col_str(s, 4, t.label, sizeof(t.label));
		col_str(s, 5, t.expires_at, sizeof(t.expires_at));
		col_str(s, 6, t.last_used_at, sizeof(t.last_used_at));
		ret = cb(&t, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return ret;
}

static int
sq_token_revoke(void *ctx, const char *person_id, const char *id,
    const char *at)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_TOKEN_REVOKE);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, person_id);
	bind_str(s, 2, id);
	bind_str(s, 3, at);
	if ((r = sq_exec(s)) == 0 && sqlite3_changes(q->db) == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

/* Run statement id with string arguments a (and b, unless NULL);
 * *n (may be NULL) gets the number of rows changed. */
static int
sq_exec2(struct sq *q, enum stmt id, const char *a, const char *b, int *n)
{
	sqlite3_stmt	*s = sq_stmt(q, id);
	int		 r;

	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, a);
	if (b != NULL)
		bind_str(s, 2, b);
	if ((r = sq_exec(s)) == 0 && n != NULL)
		*n = sqlite3_changes(q->db);
	return r;
}

static int
sq_token_touch(void *ctx, const char *id, const char *at)
{
	return sq_exec2(ctx, S_TOKEN_TOUCH, id, at, NULL);
}

static int
sq_token_expiring(void *ctx, const char *before, const char *now,
    size_t limit, store_token_cb cb, void *arg)
{
	struct token_rec	 t;
	sqlite3_stmt		*s = sq_stmt(ctx, S_TOKEN_EXPIRING);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, before);
	bind_str(s, 2, now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		col_str(s, 0, t.id, sizeof(t.id));
		col_str(s, 1, t.person_id, sizeof(t.person_id));
		col_str(s, 2, t.created_at, sizeof(t.created_at));
		col_str(s, 4, t.label, sizeof(t.label));
		col_str(s, 5, t.expires_at, sizeof(t.expires_at));
		col_str(s, 6, t.last_used_at, sizeof(t.last_used_at));
		ret = cb(&t, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return ret;
}

static int
sq_token_warned(void *ctx, const char *id, const char *at)
{
	int n, r;

	if ((r = sq_exec2(ctx, S_TOKEN_WARNED, id, at, &n)) != 0)
		return r;
	return n == 1;
}

/* ---- sessions ---- */

static int
sq_session_insert(void *ctx, const struct session_rec *se)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_SESS_INSERT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, se->id);
	bind_str(s, 2, se->person_id);
	sqlite3_bind_blob(s, 3, se->hash, KW_HASH_LEN, SQLITE_TRANSIENT);
	bind_str(s, 4, se->method);
	bind_str(s, 5, se->created_at);
	bind_str(s, 6, se->expires_at);
	bind_str(s, 7, se->last_seen_at);
	return sq_exec(s);
}

static int
sq_session_find(void *ctx, const unsigned char *hash, struct session_rec *se,
    struct person *owner)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_SESS_FIND);
	int		 rc, r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_blob(s, 1, hash, KW_HASH_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, PERSON_NCOLS + 2) == KW_HASH_LEN) {
		person_row(s, owner);
		memset(se, 0, sizeof(*se));
		col_str(s, PERSON_NCOLS, se->id, sizeof(se->id));
		col_str(s, PERSON_NCOLS + 1, se->person_id,
		    sizeof(se->person_id));
		memcpy(se->hash, sqlite3_column_blob(s, PERSON_NCOLS + 2),
		    KW_HASH_LEN);
		col_str(s, PERSON_NCOLS + 3, se->method,
		    sizeof(se->method));
		col_str(s, PERSON_NCOLS + 4, se->created_at,
		    sizeof(se->created_at));
		col_str(s, PERSON_NCOLS + 5, se->expires_at,
		    sizeof(se->expires_at));
		col_str(s, PERSON_NCOLS + 6, se->last_seen_at,
		    sizeof(se->last_seen_at));
		r = 0;
	} else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
		    KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

static int
sq_session_touch(void *ctx, const char *id, const char *at)
{
	return sq_exec2(ctx, S_SESS_TOUCH, id, at, NULL);
}

static int
sq_session_delete(void *ctx, const char *id)
{
	int n, r;

	if ((r = sq_exec2(ctx, S_SESS_DELETE, id, NULL, &n)) == 0 && n == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
sq_session_delete_person(void *ctx, const char *person_id, int *n)
{
	return sq_exec2(ctx, S_SESS_DELETE_PERSON, person_id, NULL, n);
}

static int
sq_session_purge(void *ctx, const char *now, const char *idle_before, int *n)
{
	return sq_exec2(ctx, S_SESS_PURGE, now, idle_before, n);
}

/* ---- instances ---- */

static int
instance_bind(sqlite3_stmt *s, const struct instance *in)
{
	char *scopes = NULL;

	if (in->scopes_restricted && (scopes = strings_to_json(
	    &in->allowed_scopes[0][0], in->nscopes,
	    sizeof(in->allowed_scopes[0]))) == NULL)
		return KW_ERR_NOMEM;
	bind_str(s, 1, in->id);
	bind_str(s, 2, in->name);
	bind_str(s, 3, in->display_name);
	bind_str(s, 4, in->provider);
	bind_str(s, 5, in->url);
	sqlite3_bind_int(s, 6, in->allow_integrations);
	sqlite3_bind_int(s, 7, (int)in->issuance);
	if (scopes != NULL)
		sqlite3_bind_text(s, 8, scopes, -1, free);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_int(s, 9, in->max_lifetime_days);
	sqlite3_bind_int(s, 10, in->rotation_days);
	bind_str(s, 11, in->bot_email);
	if (in->bot_sealed_len > 0)
		sqlite3_bind_blob(s, 12, in->bot_sealed,
		    (int)in->bot_sealed_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 12);
	bind_str(s, 13, in->created_at);
	bind_str(s, 14, in->updated_at);
	sqlite3_bind_int(s, 15, in->grace_days);
	sqlite3_bind_text(s, 16, ints_to_json(in->warn_days, in->nwarn), -1,
	    free);
	sqlite3_bind_int(s, 17, (int)in->default_delivery);
	sqlite3_bind_int(s, 18, (int)in->allowed_deliveries);
	sqlite3_bind_int(s, 19, in->max_access_ttl);
	bind_str(s, 20, in->bot_client_id);
	bind_str(s, 21, in->bot_expires_at);
	return 0;
}

static void
instance_row(sqlite3_stmt *s, struct instance *in)
{
	const unsigned char *scopes;
	int n;

	memset(in, 0, sizeof(*in));
	in->seq = sqlite3_column_int64(s, 0);
	col_str(s, 1, in->id, sizeof(in->id));
	col_str(s, 2, in->name, sizeof(in->name));
	col_str(s, 3, in->display_name, sizeof(in->display_name));
	col_str(s, 4, in->provider, sizeof(in->provider));
	col_str(s, 5, in->url, sizeof(in->url));
	in->allow_integrations = sqlite3_column_int(s, 6);
	in->issuance = (enum issuance)sqlite3_column_int(s, 7);
	if ((scopes = sqlite3_column_text(s, 8)) != NULL) {
		in->scopes_restricted = 1;
		in->nscopes = json_to_strings((const char *)scopes,
		    &in->allowed_scopes[0][0], KW_SCOPES_MAX,
		    sizeof(in->allowed_scopes[0]));
	}
	in->max_lifetime_days = sqlite3_column_int(s, 9);
	in->rotation_days = sqlite3_column_int(s, 10);
	col_str(s, 11, in->bot_email, sizeof(in->bot_email));
	n = sqlite3_column_bytes(s, 12);
	if (n > 0 && (size_t)n <= sizeof(in->bot_sealed)) {
		memcpy(in->bot_sealed, sqlite3_column_blob(s, 12), (size_t)n);
		in->bot_sealed_len = (size_t)n;
	}
	col_str(s, 13, in->created_at, sizeof(in->created_at));
	col_str(s, 14, in->updated_at, sizeof(in->updated_at));
	in->grace_days = sqlite3_column_int(s, 15);
	in->nwarn = json_to_ints((const char *)sqlite3_column_text(s, 16),
	    in->warn_days, KW_WARN_THRESHOLDS_MAX);
	in->default_delivery = (enum delivery_mode)sqlite3_column_int(s, 17);
	in->allowed_deliveries = (unsigned)sqlite3_column_int(s, 18);
	in->max_access_ttl = sqlite3_column_int(s, 19);
	col_str(s, 20, in->bot_client_id, sizeof(in->bot_client_id));
	col_str(s, 21, in->bot_expires_at, sizeof(in->bot_expires_at));
}

static int
sq_provisioners_write(struct sq *q, const struct instance *in)
{
	sqlite3_stmt	*s;
	size_t		 i;
	int		 r;

	if ((s = sq_stmt(q, S_PROV_DELETE)) == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, in->id);
	if ((r = sq_exec(s)) != 0)
		return r;
	for (i = 0; i < in->nprovisioners; i++) {
		if ((s = sq_stmt(q, S_PROV_INSERT)) == NULL)
			return KW_ERR_UNAVAILABLE;
		bind_str(s, 1, in->id);
		sqlite3_bind_int(s, 2, (int)i);
		bind_str(s, 3, in->provisioners[i].id);
		if ((r = sq_exec(s)) != 0)
			return r;
	}
	return 0;
}

static int
sq_provisioners_read(struct sq *q, struct instance *in)
{
	sqlite3_stmt	*s = sq_stmt(q, S_PROV_LIST);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, in->id);
	in->nprovisioners = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    in->nprovisioners < KW_PROVISIONERS_MAX) {
		struct person_ref *pr = &in->provisioners[in->nprovisioners++];
		col_str(s, 0, pr->id, sizeof(pr->id));
		col_str(s, 1, pr->email, sizeof(pr->email));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : KW_ERR_UNAVAILABLE;
}

static int
sq_instance_write(struct sq *q, enum stmt id, const struct instance *in)
{
	sqlite3_stmt	*s = sq_stmt(q, id);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((r = instance_bind(s, in)) != 0)
		return r;
	if ((r = sq_exec(s)) != 0)
		return r;
	if (sqlite3_changes(q->db) == 0)
		return KW_ERR_NOT_FOUND;
	return sq_provisioners_write(q, in);
}

static int
sq_instance_insert(void *ctx, const struct instance *in)
{
	return sq_instance_write(ctx, S_INSTANCE_INSERT, in);
}

static int
sq_instance_update(void *ctx, const struct instance *in)
{
	return sq_instance_write(ctx, S_INSTANCE_UPDATE, in);
}

static int
sq_instance_get(void *ctx, const char *key, struct instance *in)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_INSTANCE_BY_NAME);
	int		 rc, r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, key);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		instance_row(s, in);
		r = 0;
	} else
		r = rc == SQLITE_DONE ? KW_ERR_NOT_FOUND : KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r ? r : sq_provisioners_read(ctx, in);
}

static int
sq_instance_each(void *ctx, int64_t after, size_t limit,
    store_instance_cb cb, void *arg)
{
	struct instance	*in;
	sqlite3_stmt	*s = sq_stmt(ctx, S_INSTANCE_LIST);
	int		 rc = SQLITE_DONE, r = 0;
	size_t		 n = 0, i;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	/* Read the page first: provisioners need the connection too. */
	if ((in = calloc(limit ? limit : 1, sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
		instance_row(s, &in[n++]);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	for (i = 0; r == 0 && i < n; i++)
		if ((r = sq_provisioners_read(ctx, &in[i])) == 0)
			r = cb(&in[i], arg);
	kw_wipe(in, n * sizeof(*in));
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
request_row(sqlite3_stmt *s, struct request *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = sqlite3_column_int64(s, 0);
	col_str(s, 1, r->id, sizeof(r->id));
	col_str(s, 2, r->instance_id, sizeof(r->instance_id));
	col_str(s, 3, r->instance_name, sizeof(r->instance_name));
	r->kind = (enum cred_kind)sqlite3_column_int(s, 4);
	r->state = (enum req_state)sqlite3_column_int(s, 5);
	col_str(s, 6, r->purpose, sizeof(r->purpose));
	col_str(s, 7, r->requester_id, sizeof(r->requester_id));
	col_str(s, 8, r->requester_email, sizeof(r->requester_email));
	col_str(s, 9, r->manager_id, sizeof(r->manager_id));
	col_str(s, 10, r->manager_email, sizeof(r->manager_email));
	col_str(s, 11, r->manager_approver_id, sizeof(r->manager_approver_id));
	col_str(s, 12, r->justification, sizeof(r->justification));
	col_str(s, 13, r->use_case, sizeof(r->use_case));
	r->nscopes = json_to_strings((const char *)sqlite3_column_text(s, 14),
	    &r->scopes[0][0], KW_SCOPES_MAX, sizeof(r->scopes[0]));
	r->lifetime_days = sqlite3_column_int(s, 15);
	col_str(s, 16, r->access_request_url, sizeof(r->access_request_url));
	col_str(s, 17, r->link, sizeof(r->link));
	integration_from_json((const char *)sqlite3_column_text(s, 18),
	    &r->integration);
	col_str(s, 19, r->credential_id, sizeof(r->credential_id));
	col_str(s, 20, r->created_at, sizeof(r->created_at));
	col_str(s, 21, r->updated_at, sizeof(r->updated_at));
	col_str(s, 22, r->expires_at, sizeof(r->expires_at));
	r->delivery_mode = (enum delivery_mode)sqlite3_column_int(s, 23);
}

static int
sq_request_insert(void *ctx, const struct request *r)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_REQ_INSERT);
	char		*scopes, *integ = NULL;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	scopes = strings_to_json(&r->scopes[0][0], r->nscopes,
	    sizeof(r->scopes[0]));
	if (r->integration.present)
		integ = integration_to_json(&r->integration);
	if (scopes == NULL || (r->integration.present && integ == NULL)) {
		free(scopes);
		free(integ);
		return KW_ERR_NOMEM;
	}
	bind_str(s, 1, r->id);
	bind_str(s, 2, r->instance_id);
	sqlite3_bind_int(s, 3, (int)r->kind);
	sqlite3_bind_int(s, 4, (int)r->state);
	bind_str(s, 5, r->purpose);
	bind_str(s, 6, r->requester_id);
	bind_str(s, 7, r->manager_approver_id);
	bind_str(s, 8, r->justification);
	bind_str(s, 9, r->use_case);
	sqlite3_bind_text(s, 10, scopes, -1, free);
	sqlite3_bind_int(s, 11, r->lifetime_days);
	bind_str(s, 12, r->access_request_url);
	bind_str(s, 13, r->link);
	if (integ != NULL)
		sqlite3_bind_text(s, 14, integ, -1, free);
	else
		sqlite3_bind_null(s, 14);
	bind_str(s, 15, r->credential_id);
	bind_str(s, 16, r->created_at);
	bind_str(s, 17, r->updated_at);
	bind_str(s, 18, r->expires_at);
	sqlite3_bind_int(s, 19, (int)r->delivery_mode);
	return sq_exec(s);
}

static int
sq_request_transition(void *ctx, const struct request *r,
    enum req_state from)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_REQ_TRANSITION);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, r->id);
	sqlite3_bind_int(s, 2, (int)r->state);
	bind_str(s, 3, r->manager_approver_id);
	bind_str(s, 4, r->credential_id);
	bind_str(s, 5, r->updated_at);
	sqlite3_bind_int(s, 6, (int)from);
	if ((rc = sq_exec(s)) != 0)
		return rc;
	return sqlite3_changes(q->db) == 1 ? 0 : KW_ERR_CONFLICT;
}

static int
sq_request_get(void *ctx, const char *id, struct request *r)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_REQ_GET);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		request_row(s, r);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
	    KW_ERR_UNAVAILABLE;
}

static void
bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		bind_str(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/*
 * The viewer of a list query: ?all is 1 when it sees everything; ?who is
 * its person id, or NULL for nobody (NULL equals nothing, so no person
 * column matches it: an empty id can never be taken for a missing
 * manager).  The queries then admit a row when
 *   ?all = 1 OR requester/owner = ?who OR their manager = ?who OR
 *   ?who provisions the row's instance
 * which is policy_may_see_request()/_credential() (policy/visibility.c).
 */
static void
viewer_bind(sqlite3_stmt *s, int all, int who, const struct store_viewer *v)
{
	sqlite3_bind_int(s, all, v->all != 0);
	bind_opt(s, who, v->person_id != NULL && v->person_id[0] != '\0' ?
	    v->person_id : NULL);
}

static int
sq_request_each(void *ctx, const struct request_filter *f, int64_t after,
    size_t limit, store_request_cb cb, void *arg)
{
	struct request	*r;
	sqlite3_stmt	*s = sq_stmt(ctx, S_REQ_LIST);
	int		 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((r = malloc(sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	sqlite3_bind_int64(s, 1, after);
	viewer_bind(s, 2, 3, &f->viewer);
	sqlite3_bind_int(s, 4, (int)f->states);
	bind_opt(s, 5, f->instance_id);
	bind_opt(s, 6, f->requester_id);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)limit);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		request_row(s, r);
		ret = cb(r, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	free(r);
	return ret;
}

static int
sq_history_append(void *ctx, const char *request_id,
    const struct history_entry *h)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_HIST_APPEND);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, request_id);
	bind_str(s, 2, h->at);
	bind_str(s, 3, h->actor);
	bind_str(s, 4, h->action);
	bind_str(s, 5, h->comment);
	return sq_exec(s);
}

static int
sq_history_each(void *ctx, const char *request_id, store_history_cb cb,
    void *arg)
{
	struct history_entry	 h;
	sqlite3_stmt		*s = sq_stmt(ctx, S_HIST_LIST);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, request_id);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		col_str(s, 0, h.at, sizeof(h.at));
		col_str(s, 1, h.actor, sizeof(h.actor));
		col_str(s, 2, h.action, sizeof(h.action));
		col_str(s, 3, h.comment, sizeof(h.comment));
		ret = cb(&h, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return ret;
}

/* ---- credentials ---- */

static void
credential_row(sqlite3_stmt *s, struct credential *c)
{
	int n;

	memset(c, 0, sizeof(*c));
	c->seq = sqlite3_column_int64(s, 0);
	col_str(s, 1, c->id, sizeof(c->id));
	col_str(s, 2, c->instance_id, sizeof(c->instance_id));
	col_str(s, 3, c->instance_name, sizeof(c->instance_name));
	c->kind = (enum cred_kind)sqlite3_column_int(s, 4);
	col_str(s, 5, c->owner_id, sizeof(c->owner_id));
	col_str(s, 6, c->owner_email, sizeof(c->owner_email));
	col_str(s, 7, c->request_id, sizeof(c->request_id));
	col_str(s, 8, c->purpose, sizeof(c->purpose));
	col_str(s, 9, c->name, sizeof(c->name));
	c->nscopes = json_to_strings((const char *)sqlite3_column_text(s, 10),
	    &c->scopes[0][0], KW_SCOPES_MAX, sizeof(c->scopes[0]));
	c->state = (enum cred_state)sqlite3_column_int(s, 11);
	col_str(s, 12, c->created_at, sizeof(c->created_at));
	col_str(s, 13, c->expires_at, sizeof(c->expires_at));
	col_str(s, 14, c->last_used_at, sizeof(c->last_used_at));
	col_str(s, 15, c->revoked_at, sizeof(c->revoked_at));
	col_str(s, 16, c->revoke_reason, sizeof(c->revoke_reason));
	col_str(s, 17, c->external, sizeof(c->external));
	col_str(s, 18, c->fingerprint, sizeof(c->fingerprint));
	c->delivery = (enum delivery_state)sqlite3_column_int(s, 19);
	col_str(s, 20, c->delivery_expires_at, sizeof(c->delivery_expires_at));
	n = sqlite3_column_bytes(s, 21);
	if (n > 0 && (size_t)n <= sizeof(c->sealed)) {
		memcpy(c->sealed, sqlite3_column_blob(s, 21), (size_t)n);
		c->sealed_len = (size_t)n;
	}
	col_str(s, 22, c->rotated_from, sizeof(c->rotated_from));
	col_str(s, 23, c->rotated_to, sizeof(c->rotated_to));
	c->lifetime_days = sqlite3_column_int(s, 24);
	col_str(s, 25, c->grace_until, sizeof(c->grace_until));
	col_str(s, 26, c->replacement_id, sizeof(c->replacement_id));
	col_str(s, 27, c->external_key, sizeof(c->external_key));
	c->delivery_mode = (enum delivery_mode)sqlite3_column_int(s, 28);
	n = sqlite3_column_bytes(s, 29);
	if (n > 0 && (size_t)n <= sizeof(c->broker_sealed)) {
		memcpy(c->broker_sealed, sqlite3_column_blob(s, 29), (size_t)n);
		c->broker_sealed_len = (size_t)n;
	}
	col_str(s, 30, c->owner_manager_id, sizeof(c->owner_manager_id));
}

static int
sq_credential_write(struct sq *q, enum stmt id, const struct credential *c)
{
	sqlite3_stmt	*s = sq_stmt(q, id);
	char		*scopes;
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((scopes = strings_to_json(&c->scopes[0][0], c->nscopes,
	    sizeof(c->scopes[0]))) == NULL)
		return KW_ERR_NOMEM;
	bind_str(s, 1, c->id);
	bind_str(s, 2, c->instance_id);
	sqlite3_bind_int(s, 3, (int)c->kind);
	bind_str(s, 4, c->owner_id);
	bind_str(s, 5, c->request_id);
	bind_str(s, 6, c->purpose);
	bind_str(s, 7, c->name);
	sqlite3_bind_text(s, 8, scopes, -1, free);
	sqlite3_bind_int(s, 9, (int)c->state);
	bind_str(s, 10, c->created_at);
	bind_str(s, 11, c->expires_at);
	bind_str(s, 12, c->last_used_at);
	bind_str(s, 13, c->revoked_at);
	bind_str(s, 14, c->revoke_reason);
	bind_str(s, 15, c->external[0] ? c->external : "{}");
	bind_str(s, 16, c->fingerprint);
	sqlite3_bind_int(s, 17, (int)c->delivery);
	bind_str(s, 18, c->delivery_expires_at);
	if (c->sealed_len > 0)
		sqlite3_bind_blob(s, 19, c->sealed, (int)c->sealed_len,
		    SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 19);
	bind_str(s, 20, c->rotated_from);
	bind_str(s, 21, c->rotated_to);
	sqlite3_bind_int(s, 22, c->lifetime_days);
	bind_str(s, 23, c->grace_until);
	bind_str(s, 24, c->replacement_id);
	bind_str(s, 25, c->external_key);
	sqlite3_bind_int(s, 26, (int)c->delivery_mode);
	if (c->broker_sealed_len > 0)
		sqlite3_bind_blob(s, 27, c->broker_sealed,
		    (int)c->broker_sealed_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 27);
	if ((r = sq_exec(s)) == 0 && sqlite3_changes(q->db) == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
sq_credential_insert(void *ctx, const struct credential *c)
{
	return sq_credential_write(ctx, S_CRED_INSERT, c);
}

static int
sq_credential_update(void *ctx, const struct credential *c)
{
	return sq_credential_write(ctx, S_CRED_UPDATE, c);
}

static int
sq_credential_get(void *ctx, const char *id, struct credential *c)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_CRED_GET);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		credential_row(s, c);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
	    KW_ERR_UNAVAILABLE;
}

static int
sq_credential_each(void *ctx, const struct credential_filter *f,
    int64_t after, size_t limit, store_credential_cb cb, void *arg)
{
	struct credential	*c;
	sqlite3_stmt		*s = sq_stmt(ctx, S_CRED_LIST);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	sqlite3_bind_int64(s, 1, after);
	viewer_bind(s, 2, 3, &f->viewer);
	bind_opt(s, 4, f->instance_id);
	bind_opt(s, 5, f->owner_id);
	sqlite3_bind_int(s, 6, f->state);
	bind_opt(s, 7, f->expiring_before);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)limit);
	sqlite3_bind_int(s, 9, f->kind);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		credential_row(s, c);
		ret = cb(c, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	kw_wipe(c, sizeof(*c));
	free(c);
	return ret;
}

/* ---- jobs' queries ---- */

static int
sq_credential_due(void *ctx, enum cred_due due, const char *before,
    int64_t after, size_t limit, store_credential_cb cb, void *arg)
{
	static const enum stmt which[] = {
		[DUE_EXPIRING] = S_DUE_EXPIRING,
		[DUE_GRACE_OVER] = S_DUE_GRACE,
		[DUE_UNDELIVERED] = S_DUE_UNDELIVERED,
		[DUE_ROTATION] = S_DUE_ROTATION,
		[DUE_LEGACY] = S_DUE_LEGACY,
	};
	struct credential	*c;
	sqlite3_stmt		*s = sq_stmt(ctx, which[due]);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	bind_str(s, 1, before);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		credential_row(s, c);
		ret = cb(c, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	kw_wipe(c, sizeof(*c));
	free(c);
	return ret;
}

static int
sq_credential_by_key(void *ctx, const char *instance_id, const char *key,
    struct credential *c)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_CRED_BY_KEY);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, instance_id);
	bind_str(s, 2, key);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		credential_row(s, c);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
	    KW_ERR_UNAVAILABLE;
}

static int
sq_request_due(void *ctx, const char *before, int64_t after, size_t limit,
    store_request_cb cb, void *arg)
{
	struct request	*r;
	sqlite3_stmt	*s = sq_stmt(ctx, S_REQ_DUE);
	int		 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((r = malloc(sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	bind_str(s, 1, before);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		request_row(s, r);
		ret = cb(r, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	free(r);
	return ret;
}

static int
sq_person_by_slack(void *ctx, const char *slack_id, struct person *p)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_PERSON_BY_SLACK);
	int		 rc;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, slack_id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		person_row(s, p);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
	    KW_ERR_UNAVAILABLE;
}

static int
sq_warning_add(void *ctx, const char *credential_id, int threshold,
    const char *at)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, S_WARN_ADD);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, credential_id);
	sqlite3_bind_int(s, 2, threshold);
	bind_str(s, 3, at);
	if ((r = sq_exec(s)) != 0)
		return r;
	return sqlite3_changes(q->db) == 1;
}

static int
sq_setting_get(void *ctx, const char *key, char *value, size_t valuesz,
    unsigned char *sealed, size_t sealedsz, size_t *sealed_len)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_SET_GET);
	int		 rc, n;

	*sealed_len = 0;
	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, key);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		col_str(s, 0, value, valuesz);
		n = sqlite3_column_bytes(s, 1);
		if (n > 0 && (size_t)n <= sealedsz) {
			memcpy(sealed, sqlite3_column_blob(s, 1), (size_t)n);
			*sealed_len = (size_t)n;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
	    KW_ERR_UNAVAILABLE;
}

static int
sq_setting_put(void *ctx, const char *key, const char *value,
    const unsigned char *sealed, size_t sealed_len, const char *at)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_SET_PUT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, key);
	bind_str(s, 2, value);
	if (sealed_len > 0)
		sqlite3_bind_blob(s, 3, sealed, (int)sealed_len,
		    SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, 3);
	bind_str(s, 4, at);
	return sq_exec(s);
}

static int
sq_outbox_insert(void *ctx, const struct outbox_msg *m)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_OUT_INSERT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, m->id);
	bind_str(s, 2, m->channel);
	bind_str(s, 3, m->recipient);
	bind_str(s, 4, m->kind);
	bind_str(s, 5, m->payload);
	bind_str(s, 6, m->created_at);
	return sq_exec(s);
}

static int
sq_outbox_claim(void *ctx, const char *due, const char *now,
    const char *lease_until, size_t limit, store_outbox_cb cb, void *arg)
{
	struct outbox_msg	*m;
	sqlite3_stmt		*s = sq_stmt(ctx, S_OUT_CLAIM);
	size_t			 n = 0, i;
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((m = calloc(limit ? limit : 1, sizeof(*m))) == NULL)
		return KW_ERR_NOMEM;
	bind_str(s, 1, due);
	bind_str(s, 2, lease_until);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	bind_str(s, 4, now);
	/* step to the end first: the claim is one statement */
	while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		m[n].seq = sqlite3_column_int64(s, 0);
		col_str(s, 1, m[n].id, sizeof(m[n].id));
		col_str(s, 2, m[n].channel, sizeof(m[n].channel));
		col_str(s, 3, m[n].recipient, sizeof(m[n].recipient));
		col_str(s, 4, m[n].kind, sizeof(m[n].kind));
		m[n].payload = strdup((const char *)sqlite3_column_text(s, 5) ?
		    (const char *)sqlite3_column_text(s, 5) : "{}");
		m[n].attempts = sqlite3_column_int(s, 6);
		col_str(s, 7, m[n].created_at, sizeof(m[n].created_at));
		col_str(s, 8, m[n].next_attempt_at,
		    sizeof(m[n].next_attempt_at));
		col_str(s, 9, m[n].last_error, sizeof(m[n].last_error));
		n++;
	}
	if (n < limit && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	for (i = 0; i < n; i++) {
		if (ret == 0 && m[i].payload != NULL)
			ret = cb(&m[i], arg);
		free(m[i].payload);
	}
	free(m);
	return ret;
}

static int
sq_outbox_sent(void *ctx, const char *id, const char *at)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_OUT_SENT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	bind_str(s, 2, at);
	return sq_exec(s);
}

static int
sq_outbox_retry(void *ctx, const char *id, const char *next, const char *error)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_OUT_RETRY);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	bind_str(s, 2, next);
	bind_str(s, 3, error);
	return sq_exec(s);
}

static int
sq_outbox_fail(void *ctx, const char *id, const char *at, const char *error)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_OUT_FAIL);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	bind_str(s, 2, at);
	bind_str(s, 3, error);
	return sq_exec(s);
}

static int
sq_outbox_pending(void *ctx, int64_t *n)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_OUT_PENDING);
	int		 rc;

	*n = 0;
	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : KW_ERR_UNAVAILABLE;
}

static int	sq_audit_head(void *, int64_t *, char *);

/* The metrics page's counts: a few GROUP BY scans, each in its own
 * statement (values outside the enums are skipped, not trusted). */
static int
sq_stats(void *ctx, struct store_stats *o)
{
	sqlite3_stmt	*s;
	int64_t		 a, k, d;
	char		 h[KW_HASH_HEX_LEN + 1];
	int		 rc;

	memset(o, 0, sizeof(*o));
	if ((s = sq_stmt(ctx, S_STATS_REQ)) == NULL)
		return KW_ERR_UNAVAILABLE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((a = sqlite3_column_int64(s, 0)) >= 0 && a < RS__COUNT)
			o->requests[a] = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE || (s = sq_stmt(ctx, S_STATS_CRED)) == NULL)
		return KW_ERR_UNAVAILABLE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a = sqlite3_column_int64(s, 0);
		k = sqlite3_column_int64(s, 1);
		d = sqlite3_column_int64(s, 2);
		if (a >= 0 && a < CS__COUNT && k >= 0 && k < STORE_KINDS &&
		    d >= 0 && d < STORE_DELIVERIES)
			o->credentials[a][k][d] = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE || (s = sq_stmt(ctx, S_STATS_MODE)) == NULL)
		return KW_ERR_UNAVAILABLE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a = sqlite3_column_int64(s, 0);
		d = sqlite3_column_int64(s, 1);
		if (a >= 0 && a < CS__COUNT && d >= 0 && d < DM__COUNT)
			o->api_tokens_by_mode[a][d] =
			    sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE || (s = sq_stmt(ctx, S_STATS_OUTBOX)) == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o->outbox_pending = sqlite3_column_int64(s, 0);
		col_str(s, 1, o->outbox_oldest, sizeof(o->outbox_oldest));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return KW_ERR_UNAVAILABLE;
	return sq_audit_head(ctx, &o->audit_head_seq, h);
}

static int
sq_replay_check(void *ctx, const char *signature, const char *at,
    const char *before)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s;
	int		 r;

	if ((s = sq_stmt(q, S_REPLAY_PURGE)) == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, before);
	if ((r = sq_exec(s)) != 0)
		return r;
	if ((s = sq_stmt(q, S_REPLAY_ADD)) == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, signature);
	bind_str(s, 2, at);
	if ((r = sq_exec(s)) != 0)
		return r;
	return sqlite3_changes(q->db) == 1;
}

/* ---- audit ---- */

static int
sq_audit_head(void *ctx, int64_t *seq, char *hash)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_AUDIT_HEAD);
	int		 rc;

	*seq = 0;
	hash[0] = '\0';
	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*seq = sqlite3_column_int64(s, 0);
		col_str(s, 1, hash, KW_HASH_HEX_LEN + 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : KW_ERR_UNAVAILABLE;
}

static int
sq_audit_insert(void *ctx, const struct audit_event *ev)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_AUDIT_INSERT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_int64(s, 1, ev->seq);
	bind_str(s, 2, ev->at);
	bind_str(s, 3, ev->actor);
	bind_str(s, 4, ev->action);
	bind_str(s, 5, ev->subject);
	bind_str(s, 6, ev->details);
	bind_str(s, 7, ev->prev_hash);
	bind_str(s, 8, ev->hash);
	/* Any failure here, even a duplicate seq, means "not written". */
	return sq_exec(s) ? KW_ERR_UNAVAILABLE : 0;
}

static int
sq_audit_each(void *ctx, int64_t after, size_t limit, store_audit_cb cb,
    void *arg)
{
	struct audit_event	 ev;
	sqlite3_stmt		*s = sq_stmt(ctx, S_AUDIT_LIST);
	int			 rc, r = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof(ev));
		ev.seq = sqlite3_column_int64(s, 0);
		col_str(s, 1, ev.at, sizeof(ev.at));
		col_str(s, 2, ev.actor, sizeof(ev.actor));
		col_str(s, 3, ev.action, sizeof(ev.action));
		col_str(s, 4, ev.subject, sizeof(ev.subject));
		ev.details = (const char *)sqlite3_column_text(s, 5);
		if (ev.details == NULL)
			ev.details = "{}";
		col_str(s, 6, ev.prev_hash, sizeof(ev.prev_hash));
		col_str(s, 7, ev.hash, sizeof(ev.hash));
		r = cb(&ev, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

/* ---- store copy (the source side) ---- */

#define COPY_SQL_MAX	4096

/*
 * Every row of table t, in insertion order, to cb.  The statement is
 * built from t's names (the table list in store.c, never input).
 */
static int
sq_rows_each(void *ctx, const struct store_table *t, store_row_cb cb,
    void *arg)
{
	struct sq		*q = ctx;
	struct store_value	 v[STORE_COLS_MAX];
	sqlite3_stmt		*s = NULL;
	struct buf		 sql;
	size_t			 i;
	int			 rc, r = 0;

	buf_init(&sql, COPY_SQL_MAX);
	buf_addstr(&sql, "SELECT ");
	for (i = 0; i < t->ncols; i++)
		buf_printf(&sql, "%s%s", i ? ", " : "", t->cols[i]);
	buf_printf(&sql, " FROM %s ORDER BY rowid", t->name);
	if (buf_err(&sql) != 0 || sqlite3_prepare_v2(q->db, buf_str(&sql), -1,
	    &s, NULL) != SQLITE_OK) {
		buf_free(&sql);
		return KW_ERR_UNAVAILABLE;
	}
	buf_free(&sql);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < t->ncols; i++) {
			memset(&v[i], 0, sizeof(v[i]));
			switch (sqlite3_column_type(s, (int)i)) {
			case SQLITE_INTEGER:
				v[i].type = SV_INT;
				v[i].i = sqlite3_column_int64(s, (int)i);
				break;
			case SQLITE_TEXT:
				v[i].type = SV_TEXT;
				v[i].s = (const char *)sqlite3_column_text(s,
				    (int)i);
				break;
			case SQLITE_BLOB:
				v[i].type = SV_BLOB;
				v[i].b = sqlite3_column_blob(s, (int)i);
				v[i].len = (size_t)sqlite3_column_bytes(s,
				    (int)i);
				break;
			default:
				v[i].type = SV_NULL;
			}
		}
		r = cb(t, v, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	sqlite3_finalize(s);
	return r;
}

/* The names of the database's own tables (not SQLite's). */
static int
sq_tables_each(void *ctx, int (*cb)(const char *, void *), void *arg)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s;
	int		 rc, r = 0;

	if (sqlite3_prepare_v2(q->db, "SELECT name FROM sqlite_master WHERE"
	    " type = 'table' AND name NOT LIKE 'sqlite_%'", -1, &s, NULL) !=
	    SQLITE_OK)
		return KW_ERR_UNAVAILABLE;
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		r = cb((const char *)sqlite3_column_text(s, 0), arg);
	if (r == 0 && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	sqlite3_finalize(s);
	return r;
}

/* The text of column i, by pointer ("" for NULL). */
static const char *
col_text(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t != NULL ? t : "";
}

/* The walk of audit verify: one statement over the whole range, each
 * column handed on by pointer (SQLite's own copy of the row), so the
 * reading costs what SQLite's stepping costs and no more. */
static int
sq_audit_scan(void *ctx, int64_t after, int64_t upto, store_audit_row_cb cb,
    void *arg)
{
	struct audit_row	 row;
	sqlite3_stmt		*s = sq_stmt(ctx, S_AUDIT_SCAN);
	int			 rc, r = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, upto);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.seq = sqlite3_column_int64(s, 0);
		row.at = col_text(s, 1);
		row.actor = col_text(s, 2);
		row.action = col_text(s, 3);
		row.subject = col_text(s, 4);
		row.details = col_text(s, 5);
		row.prev_hash = col_text(s, 6);
		row.hash = col_text(s, 7);
		r = cb(&row, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

/* ---- backup and restore ---- */

static int sq_audit_head(void *ctx, int64_t *seq, char *hash);

/* Copy every page of q's database into the empty database dst, in one
 * read transaction of q's (a consistent snapshot: writers on other
 * connections go on meanwhile); retry while the source is locked. */
static int
sq_copy_pages(struct sq *q, sqlite3 *dst)
{
	sqlite3_backup	*b;
	int		 rc, tries = 0;

	if ((b = sqlite3_backup_init(dst, "main", q->db, "main")) == NULL)
		return KW_ERR_UNAVAILABLE;
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED) {
		if (++tries >= BACKUP_BUSY_TRIES)
			break;
		sqlite3_sleep(BACKUP_BUSY_MS);
	}
	if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE)
		return KW_ERR_UNAVAILABLE;
	return 0;
}

/*
 * Online backup into a new file at path (see store_backup).  The copy
 * keeps the source's WAL flag in its header; it is switched back to a
 * rollback journal so the backup is one file, with no -wal to go with it.
 */
static int
sq_backup(void *ctx, const char *path, int64_t *seq, char *hash)
{
	struct sq	*q = ctx, dst;
	char		 journal[KW_PATH_MAX + 16];
	int		 fd, r = KW_ERR_UNAVAILABLE;

	memset(&dst, 0, sizeof(dst));
	*seq = 0;
	hash[0] = '\0';
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return errno == EEXIST ? KW_ERR_EXISTS : KW_ERR_IO;
	close(fd);
	if (sqlite3_open_v2(path, &dst.db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto out;
	if ((r = sq_copy_pages(q, dst.db)) != 0)
		goto out;
	r = KW_ERR_UNAVAILABLE;
	if (sqlite3_exec(dst.db, "PRAGMA journal_mode=DELETE;", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto out;
	r = sq_audit_head(&dst, seq, hash);
 out:
	sq_stmts_finalize(&dst);
	if (dst.db != NULL && sqlite3_close(dst.db) != SQLITE_OK && r == 0)
		r = KW_ERR_UNAVAILABLE;
	if (r != 0) {
		unlink(path);
		snprintf(journal, sizeof(journal), "%s-journal", path);
		unlink(journal);
	}
	return r;
}

/* The files of a store: the database and SQLite's journal files. */
static const char *const store_files[] = { "-wal", "-shm", "" };

/* Fsync directory dir, so the renames in it are durable. */
static int
sync_dir(const char *dir)
{
	int fd, r = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return KW_ERR_IO;
	if (fsync(fd) != 0)
		r = KW_ERR_IO;
	close(fd);
	return r;
}

/* Replace dir's database by staged, setting the old one aside (see
 * store_replace).  The journal files go first, the database last, so a
 * failure half-way leaves the old database with its WAL in place. */
static int
sq_replace(const char *dir, const char *staged, const char *suffix,
    char *kept, size_t keptsz)
{
	char		 cur[KW_PATH_MAX + 16], aside[KW_PATH_MAX + 96];
	struct stat	 sb;
	size_t		 i;

	kept[0] = '\0';
	for (i = 0; i < KW_NELEM(store_files); i++) {
		snprintf(aside, sizeof(aside), "%s/%s%s%s", dir, DB_FILE,
		    suffix, store_files[i]);
		if (lstat(aside, &sb) == 0)
			return KW_ERR_EXISTS;
	}
	for (i = 0; i < KW_NELEM(store_files); i++) {
		snprintf(cur, sizeof(cur), "%s/%s%s", dir, DB_FILE,
		    store_files[i]);
		snprintf(aside, sizeof(aside), "%s/%s%s%s", dir, DB_FILE,
		    suffix, store_files[i]);
		if (rename(cur, aside) == 0) {
			if (store_files[i][0] == '\0')
				kw_strlcpy(kept, aside, keptsz);
		} else if (errno != ENOENT)
			return KW_ERR_IO;
	}
	snprintf(cur, sizeof(cur), "%s/%s", dir, DB_FILE);
	if (rename(staged, cur) != 0)
		return KW_ERR_IO;
	return sync_dir(dir);
}

/* ---- bound tokens ---- */

static int
sq_bound_insert(void *ctx, const struct bound_token *b)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_BOUND_INSERT);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, b->id);
	bind_str(s, 2, b->credential_id);
	bind_str(s, 3, b->label);
	sqlite3_bind_blob(s, 4, b->hash, KW_HASH_LEN, SQLITE_TRANSIENT);
	bind_str(s, 5, b->created_at);
	return sq_exec(s);
}

static int
sq_bound_find(void *ctx, const unsigned char *hash, struct bound_token *b,
    struct person *owner)
{
	sqlite3_stmt	*s = sq_stmt(ctx, S_BOUND_FIND);
	int		 rc, r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	sqlite3_bind_blob(s, 1, hash, KW_HASH_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, PERSON_NCOLS + 2) == KW_HASH_LEN) {
		person_row(s, owner);
		memset(b, 0, sizeof(*b));
		col_str(s, PERSON_NCOLS, b->id, sizeof(b->id));
		col_str(s, PERSON_NCOLS + 1, b->credential_id,
		    sizeof(b->credential_id));
		memcpy(b->hash, sqlite3_column_blob(s, PERSON_NCOLS + 2),
		    KW_HASH_LEN);
		col_str(s, PERSON_NCOLS + 3, b->created_at,
		    sizeof(b->created_at));
		r = 0;
	} else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? KW_ERR_NOT_FOUND :
		    KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return r;
}

static int
sq_bound_each(void *ctx, const char *credential_id, store_bound_cb cb,
    void *arg)
{
	struct bound_token	 b;
	sqlite3_stmt		*s = sq_stmt(ctx, S_BOUND_LIST);
	int			 rc, ret = 0;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, credential_id);
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&b, 0, sizeof(b));
		col_str(s, 0, b.id, sizeof(b.id));
		col_str(s, 1, b.credential_id, sizeof(b.credential_id));
		col_str(s, 2, b.label, sizeof(b.label));
		col_str(s, 3, b.created_at, sizeof(b.created_at));
		col_str(s, 4, b.last_used_at, sizeof(b.last_used_at));
		ret = cb(&b, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = KW_ERR_UNAVAILABLE;
	sqlite3_reset(s);
	return ret;
}

static int
sq_bound_revoke(void *ctx, const char *credential_id, const char *id,
    const char *at)
{
	struct sq	*q = ctx;
	sqlite3_stmt	*s = sq_stmt(q, id ? S_BOUND_REVOKE :
			    S_BOUND_REVOKE_CRED);
	int		 r;

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, credential_id);
	if (id != NULL) {
		bind_str(s, 2, id);
		bind_str(s, 3, at);
	} else
		bind_str(s, 2, at);
	if ((r = sq_exec(s)) == 0 && id != NULL && sqlite3_changes(q->db) == 0)
		r = KW_ERR_NOT_FOUND;
	return r;
}

static int
sq_bound_used(void *ctx, const char *id, const char *at)
{
	sqlite3_stmt *s = sq_stmt(ctx, S_BOUND_USED);

	if (s == NULL)
		return KW_ERR_UNAVAILABLE;
	bind_str(s, 1, id);
	bind_str(s, 2, at);
	return sq_exec(s);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.open_file = sq_open_file,
	.backup = sq_backup,
	.replace = sq_replace,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.check = sq_check,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.release = sq_release,
	.rollback_to = sq_rollback_to,
	.auth_touched = sq_auth_touched,
	.lock_jobs = sq_lock_jobs,
	.unlock_jobs = sq_unlock_jobs,
	.rows_each = sq_rows_each,
	.row_insert = NULL,		/* copies go to PostgreSQL */
	.row_late = NULL,
	.copy_done = NULL,
	.tables_each = sq_tables_each,
	.claim = sq_claim,
	.unclaim = sq_unclaim,
	.person_insert = sq_person_insert,
	.person_update = sq_person_update,
	.person_get = sq_person_get,
	.person_each = sq_person_each,
	.token_insert = sq_token_insert,
	.token_find = sq_token_find,
	.token_revoke_person = sq_token_revoke_person,
	.person_scim_count = sq_person_scim_count,
	.person_scim_page = sq_person_scim_page,
	.scim_token_insert = sq_scim_token_insert,
	.scim_token_find = sq_scim_token_find,
	.scim_token_each = sq_scim_token_each,
	.scim_token_delete = sq_scim_token_delete,
	.scim_token_used = sq_scim_token_used,
	.token_each = sq_token_each,
	.token_revoke = sq_token_revoke,
	.token_touch = sq_token_touch,
	.token_expiring = sq_token_expiring,
	.token_warned = sq_token_warned,
	.session_insert = sq_session_insert,
	.session_find = sq_session_find,
	.session_touch = sq_session_touch,
	.session_delete = sq_session_delete,
	.session_delete_person = sq_session_delete_person,
	.session_purge = sq_session_purge,
	.instance_insert = sq_instance_insert,
	.instance_update = sq_instance_update,
	.instance_get = sq_instance_get,
	.instance_each = sq_instance_each,
	.request_insert = sq_request_insert,
	.request_transition = sq_request_transition,
	.request_get = sq_request_get,
	.request_each = sq_request_each,
	.history_append = sq_history_append,
	.history_each = sq_history_each,
	.credential_insert = sq_credential_insert,
	.credential_update = sq_credential_update,
	.credential_get = sq_credential_get,
	.credential_each = sq_credential_each,
	.credential_due = sq_credential_due,
	.credential_by_key = sq_credential_by_key,
	.request_due = sq_request_due,
	.person_by_slack = sq_person_by_slack,
	.warning_add = sq_warning_add,
	.setting_get = sq_setting_get,
	.setting_put = sq_setting_put,
	.outbox_insert = sq_outbox_insert,
	.outbox_claim = sq_outbox_claim,
	.outbox_sent = sq_outbox_sent,
	.outbox_retry = sq_outbox_retry,
	.outbox_fail = sq_outbox_fail,
	.outbox_pending = sq_outbox_pending,
	.stats = sq_stats,
	.replay_check = sq_replay_check,
	.audit_head = sq_audit_head,
	.audit_insert = sq_audit_insert,
	.audit_each = sq_audit_each,
	.bound_insert = sq_bound_insert,
	.bound_find = sq_bound_find,
	.bound_each = sq_bound_each,
	.bound_revoke = sq_bound_revoke,
	.bound_used = sq_bound_used,
	.open_sibling = sq_open_sibling,
	.audit_scan = sq_audit_scan,
};
