// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-cmd.c: unit tests of the SCSI command layer (scsi/scsi_cmd.c,
 * spc.c, sbc.c) with no daemon: every command, the data it builds, the I/O
 * it asks for, and its refusals with sense key, ASC and ASCQ checked.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_cmd.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define NBLOCKS		2048	/* 1 MiB of 512-byte blocks */
#define SERIAL		"SER-0042"
#define NAA		0x3123456789abcdefull

static uint8_t cdb[SCSI_CDB_SIZE], data[SCSI_DATA_MAX], param[SCSI_PARAM_MAX];
static struct scsi_cmd c;
static struct scsi_lu lu;
static struct scsi_target tgt;

/* A thin 1 MiB disk, 512-byte logical and 4 KiB physical blocks. */
static void lu_reset(void)
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

static void set_cdb(const uint8_t *b, size_t n)
{
	memset(cdb, 0, sizeof(cdb));
	memcpy(cdb, b, n);
}

#define CDB(...) set_cdb((const uint8_t[]){ __VA_ARGS__ }, \
			 sizeof((const uint8_t[]){ __VA_ARGS__ }))

enum target_kind { ON_LU, ON_WLUN, ON_ABSENT };

/* Run cdb with plen bytes of param; poison everything the layer writes. */
static void run_on(enum target_kind k, uint32_t plen)
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

static void run(void)
{
	run_on(ON_LU, 0);
}

static void run_param(uint32_t plen)
{
	run_on(ON_LU, plen);
}

/* CHECK CONDITION with exactly this sense key, ASC and ASCQ, and no I/O. */
static bool sense_is(uint8_t key, uint16_t asc)
{
	return c.status == SAM_CHECK_CONDITION && c.exec == SCSI_X_DONE &&
	       c.key == key && c.asc == asc && c.data_len == 0;
}

static void check_sense(uint8_t key, uint16_t asc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check_sense(uint8_t key, uint16_t asc, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!ok(sense_is(key, asc), "%s: %x/%02x/%02x", what, key, asc >> 8, asc & 0xff))
		tap_diag("got status %02x exec %d sense %x/%02x/%02x data_len %u",
			 c.status, c.exec, c.key, c.asc >> 8, c.asc & 0xff, c.data_len);
}

/* GOOD, answered by the layer itself. */
static bool good(void)
{
	return c.status == SAM_GOOD && c.exec == SCSI_X_DONE &&
	       c.key == SK_NO_SENSE && c.asc == ASC_NONE;
}

static void check_good(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void check_good(const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!ok(good(), "%s: GOOD", what))
		tap_diag("got status %02x exec %d sense %x/%02x/%02x",
			 c.status, c.exec, c.key, c.asc >> 8, c.asc & 0xff);
}

/* An I/O the device must run: no status of its own yet. */
static bool io_is(enum scsi_exec x, uint64_t lba, uint32_t n)
{
	return c.status == SAM_GOOD && c.exec == x && c.lba == lba &&
	       c.nblocks == n && c.key == SK_NO_SENSE;
}

static void rw6(uint8_t op, uint32_t lba, uint8_t n)
{
	CDB(op, (lba >> 16) & 0x1f, lba >> 8, lba, n, 0);
}

static void rw10(uint8_t op, uint8_t b1, uint32_t lba, uint16_t n)
{
	CDB(op, b1, 0, 0, 0, 0, 0, 0, 0, 0);
	put_be32(cdb + 2, lba);
	put_be16(cdb + 7, n);
}

static void rw12(uint8_t op, uint8_t b1, uint32_t lba, uint32_t n)
{
	CDB(op, b1);
	put_be32(cdb + 2, lba);
	put_be32(cdb + 6, n);
}

static void rw16(uint8_t op, uint8_t b1, uint64_t lba, uint32_t n)
{
	CDB(op, b1);
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, n);
}

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

/* ---- sense data, helpers ------------------------------------------------ */

static void test_sense_helpers(void)
{
	uint8_t s[SCSI_SENSE_SIZE];

	memset(s, 0xff, sizeof(s));
	scsi_build_sense(s, SK_ILLEGAL_REQUEST, ASC_INVALID_RELEASE);
	ok(s[0] == 0x70 && s[1] == 0 && s[2] == 0x05 && s[7] == 10 &&
	   s[12] == 0x26 && s[13] == 0x04 && s[8] == 0 && s[15] == 0 &&
	   s[17] == 0 && s[18] == 0xff,
	   "fixed sense: response code 70h, key, additional length 10, ASC and ASCQ, 18 bytes");
	ok(scsi_needs_param((const uint8_t[]){ 0x15 }) &&
	   scsi_needs_param((const uint8_t[]){ 0x55 }) &&
	   scsi_needs_param((const uint8_t[]){ 0x42 }) &&
	   scsi_needs_param((const uint8_t[]){ 0x5f }),
	   "MODE SELECT 6/10, UNMAP and PERSISTENT RESERVE OUT take parameter data");
	ok(!scsi_needs_param((const uint8_t[]){ 0x2a }) &&
	   !scsi_needs_param((const uint8_t[]){ 0x41 }) &&
	   !scsi_needs_param((const uint8_t[]){ 0x2f }),
	   "WRITE, WRITE SAME and VERIFY data is not parsed as parameters");
}

/* ---- INQUIRY -------------------------------------------------------------- */

static void inquiry(uint8_t evpd, uint8_t page, uint16_t alloc)
{
	CDB(0x12, evpd, page, alloc >> 8, alloc, 0);
}

static void test_inquiry_std(void)
{
	inquiry(0, 0, 96);
	run();
	check_good("standard INQUIRY");
	ok(c.data_len == 36 && c.xfer_in == 96, "standard INQUIRY: 36 bytes, allocation length kept");
	ok(data[0] == 0x00 && data[1] == 0 && data[2] == 0x06 && data[3] == 0x12 &&
	   data[4] == 31 && data[5] == 0 && data[6] == 0 && data[7] == 0x02,
	   "standard INQUIRY: direct access, SPC-4, HISUP, format 2, additional length 31, CMDQUE");
	ok(!memcmp(data + 8, "VHURING ", 8) && !memcmp(data + 16, "vhost-uring disk", 16) &&
	   !memcmp(data + 32, "1.0 ", 4),
	   "standard INQUIRY: vendor, product and revision, space padded");
	inquiry(0, 0, 5);
	run();
	ok(good() && c.data_len == 36 && c.xfer_in == 5,
	   "a short allocation length truncates, it does not fail");
	inquiry(0x02, 0, 96);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "INQUIRY with CMDDT");
	inquiry(0, 0x80, 96);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "INQUIRY page code without EVPD");
}

