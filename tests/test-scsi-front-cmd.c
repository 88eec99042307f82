// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-front-cmd.c: SCSI commands on vhost-uring-scsi's request
 * queues through the project's own front end, with no VM: the power-on
 * unit attention, INQUIRY and capacity, reads and writes (data checked in
 * the host image), response headers (status, sense, residual, used
 * length), LUN and target addressing, descriptor layouts, UNMAP, WRITE
 * SAME, VERIFY, COMPARE AND WRITE, the cache modes (WCE at start-up, what
 * writes leave in the host page cache) and the cache= option of the
 * command line.  The engine comes from $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_scsi.h>

#include "scsi-front.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

static const uint8_t wlun_linux[8] = { 0x01, 0x00, 0xc1, 0x01 };
static struct daemon *dmn;

/* ---- request queue: basic commands ------------------------------------- */

static void test_power_on_ua(struct scsic *c)
{
	struct scsic_res r1, r2;
	int ret1 = tur(c, lun_a, &r1), ret2 = tur(c, lun_a, &r2);

	if (!ok(check_cond(ret1, &r1, KEY_UA, 0x2900) && good(ret2, &r2),
		"first TEST UNIT READY: UNIT ATTENTION 29/00 (power on), then GOOD")) {
		diag_res("first", ret1, &r1);
		diag_res("second", ret2, &r2);
	}
	tur(c, lun_b, &r1);
}

static bool ascii(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	}
	return true;
}

static void test_inquiry_capacity(struct scsic *c)
{
	struct verdict v = { { 0 } };
	struct scsic_res r;
	uint8_t cdb[16] = { 0x12, 0, 0, 0, 96, 0 };
	int ret;

	ret = scsic_cmd(c, lun_a, cdb, 6, 0, 96, &r);
	verdict_check(&v, good(ret, &r), "INQUIRY: ret %d response %u status %u",
		      ret, r.response, r.status);
	verdict_check(&v, c->din[0] == 0x00 && c->din[4] + 5 >= 36 &&
		      ascii(c->din + 8, 28),
		      "INQUIRY data: type 0x%02x, additional length %u, vendor/product/revision not ASCII",
		      c->din[0], c->din[4]);
	verdict_check(&v, r.resid == 96 - MIN(96u, c->din[4] + 5u) &&
		      r.used_len == SCSIC_RESP_SIZE + 96 - r.resid,
		      "INQUIRY resid %u used %u for %u bytes", r.resid,
		      r.used_len, c->din[4] + 5u);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x25;
	ret = scsic_cmd(c, lun_a, cdb, 10, 0, 8, &r);
	verdict_check(&v, good(ret, &r) && get32(c->din) == NBLOCKS - 1 &&
		      get32(c->din + 4) == LBS && r.used_len == SCSIC_RESP_SIZE + 8,
		      "READ CAPACITY(10): last LBA %u, block %u, used %u",
		      get32(c->din), get32(c->din + 4), r.used_len);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	put32(cdb + 10, 32);
	ret = scsic_cmd(c, lun_a, cdb, 16, 0, 32, &r);
	verdict_check(&v, good(ret, &r) && get32(c->din) == 0 &&
		      get32(c->din + 4) == NBLOCKS - 1 && get32(c->din + 8) == LBS,
		      "READ CAPACITY(16): last LBA %u:%u, block %u", get32(c->din),
		      get32(c->din + 4), get32(c->din + 8));
	if (!ok(!v.fail[0], "INQUIRY, READ CAPACITY(10) and (16) through the ring"))
		tap_diag("%s", v.fail);
}

static void test_write_read(struct scsic *c)
{
	const uint32_t lba = 100, n = 128, len = n * LBS;
	uint8_t *want = malloc(len);
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(want, len, 1);
	memcpy(c->dout, want, len);
	ret = rw10(c, lun_a, 0x2a, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r) && r.resid == 0 &&
		      r.used_len == SCSIC_RESP_SIZE,
		      "WRITE(10): ret %d response %u status %u resid %u used %u",
		      ret, r.response, r.status, r.resid, r.used_len);
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the host image does not hold what WRITE(10) wrote");
	memset(c->din, 0, len);
	ret = rw10(c, lun_a, 0x28, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r) && r.resid == 0 &&
		      r.used_len == SCSIC_RESP_SIZE + len,
		      "READ(10): ret %d status %u resid %u used %u", ret,
		      r.status, r.resid, r.used_len);
	verdict_check(&v, !memcmp(c->din, want, len),
		      "READ(10) returned other data");
	free(want);
	if (!ok(!v.fail[0], "WRITE(10) lands in the host image; READ(10) reads it back"))
		tap_diag("%s", v.fail);
}

