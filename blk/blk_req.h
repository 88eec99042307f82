/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blk_req.h: parsing and validation of virtio-blk requests.  Pure functions
 * of a descriptor chain and the disk geometry, so that they can be unit
 * tested and fuzzed without a daemon.
 */
#ifndef VU_BLK_REQ_H
#define VU_BLK_REQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtq.h"

/* Most discard / write-zeroes segments per request (max_*_seg). */
#define BLK_MAX_SEGS		16
/* Largest discard / write-zeroes segment, in 512-byte sectors. */
#define BLK_MAX_DZ_SECTORS	(1u << 22)
#define BLK_ID_BYTES		20

struct blk_geom {
	uint64_t capacity;	/* 512-byte sectors; atomic, only grows */
	uint32_t lbs;		/* logical block size in bytes */
	bool read_only;
	bool discard;		/* DISCARD is offered */
	bool write_zeroes;	/* WRITE_ZEROES is offered */
};

enum blk_action {
	BLK_DONE,		/* nothing to do: complete with cmd->status */
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH,
	BLK_GET_ID,
	BLK_DISCARD,
	BLK_WRITE_ZEROES,
};

struct blk_seg {
	uint64_t sector;
	uint32_t num_sectors;
	bool unmap;
};

struct blk_cmd {
	enum blk_action action;
	uint8_t status;		/* for BLK_DONE */
	const char *why;	/* reason for an error status */
	uint32_t type;
	uint64_t sector;
	uint8_t *status_ptr;	/* in guest memory */
	struct iovec *iov;	/* data buffers, inside req->iov */
	unsigned int iovcnt;
	uint64_t len;		/* data bytes */
	unsigned int nsegs;
	struct blk_seg segs[BLK_MAX_SEGS];
};

/*
 * Turn a chain into a command.  Returns -EINVAL when the chain has no
 * writable status byte, so no status can be reported at all; otherwise 0,
 * with cmd->action BLK_DONE and cmd->status set when the request is refused.
 * req->iov is trimmed in place (header and status byte removed).
 */
int blk_parse(const struct blk_geom *g, struct vq_req *req,
	      struct blk_cmd *cmd);

#endif
