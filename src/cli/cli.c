/*
 * cli.c — the keywarden client: find the resource and verb in the
 * tables, parse the command line against the verb's option table, send
 * one request through net/http and print the answer (or the server's
 * error) for a person or, with --json, for a program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "limits.h"
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "net/http.h"
#include "util/buf.h"
#include "util/jalloc.h"
#include "util/util.h"

static const struct cli_resource *const cli_resources[] = {
	&cli_people,
	&cli_instances,
	&cli_requests,
	&cli_credentials,
	&cli_audit,
	&cli_revoke,
	&cli_report,
	&cli_settings_slack,
	&cli_settings_email,
	&cli_scim_tokens,
};

/* Other spellings of the command words: plural and singular mixed up. */
static const struct {
	const char	*alias;
	const char	*name;
} cli_aliases[] = {
	{ "requests",	"request" },
	{ "credentials", "credential" },
	{ "creds",	"credential" },
	{ "instance",	"instances" },
	{ "person",	"people" },
	{ "persons",	"people" },
	{ "reports",	"report" },
	{ "setting",	"settings" },
	{ "audits",	"audit" },
};

/* Options every client command accepts, before or after the command. */
enum cli_gopt { CG_SERVER, CG_TOKEN, CG_JSON, CG_HELP };

static const struct {
	const char	*name;
	enum cli_gopt	 id;
	int		 has_arg;
	const char	*usage;
} cli_gopts[] = {
	{ "server", CG_SERVER, 1, "--server URL   (env " CLI_ENV_SERVER
	    ", default " CLI_SERVER_DEFAULT ")" },
	{ "token",  CG_TOKEN,  1, "--token TOKEN  personal token (env "
	    CLI_ENV_TOKEN " keeps it out of ps)" },
	{ "json",   CG_JSON,   0, "--json         print the server's JSON "
	    "answer instead of a table" },
	{ "help",   CG_HELP,   0, "--help         show a command's usage" },
};

/* 1 if a resource is called name, or name is the group word of one
 * ("settings" of "settings slack"); word NULL matches every name. */
static int
cli_name_matches(const char *name, const char *word)
{
	size_t n;

	if (word == NULL)
		return 1;
	n = strlen(word);
	return strncmp(name, word, n) == 0 &&
	    (name[n] == '\0' || name[n] == ' ');
}

static const struct cli_resource *
cli_resource_find(const char *name)
{
	size_t i;

	for (i = 0; i < KW_NELEM(cli_resources); i++)
		if (strcmp(cli_resources[i]->name, name) == 0)
			return cli_resources[i];
	return NULL;
}

static const struct cli_verb *
cli_verb_find(const struct cli_resource *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nverbs; i++)
		if (strcmp(r->verbs[i].name, name) == 0)
			return &r->verbs[i];
	return NULL;
}

const char *
cli_canonical(const char *word)
{
	size_t i;

	for (i = 0; word != NULL && i < KW_NELEM(cli_aliases); i++)
		if (strcmp(word, cli_aliases[i].alias) == 0)
			return cli_aliases[i].name;
	return word;
}

/* The edit distance (insertions, deletions, substitutions, and swaps
 * of two neighbours) between a and b, both at most CLI_WORD_MAX long;
 * CLI_WORD_MAX + 1 beyond. */
