/*
 * legacy.c — Zendesk's classic API tokens, on their way out: reading
 * them from an instance (sync), the migration report, and linking each
 * to the keywarden credential that replaces it.  keywarden keeps their
 * metadata only: the instance never returns a token's value and
 * keywarden never asks for it.  See API.md, "Lifecycle".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "api/issuance.h"
#include "api/legacy.h"
#include "api/valid.h"
#include "crypto/crypto.h"
#include "provider/provider.h"
#include "util/util.h"

#define DAY_S		86400
/* Zendesk's expiring tokens (ZENDESK.md, "Token lifetimes"): local OAuth
 * clients created from this day get them; older ones must adopt the
 * refresh flow by the deadline. */
#define EXPIRING_CLIENTS_FROM	"2026-04-30T00:00:00Z"
#define REFRESH_DEADLINE	"2027-04-01"

/* ---- dates ---- */

/* Whole days from now to t, rounded down. */
static int
days_until(time_t t, time_t now)
{
	long long d = (long long)t - (long long)now, q = d / DAY_S;

	if (d % DAY_S != 0 && d < 0)
		q--;
	if (q > 1000000)
		q = 1000000;
	if (q < -1000000)
		q = -1000000;
	return (int)q;
}

int
legacy_due(const struct credential *c, time_t now, char *deactivation_due_out,
    int *days_to_deactivation, int *days_to_shutdown)
{
	const char	*base;
	time_t		 last, off;

	if (c->kind != KIND_LEGACY)
		return KW_ERR_VALIDATION;
	base = c->last_used_at[0] != '\0' ? c->last_used_at : c->created_at;
	if (kw_time_parse(base, &last) != 0 ||
	    kw_time_parse(LEGACY_SHUTDOWN, &off) != 0)
		return KW_ERR_VALIDATION;
	last += (time_t)LEGACY_IDLE_DAYS * DAY_S;
	if (deactivation_due_out != NULL)
		kw_time_fmt(last, deactivation_due_out, KW_TIME_LEN + 1);
	if (days_to_deactivation != NULL)
		*days_to_deactivation = days_until(last, now);
	if (days_to_shutdown != NULL)
		*days_to_shutdown = days_until(off, now);
	return 0;
}

/* ---- shared ---- */

/* 1 if the caller is one of in's provisioners. */
static int
provisions(const struct http_req *rq, const struct instance *in)
{
	const struct person	*me = api_me(rq);
	size_t			 i;

	for (i = 0; i < in->nprovisioners; i++)
		if (strcmp(in->provisioners[i].id, me->id) == 0)
			return 1;
	return 0;
}

static json_t *
str_or_null(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

/* An instance's time as keywarden writes times, or "" when it is
 * missing or not RFC 3339 UTC (an unknown last use counts as none). */
static void
time_norm(const char *in, char *out, size_t outsz)
{
	time_t t;

	if (in[0] != '\0' && kw_time_parse(in, &t) == 0)
		kw_time_fmt(t, out, outsz);
	else
		out[0] = '\0';
}

/* ---- sync: what the instance says ---- */

struct legacy_list {
	struct provider_legacy	*t;
	size_t			 n, cap;
	int			 truncated;	/* more than LEGACY_TOKENS_MAX */
	int			 retired;	/* the endpoint is gone: all off */
};

static int
collect_legacy(const struct provider_legacy *pl, void *arg)
{
	struct legacy_list	*l = arg;
	struct provider_legacy	*nt;
	size_t			 ncap;

	if (l->n == LEGACY_TOKENS_MAX) {
		l->truncated = 1;
		return 0;
	}
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		if ((nt = reallocarray(l->t, ncap, sizeof(*nt))) == NULL)
			return KW_ERR_NOMEM;
		l->t = nt;
		l->cap = ncap;
	}
	l->t[l->n++] = *pl;
	return 0;
}

static int
legacy_cmp(const void *a, const void *b)
{
	return strcmp(((const struct provider_legacy *)a)->id,
	    ((const struct provider_legacy *)b)->id);
}

/* 1 if the sorted listing holds the token of external key key. */
static int
listed(const struct legacy_list *l, const char *key)
{
	struct provider_legacy	 k;
	size_t			 n = strlen(LEGACY_KEY_PREFIX);

	if (strncmp(key, LEGACY_KEY_PREFIX, n) != 0)
		return 0;
	kw_strlcpy(k.id, key + n, sizeof(k.id));
	return l->n > 0 && bsearch(&k, l->t, l->n, sizeof(*l->t),
	    legacy_cmp) != NULL;
}

/* keywarden's own live OAuth tokens on the instance, and the last use
 * the instance reports for each. */
