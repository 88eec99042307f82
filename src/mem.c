// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mem.c: owns the mappings of guest memory regions.  Every region from the
 * front end is checked for size, overflow and overlap, and against the size
 * of its file, before it is mapped; every address translation checks the
 * full length of the range it is asked about.  A front end that truncates
 * a region's file afterwards costs a log line, not the daemon (SIGBUS).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "util.h"

/*
 * Every mapping of memory a front end shared (guest memory, the inflight
 * region), for the SIGBUS handler.  A front end may truncate the file
 * behind a region it shared; touching the lost pages then
 * raises SIGBUS.  The handler maps anonymous zero pages over the whole
 * region, so the access completes and the region reads as zeros from then
 * on: the front end has destroyed its own guest memory, and the daemon
 * stays up for the next one.  Slots are claimed and freed by the control
 * thread (the I/O threads are paused while regions change) and only read
 * by the handler.
 */
#define GUARD_SLOTS	(4 * VU_MAX_MEM_SLOTS)

static struct {
	uintptr_t start;	/* 0: free */
	size_t len;
	const char *what;	/* names the mapping in the log line */
	uint64_t addr;
} guard[GUARD_SLOTS];

static void hex(char *buf, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[17];
	int n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < n; i++)
		buf[2 + i] = tmp[n - 1 - i];
	buf[2 + n] = 0;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	for (unsigned int i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t start = __atomic_load_n(&guard[i].start, __ATOMIC_ACQUIRE);
		char addr[20];
		const char *msg[] = {
			guard[i].what, addr,
			" lost its pages (the front end truncated its file);"
			" it reads as zeros from now on",
		};

		if (!start || a < start || a - start >= guard[i].len)
			continue;
		if (mmap((void *)start, guard[i].len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
			 -1, 0) == MAP_FAILED)
			break;
		hex(addr, guard[i].addr);
		vu_log_signal_safe(msg, ARRAY_SIZE(msg));
		return;
	}
	/* Not guest memory: a bug of ours.  Die of it once we return. */
	signal(SIGBUS, SIG_DFL);
}

void mem_guard_add(void *p, size_t len, const char *what, uint64_t addr)
{
	static bool installed;

	if (!installed) {
		struct sigaction sa = { .sa_sigaction = on_sigbus,
					.sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		installed = sigaction(SIGBUS, &sa, NULL) == 0;
	}
	for (unsigned int i = 0; i < GUARD_SLOTS; i++) {
		if (guard[i].start)
			continue;
		guard[i].len = len;
		guard[i].what = what;
		guard[i].addr = addr;
		__atomic_store_n(&guard[i].start, (uintptr_t)p, __ATOMIC_RELEASE);
		return;
	}
	log_warn("more than %u shared mappings: a truncated one would end the daemon",
		 GUARD_SLOTS);
}

void mem_guard_del(void *p)
{
	for (unsigned int i = 0; i < GUARD_SLOTS; i++) {
		if (guard[i].start == (uintptr_t)p)
			__atomic_store_n(&guard[i].start, 0, __ATOMIC_RELEASE);
	}
}

int mem_reg_map(struct vu_mem_reg *r, const struct vu_mem_region *w, int fd)
{
	uint64_t end, file_end, delta, map_off;
	struct statfs sfs;
	struct stat st;
	size_t align;
	void *p;

	memset(r, 0, sizeof(*r));
	if (w->memory_size == 0) {
		log_peer("memory region at gpa 0x%llx has size 0",
			 (unsigned long long)w->guest_phys_addr);
		return -EINVAL;
	}
	if (!add_ok_u64(w->guest_phys_addr, w->memory_size, &end) ||
	    !add_ok_u64(w->userspace_addr, w->memory_size, &end) ||
	    !add_ok_u64(w->mmap_offset, w->memory_size, &file_end)) {
		log_peer("memory region gpa 0x%llx size 0x%llx wraps around",
			 (unsigned long long)w->guest_phys_addr,
			 (unsigned long long)w->memory_size);
		return -EINVAL;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_peer("memory region gpa 0x%llx: fd is not a shareable memory file",
			 (unsigned long long)w->guest_phys_addr);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < file_end) {
		log_peer("memory region gpa 0x%llx: mmap_offset 0x%llx + size 0x%llx is beyond the end of its file (0x%llx)",
			 (unsigned long long)w->guest_phys_addr,
			 (unsigned long long)w->mmap_offset,
			 (unsigned long long)w->memory_size,
			 (unsigned long long)st.st_size);
		return -EINVAL;
	}

	/* hugetlbfs wants offsets and lengths in huge pages. */
	align = sysconf(_SC_PAGESIZE);
	if (fstatfs(fd, &sfs) == 0 && sfs.f_bsize > 0 &&
	    IS_POW2((size_t)sfs.f_bsize) && (size_t)sfs.f_bsize > align)
		align = sfs.f_bsize;
	map_off = ALIGN_DOWN(w->mmap_offset, (uint64_t)align);
	delta = w->mmap_offset - map_off;
	if (w->memory_size + delta > SIZE_MAX - align) {
		log_peer("memory region gpa 0x%llx is too large to map",
			 (unsigned long long)w->guest_phys_addr);
		return -EINVAL;
	}
	r->map_len = ALIGN_UP((size_t)(w->memory_size + delta), align);
	p = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE, fd, map_off);
	if (p == MAP_FAILED) {
		int err = errno;

		log_peer("memory region gpa 0x%llx size 0x%llx: mmap failed: %s",
			 (unsigned long long)w->guest_phys_addr,
			 (unsigned long long)w->memory_size, strerror(err));
		return -err;
	}
	/* Guest RAM has no place in our core dumps. */
	madvise(p, r->map_len, MADV_DONTDUMP);
	mem_guard_add(p, r->map_len, "guest memory region at gpa ",
		      w->guest_phys_addr);

	r->map_base = p;
	r->hva = (uint8_t *)p + delta;
	r->gpa = w->guest_phys_addr;
	r->size = w->memory_size;
	r->qva = w->userspace_addr;
	r->mmap_offset = w->mmap_offset;
	return 0;
}