static void test_vpd(void)
{
	inquiry(1, 0x00, 255);
	run();
	check_good("VPD 00h");
	ok(c.data_len == 10 && data[0] == 0 && data[1] == 0x00 && get_be16(data + 2) == 6 &&
	   !memcmp(data + 4, (const uint8_t[]){ 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 }, 6),
	   "VPD 00h lists 00 80 83 B0 B1 B2 in order on a thin LU");
	lu.thin = false;
	run();
	ok(good() && c.data_len == 9 && get_be16(data + 2) == 5 &&
	   !memcmp(data + 4, (const uint8_t[]){ 0x00, 0x80, 0x83, 0xb0, 0xb1 }, 5),
	   "VPD 00h leaves B2 out without unmap");
	inquiry(1, 0xb2, 255);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "VPD B2h without unmap");
	lu.thin = true;

	inquiry(1, 0x80, 255);
	run();
	check_good("VPD 80h");
	ok(data[1] == 0x80 && get_be16(data + 2) == strlen(SERIAL) &&
	   c.data_len == 4 + strlen(SERIAL) && !memcmp(data + 4, SERIAL, strlen(SERIAL)),
	   "VPD 80h: the serial number, its length in the page length");

	inquiry(1, 0x83, 255);
	run();
	check_good("VPD 83h");
	ok(data[1] == 0x83 && get_be16(data + 2) == 24 + strlen(SERIAL) &&
	   c.data_len == 28 + strlen(SERIAL), "VPD 83h: two designators, page length right");
	ok(data[4] == 0x01 && data[5] == 0x03 && data[7] == 8 && get_be64(data + 8) == NAA,
	   "VPD 83h: an 8-byte binary NAA designator for the LU");
	ok((data[8] >> 4) == 3, "VPD 83h: NAA 3 (locally assigned)");
	ok(data[16] == 0x02 && data[17] == 0x01 && data[19] == 8 + strlen(SERIAL) &&
	   !memcmp(data + 20, "VHURING ", 8) && !memcmp(data + 28, SERIAL, strlen(SERIAL)),
	   "VPD 83h: an ASCII T10 vendor ID designator, vendor then serial");

	inquiry(1, 0xb0, 255);
	run();
	check_good("VPD B0h");
	ok(data[1] == 0xb0 && get_be16(data + 2) == 0x3c && c.data_len == 64,
	   "VPD B0h: page length 3Ch");
	ok(data[4] == 0x01, "VPD B0h: WSNZ (a WRITE SAME of 0 blocks is refused)");
	ok(get_be16(data + 6) == 8 && get_be32(data + 8) == SCSI_MAX_XFER_BLOCKS &&
	   get_be32(data + 12) == 128,
	   "VPD B0h: granularity 8 blocks (4 KiB physical), maximum and optimal transfer");
	ok(get_be32(data + 20) == SCSI_MAX_UNMAP_BLOCKS &&
	   get_be32(data + 24) == SCSI_MAX_UNMAP_DESCS && get_be32(data + 28) == 8,
	   "VPD B0h: unmap limits and granularity");
	ok(get_be64(data + 36) == SCSI_MAX_WS_BLOCKS, "VPD B0h: maximum WRITE SAME length");
	lu.thin = false;
	run();
	ok(good() && get_be32(data + 20) == 0 && get_be32(data + 24) == 0 &&
	   get_be32(data + 28) == 0, "VPD B0h: no unmap limits without unmap");
	lu.thin = true;

	inquiry(1, 0xb1, 255);
	run();
	check_good("VPD B1h");
	ok(data[1] == 0xb1 && get_be16(data + 2) == 0x3c && get_be16(data + 4) == 1 &&
	   data[7] == 0, "VPD B1h: non-rotating medium, page length 3Ch");

	inquiry(1, 0xb2, 255);
	run();
	check_good("VPD B2h");
	ok(data[1] == 0xb2 && get_be16(data + 2) == 4 && c.data_len == 8 &&
	   data[5] == 0xe4 && data[6] == 0x02,
	   "VPD B2h: LBPU, LBPWS, LBPWS10 and LBPRZ; thin provisioned");
	lu.lbprz = false;
	run();
	ok(good() && data[5] == 0xe0, "VPD B2h: no LBPRZ when unmapped blocks may not read zero");
	lu.lbprz = true;

	inquiry(1, 0x89, 255);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "VPD 89h (not supported)");
}

/* ---- TUR, START STOP, PREVENT ALLOW, REQUEST SENSE ------------------------ */

/*
 * START STOP UNIT's POWER CONDITION (byte 4, bits 7-4) and POWER CONDITION
 * MODIFIER (byte 3, bits 3-0): the conditions with nothing to do are
 * accepted; FORCE_IDLE_0 and FORCE_STANDBY_0 (no timers) and the reserved
 * values are refused.
 */
static void test_start_stop_power(void)
{
	static const uint8_t good_pc[][2] = {
		{ 0x1, 0 }, { 0x2, 0 }, { 0x2, 2 }, { 0x3, 0 }, { 0x3, 1 },
		{ 0x5, 7 }, { 0x7, 0 },
	};
	static const uint8_t bad_pc[][2] = {
		{ 0x0, 1 }, { 0x1, 1 }, { 0x2, 3 }, { 0x3, 2 }, { 0x4, 0 },
		{ 0x6, 0 }, { 0x7, 1 }, { 0x8, 0 }, { 0x9, 0 }, { 0xa, 0 },
		{ 0xb, 0 }, { 0xc, 0 }, { 0xf, 0 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(good_pc); i++) {
		CDB(0x1b, 0, 0, good_pc[i][1], (uint8_t)(good_pc[i][0] << 4), 0);
		run();
		check_good("START STOP UNIT power condition %xh, modifier %u",
			   good_pc[i][0], good_pc[i][1]);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_pc); i++) {
		CDB(0x1b, 0, 0, bad_pc[i][1], (uint8_t)(bad_pc[i][0] << 4 | 0x01), 0);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
			    "START STOP UNIT power condition %xh, modifier %u",
			    bad_pc[i][0], bad_pc[i][1]);
	}
}

