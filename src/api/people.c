/*
 * people.c — /v1/people: the directory of people, their roles, teams and
 * managers, their personal tokens, and offboarding.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "api/api.h"
#include "api/offboard.h"
#include "api/valid.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "util/util.h"

#define MANAGER_CHAIN_MAX	64	/* longest manager chain walked */

static const char *const person_fields[] = {
	"email", "name", "manager", "roles", "teams", "slack_user_id",
	"active", NULL
};
static const char *const role_names[] = { "admin", "auditor", NULL };
static const unsigned role_bits[] = { ROLE_ADMIN, ROLE_AUDITOR };

static int
valid_role(const char *s)
{
	size_t i;

	for (i = 0; role_names[i] != NULL; i++)
		if (strcmp(s, role_names[i]) == 0)
			return 1;
	return 0;
}

static int
valid_team(const char *s)
{
	return kw_valid_slug(s, KW_TEAM_MAX);
}

/* Slack member ids: U or W followed by upper-case letters and digits. */
static int
valid_slack_id(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > KW_SLACK_ID_MAX || (s[0] != 'U' && s[0] != 'W'))
		return 0;
	for (i = 1; i < n; i++)
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
api_manager_loop(struct store *st, const char *p_id, const char *mgr_id)
{
	struct person	m;
	char		cur[KW_ID_MAX + 1];
	int		i;

	kw_strlcpy(cur, mgr_id, sizeof(cur));
	for (i = 0; i < MANAGER_CHAIN_MAX && cur[0] != '\0'; i++) {
		if (strcmp(cur, p_id) == 0)
			return 1;
		if (store_person_get(st, cur, &m) != 0)
			return 0;
		kw_strlcpy(cur, m.manager_id, sizeof(cur));
	}
	return cur[0] != '\0';	/* absurdly deep: refuse */
}

/*
 * Apply the fields of body b to p (everything checked at the boundary);
 * the names of the fields given are appended to changed.
 */
static int
person_apply(struct http_req *rq, struct store *st, json_t *b,
    struct person *p, json_t *changed)
{
	char	 roles[KW_ROLES_MAX][16], mgr[KW_EMAIL_MAX + 1];
	size_t	 nroles = 0, i, j;
	int	 creating = p->id[0] == '\0', here, r;
	struct person m;

