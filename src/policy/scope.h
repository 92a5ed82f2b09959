/*
 * scope.h — Zendesk OAuth scope syntax.  Zendesk accepts an invalid
 * scope when a token is created and then refuses every call made with
 * it, so keywarden checks scopes itself.
 */
#ifndef KW_POLICY_SCOPE_H
#define KW_POLICY_SCOPE_H

/* 1 if s is "read", "write", "impersonate" or "<resource>:read|write"
 * for a resource Zendesk knows, honouring read-only and write-only ones. */
int	 policy_scope_valid(const char *s);

#endif /* KW_POLICY_SCOPE_H */