static void test_simple(void)
{
	CDB(0x00, 0, 0, 0, 0, 0);
	run();
	check_good("TEST UNIT READY");
	CDB(0x1b, 0, 0, 0, 0x01, 0);
	run();
	check_good("START STOP UNIT (start)");
	CDB(0x1b, 0x01, 0, 0, 0x00, 0);
	run();
	check_good("START STOP UNIT (stop, immediate)");
	test_start_stop_power();
	CDB(0x1e, 0, 0, 0, 0x01, 0);
	run();
	check_good("PREVENT ALLOW MEDIUM REMOVAL (prevent)");
	CDB(0x1e, 0, 0, 0, 0x00, 0);
	run();
	check_good("PREVENT ALLOW MEDIUM REMOVAL (allow)");

	CDB(0x03, 0, 0, 0, 252, 0);
	run();
	check_good("REQUEST SENSE");
	ok(c.data_len == 18 && c.xfer_in == 252 && data[0] == 0x70 && data[2] == 0 &&
	   data[7] == 10 && data[12] == 0 && data[13] == 0,
	   "REQUEST SENSE: fixed format, NO SENSE (errors went out as autosense)");
	CDB(0x03, 0x01, 0, 0, 252, 0);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REQUEST SENSE for descriptor format");
}

/* ---- READ CAPACITY --------------------------------------------------------- */

static void rc16(uint32_t alloc)
{
	CDB(0x9e, 0x10);
	put_be32(cdb + 10, alloc);
}

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

/* ---- MODE SENSE / MODE SELECT --------------------------------------------- */

static void mode_sense6(uint8_t b1, uint8_t pcpage, uint8_t sub, uint8_t alloc)
{
	CDB(0x1a, b1, pcpage, sub, alloc, 0);
}

static void mode_sense10(uint8_t b1, uint8_t pcpage, uint8_t sub, uint16_t alloc)
{
	CDB(0x5a, b1, pcpage, sub, 0, 0, 0, alloc >> 8, alloc, 0);
}

static bool caching_page(const uint8_t *p, bool wce)
{
	return p[0] == 0x08 && p[1] == 0x12 && p[2] == (wce ? 0x04 : 0);
}

static bool control_page(const uint8_t *p, uint8_t b3)
{
	return p[0] == 0x0a && p[1] == 0x0a && p[2] == 0 && p[3] == b3;
}

static void test_mode_sense(void)
{
	mode_sense6(0, 0x3f, 0, 255);
	run();
	check_good("MODE SENSE(6) all pages");
	ok(c.data_len == 44 && c.xfer_in == 255 && data[0] == 43 && data[1] == 0 &&
	   data[2] == 0x10 && data[3] == 8,
	   "MODE SENSE(6): header with length, DPOFUA, no WP, 8-byte block descriptor");
	ok(get_be32(data + 4) == NBLOCKS && data[8] == 0 && get_be24(data + 9) == 512,
	   "MODE SENSE(6): block descriptor with block count and length");
	ok(caching_page(data + 12, true) && control_page(data + 32, 0x10),
	   "MODE SENSE(6): caching page with WCE, then control page");

	mode_sense6(0x08, 0x08, 0, 255);
	run();
	ok(good() && c.data_len == 24 && data[0] == 23 && data[3] == 0 &&
	   caching_page(data + 4, true), "MODE SENSE(6) with DBD: no block descriptor");
	mode_sense6(0x08, 0x0a, 0, 255);
	run();
	ok(good() && c.data_len == 16 && control_page(data + 4, 0x10),
	   "MODE SENSE(6) control page alone");
	mode_sense6(0x08, 0x3f, 0xff, 255);
	run();
	ok(good() && c.data_len == 36, "MODE SENSE(6) all pages and subpages");

	lu.wce = lu.wce_default = false;
	lu.read_only = true;
	mode_sense6(0, 0x08, 0, 255);
	run();
	ok(good() && data[2] == 0x90 && caching_page(data + 12, false),
	   "MODE SENSE(6): WP on a read-only LU; WCE off follows the cache mode");
	lu_reset();

	mode_sense6(0, 0x40 | 0x3f, 0, 255);
	run();
	ok(good() && caching_page(data + 12, true) && control_page(data + 32, 0),
	   "MODE SENSE(6) changeable values: only WCE may change");
	ok(get_be32(data + 12 + 4) == 0 && data[12 + 3] == 0 && data[32 + 2] == 0,
	   "MODE SENSE(6) changeable values: nothing else");
	mode_sense6(0, 0x80 | 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 12, true), "MODE SENSE(6) default values");
	mode_sense6(0, 0xc0 | 0x08, 0, 255);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, "MODE SENSE(6) saved values");
	mode_sense10(0, 0xc0 | 0x3f, 0, 255);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, "MODE SENSE(10) saved values");
	mode_sense6(0, 0x1c, 0, 255);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "MODE SENSE(6) of page 1Ch");
	mode_sense6(0, 0x08, 0x01, 255);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "MODE SENSE(6) of subpage 08h/01h");

	mode_sense10(0, 0x3f, 0, 512);
	run();
	check_good("MODE SENSE(10) all pages");
	ok(c.data_len == 48 && c.xfer_in == 512 && get_be16(data) == 46 && data[3] == 0x10 &&
	   data[4] == 0 && get_be16(data + 6) == 8,
	   "MODE SENSE(10): header with length, DPOFUA, short descriptor");
	ok(get_be32(data + 8) == NBLOCKS && get_be24(data + 13) == 512 &&
	   caching_page(data + 16, true) && control_page(data + 36, 0x10),
	   "MODE SENSE(10): block descriptor then both pages");
	mode_sense10(0x10, 0x08, 0, 512);
	run();
	ok(good() && c.data_len == 44 && get_be16(data) == 42 && data[4] == 0x01 &&
	   get_be16(data + 6) == 16 && get_be64(data + 8) == NBLOCKS &&
	   get_be32(data + 20) == 512 && caching_page(data + 24, true),
	   "MODE SENSE(10) with LLBAA: LONGLBA and a 16-byte block descriptor");
	mode_sense10(0x18, 0x08, 0, 512);
	run();
	ok(good() && c.data_len == 28 && get_be16(data + 6) == 0 && caching_page(data + 8, true),
	   "MODE SENSE(10) with DBD and LLBAA: no block descriptor");
	lu.read_only = true;
	mode_sense10(0x08, 0x0a, 0, 512);
	run();
	ok(good() && data[3] == 0x90, "MODE SENSE(10): WP on a read-only LU");
	lu_reset();

	lu.nblocks = 1ull << 32;
	mode_sense6(0, 0x08, 0, 255);
	run();
	ok(good() && get_be32(data + 4) == 0xffffffff,
	   "MODE SENSE(6): FFFFFFFFh blocks when the count does not fit");
	mode_sense10(0x10, 0x08, 0, 255);
	run();
	ok(good() && get_be64(data + 8) == 1ull << 32,
	   "MODE SENSE(10) with LLBAA: the full 64-bit block count");
	lu_reset();
}

