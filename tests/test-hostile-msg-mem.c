// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-hostile-msg-mem.c: a hostile front end against a real
 * vhost-uring-blk, at guest memory and the rings in it: bad memory tables
 * and regions (sizes, overlaps, wrap-arounds, fds that cannot be mapped),
 * regions and inflight regions taken away under a running ring, and ring
 * sizes and addresses the daemon must refuse.  The protocol's framing and
 * the other messages are test-hostile-msg-proto.c's; what a case checks
 * and how the cases run is hostile-msg.h's.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "hostile-msg.h"
#include "util.h"

/* ---- memory ------------------------------------------------------------- */

/* SET_MEM_TABLE with the given regions, all on the front end's memfd. */
static void mem_table_refused(struct mt *t, const struct vu_mem_region *r,
			      unsigned int n, const char *what)
{
	struct vu_mem_table mt = { .nregions = n };
	int fds[VU_MEM_TABLE_REGIONS];

	if (!open_neg(t, true) ||
	    !check(t, front_mem_create(&t->f, MEM_SIZE, MEM_GPA) == 0, "memfd"))
		return;
	for (unsigned int i = 0; i < n; i++) {
		mt.regions[i] = r[i];
		fds[i] = t->f.mem.fd;
	}
	if (nack(t, VU_SET_MEM_TABLE, &mt, 8 + n * 32, fds, n, what))
		check(t, front_mem_share(&t->f, false) == 0,
		      "%s: a good table is not taken afterwards", what);
}

static void m_region_zero_size(struct mt *t)
{
	struct vu_mem_region r = { MEM_GPA, 0, 0x7f0000000000ull, 0 };

	t->log = "memory region at gpa 0x100000 has size 0";
	mem_table_refused(t, &r, 1, "zero-size region");
}

/* A second 64 KiB region at gpa2 and qva2, overlapping the first. */
static void overlap_refused(struct mt *t, uint64_t gpa2, uint64_t qva2,
			    const char *what)
{
	struct vu_mem_region r[2] = {
		{ MEM_GPA, 0x10000, 0x7f0000000000ull, 0 },
		{ gpa2, 0x10000, qva2, 0x10000 },
	};

	t->log = "overlaps region gpa 0x100000";
	mem_table_refused(t, r, 2, what);
}

static void m_region_overlap(struct mt *t)
{
	overlap_refused(t, MEM_GPA + 0x8000, 0x7f0000100000ull,
			"overlapping regions");
}

static void m_region_overlap_qva(struct mt *t)
{
	overlap_refused(t, MEM_GPA + 0x100000, 0x7f0000008000ull,
			"regions overlapping in front-end addresses");
}

static void m_region_wrap_gpa(struct mt *t)
{
	struct vu_mem_region r = { UINT64_MAX - 0xfff, 0x2000, 0x7f0000000000ull, 0 };

	t->log = "memory region gpa 0xfffffffffffff000 size 0x2000 wraps around";
	mem_table_refused(t, &r, 1, "region wrapping in gpa");
}

static void m_region_wrap_qva(struct mt *t)
{
	struct vu_mem_region r = { MEM_GPA, 0x2000, UINT64_MAX - 0xfff, 0 };

	t->log = "memory region gpa 0x100000 size 0x2000 wraps around";
	mem_table_refused(t, &r, 1, "region wrapping in front-end addresses");
}

static void m_region_wrap_offset(struct mt *t)
{
	struct vu_mem_region r = { MEM_GPA, 0x2000, 0x7f0000000000ull, UINT64_MAX - 0xfff };

	t->log = "memory region gpa 0x100000 size 0x2000 wraps around";
	mem_table_refused(t, &r, 1, "region wrapping in mmap offset");
}

static void m_region_offset_beyond_file(struct mt *t)
{
	struct vu_mem_region r = { MEM_GPA, 0x10000, 0x7f0000000000ull, MEM_SIZE };

	t->log = "is beyond the end of its file";
	mem_table_refused(t, &r, 1, "mmap offset beyond the file");
}

static void m_table_nine_regions(struct mt *t)
{
	struct vu_mem_table mt = { .nregions = 9 };

	t->log = "SET_MEM_TABLE: 9 regions do not fit the 264-byte payload (at most 8 regions)";
	if (open_neg(t, true))
		nack(t, VU_SET_MEM_TABLE, &mt, sizeof(mt), NULL, 0, "9 regions");
}

