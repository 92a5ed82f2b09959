/*
 * zendesk.c — the Zendesk provider: OAuth clients and tokens through
 * /api/v2/oauth, legacy API tokens through /api/v2/api_tokens, as the
 * instance's Integration bot.  Facts: shared/design/ZENDESK.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kw.h"
#include "log.h"
#include "net/http.h"
#include "metrics/metrics.h"
#include "provider/provider.h"
#include "util/util.h"

#define ZD_RESPONSE_MAX		(1024 * 1024)
#define ZD_PAGE_SIZE		100
#define ZD_PAGES_MAX		1000	/* bounds every listing */
#define ZD_BACKOFF_FIRST_MS	200
#define ZD_BACKOFF_MAX_MS	5000
#define ZD_URL_MAX		(KW_URL_MAX + 256)

const struct provider_ops *
provider_find(const char *name)
{
	if (strcmp(name, provider_zendesk.name) == 0)
		return &provider_zendesk;
	return NULL;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The instance's own words for an error, from any of its shapes. */
static void
zd_message(const struct net_response *rs, struct provider_error *err)
{
	json_t		*o, *e;
	const char	*a = NULL, *b = NULL;

	err->status = rs->status;
	o = json_loadb(buf_str(&rs->body), rs->body.len, 0, NULL);
	if (o != NULL) {
		if ((e = json_object_get(o, "errors")) != NULL &&
		    json_is_array(e) && json_array_size(e) > 0) {
			a = json_string_value(json_object_get(
			    json_array_get(e, 0), "title"));
			b = json_string_value(json_object_get(
			    json_array_get(e, 0), "detail"));
		} else {
			a = json_string_value(json_object_get(o, "error"));
			b = json_string_value(json_object_get(o,
			    "description"));
			if (b == NULL)
				b = json_string_value(json_object_get(o,
				    "error_description"));
		}
	}
	if (a != NULL || b != NULL)
		snprintf(err->message, sizeof(err->message), "%s%s%s",
		    a ? a : "", a && b ? ": " : "", b ? b : "");
	else
		snprintf(err->message, sizeof(err->message), "HTTP %ld",
		    rs->status);
	json_decref(o);
}

/*
 * One call with retries.  Returns 0 with the final answer in *out
 * (parsed JSON, or NULL for an empty body) when the instance answered
 * 2xx; KW_ERR_UPSTREAM with err filled otherwise.  A 404 is reported
 * with err->status 404 so callers can treat it as "already gone".
 */
static int
zd_call(const struct provider_target *t, const char *method, const char *url,
    json_t *body, json_t **out, struct provider_error *err)
{
	struct net_request	 rq;
	struct net_response	 rs;
	char			*text = NULL;
	long			 backoff = ZD_BACKOFF_FIRST_MS, wait;
	uint64_t		 t0;
	int			 attempt, r = KW_ERR_UPSTREAM, ra, renewed = 0;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	err->retry_after = -1;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
		return KW_ERR_NOMEM;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.bearer = t->bot_token;
	rq.content_type = text ? "application/json" : NULL;
	rq.body = text;
	rq.body_len = text ? strlen(text) : 0;
	rq.timeout_ms = t->timeout_ms;
	rq.max_response = ZD_RESPONSE_MAX;
	rq.extra_headers = (const char *const[]){ "Accept: application/json",
	    NULL };
	for (attempt = 1; attempt <= t->attempts; attempt++) {
		t0 = kw_mono_us();
		r = net_do(&rq, &rs);
		metrics_instance_call(t->name ? t->name : "", r == 0 ?
		    (rs.status >= 200 && rs.status < 300 ? 0 : 1) : 2,
		    kw_mono_us() - t0);
		wait = -1;
		if (r == KW_ERR_UPSTREAM) {		/* timeout, refused */
			err->status = 0;
			snprintf(err->message, sizeof(err->message),
			    "no answer from the instance: %.200s", rs.error);
			wait = backoff;
		} else if (r != 0) {	/* too large, or refused locally */
			err->status = 0;
			snprintf(err->message, sizeof(err->message), "%s",
			    r == KW_ERR_TOO_LARGE ? "the instance's answer is "
			    "larger than keywarden accepts" : rs.error[0] ?
			    rs.error : kw_strerror(r));
			r = KW_ERR_UPSTREAM;	/* whatever it was, it failed */
		} else if (rs.status >= 200 && rs.status < 300) {
			if (rs.body.len > 0 && (*out = json_loadb(
			    buf_str(&rs.body), rs.body.len, 0, NULL)) == NULL) {
				err->status = rs.status;
				snprintf(err->message, sizeof(err->message),
				    "the instance answered with malformed "
				    "JSON");
				r = KW_ERR_UPSTREAM;
			}
			net_response_free(&rs);
			goto out;
		} else {
			zd_message(&rs, err);
			r = KW_ERR_UPSTREAM;
			if (rs.status == 401 && t->renew != NULL && !renewed &&
			    rq.bearer != NULL && strncmp(err->message,
			    "invalid_token", 13) == 0) {
				/* keywarden's own token expired or was
				 * revoked: renew it once, try again */
				renewed = 1;
				net_response_free(&rs);
				if (t->renew(t->renew_arg) != 0)
					break;
				attempt--;
				continue;
			}
			if (rs.status == 429) {
				ra = (int)net_retry_after(&rs, 86400);
				err->retry_after = ra;
				wait = ra < 0 ? backoff : (long)ra * 1000;
				if (wait > (long)t->retry_wait_max_s * 1000)
					wait = -1;	/* too long: give up */
			} else if (rs.status >= 500)
				wait = backoff;
		}
		net_response_free(&rs);
		if (wait < 0 || attempt == t->attempts)
			break;
		log_msg("warn", "zendesk: %s %s: %s; retrying in %ld ms "
		    "(attempt %d of %d)", method, url, err->message, wait,
		    attempt + 1, t->attempts);
		sleep_ms(wait);
		backoff = backoff * 2 > ZD_BACKOFF_MAX_MS ? ZD_BACKOFF_MAX_MS :
		    backoff * 2;
	}
	if (r == 0)
		r = KW_ERR_UPSTREAM;
 out:
	if (text != NULL) {
		kw_wipe(text, strlen(text));
		free(text);
	}
	return r;
}

/* base URL + path [+ id + rest]; ids are checked with id_ok first. */
static void
zd_url(const struct provider_target *t, char *out, size_t outsz,
    const char *path, const char *id, const char *rest)
{
	snprintf(out, outsz, "%s%s%s%s", t->base_url, path, id ? id : "",
	    rest ? rest : "");
}

/* A JSON integer or string id as text. */
static void
id_text(json_t *v, char *out, size_t outsz)
{
	if (json_is_integer(v))
		snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		kw_strlcpy(out, json_string_value(v), outsz);
	else
		out[0] = '\0';
}

static void
str_field(json_t *o, const char *key, char *out, size_t outsz)
{
	const char *s = json_string_value(json_object_get(o, key));

	kw_strlcpy(out, s ? s : "", outsz);
}

/* A time of the instance's, normalised to RFC 3339 UTC ("" if absent
 * or not a time keywarden can read). */
static void
zd_time_field(json_t *o, const char *key, char *out, size_t outsz)
{
	const char	*s = json_string_value(json_object_get(o, key));
	time_t		 t;

	out[0] = '\0';
	if (s != NULL && kw_time_parse(s, &t) == 0)
		kw_time_fmt(t, out, outsz);
}

/* 1 if id is a plausible instance-side id (digits), so it can go into a
 * URL path. */
static int
id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n < PROVIDER_ID_MAX && strspn(id, "0123456789") == n;
}

