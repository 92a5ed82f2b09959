/*
 * test_policy_audit.c — Zendesk scope syntax, the failed-authentication
 * throttle, and the hash-chained audit log: its canonical form and hash,
 * and verification of a real SQLite store that the tests then tamper
 * with behind the store's back.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "kw.h"
#include "limits.h"
#include "api/throttle.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "policy/scope.h"
#include "provider/provider.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/util.h"

/* ---- scopes ----------------------------------------------------------- */

/* The scope syntax of the registry's Zendesk provider, through policy. */
static int
scope_ok(const char *s)
{
	const struct scope_syntax *syntax = provider_scopes("zendesk");

	assert_non_null(syntax);
	assert_ptr_equal(syntax, provider_find("zendesk")->scopes);
	return policy_scope_valid(syntax, s);
}

#define EXPECT_SCOPES(want, list) do {					\
	size_t i_;							\
	for (i_ = 0; (list)[i_] != NULL; i_++)				\
		if (scope_ok((list)[i_]) != (want))			\
			fail_msg("policy_scope_valid(\"%s\") should be %d", \
			    (list)[i_], (want));			\
} while (0)

static void
scope_global_modes(void **state)
{
	const char *const good[] = { "read", "write", "impersonate", NULL };

	(void)state;
	EXPECT_SCOPES(1, good);
}

static void
scope_read_write_resources(void **state)
{
	static const char *const rw[] = { "tickets", "users", "organizations",
	    "hc", "apps", "triggers", "automations", "targets", "webhooks",
	    "macros", "requests", "satisfaction_ratings", "dynamic_content",
	    NULL };
	char	s[KW_SCOPE_MAX];
	size_t	i;

	(void)state;
	for (i = 0; rw[i] != NULL; i++) {
		snprintf(s, sizeof(s), "%s:read", rw[i]);
		if (!scope_ok(s))
			fail_msg("%s refused", s);
		snprintf(s, sizeof(s), "%s:write", rw[i]);
		if (!scope_ok(s))
			fail_msg("%s refused", s);
	}
}

static void
scope_read_only_resource(void **state)
{
	const char *const good[] = { "auditlogs:read", NULL };
	const char *const bad[] = { "auditlogs:write", NULL };

	(void)state;
	EXPECT_SCOPES(1, good);
	EXPECT_SCOPES(0, bad);
}

static void
scope_write_only_resources(void **state)
{
	const char *const good[] = { "any_channel:write", "web_widget:write",
	    NULL };
	const char *const bad[] = { "any_channel:read", "web_widget:read",
	    NULL };

	(void)state;
	EXPECT_SCOPES(1, good);
	EXPECT_SCOPES(0, bad);
}

static void
scope_unknown_resource(void **state)
{
	const char *const bad[] = { "ticket:read", "tickets2:read",
	    "billing:read", "impersonate:write", "read:read", "Tickets:read",
	    NULL };

	(void)state;
	EXPECT_SCOPES(0, bad);
}

static void
scope_bad_shapes(void **state)
{
	const char *const bad[] = { "", "tickets", "tickets:", ":read",
	    "tickets:read:write", "tickets::read", "tickets:read:",
	    "tickets:READ", "tickets:delete", "READ", " read", "read ",
	    "tickets :read", "tickets: read", "read:tickets", "tickets:readx",
	    NULL };

	(void)state;
	EXPECT_SCOPES(0, bad);
}

/* ---- throttle --------------------------------------------------------- */

#define LIMIT	3
#define WINDOW	60
#define T0	1000

static void
fail_n(struct throttle *t, const char *addr, int n, int64_t now)
{
	int ra;

	while (n-- > 0)
		throttle_fail(t, addr, now, &ra);
}

/* The failure beyond the limit is itself answered "rate limited". */
static void
throttle_fail_reports_the_failure_beyond_the_limit(void **state)
{
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	int		 i, ra = -1;

	(void)state;
	for (i = 0; i < LIMIT; i++) {
		assert_int_equal(throttle_fail(t, "t:abcdef", T0, &ra), 0);
		assert_int_equal(ra, 0);
	}
	assert_int_equal(throttle_fail(t, "t:abcdef", T0 + 5, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_int_equal(ra, WINDOW - 5);
	/* another key is not affected */
	assert_int_equal(throttle_fail(t, "192.0.2.1", T0 + 5, &ra), 0);
	throttle_free(t);
}

static void
throttle_under_limit_allowed(void **state)
{
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	int		 ra = -1;

	(void)state;
	assert_non_null(t);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0, &ra), 0);
	assert_int_equal(ra, 0);
	fail_n(t, "192.0.2.1", LIMIT - 1, T0);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0, &ra), 0);
	assert_int_equal(ra, 0);
	throttle_free(t);
}

static void
throttle_at_limit_refused_with_retry_after(void **state)
{
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	int		 ra = -1;

	(void)state;
	fail_n(t, "192.0.2.1", LIMIT, T0);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_int_equal(ra, WINDOW);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + 25, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_int_equal(ra, WINDOW - 25);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + WINDOW - 1, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_int_equal(ra, 1);
	throttle_free(t);
}

static void
throttle_window_counts_from_first_failure(void **state)
{
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	int		 ra = -1;

	(void)state;
	throttle_fail(t, "192.0.2.1", T0, &ra);
	throttle_fail(t, "192.0.2.1", T0 + 10, &ra);
	throttle_fail(t, "192.0.2.1", T0 + 20, &ra);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + 20, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_true(ra > 0 && ra <= WINDOW);
	assert_int_equal(ra, WINDOW - 20);
	throttle_free(t);
}