/* One ADD_MEM_REG more than the advertised slots. */
static void m_add_beyond_slots(struct mt *t)
{
	uint64_t slots = 0;
	bool good = true;

	t->log = "all 509 slots are in use";	/* GET_MAX_MEM_SLOTS */
	if (!open_neg(t, true) ||
	    !check(t, front_get_u64(&t->f, VU_GET_MAX_MEM_SLOTS, &slots) == 0 &&
		   slots == 509, "GET_MAX_MEM_SLOTS") ||
	    !check(t, front_mem_create(&t->f, (slots + 1) * 4096, MEM_GPA) == 0, "memfd"))
		return;
	for (uint64_t i = 0; i <= slots && good; i++) {
		struct vu_mem_single s = { 0, {
			MEM_GPA + i * 8192, 4096,
			(uint64_t)(uintptr_t)t->f.mem.base + i * 4096, i * 4096 } };

		if (i < slots)
			good = ack(t, VU_ADD_MEM_REG, &s, sizeof(s), &t->f.mem.fd, 1,
				   "ADD_MEM_REG within the slots");
		else
			good = nack(t, VU_ADD_MEM_REG, &s, sizeof(s), &t->f.mem.fd, 1,
				    "ADD_MEM_REG beyond the slots");
	}
}

static void m_region_fd_eventfd(struct mt *t)
{
	struct vu_mem_single s = { 0, { MEM_GPA, 4096, 0x7f0000000000ull, 0 } };
	int fd = eventfd(0, EFD_CLOEXEC);

	t->log = "fd is not a shareable memory file";
	if (open_neg(t, true))
		nack(t, VU_ADD_MEM_REG, &s, sizeof(s), &fd, 1, "region on an eventfd");
	close(fd);
}

/* A region the daemon cannot map writable (it needs the used ring). */
static void m_region_fd_read_only(struct mt *t)
{
	struct vu_mem_single s = { 0, { MEM_GPA, 4096, 0x7f0000000000ull, 0 } };
	char path[64];
	int mfd = memfd_create("ro", MFD_CLOEXEC), fd;

	t->log = "mmap failed: Permission denied";
	if (ftruncate(mfd, 4096) < 0)
		t->log = "the test's memfd could not be sized";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (open_neg(t, true))
		nack(t, VU_ADD_MEM_REG, &s, sizeof(s), &fd, 1, "region on a read-only fd");
	close(fd);
	close(mfd);
}

static void m_region_fd_sealed(struct mt *t)
{
	struct vu_mem_single s = { 0, { MEM_GPA, 4096, 0x7f0000000000ull, 0 } };
	int fd = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	t->log = "mmap failed: Operation not permitted";
	if (ftruncate(fd, 4096) < 0)
		t->log = "the test's memfd could not be sized";
	fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
	if (open_neg(t, true))
		nack(t, VU_ADD_MEM_REG, &s, sizeof(s), &fd, 1, "region sealed against writes");
	close(fd);
}

static void m_rem_unknown(struct mt *t)
{
	struct vu_mem_single s = { 0, { MEM_GPA + MEM_SIZE, 4096, 0x7f0000000000ull, 0 } };
	int fd = eventfd(0, EFD_CLOEXEC);

	t->log = "REM_MEM_REG: no region with gpa 0x300000 size 0x1000";
	if (open_mem(t) &&
	    nack(t, VU_REM_MEM_REG, &s, sizeof(s), &fd, 1, "REM_MEM_REG of an unknown region"))
		still_usable(t, "after REM_MEM_REG of an unknown region");
	close(fd);
}

/*
 * The front end truncates the file behind a region while a ring in it
 * runs: the daemon's next touch of those pages faults (SIGBUS).  It must
 * survive that, say so, and serve the next front end.  (This side must not
 * touch the truncated memory either.)
 */
static void m_region_truncated(struct mt *t)
{
	struct vu_vring_state st = { 0, 0 };
	struct vu_msg m;

	t->log = "lost its pages (the front end truncated its file)";
	if (!open_mem(t) ||
	    !check(t, front_vq_start(&t->f, 0, 128) == 0, "ring start") ||
	    !still_usable(t, "after the ring start"))
		return;
	check(t, ftruncate(t->f.mem.fd, 0) == 0, "ftruncate");
	/* The kick makes the I/O thread read the avail index. */
	eventfd_write(t->f.vqs[0].kick_fd, 1);
	for (int i = 0; i < 300 && !daemon_log_count(t->d, t->mark, t->log); i++)
		usleep(10000);
	front_send(&t->f, VU_GET_VRING_BASE, VU_VERSION, &st, sizeof(st), NULL, 0);
	check(t, front_recv_reply(&t->f, VU_GET_VRING_BASE, &m) == 0,
	      "GET_VRING_BASE after the truncation is not answered");
	still_usable(t, "after the truncation");
}

/*
 * An inflight region at an offset that leaves its 64-bit fields unaligned
 * (found by the vu-msg fuzzer: UBSan's misaligned access).
 */
