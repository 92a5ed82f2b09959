/*
 * cli_audit.c — `keywarden audit ...` against a running server: the
 * events of the hash-chained log and the server's verification of it.
 * See API.md, "Audit".  (`keywarden audit verify --data-dir DIR`, the
 * offline check, is main.c's.)
 */
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)
#define NOFIELDS	NULL, 0

static const struct cli_field audit_list_f[] = {
	{ "after-seq", "after_seq", CF_QINT, 0, "N", NULL },
	{ "limit", "limit", CF_QINT, 0, "N", NULL },
	{ "cursor", "cursor", CF_QSTR, 0, "CURSOR", NULL },
};

/* a head hash logged earlier (and kept elsewhere) must still be in the
 * chain: catches a log cut short */
static const struct cli_field audit_verify_f[] = {
	{ "expect-head", "expect_head", CF_QSTR, 0, "HASH", NULL },
};

static const struct cli_col audit_cols[] = {
	{ "SEQ",	"seq" },
	{ "AT",		"at" },
	{ "ACTOR",	"actor" },
	{ "ACTION",	"action" },
	{ "SUBJECT",	"subject" },
};

int
cli_verify_render(struct buf *out, json_t *verdict)
{
	json_t *ok = json_object_get(verdict, "ok");

	if (json_is_true(ok)) {
		buf_addstr(out, "audit log intact: ");
		cli_add_value(out, json_object_get(verdict, "events"));
		buf_addstr(out, " events, head ");
		cli_add_value(out, json_object_get(verdict, "head"));
		buf_addstr(out, "\n");
		return CLI_EXIT_OK;
	}
	if (json_is_false(ok) &&
	    json_is_false(json_object_get(verdict, "expected_head_found"))) {
		buf_addstr(out, "audit chain intact (");
		cli_add_value(out, json_object_get(verdict, "events_verified"));
		buf_addstr(out, " events, head ");
		cli_add_value(out, json_object_get(verdict, "head"));
		buf_addstr(out, "), but the expected head is NOT IN THIS LOG: "
		    "check that it was copied from this deployment's audit_head "
		    "log line; if it was, events after it were removed\n");
		return CLI_EXIT_NO_HEAD;
	}
	if (json_is_false(ok)) {
		buf_addstr(out, "audit log BROKEN at event ");
		cli_add_value(out, json_object_get(verdict, "first_bad_seq"));
		buf_addstr(out, ": ");
		cli_add_value(out, json_object_get(verdict, "reason"));
		buf_addstr(out, "\n");
	} else
		buf_addstr(out, "audit log state unknown: the server's answer "
		    "carries no verdict\n");
	return CLI_EXIT_FAIL;
}

static int
audit_print_list(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_list(ctx, answer, audit_cols, KW_NELEM(audit_cols));
}

/* The verdict decides the exit code, with or without --json. */
static int
audit_print_verify(const struct cli_ctx *ctx, json_t *answer)
{
	struct buf	b;
	int		rc, prc;

	buf_init(&b, CLI_OUT_MAX);
	rc = cli_verify_render(&b, answer);
	prc = ctx->json ? cli_print_json(ctx, answer) : cli_emit(ctx, &b);
	buf_free(&b);
	return prc != CLI_EXIT_OK ? prc : rc;
}

static const struct cli_verb audit_verbs[] = {
	{ "list", NULL, "GET", "/v1/audit", FIELDS(audit_list_f), 0,
	    audit_print_list, "List audit events after --after-seq (admin, "
	    "auditor).", NULL },
	{ "verify", NULL, "GET", "/v1/audit/verify", FIELDS(audit_verify_f),
	    CLI_V_OWNJSON,
	    audit_print_verify, "Have the server verify the hash chain; exit "
	    "1 if it is broken, 3 if it links but --expect-head is not in "
	    "it.", NULL },
};

const struct cli_resource cli_audit = {
	"audit", audit_verbs, KW_NELEM(audit_verbs), 0
};
