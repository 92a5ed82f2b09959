/*
 * http.h — the single libcurl wrapper every outbound HTTP call in
 * keywarden goes through (the CLI, the providers, the notifiers).
 *
 * What it guarantees, whatever the caller asks for:
 *   - TLS peer and host verification are always on;
 *   - plain http:// is refused unless the URL's host is loopback, and the
 *     connection itself must then go to a loopback address;
 *   - only http and https are spoken, redirects are never followed;
 *   - a connect timeout, a total timeout and a response-size cap apply;
 *   - the bearer token and the bodies are never logged.
 *
 * Retries are the caller's business (the provider layer adds them); the
 * status and the raw Retry-After header are exposed so it can decide.
 */
#ifndef KW_NET_HTTP_H
#define KW_NET_HTTP_H

#include <stddef.h>

#include "util/buf.h"

#define NET_TIMEOUT_MS_DEFAULT		30000L	/* whole exchange */
#define NET_CONNECT_TIMEOUT_MS_DEFAULT	10000L	/* TCP + TLS handshake */
#define NET_HEADERS_MAX			32	/* extra_headers entries */
#define NET_RETRY_AFTER_MAX		32	/* bytes kept of Retry-After */
#define NET_ERROR_MAX			256	/* transport error text */
#define NET_ORIGIN_PART_MAX		256	/* scheme, host or port text */

/*
 * One outbound request.  Everything is borrowed from the caller for the
 * duration of net_do() only; nothing is kept or freed.  Zero values pick
 * the defaults: method "GET", the timeouts above, KW_RESPONSE_MAX.
 */
struct net_request {
	const char		*method;	/* GET POST PUT PATCH DELETE */
	const char		*url;		/* absolute http(s) URL */
	const char		*bearer;	/* token, or NULL: no auth */
	const char		*content_type;	/* of body; NULL: none sent */
	const char		*body;		/* NULL: no body */
	size_t			 body_len;
	long			 timeout_ms;
	long			 connect_timeout_ms;
	size_t			 max_response;	/* body bytes accepted */
	const char *const	*extra_headers;	/* "Name: value", NULL-ended */
};

/*
 * The answer.  net_do() initialises it in every case, so it is always
 * safe (and required) to net_response_free() it afterwards.
 */
struct net_response {
	long		 status;	/* HTTP status; 0 if none arrived */
	struct buf	 body;		/* the body, owned by the response */
	char		 retry_after[NET_RETRY_AFTER_MAX]; /* raw, or "" */
	char		 error[NET_ERROR_MAX];	/* why it failed, or "" */
};

/* Initialise libcurl once per process, before any thread calls net_do().
 * 0, or KW_ERR_INTERNAL. */
int	 net_global_init(void);
/* Release what net_global_init() took; call once at exit. */
void	 net_global_cleanup(void);

/*
 * Perform rq and fill rs.  Returns 0 when an HTTP answer arrived, whatever
 * its status; KW_ERR_VALIDATION when the request is refused before any
 * network traffic (bad or non-loopback http:// URL, unknown method, CR/LF
 * in a header); KW_ERR_TOO_LARGE when the answer exceeds max_response;
 * KW_ERR_UPSTREAM on transport failure or timeout; KW_ERR_NOMEM.
 * On failure rs->error says why, without secrets.  Thread-safe as long as
 * net_global_init() was called first.
 */
int	 net_do(const struct net_request *rq, struct net_response *rs);

/* The seconds a Retry-After header of rs asks for (its delta-seconds
 * form), capped at max; -1 when there is none or it does not parse. */
long	 net_retry_after(const struct net_response *rs, long max);

/*
 * 1 if url is on the same origin as base: the same scheme, host (letter
 * case aside) and port (the scheme's default when none is written), and
 * url carries no user name or password; 0 otherwise, and for anything
 * that does not parse as an http(s) URL.  A string-prefix test is not
 * this: "https://x.zendesk.com" prefixes "https://x.zendesk.com.evil.test"
 * and "http://127.0.0.1:80" prefixes "http://127.0.0.1:8080".  Callers
 * use it before sending a credential to a URL an answer handed them.
 */
int	 net_same_origin(const char *base, const char *url);

/*
 * E-mail through SMTP, with the same discipline.  The URL says how:
 *   smtps://host[:465]  TLS from the first byte (implicit TLS);
 *   smtp://host[:587]   STARTTLS, required: a server that does not offer
 *                       it is refused before any credential or message
 *                       is sent (CURLUSESSL_ALL, not _TRY, which a
 *                       man in the middle could downgrade to plain text);
 *   smtp://loopback     plain SMTP allowed to 127.0.0.0/8 or ::1 only
 *                       (a local relay, tests), STARTTLS used if offered.
 * Certificates are verified as for https.  No user or password in the
 * URL; a path is the domain sent in EHLO.
 */
struct net_mail {
	const char	*url;		/* smtp:// or smtps:// */
	const char	*username;	/* NULL or "": no AUTH */
	const char	*password;	/* secret: never logged */
	const char	*from;		/* envelope sender (MAIL FROM) */
	const char	*to;		/* the one recipient (RCPT TO) */
	const char	*message;	/* the whole message, CRLF lines */
	size_t		 message_len;
	long		 timeout_ms;
	long		 connect_timeout_ms;
};

struct net_mail_result {
	long	code;		/* the last SMTP reply code; 0 if none */
	int	refused;	/* a 5xx to RCPT or to the message itself:
				   this message can never be delivered */
	char	error[NET_ERROR_MAX];	/* why, without secrets */
};

/* 0, or KW_ERR_VALIDATION (why in why[NET_ERROR_MAX]) when url is not an
 * smtp(s):// URL keywarden may use (see above). */
int	 net_smtp_url_check(const char *url, char *why, size_t whysz);

/*
 * Send m.  0 when the server accepted the message; KW_ERR_VALIDATION when
 * refused before any traffic (bad URL, CR/LF in an address);
 * KW_ERR_UPSTREAM when the server refused or could not be reached (res
 * says which: res->refused for a permanent refusal of this message;
 * otherwise a connection failure, a 4xx, an authentication or sender
 * problem, all worth retrying later).  Thread-safe after
 * net_global_init().
 */
int	 net_smtp_send(const struct net_mail *m, struct net_mail_result *res);

/* Wipe and release the body of rs; rs may be reused.  NULL ok. */
void	 net_response_free(struct net_response *rs);

#endif /* KW_NET_HTTP_H */
