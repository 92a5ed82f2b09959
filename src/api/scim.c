/*
 * scim.c — SCIM 2.0 at /scim/v2 for identity providers (Okta, Entra ID),
 * and the SCIM tokens they authenticate with (/v1/scim-tokens).
 *
 * A SCIM token authenticates /scim/v2 only; personal tokens do not.
 * SCIM Users are keywarden's people (the SCIM id is the person id); what
 * SCIM changes is audited with the actor "scim:<token id>", and
 * deactivating or deleting a User offboards the person exactly as the
 * People API does (people_offboard).  Parsing and shapes live in
 * scim/scim.c; this file looks people up, writes them and answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "api/list.h"
#include "core/people.h"
#include "api/valid.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "scim/scim.h"
#include "util/util.h"

#define SCIM_ACTOR_PREFIX	"scim:"

/* ---- the dialect: SCIM's media type and error shape ---- */

static json_t *
scim_error_body(int err, int status, const char *message, const char *field)
{
	const char	*type = "";
	json_t		*o;

	if (field != NULL && scim_type_known(field))
		type = field;
	else if (err == KW_ERR_INVALID_JSON)
		type = "invalidSyntax";
	else if (err == KW_ERR_VALIDATION)
		type = "invalidValue";
	o = scim_error_json(status, type, message && *message ? message :
	    kw_strerror(err));
	if (o == NULL)		/* the message was not valid UTF-8 */
		o = scim_error_json(status, type, kw_strerror(err));
	return o;
}

static const struct http_dialect scim_dialect = {
	"application/scim+json", "application/scim+json", scim_error_body
};

/* Everything under /scim/v2, routed or not (a 404 for /Groups too). */
const struct http_dialect *
api_dialect(const char *path)
{
	static const char prefix[] = "/scim/v2";
	size_t n = sizeof(prefix) - 1;

	if (strncmp(path, prefix, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/'))
		return &scim_dialect;
	return NULL;
}

/* ---- authentication ---- */

/* The bearer token of the Authorization header, or NULL. */
static const char *
scim_bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* The SCIM token with keyed hash h in st, re-checked in constant time:
 * 0, 401 (unknown or deleted; personal tokens too) or 503, message set. */
static int
token_find(struct http_req *rq, struct store *st, const unsigned char *h,
    struct scim_token *t)
{
	int r = store_scim_token_find(st, h, t);

	if (r == KW_ERR_NOT_FOUND || (r == 0 && !crypto_eq(h, t->hash,
	    sizeof(t->hash))))
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "unknown or "
		    "deleted SCIM token (personal tokens do not work here)");
	if (r != 0)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	return 0;
}

/* Refresh the token's last_used_at when it is older than
 * KW_SCIM_USED_EVERY_S (best effort: a bookkeeping field, not audited). */
static void
note_use(struct app *app, const struct scim_token *t)
{
	struct store	*w;
	time_t		 last = 0, now = kw_now();
	char		 at[KW_TIME_LEN + 1];

	if (t->last_used_at[0] != '\0' &&
	    kw_time_parse(t->last_used_at, &last) == 0 &&
	    now - last < KW_SCIM_USED_EVERY_S)
		return;
	kw_time_fmt(now, at, sizeof(at));
	if (core_write_begin(app, &w) != 0)
		return;
	core_write_end(app, store_scim_token_used(w, t->id, at));
}

int
api_scim_authorise(struct http_req *rq)
{
	struct app		*app = rq->app;
	struct scim_token	 t;
	struct caller		*c;
	struct store		*st;
	unsigned char		 h[KW_HASH_LEN];
	const char		*tok;
	int			 r;

	if (rq->authorization == NULL)	/* not a guess: not throttled */
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "send "
		    "'Authorization: Bearer <a keywarden SCIM token>'");
	if ((tok = scim_bearer(rq->authorization)) == NULL ||
	    !crypto_token_wellformed(tok))
		return api_auth_failed(rq, NULL, http_fail(rq,
		    KW_ERR_UNAUTHENTICATED, NULL, "send 'Authorization: Bearer "
		    "<a keywarden SCIM token>'"));
	if ((st = api_store(rq)) == NULL)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	if ((r = crypto_token_hash(app->keys, tok, h)) != 0)
		return r;
	if ((r = token_find(rq, st, h, &t)) != 0)
		return r == KW_ERR_UNAUTHENTICATED ? api_auth_failed(rq, tok, r) :
		    r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	/* no person: an actor with no roles, named after the token, so
	 * that every audit event says which provider connection acted */
	c->scim = 1;
	c->access = ACCESS_SCIM;
	kw_strlcpy(c->token_id, t.id, sizeof(c->token_id));
	memcpy(c->token_hash, h, sizeof(h));
	snprintf(c->person.email, sizeof(c->person.email), "%s%s",
	    SCIM_ACTOR_PREFIX, t.id);
	rq->caller = c;
	note_use(app, &t);
	return 0;
}

