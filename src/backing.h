/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backing.h: the storage behind a device: an image file or a host block
 * device, opened and probed once (size, block sizes, alignment, whether
 * holes can be punched and whether reads can be tried without blocking).
 * Device-neutral: virtio-blk disks and SCSI LUNs both sit on one.
 */
#ifndef VU_BACKING_H
#define VU_BACKING_H

#include <stdbool.h>
#include <stdint.h>

struct backing_opts {
	const char *path;
	bool read_only;
	bool direct;		/* O_DIRECT (cache=none) */
	uint32_t lbs;		/* logical block size; 0: choose */
};

struct backing {
	int fd;
	bool is_blkdev;
	bool direct;
	bool read_only;
	uint64_t size;		/* usable bytes: whole logical blocks */
	uint32_t lbs;		/* logical block size */
	uint32_t pbs;		/* physical block size */
	uint32_t min_io;	/* bytes */
	uint32_t opt_io;	/* bytes */
	uint8_t align_off;	/* alignment offset, in logical blocks */
	bool can_punch;		/* fallocate PUNCH_HOLE works */
	bool nowait;		/* reads can be tried without blocking */
};

/* Open and probe o->path.  Returns 0 or -1 after a log line. */
int backing_open(struct backing *b, const struct backing_opts *o);
void backing_close(struct backing *b);
/*
 * Read the size again (the file grew or the device was resized).  Returns
 * 0 with b->size updated, or -errno.
 */
int backing_refresh_size(struct backing *b);
/* BLKDISCARD on a block device; a device without discard counts as done. */
int backing_blkdev_discard(const struct backing *b, uint64_t off, uint64_t len);

#endif
