// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blk_req.c: owns the rules a virtio-blk request must follow before it
 * reaches the disk: the header is gathered from however many descriptors
 * carry it and copied before use, the status byte is the last writable byte,
 * lengths must be whole blocks, and every sector range is checked against
 * the capacity with arithmetic that cannot wrap.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "blk_req.h"
#include "util.h"

#define SECTOR_SHIFT	9

struct wire_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct wire_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

static void refuse(struct blk_cmd *cmd, uint8_t status, const char *why)
{
	cmd->action = BLK_DONE;
	cmd->status = status;
	cmd->why = why;
}

/*
 * [sector, sector + sectors) inside the disk, without overflow.  The
 * capacity only grows (a rescan on the control thread): any value read is
 * safe to check against.
 */
static bool range_ok(const struct blk_geom *g, uint64_t sector,
		     uint64_t sectors)
{
	return range_within(sector, sectors,
			    __atomic_load_n(&g->capacity, __ATOMIC_RELAXED));
}

/* Sector aligned to the logical block size. */
static bool block_aligned(const struct blk_geom *g, uint64_t sector)
{
	return (sector & ((g->lbs >> SECTOR_SHIFT) - 1)) == 0;
}

static void check_rw(const struct blk_geom *g, struct blk_cmd *cmd,
		     struct iovec *iov, unsigned int cnt)
{
	uint64_t len = iov_length(iov, cnt);

	cmd->iov = iov;
	cmd->iovcnt = cnt;
	cmd->len = len;
	if (len % g->lbs) {
		refuse(cmd, VIRTIO_BLK_S_IOERR,
		       "data length is not a multiple of the block size");
	} else if (!block_aligned(g, cmd->sector)) {
		refuse(cmd, VIRTIO_BLK_S_IOERR,
		       "sector is not aligned to the block size");
	} else if (!range_ok(g, cmd->sector, len >> SECTOR_SHIFT)) {
		refuse(cmd, VIRTIO_BLK_S_IOERR, "access beyond the end of the disk");
	} else if (len == 0) {
		refuse(cmd, VIRTIO_BLK_S_OK, NULL);
	}
}

static void parse_segs(const struct blk_geom *g, struct blk_cmd *cmd,
		       struct iovec *iov, unsigned int cnt, bool discard)
{
	uint64_t len = iov_length(iov, cnt);

	if (len == 0 || len % sizeof(struct wire_seg)) {
		refuse(cmd, VIRTIO_BLK_S_IOERR,
		       "segment data is not a non-zero multiple of 16 bytes");
		return;
	}
	if (len / sizeof(struct wire_seg) > BLK_MAX_SEGS) {
		refuse(cmd, VIRTIO_BLK_S_UNSUPP, "more segments than announced");
		return;
	}
	cmd->nsegs = len / sizeof(struct wire_seg);
	for (unsigned int i = 0; i < cmd->nsegs; i++) {
		struct blk_seg *s = &cmd->segs[i];
		struct wire_seg w;
		uint32_t flags;

		iov_to_buf(iov, cnt, i * sizeof(w), &w, sizeof(w));
		s->sector = le64toh(w.sector);
		s->num_sectors = le32toh(w.num_sectors);
		flags = le32toh(w.flags);
		s->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
		if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) {
			refuse(cmd, VIRTIO_BLK_S_UNSUPP, "unknown segment flags");
			return;
		}
		if (discard && s->unmap) {
			refuse(cmd, VIRTIO_BLK_S_UNSUPP, "unmap flag on a discard");
			return;
		}
		if (s->num_sectors > BLK_MAX_DZ_SECTORS) {
			refuse(cmd, VIRTIO_BLK_S_IOERR, "segment larger than the announced maximum");
			return;
		}
		if (!block_aligned(g, s->sector) || !block_aligned(g, s->num_sectors)) {
			refuse(cmd, VIRTIO_BLK_S_IOERR,
			       "segment not aligned to the block size");
			return;
		}
		if (!range_ok(g, s->sector, s->num_sectors)) {
			refuse(cmd, VIRTIO_BLK_S_IOERR,
			       "segment beyond the end of the disk");
			return;
		}
	}
}

/* Find and detach the status byte: the last writable byte of the chain. */
static uint8_t *take_status(struct vq_req *req, unsigned int *in_cnt)
{
	struct iovec *in = &req->iov[req->out_num];
	struct iovec *last;

	if (*in_cnt == 0)
		return NULL;
	last = &in[*in_cnt - 1];
	iov_discard_back(in, in_cnt, 1);
	return (uint8_t *)last->iov_base + last->iov_len;
}

int blk_parse(const struct blk_geom *g, struct vq_req *req,
	      struct blk_cmd *cmd)
{
	unsigned int out_cnt = req->out_num, in_cnt = req->in_num;
	struct iovec *out = req->iov, *in = &req->iov[req->out_num];
	struct wire_hdr h;

	memset(cmd, 0, offsetof(struct blk_cmd, segs));
	cmd->status_ptr = take_status(req, &in_cnt);
	if (!cmd->status_ptr)
		return -EINVAL;
	if (iov_to_buf(out, out_cnt, 0, &h, sizeof(h)) != sizeof(h)) {
		refuse(cmd, VIRTIO_BLK_S_IOERR, "request header shorter than 16 bytes");
		return 0;
	}
	iov_discard_front(&out, &out_cnt, sizeof(h));
	cmd->type = le32toh(h.type);
	cmd->sector = le64toh(h.sector);

	switch (cmd->type) {
	case VIRTIO_BLK_T_IN:
		cmd->action = BLK_READ;
		check_rw(g, cmd, in, in_cnt);
		break;
	case VIRTIO_BLK_T_OUT:
		cmd->action = BLK_WRITE;
		if (g->read_only)
			refuse(cmd, VIRTIO_BLK_S_IOERR, "write to a read-only disk");
		else
			check_rw(g, cmd, out, out_cnt);
		break;
	case VIRTIO_BLK_T_FLUSH:
		cmd->action = BLK_FLUSH;
		break;
	case VIRTIO_BLK_T_GET_ID:
		cmd->action = BLK_GET_ID;
		cmd->iov = in;
		cmd->iovcnt = in_cnt;
		cmd->len = MIN(iov_length(in, in_cnt), (size_t)BLK_ID_BYTES);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool discard = cmd->type == VIRTIO_BLK_T_DISCARD;

		cmd->action = discard ? BLK_DISCARD : BLK_WRITE_ZEROES;
		if (g->read_only)
			refuse(cmd, VIRTIO_BLK_S_IOERR, "write to a read-only disk");
		else if (discard ? !g->discard : !g->write_zeroes)
			refuse(cmd, VIRTIO_BLK_S_UNSUPP, "not supported by this disk");
		else
			parse_segs(g, cmd, out, out_cnt, discard);
		break;
	}
	default:
		refuse(cmd, VIRTIO_BLK_S_UNSUPP, "unknown request type");
		break;
	}
	return 0;
}