static void m_inflight_misaligned(struct mt *t)
{
	struct vu_inflight in = { 1 << 16, 0x1b, 1, 128 };
	int fd = memfd_create("inflight", MFD_CLOEXEC);

	t->log = "SET_INFLIGHT_FD: mmap_offset 0x1b is not 8-byte aligned";
	check(t, fd >= 0 && ftruncate(fd, 1 << 17) == 0, "memfd");
	if (open_inflight(t))
		nack(t, VU_SET_INFLIGHT_FD, &in, sizeof(in), &fd, 1,
		     "SET_INFLIGHT_FD at offset 0x1b");
	close(fd);
}

/* The same for an inflight region the front end handed over. */
static void m_inflight_truncated(struct mt *t)
{
	struct vu_inflight in = { 1 << 16, 0, 1, 128 };
	struct virtio_blk_outhdr h = { .type = htole32(VIRTIO_BLK_T_FLUSH) };
	int fd = memfd_create("inflight", MFD_CLOEXEC);
	struct front_buf b[2];
	uint8_t *hdr, *st;

	t->log = "inflight region at offset 0x0 lost its pages";
	check(t, fd >= 0 && ftruncate(fd, 1 << 16) == 0, "memfd");
	if (!open_inflight(t) ||
	    !check(t, front_set_inflight(&t->f, &in, fd) == 0, "SET_INFLIGHT_FD") ||
	    !check(t, front_mem_create(&t->f, MEM_SIZE, MEM_GPA) == 0 &&
		   front_mem_share(&t->f, false) == 0, "share memory") ||
	    !check(t, front_vq_start(&t->f, 0, 128) == 0, "ring start") ||
	    !still_usable(t, "after the ring start"))
		goto out;
	check(t, ftruncate(fd, 0) == 0, "ftruncate");
	/* A request makes the I/O thread record it in the region. */
	hdr = front_alloc(&t->f, sizeof(h), 16, NULL);
	st = front_alloc(&t->f, 1, 1, NULL);
	memcpy(hdr, &h, sizeof(h));
	b[0] = (struct front_buf){ front_gpa(&t->f, hdr), sizeof(h), false };
	b[1] = (struct front_buf){ front_gpa(&t->f, st), 1, true };
	fvq_add(&t->f.vqs[0], b, 2, NULL);
	fvq_kick(&t->f.vqs[0]);
	for (int i = 0; i < 300 && !daemon_log_count(t->d, t->mark, t->log); i++)
		usleep(10000);
	still_usable(t, "after the truncation");
out:
	close(fd);
}

/* ---- rings -------------------------------------------------------------- */

static void vring_num_refused(struct mt *t, uint32_t num)
{
	struct vu_vring_state st = { 0, num };
	char what[64];

	snprintf(what, sizeof(what), "SET_VRING_NUM %u", num);
	if (open_neg(t, true))
		nack(t, VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, what);
}

static void m_ring_size_zero(struct mt *t)
{
	t->log = "SET_VRING_NUM: vq 0: size 0 is not a power of two";
	vring_num_refused(t, 0);
}

static void m_ring_size_not_pow2(struct mt *t)
{
	t->log = "SET_VRING_NUM: vq 0: size 100 is not a power of two";
	vring_num_refused(t, 100);
}

static void m_ring_size_too_big(struct mt *t)
{
	t->log = "SET_VRING_NUM: vq 0: size 65536 is not a power of two between 1 and";
	vring_num_refused(t, 65536);
}

static void m_ring_addr_outside(struct mt *t)
{
	struct vu_vring_state st = { 0, 128 };
	struct vu_vring_addr a = { .index = 0 };

	t->log = "SET_VRING_ADDR: vq 0: ring addresses are outside guest memory";
	if (!open_mem(t) ||
	    !ack(t, VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, "SET_VRING_NUM"))
		return;
	a.desc_user_addr = (uint64_t)(uintptr_t)t->f.mem.base + MEM_SIZE + 4096;
	a.avail_user_addr = (uint64_t)(uintptr_t)t->f.mem.base;
	a.used_user_addr = (uint64_t)(uintptr_t)t->f.mem.base + 4096;
	nack(t, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, "descriptor table outside memory");
}

static void m_ring_addr_flags(struct mt *t)
{
	struct vu_vring_addr a = { .index = 0, .flags = 0x6 };

	t->log = "SET_VRING_ADDR: vq 0: unknown flags 0x6";
	if (open_mem(t))
		nack(t, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, "SET_VRING_ADDR flags 6");
}

/*
 * Rings whose start is mapped but whose end is not, or that are misaligned,
 * are found when the ring starts: it is marked broken (error eventfd) and
 * never touched.
 */
