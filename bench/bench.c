// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench.c: vhost-uring-bench, a VM-less load generator for vhost-user-blk
 * and vhost-user-scsi back-ends.  It plays QEMU's part through the project's
 * front end (shared memfd, negotiation, split rings), keeps a fixed number of
 * virtio-blk requests (or, with --device=scsi, READ(16)/WRITE(16) commands to
 * one LUN) in flight on each queue from one thread per queue, and reports
 * IOPS, bandwidth, latency percentiles from a histogram, and the CPU time of
 * the back-end and of itself.  With --verify it is also a correctness test,
 * and with --dirty-log a test of the back-end's dirty page log (dirty.c);
 * --per-second keeps the counts of each second too (series.c).
 * The requests are built by the front-end library (front_blk.h,
 * front_scsi.h); the scsi commands are in scsi_req.c, the scsi set-up in
 * scsi_setup.c, the command line in args.c and the report in report.c.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "bench.h"
#include "front.h"
#include "front_blk.h"
#include "front_scsi.h"
#include "log.h"
#include "scsi_req.h"
#include "scsi_setup.h"
#include "util.h"
#include "verify.h"

/*
 * One request slot: its buffers in guest memory and what it is doing.  Its
 * small buffers share one SLOT_SMALL_* block: blk puts the 16-byte header at
 * 0, the status byte at 16 and the indirect table at 64; scsi the 51-byte
 * command header at 0, the 108-byte response at 64 and the table at 192.
 */
#define SLOT_SMALL_BLK		128
#define SLOT_SMALL_SCSI		256

struct slot {
	uint8_t *hdr;
	uint8_t *data;
	uint8_t *status;
	struct virtio_scsi_cmd_resp *resp;
	struct vring_desc *itable;
	uint64_t start_ns;
	uint64_t blk;
	uint32_t gen;
	bool write;
	bool was_read, was_written;	/* ever, for --dirty-log */
};

enum phase { PH_FILL, PH_RUN, PH_CHECK };

struct worker {
	unsigned int idx;
	enum phase phase;
	uint64_t next;		/* FILL and CHECK: the next block to do */
	pthread_t tid;
	struct front *f;
	struct front_vq *vq;
	struct slot *slots;
	unsigned int inflight;
	uint64_t blk_first;	/* this worker's part of the span, in blocks */
	uint64_t nblk;
	uint64_t seq_next;
	uint64_t rng;
	uint32_t *gen;		/* --verify: generation last written per block */
	uint8_t *busy;		/* --verify: block has a request in flight */
	bool measuring;
	struct hist hist;
	struct series ser;	/* --per-second */
	uint64_t ios, rd_bytes, wr_bytes;
	uint64_t kicks, calls;	/* in the measured window */
	uint64_t verified, verify_errors;
	int failed;
	char msg[400];
};