static int
zd_delete(const struct provider_target *t, const char *path, const char *id,
    struct provider_error *err)
{
	char	 url[ZD_URL_MAX];
	json_t	*ans;
	int	 r;

	if (!id_ok(id))
		return 0;		/* nothing to delete */
	zd_url(t, url, sizeof(url), path, id, NULL);
	r = zd_call(t, "DELETE", url, NULL, &ans, err);
	json_decref(ans);
	if (r == KW_ERR_UPSTREAM && err->status == 404)
		return 0;		/* already gone */
	return r;
}

static int
zd_revoke(const struct provider_target *t, const char *client_id,
    const char *token_id, struct provider_error *err)
{
	int r;

	if ((r = zd_delete(t, "/api/v2/oauth/tokens/", token_id, err)) != 0)
		return r;
	return zd_delete(t, "/api/v2/oauth/clients/", client_id, err);
}

static int
zd_create_client(const struct provider_target *t, const struct issue_spec *s,
    struct issue_result *res, struct provider_error *err)
{
	char	 url[ZD_URL_MAX];
	json_t	*uris = json_array(), *body, *ans, *c;
	size_t	 i;
	int	 r;

	for (i = 0; i < s->nredirects; i++)
		json_array_append_new(uris, json_string(s->redirect_uris[i]));
	body = json_pack("{s:{s:s, s:s, s:s, s:o, s:s}}", "client", "name",
	    s->name, "identifier", s->identifier, "kind",
	    s->client_kind == CLIENT_PUBLIC ? "public" : "confidential",
	    "redirect_uri", uris, "description", s->description);
	if (body == NULL)
		return KW_ERR_NOMEM;
	zd_url(t, url, sizeof(url), "/api/v2/oauth/clients", NULL, NULL);
	r = zd_call(t, "POST", url, body, &ans, err);
	json_decref(body);
	if (r != 0)
		return r;
	c = json_object_get(ans, "client");
	id_text(json_object_get(c, "id"), res->client_id,
	    sizeof(res->client_id));
	str_field(c, "identifier", res->identifier, sizeof(res->identifier));
	if (s->kind == KIND_INTEGRATION || s->delivery != DM_TOKEN)
		str_field(c, "secret", res->secret, sizeof(res->secret));
	if (json_is_object(c)) {
		/* the secret was in here: wipe the parsed copy's text */
		json_t *sec = json_object_get(c, "secret");
		if (json_is_string(sec))
			json_string_set(sec, "");
	}
	json_decref(ans);
	if (!id_ok(res->client_id) || ((s->kind == KIND_INTEGRATION ||
	    s->delivery != DM_TOKEN) && res->secret[0] == '\0')) {
		err->status = 201;
		snprintf(err->message, sizeof(err->message), "the instance's "
		    "answer lacks the client's id or secret");
		return KW_ERR_UPSTREAM;
	}
	return 0;
}