static void test_fua(struct scsic *c)
{
	const uint32_t len = 16 * LBS;
	uint8_t want[16 * 512], cdb[16];
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(want, len, 2);
	memcpy(c->dout, want, len);
	ret = rw10(c, lun_a, 0x2a, 0x08, 400, 16, len, &r);
	verdict_check(&v, good(ret, &r), "WRITE(10) FUA: ret %d status %u",
		      ret, r.status);
	verdict_check(&v, host_is(want, len, 400 * LBS),
		      "the host image does not hold the FUA WRITE(10)");
	pattern(want, len, 3);
	memcpy(c->dout, want, len);
	cdb16(cdb, 0x8a, 0x08, 500, 16);
	ret = scsic_cmd(c, lun_a, cdb, 16, len, 0, &r);
	verdict_check(&v, good(ret, &r), "WRITE(16) FUA: ret %d status %u",
		      ret, r.status);
	verdict_check(&v, host_is(want, len, 500 * LBS),
		      "the host image does not hold the FUA WRITE(16)");
	if (!ok(!v.fail[0], "FUA writes (10 and 16) complete GOOD and land in the image"))
		tap_diag("%s", v.fail);
}

static void test_resid(struct scsic *c)
{
	const uint32_t len = 8 * LBS, buf = 3 * len;
	uint8_t want[8 * 512];
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	host_pread(env.img, want, len, 100 * LBS);
	memset(c->din, 0xab, buf);
	ret = rw10(c, lun_a, 0x28, 0, 100, 8, buf, &r);
	verdict_check(&v, good(ret, &r), "READ(10): ret %d status %u", ret,
		      r.status);
	verdict_check(&v, r.resid == buf - len,
		      "resid %u, not %u", r.resid, buf - len);
	verdict_check(&v, r.used_len == SCSIC_RESP_SIZE + len,
		      "used length %u, not 108 + %u", r.used_len, len);
	verdict_check(&v, !memcmp(c->din, want, len) &&
		      all_bytes(c->din + len, buf - len, 0xab),
		      "data wrong, or the buffer written past the transfer");
	if (!ok(!v.fail[0], "READ into a larger data-in buffer: resid = the rest, used = 108 + bytes read"))
		tap_diag("%s", v.fail);
}

/*
 * The virtio specification: a CDB that needs more data than the buffers
 * hold gets VIRTIO_SCSI_S_OVERRUN; nothing is transferred.
 */
static void test_short_din(struct scsic *c)
{
	const uint32_t buf = 2048;
	struct scsic_res r;
	bool untouched;
	int ret;

	memset(c->din, 0xab, 4096);
	ret = rw10(c, lun_a, 0x28, 0, 100, 8, buf, &r);
	untouched = all_bytes(c->din, 4096, 0xab);
	if (!ok(ret == 0 && r.response == VIRTIO_SCSI_S_OVERRUN &&
		r.resid == buf && r.used_len == SCSIC_RESP_SIZE && untouched,
		"READ of 4 KiB into a 2 KiB buffer: OVERRUN, resid 2048, used 108, buffer untouched")) {
		diag_res("short read", ret, &r);
		tap_diag("buffer untouched: %d", untouched);
	}
}

static void test_bidi(struct scsic *c)
{
	uint8_t before[512], cdb[10];
	struct scsic_res r;
	int ret;

	host_pread(env.img, before, sizeof(before), 900 * LBS);
	memset(c->dout, 0x5a, 512);
	cdb10(cdb, 0x2a, 0, 900, 1);
	ret = scsic_cmd(c, lun_a, cdb, 10, 512, 512, &r);
	if (!ok(ret == 0 && r.response == VIRTIO_SCSI_S_FAILURE &&
		r.used_len == SCSIC_RESP_SIZE && host_is(before, 512, 900 * LBS),
		"data-out and data-in without INOUT: VIRTIO_SCSI_S_FAILURE, image unchanged"))
		diag_res("bidi", ret, &r);
}

static void test_bad_target(struct scsic *c)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct scsic_res r;
	int ret;

	memset(c->din, 0xab, 36);
	ret = scsic_cmd(c, lun_t1, cdb, 6, 0, 36, &r);
	if (!ok(ret == 0 && r.response == VIRTIO_SCSI_S_BAD_TARGET &&
		r.used_len == SCSIC_RESP_SIZE && all_bytes(c->din, 36, 0xab),
		"INQUIRY to target 1: VIRTIO_SCSI_S_BAD_TARGET, no data"))
		diag_res("target 1", ret, &r);
}

