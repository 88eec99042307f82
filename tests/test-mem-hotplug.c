// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-mem-hotplug.c: memory hotplug as vhost-uring-blk sees it, without a
 * VM.  The project's front end plugs a "DIMM" (a memfd region of its own,
 * ADD_MEM_REG) and takes it away again (REM_MEM_REG) while a read into it,
 * status byte included, is held in flight: the image lives on
 * tests/fuse-faulty's disk.img, whose gate keeps the read in the file for
 * as long as the test likes.  The daemon must not answer REM_MEM_REG
 * before that read has completed into the region, and must never write
 * into the region once it answered.  A request into a removed region stops
 * its ring (a device error), and the daemon lives on.  Timeouts are only
 * hang detectors.
 *
 * $TEST_AIO picks the engine (default io_uring); fuse-faulty comes from
 * $FUSE_FAULTY.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "ffs.h"
#include "harness.h"
#include "test-util.h"
#include "tap.h"
#include "util.h"

#define IMG_SIZE	(16u << 20)
#define DIMM_SIZE	(1u << 20)
#define DIMM_GPA	0x40000000ull	/* above the client's 16 MiB */
#define STATUS_GPA	(DIMM_GPA + DIMM_SIZE - 1)	/* the held read's status */
#define IO_LEN		65536u
#define OFF_HELD	(4u << 20)	/* the held read */
#define OFF_AGAIN	(8u << 20)	/* I/O after plugging again */
#define WAIT_MS		10000		/* hang detector */
#define QUIET_MS	500		/* how long an early answer may take */

struct dimm {
	int fd;
	uint8_t *base;		/* our mapping; also its "QVA" */
};

static struct test_env env;
static struct ffs fmnt;
static struct dimm dimm = { -1, NULL };
static uint8_t pat[IO_LEN];

static int dimm_create(struct dimm *m)
{
	m->fd = memfd_create("dimm", MFD_CLOEXEC);
	if (m->fd < 0 || ftruncate(m->fd, DIMM_SIZE) < 0)
		return -1;
	m->base = mmap(NULL, DIMM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       m->fd, 0);
	return m->base == MAP_FAILED ? -1 : 0;
}

static struct vu_mem_single dimm_region(const struct dimm *m)
{
	return (struct vu_mem_single){ 0, { DIMM_GPA, DIMM_SIZE,
		(uint64_t)(uintptr_t)m->base, 0 } };
}

static uint8_t *dimm_status(void)
{
	return dimm.base + (STATUS_GPA - DIMM_GPA);
}

static int dimm_plug(struct blkc *c)
{
	struct vu_mem_single s = dimm_region(&dimm);

	return front_request(&c->f, VU_ADD_MEM_REG, &s, sizeof(s), &dimm.fd, 1);
}

static int dimm_unplug(struct blkc *c)
{
	struct vu_mem_single s = dimm_region(&dimm);

	return front_request(&c->f, VU_REM_MEM_REG, &s, sizeof(s), NULL, 0);
}

/* Does the whole DIMM still hold the byte b? */
static bool dimm_all(uint8_t b)
{
	for (size_t i = 0; i < DIMM_SIZE; i++) {
		if (dimm.base[i] != b)
			return false;
	}
	return true;
}

static bool image_write(const void *buf, size_t len, off_t off)
{
	int fd = open(fmnt.img, O_WRONLY);
	bool done;

	if (fd < 0)
		return false;
	done = pwrite(fd, buf, len, off) == (ssize_t)len;
	close(fd);
	return done;
}

/*
 * A read into the DIMM, held in the file; REM_MEM_REG of the DIMM sent
 * meanwhile.  The daemon has read the message (its log says so) but must
 * not answer until the read is done; then the data is in the DIMM.
 */
static void rem_while_in_flight(struct daemon *d, struct blkc *c)
{
	struct vu_mem_single s = dimm_region(&dimm);
	struct blkc_res res = { 0xff, 0 };
	uint64_t verdict = 1;
	long mark;
	int ret;

	memset(dimm.base, 0x5a, DIMM_SIZE);
	ok(image_write(pat, IO_LEN, OFF_HELD) && gate_hold(&fmnt, OFF_HELD, IO_LEN) &&
	   blkc_submit(c, 0, VIRTIO_BLK_T_IN, OFF_HELD / 512, DIMM_GPA, IO_LEN,
		       true, STATUS_GPA) == 0 &&
	   gate_wait_held(&fmnt, OFF_HELD, WAIT_MS),
	   "a 64 KiB read into the DIMM is in flight (held in the file)");
	mark = daemon_log_mark(d);
	ret = front_send(&c->f, VU_REM_MEM_REG, VU_VERSION | VU_FLAG_NEED_REPLY,
			 &s, sizeof(s), NULL, 0);
	ok(ret == 0 && daemon_wait_log(d, mark, "<- REM_MEM_REG", WAIT_MS) &&
	   front_silent(&c->f, QUIET_MS),
	   "REM_MEM_REG of the DIMM is not answered while the read into it is in flight");
	gate_release(&fmnt, OFF_HELD);
	ret = front_recv_u64(&c->f, VU_REM_MEM_REG, &verdict);
	ok(ret == 0 && verdict == 0,
	   "REM_MEM_REG acked once the read is released (%d, verdict %llu)",
	   ret, (unsigned long long)verdict);
	ret = blkc_wait(c, 0, WAIT_MS, &res);
	ok(ret == 0 && *dimm_status() == VIRTIO_BLK_S_OK &&
	   memcmp(dimm.base, pat, IO_LEN) == 0,
	   "the held read completed into the DIMM, status byte included, before it went (%d, status %u, data %s)",
	   ret, *dimm_status(), memcmp(dimm.base, pat, IO_LEN) ? "wrong" : "right");
	memset(dimm.base, 0x5a, DIMM_SIZE);
	ok(daemon_alive(d) && dimm_all(0x5a),
	   "daemon alive; it wrote nothing into the DIMM after REM_MEM_REG");
}