struct oauth_use {
	char	cred_id[KW_ID_MAX + 1];
	char	token_id[PROVIDER_ID_MAX];
	char	used_at[KW_TIME_LEN + 1];
};

struct oauth_list {
	struct oauth_use	*u;
	size_t			 n, cap;
	int64_t			 last;
};

static int
collect_oauth(const struct credential *c, void *arg)
{
	struct oauth_list	*l = arg;
	struct oauth_use	*nu;
	json_t			*ext;
	const char		*tid;
	size_t			 ncap;
	int			 r = 0;

	l->last = c->seq;
	if (c->kind == KIND_LEGACY || l->n == LEGACY_OAUTH_MAX ||
	    (ext = json_loads(c->external, 0, NULL)) == NULL)
		return 0;
	tid = json_string_value(json_object_get(ext, "token_id"));
	if (tid == NULL || tid[0] == '\0')
		goto out;
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		if ((nu = reallocarray(l->u, ncap, sizeof(*nu))) == NULL) {
			r = KW_ERR_NOMEM;
			goto out;
		}
		l->u = nu;
		l->cap = ncap;
	}
	memset(&l->u[l->n], 0, sizeof(l->u[0]));
	kw_strlcpy(l->u[l->n].cred_id, c->id, sizeof(l->u[0].cred_id));
	kw_strlcpy(l->u[l->n].token_id, tid, sizeof(l->u[0].token_id));
	l->n++;
 out:
	json_decref(ext);
	return r;
}

static int
oauth_cmp(const void *a, const void *b)
{
	return strcmp(((const struct oauth_use *)a)->token_id,
	    ((const struct oauth_use *)b)->token_id);
}

static int
see_token(const struct provider_token *pt, void *arg)
{
	struct oauth_list	*l = arg;
	struct oauth_use	 k, *u;

	if (l->n == 0 || pt->used_at[0] == '\0')
		return 0;
	kw_strlcpy(k.token_id, pt->id, sizeof(k.token_id));
	if ((u = bsearch(&k, l->u, l->n, sizeof(*l->u), oauth_cmp)) != NULL)
		time_norm(pt->used_at, u->used_at, sizeof(u->used_at));
	return 0;
}

/* Read the active keywarden credentials of instance_id that have a
 * token on it, sorted by token id (no transaction: a credential issued
 * meanwhile is seen by the next sync). */
static int
oauth_collect(struct store *st, const char *instance_id,
    struct oauth_list *l)
{
	struct credential_filter f;
	int64_t			 after;
	int			 r;

	memset(&f, 0, sizeof(f));
	f.viewer_all = 1;
	f.instance_id = instance_id;
	f.state = CS_ACTIVE;
	f.kind = -1;
	do {
		after = l->last;
		if ((r = store_credential_each(st, &f, after, KW_LIST_LIMIT_MAX,
		    collect_oauth, l)) != 0)
			return r;
	} while (l->last != after);
	if (l->n > 0)
		qsort(l->u, l->n, sizeof(*l->u), oauth_cmp);
	return 0;
}

/* 1 once Zendesk has switched legacy tokens off (and their listing). */
static int
legacy_retired(void)
{
	time_t off;

	return kw_time_parse(LEGACY_SHUTDOWN, &off) == 0 && kw_now() >= off;
}

static int
upstream_fail(struct http_req *rq, const struct instance *in,
    const char *what, const struct provider_error *perr)
{
	json_decref(rq->fail.details);
	rq->fail.details = json_pack("{s:I, s:s}", "status",
	    (json_int_t)perr->status, "instance_error", perr->message);
	return http_fail(rq, KW_ERR_UPSTREAM, NULL, "instance '%.64s' did not "
	    "list its %s: %s; nothing was changed, try again", in->name, what,
	    perr->message);
}

/*
 * Ask the instance (no transaction open): every legacy token into ll,
 * and the last use of keywarden's tokens into ol.
 */
static int
sync_fetch(struct http_req *rq, const struct instance *in,
    struct legacy_list *ll, struct oauth_list *ol)
{
	struct provider_error		 perr;
	struct issuance_conn		*cn;
	int				 r;

	memset(&perr, 0, sizeof(perr));
	if ((cn = malloc(sizeof(*cn))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = issuance_conn_open(rq->app, in, cn)) != 0) {
		r = http_fail(rq, KW_ERR_INTERNAL, NULL, "the Integration-bot "
		    "credential of instance '%.64s' cannot be opened",
		    in->name);
		goto out;
	}
	r = cn->ops->list_legacy(&cn->t, collect_legacy, ll, &perr);
	if (r == KW_ERR_UPSTREAM && perr.status == 404 && legacy_retired()) {
		/* the listing went away with the tokens themselves */
		ll->n = 0;
		ll->truncated = 0;
		ll->retired = 1;
		r = 0;
	}
	if (r != 0) {
		if (r == KW_ERR_UPSTREAM)
			r = upstream_fail(rq, in, "API tokens", &perr);
		goto out;
	}
	if ((r = cn->ops->list_tokens(&cn->t, see_token, ol, &perr)) != 0 &&
	    r == KW_ERR_UPSTREAM)
		r = upstream_fail(rq, in, "OAuth tokens", &perr);
 out:
	issuance_conn_close(cn);
	free(cn);
	return r;
}