static int
zd_create_token(const struct provider_target *t, const struct issue_spec *s,
    struct issue_result *res, struct provider_error *err)
{
	char	 url[ZD_URL_MAX];
	json_t	*scopes = json_array(), *body, *ans, *tok;
	size_t	 i;
	int	 r;

	for (i = 0; i < s->nscopes; i++)
		json_array_append_new(scopes, json_string(s->scopes[i]));
	body = json_pack("{s:{s:I, s:o}}", "token", "client_id",
	    (json_int_t)strtoll(res->client_id, NULL, 10), "scopes", scopes);
	if (body == NULL)
		return KW_ERR_NOMEM;
	zd_url(t, url, sizeof(url), "/api/v2/oauth/tokens", NULL, NULL);
	r = zd_call(t, "POST", url, body, &ans, err);
	json_decref(body);
	if (r != 0)
		return r;
	tok = json_object_get(ans, "token");
	id_text(json_object_get(tok, "id"), res->token_id,
	    sizeof(res->token_id));
	str_field(tok, "full_token", res->secret, sizeof(res->secret));
	zd_time_field(tok, "expires_at", res->expires_at,
	    sizeof(res->expires_at));
	if (json_is_string(json_object_get(tok, "full_token")))
		json_string_set(json_object_get(tok, "full_token"), "");
	json_decref(ans);
	if (!id_ok(res->token_id) || res->secret[0] == '\0') {
		err->status = 201;
		snprintf(err->message, sizeof(err->message), "the instance's "
		    "answer lacks the token's id or secret");
		return KW_ERR_UPSTREAM;
	}
	return 0;
}

static int
zd_issue(const struct provider_target *t, const struct issue_spec *s,
    struct issue_result *res, struct provider_error *err)
{
	struct provider_error	 e2;
	int			 r;

