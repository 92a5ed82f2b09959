/*
 * addr.h — IP addresses and networks as text: the trusted_proxies list
 * (addresses and CIDR networks, IPv4 and IPv6), and the client address a
 * request really comes from when it reached us through trusted proxies.
 */
#ifndef KW_UTIL_ADDR_H
#define KW_UTIL_ADDR_H

#include <stddef.h>

#include "limits.h"

struct addr_net {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	int		prefix;		/* bits */
};

struct addr_list {
	struct addr_net	net[KW_PROXIES_MAX];
	size_t		n;
};

/* Parse "10.0.0.0/8, ::1, 192.0.2.7" (comma or space separated) into
 * out.  0, or KW_ERR_CONFIG with a message in err. */
int	 addr_list_parse(const char *text, struct addr_list *out, char *err,
	    size_t errsz);
/* 1 if the address text (v4, v6, or v4-mapped v6) is in the list. */
int	 addr_list_match(const struct addr_list *l, const char *addr);
/* 1 if the address is a loopback address (127/8, ::1, ::ffff:127/104). */
int	 addr_is_loopback(const char *addr);
/*
 * The client's address for a request from peer carrying the
 * X-Forwarded-For value xff (may be NULL), into out: peer itself unless
 * peer is a trusted proxy; then the rightmost hop of xff that is not a
 * trusted proxy (hops to its right were added by our own proxies; those
 * to its left are the client's word and cannot be believed).  A hop that
 * is not an address ends the walk at the last trusted one seen.
 */
void	 addr_client(const struct addr_list *trusted, const char *peer,
	    const char *xff, char *out, size_t outsz);

#endif /* KW_UTIL_ADDR_H */
