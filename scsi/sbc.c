// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sbc.c: the block commands (SBC-3) of a disk logical unit: decoding READ,
 * WRITE, WRITE AND VERIFY, VERIFY (6/10/12/16 where they exist), SYNCHRONIZE
 * CACHE, WRITE SAME, UNMAP and COMPARE AND WRITE into I/O for the device to
 * run, with every field and range checked; and answering READ CAPACITY(10)
 * and (16).
 */
#include <string.h>

#include "scsi_cmd.h"

/* An LBA range is inside the medium; false with sense set. */
static bool range_ok(const struct scsi_lu *lu, struct scsi_cmd *c,
		     uint64_t lba, uint64_t n)
{
	if (lba > lu->nblocks || n > lu->nblocks - lba) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE,
			  "LBA range beyond the end of the medium");
		return false;
	}
	return true;
}

static bool writable(const struct scsi_lu *lu, struct scsi_cmd *c)
{
	if (lu->read_only) {
		scsi_fail(c, SK_DATA_PROTECT, ASC_WRITE_PROTECTED,
			  "write to a read-only LUN");
		return false;
	}
	return true;
}

/* Where the LBA and the transfer length of a read or write CDB are. */
static bool rw_fields(const uint8_t *cdb, uint64_t *lba, uint32_t *n)
{
	switch (cdb[0]) {
	case SCSI_OP_READ_6:
	case SCSI_OP_WRITE_6:
		*lba = get_be24(cdb + 1) & 0x1fffff;
		*n = cdb[4] ? cdb[4] : 256;
		return true;
	case SCSI_OP_READ_10:
	case SCSI_OP_WRITE_10:
	case SCSI_OP_WRITE_VERIFY_10:
	case SCSI_OP_VERIFY_10:
		*lba = get_be32(cdb + 2);
		*n = get_be16(cdb + 7);
		return true;
	case SCSI_OP_READ_12:
	case SCSI_OP_WRITE_12:
	case SCSI_OP_WRITE_VERIFY_12:
	case SCSI_OP_VERIFY_12:
		*lba = get_be32(cdb + 2);
		*n = get_be32(cdb + 6);
		return true;
	case SCSI_OP_READ_16:
	case SCSI_OP_WRITE_16:
	case SCSI_OP_WRITE_VERIFY_16:
	case SCSI_OP_VERIFY_16:
		*lba = get_be64(cdb + 2);
		*n = get_be32(cdb + 10);
		return true;
	default:
		return false;
	}
}

static void read_write(struct scsi_lu *lu, struct scsi_cmd *c,
		       enum scsi_exec exec)
{
	const uint8_t *cdb = c->cdb;
	bool six = cdb[0] == SCSI_OP_READ_6 || cdb[0] == SCSI_OP_WRITE_6;
	uint64_t lba;
	uint32_t n;

	rw_fields(cdb, &lba, &n);
	if (!six && (cdb[1] & 0xe0)) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "protection information is not supported");
		return;
	}
	if (exec != SCSI_X_READ && !writable(lu, c))
		return;
	if (!range_ok(lu, c, lba, n))
		return;
	if (n > SCSI_MAX_XFER_BLOCKS) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "transfer longer than the block limits allow");
		return;
	}
	if (n == 0)
		return;
	c->exec = exec;
	c->lba = lba;
	c->nblocks = n;
	c->fua = !six && (cdb[1] & 0x08);
	if (exec == SCSI_X_READ)
		c->xfer_in = n * lu->lbs;
	else
		c->xfer_out = n * lu->lbs;
}

/* VERIFY: without BYTCHK a file has nothing to check; with it, compare. */
static void verify(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	uint8_t bytchk = (cdb[1] >> 1) & 0x03;
	uint64_t lba;
	uint32_t n;

	rw_fields(cdb, &lba, &n);
	if (cdb[1] & 0xe0 || bytchk > 1) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "VERIFY with protection or BYTCHK other than 0 and 1");
		return;
	}
	if (!range_ok(lu, c, lba, n))
		return;
	if (n > SCSI_MAX_XFER_BLOCKS) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "verification longer than the block limits allow");
		return;
	}
	if (!bytchk || n == 0)
		return;
	c->exec = SCSI_X_VERIFY;
	c->bytchk = true;
	c->lba = lba;
	c->nblocks = n;
	c->xfer_out = n * lu->lbs;
}

