/*
 * http.c — the one place keywarden talks to libcurl.  Policy (TLS on,
 * loopback-only plain http, no redirects, timeouts, size cap) is applied
 * here for every request, so no caller can forget it.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "kw.h"
#include "limits.h"
#include "net/http.h"
#include "util/buf.h"
#include "util/util.h"

/* How each method is put on the wire. */
enum net_how {
	NET_HOW_GET,		/* CURLOPT_HTTPGET */
	NET_HOW_POST,		/* CURLOPT_POST */
	NET_HOW_CUSTOM,		/* CURLOPT_CUSTOMREQUEST */
};

static const struct {
	const char	*name;
	enum net_how	 how;
	int		 body_ok;
} net_methods[] = {
	{ "GET",	NET_HOW_GET,	0 },
	{ "POST",	NET_HOW_POST,	1 },
	{ "PUT",	NET_HOW_CUSTOM,	1 },
	{ "PATCH",	NET_HOW_CUSTOM,	1 },
	{ "DELETE",	NET_HOW_CUSTOM,	1 },
};

/* State shared with the libcurl callbacks of one transfer. */
struct net_xfer {
	struct net_response	*rs;
	int			 loopback_only;	/* plain http: peer must be lo */
	int			 refused;	/* opensocket refused a peer */
};

/*
 * One easy handle per thread, kept between calls: libcurl keeps its
 * connection cache (and TLS sessions, DNS answers) in the handle, so the
 * next call to the same instance reuses the open connection instead of a
 * new TCP (and TLS) handshake.  curl_easy_reset() clears every option of
 * the previous call but keeps the cache; the policy is applied afresh
 * each time.  A connection is only ever reused for the same scheme, host
 * and port it was opened (and checked, for loopback http) for.  The
 * handle is cleaned up when its thread ends.
 */
static pthread_key_t	net_key;
static pthread_once_t	net_once = PTHREAD_ONCE_INIT;
static int		net_key_ok;

static void
net_handle_free(void *c)
{
	curl_easy_cleanup(c);
}

static void
net_key_init(void)
{
	net_key_ok = pthread_key_create(&net_key, net_handle_free) == 0;
}

/* This thread's handle, reset; *owned says the caller must clean it up
 * (no thread key).  NULL when libcurl has no memory. */
static CURL *
net_handle(int *owned)
{
	CURL *c;

	pthread_once(&net_once, net_key_init);
	*owned = !net_key_ok;
	if (!net_key_ok)
		return curl_easy_init();
	if ((c = pthread_getspecific(net_key)) != NULL) {
		curl_easy_reset(c);
		return c;
	}
	if ((c = curl_easy_init()) != NULL &&
	    pthread_setspecific(net_key, c) != 0)
		*owned = 1;
	return c;
}

int
net_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ?
	    0 : KW_ERR_INTERNAL;
}

void
net_global_cleanup(void)
{
	CURL *c;

	/* the calling thread's handle (the others went with their threads) */
	pthread_once(&net_once, net_key_init);
	if (net_key_ok && (c = pthread_getspecific(net_key)) != NULL) {
		pthread_setspecific(net_key, NULL);
		curl_easy_cleanup(c);
	}
	curl_global_cleanup();
}

void
net_response_free(struct net_response *rs)
{
	if (rs == NULL)
		return;
	buf_free(&rs->body);
}

/* 1 if s holds no CR or LF, so it cannot smuggle a header. */
static int
net_header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

static size_t
net_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct net_xfer	*x = arg;

	/* Returning less than given aborts with CURLE_WRITE_ERROR; the
	 * buffer remembers whether it was size or memory. */
	if (buf_add(&x->rs->body, p, size * n) != 0)
		return 0;
	return size * n;
}

/*
 * Keep the raw value of Retry-After.  A new status line (an interim 1xx
 * answer, a proxy's CONNECT reply) starts the header set over.
 */