int
api_scim_current(struct http_req *rq, struct store *st)
{
	const struct caller	*c = rq->caller;
	struct scim_token	 t;

	if (st == NULL)
		return http_fail(rq, KW_ERR_UNAVAILABLE, NULL,
		    "the store cannot be read");
	return token_find(rq, st, c->token_hash, &t);
}

/* ---- SCIM tokens (/v1/scim-tokens, admins) ---- */

int
api_scim_tokens_create(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct scim_token	 t;
	struct store		*st;
	char			 tok[KW_TOKEN_STR_MAX];
	int			 r;

	memset(&t, 0, sizeof(t));
	if ((r = jv_known(rq, rq->body, (const char *const[]){ "label",
	    NULL })) != 0 || (r = jv_str(rq, rq->body, "label", JV_NULLABLE,
	    KW_SCIM_LABEL_MAX, t.label, sizeof(t.label), NULL)) != 0)
		return r;
	if ((r = crypto_token_new(tok, sizeof(tok))) != 0 ||
	    (r = crypto_token_hash(app->keys, tok, t.hash)) != 0)
		goto done;
	crypto_random_id("scim_", t.id, sizeof(t.id));
	kw_time_fmt(kw_now(), t.created_at, sizeof(t.created_at));
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = store_scim_token_insert(st, &t)) != 0)
		r = api_store_fail(rq, r == KW_ERR_CONFLICT ?
		    KW_ERR_UNAVAILABLE : r, "SCIM token", "");
	else
		r = api_audit(rq, st, "scim_token.create", t.id, json_pack(
		    "{s:s, s:s?}", "id", t.id, "label", t.label[0] ? t.label :
		    NULL));
	r = api_tx_end(rq, &st, r);
	if (r == 0) {
		rs->status = 201;
		rs->body = json_pack("{s:s, s:s, s:s?, s:s}", "id", t.id,
		    "token", tok, "label", t.label[0] ? t.label : NULL,
		    "created_at", t.created_at);
	}
 done:
	kw_wipe(tok, sizeof(tok));
	return r;
}

static int
token_item(const struct scim_token *t, void *arg)
{
	return api_list_add(arg, json_pack("{s:s, s:s?, s:s, s:s?}", "id",
	    t->id, "label", t->label[0] ? t->label : NULL, "created_at",
	    t->created_at, "last_used_at", t->last_used_at[0] ?
	    t->last_used_at : NULL), 0);
}

int
api_scim_tokens_list(struct http_req *rq, struct http_resp *rs)
{
	struct api_list	 l;
	struct store	*st;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	api_list_all(&l);
	return api_list_end(rq, rs, &l,
	    store_scim_token_each(st, token_item, &l));
}

