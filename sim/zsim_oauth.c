/*
 * zsim_oauth.c — /api/v2/oauth/clients, /api/v2/oauth/tokens and the
 * client_credentials and refresh_token grants at /oauth/tokens (plus the
 * control plane's stand-in for a completed authorization-code flow),
 * with Zendesk's wrappers, status codes, once-only secrets and token
 * lifetimes, plus the scope vocabulary.
 *
 * Secrets are generated here, handed out in exactly one answer, and
 * only their digests are kept.  Stored JSON never shares a value with a
 * request or an answer (deep copies both ways), so answers can be
 * rendered after the lock is released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "util/util.h"
#include "zsim.h"

/* ---- scopes ---- */

static const struct {
	const char	*name;
	int		 read, write;
} resources[] = {
	{ "tickets", 1, 1 }, { "users", 1, 1 }, { "auditlogs", 1, 0 },
	{ "organizations", 1, 1 }, { "hc", 1, 1 }, { "apps", 1, 1 },
	{ "triggers", 1, 1 }, { "automations", 1, 1 }, { "targets", 1, 1 },
	{ "webhooks", 1, 1 }, { "macros", 1, 1 }, { "requests", 1, 1 },
	{ "satisfaction_ratings", 1, 1 }, { "dynamic_content", 1, 1 },
	{ "any_channel", 0, 1 }, { "web_widget", 0, 1 },
};

int
zsim_scope_valid(const char *s)
{
	const char	*colon;
	size_t		 i, n;

	if (strcmp(s, "read") == 0 || strcmp(s, "write") == 0 ||
	    strcmp(s, "impersonate") == 0)
		return 1;
	if ((colon = strchr(s, ':')) == NULL)
		return 0;
	n = (size_t)(colon - s);
	for (i = 0; i < KW_NELEM(resources); i++) {
		if (strlen(resources[i].name) != n ||
		    strncmp(resources[i].name, s, n) != 0)
			continue;
		return (resources[i].read && strcmp(colon, ":read") == 0) ||
		    (resources[i].write && strcmp(colon, ":write") == 0);
	}
	return 0;
}

int
zsim_scopes_allow(const json_t *scopes, const char *resource,
    enum zsim_rw rw)
{
	const char	*want = rw == RW_WRITE ? "write" : "read", *s;
	char		 full[ZSIM_SCOPE_LEN_MAX + 16];
	json_t		*v;
	size_t		 i;

	snprintf(full, sizeof(full), "%s:%s", resource, want);
	json_array_foreach(scopes, i, v) {
		s = json_string_value(v);
		if (s != NULL && (strcmp(s, want) == 0 ||
		    strcmp(s, full) == 0))
			return 1;
	}
	return 0;
}

/* Check a "scopes" array; a copy in *out, *valid says whether every
 * entry is a scope Zendesk knows.  Zendesk accepts unknown ones. */
static int
scopes_take(const json_t *in, json_t **out, int *valid)
{
	json_t	*v;
	size_t	 i;

	*out = NULL;
	*valid = 1;
	if (!json_is_array(in) || json_array_size(in) == 0 ||
	    json_array_size(in) > ZSIM_SCOPES_MAX)
		return -1;
	json_array_foreach(in, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > ZSIM_SCOPE_LEN_MAX)
			return -1;
		if (!zsim_scope_valid(json_string_value(v)))
			*valid = 0;
	}
	*out = json_deep_copy(in);
	return *out == NULL ? -1 : 0;
}

/* ---- clients ---- */

json_t *
zsim_client_json(const struct zsim *sim, const struct zsim_client *cl,
    const char *secret)
{
	char	 url[400];
	json_t	*o;

	snprintf(url, sizeof(url), "%s/api/v2/oauth/clients/%lld.json",
	    sim->base_url, (long long)cl->id);
	o = json_pack("{s:I, s:s}", "id", (json_int_t)cl->id, "url", url);
	if (o == NULL)
		return NULL;
	json_object_update_new(o, json_deep_copy(cl->attrs));
	json_object_set_new(o, "global", json_false());
	json_object_set_new(o, "user_id", json_integer(cl->user_id));
	if (secret != NULL)
		json_object_set_new(o, "secret", json_string(secret));
	json_object_set_new(o, "created_at", zsim_time_json(cl->created_at));
	json_object_set_new(o, "updated_at", zsim_time_json(cl->updated_at));
	return o;
}

/* A text field: absent is fine unless required; null clears optional
 * ones; at most max characters. */
static void
text_field(const json_t *in, json_t *out, json_t *details, const char *key,
    const char *label, int required, size_t max)
{
	json_t *v = json_object_get(in, key);

	if (v == NULL && !required)
		return;
	if (json_is_null(v) && !required) {
		json_object_set_new(out, key, json_null());
		return;
	}
	if (v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0)) {
		zsim_detail(details, key, "BlankValue", "%s: cannot be blank",
		    label);
		return;
	}
	if (!json_is_string(v)) {
		zsim_detail(details, key, "InvalidValue", "%s: is invalid",
		    label);
		return;
	}
	if (zsim_chars(json_string_value(v)) > max) {
		zsim_detail(details, key, "TooLong", "%s: is too long "
		    "(maximum is %zu characters)", label, max);
		return;
	}
	json_object_set_new(out, key, json_deep_copy(v));
}

