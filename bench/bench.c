// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench.c: vhost-uring-bench, a VM-less load generator for vhost-user-blk
 * and vhost-user-scsi back-ends.  It plays QEMU's part through the project's
 * front end (shared memfd, negotiation, split rings), keeps a fixed number of
 * virtio-blk requests (or, with --device=scsi, READ(16)/WRITE(16) commands to
 * one LUN) in flight on each queue from one thread per queue, and reports
 * IOPS, bandwidth, latency percentiles from a histogram, and the CPU time of
 * the back-end and of itself.  With --verify it is also a correctness test,
 * and with --dirty-log a test of the back-end's dirty page log (dirty.c).
 * The scsi framing is in scsi_req.c, the scsi set-up in scsi_setup.c.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "dirty.h"
#include "front.h"
#include "hist.h"
#include "log.h"
#include "scsi_req.h"
#include "scsi_setup.h"
#include "util.h"
#include "verify.h"

#define SECTOR	512

enum rw_mode { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW };
enum device { DEV_BLK, DEV_SCSI };

struct bench_opts {
	const char *socket;
	enum device device;
	unsigned int lun;
	enum rw_mode rw;
	unsigned int rwmixread;
	uint32_t bs;
	unsigned int iodepth;
	unsigned int queues;
	unsigned int queue_size;
	uint64_t size;
	double runtime;
	double ramp;
	double timeout;
	bool verify;
	bool dirty_log;
	bool json;
	bool indirect;
	pid_t backend_pid;
};

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
	if (o.indirect)
		fvq_add_indirect(w->vq, s->itable, front_gpa(w->f, s->itable), b, 3, s);
	else
		fvq_add(w->vq, b, 3, s);
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
		b[0] = (struct front_buf){ hdr, sizeof(struct virtio_blk_outhdr), false };
		b[1] = (struct front_buf){ data, o.bs, !write };
		b[2] = (struct front_buf){ front_gpa(w->f, s->status), 1, true };
		return;
	}
	resp = front_gpa(w->f, s->resp);
	b[0] = (struct front_buf){ hdr, sizeof(struct virtio_scsi_cmd_req), false };
	b[1] = (struct front_buf){ write ? data : resp,
				   write ? o.bs : sizeof(*s->resp), !write };
	b[2] = (struct front_buf){ write ? resp : data,
				   write ? sizeof(*s->resp) : o.bs, true };
}

static void put_request(struct worker *w, struct slot *s, uint32_t type)
{
	struct virtio_blk_outhdr h = {
		.type = htole32(type),
		.sector = htole64((w->blk_first + s->blk) * (o.bs / SECTOR)),
	};
	struct front_buf b[3];

	slot_bufs(w, s, s->write, b);
	memcpy(s->hdr, &h, sizeof(h));
	*s->status = 0xff;
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
	uint8_t *small, *data;
	int ret;

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
			scsi_req_init((struct virtio_scsi_cmd_req *)s->hdr, o.lun,
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
	}
	free(w);
}

/* ---- measurements ---------------------------------------------------- */

/* CPU seconds (user + system) of a process, from /proc. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long utime, stime;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* Fields after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

/* The back-end's own resident memory: anonymous and file pages, no shmem. */
static long proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long anon = -1, file = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "RssAnon: %ld", &anon);
		sscanf(line, "RssFile: %ld", &file);
	}
	fclose(f);
	return anon < 0 || file < 0 ? -1 : anon + file;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- command line ------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vhost-uring-bench --socket=PATH [options]\n"
