/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi-front.h: what the VM-less front-end tests of vhost-uring-scsi
 * (test-scsi-front-cmd, test-scsi-front-ctrl) share: the daemon with LUNs
 * A and B on $TEST_AIO and $TEST_SCSI_THREADS I/O threads, the client that
 * talks to it, the host image's side, CDB builders and what a response
 * says (status, sense).
 */
#ifndef VU_TEST_SCSI_FRONT_H
#define VU_TEST_SCSI_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"
#include "tap.h"

#define IMG_SIZE	(64u << 20)
#define LBS		512u
#define NBLOCKS		(IMG_SIZE / LBS)
#define LUN_A		0	/* the disk most cases use */
#define LUN_B		3	/* a second disk, for REPORT LUNS */
#define LUN_ABSENT	5
/* The request queue the cases use; with 2 threads, not the control's. */
#define REQ_VQ(c)	(SCSIC_REQ_VQ + (c)->rq)

/* SAM and SPC values the cases check. */
#define GOOD		0x00
#define CHECK_COND	0x02
#define KEY_ILLEGAL	0x5
#define KEY_UA		0x6
#define KEY_MISCOMPARE	0xe

extern struct test_env env;
extern char lun_a_arg[400];
extern uint8_t lun_a[8], lun_b[8], lun_absent[8], lun_t1[8];
extern const uint8_t wlun_short[8];
/*
 * TEST_SCSI_THREADS=2: the daemon runs 2 I/O threads; queue i is served by
 * thread i % 2, so the cases use request queue 1 (vq 3, thread 1) while
 * the control queue is on thread 0.
 */
extern unsigned int env_threads;

/*
 * Read the environment, make the images and the LUN addresses.  false
 * (after a TAP plan that skips everything) when this build lacks the engine.
 */
bool scsi_front_init(void);
/* Start the daemon with LUNs A and B and 2 request queues: 0 or -1. */
int scsi_front_daemon(struct daemon *d);
/* Connect with 2 request queues; c->rq is the one the cases use. */
int open_client(struct scsic *c, struct daemon *d);
/* Does a fresh connection write and read back a block on LUN A? */
bool scsi_serves(struct daemon *d, uint32_t lba);

/*
 * The checks that open and close a test's daemon, inline so that they
 * count in the test program's own TAP numbering (tap.h).
 */
static inline bool scsi_front_start(struct daemon *d)
{
	int ret = scsi_front_daemon(d);

	if (!ok(ret == 0, "vhost-uring-scsi starts with LUNs %u and %u (%s, %u I/O thread%s)",
		LUN_A, LUN_B, env.aio, env_threads, env_threads > 1 ? "s" : "")) {
		daemon_log_diag(d, 0);
		return false;
	}
	return true;
}

/* It still serves a new connection, and exits 0 on SIGTERM. */
static inline void scsi_front_stop(struct daemon *d)
{
	int status;

	ok(scsi_serves(d, 12000), "the daemon is alive and serves a new connection after everything");
	status = daemon_stop(d);
	if (!ok(status == 0, "SIGTERM: exit status 0 (%d)", status))
		daemon_log_diag(d, 0);
}

/* The host image (or another file, for host_pread). */
void host_pread(const char *path, void *buf, size_t len, off_t off);
void host_pwrite(const void *buf, size_t len, off_t off);
bool host_is(const void *want, size_t len, off_t off);
bool all_bytes(const uint8_t *p, size_t len, uint8_t c);

/* Big-endian fields of CDBs and parameter data. */
void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);
uint32_t get32(const uint8_t *p);
/* READ(10), WRITE(10) and friends: op, byte 1, LBA and length. */
void cdb10(uint8_t *cdb, uint8_t op, uint8_t b1, uint32_t lba, uint16_t len);
void cdb16(uint8_t *cdb, uint8_t op, uint8_t b1, uint64_t lba, uint32_t len);
/* COMPARE AND WRITE of n blocks at lba: data-out is compare || write. */
void cdb_caw(uint8_t *cdb, uint64_t lba, uint8_t n);
/* READ(10) (op 0x28) into c->din, or op with data-out from c->dout. */
int rw10(struct scsic *c, const uint8_t *lun, uint8_t op, uint8_t b1,
	 uint32_t lba, uint16_t nblocks, uint32_t buf_len,
	 struct scsic_res *r);
int tur(struct scsic *c, const uint8_t *lun, struct scsic_res *r);

/* What a response says. */
bool good(int ret, const struct scsic_res *r);
uint8_t sense_key(const struct scsic_res *r);
uint16_t sense_asc(const struct scsic_res *r);
/* CHECK CONDITION with fixed-format sense key/asc, within 96 bytes. */
bool check_cond(int ret, const struct scsic_res *r, uint8_t key, uint16_t asc);
void diag_res(const char *what, int ret, const struct scsic_res *r);

#endif
