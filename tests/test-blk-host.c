// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-host.c: vhost-uring-blk against host storage conditions, driven
 * through the project's front end: a block device (a loop device) as the
 * backing store, an image on a full file system (ENOSPC), an image truncated
 * under the daemon (on a disk's file system and on tmpfs, whose requests
 * the I/O thread copies itself), and several I/O threads.  Needs root
 * (losetup, mount).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "log.h"
#include "tap.h"
#include "util.h"

static char aio_arg[64];

static uint64_t pf_all(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
}

static void make_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, size) < 0)
		exit(99);
	close(fd);
}

static void put_seg(struct blkc *c, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = {
		htole64(sector), htole32(num), htole32(flags)
	};

	memcpy(c->data, &s, sizeof(s));
}

static void test_block_device(void)
{
	char img[300], dev[64] = "", arg[400];
	const char *args[] = { arg, aio_arg, NULL };
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	snprintf(img, sizeof(img), "%s/loop.img", harness_dir());
	make_file(img, 32 << 20);
	if (loop_attach(img, dev, sizeof(dev)) < 0) {
		ok(false, "losetup attaches a loop device");
		return;
	}
	snprintf(arg, sizeof(arg), "--blk-file=%s", dev);
	if (daemon_start(&d, args) < 0 ||
	    blkc_open(&c, d.sock, 1, ~0ull, pf_all()) < 0) {
		ok(false, "daemon serves %s", dev);
		goto out;
	}
	ok(c.f.features & BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES), "a block device offers WRITE_ZEROES");
	memset(c.data, 0xab, 8192);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 64, 8192, false, false, &r);
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, &r);
	memset(c.data, 0, 8192);
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_IN, 64, 8192, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && c.data[0] == 0xab && c.data[8191] == 0xab,
	   "block device %s: write, flush and read back", dev);
	put_seg(&c, 64, 16, 0);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, false, &r);
	memset(c.data, 0xff, 8192);
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_IN, 64, 8192, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && c.data[0] == 0 && c.data[8191] == 0,
	   "block device: write-zeroes reads back as zeros");
	if (c.f.features & BIT_ULL(VIRTIO_BLK_F_DISCARD)) {
		put_seg(&c, 0, 2048, 0);
		ret = blkc_req(&c, 0, VIRTIO_BLK_T_DISCARD, 0, 16, false, false, &r);
		ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "block device: discard completes");
	} else {
		ok(true, "block device: no discard offered (device cannot discard)");
	}
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, (32 << 20) / 512, 512, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_IOERR, "block device: reading past its end gets IOERR");
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "block device daemon exits cleanly");
out:
	loop_detach(dev);
}

static void test_enospc(void)
{
	char mnt[300], img[340], arg[360];
	const char *args[] = { arg, aio_arg, "--cache=writeback", NULL };
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	uint8_t back[4096];
	int ret, ioerr = 0, fd;

	snprintf(mnt, sizeof(mnt), "%s/small", harness_dir());
	mkdir(mnt, 0755);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0) {
		ok(false, "mount a 1 MiB tmpfs: %s", strerror(errno));
		return;
	}
	snprintf(img, sizeof(img), "%s/disk.img", mnt);
	snprintf(arg, sizeof(arg), "--blk-file=%s", img);
	make_file(img, 16 << 20);
	if (daemon_start(&d, args) < 0 ||
	    blkc_open(&c, d.sock, 1, ~0ull, pf_all()) < 0) {
		ok(false, "daemon on a full file system");
		goto out;
	}
	memset(c.data, 0xcd, 4096);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 0, 4096, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "a first write fits");
	ok(daemon_log_has(&d, "cache=writeback, in memory,"),
	   "the start-up line says the tmpfs image is in memory");
	/* 16 x 256 KiB = 4 MiB into a 1 MiB file system. */
	for (unsigned int i = 0; i < 16; i++) {
		memset(c.data, 0x10 + i, 256 << 10);
		ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 8 + i * 512, 256 << 10, false, false, &r);
		if (ret == 0 && r.status == VIRTIO_BLK_S_IOERR)
			ioerr++;
	}
	ok(ioerr > 0, "writes beyond the free space get IOERR (%d of 16)", ioerr);
	ok(daemon_alive(&d), "the daemon stays up");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && c.data[0] == 0xcd && c.data[4095] == 0xcd,
	   "data written before is intact");
	fd = open(img, O_RDONLY);
	ok(fd >= 0 && pread(fd, back, 4096, 0) == 4096 && back[0] == 0xcd,
	   "and it is in the image file");
	if (fd >= 0)
		close(fd);
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "the daemon exits cleanly afterwards");
out:
	umount2(mnt, MNT_DETACH);
}

