/*
 * legacy.h — a SaaS's classic API tokens as keywarden tracks them
 * (credentials of kind KIND_LEGACY, metadata only): reading them from an
 * instance (sync) and the dates that matter for their migration.  The
 * SaaS's facts (when it deactivates an idle token, when it switches them
 * all off) come from the instance's provider (provider_legacy_facts).
 */
#ifndef KW_CORE_LEGACY_H
#define KW_CORE_LEGACY_H

#include <time.h>

#include "core/app.h"
#include "provider/provider.h"
#include "store/store.h"

#define LEGACY_SOON_DAYS	14	/* the report's "soon" */

/*
 * The migration dates of legacy credential c, whose instance's provider
 * has facts lf, as seen at now: deactivation_due_out[KW_TIME_LEN + 1]
 * gets lf->idle_days after its last use (after its creation when never
 * used), also when the token is already inactive; *days_to_deactivation
 * and *days_to_shutdown get the whole days from now to that date and to
 * lf->shutdown, rounded down (negative once passed; 0 on the day
 * itself).  Any output may be NULL.  Pure: reads only lf and c.  Returns
 * 0, or KW_ERR_VALIDATION when lf is NULL, c is not a legacy credential
 * or its times do not parse (outputs then untouched).
 */
int	 legacy_due(const struct provider_legacy_facts *lf,
	    const struct credential *c, time_t now, char *deactivation_due_out,
	    int *days_to_deactivation, int *days_to_shutdown);

/* The SaaS that holds credential c as people call it (its instance's
 * provider's title), for messages; "SaaS" when that cannot be read. */
const char *legacy_saas(struct store *st, const struct credential *c);

/* What a sync found and recorded. */
struct legacy_sync_result {
	char	instance[KW_INSTANCE_NAME_MAX + 1];	/* its name */
	size_t	legacy_tokens;		/* listed (at most LEGACY_TOKENS_MAX) */
	int	imported, updated, removed;
	int	oauth;			/* keywarden tokens' last use updated */
};

/*
 * Sync instance (id or name) for actor a (an admin or one of its
 * provisioners): every legacy token it lists becomes or updates a legacy
 * credential (new ones owned by a), those it no longer lists are revoked,
 * and keywarden's own tokens get the last use it reports; all in one
 * transaction with the audit event "instance.sync".  The instance is
 * asked first, with no transaction open.  0 with *out filled, or a
 * KW_ERR_* with f filled (KW_ERR_UPSTREAM: the instance did not answer,
 * nothing changed).
 */
int	 legacy_sync(struct app *app, struct actor *a, const char *instance,
	    struct legacy_sync_result *out, struct kw_fail *f);

#endif /* KW_CORE_LEGACY_H */
