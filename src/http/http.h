/*
 * http.h — the HTTP front end.  http/ is the only code that includes the
 * HTTP library (libmicrohttpd); handlers see plain structs.
 *
 * A route names a method, a path pattern ("/v1/people/{}/tokens"; each
 * {} captures one segment), the handler, who may call it (checked by
 * the application's authorise hook before the body is read, and again
 * by its reauthorise hook once the body is in, right before the handler
 * runs; a request without a body runs its handler right after the first
 * check, without the second), and whether it takes a body.  Bodies are limited to KW_BODY_MAX
 * bytes, must arrive within KW_BODY_DEADLINE_S of the headers, and must
 * be JSON objects sent as application/json.
 */
#ifndef KW_HTTP_H
#define KW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kw.h"

#include "limits.h"

/* Who may call a route; interpreted by the application's hook. */
enum http_access {
	ACCESS_PUBLIC,		/* no authentication */
	ACCESS_PERSON,		/* any active person */
	ACCESS_READER,		/* admin or auditor */
	ACCESS_ADMIN,		/* admin */
	ACCESS_SCIM,		/* an identity provider's SCIM token */
};

/* What a route takes: nothing, a JSON object (optional or required), a
 * form (application/x-www-form-urlencoded) handed over raw, or either
 * (optional; a JSON body is parsed into body, a form is left raw). */
enum http_body { BODY_NONE, BODY_OPTIONAL, BODY_REQUIRED, BODY_FORM,
	BODY_JSON_OR_FORM };

/*
 * Where a route's handler runs.  INLINE: on the libmicrohttpd thread that
 * read the request (quick work: reads from the store, the CPU).  WAITS:
 * the handler may wait, on another service (an instance, an identity
 * provider) or on the durable commit of its change (every write: the
 * group commit, and on PostgreSQL the store's write lock); it runs on
 * one of the server's call-out workers while its connection is
 * suspended, so a wait holds up only the requests waiting on it, never
 * the other connections that thread serves, and as many writes as there
 * are workers share one commit.
 */
enum http_work { INLINE, WAITS };

struct http_req {
	const char	*method;
	const char	*path;
	const char	*params[KW_PATH_PARAMS_MAX];	/* captured {} */
	size_t		 nparams;
	json_t		*body;		/* parsed object, or NULL */
	const char	*raw_body;	/* the bytes as received (a form) */
	size_t		 raw_len;
	const char	*remote;	/* client address text: the peer, or
					   from X-Forwarded-For when the peer
					   is a trusted proxy */
	const char	*peer;		/* the socket's peer address */
	const char	*authorization;	/* header value or NULL */
	char		 request_id[24];
	void		*app;		/* http_server_start's app pointer */
	void		*caller;	/* set by the authorise hook; free()d */
	void		*conn;		/* library connection (query access) */
	/* why a handler's error happened (message, field, details,
	 * Retry-After): what the core reported, or http_fail's */
	struct kw_fail	 fail;
};

/* An extra response header (a value the application chose). */
struct http_header {
	char		 name[KW_RESP_HEADER_NAME_MAX];
	char		 value[KW_RESP_HEADER_VALUE_MAX];
};

struct http_resp {
	int		 status;	/* 200, 201, ... */
	json_t		*body;		/* owned; freed after sending; NULL
					   sends an empty body (204) */
	char		*text;		/* owned (malloc); sent as text/plain
					   when body is NULL */
	int		 retry_after;	/* > 0: a Retry-After header */
	struct http_header headers[KW_RESP_HEADERS_MAX];
	size_t		 nheaders;
	const char	*content_type;	/* of text or data; NULL: text/plain */
	const void	*data;		/* static bytes (never freed), sent
					   when body and text are NULL */
	size_t		 data_len;
	const char	*cache;		/* Cache-Control (static); NULL:
					   no-store */
	int		 page;		/* a web UI answer: the UI's
					   Content-Security-Policy */
};

/* Add a header to rs (printf-style value); KW_ERR_TOO_LARGE when the
 * table is full or the name or value does not fit. */
