// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-front.c: drives a real vhost-uring-blk through the project's own
 * vhost-user front end, with no VM: negotiation, config space, reads and
 * writes landing in the image file, flush, discard, write-zeroes, GET_ID,
 * read-only and 4 KiB-block disks, the cache modes, several queues, and
 * disconnect followed by reconnect.  Refusals of bad requests and messages
 * are the business of the hostile suites (test-hostile-msg-proto.c,
 * test-hostile-msg-mem.c, test-hostile-ring.c).  The engine comes from
 * $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "log.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define IMG_SIZE	(64u << 20)
#define CAPACITY	(IMG_SIZE / 512)
#define SERIAL		"vu-test-serial-01"

static struct test_env env;

static uint64_t all_features(void)
{
	return ~0ull;
}

static uint64_t all_pf(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
}

static void host_pread(void *buf, size_t len, off_t off)
{
	int fd = open(env.img, O_RDONLY);

	if (fd < 0 || pread(fd, buf, len, off) != (ssize_t)len)
		memset(buf, 0xee, len);
	if (fd >= 0)
		close(fd);
}

static void host_fill(uint8_t c, size_t len, off_t off)
{
	uint8_t *buf = malloc(len);
	int fd = open(env.img, O_WRONLY);

	memset(buf, c, len);
	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len || fsync(fd) < 0)
		exit(99);
	close(fd);
	free(buf);
}

static uint64_t host_blocks(void)
{
	struct stat st;

	return stat(env.img, &st) == 0 ? (uint64_t)st.st_blocks : 0;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t c)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != c)
			return false;
	}
	return true;
}

static void put_seg(struct blkc *c, unsigned int i, uint64_t sector,
		    uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = {
		.sector = htole64(sector),
		.num_sectors = htole32(num),
		.flags = htole32(flags),
	};

	memcpy(c->data + i * sizeof(s), &s, sizeof(s));
}

/* $TEST_EXTRA_ARG (e.g. --poll-us=50) goes to the main daemon too. */
static const char *std_args[] = { env.img_arg, env.aio_arg, "--num-queues=4",
				  "--serial=" SERIAL, NULL, NULL };

static void test_negotiation(struct daemon *d)
{
	struct blkc c;
	uint64_t v = 0;
	int ret = blkc_open(&c, d->sock, 1, all_features(), all_pf());

	ok(ret == 0, "connect and negotiate (%s)", strerror(-ret));
	ok(c.f.features & BIT_ULL(VIRTIO_F_VERSION_1) &&
	   c.f.features & BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES) &&
	   c.f.features & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) &&
	   c.f.features & BIT_ULL(VIRTIO_RING_F_EVENT_IDX) &&
	   c.f.features & BIT_ULL(VHOST_F_LOG_ALL),
	   "transport features: VERSION_1, PROTOCOL_FEATURES, INDIRECT_DESC, EVENT_IDX, LOG_ALL");
	ok((c.f.features & (BIT_ULL(VIRTIO_BLK_F_FLUSH) | BIT_ULL(VIRTIO_BLK_F_DISCARD) |
			    BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES) |
			    BIT_ULL(VIRTIO_BLK_F_CONFIG_WCE) | BIT_ULL(VIRTIO_BLK_F_MQ) |
			    BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) | BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
			    BIT_ULL(VIRTIO_BLK_F_TOPOLOGY))) ==
	   (BIT_ULL(VIRTIO_BLK_F_FLUSH) | BIT_ULL(VIRTIO_BLK_F_DISCARD) |
	    BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES) | BIT_ULL(VIRTIO_BLK_F_CONFIG_WCE) |
	    BIT_ULL(VIRTIO_BLK_F_MQ) | BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
	    BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | BIT_ULL(VIRTIO_BLK_F_TOPOLOGY)),
	   "virtio-blk features: FLUSH, DISCARD, WRITE_ZEROES, CONFIG_WCE, MQ, BLK_SIZE, SEG_MAX, TOPOLOGY");
	ok(!(c.f.features & BIT_ULL(VIRTIO_BLK_F_RO)) &&
	   !(c.f.features & BIT_ULL(VIRTIO_F_RING_PACKED)),
	   "neither RO nor packed rings offered on a writable disk");
	ok(c.f.protocol_features == (all_pf() | BIT_ULL(VU_PF_INFLIGHT_SHMFD) |
				     BIT_ULL(VU_PF_LOG_SHMFD) |
				     BIT_ULL(VU_PF_BACKEND_REQ)),
	   "protocol features: MQ, REPLY_ACK, CONFIG, CONFIGURE_MEM_SLOTS, INFLIGHT_SHMFD, LOG_SHMFD, BACKEND_REQ (0x%llx)",
	   (unsigned long long)c.f.protocol_features);
	ok(c.f.max_queues == 4, "GET_QUEUE_NUM reports --num-queues");
	ret = front_get_u64(&c.f, VU_GET_MAX_MEM_SLOTS, &v);
	ok(ret == 0 && v >= 32, "GET_MAX_MEM_SLOTS answers %llu", (unsigned long long)v);
	blkc_close(&c);
}

