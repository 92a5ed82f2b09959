/*
 * test_auth.c — authorisation decided on the store as it is when the
 * change is made: the authentication cache never keeps an answer read
 * before a commit, and api_tx_begin() checks the caller again inside the
 * write transaction (a caller offboarded, revoked or demoted behind the
 * server's back — by another process — is refused there, cache or not).
 * Also the master-key check the server makes at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kw.h"
#include "config.h"
#include "limits.h"
#include "api/api.h"
#include "api/authcache.h"
#include "core/people.h"
#include "core/startup.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "util/util.h"

/* ---- the cache -------------------------------------------------------- */

static void
cache_keeps_nothing_read_before_a_commit(void **state)
{
	struct authcache	*ac = authcache_new();
	struct caller		 c, out;
	unsigned char		 h[KW_HASH_LEN];
	uint64_t		 gen, gen2;

	(void)state;
	assert_non_null(ac);
	memset(&c, 0, sizeof(c));
	memset(h, 7, sizeof(h));
	kw_strlcpy(c.person.email, "a@example.com", sizeof(c.person.email));
	assert_false(authcache_get(ac, h, 1000, &out, &gen));
	/* a commit lands between the lookup and the put: what was read may
	 * be stale, so it is not remembered */
	authcache_invalidate(ac);
	authcache_put(ac, h, 1000, &c, gen);
	assert_false(authcache_get(ac, h, 1001, &out, &gen2));
	assert_true(gen2 != gen);
	/* read after the commit: kept */
	authcache_put(ac, h, 1001, &c, gen2);
	assert_true(authcache_get(ac, h, 1002, &out, &gen));
	assert_string_equal(out.person.email, "a@example.com");
	/* and dropped by the next commit */
	authcache_invalidate(ac);
	assert_false(authcache_get(ac, h, 1003, &out, &gen));
	authcache_free(ac);
}

/* ---- a real server state ----------------------------------------------- */

struct fixture {
	char		 dir[64];
	struct app	*app;
	char		 tok[KW_TOKEN_STR_MAX];	/* the caller's token */
	char		 auth[KW_TOKEN_STR_MAX + 16];
	struct person	 p;
};

/* A data directory with master key, key check and one person (roles,
 * team) holding a token, and the app serving it. */
static void
fixture_new(struct fixture *f, unsigned roles)
{
	struct crypto_keys	*keys = NULL;
	struct store		*st = NULL;
	struct actor		 sys;
	struct config		 cfg;
	char			 path[160], err[512];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/kw-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/master.key", f->dir);
	assert_int_equal(crypto_master_key_create(path), 0);
	assert_int_equal(crypto_keys_load(path, &keys), 0);
	assert_int_equal(store_open(f->dir, STORE_CREATE | STORE_MIGRATE, &st),
	    0);
	crypto_random_id("per_", f->p.id, sizeof(f->p.id));
	kw_strlcpy(f->p.email, "ann@example.com", sizeof(f->p.email));
	kw_strlcpy(f->p.name, "Ann", sizeof(f->p.name));
	f->p.roles = roles;
	f->p.nteams = 1;
	kw_strlcpy(f->p.teams[0], "support", sizeof(f->p.teams[0]));
	f->p.active = 1;
	kw_time_fmt(kw_now(), f->p.created_at, sizeof(f->p.created_at));
	kw_strlcpy(f->p.updated_at, f->p.created_at, sizeof(f->p.updated_at));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_insert(st, &f->p), 0);
	actor_system(&sys, DOOR_CLI, "system");
	assert_int_equal(people_token_mint(st, keys, &sys, &f->p, "test",
	    KW_TOKEN_DAYS_DEFAULT, f->tok, sizeof(f->tok), NULL), 0);
	assert_int_equal(core_key_check_create(st, keys, "system", "init"), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
	crypto_keys_free(keys);
	snprintf(f->auth, sizeof(f->auth), "Bearer %s", f->tok);

	config_defaults(&cfg);
	kw_strlcpy(cfg.data_dir, f->dir, sizeof(cfg.data_dir));
	assert_non_null(f->app = calloc(1, sizeof(*f->app)));
	if (api_app_init(f->app, &cfg, err, sizeof(err)) != 0)
		fail_msg("api_app_init: %s", err);
}

/* Apps are freed only at the end: a worker's store connection is
 * remembered per thread and app address (api_store), and a new app at a
 * freed one's address would find the closed connection. */
static struct app	*apps[16];
static size_t		 napps;

