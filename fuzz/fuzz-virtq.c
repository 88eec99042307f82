// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-virtq.c: fuzzes the split-ring walker and publisher (src/virtq.c)
 * over a guest memory image the input provides.  Guest memory is a memfd
 * mapped through the daemon's own memory table as three regions: two
 * adjacent ones (so tables and buffers can straddle them) and a small one
 * far away.  The rings sit at fixed places in the first region; the input
 * fills everything: descriptors, indirect tables, ring indexes, entries.
 * Every chain the walker accepts must map only bytes inside the regions,
 * with lengths that add up; requests are completed or left in flight as
 * the input says, and published.
 *
 * Input: queue size selector u8 (1 << (v % 9)), flags u8 (bit 0 EVENT_IDX,
 * bit 1 INDIRECT_DESC, bit 2 leave odd heads in flight, bits 3-5 max
 * batch), last_avail_idx u16, then the memory image from gpa REG0_GPA.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device.h"
#include "fuzz.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "virtq.h"

#define REG_SIZE	0x8000ull
#define REG0_GPA	0x10000ull
#define FAR_GPA		0x100000000ull
#define FAR_SIZE	0x1000ull
#define QVA		0x7f0000000000ull
#define MEM_BYTES	(2 * REG_SIZE + FAR_SIZE)
#define DESC_OFF	0x0
#define AVAIL_OFF	0x1000
#define USED_OFF	0x1800
#define WALK_HEADS	64

static struct vu_mem mem;
static uint8_t *guest;		/* the guest's view, MEM_BYTES long */
static bool keep_odd;

static void setup(void)
{
	const struct vu_mem_region w[3] = {
		{ REG0_GPA, REG_SIZE, QVA, 0 },
		{ REG0_GPA + REG_SIZE, REG_SIZE, QVA + 0x100000, REG_SIZE },
		{ FAR_GPA, FAR_SIZE, QVA + 0x200000, 2 * REG_SIZE },
	};
	int fd = memfd_create("fuzz-guest", MFD_CLOEXEC);

	vu_log_init("fuzz-virtq", -10);
	if (fd < 0 || ftruncate(fd, MEM_BYTES) < 0)
		fuzz_fail("memfd");
	guest = mmap(NULL, MEM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (guest == MAP_FAILED)
		fuzz_fail("mmap");
	for (unsigned int i = 0; i < 3; i++) {
		struct vu_mem_reg r;

		if (mem_reg_map(&r, &w[i], fd) < 0 || mem_insert(&mem, &r) < 0)
			fuzz_fail("mapping the regions");
	}
	close(fd);
}

/* Does [p, p + len) lie inside one region's mapping? */
static bool in_guest(const void *p, size_t len)
{
	for (unsigned int i = 0; i < mem.nregs; i++) {
		const uint8_t *b = mem.regs[i].hva;

		if ((const uint8_t *)p >= b && len <= mem.regs[i].size &&
		    (uint64_t)((const uint8_t *)p - b) <= mem.regs[i].size - len)
			return true;
	}
	return false;
}

static void check_req(struct virtq *vq, struct vq_req *req)
{
	uint64_t out = 0, in = 0;
	unsigned int n = req->out_num + req->in_num;
	struct iovec *big = vq->long_iov + (size_t)req->head * VQ_MAX_IOV;

	if (req->iov != req->inline_iov && req->iov != big)
		fuzz_fail("request iovecs are neither inline nor the head's own");
	if (n > (req->iov == big ? VQ_MAX_IOV : VQ_INLINE_IOV))
		fuzz_fail("more iovecs than the array holds");
	for (unsigned int i = 0; i < n; i++) {
		if (req->iov[i].iov_len == 0 ||
		    !in_guest(req->iov[i].iov_base, req->iov[i].iov_len))
			fuzz_fail("an iovec outside guest memory");
		if (i < req->out_num)
			out += req->iov[i].iov_len;
		else
			in += req->iov[i].iov_len;
	}
	if (out != req->out_len || in != req->in_len)
		fuzz_fail("iovec lengths do not add up");
	if ((uint64_t)req->out_len + req->in_len > UINT32_MAX)
		fuzz_fail("a chain of 4 GiB or more");
}

static void handler(void *ctx, struct vq_req *req)
{
	struct virtq *vq = req->vq;

	check_req(vq, req);
	/* Touch every byte as the device would. */
	for (unsigned int i = 0; i < req->out_num + req->in_num; i++) {
		volatile uint8_t *p = req->iov[i].iov_base;

		if (i >= req->out_num)
			p[req->iov[i].iov_len - 1] = 0;
		(void)p[0];
	}
	if (keep_odd && (req->head & 1))
		return;
	virtq_push(req, req->in_len);
}

/* The queue reaches its device through its I/O thread: a stand-in. */
static const struct vu_dev_ops fuzz_ops = { .handle_request = handler };
static struct iothread fuzz_th = { .ops = &fuzz_ops };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static const uint16_t batches[8] = { 0, 1, 2, 3, 7, 16, 64, 0 };
	struct virtq vq;
	uint8_t flags;
	uint16_t num;

	if (!guest)
		setup();
	num = 1u << (fuzz_u8(&in) % 9);
	flags = fuzz_u8(&in);
	keep_odd = flags & 4;
	virtq_init(&vq, 0);
	vq.th = &fuzz_th;
	vq.num = num;
	vq.event_idx = flags & 1;
	vq.indirect = flags & 2;
	vq.max_batch = batches[(flags >> 3) & 7];
	vq.last_avail_idx = fuzz_u16(&in);
	vq.desc_qva = QVA + DESC_OFF;
	vq.avail_qva = QVA + AVAIL_OFF;
	vq.used_qva = QVA + USED_OFF;
	vq.addr_set = true;
	memset(guest, 0, MEM_BYTES);
	memcpy(guest, in.p, MIN(in.left, (size_t)MEM_BYTES));
	if (virtq_activate(&vq, &mem, 64) < 0)
		fuzz_fail("the fixed rings do not activate");

	/* Walk chains from the first heads, whatever the avail ring says. */
	for (uint16_t head = 0; head < MIN(num, (uint16_t)WALK_HEADS); head++) {
		struct vq_req *req = vq_req_at(&vq, head);
		const char *why = NULL;

		if (virtq_map_chain(&vq, head, req, &why) == 0)
			check_req(&vq, req);
		else if (!why)
			fuzz_fail("a refused chain without a reason");
	}

	/* Then take what the avail ring offers, a few passes, publishing. */
	for (int pass = 0; pass < 4 && !vq.broken; pass++) {
		virtq_process(&vq);
		virtq_flush(&vq);
	}
	for (uint16_t head = 0; head < num; head++) {
		struct vq_req *req = vq_req_at(&vq, head);

		if (req->busy)
			virtq_abandon(req);
	}
	if (vq.inflight)
		fuzz_fail("requests unaccounted for");
	virtq_reset(&vq);
	return 0;
}
