/*
 * metrics.c — counters and histograms in static arrays of atomics, and
 * their rendering as Prometheus text.
 *
 * A histogram keeps per-bucket counts (not cumulative: one addition per
 * observation), its count and its sum in microseconds; rendering adds
 * the buckets up.  Values are read with relaxed loads: a scrape may see
 * a request counted in one series and not yet in another, which
 * Prometheus tolerates.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kw.h"
#include "limits.h"
#include "metrics/metrics.h"
#include "policy/workflow.h"
#include "util/util.h"

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bounds_us[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000,
};
#define NBUCKETS	KW_NELEM(bounds_us)

struct hist {
	atomic_uint_fast64_t	bucket[NBUCKETS + 1];	/* last: +Inf only */
	atomic_uint_fast64_t	count;
	atomic_uint_fast64_t	sum_us;
};

/* The statuses the API answers with; anything else counts as "other". */
static const int statuses[] = {
	0, 200, 201, 204, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422,
	429, 500, 502, 503, 504,
};
#define NSTATUS		(KW_NELEM(statuses) + 1)	/* + other */
#define ROUTE_SLOTS	(KW_METRICS_ROUTES_MAX + 1)	/* + unmatched */

static const struct {
	const char	*name;
	const char	*labels;
} counters[MC__COUNT] = {
	[MC_ISSUANCE_ISSUED] = { "keywarden_issuance_total", "outcome=\"issued\"" },
	[MC_ISSUANCE_FAILED] = { "keywarden_issuance_total", "outcome=\"failed\"" },
	[MC_ISSUANCE_ERROR] = { "keywarden_issuance_total", "outcome=\"error\"" },
	[MC_REVOCATION_OK] = { "keywarden_revocations_total", "outcome=\"revoked\"" },
	[MC_REVOCATION_UPSTREAM] = { "keywarden_revocations_total",
	    "outcome=\"failed\"" },
	[MC_REVOCATION_ERROR] = { "keywarden_revocations_total", "outcome=\"error\"" },
	[MC_AUTH_FAILED] = { "keywarden_auth_failures_total", "result=\"refused\"" },
	[MC_AUTH_THROTTLED] = { "keywarden_auth_failures_total",
	    "result=\"throttled\"" },
	[MC_HTTP_SHED] = { "keywarden_http_shed_total", "" },
};

static const struct {
	const char *name, *help;
} families[] = {
	{ "keywarden_issuance_total", "Issuance attempts by outcome." },
	{ "keywarden_revocations_total", "Revocations by outcome." },
	{ "keywarden_auth_failures_total",
	    "Refused authentications: bad tokens, and refusals by throttling." },
	{ "keywarden_http_shed_total", "Requests answered 503 at once "
	    "because too many waited for a call-out worker." },
};

static const char *const call_results[] = { "ok", "http_error", "no_answer" };

struct instance_slot {
	char			name[KW_INSTANCE_NAME_MAX + 1];
	atomic_uint_fast64_t	calls[KW_NELEM(call_results)];
	struct hist		latency;
};

struct job_slot {
	const char		*name;
	atomic_uint_fast64_t	runs[2];	/* failed, ok */
	struct hist		duration;
};

