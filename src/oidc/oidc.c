/*
 * oidc.c — the OpenID Connect relying party (see oidc.h) over cjose.
 *
 * cjose was chosen over libjwt: it imports JWKs (RSA and EC) directly from
 * their JSON form, which a JWKS is, and verifies RS/PS/ES signatures with
 * OpenSSL; it speaks jansson, which keywarden already uses.  libjwt 1.10
 * (Debian 12) takes keys only as PEM, so keywarden would have to rebuild
 * RSA and EC keys from JWK members with libcrypto itself.
 *
 * The algorithm is never left to the token: its header's alg must be one
 * of the asymmetric algorithms below, with a key of the matching type
 * (and curve) from the issuer's JWKS.  "none" and the HMAC algorithms (a
 * token signed with the client secret) are refused before cjose sees the
 * token, and only RSA and EC keys are ever taken from a JWKS.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "kw.h"
#include "log.h"
#include "crypto/crypto.h"
#include "net/http.h"
#include "oidc/oidc.h"
#include "util/buf.h"
#include "util/util.h"

#define DISCOVERY_PATH	"/.well-known/openid-configuration"
#define KID_MAX		128
#define JWS_HEADER_MAX	2048	/* a decoded ID-token header, bytes */
/* client_id ":" secret, each percent-encoded (3 bytes a character at
 * worst), then base64 for HTTP Basic */
#define CRED_MAX	(3 * (256 + KW_OIDC_SECRET_MAX) + 2)
#define BASIC_MAX	(4 * (CRED_MAX / 3 + 1) + 1)

/* The signature algorithms accepted, with the key each needs. */
static const struct alg {
	const char	*name;
	const char	*kty;
	const char	*crv;		/* EC only */
} algs[] = {
	{ "RS256", "RSA", NULL },
	{ "RS384", "RSA", NULL },
	{ "RS512", "RSA", NULL },
	{ "PS256", "RSA", NULL },
	{ "PS384", "RSA", NULL },
	{ "PS512", "RSA", NULL },
	{ "ES256", "EC", "P-256" },
	{ "ES384", "EC", "P-384" },
	{ "ES512", "EC", "P-521" },
};

struct key {
	char		 kid[KID_MAX];	/* "" = none */
	char		 kty[4];
	char		 crv[8];
	char		 alg[8];	/* "" = any of its type */
	cjose_jwk_t	*jwk;
};

struct keyset {
	size_t		n;
	struct key	v[KW_OIDC_KEYS_MAX];
};

struct endpoints {
	char	authz[KW_URL_MAX + 1];
	char	token[KW_URL_MAX + 1];
	char	jwks[KW_URL_MAX + 1];
	int	auth_post;		/* client_secret_post, not _basic */
};

struct oidc {
	char		 issuer[KW_URL_MAX + 1];
	char		 client_id[256];
	char		 secret[KW_OIDC_SECRET_MAX + 1];
	char		 scopes[KW_OIDC_SCOPES_MAX];
	char		 domains[KW_OIDC_DOMAINS_MAX];
	char		 redirect_uri[KW_URL_MAX + 32];
	long		 timeout_ms;
	pthread_mutex_t	 lock;		/* guards what follows */
	int		 have_ep;
	uint64_t	 ep_at_s;	/* monotonic */
	struct endpoints ep;
	int		 have_keys;
	uint64_t	 keys_at_s;	/* monotonic */
	struct keyset	 keys;
};

static void
set_why(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	kw_utf8_sanitize(why);
}

static uint64_t
mono_s(void)
{
	return kw_mono_us() / 1000000u;
}

static void
keyset_clear(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		cjose_jwk_release(ks->v[i].jwk);
	ks->n = 0;
}

