/*
 * zsim_store.c — what the simulated Zendesk account holds: admins,
 * OAuth clients and tokens, legacy API tokens, tickets, pending faults,
 * the clock and the legacy-token timeline.
 *
 * One mutex guards it all; every zsim_store_* function expects the
 * caller to hold it.  Clients and tokens live in vectors sorted by id
 * (ids only grow, so appending keeps them sorted) for binary search and
 * cursor pagination; minted tokens are also indexed by the digest of
 * their secret, and clients by identifier, so neither authentication
 * nor the uniqueness check scans the whole account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "util/util.h"
#include "zsim.h"

int
zsim_init(struct zsim *sim, const char *base_url)
{
	memset(sim, 0, sizeof(*sim));
	if (pthread_mutex_init(&sim->mu, NULL) != 0)
		return KW_ERR_INTERNAL;
	kw_strlcpy(sim->base_url, base_url, sizeof(sim->base_url));
	if (kw_time_parse(ZSIM_LEGACY_IDLE_FROM, &sim->legacy_idle_from) ||
	    kw_time_parse(ZSIM_LEGACY_CREATE_UNTIL,
	    &sim->legacy_create_until) ||
	    kw_time_parse(ZSIM_LEGACY_OFF_AT, &sim->legacy_off_at) ||
	    kw_time_parse(ZSIM_TTL_ENFORCED_FROM, &sim->ttl_enforced_from))
		return KW_ERR_INTERNAL;
	sim->rate_limit = ZSIM_RATE_LIMIT_DEFAULT;
	sim->grant_status = ZSIM_GRANT_STATUS_DEFAULT;
	sim->buckets = calloc(ZSIM_TOKEN_BUCKETS, sizeof(*sim->buckets));
	sim->id_buckets = calloc(ZSIM_CLIENT_BUCKETS,
	    sizeof(*sim->id_buckets));
	sim->tickets = json_array();
	sim->ep_requests = calloc(zsim_endpoint_count(),
	    sizeof(*sim->ep_requests));
	if (sim->buckets == NULL || sim->id_buckets == NULL ||
	    sim->tickets == NULL ||
	    sim->ep_requests == NULL)
		return KW_ERR_NOMEM;
	sim->next_user_id = ZSIM_FIRST_USER_ID;
	sim->next_client_id = ZSIM_FIRST_CLIENT_ID;
	sim->next_token_id = ZSIM_FIRST_TOKEN_ID;
	sim->next_legacy_id = ZSIM_FIRST_LEGACY_ID;
	sim->next_ticket_id = ZSIM_FIRST_TICKET_ID;
	sim->next_fault_id = 1;
	return 0;
}

void
zsim_store_reset(struct zsim *sim)
{
	size_t i;

	for (i = 0; i < sim->clients.n; i++)
		zsim_client_free(sim->clients.v[i]);
	for (i = 0; i < sim->tokens.n; i++)
		zsim_token_free(sim->tokens.v[i]);
	sim->clients.n = sim->tokens.n = 0;
	if (sim->buckets != NULL)
		memset(sim->buckets, 0, ZSIM_TOKEN_BUCKETS *
		    sizeof(*sim->buckets));
	if (sim->id_buckets != NULL)
		memset(sim->id_buckets, 0, ZSIM_CLIENT_BUCKETS *
		    sizeof(*sim->id_buckets));
	kw_wipe(sim->legacy, sizeof(sim->legacy));
	sim->nlegacy = 0;
	if (sim->tickets != NULL)
		json_array_clear(sim->tickets);
	sim->nfaults = 0;
	sim->token_expires_in = 0;
	sim->new_client_tokens_expire = 0;
	sim->rate_limit = ZSIM_RATE_LIMIT_DEFAULT;
	sim->grant_status = ZSIM_GRANT_STATUS_DEFAULT;
	sim->rate_count = 0;
	sim->requests = 0;
	if (sim->ep_requests != NULL)
		memset(sim->ep_requests, 0, zsim_endpoint_count() *
		    sizeof(*sim->ep_requests));
}

void
zsim_free(struct zsim *sim)
{
	zsim_store_reset(sim);
	free(sim->clients.v);
	free(sim->tokens.v);
	free(sim->buckets);
	free(sim->id_buckets);
	free(sim->ep_requests);
	json_decref(sim->tickets);
	kw_wipe(sim->admins, sizeof(sim->admins));
	pthread_mutex_destroy(&sim->mu);
}

void
zsim_lock(struct zsim *sim)
{
	pthread_mutex_lock(&sim->mu);
}

void
zsim_unlock(struct zsim *sim)
{
	pthread_mutex_unlock(&sim->mu);
}

/* ---- clock ---- */

