/*
 * test_state_changes.c — every request and credential state change goes
 * through the tables of policy/workflow.c.  The code that changes a state
 * calls policy_request_step(), policy_system_step() or
 * policy_credential_step() (each covered cell by cell in
 * test_workflow.c); this test reads the sources and fails on an
 * assignment of a state anywhere else, so that a new code path cannot
 * set a state behind the table's back.  What is allowed: a record's
 * first state (a credential starts pending; a request's filing state
 * comes from policy_filed_state()), and list filters' `state` fields.
 *
 * Run from the top of the source tree (make unit does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <regex.h>
#include <sys/stat.h>

#include <cmocka.h>

#define FILTERS_MAX	16

struct scan {
	regex_t	 assign;	/* <lhs>(->|.)state = <rhs> */
	regex_t	 filter;	/* struct ..._filter <name> */
	int	 files, offences;
	char	 report[4096];
};

/* 1 if rhs sets a request or credential state. */
static int
is_state_value(const char *rhs)
{
	static const char *const vars[] = { "to", "from", "next", "s" };
	size_t	n, i;

	rhs += strspn(rhs, " \t(");
	if (strncmp(rhs, "enum req_state", 14) == 0 ||
	    strncmp(rhs, "enum cred_state", 15) == 0)
		return 1;
	if (strstr(rhs, "RS_") != NULL || strstr(rhs, "CS_") != NULL)
		return 1;
	/* a variable that holds one */
	n = strspn(rhs, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (n == strlen(vars[i]) && strncmp(rhs, vars[i], n) == 0)
			return 1;
	return 0;
}

/* 1 if the assignment sets a first state, which no table decides. */
static int
is_first_state(const char *rhs)
{
	rhs += strspn(rhs, " \t");
	return strncmp(rhs, "CS_PENDING;", 11) == 0 ||
	    strncmp(rhs, "policy_filed_state(", 19) == 0;
}

static void
scan_file(struct scan *sc, const char *path)
{
	char		 line[1024], filters[FILTERS_MAX][64], lhs[64];
	regmatch_t	 m[4];
	size_t		 nfilters = 0, i, len;
	FILE		*fp;
	int		 lineno = 0, ok;

	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot read %s", path);
	sc->files++;
	/* first pass: the names of list filters in this file */
	while (fgets(line, sizeof(line), fp) != NULL)
		if (regexec(&sc->filter, line, 3, m, 0) == 0 &&
		    nfilters < FILTERS_MAX) {
			len = (size_t)(m[2].rm_eo - m[2].rm_so);
			if (len >= sizeof(filters[0]))
				continue;
			memcpy(filters[nfilters], line + m[2].rm_so, len);
			filters[nfilters++][len] = '\0';
		}
	rewind(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (regexec(&sc->assign, line, 4, m, 0) != 0)
			continue;
		len = (size_t)(m[1].rm_eo - m[1].rm_so);
		if (len >= sizeof(lhs))
			continue;
		memcpy(lhs, line + m[1].rm_so, len);
		lhs[len] = '\0';
		ok = !is_state_value(line + m[3].rm_so) ||
		    is_first_state(line + m[3].rm_so);
		for (i = 0; !ok && i < nfilters; i++)
			if (strcmp(filters[i], lhs) == 0 &&
			    line[m[2].rm_so] == '.')
				ok = 1;
		if (!ok) {
			sc->offences++;
			len = strlen(sc->report);
			snprintf(sc->report + len, sizeof(sc->report) - len,
			    "  %s:%d: %s", path, lineno, line);
		}
	}
	fclose(fp);
}

static void
scan_dir(struct scan *sc, const char *dir)
{
	struct dirent	*e;
	struct stat	 sb;
	char		 path[512];
	DIR		*d;
	size_t		 n;

	if ((d = opendir(dir)) == NULL)
		fail_msg("cannot open %s (run from the source tree)", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &sb) != 0)
			continue;
		/* the tables themselves, and the store that keeps states */
		if (S_ISDIR(sb.st_mode)) {
			if (strcmp(path, "src/policy") != 0 &&
			    strcmp(path, "src/store") != 0)
				scan_dir(sc, path);
			continue;
		}
		n = strlen(e->d_name);
		if (n > 2 && strcmp(e->d_name + n - 2, ".c") == 0)
			scan_file(sc, path);
	}
	closedir(d);
}

static void
scan_init(struct scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	assert_int_equal(regcomp(&sc->assign,
	    "([A-Za-z_][A-Za-z0-9_]*)(->|\\.)state[ \t]*=([^=].*)$",
	    REG_EXTENDED), 0);
	assert_int_equal(regcomp(&sc->filter,
	    "struct (request|credential)_filter[ \t]+\\**([A-Za-z_][A-Za-z0-9_]*)",
	    REG_EXTENDED), 0);
}

static void
scan_free(struct scan *sc)
{
	regfree(&sc->assign);
	regfree(&sc->filter);
}

static void
no_state_set_outside_the_tables(void **state)
{
	struct scan sc;

	(void)state;
	scan_init(&sc);
	scan_dir(&sc, "src");
	scan_free(&sc);
	assert_true(sc.files > 50);		/* it did read the tree */
	if (sc.offences != 0)
		fail_msg("%d state change(s) bypass policy/workflow.c's "
		    "tables; use policy_request_step, policy_system_step or "
		    "policy_credential_step:\n%s", sc.offences, sc.report);
}

/* The scanner itself: it catches what it is for, and lets the rest be. */
static void
the_scanner_catches_a_bypass(void **state)
{
	static const char *const bad[] = {
		"\tr->state = RS_EXPIRED;\n",
		"\tc->state = CS_REVOKED;\n",
		"\t\tr->state = to;\n",
		"\tw->r.state = (enum req_state)v;\n",
	};
	static const char *const good[] = {
		"\tc->state = CS_PENDING;\t\t/* legacy_fill decides */\n",
		"\tr->state = policy_filed_state(1, automatic);\n",
		"\tt->state = CLI_RV_PENDING;\n",
		"\tf.state = CS_ACTIVE;\n",		/* a filter, below */
		"\tif (c->state == CS_ACTIVE)\n",
	};
	struct scan	 sc;
	char		 path[] = "/tmp/kw-scan-XXXXXX";
	FILE		*fp;
	size_t		 i;
	int		 fd;

	(void)state;
	scan_init(&sc);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true((fd = mkstemp(path)) >= 0);
		assert_non_null(fp = fdopen(fd, "w"));
		fputs(bad[i], fp);
		fclose(fp);
		sc.offences = 0;
		scan_file(&sc, path);
		remove(path);
		strcpy(path, "/tmp/kw-scan-XXXXXX");
		if (sc.offences != 1)
			fail_msg("not caught: %s", bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true((fd = mkstemp(path)) >= 0);
		assert_non_null(fp = fdopen(fd, "w"));
		fputs("\tstruct credential_filter f;\n", fp);
		fputs(good[i], fp);
		fclose(fp);
		sc.offences = 0;
		scan_file(&sc, path);
		remove(path);
		strcpy(path, "/tmp/kw-scan-XXXXXX");
		if (sc.offences != 0)
			fail_msg("wrongly flagged: %s", good[i]);
	}
	scan_free(&sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_scanner_catches_a_bypass),
		cmocka_unit_test(no_state_set_outside_the_tables),
	};

	return cmocka_run_group_tests_name("state_changes", tests, NULL, NULL);
}
