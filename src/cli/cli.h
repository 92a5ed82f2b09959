/*
 * cli.h — the client half of the keywarden binary: `keywarden people ...`
 * and `keywarden instances ...` talk to a running server over its HTTP API.
 */
#ifndef KW_CLI_H
#define KW_CLI_H

#include <stdio.h>

/*
 * Run one client command.  argv[0] is the resource word ("people" or
 * "instances"), the rest its verb, arguments and options.  Returns the
 * process exit code: 0 success, 1 the server refused or could not be
 * reached, 2 usage error.  Initialises and releases libcurl itself.
 */
int	 cli_run(int argc, char **argv);

/* 1 if word is a resource cli_run() handles (so main can dispatch). */
int	 cli_handles(const char *word);

/* Print the usage lines of every client command and option to fp. */
void	 cli_usage(FILE *fp);

#endif /* KW_CLI_H */
