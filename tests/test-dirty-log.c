// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-dirty-log.c: dirty logging for live migration, through the project's
 * front end and real daemons.  The test knows every buffer it made
 * device-writable, so it computes the exact set of pages the device may
 * write (those buffers and the used rings) and compares it with the log the
 * daemon kept: no page may be missing, and no other page may be marked.
 *
 *  - blk: reads, writes and GET_ID with buffers split at odd offsets across
 *    pages and across two memory regions, direct and indirect, on every
 *    queue, batches of requests in flight together;
 *  - a ring with LOG_ALL on and no log yet takes nothing until the log
 *    comes;
 *  - SET_LOG_BASE replaced with requests in flight, LOG_ALL off and on
 *    again, GET_VRING_BASE with requests in flight;
 *  - scsi: data-in, responses with sense data, and a TMF on the control
 *    queue, on both request queues;
 *  - hostile SET_LOG_BASE messages: refused with a log line, no fd kept,
 *    the daemon serves on.
 *
 * The engine comes from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_scsi.h>

#include "front_log.h"
#include "harness.h"
#include "tap.h"
#include "util.h"

#define IMG_SIZE	(32u << 20)
#define NQ		2
#define BATCH		16
#define MAX_SEGS	4
#define PAGE		4096u
#define DATA_AREA	(4u << 20)

static struct test_env env;
/* The buffers of the last batch's requests, in avail ring order. */
static struct front_buf batch_bufs[BATCH][MAX_SEGS + 2];
static unsigned int batch_n[BATCH];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* ---- blk requests with buffers spread over guest memory ------------- */

struct blk_area {
	uint8_t *meta;		/* 2 pages per request: header, status */
	uint8_t *data;		/* DATA_AREA bytes */
	struct vring_desc *tables;	/* BATCH indirect tables of 8 */
};

static int area_init(struct blkc *c, struct blk_area *a)
{
	a->meta = front_alloc(&c->f, 2ull * BATCH * PAGE, PAGE, NULL);
	a->data = front_alloc(&c->f, DATA_AREA, PAGE, NULL);
	a->tables = front_alloc(&c->f, BATCH * 8 * 16, 16, NULL);
	return a->meta && a->data && a->tables ? 0 : -ENOMEM;
}

/* Cut len bytes into up to MAX_SEGS buffers at random places of the area. */
static unsigned int data_bufs(struct blkc *c, struct blk_area *a, uint32_t len,
			      bool write, struct front_buf *b)
{
	unsigned int n = 1 + rnd(MAX_SEGS);
	uint32_t left = len;

	if (n > len)
		n = 1;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t part = i == n - 1 ? left : 1 + rnd(left - (n - 1 - i));
		uint32_t off = rnd(DATA_AREA - part);

		b[i] = (struct front_buf){ front_gpa(&c->f, a->data + off), part,
					   write };
		left -= part;
	}
	return n;
}

/*
 * Queue request i of a batch on queue q: a read, a write or a GET_ID.
 * Its device-writable pages go into want.
 */
static int blk_queue_one(struct blkc *c, struct blk_area *a, unsigned int q,
			 unsigned int i, bool indirect, struct front_pages *want)
{
	uint8_t *hdr = a->meta + 2ull * i * PAGE + rnd(PAGE - 16);
	uint8_t *st = a->meta + (2ull * i + 1) * PAGE + rnd(PAGE);
	struct front_buf b[MAX_SEGS + 2];
	struct virtio_blk_outhdr h = { 0 };
	unsigned int n = 0, kind = rnd(10);
	int ret;

	h.sector = htole64(rnd(IMG_SIZE / 512 - 64));
	b[n++] = (struct front_buf){ front_gpa(&c->f, hdr), 16, false };
	if (kind < 6) {
		h.type = htole32(VIRTIO_BLK_T_IN);
		n += data_bufs(c, a, 512 * (1 + rnd(64)), true, b + n);
	} else if (kind < 9) {
		h.type = htole32(VIRTIO_BLK_T_OUT);
		n += data_bufs(c, a, 512 * (1 + rnd(64)), false, b + n);
	} else {
		h.type = htole32(VIRTIO_BLK_T_GET_ID);
		n += data_bufs(c, a, 20, true, b + n);
	}
	b[n++] = (struct front_buf){ front_gpa(&c->f, st), 1, true };
	memcpy(hdr, &h, sizeof(h));
	*st = 0xff;
	front_pages_add_writable(want, b, n);
	memcpy(batch_bufs[i], b, n * sizeof(*b));
	batch_n[i] = n;
	if (indirect)
		ret = fvq_add_indirect(&c->f.vqs[q], a->tables + 8 * i,
				       front_gpa(&c->f, a->tables + 8 * i), b, n,
				       st);
	else
		ret = fvq_add(&c->f.vqs[q], b, n, st);
	return ret < 0 ? ret : 0;
}

