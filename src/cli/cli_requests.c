/*
 * cli_requests.c — `keywarden request ...`: asking for a credential and
 * moving the request through its states (approve, deny, withdraw,
 * fulfil).  See API.md, "Requests".  The secret of a manual issuance is
 * read from a file or an environment variable, never from argv.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

#define REQ_STATES	"pending_manager|pending_provisioner|" \
			"awaiting_fulfilment|issuing|issued|denied|" \
			"withdrawn|expired|failed"

static const struct cli_field req_create_f[] = {
	{ "instance", "instance", CF_STR, CLI_REQ, "NAME", NULL },
	{ "kind", "kind", CF_STR, CLI_REQ, "api_token|integration",
	    "api_token|integration" },
	{ "justification", "justification", CF_STR, CLI_REQ, "TEXT", NULL },
	{ "use-case", "use_case", CF_STR, CLI_REQ, "TEXT", NULL },
	{ "scope", "scopes", CF_LIST, 0, "SCOPE", NULL },
	{ "lifetime-days", "lifetime_days", CF_INT, CLI_REQ, "N", NULL },
	{ "access-request-url", "access_request_url", CF_STR, 0, "URL", NULL },
	{ "delivery", "delivery", CF_STR, 0, "broker|client_secret|token",
	    "broker|client_secret|token" },
	{ "integration-name", "integration.name", CF_STR, 0, "NAME", NULL },
	{ "redirect-uri", "integration.redirect_uris", CF_LIST, 0, "URI",
	    NULL },
	{ "client-kind", "integration.client_kind", CF_STR, 0,
	    "confidential|public", "confidential|public" },
};

static const struct cli_field req_list_f[] = {
	{ "state", "state", CF_QSTR, 0, "STATE", REQ_STATES },
	{ "instance", "instance", CF_QSTR, 0, "NAME", NULL },
	{ "requester", "requester", CF_QSTR, 0, "EMAIL|ID", NULL },
	{ "actionable", "actionable", CF_QFLAG, 0, NULL, NULL },
	{ "limit", "limit", CF_QINT, 0, "N", NULL },
	{ "cursor", "cursor", CF_QSTR, 0, "CURSOR", NULL },
};

static const struct cli_field req_approve_f[] = {
	{ "comment", "comment", CF_STR, 0, "TEXT", NULL },
	{ "acknowledge-risk", "acknowledge_risk", CF_TRUE, 0, NULL, NULL },
};

static const struct cli_field req_deny_f[] = {
	{ "comment", "comment", CF_STR, CLI_REQ, "TEXT", NULL },
};

static const struct cli_field req_fulfil_f[] = {
	{ "secret-file", "secret", CF_SECRET_FILE, CLI_REQ, "FILE", NULL },
	{ "secret-env", "secret", CF_SECRET_ENV, CLI_REQ, "VAR", NULL },
	{ "external-id", "external_id", CF_STR, 0, "ID", NULL },
};

static const struct cli_col req_cols[] = {
	{ "ID",		"id" },
	{ "INSTANCE",	"instance" },
	{ "KIND",	"kind" },
	{ "STATE",	"state" },
	{ "REQUESTER",	"requester" },
	{ "UPDATED",	"updated_at" },
};

/* The lines of `request show`, in order; rows whose member is absent
 * are left out (the integration ones, for an API token). */
static const struct {
	const char	*label;
	const char	*key;
	const char	*suffix;	/* after a number */
} req_rows[] = {
	{ "id",			"id",				NULL },
	{ "instance",		"instance",			NULL },
	{ "kind",		"kind",				NULL },
	{ "state",		"state",			NULL },
	{ "requester",		"requester",			NULL },
	{ "manager",		"manager",			NULL },
	{ "justification",	"justification",		NULL },
	{ "use case",		"use_case",			NULL },
	{ "scopes",		"scopes",			NULL },
	{ "lifetime",		"lifetime_days",
	    " days (the credential's, once issued)" },
	{ "link",		"link",				NULL },
	{ "integration",	"integration.name",		NULL },
	{ "client kind",	"integration.client_kind",	NULL },
	{ "redirect uris",	"integration.redirect_uris",	NULL },
	{ "credential",		"credential_id",		NULL },
	{ "created",		"created_at",			NULL },
	{ "updated",		"updated_at",			NULL },
	/* the request's own deadline, not the credential's */
	{ "pending until",	"expires_at",			NULL },
};

