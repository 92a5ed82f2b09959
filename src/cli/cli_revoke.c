/*
 * cli_revoke.c — `keywarden revoke`: the incident command.  Revoke every
 * active credential of an instance (or the credential of one request):
 * list them, revoke each, report each outcome as it happens, carry on
 * past failures, retry the transient ones (1 s, then 2 s later) and
 * exit 1 if any credential finally stayed unrevoked.
 *
 * The loop (cli_bulk_revoke) is pure over two callbacks, so the unit
 * tests drive it without a server or real sleeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kw.h"
#include "cli/cli_int.h"
#include "util/buf.h"
#include "util/util.h"

#define FIELDS(t)	(t), KW_NELEM(t)

/* Seconds to wait before each round of retries. */
static const unsigned cli_revoke_backoff_s[CLI_REVOKE_ATTEMPTS - 1] = {
	1, 2
};

static const struct cli_field revoke_f[] = {
	{ "instance", "target", CF_STR, CLI_REQ, "NAME", NULL },
	{ "request", "target", CF_STR, CLI_REQ, "ID", NULL },
	{ "reason", "reason", CF_STR, CLI_REQ, "TEXT", NULL },
	{ "dry-run", "dry_run", CF_TRUE, 0, NULL, NULL },
};

/* ---- the pure part ---------------------------------------------------- */

int
cli_bulk_add(struct cli_bulk *b, const char *id, const char *owner)
{
	struct cli_rv_target	*n, *t;
	size_t			 i, ncap;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->t[i].id, id) == 0)
			return 0;
	if (b->n == b->cap) {
		ncap = b->cap ? b->cap * 2 : 16;
		if ((n = reallocarray(b->t, ncap, sizeof(*n))) == NULL)
			return KW_ERR_NOMEM;
		b->t = n;
		b->cap = ncap;
	}
	t = &b->t[b->n];
	memset(t, 0, sizeof(*t));
	t->state = CLI_RV_PENDING;
	if ((t->id = strdup(id)) == NULL ||
	    (owner != NULL && (t->owner = strdup(owner)) == NULL)) {
		free(t->id);
		return KW_ERR_NOMEM;
	}
	b->n++;
	return 0;
}

void
cli_bulk_free(struct cli_bulk *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->t[i].id);
		free(b->t[i].owner);
	}
	free(b->t);
	memset(b, 0, sizeof(*b));
}

enum cli_rv_state
cli_revoke_classify(const struct cli_fail *fail)
{
	long s = fail->status;

	if (fail->neterr == KW_ERR_VALIDATION)
		return CLI_RV_FAILED;	/* refused before sending: for good */
	if (fail->neterr != 0 || s == 0)
		return CLI_RV_RETRY;	/* unreachable, timed out */
	if (s == 409)
		return CLI_RV_NOT_ACTIVE;
	/* A 2xx without a readable answer may or may not have revoked:
	 * asking again settles it (409 if it did). */
	if ((s >= 200 && s <= 299) || s == 408 || s == 425 || s == 429 ||
	    s >= 500)
		return CLI_RV_RETRY;
	return CLI_RV_FAILED;		/* 400, 401, 403, 404: asking again
					   changes nothing */
}

/* Append "<id>  <owner>  <outcome>" for target t and a newline. */
static void
cli_rv_line(struct buf *out, const struct cli_rv_target *t)
{
	cli_add_safe(out, t->id);
	if (t->owner != NULL) {
		buf_addstr(out, "  ");
		cli_add_safe(out, t->owner);
	}
	switch (t->state) {
	case CLI_RV_REVOKED:
		buf_addstr(out, "  revoked");
		if (t->attempts > 1)
			buf_printf(out, " (attempt %d)", t->attempts);
		break;
	case CLI_RV_NOT_ACTIVE:
		buf_addstr(out, "  not active: ");
		cli_add_safe(out, t->why);
		break;
	case CLI_RV_RETRY:
		buf_addstr(out, "  failed, will retry: ");
		cli_add_safe(out, t->why);
		break;
	case CLI_RV_FAILED:
		buf_addstr(out, "  FAILED");
		if (t->attempts > 1)
			buf_printf(out, " after %d attempts", t->attempts);
		buf_addstr(out, ": ");
		cli_add_safe(out, t->why);
		break;
	case CLI_RV_PENDING:
		buf_addstr(out, "  not tried");
		break;
	}
	buf_addstr(out, "\n");
}

