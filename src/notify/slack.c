/*
 * slack.c — the Slack channel: its sealed settings, its notifier
 * (notifier_slack: a notice rendered as Block Kit, DMs, the channel
 * webhook, response_url updates), and the checks of Slack's signed
 * interactivity requests.  Every call goes through net_do() with a short
 * timeout; the bot token and message texts are never logged or stored
 * outside the outbox.  Facts: shared/design/SLACK.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "kw.h"
#include "log.h"
#include "crypto/crypto.h"
#include "net/http.h"
#include "notify/notify.h"
#include "notify/slack.h"
#include "util/buf.h"
#include "util/util.h"

#define SLACK_TIMEOUT_MS	5000L	/* each call, whole exchange */
#define SLACK_RESPONSE_MAX	(256 * 1024)
#define SLACK_RETRY_AFTER_MAX_S	86400
#define SLACK_URL_MAX		(KW_URL_MAX + 64)
#define SLACK_HOOKS_PREFIX	"https://hooks.slack.com/"

/* ---- settings ---------------------------------------------------------- */

void
slack_settings_wipe(struct slack_settings *s)
{
	if (s != NULL)
		kw_wipe(s, sizeof(*s));
}

/* Overwrite the text of the string member key of o in place (jansson
 * frees it without wiping). */
static void
json_wipe_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		kw_wipe((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
}

/* Copy the string member key of o into out; 0, or -1 if it is missing,
 * not a string or too long. */
int
slack_settings_load(const struct crypto_keys *keys, struct store *st,
    struct slack_settings *out)
{
	char		 value[SLACK_VALUE_MAX];
	unsigned char	 sealed[SLACK_SEALED_MAX], pt[SLACK_SEALED_MAX];
	size_t		 slen = 0, plen = 0;
	json_t		*o = NULL, *w, *sec = NULL;
	int		 r;

	memset(out, 0, sizeof(*out));
	if ((r = store_setting_get(st, SLACK_SETTING_KEY, value, sizeof(value),
	    sealed, sizeof(sealed), &slen)) != 0)
		return r;
	r = KW_ERR_CONFIG;
	if ((o = json_loads(value, 0, NULL)) == NULL ||
	    notify_setting_str(o, "api_base_url", out->api_base_url,
	    sizeof(out->api_base_url)) != 0)
		goto out;
	(void)notify_setting_str(o, "updated_at", out->updated_at,
	    sizeof(out->updated_at));
	if (slen == 0)
		goto out;
	if ((r = crypto_open(keys, SLACK_SETTINGS_AD, sealed, slen, pt,
	    sizeof(pt), &plen)) != 0)
		goto out;
	r = KW_ERR_CONFIG;
	if ((sec = json_loadb((const char *)pt, plen, 0, NULL)) == NULL ||
	    notify_setting_str(sec, "bot_token", out->bot_token,
	    sizeof(out->bot_token)) != 0 ||
	    notify_setting_str(sec, "signing_secret", out->signing_secret,
	    sizeof(out->signing_secret)) != 0)
		goto out;
	/* Slack treats an incoming-webhook URL as a secret: sealed too */
	w = json_object_get(sec, "webhook_url");
	if (w != NULL && !json_is_null(w) && notify_setting_str(sec,
	    "webhook_url", out->webhook_url, sizeof(out->webhook_url)) != 0)
		goto out;
	r = 0;
 out:
	if (sec != NULL) {
		json_wipe_str(sec, "bot_token");
		json_wipe_str(sec, "signing_secret");
		json_decref(sec);
	}
	kw_wipe(pt, sizeof(pt));
	json_decref(o);
	if (r != 0) {
		slack_settings_wipe(out);
		log_msg("error", "slack: the stored settings cannot be read "
		    "(%s); PUT /v1/settings/slack again", kw_strerror(r));
	}
	return r;
}

int
slack_settings_save(const struct crypto_keys *keys, struct store *st,
    const struct slack_settings *s)
{
	unsigned char	 sealed[SLACK_SEALED_MAX];
	size_t		 slen = 0;
	char		*value = NULL, *pt = NULL;
	json_t		*o, *sec;
	int		 r = KW_ERR_NOMEM;

	o = json_pack("{s:s, s:b, s:s}", "api_base_url", s->api_base_url,
	    "webhook_set", s->webhook_url[0] != '\0', "updated_at",
	    s->updated_at);
	sec = json_pack("{s:s, s:s, s:s?}", "bot_token", s->bot_token,
	    "signing_secret", s->signing_secret, "webhook_url",
	    s->webhook_url[0] ? s->webhook_url : NULL);
	if (o == NULL || sec == NULL ||
	    (value = json_dumps(o, JSON_COMPACT)) == NULL ||
	    (pt = json_dumps(sec, JSON_COMPACT)) == NULL)
		goto out;
	if (strlen(value) >= SLACK_VALUE_MAX) {
		r = KW_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = crypto_seal(keys, SLACK_SETTINGS_AD, pt, strlen(pt),
	    sealed, sizeof(sealed), &slen)) != 0)
		goto out;
	r = store_setting_put(st, SLACK_SETTING_KEY, value, sealed, slen,
	    s->updated_at);
 out:
	if (pt != NULL) {
		kw_wipe(pt, strlen(pt));
		free(pt);
	}
	if (sec != NULL) {
		json_wipe_str(sec, "bot_token");
		json_wipe_str(sec, "signing_secret");
		json_wipe_str(sec, "webhook_url");
		json_decref(sec);
	}
	free(value);
	json_decref(o);
	return r;
}

