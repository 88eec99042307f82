/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirty_log.h: the dirty page log of a live migration.  The front end
 * shares a bitmap (SET_LOG_BASE) with one bit per 4 KiB guest-physical
 * page; while VHOST_F_LOG_ALL is negotiated, every page the device writes
 * is marked there, so that the front end copies it again.
 */
#ifndef VU_DIRTY_LOG_H
#define VU_DIRTY_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "mem.h"
#include "vu_proto.h"

#define DIRTY_LOG_PAGE_SHIFT	12
/* Largest log accepted: 1 GiB of bits covers 32 TiB of guest memory. */
#define DIRTY_LOG_MAX_SIZE	(1ull << 30)

struct dirty_log {
	uint8_t *bits;		/* NULL: no log */
	uint64_t size;		/* bytes of bitmap at bits */
	void *map_base;		/* what mmap() returned */
	uint64_t map_len;
	bool outside;		/* atomic: a mark fell outside (logged once) */
	int notify_fd;		/* SET_LOG_FD's eventfd, or -1 (not mapped) */
};

/*
 * Bytes of bitmap that cover every page of the memory table (0 for an
 * empty table).
 */
uint64_t dirty_log_bytes_needed(const struct vu_mem *m);

/*
 * Check a SET_LOG_BASE description against fd (which the caller keeps) and
 * the need bytes the memory table needs, and map it into *log.  Returns 0,
 * or -errno after a log line; *log is untouched on failure.
 */
int dirty_log_map(struct dirty_log *log, int fd, const struct vu_log_base *b,
		  uint64_t need);
/* Unmap the log; the notify fd stays. */
void dirty_log_unmap(struct dirty_log *log);

/*
 * Mark every page of [gpa, gpa + len) dirty, atomically (several I/O
 * threads share one log).  Pages beyond the log are not marked; the first
 * such page is logged once.
 */
void dirty_log_mark(struct dirty_log *log, uint64_t gpa, uint64_t len);

/*
 * After marking what a used index update published: tell the front end's
 * SET_LOG_FD eventfd, if it gave one.
 */
void dirty_log_notify(struct dirty_log *log);

/* Is the page that holds gpa marked?  (Tests.) */
bool dirty_log_test(const struct dirty_log *log, uint64_t gpa);

#endif