/* Try target t once through fn; the last round turns "retry" into
 * "failed". */
static void
cli_rv_attempt(struct cli_rv_target *t, cli_revoke_fn fn, void *arg,
    int last)
{
	struct cli_fail fail;

	memset(&fail, 0, sizeof(fail));
	t->attempts++;
	if (fn(arg, t->id, &fail) == 0) {
		t->state = CLI_RV_REVOKED;
		t->why[0] = '\0';
		return;
	}
	t->state = cli_revoke_classify(&fail);
	if (t->state == CLI_RV_RETRY && last)
		t->state = CLI_RV_FAILED;
	kw_strlcpy(t->why, fail.text[0] ? fail.text : "unknown failure",
	    sizeof(t->why));
}

size_t
cli_bulk_revoke(struct cli_bulk *b, cli_revoke_fn fn, cli_sleep_fn sl,
    void *arg, FILE *out)
{
	struct buf	 line;
	size_t		 i, nretry = 0, failed = 0;
	int		 round;

	for (round = 0; round < CLI_REVOKE_ATTEMPTS; round++) {
		if (round > 0) {
			if (nretry == 0)
				break;
			sl(arg, cli_revoke_backoff_s[round - 1]);
		}
		nretry = 0;
		for (i = 0; i < b->n; i++) {
			if (b->t[i].state != CLI_RV_PENDING &&
			    b->t[i].state != CLI_RV_RETRY)
				continue;
			cli_rv_attempt(&b->t[i], fn, arg,
			    round + 1 == CLI_REVOKE_ATTEMPTS);
			if (b->t[i].state == CLI_RV_RETRY)
				nretry++;
			if (out == NULL)
				continue;
			buf_init(&line, CLI_OUT_MAX);
			cli_rv_line(&line, &b->t[i]);
			fputs(buf_str(&line), out);
			fflush(out);	/* progress, as it happens */
			buf_free(&line);
		}
	}
	for (i = 0; i < b->n; i++)
		if (b->t[i].state == CLI_RV_FAILED)
			failed++;
	return failed;
}

/* Count the targets in state s. */
static size_t
cli_bulk_count(const struct cli_bulk *b, enum cli_rv_state s)
{
	size_t i, n = 0;

	for (i = 0; i < b->n; i++)
		if (b->t[i].state == s)
			n++;
	return n;
}