/* Read the client secret: one line, from a file nobody else may read. */
static int
read_secret(const char *path, char *out, size_t outsz, char *err,
    size_t errsz)
{
	struct stat	st;
	ssize_t		n;
	int		fd, r = KW_ERR_CONFIG;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "[oidc] client_secret_file %s: %s", path,
		    strerror(errno));
		return KW_ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IRWXO) != 0) {
		snprintf(err, errsz, "[oidc] client_secret_file %s: must be a "
		    "regular file that others cannot read (chmod 0600)", path);
		goto out;
	}
	n = read(fd, out, outsz - 1);
	if (n <= 0 || (size_t)n >= outsz - 1) {
		snprintf(err, errsz, "[oidc] client_secret_file %s: empty or "
		    "longer than %zu bytes", path, outsz - 2);
		goto out;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0' || !kw_valid_text(out, outsz)) {
		snprintf(err, errsz, "[oidc] client_secret_file %s: no secret "
		    "on its first line", path);
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		kw_wipe(out, outsz);
	close(fd);
	return r;
}

int
oidc_new(const struct config *cfg, const char *public_url, struct oidc **out,
    char *err, size_t errsz)
{
	struct oidc	*o;
	int		 r;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return KW_ERR_NOMEM;
	kw_strlcpy(o->issuer, cfg->oidc_issuer, sizeof(o->issuer));
	kw_strlcpy(o->client_id, cfg->oidc_client_id, sizeof(o->client_id));
	kw_strlcpy(o->scopes, cfg->oidc_scopes, sizeof(o->scopes));
	kw_strlcpy(o->domains, cfg->oidc_allowed_email_domains,
	    sizeof(o->domains));
	snprintf(o->redirect_uri, sizeof(o->redirect_uri), "%s/auth/callback",
	    public_url);
	o->timeout_ms = (long)cfg->upstream_timeout * 1000L;
	pthread_mutex_init(&o->lock, NULL);
	if ((r = read_secret(cfg->oidc_client_secret_file, o->secret,
	    sizeof(o->secret), err, errsz)) != 0) {
		oidc_free(o);
		return r;
	}
	*out = o;
	return 0;
}

void
oidc_free(struct oidc *o)
{
	if (o == NULL)
		return;
	keyset_clear(&o->keys);
	pthread_mutex_destroy(&o->lock);
	kw_wipe(o, sizeof(*o));
	free(o);
}

/* Percent-encode s (RFC 3986 unreserved kept) onto b. */
static void
add_enc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char c[3];

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
			buf_add(b, s, 1);
			continue;
		}
		c[0] = '%';
		c[1] = hex[ch >> 4];
		c[2] = hex[ch & 15];
		buf_add(b, c, 3);
	}
}

/*
 * GET or POST url and parse the answer as a JSON object.  0 with *out
 * (any status; *status says which); KW_ERR_UPSTREAM when no answer came
 * or it is not a JSON object.
 */
