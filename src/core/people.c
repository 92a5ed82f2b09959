/*
 * people.c — people's lifecycle (see people.h): created and changed by
 * an admin, their personal tokens, and offboarding (inactive, tokens
 * dead, open requests withdrawn, credentials revoked on their
 * instances), shared by the People API and SCIM.  Takes an actor, never
 * a request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "core/issuance.h"
#include "core/people.h"
#include "crypto/crypto.h"
#include "util/util.h"

#define MANAGER_CHAIN_MAX	64	/* longest manager chain walked */

/* Ids collected from a walk, to act on after it. */
struct id_list {
	size_t	n;
	char	ids[KW_LIST_LIMIT_MAX][KW_ID_MAX + 1];
};

static int
collect_request(const struct request *r, void *arg)
{
	struct id_list *l = arg;

	kw_strlcpy(l->ids[l->n++], r->id, sizeof(l->ids[0]));
	return l->n >= KW_LIST_LIMIT_MAX;
}

static int
collect_credential(const struct credential *c, void *arg)
{
	struct id_list *l = arg;

	if (c->kind == KIND_LEGACY)
		return 0;		/* tracked, not held: Zendesk's own */
	kw_strlcpy(l->ids[l->n++], c->id, sizeof(l->ids[0]));
	return l->n >= KW_LIST_LIMIT_MAX;
}

/* Withdraw every open request of p (in the caller's transaction); the
 * ids go to done. */
static int
withdraw_open(struct store *st, const struct actor *a,
    const struct person *p, json_t *done)
{
	struct request_filter	 f;
	struct history_entry	 h;
	struct request		*r;
	struct id_list		*l;
	enum req_state		 from;
	size_t			 i;
	int			 res;

	memset(&f, 0, sizeof(f));
	f.viewer_all = 1;
	f.requester_id = p->id;
	f.states = 1u << RS_PENDING_MANAGER | 1u << RS_PENDING_PROVISIONER |
	    1u << RS_AWAITING_FULFILMENT;
	l = calloc(1, sizeof(*l));
	r = malloc(sizeof(*r));
	if (l == NULL || r == NULL) {
		res = KW_ERR_NOMEM;
		goto out;
	}
	if ((res = store_request_each(st, &f, 0, KW_LIST_LIMIT_MAX,
	    collect_request, l)) < 0)
		goto out;
	memset(&h, 0, sizeof(h));
	kw_time_fmt(kw_now(), h.at, sizeof(h.at));
	kw_strlcpy(h.actor, a->name, sizeof(h.actor));
	kw_strlcpy(h.action, "withdrawn", sizeof(h.action));
	kw_strlcpy(h.comment, "requester offboarded", sizeof(h.comment));
	for (i = 0, res = 0; res == 0 && i < l->n; i++) {
		if ((res = store_request_get(st, l->ids[i], r)) != 0)
			break;
		from = r->state;
		r->state = RS_WITHDRAWN;
		kw_strlcpy(r->updated_at, h.at, sizeof(r->updated_at));
		if ((res = store_request_transition(st, r, from)) == 0 &&
		    (res = store_history_append(st, r->id, &h)) == 0 &&
		    (res = api_drop_intent(st, r)) == 0)
			json_array_append_new(done, json_string(r->id));
	}
 out:
	free(l);
	free(r);
	return res < 0 ? res : 0;
}

/* The ids of p's active credentials, into l. */
static int
held_credentials(struct store *st, const struct person *p, struct id_list *l)
{
	struct credential_filter f;

	memset(&f, 0, sizeof(f));
	f.viewer_all = 1;
	f.owner_id = p->id;
	f.state = CS_ACTIVE;
	f.kind = -1;
	return store_credential_each(st, &f, 0, KW_LIST_LIMIT_MAX,
	    collect_credential, l) < 0 ? KW_ERR_UNAVAILABLE : 0;
}

/* Revoke each credential of l, on its instance and in the store; one
 * result per credential, failures included (bulk revocation retries). */
