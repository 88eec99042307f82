// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-virtq.c: unit tests of the split-ring walker and publisher in
 * src/virtq.c and of address translation in src/mem.c.  Guest memory is a
 * memfd mapped twice: once as "the guest" (where the test builds rings and
 * descriptors) and once through the daemon's own memory-table code.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "mem.h"
#include "tap.h"
#include "test-ring.h"
#include "util.h"
#include "virtq.h"

#define HALF		(MEM_SIZE / 2)

static uint8_t *guest;		/* the test's view of guest memory */
static struct vu_mem mem;
static struct virtq vq;
static struct vring_desc *desc;
static struct vring_avail *avail;
static struct vring_used *used;
static struct vq_req *req;
static int handled;
static bool complete_now = true;

static void handler(void *ctx, struct vq_req *r)
{
	handled++;
	if (complete_now)
		virtq_push(r, 7);
}

/* The queue reaches its device through its I/O thread: a stand-in. */
static const struct vu_dev_ops test_ops = { .handle_request = handler };
static struct iothread test_th = { .ops = &test_ops };

/* Two regions, adjacent in guest-physical space, separate host mappings. */
static void setup_memory(int fd)
{
	for (unsigned int i = 0; i < 2; i++) {
		struct vu_mem_region w = {
			.guest_phys_addr = i * HALF,
			.memory_size = HALF,
			.userspace_addr = QVA_BASE + i * HALF,
			.mmap_offset = i * HALF,
		};
		struct vu_mem_reg r;

		if (mem_reg_map(&r, &w, fd) || mem_insert(&mem, &r))
			abort();
	}
}

static void reset_ring(bool event_idx, bool indirect)
{
	memset(guest, 0, 0x4000);
	virtq_reset(&vq);
	virtq_init(&vq, 0);
	vq.th = &test_th;
	test_ring_place(&vq);
	vq.event_idx = event_idx;
	vq.indirect = indirect;
	vq.call_fd = eventfd(0, EFD_NONBLOCK);
	vq.err_fd = eventfd(0, EFD_NONBLOCK);
	if (virtq_activate(&vq, &mem, 0))
		abort();
	handled = 0;
	complete_now = true;
}

static void set_desc(struct vring_desc *d, uint64_t gpa, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = htole64(gpa);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

static void make_avail(uint16_t head)
{
	uint16_t idx = le16toh(avail->idx);

	avail->ring[idx % NUM] = htole16(head);
	avail->idx = htole16(idx + 1);
}

static const char *why = "";
static int wret;

/* Walk a chain; the result lands in wret and the reason in why. */
static void walk(uint16_t head)
{
	why = "";
	wret = virtq_map_chain(&vq, head, req, &why);
}

/* Publish, and notify the way the I/O thread does. */
static void flush(void)
{
	if (virtq_flush(&vq))
		eventfd_write(vq.call_fd, 1);
}

static bool fd_signalled(int fd)
{
	eventfd_t v;

	return eventfd_read(fd, &v) == 0;
}

static void test_simple_chain(void)
{

	reset_ring(false, true);
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], BUF_GPA + 512, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(&desc[2], BUF_GPA + 8192, 1, VRING_DESC_F_WRITE, 0);
	walk(0);
	ok(wret == 0, "three-descriptor chain maps (%s)", why);
	ok(req->out_num == 1 && req->in_num == 2, "one readable and two writable iovecs");
	ok(req->out_len == 16 && req->in_len == 4097, "lengths are summed per direction");
	ok(req->iov[1].iov_base == mem_gpa_to_hva(&mem, BUF_GPA + 512, 4096),
	   "iovecs point into guest memory, no copy");
}