/* ---- signatures, forms, response URLs ---------------------------------- */

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* 1 if ts is 1..SLACK_TS_MAX decimal digits. */
static int
ts_ok(const char *ts)
{
	size_t n = ts ? strlen(ts) : 0;

	return n > 0 && n <= SLACK_TS_MAX && strspn(ts, "0123456789") == n;
}

int
slack_signature(const char *secret, const char *ts, const void *body,
    size_t len, char out[SLACK_SIG_LEN + 1])
{
	unsigned char	 mac[32];
	char		*base;
	size_t		 tlen;
	int		 r;

	out[0] = '\0';
	if (!ts_ok(ts))
		return KW_ERR_VALIDATION;
	/* "v0:" ts ":" body, the exact bytes Slack signed */
	tlen = strlen(ts);
	if (len > KW_BODY_MAX || (base = malloc(len + tlen + 5)) == NULL)
		return len > KW_BODY_MAX ? KW_ERR_TOO_LARGE : KW_ERR_NOMEM;
	memcpy(base, "v0:", 3);
	memcpy(base + 3, ts, tlen);
	base[3 + tlen] = ':';
	if (len > 0)
		memcpy(base + 4 + tlen, body, len);
	r = crypto_hmac_sha256(secret, strlen(secret), base, len + tlen + 4,
	    mac);
	free(base);
	if (r != 0)
		return r;
	memcpy(out, "v0=", 3);
	hex(mac, sizeof(mac), out + 3);
	kw_wipe(mac, sizeof(mac));
	return 0;
}

