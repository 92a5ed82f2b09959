/*
 * cli_body.c — turn a parsed command line into what goes on the wire:
 * the path (arguments percent-encoded, never spliced raw), the query
 * string and the JSON body, all driven by the verb's option table.
 * Secrets come only from files or the environment, never from argv.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "cli/cli_int.h"
#include "util/buf.h"
#include "util/util.h"

void
cli_pct_encode(struct buf *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			 e[3];

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~@", *p) != NULL) {
			buf_add(out, p, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 0xf];
		buf_add(out, e, sizeof(e));
	}
}

void
cli_path_build(struct buf *out, const char *tmpl, const char *arg)
{
	const char *hole = strstr(tmpl, "{}");

	if (hole == NULL || arg == NULL) {
		buf_addstr(out, tmpl);
		return;
	}
	buf_add(out, tmpl, (size_t)(hole - tmpl));
	cli_pct_encode(out, arg);
	buf_addstr(out, hole + 2);
}

int
cli_is_repeatable(enum cli_ftype t)
{
	return t == CF_LIST || t == CF_INT_LIST;
}

/* 1 if options of type t go into the query string, not the body. */
static int
cli_is_query(enum cli_ftype t)
{
	return t == CF_QSTR || t == CF_QINT || t == CF_QTIME || t == CF_QFLAG;
}

void
cli_query_build(const struct cli_args *a, struct buf *out)
{
	size_t	i;
	int	first = 1;

	for (i = 0; i < a->nopts; i++) {
		if (!cli_is_query(a->opts[i].f->type))
			continue;
		buf_addstr(out, first ? "?" : "&");
		cli_pct_encode(out, a->opts[i].f->key);
		buf_addstr(out, "=");
		cli_pct_encode(out, a->opts[i].f->type == CF_QFLAG ? "true" :
		    a->opts[i].val);
		first = 0;
	}
}

/*
 * Find the object that holds the last component of dotted key in root,
 * creating intermediate objects.  *leaf points into key.  NULL on
 * allocation failure or when a non-object is in the way.
 */
static json_t *
cli_json_parent(json_t *root, const char *key, const char **leaf)
{
	const char	*dot;
	char		 part[64];
	json_t		*cur = root, *next;
	size_t		 n;

	while ((dot = strchr(key, '.')) != NULL) {
		n = (size_t)(dot - key);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, key, n);
		part[n] = '\0';
		if ((next = json_object_get(cur, part)) == NULL) {
			if ((next = json_object()) == NULL ||
			    json_object_set_new(cur, part, next) != 0)
				return NULL;
		} else if (!json_is_object(next))
			return NULL;
		cur = next;
		key = dot + 1;
	}
	*leaf = key;
	return cur;
}

void
cli_json_wipe(json_t *obj, const char *key)
{
	json_t *v = cli_json_path(obj, key);

	if (!json_is_string(v))
		return;
	/* jansson owns this storage and frees it without wiping; writing
	 * through the const pointer is the only way to clear it. */
	kw_wipe((void *)(uintptr_t)json_string_value(v),
	    json_string_length(v));
}

void
cli_json_wipe_all(json_t *v)
{
	const char	*k;
	json_t		*e;
	size_t		 i;

	if (json_is_string(v))
		kw_wipe((void *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
	else if (json_is_object(v))
		json_object_foreach(v, k, e)
			cli_json_wipe_all(e);
	else if (json_is_array(v))
		json_array_foreach(v, i, e)
			cli_json_wipe_all(e);
}

/*
 * Read the secret from path ("-": standard input) into out[outsz]: the
 * first line, without its line ending.  Plain read(2), so no stdio
 * buffer keeps a copy; reading stops at the first newline, so a secret
 * typed on a terminal needs no end-of-file.  0, KW_ERR_IO (unreadable)
 * or KW_ERR_VALIDATION (empty, longer than outsz - 2 bytes, or holding a
 * NUL byte), with err filled.
 */
static int
cli_secret_file(const char *opt, const char *path, char *out, size_t outsz,
    char *err, size_t errsz)
{
	size_t	 n = 0, len;
	ssize_t	 k;
	int	 fd, r = 0;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	    open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "cannot read --%s %s: %s", opt, path,
		    strerror(errno));
		return KW_ERR_IO;
	}
	while (n < outsz - 1 && memchr(out, '\n', n) == NULL) {
		if ((k = read(fd, out + n, outsz - 1 - n)) == 0)
			break;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errsz, "cannot read --%s %s: %s", opt,
			    path, strerror(errno));
			r = KW_ERR_IO;
			goto out;
		}
		n += (size_t)k;
	}
	out[n] = '\0';
	/* The first line: up to CR, LF or the end of what was read. */
	for (len = 0; len < n && out[len] != '\r' && out[len] != '\n'; len++)
		if (out[len] == '\0') {
			snprintf(err, errsz, "--%s: %s holds a NUL byte", opt,
			    path);
			r = KW_ERR_VALIDATION;
			goto out;
		}
	if (len > outsz - 2) {
		snprintf(err, errsz, "--%s: secret longer than %zu bytes",
		    opt, outsz - 2);
		r = KW_ERR_VALIDATION;
		goto out;
	}
	out[len] = '\0';
	if (len == 0) {
		snprintf(err, errsz, "--%s: %s holds no secret", opt, path);
		r = KW_ERR_VALIDATION;
	}
 out:
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}

