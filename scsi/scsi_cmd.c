// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_cmd.c: owns the dispatch of a CDB to the primary (spc.c) or block
 * (sbc.c) command set, the CONTROL byte, sense data, unit attentions, and
 * the REPORT LUNS well-known logical unit.  Anything no command set knows
 * is answered with ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE.
 */
#include <string.h>

#include "scsi_cmd.h"

void scsi_build_sense(uint8_t *buf, uint8_t key, uint16_t asc)
{
	memset(buf, 0, SCSI_FIXED_SENSE_LEN);
	buf[0] = 0x70;			/* current error, fixed format */
	buf[2] = key & 0xf;
	buf[7] = SCSI_FIXED_SENSE_LEN - 8;	/* additional length */
	buf[12] = asc >> 8;
	buf[13] = asc & 0xff;
}

/* Done, with this status and sense, and no data-in. */
static void set_result(struct scsi_cmd *c, uint8_t status, uint8_t key,
		       uint16_t asc, const char *why)
{
	c->exec = SCSI_X_DONE;
	c->status = status;
	c->key = key;
	c->asc = asc;
	c->data_len = c->xfer_in = 0;
	c->why = why;
}

void scsi_fail(struct scsi_cmd *c, uint8_t key, uint16_t asc,
	       const char *why)
{
	set_result(c, SAM_CHECK_CONDITION, key, asc, why);
}

bool scsi_needs_param(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case SCSI_OP_MODE_SELECT_6:
	case SCSI_OP_MODE_SELECT_10:
	case SCSI_OP_UNMAP:
	case SCSI_OP_PR_OUT:
		return true;
	default:
		return false;
	}
}

/*
 * Commands a pending unit attention does not stop (SPC-4 5.14): INQUIRY
 * leaves it pending, REQUEST SENSE returns it as its data and REPORT LUNS
 * clears REPORTED LUNS DATA HAS CHANGED (spc.c).
 */
static bool ua_exempt(uint8_t op)
{
	return op == SCSI_OP_INQUIRY || op == SCSI_OP_REPORT_LUNS ||
	       op == SCSI_OP_REQUEST_SENSE;
}

static void reset_result(struct scsi_cmd *c)
{
	set_result(c, SAM_GOOD, SK_NO_SENSE, ASC_NONE, NULL);
	c->lba = 0;
	c->nblocks = 0;
	c->fua = c->unmap = c->ndob = c->bytchk = c->info_valid = false;
	c->info = c->xfer_out = 0;
	c->nunmap = 0;
}

/* The length of a CDB from its operation code's group; 0: no fixed length. */
static unsigned int cdb_length(uint8_t op)
{
	switch (op >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 0;
	}
}

/*
 * The CONTROL byte's NACA bit asks for an auto contingent allegiance on
 * CHECK CONDITION.  There is none here (NORMACA is 0 in the INQUIRY data),
 * and SAM says such a logical unit shall refuse the command.  False, with
 * sense set, if c is refused.
 */
static bool naca_ok(struct scsi_cmd *c)
{
	unsigned int n = cdb_length(c->cdb[0]);

	if (!n || !(c->cdb[n - 1] & 0x04))
		return true;
	scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		  "NACA is not supported");
	return false;
}

void scsi_exec_cdb(struct scsi_lu *lu, const struct scsi_target *t,
		   struct scsi_cmd *c, uint8_t *data)
{
	uint8_t op = c->cdb[0];

	reset_result(c);
	if (lu->pending_ua && !ua_exempt(op)) {
		uint16_t asc = lu->pending_ua;

		lu->pending_ua = 0;
		scsi_fail(c, SK_UNIT_ATTENTION, asc, NULL);
		return;
	}
	/* An unknown command stays INVALID COMMAND OPERATION CODE. */
	if (scsi_op_supported(lu, op) && !naca_ok(c))
		return;
	if (spc_exec(lu, t, c, data) || sbc_exec(lu, c, data))
		return;
	scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE,
		  "unsupported operation code");
}

/* One 8-byte entry of a LUN list. */
static void put_lun(uint8_t *e, uint16_t lun)
{
	memset(e, 0, 8);
	/* Flat space addressing above 255, peripheral below. */
	if (lun > 255) {
		e[0] = 0x40 | (lun >> 8);
		e[1] = lun & 0xff;
	} else {
		e[1] = lun;
	}
}

/*
 * REPORT LUNS, wherever it is addressed: an 8-byte header, then 8 bytes per
 * LUN.  SELECT REPORT 00h lists the LUNs, 01h the well-known LU only, 02h
 * both; 10h and 11h (administrative LUs, SPC-5) are answered as 00h.
 */