/*
 * WRITE AND VERIFY (SBC-4): BYTCHK 00b verifies the medium after the
 * write; 01b compares the data-out with what the medium holds after the
 * write; 10b is reserved, and so is 11b for this command (VERIFY's
 * single-block compare has no WRITE AND VERIFY form): both are refused.
 * A file or a host block device has no medium check of its own to run:
 * for 00b, a write the host storage accepted and made durable (the FUA
 * path, RWF_DSYNC) is the verification, and reading it back through the
 * page cache would check nothing.  01b is a real comparison: the device
 * writes each chunk durably, reads it back from the backing store and
 * compares it with what it wrote (SCSI_X_WRITE_VERIFY).
 */
static void write_verify(struct scsi_lu *lu, struct scsi_cmd *c)
{
	uint8_t bytchk = (c->cdb[1] >> 1) & 0x03;

	if (bytchk > 1) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "WRITE AND VERIFY with BYTCHK 10b or 11b (reserved)");
		return;
	}
	read_write(lu, c, SCSI_X_WRITE);
	if (c->exec != SCSI_X_WRITE)
		return;
	c->fua = true;
	if (bytchk) {
		c->exec = SCSI_X_WRITE_VERIFY;
		c->bytchk = true;
	}
}

static void sync_cache(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	bool ten = cdb[0] == SCSI_OP_SYNC_CACHE_10;
	uint64_t lba = ten ? get_be32(cdb + 2) : get_be64(cdb + 2);
	uint32_t n = ten ? get_be16(cdb + 7) : get_be32(cdb + 10);

	/*
	 * IMMED only allows GOOD before the cache is synchronized; status
	 * after the flush is a stronger answer, so the bit is accepted and
	 * the flush always completes first.
	 */
	if (!range_ok(lu, c, lba, n))
		return;
	c->exec = SCSI_X_FLUSH;
}

static void write_same(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	bool ten = cdb[0] == SCSI_OP_WRITE_SAME_10;
	uint64_t lba = ten ? get_be32(cdb + 2) : get_be64(cdb + 2);
	uint32_t n = ten ? get_be16(cdb + 7) : get_be32(cdb + 10);
	bool unmap = cdb[1] & 0x08, ndob = !ten && (cdb[1] & 0x01);

	/*
	 * Byte 1: WRPROTECT (7-5) needs protection information, which no LU
	 * has; ANCHOR (4) is not supported (ANC_SUP 0 in VPD B2h).  PBDATA
	 * (2) and LBDATA (1) ask for the physical or logical block address
	 * to be written into each block: SBC-3 says a device server that
	 * does not support them shall refuse them (SBC-4 made them
	 * obsolete).  Bit 0 is NDOB in the 16-byte CDB, obsolete in the
	 * 10-byte one.
	 */
	if (cdb[1] & 0xe0) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "protection information is not supported");
		return;
	}
	if (cdb[1] & 0x10) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "WRITE SAME with ANCHOR");
		return;
	}
	if (cdb[1] & 0x06) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "WRITE SAME with PBDATA or LBDATA");
		return;
	}
	if (ten && (cdb[1] & 0x01)) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "WRITE SAME(10) with its obsolete bit 0");
		return;
	}
	if (!writable(lu, c))
		return;
	if (n == 0 || n > SCSI_MAX_WS_BLOCKS) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "WRITE SAME length is 0 or beyond the block limits");
		return;
	}
	if (!range_ok(lu, c, lba, n))
		return;
	c->exec = SCSI_X_WRITE_SAME;
	c->lba = lba;
	c->nblocks = n;
	c->unmap = unmap && lu->thin;
	c->ndob = ndob;
	c->xfer_out = ndob ? 0 : lu->lbs;
}

