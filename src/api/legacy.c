/*
 * legacy.c — the HTTP side of a SaaS's classic API tokens (legacy
 * credentials): the sync (core/legacy.c does it) and the migration
 * report (linking each to the keywarden credential that replaces it is
 * credential_link, in core/credentials.c).  The SaaS's dates come from
 * each instance's provider.  See API.md,
 * "Lifecycle".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "api/api.h"
#include "core/issuance.h"
#include "api/valid.h"
#include "core/credentials.h"
#include "core/legacy.h"
#include "provider/provider.h"
#include "util/util.h"

#define DAY_S		86400

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


/* ---- sync ---- */

int
api_instances_sync(struct http_req *rq, struct http_resp *rs)
{
	struct legacy_sync_result	 res;
	struct actor			 a;
	int				 r;

	if ((r = jv_known(rq, rq->body, (const char *const[]){ NULL })) != 0)
		return r;
	api_actor(rq, &a);
	if ((r = legacy_sync(rq->app, &a, rq->params[0], &res,
	    &rq->fail)) != 0)
		return r;
	rs->body = json_pack("{s:s, s:I, s:i, s:i, s:i, s:i}", "instance",
	    res.instance, "legacy_tokens", (json_int_t)res.legacy_tokens,
	    "imported", res.imported, "updated", res.updated, "removed",
	    res.removed, "oauth_last_used_updated", res.oauth);
	return rs->body != NULL ? 0 : KW_ERR_NOMEM;
}

/* ---- the migration report ---- */

struct inst_ref {
	char	id[KW_ID_MAX + 1];
	char	name[KW_INSTANCE_NAME_MAX + 1];
	const struct provider_ops *ops;	/* its provider, or NULL */
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
	l->v[l->n].ops = provider_find(in->provider);
	l->n++;
	return 0;
}

struct section {
	const struct provider_ops *ops;
	json_t	*tokens;
	time_t	 now;
	int64_t	 last;
	int	 total, active, replaced, soon;
};

static int	refresh_note(const struct provider_ops *, json_t *,
		    const struct credential *);

/* When the provider switches legacy tokens off, or NULL when it has
 * none. */
static const char *
shutdown_of(const struct provider_ops *ops)
{
	return ops != NULL && ops->legacy != NULL ? ops->legacy->shutdown :
	    NULL;
}

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
	ok = legacy_due(s->ops != NULL ? s->ops->legacy : NULL, c, s->now, due,
	    NULL, NULL) == 0;
	ext = json_loads(c->external, 0, NULL);
	o = json_pack("{s:s, s:s, s:O?, s:b, s:o, s:o, s:s?, s:o}", "id",
	    c->id, "name", c->name, "api_token_id",
	    json_object_get(ext, "api_token_id"), "active",
	    c->state == CS_ACTIVE, "last_used_at", str_or_null(c->last_used_at),
	    "deactivation_due", ok ? json_string(due) : json_null(),
	    "shutdown", shutdown_of(s->ops), "replacement",
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
	    kw_time_parse(shutdown_of(s->ops), &off) == 0) {
		if (off < t)
			t = off;
		s->soon += t - s->now <= (time_t)LEGACY_SOON_DAYS * DAY_S;
	}
	return 0;
}

/* Replace each token's linked id by {"id", "state", "name"} (or null
 * when the credential is gone). */
static int
report_replacements(struct store *st, const struct provider_ops *ops,
    json_t *tokens)
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
		    "name", c->name, "delivery",
		    credential_delivery_mode_name(c)));
		refresh_note(ops, json_object_get(tok, "replacement"), c);
	}
	kw_wipe(c, sizeof(*c));
	free(c);
	return r;
}

/*
 * A keywarden token-mode credential that the SaaS's expiring tokens
 * catch up with: one the instance gave an expires_at, or one whose OAuth
 * client predates the provider's expiring_clients_from (such clients
 * must adopt the refresh flow by its refresh_deadline).  Adds the
 * deadline and the advice to o; 1 if it applies.
 */
static int
refresh_note(const struct provider_ops *ops, json_t *o,
    const struct credential *c)
{
	const struct provider_legacy_facts *lf = ops != NULL ? ops->legacy :
	    NULL;
	json_t		*ext;
	const char	*at;
	char		 advice[512];
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
	if (lf != NULL && lf->expiring_clients_from != NULL &&
	    strcmp(c->created_at, lf->expiring_clients_from) < 0) {
		json_object_set_new(o, "refresh_deadline",
		    json_string(lf->refresh_deadline));
		hit = 1;
	}
	if (hit) {
		snprintf(advice, sizeof(advice), "a token pasted into a script "
		    "dies when %s expires it: move to a broker credential "
		    "(file a request with \"delivery\": \"broker\") and fetch "
		    "short-lived access tokens with 'keywarden credential "
		    "token ID'", ops != NULL ? ops->title : "the instance");
		json_object_set_new(o, "advice", json_string(advice));
	}
	return hit;
}

struct expiring {
	const struct provider_ops *ops;
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
	    credential_delivery_mode_name(c), "expires_at", c->expires_at[0] ?
	    c->expires_at : NULL);
	if (o == NULL)
		return KW_ERR_NOMEM;
	if (refresh_note(e->ops, o, c))
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
	struct expiring		 e = { ir->ops, NULL, 0 };
	int64_t			 after;
	int			 r;

	memset(&s, 0, sizeof(s));
	s.ops = ir->ops;
	s.now = now;
	if ((s.tokens = json_array()) == NULL)
		return KW_ERR_NOMEM;
	memset(&f, 0, sizeof(f));
	f.viewer.all = 1;
	f.instance_id = ir->id;
	f.state = -1;
	f.kind = KIND_LEGACY;
	do {
		after = s.last;
		if ((r = store_credential_each(st, &f, after, KW_LIST_LIMIT_MAX,
		    report_token, &s)) != 0)
			goto fail;
	} while (s.last != after);
	if ((r = report_replacements(st, ir->ops, s.tokens)) != 0)
		goto fail;
	/* keywarden's own token-mode credentials the SaaS expires */
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

/* The provider that switches legacy tokens off first (the report's
 * headline; each token carries its own provider's date), or NULL when
 * no provider has legacy tokens. */
static const struct provider_ops *
first_shutdown(void)
{
	const struct provider_ops	*ops, *first = NULL;
	size_t				 i;

	for (i = 0; (ops = provider_at(i)) != NULL; i++)
		if (shutdown_of(ops) != NULL && (first == NULL ||
		    strcmp(shutdown_of(ops), shutdown_of(first)) < 0))
			first = ops;
	return first;
}

int
api_reports_migration(struct http_req *rq, struct http_resp *rs)
{
	const struct provider_ops *head;
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
	head = first_shutdown();
	rs->body = json_pack("{s:s?, s:s?, s:o, s:s, s:o}", "shutdown",
	    shutdown_of(head), "provider", head != NULL ? head->title : NULL,
	    "idle_days", head != NULL ? json_integer(head->legacy->idle_days) :
	    json_null(), "generated_at", at, "instances", list);
	list = NULL;
	r = rs->body != NULL ? 0 : KW_ERR_NOMEM;
 out:
	json_decref(list);
	free(l.v);
	return r;
}
