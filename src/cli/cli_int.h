/*
 * cli_int.h — what the CLI's files share: the option and verb tables,
 * the parsed command line, request building and output rendering.
 * Not for use outside src/cli (and its unit tests).
 */
#ifndef KW_CLI_INT_H
#define KW_CLI_INT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "util/buf.h"

#define CLI_EXIT_OK		0
#define CLI_EXIT_FAIL		1	/* server said no, or unreachable */
#define CLI_EXIT_USAGE		2

#define CLI_SERVER_DEFAULT	"http://127.0.0.1:8200"
#define CLI_ENV_SERVER		"KEYWARDEN_SERVER"
#define CLI_ENV_TOKEN		"KEYWARDEN_TOKEN"
#define CLI_OPTS_MAX		128	/* option occurrences per command */
#define CLI_POS_MAX		4	/* positional arguments per command */
#define CLI_ERR_MAX		512	/* a usage error message */
#define CLI_USAGE_WIDTH		79	/* wrap usage lines here */
#define CLI_OUT_MAX		(16 * 1024 * 1024) /* rendered output */

/* How an option's value becomes part of the request. */
enum cli_ftype {
	CF_STR,		/* --x V      → "key": "V" */
	CF_NSTR,	/* --x V|none → "key": "V" | null */
	CF_LIST,	/* --x V ...  → "key": ["V", ...] (repeatable) */
	CF_CLEAR,	/* --no-x     → "key": [] */
	CF_NULL,	/* --any-x    → "key": null */
	CF_BOOL,	/* --x true|false */
	CF_INT,		/* --x N (non-negative) */
	CF_SECRET_FILE,	/* --x FILE   → "key": first line of FILE ("-": stdin) */
	CF_SECRET_ENV,	/* --x VAR    → "key": value of $VAR */
	CF_QSTR,	/* --x V      → ?key=V */
	CF_QINT,	/* --x N      → ?key=N */
};

#define CLI_REQ		0x01	/* the option must be given */

/*
 * One option of a verb.  key is the JSON member it sets ("bot.email"
 * nests), or the query parameter for CF_Q*.  Two options with the same
 * key are mutually exclusive (--role / --no-roles).
 */
struct cli_field {
	const char	*opt;		/* name without the leading "--" */
	const char	*key;
	enum cli_ftype	 type;
	int		 flags;		/* CLI_REQ */
	const char	*metavar;	/* for usage; NULL for flags */
	const char	*choices;	/* "a|b": allowed values, or NULL */
};

struct cli_ctx;

/* Renders a successful answer; returns an exit code. */
typedef int (*cli_print_fn)(const struct cli_ctx *, json_t *);

/*
 * One verb of a resource: the whole command is data.  path holds "{}"
 * where the positional argument goes (percent-encoded); POST, PUT and
 * PATCH always send a JSON object body built from fields.
 */
struct cli_verb {
	const char		*name;
	const char		*posname;	/* "ID|EMAIL", or NULL: none */
	const char		*method;
	const char		*path;
	const struct cli_field	*fields;
	size_t			 nfields;
	int			 flags;		/* CLI_V_* */
	cli_print_fn		 print;
	const char		*help;		/* one line */
};

#define CLI_V_NONEMPTY	0x01	/* refuse an empty body (PATCH) */

struct cli_resource {
	const char		*name;
	const struct cli_verb	*verbs;
	size_t			 nverbs;
};

extern const struct cli_resource cli_people;
extern const struct cli_resource cli_instances;

/* One option occurrence, in command-line order. */
struct cli_pair {
	const struct cli_field	*f;
	const char		*val;	/* NULL for flags */
};

/* A parsed command line; strings are borrowed from argv. */
struct cli_args {
	const char	*server;	/* --server, or NULL */
	const char	*token;		/* --token, or NULL */
	int		 json;		/* --json */
	int		 help;		/* --help / -h */
	const char	*pos[CLI_POS_MAX];
	size_t		 npos;
	struct cli_pair	 opts[CLI_OPTS_MAX];
	size_t		 nopts;
};

/* Where a command writes, and how it reaches the server. */
struct cli_ctx {
	const char	*server;	/* base URL, no trailing slash */
	const char	*token;		/* or NULL */
	int		 json;
	FILE		*out;
	FILE		*err;
};