/* in: a directory on tmpfs, or "" for the scratch directory. */
static void test_truncated(const char *in)
{
	char img[300], arg[320];
	/* Page cache on tmpfs: not every kernel has O_DIRECT there. */
	const char *args[] = { arg, aio_arg,
			       in[0] ? "--cache=writeback" : "--cache=none", NULL };
	const char *where = in[0] ? "tmpfs" : "disk";
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	snprintf(img, sizeof(img), "%s/shrinking.img", in[0] ? in : harness_dir());
	snprintf(arg, sizeof(arg), "--blk-file=%s", img);
	make_file(img, 8 << 20);
	if (daemon_start(&d, args) < 0 ||
	    blkc_open(&c, d.sock, 1, ~0ull, pf_all()) < 0) {
		ok(false, "daemon on a shrinking image");
		return;
	}
	ok(daemon_log_has(&d, ", in memory,") == !!in[0],
	   "%s: the start-up line says in memory only on tmpfs", where);
	if (truncate(img, 1 << 20) < 0)
		exit(99);
	memset(c.data, 0x5e, 4096);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, (4 << 20) / 512, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_IOERR,
	   "%s: a read past the new end of a truncated image gets IOERR", where);
	ok(c.data[0] == 0x5e, "%s: and leaves the guest buffer alone (no stale data)",
	   where);
	/* Across the new end: the short transfer is continued, then fails. */
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, ((1 << 20) - 4096) / 512, 8192,
		       true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_IOERR,
	   "%s: a read across the new end gets IOERR", where);
	memset(c.data, 0x6f, 4096);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 8, 4096, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "%s: writes inside the new size work",
	   where);
	memset(c.data, 0, 4096);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 8, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && c.data[0] == 0x6f &&
	   c.data[4095] == 0x6f, "%s: and read back inside the new size", where);
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "%s: the daemon exits cleanly", where);
}

static void test_truncated_tmpfs(void)
{
	char mnt[300];

	snprintf(mnt, sizeof(mnt), "%s/mem", harness_dir());
	mkdir(mnt, 0755);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=16m") < 0) {
		ok(false, "mount a tmpfs: %s", strerror(errno));
		return;
	}
	test_truncated(mnt);
	umount2(mnt, MNT_DETACH);
}

/*
 * Every SET_VRING_ENABLE pauses and resumes all I/O threads.  Send thousands
 * without waiting, with queues active, then check the daemon still answers
 * and serves I/O: a lost control wake-up shows up as a hang here.
 */
static bool pause_storm(struct daemon *d)
{
	struct vu_vring_state st = { 3, 1 };
	struct blkc_res r;
	struct blkc c;
	uint64_t v;
	bool good;

	if (blkc_open(&c, d->sock, 3, ~0ull, pf_all()) < 0)
		return false;
	for (int i = 0; i < 50000; i++) {
		st.num = i & 1;
		if (front_send(&c.f, VU_SET_VRING_ENABLE, VU_VERSION, &st, sizeof(st),
			       NULL, 0) < 0)
			break;
	}
	c.f.timeout_ms = 20000;
	good = front_get_u64(&c.f, VU_GET_FEATURES, &v) == 0 &&
	       blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r) == 0 &&
	       blkc_req(&c, 1, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r) == 0;
	blkc_close(&c);
	return good;
}

/*
 * Several threads: every vring message pauses all of them, so connecting
 * repeatedly while I/O runs exercises the pause protocol between threads.
 */
static void test_threads(void)
{
	char img[300], arg[320];
	const char *args[] = { arg, aio_arg, "--num-queues=4", "--num-threads=2", NULL };
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int good = 0, conns = 0;

	snprintf(img, sizeof(img), "%s/threads.img", harness_dir());
	snprintf(arg, sizeof(arg), "--blk-file=%s", img);
	make_file(img, 8 << 20);
	if (daemon_start(&d, args) < 0) {
		ok(false, "daemon with two I/O threads");
		return;
	}
	for (unsigned int conn = 0; conn < 8; conn++) {
		if (blkc_open(&c, d.sock, 4, ~0ull, pf_all()) < 0)
			break;
		conns++;
		for (unsigned int q = 0; q < 4; q++) {
			memset(c.data, q + conn, 4096);
			if (blkc_req(&c, q, VIRTIO_BLK_T_OUT, 8 * q, 4096, false, false, &r) == 0 &&
			    r.status == VIRTIO_BLK_S_OK)
				good++;
		}
		blkc_close(&c);
	}
	ok(conns == 8 && good == 32,
	   "--num-threads=2: 8 connections, writes on all four queues complete (%d/32)", good);
	ok(pause_storm(&d), "50000 back-to-back control messages with two threads: still answering");
	ok(daemon_log_has(&d, "2 I/O threads"), "the start-up line reports two I/O threads");
	ok(daemon_stop(&d) == 0, "the daemon exits cleanly");
}

int main(void)
{
	const char *aio = getenv("TEST_AIO");

	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-blk-host", 0);
	snprintf(aio_arg, sizeof(aio_arg), "--aio=%s", aio ? aio : "io_uring");
	tap_diag("engine %s", aio ? aio : "io_uring");
	if (!engine_built(aio ? aio : "io_uring")) {
		printf("1..0 # SKIP this build has no %s engine\n", aio);
		return 0;
	}
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root for losetup and mount\n");
		return 0;
	}
	test_block_device();
	test_enospc();
	test_truncated("");
	test_truncated_tmpfs();
	test_threads();
	harness_cleanup();
	return tap_done();
}
