// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-blk-req.c: fuzzes the virtio-blk request parser (blk/blk_req.c).
 * The input chooses the disk geometry, how a chain is cut into device-
 * readable and device-writable iovecs, and their bytes.  Each iovec points
 * into an exact-size copy of the input, so ASan catches any access outside
 * the guest's buffers.  Then the harness plays the device: it writes what a
 * completion would write, and checks what the parser promised: the status
 * byte is writable, sector ranges lie within the capacity, lengths are
 * whole blocks, and data iovecs are the right direction.
 *
 * Input: flags u8 (bit 0 read-only, 1 discard, 2 write-zeroes, 3 4 KiB
 * blocks), capacity u64, readable count u8, writable count u8, one length
 * byte per iovec (bit 7 set: (b & 0x7f) * 64 bytes), then the bytes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "blk_req.h"
#include "fuzz.h"
#include "log.h"
#include "util.h"

#define MAX_SEGS	24

static uint32_t seg_len(uint8_t b)
{
	return b & 0x80 ? (uint32_t)(b & 0x7f) * 64 : b;
}

/* Is [p, p + len) inside one of iov[first, first + n)? */
static bool inside(const struct iovec *iov, unsigned int first, unsigned int n,
		   const uint8_t *p, size_t len)
{
	for (unsigned int i = first; i < first + n; i++) {
		const uint8_t *b = iov[i].iov_base;

		if (p >= b && len <= iov[i].iov_len &&
		    (size_t)(p - b) <= iov[i].iov_len - len)
			return true;
	}
	return false;
}

/*
 * cmd's data iovecs must be pieces of the request's iovecs [first, +n) and
 * hold its length: exactly, or at least (GET_ID fills part of them).
 */
static void check_data(const struct blk_cmd *cmd, const struct iovec *orig,
		       unsigned int first, unsigned int n, bool exact)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < cmd->iovcnt; i++) {
		if (cmd->iov[i].iov_len &&
		    !inside(orig, first, n, cmd->iov[i].iov_base, cmd->iov[i].iov_len))
			fuzz_fail("a data iovec points outside the request's buffers");
		total += cmd->iov[i].iov_len;
	}
	if (exact ? total != cmd->len : total < cmd->len)
		fuzz_fail("data iovecs do not add up to the command length");
}

static void check_cmd(const struct blk_geom *g, const struct blk_cmd *cmd,
		      const struct iovec *orig, unsigned int nout,
		      unsigned int nin)
{
	uint64_t end;

	switch (cmd->action) {
	case BLK_READ:
	case BLK_WRITE:
		if (cmd->action == BLK_WRITE && g->read_only)
			fuzz_fail("a write to a read-only disk was accepted");
		if (cmd->len == 0 || cmd->len % g->lbs)
			fuzz_fail("read/write length is not whole blocks");
		if (!add_ok_u64(cmd->sector, cmd->len >> 9, &end) || end > g->capacity)
			fuzz_fail("read/write beyond the capacity was accepted");
		if (cmd->sector % (g->lbs >> 9))
			fuzz_fail("read/write sector is not block aligned");
		if (cmd->action == BLK_READ)
			check_data(cmd, orig, nout, nin, true);
		else
			check_data(cmd, orig, 0, nout, true);
		break;
	case BLK_GET_ID:
		if (cmd->len > BLK_ID_BYTES)
			fuzz_fail("GET_ID longer than the serial");
		check_data(cmd, orig, nout, nin, false);
		break;
	case BLK_DISCARD:
	case BLK_WRITE_ZEROES:
		if (g->read_only)
			fuzz_fail("discard/write-zeroes on a read-only disk was accepted");
		if (cmd->nsegs == 0 || cmd->nsegs > BLK_MAX_SEGS)
			fuzz_fail("segment count out of bounds");
		for (unsigned int i = 0; i < cmd->nsegs; i++) {
			const struct blk_seg *s = &cmd->segs[i];

			if (!add_ok_u64(s->sector, s->num_sectors, &end) ||
			    end > g->capacity || s->num_sectors > BLK_MAX_DZ_SECTORS)
				fuzz_fail("segment beyond the capacity was accepted");
		}
		break;
	case BLK_DONE:
		if (cmd->status != 0 && !cmd->why)
			fuzz_fail("a refusal without a reason");
		break;
	case BLK_FLUSH:
		break;
	}
}

