// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hist.c: owns the latency histogram.  Values below HIST_SUB ns get a bucket
 * each; above, every power of two is split into HIST_SUB equal buckets.
 */
#include <string.h>

#include "hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

static unsigned int bucket_of(uint64_t v)
{
	unsigned int msb, group;

	if (v < HIST_SUB)
		return v;
	msb = 63 - __builtin_clzll(v);
	group = msb - HIST_SUB_BITS + 1;
	if (group >= HIST_GROUPS)
		return HIST_BUCKETS - 1;
	return group * HIST_SUB + ((v >> (msb - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of a bucket's value range. */
static uint64_t bucket_value(unsigned int b)
{
	unsigned int group = b / HIST_SUB, sub = b % HIST_SUB;
	uint64_t lo, width;

	if (group == 0)
		return sub;
	width = 1ull << (group - 1);
	lo = ((uint64_t)(HIST_SUB + sub)) << (group - 1);
	return lo + width / 2;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned int i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	if (from->min_ns < into->min_ns)
		into->min_ns = from->min_ns;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t want, seen = 0;

	if (h->count == 0)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)h->count + 0.5);
	if (want == 0)
		want = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = bucket_value(i);

			return v > h->max_ns ? h->max_ns : v < h->min_ns ? h->min_ns : v;
		}
	}
	return h->max_ns;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum_ns / (double)h->count : 0.0;
}
