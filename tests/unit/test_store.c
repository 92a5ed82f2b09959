/*
 * test_store.c — the store conformance suite: one set of cases run
 * through the store interface (store.h) against whichever backend
 * KW_TEST_STORE_URL names ("postgresql://..." for a database the suite
 * may fill; unset: SQLite in a new temporary directory).  Every backend
 * must pass it unchanged: the same answers, the same errors
 * (KW_ERR_CONFLICT for a lost conditional update or a duplicate,
 * KW_ERR_NOT_FOUND), the same transaction semantics.
 *
 * Cases share one store and make their own rows with fresh ids, so a
 * database that already holds a run's rows still passes.
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
#include "limits.h"
#include "crypto/crypto.h"
#include "store/backend.h"
#include "store/store.h"
#include "util/util.h"

static const char	*url;		/* NULL: SQLite in dir */
static char		 dir[64];
static struct store	*st;

/* A second connection to the same store (another node, in effect). */
static struct store *
second(void)
{
	struct store *o = NULL;

	assert_int_equal(store_open_url(url, dir, 0, &o), 0);
	return o;
}

static int
setup(void **state)
{
	KW_UNUSED(state);
	url = getenv("KW_TEST_STORE_URL");
	if (url != NULL && url[0] == '\0')
		url = NULL;
	snprintf(dir, sizeof(dir), "/tmp/kw-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	return store_open_url(url, dir, STORE_CREATE | STORE_MIGRATE, &st);
}

static int
teardown(void **state)
{
	char path[128];

	KW_UNUSED(state);
	store_close(st);
	snprintf(path, sizeof(path), "%s/keywarden.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keywarden.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keywarden.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* 32 unpredictable bytes (a token's keyed hash, in effect). */
static void
rand_hash(unsigned char out[KW_HASH_LEN])
{
	char id[40];

	crypto_random_id("h", id, sizeof(id));
	assert_int_equal(crypto_hmac_sha256(id, strlen(id), "t", 1, out), 0);
}

static void
now(char *out)
{
	kw_time_fmt(kw_now(), out, KW_TIME_LEN + 1);
}

/* A new person (committed), with a fresh id and email. */
static void
make_person(struct person *p, const char *manager_id)
{
	memset(p, 0, sizeof(*p));
	crypto_random_id("per_", p->id, sizeof(p->id));
	snprintf(p->email, sizeof(p->email), "%s@Example.com", p->id);
	kw_strlcpy(p->name, "Pat", sizeof(p->name));
	kw_strlcpy(p->manager_id, manager_id ? manager_id : "",
	    sizeof(p->manager_id));
	p->roles = ROLE_AUDITOR;
	p->nteams = 2;
	kw_strlcpy(p->teams[0], "ops", sizeof(p->teams[0]));
	kw_strlcpy(p->teams[1], "sec", sizeof(p->teams[1]));
	p->active = 1;
	now(p->created_at);
	now(p->updated_at);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_insert(st, p), 0);
	assert_int_equal(store_commit(st), 0);
}

static void
make_instance(struct instance *in, const char *provisioner)
{
	memset(in, 0, sizeof(*in));
	crypto_random_id("ins_", in->id, sizeof(in->id));
	snprintf(in->name, sizeof(in->name), "i%s", in->id + 4);
	kw_strlcpy(in->display_name, "Acme", sizeof(in->display_name));
	kw_strlcpy(in->provider, "zendesk", sizeof(in->provider));
	kw_strlcpy(in->url, "https://acme.zendesk.com", sizeof(in->url));
	in->nprovisioners = 1;
	kw_strlcpy(in->provisioners[0].id, provisioner,
	    sizeof(in->provisioners[0].id));
	in->scopes_restricted = 1;
	in->nscopes = 1;
	kw_strlcpy(in->allowed_scopes[0], "read", sizeof(in->allowed_scopes[0]));
	in->max_lifetime_days = 90;
	in->rotation_days = 30;
	in->grace_days = 3;
	in->nwarn = 2;
	in->warn_days[0] = 14;
	in->warn_days[1] = 1;
	kw_strlcpy(in->bot_email, "bot@example.com", sizeof(in->bot_email));
	in->bot_sealed_len = 5;
	memcpy(in->bot_sealed, "\x00\x01\xff\x10\x7f", 5);
	now(in->created_at);
	now(in->updated_at);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_instance_insert(st, in), 0);
	assert_int_equal(store_commit(st), 0);
}

static void
make_request(struct request *rq, const struct instance *in,
    const struct person *who)
{
	memset(rq, 0, sizeof(*rq));
	crypto_random_id("req_", rq->id, sizeof(rq->id));
	kw_strlcpy(rq->instance_id, in->id, sizeof(rq->instance_id));
	rq->kind = KIND_API_TOKEN;
	rq->state = RS_PENDING_MANAGER;
	kw_strlcpy(rq->purpose, "request", sizeof(rq->purpose));
	kw_strlcpy(rq->requester_id, who->id, sizeof(rq->requester_id));
	kw_strlcpy(rq->justification, "need it", sizeof(rq->justification));
	kw_strlcpy(rq->use_case, "reports", sizeof(rq->use_case));
	rq->nscopes = 1;
	kw_strlcpy(rq->scopes[0], "read", sizeof(rq->scopes[0]));
	rq->lifetime_days = 30;
	kw_strlcpy(rq->link, "https://kw/requests/x", sizeof(rq->link));
	rq->integration.present = 1;
	kw_strlcpy(rq->integration.name, "app", sizeof(rq->integration.name));
	rq->integration.nredirects = 1;
	kw_strlcpy(rq->integration.redirect_uris[0], "https://app/cb",
	    sizeof(rq->integration.redirect_uris[0]));
	now(rq->created_at);
	now(rq->updated_at);
	kw_strlcpy(rq->expires_at, "2000-01-01T00:00:00Z",
	    sizeof(rq->expires_at));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_request_insert(st, rq), 0);
	assert_int_equal(store_commit(st), 0);
}

static void
make_credential(struct credential *c, const struct instance *in,
    const struct person *owner, const char *expires, const char *key)
{
	memset(c, 0, sizeof(*c));
	crypto_random_id("cre_", c->id, sizeof(c->id));
	kw_strlcpy(c->instance_id, in->id, sizeof(c->instance_id));
	c->kind = key ? KIND_LEGACY : KIND_API_TOKEN;
	kw_strlcpy(c->owner_id, owner->id, sizeof(c->owner_id));
	kw_strlcpy(c->purpose, "personal", sizeof(c->purpose));
	kw_strlcpy(c->name, "my token", sizeof(c->name));
	c->nscopes = 1;
	kw_strlcpy(c->scopes[0], "read", sizeof(c->scopes[0]));
	c->state = CS_ACTIVE;
	c->lifetime_days = 30;
	kw_strlcpy(c->created_at, "2001-01-01T00:00:00Z", sizeof(c->created_at));
	kw_strlcpy(c->expires_at, expires, sizeof(c->expires_at));
	kw_strlcpy(c->external, "{\"id\":42}", sizeof(c->external));
	kw_strlcpy(c->fingerprint, "ab12", sizeof(c->fingerprint));
	c->delivery = DS_PENDING;
	kw_strlcpy(c->delivery_expires_at, "2000-06-01T00:00:00Z",
	    sizeof(c->delivery_expires_at));
	c->sealed_len = 3;
	memcpy(c->sealed, "\x00\xee\x01", 3);
	if (key != NULL)
		kw_strlcpy(c->external_key, key, sizeof(c->external_key));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_insert(st, c), 0);
	assert_int_equal(store_commit(st), 0);
}

/* ---- people ---- */