static void test_absent_lun(struct scsic *c)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct scsic_res r1, r2;
	int ret1, ret2;

	ret1 = scsic_cmd(c, lun_absent, cdb, 6, 0, 36, &r1);
	ret2 = tur(c, lun_absent, &r2);
	if (!ok(good(ret1, &r1) && c->din[0] == 0x7f &&
		check_cond(ret2, &r2, KEY_ILLEGAL, 0x2500),
		"absent LUN: INQUIRY answers 0x7f; TEST UNIT READY gets LOGICAL UNIT NOT SUPPORTED")) {
		diag_res("INQUIRY", ret1, &r1);
		tap_diag("INQUIRY byte 0: 0x%02x", c->din[0]);
		diag_res("TUR", ret2, &r2);
	}
}

static void check_luns(struct verdict *v, struct scsic *c, const uint8_t *lun,
		       const char *how)
{
	uint8_t cdb[12] = { 0xa0 };
	struct scsic_res r;
	int ret;

	put32(cdb + 6, 256);
	memset(c->din, 0xab, 256);
	ret = scsic_cmd(c, lun, cdb, 12, 0, 256, &r);
	verdict_check(v, good(ret, &r), "REPORT LUNS via %s: ret %d response %u status %u",
		      how, ret, r.response, r.status);
	verdict_check(v, get32(c->din) == 16 && c->din[8 + 1] == LUN_A &&
		      c->din[16 + 1] == LUN_B && !c->din[8] && !c->din[16],
		      "REPORT LUNS via %s: list length %u, LUNs %02x%02x %02x%02x",
		      how, get32(c->din), c->din[8], c->din[9], c->din[16], c->din[17]);
	verdict_check(v, r.resid == 256 - 24 && r.used_len == SCSIC_RESP_SIZE + 24,
		      "REPORT LUNS via %s: resid %u used %u", how, r.resid,
		      r.used_len);
}

static void test_report_luns(struct scsic *c)
{
	struct verdict v = { { 0 } };

	check_luns(&v, c, wlun_short, "the W-LUN C1 01");
	check_luns(&v, c, wlun_linux, "the W-LUN 01 00 C1 01");
	check_luns(&v, c, lun_a, "LUN 0");
	if (!ok(!v.fail[0], "REPORT LUNS through the well-known LU (both encodings) and LUN 0 lists LUNs 0 and 3"))
		tap_diag("%s", v.fail);
}

static void test_unknown_opcode(struct scsic *c)
{
	uint8_t cdb[6] = { 0x02 };	/* no such command in SPC or SBC */
	struct scsic_res r;
	int ret;

	ret = scsic_cmd(c, lun_a, cdb, 6, 0, 0, &r);
	if (!ok(check_cond(ret, &r, KEY_ILLEGAL, 0x2000) && r.sense_len == 18 &&
		r.sense[7] == 10 && all_bytes(r.sense + r.sense_len,
					      VIRTIO_SCSI_SENSE_SIZE - r.sense_len, 0),
		"unknown opcode: fixed sense (0x70), 18 bytes <= 96, ILLEGAL REQUEST 20/00, rest zero"))
		diag_res("opcode 0x02", ret, &r);
}

/*
 * READ(10) of 8 blocks at LBA 100 with the request header in 2 descriptors
 * and the response header in 3: with shared set, the last one also holds
 * the data-in (which then starts 108 bytes into it); otherwise the data-in
 * has a descriptor of its own.
 */