/* One history entry and where it stood in the answer (for a stable
 * sort). */
struct req_event {
	json_t	*e;
	size_t	 idx;
};

/* Oldest first; RFC 3339 UTC times of one format sort as text.  Equal
 * (or missing) times keep the server's order. */
static int
req_event_cmp(const void *pa, const void *pb)
{
	const struct req_event	*a = pa, *b = pb;
	const char		*ta, *tb;
	int			 c;

	ta = json_string_value(json_object_get(a->e, "at"));
	tb = json_string_value(json_object_get(b->e, "at"));
	c = strcmp(ta ? ta : "", tb ? tb : "");
	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Append s in double quotes, with '"' and '\' escaped. */
static void
req_quote(struct buf *out, const char *s)
{
	buf_addstr(out, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addstr(out, "\\");
		buf_add(out, s, 1);
	}
	buf_addstr(out, "\"");
}

/* Add one timeline row (four cells) for history entry e to t. */
static void
req_event_row(struct cli_table *t, json_t *e)
{
	static const char *const keys[] = { "at", "actor", "action" };
	json_t		*comment = json_object_get(e, "comment");
	struct buf	 cell;
	size_t		 i;

	for (i = 0; i < KW_NELEM(keys); i++) {
		buf_init(&cell, CLI_OUT_MAX);
		cli_value_text(&cell, json_object_get(e, keys[i]), ",");
		cli_table_cell(t, buf_str(&cell));
		buf_free(&cell);
	}
	buf_init(&cell, CLI_OUT_MAX);
	if (json_is_string(comment) && json_string_length(comment) > 0)
		req_quote(&cell, json_string_value(comment));
	cli_table_cell(t, buf_str(&cell));
	buf_free(&cell);
}

void
cli_timeline_render(struct buf *out, json_t *history)
{
	struct req_event	*ev;
	struct cli_table	 t;
	json_t			*e;
	size_t			 i, n = 0;

	if (json_array_size(history) == 0)
		return;
	if ((ev = calloc(json_array_size(history), sizeof(*ev))) == NULL) {
		if (out->err == 0)
			out->err = KW_ERR_NOMEM;
		return;
	}
	json_array_foreach(history, i, e) {
		if (!json_is_object(e))
			continue;
		ev[n].e = e;
		ev[n].idx = i;
		n++;
	}
	qsort(ev, n, sizeof(*ev), req_event_cmp);
	/* A headerless table: columns aligned, no trailing blanks. */
	memset(&t, 0, sizeof(t));
	t.ncols = 4;
	for (i = 0; i < n; i++)
		req_event_row(&t, ev[i].e);
	if (cli_table_render(&t, out) != 0 && out->err == 0)
		out->err = KW_ERR_NOMEM;
	cli_table_free(&t);
	free(ev);
}

/* Append value v as one cell's text: "[]" as "(none)" (no scopes), a
 * number followed by suffix. */
static void
req_value_text(struct buf *out, json_t *v, const char *suffix)
{
	if (json_is_array(v) && json_array_size(v) == 0)
		buf_addstr(out, "(none)");
	else
		cli_value_text(out, v, ", ");
	if (suffix != NULL && json_is_integer(v))
		buf_addstr(out, suffix);
}

/* What the provisioner types on the instance, exactly: shown apart, in
 * this order, each line only when the fulfilment carries it. */
static const struct {
	const char	*label;
	const char	*key;
} req_exact[] = {
	{ "name:",		"name" },
	{ "identifier:",	"identifier" },
	{ "description:",	"description" },
};

/* 1 if req is of kind integration. */
static int
req_is_integration(json_t *req)
{
	json_t *k = json_object_get(req, "kind");

	return json_is_string(k) &&
	    strcmp(json_string_value(k), "integration") == 0;
}

/*
 * Append the instructions of a request awaiting fulfilment: what to
 * create on the instance (name, identifier, description), set apart so
 * none of it can be missed, the rest of the fulfilment object, and the
 * next command (an integration's identifier is its external id).
 */
static void
req_fulfilment_render(struct buf *out, json_t *req)
{
	json_t		*f = json_object_get(req, "fulfilment"), *rest, *v;
	json_t		*name = json_object_get(f, "name");
	json_t		*ident = json_object_get(f, "identifier");
	struct cli_table t;
	struct buf	 b;
	size_t		 i;

	if (!json_is_string(name))
		return;
	memset(&t, 0, sizeof(t));
	t.ncols = 2;
	for (i = 0; i < KW_NELEM(req_exact); i++) {
		v = json_object_get(f, req_exact[i].key);
		if (!json_is_string(v))
			continue;
		cli_table_cell(&t, req_exact[i].label);
		cli_table_cell(&t, json_string_value(v));
	}
	buf_printf(out, "\nCreate the %s on the instance with %s:\n\n",
	    req_is_integration(req) ? "OAuth client" : "credential",
	    t.ncells > 2 ? "exactly these values" : "this exact name");
	if (t.ncells > 2) {
		buf_init(&b, CLI_OUT_MAX);
		if (cli_table_render(&t, &b) != 0 && out->err == 0)
			out->err = KW_ERR_NOMEM;
		cli_indent(out, buf_str(&b), "    ");
		buf_free(&b);
	} else {
		buf_addstr(out, "    ");
		cli_add_safe(out, json_string_value(name));
		buf_addstr(out, "\n");
	}
	cli_table_free(&t);
	buf_addstr(out, "\n");
	if ((rest = json_deep_copy(f)) != NULL) {
		for (i = 0; i < KW_NELEM(req_exact); i++)
			json_object_del(rest, req_exact[i].key);
		if (json_object_size(rest) > 0) {
			buf_init(&b, CLI_OUT_MAX);
			cli_object_render(&b, rest);
			cli_indent(out, buf_str(&b), "  ");
			buf_addstr(out, "\n");
			buf_free(&b);
		}
		json_decref(rest);
	}
	buf_addstr(out, "Then hand keywarden its secret: keywarden request "
	    "fulfil ");
	cli_add_value(out, json_object_get(req, "id"));
	buf_addstr(out, " --secret-file FILE");
	if (req_is_integration(req)) {
		buf_addstr(out, " --external-id ");
		if (json_is_string(ident))
			cli_add_safe(out, json_string_value(ident));
		else
			buf_addstr(out, "CLIENT_IDENTIFIER");
	}
	buf_addstr(out, "\n");
}

void
cli_request_render(struct buf *out, json_t *req)
{
	struct cli_table	 t;
	struct buf		 cell;
	json_t			*v, *history;
	size_t			 i;

	memset(&t, 0, sizeof(t));
	t.ncols = 2;
	for (i = 0; i < KW_NELEM(req_rows); i++) {
		v = cli_json_path(req, req_rows[i].key);
		if (v == NULL && strchr(req_rows[i].key, '.') != NULL)
			continue;
		buf_init(&cell, CLI_OUT_MAX);
		buf_printf(&cell, "%s:", req_rows[i].label);
		cli_table_cell(&t, buf_str(&cell));
		buf_free(&cell);
		buf_init(&cell, CLI_OUT_MAX);
		req_value_text(&cell, v, req_rows[i].suffix);
		cli_table_cell(&t, buf_str(&cell));
		buf_free(&cell);
	}
	if (cli_table_render(&t, out) != 0 && out->err == 0)
		out->err = KW_ERR_NOMEM;
	cli_table_free(&t);
	v = json_object_get(req, "state");
	if (json_is_string(v) &&
	    strcmp(json_string_value(v), "awaiting_fulfilment") == 0)
		req_fulfilment_render(out, req);
	history = json_object_get(req, "history");
	if (json_array_size(history) == 0) {
		buf_addstr(out, "\nhistory: (none)\n");
		return;
	}
	buf_addstr(out, "\nhistory:\n");
	cli_timeline_render(out, history);
}

/* The comment of the last history entry (why a request failed), or
 * NULL. */
static const char *
req_last_comment(json_t *req)
{
	json_t	*h = json_object_get(req, "history");
	size_t	 n = json_array_size(h);

	if (n == 0)
		return NULL;
	return json_string_value(json_object_get(json_array_get(h, n - 1),
	    "comment"));
}

void
cli_request_state_render(struct buf *out, json_t *req)
{
	json_t		*st = json_object_get(req, "state");
	json_t		*cred = json_object_get(req, "credential_id");
	const char	*state = json_is_string(st) ? json_string_value(st) :
			    "";
	const char	*why;
	json_t		*mode = json_object_get(req, "delivery");

	buf_addstr(out, "request ");
	cli_add_value(out, json_object_get(req, "id"));
	buf_addstr(out, ": ");
	cli_add_value(out, st);
	buf_addstr(out, "\n");
	if (strcmp(state, "awaiting_fulfilment") == 0)
		req_fulfilment_render(out, req);
	else if (strcmp(state, "issued") == 0 && json_is_string(cred)) {
		buf_addstr(out, "credential: ");
		cli_add_value(out, cred);
		if (json_is_string(mode) &&
		    strcmp(json_string_value(mode), "broker") == 0)
			buf_addstr(out, "\nkeywarden keeps its secret: its "
			    "owner gets short-lived access tokens with: "
			    "keywarden credential token ");
		else
			buf_addstr(out, "\nIts owner reveals the secret, once, "
			    "with: keywarden credential reveal ");
		cli_add_value(out, cred);
		buf_addstr(out, "\n");
	} else if (strcmp(state, "failed") == 0 &&
	    (why = req_last_comment(req)) != NULL) {
		buf_addstr(out, "reason: ");
		cli_add_safe(out, why);
		buf_addstr(out, "\n");
	}
}

static int
req_print_list(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, req_cols, KW_NELEM(req_cols));
}

