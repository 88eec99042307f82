/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front_blk.h: virtio-blk requests from the project's front end: the one
 * request builder (header, data and status buffers) that the tests and
 * vhost-uring-bench both use, and a synchronous virtio-blk client with
 * scratch buffers in guest memory for the tests.
 */
#ifndef VU_FRONT_BLK_H
#define VU_FRONT_BLK_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "front.h"

#define FBLK_HDR_SIZE	sizeof(struct virtio_blk_outhdr)	/* 16 */

/*
 * Write a request's header (type, sector) into guest memory at hdr and mark
 * its status byte as not yet written by the device (0xff).
 */
static inline void fblk_prep(void *hdr, uint8_t *status, uint32_t type,
			     uint64_t sector)
{
	struct virtio_blk_outhdr h = {
		.type = htole32(type),
		.sector = htole64(sector),
	};

	memcpy(hdr, &h, sizeof(h));
	*status = 0xff;
}

/*
 * A request's buffers, in the order the device reads them: the header, len
 * bytes of data at data (device-writable when data_in; none when len is 0),
 * the status byte.  Returns how many (2 or 3).
 */
static inline unsigned int fblk_bufs(struct front_buf *b, uint64_t hdr,
				     uint64_t data, uint32_t len, bool data_in,
				     uint64_t status)
{
	unsigned int n = 0;

	b[n++] = (struct front_buf){ hdr, FBLK_HDR_SIZE, false };
	if (len)
		b[n++] = (struct front_buf){ data, len, data_in };
	b[n++] = (struct front_buf){ status, 1, true };
	return n;
}

/* A synchronous virtio-blk client with scratch buffers in guest memory. */
struct blkc {
	struct front f;
	uint8_t *hdr;
	uint8_t *data;
	uint8_t *status;
	struct vring_desc *itable;
	size_t data_size;
};

#define BLKC_DATA_SIZE	(1u << 20)

/*
 * Connect, negotiate want (masked with what is offered; pf likewise), share
 * 16 MiB of guest memory and start nq queues of 128 entries.
 */
int blkc_open(struct blkc *c, const char *sock, unsigned int nq, uint64_t want,
	      uint64_t want_pf);
/* The same with guest memory announced as parts regions. */
int blkc_open_parts(struct blkc *c, const char *sock, unsigned int nq,
		    uint64_t want, uint64_t want_pf, unsigned int parts);
void blkc_close(struct blkc *c);

struct blkc_res {
	uint8_t status;
	uint32_t used_len;
};

/*
 * One request on queue q: header, len bytes of c->data (device-writable if
 * data_in), status byte.  Returns 0 when it completed, -errno otherwise.
 */
int blkc_req(struct blkc *c, unsigned int q, uint32_t type, uint64_t sector,
	     size_t len, bool data_in, bool indirect, struct blkc_res *res);
/*
 * blkc_req() in two halves, with the data anywhere in guest memory: put
 * the request (one at a time per client: the header is shared) on queue q
 * and kick; then wait up to timeout_ms for it to complete.  The status
 * byte goes to status_gpa (0: c->status, which res->status then copies).
 */
int blkc_submit(struct blkc *c, unsigned int q, uint32_t type, uint64_t sector,
		uint64_t data_gpa, size_t len, bool data_in, uint64_t status_gpa);
int blkc_wait(struct blkc *c, unsigned int q, int timeout_ms,
	      struct blkc_res *res);

#endif