static json_t *
revoke_all(struct app *app, struct store *st, const struct actor *a,
    const struct id_list *l)
{
	struct provider_error	 perr;
	json_t			*done = json_array();
	size_t			 i;
	int			 r;

	for (i = 0; i < l->n; i++) {
		r = issuance_revoke(app, st, a, l->ids[i],
		    "owner offboarded", &perr);
		json_array_append_new(done, json_pack("{s:s, s:s}", "id",
		    l->ids[i], "result", r == 0 ? "revoked" : r ==
		    KW_ERR_UPSTREAM ? perr.message : kw_strerror(r)));
	}
	return done;
}

/* Stop at the first active admin other than *arg. */
static int
other_admin(const struct person *p, void *arg)
{
	const char *skip = arg;

	return (p->roles & ROLE_ADMIN) && p->active && strcmp(p->id, skip) != 0;
}

/* KW_ERR_CONFLICT if p is the last active admin, 0 if not. */
static int
not_last_admin(struct store *st, const struct person *p)
{
	int r;

	if (!(p->roles & ROLE_ADMIN) || !p->active)
		return 0;
	r = store_person_each(st, 0, INT32_MAX, other_admin, (void *)p->id);
	return r == 1 ? 0 : r < 0 ? r : KW_ERR_CONFLICT;
}

int
people_offboard(struct app *app, struct actor *a, const char *p_id,
    struct offboard_result *out, struct kw_fail *f)
{
	struct person	*p = &out->person;
	struct store	*st;
	struct id_list	*held;
	int		 r;

	memset(out, 0, sizeof(*out));
	out->withdrawn = json_array();
	if ((held = calloc(1, sizeof(*held))) == NULL ||
	    out->withdrawn == NULL) {
		r = KW_ERR_NOMEM;
		goto done;
	}
	/* the door's check, inside the transaction: f says why */
	if ((r = core_tx_begin(app, a, &st, f)) != 0)
		goto done;
	if ((r = store_person_get(st, p_id, p)) != 0)
		goto out;
	if ((r = not_last_admin(st, p)) != 0) {
		out->last_admin = r == KW_ERR_CONFLICT;
		goto out;
	}
	p->active = 0;
	kw_time_fmt(kw_now(), p->updated_at, sizeof(p->updated_at));
	if ((r = store_person_update(st, p)) != 0 ||
	    (r = store_token_revoke_person(st, p->id, p->updated_at,
	    &out->tokens_revoked)) != 0 ||
	    (r = store_session_delete_person(st, p->id,
	    &out->sessions_ended)) != 0 ||
	    (r = withdraw_open(st, a, p, out->withdrawn)) != 0 ||
	    (r = held_credentials(st, p, held)) != 0)
		goto out;
	r = core_audit(st, a, "person.offboard", p->email,
	    json_pack("{s:s, s:i, s:i, s:O, s:I}", "id", p->id,
	    "tokens_revoked", out->tokens_revoked, "sessions_ended",
	    out->sessions_ended,
	    "requests_withdrawn", out->withdrawn,
	    "credentials_to_revoke", (json_int_t)held->n), f);
 out:
	if (r != 0 && r != KW_ERR_NOT_FOUND && r != KW_ERR_CONFLICT &&
	    r != KW_ERR_NOMEM)
		r = KW_ERR_UNAVAILABLE;
	r = core_tx_end(app, r, f);
	if (r == 0) {
		if ((st = core_store(app)) == NULL)
			r = KW_ERR_UNAVAILABLE;	/* committed: offboarding
						   again revokes them */
		else
			out->revoked = revoke_all(app, st, a, held);
	}
 done:
	free(held);
	return r;
}

void
offboard_clear(struct offboard_result *out)
{
	json_decref(out->withdrawn);
	json_decref(out->revoked);
	out->withdrawn = out->revoked = NULL;
}

/* ---- joining and changes ---- */

int
people_manager_loop(struct store *st, const char *p_id, const char *mgr_id)
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

/* The names of the PF_* fields, in the order the audit event lists
 * them. */
static const struct {
	unsigned	 bit;
	const char	*name;
} field_names[] = {
	{ PF_EMAIL, "email" }, { PF_NAME, "name" }, { PF_MANAGER, "manager" },
	{ PF_ROLES, "roles" }, { PF_TEAMS, "teams" },
	{ PF_SLACK_ID, "slack_user_id" }, { PF_ACTIVE, "active" },
};

