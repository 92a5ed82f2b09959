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

#include "limits.h"
#include "util/buf.h"

#define CLI_EXIT_OK		0
#define CLI_EXIT_FAIL		1	/* server said no, or unreachable */
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_NO_HEAD	3	/* audit verify: the chain links, but
					   the expected head is not in it */
#define CLI_EXIT_NOEXEC		127	/* credential exec: CMD did not run
					   (as a shell says) */

#define CLI_SERVER_DEFAULT	"http://127.0.0.1:8200"
#define CLI_ENV_SERVER		"KEYWARDEN_SERVER"
#define CLI_ENV_TOKEN		"KEYWARDEN_TOKEN"
#define CLI_OPTS_MAX		128	/* option occurrences per command */
#define CLI_POS_MAX		4	/* positional arguments per command */
#define CLI_ERR_MAX		512	/* a usage error message */
#define CLI_USAGE_WIDTH		79	/* wrap usage lines here */
#define CLI_OUT_MAX		(16 * 1024 * 1024) /* rendered output */
#define CLI_SECRET_MAX		KW_SECRET_MAX	/* a secret read from a file
					   or the environment (the server
					   may hold a field to less) */
#define CLI_PAGE_LIMIT		"500"	/* ?limit= when fetching every page */
#define CLI_PAGES_MAX		10000	/* pages fetched before giving up */
#define CLI_REVOKE_ATTEMPTS	3	/* per credential, in a bulk revoke */

/* How an option's value becomes part of the request. */
enum cli_ftype {
	CF_STR,		/* --x V      → "key": "V" */
	CF_NSTR,	/* --x V|none → "key": "V" | null */
	CF_LIST,	/* --x V ...  → "key": ["V", ...] (repeatable) */
	CF_INT_LIST,	/* --x N ...  → "key": [N, ...] (repeatable) */
	CF_CLEAR,	/* --no-x     → "key": [] */
	CF_NULL,	/* --any-x    → "key": null */
	CF_BOOL,	/* --x true|false */
	CF_INT,		/* --x N (non-negative) */
	CF_SECRET_FILE,	/* --x FILE   → "key": first line of FILE ("-": stdin) */
	CF_SECRET_ENV,	/* --x VAR    → "key": value of $VAR */
	CF_TRUE,	/* --x        → "key": true */
	CF_QSTR,	/* --x V      → ?key=V */
	CF_QINT,	/* --x N      → ?key=N */
	CF_QTIME,	/* --x T      → ?key=T (RFC 3339 UTC, checked) */
	CF_QFLAG,	/* --x        → ?key=true */
};

/* The option must be given; of alternatives (options sharing a key),
 * one must be given when the first of them carries the flag. */
#define CLI_REQ		0x01

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
struct cli_args;
struct cli_verb;

/* Renders a successful answer; returns an exit code. */
typedef int (*cli_print_fn)(const struct cli_ctx *, json_t *);
/* Runs a whole command that is more than one exchange (bulk revoke);
 * returns an exit code. */
typedef int (*cli_run_fn)(const struct cli_ctx *, const struct cli_verb *,
    const struct cli_args *);

/*
 * One verb of a resource: the whole command is data.  path holds "{}"
 * where the positional argument goes (percent-encoded); POST, PUT and
 * PATCH always send a JSON object body built from fields.  A verb with
 * a run function does its own exchanges instead (method, path and print
 * are then unused).
 */
struct cli_verb {
	const char		*name;		/* NULL: of a CLI_R_BARE resource */
	const char		*posname;	/* "ID|EMAIL", or NULL: none */
	const char		*method;
	const char		*path;
	const struct cli_field	*fields;
	size_t			 nfields;
	int			 flags;		/* CLI_V_* */
	cli_print_fn		 print;
	const char		*help;		/* one line */
	cli_run_fn		 run;		/* NULL: one exchange, print */
};

#define CLI_V_NONEMPTY	0x01	/* refuse an empty body (PATCH) */
#define CLI_V_SECRET	0x02	/* the answer holds a secret: wipe every
				   string in it once printed */
#define CLI_V_OWNJSON	0x04	/* print also renders --json (it decides
				   the exit code from the answer) */
#define CLI_V_REST	0x08	/* the words after "--" are a command
				   line of their own (cli_args.rest) */

struct cli_resource {
	const char		*name;		/* one word, or two ("settings
						   slack": a group's member) */
	const struct cli_verb	*verbs;
	size_t			 nverbs;
	int			 flags;		/* CLI_R_* */
};

