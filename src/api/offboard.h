/*
 * offboard.h — the one way a person leaves: what the People API's
 * offboard endpoint and SCIM (a deactivation or a deletion from the
 * identity provider) both call.
 */
#ifndef KW_API_OFFBOARD_H
#define KW_API_OFFBOARD_H

#include <jansson.h>

#include "api/api.h"

/* What offboarding did, for the answer.  Free with offboard_clear(). */
struct offboard_result {
	struct person	 person;	/* as it is now (inactive) */
	int		 tokens_revoked;
	int		 sessions_ended;	/* sign-in sessions deleted */
	json_t		*withdrawn;	/* ids of the requests withdrawn */
	json_t		*revoked;	/* [{id, result}] per credential */
	int		 last_admin;	/* refused: the last active admin */
};

/* Called inside the transaction before anything changes (the caller of
 * an HTTP request is re-checked there: api_caller_current); 0 to go on,
 * else an error with its message set, which offboarding returns. */
typedef int (*offboard_check)(void *arg, struct store *w);

/*
 * Offboard person id p_id on behalf of actor (an email, or "scim:<token
 * id>"): the person becomes inactive, every keywarden token of theirs
 * dies and their open requests are withdrawn, in one transaction with the
 * audit event person.offboard; then each of their credentials is revoked
 * on its instance and recorded (the instance is never called inside a
 * transaction).  check (may be NULL) runs first inside the transaction.
 * out gets the outcome (free it with offboard_clear()).  Returns 0,
 * check's error, KW_ERR_NOT_FOUND, KW_ERR_CONFLICT with out->last_admin
 * when p_id is the last active admin (nobody could administer keywarden
 * after), KW_ERR_NOMEM or KW_ERR_UNAVAILABLE (nothing changed).
 */
int	 people_offboard(struct app *app, const char *actor, const char *p_id,
	    offboard_check check, void *arg, struct offboard_result *out);
void	 offboard_clear(struct offboard_result *out);

#endif /* KW_API_OFFBOARD_H */