int
cli_bulk_summary(const struct cli_bulk *b, struct buf *out)
{
	size_t	failed = cli_bulk_count(b, CLI_RV_FAILED);
	size_t	inactive = cli_bulk_count(b, CLI_RV_NOT_ACTIVE);

	buf_printf(out, "revoked %zu of %zu credential%s",
	    cli_bulk_count(b, CLI_RV_REVOKED), b->n, b->n == 1 ? "" : "s");
	if (inactive > 0)
		buf_printf(out, ", %zu no longer active", inactive);
	if (failed > 0)
		buf_printf(out, ", %zu FAILED", failed);
	buf_addstr(out, "\n");
	return failed > 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

json_t *
cli_bulk_json(const struct cli_bulk *b)
{
	static const char *const names[] = {
		[CLI_RV_PENDING] = "not_tried",
		[CLI_RV_RETRY] = "failed",
		[CLI_RV_REVOKED] = "revoked",
		[CLI_RV_NOT_ACTIVE] = "not_active",
		[CLI_RV_FAILED] = "failed",
	};
	const struct cli_rv_target	*t;
	json_t				*res, *root;
	size_t				 i;

	if ((res = json_array()) == NULL)
		return NULL;
	for (i = 0; i < b->n; i++) {
		t = &b->t[i];
		if (json_array_append_new(res, json_pack("{s:s, s:s?, s:s, "
		    "s:i, s:s?}", "id", t->id, "owner", t->owner, "result",
		    names[t->state], "attempts", t->attempts, "error",
		    t->why[0] ? t->why : NULL)) != 0) {
			json_decref(res);
			return NULL;
		}
	}
	root = json_pack("{s:I, s:I, s:I, s:o}",
	    "revoked", (json_int_t)cli_bulk_count(b, CLI_RV_REVOKED),
	    "not_active", (json_int_t)cli_bulk_count(b, CLI_RV_NOT_ACTIVE),
	    "failed", (json_int_t)cli_bulk_count(b, CLI_RV_FAILED),
	    "results", res);
	return root;
}

/* ---- talking to the server ------------------------------------------ */

/* What the revoke callback needs: where, and the body to send. */
struct rv_call {
	const struct cli_ctx	*ctx;
	const char		*body;
	size_t			 blen;
};

static int
rv_revoke_one(void *arg, const char *id, struct cli_fail *fail)
{
	struct rv_call	*c = arg;
	struct buf	 url;
	json_t		*answer = NULL;
	int		 rc;

	buf_init(&url, KW_URL_MAX);
	cli_url(&url, c->ctx, "/v1/credentials/{}/revoke", id);
	if (buf_err(&url) != 0) {
		snprintf(fail->text, sizeof(fail->text), "request URL too "
		    "long");
		fail->neterr = KW_ERR_VALIDATION;
		buf_free(&url);
		return -1;
	}
	rc = cli_exchange(c->ctx, "POST", buf_str(&url), c->body, c->blen,
	    &answer, fail);
	json_decref(answer);
	buf_free(&url);
	return rc == CLI_EXIT_OK ? 0 : -1;
}

static void
rv_sleep(void *arg, unsigned seconds)
{
	(void)arg;
	while (seconds > 0)
		seconds = sleep(seconds);
}

/* Add the active credentials among a list answer's items to b. */
static int
rv_add_items(struct cli_bulk *b, json_t *answer)
{
	json_t		*item, *id, *st;
	size_t		 i;

	json_array_foreach(json_object_get(answer, "items"), i, item) {
		id = json_object_get(item, "id");
		st = json_object_get(item, "state");
		if (!json_is_string(id) || (json_is_string(st) &&
		    strcmp(json_string_value(st), "active") != 0))
			continue;
		/* legacy API tokens are tracked, not held: Zendesk revokes them */
		if (json_is_string(json_object_get(item, "kind")) &&
		    strcmp(json_string_value(json_object_get(item, "kind")),
		    "legacy_api_token") == 0)
			continue;
		if (cli_bulk_add(b, json_string_value(id), json_string_value(
		    json_object_get(item, "owner"))) != 0)
			return KW_ERR_NOMEM;
	}
	return 0;
}

/* Build the URL of one page (cursor NULL: the first) of the active
 * credentials of instance name.  0, or -1 (too long, reported). */
static int
rv_page_url(struct buf *url, const struct cli_ctx *ctx, const char *name,
    const char *cursor)
{
	cli_url(url, ctx, "/v1/credentials", NULL);
	buf_addstr(url, "?instance=");
	cli_pct_encode(url, name);
	buf_addstr(url, "&state=active&limit=" CLI_PAGE_LIMIT);
	if (cursor != NULL) {
		buf_addstr(url, "&cursor=");
		cli_pct_encode(url, cursor);
	}
	if (buf_err(url) == 0)
		return 0;
	fprintf(ctx->err, "keywarden: request URL too long\n");
	return -1;
}

/*
 * Gather the active credentials of instance name into b, following
 * next_cursor through every page before anything is revoked (revoking
 * while paging could shift the pages).  A server that repeats a cursor,
 * or pages without end, leaves the list incomplete: *incomplete is set,
 * and what was found is still revoked.  An exit code; errors reported.
 */
static int
rv_collect_instance(const struct cli_ctx *ctx, const char *name,
    struct cli_bulk *b, int *incomplete)
{
	struct buf	 url;
	json_t		*answer = NULL, *next;
	char		*cursor = NULL;
	int		 page, rc;

	for (page = 0; page < CLI_PAGES_MAX; page++) {
		buf_init(&url, KW_URL_MAX);
		rc = rv_page_url(&url, ctx, name, cursor) != 0 ?
		    CLI_EXIT_FAIL : cli_exchange(ctx, "GET", buf_str(&url),
		    NULL, 0, &answer, NULL);
		buf_free(&url);
		if (rc != CLI_EXIT_OK)
			goto out;
		if (rv_add_items(b, answer) != 0)
			goto nomem;
		next = json_object_get(answer, "next_cursor");
		if (!json_is_string(next) || json_string_length(next) == 0)
			goto out;		/* the last page */
		if (cursor != NULL &&
		    strcmp(cursor, json_string_value(next)) == 0)
			break;
		free(cursor);
		if ((cursor = strdup(json_string_value(next))) == NULL)
			goto nomem;
		json_decref(answer);
		answer = NULL;
	}
	fprintf(ctx->err, "keywarden: the server's pages of credentials do "
	    "not end: the list may be incomplete\n");
	*incomplete = 1;
	goto out;
 nomem:
	fprintf(ctx->err, "keywarden: out of memory\n");
	rc = CLI_EXIT_FAIL;
 out:
	json_decref(answer);
	free(cursor);
	return rc;
}

/* Gather the credential request id led to (if any) into b. */
static int
rv_collect_request(const struct cli_ctx *ctx, const char *id,
    struct cli_bulk *b)
{
	struct buf	 url;
	json_t		*answer = NULL, *cred;
	int		 rc;

	buf_init(&url, KW_URL_MAX);
	cli_url(&url, ctx, "/v1/requests/{}", id);
	if (buf_err(&url) != 0) {
		fprintf(ctx->err, "keywarden: request URL too long\n");
		buf_free(&url);
		return CLI_EXIT_FAIL;
	}
	rc = cli_exchange(ctx, "GET", buf_str(&url), NULL, 0, &answer, NULL);
	buf_free(&url);
	cred = json_object_get(answer, "credential_id");
	if (rc == CLI_EXIT_OK && json_is_string(cred) &&
	    cli_bulk_add(b, json_string_value(cred), json_string_value(
	    json_object_get(answer, "requester"))) != 0) {
		fprintf(ctx->err, "keywarden: out of memory\n");
		rc = CLI_EXIT_FAIL;
	}
	json_decref(answer);
	return rc;
}

/* 1 if the caller sees every credential of instance name: an admin,
 * an auditor, or one of its provisioners.  0 otherwise, or when it
 * cannot be told (the listing then says what it could not see). */
static int
rv_sees_all(const struct cli_ctx *ctx, const char *name)
{
	struct buf	 url;
	struct cli_fail	 quiet;
	json_t		*me = NULL, *in = NULL, *v;
	const char	*email;
	size_t		 i;
	int		 all = 0;

	buf_init(&url, KW_URL_MAX);
	cli_url(&url, ctx, "/v1/me", NULL);
	if (cli_exchange(ctx, "GET", buf_str(&url), NULL, 0, &me, &quiet) !=
	    CLI_EXIT_OK)
		goto out;
	json_array_foreach(json_object_get(me, "roles"), i, v)
		if (json_is_string(v) &&
		    (strcmp(json_string_value(v), "admin") == 0 ||
		    strcmp(json_string_value(v), "auditor") == 0))
			all = 1;
	buf_free(&url);
	buf_init(&url, KW_URL_MAX);
	cli_url(&url, ctx, "/v1/instances/{}", name);
	email = json_string_value(json_object_get(me, "email"));
	if (all || email == NULL || cli_exchange(ctx, "GET", buf_str(&url),
	    NULL, 0, &in, &quiet) != CLI_EXIT_OK)
		goto out;
	json_array_foreach(json_object_get(in, "provisioners"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), email) == 0)
			all = 1;
 out:
	buf_free(&url);
	json_decref(me);
	json_decref(in);
	return all;
}

