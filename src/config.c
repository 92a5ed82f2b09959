/*
 * config.c — settings from defaults, environment, INI file and flags.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <jansson.h>

#include "kw.h"
#include "config.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/util.h"

enum ktype { K_STR, K_INT };

static const struct key {
	const char	*name;		/* file key and flag (--name, - for _);
					   [oidc] keys are "oidc_" + file key */
	const char	*env;
	enum ktype	 type;
	size_t		 off;
	size_t		 size;		/* K_STR capacity */
	int		 min, max;	/* K_INT range */
} keys[] = {
	{ "data_dir", "KEYWARDEN_DATA_DIR", K_STR,
	    offsetof(struct config, data_dir), KW_PATH_MAX, 0, 0 },
	{ "store", "KEYWARDEN_STORE", K_STR,
	    offsetof(struct config, store), KW_STORE_URL_MAX, 0, 0 },
	{ "listen", "KEYWARDEN_LISTEN", K_STR,
	    offsetof(struct config, listen), 300, 0, 0 },
	{ "public_url", "KEYWARDEN_PUBLIC_URL", K_STR,
	    offsetof(struct config, public_url), KW_URL_MAX + 1, 0, 0 },
	{ "threads", "KEYWARDEN_THREADS", K_INT,
	    offsetof(struct config, threads), 0, 1, KW_THREADS_MAX },
	{ "callout_workers", "KEYWARDEN_CALLOUT_WORKERS", K_INT,
	    offsetof(struct config, callout_workers), 0, 1,
	    KW_CALLOUT_WORKERS_MAX },
	{ "max_connections", "KEYWARDEN_MAX_CONNECTIONS", K_INT,
	    offsetof(struct config, max_connections), 0, 1, 65536 },
	{ "connection_timeout", "KEYWARDEN_CONNECTION_TIMEOUT", K_INT,
	    offsetof(struct config, connection_timeout), 0, 1, 3600 },
	{ "auth_fail_limit", "KEYWARDEN_AUTH_FAIL_LIMIT", K_INT,
	    offsetof(struct config, auth_fail_limit), 0, 1, 1000000 },
	{ "auth_fail_window", "KEYWARDEN_AUTH_FAIL_WINDOW", K_INT,
	    offsetof(struct config, auth_fail_window), 0, 1, 86400 },
	{ "request_ttl_days", "KEYWARDEN_REQUEST_TTL_DAYS", K_INT,
	    offsetof(struct config, request_ttl_days), 0, 1, 365 },
	{ "delivery_window", "KEYWARDEN_DELIVERY_WINDOW", K_INT,
	    offsetof(struct config, delivery_window), 0, 60, 30 * 86400 },
	{ "audit_head_interval", "KEYWARDEN_AUDIT_HEAD_INTERVAL", K_INT,
	    offsetof(struct config, audit_head_interval), 0, 1, 86400 },
	{ "upstream_timeout", "KEYWARDEN_UPSTREAM_TIMEOUT", K_INT,
	    offsetof(struct config, upstream_timeout), 0, 1, 300 },
	{ "upstream_attempts", "KEYWARDEN_UPSTREAM_ATTEMPTS", K_INT,
	    offsetof(struct config, upstream_attempts), 0, 1, 10 },
	{ "reconcile_interval", "KEYWARDEN_RECONCILE_INTERVAL", K_INT,
	    offsetof(struct config, reconcile_interval), 0, 1, 86400 },
	{ "jobs_interval", "KEYWARDEN_JOBS_INTERVAL", K_INT,
	    offsetof(struct config, jobs_interval), 0, 1, 86400 },
	{ "notify_interval", "KEYWARDEN_NOTIFY_INTERVAL", K_INT,
	    offsetof(struct config, notify_interval), 0, 1, 3600 },
	{ "metrics_token_file", "KEYWARDEN_METRICS_TOKEN_FILE", K_STR,
	    offsetof(struct config, metrics_token_file), KW_PATH_MAX, 0, 0 },
	{ "tls_cert_file", "KEYWARDEN_TLS_CERT_FILE", K_STR,
	    offsetof(struct config, tls_cert_file), KW_PATH_MAX, 0, 0 },
	{ "tls_key_file", "KEYWARDEN_TLS_KEY_FILE", K_STR,
	    offsetof(struct config, tls_key_file), KW_PATH_MAX, 0, 0 },
	{ "trusted_proxies", "KEYWARDEN_TRUSTED_PROXIES", K_STR,
	    offsetof(struct config, trusted_proxies), KW_PROXIES_TEXT_MAX, 0, 0 },
	{ "session_max_age", "KEYWARDEN_SESSION_MAX_AGE", K_INT,
	    offsetof(struct config, session_max_age), 0, 1, 30 * 86400 },
	{ "session_idle_timeout", "KEYWARDEN_SESSION_IDLE_TIMEOUT", K_INT,
	    offsetof(struct config, session_idle_timeout), 0, 1, 30 * 86400 },
	{ "oidc_issuer", "KEYWARDEN_OIDC_ISSUER", K_STR,
	    offsetof(struct config, oidc_issuer), KW_URL_MAX + 1, 0, 0 },
	{ "oidc_client_id", "KEYWARDEN_OIDC_CLIENT_ID", K_STR,
	    offsetof(struct config, oidc_client_id), 256, 0, 0 },
	{ "oidc_client_secret_file", "KEYWARDEN_OIDC_CLIENT_SECRET_FILE",
	    K_STR, offsetof(struct config, oidc_client_secret_file),
	    KW_PATH_MAX, 0, 0 },
	{ "oidc_scopes", "KEYWARDEN_OIDC_SCOPES", K_STR,
	    offsetof(struct config, oidc_scopes), KW_OIDC_SCOPES_MAX, 0, 0 },
	{ "oidc_allowed_email_domains", "KEYWARDEN_OIDC_ALLOWED_EMAIL_DOMAINS",
	    K_STR, offsetof(struct config, oidc_allowed_email_domains),
	    KW_OIDC_DOMAINS_MAX, 0, 0 },
};

