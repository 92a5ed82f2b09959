/*
 * legacy.c — a SaaS's classic API tokens, on their way out: reading them
 * from an instance (sync) and when each stops working.  keywarden keeps
 * their metadata only: the instance never returns a token's value and
 * keywarden never asks for it.  What the SaaS says and when it switches
 * them off come from the instance's provider.  See API.md, "Lifecycle".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "core/issuance.h"
#include "core/app.h"
#include "core/legacy.h"
#include "crypto/crypto.h"
#include "policy/workflow.h"
#include "provider/provider.h"
#include "util/util.h"

#define DAY_S		86400

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
legacy_due(const struct provider_legacy_facts *lf, const struct credential *c,
    time_t now, char *deactivation_due_out, int *days_to_deactivation,
    int *days_to_shutdown)
{
	const char	*base;
	time_t		 last, off;

	if (lf == NULL || c->kind != KIND_LEGACY)
		return KW_ERR_VALIDATION;
	base = c->last_used_at[0] != '\0' ? c->last_used_at : c->created_at;
	if (kw_time_parse(base, &last) != 0 ||
	    kw_time_parse(lf->shutdown, &off) != 0)
		return KW_ERR_VALIDATION;
	last += (time_t)lf->idle_days * DAY_S;
	if (deactivation_due_out != NULL)
		kw_time_fmt(last, deactivation_due_out, KW_TIME_LEN + 1);
	if (days_to_deactivation != NULL)
		*days_to_deactivation = days_until(last, now);
	if (days_to_shutdown != NULL)
		*days_to_shutdown = days_until(off, now);
	return 0;
}

/* ---- shared ---- */

