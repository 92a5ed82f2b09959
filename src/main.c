/*
 * main.c — the keywarden binary: the server commands (init, serve,
 * audit verify, version, help) and, through cli/, the client commands.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "kw.h"
#include "backup.h"
#include "config.h"
#include "log.h"
#include "api/api.h"
#include "core/app.h"
#include "core/jobs.h"
#include "core/people.h"
#include "core/startup.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "net/http.h"
#include "store/store.h"
#include "ticker.h"
#include "util/jalloc.h"
#include "util/util.h"

#define EXIT_USAGE	2
#define JOBS_WAIT_US	100000		/* jobs run: how often it asks */

static int	cmd_init(int, char **);
static int	cmd_serve(int, char **);
static int	cmd_issue_token(int, char **);
static int	cmd_jobs(int, char **);
static int	cmd_migrate(int, char **);
static int	cmd_store(int, char **);
static int	cmd_audit(int, char **);
static int	cmd_version(int, char **);
static int	cmd_help(int, char **);

static const struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;
} commands[] = {
	{ "init", cmd_init, "init --data-dir DIR [--store URL] --admin-email "
	    "EMAIL [--admin-name NAME]" },
	{ "issue-token", cmd_issue_token, "issue-token --data-dir DIR "
	    "[--store URL] --email EMAIL   (offline; prints a new personal "
	    "token)" },
	{ "migrate", cmd_migrate, "migrate [--data-dir DIR] [--store URL]   "
	    "(apply schema migrations)" },
	{ "store", cmd_store, "store copy --from sqlite:DIR --to "
	    "postgresql://...   (move an installation; servers stopped)" },
	{ "serve", cmd_serve, "serve [--data-dir DIR] [--store URL] "
	    "[--listen HOST:PORT] "
	    "[--public-url URL] [--config FILE]\n"
	    "        [--threads N] [--callout-workers N] [--max-connections N] "
	    "[--connection-timeout SECONDS] [--auth-fail-limit N] "
	    "[--auth-fail-window SECONDS]\n"
	    "        [--request-ttl-days N] [--delivery-window SECONDS] "
	    "[--audit-head-interval SECONDS]\n"
	    "        [--upstream-timeout SECONDS] [--upstream-attempts N] "
	    "[--reconcile-interval SECONDS]\n"
	    "        [--jobs-interval SECONDS] [--notify-interval SECONDS]\n"
	    "        [--session-max-age SECONDS] "
	    "[--session-idle-timeout SECONDS]\n"
	    "        [--check] [--print-config]" },
	{ "jobs", cmd_jobs, "jobs run [--now RFC3339] [--data-dir DIR] "
	    "[--store URL] "
	    "[--config FILE] [serve's settings]" },
	{ "audit", cmd_audit, "audit verify --data-dir DIR [--store URL] "
	    "[--expect-head HASH]" },
	{ "backup", backup_cmd, BACKUP_USAGE },
	{ "restore", restore_cmd, RESTORE_USAGE },
	{ "version", cmd_version, "version" },
	{ "help", cmd_help, "help" },
};

/* Print the usage line of command name to stderr; EXIT_USAGE. */
static int
usage_of(const char *name)
{
	size_t i;

	for (i = 0; i < KW_NELEM(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			fprintf(stderr, "usage: keywarden %s\n",
			    commands[i].usage);
	return EXIT_USAGE;
}

/* 1 if argv asks for help (--help or -h anywhere). */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

/* "keywarden serve --help": the command's usage on stdout; exit 0. */
static int
help_of(const struct command *c)
{
	printf("usage: keywarden %s\n", c->usage);
	return 0;
}

/* An unknown command word: a likely typo gets its correction, and
 * everyone the pointer to the full list; EXIT_USAGE. */
static int
unknown_command(const char *word)
{
	const char	*names[KW_NELEM(commands) + 1], *guess;
	size_t		 i;

	for (i = 0; i < KW_NELEM(commands); i++)
		names[i] = commands[i].name;
	names[i] = NULL;
	fprintf(stderr, "keywarden: unknown command '%.64s'", word);
	if ((guess = cli_suggest(word, names)) != NULL)
		fprintf(stderr, "; did you mean '%s'?", guess);
	fprintf(stderr, "\nRun 'keywarden help' for the list of commands.\n");
	return EXIT_USAGE;
}

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "keywarden %s — governs admin API credentials for SaaS "
	    "instances\n\nserver commands:\n", KW_VERSION);
	for (i = 0; i < KW_NELEM(commands); i++)
		fprintf(fp, "  keywarden %s\n", commands[i].usage);
	fprintf(fp, "\nclient commands (talk to a running server):\n");
	cli_usage(fp);
}

