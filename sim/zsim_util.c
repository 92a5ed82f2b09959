/*
 * zsim_util.c — small helpers for the simulator: secrets and their
 * digests, base64 (Basic credentials, pagination cursors), character
 * counts, RFC 3339 times in JSON and the form body of a grant.
 */
#include <string.h>

#include "kw.h"
#include "crypto/crypto.h"
#include "notify/slack.h"
#include "util/util.h"
#include "zsim.h"

void
zsim_secret_new(char *out, size_t outsz, size_t len)
{
	char	chunk[32];
	size_t	have = 0, n;

	if (len >= outsz)
		len = outsz - 1;
	while (have < len) {
		crypto_random_id("", chunk, sizeof(chunk));	/* 24 hex */
		n = strlen(chunk);
		if (n > len - have)
			n = len - have;
		memcpy(out + have, chunk, n);
		have += n;
	}
	out[have] = '\0';
	kw_wipe(chunk, sizeof(chunk));
}

void
zsim_hash(const char *s, char out[65])
{
	crypto_sha256_hex(s, strlen(s), out);
}

int
zsim_hash_eq(const char a[65], const char b[65])
{
	return crypto_eq(a, b, 64);
}

size_t
zsim_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int
zsim_b64_decode(const char *s, char *out, size_t outsz)
{
	size_t		 len = strlen(s), o = 0, i;
	unsigned	 acc = 0;
	int		 bits = 0, v;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return memchr(out, '\0', o) == NULL ? 0 : -1;
}

void
zsim_b64url_encode(const void *p, size_t n, char *out, size_t outsz)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*in = p;
	size_t			 i, o = 0;
	unsigned		 acc = 0;
	int			 bits = 0;

	for (i = 0; i < n && o + 2 < outsz; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6 && o + 1 < outsz) {
			bits -= 6;
			out[o++] = abc[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0 && o + 1 < outsz)
		out[o++] = abc[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
}

json_t *
zsim_time_json(time_t t)
{
	char s[KW_TIME_LEN + 1];

	if (t == 0)
		return json_null();
	kw_time_fmt(t, s, sizeof(s));
	return json_string(s);
}

int
zsim_time_from_json(const json_t *v, time_t *out)
{
	if (!json_is_string(v))
		return -1;
	return kw_time_parse(json_string_value(v), out);
}

/* The fields an OAuth grant may send (RFC 6749 and Zendesk's). */
static const char *const form_fields[] = {
	"grant_type", "client_id", "client_secret", "scope", "expires_in",
	"refresh_token", "refresh_token_expires_in", "code", "redirect_uri",
	"code_verifier",
};

/* Decoded by keywarden's form reader (the one Slack's interactions use);
 * fields other than a grant's are ignored, as an OAuth server does. */
json_t *
zsim_form_parse(const char *raw, size_t len)
{
	json_t	*o = json_object();
	char	 value[ZSIM_FORM_VALUE_MAX];
	size_t	 i;
	int	 r;

	for (i = 0; o != NULL && i < KW_NELEM(form_fields); i++) {
		r = slack_form_value(raw, len, form_fields[i], value,
		    sizeof(value));
		if (r == KW_ERR_NOT_FOUND)
			continue;
		if (r != 0 || json_object_set_new(o, form_fields[i],
		    json_string(value)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	kw_wipe(value, sizeof(value));
	return o;
}
