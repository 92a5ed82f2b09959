/*
 * email.h — the e-mail channel: its settings (the SMTP password sealed
 * at rest, never returned), its notifier (notifier_email: a notice as a
 * plain-text message, sent through net_smtp_send()), and the pure message
 * builder the unit tests check (headers that user text can never break).
 */
#ifndef KW_NOTIFY_EMAIL_H
#define KW_NOTIFY_EMAIL_H

#include <stddef.h>
#include <time.h>

#include "limits.h"

struct app;
struct buf;
struct store;

#define EMAIL_SETTING_KEY	"email"
#define EMAIL_SETTINGS_AD	"keywarden:settings:email"
#define EMAIL_USER_MAX		255	/* SMTP user name, bytes */
#define EMAIL_PASSWORD_MAX	255	/* SMTP password, bytes */
#define EMAIL_VALUE_MAX		(KW_URL_MAX + KW_EMAIL_MAX + \
				    EMAIL_USER_MAX + 256)
#define EMAIL_SEALED_MAX	(EMAIL_PASSWORD_MAX + 64 + KW_SEAL_OVERHEAD)
#define EMAIL_SUBJECT_MAX	256	/* bytes of a subject before encoding */
#define EMAIL_MESSAGE_MAX	(256 * 1024)	/* one whole message */

/*
 * The settings: a text value {"smtp_url", "from", "username",
 * "updated_at"} and a sealed blob {"password"} (associated data
 * EMAIL_SETTINGS_AD; absent when there is no password).
 */
struct email_settings {
	char	smtp_url[KW_URL_MAX + 1];
	char	from[KW_EMAIL_MAX + 1];
	char	username[EMAIL_USER_MAX + 1];		/* "" = no AUTH */
	char	updated_at[KW_TIME_LEN + 1];
	char	password[EMAIL_PASSWORD_MAX + 1];	/* secret */
};

/* Load and open the settings into *out (the password included: wipe).
 * KW_ERR_NOT_FOUND when e-mail is not configured, KW_ERR_CRYPTO,
 * KW_ERR_CONFIG or KW_ERR_UNAVAILABLE. */
int	 email_settings_load(struct app *app, struct store *st,
	    struct email_settings *out);
/* Seal and store s in the caller's transaction.  0 or an error. */
int	 email_settings_save(struct app *app, struct store *st,
	    const struct email_settings *s);
/* Wipe the whole struct; NULL ok. */
void	 email_settings_wipe(struct email_settings *s);

/*
 * Append to out the whole RFC 5322 message: From, To, Subject, Date (of
 * at), Message-ID (<token@domain of from>), MIME-Version, Content-Type
 * text/plain; charset=utf-8, Content-Transfer-Encoding quoted-printable,
 * then body (UTF-8, "\n" lines) encoded.  Lines end in CRLF.  A subject
 * has every control character (CR and LF included) turned into a space
 * and is RFC 2047-encoded when it is not plain ASCII; from and to must be
 * addresses without CR, LF, '<' or '>'.  0, KW_ERR_VALIDATION or the
 * buffer's error.
 */
int	 email_message(struct buf *out, const char *from, const char *to,
	    const char *subject, const char *body, time_t at,
	    const char *token);

#endif /* KW_NOTIFY_EMAIL_H */
