// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-scsi-cdb.c: fuzzes the SCSI command layer (scsi/scsi_cmd.c, spc.c,
 * sbc.c).  The input builds a logical unit (size, block sizes, read-only,
 * unmap, reservation state, a pending unit attention) and the LUN list of
 * the target, then runs a series of commands on it: each a 32-byte CDB and
 * parameter data in exact-size buffers, so ASan catches any read past what
 * the driver sent, and a data-in buffer of exactly SCSI_DATA_MAX bytes.
 * After each command the harness checks what the layer promised: status and
 * sense agree, I/O stays inside the medium and within the block limits, a
 * read-only LU is never written, the LU state stays coherent, and no
 * command REPORT SUPPORTED OPERATION CODES lists is refused as unknown.
 *
 * Input: flags u8 (bit 0 read-only, 1 unmap, 2 LBPRZ, 3 4 KiB blocks,
 * 4 WCE, 5-6 where commands go: 0-1 the LU, 2 the REPORT LUNS well-known
 * LU, 3 an absent LUN, 7 a pending unit attention), nblocks u64, shape u8
 * (bits 0-1 log2 of logical blocks per physical block, 2-7 serial length),
 * LUN count u8, reservation key u8, reservation type u8; then commands,
 * each: CDB length u8 (at most 32 bytes are taken), the CDB bytes,
 * parameter length u16 (at most SCSI_PARAM_MAX), the parameter bytes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scsi_cmd.h"

#define MAX_CMDS	16

enum where { TO_LU, TO_WLUN, TO_ABSENT };

/* The (opcode, service action) pairs the LU lists as supported. */
struct listed {
	bool op[256];
	bool sa[256][32];
	bool has_sa[256];
};

static void list_opcodes(struct scsi_lu *lu, const struct scsi_target *t,
			 struct listed *l, uint8_t *data)
{
	uint8_t cdb[SCSI_CDB_SIZE] = { 0xa3, 0x0c };
	struct scsi_cmd c = { .cdb = cdb };
	uint16_t ua = lu->pending_ua;

	memset(l, 0, sizeof(*l));
	put_be32(cdb + 6, SCSI_DATA_MAX);
	lu->pending_ua = 0;
	scsi_exec_cdb(lu, t, &c, data);
	lu->pending_ua = ua;
	if (c.status != SAM_GOOD || c.data_len < 4 ||
	    get_be32(data) != c.data_len - 4 || (c.data_len - 4) % 8)
		fuzz_fail("REPORT SUPPORTED OPERATION CODES (all) is malformed");
	for (uint32_t off = 4; off < c.data_len; off += 8) {
		const uint8_t *e = data + off;

		l->op[e[0]] = true;
		if (e[5] & 0x01) {
			l->has_sa[e[0]] = true;
			l->sa[e[0]][get_be16(e + 2) & 0x1f] = true;
		}
	}
}

static bool is_listed(const struct listed *l, const uint8_t *cdb)
{
	if (!l->op[cdb[0]])
		return false;
	return !l->has_sa[cdb[0]] || l->sa[cdb[0]][cdb[1] & 0x1f];
}

/* An extent lies inside the medium and is not empty. */
static void check_extent(const struct scsi_lu *lu, uint64_t lba, uint64_t n,
			 uint64_t max)
{
	if (n == 0)
		fuzz_fail("an I/O of zero blocks");
	if (lba >= lu->nblocks || n > lu->nblocks - lba)
		fuzz_fail("an I/O outside the medium was accepted");
	if (n > max)
		fuzz_fail("an I/O beyond the block limits was accepted");
}

static void check_status(const struct scsi_cmd *c)
{
	uint8_t sense[SCSI_SENSE_SIZE];

	if (c->data_len > SCSI_DATA_MAX)
		fuzz_fail("data-in longer than the data buffer");
	switch (c->status) {
	case SAM_GOOD:
		if (c->key != SK_NO_SENSE || c->asc != ASC_NONE)
			fuzz_fail("GOOD status with sense");
		break;
	case SAM_CHECK_CONDITION:
		if (c->exec != SCSI_X_DONE || c->data_len)
			fuzz_fail("CHECK CONDITION with I/O or data-in");
		if (c->key == SK_NO_SENSE || c->key > 0xf || (c->asc >> 8) == 0)
			fuzz_fail("CHECK CONDITION without a sense key and ASC");
		scsi_build_sense(sense, c->key, c->asc);
		if (sense[0] != 0x70 || (sense[2] & 0xf) != c->key ||
		    sense[12] != c->asc >> 8 || sense[13] != (c->asc & 0xff))
			fuzz_fail("sense data does not carry the key and ASC");
		break;
	case SAM_RESERVATION_CONFLICT:
		if (c->exec != SCSI_X_DONE || c->data_len || c->key)
			fuzz_fail("RESERVATION CONFLICT with I/O, data or sense");
		break;
	default:
		fuzz_fail("an unknown status");
	}
}

