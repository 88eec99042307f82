// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-sbc.c: unit tests of the SCSI block commands (scsi/sbc.c,
 * scsi_cmd.c) with no daemon: READ CAPACITY(10/16), READ and WRITE in
 * every size, WRITE AND VERIFY, VERIFY, SYNCHRONIZE CACHE, COMPARE AND
 * WRITE, WRITE SAME and UNMAP: the I/O each asks of the device, and its
 * range, length and read-only checks with sense key, ASC and ASCQ.
 */
#include <string.h>

#include "scsi-cmd-fixture.h"
#include "tap.h"

/* One of the 10/12/16-byte forms of a read/write-like command. */
static void rw_any(uint8_t op, uint8_t b1, uint64_t lba, uint32_t n)
{
	switch (op & 0xf0) {
	case 0x20:
	case 0x40:
		rw10(op, b1, (uint32_t)lba, (uint16_t)n);
		break;
	case 0xa0:
		rw12(op, b1, (uint32_t)lba, n);
		break;
	default:
		rw16(op, b1, lba, n);
	}
}

/* ---- READ CAPACITY --------------------------------------------------------- */

static void test_read_capacity(void)
{
	CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	run();
	check_good("READ CAPACITY(10)");
	ok(c.data_len == 8 && get_be32(data) == NBLOCKS - 1 && get_be32(data + 4) == 512,
	   "READ CAPACITY(10): last LBA and block length");

	rc16(32);
	run();
	check_good("READ CAPACITY(16)");
	ok(c.data_len == 32 && c.xfer_in == 32 && get_be64(data) == NBLOCKS - 1 &&
	   get_be32(data + 8) == 512 && data[12] == 0,
	   "READ CAPACITY(16): last LBA, block length, no protection");
	ok(data[13] == 3, "READ CAPACITY(16): 8 logical blocks per physical block (exponent 3)");
	ok(data[14] == 0xc0 && data[15] == 0, "READ CAPACITY(16): LBPME and LBPRZ on a thin file");
	lu.lbprz = false;
	run();
	ok(good() && data[14] == 0x80, "READ CAPACITY(16): LBPME without LBPRZ");
	lu.thin = false;
	lu.lbprz = true;
	run();
	ok(good() && data[14] == 0x00,
	   "READ CAPACITY(16): neither LBPME nor LBPRZ without unmap");
	lu.thin = true;

	lu.nblocks = (1ull << 33) + 5;
	lu.lbs = lu.pbs = 4096;
	CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	run();
	ok(good() && get_be32(data) == 0xffffffff && get_be32(data + 4) == 4096,
	   "READ CAPACITY(10) of more than 2^32 blocks says FFFFFFFFh");
	rc16(12);
	run();
	ok(good() && get_be64(data) == (1ull << 33) + 4 && get_be32(data + 8) == 4096 &&
	   data[13] == 0 && c.xfer_in == 12,
	   "READ CAPACITY(16) of more than 2^32 blocks: the 64-bit last LBA");
	lu_reset();

	CDB(0x9e, 0x11);
	put_be32(cdb + 10, 32);
	run();
	ok(c.status == SAM_CHECK_CONDITION && c.key == SK_ILLEGAL_REQUEST &&
	   (c.asc == ASC_INVALID_OPCODE || c.asc == ASC_INVALID_FIELD_IN_CDB),
	   "SERVICE ACTION IN(16) other than READ CAPACITY(16) is refused");
}

/* ---- READ and WRITE ---------------------------------------------------------- */

static const uint8_t reads[] = { 0x28, 0xa8, 0x88 };
static const uint8_t writes[] = { 0x2a, 0xaa, 0x8a };