void mem_reg_unmap(struct vu_mem_reg *r)
{
	if (r->map_base) {
		mem_guard_del(r->map_base);
		munmap(r->map_base, r->map_len);
	}
	r->map_base = NULL;
	r->hva = NULL;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int mem_insert(struct vu_mem *m, const struct vu_mem_reg *r)
{
	unsigned int pos = 0;

	if (m->nregs >= VU_MAX_MEM_SLOTS) {
		log_peer("memory region gpa 0x%llx: all %u slots are in use",
			 (unsigned long long)r->gpa, VU_MAX_MEM_SLOTS);
		return -ENOSPC;
	}
	for (unsigned int i = 0; i < m->nregs; i++) {
		const struct vu_mem_reg *o = &m->regs[i];

		if (ranges_overlap(r->gpa, r->size, o->gpa, o->size) ||
		    ranges_overlap(r->qva, r->size, o->qva, o->size)) {
			log_peer("memory region gpa 0x%llx size 0x%llx overlaps region gpa 0x%llx size 0x%llx",
				 (unsigned long long)r->gpa,
				 (unsigned long long)r->size,
				 (unsigned long long)o->gpa,
				 (unsigned long long)o->size);
			return -EINVAL;
		}
		if (o->gpa < r->gpa)
			pos = i + 1;
	}
	memmove(&m->regs[pos + 1], &m->regs[pos],
		(m->nregs - pos) * sizeof(m->regs[0]));
	m->regs[pos] = *r;
	m->nregs++;
	return 0;
}

int mem_remove(struct vu_mem *m, const struct vu_mem_region *w)
{
	for (unsigned int i = 0; i < m->nregs; i++) {
		struct vu_mem_reg *r = &m->regs[i];

		if (r->gpa != w->guest_phys_addr || r->size != w->memory_size ||
		    r->qva != w->userspace_addr)
			continue;
		mem_reg_unmap(r);
		memmove(r, r + 1, (m->nregs - i - 1) * sizeof(*r));
		m->nregs--;
		return 0;
	}
	log_peer("REM_MEM_REG: no region with gpa 0x%llx size 0x%llx",
		 (unsigned long long)w->guest_phys_addr,
		 (unsigned long long)w->memory_size);
	return -ENOENT;
}

void mem_clear(struct vu_mem *m)
{
	for (unsigned int i = 0; i < m->nregs; i++)
		mem_reg_unmap(&m->regs[i]);
	m->nregs = 0;
}

void *mem_qva_to_hva(const struct vu_mem *m, uint64_t qva, uint64_t len)
{
	for (unsigned int i = 0; i < m->nregs; i++) {
		const struct vu_mem_reg *r = &m->regs[i];

		if (qva >= r->qva && range_within(qva - r->qva, len, r->size))
			return r->hva + (qva - r->qva);
	}
	return NULL;
}

/* The region holding gpa, by binary search over the sorted table. */
static const struct vu_mem_reg *find_gpa(const struct vu_mem *m, uint64_t gpa)
{
	unsigned int lo = 0, hi = m->nregs;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct vu_mem_reg *r = &m->regs[mid];

		if (gpa < r->gpa)
			hi = mid;
		else if (gpa - r->gpa >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

void *mem_gpa_to_hva(const struct vu_mem *m, uint64_t gpa, uint64_t len)
{
	const struct vu_mem_reg *r = find_gpa(m, gpa);

	if (!r || !range_within(gpa - r->gpa, len, r->size))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

int mem_gpa_to_iov(const struct vu_mem *m, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned int *n, unsigned int max)
{
	uint64_t end;

	if (!add_ok_u64(gpa, len, &end))
		return -EFAULT;
	while (len > 0) {
		const struct vu_mem_reg *r = find_gpa(m, gpa);
		uint64_t off, chunk;

		if (!r)
			return -EFAULT;
		if (*n >= max)
			return -E2BIG;
		off = gpa - r->gpa;
		chunk = MIN(len, r->size - off);
		iov[*n].iov_base = r->hva + off;
		iov[*n].iov_len = chunk;
		(*n)++;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}