static struct bench_opts o;
static struct front front;
static struct bench_dirty dirty;
static uint64_t t_ramp_end, t_end, t_deadline;
static unsigned int vq_base;	/* blk: 0; scsi: the first request queue */
static uint32_t lun_bs;		/* scsi: the LUN's logical block size */
static volatile int stop_all;	/* set on a fatal error or a signal */
static char stop_msg[512];
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void fail_all(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_all(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&stop_lock);
	if (!stop_all) {
		va_start(ap, fmt);
		vsnprintf(stop_msg, sizeof(stop_msg), fmt, ap);
		va_end(ap);
		__atomic_store_n(&stop_all, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&stop_lock);
}

static bool stopped(void)
{
	return __atomic_load_n(&stop_all, __ATOMIC_ACQUIRE);
}

static uint64_t rnd(struct worker *w)
{
	/* xorshift64* */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dull;
}

static bool is_random(void)
{
	return o.rw == RW_RANDREAD || o.rw == RW_RANDWRITE || o.rw == RW_RANDRW;
}

/* ---- request building --------------------------------------------- */

static bool pick_write(struct worker *w)
{
	switch (o.rw) {
	case RW_WRITE:
	case RW_RANDWRITE:
		return true;
	case RW_RANDRW:
		return rnd(w) % 100 >= o.rwmixread;
	default:
		return false;
	}
}

static uint64_t pick_block(struct worker *w)
{
	uint64_t b;

	if (!is_random()) {
		b = w->seq_next;
		w->seq_next = (w->seq_next + 1) % w->nblk;
		if (!o.verify || !w->busy[b])
			return b;
	}
	/* With --verify two requests never share a block. */
	for (;;) {
		b = rnd(w) % w->nblk;
		if (!o.verify || !w->busy[b])
			return b;
	}
}

/* Put a request's three buffers on the ring (not yet visible). */
static void post(struct worker *w, struct slot *s, const struct front_buf *b)
{
	fvq_add_via(w->vq, o.indirect ? s->itable : NULL,
		    front_gpa(w->f, s->itable), b, 3, s);
	w->inflight++;
	s->start_ns = now_ns();
}

/*
 * A slot's three buffers for a write or a read.  blk: header, data, status;
 * scsi: device-readable buffers before device-writable ones.
 */
static void slot_bufs(struct worker *w, struct slot *s, bool write,
		      struct front_buf *b)
{
	uint64_t hdr = front_gpa(w->f, s->hdr), data = front_gpa(w->f, s->data);
	uint64_t resp;

	if (o.device == DEV_BLK) {
		fblk_bufs(b, hdr, data, o.bs, !write, front_gpa(w->f, s->status));
		return;
	}
	resp = front_gpa(w->f, s->resp);
	fscsi_bufs(b, hdr, data, write ? o.bs : 0, resp, data, write ? 0 : o.bs);
}

static void put_request(struct worker *w, struct slot *s, uint32_t type)
{
	struct front_buf b[3];

	slot_bufs(w, s, s->write, b);
	fblk_prep(s->hdr, s->status, type,
		  (w->blk_first + s->blk) * (o.bs / SECTOR));
	post(w, s, b);
}

/* READ(16) or WRITE(16): the header built once per slot gets a new CDB. */
static void put_scsi_request(struct worker *w, struct slot *s)
{
	struct front_buf b[3];

	slot_bufs(w, s, s->write, b);
	scsi_req_rw16((struct virtio_scsi_cmd_req *)s->hdr, s->write,
		      (w->blk_first + s->blk) * (o.bs / lun_bs), o.bs / lun_bs);
	scsi_resp_clear(s->resp);
	post(w, s, b);
}

/* Start the next I/O of the current phase in slot s. */
static void issue(struct worker *w, struct slot *s)
{
	switch (w->phase) {
	case PH_FILL:
		s->write = true;
		s->blk = w->next++;
		break;
	case PH_CHECK:
		s->write = false;
		s->blk = w->next++;
		break;
	case PH_RUN:
		s->write = pick_write(w);
		s->blk = pick_block(w);
		break;
	}
	if (o.verify) {
		w->busy[s->blk] = 1;
		s->gen = s->write ? w->gen[s->blk] + 1 : w->gen[s->blk];
		if (s->write)
			verify_fill(s->data, o.bs, w->blk_first + s->blk, s->gen);
	}
	s->was_read |= !s->write;
	s->was_written |= s->write;
	if (o.device == DEV_SCSI)
		put_scsi_request(w, s);
	else
		put_request(w, s, s->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN);
}

/* ---- completion ------------------------------------------------------ */

static void worker_fail(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void worker_fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	w->failed = 1;
	fail_all("queue %u: %s", w->idx, w->msg);
}

static void complete(struct worker *w, struct slot *s, uint64_t now)
{
	uint64_t off = (w->blk_first + s->blk) * o.bs;

	w->inflight--;
	if (o.device == DEV_SCSI) {
		char msg[200];

		if (scsi_resp_check(s->resp, msg, sizeof(msg)) != SCSI_V_OK) {
			worker_fail(w, "%s of %u bytes at offset %" PRIu64 " (LUN %u) failed: %s",
				    s->write ? "WRITE(16)" : "READ(16)", o.bs,
				    off, o.lun, msg);
			return;
		}
	} else if (*s->status != VIRTIO_BLK_S_OK) {
		worker_fail(w, "%s of %u bytes at offset %" PRIu64 " failed with status %s",
			    s->write ? "write" : "read", o.bs, off,
			    *s->status == VIRTIO_BLK_S_IOERR ? "IOERR" :
			    *s->status == VIRTIO_BLK_S_UNSUPP ? "UNSUPP" : "(none)");
		return;
	}
	if (o.verify) {
		w->busy[s->blk] = 0;
		if (s->write) {
			w->gen[s->blk] = s->gen;
		} else {
			enum verify_result r = verify_check(s->data, o.bs,
							    w->blk_first + s->blk, s->gen);

			w->verified++;
			if (r != VERIFY_OK) {
				w->verify_errors++;
				if (w->verify_errors <= 5)
					fprintf(stderr, "vhost-uring-bench: verify error at offset %" PRIu64 ": %s\n",
						off, verify_result_name(r));
			}
		}
	}
	if (w->measuring) {
		hist_add(&w->hist, now - s->start_ns);
		series_add(&w->ser, now - t_ramp_end, o.bs);
		w->ios++;
		if (s->write)
			w->wr_bytes += o.bs;
		else
			w->rd_bytes += o.bs;
	}
}

static void kick(struct worker *w)
{
	uint64_t before = w->vq->kicks;

	fvq_kick(w->vq);
	if (w->measuring)
		w->kicks += w->vq->kicks - before;
}

/* Is there more to issue in this phase? */
static bool more(struct worker *w, uint64_t now)
{
	if (stopped())
		return false;
	if (w->phase == PH_RUN)
		return now < t_end;
	return w->next < w->nblk;
}

/* Reap what has completed and refill the slots; returns how many. */
static int reap(struct worker *w, uint64_t now)
{
	bool refilled = false;
	void *cookie;
	uint32_t len;
	int n = 0, ret;

	while ((ret = fvq_get_used(w->vq, &cookie, &len)) == 1) {
		struct slot *s = cookie;

		n++;
		complete(w, s, now);
		if (w->failed)
			return -1;
		if (more(w, now)) {
			issue(w, s);
			refilled = true;
		}
	}
	if (ret < 0) {
		worker_fail(w, "the back-end returned an unknown descriptor");
		return -1;
	}
	if (refilled)
		kick(w);
	return n;
}

/* Sleep until the back-end signals; fails the run if it stays silent. */
static int wait_completion(struct worker *w)
{
	struct pollfd p[2] = {
		{ .fd = w->vq->call_fd, .events = POLLIN },
		{ .fd = w->vq->err_fd, .events = POLLIN },
	};
	uint64_t silent_since = now_ns();

	for (;;) {
		int ret;

		if (stopped())
			return -1;
		ret = poll(p, 2, 100);
		if (ret < 0 && errno != EINTR)
			return -1;
		if (p[1].revents) {
			worker_fail(w, "the back-end signalled a vring error");
			return -1;
		}
		if (p[0].revents) {
			eventfd_t v;

			eventfd_read(w->vq->call_fd, &v);
			if (w->measuring)
				w->calls++;
			return 0;
		}
		if (now_ns() - silent_since > 10000000000ull) {
			worker_fail(w, "the back-end stopped answering (no completion for 10 s with %u requests in flight)",
				    w->inflight);
			return -1;
		}
	}
}

/* Run one phase: keep iodepth requests in flight while there is work. */
static int drive(struct worker *w, enum phase ph)
{
	w->phase = ph;
	w->next = 0;
	for (unsigned int i = 0; i < o.iodepth && more(w, now_ns()); i++)
		issue(w, &w->slots[i]);
	kick(w);
	while (w->inflight) {
		uint64_t now = now_ns();
		int n;

		if (ph == PH_RUN)
			w->measuring = now >= t_ramp_end && now < t_end;
		n = reap(w, now);
		if (n < 0)
			return -1;
		if (n > 0)
			continue;
		fvq_enable_cb(w->vq);
		n = reap(w, now_ns());
		if (n < 0)
			return -1;
		if (n == 0 && wait_completion(w) < 0)
			return -1;
	}
	w->measuring = false;
	return 0;
}

static pthread_barrier_t filled, go;
static unsigned int workers_done;

/*
 * --verify first writes every block of the worker's part (gen 1); after the
 * timed run every block is read back and checked.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int ret = 0;

	if (o.verify)
		ret = drive(w, PH_FILL);
	pthread_barrier_wait(&filled);
	pthread_barrier_wait(&go);
	if (ret == 0)
		ret = drive(w, PH_RUN);
	if (ret == 0 && o.verify)
		drive(w, PH_CHECK);
	__atomic_add_fetch(&workers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- set-up --------------------------------------------------------- */

static uint64_t wanted_features(void)
{
	uint64_t f;

	if (o.device == DEV_SCSI) {
		/* No scsi feature bits: no INOUT, hotplug, change or T10 PI. */
		f = BIT_ULL(VIRTIO_F_VERSION_1) |
		    BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES) |
		    BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
		if (o.indirect)
			f |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
		return f;
	}
	f = BIT_ULL(VIRTIO_F_VERSION_1) |
		     BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES) |
		     BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
		     BIT_ULL(VIRTIO_BLK_F_SIZE_MAX) | BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
		     BIT_ULL(VIRTIO_BLK_F_RO) | BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
		     BIT_ULL(VIRTIO_BLK_F_FLUSH) | BIT_ULL(VIRTIO_BLK_F_TOPOLOGY) |
		     BIT_ULL(VIRTIO_BLK_F_CONFIG_WCE) | BIT_ULL(VIRTIO_BLK_F_MQ) |
		     BIT_ULL(VIRTIO_BLK_F_DISCARD) | BIT_ULL(VIRTIO_BLK_F_WRITE_ZEROES);

	if (o.indirect)
		f |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	return f;
}