#define OIDC_PREFIX	"oidc_"

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	kw_strlcpy(c->data_dir, "data", sizeof(c->data_dir));
	kw_strlcpy(c->store, "sqlite", sizeof(c->store));
	kw_strlcpy(c->listen, "127.0.0.1:8200", sizeof(c->listen));
	c->threads = 8;
	c->callout_workers = KW_CALLOUT_WORKERS;
	c->max_connections = KW_CONN_LIMIT;
	c->connection_timeout = KW_CONN_TIMEOUT_S;
	c->auth_fail_limit = KW_AUTH_FAIL_LIMIT;
	c->auth_fail_window = KW_AUTH_FAIL_WINDOW_S;
	c->request_ttl_days = KW_REQUEST_TTL_DAYS;
	c->delivery_window = KW_DELIVERY_WINDOW_S;
	c->audit_head_interval = 300;
	c->upstream_timeout = 10;
	c->upstream_attempts = 4;
	c->reconcile_interval = 300;
	c->jobs_interval = 60;
	c->notify_interval = 5;
	c->session_max_age = KW_SESSION_MAX_AGE_S;
	c->session_idle_timeout = KW_SESSION_IDLE_S;
	kw_strlcpy(c->oidc_scopes, "openid email profile",
	    sizeof(c->oidc_scopes));
}

static const struct key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < KW_NELEM(keys); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

const char *
config_env_name(const char *key)
{
	const struct key *k = key_find(key);

	return k ? k->env : NULL;
}

int
config_set(struct config *c, const char *name, const char *value, char *err,
    size_t errsz)
{
	const struct key	*k = key_find(name);
	char			*end;
	long			 v;

	if (k == NULL) {
		snprintf(err, errsz, "unknown setting '%s'", name);
		return KW_ERR_CONFIG;
	}
	if (k->type == K_STR) {
		if (strlen(value) >= k->size || !kw_valid_text(value, k->size)) {
			snprintf(err, errsz, "%s: value too long or not text",
			    name);
			return KW_ERR_CONFIG;
		}
		kw_strlcpy((char *)c + k->off, value, k->size);
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < k->min ||
	    v > k->max) {
		snprintf(err, errsz, "%s: expected an integer from %d to %d",
		    name, k->min, k->max);
		return KW_ERR_CONFIG;
	}
	*(int *)(void *)((char *)c + k->off) = (int)v;
	return 0;
}