void scsi_report_luns(const struct scsi_target *t, struct scsi_cmd *c,
		      uint8_t *data)
{
	const uint8_t *cdb = c->cdb;
	uint8_t sel = cdb[2];
	uint32_t n = 0;

	c->xfer_in = get_be32(cdb + 6);
	if (sel > 2 && sel != 0x10 && sel != 0x11) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "REPORT LUNS select report not supported");
		return;
	}
	if (c->xfer_in < 16) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "REPORT LUNS allocation length below 16");
		return;
	}
	memset(data, 0, 8);
	for (unsigned int i = 0; sel != 0x01 && i < t->nluns &&
	     8 + 8 * (n + 1) <= SCSI_DATA_MAX; i++)
		put_lun(data + 8 + 8 * n++, t->luns[i]);
	if (sel == 0x01 || sel == 0x02) {
		uint8_t *e = data + 8 + 8 * n++;

		memset(e, 0, 8);
		e[0] = 0xc1;	/* the REPORT LUNS well-known LU */
		e[1] = 0x01;
	}
	put_be32(data, n * 8);
	c->data_len = 8 + 8 * n;
}

/*
 * The REPORT LUNS well-known LU answers REPORT LUNS, INQUIRY (as a
 * well-known LU, peripheral type 1Eh), TEST UNIT READY and REQUEST SENSE.
 */
void scsi_exec_wlun(const struct scsi_target *t, struct scsi_cmd *c,
		    uint8_t *data)
{
	const uint8_t *cdb = c->cdb;

	reset_result(c);
	if ((cdb[0] == SCSI_OP_REPORT_LUNS || cdb[0] == SCSI_OP_INQUIRY ||
	     cdb[0] == SCSI_OP_TEST_UNIT_READY ||
	     cdb[0] == SCSI_OP_REQUEST_SENSE) && !naca_ok(c))
		return;
	switch (cdb[0]) {
	case SCSI_OP_REPORT_LUNS:
		scsi_report_luns(t, c, data);
		return;
	case SCSI_OP_INQUIRY:
		if (cdb[1] & 1) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
				  "no VPD pages on the well-known LU");
			return;
		}
		memset(data, 0, 36);
		data[0] = 0x1e;		/* well-known logical unit */
		data[2] = 0x06;		/* SPC-4 */
		data[3] = 0x02;
		data[4] = 36 - 5;
		memcpy(data + 8, "VHURING ", 8);
		memcpy(data + 16, "REPORT LUNS WLUN", 16);
		memcpy(data + 32, "1.0 ", 4);
		c->data_len = 36;
		c->xfer_in = get_be16(cdb + 3);
		return;
	case SCSI_OP_TEST_UNIT_READY:
		return;
	case SCSI_OP_REQUEST_SENSE:
		scsi_build_sense(data, SK_NO_SENSE, ASC_NONE);
		c->data_len = SCSI_FIXED_SENSE_LEN;
		c->xfer_in = cdb[4];
		return;
	default:
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE,
			  "operation code not supported by the REPORT LUNS well-known LU");
	}
}

/*
 * A LUN that does not exist (SPC-4): INQUIRY answers with peripheral
 * qualifier 3, REPORT LUNS works as on any LUN, REQUEST SENSE returns
 * LOGICAL UNIT NOT SUPPORTED as its data, and the rest is refused with it.
 */
void scsi_exec_absent(const struct scsi_target *t, struct scsi_cmd *c,
		      uint8_t *data)
{
	const uint8_t *cdb = c->cdb;

	if (cdb[0] == SCSI_OP_REPORT_LUNS) {
		scsi_exec_wlun(t, c, data);
		return;
	}
	reset_result(c);
	if (cdb[0] == SCSI_OP_INQUIRY && !(cdb[1] & 0x03) && !cdb[2]) {
		memset(data, 0, 36);
		data[0] = 0x7f;		/* no logical unit here */
		data[2] = 0x06;
		data[3] = 0x12;
		data[4] = 36 - 5;
		c->data_len = 36;
		c->xfer_in = get_be16(cdb + 3);
		return;
	}
	if (cdb[0] == SCSI_OP_REQUEST_SENSE && !(cdb[1] & 0x01)) {
		scsi_build_sense(data, SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
		c->data_len = SCSI_FIXED_SENSE_LEN;
		c->xfer_in = cdb[4];
		return;
	}
	scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED,
		  "no such logical unit");
}