static struct {
	const char		*method[KW_METRICS_ROUTES_MAX];
	const char		*pattern[KW_METRICS_ROUTES_MAX];
	size_t			 nroutes;
	struct hist		 http[ROUTE_SLOTS][NSTATUS];
	atomic_uint_fast64_t	 counter[MC__COUNT];
	pthread_mutex_t		 lock;		/* adding instances, jobs */
	struct instance_slot	 inst[KW_METRICS_INSTANCES_MAX + 1];
	atomic_size_t		 ninst;
	struct job_slot		 job[KW_METRICS_JOBS_MAX];
	atomic_size_t		 njobs;
} m = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
hist_observe(struct hist *h, uint64_t us)
{
	size_t i;

	for (i = 0; i < NBUCKETS && us > bounds_us[i]; i++)
		;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void
metrics_routes(const char *const *methods, const char *const *patterns,
    size_t n)
{
	size_t i;

	for (i = 0; i < n && i < KW_METRICS_ROUTES_MAX; i++) {
		m.method[i] = methods[i];
		m.pattern[i] = patterns[i];
	}
	m.nroutes = i;
}

void
metrics_http(size_t route, int status, uint64_t us)
{
	size_t s;

	if (route >= m.nroutes)
		route = KW_METRICS_ROUTES_MAX;	/* unmatched, or beyond */
	for (s = 0; s < KW_NELEM(statuses) && statuses[s] != status; s++)
		;
	hist_observe(&m.http[route][s], us);
}

void
metrics_count(enum metrics_counter c)
{
	if ((unsigned)c < MC__COUNT)
		atomic_fetch_add_explicit(&m.counter[c], 1,
		    memory_order_relaxed);
}

/* The slot of instance name, added on first sight; the spare last slot
 * ("other") once the table is full. */
static struct instance_slot *
instance_slot(const char *name)
{
	size_t i, n = atomic_load(&m.ninst);

	for (i = 0; i < n; i++)
		if (strcmp(m.inst[i].name, name) == 0)
			return &m.inst[i];
	pthread_mutex_lock(&m.lock);
	for (n = atomic_load(&m.ninst); i < n; i++)
		if (strcmp(m.inst[i].name, name) == 0)
			break;
	if (i == n && n < KW_METRICS_INSTANCES_MAX) {
		kw_strlcpy(m.inst[n].name, name, sizeof(m.inst[n].name));
		atomic_store(&m.ninst, n + 1);	/* published after the name */
	} else if (i == n)
		i = KW_METRICS_INSTANCES_MAX;
	pthread_mutex_unlock(&m.lock);
	return &m.inst[i];
}

void
metrics_instance_call(const char *instance, int result, uint64_t us)
{
	struct instance_slot *s = instance_slot(instance ? instance : "");

	if (result < 0 || result >= (int)KW_NELEM(call_results))
		result = 2;
	atomic_fetch_add_explicit(&s->calls[result], 1, memory_order_relaxed);
	hist_observe(&s->latency, us);
}

void
metrics_job(const char *job, int ok, uint64_t us)
{
	size_t	i, n;

	pthread_mutex_lock(&m.lock);
	n = atomic_load(&m.njobs);
	for (i = 0; i < n && strcmp(m.job[i].name, job) != 0; i++)
		;
	if (i == n && n < KW_METRICS_JOBS_MAX) {
		m.job[n].name = job;
		atomic_store(&m.njobs, n + 1);
	}
	pthread_mutex_unlock(&m.lock);
	if (i >= KW_METRICS_JOBS_MAX)
		return;
	atomic_fetch_add_explicit(&m.job[i].runs[ok != 0], 1,
	    memory_order_relaxed);
	hist_observe(&m.job[i].duration, us);
}

void
metrics_reset(void)
{
	size_t nroutes = m.nroutes;

	/* tests only: nobody records meanwhile */
	memset(m.http, 0, sizeof(m.http));
	memset(m.counter, 0, sizeof(m.counter));
	memset(m.inst, 0, sizeof(m.inst));
	memset(m.job, 0, sizeof(m.job));
	atomic_store(&m.ninst, 0);
	atomic_store(&m.njobs, 0);
	m.nroutes = nroutes;
}

/* ---- rendering ---- */

static uint64_t
ld(const atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram's series; labels is "k=\"v\",..." (no braces). */
static void
hist_render(struct buf *b, const char *name, const char *labels,
    const struct hist *h)
{
	uint64_t	cum = 0;
	size_t		i;

	for (i = 0; i < NBUCKETS; i++) {
		cum += ld(&h->bucket[i]);
		buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
		    (double)bounds_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += ld(&h->bucket[NBUCKETS]);
	buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long)cum);
	buf_printf(b, "%s_sum{%s} %.6f\n", name, labels,
	    (double)ld(&h->sum_us) / 1e6);
	buf_printf(b, "%s_count{%s} %llu\n", name, labels,
	    (unsigned long long)ld(&h->count));
}

/* A label value: escaped as the exposition format wants. */
static void
label_value(char *out, size_t outsz, const char *v)
{
	size_t o = 0;

	for (; *v && o + 3 < outsz; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = *v;
	}
	out[o] = '\0';
}

static void
render_http(struct buf *b)
{
	char	labels[KW_URL_PATH_MAX], st[16];
	size_t	r, s;

	family(b, "keywarden_http_request_duration_seconds", "histogram",
	    "HTTP requests by route pattern and status, and their latency.");
	for (r = 0; r < ROUTE_SLOTS; r++) {
		if (r >= m.nroutes && r != KW_METRICS_ROUTES_MAX)
			continue;
		for (s = 0; s < NSTATUS; s++) {
			if (ld(&m.http[r][s].count) == 0)
				continue;
			if (s < KW_NELEM(statuses))
				snprintf(st, sizeof(st), "%d", statuses[s]);
			else
				kw_strlcpy(st, "other", sizeof(st));
			snprintf(labels, sizeof(labels), "method=\"%s\","
			    "route=\"%s\",status=\"%s\"",
			    r < m.nroutes ? m.method[r] : "",
			    r < m.nroutes ? m.pattern[r] : "unmatched", st);
			hist_render(b, "keywarden_http_request_duration_seconds",
			    labels, &m.http[r][s]);
		}
	}
}

static void
render_counters(struct buf *b)
{
	size_t f, i;

	for (f = 0; f < KW_NELEM(families); f++) {
		family(b, families[f].name, "counter", families[f].help);
		for (i = 0; i < MC__COUNT; i++)
			if (strcmp(counters[i].name, families[f].name) == 0)
				buf_printf(b, "%s%s%s%s %llu\n",
				    counters[i].name,
				    counters[i].labels[0] ? "{" : "",
				    counters[i].labels,
				    counters[i].labels[0] ? "}" : "",
				    (unsigned long long)ld(&m.counter[i]));
	}
}

static void
render_instances(struct buf *b)
{
	char	name[2 * KW_INSTANCE_NAME_MAX + 8], labels[3 * sizeof(name)];
	size_t	i, k, n = atomic_load(&m.ninst);

	family(b, "keywarden_instance_calls_total", "counter",
	    "Calls (attempts) to SaaS instances by result.");
	for (i = 0; i <= KW_METRICS_INSTANCES_MAX; i++) {
		if (i >= n && i != KW_METRICS_INSTANCES_MAX)
			continue;
		label_value(name, sizeof(name), i < n ? m.inst[i].name :
		    "other");
		for (k = 0; k < KW_NELEM(call_results); k++)
			if (i < n || ld(&m.inst[i].calls[k]) > 0)
				buf_printf(b, "keywarden_instance_calls_total{"
				    "instance=\"%s\",result=\"%s\"} %llu\n",
				    name, call_results[k], (unsigned long long)
				    ld(&m.inst[i].calls[k]));
	}
	family(b, "keywarden_instance_call_duration_seconds", "histogram",
	    "Latency of calls to SaaS instances.");
	for (i = 0; i <= KW_METRICS_INSTANCES_MAX; i++) {
		if ((i >= n && i != KW_METRICS_INSTANCES_MAX) ||
		    ld(&m.inst[i].latency.count) == 0)
			continue;
		label_value(name, sizeof(name), i < n ? m.inst[i].name :
		    "other");
		snprintf(labels, sizeof(labels), "instance=\"%s\"", name);
		hist_render(b, "keywarden_instance_call_duration_seconds",
		    labels, &m.inst[i].latency);
	}
}

static void
render_jobs(struct buf *b)
{
	char	labels[96];
	size_t	i, n = atomic_load(&m.njobs);

	family(b, "keywarden_job_runs_total", "counter",
	    "Background job runs by job and result.");
	for (i = 0; i < n; i++)
		buf_printf(b, "keywarden_job_runs_total{job=\"%s\","
		    "result=\"ok\"} %llu\nkeywarden_job_runs_total{job=\"%s\","
		    "result=\"failed\"} %llu\n", m.job[i].name,
		    (unsigned long long)ld(&m.job[i].runs[1]), m.job[i].name,
		    (unsigned long long)ld(&m.job[i].runs[0]));
	family(b, "keywarden_job_duration_seconds", "histogram",
	    "Background job run durations.");
	for (i = 0; i < n; i++) {
		snprintf(labels, sizeof(labels), "job=\"%s\"", m.job[i].name);
		hist_render(b, "keywarden_job_duration_seconds", labels,
		    &m.job[i].duration);
	}
}

static const char *const cred_states[CS__COUNT] = {
	[CS_PENDING] = "pending", [CS_ACTIVE] = "active",
	[CS_REVOKED] = "revoked", [CS_EXPIRED] = "expired",
};
static const char *const cred_kinds[STORE_KINDS] = {
	[KIND_API_TOKEN] = "api_token", [KIND_INTEGRATION] = "integration",
	[KIND_LEGACY] = "legacy",
};
/* enum delivery_mode, as the API names the modes */
static const char *const delivery_modes[DM__COUNT] = {
	[DM_TOKEN] = "token", [DM_BROKER] = "broker",
	[DM_CLIENT_SECRET] = "client_secret",
};
static const char *const deliveries[STORE_DELIVERIES] = {
	[DS_NOT_APPLICABLE] = "none", [DS_PENDING] = "pending",
	[DS_DELIVERED] = "delivered", [DS_EXPIRED] = "expired",
};

static void
render_store(struct buf *b, const struct metrics_store *s)
{
	const struct store_stats	*t = &s->st;
	time_t				 oldest;
	size_t				 i, k, d;

	family(b, "keywarden_store_up", "gauge",
	    "1 if the store answered this scrape's queries.");
	buf_printf(b, "keywarden_store_up %d\n", s->ok ? 1 : 0);
	if (!s->ok)
		return;
	family(b, "keywarden_requests", "gauge", "Access requests by state.");
	for (i = 0; i < RS__COUNT; i++)
		buf_printf(b, "keywarden_requests{state=\"%s\"} %lld\n",
		    policy_state_name((enum req_state)i),
		    (long long)t->requests[i]);
	family(b, "keywarden_credentials", "gauge",
	    "Credentials by state, kind and delivery of their secret.");
	for (i = 0; i < CS__COUNT; i++)
		for (k = 0; k < STORE_KINDS; k++)
			for (d = 0; d < STORE_DELIVERIES; d++)
				if (t->credentials[i][k][d] > 0 ||
				    d == DS_NOT_APPLICABLE)
					buf_printf(b, "keywarden_credentials{"
					    "state=\"%s\",kind=\"%s\",delivery="
					    "\"%s\"} %lld\n", cred_states[i],
					    cred_kinds[k], deliveries[d],
					    (long long)t->credentials[i][k][d]);
	family(b, "keywarden_api_tokens_by_delivery_mode", "gauge",
	    "API-token credentials by state and delivery mode.");
	for (i = 0; i < CS__COUNT; i++)
		for (d = 0; d < DM__COUNT; d++)
			buf_printf(b, "keywarden_api_tokens_by_delivery_mode{"
			    "state=\"%s\",mode=\"%s\"} %lld\n", cred_states[i],
			    delivery_modes[d],
			    (long long)t->api_tokens_by_mode[i][d]);
	family(b, "keywarden_outbox_pending", "gauge",
	    "Notifications not yet delivered.");
	buf_printf(b, "keywarden_outbox_pending %lld\n",
	    (long long)t->outbox_pending);
	family(b, "keywarden_outbox_oldest_age_seconds", "gauge",
	    "Age of the oldest undelivered notification (0: none).");
	buf_printf(b, "keywarden_outbox_oldest_age_seconds %lld\n",
	    (long long)(t->outbox_oldest[0] != '\0' &&
	    kw_time_parse(t->outbox_oldest, &oldest) == 0 && s->now > oldest ?
	    s->now - oldest : 0));
	family(b, "keywarden_audit_head_sequence", "gauge",
	    "Sequence number of the last audit event.");
	buf_printf(b, "keywarden_audit_head_sequence %lld\n",
	    (long long)t->audit_head_seq);
}

int
metrics_render(struct buf *b, const struct metrics_store *s)
{
	family(b, "keywarden_build_info", "gauge", "keywarden's version.");
	buf_printf(b, "keywarden_build_info{version=\"%s\"} 1\n", KW_VERSION);
	render_http(b);
	render_counters(b);
	render_instances(b);
	render_jobs(b);
	render_store(b, s);
	return buf_err(b);
}