	if ((r = jv_known(rq, b, person_fields)) != 0 ||
	    (r = jv_str(rq, b, "email", JV_NONEMPTY |
	    (creating ? JV_REQUIRED : 0), KW_EMAIL_MAX, p->email, sizeof(p->email), &here)) != 0)
		return r;
	if (here && !kw_valid_email(p->email))
		return http_fail(rq, KW_ERR_VALIDATION, "email",
		    "'email' is not a valid email address");
	if (here)
		json_array_append_new(changed, json_string("email"));
	if ((r = jv_str(rq, b, "name", JV_NONEMPTY |
	    (creating ? JV_REQUIRED : 0), KW_NAME_MAX, p->name,
	    sizeof(p->name), &here)) != 0)
		return r;
	if (here)
		json_array_append_new(changed, json_string("name"));
	if ((r = jv_str(rq, b, "manager", JV_NULLABLE, KW_EMAIL_MAX, mgr,
	    sizeof(mgr), &here)) != 0)
		return r;
	if (here) {
		json_array_append_new(changed, json_string("manager"));
		p->manager_id[0] = p->manager_email[0] = '\0';
	}
	if (here && mgr[0] != '\0') {
		if ((r = store_person_get(st, mgr, &m)) == KW_ERR_NOT_FOUND)
			return http_fail(rq, KW_ERR_VALIDATION, "manager",
			    "'manager': no person '%.200s'; add the manager "
			    "first", mgr);
		if (r != 0)
			return api_store_fail(rq, r, "person", mgr);
		if (!creating && api_manager_loop(st, p->id, m.id))
			return http_fail(rq, KW_ERR_VALIDATION, "manager",
			    "'manager': %.200s would end up managing "
			    "themselves", p->email);
		kw_strlcpy(p->manager_id, m.id, sizeof(p->manager_id));
		kw_strlcpy(p->manager_email, m.email, sizeof(p->manager_email));
	}
	if ((r = jv_strs(rq, b, "roles", 0, KW_ROLES_MAX, &roles[0][0],
	    sizeof(roles[0]), &nroles, valid_role, "role (admin, auditor)",
	    &here)) != 0)
		return r;
	if (here) {
		json_array_append_new(changed, json_string("roles"));
		p->roles = 0;
		for (i = 0; i < nroles; i++)
			for (j = 0; role_names[j] != NULL; j++)
				if (strcmp(roles[i], role_names[j]) == 0)
					p->roles |= role_bits[j];
	}
	if ((r = jv_strs(rq, b, "teams", 0, KW_TEAMS_MAX, &p->teams[0][0],
	    sizeof(p->teams[0]), &p->nteams, valid_team,
	    "team name (lower-case letters, digits, - and _)", &here)) != 0)
		return r;
	if (here)
		json_array_append_new(changed, json_string("teams"));
	if ((r = jv_str(rq, b, "slack_user_id", JV_NULLABLE, KW_SLACK_ID_MAX,
	    p->slack_user_id, sizeof(p->slack_user_id), &here)) != 0)
		return r;
	if (here && p->slack_user_id[0] != '\0' &&
	    !valid_slack_id(p->slack_user_id))
		return http_fail(rq, KW_ERR_VALIDATION, "slack_user_id",
		    "'slack_user_id' must look like U0123ABCD");
	if (here)
		json_array_append_new(changed, json_string("slack_user_id"));
	if ((r = jv_bool(rq, b, "active", 0, &p->active, &here)) != 0)
		return r;
	if (here)
		json_array_append_new(changed, json_string("active"));
	return 0;
}

int
api_people_create(struct http_req *rq, struct http_resp *rs)
{
	struct person	 p;
	struct store	*st;
	json_t		*changed = json_array();
	char		 now[KW_TIME_LEN + 1];
	int		 r;

	memset(&p, 0, sizeof(p));
	p.active = 1;
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = person_apply(rq, st, rq->body, &p, changed)) != 0)
		goto out;
	crypto_random_id("per_", p.id, sizeof(p.id));
	kw_time_fmt(kw_now(), now, sizeof(now));
	kw_strlcpy(p.created_at, now, sizeof(p.created_at));
	kw_strlcpy(p.updated_at, now, sizeof(p.updated_at));
	if ((r = store_person_insert(st, &p)) != 0) {
		r = api_store_fail(rq, r, "person with email", p.email);
		goto out;
	}
	r = api_audit(rq, st, "person.create", p.email, json_pack(
	    "{s:s, s:o}", "id", p.id, "fields", json_incref(changed)));
 out:
	r = api_tx_end(rq, &st, r);
 done:
	json_decref(changed);
	if (r == 0) {
		rs->status = 201;
		rs->body = api_person_json(&p);
	}
	return r;
}

struct list_ctx {
	json_t	*items;
	int64_t	 last;
};

static int
list_person(const struct person *p, void *arg)
{
	struct list_ctx *l = arg;

	json_array_append_new(l->items, api_person_json(p));
	l->last = p->seq;
	return 0;
}

int
api_people_list(struct http_req *rq, struct http_resp *rs)
{
	struct list_ctx	 l = { NULL, 0 };
	struct store	*st;
	long long	 after;
	size_t		 limit;
	int		 r;

	if ((r = jv_page(rq, &limit, &after)) != 0)
		return r;
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	l.items = json_array();
	if ((r = store_person_each(st, after, limit, list_person, &l)) != 0) {
		json_decref(l.items);
		return api_store_fail(rq, r, "", "");
	}
	rs->body = api_page(l.items, json_array_size(l.items) == limit ?
	    l.last : 0);
	return 0;
}

