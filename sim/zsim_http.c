/*
 * zsim_http.c — the simulator's endpoint table and the path every call
 * takes through it: count and rate limit, injected fault (hang and/or
 * error), then authentication and scopes, then the handler.  Also the
 * Zendesk error shapes and cursor pagination every handler shares.
 *
 * Every /api/v2 path is served with and without Zendesk's ".json"
 * suffix: the route table holds a ".json" twin of each endpoint whose
 * last segment is fixed ({} segments strip it in zsim_param_id).
 *
 * keywarden's HTTP layer renders its own errors in keywarden's shape, so
 * the authorise hook only remembers which endpoint a call is for and
 * everything a Zendesk client may see is answered here, in Zendesk's.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kw.h"
#include "util/buf.h"
#include "util/util.h"
#include "zsim.h"

#define API	"/api/v2"
#define B	BODY_OPTIONAL

/* Catch-alls come last: the router takes the first route whose pattern
 * and method both match, so these only see paths Zendesk would not
 * know and answer them with Zendesk's 404. */
#define UNKNOWN(m) \
	{ m, API "/{}", WHO_OPEN, NULL, RW_NONE, zsim_unknown_endpoint }, \
	{ m, API "/{}/{}", WHO_OPEN, NULL, RW_NONE, zsim_unknown_endpoint }, \
	{ m, API "/{}/{}/{}", WHO_OPEN, NULL, RW_NONE, zsim_unknown_endpoint },\
	{ m, API "/{}/{}/{}/{}", WHO_OPEN, NULL, RW_NONE, \
	    zsim_unknown_endpoint }

static const struct zsim_endpoint endpoints[] = {
	{ "GET", API "/users/me", WHO_ANY, NULL, RW_NONE, zsim_users_me },
	{ "GET", API "/tickets", WHO_ANY, "tickets", RW_READ,
	    zsim_tickets_list },
	{ "POST", API "/tickets", WHO_ANY, "tickets", RW_WRITE,
	    zsim_tickets_create },
	{ "GET", API "/oauth/clients", WHO_ADMIN, NULL, RW_NONE,
	    zsim_clients_list },
	{ "POST", API "/oauth/clients", WHO_ADMIN, NULL, RW_NONE,
	    zsim_clients_create },
	{ "GET", API "/oauth/clients/{}", WHO_ADMIN, NULL, RW_NONE,
	    zsim_clients_show },
	{ "PUT", API "/oauth/clients/{}", WHO_ADMIN, NULL, RW_NONE,
	    zsim_clients_update },
	{ "PUT", API "/oauth/clients/{}/generate_secret", WHO_ADMIN, NULL,
	    RW_NONE, zsim_clients_generate_secret },
	{ "DELETE", API "/oauth/clients/{}", WHO_ADMIN, NULL, RW_NONE,
	    zsim_clients_delete },
	{ "GET", API "/oauth/tokens", WHO_ADMIN, NULL, RW_NONE,
	    zsim_tokens_list },
	{ "POST", API "/oauth/tokens", WHO_ADMIN, NULL, RW_NONE,
	    zsim_tokens_create },
	/* before /oauth/tokens/{}, which would take "current" as an id */
	{ "GET", API "/oauth/tokens/current", WHO_ANY, NULL, RW_NONE,
	    zsim_tokens_current },
	{ "GET", API "/oauth/tokens/{}", WHO_ADMIN, NULL, RW_NONE,
	    zsim_tokens_show },
	{ "DELETE", API "/oauth/tokens/{}", WHO_ADMIN, NULL, RW_NONE,
	    zsim_tokens_delete },
	{ "GET", API "/api_tokens", WHO_ADMIN, NULL, RW_NONE,
	    zsim_api_tokens_list },
	{ "POST", API "/api_tokens", WHO_ADMIN, NULL, RW_NONE,
	    zsim_api_tokens_create },
	{ "POST", "/oauth/tokens", WHO_OPEN, NULL, RW_NONE, zsim_grant },

	{ "GET", "/_sim/clock", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_clock_get },
	{ "POST", "/_sim/clock", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_clock_set },
	{ "POST", "/_sim/admins", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_admins_add },
	{ "GET", "/_sim/faults", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_faults_list },
	{ "POST", "/_sim/faults", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_faults_add },
	{ "DELETE", "/_sim/faults", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_faults_clear },
	{ "POST", "/_sim/legacy_tokens", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_legacy_add },
	{ "POST", "/_sim/options", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_options },
	{ "POST", "/_sim/tickets", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_tickets_seed },
	{ "POST", "/_sim/authorizations", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_authorize },
	{ "POST", "/_sim/clients/{}/hidden", WHO_CONTROL, NULL, RW_NONE,
	    zsim_ctl_client_hidden },
	{ "GET", "/_sim/state", WHO_CONTROL, NULL, RW_NONE, zsim_ctl_state },
	{ "GET", "/_sim/stats", WHO_CONTROL, NULL, RW_NONE, zsim_ctl_stats },
	{ "POST", "/_sim/reset", WHO_CONTROL, NULL, RW_NONE, zsim_ctl_reset },

	UNKNOWN("GET"), UNKNOWN("POST"), UNKNOWN("PUT"), UNKNOWN("DELETE"),
	UNKNOWN("PATCH"),
};