static void
redirects_field(const json_t *in, json_t *out, json_t *details)
{
	json_t	*v = json_object_get(in, "redirect_uri"), *u;
	size_t	 i;

	if (v == NULL)
		return;
	if (!json_is_array(v) || json_array_size(v) > ZSIM_REDIRECTS_MAX)
		goto bad;
	json_array_foreach(v, i, u)
		if (!json_is_string(u) || json_string_length(u) == 0 ||
		    zsim_chars(json_string_value(u)) > ZSIM_URI_MAX)
			goto bad;
	json_object_set_new(out, "redirect_uri", json_deep_copy(v));
	return;
bad:
	zsim_detail(details, "redirect_uri", "InvalidValue",
	    "Redirect URI: is invalid");
}

/* Validate the writable fields present in in into out; self is the
 * client being updated (NULL when creating: name and identifier are
 * then required). */
static void
client_fields(const struct zsim *sim, const json_t *in, json_t *out,
    json_t *details, const struct zsim_client *self)
{
	struct zsim_client	*other;
	const char		*s;
	json_t			*kind;

	text_field(in, out, details, "name", "Name", self == NULL,
	    ZSIM_TEXT_MAX);
	text_field(in, out, details, "identifier", "Identifier",
	    self == NULL, ZSIM_TEXT_MAX);
	text_field(in, out, details, "description", "Description", 0,
	    ZSIM_TEXT_MAX);
	text_field(in, out, details, "company", "Company", 0, ZSIM_TEXT_MAX);
	text_field(in, out, details, "logo_url", "Logo URL", 0, ZSIM_URI_MAX);
	redirects_field(in, out, details);
	if ((kind = json_object_get(in, "kind")) != NULL) {
		s = json_string_value(kind);
		if (s == NULL || (strcmp(s, "public") != 0 &&
		    strcmp(s, "confidential") != 0))
			zsim_detail(details, "kind", "InvalidValue",
			    "Kind: is invalid");
		else
			json_object_set_new(out, "kind", json_deep_copy(kind));
	}
	s = json_string_value(json_object_get(out, "identifier"));
	if (s != NULL && (other = zsim_store_client_by_identifier(sim, s))
	    != NULL && other != self)
		zsim_detail(details, "identifier", "DuplicateValue",
		    "Identifier: has already been taken");
}

/* Give cl a new secret; the full one goes to out (once). */
static void
client_new_secret(struct zsim_client *cl, char *out, size_t outsz)
{
	zsim_secret_new(out, outsz, ZSIM_SECRET_LEN);
	zsim_hash(out, cl->secret_hash);
	snprintf(cl->secret_shown, sizeof(cl->secret_shown), "%.*s...",
	    ZSIM_SECRET_SHOWN, out);
}

static struct zsim_client *
client_new(struct zsim *sim, int64_t user_id, json_t *attrs, char *secret,
    size_t secretsz)
{
	struct zsim_client *cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return NULL;
	cl->id = sim->next_client_id++;
	cl->user_id = user_id;
	cl->attrs = json_pack("{s:s, s:s, s:s, s:[], s:n, s:n, s:n}", "name",
	    "", "identifier", "", "kind", "public", "redirect_uri",
	    "description", "company", "logo_url");
	if (cl->attrs == NULL) {
		free(cl);
		return NULL;
	}
	json_object_update(cl->attrs, attrs);
	cl->created_at = cl->updated_at = zsim_store_now(sim);
	client_new_secret(cl, secret, secretsz);
	return cl;
}

void
zsim_clients_create(struct zsim_call *c)
{
	struct zsim_client	*cl = NULL;
	json_t			*in, *attrs, *details, *body = NULL;
	char			 secret[ZSIM_SECRET_LEN + 1];

	if ((in = zsim_wrapper(c, "client")) == NULL)
		return;
	attrs = json_object();
	details = json_object();
	zsim_lock(c->sim);
	client_fields(c->sim, in, attrs, details, NULL);
	if (json_object_size(details) == 0 &&
	    c->sim->clients.n >= ZSIM_CLIENTS_MAX)
		zsim_detail(details, "base", "TooMany", "The account has "
		    "reached the maximum of %d OAuth clients",
		    ZSIM_CLIENTS_MAX);
	if (json_object_size(details) == 0) {
		cl = client_new(c->sim, c->user_id, attrs, secret,
		    sizeof(secret));
		if (cl != NULL && zsim_store_client_add(c->sim, cl) != 0) {
			zsim_client_free(cl);
			cl = NULL;
		}
		if (cl != NULL)
			body = json_pack("{s:o}", "client",
			    zsim_client_json(c->sim, cl, secret));
	}
	zsim_unlock(c->sim);
	kw_wipe(secret, sizeof(secret));
	json_decref(attrs);
	if (json_object_size(details) > 0)
		zsim_invalid(c, details);
	else if (body == NULL) {
		json_decref(details);
		zsim_error(c, 500, "InternalError", "out of memory");
	} else {
		json_decref(details);
		zsim_reply(c, 201, body);
	}
}

