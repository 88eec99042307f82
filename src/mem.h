/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mem.h: the guest memory table.  Regions shared by the front end are mapped
 * here, and guest-physical (descriptor) and front-end-virtual (ring)
 * addresses are translated only through these functions, which check that
 * the whole range is mapped.
 */
#ifndef VU_MEM_H
#define VU_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vu_proto.h"

/*
 * Advertised through GET_MAX_MEM_SLOTS.  509 is what QEMU's own back-end
 * library offers and what virtio-mem may use (KVM's 512 memory slots on x86
 * less the 3 it keeps for itself).  A front end uses the smaller of this
 * and its own limit: QEMU 7.2 on x86 stops at 256 (ACPI's DIMM slots).
 */
#define VU_MAX_MEM_SLOTS	509

struct vu_mem_reg {
	uint64_t gpa;		/* guest-physical start */
	uint64_t size;
	uint64_t qva;		/* front-end virtual start */
	uint64_t mmap_offset;	/* offset of the region in its fd */
	uint8_t *hva;		/* where gpa is mapped here */
	void *map_base;		/* what mmap() returned */
	size_t map_len;
};

struct vu_mem {
	unsigned int nregs;
	struct vu_mem_reg regs[VU_MAX_MEM_SLOTS];	/* sorted by gpa */
};

/* Check a region from the wire and map it from fd (which the caller keeps). */
int mem_reg_map(struct vu_mem_reg *r, const struct vu_mem_region *w, int fd);
void mem_reg_unmap(struct vu_mem_reg *r);

/* Insert a mapped region; fails on overlap or when the table is full. */
int mem_insert(struct vu_mem *m, const struct vu_mem_reg *r);
/* Remove (and unmap) the region matching gpa, size and qva. */
int mem_remove(struct vu_mem *m, const struct vu_mem_region *w);
void mem_clear(struct vu_mem *m);

/*
 * Survive the front end truncating the file behind a shared mapping: a
 * fault in [p, p + len) then maps zero pages there and logs one line
 * naming it as what followed by addr in hex.  mem_reg_map() does this for
 * guest memory; other shared mappings call it themselves, and
 * mem_guard_del() before unmapping.
 */
void mem_guard_add(void *p, size_t len, const char *what, uint64_t addr);
void mem_guard_del(void *p);

/* Host address of [qva, qva + len) if it lies in one region, else NULL. */
void *mem_qva_to_hva(const struct vu_mem *m, uint64_t qva, uint64_t len);
/* Host address of [gpa, gpa + len) if it lies in one region, else NULL. */
void *mem_gpa_to_hva(const struct vu_mem *m, uint64_t gpa, uint64_t len);

/*
 * Translate [gpa, gpa + len) into host iovecs appended at iov[*n], splitting
 * at region boundaries.  Fails with -EFAULT if any byte is unmapped or the
 * range wraps, and -E2BIG if more than max iovecs would be needed.
 */
int mem_gpa_to_iov(const struct vu_mem *m, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned int *n, unsigned int max);

#endif