/*
 * Apply ch to p inside the transaction on w: the values given, and the
 * manager looked up here (it must exist, and a change must not make
 * anyone their own manager).  0 or a KW_ERR_* with f filled.
 */
static int
person_apply(struct store *w, const struct person_change *ch,
    struct person *p, struct kw_fail *f)
{
	struct person	m;
	int		creating = p->id[0] == '\0', r;

	if (ch->set & PF_EMAIL)
		kw_strlcpy(p->email, ch->p.email, sizeof(p->email));
	if (ch->set & PF_NAME)
		kw_strlcpy(p->name, ch->p.name, sizeof(p->name));
	if (ch->set & PF_MANAGER)
		p->manager_id[0] = p->manager_email[0] = '\0';
	if ((ch->set & PF_MANAGER) && ch->manager[0] != '\0') {
		if ((r = store_person_get(w, ch->manager, &m)) ==
		    KW_ERR_NOT_FOUND)
			return kw_fail(f, KW_ERR_VALIDATION, "manager",
			    "'manager': no person '%.200s'; add the manager "
			    "first", ch->manager);
		if (r != 0)
			return core_store_fail(r, "person", ch->manager, f);
		if (!creating && people_manager_loop(w, p->id, m.id))
			return kw_fail(f, KW_ERR_VALIDATION, "manager",
			    "'manager': %.200s would end up managing "
			    "themselves", p->email);
		kw_strlcpy(p->manager_id, m.id, sizeof(p->manager_id));
		kw_strlcpy(p->manager_email, m.email, sizeof(p->manager_email));
	}
	if (ch->set & PF_ROLES)
		p->roles = ch->p.roles;
	if (ch->set & PF_TEAMS) {
		memcpy(p->teams, ch->p.teams, sizeof(p->teams));
		p->nteams = ch->p.nteams;
	}
	if (ch->set & PF_SLACK_ID)
		kw_strlcpy(p->slack_user_id, ch->p.slack_user_id,
		    sizeof(p->slack_user_id));
	if (ch->set & PF_ACTIVE)
		p->active = ch->p.active;
	return 0;
}

/* The audit event's details: the person's id and the fields given. */
static json_t *
person_details(const struct person *p, unsigned set)
{
	json_t	*fields = json_array();
	size_t	 i;

	for (i = 0; i < KW_NELEM(field_names); i++)
		if (set & field_names[i].bit)
			json_array_append_new(fields,
			    json_string(field_names[i].name));
	return json_pack("{s:s, s:o}", "id", p->id, "fields", fields);
}

int
people_create(struct app *app, struct actor *a,
    const struct person_change *ch, struct person *out, struct kw_fail *f)
{
	struct store	*w;
	char		 now[KW_TIME_LEN + 1];
	int		 r;

	memset(out, 0, sizeof(*out));
	out->active = 1;
	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		return r;
	if ((r = person_apply(w, ch, out, f)) != 0)
		goto out;
	crypto_random_id("per_", out->id, sizeof(out->id));
	kw_time_fmt(kw_now(), now, sizeof(now));
	kw_strlcpy(out->created_at, now, sizeof(out->created_at));
	kw_strlcpy(out->updated_at, now, sizeof(out->updated_at));
	if ((r = store_person_insert(w, out)) != 0) {
		r = core_store_fail(r, "person with email", out->email, f);
		goto out;
	}
	r = core_audit(w, a, "person.create", out->email,
	    person_details(out, ch->set), f);
 out:
	return core_tx_end(app, r, f);
}

/* 0 if, after the change to p, someone can still administer
 * keywarden. */
static int
keeps_an_admin(struct store *w, const struct person *p, unsigned old_roles,
    int old_active, struct kw_fail *f)
{
	int r;

	if (!(old_roles & ROLE_ADMIN) || !old_active ||
	    ((p->roles & ROLE_ADMIN) && p->active))
		return 0;
	r = store_person_each(w, 0, INT32_MAX, other_admin, (void *)p->id);
	if (r == 1)
		return 0;
	if (r < 0)
		return core_store_fail(r, "", "", f);
	return kw_fail(f, KW_ERR_CONFLICT, NULL, "%.200s is the last active "
	    "admin; make someone else an admin first", p->email);
}

