/*
 * cli.h — the client half of the keywarden binary: `keywarden people`,
 * `instances`, `request`, `credential`, `audit`, `revoke`, `report` and
 * `settings slack` talk to a running server over its HTTP API.
 */
#ifndef KW_CLI_H
#define KW_CLI_H

#include <stdio.h>

/*
 * Run one client command.  argv[0] is the resource word ("people",
 * "request", ...), the rest its verb, arguments and options ("revoke" has
 * no verb: options only; "settings" is a group: its first word names the
 * resource, "settings slack set ...").  Returns the process exit code: 0 success, 1
 * the server refused or could not be reached (or, for `audit verify`, the
 * log is broken; for `revoke`, a credential stayed unrevoked), 2 usage
 * error.  Initialises and releases libcurl itself, and makes jansson
 * wipe what it frees for the rest of the process.
 */
int	 cli_run(int argc, char **argv);

/* 1 if word is a resource (or group of resources) cli_run() handles,
 * so main can dispatch. */
int	 cli_handles(const char *word);

/* Print the usage lines of every client command and option to fp. */
void	 cli_usage(FILE *fp);
/* The command word word stands for: the resource name for one of its
 * other spellings ("requests" -> "request", "person" -> "people"), else
 * word itself. */
const char *cli_canonical(const char *word);
/* Index in argv of the first word that is not a global client option
 * (--server URL, --token T, --json, --help) or its value; 0 if none. */
int	 cli_first_word(int argc, char **argv);
/* The client command word (or alias, or one of the extra words, a
 * NULL-ended list) closest to word by edit distance, if close enough to
 * be a likely typo; NULL otherwise. */
const char *cli_suggest(const char *word, const char *const *extra);

#endif /* KW_CLI_H */
