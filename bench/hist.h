/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hist.h: a log-linear latency histogram.  Recording is two shifts and an
 * increment; percentiles are read from the buckets (never from sorted
 * samples), with a relative error under 1/HIST_SUB.
 */
#ifndef VU_HIST_H
#define VU_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	5			/* 32 linear steps per power of 2 */
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_GROUPS	40			/* up to 2^40 ns: 18 minutes */
#define HIST_BUCKETS	(HIST_GROUPS * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t min_ns;
	uint32_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The latency at percentile p (0 < p <= 100), in nanoseconds. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

#endif