int
slack_verify(const char *secret, const char *ts, const char *sig,
    const void *body, size_t len, time_t now)
{
	char		 want[SLACK_SIG_LEN + 1];
	long long	 t;
	int		 ok;

	if (secret == NULL || secret[0] == '\0' || sig == NULL ||
	    !ts_ok(ts) || strlen(sig) != SLACK_SIG_LEN)
		return KW_ERR_UNAUTHENTICATED;
	t = strtoll(ts, NULL, 10);
	if (t < (long long)now - SLACK_SIG_WINDOW_S ||
	    t > (long long)now + SLACK_SIG_WINDOW_S)
		return KW_ERR_UNAUTHENTICATED;
	if (slack_signature(secret, ts, body, len, want) != 0)
		return KW_ERR_UNAUTHENTICATED;
	ok = crypto_eq(want, sig, SLACK_SIG_LEN);
	kw_wipe(want, sizeof(want));
	return ok ? 0 : KW_ERR_UNAUTHENTICATED;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the n form-encoded bytes at p into out[outsz]. */
static int
form_decode(const char *p, size_t n, char *out, size_t outsz)
{
	size_t	i, o = 0;
	int	hi, lo;
	char	c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n)
				return KW_ERR_VALIDATION;
			if ((hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0 || (hi | lo) == 0)
				return KW_ERR_VALIDATION;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '\0')
			return KW_ERR_VALIDATION;
		if (o + 1 >= outsz)
			return KW_ERR_TOO_LARGE;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
slack_form_value(const char *body, size_t len, const char *key, char *out,
    size_t outsz)
{
	char		 name[64];
	const char	*p = body, *end = body + len, *amp, *eq;
	int		 r;

	if (outsz == 0)
		return KW_ERR_TOO_LARGE;
	out[0] = '\0';
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		r = form_decode(p, (size_t)(eq - p), name, sizeof(name));
		if (r == KW_ERR_VALIDATION)
			return r;
		if (r == 0 && strcmp(name, key) == 0)
			return form_decode(eq < amp ? eq + 1 : amp,
			    (size_t)(amp - (eq < amp ? eq + 1 : amp)), out,
			    outsz);
		p = amp + 1;
	}
	return KW_ERR_NOT_FOUND;
}

/* The length of url's "scheme://host[:port]", or 0 if it has none. */
static size_t
origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

int
slack_response_url_ok(const char *url, const char *api_base_url)
{
	size_t n;

	if (url == NULL || !kw_valid_url(url, 1))
		return 0;
	if (strncmp(url, SLACK_HOOKS_PREFIX, strlen(SLACK_HOOKS_PREFIX)) == 0)
		return 1;
	if (api_base_url == NULL || !kw_valid_url(api_base_url, 1) ||
	    (n = origin_len(api_base_url)) == 0 || origin_len(url) != n)
		return 0;
	/* same scheme, host and port: the configured Slack (or its fake) */
	return strncasecmp(url, api_base_url, n) == 0 && url[n] == '/';
}

/* ---- mrkdwn text ------------------------------------------------------- */

/* Append the first n bytes of s with & < > escaped (Slack's rule). */
static void
mrkdwn_escape(struct buf *b, const char *s, size_t n)
{
	size_t i, from = 0;

	for (i = 0; i < n; i++) {
		const char *ent = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" :
		    s[i] == '>' ? "&gt;" : NULL;
		if (ent == NULL)
			continue;
		buf_add(b, s + from, i - from);
		buf_addstr(b, ent);
		from = i + 1;
	}
	buf_add(b, s + from, n - from);
}

int
slack_mrkdwn_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = slack_mrkdwn_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
slack_mrkdwn_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	const char	*p, *s;
	char		 num[32];
	size_t		 n;
	int		 prec;

	for (p = fmt; *p != '\0' && buf_err(b) == 0; p++) {
		if (*p != '%') {
			n = strcspn(p, "%");
			buf_add(b, p, n);
			p += n - 1;
			continue;
		}
		p++;
		if (*p == '%')
			buf_add(b, "%", 1);
		else if (*p == 's' || strncmp(p, ".*s", 3) == 0) {
			prec = -1;
			if (*p == '.') {
				prec = va_arg(ap, int);
				p += 2;
			}
			s = va_arg(ap, const char *);
			if (s == NULL)
				s = "-";
			n = strlen(s);
			if (prec >= 0 && n > (size_t)prec) {
				mrkdwn_escape(b, s, kw_utf8_cut(s,
				    (size_t)prec));
				buf_addstr(b, "\u2026");
			} else
				mrkdwn_escape(b, s, n);
		} else if (*p == 'd') {
			snprintf(num, sizeof(num), "%d", va_arg(ap, int));
			buf_addstr(b, num);
		} else if (strncmp(p, "zu", 2) == 0) {
			snprintf(num, sizeof(num), "%zu", va_arg(ap, size_t));
			buf_addstr(b, num);
			p++;
		} else if (strncmp(p, "lld", 3) == 0) {
			snprintf(num, sizeof(num), "%lld",
			    va_arg(ap, long long));
			buf_addstr(b, num);
			p += 2;
		} else {
			if (b->err == 0)
				b->err = KW_ERR_INTERNAL;
			break;
		}
	}
	return buf_err(b);
}

