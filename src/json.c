// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * json.c: the strict JSON parser of json.h: recursive descent over one
 * text, depth and node count bounded, strings decoded in place, and the
 * exact integer readers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	struct json_doc *d;
	char *base;
	char *p;
	char *end;
	unsigned int depth;
};

static struct json_node *parse_value(struct parser *ps);

__attribute__((format(printf, 2, 3)))
static struct json_node *fail(struct parser *ps, const char *fmt, ...)
{
	int n = snprintf(ps->d->err, sizeof(ps->d->err), "at byte %zu: ",
			 (size_t)(ps->p - ps->base));
	va_list ap;

	if (n < 0 || (size_t)n >= sizeof(ps->d->err))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(ps->d->err + n, sizeof(ps->d->err) - n, fmt, ap);
	va_end(ap);
	return NULL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct json_node *new_node(struct parser *ps, enum json_type t)
{
	struct json_node *n;

	if (ps->d->used >= ps->d->max)
		return fail(ps, "more than %u values", ps->d->max);
	n = &ps->d->nodes[ps->d->used++];
	memset(n, 0, sizeof(*n));
	n->type = t;
	return n;
}

/* What is at p, for messages: a printable byte, or its value. */
static const char *what_is_here(const struct parser *ps, char *buf, size_t len)
{
	unsigned char c;

	if (ps->p >= ps->end)
		return "the end of the input";
	c = (unsigned char)*ps->p;
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
	return buf;
}

static struct json_node *unexpected(struct parser *ps, const char *expected)
{
	char buf[16];

	return fail(ps, "expected %s, found %s", expected,
		    what_is_here(ps, buf, sizeof(buf)));
}

static struct json_node *parse_literal(struct parser *ps, const char *word,
				       enum json_type t)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return unexpected(ps, "a JSON value");
	ps->p += n;
	return new_node(ps, t);
}

static bool is_digit(const struct parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static bool digits(struct parser *ps)
{
	if (!is_digit(ps))
		return false;
	while (is_digit(ps))
		ps->p++;
	return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static struct json_node *parse_number(struct parser *ps)
{
	char *start = ps->p;
	struct json_node *n;

	if (*ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (!digits(ps))
		return unexpected(ps, "a digit");
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!digits(ps))
			return unexpected(ps, "a digit after the decimal point");
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!digits(ps))
			return unexpected(ps, "a digit in the exponent");
	}
	n = new_node(ps, JSON_NUMBER);
	if (n) {
		n->s = start;
		n->len = ps->p - start;
	}
	return n;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static char *put_utf8(char *w, unsigned int cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | cp >> 12);
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | cp >> 18);
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/*
 * A \u escape at p (after the backslash and 'u'), with its low surrogate
 * when it is a high one: the code point, advancing p; -1 with a message.
 */
static long parse_u_escape(struct parser *ps)
{
	int hi, lo;

	if (ps->end - ps->p < 4 || (hi = hex4(ps->p)) < 0)
		return fail(ps, "\\u must be followed by 4 hex digits"), -1;
	if (hi == 0)
		return fail(ps, "\\u0000 (NUL) is not allowed in a string"), -1;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(ps, "\\u%04x: a low surrogate without a high one", hi), -1;
	ps->p += 4;
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
	    (lo = hex4(ps->p + 2)) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return fail(ps, "\\u%04x: a high surrogate not followed by a low one", hi), -1;
	ps->p += 6;
	return 0x10000 + ((long)(hi - 0xd800) << 10) + (lo - 0xdc00);
}

static long parse_escape(struct parser *ps)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;

	if (ps->p >= ps->end)
		return fail(ps, "the input ends inside a string"), -1;
	if (*ps->p == 'u') {
		ps->p++;
		return parse_u_escape(ps);
	}
	e = memchr(from, *ps->p, sizeof(from) - 1);
	if (!e) {
		char buf[16];

		return fail(ps, "invalid escape \\%s", what_is_here(ps, buf,
								     sizeof(buf))), -1;
	}
	ps->p++;
	return (unsigned char)to[e - from];
}

/* The length of the UTF-8 sequence at p (RFC 3629), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return n;
}

/* A string at p (its opening quote), decoded in place and NUL-terminated. */
static struct json_node *parse_string(struct parser *ps)
{
	char *w = ++ps->p, *start = w;
	struct json_node *n;

	for (;;) {
		unsigned char c;
		size_t len;
		long cp;

		if (ps->p >= ps->end)
			return fail(ps, "the input ends inside a string");
		c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character 0x%02x in a string (escape it)", c);
		if (c == '\\') {
			ps->p++;
			cp = parse_escape(ps);
			if (cp < 0)
				return NULL;
			w = put_utf8(w, (unsigned int)cp);
			continue;
		}
		len = utf8_len((const unsigned char *)ps->p, ps->end - ps->p);
		if (!len)
			return fail(ps, "invalid UTF-8 in a string");
		memmove(w, ps->p, len);
		w += len;
		ps->p += len;
	}
	n = new_node(ps, JSON_STRING);
	if (!n)
		return NULL;
	ps->p++;
	*w = '\0';	/* at or before the closing quote */
	n->s = start;
	n->len = w - start;
	return n;
}

