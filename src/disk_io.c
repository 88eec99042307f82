// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * disk_io.c: reads, writes, flushes, write-zeroes and discards on a disk,
 * as engine operations (engine.h).  Write-zeroes tries, in order: a
 * punched hole where it may deallocate, ZERO_RANGE, and where a file
 * refuses ZERO_RANGE (tmpfs) a punched hole allocated again, so the range
 * reads as zeros and stays provisioned.  Both refusals are met once per
 * disk or request, not once per range.  A block device discards by
 * PUNCH_HOLE too (the kernel zeroes and unmaps), never by a blocking
 * BLKDISCARD ioctl.
 *
 * Every request is counted when it ends, in the counts of its disk and
 * queue, which only that queue's thread writes.  Reads, writes and
 * write-zeroes pass the disk's QoS limits first (disk_limits.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/falloc.h>

#include "disk_io.h"
#include "log.h"
#include "util.h"

#define PUNCH_MODE	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define ZERO_MODE	(FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)

int disk_init(struct disk *d, const struct backing *bk, const char *path,
	      enum cache_mode cache, unsigned int nq)
{
	memset(d, 0, sizeof(*d));
	d->fd = bk->fd;
	d->is_blkdev = bk->is_blkdev;
	d->can_punch = bk->can_punch;
	d->copy_in_thread = backing_copy_in_thread(bk);
	d->bk = bk;
	d->path = path;
	d->cache = cache;
	/* Pages of queues never used are never touched: they cost nothing. */
	d->q = calloc(nq ? nq : 1, sizeof(*d->q));
	if (!d->q) {
		log_err("out of memory for the statistics of %s", path);
		return -1;
	}
	d->nq = nq;
	for (unsigned int i = 0; i < nq; i++)
		disk_queue_init(d, &d->q[i]);
	pthread_mutex_init(&d->thr_mu, NULL);
	return 0;
}

void disk_fini(struct disk *d)
{
	if (!d->q)
		return;
	pthread_mutex_destroy(&d->thr_mu);
	free(d->q);
	d->q = NULL;
}

void disk_req_init(struct disk_req *r, struct disk *d, struct virtq *vq)
{
	r->disk = d;
	r->th = vq->th;
	r->engine = vq_engine(vq);
	/* The index is below the device's queue count: the core checks it. */
	r->dq = &d->q[vq->index < d->nq ? vq->index : 0];
	r->zero_only = false;
	r->kind = DISK_NKINDS;
	r->failed = false;
}

/* ---- counting ------------------------------------------------------- */

/* One writer per counter: no atomic read-modify-write needed. */
static inline void count(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v,
			 __ATOMIC_RELAXED);
}

static unsigned int lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int k = us ? 64 - __builtin_clzll(us) : 0;

	return k < DISK_LAT_BUCKETS - 1 ? k : DISK_LAT_BUCKETS - 1;
}

void disk_count(struct disk_req *r)
{
	struct disk_counts *c = &r->dq->c;
	struct disk_kind_counts *k;
	uint64_t ns;

	if (r->failed) {
		count(&c->errors, 1);
		return;
	}
	ns = iothread_pass_ns(r->th) - r->start_ns;
	k = &c->k[r->kind];
	count(&k->ops, 1);
	count(&k->bytes, r->bytes);
	count(&k->lat_sum_ns, ns);
	count(&k->lat[lat_bucket(ns)], 1);
}

/* An operation ended: remember a failure, tell the device. */
static void finish(struct disk_req *r, int res)
{
	if (res < 0)
		r->failed = true;
	r->done(r, res);
}

/* An operation starts: what the request counts as, then the operation. */
static void begin(struct disk_req *r, enum disk_kind kind, uint64_t bytes,
		  void (*go)(struct disk_req *r))
{
	if (r->kind == DISK_NKINDS)
		r->start_ns = iothread_pass_ns(r->th);
	if (kind != r->kind) {
		r->kind = kind;
		r->bytes = 0;
	}
	r->bytes += bytes;
	r->go = go;
	/* disk_limits_admit() knows which kinds the limits hold. */
	if (!__atomic_load_n(&r->disk->limited, __ATOMIC_RELAXED) ||
	    disk_limits_admit(r))
		go(r);
}

/* ---- reads and writes ----------------------------------------------- */

static void rw_queue(struct disk_req *r)
{
	struct io_op *op = &r->op;

	op->fd = r->disk->fd;
	op->iov = r->iov;
	op->iovcnt = r->iovcnt;
	op->off = r->off;
	op->len = r->left;
	io_engine_queue(r->engine, op);
}

static void rw_done(struct io_op *op, int res)
{
	struct disk_req *r = container_of(op, struct disk_req, op);

	if (res < 0) {
		finish(r, res);
		return;
	}
	if ((uint64_t)res >= r->left) {
		finish(r, 0);
		return;
	}
	if (res == 0) {
		/* The image shrank under us: never return stale memory. */
		finish(r, -ENXIO);
		return;
	}
	/* Short transfer: continue with the rest. */
	r->off += res;
	r->left -= res;
	iov_discard_front(&r->iov, &r->iovcnt, res);
	rw_queue(r);
}