/* ---- sync: recording it ---- */

struct sync_counts {
	int	imported, updated, removed, oauth;
};

/* What a sync owns of a legacy credential, from the instance's pl. */
static void
legacy_fill(struct credential *c, const struct provider_legacy *pl,
    const char *now)
{
	char	 created[KW_TIME_LEN + 1];
	json_t	*ext;
	char	*t;

	kw_strlcpy(c->name, pl->description, sizeof(c->name));
	kw_utf8_sanitize(c->name);
	time_norm(pl->last_used_at, c->last_used_at, sizeof(c->last_used_at));
	time_norm(pl->created_at, created, sizeof(created));
	if (created[0] != '\0')
		kw_strlcpy(c->created_at, created, sizeof(c->created_at));
	else if (c->created_at[0] == '\0')
		kw_strlcpy(c->created_at, now, sizeof(c->created_at));
	ext = json_pack("{s:s, s:b, s:o}", "api_token_id", pl->id, "active",
	    pl->active, "zendesk_created_at", str_or_null(created));
	t = ext ? json_dumps(ext, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	kw_strlcpy(c->external, t ? t : "{}", sizeof(c->external));
	free(t);
	json_decref(ext);
	if (pl->active) {
		c->state = CS_ACTIVE;
		c->revoked_at[0] = c->revoke_reason[0] = '\0';
	} else if (c->state != CS_EXPIRED) {
		/* keywarden learns of it now; Zendesk says no more */
		c->state = CS_EXPIRED;
		kw_strlcpy(c->revoked_at, now, sizeof(c->revoked_at));
		kw_strlcpy(c->revoke_reason, "deactivated by Zendesk",
		    sizeof(c->revoke_reason));
	}
}

/* 1 if a and b differ in what a sync writes. */
static int
legacy_changed(const struct credential *a, const struct credential *b)
{
	return a->state != b->state || strcmp(a->name, b->name) != 0 ||
	    strcmp(a->external, b->external) != 0 ||
	    strcmp(a->last_used_at, b->last_used_at) != 0 ||
	    strcmp(a->created_at, b->created_at) != 0 ||
	    strcmp(a->revoked_at, b->revoked_at) != 0 ||
	    strcmp(a->revoke_reason, b->revoke_reason) != 0;
}

/*
 * Record one listed token: a new legacy credential, owned by the person
 * who ran the sync (the schema wants an owner; nobody else is known to
 * hold it), or the update of the one keywarden already has.
 */
static int
sync_one(struct store *st, const struct instance *in, const char *owner_id,
    const struct provider_legacy *pl, const char *now, struct credential *c,
    struct credential *old, struct sync_counts *n)
{
	char	key[KW_EXTERNAL_ID_MAX + 1];
	int	r;

	snprintf(key, sizeof(key), LEGACY_KEY_PREFIX "%s", pl->id);
	r = store_credential_by_key(st, in->id, key, c);
	if (r == KW_ERR_NOT_FOUND) {
		memset(c, 0, sizeof(*c));
		crypto_random_id("cred_", c->id, sizeof(c->id));
		kw_strlcpy(c->instance_id, in->id, sizeof(c->instance_id));
		c->kind = KIND_LEGACY;
		kw_strlcpy(c->owner_id, owner_id, sizeof(c->owner_id));
		kw_strlcpy(c->purpose, "legacy", sizeof(c->purpose));
		kw_strlcpy(c->external_key, key, sizeof(c->external_key));
		c->delivery = DS_NOT_APPLICABLE;
		c->state = CS_PENDING;		/* legacy_fill decides */
		legacy_fill(c, pl, now);
		if ((r = store_credential_insert(st, c)) == 0)
			n->imported++;
		return r;
	}
	if (r != 0 || c->kind != KIND_LEGACY)
		return r;
	*old = *c;
	legacy_fill(c, pl, now);
	if (!legacy_changed(c, old))
		return 0;
	if ((r = store_credential_update(st, c)) == 0)
		n->updated++;
	return r;
}

/* The ids of the legacy credentials of an instance not yet revoked. */
struct id_list {
	char	(*ids)[KW_ID_MAX + 1];
	size_t	  n, cap;
	int64_t	  last;
};

static int
collect_live_legacy(const struct credential *c, void *arg)
{
	struct id_list	*l = arg;
	char		(*nids)[KW_ID_MAX + 1];
	size_t		  ncap;

	l->last = c->seq;
	if (c->state == CS_REVOKED)
		return 0;
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 64;
		if ((nids = reallocarray(l->ids, ncap, sizeof(*nids))) == NULL)
			return KW_ERR_NOMEM;
		l->ids = nids;
		l->cap = ncap;
	}
	kw_strlcpy(l->ids[l->n++], c->id, sizeof(l->ids[0]));
	return 0;
}