static void test_config(struct daemon *d)
{
	struct virtio_blk_config cfg;
	uint8_t wce;
	struct blkc c;

	memset(&cfg, 0xaa, sizeof(cfg));
	if (blkc_open(&c, d->sock, 1, all_features(), all_pf()) < 0) {
		ok(false, "config: connect");
		return;
	}
	ok(front_get_config(&c.f, 0, 57, &cfg) == 0, "GET_CONFIG of the 57 bytes QEMU asks for");
	ok(le64toh(cfg.capacity) == CAPACITY, "capacity is the image size in sectors");
	ok(le32toh(cfg.blk_size) == 512 && le32toh(cfg.seg_max) >= 64 &&
	   le32toh(cfg.size_max) >= 4096, "blk_size, seg_max and size_max are sane");
	ok(cfg.wce == 1 && le16toh(cfg.num_queues) == 4, "writeback cache on, 4 queues");
	{
		struct stat st;
		unsigned int exp = 0;

		stat(env.img, &st);
		while ((512u << exp) < (unsigned int)st.st_blksize && exp < 7)
			exp++;
		ok(cfg.physical_block_exp == exp && le16toh(cfg.min_io_size) == 1u << exp,
		   "topology follows the file system's %u-byte blocks (exp %u, min_io %u)",
		   (unsigned int)st.st_blksize, cfg.physical_block_exp,
		   le16toh(cfg.min_io_size));
	}
	ok(le32toh(cfg.max_discard_seg) > 1 && le32toh(cfg.max_discard_sectors) > 0 &&
	   le32toh(cfg.max_write_zeroes_seg) > 1 && cfg.write_zeroes_may_unmap == 1,
	   "discard and write-zeroes limits announced");
	ok(front_get_config(&c.f, 0, 36, &cfg) == 0, "GET_CONFIG of the 36 bytes older QEMUs ask for");

	wce = 0;
	ok(front_set_config(&c.f, offsetof(struct virtio_blk_config, wce), 1, &wce) == 0,
	   "SET_CONFIG writeback=0 is acknowledged");
	ok(front_get_config(&c.f, 0, 57, &cfg) == 0 && cfg.wce == 0,
	   "the write cache now reads as writethrough");
	wce = 1;
	ok(front_set_config(&c.f, offsetof(struct virtio_blk_config, wce), 1, &wce) == 0 &&
	   front_get_config(&c.f, 0, 57, &cfg) == 0 && cfg.wce == 1,
	   "SET_CONFIG writeback=1 turns the write cache back on");
	blkc_close(&c);
}

static void test_io(struct daemon *d)
{
	uint8_t *expect = malloc(65536), *host = malloc(65536);
	struct blkc_res r;
	struct blkc c;
	int ret;

	if (blkc_open(&c, d->sock, 4, all_features(), all_pf()) < 0) {
		ok(false, "io: connect");
		return;
	}
	pattern(expect, 65536, 1);
	memcpy(c.data, expect, 65536);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 100, 65536, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && r.used_len == 1,
	   "64 KiB write completes OK with used length 1");
	host_pread(host, 65536, 100 * 512);
	ok(memcmp(host, expect, 65536) == 0, "the written data is in the image file");

	memset(c.data, 0, 65536);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 100, 65536, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && r.used_len == 65537 &&
	   memcmp(c.data, expect, 65536) == 0,
	   "reading it back returns the data, used length counts data and status");

	ret = blkc_req(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "flush completes OK");

	memset(c.data, 0, 64);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_GET_ID, 0, 20, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && r.used_len == 21 &&
	   !memcmp(c.data, SERIAL, strlen(SERIAL)) && c.data[strlen(SERIAL)] == 0,
	   "GET_ID returns the serial");

	for (unsigned int q = 1; q < 4; q++) {
		pattern(c.data, 4096, 10 + q);
		ret = blkc_req(&c, q, VIRTIO_BLK_T_OUT, 1000 + 8 * q, 4096, false, false, &r);
		ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "write on queue %u", q);
		pattern(expect, 4096, 10 + q);
		host_pread(host, 4096, (1000 + 8 * q) * 512);
		ok(memcmp(host, expect, 4096) == 0, "queue %u's write is in the image", q);
	}

	pattern(c.data, 8192, 5);
	ret = blkc_req(&c, 1, VIRTIO_BLK_T_OUT, 4096, 8192, false, true, &r);
	pattern(expect, 8192, 5);
	host_pread(host, 8192, 4096 * 512);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && memcmp(host, expect, 8192) == 0,
	   "a write through an indirect table lands in the image");
	memset(c.data, 0, 8192);
	ret = blkc_req(&c, 1, VIRTIO_BLK_T_IN, 4096, 8192, true, true, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && memcmp(c.data, expect, 8192) == 0,
	   "a read through an indirect table returns it");

	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, CAPACITY - 8, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "the last 4 KiB of the disk can be read");
	blkc_close(&c);
	free(expect);
	free(host);
}