static void
people_roundtrip(void **state)
{
	struct person p, m, got;

	KW_UNUSED(state);
	make_person(&m, NULL);
	make_person(&p, m.id);
	assert_int_equal(store_person_get(st, p.id, &got), 0);
	assert_string_equal(got.email, p.email);
	assert_string_equal(got.manager_id, m.id);
	assert_string_equal(got.manager_email, m.email);
	assert_int_equal(got.roles, ROLE_AUDITOR);
	assert_int_equal(got.nteams, 2);
	assert_string_equal(got.teams[1], "sec");
	assert_true(got.seq > 0);
	/* by email, whatever its case */
	kw_strlcpy(got.email, p.email, sizeof(got.email));
	got.email[strlen(got.email) - 3] = 'C';
	assert_int_equal(store_person_get(st, got.email, &got), 0);
	assert_string_equal(got.id, p.id);
	assert_int_equal(store_person_get(st, "nobody@example.com", &got),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_person_get(st, "per_nothing", &got),
	    KW_ERR_NOT_FOUND);
}

static void
people_duplicate_email_conflicts(void **state)
{
	struct person p, q;
	size_t i;

	KW_UNUSED(state);
	make_person(&p, NULL);
	q = p;
	crypto_random_id("per_", q.id, sizeof(q.id));
	for (i = 0; q.email[i]; i++)	/* same address, other case */
		if (q.email[i] >= 'a' && q.email[i] <= 'z')
			q.email[i] = (char)(q.email[i] - 32);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_insert(st, &q), KW_ERR_CONFLICT);
	store_rollback(st);
	/* an unknown manager is refused too */
	crypto_random_id("per_", q.id, sizeof(q.id));
	snprintf(q.email, sizeof(q.email), "%s@example.com", q.id);
	kw_strlcpy(q.manager_id, "per_missing", sizeof(q.manager_id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_insert(st, &q), KW_ERR_CONFLICT);
	store_rollback(st);
}

static void
people_update_and_slack(void **state)
{
	struct person p, got;

	KW_UNUSED(state);
	make_person(&p, NULL);
	p.slack_user_id[0] = 'U';
	kw_strlcpy(p.slack_user_id + 1, p.id + 4, sizeof(p.slack_user_id) - 1);
	p.active = 0;
	p.roles = ROLE_ADMIN;
	p.nteams = 0;
	kw_strlcpy(p.name, "Renamed", sizeof(p.name));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_update(st, &p), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_person_by_slack(st, p.slack_user_id, &got), 0);
	assert_string_equal(got.id, p.id);
	assert_string_equal(got.name, "Renamed");
	assert_int_equal(got.active, 0);
	assert_int_equal(got.nteams, 0);
	assert_int_equal(got.roles, ROLE_ADMIN);
	kw_strlcpy(got.id, "per_missing", sizeof(got.id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_update(st, &got), KW_ERR_NOT_FOUND);
	store_rollback(st);
	assert_int_equal(store_person_by_slack(st, "UNOBODY", &got),
	    KW_ERR_NOT_FOUND);
}

struct walk {
	int64_t	last;
	int	n;
	int	stop_at;
};

static int
person_cb(const struct person *p, void *arg)
{
	struct walk *w = arg;

	assert_true(p->seq > w->last);
	w->last = p->seq;
	return ++w->n == w->stop_at ? 7 : 0;
}

static void
people_each_pages_in_seq_order(void **state)
{
	struct person	p;
	struct walk	w = { 0, 0, 0 };
	int		total, r;

	KW_UNUSED(state);
	make_person(&p, NULL);
	make_person(&p, NULL);
	make_person(&p, NULL);
	assert_int_equal(store_person_each(st, 0, 100000, person_cb, &w), 0);
	total = w.n;
	assert_true(total >= 3);
	/* pages of 2 walk everyone once */
	memset(&w, 0, sizeof(w));
	do {
		int before = w.n;
		assert_int_equal(store_person_each(st, w.last, 2, person_cb,
		    &w), 0);
		r = w.n - before;
		assert_true(r <= 2);
	} while (r == 2);
	assert_int_equal(w.n, total);
	/* a callback's non-zero answer stops the walk and is returned */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(store_person_each(st, 0, 100, person_cb, &w), 7);
	assert_int_equal(w.n, 2);
}

/* ---- tokens ---- */

static int
token_cb(const struct token_rec *t, void *arg)
{
	int *n = arg;

	assert_true(t->id[0] != '\0');
	(*n)++;
	return 0;
}

static void
tokens_find_revoke(void **state)
{
	struct person		p, owner;
	struct token_rec	t, t2, got;
	int			n = 0;

	KW_UNUSED(state);
	make_person(&p, NULL);
	memset(&t, 0, sizeof(t));
	crypto_random_id("tok_", t.id, sizeof(t.id));
	kw_strlcpy(t.person_id, p.id, sizeof(t.person_id));
	rand_hash(t.hash);
	t.hash[0] = 0;		/* a NUL byte must survive */
	now(t.created_at);
	t2 = t;
	crypto_random_id("tok_", t2.id, sizeof(t2.id));
	rand_hash(t2.hash);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_insert(st, &t), 0);
	assert_int_equal(store_token_insert(st, &t2), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_token_find(st, t.hash, &got, &owner), 0);
	assert_string_equal(got.id, t.id);
	assert_memory_equal(got.hash, t.hash, KW_HASH_LEN);
	assert_string_equal(owner.id, p.id);
	/* the same hash twice is a conflict */
	crypto_random_id("tok_", t2.id, sizeof(t2.id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_insert(st, &t2), KW_ERR_CONFLICT);
	store_rollback(st);
	assert_int_equal(store_token_each(st, p.id, token_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_revoke(st, p.id, t.id, t.created_at), 0);
	assert_int_equal(store_token_revoke(st, p.id, t.id, t.created_at),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_token_find(st, t.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_revoke_person(st, p.id, t.created_at, &n),
	    0);
	assert_int_equal(n, 1);		/* only t2 was live */
	assert_int_equal(store_commit(st), 0);
}


/* Personal tokens: label, expiry, last use, and the expiry warning that
 * one node (of several) records. */
struct tok_find {
	const char	*id;
	int		 seen;
	char		 label[KW_TOKEN_LABEL_MAX + 1];
	char		 expires_at[KW_TIME_LEN + 1];
	char		 last_used_at[KW_TIME_LEN + 1];
};

static int
tok_find_cb(const struct token_rec *t, void *arg)
{
	struct tok_find *f = arg;

	if (strcmp(t->id, f->id) != 0)
		return 0;
	f->seen++;
	kw_strlcpy(f->label, t->label, sizeof(f->label));
	kw_strlcpy(f->expires_at, t->expires_at, sizeof(f->expires_at));
	kw_strlcpy(f->last_used_at, t->last_used_at, sizeof(f->last_used_at));
	return 0;
}

/* Is token id among the expiring ones between now and before? */
static int
expiring_has(const char *before, const char *at, const char *id)
{
	struct tok_find f = { id, 0, "", "", "" };

	assert_int_equal(store_token_expiring(st, before, at, 100000,
	    tok_find_cb, &f), 0);
	return f.seen;
}

static void
tokens_label_expiry_and_use(void **state)
{
	struct person		 p, owner;
	struct token_rec	 t, forever, got;
	struct tok_find		 f;
	struct store		*o;

	KW_UNUSED(state);
	make_person(&p, NULL);
	memset(&t, 0, sizeof(t));
	crypto_random_id("tok_", t.id, sizeof(t.id));
	kw_strlcpy(t.person_id, p.id, sizeof(t.person_id));
	rand_hash(t.hash);
	now(t.created_at);
	kw_strlcpy(t.label, "laptop – ci", sizeof(t.label));
	kw_strlcpy(t.expires_at, "2090-01-10T00:00:00Z", sizeof(t.expires_at));
	forever = t;			/* no expiry: never listed */
	crypto_random_id("tok_", forever.id, sizeof(forever.id));
	rand_hash(forever.hash);
	forever.expires_at[0] = '\0';
	forever.label[0] = '\0';
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_insert(st, &t), 0);
	assert_int_equal(store_token_insert(st, &forever), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_token_find(st, t.hash, &got, &owner), 0);
	assert_string_equal(got.label, "laptop – ci");
	assert_string_equal(got.expires_at, "2090-01-10T00:00:00Z");
	assert_string_equal(got.last_used_at, "");
	assert_int_equal(store_token_find(st, forever.hash, &got, &owner), 0);
	assert_string_equal(got.expires_at, "");
	assert_string_equal(got.label, "");
	/* a use is recorded, and listed */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_touch(st, t.id, "2089-05-05T05:05:05Z"),
	    0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_token_find(st, t.hash, &got, &owner), 0);
	assert_string_equal(got.last_used_at, "2089-05-05T05:05:05Z");
	memset(&f, 0, sizeof(f));
	f.id = t.id;
	assert_int_equal(store_token_each(st, p.id, tok_find_cb, &f), 0);
	assert_int_equal(f.seen, 1);
	assert_string_equal(f.label, "laptop – ci");
	assert_string_equal(f.expires_at, "2090-01-10T00:00:00Z");
	assert_string_equal(f.last_used_at, "2089-05-05T05:05:05Z");
	/* expiring: after now, by before; not yet warned; live */
	assert_true(expiring_has("2090-01-15T00:00:00Z",
	    "2090-01-01T00:00:00Z", t.id));
	assert_true(expiring_has("2090-01-10T00:00:00Z",
	    "2090-01-01T00:00:00Z", t.id));
	assert_false(expiring_has("2090-01-05T00:00:00Z",
	    "2090-01-01T00:00:00Z", t.id));
	assert_false(expiring_has("2090-02-01T00:00:00Z",
	    "2090-01-10T00:00:00Z", t.id));	/* expired already */
	assert_false(expiring_has("9999-01-01T00:00:00Z",
	    "2000-01-01T00:00:00Z", forever.id));
	/* the warning is recorded once: a second node sees 0 */
	o = second();
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_warned(st, t.id, "2090-01-03T00:00:00Z"),
	    1);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_begin(o), 0);
	assert_int_equal(store_token_warned(o, t.id, "2090-01-03T00:00:01Z"),
	    0);
	assert_int_equal(store_commit(o), 0);
	store_close(o);
	assert_false(expiring_has("2090-01-15T00:00:00Z",
	    "2090-01-01T00:00:00Z", t.id));
	/* revoked tokens are never listed */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_token_warned(st, "tok_missing",
	    "2090-01-03T00:00:00Z"), 0);
	assert_int_equal(store_token_revoke_person(st, p.id,
	    "2089-06-01T00:00:00Z", &(int){ 0 }), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_token_find(st, forever.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
}

/* ---- sessions ---- */

static void
make_session(struct session_rec *se, const struct person *p,
    const char *expires, const char *seen)
{
	memset(se, 0, sizeof(*se));
	crypto_random_id("ses_", se->id, sizeof(se->id));
	kw_strlcpy(se->person_id, p->id, sizeof(se->person_id));
	rand_hash(se->hash);
	se->hash[KW_HASH_LEN - 1] = 0;
	kw_strlcpy(se->method, "oidc", sizeof(se->method));
	now(se->created_at);
	kw_strlcpy(se->expires_at, expires, sizeof(se->expires_at));
	kw_strlcpy(se->last_seen_at, seen, sizeof(se->last_seen_at));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_insert(st, se), 0);
	assert_int_equal(store_commit(st), 0);
}

