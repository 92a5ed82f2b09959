/*
 * scope.c — the table of Zendesk scope resources and their access modes.
 */
#include <string.h>

#include "kw.h"
#include "policy/scope.h"

#define MODE_READ	0x1
#define MODE_WRITE	0x2

static const struct {
	const char	*resource;
	int		 modes;
} resources[] = {
	{ "tickets",		MODE_READ | MODE_WRITE },
	{ "users",		MODE_READ | MODE_WRITE },
	{ "auditlogs",		MODE_READ },
	{ "organizations",	MODE_READ | MODE_WRITE },
	{ "hc",			MODE_READ | MODE_WRITE },
	{ "apps",		MODE_READ | MODE_WRITE },
	{ "triggers",		MODE_READ | MODE_WRITE },
	{ "automations",	MODE_READ | MODE_WRITE },
	{ "targets",		MODE_READ | MODE_WRITE },
	{ "webhooks",		MODE_READ | MODE_WRITE },
	{ "macros",		MODE_READ | MODE_WRITE },
	{ "requests",		MODE_READ | MODE_WRITE },
	{ "satisfaction_ratings", MODE_READ | MODE_WRITE },
	{ "dynamic_content",	MODE_READ | MODE_WRITE },
	{ "any_channel",	MODE_WRITE },
	{ "web_widget",		MODE_WRITE },
};

int
policy_scope_valid(const char *s)
{
	const char	*colon;
	size_t		 i, n;
	int		 mode;

	if (strcmp(s, "read") == 0 || strcmp(s, "write") == 0 ||
	    strcmp(s, "impersonate") == 0)
		return 1;
	if ((colon = strchr(s, ':')) == NULL)
		return 0;
	if (strcmp(colon + 1, "read") == 0)
		mode = MODE_READ;
	else if (strcmp(colon + 1, "write") == 0)
		mode = MODE_WRITE;
	else
		return 0;
	n = (size_t)(colon - s);
	for (i = 0; i < KW_NELEM(resources); i++)
		if (strlen(resources[i].resource) == n &&
		    strncmp(resources[i].resource, s, n) == 0)
			return (resources[i].modes & mode) != 0;
	return 0;
}