/* A caching page with WCE as given, at p. */
static uint32_t put_caching(uint8_t *p, bool wce)
{
	memset(p, 0, 20);
	p[0] = 0x08;
	p[1] = 0x12;
	p[2] = wce ? 0x04 : 0;
	return 20;
}

static uint32_t put_control(uint8_t *p)
{
	memset(p, 0, 12);
	p[0] = 0x0a;
	p[1] = 0x0a;
	p[3] = 0x10;
	return 12;
}

static void mode_select6(uint8_t b1, uint8_t len)
{
	CDB(0x15, b1, 0, 0, len, 0);
}

static void mode_select10(uint8_t b1, uint16_t len)
{
	CDB(0x55, b1, 0, 0, 0, 0, 0, len >> 8, len, 0);
}

static void test_mode_select(void)
{
	uint32_t n;

	memset(param, 0, sizeof(param));
	n = 4 + put_caching(param + 4, false);
	mode_select6(0x10, n);
	run_param(n);
	ok(good() && !lu.wce && c.xfer_out == n, "MODE SELECT(6) turns WCE off");
	mode_sense6(0x08, 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 4, false), "MODE SENSE(6) then reports WCE off");
	n = 4 + put_caching(param + 4, true);
	mode_select6(0x10, n);
	run_param(n);
	ok(good() && lu.wce, "MODE SELECT(6) turns WCE back on");

	/* With a block descriptor that keeps the block length. */
	memset(param, 0, 12);
	param[3] = 8;
	put_be32(param + 4, NBLOCKS);
	param[10] = 0x02;	/* 512 */
	n = 12 + put_caching(param + 12, false);
	mode_select6(0x10, n);
	run_param(n);
	ok(good() && !lu.wce, "MODE SELECT(6) with a block descriptor of the same block length");
	lu.wce = true;
	param[10] = 0x10;	/* 4096 */
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) changing the block length");
	ok(lu.wce, "a refused MODE SELECT changes nothing");
	param[3] = 16;
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) with a 16-byte block descriptor length");

	/* Caching and control pages in one list; then one bad page after a good one. */
	memset(param, 0, 4);
	n = 4 + put_caching(param + 4, false);
	n += put_control(param + n);
	mode_select6(0x10, n);
	run_param(n);
	ok(good() && !lu.wce, "MODE SELECT(6) with the caching and control pages");
	lu.wce = true;
	param[24 + 3] = 0x00;	/* queue algorithm modifier: not changeable */
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) changing the control page");
	ok(lu.wce, "WCE of the first page is not applied when a later page is refused");

	n = 4 + put_caching(param + 4, true);
	param[4 + 2] |= 0x01;	/* RCD: not changeable */
	mode_select6(0x10, n);
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) setting RCD in the caching page");
	put_caching(param + 4, true);
	param[4 + 12] = 0x20;	/* NUMBER OF CACHE SEGMENTS */
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) changing another caching page field");
	put_caching(param + 4, true);
	param[4 + 1] = 0x0a;
	mode_select6(0x10, 4 + 12);
	run_param(4 + 12);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) with a caching page of the wrong length");
	put_caching(param + 4, true);
	param[4] = 0x1c;
	mode_select6(0x10, n);
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) of an unsupported page");
	put_caching(param + 4, true);
	param[4] = 0x48;	/* SPF */
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "MODE SELECT(6) of a subpage");

	put_caching(param + 4, false);
	mode_select6(0x00, n);
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "MODE SELECT(6) without PF");
	mode_select6(0x11, n);
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "MODE SELECT(6) with SP");
	ok(lu.wce, "refused MODE SELECTs left WCE on");
	mode_select6(0x10, 0);
	run_param(0);
	check_good("MODE SELECT(6) with no parameter list");
	mode_select6(0x10, 3);
	run_param(3);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(6) shorter than its header");
	mode_select6(0x10, n);
	run_param(n - 1);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(6) with less data than the parameter list length");
	mode_select6(0x10, 4 + 10);
	run_param(4 + 10);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(6) with a page cut short");
	mode_select6(0x10, 4 + 1);
	run_param(4 + 1);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(6) with a page header cut short");
	/* The header announces a block descriptor the list does not hold. */
	memset(param, 0, 16);
	param[3] = 8;
	mode_select6(0x10, 4);
	run_param(4);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(6) whose block descriptor is beyond the list");
	ok(lu.wce, "and WCE is unchanged");

	memset(param, 0, 8);
	n = 8 + put_caching(param + 8, false);
	mode_select10(0x10, n);
	run_param(n);
	ok(good() && !lu.wce, "MODE SELECT(10) turns WCE off");
	mode_select10(0x10, 7);
	run_param(7);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(10) shorter than its header");
	put_be16(param + 6, 8);
	mode_select10(0x10, 8);
	run_param(8);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "MODE SELECT(10) whose block descriptor is beyond the list");
	lu_reset();
}

/*
 * The cache mode gives WCE at start-up (wce_default): MODE SENSE reports it
 * as the default value and the current value starts from it; MODE SELECT
 * changes the current value in every mode, never the default.
 */