static void
sessions_find_touch_end_purge(void **state)
{
	struct person		p, q, owner;
	struct session_rec	a, b, c, dead, idle, got;
	int			n;

	KW_UNUSED(state);
	make_person(&p, NULL);
	make_person(&q, NULL);
	make_session(&a, &p, "2999-01-01T00:00:00Z", "2999-01-01T00:00:00Z");
	make_session(&b, &p, "2999-01-01T00:00:00Z", "2999-01-01T00:00:00Z");
	make_session(&c, &q, "2999-01-01T00:00:00Z", "2999-01-01T00:00:00Z");
	assert_int_equal(store_session_find(st, a.hash, &got, &owner), 0);
	assert_string_equal(got.id, a.id);
	assert_string_equal(got.person_id, p.id);
	assert_memory_equal(got.hash, a.hash, KW_HASH_LEN);
	assert_string_equal(got.method, "oidc");
	assert_string_equal(got.created_at, a.created_at);
	assert_string_equal(got.expires_at, "2999-01-01T00:00:00Z");
	assert_string_equal(owner.id, p.id);
	assert_string_equal(owner.email, p.email);
	/* the same secret twice, or an unknown person: refused */
	got = a;
	crypto_random_id("ses_", got.id, sizeof(got.id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_insert(st, &got), KW_ERR_CONFLICT);
	store_rollback(st);
	rand_hash(got.hash);
	kw_strlcpy(got.person_id, "per_missing", sizeof(got.person_id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_insert(st, &got), KW_ERR_CONFLICT);
	store_rollback(st);
	/* activity */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_touch(st, a.id,
	    "2999-02-02T00:00:00Z"), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_session_find(st, a.hash, &got, &owner), 0);
	assert_string_equal(got.last_seen_at, "2999-02-02T00:00:00Z");
	/* sign-out ends one; offboarding ends every one of a person */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_delete(st, a.id), 0);
	assert_int_equal(store_session_delete(st, a.id), KW_ERR_NOT_FOUND);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_session_find(st, a.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
	make_session(&a, &p, "2999-01-01T00:00:00Z", "2999-01-01T00:00:00Z");
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_delete_person(st, p.id, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_session_delete_person(st, p.id, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_session_find(st, b.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_session_find(st, c.hash, &got, &owner), 0);
	/* the purge: past their end, or idle too long; others stay */
	make_session(&dead, &q, "2000-01-01T00:00:00Z",
	    "2999-01-01T00:00:00Z");
	make_session(&idle, &q, "2999-01-01T00:00:00Z",
	    "2001-01-01T00:00:00Z");
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_session_purge(st, "2020-01-01T00:00:00Z",
	    "2010-01-01T00:00:00Z", &n), 0);
	assert_true(n >= 2);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_session_find(st, dead.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_session_find(st, idle.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_session_find(st, c.hash, &got, &owner), 0);
	assert_int_equal(store_session_find(st, (unsigned char[KW_HASH_LEN])
	    { 0 }, &got, &owner), KW_ERR_NOT_FOUND);
}

/* ---- SCIM ---- */

struct scim_walk {
	const char	*want, *gone;
	int		 seen_want, seen_gone, n;
	int64_t		 last;
	char		 external_id[KW_SCIM_EXTERNAL_ID_MAX + 1];
};

static int
scim_person_cb(const struct person *p, void *arg)
{
	struct scim_walk *w = arg;

	assert_true(p->seq > w->last);
	assert_string_equal(p->scim_deleted_at, "");
	w->last = p->seq;
	w->n++;
	if (strcmp(p->id, w->want) == 0) {
		w->seen_want++;
		kw_strlcpy(w->external_id, p->external_id,
		    sizeof(w->external_id));
	}
	if (strcmp(p->id, w->gone) == 0)
		w->seen_gone++;
	return 0;
}

static void
people_scim_columns_and_pages(void **state)
{
	struct person		p, gone, got;
	struct scim_walk	w;
	int64_t			before, after, off;
	int			k;

	KW_UNUSED(state);
	assert_int_equal(store_person_scim_count(st, &before), 0);
	make_person(&p, NULL);
	make_person(&gone, NULL);
	assert_int_equal(store_person_get(st, p.id, &got), 0);
	assert_string_equal(got.external_id, "");
	assert_string_equal(got.managed_by, "");
	assert_string_equal(got.scim_deleted_at, "");
	/* the provider's id and management, then its deletion */
	kw_strlcpy(p.external_id, p.id, sizeof(p.external_id));
	memcpy(p.external_id, "00u_", 4);	/* an Okta-like id */
	kw_strlcpy(p.managed_by, "scim", sizeof(p.managed_by));
	gone.active = 0;
	kw_strlcpy(gone.managed_by, "scim", sizeof(gone.managed_by));
	kw_strlcpy(gone.scim_deleted_at, "2030-01-01T00:00:00Z",
	    sizeof(gone.scim_deleted_at));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_update(st, &p), 0);
	assert_int_equal(store_person_update(st, &gone), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_person_get(st, p.id, &got), 0);
	assert_string_equal(got.external_id, p.external_id);
	assert_string_equal(got.managed_by, "scim");
	assert_int_equal(store_person_get(st, gone.id, &got), 0);
	assert_string_equal(got.scim_deleted_at, "2030-01-01T00:00:00Z");
	assert_int_equal(store_person_scim_count(st, &after), 0);
	assert_int_equal(after, before + 1);
	/* pages by offset, in seq order, without the deleted */
	memset(&w, 0, sizeof(w));
	w.want = p.id;
	w.gone = gone.id;
	for (off = 0; ; off += 3) {
		k = w.n;
		assert_int_equal(store_person_scim_page(st, off, 3,
		    scim_person_cb, &w), 0);
		if (w.n - k < 3)
			break;
	}
	assert_int_equal(w.n, after);
	assert_int_equal(w.seen_want, 1);
	assert_int_equal(w.seen_gone, 0);
	assert_string_equal(w.external_id, p.external_id);
	/* back to keywarden's own management: the columns empty again */
	p.external_id[0] = '\0';
	p.managed_by[0] = '\0';
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_update(st, &p), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_person_get(st, p.id, &got), 0);
	assert_string_equal(got.external_id, "");
	assert_string_equal(got.managed_by, "");
}

struct scim_tok_walk {
	const char	*id;
	int		 seen;
	struct scim_token t;
};

static int
scim_tok_cb(const struct scim_token *t, void *arg)
{
	struct scim_tok_walk *w = arg;

	if (strcmp(t->id, w->id) == 0) {
		w->seen++;
		w->t = *t;
	}
	return 0;
}

static void
scim_tokens_roundtrip(void **state)
{
	struct scim_token	t, u, got;
	struct scim_tok_walk	w;

	KW_UNUSED(state);
	memset(&t, 0, sizeof(t));
	crypto_random_id("sct_", t.id, sizeof(t.id));
	kw_strlcpy(t.label, "Okta", sizeof(t.label));
	rand_hash(t.hash);
	t.hash[3] = 0;
	now(t.created_at);
	u = t;			/* no label */
	crypto_random_id("sct_", u.id, sizeof(u.id));
	rand_hash(u.hash);
	u.label[0] = '\0';
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_scim_token_insert(st, &t), 0);
	assert_int_equal(store_scim_token_insert(st, &u), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_scim_token_find(st, t.hash, &got), 0);
	assert_string_equal(got.id, t.id);
	assert_string_equal(got.label, "Okta");
	assert_memory_equal(got.hash, t.hash, KW_HASH_LEN);
	assert_string_equal(got.created_at, t.created_at);
	assert_string_equal(got.last_used_at, "");
	assert_int_equal(store_scim_token_find(st, u.hash, &got), 0);
	assert_string_equal(got.label, "");
	/* the same hash twice is a conflict */
	got = t;
	crypto_random_id("sct_", got.id, sizeof(got.id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_scim_token_insert(st, &got), KW_ERR_CONFLICT);
	store_rollback(st);
	/* use, listing (without the hash), deletion */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_scim_token_used(st, t.id,
	    "2031-03-03T03:03:03Z"), 0);
	assert_int_equal(store_commit(st), 0);
	memset(&w, 0, sizeof(w));
	w.id = t.id;
	assert_int_equal(store_scim_token_each(st, scim_tok_cb, &w), 0);
	assert_int_equal(w.seen, 1);
	assert_string_equal(w.t.label, "Okta");
	assert_string_equal(w.t.last_used_at, "2031-03-03T03:03:03Z");
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_scim_token_delete(st, t.id), 0);
	assert_int_equal(store_scim_token_delete(st, t.id), KW_ERR_NOT_FOUND);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_scim_token_find(st, t.hash, &got),
	    KW_ERR_NOT_FOUND);
	memset(&w, 0, sizeof(w));
	w.id = t.id;
	assert_int_equal(store_scim_token_each(st, scim_tok_cb, &w), 0);
	assert_int_equal(w.seen, 0);
	assert_int_equal(store_scim_token_find(st, u.hash, &got), 0);
}