static void
throttle_window_expiry_resets(void **state)
{
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	int		 ra = -1;

	(void)state;
	fail_n(t, "192.0.2.1", LIMIT, T0);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + WINDOW, &ra), 0);
	assert_int_equal(ra, 0);
	/* a failure after expiry starts a new window with a count of one */
	throttle_fail(t, "192.0.2.1", T0 + WINDOW, &ra);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + WINDOW, &ra), 0);
	fail_n(t, "192.0.2.1", LIMIT - 1, T0 + WINDOW + 1);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0 + WINDOW + 1, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_int_equal(ra, WINDOW - 1);
	throttle_free(t);
}

static void
throttle_addresses_independent(void **state)
{
	const char	*v6 = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	int		 ra;

	(void)state;
	fail_n(t, "192.0.2.1", LIMIT, T0);
	fail_n(t, "192.0.2.2", LIMIT - 1, T0);
	assert_int_equal(throttle_check(t, "192.0.2.1", T0, &ra),
	    KW_ERR_RATE_LIMITED);
	assert_int_equal(throttle_check(t, "192.0.2.2", T0, &ra), 0);
	assert_int_equal(throttle_check(t, "192.0.2.10", T0, &ra), 0);
	/* the longest textual IPv6 address is tracked like any other */
	assert_int_equal(strlen(v6), 45);
	fail_n(t, v6, LIMIT, T0);
	assert_int_equal(throttle_check(t, v6, T0, &ra), KW_ERR_RATE_LIMITED);
	throttle_free(t);
}

static void
throttle_many_addresses(void **state)
{
	struct throttle	*t = throttle_new(LIMIT, WINDOW);
	char		 addr[48];
	int		 i, ra, limited = 0;

	(void)state;
	for (i = 0; i < 4 * KW_AUTH_TRACK_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		fail_n(t, addr, LIMIT, T0 + i / 100);
		/* the address just recorded is always tracked */
		assert_int_equal(throttle_check(t, addr, T0 + i / 100, &ra),
		    KW_ERR_RATE_LIMITED);
	}
	/* memory is bounded: at most KW_AUTH_TRACK_SLOTS are still held */
	for (i = 0; i < 4 * KW_AUTH_TRACK_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		if (throttle_check(t, addr, T0 + 41, &ra) != 0)
			limited++;
	}
	assert_true(limited > 0);
	assert_true(limited <= KW_AUTH_TRACK_SLOTS);
	throttle_free(t);
	throttle_free(NULL);
}

/* ---- audit: canonical form and hash ----------------------------------- */

static struct audit_event
sample_event(const char *details)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 7;
	strcpy(ev.at, "2026-11-28T09:00:00Z");
	strcpy(ev.actor, "admin@example.com");
	strcpy(ev.action, "person.create");
	strcpy(ev.subject, "person:per_1");
	ev.details = details;
	strcpy(ev.prev_hash, "00000000000000000000000000000000"
	    "00000000000000000000000000000000");
	return ev;
}

static void
canonical_is_sorted_compact_json(void **state)
{
	struct audit_event	 ev = sample_event("{\"a\":{\"x\":[1,2],"
				    "\"y\":\"Zo\\u00EB\"},\"b\":1}");
	char			*c;

	(void)state;
	strcpy(ev.subject, "Zo\xc3\xab \"q\"\t\xf0\x9f\x94\x91");
	assert_non_null(c = audit_canonical(&ev));
	assert_string_equal(c,
	    "{\"action\":\"person.create\",\"actor\":\"admin@example.com\","
	    "\"at\":\"2026-11-28T09:00:00Z\","
	    "\"details\":{\"a\":{\"x\":[1,2],\"y\":\"Zo\\u00EB\"},\"b\":1},"
	    "\"seq\":7,\"subject\":\"Zo\\u00EB \\\"q\\\"\\t\\uD83D\\uDD11\"}");
	assert_null(strstr(c, "prev_hash"));
	free(c);
}

/* The same as jansson's compact, sorted, ASCII-only output: the
 * canonical form is JSON any reader can check. */
static void
canonical_matches_jansson(void **state)
{
	struct audit_event	 ev = sample_event("{\"k\":[true,null,1.5]}");
	json_t			*o;
	char			*c, *j;

	(void)state;
	strcpy(ev.actor, "r\xc3\xa9\\ne\x01@example.com");
	assert_non_null(c = audit_canonical(&ev));
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "seq", (json_int_t)7,
	    "at", ev.at, "actor", ev.actor, "action", ev.action, "subject",
	    ev.subject, "details", json_loads(ev.details, 0, NULL));
	assert_non_null(o);
	j = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	assert_string_equal(c, j);
	free(j);
	free(c);
	json_decref(o);
}

/* details are hashed as stored: an equivalent text with another key
 * order is another event (a rewrite of the stored bytes shows). */
static void
details_are_hashed_as_stored(void **state)
{
	struct audit_event	 a = sample_event("{\"email\":\"a@b.co\","
				    "\"role\":\"admin\"}");
	struct audit_event	 b = sample_event("{\"role\":\"admin\","
				    "\"email\":\"a@b.co\"}");
	char			 ha[KW_HASH_HEX_LEN + 1], hb[KW_HASH_HEX_LEN + 1];

	(void)state;
	assert_int_equal(audit_hash(&a, ha), 0);
	assert_int_equal(audit_hash(&b, hb), 0);
	assert_string_not_equal(ha, hb);
}