int
api_scim_tokens_delete(struct http_req *rq, struct http_resp *rs)
{
	struct store	*st;
	char		 now[KW_TIME_LEN + 1];
	int		 r;

	if ((r = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0 ||
	    (r = api_tx_begin(rq, &st)) != 0)
		return r;
	if ((r = store_scim_token_delete(st, rq->params[0])) != 0)
		r = api_store_fail(rq, r, "SCIM token", rq->params[0]);
	else
		r = api_audit(rq, st, "scim_token.delete", rq->params[0],
		    json_pack("{s:s}", "id", rq->params[0]));
	r = api_tx_end(rq, &st, r);
	kw_time_fmt(kw_now(), now, sizeof(now));
	if (r == 0)
		rs->body = json_pack("{s:s, s:s}", "id", rq->params[0],
		    "deleted_at", now);
	return r;
}

/* ---- Users ---- */

/* Answer a scim_error. */
static int
scim_fail(struct http_req *rq, const struct scim_error *e)
{
	return http_fail(rq, e->err, e->type, "%s", e->detail);
}

/* Read the SCIM User id (a person id; never an email, which the store
 * would look up by) into p: KW_ERR_NOT_FOUND for people the provider
 * deleted. */
static int
user_get(struct store *st, const char *id, struct person *p)
{
	int r;

	if (strchr(id, '@') != NULL || strlen(id) > KW_ID_MAX)
		return KW_ERR_NOT_FOUND;
	if ((r = store_person_get(st, id, p)) != 0)
		return r;
	return p->scim_deleted_at[0] != '\0' ? KW_ERR_NOT_FOUND : 0;
}

static int
user_missing(struct http_req *rq, int r, const char *id)
{
	if (r == KW_ERR_NOT_FOUND)
		return http_fail(rq, r, NULL, "no User '%.64s'", id);
	return api_store_fail(rq, r, "", "");
}

/* The answer for person id, read after the fact. */
static int
user_answer(struct http_req *rq, struct http_resp *rs, const char *id,
    int status)
{
	struct app	*app = rq->app;
	struct person	 p;
	struct store	*st;
	int		 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = store_person_get(st, id, &p)) != 0)
		return user_missing(rq, r, id);
	rs->status = status;
	rs->body = scim_user_json(&p, app->public_url);
	/* RFC 7644 §3.3: a creation names its resource in Location too */
	if (status == 201)
		http_resp_header(rs, "Location", "%s/scim/v2/Users/%s",
		    app->public_url, p.id);
	return 0;
}

/* Carry the fields u set over to p; "fields" names them for the audit. */
static int
user_apply(struct http_req *rq, struct store *st, const struct scim_user *u,
    struct person *p, json_t *fields)
{
	struct person	m;
	int		r;

	if (u->set & SU_USER_NAME) {
		kw_strlcpy(p->email, u->user_name, sizeof(p->email));
		json_array_append_new(fields, json_string("userName"));
	}
	if (u->set & SU_NAME) {
		kw_strlcpy(p->name, u->name, sizeof(p->name));
		json_array_append_new(fields, json_string("name"));
	}
	if (u->set & SU_EXTERNAL_ID) {
		kw_strlcpy(p->external_id, u->external_id,
		    sizeof(p->external_id));
		json_array_append_new(fields, json_string("externalId"));
	}
	if (!(u->set & SU_MANAGER))
		return 0;
	json_array_append_new(fields, json_string("manager"));
	p->manager_id[0] = '\0';
	if (u->manager_id[0] == '\0')
		return 0;
	if ((r = user_get(st, u->manager_id, &m)) == KW_ERR_NOT_FOUND)
		return http_fail(rq, KW_ERR_VALIDATION, "invalidValue",
		    "manager: no User '%.64s'", u->manager_id);
	if (r != 0)
		return api_store_fail(rq, r, "", "");
	if (p->id[0] != '\0' && people_manager_loop(st, p->id, m.id))
		return http_fail(rq, KW_ERR_VALIDATION, "invalidValue",
		    "manager: %.200s would end up managing themselves",
		    p->email);
	kw_strlcpy(p->manager_id, m.id, sizeof(p->manager_id));
	return 0;
}

/* Insert or update p, mapping a duplicate email to 409 uniqueness. */
static int
user_store(struct http_req *rq, struct store *st, const struct person *p,
    int insert)
{
	int r = insert ? store_person_insert(st, p) :
	    store_person_update(st, p);

	if (r == KW_ERR_CONFLICT)
		return http_fail(rq, r, "uniqueness", "userName '%.200s' is "
		    "already taken", p->email);
	return r != 0 ? api_store_fail(rq, r, "", "") : 0;
}

