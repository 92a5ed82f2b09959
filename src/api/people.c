/*
 * people.c — /v1/people: the directory of people, their roles, teams and
 * managers, their personal tokens, and offboarding; the People API reads
 * and answers, the core (core/people.c) does the work.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "api/api.h"
#include "api/list.h"
#include "core/people.h"
#include "api/valid.h"
#include "util/util.h"

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

/*
 * Read the fields of body b into ch (everything checked at the
 * boundary; the manager is looked up by the core, in its transaction).
 */
static int
person_parse(struct http_req *rq, json_t *b, int creating,
    struct person_change *ch)
{
	char	 roles[KW_ROLES_MAX][16];
	size_t	 nroles = 0, i, j;
	int	 here, r;

	memset(ch, 0, sizeof(*ch));
	if ((r = jv_known(rq, b, person_fields)) != 0 ||
	    (r = jv_str(rq, b, "email", JV_NONEMPTY |
	    (creating ? JV_REQUIRED : 0), KW_EMAIL_MAX, ch->p.email,
	    sizeof(ch->p.email), &here)) != 0)
		return r;
	if (here && !kw_valid_email(ch->p.email))
		return http_fail(rq, KW_ERR_VALIDATION, "email",
		    "'email' is not a valid email address");
	ch->set |= here ? PF_EMAIL : 0;
	if ((r = jv_str(rq, b, "name", JV_NONEMPTY |
	    (creating ? JV_REQUIRED : 0), KW_NAME_MAX, ch->p.name,
	    sizeof(ch->p.name), &here)) != 0)
		return r;
	ch->set |= here ? PF_NAME : 0;
	if ((r = jv_str(rq, b, "manager", JV_NULLABLE, KW_EMAIL_MAX,
	    ch->manager, sizeof(ch->manager), &here)) != 0)
		return r;
	ch->set |= here ? PF_MANAGER : 0;
	if ((r = jv_strs(rq, b, "roles", 0, KW_ROLES_MAX, &roles[0][0],
	    sizeof(roles[0]), &nroles, valid_role, "role (admin, auditor)",
	    &here)) != 0)
		return r;
	if (here) {
		ch->set |= PF_ROLES;
		for (i = 0; i < nroles; i++)
			for (j = 0; role_names[j] != NULL; j++)
				if (strcmp(roles[i], role_names[j]) == 0)
					ch->p.roles |= role_bits[j];
	}
	if ((r = jv_strs(rq, b, "teams", 0, KW_TEAMS_MAX, &ch->p.teams[0][0],
	    sizeof(ch->p.teams[0]), &ch->p.nteams, valid_team,
	    "team name (lower-case letters, digits, - and _)", &here)) != 0)
		return r;
	ch->set |= here ? PF_TEAMS : 0;
	if ((r = jv_str(rq, b, "slack_user_id", JV_NULLABLE, KW_SLACK_ID_MAX,
	    ch->p.slack_user_id, sizeof(ch->p.slack_user_id), &here)) != 0)
		return r;
	if (here && ch->p.slack_user_id[0] != '\0' &&
	    !valid_slack_id(ch->p.slack_user_id))
		return http_fail(rq, KW_ERR_VALIDATION, "slack_user_id",
		    "'slack_user_id' must look like U0123ABCD");
	ch->set |= here ? PF_SLACK_ID : 0;
	if ((r = jv_bool(rq, b, "active", 0, &ch->p.active, &here)) != 0)
		return r;
	ch->set |= here ? PF_ACTIVE : 0;
	return 0;
}

/* Create a person from the body, or (not creating) change the person of
 * the path as the body says; the answer is the person as they are now. */
static int
person_write(struct http_req *rq, struct http_resp *rs, int creating)
{
	struct person_change	*ch;
	struct person		 p;
	struct actor		 a;
	int			 r;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = person_parse(rq, rq->body, creating, ch)) == 0) {
		api_actor(rq, &a);
		if (creating)
			r = people_create(rq->app, &a, ch, &p, &rq->fail);
		else
			r = people_update(rq->app, &a, rq->params[0], ch, &p,
			    &rq->fail);
	}
	free(ch);
	if (r == 0) {
		if (creating)
			rs->status = 201;
		rs->body = api_person_json(&p);
	}
	return r;
}

int
api_people_create(struct http_req *rq, struct http_resp *rs)
{
	return person_write(rq, rs, 1);
}

static int
list_person(const struct person *p, void *arg)
{
	return api_list_add(arg, api_person_json(p), p->seq);
}

int
api_people_list(struct http_req *rq, struct http_resp *rs)
{
	struct api_list	 l;
	struct store	*st;
	int		 r;

	if ((r = api_list_begin(rq, &l)) != 0)
		return r;
	if ((st = api_store(rq)) == NULL)
		return api_list_end(rq, rs, &l, KW_ERR_UNAVAILABLE);
	r = store_person_each(st, l.after, l.limit, list_person, &l);
	return api_list_end(rq, rs, &l, r);
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

int
api_people_patch(struct http_req *rq, struct http_resp *rs)
{
	return person_write(rq, rs, 0);
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
	const struct person	*me = api_me(rq);
	struct person		 p;
	struct token_rec	 t;
	struct actor		 a;
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
	api_actor(rq, &a);
	r = people_token_issue(rq->app, &a, rq->params[0], label, days, tok,
	    sizeof(tok), &t, &p, &rq->fail);
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
	return api_list_add(arg, api_token_json(t), 0);
}

/* GET /v1/people/{x}/tokens: ids and times only (never a token). */
int
api_people_tokens(struct http_req *rq, struct http_resp *rs)
{
	struct api_list	 l;
	struct person	 p;
	struct store	*st;
	int		 r;

	if (!may_manage_tokens(rq, rq->params[0], 1))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "you may list "
		    "only your own tokens");
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = store_person_get(st, rq->params[0], &p)) != 0)
		return api_store_fail(rq, r, "person", rq->params[0]);
	api_list_all(&l);
	r = store_token_each(st, p.id, token_one, &l);
	return api_list_end(rq, rs, &l, r);
}

/* DELETE /v1/people/{x}/tokens/{id}: one token dies (a leaked one, a
 * laptop gone), the person stays. */
int
api_people_token_revoke(struct http_req *rq, struct http_resp *rs)
{
	struct person	 p;
	struct actor	 a;
	char		 now[KW_TIME_LEN + 1];
	int		 r;

	if (!may_manage_tokens(rq, rq->params[0], 0))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "you may revoke "
		    "only your own tokens");
	api_actor(rq, &a);
	r = people_token_revoke(rq->app, &a, rq->params[0], rq->params[1], &p,
	    now, &rq->fail);
	if (r == 0)
		rs->body = json_pack("{s:s, s:s, s:s}", "id", rq->params[1],
		    "person", p.email, "revoked_at", now);
	return r;
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
	struct actor		 a;
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
	api_actor(rq, &a);
	r = people_offboard(rq->app, &a, p.id, &ob, &rq->fail);
	if (r != 0 && rq->fail.message[0] == '\0')	/* else: the core's */
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
