// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dirty.c: vhost-uring-bench --dirty-log.  Owns the run's dirty page log
 * and its check: logging is turned on once the rings run and stays on for
 * the whole run; afterwards every page the bench ever handed the device as
 * writable, and every used ring in use, must be marked in the log.  Pages
 * logged beyond those and beyond the idle queues' used rings are counted as
 * extra; logged pages outside guest memory are an error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dirty.h"
#include "log.h"
#include "util.h"

uint64_t bench_dirty_pf(void)
{
	return BIT_ULL(VU_PF_LOG_SHMFD);
}

int bench_dirty_start(struct bench_dirty *d, struct front *f)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->log.fd = d->want.fd = d->may.fd = -1;
	if (!(f->features & BIT_ULL(VHOST_F_LOG_ALL)) ||
	    !(f->pf_acked & BIT_ULL(VU_PF_LOG_SHMFD))) {
		log_err("--dirty-log: the back-end does not offer dirty logging (VHOST_F_LOG_ALL and LOG_SHMFD)");
		return -1;
	}
	ret = front_pages_create(f, &d->log, true);
	if (ret == 0)
		ret = front_pages_create(f, &d->want, false);
	if (ret == 0)
		ret = front_pages_create(f, &d->may, false);
	if (ret < 0) {
		log_err("--dirty-log: cannot create the log: %s", strerror(-ret));
		return -1;
	}
	ret = front_log_share(f, &d->log);
	if (ret < 0) {
		log_err("--dirty-log: the back-end refused the log (SET_LOG_BASE): %s",
			strerror(-ret));
		return -1;
	}
	ret = front_log_enable(f, true);
	if (ret < 0) {
		log_err("--dirty-log: turning logging on failed: %s", strerror(-ret));
		return -1;
	}
	return 0;
}

void bench_dirty_expect(struct bench_dirty *d, const struct front_buf *bufs,
			unsigned int n)
{
	front_pages_add_writable(&d->want, bufs, n);
}

void bench_dirty_expect_ring(struct bench_dirty *d, const struct front *f,
			     unsigned int idx)
{
	front_pages_add_used_ring(&d->want, f, idx);
}

static uint64_t count_pages(const struct front_pages *p)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < p->size; i++)
		n += __builtin_popcount(__atomic_load_n(&p->bits[i],
							 __ATOMIC_RELAXED));
	return n;
}

/* Logged pages that are not guest memory: nothing can have written them. */
static uint64_t count_outside(const struct front_pages *log,
			      const struct front *f)
{
	uint64_t first = f->mem.gpa / FRONT_LOG_PAGE;
	uint64_t end = (f->mem.gpa + f->mem.size - 1) / FRONT_LOG_PAGE + 1;
	uint64_t n = 0;

	for (uint64_t pg = 0; pg < log->size * 8; pg++) {
		if ((pg < first || pg >= end) &&
		    front_pages_test(log, pg * FRONT_LOG_PAGE))
			n++;
	}
	return n;
}

int bench_dirty_check(struct bench_dirty *d, const struct front *f)
{
	struct front_pages_diff must, may;

	front_pages_merge(&d->may, &d->want);
	for (unsigned int i = 0; i < FRONT_MAX_VQS; i++) {
		if (f->vqs[i].num && f->vqs[i].kick_fd >= 0)
			front_pages_add_used_ring(&d->may, f, i);
	}
	d->expected = count_pages(&d->want);
	d->logged = count_pages(&d->log);
	front_pages_diff(&d->want, &d->log, &must);
	front_pages_diff(&d->may, &d->log, &may);
	d->missing = must.missing;
	d->first_missing = must.first_missing;
	d->extra = may.extra;
	d->first_extra = may.first_extra;
	d->idle_rings = must.extra - may.extra;
	d->outside = count_outside(&d->log, f);
	if (d->missing)
		log_err("--dirty-log: %" PRIu64 " of %" PRIu64 " pages the device wrote are missing from the log (the first at guest address 0x%" PRIx64 ")",
			d->missing, d->expected, d->first_missing);
	if (d->outside)
		log_err("--dirty-log: %" PRIu64 " logged pages are outside guest memory",
			d->outside);
	return d->missing || d->outside ? -1 : 0;
}

void bench_dirty_print(const struct bench_dirty *d, bool json)
{
	if (json) {
		printf(", \"dirty_log\": {\"expected_pages\": %" PRIu64
		       ", \"logged_pages\": %" PRIu64 ", \"missing_pages\": %" PRIu64
		       ", \"extra_pages\": %" PRIu64
		       ", \"idle_ring_pages\": %" PRIu64
		       ", \"outside_pages\": %" PRIu64 "}",
		       d->expected, d->logged, d->missing, d->extra,
		       d->idle_rings, d->outside);
		return;
	}
	printf("  dirty log: %" PRIu64 " pages expected, %" PRIu64 " missing, %" PRIu64 " extra (%" PRIu64 " logged, %" PRIu64 " of them in idle queues' used rings)\n",
	       d->expected, d->missing, d->extra, d->logged, d->idle_rings);
	if (d->extra)
		printf("  dirty log: the first extra page is at guest address 0x%" PRIx64 "\n",
		       d->first_extra);
}

void bench_dirty_destroy(struct bench_dirty *d)
{
	front_pages_destroy(&d->log);
	front_pages_destroy(&d->want);
	front_pages_destroy(&d->may);
}