/*
 * POST /Users.  A userName already taken is 409 uniqueness, except by a
 * person the provider deleted: that person comes back (same id, their
 * history intact) with the new attributes.
 */
int
api_scim_users_create(struct http_req *rq, struct http_resp *rs)
{
	struct scim_error	 e;
	struct scim_user	 u;
	struct person		 p;
	struct store		*st;
	json_t			*fields = json_array();
	int			 r, revive = 0;

	memset(&p, 0, sizeof(p));
	if (scim_user_parse(rq->body, &u, &e) != 0) {
		r = scim_fail(rq, &e);
		goto done;
	}
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	r = store_person_get(st, u.user_name, &p);
	if (r == 0 && p.scim_deleted_at[0] != '\0')
		revive = 1;
	else if (r == 0) {
		r = http_fail(rq, KW_ERR_CONFLICT, "uniqueness", "userName "
		    "'%.200s' is already taken", u.user_name);
		goto out;
	} else if (r != KW_ERR_NOT_FOUND) {
		r = api_store_fail(rq, r, "", "");
		goto out;
	} else
		memset(&p, 0, sizeof(p));
	if ((r = user_apply(rq, st, &u, &p, fields)) != 0)
		goto out;
	if (!revive && !(u.set & SU_NAME))	/* the userName stands in */
		kw_strlcpy(p.name, u.name, sizeof(p.name));
	kw_time_fmt(kw_now(), p.updated_at, sizeof(p.updated_at));
	if (!revive) {
		crypto_random_id("per_", p.id, sizeof(p.id));
		kw_strlcpy(p.created_at, p.updated_at, sizeof(p.created_at));
	}
	p.active = u.active;
	p.scim_deleted_at[0] = '\0';
	kw_strlcpy(p.managed_by, "scim", sizeof(p.managed_by));
	if ((r = user_store(rq, st, &p, !revive)) != 0)
		goto out;
	r = api_audit(rq, st, revive ? "person.scim_restore" : "person.create",
	    p.email, json_pack("{s:s, s:s, s:O, s:b}", "id", p.id, "via",
	    "scim", "fields", fields, "active", p.active));
 out:
	r = api_tx_end(rq, &st, r);
 done:
	json_decref(fields);
	return r == 0 ? user_answer(rq, rs, p.id, 201) : r;
}

/* Offboard p as the People API does (people_offboard), the SCIM token
 * re-checked inside the transaction; 0 or the answer's error. */
static int
user_offboard(struct http_req *rq, const struct person *p)
{
	struct offboard_result	ob;
	struct actor		a;
	int			r;

	api_actor(rq, &a);	/* "scim:<token id>", re-checked */
	r = people_offboard(rq->app, &a, p->id, &ob, &rq->fail);
	/* a message set is the core's (the token's check); the last admin
	 * is RFC 7644's 400 mutability */
	if (r != 0 && rq->fail.message[0] == '\0')
		r = ob.last_admin ? http_fail(rq, KW_ERR_VALIDATION,
		    "mutability", "%.200s is keywarden's last active admin; "
		    "make someone else an admin first", p->email) :
		    user_missing(rq, r, p->id);
	offboard_clear(&ob);
	return r;
}

/*
 * Write what u set onto User id, then act on active: false offboards
 * (people_offboard, the People API's own path), true reactivates.
 */