int
config_load_env(struct config *c, char *(*getenv_fn)(const char *), char *err,
    size_t errsz)
{
	const char	*v;
	size_t		 i;
	int		 r;

	for (i = 0; i < KW_NELEM(keys); i++) {
		if ((v = getenv_fn(keys[i].env)) == NULL || *v == '\0')
			continue;
		if ((r = config_set(c, keys[i].name, v, err, errsz)) != 0)
			return r;
	}
	return 0;
}

struct ini_ctx {
	struct config	*c;
	char		*err;
	size_t		 errsz;
	int		 failed;
};

static int
cfg_ini_line(void *user, const char *section, const char *name,
    const char *value)
{
	struct ini_ctx	*x = user;
	char		 key[128];
	int		 oidc = strcmp(section, "oidc") == 0;

	if (x->failed)
		return 0;
	if (!oidc && strcmp(section, "server") != 0) {
		snprintf(x->err, x->errsz, "unknown section [%s]", section);
		x->failed = 1;
		return 0;
	}
	/* [oidc] holds the oidc_ keys (without the prefix), [server] the
	 * others */
	if (!oidc && strncmp(name, OIDC_PREFIX, strlen(OIDC_PREFIX)) == 0) {
		snprintf(x->err, x->errsz, "'%s' belongs in the [oidc] section "
		    "(without the prefix)", name);
		x->failed = 1;
		return 0;
	}
	snprintf(key, sizeof(key), "%s%s", oidc ? OIDC_PREFIX : "", name);
	if (config_set(x->c, key, value, x->err, x->errsz) != 0) {
		x->failed = 1;
		return 0;
	}
	return 1;
}

/* inih reads lines of at most INI_MAX_LINE bytes and splits longer ones
 * silently: find such a line first and say so. */
static int
long_line(const char *path)
{
	FILE	*fp;
	int	 ch, line = 1, len = 0, bad = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (!bad && (ch = getc(fp)) != EOF) {
		if (ch == '\n') {
			line++;
			len = 0;
		} else if (++len >= INI_MAX_LINE - 1)
			bad = line;
	}
	fclose(fp);
	return bad;
}

int
config_load_file(struct config *c, const char *path, char *err, size_t errsz)
{
	struct ini_ctx	x = { c, err, errsz, 0 };
	char		inner[256] = "";
	int		rc, bad;

	if ((bad = long_line(path)) > 0) {
		snprintf(err, errsz, "%s:%d: line longer than %d bytes; use the "
		    "environment or a flag for long values", path, bad,
		    INI_MAX_LINE - 2);
		return KW_ERR_CONFIG;
	}
	x.err = inner;
	x.errsz = sizeof(inner);
	rc = ini_parse(path, cfg_ini_line, &x);
	if (rc == -1) {
		snprintf(err, errsz, "%s: cannot open", path);
		return KW_ERR_CONFIG;
	}
	if (rc != 0 || x.failed) {
		snprintf(err, errsz, "%s:%d: %s", path, rc > 0 ? rc : 0,
		    inner[0] ? inner : "syntax error");
		return KW_ERR_CONFIG;
	}
	return 0;
}