/* Reap n used entries of vq (5 s at most); each status byte must be OK. */
static int reap(struct front_vq *vq, unsigned int n, bool blk)
{
	unsigned int got = 0;

	for (int waited = 0; got < n;) {
		void *cookie;
		uint32_t len;
		int ret = fvq_get_used(vq, &cookie, &len);

		if (ret == 0) {
			fvq_enable_cb(vq);
			ret = fvq_get_used(vq, &cookie, &len);
		}
		if (ret < 0)
			return ret;
		if (ret == 1) {
			got++;
			if (blk && *(uint8_t *)cookie != VIRTIO_BLK_S_OK)
				return -EIO;
			continue;
		}
		if (waited >= 5000)
			return -ETIMEDOUT;
		if (fvq_wait(vq, 50) == 0)
			waited += 50;
	}
	return 0;
}

/* Queue a batch on q and kick; want gets its pages and every used ring. */
static int blk_submit(struct blkc *c, struct blk_area *a, unsigned int q,
		      bool indirect, struct front_pages *want)
{
	for (unsigned int i = 0; i < BATCH; i++) {
		int ret = blk_queue_one(c, a, q, i, indirect, want);

		if (ret < 0)
			return ret;
	}
	front_pages_add_used_ring(want, &c->f, q);
	fvq_kick(&c->f.vqs[q]);
	return 0;
}

static int blk_batch(struct blkc *c, struct blk_area *a, unsigned int q,
		     bool indirect, struct front_pages *want)
{
	int ret = blk_submit(c, a, q, indirect, want);

	return ret < 0 ? ret : reap(&c->f.vqs[q], BATCH, true);
}

static unsigned int nvqs_started(const struct front *f)
{
	unsigned int n = 0;

	while (n < FRONT_MAX_VQS && f->vqs[n].num)
		n++;
	return n;
}

/*
 * got must hold every page of want, and nothing beyond want and the used
 * rings of f's queues (a ring the device looked at gets its flags or
 * avail_event written, whether or not it completed anything).
 */
static bool same_pages(const struct front *f, const struct front_pages *want,
		       const struct front_pages *got, const char *what)
{
	struct front_pages may;
	struct front_pages_diff d, e;

	if (front_pages_create(f, &may, false) < 0)
		return false;
	front_pages_merge(&may, want);
	for (unsigned int v = 0; v < nvqs_started(f); v++)
		front_pages_add_used_ring(&may, f, v);
	front_pages_diff(want, got, &d);
	front_pages_diff(&may, got, &e);
	front_pages_destroy(&may);
	d.extra = e.extra;
	d.first_extra = e.first_extra;
	if (d.missing)
		tap_diag("%s: %llu pages missing from the log, first at gpa 0x%llx",
			 what, (unsigned long long)d.missing,
			 (unsigned long long)d.first_missing);
	if (d.extra)
		tap_diag("%s: %llu pages logged that the device never had to write, first at gpa 0x%llx",
			 what, (unsigned long long)d.extra,
			 (unsigned long long)d.first_extra);
	return !d.missing && !d.extra;
}

/* Strictly the same set. */
static bool equal_pages(const struct front_pages *a,
			const struct front_pages *b, const char *what)
{
	struct front_pages_diff d;

	front_pages_diff(a, b, &d);
	if (d.missing || d.extra)
		tap_diag("%s: %llu pages cleared and %llu marked, first at 0x%llx / 0x%llx",
			 what, (unsigned long long)d.missing,
			 (unsigned long long)d.extra,
			 (unsigned long long)d.first_missing,
			 (unsigned long long)d.first_extra);
	return !d.missing && !d.extra;
}

