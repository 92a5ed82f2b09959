/*
 * util.c — bounded strings, wiping, time and boundary syntax checks.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "kw.h"
#include "limits.h"
#include "util/util.h"

size_t
kw_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz > 0) {
		size_t c = n < dstsz - 1 ? n : dstsz - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

void
kw_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

time_t
kw_now(void)
{
#ifdef KW_TESTING
	const char	*s = getenv("KEYWARDEN_FAKE_NOW");
	time_t		 t;

	if (s != NULL && kw_time_parse(s, &t) == 0)
		return t;
#endif
	return time(NULL);
}

void
kw_fault(const char *point)
{
#ifdef KW_TESTING
	const char *at = getenv("KEYWARDEN_CRASH_AT");

	if (at != NULL && strcmp(at, point) == 0)
		_exit(86);
#else
	(void)point;
#endif
}

void
kw_time_fmt(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
kw_time_parse(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != KW_TIME_LEN)
		return -1;
	char		 again[KW_TIME_LEN + 1];

	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = timegm(&tm);
	/* strptime takes "2026-02-31" and " 1"; only canonical times pass */
	kw_time_fmt(*out, again, sizeof(again));
	return strcmp(again, s) == 0 ? 0 : -1;
}

uint64_t
kw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

size_t
kw_utf8_decode(const unsigned char *p, unsigned *cp)
{
	static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned	c = p[0], v;
	size_t		k, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		k = 2;
		v = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		k = 3;
		v = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		k = 4;
		v = c & 0x07;
	} else
		return 0;
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min[k] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return k;
}

int
kw_valid_text(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned		 cp;
	size_t			 n = 0, k;

	while (*p) {
		if ((k = kw_utf8_decode(p, &cp)) == 0)
			return 0;
		/* C0 and C1 controls, DEL */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		p += k;
		n += k;
	}
	return n <= max;
}

void
kw_utf8_sanitize(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	unsigned	 cp;
	size_t		 k;

	while (*p) {
		if ((k = kw_utf8_decode(p, &cp)) == 0) {
			*p++ = '?';
			continue;
		}
		p += k;
	}
}

size_t
kw_utf8_cut(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned		 cp;
	size_t			 n = 0, k;

	while (p[n] != '\0') {
		if ((k = kw_utf8_decode(p + n, &cp)) == 0)
			k = 1;
		if (n + k > max)
			break;
		n += k;
	}
	return n;
}

int
kw_valid_email(const char *s)
{
	const char	*at, *dot, *p;
	size_t		 n = strlen(s);

	if (n < 3 || n > KW_EMAIL_MAX)
		return 0;
	if ((at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return 0;
	if (at == s || at[1] == '\0')
		return 0;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("()<>,;:\\\"[]", c))
			return 0;
	}
	dot = strrchr(at + 1, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0')
		return 0;
	if (strstr(at + 1, "..") != NULL || at[1] == '-' )
		return 0;
	return 1;
}

/* Return the host part of an http(s) URL into host[hostsz]; 0 or -1. */
static int
url_host(const char *s, char *host, size_t hostsz, int *https)
{
	const char	*p, *end;
	size_t		 n;

	if (strncmp(s, "https://", 8) == 0) {
		*https = 1;
		p = s + 8;
	} else if (strncmp(s, "http://", 7) == 0) {
		*https = 0;
		p = s + 7;
	} else
		return -1;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)) != NULL)
		return -1;		/* no userinfo */
	if (*p == '[') {		/* IPv6 literal */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL)
			return -1;
		p++;
		n = (size_t)(rb - p);
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		n = (size_t)((colon ? colon : end) - p);
	}
	if (n == 0 || n >= hostsz)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

static int
host_is_loopback(const char *h)
{
	struct in_addr a;

	if (strcasecmp(h, "localhost") == 0 || strcmp(h, "::1") == 0)
		return 1;
	/* a real dotted quad in 127.0.0.0/8, not a name like 127.x.com */
	return inet_pton(AF_INET, h, &a) == 1 &&
	    (ntohl(a.s_addr) >> 24) == 127;
}

int
kw_url_is_loopback(const char *s)
{
	char	host[256];
	int	https;

	if (url_host(s, host, sizeof(host), &https) != 0)
		return 0;
	return host_is_loopback(host);
}

int
kw_valid_http_url(const char *s)
{
	char	host[256];
	int	https;

	return kw_valid_url(s, 1) || (strlen(s) <= KW_URL_MAX &&
	    url_host(s, host, sizeof(host), &https) == 0 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:_") == strlen(host) &&
	    strcspn(s, " \t\r\n") == strlen(s));
}

int
kw_valid_url(const char *s, int allow_loopback_http)
{
	char		 host[256];
	const char	*p;
	int		 https;

	if (strlen(s) > KW_URL_MAX)
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	if (url_host(s, host, sizeof(host), &https) != 0)
		return 0;
	for (p = host; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:_", *p))
			return 0;
	if (https)
		return 1;
	return allow_loopback_http && host_is_loopback(host);
}

int
kw_local_path(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max || s[0] != '/' || s[1] == '/' || s[1] == '\\')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    s[i] == '\\')
			return 0;
	return 1;
}

int
kw_valid_slug(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

int
kw_read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE	*fp;
	char	*p = NULL;
	size_t	 n;
	int	 r = KW_ERR_IO;

	*out = NULL;
	if ((fp = fopen(path, "re")) == NULL)
		return KW_ERR_IO;
	if ((p = malloc(max + 1)) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	n = fread(p, 1, max + 1, fp);
	if (ferror(fp))
		goto out;
	if (n > max) {
		r = KW_ERR_TOO_LARGE;
		goto out;
	}
	p[n] = '\0';
	if (len != NULL)
		*len = n;
	*out = p;
	p = NULL;
	r = 0;
 out:
	if (p != NULL) {
		kw_wipe(p, max + 1);
		free(p);
	}
	fclose(fp);
	return r;
}
