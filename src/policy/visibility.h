/*
 * visibility.h — who may see a request or a credential.  One rule in two
 * forms: policy_may_see_request()/_credential() decide for one record
 * (what the API shows, acts on, or answers "not found" for), and
 * policy_viewer() fills the struct store_viewer whose meaning the
 * store's list queries implement (store.h).  tests/unit/test_visibility.c
 * holds the two to the same answers.
 *
 * The rule: a request (a credential) is seen by its requester (owner),
 * by that person's current manager, by the provisioners of its instance,
 * and by admins and auditors.
 */
#ifndef KW_POLICY_VISIBILITY_H
#define KW_POLICY_VISIBILITY_H

#include "store/store.h"

/* The viewer for person me (NULL: nobody, who sees nothing).  v borrows
 * me's id: me must outlive v. */
void	 policy_viewer(const struct person *me, struct store_viewer *v);
/* The viewer keywarden's own work lists with: everything. */
void	 policy_viewer_system(struct store_viewer *v);

/* 1 if viewer v may see the record whose person (requester, owner) is
 * subject_id, that person's current manager manager_id ("" = none), on
 * instance in (its provisioners). */
int	 policy_may_see(const struct store_viewer *v, const char *subject_id,
	    const char *manager_id, const struct instance *in);
/* The same for request r (r->manager_id: the requester's manager as
 * read) on instance in, and for credential c (c->owner_manager_id). */
int	 policy_may_see_request(const struct store_viewer *v,
	    const struct request *r, const struct instance *in);
int	 policy_may_see_credential(const struct store_viewer *v,
	    const struct credential *c, const struct instance *in);

#endif /* KW_POLICY_VISIBILITY_H */