/* --dry-run: what would be revoked, nothing changed. */
static int
rv_dry_run(const struct cli_ctx *ctx, const struct cli_bulk *b,
    const char *inst)
{
	struct buf	 out;
	json_t		*j;
	size_t		 i;
	int		 rc;

	if (ctx->json) {
		j = cli_bulk_json(b);
		rc = j ? cli_print_json(ctx, j) : CLI_EXIT_FAIL;
		json_decref(j);
		return rc;
	}
	buf_init(&out, CLI_OUT_MAX);
	for (i = 0; i < b->n; i++) {
		buf_addstr(&out, "would revoke ");
		cli_add_safe(&out, b->t[i].id);
		if (b->t[i].owner != NULL) {
			buf_addstr(&out, "  ");
			cli_add_safe(&out, b->t[i].owner);
		}
		buf_addstr(&out, "\n");
	}
	buf_printf(&out, "%zu credential%s would be revoked (dry run: "
	    "nothing changed)\n", b->n, b->n == 1 ? "" : "s");
	if (inst != NULL && !rv_sees_all(ctx, inst)) {
		buf_addstr(&out, "note: you are not an admin, an auditor or a "
		    "provisioner of ");
		cli_add_safe(&out, inst);
		buf_addstr(&out, ", so you see only your own credentials and "
		    "your reports': the instance may hold more that this count "
		    "leaves out. An admin or a provisioner sees them all.\n");
	}
	rc = cli_emit(ctx, &out);
	buf_free(&out);
	return rc;
}

