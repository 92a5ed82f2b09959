/*
 * cli_table.c — how the CLI shows answers to people: aligned tables
 * for lists, "key: value" lines for one object.  Text from the server is
 * never trusted to be printable: control characters become '?', so an
 * answer cannot drive the terminal.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define CLI_COL_GAP	2	/* spaces between columns */

void
cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		cli_table_cell(t, headers[i]);
}

void
cli_table_cell(struct cli_table *t, const char *s)
{
	char	**n;
	size_t	  ncap;

	if (t->err)
		return;
	if (t->ncells == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		if ((n = reallocarray(t->cells, ncap, sizeof(*n))) == NULL) {
			t->err = KW_ERR_NOMEM;
			return;
		}
		t->cells = n;
		t->cap = ncap;
	}
	if ((t->cells[t->ncells] = strdup(s)) == NULL) {
		t->err = KW_ERR_NOMEM;
		return;
	}
	t->ncells++;
}

void
cli_table_free(struct cli_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* Columns a string takes on a terminal: one per UTF-8 code point. */
static size_t
cli_text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
cli_add_safe(struct buf *out, const char *s)
{
	const char	*p;
	size_t		 n;

	while (*s) {
		for (p = s; *p && (unsigned char)*p >= 0x20 &&
		    (unsigned char)*p != 0x7f; p++)
			;
		if ((n = (size_t)(p - s)) > 0)
			buf_add(out, s, n);
		if (*p == '\0')
			break;
		buf_addstr(out, "?");
		s = p + 1;
	}
}

/* Append n spaces. */
static void
cli_pad(struct buf *out, size_t n)
{
	static const char sp[] = "                ";

	while (n > 0) {
		size_t k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
		buf_add(out, sp, k);
		n -= k;
	}
}

int
cli_table_render(const struct cli_table *t, struct buf *out)
{
	size_t	*w = NULL, i, c, cw;
	int	 r = 0;

	if ((r = t->err) != 0)
		goto out;
	if (t->ncols == 0)
		goto out;
	if ((w = calloc(t->ncols, sizeof(*w))) == NULL) {
		r = KW_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < t->ncells; i++)
		if ((cw = cli_text_width(t->cells[i])) > w[i % t->ncols])
			w[i % t->ncols] = cw;
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		cli_add_safe(out, t->cells[i]);
		if (c + 1 < t->ncols && i + 1 < t->ncells) {
			cli_pad(out, w[c] - cli_text_width(t->cells[i]) +
			    CLI_COL_GAP);
			continue;
		}
		/* No trailing blanks when the last cells are empty. */
		while (out->err == 0 && out->len > 0 &&
		    out->data[out->len - 1] == ' ')
			out->data[--out->len] = '\0';
		buf_addstr(out, "\n");
	}
 out:
	free(w);
	return r;
}

json_t *
cli_json_path(json_t *obj, const char *key)
{
	const char	*dot;
	char		 part[64];
	size_t		 n;

	while (json_is_object(obj) && (dot = strchr(key, '.')) != NULL) {
		if ((n = (size_t)(dot - key)) >= sizeof(part))
			return NULL;
		memcpy(part, key, n);
		part[n] = '\0';
		obj = json_object_get(obj, part);
		key = dot + 1;
	}
	return json_object_get(obj, key);
}

void
cli_indent(struct buf *out, const char *text, const char *lead)
{
	const char *nl;

	while (*text) {
		nl = strchr(text, '\n');
		buf_addstr(out, lead);
		if (nl == NULL) {
			buf_addstr(out, text);
			buf_addstr(out, "\n");
			return;
		}
		buf_add(out, text, (size_t)(nl - text) + 1);
		text = nl + 1;
	}
}