/* virtio-blk: capacity and block size from the config space. */
static int blk_geometry(uint64_t *capacity, uint32_t *blk_size)
{
	struct virtio_blk_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (front.pf_acked & BIT_ULL(VU_PF_CONFIG) &&
	    front_get_config(&front, 0, offsetof(struct virtio_blk_config, max_discard_sectors),
			     &cfg) == 0) {
		*capacity = le64toh(cfg.capacity);
		*blk_size = front.acked & BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) ?
			    le32toh(cfg.blk_size) : SECTOR;
	} else {
		log_err("the back-end did not report its capacity (GET_CONFIG)");
		return -1;
	}
	if ((front.acked & BIT_ULL(VIRTIO_BLK_F_RO)) && o.rw != RW_READ &&
	    o.rw != RW_RANDREAD) {
		log_err("the disk is read-only; use --rw=read or --rw=randread");
		return -1;
	}
	return 0;
}

/* virtio-scsi: the LUN's geometry from READ CAPACITY(16), in sectors. */
static int scsi_geometry(uint64_t *capacity, uint32_t *blk_size)
{
	uint64_t nblocks;
	bool ro;

	if (scsi_setup(&front, o.lun, o.queue_size, &nblocks, &lun_bs, &ro) < 0)
		return -1;
	if (ro && (o.verify || (o.rw != RW_READ && o.rw != RW_RANDREAD))) {
		log_err("LUN %u is write-protected; use --rw=read or --rw=randread, without --verify",
			o.lun);
		return -1;
	}
	if (lun_bs % SECTOR || lun_bs > (1u << 20)) {
		log_err("LUN %u reports %u-byte blocks, which this tool does not handle",
			o.lun, lun_bs);
		return -1;
	}
	*blk_size = lun_bs;
	*capacity = nblocks * (lun_bs / SECTOR);
	return 0;
}