/* Append child to parent's elements (last is the current last, or NULL). */
static void add_child(struct json_node *parent, struct json_node **last,
		      struct json_node *child)
{
	if (*last)
		(*last)->next = child;
	else
		parent->child = child;
	*last = child;
	parent->n++;
}

/* One "key": value of an object. */
static struct json_node *parse_member(struct parser *ps,
				      const struct json_node *o)
{
	struct json_node *k, *v;
	const char *key;

	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '"')
		return unexpected(ps, "a string (a member's name)");
	k = parse_string(ps);
	if (!k)
		return NULL;
	key = k->s;
	ps->d->used--;	/* the key's node is not kept */
	if (json_get(o, key)) {
		char buf[48];

		return fail(ps, "duplicate key \"%s\"",
			    json_excerpt(buf, sizeof(buf), key));
	}
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return unexpected(ps, "':' after a member's name");
	ps->p++;
	v = parse_value(ps);
	if (v)
		v->key = key;
	return v;
}

/* The elements of an array or the members of an object, after its '[' or '{'. */
static struct json_node *parse_elements(struct parser *ps, struct json_node *n)
{
	bool obj = n->type == JSON_OBJECT;
	char close = obj ? '}' : ']';
	struct json_node *last = NULL, *v;

	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return n;
	}
	for (;;) {
		v = obj ? parse_member(ps, n) : parse_value(ps);
		if (!v)
			return NULL;
		add_child(n, &last, v);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return n;
		}
		return unexpected(ps, obj ? "',' or '}' in an object" :
					    "',' or ']' in an array");
	}
}

static struct json_node *parse_nested(struct parser *ps, enum json_type t)
{
	struct json_node *n, *ret;

	if (ps->depth >= JSON_MAX_DEPTH)
		return fail(ps, "nested deeper than %d levels", JSON_MAX_DEPTH);
	n = new_node(ps, t);
	if (!n)
		return NULL;
	ps->p++;
	ps->depth++;
	ret = parse_elements(ps, n);
	ps->depth--;
	return ret;
}

static struct json_node *parse_value(struct parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return unexpected(ps, "a JSON value");
	switch (*ps->p) {
	case '{':
		return parse_nested(ps, JSON_OBJECT);
	case '[':
		return parse_nested(ps, JSON_ARRAY);
	case '"':
		return parse_string(ps);
	case 't':
		return parse_literal(ps, "true", JSON_TRUE);
	case 'f':
		return parse_literal(ps, "false", JSON_FALSE);
	case 'n':
		return parse_literal(ps, "null", JSON_NULL);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		return unexpected(ps, "a JSON value");
	}
}

void json_doc_init(struct json_doc *d, struct json_node *nodes,
		   unsigned int max)
{
	memset(d, 0, sizeof(*d));
	d->nodes = nodes;
	d->max = max;
}

struct json_node *json_parse(struct json_doc *d, char *text, size_t len)
{
	struct parser ps = { .d = d, .base = text, .p = text, .end = text + len };
	struct json_node *root;

	d->used = 0;
	d->err[0] = '\0';
	root = parse_value(&ps);
	if (!root)
		return NULL;
	skip_ws(&ps);
	if (ps.p < ps.end)
		return unexpected(&ps, "nothing after the value");
	return root;
}

const struct json_node *json_get(const struct json_node *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json_node *m = obj->child; m; m = m->next) {
		if (!strcmp(m->key, key))
			return m;
	}
	return NULL;
}

/* The magnitude of an integer's digits, and whether it is negative. */
static int integer_text(const struct json_node *n, uint64_t *mag, bool *neg)
{
	const char *p;
	uint64_t v = 0;
	size_t i;

	if (!n || n->type != JSON_NUMBER || !n->len)
		return -1;
	p = n->s;
	*neg = p[0] == '-';
	i = *neg;
	if (i >= n->len)
		return -1;
	for (; i < n->len; i++) {
		unsigned int c = (unsigned char)p[i] - '0';

		if (c > 9)
			return -1;	/* a fraction or an exponent */
		if (v > (UINT64_MAX - c) / 10)
			return -1;
		v = v * 10 + c;
	}
	*mag = v;
	return 0;
}

int json_uint64(const struct json_node *n, uint64_t *out)
{
	uint64_t v;
	bool neg;

	if (integer_text(n, &v, &neg) < 0 || (neg && v))
		return -1;
	*out = v;
	return 0;
}

int json_int64(const struct json_node *n, int64_t *out)
{
	uint64_t v;
	bool neg;

	if (integer_text(n, &v, &neg) < 0)
		return -1;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

const char *json_excerpt(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (len < 4) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	if (n < len) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	/* Cut at the start of a UTF-8 sequence, and say so. */
	n = len - 4;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

const char *json_type_name(enum json_type t)
{
	static const char *const names[] = {
		[JSON_NULL] = "null", [JSON_FALSE] = "false",
		[JSON_TRUE] = "true", [JSON_NUMBER] = "a number",
		[JSON_STRING] = "a string", [JSON_ARRAY] = "an array",
		[JSON_OBJECT] = "an object",
	};

	return (unsigned int)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