#define CLI_WORD_MAX	32
static size_t
cli_distance(const char *a, const char *b)
{
	size_t	d[CLI_WORD_MAX + 1][CLI_WORD_MAX + 1];
	size_t	n = strlen(a), m = strlen(b), i, j, v;

	if (n > CLI_WORD_MAX || m > CLI_WORD_MAX)
		return CLI_WORD_MAX + 1;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

/* Keep w in *best when it is closer to word than *bestd. */
static void
cli_closer(const char *word, const char *w, size_t wlen, const char **best,
    size_t *bestd)
{
	char	one[CLI_WORD_MAX + 1];
	size_t	d;

	if (wlen > CLI_WORD_MAX)
		return;
	memcpy(one, w, wlen);
	one[wlen] = '\0';
	if ((d = cli_distance(word, one)) < *bestd) {
		*bestd = d;
		*best = w;
	}
}

const char *
cli_suggest(const char *word, const char *const *extra)
{
	static char	 out[CLI_WORD_MAX + 1];
	const char	*best = NULL, *name;
	size_t		 bestd = CLI_WORD_MAX + 1, i, n;

	for (i = 0; i < KW_NELEM(cli_resources); i++) {
		name = cli_resources[i]->name;
		cli_closer(word, name, strcspn(name, " "), &best, &bestd);
	}
	for (i = 0; i < KW_NELEM(cli_aliases); i++)
		cli_closer(word, cli_aliases[i].alias,
		    strlen(cli_aliases[i].alias), &best, &bestd);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		cli_closer(word, extra[i], strlen(extra[i]), &best, &bestd);
	/* a typo, not another word: at most 2 edits, and fewer than half
	 * of what was typed */
	if (best == NULL || bestd > 2 || 2 * bestd >= strlen(word))
		return NULL;
	n = strcspn(best, " ");
	memcpy(out, best, n);
	out[n] = '\0';
	return cli_canonical(out) == out ? out : cli_canonical(out);
}

int
cli_handles(const char *word)
{
	size_t i;

	word = cli_canonical(word);
	if (word == NULL || *word == '\0' || strchr(word, ' ') != NULL)
		return 0;
	for (i = 0; i < KW_NELEM(cli_resources); i++)
		if (cli_name_matches(cli_resources[i]->name, word))
			return 1;
	return 0;
}

/* Index of the global option "--name" or "--name=v" in arg, or -1. */
static int
cli_gopt_find(const char *arg)
{
	size_t i, n;

	if (strncmp(arg, "--", 2) != 0)
		return -1;
	arg += 2;
	n = strcspn(arg, "=");
	for (i = 0; i < KW_NELEM(cli_gopts); i++)
		if (strlen(cli_gopts[i].name) == n &&
		    strncmp(cli_gopts[i].name, arg, n) == 0)
			return (int)i;
	return -1;
}

int
cli_first_word(int argc, char **argv)
{
	return cli_find_verb(argc, argv);
}

int
cli_find_verb(int argc, char **argv)
{
	int i, g;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? i + 1 : 0;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return i;
		g = cli_gopt_find(argv[i]);
		if (g >= 0 && cli_gopts[g].has_arg &&
		    strchr(argv[i], '=') == NULL)
			i++;		/* skip its value */
	}
	return 0;
}

/* 1 if val is one of the '|'-separated words in choices. */
static int
cli_choice_ok(const char *choices, const char *val)
{
	size_t n, vlen = strlen(val);

	while (*choices) {
		n = strcspn(choices, "|");
		if (n == vlen && strncmp(choices, val, n) == 0)
			return 1;
		choices += n;
		if (*choices == '|')
			choices++;
	}
	return 0;
}

/* Check the syntax of one option value; 0 or -1 with err filled. */
static int
cli_value_check(const struct cli_field *f, const char *val, char *err,
    size_t errsz)
{
	time_t	t;
	size_t	n;

	switch (f->type) {
	case CF_BOOL:
		if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0) {
			snprintf(err, errsz, "--%s takes true or false",
			    f->opt);
			return -1;
		}
		break;
	case CF_INT:
	case CF_INT_LIST:
	case CF_QINT:
		n = strspn(val, "0123456789");
		if (n == 0 || val[n] != '\0' || n > 9) {
			snprintf(err, errsz, "--%s takes a whole number",
			    f->opt);
			return -1;
		}
		break;
	case CF_QTIME:
		if (kw_time_parse(val, &t) != 0) {
			snprintf(err, errsz, "--%s takes an RFC 3339 UTC time "
			    "(2026-11-28T09:00:00Z)", f->opt);
			return -1;
		}
		break;
	default:
		break;
	}
	if (f->choices != NULL && !cli_choice_ok(f->choices, val)) {
		snprintf(err, errsz, "--%s takes one of: %s", f->opt,
		    f->choices);
		return -1;
	}
	return 0;
}

/* 1 if the option type takes no value. */
static int
cli_is_flag(enum cli_ftype t)
{
	return t == CF_CLEAR || t == CF_NULL || t == CF_TRUE || t == CF_QFLAG;
}

/*
 * Record one verb option occurrence after checking it against those
 * seen so far: a single-valued option at most once, and of the options
 * sharing a key (alternatives) only one.
 */
static int
cli_opt_add(struct cli_args *a, const struct cli_field *f, const char *val,
    char *err, size_t errsz)
{
	size_t i;

	for (i = 0; i < a->nopts; i++) {
		if (a->opts[i].f == f && !cli_is_repeatable(f->type)) {
			snprintf(err, errsz, "--%s given more than once",
			    f->opt);
			return -1;
		}
		if (a->opts[i].f != f && strcmp(a->opts[i].f->key,
		    f->key) == 0) {
			snprintf(err, errsz, "--%s and --%s cannot be "
			    "combined", a->opts[i].f->opt, f->opt);
			return -1;
		}
	}
	if (a->nopts == CLI_OPTS_MAX) {
		snprintf(err, errsz, "too many options");
		return -1;
	}
	a->opts[a->nopts].f = f;
	a->opts[a->nopts].val = val;
	a->nopts++;
	return 0;
}