static bool is_empty(const struct front_pages *p)
{
	for (uint64_t i = 0; i < p->size; i++) {
		if (p->bits[i])
			return false;
	}
	return true;
}

/* A client on d with two memory regions, logging negotiable but off. */
static int blk_client(struct daemon *d, struct blkc *c, struct blk_area *a)
{
	uint64_t pf = BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
		      BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_LOG_SHMFD) |
		      BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
	int ret = blkc_open_parts(c, d->sock, NQ, ~BIT_ULL(VHOST_F_LOG_ALL),
				  pf, 2);

	return ret < 0 ? ret : area_init(c, a);
}

/* ---- blk cases ------------------------------------------------------ */

static void blk_exact(struct blkc *c, struct blk_area *a,
		      struct front_pages *log, struct front_pages *want)
{
	for (unsigned int q = 0; q < NQ; q++) {
		for (int ind = 0; ind < 2; ind++) {
			bool good = true;

			for (int round = 0; round < 4 && good; round++) {
				front_pages_clear(log);
				front_pages_clear(want);
				good = blk_batch(c, a, q, ind, want) == 0 &&
				       same_pages(&c->f, want, log, "batch");
			}
			ok(good, "queue %u%s: every page the device wrote is logged, and no other",
			   q, ind ? ", indirect tables" : "");
		}
	}
}

static void blk_replace(struct blkc *c, struct blk_area *a,
			struct front_pages *log, struct front_pages *want)
{
	struct front_pages log2, both, snap;
	bool good;

	if (front_pages_create(&c->f, &log2, true) < 0 ||
	    front_pages_create(&c->f, &both, false) < 0 ||
	    front_pages_create(&c->f, &snap, false) < 0) {
		ok(false, "cannot make a second log");
		return;
	}
	front_pages_clear(log);
	front_pages_clear(want);
	good = blk_submit(c, a, 0, false, want) == 0 &&
	       blk_submit(c, a, 1, true, want) == 0 &&
	       front_log_share(&c->f, &log2) == 0 &&
	       reap(&c->f.vqs[0], BATCH, true) == 0 &&
	       reap(&c->f.vqs[1], BATCH, true) == 0;
	front_pages_merge(&both, log);
	front_pages_merge(&both, &log2);
	ok(good && same_pages(&c->f, want, &both, "old and new log"),
	   "SET_LOG_BASE replaced with requests in flight: the old and the new log together hold every page written");
	front_pages_clear(&snap);
	front_pages_merge(&snap, log);
	front_pages_clear(&log2);
	front_pages_clear(want);
	good = blk_batch(c, a, 1, false, want) == 0;
	ok(good && same_pages(&c->f, want, &log2, "new log") &&
	   equal_pages(&snap, log, "old log"),
	   "after the swap the device marks the new log only");
	/* The new log stays the daemon's: hand the caller's back to it. */
	ok(front_log_share(&c->f, log) == 0, "the first log is taken back");
	front_pages_destroy(&log2);
	front_pages_destroy(&both);
	front_pages_destroy(&snap);
}

static void blk_off_on(struct blkc *c, struct blk_area *a,
		       struct front_pages *log, struct front_pages *want)
{
	bool good;

	good = front_log_enable(&c->f, false) == 0;
	front_pages_clear(log);
	front_pages_clear(want);
	good = good && blk_batch(c, a, 0, false, want) == 0 &&
	       blk_batch(c, a, 1, true, want) == 0;
	ok(good && is_empty(log), "LOG_ALL turned off: the device marks nothing");
	good = front_log_enable(&c->f, true) == 0;
	front_pages_clear(log);
	front_pages_clear(want);
	good = good && blk_batch(c, a, 0, true, want) == 0 &&
	       blk_batch(c, a, 1, false, want) == 0;
	ok(good && same_pages(&c->f, want, log, "on again"),
	   "LOG_ALL turned on again: every page written is logged, and no other");
}

/*
 * GET_VRING_BASE must answer only once every request the ring took is
 * published and logged.  The ring may not have taken the whole batch when
 * the stop came: the rest is for whoever starts it at the base next.
 */
