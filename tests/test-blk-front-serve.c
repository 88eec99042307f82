// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-front-serve.c: one vhost-uring-blk, started with --num-queues=4
 * (and $TEST_EXTRA_ARG), serving the project's own vhost-user front end
 * connection after connection, with no VM: negotiation, config space, reads
 * and writes landing in the image file, flush, discard, write-zeroes,
 * GET_ID, several queues, batches, the state dump, call fd swaps, late
 * driver stores, draining stops, memory regions, disconnect and reconnect,
 * one front end at a time, and a clean exit on SIGTERM.  Daemons started
 * with other options are test-blk-front-options.c's; refusals of bad
 * requests and messages are the hostile suites' (test-hostile-msg-proto.c,
 * test-hostile-msg-mem.c, test-hostile-ring.c).
 */
#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "blk-front-env.h"
#include "harness.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define SERIAL		"vu-test-serial-01"

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

/* The daemon's arguments, and $TEST_EXTRA_ARG (e.g. --poll-us=50). */
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

int main(void)
{
	struct daemon d;
	struct stat st;

	std_args[4] = getenv("TEST_EXTRA_ARG");
	if (!blk_front_init("test-blk-front-serve", std_args[4]))
		return 0;
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
	harness_cleanup();
	return tap_done();
}