void
zsim_clients_list(struct zsim_call *c)
{
	struct zsim_client	*cl = NULL;
	struct zsim_page	 pg;
	json_t			*list, *body;
	size_t			 i, n = 0;

	if (zsim_page_parse(c, &pg) != 0)
		return;
	list = json_array();
	zsim_lock(c->sim);
	for (i = zsim_vec_after(&c->sim->clients, pg.after);
	    i < c->sim->clients.n && n < pg.size; i++) {
		if (((struct zsim_client *)c->sim->clients.v[i])->hidden)
			continue;	/* a listing that lies (tests) */
		cl = c->sim->clients.v[i];
		json_array_append_new(list, zsim_client_json(c->sim, cl,
		    cl->secret_shown));
		n++;
	}
	body = json_pack("{s:o}", "clients", list);
	zsim_page_finish(c, body, &pg, n ? cl->id : 0,
	    i < c->sim->clients.n, NULL);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

void
zsim_clients_show(struct zsim_call *c)
{
	struct zsim_client	*cl;
	json_t			*body = NULL;

	zsim_lock(c->sim);
	if ((cl = zsim_vec_find(&c->sim->clients, zsim_param_id(c, 0))) !=
	    NULL)
		body = json_pack("{s:o}", "client", zsim_client_json(c->sim,
		    cl, cl->secret_shown));
	zsim_unlock(c->sim);
	if (body == NULL)
		zsim_not_found(c);
	else
		zsim_reply(c, 200, body);
}

void
zsim_clients_update(struct zsim_call *c)
{
	struct zsim_client	*cl;
	json_t			*in, *attrs, *details, *body = NULL;

	if ((in = zsim_wrapper(c, "client")) == NULL)
		return;
	attrs = json_object();
	details = json_object();
	zsim_lock(c->sim);
	if ((cl = zsim_vec_find(&c->sim->clients, zsim_param_id(c, 0))) !=
	    NULL) {
		client_fields(c->sim, in, attrs, details, cl);
		if (json_object_size(details) == 0) {
			zsim_store_client_update(c->sim, cl, attrs);
			cl->updated_at = zsim_store_now(c->sim);
			body = json_pack("{s:o}", "client",
			    zsim_client_json(c->sim, cl, cl->secret_shown));
		}
	}
	zsim_unlock(c->sim);
	json_decref(attrs);
	if (cl == NULL) {
		json_decref(details);
		zsim_not_found(c);
	} else if (body == NULL)
		zsim_invalid(c, details);
	else {
		json_decref(details);
		zsim_reply(c, 200, body);
	}
}

void
zsim_clients_generate_secret(struct zsim_call *c)
{
	struct zsim_client	*cl;
	json_t			*body = NULL;
	char			 secret[ZSIM_SECRET_LEN + 1];

	zsim_lock(c->sim);
	if ((cl = zsim_vec_find(&c->sim->clients, zsim_param_id(c, 0))) !=
	    NULL) {
		client_new_secret(cl, secret, sizeof(secret));
		cl->updated_at = zsim_store_now(c->sim);
		body = json_pack("{s:o}", "client", zsim_client_json(c->sim,
		    cl, secret));
		kw_wipe(secret, sizeof(secret));
	}
	zsim_unlock(c->sim);
	if (body == NULL)
		zsim_not_found(c);
	else
		zsim_reply(c, 200, body);
}

void
zsim_clients_delete(struct zsim_call *c)
{
	int64_t	id = zsim_param_id(c, 0);
	int	found;

	zsim_lock(c->sim);
	if ((found = zsim_vec_find(&c->sim->clients, id) != NULL))
		zsim_store_client_delete(c->sim, id);
	zsim_unlock(c->sim);
	if (found)
		zsim_reply(c, 204, NULL);
	else
		zsim_not_found(c);
}

/* ---- tokens ---- */

json_t *
zsim_token_json(const struct zsim *sim, const struct zsim_token *t,
    const char *full_token)
{
	char	 url[400];
	json_t	*o;

	snprintf(url, sizeof(url), "%s/api/v2/oauth/tokens/%lld.json",
	    sim->base_url, (long long)t->id);
	o = json_pack("{s:I, s:s, s:I, s:I, s:s, s:n, s:o}", "id",
	    (json_int_t)t->id, "url", url, "client_id",
	    (json_int_t)t->client_id, "user_id", (json_int_t)t->user_id,
	    "token", t->shown, "refresh_token", "scopes",
	    json_deep_copy(t->scopes));
	if (o == NULL)
		return NULL;
	if (t->has_refresh)
		json_object_set_new(o, "refresh_token",
		    json_string(t->refresh_shown));
	json_object_set_new(o, "created_at", zsim_time_json(t->created_at));
	json_object_set_new(o, "expires_at", zsim_time_json(t->expires_at));
	json_object_set_new(o, "refresh_token_expires_at",
	    zsim_time_json(t->has_refresh ? t->refresh_expires_at : 0));
	json_object_set_new(o, "used_at", zsim_time_json(t->used_at));
	if (full_token != NULL)
		json_object_set_new(o, "full_token", json_string(full_token));
	return o;
}

/* Mint a token for client_id; its secret goes to secret (once), and
 * with refresh non-NULL a refresh token (expiring at refresh_expires_at,
 * 0 for never) goes to refresh (once).  The scopes are taken over.
 * NULL when out of memory. */
static struct zsim_token *
token_mint(struct zsim *sim, int64_t client_id, int64_t user_id,
    json_t *scopes, int valid, time_t expires_at, char *secret,
    size_t secretsz, char *refresh, size_t refreshsz,
    time_t refresh_expires_at)
{
	struct zsim_token *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		json_decref(scopes);
		return NULL;
	}
	t->id = sim->next_token_id++;
	t->client_id = client_id;
	t->user_id = user_id;
	t->scopes = scopes;
	t->scopes_valid = valid;
	t->created_at = zsim_store_now(sim);
	t->expires_at = expires_at;
	zsim_secret_new(secret, secretsz, ZSIM_SECRET_LEN);
	zsim_hash(secret, t->hash);
	kw_strlcpy(t->shown, secret, sizeof(t->shown));
	if (refresh != NULL) {
		t->has_refresh = 1;
		zsim_secret_new(refresh, refreshsz, ZSIM_SECRET_LEN);
		zsim_hash(refresh, t->refresh_hash);
		kw_strlcpy(t->refresh_shown, refresh,
		    sizeof(t->refresh_shown));
		t->refresh_expires_at = refresh_expires_at;
	}
	if (zsim_store_token_add(sim, t) != 0) {
		zsim_token_free(t);
		return NULL;
	}
	return t;
}

