/*
 * server.c — the libmicrohttpd front end: connection limits and timeouts,
 * routing, content-type and size checks, JSON parsing, error rendering
 * and one access-log line per request.
 *
 * Per request, libmicrohttpd calls access_cb several times: once with the
 * headers (route, authorisation, content checks happen here, before any
 * body is read), then with each piece of the body, then once more to
 * produce the answer (authorisation again, against the store as it is
 * then, and the handler).  The body must be in within KW_BODY_DEADLINE_S
 * of the headers, however slowly it trickles.
 *
 * A route whose handler may wait (WAITS) has it run by a call-out
 * worker: the connection is suspended, the exchange queued, and the
 * worker resumes the connection when the answer is ready; libmicrohttpd
 * then calls access_cb once more, which sends it.  A connection is only
 * ever suspended while its exchange is queued or running, and the server
 * stops (or drains a daemon on a TLS reload) only once none of its
 * connections is: libmicrohttpd must not stop a daemon holding suspended
 * connections.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "kw.h"
#include "log.h"
#include "http/http.h"
#include "metrics/metrics.h"
#include "util/addr.h"
#include "util/buf.h"
#include "util/util.h"

/* TLS 1.2 and 1.3 only, GnuTLS's normal ciphers otherwise. */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct exchange;

/* The call-out workers and their queue (see the top of the file). */
struct callout {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* queue not empty, or stop */
	pthread_cond_t		 idle;		/* an exchange was answered */
	struct exchange		*head, *tail;	/* queued, oldest first */
	int			 queued;	/* in it (not yet running) */
	struct exchange		*busy;		/* from queued to completed */
	const struct MHD_Daemon	*draining;	/* runs its exchanges inline */
	pthread_t		*threads;
	int			 nthreads;
	int			 stopping;	/* workers end; no new jobs */
};

struct http_server {
	struct MHD_Daemon		*mhd;
	struct http_server_config	 cfg;
	char				*cert, *key;	/* PEM, owned */
	unsigned int			 flags;		/* MHD_USE_* */
	struct callout			 co;
};

/* Per-request state, from the first callback to the completion one. */
struct exchange {
	struct http_req		 rq;
	const struct http_route	*route;
	const struct http_dialect *dialect;	/* the path's; NULL: API's */
	struct buf		 body;
	char			 segbuf[KW_URL_PATH_MAX];
	char			 remote[INET6_ADDRSTRLEN];
	char			 peer[INET6_ADDRSTRLEN];
	uint64_t		 start_us;
	unsigned int		 timeout;	/* idle timeout set, s (0:
						   the server's) */
	int			 status;
	int			 too_large;
	int			 is_form;	/* the body is a form */
	int			 has_body;	/* one was announced */
	int			 answered;
	int			 metered;	/* metrics_http was told */
	size_t			 route_ix;	/* in the table; SIZE_MAX:
						   none matched */
	/* a call-out: its connection and daemon while suspended, its
	 * place in the queue and the busy list, and its outcome */
	struct MHD_Connection	*conn;
	const struct MHD_Daemon	*daemon;
	struct exchange		*next, *next_busy;
	struct http_resp	 rs;
	int			 result;
	int			 done;		/* the worker has answered */
	int			 suspended;	/* queued or running */
};

static atomic_uint_fast64_t	 req_counter;
static uint32_t			 boot_tag;

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

