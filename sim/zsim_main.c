/*
 * zsim_main.c — zendesk-sim, a Zendesk simulator for keywarden's
 * end-to-end tests, benchmark and demo (docs/SIMULATOR.md).
 *
 *   zendesk-sim --listen 127.0.0.1:PORT
 *               [--admin-token TOKEN --admin-email EMAIL]...
 *               [--now RFC3339] [--threads N]
 *
 * Listens on loopback only, prints {"event":"listening","url":...} on
 * stdout once ready, logs JSON lines on stderr and exits 0 on SIGTERM
 * or SIGINT.
 */
#include <arpa/inet.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kw.h"
#include "log.h"
#include "crypto/crypto.h"
#include "util/util.h"
#include "zsim.h"

struct options {
	char		 host[256];
	int		 port;
	int		 threads;
	int		 frozen;
	time_t		 now;
	char		*tokens[ZSIM_ADMINS_MAX];
	char		*emails[ZSIM_ADMINS_MAX];
	size_t		 ntokens, nemails;
};

static void
usage(void)
{
	fprintf(stderr, "usage: zendesk-sim --listen 127.0.0.1:PORT "
	    "[--admin-token TOKEN --admin-email EMAIL]... [--now RFC3339] "
	    "[--threads N]\n");
}

/* 1 if host is a loopback address: the simulator serves nothing else. */
static int
host_is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "admin-token", required_argument, NULL, 't' },
		{ "admin-email", required_argument, NULL, 'e' },
		{ "now", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch, listen = 0;
	char	*end;

	memset(o, 0, sizeof(*o));
	o->threads = ZSIM_THREADS_DEFAULT;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (config_split_listen(optarg, o->host,
			    sizeof(o->host), &o->port) != 0 || o->port == 0) {
				fprintf(stderr, "zendesk-sim: --listen: "
				    "expected HOST:PORT with a port > 0\n");
				return -1;
			}
			listen = 1;
			break;
		case 't':
		case 'e':
			if ((ch == 't' ? o->ntokens : o->nemails) >=
			    ZSIM_ADMINS_MAX) {
				fprintf(stderr, "zendesk-sim: at most %d "
				    "admins\n", ZSIM_ADMINS_MAX);
				return -1;
			}
			if (ch == 't')
				o->tokens[o->ntokens++] = optarg;
			else
				o->emails[o->nemails++] = optarg;
			break;
		case 'n':
			if (kw_time_parse(optarg, &o->now) != 0) {
				fprintf(stderr, "zendesk-sim: --now: expected "
				    "an RFC 3339 UTC time like "
				    "2026-11-28T09:00:00Z\n");
				return -1;
			}
			o->frozen = 1;
			break;
		case 'j':
			o->threads = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o->threads < 1 ||
			    o->threads > KW_THREADS_MAX) {
				fprintf(stderr, "zendesk-sim: --threads: 1..%d"
				    "\n", KW_THREADS_MAX);
				return -1;
			}
			break;
		default:
			usage();
			return -1;
		}
	}
	if (!listen || optind != argc) {
		usage();
		return -1;
	}
	if (!host_is_loopback(o->host)) {
		fprintf(stderr, "zendesk-sim: refusing to listen on %s: "
		    "loopback addresses only\n", o->host);
		return -1;
	}
	if (o->ntokens != o->nemails) {
		fprintf(stderr, "zendesk-sim: give one --admin-email per "
		    "--admin-token\n");
		return -1;
	}
	return 0;
}

/* Register the admins of the command line; their tokens are then wiped
 * from argv so they do not linger in the process's command line. */
static int
add_admins(struct zsim *sim, struct options *o)
{
	int64_t	uid;
	size_t	i;

	for (i = 0; i < o->ntokens; i++) {
		if (*o->tokens[i] == '\0' || !kw_valid_email(o->emails[i]) ||
		    zsim_store_admin_add(sim, o->tokens[i], o->emails[i],
		    &uid) != 0) {
			fprintf(stderr, "zendesk-sim: admin %zu: empty or "
			    "duplicate token, or a bad or duplicate email\n",
			    i + 1);
			return -1;
		}
		kw_wipe(o->tokens[i], strlen(o->tokens[i]));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct http_server_config	 hc;
	struct http_server		*srv = NULL;
	struct options			 o;
	struct zsim			*sim;
	sigset_t			 set;
	char				 base[300];
	int				 sig = 0;

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (crypto_init() != 0 || (sim = malloc(sizeof(*sim))) == NULL) {
		fprintf(stderr, "zendesk-sim: cannot initialise\n");
		return 1;
	}
	snprintf(base, sizeof(base), strchr(o.host, ':') ? "http://[%s]:%d" :
	    "http://%s:%d", o.host, o.port);
	memset(&hc, 0, sizeof(hc));
	hc.routes = zsim_routes(&hc.nroutes);
	if (zsim_init(sim, base) != 0 || add_admins(sim, &o) != 0) {
		zsim_free(sim);
		free(sim);
		return 1;
	}
	if (o.frozen)
		zsim_store_set_now(sim, o.now);

	/* Workers inherit this mask; only the main thread takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	hc.host = o.host;
	hc.port = o.port;
	hc.threads = o.threads;
	hc.max_connections = KW_CONN_LIMIT;
	hc.connection_timeout = KW_CONN_TIMEOUT_S;
	hc.authorise = zsim_authorise;
	hc.app = sim;
	if (http_server_start(&hc, &srv) != 0) {
		fprintf(stderr, "zendesk-sim: cannot listen on %s\n", base);
		zsim_free(sim);
		free(sim);
		return 1;
	}
	printf("{\"event\":\"listening\",\"url\":\"%s\"}\n", base);
	fflush(stdout);
	log_msg("info", "zendesk-sim listening on %s (%zu admins, %d threads)",
	    base, sim->nadmins, o.threads);
	while (sig != SIGTERM && sig != SIGINT)
		if (sigwait(&set, &sig) != 0)
			sig = 0;
	log_msg("info", "signal %d: shutting down", sig);
	atomic_store(&sim->stopping, 1);	/* ends hanging calls early */
	http_server_stop(srv);
	zsim_free(sim);
	free(sim);
	log_msg("info", "stopped");
	return 0;
}
