/*
 * jobs.c — the lifecycle jobs (see jobs.h).  Each job first collects
 * the ids of what is due (one indexed query per page), then acts on
 * each in its own transaction, re-checking the state it acts on: a job
 * racing another process, or killed half-way, never acts twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "log.h"
#include "core/app.h"
#include "core/issuance.h"
#include "core/jobs.h"
#include "core/legacy.h"
#include "core/requests.h"
#include "notify/notify.h"
#include "policy/workflow.h"
#include "util/util.h"

#define JOBS_PAGE		500	/* ids collected per query */
#define DAY			86400

static const int legacy_thresholds[] = { 14, 3 };	/* days before */

/* A job's audit event by a (keywarden itself; inside w's transaction;
 * details consumed).  0 or KW_ERR_UNAVAILABLE. */
static int
job_audit(struct store *w, const struct actor *a, const char *action,
    const char *subject, json_t *details)
{
	struct kw_fail f;

	memset(&f, 0, sizeof(f));
	return core_audit(w, a, action, subject, details, &f);
}

struct page {
	size_t	n;
	int64_t	last;
	char	ids[JOBS_PAGE][KW_ID_MAX + 1];
};

static int
page_credential(const struct credential *c, void *arg)
{
	struct page *p = arg;

	kw_strlcpy(p->ids[p->n++], c->id, sizeof(p->ids[0]));
	p->last = c->seq;
	return 0;
}

static int
page_request(const struct request *r, void *arg)
{
	struct page *p = arg;

	kw_strlcpy(p->ids[p->n++], r->id, sizeof(p->ids[0]));
	p->last = r->seq;
	return 0;
}

/* Count into a summary object: o[key] += 1. */
static void
bump(json_t *o, const char *key)
{
	json_object_set_new(o, key, json_integer(json_integer_value(
	    json_object_get(o, key)) + 1));
}

static void
job_error(json_t *sum, const char *job, const char *id, const char *why)
{
	json_array_append_new(json_object_get(sum, "errors"), json_pack(
	    "{s:s, s:s, s:s}", "job", job, "id", id, "error", why));
}

/* ---- stale requests ---- */

static int
expire_request(struct app *app, const struct actor *a, struct store *st,
    const char *id, const char *now)
{
	struct request		*r;
	enum req_state		 from;
	const char		*why;
	char			 note[64];
	int			 rc;

	if ((r = malloc(sizeof(*r))) == NULL)
		return KW_ERR_NOMEM;
	if ((rc = core_write_begin(app, &st)) != 0)
		goto done;
	if ((rc = store_request_get(st, id, r)) != 0)
		goto out;
	/* the table's RA_EXPIRE rows: only a request still pending */
	from = r->state;
	if (strcmp(r->expires_at, now) > 0 ||
	    policy_system_step(r, RA_EXPIRE, &why) != 0) {
		rc = KW_ERR_CONFLICT;		/* someone acted meanwhile */
		goto out;
	}
	kw_strlcpy(r->updated_at, now, sizeof(r->updated_at));
	snprintf(note, sizeof(note), "no decision within %d days",
	    app->cfg.request_ttl_days);
	if ((rc = store_request_transition(st, r, from)) == 0 &&
	    (rc = request_history_add(st, r->id, a->name, "expired",
	    note)) == 0 &&
	    (rc = job_audit(st, a, "request.expire", r->id,
	    json_pack("{s:s}", "from", policy_state_name(from)))) == 0 &&
	    (rc = notify_request(&app->notify, st, NE_REQUEST_EXPIRED, r,
	    NULL)) == 0)
		rc = 0;
 out:
	rc = core_write_end(app, rc);
 done:
	free(r);
	return rc;
}