static void test_indirect(void)
{
	struct vring_desc *tbl = (struct vring_desc *)(guest + 0x5000);

	reset_ring(false, true);
	set_desc(&tbl[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&tbl[1], BUF_GPA + 4096, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(&tbl[2], BUF_GPA + 8192, 1, VRING_DESC_F_WRITE, 0);
	set_desc(&desc[3], 0x5000, 48, VRING_DESC_F_INDIRECT, 0);
	walk(3);
	ok(wret == 0 && req->out_num == 1 && req->in_num == 2,
	   "indirect table is followed (%s)", why);

	/* Direct descriptors first, then one indirect one: also legal. */
	set_desc(&tbl[16], BUF_GPA + 4096, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(&tbl[17], BUF_GPA + 8192, 1, VRING_DESC_F_WRITE, 0);
	set_desc(&desc[4], BUF_GPA + 0x3000, 16, VRING_DESC_F_NEXT, 5);
	set_desc(&desc[5], 0x5000 + 16 * 16, 32, VRING_DESC_F_INDIRECT, 0);
	walk(4);
	ok(wret == 0 && req->out_num == 1 && req->in_num == 2,
	   "direct descriptors followed by an indirect table (%s)", why);

	set_desc(&desc[6], 0x5000, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 0);
	walk(6);
	ok(wret < 0, "indirect with NEXT is refused: %s", why);

	set_desc(&desc[6], 0x5000, 40, VRING_DESC_F_INDIRECT, 0);
	walk(6);
	ok(wret < 0, "indirect length not a multiple of 16 is refused: %s", why);
	set_desc(&desc[6], 0x5000, 0, VRING_DESC_F_INDIRECT, 0);
	walk(6);
	ok(wret < 0, "zero-length indirect table is refused: %s", why);
	set_desc(&desc[6], 0x5000, 16 * (VQ_MAX_INDIRECT + 1), VRING_DESC_F_INDIRECT, 0);
	walk(6);
	ok(wret < 0, "oversized indirect table is refused: %s", why);

	set_desc(&tbl[1], 0x5000, 48, VRING_DESC_F_INDIRECT, 0);
	set_desc(&desc[6], 0x5000, 48, VRING_DESC_F_INDIRECT, 0);
	walk(6);
	ok(wret < 0, "indirect inside indirect is refused: %s", why);

	vq.indirect = false;
	set_desc(&tbl[1], BUF_GPA, 1, VRING_DESC_F_WRITE, 0);
	walk(6);
	ok(wret < 0, "indirect without the negotiated feature is refused: %s", why);

	vq.indirect = true;
	set_desc(&tbl[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 0);
	walk(6);
	ok(wret < 0, "loop inside an indirect table is refused: %s", why);
}

static void test_indirect_spanning_regions(void)
{
	/* A 4-entry table straddling the boundary between the two regions. */
	uint64_t tgpa = HALF - 32;
	struct vring_desc *tbl = (struct vring_desc *)(guest + tgpa);

	reset_ring(false, true);
	set_desc(&tbl[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&tbl[1], BUF_GPA + 16, 512, VRING_DESC_F_NEXT, 2);
	set_desc(&tbl[2], BUF_GPA + 4096, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	set_desc(&tbl[3], BUF_GPA + 8192, 1, VRING_DESC_F_WRITE, 0);
	set_desc(&desc[0], tgpa, 64, VRING_DESC_F_INDIRECT, 0);
	walk(0);
	ok(wret == 0 && req->out_num == 2 && req->in_num == 2 &&
	   req->out_len == 528, "indirect table spanning two regions is read piecewise (%s)", why);

	set_desc(&desc[0], MEM_SIZE - 32, 64, VRING_DESC_F_INDIRECT, 0);
	walk(0);
	ok(wret < 0, "indirect table running off the end of memory is refused: %s", why);
}

static void test_bad_chains(void)
{

	reset_ring(false, true);
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], BUF_GPA, 16, VRING_DESC_F_NEXT, 0);
	walk(0);
	ok(wret == -ELOOP, "a looping chain is refused: %s", why);

	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, NUM);
	walk(0);
	ok(wret < 0, "next index beyond the queue is refused: %s", why);

	set_desc(&desc[0], UINT64_MAX - 8, 16, 0, 0);
	walk(0);
	ok(wret < 0, "address + length that overflows is refused: %s", why);

	set_desc(&desc[0], MEM_SIZE - 8, 16, 0, 0);
	walk(0);
	ok(wret < 0, "buffer running past guest memory is refused: %s", why);

	set_desc(&desc[0], 0x4000000, 16, 0, 0);
	walk(0);
	ok(wret < 0, "unmapped buffer is refused: %s", why);

	set_desc(&desc[0], BUF_GPA, 0, 0, 0);
	walk(0);
	ok(wret < 0, "zero-length buffer is refused: %s", why);

	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(&desc[1], BUF_GPA, 16, 0, 0);
	walk(0);
	ok(wret < 0, "readable after writable is refused: %s", why);

	/* A buffer crossing from one region into the next: two iovecs. */
	set_desc(&desc[0], HALF - 100, 200, 0, 0);
	walk(0);
	ok(wret == 0 && req->out_num == 2 && req->iov[0].iov_len == 100 &&
	   req->iov[1].iov_len == 100, "buffer spanning two regions maps to two iovecs (%s)", why);
}

static void test_too_many_segments(void)
{
	struct vring_desc *tbl = (struct vring_desc *)(guest + 0x8000);

	reset_ring(false, true);
	for (unsigned int i = 0; i < VQ_MAX_IOV + 1; i++)
		set_desc(&tbl[i], BUF_GPA + i, 1,
			 i < VQ_MAX_IOV ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(&desc[0], 0x8000, 16 * (VQ_MAX_IOV + 1), VRING_DESC_F_INDIRECT, 0);
	walk(0);
	ok(wret == -E2BIG, "more segments than a request can hold is refused: %s", why);

	tbl[VQ_MAX_IOV - 1].flags = 0;
	set_desc(&desc[0], 0x8000, 16 * VQ_MAX_IOV, VRING_DESC_F_INDIRECT, 0);
	walk(0);
	ok(wret == 0 && req->out_num == VQ_MAX_IOV,
	   "exactly the maximum number of segments is accepted (%s)", why);
}

static void test_process_and_publish(void)
{
	reset_ring(false, true);
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], BUF_GPA + 16, 1, VRING_DESC_F_WRITE, 0);
	set_desc(&desc[2], BUF_GPA + 32, 16, VRING_DESC_F_NEXT, 3);
	set_desc(&desc[3], BUF_GPA + 48, 1, VRING_DESC_F_WRITE, 0);
	make_avail(0);
	make_avail(2);
	virtq_process(&vq);
	ok(handled == 2, "both available chains are handed to the device");
	ok(le16toh(used->idx) == 0, "used index is not published before the flush");
	flush();
	ok(le16toh(used->idx) == 2 && le32toh(used->ring[0].id) == 0 &&
	   le32toh(used->ring[1].id) == 2 && le32toh(used->ring[1].len) == 7,
	   "flush publishes both used entries");
	ok(fd_signalled(vq.call_fd), "one notification for the batch");
	ok(!fd_signalled(vq.call_fd), "no second notification");

	avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	make_avail(0);
	virtq_process(&vq);
	flush();
	ok(le16toh(used->idx) == 3 && !fd_signalled(vq.call_fd),
	   "NO_INTERRUPT suppresses the notification");
}

static void test_event_idx(void)
{
	uint16_t *avail_event = (uint16_t *)((uint8_t *)used + 4 + 8 * NUM);

	reset_ring(true, true);
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], BUF_GPA + 16, 1, VRING_DESC_F_WRITE, 0);
	/* used_event = 5: the driver wants a call only once used passes 5. */
	avail->ring[NUM] = htole16(5);
	make_avail(0);
	virtq_process(&vq);
	ok(le16toh(*avail_event) == 1, "avail_event asks for a kick after the last taken entry");
	flush();
	ok(!fd_signalled(vq.call_fd), "used_event ahead of us suppresses the call");
	avail->ring[NUM] = htole16(1);
	make_avail(0);
	virtq_process(&vq);
	flush();
	ok(fd_signalled(vq.call_fd), "call when the used index crosses used_event");
}