static void rw_start(struct disk_req *r, uint8_t opcode, int rw_flags,
		     struct iovec *iov, unsigned int cnt, uint64_t off,
		     uint64_t len, disk_done_fn done)
{
	r->op.opcode = opcode;
	r->op.rw_flags = rw_flags;
	r->op.in_thread = r->disk->copy_in_thread;
	r->op.done = rw_done;
	r->iov = iov;
	r->iovcnt = cnt;
	r->off = off;
	r->left = len;
	r->done = done;
	begin(r, opcode == IO_OP_READV ? DISK_READ : DISK_WRITE, len, rw_queue);
}

void disk_read(struct disk_req *r, struct iovec *iov, unsigned int cnt,
	       uint64_t off, uint64_t len, disk_done_fn done)
{
	rw_start(r, IO_OP_READV, 0, iov, cnt, off, len, done);
}

void disk_write(struct disk_req *r, struct iovec *iov, unsigned int cnt,
		uint64_t off, uint64_t len, bool fua, disk_done_fn done)
{
	rw_start(r, IO_OP_WRITEV, fua ? RWF_DSYNC : 0, iov, cnt, off, len, done);
}

/* ---- flush ---------------------------------------------------------- */

static void flush_done(struct io_op *op, int res)
{
	struct disk_req *r = container_of(op, struct disk_req, op);

	finish(r, res < 0 ? res : 0);
}

static void flush_go(struct disk_req *r)
{
	r->op.opcode = IO_OP_FDATASYNC;
	r->op.fd = r->disk->fd;
	r->op.done = flush_done;
	io_engine_queue(r->engine, &r->op);
}

void disk_flush(struct disk_req *r, disk_done_fn done)
{
	r->off = 0;
	r->left = 0;
	r->done = done;
	begin(r, DISK_FLUSH, 0, flush_go);
}

/* ---- write-zeroes and discard --------------------------------------- */

static void queue_fallocate(struct disk_req *r, int mode, io_done_fn done)
{
	struct io_op *op = &r->op;

	op->opcode = IO_OP_FALLOCATE;
	op->fd = r->disk->fd;
	op->mode = mode;
	op->off = r->off;
	op->len = r->left;
	op->done = done;
	io_engine_queue(r->engine, op);
}

/* Is write-zeroes deallocating the range, its first choice? */
static bool zeroes_punch(const struct disk_req *r)
{
	return r->unmap && r->disk->can_punch && !r->zero_only;
}

/* The fallocate mode for the current step, or -1 when the range is done. */
static int zeroes_mode(const struct disk_req *r)
{
	if (zeroes_punch(r))
		return r->step == 0 ? PUNCH_MODE : -1;
	if (!__atomic_load_n(&r->disk->no_zero_range, __ATOMIC_RELAXED))
		return r->step == 0 ? ZERO_MODE : -1;
	switch (r->step) {
	case 0:
		return PUNCH_MODE;
	case 1:
		return FALLOC_FL_KEEP_SIZE;
	default:
		return -1;
	}
}

static void zeroes_done(struct io_op *op, int res);

static void zeroes_next(struct disk_req *r)
{
	int mode = zeroes_mode(r);

	if (mode < 0) {
		finish(r, 0);
		return;
	}
	queue_fallocate(r, mode, zeroes_done);
}

static void zeroes_done(struct io_op *op, int res)
{
	struct disk_req *r = container_of(op, struct disk_req, op);
	struct disk *d = r->disk;

	if (res == -EOPNOTSUPP && r->step == 0) {
		if (op->mode == PUNCH_MODE && zeroes_punch(r)) {
			/* No deallocating zeroes here: plain zeroing will do. */
			r->zero_only = true;
			zeroes_next(r);
			return;
		}
		if (op->mode == ZERO_MODE && !d->is_blkdev && d->can_punch) {
			/* Learn once, then zero this range the other way. */
			__atomic_store_n(&d->no_zero_range, true, __ATOMIC_RELAXED);
			zeroes_next(r);
			return;
		}
	}
	if (res < 0) {
		finish(r, res);
		return;
	}
	r->step++;
	zeroes_next(r);
}

void disk_write_zeroes(struct disk_req *r, uint64_t off, uint64_t len,
		       bool unmap, disk_done_fn done)
{
	r->off = off;
	r->left = len;
	r->unmap = unmap;
	r->step = 0;
	r->done = done;
	begin(r, DISK_WRITE_ZEROES, len, zeroes_next);
}

static void discard_done(struct io_op *op, int res)
{
	struct disk_req *r = container_of(op, struct disk_req, op);

	/* Discard is a hint: a device that cannot do it has done its part. */
	if (res == -EOPNOTSUPP && r->disk->is_blkdev)
		res = 0;
	finish(r, res < 0 ? res : 0);
}

static void discard_go(struct disk_req *r)
{
	queue_fallocate(r, PUNCH_MODE, discard_done);
}

void disk_discard(struct disk_req *r, uint64_t off, uint64_t len,
		  disk_done_fn done)
{
	r->off = off;
	r->left = len;
	r->done = done;
	begin(r, DISK_DISCARD, len, discard_go);
}