/* Each endpoint, plus a ".json" twin for some: at most twice as many. */
static struct http_route	routes[2 * KW_NELEM(endpoints)];
static size_t			route_ep[2 * KW_NELEM(endpoints)];
static char			json_patterns[KW_NELEM(endpoints)]
				    [ZSIM_PATTERN_MAX];
static char			names[KW_NELEM(endpoints)][ZSIM_PATTERN_MAX];

static int	dispatch(struct http_req *rq, struct http_resp *rs);

/* 1 if the endpoint also answers at its pattern plus ".json": a Zendesk
 * API path whose last segment is fixed. */
static int
has_json_twin(const struct zsim_endpoint *ep)
{
	size_t len = strlen(ep->pattern);

	return ep->who != WHO_CONTROL && strncmp(ep->pattern, API "/",
	    strlen(API "/")) == 0 && ep->pattern[len - 1] != '}';
}

static void
route_add(size_t *n, size_t ep, const char *pattern)
{
	routes[*n].method = endpoints[ep].method;
	routes[*n].pattern = pattern;
	routes[*n].handler = dispatch;
	routes[*n].access = ACCESS_PUBLIC;	/* checked in dispatch */
	/* Missing bodies are answered in Zendesk's shape by the handlers;
	 * the grant also takes a form, as Zendesk's does. */
	routes[*n].body = endpoints[ep].fn == zsim_grant ? BODY_JSON_OR_FORM :
	    B;
	route_ep[*n] = ep;
	(*n)++;
}

const struct http_route *
zsim_routes(size_t *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < KW_NELEM(endpoints); i++) {
		route_add(n, i, endpoints[i].pattern);
		if (has_json_twin(&endpoints[i])) {
			snprintf(json_patterns[i], sizeof(json_patterns[i]),
			    "%s.json", endpoints[i].pattern);
			route_add(n, i, json_patterns[i]);
		}
		snprintf(names[i], sizeof(names[i]), "%s %s",
		    endpoints[i].method, endpoints[i].pattern);
	}
	return routes;
}

size_t
zsim_endpoint_count(void)
{
	return KW_NELEM(endpoints);
}

const char *
zsim_endpoint_name(size_t i)
{
	return names[i];
}

int
zsim_authorise(struct http_req *rq, const struct http_route *route)
{
	size_t *idx;

	if ((idx = malloc(sizeof(*idx))) == NULL)
		return KW_ERR_NOMEM;
	*idx = route_ep[route - routes];
	rq->caller = idx;	/* freed by the HTTP layer */
	return 0;
}

/* ---- answers ---- */

void
zsim_reply(struct zsim_call *c, int status, json_t *body)
{
	json_decref(c->rs->body);
	c->rs->status = status;
	c->rs->body = body;
}

void
zsim_reply_text(struct zsim_call *c, int status, const char *text)
{
	zsim_reply(c, status, NULL);
	free(c->rs->text);
	c->rs->text = strdup(text);	/* NULL: an empty body */
}

void
zsim_error(struct zsim_call *c, int status, const char *error,
    const char *description)
{
	zsim_reply(c, status, json_pack("{s:s, s:s}", "error", error,
	    "description", description));
}

void
zsim_not_found(struct zsim_call *c)
{
	zsim_error(c, 404, "RecordNotFound", "Not found");
}

void
zsim_forbidden(struct zsim_call *c, const char *description)
{
	zsim_error(c, 403, "Forbidden", description);
}

void
zsim_invalid(struct zsim_call *c, json_t *details)
{
	zsim_reply(c, 422, json_pack("{s:s, s:s, s:o}", "error",
	    "RecordInvalid", "description", "Record validation errors",
	    "details", details));
}