static unsigned int slot_small(void)
{
	return o.device == DEV_SCSI ? SLOT_SMALL_SCSI : SLOT_SMALL_BLK;
}

static int setup_front(uint64_t *capacity, uint32_t *blk_size)
{
	uint64_t pf = BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
		      BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
	unsigned int nvqs = vq_base + o.queues;
	uint64_t mem;
	int ret;

	if (o.dirty_log)
		pf |= bench_dirty_pf();
	ret = front_connect(&front, o.socket, 5000);
	if (ret < 0) {
		log_err("cannot connect to %s: %s", o.socket, strerror(-ret));
		return -1;
	}
	ret = front_negotiate(&front, wanted_features(), pf);
	if (ret < 0) {
		log_err("feature negotiation with the back-end failed: %s", strerror(-ret));
		return -1;
	}
	if (!(front.acked & BIT_ULL(VIRTIO_F_VERSION_1))) {
		log_err("the back-end does not offer VIRTIO_F_VERSION_1");
		return -1;
	}
	if (o.indirect && !(front.acked & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC)))
		o.indirect = false;
	if (o.device == DEV_BLK && o.queues > 1 && front.max_queues < o.queues) {
		log_err("the back-end offers %" PRIu64 " queues, --queues=%u asked for more",
			front.max_queues, o.queues);
		return -1;
	}
	/* A scsi back-end without MQ leaves the count to us, as QEMU does. */
	if (o.device == DEV_SCSI && front.max_queues && front.max_queues < nvqs) {
		log_err("the back-end offers %" PRIu64 " queues (control, event and %" PRIu64
			" request queues), --queues=%u asked for more",
			front.max_queues, front.max_queues > 2 ? front.max_queues - 2 : 0,
			o.queues);
		return -1;
	}
	if (o.device == DEV_BLK && blk_geometry(capacity, blk_size) < 0)
		return -1;
	/* Per queue: rings, and per slot a data buffer plus a small page. */
	mem = (uint64_t)nvqs * (o.queue_size * 32ull + 5 * 4096) +
	      (uint64_t)o.queues * o.iodepth * (ALIGN_UP(o.bs, 4096u) + slot_small());
	mem = ALIGN_UP(mem + (2u << 20), (uint64_t)2 << 20);
	ret = front_mem_create(&front, mem, 0x100000);
	if (ret == 0)
		ret = front_mem_share(&front, front.pf_acked &
				      BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS));
	if (ret < 0) {
		log_err("sharing %" PRIu64 " MiB of memory with the back-end failed: %s",
			mem >> 20, strerror(-ret));
		return -1;
	}
	if (o.device == DEV_SCSI && scsi_geometry(capacity, blk_size) < 0)
		return -1;
	return 0;
}

