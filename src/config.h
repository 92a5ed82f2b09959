/*
 * config.h — the server's settings.  Sources, lowest precedence first:
 * built-in defaults, environment (KEYWARDEN_*), the config file (INI,
 * sections [server] and [oidc]), command-line flags.  Every setting has one entry in
 * the key table in config.c: its file key, environment name and checker.
 */
#ifndef KW_CONFIG_H
#define KW_CONFIG_H

#include <stdio.h>

#include "limits.h"

struct config {
	char	data_dir[KW_PATH_MAX];
	char	store[KW_STORE_URL_MAX];	/* "sqlite" or postgresql://... */
	char	listen[300];			/* host:port */
	char	public_url[KW_URL_MAX + 1];	/* "" = http://<listen> */
	int	threads;			/* HTTP worker threads */
	int	callout_workers;		/* threads for handlers that
						   call another service */
	int	max_connections;
	int	connection_timeout;		/* seconds */
	int	auth_fail_limit;		/* failures per window */
	int	auth_fail_window;		/* seconds */
	int	request_ttl_days;		/* pending requests expire */
	int	delivery_window;		/* seconds to reveal a secret */
	int	audit_head_interval;		/* seconds between head logs */
	int	upstream_timeout;		/* seconds per instance call */
	int	upstream_attempts;		/* tries per instance call */
	int	reconcile_interval;		/* seconds between reconciles */
	int	jobs_interval;			/* seconds between job runs */
	int	notify_interval;		/* seconds between outbox runs */
	char	metrics_token_file[KW_PATH_MAX];	/* "" = loopback only */
	char	tls_cert_file[KW_PATH_MAX];	/* PEM chain; "" = plain HTTP */
	char	tls_key_file[KW_PATH_MAX];
	char	trusted_proxies[KW_PROXIES_TEXT_MAX];	/* addresses, CIDRs */
	int	session_max_age;		/* seconds a session lasts */
	int	session_idle_timeout;		/* seconds without a request */
	/* [oidc]: OpenID Connect sign-in ("" issuer = off) */
	char	oidc_issuer[KW_URL_MAX + 1];
	char	oidc_client_id[256];
	char	oidc_client_secret_file[KW_PATH_MAX];
	char	oidc_scopes[KW_OIDC_SCOPES_MAX];
	char	oidc_allowed_email_domains[KW_OIDC_DOMAINS_MAX];
};

/* Fill in the built-in defaults. */
void	 config_defaults(struct config *c);
/* Set one setting by its file key ("listen", "data_dir", ...).  On a bad
 * key or value returns KW_ERR_CONFIG with a message in err. */
int	 config_set(struct config *c, const char *key, const char *value,
	    char *err, size_t errsz);
/* Apply KEYWARDEN_* environment variables through getenv_fn (getenv in
 * production; tests pass their own). */
int	 config_load_env(struct config *c, char *(*getenv_fn)(const char *),
	    char *err, size_t errsz);
/* Apply an INI file.  Unknown sections or keys are errors. */
int	 config_load_file(struct config *c, const char *path, char *err,
	    size_t errsz);
/* Check the whole configuration for consistency. */
int	 config_validate(const struct config *c, char *err, size_t errsz);
/* Split "host:port" ("[::1]:8200" too) into host[hostsz] and *port. */
int	 config_split_listen(const char *listen, char *host, size_t hostsz,
	    int *port);
/* The public URL, derived from listen when not set, into out. */
void	 config_public_url(const struct config *c, char *out, size_t outsz);
/* Print the effective configuration as one JSON object. */
void	 config_print(const struct config *c, FILE *fp);
/* The environment variable name for a file key, or NULL. */
const char *config_env_name(const char *key);

#endif /* KW_CONFIG_H */