/* The JSON value one option occurrence stands for; *vp is new (or NULL
 * on allocation failure / invalid UTF-8).  Secrets are read here. */
static int
cli_field_value(const struct cli_pair *p, json_t **vp, char *err,
    size_t errsz)
{
	char		 secret[CLI_SECRET_MAX + 2];
	const char	*s;
	int		 r = 0;

	*vp = NULL;
	switch (p->f->type) {
	case CF_STR:
	case CF_LIST:
		*vp = json_string(p->val);
		break;
	case CF_NSTR:
		*vp = strcmp(p->val, "none") == 0 ? json_null() :
		    json_string(p->val);
		break;
	case CF_CLEAR:
		*vp = json_array();
		break;
	case CF_NULL:
		*vp = json_null();
		break;
	case CF_BOOL:
		*vp = json_boolean(strcmp(p->val, "true") == 0);
		break;
	case CF_TRUE:
		*vp = json_true();
		break;
	case CF_INT:
	case CF_INT_LIST:
		*vp = json_integer(strtoll(p->val, NULL, 10));
		break;
	case CF_SECRET_FILE:
		r = cli_secret_file(p->f->opt, p->val, secret, sizeof(secret),
		    err, errsz);
		if (r == 0)
			*vp = json_string(secret);
		kw_wipe(secret, sizeof(secret));
		return r;
	case CF_SECRET_ENV:
		if ((s = getenv(p->val)) == NULL || *s == '\0') {
			snprintf(err, errsz, "--%s: environment variable %s "
			    "is not set", p->f->opt, p->val);
			return KW_ERR_VALIDATION;
		}
		if (strlen(s) > CLI_SECRET_MAX) {
			snprintf(err, errsz, "--%s: secret longer than %d "
			    "bytes", p->f->opt, CLI_SECRET_MAX);
			return KW_ERR_VALIDATION;
		}
		*vp = json_string(s);
		break;
	case CF_QSTR:
	case CF_QINT:
	case CF_QTIME:
	case CF_QFLAG:
		return 0;
	}
	if (*vp == NULL) {
		snprintf(err, errsz, "--%s: value is not valid UTF-8",
		    p->f->opt);
		r = KW_ERR_VALIDATION;
	}
	return r;
}

int
cli_body_build(const struct cli_verb *v, const struct cli_args *a,
    json_t **out, char *err, size_t errsz)
{
	json_t		*root, *parent, *val = NULL, *arr;
	const char	*leaf;
	size_t		 i;
	int		 r = 0;

	*out = NULL;
	if ((root = json_object()) == NULL)
		return KW_ERR_NOMEM;
	for (i = 0; i < a->nopts; i++) {
		const struct cli_pair *p = &a->opts[i];

		if (cli_is_query(p->f->type))
			continue;
		if ((r = cli_field_value(p, &val, err, errsz)) != 0)
			goto out;
		if ((parent = cli_json_parent(root, p->f->key, &leaf)) == NULL) {
			r = KW_ERR_NOMEM;
			goto out;
		}
		if (cli_is_repeatable(p->f->type)) {
			if ((arr = json_object_get(parent, leaf)) == NULL) {
				if ((arr = json_array()) == NULL ||
				    json_object_set_new(parent, leaf, arr)) {
					r = KW_ERR_NOMEM;
					goto out;
				}
			}
			r = json_array_append_new(arr, val);
		} else
			r = json_object_set_new(parent, leaf, val);
		val = NULL;	/* the *_new calls took it, even on failure */
		if (r != 0) {
			r = KW_ERR_NOMEM;
			goto out;
		}
	}
	if ((v->flags & CLI_V_NONEMPTY) && json_object_size(root) == 0) {
		snprintf(err, errsz, "nothing to change: give at least one "
		    "option");
		r = KW_ERR_VALIDATION;
		goto out;
	}
	*out = root;
	root = NULL;
 out:
	if (r == KW_ERR_NOMEM)
		snprintf(err, errsz, "out of memory");
	if (root != NULL) {
		for (i = 0; i < v->nfields; i++)
			if (v->fields[i].type == CF_SECRET_FILE ||
			    v->fields[i].type == CF_SECRET_ENV)
				cli_json_wipe(root, v->fields[i].key);
		json_decref(root);
	}
	return r;
}