/* Read the person named by the path; only admins, auditors and the
 * person themselves may look. */
int
api_people_get(struct http_req *rq, struct http_resp *rs)
{
	const struct person	*me = api_me(rq);
	struct person		 p;
	struct store		*st;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	/* others than admins and auditors see themselves only, and learn
	 * nothing about who else exists */
	if (!api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR) &&
	    strcmp(rq->params[0], me->id) != 0 &&
	    strcasecmp(rq->params[0], me->email) != 0)
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "no person "
		    "'%.200s' that you may see", rq->params[0]);
	if ((r = store_person_get(st, rq->params[0], &p)) != 0)
		return api_store_fail(rq, r, "person", rq->params[0]);
	rs->body = api_person_json(&p);
	return 0;
}

/* Count active admins other than id, up to 1 (is there another?). */
static int
count_admin(const struct person *p, void *arg)
{
	const char **skip = arg;

	if ((p->roles & ROLE_ADMIN) && p->active && strcmp(p->id, *skip) != 0)
		return 1;		/* found one: stop */
	return 0;
}

/* 0 if, after the change, someone can still administer keywarden. */
static int
keeps_an_admin(struct http_req *rq, struct store *st, const struct person *p,
    unsigned old_roles, int old_active)
{
	const char	*skip = p->id;
	int		 r;

	if (!(old_roles & ROLE_ADMIN) || !old_active ||
	    ((p->roles & ROLE_ADMIN) && p->active))
		return 0;
	r = store_person_each(st, 0, INT32_MAX, count_admin, &skip);
	if (r == 1)
		return 0;
	if (r < 0)
		return api_store_fail(rq, r, "", "");
	return http_fail(rq, KW_ERR_CONFLICT, NULL, "%.200s is the last active "
	    "admin; make someone else an admin first", p->email);
}

int
api_people_patch(struct http_req *rq, struct http_resp *rs)
{
	struct person	 p;
	struct store	*st;
	json_t		*changed = json_array();
	unsigned	 old_roles;
	int		 r, old_active;

	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = store_person_get(st, rq->params[0], &p)) != 0) {
		r = api_store_fail(rq, r, "person", rq->params[0]);
		goto out;
	}
	old_roles = p.roles;
	old_active = p.active;
	if ((r = person_apply(rq, st, rq->body, &p, changed)) != 0 ||
	    (r = keeps_an_admin(rq, st, &p, old_roles, old_active)) != 0)
		goto out;
	kw_time_fmt(kw_now(), p.updated_at, sizeof(p.updated_at));
	if ((r = store_person_update(st, &p)) != 0) {
		r = api_store_fail(rq, r, "person with email", p.email);
		goto out;
	}
	r = api_audit(rq, st, "person.update", p.email, json_pack(
	    "{s:s, s:o}", "id", p.id, "fields", json_incref(changed)));
 out:
	r = api_tx_end(rq, &st, r);
 done:
	json_decref(changed);
	if (r == 0)
		rs->body = api_person_json(&p);
	return r;
}

int
api_token_mint(struct store *st, const struct crypto_keys *keys,
    const struct person *p, const char *actor, const char *label, int days,
    char *tok, size_t toksz, struct token_rec *rec)
{
	struct token_rec	t;
	time_t			now = kw_now();
	int			r;

	memset(&t, 0, sizeof(t));
	if ((r = crypto_token_new(tok, toksz)) != 0 ||
	    (r = crypto_token_hash(keys, tok, t.hash)) != 0)
		return r;
	crypto_random_id("tok_", t.id, sizeof(t.id));
	kw_strlcpy(t.person_id, p->id, sizeof(t.person_id));
	kw_strlcpy(t.label, label, sizeof(t.label));
	kw_time_fmt(now, t.created_at, sizeof(t.created_at));
	kw_time_fmt(now + (time_t)days * 86400, t.expires_at,
	    sizeof(t.expires_at));
	if ((r = store_token_insert(st, &t)) != 0)
		return r;
	if (rec != NULL) {
		*rec = t;
		kw_wipe(rec->hash, sizeof(rec->hash));
	}
	kw_wipe(t.hash, sizeof(t.hash));
	return audit_append(st, actor, "token.create", p->email, json_pack(
	    "{s:s, s:s, s:s, s:s}", "person_id", p->id, "token_id", t.id,
	    "label", t.label, "expires_at", t.expires_at));
}

