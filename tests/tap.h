/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap.h: minimal TAP output for the C tests (one "ok"/"not ok" line per
 * check, the plan printed at the end), read by automake's tap-driver.
 */
#ifndef VU_TAP_H
#define VU_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * One count per translation unit: a program's checks must all be made
 * from one .c file (shared helpers that check are static inline in a
 * header), or a failure made elsewhere is numbered apart and never
 * reaches tap_done().
 */
static int tap_count, tap_failures;

static inline __attribute__((format(printf, 2, 3)))
bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failures++;
	return cond;
}

static inline __attribute__((format(printf, 1, 2)))
void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A check this build cannot make, with the reason. */
static inline void tap_skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_count, why);
	fflush(stdout);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#define ok(cond, ...)	tap_ok((cond), __VA_ARGS__)

#endif
