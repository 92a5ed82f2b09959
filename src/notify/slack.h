/*
 * slack.h — everything keywarden knows about Slack: its settings (the
 * bot token and signing secret sealed at rest), the sender behind
 * notify_flush() (Web API DMs, the channel webhook, response_url
 * updates), and the pure checks the interactivity endpoint is built on
 * (request signatures, form decoding, the response_url allow-list).
 * Facts: shared/design/SLACK.md.
 */
#ifndef KW_NOTIFY_SLACK_H
#define KW_NOTIFY_SLACK_H

#include <stdarg.h>
#include <stddef.h>
#include <time.h>

#include "limits.h"

struct crypto_keys;
struct buf;
struct store;

#define SLACK_SETTING_KEY	"slack"
#define SLACK_SETTINGS_AD	"keywarden:settings:slack"
#define SLACK_API_DEFAULT	"https://slack.com/api"
#define SLACK_BOT_PREFIX	"xoxb-"

#define SLACK_TOKEN_MAX		255	/* bot token, bytes */
#define SLACK_SECRET_MAX	128	/* signing secret, bytes */
#define SLACK_VALUE_MAX		(2 * KW_URL_MAX + 256)	/* settings text */
#define SLACK_SEALED_MAX	(1024 + KW_SEAL_OVERHEAD)
#define SLACK_SIG_LEN		(3 + KW_HASH_HEX_LEN)	/* "v0=" + 64 hex digits */
#define SLACK_TS_MAX		15	/* digits of a request timestamp */
#define SLACK_SIG_WINDOW_S	300	/* request timestamp skew allowed */
#define SLACK_REPLAY_KEEP_S	600	/* signatures remembered */

/* Block Kit limits Slack enforces (it answers invalid_blocks beyond
 * them), and how much of one user-supplied field a message shows. */
#define SLACK_BLOCKS_MAX	50	/* blocks per message */
#define SLACK_SECTION_MAX	3000	/* characters of a section's text */
#define SLACK_FIELD_SHOWN_MAX	1000	/* bytes of a justification, use
					   case or comment in a message */

/* The outbox recipient of channel-webhook messages: a reference to the
 * sealed setting, resolved when the message is sent (the URL itself is a
 * secret and never stored in the outbox). */
#define SLACK_WEBHOOK_REF	"webhook"

/*
 * The Slack settings.  Stored as a text value {"api_base_url",
 * "webhook_url"|null, "updated_at"} and a sealed blob {"bot_token",
 * "signing_secret"} (associated data SLACK_SETTINGS_AD).  The secrets are
 * held here only while needed: slack_settings_wipe() after use.
 */
struct slack_settings {
	char	api_base_url[KW_URL_MAX + 1];	/* no trailing '/' */
	char	webhook_url[KW_URL_MAX + 1];	/* "" = none */
	char	updated_at[KW_TIME_LEN + 1];
	char	bot_token[SLACK_TOKEN_MAX + 1];		/* secret */
	char	signing_secret[SLACK_SECRET_MAX + 1];	/* secret */
};

/* Load and open the settings into *out (secrets included: wipe them).
 * KW_ERR_NOT_FOUND when Slack is not configured, KW_ERR_CRYPTO when the
 * sealed part does not open, KW_ERR_UNAVAILABLE (store). */
int	 slack_settings_load(const struct crypto_keys *keys,
	    struct store *st, struct slack_settings *out);
/* Seal and store s (updated_at included) in the caller's transaction.
 * 0, KW_ERR_TOO_LARGE, KW_ERR_CRYPTO or a store error. */
int	 slack_settings_save(const struct crypto_keys *keys,
	    struct store *st, const struct slack_settings *s);
/* Wipe the whole struct (secrets included); NULL ok. */
void	 slack_settings_wipe(struct slack_settings *s);

/* The X-Slack-Signature of body sent at ts (decimal seconds) under
 * secret: "v0=" + hex(HMAC-SHA256(secret, "v0:<ts>:<body>")) into
 * out[SLACK_SIG_LEN + 1].  0, KW_ERR_VALIDATION (ts not decimal) or
 * KW_ERR_CRYPTO. */
int	 slack_signature(const char *secret, const char *ts, const void *body,
	    size_t len, char out[SLACK_SIG_LEN + 1]);
/* Check a request's headers (either may be NULL) against its raw body:
 * a decimal timestamp within SLACK_SIG_WINDOW_S of now and a signature
 * equal, in constant time, to the expected one.  0 or
 * KW_ERR_UNAUTHENTICATED. */
int	 slack_verify(const char *secret, const char *ts, const char *sig,
	    const void *body, size_t len, time_t now);

/* The value of field key in an application/x-www-form-urlencoded body
 * ('+' is a space, %XX a byte), NUL-terminated into out[outsz].
 * 0, KW_ERR_NOT_FOUND, KW_ERR_VALIDATION (a bad escape, or %00), or
 * KW_ERR_TOO_LARGE. */
int	 slack_form_value(const char *body, size_t len, const char *key,
	    char *out, size_t outsz);

/*
 * Append to b the Slack mrkdwn text of fmt, where every string argument
 * is data, never markup: '&', '<' and '>' become &amp; &lt; &gt;, so a
 * user's "<!here>" or "<https://x|label>" shows as typed instead of
 * pinging a channel or forging a link.  Conversions: %s (escaped), %.*s
 * (escaped, at most the int precision of its bytes, cut on a UTF-8
 * character boundary, with "…" when cut; NULL shows as "-"), %d, %zu,
 * %lld and %%.  Anything else records KW_ERR_INTERNAL in b.  Every text
 * keywarden sends to Slack is built through this one function.
 */
int	 slack_mrkdwn_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 slack_mrkdwn_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* The length of the longest prefix of mrkdwn text s that is at most max
 * bytes and splits neither a UTF-8 character nor an &entity;. */
size_t	 slack_mrkdwn_cut(const char *s, size_t max);
/* 1 if error, an "error" code of the Web API (or the plain-text body of
 * a webhook's answer), means this message can never be delivered as it
 * is (invalid_blocks, user_not_found, ...): retrying cannot help. */
int	 slack_error_permanent(const char *error);

/* 1 if keywarden may POST to url as a response_url: https on
 * hooks.slack.com, or on the scheme://host[:port] of api_base_url (a
 * fake Slack on loopback in tests). */
int	 slack_response_url_ok(const char *url, const char *api_base_url);

#endif /* KW_NOTIFY_SLACK_H */
