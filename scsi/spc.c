// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spc.c: the primary commands (SPC-4) of a disk logical unit: INQUIRY and
 * its VPD pages, TEST UNIT READY, REQUEST SENSE, REPORT LUNS, REPORT
 * SUPPORTED OPERATION CODES, MODE SENSE/SELECT (caching and control pages),
 * START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, the basic persistent
 * reservations of a single initiator, and which operation codes an LU
 * supports.
 */
#include <string.h>

#include "scsi_cmd.h"

#define VENDOR		"VHURING "
#define PRODUCT		"vhost-uring disk"
#define REVISION	"1.0 "

/* ---- INQUIRY ------------------------------------------------------------ */

static uint32_t std_inquiry(const struct scsi_lu *lu, uint8_t *d)
{
	memset(d, 0, 36);
	d[0] = 0x00;		/* connected, direct-access block device */
	d[2] = 0x06;		/* SPC-4 */
	d[3] = 0x12;		/* HISUP, response data format 2 */
	d[4] = 36 - 5;
	d[7] = 0x02;		/* CMDQUE */
	memcpy(d + 8, VENDOR, 8);
	memcpy(d + 16, PRODUCT, 16);
	memcpy(d + 32, REVISION, 4);
	(void)lu;
	return 36;
}

static uint32_t vpd_supported(const struct scsi_lu *lu, uint8_t *d)
{
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	uint32_t n = lu->thin ? 6 : 5;

	memcpy(d + 4, pages, n);
	return n;
}

static uint32_t vpd_serial(const struct scsi_lu *lu, uint8_t *d)
{
	uint32_t n = strlen(lu->serial);

	memcpy(d + 4, lu->serial, n);
	return n;
}

static uint32_t vpd_ident(const struct scsi_lu *lu, uint8_t *d)
{
	uint8_t *p = d + 4;
	uint32_t n = strlen(lu->serial);

	memset(p, 0, 24 + n);
	/* NAA, binary, associated with the logical unit. */
	p[0] = 0x01;
	p[1] = 0x03;
	p[3] = 8;
	put_be64(p + 4, lu->naa);
	p += 12;
	/* T10 vendor ID: the vendor, then the serial number, ASCII. */
	p[0] = 0x02;
	p[1] = 0x01;
	p[3] = 8 + n;
	memcpy(p + 4, VENDOR, 8);
	memcpy(p + 12, lu->serial, n);
	p += 12 + n;
	return p - (d + 4);
}

static uint32_t vpd_block_limits(const struct scsi_lu *lu, uint8_t *d)
{
	uint32_t gran = lu->pbs > lu->lbs ? lu->pbs / lu->lbs : 1;

	memset(d + 4, 0, 0x3c);
	d[4] = 0x01;		/* WSNZ: WRITE SAME of zero blocks is refused */
	d[5] = SCSI_MAX_CAW_BLOCKS;
	put_be16(d + 6, gran);
	put_be32(d + 8, SCSI_MAX_XFER_BLOCKS);
	put_be32(d + 12, lu->opt_blocks);
	if (lu->thin) {
		put_be32(d + 20, SCSI_MAX_UNMAP_BLOCKS);
		put_be32(d + 24, SCSI_MAX_UNMAP_DESCS);
		put_be32(d + 28, gran);
	}
	put_be64(d + 36, SCSI_MAX_WS_BLOCKS);
	return 0x3c;
}

static uint32_t vpd_characteristics(uint8_t *d)
{
	memset(d + 4, 0, 0x3c);
	put_be16(d + 4, 1);	/* non-rotating medium */
	return 0x3c;
}

static uint32_t vpd_provisioning(const struct scsi_lu *lu, uint8_t *d)
{
	memset(d + 4, 0, 4);
	/* UNMAP, WRITE SAME(16) and (10) with UNMAP; LBPRZ if it holds. */
	d[5] = 0xe0 | (lu->lbprz ? 0x04 : 0);
	d[6] = 0x02;		/* thin provisioned */
	return 4;
}

