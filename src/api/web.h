/*
 * web.h — the web UI: the files of web/, embedded in the binary at build
 * time (tools/webembed writes build/gen/web_assets.c), and the handlers
 * that serve them on the API's listener.
 */
#ifndef KW_API_WEB_H
#define KW_API_WEB_H

#include <stddef.h>

#include "http/http.h"

/* One embedded file of web/. */
struct web_asset {
	const char		*name;		/* base name: "app.js" */
	const char		*type;		/* Content-Type */
	const unsigned char	*data;
	size_t			 len;
};

/* The generated table (build/gen/web_assets.c). */
extern const char			 web_build_id[];
extern const struct web_asset		 web_assets[];
extern const size_t			 web_nassets;
extern const struct web_asset *const	 web_shell;	/* index.html */

/* 1 if an Accept header value (NULL: none) prefers HTML to JSON: it
 * names text/html, not refused with q=0, before application/json or
 * without it.  A browser's page load does; API clients do not. */
int	 web_accept_html(const char *accept);
/* web_accept_html of rq's Accept header. */
int	 web_wants_html(const struct http_req *rq);

/* GET /static/{build}/{file}: an embedded file, cached for good. */
int	 web_static(struct http_req *, struct http_resp *);
/* GET / and the UI's own pages (/requests, /new, ...): the app shell for
 * a browser; 404 for other clients, as before the UI existed. */
int	 web_page(struct http_req *, struct http_resp *);
/* GET /requests/{id}, /credentials/{id}: the shell for a browser, the
 * JSON landing answer (api_landing) for everyone else. */
int	 web_landing(struct http_req *, struct http_resp *);
/* GET /ui/config: what the sign-in page needs to know before anyone is
 * signed in (whether single sign-on is configured). */
int	 web_config(struct http_req *, struct http_resp *);

#endif /* KW_API_WEB_H */