static int
cmd_version(int argc, char **argv)
{
	KW_UNUSED(argc);
	KW_UNUSED(argv);
	printf("keywarden %s\n", KW_VERSION);
	return 0;
}

static int
cmd_help(int argc, char **argv)
{
	KW_UNUSED(argc);
	KW_UNUSED(argv);
	usage(stdout);
	return 0;
}

/* ---- init ---- */

/* Create the first admin and their token in one transaction. */
static int
init_admin(struct store *st, const struct crypto_keys *keys,
    const char *email, const char *name, char *tok, size_t toksz,
    struct person *p)
{
	struct actor	a;
	struct kw_fail	f;
	int		r;

	/* the operator at the data directory: "system" in the audit log */
	actor_system(&a, DOOR_CLI, "system");
	memset(&f, 0, sizeof(f));
	memset(p, 0, sizeof(*p));
	crypto_random_id("per_", p->id, sizeof(p->id));
	kw_strlcpy(p->email, email, sizeof(p->email));
	kw_strlcpy(p->name, name, sizeof(p->name));
	p->roles = ROLE_ADMIN;
	p->active = 1;
	kw_time_fmt(kw_now(), p->created_at, sizeof(p->created_at));
	kw_strlcpy(p->updated_at, p->created_at, sizeof(p->updated_at));
	if ((r = store_begin(st)) != 0)
		return r;
	if ((r = core_audit(st, &a, "store.init", "keywarden", NULL,
	    &f)) == 0 &&
	    (r = store_person_insert(st, p)) == 0 &&
	    (r = core_audit(st, &a, "person.create", p->email,
	    json_pack("{s:s, s:[s]}", "id", p->id, "roles", "admin"),
	    &f)) == 0 &&
	    (r = people_token_mint(st, keys, &a, p, "keywarden init",
	    KW_TOKEN_DAYS_DEFAULT, tok, toksz, NULL)) == 0 &&
	    (r = core_key_check_create(st, keys, "system", "init")) == 0)
		r = store_commit(st);
	if (r != 0)
		store_rollback(st);
	return r;
}

/*
 * issue-token: the operator's way in when no admin token is at hand (a
 * lost token, a fresh demo): whoever can read the data directory holds
 * the master key anyway.  Recorded in the audit log like any token.
 */