"Drive a vhost-user-blk or vhost-user-scsi back-end without a VM and measure it.\n"
"\n"
"  --socket=PATH          the back-end's vhost-user socket\n"
"  --device=blk|scsi      the back-end's device type (default blk)\n"
"  --lun=N                scsi: the LUN on target 0 to drive (default 0)\n"
"  --rw=MODE              randread (default), randwrite, read, write, randrw\n"
"  --rwmixread=PCT        reads in percent for randrw (default 50)\n"
"  --bs=SIZE              request size, a multiple of 512 and of the\n"
"                         disk's block size (default 4k)\n"
"  --iodepth=N            requests in flight per queue (default 32)\n"
"  --queues=N             queues, one thread each (default 1)\n"
"  --queue-size=N         virtqueue size (default: 128, or more for the depth)\n"
"  --size=SIZE            span of the disk to use (default: the whole disk)\n"
"  --runtime=SECONDS      measured time (default 10)\n"
"  --ramp=SECONDS         unmeasured warm-up before it (default 2)\n"
"  --verify               write self-checking blocks and check every read\n"
"  --dirty-log            turn on the back-end's dirty page log for the run\n"
"                         and check that every page it wrote was logged\n"
"  --no-indirect          do not use indirect descriptors\n"
"  --backend-pid=PID      measure this process's CPU time and memory\n"
"  --timeout=SECONDS      bound the whole run (default: runtime + ramp + 120)\n"
"  --json                 print one JSON object instead of text\n"
"  --help                 show this help\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;

	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

static int parse_rw(const char *s)
{
	static const char *const names[] = {
		[RW_READ] = "read", [RW_WRITE] = "write", [RW_RANDREAD] = "randread",
		[RW_RANDWRITE] = "randwrite", [RW_RANDRW] = "randrw",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i]))
			return i;
	}
	return -1;
}

static const char *rw_name(void)
{
	static const char *const names[] = { "read", "write", "randread",
					     "randwrite", "randrw" };

	return names[o.rw];
}

static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'D' },
		{ "lun", required_argument, NULL, 'L' },
		{ "rw", required_argument, NULL, 'r' },
		{ "rwmixread", required_argument, NULL, 'm' },
		{ "bs", required_argument, NULL, 'b' },
		{ "iodepth", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "size", required_argument, NULL, 'S' },
		{ "runtime", required_argument, NULL, 't' },
		{ "ramp", required_argument, NULL, 'R' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "verify", no_argument, NULL, 'V' },
		{ "dirty-log", no_argument, NULL, 'G' },
		{ "no-indirect", no_argument, NULL, 'I' },
		{ "backend-pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool lun_given = false;
	uint64_t v;
	int c, mode;

	o.rw = RW_RANDREAD;
	o.rwmixread = 50;
	o.bs = 4096;
	o.iodepth = 32;
	o.queues = 1;
	o.runtime = 10;
	o.ramp = 2;
	o.indirect = true;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *end = NULL;

		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'D':
			if (!strcmp(optarg, "blk")) {
				o.device = DEV_BLK;
			} else if (!strcmp(optarg, "scsi")) {
				o.device = DEV_SCSI;
			} else {
				log_err("--device=%s: expected blk or scsi", optarg);
				return -1;
			}
			break;
		case 'L':
			o.lun = strtoul(optarg, &end, 10);
			if (!*optarg || *end || o.lun > SCSI_REQ_LUN_MAX) {
				log_err("--lun=%s: expected 0 to %d", optarg, SCSI_REQ_LUN_MAX);
				return -1;
			}
			lun_given = true;
			break;
		case 'r':
			mode = parse_rw(optarg);
			if (mode < 0) {
				log_err("--rw=%s: expected read, write, randread, randwrite or randrw", optarg);
				return -1;
			}
			o.rw = mode;
			break;
		case 'm':
			o.rwmixread = strtoul(optarg, &end, 10);
			if (*end || o.rwmixread > 100) {
				log_err("--rwmixread=%s: expected 0 to 100", optarg);
				return -1;
			}
			break;
		case 'b':
			if (parse_size(optarg, &v) < 0 || v == 0 || v % SECTOR || v > (16u << 20)) {
				log_err("--bs=%s: expected a multiple of 512 up to 16M", optarg);
				return -1;
			}
			o.bs = v;
			break;
		case 'd':
			o.iodepth = strtoul(optarg, &end, 10);
			if (*end || o.iodepth < 1 || o.iodepth > 4096) {
				log_err("--iodepth=%s: expected 1 to 4096", optarg);
				return -1;
			}
			break;
		case 'q':
			o.queues = strtoul(optarg, &end, 10);
			if (*end || o.queues < 1 || o.queues > FRONT_MAX_VQS) {
				log_err("--queues=%s: expected 1 to %d", optarg, FRONT_MAX_VQS);
				return -1;
			}
			break;
		case 'Q':
			o.queue_size = strtoul(optarg, &end, 10);
			if (*end || !IS_POW2(o.queue_size) || o.queue_size > 32768) {
				log_err("--queue-size=%s: expected a power of 2 up to 32768", optarg);
				return -1;
			}
			break;
		case 'S':
			if (parse_size(optarg, &o.size) < 0 || o.size == 0) {
				log_err("--size=%s: expected a size such as 1G", optarg);
				return -1;
			}
			break;
		case 't':
		case 'R':
		case 'T': {
			double d = strtod(optarg, &end);

			if (*end || d < 0 || (c == 't' && d == 0)) {
				log_err("--%s=%s: expected seconds", c == 't' ? "runtime" :
					c == 'R' ? "ramp" : "timeout", optarg);
				return -1;
			}
			*(c == 't' ? &o.runtime : c == 'R' ? &o.ramp : &o.timeout) = d;
			break;
		}
		case 'V':
			o.verify = true;
			break;
		case 'G':
			o.dirty_log = true;
			break;
		case 'I':
			o.indirect = false;
			break;
		case 'p':
			o.backend_pid = strtol(optarg, &end, 10);
			if (*end || o.backend_pid <= 0 || proc_cpu_s(o.backend_pid) < 0) {
				log_err("--backend-pid=%s: no such process", optarg);
				return -1;
			}
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument: %s", argv[optind]);
		return -1;
	}
	if (!o.socket) {
		log_err("--socket is required");
		return -1;
	}
	if (lun_given && o.device != DEV_SCSI) {
		log_err("--lun needs --device=scsi");
		return -1;
	}
	if (o.device == DEV_SCSI) {
		vq_base = SCSI_VQ_REQUEST;
		if (vq_base + o.queues > FRONT_MAX_VQS) {
			log_err("--queues=%u: with --device=scsi at most %d request queues",
				o.queues, FRONT_MAX_VQS - vq_base);
			return -1;
		}
	}
	if (!o.timeout)
		o.timeout = o.runtime + o.ramp + 120;
	return 0;
}