static void test_discard_zeroes(struct daemon *d)
{
	uint8_t *host = malloc(1 << 20);
	uint64_t before, after;
	struct blkc_res r;
	struct blkc c;
	int ret;

	if (blkc_open(&c, d->sock, 1, all_features(), all_pf()) < 0) {
		ok(false, "discard: connect");
		return;
	}
	/* 1 MiB of data at 8 MiB, then discard it. */
	host_fill(0x5a, 1 << 20, 8 << 20);
	before = host_blocks();
	put_seg(&c, 0, (8 << 20) / 512, (1 << 20) / 512, 0);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_DISCARD, 0, 16, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "discard of 1 MiB completes OK");
	after = host_blocks();
	host_pread(host, 1 << 20, 8 << 20);
	ok(all_bytes(host, 1 << 20, 0), "the discarded range reads as zeros on the host");
	ok(after + 1024 <= before, "the image file gave back the space (%llu -> %llu blocks)",
	   (unsigned long long)before, (unsigned long long)after);

	/* Three segments at once. */
	host_fill(0x11, 3 << 20, 12 << 20);
	put_seg(&c, 0, (12 << 20) / 512, 8, 0);
	put_seg(&c, 1, (13 << 20) / 512, 16, 0);
	put_seg(&c, 2, (14 << 20) / 512, 2048, 0);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_DISCARD, 0, 48, false, false, &r);
	host_pread(host, 8 * 512, 12 << 20);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && all_bytes(host, 8 * 512, 0),
	   "a three-segment discard completes");
	host_pread(host, 1 << 20, 14 << 20);
	ok(all_bytes(host, 1 << 20, 0), "its last segment is zero on the host");
	host_pread(host, 512, (12 << 20) + 8 * 512);
	ok(host[0] == 0x11, "data between the segments is untouched");

	/* Write zeroes, with and without unmap. */
	host_fill(0x77, 1 << 20, 20 << 20);
	put_seg(&c, 0, (20 << 20) / 512, 1024, 0);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, false, &r);
	host_pread(host, 512 << 10, 20 << 20);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && all_bytes(host, 512 << 10, 0),
	   "write-zeroes without unmap zeroes the range");
	put_seg(&c, 0, (20 << 20) / 512 + 1024, 1024, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false, false, &r);
	host_pread(host, 512 << 10, (20 << 20) + (512 << 10));
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && all_bytes(host, 512 << 10, 0),
	   "write-zeroes with unmap zeroes the range");
	memset(c.data, 0xff, 512 << 10);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, (20 << 20) / 512, 512 << 10, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && all_bytes(c.data, 512 << 10, 0),
	   "the guest reads zeros back");
	blkc_close(&c);
	free(host);
}

/* SIGUSR1 logs each queue's indices: the evidence for a stalled guest. */
static void test_state_dump(struct daemon *d)
{
	struct blkc_res r;
	struct blkc c;
	bool logged;
	uint64_t cfg;
	long mark;
	int ret;

	if (blkc_open(&c, d->sock, 2, all_features(), all_pf()) < 0) {
		ok(false, "state dump: connect");
		return;
	}
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	ret |= blkc_req(&c, 0, VIRTIO_BLK_T_IN, 8, 4096, true, false, &r);
	/* A reply means every set-up message before it was handled. */
	ret |= front_get_config(&c.f, 0, sizeof(cfg), &cfg);
	mark = daemon_log_mark(d);
	logged = ret == 0 && kill(d->pid, SIGUSR1) == 0 &&
		 daemon_wait_log(d, mark, "received SIGUSR1", 2000) &&
		 daemon_wait_log(d, mark, "vq 0: size ", 2000) &&
		 daemon_wait_log(d, mark, "in flight 0, last_avail 2, used 2 (published 2), avail.idx 2", 2000) &&
		 daemon_wait_log(d, mark, "vq 1: size ", 2000);
	ok(logged, "SIGUSR1 logs the indices of every queue");
	if (!logged)
		daemon_log_diag(d, mark);
	ok(daemon_alive(d) && blkc_req(&c, 1, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r) == 0 &&
	   r.status == VIRTIO_BLK_S_OK, "and the daemon serves on");
	blkc_close(&c);
}

/*
 * QEMU swaps the call fd of a running ring when the guest masks or unmasks
 * the vector, without waiting for us: the daemon notifies the new fd once,
 * in case a completion went to the old one after QEMU stopped looking.
 */
static void test_call_swap(struct daemon *d)
{
	struct blkc_res r;
	struct blkc c;
	uint64_t cfg;
	int ret;

	if (blkc_open(&c, d->sock, 1, all_features(), all_pf()) < 0) {
		ok(false, "call swap: connect");
		return;
	}
	ret = front_get_config(&c.f, 0, sizeof(cfg), &cfg);
	ok(ret == 0 && fvq_wait(&c.f.vqs[0], 200) == 0,
	   "setting a ring up sends no notification");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	while (fvq_wait(&c.f.vqs[0], 0) > 0)
		;
	ret |= front_vq_swap_call(&c.f, 0);
	ok(ret == 0 && fvq_wait(&c.f.vqs[0], 2000) > 0,
	   "a new call fd on a running ring is notified once at once");
	ok(fvq_wait(&c.f.vqs[0], 0) == 0 &&
	   blkc_req(&c, 0, VIRTIO_BLK_T_IN, 8, 4096, true, false, &r) == 0 &&
	   r.status == VIRTIO_BLK_S_OK,
	   "and requests complete through the new fd");
	blkc_close(&c);
}