static void inquiry(const struct scsi_lu *lu, struct scsi_cmd *c, uint8_t *d)
{
	const uint8_t *cdb = c->cdb;
	uint8_t page = cdb[2];
	uint32_t n;

	c->xfer_in = get_be16(cdb + 3);
	if (cdb[1] & 0x02) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "INQUIRY with CMDDT");
		return;
	}
	if (!(cdb[1] & 0x01)) {
		if (page) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
				  "INQUIRY page code without EVPD");
			return;
		}
		c->data_len = std_inquiry(lu, d);
		return;
	}
	memset(d, 0, 4);
	d[1] = page;
	switch (page) {
	case 0x00:
		n = vpd_supported(lu, d);
		break;
	case 0x80:
		n = vpd_serial(lu, d);
		break;
	case 0x83:
		n = vpd_ident(lu, d);
		break;
	case 0xb0:
		n = vpd_block_limits(lu, d);
		break;
	case 0xb1:
		n = vpd_characteristics(d);
		break;
	case 0xb2:
		if (lu->thin) {
			n = vpd_provisioning(lu, d);
			break;
		}
		/* fall through */
	default:
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "unsupported VPD page");
		return;
	}
	put_be16(d + 2, n);
	c->data_len = 4 + n;
}

/* ---- MODE SENSE / MODE SELECT ---------------------------------------- */

#define PAGE_CACHING	0x08
#define PAGE_CONTROL	0x0a
#define PAGE_ALL	0x3f

/* The page control field of MODE SENSE (3, saved values, is refused). */
enum page_control {
	PC_CURRENT,
	PC_CHANGEABLE,		/* the mask of what MODE SELECT may change */
	PC_DEFAULT,		/* the values at start-up */
};

/* Page into p, with the values pc asks for. */
static uint32_t mode_page(const struct scsi_lu *lu, uint8_t page,
			  enum page_control pc, uint8_t *p)
{
	if (page == PAGE_CACHING) {
		memset(p, 0, 20);
		p[0] = PAGE_CACHING;
		p[1] = 18;
		/* WCE: the cache mode sets it at start-up, the guest after. */
		if (pc == PC_CHANGEABLE)
			p[2] = 0x04;
		else if (pc == PC_DEFAULT)
			p[2] = lu->wce_default ? 0x04 : 0;
		else
			p[2] = lu->wce ? 0x04 : 0;
		return 20;
	}
	memset(p, 0, 12);
	p[0] = PAGE_CONTROL;
	p[1] = 10;
	if (pc != PC_CHANGEABLE)
		p[3] = 0x10;	/* unrestricted reordering of SIMPLE commands */
	return 12;
}

static void mode_sense(const struct scsi_lu *lu, struct scsi_cmd *c,
		       uint8_t *d)
{
	const uint8_t *cdb = c->cdb;
	bool ten = cdb[0] == SCSI_OP_MODE_SENSE_10;
	bool dbd = cdb[1] & 0x08, llba = ten && (cdb[1] & 0x10);
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f, sub = cdb[3];
	uint32_t hdr = ten ? 8 : 4, bdl = dbd ? 0 : llba ? 16 : 8, n;
	uint8_t *b = d + hdr;

	c->xfer_in = ten ? get_be16(cdb + 7) : cdb[4];
	if (pc == 3) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED,
			  "MODE SENSE of saved values");
		return;
	}
	if ((page != PAGE_CACHING && page != PAGE_CONTROL && page != PAGE_ALL) ||
	    (sub && !(page == PAGE_ALL && sub == 0xff))) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "unsupported mode page");
		return;
	}
	memset(d, 0, hdr + bdl);
	if (bdl == 8) {
		put_be32(b, lu->nblocks > 0xffffffffull ? 0xffffffff : (uint32_t)lu->nblocks);
		put_be32(b + 4, lu->lbs & 0xffffff);
	} else if (bdl == 16) {
		put_be64(b, lu->nblocks);
		put_be32(b + 12, lu->lbs);
	}
	n = hdr + bdl;
	if (page == PAGE_CACHING || page == PAGE_ALL)
		n += mode_page(lu, PAGE_CACHING, pc, d + n);
	if (page == PAGE_CONTROL || page == PAGE_ALL)
		n += mode_page(lu, PAGE_CONTROL, pc, d + n);
	/* Device-specific parameter: write protect, DPO and FUA. */
	if (ten) {
		put_be16(d, n - 2);
		d[3] = (lu->read_only ? 0x80 : 0) | 0x10;
		d[4] = llba ? 0x01 : 0;
		put_be16(d + 6, bdl);
	} else {
		d[0] = n - 1;
		d[2] = (lu->read_only ? 0x80 : 0) | 0x10;
		d[3] = bdl;
	}
	c->data_len = n;
}