/*
 * Parse one "--name[=value]" at argv[*ip], taking the value from the next
 * argument when needed (and advancing *ip).
 */
static int
cli_opt_parse(const struct cli_verb *v, int argc, char **argv, int *ip,
    struct cli_args *a, char *err, size_t errsz)
{
	const struct cli_field	*f = NULL;
	const char		*name = argv[*ip] + 2, *eq, *val = NULL;
	size_t			 n, i;
	int			 g, has_arg;

	eq = strchr(name, '=');
	n = eq ? (size_t)(eq - name) : strlen(name);
	if ((g = cli_gopt_find(argv[*ip])) < 0) {
		for (i = 0; i < v->nfields; i++)
			if (strlen(v->fields[i].opt) == n &&
			    strncmp(v->fields[i].opt, name, n) == 0)
				f = &v->fields[i];
		if (f == NULL) {
			snprintf(err, errsz, "unknown option --%.*s", (int)n,
			    name);
			return -1;
		}
	}
	has_arg = g >= 0 ? cli_gopts[g].has_arg : !cli_is_flag(f->type);
	if (!has_arg && eq != NULL) {
		snprintf(err, errsz, "--%.*s takes no value", (int)n, name);
		return -1;
	}
	if (has_arg) {
		if (eq != NULL)
			val = eq + 1;
		else if (*ip + 1 < argc)
			val = argv[++*ip];
		else {
			snprintf(err, errsz, "--%.*s needs a value", (int)n,
			    name);
			return -1;
		}
	}
	if (g >= 0) {
		switch (cli_gopts[g].id) {
		case CG_SERVER:	a->server = val; break;
		case CG_TOKEN:	a->token = val;	break;
		case CG_JSON:	a->json = 1;	break;
		case CG_HELP:	a->help = 1;	break;
		}
		return 0;
	}
	if (val != NULL && cli_value_check(f, val, err, errsz) != 0)
		return -1;
	return cli_opt_add(a, f, val, err, errsz);
}

/*
 * Check that the required option v->fields[i] was given; of alternatives
 * (the options sharing its key), any one will do.  0, or -1 with err
 * naming them all.
 */
static int
cli_required_check(const struct cli_verb *v, size_t i,
    const struct cli_args *a, char *err, size_t errsz)
{
	const char	*key = v->fields[i].key;
	size_t		 j, k, len;

	for (j = 0; j < a->nopts; j++)
		if (strcmp(a->opts[j].f->key, key) == 0)
			return 0;
	err[0] = '\0';
	for (k = 0; k < v->nfields; k++) {
		if (strcmp(v->fields[k].key, key) != 0)
			continue;
		len = strlen(err);
		snprintf(err + len, errsz - len, "%s--%s", len ? " or " : "",
		    v->fields[k].opt);
	}
	len = strlen(err);
	snprintf(err + len, errsz - len, " is required");
	return -1;
}

/* At most one secret comes from standard input ("-"): the first
 * reading may take in more than its own line. */
static int
cli_stdin_check(const struct cli_args *a, char *err, size_t errsz)
{
	const struct cli_field	*first = NULL;
	size_t			 i;

	for (i = 0; i < a->nopts; i++) {
		if (a->opts[i].f->type != CF_SECRET_FILE ||
		    strcmp(a->opts[i].val, "-") != 0)
			continue;
		if (first != NULL) {
			snprintf(err, errsz, "--%s and --%s cannot both read "
			    "standard input ('-'): give one a file",
			    first->opt, a->opts[i].f->opt);
			return -1;
		}
		first = a->opts[i].f;
	}
	return 0;
}

/* After parsing: positional count and shape, required options. */
static int
cli_args_check(const struct cli_verb *v, const struct cli_args *a,
    char *err, size_t errsz)
{
	size_t	 want = v->posname ? 1 : 0, i;

	if (a->npos < want) {
		snprintf(err, errsz, "missing %s", v->posname);
		return -1;
	}
	if (a->npos > want) {
		snprintf(err, errsz, "unexpected argument '%s'",
		    a->pos[want]);
		return -1;
	}
	for (i = 0; i < a->npos; i++)
		if (a->pos[i][0] == '\0' || strcmp(a->pos[i], ".") == 0 ||
		    strcmp(a->pos[i], "..") == 0 ||
		    strlen(a->pos[i]) > KW_EMAIL_MAX) {
			snprintf(err, errsz, "invalid %s", v->posname);
			return -1;
		}
	for (i = 0; i < v->nfields; i++)
		if ((v->fields[i].flags & CLI_REQ) &&
		    cli_required_check(v, i, a, err, errsz) != 0)
			return -1;
	return cli_stdin_check(a, err, errsz);
}