static size_t
net_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct net_xfer	*x = arg;
	static const char name[] = "retry-after:";
	size_t		 len = size * n, vlen;
	char		*v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->rs->retry_after[0] = '\0';
		return len;
	}
	if (len <= sizeof(name) - 1 ||
	    strncasecmp(p, name, sizeof(name) - 1) != 0)
		return len;
	v = p + sizeof(name) - 1;
	vlen = len - (sizeof(name) - 1);
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && strchr(" \t\r\n", v[vlen - 1]) != NULL)
		vlen--;
	if (vlen >= sizeof(x->rs->retry_after))
		vlen = sizeof(x->rs->retry_after) - 1;
	memcpy(x->rs->retry_after, v, vlen);
	x->rs->retry_after[vlen] = '\0';
	return len;
}

/* 1 if the socket address is 127.0.0.0/8, ::1 or v4-mapped 127/8. */
static int
net_addr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*in4;
	const struct sockaddr_in6	*in6;

	if (sa->sa_family == AF_INET) {
		in4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/*
 * For plain http the URL's host was checked by name; this checks where
 * the name actually resolved to, so "127.example.com" or a poisoned
 * "localhost" cannot carry a cleartext request off the machine.
 */
static curl_socket_t
net_opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct net_xfer	*x = arg;
	int		 fd;

	KW_UNUSED(purpose);
	if (x->loopback_only && !net_addr_is_loopback(&a->addr)) {
		x->refused = 1;
		return CURL_SOCKET_BAD;
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/*
 * Check rq before anything touches the network.  Sets *how, *loopback.
 * 0 or KW_ERR_VALIDATION with rs->error filled in.
 */
static int
net_check(const struct net_request *rq, struct net_response *rs,
    enum net_how *how, int *loopback)
{
	const char	*method = rq->method ? rq->method : "GET";
	size_t		 i;

	for (i = 0; i < KW_NELEM(net_methods); i++)
		if (strcmp(method, net_methods[i].name) == 0)
			break;
	if (i == KW_NELEM(net_methods)) {
		kw_strlcpy(rs->error, "unsupported HTTP method", NET_ERROR_MAX);
		return KW_ERR_VALIDATION;
	}
	*how = net_methods[i].how;
	if (rq->body != NULL && !net_methods[i].body_ok) {
		kw_strlcpy(rs->error, "method takes no body", NET_ERROR_MAX);
		return KW_ERR_VALIDATION;
	}
	if (rq->url == NULL || !kw_valid_url(rq->url, 1)) {
		kw_strlcpy(rs->error, rq->url != NULL &&
		    strncmp(rq->url, "http://", 7) == 0 ?
		    "plain http:// is allowed only to a loopback host; "
		    "use https://" : "not a valid http(s) URL", NET_ERROR_MAX);
		return KW_ERR_VALIDATION;
	}
	*loopback = strncmp(rq->url, "http://", 7) == 0;
	if ((rq->bearer && !net_header_safe(rq->bearer)) ||
	    (rq->content_type && !net_header_safe(rq->content_type))) {
		kw_strlcpy(rs->error, "line break in a header", NET_ERROR_MAX);
		return KW_ERR_VALIDATION;
	}
	for (i = 0; rq->extra_headers && rq->extra_headers[i]; i++)
		if (i >= NET_HEADERS_MAX ||
		    !net_header_safe(rq->extra_headers[i]) ||
		    strchr(rq->extra_headers[i], ':') == NULL) {
			kw_strlcpy(rs->error, "bad extra header",
			    NET_ERROR_MAX);
			return KW_ERR_VALIDATION;
		}
	return 0;
}

/* Wipe every header line (one holds the bearer token) and free them. */
static void
net_headers_free(struct curl_slist *h)
{
	struct curl_slist *s;

	for (s = h; s != NULL; s = s->next)
		kw_wipe(s->data, strlen(s->data));
	curl_slist_free_all(h);
}

/* Append one line to *h; 0 or KW_ERR_NOMEM (*h is left valid). */
static int
net_header_add(struct curl_slist **h, const char *line)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*h, line)) == NULL)
		return KW_ERR_NOMEM;
	*h = n;
	return 0;
}