void
zsim_detail(json_t *details, const char *field, const char *error,
    const char *fmt, ...)
{
	char	 msg[320];
	json_t	*list;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((list = json_object_get(details, field)) == NULL) {
		list = json_array();
		json_object_set_new(details, field, list);
	}
	json_array_append_new(list, json_pack("{s:s, s:s}", "description",
	    msg, "error", error));
}

json_t *
zsim_wrapper(struct zsim_call *c, const char *key)
{
	json_t	*o = json_object_get(c->rq->body, key);
	char	 msg[128];

	if (json_is_object(o))
		return o;
	snprintf(msg, sizeof(msg), "param is missing or the value is "
	    "empty: %s", key);
	zsim_error(c, 400, "ParameterMissing", msg);
	return NULL;
}

static int
parse_int64(const char *s, size_t len, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int64_t
zsim_param_id(const struct zsim_call *c, size_t i)
{
	const char	*s = c->rq->params[i];
	size_t		 len = strlen(s);
	int64_t		 id;

	if (len > 5 && strcmp(s + len - 5, ".json") == 0)
		len -= 5;
	return parse_int64(s, len, &id) == 0 ? id : -1;
}

/* ---- cursor pagination ---- */

#define CURSOR_TAG "zsim:"

static void
cursor_make(int64_t id, char *out, size_t outsz)
{
	char raw[48];

	snprintf(raw, sizeof(raw), CURSOR_TAG "%lld", (long long)id);
	zsim_b64url_encode(raw, strlen(raw), out, outsz);
}

static int
cursor_parse(const char *s, int64_t *id)
{
	char raw[48];

	if (zsim_b64_decode(s, raw, sizeof(raw)) != 0 ||
	    strncmp(raw, CURSOR_TAG, strlen(CURSOR_TAG)) != 0)
		return -1;
	return parse_int64(raw + strlen(CURSOR_TAG),
	    strlen(raw + strlen(CURSOR_TAG)), id);
}

static void
bad_page(struct zsim_call *c, const char *description)
{
	zsim_error(c, 400, "InvalidPaginationParameter", description);
}

int
zsim_page_parse(struct zsim_call *c, struct zsim_page *pg)
{
	const char	*size = http_query(c->rq, "page[size]");
	const char	*after = http_query(c->rq, "page[after]");
	int64_t		 n;

	pg->size = ZSIM_PAGE_DEFAULT;
	pg->after = 0;
	if (size != NULL) {
		if (parse_int64(size, strlen(size), &n) != 0 || n < 1) {
			bad_page(c, "page[size] must be a positive integer");
			return -1;
		}
		if (n > ZSIM_PAGE_MAX) {
			bad_page(c, "page[size] must be less than or equal "
			    "to 100");
			return -1;
		}
		pg->size = (size_t)n;
	}
	if (http_query(c->rq, "page[before]") != NULL) {
		bad_page(c, "page[before] is not supported by the simulator");
		return -1;
	}
	if (after != NULL && *after != '\0' &&
	    cursor_parse(after, &pg->after) != 0) {
		bad_page(c, "page[after] is not a valid cursor");
		return -1;
	}
	return 0;
}

static void
url_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s) != NULL)
			buf_add(b, s, 1);
		else
			buf_printf(b, "%%%02X", (unsigned char)*s);
	}
}

/* The full URL of the page after the one ending at last_id. */
static json_t *
next_link(struct zsim_call *c, const struct zsim_page *pg, int64_t last_id,
    const char *const *keep)
{
	struct buf	 b;
	char		 cur[80];
	const char	*v;
	json_t		*link;

	buf_init(&b, KW_URL_MAX);
	cursor_make(last_id, cur, sizeof(cur));
	buf_printf(&b, "%s%s?page%%5Bafter%%5D=%s&page%%5Bsize%%5D=%zu",
	    c->sim->base_url, c->rq->path, cur, pg->size);
	for (; keep != NULL && *keep != NULL; keep++) {
		if ((v = http_query(c->rq, *keep)) == NULL)
			continue;
		buf_addstr(&b, "&");
		url_escape(&b, *keep);
		buf_addstr(&b, "=");
		url_escape(&b, v);
	}
	link = buf_err(&b) ? json_null() : json_string(buf_str(&b));
	buf_free(&b);
	return link;
}