static int setup_worker(struct worker *w, unsigned int idx, uint64_t nblk_total)
{
	uint64_t per = nblk_total / o.queues;
	unsigned int stride = slot_small();
	unsigned int vqi = vq_base + idx;
	uint8_t *small, *data, lun[8];
	int ret;

	scsic_lun(lun, 0, o.lun);
	memset(w, 0, sizeof(*w));
	w->idx = idx;
	w->f = &front;
	w->rng = 0x9e3779b97f4a7c15ull * (idx + 1) ^ (uint64_t)now_ns();
	/* --verify: each queue owns a part; otherwise all share the span. */
	w->blk_first = o.verify ? per * idx : 0;
	w->nblk = o.verify ? per : nblk_total;
	w->slots = calloc(o.iodepth, sizeof(*w->slots));
	if (!w->slots)
		return -1;
	if (o.per_second && series_init(&w->ser, o.runtime) < 0)
		return -1;
	/* Two arrays in guest memory: slot headers, then the data. */
	small = front_alloc(&front, (uint64_t)o.iodepth * stride, 64, NULL);
	data = front_alloc(&front, (uint64_t)o.iodepth * ALIGN_UP(o.bs, 4096u), 4096, NULL);
	if (!small || !data)
		return -1;
	for (unsigned int i = 0; i < o.iodepth; i++) {
		struct slot *s = &w->slots[i];

		s->hdr = small + stride * i;
		if (o.device == DEV_SCSI) {
			s->resp = (struct virtio_scsi_cmd_resp *)(s->hdr + 64);
			s->itable = (struct vring_desc *)(s->hdr + 192);
			fscsi_req_init((struct virtio_scsi_cmd_req *)s->hdr, lun,
				       (uint64_t)idx << 32 | i);
		} else {
			s->status = s->hdr + 16;
			s->itable = (struct vring_desc *)(s->hdr + 64);
		}
		s->data = data + (uint64_t)i * ALIGN_UP(o.bs, 4096u);
		for (uint32_t k = 0; k < o.bs; k++)
			s->data[k] = (uint8_t)(k * 13 + i);
	}
	if (o.verify) {
		w->gen = calloc(w->nblk, sizeof(*w->gen));
		w->busy = calloc(w->nblk, 1);
		if (!w->gen || !w->busy)
			return -1;
	}
	/* scsi: the first request queue is already up (scsi_setup). */
	ret = front.vqs[vqi].num ? 0 : front_vq_start(&front, vqi, o.queue_size);
	if (ret < 0) {
		log_err("starting queue %u failed: %s", vqi, strerror(-ret));
		return -1;
	}
	w->vq = &front.vqs[vqi];
	return 0;
}