	memset(res, 0, sizeof(*res));
	if ((r = zd_create_client(t, s, res, err)) != 0)
		return r;
	kw_fault("after_client_create");
	/* a client is the whole credential, unless a token is delivered */
	if (s->kind == KIND_INTEGRATION || s->delivery != DM_TOKEN)
		return 0;
	if ((r = zd_create_token(t, s, res, err)) != 0) {
		/* never leave a half-made credential behind */
		if (zd_revoke(t, res->client_id, NULL, &e2) != 0)
			log_msg("error", "zendesk: could not delete client %s "
			    "after a failed token creation: %s; reconciliation "
			    "will retry", res->client_id, e2.message);
		kw_wipe(res->secret, sizeof(res->secret));
		return r;
	}
	kw_fault("after_token_create");
	return 0;
}

/* Walk a paginated listing: call each(item) for every element of the
 * array named key, following links.next while meta.has_more.  The bot's
 * token goes nowhere but the instance itself: a links.next on another
 * scheme, host or port (not merely another prefix) ends the walk with
 * KW_ERR_UPSTREAM, since the listing is then incomplete. */
static int
zd_walk(const struct provider_target *t, const char *first, const char *key,
    int (*each)(json_t *, void *), void *arg, struct provider_error *err)
{
	char		 url[ZD_URL_MAX];
	const char	*next;
	json_t		*ans, *item;
	size_t		 i;
	int		 r = 0, pages, more;

	zd_url(t, url, sizeof(url), first, NULL, NULL);
	for (pages = 0; pages < ZD_PAGES_MAX; pages++) {
		if ((r = zd_call(t, "GET", url, NULL, &ans, err)) != 0)
			return r;
		json_array_foreach(json_object_get(ans, key), i, item)
			if (r == 0)
				r = each(item, arg);
		next = json_string_value(json_object_get(json_object_get(ans,
		    "links"), "next"));
		more = json_is_true(json_object_get(json_object_get(ans,
		    "meta"), "has_more"));
		if (r != 0 || next == NULL || !more) {
			json_decref(ans);
			return r < 0 ? r : 0;
		}
		if (strlen(next) >= sizeof(url) ||
		    !net_same_origin(t->base_url, next)) {
			json_decref(ans);
			err->status = 0;
			snprintf(err->message, sizeof(err->message), "the "
			    "instance's links.next leads off the instance; "
			    "not followed");
			return KW_ERR_UPSTREAM;
		}
		kw_strlcpy(url, next, sizeof(url));
		json_decref(ans);
	}
	return 0;
}

struct walk_cb {
	void	*cb;
	void	*arg;
};

static int
client_item(json_t *c, void *arg)
{
	struct walk_cb		*w = arg;
	struct provider_client	 pc;

	memset(&pc, 0, sizeof(pc));
	id_text(json_object_get(c, "id"), pc.id, sizeof(pc.id));
	str_field(c, "identifier", pc.identifier, sizeof(pc.identifier));
	return ((provider_client_cb)w->cb)(&pc, w->arg);
}

static int
zd_list_clients(const struct provider_target *t, provider_client_cb cb,
    void *arg, struct provider_error *err)
{
	struct walk_cb w = { (void *)cb, arg };

	return zd_walk(t, "/api/v2/oauth/clients?page[size]=100", "clients",
	    client_item, &w, err);
}

static int
token_item(json_t *o, void *arg)
{
	struct walk_cb		*w = arg;
	struct provider_token	 pt;

	memset(&pt, 0, sizeof(pt));
	id_text(json_object_get(o, "id"), pt.id, sizeof(pt.id));
	id_text(json_object_get(o, "client_id"), pt.client_id,
	    sizeof(pt.client_id));
	str_field(o, "used_at", pt.used_at, sizeof(pt.used_at));
	return ((provider_token_cb)w->cb)(&pt, w->arg);
}

static int
zd_list_tokens(const struct provider_target *t, provider_token_cb cb,
    void *arg, struct provider_error *err)
{
	struct walk_cb w = { (void *)cb, arg };

	return zd_walk(t, "/api/v2/oauth/tokens?all=true&page[size]=100",
	    "tokens", token_item, &w, err);
}

