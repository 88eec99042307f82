// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-blk-req.c: unit tests of virtio-blk request validation (blk_parse):
 * header gathering, status byte placement, block alignment, capacity checks
 * with wrap-around, read-only refusal and discard/write-zeroes segments.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>

#include "blk_req.h"
#include "log.h"
#include "tap.h"
#include "util.h"

#define CAP	2048	/* sectors: 1 MiB */

static struct vq_req *req;
static struct blk_cmd cmd;
static uint8_t hdr[16], data[65536], status;
static struct blk_geom geom = {
	.capacity = CAP, .lbs = 512, .discard = true, .write_zeroes = true,
};

static void set_hdr(uint32_t type, uint64_t sector)
{
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, &t, 4);
	memcpy(hdr + 8, &s, 8);
}

/* header | data (readable or writable) | status */
static int build(uint32_t type, uint64_t sector, size_t len, bool data_in)
{
	unsigned int n = 0;

	set_hdr(type, sector);
	req->iov[n++] = (struct iovec){ hdr, 16 };
	req->out_num = 1;
	req->in_num = 0;
	if (len && !data_in) {
		req->iov[n++] = (struct iovec){ data, len };
		req->out_num++;
	}
	if (len && data_in) {
		req->iov[n++] = (struct iovec){ data, len };
		req->in_num++;
	}
	req->iov[n++] = (struct iovec){ &status, 1 };
	req->in_num++;
	return blk_parse(&geom, req, &cmd);
}

static void put_seg(unsigned int i, uint64_t sector, uint32_t num, uint32_t flags)
{
	uint64_t s = htole64(sector);
	uint32_t n = htole32(num), f = htole32(flags);

	memcpy(data + 16 * i, &s, 8);
	memcpy(data + 16 * i + 8, &n, 4);
	memcpy(data + 16 * i + 12, &f, 4);
}

static bool refused(uint8_t st)
{
	return cmd.action == BLK_DONE && cmd.status == st;
}

