/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk_io.h: the devices' one way to their storage.  A disk is a backing
 * store (backing.h) seen as byte ranges: read, write, flush, write-zeroes
 * and discard, each queued on an I/O thread's engine and ended by one
 * callback with 0 or -errno.  Short transfers are continued, and the
 * fallocate modes a file system refuses fall back to ones that work.
 * Devices never touch the backing fd: accounting, limits and image formats
 * belong here.  Nothing here allocates or blocks.
 */
#ifndef VU_DISK_IO_H
#define VU_DISK_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backing.h"
#include "engine.h"

struct disk {
	int fd;
	bool is_blkdev;
	bool can_punch;		/* PUNCH_HOLE works: write-zeroes may unmap */
	bool no_zero_range;	/* atomic: ZERO_RANGE refused (learnt once) */
};

struct disk_req;
/* res: 0, or -errno with off and left giving the range that failed. */
typedef void (*disk_done_fn)(struct disk_req *r, int res);

/* One operation at a time, kept in the device's per-request state. */
struct disk_req {
	struct io_op op;
	struct disk *disk;
	struct io_engine *engine;
	disk_done_fn done;
	struct iovec *iov;	/* read and write: what is left to transfer */
	unsigned int iovcnt;
	uint64_t off;		/* the next byte to transfer or zero */
	uint64_t left;		/* bytes still to go */
	unsigned int step;	/* write-zeroes: which fallocate of the range */
	bool unmap;		/* write-zeroes: may deallocate */
	/* Deallocating zeroes refused: plain zeroes until disk_req_init(). */
	bool zero_only;
};

void disk_init(struct disk *d, const struct backing *bk);
/* At the start of each request: the disk and the thread's engine. */
void disk_req_init(struct disk_req *r, struct disk *d, struct io_engine *e);

/*
 * len bytes at off, to or from iov (which is advanced past short
 * transfers).  A transfer that ends early (the image shrank) fails with
 * -ENXIO: stale memory is never returned.  fua: durable on completion.
 */
void disk_read(struct disk_req *r, struct iovec *iov, unsigned int cnt,
	       uint64_t off, uint64_t len, disk_done_fn done);
void disk_write(struct disk_req *r, struct iovec *iov, unsigned int cnt,
		uint64_t off, uint64_t len, bool fua, disk_done_fn done);
void disk_flush(struct disk_req *r, disk_done_fn done);
/*
 * The range reads as zeros afterwards.  With unmap, and where holes can
 * be punched, its blocks are deallocated; else they stay provisioned.
 */
void disk_write_zeroes(struct disk_req *r, uint64_t off, uint64_t len,
		       bool unmap, disk_done_fn done);
/*
 * A hint: the range's blocks may be deallocated.  A block device that
 * cannot do it counts it as done; a file that cannot fails -EOPNOTSUPP.
 */
void disk_discard(struct disk_req *r, uint64_t off, uint64_t len,
		  disk_done_fn done);

#endif
