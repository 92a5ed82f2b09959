/*
 * zsim_support.c — the few resource endpoints that exercise scopes
 * (users/me, tickets) and the legacy API token endpoints with their
 * retirement timeline.
 */
#include <stdio.h>
#include <string.h>

#include "kw.h"
#include "util/util.h"
#include "zsim.h"

/* ---- users ---- */

void
zsim_users_me(struct zsim_call *c)
{
	const struct zsim_admin	*a;
	json_t			*body = NULL;
	char			 url[400];

	snprintf(url, sizeof(url), "%s/api/v2/users/%lld.json",
	    c->sim->base_url, (long long)c->user_id);
	zsim_lock(c->sim);
	if ((a = zsim_store_admin_by_id(c->sim, c->user_id)) != NULL)
		body = json_pack("{s:{s:I, s:s, s:s, s:s, s:s, s:b, s:o}}",
		    "user", "id", (json_int_t)a->user_id, "url", url, "name",
		    "Integration bot", "email", a->email, "role", "admin",
		    "active", 1, "created_at", zsim_time_json(a->created_at));
	zsim_unlock(c->sim);
	if (body == NULL)
		zsim_not_found(c);
	else
		zsim_reply(c, 200, body);
}

/* ---- tickets: stored so that lists page, never otherwise used ---- */