int
cli_args_parse(const struct cli_verb *v, int argc, char **argv, int vi,
    struct cli_args *a, char *err, size_t errsz)
{
	int	i, rest = 0;

	memset(a, 0, sizeof(*a));
	for (i = 1; i < argc; i++) {
		if (i == vi)
			continue;
		if (!rest && strcmp(argv[i], "--") == 0 &&
		    (v->flags & CLI_V_REST) && i > vi) {
			a->rest = &argv[i + 1];
			a->nrest = argc - i - 1;
			break;
		} else if (!rest && strcmp(argv[i], "--") == 0) {
			rest = 1;
		} else if (!rest && strcmp(argv[i], "-h") == 0) {
			a->help = 1;
		} else if (!rest && strncmp(argv[i], "--", 2) == 0) {
			if (cli_opt_parse(v, argc, argv, &i, a, err,
			    errsz) != 0)
				return -1;
		} else if (!rest && argv[i][0] == '-' && argv[i][1] != '\0') {
			snprintf(err, errsz, "unknown option %s", argv[i]);
			return -1;
		} else if (a->npos == CLI_POS_MAX) {
			snprintf(err, errsz, "too many arguments");
			return -1;
		} else
			a->pos[a->npos++] = argv[i];
	}
	if (a->help)
		return 0;
	return cli_args_check(v, a, err, errsz);
}

/* Append one usage word of field f (within a group when alt). */
static void
cli_field_usage(struct buf *out, const struct cli_field *f, int alt)
{
	int opt = !(f->flags & CLI_REQ);

	if (opt && !alt)
		buf_addstr(out, "[");
	buf_printf(out, "--%s", f->opt);
	if (f->metavar != NULL)
		buf_printf(out, " %s", f->metavar);
	if (alt && cli_is_repeatable(f->type))
		buf_addstr(out, "...");
	if (opt && !alt)
		buf_addstr(out, cli_is_repeatable(f->type) ? "]..." : "]");
}

/* Append word to the usage being built, wrapping before it if the line
 * would grow past CLI_USAGE_WIDTH. */
static void
cli_usage_word(struct buf *out, size_t *col, size_t indent, const char *word)
{
	size_t n = strlen(word);

	if (*col + 1 + n > CLI_USAGE_WIDTH && *col > indent) {
		buf_addstr(out, "\n");
		buf_printf(out, "%*s", (int)indent, "");
		*col = indent;
	} else {
		buf_addstr(out, " ");
		(*col)++;
	}
	buf_addstr(out, word);
	*col += n;
}

/* Append the alternatives v->fields[i..j) as words of their own: the
 * first opens the group, each next one starts with "| ". */
static void
cli_group_usage(struct buf *out, size_t *col, size_t indent,
    const struct cli_verb *v, size_t i, size_t j, int req)
{
	struct buf	w;
	size_t		k;

	for (k = i; k < j; k++) {
		buf_init(&w, CLI_OUT_MAX);
		buf_addstr(&w, k == i ? (req ? "(" : "[") : "| ");
		cli_field_usage(&w, &v->fields[k], 1);
		if (k + 1 == j)
			buf_addstr(&w, req ? ")" : "]");
		cli_usage_word(out, col, indent, buf_str(&w));
		buf_free(&w);
	}
}

void
cli_verb_usage(struct buf *out, const char *lead, const struct cli_resource *r,
    const struct cli_verb *v)
{
	struct buf	 w;
	size_t		 col, indent, i, j, k;
	int		 req;

	buf_printf(out, "%skeywarden %s%s%s", lead, r->name,
	    v->name ? " " : "", v->name ? v->name : "");
	col = strlen(lead) + strlen("keywarden ") + strlen(r->name) +
	    (v->name ? 1 + strlen(v->name) : 0);
	indent = strlen(lead) + 4;
	if (v->posname != NULL)
		cli_usage_word(out, &col, indent, v->posname);
	for (i = 0; i < v->nfields; i = j) {
		/* Adjacent options setting the same key are alternatives. */
		for (j = i + 1; j < v->nfields &&
		    strcmp(v->fields[j].key, v->fields[i].key) == 0; j++)
			;
		buf_init(&w, CLI_OUT_MAX);
		if (j - i == 1)
			cli_field_usage(&w, &v->fields[i], 0);
		else {
			/* One of a required group must be given. */
			req = v->fields[i].flags & CLI_REQ;
			buf_addstr(&w, req ? "(" : "[");
			for (k = i; k < j; k++) {
				cli_field_usage(&w, &v->fields[k], 1);
				if (k + 1 < j)
					buf_addstr(&w, " | ");
			}
			buf_addstr(&w, req ? ")" : "]");
			if (indent + w.len > CLI_USAGE_WIDTH) {
				/* Too wide for any line: break it before
				 * each "|". */
				buf_free(&w);
				cli_group_usage(out, &col, indent, v, i, j,
				    req);
				continue;
			}
		}
		cli_usage_word(out, &col, indent, buf_str(&w));
		buf_free(&w);
	}
	buf_addstr(out, "\n");
}

