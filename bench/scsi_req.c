// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_req.c: owns the SCSI commands of vhost-uring-bench: the CDBs it
 * sends (the command header is the front-end library's), and the verdict
 * on a response, with sense data decoded (fixed or descriptor format) into
 * words a person can act on.
 */
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "scsi_req.h"

#define OP_TEST_UNIT_READY	0x00
#define OP_READ16		0x88
#define OP_WRITE16		0x8a
#define OP_SERVICE_ACTION_IN16	0x9e
#define SA_READ_CAPACITY16	0x10
#define OP_MODE_SENSE6		0x1a
#define MODE_DBD		0x08	/* disable block descriptors */
#define MODE_PAGE_ALL		0x3f
#define MODE_WP			0x80	/* device-specific parameter: WP */

#define STATUS_GOOD		0x00
#define STATUS_CHECK_CONDITION	0x02
#define SENSE_KEY_UNIT_ATTENTION 0x6
#define RESP_UNSET		0xff	/* not a response code the device uses */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

void scsi_req_tur(struct virtio_scsi_cmd_req *req)
{
	memset(req->cdb, 0, sizeof(req->cdb));
	req->cdb[0] = OP_TEST_UNIT_READY;
}

void scsi_req_read_capacity16(struct virtio_scsi_cmd_req *req)
{
	memset(req->cdb, 0, sizeof(req->cdb));
	req->cdb[0] = OP_SERVICE_ACTION_IN16;
	req->cdb[1] = SA_READ_CAPACITY16;
	put_be32(req->cdb + 10, SCSI_READCAP16_LEN);
}

void scsi_req_mode_sense6(struct virtio_scsi_cmd_req *req)
{
	memset(req->cdb, 0, sizeof(req->cdb));
	req->cdb[0] = OP_MODE_SENSE6;
	req->cdb[1] = MODE_DBD;
	req->cdb[2] = MODE_PAGE_ALL;	/* current values */
	req->cdb[4] = SCSI_MODE_HDR6_LEN;
}

/* The hot path: bytes 0-15 only; the rest of the CDB stays zero. */
void scsi_req_rw16(struct virtio_scsi_cmd_req *req, bool write, uint64_t lba,
		   uint32_t nblocks)
{
	req->cdb[0] = write ? OP_WRITE16 : OP_READ16;
	req->cdb[1] = 0;			/* no FUA, no protection */
	put_be64(req->cdb + 2, lba);
	put_be32(req->cdb + 10, nblocks);
	req->cdb[14] = 0;
	req->cdb[15] = 0;
}

void scsi_resp_clear(struct virtio_scsi_cmd_resp *resp)
{
	resp->response = RESP_UNSET;
	resp->status = 0xff;
	resp->sense_len = 0;
	resp->resid = 0;
}

static const char *response_name(uint8_t r)
{
	static const char *const names[] = {
		[VIRTIO_SCSI_S_OK] = "OK",
		[VIRTIO_SCSI_S_OVERRUN] = "OVERRUN",
		[VIRTIO_SCSI_S_ABORTED] = "ABORTED",
		[VIRTIO_SCSI_S_BAD_TARGET] = "BAD_TARGET",
		[VIRTIO_SCSI_S_RESET] = "RESET",
		[VIRTIO_SCSI_S_BUSY] = "BUSY",
		[VIRTIO_SCSI_S_TRANSPORT_FAILURE] = "TRANSPORT_FAILURE",
		[VIRTIO_SCSI_S_TARGET_FAILURE] = "TARGET_FAILURE",
		[VIRTIO_SCSI_S_NEXUS_FAILURE] = "NEXUS_FAILURE",
		[VIRTIO_SCSI_S_FAILURE] = "FAILURE",
		[VIRTIO_SCSI_S_FUNCTION_SUCCEEDED] = "FUNCTION_SUCCEEDED",
		[VIRTIO_SCSI_S_FUNCTION_REJECTED] = "FUNCTION_REJECTED",
		[VIRTIO_SCSI_S_INCORRECT_LUN] = "INCORRECT_LUN",
	};

	return r < sizeof(names) / sizeof(names[0]) ? names[r] : NULL;
}

static const char *status_name(uint8_t s)
{
	switch (s) {
	case 0x00: return "GOOD";
	case 0x02: return "CHECK CONDITION";
	case 0x04: return "CONDITION MET";
	case 0x08: return "BUSY";
	case 0x18: return "RESERVATION CONFLICT";
	case 0x28: return "TASK SET FULL";
	case 0x30: return "ACA ACTIVE";
	case 0x40: return "TASK ABORTED";
	default: return NULL;
	}
}

static const char *sense_key_name(uint8_t k)
{
	static const char *const names[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION",
		"DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC", "COPY ABORTED",
		"ABORTED COMMAND", "RESERVED (0xc)", "VOLUME OVERFLOW",
		"MISCOMPARE", "COMPLETED",
	};

	return names[k & 0xf];
}

/* The additional sense codes a disk is likely to return. */
static const char *asc_name(uint8_t asc, uint8_t ascq)
{
	static const struct { uint16_t code; const char *name; } t[] = {
		{ 0x0400, "logical unit not ready" },
		{ 0x0c00, "write error" },
		{ 0x1100, "unrecovered read error" },
		{ 0x1a00, "parameter list length error" },
		{ 0x2000, "invalid command operation code" },
		{ 0x2100, "logical block address out of range" },
		{ 0x2400, "invalid field in CDB" },
		{ 0x2500, "logical unit not supported" },
		{ 0x2700, "write protected" },
		{ 0x2900, "power on, reset, or bus device reset occurred" },
		{ 0x2903, "bus device reset function occurred" },
		{ 0x2907, "I_T nexus loss occurred" },
		{ 0x2a09, "capacity data has changed" },
		{ 0x3f0e, "reported LUNs data has changed" },
		{ 0x4400, "internal target failure" },
	};
	uint16_t code = (uint16_t)asc << 8 | ascq;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].code == code)
			return t[i].name;
	}
	return NULL;
}