static void ring_start_broken(struct mt *t, uint64_t used_off, const char *what)
{
	uint8_t *base;
	uint64_t used;
	int ret;

	if (!open_mem(t))
		return;
	base = t->f.mem.base;
	used = (uint64_t)(uintptr_t)base + used_off;
	ret = front_vq_start_at(&t->f, 0, 128, (uint64_t)(uintptr_t)base,
				(uint64_t)(uintptr_t)base + 4096, used);
	check(t, ret == 0, "%s: starting the ring: %s", what, strerror(-ret));
	check(t, fvq_wait_err(&t->f.vqs[0], 3000) == 1,
	      "%s: the error eventfd was not signalled", what);
	still_usable(t, what);
}

static void m_used_ring_partly_outside(struct mt *t)
{
	t->log = "used ring at 0x";
	ring_start_broken(t, MEM_SIZE - 512, "used ring running off memory");
}

static void m_used_ring_misaligned(struct mt *t)
{
	t->log = "is not 4-byte aligned";
	ring_start_broken(t, 8192 + 2, "misaligned used ring");
}

/* Taking away the memory under a running ring stops the ring. */
static void m_rem_region_under_ring(struct mt *t)
{
	struct vu_mem_single s;
	uint64_t v;
	int ret;

	t->log = "descriptor ring at 0x";
	if (!open_neg(t, true) ||
	    !check(t, front_mem_create(&t->f, MEM_SIZE, MEM_GPA) == 0, "memfd") ||
	    !check(t, front_mem_share(&t->f, true) == 0, "ADD_MEM_REG"))
		return;
	ret = front_vq_start(&t->f, 0, 128);
	check(t, ret == 0 && front_get_u64(&t->f, VU_GET_FEATURES, &v) == 0,
	      "ring start");
	check(t, fvq_wait_err(&t->f.vqs[0], 100) == 0, "the ring broke at start");
	s = (struct vu_mem_single){ 0, { MEM_GPA, MEM_SIZE,
		(uint64_t)(uintptr_t)t->f.mem.base, 0 } };
	ack(t, VU_REM_MEM_REG, &s, sizeof(s), NULL, 0, "REM_MEM_REG of the ring's region");
	check(t, fvq_wait_err(&t->f.vqs[0], 3000) == 1,
	      "the error eventfd was not signalled");
}

/* ---- the case list ------------------------------------------------------ */

static const struct mcase cases[] = {
	{ "memory: zero-size region", m_region_zero_size, NULL },
	{ "memory: overlapping regions", m_region_overlap, NULL },
	{ "memory: regions overlapping in front-end addresses", m_region_overlap_qva, NULL },
	{ "memory: region wrapping in guest-physical addresses", m_region_wrap_gpa, NULL },
	{ "memory: region wrapping in front-end addresses", m_region_wrap_qva, NULL },
	{ "memory: region wrapping in mmap offset", m_region_wrap_offset, NULL },
	{ "memory: mmap offset beyond the file", m_region_offset_beyond_file, NULL },
	{ "memory: SET_MEM_TABLE with 9 regions", m_table_nine_regions, NULL },
	{ "memory: more regions than slots", m_add_beyond_slots, NULL },
	{ "memory: region fd is an eventfd", m_region_fd_eventfd, NULL },
	{ "memory: region fd is read-only", m_region_fd_read_only, NULL },
	{ "memory: region memfd sealed against writes", m_region_fd_sealed, NULL },
	{ "memory: REM_MEM_REG of an unknown region", m_rem_unknown, NULL },
	{ "memory: REM_MEM_REG of the region under a running ring", m_rem_region_under_ring, NULL },
	{ "memory: region file truncated under a running ring", m_region_truncated, NULL },
	{ "memory: inflight region at an unaligned offset", m_inflight_misaligned, NULL },
	{ "memory: inflight region file truncated under a running ring", m_inflight_truncated, NULL },
	{ "ring: queue size 0", m_ring_size_zero, NULL },
	{ "ring: queue size not a power of two", m_ring_size_not_pow2, NULL },
	{ "ring: queue size above the maximum", m_ring_size_too_big, NULL },
	{ "ring: ring address outside every region", m_ring_addr_outside, NULL },
	{ "ring: unknown SET_VRING_ADDR flags", m_ring_addr_flags, NULL },
	{ "ring: used ring partly outside guest memory", m_used_ring_partly_outside, NULL },
	{ "ring: misaligned used ring", m_used_ring_misaligned, NULL },
};

int main(void)
{
	return hostile_msg_main("test-hostile-msg-mem", cases, ARRAY_SIZE(cases));
}