/* Usage of every verb of the resources called word or in its group (of
 * all resources when NULL), under a heading when header is set, then the
 * client options. */
static void
cli_usage_render(struct buf *out, const char *word, int header)
{
	size_t i, j;

	if (header)
		buf_addstr(out, "client commands (talk to a running keywarden "
		    "server):\n");
	for (i = 0; i < KW_NELEM(cli_resources); i++) {
		if (!cli_name_matches(cli_resources[i]->name, word))
			continue;
		for (j = 0; j < cli_resources[i]->nverbs; j++)
			cli_verb_usage(out, "  ", cli_resources[i],
			    &cli_resources[i]->verbs[j]);
	}
	buf_addstr(out, "client options (anywhere after the resource "
	    "word):\n");
	for (i = 0; i < KW_NELEM(cli_gopts); i++)
		buf_printf(out, "  %s\n", cli_gopts[i].usage);
}

void
cli_usage(FILE *fp)
{
	struct buf b;

	buf_init(&b, CLI_OUT_MAX);
	cli_usage_render(&b, NULL, 0);
	fputs(buf_str(&b), fp);
	buf_free(&b);
}

void
cli_error_format(struct buf *out, long status, const char *body, size_t len)
{
	buf_addstr(out, "keywarden: ");
	cli_error_describe(out, status, body, len);
	buf_addstr(out, "\n");
}

void
cli_error_describe(struct buf *out, long status, const char *body,
    size_t len)
{
	json_t	*root, *e, *code, *msg, *field;

	root = len > 0 ? json_loadb(body, len, 0, NULL) : NULL;
	e = json_object_get(root, "error");
	code = json_object_get(e, "code");
	msg = json_object_get(e, "message");
	field = json_object_get(json_object_get(e, "details"), "field");
	buf_printf(out, "%ld ", status);
	if (json_is_string(code) && json_is_string(msg)) {
		cli_add_safe(out, json_string_value(code));
		buf_addstr(out, ": ");
		cli_add_safe(out, json_string_value(msg));
		if (json_is_string(field)) {
			buf_addstr(out, " (field: ");
			cli_add_safe(out, json_string_value(field));
			buf_addstr(out, ")");
		}
	} else
		buf_addstr(out, "error: the server's answer carries no "
		    "error description");
	json_decref(root);
}

/* The option of verb v that sets the body field key ("scopes" ->
 * "scope"), or NULL. */
static const char *
cli_option_of(const struct cli_verb *v, const char *key)
{
	size_t i;

	for (i = 0; v != NULL && i < v->nfields; i++)
		if (strcmp(v->fields[i].key, key) == 0)
			return v->fields[i].opt;
	return NULL;
}

void
cli_error_hint(struct buf *out, const struct cli_ctx *ctx, long status,
    const char *body, size_t len)
{
	json_t		*root, *field;
	const char	*opt;

	if (status == 401) {
		buf_printf(out, "\nkeywarden: %s; give your personal token "
		    "with --token TOKEN or, better (it stays out of ps), the "
		    "environment variable " CLI_ENV_TOKEN ". An admin issues "
		    "one with: keywarden people token EMAIL (or keywarden "
		    "issue-token --data-dir DIR --email EMAIL on the server)",
		    ctx->token == NULL ? "no token was given" : "the server "
		    "did not accept this token (unknown, revoked, expired, or "
		    "its person is inactive)");
		return;
	}
	root = len > 0 ? json_loadb(body, len, 0, NULL) : NULL;
	field = json_object_get(json_object_get(json_object_get(root,
	    "error"), "details"), "field");
	if (json_is_string(field) &&
	    (opt = cli_option_of(ctx->verb, json_string_value(field))) != NULL)
		buf_printf(out, " [option --%s]", opt);
	json_decref(root);
}

/* Print a usage error for verb v of r (or the usage of the resources
 * called word, or in its group). */
static int
cli_usage_error_word(const char *word, const struct cli_resource *r,
    const struct cli_verb *v, const char *msg)
{
	struct buf b;

	buf_init(&b, CLI_OUT_MAX);
	if (msg != NULL)
		buf_printf(&b, "keywarden: %s\n", msg);
	if (v != NULL)
		cli_verb_usage(&b, "usage: ", r, v);
	else
		cli_usage_render(&b, word, 1);
	fputs(buf_str(&b), stderr);
	buf_free(&b);
	return CLI_EXIT_USAGE;
}

