/*
 * email.c — the e-mail channel.  Settings: the SMTP URL, sender and user
 * name in the clear, the password sealed (crypto_seal) and unsealed only
 * for a send.  Notices become plain-text UTF-8 messages, quoted-printable
 * encoded; the outbox holds the subject and body (never a secret, never
 * the password) and the person's address; headers are built at send time
 * by email_message(), where no user text can add a header line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "log.h"
#include "crypto/crypto.h"
#include "net/http.h"
#include "notify/email.h"
#include "notify/notify.h"
#include "util/buf.h"
#include "util/util.h"

#define EMAIL_TIMEOUT_MS	20000L	/* one whole SMTP exchange */
#define EMAIL_QP_LINE		76	/* RFC 2045: encoded line length */
#define EMAIL_WORD_IN		55	/* encoded characters per word */
#define EMAIL_BODY_MAX		(64 * 1024)	/* body before encoding */

/* ---- settings ---------------------------------------------------------- */

void
email_settings_wipe(struct email_settings *s)
{
	if (s != NULL)
		kw_wipe(s, sizeof(*s));
}

/* Copy string member key of o into out; -1 if missing or too long. */
int
email_settings_load(const struct crypto_keys *keys, struct store *st,
    struct email_settings *out)
{
	char		 value[EMAIL_VALUE_MAX];
	unsigned char	 sealed[EMAIL_SEALED_MAX], pt[EMAIL_SEALED_MAX];
	size_t		 slen = 0, plen = 0;
	json_t		*o = NULL, *sec = NULL, *pw;
	int		 r;

	memset(out, 0, sizeof(*out));
	if ((r = store_setting_get(st, EMAIL_SETTING_KEY, value, sizeof(value),
	    sealed, sizeof(sealed), &slen)) != 0)
		return r;
	r = KW_ERR_CONFIG;
	if ((o = json_loads(value, 0, NULL)) == NULL ||
	    notify_setting_str(o, "smtp_url", out->smtp_url,
	    sizeof(out->smtp_url)) != 0 ||
	    notify_setting_str(o, "from", out->from, sizeof(out->from)) != 0 ||
	    notify_setting_str(o, "username", out->username,
	    sizeof(out->username)) != 0)
		goto out;
	(void)notify_setting_str(o, "updated_at", out->updated_at,
	    sizeof(out->updated_at));
	r = 0;
	if (slen == 0)
		goto out;
	if ((r = crypto_open(keys, EMAIL_SETTINGS_AD, sealed, slen, pt,
	    sizeof(pt), &plen)) != 0)
		goto out;
	r = KW_ERR_CONFIG;
	if ((sec = json_loadb((const char *)pt, plen, 0, NULL)) == NULL ||
	    (pw = json_object_get(sec, "password")) == NULL ||
	    notify_setting_str(sec, "password", out->password,
	    sizeof(out->password)) != 0)
		goto out;
	kw_wipe((char *)(uintptr_t)json_string_value(pw),
	    json_string_length(pw));
	r = 0;
 out:
	json_decref(sec);
	kw_wipe(pt, sizeof(pt));
	json_decref(o);
	if (r != 0) {
		email_settings_wipe(out);
		if (r != KW_ERR_NOT_FOUND)
			log_msg("error", "email: the stored settings cannot be "
			    "read (%s); PUT /v1/settings/email again",
			    kw_strerror(r));
	}
	return r;
}

int
email_settings_save(const struct crypto_keys *keys, struct store *st,
    const struct email_settings *s)
{
	unsigned char	 sealed[EMAIL_SEALED_MAX];
	size_t		 slen = 0;
	char		*value = NULL, *pt = NULL;
	json_t		*o, *sec = NULL, *pw;
	int		 r = KW_ERR_NOMEM;

	o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "smtp_url", s->smtp_url,
	    "from", s->from, "username", s->username, "password_set",
	    s->password[0] != '\0', "updated_at", s->updated_at);
	if (o == NULL || (value = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	if (strlen(value) >= EMAIL_VALUE_MAX) {
		r = KW_ERR_TOO_LARGE;
		goto out;
	}
	if (s->password[0] != '\0') {
		if ((sec = json_pack("{s:s}", "password", s->password)) ==
		    NULL || (pt = json_dumps(sec, JSON_COMPACT)) == NULL)
			goto out;
		if ((r = crypto_seal(keys, EMAIL_SETTINGS_AD, pt,
		    strlen(pt), sealed, sizeof(sealed), &slen)) != 0)
			goto out;
	}
	r = store_setting_put(st, EMAIL_SETTING_KEY, value, sealed, slen,
	    s->updated_at);
 out:
	if (pt != NULL) {
		kw_wipe(pt, strlen(pt));
		free(pt);
	}
	if (sec != NULL && (pw = json_object_get(sec, "password")) != NULL)
		kw_wipe((char *)(uintptr_t)json_string_value(pw),
		    json_string_length(pw));
	json_decref(sec);
	free(value);
	json_decref(o);
	return r;
}

/* ---- the message ------------------------------------------------------- */

/* 1 if s may stand in a header as an address. */
static int
addr_ok(const char *s)
{
	return s != NULL && kw_valid_email(s) &&
	    strpbrk(s, "\r\n<>\"(),;:\\ \t") == NULL;
}

/* The subject as one header value: controls (CR, LF, tabs...) become
 * spaces, so no user text can end the header; into out[outsz]. */
static void
subject_clean(const char *s, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 1 < outsz && i < EMAIL_SUBJECT_MAX;
	    i++)
		out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' :
		    s[i];
	/* cut short inside a character: drop its first bytes too */
	if (s[i] != '\0' && ((unsigned char)s[i] & 0xc0) == 0x80) {
		while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0)
			o--;
	}
	out[o] = '\0';
}