void
zsim_page_finish(struct zsim_call *c, json_t *body,
    const struct zsim_page *pg, int64_t last_id, int has_more,
    const char *const *keep)
{
	char	 cur[80];

	cursor_make(last_id, cur, sizeof(cur));
	json_object_set_new(body, "meta", json_pack("{s:b, s:o, s:n}",
	    "has_more", has_more, "after_cursor",
	    last_id ? json_string(cur) : json_null(), "before_cursor"));
	json_object_set_new(body, "links", json_pack("{s:n, s:o}", "prev",
	    "next", has_more ? next_link(c, pg, last_id, keep) :
	    json_null()));
}

/* ---- the path of a call ---- */

static void
hang(struct zsim *sim, int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	uint64_t	end = kw_mono_us() + (uint64_t)ms * 1000u;

	/* In slices, so SIGTERM is not held up by a hanging call. */
	while (kw_mono_us() < end && !atomic_load(&sim->stopping))
		nanosleep(&ts, NULL);
}

/* Zendesk's 429: Retry-After (unless 0) and a plain-text body. */
static void
too_many(struct zsim_call *c, int retry_after)
{
	char text[96];

	c->rs->retry_after = retry_after;
	if (retry_after > 0)
		snprintf(text, sizeof(text), "Too Many Requests: retry after "
		    "%d seconds.\n", retry_after);
	else
		snprintf(text, sizeof(text), "Too Many Requests\n");
	zsim_reply_text(c, 429, text);
}

/* Count the call against the account's per-minute limit (fixed windows
 * of real time: a frozen simulator clock must not freeze the window)
 * and add the X-Rate-Limit headers.  Returns the seconds to wait when
 * the call is over the limit, else 0.  Needs sim->mu. */
static int
rate_take(struct zsim_call *c)
{
	struct zsim	*sim = c->sim;
	uint64_t	 s = kw_mono_us() / 1000000u;
	uint64_t	 window = s / ZSIM_RATE_WINDOW_S;
	int		 left;

	if (window != sim->rate_window) {
		sim->rate_window = window;
		sim->rate_count = 0;
	}
	if (sim->rate_count < ZSIM_RATE_LIMIT_MAX)
		sim->rate_count++;
	left = sim->rate_limit - sim->rate_count;
	http_resp_header(c->rs, "X-Rate-Limit", "%d", sim->rate_limit);
	http_resp_header(c->rs, "X-Rate-Limit-Remaining", "%d",
	    left > 0 ? left : 0);
	if (left >= 0)
		return 0;
	return ZSIM_RATE_WINDOW_S - (int)(s % ZSIM_RATE_WINDOW_S);
}

/* Serve an injected fault; 1 if it answered the call. */
static int
fault_answer(struct zsim_call *c, const struct zsim_fault *f)
{
	const char *name;

	if (f->hang_ms > 0)
		hang(c->sim, f->hang_ms);
	if (f->status == 0)
		return 0;
	c->rs->retry_after = f->retry_after;
	if (f->status == 429) {
		too_many(c, f->retry_after);
		return 1;
	}
	name = f->status == 500 ? "InternalServerError" : f->status == 502 ?
	    "BadGateway" : "ServiceUnavailable";
	zsim_error(c, f->status, name, "Simulated fault (zendesk-sim)");
	return 1;
}

static void
bad_bearer(struct zsim_call *c)
{
	zsim_reply(c, 401, json_pack("{s:s, s:s}", "error", "invalid_token",
	    "error_description", "The access token provided is expired, "
	    "revoked, malformed or invalid for other reasons."));
}

static void
bad_basic(struct zsim_call *c)
{
	zsim_reply(c, 401, json_pack("{s:s}", "error",
	    "Couldn't authenticate you"));
}

#define NO_ACCESS "You do not have access to this page. Please contact " \
	"the account owner of this help desk for further help."

/* A minted token: expiry, used_at, then what its scopes allow. */
static int
auth_oauth(struct zsim_call *c, const struct zsim_endpoint *ep,
    struct zsim_token *t)
{
	time_t now = zsim_store_now(c->sim);