static void blk_stop(struct blkc *c, struct blk_area *a,
		     struct front_pages *log, struct front_pages *want)
{
	struct front_vq *vq = &c->f.vqs[0];
	uint16_t start = vq->avail_idx, base = 0, used, taken;
	bool good;

	front_pages_clear(log);
	good = blk_submit(c, a, 0, false, want) == 0 &&
	       front_vq_stop(&c->f, 0, &base) == 0;
	used = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
	taken = base - start;
	front_pages_clear(want);
	for (unsigned int i = 0; i < taken && i < BATCH; i++)
		front_pages_add_writable(want, batch_bufs[i], batch_n[i]);
	if (taken)
		front_pages_add_used_ring(want, &c->f, 0);
	ok(good && used == base && taken <= BATCH &&
	   same_pages(&c->f, want, log, "stop"),
	   "GET_VRING_BASE with requests in flight: the %u taken are published (used %u, base %u) and logged before the reply",
	   taken, used, base);
}

/* LOG_ALL negotiated before any log: rings wait for it. */
static void blk_wait_for_log(struct daemon *d)
{
	struct front_pages log, want;
	struct blk_area a;
	struct blkc c;
	bool good;

	good = blk_client(d, &c, &a) == 0 &&
	       front_log_enable(&c.f, true) == 0 &&
	       front_pages_create(&c.f, &log, true) == 0 &&
	       front_pages_create(&c.f, &want, false) == 0;
	if (!ok(good, "a client turns LOG_ALL on before it gives a log")) {
		blkc_close(&c);
		return;
	}
	good = blk_submit(&c, &a, 0, false, &want) == 0 &&
	       reap(&c.f.vqs[0], 1, true) == -ETIMEDOUT;
	ok(good, "with LOG_ALL on and no log, the ring takes no request");
	good = front_log_share(&c.f, &log) == 0 &&
	       reap(&c.f.vqs[0], BATCH, true) == 0;
	ok(good && same_pages(&c.f, &want, &log, "late log"),
	   "once the log comes, the requests run and every page is logged");
	front_pages_destroy(&log);
	front_pages_destroy(&want);
	blkc_close(&c);
}

static void blk_cases(struct daemon *d)
{
	struct front_pages log, want;
	struct blk_area a;
	struct blkc c;
	uint64_t need = BIT_ULL(VHOST_F_LOG_ALL);

	if (!ok(blk_client(d, &c, &a) == 0, "blk client connects")) {
		blkc_close(&c);
		return;
	}
	ok((c.f.features & need) &&
	   (c.f.protocol_features & BIT_ULL(VU_PF_LOG_SHMFD)),
	   "VHOST_F_LOG_ALL and LOG_SHMFD are offered");
	if (front_pages_create(&c.f, &log, true) < 0 ||
	    front_pages_create(&c.f, &want, false) < 0) {
		ok(false, "cannot make a log");
		blkc_close(&c);
		return;
	}
	ok(front_log_share(&c.f, &log) == 0,
	   "SET_LOG_BASE with a log sized for guest memory is accepted");
	ok(front_log_enable(&c.f, true) == 0,
	   "LOG_ALL and VHOST_VRING_F_LOG are accepted on running rings");
	blk_exact(&c, &a, &log, &want);
	blk_replace(&c, &a, &log, &want);
	blk_off_on(&c, &a, &log, &want);
	blk_stop(&c, &a, &log, &want);
	front_pages_destroy(&log);
	front_pages_destroy(&want);
	blkc_close(&c);
	blk_wait_for_log(d);
}

/* ---- hostile SET_LOG_BASE ------------------------------------------- */

struct hostile {
	const char *name;
	uint64_t file_size;	/* of the memfd given; 0: see fd_kind */
	uint64_t mmap_size, mmap_offset;
	int fd_kind;		/* 0 memfd, 1 none, 2 read-only file, 3 pipe */
	bool no_shmfd;		/* LOG_SHMFD not negotiated */
	const char *log;	/* expected in the daemon's log */
};