static int
job_stale_requests(struct app *app, const struct actor *a, struct store *st,
    const char *now, json_t *sum)
{
	json_t		*o = json_object();
	struct page	*p;
	int64_t		 after = 0;
	size_t		 i;
	int		 rc = 0;

	json_object_set_new(sum, "stale_requests", o);
	if ((p = malloc(sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	do {
		p->n = 0;
		if ((rc = store_request_due(st, now, after, JOBS_PAGE,
		    page_request, p)) != 0)
			break;
		for (i = 0; i < p->n; i++) {
			rc = expire_request(app, a, st, p->ids[i], now);
			if (rc == 0)
				bump(o, "expired");
			else if (rc != KW_ERR_CONFLICT)
				job_error(sum, "stale_requests", p->ids[i],
				    kw_strerror(rc));
		}
		rc = 0;
		after = p->last;
	} while (p->n == JOBS_PAGE);
	free(p);
	return rc;
}

/* ---- credentials: undelivered, expired, grace over ---- */

/* Destroy an unrevealed secret past its window. 0 when destroyed. */
static int
destroy_undelivered(struct app *app, const struct actor *a, const char *id,
    const char *now)
{
	struct credential	*c;
	struct store		*st;
	int			 rc;

	if ((c = malloc(sizeof(*c))) == NULL)
		return KW_ERR_NOMEM;
	if ((rc = core_write_begin(app, &st)) != 0)
		goto done;
	if ((rc = store_credential_get(st, id, c)) == 0 &&
	    (c->delivery != DS_PENDING ||
	    strcmp(c->delivery_expires_at, now) > 0))
		rc = KW_ERR_CONFLICT;
	if (rc == 0) {
		kw_wipe(c->sealed, sizeof(c->sealed));
		c->sealed_len = 0;
		c->delivery = DS_EXPIRED;
		if ((rc = store_credential_update(st, c)) == 0)
			rc = job_audit(st, a, "credential.delivery_expired",
			    c->id, json_pack("{s:s}", "fingerprint",
			    c->fingerprint));
	}
	rc = core_write_end(app, rc);
 done:
	kw_wipe(c, sizeof(*c));
	free(c);
	return rc;
}

struct ending {
	const char	*job;
	enum cred_due	 due;
	enum cred_state	 to;
	const char	*reason;
	const char	*count;
};

static const struct ending endings[] = {
	{ "undelivered", DUE_UNDELIVERED, CS_REVOKED,
	    "the secret was not collected within the delivery window",
	    "revoked" },
	{ "expiry", DUE_EXPIRING, CS_EXPIRED, "reached its expiry date",
	    "expired" },
	{ "rotation_grace", DUE_GRACE_OVER, CS_REVOKED,
	    "rotated; the grace period is over", "revoked" },
};

static int
job_ending(struct app *app, const struct actor *a, struct store *st,
    const struct ending *e, const char *now, json_t *sum)
{
	struct provider_error	 perr;
	struct page		*p;
	json_t			*o = json_object();
	int64_t			 after = 0;
	size_t			 i;
	int			 rc = 0;

	json_object_set_new(sum, e->job, o);
	if ((p = malloc(sizeof(*p))) == NULL)
		return KW_ERR_NOMEM;
	do {
		p->n = 0;
		if ((rc = store_credential_due(st, e->due, now, after,
		    JOBS_PAGE, page_credential, p)) != 0)
			break;
		for (i = 0; i < p->n; i++) {
			if (e->due == DUE_UNDELIVERED) {
				rc = destroy_undelivered(app, a, p->ids[i],
				    now);
				if (rc == 0)
					bump(o, "secrets_destroyed");
				else if (rc != KW_ERR_CONFLICT) {
					job_error(sum, e->job, p->ids[i],
					    kw_strerror(rc));
					continue;
				}
			}
			rc = issuance_end(app, st, a, p->ids[i],
			    e->to, e->reason, &perr);
			if (rc == 0)
				bump(o, e->count);
			else if (rc == KW_ERR_UPSTREAM)
				job_error(sum, e->job, p->ids[i], perr.message);
			else if (rc != KW_ERR_CONFLICT)
				job_error(sum, e->job, p->ids[i],
				    kw_strerror(rc));
		}
		rc = 0;
		after = p->last;
	} while (p->n == JOBS_PAGE);
	free(p);
	return rc;
}

/* ---- warnings: expiry digests and rotation flags ---- */

/* Instance policy needed by the warnings, by instance id. */
struct policies {
	size_t	n;
	struct pol {
		char	id[KW_ID_MAX + 1];
		int	rotation_days;
		size_t	nwarn;
		int	warn[KW_WARN_THRESHOLDS_MAX];
		size_t	nprov;
		char	prov[KW_PROVISIONERS_MAX][KW_ID_MAX + 1];
		const struct provider_ops *ops;	/* NULL: unknown */
	} *p;
	int	max_warn;
	int	min_rotation;
	int64_t	last;
};

static int
policy_one(const struct instance *in, void *arg)
{
	struct policies	*ps = arg;
	struct pol	*p, *np;
	size_t		 i;

	if ((np = realloc(ps->p, (ps->n + 1) * sizeof(*np))) == NULL)
		return KW_ERR_NOMEM;
	ps->p = np;
	p = &ps->p[ps->n++];
	memset(p, 0, sizeof(*p));
	kw_strlcpy(p->id, in->id, sizeof(p->id));
	p->rotation_days = in->rotation_days;
	p->ops = provider_find(in->provider);
	p->nwarn = in->nwarn;
	memcpy(p->warn, in->warn_days, sizeof(p->warn));
	for (i = 0; i < in->nwarn; i++)
		if (in->warn_days[i] > ps->max_warn)
			ps->max_warn = in->warn_days[i];
	if (ps->min_rotation == 0 || in->rotation_days < ps->min_rotation)
		ps->min_rotation = in->rotation_days;
	p->nprov = in->nprovisioners;
	for (i = 0; i < in->nprovisioners; i++)
		kw_strlcpy(p->prov[i], in->provisioners[i].id,
		    sizeof(p->prov[0]));
	ps->last = in->seq;
	return 0;
}

static const struct pol *
policy_of(const struct policies *ps, const char *instance_id)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->p[i].id, instance_id) == 0)
			return &ps->p[i];
	return NULL;
}