const char *
http_header(const struct http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *
http_query(const struct http_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}

int
http_fail(struct http_req *rq, int err, const char *field, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	kw_failv(&rq->fail, err, field, fmt, ap);
	va_end(ap);
	return err;
}

const char *
http_cookie(const struct http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

int
http_resp_header(struct http_resp *rs, const char *name, const char *fmt,
    ...)
{
	struct http_header	*h;
	va_list			 ap;
	int			 n;

	if (rs->nheaders >= KW_RESP_HEADERS_MAX ||
	    strlen(name) >= sizeof(h->name))
		return KW_ERR_TOO_LARGE;
	h = &rs->headers[rs->nheaders];
	va_start(ap, fmt);
	n = vsnprintf(h->value, sizeof(h->value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(h->value))
		return KW_ERR_TOO_LARGE;
	kw_strlcpy(h->name, name, sizeof(h->name));
	rs->nheaders++;
	return 0;
}

/* The web UI's policy: nothing from another origin, no inline script
 * or style, no framing. */
#define UI_CSP	"default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; " \
	"form-action 'self'"

/* Count x in the metrics, once: when its answer is queued (so a client
 * that has the answer sees it counted), or at its end if it had none. */
static void
meter(struct exchange *x)
{
	if (x->metered)
		return;
	x->metered = 1;
	/* the route pattern, never the raw path, labels the metrics */
	metrics_http(x->route_ix, x->status, kw_mono_us() - x->start_us);
}

/* Queue rs on the connection: its JSON body (consumed), else its text
 * (consumed), else its static data, else an empty body; with Retry-After
 * when retry_after > 0, the UI's security headers for a page (rs->page),
 * and the extra headers it names. */
static enum MHD_Result
send_resp(struct MHD_Connection *c, struct exchange *x, struct http_resp *rs)
{
	struct MHD_Response	*resp;
	const char		*type = x->dialect != NULL ?
				    x->dialect->content_type : "application/json";
	char			*text = NULL;
	char			 ra[16];
	enum MHD_Result		 ret;
	int			 status = rs->status;
	size_t			 i;

	if (rs->body != NULL) {
		text = json_dumps(rs->body, JSON_COMPACT);
		json_decref(rs->body);
		rs->body = NULL;
		free(rs->text);
		rs->text = NULL;
		if (text == NULL) {
			status = 500;
			text = strdup("{\"error\":{\"code\":\"internal\","
			    "\"message\":\"could not render the answer\"}}");
			if (text == NULL)
				return MHD_NO;
		}
	} else if (rs->text != NULL) {
		text = rs->text;
		rs->text = NULL;
		type = rs->content_type != NULL ? rs->content_type :
		    "text/plain; charset=utf-8";
	}
	if (text == NULL && rs->data != NULL) {
		resp = MHD_create_response_from_buffer(rs->data_len,
		    (void *)(uintptr_t)rs->data, MHD_RESPMEM_PERSISTENT);
		type = rs->content_type;
	} else
		resp = MHD_create_response_from_buffer(text ? strlen(text) : 0,
		    text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	if ((text != NULL || rs->data != NULL) && type != NULL)
		MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control",
	    rs->cache != NULL ? rs->cache : "no-store");
	if (rs->page) {
		MHD_add_response_header(resp, "Content-Security-Policy",
		    UI_CSP);
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
		MHD_add_response_header(resp, "Referrer-Policy",
		    "same-origin");
	}
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Request-Id", x->rq.request_id);
	if (rs->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", rs->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	for (i = 0; i < rs->nheaders && i < KW_RESP_HEADERS_MAX; i++)
		MHD_add_response_header(resp, rs->headers[i].name,
		    rs->headers[i].value);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	x->status = status;
	x->answered = 1;
	meter(x);
	return ret;
}

/* Queue body (consumed; NULL for an empty body) with status on the
 * connection, with Retry-After when retry_after > 0. */
static enum MHD_Result
send_json(struct MHD_Connection *c, struct exchange *x, int status,
    json_t *body, int retry_after)
{
	struct http_resp rs = { .status = status, .body = body,
	    .retry_after = retry_after };

	return send_resp(c, x, &rs);
}

/* Answer error err in the path's dialect. */
static enum MHD_Result
send_error(struct MHD_Connection *c, struct exchange *x, int err)
{
	const struct http_dialect	*d = x->dialect;
	int				 status = kw_err_status(err);

	return send_json(c, x, status, d != NULL ? d->error_body(err, status,
	    x->rq.fail.message, x->rq.fail.field) : http_error_body(err,
	    x->rq.fail.message, x->rq.fail.field, x->rq.fail.details),
	    x->rq.fail.retry_after);
}

static void
remote_addr(struct MHD_Connection *c, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa;

	kw_strlcpy(out, "unknown", outsz);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, out, (socklen_t)outsz);
}

/* 1 if the Content-Type ct is type (parameters such as charset ok). */
static int
is_type(const char *ct, const char *type)
{
	size_t n = strlen(type);

	if (ct == NULL || strncasecmp(ct, type, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* 1 if the Content-Type ct is JSON in the request's dialect
 * (application/json, or e.g. application/scim+json too). */
static int
json_type_ok(const struct exchange *x, const char *ct)
{
	return is_type(ct, "application/json") || (x->dialect != NULL &&
	    x->dialect->accept_type != NULL &&
	    is_type(ct, x->dialect->accept_type));
}

/* Find a query parameter whose value holds a NUL byte: C strings would
 * silently cut it short. */
static enum MHD_Result
nul_finder(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct exchange *x = cls;

	KW_UNUSED(kind);
	if ((value != NULL && strlen(value) != value_size) ||
	    strlen(key) != key_size) {
		http_fail(&x->rq, KW_ERR_VALIDATION, key,
		    "query parameter '%.64s' contains a NUL byte", key);
		return MHD_NO;
	}
	return MHD_YES;
}

/*
 * The connection's idle timeout for this request: the server's, or less
 * while a body is arriving so that a client going quiet is cut at the
 * body deadline too.  secs 0: the server's.
 */
static void
conn_timeout(const struct http_server *srv, struct MHD_Connection *c,
    struct exchange *x, unsigned int secs)
{
	if (secs == 0 || secs > (unsigned int)srv->cfg.connection_timeout)
		secs = 0;
	if (secs == x->timeout)
		return;
	x->timeout = secs;
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
	    secs ? secs : (unsigned int)srv->cfg.connection_timeout);
}

/*
 * The body must be in within KW_BODY_DEADLINE_S of the headers (an idle
 * timeout alone lets a body trickle in a byte at a time for ever).  0
 * while there is time left, -1 once it has passed.
 */
static int
body_deadline(const struct http_server *srv, struct MHD_Connection *c,
    struct exchange *x)
{
	const uint64_t	limit = (uint64_t)KW_BODY_DEADLINE_S * 1000000u;
	uint64_t	spent = kw_mono_us() - x->start_us;

	if (spent >= limit)
		return -1;
	conn_timeout(srv, c, x, (unsigned int)((limit - spent + 999999u) /
	    1000000u));
	return 0;
}

/* The body deadline passed (or the idle timeout shortened for it ran
 * out): say so; the connection is closed without an answer. */
static void
deadline_cut(struct exchange *x)
{
	log_msg("warn", "http: %s %s: the request body did not arrive within "
	    "%d s; connection closed", x->rq.method, x->rq.path,
	    KW_BODY_DEADLINE_S);
	if (!x->answered)
		x->status = 408;
}

/* The first callback: headers are in, no body yet. */
static enum MHD_Result
begin(struct http_server *srv, struct MHD_Connection *c, struct exchange *x,
    const char *url, const char *method)
{
	const char	*cl, *te, *ct;
	int		 r, has_body;

	if (srv->cfg.dialect != NULL)
		x->dialect = srv->cfg.dialect(url);
	if (strlen(url) >= KW_URL_PATH_MAX)
		return send_error(c, x, http_fail(&x->rq, KW_ERR_NOT_FOUND,
		    NULL, "path too long"));
	r = http_route_match(srv->cfg.routes, srv->cfg.nroutes, method, url,
	    x->segbuf, sizeof(x->segbuf), x->rq.params, &x->rq.nparams,
	    &x->route);
	if (r == 0)
		x->route_ix = (size_t)(x->route - srv->cfg.routes);
	if (r != 0)
		return send_error(c, x, http_fail(&x->rq, r, NULL,
		    r == KW_ERR_METHOD ? "method %s is not allowed on %s" :
		    "no such resource: %s%s", r == KW_ERR_METHOD ? method : "",
		    url));
	if (srv->cfg.authorise != NULL &&
	    (r = srv->cfg.authorise(&x->rq, x->route)) != 0)
		return send_error(c, x, r);
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, nul_finder, x);
	if (x->rq.fail.message[0] != '\0')
		return send_error(c, x, KW_ERR_VALIDATION);
	cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	has_body = (cl != NULL && strcmp(cl, "0") != 0) || te != NULL;
	if (!has_body)
		return MHD_YES;
	x->has_body = 1;
	if (x->route->body == BODY_NONE)
		return send_error(c, x, http_fail(&x->rq, KW_ERR_VALIDATION,
		    NULL, "this endpoint takes no request body"));
	ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	x->is_form = x->route->body != BODY_OPTIONAL &&
	    x->route->body != BODY_REQUIRED &&
	    is_type(ct, "application/x-www-form-urlencoded");
	if (x->route->body == BODY_FORM ? !x->is_form :
	    !x->is_form && !json_type_ok(x, ct))
		return send_error(c, x, http_fail(&x->rq, KW_ERR_MEDIA_TYPE,
		    NULL, "send the body as Content-Type: %s",
		    x->route->body == BODY_FORM ?
		    "application/x-www-form-urlencoded" :
		    x->route->body == BODY_JSON_OR_FORM ? "application/json "
		    "or application/x-www-form-urlencoded" :
		    "application/json"));
	if (cl != NULL && strtoull(cl, NULL, 10) > KW_BODY_MAX)
		return send_error(c, x, http_fail(&x->rq, KW_ERR_TOO_LARGE,
		    NULL, "request body is larger than %d bytes",
		    KW_BODY_MAX));
	body_deadline(srv, c, x);	/* a client that sends nothing more */
	return MHD_YES;
}

/* Run x's handler into rs: 0, or the KW_ERR_* to answer. */
static int
run_handler(struct exchange *x, struct http_resp *rs)
{
	int	r;

	r = x->route->handler(&x->rq, rs);
	if (r == 0 && rs->body == NULL && rs->text == NULL &&
	    rs->data == NULL && rs->status < 300 && rs->status != 204)
		r = http_fail(&x->rq, KW_ERR_INTERNAL, NULL,
		    "the answer could not be built");
	if (r != 0) {
		json_decref(rs->body);
		rs->body = NULL;
		free(rs->text);
		rs->text = NULL;
	}
	return r;
}

/* Send what the handler made of x: rs, or the error r. */
static enum MHD_Result
answer(struct MHD_Connection *c, struct exchange *x, int r,
    struct http_resp *rs)
{
	return r != 0 ? send_error(c, x, r) : send_resp(c, x, rs);
}

/* Hand x to a call-out worker, its connection suspended: 1; 0 when it
 * must run here (no workers, stopping, or its daemon draining); -1 when
 * KW_CALLOUT_QUEUE_PER_WORKER requests per worker wait already (the
 * caller answers 503 at once). */
static int
callout_queue(struct http_server *srv, struct MHD_Connection *c,
    struct exchange *x)
{
	struct callout			*co = &srv->co;
	const union MHD_ConnectionInfo	*ci;

	if (co->nthreads == 0 || (ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_DAEMON)) == NULL)
		return 0;
	pthread_mutex_lock(&co->lock);
	if (co->stopping || co->draining == ci->daemon) {
		pthread_mutex_unlock(&co->lock);
		return 0;
	}
	if (co->queued >= co->nthreads * KW_CALLOUT_QUEUE_PER_WORKER) {
		pthread_mutex_unlock(&co->lock);
		return -1;
	}
	x->conn = c;
	x->daemon = ci->daemon;
	x->done = 0;
	x->suspended = 1;
	x->rs = (struct http_resp){ .status = 200 };
	/* suspended before a worker can resume it: under the lock */
	MHD_suspend_connection(c);
	x->next = NULL;
	if (co->tail != NULL)
		co->tail->next = x;
	else
		co->head = x;
	co->tail = x;
	co->queued++;
	x->next_busy = co->busy;
	co->busy = x;
	pthread_cond_signal(&co->work);
	pthread_mutex_unlock(&co->lock);
	return 1;
}

/* A worker: run queued handlers until the server stops. */
static void *
callout_worker(void *arg)
{
	struct callout	*co = arg;
	struct exchange	*x;

	pthread_mutex_lock(&co->lock);
	for (;;) {
		while (co->head == NULL && !co->stopping)
			pthread_cond_wait(&co->work, &co->lock);
		if ((x = co->head) == NULL)
			break;			/* stopping, queue empty */
		if ((co->head = x->next) == NULL)
			co->tail = NULL;
		co->queued--;
		pthread_mutex_unlock(&co->lock);
		x->result = run_handler(x, &x->rs);
		pthread_mutex_lock(&co->lock);
		x->done = 1;
		x->suspended = 0;
		/* access_cb runs again for x and sends its answer; x stays
		 * busy until completed_cb */
		MHD_resume_connection(x->conn);
		pthread_cond_broadcast(&co->idle);
	}
	pthread_mutex_unlock(&co->lock);
	return NULL;
}

/* Wait until no call-out of daemon d (NULL: of any) is suspended, and
 * (for up to HTTP_TLS_DRAIN_S more) until their answers are sent. */
static void
callout_wait(struct callout *co, const struct MHD_Daemon *d)
{
	struct exchange	*x;
	struct timespec	 ts;
	uint64_t	 until = 0;
	int		 suspended;

	pthread_mutex_lock(&co->lock);
	for (;;) {
		suspended = 0;
		for (x = co->busy; x != NULL; x = x->next_busy)
			if (d == NULL || x->daemon == d) {
				if ((suspended = x->suspended))
					break;
				if (until == 0)
					until = kw_mono_us() +
					    HTTP_TLS_DRAIN_S * 1000000ull;
				if (kw_mono_us() < until)
					break;
			}
		if (x == NULL)
			break;
		/* a resumed answer is sent by its libmicrohttpd thread:
		 * look again soon even if no worker signals */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (suspended)
			pthread_cond_wait(&co->idle, &co->lock);
		else
			pthread_cond_timedwait(&co->idle, &co->lock, &ts);
	}
	pthread_mutex_unlock(&co->lock);
}

/* x has ended (answered, or its connection closed): no longer busy. */
static void
callout_done(struct callout *co, struct exchange *x)
{
	struct exchange	**pp;

	pthread_mutex_lock(&co->lock);
	for (pp = &co->busy; *pp != NULL; pp = &(*pp)->next_busy)
		if (*pp == x) {
			*pp = x->next_busy;
			break;
		}
	pthread_cond_broadcast(&co->idle);
	pthread_mutex_unlock(&co->lock);
}

/* Start n workers: 0 or KW_ERR_NOMEM. */
static int
callout_start(struct callout *co, int n)
{
	if (n <= 0)
		return 0;
	if ((co->threads = calloc((size_t)n, sizeof(*co->threads))) == NULL)
		return KW_ERR_NOMEM;
	for (; co->nthreads < n; co->nthreads++)
		if (pthread_create(&co->threads[co->nthreads], NULL,
		    callout_worker, co) != 0)
			return KW_ERR_NOMEM;
	return 0;
}

/* Let the workers finish what is queued and end; join them.  Each
 * resumed its connection: none is left suspended. */
static void
callout_stop(struct callout *co)
{
	int	i;

	pthread_mutex_lock(&co->lock);
	co->stopping = 1;
	pthread_cond_broadcast(&co->work);
	pthread_mutex_unlock(&co->lock);
	for (i = 0; i < co->nthreads; i++)
		pthread_join(co->threads[i], NULL);
	free(co->threads);
	co->threads = NULL;
	co->nthreads = 0;
}

/* The last callback: the body is complete; authorise again, parse,
 * dispatch, answer. */
static enum MHD_Result
finish(struct http_server *srv, struct MHD_Connection *c, struct exchange *x)
{
	struct http_resp	 rs = { .status = 200 };
	json_error_t		 jerr;
	int			 r;

	conn_timeout(srv, c, x, 0);
	/* the caller may have been offboarded, or their token revoked,
	 * while the body was arriving: decide on the store as it is now.
	 * Without a body nothing was waited for since the check at the
	 * headers (this callback follows it at once): no second one.  A
	 * write still re-checks the caller inside its transaction. */
	if (srv->cfg.reauthorise != NULL && x->has_body &&
	    (r = srv->cfg.reauthorise(&x->rq, x->route)) != 0)
		return send_error(c, x, r);
	if (x->too_large)
		return send_error(c, x, http_fail(&x->rq, KW_ERR_TOO_LARGE,
		    NULL, "request body is larger than %d bytes",
		    KW_BODY_MAX));
	if (x->route->body == BODY_FORM || x->is_form) {
		x->rq.raw_body = buf_str(&x->body);
		x->rq.raw_len = x->body.len;
	} else if (x->body.len > 0) {
		x->rq.body = json_loadb(x->body.data, x->body.len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (x->rq.body == NULL)
			return send_error(c, x, http_fail(&x->rq,
			    KW_ERR_INVALID_JSON, NULL,
			    "body is not valid JSON: %s (line %d, column %d)",
			    jerr.text, jerr.line, jerr.column));
		if (!json_is_object(x->rq.body))
			return send_error(c, x, http_fail(&x->rq,
			    KW_ERR_INVALID_JSON, NULL,
			    "body must be a JSON object"));
		if (http_json_depth(x->rq.body) > KW_JSON_DEPTH_MAX)
			return send_error(c, x, http_fail(&x->rq,
			    KW_ERR_VALIDATION, NULL,
			    "body is nested deeper than %d levels",
			    KW_JSON_DEPTH_MAX));
	} else if (x->route->body == BODY_REQUIRED)
		return send_error(c, x, http_fail(&x->rq, KW_ERR_INVALID_JSON,
		    NULL, "this endpoint needs a JSON object body"));
	if (x->route->work == WAITS) {
		switch (callout_queue(srv, c, x)) {
		case 1:
			return MHD_YES;
		case -1:	/* shed: nothing was done, try again soon */
			metrics_count(MC_HTTP_SHED);
			http_fail(&x->rq, KW_ERR_UNAVAILABLE, NULL, "keywarden "
			    "is busy: too many requests wait for a worker; "
			    "nothing was changed, try again");
			x->rq.fail.retry_after = 1;
			return send_error(c, x, KW_ERR_UNAVAILABLE);
		}
	}
	x->result = run_handler(x, &rs);
	return answer(c, x, x->result, &rs);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server		*srv = cls;
	struct exchange			*x = *con_cls;
	const union MHD_ConnectionInfo	*ci;

	KW_UNUSED(version);
	if (x == NULL) {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return MHD_NO;
		*con_cls = x;
		x->start_us = kw_mono_us();
		x->route_ix = SIZE_MAX;
		buf_init(&x->body, KW_BODY_MAX);
		snprintf(x->rq.request_id, sizeof(x->rq.request_id),
		    "%08x%010llx", boot_tag, (unsigned long long)
		    atomic_fetch_add(&req_counter, 1));
		remote_addr(c, x->peer, sizeof(x->peer));
		addr_client(srv->cfg.trusted_proxies, x->peer,
		    srv->cfg.trusted_proxies != NULL ? header(c,
		    "X-Forwarded-For") : NULL, x->remote, sizeof(x->remote));
		x->rq.method = method;
		x->rq.path = url;
		x->rq.remote = x->remote;
		x->rq.peer = x->peer;
		x->rq.conn = c;
		x->rq.app = srv->cfg.app;
		x->rq.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
		/* a previous request on this connection may have left the
		 * idle timeout shortened */
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_TIMEOUT);
		if (ci != NULL && ci->connection_timeout !=
		    (unsigned int)srv->cfg.connection_timeout)
			MHD_set_connection_option(c,
			    MHD_CONNECTION_OPTION_TIMEOUT,
			    (unsigned int)srv->cfg.connection_timeout);
		return begin(srv, c, x, url, method);
	}
	if (x->done) {			/* a call-out's worker answered */
		x->done = 0;
		return answer(c, x, x->result, &x->rs);
	}
	if (*upload_data_size > 0 && body_deadline(srv, c, x) != 0) {
		deadline_cut(x);
		return MHD_NO;		/* close the connection */
	}
	if (x->answered) {
		if (*upload_data_size == 0)
			conn_timeout(srv, c, x, 0);
		*upload_data_size = 0;	/* discard what follows */
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!x->too_large &&
		    buf_add(&x->body, upload_data, *upload_data_size) != 0)
			x->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return finish(srv, c, x);
}

/*
 * One JSON line per request: method, path, status, duration, request id,
 * client address — never a header value, query string or body.  Written
 * by hand: this runs for every request.
 */
static void
access_log(const struct exchange *x, int completed)
{
	struct buf	b;
	char		ts[KW_TIME_LEN + 1], num[96];
	uint64_t	us = kw_mono_us() - x->start_us;

	buf_init(&b, 4 * KW_URL_PATH_MAX);
	kw_time_fmt(kw_now(), ts, sizeof(ts));
	buf_addstr(&b, "{\"event\":\"access\",\"method\":");
	buf_add_json_text(&b, x->rq.method ? x->rq.method : "");
	buf_addstr(&b, ",\"path\":");
	buf_add_json_text(&b, x->rq.path ? x->rq.path : "");
	snprintf(num, sizeof(num), ",\"status\":%d,\"duration_ms\":%llu.%03llu",
	    x->status, (unsigned long long)(us / 1000),
	    (unsigned long long)(us % 1000));
	buf_addstr(&b, num);
	buf_addstr(&b, ",\"request_id\":");
	buf_add_json_text(&b, x->rq.request_id);
	buf_addstr(&b, ",\"remote\":");
	buf_add_json_text(&b, x->remote);
	if (strcmp(x->remote, x->peer) != 0) {
		buf_addstr(&b, ",\"peer\":");
		buf_add_json_text(&b, x->peer);
	}
	if (!completed)
		buf_addstr(&b, ",\"aborted\":true");
	buf_addstr(&b, ",\"ts\":");
	buf_add_json_text(&b, ts);
	buf_addstr(&b, "}\n");
	if (buf_err(&b) == 0)
		log_line(buf_str(&b), b.len);
	buf_free(&b);
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server	*srv = cls;
	struct exchange		*x = *con_cls;

	KW_UNUSED(c);
	if (x == NULL)
		return;
	if (x->daemon != NULL)		/* a call-out */
		callout_done(&srv->co, x);
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && x->timeout != 0)
		deadline_cut(x);
	meter(x);
	access_log(x, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	json_decref(x->rq.body);
	json_decref(x->rq.fail.details);
	free(x->rq.caller);
	buf_free(&x->body);
	free(x);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	KW_UNUSED(cls);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg("warn", "http: %s", msg);
}

/* Start srv's daemon on sa (or on the socket listen_fd when >= 0) with
 * srv's settings and certificate.  The daemon, or NULL. */
static struct MHD_Daemon *
daemon_start(struct http_server *srv, unsigned int flags,
    const struct sockaddr *sa, int listen_fd)
{
	const struct http_server_config	*cfg = &srv->cfg;
	struct MHD_OptionItem		 tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (srv->cert != NULL)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	return MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL,
	    access_cb, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
	    listen_fd >= 0 ? (void *)(intptr_t)listen_fd : (void *)sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)KW_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
}

int
http_server_start(const struct http_server_config *cfg,
    struct http_server **out)
{
	struct http_server	*srv;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr		*sa;
	unsigned int		 flags;

	*out = NULL;
	if (getrandom(&boot_tag, sizeof(boot_tag), 0) != sizeof(boot_tag))
		boot_tag = (uint32_t)kw_mono_us();
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	/* ITC: a TLS reload hands the listening socket over (quiesce), and
	 * the call-out workers resume connections */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	if (inet_pton(AF_INET, cfg->host, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)cfg->port);
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, cfg->host, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)cfg->port);
		sa = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else if (strcmp(cfg->host, "localhost") == 0) {
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)cfg->port);
		sa = (struct sockaddr *)&sin;
	} else
		return KW_ERR_CONFIG;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return KW_ERR_NOMEM;
	srv->cfg = *cfg;
	srv->flags = flags;
	pthread_mutex_init(&srv->co.lock, NULL);
	pthread_cond_init(&srv->co.work, NULL);
	pthread_cond_init(&srv->co.idle, NULL);
	if (cfg->tls_cert != NULL && ((srv->cert = strdup(cfg->tls_cert)) ==
	    NULL || (srv->key = strdup(cfg->tls_key)) == NULL)) {
		http_server_stop(srv);
		return KW_ERR_NOMEM;
	}
	if (callout_start(&srv->co, cfg->callout_workers) != 0) {
		http_server_stop(srv);
		return KW_ERR_NOMEM;
	}
	if ((srv->mhd = daemon_start(srv, srv->flags, sa, -1)) == NULL) {
		http_server_stop(srv);
		return KW_ERR_IO;
	}
	*out = srv;
	return 0;
}

