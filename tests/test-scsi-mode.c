// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-mode.c: unit tests of MODE SENSE(6/10) and MODE SELECT(6/10)
 * in the SCSI command layer (scsi/spc.c, scsi_cmd.c) with no daemon: the
 * header and block descriptors, the caching and control pages with their
 * current, changeable and default values, what MODE SELECT may change and
 * its refusals, and the write cache (WCE) a cache mode starts with.
 */
#include <string.h>

#include "scsi-cmd-fixture.h"
#include "tap.h"

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

/* A control page with its current values, at p; returns its length. */
static uint32_t put_control(uint8_t *p)
{
	memset(p, 0, 12);
	p[0] = 0x0a;
	p[1] = 0x0a;
	p[3] = 0x10;
	return 12;
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

int main(void)
{
	lu_reset();
	test_mode_sense();
	test_mode_select();
	test_wce_start();
	return tap_done();
}
