// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * front_blk.c: owns the synchronous virtio-blk client of the front-end
 * library: connecting with guest memory and queues set up, and one request
 * at a time, built by front_blk.h's fblk_prep() and fblk_bufs() as
 * vhost-uring-bench builds its own.
 */
#include <errno.h>
#include <string.h>

#include "front_blk.h"
#include "util.h"

int blkc_open(struct blkc *c, const char *sock, unsigned int nq, uint64_t want,
	      uint64_t want_pf)
{
	return blkc_open_parts(c, sock, nq, want, want_pf, 1);
}

int blkc_open_parts(struct blkc *c, const char *sock, unsigned int nq,
		    uint64_t want, uint64_t want_pf, unsigned int parts)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = front_open(&c->f, sock, want, want_pf, 16u << 20, parts);
	if (ret < 0)
		return ret;
	c->hdr = front_alloc(&c->f, 16, 16, NULL);
	c->status = front_alloc(&c->f, 1, 1, NULL);
	c->itable = front_alloc(&c->f, 16 * 16, 16, NULL);
	c->data = front_alloc(&c->f, BLKC_DATA_SIZE, 4096, NULL);
	if (!c->hdr || !c->status || !c->itable || !c->data)
		return -ENOMEM;
	c->data_size = BLKC_DATA_SIZE;
	for (unsigned int q = 0; q < nq; q++) {
		ret = front_vq_start(&c->f, q, 128);
		if (ret < 0)
			return ret;
	}
	return 0;
}

void blkc_close(struct blkc *c)
{
	front_close(&c->f);
}

/* Put one request on queue q (not yet visible); see blkc_req(). */
static int blkc_add(struct blkc *c, unsigned int q, uint32_t type,
		    uint64_t sector, uint64_t data_gpa, size_t len, bool data_in,
		    uint64_t status_gpa, bool indirect)
{
	struct front_buf bufs[3];
	unsigned int n;

	if (len > UINT32_MAX)
		return -EINVAL;
	fblk_prep(c->hdr, c->status, type, sector);
	if (!status_gpa)
		status_gpa = front_gpa(&c->f, c->status);
	n = fblk_bufs(bufs, front_gpa(&c->f, c->hdr), data_gpa, (uint32_t)len,
		      data_in, status_gpa);
	return fvq_add_via(&c->f.vqs[q], indirect ? c->itable : NULL,
			   front_gpa(&c->f, c->itable), bufs, n, c);
}

int blkc_submit(struct blkc *c, unsigned int q, uint32_t type, uint64_t sector,
		uint64_t data_gpa, size_t len, bool data_in, uint64_t status_gpa)
{
	int ret = blkc_add(c, q, type, sector, data_gpa, len, data_in,
			   status_gpa, false);

	if (ret >= 0)
		fvq_kick(&c->f.vqs[q]);
	return ret < 0 ? ret : 0;
}

int blkc_wait(struct blkc *c, unsigned int q, int timeout_ms,
	      struct blkc_res *res)
{
	void *cookie;
	int ret = fvq_wait_used(&c->f.vqs[q], timeout_ms, &cookie,
				&res->used_len);

	if (ret == 0)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	res->status = *c->status;
	return 0;
}

int blkc_req(struct blkc *c, unsigned int q, uint32_t type, uint64_t sector,
	     size_t len, bool data_in, bool indirect, struct blkc_res *res)
{
	int ret;

	if (len > c->data_size)
		return -EINVAL;
	ret = blkc_add(c, q, type, sector, front_gpa(&c->f, c->data), len,
		       data_in, 0, indirect);
	if (ret < 0)
		return ret;
	fvq_kick(&c->f.vqs[q]);
	return blkc_wait(c, q, 5000, res);
}