static const struct hostile hostile[] = {
	{ "size 0", 4096, 0, 0, 0, false, "log size 0" },
	{ "an absurd size", 4096, 1ull << 40, 0, 0, false, "is not between" },
	{ "a size beyond the file", 4096, 8192, 0, 0, false, "beyond the end" },
	{ "an offset beyond the file", 4096, 4096, 1ull << 20, 0, false,
	  "beyond the end" },
	{ "an offset that wraps", 4096, 4096, ~0ull - 100, 0, false,
	  "beyond the end" },
	{ "no fd", 4096, 4096, 0, 1, false, "file descriptors" },
	{ "a read-only file", 1 << 20, 1 << 20, 0, 2, false, "cannot map" },
	{ "a pipe", 0, 4096, 0, 3, false, "not a shareable memory file" },
	{ "a log too small for guest memory", 4096, 8, 0, 0, false,
	  "cannot cover guest memory" },
	{ "LOG_SHMFD not negotiated", 1 << 20, 1 << 20, 0, 0, true,
	  "LOG_SHMFD was not negotiated" },
};

static int hostile_fd(const struct hostile *h, int *extra)
{
	char path[400];
	int fd, p[2];

	*extra = -1;
	switch (h->fd_kind) {
	case 1:
		return -1;
	case 2:
		snprintf(path, sizeof(path), "%s/ro-log", harness_dir());
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, h->file_size) < 0)
			return -1;
		close(fd);
		return open(path, O_RDONLY);
	case 3:
		if (pipe(p) < 0)
			return -1;
		*extra = p[1];
		return p[0];
	default:
		fd = memfd_create("hostile-log", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, h->file_size) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
}

static void hostile_case(struct daemon *d, const struct hostile *h,
			 unsigned int seq)
{
	uint64_t pf = BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
		      BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
	struct vu_log_base b = { h->mmap_size, h->mmap_offset };
	int base = daemon_settled_fd_count(d), extra, fd, ret;
	long mark = daemon_log_mark(d);
	struct verdict v = { { 0 } };
	struct blkc c;
	uint64_t reply = 0;

	if (!h->no_shmfd)
		pf |= BIT_ULL(VU_PF_LOG_SHMFD);
	fd = hostile_fd(h, &extra);
	ret = blkc_open(&c, d->sock, 1, ~0ull, pf);
	verdict_check(&v, ret == 0, "client setup failed: %d", ret);
	if (ret == 0) {
		ret = front_send(&c.f, VU_SET_LOG_BASE, VU_VERSION, &b,
				 sizeof(b), &fd, fd < 0 ? 0 : 1);
		if (ret == 0)
			ret = front_recv_u64(&c.f, VU_SET_LOG_BASE, &reply);
		/* Without an fd the message is malformed: the daemon hangs up. */
		verdict_check(&v, h->fd_kind == 1 ? ret < 0 : ret == 0 && reply,
			      "the daemon answered %d with %llu", ret,
			      (unsigned long long)reply);
	}
	blkc_close(&c);
	if (fd >= 0)
		close(fd);
	if (extra >= 0)
		close(extra);
	daemon_aftermath(&v, d, base, mark, h->log, 256 + 16 * seq, false);
	if (!ok(!v.fail[0], "hostile SET_LOG_BASE, %s: refused, no fd kept, the daemon serves on",
		h->name))
		tap_diag("%s", v.fail);
}

/* ---- scsi ----------------------------------------------------------- */