static void split_header(struct verdict *v, struct scsic *c, bool shared)
{
	uint8_t *hdr = c->dout, *resp = c->din, want[4096];
	uint8_t *data = shared ? resp + SCSIC_RESP_SIZE : resp + 8192;
	struct virtio_scsi_cmd_req rq;
	struct virtio_scsi_cmd_resp rs;
	struct front_buf bufs[6];
	uint32_t used = 0, last = SCSIC_RESP_SIZE - 65;
	unsigned int n = 5;
	int ret;

	memset(&rq, 0, sizeof(rq));
	memcpy(rq.lun, lun_a, 8);
	cdb10(rq.cdb, 0x28, 0, 100, 8);
	memcpy(hdr, &rq, sizeof(rq));
	memset(resp, 0xff, 8192 + 4096);
	host_pread(env.img, want, sizeof(want), 100 * LBS);
	bufs[0] = (struct front_buf){ front_gpa(&c->f, hdr), 20, false };
	bufs[1] = (struct front_buf){ front_gpa(&c->f, hdr + 20), sizeof(rq) - 20, false };
	bufs[2] = (struct front_buf){ front_gpa(&c->f, resp), 5, true };
	bufs[3] = (struct front_buf){ front_gpa(&c->f, resp + 5), 60, true };
	bufs[4] = (struct front_buf){ front_gpa(&c->f, resp + 65),
				      last + (shared ? 4096 : 0), true };
	if (!shared)
		bufs[n++] = (struct front_buf){ front_gpa(&c->f, data), 4096, true };
	ret = scsic_run(c, REQ_VQ(c), bufs, n, &used);
	memcpy(&rs, resp, sizeof(rs));
	verdict_check(v, ret == 0, "the request did not complete: %d", ret);
	verdict_check(v, !rs.sense_len, "CHECK CONDITION: sense key 0x%x asc 0x%02x%02x",
		      rs.sense[2] & 0xf, rs.sense[12], rs.sense[13]);
	verdict_check(v, rs.response == VIRTIO_SCSI_S_OK && rs.status == GOOD &&
		      le32toh(rs.sense_len) == 0 && le32toh(rs.resid) == 0 &&
		      all_bytes(rs.sense, sizeof(rs.sense), 0),
		      "response header: response %u status %u sense_len %u resid %u",
		      rs.response, rs.status, le32toh(rs.sense_len), le32toh(rs.resid));
	verdict_check(v, used == SCSIC_RESP_SIZE + 4096, "used length %u", used);
	verdict_check(v, !memcmp(data, want, sizeof(want)),
		      "the data-in differs from the image");
}

static void test_split_header(struct scsic *c)
{
	struct verdict v = { { 0 } };

	split_header(&v, c, false);
	if (!ok(!v.fail[0], "request header in 2 descriptors, response header in 3, data-in after them"))
		tap_diag("%s", v.fail);
}

/*
 * A data-in buffer that shares the response header's descriptor starts 108
 * bytes into it, which O_DIRECT refuses; virtio lets the driver lay
 * descriptors out as it likes, so the daemon goes through a bounce buffer.
 * (This test found the daemon answering HARDWARE ERROR 44/00 instead.)
 */
static void test_shared_desc(struct scsic *c)
{
	struct verdict v = { { 0 } };
	long mark = daemon_log_mark(dmn);

	split_header(&v, c, true);
	if (!ok(!v.fail[0], "response header and data-in in one descriptor (data not block-aligned in guest memory)")) {
		tap_diag("%s", v.fail);
		daemon_log_diag(dmn, mark);
	}
}

static void test_unmap(struct scsic *c)
{
	const uint32_t lba = 2048, n = 64, len = n * LBS;
	uint8_t *zero = calloc(1, len), cdb[10] = { 0x42 };
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(c->dout, len, 4);
	ret = rw10(c, lun_a, 0x2a, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r), "WRITE before UNMAP: status %u", r.status);
	memset(c->dout, 0, 24);
	put16(c->dout, 22);
	put16(c->dout + 2, 16);
	put64(c->dout + 8, lba);
	put32(c->dout + 16, n);
	put16(cdb + 7, 24);
	ret = scsic_cmd(c, lun_a, cdb, 10, 24, 0, &r);
	verdict_check(&v, good(ret, &r), "UNMAP: ret %d response %u status %u key 0x%x asc 0x%04x",
		      ret, r.response, r.status, sense_key(&r), sense_asc(&r));
	memset(c->din, 0xab, len);
	ret = rw10(c, lun_a, 0x28, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r) && all_bytes(c->din, len, 0),
		      "READ after UNMAP: status %u, not all zeros", r.status);
	verdict_check(&v, host_is(zero, len, (off_t)lba * LBS),
		      "the host image is not zero where UNMAP was");
	free(zero);
	if (!ok(!v.fail[0], "UNMAP, then READ returns zeros (and the image holds zeros)"))
		tap_diag("%s", v.fail);
}

/* Send cdb to LUN A with out bytes of data-out; a failed verdict unless GOOD. */
static void expect_good(struct verdict *v, struct scsic *c, const uint8_t *cdb,
			unsigned int cdb_len, uint32_t out, const char *what)
{
	struct scsic_res r;
	int ret = scsic_cmd(c, lun_a, cdb, cdb_len, out, 0, &r);

	verdict_check(v, good(ret, &r), "%s: ret %d status %u key 0x%x asc 0x%04x",
		      what, ret, r.status, sense_key(&r), sense_asc(&r));
}