static int
load_policies(struct store *st, struct policies *ps)
{
	int64_t	after = 0;
	int	rc;

	memset(ps, 0, sizeof(*ps));
	do {
		after = ps->last;
		if ((rc = store_instance_each(st, after, KW_LIST_LIMIT_MAX,
		    policy_one, ps)) != 0)
			return rc;
	} while (ps->last != after);
	return 0;
}

/* What one owner's digest will say: credential -> thresholds crossed. */
struct due_item {
	char	id[KW_ID_MAX + 1];
	char	owner[KW_ID_MAX + 1];
	int	threshold;		/* most urgent crossed; 0 = rotation */
	int	crossed[KW_WARN_THRESHOLDS_MAX];
	size_t	ncrossed;
	json_t	*item;			/* the digest line */
};

struct due_list {
	size_t			 n, cap;
	struct due_item		*v;
	const struct policies	*ps;
	time_t			 now;
	int			 rotation;	/* collecting rotation flags */
	int64_t			 last;
	size_t			 page;
};

static int
due_one(const struct credential *c, void *arg)
{
	struct due_list		*l = arg;
	const struct pol	*p = policy_of(l->ps, c->instance_id);
	struct due_item		*d, *nv;
	time_t			 exp, made;
	long			 left;
	size_t			 i;

	l->last = c->seq;
	l->page++;
	/* a rotated predecessor is being replaced: its successor (same
	 * expiry) is the one its owner hears about */
	if (p == NULL || c->kind == KIND_LEGACY || c->rotated_to[0] != '\0')
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			return KW_ERR_NOMEM;
		l->v = nv;
	}
	d = &l->v[l->n];
	memset(d, 0, sizeof(*d));
	if (l->rotation) {
		if (kw_time_parse(c->created_at, &made) != 0 ||
		    made + (time_t)p->rotation_days * DAY > l->now)
			return 0;
		d->threshold = WARN_ROTATION;
		left = -1;
		if (kw_time_parse(c->expires_at, &exp) == 0)
			left = (long)((exp - l->now + DAY - 1) / DAY);
	} else {
		if (kw_time_parse(c->expires_at, &exp) != 0 || exp <= l->now)
			return 0;
		left = (long)((exp - l->now + DAY - 1) / DAY);
		for (i = 0; i < p->nwarn; i++)
			if (left <= p->warn[i])
				d->crossed[d->ncrossed++] = p->warn[i];
		if (d->ncrossed == 0)
			return 0;
		d->threshold = d->crossed[0];
		for (i = 1; i < d->ncrossed; i++)
			if (d->crossed[i] < d->threshold)
				d->threshold = d->crossed[i];
	}
	kw_strlcpy(d->id, c->id, sizeof(d->id));
	kw_strlcpy(d->owner, c->owner_id, sizeof(d->owner));
	d->item = json_pack("{s:s, s:s, s:s, s:s, s:i, s:b}", "credential_id",
	    c->id, "name", c->name, "instance", c->instance_name, "expires_at",
	    c->expires_at, "days_left", (int)left, "rotation_due",
	    l->rotation);
	l->n++;
	return 0;
}