/* 1 if v is a string, number, boolean or null. */
static int
cli_is_scalar(json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

void
cli_value_text(struct buf *out, json_t *v, const char *sep)
{
	json_t	*e;
	size_t	 i;
	char	*s;

	if (v == NULL || json_is_null(v))
		buf_addstr(out, "-");
	else if (json_is_string(v))
		buf_add(out, json_string_value(v), json_string_length(v));
	else if (json_is_true(v) || json_is_false(v))
		buf_addstr(out, json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		buf_printf(out, "%g", json_real_value(v));
	else if (json_is_array(v) && json_array_size(v) == 0)
		buf_addstr(out, "-");
	else {
		json_array_foreach(v, i, e)
			if (!cli_is_scalar(e))
				break;
		if (json_is_array(v) && i == json_array_size(v)) {
			json_array_foreach(v, i, e) {
				if (i > 0)
					buf_addstr(out, sep);
				cli_value_text(out, e, sep);
			}
			return;
		}
		if ((s = json_dumps(v, JSON_COMPACT)) == NULL) {
			buf_addstr(out, "?");
			return;
		}
		buf_addstr(out, s);
		free(s);
	}
}

void
cli_add_value(struct buf *out, json_t *v)
{
	struct buf b;

	buf_init(&b, CLI_OUT_MAX);
	cli_value_text(&b, v, ",");
	cli_add_safe(out, buf_str(&b));
	buf_free(&b);
}

/* Add obj's members to the two-column table t, nested objects flattened
 * under "prefix.key". */
static void
cli_object_rows(struct cli_table *t, json_t *obj, const char *prefix)
{
	struct buf	 k, v;
	const char	*key;
	json_t		*val;

	json_object_foreach(obj, key, val) {
		buf_init(&k, CLI_OUT_MAX);
		buf_printf(&k, "%s%s%s", prefix, *prefix ? "." : "", key);
		if (json_is_object(val) && json_object_size(val) > 0) {
			cli_object_rows(t, val, buf_str(&k));
			buf_free(&k);
			continue;
		}
		buf_addstr(&k, ":");
		buf_init(&v, CLI_OUT_MAX);
		/* Unlike a table cell, one object's "[]" and null can mean
		 * different things (no scopes vs. any scope): keep them apart. */
		if (json_is_array(val) && json_array_size(val) == 0)
			buf_addstr(&v, "(none)");
		else
			cli_value_text(&v, val, ", ");
		cli_table_cell(t, buf_str(&k));
		cli_table_cell(t, buf_str(&v));
		buf_free(&k);
		buf_free(&v);
	}
}

void
cli_object_render(struct buf *out, json_t *obj)
{
	struct cli_table	t;

	/* A headerless two-column table: the header cells are empty. */
	memset(&t, 0, sizeof(t));
	t.ncols = 2;
	if (json_is_object(obj))
		cli_object_rows(&t, obj, "");
	else {
		cli_table_cell(&t, "value:");
		cli_table_cell(&t, "");
	}
	if (cli_table_render(&t, out) != 0 && out->err == 0)
		out->err = KW_ERR_NOMEM;
	cli_table_free(&t);
}

void
cli_list_render(struct buf *out, json_t *answer, const struct cli_col *cols,
    size_t ncols)
{
	struct cli_table	 t;
	struct buf		 cell;
	json_t			*items, *item, *next;
	size_t			 i, c;

	memset(&t, 0, sizeof(t));
	t.ncols = ncols;
	for (c = 0; c < ncols; c++)
		cli_table_cell(&t, cols[c].title);
	items = json_object_get(answer, "items");
	json_array_foreach(items, i, item) {
		for (c = 0; c < ncols; c++) {
			buf_init(&cell, CLI_OUT_MAX);
			cli_value_text(&cell, cli_json_path(item,
			    cols[c].key), ",");
			cli_table_cell(&t, buf_str(&cell));
			buf_free(&cell);
		}
	}
	if (cli_table_render(&t, out) != 0 && out->err == 0)
		out->err = KW_ERR_NOMEM;
	cli_table_free(&t);
	next = json_object_get(answer, "next_cursor");
	if (json_is_string(next)) {
		buf_addstr(out, "next cursor: ");
		cli_add_safe(out, json_string_value(next));
		buf_addstr(out, "\n");
	}
}

int
cli_emit(const struct cli_ctx *ctx, struct buf *b)
{
	if (buf_err(b) != 0) {
		fprintf(ctx->err, "keywarden: cannot format the answer: %s\n",
		    kw_strerror(buf_err(b)));
		return CLI_EXIT_FAIL;
	}
	if (fwrite(buf_str(b), 1, b->len, ctx->out) != b->len ||
	    fflush(ctx->out) != 0) {
		fprintf(ctx->err, "keywarden: cannot write output\n");
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

int
cli_print_object(const struct cli_ctx *ctx, json_t *answer)
{
	struct buf	b;
	int		r;

	buf_init(&b, CLI_OUT_MAX);
	cli_object_render(&b, answer);
	r = cli_emit(ctx, &b);
	buf_free(&b);
	return r;
}

int
cli_print_with(const struct cli_ctx *ctx, json_t *answer,
    void (*fn)(struct buf *, json_t *))
{
	struct buf	b;
	int		r;

	buf_init(&b, CLI_OUT_MAX);
	fn(&b, answer);
	r = cli_emit(ctx, &b);
	buf_free(&b);
	return r;
}

int
cli_print_list(const struct cli_ctx *ctx, json_t *answer,
    const struct cli_col *cols, size_t ncols)
{
	struct buf	b;
	int		r;

	buf_init(&b, CLI_OUT_MAX);
	cli_list_render(&b, answer, cols, ncols);
	r = cli_emit(ctx, &b);
	buf_free(&b);
	return r;
}

int
cli_print_token(const struct cli_ctx *ctx, json_t *answer, int expiry,
    const char *advice)
{
	json_t		*tok = json_object_get(answer, "token");
	struct buf	 b;
	int		 r;

	if (!json_is_string(tok)) {
		fprintf(ctx->err, "keywarden: the answer holds no token\n");
		return CLI_EXIT_FAIL;
	}
	buf_init(&b, CLI_OUT_MAX);
	buf_addstr(&b, "token id: ");
	cli_value_text(&b, json_object_get(answer, "id"), ",");
	if (expiry) {
		buf_addstr(&b, "\nexpires:  ");
		cli_value_text(&b, json_object_get(answer, "expires_at"), ",");
	}
	buf_addstr(&b, "\ntoken:    ");
	cli_add_safe(&b, json_string_value(tok));
	buf_addstr(&b, "\n\nThis token is shown only once: ");
	buf_addstr(&b, advice);
	r = cli_emit(ctx, &b);
	buf_free(&b);
	cli_json_wipe(answer, "token");
	return r;
}
