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

/*
 * How a device reaches its backing store, with QEMU's names: through the
 * host page cache or around it (O_DIRECT), and whether the device starts
 * with a volatile write cache (virtio-blk writeback, SCSI WCE) or with
 * every write durable before it completes.  The guest may change the
 * write cache later; the mode only gives its value at start-up.
 */
enum cache_mode {
	CACHE_NONE,		/* O_DIRECT, write cache on (the default) */
	CACHE_WRITEBACK,	/* page cache, write cache on */
	CACHE_WRITETHROUGH,	/* page cache, write cache off */
	CACHE_DIRECTSYNC,	/* O_DIRECT, write cache off */
};

/* For messages: the values cache_mode_parse() takes. */
#define CACHE_MODE_CHOICES "none, writeback, writethrough or directsync"

/* Returns 0 with *out set, or -1 if s names no cache mode. */
int cache_mode_parse(const char *s, enum cache_mode *out);
const char *cache_mode_name(enum cache_mode m);

static inline bool cache_mode_direct(enum cache_mode m)
{
	return m == CACHE_NONE || m == CACHE_DIRECTSYNC;
}

/* Does the device start with a volatile write cache? */
static inline bool cache_mode_wce(enum cache_mode m)
{
	return m == CACHE_NONE || m == CACHE_WRITEBACK;
}

struct backing_opts {
	const char *path;
	bool read_only;
	bool direct;		/* O_DIRECT (cache=none or directsync) */
	uint32_t lbs;		/* logical block size; 0: choose */
	bool format_raw;	/* raw said explicitly: skip the format probe */
	const char *raw_opt;	/* how the user says so, for the refusal */
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
	bool in_memory;		/* a file in tmpfs or ramfs: no device behind */
};

/*
 * Reads and writes of bk are copies between memories that the kernel
 * would hand to a worker thread: cheaper done by the I/O thread itself.
 */
static inline bool backing_copy_in_thread(const struct backing *bk)
{
	return bk->in_memory && !bk->nowait;
}

/*
 * Open and probe o->path; refuse another image format's file unless
 * o->format_raw (image_format.c).  Returns 0 or -1 after a log line.
 */
int backing_open(struct backing *b, const struct backing_opts *o);
void backing_close(struct backing *b);
/*
 * Read the size again (the file grew or the device was resized).  Returns
 * 0 with b->size updated, or -errno.
 */
int backing_refresh_size(struct backing *b);

#endif
