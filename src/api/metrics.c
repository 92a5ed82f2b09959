/*
 * metrics.c — GET /metrics: the Prometheus text page.  Open to loopback
 * clients (a local agent); from elsewhere it needs the bearer token of
 * metrics_token_file, compared in constant time.  The client is the one
 * the request comes from, through trusted proxies too: a proxy on
 * loopback does not open the page to the world.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kw.h"
#include "api/api.h"
#include "crypto/crypto.h"
#include "metrics/metrics.h"
#include "util/addr.h"
#include "util/util.h"

/* 1 if the Authorization header carries the metrics token. */
static int
token_ok(const struct app *app, const char *auth)
{
	char	a[KW_HASH_HEX_LEN + 1], b[KW_HASH_HEX_LEN + 1];
	int	ok;

	if (app->metrics_token[0] == '\0' || auth == NULL ||
	    strncasecmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	while (*auth == ' ')
		auth++;
	/* equal-length digests: the comparison says nothing of the length */
	crypto_sha256_hex(auth, strlen(auth), a);
	crypto_sha256_hex(app->metrics_token, strlen(app->metrics_token), b);
	ok = crypto_eq(a, b, KW_HASH_HEX_LEN);
	kw_wipe(a, sizeof(a));
	kw_wipe(b, sizeof(b));
	return ok;
}

int
api_metrics(struct http_req *rq, struct http_resp *rs)
{
	struct app		*app = rq->app;
	struct metrics_store	 ms;
	struct store		*st;
	struct buf		 b;

	if (!addr_is_loopback(rq->remote) && !token_ok(app,
	    rq->authorization)) {
		if (app->metrics_token[0] == '\0')
			return http_fail(rq, KW_ERR_FORBIDDEN, NULL, "metrics "
			    "are served to loopback clients only; set "
			    "metrics_token_file to open them to a scraper");
		return http_fail(rq, KW_ERR_UNAUTHENTICATED, NULL, "send "
		    "'Authorization: Bearer <the metrics token>'");
	}
	memset(&ms, 0, sizeof(ms));
	ms.now = (int64_t)kw_now();
	ms.ok = (st = api_store(rq)) != NULL && store_stats(st, &ms.st) == 0;
	buf_init(&b, KW_METRICS_BODY_MAX);
	if (metrics_render(&b, &ms) != 0) {
		buf_free(&b);
		return http_fail(rq, KW_ERR_INTERNAL, NULL,
		    "the metrics page is larger than %d bytes",
		    KW_METRICS_BODY_MAX);
	}
	rs->text = buf_detach(&b, NULL);
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return rs->text != NULL ? 0 : KW_ERR_NOMEM;
}
