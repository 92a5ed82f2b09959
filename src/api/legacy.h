/*
 * legacy.h — Zendesk's classic API tokens as keywarden tracks them
 * (credentials of kind KIND_LEGACY, metadata only): the dates that
 * matter for their migration.  Zendesk deactivates a token unused for
 * LEGACY_IDLE_DAYS and switches every one of them off at LEGACY_SHUTDOWN.
 */
#ifndef KW_API_LEGACY_H
#define KW_API_LEGACY_H

#include <time.h>

#include "store/store.h"

#define LEGACY_SHUTDOWN		"2027-04-30T00:00:00Z"
#define LEGACY_IDLE_DAYS	30	/* unused this long: deactivated */
#define LEGACY_SOON_DAYS	14	/* the report's "soon" */
#define LEGACY_KEY_PREFIX	"api_token:"	/* + the instance's token id */

/*
 * The migration dates of legacy credential c as seen at now:
 * deactivation_due_out[KW_TIME_LEN + 1] gets LEGACY_IDLE_DAYS after its
 * last use (after its creation when never used), also when the token is
 * already inactive; *days_to_deactivation and *days_to_shutdown get the
 * whole days from now to that date and to LEGACY_SHUTDOWN, rounded down
 * (negative once passed; 0 on the day itself).  Any output may be NULL.
 * Pure: reads only c.  Returns 0, or KW_ERR_VALIDATION when c is not a
 * legacy credential or its times do not parse (outputs then untouched).
 */
int	 legacy_due(const struct credential *c, time_t now,
	    char *deactivation_due_out, int *days_to_deactivation,
	    int *days_to_shutdown);

#endif /* KW_API_LEGACY_H */