/* Legacy credentials the instance no longer lists become revoked. */
static int
sync_removed(struct store *st, const struct instance *in,
    const struct legacy_list *ll, const char *now, struct credential *c,
    struct sync_counts *n)
{
	struct credential_filter f;
	struct id_list		 l;
	int64_t			 after;
	size_t			 i;
	int			 r;

	memset(&l, 0, sizeof(l));
	memset(&f, 0, sizeof(f));
	f.viewer_all = 1;
	f.instance_id = in->id;
	f.state = -1;
	f.kind = KIND_LEGACY;
	do {
		after = l.last;
		if ((r = store_credential_each(st, &f, after, KW_LIST_LIMIT_MAX,
		    collect_live_legacy, &l)) != 0)
			goto out;
	} while (l.last != after);
	for (i = 0; i < l.n; i++) {
		if ((r = store_credential_get(st, l.ids[i], c)) != 0)
			goto out;
		if (listed(ll, c->external_key))
			continue;
		c->state = CS_REVOKED;
		kw_strlcpy(c->revoked_at, now, sizeof(c->revoked_at));
		kw_strlcpy(c->revoke_reason, ll->retired ? "no longer on the "
		    "instance: Zendesk switched legacy API tokens off on "
		    LEGACY_SHUTDOWN : "no longer on the instance",
		    sizeof(c->revoke_reason));
		if ((r = store_credential_update(st, c)) != 0)
			goto out;
		n->removed++;
	}
 out:
	free(l.ids);
	return r;
}

/* The last use of keywarden's tokens, as the instance reported it. */
static int
sync_oauth(struct store *st, const struct oauth_list *ol,
    struct credential *c, struct sync_counts *n)
{
	size_t	i;
	int	r;

	for (i = 0; i < ol->n; i++) {
		if (ol->u[i].used_at[0] == '\0')
			continue;
		if ((r = store_credential_get(st, ol->u[i].cred_id, c)) ==
		    KW_ERR_NOT_FOUND)
			continue;
		if (r != 0)
			return r;
		/* still active, and only ever forwards */
		if (c->state != CS_ACTIVE ||
		    strcmp(ol->u[i].used_at, c->last_used_at) <= 0)
			continue;
		kw_strlcpy(c->last_used_at, ol->u[i].used_at,
		    sizeof(c->last_used_at));
		if ((r = store_credential_update(st, c)) != 0)
			return r;
		n->oauth++;
	}
	return 0;
}

/* Everything a sync learnt, in one transaction with its audit event. */
static int
sync_record(struct http_req *rq, const struct instance *in,
    const struct legacy_list *ll, const struct oauth_list *ol,
    struct sync_counts *n)
{
	struct credential	*c = NULL, *old = NULL;
	struct store		*st;
	char			 now[KW_TIME_LEN + 1];
	size_t			 i;
	int			 r;

	kw_time_fmt(kw_now(), now, sizeof(now));
	c = malloc(sizeof(*c));
	old = malloc(sizeof(*old));
	if (c == NULL || old == NULL) {
		r = KW_ERR_NOMEM;
		goto done;
	}
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	for (i = 0; r == 0 && i < ll->n; i++)
		r = sync_one(st, in, api_me(rq)->id, &ll->t[i], now, c, old, n);
	/* an incomplete listing cannot tell what is gone */
	if (r == 0 && !ll->truncated)
		r = sync_removed(st, in, ll, now, c, n);
	if (r == 0)
		r = sync_oauth(st, ol, c, n);
	if (r != 0)
		r = http_fail(rq, KW_ERR_UNAVAILABLE, NULL, "the store cannot "
		    "be written (%s); nothing was changed", kw_strerror(r));
	else
		r = api_audit(rq, st, "instance.sync", in->name, json_pack(
		    "{s:I, s:b, s:b, s:i, s:i, s:i, s:i}", "legacy_tokens",
		    (json_int_t)ll->n, "listing_truncated", ll->truncated,
		    "listing_retired", ll->retired,
		    "imported", n->imported, "updated", n->updated, "removed",
		    n->removed, "oauth_last_used_updated", n->oauth));
	r = api_tx_end(rq, &st, r);
 done:
	free(c);
	free(old);
	return r;
}

