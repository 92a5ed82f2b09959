/*
 * jalloc.c — the wiping allocator for jansson (see jalloc.h).
 */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>

#include "util/jalloc.h"
#include "util/util.h"

#ifdef KW_TESTING
void	(*kw_json_freed_hook)(const void *p, size_t n);
#endif

size_t
kw_alloc_wipe(void *p)
{
	size_t	n;

	if (p == NULL)
		return 0;
	n = malloc_usable_size(p);
	kw_wipe(p, n);
	return n;
}

void
kw_json_free(void *p)
{
	size_t	n;

	if (p == NULL)
		return;
	n = kw_alloc_wipe(p);
#ifdef KW_TESTING
	if (kw_json_freed_hook != NULL)
		kw_json_freed_hook(p, n);
#else
	(void)n;
#endif
	free(p);
}

void
kw_json_alloc_install(void)
{
	json_set_alloc_funcs(malloc, kw_json_free);
}