void
zsim_tickets_list(struct zsim_call *c)
{
	struct zsim_page	 pg;
	json_t			*list, *body, *t;
	int64_t			 last = 0;
	size_t			 i, n = 0, total;

	if (zsim_page_parse(c, &pg) != 0)
		return;
	list = json_array();
	zsim_lock(c->sim);
	total = json_array_size(c->sim->tickets);
	for (i = 0; i < total; i++) {
		t = json_array_get(c->sim->tickets, i);
		if (json_integer_value(json_object_get(t, "id")) <= pg.after)
			continue;
		if (n == pg.size)
			break;
		json_array_append_new(list, json_deep_copy(t));
		last = json_integer_value(json_object_get(t, "id"));
		n++;
	}
	body = json_pack("{s:o}", "tickets", list);
	zsim_page_finish(c, body, &pg, last, i < total, NULL);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

void
zsim_tickets_create(struct zsim_call *c)
{
	json_t		*in, *subject, *t = NULL, *details;

	if ((in = zsim_wrapper(c, "ticket")) == NULL)
		return;
	details = json_object();
	subject = json_object_get(in, "subject");
	if (subject != NULL && (!json_is_string(subject) ||
	    zsim_chars(json_string_value(subject)) > ZSIM_TEXT_MAX))
		zsim_detail(details, "subject", "InvalidValue",
		    "Subject: is invalid");
	zsim_lock(c->sim);
	if (json_array_size(c->sim->tickets) >= ZSIM_TICKETS_MAX)
		zsim_detail(details, "base", "TooMany", "The simulator holds "
		    "at most %d tickets", ZSIM_TICKETS_MAX);
	if (json_object_size(details) == 0 && (t = zsim_store_ticket_add(
	    c->sim, subject ? json_string_value(subject) : "",
	    c->user_id)) != NULL)
		t = json_deep_copy(t);
	zsim_unlock(c->sim);
	if (json_object_size(details) > 0) {
		zsim_invalid(c, details);
		return;
	}
	json_decref(details);
	if (t == NULL)
		zsim_error(c, 500, "InternalError", "out of memory");
	else
		zsim_reply(c, 201, json_pack("{s:o}", "ticket", t));
}

/* POST /_sim/tickets {"count": N, "subject"?}: seed N tickets requested
 * by the first admin, so that clients have something to page through.
 * Answers 201 {"tickets": <how many are held>}. */
void
zsim_ctl_tickets_seed(struct zsim_call *c)
{
	const json_t	*count = json_object_get(c->rq->body, "count");
	const json_t	*subj = json_object_get(c->rq->body, "subject");
	char		 subject[ZSIM_TEXT_BYTES + 16];
	json_int_t	 n, i;
	size_t		 held;
	int		 full = 0;

	if (!json_is_integer(count) || (n = json_integer_value(count)) < 1 ||
	    n > ZSIM_TICKETS_SEED_MAX || (subj != NULL &&
	    (!json_is_string(subj) ||
	    zsim_chars(json_string_value(subj)) > ZSIM_TEXT_MAX - 8))) {
		zsim_error(c, 400, "InvalidControlRequest", "count: 1..1000 "
		    "tickets; subject: text up to 247 characters");
		return;
	}
	zsim_lock(c->sim);
	for (i = 0; i < n && !full; i++) {
		snprintf(subject, sizeof(subject), "%s %lld", subj ?
		    json_string_value(subj) : "Seeded ticket",
		    (long long)c->sim->next_ticket_id);
		full = zsim_store_ticket_add(c->sim, subject,
		    c->sim->nadmins ? c->sim->admins[0].user_id : 0) == NULL;
	}
	held = json_array_size(c->sim->tickets);
	zsim_unlock(c->sim);
	if (full)
		zsim_error(c, 422, "TooMany", "the simulator holds at most "
		    "10000 tickets");
	else
		zsim_reply(c, 201, json_pack("{s:I}", "tickets",
		    (json_int_t)held));
}

/* ---- legacy API tokens ---- */

json_t *
zsim_legacy_json(const struct zsim *sim, const struct zsim_legacy *l)
{
	time_t off;
	int    active = zsim_legacy_active(sim, l, &off);

	return json_pack("{s:I, s:s, s:b, s:o, s:o, s:o, s:o, s:s}", "id",
	    (json_int_t)l->id, "description", l->description, "active",
	    active, "created_at", zsim_time_json(l->created_at),
	    "updated_at", zsim_time_json(off ? off : l->updated_at),
	    "last_used", zsim_time_json(l->last_used), "user_id",
	    l->user_id ? json_integer(l->user_id) : json_null(),
	    "visible_token", l->shown);
}

void
zsim_api_tokens_list(struct zsim_call *c)
{
	json_t	*list = json_array();
	size_t	 i;
	int	 gone;

	zsim_lock(c->sim);
	if (!(gone = zsim_store_now(c->sim) >= c->sim->legacy_off_at)) {
		zsim_store_legacy_sweep(c->sim);
		for (i = 0; i < c->sim->nlegacy; i++)
			json_array_append_new(list, zsim_legacy_json(c->sim,
			    &c->sim->legacy[i]));
	}
	zsim_unlock(c->sim);
	if (gone) {	/* the endpoint itself is retired */
		json_decref(list);
		zsim_unknown_endpoint(c);
	} else
		zsim_reply(c, 200, json_pack("{s:o}", "api_tokens", list));
}

void
zsim_api_tokens_create(struct zsim_call *c)
{
	struct zsim_legacy	*l;
	json_t			*in, *desc, *body = NULL;
	char			 token[ZSIM_LEGACY_LEN + 1];
	time_t			 now;

	zsim_lock(c->sim);
	now = zsim_store_now(c->sim);
	zsim_unlock(c->sim);
	if (now >= c->sim->legacy_off_at) {
		zsim_unknown_endpoint(c);
		return;
	}
	if (now >= c->sim->legacy_create_until) {
		zsim_forbidden(c, "API token creation is no longer available "
		    "on this account: use OAuth access tokens instead.");
		return;
	}
	if ((in = zsim_wrapper(c, "api_token")) == NULL)
		return;
	desc = json_object_get(in, "description");
	if (desc != NULL && (!json_is_string(desc) ||
	    zsim_chars(json_string_value(desc)) > ZSIM_TEXT_MAX)) {
		body = json_object();
		zsim_detail(body, "description", "InvalidValue",
		    "Description: is invalid or too long");
		zsim_invalid(c, body);
		return;
	}
	zsim_lock(c->sim);
	zsim_store_legacy_sweep(c->sim);
	l = zsim_store_legacy_add(c->sim, desc ? json_string_value(desc) : "",
	    c->user_id, now, 0, token, sizeof(token));
	if (l != NULL && (body = zsim_legacy_json(c->sim, l)) != NULL)
		json_object_set_new(body, "token", json_string(token));
	zsim_unlock(c->sim);
	kw_wipe(token, sizeof(token));
	if (l == NULL) {
		body = json_object();
		zsim_detail(body, "base", "TooMany", "The account has reached "
		    "the maximum of %d API tokens", ZSIM_LEGACY_MAX);
		zsim_invalid(c, body);
	} else
		zsim_reply(c, 201, json_pack("{s:o}", "api_token", body));
}