/* 0 if keywarden can read in's tokens, else the 409 saying why. */
static int
sync_possible(struct http_req *rq, const struct instance *in)
{
	const struct provider_ops *ops = provider_find(in->provider);

	if (ops == NULL || ops->list_legacy == NULL || ops->list_tokens == NULL)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "instance '%.64s' "
		    "has provider '%.32s', which keywarden cannot read tokens "
		    "from", in->name, in->provider);
	if (in->bot_sealed_len == 0)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "instance '%.64s' "
		    "has no Integration-bot credential: set \"bot\" with "
		    "PATCH /v1/instances/%.64s first", in->name, in->name);
	return 0;
}

int
api_instances_sync(struct http_req *rq, struct http_resp *rs)
{
	struct legacy_list	 ll;
	struct oauth_list	 ol;
	struct sync_counts	 n;
	struct instance		*in;
	struct store		*st;
	int			 r;

	memset(&ll, 0, sizeof(ll));
	memset(&ol, 0, sizeof(ol));
	memset(&n, 0, sizeof(n));
	if ((r = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0)
		return r;
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	if ((in = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = store_instance_get(st, rq->params[0], in)) != 0) {
		r = api_store_fail(rq, r, "instance", rq->params[0]);
		goto out;
	}
	if (!api_has_role(rq, ROLE_ADMIN) && !provisions(rq, in)) {
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL, "only an admin or a "
		    "provisioner of instance '%.64s' may sync it", in->name);
		goto out;
	}
	if ((r = sync_possible(rq, in)) != 0)
		goto out;
	if ((r = oauth_collect(st, in->id, &ol)) != 0) {
		r = api_store_fail(rq, r, "", "");
		goto out;
	}
	if ((r = sync_fetch(rq, in, &ll, &ol)) != 0)
		goto out;
	if (ll.truncated)
		log_msg("warn", "sync: instance %s lists more than %d API "
		    "tokens; the rest were not read", in->name,
		    LEGACY_TOKENS_MAX);
	if (ll.n > 0)
		qsort(ll.t, ll.n, sizeof(*ll.t), legacy_cmp);
	if ((r = sync_record(rq, in, &ll, &ol, &n)) != 0)
		goto out;
	rs->body = json_pack("{s:s, s:I, s:i, s:i, s:i, s:i}", "instance",
	    in->name, "legacy_tokens", (json_int_t)ll.n, "imported",
	    n.imported, "updated", n.updated, "removed", n.removed,
	    "oauth_last_used_updated", n.oauth);
 out:
	free(ll.t);
	free(ol.u);
	kw_wipe(in, sizeof(*in));
	free(in);
	return r;
}

/* ---- the migration report ---- */

struct inst_ref {
	char	id[KW_ID_MAX + 1];
	char	name[KW_INSTANCE_NAME_MAX + 1];
};

struct inst_refs {
	const struct http_req	*rq;
	int			 all;	/* admin/auditor: every instance */
	const char		*only;	/* ?instance=, or NULL */
	struct inst_ref		*v;
	size_t			 n, cap;
	int64_t			 last;
	int			 hidden;	/* `only` exists, not theirs */
};