static int
cmd_issue_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "store", required_argument, NULL, 's' },
		{ "email", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*dir = getenv("KEYWARDEN_DATA_DIR"), *email = NULL;
	const char		*url = getenv("KEYWARDEN_STORE");
	char			 keypath[KW_PATH_MAX + 16], tok[KW_TOKEN_STR_MAX];
	struct token_rec	 t;
	struct crypto_keys	*keys = NULL;
	struct store		*st = NULL;
	struct person		 p;
	struct actor		 a;
	json_t			*out;
	int			 c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 's')
			url = optarg;
		else if (c == 'e')
			email = optarg;
		else
			return EXIT_USAGE;
	}
	if (dir == NULL || email == NULL)
		return usage_of("issue-token");
	snprintf(keypath, sizeof(keypath), "%s/master.key", dir);
	if ((r = crypto_keys_load(keypath, &keys)) != 0) {
		char why[KW_PATH_MAX * 3 + 256];
		crypto_keys_diagnose(dir, keypath, why, sizeof(why));
		fprintf(stderr, "keywarden: issue-token: %s\n", why);
		return 1;
	}
	if ((r = store_open_url(url, dir, 0, &st)) != 0)
		goto out;
	/* a token hashed under the wrong key would never authenticate */
	if (core_key_check_verify(st, keys) == KW_ERR_CRYPTO) {
		fprintf(stderr, "keywarden: %s is not the master key of this "
		    "store: its key check does not open; put back the key "
		    "file that belongs with %s/keywarden.db\n", keypath, dir);
		r = KW_ERR_NOT_FOUND;	/* reported */
		goto out;
	}
	if ((r = store_person_get(st, email, &p)) != 0 || !p.active) {
		fprintf(stderr, "keywarden: no active person '%s'\n", email);
		r = r ? r : KW_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = store_begin(st)) != 0)
		goto out;
	actor_system(&a, DOOR_CLI, "system (issue-token)");
	if ((r = people_token_mint(st, keys, &a, &p, "keywarden issue-token",
	    KW_TOKEN_DAYS_DEFAULT, tok, sizeof(tok), &t)) == 0)
		r = store_commit(st);
	if (r != 0) {
		store_rollback(st);
		goto out;
	}
	out = json_pack("{s:s, s:s, s:s, s:s}", "id", t.id, "token", tok,
	    "person", p.email, "expires_at", t.expires_at);
	json_dumpf(out, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(out);
 out:
	kw_wipe(tok, sizeof(tok));
	store_close(st);
	crypto_keys_free(keys);
	if (r != 0 && r != KW_ERR_NOT_FOUND)
		fprintf(stderr, "keywarden: issue-token: %s\n", kw_strerror(r));
	return r == 0 ? 0 : 1;
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "store", required_argument, NULL, 's' },
		{ "admin-email", required_argument, NULL, 'e' },
		{ "admin-name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char		*dir = NULL, *email = NULL, *name = NULL;
	const char		*url = getenv("KEYWARDEN_STORE");
	char			 keypath[KW_PATH_MAX + 16], dbpath[KW_PATH_MAX + 16];
	char			 tok[KW_TOKEN_STR_MAX];
	struct crypto_keys	*keys = NULL;
	struct store		*st = NULL;
	struct person		 p;
	struct stat		 sb;
	json_t			*out;
	int			 c, r, made_key = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 's': url = optarg; break;
		case 'e': email = optarg; break;
		case 'n': name = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (dir == NULL)
		dir = getenv(config_env_name("data_dir"));
	if (dir == NULL || email == NULL)
		return usage_of("init");
	if (!kw_valid_email(email)) {
		fprintf(stderr, "keywarden: '%s' is not a valid email\n", email);
		return EXIT_USAGE;
	}
	if (name == NULL)
		name = email;
	if (!store_url_valid(url)) {
		fprintf(stderr, "keywarden: --store must be sqlite, sqlite:DIR "
		    "or a postgresql:// URI\n");
		return EXIT_USAGE;
	}
	if (!kw_valid_text(name, KW_NAME_MAX) || strlen(dir) > KW_PATH_MAX) {
		fprintf(stderr, "keywarden: name or data dir too long\n");
		return EXIT_USAGE;
	}
	snprintf(keypath, sizeof(keypath), "%s/master.key", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/keywarden.db", dir);
	if (stat(keypath, &sb) == 0 || stat(dbpath, &sb) == 0) {
		fprintf(stderr, "keywarden: %s is already initialised; nothing "
		    "was changed\n", dir);
		return 1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "keywarden: cannot create %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	if ((r = crypto_master_key_create(keypath)) != 0)
		goto fail;
	made_key = 1;
	/* STORE_NEW: a shared store initialised from another node's data
	 * directory refuses too (a second master key would make its sealed
	 * data unreadable) */
	if ((r = crypto_keys_load(keypath, &keys)) != 0)
		goto fail;
	if ((r = store_open_url(url, dir, STORE_CREATE | STORE_MIGRATE |
	    STORE_NEW, &st)) == KW_ERR_EXISTS) {
		fprintf(stderr, "keywarden: the store is already initialised; "
		    "copy its master key into %s instead; nothing was "
		    "changed\n", dir);
		goto undo;
	}
	if (r != 0 ||
	    (r = init_admin(st, keys, email, name, tok, sizeof(tok), &p)) != 0)
		goto fail;
	out = json_pack("{s:s, s:s, s:s, s:s}", "admin_token", tok,
	    "admin_id", p.id, "admin_email", p.email, "data_dir", dir);
	json_dumpf(out, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(out);
	kw_wipe(tok, sizeof(tok));
	store_close(st);
	crypto_keys_free(keys);
	return 0;
 fail:
	fprintf(stderr, "keywarden: init of %s failed: %s\n", dir,
	    kw_strerror(r));
 undo:
	store_close(st);
	crypto_keys_free(keys);
	if (made_key) {
		/* leave nothing half-initialised behind */
		unlink(keypath);
		unlink(dbpath);
		snprintf(dbpath, sizeof(dbpath), "%s/keywarden.db-wal", dir);
		unlink(dbpath);
		snprintf(dbpath, sizeof(dbpath), "%s/keywarden.db-shm", dir);
		unlink(dbpath);
	}
	return 1;
}

/* ---- serve ---- */

static const struct option serve_opts[] = {
	{ "data-dir", required_argument, NULL, 'd' },
	{ "store", required_argument, NULL, 'S' },
	{ "listen", required_argument, NULL, 'l' },
	{ "public-url", required_argument, NULL, 'u' },
	{ "config", required_argument, NULL, 'c' },
	{ "threads", required_argument, NULL, 't' },
	{ "callout-workers", required_argument, NULL, 'W' },
	{ "max-connections", required_argument, NULL, 'm' },
	{ "connection-timeout", required_argument, NULL, 'o' },
	{ "auth-fail-limit", required_argument, NULL, 'a' },
	{ "auth-fail-window", required_argument, NULL, 'w' },
	{ "request-ttl-days", required_argument, NULL, 'r' },
	{ "delivery-window", required_argument, NULL, 'D' },
	{ "audit-head-interval", required_argument, NULL, 'H' },
	{ "upstream-timeout", required_argument, NULL, 'T' },
	{ "upstream-attempts", required_argument, NULL, 'A' },
	{ "reconcile-interval", required_argument, NULL, 'R' },
	{ "jobs-interval", required_argument, NULL, 'J' },
	{ "notify-interval", required_argument, NULL, 'I' },
	{ "session-max-age", required_argument, NULL, 'G' },
	{ "session-idle-timeout", required_argument, NULL, 'E' },
	{ "check", no_argument, NULL, 'C' },
	{ "print-config", no_argument, NULL, 'P' },
	{ NULL, 0, NULL, 0 }
};

/* Flag letter to config key. */
static const char *
flag_key(int c)
{
	switch (c) {
	case 'd': return "data_dir";
	case 'S': return "store";
	case 'l': return "listen";
	case 'u': return "public_url";
	case 't': return "threads";
	case 'W': return "callout_workers";
	case 'm': return "max_connections";
	case 'o': return "connection_timeout";
	case 'a': return "auth_fail_limit";
	case 'w': return "auth_fail_window";
	case 'r': return "request_ttl_days";
	case 'D': return "delivery_window";
	case 'H': return "audit_head_interval";
	case 'T': return "upstream_timeout";
	case 'A': return "upstream_attempts";
	case 'R': return "reconcile_interval";
	case 'J': return "jobs_interval";
	case 'I': return "notify_interval";
	case 'G': return "session_max_age";
	case 'E': return "session_idle_timeout";
	default: return NULL;
	}
}

/*
 * Build the configuration: defaults, then environment, then the config
 * file, then flags (highest precedence).
 */
static int
serve_config(int argc, char **argv, struct config *cfg, int *check,
    int *print)
{
	const char	*flags[KW_NELEM(serve_opts)][2];
	const char	*file = getenv("KEYWARDEN_CONFIG");
	char		 err[512];
	size_t		 nflags = 0, i;
	int		 c;

	*check = *print = 0;
	while ((c = getopt_long(argc, argv, "", serve_opts, NULL)) != -1) {
		if (c == 'c')
			file = optarg;
		else if (c == 'C')
			*check = 1;
		else if (c == 'P')
			*print = 1;
		else if (flag_key(c) != NULL && nflags < KW_NELEM(flags)) {
			flags[nflags][0] = flag_key(c);
			flags[nflags++][1] = optarg;
		} else
			return usage_of("serve");
	}
	config_defaults(cfg);
	if (config_load_env(cfg, getenv, err, sizeof(err)) != 0 ||
	    (file != NULL && config_load_file(cfg, file, err,
	    sizeof(err)) != 0))
		goto bad;
	for (i = 0; i < nflags; i++)
		if (config_set(cfg, flags[i][0], flags[i][1], err,
		    sizeof(err)) != 0)
			goto bad;
	if (config_validate(cfg, err, sizeof(err)) != 0)
		goto bad;
	return 0;
 bad:
	fprintf(stderr, "keywarden: configuration: %s\n", err);
	return 1;
}

/*
 * Hold a shared lock on the data directory for the rest of the process,
 * so that `keywarden restore` cannot swap the store underneath.  A
 * directory that cannot be opened is left for the store to report.
 * 0, or -1 (said on stderr) while a restore holds it.
 */
static int
lock_data_dir(const char *dir)
{
	int fd = backup_lock_dir(dir, 0);

	if (fd == KW_ERR_CONFLICT) {
		fprintf(stderr, "keywarden: a restore is in progress on %s\n",
		    dir);
		return -1;
	}
	return 0;	/* the descriptor stays open until exit */
}

/*
 * Read the TLS certificate chain and key named by cfg into *cert and
 * *key (malloc'd; wipe and free the key) and check that they make a
 * usable server.  0, or 1 with a message in err.
 */
static int
tls_load(const struct config *cfg, char **cert, char **key, char *err,
    size_t errsz)
{
	int r;

	*cert = *key = NULL;
	if ((r = kw_read_file(cfg->tls_cert_file, KW_TLS_FILE_MAX, cert,
	    NULL)) != 0) {
		snprintf(err, errsz, "tls_cert_file: cannot read %.300s (%s)",
		    cfg->tls_cert_file, kw_strerror(r));
		return 1;
	}
	if ((r = kw_read_file(cfg->tls_key_file, KW_TLS_FILE_MAX, key,
	    NULL)) != 0) {
		snprintf(err, errsz, "tls_key_file: cannot read %.300s (%s)",
		    cfg->tls_key_file, kw_strerror(r));
		return 1;
	}
	if (http_tls_check(*cert, *key) != 0) {
		snprintf(err, errsz, "tls_cert_file, tls_key_file: %.200s and %.200s "
		    "are not a PEM certificate and its private key",
		    cfg->tls_cert_file, cfg->tls_key_file);
		return 1;
	}
	return 0;
}

static void
tls_free(char *cert, char *key)
{
	free(cert);
	if (key != NULL) {
		kw_wipe(key, strlen(key));
		free(key);
	}
}

/* SIGHUP: serve the certificate files' current contents. */
static void
tls_reload(const struct config *cfg, struct http_server *srv)
{
	char	*cert, *key, err[768];
	int	 r;

	if (cfg->tls_cert_file[0] == '\0') {
		log_msg("info", "SIGHUP: no TLS configured; nothing to reload");
		return;
	}
	if (tls_load(cfg, &cert, &key, err, sizeof(err)) != 0)
		log_msg("error", "SIGHUP: keeping the current certificate: %s",
		    err);
	else if ((r = http_server_reload_tls(srv, cert, key)) != 0)
		log_msg("error", "SIGHUP: certificate reload failed: %s",
		    kw_strerror(r));
	else
		log_msg("info", "SIGHUP: now serving the certificate of %s",
		    cfg->tls_cert_file);
	tls_free(cert, key);
}

static int
cmd_serve(int argc, char **argv)
{
	struct http_server_config	 hc;
	struct http_server		*srv = NULL;
	struct ticker			*tick = NULL;
	struct config			 cfg;
	struct app			*app;
	char				 host[256], err[768];
	char				*cert = NULL, *key = NULL;
	sigset_t			 set;
	int				 check, print, port, sig, r;

	if ((r = serve_config(argc, argv, &cfg, &check, &print)) != 0)
		return r;
	if (print) {
		config_print(&cfg, stdout);
		return 0;
	}
	if (lock_data_dir(cfg.data_dir) != 0)
		return 1;
	if ((app = calloc(1, sizeof(*app))) == NULL || net_global_init() != 0)
		return 1;
	if (api_app_init(app, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "keywarden: %s\n", err);
		api_app_cleanup(app);
		free(app);
		return 1;
	}
	if (cfg.tls_cert_file[0] != '\0' &&
	    tls_load(&cfg, &cert, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "keywarden: configuration: %s\n", err);
		tls_free(cert, key);
		api_app_cleanup(app);
		free(app);
		return 1;
	}
	if (check) {
		printf("configuration ok; data directory %s ready (schema %d)"
		    "%s\n", cfg.data_dir, store_schema_version(app->stores[0]),
		    cert != NULL ? "; TLS certificate and key usable" : "");
		tls_free(cert, key);
		api_app_cleanup(app);
		free(app);
		return 0;
	}
	/* Workers inherit this mask; only the main thread takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	config_split_listen(cfg.listen, host, sizeof(host), &port);
	memset(&hc, 0, sizeof(hc));
	hc.host = host;
	hc.port = port;
	hc.threads = cfg.threads;
	hc.callout_workers = cfg.callout_workers;
	hc.max_connections = cfg.max_connections;
	hc.connection_timeout = cfg.connection_timeout;
	hc.routes = api_routes(&hc.nroutes);
	hc.authorise = api_authorise;
	hc.reauthorise = api_reauthorise;
	hc.dialect = api_dialect;
	hc.app = app;
	hc.trusted_proxies = &app->proxies;
	hc.tls_cert = cert;
	hc.tls_key = key;
	r = http_server_start(&hc, &srv);
	tls_free(cert, key);		/* the server keeps its own copy */
	if (r != 0) {
		fprintf(stderr, "keywarden: cannot listen on %s: %s\n",
		    cfg.listen, r == KW_ERR_CONFIG ? "not a numeric address" :
		    "address in use or not available");
		api_app_cleanup(app);
		free(app);
		return 1;
	}
	log_msg("info", "keywarden %s listening on %s (public url %s, "
	    "data dir %s)", KW_VERSION, cfg.listen, app->public_url,
	    cfg.data_dir);
	if (ticker_start(app, &tick) != 0)
		log_msg("error", "cannot start the background thread");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			tls_reload(&cfg, srv);
	}
	log_msg("info", "signal %d: shutting down", sig);
	http_server_stop(srv);
	ticker_stop(tick);
	api_app_cleanup(app);
	free(app);
	net_global_cleanup();
	log_msg("info", "stopped");
	return 0;
}

/* ---- jobs ---- */

/*
 * jobs run: every lifecycle job once, as if the time were --now, with
 * the same settings as serve; prints a JSON summary.  Safe beside a
 * running server.
 */
static int
cmd_jobs(int argc, char **argv)
{
	struct config	 cfg;
	struct app	*app = NULL;
	struct actor	 a;
	json_t		*sum = NULL;
	const char	*now_s = NULL;
	char		 err[768];
	char		*args[64];
	time_t		 now = kw_now();
	int		 n = 0, i, check, print, r = 1;

	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return usage_of("jobs");
	/* take --now out; the rest are serve's settings */
	args[n++] = argv[0];
	for (i = 2; i < argc && n < (int)KW_NELEM(args) - 1; i++) {
		if (strcmp(argv[i], "--now") == 0 && i + 1 < argc)
			now_s = argv[++i];
		else if (strncmp(argv[i], "--now=", 6) == 0)
			now_s = argv[i] + 6;
		else
			args[n++] = argv[i];
	}
	args[n] = NULL;
	if (now_s != NULL && kw_time_parse(now_s, &now) != 0) {
		fprintf(stderr, "keywarden: --now must look like "
		    "2026-11-28T09:00:00Z\n");
		return EXIT_USAGE;
	}
	optind = 1;
	if ((r = serve_config(n, args, &cfg, &check, &print)) != 0)
		return r;
	if (lock_data_dir(cfg.data_dir) != 0)
		return 1;
	if ((app = calloc(1, sizeof(*app))) == NULL || net_global_init() != 0)
		return 1;
	if (api_app_init(app, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "keywarden: %s\n", err);
		r = 1;
		goto out;
	}
	/* keywarden itself acts, whoever runs the command */
	actor_system(&a, DOOR_CLI, "keywarden");
	/* one node runs the jobs at a time (never the same due action
	 * twice): wait for a run elsewhere to end, a bounded time */
	for (i = 0; i < KW_JOBS_WAIT_S * (1000000 / JOBS_WAIT_US) &&
	    (r = store_lock_jobs(app->stores[0])) == 0; i++)
		usleep(JOBS_WAIT_US);
	if (r != 1) {
		if (r == 0)
			printf("{\n  \"skipped\": \"another node is running "
			    "the jobs\"\n}\n");
		else
			fprintf(stderr, "keywarden: jobs: %s\n",
			    kw_strerror(r));
		r = r != 0;
		goto out;
	}
	kw_fault("jobs_locked");
	r = jobs_run(app, &a, app->stores[0], now, &sum);
	store_unlock_jobs(app->stores[0]);
	if (sum != NULL) {
		json_dumpf(sum, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		fflush(stdout);
	}
	if (r != 0)
		fprintf(stderr, "keywarden: jobs: %s\n", kw_strerror(r));
	/* failures of single items are in the summary and retried next run */
	r = r != 0;
 out:
	json_decref(sum);
	api_app_cleanup(app);
	free(app);
	net_global_cleanup();
	return r;
}

/* ---- migrate ---- */

/*
 * migrate: bring the store's schema to this binary's version (serve
 * does it too, under the same lock; this is for doing it ahead of a
 * rolling upgrade).  Takes serve's settings (--store, --data-dir,
 * --config).
 */
static int
cmd_migrate(int argc, char **argv)
{
	struct config	 cfg;
	struct store	*st = NULL;
	char		 shown[KW_STORE_URL_MAX + 8];
	int		 check, print, r;

	if ((r = serve_config(argc, argv, &cfg, &check, &print)) != 0)
		return r;
	store_url_redact(cfg.store, shown, sizeof(shown));
	if ((r = store_open_url(cfg.store, cfg.data_dir, STORE_MIGRATE,
	    &st)) != 0) {
		fprintf(stderr, "keywarden: migrate: cannot open the store %s "
		    "(%s)%s\n", store_url_is_shared(cfg.store) ? shown :
		    cfg.data_dir, kw_strerror(r), r == KW_ERR_NOT_FOUND ?
		    ": run 'keywarden init' first" : "");
		return 1;
	}
	printf("store %s at schema %d\n", store_url_is_shared(cfg.store) ?
	    shown : cfg.data_dir, store_schema_version(st));
	store_close(st);
	return 0;
}

/* ---- store copy ---- */

/*
 * store copy: move an installation from SQLite to PostgreSQL.  The
 * target must be a database without a keywarden schema; the copy is one
 * transaction.  Afterwards the target's audit chain is verified and must
 * end at the source's head; prints both.  The master key is not in any
 * store: copy it to each node yourself.
 */
static int
cmd_store(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit_verdict	 v;
	struct store		*from = NULL, *to = NULL;
	const char		*src = NULL, *dst = NULL;
	char			 unknown[128], head[65], shown[KW_STORE_URL_MAX];
	int64_t			 rows = 0, seq = 0;
	int			 c, r = 1;

	if (argc < 2 || strcmp(argv[1], "copy") != 0)
		return usage_of("store");
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			src = optarg;
		else if (c == 't')
			dst = optarg;
		else
			return EXIT_USAGE;
	}
	if (src == NULL || dst == NULL || strncmp(src, "sqlite:", 7) != 0 ||
	    !store_url_is_shared(dst))
		return usage_of("store");
	store_url_redact(dst, shown, sizeof(shown));
	if ((r = store_open_url(src, NULL, 0, &from)) != 0) {
		fprintf(stderr, "keywarden: store copy: cannot open %s (%s)%s\n",
		    src, kw_strerror(r), r == KW_ERR_CONFIG ? ": bring it to "
		    "this version first with keywarden migrate" : "");
		goto out;
	}
	if ((r = store_open_url(dst, NULL, STORE_CREATE | STORE_MIGRATE |
	    STORE_NEW, &to)) != 0) {
		fprintf(stderr, "keywarden: store copy: cannot use %s (%s)%s\n",
		    shown, kw_strerror(r), r == KW_ERR_EXISTS ? ": it holds a "
		    "keywarden store already; copy into an empty database" : "");
		goto out;
	}
	if ((r = store_audit_head(from, &seq, head)) != 0 ||
	    (r = store_copy(from, to, &rows, unknown, sizeof(unknown))) != 0) {
		fprintf(stderr, "keywarden: store copy: %s%s%s; nothing was "
		    "copied\n", kw_strerror(r), unknown[0] ? ": unknown table " :
		    "", unknown);
		goto out;
	}
	if ((r = audit_verify_head(to, head[0] ? head : NULL, &v)) != 0 ||
	    !v.ok || v.events != seq) {
		fprintf(stderr, "keywarden: store copy: the copy's audit log "
		    "does not verify with the source's head %s\n", head);
		r = KW_ERR_INTERNAL;
		goto out;
	}
	printf("{\n  \"rows\": %lld,\n  \"audit_events\": %lld,\n"
	    "  \"audit_head\": \"%s\"\n}\n", (long long)rows,
	    (long long)v.events, v.head);
 out:
	store_close(from);
	store_close(to);
	return r == 0 ? 0 : 1;
}

/* ---- audit ---- */

static int
has_flag(int argc, char **argv, const char *flag)
{
	size_t	n = strlen(flag);
	int	i;

	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], flag, n) == 0 &&
		    (argv[i][n] == '\0' || argv[i][n] == '='))
			return 1;
	return 0;
}

