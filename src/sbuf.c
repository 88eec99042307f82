// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sbuf.c: the growable text buffer of sbuf.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	sbuf_init(b);
}

void sbuf_reset(struct sbuf *b)
{
	sbuf_truncate(b, 0);
}

void sbuf_truncate(struct sbuf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	b->oom = false;
	if (b->p)
		b->p[len] = '\0';
}

/* Room for n more bytes and a terminator. */
static bool reserve(struct sbuf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->oom)
		return false;
	if (n > (size_t)-1 / 2 - b->len)
		goto oom;
	want = b->len + n + 1;
	if (want <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		goto oom;
	b->p = p;
	b->cap = cap;
	return true;
oom:
	b->oom = true;
	return false;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\' || c == '\n' || c == '\t') {
			char esc[2] = { '\\', c == '\n' ? 'n' : c == '\t' ? 't' : (char)c };

			sbuf_add(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_printf(b, "\\u%04x", c);
		} else {
			sbuf_add(b, (const char *)&c, 1);
		}
	}
	sbuf_add(b, "\"", 1);
}
