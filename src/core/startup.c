/*
 * startup.c — the checks made before keywarden accepts anything: a
 * damaged store, a broken end of the audit chain or the wrong master key
 * stop the start with a message that names the file at fault.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "kw.h"
#include "log.h"
#include "api/api.h"
#include "core/startup.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "notify/slack.h"
#include "util/util.h"

/* What the key check seals; any text would do, it is not a secret. */
#define KEY_CHECK_TEXT		"keywarden master key check, version 1"
#define KEY_CHECK_SEALED_MAX	(sizeof(KEY_CHECK_TEXT) + KW_SEAL_OVERHEAD)
#define KEY_CHECK_VALUE_MAX	64

int
core_key_check_create(struct store *st, const struct crypto_keys *keys,
    const char *actor, const char *why)
{
	unsigned char	sealed[KEY_CHECK_SEALED_MAX];
	char		at[KW_TIME_LEN + 1];
	size_t		slen = 0;
	int		r;

	kw_time_fmt(kw_now(), at, sizeof(at));
	if ((r = crypto_seal(keys, KEY_CHECK_AD, KEY_CHECK_TEXT,
	    strlen(KEY_CHECK_TEXT), sealed, sizeof(sealed), &slen)) != 0)
		return r;
	if ((r = store_setting_put(st, KEY_CHECK_SETTING, at, sealed, slen,
	    at)) != 0)
		return r;
	return audit_append(st, actor, "store.key_check", KEY_CHECK_SETTING,
	    json_pack("{s:s}", "created", why));
}

int
core_key_check_verify(struct store *st, const struct crypto_keys *keys)
{
	unsigned char	sealed[KEY_CHECK_SEALED_MAX], pt[KEY_CHECK_SEALED_MAX];
	char		value[KEY_CHECK_VALUE_MAX];
	size_t		slen = 0, plen = 0;
	int		r;

	if ((r = store_setting_get(st, KEY_CHECK_SETTING, value, sizeof(value),
	    sealed, sizeof(sealed), &slen)) != 0)
		return r;
	if (slen == 0)
		return KW_ERR_CRYPTO;	/* a check that cannot be one */
	if ((r = crypto_open(keys, KEY_CHECK_AD, sealed, slen, pt, sizeof(pt),
	    &plen)) != 0)
		return KW_ERR_CRYPTO;
	if (plen != strlen(KEY_CHECK_TEXT) ||
	    memcmp(pt, KEY_CHECK_TEXT, plen) != 0)
		r = KW_ERR_CRYPTO;
	kw_wipe(pt, sizeof(pt));
	return r;
}

/* The first instance holding a sealed bot token: does it open? */
struct probe {
	const struct app	*app;
	int64_t			 last;
	int			 tried;
	int			 r;
	char			 name[KW_INSTANCE_NAME_MAX + 1];
};

static int
probe_instance(const struct instance *in, void *arg)
{
	struct probe	*p = arg;
	char		 tok[KW_BOT_TOKEN_MAX + 1];

	p->last = in->seq;
	if (in->bot_sealed_len == 0)
		return 0;
	p->tried = 1;
	kw_strlcpy(p->name, in->name, sizeof(p->name));
	p->r = api_instance_bot_token(p->app, in, tok, sizeof(tok));
	kw_wipe(tok, sizeof(tok));
	return 1;	/* one is proof enough */
}

/*
 * Before a store without a key check gets one: the key must open what
 * the store already holds sealed (the first instance bot token, the
 * Slack settings).  0 with what proved it in proof (or "nothing sealed
 * yet"), else a KW_ERR_* with the message in err.
 */