/* When a token made by POST /api/v2/oauth/tokens for cl expires (0:
 * never).  Documented as never; the token_expires_in option sets a
 * lifetime for every client, and new_client_tokens_expire gives clients
 * under the enforced TTLs the default access lifetime (Zendesk has not
 * said whether it does: tests cover both). */
static time_t
api_token_expiry(const struct zsim *sim, const struct zsim_client *cl)
{
	time_t now = zsim_store_now(sim);

	if (sim->token_expires_in > 0)
		return now + sim->token_expires_in;
	if (sim->new_client_tokens_expire && cl != NULL &&
	    zsim_store_client_enforced(sim, cl))
		return now + ZSIM_GRANT_TTL_DEFAULT;
	return 0;
}

void
zsim_tokens_create(struct zsim_call *c)
{
	struct zsim_token	*t = NULL;
	json_t			*in, *cid, *scopes = NULL, *details, *body = NULL;
	time_t			 exp = 0;
	char			 secret[ZSIM_SECRET_LEN + 1];
	int			 valid;

	if ((in = zsim_wrapper(c, "token")) == NULL)
		return;
	details = json_object();
	cid = json_object_get(in, "client_id");
	if (scopes_take(json_object_get(in, "scopes"), &scopes, &valid) != 0)
		zsim_detail(details, "scopes", "InvalidValue",
		    "Scopes: must be a non-empty list of scopes");
	zsim_lock(c->sim);
	if (cid == NULL || json_is_null(cid))
		zsim_detail(details, "client_id", "BlankValue",
		    "Client: cannot be blank");
	else if (!json_is_integer(cid) || zsim_vec_find(&c->sim->clients,
	    json_integer_value(cid)) == NULL)
		zsim_detail(details, "client_id", "InvalidValue",
		    "Client: is invalid");
	if (json_object_size(details) == 0 &&
	    c->sim->tokens.n >= ZSIM_TOKENS_MAX)
		zsim_detail(details, "base", "TooMany", "The account has "
		    "reached the maximum of %d OAuth tokens", ZSIM_TOKENS_MAX);
	if (json_object_size(details) == 0) {
		exp = api_token_expiry(c->sim, zsim_vec_find(&c->sim->clients,
		    json_integer_value(cid)));
		t = token_mint(c->sim, json_integer_value(cid), c->user_id,
		    scopes, valid, exp, secret, sizeof(secret), NULL, 0, 0);
		scopes = NULL;
		if (t != NULL)
			body = json_pack("{s:o}", "token",
			    zsim_token_json(c->sim, t, secret));
		kw_wipe(secret, sizeof(secret));
	}
	zsim_unlock(c->sim);
	json_decref(scopes);
	if (json_object_size(details) > 0)
		zsim_invalid(c, details);
	else if (body == NULL) {
		json_decref(details);
		zsim_error(c, 500, "InternalError", "out of memory");
	} else {
		json_decref(details);
		zsim_reply(c, 201, body);
	}
}