static void test_write_same(struct scsic *c)
{
	const uint32_t lba = 4096, n = 32, len = n * LBS;
	uint8_t *want = malloc(len), cdb[16];
	struct verdict v = { { 0 } };

	/* Zeroing: WRITE SAME(16) of a zero block over a pattern. */
	pattern(want, len, 5);
	host_pwrite(want, len, (off_t)lba * LBS);
	memset(c->dout, 0, LBS);
	cdb16(cdb, 0x93, 0, lba, n);
	expect_good(&v, c, cdb, 16, LBS, "WRITE SAME(16) zero");
	memset(want, 0, len);
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the image is not zero after WRITE SAME(16) of zeros");
	/* A non-zero block, WRITE SAME(10). */
	pattern(c->dout, LBS, 6);
	for (uint32_t i = 0; i < n; i++)
		memcpy(want + i * LBS, c->dout, LBS);
	cdb10(cdb, 0x41, 0, lba, (uint16_t)n);
	expect_good(&v, c, cdb, 10, LBS, "WRITE SAME(10) pattern");
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the image does not hold the block %u times", n);
	free(want);
	if (!ok(!v.fail[0], "WRITE SAME(16) of zeros and WRITE SAME(10) of a pattern land in the image"))
		tap_diag("%s", v.fail);
}

static void test_verify(struct scsic *c)
{
	const uint32_t lba = 6000, n = 16, len = n * LBS;
	uint8_t cdb[10];
	struct scsic_res r1, r2;
	int ret1, ret2;

	pattern(c->dout, len, 7);
	host_pwrite(c->dout, len, (off_t)lba * LBS);
	cdb10(cdb, 0x2f, 0x02, lba, (uint16_t)n);	/* BYTCHK = 01 */
	ret1 = scsic_cmd(c, lun_a, cdb, 10, len, 0, &r1);
	c->dout[len - 3] ^= 0x40;
	ret2 = scsic_cmd(c, lun_a, cdb, 10, len, 0, &r2);
	if (!ok(good(ret1, &r1) &&
		check_cond(ret2, &r2, KEY_MISCOMPARE, 0x1d00),
		"VERIFY(10) BYTCHK=1: GOOD on matching data, MISCOMPARE 1D/00 on one changed byte")) {
		diag_res("matching", ret1, &r1);
		diag_res("changed", ret2, &r2);
	}
}

/*
 * WRITE AND VERIFY with BYTCHK 01b: written durably, read back, compared,
 * 512 KiB at a time (two passes here); BYTCHK 00b is a durable write;
 * BYTCHK 10b is refused and writes nothing.
 */
static void test_write_verify(struct scsic *c)
{
	const uint32_t lba = 16384, n = 2048, len = n * LBS;
	uint8_t *want = malloc(len), cdb[16];
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(want, len, 12);
	memcpy(c->dout, want, len);
	cdb10(cdb, 0x2e, 0x02, lba, (uint16_t)n);
	ret = scsic_cmd(c, lun_a, cdb, 10, len, 0, &r);
	verdict_check(&v, good(ret, &r) && r.resid == 0 && r.used_len == SCSIC_RESP_SIZE,
		      "WRITE AND VERIFY(10) BYTCHK 01b: ret %d status %u key 0x%x asc 0x%04x",
		      ret, r.status, sense_key(&r), sense_asc(&r));
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the image does not hold what WRITE AND VERIFY(10) wrote");
	pattern(want, 8 * LBS, 13);
	memcpy(c->dout, want, 8 * LBS);
	cdb16(cdb, 0x8e, 0, lba, 8);
	ret = scsic_cmd(c, lun_a, cdb, 16, 8 * LBS, 0, &r);
	verdict_check(&v, good(ret, &r) && host_is(want, 8 * LBS, (off_t)lba * LBS),
		      "WRITE AND VERIFY(16) BYTCHK 00b: status %u, or not in the image",
		      r.status);
	memset(c->dout, 0x77, 8 * LBS);
	cdb16(cdb, 0x8e, 0x04, lba, 8);
	ret = scsic_cmd(c, lun_a, cdb, 16, 8 * LBS, 0, &r);
	verdict_check(&v, check_cond(ret, &r, KEY_ILLEGAL, 0x2400) &&
		      host_is(want, 8 * LBS, (off_t)lba * LBS),
		      "WRITE AND VERIFY(16) BYTCHK 10b: key 0x%x asc 0x%04x, or it wrote",
		      sense_key(&r), sense_asc(&r));
	cdb10(cdb, 0x35, 0x02, 0, 0);
	expect_good(&v, c, cdb, 10, 0, "SYNCHRONIZE CACHE(10) with IMMED");
	free(want);
	if (!ok(!v.fail[0], "WRITE AND VERIFY: BYTCHK 01b compares 1 MiB in two passes, 00b writes, 10b is refused; SYNCHRONIZE CACHE with IMMED completes GOOD"))
		tap_diag("%s", v.fail);
}