size_t
slack_mrkdwn_cut(const char *s, size_t max)
{
	size_t n = kw_utf8_cut(s, max), i;

	/* an '&' with no ';' after it inside the kept part starts an
	 * entity the cut would split (entities are at most 5 bytes) */
	for (i = n > 5 ? n - 5 : 0; i < n; i++)
		if (s[i] == '&' && memchr(s + i, ';', n - i) == NULL)
			return i;
	return n;
}

int
slack_error_permanent(const char *error)
{
	/* the message itself or its addressee is refused; the token-level
	 * errors (invalid_auth, token_revoked, ...) are not listed: they
	 * hold every message until an admin fixes the settings */
	static const char *const permanent[] = {
		"invalid_blocks", "invalid_blocks_format", "msg_too_long",
		"invalid_arguments", "invalid_array_arg", "invalid_json",
		"json_not_object", "invalid_form_data", "no_text",
		"too_many_attachments", "too_many_blocks",
		"channel_not_found", "user_not_found", "user_disabled",
		"cannot_dm_bot", "is_archived", "channel_is_archived",
		"not_in_channel", "restricted_action", "invalid_payload",
		"no_service", "no_active_hooks", "expired_url", "used_url",
		"unknown_method",
	};
	size_t i;

	if (error == NULL)
		return 0;
	for (i = 0; i < KW_NELEM(permanent); i++)
		if (strcmp(error, permanent[i]) == 0)
			return 1;
	return 0;
}

/* ---- rendering a notice ------------------------------------------------ */

#define SLACK_TEXT_MAX	(32 * 1024)	/* one message's text, bytes */

/* A section block of mrkdwn text, cut (between characters and entities,
 * "…" marking the cut) to what Slack accepts in one section.  NULL if it
 * cannot be built. */
static json_t *
section(const char *mrkdwn)
{
	char	*cut;
	size_t	 n = strlen(mrkdwn);
	json_t	*o;

	if (n <= SLACK_SECTION_MAX)
		return json_pack("{s:s, s:{s:s, s:s}}", "type", "section",
		    "text", "type", "mrkdwn", "text", mrkdwn);
	/* bytes >= characters: SLACK_SECTION_MAX - 3 bytes and "…" fit */
	n = slack_mrkdwn_cut(mrkdwn, SLACK_SECTION_MAX - 3);
	if ((cut = malloc(n + 4)) == NULL)
		return NULL;
	memcpy(cut, mrkdwn, n);
	memcpy(cut + n, "\u2026", 4);
	o = json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
	    "type", "mrkdwn", "text", cut);
	free(cut);
	return o;
}

static json_t *
button(const char *label, const char *action, const char *value,
    const char *url, const char *style)
{
	json_t *b = json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "button",
	    "text", "type", "plain_text", "text", label, "action_id", action);

	if (b == NULL)
		return NULL;
	if (value != NULL)
		json_object_set_new(b, "value", json_string(value));
	if (url != NULL)
		json_object_set_new(b, "url", json_string(url));
	if (style != NULL)
		json_object_set_new(b, "style", json_string(style));
	return b;
}

static const char *
nstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* Append the escaped section text t to blocks; -1 on failure. */
static int
add_section(json_t *blocks, struct buf *t)
{
	int r = -1;

	if (buf_err(t) == 0 &&
	    json_array_append_new(blocks, section(buf_str(t))) == 0)
		r = 0;
	buf_free(t);
	return r;
}

/*
 * A notice as a Slack message: the lead, one section per field ("*Why:*
 * ..."), one per list item (past SLACK_BLOCKS_MAX, a last one counting
 * the rest and saying where they are), and for a decision the Approve /
 * Deny / Open buttons.  Every user string goes through
 * slack_mrkdwn_printf.  NULL if it cannot be built.
 */
