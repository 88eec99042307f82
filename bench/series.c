// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * series.c: owns the per-second counts of vhost-uring-bench --per-second:
 * their memory, adding the queues' counts up, and printing each part's
 * IOPS and MiB/s (a shorter last part is divided by its own length).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "series.h"

int series_init(struct series *s, double runtime)
{
	double parts = ceil(runtime);

	s->n = parts < 1 ? 1 : (unsigned int)parts;
	s->ios = calloc(s->n, sizeof(*s->ios));
	s->bytes = calloc(s->n, sizeof(*s->bytes));
	if (!s->ios || !s->bytes) {
		series_free(s);
		return -1;
	}
	return 0;
}

void series_merge(struct series *into, const struct series *from)
{
	for (unsigned int i = 0; i < into->n && i < from->n; i++) {
		into->ios[i] += from->ios[i];
		into->bytes[i] += from->bytes[i];
	}
}

/* Part i's length in seconds: 1, but what is left for the last one. */
static double part_secs(const struct series *s, unsigned int i, double runtime)
{
	double left = runtime - i;

	return left < 1 && left > 0 ? left : 1;
}

static void print_list(const struct series *s, double runtime, bool iops,
		       const char *sep)
{
	for (unsigned int i = 0; i < s->n; i++) {
		double secs = part_secs(s, i, runtime);

		if (iops)
			printf("%s%.1f", i ? sep : "", s->ios[i] / secs);
		else
			printf("%s%.2f", i ? sep : "",
			       s->bytes[i] / secs / (1 << 20));
	}
}

void series_print(const struct series *s, double runtime, bool json)
{
	if (!s->n)
		return;
	if (json) {
		printf(", \"per_second\": {\"iops\": [");
		print_list(s, runtime, true, ", ");
		printf("], \"mib_per_s\": [");
		print_list(s, runtime, false, ", ");
		printf("]}");
		return;
	}
	printf("  per second (iops): ");
	print_list(s, runtime, true, " ");
	printf("\n  per second (MiB/s): ");
	print_list(s, runtime, false, " ");
	printf("\n");
}

void series_free(struct series *s)
{
	free(s->ios);
	free(s->bytes);
	s->ios = NULL;
	s->bytes = NULL;
	s->n = 0;
}