/*
 * --dirty-log: the pages the device must have written, from what each slot
 * was used for (a data buffer only ever written out is never expected).
 */
static void dirty_expect_all(struct worker *w)
{
	struct front_buf b[3];

	for (unsigned int i = 0; i < o.queues; i++) {
		for (unsigned int k = 0; k < o.iodepth; k++) {
			struct slot *s = &w[i].slots[k];

			if (s->was_read) {
				slot_bufs(&w[i], s, false, b);
				bench_dirty_expect(&dirty, b, 3);
			}
			if (s->was_written) {
				slot_bufs(&w[i], s, true, b);
				bench_dirty_expect(&dirty, b, 3);
			}
		}
		bench_dirty_expect_ring(&dirty, &front, vq_base + i);
	}
}

static void free_workers(struct worker *w)
{
	for (unsigned int i = 0; i < o.queues; i++) {
		free(w[i].slots);
		free(w[i].gen);
		free(w[i].busy);
		series_free(&w[i].ser);
	}
	free(w);
}

/* Smallest power-of-two ring that holds iodepth requests. */
static unsigned int ring_size(void)
{
	unsigned int need = o.indirect ? o.iodepth : 3 * o.iodepth, n = 128;

	while (n < need)
		n <<= 1;
	return n;
}

/* ---- main ------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&stop_all, 1, __ATOMIC_RELEASE);
}

/*
 * Watch the control socket and the clock while the workers run: a hang-up
 * or the --timeout ends the run.  Samples CPU times at the window's edges.
 */