static void
hash_is_sha256_of_prev_and_canonical(void **state)
{
	struct audit_event	 ev = sample_event("{\"k\":\"v\"}");
	char			*c, *input, want[KW_HASH_HEX_LEN + 1], got[KW_HASH_HEX_LEN + 1];

	(void)state;
	assert_non_null(c = audit_canonical(&ev));
	assert_true(asprintf(&input, "%s\n%s", ev.prev_hash, c) > 0);
	crypto_sha256_hex(input, strlen(input), want);
	assert_int_equal(audit_hash(&ev, got), 0);
	assert_string_equal(got, want);
	free(input);
	free(c);
}

/* A hash fixed before the chain moved from libsodium to OpenSSL
 * (computed independently, with Python's hashlib): logs written by
 * earlier versions still verify. */
static void
hash_matches_a_recorded_chain_event(void **state)
{
	struct audit_event	 ev = sample_event("{\"id\":\"per_1\","
				    "\"roles\":[\"admin\"]}");
	char			 got[KW_HASH_HEX_LEN + 1];

	(void)state;
	assert_int_equal(audit_hash(&ev, got), 0);
	assert_string_equal(got, "61c995a347d103febcd7be8e79eed035"
	    "82bb7a4f45608ee94da67f9bdac17d35");
}

static void
hash_changes_with_every_field(void **state)
{
	struct audit_event	base = sample_event("{\"k\":\"v\"}"), ev;
	char			h0[KW_HASH_HEX_LEN + 1], h[KW_HASH_HEX_LEN + 1];

	(void)state;
	assert_int_equal(audit_hash(&base, h0), 0);
	assert_int_equal(audit_hash(&base, h), 0);
	assert_string_equal(h0, h);		/* deterministic */

#define CHANGED(stmt) do {						\
	ev = base;							\
	stmt;								\
	assert_int_equal(audit_hash(&ev, h), 0);			\
	if (strcmp(h, h0) == 0)						\
		fail_msg("hash unchanged after: %s", #stmt);		\
} while (0)
	CHANGED(ev.seq = 8);
	CHANGED(strcpy(ev.at, "2026-11-28T09:00:01Z"));
	CHANGED(strcpy(ev.actor, "eve@example.com"));
	CHANGED(strcpy(ev.action, "person.update"));
	CHANGED(strcpy(ev.subject, "person:per_2"));
	CHANGED(ev.details = "{\"k\":\"w\"}");
	CHANGED(ev.details = "{\"k\":\"v\",\"extra\":true}");
	CHANGED(ev.prev_hash[63] = '1');
	CHANGED(ev.prev_hash[0] = '\0');
#undef CHANGED
}

/* ---- audit: a real store ---------------------------------------------- */

#define NEVENTS	5

struct logdir {
	char	dir[64];
	char	db[128];
};