/* Build the request's header list into *out; 0 or KW_ERR_NOMEM. */
static int
net_headers_build(const struct net_request *rq, struct curl_slist **out)
{
	struct curl_slist	*h = NULL;
	struct buf		 line;
	size_t			 i;
	int			 r = 0;

	buf_init(&line, KW_TOKEN_STR_MAX + KW_URL_MAX);
	/* "Expect:" stops curl waiting for 100-continue on big bodies. */
	if ((r = net_header_add(&h, "Expect:")) != 0)
		goto out;
	if ((r = net_header_add(&h, "Accept: application/json")) != 0)
		goto out;
	if (rq->body != NULL || rq->content_type != NULL) {
		/* "Content-Type:" with no value suppresses curl's default. */
		buf_printf(&line, "Content-Type: %s",
		    rq->content_type ? rq->content_type : "");
		if ((r = buf_err(&line)) != 0 ||
		    (r = net_header_add(&h, buf_str(&line))) != 0)
			goto out;
		buf_free(&line);
	}
	if (rq->bearer != NULL) {
		buf_printf(&line, "Authorization: Bearer %s", rq->bearer);
		if ((r = buf_err(&line)) != 0 ||
		    (r = net_header_add(&h, buf_str(&line))) != 0)
			goto out;
	}
	for (i = 0; rq->extra_headers && rq->extra_headers[i]; i++)
		if ((r = net_header_add(&h, rq->extra_headers[i])) != 0)
			goto out;
	*out = h;
	h = NULL;
 out:
	buf_free(&line);	/* wipes the bearer copy */
	net_headers_free(h);
	return r;
}

/* Apply the fixed security policy and the request's options to c. */
static int
net_setopts(CURL *c, const struct net_request *rq, enum net_how how,
    struct net_xfer *x, struct curl_slist *hdrs, char *errbuf)
{
	const char	*proto = x->loopback_only ? "http" : "https";
	long		 tmo, ctmo;
	size_t		 max;
	CURLcode	 e = CURLE_OK;

	tmo = rq->timeout_ms > 0 ? rq->timeout_ms : NET_TIMEOUT_MS_DEFAULT;
	ctmo = rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms :
	    NET_CONNECT_TIMEOUT_MS_DEFAULT;
	max = rq->max_response > 0 ? rq->max_response : KW_RESPONSE_MAX;

#define SET(opt, val) do { if (e == CURLE_OK) \
	e = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, proto);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, proto);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_VERBOSE, 0L);	/* never print headers: bearer */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_NOPROGRESS, 1L);
	SET(CURLOPT_TIMEOUT_MS, tmo);
	SET(CURLOPT_CONNECTTIMEOUT_MS, ctmo);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	SET(CURLOPT_USERAGENT, "keywarden/" KW_VERSION);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_WRITEFUNCTION, net_write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, net_header_cb);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_OPENSOCKETFUNCTION, net_opensocket_cb);
	SET(CURLOPT_OPENSOCKETDATA, x);
	/* A proxy would be a non-loopback peer for loopback traffic. */
	if (x->loopback_only)
		SET(CURLOPT_PROXY, "");
	switch (how) {
	case NET_HOW_GET:
		SET(CURLOPT_HTTPGET, 1L);
		break;
	case NET_HOW_POST:
		SET(CURLOPT_POST, 1L);
		break;
	case NET_HOW_CUSTOM:
		SET(CURLOPT_CUSTOMREQUEST, rq->method);
		break;
	}
	if (rq->body != NULL || how == NET_HOW_POST) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		SET(CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
	}
#undef SET
	return e == CURLE_OK ? 0 : KW_ERR_INTERNAL;
}

/* Map a finished transfer's result to a project error and rs->error. */
static int
net_result(CURLcode e, const struct net_xfer *x, const char *errbuf,
    struct net_response *rs)
{
	const char	*why = errbuf[0] ? errbuf : curl_easy_strerror(e);
	int		 r;