/* ---- instances ---- */

static int
instance_cb(const struct instance *in, void *arg)
{
	const char *want = arg;

	if (strcmp(in->id, want) == 0) {
		assert_int_equal(in->nprovisioners, 2);
		return 1;
	}
	return 0;
}

static void
instances_roundtrip(void **state)
{
	struct person	p, q;
	struct instance	in, got, dup;

	KW_UNUSED(state);
	make_person(&p, NULL);
	make_person(&q, NULL);
	make_instance(&in, p.id);
	assert_int_equal(store_instance_get(st, in.name, &got), 0);
	assert_string_equal(got.id, in.id);
	assert_int_equal(got.nprovisioners, 1);
	assert_string_equal(got.provisioners[0].email, p.email);
	assert_int_equal(got.scopes_restricted, 1);
	assert_string_equal(got.allowed_scopes[0], "read");
	assert_int_equal(got.bot_sealed_len, 5);
	assert_memory_equal(got.bot_sealed, in.bot_sealed, 5);
	assert_int_equal(got.nwarn, 2);
	assert_int_equal(got.warn_days[0], 14);
	assert_int_equal(got.grace_days, 3);
	assert_int_equal(store_instance_get(st, in.id, &got), 0);
	/* update: provisioners replaced, scopes unrestricted, no bot */
	got.nprovisioners = 2;
	kw_strlcpy(got.provisioners[1].id, q.id, sizeof(got.provisioners[1].id));
	got.scopes_restricted = 0;
	got.nscopes = 0;
	got.bot_sealed_len = 0;
	got.bot_email[0] = '\0';
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_instance_update(st, &got), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_instance_get(st, in.name, &got), 0);
	assert_int_equal(got.nprovisioners, 2);
	assert_int_equal(got.scopes_restricted, 0);
	assert_int_equal(got.bot_sealed_len, 0);
	assert_string_equal(got.bot_email, "");
	/* the same name twice is a conflict */
	dup = in;
	crypto_random_id("ins_", dup.id, sizeof(dup.id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_instance_insert(st, &dup), KW_ERR_CONFLICT);
	store_rollback(st);
	assert_int_equal(store_instance_each(st, 0, 1000, instance_cb, in.id),
	    1);
	assert_int_equal(store_instance_get(st, "nope", &got),
	    KW_ERR_NOT_FOUND);
}

/* ---- requests ---- */

static int
request_count(const struct request *rq, void *arg)
{
	int *n = arg;

	KW_UNUSED(rq);
	(*n)++;
	return 0;
}

static int
history_cb(const struct history_entry *h, void *arg)
{
	int *n = arg;

	assert_string_equal(h->action, *n == 0 ? "create" : "approve");
	(*n)++;
	return 0;
}