/* One page of a MODE SELECT parameter list; false with sense set. */
static bool select_page(struct scsi_lu *lu, struct scsi_cmd *c,
			const uint8_t *p, uint32_t len, bool *wce)
{
	uint8_t cur[20], mask[20];
	uint32_t n;

	if ((p[0] & 0x3f) != PAGE_CACHING && (p[0] & 0x3f) != PAGE_CONTROL) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
			  "MODE SELECT of an unsupported page");
		return false;
	}
	n = mode_page(lu, p[0] & 0x3f, PC_CURRENT, cur);
	mode_page(lu, p[0] & 0x3f, PC_CHANGEABLE, mask);
	if (p[0] & 0x40 || len != n || p[1] != cur[1]) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
			  "MODE SELECT page with a wrong length or subpage");
		return false;
	}
	/* Only the changeable bits may differ from the current values. */
	for (uint32_t i = 2; i < n; i++) {
		if ((p[i] ^ cur[i]) & ~mask[i]) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
				  "MODE SELECT changes a field that cannot change");
			return false;
		}
	}
	if ((p[0] & 0x3f) == PAGE_CACHING)
		*wce = p[2] & 0x04;
	return true;
}

static void mode_select(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb, *p = c->param;
	bool ten = cdb[0] == SCSI_OP_MODE_SELECT_10;
	uint32_t len = ten ? get_be16(cdb + 7) : cdb[4];
	uint32_t hdr = ten ? 8 : 4, bdl, off;
	bool wce = lu->wce;

	c->xfer_out = len;
	if (!(cdb[1] & 0x10) || (cdb[1] & 0x01)) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "MODE SELECT without PF, or with SP (nothing is saved)");
		return;
	}
	if (len == 0)
		return;
	if (len > c->param_len || len < hdr) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
			  "MODE SELECT parameter list shorter than its header");
		return;
	}
	bdl = ten ? get_be16(p + 6) : p[3];
	if (bdl > len - hdr) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
			  "MODE SELECT block descriptor beyond the parameter list");
		return;
	}
	if (bdl != 0 && bdl != 8) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
			  "MODE SELECT block descriptor length");
		return;
	}
	if (bdl == 8 && get_be24(p + hdr + 5) != lu->lbs) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
			  "MODE SELECT cannot change the block size");
		return;
	}
	for (off = hdr + bdl; off < len;) {
		uint32_t plen;

		if (len - off < 2) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
				  "MODE SELECT page header cut short");
			return;
		}
		plen = 2 + p[off + 1];
		if (plen > len - off) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
				  "MODE SELECT page cut short");
			return;
		}
		if (!select_page(lu, c, p + off, plen, &wce))
			return;
		off += plen;
	}
	lu->wce = wce;
}

/* ---- REPORT SUPPORTED OPERATION CODES ---------------------------------- */

struct opdesc {
	uint8_t op;
	bool has_sa;
	uint16_t sa;
	uint8_t len;
};

