/*
 * provider.c — the registry: every SaaS keywarden can work with, found
 * by the name an instance records as its "provider".
 */
#include <string.h>

#include "kw.h"
#include "provider/provider.h"

static const struct provider_ops *const providers[] = {
	&provider_zendesk,	/* the first is the default */
};

const struct provider_ops *
provider_at(size_t i)
{
	return i < KW_NELEM(providers) ? providers[i] : NULL;
}

const struct provider_ops *
provider_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < KW_NELEM(providers); i++)
		if (strcmp(name, providers[i]->name) == 0)
			return providers[i];
	return NULL;
}

const struct provider_ops *
provider_default(void)
{
	return providers[0];
}

const struct scope_syntax *
provider_scopes(const char *name)
{
	const struct provider_ops *ops = provider_find(name);

	return ops != NULL ? ops->scopes : NULL;
}