static void test_read_write(void)
{
	ok(build(VIRTIO_BLK_T_IN, 8, 4096, true) == 0 && cmd.action == BLK_READ &&
	   cmd.len == 4096 && cmd.iovcnt == 1 && cmd.status_ptr == &status,
	   "a read is parsed with its data and status byte");
	ok(build(VIRTIO_BLK_T_OUT, 8, 4096, false) == 0 && cmd.action == BLK_WRITE &&
	   cmd.len == 4096 && cmd.sector == 8, "a write is parsed");
	ok(build(VIRTIO_BLK_T_IN, CAP - 8, 4096, true) == 0 && cmd.action == BLK_READ,
	   "the last 4 KiB of the disk can be read");
	ok(build(VIRTIO_BLK_T_IN, CAP - 7, 4096, true) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a read crossing the end of the disk gets IOERR");
	ok(build(VIRTIO_BLK_T_IN, CAP, 512, true) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a read starting at the capacity gets IOERR");
	ok(build(VIRTIO_BLK_T_OUT, UINT64_MAX - 3, 4096, false) == 0 &&
	   refused(VIRTIO_BLK_S_IOERR), "sector + length wrapping around gets IOERR");
	ok(build(VIRTIO_BLK_T_IN, 0, 1000, true) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a length that is not a multiple of 512 gets IOERR");
	geom.lbs = 4096;
	ok(build(VIRTIO_BLK_T_IN, 0, 512, true) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "with 4 KiB blocks, a 512-byte read gets IOERR");
	ok(build(VIRTIO_BLK_T_IN, 1, 4096, true) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "with 4 KiB blocks, an unaligned sector gets IOERR");
	ok(build(VIRTIO_BLK_T_IN, 8, 4096, true) == 0 && cmd.action == BLK_READ,
	   "with 4 KiB blocks, an aligned 4 KiB read is accepted");
	geom.lbs = 512;
}

static void test_read_only(void)
{
	geom.read_only = true;
	ok(build(VIRTIO_BLK_T_OUT, 0, 512, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a write to a read-only disk gets IOERR");
	put_seg(0, 0, 8, 0);
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 16, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a discard on a read-only disk gets IOERR");
	ok(build(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "write-zeroes on a read-only disk gets IOERR");
	ok(build(VIRTIO_BLK_T_IN, 0, 512, true) == 0 && cmd.action == BLK_READ,
	   "reads still work on a read-only disk");
	ok(build(VIRTIO_BLK_T_FLUSH, 0, 0, false) == 0 && cmd.action == BLK_FLUSH,
	   "flush is accepted on a read-only disk");
	geom.read_only = false;
}

static void test_layouts(void)
{
	uint8_t combined[513];
	unsigned int n = 0;

	/* Header split byte by byte over 16 descriptors. */
	set_hdr(VIRTIO_BLK_T_IN, 16);
	for (unsigned int i = 0; i < 16; i++)
		req->iov[n++] = (struct iovec){ hdr + i, 1 };
	req->out_num = 16;
	req->iov[n++] = (struct iovec){ data, 512 };
	req->iov[n++] = (struct iovec){ &status, 1 };
	req->in_num = 2;
	ok(blk_parse(&geom, req, &cmd) == 0 && cmd.action == BLK_READ &&
	   cmd.sector == 16 && cmd.len == 512,
	   "a header split byte by byte over 16 descriptors is gathered");

	/* Data and status byte in one writable buffer. */
	set_hdr(VIRTIO_BLK_T_IN, 0);
	req->iov[0] = (struct iovec){ hdr, 16 };
	req->iov[1] = (struct iovec){ combined, sizeof(combined) };
	req->out_num = 1;
	req->in_num = 1;
	ok(blk_parse(&geom, req, &cmd) == 0 && cmd.action == BLK_READ &&
	   cmd.len == 512 && cmd.status_ptr == &combined[512],
	   "the status byte may share a buffer with the data");

	/* Header and data in one readable buffer. */
	memcpy(combined, hdr, 16);
	set_hdr(VIRTIO_BLK_T_OUT, 4);
	memcpy(combined, hdr, 16);
	req->iov[0] = (struct iovec){ combined, 16 + 512 };
	req->iov[1] = (struct iovec){ &status, 1 };
	req->out_num = 1;
	req->in_num = 1;
	ok(blk_parse(&geom, req, &cmd) == 0 && cmd.action == BLK_WRITE &&
	   cmd.len == 512 && cmd.iov->iov_base == combined + 16,
	   "the header may share a buffer with the data");

	req->iov[0] = (struct iovec){ hdr, 8 };
	req->iov[1] = (struct iovec){ &status, 1 };
	req->out_num = 1;
	req->in_num = 1;
	ok(blk_parse(&geom, req, &cmd) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a header shorter than 16 bytes gets IOERR");

	req->iov[0] = (struct iovec){ hdr, 16 };
	req->out_num = 1;
	req->in_num = 0;
	ok(blk_parse(&geom, req, &cmd) == -EINVAL,
	   "a chain without a writable status byte cannot be answered");
}

static void test_other_types(void)
{
	ok(build(VIRTIO_BLK_T_GET_ID, 0, 20, true) == 0 && cmd.action == BLK_GET_ID &&
	   cmd.len == 20, "GET_ID takes 20 bytes");
	ok(build(VIRTIO_BLK_T_GET_ID, 0, 64, true) == 0 && cmd.len == 20,
	   "GET_ID writes no more than 20 bytes");
	ok(build(99, 0, 0, false) == 0 && refused(VIRTIO_BLK_S_UNSUPP),
	   "an unknown request type gets UNSUPP");
	ok(build(VIRTIO_BLK_T_SECURE_ERASE, 0, 16, false) == 0 &&
	   refused(VIRTIO_BLK_S_UNSUPP), "secure erase (not offered) gets UNSUPP");
	ok(build(VIRTIO_BLK_T_IN | VIRTIO_BLK_T_BARRIER, 0, 512, true) == 0 &&
	   refused(VIRTIO_BLK_S_UNSUPP), "the legacy barrier flag is not accepted");
}

static void test_segments(void)
{
	put_seg(0, 0, 8, 0);
	put_seg(1, 64, 16, 0);
	put_seg(2, CAP - 8, 8, 0);
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 48, false) == 0 && cmd.action == BLK_DISCARD &&
	   cmd.nsegs == 3 && cmd.segs[1].sector == 64 && cmd.segs[1].num_sectors == 16,
	   "a three-segment discard is parsed");
	put_seg(1, 64, 16, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	ok(build(VIRTIO_BLK_T_WRITE_ZEROES, 0, 48, false) == 0 &&
	   cmd.action == BLK_WRITE_ZEROES && cmd.segs[1].unmap && !cmd.segs[0].unmap,
	   "write-zeroes carries the unmap flag per segment");
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 48, false) == 0 && refused(VIRTIO_BLK_S_UNSUPP),
	   "a discard with the unmap flag gets UNSUPP");
	put_seg(1, 64, 16, 0x2);
	ok(build(VIRTIO_BLK_T_WRITE_ZEROES, 0, 48, false) == 0 &&
	   refused(VIRTIO_BLK_S_UNSUPP), "unknown segment flags get UNSUPP");
	put_seg(1, CAP - 8, 16, 0);
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 48, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a segment beyond the capacity gets IOERR");
	put_seg(1, UINT64_MAX - 4, 16, 0);
	ok(build(VIRTIO_BLK_T_WRITE_ZEROES, 0, 48, false) == 0 &&
	   refused(VIRTIO_BLK_S_IOERR), "a wrapping segment gets IOERR");
	put_seg(1, 64, 16, 0);
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 40, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "segment data that is not a multiple of 16 bytes gets IOERR");
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 16 * (BLK_MAX_SEGS + 1), false) == 0 &&
	   refused(VIRTIO_BLK_S_UNSUPP), "more segments than announced get UNSUPP");
	put_seg(0, 0, BLK_MAX_DZ_SECTORS + 8, 0);
	geom.capacity = UINT64_MAX / 2;
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 16, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "a segment larger than the announced maximum gets IOERR");
	geom.capacity = CAP;
	geom.discard = false;
	put_seg(0, 0, 8, 0);
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 16, false) == 0 && refused(VIRTIO_BLK_S_UNSUPP),
	   "discard on a disk that does not offer it gets UNSUPP");
	geom.discard = true;
	geom.lbs = 4096;
	put_seg(0, 1, 8, 0);
	ok(build(VIRTIO_BLK_T_DISCARD, 0, 16, false) == 0 && refused(VIRTIO_BLK_S_IOERR),
	   "with 4 KiB blocks, an unaligned segment gets IOERR");
	geom.lbs = 512;
}

int main(void)
{
	vu_log_init("test-blk-req", 0);
	req = calloc(1, sizeof(*req));
	if (!req)
		return 99;
	/* Chains here are built by hand, some longer than the inline array. */
	req->iov = calloc(64, sizeof(*req->iov));
	if (!req->iov)
		return 99;
	test_read_write();
	test_read_only();
	test_layouts();
	test_other_types();
	test_segments();
	free(req->iov);
	free(req);
	return tap_done();
}