/* Add a 4 KiB read at sector; the chain is not yet visible. */
static int add_read(struct blkc *c, struct front_vq *vq, uint64_t sector)
{
	struct virtio_blk_outhdr h = { htole32(VIRTIO_BLK_T_IN), 0, htole64(sector) };
	struct front_buf b[3];

	memcpy(c->hdr, &h, sizeof(h));
	*c->status = 0xff;
	b[0] = (struct front_buf){ front_gpa(&c->f, c->hdr), 16, false };
	b[1] = (struct front_buf){ front_gpa(&c->f, c->data), 4096, true };
	b[2] = (struct front_buf){ front_gpa(&c->f, c->status), 1, true };
	return fvq_add(vq, b, 3, c);
}

/* Poll the used ring (no notification asked) for up to ms. */
static bool poll_used(struct front_vq *vq, int ms)
{
	void *cookie;
	uint32_t len;

	for (int i = 0; i < ms; i++) {
		if (fvq_get_used(vq, &cookie, &len) == 1)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * A driver whose stores reach the device late (a TCG guest with one vCPU
 * runs without memory barriers): it asks for a notification of entries
 * the device already published, or makes a request available without the
 * kick the device's avail_event asked for.  The daemon looks at its rings
 * again after a quiet spell, so neither side waits for good.
 */
static void test_late_driver_stores(struct daemon *d)
{
	struct front_vq *vq;
	struct blkc c;
	uint16_t before;
	bool done;

	if (blkc_open(&c, d->sock, 1, all_features(), all_pf()) < 0) {
		ok(false, "late stores: connect");
		return;
	}
	vq = &c.f.vqs[0];
	before = le16toh(vq->used->idx);
	/* used_event behind what is published: no notification is due. */
	vq->avail->ring[vq->num] = htole16((uint16_t)(before - 2));
	done = add_read(&c, vq, 0) >= 0;
	fvq_kick(vq);
	done = done && poll_used(vq, 5000);
	while (fvq_wait(vq, 0) > 0)
		;
	/* Now the late store: "notify me past `before'", already passed. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->avail->ring[vq->num] = htole16(before);
	ok(done && fvq_wait(vq, 15000) > 0,
	   "a used_event stored after the daemon published still gets its notification");

	/* A request made available with no kick at all. */
	done = add_read(&c, vq, 8) >= 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->avail->idx = htole16(vq->avail_idx);
	ok(done && poll_used(vq, 15000) && *c.status == VIRTIO_BLK_S_OK,
	   "a request made available without a kick is served");
	blkc_close(&c);
}

static void test_batch(struct daemon *d)
{
	struct front_vq *vq;
	struct blkc c;
	struct {
		uint8_t *hdr, *st;
	} slot[32];
	unsigned int done = 0, ok_count = 0;
	uint16_t base = 0;
	void *cookie;
	uint32_t len;
	int ret;

	if (blkc_open(&c, d->sock, 1, all_features(), all_pf()) < 0) {
		ok(false, "batch: connect");
		return;
	}
	vq = &c.f.vqs[0];
	for (unsigned int i = 0; i < 32; i++) {
		struct virtio_blk_outhdr h = { htole32(VIRTIO_BLK_T_IN), 0, htole64(8 * i) };
		struct front_buf b[3];

		slot[i].hdr = front_alloc(&c.f, 16, 16, NULL);
		slot[i].st = front_alloc(&c.f, 1, 1, NULL);
		memcpy(slot[i].hdr, &h, sizeof(h));
		*slot[i].st = 0xff;
		b[0] = (struct front_buf){ front_gpa(&c.f, slot[i].hdr), 16, false };
		b[1] = (struct front_buf){ front_gpa(&c.f, c.data + 4096 * i), 4096, true };
		b[2] = (struct front_buf){ front_gpa(&c.f, slot[i].st), 1, true };
		fvq_add(vq, b, 3, &slot[i]);
	}
	fvq_kick(vq);
	for (int waits = 0; done < 32 && waits < 50;) {
		int r = fvq_get_used(vq, &cookie, &len);

		if (r == 1) {
			done++;
			continue;
		}
		fvq_enable_cb(vq);
		if (fvq_get_used(vq, &cookie, &len) == 1) {
			done++;
			continue;
		}
		if (fvq_wait(vq, 100) == 0)
			waits++;
	}
	for (unsigned int i = 0; i < 32; i++)
		ok_count += *slot[i].st == VIRTIO_BLK_S_OK;
	ok(done == 32 && ok_count == 32, "32 requests kicked at once all complete OK");
	ret = front_vq_stop(&c.f, 0, &base);
	ok(ret == 0 && base == 32,
	   "GET_VRING_BASE reports the 32 requests taken (got %u)", base);
	blkc_close(&c);
}

/*
 * Stop a queue while its requests are in flight: GET_VRING_BASE must answer
 * only after every request it took has completed and been published.
 */
static void test_stop_drains(struct daemon *d)
{
	enum { N = 40, LEN = 131072 };	/* 3 descriptors each, 128 in the ring */
	uint8_t wce = 0;
	struct front_vq *vq;
	uint8_t *st[N];
	uint16_t base = 0, used;
	unsigned int good = 0;
	struct blkc c;
	int ret;

	if (blkc_open(&c, d->sock, 1, all_features(), all_pf()) < 0) {
		ok(false, "stop: connect");
		return;
	}
	vq = &c.f.vqs[0];
	/* Write-through: each write waits for the disk, so some are in flight. */
	front_set_config(&c.f, offsetof(struct virtio_blk_config, wce), 1, &wce);
	for (unsigned int i = 0; i < N; i++) {
		/* Writes into a never-written area: the file system allocates. */
		struct virtio_blk_outhdr h = {
			htole32(VIRTIO_BLK_T_OUT), 0, htole64(65536 + i * (LEN / 512))
		};
		uint8_t *hdr = front_alloc(&c.f, 16, 16, NULL);
		struct front_buf b[3];

		st[i] = front_alloc(&c.f, 1, 1, NULL);
		*st[i] = 0xff;
		memcpy(hdr, &h, sizeof(h));
		b[0] = (struct front_buf){ front_gpa(&c.f, hdr), 16, false };
		b[1] = (struct front_buf){ front_gpa(&c.f, c.data + (i % 8) * LEN), LEN, false };
		b[2] = (struct front_buf){ front_gpa(&c.f, st[i]), 1, true };
		if (fvq_add(vq, b, 3, st[i]) < 0)
			break;
	}
	fvq_kick(vq);
	/* Once anything completed, the device has taken the whole batch. */
	for (int i = 0; i < 5000 && READ_ONCE(vq->used->idx) == 0; i++)
		usleep(100);
	ret = front_vq_stop(&c.f, 0, &base);
	used = le16toh(READ_ONCE(vq->used->idx));
	for (unsigned int i = 0; i < N; i++)
		good += *st[i] == VIRTIO_BLK_S_OK;
	ok(ret == 0 && base == N && used == N && good == N,
	   "GET_VRING_BASE answers after all %u requests completed (base %u, used %u, ok %u)",
	   N, base, used, good);
	wce = 1;
	front_set_config(&c.f, offsetof(struct virtio_blk_config, wce), 1, &wce);
	blkc_close(&c);
}

/*
 * Guest memory in several regions at non-zero mmap offsets, announced with
 * ADD_MEM_REG and with SET_MEM_TABLE, and a data buffer straddling a region
 * boundary (the daemon must split it into two iovecs).
 */
static void test_regions(struct daemon *d)
{
	static const struct {
		unsigned int parts;
		uint64_t pf_drop;
		const char *how;
	} cases[] = {
		{ 4, 0, "4 regions by ADD_MEM_REG" },
		{ 8, BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS), "8 regions by SET_MEM_TABLE" },
	};
	uint8_t expect[8192], host[8192];

	for (unsigned int k = 0; k < ARRAY_SIZE(cases); k++) {
		struct blkc_res r;
		struct blkc c;
		uint64_t part;
		int ret;

		ret = blkc_open_parts(&c, d->sock, 1, all_features(),
				      all_pf() & ~cases[k].pf_drop, cases[k].parts);
		if (ret < 0) {
			ok(false, "%s: connect (%s)", cases[k].how, strerror(-ret));
			continue;
		}
		/* 8 KiB across the boundary between the 2nd and 3rd regions. */
		part = c.f.mem.size / cases[k].parts;
		c.data = c.f.mem.base + 2 * part - 4096;
		pattern(expect, sizeof(expect), 40 + k);
		memcpy(c.data, expect, sizeof(expect));
		ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 3000, 8192, false, false, &r);
		host_pread(host, sizeof(host), 3000 * 512);
		ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && !memcmp(host, expect, 8192),
		   "%s: a write straddling two regions lands in the image", cases[k].how);
		memset(c.data, 0, 8192);
		ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 3000, 8192, true, false, &r);
		ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && !memcmp(c.data, expect, 8192),
		   "%s: a read straddling two regions returns it", cases[k].how);
		blkc_close(&c);
	}
}