static int
zd_get_client(const struct provider_target *t, const char *client_id,
    struct provider_client *out, struct provider_error *err)
{
	char	 url[ZD_URL_MAX];
	json_t	*ans, *c;
	int	 r;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (!id_ok(client_id)) {
		snprintf(err->message, sizeof(err->message), "not a client id");
		return KW_ERR_INTERNAL;
	}
	zd_url(t, url, sizeof(url), "/api/v2/oauth/clients/", client_id,
	    NULL);
	if ((r = zd_call(t, "GET", url, NULL, &ans, err)) != 0)
		return r == KW_ERR_UPSTREAM && err->status == 404 ?
		    KW_ERR_NOT_FOUND : r;
	c = json_object_get(ans, "client");
	id_text(json_object_get(c, "id"), out->id, sizeof(out->id));
	str_field(c, "identifier", out->identifier, sizeof(out->identifier));
	json_decref(ans);
	if (out->id[0] == '\0') {
		err->status = 200;
		snprintf(err->message, sizeof(err->message), "the instance's "
		    "answer lacks the client");
		return KW_ERR_UPSTREAM;
	}
	return 0;
}

static int
legacy_item(json_t *o, void *arg)
{
	struct walk_cb		*w = arg;
	struct provider_legacy	 pl;

	memset(&pl, 0, sizeof(pl));
	id_text(json_object_get(o, "id"), pl.id, sizeof(pl.id));
	str_field(o, "description", pl.description, sizeof(pl.description));
	pl.active = json_is_true(json_object_get(o, "active"));
	str_field(o, "created_at", pl.created_at, sizeof(pl.created_at));
	str_field(o, "last_used", pl.last_used_at, sizeof(pl.last_used_at));
	return ((provider_legacy_cb)w->cb)(&pl, w->arg);
}

static int
zd_list_legacy(const struct provider_target *t, provider_legacy_cb cb,
    void *arg, struct provider_error *err)
{
	struct walk_cb w = { (void *)cb, arg };

	/* unpaginated: one page, no links */
	return zd_walk(t, "/api/v2/api_tokens", "api_tokens", legacy_item, &w,
	    err);
}

/* PUT .../generate_secret: the client's new secret into secret. */
static int
zd_new_secret(const struct provider_target *t, const char *client_id,
    char *secret, size_t secretsz, struct provider_error *err)
{
	char	 url[ZD_URL_MAX];
	json_t	*ans, *sec;
	int	 r;

	secret[0] = '\0';
	if (!id_ok(client_id))
		return KW_ERR_INTERNAL;
	zd_url(t, url, sizeof(url), "/api/v2/oauth/clients/", client_id,
	    "/generate_secret");
	if ((r = zd_call(t, "PUT", url, NULL, &ans, err)) != 0)
		return r;
	sec = json_object_get(json_object_get(ans, "client"), "secret");
	kw_strlcpy(secret, json_is_string(sec) ? json_string_value(sec) : "",
	    secretsz);
	if (json_is_string(sec))
		json_string_set(sec, "");
	json_decref(ans);
	if (secret[0] == '\0') {
		err->status = 200;
		snprintf(err->message, sizeof(err->message), "the instance's "
		    "answer lacks the client's new secret");
		return KW_ERR_UPSTREAM;
	}
	return 0;
}

/*
 * POST /oauth/tokens, grant_type client_credentials.  The client
 * authenticates with its own identifier and secret in the body, so the
 * bot's credential is not sent; a 429 is handed back at once (the caller
 * passes Retry-After on) rather than waited out.
 */
static int
zd_grant(const struct provider_target *t, const struct grant_spec *g,
    struct grant_result *res, struct provider_error *err)
{
	struct provider_target	 gt = *t;
	struct buf		 scope;
	char			 url[ZD_URL_MAX];
	json_t			*body = NULL, *ans = NULL, *tok;
	size_t			 i;
	int			 r;