static void test_broken_ring(void)
{
	reset_ring(false, true);
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], BUF_GPA + 16, 1, VRING_DESC_F_WRITE, 0);
	avail->idx = htole16(NUM + 1);
	virtq_process(&vq);
	ok(vq.broken && handled == 0 && fd_signalled(vq.err_fd),
	   "avail index jumping by more than the queue size breaks the queue");

	reset_ring(false, true);
	make_avail(NUM + 3);
	virtq_process(&vq);
	ok(vq.broken && handled == 0, "head beyond the queue size breaks the queue");

	reset_ring(false, true);
	complete_now = false;
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(&desc[1], BUF_GPA + 16, 1, VRING_DESC_F_WRITE, 0);
	make_avail(0);
	make_avail(0);
	virtq_process(&vq);
	ok(vq.broken && handled == 1, "a head made available twice while in flight breaks the queue");
	virtq_push(vq_req_at(&vq, 0), 1);

	reset_ring(false, true);
	set_desc(&desc[0], BUF_GPA, 16, VRING_DESC_F_NEXT, 0);
	make_avail(0);
	virtq_process(&vq);
	ok(vq.broken && handled == 0, "a looping chain breaks the queue");
}

static void test_ring_addresses(void)
{
	virtq_reset(&vq);
	virtq_init(&vq, 0);
	vq.th = &test_th;
	vq.num = NUM;
	vq.desc_qva = QVA_BASE + DESC_GPA;
	vq.avail_qva = QVA_BASE + AVAIL_GPA;
	vq.used_qva = QVA_BASE + MEM_SIZE - 8;
	vq.addr_set = true;
	ok(virtq_activate(&vq, &mem, 0) < 0, "used ring running off guest memory is refused");
	vq.used_qva = QVA_BASE + USED_GPA + 1;
	ok(virtq_activate(&vq, &mem, 0) < 0, "misaligned used ring is refused");
	vq.used_qva = 0x1000;
	ok(virtq_activate(&vq, &mem, 0) < 0, "ring outside every region is refused");
}