static void test_variants(struct daemon *d)
{
	struct blkc_res r;
	struct blkc c;
	int ret;

	ret = blkc_open(&c, d->sock, 1, all_features() & ~BIT_ULL(VIRTIO_RING_F_EVENT_IDX),
			BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_CONFIG));
	ok(ret == 0, "connect with SET_MEM_TABLE and without EVENT_IDX");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "I/O works with SET_MEM_TABLE and no EVENT_IDX");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 8, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "and keeps working");
	blkc_close(&c);

	ret = blkc_open(&c, d->sock, 1, all_features() & ~BIT_ULL(VIRTIO_BLK_F_FLUSH),
			all_pf() & ~BIT_ULL(VU_PF_REPLY_ACK));
	memset(c.data, 0x3c, 4096);
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 64, 4096, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK,
	   "writes work without FLUSH negotiated (writethrough) and without REPLY_ACK");
	blkc_close(&c);
}

/* The fd count once the daemon has finished with earlier connections. */
static void test_reconnect(struct daemon *d)
{
	int before = daemon_settled_fd_count(d), after = -1;
	struct blkc_res r;
	struct blkc c;
	int ret;

	for (int i = 0; i < 3; i++) {
		ret = blkc_open(&c, d->sock, 2, all_features(), all_pf());
		ret = ret ? ret : blkc_req(&c, i % 2, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
		ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "connection %d serves I/O", i + 1);
		blkc_close(&c);
	}
	after = daemon_wait_fds(d, before, 5000);
	ok(daemon_alive(d) && after == before,
	   "after disconnects the daemon holds the same %d fds (now %d)", before, after);
}