static void unmap(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb, *p = c->param;
	uint32_t len = get_be16(cdb + 7), dlen;

	c->xfer_out = len;
	if (cdb[1] & 0x01) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "UNMAP with ANCHOR");
		return;
	}
	if (!writable(lu, c))
		return;
	if (len == 0)
		return;
	if (len < 8 || len > c->param_len) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
			  "UNMAP parameter list shorter than its header");
		return;
	}
	dlen = get_be16(p + 2);
	if (dlen % 16 || dlen > len - 8 || get_be16(p) + 2u < dlen + 8u) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
			  "UNMAP block descriptor data length is inconsistent");
		return;
	}
	if (dlen / 16 > SCSI_MAX_UNMAP_DESCS) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
			  "more UNMAP descriptors than the block limits allow");
		return;
	}
	for (uint32_t i = 0; i < dlen / 16; i++) {
		const uint8_t *d = p + 8 + 16 * i;
		uint64_t lba = get_be64(d);
		uint32_t n = get_be32(d + 8);

		if (!range_ok(lu, c, lba, n))
			return;
		if (n > SCSI_MAX_UNMAP_BLOCKS) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
				  "UNMAP descriptor beyond the block limits");
			return;
		}
		if (n == 0)
			continue;
		c->unmap_list[c->nunmap].lba = lba;
		c->unmap_list[c->nunmap++].nblocks = n;
	}
	if (c->nunmap)
		c->exec = SCSI_X_UNMAP;
}

/* COMPARE AND WRITE: n blocks to compare, then the same n to write. */
static void compare_and_write(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb;
	uint64_t lba = get_be64(cdb + 2);
	uint32_t n = cdb[13];

	if (cdb[1] & 0xe0) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "protection information is not supported");
		return;
	}
	if (!writable(lu, c))
		return;
	if (n > SCSI_MAX_CAW_BLOCKS) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "COMPARE AND WRITE longer than the block limits allow");
		return;
	}
	if (!range_ok(lu, c, lba, n) || n == 0)
		return;
	c->exec = SCSI_X_COMPARE_WRITE;
	c->lba = lba;
	c->nblocks = n;
	c->fua = cdb[1] & 0x08;
	c->xfer_out = 2 * n * lu->lbs;
}

static void read_capacity(const struct scsi_lu *lu, struct scsi_cmd *c,
			  uint8_t *d)
{
	const uint8_t *cdb = c->cdb;
	uint64_t last = lu->nblocks - 1;
	uint32_t exp = 0;

	if (cdb[0] == SCSI_OP_READ_CAPACITY_10) {
		put_be32(d, last > 0xffffffffull ? 0xffffffff : (uint32_t)last);
		put_be32(d + 4, lu->lbs);
		c->data_len = 8;
		c->xfer_in = 8;
		return;
	}
	while ((lu->lbs << exp) < lu->pbs && exp < 15)
		exp++;
	memset(d, 0, 32);
	put_be64(d, last);
	put_be32(d + 8, lu->lbs);
	d[13] = exp;
	d[14] = (lu->thin ? 0x80 : 0) | (lu->thin && lu->lbprz ? 0x40 : 0);
	c->data_len = 32;
	c->xfer_in = get_be32(cdb + 10);
}

bool sbc_exec(struct scsi_lu *lu, struct scsi_cmd *c, uint8_t *data)
{
	const uint8_t *cdb = c->cdb;

	switch (cdb[0]) {
	case SCSI_OP_READ_6:
	case SCSI_OP_READ_10:
	case SCSI_OP_READ_12:
	case SCSI_OP_READ_16:
		read_write(lu, c, SCSI_X_READ);
		return true;
	case SCSI_OP_WRITE_6:
	case SCSI_OP_WRITE_10:
	case SCSI_OP_WRITE_12:
	case SCSI_OP_WRITE_16:
		read_write(lu, c, SCSI_X_WRITE);
		return true;
	case SCSI_OP_WRITE_VERIFY_10:
	case SCSI_OP_WRITE_VERIFY_12:
	case SCSI_OP_WRITE_VERIFY_16:
		write_verify(lu, c);
		return true;
	case SCSI_OP_VERIFY_10:
	case SCSI_OP_VERIFY_12:
	case SCSI_OP_VERIFY_16:
		verify(lu, c);
		return true;
	case SCSI_OP_SYNC_CACHE_10:
	case SCSI_OP_SYNC_CACHE_16:
		sync_cache(lu, c);
		return true;
	case SCSI_OP_WRITE_SAME_10:
	case SCSI_OP_WRITE_SAME_16:
		write_same(lu, c);
		return true;
	case SCSI_OP_UNMAP:
		if (!lu->thin)
			return false;
		unmap(lu, c);
		return true;
	case SCSI_OP_COMPARE_AND_WRITE:
		compare_and_write(lu, c);
		return true;
	case SCSI_OP_READ_CAPACITY_10:
		read_capacity(lu, c, data);
		return true;
	case SCSI_OP_SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16)
			return false;
		read_capacity(lu, c, data);
		return true;
	default:
		return false;
	}
}