void
zsim_tokens_list(struct zsim_call *c)
{
	static const char *const keep[] = { "all", "client_id", NULL };
	struct zsim_token	*t;
	struct zsim_page	 pg;
	const char		*all = http_query(c->rq, "all");
	const char		*cq = http_query(c->rq, "client_id");
	json_t			*list, *body;
	int64_t			 client_id = 0, last = 0;
	char			*end;
	size_t			 i, n = 0;
	int			 every = all != NULL && strcmp(all, "true") == 0;

	if (zsim_page_parse(c, &pg) != 0)
		return;
	if (cq != NULL) {
		client_id = strtoll(cq, &end, 10);
		if (*cq == '\0' || *end != '\0' || client_id <= 0) {
			zsim_error(c, 400, "InvalidParameter",
			    "client_id must be an integer");
			return;
		}
	}
	list = json_array();
	zsim_lock(c->sim);
	for (i = zsim_vec_after(&c->sim->tokens, pg.after);
	    i < c->sim->tokens.n; i++) {
		t = c->sim->tokens.v[i];
		if ((!every && t->user_id != c->user_id) ||
		    (client_id != 0 && t->client_id != client_id))
			continue;
		if (n == pg.size)
			break;		/* one more matches: has_more */
		json_array_append_new(list, zsim_token_json(c->sim, t, NULL));
		last = t->id;
		n++;
	}
	body = json_pack("{s:o}", "tokens", list);
	zsim_page_finish(c, body, &pg, last, i < c->sim->tokens.n, keep);
	zsim_unlock(c->sim);
	zsim_reply(c, 200, body);
}

void
zsim_tokens_show(struct zsim_call *c)
{
	struct zsim_token	*t;
	json_t			*body = NULL;

	zsim_lock(c->sim);
	if ((t = zsim_vec_find(&c->sim->tokens, zsim_param_id(c, 0))) != NULL)
		body = json_pack("{s:o}", "token", zsim_token_json(c->sim, t,
		    NULL));
	zsim_unlock(c->sim);
	if (body == NULL)
		zsim_not_found(c);
	else
		zsim_reply(c, 200, body);
}

/* The calling token's own record.  A configured admin token stands for
 * a token Zendesk would hold for the admin: a record with its own id
 * range, no client, full scopes and no expiry.  Legacy Basic
 * credentials are no OAuth token: 404. */
void
zsim_tokens_current(struct zsim_call *c)
{
	const struct zsim_admin	*a;
	struct zsim_token	*t;
	json_t			*body = NULL, *o;
	char			 url[400];

	zsim_lock(c->sim);
	if (c->kind == CALLER_OAUTH &&
	    (t = zsim_vec_find(&c->sim->tokens, c->token_id)) != NULL)
		body = json_pack("{s:o}", "token", zsim_token_json(c->sim, t,
		    NULL));
	else if (c->kind == CALLER_ADMIN &&
	    (a = zsim_store_admin_by_id(c->sim, c->user_id)) != NULL) {
		snprintf(url, sizeof(url), "%s/api/v2/oauth/tokens/%lld.json",
		    c->sim->base_url, (long long)(ZSIM_FIRST_ADMIN_TOKEN_ID +
		    (a - c->sim->admins)));
		o = json_pack("{s:I, s:s, s:n, s:I, s:s, s:n, s:[ss], s:o, "
		    "s:n, s:n, s:o}", "id", (json_int_t)(ZSIM_FIRST_ADMIN_TOKEN_ID
		    + (a - c->sim->admins)), "url", url, "client_id", "user_id",
		    (json_int_t)a->user_id, "token", a->shown, "refresh_token",
		    "scopes", "read", "write", "created_at",
		    zsim_time_json(a->created_at), "expires_at",
		    "refresh_token_expires_at", "used_at",
		    zsim_time_json(zsim_store_now(c->sim)));
		body = json_pack("{s:o}", "token", o);
	}
	zsim_unlock(c->sim);
	if (body == NULL)
		zsim_not_found(c);
	else
		zsim_reply(c, 200, body);
}

void
zsim_tokens_delete(struct zsim_call *c)
{
	int64_t	id = zsim_param_id(c, 0);
	int	found;

	zsim_lock(c->sim);
	if ((found = zsim_vec_find(&c->sim->tokens, id) != NULL))
		zsim_store_token_delete(c->sim, id);
	zsim_unlock(c->sim);
	if (found)
		zsim_reply(c, 204, NULL);
	else
		zsim_not_found(c);
}


/* ---- POST /oauth/tokens: the grants ---- */

/* What a grant hands out, rendered by grant_answer. */
struct grant_out {
	json_t		*scopes;	/* a copy of the new token's */
	json_int_t	 expires_in;	/* 0: never (older clients) */
	json_int_t	 refresh_expires_in;
	int		 with_refresh;
	char		 access[ZSIM_SECRET_LEN + 1];
	char		 refresh[ZSIM_SECRET_LEN + 1];
};