	switch (e) {
	case CURLE_OK:
		return 0;
	case CURLE_FILESIZE_EXCEEDED:
		r = KW_ERR_TOO_LARGE;
		break;
	case CURLE_WRITE_ERROR:
		r = buf_err(&rs->body) ? buf_err(&rs->body) : KW_ERR_UPSTREAM;
		break;
	case CURLE_OUT_OF_MEMORY:
		r = KW_ERR_NOMEM;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		r = KW_ERR_VALIDATION;
		break;
	default:
		r = KW_ERR_UPSTREAM;
		break;
	}
	if (r == KW_ERR_TOO_LARGE)
		why = "response larger than the allowed maximum";
	else if (x->refused) {
		r = KW_ERR_VALIDATION;
		why = "plain http:// host resolved to a non-loopback address";
	}
	kw_strlcpy(rs->error, why, NET_ERROR_MAX);
	return r;
}

/*
 * See http.h.  The thread's easy handle (see net_handle), so connections
 * to the same instance are reused.
 */
int
net_do(const struct net_request *rq, struct net_response *rs)
{
	CURL			*c = NULL;
	struct curl_slist	*hdrs = NULL;
	struct net_xfer		 x;
	enum net_how		 how = NET_HOW_GET;
	char			 errbuf[CURL_ERROR_SIZE];
	CURLcode		 e;
	int			 r, owned = 0;

	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, rq->max_response > 0 ? rq->max_response :
	    KW_RESPONSE_MAX);
	memset(&x, 0, sizeof(x));
	x.rs = rs;
	errbuf[0] = '\0';

	if ((r = net_check(rq, rs, &how, &x.loopback_only)) != 0)
		goto out;
	if ((r = net_headers_build(rq, &hdrs)) != 0)
		goto out;
	if ((c = net_handle(&owned)) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	if ((r = net_setopts(c, rq, how, &x, hdrs, errbuf)) != 0) {
		kw_strlcpy(rs->error, "libcurl refused an option",
		    NET_ERROR_MAX);
		goto out;
	}
	e = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	r = net_result(e, &x, errbuf, rs);
 out:
	if (r != 0 && rs->error[0] == '\0')
		kw_strlcpy(rs->error, kw_strerror(r), NET_ERROR_MAX);
	if (c != NULL) {
		/* nothing of this call may reach the next one */
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
		if (owned)
			curl_easy_cleanup(c);
	}
	net_headers_free(hdrs);
	return r;
}

long
net_retry_after(const struct net_response *rs, long max)
{
	const char	*h = rs->retry_after;
	char		*end;
	long		 v;

	if (h[0] == '\0')
		return -1;
	errno = 0;
	v = strtol(h, &end, 10);
	if (errno || end == h || v < 0)
		return -1;
	return v > max ? max : v;
}

/* One part of a parsed URL into out (lower-cased when fold); 0, or -1
 * when the part is missing or does not fit. */
static int
net_url_part(CURLU *u, CURLUPart what, unsigned int flags, int fold,
    char *out, size_t outsz)
{
	char	*v = NULL;
	size_t	 i, n;
	int	 r = -1;

	if (curl_url_get(u, what, &v, flags) != CURLUE_OK || v == NULL)
		goto out;
	if ((n = strlen(v)) >= outsz)
		goto out;
	for (i = 0; i <= n; i++)
		out[i] = fold ? (char)tolower((unsigned char)v[i]) : v[i];
	r = 0;
 out:
	curl_free(v);
	return r;
}

/* Scheme, host and port of s, each into sz bytes; 0, or -1 when s is
 * no http(s) URL or carries a user name or password. */
static int
net_origin(const char *s, char *scheme, char *host, char *port, size_t sz)
{
	CURLU	*u;
	char	*user = NULL, *pw = NULL;
	int	 r = -1;

	if ((u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, s, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK)
		goto out;
	if (net_url_part(u, CURLUPART_SCHEME, 0, 1, scheme, sz) != 0 ||
	    net_url_part(u, CURLUPART_HOST, 0, 1, host, sz) != 0 ||
	    net_url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, 0, port,
	    sz) != 0)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	r = 0;
 out:
	curl_free(user);
	curl_free(pw);
	curl_url_cleanup(u);
	return r;
}