	if (t->expires_at != 0 && now >= t->expires_at) {
		bad_bearer(c);
		return -1;
	}
	t->used_at = now;
	c->kind = CALLER_OAUTH;
	c->user_id = t->user_id;
	c->token_id = t->id;
	/* an admin's confidential client, by the client_credentials grant
	 * with the broad scope (keywarden's bot): admin endpoints, as on
	 * Zendesk; tokens made with POST /api/v2/oauth/tokens stay out */
	if (t->granted && t->scopes_valid && ep->who == WHO_ADMIN &&
	    zsim_store_admin_by_id(c->sim, t->user_id) != NULL &&
	    zsim_scopes_allow(t->scopes, "", strcmp(c->rq->method, "GET") ==
	    0 ? RW_READ : RW_WRITE))
		return 0;
	if (!t->scopes_valid || ep->who == WHO_ADMIN ||
	    (ep->resource != NULL &&
	    !zsim_scopes_allow(t->scopes, ep->resource, ep->rw))) {
		zsim_forbidden(c, NO_ACCESS);
		return -1;
	}
	return 0;
}

static int
auth_bearer(struct zsim_call *c, const struct zsim_endpoint *ep,
    const char *tok)
{
	const struct zsim_admin	*a;
	struct zsim_token	*t;
	char			 hash[65];

	if (*tok == '\0' || strlen(tok) > KW_BOT_TOKEN_MAX) {
		bad_bearer(c);
		return -1;
	}
	zsim_hash(tok, hash);
	if ((a = zsim_store_admin_by_token(c->sim, hash)) != NULL) {
		c->kind = CALLER_ADMIN;
		c->user_id = a->user_id;
		return 0;
	}
	if ((t = zsim_store_token_by_hash(c->sim, hash)) != NULL)
		return auth_oauth(c, ep, t);
	bad_bearer(c);
	return -1;
}

/* "email/token:apitoken": an admin's email and an active legacy token. */
static int
auth_basic(struct zsim_call *c, const char *b64)
{
	const struct zsim_admin	*a;
	struct zsim_legacy	*l, *found = NULL;
	char			 cred[512], hash[65], *sep;
	time_t			 off;
	size_t			 i;

	if (zsim_b64_decode(b64, cred, sizeof(cred)) != 0 ||
	    (sep = strstr(cred, "/token:")) == NULL) {
		kw_wipe(cred, sizeof(cred));
		bad_basic(c);
		return -1;
	}
	*sep = '\0';
	zsim_hash(sep + strlen("/token:"), hash);
	kw_wipe(cred + strlen(cred), sizeof(cred) - strlen(cred));
	zsim_store_legacy_sweep(c->sim);
	for (i = 0; i < c->sim->nlegacy; i++) {
		l = &c->sim->legacy[i];
		if (zsim_hash_eq(l->hash, hash) && found == NULL)
			found = l;
	}
	a = zsim_store_admin_by_email(c->sim, cred);
	if (found == NULL || a == NULL ||
	    !zsim_legacy_active(c->sim, found, &off)) {
		bad_basic(c);
		return -1;
	}
	found->last_used = zsim_store_now(c->sim);
	c->kind = CALLER_LEGACY;
	c->user_id = a->user_id;
	return 0;
}

/* Authenticate and authorise; 0, or -1 with the answer set. */
static int
authenticate(struct zsim_call *c, const struct zsim_endpoint *ep)
{
	const char	*h = c->rq->authorization;
	int		 r;

	zsim_lock(c->sim);
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0)
		r = auth_bearer(c, ep, h + 7);
	else if (h != NULL && strncasecmp(h, "Basic ", 6) == 0)
		r = auth_basic(c, h + 6);
	else {
		bad_basic(c);
		r = -1;
	}
	zsim_unlock(c->sim);
	return r;
}

static int
dispatch(struct http_req *rq, struct http_resp *rs)
{
	struct zsim_call		 c = { rq->app, rq, rs, CALLER_NONE, 0,
					    0 };
	const struct zsim_endpoint	*ep;
	struct zsim_fault		 f;
	size_t				 i = *(size_t *)rq->caller;
	int				 faulted = 0, wait;

	ep = &endpoints[i];
	if (ep->who != WHO_CONTROL) {
		zsim_lock(c.sim);
		c.sim->requests++;
		c.sim->ep_requests[i]++;
		if ((wait = rate_take(&c)) == 0)
			faulted = zsim_store_fault_take(c.sim, rq->method,
			    rq->path, &f);
		zsim_unlock(c.sim);
		if (wait > 0) {
			too_many(&c, wait);
			return 0;
		}
		if (faulted && fault_answer(&c, &f))	/* hangs unlocked */
			return 0;
		if (ep->who >= WHO_ANY && authenticate(&c, ep) != 0)
			return 0;
	}
	ep->fn(&c);
	return 0;
}

void
zsim_unknown_endpoint(struct zsim_call *c)
{
	zsim_error(c, 404, "InvalidEndpoint", "Not found");
}