/* Do what the device would do with the command (writes go to the guest). */
static void complete(struct blk_cmd *cmd)
{
	static uint8_t scratch[4096];

	if (cmd->action == BLK_READ || cmd->action == BLK_GET_ID) {
		for (uint64_t done = 0; done < cmd->len;) {
			size_t n = MIN(cmd->len - done, sizeof(scratch));

			iov_from_buf(cmd->iov, cmd->iovcnt, done, scratch, n);
			done += n;
		}
	} else if (cmd->action == BLK_WRITE) {
		for (uint64_t done = 0; done < cmd->len;) {
			size_t n = MIN(cmd->len - done, sizeof(scratch));

			iov_to_buf(cmd->iov, cmd->iovcnt, done, scratch, n);
			done += n;
		}
	}
	*cmd->status_ptr = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct blk_geom g = { 0 };
	unsigned int nout, nin, n = 0;
	struct iovec orig[MAX_SEGS];
	struct blk_cmd cmd;
	struct vq_req *req;
	uint8_t flags, lens[MAX_SEGS], *buf;
	size_t off = 0, blen;
	int ret;

	vu_log_init("fuzz-blk-req", -10);
	flags = fuzz_u8(&in);
	g.read_only = flags & 1;
	g.discard = flags & 2;
	g.write_zeroes = flags & 4;
	g.lbs = flags & 8 ? 4096 : 512;
	g.capacity = fuzz_u64(&in);
	nout = fuzz_u8(&in) % (MAX_SEGS / 2 + 1);
	nin = fuzz_u8(&in) % (MAX_SEGS / 2 + 1);
	for (unsigned int i = 0; i < nout + nin; i++)
		lens[i] = fuzz_u8(&in);

	/* The guest's buffers: an exact copy of what is left of the input. */
	blen = in.left;
	buf = malloc(blen ? blen : 1);
	if (!buf)
		return 0;
	memcpy(buf, in.p, blen);
	for (unsigned int i = 0; i < nout + nin; i++) {
		uint32_t len = MIN((size_t)seg_len(lens[i]), blen - off);

		if (len == 0)
			break;	/* the walker never makes empty iovecs */
		orig[n++] = (struct iovec){ buf + off, len };
		off += len;
	}
	if (n < nout)
		nout = n;
	nin = n - nout;

	/* The parser trims iovecs in place: give it a copy it may change. */
	req = calloc(1, sizeof(*req) + 64);
	if (!req) {
		free(buf);
		return 0;
	}
	req->iov = n <= VQ_INLINE_IOV ? req->inline_iov : malloc(n * sizeof(*orig));
	if (!req->iov)
		goto out;
	memcpy(req->iov, orig, n * sizeof(*orig));
	req->out_num = nout;
	req->in_num = nin;

	ret = blk_parse(&g, req, &cmd);
	if (ret < 0) {
		if (nin)
			fuzz_fail("a chain with writable buffers has no status byte");
		goto out;
	}
	if (!inside(orig, nout, nin, cmd.status_ptr, 1))
		fuzz_fail("the status byte is not in a writable buffer");
	if (nin && cmd.status_ptr != (uint8_t *)orig[n - 1].iov_base + orig[n - 1].iov_len - 1)
		fuzz_fail("the status byte is not the last writable byte");
	check_cmd(&g, &cmd, orig, nout, nin);
	complete(&cmd);
out:
	if (req->iov != req->inline_iov)
		free(req->iov);
	free(req);
	free(buf);
	return 0;
}