static int scsi_batch(struct scsic *c, unsigned int rq, struct front_pages *want)
{
	uint8_t lun[8], bad[8];
	unsigned int n = 0;

	scsic_lun(lun, 0, 0);
	scsic_lun(bad, 0, 7);
	for (unsigned int slot = 0; slot < BATCH; slot++) {
		uint32_t blocks = 1 + rnd(16), len = blocks * 512;
		uint32_t lba = rnd(IMG_SIZE / 512 - 16), kind = rnd(10);
		uint8_t cdb[10] = { 0 };
		uint8_t *din = c->din + rnd(SCSIC_DATA_SIZE - len);
		const uint8_t *addr = kind == 9 ? bad : lun;
		int ret;

		cdb[0] = kind < 6 ? 0x28 : kind < 8 ? 0x2a : 0x12;
		if (cdb[0] == 0x12) {
			len = 36 + rnd(60);
			cdb[4] = (uint8_t)len;
		} else {
			cdb[2] = lba >> 24;
			cdb[3] = lba >> 16;
			cdb[4] = lba >> 8;
			cdb[5] = lba;
			cdb[8] = (uint8_t)blocks;
		}
		front_pages_add(want, front_gpa(&c->f, &c->resp[slot]),
				SCSIC_RESP_SIZE);
		if (cdb[0] == 0x2a)
			ret = scsic_submit(c, rq, slot, addr, cdb, 10, c->dout,
					   len, NULL, 0);
		else
			ret = scsic_submit(c, rq, slot, addr, cdb, 10, NULL, 0,
					   din, len);
		if (ret < 0)
			return ret;
		if (cdb[0] != 0x2a)
			front_pages_add(want, front_gpa(&c->f, din), len);
		n++;
	}
	front_pages_add_used_ring(want, &c->f, SCSIC_REQ_VQ + rq);
	scsic_kick(c, SCSIC_REQ_VQ + rq);
	return reap(&c->f.vqs[SCSIC_REQ_VQ + rq], n, false);
}

static void scsi_cases(struct daemon *d)
{
	struct front_pages log, want;
	struct scsic c;
	uint8_t lun[8], resp = 0xff;
	bool good;

	good = scsic_open(&c, d->sock, NQ, ~BIT_ULL(VHOST_F_LOG_ALL)) == 0 &&
	       front_pages_create(&c.f, &log, true) == 0 &&
	       front_pages_create(&c.f, &want, false) == 0 &&
	       front_log_share(&c.f, &log) == 0 &&
	       front_log_enable(&c.f, true) == 0;
	if (!ok(good, "scsi: a client turns dirty logging on")) {
		scsic_close(&c);
		return;
	}
	for (unsigned int rq = 0; rq < NQ; rq++) {
		good = true;
		for (int round = 0; round < 4 && good; round++) {
			front_pages_clear(&log);
			front_pages_clear(&want);
			good = scsi_batch(&c, rq, &want) == 0 &&
			       same_pages(&c.f, &want, &log, "scsi batch");
		}
		ok(good, "scsi request queue %u: data-in, responses and sense data are logged, and nothing else",
		   rq);
	}
	front_pages_clear(&log);
	front_pages_clear(&want);
	scsic_lun(lun, 0, 0);
	good = scsic_tmf(&c, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun, 0,
			 &resp) == 0 && (resp == VIRTIO_SCSI_S_OK || resp == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED);
	front_pages_add(&want, front_gpa(&c.f, c.ctrl_resp), 1);
	front_pages_add_used_ring(&want, &c.f, SCSIC_CTRL_VQ);
	ok(good && same_pages(&c.f, &want, &log, "tmf"),
	   "scsi control queue: a TMF's response is logged");
	front_pages_destroy(&log);
	front_pages_destroy(&want);
	scsic_close(&c);
}

int main(void)
{
	char lun_arg[400];
	struct daemon d;

	if (!test_env_init(&env, IMG_SIZE))
		return 0;
	{
		const char *args[] = { env.img_arg, env.aio_arg, "--num-queues=2",
				       "--cache=writeback", NULL };

		if (!ok(daemon_start(&d, args) == 0, "vhost-uring-blk starts"))
			goto out;
		blk_cases(&d);
		for (unsigned int i = 0; i < ARRAY_SIZE(hostile); i++)
			hostile_case(&d, &hostile[i], i);
		ok(daemon_stop(&d) == 0, "vhost-uring-blk exits 0 on SIGTERM");
	}
	snprintf(lun_arg, sizeof(lun_arg), "--lun=0,file=%s,cache=writeback",
		 env.img);
	{
		const char *args[] = { lun_arg, env.aio_arg, "--num-queues=2",
				       NULL };

		if (!ok(daemon_start_bin(&d, scsi_daemon_binary(), args) == 0,
			"vhost-uring-scsi starts"))
			goto out;
		scsi_cases(&d);
		ok(daemon_stop(&d) == 0, "vhost-uring-scsi exits 0 on SIGTERM");
	}
out:
	harness_cleanup();
	return tap_done();
}