int
http_tls_check(const char *cert, const char *key)
{
	struct MHD_Daemon *d;

	/* GnuTLS loads and matches the pair when a daemon starts: start one
	 * with no socket at all and stop it */
	d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, access_cb, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_END);
	if (d == NULL)
		return KW_ERR_CONFIG;
	MHD_stop_daemon(d);
	return 0;
}

/* Wait (up to HTTP_TLS_DRAIN_S) for d's connections to end, then stop it
 * once none is suspended in a call-out (those always end: every call
 * out has its timeout). */
static void
daemon_drain(struct http_server *srv, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo	*di;
	uint64_t			 until = kw_mono_us() +
					    HTTP_TLS_DRAIN_S * 1000000ull;

	while (kw_mono_us() < until) {
		di = MHD_get_daemon_info(d,
		    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (di == NULL || di->num_connections == 0)
			break;
		usleep(50 * 1000);
	}
	pthread_mutex_lock(&srv->co.lock);
	srv->co.draining = d;		/* its next call-outs run inline */
	pthread_mutex_unlock(&srv->co.lock);
	callout_wait(&srv->co, d);
	MHD_stop_daemon(d);
	pthread_mutex_lock(&srv->co.lock);
	srv->co.draining = NULL;
	pthread_mutex_unlock(&srv->co.lock);
}

int
http_server_reload_tls(struct http_server *srv, const char *cert,
    const char *key)
{
	struct MHD_Daemon	*old = srv->mhd, *d;
	char			*c2, *k2, *oc = srv->cert, *ok = srv->key;
	int			 fd;

	if (http_tls_check(cert, key) != 0)
		return KW_ERR_CONFIG;
	if ((c2 = strdup(cert)) == NULL || (k2 = strdup(key)) == NULL) {
		free(c2);
		return KW_ERR_NOMEM;
	}
	/* the old daemon stops accepting and hands its socket over */
	if ((fd = (int)MHD_quiesce_daemon(old)) < 0) {
		free(c2);
		kw_wipe(k2, strlen(k2));
		free(k2);
		return KW_ERR_IO;
	}
	srv->cert = c2;
	srv->key = k2;
	if ((d = daemon_start(srv, srv->flags, NULL, fd)) == NULL) {
		/* keep serving the old pair on the same socket */
		srv->cert = oc;
		srv->key = ok;
		oc = c2;
		ok = k2;
		d = daemon_start(srv, srv->flags, NULL, fd);
	}
	srv->mhd = d;
	daemon_drain(srv, old);
	free(oc);
	if (ok != NULL) {
		kw_wipe(ok, strlen(ok));
		free(ok);
	}
	return d == NULL ? KW_ERR_IO : srv->cert == c2 ? 0 : KW_ERR_CONFIG;
}

void
http_server_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	/* no new call-outs; those under way answer (and their answers go
	 * out) before the daemon stops */
	callout_stop(&srv->co);
	callout_wait(&srv->co, NULL);
	if (srv->mhd != NULL)
		MHD_stop_daemon(srv->mhd);
	free(srv->cert);
	if (srv->key != NULL) {
		kw_wipe(srv->key, strlen(srv->key));
		free(srv->key);
	}
	pthread_mutex_destroy(&srv->co.lock);
	pthread_cond_destroy(&srv->co.work);
	pthread_cond_destroy(&srv->co.idle);
	free(srv);
}