static int
fetch_json(struct oidc *o, const struct net_request *nr, long *status,
    json_t **out, char *why, size_t whysz)
{
	struct net_request	rq = *nr;
	struct net_response	rs;
	json_error_t		jerr;
	int			r;

	*out = NULL;
	rq.timeout_ms = o->timeout_ms;
	rq.connect_timeout_ms = o->timeout_ms;
	rq.max_response = KW_OIDC_DOC_MAX;
	r = net_do(&rq, &rs);
	*status = rs.status;
	if (r != 0) {
		set_why(why, whysz, "the identity provider did not answer "
		    "(%s)", rs.error[0] ? rs.error : kw_strerror(r));
		r = KW_ERR_UPSTREAM;
		goto out;
	}
	*out = json_loadb(buf_str(&rs.body), rs.body.len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		set_why(why, whysz, "the identity provider answered %ld with "
		    "no JSON object", rs.status);
		r = KW_ERR_UPSTREAM;
	}
 out:
	net_response_free(&rs);
	return r;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* 1 if the JSON array a holds the string s (or a is absent: then
 * absent_ok says). */
static int
has_str(json_t *a, const char *s, int absent_ok)
{
	json_t	*v;
	size_t	 i;

	if (a == NULL)
		return absent_ok;
	json_array_foreach(a, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* An endpoint from the discovery document: https, or http on loopback. */
static int
endpoint(json_t *doc, const char *key, char *out, size_t outsz)
{
	const char *u = jstr(doc, key);

	if (u == NULL || strlen(u) >= outsz || !kw_valid_url(u, 1))
		return -1;
	kw_strlcpy(out, u, outsz);
	return 0;
}

/* Fetch and check the discovery document into *ep. */
static int
discover(struct oidc *o, struct endpoints *ep, char *why, size_t whysz)
{
	struct net_request	 nr;
	char			 url[KW_URL_MAX + 64];
	size_t			 n = strlen(o->issuer);
	json_t			*doc = NULL, *methods;
	long			 status;
	int			 r;

	memset(&nr, 0, sizeof(nr));
	memset(ep, 0, sizeof(*ep));
	if (n > 0 && o->issuer[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s%s", (int)n, o->issuer,
	    DISCOVERY_PATH);
	nr.url = url;
	if ((r = fetch_json(o, &nr, &status, &doc, why, whysz)) != 0)
		goto out;
	r = KW_ERR_UPSTREAM;
	if (status != 200) {
		set_why(why, whysz, "discovery answered %ld", status);
		goto out;
	}
	if (jstr(doc, "issuer") == NULL ||
	    strcmp(jstr(doc, "issuer"), o->issuer) != 0) {
		set_why(why, whysz, "discovery names another issuer");
		goto out;
	}
	if (endpoint(doc, "authorization_endpoint", ep->authz,
	    sizeof(ep->authz)) != 0 || endpoint(doc, "token_endpoint",
	    ep->token, sizeof(ep->token)) != 0 || endpoint(doc, "jwks_uri",
	    ep->jwks, sizeof(ep->jwks)) != 0) {
		set_why(why, whysz, "discovery lacks an https authorization, "
		    "token or JWKS endpoint");
		goto out;
	}
	if (!has_str(json_object_get(doc, "response_types_supported"), "code",
	    1) || !has_str(json_object_get(doc,
	    "code_challenge_methods_supported"), "S256", 1)) {
		set_why(why, whysz, "the issuer supports neither the code flow "
		    "nor PKCE S256");
		goto out;
	}
	/* client_secret_basic is the default when nothing is said */
	methods = json_object_get(doc, "token_endpoint_auth_methods_supported");
	if (has_str(methods, "client_secret_basic", 1))
		ep->auth_post = 0;
	else if (has_str(methods, "client_secret_post", 0))
		ep->auth_post = 1;
	else {
		set_why(why, whysz, "the token endpoint takes neither "
		    "client_secret_basic nor client_secret_post");
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		log_msg("warn", "oidc: discovery of %s refused: %s", o->issuer,
		    why);
	json_decref(doc);
	return r;
}

/* The endpoints, from the cache or discovered now. */
static int
endpoints(struct oidc *o, struct endpoints *ep, char *why, size_t whysz)
{
	struct endpoints	fresh;
	int			r;

	pthread_mutex_lock(&o->lock);
	if (o->have_ep && mono_s() - o->ep_at_s < KW_OIDC_DISCOVERY_TTL_S) {
		*ep = o->ep;
		pthread_mutex_unlock(&o->lock);
		return 0;
	}
	pthread_mutex_unlock(&o->lock);
	if ((r = discover(o, &fresh, why, whysz)) != 0)
		return r;
	pthread_mutex_lock(&o->lock);
	o->ep = fresh;
	o->have_ep = 1;
	o->ep_at_s = mono_s();
	pthread_mutex_unlock(&o->lock);
	*ep = fresh;
	return 0;
}

/* One JWK of a JWKS into k: only signing keys of type RSA or EC. */
static int
key_take(json_t *j, struct key *k)
{
	const char	*kty = jstr(j, "kty"), *use = jstr(j, "use");
	const char	*kid = jstr(j, "kid"), *alg = jstr(j, "alg");
	const char	*crv = jstr(j, "crv");
	char		*text;
	cjose_err	 cerr;

	memset(k, 0, sizeof(*k));
	if (kty == NULL || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
		return -1;
	if (use != NULL && strcmp(use, "sig") != 0)
		return -1;
	if ((kid != NULL && strlen(kid) >= sizeof(k->kid)) ||
	    (alg != NULL && strlen(alg) >= sizeof(k->alg)) ||
	    (crv != NULL && strlen(crv) >= sizeof(k->crv)))
		return -1;
	if ((text = json_dumps(j, JSON_COMPACT)) == NULL)
		return -1;
	k->jwk = cjose_jwk_import(text, strlen(text), &cerr);
	free(text);
	if (k->jwk == NULL)
		return -1;
	kw_strlcpy(k->kty, kty, sizeof(k->kty));
	kw_strlcpy(k->kid, kid ? kid : "", sizeof(k->kid));
	kw_strlcpy(k->alg, alg ? alg : "", sizeof(k->alg));
	kw_strlcpy(k->crv, crv ? crv : "", sizeof(k->crv));
	return 0;
}

/* Fetch the JWKS and replace the cached keys (a malformed set leaves the
 * cache as it was). */
static int
jwks_load(struct oidc *o, const char *url, char *why, size_t whysz)
{
	struct net_request	 nr;
	struct keyset		*ks;
	json_t			*doc = NULL, *keys, *j;
	long			 status;
	size_t			 i;
	int			 r;

	memset(&nr, 0, sizeof(nr));
	nr.url = url;
	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		return KW_ERR_NOMEM;
	if ((r = fetch_json(o, &nr, &status, &doc, why, whysz)) != 0)
		goto out;
	r = KW_ERR_UPSTREAM;
	keys = json_object_get(doc, "keys");
	if (status != 200 || !json_is_array(keys)) {
		set_why(why, whysz, "the JWKS (answer %ld) holds no keys array",
		    status);
		goto out;
	}
	json_array_foreach(keys, i, j)
		if (ks->n < KW_OIDC_KEYS_MAX && json_is_object(j) &&
		    key_take(j, &ks->v[ks->n]) == 0)
			ks->n++;
	if (ks->n == 0) {
		set_why(why, whysz, "the JWKS holds no usable RSA or EC "
		    "signing key");
		goto out;
	}
	pthread_mutex_lock(&o->lock);
	keyset_clear(&o->keys);
	o->keys = *ks;
	ks->n = 0;			/* moved */
	o->have_keys = 1;
	o->keys_at_s = mono_s();
	pthread_mutex_unlock(&o->lock);
	r = 0;
 out:
	if (r != 0)
		log_msg("warn", "oidc: JWKS of %s refused: %s", o->issuer, why);
	keyset_clear(ks);
	free(ks);
	json_decref(doc);
	return r;
}

int
oidc_authorize_url(struct oidc *o, const char *state, const char *nonce,
    const char *challenge, char *out, size_t outsz, char *why, size_t whysz)
{
	struct endpoints	ep;
	struct buf		b;
	int			r;

	if ((r = endpoints(o, &ep, why, whysz)) != 0)
		return r;
	buf_init(&b, KW_URL_MAX * 2);
	buf_addstr(&b, ep.authz);
	buf_addstr(&b, strchr(ep.authz, '?') ? "&" : "?");
	buf_addstr(&b, "response_type=code&client_id=");
	add_enc(&b, o->client_id);
	buf_addstr(&b, "&redirect_uri=");
	add_enc(&b, o->redirect_uri);
	buf_addstr(&b, "&scope=");
	add_enc(&b, o->scopes);
	buf_addstr(&b, "&state=");
	add_enc(&b, state);
	buf_addstr(&b, "&nonce=");
	add_enc(&b, nonce);
	buf_addstr(&b, "&code_challenge=");
	add_enc(&b, challenge);
	buf_addstr(&b, "&code_challenge_method=S256");
	if (buf_err(&b) != 0 || b.len >= outsz) {
		set_why(why, whysz, "the authorization URL is too long");
		r = KW_ERR_UPSTREAM;
	} else
		kw_strlcpy(out, buf_str(&b), outsz);
	buf_free(&b);
	return r;
}

/* The header of a compact JWS, decoded, or NULL. */
static json_t *
jws_header(const char *tok)
{
	unsigned char	raw[JWS_HEADER_MAX];
	char		seg[JWS_HEADER_MAX * 4 / 3 + 4];
	size_t		n = strcspn(tok, "."), len;

	if (n == 0 || n >= sizeof(seg))
		return NULL;
	memcpy(seg, tok, n);
	seg[n] = '\0';
	if (crypto_b64url_decode(seg, raw, sizeof(raw), &len) != 0)
		return NULL;
	return json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES,
	    NULL);
}

static const struct alg *
alg_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < KW_NELEM(algs); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* 1 if key k may check a signature by alg a named kid (NULL: any). */
static int
key_fits(const struct key *k, const struct alg *a, const char *kid)
{
	if (strcmp(k->kty, a->kty) != 0)
		return 0;
	if (a->crv != NULL && strcmp(k->crv, a->crv) != 0)
		return 0;
	if (k->alg[0] != '\0' && strcmp(k->alg, a->name) != 0)
		return 0;
	return kid == NULL || strcmp(k->kid, kid) == 0;
}

/*
 * Check jws's signature with a cached key that fits: 1 verified, 0 no
 * key fits (unknown kid), -1 keys fit but none verifies.  Under the lock:
 * the keys may be replaced by another thread otherwise.
 */
static int
verify_with_cache(struct oidc *o, cjose_jws_t *jws, const struct alg *a,
    const char *kid)
{
	cjose_err	cerr;
	size_t		i;
	int		fits = 0, ok = 0;

	pthread_mutex_lock(&o->lock);
	for (i = 0; i < o->keys.n && !ok; i++) {
		if (!key_fits(&o->keys.v[i], a, kid))
			continue;
		fits = 1;
		ok = cjose_jws_verify(jws, o->keys.v[i].jwk, &cerr);
	}
	pthread_mutex_unlock(&o->lock);
	return ok ? 1 : fits ? -1 : 0;
}

/* The signature of tok, checked against the issuer's JWKS (fetched on
 * first use, and again once when no key fits). */
static int
verify_signature(struct oidc *o, const char *tok, cjose_jws_t **jwsp,
    char *why, size_t whysz)
{
	struct endpoints	 ep;
	const struct alg	*a;
	cjose_jws_t		*jws = NULL;
	cjose_err		 cerr;
	json_t			*hdr;
	const char		*kid;
	char			 kidbuf[KID_MAX];
	int			 r, v, loaded;

	*jwsp = NULL;
	if ((hdr = jws_header(tok)) == NULL) {
		set_why(why, whysz, "id_token_malformed");
		return KW_ERR_UNAUTHENTICATED;
	}
	if ((a = alg_find(jstr(hdr, "alg"))) == NULL) {
		set_why(why, whysz, "id_token_alg_refused: %.16s",
		    jstr(hdr, "alg") ? jstr(hdr, "alg") : "(none)");
		json_decref(hdr);
		return KW_ERR_UNAUTHENTICATED;
	}
	kid = jstr(hdr, "kid");
	if (kid != NULL && strlen(kid) >= sizeof(kidbuf)) {
		json_decref(hdr);
		set_why(why, whysz, "id_token_kid_too_long");
		return KW_ERR_UNAUTHENTICATED;
	}
	if (kid != NULL)
		kw_strlcpy(kidbuf, kid, sizeof(kidbuf));
	json_decref(hdr);
	if ((jws = cjose_jws_import(tok, strlen(tok), &cerr)) == NULL) {
		set_why(why, whysz, "id_token_malformed");
		return KW_ERR_UNAUTHENTICATED;
	}
	if ((r = endpoints(o, &ep, why, whysz)) != 0)
		goto out;
	pthread_mutex_lock(&o->lock);
	loaded = o->have_keys;
	pthread_mutex_unlock(&o->lock);
	if (!loaded && (r = jwks_load(o, ep.jwks, why, whysz)) != 0)
		goto out;
	v = verify_with_cache(o, jws, a, kid ? kidbuf : NULL);
	if (v == 0) {
		/* a key we do not hold: the issuer may have rotated; fetch
		 * once more, but not more often than every few seconds */
		pthread_mutex_lock(&o->lock);
		loaded = mono_s() - o->keys_at_s >= KW_OIDC_JWKS_REFRESH_S;
		pthread_mutex_unlock(&o->lock);
		if (loaded && (r = jwks_load(o, ep.jwks, why,
		    whysz)) != 0)
			goto out;
		v = verify_with_cache(o, jws, a, kid ? kidbuf : NULL);
	}
	if (v != 1) {
		set_why(why, whysz, v == 0 ? "id_token_unknown_key" :
		    "id_token_bad_signature");
		r = KW_ERR_UNAUTHENTICATED;
		goto out;
	}
	*jwsp = jws;
	jws = NULL;
	r = 0;
 out:
	cjose_jws_release(jws);
	return r;
}

/* 1 if aud (a string or an array) names client_id; with several
 * audiences, azp must be client_id too. */
static int
audience_ok(json_t *claims, const char *client_id)
{
	json_t		*aud = json_object_get(claims, "aud");
	const char	*azp = jstr(claims, "azp");

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), client_id) == 0 &&
		    (azp == NULL || strcmp(azp, client_id) == 0);
	if (!json_is_array(aud) || !has_str(aud, client_id, 0))
		return 0;
	if (json_array_size(aud) > 1 && azp == NULL)
		return 0;
	return azp == NULL || strcmp(azp, client_id) == 0;
}

/* The claims of a verified token against what this sign-in expects. */
static int
check_claims(struct oidc *o, json_t *c, const char *nonce, time_t now,
    struct oidc_identity *id, char *why, size_t whysz)
{
	json_t		*exp = json_object_get(c, "exp");
	json_t		*iat = json_object_get(c, "iat");
	const char	*got = jstr(c, "nonce"), *email = jstr(c, "email");
	const char	*sub = jstr(c, "sub"), *name = jstr(c, "name");
	const char	*fail = NULL;

	if (jstr(c, "iss") == NULL || strcmp(jstr(c, "iss"), o->issuer) != 0)
		fail = "id_token_wrong_issuer";
	else if (!audience_ok(c, o->client_id))
		fail = "id_token_wrong_audience";
	else if (!json_is_number(exp) ||
	    json_number_value(exp) + KW_OIDC_SKEW_S <= (double)now)
		fail = "id_token_expired";
	else if (!json_is_number(iat) ||
	    json_number_value(iat) - KW_OIDC_SKEW_S > (double)now)
		fail = "id_token_issued_in_the_future";
	else if (got == NULL || strlen(got) != strlen(nonce) ||
	    !crypto_eq(got, nonce, strlen(nonce)))
		fail = "id_token_nonce_mismatch";
	else if (sub == NULL || strlen(sub) >= sizeof(id->sub))
		fail = "id_token_no_subject";
	else if (email == NULL || strlen(email) > KW_EMAIL_MAX ||
	    !kw_valid_email(email))
		fail = "id_token_no_email";
	else if (!json_is_true(json_object_get(c, "email_verified")))
		fail = "email_not_verified";
	if (fail != NULL) {
		set_why(why, whysz, "%s", fail);
		return KW_ERR_UNAUTHENTICATED;
	}
	kw_strlcpy(id->sub, sub, sizeof(id->sub));
	kw_strlcpy(id->email, email, sizeof(id->email));
	kw_strlcpy(id->name, name && kw_valid_text(name, KW_NAME_MAX) ? name :
	    "", sizeof(id->name));
	return 0;
}

int
oidc_verify(struct oidc *o, const char *tok, const char *nonce, time_t now,
    struct oidc_identity *id, char *why, size_t whysz)
{
	cjose_jws_t	*jws = NULL;
	cjose_err	 cerr;
	uint8_t		*pt = NULL;
	size_t		 ptlen = 0;
	json_t		*claims = NULL;
	int		 r;

	memset(id, 0, sizeof(*id));
	if (strlen(tok) > KW_OIDC_TOKEN_MAX) {
		set_why(why, whysz, "id_token_too_large");
		return KW_ERR_UNAUTHENTICATED;
	}
	if ((r = verify_signature(o, tok, &jws, why, whysz)) != 0)
		return r;
	r = KW_ERR_UNAUTHENTICATED;
	if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &cerr) ||
	    (claims = json_loadb((const char *)pt, ptlen,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(claims)) {
		set_why(why, whysz, "id_token_claims_malformed");
		goto out;
	}
	r = check_claims(o, claims, nonce, now, id, why, whysz);
 out:
	json_decref(claims);
	cjose_jws_release(jws);	/* owns pt */
	return r;
}

/* The error code of a token endpoint refusal, reduced to [a-z_]. */
static void
oauth_error(json_t *doc, char *out, size_t outsz)
{
	const char	*e = jstr(doc, "error");
	size_t		 n = 0;

	for (; e != NULL && *e != '\0' && n + 1 < outsz && n < 40; e++)
		if ((*e >= 'a' && *e <= 'z') || *e == '_')
			out[n++] = *e;
	out[n] = '\0';
}

int
oidc_redeem(struct oidc *o, const char *code, const char *verifier,
    const char *nonce, struct oidc_identity *id, char *why, size_t whysz)
{
	struct endpoints	 ep;
	struct net_request	 nr;
	struct buf		 body, cred;
	char			 basic[BASIC_MAX], hdr[BASIC_MAX + 32], err[48];
	const char		*hdrs[2] = { NULL, NULL };
	json_t			*doc = NULL;
	const char		*idt;
	long			 status;
	int			 r;

	memset(&nr, 0, sizeof(nr));
	buf_init(&body, KW_OIDC_CODE_MAX * 2 + KW_URL_MAX * 3);
	buf_init(&cred, CRED_MAX);
	basic[0] = hdr[0] = '\0';
	if ((r = endpoints(o, &ep, why, whysz)) != 0)
		goto out;
	buf_addstr(&body, "grant_type=authorization_code&code=");
	add_enc(&body, code);
	buf_addstr(&body, "&redirect_uri=");
	add_enc(&body, o->redirect_uri);
	buf_addstr(&body, "&code_verifier=");
	add_enc(&body, verifier);
	if (ep.auth_post) {
		buf_addstr(&body, "&client_id=");
		add_enc(&body, o->client_id);
		buf_addstr(&body, "&client_secret=");
		add_enc(&body, o->secret);
	} else {
		/* RFC 6749 2.3.1: both form-encoded, then Basic */
		add_enc(&cred, o->client_id);
		buf_addstr(&cred, ":");
		add_enc(&cred, o->secret);
		if (buf_err(&cred) != 0 || crypto_b64_encode(buf_str(&cred),
		    cred.len, basic, sizeof(basic)) != 0) {
			set_why(why, whysz, "client credentials too long");
			r = KW_ERR_UPSTREAM;
			goto out;
		}
		snprintf(hdr, sizeof(hdr), "Authorization: Basic %s", basic);
		hdrs[0] = hdr;
	}
	if (buf_err(&body) != 0) {
		set_why(why, whysz, "the code is too long");
		r = KW_ERR_UNAUTHENTICATED;
		goto out;
	}
	nr.method = "POST";
	nr.url = ep.token;
	nr.content_type = "application/x-www-form-urlencoded";
	nr.body = buf_str(&body);
	nr.body_len = body.len;
	nr.extra_headers = hdrs;
	if ((r = fetch_json(o, &nr, &status, &doc, why, whysz)) != 0)
		goto out;
	if (status == 400 || status == 401) {
		oauth_error(doc, err, sizeof(err));
		set_why(why, whysz, "code_refused: %s", err[0] ? err :
		    "unknown");
		r = KW_ERR_UNAUTHENTICATED;
		goto out;
	}
	if (status != 200 || (idt = jstr(doc, "id_token")) == NULL) {
		set_why(why, whysz, "the token endpoint answered %ld without "
		    "an ID token", status);
		r = KW_ERR_UPSTREAM;
		goto out;
	}
	r = oidc_verify(o, idt, nonce, kw_now(), id, why, whysz);
 out:
	kw_wipe(basic, sizeof(basic));
	kw_wipe(hdr, sizeof(hdr));
	buf_free(&cred);
	buf_free(&body);
	json_decref(doc);
	return r;
}

int
oidc_email_allowed(const struct oidc *o, const char *email)
{
	const char	*at = strrchr(email, '@'), *p = o->domains;
	size_t		 n, dl;

	if (o->domains[0] == '\0')
		return 1;
	if (at == NULL)
		return 0;
	at++;
	dl = strlen(at);
	while (*p != '\0') {
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n > 0 && n == dl && strncasecmp(p, at, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}
