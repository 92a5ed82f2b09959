/*
 * people.h — people's lifecycle: joining (created by an admin), changes
 * to their roles, teams and manager, their personal tokens, and the one
 * way a person leaves (offboarding), which the People API and SCIM (a
 * deactivation or a deletion from the identity provider) both call.
 */
#ifndef KW_CORE_PEOPLE_H
#define KW_CORE_PEOPLE_H

#include <jansson.h>

#include "core/app.h"

struct crypto_keys;

/* The fields of a person a door read (the People API's body), each
 * applied only when its PF_* bit is in set. */
enum person_field {
	PF_EMAIL	= 1u << 0,
	PF_NAME		= 1u << 1,
	PF_MANAGER	= 1u << 2,
	PF_ROLES	= 1u << 3,
	PF_TEAMS	= 1u << 4,
	PF_SLACK_ID	= 1u << 5,
	PF_ACTIVE	= 1u << 6,
};

struct person_change {
	unsigned	 set;		/* PF_* bits of the fields given */
	struct person	 p;		/* their values (valid already) */
	char		 manager[KW_EMAIL_MAX + 1];	/* email or id; "":
							   none */
};

/*
 * Create a person from ch (email and name required, checked by the
 * door) with the audit event person.create, or change person key (an id
 * or an email) with person.update; *out gets the person as stored.  The
 * manager must exist and, for a change, must not end up managing
 * themselves (KW_ERR_VALIDATION, field "manager"); a change must leave an
 * active admin (KW_ERR_CONFLICT).  0 or a KW_ERR_* with f filled.
 */
int	 people_create(struct app *app, struct actor *a,
	    const struct person_change *ch, struct person *out,
	    struct kw_fail *f);
int	 people_update(struct app *app, struct actor *a, const char *key,
	    const struct person_change *ch, struct person *out,
	    struct kw_fail *f);

/* 1 if making person mgr_id the manager of person p_id would close a loop
 * (or the chain is absurdly long). */
int	 people_manager_loop(struct store *st, const char *p_id,
	    const char *mgr_id);

/* Mint a personal token for p inside the caller's transaction on w (its
 * keyed hash stored, its audit event token.create by a), labelled label
 * (may be "") and expiring in days days; the token goes to tok (wipe it
 * after showing it once), its record (without the hash) to rec (may be
 * NULL).  0 or a store error. */
int	 people_token_mint(struct store *w, const struct crypto_keys *keys,
	    const struct actor *a, const struct person *p, const char *label,
	    int days, char *tok, size_t toksz, struct token_rec *rec);

/* The same in its own transaction for person key (an id or an email),
 * who must be active; *p gets the person.  0 or a KW_ERR_* with f
 * filled. */
int	 people_token_issue(struct app *app, struct actor *a, const char *key,
	    const char *label, int days, char *tok, size_t toksz,
	    struct token_rec *rec, struct person *p, struct kw_fail *f);

/* Revoke token_id of person key (a leaked token, a laptop gone; the
 * person stays), audited token.revoke; *p gets the person and now the
 * time of revocation.  0 or a KW_ERR_* with f filled. */
int	 people_token_revoke(struct app *app, struct actor *a, const char *key,
	    const char *token_id, struct person *p,
	    char now[KW_TIME_LEN + 1], struct kw_fail *f);

/* What offboarding did, for the answer.  Free with offboard_clear(). */
struct offboard_result {
	struct person	 person;	/* as it is now (inactive) */
	int		 tokens_revoked;
	int		 sessions_ended;	/* sign-in sessions deleted */
	json_t		*withdrawn;	/* ids of the requests withdrawn */
	json_t		*revoked;	/* [{id, result}] per credential */
	int		 last_admin;	/* refused: the last active admin */
};

/*
 * Offboard person id p_id on behalf of actor a (its name is the audit
 * log's actor: an email, or "scim:<token id>"): the person becomes
 * inactive, every keywarden token of theirs dies, their sessions end and
 * their open requests are withdrawn, in one transaction with the audit
 * event person.offboard; then each of their credentials is revoked on
 * its instance and recorded (the instance is never called inside a
 * transaction).  The actor's door re-checks them first, inside the
 * transaction (core_tx_begin).  out gets the outcome (free it with
 * offboard_clear()).  Returns 0; the door's check error or
 * KW_ERR_UNAVAILABLE with f filled; or, with f left for the door to
 * word, KW_ERR_NOT_FOUND, KW_ERR_CONFLICT with out->last_admin when p_id
 * is the last active admin (nobody could administer keywarden after),
 * KW_ERR_NOMEM or KW_ERR_UNAVAILABLE (nothing changed).
 */
int	 people_offboard(struct app *app, struct actor *a, const char *p_id,
	    struct offboard_result *out, struct kw_fail *f);
void	 offboard_clear(struct offboard_result *out);

#endif /* KW_CORE_PEOPLE_H */