static void
oauth_error(struct zsim_call *c, int status, const char *error,
    const char *description)
{
	zsim_reply(c, status, json_pack("{s:s, s:s}", "error", error,
	    "error_description", description));
}

/* "read tickets:write" into a JSON array; NULL if empty or too many. */
static json_t *
split_scope(const char *s)
{
	json_t	*a = json_array();
	char	 one[ZSIM_SCOPE_LEN_MAX + 1];
	size_t	 n;

	while (a != NULL && *s != '\0') {
		n = strcspn(s, " ");
		if (n > ZSIM_SCOPE_LEN_MAX ||
		    json_array_size(a) >= ZSIM_SCOPES_MAX) {
			json_decref(a);
			return NULL;
		}
		if (n > 0) {
			memcpy(one, s, n);
			one[n] = '\0';
			json_array_append_new(a, json_string(one));
		}
		s += n + (s[n] == ' ');
	}
	if (a != NULL && json_array_size(a) == 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* 1 if every scope is one Zendesk knows. */
static int
scopes_known(const json_t *scopes)
{
	size_t i;

	for (i = 0; i < json_array_size(scopes); i++)
		if (!zsim_scope_valid(json_string_value(
		    json_array_get(scopes, i))))
			return 0;
	return 1;
}

/* 1 if every scope in want is also in have. */
static int
scopes_subset(const json_t *want, const json_t *have)
{
	size_t	i, j;
	int	found;

	for (i = 0; i < json_array_size(want); i++) {
		found = 0;
		for (j = 0; j < json_array_size(have) && !found; j++)
			found = json_equal(json_array_get(want, i),
			    json_array_get(have, j));
		if (!found)
			return 0;
	}
	return 1;
}

/* A lifetime parameter: a JSON integer, or digits (a form field).
 * *out = def when absent; -1 when present but not in [min, max]. */
static int
ttl_param(const json_t *in, const char *key, json_int_t min, json_int_t max,
    json_int_t def, json_int_t *out)
{
	const json_t	*v = json_object_get(in, key);
	const char	*s;
	json_int_t	 n = 0;

	*out = def;
	if (v == NULL)
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if ((s = json_string_value(v)) != NULL && *s != '\0' &&
	    strlen(s) <= 9 && strspn(s, "0123456789") == strlen(s))
		n = strtoll(s, NULL, 10);
	else
		return -1;
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* The lifetimes a grant for cl gives (0: never); -1 after answering 400.
 * Clients under the enforced TTLs default to 30 minutes and 30 days;
 * older clients' tokens do not expire unless asked to. */
static int
grant_ttls(struct zsim_call *c, const json_t *in,
    const struct zsim_client *cl, struct grant_out *out)
{
	int enforced = zsim_store_client_enforced(c->sim, cl);

	if (ttl_param(in, "expires_in", ZSIM_GRANT_TTL_MIN,
	    ZSIM_GRANT_TTL_MAX, enforced ? ZSIM_GRANT_TTL_DEFAULT : 0,
	    &out->expires_in) != 0) {
		oauth_error(c, 400, "invalid_request", "expires_in must be "
		    "between 300 and 172800 seconds.");
		return -1;
	}
	if (ttl_param(in, "refresh_token_expires_in", ZSIM_REFRESH_TTL_MIN,
	    ZSIM_REFRESH_TTL_MAX, enforced ? ZSIM_REFRESH_TTL_DEFAULT : 0,
	    &out->refresh_expires_in) != 0) {
		oauth_error(c, 400, "invalid_request", "refresh_token_"
		    "expires_in must be between 604800 and 7776000 seconds.");
		return -1;
	}
	return 0;
}

/* The client named by client_id (its identifier), authenticated by
 * client_secret; a public client may leave the secret out when
 * secret_optional.  NULL after answering 401 invalid_client. */
static struct zsim_client *
grant_client(struct zsim_call *c, const json_t *in, int secret_optional)
{
	struct zsim_client	*cl;
	const char		*id, *secret, *kind;
	char			 hash[65];
	int			 ok = 0;

	id = json_string_value(json_object_get(in, "client_id"));
	secret = json_string_value(json_object_get(in, "client_secret"));
	if (id != NULL && (cl = zsim_store_client_by_identifier(c->sim, id))
	    != NULL) {
		kind = json_string_value(json_object_get(cl->attrs, "kind"));
		if (secret != NULL) {
			zsim_hash(secret, hash);
			ok = zsim_hash_eq(cl->secret_hash, hash);
		} else
			ok = secret_optional && kind != NULL &&
			    strcmp(kind, "public") == 0;
		if (ok)
			return cl;
	}
	oauth_error(c, 401, "invalid_client", "Client authentication failed "
	    "due to unknown client, no client authentication included, or "
	    "unsupported authentication method.");
	return NULL;
}

/* Mint the grant's token (and refresh token when out->with_refresh);
 * the scopes are taken over.  -1 after answering 503 when full. */
static int
grant_mint(struct zsim_call *c, const struct zsim_client *cl,
    int64_t user_id, json_t *scopes, struct grant_out *out)
{
	struct zsim_token	*t = NULL;
	time_t			 now = zsim_store_now(c->sim);
	int			 valid = scopes_known(scopes);

	if (c->sim->tokens.n >= ZSIM_TOKENS_MAX)
		zsim_store_token_sweep(c->sim);		/* dead grants go */
	if (c->sim->tokens.n < ZSIM_TOKENS_MAX)
		t = token_mint(c->sim, cl->id, user_id, scopes, valid,
		    out->expires_in ? now + (time_t)out->expires_in : 0,
		    out->access, sizeof(out->access), out->with_refresh ?
		    out->refresh : NULL, sizeof(out->refresh),
		    out->refresh_expires_in ? now +
		    (time_t)out->refresh_expires_in : 0);
	else
		json_decref(scopes);
	if (t == NULL) {
		oauth_error(c, 503, "temporarily_unavailable",
		    "The account holds too many tokens.");
		return -1;
	}
	t->granted = 1;
	out->scopes = json_deep_copy(t->scopes);
	return 0;
}

/* {"access_token","token_type":"bearer","scope","expires_in"} plus the
 * refresh token and its lifetime; lifetimes that never end are left
 * out.  Wipes the secrets from out. */
static void
grant_answer(struct zsim_call *c, int status, struct grant_out *out)
{
	char	 scope[ZSIM_SCOPES_MAX * (ZSIM_SCOPE_LEN_MAX + 1) + 1] = "";
	json_t	*body;
	size_t	 i, n = 0;

	for (i = 0; i < json_array_size(out->scopes); i++)
		n += (size_t)snprintf(scope + n, sizeof(scope) - n, "%s%s",
		    i > 0 ? " " : "", json_string_value(json_array_get(
		    out->scopes, i)));
	body = json_pack("{s:s, s:s, s:s}", "access_token", out->access,
	    "token_type", "bearer", "scope", scope);
	if (body != NULL && out->expires_in)
		json_object_set_new(body, "expires_in",
		    json_integer(out->expires_in));
	if (body != NULL && out->with_refresh) {
		json_object_set_new(body, "refresh_token",
		    json_string(out->refresh));
		if (out->refresh_expires_in)
			json_object_set_new(body, "refresh_token_expires_in",
			    json_integer(out->refresh_expires_in));
	}
	kw_wipe(out->access, sizeof(out->access));
	kw_wipe(out->refresh, sizeof(out->refresh));
	json_decref(out->scopes);
	out->scopes = NULL;
	zsim_reply(c, status, body);
}

/* client_credentials: a confidential client's own token, no refresh
 * token.  Needs sim->mu; 0 after a success (out filled). */
static int
grant_client_credentials(struct zsim_call *c, const json_t *in,
    struct grant_out *out)
{
	struct zsim_client	*cl;
	const char		*scope, *kind;
	json_t			*scopes;

	if ((cl = grant_client(c, in, 0)) == NULL)
		return -1;
	kind = json_string_value(json_object_get(cl->attrs, "kind"));
	if (kind == NULL || strcmp(kind, "confidential") != 0) {
		oauth_error(c, 400, "unauthorized_client", "The client is not "
		    "authorized to use the client_credentials grant: only "
		    "confidential clients are.");
		return -1;
	}
	if (grant_ttls(c, in, cl, out) != 0)
		return -1;
	scope = json_string_value(json_object_get(in, "scope"));
	if (scope == NULL || (scopes = split_scope(scope)) == NULL) {
		oauth_error(c, 400, "invalid_scope", "The requested scope is "
		    "invalid, unknown, or malformed.");
		return -1;
	}
	return grant_mint(c, cl, cl->user_id, scopes, out);
}

/* refresh_token: a new pair for the client's refresh token, whose old
 * pair is deleted.  Needs sim->mu; 0 after a success (out filled). */
static int
grant_refresh(struct zsim_call *c, const json_t *in, struct grant_out *out)
{
	struct zsim_client	*cl;
	struct zsim_token	*old;
	const char		*rt, *scope;
	json_t			*scopes;
	char			 hash[65];
	int64_t			 user_id;
	time_t			 now = zsim_store_now(c->sim);

	if ((rt = json_string_value(json_object_get(in, "refresh_token"))) ==
	    NULL || *rt == '\0') {
		oauth_error(c, 400, "invalid_request", "refresh_token is "
		    "required.");
		return -1;
	}
	if ((cl = grant_client(c, in, 1)) == NULL)
		return -1;
	zsim_hash(rt, hash);
	old = zsim_store_token_by_refresh(c->sim, hash);
	if (old == NULL || old->client_id != cl->id ||
	    (old->refresh_expires_at != 0 && now >= old->refresh_expires_at)) {
		oauth_error(c, 400, "invalid_grant", "The provided "
		    "authorization grant is invalid, expired, revoked, or was "
		    "issued to another client.");
		return -1;
	}
	if (grant_ttls(c, in, cl, out) != 0)
		return -1;
	scope = json_string_value(json_object_get(in, "scope"));
	scopes = scope != NULL ? split_scope(scope) :
	    json_deep_copy(old->scopes);
	if (scopes == NULL || !scopes_subset(scopes, old->scopes)) {
		json_decref(scopes);
		oauth_error(c, 400, "invalid_scope", "The requested scope "
		    "exceeds the scope granted by the resource owner.");
		return -1;
	}
	user_id = old->user_id;
	zsim_store_token_delete(c->sim, old->id);	/* the old pair */
	out->with_refresh = 1;
	return grant_mint(c, cl, user_id, scopes, out);
}

static const struct {
	const char	*grant_type;
	int		(*fn)(struct zsim_call *, const json_t *,
			    struct grant_out *);
} grants[] = {
	{ "client_credentials", grant_client_credentials },
	{ "refresh_token", grant_refresh },
};

/* POST /oauth/tokens with a JSON or form body: {"grant_type",
 * "client_id": <identifier>, "client_secret", ...}; see the grants. */
void
zsim_grant(struct zsim_call *c)
{
	struct grant_out	 out;
	json_t			*form = NULL;
	const json_t		*in = c->rq->body;
	const char		*gt;
	size_t			 i;
	int			 r = -1, status;

	memset(&out, 0, sizeof(out));
	if (in == NULL && c->rq->raw_body != NULL && (in = form =
	    zsim_form_parse(c->rq->raw_body, c->rq->raw_len)) == NULL) {
		oauth_error(c, 400, "invalid_request", "The request body is "
		    "not a valid form.");
		return;
	}
	gt = json_string_value(json_object_get(in, "grant_type"));
	for (i = 0; gt != NULL && i < KW_NELEM(grants); i++)
		if (strcmp(gt, grants[i].grant_type) == 0)
			break;
	if (gt == NULL || i == KW_NELEM(grants)) {
		oauth_error(c, 400, "unsupported_grant_type", "The simulator "
		    "implements the client_credentials and refresh_token "
		    "grants.");
		goto out;
	}
	zsim_lock(c->sim);
	status = c->sim->grant_status;
	r = grants[i].fn(c, in, &out);
	zsim_unlock(c->sim);
	if (r == 0)
		grant_answer(c, status, &out);
out:
	kw_wipe(&out, sizeof(out));
	json_decref(out.scopes);
	json_decref(form);
}

/* POST /_sim/authorizations {"client_id": <identifier>, "scope",
 * "user_id"?, "expires_in"?, "refresh_token_expires_in"?}: what the
 * authorization-code flow would hand an app after a user approved it
 * (a token pair), so that tests can exercise the refresh_token grant.
 * Answers 201 with the grant's shape. */
void
zsim_ctl_authorize(struct zsim_call *c)
{
	struct grant_out	 out;
	struct zsim_client	*cl;
	const json_t		*in = c->rq->body, *uid;
	const char		*id, *scope;
	json_t			*scopes;
	int64_t			 user_id;
	int			 r = -1;

	memset(&out, 0, sizeof(out));
	id = json_string_value(json_object_get(in, "client_id"));
	scope = json_string_value(json_object_get(in, "scope"));
	uid = json_object_get(in, "user_id");
	if (id == NULL || scope == NULL || (uid != NULL &&
	    !json_is_integer(uid))) {
		zsim_error(c, 400, "InvalidControlRequest", "client_id: a "
		    "client identifier; scope: space-separated scopes; "
		    "user_id: an admin's user id");
		return;
	}
	if ((scopes = split_scope(scope)) == NULL) {
		zsim_error(c, 400, "InvalidControlRequest", "scope: at most "
		    "32 space-separated scopes");
		return;
	}
	zsim_lock(c->sim);
	if ((cl = zsim_store_client_by_identifier(c->sim, id)) == NULL)
		zsim_error(c, 400, "InvalidControlRequest", "no client has "
		    "that identifier");
	else if (uid != NULL && zsim_store_admin_by_id(c->sim,
	    json_integer_value(uid)) == NULL)
		zsim_error(c, 400, "InvalidControlRequest", "user_id: not an "
		    "admin's user id");
	else if (grant_ttls(c, in, cl, &out) == 0) {
		user_id = uid != NULL ? json_integer_value(uid) : cl->user_id;
		out.with_refresh = 1;
		r = grant_mint(c, cl, user_id, scopes, &out);
		scopes = NULL;
	}
	zsim_unlock(c->sim);
	json_decref(scopes);
	if (r == 0)
		grant_answer(c, 201, &out);
	json_decref(out.scopes);
	kw_wipe(&out, sizeof(out));
}