static void
requests_transitions_are_conditional(void **state)
{
	struct person		p, m, prov;
	struct instance		in;
	struct request		rq, got, other;
	struct store		*node2 = second();

	KW_UNUSED(state);
	make_person(&m, NULL);
	make_person(&p, m.id);
	make_person(&prov, NULL);
	make_instance(&in, prov.id);
	make_request(&rq, &in, &p);
	assert_int_equal(store_request_get(st, rq.id, &got), 0);
	assert_int_equal(got.state, RS_PENDING_MANAGER);
	assert_string_equal(got.instance_name, in.name);
	assert_string_equal(got.requester_email, p.email);
	assert_string_equal(got.manager_email, m.email);
	assert_int_equal(got.integration.present, 1);
	assert_string_equal(got.integration.redirect_uris[0], "https://app/cb");
	assert_string_equal(got.scopes[0], "read");
	/* two nodes approve the same stage: exactly one wins */
	got.state = RS_PENDING_PROVISIONER;
	kw_strlcpy(got.manager_approver_id, m.id,
	    sizeof(got.manager_approver_id));
	other = got;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_request_transition(st, &got,
	    RS_PENDING_MANAGER), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_begin(node2), 0);
	assert_int_equal(store_request_transition(node2, &other,
	    RS_PENDING_MANAGER), KW_ERR_CONFLICT);
	store_rollback(node2);
	store_close(node2);
	assert_int_equal(store_request_get(st, rq.id, &got), 0);
	assert_int_equal(got.state, RS_PENDING_PROVISIONER);
	assert_string_equal(got.manager_approver_id, m.id);
	assert_int_equal(store_request_get(st, "req_missing", &got),
	    KW_ERR_NOT_FOUND);
	/* history */
	{
		struct history_entry h = { 0 };
		int n = 0;

		now(h.at);
		kw_strlcpy(h.actor, p.email, sizeof(h.actor));
		kw_strlcpy(h.action, "create", sizeof(h.action));
		assert_int_equal(store_begin(st), 0);
		assert_int_equal(store_history_append(st, rq.id, &h), 0);
		kw_strlcpy(h.action, "approve", sizeof(h.action));
		assert_int_equal(store_history_append(st, rq.id, &h), 0);
		assert_int_equal(store_commit(st), 0);
		assert_int_equal(store_history_each(st, rq.id, history_cb, &n),
		    0);
		assert_int_equal(n, 2);
	}
}

static void
requests_visibility_and_due(void **state)
{
	struct person		p, m, prov, stranger;
	struct instance		in;
	struct request		rq;
	struct request_filter	f;
	int			n;

	KW_UNUSED(state);
	make_person(&m, NULL);
	make_person(&p, m.id);
	make_person(&prov, NULL);
	make_person(&stranger, NULL);
	make_instance(&in, prov.id);
	make_request(&rq, &in, &p);
	memset(&f, 0, sizeof(f));
	f.instance_id = in.id;
	f.viewer.person_id = p.id;		/* requester */
	n = 0;
	assert_int_equal(store_request_each(st, &f, 0, 100, request_count, &n),
	    0);
	assert_int_equal(n, 1);
	f.viewer.person_id = m.id;		/* their manager */
	n = 0;
	assert_int_equal(store_request_each(st, &f, 0, 100, request_count, &n),
	    0);
	assert_int_equal(n, 1);
	f.viewer.person_id = prov.id;		/* the instance's provisioner */
	n = 0;
	assert_int_equal(store_request_each(st, &f, 0, 100, request_count, &n),
	    0);
	assert_int_equal(n, 1);
	f.viewer.person_id = stranger.id;
	n = 0;
	assert_int_equal(store_request_each(st, &f, 0, 100, request_count, &n),
	    0);
	assert_int_equal(n, 0);
	f.viewer.all = 1;
	f.states = 1u << RS_ISSUED;	/* state filter */
	n = 0;
	assert_int_equal(store_request_each(st, &f, 0, 100, request_count, &n),
	    0);
	assert_int_equal(n, 0);
	f.states = 1u << RS_PENDING_MANAGER;
	f.requester_id = p.id;
	n = 0;
	assert_int_equal(store_request_each(st, &f, 0, 100, request_count, &n),
	    0);
	assert_int_equal(n, 1);
	/* expired pending requests are due (expires_at is in 2000) */
	n = 0;
	assert_int_equal(store_request_due(st, "2000-01-02T00:00:00Z",
	    rq.seq - 1, 100, request_count, &n), 0);
	assert_true(n >= 1);
	n = 0;
	assert_int_equal(store_request_due(st, "1999-01-01T00:00:00Z", 0, 100,
	    request_count, &n), 0);
	assert_int_equal(n, 0);
}

/* ---- credentials ---- */

struct find {
	const char	*id;
	int		 found;
};

static int
cred_find(const struct credential *c, void *arg)
{
	struct find *f = arg;

	if (strcmp(c->id, f->id) == 0)
		f->found++;
	return 0;
}

static int
due_has(enum cred_due due, const char *before, const char *id)
{
	struct find f = { id, 0 };

	assert_int_equal(store_credential_due(st, due, before, 0, 100000,
	    cred_find, &f), 0);
	return f.found;
}

static void
credentials_roundtrip_and_due(void **state)
{
	struct person		p, prov;
	struct instance		in;
	struct credential	c, got, legacy;
	struct credential_filter f;
	struct find		fd;

	KW_UNUSED(state);
	make_person(&prov, NULL);
	make_person(&p, prov.id);
	make_instance(&in, prov.id);
	make_credential(&c, &in, &p, "2001-02-01T00:00:00Z", NULL);
	assert_int_equal(store_credential_get(st, c.id, &got), 0);
	assert_string_equal(got.owner_email, p.email);
	/* the owner's current manager, read with it (who may see it) */
	assert_string_equal(got.owner_manager_id, prov.id);
	assert_string_equal(got.instance_name, in.name);
	assert_string_equal(got.external, "{\"id\":42}");
	assert_int_equal(got.sealed_len, 3);
	assert_memory_equal(got.sealed, "\x00\xee\x01", 3);
	assert_string_equal(got.request_id, "");
	assert_string_equal(got.revoked_at, "");
	/* each due query finds it through its own condition */
	assert_true(due_has(DUE_EXPIRING, "2001-02-01T00:00:00Z", c.id));
	assert_false(due_has(DUE_EXPIRING, "2001-01-31T00:00:00Z", c.id));
	assert_true(due_has(DUE_UNDELIVERED, "2000-06-01T00:00:00Z", c.id));
	assert_true(due_has(DUE_ROTATION, "2001-01-01T00:00:00Z", c.id));
	assert_false(due_has(DUE_GRACE_OVER, "2100-01-01T00:00:00Z", c.id));
	assert_false(due_has(DUE_LEGACY, "2100-01-01T00:00:00Z", c.id));
	/* flagged for rotation: no longer due for it */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_warning_add(st, c.id, WARN_ROTATION,
	    c.created_at), 1);
	assert_int_equal(store_warning_add(st, c.id, WARN_ROTATION,
	    c.created_at), 0);
	assert_int_equal(store_commit(st), 0);
	assert_false(due_has(DUE_ROTATION, "2001-01-01T00:00:00Z", c.id));
	/* update every mutable field */
	got.state = CS_REVOKED;
	kw_strlcpy(got.revoked_at, "2001-01-05T00:00:00Z", sizeof(got.revoked_at));
	kw_strlcpy(got.revoke_reason, "gone", sizeof(got.revoke_reason));
	kw_strlcpy(got.grace_until, "2001-01-06T00:00:00Z",
	    sizeof(got.grace_until));
	got.sealed_len = 0;
	got.delivery = DS_DELIVERED;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_update(st, &got), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_credential_get(st, c.id, &got), 0);
	assert_int_equal(got.state, CS_REVOKED);
	assert_string_equal(got.revoke_reason, "gone");
	assert_int_equal(got.sealed_len, 0);
	assert_false(due_has(DUE_EXPIRING, "2100-01-01T00:00:00Z", c.id));
	/* legacy tokens: unique external key per instance */
	make_credential(&legacy, &in, &p, "", "ext-1");
	assert_true(due_has(DUE_LEGACY, "2100-01-01T00:00:00Z", legacy.id));
	assert_int_equal(store_credential_by_key(st, in.id, "ext-1", &got), 0);
	assert_string_equal(got.id, legacy.id);
	assert_int_equal(store_credential_by_key(st, in.id, "ext-2", &got),
	    KW_ERR_NOT_FOUND);
	crypto_random_id("cre_", legacy.id, sizeof(legacy.id));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_insert(st, &legacy), KW_ERR_CONFLICT);
	store_rollback(st);
	/* filters */
	memset(&f, 0, sizeof(f));
	f.viewer.person_id = p.id;
	f.instance_id = in.id;
	f.state = -1;
	f.kind = KIND_LEGACY;
	fd.id = c.id;
	fd.found = 0;
	assert_int_equal(store_credential_each(st, &f, 0, 100, cred_find, &fd),
	    0);
	assert_int_equal(fd.found, 0);		/* c is not legacy */
	f.kind = -1;
	f.state = CS_REVOKED;
	assert_int_equal(store_credential_each(st, &f, 0, 100, cred_find, &fd),
	    0);
	assert_int_equal(fd.found, 1);
	f.viewer.person_id = "per_stranger";		/* not theirs */
	fd.found = 0;
	assert_int_equal(store_credential_each(st, &f, 0, 100, cred_find, &fd),
	    0);
	assert_int_equal(fd.found, 0);
	assert_int_equal(store_credential_get(st, "cre_missing", &got),
	    KW_ERR_NOT_FOUND);
}