const char *
legacy_saas(struct store *st, const struct credential *c)
{
	const struct provider_ops	*ops = NULL;
	struct instance			*in;

	if ((in = malloc(sizeof(*in))) == NULL)
		return "SaaS";
	if (store_instance_get(st, c->instance_id, in) == 0)
		ops = provider_find(in->provider);
	kw_wipe(in, sizeof(*in));
	free(in);
	return ops != NULL ? ops->title : "SaaS";
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
listed(const struct legacy_list *l, const struct provider_legacy_facts *lf,
    const char *key)
{
	struct provider_legacy	 k;
	size_t			 n = strlen(lf->key_prefix);

	if (strncmp(key, lf->key_prefix, n) != 0)
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
	f.viewer.all = 1;
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

/* 1 once the SaaS has switched legacy tokens off (and their listing). */
static int
legacy_retired(const struct provider_legacy_facts *lf)
{
	time_t off;

	return kw_time_parse(lf->shutdown, &off) == 0 && kw_now() >= off;
}

static int
upstream_fail(struct kw_fail *f, const struct instance *in,
    const char *what, const struct provider_error *perr)
{
	kw_fail(f, KW_ERR_UPSTREAM, NULL, "instance '%.64s' did not list its "
	    "%s: %s; nothing was changed, try again", in->name, what,
	    perr->message);
	kw_fail_details(f, json_pack("{s:I, s:s}", "status",
	    (json_int_t)perr->status, "instance_error", perr->message));
	return KW_ERR_UPSTREAM;
}

/*
 * Ask the instance (no transaction open): every legacy token into ll,
 * and the last use of keywarden's tokens into ol.
 */
static int
sync_fetch(struct app *app, const struct provider_ops *ops,
    const struct instance *in, struct legacy_list *ll, struct oauth_list *ol,
    struct kw_fail *f)
{
	struct provider_error		 perr;
	struct issuance_conn		*cn;
	int				 r;

	memset(&perr, 0, sizeof(perr));
	if ((cn = malloc(sizeof(*cn))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = issuance_conn_open(app, in, cn)) != 0) {
		r = kw_fail(f, KW_ERR_INTERNAL, NULL, "the Integration-bot "
		    "credential of instance '%.64s' cannot be opened",
		    in->name);
		goto out;
	}
	r = ops->list_legacy(&cn->t, collect_legacy, ll, &perr);
	if (r == KW_ERR_UPSTREAM && perr.status == 404 &&
	    legacy_retired(ops->legacy)) {
		/* the listing went away with the tokens themselves */
		ll->n = 0;
		ll->truncated = 0;
		ll->retired = 1;
		r = 0;
	}
	if (r != 0) {
		if (r == KW_ERR_UPSTREAM)
			r = upstream_fail(f, in, "API tokens", &perr);
		goto out;
	}
	if ((r = ops->list_tokens(&cn->t, see_token, ol, &perr)) != 0 &&
	    r == KW_ERR_UPSTREAM)
		r = upstream_fail(f, in, "OAuth tokens", &perr);
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
legacy_fill(const struct provider_ops *ops, struct credential *c,
    const struct provider_legacy *pl, const char *now)
{
	char		 created[KW_TIME_LEN + 1];
	const char	*why;
	json_t		*ext;
	char		*t;

	kw_strlcpy(c->name, pl->description, sizeof(c->name));
	kw_utf8_sanitize(c->name);
	time_norm(pl->last_used_at, c->last_used_at, sizeof(c->last_used_at));
	time_norm(pl->created_at, created, sizeof(created));
	if (created[0] != '\0')
		kw_strlcpy(c->created_at, created, sizeof(c->created_at));
	else if (c->created_at[0] == '\0')
		kw_strlcpy(c->created_at, now, sizeof(c->created_at));
	ext = json_pack("{s:s, s:b, s:o}", "api_token_id", pl->id, "active",
	    pl->active, ops->legacy->created_key, str_or_null(created));
	t = ext ? json_dumps(ext, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	kw_strlcpy(c->external, t ? t : "{}", sizeof(c->external));
	free(t);
	json_decref(ext);
	/* a legacy token's state follows the listing (the CE_SYNC_* rows:
	 * one from every state but the one each leads to) */
	if (pl->active) {
		if (c->state != CS_ACTIVE)
			(void)policy_credential_step(c, CE_SYNC_ACTIVE, &why);
		c->revoked_at[0] = c->revoke_reason[0] = '\0';
	} else if (c->state != CS_EXPIRED &&
	    policy_credential_step(c, CE_SYNC_INACTIVE, &why) == 0) {
		/* keywarden learns of it now; the SaaS says no more */
		kw_strlcpy(c->revoked_at, now, sizeof(c->revoked_at));
		snprintf(c->revoke_reason, sizeof(c->revoke_reason),
		    "deactivated by %s", ops->title);
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
sync_one(struct store *st, const struct provider_ops *ops,
    const struct instance *in, const char *owner_id,
    const struct provider_legacy *pl, const char *now, struct credential *c,
    struct credential *old, struct sync_counts *n)
{
	char	key[KW_EXTERNAL_ID_MAX + 1];
	int	r;

	snprintf(key, sizeof(key), "%s%s", ops->legacy->key_prefix, pl->id);
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
		legacy_fill(ops, c, pl, now);
		if ((r = store_credential_insert(st, c)) == 0)
			n->imported++;
		return r;
	}
	if (r != 0 || c->kind != KIND_LEGACY)
		return r;
	*old = *c;
	legacy_fill(ops, c, pl, now);
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
sync_removed(struct store *st, const struct provider_ops *ops,
    const struct instance *in, const struct legacy_list *ll, const char *now,
    struct credential *c, struct sync_counts *n)
{
	struct credential_filter f;
	struct id_list		 l;
	const char		*why;
	int64_t			 after;
	size_t			 i;
	int			 r;

	memset(&l, 0, sizeof(l));
	memset(&f, 0, sizeof(f));
	f.viewer.all = 1;
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
		if (listed(ll, ops->legacy, c->external_key) ||
		    policy_credential_step(c, CE_SYNC_GONE, &why) != 0)
			continue;
		kw_strlcpy(c->revoked_at, now, sizeof(c->revoked_at));
		if (ll->retired)
			snprintf(c->revoke_reason, sizeof(c->revoke_reason),
			    "no longer on the instance: %s switched legacy "
			    "API tokens off on %s", ops->title,
			    ops->legacy->shutdown);
		else
			kw_strlcpy(c->revoke_reason, "no longer on the "
			    "instance", sizeof(c->revoke_reason));
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
sync_record(struct app *app, struct actor *a, const struct provider_ops *ops,
    const struct instance *in, const struct legacy_list *ll,
    const struct oauth_list *ol, struct sync_counts *n, struct kw_fail *f)
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
	if ((r = core_tx_begin(app, a, &st, f)) != 0)
		goto done;
	/* the owner as the transaction re-read them */
	for (i = 0; r == 0 && i < ll->n; i++)
		r = sync_one(st, ops, in, a->person.id, &ll->t[i], now, c,
		    old, n);
	/* an incomplete listing cannot tell what is gone */
	if (r == 0 && !ll->truncated)
		r = sync_removed(st, ops, in, ll, now, c, n);
	if (r == 0)
		r = sync_oauth(st, ol, c, n);
	if (r != 0)
		r = kw_fail(f, KW_ERR_UNAVAILABLE, NULL, "the store cannot "
		    "be written (%s); nothing was changed", kw_strerror(r));
	else
		r = core_audit(st, a, "instance.sync", in->name, json_pack(
		    "{s:I, s:b, s:b, s:i, s:i, s:i, s:i}", "legacy_tokens",
		    (json_int_t)ll->n, "listing_truncated", ll->truncated,
		    "listing_retired", ll->retired,
		    "imported", n->imported, "updated", n->updated, "removed",
		    n->removed, "oauth_last_used_updated", n->oauth), f);
	r = core_tx_end(app, r, f);
 done:
	free(c);
	free(old);
	return r;
}

/* in's provider if keywarden can read in's tokens, else NULL with the
 * 409 saying why in *r. */
static const struct provider_ops *
sync_possible(const struct instance *in, int *r, struct kw_fail *f)
{
	const struct provider_ops *ops = provider_find(in->provider);

	if (ops == NULL || ops->legacy == NULL || ops->list_legacy == NULL ||
	    ops->list_tokens == NULL) {
		*r = kw_fail(f, KW_ERR_CONFLICT, NULL, "instance '%.64s' has "
		    "provider '%.32s', which keywarden cannot read tokens "
		    "from", in->name, in->provider);
		return NULL;
	}
	if (in->bot_sealed_len == 0) {
		*r = kw_fail(f, KW_ERR_CONFLICT, NULL, "instance '%.64s' has "
		    "no Integration-bot credential: set \"bot\" with "
		    "PATCH /v1/instances/%.64s first", in->name, in->name);
		return NULL;
	}
	return ops;
}

/* 1 if actor a is one of in's provisioners. */
static int
provisions(const struct actor *a, const struct instance *in)
{
	size_t i;

	if (a->person.id[0] == '\0')
		return 0;
	for (i = 0; i < in->nprovisioners; i++)
		if (strcmp(in->provisioners[i].id, a->person.id) == 0)
			return 1;
	return 0;
}

int
legacy_sync(struct app *app, struct actor *a, const char *instance,
    struct legacy_sync_result *out, struct kw_fail *f)
{
	const struct provider_ops *ops;
	struct legacy_list	 ll;
	struct oauth_list	 ol;
	struct sync_counts	 n;
	struct instance		*in;
	struct store		*st;
	int			 r;

	memset(&ll, 0, sizeof(ll));
	memset(&ol, 0, sizeof(ol));
	memset(&n, 0, sizeof(n));
	memset(out, 0, sizeof(*out));
	if ((st = core_store(app)) == NULL)
		return core_store_fail(KW_ERR_UNAVAILABLE, "", "", f);
	if ((in = malloc(sizeof(*in))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = store_instance_get(st, instance, in)) != 0) {
		r = core_store_fail(r, "instance", instance, f);
		goto out;
	}
	if (!actor_has_role(a, ROLE_ADMIN) && !provisions(a, in)) {
		r = kw_fail(f, KW_ERR_FORBIDDEN, NULL, "only an admin or a "
		    "provisioner of instance '%.64s' may sync it", in->name);
		goto out;
	}
	if ((ops = sync_possible(in, &r, f)) == NULL)
		goto out;
	if ((r = oauth_collect(st, in->id, &ol)) != 0) {
		r = core_store_fail(r, "", "", f);
		goto out;
	}
	if ((r = sync_fetch(app, ops, in, &ll, &ol, f)) != 0)
		goto out;
	if (ll.truncated)
		log_msg("warn", "sync: instance %s lists more than %d API "
		    "tokens; the rest were not read", in->name,
		    LEGACY_TOKENS_MAX);
	if (ll.n > 0)
		qsort(ll.t, ll.n, sizeof(*ll.t), legacy_cmp);
	if ((r = sync_record(app, a, ops, in, &ll, &ol, &n, f)) != 0)
		goto out;
	kw_strlcpy(out->instance, in->name, sizeof(out->instance));
	out->legacy_tokens = ll.n;
	out->imported = n.imported;
	out->updated = n.updated;
	out->removed = n.removed;
	out->oauth = n.oauth;
 out:
	free(ll.t);
	free(ol.u);
	kw_wipe(in, sizeof(*in));
	free(in);
	return r;
}