static json_t *
slack_render(const json_t *n)
{
	struct buf	 t, text;
	json_t		*blocks, *fields, *items, *f, *acts;
	size_t		 i, cnt, shown;
	const char	*decide = json_string_value(json_object_get(n,
			    "decide"));

	buf_init(&text, SLACK_TEXT_MAX);
	if ((blocks = json_array()) == NULL)
		return NULL;
	buf_init(&t, SLACK_TEXT_MAX);
	slack_mrkdwn_printf(&t, "%s", nstr(n, "lead"));
	slack_mrkdwn_printf(&text, "%s", nstr(n, "lead"));
	if (add_section(blocks, &t) != 0)
		goto fail;
	fields = json_object_get(n, "fields");
	json_array_foreach(fields, i, f) {
		buf_init(&t, SLACK_TEXT_MAX);
		slack_mrkdwn_printf(&t, "*%s:* %.*s", nstr(f, "label"),
		    SLACK_FIELD_SHOWN_MAX, nstr(f, "value"));
		buf_printf(&text, "\n%s", buf_str(&t));
		if (add_section(blocks, &t) != 0)
			goto fail;
	}
	items = json_object_get(n, "items");
	cnt = shown = json_array_size(items);
	if (shown > SLACK_BLOCKS_MAX - 1 - json_array_size(fields))
		shown = SLACK_BLOCKS_MAX - 2 - json_array_size(fields);
	for (i = 0; i < shown; i++) {
		buf_init(&t, SLACK_TEXT_MAX);
		slack_mrkdwn_printf(&t, "\u2022 %s", json_string_value(
		    json_array_get(items, i)));
		if (add_section(blocks, &t) != 0)
			goto fail;
	}
	if (shown < cnt) {
		buf_init(&t, SLACK_TEXT_MAX);
		slack_mrkdwn_printf(&t, "\u2026 and %zu more: see them all in "
		    "keywarden, %s", cnt - shown, nstr(n, "more"));
		if (add_section(blocks, &t) != 0)
			goto fail;
	}
	if (decide != NULL) {
		acts = json_pack("{s:s, s:[o, o, o]}", "type", "actions",
		    "elements", button("Approve", "approve", decide, NULL,
		    "primary"), button("Deny", "deny", decide, NULL, "danger"),
		    button(nstr(n, "link_label"), "open", NULL, nstr(n, "link"),
		    NULL));
		if (json_array_append_new(blocks, acts) != 0)
			goto fail;
	}
	if (buf_err(&text) != 0)
		goto fail;
	f = json_pack("{s:s, s:o}", "text", buf_str(&text), "blocks", blocks);
	buf_free(&text);
	return f;
 fail:
	buf_free(&text);
	json_decref(blocks);
	return NULL;
}

/* ---- the sender -------------------------------------------------------- */

enum dest { DEST_API, DEST_WEBHOOK, DEST_RESPONSE };

/* A short, printable excerpt of text from the other side (an error
 * code, never a whole body) into out[outsz]. */
static void
excerpt(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < outsz && o < 64; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_-. :", s[i]) != NULL && s[i] != '\0')
			out[o++] = s[i];
	out[o] = '\0';
}

/* POST body (consumed) as JSON to url; the answer is left in rs.  Fills
 * a with the transport-level verdict when no HTTP answer arrived. */
static int
post_json(const char *url, const char *bearer, json_t *body,
    struct net_response *rs, struct notify_attempt *a)
{
	struct net_request	 rq;
	char			*text;
	int			 r;