static int
bound_count(const struct bound_token *b, void *arg)
{
	int *n = arg;

	assert_string_equal(b->label, "ci");
	(*n)++;
	return 0;
}

static void
bound_tokens_follow_their_credential(void **state)
{
	struct person		 p, prov, owner;
	struct instance		 in;
	struct credential	 c;
	struct bound_token	 b, got;
	int			 n = 0;

	KW_UNUSED(state);
	make_person(&p, NULL);
	make_person(&prov, NULL);
	make_instance(&in, prov.id);
	make_credential(&c, &in, &p, "2100-01-01T00:00:00Z", NULL);
	memset(&b, 0, sizeof(b));
	crypto_random_id("bnd_", b.id, sizeof(b.id));
	kw_strlcpy(b.credential_id, c.id, sizeof(b.credential_id));
	kw_strlcpy(b.label, "ci", sizeof(b.label));
	rand_hash(b.hash);
	now(b.created_at);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_bound_insert(st, &b), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_bound_find(st, b.hash, &got, &owner), 0);
	assert_string_equal(got.credential_id, c.id);
	assert_string_equal(owner.id, p.id);
	assert_int_equal(store_bound_used(st, b.id, b.created_at), 0);
	assert_int_equal(store_bound_each(st, c.id, bound_count, &n), 0);
	assert_int_equal(n, 1);
	/* the credential ends: its bound tokens stop working */
	c.state = CS_REVOKED;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_update(st, &c), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_bound_find(st, b.hash, &got, &owner),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_bound_revoke(st, c.id, b.id, b.created_at), 0);
	assert_int_equal(store_bound_revoke(st, c.id, b.id, b.created_at),
	    KW_ERR_NOT_FOUND);
	assert_int_equal(store_bound_revoke(st, c.id, NULL, b.created_at), 0);
	assert_int_equal(store_commit(st), 0);
}

/* ---- settings, outbox, replays ---- */

static void
settings_roundtrip(void **state)
{
	char		 key[40], value[64];
	unsigned char	 sealed[16];
	size_t		 n;

	KW_UNUSED(state);
	crypto_random_id("set_", key, sizeof(key));
	assert_int_equal(store_setting_get(st, key, value, sizeof(value),
	    sealed, sizeof(sealed), &n), KW_ERR_NOT_FOUND);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_setting_put(st, key, "{\"a\":1}",
	    (const unsigned char *)"\x01\x00\x02", 3, "2001-01-01T00:00:00Z"),
	    0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_setting_get(st, key, value, sizeof(value),
	    sealed, sizeof(sealed), &n), 0);
	assert_string_equal(value, "{\"a\":1}");
	assert_int_equal(n, 3);
	assert_memory_equal(sealed, "\x01\x00\x02", 3);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_setting_put(st, key, "{}", NULL, 0,
	    "2001-01-02T00:00:00Z"), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_setting_get(st, key, value, sizeof(value),
	    sealed, sizeof(sealed), &n), 0);
	assert_string_equal(value, "{}");
	assert_int_equal(n, 0);
}

struct claimed {
	char	ids[8][KW_ID_MAX + 1];
	int	n;
	int	attempts;
};

static int
claim_cb(const struct outbox_msg *m, void *arg)
{
	struct claimed *c = arg;

	if (c->n < 8)
		kw_strlcpy(c->ids[c->n++], m->id, sizeof(c->ids[0]));
	c->attempts = m->attempts;
	assert_string_equal(m->payload, "{\"text\":\"hi\"}");
	return 0;
}

static void
outbox_claims_are_leased(void **state)
{
	struct outbox_msg	 m;
	struct claimed		 a = { .n = 0 }, b = { .n = 0 };
	struct store		*node2 = second();
	int64_t			 before, after;

	KW_UNUSED(state);
	assert_int_equal(store_outbox_pending(st, &before), 0);
	memset(&m, 0, sizeof(m));
	crypto_random_id("out_", m.id, sizeof(m.id));
	kw_strlcpy(m.channel, "slack_dm", sizeof(m.channel));
	kw_strlcpy(m.recipient, "U1", sizeof(m.recipient));
	kw_strlcpy(m.kind, "request.created", sizeof(m.kind));
	m.payload = "{\"text\":\"hi\"}";
	kw_strlcpy(m.created_at, "3000-01-01T00:00:00Z", sizeof(m.created_at));
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_outbox_insert(st, &m), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_outbox_pending(st, &after), 0);
	assert_int_equal(after, before + 1);
	/* not due yet */
	assert_int_equal(store_outbox_claim(st, "2999-12-31T00:00:00Z",
	    "2999-12-31T00:00:00Z", "3000-01-01T00:01:00Z", 10, claim_cb, &a), 0);
	assert_int_equal(a.n, 0);
	/* node 1 claims it; node 2, within the lease, gets nothing */
	assert_int_equal(store_outbox_claim(st, "3000-01-01T00:00:00Z",
	    "3000-01-01T00:00:00Z", "3000-01-01T00:01:00Z", 10, claim_cb, &a), 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.ids[0], m.id);
	assert_int_equal(a.attempts, 1);
	assert_int_equal(store_outbox_claim(node2, "3000-01-01T00:00:30Z",
	    "3000-01-01T00:00:30Z", "3000-01-01T00:01:30Z", 10, claim_cb, &b), 0);
	assert_int_equal(b.n, 0);
	/* a sender running ahead of the clock (jobs run --now) sees it
	 * due, but the lease is real time: still node 1's */
	assert_int_equal(store_outbox_claim(node2, "3000-01-01T02:00:00Z",
	    "3000-01-01T00:00:30Z", "3000-01-01T00:01:30Z", 10, claim_cb, &b),
	    0);
	assert_int_equal(b.n, 0);
	/* the lease ran out: node 2 takes it over */
	assert_int_equal(store_outbox_claim(node2, "3000-01-01T00:01:00Z",
	    "3000-01-01T00:01:00Z", "3000-01-01T00:02:00Z", 10, claim_cb, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.attempts, 2);
	/* retry, then fail for good: never claimed again */
	assert_int_equal(store_outbox_retry(node2, m.id, "3000-01-01T00:05:00Z",
	    "timeout"), 0);
	b.n = 0;
	assert_int_equal(store_outbox_claim(node2, "3000-01-01T00:04:00Z",
	    "3000-01-01T00:04:00Z", "3000-01-01T00:04:30Z", 10, claim_cb, &b), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(store_outbox_fail(node2, m.id, "3000-01-01T00:05:00Z",
	    "bad recipient"), 0);
	assert_int_equal(store_outbox_claim(node2, "3000-02-01T00:00:00Z",
	    "3000-02-01T00:00:00Z", "3000-02-01T00:01:00Z", 10, claim_cb, &b), 0);
	assert_int_equal(b.n, 0);
	assert_int_equal(store_outbox_pending(st, &after), 0);
	assert_int_equal(after, before);
	store_close(node2);
}

static void
replay_check_remembers(void **state)
{
	char sig[40];

	KW_UNUSED(state);
	crypto_random_id("sig_", sig, sizeof(sig));
	assert_int_equal(store_replay_check(st, sig, "2001-01-01T00:00:00Z",
	    "2000-12-31T00:00:00Z"), 1);
	assert_int_equal(store_replay_check(st, sig, "2001-01-01T00:01:00Z",
	    "2000-12-31T00:00:00Z"), 0);
	/* forgotten once older than the window */
	assert_int_equal(store_replay_check(st, sig, "2001-01-03T00:00:00Z",
	    "2001-01-02T00:00:00Z"), 1);
}

/* ---- audit, transactions ---- */

static int
audit_cb(const struct audit_event *ev, void *arg)
{
	struct walk *w = arg;

	assert_int_equal(ev->seq, w->last + 1);
	w->last = ev->seq;
	w->n++;
	return 0;
}

static void
audit_head_insert_each(void **state)
{
	struct audit_event	ev;
	struct walk		w = { 0, 0, 0 };
	int64_t			seq;
	char			hash[65];

	KW_UNUSED(state);
	assert_int_equal(store_audit_head(st, &seq, hash), 0);
	memset(&ev, 0, sizeof(ev));
	ev.seq = seq + 1;
	now(ev.at);
	kw_strlcpy(ev.actor, "system", sizeof(ev.actor));
	kw_strlcpy(ev.action, "test.event", sizeof(ev.action));
	kw_strlcpy(ev.subject, "x", sizeof(ev.subject));
	ev.details = "{\"k\":\"v\"}";
	kw_strlcpy(ev.prev_hash, hash, sizeof(ev.prev_hash));
	memset(ev.hash, 'a', 64);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_audit_insert(st, &ev), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_audit_head(st, &seq, hash), 0);
	assert_int_equal(seq, ev.seq);
	assert_string_equal(hash, ev.hash);
	/* a second event with the same seq is never written */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_audit_insert(st, &ev), KW_ERR_UNAVAILABLE);
	store_rollback(st);
	assert_int_equal(store_audit_each(st, 0, 1000000, audit_cb, &w), 0);
	assert_int_equal(w.last, seq);
}