static void supervise(double *be0, double *fe0, double *be1, double *fe1)
{
	bool started = false, ended = false;

	for (;;) {
		struct pollfd p = { .fd = front.sock, .events = POLLIN };
		uint64_t now = now_ns();

		if (!started && now >= t_ramp_end) {
			*be0 = o.backend_pid ? bench_proc_cpu_s(o.backend_pid) : 0;
			*fe0 = bench_self_cpu_s();
			started = true;
		}
		if (!ended && now >= t_end) {
			*be1 = o.backend_pid ? bench_proc_cpu_s(o.backend_pid) : 0;
			*fe1 = bench_self_cpu_s();
			ended = true;
		}
		if (__atomic_load_n(&workers_done, __ATOMIC_ACQUIRE) == o.queues)
			return;
		if (now > t_deadline) {
			fail_all("the run exceeded --timeout=%.0f s", o.timeout);
			return;
		}
		if (poll(&p, 1, 10) > 0) {
			fail_all("the back-end %s the control connection",
				 p.revents & (POLLHUP | POLLERR) ?
				 "closed" : "sent an unexpected message on");
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct report r;
	struct worker *w;
	uint64_t capacity = 0, nblk;
	uint32_t blk_size = SECTOR;
	double be0 = 0, fe0 = 0, be1 = 0, fe1 = 0;
	bool dirty_bad = false;
	int status = 0;

	vu_log_init("vhost-uring-bench", 0);
	if (bench_parse_args(&o, argc, argv) < 0)
		return 1;
	vq_base = o.device == DEV_SCSI ? SCSIC_REQ_VQ : 0;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!o.queue_size)
		o.queue_size = ring_size();
	if (setup_front(&capacity, &blk_size) < 0) {
		front_close(&front);
		return 1;
	}
	if (o.bs % blk_size) {
		log_err("--bs=%u is not a multiple of the disk's %u-byte blocks", o.bs, blk_size);
		front_close(&front);
		return 1;
	}
	if (!o.size || o.size > capacity * SECTOR)
		o.size = capacity * SECTOR;
	nblk = o.size / o.bs;
	if (nblk < (uint64_t)o.queues * o.iodepth * (o.verify ? 2 : 1)) {
		log_err("--size of %" PRIu64 " bytes is too small for %u queues of depth %u",
			o.size, o.queues, o.iodepth);
		front_close(&front);
		return 1;
	}
	w = calloc(o.queues, sizeof(*w));
	if (!w) {
		front_close(&front);
		return 1;
	}
	for (unsigned int i = 0; i < o.queues; i++) {
		if (setup_worker(&w[i], i, nblk) < 0) {
			log_err("cannot set up queue %u", i);
			free_workers(w);
			front_close(&front);
			return 1;
		}
	}
	/* As QEMU does when a migration starts: the rings already run. */
	if (o.dirty_log && bench_dirty_start(&dirty, &front) < 0) {
		bench_dirty_destroy(&dirty);
		free_workers(w);
		front_close(&front);
		return 1;
	}
	if (o.verify)
		crc32c(0, "", 0);	/* build the table before the threads */
	pthread_barrier_init(&filled, NULL, o.queues + 1);
	pthread_barrier_init(&go, NULL, o.queues + 1);
	t_deadline = now_ns() + (uint64_t)(o.timeout * 1e9);
	for (unsigned int i = 0; i < o.queues; i++) {
		hist_init(&w[i].hist);
		pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	}
	pthread_barrier_wait(&filled);
	t_ramp_end = now_ns() + (uint64_t)(o.ramp * 1e9);
	t_end = t_ramp_end + (uint64_t)(o.runtime * 1e9);
	pthread_barrier_wait(&go);
	supervise(&be0, &fe0, &be1, &fe1);
	for (unsigned int i = 0; i < o.queues; i++)
		pthread_join(w[i].tid, NULL);

	if (stopped()) {
		log_err("%s", stop_msg[0] ? stop_msg : "interrupted");
		status = 1;
	} else if (o.dirty_log) {
		dirty_expect_all(w);
		dirty_bad = bench_dirty_check(&dirty, &front) < 0;
	}
	memset(&r, 0, sizeof(r));
	hist_init(&r.hist);
	if (o.per_second && series_init(&r.ser, o.runtime) < 0) {
		log_err("out of memory for the per-second report");
		status = 1;
	}
	for (unsigned int i = 0; i < o.queues; i++) {
		hist_merge(&r.hist, &w[i].hist);
		series_merge(&r.ser, &w[i].ser);
		r.ios += w[i].ios;
		r.rd_bytes += w[i].rd_bytes;
		r.wr_bytes += w[i].wr_bytes;
		r.verified += w[i].verified;
		r.kicks += w[i].kicks;
		r.calls += w[i].calls;
		r.verify_errors += w[i].verify_errors;
	}
	r.secs = o.runtime;
	r.be_cpu = be1 - be0;
	r.fe_cpu = fe1 - fe0;
	r.be_rss = o.backend_pid ? bench_proc_rss_kib(o.backend_pid) : -1;
	if (status == 0)
		bench_report_print(&o, &r, &dirty);
	if (dirty_bad)
		status = 1;
	if (r.verify_errors) {
		log_err("%" PRIu64 " verify errors", r.verify_errors);
		status = 1;
	}
	if (o.dirty_log)
		bench_dirty_destroy(&dirty);
	series_free(&r.ser);
	free_workers(w);
	front_close(&front);
	return status;
}