static int
collect_due(struct store *st, struct due_list *l, enum cred_due due,
    const char *before)
{
	int64_t	after = 0;
	int	rc;

	do {
		l->page = 0;
		if ((rc = store_credential_due(st, due, before, after,
		    JOBS_PAGE, due_one, l)) != 0)
			return rc;
		after = l->last;
	} while (l->page == JOBS_PAGE);
	return 0;
}

/* One owner's digest: record each warning (the first time only) and
 * queue one message with the lines that are new, in one transaction. */
static int
digest_owner(struct app *app, const struct actor *a, struct store *st,
    struct due_list *l, const char *owner, const char *now, int *sent,
    int *items)
{
	struct person	 p;
	json_t		*lines = json_array();
	size_t		 i, j;
	int		 rc, first, fresh;

	if ((rc = store_person_get(st, owner, &p)) != 0)
		goto done;
	if ((rc = core_write_begin(app, &st)) != 0)
		goto done;
	for (i = 0; i < l->n && rc == 0; i++) {
		struct due_item *d = &l->v[i];
		if (strcmp(d->owner, owner) != 0 || d->item == NULL)
			continue;
		if ((first = store_warning_add(st, d->id, d->threshold,
		    now)) < 0) {
			rc = first;
			break;
		}
		/* the thresholds it also crossed are spent too */
		for (j = 0; j < d->ncrossed && rc == 0; j++)
			if (d->crossed[j] != d->threshold &&
			    (fresh = store_warning_add(st, d->id,
			    d->crossed[j], now)) < 0)
				rc = fresh;
		if (first == 1)
			json_array_append(lines, d->item);
	}
	if (rc == 0 && json_array_size(lines) > 0)
		rc = notify_digest(&app->notify, st, &p, lines);
	if (rc == 0 && json_array_size(lines) > 0)
		rc = job_audit(st, a, "credential.warn", p.email,
		    json_pack("{s:I}", "items", (json_int_t)json_array_size(
		    lines)));
	kw_fault("digest_before_commit");
	if ((rc = core_write_end(app, rc)) == 0 && json_array_size(lines) > 0) {
		(*sent)++;
		*items += (int)json_array_size(lines);
	}
 done:
	json_decref(lines);
	return rc;
}

static int
job_warnings(struct app *app, const struct actor *a, struct store *st,
    const struct policies *ps, time_t now, const char *nows, json_t *sum)
{
	struct due_list	 l;
	char		 before[KW_TIME_LEN + 1];
	size_t		 i, j;
	int		 rc, sent = 0, items = 0;

	memset(&l, 0, sizeof(l));
	l.ps = ps;
	l.now = now;
	kw_time_fmt(now + (time_t)ps->max_warn * DAY, before, sizeof(before));
	if ((rc = collect_due(st, &l, DUE_EXPIRING, before)) != 0)
		goto out;
	l.rotation = 1;
	kw_time_fmt(now - (time_t)ps->min_rotation * DAY, before,
	    sizeof(before));
	if (ps->min_rotation > 0 &&
	    (rc = collect_due(st, &l, DUE_ROTATION, before)) != 0)
		goto out;
	/* one digest per owner */
	for (i = 0; i < l.n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(l.v[j].owner, l.v[i].owner) == 0)
				break;
		if (j < i)
			continue;		/* owner done already */
		if ((rc = digest_owner(app, a, st, &l, l.v[i].owner, nows,
		    &sent, &items)) != 0)
			job_error(sum, "warnings", l.v[i].owner,
			    kw_strerror(rc));
	}
	rc = 0;
 out:
	json_object_set_new(sum, "warnings", json_pack("{s:i, s:i}",
	    "digests", sent, "credentials", items));
	for (i = 0; i < l.n; i++)
		json_decref(l.v[i].item);
	free(l.v);
	return rc;
}