static void test_rw6(void)
{
	rw6(0x08, NBLOCKS - 1, 1);
	run();
	ok(io_is(SCSI_X_READ, NBLOCKS - 1, 1) && c.xfer_in == 512 && !c.fua,
	   "READ(6) of the last block");
	rw6(0x08, NBLOCKS - 256, 0);
	run();
	ok(io_is(SCSI_X_READ, NBLOCKS - 256, 256) && c.xfer_in == 256 * 512,
	   "READ(6) with transfer length 0 reads 256 blocks");
	rw6(0x08, NBLOCKS - 255, 0);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "READ(6) of 256 blocks past the end");
	rw6(0x08, NBLOCKS, 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "READ(6) one block past the end");
	rw6(0x0a, 7, 2);
	run();
	ok(io_is(SCSI_X_WRITE, 7, 2) && c.xfer_out == 1024 && c.xfer_in == 0,
	   "WRITE(6) of 2 blocks");
	rw6(0x0a, NBLOCKS - 1, 2);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "WRITE(6) across the end");
	lu.read_only = true;
	rw6(0x0a, 0, 1);
	run();
	check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED, "WRITE(6) to a read-only LU");
	rw6(0x08, 0, 1);
	run();
	ok(io_is(SCSI_X_READ, 0, 1), "READ(6) from a read-only LU");
	lu_reset();
}

static void test_rw_one(uint8_t op, bool write)
{
	enum scsi_exec x = write ? SCSI_X_WRITE : SCSI_X_READ;
	const char *name = write ? "WRITE" : "READ";
	int len = op < 0x80 ? 10 : op < 0xa0 ? 16 : 12;

	rw_any(op, 0, NBLOCKS - 1, 1);
	run();
	ok(io_is(x, NBLOCKS - 1, 1) && (write ? c.xfer_out : c.xfer_in) == 512,
	   "%s(%d) of the last block", name, len);
	rw_any(op, 0, 0, 64);
	run();
	ok(io_is(x, 0, 64) && (write ? c.xfer_out : c.xfer_in) == 64 * 512 &&
	   (write ? c.xfer_in : c.xfer_out) == 0 && !c.fua,
	   "%s(%d) of 64 blocks at 0", name, len);
	rw_any(op, 0, NBLOCKS - 1, 2);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "%s(%d) across the end", name, len);
	rw_any(op, 0, NBLOCKS, 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "%s(%d) one block past the end", name, len);
	rw_any(op, 0, len == 16 ? UINT64_MAX : UINT32_MAX, 2);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "%s(%d) at the highest LBA (LBA + length wraps)", name, len);
	rw_any(op, 0, 5, 0);
	run();
	ok(good() && c.xfer_in == 0 && c.xfer_out == 0,
	   "%s(%d) of 0 blocks: GOOD, no I/O", name, len);
	rw_any(op, 0, NBLOCKS + 1, 0);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "%s(%d) of 0 blocks beyond the end", name, len);
	rw_any(op, 0x20, 0, 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "%s(%d) with %sPROTECT set", name, len, write ? "WR" : "RD");
	rw_any(op, 0xe0, 0, 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "%s(%d) with %sPROTECT 7", name, len, write ? "WR" : "RD");
	rw_any(op, 0x08, 3, 1);
	run();
	ok(io_is(x, 3, 1) && c.fua, "%s(%d) with FUA", name, len);

	if (len == 10)
		return;
	lu.nblocks = 1u << 20;
	rw_any(op, 0, 0, SCSI_MAX_XFER_BLOCKS);
	run();
	ok(io_is(x, 0, SCSI_MAX_XFER_BLOCKS), "%s(%d) of the maximum transfer length", name, len);
	rw_any(op, 0, 0, SCSI_MAX_XFER_BLOCKS + 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "%s(%d) beyond the maximum transfer length", name, len);
	lu.nblocks = NBLOCKS;
}

static void test_read_write(void)
{
	test_rw6();
	for (unsigned int i = 0; i < sizeof(reads); i++)
		test_rw_one(reads[i], false);
	for (unsigned int i = 0; i < sizeof(writes); i++)
		test_rw_one(writes[i], true);

	lu.read_only = true;
	for (unsigned int i = 0; i < sizeof(writes); i++) {
		rw_any(writes[i], 0, 0, 1);
		run();
		check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED,
			    "WRITE opcode %02xh to a read-only LU", writes[i]);
		rw_any(reads[i], 0, 0, 1);
		run();
		ok(io_is(SCSI_X_READ, 0, 1), "READ opcode %02xh from a read-only LU", reads[i]);
	}
	lu_reset();

	lu.lbs = lu.pbs = 4096;
	lu.nblocks = 256;
	rw10(0x28, 0, 255, 2);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "4 KiB blocks: the range is counted in logical blocks");
	rw10(0x28, 0, 254, 2);
	run();
	ok(io_is(SCSI_X_READ, 254, 2) && c.xfer_in == 8192, "4 KiB blocks: bytes are 4 KiB a block");
	lu_reset();
}