/* The resource word is the command: its single verb has no verb word
 * ("keywarden revoke --instance NAME ..."). */
#define CLI_R_BARE	0x01

extern const struct cli_resource cli_people;
extern const struct cli_resource cli_instances;
extern const struct cli_resource cli_requests;
extern const struct cli_resource cli_credentials;
extern const struct cli_resource cli_audit;
extern const struct cli_resource cli_revoke;
extern const struct cli_resource cli_report;
extern const struct cli_resource cli_settings_slack;
extern const struct cli_resource cli_settings_email;
extern const struct cli_resource cli_scim_tokens;

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
	char		**rest;		/* CLI_V_REST: after "--", NULL-ended */
	int		 nrest;
};

/* Where a command writes, and how it reaches the server. */
struct cli_ctx {
	const char	*server;	/* base URL, no trailing slash */
	const char	*token;		/* or NULL */
	int		 json;
	FILE		*out;
	FILE		*err;
	const struct cli_verb *verb;	/* being run, to name its options in
					   the server's errors; or NULL */
};

/* Why one exchange did not succeed (for commands that report failures
 * per item instead of stopping at the first). */
struct cli_fail {
	long	 status;		/* HTTP status; 0: none arrived */
	int	 neterr;		/* net_do()'s KW_ERR_*, or 0 */
	char	 text[CLI_ERR_MAX + KW_URL_MAX];
				/* "502 upstream_error: ...", or the
				   transport problem */
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
/* The same description without the "keywarden: " lead and newline. */
/* After the server's error, what the user can do: for a 401, how to give
 * a token; for a field error, the option of ctx->verb that sets it. */
void	 cli_error_hint(struct buf *out, const struct cli_ctx *ctx,
	    long status, const char *body, size_t len);
void	 cli_error_describe(struct buf *out, long status, const char *body,
	    size_t len);
/* Append ctx->server, then tmpl with "{}" replaced by arg (encoded). */
void	 cli_url(struct buf *url, const struct cli_ctx *ctx, const char *tmpl,
	    const char *arg);
/*
 * Send one request (body: JSON text or NULL) and hand back the parsed
 * JSON object in *answer (caller decrefs).  Returns CLI_EXIT_OK or
 * CLI_EXIT_FAIL.  On failure, fills *fail when given, else reports on
 * ctx->err.
 */
int	 cli_exchange(const struct cli_ctx *ctx, const char *method,
	    const char *url, const char *body, size_t blen, json_t **answer,
	    struct cli_fail *fail);
/* The value of option opt in a (NULL if not given; "" for a flag). */
const char *cli_opt_get(const struct cli_args *a, const char *opt);
/* Printer: the answer as indented JSON. */
int	 cli_print_json(const struct cli_ctx *ctx, json_t *answer);
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
/* 1 if options of type t may be given more than once (a JSON array). */
int	 cli_is_repeatable(enum cli_ftype t);
/* Append "?k=v&..." for the CF_Q* options in a to out (nothing if none). */
void	 cli_query_build(const struct cli_args *a, struct buf *out);
/* Append tmpl to out with "{}" replaced by arg, percent-encoded. */
void	 cli_path_build(struct buf *out, const char *tmpl, const char *arg);
/* Append s percent-encoded (all but A-Z a-z 0-9 - . _ ~ @) to out. */
void	 cli_pct_encode(struct buf *out, const char *s);
/* Overwrite, in place, the string at dotted key in obj (a secret about to
 * be freed by jansson, which does not wipe).  Absent key: nothing. */
void	 cli_json_wipe(json_t *obj, const char *key);
/* Overwrite, in place, every string in v, however deeply nested. */
void	 cli_json_wipe_all(json_t *v);

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
/* The member at dotted key ("delivery.state") in obj, or NULL. */
json_t	*cli_json_path(json_t *obj, const char *key);
/* Append each line of text to out with lead in front. */
void	 cli_indent(struct buf *out, const char *text, const char *lead);
/* Append a JSON value as display text to out: null "-", arrays of
 * scalars joined by sep, objects as compact JSON. */
void	 cli_value_text(struct buf *out, json_t *v, const char *sep);
/* cli_value_text(v, ","), with control characters replaced. */
void	 cli_add_value(struct buf *out, json_t *v);
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
/* Printer helper: render with fn into a buffer, write it to ctx->out. */
int	 cli_print_with(const struct cli_ctx *ctx, json_t *answer,
	    void (*fn)(struct buf *, json_t *));
/* Printer helper: answer's page as a table under cols (cli_list_render). */
int	 cli_print_list(const struct cli_ctx *ctx, json_t *answer,
	    const struct cli_col *cols, size_t ncols);
/* Printer helper: a token just made, the one time it is visible: its id,
 * its expiry when expiry, the token alone on its line, then advice (where
 * it goes; it is shown only once).  The token is wiped from answer. */
int	 cli_print_token(const struct cli_ctx *ctx, json_t *answer,
	    int expiry, const char *advice);

/* cli_requests.c */
/* Append a request object for people: key/value lines, the fulfilment
 * instructions when it awaits fulfilment, then its history. */
void	 cli_request_render(struct buf *out, json_t *req);
/* Append history entries as a timeline, oldest first, one line each:
 * "<at>  <actor>  <action>  \"<comment>\"" with columns aligned. */
void	 cli_timeline_render(struct buf *out, json_t *history);
/* Append "request ID: STATE" and what to do next (the exact name to
 * create, the credential issued, why issuance failed). */
void	 cli_request_state_render(struct buf *out, json_t *req);

/* cli_credentials.c */
/* Append a credential just issued, directly or by rotation: a headline
 * ("successor ID of OLD: STATE" for a rotation), its fields, and how its
 * secret is collected (revealed by its owner, or, while it is pending,
 * after its request is fulfilled). */
void	 cli_issued_render(struct buf *out, json_t *cred);
/* Append the one-time secret of a reveal answer: the api_token secret
 * alone on a line, or client_id and client_secret lines.  0, or -1 if
 * the answer holds neither. */
int	 cli_reveal_render(struct buf *out, json_t *answer);

/* cli_audit.c */
/* Append the verdict of /v1/audit/verify as one line; returns the exit
 * code (CLI_EXIT_OK intact, CLI_EXIT_FAIL broken or not a verdict). */
int	 cli_verify_render(struct buf *out, json_t *verdict);

/* cli_revoke.c — bulk revocation, factored so the tests can drive it. */
enum cli_rv_state {
	CLI_RV_PENDING,		/* not tried yet */
	CLI_RV_RETRY,		/* failed transiently; tried again later */
	CLI_RV_REVOKED,
	CLI_RV_NOT_ACTIVE,	/* 409: already revoked or expired */
	CLI_RV_FAILED,		/* failed for good */
};

struct cli_rv_target {
	char			*id;
	char			*owner;		/* or NULL: unknown */
	enum cli_rv_state	 state;
	int			 attempts;
	char			 why[CLI_ERR_MAX]; /* last failure, or "" */
};

struct cli_bulk {
	struct cli_rv_target	*t;
	size_t			 n;
	size_t			 cap;
};

/* Revoke one credential; 0, or -1 with *fail filled. */
typedef int (*cli_revoke_fn)(void *arg, const char *id,
    struct cli_fail *fail);
/* Wait before the next round of retries. */
typedef void (*cli_sleep_fn)(void *arg, unsigned seconds);

/* Add a target (id and owner copied; owner may be NULL).  0 or
 * KW_ERR_NOMEM.  A target already present is not added twice. */
int	 cli_bulk_add(struct cli_bulk *b, const char *id, const char *owner);
void	 cli_bulk_free(struct cli_bulk *b);
/* What a failed attempt means: retry (transport, 408, 429, 5xx), not
 * active (409), or failed for good (any other status). */
enum cli_rv_state cli_revoke_classify(const struct cli_fail *fail);
/*
 * Revoke every target through fn, up to CLI_REVOKE_ATTEMPTS times each,
 * sleeping through sl between rounds (1 s, then 2 s); one line per final
 * outcome (and per failure about to be retried) on out when not NULL.
 * Returns the number of targets that finally failed.
 */
size_t	 cli_bulk_revoke(struct cli_bulk *b, cli_revoke_fn fn,
	    cli_sleep_fn sl, void *arg, FILE *out);
/* Append the closing summary line; returns the exit code. */
int	 cli_bulk_summary(const struct cli_bulk *b, struct buf *out);
/* The outcome as a JSON object {"revoked", "not_active", "failed",
 * "results": [{"id", "owner", "result", "attempts", "error"}]}; new. */
json_t	*cli_bulk_json(const struct cli_bulk *b);

#endif /* KW_CLI_INT_H */