int
config_split_listen(const char *listen, char *host, size_t hostsz, int *port)
{
	const char	*colon, *h = listen;
	size_t		 hl;
	char		*end;
	long		 p;

	if (*listen == '[') {
		const char *rb = strchr(listen, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		h = listen + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		/* an IPv6 address must be bracketed: [::1]:8200 */
		if ((colon = strchr(listen, ':')) == NULL ||
		    strchr(colon + 1, ':') != NULL)
			return -1;
		hl = (size_t)(colon - listen);
	}
	if (hl == 0 || hl >= hostsz)
		return -1;
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end != '\0' || p < 0 || p > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* [oidc]: all or nothing; the issuer speaks https (plain http only on a
 * loopback address: tests, the demo). */
static int
oidc_validate(const struct config *c, char *err, size_t errsz)
{
	size_t n = strlen(c->oidc_issuer);

	if (n == 0 && c->oidc_client_id[0] == '\0' &&
	    c->oidc_client_secret_file[0] == '\0')
		return 0;
	if (n == 0 || c->oidc_client_id[0] == '\0' ||
	    c->oidc_client_secret_file[0] == '\0') {
		snprintf(err, errsz, "[oidc]: issuer, client_id and "
		    "client_secret_file are all needed");
		return KW_ERR_CONFIG;
	}
	if (!kw_valid_url(c->oidc_issuer, 1) ||
	    strchr(c->oidc_issuer, '?') != NULL ||
	    strchr(c->oidc_issuer, '#') != NULL) {
		snprintf(err, errsz, "[oidc] issuer: expected an https URL "
		    "without a query or fragment (http only on a loopback "
		    "address)");
		return KW_ERR_CONFIG;
	}
	if (strstr(c->oidc_scopes, "openid") == NULL) {
		snprintf(err, errsz, "[oidc] scopes: must include openid");
		return KW_ERR_CONFIG;
	}
	return 0;
}

/* 1 if host is an IPv4 or IPv6 literal, or "localhost". */
static int
config_listen_host_ok(const char *host)
{
	struct in6_addr a;

	return inet_pton(AF_INET, host, &a) == 1 ||
	    inet_pton(AF_INET6, host, &a) == 1 || strcmp(host, "localhost") == 0;
}

int
config_validate(const struct config *c, char *err, size_t errsz)
{
	struct addr_list	proxies;
	char			host[256];
	int			port, r;

	if (!store_url_valid(c->store)) {
		snprintf(err, errsz, "store: must be sqlite, sqlite:DIR or a "
		    "postgresql:// URI");
		return KW_ERR_CONFIG;
	}
	if (c->data_dir[0] == '\0') {
		snprintf(err, errsz, "data_dir: must not be empty");
		return KW_ERR_CONFIG;
	}
	if (config_split_listen(c->listen, host, sizeof(host), &port) != 0) {
		snprintf(err, errsz, "listen: expected HOST:PORT, got '%s'",
		    c->listen);
		return KW_ERR_CONFIG;
	}
	/* what http_server_start() can bind: checked here, so --check
	 * catches it instead of the start that follows */
	if (!config_listen_host_ok(host)) {
		snprintf(err, errsz, "listen: '%.64s' is not an IP address; "
		    "keywarden listens on a numeric address (127.0.0.1, "
		    "0.0.0.0, [::1], [::]) or localhost: give the address the "
		    "name resolves to", host);
		return KW_ERR_CONFIG;
	}
	if (c->public_url[0] != '\0' && !kw_valid_http_url(c->public_url)) {
		snprintf(err, errsz, "public_url: expected an http(s) URL");
		return KW_ERR_CONFIG;
	}
	if ((c->tls_cert_file[0] == '\0') != (c->tls_key_file[0] == '\0')) {
		snprintf(err, errsz, "tls_cert_file and tls_key_file: set both "
		    "(TLS) or neither (plain HTTP)");
		return KW_ERR_CONFIG;
	}
	if ((r = addr_list_parse(c->trusted_proxies, &proxies, err,
	    errsz)) != 0)
		return r;
	return oidc_validate(c, err, errsz);
}

void
config_public_url(const struct config *c, char *out, size_t outsz)
{
	size_t n;

	if (c->public_url[0] != '\0')
		kw_strlcpy(out, c->public_url, outsz);
	else
		snprintf(out, outsz, "%s://%s", c->tls_cert_file[0] != '\0' ?
		    "https" : "http", c->listen);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

void
config_print(const struct config *c, FILE *fp)
{
	json_t	*o = json_object(), *oidc = json_object();
	char	 url[KW_URL_MAX + 64];
	size_t	 i, plen = strlen(OIDC_PREFIX);

	/* [oidc] keys nested as in the file, without their prefix */
	for (i = 0; i < KW_NELEM(keys); i++) {
		const void *p = (const char *)c + keys[i].off;
		json_t *v = keys[i].type == K_STR ? json_string(p) :
		    json_integer(*(const int *)p);
		if (strncmp(keys[i].name, OIDC_PREFIX, plen) == 0)
			json_object_set_new(oidc, keys[i].name + plen, v);
		else
			json_object_set_new(o, keys[i].name, v);
	}
	/* the store URI may hold a password: never printed */
	store_url_redact(c->store, url, sizeof(url));
	json_object_set_new(o, "store", json_string(url));
	json_object_set_new(o, "oidc", oidc);
	config_public_url(c, url, sizeof(url));
	json_object_set_new(o, "public_url", json_string(url));
	json_dumpf(o, fp, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', fp);
	json_decref(o);
}