static void test_wce_start(void)
{
	uint32_t n;

	/* cache=writethrough or directsync: no volatile cache at start-up. */
	lu.wce = lu.wce_default = false;
	mode_sense6(0x08, 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 4, false),
	   "write-through LU: MODE SENSE(6) reports WCE 0");
	mode_sense10(0, 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 16, false),
	   "write-through LU: MODE SENSE(10) reports WCE 0");
	mode_sense6(0x08, 0x80 | 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 4, false),
	   "write-through LU: the default value of WCE is 0");
	mode_sense6(0x08, 0x40 | 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 4, true),
	   "write-through LU: WCE is changeable");
	memset(param, 0, sizeof(param));
	n = 4 + put_caching(param + 4, true);
	mode_select6(0x10, n);
	run_param(n);
	ok(good() && lu.wce && !lu.wce_default,
	   "write-through LU: MODE SELECT(6) turns WCE on, the default stays 0");
	mode_sense10(0x08, 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 8, true),
	   "write-through LU: MODE SENSE(10) then reports WCE 1");
	mode_sense10(0x08, 0x80 | 0x08, 0, 255);
	run();
	ok(good() && caching_page(data + 8, false),
	   "write-through LU: and still a default value of 0");
	lu_reset();

	/* cache=none or writeback: WCE 1 at start-up, and by default. */
	n = 4 + put_caching(param + 4, false);
	mode_select6(0x10, n);
	run_param(n);
	mode_sense6(0x08, 0x80 | 0x08, 0, 255);
	run();
	ok(good() && !lu.wce && caching_page(data + 4, true),
	   "write-back LU turned to WCE 0: the default value stays 1");
	mode_sense6(0x08, 0x3f, 0, 255);
	run();
	ok(good() && caching_page(data + 4, false),
	   "and the current value is 0");
	lu_reset();
}

/* ---- REPORT LUNS, well-known LU, absent LUN -------------------------------- */

