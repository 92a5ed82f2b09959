/*
 * test_visibility.c — the one visibility rule in its two forms agree.
 * policy_may_see_request()/_credential() decide for one record; the
 * store's list queries apply the same rule to a struct store_viewer that
 * policy_viewer() fills.  A store with people in varied relations
 * (requesters, managers, managers changed after filing, provisioners of
 * one instance or several, admins, auditors, people related to nothing)
 * and requests and credentials spread over them: for every viewer, the
 * lists must hold exactly what the function says that viewer may see.
 *
 * Like the store conformance suite (test_store.c) it runs against the
 * backend KW_TEST_STORE_URL names (unset: SQLite in a new directory).  A
 * database shared with earlier runs holds rows of theirs: those are
 * ignored there (never on a new SQLite store, where any row not made
 * here is a failure); every row made here is checked on each.
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
#include "crypto/crypto.h"
#include "policy/visibility.h"
#include "store/store.h"
#include "util/util.h"

#define NPEOPLE		14
#define NINSTANCES	4
#define NREQUESTS	90
#define NCREDS		90
#define PAGE		7	/* small: the lists are walked page by page */

struct world {
	const char	*url;		/* NULL: SQLite in dir */
	char		 dir[64];
	char		 tag[32];	/* this run's, in unique names */
	struct store	*st;
	struct person	 people[NPEOPLE];
	struct instance	*inst[NINSTANCES];
	char		 req_ids[NREQUESTS][KW_ID_MAX + 1];
	char		 cred_ids[NCREDS][KW_ID_MAX + 1];
};

static uint32_t seed = 12345;

/* A fixed pseudo-random sequence: the same world every run. */
static uint32_t
rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

static void
stamp(char *at, size_t atsz)
{
	kw_time_fmt(kw_now(), at, atsz);
}

static void
person_add(struct world *w, int i)
{
	struct person *p = &w->people[i];

	memset(p, 0, sizeof(*p));
	crypto_random_id("per_", p->id, sizeof(p->id));
	snprintf(p->email, sizeof(p->email), "p%d-%s@example.com", i, w->tag);
	snprintf(p->name, sizeof(p->name), "Person %d", i);
	/* 0 is an admin, 1 an auditor, 2 both; the rest have no role */
	p->roles = i == 0 ? ROLE_ADMIN : i == 1 ? ROLE_AUDITOR :
	    i == 2 ? ROLE_ADMIN | ROLE_AUDITOR : 0;
	/* managers come before their reports: 3..5 manage, some have none */
	if (i >= 6 && i % 5 != 0)
		kw_strlcpy(p->manager_id, w->people[3 + (i % 3)].id,
		    sizeof(p->manager_id));
	if (i == 4)		/* a manager with a manager */
		kw_strlcpy(p->manager_id, w->people[3].id,
		    sizeof(p->manager_id));
	p->active = i != 13;	/* an offboarded person still owns things */
	stamp(p->created_at, sizeof(p->created_at));
	kw_strlcpy(p->updated_at, p->created_at, sizeof(p->updated_at));
	assert_int_equal(store_person_insert(w->st, p), 0);
}

static void
instance_add(struct world *w, int i)
{
	/* provisioners: none; one; three (one a manager, one a requester);
	 * two that also provision instance 1 */
	static const int provs[NINSTANCES][4] = {
		{ -1 }, { 7, -1 }, { 3, 8, 9, -1 }, { 7, 10, -1 },
	};
	struct instance	*in;
	int		 k;

	assert_non_null(in = calloc(1, sizeof(*in)));
	crypto_random_id("ins_", in->id, sizeof(in->id));
	snprintf(in->name, sizeof(in->name), "inst%d-%s", i, w->tag);
	snprintf(in->display_name, sizeof(in->display_name), "Instance %d", i);
	kw_strlcpy(in->provider, "zendesk", sizeof(in->provider));
	snprintf(in->url, sizeof(in->url), "https://inst%d.example.com", i);
	in->issuance = ISSUANCE_MANUAL;
	in->max_lifetime_days = 90;
	in->rotation_days = 60;
	in->grace_days = 7;
	for (k = 0; provs[i][k] >= 0; k++) {
		kw_strlcpy(in->provisioners[k].id, w->people[provs[i][k]].id,
		    sizeof(in->provisioners[k].id));
		in->nprovisioners++;
	}
	stamp(in->created_at, sizeof(in->created_at));
	kw_strlcpy(in->updated_at, in->created_at, sizeof(in->updated_at));
	assert_int_equal(store_instance_insert(w->st, in), 0);
	w->inst[i] = in;
}