/* Sense key, ASC and ASCQ from fixed (70h/71h) or descriptor (72h/73h) data. */
static bool decode_sense(const struct virtio_scsi_cmd_resp *resp, uint8_t *key,
			 uint8_t *asc, uint8_t *ascq)
{
	uint32_t n = le32toh(resp->sense_len);
	const uint8_t *s = resp->sense;

	if (n > VIRTIO_SCSI_SENSE_SIZE)
		n = VIRTIO_SCSI_SENSE_SIZE;
	switch (n ? s[0] & 0x7f : 0) {
	case 0x70:
	case 0x71:
		if (n < 14)
			return false;
		*key = s[2] & 0xf;
		*asc = s[12];
		*ascq = s[13];
		return true;
	case 0x72:
	case 0x73:
		if (n < 4)
			return false;
		*key = s[1] & 0xf;
		*asc = s[2];
		*ascq = s[3];
		return true;
	default:
		return false;
	}
}

static enum scsi_verdict check_status(const struct virtio_scsi_cmd_resp *resp,
				      char *msg, size_t len)
{
	const char *sname = status_name(resp->status), *aname;
	uint8_t key, asc, ascq;
	int n;

	if (sname)
		n = snprintf(msg, len, "status %s", sname);
	else
		n = snprintf(msg, len, "status 0x%02x", resp->status);
	if (resp->status != STATUS_CHECK_CONDITION || n < 0 || (size_t)n >= len)
		return SCSI_V_FAILED;
	if (!decode_sense(resp, &key, &asc, &ascq)) {
		snprintf(msg + n, len - n, " without usable sense data (%u bytes)",
			 le32toh(resp->sense_len));
		return SCSI_V_FAILED;
	}
	aname = asc_name(asc, ascq);
	snprintf(msg + n, len - n, ", sense key %s, ASC/ASCQ %02xh/%02xh%s%s%s",
		 sense_key_name(key), asc, ascq, aname ? " (" : "",
		 aname ? aname : "", aname ? ")" : "");
	return key == SENSE_KEY_UNIT_ATTENTION ? SCSI_V_UNIT_ATTENTION :
						 SCSI_V_FAILED;
}

enum scsi_verdict scsi_resp_check(const struct virtio_scsi_cmd_resp *resp,
				  char *msg, size_t len)
{
	const char *rname;

	if (resp->response == RESP_UNSET) {
		snprintf(msg, len, "the back-end did not write the response header");
		return SCSI_V_FAILED;
	}
	if (resp->response != VIRTIO_SCSI_S_OK) {
		rname = response_name(resp->response);
		if (rname)
			snprintf(msg, len, "response %s", rname);
		else
			snprintf(msg, len, "response %u (unknown)", resp->response);
		return SCSI_V_FAILED;
	}
	if (resp->status != STATUS_GOOD)
		return check_status(resp, msg, len);
	if (resp->resid) {
		snprintf(msg, len, "status GOOD but %u bytes not transferred (residual)",
			 le32toh(resp->resid));
		return SCSI_V_FAILED;
	}
	return SCSI_V_OK;
}

bool scsi_mode6_write_protected(const uint8_t *hdr)
{
	return hdr[2] & MODE_WP;
}

int scsi_parse_capacity16(const uint8_t *data, uint64_t *nblocks,
			  uint32_t *block_len)
{
	uint64_t last = get_be64(data);

	*block_len = get_be32(data + 8);
	if (last == UINT64_MAX || !*block_len)
		return -1;
	*nblocks = last + 1;
	return 0;
}