static void test_mem_table(void)
{
	struct vu_mem m = { 0 };
	struct vu_mem_region w = { 0x100000, 0x1000, 0x5000000, 0 };
	struct vu_mem_reg r;
	int fd = memfd_create("t", 0);

	ok(fd >= 0 && ftruncate(fd, 0x10000) == 0 &&
	   mem_reg_map(&r, &w, fd) == 0 && mem_insert(&m, &r) == 0, "a region maps");
	w.guest_phys_addr = 0x100800;
	w.userspace_addr = 0x6000000;
	ok(mem_reg_map(&r, &w, fd) == 0 && mem_insert(&m, &r) < 0,
	   "an overlapping region is refused");
	mem_reg_unmap(&r);
	w.memory_size = 0;
	ok(mem_reg_map(&r, &w, fd) < 0, "a zero-size region is refused");
	w.memory_size = 0x1000;
	w.guest_phys_addr = UINT64_MAX - 0x800;
	ok(mem_reg_map(&r, &w, fd) < 0, "a region wrapping around is refused");
	w.guest_phys_addr = 0x200000;
	w.mmap_offset = 0x10000;
	ok(mem_reg_map(&r, &w, fd) < 0, "an mmap offset beyond the file is refused");
	w.mmap_offset = 0;
	ok(mem_reg_map(&r, &w, -1) < 0, "an unusable fd is refused");
	w.guest_phys_addr = 0x100000;
	w.userspace_addr = 0x5000000;
	ok(mem_remove(&m, &w) == 0 && m.nregs == 0, "a region is removed by gpa, size and address");
	ok(mem_remove(&m, &w) < 0, "removing an unknown region fails");
	mem_clear(&m);
	close(fd);
}

int main(void)
{
	int fd = memfd_create("guest", 0);

	vu_log_init("test-virtq", 0);
	if (fd < 0 || ftruncate(fd, MEM_SIZE) < 0)
		return 99;
	guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (guest == MAP_FAILED)
		return 99;
	desc = (struct vring_desc *)(guest + DESC_GPA);
	avail = (struct vring_avail *)(guest + AVAIL_GPA);
	used = (struct vring_used *)(guest + USED_GPA);
	setup_memory(fd);
	virtq_init(&vq, 0);
	vq.th = &test_th;
	req = calloc(1, sizeof(*req) + 64);

	test_simple_chain();
	test_indirect();
	test_indirect_spanning_regions();
	test_bad_chains();
	test_too_many_segments();
	test_process_and_publish();
	test_event_idx();
	test_broken_ring();
	test_ring_addresses();
	test_mem_table();

	virtq_reset(&vq);
	mem_clear(&mem);
	free(req);
	close(fd);
	return tap_done();
}