static int
req_print_show(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, cli_request_render);
}

static int
req_print_state(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, cli_request_state_render);
}

static const struct cli_verb req_verbs[] = {
	{ "create", NULL, "POST", "/v1/requests", FIELDS(req_create_f), 0,
	    req_print_show, "Ask for a credential on an instance.  An "
	    "api_token needs at least one --scope (repeat it for more); an "
	    "integration takes --integration-name, --redirect-uri and "
	    "--client-kind instead.", NULL },
	{ "list", NULL, "GET", "/v1/requests", FIELDS(req_list_f), 0,
	    req_print_list, "List the requests you may see; --actionable: "
	    "those waiting for you.", NULL },
	{ "show", "ID", "GET", "/v1/requests/{}", NOFIELDS, 0,
	    req_print_show, "Show a request and its history; when it awaits "
	    "fulfilment, the exact name to create.", NULL },
	{ "approve", "ID", "POST", "/v1/requests/{}/approve",
	    FIELDS(req_approve_f), 0, req_print_state, "Approve as the "
	    "manager or a provisioner; an integration needs "
	    "--acknowledge-risk.", NULL },
	{ "deny", "ID", "POST", "/v1/requests/{}/deny", FIELDS(req_deny_f), 0,
	    req_print_state, "Deny a request, saying why.", NULL },
	{ "withdraw", "ID", "POST", "/v1/requests/{}/withdraw", NOFIELDS, 0,
	    req_print_state, "Withdraw your own request before issuance.",
	    NULL },
	{ "fulfil", "ID", "POST", "/v1/requests/{}/fulfil",
	    FIELDS(req_fulfil_f), 0, req_print_state, "Hand keywarden the "
	    "secret of a credential created by hand, from --secret-file "
	    "(\"-\": stdin) or --secret-env.", NULL },
};

const struct cli_resource cli_requests = {
	"request", req_verbs, KW_NELEM(req_verbs), 0
};