	memset(rs, 0, sizeof(*rs));
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return KW_ERR_NOMEM;
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = url;
	rq.bearer = bearer;
	rq.content_type = "application/json; charset=utf-8";
	rq.body = text;
	rq.body_len = strlen(text);
	rq.timeout_ms = SLACK_TIMEOUT_MS;
	rq.connect_timeout_ms = SLACK_TIMEOUT_MS;
	rq.max_response = SLACK_RESPONSE_MAX;
	r = net_do(&rq, rs);
	kw_wipe(text, strlen(text));
	free(text);
	if (r == KW_ERR_UPSTREAM || r == KW_ERR_TOO_LARGE) {
		a->hold = 1;
		snprintf(a->error, sizeof(a->error), "no answer: %.150s",
		    rs->error[0] ? rs->error : kw_strerror(r));
	} else if (r != 0) {
		a->hold = r == KW_ERR_VALIDATION;
		snprintf(a->error, sizeof(a->error), "not sent: %.150s",
		    rs->error[0] ? rs->error : kw_strerror(r));
	}
	return r;
}

/* The verdict on an HTTP answer that is not a success. */
static void
http_trouble(const struct net_response *rs, struct notify_attempt *a)
{
	char e[80];

	excerpt(buf_str(&rs->body), rs->body.len, e, sizeof(e));
	if (rs->status == 429) {
		a->hold = 1;
		a->retry_after = net_retry_after(rs, SLACK_RETRY_AFTER_MAX_S);
		snprintf(a->error, sizeof(a->error), "rate limited (HTTP 429, "
		    "Retry-After %s)", rs->retry_after[0] ? rs->retry_after :
		    "none");
		return;
	}
	a->hold = rs->status >= 500 || rs->status == 401 || rs->status == 403;
	snprintf(a->error, sizeof(a->error), "HTTP %ld%s%s", rs->status,
	    e[0] ? ": " : "", e);
}

/*
 * One Web API method.  0 with the answer in *ans (may be NULL) when
 * Slack said ok; otherwise a is filled.  Auth errors put the whole API
 * on hold (every message would fail the same way).
 */
static int
api_call(const struct slack_settings *s, const char *method, json_t *body,
    json_t **ans, struct notify_attempt *a)
{
	static const char *const fatal[] = { "not_authed", "invalid_auth",
	    "token_revoked", "account_inactive", "missing_scope",
	    "not_allowed_token_type", "ratelimited", NULL };
	struct net_response	 rs;
	char			 url[SLACK_URL_MAX];
	const char		*err;
	json_t			*o;
	size_t			 i;
	int			 r;

	if (ans != NULL)
		*ans = NULL;
	snprintf(url, sizeof(url), "%s/%s", s->api_base_url, method);
	if ((r = post_json(url, s->bot_token, body, &rs, a)) != 0)
		goto out;
	r = KW_ERR_UPSTREAM;
	if (rs.status != 200) {
		http_trouble(&rs, a);
		goto out;
	}
	o = json_loadb(buf_str(&rs.body), rs.body.len, 0, NULL);
	if (!json_is_true(json_object_get(o, "ok"))) {
		err = json_string_value(json_object_get(o, "error"));
		excerpt(err ? err : "malformed answer", err ? strlen(err) : 16,
		    a->error, sizeof(a->error));
		for (i = 0; err != NULL && fatal[i] != NULL; i++)
			if (strcmp(err, fatal[i]) == 0)
				a->hold = 1;
		a->permanent = slack_error_permanent(err);
		json_decref(o);
		goto out;
	}
	if (ans != NULL)
		*ans = o;
	else
		json_decref(o);
	r = 0;
 out:
	net_response_free(&rs);
	return r;
}

/* A DM: open the conversation with the user, then post into it. */
static void
send_dm(const struct slack_settings *s, const struct outbox_msg *m,
    json_t *payload, struct notify_attempt *a)
{
	json_t		*ans, *post;
	const char	*chan;
	char		 what[NOTIFY_ERROR_MAX];

	if (api_call(s, "conversations.open", json_pack("{s:s}", "users",
	    m->recipient), &ans, a) != 0) {
		kw_strlcpy(what, a->error, sizeof(what));
		snprintf(a->error, sizeof(a->error), "conversations.open: %.150s",
		    what);
		return;
	}
	chan = json_string_value(json_object_get(json_object_get(ans,
	    "channel"), "id"));
	if (chan == NULL || (post = json_deep_copy(payload)) == NULL) {
		snprintf(a->error, sizeof(a->error), "conversations.open: "
		    "no channel id in the answer");
		json_decref(ans);
		return;
	}
	json_object_set_new(post, "channel", json_string(chan));
	json_decref(ans);
	if (api_call(s, "chat.postMessage", post, NULL, a) != 0) {
		kw_strlcpy(what, a->error, sizeof(what));
		snprintf(a->error, sizeof(a->error), "chat.postMessage: %.150s",
		    what);
		return;
	}
	a->sent = 1;
}