/* ---- WRITE AND VERIFY, VERIFY, SYNCHRONIZE CACHE ----------------------------- */

static void test_verify(void)
{
	static const uint8_t wv[] = { 0x2e, 0xae, 0x8e };
	static const uint8_t vf[] = { 0x2f, 0xaf, 0x8f };

	for (unsigned int i = 0; i < 3; i++) {
		rw_any(wv[i], 0, NBLOCKS - 4, 4);
		run();
		ok(io_is(SCSI_X_WRITE, NBLOCKS - 4, 4) && c.fua && !c.bytchk &&
		   c.xfer_out == 2048,
		   "WRITE AND VERIFY %02xh with BYTCHK 00b: a durable write", wv[i]);
		rw_any(wv[i], 0, NBLOCKS - 4, 5);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			    "WRITE AND VERIFY %02xh across the end", wv[i]);
		rw_any(wv[i], 0x20, 0, 1);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE AND VERIFY %02xh with WRPROTECT", wv[i]);
		rw_any(wv[i], 0x02, 16, 8);
		run();
		ok(io_is(SCSI_X_WRITE_VERIFY, 16, 8) && c.fua && c.bytchk &&
		   c.xfer_out == 8 * 512 && c.xfer_in == 0,
		   "WRITE AND VERIFY %02xh with BYTCHK 01b: a durable write, read back and compared",
		   wv[i]);
		rw_any(wv[i], 0x02, 16, 0);
		run();
		ok(good() && c.xfer_out == 0,
		   "WRITE AND VERIFY %02xh with BYTCHK 01b of 0 blocks: GOOD, no I/O", wv[i]);
		rw_any(wv[i], 0x02, NBLOCKS - 4, 5);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			    "WRITE AND VERIFY %02xh with BYTCHK 01b across the end", wv[i]);
		rw_any(wv[i], 0x04, 16, 8);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE AND VERIFY %02xh with BYTCHK 10b (reserved)", wv[i]);
		rw_any(wv[i], 0x06, 16, 8);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE AND VERIFY %02xh with BYTCHK 11b (reserved for it)", wv[i]);
		lu.read_only = true;
		rw_any(wv[i], 0, 0, 1);
		run();
		check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED,
			    "WRITE AND VERIFY %02xh to a read-only LU", wv[i]);
		rw_any(wv[i], 0x02, 0, 1);
		run();
		check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED,
			    "WRITE AND VERIFY %02xh with BYTCHK 01b to a read-only LU", wv[i]);
		rw_any(wv[i], 0x04, 0, 1);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE AND VERIFY %02xh with BYTCHK 10b to a read-only LU: the CDB first",
			    wv[i]);
		lu.read_only = false;

		rw_any(vf[i], 0, 8, 4);
		run();
		ok(good() && c.xfer_out == 0, "VERIFY %02xh with BYTCHK 0: GOOD, nothing to do", vf[i]);
		rw_any(vf[i], 0x02, 8, 4);
		run();
		ok(io_is(SCSI_X_VERIFY, 8, 4) && c.bytchk && c.xfer_out == 2048,
		   "VERIFY %02xh with BYTCHK 1: compare 4 blocks of data-out", vf[i]);
		rw_any(vf[i], 0x04, 8, 4);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "VERIFY %02xh with BYTCHK 2 (reserved)", vf[i]);
		rw_any(vf[i], 0x06, 8, 4);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "VERIFY %02xh with BYTCHK 3 (not supported)", vf[i]);
		rw_any(vf[i], 0x02, NBLOCKS - 1, 2);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			    "VERIFY %02xh across the end", vf[i]);
		rw_any(vf[i], 0x00, NBLOCKS, 1);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			    "VERIFY %02xh with BYTCHK 0 past the end", vf[i]);
		rw_any(vf[i], 0x20, 0, 1);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "VERIFY %02xh with VRPROTECT", vf[i]);
		rw_any(vf[i], 0x02, 0, 0);
		run();
		ok(good() && c.xfer_out == 0, "VERIFY %02xh of 0 blocks: GOOD", vf[i]);
		lu.read_only = true;
		rw_any(vf[i], 0x02, 0, 1);
		run();
		ok(io_is(SCSI_X_VERIFY, 0, 1), "VERIFY %02xh on a read-only LU", vf[i]);
		lu.read_only = false;
	}
	lu.nblocks = 1u << 20;
	rw12(0xaf, 0x02, 0, SCSI_MAX_XFER_BLOCKS + 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "VERIFY(12) beyond the maximum transfer length");
	lu_reset();
}

