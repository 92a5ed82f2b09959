/*
 * zsim_control.c — the /_sim/ control plane that tests, the benchmark
 * and the demo use to steer and inspect the simulator: the clock,
 * admins, injected faults, seeded legacy tokens, options, state,
 * counters and reset.  No authentication (the simulator only listens
 * on loopback); never answers with a secret except the one a seeding
 * call creates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "util/util.h"
#include "zsim.h"

static void
ctl_bad(struct zsim_call *c, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zsim_error(c, 400, "InvalidControlRequest", msg);
}

/* An optional integer member in [min, max]; def when absent.  -1 when
 * present but not such an integer. */
static int
int_member(const json_t *o, const char *key, long long min, long long max,
    long long def, long long *out)
{
	json_t *v = json_object_get(o, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* ---- clock ---- */

static json_t *
clock_json(const struct zsim *sim)
{
	return json_pack("{s:o, s:b}", "now",
	    zsim_time_json(zsim_store_now(sim)), "frozen", sim->frozen);
}

void
zsim_ctl_clock_get(struct zsim_call *c)
{
	json_t *body;

	zsim_lock(c->sim);
	body = clock_json(c->sim);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

/* {"now": RFC3339} freezes the clock there, {"now": null} returns to
 * real time, {"advance_seconds": N} moves it (and freezes it). */
void
zsim_ctl_clock_set(struct zsim_call *c)
{
	json_t		*now = json_object_get(c->rq->body, "now"), *body;
	long long	 adv;
	time_t		 t = 0;

	if (int_member(c->rq->body, "advance_seconds", -3650LL * 86400,
	    3650LL * 86400, 0, &adv) != 0) {
		ctl_bad(c, "advance_seconds: an integer number of seconds");
		return;
	}
	if (now != NULL && !json_is_null(now) &&
	    zsim_time_from_json(now, &t) != 0) {
		ctl_bad(c, "now: an RFC 3339 UTC time like "
		    "2026-11-28T09:00:00Z, or null for real time");
		return;
	}
	if (now == NULL && json_object_get(c->rq->body, "advance_seconds") ==
	    NULL) {
		ctl_bad(c, "give now or advance_seconds");
		return;
	}
	zsim_lock(c->sim);
	if (json_is_null(now))
		zsim_store_real_time(c->sim);
	else if (now != NULL)
		zsim_store_set_now(c->sim, t);
	if (adv != 0)
		zsim_store_set_now(c->sim, zsim_store_now(c->sim) +
		    (time_t)adv);
	body = clock_json(c->sim);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

/* ---- admins ---- */

void
zsim_ctl_admins_add(struct zsim_call *c)
{
	const char	*token, *email;
	int64_t		 uid = 0;
	int		 r;

	token = json_string_value(json_object_get(c->rq->body, "token"));
	email = json_string_value(json_object_get(c->rq->body, "email"));
	if (token == NULL || *token == '\0' ||
	    strlen(token) > KW_BOT_TOKEN_MAX || strpbrk(token, " \t") != NULL) {
		ctl_bad(c, "token: a non-empty string without spaces");
		return;
	}
	if (email == NULL || !kw_valid_email(email)) {
		ctl_bad(c, "email: an email address");
		return;
	}
	zsim_lock(c->sim);
	r = zsim_store_admin_add(c->sim, token, email, &uid);
	zsim_unlock(c->sim);
	if (r == KW_ERR_CONFLICT)
		zsim_error(c, 409, "Conflict", "that token or email is "
		    "already an admin's");
	else if (r != 0)
		zsim_error(c, 422, "TooMany", "too many admins");
	else
		zsim_reply(c, 201, json_pack("{s:I, s:s}", "user_id",
		    (json_int_t)uid, "email", email));
}

/* ---- faults ---- */

static json_t *
fault_json(const struct zsim_fault *f)
{
	return json_pack("{s:I, s:i, s:i, s:i, s:i, s:s, s:s?}", "id",
	    (json_int_t)f->id, "status", f->status, "count", f->count,
	    "retry_after", f->retry_after, "hang_ms", f->hang_ms,
	    "path_prefix", f->path_prefix, "method",
	    f->method[0] ? f->method : NULL);
}

void
zsim_ctl_faults_list(struct zsim_call *c)
{
	json_t	*list = json_array();
	size_t	 i;

	zsim_lock(c->sim);
	for (i = 0; i < c->sim->nfaults; i++)
		json_array_append_new(list, fault_json(&c->sim->faults[i]));
	zsim_unlock(c->sim);
	zsim_reply(c, 200, json_pack("{s:o}", "faults", list));
}

/* Fill f from the request; 0, or -1 after answering 400. */
static int
fault_parse(struct zsim_call *c, struct zsim_fault *f)
{
	const json_t	*b = c->rq->body;
	const char	*prefix, *method;
	long long	 status, count, ra, hang;

	memset(f, 0, sizeof(*f));
	if (int_member(b, "status", 0, 599, 0, &status) != 0 ||
	    (status != 0 && status != 429 && status != 500 && status != 502 &&
	    status != 503)) {
		ctl_bad(c, "status: 429, 500, 502, 503, or 0 to only hang");
		return -1;
	}
	if (int_member(b, "count", 1, ZSIM_FAULT_COUNT_MAX, 1, &count) ||
	    int_member(b, "retry_after", 0, ZSIM_RETRY_AFTER_MAX,
	    status == 429 ? 1 : 0, &ra) ||
	    int_member(b, "hang_ms", 0, ZSIM_HANG_MAX_MS, 0, &hang)) {
		ctl_bad(c, "count 1..%d, retry_after 0..%d s, hang_ms 0..%d",
		    ZSIM_FAULT_COUNT_MAX, ZSIM_RETRY_AFTER_MAX,
		    ZSIM_HANG_MAX_MS);
		return -1;
	}
	if (status == 0 && hang == 0) {
		ctl_bad(c, "a fault needs a status or hang_ms");
		return -1;
	}
	prefix = json_string_value(json_object_get(b, "path_prefix"));
	method = json_string_value(json_object_get(b, "method"));
	if ((json_object_get(b, "path_prefix") != NULL && (prefix == NULL ||
	    (*prefix != '\0' && *prefix != '/') ||
	    strlen(prefix) >= sizeof(f->path_prefix))) ||
	    (json_object_get(b, "method") != NULL && (method == NULL ||
	    strlen(method) >= sizeof(f->method)))) {
		ctl_bad(c, "path_prefix: a path starting with /; method: "
		    "an HTTP method");
		return -1;
	}
	f->status = (int)status;
	f->count = (int)count;
	f->retry_after = (int)ra;
	f->hang_ms = (int)hang;
	kw_strlcpy(f->path_prefix, prefix ? prefix : "",
	    sizeof(f->path_prefix));
	kw_strlcpy(f->method, method ? method : "", sizeof(f->method));
	return 0;
}

void
zsim_ctl_faults_add(struct zsim_call *c)
{
	struct zsim_fault	 f;
	json_t			*body = NULL;

	if (fault_parse(c, &f) != 0)
		return;
	zsim_lock(c->sim);
	if (c->sim->nfaults < ZSIM_FAULTS_MAX) {
		f.id = c->sim->next_fault_id++;
		c->sim->faults[c->sim->nfaults++] = f;
		body = json_pack("{s:o}", "fault", fault_json(&f));
	}
	zsim_unlock(c->sim);
	if (body == NULL)
		zsim_error(c, 422, "TooMany", "too many pending faults");
	else
		zsim_reply(c, 201, body);
}

void
zsim_ctl_faults_clear(struct zsim_call *c)
{
	zsim_lock(c->sim);
	c->sim->nfaults = 0;
	zsim_unlock(c->sim);
	zsim_reply(c, 204, NULL);
}

/* ---- seeded legacy API tokens ---- */

/* {"description", "created_at", "last_used": RFC3339|null, "user_id"?}:
 * the one answer that carries the new token. */
void
zsim_ctl_legacy_add(struct zsim_call *c)
{
	const json_t		*b = c->rq->body;
	const json_t		*desc = json_object_get(b, "description");
	const json_t		*lu = json_object_get(b, "last_used");
	struct zsim_legacy	*l;
	json_t			*body = NULL;
	char			 token[ZSIM_LEGACY_LEN + 1];
	time_t			 created = 0, last = 0;
	long long		 uid;

	if ((desc != NULL && (!json_is_string(desc) ||
	    zsim_chars(json_string_value(desc)) > ZSIM_TEXT_MAX)) ||
	    (json_object_get(b, "created_at") != NULL &&
	    zsim_time_from_json(json_object_get(b, "created_at"), &created)) ||
	    (lu != NULL && !json_is_null(lu) &&
	    zsim_time_from_json(lu, &last)) ||
	    int_member(b, "user_id", 0, INT64_MAX, 0, &uid) != 0) {
		ctl_bad(c, "description: text up to 255 characters; "
		    "created_at, last_used: RFC 3339 UTC times or null");
		return;
	}
	zsim_lock(c->sim);
	if (created == 0)
		created = zsim_store_now(c->sim);
	if (uid == 0 && c->sim->nadmins > 0)
		uid = c->sim->admins[0].user_id;
	l = zsim_store_legacy_add(c->sim, desc ? json_string_value(desc) : "",
	    uid, created, last, token, sizeof(token));
	if (l != NULL && (body = zsim_legacy_json(c->sim, l)) != NULL)
		json_object_set_new(body, "token", json_string(token));
	zsim_unlock(c->sim);
	kw_wipe(token, sizeof(token));
	if (l == NULL)
		zsim_error(c, 422, "TooMany", "the account holds the maximum "
		    "of 256 API tokens");
	else
		zsim_reply(c, 201, json_pack("{s:o}", "api_token", body));
}

/* The options as JSON (for /_sim/options and /_sim/state). */
static json_t *
options_json(const struct zsim *sim)
{
	return json_pack("{s:o, s:b, s:i, s:i}", "token_expires_in",
	    sim->token_expires_in ? json_integer(sim->token_expires_in) :
	    json_null(), "new_client_tokens_expire",
	    sim->new_client_tokens_expire, "rate_limit", sim->rate_limit,
	    "grant_status", sim->grant_status);
}

/* {"token_expires_in": N|null, "new_client_tokens_expire": bool,
 * "rate_limit": N, "grant_status": 200|201}, each optional:
 * token_expires_in gives tokens minted by POST /api/v2/oauth/tokens
 * from now on a lifetime of N seconds; new_client_tokens_expire gives
 * those of clients under the enforced TTLs an expires_at; rate_limit is
 * the account's calls per minute; grant_status the status of a
 * successful grant.  Answers with every option. */
void
zsim_ctl_options(struct zsim_call *c)
{
	const json_t	*b = c->rq->body;
	const json_t	*v = json_object_get(b, "token_expires_in");
	const json_t	*nce = json_object_get(b, "new_client_tokens_expire");
	long long	 n = 0, limit, gs;
	json_t		*body;

	if (v != NULL && !json_is_null(v) && int_member(b,
	    "token_expires_in", 0, 10LL * 365 * 86400, 0, &n) != 0) {
		ctl_bad(c, "token_expires_in: seconds, or null for never");
		return;
	}
	if ((nce != NULL && !json_is_boolean(nce)) ||
	    int_member(b, "rate_limit", 1, ZSIM_RATE_LIMIT_MAX, 0, &limit) ||
	    int_member(b, "grant_status", 200, 201, 0, &gs)) {
		ctl_bad(c, "new_client_tokens_expire: true or false; "
		    "rate_limit: 1..%d calls a minute; grant_status: 200 or "
		    "201", ZSIM_RATE_LIMIT_MAX);
		return;
	}
	zsim_lock(c->sim);
	if (v != NULL)
		c->sim->token_expires_in = (int)n;
	if (nce != NULL)
		c->sim->new_client_tokens_expire = json_is_true(nce);
	if (limit != 0)
		c->sim->rate_limit = (int)limit;
	if (gs != 0)
		c->sim->grant_status = (int)gs;
	body = options_json(c->sim);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

/* POST /_sim/clients/{id}/hidden {"hidden": true|false}: leave the
 * client out of GET /api/v2/oauth/clients (it still exists: shown by id,
 * its tokens work), as an inconsistent or lying listing would. */
void
zsim_ctl_client_hidden(struct zsim_call *c)
{
	const json_t		*v = json_object_get(c->rq->body, "hidden");
	struct zsim_client	*cl;
	int64_t			 id = zsim_param_id(c, 0);

	if (!json_is_boolean(v)) {
		ctl_bad(c, "hidden: true or false");
		return;
	}
	zsim_lock(c->sim);
	if ((cl = zsim_vec_find(&c->sim->clients, id)) != NULL)
		cl->hidden = json_is_true(v);
	zsim_unlock(c->sim);
	if (cl == NULL)
		zsim_not_found(c);
	else
		zsim_reply(c, 200, json_pack("{s:I, s:b}", "client_id",
		    (json_int_t)id, "hidden", json_is_true(v)));
}

/* ---- inspection ---- */

static json_t *
state_tokens(const struct zsim *sim)
{
	const struct zsim_token	*t;
	json_t			*list = json_array(), *o;
	size_t			 i;

	for (i = 0; i < sim->tokens.n; i++) {
		t = sim->tokens.v[i];
		if ((o = zsim_token_json(sim, t, NULL)) == NULL)
			continue;
		json_object_set_new(o, "token_prefix", json_string(t->shown));
		json_object_set_new(o, "scopes_valid",
		    json_boolean(t->scopes_valid));
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *
state_legacy(const struct zsim *sim)
{
	json_t	*list = json_array(), *o;
	time_t	 off;
	size_t	 i;

	for (i = 0; i < sim->nlegacy; i++) {
		if ((o = zsim_legacy_json(sim, &sim->legacy[i])) == NULL)
			continue;
		zsim_legacy_active(sim, &sim->legacy[i], &off);
		json_object_set_new(o, "deactivated_at", zsim_time_json(off));
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *
state_requests(const struct zsim *sim)
{
	json_t	*by = json_object();
	size_t	 i;

	for (i = 0; i < zsim_endpoint_count(); i++)
		if (sim->ep_requests[i] > 0)
			json_object_set_new(by, zsim_endpoint_name(i),
			    json_integer((json_int_t)sim->ep_requests[i]));
	return json_pack("{s:I, s:o}", "total", (json_int_t)sim->requests,
	    "by_endpoint", by);
}

/* Everything the account holds, for assertions; never a secret. */
void
zsim_ctl_state(struct zsim_call *c)
{
	struct zsim	*sim = c->sim;
	json_t		*admins = json_array(), *clients = json_array();
	json_t		*faults = json_array(), *body;
	size_t		 i;

	zsim_lock(sim);
	zsim_store_legacy_sweep(sim);
	for (i = 0; i < sim->nadmins; i++)
		json_array_append_new(admins, json_pack("{s:I, s:s}",
		    "user_id", (json_int_t)sim->admins[i].user_id, "email",
		    sim->admins[i].email));
	for (i = 0; i < sim->clients.n; i++)
		json_array_append_new(clients, zsim_client_json(sim,
		    sim->clients.v[i], NULL));
	for (i = 0; i < sim->nfaults; i++)
		json_array_append_new(faults, fault_json(&sim->faults[i]));
	body = json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:I, s:o, s:o, "
	    "s:o}", "now", zsim_time_json(zsim_store_now(sim)), "frozen",
	    sim->frozen, "admins", admins, "clients", clients, "tokens",
	    state_tokens(sim), "legacy_tokens", state_legacy(sim),
	    "tickets", (json_int_t)json_array_size(sim->tickets), "faults",
	    faults, "options", options_json(sim), "requests",
	    state_requests(sim));
	zsim_unlock(sim);
	zsim_reply(c, 200, body);
}

void
zsim_ctl_stats(struct zsim_call *c)
{
	json_t *body;

	zsim_lock(c->sim);
	body = json_pack("{s:I, s:I, s:I, s:I}", "requests",
	    (json_int_t)c->sim->requests, "clients",
	    (json_int_t)c->sim->clients.n, "tokens",
	    (json_int_t)c->sim->tokens.n, "legacy_tokens",
	    (json_int_t)c->sim->nlegacy);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

void
zsim_ctl_reset(struct zsim_call *c)
{
	zsim_lock(c->sim);
	zsim_store_reset(c->sim);
	zsim_unlock(c->sim);
	log_msg("info", "state reset by the control plane");
	zsim_reply(c, 204, NULL);
}