/* The Q encoding of byte c (RFC 2047 4.2) into out; its length. */
static size_t
q_byte(unsigned char c, char out[3])
{
	static const char hexd[] = "0123456789ABCDEF";

	if (c == ' ') {
		out[0] = '_';
		return 1;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!*+-/", c) != NULL) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '=';
	out[1] = hexd[c >> 4];
	out[2] = hexd[c & 15];
	return 3;
}

/* Append "Subject: ..." with RFC 2047 Q-encoded words when s is not
 * plain printable ASCII; each word holds whole UTF-8 characters and at
 * most EMAIL_WORD_IN encoded characters, so every line stays within 78. */
static void
subject_header(struct buf *b, const char *s)
{
	size_t		 i, j, n = strlen(s), used = 0, clen, elen;
	char		 enc[4 * 3], one[3];
	int		 ascii = 1;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x7f || s[i] == '=' ||
		    (s[i] == '?' && s[i + 1] == '='))
			ascii = 0;
	if (ascii) {
		buf_printf(b, "Subject: %s\r\n", s);
		return;
	}
	buf_addstr(b, "Subject: =?UTF-8?Q?");
	for (i = 0; i < n; i += clen) {
		/* one whole character, encoded */
		for (clen = 1; clen < 4 && i + clen < n &&
		    ((unsigned char)s[i + clen] & 0xc0) == 0x80; clen++)
			;
		for (j = 0, elen = 0; j < clen; j++) {
			size_t k = q_byte((unsigned char)s[i + j], one);
			memcpy(enc + elen, one, k);
			elen += k;
		}
		if (used + elen > EMAIL_WORD_IN) {
			buf_addstr(b, "?=\r\n =?UTF-8?Q?");
			used = 0;
		}
		buf_add(b, enc, elen);
		used += elen;
	}
	buf_addstr(b, "?=\r\n");
}

/* Append body, "\n" lines, quoted-printable with CRLF line ends. */
static void
qp_body(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t		 col = 0;
	unsigned char	 c;
	char		 e[3];
	int		 lit;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '\r')
			continue;
		if (c == '\n') {
			buf_addstr(b, "\r\n");
			col = 0;
			continue;
		}
		/* literal: printable ASCII but '='; a space or tab only if
		 * not at the end of a line; a '.' never first on a line */
		lit = (c >= 33 && c <= 126 && c != '=' &&
		    !(c == '.' && col == 0)) ||
		    ((c == ' ' || c == '\t') && s[1] != '\n' && s[1] != '\0' &&
		    s[1] != '\r');
		if (col + (lit ? 1 : 3) > EMAIL_QP_LINE - 1) {
			buf_addstr(b, "=\r\n");		/* soft break */
			col = 0;
			if (c == '.')
				lit = 0;
		}
		if (lit) {
			buf_add(b, s, 1);
			col++;
		} else {
			e[0] = '=';
			e[1] = hexd[c >> 4];
			e[2] = hexd[c & 15];
			buf_add(b, e, 3);
			col += 3;
		}
	}
	if (col > 0)
		buf_addstr(b, "\r\n");
}