static void test_sync_cache(void)
{
	rw10(0x35, 0, 0, 0);
	run();
	ok(c.exec == SCSI_X_FLUSH && c.status == SAM_GOOD, "SYNCHRONIZE CACHE(10) of everything");
	rw16(0x91, 0, NBLOCKS - 8, 8);
	run();
	ok(c.exec == SCSI_X_FLUSH && c.status == SAM_GOOD, "SYNCHRONIZE CACHE(16) of the last blocks");
	rw10(0x35, 0x02, 0, 0);
	run();
	ok(c.exec == SCSI_X_FLUSH && c.status == SAM_GOOD,
	   "SYNCHRONIZE CACHE(10) with IMMED: a flush, status after it");
	rw16(0x91, 0x02, 0, 8);
	run();
	ok(c.exec == SCSI_X_FLUSH && c.status == SAM_GOOD,
	   "SYNCHRONIZE CACHE(16) with IMMED: a flush, status after it");
	rw10(0x35, 0, NBLOCKS - 8, 9);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "SYNCHRONIZE CACHE(10) across the end");
	rw16(0x91, 0, UINT64_MAX, 2);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "SYNCHRONIZE CACHE(16) whose range wraps");
	lu.read_only = true;
	rw10(0x35, 0, 0, 0);
	run();
	ok(c.exec == SCSI_X_FLUSH, "SYNCHRONIZE CACHE on a read-only LU");
	lu_reset();
}

/* COMPARE AND WRITE(16): the block count is byte 13; data-out holds 2n. */
static void caw(uint8_t b1, uint64_t lba, uint8_t n)
{
	CDB(0x89, b1);
	put_be64(cdb + 2, lba);
	cdb[13] = n;
}

static void test_compare_and_write(void)
{
	caw(0, 100, 4);
	run();
	ok(c.exec == SCSI_X_COMPARE_WRITE && c.status == SAM_GOOD &&
	   c.lba == 100 && c.nblocks == 4 && !c.fua && c.xfer_out == 2 * 4 * 512,
	   "COMPARE AND WRITE of 4 blocks: compare and write halves of 4 KiB");
	caw(0x08, NBLOCKS - SCSI_MAX_CAW_BLOCKS, SCSI_MAX_CAW_BLOCKS);
	run();
	ok(c.exec == SCSI_X_COMPARE_WRITE && c.fua &&
	   c.nblocks == SCSI_MAX_CAW_BLOCKS,
	   "COMPARE AND WRITE with FUA of the most blocks, at the end");
	caw(0, 0, 0);
	run();
	ok(c.exec == SCSI_X_DONE && c.status == SAM_GOOD && c.xfer_out == 0,
	   "COMPARE AND WRITE of 0 blocks does nothing");
	caw(0, 0, SCSI_MAX_CAW_BLOCKS + 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "COMPARE AND WRITE beyond the block limits");
	caw(0, NBLOCKS - 1, 2);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "COMPARE AND WRITE across the end");
	caw(0, UINT64_MAX, 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
		    "COMPARE AND WRITE whose range wraps");
	caw(0x20, 0, 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "COMPARE AND WRITE with WRPROTECT");
	lu.read_only = true;
	caw(0, 0, 1);
	run();
	check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED,
		    "COMPARE AND WRITE to a read-only LU");
	lu_reset();
}