int
people_update(struct app *app, struct actor *a, const char *key,
    const struct person_change *ch, struct person *out, struct kw_fail *f)
{
	struct store	*w;
	unsigned	 old_roles;
	int		 r, old_active;

	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		return r;
	if ((r = store_person_get(w, key, out)) != 0) {
		r = core_store_fail(r, "person", key, f);
		goto out;
	}
	old_roles = out->roles;
	old_active = out->active;
	if ((r = person_apply(w, ch, out, f)) != 0 ||
	    (r = keeps_an_admin(w, out, old_roles, old_active, f)) != 0)
		goto out;
	kw_time_fmt(kw_now(), out->updated_at, sizeof(out->updated_at));
	if ((r = store_person_update(w, out)) != 0) {
		r = core_store_fail(r, "person with email", out->email, f);
		goto out;
	}
	r = core_audit(w, a, "person.update", out->email,
	    person_details(out, ch->set), f);
 out:
	return core_tx_end(app, r, f);
}

/* ---- personal tokens ---- */

int
people_token_mint(struct store *w, const struct crypto_keys *keys,
    const struct actor *a, const struct person *p, const char *label,
    int days, char *tok, size_t toksz, struct token_rec *rec)
{
	struct token_rec	t;
	struct kw_fail		f;
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
	if ((r = store_token_insert(w, &t)) != 0)
		return r;
	if (rec != NULL) {
		*rec = t;
		kw_wipe(rec->hash, sizeof(rec->hash));
	}
	kw_wipe(t.hash, sizeof(t.hash));
	memset(&f, 0, sizeof(f));
	return core_audit(w, a, "token.create", p->email, json_pack(
	    "{s:s, s:s, s:s, s:s}", "person_id", p->id, "token_id", t.id,
	    "label", t.label, "expires_at", t.expires_at), &f);
}

int
people_token_issue(struct app *app, struct actor *a, const char *key,
    const char *label, int days, char *tok, size_t toksz,
    struct token_rec *rec, struct person *p, struct kw_fail *f)
{
	struct store	*w;
	int		 r;

	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		return r;
	if ((r = store_person_get(w, key, p)) != 0) {
		r = core_store_fail(r, "person", key, f);
		goto out;
	}
	if (!p->active) {
		r = kw_fail(f, KW_ERR_CONFLICT, NULL, "%.200s is not active",
		    p->email);
		goto out;
	}
	/* a token id already taken is the store's trouble, not the
	 * caller's conflict */
	if ((r = people_token_mint(w, app->keys, a, p, label, days, tok,
	    toksz, rec)) != 0)
		r = core_store_fail(r == KW_ERR_CONFLICT ? KW_ERR_UNAVAILABLE :
		    r, "token", "", f);
 out:
	return core_tx_end(app, r, f);
}

int
people_token_revoke(struct app *app, struct actor *a, const char *key,
    const char *token_id, struct person *p, char now[KW_TIME_LEN + 1],
    struct kw_fail *f)
{
	struct store	*w;
	int		 r;

	if ((r = core_tx_begin(app, a, &w, f)) != 0)
		return r;
	kw_time_fmt(kw_now(), now, KW_TIME_LEN + 1);
	if ((r = store_person_get(w, key, p)) != 0)
		r = core_store_fail(r, "person", key, f);
	else if ((r = store_token_revoke(w, p->id, token_id, now)) != 0)
		r = r == KW_ERR_NOT_FOUND ? kw_fail(f, r, NULL, "no live "
		    "token '%.64s' of %.200s", token_id, p->email) :
		    core_store_fail(r, "", "", f);
	else
		r = core_audit(w, a, "token.revoke", p->email, json_pack(
		    "{s:s, s:s}", "person_id", p->id, "token_id", token_id), f);
	/* committing drops the authentication cache: the token is dead for
	 * the very next request */
	return core_tx_end(app, r, f);
}