static int
key_prove(struct app *app, struct store *st, const char *keypath,
    char *proof, size_t proofsz, char *err, size_t errsz)
{
	struct probe	 p;
	unsigned char	 sealed[SLACK_SEALED_MAX], pt[SLACK_SEALED_MAX];
	char		 value[SLACK_VALUE_MAX];
	size_t		 slen = 0, plen = 0;
	int64_t		 before;
	int		 r;

	memset(&p, 0, sizeof(p));
	p.app = app;
	do {
		before = p.last;
		r = store_instance_each(st, p.last, KW_LIST_LIMIT_MAX,
		    probe_instance, &p);
	} while (r == 0 && p.last != before);
	if (r < 0)
		goto unreadable;
	if (p.tried && p.r != 0) {
		snprintf(err, errsz, "%s does not open the bot token of "
		    "instance '%s': it is not the master key of this store; "
		    "put back the key file that belongs with this database",
		    keypath, p.name);
		return KW_ERR_CRYPTO;
	}
	if (p.tried)
		snprintf(proof, proofsz, "opened the bot token of instance "
		    "'%s'", p.name);
	else
		kw_strlcpy(proof, "nothing sealed yet", proofsz);
	r = store_setting_get(st, SLACK_SETTING_KEY, value, sizeof(value),
	    sealed, sizeof(sealed), &slen);
	if (r == KW_ERR_NOT_FOUND || (r == 0 && slen == 0))
		return 0;
	if (r != 0)
		goto unreadable;
	r = crypto_open(app->keys, SLACK_SETTINGS_AD, sealed, slen, pt,
	    sizeof(pt), &plen);
	kw_wipe(pt, sizeof(pt));
	if (r != 0) {
		snprintf(err, errsz, "%s does not open the Slack settings: it "
		    "is not the master key of this store; put back the key "
		    "file that belongs with this database", keypath);
		return KW_ERR_CRYPTO;
	}
	if (!p.tried)
		kw_strlcpy(proof, "opened the Slack settings", proofsz);
	return 0;
 unreadable:
	snprintf(err, errsz, "%s/keywarden.db: the store cannot be read to "
	    "check the master key (%s)", app->cfg.data_dir, kw_strerror(r));
	return KW_ERR_UNAVAILABLE;
}

/* The key check: verify it, or create it on a store that has none. */
static int
key_check(struct app *app, struct store *st, char *err, size_t errsz)
{
	char	keypath[KW_PATH_MAX + 32], proof[128], why[192];
	int	r;

	snprintf(keypath, sizeof(keypath), "%s/master.key", app->cfg.data_dir);
	if ((r = core_key_check_verify(st, app->keys)) == 0)
		return 0;
	if (r == KW_ERR_CRYPTO) {
		snprintf(err, errsz, "%s is not the master key of this store "
		    "(%s/keywarden.db): the store's key check does not open "
		    "under it, so every token would be refused and no sealed "
		    "secret would open; put back the key file that belongs "
		    "with this database", keypath, app->cfg.data_dir);
		return r;
	}
	if (r != KW_ERR_NOT_FOUND) {
		snprintf(err, errsz, "%s/keywarden.db: the store cannot be read "
		    "to check the master key (%s)", app->cfg.data_dir,
		    kw_strerror(r));
		return r;
	}
	/* a store made before key checks: prove the key, then keep one */
	if ((r = key_prove(app, st, keypath, proof, sizeof(proof), err,
	    errsz)) != 0)
		return r;
	snprintf(why, sizeof(why), "first start with a key check (%s)", proof);
	if ((r = store_begin(st)) != 0)
		goto fail;
	/* another process may have made it meanwhile: keep theirs */
	if ((r = core_key_check_verify(st, app->keys)) == KW_ERR_NOT_FOUND)
		r = core_key_check_create(st, app->keys, "system", why);
	if (r == 0)
		r = store_commit(st);
	if (r != 0) {
		store_rollback(st);
		goto fail;
	}
	log_msg("info", "master key check created in the store (%s)", proof);
	return 0;
 fail:
	snprintf(err, errsz, "%s/keywarden.db: the master key check cannot "
	    "be %s (%s)", app->cfg.data_dir, r == KW_ERR_CRYPTO ? "verified" :
	    "written", kw_strerror(r));
	return r;
}

int
core_startup_check(struct app *app, char *err, size_t errsz)
{
	struct audit_verdict	 v;
	struct store		*st = app->stores[0];
	const char		*dir = app->cfg.data_dir;
	char			 why[256];
	int			 r;

	if ((r = store_check(st, why, sizeof(why))) != 0) {
		snprintf(err, errsz, "%s/keywarden.db: the store is damaged "
		    "(%s); keywarden will not start on it: restore the "
		    "database from a backup", dir, why);
		return r;
	}
	if ((r = audit_verify_tail(st, &v)) != 0) {
		snprintf(err, errsz, "%s/keywarden.db: the audit log cannot be "
		    "read (%s); keywarden will not start without it", dir,
		    kw_strerror(r));
		return r;
	}
	if (!v.ok) {
		snprintf(err, errsz, "%s/keywarden.db: the audit log is damaged "
		    "at event %lld (%s); keywarden will not start and append "
		    "to a broken chain: 'keywarden audit verify --data-dir %s' "
		    "checks the whole log; restore the database from a backup",
		    dir, (long long)v.first_bad_seq, v.reason, dir);
		return KW_ERR_UNAVAILABLE;
	}
	return key_check(app, st, err, errsz);
}