/* Print a usage error for verb v of r (or the resource's usage). */
static int
cli_usage_error(const struct cli_resource *r, const struct cli_verb *v,
    const char *msg)
{
	return cli_usage_error_word(r->name, r, v, msg);
}

/* Describe transport failure r of net_do() into text[textsz]. */
static void
cli_net_error(const struct cli_ctx *ctx, int r, const char *why, char *text,
    size_t textsz)
{
	if (r == KW_ERR_TOO_LARGE)
		snprintf(text, textsz, "the answer of the server at %s is "
		    "larger than %d bytes", ctx->server, KW_RESPONSE_MAX);
	else if (r == KW_ERR_VALIDATION)
		snprintf(text, textsz, "refusing to contact %s: %s",
		    ctx->server, why);
	else
		snprintf(text, textsz, "cannot reach server at %s: %s",
		    ctx->server, why);
}

int
cli_exchange(const struct cli_ctx *ctx, const char *method, const char *url,
    const char *body, size_t blen, json_t **answer, struct cli_fail *fail)
{
	struct net_request	 rq;
	struct net_response	 rs;
	struct cli_fail		 local;
	struct buf		 eb;
	int			 r, rc = CLI_EXIT_FAIL, printed = 0;

	*answer = NULL;
	if (fail == NULL)
		fail = &local;
	memset(fail, 0, sizeof(*fail));
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.bearer = ctx->token;
	if (body != NULL) {
		rq.content_type = "application/json";
		rq.body = body;
		rq.body_len = blen;
	}
	if ((r = net_do(&rq, &rs)) != 0) {
		fail->neterr = r;
		cli_net_error(ctx, r, rs.error, fail->text, sizeof(fail->text));
		goto out;
	}
	fail->status = rs.status;
	if (rs.status < 200 || rs.status > 299) {
		/* Whole on the terminal, shortened for a caller's report. */
		buf_init(&eb, CLI_OUT_MAX);
		cli_error_describe(&eb, rs.status, buf_str(&rs.body),
		    rs.body.len);
		cli_error_hint(&eb, ctx, rs.status, buf_str(&rs.body),
		    rs.body.len);
		if (fail == &local)
			fprintf(ctx->err, "keywarden: %s\n", buf_str(&eb));
		else
			kw_strlcpy(fail->text, buf_str(&eb), sizeof(fail->text));
		buf_free(&eb);
		printed = 1;
		goto out;
	}
	/* 204 and other empty successes: nothing to show, but not wrong. */
	if (rs.body.len == 0)
		*answer = json_object();
	else
		*answer = json_loadb(buf_str(&rs.body), rs.body.len, 0, NULL);
	if (!json_is_object(*answer)) {
		snprintf(fail->text, sizeof(fail->text), "the server at %s "
		    "answered %ld without a JSON object", ctx->server,
		    rs.status);
		json_decref(*answer);
		*answer = NULL;
		goto out;
	}
	rc = CLI_EXIT_OK;
 out:
	if (rc != CLI_EXIT_OK && fail == &local && !printed)
		fprintf(ctx->err, "keywarden: %s\n", fail->text);
	net_response_free(&rs);
	return rc;
}

int
cli_print_json(const struct cli_ctx *ctx, json_t *answer)
{
	struct buf	 b;
	char		*s;
	int		 rc;

	if ((s = json_dumps(answer, JSON_INDENT(2))) == NULL) {
		fprintf(ctx->err, "keywarden: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	/* One append, so the buffer is never moved (a reallocation would
	 * leave an unwiped copy of a revealed secret behind). */
	buf_init(&b, CLI_OUT_MAX);
	buf_printf(&b, "%s\n", s);
	kw_wipe(s, strlen(s));
	free(s);
	rc = cli_emit(ctx, &b);
	buf_free(&b);
	return rc;
}

void
cli_url(struct buf *url, const struct cli_ctx *ctx, const char *tmpl,
    const char *arg)
{
	buf_addstr(url, ctx->server);
	cli_path_build(url, tmpl, arg);
}

const char *
cli_opt_get(const struct cli_args *a, const char *opt)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (strcmp(a->opts[i].f->opt, opt) == 0)
			return a->opts[i].val ? a->opts[i].val : "";
	return NULL;
}

/*
 * The server's base URL: --server, else $KEYWARDEN_SERVER, else the
 * default; copied into out without trailing slashes.  0 or -1 (err).
 */
