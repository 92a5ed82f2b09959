/*
 * zsim_oauth.c — /api/v2/oauth/clients, /api/v2/oauth/tokens and the
 * client_credentials grant at /oauth/tokens, with Zendesk's wrappers,
 * status codes and once-only secrets, plus the scope vocabulary.
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
	    i < c->sim->clients.n && n < pg.size; i++, n++) {
		cl = c->sim->clients.v[i];
		json_array_append_new(list, zsim_client_json(c->sim, cl,
		    cl->secret_shown));
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
	json_object_set_new(o, "created_at", zsim_time_json(t->created_at));
	json_object_set_new(o, "expires_at", zsim_time_json(t->expires_at));
	json_object_set_new(o, "refresh_token_expires_at", json_null());
	json_object_set_new(o, "used_at", zsim_time_json(t->used_at));
	if (full_token != NULL)
		json_object_set_new(o, "full_token", json_string(full_token));
	return o;
}

/* Mint a token for client_id; its secret goes to secret (once).  The
 * scopes are taken over.  NULL when out of memory. */
static struct zsim_token *
token_mint(struct zsim *sim, int64_t client_id, int64_t user_id,
    json_t *scopes, int valid, time_t expires_at, char *secret,
    size_t secretsz)
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
	if (zsim_store_token_add(sim, t) != 0) {
		zsim_token_free(t);
		return NULL;
	}
	return t;
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
		if (c->sim->token_expires_in > 0)
			exp = zsim_store_now(c->sim) +
			    c->sim->token_expires_in;
		t = token_mint(c->sim, json_integer_value(cid), c->user_id,
		    scopes, valid, exp, secret, sizeof(secret));
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

/* ---- POST /oauth/tokens: the client_credentials grant ---- */

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

/* Check the grant's client and secret; the client or NULL. */
static struct zsim_client *
grant_client(struct zsim *sim, const json_t *in)
{
	struct zsim_client	*cl;
	const char		*id, *secret, *kind;
	char			 hash[65];

	id = json_string_value(json_object_get(in, "client_id"));
	secret = json_string_value(json_object_get(in, "client_secret"));
	if (id == NULL || secret == NULL ||
	    (cl = zsim_store_client_by_identifier(sim, id)) == NULL)
		return NULL;
	zsim_hash(secret, hash);
	kind = json_string_value(json_object_get(cl->attrs, "kind"));
	if (!zsim_hash_eq(cl->secret_hash, hash) || kind == NULL ||
	    strcmp(kind, "confidential") != 0)
		return NULL;
	return cl;
}

/* The grant's type, lifetime and scopes; 0, or -1 after answering. */
static int
grant_params(struct zsim_call *c, json_int_t *expires_in, json_t **scopes,
    int *valid)
{
	const json_t	*in = c->rq->body, *ttl;
	const char	*gt, *scope;
	size_t		 i;

	gt = json_string_value(json_object_get(in, "grant_type"));
	if (gt == NULL || strcmp(gt, "client_credentials") != 0) {
		oauth_error(c, 400, "unsupported_grant_type", "The "
		    "simulator implements the client_credentials grant only.");
		return -1;
	}
	*expires_in = ZSIM_GRANT_TTL_DEFAULT;
	if ((ttl = json_object_get(in, "expires_in")) != NULL) {
		*expires_in = json_integer_value(ttl);
		if (!json_is_integer(ttl) || *expires_in < ZSIM_GRANT_TTL_MIN ||
		    *expires_in > ZSIM_GRANT_TTL_MAX) {
			oauth_error(c, 400, "invalid_request", "expires_in "
			    "must be between 300 and 172800 seconds.");
			return -1;
		}
	}
	scope = json_string_value(json_object_get(in, "scope"));
	if (scope == NULL || (*scopes = split_scope(scope)) == NULL) {
		oauth_error(c, 400, "invalid_scope", "The requested scope is "
		    "invalid, unknown, or malformed.");
		return -1;
	}
	*valid = 1;
	for (i = 0; i < json_array_size(*scopes); i++)
		if (!zsim_scope_valid(json_string_value(
		    json_array_get(*scopes, i))))
			*valid = 0;
	return 0;
}

/* {"grant_type":"client_credentials","client_id":<identifier>,
 *  "client_secret","scope":"read write","expires_in"?} as JSON (the
 * HTTP layer takes JSON bodies only; Zendesk also takes a form). */
void
zsim_grant(struct zsim_call *c)
{
	struct zsim_client	*cl;
	struct zsim_token	*t;
	json_t			*scopes = NULL, *body = NULL;
	char			 secret[ZSIM_SECRET_LEN + 1];
	json_int_t		 expires_in;
	int			 valid;

	if (grant_params(c, &expires_in, &scopes, &valid) != 0)
		return;
	zsim_lock(c->sim);
	if ((cl = grant_client(c->sim, c->rq->body)) != NULL &&
	    c->sim->tokens.n < ZSIM_TOKENS_MAX) {
		t = token_mint(c->sim, cl->id, cl->user_id, scopes, valid,
		    zsim_store_now(c->sim) + (time_t)expires_in, secret,
		    sizeof(secret));
		if (t != NULL)
			t->granted = 1;
		if (t != NULL)
			body = json_pack("{s:s, s:s, s:s, s:I}",
			    "access_token", secret, "token_type", "bearer",
			    "scope", json_string_value(json_object_get(
			    c->rq->body, "scope")), "expires_in", expires_in);
		kw_wipe(secret, sizeof(secret));
	} else
		json_decref(scopes);
	zsim_unlock(c->sim);
	if (cl == NULL)
		oauth_error(c, 401, "invalid_client", "Client authentication "
		    "failed due to unknown client, no client authentication "
		    "included, or unsupported authentication method.");
	else if (body == NULL)
		oauth_error(c, 503, "temporarily_unavailable",
		    "The account holds too many tokens.");
	else
		zsim_reply(c, 200, body);
}