static void check_io(const struct scsi_lu *lu, const struct scsi_cmd *c)
{
	switch (c->exec) {
	case SCSI_X_DONE:
	case SCSI_X_FLUSH:
		return;
	case SCSI_X_READ:
		check_extent(lu, c->lba, c->nblocks, SCSI_MAX_XFER_BLOCKS);
		if (c->xfer_in != (uint64_t)c->nblocks * lu->lbs || c->xfer_out)
			fuzz_fail("a read's transfer length is not its blocks");
		return;
	case SCSI_X_WRITE:
	case SCSI_X_WRITE_VERIFY:
		if (lu->read_only)
			fuzz_fail("a write to a read-only LU was accepted");
		check_extent(lu, c->lba, c->nblocks, SCSI_MAX_XFER_BLOCKS);
		if (c->xfer_out != (uint64_t)c->nblocks * lu->lbs || c->xfer_in)
			fuzz_fail("a write's transfer length is not its blocks");
		if (c->exec == SCSI_X_WRITE_VERIFY && (!c->fua || !c->bytchk))
			fuzz_fail("a WRITE AND VERIFY that compares is not durable");
		return;
	case SCSI_X_VERIFY:
		check_extent(lu, c->lba, c->nblocks, SCSI_MAX_XFER_BLOCKS);
		if (c->xfer_out != (uint64_t)c->nblocks * lu->lbs)
			fuzz_fail("a verify compares other than its blocks");
		return;
	case SCSI_X_WRITE_SAME:
		if (lu->read_only)
			fuzz_fail("WRITE SAME on a read-only LU was accepted");
		if (c->unmap && !lu->thin)
			fuzz_fail("WRITE SAME unmaps on an LU without unmap");
		check_extent(lu, c->lba, c->nblocks, SCSI_MAX_WS_BLOCKS);
		if (c->xfer_out != (c->ndob ? 0 : lu->lbs))
			fuzz_fail("WRITE SAME takes other than one block of data-out");
		return;
	case SCSI_X_UNMAP:
		if (lu->read_only || !lu->thin)
			fuzz_fail("UNMAP accepted on a read-only LU or one without unmap");
		if (c->nunmap == 0 || c->nunmap > SCSI_MAX_UNMAP_DESCS)
			fuzz_fail("UNMAP with a descriptor count out of bounds");
		for (unsigned int i = 0; i < c->nunmap; i++)
			check_extent(lu, c->unmap_list[i].lba,
				     c->unmap_list[i].nblocks, SCSI_MAX_UNMAP_BLOCKS);
		return;
	case SCSI_X_COMPARE_WRITE:
		if (lu->read_only)
			fuzz_fail("COMPARE AND WRITE on a read-only LU was accepted");
		check_extent(lu, c->lba, c->nblocks, SCSI_MAX_CAW_BLOCKS);
		if (c->nblocks == 0 ||
		    c->xfer_out != 2 * (uint64_t)c->nblocks * lu->lbs || c->xfer_in)
			fuzz_fail("COMPARE AND WRITE takes other than twice its blocks");
		return;
	default:
		fuzz_fail("an I/O kind the command layer never makes");
	}
}

/* The LU's own state after a command. */
static void check_lu(const struct scsi_lu *lu, const struct scsi_lu *before,
		     const uint8_t *cdb)
{
	if (lu->pr_type && !lu->pr_key)
		fuzz_fail("a reservation without a registration");
	if (lu->pr_type && lu->pr_type != 1 && lu->pr_type != 3 &&
	    (lu->pr_type < 5 || lu->pr_type > 8))
		fuzz_fail("a reservation of a type not supported");
	if (lu->pr_generation < before->pr_generation)
		fuzz_fail("the PR generation went backwards");
	if (lu->wce != before->wce && cdb[0] != 0x15 && cdb[0] != 0x55)
		fuzz_fail("WCE changed by other than MODE SELECT");
	if (lu->pending_ua && lu->pending_ua != before->pending_ua)
		fuzz_fail("a command raised a unit attention");
	if (lu->nblocks != before->nblocks || lu->lbs != before->lbs ||
	    lu->read_only != before->read_only || lu->thin != before->thin ||
	    lu->wce_default != before->wce_default ||
	    lu->naa != before->naa || memcmp(lu->serial, before->serial, sizeof(lu->serial)))
		fuzz_fail("a command changed the LU's geometry, identity or start-up WCE");
}