static void test_one_front_end(struct daemon *d)
{
	struct blkc first, third;
	struct front second;
	struct blkc_res r;
	char buf[1];
	int ret;

	ok(blkc_open(&first, d->sock, 1, all_features(), all_pf()) == 0,
	   "first front end connects");
	ret = front_connect(&second, d->sock, 1000);
	if (ret == 0)
		front_send(&second, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0);
	second.timeout_ms = 5000;
	ok(ret == 0 && front_recv_reply(&second, VU_GET_FEATURES,
					 &(struct vu_msg){ 0 }) < 0 &&
	   recv(second.sock, buf, sizeof(buf), 0) == 0,
	   "a second front end is refused: its connection is closed unanswered");
	front_close(&second);
	ok(daemon_log_has(d, "refusing a second front end"),
	   "the refusal is logged");
	ret = blkc_req(&first, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK,
	   "the first front end is still served");
	blkc_close(&first);
	ok(blkc_open(&third, d->sock, 1, all_features(), all_pf()) == 0 &&
	   blkc_req(&third, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r) == 0 &&
	   r.status == VIRTIO_BLK_S_OK,
	   "once it disconnects, the next front end is served");
	blkc_close(&third);
}

/* A daemon of its own with extra arguments, and a client connected to it. */
static bool start_with(const char *const *args, struct daemon *d,
		       struct blkc *c, const char *what)
{
	if (daemon_start(d, args) == 0 &&
	    blkc_open(c, d->sock, 1, all_features(), all_pf()) == 0)
		return true;
	ok(false, "%s: daemon starts and a front end connects", what);
	daemon_stop(d);
	return false;
}

static void test_read_only(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--read-only", NULL };
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	host_fill(0x42, 4096, 0);
	if (!start_with(args, &d, &c, "read-only: start"))
		return;
	ok(c.f.features & BIT_ULL(VIRTIO_BLK_F_RO) &&
	   !(c.f.features & BIT_ULL(VIRTIO_BLK_F_DISCARD)) &&
	   !(c.f.features & BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES)),
	   "--read-only offers RO and neither DISCARD nor WRITE_ZEROES");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && c.data[0] == 0x42, "reads work");
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "read-only daemon exits 0 on SIGTERM");
}

static void test_block_size_4k(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--logical-block-size=4096", NULL };
	struct virtio_blk_config cfg;
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	if (!start_with(args, &d, &c, "4k: start"))
		return;
	ok(front_get_config(&c.f, 0, 57, &cfg) == 0 && le32toh(cfg.blk_size) == 4096,
	   "--logical-block-size=4096 is reported in blk_size");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_IN, 8, 4096, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "an aligned 4 KiB read works");
	blkc_close(&c);
	daemon_stop(&d);
}

static void test_writeback_cache(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--cache=writeback", NULL };
	uint8_t host[4096], expect[4096];
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	int ret;

	if (!start_with(args, &d, &c, "writeback: start"))
		return;
	pattern(c.data, 4096, 77);
	pattern(expect, 4096, 77);
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_OUT, 2048, 4096, false, false, &r);
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, &r);
	host_pread(host, 4096, 2048 * 512);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK && !memcmp(host, expect, 4096),
	   "--cache=writeback: write and flush land in the image");
	blkc_close(&c);
	daemon_stop(&d);
}

/*
 * The cache modes.  Each starts with the writeback field the mode gives;
 * what a write leaves in the host page cache, read back with cachestat(2),
 * shows whether it went around the page cache (O_DIRECT) and whether it
 * was durable when it completed (no dirty page left, none under writeback).
 */
struct cache_case {
	const char *mode;
	bool wce;		/* writeback at start-up */
	bool direct;		/* O_DIRECT: nothing stays in the page cache */
};

static const struct cache_case cache_cases[] = {
	{ "none", true, true },
	{ "writeback", true, false },
	{ "writethrough", false, false },
	{ "directsync", false, true },
};

#define CACHE_AREA	((48u << 20) / 512)	/* 1 MiB per case from here */
#define CACHE_LEN	65536u

/* A 64 KiB write at sector lands in the image; ps: the page cache just after. */
static bool cache_write(struct blkc *c, uint64_t sector, unsigned int seed,
			struct page_state *ps, bool *seen)
{
	uint8_t *expect = malloc(CACHE_LEN), *host = malloc(CACHE_LEN);
	struct blkc_res r;
	bool landed;
	int ret;

	pattern(c->data, CACHE_LEN, seed);
	pattern(expect, CACHE_LEN, seed);
	ret = blkc_req(c, 0, VIRTIO_BLK_T_OUT, sector, CACHE_LEN, false, false, &r);
	/* Before reading the file, which would fill the page cache. */
	*seen = page_state(env.img, sector * 512, CACHE_LEN, ps) == 0;
	host_pread(host, CACHE_LEN, sector * 512);
	landed = ret == 0 && r.status == VIRTIO_BLK_S_OK &&
		 !memcmp(host, expect, CACHE_LEN);
	free(expect);
	free(host);
	return landed;
}

