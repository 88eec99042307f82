/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front_log.h: dirty logging as a front end drives it during a live
 * migration (a shared memfd bitmap, SET_LOG_BASE, VHOST_F_LOG_ALL and
 * VHOST_VRING_F_LOG), and page sets to check a back end's log against the
 * pages a test knows the device wrote.
 */
#ifndef VU_FRONT_LOG_H
#define VU_FRONT_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "front.h"

#define FRONT_LOG_PAGE	4096ull

/* A set of guest pages, one bit each: a log, or what a test expects. */
struct front_pages {
	int fd;			/* a shared log's memfd; -1 for a plain set */
	uint8_t *bits;
	uint64_t size;		/* bytes */
};

/*
 * A fresh set covering f's guest memory (bytes rounded up to 8, as QEMU
 * sizes its logs), in a memfd when shared is set.  Returns 0 or -errno.
 */
int front_pages_create(const struct front *f, struct front_pages *p,
		       bool shared);
void front_pages_destroy(struct front_pages *p);
void front_pages_clear(struct front_pages *p);
/* Add every page of [gpa, gpa + len); pages beyond the set are ignored. */
void front_pages_add(struct front_pages *p, uint64_t gpa, uint64_t len);
/* Add the pages of the device-writable buffers among bufs. */
void front_pages_add_writable(struct front_pages *p,
			      const struct front_buf *bufs, unsigned int n);
/* Add the pages of queue idx's used ring. */
void front_pages_add_used_ring(struct front_pages *p, const struct front *f,
			       unsigned int idx);
/* Add every page that src holds (to merge logs). */
void front_pages_merge(struct front_pages *dst, const struct front_pages *src);
bool front_pages_test(const struct front_pages *p, uint64_t gpa);

/* want against got: pages missing from got, and pages got has beyond want. */
struct front_pages_diff {
	uint64_t missing, extra;
	uint64_t first_missing, first_extra;	/* gpa, when counted */
};
void front_pages_diff(const struct front_pages *want,
		      const struct front_pages *got, struct front_pages_diff *d);

/* SET_LOG_BASE with the shared set log; 0 when the back end accepted it. */
int front_log_share(struct front *f, const struct front_pages *log);
/*
 * Dirty logging on or off: SET_FEATURES with or without VHOST_F_LOG_ALL,
 * then SET_VRING_ADDR of every started queue with or without
 * VHOST_VRING_F_LOG (the used ring's gpa as log_guest_addr), as QEMU does.
 */
int front_log_enable(struct front *f, bool on);

#endif