/*
 * The channel webhook or a response_url: a plain POST of the payload.
 * A webhook message names the setting (SLACK_WEBHOOK_REF); its sealed
 * URL is looked up now, from the settings this run opened.
 */
static void
send_url(const struct slack_settings *s, const struct outbox_msg *m,
    json_t *payload, struct notify_attempt *a, enum dest d)
{
	struct net_response	 rs;
	const char		*url = m->recipient;
	json_t			*o;

	if (d == DEST_WEBHOOK) {
		if (strcmp(m->recipient, SLACK_WEBHOOK_REF) != 0) {
			a->permanent = 1;
			snprintf(a->error, sizeof(a->error), "unknown webhook "
			    "reference");
			return;
		}
		if (s->webhook_url[0] == '\0') {
			a->permanent = 1;
			snprintf(a->error, sizeof(a->error), "no channel "
			    "webhook is configured any more");
			return;
		}
		url = s->webhook_url;
	}
	if (d == DEST_RESPONSE ? !slack_response_url_ok(url,
	    s->api_base_url) : !kw_valid_url(url, 1)) {
		a->permanent = 1;
		snprintf(a->error, sizeof(a->error), "the %s URL is not "
		    "allowed", d == DEST_RESPONSE ? "response" : "webhook");
		return;
	}
	if (post_json(url, NULL, json_incref(payload), &rs, a) != 0)
		goto out;
	if (rs.status < 200 || rs.status > 299 ||
	    (d == DEST_WEBHOOK && rs.status != 200)) {
		http_trouble(&rs, a);
		/* the payload was refused, or the hook or response URL is
		 * gone (a response_url lives 30 minutes) */
		if (rs.status == 400 || rs.status == 404 || rs.status == 410) {
			a->permanent = 1;
			a->hold = 0;
		}
		goto out;
	}
	/* a response_url may say {"ok": false, "error": ...} with 200 */
	o = json_loadb(buf_str(&rs.body), rs.body.len, 0, NULL);
	if (json_is_false(json_object_get(o, "ok"))) {
		const char *e = json_string_value(json_object_get(o, "error"));
		excerpt(e ? e : "not ok", e ? strlen(e) : 6, a->error,
		    sizeof(a->error));
	} else
		a->sent = 1;
	json_decref(o);
 out:
	net_response_free(&rs);
}

/* ---- the notifier ------------------------------------------------------ */

/* The settings of one run, as notify.c loads them. */
static int
slack_load(const struct crypto_keys *keys, struct store *st, void *out)
{
	return slack_settings_load(keys, st, out);
}

static void
slack_wipe(void *s)
{
	slack_settings_wipe(s);
}

static int
slack_address(const struct person *p, char *out, size_t outsz)
{
	if (p->slack_user_id[0] == '\0')
		return -1;
	kw_strlcpy(out, p->slack_user_id, outsz);
	return 0;
}

static void
slack_send(const void *ctx, const struct outbox_msg *m, json_t *payload,
    struct notify_attempt *a)
{
	const struct slack_settings *s = ctx;

	if (strcmp(m->channel, "slack_dm") == 0)
		send_dm(s, m, payload, a);
	else
		send_url(s, m, payload, a, strcmp(m->channel, "webhook") == 0 ?
		    DEST_WEBHOOK : DEST_RESPONSE);
}

const struct notifier_ops notifier_slack = {
	.name = "slack",
	.channel = "slack_dm",
	.settings_size = sizeof(struct slack_settings),
	.load = slack_load,
	.wipe = slack_wipe,
	.address = slack_address,
	.render = slack_render,
	.send = slack_send,
};
