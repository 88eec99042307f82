/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-util.h: the few small helpers every C test may want, written once:
 * a monotonic clock in milliseconds, a sleep, and a data pattern that a
 * seed makes distinct (to fill a buffer, and to check one).
 */
#ifndef VU_TEST_UTIL_H
#define VU_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Byte i of the pattern of seed; neighbours always differ. */
static inline uint8_t pattern_byte(unsigned int seed, size_t i)
{
	return (uint8_t)(seed * 31 + i * 7 + (i >> 9) + 1);
}

static inline void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(seed, i);
}

static inline bool is_pattern(const uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != pattern_byte(seed, i))
			return false;
	}
	return true;
}

#endif
