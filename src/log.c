/*
 * log.c — structured log lines on stderr, written with one write(2) each
 * so concurrent threads never interleave within a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util/util.h"

void
log_line(const char *line, size_t len)
{
	if (write(STDERR_FILENO, line, len) < 0) {
		/* nowhere left to report it */
	}
}

void
log_json(json_t *obj)
{
	char	 ts[32];
	char	*line;
	size_t	 n;

	kw_time_fmt(kw_now(), ts, sizeof(ts));
	json_object_set_new(obj, "ts", json_string(ts));
	if ((line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6))) == NULL)
		return;
	n = strlen(line);
	line[n] = '\n';		/* json_dumps leaves room for the NUL */
	log_line(line, n + 1);
	free(line);
}

void
log_msg(const char *level, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;
	json_t	*o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a path or a peer's text may hold bytes that are not UTF-8 (or the
	 * cut above split a character): jansson would refuse the line */
	kw_utf8_sanitize(msg);
	o = json_pack("{s:s, s:s}", "level", level, "msg", msg);
	if (o != NULL) {
		log_json(o);
		json_decref(o);
	}
}