static int
user_update(struct http_req *rq, struct http_resp *rs, const char *id,
    const struct scim_user *u, int full)
{
	struct person		 p;
	struct store		*st;
	json_t			*fields = json_array();
	int			 r, offboard = 0, reactivate = 0;

	memset(&p, 0, sizeof(p));
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = user_get(st, id, &p)) != 0) {
		r = user_missing(rq, r, id);
		goto out;
	}
	if ((r = user_apply(rq, st, u, &p, fields)) != 0)
		goto out;
	if (u->set & SU_ACTIVE) {
		offboard = p.active && !u->active;
		reactivate = !p.active && u->active;
	}
	if (reactivate)
		p.active = 1;
	kw_strlcpy(p.managed_by, "scim", sizeof(p.managed_by));
	kw_time_fmt(kw_now(), p.updated_at, sizeof(p.updated_at));
	if ((r = user_store(rq, st, &p, 0)) != 0)
		goto out;
	r = api_audit(rq, st, reactivate ? "person.reactivate" :
	    "person.update", p.email, json_pack("{s:s, s:s, s:s, s:O}", "id",
	    p.id, "via", "scim", "method", full ? "PUT" : "PATCH", "fields",
	    fields));
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0 && offboard)
		r = user_offboard(rq, &p);
 done:
	json_decref(fields);
	return r == 0 ? user_answer(rq, rs, p.id, 200) : r;
}

int
api_scim_users_put(struct http_req *rq, struct http_resp *rs)
{
	struct scim_error	e;
	struct scim_user	u;

	if (scim_user_parse(rq->body, &u, &e) != 0)
		return scim_fail(rq, &e);
	return user_update(rq, rs, rq->params[0], &u, 1);
}

int
api_scim_users_patch(struct http_req *rq, struct http_resp *rs)
{
	struct scim_error	 e;
	struct scim_user	 u;
	struct person		 p;
	struct store		*st;
	int			 r;

	/* the operations apply to the current values */
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = user_get(st, rq->params[0], &p)) != 0)
		return user_missing(rq, r, rq->params[0]);
	memset(&u, 0, sizeof(u));
	kw_strlcpy(u.user_name, p.email, sizeof(u.user_name));
	kw_strlcpy(u.name, p.name, sizeof(u.name));
	kw_strlcpy(u.external_id, p.external_id, sizeof(u.external_id));
	kw_strlcpy(u.manager_id, p.manager_id, sizeof(u.manager_id));
	u.active = p.active;
	if (scim_patch_apply(rq->body, &u, &e) != 0)
		return scim_fail(rq, &e);
	if (u.set == 0)		/* only attributes keywarden does not keep */
		return user_answer(rq, rs, p.id, 200);
	return user_update(rq, rs, rq->params[0], &u, 0);
}

int
api_scim_users_get(struct http_req *rq, struct http_resp *rs)
{
	struct person	 p;
	struct store	*st;
	int		 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = user_get(st, rq->params[0], &p)) != 0)
		return user_missing(rq, r, rq->params[0]);
	rs->body = scim_user_json(&p, ((struct app *)rq->app)->public_url);
	return 0;
}

/*
 * DELETE /Users/{id}: the person is offboarded (as by the People API),
 * then marked deleted by the provider: SCIM answers 404 for them from
 * now on, keywarden keeps them (inactive) with their history.
 */
int
api_scim_users_delete(struct http_req *rq, struct http_resp *rs)
{
	struct person		 p;
	struct store		*st;
	int			 r;

	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((r = user_get(st, rq->params[0], &p)) != 0)
		return user_missing(rq, r, rq->params[0]);
	if ((r = user_offboard(rq, &p)) != 0 ||
	    (r = api_tx_begin(rq, &st)) != 0)
		return r;
	if ((r = user_get(st, p.id, &p)) != 0) {
		r = user_missing(rq, r, rq->params[0]);
		goto out;
	}
	kw_time_fmt(kw_now(), p.scim_deleted_at, sizeof(p.scim_deleted_at));
	kw_strlcpy(p.updated_at, p.scim_deleted_at, sizeof(p.updated_at));
	kw_strlcpy(p.managed_by, "scim", sizeof(p.managed_by));
	if ((r = user_store(rq, st, &p, 0)) != 0)
		goto out;
	r = api_audit(rq, st, "person.scim_delete", p.email, json_pack(
	    "{s:s, s:s}", "id", p.id, "via", "scim"));
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0)
		rs->status = 204;
	return r;
}

/* The User with this userName (an email), unless the provider deleted
 * it. */
