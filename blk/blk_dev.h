/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blk_dev.h: a virtio-blk device backed by an image file or a block device.
 */
#ifndef VU_BLK_DEV_H
#define VU_BLK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "backing.h"
#include "blk_req.h"
#include "device.h"
#include "disk_io.h"
#include "image_lock.h"

struct blk_opts {
	const char *path;
	bool read_only;
	bool format_raw;	/* --format=raw */
	enum cache_mode cache;	/* --cache= */
	const char *serial;
	uint32_t lbs;		/* 0: choose from the backing store */
	unsigned int num_queues;
	enum image_locking locking;	/* --locking= */
	struct thr_config limits;	/* --iotune= */
};

struct blk_dev {
	struct backing bk;
	struct disk disk;	/* all I/O goes through it */
	struct image_lock lock;	/* held while the device runs */
	struct blk_geom geom;
	unsigned int num_queues;
	char serial[BLK_ID_BYTES];
	uint8_t wce;		/* config "writeback": from the cache mode, then the driver's */
	uint64_t features;	/* accepted by the driver */
	bool writethrough;	/* every write durable before completion */
};

/*
 * Open and probe the backing store, and test it for other users (see
 * image_lock_init()).  Returns 0 or -1 after a message.
 */
int blk_dev_open(struct blk_dev *bd, const struct blk_opts *o);
void blk_dev_close(struct blk_dev *bd);

extern const struct vu_dev_ops blk_dev_ops;

#endif