int	 http_resp_header(struct http_resp *rs, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct http_route;
/* A handler returns 0 and fills rs, or a negative KW_ERR_* (with
 * rq->fail set) which becomes the JSON error. */
typedef int (*http_handler)(struct http_req *rq, struct http_resp *rs);
/* Called once the route is known and before the body is read: decides
 * whether the caller may use the route (0 or a KW_ERR_*). */
typedef int (*http_authorise)(struct http_req *rq,
	    const struct http_route *route);

/*
 * How some routes speak when it is not the API's own dialect (SCIM): the
 * Content-Type of their JSON answers, one more request Content-Type they
 * accept besides application/json, and the shape of their errors (err,
 * the HTTP status, the message and field a handler set via http_fail;
 * the caller owns the result).
 */
struct http_dialect {
	const char	*content_type;
	const char	*accept_type;
	json_t		*(*error_body)(int err, int status, const char *message,
			    const char *field);
};

struct http_route {
	const char		*method;
	const char		*pattern;
	http_handler		 handler;
	enum http_access	 access;
	enum http_body		 body;
	enum http_work		 work;
};

/* Match method+path against routes.  On success *out is the route and
 * params/nparams hold pointers into segbuf (the captured segments).
 * KW_ERR_NOT_FOUND when no pattern matches, KW_ERR_METHOD when a pattern
 * matches with another method. */
int	 http_route_match(const struct http_route *routes, size_t nroutes,
	    const char *method, const char *path, char *segbuf, size_t segbufsz,
	    const char **params, size_t *nparams, const struct http_route **out);

/* A request header, or NULL. */
const char *http_header(const struct http_req *rq, const char *name);
/* A query-string parameter of the request, or NULL. */
const char *http_query(const struct http_req *rq, const char *key);
/* The value of the request's cookie name, or NULL. */
const char *http_cookie(const struct http_req *rq, const char *name);

/* Set a handler error's message (printf-style) and optional field. */
int	 http_fail(struct http_req *rq, int err, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Render the API's error object for err (details borrowed, may be
 * NULL; field is added to it); caller owns the result. */
json_t	*http_error_body(int err, const char *message, const char *field,
	    json_t *details);

struct addr_list;

struct http_server_config {
	const char		*host;
	int			 port;
	int			 threads;
	int			 callout_workers;	/* 0: WAITS
						   routes run inline */
	int			 max_connections;
	int			 connection_timeout;
	const struct http_route	*routes;
	size_t			 nroutes;
	http_authorise		 authorise;
	http_authorise		 reauthorise;	/* before the handler, when
						   a body was read; may be
						   NULL */
	/* the dialect of the requests to a path (routed or not), NULL for
	 * the API's own; the hook may be NULL */
	const struct http_dialect *(*dialect)(const char *path);
	void			*app;
	const struct addr_list	*trusted_proxies;	/* may be NULL */
	const char		*tls_cert;	/* PEM text; NULL: plain HTTP */
	const char		*tls_key;	/* PEM text */
};

struct http_server;
/* Start listening; *out is owned by the caller: http_server_stop(). */
int	 http_server_start(const struct http_server_config *cfg,
	    struct http_server **out);
/* Stop accepting, finish in-flight requests and free. NULL ok. */
void	 http_server_stop(struct http_server *srv);
/*
 * Serve a new certificate and key (PEM text, copied): the listener is
 * restarted on the same socket — new connections get the new
 * certificate at once, connections in flight finish on the old one (for
 * up to HTTP_TLS_DRAIN_S seconds).  Nothing changes if the pair is not
 * usable.  0, KW_ERR_CONFIG (bad pair), KW_ERR_IO or KW_ERR_NOMEM.
 */
#define HTTP_TLS_DRAIN_S	5
int	 http_server_reload_tls(struct http_server *srv, const char *cert,
	    const char *key);
/* 0 if the PEM certificate and key make a usable TLS server (a key that
 * matches the first certificate), else KW_ERR_CONFIG. */
int	 http_tls_check(const char *cert, const char *key);

/* Depth of a JSON value (scalars are 1). */
int	 http_json_depth(const json_t *v);

#endif /* KW_HTTP_H */
