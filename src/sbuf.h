/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbuf.h: a growable text buffer for replies built on the control thread
 * (JSON, Prometheus text).  Never used on an I/O thread.  Running out of
 * memory is remembered (oom) and later appends do nothing, so a caller
 * checks once at the end.
 */
#ifndef VU_SBUF_H
#define VU_SBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;		/* NUL-terminated while len > 0 */
	size_t len;
	size_t cap;
	bool oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
/* Forget the contents, keep the memory. */
void sbuf_reset(struct sbuf *b);
/* Keep the first len bytes (len <= b->len), and forget running out of memory. */
void sbuf_truncate(struct sbuf *b, size_t len);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; bytes below 0x20 are escaped. */
void sbuf_json_str(struct sbuf *b, const char *s);

#endif
