/*
 * scope.c — scope checks through a provider's scope syntax.
 */
#include <stddef.h>

#include "policy/scope.h"

int
policy_scope_valid(const struct scope_syntax *syntax, const char *s)
{
	return syntax != NULL && syntax->valid != NULL && s != NULL &&
	    syntax->valid(s);
}