static void report_luns(uint8_t sel, uint32_t alloc)
{
	CDB(0xa0, 0, sel, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	put_be32(cdb + 6, alloc);
}

static bool luns_listed(void)
{
	static const uint8_t want[24] = {
		0, 1, 0, 0, 0, 0, 0, 0,
		0, 5, 0, 0, 0, 0, 0, 0,
	};

	return c.data_len == 32 && get_be32(data) == 24 && get_be32(data + 4) == 0 &&
	       get_be64(data + 8) == 0 && !memcmp(data + 16, want, 16);
}

static void test_report_luns(void)
{
	report_luns(0, 16);
	run();
	check_good("REPORT LUNS");
	ok(luns_listed() && c.xfer_in == 16,
	   "REPORT LUNS: list length 24, LUNs 0, 1 and 5 (peripheral addressing)");
	report_luns(0x01, 4096);
	run();
	ok(good() && c.data_len == 16 && get_be32(data) == 8 &&
	   !memcmp(data + 8, (const uint8_t[]){ 0xc1, 0x01, 0, 0, 0, 0, 0, 0 }, 8),
	   "REPORT LUNS with SELECT REPORT 01h: only the REPORT LUNS well-known LU");
	report_luns(0x02, 4096);
	run();
	ok(good() && c.data_len == 40 && get_be32(data) == 32 && data[9] == 0 &&
	   data[17] == 1 && data[25] == 5 &&
	   !memcmp(data + 32, (const uint8_t[]){ 0xc1, 0x01, 0, 0, 0, 0, 0, 0 }, 8),
	   "REPORT LUNS with SELECT REPORT 02h: the LUNs, then the well-known LU");
	report_luns(0, 15);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REPORT LUNS with an allocation length below 16");
	report_luns(0x03, 4096);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "REPORT LUNS SELECT REPORT 03h");

	report_luns(0, 4096);
	run_on(ON_WLUN, 0);
	ok(good() && luns_listed(), "REPORT LUNS to the well-known LU");
	report_luns(0x01, 4096);
	run_on(ON_WLUN, 0);
	ok(good() && c.data_len == 16 && data[8] == 0xc1 && data[9] == 0x01,
	   "REPORT LUNS to the well-known LU with SELECT REPORT 01h");
	report_luns(0x03, 4096);
	run_on(ON_WLUN, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REPORT LUNS to the well-known LU with SELECT REPORT 03h");
	report_luns(0, 8);
	run_on(ON_WLUN, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REPORT LUNS to the well-known LU, allocation length 8");
	inquiry(0, 0, 96);
	run_on(ON_WLUN, 0);
	ok(good() && c.data_len == 36 && data[0] == 0x1e && data[2] == 0x06 && data[4] == 31,
	   "INQUIRY to the well-known LU: peripheral device type 1Eh");
	inquiry(1, 0x80, 96);
	run_on(ON_WLUN, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "VPD page of the well-known LU");
	CDB(0x00, 0, 0, 0, 0, 0);
	run_on(ON_WLUN, 0);
	check_good("TEST UNIT READY to the well-known LU");
	CDB(0x03, 0, 0, 0, 18, 0);
	run_on(ON_WLUN, 0);
	ok(good() && c.data_len == 18 && data[0] == 0x70 && data[2] == 0,
	   "REQUEST SENSE to the well-known LU: NO SENSE");
	rw10(0x28, 0, 0, 1);
	run_on(ON_WLUN, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, "READ(10) to the well-known LU");

	inquiry(0, 0, 96);
	run_on(ON_ABSENT, 0);
	ok(good() && c.data_len == 36 && data[0] == 0x7f && c.xfer_in == 96,
	   "INQUIRY to an absent LUN: peripheral qualifier 3, type 1Fh (7Fh)");
	inquiry(1, 0x00, 96);
	run_on(ON_ABSENT, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, "VPD page of an absent LUN");
	CDB(0x00, 0, 0, 0, 0, 0);
	run_on(ON_ABSENT, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, "TEST UNIT READY to an absent LUN");
	rw10(0x28, 0, 0, 1);
	run_on(ON_ABSENT, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, "READ(10) to an absent LUN");
	rw10(0x2a, 0, 0, 1);
	run_on(ON_ABSENT, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, "WRITE(10) to an absent LUN");
	report_luns(0, 4096);
	run_on(ON_ABSENT, 0);
	ok(good() && luns_listed(), "REPORT LUNS to an absent LUN lists the LUNs");
	CDB(0x03, 0, 0, 0, 18, 0);
	run_on(ON_ABSENT, 0);
	ok(good() && c.data_len == 18 && data[0] == 0x70 && data[2] == SK_ILLEGAL_REQUEST &&
	   data[12] == 0x25 && data[13] == 0x00,
	   "REQUEST SENSE to an absent LUN: GOOD, sense data LOGICAL UNIT NOT SUPPORTED");
}

/* ---- REPORT SUPPORTED OPERATION CODES --------------------------------------- */

static void rsoc(uint8_t opts, uint8_t op, uint16_t sa, uint32_t alloc)
{
	CDB(0xa3, 0x0c, opts, op, sa >> 8, sa, 0, 0, 0, 0, 0, 0);
	put_be32(cdb + 6, alloc);
}

/* A CDB of op (and service action), all other fields zero. */
static void minimal_cdb(uint8_t op, bool has_sa, uint16_t sa)
{
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = op;
	if (has_sa)
		cdb[1] = sa & 0x1f;
}

/* Is every command of the all-commands list accepted (not INVALID OPCODE)? */
static void check_listed_accepted(const char *lu_kind)
{
	uint8_t list[SCSI_DATA_MAX];
	uint32_t n, bad = 0, unmap = 0;
	bool seen[256] = { false };

	rsoc(0, 0, 0, 4096);
	run();
	if (!ok(good() && c.data_len >= 4 && get_be32(data) == c.data_len - 4 &&
		(c.data_len - 4) % 8 == 0,
		"%s: REPORT SUPPORTED OPERATION CODES, all commands", lu_kind))
		return;
	n = (c.data_len - 4) / 8;
	memcpy(list, data, c.data_len);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = list + 4 + 8 * i;
		bool has_sa = e[5] & 0x01;

		seen[e[0]] = true;
		if (e[0] == 0x42)
			unmap++;
		minimal_cdb(e[0], has_sa, get_be16(e + 2));
		if (e[0] == 0x9e)
			put_be32(cdb + 10, 32);
		run_param(0);
		if (c.status == SAM_CHECK_CONDITION && c.asc == ASC_INVALID_OPCODE) {
			tap_diag("listed opcode %02x/%02x is refused as INVALID OPCODE",
				 e[0], get_be16(e + 2));
			bad++;
		}
		if (get_be16(e + 6) != (e[0] < 0x20 ? 6 : e[0] < 0x60 ? 10 :
					e[0] >= 0xa0 ? 12 : 16))
			bad++;
	}
	ok(bad == 0, "%s: every listed command is accepted, with its group's CDB length", lu_kind);
	ok(unmap == (lu.thin ? 1 : 0), "%s: UNMAP is listed only with unmap support", lu_kind);
	bad = 0;
	for (unsigned int op = 0; op < 256; op++) {
		if (seen[op])
			continue;
		CDB((uint8_t)op);
		run_param(0);
		if (!sense_is(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE)) {
			tap_diag("opcode %02x is not listed but not refused", op);
			bad++;
		}
	}
	ok(bad == 0, "%s: every opcode not listed gets INVALID COMMAND OPERATION CODE", lu_kind);
}

static void test_report_opcodes(void)
{
	check_listed_accepted("thin LU");
	lu.thin = false;
	check_listed_accepted("LU without unmap");
	rsoc(1, 0x42, 0, 4096);
	run();
	ok(good() && c.data_len == 4 && data[1] == 0x01,
	   "one command: UNMAP is not supported without unmap");
	lu.thin = true;
	rsoc(1, 0x42, 0, 4096);
	run();
	ok(good() && data[1] == 0x03, "one command: UNMAP is supported with unmap");

	rsoc(1, 0x28, 0, 4096);
	run();
	check_good("one command: READ(10)");
	ok(c.data_len == 14 && data[1] == 0x03 && get_be16(data + 2) == 10 &&
	   data[4] == 0x28 && data[13] == 0x00,
	   "one command: READ(10) supported, CDB size 10, usage data opcode first, CONTROL last");
	rsoc(1, 0x5e, 0, 4096);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "one command without service action, for an opcode with service actions");
	rsoc(2, 0x9e, 0x10, 4096);
	run();
	ok(good() && c.data_len == 20 && data[1] == 0x03 && get_be16(data + 2) == 16 &&
	   data[4] == 0x9e && (data[5] & 0x1f) == 0x10 && data[19] == 0,
	   "one command with service action: READ CAPACITY(16)");
	rsoc(2, 0x5f, 0x05, 4096);
	run();
	ok(good() && c.data_len == 4 && data[1] == 0x01,
	   "one command with service action: PREEMPT AND ABORT is not supported");
	rsoc(2, 0x28, 0, 4096);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "one command with service action, for an opcode without");
	rsoc(1, 0x8c, 0, 4096);
	run();
	ok(good() && c.data_len == 4 && data[1] == 0x01 && data[2] == 0 && data[3] == 0,
	   "one command: an opcode not supported");
	rsoc(3, 0x28, 0, 4096);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REPORT SUPPORTED OPERATION CODES reporting option 3");
	rsoc(0x80, 0, 0, 4096);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REPORT SUPPORTED OPERATION CODES with RCTD");
	rsoc(0, 0, 0, 4096);
	cdb[1] = 0x0d;		/* REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS */
	run();
	ok(c.status == SAM_CHECK_CONDITION && c.key == SK_ILLEGAL_REQUEST,
	   "MAINTENANCE IN service actions other than 0Ch are refused");
}

/* ---- unknown opcodes, unit attention --------------------------------------- */

static void test_unknown(void)
{
	static const uint8_t ops[] = { 0x01, 0x04, 0x07, 0x37, 0x7f, 0x8c, 0xc0, 0xff };

	for (unsigned int i = 0; i < sizeof(ops); i++) {
		CDB(ops[i]);
		run();
		check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, "opcode %02xh", ops[i]);
	}
}