static void
log_create(struct logdir *l, int nevents)
{
	struct store	*st = NULL;
	int		 i;

	snprintf(l->dir, sizeof(l->dir), "/tmp/kw-audit-XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(l->db, sizeof(l->db), "%s/keywarden.db", l->dir);
	assert_int_equal(store_open(l->dir, STORE_CREATE | STORE_MIGRATE, &st),
	    0);
	for (i = 1; i <= nevents; i++) {
		assert_int_equal(store_begin(st), 0);
		assert_int_equal(audit_append(st, "admin@example.com",
		    "person.create", "person:per_x", json_pack("{s:i, s:s}",
		    "n", i, "email", "someone@example.com")), 0);
		assert_int_equal(store_commit(st), 0);
	}
	store_close(st);
}

static void
log_remove(struct logdir *l)
{
	const char	*sfx[] = { "", "-wal", "-shm", "-journal" };
	char		 p[160];
	size_t		 i;

	for (i = 0; i < KW_NELEM(sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", l->db, sfx[i]);
		unlink(p);
	}
	rmdir(l->dir);
}

/* Run SQL against the database directly, as an attacker with file access. */
static void
tamper(const struct logdir *l, const char *sql)
{
	sqlite3	*db;
	char	*err = NULL;

	assert_int_equal(sqlite3_open(l->db, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tamper SQL failed: %s", err ? err : "?");
	sqlite3_close(db);
}

/* One text column of one row, into out[outsz]. */
static void
sql_text(const struct logdir *l, const char *sql, char *out, size_t outsz)
{
	sqlite3		*db;
	sqlite3_stmt	*s;

	assert_int_equal(sqlite3_open(l->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(out, outsz, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void
verify(const struct logdir *l, struct audit_verdict *v)
{
	struct store *st = NULL;

	assert_int_equal(store_open(l->dir, 0, &st), 0);
	assert_int_equal(audit_verify(st, v), 0);
	store_close(st);
}

/* Tamper with a fresh log of NEVENTS events; expect verify to fail at
 * bad_seq. */
static void
expect_tamper_caught(const char *sql, int64_t bad_seq)
{
	struct logdir		l;
	struct audit_verdict	v;

	log_create(&l, NEVENTS);
	tamper(&l, sql);
	verify(&l, &v);
	if (v.ok)
		fail_msg("not detected: %s", sql);
	assert_int_equal(v.first_bad_seq, bad_seq);
	assert_int_equal(v.events, bad_seq - 1);
	assert_true(v.reason[0] != '\0');
	log_remove(&l);
}

static void
verify_empty_log(void **state)
{
	struct logdir		l;
	struct audit_verdict	v;

	(void)state;
	log_create(&l, 0);
	verify(&l, &v);
	assert_int_equal(v.ok, 1);
	assert_int_equal(v.events, 0);
	assert_string_equal(v.head, "");
	log_remove(&l);
}

static void
verify_intact_log(void **state)
{
	struct logdir		l;
	struct audit_verdict	v;
	char			last[KW_HASH_HEX_LEN + 1];

	(void)state;
	log_create(&l, NEVENTS);
	verify(&l, &v);
	assert_int_equal(v.ok, 1);
	assert_int_equal(v.events, NEVENTS);
	assert_int_equal(v.first_bad_seq, 0);
	sql_text(&l, "SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1",
	    last, sizeof(last));
	assert_string_equal(v.head, last);
	log_remove(&l);
}

static int
collect(const struct audit_event *ev, void *arg)
{
	json_t *a = arg;

	json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, "
	    "s:s}", "seq", (json_int_t)ev->seq, "actor", ev->actor, "action",
	    ev->action, "subject", ev->subject, "details", ev->details, "prev",
	    ev->prev_hash, "hash", ev->hash));
	return 0;
}

static void
append_links_events_and_consumes_details(void **state)
{
	struct logdir	 l;
	struct store	*st = NULL;
	json_t		*evs = json_array(), *e1, *e2;

	(void)state;
	log_create(&l, 0);
	assert_int_equal(store_open(l.dir, 0, &st), 0);
	assert_int_equal(store_begin(st), 0);
	/* details are consumed: LeakSanitizer would flag the object */
	assert_int_equal(audit_append(st, "admin@example.com",
	    "instance.create", "instance:acme", json_pack("{s:s, s:i}", "zeta",
	    "z", "alpha", 1)), 0);
	assert_int_equal(audit_append(st, "system", "server.start", "server",
	    NULL), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_audit_each(st, 0, 10, collect, evs), 0);
	store_close(st);

	assert_int_equal(json_array_size(evs), 2);
	e1 = json_array_get(evs, 0);
	e2 = json_array_get(evs, 1);
	assert_int_equal(json_integer_value(json_object_get(e1, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(e1, "prev")), "");
	assert_string_equal(json_string_value(json_object_get(e1, "details")),
	    "{\"alpha\":1,\"zeta\":\"z\"}");
	assert_string_equal(json_string_value(json_object_get(e1, "actor")),
	    "admin@example.com");
	assert_int_equal(json_integer_value(json_object_get(e2, "seq")), 2);
	assert_string_equal(json_string_value(json_object_get(e2, "prev")),
	    json_string_value(json_object_get(e1, "hash")));
	assert_string_equal(json_string_value(json_object_get(e2, "details")),
	    "{}");
	json_decref(evs);
	log_remove(&l);
}

static void
rollback_discards_event(void **state)
{
	struct logdir		 l;
	struct store		*st = NULL;
	struct audit_verdict	 v;

	(void)state;
	log_create(&l, 2);
	assert_int_equal(store_open(l.dir, 0, &st), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_append(st, "system", "x", "y", NULL), 0);
	store_rollback(st);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(audit_append(st, "system", "x", "z", NULL), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(audit_verify(st, &v), 0);
	assert_int_equal(v.ok, 1);
	assert_int_equal(v.events, 3);
	store_close(st);
	log_remove(&l);
}

static void
tamper_modified_details(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET details = "
	    "'{\"email\":\"someone@example.com\",\"n\":99}' WHERE seq = 3", 3);
}

static void
tamper_modified_actor(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET actor = 'eve@example.com'"
	    " WHERE seq = 2", 2);
}

static void
tamper_unparseable_details(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET details = '{broken'"
	    " WHERE seq = 4", 4);
}

static void
tamper_deleted_middle_row(void **state)
{
	(void)state;
	expect_tamper_caught("DELETE FROM audit_events WHERE seq = 3", 3);
}

static void
tamper_deleted_first_row(void **state)
{
	(void)state;
	expect_tamper_caught("DELETE FROM audit_events WHERE seq = 1", 1);
}

static void
tamper_swapped_rows(void **state)
{
	(void)state;
	expect_tamper_caught(
	    "UPDATE audit_events SET seq = -2 WHERE seq = 2;"
	    "UPDATE audit_events SET seq = 2 WHERE seq = 4;"
	    "UPDATE audit_events SET seq = 4 WHERE seq = -2;", 2);
}

/* A forged event at the end that links to the real head but whose hash
 * was made up. */
static void
tamper_forged_row_appended(void **state)
{
	(void)state;
	expect_tamper_caught(
	    "INSERT INTO audit_events (seq, at, actor, action, subject,"
	    " details, prev_hash, hash) SELECT 6, at, 'eve@example.com',"
	    " 'person.create', 'person:per_eve', '{}', hash, hash"
	    " FROM audit_events"
	    " WHERE seq = 5", 6);
}

/* A forged event slipped in at seq 3 (later events renumbered), with a
 * hash the forger computed correctly over its own contents: the chain
 * breaks at the next, genuine event. */
static void
tamper_forged_row_inserted(void **state)
{
	struct logdir		l;
	struct audit_verdict	v;
	struct audit_event	ev;
	char			sql[1024], prev[KW_HASH_HEX_LEN + 1];

	(void)state;
	log_create(&l, NEVENTS);
	sql_text(&l, "SELECT hash FROM audit_events WHERE seq = 2", prev,
	    sizeof(prev));
	memset(&ev, 0, sizeof(ev));
	ev.seq = 3;
	strcpy(ev.at, "2026-11-28T09:00:00Z");
	strcpy(ev.actor, "eve@example.com");
	strcpy(ev.action, "person.create");
	strcpy(ev.subject, "person:per_eve");
	ev.details = "{}";
	strcpy(ev.prev_hash, prev);
	assert_int_equal(audit_hash(&ev, ev.hash), 0);
	snprintf(sql, sizeof(sql),
	    "UPDATE audit_events SET seq = -(seq + 1) WHERE seq >= 3;"
	    "UPDATE audit_events SET seq = -seq WHERE seq < 0;"
	    "INSERT INTO audit_events (seq, at, actor, action, subject,"
	    " details, prev_hash, hash) VALUES (3, '%s', '%s', '%s', '%s',"
	    " '%s', '%s', '%s');", ev.at, ev.actor, ev.action, ev.subject,
	    ev.details, ev.prev_hash, ev.hash);
	tamper(&l, sql);
	verify(&l, &v);
	assert_int_equal(v.ok, 0);
	assert_int_equal(v.first_bad_seq, 4);
	assert_int_equal(v.events, 3);
	log_remove(&l);
}

static void
tamper_changed_hash(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET hash = "
	    "'0000000000000000000000000000000000000000000000000000000000000000'"
	    " WHERE seq = 2", 2);
}

static void
tamper_changed_last_hash(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET hash = upper(hash)"
	    " WHERE seq = 5", 5);
}

static void
tamper_changed_prev_hash(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET prev_hash = "
	    "(SELECT hash FROM audit_events WHERE seq = 1) WHERE seq = 4", 4);
}

/* Rewriting one event and its hash consistently still breaks the link
 * from the next event. */
static void
tamper_rehashed_event(void **state)
{
	struct logdir		l;
	struct audit_verdict	v;
	struct audit_event	ev;
	char			sql[1024], prev[KW_HASH_HEX_LEN + 1], at[KW_TIME_LEN + 1],
				subject[sizeof(ev.subject)];

	(void)state;
	log_create(&l, NEVENTS);
	sql_text(&l, "SELECT prev_hash FROM audit_events WHERE seq = 3", prev,
	    sizeof(prev));
	sql_text(&l, "SELECT at FROM audit_events WHERE seq = 3", at,
	    sizeof(at));
	sql_text(&l, "SELECT subject FROM audit_events WHERE seq = 3", subject,
	    sizeof(subject));
	memset(&ev, 0, sizeof(ev));
	ev.seq = 3;
	snprintf(ev.at, sizeof(ev.at), "%s", at);
	strcpy(ev.actor, "admin@example.com");
	strcpy(ev.action, "person.delete");
	snprintf(ev.subject, sizeof(ev.subject), "%s", subject);
	ev.details = "{}";
	snprintf(ev.prev_hash, sizeof(ev.prev_hash), "%s", prev);
	assert_int_equal(audit_hash(&ev, ev.hash), 0);
	snprintf(sql, sizeof(sql), "UPDATE audit_events SET action = '%s',"
	    " details = '%s', hash = '%s' WHERE seq = 3", ev.action,
	    ev.details, ev.hash);
	tamper(&l, sql);
	verify(&l, &v);
	assert_int_equal(v.ok, 0);
	assert_int_equal(v.first_bad_seq, 4);
	log_remove(&l);
}

/* A stored hash or prev_hash with bytes after the 64 hex chars is not
 * the hash: verify used to read both into 65-byte fields, cutting the
 * tail off, and passed such a log. */
static void
tamper_hash_with_trailing_bytes(void **state)
{
	(void)state;
	expect_tamper_caught("UPDATE audit_events SET hash = hash || 'x'"
	    " WHERE seq = 3", 3);
}

static void
tamper_prev_hash_with_trailing_bytes(void **state)
{
	struct logdir		l;
	struct audit_verdict	v;
	struct store		*st = NULL;
	int			n;

	(void)state;
	expect_tamper_caught("UPDATE audit_events SET prev_hash ="
	    " prev_hash || '0' WHERE seq = 4", 4);
	/* also where a range of a split walk starts */
	log_create(&l, NEVENTS);
	tamper(&l, "UPDATE audit_events SET prev_hash = prev_hash || '0'"
	    " WHERE seq = 3");
	assert_int_equal(store_open(l.dir, 0, &st), 0);
	for (n = 1; n <= KW_AUDIT_VERIFY_THREADS; n++) {
		assert_int_equal(audit_verify_split(st, NULL, n, &v), 0);
		assert_int_equal(v.ok, 0);
		assert_int_equal(v.first_bad_seq, 3);
	}
	store_close(st);
	log_remove(&l);
}

/* ---- audit: the walk split into ranges, one reader each --------------- */

#define SPLIT_EVENTS	12

/* The verdict on l's log with the walk split n ways (and expect_head);
 * split walks read as the offline command does (STORE_SCAN: the
 * read-ahead), the single walk as the server does. */
static void
verify_split(const struct logdir *l, const char *expect_head, int n,
    struct audit_verdict *v)
{
	struct store *st = NULL;

	assert_int_equal(store_open(l->dir, n > 1 ? STORE_SCAN : 0, &st), 0);
	assert_int_equal(audit_verify_split(st, expect_head, n, v), 0);
	store_close(st);
}

/* After sql, every split of the walk gives the verdict one walk from the
 * start gives, word for word (what broke, where, how far it got). */
static void
expect_same_verdict_split(const char *sql, const char *expect_head)
{
	struct logdir		l;
	struct audit_verdict	one, v;
	int			n;

	log_create(&l, SPLIT_EVENTS);
	if (sql != NULL)
		tamper(&l, sql);
	verify_split(&l, expect_head, 1, &one);
	for (n = 2; n <= KW_AUDIT_VERIFY_THREADS; n++) {
		verify_split(&l, expect_head, n, &v);
		if (v.ok != one.ok || v.events != one.events ||
		    v.first_bad_seq != one.first_bad_seq ||
		    strcmp(v.reason, one.reason) != 0 ||
		    strcmp(v.head, one.head) != 0)
			fail_msg("%d ranges after \"%s\": ok %d events %lld bad "
			    "%lld (%s), one walk: ok %d events %lld bad %lld "
			    "(%s)", n, sql ? sql : "nothing", v.ok,
			    (long long)v.events, (long long)v.first_bad_seq,
			    v.reason, one.ok, (long long)one.events,
			    (long long)one.first_bad_seq, one.reason);
	}
	log_remove(&l);
}

static void
split_walk_gives_the_single_walk_verdict(void **state)
{
	static const char *const kinds[] = {	/* + the seq */
		"UPDATE audit_events SET actor = 'eve@example.com'"
		    " WHERE seq = ",
		"DELETE FROM audit_events WHERE seq = ",
		"UPDATE audit_events SET hash = upper(hash) WHERE seq = ",
		"UPDATE audit_events SET prev_hash = 'x' WHERE seq = ",
		"UPDATE audit_events SET seq = 100 WHERE seq = ",
		"DELETE FROM audit_events WHERE seq >= ",
	};
	char	sql[256];
	size_t	k;
	int	at;

	(void)state;
	expect_same_verdict_split(NULL, NULL);
	/* every kind of damage at every event: each range's first and
	 * last events included, for 2, 3 and 4 ranges */
	for (k = 0; k < KW_NELEM(kinds); k++)
		for (at = 1; at <= SPLIT_EVENTS; at++) {
			snprintf(sql, sizeof(sql), "%s%d", kinds[k], at);
			expect_same_verdict_split(sql, NULL);
		}
	/* two faults: the earlier one is reported */
	expect_same_verdict_split("DELETE FROM audit_events WHERE seq = 11;"
	    "UPDATE audit_events SET actor = 'eve' WHERE seq = 2", NULL);
}

static void
split_walk_finds_the_expected_head(void **state)
{
	struct logdir		l;
	struct audit_verdict	v;
	char			h[KW_HASH_HEX_LEN + 1];
	int			n, seq;

	(void)state;
	log_create(&l, SPLIT_EVENTS);
	for (seq = 1; seq <= SPLIT_EVENTS; seq += 5) {
		char sql[96];

		snprintf(sql, sizeof(sql), "SELECT hash FROM audit_events"
		    " WHERE seq = %d", seq);
		sql_text(&l, sql, h, sizeof(h));
		for (n = 1; n <= KW_AUDIT_VERIFY_THREADS; n++) {
			verify_split(&l, h, n, &v);
			assert_int_equal(v.ok, 1);
			assert_int_equal(v.events, SPLIT_EVENTS);
		}
	}
	/* a head the log does not hold, and one cut short */
	for (n = 1; n <= KW_AUDIT_VERIFY_THREADS; n++) {
		verify_split(&l, "00000000000000000000000000000000"
		    "00000000000000000000000000000000", n, &v);
		assert_int_equal(v.ok, 0);
		assert_int_equal(v.first_bad_seq, SPLIT_EVENTS + 1);
		verify_split(&l, "abc", n, &v);
		assert_int_equal(v.ok, 0);
	}
	log_remove(&l);
}

/* A scan connection (the read-ahead of STORE_SCAN) kept open sees what
 * was appended, checkpointed into the database file and tampered with
 * after its earlier walks: nothing read ahead outlives a walk. */
static void
scan_connection_sees_later_changes(void **state)
{
	struct logdir		 l;
	struct audit_verdict	 v;
	struct store		*scan = NULL, *st = NULL;
	char			 last[KW_HASH_HEX_LEN + 1];
	int			 i;

	(void)state;
	log_create(&l, NEVENTS);
	assert_int_equal(store_open(l.dir, STORE_SCAN, &scan), 0);
	assert_int_equal(audit_verify(scan, &v), 0);
	assert_int_equal(v.events, NEVENTS);
	assert_int_equal(store_open(l.dir, 0, &st), 0);
	assert_int_equal(store_begin(st), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(audit_append(st, "system", "x", "y", NULL), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	tamper(&l, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(audit_verify(scan, &v), 0);
	assert_int_equal(v.ok, 1);
	assert_int_equal(v.events, NEVENTS + 3);
	sql_text(&l, "SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1",
	    last, sizeof(last));
	assert_string_equal(v.head, last);
	tamper(&l, "UPDATE audit_events SET actor = 'eve' WHERE seq = 7;"
	    "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_int_equal(audit_verify(scan, &v), 0);
	assert_int_equal(v.ok, 0);
	assert_int_equal(v.first_bad_seq, 7);
	store_close(scan);
	log_remove(&l);
}

/* The canonical form copies plain ASCII as it is and leaves the rest to
 * buf_add_json_str (the escaping stored hashes were made with): every
 * byte, alone and amid plain text, comes out as that function writes it. */
static void
canonical_escapes_every_byte_as_before(void **state)
{
	struct audit_event	 ev = sample_event("{}");
	struct buf		 b;
	char			*c, *want;
	int			 x, form;

	(void)state;
	for (x = 1; x < 256; x++)
		for (form = 0; form < 3; form++) {
			snprintf(ev.subject, sizeof(ev.subject),
			    form == 0 ? "%c" : form == 1 ? "ab%ccd" :
			    "\xc3\xa9%c\xf0\x9f", x);
			buf_init(&b, 1024);
			buf_addstr(&b, "{\"action\":\"person.create\","
			    "\"actor\":\"admin@example.com\","
			    "\"at\":\"2026-11-28T09:00:00Z\",\"details\":{},"
			    "\"seq\":7,\"subject\":");
			buf_add_json_str(&b, ev.subject);
			buf_addstr(&b, "}");
			want = buf_detach(&b, NULL);
			assert_non_null(c = audit_canonical(&ev));
			assert_string_equal(c, want);
			free(c);
			free(want);
		}
}

/* ---- audit: the end of the chain, checked at every start ------------- */

/* The verdict of audit_verify_tail on a fresh log of nevents events after
 * sql (NULL: untouched). */
static void
tail_after(int nevents, const char *sql, struct audit_verdict *v)
{
	struct logdir	 l;
	struct store	*st = NULL;

	log_create(&l, nevents);
	if (sql != NULL)
		tamper(&l, sql);
	assert_int_equal(store_open(l.dir, 0, &st), 0);
	assert_int_equal(audit_verify_tail(st, v), 0);
	store_close(st);
	log_remove(&l);
}

static void
tail_intact(void **state)
{
	struct audit_verdict v;

	(void)state;
	tail_after(NEVENTS, NULL, &v);
	assert_true(v.ok);
	tail_after(1, NULL, &v);
	assert_true(v.ok);
	tail_after(0, NULL, &v);
	assert_true(v.ok);
}

#define EXPECT_TAIL_BROKEN(n, sql, seq) do {				\
	struct audit_verdict v_;					\
	tail_after((n), (sql), &v_);					\
	if (v_.ok)							\
		fail_msg("tail check missed: %s", (sql));		\
	assert_int_equal(v_.first_bad_seq, (seq));			\
	assert_true(v_.reason[0] != '\0');				\
} while (0)

static void
tail_catches_the_last_events(void **state)
{
	(void)state;
	EXPECT_TAIL_BROKEN(NEVENTS, "UPDATE audit_events SET details = "
	    "'{\"n\":99}' WHERE seq = 5", 5);
	EXPECT_TAIL_BROKEN(NEVENTS, "UPDATE audit_events SET actor = "
	    "'mallory@example.com' WHERE seq = 5", 5);
	EXPECT_TAIL_BROKEN(NEVENTS, "UPDATE audit_events SET hash = "
	    "upper(hash) WHERE seq = 5", 5);
	EXPECT_TAIL_BROKEN(NEVENTS, "UPDATE audit_events SET prev_hash = "
	    "(SELECT hash FROM audit_events WHERE seq = 1) WHERE seq = 5", 5);
	/* the event before the last: its hash no longer links */
	EXPECT_TAIL_BROKEN(NEVENTS, "UPDATE audit_events SET hash = "
	    "upper(hash) WHERE seq = 4", 5);
	/* ... or its contents no longer hash to it */
	EXPECT_TAIL_BROKEN(NEVENTS, "UPDATE audit_events SET subject = 'x' "
	    "WHERE seq = 4", 4);
	EXPECT_TAIL_BROKEN(NEVENTS, "DELETE FROM audit_events WHERE seq = 4",
	    5);
	EXPECT_TAIL_BROKEN(1, "UPDATE audit_events SET prev_hash = "
	    "'00' WHERE seq = 1", 1);
}

/* What only the full walk (or an external head) sees: documented. */
static void
tail_does_not_see_the_middle_or_a_cut_end(void **state)
{
	struct audit_verdict v;

	(void)state;
	tail_after(NEVENTS, "UPDATE audit_events SET details = '{}' "
	    "WHERE seq = 2", &v);
	assert_true(v.ok);
	tail_after(NEVENTS, "DELETE FROM audit_events WHERE seq = 5", &v);
	assert_true(v.ok);
}

static int
group_setup(void **state)
{
	(void)state;
	unsetenv("KEYWARDEN_FAKE_NOW");
	return crypto_init();
}

/* ---- the broker's rows: delivery modes, sealed secrets, bound tokens -- */

/* A bound token authenticates only while it is live and its credential is
 * active, and hands back the credential's owner; the credential keeps its
 * delivery mode and its sealed client secret. */
static void
store_bound_tokens(void **state)
{
	struct logdir		 l;
	struct store		*st = NULL;
	struct person		 p, owner;
	struct instance		*in = calloc(1, sizeof(*in));
	struct credential	*c = calloc(1, sizeof(*c));
	struct credential	*got = calloc(1, sizeof(*got));
	struct bound_token	 b, found;
	unsigned char		 other[KW_HASH_LEN];
	const char		*t = "2026-12-02T08:00:00Z";

	(void)state;
	assert_non_null(in);
	assert_non_null(c);
	assert_non_null(got);
	log_create(&l, 0);
	assert_int_equal(store_open(l.dir, 0, &st), 0);
	memset(&p, 0, sizeof(p));
	kw_strlcpy(p.id, "per_1", sizeof(p.id));
	kw_strlcpy(p.email, "rick@example.com", sizeof(p.email));
	kw_strlcpy(p.name, "Rick", sizeof(p.name));
	p.active = 1;
	kw_strlcpy(p.created_at, t, sizeof(p.created_at));
	kw_strlcpy(p.updated_at, t, sizeof(p.updated_at));
	kw_strlcpy(in->id, "ins_1", sizeof(in->id));
	kw_strlcpy(in->name, "global", sizeof(in->name));
	kw_strlcpy(in->display_name, "global", sizeof(in->display_name));
	kw_strlcpy(in->provider, "zendesk", sizeof(in->provider));
	kw_strlcpy(in->url, "https://example.zendesk.com", sizeof(in->url));
	in->default_delivery = DM_BROKER;
	in->allowed_deliveries = 1u << DM_BROKER | 1u << DM_TOKEN;
	in->max_access_ttl = 7200;
	kw_strlcpy(in->bot_client_id, "kw-bot", sizeof(in->bot_client_id));
	kw_strlcpy(in->created_at, t, sizeof(in->created_at));
	kw_strlcpy(in->updated_at, t, sizeof(in->updated_at));
	kw_strlcpy(c->id, "cred_1", sizeof(c->id));
	kw_strlcpy(c->instance_id, "ins_1", sizeof(c->instance_id));
	kw_strlcpy(c->owner_id, "per_1", sizeof(c->owner_id));
	kw_strlcpy(c->purpose, "request", sizeof(c->purpose));
	kw_strlcpy(c->name, "https://example.com/r/1", sizeof(c->name));
	c->state = CS_ACTIVE;
	c->delivery_mode = DM_BROKER;
	memset(c->broker_sealed, 0xab, 60);
	c->broker_sealed_len = 60;
	kw_strlcpy(c->created_at, t, sizeof(c->created_at));
	memset(&b, 0, sizeof(b));
	kw_strlcpy(b.id, "btk_1", sizeof(b.id));
	kw_strlcpy(b.credential_id, "cred_1", sizeof(b.credential_id));
	kw_strlcpy(b.label, "nightly", sizeof(b.label));
	memset(b.hash, 0x42, sizeof(b.hash));
	memset(other, 0x43, sizeof(other));
	kw_strlcpy(b.created_at, t, sizeof(b.created_at));

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_insert(st, &p), 0);
	assert_int_equal(store_instance_insert(st, in), 0);
	assert_int_equal(store_credential_insert(st, c), 0);
	assert_int_equal(store_bound_insert(st, &b), 0);
	assert_int_equal(store_commit(st), 0);

	assert_int_equal(store_credential_get(st, "cred_1", got), 0);
	assert_int_equal(got->delivery_mode, DM_BROKER);
	assert_int_equal((int)got->broker_sealed_len, 60);
	assert_memory_equal(got->broker_sealed, c->broker_sealed, 60);
	assert_int_equal(store_instance_get(st, "global", in), 0);
	assert_int_equal(in->default_delivery, DM_BROKER);
	assert_int_equal(in->allowed_deliveries, 1u << DM_BROKER | 1u << DM_TOKEN);
	assert_int_equal(in->max_access_ttl, 7200);
	assert_string_equal(in->bot_client_id, "kw-bot");

	assert_int_equal(store_bound_find(st, b.hash, &found, &owner), 0);
	assert_string_equal(found.credential_id, "cred_1");
	assert_string_equal(owner.email, "rick@example.com");
	assert_int_equal(store_bound_find(st, other, &found, &owner),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_bound_used(st, "btk_1", t), 0);

	/* the credential ends: its bound token no longer authenticates */
	c->state = CS_REVOKED;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_update(st, c), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_bound_find(st, b.hash, &found, &owner),
	    KW_ERR_NOT_FOUND);
	c->state = CS_ACTIVE;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_update(st, c), 0);
	assert_int_equal(store_bound_revoke(st, "cred_1", NULL, t), 0);
	assert_int_equal(store_bound_revoke(st, "cred_1", "btk_1", t),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_bound_find(st, b.hash, &found, &owner),
	    KW_ERR_NOT_FOUND);

	store_close(st);
	log_remove(&l);
	free(in);
	free(c);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scope_global_modes),
		cmocka_unit_test(scope_read_write_resources),
		cmocka_unit_test(scope_read_only_resource),
		cmocka_unit_test(scope_write_only_resources),
		cmocka_unit_test(scope_unknown_resource),
		cmocka_unit_test(scope_bad_shapes),
		cmocka_unit_test(throttle_under_limit_allowed),
		cmocka_unit_test(throttle_fail_reports_the_failure_beyond_the_limit),
		cmocka_unit_test(throttle_at_limit_refused_with_retry_after),
		cmocka_unit_test(throttle_window_counts_from_first_failure),
		cmocka_unit_test(throttle_window_expiry_resets),
		cmocka_unit_test(throttle_addresses_independent),
		cmocka_unit_test(throttle_many_addresses),
		cmocka_unit_test(canonical_is_sorted_compact_json),
		cmocka_unit_test(canonical_matches_jansson),
		cmocka_unit_test(details_are_hashed_as_stored),
		cmocka_unit_test(hash_is_sha256_of_prev_and_canonical),
		cmocka_unit_test(hash_matches_a_recorded_chain_event),
		cmocka_unit_test(hash_changes_with_every_field),
		cmocka_unit_test(verify_empty_log),
		cmocka_unit_test(verify_intact_log),
		cmocka_unit_test(append_links_events_and_consumes_details),
		cmocka_unit_test(rollback_discards_event),
		cmocka_unit_test(tamper_modified_details),
		cmocka_unit_test(tamper_modified_actor),
		cmocka_unit_test(tamper_unparseable_details),
		cmocka_unit_test(tamper_deleted_middle_row),
		cmocka_unit_test(tamper_deleted_first_row),
		cmocka_unit_test(tamper_swapped_rows),
		cmocka_unit_test(tamper_forged_row_appended),
		cmocka_unit_test(tamper_forged_row_inserted),
		cmocka_unit_test(tamper_changed_hash),
		cmocka_unit_test(tamper_changed_last_hash),
		cmocka_unit_test(tamper_changed_prev_hash),
		cmocka_unit_test(tamper_rehashed_event),
		cmocka_unit_test(store_bound_tokens),
		cmocka_unit_test(tamper_hash_with_trailing_bytes),
		cmocka_unit_test(tamper_prev_hash_with_trailing_bytes),
		cmocka_unit_test(split_walk_gives_the_single_walk_verdict),
		cmocka_unit_test(split_walk_finds_the_expected_head),
		cmocka_unit_test(canonical_escapes_every_byte_as_before),
		cmocka_unit_test(scan_connection_sees_later_changes),
		cmocka_unit_test(tail_intact),
		cmocka_unit_test(tail_catches_the_last_events),
		cmocka_unit_test(tail_does_not_see_the_middle_or_a_cut_end),
	};

	return cmocka_run_group_tests_name("policy_audit", tests, group_setup,
	    NULL);
}
