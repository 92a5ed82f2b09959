/*
 * startup.h — what is checked before keywarden accepts anything (serve,
 * jobs run): the store's integrity and schema, the end of the audit
 * chain, and that the master key is the one the store was made with.
 *
 * The key check: at init, a known text is sealed under the master key
 * (associated data KEY_CHECK_AD) and kept in settings under
 * KEY_CHECK_SETTING.  At start it must open, or the key is the wrong one
 * (every token would be refused, no sealed secret would open).  A store
 * made before key checks existed gets one at its first start, once the
 * key has opened whatever the store already holds sealed (an instance's
 * bot token, the Slack settings); that first start is recorded in the
 * audit log (store.key_check).
 */
#ifndef KW_CORE_STARTUP_H
#define KW_CORE_STARTUP_H

#include <stddef.h>

struct app;
struct crypto_keys;
struct store;

#define KEY_CHECK_SETTING	"master_key_check"
#define KEY_CHECK_AD		"keywarden:settings:master_key_check"

/* Seal a new key check under keys and keep it, with its audit event by
 * actor, in the caller's transaction on st.  0 or a KW_ERR_*. */
int	 core_key_check_create(struct store *st, const struct crypto_keys *keys,
	    const char *actor, const char *why);
/* Does keys open st's key check?  0; KW_ERR_CRYPTO when it does not (the
 * wrong key); KW_ERR_NOT_FOUND when st has no key check; a store error. */
int	 core_key_check_verify(struct store *st, const struct crypto_keys *keys);

/* Every check on app's store (opened) and key (loaded), in this order:
 * integrity and schema, the audit chain's end, the key check (created
 * when missing, see above).  0, or a KW_ERR_* with a message in err that
 * names the file at fault and what to do. */
int	 core_startup_check(struct app *app, char *err, size_t errsz);

#endif /* KW_CORE_STARTUP_H */
