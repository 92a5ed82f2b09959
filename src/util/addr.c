/*
 * addr.c — address lists and the forwarded-for walk.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw.h"
#include "util/addr.h"
#include "util/util.h"

/* Parse an address (no prefix) into n; v4-mapped v6 becomes v4. */
static int
addr_parse(const char *s, struct addr_net *n)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->family = AF_INET;
		n->prefix = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, n->addr) != 1)
		return -1;
	if (memcmp(n->addr, mapped, sizeof(mapped)) == 0) {
		memmove(n->addr, n->addr + 12, 4);
		memset(n->addr + 4, 0, 12);
		n->family = AF_INET;
		n->prefix = 32;
		return 0;
	}
	n->family = AF_INET6;
	n->prefix = 128;
	return 0;
}

/* 1 if a is inside network net. */
static int
net_has(const struct addr_net *net, const struct addr_net *a)
{
	int	full = net->prefix / 8, rest = net->prefix % 8;

	if (net->family != a->family ||
	    memcmp(net->addr, a->addr, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((net->addr[full] ^ a->addr[full]) &
	    (0xff << (8 - rest)) & 0xff) == 0;
}

int
addr_list_parse(const char *text, struct addr_list *out, char *err,
    size_t errsz)
{
	char		 item[64], *slash, *end;
	const char	*p = text;
	size_t		 len;
	long		 bits;
	struct addr_net	*n;

	memset(out, 0, sizeof(*out));
	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		len = strcspn(p, ", \t");
		if (len >= sizeof(item)) {
			snprintf(err, errsz, "trusted_proxies: '%.40s...' is "
			    "not an address or network", p);
			return KW_ERR_CONFIG;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		p += len;
		if (out->n == KW_PROXIES_MAX) {
			snprintf(err, errsz, "trusted_proxies: at most %d "
			    "entries", KW_PROXIES_MAX);
			return KW_ERR_CONFIG;
		}
		n = &out->net[out->n];
		if ((slash = strchr(item, '/')) != NULL)
			*slash = '\0';
		if (addr_parse(item, n) != 0)
			goto bad;
		if (slash != NULL) {
			bits = strtol(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
			    bits < 0 || bits > n->prefix ||
			    /* a mapped v4 network is written with v6 bits */
			    (strchr(item, ':') != NULL &&
			    n->family == AF_INET))
				goto bad;
			n->prefix = (int)bits;
		}
		out->n++;
	}
 bad:
	if (slash != NULL)
		*slash = '/';
	snprintf(err, errsz, "trusted_proxies: '%s' is not an address or "
	    "network (like 10.0.0.0/8 or fd00::/8)", item);
	return KW_ERR_CONFIG;
}

int
addr_list_match(const struct addr_list *l, const char *addr)
{
	struct addr_net	a;
	size_t		i;

	if (l == NULL || l->n == 0 || addr_parse(addr, &a) != 0)
		return 0;
	for (i = 0; i < l->n; i++)
		if (net_has(&l->net[i], &a))
			return 1;
	return 0;
}

int
addr_is_loopback(const char *addr)
{
	struct addr_net	a;

	if (addr_parse(addr, &a) != 0)
		return 0;
	if (a.family == AF_INET)
		return a.addr[0] == 127;
	return memcmp(a.addr, in6addr_loopback.s6_addr, 16) == 0;
}

/* The hop that ends at end (exclusive), trimmed, into hop ("" when it
 * is too long to be an address); returns where its comma is (or start). */
static const char *
prev_hop(const char *start, const char *end, char *hop, size_t hopsz)
{
	const char	*b = end, *e = end, *comma;
	size_t		 n;

	while (b > start && b[-1] != ',')
		b--;
	comma = b > start ? b - 1 : start;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (size_t)(e - b);
	if (n >= hopsz)
		n = 0;
	memcpy(hop, b, n);
	hop[n] = '\0';
	return comma;
}

void
addr_client(const struct addr_list *trusted, const char *peer,
    const char *xff, char *out, size_t outsz)
{
	const char	*end;
	char		 hop[64];
	struct addr_net	 a;
	int		 hops = 0;

	kw_strlcpy(out, peer, outsz);
	if (xff == NULL || !addr_list_match(trusted, peer))
		return;
	end = xff + strlen(xff);
	while (end > xff && hops++ < KW_FORWARDED_HOPS_MAX) {
		end = prev_hop(xff, end, hop, sizeof(hop));
		if (addr_parse(hop, &a) != 0)
			return;		/* garbage: trust what we had */
		kw_strlcpy(out, hop, outsz);
		if (!addr_list_match(trusted, hop))
			return;		/* the first untrusted hop */
	}
}