/* REPORT LUNS lists every LUN, and the well-known LU, as asked. */
static void check_report_luns(const struct scsi_target *t,
			      const struct scsi_cmd *c)
{
	uint8_t sel = c->cdb[2];
	uint32_t n = (sel != 0x01 ? t->nluns : 0) + (sel == 0x01 || sel == 0x02);

	if (c->data_len != 8 + 8 * n)
		fuzz_fail("REPORT LUNS does not list what SELECT REPORT asks");
}

static void run_one(struct scsi_lu *lu, const struct scsi_target *t,
		    enum where where, const struct listed *l,
		    const uint8_t *cdb, const uint8_t *param, uint32_t plen,
		    uint8_t *data)
{
	struct scsi_lu before = *lu;
	struct scsi_cmd c;

	memset(&c, 0, sizeof(c));
	c.cdb = cdb;
	c.out_len = plen;
	c.in_len = SCSI_DATA_MAX;
	if (scsi_needs_param(cdb)) {
		c.param = param;
		c.param_len = plen;
	}
	if (where == TO_WLUN)
		scsi_exec_wlun(t, &c, data);
	else if (where == TO_ABSENT)
		scsi_exec_absent(t, &c, data);
	else
		scsi_exec_cdb(lu, t, &c, data);

	check_status(&c);
	if (cdb[0] == 0xa0 && c.status == SAM_GOOD)
		check_report_luns(t, &c);
	if (where != TO_LU) {
		if (c.exec != SCSI_X_DONE)
			fuzz_fail("I/O on the well-known LU or an absent LUN");
		return;
	}
	check_io(lu, &c);
	check_lu(lu, &before, cdb);
	if (c.status == SAM_CHECK_CONDITION && c.key == SK_ILLEGAL_REQUEST &&
	    c.asc == ASC_INVALID_OPCODE && is_listed(l, cdb))
		fuzz_fail("a listed command was refused as an unknown opcode");
	if (c.status != SAM_CHECK_CONDITION && !is_listed(l, cdb))
		fuzz_fail("a command not listed as supported was accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct scsi_target t = { .nluns = 0 };
	struct scsi_lu lu = { 0 };
	enum where where;
	struct listed *l;
	uint8_t flags, shape, *din;

	flags = fuzz_u8(&in);
	lu.nblocks = fuzz_u64(&in);
	shape = fuzz_u8(&in);
	lu.read_only = flags & 0x01;
	lu.thin = flags & 0x02;
	lu.lbprz = flags & 0x04;
	lu.lbs = flags & 0x08 ? 4096 : 512;
	lu.pbs = lu.lbs << (shape & 0x03);
	lu.opt_blocks = 64;
	lu.wce = flags & 0x10;
	lu.wce_default = lu.wce;
	where = (flags >> 5 & 3) < 2 ? TO_LU : (flags >> 5 & 3) == 2 ? TO_WLUN : TO_ABSENT;
	lu.pending_ua = flags & 0x80 ? ASC_POWER_ON_RESET : 0;
	memset(lu.serial, 'S', (shape >> 2) % sizeof(lu.serial));
	lu.naa = 0x3000000000000000ull | lu.nblocks >> 4;
	t.nluns = fuzz_u8(&in);
	for (unsigned int i = 0; i < t.nluns; i++)
		t.luns[i] = i;
	lu.pr_key = fuzz_u8(&in);
	lu.pr_type = lu.pr_key ? fuzz_u8(&in) % 9 : (fuzz_u8(&in), 0);
	if (lu.pr_type == 2 || lu.pr_type == 4)
		lu.pr_type = 0;

	l = malloc(sizeof(*l));
	din = malloc(SCSI_DATA_MAX);
	if (!l || !din)
		goto out;
	list_opcodes(&lu, &t, l, din);

	for (unsigned int n = 0; n < MAX_CMDS && in.left; n++) {
		uint8_t *cdb = calloc(1, SCSI_CDB_SIZE), *param;
		size_t clen = fuzz_u8(&in), plen;

		if (!cdb)
			break;
		clen = clen < SCSI_CDB_SIZE ? clen : SCSI_CDB_SIZE;
		clen = clen < in.left ? clen : in.left;
		memcpy(cdb, in.p, clen);
		in.p += clen;
		in.left -= clen;
		plen = fuzz_u16(&in) % (SCSI_PARAM_MAX + 1);
		plen = plen < in.left ? plen : in.left;
		/* Exact size, so ASan sees a read past the parameter data. */
		param = malloc(plen ? plen : 1);
		if (!param) {
			free(cdb);
			break;
		}
		memcpy(param, in.p, plen);
		in.p += plen;
		in.left -= plen;
		run_one(&lu, &t, where, l, cdb, param, (uint32_t)plen, din);
		free(param);
		free(cdb);
	}
out:
	free(din);
	free(l);
	return 0;
}