static void
request_add(struct world *w, int i)
{
	struct request *r;

	assert_non_null(r = calloc(1, sizeof(*r)));
	crypto_random_id("req_", r->id, sizeof(r->id));
	kw_strlcpy(r->instance_id, w->inst[rnd(NINSTANCES)]->id,
	    sizeof(r->instance_id));
	r->kind = KIND_API_TOKEN;
	r->state = (enum req_state)rnd(RS__COUNT);
	kw_strlcpy(r->purpose, "request", sizeof(r->purpose));
	/* people 0..2 (roles) ask too, and so do managers */
	kw_strlcpy(r->requester_id, w->people[rnd(NPEOPLE)].id,
	    sizeof(r->requester_id));
	kw_strlcpy(r->justification, "why", sizeof(r->justification));
	kw_strlcpy(r->use_case, "what", sizeof(r->use_case));
	r->nscopes = 1;
	kw_strlcpy(r->scopes[0], "read", sizeof(r->scopes[0]));
	r->lifetime_days = 30;
	kw_strlcpy(r->link, "https://example.com/x", sizeof(r->link));
	stamp(r->created_at, sizeof(r->created_at));
	kw_strlcpy(r->updated_at, r->created_at, sizeof(r->updated_at));
	kw_strlcpy(r->expires_at, r->created_at, sizeof(r->expires_at));
	assert_int_equal(store_request_insert(w->st, r), 0);
	kw_strlcpy(w->req_ids[i], r->id, sizeof(w->req_ids[i]));
	free(r);
}

static void
credential_add(struct world *w, int i)
{
	struct credential *c;

	assert_non_null(c = calloc(1, sizeof(*c)));
	crypto_random_id("cred_", c->id, sizeof(c->id));
	kw_strlcpy(c->instance_id, w->inst[rnd(NINSTANCES)]->id,
	    sizeof(c->instance_id));
	c->kind = (enum cred_kind)rnd(3);
	kw_strlcpy(c->owner_id, w->people[rnd(NPEOPLE)].id,
	    sizeof(c->owner_id));
	kw_strlcpy(c->purpose, "request", sizeof(c->purpose));
	kw_strlcpy(c->name, "a credential", sizeof(c->name));
	c->nscopes = 1;
	kw_strlcpy(c->scopes[0], "read", sizeof(c->scopes[0]));
	c->state = (enum cred_state)rnd(CS__COUNT);
	c->lifetime_days = 30;
	stamp(c->created_at, sizeof(c->created_at));
	kw_strlcpy(c->external, "{}", sizeof(c->external));
	assert_int_equal(store_credential_insert(w->st, c), 0);
	kw_strlcpy(w->cred_ids[i], c->id, sizeof(w->cred_ids[i]));
	free(c);
}