	memset(res, 0, sizeof(*res));
	gt.bot_token = NULL;
	gt.retry_wait_max_s = 0;
	buf_init(&scope, (KW_SCOPE_MAX + 1) * KW_SCOPES_MAX + 1);
	if (g->scope_text != NULL)
		buf_printf(&scope, "%s", g->scope_text);
	for (i = 0; i < g->nscopes; i++)
		buf_printf(&scope, "%s%s", i ? " " : "", g->scopes[i]);
	if ((r = buf_err(&scope)) != 0)
		goto out;
	body = json_pack("{s:s, s:s, s:s, s:s, s:I}", "grant_type",
	    "client_credentials", "client_id", g->identifier, "client_secret",
	    g->secret, "scope", buf_str(&scope), "expires_in",
	    (json_int_t)g->expires_in);
	if (body == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	zd_url(&gt, url, sizeof(url), "/oauth/tokens", NULL, NULL);
	r = zd_call(&gt, "POST", url, body, &ans, err);
	if (r != 0)
		goto out;
	tok = json_object_get(ans, "access_token");
	kw_strlcpy(res->access_token, json_is_string(tok) ?
	    json_string_value(tok) : "", sizeof(res->access_token));
	res->expires_in = json_is_integer(json_object_get(ans, "expires_in")) ?
	    (long)json_integer_value(json_object_get(ans, "expires_in")) :
	    g->expires_in;
	if (json_is_string(tok))
		json_string_set(tok, "");
	if (res->access_token[0] == '\0' || res->expires_in <= 0) {
		kw_wipe(res, sizeof(*res));
		err->status = 200;
		snprintf(err->message, sizeof(err->message), "the instance's "
		    "answer lacks an access token or its lifetime");
		r = KW_ERR_UPSTREAM;
	}
 out:
	if (body != NULL) {
		/* the secret was in there */
		json_object_set_new(body, "client_secret", json_string(""));
		json_decref(body);
	}
	json_decref(ans);
	buf_free(&scope);
	return r;
}

/* GET /api/v2/oauth/tokens/current: the calling token's own record. */
static int
zd_bot_expiry(const struct provider_target *t, char *expires_at, size_t sz,
    struct provider_error *err)
{
	char	 url[ZD_URL_MAX];
	json_t	*ans;
	int	 r;

	expires_at[0] = '\0';
	zd_url(t, url, sizeof(url), "/api/v2/oauth/tokens/current", NULL,
	    NULL);
	if ((r = zd_call(t, "GET", url, NULL, &ans, err)) != 0)
		return r;
	zd_time_field(json_object_get(ans, "token"), "expires_at", expires_at,
	    sz);
	json_decref(ans);
	return 0;
}

/* Collect the ids of the tokens of one client. */
struct client_tokens {
	const char	*client_id;
	size_t		 n;
	char		 ids[64][PROVIDER_ID_MAX];
};

static int
collect_token(const struct provider_token *pt, void *arg)
{
	struct client_tokens *ct = arg;

	if (strcmp(pt->client_id, ct->client_id) == 0 &&
	    ct->n < KW_NELEM(ct->ids))
		kw_strlcpy(ct->ids[ct->n++], pt->id, sizeof(ct->ids[0]));
	return 0;
}

static int
zd_adopt(const struct provider_target *t, const struct issue_spec *s,
    const char *client_id, struct issue_result *res,
    struct provider_error *err)
{
	struct client_tokens	 ct;
	size_t			 i;
	int			 r;

	memset(res, 0, sizeof(*res));
	if (!id_ok(client_id))
		return KW_ERR_INTERNAL;
	kw_strlcpy(res->client_id, client_id, sizeof(res->client_id));
	kw_strlcpy(res->identifier, s->identifier, sizeof(res->identifier));
	if (s->kind == KIND_INTEGRATION || s->delivery != DM_TOKEN)
		/* the first secret was lost with the crash: make a new one */
		return zd_new_secret(t, client_id, res->secret,
		    sizeof(res->secret), err);
	memset(&ct, 0, sizeof(ct));
	ct.client_id = client_id;
	if ((r = zd_list_tokens(t, collect_token, &ct, err)) != 0)
		return r;
	for (i = 0; i < ct.n; i++)
		if ((r = zd_delete(t, "/api/v2/oauth/tokens/", ct.ids[i],
		    err)) != 0)
			return r;
	return zd_create_token(t, s, res, err);
}

const struct provider_ops provider_zendesk = {
	.name = "zendesk",
	.issue = zd_issue,
	.adopt = zd_adopt,
	.revoke = zd_revoke,
	.get_client = zd_get_client,
	.list_clients = zd_list_clients,
	.list_tokens = zd_list_tokens,
	.list_legacy = zd_list_legacy,
	.grant = zd_grant,
	.new_secret = zd_new_secret,
	.bot_expiry = zd_bot_expiry,
};