/* ---- WRITE SAME, UNMAP ------------------------------------------------------- */

static void test_write_same(void)
{
	rw10(0x41, 0, 16, 32);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, 16, 32) && !c.unmap && !c.ndob && c.xfer_out == 512,
	   "WRITE SAME(10): one block of data-out written 32 times");
	rw16(0x93, 0, NBLOCKS - 32, 32);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, NBLOCKS - 32, 32) && !c.unmap && c.xfer_out == 512,
	   "WRITE SAME(16) up to the last block");
	rw10(0x41, 0x08, 0, 8);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, 0, 8) && c.unmap, "WRITE SAME(10) with UNMAP on a thin LU");
	rw16(0x93, 0x09, 0, 8);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, 0, 8) && c.unmap && c.ndob && c.xfer_out == 0,
	   "WRITE SAME(16) with UNMAP and NDOB: no data-out");
	rw16(0x93, 0x01, 0, 8);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, 0, 8) && !c.unmap && c.ndob && c.xfer_out == 0,
	   "WRITE SAME(16) with NDOB: zeros");
	lu.thin = false;
	rw16(0x93, 0x08, 0, 8);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, 0, 8) && !c.unmap,
	   "WRITE SAME with UNMAP on an LU without unmap writes instead");
	lu.thin = true;

	rw10(0x41, 0, 0, 0);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "WRITE SAME(10) of 0 blocks (WSNZ)");
	rw16(0x93, 0x08, 0, 0);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "WRITE SAME(16) with UNMAP of 0 blocks (WSNZ)");
	rw10(0x41, 0x18, 0, 8);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "WRITE SAME(10) with ANCHOR");
	rw16(0x93, 0x18, 0, 8);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "WRITE SAME(16) with ANCHOR");
	rw10(0x41, 0x01, 0, 8);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "WRITE SAME(10) with bit 0 (there is no NDOB in it)");
	rw16(0x93, 0x20, 0, 8);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "WRITE SAME(16) with WRPROTECT");
	rw10(0x41, 0x20, 0, 8);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "WRITE SAME(10) with WRPROTECT");
	for (unsigned int i = 0; i < 3; i++) {
		static const uint8_t bits[] = { 0x04, 0x02, 0x06 };
		static const char *const names[] = { "PBDATA", "LBDATA", "PBDATA and LBDATA" };

		rw10(0x41, bits[i], 0, 8);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE SAME(10) with %s", names[i]);
		rw16(0x93, bits[i], 0, 8);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE SAME(16) with %s", names[i]);
		rw16(0x93, bits[i] | 0x09, 0, 8);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "WRITE SAME(16) with UNMAP, NDOB and %s", names[i]);
	}
	rw10(0x41, 0, NBLOCKS - 8, 9);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "WRITE SAME(10) across the end");
	rw16(0x93, 0, UINT64_MAX - 3, 8);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "WRITE SAME(16) whose range wraps");
	lu.nblocks = 1ull << 30;
	rw16(0x93, 0, 0, SCSI_MAX_WS_BLOCKS);
	run();
	ok(io_is(SCSI_X_WRITE_SAME, 0, SCSI_MAX_WS_BLOCKS), "WRITE SAME(16) of the maximum length");
	rw16(0x93, 0, 0, SCSI_MAX_WS_BLOCKS + 1);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "WRITE SAME(16) beyond the maximum length");
	lu.nblocks = NBLOCKS;
	lu.read_only = true;
	rw10(0x41, 0, 0, 8);
	run();
	check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED, "WRITE SAME(10) to a read-only LU");
	rw16(0x93, 0x09, 0, 8);
	run();
	check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED,
		    "WRITE SAME(16) with UNMAP to a read-only LU");
	lu_reset();
}

/* An UNMAP parameter list of n descriptors; returns its length. */
static uint32_t unmap_list(unsigned int n, uint64_t lba0, uint32_t each)
{
	memset(param, 0, 8 + 16 * n);
	put_be16(param, 6 + 16 * n);
	put_be16(param + 2, 16 * n);
	for (unsigned int i = 0; i < n; i++) {
		put_be64(param + 8 + 16 * i, lba0 + 16 * i);
		put_be32(param + 16 + 16 * i, each);
	}
	return 8 + 16 * n;
}