static void test_compare_and_write(struct scsic *c)
{
	const uint32_t lba = 7000, n = 8, len = n * LBS;
	uint8_t cdb[16], *cmp = c->dout, *wr = c->dout + len;
	struct scsic_res r1, r2;
	uint32_t info;
	int ret1, ret2;
	bool landed, kept;

	pattern(cmp, len, 21);
	pattern(wr, len, 22);
	host_pwrite(cmp, len, (off_t)lba * LBS);
	cdb_caw(cdb, lba, n);
	ret1 = scsic_cmd(c, lun_a, cdb, 16, 2 * len, 0, &r1);
	landed = host_is(wr, len, (off_t)lba * LBS);
	/* Now compare with what was written, one byte changed. */
	memcpy(cmp, wr, len);
	cmp[1234] ^= 0x01;
	pattern(wr, len, 23);
	ret2 = scsic_cmd(c, lun_a, cdb, 16, 2 * len, 0, &r2);
	info = get32(r2.sense + 3);
	cmp[1234] ^= 0x01;
	kept = host_is(cmp, len, (off_t)lba * LBS);
	if (!ok(good(ret1, &r1) && landed &&
		check_cond(ret2, &r2, KEY_MISCOMPARE, 0x1d00) &&
		(r2.sense[0] & 0x80) && info == 1234 && kept,
		"COMPARE AND WRITE: writes on a match; MISCOMPARE 1D/00 with the offset 1234 in INFORMATION, and no write, on a mismatch")) {
		diag_res("match", ret1, &r1);
		diag_res("mismatch", ret2, &r2);
		tap_diag("written: %d, info valid %d offset %u, unchanged after the mismatch: %d",
			 landed, !!(r2.sense[0] & 0x80), info, kept);
	}
}

static void test_sync_cache(struct scsic *c)
{
	uint8_t cdb[16] = { 0x35 };
	struct scsic_res r1, r2;
	int ret1, ret2;

	ret1 = scsic_cmd(c, lun_a, cdb, 10, 0, 0, &r1);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x91;
	ret2 = scsic_cmd(c, lun_a, cdb, 16, 0, 0, &r2);
	if (!ok(good(ret1, &r1) && good(ret2, &r2) &&
		r1.used_len == SCSIC_RESP_SIZE && r2.used_len == SCSIC_RESP_SIZE,
		"SYNCHRONIZE CACHE(10) and (16): GOOD")) {
		diag_res("(10)", ret1, &r1);
		diag_res("(16)", ret2, &r2);
	}
}

/* ---- cache modes ----------------------------------------------------------- */

/*
 * One daemon with a LUN in each cache mode, each on its own image.  WCE
 * starts from the mode, in MODE SENSE(6) and (10), current and default
 * values; what a write leaves in the host page cache (cachestat(2)) shows
 * whether it went around it (O_DIRECT) and whether it was durable when it
 * completed.  The guest may turn WCE on or off in every mode.
 */
struct cache_lun {
	const char *mode;
	bool wce;		/* WCE at start-up */
	bool direct;
	char img[300];
	char arg[400];
	uint8_t addr[8];
};

static struct cache_lun cache_luns[] = {
	{ .mode = "none", .wce = true, .direct = true },
	{ .mode = "writeback", .wce = true, .direct = false },
	{ .mode = "writethrough", .wce = false, .direct = false },
	{ .mode = "directsync", .wce = false, .direct = true },
};

#define CACHE_BLOCKS	128	/* 64 KiB per write */