json_t *
api_token_json(const struct token_rec *t)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "id", t->id,
	    "label", t->label, "created_at", t->created_at, "expires_at",
	    t->expires_at[0] ? json_string(t->expires_at) : json_null(),
	    "last_used_at", t->last_used_at[0] ? json_string(t->last_used_at) :
	    json_null(), "revoked_at", t->revoked_at[0] ?
	    json_string(t->revoked_at) : json_null(), "active",
	    t->revoked_at[0] == '\0');
}

/* Issue a personal token: an admin for anyone, a person for themselves.
 * {"label", "expires_in_days"} (default 90, at most 365).  The token is
 * shown in this answer only; the store keeps its keyed hash. */
int
api_people_token(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	const struct person	*me = api_me(rq);
	struct person		 p;
	struct token_rec	 t;
	struct store		*st;
	char			 tok[KW_TOKEN_STR_MAX];
	char			 label[KW_TOKEN_LABEL_MAX + 1] = "";
	int			 r, days = KW_TOKEN_DAYS_DEFAULT;

	if ((r = jv_known(rq, rq->body, (const char *const[]){ "label",
	    "expires_in_days", NULL })) != 0 ||
	    (r = jv_str(rq, rq->body, "label", JV_NULLABLE,
	    KW_TOKEN_LABEL_MAX, label, sizeof(label), NULL)) != 0 ||
	    (r = jv_int(rq, rq->body, "expires_in_days", 0, 1,
	    KW_TOKEN_DAYS_MAX, &days, NULL)) != 0)
		return r;
	/* refused before the lookup: the answer says nothing about who
	 * else exists */
	if (!api_has_role(rq, ROLE_ADMIN) &&
	    strcmp(rq->params[0], me->id) != 0 &&
	    strcasecmp(rq->params[0], me->email) != 0)
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "you may issue "
		    "tokens only for yourself");
	if ((r = api_tx_begin(rq, &st)) != 0)
		return r;
	if ((r = store_person_get(st, rq->params[0], &p)) != 0) {
		r = api_store_fail(rq, r, "person", rq->params[0]);
		goto out;
	}
	if (!p.active) {
		r = http_fail(rq, KW_ERR_CONFLICT, NULL,
		    "%.200s is not active", p.email);
		goto out;
	}
	if ((r = api_token_mint(st, app->keys, &p, me->email, label, days, tok,
	    sizeof(tok), &t)) != 0)
		r = api_store_fail(rq, r == KW_ERR_CONFLICT ? KW_ERR_UNAVAILABLE :
		    r, "token", "");
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0) {
		rs->status = 201;
		rs->body = api_token_json(&t);
		json_object_set_new(rs->body, "token", json_string(tok));
		json_object_set_new(rs->body, "person", json_string(p.email));
	}
	kw_wipe(tok, sizeof(tok));
	return r;
}

/* 1 if the caller may manage the tokens of the person named key (an
 * admin, or the person themselves); decided before any lookup. */
static int
may_manage_tokens(const struct http_req *rq, const char *key, int read)
{
	const struct person *me = api_me(rq);

	return api_has_role(rq, ROLE_ADMIN | (read ? ROLE_AUDITOR : 0)) ||
	    strcmp(key, me->id) == 0 || strcasecmp(key, me->email) == 0;
}

static int
token_one(const struct token_rec *t, void *arg)
{
	json_array_append_new(arg, api_token_json(t));
	return 0;
}