/* cli.c */
/* Index in argv of the verb word: the first argument after argv[0] that
 * is neither a global option nor its value; 0 if there is none. */
int	 cli_find_verb(int argc, char **argv);
/* Parse argv (argv[0] the resource, argv[vi] the verb) for verb v into
 * *a.  0, or -1 with a message in err[errsz].  Checks counts, duplicates,
 * conflicts, required options and bool/int/choice syntax. */
int	 cli_args_parse(const struct cli_verb *v, int argc, char **argv,
	    int vi, struct cli_args *a, char *err, size_t errsz);
/* Append "keywarden: <status> <code>: <message> (field: X)" (or the best
 * description of a non-conforming answer) and a newline to out. */
void	 cli_error_format(struct buf *out, long status, const char *body,
	    size_t len);
/* Append the synopsis of resource r's verb v to out, starting with lead
 * ("usage: ", "  "), wrapped at CLI_USAGE_WIDTH, newline-terminated. */
void	 cli_verb_usage(struct buf *out, const char *lead,
	    const struct cli_resource *r, const struct cli_verb *v);

/* cli_body.c */
/* Build the JSON body of v from the options in a.  On success *out is a
 * new object the caller json_decref()s.  KW_ERR_VALIDATION (a usage
 * problem) or KW_ERR_IO (unreadable secret file), with err filled. */
int	 cli_body_build(const struct cli_verb *v, const struct cli_args *a,
	    json_t **out, char *err, size_t errsz);
/* Append "?k=v&..." for the CF_Q* options in a to out (nothing if none). */
void	 cli_query_build(const struct cli_args *a, struct buf *out);
/* Append tmpl to out with "{}" replaced by arg, percent-encoded. */
void	 cli_path_build(struct buf *out, const char *tmpl, const char *arg);
/* Append s percent-encoded (all but A-Z a-z 0-9 - . _ ~ @) to out. */
void	 cli_pct_encode(struct buf *out, const char *s);
/* Overwrite, in place, the string at dotted key in obj (a secret about to
 * be freed by jansson, which does not wipe).  Absent key: nothing. */
void	 cli_json_wipe(json_t *obj, const char *key);

/* cli_table.c */
/* A table of text cells: the header row first, rows of ncols cells. */
struct cli_table {
	size_t	 ncols;
	size_t	 ncells;
	size_t	 cap;
	char	**cells;
	int	 err;		/* first error (KW_ERR_NOMEM) */
};

/* One column of a list: header text and the member of each item shown. */
struct cli_col {
	const char	*title;
	const char	*key;
};

/* Start a table whose first row is headers[ncols]. */
void	 cli_table_init(struct cli_table *t, const char *const *headers,
	    size_t ncols);
/* Append one cell (copied); rows wrap every ncols cells. */
void	 cli_table_cell(struct cli_table *t, const char *s);
/* Append the table to out, columns aligned, two spaces apart, control
 * characters replaced.  Returns t's first error, or 0. */
int	 cli_table_render(const struct cli_table *t, struct buf *out);
void	 cli_table_free(struct cli_table *t);

/* Append s with control characters replaced by '?'. */
void	 cli_add_safe(struct buf *out, const char *s);
/* Append a JSON value as display text to out: null "-", arrays of
 * scalars joined by sep, objects as compact JSON. */
void	 cli_value_text(struct buf *out, json_t *v, const char *sep);
/* Append obj as aligned "key: value" lines (nested objects as a.b). */
void	 cli_object_render(struct buf *out, json_t *obj);
/* Append a table of answer's "items" under cols, then "next cursor: C"
 * when next_cursor is a string. */
void	 cli_list_render(struct buf *out, json_t *answer,
	    const struct cli_col *cols, size_t ncols);
/* Write buf to ctx->out; CLI_EXIT_OK or CLI_EXIT_FAIL on error. */
int	 cli_emit(const struct cli_ctx *ctx, struct buf *b);
/* Printer: the answer as key: value lines. */
int	 cli_print_object(const struct cli_ctx *ctx, json_t *answer);

#endif /* KW_CLI_INT_H */