/* ---- legacy API tokens near their end ---- */

struct legacy_walk {
	json_t			*by_instance;	/* instance id -> items */
	const struct policies	*ps;
	time_t			 now;
	struct store		*st;
	const char		*nows;
	int			 warned;
};

static int
legacy_one(const struct credential *c, void *arg)
{
	struct legacy_walk	*w = arg;
	const struct pol	*pol = policy_of(w->ps, c->instance_id);
	char			 due_s[KW_TIME_LEN + 1];
	json_t			*items;
	size_t			 i;
	int			 to_due, to_off, left, threshold = 0, fresh;

	if (pol == NULL || pol->ops == NULL || legacy_due(pol->ops->legacy, c,
	    w->now, due_s, &to_due, &to_off) != 0)
		return 0;
	left = to_due < to_off ? to_due : to_off;
	if (left < 0)
		return 0;			/* already switched off */
	for (i = 0; i < KW_NELEM(legacy_thresholds); i++)
		if (left <= legacy_thresholds[i])
			threshold = WARN_LEGACY_BASE + legacy_thresholds[i];
	if (threshold == 0)
		return 0;
	if ((fresh = store_warning_add(w->st, c->id, threshold, w->nows)) < 0)
		return fresh;
	if (fresh == 0)
		return 0;			/* warned before */
	if ((items = json_object_get(w->by_instance, c->instance_id)) == NULL) {
		items = json_array();
		json_object_set_new(w->by_instance, c->instance_id, items);
	}
	json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
	    "credential_id", c->id, "instance", c->instance_name, "name",
	    c->name, "deactivation_due", due_s, "shutdown",
	    pol->ops->legacy->shutdown, "provider", pol->ops->title));
	w->warned++;
	return 0;
}

static int
job_legacy(struct app *app, const struct actor *a, struct store *st,
    const struct policies *ps, time_t now, const char *nows, json_t *sum)
{
	struct legacy_walk	 w;
	struct person		 p;
	const struct pol	*pol;
	const char		*inst;
	json_t			*items;
	size_t			 i;
	int			 rc;

	memset(&w, 0, sizeof(w));
	w.by_instance = json_object();
	w.ps = ps;
	w.now = now;
	w.nows = nows;
	/* warnings and their messages commit together */
	if ((rc = core_write_begin(app, &st)) != 0)
		goto out;
	w.st = st;
	rc = store_credential_due(st, DUE_LEGACY, nows, 0, LEGACY_TOKENS_MAX,
	    legacy_one, &w);
	json_object_foreach(w.by_instance, inst, items) {
		if (rc != 0 || (pol = policy_of(ps, inst)) == NULL)
			continue;
		for (i = 0; rc == 0 && i < pol->nprov; i++)
			if (store_person_get(st, pol->prov[i], &p) == 0)
				rc = notify_legacy(&app->notify, st, &p, items);
	}
	if (rc == 0 && w.warned > 0)
		rc = job_audit(st, a, "legacy.warn", "migration",
		    json_pack("{s:i}", "tokens", w.warned));
	rc = core_write_end(app, rc);
 out:
	json_object_set_new(sum, "legacy_warnings", json_integer(rc == 0 ?
	    w.warned : 0));
	if (rc != 0)
		job_error(sum, "legacy_warnings", "-", kw_strerror(rc));
	json_decref(w.by_instance);
	return 0;
}

/* ---- personal tokens near their end, and ended sessions ---- */

struct token_page {
	size_t			n;
	struct token_rec	v[JOBS_PAGE];
};

static int
token_due_one(const struct token_rec *t, void *arg)
{
	struct token_page *p = arg;

	if (p->n < JOBS_PAGE)
		p->v[p->n++] = *t;
	return 0;
}

/* Warn t's owner once: the mark, the message and the audit event commit
 * together, and a token already marked is skipped (another run won). */