int
email_message(struct buf *out, const char *from, const char *to,
    const char *subject, const char *body, time_t at, const char *token)
{
	char		 subj[EMAIL_SUBJECT_MAX + 1], date[64];
	const char	*domain;
	struct tm	 tm;

	if (!addr_ok(from) || !addr_ok(to) || token == NULL ||
	    strspn(token, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
	    strlen(token) || token[0] == '\0')
		return KW_ERR_VALIDATION;
	domain = strchr(from, '@') + 1;
	subject_clean(subject, subj, sizeof(subj));
	gmtime_r(&at, &tm);
	/* RFC 5322 date, in English whatever the locale */
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    (const char *[]){ "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
	    "Sat" }[tm.tm_wday], tm.tm_mday, (const char *[]){ "Jan", "Feb",
	    "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
	    "Dec" }[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	buf_printf(out, "From: keywarden <%s>\r\nTo: <%s>\r\n", from, to);
	subject_header(out, subj);
	buf_printf(out, "Date: %s\r\nMessage-ID: <%s@%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n", date, token, domain);
	qp_body(out, body);
	return buf_err(out);
}

/* ---- the notifier ------------------------------------------------------ */

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/*
 * A notice as {"subject", "body", "at", "token"}: the lead, the fields
 * as "Label: value" lines, the list, the link; for a decision, how to
 * decide.  Plain text, no markup to escape.
 */
static json_t *
email_render(const json_t *n)
{
	struct buf	 b;
	char		 token[KW_ID_MAX + 1], at[KW_TIME_LEN + 1];
	json_t		*v, *o = NULL;
	size_t		 i;

	buf_init(&b, EMAIL_BODY_MAX);
	buf_printf(&b, "%s\n", jstr(n, "lead"));
	if (json_array_size(json_object_get(n, "fields")) > 0)
		buf_addstr(&b, "\n");
	json_array_foreach(json_object_get(n, "fields"), i, v)
		buf_printf(&b, "%s: %s\n", jstr(v, "label"), jstr(v, "value"));
	if (json_array_size(json_object_get(n, "items")) > 0)
		buf_addstr(&b, "\n");
	json_array_foreach(json_object_get(n, "items"), i, v)
		buf_printf(&b, " - %s\n", json_string_value(v));
	if (json_object_get(n, "decide") != NULL)
		buf_printf(&b, "\nApprove or deny it in keywarden: %s\nor with: "
		    "keywarden request approve %s / keywarden request deny %s "
		    "--comment ...\n", jstr(n, "link"), jstr(n, "decide"),
		    jstr(n, "decide"));
	else if (json_object_get(n, "link") != NULL)
		buf_printf(&b, "\n%s: %s\n", jstr(n, "link_label"),
		    jstr(n, "link"));
	buf_addstr(&b, "\n-- \nkeywarden: this message holds no secret; "
	    "never reply with one.\n");
	crypto_random_id("kw_", token, sizeof(token));
	kw_time_fmt(kw_now(), at, sizeof(at));
	if (buf_err(&b) == 0)
		o = json_pack("{s:s, s:s, s:s, s:s}", "subject", jstr(n,
		    "subject"), "body", buf_str(&b), "at", at, "token", token);
	buf_free(&b);
	return o;
}

/* The settings of one run, as notify.c loads them. */
static int
email_load(const struct crypto_keys *keys, struct store *st, void *out)
{
	return email_settings_load(keys, st, out);
}

static void
email_wipe(void *s)
{
	email_settings_wipe(s);
}

static int
email_address(const struct person *p, char *out, size_t outsz)
{
	if (!addr_ok(p->email))
		return -1;
	kw_strlcpy(out, p->email, outsz);
	return 0;
}

/*
 * Build the message and hand it to the SMTP server.  A 5xx to the
 * recipient (or to the message) fails it for good; no connection, a 4xx,
 * or a refused login or sender (a settings problem: every message would
 * fail alike) holds the channel and retries with backoff.
 */
static void
email_send(const void *ctx, const struct outbox_msg *m, json_t *payload,
    struct notify_attempt *a)
{
	const struct email_settings	*s = ctx;
	struct net_mail			 mail;
	struct net_mail_result		 res;
	struct buf			 msg;
	time_t				 at;
	int				 r;

	buf_init(&msg, EMAIL_MESSAGE_MAX);
	if (kw_time_parse(jstr(payload, "at"), &at) != 0)
		at = kw_now();
	if (email_message(&msg, s->from, m->recipient, jstr(payload,
	    "subject"), jstr(payload, "body"), at, jstr(payload, "token"))
	    != 0) {
		a->permanent = 1;
		snprintf(a->error, sizeof(a->error), "the message cannot be "
		    "built (sender or recipient address unusable)");
		goto out;
	}
	memset(&mail, 0, sizeof(mail));
	mail.url = s->smtp_url;
	mail.username = s->username;
	mail.password = s->password;
	mail.from = s->from;
	mail.to = m->recipient;
	mail.message = buf_str(&msg);
	mail.message_len = msg.len;
	mail.timeout_ms = EMAIL_TIMEOUT_MS;
	mail.connect_timeout_ms = EMAIL_TIMEOUT_MS / 2;
	if ((r = net_smtp_send(&mail, &res)) == 0) {
		a->sent = 1;
		goto out;
	}
	snprintf(a->error, sizeof(a->error), "SMTP%s%.0ld: %.150s",
	    res.code ? " " : "", res.code, res.error);
	if (r == KW_ERR_VALIDATION || res.refused)
		a->permanent = 1;
	else
		a->hold = res.code == 0 || res.code == 421 || res.code >= 500;
 out:
	buf_free(&msg);
}

const struct notifier_ops notifier_email = {
	.name = "email",
	.channel = "email",
	.settings_size = sizeof(struct email_settings),
	.load = email_load,
	.wipe = email_wipe,
	.address = email_address,
	.render = email_render,
	.send = email_send,
};