int
net_same_origin(const char *base, const char *url)
{
	char	bs[NET_ORIGIN_PART_MAX], bh[NET_ORIGIN_PART_MAX];
	char	bp[NET_ORIGIN_PART_MAX], us[NET_ORIGIN_PART_MAX];
	char	uh[NET_ORIGIN_PART_MAX], up[NET_ORIGIN_PART_MAX];

	if (base == NULL || url == NULL ||
	    net_origin(base, bs, bh, bp, sizeof(bs)) != 0 ||
	    net_origin(url, us, uh, up, sizeof(us)) != 0)
		return 0;
	return strcmp(bs, us) == 0 && strcmp(bh, uh) == 0 &&
	    strcmp(bp, up) == 0;
}

/* ---- SMTP ---------------------------------------------------------------- */

/* The message being uploaded. */
struct net_mail_cursor {
	const char	*p;
	size_t		 left;
};

static size_t
net_mail_read_cb(char *out, size_t size, size_t n, void *arg)
{
	struct net_mail_cursor	*c = arg;
	size_t			 len = size * n;

	if (len > c->left)
		len = c->left;
	memcpy(out, c->p, len);
	c->p += len;
	c->left -= len;
	return len;
}

/*
 * Split an smtp(s) URL's scheme from the rest: *tls = 1 for smtps://;
 * *loopback = 1 when its host is loopback.  0 or KW_ERR_VALIDATION.  The
 * host syntax is the one kw_valid_url() applies to https URLs.
 */
static int
net_smtp_url(const char *url, int *tls, int *loopback)
{
	char		 as_https[KW_URL_MAX + 16];
	const char	*rest;

	if (strncmp(url, "smtps://", 8) == 0) {
		*tls = 1;
		rest = url + 8;
	} else if (strncmp(url, "smtp://", 7) == 0) {
		*tls = 0;
		rest = url + 7;
	} else
		return KW_ERR_VALIDATION;
	if (strlen(rest) > KW_URL_MAX ||
	    (size_t)snprintf(as_https, sizeof(as_https), "https://%s", rest) >=
	    sizeof(as_https) || !kw_valid_url(as_https, 0) ||
	    strcspn(rest, "?#") != strlen(rest))
		return KW_ERR_VALIDATION;
	*loopback = kw_url_is_loopback(as_https);
	return 0;
}

int
net_smtp_url_check(const char *url, char *why, size_t whysz)
{
	int tls, loopback;

	if (net_smtp_url(url, &tls, &loopback) != 0) {
		kw_strlcpy(why, "not an smtp:// or smtps:// URL with a host "
		    "(and no user, password, query or fragment)", whysz);
		return KW_ERR_VALIDATION;
	}
	return 0;
}

/* "<addr>" into out, refusing what could break the SMTP command. */
static int
net_mail_addr(const char *addr, char *out, size_t outsz)
{
	if (addr == NULL || addr[0] == '\0' ||
	    strpbrk(addr, "\r\n<> \t") != NULL ||
	    (size_t)snprintf(out, outsz, "<%s>", addr) >= outsz)
		return KW_ERR_VALIDATION;
	return 0;
}

