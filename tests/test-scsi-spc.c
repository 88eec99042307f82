// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-spc.c: unit tests of the SCSI primary commands (scsi/spc.c,
 * scsi_cmd.c) with no daemon: fixed sense data, INQUIRY and its VPD pages,
 * TEST UNIT READY, START STOP UNIT, REQUEST SENSE, REPORT LUNS with the
 * well-known LU and an absent LUN, REPORT SUPPORTED OPERATION CODES,
 * unknown opcodes, unit attentions, the CONTROL byte's NACA and PERSISTENT
 * RESERVE IN/OUT; refusals with sense key, ASC and ASCQ checked.  MODE
 * SENSE/SELECT are in test-scsi-mode.c, block commands in test-scsi-sbc.c.
 */
#include <string.h>

#include "scsi-cmd-fixture.h"
#include "tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

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
	test_report_luns();
	test_report_opcodes();
	test_unknown();
	test_unit_attention();
	test_naca();
	test_pr();
	return tap_done();
}