static int
collect_instance(const struct instance *in, void *arg)
{
	struct inst_refs	*l = arg;
	struct inst_ref		*nv;
	size_t			 ncap;

	l->last = in->seq;
	if (l->only != NULL && strcmp(l->only, in->name) != 0 &&
	    strcmp(l->only, in->id) != 0)
		return 0;
	if (!l->all && !provisions(l->rq, in)) {
		l->hidden |= l->only != NULL;
		return 0;
	}
	if (l->n == l->cap) {
		ncap = l->cap ? l->cap * 2 : 16;
		if ((nv = reallocarray(l->v, ncap, sizeof(*nv))) == NULL)
			return KW_ERR_NOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	kw_strlcpy(l->v[l->n].id, in->id, sizeof(l->v[0].id));
	kw_strlcpy(l->v[l->n].name, in->name, sizeof(l->v[0].name));
	l->n++;
	return 0;
}

struct section {
	json_t	*tokens;
	time_t	 now;
	int64_t	 last;
	int	 total, active, replaced, soon;
};

static int	refresh_note(json_t *, const struct credential *);

/* One token of the report; "replacement" holds the linked id (or null)
 * until report_replacements resolves it. */
static int
report_token(const struct credential *c, void *arg)
{
	struct section	*s = arg;
	char		 due[KW_TIME_LEN + 1];
	json_t		*ext, *o;
	time_t		 off, t;
	int		 ok;

	s->last = c->seq;
	if (c->state == CS_REVOKED)	/* no longer on the instance */
		return 0;
	ok = legacy_due(c, s->now, due, NULL, NULL) == 0;
	ext = json_loads(c->external, 0, NULL);
	o = json_pack("{s:s, s:s, s:O?, s:b, s:o, s:o, s:s, s:o}", "id",
	    c->id, "name", c->name, "api_token_id",
	    json_object_get(ext, "api_token_id"), "active",
	    c->state == CS_ACTIVE, "last_used_at", str_or_null(c->last_used_at),
	    "deactivation_due", ok ? json_string(due) : json_null(),
	    "shutdown", LEGACY_SHUTDOWN, "replacement",
	    str_or_null(c->replacement_id));
	json_decref(ext);
	if (o == NULL || json_array_append_new(s->tokens, o) != 0)
		return KW_ERR_NOMEM;
	s->total++;
	s->active += c->state == CS_ACTIVE;
	s->replaced += c->replacement_id[0] != '\0';
	/* an active token stops working at whichever comes first; one
	 * already overdue counts too */
	if (ok && c->state == CS_ACTIVE && kw_time_parse(due, &t) == 0 &&
	    kw_time_parse(LEGACY_SHUTDOWN, &off) == 0) {
		if (off < t)
			t = off;
		s->soon += t - s->now <= (time_t)LEGACY_SOON_DAYS * DAY_S;
	}
	return 0;
}

/* Replace each token's linked id by {"id", "state", "name"} (or null
 * when the credential is gone). */
static int
report_replacements(struct store *st, json_t *tokens)
{
	static const char *const states[CS__COUNT] = {
		[CS_PENDING] = "pending", [CS_ACTIVE] = "active",
		[CS_REVOKED] = "revoked", [CS_EXPIRED] = "expired",
	};
	struct credential	*c;
	const char		*id;
	json_t			*tok;
	size_t			 i;
	int			 r = 0;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	json_array_foreach(tokens, i, tok) {
		if ((id = json_string_value(json_object_get(tok,
		    "replacement"))) == NULL)
			continue;
		r = store_credential_get(st, id, c);
		if (r == KW_ERR_NOT_FOUND) {
			json_object_set_new(tok, "replacement", json_null());
			r = 0;
			continue;
		}
		if (r != 0)
			break;
		json_object_set_new(tok, "replacement", json_pack(
		    "{s:s, s:s, s:s, s:s}", "id", c->id, "state",
		    states[c->state < CS__COUNT ? c->state : CS_REVOKED],
		    "name", c->name, "delivery", api_delivery_mode_name(c)));
		refresh_note(json_object_get(tok, "replacement"), c);
	}
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

/*
 * A keywarden token-mode credential that Zendesk's expiring tokens catch
 * up with: one the instance gave an expires_at, or one whose OAuth client
 * predates 2026-04-30 (ZENDESK.md: such clients must adopt the refresh
 * flow by 2027-04-01).  Adds the deadline and the advice to o; 1 if it
 * applies.
 */
static int
refresh_note(json_t *o, const struct credential *c)
{
	json_t		*ext;
	const char	*at;
	int		 hit = 0;

	if (c->kind != KIND_API_TOKEN || c->delivery_mode != DM_TOKEN ||
	    c->state != CS_ACTIVE)
		return 0;
	ext = json_loads(c->external[0] ? c->external : "{}", 0, NULL);
	if ((at = json_string_value(json_object_get(ext, "expires_at"))) !=
	    NULL) {
		json_object_set_new(o, "instance_expires_at", json_string(at));
		hit = 1;
	}
	json_decref(ext);
	if (strcmp(c->created_at, EXPIRING_CLIENTS_FROM) < 0) {
		json_object_set_new(o, "refresh_deadline",
		    json_string(REFRESH_DEADLINE));
		hit = 1;
	}
	if (hit)
		json_object_set_new(o, "advice", json_string("a token pasted "
		    "into a script dies when Zendesk expires it: move to a "
		    "broker credential (file a request with \"delivery\": "
		    "\"broker\") and fetch short-lived access tokens with "
		    "'keywarden credential token ID'"));
	return hit;
}

struct expiring {
	json_t	*items;
	int64_t	 last;
};

static int
report_expiring(const struct credential *c, void *arg)
{
	struct expiring	*e = arg;
	json_t		*o;

	e->last = c->seq;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "id", c->id, "owner",
	    c->owner_email, "name", c->name, "delivery",
	    api_delivery_mode_name(c), "expires_at", c->expires_at[0] ?
	    c->expires_at : NULL);
	if (o == NULL)
		return KW_ERR_NOMEM;
	if (refresh_note(o, c))
		json_array_append_new(e->items, o);
	else
		json_decref(o);
	return 0;
}

/* {"instance", "tokens": [...], "summary": {...}} for one instance. */
static int
report_instance(struct store *st, const struct inst_ref *ir, time_t now,
    json_t **out)
{
	struct credential_filter f;
	struct section		 s;
	struct expiring		 e = { NULL, 0 };
	int64_t			 after;
	int			 r;

	memset(&s, 0, sizeof(s));
	s.now = now;
	if ((s.tokens = json_array()) == NULL)
		return KW_ERR_NOMEM;
	memset(&f, 0, sizeof(f));
	f.viewer_all = 1;
	f.instance_id = ir->id;
	f.state = -1;
	f.kind = KIND_LEGACY;
	do {
		after = s.last;
		if ((r = store_credential_each(st, &f, after, KW_LIST_LIMIT_MAX,
		    report_token, &s)) != 0)
			goto fail;
	} while (s.last != after);
	if ((r = report_replacements(st, s.tokens)) != 0)
		goto fail;
	/* keywarden's own token-mode credentials Zendesk expires */
	if ((e.items = json_array()) == NULL) {
		r = KW_ERR_NOMEM;
		goto fail;
	}
	f.kind = KIND_API_TOKEN;
	f.state = CS_ACTIVE;
	do {
		after = e.last;
		if ((r = store_credential_each(st, &f, after, KW_LIST_LIMIT_MAX,
		    report_expiring, &e)) != 0)
			goto fail;
	} while (e.last != after);
	*out = json_pack("{s:s, s:o, s:o, s:{s:i, s:i, s:i, s:i, s:i, s:i}}",
	    "instance", ir->name, "tokens", s.tokens, "expiring_tokens",
	    e.items, "summary", "total", s.total, "active", s.active,
	    "replaced", s.replaced, "unreplaced", s.total - s.replaced,
	    "deactivation_within_14_days", s.soon, "expiring_tokens",
	    (int)json_array_size(e.items));
	return *out != NULL ? 0 : KW_ERR_NOMEM;
 fail:
	json_decref(s.tokens);
	json_decref(e.items);
	return r;
}

int
api_reports_migration(struct http_req *rq, struct http_resp *rs)
{
	struct inst_refs	 l;
	struct store		*st;
	json_t			*list = NULL, *sec;
	char			 at[KW_TIME_LEN + 1];
	const char		*only;
	int64_t			 after;
	time_t			 now = kw_now();
	size_t			 i;
	int			 r;

	memset(&l, 0, sizeof(l));
	l.rq = rq;
	l.all = api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR);
	if ((only = http_query(rq, "instance")) != NULL && *only != '\0')
		l.only = only;
	if ((st = api_store(rq)) == NULL)
		return api_store_fail(rq, KW_ERR_UNAVAILABLE, "", "");
	do {
		after = l.last;
		if ((r = store_instance_each(st, after, KW_LIST_LIMIT_MAX,
		    collect_instance, &l)) != 0) {
			r = api_store_fail(rq, r, "", "");
			goto out;
		}
	} while (l.last != after);
	if (l.hidden) {
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL, "only admins, "
		    "auditors and the instance's provisioners may read its "
		    "migration report");
		goto out;
	}
	if (l.only != NULL && l.n == 0) {
		r = http_fail(rq, KW_ERR_VALIDATION, "instance",
		    "no instance '%.64s'", l.only);
		goto out;
	}
	if (!l.all && l.n == 0) {
		r = http_fail(rq, KW_ERR_FORBIDDEN, NULL, "only admins, "
		    "auditors and provisioners may read the migration report");
		goto out;
	}
	if ((list = json_array()) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if ((r = report_instance(st, &l.v[i], now, &sec)) != 0) {
			r = api_store_fail(rq, r, "", "");
			goto out;
		}
		json_array_append_new(list, sec);
	}
	kw_time_fmt(now, at, sizeof(at));
	rs->body = json_pack("{s:s, s:s, s:o}", "shutdown", LEGACY_SHUTDOWN,
	    "generated_at", at, "instances", list);
	list = NULL;
	r = rs->body != NULL ? 0 : KW_ERR_NOMEM;
 out:
	json_decref(list);
	free(l.v);
	return r;
}