time_t
zsim_store_now(const struct zsim *sim)
{
	return sim->frozen ? sim->fixed_now : kw_now();
}

void
zsim_store_set_now(struct zsim *sim, time_t t)
{
	sim->frozen = 1;
	sim->fixed_now = t;
}

void
zsim_store_real_time(struct zsim *sim)
{
	sim->frozen = 0;
}

/* ---- admins ---- */

int
zsim_store_admin_add(struct zsim *sim, const char *token, const char *email,
    int64_t *user_id)
{
	struct zsim_admin	*a;
	char			 hash[65];

	zsim_hash(token, hash);
	if (zsim_store_admin_by_token(sim, hash) != NULL ||
	    zsim_store_admin_by_email(sim, email) != NULL)
		return KW_ERR_CONFLICT;
	if (sim->nadmins >= ZSIM_ADMINS_MAX)
		return KW_ERR_TOO_LARGE;
	a = &sim->admins[sim->nadmins++];
	memcpy(a->hash, hash, sizeof(a->hash));
	kw_strlcpy(a->shown, token, sizeof(a->shown));
	kw_strlcpy(a->email, email, sizeof(a->email));
	a->user_id = sim->next_user_id++;
	a->created_at = zsim_store_now(sim);
	*user_id = a->user_id;
	return 0;
}

/* Every admin is compared so the time taken does not say which matched. */
const struct zsim_admin *
zsim_store_admin_by_token(const struct zsim *sim, const char *hash)
{
	const struct zsim_admin	*found = NULL;
	size_t			 i;

	for (i = 0; i < sim->nadmins; i++)
		if (zsim_hash_eq(sim->admins[i].hash, hash) && found == NULL)
			found = &sim->admins[i];
	return found;
}

const struct zsim_admin *
zsim_store_admin_by_email(const struct zsim *sim, const char *email)
{
	size_t i;

	for (i = 0; i < sim->nadmins; i++)
		if (strcasecmp(sim->admins[i].email, email) == 0)
			return &sim->admins[i];
	return NULL;
}

const struct zsim_admin *
zsim_store_admin_by_id(const struct zsim *sim, int64_t user_id)
{
	size_t i;

	for (i = 0; i < sim->nadmins; i++)
		if (sim->admins[i].user_id == user_id)
			return &sim->admins[i];
	return NULL;
}

/* ---- sorted vectors ---- */

static int64_t
rec_id(const void *rec)
{
	return *(const int64_t *)rec;
}