/* GET /v1/people/{x}/tokens: ids and times only (never a token). */
int
api_people_tokens(struct http_req *rq, struct http_resp *rs)
{
	struct person	 p;
	struct store	*st;
	json_t		*items;
	int		 r;

	if (!may_manage_tokens(rq, rq->params[0], 1))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "you may list "
		    "only your own tokens");
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = store_person_get(st, rq->params[0], &p)) != 0)
		return api_store_fail(rq, r, "person", rq->params[0]);
	items = json_array();
	if ((r = store_token_each(st, p.id, token_one, items)) != 0) {
		json_decref(items);
		return api_store_fail(rq, r, "", "");
	}
	rs->body = api_page(items, 0);
	return 0;
}

/* DELETE /v1/people/{x}/tokens/{id}: one token dies (a leaked one, a
 * laptop gone), the person stays. */
int
api_people_token_revoke(struct http_req *rq, struct http_resp *rs)
{
	struct person	 p;
	struct store	*st;
	char		 now[KW_TIME_LEN + 1];
	int		 r;

	if (!may_manage_tokens(rq, rq->params[0], 0))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "you may revoke "
		    "only your own tokens");
	if ((r = api_tx_begin(rq, &st)) != 0)
		return r;
	kw_time_fmt(kw_now(), now, sizeof(now));
	if ((r = store_person_get(st, rq->params[0], &p)) != 0)
		r = api_store_fail(rq, r, "person", rq->params[0]);
	else if ((r = store_token_revoke(st, p.id, rq->params[1], now)) != 0)
		r = r == KW_ERR_NOT_FOUND ? http_fail(rq, r, NULL, "no live "
		    "token '%.64s' of %.200s", rq->params[1], p.email) :
		    api_store_fail(rq, r, "", "");
	else
		r = api_audit(rq, st, "token.revoke", p.email, json_pack(
		    "{s:s, s:s}", "person_id", p.id, "token_id", rq->params[1]));
	/* committing drops the authentication cache: the token is dead for
	 * the very next request */
	r = api_tx_end(rq, &st, r);
	if (r == 0)
		rs->body = json_pack("{s:s, s:s, s:s}", "id", rq->params[1],
		    "person", p.email, "revoked_at", now);
	return r;
}

/* Inside offboarding's transaction: may the caller still act? */
static int
caller_check(void *rq, struct store *w)
{
	return api_caller_current(rq, w);
}

/*
 * Offboard (see people_offboard): refused for oneself.  The answer lists
 * each credential's result.
 */
int
api_people_offboard(struct http_req *rq, struct http_resp *rs)
{
	const struct person	*me = api_me(rq);
	struct offboard_result	 ob;
	struct person		 p;
	struct store		*st;
	int			 r;

	if ((r = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0)
		return r;
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = store_person_get(st, rq->params[0], &p)) != 0)
		return api_store_fail(rq, r, "person", rq->params[0]);
	if (strcmp(p.id, me->id) == 0)
		return http_fail(rq, KW_ERR_CONFLICT, NULL,
		    "you cannot offboard yourself; ask another admin");
	r = people_offboard(rq->app, me->email, p.id, caller_check, rq, &ob);
	if (r != 0 && rq->fail.message[0] == '\0')	/* else: the check's */
		r = ob.last_admin ? http_fail(rq, r, NULL, "%.200s is the last "
		    "active admin; make someone else an admin first", p.email) :
		    api_store_fail(rq, r, "person", p.email);
	else if (r == 0)
		rs->body = json_pack("{s:o, s:i, s:i, s:O, s:O}", "person",
		    api_person_json(&ob.person), "tokens_revoked",
		    ob.tokens_revoked, "sessions_ended", ob.sessions_ended,
		    "requests_withdrawn", ob.withdrawn,
		    "credentials_revoked", ob.revoked);
	offboard_clear(&ob);
	return r;
}