/* ---- linking a replacement ---- */

/*
 * Check that replacement id rid may replace legacy credential c (exists,
 * is keywarden's own, on the same instance) for the caller; rep is
 * scratch.  A credential on another instance is "not found" to anyone
 * but an admin.
 */
static int
link_check(struct http_req *rq, struct store *st, const struct credential *c,
    const char *rid, struct credential *rep)
{
	int r;

	r = store_credential_get(st, rid, rep);
	if (r != 0 && r != KW_ERR_NOT_FOUND)
		return api_store_fail(rq, r, "", "");
	if (r == KW_ERR_NOT_FOUND || (strcmp(rep->instance_id,
	    c->instance_id) != 0 && !api_has_role(rq, ROLE_ADMIN)))
		return http_fail(rq, KW_ERR_VALIDATION, "replacement_id",
		    "'replacement_id': no credential '%.64s' on instance "
		    "'%.64s'", rid, c->instance_name);
	if (rep->kind == KIND_LEGACY)
		return http_fail(rq, KW_ERR_VALIDATION, "replacement_id",
		    "'replacement_id' names a legacy API token; name the "
		    "keywarden credential that replaces it");
	if (strcmp(rep->instance_id, c->instance_id) != 0)
		return http_fail(rq, KW_ERR_VALIDATION, "replacement_id",
		    "'replacement_id' is on instance '%.64s', not on '%.64s'",
		    rep->instance_name, c->instance_name);
	return 0;
}

