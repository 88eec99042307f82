/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirty.h: vhost-uring-bench --dirty-log.  Owns the shared dirty page log
 * of a run (negotiated after the rings start, as QEMU does when a live
 * migration begins), the set of pages the device was allowed to write, and
 * the check of one against the other after the run.
 */
#ifndef VU_BENCH_DIRTY_H
#define VU_BENCH_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "front.h"
#include "front_log.h"

struct bench_dirty {
	struct front_pages log;		/* shared with the back end */
	struct front_pages want;	/* pages the device must have written */
	struct front_pages may;		/* want, and every started used ring */
	uint64_t expected, logged;	/* pages */
	uint64_t missing, first_missing;	/* want, not logged */
	uint64_t extra, first_extra;	/* logged, never device-writable */
	uint64_t idle_rings;		/* logged, only in idle queues' used rings */
	uint64_t outside;		/* logged pages outside guest memory */
};

/* The protocol feature to ask for in the negotiation. */
uint64_t bench_dirty_pf(void);
/*
 * With the rings started: create the log, share it (SET_LOG_BASE) and turn
 * logging on (VHOST_F_LOG_ALL, VHOST_VRING_F_LOG).  0, or -1 after a message.
 */
int bench_dirty_start(struct bench_dirty *d, struct front *f);
/* Expect the device-writable buffers among bufs to be logged. */
void bench_dirty_expect(struct bench_dirty *d, const struct front_buf *bufs,
			unsigned int n);
/* Expect queue idx's used ring to be logged. */
void bench_dirty_expect_ring(struct bench_dirty *d, const struct front *f,
			     unsigned int idx);
/*
 * After every request has completed: compare the log with what was
 * expected.  The used rings of the queues the run did not use (scsi's
 * control and event queues) may be written too (the device re-arms their
 * notifications), but need not be.  Returns 0, or -1 when a page is missing
 * from the log or a page outside guest memory was logged.
 */
int bench_dirty_check(struct bench_dirty *d, const struct front *f);
/* The result, as text lines or as JSON members (",\"dirty_log\": {...}"). */
void bench_dirty_print(const struct bench_dirty *d, bool json);
void bench_dirty_destroy(struct bench_dirty *d);

#endif