/* WCE of the caching page MODE SENSE(6) or (10) returns for pc (0 or 2). */
static int sense_wce(struct scsic *c, const uint8_t *lun, bool ten,
		     uint8_t pc)
{
	uint8_t cdb[10] = { 0 };
	struct scsic_res r;
	int ret;

	cdb[0] = ten ? 0x5a : 0x1a;
	cdb[1] = 0x08;				/* DBD: the page comes first */
	cdb[2] = (uint8_t)(pc << 6 | 0x08);	/* caching page */
	if (ten)
		put16(cdb + 7, 255);
	else
		cdb[4] = 255;
	memset(c->din, 0xee, 255);
	ret = scsic_cmd(c, lun, cdb, ten ? 10 : 6, 0, 255, &r);
	if (!good(ret, &r) || c->din[ten ? 8 : 4] != 0x08)
		return -1;
	return !!(c->din[(ten ? 8 : 4) + 2] & 0x04);
}

/* MODE SELECT(6) of the caching page with WCE as given. */
static bool select_wce(struct scsic *c, const uint8_t *lun, bool wce)
{
	uint8_t cdb[6] = { 0x15, 0x10, 0, 0, 24, 0 };
	struct scsic_res r;

	memset(c->dout, 0, 24);
	c->dout[4] = 0x08;
	c->dout[5] = 0x12;
	c->dout[6] = wce ? 0x04 : 0;
	return good(scsic_cmd(c, lun, cdb, 6, 24, 0, &r), &r);
}

/* WRITE(10) of 64 KiB at lba lands in l's image; ps: the page cache after. */
static bool cache_write(struct scsic *c, const struct cache_lun *l,
			uint32_t lba, unsigned int seed, struct page_state *ps,
			bool *seen)
{
	const uint32_t len = CACHE_BLOCKS * LBS;
	uint8_t *want = malloc(len), *host = malloc(len);
	struct scsic_res r;
	bool landed;
	int ret;

	pattern(want, len, seed);
	memcpy(c->dout, want, len);
	ret = rw10(c, l->addr, 0x2a, 0, lba, CACHE_BLOCKS, len, &r);
	/* Before reading the file, which would fill the page cache. */
	*seen = page_state(l->img, (uint64_t)lba * LBS, len, ps) == 0;
	host_pread(l->img, host, len, (off_t)lba * LBS);
	landed = good(ret, &r) && !memcmp(host, want, len);
	free(want);
	free(host);
	return landed;
}

static void check_pages(const struct cache_lun *l, bool seen,
			const struct page_state *ps, bool wce, const char *what)
{
	if (!seen) {
		tap_skip("cachestat(2) cannot see this image's page cache");
		return;
	}
	if (l->direct)
		ok(ps->cached == 0, "cache=%s: %s went around the page cache (%llu pages cached)",
		   l->mode, what, (unsigned long long)ps->cached);
	else if (wce)
		ok(ps->cached > 0 && ps->dirty > 0,
		   "cache=%s: %s is left in the page cache, dirty (%llu cached, %llu dirty)",
		   l->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty);
	else
		ok(ps->cached > 0 && ps->dirty == 0 && ps->writeback == 0,
		   "cache=%s: %s is durable when it completes (%llu cached, %llu dirty, %llu under writeback)",
		   l->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty, (unsigned long long)ps->writeback);
}

static void cache_lun_case(struct scsic *c, const struct cache_lun *l)
{
	struct page_state ps;
	struct scsic_res r;
	uint8_t cdb[10];
	bool seen;
	int ret;

	tur(c, l->addr, &r);	/* the power-on unit attention */
	ok(sense_wce(c, l->addr, false, 0) == l->wce &&
	   sense_wce(c, l->addr, true, 0) == l->wce,
	   "cache=%s: MODE SENSE(6) and (10) report WCE %d at start-up", l->mode, l->wce);
	ok(sense_wce(c, l->addr, false, 2) == l->wce,
	   "cache=%s: the default value of WCE is %d", l->mode, l->wce);
	ok(cache_write(c, l, 1000, 90, &ps, &seen), "cache=%s: WRITE(10) lands in the image", l->mode);
	check_pages(l, seen, &ps, l->wce, "a write at start-up");

	ok(select_wce(c, l->addr, !l->wce) &&
	   sense_wce(c, l->addr, false, 0) == !l->wce &&
	   sense_wce(c, l->addr, true, 2) == l->wce,
	   "cache=%s: MODE SELECT turns WCE to %d; the default value stays %d",
	   l->mode, !l->wce, l->wce);
	ok(cache_write(c, l, 2000, 91, &ps, &seen),
	   "cache=%s: WRITE(10) with WCE %d lands in the image", l->mode, !l->wce);
	check_pages(l, seen, &ps, !l->wce, "a write after MODE SELECT");
	cdb10(cdb, 0x35, 0, 0, 0);
	ret = scsic_cmd(c, l->addr, cdb, 10, 0, 0, &r);
	ok(good(ret, &r), "cache=%s: SYNCHRONIZE CACHE(10) is GOOD", l->mode);
	if (!l->direct && page_state(l->img, 0, 4096 * LBS, &ps) == 0)
		ok(ps.dirty == 0 && ps.writeback == 0,
		   "cache=%s: after SYNCHRONIZE CACHE no page is dirty", l->mode);
}