static const struct opdesc opcodes[] = {
	{ SCSI_OP_TEST_UNIT_READY, false, 0, 6 },
	{ SCSI_OP_REQUEST_SENSE, false, 0, 6 },
	{ SCSI_OP_READ_6, false, 0, 6 },
	{ SCSI_OP_WRITE_6, false, 0, 6 },
	{ SCSI_OP_INQUIRY, false, 0, 6 },
	{ SCSI_OP_MODE_SELECT_6, false, 0, 6 },
	{ SCSI_OP_MODE_SENSE_6, false, 0, 6 },
	{ SCSI_OP_START_STOP_UNIT, false, 0, 6 },
	{ SCSI_OP_PREVENT_ALLOW_REMOVAL, false, 0, 6 },
	{ SCSI_OP_READ_CAPACITY_10, false, 0, 10 },
	{ SCSI_OP_READ_10, false, 0, 10 },
	{ SCSI_OP_WRITE_10, false, 0, 10 },
	{ SCSI_OP_WRITE_VERIFY_10, false, 0, 10 },
	{ SCSI_OP_VERIFY_10, false, 0, 10 },
	{ SCSI_OP_SYNC_CACHE_10, false, 0, 10 },
	{ SCSI_OP_WRITE_SAME_10, false, 0, 10 },
	{ SCSI_OP_UNMAP, false, 0, 10 },
	{ SCSI_OP_MODE_SELECT_10, false, 0, 10 },
	{ SCSI_OP_MODE_SENSE_10, false, 0, 10 },
	{ SCSI_OP_PR_IN, true, 0x00, 10 },	/* PERSISTENT RESERVE IN: READ KEYS */
	{ SCSI_OP_PR_IN, true, 0x01, 10 },	/* READ RESERVATION */
	{ SCSI_OP_PR_IN, true, 0x02, 10 },	/* REPORT CAPABILITIES */
	{ SCSI_OP_PR_OUT, true, 0x00, 10 },	/* PERSISTENT RESERVE OUT: REGISTER */
	{ SCSI_OP_PR_OUT, true, 0x01, 10 },	/* RESERVE */
	{ SCSI_OP_PR_OUT, true, 0x02, 10 },	/* RELEASE */
	{ SCSI_OP_PR_OUT, true, 0x03, 10 },	/* CLEAR */
	{ SCSI_OP_PR_OUT, true, 0x04, 10 },	/* PREEMPT */
	{ SCSI_OP_PR_OUT, true, 0x06, 10 },	/* REGISTER AND IGNORE EXISTING KEY */
	{ SCSI_OP_READ_16, false, 0, 16 },
	{ SCSI_OP_COMPARE_AND_WRITE, false, 0, 16 },
	{ SCSI_OP_WRITE_16, false, 0, 16 },
	{ SCSI_OP_WRITE_VERIFY_16, false, 0, 16 },
	{ SCSI_OP_VERIFY_16, false, 0, 16 },
	{ SCSI_OP_SYNC_CACHE_16, false, 0, 16 },
	{ SCSI_OP_WRITE_SAME_16, false, 0, 16 },
	/* READ CAPACITY(16) */
	{ SCSI_OP_SERVICE_ACTION_IN_16, true, SCSI_SAI_READ_CAPACITY_16, 16 },
	{ SCSI_OP_REPORT_LUNS, false, 0, 12 },
	/* REPORT SUPPORTED OPERATION CODES */
	{ SCSI_OP_MAINTENANCE_IN, true, SCSI_MI_REPORT_OPCODES, 12 },
	{ SCSI_OP_READ_12, false, 0, 12 },
	{ SCSI_OP_WRITE_12, false, 0, 12 },
	{ SCSI_OP_WRITE_VERIFY_12, false, 0, 12 },
	{ SCSI_OP_VERIFY_12, false, 0, 12 },
};

static const unsigned int scsi_nopcodes = sizeof(opcodes) / sizeof(opcodes[0]);

/* UNMAP exists only on a logical unit with unmap support (sbc.c). */
static bool op_listed(const struct scsi_lu *lu, const struct opdesc *o)
{
	return o->op != SCSI_OP_UNMAP || lu->thin;
}

bool scsi_op_supported(const struct scsi_lu *lu, uint8_t op)
{
	for (unsigned int i = 0; i < scsi_nopcodes; i++) {
		if (opcodes[i].op == op && op_listed(lu, &opcodes[i]))
			return true;
	}
	return false;
}

static void report_opcodes(const struct scsi_lu *lu, struct scsi_cmd *c,
			   uint8_t *d)
{
	const uint8_t *cdb = c->cdb;
	uint8_t opt = cdb[2] & 0x07, want = cdb[3];
	uint16_t want_sa = get_be16(cdb + 4);
	const struct opdesc *hit = NULL;
	uint32_t n = 4;

	c->xfer_in = get_be32(cdb + 6);
	if (cdb[2] & 0x80 || opt > 2) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "REPORT SUPPORTED OPERATION CODES option not supported");
		return;
	}
	if (opt == 0) {
		for (unsigned int i = 0; i < scsi_nopcodes; i++) {
			uint8_t *e = d + n;

			if (!op_listed(lu, &opcodes[i]))
				continue;
			memset(e, 0, 8);
			e[0] = opcodes[i].op;
			put_be16(e + 2, opcodes[i].sa);
			e[5] = opcodes[i].has_sa ? 0x01 : 0;
			put_be16(e + 6, opcodes[i].len);
			n += 8;
		}
		put_be32(d, n - 4);
		c->data_len = n;
		return;
	}
	for (unsigned int i = 0; i < scsi_nopcodes && !hit; i++) {
		if (opcodes[i].op != want || !op_listed(lu, &opcodes[i]))
			continue;
		if (opcodes[i].has_sa != (opt == 2)) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
				  "REPORT SUPPORTED OPERATION CODES: service action mismatch");
			return;
		}
		if (opt == 1 || opcodes[i].sa == want_sa)
			hit = &opcodes[i];
	}
	memset(d, 0, 4);
	if (!hit) {
		d[1] = 0x01;	/* not supported */
		c->data_len = 4;
		return;
	}
	d[1] = 0x03;		/* supported, as the standard says */
	put_be16(d + 2, hit->len);
	memset(d + 4, 0xff, hit->len);
	d[4] = hit->op;
	if (hit->has_sa)
		d[5] = (uint8_t)(0xe0 | (hit->sa & 0x1f));
	d[4 + hit->len - 1] = 0;	/* CONTROL: no NACA, no link */
	c->data_len = 4 + hit->len;
}

