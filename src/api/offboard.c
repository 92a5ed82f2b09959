/*
 * offboard.c — a person leaves: inactive, tokens dead, open requests
 * withdrawn, credentials revoked on their instances.  Shared by
 * /v1/people/{x}/offboard and SCIM; takes an actor, never a request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "api/issuance.h"
#include "api/offboard.h"
#include "audit/audit.h"
#include "util/util.h"

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
withdraw_open(struct store *st, const char *actor, const struct person *p,
    json_t *done)
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
	kw_strlcpy(h.actor, actor, sizeof(h.actor));
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
revoke_all(struct app *app, struct store *st, const char *actor,
    const struct id_list *l)
{
	struct provider_error	 perr;
	json_t			*done = json_array();
	size_t			 i;
	int			 r;

	for (i = 0; i < l->n; i++) {
		r = issuance_revoke(app, st, actor, l->ids[i],
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
people_offboard(struct app *app, const char *actor, const char *p_id,
    offboard_check check, void *arg, struct offboard_result *out)
{
	struct person	*p = &out->person;
	struct store	*st;
	struct id_list	*held;
	int		 r, checked = 0;

	memset(out, 0, sizeof(*out));
	out->withdrawn = json_array();
	if ((held = calloc(1, sizeof(*held))) == NULL ||
	    out->withdrawn == NULL) {
		r = KW_ERR_NOMEM;
		goto done;
	}
	if ((r = core_write_begin(app, &st)) != 0)
		goto done;
	if (check != NULL && (r = check(arg, st)) != 0) {
		checked = r;
		goto out;
	}
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
	    (r = withdraw_open(st, actor, p, out->withdrawn)) != 0 ||
	    (r = held_credentials(st, p, held)) != 0)
		goto out;
	r = audit_append(st, actor, "person.offboard", p->email,
	    json_pack("{s:s, s:i, s:i, s:O, s:I}", "id", p->id, "tokens_revoked",
	    out->tokens_revoked, "sessions_ended", out->sessions_ended,
	    "requests_withdrawn", out->withdrawn,
	    "credentials_to_revoke", (json_int_t)held->n));
 out:
	if (r != 0 && r != checked && r != KW_ERR_NOT_FOUND &&
	    r != KW_ERR_CONFLICT && r != KW_ERR_NOMEM)
		r = KW_ERR_UNAVAILABLE;
	r = core_write_end(app, r);
	if (r == 0) {
		if ((st = core_store(app)) == NULL)
			r = KW_ERR_UNAVAILABLE;	/* committed: offboarding
						   again revokes them */
		else
			out->revoked = revoke_all(app, st, actor, held);
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
