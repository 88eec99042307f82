// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi-cmd-fixture.c: the fake LU the SCSI command layer's unit tests run
 * their CDBs on, the CDB builders they share, and the checks of what the
 * layer answers (see scsi-cmd-fixture.h).
 */
#include <string.h>

#include "scsi-cmd-fixture.h"

uint8_t cdb[SCSI_CDB_SIZE], data[SCSI_DATA_MAX], param[SCSI_PARAM_MAX];
struct scsi_cmd c;
struct scsi_lu lu;
struct scsi_target tgt;

/* A thin 1 MiB disk, 512-byte logical and 4 KiB physical blocks. */
void lu_reset(void)
{
	memset(&lu, 0, sizeof(lu));
	lu.lun = 0;
	lu.nblocks = NBLOCKS;
	lu.lbs = 512;
	lu.pbs = 4096;
	lu.opt_blocks = 128;
	lu.thin = true;
	lu.lbprz = true;
	lu.wce = true;
	lu.wce_default = true;
	strcpy(lu.serial, SERIAL);
	lu.naa = NAA;
	memset(&tgt, 0, sizeof(tgt));
	tgt.luns[0] = 0;
	tgt.luns[1] = 1;
	tgt.luns[2] = 5;
	tgt.nluns = 3;
}

void set_cdb(const uint8_t *b, size_t n)
{
	memset(cdb, 0, sizeof(cdb));
	memcpy(cdb, b, n);
}

/* Run cdb with plen bytes of param; poison everything the layer writes. */
void run_on(enum target_kind k, uint32_t plen)
{
	memset(&c, 0xa5, sizeof(c));
	memset(data, 0xcc, sizeof(data));
	c.cdb = cdb;
	c.out_len = plen;
	c.in_len = SCSI_DATA_MAX;
	c.param = param;
	c.param_len = plen;
	if (k == ON_WLUN)
		scsi_exec_wlun(&tgt, &c, data);
	else if (k == ON_ABSENT)
		scsi_exec_absent(&tgt, &c, data);
	else
		scsi_exec_cdb(&lu, &tgt, &c, data);
}

void run(void)
{
	run_on(ON_LU, 0);
}

void run_param(uint32_t plen)
{
	run_on(ON_LU, plen);
}

/* CHECK CONDITION with exactly this sense key, ASC and ASCQ, and no I/O. */
bool sense_is(uint8_t key, uint16_t asc)
{
	return c.status == SAM_CHECK_CONDITION && c.exec == SCSI_X_DONE &&
	       c.key == key && c.asc == asc && c.data_len == 0;
}

/* GOOD, answered by the layer itself. */
bool good(void)
{
	return c.status == SAM_GOOD && c.exec == SCSI_X_DONE &&
	       c.key == SK_NO_SENSE && c.asc == ASC_NONE;
}

/* An I/O the device must run: no status of its own yet. */
bool io_is(enum scsi_exec x, uint64_t lba, uint32_t n)
{
	return c.status == SAM_GOOD && c.exec == x && c.lba == lba &&
	       c.nblocks == n && c.key == SK_NO_SENSE;
}

void rw6(uint8_t op, uint32_t lba, uint8_t n)
{
	CDB(op, (lba >> 16) & 0x1f, lba >> 8, lba, n, 0);
}

void rw10(uint8_t op, uint8_t b1, uint32_t lba, uint16_t n)
{
	CDB(op, b1, 0, 0, 0, 0, 0, 0, 0, 0);
	put_be32(cdb + 2, lba);
	put_be16(cdb + 7, n);
}

void rw12(uint8_t op, uint8_t b1, uint32_t lba, uint32_t n)
{
	CDB(op, b1);
	put_be32(cdb + 2, lba);
	put_be32(cdb + 6, n);
}

void rw16(uint8_t op, uint8_t b1, uint64_t lba, uint32_t n)
{
	CDB(op, b1);
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
}

/* READ CAPACITY(16), that is SERVICE ACTION IN(16) 10h. */
void rc16(uint32_t alloc)
{
	CDB(0x9e, 0x10);
	put_be32(cdb + 10, alloc);
}

/* A caching page with WCE as given, at p; returns its length. */
uint32_t put_caching(uint8_t *p, bool wce)
{
	memset(p, 0, 20);
	p[0] = 0x08;
	p[1] = 0x12;
	p[2] = wce ? 0x04 : 0;
	return 20;
}

void mode_select6(uint8_t b1, uint8_t len)
{
	CDB(0x15, b1, 0, 0, len, 0);
}

void unmap_cdb(uint8_t b1, uint16_t len)
{
	CDB(0x42, b1, 0, 0, 0, 0, 0, len >> 8, len, 0);
}
