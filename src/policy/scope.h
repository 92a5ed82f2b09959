/*
 * scope.h — what policy needs of an OAuth scope syntax.  Each SaaS has
 * its own (provider_ops.scopes, provider/); policy asks it through this
 * table without knowing which SaaS it is.  A SaaS may accept an invalid
 * scope when a token is created and then refuse every call made with it,
 * so keywarden checks scopes itself.
 */
#ifndef KW_POLICY_SCOPE_H
#define KW_POLICY_SCOPE_H

struct scope_syntax {
	const char	*noun;		/* what one is called, for messages */
	const char	*help;		/* what a valid one looks like */
	int		(*valid)(const char *s);	/* 1 if s is one */
};

/* 1 if syntax accepts s; NULL (a provider keywarden does not know)
 * accepts nothing. */
int	 policy_scope_valid(const struct scope_syntax *syntax, const char *s);

#endif /* KW_POLICY_SCOPE_H */