/* Smallest power-of-two ring that holds iodepth requests. */
static unsigned int ring_size(void)
{
	unsigned int need = o.indirect ? o.iodepth : 3 * o.iodepth, n = 128;

	while (n < need)
		n <<= 1;
	return n;
}

/* ---- report ------------------------------------------------------------ */

struct report {
	struct hist hist;
	uint64_t ios, rd_bytes, wr_bytes, verified, verify_errors;
	uint64_t kicks, calls;
	double secs, be_cpu, fe_cpu;
	long be_rss;
};

static void print_text(const struct report *r)
{
	double iops = r->ios / r->secs;
	double mibs = (r->rd_bytes + r->wr_bytes) / r->secs / (1 << 20);

	if (o.device == DEV_SCSI)
		printf("vhost-uring-bench: scsi lun=%u ", o.lun);
	else
		printf("vhost-uring-bench: ");
	printf("%s bs=%u iodepth=%u queues=%u runtime=%.1fs%s%s\n",
	       rw_name(), o.bs, o.iodepth, o.queues, r->secs,
	       o.verify ? " verify" : "", o.dirty_log ? " dirty-log" : "");
	printf("  iops: %.0f (%.1f MiB/s)\n", iops, mibs);
	printf("  lat (us): mean %.1f, p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n",
	       hist_mean(&r->hist) / 1e3, hist_percentile(&r->hist, 50) / 1e3,
	       hist_percentile(&r->hist, 99) / 1e3,
	       hist_percentile(&r->hist, 99.9) / 1e3, r->hist.max_ns / 1e3);
	if (o.backend_pid)
		printf("  back-end: %.2f s CPU, %.2f us CPU per I/O, %.1f MiB own resident memory\n",
		       r->be_cpu, r->ios ? r->be_cpu * 1e6 / r->ios : 0,
		       r->be_rss / 1024.0);
	printf("  front-end (this tool): %.2f s CPU, %.2f us CPU per I/O; %.3f kicks and %.3f notifications per I/O\n",
	       r->fe_cpu, r->ios ? r->fe_cpu * 1e6 / r->ios : 0,
	       r->ios ? (double)r->kicks / r->ios : 0,
	       r->ios ? (double)r->calls / r->ios : 0);
	if (o.verify)
		printf("  verify: %" PRIu64 " blocks checked, %" PRIu64 " errors\n",
		       r->verified, r->verify_errors);
	if (o.dirty_log)
		bench_dirty_print(&dirty, false);
}

