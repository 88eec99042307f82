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
 */
#include <errno.h>

#include <linux/falloc.h>

#include "disk_io.h"
#include "util.h"

#define PUNCH_MODE	(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
#define ZERO_MODE	(FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE)

void disk_init(struct disk *d, const struct backing *bk)
{
	d->fd = bk->fd;
	d->is_blkdev = bk->is_blkdev;
	d->can_punch = bk->can_punch;
	d->no_zero_range = false;
}

void disk_req_init(struct disk_req *r, struct disk *d, struct io_engine *e)
{
	r->disk = d;
	r->engine = e;
	r->zero_only = false;
}

/* ---- reads and writes ----------------------------------------------- */

static void rw_queue(struct disk_req *r)
{
	struct io_op *op = &r->op;

	op->fd = r->disk->fd;
	op->iov = r->iov;
	op->iovcnt = r->iovcnt;
	op->off = r->off;
	io_engine_queue(r->engine, op);
}

static void rw_done(struct io_op *op, int res)
{
	struct disk_req *r = container_of(op, struct disk_req, op);

	if (res < 0) {
		r->done(r, res);
		return;
	}
	if ((uint64_t)res >= r->left) {
		r->done(r, 0);
		return;
	}
	if (res == 0) {
		/* The image shrank under us: never return stale memory. */
		r->done(r, -ENXIO);
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
	r->op.done = rw_done;
	r->iov = iov;
	r->iovcnt = cnt;
	r->off = off;
	r->left = len;
	r->done = done;
	rw_queue(r);
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

	r->done(r, res < 0 ? res : 0);
}

void disk_flush(struct disk_req *r, disk_done_fn done)
{
	r->off = 0;
	r->left = 0;
	r->done = done;
	r->op.opcode = IO_OP_FDATASYNC;
	r->op.fd = r->disk->fd;
	r->op.done = flush_done;
	io_engine_queue(r->engine, &r->op);
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
		r->done(r, 0);
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
		r->done(r, res);
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
	zeroes_next(r);
}

static void discard_done(struct io_op *op, int res)
{
	struct disk_req *r = container_of(op, struct disk_req, op);

	/* Discard is a hint: a device that cannot do it has done its part. */
	if (res == -EOPNOTSUPP && r->disk->is_blkdev)
		res = 0;
	r->done(r, res < 0 ? res : 0);
}

void disk_discard(struct disk_req *r, uint64_t off, uint64_t len,
		  disk_done_fn done)
{
	r->off = off;
	r->left = len;
	r->done = done;
	queue_fallocate(r, PUNCH_MODE, discard_done);
}