static int
user_get_by_name(struct store *st, const char *email, struct person *p)
{
	int r;

	if ((r = store_person_get(st, email, p)) != 0)
		return r;
	return p->scim_deleted_at[0] != '\0' ? KW_ERR_NOT_FOUND : 0;
}

/* A positive integer query parameter (startIndex, count); def when
 * absent. */
static int
query_int(struct http_req *rq, const char *key, long def, long lo, long hi,
    long *out)
{
	const char	*s = http_query(rq, key);
	char		*end;
	long		 v;

	*out = def;
	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		return http_fail(rq, KW_ERR_VALIDATION, "invalidValue",
		    "'%s' must be an integer", key);
	/* RFC 7644 §3.4.2.4: out-of-range values are clamped, not refused */
	*out = v < lo ? lo : v > hi ? hi : v;
	return 0;
}

struct page {
	json_t		*items;
	const char	*base;
};

static int
page_user(const struct person *p, void *arg)
{
	struct page *pg = arg;

	json_array_append_new(pg->items, scim_user_json(p, pg->base));
	return 0;
}

/*
 * GET /Users[?filter=userName eq "..."][&startIndex=][&count=]: a
 * ListResponse.  startIndex is 1-based; count is at most
 * KW_SCIM_COUNT_MAX (the maxResults ServiceProviderConfig announces).
 */
int
api_scim_users_list(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct page		 pg = { NULL, app->public_url };
	struct scim_filter	 f;
	struct scim_error	 e;
	struct person		 p;
	struct store		*st;
	const char		*filter = http_query(rq, "filter");
	long			 start, count;
	int64_t			 total = 0;
	int			 r;

	if ((r = query_int(rq, "startIndex", 1, 1, INT32_MAX, &start)) != 0 ||
	    (r = query_int(rq, "count", KW_SCIM_COUNT_MAX, 0,
	    KW_SCIM_COUNT_MAX, &count)) != 0)
		return r;
	if (filter != NULL && scim_filter_parse(filter, &f, &e) != 0)
		return scim_fail(rq, &e);
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	pg.items = json_array();
	if (filter != NULL) {
		r = f.impossible ? KW_ERR_NOT_FOUND : user_get_by_name(st,
		    f.user_name, &p);
		if (r == 0) {
			total = 1;
			if (start == 1 && count > 0)
				page_user(&p, &pg);
		} else if (r == KW_ERR_NOT_FOUND)
			r = 0;
	} else if ((r = store_person_scim_count(st, &total)) == 0)
		r = store_person_scim_page(st, start - 1, (size_t)count,
		    page_user, &pg);
	if (r != 0) {
		json_decref(pg.items);
		return api_store_fail(rq, r, "", "");
	}
	rs->body = scim_list_json(pg.items, total, start);
	return 0;
}

/* ---- discovery: ServiceProviderConfig, ResourceTypes, Schemas ---- */

/* What keywarden implements, in RFC 7643 §7's terms.  Text, not code: it
 * reads like the RFC's examples and is checked by the tests. */