static void test_unmap(void)
{
	uint32_t len;

	len = unmap_list(3, 0, 8);
	put_be32(param + 8 + 16 + 8, 0);	/* the middle one is empty */
	unmap_cdb(0, len);
	run_param(len);
	ok(c.status == SAM_GOOD && c.exec == SCSI_X_UNMAP && c.nunmap == 2 &&
	   c.unmap_list[0].lba == 0 && c.unmap_list[0].nblocks == 8 &&
	   c.unmap_list[1].lba == 32 && c.unmap_list[1].nblocks == 8 && c.xfer_out == len,
	   "UNMAP of three descriptors, one empty: two extents");
	len = unmap_list(1, NBLOCKS - 8, 8);
	unmap_cdb(0, len);
	run_param(len);
	ok(c.exec == SCSI_X_UNMAP && c.nunmap == 1, "UNMAP of the last blocks");
	len = unmap_list(SCSI_MAX_UNMAP_DESCS, 0, 1);
	unmap_cdb(0, len);
	run_param(len);
	ok(c.exec == SCSI_X_UNMAP && c.nunmap == SCSI_MAX_UNMAP_DESCS,
	   "UNMAP of the maximum number of descriptors");
	unmap_cdb(0, 0);
	run_param(0);
	check_good("UNMAP with parameter list length 0");
	len = unmap_list(1, 0, 0);
	unmap_cdb(0, len);
	run_param(len);
	check_good("UNMAP of one empty descriptor");
	len = unmap_list(0, 0, 0);
	unmap_cdb(0, len);
	run_param(len);
	check_good("UNMAP with a header and no descriptors");

	len = unmap_list(1, 0, 8);
	unmap_cdb(0, 7);
	run_param(7);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "UNMAP with a parameter list shorter than its header");
	unmap_cdb(0, len);
	run_param(len - 1);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "UNMAP with less data-out than its parameter list length");
	len = unmap_list(2, 0, 8);
	unmap_cdb(0, 24);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "UNMAP whose descriptor data length exceeds the parameter list");
	len = unmap_list(1, 0, 8);
	put_be16(param, 4);
	unmap_cdb(0, len);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "UNMAP whose data length is shorter than its descriptors");
	len = unmap_list(SCSI_MAX_UNMAP_DESCS + 1, 0, 1);
	unmap_cdb(0, len);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "UNMAP of more descriptors than the block limits allow");
	len = unmap_list(2, NBLOCKS - 24, 8);
	put_be32(param + 8 + 16 + 8, 9);
	unmap_cdb(0, len);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "UNMAP with a range across the end");
	len = unmap_list(1, UINT64_MAX, 2);
	unmap_cdb(0, len);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, "UNMAP with a range that wraps");
	lu.nblocks = 1ull << 30;
	len = unmap_list(1, 0, SCSI_MAX_UNMAP_BLOCKS);
	unmap_cdb(0, len);
	run_param(len);
	ok(c.exec == SCSI_X_UNMAP && c.unmap_list[0].nblocks == SCSI_MAX_UNMAP_BLOCKS,
	   "UNMAP of the maximum unmap LBA count");
	len = unmap_list(1, 0, SCSI_MAX_UNMAP_BLOCKS + 1);
	unmap_cdb(0, len);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "UNMAP beyond the maximum unmap LBA count");
	lu.nblocks = NBLOCKS;
	len = unmap_list(1, 0, 8);
	unmap_cdb(0x01, len);
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "UNMAP with ANCHOR");

	lu.read_only = true;
	unmap_cdb(0, len);
	run_param(len);
	check_sense(SK_DATA_PROTECT, ASC_WRITE_PROTECTED, "UNMAP on a read-only LU");
	lu.read_only = false;
	lu.thin = false;
	run_param(len);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, "UNMAP on an LU without unmap");
	lu_reset();
}

int main(void)
{
	lu_reset();
	test_read_capacity();
	test_read_write();
	test_verify();
	test_sync_cache();
	test_compare_and_write();
	test_write_same();
	test_unmap();
	return tap_done();
}