static int
world_setup(void **state)
{
	struct world	*w;
	int		 i;

	assert_non_null(w = calloc(1, sizeof(*w)));
	w->url = getenv("KW_TEST_STORE_URL");
	if (w->url != NULL && w->url[0] == '\0')
		w->url = NULL;
	snprintf(w->dir, sizeof(w->dir), "/tmp/kw-visibility-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	crypto_random_id("", w->tag, sizeof(w->tag));
	assert_int_equal(store_open_url(w->url, w->dir, STORE_CREATE |
	    STORE_MIGRATE, &w->st), 0);
	assert_int_equal(store_begin(w->st), 0);
	for (i = 0; i < NPEOPLE; i++)
		person_add(w, i);
	for (i = 0; i < NINSTANCES; i++)
		instance_add(w, i);
	for (i = 0; i < NREQUESTS; i++)
		request_add(w, i);
	for (i = 0; i < NCREDS; i++)
		credential_add(w, i);
	/* managers change after filing: what counts is the manager now */
	kw_strlcpy(w->people[6].manager_id, w->people[5].id,
	    sizeof(w->people[6].manager_id));
	w->people[11].manager_id[0] = '\0';
	assert_int_equal(store_person_update(w->st, &w->people[6]), 0);
	assert_int_equal(store_person_update(w->st, &w->people[11]), 0);
	assert_int_equal(store_commit(w->st), 0);
	*state = w;
	return 0;
}

static int
world_teardown(void **state)
{
	struct world	*w = *state;
	char		 cmd[128];
	int		 i;

	store_close(w->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", w->dir);
	for (i = 0; i < NINSTANCES; i++)
		free(w->inst[i]);
	free(w);
	return 0;
}

static const struct instance *
instance_of(const struct world *w, const char *id)
{
	int i;

	for (i = 0; i < NINSTANCES; i++)
		if (strcmp(w->inst[i]->id, id) == 0)
			return w->inst[i];
	fail_msg("no instance %s", id);
	return NULL;
}

/* The ids a list returned, as a bit per record of the world. */
struct seen {
	const struct world	*w;
	int			 creds;		/* 0: requests */
	unsigned char		 bits[NREQUESTS > NCREDS ? NREQUESTS : NCREDS];
	int64_t			 last;
	size_t			 n, foreign;
};

static void
seen_mark(struct seen *s, const char *id)
{
	int i, n = s->creds ? NCREDS : NREQUESTS;

	for (i = 0; i < n; i++)
		if (strcmp(s->creds ? s->w->cred_ids[i] : s->w->req_ids[i],
		    id) == 0) {
			if (s->bits[i])
				fail_msg("%s listed twice", id);
			s->bits[i] = 1;
			return;
		}
	if (s->w->url == NULL)
		fail_msg("%s listed but never made", id);
	s->foreign++;			/* an earlier run's, in a shared database */
}

static int
seen_request(const struct request *r, void *arg)
{
	struct seen *s = arg;

	seen_mark(s, r->id);
	s->last = r->seq;
	s->n++;
	return 0;
}

static int
seen_credential(const struct credential *c, void *arg)
{
	struct seen *s = arg;

	seen_mark(s, c->id);
	s->last = c->seq;
	s->n++;
	return 0;
}

/* The viewers: every person, a person nobody knows, nobody at all, and
 * keywarden's jobs. */
#define NVIEWERS	(NPEOPLE + 3)

static void
viewer_for(const struct world *w, int i, struct person *me,
    struct store_viewer *v)
{
	memset(me, 0, sizeof(*me));
	if (i < NPEOPLE) {
		*me = w->people[i];
		policy_viewer(me, v);
	} else if (i == NPEOPLE) {
		kw_strlcpy(me->id, "per_stranger", sizeof(me->id));
		policy_viewer(me, v);
	} else if (i == NPEOPLE + 1)
		policy_viewer(NULL, v);		/* sees nothing */
	else
		policy_viewer_system(v);
}

static void
lists_match_the_rule(const struct world *w, const char *instance_id,
    unsigned states, int *nonempty, int *partial)
{
	struct request_filter	 rf;
	struct request		*r;
	struct store_viewer	 v;
	struct person		 me;
	struct seen		*s;
	int			 i, k, want, expect_n;
	int64_t			 after;

	assert_non_null(r = malloc(sizeof(*r)));
	assert_non_null(s = malloc(sizeof(*s)));
	for (i = 0; i < NVIEWERS; i++) {
		viewer_for(w, i, &me, &v);
		memset(s, 0, sizeof(*s));
		s->w = w;
		memset(&rf, 0, sizeof(rf));
		rf.viewer = v;
		rf.instance_id = instance_id;
		rf.states = states;
		do {		/* page by page, as the API lists */
			after = s->last;
			assert_int_equal(store_request_each(w->st, &rf, after,
			    PAGE, seen_request, s), 0);
		} while (s->last != after);
		for (k = 0, expect_n = 0; k < NREQUESTS; k++) {
			assert_int_equal(store_request_get(w->st,
			    w->req_ids[k], r), 0);
			want = policy_may_see_request(&v, r,
			    instance_of(w, r->instance_id)) &&
			    (instance_id == NULL ||
			    strcmp(r->instance_id, instance_id) == 0) &&
			    (states == 0 || (states >> r->state & 1u) != 0);
			if (want != s->bits[k])
				fail_msg("viewer %d (%s), request %d: policy "
				    "says %s, the list %s", i, me.email, k,
				    want ? "visible" : "hidden",
				    s->bits[k] ? "has it" : "lacks it");
			expect_n += want;
		}
		assert_int_equal(s->n - s->foreign, (size_t)expect_n);
		*nonempty += expect_n > 0;
		*partial += expect_n > 0 && expect_n < NREQUESTS;
	}
	free(s);
	free(r);
}

static void
request_lists_agree(void **state)
{
	const struct world	*w = *state;
	int			 nonempty = 0, partial = 0;

	lists_match_the_rule(w, NULL, 0, &nonempty, &partial);
	/* not a vacuous world: most viewers see something, not everything */
	assert_true(nonempty >= NPEOPLE - 2);
	assert_true(partial >= NPEOPLE - 5);
	/* the rule holds with the list's own filters too */
	lists_match_the_rule(w, w->inst[2]->id, 0, &nonempty, &partial);
	lists_match_the_rule(w, NULL, 1u << RS_PENDING_MANAGER |
	    1u << RS_ISSUED, &nonempty, &partial);
}

static void
credential_lists_agree(void **state)
{
	const struct world	*w = *state;
	struct credential_filter cf;
	struct credential	*c;
	struct store_viewer	 v;
	struct person		 me;
	struct seen		*s;
	int			 i, k, want, expect_n, pass, partial = 0;
	int64_t			 after;

	assert_non_null(c = malloc(sizeof(*c)));
	assert_non_null(s = malloc(sizeof(*s)));
	for (pass = 0; pass < 2; pass++)
	for (i = 0; i < NVIEWERS; i++) {
		viewer_for(w, i, &me, &v);
		memset(s, 0, sizeof(*s));
		s->w = w;
		s->creds = 1;
		memset(&cf, 0, sizeof(cf));
		cf.viewer = v;
		cf.state = pass == 0 ? -1 : CS_ACTIVE;
		cf.kind = -1;
		do {
			after = s->last;
			assert_int_equal(store_credential_each(w->st, &cf,
			    after, PAGE, seen_credential, s), 0);
		} while (s->last != after);
		for (k = 0, expect_n = 0; k < NCREDS; k++) {
			assert_int_equal(store_credential_get(w->st,
			    w->cred_ids[k], c), 0);
			want = policy_may_see_credential(&v, c,
			    instance_of(w, c->instance_id)) &&
			    (cf.state < 0 || (int)c->state == cf.state);
			if (want != s->bits[k])
				fail_msg("viewer %d (%s), credential %d: policy "
				    "says %s, the list %s", i, me.email, k,
				    want ? "visible" : "hidden",
				    s->bits[k] ? "has it" : "lacks it");
			expect_n += want;
		}
		assert_int_equal(s->n - s->foreign, (size_t)expect_n);
		partial += expect_n > 0 && expect_n < NCREDS;
	}
	assert_true(partial >= NPEOPLE - 5);
	free(s);
	free(c);
}

/* The relations one by one, on one record: the rule itself. */
static void
the_rule_by_relation(void **state)
{
	const struct world	*w = *state;
	struct store_viewer	 v;
	struct request		*r;
	const struct instance	*in;
	struct person		 me;

	(void)state;
	assert_non_null(r = calloc(1, sizeof(*r)));
	/* person 9 asks on instance 1 (provisioner 7); their manager was
	 * person 3 (9 % 3 == 0) */
	kw_strlcpy(r->requester_id, w->people[9].id, sizeof(r->requester_id));
	kw_strlcpy(r->manager_id, w->people[3].id, sizeof(r->manager_id));
	in = w->inst[1];
	policy_viewer(&w->people[9], &v);
	assert_true(policy_may_see_request(&v, r, in));		/* asked */
	policy_viewer(&w->people[3], &v);
	assert_true(policy_may_see_request(&v, r, in));		/* manager */
	policy_viewer(&w->people[7], &v);
	assert_true(policy_may_see_request(&v, r, in));		/* provisions */
	policy_viewer(&w->people[8], &v);	/* provisions another one */
	assert_false(policy_may_see_request(&v, r, in));
	policy_viewer(&w->people[4], &v);	/* the manager's manager */
	assert_false(policy_may_see_request(&v, r, in));
	policy_viewer(&w->people[1], &v);	/* auditor */
	assert_true(policy_may_see_request(&v, r, in));
	policy_viewer(&w->people[0], &v);	/* admin */
	assert_true(policy_may_see_request(&v, r, in));
	policy_viewer(NULL, &v);
	assert_false(policy_may_see_request(&v, r, in));
	/* an empty id is nobody: a viewer without one never matches a
	 * request without a manager */
	r->manager_id[0] = '\0';
	memset(&me, 0, sizeof(me));
	policy_viewer(&me, &v);
	assert_false(policy_may_see_request(&v, r, in));
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_lists_agree),
		cmocka_unit_test(credential_lists_agree),
		cmocka_unit_test(the_rule_by_relation),
	};

	return cmocka_run_group_tests_name("visibility", tests, world_setup,
	    world_teardown);
}
