/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi-cmd-fixture.h: what the unit tests of the SCSI command layer share
 * (test-scsi-spc, test-scsi-mode, test-scsi-sbc): a fake thin 1 MiB LU and
 * its target, a CDB run on it with everything it writes poisoned first,
 * the CDB builders more than one of them uses, and checks of the status,
 * sense and I/O the layer answers with.
 */
#ifndef VU_SCSI_CMD_FIXTURE_H
#define VU_SCSI_CMD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi_cmd.h"
#include "tap.h"

#define NBLOCKS		2048	/* 1 MiB of 512-byte blocks */
#define SERIAL		"SER-0042"
#define NAA		0x3123456789abcdefull

/* The CDB, data-in and parameter data of the last command, and its result. */
extern uint8_t cdb[SCSI_CDB_SIZE], data[SCSI_DATA_MAX], param[SCSI_PARAM_MAX];
extern struct scsi_cmd c;
extern struct scsi_lu lu;
extern struct scsi_target tgt;

/* LUN 0: 512-byte logical, 4 KiB physical blocks; the target has LUNs 0, 1, 5. */
void lu_reset(void);

void set_cdb(const uint8_t *b, size_t n);

#define CDB(...) set_cdb((const uint8_t[]){ __VA_ARGS__ }, \
			 sizeof((const uint8_t[]){ __VA_ARGS__ }))

enum target_kind { ON_LU, ON_WLUN, ON_ABSENT };

/* Run cdb with plen bytes of param; run() and run_param() on the LU. */
void run_on(enum target_kind k, uint32_t plen);
void run(void);
void run_param(uint32_t plen);

/* CHECK CONDITION with exactly this sense key, ASC and ASCQ, and no I/O. */
bool sense_is(uint8_t key, uint16_t asc);
/* GOOD, answered by the layer itself. */
bool good(void);
/* An I/O the device must run: no status of its own yet. */
bool io_is(enum scsi_exec x, uint64_t lba, uint32_t n);

/*
 * The two checks that print a TAP line are inline here, not in
 * scsi-cmd-fixture.c: tap.h counts the checks in each file that includes
 * it, so they must count in the test program's own file.
 */
static inline __attribute__((format(printf, 3, 4)))
void check_sense(uint8_t key, uint16_t asc, const char *fmt, ...)
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

static inline __attribute__((format(printf, 1, 2)))
void check_good(const char *fmt, ...)
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

/* CDB builders. */
void rw6(uint8_t op, uint32_t lba, uint8_t n);
void rw10(uint8_t op, uint8_t b1, uint32_t lba, uint16_t n);
void rw12(uint8_t op, uint8_t b1, uint32_t lba, uint32_t n);
void rw16(uint8_t op, uint8_t b1, uint64_t lba, uint32_t n);
void rc16(uint32_t alloc);
void mode_select6(uint8_t b1, uint8_t len);
void unmap_cdb(uint8_t b1, uint16_t len);

/* A caching page with WCE as given, at p; returns its length. */
uint32_t put_caching(uint8_t *p, bool wce);

#endif
