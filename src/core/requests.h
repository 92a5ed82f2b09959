/*
 * requests.h — the request workflow: filing an access request, the
 * manager's and the provisioner's decisions, withdrawal, manual
 * fulfilment, issuing the credential once approved, the support-ops
 * direct credentials and rotation.  Who may act is decided by
 * policy/workflow.c; these functions gather the facts, apply the
 * decision and record it (history + audit) in the same transaction, for
 * any front door's actor (core/app.h).
 */
#ifndef KW_CORE_REQUESTS_H
#define KW_CORE_REQUESTS_H

#include "kw.h"
#include "limits.h"
#include "core/app.h"
#include "policy/workflow.h"
#include "store/store.h"

/* The names of a request's kind (enum cred_kind: api_token, integration)
 * and of an integration's client kind (confidential, public), as the API
 * spells them; NULL-terminated. */
extern const char *const request_kinds[];
extern const char *const request_client_kinds[];

/* What comes with a decision on a request: a comment, acknowledge_risk,
 * and for fulfilment the secret (wipe it) and the id it has on the
 * instance. */
struct decision {
	char	comment[KW_COMMENT_MAX + 1];
	int	acknowledge_risk;
	char	secret[KW_SECRET_MAX + 1];
	char	external_id[KW_EXTERNAL_ID_MAX + 1];
};

/* Set r->link: the access-request URL if given, else the request's page
 * under the public URL. */
void	 request_link(const struct app *app, struct request *r);
/* Append an entry to request id's history (inside a transaction). */
int	 request_history_add(struct store *w, const char *request_id,
	    const char *actor, const char *action, const char *comment);

/*
 * The facts of actor a against request r on instance in (f), and
 * whether a may see r at all (1) or not (0).  The one place that says
 * who sees a request.
 */
int	 request_visible(const struct actor *a, const struct request *r,
	    const struct instance *in, struct actor_facts *f);

/* Read request id with its instance (in may be NULL); one actor a may
 * not see is "not found" (KW_ERR_NOT_FOUND, f filled). */
int	 request_get(struct app *app, const struct actor *a, const char *id,
	    struct request *r, struct instance *in, struct kw_fail *f);

/* No "delivery" was asked for: the instance's default. */
#define REQUEST_DELIVERY_DEFAULT	(-1)

/*
 * Actor a files request r (kind, scopes, justification, use_case,
 * lifetime_days, access_request_url, integration) on the instance named
 * instance, with delivery mode delivery (an enum delivery_mode, or
 * REQUEST_DELIVERY_DEFAULT).  The instance's policy applies (a missing
 * instance is KW_ERR_VALIDATION on "instance", a rule KW_ERR_POLICY);
 * the request is recorded with its history, audit event and the
 * manager's notification.  On success r is the request as committed
 * (names filled; its seq is not), in (may be NULL) its instance and h
 * (may be NULL) its history's one entry.
 */
int	 request_create(struct app *app, struct actor *a, const char *instance,
	    int delivery, struct request *r, struct instance *in,
	    struct history_entry *h, struct kw_fail *f);

/*
 * Actor a takes action on request id, under the rules of
 * policy/workflow.c, recorded with its history, audit event and
 * notifications (a refused decision is audited as request.refused).
 * When a provisioner's approval leads to issuance, the instance is
 * called now, or, with defer_issuance, by the background thread (Slack
 * wants an answer within 3 s).  On success out (may be NULL) is the
 * request as it is now and in (may be NULL) its instance.
 */
int	 request_act(struct app *app, struct actor *a, const char *id,
	    enum req_action action, struct decision *d, int defer_issuance,
	    struct request *out, struct instance *in, struct kw_fail *f);

/*
 * The seed's two exceptions: members of the team support-ops issue
 * credentials for their personal use or for support-ops automation
 * without the two approvals.  request_direct_allowed: 0 if a may
 * (KW_ERR_FORBIDDEN otherwise, f filled).  request_create_direct: a
 * files r (access_request_url: the link, scopes, lifetime_days) of
 * purpose "personal" or "automation" on instance with delivery (as for
 * request_create); it is recorded as a request born approved and issued
 * now (or left to its fulfilment by hand).  c gets the credential.
 */
int	 request_direct_allowed(const struct actor *a, struct kw_fail *f);
int	 request_create_direct(struct app *app, struct actor *a,
	    const char *instance, const char *purpose, int delivery,
	    struct request *r, struct credential *c, struct kw_fail *f);

/*
 * Actor a rotates credential id: a successor with the same instance,
 * kind, scopes, name and owner (a broker credential: a new client secret
 * in place).  c gets the successor (or the broker credential).
 */
int	 request_rotate(struct app *app, struct actor *a, const char *id,
	    struct credential *c, struct kw_fail *f);

#endif /* KW_CORE_REQUESTS_H */