size_t
zsim_vec_after(const struct zsim_vec *v, int64_t after)
{
	size_t lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rec_id(v->v[mid]) <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *
zsim_vec_find(const struct zsim_vec *v, int64_t id)
{
	size_t i = zsim_vec_after(v, id - 1);

	return i < v->n && rec_id(v->v[i]) == id ? v->v[i] : NULL;
}

/* Append rec; its id must be larger than every id already held. */
int
zsim_vec_push(struct zsim_vec *v, void *rec)
{
	void	**nv;
	size_t	  ncap;

	if (v->n == v->cap) {
		ncap = v->cap ? v->cap * 2 : 64;
		if ((nv = realloc(v->v, ncap * sizeof(*nv))) == NULL)
			return KW_ERR_NOMEM;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = rec;
	return 0;
}

/* Unlink the record with id and hand it back (NULL if absent). */
void *
zsim_vec_remove(struct zsim_vec *v, int64_t id)
{
	size_t	 i = zsim_vec_after(v, id - 1);
	void	*rec;

	if (i >= v->n || rec_id(v->v[i]) != id)
		return NULL;
	rec = v->v[i];
	memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(v->v[0]));
	v->n--;
	return rec;
}

/* ---- clients ---- */

static const char *
client_identifier(const struct zsim_client *cl)
{
	const char *s = json_string_value(json_object_get(cl->attrs,
	    "identifier"));

	return s ? s : "";
}

/* FNV-1a of the identifier. */
static size_t
id_bucket(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % ZSIM_CLIENT_BUCKETS;
}

static void
id_link(struct zsim *sim, struct zsim_client *cl)
{
	size_t b = id_bucket(client_identifier(cl));

	cl->next = sim->id_buckets[b];
	sim->id_buckets[b] = cl;
}

static void
id_unlink(struct zsim *sim, struct zsim_client *cl)
{
	struct zsim_client **pp;

	for (pp = &sim->id_buckets[id_bucket(client_identifier(cl))];
	    *pp != NULL; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			return;
		}
}

int
zsim_store_client_add(struct zsim *sim, struct zsim_client *cl)
{
	if (zsim_vec_push(&sim->clients, cl) != 0)
		return KW_ERR_NOMEM;
	id_link(sim, cl);
	return 0;
}

void
zsim_store_client_update(struct zsim *sim, struct zsim_client *cl,
    json_t *attrs)
{
	id_unlink(sim, cl);
	json_object_update(cl->attrs, attrs);
	id_link(sim, cl);
}

struct zsim_client *
zsim_store_client_by_identifier(const struct zsim *sim,
    const char *identifier)
{
	struct zsim_client *cl;

	for (cl = sim->id_buckets[id_bucket(identifier)]; cl != NULL;
	    cl = cl->next)
		if (strcmp(client_identifier(cl), identifier) == 0)
			return cl;
	return NULL;
}

void
zsim_client_free(struct zsim_client *cl)
{
	if (cl == NULL)
		return;
	json_decref(cl->attrs);
	kw_wipe(cl, sizeof(*cl));
	free(cl);
}

void
zsim_store_client_delete(struct zsim *sim, int64_t id)
{
	struct zsim_client	*cl;
	struct zsim_token	*t;
	size_t			 i = 0;

	if ((cl = zsim_vec_remove(&sim->clients, id)) != NULL) {
		id_unlink(sim, cl);
		zsim_client_free(cl);
	}
	while (i < sim->tokens.n) {
		t = sim->tokens.v[i];
		if (t->client_id == id)
			zsim_store_token_delete(sim, t->id);	/* shifts */
		else
			i++;
	}
}

/* ---- tokens ---- */

static size_t
bucket_of(const char *hash)
{
	char	head[9];

	memcpy(head, hash, 8);
	head[8] = '\0';
	return (size_t)strtoul(head, NULL, 16) % ZSIM_TOKEN_BUCKETS;
}

int
zsim_store_token_add(struct zsim *sim, struct zsim_token *t)
{
	size_t b = bucket_of(t->hash);

	if (zsim_vec_push(&sim->tokens, t) != 0)
		return KW_ERR_NOMEM;
	t->next = sim->buckets[b];
	sim->buckets[b] = t;
	return 0;
}

/* The bucket is chosen by the digest, never by the secret itself. */
struct zsim_token *
zsim_store_token_by_hash(const struct zsim *sim, const char *hash)
{
	struct zsim_token *t;

	for (t = sim->buckets[bucket_of(hash)]; t != NULL; t = t->next)
		if (zsim_hash_eq(t->hash, hash))
			return t;
	return NULL;
}

/* Every token with a refresh token is compared: the time taken does not
 * say which (or whether one) matched. */
struct zsim_token *
zsim_store_token_by_refresh(const struct zsim *sim, const char *hash)
{
	struct zsim_token	*t, *found = NULL;
	size_t			 i;

	for (i = 0; i < sim->tokens.n; i++) {
		t = sim->tokens.v[i];
		if (t->has_refresh && zsim_hash_eq(t->refresh_hash, hash) &&
		    found == NULL)
			found = t;
	}
	return found;
}

int
zsim_store_client_enforced(const struct zsim *sim,
    const struct zsim_client *cl)
{
	return cl->created_at >= sim->ttl_enforced_from;
}

void
zsim_store_token_delete(struct zsim *sim, int64_t id)
{
	struct zsim_token	*t, **pp;

	if ((t = zsim_vec_remove(&sim->tokens, id)) == NULL)
		return;
	for (pp = &sim->buckets[bucket_of(t->hash)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	zsim_token_free(t);
}

/*
 * Forget every token that can no longer be used: its access token expired
 * and it has no refresh token left to use.  Zendesk does not keep them
 * either; without this a long benchmark fills the table with dead grants.
 * One pass, keeping the order.  Returns how many went.
 */
size_t
zsim_store_token_sweep(struct zsim *sim)
{
	struct zsim_token	*t, **pp;
	time_t			 now = zsim_store_now(sim);
	size_t			 i, kept = 0, n = sim->tokens.n;

	for (i = 0; i < n; i++) {
		t = sim->tokens.v[i];
		if (t->expires_at == 0 || now < t->expires_at ||
		    (t->has_refresh && (t->refresh_expires_at == 0 ||
		    now < t->refresh_expires_at))) {
			sim->tokens.v[kept++] = t;
			continue;
		}
		for (pp = &sim->buckets[bucket_of(t->hash)]; *pp != NULL;
		    pp = &(*pp)->next)
			if (*pp == t) {
				*pp = t->next;
				break;
			}
		zsim_token_free(t);
	}
	sim->tokens.n = kept;
	return n - kept;
}

void
zsim_token_free(struct zsim_token *t)
{
	if (t == NULL)
		return;
	json_decref(t->scopes);
	kw_wipe(t, sizeof(*t));
	free(t);
}

/* ---- legacy API tokens and their timeline ---- */

/*
 * From legacy_idle_from on, a token unused for ZSIM_LEGACY_IDLE_S is
 * deactivated (at the later of that date and last use + 30 days); it
 * is deleted ZSIM_LEGACY_PURGE_S after that.  From legacy_off_at on
 * every token is off.  Computed from the clock on each look, so moving
 * the clock moves the timeline.
 */
int
zsim_legacy_active(const struct zsim *sim, const struct zsim_legacy *l,
    time_t *deactivated_at)
{
	time_t	now = zsim_store_now(sim), last, idle_at;

	*deactivated_at = 0;
	last = l->last_used ? l->last_used : l->created_at;
	idle_at = last + ZSIM_LEGACY_IDLE_S;
	if (idle_at < sim->legacy_idle_from)
		idle_at = sim->legacy_idle_from;
	if (idle_at > sim->legacy_off_at)
		idle_at = sim->legacy_off_at;
	if (now < idle_at)
		return 1;
	*deactivated_at = idle_at;
	return 0;
}

void
zsim_store_legacy_sweep(struct zsim *sim)
{
	time_t	now = zsim_store_now(sim), off;
	size_t	i = 0;

	while (i < sim->nlegacy) {
		if (!zsim_legacy_active(sim, &sim->legacy[i], &off) &&
		    off != sim->legacy_off_at && now >= off +
		    ZSIM_LEGACY_PURGE_S) {
			memmove(&sim->legacy[i], &sim->legacy[i + 1],
			    (sim->nlegacy - i - 1) * sizeof(sim->legacy[0]));
			sim->nlegacy--;
			kw_wipe(&sim->legacy[sim->nlegacy],
			    sizeof(sim->legacy[0]));
		} else
			i++;
	}
}

/* Create a legacy token; its secret goes to token[tokensz] (once).
 * NULL when the account already holds ZSIM_LEGACY_MAX. */
struct zsim_legacy *
zsim_store_legacy_add(struct zsim *sim, const char *description,
    int64_t user_id, time_t created_at, time_t last_used, char *token,
    size_t tokensz)
{
	struct zsim_legacy *l;

	if (sim->nlegacy >= ZSIM_LEGACY_MAX || tokensz <= ZSIM_LEGACY_LEN)
		return NULL;
	l = &sim->legacy[sim->nlegacy++];
	memset(l, 0, sizeof(*l));
	l->id = sim->next_legacy_id++;
	l->user_id = user_id;
	kw_strlcpy(l->description, description, sizeof(l->description));
	zsim_secret_new(token, tokensz, ZSIM_LEGACY_LEN);
	zsim_hash(token, l->hash);
	kw_strlcpy(l->shown, token + ZSIM_LEGACY_LEN - ZSIM_LEGACY_SHOWN,
	    sizeof(l->shown));
	l->created_at = l->updated_at = created_at;
	l->last_used = last_used;
	return l;
}

/* ---- tickets ---- */

json_t *
zsim_store_ticket_add(struct zsim *sim, const char *subject,
    int64_t requester_id)
{
	json_t	*t;
	char	 url[400];
	int64_t	 id;
	time_t	 now = zsim_store_now(sim);

	if (json_array_size(sim->tickets) >= ZSIM_TICKETS_MAX)
		return NULL;
	id = sim->next_ticket_id;
	snprintf(url, sizeof(url), "%s/api/v2/tickets/%lld.json",
	    sim->base_url, (long long)id);
	t = json_pack("{s:I, s:s, s:s, s:s, s:I, s:o, s:o}", "id",
	    (json_int_t)id, "url", url, "subject", subject, "status", "new",
	    "requester_id", (json_int_t)requester_id, "created_at",
	    zsim_time_json(now), "updated_at", zsim_time_json(now));
	if (t == NULL || json_array_append_new(sim->tickets, t) != 0)
		return NULL;
	sim->next_ticket_id++;
	return t;
}

/* ---- faults ---- */

int
zsim_store_fault_take(struct zsim *sim, const char *method, const char *path,
    struct zsim_fault *out)
{
	struct zsim_fault	*f;
	size_t			 i;

	for (i = 0; i < sim->nfaults; i++) {
		f = &sim->faults[i];
		if (f->method[0] != '\0' && strcmp(f->method, method) != 0)
			continue;
		if (strncmp(path, f->path_prefix, strlen(f->path_prefix)) != 0)
			continue;
		*out = *f;
		if (--f->count <= 0) {
			memmove(f, f + 1, (sim->nfaults - i - 1) *
			    sizeof(*f));
			sim->nfaults--;
		}
		return 1;
	}
	return 0;
}
