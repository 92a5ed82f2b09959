/*
 * buf.c — growable byte buffer with a hard maximum and a sticky error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "util/buf.h"
#include "util/util.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 need, ncap;
	char	*p;

	if (b->err)
		return b->err;
	if (n > b->max || b->len > b->max - n)
		return (b->err = KW_ERR_TOO_LARGE);
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return (b->err = KW_ERR_NOMEM);
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	int r;

	if ((r = buf_reserve(b, n)) != 0)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return (b->err = b->err ? b->err : KW_ERR_INTERNAL);
	if ((r = buf_reserve(b, (size_t)n)) != 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
buf_err(const struct buf *b)
{
	return b->err;
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *
buf_detach(struct buf *b, size_t *lenp)
{
	char *p = b->data;

	if (lenp)
		*lenp = b->len;
	if (p == NULL)
		p = strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Append s as a JSON string the way jansson writes it with
 * JSON_ENSURE_ASCII: short escapes, \u00XX for other controls, \uXXXX
 * (upper-case hex, surrogate pairs) beyond ASCII.  strict: malformed
 * UTF-8 becomes U+FFFD byte by byte (else the historical lenient
 * decoding the audit hashes depend on). */
static void
json_str(struct buf *b, const char *s, int strict)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	unsigned		 cp, hi, lo;
	char			 u[13];
	size_t			 k;

	buf_add(b, "\"", 1);
	while (*p) {
		/* the common case: a run of plain printable ASCII */
		for (k = 0; p[k] >= 0x20 && p[k] < 0x80 && p[k] != '"' &&
		    p[k] != '\\'; k++)
			;
		if (k > 0) {
			buf_add(b, p, k);
			p += k;
			continue;
		}
		cp = *p;
		k = 1;
		if (cp >= 0x80 && strict) {
			if ((k = kw_utf8_decode(p, &cp)) == 0) {
				cp = 0xfffd;
				k = 1;
			}
		} else if (cp >= 0x80) {
			k = cp >= 0xf0 ? 4 : cp >= 0xe0 ? 3 : 2;
			cp &= k == 4 ? 0x07 : k == 3 ? 0x0f : 0x1f;
			for (size_t i = 1; i < k; i++) {
				if ((p[i] & 0xc0) != 0x80) {
					cp = 0xfffd;	/* not UTF-8 */
					k = i;
					break;
				}
				cp = (cp << 6) | (p[i] & 0x3f);
			}
		}
		p += k;
		switch (cp) {
		case '"':  buf_add(b, "\\\"", 2); continue;
		case '\\': buf_add(b, "\\\\", 2); continue;
		case '\b': buf_add(b, "\\b", 2); continue;
		case '\f': buf_add(b, "\\f", 2); continue;
		case '\n': buf_add(b, "\\n", 2); continue;
		case '\r': buf_add(b, "\\r", 2); continue;
		case '\t': buf_add(b, "\\t", 2); continue;
		default:
			break;
		}
		if (cp >= 0x20 && cp < 0x80) {
			char c = (char)cp;
			buf_add(b, &c, 1);
			continue;
		}
		if (cp > 0xffff) {
			cp -= 0x10000;
			hi = 0xd800 | (cp >> 10);
			lo = 0xdc00 | (cp & 0x3ff);
			snprintf(u, sizeof(u), "\\u%c%c%c%c\\u%c%c%c%c",
			    hex[hi >> 12], hex[(hi >> 8) & 15], hex[(hi >> 4) & 15],
			    hex[hi & 15], hex[lo >> 12], hex[(lo >> 8) & 15],
			    hex[(lo >> 4) & 15], hex[lo & 15]);
			buf_add(b, u, 12);
		} else {
			snprintf(u, sizeof(u), "\\u%c%c%c%c", hex[cp >> 12],
			    hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]);
			buf_add(b, u, 6);
		}
	}
	buf_add(b, "\"", 1);
}

void
buf_add_json_str(struct buf *b, const char *s)
{
	json_str(b, s, 0);
}

void
buf_add_json_text(struct buf *b, const char *s)
{
	json_str(b, s, 1);
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data)
		kw_wipe(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}