static void test_unit_attention(void)
{
	lu.pending_ua = ASC_POWER_ON_RESET;
	inquiry(0, 0, 96);
	run();
	ok(good() && c.data_len == 36 && lu.pending_ua == ASC_POWER_ON_RESET,
	   "INQUIRY neither reports nor clears a unit attention");
	report_luns(0, 4096);
	run();
	ok(good() && luns_listed() && lu.pending_ua == ASC_POWER_ON_RESET,
	   "REPORT LUNS does not report a power-on unit attention");
	CDB(0x00, 0, 0, 0, 0, 0);
	run();
	check_sense(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET, "TEST UNIT READY after power on");
	run();
	check_good("TEST UNIT READY again: the unit attention was reported once");

	lu.pending_ua = ASC_CAPACITY_CHANGED;
	rw10(0x28, 0, 0, 8);
	run();
	check_sense(SK_UNIT_ATTENTION, ASC_CAPACITY_CHANGED, "READ(10) with a capacity change pending");
	run();
	ok(io_is(SCSI_X_READ, 0, 8), "the READ(10) is then accepted");

	lu.pending_ua = ASC_POWER_ON_RESET;
	CDB(0x03, 0, 0, 0, 252, 0);
	run();
	ok(good() && c.data_len == 18 && data[2] == SK_UNIT_ATTENTION && data[12] == 0x29 &&
	   data[13] == 0x00,
	   "REQUEST SENSE returns the pending unit attention as its data, with GOOD");
	ok(lu.pending_ua == 0, "REQUEST SENSE clears the unit attention it reported");
	CDB(0x00, 0, 0, 0, 0, 0);
	run();
	check_good("TEST UNIT READY after REQUEST SENSE");

	lu.pending_ua = ASC_REPORTED_LUNS_CHANGED;
	report_luns(0, 4096);
	run();
	ok(good() && lu.pending_ua == 0,
	   "REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED");
	lu_reset();
}

/* ---- the CONTROL byte ------------------------------------------------------ */

static void unmap_cdb(uint8_t b1, uint16_t len);

/* Set the NACA bit in the CONTROL byte, the last of a cdb of len bytes. */
static void set_naca(unsigned int len)
{
	cdb[len - 1] |= 0x04;
}

/* NACA asks for an ACA, which no LU has: refused, and nothing done. */
static void test_naca(void)
{
	uint32_t n;

	rw10(0x28, 0, 0, 8);
	set_naca(10);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "READ(10) with NACA");
	rw6(0x0a, 0, 1);
	set_naca(6);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "WRITE(6) with NACA");
	rw12(0xa8, 0, 0, 8);
	set_naca(12);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "READ(12) with NACA");
	rw16(0x8a, 0, 0, 8);
	set_naca(16);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "WRITE(16) with NACA");
	CDB(0x00, 0, 0, 0, 0, 0x04);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "TEST UNIT READY with NACA");
	inquiry(0, 0, 96);
	set_naca(6);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "INQUIRY with NACA");
	report_luns(0, 4096);
	set_naca(12);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "REPORT LUNS with NACA");
	rc16(32);
	set_naca(16);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "READ CAPACITY(16) with NACA");

	memset(param, 0, sizeof(param));
	n = 4 + put_caching(param + 4, false);
	mode_select6(0x10, n);
	set_naca(6);
	run_param(n);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "MODE SELECT(6) with NACA");
	ok(lu.wce, "and WCE is unchanged");

	CDB(0x01, 0, 0, 0, 0, 0x04);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE,
		    "an unknown opcode with NACA is still an unknown opcode");
	lu.thin = false;
	unmap_cdb(0, 0);
	set_naca(10);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE,
		    "UNMAP with NACA on an LU without unmap: unknown opcode");
	lu.thin = true;

	lu.pending_ua = ASC_POWER_ON_RESET;
	CDB(0x00, 0, 0, 0, 0, 0x04);
	run();
	check_sense(SK_UNIT_ATTENTION, ASC_POWER_ON_RESET,
		    "TEST UNIT READY with NACA reports the pending unit attention first");

	report_luns(0, 4096);
	set_naca(12);
	run_on(ON_WLUN, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "REPORT LUNS with NACA to the well-known LU");
	CDB(0x00, 0, 0, 0, 0, 0x03);
	run();
	check_good("TEST UNIT READY with the obsolete CONTROL bits 1-0");
	lu_reset();
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