static int
cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "store", required_argument, NULL, 's' },
		{ "expect-head", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	struct audit_verdict	 v;
	struct store		*st;
	const char		*dir = getenv("KEYWARDEN_DATA_DIR"), *head = NULL;
	const char		*url = getenv("KEYWARDEN_STORE");
	int			 c, r;

	/* offline verification reads the data directory; everything else
	 * (audit list, audit verify against a server) is the client's */
	if (argc < 2 || strcmp(argv[1], "verify") != 0 ||
	    (dir == NULL && !has_flag(argc, argv, "--data-dir") &&
	    !has_flag(argc, argv, "--store"))) {
		if (cli_handles("audit"))
			return cli_run(argc, argv);
		return usage_of("audit");
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 's')
			url = optarg;
		else if (c == 'e')
			head = optarg;
		else
			return EXIT_USAGE;
	}
	if (dir == NULL && !store_url_is_shared(url))
		return usage_of("audit");
	if (head != NULL && (strlen(head) != KW_HASH_HEX_LEN ||
	    strspn(head, "0123456789abcdef") != KW_HASH_HEX_LEN)) {
		fprintf(stderr, "keywarden: --expect-head must be a whole "
		    "head hash (64 lowercase hex digits), as the audit_head log "
		    "line or audit verify printed it\n");
		return EXIT_USAGE;
	}
	if ((r = store_open_url(url, dir, STORE_SCAN, &st)) != 0) {
		fprintf(stderr, "keywarden: cannot open the store%s%s: %s\n",
		    dir ? " in " : "", dir ? dir : "", kw_strerror(r));
		return 1;
	}
	r = audit_verify_head(st, head, &v);
	store_close(st);
	if (r != 0) {
		fprintf(stderr, "keywarden: reading the audit log: %s\n",
		    kw_strerror(r));
		return 1;
	}
	if (v.ok)
		printf("audit log intact: %lld events, head %s\n",
		    (long long)v.events, v.head);
	else if (v.head_missing) {
		printf("audit chain intact (%lld events, head %s), but the "
		    "expected head is NOT IN THIS LOG: check that it was copied "
		    "from this deployment's audit_head log line; if it was, "
		    "events after it were removed\n", (long long)v.events,
		    v.head);
		return 3;
	} else
		printf("audit log BROKEN at event %lld: %s\n",
		    (long long)v.first_bad_seq, v.reason);
	return v.ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	size_t	i;
	int	w;

	/* everything keywarden creates (store, WAL, keys) is its own only */
	umask(077);
	/* before any jansson call: what jansson frees (request bodies,
	 * provider answers, settings holding a token) is wiped first */
	kw_json_alloc_install();
	if (crypto_init() != 0) {
		fprintf(stderr, "keywarden: cannot initialise libsodium\n");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(0, NULL);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	/* "keywarden --server URL request list": the client's global
	 * options may come before the command word; move the word first */
	if ((w = cli_first_word(argc, argv)) > 1 && cli_handles(argv[w])) {
		char *word = argv[w];
		memmove(&argv[2], &argv[1], (size_t)(w - 1) * sizeof(*argv));
		argv[1] = word;
	}
	for (i = 0; i < KW_NELEM(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* the client answers help for what it handles */
			if (wants_help(argc - 1, argv + 1) &&
			    !(commands[i].run == cmd_audit &&
			    !has_flag(argc - 1, argv + 1, "--data-dir")))
				return help_of(&commands[i]);
			return commands[i].run(argc - 1, argv + 1);
		}
	if (cli_handles(argv[1]))
		return cli_run(argc - 1, argv + 1);
	return unknown_command(argv[1]);
}