static void print_json(const struct report *r)
{
	printf("{\"rw\": \"%s\", \"bs\": %u, \"iodepth\": %u, \"queues\": %u, "
	       "\"runtime_s\": %.3f, \"ios\": %" PRIu64 ", \"iops\": %.1f, "
	       "\"mib_per_s\": %.2f, "
	       "\"lat_us\": {\"mean\": %.2f, \"p50\": %.2f, \"p99\": %.2f, "
	       "\"p99.9\": %.2f, \"max\": %.2f}, ",
	       rw_name(), o.bs, o.iodepth, o.queues, r->secs, r->ios,
	       r->ios / r->secs,
	       (r->rd_bytes + r->wr_bytes) / r->secs / (1 << 20),
	       hist_mean(&r->hist) / 1e3, hist_percentile(&r->hist, 50) / 1e3,
	       hist_percentile(&r->hist, 99) / 1e3,
	       hist_percentile(&r->hist, 99.9) / 1e3, r->hist.max_ns / 1e3);
	if (o.backend_pid)
		printf("\"backend_cpu_s\": %.3f, \"backend_cpu_us_per_io\": %.3f, "
		       "\"backend_rss_kib\": %ld, ",
		       r->be_cpu, r->ios ? r->be_cpu * 1e6 / r->ios : 0, r->be_rss);
	else
		printf("\"backend_cpu_s\": null, \"backend_cpu_us_per_io\": null, "
		       "\"backend_rss_kib\": null, ");
	printf("\"kicks_per_io\": %.4f, \"notifications_per_io\": %.4f, ",
	       r->ios ? (double)r->kicks / r->ios : 0,
	       r->ios ? (double)r->calls / r->ios : 0);
	printf("\"frontend_cpu_s\": %.3f, \"frontend_cpu_us_per_io\": %.3f, "
	       "\"verify\": %s, \"verified_blocks\": %" PRIu64 ", "
	       "\"verify_errors\": %" PRIu64,
	       r->fe_cpu, r->ios ? r->fe_cpu * 1e6 / r->ios : 0,
	       o.verify ? "true" : "false", r->verified, r->verify_errors);
	if (o.dirty_log)
		bench_dirty_print(&dirty, true);
	printf("}\n");
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
			*be0 = o.backend_pid ? proc_cpu_s(o.backend_pid) : 0;
			*fe0 = self_cpu_s();
			started = true;
		}
		if (!ended && now >= t_end) {
			*be1 = o.backend_pid ? proc_cpu_s(o.backend_pid) : 0;
			*fe1 = self_cpu_s();
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
	if (parse_args(argc, argv) < 0)
		return 1;
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
	for (unsigned int i = 0; i < o.queues; i++) {
		hist_merge(&r.hist, &w[i].hist);
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
	r.be_rss = o.backend_pid ? proc_rss_kib(o.backend_pid) : -1;
	if (status == 0) {
		if (o.json)
			print_json(&r);
		else
			print_text(&r);
	}
	if (dirty_bad)
		status = 1;
	if (r.verify_errors) {
		log_err("%" PRIu64 " verify errors", r.verify_errors);
		status = 1;
	}
	if (o.dirty_log)
		bench_dirty_destroy(&dirty);
	free_workers(w);
	front_close(&front);
	return status;
}