/* ---- persistent reservations (one initiator) --------------------------- */

static bool pr_type_ok(uint8_t type)
{
	return type == 1 || type == 3 || type == 5 || type == 6 ||
	       type == 7 || type == 8;
}

static void pr_in(const struct scsi_lu *lu, struct scsi_cmd *c, uint8_t *d)
{
	const uint8_t *cdb = c->cdb;

	c->xfer_in = get_be16(cdb + 7);
	memset(d, 0, 24);
	switch (cdb[1] & 0x1f) {
	case 0:		/* READ KEYS */
		put_be32(d, (uint32_t)lu->pr_generation);
		if (lu->pr_key) {
			put_be32(d + 4, 8);
			put_be64(d + 8, lu->pr_key);
			c->data_len = 16;
		} else {
			c->data_len = 8;
		}
		return;
	case 1:		/* READ RESERVATION */
		put_be32(d, (uint32_t)lu->pr_generation);
		if (lu->pr_type) {
			put_be32(d + 4, 16);
			/* All-registrants types are held by no single key. */
			if (lu->pr_type != 7 && lu->pr_type != 8)
				put_be64(d + 8, lu->pr_key);
			d[21] = lu->pr_type & 0x0f;	/* scope: logical unit */
			c->data_len = 24;
		} else {
			c->data_len = 8;
		}
		return;
	case 2:		/* REPORT CAPABILITIES */
		put_be16(d, 8);
		d[3] = 0x80;		/* type mask valid */
		d[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;
		d[5] = 0x01;
		c->data_len = 8;
		return;
	default:
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "PERSISTENT RESERVE IN service action not supported");
	}
}

static void pr_conflict(struct scsi_cmd *c)
{
	c->status = SAM_RESERVATION_CONFLICT;
	c->why = "reservation key does not match";
}

static void pr_register(struct scsi_lu *lu, struct scsi_cmd *c, uint64_t key,
			uint64_t sa_key, bool ignore)
{
	if (!ignore && key != lu->pr_key) {
		pr_conflict(c);
		return;
	}
	if (sa_key == 0 && lu->pr_key == 0)
		return;
	lu->pr_key = sa_key;
	if (sa_key == 0)
		lu->pr_type = 0;
	lu->pr_generation++;
}

static void pr_out(struct scsi_lu *lu, struct scsi_cmd *c)
{
	const uint8_t *cdb = c->cdb, *p = c->param;
	uint8_t sa = cdb[1] & 0x1f, type = cdb[2] & 0x0f, scope = cdb[2] >> 4;
	uint32_t len = get_be32(cdb + 5);
	uint64_t key, sa_key;

	c->xfer_out = len;
	if (len != 24 || c->param_len < 24) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
			  "PERSISTENT RESERVE OUT parameter list is not 24 bytes");
		return;
	}
	if (p[20] & 0x0d) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
			  "SPEC_I_PT, ALL_TG_PT or APTPL are not supported");
		return;
	}
	key = get_be64(p);
	sa_key = get_be64(p + 8);
	if (sa == 0 || sa == 6) {
		pr_register(lu, c, key, sa_key, sa == 6);
		return;
	}
	if (sa > 4) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "PERSISTENT RESERVE OUT service action not supported");
		return;
	}
	if (!lu->pr_key || key != lu->pr_key) {
		pr_conflict(c);
		return;
	}
	/* PREEMPT ignores scope and type when nothing is reserved. */
	if ((sa == 1 || (sa == 4 && lu->pr_type)) && (scope || !pr_type_ok(type))) {
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "reservation scope or type not supported");
		return;
	}
	switch (sa) {
	case 1:		/* RESERVE */
		if (lu->pr_type && lu->pr_type != type)
			pr_conflict(c);
		else
			lu->pr_type = type;
		break;
	case 2:		/* RELEASE */
		if (lu->pr_type && lu->pr_type != type)
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_RELEASE,
				  "RELEASE of another reservation type");
		else
			lu->pr_type = 0;
		break;
	case 3:		/* CLEAR */
		lu->pr_key = 0;
		lu->pr_type = 0;
		lu->pr_generation++;
		break;
	case 4:		/* PREEMPT: the only registrant preempts itself */
		if (sa_key == 0) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
				  "PREEMPT with a zero service action key");
		} else if (sa_key != lu->pr_key) {
			pr_conflict(c);
		} else {
			/* Its reservation, if any, is replaced by one of type. */
			if (lu->pr_type)
				lu->pr_type = type;
			lu->pr_generation++;
		}
		break;
	}
}