static void unmap_cdb(uint8_t b1, uint16_t len)
{
	CDB(0x42, b1, 0, 0, 0, 0, 0, len >> 8, len, 0);
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

/* ---- PERSISTENT RESERVE IN / OUT --------------------------------------------- */

static void pr_in(uint8_t sa)
{
	CDB(0x5e, sa, 0, 0, 0, 0, 0, 0x10, 0x00, 0);
}

static void pr_out(uint8_t sa, uint8_t scope_type, uint64_t key, uint64_t sa_key)
{
	CDB(0x5f, sa, scope_type, 0, 0, 0, 0, 0, 24, 0);
	memset(param, 0, 24);
	put_be64(param, key);
	put_be64(param + 8, sa_key);
	run_param(24);
}

static bool conflict(void)
{
	return c.status == SAM_RESERVATION_CONFLICT && c.exec == SCSI_X_DONE &&
	       c.key == SK_NO_SENSE && c.asc == ASC_NONE;
}

/* READ RESERVATION: reserved with key and type, or not reserved. */
static bool reservation(uint64_t key, uint8_t type)
{
	pr_in(1);
	run();
	if (!good())
		return false;
	if (!type)
		return c.data_len == 8 && get_be32(data + 4) == 0;
	return c.data_len == 24 && get_be32(data + 4) == 16 && get_be64(data + 8) == key &&
	       data[21] == type;
}

static void test_pr(void)
{
	uint32_t gen;

	pr_in(0);
	run();
	ok(good() && c.data_len == 8 && get_be32(data) == 0 && get_be32(data + 4) == 0 &&
	   c.xfer_in == 0x1000, "READ KEYS: generation 0, no keys");
	pr_in(2);
	run();
	ok(good() && c.data_len == 8 && get_be16(data) == 8 && data[3] == 0x80 &&
	   data[4] == 0xea && data[5] == 0x01,
	   "REPORT CAPABILITIES: types 1, 3, 5, 6, 7 and 8");
	pr_in(3);
	run();
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB,
		    "PERSISTENT RESERVE IN service action 3");
	ok(reservation(0, 0), "READ RESERVATION: nothing reserved");

	pr_out(1, 0x01, 0, 0);
	ok(conflict(), "RESERVE without a registration: RESERVATION CONFLICT");
	pr_out(0, 0, 0x1234, 0xab);
	ok(conflict(), "REGISTER with a key while unregistered: RESERVATION CONFLICT");
	pr_out(0, 0, 0, 0);
	ok(good() && lu.pr_generation == 0, "REGISTER of key 0 while unregistered does nothing");
	pr_out(0, 0, 0, 0xab);
	ok(good() && lu.pr_key == 0xab, "REGISTER key ABh");
	pr_in(0);
	run();
	ok(good() && c.data_len == 16 && get_be32(data) == 1 && get_be32(data + 4) == 8 &&
	   get_be64(data + 8) == 0xab, "READ KEYS: generation 1, key ABh");
	pr_out(0, 0, 0x99, 0xcd);
	ok(conflict() && lu.pr_key == 0xab, "REGISTER with the wrong key: RESERVATION CONFLICT");
	pr_out(6, 0, 0x99, 0xcd);
	ok(good() && lu.pr_key == 0xcd && lu.pr_generation == 2,
	   "REGISTER AND IGNORE EXISTING KEY replaces the key");

	pr_out(1, 0x01, 0xab, 0);
	ok(conflict(), "RESERVE with a stale key: RESERVATION CONFLICT");
	pr_out(1, 0x02, 0xcd, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "RESERVE of type 2");
	pr_out(1, 0x11, 0xcd, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "RESERVE with a scope other than LU");
	gen = lu.pr_generation;
	pr_out(1, 0x01, 0xcd, 0);
	ok(good() && lu.pr_generation == gen, "RESERVE Write Exclusive (generation unchanged)");
	ok(reservation(0xcd, 1), "READ RESERVATION: key CDh, type 1, LU scope");
	pr_out(1, 0x01, 0xcd, 0);
	ok(good(), "RESERVE again with the same type");
	pr_out(1, 0x03, 0xcd, 0);
	ok(conflict() && reservation(0xcd, 1),
	   "RESERVE of another type while reserved: RESERVATION CONFLICT");
	pr_out(2, 0x03, 0xcd, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_RELEASE, "RELEASE of another type");
	pr_out(2, 0x01, 0x99, 0);
	ok(conflict(), "RELEASE with the wrong key: RESERVATION CONFLICT");
	pr_out(2, 0x01, 0xcd, 0);
	ok(good() && reservation(0, 0), "RELEASE");
	pr_out(2, 0x01, 0xcd, 0);
	ok(good(), "RELEASE with nothing reserved");

	gen = lu.pr_generation;
	pr_out(4, 0x03, 0xcd, 0xcd);
	ok(good() && reservation(0, 0) && lu.pr_key == 0xcd && lu.pr_generation == gen + 1,
	   "PREEMPT with nothing reserved makes no reservation (type ignored)");
	pr_out(4, 0x02, 0xcd, 0xcd);
	ok(good() && reservation(0, 0),
	   "PREEMPT with nothing reserved ignores a type not supported");

	pr_out(1, 0x03, 0xcd, 0);
	gen = lu.pr_generation;
	pr_out(4, 0x03, 0xcd, 0);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "PREEMPT with a zero service action key");
	pr_out(4, 0x03, 0xcd, 0x77);
	ok(conflict(), "PREEMPT of a key nobody holds: RESERVATION CONFLICT");
	pr_out(4, 0x05, 0x77, 0xcd);
	ok(conflict(), "PREEMPT with the wrong key: RESERVATION CONFLICT");
	pr_out(4, 0x05, 0xcd, 0xcd);
	ok(good() && reservation(0xcd, 5) && lu.pr_generation == gen + 1,
	   "PREEMPT of its own reservation changes the type, generation + 1");
	pr_out(4, 0x04, 0xcd, 0xcd);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "PREEMPT to type 4");

	pr_out(2, 0x05, 0xcd, 0);
	pr_out(1, 0x07, 0xcd, 0);
	ok(good() && reservation(0, 7),
	   "READ RESERVATION of an all-registrants type reports key 0");
	pr_out(2, 0x07, 0xcd, 0);
	pr_out(1, 0x08, 0xcd, 0);
	ok(good() && reservation(0, 8),
	   "READ RESERVATION of Exclusive Access, All Registrants reports key 0");

	gen = lu.pr_generation;
	pr_out(3, 0, 0x99, 0);
	ok(conflict(), "CLEAR with the wrong key: RESERVATION CONFLICT");
	pr_out(3, 0, 0xcd, 0);
	ok(good() && lu.pr_key == 0 && lu.pr_type == 0 && lu.pr_generation == gen + 1,
	   "CLEAR drops the registration and the reservation");
	ok(reservation(0, 0), "READ RESERVATION after CLEAR: none");
	pr_out(3, 0, 0, 0);
	ok(conflict(), "CLEAR while unregistered: RESERVATION CONFLICT");

	pr_out(0, 0, 0, 0x55);
	pr_out(1, 0x06, 0x55, 0);
	pr_out(0, 0, 0x55, 0);
	ok(good() && lu.pr_key == 0 && reservation(0, 0),
	   "unregistering (REGISTER of key 0) releases the reservation");

	CDB(0x5f, 0, 0, 0, 0, 0, 0, 0, 23, 0);
	run_param(24);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "PERSISTENT RESERVE OUT with a 23-byte parameter list");
	CDB(0x5f, 0, 0, 0, 0, 0, 0, 0, 24, 0);
	run_param(20);
	check_sense(SK_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH_ERROR,
		    "PERSISTENT RESERVE OUT with less data-out than 24 bytes");
	memset(param, 0, 24);
	param[20] = 0x01;	/* APTPL */
	run_param(24);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "PERSISTENT RESERVE OUT with APTPL");
	param[20] = 0x08;	/* SPEC_I_PT */
	run_param(24);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_PARAM,
		    "PERSISTENT RESERVE OUT with SPEC_I_PT");
	pr_out(0, 0, 0, 0x55);
	pr_out(5, 0x01, 0x55, 0x55);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "PREEMPT AND ABORT");
	pr_out(7, 0x01, 0x55, 0x55);
	check_sense(SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB, "REGISTER AND MOVE");
	lu_reset();
}

int main(void)
{
	lu_reset();
	test_sense_helpers();
	test_inquiry_std();
	test_vpd();
	test_simple();
	test_read_capacity();
	test_mode_sense();
	test_mode_select();
	test_wce_start();
	test_report_luns();
	test_report_opcodes();
	test_unknown();
	test_unit_attention();
	test_naca();
	test_read_write();
	test_verify();
	test_sync_cache();
	test_compare_and_write();
	test_write_same();
	test_unmap();
	test_pr();
	return tap_done();
}