static const char user_schema[] =
    "{\"id\": \"" SCIM_SCHEMA_USER "\", \"name\": \"User\","
    " \"description\": \"A person of keywarden (the id is the person id)\","
    " \"attributes\": ["
    "  {\"name\": \"userName\", \"type\": \"string\", \"multiValued\": false,"
    "   \"description\": \"The person's email address\","
    "   \"required\": true, \"caseExact\": false, \"mutability\":"
    "   \"readWrite\", \"returned\": \"default\", \"uniqueness\": \"server\"},"
    "  {\"name\": \"name\", \"type\": \"complex\", \"multiValued\": false,"
    "   \"description\": \"formatted is the person's name unless"
    " displayName is given; givenName and familyName are joined when"
    " neither is\", \"required\": false, \"mutability\": \"readWrite\","
    "   \"returned\": \"default\", \"uniqueness\": \"none\","
    "   \"subAttributes\": ["
    "    {\"name\": \"formatted\", \"type\": \"string\", \"multiValued\":"
    "     false, \"required\": false, \"caseExact\": false, \"mutability\":"
    "     \"readWrite\", \"returned\": \"default\", \"uniqueness\": \"none\"},"
    "    {\"name\": \"givenName\", \"type\": \"string\", \"multiValued\":"
    "     false, \"required\": false, \"caseExact\": false, \"mutability\":"
    "     \"writeOnly\", \"returned\": \"never\", \"uniqueness\": \"none\"},"
    "    {\"name\": \"familyName\", \"type\": \"string\", \"multiValued\":"
    "     false, \"required\": false, \"caseExact\": false, \"mutability\":"
    "     \"writeOnly\", \"returned\": \"never\", \"uniqueness\": \"none\"}]},"
    "  {\"name\": \"displayName\", \"type\": \"string\", \"multiValued\":"
    "   false, \"description\": \"The person's name\", \"required\": false,"
    "   \"caseExact\": false, \"mutability\": \"readWrite\", \"returned\":"
    "   \"default\", \"uniqueness\": \"none\"},"
    "  {\"name\": \"emails\", \"type\": \"complex\", \"multiValued\": true,"
    "   \"description\": \"Read-only echo of userName: keywarden keeps one"
    " address\", \"required\": false, \"mutability\": \"readOnly\","
    "   \"returned\": \"default\", \"uniqueness\": \"none\","
    "   \"subAttributes\": ["
    "    {\"name\": \"value\", \"type\": \"string\", \"multiValued\": false,"
    "     \"required\": false, \"caseExact\": false, \"mutability\":"
    "     \"readOnly\", \"returned\": \"default\", \"uniqueness\": \"none\"},"
    "    {\"name\": \"type\", \"type\": \"string\", \"multiValued\": false,"
    "     \"required\": false, \"caseExact\": false, \"canonicalValues\":"
    "     [\"work\"], \"mutability\": \"readOnly\", \"returned\": \"default\","
    "     \"uniqueness\": \"none\"},"
    "    {\"name\": \"primary\", \"type\": \"boolean\", \"multiValued\":"
    "     false, \"required\": false, \"mutability\": \"readOnly\","
    "     \"returned\": \"default\"}]},"
    "  {\"name\": \"active\", \"type\": \"boolean\", \"multiValued\": false,"
    "   \"description\": \"false offboards the person (tokens, open"
    " requests, credentials); true reactivates\", \"required\": false,"
    "   \"mutability\": \"readWrite\", \"returned\": \"default\"}]}";

static const char enterprise_schema[] =
    "{\"id\": \"" SCIM_SCHEMA_ENTERPRISE "\", \"name\": \"EnterpriseUser\","
    " \"description\": \"The person's manager (other attributes of the"
    " extension are accepted and not kept)\", \"attributes\": ["
    "  {\"name\": \"manager\", \"type\": \"complex\", \"multiValued\": false,"
    "   \"description\": \"The manager, who approves the person's requests\","
    "   \"required\": false, \"mutability\": \"readWrite\", \"returned\":"
    "   \"default\", \"subAttributes\": ["
    "    {\"name\": \"value\", \"type\": \"string\", \"multiValued\": false,"
    "     \"description\": \"The manager's SCIM id\", \"required\": false,"
    "     \"caseExact\": true, \"mutability\": \"readWrite\", \"returned\":"
    "     \"default\", \"uniqueness\": \"none\"},"
    "    {\"name\": \"$ref\", \"type\": \"reference\", \"referenceTypes\":"
    "     [\"User\"], \"multiValued\": false, \"required\": false,"
    "     \"caseExact\": true, \"mutability\": \"readOnly\", \"returned\":"
    "     \"default\", \"uniqueness\": \"none\"},"
    "    {\"name\": \"displayName\", \"type\": \"string\", \"multiValued\":"
    "     false, \"description\": \"The manager's email\", \"required\":"
    "     false, \"mutability\": \"readOnly\", \"returned\": \"default\","
    "     \"uniqueness\": \"none\"}]}]}";

static const char *const schema_texts[] = { user_schema, enterprise_schema };