static void test_cache_modes(void)
{
	const char *args[ARRAY_SIZE(cache_luns) + 3];
	unsigned int n = 0;
	struct daemon d;
	struct scsic c;
	int ret;

	for (unsigned int i = 0; i < ARRAY_SIZE(cache_luns); i++) {
		struct cache_lun *l = &cache_luns[i];

		snprintf(l->img, sizeof(l->img), "%s/cache-%s.img", harness_dir(), l->mode);
		image_create(l->img, 4u << 20);
		snprintf(l->arg, sizeof(l->arg), "--lun=%u,file=%s,cache=%s", i, l->img, l->mode);
		scsic_lun(l->addr, 0, i);
		args[n++] = l->arg;
	}
	args[n++] = env.aio_arg;
	args[n] = NULL;
	ret = daemon_start_bin(&d, scsi_daemon_binary(), args);
	if (!ok(ret == 0, "a daemon with a LUN in each cache mode starts")) {
		daemon_log_diag(&d, 0);
		return;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(cache_luns); i++) {
		char line[128];

		snprintf(line, sizeof(line), "cache-%s.img: 8192 blocks of 512 bytes, cache=%s",
			 cache_luns[i].mode, cache_luns[i].mode);
		ok(daemon_log_has(&d, line), "LUN %u's start-up line names cache=%s", i,
		   cache_luns[i].mode);
	}
	ret = scsic_open(&c, d.sock, 1, ~0ull);
	if (ok(ret == 0, "cache modes: connect (%s)", strerror(-ret))) {
		for (unsigned int i = 0; i < ARRAY_SIZE(cache_luns); i++)
			cache_lun_case(&c, &cache_luns[i]);
	}
	scsic_close(&c);
	ok(daemon_stop(&d) == 0, "cache modes: the daemon exits 0 on SIGTERM");
}

/* ---- command line ------------------------------------------------------ */

static void test_cli(void)
{
	char out[4096], lun[400];
	const char *args[] = { "--socket-path=/tmp/x", lun, NULL };

	snprintf(lun, sizeof(lun), "--lun=0,file=%s,cache=unsafe", env.img);
	ok(run_daemon_cmd_bin(scsi_daemon_binary(), args, out, sizeof(out)) == 1 &&
	   strchr(out, '\n') == out + strlen(out) - 1 &&
	   strstr(out, "cache=unsafe: expected none, writeback, writethrough or directsync"),
	   "--lun with cache=unsafe exits 1 with one line listing the cache modes");
	snprintf(lun, sizeof(lun), "--lun=0,file=%s,cache", env.img);
	ok(run_daemon_cmd_bin(scsi_daemon_binary(), args, out, sizeof(out)) == 1 &&
	   strstr(out, "bad item \"cache\""),
	   "--lun with cache and no value exits 1 naming the item");
}

/* ---- main ---------------------------------------------------------------- */

static void run_cases(struct scsic *c)
{
	test_power_on_ua(c);
	test_inquiry_capacity(c);
	test_write_read(c);
	test_fua(c);
	test_resid(c);
	test_short_din(c);
	test_bidi(c);
	test_bad_target(c);
	test_absent_lun(c);
	test_report_luns(c);
	test_unknown_opcode(c);
	test_split_header(c);
	test_shared_desc(c);
	test_unmap(c);
	test_write_same(c);
	test_verify(c);
	test_write_verify(c);
	test_sync_cache(c);
	test_compare_and_write(c);
}

int main(void)
{
	struct daemon d;
	struct scsic c;
	int ret;

	if (!scsi_front_init())
		return 0;
	dmn = &d;
	if (!scsi_front_start(&d)) {
		harness_cleanup();
		return tap_done();
	}
	/* The daemon serves one front end at a time. */
	ret = open_client(&c, &d);
	if (ok(ret == 0, "connect: control, event and 2 request queues (%s)",
	       strerror(-ret)))
		run_cases(&c);
	scsic_close(&c);
	scsi_front_stop(&d);
	test_cache_modes();
	test_cli();
	harness_cleanup();
	return tap_done();
}