/* What the page cache must show after a write with writeback wce. */
static void check_pages(const struct cache_case *k, bool seen,
			const struct page_state *ps, bool wce, const char *what)
{
	if (!seen) {
		tap_skip("cachestat(2) cannot see this image's page cache");
		return;
	}
	if (k->direct)
		ok(ps->cached == 0, "--cache=%s: %s went around the page cache (%llu pages cached)",
		   k->mode, what, (unsigned long long)ps->cached);
	else if (wce)
		ok(ps->cached > 0 && ps->dirty > 0,
		   "--cache=%s: %s is left in the page cache, dirty (%llu cached, %llu dirty)",
		   k->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty);
	else
		ok(ps->cached > 0 && ps->dirty == 0 && ps->writeback == 0,
		   "--cache=%s: %s is durable when it completes (%llu cached, %llu dirty, %llu under writeback)",
		   k->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty, (unsigned long long)ps->writeback);
}

/* Turn writeback to wce and read it back. */
static bool cache_set_wce(struct blkc *c, uint8_t wce)
{
	struct virtio_blk_config cfg;

	return front_set_config(&c->f, offsetof(struct virtio_blk_config, wce), 1, &wce) == 0 &&
	       front_get_config(&c->f, 0, 57, &cfg) == 0 && cfg.wce == wce;
}

static void test_cache_mode(const struct cache_case *k, uint64_t sector)
{
	char arg[64];
	const char *args[] = { env.img_arg, env.aio_arg, arg, NULL };
	struct virtio_blk_config cfg;
	struct page_state ps;
	struct daemon d;
	struct blkc_res r;
	struct blkc c;
	bool seen;
	int ret;

	snprintf(arg, sizeof(arg), "--cache=%s", k->mode);
	if (!start_with(args, &d, &c, arg))
		return;
	ok(daemon_log_has(&d, arg + 2), "%s: the start-up line names the mode", arg);
	ok(front_get_config(&c.f, 0, 57, &cfg) == 0 && cfg.wce == k->wce,
	   "%s: the config space reports writeback=%d", arg, k->wce);
	ok(cache_write(&c, sector, 80, &ps, &seen), "%s: a write lands in the image", arg);
	check_pages(k, seen, &ps, k->wce, "a write at start-up");

	/* The guest may change the write cache in any mode. */
	ok(cache_set_wce(&c, !k->wce), "%s: SET_CONFIG writeback=%d is taken", arg, !k->wce);
	ok(cache_write(&c, sector + 128, 81, &ps, &seen),
	   "%s: a write lands in the image with writeback=%d", arg, !k->wce);
	check_pages(k, seen, &ps, !k->wce, "a write after SET_CONFIG");
	ret = blkc_req(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "%s: flush completes OK", arg);
	if (!k->direct && page_state(env.img, sector * 512, 2 * CACHE_LEN, &ps) == 0)
		ok(ps.dirty == 0 && ps.writeback == 0,
		   "%s: after the flush no page of either write is dirty", arg);
	cache_set_wce(&c, 1);
	blkc_close(&c);

	/* A driver that cannot flush gets write-through, whatever writeback says. */
	ret = blkc_open(&c, d.sock, 1, all_features() & ~BIT_ULL(VIRTIO_BLK_F_FLUSH), all_pf());
	if (!ok(ret == 0, "%s: a driver without FLUSH connects", arg)) {
		daemon_stop(&d);
		return;
	}
	ok(cache_write(&c, sector + 256, 82, &ps, &seen),
	   "%s: without FLUSH a write lands in the image", arg);
	check_pages(k, seen, &ps, false, "a write without FLUSH negotiated");
	blkc_close(&c);
	ok(daemon_stop(&d) == 0, "%s: the daemon exits 0 on SIGTERM", arg);
}

static void test_cache_modes(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(cache_cases); i++)
		test_cache_mode(&cache_cases[i], CACHE_AREA + i * 2048);
}

static void test_inherited_fd(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct blkc_res r;
	struct blkc c;
	int lfd, status, ret;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/inherited.sock", harness_dir());
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0) {
		ok(false, "--fd: listening socket");
		return;
	}
	pid = fork();
	if (pid == 0) {
		const char *bin = getenv("VHOST_URING_BLK");

		dup2(lfd, 3);
		execl(bin ? bin : "./vhost-uring-blk", "vhost-uring-blk", "--fd=3",
		      env.img_arg, env.aio_arg, NULL);
		_exit(127);
	}
	close(lfd);
	ret = blkc_open(&c, sa.sun_path, 1, all_features(), all_pf());
	ret = ret ? ret : blkc_req(&c, 0, VIRTIO_BLK_T_IN, 0, 512, true, false, &r);
	ok(ret == 0 && r.status == VIRTIO_BLK_S_OK, "--fd with an inherited listening socket serves I/O");
	blkc_close(&c);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and exits 0 on SIGTERM");
}

static void test_sigint(void)
{
	const char *args[] = { env.img_arg, env.aio_arg, NULL };
	struct daemon d;
	struct stat st;
	int status;

	if (daemon_start(&d, args) < 0) {
		ok(false, "SIGINT: start");
		return;
	}
	kill(d.pid, SIGINT);
	ok(waitpid(d.pid, &status, 0) == d.pid && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0 && stat(d.sock, &st) < 0,
	   "SIGINT ends the daemon with status 0 and removes its socket");
	d.pid = -1;
}

