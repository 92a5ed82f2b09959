/*
 * log.h — one JSON object per line on stderr.  Never pass a secret or a
 * request body here.
 */
#ifndef KW_LOG_H
#define KW_LOG_H

#include <jansson.h>

/* Log a message at level ("info", "warn", "error"). */
void	 log_msg(const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Write one ready line (ending in '\n') with a single write(2). */
void	 log_line(const char *line, size_t len);
/* Log an object (a "ts" field is added); the object is borrowed. */
void	 log_json(json_t *obj);

#endif /* KW_LOG_H */