/* Load legacy credential id for the caller: 404 when they may not see
 * it, 403 when they may not change it, 409 when it is not legacy. */
static int
link_load(struct http_req *rq, struct store *st, const char *id,
    struct credential *c, struct instance *in)
{
	int r, prov;

	if ((r = store_credential_get(st, id, c)) != 0)
		return api_store_fail(rq, r, "credential", id);
	if ((r = store_instance_get(st, c->instance_id, in)) != 0)
		return api_store_fail(rq, r, "instance", c->instance_id);
	prov = provisions(rq, in);
	if (strcmp(c->owner_id, api_me(rq)->id) != 0 && !prov &&
	    !api_has_role(rq, ROLE_ADMIN | ROLE_AUDITOR))
		return http_fail(rq, KW_ERR_NOT_FOUND, NULL,
		    "no credential '%.64s'", id);
	if (!prov && !api_has_role(rq, ROLE_ADMIN))
		return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "only an admin "
		    "or a provisioner of instance '%.64s' may link a "
		    "replacement", c->instance_name);
	if (c->kind != KIND_LEGACY)
		return http_fail(rq, KW_ERR_CONFLICT, NULL, "credential "
		    "'%.64s' is not a legacy API token; only those are "
		    "replaced", id);
	return 0;
}

int
api_credentials_link(struct http_req *rq, struct http_resp *rs)
{
	static const char *const fields[] = { "replacement_id", NULL };
	struct credential	*c = NULL, *rep = NULL;
	struct instance		*in = NULL;
	struct store		*st;
	char			 rid[KW_ID_MAX + 1] = "";
	char			 prev[KW_ID_MAX + 1];
	json_t			*o;
	int			 r;

	if ((r = jv_known(rq, rq->body, fields)) != 0 ||
	    (r = jv_str(rq, rq->body, "replacement_id", JV_REQUIRED |
	    JV_NULLABLE, KW_ID_MAX, rid, sizeof(rid), NULL)) != 0)
		return r;
	c = malloc(sizeof(*c));
	rep = malloc(sizeof(*rep));
	in = malloc(sizeof(*in));
	if (c == NULL || rep == NULL || in == NULL) {
		r = KW_ERR_NOMEM;
		goto done;
	}
	if ((r = api_tx_begin(rq, &st)) != 0)
		goto done;
	if ((r = link_load(rq, st, rq->params[0], c, in)) != 0 ||
	    (rid[0] != '\0' && (r = link_check(rq, st, c, rid, rep)) != 0))
		goto out;
	kw_strlcpy(prev, c->replacement_id, sizeof(prev));
	kw_strlcpy(c->replacement_id, rid, sizeof(c->replacement_id));
	if ((r = store_credential_update(st, c)) != 0) {
		r = api_store_fail(rq, r, "credential", c->id);
		goto out;
	}
	r = api_audit(rq, st, "credential.link_replacement", c->id, json_pack(
	    "{s:o, s:o, s:s, s:s}", "replacement_id", str_or_null(rid),
	    "previous", str_or_null(prev), "instance", c->instance_name,
	    "api_token_key", c->external_key));
 out:
	r = api_tx_end(rq, &st, r);
	if (r == 0) {
		if ((o = api_credential_json(c)) == NULL)
			r = KW_ERR_NOMEM;
		else {
			json_object_set_new(o, "replacement_id",
			    str_or_null(c->replacement_id));
			rs->body = o;
		}
	}
 done:
	if (c != NULL)
		kw_wipe(c, sizeof(*c));
	free(c);
	if (rep != NULL)
		kw_wipe(rep, sizeof(*rep));
	free(rep);
	if (in != NULL)
		kw_wipe(in, sizeof(*in));
	free(in);
	return r;
}