/* ---- START STOP UNIT ---------------------------------------------------- */

/*
 * Nothing spins and there is no medium to eject, so the START and LOEJ
 * bits and the power conditions an LU without power condition timers can
 * take (SBC-4: ACTIVE, IDLE, STANDBY, LU_CONTROL) change nothing.  The
 * FORCE_IDLE_0 and FORCE_STANDBY_0 conditions select timers this LU does
 * not have, and the other values of the POWER CONDITION and POWER
 * CONDITION MODIFIER fields are reserved: both are refused, as SBC says.
 */
static void start_stop(struct scsi_cmd *c)
{
	uint8_t cond = c->cdb[4] >> 4, mod = c->cdb[3] & 0x0f;
	bool ok;

	switch (cond) {
	case 0x0:	/* START_VALID */
	case 0x1:	/* ACTIVE */
	case 0x7:	/* LU_CONTROL */
		ok = mod == 0;
		break;
	case 0x2:	/* IDLE_A, IDLE_B, IDLE_C */
		ok = mod <= 2;
		break;
	case 0x3:	/* STANDBY_Z, STANDBY_Y */
		ok = mod <= 1;
		break;
	case 0x5:	/* obsolete: ignored */
		ok = true;
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			  "START STOP UNIT power condition not supported");
}

/* ---- dispatch ----------------------------------------------------------- */

bool spc_exec(struct scsi_lu *lu, const struct scsi_target *t,
	      struct scsi_cmd *c, uint8_t *data)
{
	const uint8_t *cdb = c->cdb;

	switch (cdb[0]) {
	case SCSI_OP_TEST_UNIT_READY:
	case SCSI_OP_PREVENT_ALLOW_REMOVAL:	/* not removable */
		return true;
	case SCSI_OP_START_STOP_UNIT:
		start_stop(c);
		return true;
	case SCSI_OP_REQUEST_SENSE:	/* autosense reports errors */
		if (cdb[1] & 0x01) {
			scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
				  "descriptor-format sense not supported");
			return true;
		}
		/* A pending unit attention is returned as data, and cleared. */
		scsi_build_sense(data, lu->pending_ua ? SK_UNIT_ATTENTION : SK_NO_SENSE,
				 lu->pending_ua);
		lu->pending_ua = 0;
		c->data_len = SCSI_FIXED_SENSE_LEN;
		c->xfer_in = cdb[4];
		return true;
	case SCSI_OP_INQUIRY:
		inquiry(lu, c, data);
		return true;
	case SCSI_OP_MODE_SENSE_6:
	case SCSI_OP_MODE_SENSE_10:
		mode_sense(lu, c, data);
		return true;
	case SCSI_OP_MODE_SELECT_6:
	case SCSI_OP_MODE_SELECT_10:
		mode_select(lu, c);
		return true;
	case SCSI_OP_REPORT_LUNS:
		scsi_report_luns(t, c, data);
		if (c->status == SAM_GOOD &&
		    lu->pending_ua == ASC_REPORTED_LUNS_CHANGED)
			lu->pending_ua = 0;
		return true;
	case SCSI_OP_MAINTENANCE_IN:
		if ((cdb[1] & 0x1f) != SCSI_MI_REPORT_OPCODES)
			return false;
		report_opcodes(lu, c, data);
		return true;
	case SCSI_OP_PR_IN:
		pr_in(lu, c, data);
		return true;
	case SCSI_OP_PR_OUT:
		pr_out(lu, c);
		return true;
	default:
		return false;
	}
}
