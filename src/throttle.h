/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * throttle.h: QoS limits with QEMU's throttling semantics and libvirt's
 * <iotune> names.  Six leaky buckets (bytes and operations; total, read
 * and write), each with an average rate, an optional burst rate (*_max)
 * and how long a burst may last (*_max_length), and size_iops_sec, which
 * counts a large request as several operations.  Pure arithmetic on a
 * clock the caller passes in (nanoseconds, monotonic): no locks, no
 * timers, no allocation.  disk_io.c holds one per disk, under its lock.
 */
#ifndef VU_THROTTLE_H
#define VU_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum thr_bucket {
	THR_BPS_TOTAL,
	THR_BPS_READ,
	THR_BPS_WRITE,
	THR_OPS_TOTAL,
	THR_OPS_READ,
	THR_OPS_WRITE,
	THR_NBUCKETS,
};

/* Values above this are refused (QEMU's bound). */
#define THR_VALUE_MAX	1000000000000000ull

struct thr_limit {
	uint64_t avg;		/* units per second; 0: no limit */
	uint64_t max;		/* burst rate; 0: none */
	uint64_t max_length;	/* seconds a burst may last; 0 means 1 */
};

struct thr_config {
	struct thr_limit b[THR_NBUCKETS];
	uint64_t size_iops;	/* size_iops_sec; 0: every request is one op */
};

struct throttle {
	struct thr_config cfg;
	double level[THR_NBUCKETS];
	double burst_level[THR_NBUCKETS];
	uint64_t last_ns;
};

/* The number of keys, and the i-th key's libvirt name (for listing). */
unsigned int thr_nkeys(void);
const char *thr_key_name(unsigned int i);
/* The value of the i-th key in c. */
uint64_t thr_key_get(const struct thr_config *c, unsigned int i);

/*
 * Set one key from its text: a decimal integer in [0, THR_VALUE_MAX], 0
 * removing the limit.  Returns 0, or -1 with a message in err naming the
 * key and what was wrong (unknown key, not a number, negative, too big).
 */
int thr_config_set(struct thr_config *c, const char *key, const char *value,
		   char *err, size_t errlen);
/*
 * "KEY=VALUE[,KEY=VALUE...]" through thr_config_set(); same result.  All
 * or nothing: on an error c is left as it was.  It does not run
 * thr_config_check(), which the caller does on the whole result.
 */
int thr_config_parse(struct thr_config *c, const char *list, char *err,
		     size_t errlen);
/*
 * QEMU's consistency rules (a total with a read or write limit of the same
 * kind, a burst without an average or below it, a burst length without a
 * burst...).  Returns 0, or -1 with a message in err.
 */
int thr_config_check(const struct thr_config *c, char *err, size_t errlen);
/* Does c limit anything? */
bool thr_config_enabled(const struct thr_config *c);

/* Start with c, buckets empty (also what a live change does). */
void throttle_init(struct throttle *t, const struct thr_config *c,
		   uint64_t now_ns);
/*
 * May a request of bytes (a read, or a write when is_write) start at
 * now_ns?  Returns 0 when it may, and then counts it in the buckets;
 * otherwise the nanoseconds to wait before asking again (at least 1, at
 * most INT64_MAX), counting nothing.  A now_ns behind the last one seen
 * leaks nothing and leaves the clock where it was.
 */
uint64_t throttle_admit(struct throttle *t, bool is_write, uint64_t bytes,
			uint64_t now_ns);

#endif
