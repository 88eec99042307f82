/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * series.h: vhost-uring-bench --per-second.  Owns the counts of a run's
 * measured time cut into whole seconds (the last part may be shorter):
 * the requests and bytes that completed in each, so that a rate that
 * changes during the run (a QoS burst that ends) shows.  Each queue's
 * thread keeps its own series; they are added up after the run.
 */
#ifndef VU_BENCH_SERIES_H
#define VU_BENCH_SERIES_H

#include <stdbool.h>
#include <stdint.h>

struct series {
	unsigned int n;		/* parts; 0: not kept */
	uint64_t *ios;
	uint64_t *bytes;
};

/* Parts for runtime seconds.  0, or -1 when out of memory. */
int series_init(struct series *s, double runtime);
/* A request of bytes completed at ns into the measured time. */
static inline void series_add(struct series *s, uint64_t ns, uint64_t bytes)
{
	uint64_t i = ns / 1000000000ull;

	if (!s->n)
		return;
	if (i >= s->n)
		i = s->n - 1;
	s->ios[i]++;
	s->bytes[i] += bytes;
}
/* into += from (both made by series_init() for the same runtime). */
void series_merge(struct series *into, const struct series *from);
/*
 * The rates of each part, as a text line ("  per second: ...") or as JSON
 * members (", \"per_second\": {...}").
 */
void series_print(const struct series *s, double runtime, bool json);
void series_free(struct series *s);

#endif