static void
savepoints_undo_only_their_part(void **state)
{
	struct person p, q, got;

	KW_UNUSED(state);
	memset(&p, 0, sizeof(p));
	crypto_random_id("per_", p.id, sizeof(p.id));
	snprintf(p.email, sizeof(p.email), "%s@example.com", p.id);
	kw_strlcpy(p.name, "Sam", sizeof(p.name));
	p.active = 1;
	now(p.created_at);
	now(p.updated_at);
	q = p;
	crypto_random_id("per_", q.id, sizeof(q.id));
	snprintf(q.email, sizeof(q.email), "%s@example.com", q.id);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_savepoint(st), 0);
	assert_int_equal(store_person_insert(st, &p), 0);
	assert_int_equal(store_release(st), 0);
	assert_int_equal(store_savepoint(st), 0);
	assert_int_equal(store_person_insert(st, &q), 0);
	/* a failed statement inside the part: the part is undone, the
	 * transaction goes on */
	assert_int_equal(store_person_insert(st, &q), KW_ERR_CONFLICT);
	store_rollback_to(st);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_person_get(st, p.id, &got), 0);
	assert_int_equal(store_person_get(st, q.id, &got), KW_ERR_NOT_FOUND);
	/* a rolled back transaction leaves nothing */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_person_insert(st, &q), 0);
	store_rollback(st);
	assert_int_equal(store_person_get(st, q.id, &got), KW_ERR_NOT_FOUND);
	store_rollback(st);		/* outside a transaction: no-op */
}

/* An append that fails inside a part is reported at the latest by the
 * commit, and never committed: either the part says so (the append, or
 * its release) and is undone alone while the transaction goes on, or
 * (a backend that sends a part's appends with a later statement or the
 * COMMIT) the whole transaction fails and keeps nothing. */
static void
a_failed_append_fails_its_part(void **state)
{
	struct audit_event	 ev;
	struct person		 p, got;
	int64_t			 seq, seq2;
	char			 hash[65], hash2[65];
	int			 r, r2, rc;

	KW_UNUSED(state);
	assert_int_equal(store_audit_head(st, &seq, hash), 0);
	memset(&ev, 0, sizeof(ev));
	ev.seq = seq;		/* taken already (or 0: never a seq) */
	now(ev.at);
	kw_strlcpy(ev.actor, "system", sizeof(ev.actor));
	kw_strlcpy(ev.action, "test.dup", sizeof(ev.action));
	kw_strlcpy(ev.subject, "x", sizeof(ev.subject));
	ev.details = "{}";
	kw_strlcpy(ev.prev_hash, hash, sizeof(ev.prev_hash));
	memset(ev.hash, 'b', 64);
	memset(&p, 0, sizeof(p));
	crypto_random_id("per_", p.id, sizeof(p.id));
	snprintf(p.email, sizeof(p.email), "%s@example.com", p.id);
	kw_strlcpy(p.name, "Pat", sizeof(p.name));
	p.active = 1;
	now(p.created_at);
	now(p.updated_at);
	if (seq == 0) {		/* an empty log: make the seq taken */
		ev.seq = 1;
		assert_int_equal(store_begin(st), 0);
		assert_int_equal(store_audit_insert(st, &ev), 0);
		assert_int_equal(store_commit(st), 0);
		seq = 1;
		kw_strlcpy(hash, ev.hash, sizeof(hash));
	}
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_savepoint(st), 0);
	r = store_audit_insert(st, &ev);
	if (r == 0)
		r = store_release(st);
	if (r != 0) {
		assert_int_equal(r, KW_ERR_UNAVAILABLE);
		store_rollback_to(st);
	}
	/* the next part */
	assert_int_equal(store_savepoint(st), 0);
	if ((r2 = store_person_insert(st, &p)) == 0)
		r2 = store_release(st);
	else
		store_rollback_to(st);
	rc = store_commit(st);
	if (r != 0) {		/* the part alone was undone */
		assert_int_equal(r2, 0);
		assert_int_equal(rc, 0);
		assert_int_equal(store_person_get(st, p.id, &got), 0);
	} else {		/* told by the commit: nothing kept */
		assert_int_equal(rc, KW_ERR_UNAVAILABLE);
		assert_int_equal(store_person_get(st, p.id, &got),
		    KW_ERR_NOT_FOUND);
	}
	assert_int_equal(store_audit_head(st, &seq2, hash2), 0);
	assert_int_equal(seq2, seq);
	assert_string_equal(hash2, hash);
}

static void
stats_count_rows(void **state)
{
	struct store_stats	a, b;
	struct person		p, prov;
	struct instance		in;
	struct request		rq;
	struct credential	c;

	KW_UNUSED(state);
	assert_int_equal(store_stats(st, &a), 0);
	make_person(&p, NULL);
	make_person(&prov, NULL);
	make_instance(&in, prov.id);
	make_request(&rq, &in, &p);
	assert_int_equal(store_stats(st, &b), 0);
	assert_int_equal(b.requests[RS_PENDING_MANAGER],
	    a.requests[RS_PENDING_MANAGER] + 1);
	assert_true(b.audit_head_seq >= a.audit_head_seq);
	/* API tokens by delivery mode */
	make_credential(&c, &in, &p, "2090-01-01T00:00:00Z", NULL);
	assert_int_equal(store_stats(st, &b), 0);
	assert_int_equal(b.api_tokens_by_mode[CS_ACTIVE][DM_TOKEN],
	    a.api_tokens_by_mode[CS_ACTIVE][DM_TOKEN] + 1);
	c.delivery_mode = DM_BROKER;
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_credential_update(st, &c), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_stats(st, &b), 0);
	assert_int_equal(b.api_tokens_by_mode[CS_ACTIVE][DM_TOKEN],
	    a.api_tokens_by_mode[CS_ACTIVE][DM_TOKEN]);
	assert_int_equal(b.api_tokens_by_mode[CS_ACTIVE][DM_BROKER],
	    a.api_tokens_by_mode[CS_ACTIVE][DM_BROKER] + 1);
}

/*
 * Every operation of both backends is set, but the documented optional
 * ones: the table is a name followed by function pointers only, so it is
 * walked as an array of them (POSIX: function pointers are the size of
 * data pointers).  A new operation left NULL in one backend fails here
 * rather than as a NULL call in production.
 */
