// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dirty_log.c: owns the mapping of the front end's dirty page log and the
 * marking of pages in it.  A log description from the front end is checked
 * against its file and against the guest memory it must cover before it is
 * mapped; every bit set is checked against the log's size.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirty_log.h"
#include "log.h"
#include "util.h"

#define PAGE_BYTES	(1ull << DIRTY_LOG_PAGE_SHIFT)

uint64_t dirty_log_bytes_needed(const struct vu_mem *m)
{
	uint64_t last_page = 0;

	if (!m->nregs)
		return 0;
	for (unsigned int i = 0; i < m->nregs; i++) {
		/* Regions were checked not to wrap when they were mapped. */
		uint64_t last = m->regs[i].gpa + m->regs[i].size - 1;

		last_page = MAX(last_page, last >> DIRTY_LOG_PAGE_SHIFT);
	}
	return last_page / 8 + 1;
}

int dirty_log_map(struct dirty_log *log, int fd, const struct vu_log_base *b,
		  uint64_t need)
{
	uint64_t size = b->mmap_size, off = b->mmap_offset, end;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t map_off, delta;
	struct stat st;
	void *p;

	if (size == 0 || size > DIRTY_LOG_MAX_SIZE) {
		log_peer("SET_LOG_BASE: log size %llu is not between 1 and %llu bytes",
			 (unsigned long long)size,
			 (unsigned long long)DIRTY_LOG_MAX_SIZE);
		return -EINVAL;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_peer("SET_LOG_BASE: the fd is not a shareable memory file");
		return -EINVAL;
	}
	if (!add_ok_u64(off, size, &end) || end > (uint64_t)st.st_size) {
		log_peer("SET_LOG_BASE: offset %llu + size %llu is beyond the end of the log's file (%lld bytes)",
			 (unsigned long long)off, (unsigned long long)size,
			 (long long)st.st_size);
		return -EINVAL;
	}
	if (size < need) {
		log_peer("SET_LOG_BASE: a log of %llu bytes cannot cover guest memory, which needs %llu",
			 (unsigned long long)size, (unsigned long long)need);
		return -EINVAL;
	}
	map_off = ALIGN_DOWN(off, (uint64_t)page);
	delta = off - map_off;
	p = mmap(NULL, size + delta, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE, fd, map_off);
	if (p == MAP_FAILED) {
		int err = errno;

		log_peer("SET_LOG_BASE: cannot map %llu bytes of the log: %s",
			 (unsigned long long)size, strerror(err));
		return -err;
	}
	madvise(p, size + delta, MADV_DONTDUMP);
	mem_guard_add(p, size + delta, "dirty log at offset ", off);
	log->map_base = p;
	log->map_len = size + delta;
	log->bits = (uint8_t *)p + delta;
	log->size = size;
	log->outside = false;
	return 0;
}

void dirty_log_unmap(struct dirty_log *log)
{
	int fd = log->notify_fd;

	if (log->map_base) {
		mem_guard_del(log->map_base);
		munmap(log->map_base, log->map_len);
	}
	memset(log, 0, sizeof(*log));
	log->notify_fd = fd;
}

void dirty_log_notify(struct dirty_log *log)
{
	if (log->notify_fd >= 0)
		eventfd_write(log->notify_fd, 1);
}

/*
 * Always a read-modify-write, never "already set, skip": the front end
 * clears bits as it copies pages, and a bit we saw set may be cleared and
 * its page copied before our data reached memory.  Release order: the
 * page's contents are visible before its bit is.
 */
static void set_bits(uint8_t *byte, uint8_t mask)
{
	__atomic_fetch_or(byte, mask, __ATOMIC_RELEASE);
}

static void mark_outside(struct dirty_log *log, uint64_t page)
{
	if (!__atomic_exchange_n(&log->outside, true, __ATOMIC_RELAXED))
		log_peer("dirty log: page 0x%llx is beyond the %llu-byte log; it was not marked (further ones are not reported)",
			 (unsigned long long)page, (unsigned long long)log->size);
}

void dirty_log_mark(struct dirty_log *log, uint64_t gpa, uint64_t len)
{
	uint64_t first, last, end, limit = log->size * 8;

	if (!len)
		return;
	if (!add_ok_u64(gpa, len - 1, &end)) {
		mark_outside(log, gpa >> DIRTY_LOG_PAGE_SHIFT);
		return;
	}
	first = gpa >> DIRTY_LOG_PAGE_SHIFT;
	last = end >> DIRTY_LOG_PAGE_SHIFT;
	if (last >= limit) {
		mark_outside(log, MAX(first, limit));
		if (first >= limit)
			return;
		last = limit - 1;
	}
	while (first <= last) {
		unsigned int bit = first % 8;
		uint64_t n = MIN(8 - bit, last - first + 1);

		set_bits(&log->bits[first / 8], (uint8_t)(((1u << n) - 1) << bit));
		first += n;
	}
}

bool dirty_log_test(const struct dirty_log *log, uint64_t gpa)
{
	uint64_t page = gpa >> DIRTY_LOG_PAGE_SHIFT;

	if (page >= log->size * 8)
		return false;
	return __atomic_load_n(&log->bits[page / 8], __ATOMIC_RELAXED) &
	       (1u << (page % 8));
}