/* The same region plugged in again serves writes and reads. */
static void plug_again(struct blkc *c)
{
	struct blkc_res w = { 0xff, 0 }, r = { 0xff, 0 };
	int ret;

	ok(dimm_plug(c) == 0, "ADD_MEM_REG of the DIMM again");
	memcpy(dimm.base, pat, IO_LEN);
	ret = blkc_submit(c, 0, VIRTIO_BLK_T_OUT, OFF_AGAIN / 512, DIMM_GPA,
			  IO_LEN, false, 0);
	if (ret == 0)
		ret = blkc_wait(c, 0, WAIT_MS, &w);
	memset(dimm.base, 0, IO_LEN);
	if (ret == 0)
		ret = blkc_submit(c, 0, VIRTIO_BLK_T_IN, OFF_AGAIN / 512,
				  DIMM_GPA + IO_LEN, IO_LEN, true, 0);
	if (ret == 0)
		ret = blkc_wait(c, 0, WAIT_MS, &r);
	ok(ret == 0 && w.status == VIRTIO_BLK_S_OK && r.status == VIRTIO_BLK_S_OK &&
	   memcmp(dimm.base + IO_LEN, pat, IO_LEN) == 0,
	   "a write from the DIMM and a read into it (%d, status %u/%u)",
	   ret, w.status, r.status);
	ok(dimm_unplug(c) == 0, "REM_MEM_REG with nothing in flight");
}

/* A request into the removed region stops the ring; nothing is written. */
static void use_after_rem(struct daemon *d, struct blkc *c)
{
	int ret;

	memset(dimm.base, 0x5a, DIMM_SIZE);
	ret = blkc_submit(c, 0, VIRTIO_BLK_T_IN, OFF_HELD / 512, DIMM_GPA,
			  IO_LEN, true, 0);
	ok(ret == 0 && fvq_wait_err(&c->f.vqs[0], WAIT_MS) == 1 &&
	   daemon_alive(d) && dimm_all(0x5a),
	   "a read into the removed region stops the ring (error eventfd); the region is not written");
}

static void run(struct daemon *d)
{
	struct blkc c;
	uint64_t slots = 0;
	int ret;

	ret = blkc_open(&c, d->sock, 1, ~0ull,
			BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS));
	if (ret == 0)
		ret = front_get_u64(&c.f, VU_GET_MAX_MEM_SLOTS, &slots);
	ok(ret == 0 && slots == 509,
	   "connected; GET_MAX_MEM_SLOTS answers 509 (%llu)",
	   (unsigned long long)slots);
	if (ret < 0)
		return;
	ok(dimm_create(&dimm) == 0 && dimm_plug(&c) == 0,
	   "ADD_MEM_REG of a 1 MiB DIMM at gpa 0x%llx",
	   (unsigned long long)DIMM_GPA);
	rem_while_in_flight(d, &c);
	plug_again(&c);
	use_after_rem(d, &c);
	blkc_close(&c);
}

int main(void)
{
	struct daemon d;
	char img_arg[400];
	const char *args[] = { img_arg, env.aio_arg, "-v", NULL };
	struct verdict v = { "" };
	int base_fds;

	if (!test_env_init(&env, 1 << 20))
		return 0;
	pattern(pat, IO_LEN, 0);
	if (!ok(ffs_start(&fmnt, IMG_SIZE) == 0,
		"fuse-faulty serves disk.img with a gate (%s)", ffs_binary()))
		goto out;
	snprintf(img_arg, sizeof(img_arg), "--blk-file=%s", fmnt.img);
	if (!ok(daemon_start(&d, args) == 0, "daemon starts on the gated image"))
		goto out;
	base_fds = daemon_settled_fd_count(&d);
	run(&d);
	daemon_aftermath(&v, &d, base_fds, 0, NULL, OFF_AGAIN / 512 + 256, true);
	ok(!v.fail[0], "daemon well afterwards: %s", v.fail[0] ? v.fail : "fds, I/O, exit 0");
out:
	if (ffs_stop(&fmnt))
		harness_cleanup();
	return tap_done();
}
