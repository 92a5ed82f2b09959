/*
 * visibility.c — who may see a request or a credential (visibility.h).
 * The store's list queries implement the same rule (store/sqlite.c,
 * viewer_bind and the S_REQ_LIST / S_CRED_LIST queries): change both.
 */
#include <stddef.h>
#include <string.h>

#include "policy/visibility.h"

void
policy_viewer(const struct person *me, struct store_viewer *v)
{
	memset(v, 0, sizeof(*v));
	if (me == NULL || me->id[0] == '\0')
		return;
	v->person_id = me->id;
	v->all = (me->roles & (ROLE_ADMIN | ROLE_AUDITOR)) != 0;
}

void
policy_viewer_system(struct store_viewer *v)
{
	memset(v, 0, sizeof(*v));
	v->all = 1;
}

/* 1 if id is the viewer's (an empty id is nobody's). */
static int
is_viewer(const struct store_viewer *v, const char *id)
{
	return v->person_id != NULL && v->person_id[0] != '\0' &&
	    id != NULL && strcmp(v->person_id, id) == 0;
}

int
policy_may_see(const struct store_viewer *v, const char *subject_id,
    const char *manager_id, const struct instance *in)
{
	size_t i;

	if (v->all)
		return 1;
	if (is_viewer(v, subject_id) || is_viewer(v, manager_id))
		return 1;
	for (i = 0; in != NULL && i < in->nprovisioners; i++)
		if (is_viewer(v, in->provisioners[i].id))
			return 1;
	return 0;
}

int
policy_may_see_request(const struct store_viewer *v, const struct request *r,
    const struct instance *in)
{
	return policy_may_see(v, r->requester_id, r->manager_id, in);
}

int
policy_may_see_credential(const struct store_viewer *v,
    const struct credential *c, const struct instance *in)
{
	return policy_may_see(v, c->owner_id, c->owner_manager_id, in);
}