static int
warn_token(struct app *app, const struct actor *a, const struct token_rec *t,
    const char *now, int *warned)
{
	struct store	*st;
	struct person	 p;
	int		 rc, first;

	if ((rc = core_write_begin(app, &st)) != 0)
		return rc;
	if ((first = store_token_warned(st, t->id, now)) < 0)
		rc = first;
	else if (first == 1 &&
	    (rc = store_person_get(st, t->person_id, &p)) == 0 &&
	    (rc = notify_token_expiry(&app->notify, st, &p, t)) == 0)
		rc = job_audit(st, a, "token.warn", p.email,
		    json_pack("{s:s, s:s}", "token_id", t->id, "expires_at",
		    t->expires_at));
	if ((rc = core_write_end(app, rc)) == 0 && first == 1)
		(*warned)++;
	return rc;
}

static int
job_tokens(struct app *app, const struct actor *a, struct store *st, time_t now,
    const char *nows, json_t *sum)
{
	struct token_page	*pg;
	struct store		*w;
	char			 before[KW_TIME_LEN + 1], idle[KW_TIME_LEN + 1];
	size_t			 i;
	int			 rc, warned = 0, purged = 0;

	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return KW_ERR_NOMEM;
	kw_time_fmt(now + (time_t)KW_TOKEN_WARN_DAYS * DAY, before,
	    sizeof(before));
	if ((rc = store_token_expiring(st, before, nows, JOBS_PAGE,
	    token_due_one, pg)) != 0)
		job_error(sum, "token_warnings", "-", kw_strerror(rc));
	for (i = 0; i < pg->n; i++)
		if ((rc = warn_token(app, a, &pg->v[i], nows, &warned)) != 0)
			job_error(sum, "token_warnings", pg->v[i].id,
			    kw_strerror(rc));
	/* sessions past their end hold nothing: forget them */
	kw_time_fmt(now - app->cfg.session_idle_timeout, idle, sizeof(idle));
	if ((rc = core_write_begin(app, &w)) == 0)
		rc = core_write_end(app, store_session_purge(w, nows, idle,
		    &purged));
	if (rc != 0)
		job_error(sum, "sessions", "-", kw_strerror(rc));
	json_object_set_new(sum, "token_warnings", json_integer(warned));
	json_object_set_new(sum, "sessions_purged", json_integer(purged));
	free(pg);
	return 0;
}

/* ---- the outbox ---- */

int
jobs_flush_outbox(struct app *app, struct store *st, time_t now,
    json_t **summary)
{
	struct notify_report	rep;
	int			rc;

	memset(&rep, 0, sizeof(rep));
	rc = notify_flush(&app->notify, st, now, &rep);
	*summary = json_pack("{s:i, s:i, s:i, s:i}", "sent", rep.sent,
	    "retried", rep.retried, "failed", rep.failed, "pending",
	    rep.pending);
	return rc;
}

int
jobs_run(struct app *app, const struct actor *a, struct store *st, time_t now,
    json_t **summary)
{
	struct policies	 ps;
	json_t		*sum, *out = NULL;
	char		 nows[KW_TIME_LEN + 1];
	size_t		 i;
	int		 rc;

	kw_time_fmt(now, nows, sizeof(nows));
	sum = json_pack("{s:s, s:[]}", "now", nows, "errors");
	*summary = sum;
	if ((rc = load_policies(st, &ps)) != 0)
		return rc;
	if ((rc = job_stale_requests(app, a, st, nows, sum)) != 0)
		goto out;
	for (i = 0; i < KW_NELEM(endings); i++)
		if ((rc = job_ending(app, a, st, &endings[i], nows, sum)) != 0)
			goto out;
	if ((rc = job_warnings(app, a, st, &ps, now, nows, sum)) != 0 ||
	    (rc = job_legacy(app, a, st, &ps, now, nows, sum)) != 0 ||
	    (rc = job_tokens(app, a, st, now, nows, sum)) != 0)
		goto out;
	rc = jobs_flush_outbox(app, st, now, &out);
	json_object_set_new(sum, "notifications", out);
	if (rc != 0)
		job_error(sum, "notifications", "-", kw_strerror(rc));
	rc = 0;
 out:
	free(ps.p);
	return rc;
}