typedef void (*op_fn)(void);
_Static_assert(sizeof(struct store_ops) % sizeof(op_fn) == 0 &&
    offsetof(struct store_ops, open) == sizeof(op_fn),
    "struct store_ops: a name, then function pointers only");

static int
op_optional(const struct store_ops *ops, size_t off)
{
	static const size_t both[] = {
		offsetof(struct store_ops, open_sibling),
		offsetof(struct store_ops, audit_scan),
	};
	size_t i;

	for (i = 0; i < KW_NELEM(both); i++)
		if (off == both[i])
			return 1;
	/* a SQLite store is a file (replace) and never a copy target; a
	 * PostgreSQL store is never a copy source */
	if (ops == &store_sqlite_ops)
		return off == offsetof(struct store_ops, watch) ||
		    off == offsetof(struct store_ops, row_insert) ||
		    off == offsetof(struct store_ops, row_late) ||
		    off == offsetof(struct store_ops, copy_done);
	return off == offsetof(struct store_ops, replace) ||
	    off == offsetof(struct store_ops, rows_each);
}

static void
every_operation_is_set(void **state)
{
	const struct store_ops	*all[] = { &store_sqlite_ops,
	    &store_postgres_ops };
	op_fn			 f;
	size_t			 i, off;

	KW_UNUSED(state);
	for (i = 0; i < KW_NELEM(all); i++) {
		assert_non_null(all[i]->name);
		for (off = sizeof(op_fn); off < sizeof(struct store_ops);
		    off += sizeof(op_fn)) {
			memcpy(&f, (const char *)all[i] + off, sizeof(f));
			if (f == NULL && !op_optional(all[i], off))
				fail_msg("%s: the operation at offset %zu of "
				    "struct store_ops is NULL", all[i]->name,
				    off);
		}
	}
}

/* store_watch: a change to what authenticates a caller, committed on
 * another connection, is told to the watcher; other writes are not. */
static void
watch_tells_auth_changes(void **state)
{
	struct store	*w;
	struct person	 p;
	int		 i, r;

	KW_UNUSED(state);
	if (url == NULL) {	/* one node: nothing to watch */
		assert_int_equal(store_watch(st, 0), KW_ERR_UNAVAILABLE);
		return;
	}
	w = second();
	assert_int_equal(store_watch(w, 10), 1);	/* first: unknown */
	memset(&p, 0, sizeof(p));
	crypto_random_id("per_", p.id, sizeof(p.id));
	snprintf(p.email, sizeof(p.email), "%s@example.com", p.id);
	kw_strlcpy(p.name, "Wat", sizeof(p.name));
	p.active = 1;
	now(p.created_at);
	now(p.updated_at);
	assert_int_equal(store_person_insert(st, &p), 0);
	/* a new person authenticates nobody yet: quiet (a few waits, in
	 * case an earlier test's notification is still on its way) */
	for (i = 0; i < 5 && (r = store_watch(w, 20)) == 1; i++)
		;
	assert_int_equal(r, 0);
	/* rolled back: never told */
	assert_int_equal(store_begin(st), 0);
	p.active = 0;
	assert_int_equal(store_person_update(st, &p), 0);
	store_rollback(st);
	assert_int_equal(store_watch(w, 50), 0);
	/* committed in a group's part: told */
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_savepoint(st), 0);
	assert_int_equal(store_person_update(st, &p), 0);
	assert_int_equal(store_release(st), 0);
	assert_int_equal(store_commit(st), 0);
	for (i = 0; i < 50 && (r = store_watch(w, 100)) == 0; i++)
		;
	assert_int_equal(r, 1);
	/* outside a transaction too */
	assert_int_equal(store_person_update(st, &p), 0);
	for (i = 0; i < 50 && (r = store_watch(w, 100)) == 0; i++)
		;
	assert_int_equal(r, 1);
	store_close(w);
}

static void
open_flags(void **state)
{
	struct store	*o = NULL;
	int		 i;

	KW_UNUSED(state);
	assert_true(store_schema_version(st) > 0);
	/* init's STORE_NEW: an initialised store is refused */
	assert_int_equal(store_open_url(url, dir, STORE_CREATE |
	    STORE_MIGRATE | STORE_NEW, &o), KW_ERR_EXISTS);
	assert_null(o);
	assert_int_equal(store_open_url("mysql://x", dir, 0, &o),
	    KW_ERR_CONFIG);
	assert_int_equal(store_check(st, (char[256]){ 0 }, 256), 0);
	/* the jobs lock: one connection holds it at a time */
	o = second();
	assert_int_equal(store_lock_jobs(st), 1);
	assert_int_equal(store_lock_jobs(st), 1);	/* kept */
	if (url != NULL) {
		assert_int_equal(store_lock_jobs(o), 0);
		store_unlock_jobs(st);
		assert_int_equal(store_lock_jobs(o), 1);
		store_close(o);		/* a node that ends gives it up */
		for (i = 0; i < 100 && store_lock_jobs(st) != 1; i++)
			usleep(20000);	/* its server process ends a bit later */
		assert_int_equal(store_lock_jobs(st), 1);
	} else
		store_close(o);
	store_unlock_jobs(st);
	/* claims: one connection at a time per key, other keys free */
	o = second();
	assert_int_equal(store_claim(st, "cre_a"), 1);
	if (url != NULL) {
		assert_int_equal(store_claim(o, "cre_a"), 0);
		assert_int_equal(store_claim(o, "cre_b"), 1);
		store_unclaim(st, "cre_a");
		assert_int_equal(store_claim(o, "cre_a"), 1);
		store_unclaim(o, "cre_a");
		store_unclaim(o, "cre_b");
	} else
		store_unclaim(st, "cre_a");
	store_close(o);
}

static void
url_redaction(void **state)
{
	char out[256];

	KW_UNUSED(state);
	store_url_redact("postgresql://kw:s3cret@db:5432/kw", out, sizeof(out));
	assert_string_equal(out, "postgresql://kw:***@db:5432/kw");
	store_url_redact("postgresql://db/kw?password=s3cret&x=1", out,
	    sizeof(out));
	assert_null(strstr(out, "s3cret"));
	store_url_redact("sqlite", out, sizeof(out));
	assert_string_equal(out, "sqlite");
	assert_true(store_url_is_shared("postgresql://db/kw"));
	assert_false(store_url_is_shared("sqlite"));
	assert_false(store_url_valid("mysql://db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(people_roundtrip),
		cmocka_unit_test(people_duplicate_email_conflicts),
		cmocka_unit_test(people_update_and_slack),
		cmocka_unit_test(people_each_pages_in_seq_order),
		cmocka_unit_test(tokens_find_revoke),
		cmocka_unit_test(tokens_label_expiry_and_use),
		cmocka_unit_test(sessions_find_touch_end_purge),
		cmocka_unit_test(people_scim_columns_and_pages),
		cmocka_unit_test(scim_tokens_roundtrip),
		cmocka_unit_test(instances_roundtrip),
		cmocka_unit_test(requests_transitions_are_conditional),
		cmocka_unit_test(requests_visibility_and_due),
		cmocka_unit_test(credentials_roundtrip_and_due),
		cmocka_unit_test(bound_tokens_follow_their_credential),
		cmocka_unit_test(settings_roundtrip),
		cmocka_unit_test(outbox_claims_are_leased),
		cmocka_unit_test(replay_check_remembers),
		cmocka_unit_test(audit_head_insert_each),
		cmocka_unit_test(savepoints_undo_only_their_part),
		cmocka_unit_test(a_failed_append_fails_its_part),
		cmocka_unit_test(stats_count_rows),
		cmocka_unit_test(watch_tells_auth_changes),
		cmocka_unit_test(open_flags),
		cmocka_unit_test(url_redaction),
		cmocka_unit_test(every_operation_is_set),
	};

	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name(getenv("KW_TEST_STORE_URL") &&
	    getenv("KW_TEST_STORE_URL")[0] ? "store (postgresql)" :
	    "store (sqlite)", tests, setup, teardown);
}