static int
cli_server(const struct cli_args *a, char *out, size_t outsz, char *err,
    size_t errsz)
{
	const char	*s = a->server;
	size_t		 n;

	if (s == NULL && (s = getenv(CLI_ENV_SERVER)) != NULL && *s == '\0')
		s = NULL;
	if (s == NULL)
		s = CLI_SERVER_DEFAULT;
	if (kw_strlcpy(out, s, outsz) >= outsz || !kw_valid_url(out, 1) ||
	    strpbrk(out, "?#") != NULL) {
		snprintf(err, errsz, "server URL '%.*s' is not an https:// "
		    "URL (plain http:// only to a loopback host)", 200, s);
		return -1;
	}
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

/* Run verb v of resource r with the parsed arguments a. */
static int
cli_run_verb(const struct cli_resource *r, const struct cli_verb *v,
    const struct cli_args *a)
{
	struct cli_ctx	 ctx;
	struct buf	 url;
	json_t		*body = NULL, *answer = NULL;
	char		 server[KW_URL_MAX + 1], err[CLI_ERR_MAX];
	char		*text = NULL;
	size_t		 tlen = 0, i;
	int		 rc, e;

	buf_init(&url, KW_URL_MAX);
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = stdout;
	ctx.err = stderr;
	ctx.json = a->json;
	ctx.server = server;
	ctx.verb = v;
	ctx.token = a->token ? a->token : getenv(CLI_ENV_TOKEN);
	if (ctx.token != NULL && *ctx.token == '\0')
		ctx.token = NULL;	/* let the server say it is missing */
	if (cli_server(a, server, sizeof(server), err, sizeof(err)) != 0) {
		rc = cli_usage_error(r, v, err);
		goto out;
	}
	if (v->run != NULL) {
		rc = v->run(&ctx, v, a);
		goto out;
	}
	cli_url(&url, &ctx, v->path, a->npos ? a->pos[0] : NULL);
	cli_query_build(a, &url);
	if (buf_err(&url) != 0) {
		rc = cli_usage_error(r, v, "request URL too long");
		goto out;
	}
	if (strcmp(v->method, "GET") != 0) {
		if ((e = cli_body_build(v, a, &body, err, sizeof(err))) != 0) {
			rc = e == KW_ERR_VALIDATION ?
			    cli_usage_error(r, v, err) : CLI_EXIT_FAIL;
			if (e != KW_ERR_VALIDATION)
				fprintf(stderr, "keywarden: %s\n", err);
			goto out;
		}
		if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
			fprintf(stderr, "keywarden: out of memory\n");
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		tlen = strlen(text);
	}
	if ((rc = cli_exchange(&ctx, v->method, buf_str(&url), text, tlen,
	    &answer, NULL)) != CLI_EXIT_OK)
		goto out;
	if (ctx.json && !(v->flags & CLI_V_OWNJSON))
		rc = cli_print_json(&ctx, answer);
	else
		rc = v->print(&ctx, answer);
	if (v->flags & CLI_V_SECRET)
		cli_json_wipe_all(answer);
 out:
	if (text != NULL) {
		kw_wipe(text, tlen);	/* may hold a bot token */
		free(text);
	}
	for (i = 0; body != NULL && i < v->nfields; i++)
		if (v->fields[i].type == CF_SECRET_FILE ||
		    v->fields[i].type == CF_SECRET_ENV)
			cli_json_wipe(body, v->fields[i].key);
	json_decref(body);
	json_decref(answer);
	buf_free(&url);
	return rc;
}

/* Print the usage of verb v of r (for --help), or of the resources
 * called word or in its group, on stdout. */
static int
cli_help_word(const char *word, const struct cli_resource *r,
    const struct cli_verb *v)
{
	struct buf b;

	buf_init(&b, CLI_OUT_MAX);
	if (v != NULL) {
		cli_verb_usage(&b, "usage: ", r, v);
		buf_printf(&b, "%s\n", v->help);
	} else
		cli_usage_render(&b, word, 1);
	fputs(buf_str(&b), stdout);
	buf_free(&b);
	return CLI_EXIT_OK;
}

static int
cli_help(const struct cli_resource *r, const struct cli_verb *v)
{
	return cli_help_word(r->name, r, v);
}

/* 1 if argv holds --help or -h. */
static int
cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/*
 * The resource argv names: argv[0] itself, or, when argv[0] is a group
 * word ("settings"), argv[0] and the first word after it that is not a
 * global option ("slack"), whose index goes in *subp (0: none).  NULL
 * when there is none to run: *rcp is then the exit code, the help or the
 * usage error already shown.
 */
static const struct cli_resource *
cli_resource_pick(int argc, char **argv, int *subp, int *rcp)
{
	const struct cli_resource	*r;
	struct buf			 name;
	char				 err[CLI_ERR_MAX];
	int				 si;

	*subp = 0;
	if ((r = cli_resource_find(argv[0])) != NULL)
		return r;
	if ((si = cli_find_verb(argc, argv)) == 0) {
		*rcp = cli_wants_help(argc, argv) ?
		    cli_help_word(argv[0], NULL, NULL) :
		    cli_usage_error_word(argv[0], NULL, NULL,
		    "missing command");
		return NULL;
	}
	if (strcmp(argv[si], "help") == 0) {
		*rcp = cli_help_word(argv[0], NULL, NULL);
		return NULL;
	}
	buf_init(&name, CLI_ERR_MAX);
	buf_printf(&name, "%s %s", argv[0], argv[si]);
	if (buf_err(&name) != 0 ||
	    (r = cli_resource_find(buf_str(&name))) == NULL) {
		snprintf(err, sizeof(err), "unknown command '%s %.*s'",
		    argv[0], 64, argv[si]);
		*rcp = cli_usage_error_word(argv[0], NULL, NULL, err);
	} else
		*subp = si;
	buf_free(&name);
	return r;
}

/*
 * The verb argv names for the resource r (argv[0]), and its index in
 * *vip.  NULL when there is none to run: *rcp is then the exit code, the
 * help or the usage error already shown.
 */
static const struct cli_verb *
cli_verb_pick(const struct cli_resource *r, int argc, char **argv, int *vip,
    int *rcp)
{
	const struct cli_verb	*v;
	char			 err[CLI_ERR_MAX];
	int			 vi;

	if (r->flags & CLI_R_BARE) {
		*vip = 0;	/* options only: nothing to skip */
		return &r->verbs[0];
	}
	vi = cli_find_verb(argc, argv);
	/* "settings email --smtp-url ...": options first mean "set" */
	if ((vi == 0 || (vi > 1 && argv[vi - 1][0] == '-' &&
	    cli_gopt_find(argv[vi - 1]) < 0)) && argc > 1 &&
	    !cli_wants_help(argc, argv) &&
	    (v = cli_verb_find(r, "set")) != NULL) {
		*vip = 0;
		return v;
	}
	if (vi == 0) {
		*rcp = cli_wants_help(argc, argv) ? cli_help(r, NULL) :
		    cli_usage_error(r, NULL, "missing command");
		return NULL;
	}
	if (strcmp(argv[vi], "help") == 0) {
		*rcp = cli_help(r, NULL);
		return NULL;
	}
	if ((v = cli_verb_find(r, argv[vi])) == NULL) {
		snprintf(err, sizeof(err), "unknown command '%s %.*s'",
		    r->name, 64, argv[vi]);
		*rcp = cli_usage_error(r, NULL, err);
		return NULL;
	}
	*vip = vi;
	return v;
}

int
cli_run(int argc, char **argv)
{
	const struct cli_resource	*r;
	const struct cli_verb		*v;
	struct cli_args			*a = NULL;
	char				 err[CLI_ERR_MAX], **av = NULL;
	int				 vi = 0, si, i, n, rc = CLI_EXIT_USAGE;

	if (argc >= 1)
		argv[0] = (char *)(uintptr_t)cli_canonical(argv[0]);
	if (argc < 1 || !cli_handles(argv[0])) {
		fprintf(stderr, "keywarden: unknown command\n");
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_resource_pick(argc, argv, &si, &rc)) == NULL)
		return rc;
	if (si > 0) {
		/* "settings slack set ...": drop the member word, so the
		 * rest reads as for a one-word resource. */
		if ((av = calloc((size_t)argc, sizeof(*av))) == NULL) {
			fprintf(stderr, "keywarden: out of memory\n");
			return CLI_EXIT_FAIL;
		}
		for (i = 0, n = 0; i < argc; i++)
			if (i != si)
				av[n++] = argv[i];
		argc = n;
		argv = av;
	}
	if ((v = cli_verb_pick(r, argc, argv, &vi, &rc)) == NULL)
		goto out;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		fprintf(stderr, "keywarden: out of memory\n");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (cli_args_parse(v, argc, argv, vi, a, err, sizeof(err)) != 0) {
		rc = cli_usage_error(r, v, err);
		goto out;
	}
	if (a->help) {
		rc = cli_help(r, v);
		goto out;
	}
	/* jansson's free wipes (parsed answers and the parser's own buffers
	 * may hold a revealed secret or a token); main() installed it too,
	 * this covers callers that reach cli_run() another way (tests). */
	kw_json_alloc_install();
	if (net_global_init() != 0) {
		fprintf(stderr, "keywarden: cannot initialise libcurl\n");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	rc = cli_run_verb(r, v, a);
	net_global_cleanup();
 out:
	free(a);
	free(av);
	return rc;
}