/* Revoke everything in b, then the summary (or the JSON outcome). */
static int
rv_revoke_all(const struct cli_ctx *ctx, struct cli_bulk *b,
    const char *reason)
{
	struct rv_call	 call;
	struct buf	 out;
	json_t		*j;
	char		*body;
	int		 rc;

	j = json_pack("{s:s}", "reason", reason);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL) {
		fprintf(ctx->err, "keywarden: --reason: value is not valid "
		    "UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	call.ctx = ctx;
	call.body = body;
	call.blen = strlen(body);
	if (!ctx->json)
		fprintf(ctx->out, "revoking %zu credential%s\n", b->n,
		    b->n == 1 ? "" : "s");
	cli_bulk_revoke(b, rv_revoke_one, rv_sleep, &call,
	    ctx->json ? NULL : ctx->out);
	free(body);
	buf_init(&out, CLI_OUT_MAX);
	rc = cli_bulk_summary(b, &out);
	if (ctx->json) {
		if ((j = cli_bulk_json(b)) == NULL || cli_print_json(ctx, j))
			rc = CLI_EXIT_FAIL;
		json_decref(j);
	} else if (cli_emit(ctx, &out) != CLI_EXIT_OK)
		rc = CLI_EXIT_FAIL;
	buf_free(&out);
	return rc;
}

static int
revoke_run(const struct cli_ctx *ctx, const struct cli_verb *v,
    const struct cli_args *a)
{
	const char	*inst = cli_opt_get(a, "instance");
	struct cli_bulk	 b;
	int		 rc, incomplete = 0;

	(void)v;
	memset(&b, 0, sizeof(b));
	rc = inst != NULL ? rv_collect_instance(ctx, inst, &b, &incomplete) :
	    rv_collect_request(ctx, cli_opt_get(a, "request"), &b);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (cli_opt_get(a, "dry-run") != NULL)
		rc = rv_dry_run(ctx, &b, inst);
	else if (b.n == 0 && !ctx->json)
		fprintf(ctx->out, "no active credential matches: nothing to "
		    "revoke%s\n", inst != NULL && !rv_sees_all(ctx, inst) ?
		    " among those you may see (your own and your reports'; an "
		    "admin or a provisioner of the instance sees them all)" :
		    "");
	else
		rc = rv_revoke_all(ctx, &b, cli_opt_get(a, "reason"));
	if (incomplete)
		rc = CLI_EXIT_FAIL;	/* some may remain: say so */
 out:
	cli_bulk_free(&b);
	return rc;
}

static const struct cli_verb revoke_verbs[] = {
	{ NULL, NULL, NULL, NULL, FIELDS(revoke_f), 0, NULL, "Incident: "
	    "revoke every active credential of an instance, or the "
	    "credential of a request; failures are retried, exit 1 if any "
	    "remains.", revoke_run },
};

const struct cli_resource cli_revoke = {
	"revoke", revoke_verbs, KW_NELEM(revoke_verbs), CLI_R_BARE
};