/* meta for a discovery resource: {resourceType, location}. */
static json_t *
meta(const struct http_req *rq, const char *type, const char *path)
{
	const struct app *app = rq->app;

	return json_pack("{s:s, s:s++}", "resourceType", type, "location",
	    app->public_url, "/scim/v2/", path);
}

int
api_scim_spc(struct http_req *rq, struct http_resp *rs)
{
	rs->body = json_pack("{s:[s], s:{s:b}, s:{s:b, s:i, s:i},"
	    " s:{s:b, s:i}, s:{s:b}, s:{s:b}, s:{s:b}, s:[{s:s, s:s, s:s, s:b}],"
	    " s:o}",
	    "schemas", "urn:ietf:params:scim:schemas:core:2.0:"
	    "ServiceProviderConfig",
	    "patch", "supported", 1,
	    "bulk", "supported", 0, "maxOperations", 0, "maxPayloadSize", 0,
	    "filter", "supported", 1, "maxResults", KW_SCIM_COUNT_MAX,
	    "changePassword", "supported", 0,
	    "sort", "supported", 0,
	    "etag", "supported", 0,
	    "authenticationSchemes", "type", "oauthbearertoken", "name",
	    "Bearer token", "description", "A keywarden SCIM token (POST "
	    "/v1/scim-tokens) as 'Authorization: Bearer kw_...'", "primary", 1,
	    "meta", meta(rq, "ServiceProviderConfig", "ServiceProviderConfig"));
	return 0;
}

static json_t *
resource_type(const struct http_req *rq)
{
	return json_pack("{s:[s], s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:b}],"
	    " s:o}", "schemas", "urn:ietf:params:scim:schemas:core:2.0:"
	    "ResourceType", "id", "User", "name", "User", "endpoint", "/Users",
	    "description", "People of keywarden", "schema", SCIM_SCHEMA_USER,
	    "schemaExtensions", "schema", SCIM_SCHEMA_ENTERPRISE, "required", 0,
	    "meta", meta(rq, "ResourceType", "ResourceTypes/User"));
}

int
api_scim_resource_types(struct http_req *rq, struct http_resp *rs)
{
	rs->body = scim_list_json(json_pack("[o]", resource_type(rq)), 1, 1);
	return 0;
}

int
api_scim_resource_type(struct http_req *rq, struct http_resp *rs)
{
	if (strcmp(rq->params[0], "User") != 0)
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "no resource type "
		    "'%.64s' (keywarden serves User)", rq->params[0]);
	rs->body = resource_type(rq);
	return 0;
}

/* Schema i with its schemas and meta. */
static json_t *
schema(const struct http_req *rq, size_t i)
{
	char	 path[128];
	json_t	*o = json_loads(schema_texts[i], 0, NULL);

	if (o == NULL)
		return NULL;
	snprintf(path, sizeof(path), "Schemas/%s",
	    json_string_value(json_object_get(o, "id")));
	json_object_set_new(o, "schemas", json_pack("[s]",
	    "urn:ietf:params:scim:schemas:core:2.0:Schema"));
	json_object_set_new(o, "meta", meta(rq, "Schema", path));
	return o;
}

int
api_scim_schemas(struct http_req *rq, struct http_resp *rs)
{
	json_t	*items = json_array();
	size_t	 i;

	for (i = 0; i < KW_NELEM(schema_texts); i++)
		json_array_append_new(items, schema(rq, i));
	rs->body = scim_list_json(items, (int64_t)KW_NELEM(schema_texts), 1);
	return 0;
}

int
api_scim_schema(struct http_req *rq, struct http_resp *rs)
{
	static const char *const ids[] = { SCIM_SCHEMA_USER,
	    SCIM_SCHEMA_ENTERPRISE };
	size_t i;

	for (i = 0; i < KW_NELEM(ids); i++)
		if (strcmp(rq->params[0], ids[i]) == 0) {
			rs->body = schema(rq, i);
			return 0;
		}
	return http_fail(rq, KW_ERR_NOT_FOUND, NULL, "no schema '%.200s'",
	    rq->params[0]);
}
