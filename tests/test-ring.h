/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-ring.h: the guest memory the one-ring unit tests (test-virtq,
 * test-iothread) lay out: 1 MiB at a fixed address, one ring of NUM
 * entries at fixed guest-physical addresses, buffers from BUF_GPA.
 */
#ifndef VU_TEST_RING_H
#define VU_TEST_RING_H

#include <stdbool.h>

#include "virtq.h"

#define MEM_SIZE	(1u << 20)
#define QVA_BASE	0x7f0000000000ull
#define NUM		8
#define DESC_GPA	0x1000
#define AVAIL_GPA	0x2000
#define USED_GPA	0x3000
#define BUF_GPA		0x10000

/* Give vq (after virtq_init) the ring: NUM entries at those addresses. */
static inline void test_ring_place(struct virtq *vq)
{
	vq->num = NUM;
	vq->desc_qva = QVA_BASE + DESC_GPA;
	vq->avail_qva = QVA_BASE + AVAIL_GPA;
	vq->used_qva = QVA_BASE + USED_GPA;
	vq->addr_set = true;
}

#endif