/* The libcurl options of one SMTP send. */
static int
net_mail_setopts(CURL *c, const struct net_mail *m, int tls, int loopback,
    struct net_xfer *x, struct net_mail_cursor *cur, const char *from,
    struct curl_slist *rcpt, char *errbuf)
{
	CURLcode e = CURLE_OK;

#define SET(opt, val) do { if (e == CURLE_OK) \
	e = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_URL, m->url);
	SET(CURLOPT_PROTOCOLS_STR, tls ? "smtps" : "smtp");
	SET(CURLOPT_USE_SSL, (long)(tls ? CURLUSESSL_ALL : loopback ?
	    CURLUSESSL_TRY : CURLUSESSL_ALL));
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_VERBOSE, 0L);	/* never print the AUTH exchange */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, m->timeout_ms > 0 ? m->timeout_ms :
	    NET_TIMEOUT_MS_DEFAULT);
	SET(CURLOPT_CONNECTTIMEOUT_MS, m->connect_timeout_ms > 0 ?
	    m->connect_timeout_ms : NET_CONNECT_TIMEOUT_MS_DEFAULT);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_MAIL_FROM, from);
	SET(CURLOPT_MAIL_RCPT, rcpt);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, net_mail_read_cb);
	SET(CURLOPT_READDATA, cur);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->message_len);
	SET(CURLOPT_OPENSOCKETFUNCTION, net_opensocket_cb);
	SET(CURLOPT_OPENSOCKETDATA, x);
	SET(CURLOPT_PROXY, "");
	if (m->username != NULL && m->username[0] != '\0') {
		SET(CURLOPT_USERNAME, m->username);
		SET(CURLOPT_PASSWORD, m->password ? m->password : "");
	}
#undef SET
	return e == CURLE_OK ? 0 : KW_ERR_INTERNAL;
}

int
net_smtp_send(const struct net_mail *m, struct net_mail_result *res)
{
	CURL			*c = NULL;
	struct curl_slist	*rcpt = NULL;
	struct net_mail_cursor	 cur;
	struct net_xfer		 x;
	struct net_response	 dummy;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 from[KW_EMAIL_MAX + 3], to[KW_EMAIL_MAX + 3];
	CURLcode		 e;
	int			 tls, loopback, r;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	memset(&dummy, 0, sizeof(dummy));
	x.rs = &dummy;
	errbuf[0] = '\0';
	if ((r = net_smtp_url(m->url, &tls, &loopback)) != 0) {
		kw_strlcpy(res->error, "not a usable smtp(s):// URL",
		    NET_ERROR_MAX);
		goto out;
	}
	/* plain SMTP: the peer must really be loopback, not a name */
	x.loopback_only = !tls && loopback;
	if ((r = net_mail_addr(m->from, from, sizeof(from))) != 0 ||
	    (r = net_mail_addr(m->to, to, sizeof(to))) != 0) {
		kw_strlcpy(res->error, "unusable sender or recipient address",
		    NET_ERROR_MAX);
		goto out;
	}
	cur.p = m->message;
	cur.left = m->message_len;
	r = KW_ERR_NOMEM;
	if ((rcpt = curl_slist_append(NULL, to)) == NULL ||
	    (c = curl_easy_init()) == NULL)
		goto out;
	if ((r = net_mail_setopts(c, m, tls, loopback, &x, &cur, from, rcpt,
	    errbuf)) != 0) {
		kw_strlcpy(res->error, "libcurl refused an option",
		    NET_ERROR_MAX);
		goto out;
	}
	e = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->code);
	if (e == CURLE_OK) {
		r = 0;
		goto out;
	}
	r = KW_ERR_UPSTREAM;
	/* libcurl says "RCPT failed: 550" for a refused recipient; a 5xx
	 * after the data (CURLE_WEIRD_SERVER_REPLY) refuses the message */
	res->refused = res->code >= 500 && res->code <= 599 &&
	    (strncmp(errbuf, "RCPT failed", 11) == 0 ||
	    e == CURLE_WEIRD_SERVER_REPLY);
	if (x.refused) {
		r = KW_ERR_VALIDATION;
		kw_strlcpy(res->error, "plain smtp:// host resolved to a "
		    "non-loopback address", NET_ERROR_MAX);
	} else
		snprintf(res->error, NET_ERROR_MAX, "%.150s%s",
		    errbuf[0] ? errbuf : curl_easy_strerror(e),
		    e == CURLE_USE_SSL_FAILED ? " (the server offers no "
		    "STARTTLS; use smtps:// or a server that does)" : "");
 out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	return r;
}