/* The socket's permissions: 0600 unless asked otherwise, umask or not. */
static void test_socket_mode(const struct daemon *first)
{
	const char *args[] = { env.img_arg, env.aio_arg, "--socket-mode=0640", NULL };
	struct daemon d;
	struct stat st;
	mode_t old = umask(0);

	if (stat(first->sock, &st) < 0)
		st.st_mode = 0;
	ok((st.st_mode & 0777) == 0600,
	   "the socket is created with mode 0600 (%04o)", st.st_mode & 0777);
	if (daemon_start(&d, args) < 0) {
		ok(false, "a daemon with --socket-mode=0640 starts");
		umask(old);
		return;
	}
	if (stat(d.sock, &st) < 0)
		st.st_mode = 0;
	ok((st.st_mode & 0777) == 0640,
	   "--socket-mode=0640 gives mode 0640 under umask 0 (%04o)", st.st_mode & 0777);
	daemon_stop(&d);
	umask(old);
}

static void test_cli(void)
{
	char out[4096];
	const char *bad_opt[] = { "--socket-path=/tmp/x", env.img_arg, "--bogus", NULL };
	const char *no_file[] = { "--socket-path=/tmp/x", "--blk-file=/nonexistent/img", NULL };
	const char *both[] = { "--socket-path=/tmp/x", "--fd=3", env.img_arg, NULL };
	const char *caps[] = { "--print-capabilities", NULL };
	const char *bad_lbs[] = { "--socket-path=/tmp/x", env.img_arg, "--logical-block-size=1024", NULL };
	const char *bad_mode[] = { "--socket-path=/tmp/x", env.img_arg, "--socket-mode=0999", NULL };
	const char *bad_cache[] = { "--socket-path=/tmp/x", env.img_arg, "--cache=unsafe", NULL };

	ok(run_daemon_cmd(caps, out, sizeof(out)) == 0 &&
	   !strcmp(out, "{\"type\": \"block\", \"features\": [\"read-only\", \"blk-file\"]}\n"),
	   "--print-capabilities prints the JSON capabilities");
	ok(run_daemon_cmd(bad_opt, out, sizeof(out)) == 1, "an unknown option exits 1");
	ok(run_daemon_cmd(no_file, out, sizeof(out)) == 1 &&
	   strchr(out, '\n') == out + strlen(out) - 1 && strstr(out, "/nonexistent/img"),
	   "a missing image exits 1 with one line naming it");
	ok(run_daemon_cmd(both, out, sizeof(out)) == 1 && strstr(out, "exactly one"),
	   "--socket-path with --fd exits 1");
	ok(run_daemon_cmd(bad_lbs, out, sizeof(out)) == 1, "--logical-block-size=1024 exits 1");
	ok(run_daemon_cmd(bad_mode, out, sizeof(out)) == 1 && strstr(out, "octal"),
	   "--socket-mode=0999 exits 1");
	ok(run_daemon_cmd(bad_cache, out, sizeof(out)) == 1 &&
	   strchr(out, '\n') == out + strlen(out) - 1 &&
	   strstr(out, "--cache=unsafe: expected none, writeback, writethrough or directsync"),
	   "--cache=unsafe exits 1 with one line listing the cache modes");
	if (getenv("TEST_EXPECT_FALLBACK")) {
		const char *uring[] = { "--socket-path=/tmp/x", env.img_arg, "--aio=io_uring", NULL };

		ok(run_daemon_cmd(uring, out, sizeof(out)) == 1 &&
		   strstr(out, "io_uring_setup failed: Operation not permitted"),
		   "--aio=io_uring where io_uring is refused exits 1 saying why");
	}
}

int main(void)
{
	struct daemon d;
	struct stat st;

	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-blk-front", 0);
	if (!test_env_init(&env, IMG_SIZE))
		return 0;
	std_args[4] = getenv("TEST_EXTRA_ARG");
	tap_diag("engine %s, image %s%s%s", env.aio, env.img, std_args[4] ? ", " : "",
		 std_args[4] ? std_args[4] : "");

	if (daemon_start(&d, std_args) < 0) {
		ok(false, "daemon starts");
		harness_cleanup();
		return tap_done();
	}
	if (getenv("TEST_EXPECT_FALLBACK"))
		ok(daemon_log_has(&d, "io_uring_setup failed (Operation not permitted); falling back to libaio") &&
		   daemon_log_has(&d, "cache=none, libaio"),
		   "--aio=auto falls back to libaio and logs why");
	test_negotiation(&d);
	test_config(&d);
	test_io(&d);
	test_discard_zeroes(&d);
	test_batch(&d);
	test_state_dump(&d);
	test_call_swap(&d);
	test_late_driver_stores(&d);
	test_stop_drains(&d);
	test_variants(&d);
	test_regions(&d);
	test_reconnect(&d);
	test_one_front_end(&d);
	test_socket_mode(&d);
	ok(daemon_alive(&d), "the daemon survived everything above");
	ok(daemon_stop(&d) == 0, "SIGTERM ends the daemon with status 0");
	ok(stat(d.sock, &st) < 0 && errno == ENOENT, "and it removed its socket");

	test_read_only();
	test_block_size_4k();
	test_writeback_cache();
	test_cache_modes();
	test_inherited_fd();
	test_sigint();
	test_cli();
	harness_cleanup();
	return tap_done();
}
