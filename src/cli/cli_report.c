/*
 * cli_report.c — `keywarden report ...`: reports the server computes,
 * shown as tables.  The migration report lists each instance's legacy
 * API tokens with the date the SaaS deactivates them and the keywarden
 * credential that replaces them.  See API.md, "Lifecycle".
 */
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"

#define FIELDS(t)	(t), KW_NELEM(t)

static const struct cli_field report_migration_f[] = {
	{ "instance", "instance", CF_QSTR, 0, "NAME", NULL },
};

static const char *const migration_headers[] = {
	"NAME", "API TOKEN ID", "ACTIVE", "LAST USED", "DEACTIVATION DUE",
	"REPLACEMENT",
};

/* One cell: v as display text ("-" for null). */
static void
report_cell(struct cli_table *t, json_t *v)
{
	struct buf b;

	buf_init(&b, CLI_OUT_MAX);
	cli_value_text(&b, v, ",");
	cli_table_cell(t, buf_err(&b) ? "?" : buf_str(&b));
	buf_free(&b);
}

/* "<id> (<state>)" of the replacing credential, or "-". */
static void
report_replacement_cell(struct cli_table *t, json_t *rep)
{
	struct buf b;

	if (!json_is_object(rep)) {
		cli_table_cell(t, "-");
		return;
	}
	buf_init(&b, CLI_OUT_MAX);
	cli_value_text(&b, json_object_get(rep, "id"), ",");
	buf_addstr(&b, " (");
	cli_value_text(&b, json_object_get(rep, "state"), ",");
	buf_addstr(&b, ")");
	cli_table_cell(t, buf_err(&b) ? "?" : buf_str(&b));
	buf_free(&b);
}

/* One instance: its name, a table of its tokens, the summary line. */
static void
report_instance_render(struct buf *out, json_t *sec)
{
	struct cli_table	 t;
	json_t			*tok, *sum = json_object_get(sec, "summary");
	size_t			 i;

	buf_addstr(out, "instance ");
	cli_add_value(out, json_object_get(sec, "instance"));
	buf_addstr(out, "\n");
	if (json_array_size(json_object_get(sec, "tokens")) == 0)
		buf_addstr(out, "no legacy API tokens known (run: keywarden "
		    "instances sync NAME)\n");
	else {
		cli_table_init(&t, migration_headers,
		    KW_NELEM(migration_headers));
		json_array_foreach(json_object_get(sec, "tokens"), i, tok) {
			report_cell(&t, json_object_get(tok, "name"));
			report_cell(&t, json_object_get(tok, "api_token_id"));
			report_cell(&t, json_object_get(tok, "active"));
			report_cell(&t, json_object_get(tok, "last_used_at"));
			report_cell(&t, json_object_get(tok,
			    "deactivation_due"));
			report_replacement_cell(&t, json_object_get(tok,
			    "replacement"));
		}
		if (cli_table_render(&t, out) != 0)
			buf_addstr(out, "(out of memory)\n");
		cli_table_free(&t);
	}
	buf_addstr(out, "summary: ");
	cli_add_value(out, json_object_get(sum, "total"));
	buf_addstr(out, " total, ");
	cli_add_value(out, json_object_get(sum, "active"));
	buf_addstr(out, " active, ");
	cli_add_value(out, json_object_get(sum, "replaced"));
	buf_addstr(out, " replaced, ");
	cli_add_value(out, json_object_get(sum, "unreplaced"));
	buf_addstr(out, " unreplaced, ");
	cli_add_value(out, json_object_get(sum,
	    "deactivation_within_14_days"));
	buf_addstr(out, " deactivating within 14 days\n");
}

static void
report_migration_render(struct buf *out, json_t *answer)
{
	json_t	*sec, *saas;
	size_t	 i;

	/* the server's text: shown through the escaping path */
	if (json_is_string(saas = json_object_get(answer, "provider")))
		cli_add_value(out, saas);
	else
		buf_addstr(out, "The SaaS");
	buf_addstr(out, " switches every legacy API token off on ");
	cli_add_value(out, json_object_get(answer, "shutdown"));
	buf_addstr(out, "; an unused one is deactivated ");
	cli_add_value(out, json_object_get(answer, "idle_days"));
	buf_addstr(out, " days after its last use.\n");
	json_array_foreach(json_object_get(answer, "instances"), i, sec) {
		buf_addstr(out, "\n");
		report_instance_render(out, sec);
	}
	if (json_array_size(json_object_get(answer, "instances")) == 0)
		buf_addstr(out, "\nno instances\n");
}

static int
report_print_migration(const struct cli_ctx *ctx, json_t *answer)
{
	return cli_print_with(ctx, answer, report_migration_render);
}

static const struct cli_verb report_verbs[] = {
	{ "migration", NULL, "GET", "/v1/reports/migration",
	    FIELDS(report_migration_f), 0, report_print_migration,
	    "Show each instance's legacy API tokens: last use, deactivation "
	    "date, and the credential that replaces each.", NULL },
};

const struct cli_resource cli_report = {
	"report", report_verbs, KW_NELEM(report_verbs), 0
};
