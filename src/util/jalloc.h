/*
 * jalloc.h — jansson's allocator for keywarden: frees wipe.  Secrets pass
 * through jansson objects (request bodies, provider answers, the CLI's
 * reveal), and jansson frees its strings and buffers without clearing
 * them, e.g. json_string_set(s, "") or json_decref().  With this
 * allocator every block jansson frees is wiped first, whole (its usable
 * size, so a shorter string that reused the block leaves nothing behind).
 */
#ifndef KW_JALLOC_H
#define KW_JALLOC_H

#include <stddef.h>

/* Make jansson allocate with malloc and free with kw_json_free.  Call it
 * before the first jansson call (main() does); it stays compatible with
 * blocks malloc'ed before, and callers keep free()ing jansson's dumps. */
void	 kw_json_alloc_install(void);
/* Wipe the block at p (all of malloc_usable_size(p)) and free it; NULL
 * ok. */
void	 kw_json_free(void *p);
/* Wipe the block at p, all of it; returns the bytes wiped (0 for NULL). */
size_t	 kw_alloc_wipe(void *p);

#ifdef KW_TESTING
/* Test builds: when set, called with each block kw_json_free wiped,
 * between the wipe and the free (to check the wipe). */
extern void	(*kw_json_freed_hook)(const void *p, size_t n);
#endif

#endif /* KW_JALLOC_H */
