/*
 * util.h — small helpers: bounded string copies, wiping, time, and the
 * syntax checks for emails, URLs and names that every boundary uses.
 */
#ifndef KW_UTIL_H
#define KW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Copy src into dst (size dstsz), always NUL-terminating.  Returns the
 * length of src; truncation happened when the result is >= dstsz. */
size_t	 kw_strlcpy(char *dst, const char *src, size_t dstsz);
/* Overwrite n bytes at p in a way the compiler cannot elide. NULL ok. */
void	 kw_wipe(void *p, size_t n);

/* Current time, seconds since the epoch.  Honours KEYWARDEN_FAKE_NOW
 * (RFC 3339) only in test builds (KW_TESTING). */
time_t	 kw_now(void);
/* Format t as RFC 3339 UTC ("2026-11-28T09:00:00Z") into out[KW_TIME_LEN+1]. */
void	 kw_time_fmt(time_t t, char *out, size_t outsz);
/* Parse an RFC 3339 UTC time (trailing Z, no fraction); 0 or -1. */
int	 kw_time_parse(const char *s, time_t *out);
/* Monotonic clock in microseconds, for durations. */
uint64_t kw_mono_us(void);

/* Fault injection, test builds only (KW_TESTING): when the environment
 * variable KEYWARDEN_CRASH_AT equals point, the process dies on the spot
 * (as a crash would: no cleanup, exit status 86).  A no-op otherwise. */
void	 kw_fault(const char *point);

/* 1 if s is a plausible email address (one @, no spaces/controls,
 * non-empty local part and dotted domain, within KW_EMAIL_MAX). */
int	 kw_valid_email(const char *s);
/* 1 if s is an absolute https:// URL, or http:// to a loopback host when
 * allow_loopback_http; no spaces, controls or userinfo. */
int	 kw_valid_url(const char *s, int allow_loopback_http);
/* 1 if s is a syntactically valid http:// or https:// URL, whatever the
 * host (for links keywarden prints, never for calls it makes). */
int	 kw_valid_http_url(const char *s);
/* 1 if the URL's host is 127.0.0.0/8, ::1 or localhost. */
int	 kw_url_is_loopback(const char *s);
/* 1 if s is a path on this site to send a browser back to after
 * sign-in: one leading '/', not "//" or "/\\" (another origin to a
 * browser), printable ASCII without '\\', at most max bytes. */
int	 kw_local_path(const char *s, size_t max);
/* 1 if s is a slug: [a-z0-9][a-z0-9_-]*, 1..max bytes. */
int	 kw_valid_slug(const char *s, size_t max);
/* 1 if s is valid UTF-8 (no overlongs, surrogates, or beyond U+10FFFF)
 * without C0/C1 control characters, at most max bytes. */
int	 kw_valid_text(const char *s, size_t max);
/* Replace every byte of s that is not part of valid UTF-8 with '?' (after
 * a cut that may have split a character, or text of unknown origin). */
void	 kw_utf8_sanitize(char *s);
/* Decode one UTF-8 sequence at p (NUL-terminated); returns its length
 * and the code point in *cp, or 0 when it is malformed (overlong,
 * surrogate, > U+10FFFF, cut short). */
size_t	 kw_utf8_decode(const unsigned char *p, unsigned *cp);
/* The length of the longest prefix of s that is at most max bytes and
 * ends on a character boundary: cutting there never splits a UTF-8
 * sequence (invalid bytes count as one character each). */
size_t	 kw_utf8_cut(const char *s, size_t max);

/* Read the whole file at path (at most max bytes) into *out, NUL-ended
 * and malloc'd (the caller frees it, wiping it if secret); its length in
 * *len (may be NULL).  0, KW_ERR_IO, KW_ERR_TOO_LARGE or KW_ERR_NOMEM. */
int	 kw_read_file(const char *path, size_t max, char **out, size_t *len);

#endif /* KW_UTIL_H */
