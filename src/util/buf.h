/*
 * buf.h — one length-tracked, NUL-terminated byte buffer with a maximum
 * size, for everything that grows (bodies, outbound requests, text).
 * A buffer keeps its first error: callers append freely and check
 * buf_err() once at the end.
 */
#ifndef KW_BUF_H
#define KW_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* always NUL-terminated when len > 0 */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* hard limit on len */
	int	 err;		/* first error: KW_ERR_NOMEM/KW_ERR_TOO_LARGE */
};

/* Initialise an empty buffer that may grow to max bytes. */
void	 buf_init(struct buf *b, size_t max);
/* Append n bytes; on failure records the error and returns it. */
int	 buf_add(struct buf *b, const void *p, size_t n);
int	 buf_addstr(struct buf *b, const char *s);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string (quotes included), escaped as jansson does
 * with JSON_ENSURE_ASCII: the audit log's canonical form relies on it,
 * byte for byte (stored hashes were computed with it: never change what
 * it writes, even for malformed input). */
void	 buf_add_json_str(struct buf *b, const char *s);
/* The same for text from outside (log lines): anything that is not
 * well-formed UTF-8 (stray or cut-short bytes, overlong forms, encoded
 * surrogates, beyond U+10FFFF) becomes U+FFFD, one per byte, so the
 * result is always valid JSON of valid Unicode. */
void	 buf_add_json_text(struct buf *b, const char *s);
/* The first error recorded, or 0. */
int	 buf_err(const struct buf *b);
/* The contents ("" when empty); valid until the next append or free. */
const char *buf_str(const struct buf *b);
/* Hand the allocation to the caller (who frees it); buffer is reset. */
char	*buf_detach(struct buf *b, size_t *lenp);
/* Wipe and release the contents; the buffer may be reused. NULL ok. */
void	 buf_free(struct buf *b);

#endif /* KW_BUF_H */