static void
fixture_free(struct fixture *f)
{
	const char	*files[] = { "keywarden.db", "keywarden.db-wal",
	    "keywarden.db-shm", "master.key" };
	char		 p[160];
	size_t		 i;

	api_app_cleanup(f->app);
	assert_true(napps < KW_NELEM(apps));
	apps[napps++] = f->app;
	for (i = 0; i < KW_NELEM(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
}

/* A request of f's person on a route of the given level, authorised as
 * when its headers arrived. */
static void
request_new(struct fixture *f, struct http_req *rq, enum http_access access)
{
	struct http_route route = { "POST", "/v1/x", NULL, access,
	    BODY_OPTIONAL, INLINE };

	memset(rq, 0, sizeof(*rq));
	rq->method = "POST";
	rq->path = "/v1/x";
	rq->remote = "127.0.0.1";
	rq->authorization = f->auth;
	rq->app = f->app;
	assert_int_equal(api_authorise(rq, &route), 0);
	assert_non_null(rq->caller);
}

/* Change f's person with another connection, as another process (or a
 * sqlite3 session) would: the server's cache is not told. */
static void
behind_the_back(struct fixture *f, void (*change)(struct person *))
{
	struct store	*st = NULL;
	struct person	 p;

	assert_int_equal(store_open(f->dir, 0, &st), 0);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_get(st, f->p.id, &p), 0);
	change(&p);
	assert_int_equal(store_person_update(st, &p), 0);
	assert_int_equal(store_commit(st), 0);
	store_close(st);
}

static void deactivate(struct person *p) { p->active = 0; }
static void demote(struct person *p) { p->roles = 0; }
static void new_team(struct person *p) { kw_strlcpy(p->teams[0],
    "support-ops", sizeof(p->teams[0])); }

/* Begin a write as rq; expect err (0: then end it). */
static void
expect_tx(struct fixture *f, struct http_req *rq, int err)
{
	struct store	*st = NULL;
	int		 r = api_tx_begin(rq, &st);

	(void)f;
	if (r != err)
		fail_msg("api_tx_begin: %d (%s), want %d", r, rq->fail.message,
		    err);
	if (r == 0)
		assert_int_equal(api_tx_end(rq, &st, 0), 0);
	else
		assert_null(st);
}

static void
tx_refuses_a_caller_offboarded_meanwhile(void **state)
{
	struct fixture	f;
	struct http_req	rq;
	struct store	*st = NULL;

	(void)state;
	fixture_new(&f, ROLE_ADMIN);
	request_new(&f, &rq, ACCESS_ADMIN);
	expect_tx(&f, &rq, 0);
	behind_the_back(&f, deactivate);
	expect_tx(&f, &rq, KW_ERR_UNAUTHENTICATED);
	assert_non_null(strstr(rq.fail.message, "no longer active"));
	/* the refusal left the group commit usable */
	assert_int_equal(core_write_begin(f.app, &st), 0);
	assert_int_equal(core_write_end(f.app, 0), 0);
	free(rq.caller);
	fixture_free(&f);
}

static void
tx_refuses_a_caller_demoted_meanwhile(void **state)
{
	struct fixture	f;
	struct http_req	rq;

	(void)state;
	fixture_new(&f, ROLE_ADMIN);
	request_new(&f, &rq, ACCESS_ADMIN);
	behind_the_back(&f, demote);
	expect_tx(&f, &rq, KW_ERR_FORBIDDEN);
	free(rq.caller);
	fixture_free(&f);
}

static void
tx_refuses_a_decision_made_on_old_teams(void **state)
{
	struct fixture	f;
	struct http_req	rq;

	(void)state;
	fixture_new(&f, 0);
	request_new(&f, &rq, ACCESS_PERSON);
	behind_the_back(&f, new_team);
	expect_tx(&f, &rq, KW_ERR_CONFLICT);
	free(rq.caller);
	fixture_free(&f);
}

/* ---- the master-key check ------------------------------------------- */

static void
key_check_opens_only_under_its_key(void **state)
{
	struct fixture		 f;
	struct crypto_keys	*other = NULL;
	unsigned char		 raw[KW_MASTER_KEY_LEN];

	(void)state;
	fixture_new(&f, 0);
	assert_int_equal(core_key_check_verify(f.app->stores[0], f.app->keys),
	    0);
	memset(raw, 0x5a, sizeof(raw));
	assert_int_equal(crypto_keys_from_bytes(raw, &other), 0);
	assert_int_equal(core_key_check_verify(f.app->stores[0], other),
	    KW_ERR_CRYPTO);
	crypto_keys_free(other);
	fixture_free(&f);
}

static int
group_setup(void **state)
{
	(void)state;
	unsetenv("KEYWARDEN_FAKE_NOW");
	return crypto_init();
}

static int
group_teardown(void **state)
{
	(void)state;
	while (napps > 0)
		free(apps[--napps]);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cache_keeps_nothing_read_before_a_commit),
		cmocka_unit_test(tx_refuses_a_caller_offboarded_meanwhile),
		cmocka_unit_test(tx_refuses_a_caller_demoted_meanwhile),
		cmocka_unit_test(tx_refuses_a_decision_made_on_old_teams),
		cmocka_unit_test(key_check_opens_only_under_its_key),
	};

	return cmocka_run_group_tests_name("auth", tests, group_setup,
	    group_teardown);
}
