// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-front.c: drives a real vhost-uring-scsi through the project's
 * own vhost-user front end, with no VM: feature negotiation, commands on the
 * request queues (data checked in the host image), response headers (status,
 * sense, residual, used length), LUN addressing, task management functions
 * racing large reads, asynchronous notification, the event queue,
 * malformed requests, the cache modes (WCE at start-up, what writes leave in
 * the host page cache) and the command line.  The engine comes from
 * $TEST_AIO (default io_uring).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_scsi.h>

#include "harness.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define IMG_SIZE	(64u << 20)
#define LBS		512u
#define NBLOCKS		(IMG_SIZE / LBS)
#define LUN_A		0	/* the disk most cases use */
#define LUN_B		3	/* a second disk, for REPORT LUNS */
#define LUN_ABSENT	5
#define NREADS		24	/* 1 MiB reads racing a TMF */
#define READ_BLOCKS	2048
#define TMF_ROUNDS	16
#define READ_AREA	(32u << 20)	/* where they read; other cases stay below */
/* The request queue the cases use; with 2 threads, not the control's. */
#define REQ_VQ(c)	(SCSIC_REQ_VQ + (c)->rq)

/* SAM and SPC values the cases check. */
#define GOOD		0x00
#define CHECK_COND	0x02
#define KEY_ILLEGAL	0x5
#define KEY_UA		0x6
#define KEY_MISCOMPARE	0xe

static struct test_env env;
static char img_b[300];
static char lun_a_arg[400], lun_b_arg[400];
static uint8_t lun_a[8], lun_b[8], lun_absent[8], lun_t1[8];
static const uint8_t wlun_short[8] = { 0xc1, 0x01 };
static const uint8_t wlun_linux[8] = { 0x01, 0x00, 0xc1, 0x01 };
static uint8_t *big;	/* NREADS MiB of guest memory for the racing reads */
static struct daemon *dmn;
/*
 * TEST_SCSI_THREADS=2: the daemon runs 2 I/O threads; queue i is served by
 * thread i % 2, so the cases use request queue 1 (vq 3, thread 1) while
 * the control queue is on thread 0.
 */
static unsigned int env_threads = 1;
static char threads_arg[32];

/* ---- host side ------------------------------------------------------- */

static void host_pread(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, len, off) != (ssize_t)len)
		memset(buf, 0xee, len);
	if (fd >= 0)
		close(fd);
}

static void host_pwrite(const void *buf, size_t len, off_t off)
{
	int fd = open(env.img, O_WRONLY);

	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len || fsync(fd) < 0)
		exit(99);
	close(fd);
}

static bool host_is(const void *want, size_t len, off_t off)
{
	uint8_t *buf = malloc(len);
	bool same;

	host_pread(env.img, buf, len, off);
	same = memcmp(buf, want, len) == 0;
	free(buf);
	return same;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t c)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != c)
			return false;
	}
	return true;
}

/* ---- CDBs ------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * A CDB of size 10 or 16 with an LBA and a length (READ(10), READ(16) and
 * friends): a 32-bit LBA and 16-bit length, or 64 and 32 bits.
 */
static void cdb_lba(uint8_t *cdb, unsigned int size, uint8_t op, uint8_t b1,
		    uint64_t lba, uint32_t len)
{
	memset(cdb, 0, size);
	cdb[0] = op;
	cdb[1] = b1;
	if (size == 10) {
		put32(cdb + 2, (uint32_t)lba);
		put16(cdb + 7, (uint16_t)len);
	} else {
		put64(cdb + 2, lba);
		put32(cdb + 10, len);
	}
}

static void cdb10(uint8_t *cdb, uint8_t op, uint8_t b1, uint32_t lba,
		  uint16_t len)
{
	cdb_lba(cdb, 10, op, b1, lba, len);
}

static void cdb16(uint8_t *cdb, uint8_t op, uint8_t b1, uint64_t lba,
		  uint32_t len)
{
	cdb_lba(cdb, 16, op, b1, lba, len);
}

static int rw10(struct scsic *c, const uint8_t *lun, uint8_t op, uint8_t b1,
		uint32_t lba, uint16_t nblocks, uint32_t buf_len,
		struct scsic_res *r)
{
	uint8_t cdb[10];
	bool out = op != 0x28;

	cdb10(cdb, op, b1, lba, nblocks);
	return scsic_cmd(c, lun, cdb, 10, out ? buf_len : 0, out ? 0 : buf_len, r);
}

static bool good(int ret, const struct scsic_res *r)
{
	return ret == 0 && r->response == VIRTIO_SCSI_S_OK && r->status == GOOD;
}

static uint8_t sense_key(const struct scsic_res *r)
{
	return r->sense[2] & 0xf;
}

static uint16_t sense_asc(const struct scsic_res *r)
{
	return (uint16_t)(r->sense[12] << 8 | r->sense[13]);
}

/* CHECK CONDITION with fixed-format sense key/asc, within 96 bytes. */
static bool check_cond(int ret, const struct scsic_res *r, uint8_t key,
		       uint16_t asc)
{
	return ret == 0 && r->response == VIRTIO_SCSI_S_OK &&
	       r->status == CHECK_COND && r->sense_len >= 14 &&
	       r->sense_len <= VIRTIO_SCSI_SENSE_SIZE &&
	       (r->sense[0] & 0x7f) == 0x70 && sense_key(r) == key &&
	       sense_asc(r) == asc;
}

static void diag_res(const char *what, int ret, const struct scsic_res *r)
{
	tap_diag("%s: ret %d response %u status 0x%02x sense_len %u key 0x%x asc 0x%04x resid %u used %u",
		 what, ret, r->response, r->status, r->sense_len, sense_key(r),
		 sense_asc(r), r->resid, r->used_len);
}

static int tur(struct scsic *c, const uint8_t *lun, struct scsic_res *r)
{
	uint8_t cdb[6] = { 0 };

	return scsic_cmd(c, lun, cdb, 6, 0, 0, r);
}

/* ---- the daemon -------------------------------------------------------- */

static int start(struct daemon *d)
{
	const char *args[] = { lun_a_arg, lun_b_arg, env.aio_arg,
			       "--num-queues=2", threads_arg, NULL };

	return daemon_start_bin(d, scsi_daemon_binary(), args);
}

static int open_client(struct scsic *c, struct daemon *d)
{
	int ret = scsic_open(c, d->sock, 2, ~0ull);

	c->rq = env_threads > 1;
	return ret;
}

/* Does a fresh connection write and read back a block on LUN A? */
static bool scsi_serves(struct daemon *d, uint32_t lba)
{
	struct scsic_res r;
	struct scsic c;
	bool served = false;
	uint8_t want[4096];

	if (!daemon_alive(d) || open_client(&c, d) < 0)
		goto out;
	pattern(want, sizeof(want), lba);
	memcpy(c.dout, want, sizeof(want));
	/* A pending unit attention may answer the first command. */
	tur(&c, lun_a, &r);
	if (!good(rw10(&c, lun_a, 0x2a, 0, lba, 8, 4096, &r), &r))
		goto out;
	memset(c.din, 0, 4096);
	served = good(rw10(&c, lun_a, 0x28, 0, lba, 8, 4096, &r), &r) &&
		 !memcmp(c.din, want, sizeof(want));
out:
	scsic_close(&c);
	return served;
}

/* ---- negotiation ------------------------------------------------------- */

static void test_negotiation(struct daemon *d)
{
	uint64_t offered = BIT_ULL(VIRTIO_F_VERSION_1) |
			   BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			   BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
			   BIT_ULL(VIRTIO_SCSI_F_CHANGE) |
			   BIT_ULL(VIRTIO_SCSI_F_HOTPLUG);
	uint64_t never = BIT_ULL(VIRTIO_F_RING_PACKED) |
			 BIT_ULL(VIRTIO_SCSI_F_INOUT) |
			 BIT_ULL(VIRTIO_SCSI_F_T10_PI);
	struct verdict v = { { 0 } };
	struct front f;
	uint64_t feats = 0, pf = BIT_ULL(VU_PF_REPLY_ACK) | BIT_ULL(VU_PF_MQ);
	uint64_t bad, nq = 0;
	long mark = daemon_log_mark(d);
	int ret;

	ret = front_connect(&f, d->sock, 5000);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	f.timeout_ms = 5000;
	ret = front_get_u64(&f, VU_GET_FEATURES, &feats);
	verdict_check(&v, ret == 0 && (feats & offered) == offered,
		      "features 0x%llx lack VERSION_1, EVENT_IDX, INDIRECT_DESC, SCSI_F_CHANGE or SCSI_F_HOTPLUG",
		      (unsigned long long)feats);
	verdict_check(&v, !(feats & never),
		      "features 0x%llx offer PACKED, INOUT or T10_PI",
		      (unsigned long long)feats);
	ret = front_get_u64(&f, VU_GET_PROTOCOL_FEATURES, &f.protocol_features);
	verdict_check(&v, ret == 0 && (f.protocol_features & pf) == pf,
		      "protocol features 0x%llx lack REPLY_ACK or MQ",
		      (unsigned long long)f.protocol_features);
	f.pf_acked = pf;
	/* Flags 1: protocol version 1, no reply wanted. */
	front_send(&f, VU_SET_PROTOCOL_FEATURES, 1, &pf, sizeof(pf), NULL, 0);
	ret = front_get_u64(&f, VU_GET_QUEUE_NUM, &nq);
	verdict_check(&v, ret == 0 && nq == 4,
		      "GET_QUEUE_NUM says %llu, not 2 + --num-queues = 4",
		      (unsigned long long)nq);
	front_send(&f, VU_SET_OWNER, 1, NULL, 0, NULL, 0);
	for (unsigned int b = 0; b < 64; b++) {
		if (!(never & BIT_ULL(b)))
			continue;
		bad = (feats & offered) | BIT_ULL(b);
		ret = front_request(&f, VU_SET_FEATURES, &bad, sizeof(bad), NULL, 0);
		verdict_check(&v, ret == -EIO,
			      "SET_FEATURES with never-offered bit %u: %d, not refused",
			      b, ret);
	}
	verdict_check(&v, daemon_log_count(d, mark, "never offered") >= 3,
		      "no \"never offered\" log line per refusal");
	bad = feats & offered;
	ret = front_request(&f, VU_SET_FEATURES, &bad, sizeof(bad), NULL, 0);
	verdict_check(&v, ret == 0, "SET_FEATURES with offered bits refused: %d", ret);
	front_close(&f);
	if (!ok(!v.fail[0], "negotiation: offered VERSION_1/EVENT_IDX/INDIRECT_DESC/CHANGE/HOTPLUG, never PACKED/INOUT/T10_PI; each never-offered bit refused"))
		tap_diag("%s", v.fail);
}

/* ---- request queue: basic commands ------------------------------------- */

static void test_power_on_ua(struct scsic *c)
{
	struct scsic_res r1, r2;
	int ret1 = tur(c, lun_a, &r1), ret2 = tur(c, lun_a, &r2);

	if (!ok(check_cond(ret1, &r1, KEY_UA, 0x2900) && good(ret2, &r2),
		"first TEST UNIT READY: UNIT ATTENTION 29/00 (power on), then GOOD")) {
		diag_res("first", ret1, &r1);
		diag_res("second", ret2, &r2);
	}
	tur(c, lun_b, &r1);
}

static bool ascii(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	}
	return true;
}

static void test_inquiry_capacity(struct scsic *c)
{
	struct verdict v = { { 0 } };
	struct scsic_res r;
	uint8_t cdb[16] = { 0x12, 0, 0, 0, 96, 0 };
	int ret;

	ret = scsic_cmd(c, lun_a, cdb, 6, 0, 96, &r);
	verdict_check(&v, good(ret, &r), "INQUIRY: ret %d response %u status %u",
		      ret, r.response, r.status);
	verdict_check(&v, c->din[0] == 0x00 && c->din[4] + 5 >= 36 &&
		      ascii(c->din + 8, 28),
		      "INQUIRY data: type 0x%02x, additional length %u, vendor/product/revision not ASCII",
		      c->din[0], c->din[4]);
	verdict_check(&v, r.resid == 96 - MIN(96u, c->din[4] + 5u) &&
		      r.used_len == SCSIC_RESP_SIZE + 96 - r.resid,
		      "INQUIRY resid %u used %u for %u bytes", r.resid,
		      r.used_len, c->din[4] + 5u);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x25;
	ret = scsic_cmd(c, lun_a, cdb, 10, 0, 8, &r);
	verdict_check(&v, good(ret, &r) && get32(c->din) == NBLOCKS - 1 &&
		      get32(c->din + 4) == LBS && r.used_len == SCSIC_RESP_SIZE + 8,
		      "READ CAPACITY(10): last LBA %u, block %u, used %u",
		      get32(c->din), get32(c->din + 4), r.used_len);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	put32(cdb + 10, 32);
	ret = scsic_cmd(c, lun_a, cdb, 16, 0, 32, &r);
	verdict_check(&v, good(ret, &r) && get32(c->din) == 0 &&
		      get32(c->din + 4) == NBLOCKS - 1 && get32(c->din + 8) == LBS,
		      "READ CAPACITY(16): last LBA %u:%u, block %u", get32(c->din),
		      get32(c->din + 4), get32(c->din + 8));
	if (!ok(!v.fail[0], "INQUIRY, READ CAPACITY(10) and (16) through the ring"))
		tap_diag("%s", v.fail);
}

static void test_write_read(struct scsic *c)
{
	const uint32_t lba = 100, n = 128, len = n * LBS;
	uint8_t *want = malloc(len);
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(want, len, 1);
	memcpy(c->dout, want, len);
	ret = rw10(c, lun_a, 0x2a, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r) && r.resid == 0 &&
		      r.used_len == SCSIC_RESP_SIZE,
		      "WRITE(10): ret %d response %u status %u resid %u used %u",
		      ret, r.response, r.status, r.resid, r.used_len);
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the host image does not hold what WRITE(10) wrote");
	memset(c->din, 0, len);
	ret = rw10(c, lun_a, 0x28, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r) && r.resid == 0 &&
		      r.used_len == SCSIC_RESP_SIZE + len,
		      "READ(10): ret %d status %u resid %u used %u", ret,
		      r.status, r.resid, r.used_len);
	verdict_check(&v, !memcmp(c->din, want, len),
		      "READ(10) returned other data");
	free(want);
	if (!ok(!v.fail[0], "WRITE(10) lands in the host image; READ(10) reads it back"))
		tap_diag("%s", v.fail);
}

static void test_fua(struct scsic *c)
{
	const uint32_t len = 16 * LBS;
	uint8_t want[16 * 512], cdb[16];
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(want, len, 2);
	memcpy(c->dout, want, len);
	ret = rw10(c, lun_a, 0x2a, 0x08, 400, 16, len, &r);
	verdict_check(&v, good(ret, &r), "WRITE(10) FUA: ret %d status %u",
		      ret, r.status);
	verdict_check(&v, host_is(want, len, 400 * LBS),
		      "the host image does not hold the FUA WRITE(10)");
	pattern(want, len, 3);
	memcpy(c->dout, want, len);
	cdb16(cdb, 0x8a, 0x08, 500, 16);
	ret = scsic_cmd(c, lun_a, cdb, 16, len, 0, &r);
	verdict_check(&v, good(ret, &r), "WRITE(16) FUA: ret %d status %u",
		      ret, r.status);
	verdict_check(&v, host_is(want, len, 500 * LBS),
		      "the host image does not hold the FUA WRITE(16)");
	if (!ok(!v.fail[0], "FUA writes (10 and 16) complete GOOD and land in the image"))
		tap_diag("%s", v.fail);
}

static void test_resid(struct scsic *c)
{
	const uint32_t len = 8 * LBS, buf = 3 * len;
	uint8_t want[8 * 512];
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	host_pread(env.img, want, len, 100 * LBS);
	memset(c->din, 0xab, buf);
	ret = rw10(c, lun_a, 0x28, 0, 100, 8, buf, &r);
	verdict_check(&v, good(ret, &r), "READ(10): ret %d status %u", ret,
		      r.status);
	verdict_check(&v, r.resid == buf - len,
		      "resid %u, not %u", r.resid, buf - len);
	verdict_check(&v, r.used_len == SCSIC_RESP_SIZE + len,
		      "used length %u, not 108 + %u", r.used_len, len);
	verdict_check(&v, !memcmp(c->din, want, len) &&
		      all_bytes(c->din + len, buf - len, 0xab),
		      "data wrong, or the buffer written past the transfer");
	if (!ok(!v.fail[0], "READ into a larger data-in buffer: resid = the rest, used = 108 + bytes read"))
		tap_diag("%s", v.fail);
}

/*
 * The virtio specification: a CDB that needs more data than the buffers
 * hold gets VIRTIO_SCSI_S_OVERRUN; nothing is transferred.
 */
static void test_short_din(struct scsic *c)
{
	const uint32_t buf = 2048;
	struct scsic_res r;
	bool untouched;
	int ret;

	memset(c->din, 0xab, 4096);
	ret = rw10(c, lun_a, 0x28, 0, 100, 8, buf, &r);
	untouched = all_bytes(c->din, 4096, 0xab);
	if (!ok(ret == 0 && r.response == VIRTIO_SCSI_S_OVERRUN &&
		r.resid == buf && r.used_len == SCSIC_RESP_SIZE && untouched,
		"READ of 4 KiB into a 2 KiB buffer: OVERRUN, resid 2048, used 108, buffer untouched")) {
		diag_res("short read", ret, &r);
		tap_diag("buffer untouched: %d", untouched);
	}
}

static void test_bidi(struct scsic *c)
{
	uint8_t before[512], cdb[10];
	struct scsic_res r;
	int ret;

	host_pread(env.img, before, sizeof(before), 900 * LBS);
	memset(c->dout, 0x5a, 512);
	cdb10(cdb, 0x2a, 0, 900, 1);
	ret = scsic_cmd(c, lun_a, cdb, 10, 512, 512, &r);
	if (!ok(ret == 0 && r.response == VIRTIO_SCSI_S_FAILURE &&
		r.used_len == SCSIC_RESP_SIZE && host_is(before, 512, 900 * LBS),
		"data-out and data-in without INOUT: VIRTIO_SCSI_S_FAILURE, image unchanged"))
		diag_res("bidi", ret, &r);
}

static void test_bad_target(struct scsic *c)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct scsic_res r;
	int ret;

	memset(c->din, 0xab, 36);
	ret = scsic_cmd(c, lun_t1, cdb, 6, 0, 36, &r);
	if (!ok(ret == 0 && r.response == VIRTIO_SCSI_S_BAD_TARGET &&
		r.used_len == SCSIC_RESP_SIZE && all_bytes(c->din, 36, 0xab),
		"INQUIRY to target 1: VIRTIO_SCSI_S_BAD_TARGET, no data"))
		diag_res("target 1", ret, &r);
}

static void test_absent_lun(struct scsic *c)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };
	struct scsic_res r1, r2;
	int ret1, ret2;

	ret1 = scsic_cmd(c, lun_absent, cdb, 6, 0, 36, &r1);
	ret2 = tur(c, lun_absent, &r2);
	if (!ok(good(ret1, &r1) && c->din[0] == 0x7f &&
		check_cond(ret2, &r2, KEY_ILLEGAL, 0x2500),
		"absent LUN: INQUIRY answers 0x7f; TEST UNIT READY gets LOGICAL UNIT NOT SUPPORTED")) {
		diag_res("INQUIRY", ret1, &r1);
		tap_diag("INQUIRY byte 0: 0x%02x", c->din[0]);
		diag_res("TUR", ret2, &r2);
	}
}

static void check_luns(struct verdict *v, struct scsic *c, const uint8_t *lun,
		       const char *how)
{
	uint8_t cdb[12] = { 0xa0 };
	struct scsic_res r;
	int ret;

	put32(cdb + 6, 256);
	memset(c->din, 0xab, 256);
	ret = scsic_cmd(c, lun, cdb, 12, 0, 256, &r);
	verdict_check(v, good(ret, &r), "REPORT LUNS via %s: ret %d response %u status %u",
		      how, ret, r.response, r.status);
	verdict_check(v, get32(c->din) == 16 && c->din[8 + 1] == LUN_A &&
		      c->din[16 + 1] == LUN_B && !c->din[8] && !c->din[16],
		      "REPORT LUNS via %s: list length %u, LUNs %02x%02x %02x%02x",
		      how, get32(c->din), c->din[8], c->din[9], c->din[16], c->din[17]);
	verdict_check(v, r.resid == 256 - 24 && r.used_len == SCSIC_RESP_SIZE + 24,
		      "REPORT LUNS via %s: resid %u used %u", how, r.resid,
		      r.used_len);
}

static void test_report_luns(struct scsic *c)
{
	struct verdict v = { { 0 } };

	check_luns(&v, c, wlun_short, "the W-LUN C1 01");
	check_luns(&v, c, wlun_linux, "the W-LUN 01 00 C1 01");
	check_luns(&v, c, lun_a, "LUN 0");
	if (!ok(!v.fail[0], "REPORT LUNS through the well-known LU (both encodings) and LUN 0 lists LUNs 0 and 3"))
		tap_diag("%s", v.fail);
}

static void test_unknown_opcode(struct scsic *c)
{
	uint8_t cdb[6] = { 0x02 };	/* no such command in SPC or SBC */
	struct scsic_res r;
	int ret;

	ret = scsic_cmd(c, lun_a, cdb, 6, 0, 0, &r);
	if (!ok(check_cond(ret, &r, KEY_ILLEGAL, 0x2000) && r.sense_len == 18 &&
		r.sense[7] == 10 && all_bytes(r.sense + r.sense_len,
					      VIRTIO_SCSI_SENSE_SIZE - r.sense_len, 0),
		"unknown opcode: fixed sense (0x70), 18 bytes <= 96, ILLEGAL REQUEST 20/00, rest zero"))
		diag_res("opcode 0x02", ret, &r);
}

/*
 * READ(10) of 8 blocks at LBA 100 with the request header in 2 descriptors
 * and the response header in 3: with shared set, the last one also holds
 * the data-in (which then starts 108 bytes into it); otherwise the data-in
 * has a descriptor of its own.
 */
static void split_header(struct verdict *v, struct scsic *c, bool shared)
{
	uint8_t *hdr = c->dout, *resp = c->din, want[4096];
	uint8_t *data = shared ? resp + SCSIC_RESP_SIZE : resp + 8192;
	struct virtio_scsi_cmd_req rq;
	struct virtio_scsi_cmd_resp rs;
	struct front_buf bufs[6];
	uint32_t used = 0, last = SCSIC_RESP_SIZE - 65;
	unsigned int n = 5;
	int ret;

	memset(&rq, 0, sizeof(rq));
	memcpy(rq.lun, lun_a, 8);
	cdb10(rq.cdb, 0x28, 0, 100, 8);
	memcpy(hdr, &rq, sizeof(rq));
	memset(resp, 0xff, 8192 + 4096);
	host_pread(env.img, want, sizeof(want), 100 * LBS);
	bufs[0] = (struct front_buf){ front_gpa(&c->f, hdr), 20, false };
	bufs[1] = (struct front_buf){ front_gpa(&c->f, hdr + 20), sizeof(rq) - 20, false };
	bufs[2] = (struct front_buf){ front_gpa(&c->f, resp), 5, true };
	bufs[3] = (struct front_buf){ front_gpa(&c->f, resp + 5), 60, true };
	bufs[4] = (struct front_buf){ front_gpa(&c->f, resp + 65),
				      last + (shared ? 4096 : 0), true };
	if (!shared)
		bufs[n++] = (struct front_buf){ front_gpa(&c->f, data), 4096, true };
	ret = scsic_run(c, REQ_VQ(c), bufs, n, &used);
	memcpy(&rs, resp, sizeof(rs));
	verdict_check(v, ret == 0, "the request did not complete: %d", ret);
	verdict_check(v, !rs.sense_len, "CHECK CONDITION: sense key 0x%x asc 0x%02x%02x",
		      rs.sense[2] & 0xf, rs.sense[12], rs.sense[13]);
	verdict_check(v, rs.response == VIRTIO_SCSI_S_OK && rs.status == GOOD &&
		      le32toh(rs.sense_len) == 0 && le32toh(rs.resid) == 0 &&
		      all_bytes(rs.sense, sizeof(rs.sense), 0),
		      "response header: response %u status %u sense_len %u resid %u",
		      rs.response, rs.status, le32toh(rs.sense_len), le32toh(rs.resid));
	verdict_check(v, used == SCSIC_RESP_SIZE + 4096, "used length %u", used);
	verdict_check(v, !memcmp(data, want, sizeof(want)),
		      "the data-in differs from the image");
}

static void test_split_header(struct scsic *c)
{
	struct verdict v = { { 0 } };

	split_header(&v, c, false);
	if (!ok(!v.fail[0], "request header in 2 descriptors, response header in 3, data-in after them"))
		tap_diag("%s", v.fail);
}

/*
 * A data-in buffer that shares the response header's descriptor starts 108
 * bytes into it, which O_DIRECT refuses; virtio lets the driver lay
 * descriptors out as it likes, so the daemon goes through a bounce buffer.
 * (This test found the daemon answering HARDWARE ERROR 44/00 instead.)
 */
static void test_shared_desc(struct scsic *c)
{
	struct verdict v = { { 0 } };
	long mark = daemon_log_mark(dmn);

	split_header(&v, c, true);
	if (!ok(!v.fail[0], "response header and data-in in one descriptor (data not block-aligned in guest memory)")) {
		tap_diag("%s", v.fail);
		daemon_log_diag(dmn, mark);
	}
}

static void test_unmap(struct scsic *c)
{
	const uint32_t lba = 2048, n = 64, len = n * LBS;
	uint8_t *zero = calloc(1, len), cdb[10] = { 0x42 };
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(c->dout, len, 4);
	ret = rw10(c, lun_a, 0x2a, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r), "WRITE before UNMAP: status %u", r.status);
	memset(c->dout, 0, 24);
	put16(c->dout, 22);
	put16(c->dout + 2, 16);
	put64(c->dout + 8, lba);
	put32(c->dout + 16, n);
	put16(cdb + 7, 24);
	ret = scsic_cmd(c, lun_a, cdb, 10, 24, 0, &r);
	verdict_check(&v, good(ret, &r), "UNMAP: ret %d response %u status %u key 0x%x asc 0x%04x",
		      ret, r.response, r.status, sense_key(&r), sense_asc(&r));
	memset(c->din, 0xab, len);
	ret = rw10(c, lun_a, 0x28, 0, lba, n, len, &r);
	verdict_check(&v, good(ret, &r) && all_bytes(c->din, len, 0),
		      "READ after UNMAP: status %u, not all zeros", r.status);
	verdict_check(&v, host_is(zero, len, (off_t)lba * LBS),
		      "the host image is not zero where UNMAP was");
	free(zero);
	if (!ok(!v.fail[0], "UNMAP, then READ returns zeros (and the image holds zeros)"))
		tap_diag("%s", v.fail);
}

/* Send cdb to LUN A with out bytes of data-out; a failed verdict unless GOOD. */
static void expect_good(struct verdict *v, struct scsic *c, const uint8_t *cdb,
			unsigned int cdb_len, uint32_t out, const char *what)
{
	struct scsic_res r;
	int ret = scsic_cmd(c, lun_a, cdb, cdb_len, out, 0, &r);

	verdict_check(v, good(ret, &r), "%s: ret %d status %u key 0x%x asc 0x%04x",
		      what, ret, r.status, sense_key(&r), sense_asc(&r));
}

static void test_write_same(struct scsic *c)
{
	const uint32_t lba = 4096, n = 32, len = n * LBS;
	uint8_t *want = malloc(len), cdb[16];
	struct verdict v = { { 0 } };

	/* Zeroing: WRITE SAME(16) of a zero block over a pattern. */
	pattern(want, len, 5);
	host_pwrite(want, len, (off_t)lba * LBS);
	memset(c->dout, 0, LBS);
	cdb16(cdb, 0x93, 0, lba, n);
	expect_good(&v, c, cdb, 16, LBS, "WRITE SAME(16) zero");
	memset(want, 0, len);
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the image is not zero after WRITE SAME(16) of zeros");
	/* A non-zero block, WRITE SAME(10). */
	pattern(c->dout, LBS, 6);
	for (uint32_t i = 0; i < n; i++)
		memcpy(want + i * LBS, c->dout, LBS);
	cdb10(cdb, 0x41, 0, lba, (uint16_t)n);
	expect_good(&v, c, cdb, 10, LBS, "WRITE SAME(10) pattern");
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the image does not hold the block %u times", n);
	free(want);
	if (!ok(!v.fail[0], "WRITE SAME(16) of zeros and WRITE SAME(10) of a pattern land in the image"))
		tap_diag("%s", v.fail);
}

static void test_verify(struct scsic *c)
{
	const uint32_t lba = 6000, n = 16, len = n * LBS;
	uint8_t cdb[10];
	struct scsic_res r1, r2;
	int ret1, ret2;

	pattern(c->dout, len, 7);
	host_pwrite(c->dout, len, (off_t)lba * LBS);
	cdb10(cdb, 0x2f, 0x02, lba, (uint16_t)n);	/* BYTCHK = 01 */
	ret1 = scsic_cmd(c, lun_a, cdb, 10, len, 0, &r1);
	c->dout[len - 3] ^= 0x40;
	ret2 = scsic_cmd(c, lun_a, cdb, 10, len, 0, &r2);
	if (!ok(good(ret1, &r1) &&
		check_cond(ret2, &r2, KEY_MISCOMPARE, 0x1d00),
		"VERIFY(10) BYTCHK=1: GOOD on matching data, MISCOMPARE 1D/00 on one changed byte")) {
		diag_res("matching", ret1, &r1);
		diag_res("changed", ret2, &r2);
	}
}

/*
 * WRITE AND VERIFY with BYTCHK 01b: written durably, read back, compared,
 * 512 KiB at a time (two passes here); BYTCHK 00b is a durable write;
 * BYTCHK 10b is refused and writes nothing.
 */
static void test_write_verify(struct scsic *c)
{
	const uint32_t lba = 16384, n = 2048, len = n * LBS;
	uint8_t *want = malloc(len), cdb[16];
	struct verdict v = { { 0 } };
	struct scsic_res r;
	int ret;

	pattern(want, len, 12);
	memcpy(c->dout, want, len);
	cdb10(cdb, 0x2e, 0x02, lba, (uint16_t)n);
	ret = scsic_cmd(c, lun_a, cdb, 10, len, 0, &r);
	verdict_check(&v, good(ret, &r) && r.resid == 0 && r.used_len == SCSIC_RESP_SIZE,
		      "WRITE AND VERIFY(10) BYTCHK 01b: ret %d status %u key 0x%x asc 0x%04x",
		      ret, r.status, sense_key(&r), sense_asc(&r));
	verdict_check(&v, host_is(want, len, (off_t)lba * LBS),
		      "the image does not hold what WRITE AND VERIFY(10) wrote");
	pattern(want, 8 * LBS, 13);
	memcpy(c->dout, want, 8 * LBS);
	cdb16(cdb, 0x8e, 0, lba, 8);
	ret = scsic_cmd(c, lun_a, cdb, 16, 8 * LBS, 0, &r);
	verdict_check(&v, good(ret, &r) && host_is(want, 8 * LBS, (off_t)lba * LBS),
		      "WRITE AND VERIFY(16) BYTCHK 00b: status %u, or not in the image",
		      r.status);
	memset(c->dout, 0x77, 8 * LBS);
	cdb16(cdb, 0x8e, 0x04, lba, 8);
	ret = scsic_cmd(c, lun_a, cdb, 16, 8 * LBS, 0, &r);
	verdict_check(&v, check_cond(ret, &r, KEY_ILLEGAL, 0x2400) &&
		      host_is(want, 8 * LBS, (off_t)lba * LBS),
		      "WRITE AND VERIFY(16) BYTCHK 10b: key 0x%x asc 0x%04x, or it wrote",
		      sense_key(&r), sense_asc(&r));
	cdb10(cdb, 0x35, 0x02, 0, 0);
	expect_good(&v, c, cdb, 10, 0, "SYNCHRONIZE CACHE(10) with IMMED");
	free(want);
	if (!ok(!v.fail[0], "WRITE AND VERIFY: BYTCHK 01b compares 1 MiB in two passes, 00b writes, 10b is refused; SYNCHRONIZE CACHE with IMMED completes GOOD"))
		tap_diag("%s", v.fail);
}


/* COMPARE AND WRITE of n blocks at lba: data-out is compare || write. */
static void cdb_caw(uint8_t *cdb, uint64_t lba, uint8_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	put64(cdb + 2, lba);
	cdb[13] = n;
}

static void test_compare_and_write(struct scsic *c)
{
	const uint32_t lba = 7000, n = 8, len = n * LBS;
	uint8_t cdb[16], *cmp = c->dout, *wr = c->dout + len;
	struct scsic_res r1, r2;
	uint32_t info;
	int ret1, ret2;
	bool landed, kept;

	pattern(cmp, len, 21);
	pattern(wr, len, 22);
	host_pwrite(cmp, len, (off_t)lba * LBS);
	cdb_caw(cdb, lba, n);
	ret1 = scsic_cmd(c, lun_a, cdb, 16, 2 * len, 0, &r1);
	landed = host_is(wr, len, (off_t)lba * LBS);
	/* Now compare with what was written, one byte changed. */
	memcpy(cmp, wr, len);
	cmp[1234] ^= 0x01;
	pattern(wr, len, 23);
	ret2 = scsic_cmd(c, lun_a, cdb, 16, 2 * len, 0, &r2);
	info = get32(r2.sense + 3);
	cmp[1234] ^= 0x01;
	kept = host_is(cmp, len, (off_t)lba * LBS);
	if (!ok(good(ret1, &r1) && landed &&
		check_cond(ret2, &r2, KEY_MISCOMPARE, 0x1d00) &&
		(r2.sense[0] & 0x80) && info == 1234 && kept,
		"COMPARE AND WRITE: writes on a match; MISCOMPARE 1D/00 with the offset 1234 in INFORMATION, and no write, on a mismatch")) {
		diag_res("match", ret1, &r1);
		diag_res("mismatch", ret2, &r2);
		tap_diag("written: %d, info valid %d offset %u, unchanged after the mismatch: %d",
			 landed, !!(r2.sense[0] & 0x80), info, kept);
	}
}

/*
 * COMPARE AND WRITE on one request queue while 1 MiB reads of the same LUN
 * run on the other (with 2 threads: another thread), a read and a write
 * queued behind it on the readers' queue; optionally ABORT TASK SET once it
 * waits.  Everything completes; the CAW is all or nothing; the read sees
 * the blocks before or after it, never a mix.
 */
static void caw_race(struct verdict *v, struct scsic *c, bool abort,
		     const uint8_t *want, unsigned int round)
{
	const uint32_t lba = 7100 + 16 * (round % 8), n = 8, len = n * LBS;
	const unsigned int crq = c->rq ^ 1, rd = NREADS, wr_slot = NREADS + 1,
			   caw_slot = NREADS + 2;
	uint8_t cdb[16], *old = c->dout + 2 * len, *new = c->dout + len;
	uint8_t *wdata = c->dout + 3 * len;
	struct scsic_res r;
	unsigned int left = NREADS + 2, cleft = 1;
	uint8_t tmf = 0xff;
	bool caw_done;
	uint32_t ulen;
	uintptr_t slot;

	pattern(old, len, 30 + round);
	pattern(new, len, 60 + round);
	pattern(wdata, len, 90 + round);
	memcpy(c->dout, old, len);
	host_pwrite(old, len, (off_t)lba * LBS);
	for (unsigned int i = 0; i < NREADS; i++) {
		cdb10(cdb, 0x28, 0, READ_AREA / LBS + i * READ_BLOCKS, READ_BLOCKS);
		scsic_submit(c, c->rq, i, lun_a, cdb, 10, NULL, 0,
			     big + ((size_t)i << 20), READ_BLOCKS * LBS);
	}
	scsic_kick(c, REQ_VQ(c));
	cdb_caw(cdb, lba, n);
	scsic_submit(c, crq, caw_slot, lun_a, cdb, 16, c->dout, 2 * len, NULL, 0);
	scsic_kick(c, SCSIC_REQ_VQ + crq);
	cdb10(cdb, 0x28, 0, lba, n);
	scsic_submit(c, c->rq, rd, lun_a, cdb, 10, NULL, 0, c->din, len);
	cdb10(cdb, 0x2a, 0, lba + 8, n);
	scsic_submit(c, c->rq, wr_slot, lun_a, cdb, 10, wdata, len, NULL, 0);
	scsic_kick(c, REQ_VQ(c));
	if (abort)
		verdict_check(v, scsic_tmf(c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET,
					   lun_a, 0, &tmf) == 0 && tmf == 0,
			      "round %u: ABORT TASK SET answered %u", round, tmf);
	for (long end = now_ms() + 10000; (left || cleft) && now_ms() < end;) {
		if (left && scsic_reap(c, REQ_VQ(c), 0, &slot, &ulen) == 1)
			left--;
		else if (cleft && scsic_reap(c, SCSIC_REQ_VQ + crq, 0, &slot, &ulen) == 1)
			cleft--;
		else
			usleep(1000);
	}
	if (!verdict_check(v, !left && !cleft,
			   "round %u: %u commands and %u CAW never completed",
			   round, left, cleft))
		return;
	for (unsigned int i = 0; i < NREADS + 3; i++) {
		scsic_result(c, i, 0, &r);
		if (abort && (r.response == VIRTIO_SCSI_S_ABORTED))
			continue;
		verdict_check(v, r.response == VIRTIO_SCSI_S_OK && r.status == GOOD,
			      "round %u: slot %u: response %u status %u key 0x%x asc 0x%04x",
			      round, i, r.response, r.status, sense_key(&r), sense_asc(&r));
		if (i < NREADS)
			verdict_check(v, !memcmp(big + ((size_t)i << 20),
						 want + ((size_t)i << 20), READ_BLOCKS * LBS),
				      "round %u: read %u returned the wrong data", round, i);
	}
	scsic_result(c, caw_slot, 0, &r);
	caw_done = r.response == VIRTIO_SCSI_S_OK;
	verdict_check(v, host_is(caw_done ? new : old, len, (off_t)lba * LBS),
		      "round %u: the image holds neither the blocks before the CAW nor after (CAW response %u)",
		      round, r.response);
	scsic_result(c, rd, 0, &r);
	if (r.response == VIRTIO_SCSI_S_OK)
		verdict_check(v, !memcmp(c->din, old, len) ||
			      (caw_done && !memcmp(c->din, new, len)),
			      "round %u: the read behind the CAW saw a mix", round);
	scsic_result(c, wr_slot, 0, &r);
	if (r.response == VIRTIO_SCSI_S_OK)
		verdict_check(v, host_is(wdata, len, (off_t)(lba + 8) * LBS),
			      "round %u: the write behind the CAW is not in the image",
			      round);
}

static void test_caw_race(struct scsic *c, const uint8_t *want, bool abort)
{
	struct verdict v = { { 0 } };
	struct scsic_res r;

	for (unsigned int i = 0; i < TMF_ROUNDS && !v.fail[0]; i++) {
		caw_race(&v, c, abort, want, i);
		tur(c, lun_a, &r);
	}
	if (!ok(!v.fail[0], "COMPARE AND WRITE on the other queue during 1 MiB reads, a read and a write behind it%s (%d rounds): all complete, the CAW all or nothing",
		abort ? ", ABORT TASK SET" : "", TMF_ROUNDS))
		tap_diag("%s", v.fail);
}

static void test_sync_cache(struct scsic *c)
{
	uint8_t cdb[16] = { 0x35 };
	struct scsic_res r1, r2;
	int ret1, ret2;

	ret1 = scsic_cmd(c, lun_a, cdb, 10, 0, 0, &r1);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x91;
	ret2 = scsic_cmd(c, lun_a, cdb, 16, 0, 0, &r2);
	if (!ok(good(ret1, &r1) && good(ret2, &r2) &&
		r1.used_len == SCSIC_RESP_SIZE && r2.used_len == SCSIC_RESP_SIZE,
		"SYNCHRONIZE CACHE(10) and (16): GOOD")) {
		diag_res("(10)", ret1, &r1);
		diag_res("(16)", ret2, &r2);
	}
}

/* ---- task management --------------------------------------------------- */

static uint16_t used_idx(struct scsic *c, unsigned int vq)
{
	return le16toh(__atomic_load_n(&c->f.vqs[vq].used->idx, __ATOMIC_ACQUIRE));
}

/*
 * Queue NREADS 1 MiB reads of LUN A and, behind them on the same queue,
 * REPORT LUNS through the W-LUN: once that is answered the device has taken
 * every read.  Returns the reads already complete by then, or -1.
 */
static int start_reads(struct scsic *c, bool *seen)
{
	uint8_t cdb[12];
	unsigned int done = 0;
	uint32_t len;
	uintptr_t slot;

	memset(seen, 0, (NREADS + 1) * sizeof(*seen));
	for (unsigned int i = 0; i < NREADS; i++) {
		cdb10(cdb, 0x28, 0, READ_AREA / LBS + i * READ_BLOCKS, READ_BLOCKS);
		if (scsic_submit(c, c->rq, i, lun_a, cdb, 10, NULL, 0,
				 big + ((size_t)i << 20), READ_BLOCKS * LBS) < 0)
			return -1;
	}
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0xa0;
	put32(cdb + 6, 256);
	if (scsic_submit(c, c->rq, NREADS, wlun_short, cdb, 12, NULL, 0, c->din, 256) < 0)
		return -1;
	scsic_kick(c, REQ_VQ(c));
	while (!seen[NREADS]) {
		if (scsic_reap(c, REQ_VQ(c), 5000, &slot, &len) != 1 ||
		    slot > NREADS || seen[slot])
			return -1;
		seen[slot] = true;
		done += slot < NREADS;
	}
	return (int)done;
}

/* Reap what is left of the reads; check each answered GOOD with the data. */
static void finish_reads(struct verdict *v, struct scsic *c, bool *seen,
			 const uint8_t *want)
{
	unsigned int left = 0;
	struct scsic_res r;
	uint32_t len;
	uintptr_t slot;

	for (unsigned int i = 0; i < NREADS; i++)
		left += !seen[i];
	while (left--) {
		if (!verdict_check(v, scsic_reap(c, REQ_VQ(c), 5000, &slot, &len) == 1 &&
				   slot < NREADS && !seen[slot],
				   "a read never completed, or twice"))
			return;
		seen[slot] = true;
	}
	for (unsigned int i = 0; i < NREADS; i++) {
		scsic_result(c, i, 0, &r);
		if (r.response == VIRTIO_SCSI_S_ABORTED ||
		    r.response == VIRTIO_SCSI_S_RESET)
			continue;
		verdict_check(v, r.response == VIRTIO_SCSI_S_OK && r.status == GOOD &&
			      !memcmp(big + ((size_t)i << 20), want + ((size_t)i << 20),
				      READ_BLOCKS * LBS),
			      "read %u: response %u status %u or wrong data", i,
			      r.response, r.status);
	}
}

/*
 * Wait for the control queue's used index by spinning (5 s at most), so
 * that a TMF made visible before the commands it waited for is caught in
 * the act.
 */
static bool spin_for_tmf(struct scsic *c, uint16_t ctrl_before)
{
	long end = now_ms() + 5000;

	for (unsigned long i = 1; used_idx(c, SCSIC_CTRL_VQ) == ctrl_before; i++) {
		if (!(i & 0xffff) && now_ms() > end)
			return false;
	}
	return true;
}

/*
 * One round: NREADS reads, the TMF once the device holds them all, then
 * the checks.  Returns the reads that were complete before the TMF went.
 */
static int tmf_round(struct verdict *v, struct scsic *c, uint32_t subtype,
		     uint16_t ua, const uint8_t *want)
{
	bool seen[NREADS + 1];
	uint16_t req_before = c->f.vqs[REQ_VQ(c)].last_used;
	uint16_t ctrl_before = used_idx(c, SCSIC_CTRL_VQ), req_at_tmf;
	unsigned int unanswered = 0;
	struct scsic_res r;
	uint32_t len;
	uintptr_t ck;
	int early, ret;

	early = start_reads(c, seen);
	if (!verdict_check(v, early >= 0, "the reads could not be queued or reaped"))
		return -1;
	/* Ask for a call: the daemon's eventfd write widens the window. */
	fvq_enable_cb(&c->f.vqs[SCSIC_CTRL_VQ]);
	ret = scsic_tmf_submit(c, subtype, lun_a, 0);
	verdict_check(v, ret == 0, "TMF not queued: %d", ret);
	verdict_check(v, spin_for_tmf(c, ctrl_before), "the TMF never completed");
	req_at_tmf = used_idx(c, REQ_VQ(c));
	for (unsigned int i = 0; i < NREADS; i++)
		unanswered += c->resp[i].response == 0xff;
	/*
	 * The affected commands must be visible before the TMF's answer.
	 * (This test found the control queue's used index published before
	 * the request queue's, with every read already answered.)
	 */
	verdict_check(v, (uint16_t)(req_at_tmf - req_before) == NREADS + 1 &&
		      unanswered == 0,
		      "when the TMF's answer was visible, %u of %u commands were in the used ring (%u reads not yet answered)",
		      (uint16_t)(req_at_tmf - req_before), NREADS + 1, unanswered);
	ret = scsic_reap(c, SCSIC_CTRL_VQ, 1000, &ck, &len);
	verdict_check(v, ret == 1 && ck == SCSIC_TMF_COOKIE && len == 1 &&
		      c->ctrl_resp[0] == 0,
		      "TMF answer: reaped %d, used %u, response %u (want FUNCTION_COMPLETE)",
		      ret, len, c->ctrl_resp[0]);
	finish_reads(v, c, seen, want);
	ret = tur(c, lun_a, &r);
	if (ua)
		verdict_check(v, check_cond(ret, &r, KEY_UA, ua),
			      "next command: response %u status %u key 0x%x asc 0x%04x, not UNIT ATTENTION %04x",
			      r.response, r.status, sense_key(&r), sense_asc(&r), ua);
	ret = tur(c, lun_a, &r);
	verdict_check(v, good(ret, &r), "then TEST UNIT READY: status %u key 0x%x asc 0x%04x",
		      r.status, sense_key(&r), sense_asc(&r));
	tur(c, lun_b, &r);	/* I_T nexus reset leaves one on LUN B too */
	return early;
}

/*
 * A TMF issued while 1 MiB reads are in flight, TMF_ROUNDS times: its
 * response must become visible only after every affected command's (the
 * request queue's used index already counts them all when the TMF's
 * appears), then the next command gets the unit attention the TMF leaves
 * (ua; 0 for none, as for ABORT TASK SET).
 */
static void test_tmf_in_flight(struct scsic *c, uint32_t subtype,
			       const char *name, uint16_t ua, const uint8_t *want)
{
	struct verdict v = { { 0 } };
	unsigned int busy = 0;

	for (unsigned int i = 0; i < TMF_ROUNDS; i++)
		busy += tmf_round(&v, c, subtype, ua, want) < NREADS;
	tap_diag("%s: %u of %d rounds had reads still running when the TMF was sent",
		 name, busy, TMF_ROUNDS);
	if (!ok(!v.fail[0], "%s during %d 1 MiB reads (%d rounds) completes after all of them%s",
		name, NREADS, TMF_ROUNDS, ua ? ", then a unit attention" : ""))
		tap_diag("%s", v.fail);
}

static void test_query_task_set(struct scsic *c, const uint8_t *want)
{
	struct verdict v = { { 0 } };
	bool seen[NREADS + 1];
	uint16_t req_before = c->f.vqs[REQ_VQ(c)].last_used;
	uint8_t resp = 0xff;
	int early, ret;

	ret = scsic_tmf(c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun_a, 0, &resp);
	verdict_check(&v, ret == 0 && resp == 0,
		      "idle: ret %d response %u, not FUNCTION_COMPLETE", ret, resp);
	early = start_reads(c, seen);
	verdict_check(&v, early >= 0, "the reads could not be queued or reaped");
	ret = scsic_tmf(c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun_a, 0, &resp);
	verdict_check(&v, ret == 0 && (resp == 0 ||
				       resp == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED),
		      "busy: ret %d response %u", ret, resp);
	/* Not one read done after its answer: they were all in flight. */
	if (early == 0 && (uint16_t)(used_idx(c, REQ_VQ(c)) - req_before) == 1)
		verdict_check(&v, resp == VIRTIO_SCSI_S_FUNCTION_SUCCEEDED,
			      "with every read in flight: response %u, not FUNCTION_SUCCEEDED",
			      resp);
	if (early >= 0)
		finish_reads(&v, c, seen, want);
	tap_diag("QUERY_TASK_SET with reads in flight answered %u", resp);
	if (!ok(!v.fail[0], "QUERY_TASK_SET: FUNCTION_COMPLETE when idle, FUNCTION_SUCCEEDED with reads in flight"))
		tap_diag("%s", v.fail);
}

static void test_tmf_addressing(struct scsic *c)
{
	uint8_t r1 = 0xff, r2 = 0xff, r3 = 0xff;
	int ret1, ret2, ret3;

	ret1 = scsic_tmf(c, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, lun_absent, 0, &r1);
	ret2 = scsic_tmf(c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET, lun_t1, 0, &r2);
	ret3 = scsic_tmf(c, VIRTIO_SCSI_T_TMF_ABORT_TASK, lun_a, 12345, &r3);
	if (!ok(ret1 == 0 && r1 == VIRTIO_SCSI_S_INCORRECT_LUN &&
		ret2 == 0 && r2 == VIRTIO_SCSI_S_BAD_TARGET &&
		ret3 == 0 && r3 == 0,
		"TMF to an absent LUN: INCORRECT_LUN; to target 1: BAD_TARGET; ABORT_TASK of no task: FUNCTION_COMPLETE"))
		tap_diag("absent: %d/%u, target 1: %d/%u, abort task: %d/%u",
			 ret1, r1, ret2, r2, ret3, r3);
}

static void test_an(struct scsic *c)
{
	struct virtio_scsi_ctrl_an_resp q, s;
	uint32_t lq = 0, ls = 0;
	int ret1, ret2;

	memset(&q, 0xff, sizeof(q));
	memset(&s, 0xff, sizeof(s));
	ret1 = scsic_an(c, VIRTIO_SCSI_T_AN_QUERY, lun_a, 0x7e, &q, &lq);
	ret2 = scsic_an(c, VIRTIO_SCSI_T_AN_SUBSCRIBE, lun_a, 0x7e, &s, &ls);
	if (!ok(ret1 == 0 && q.response == VIRTIO_SCSI_S_OK && q.event_actual == 0 &&
		lq == sizeof(q) && ret2 == 0 && s.response == VIRTIO_SCSI_S_OK &&
		s.event_actual == 0 && ls == sizeof(s),
		"AN_QUERY and AN_SUBSCRIBE: OK, event_actual 0, 5 bytes used"))
		tap_diag("query %d: response %u actual %u used %u; subscribe %d: response %u actual %u used %u",
			 ret1, q.response, q.event_actual, lq, ret2, s.response,
			 s.event_actual, ls);
}

/* ---- event queue -------------------------------------------------------- */

static void test_events(struct daemon *d)
{
	struct verdict v = { { 0 } };
	long mark = daemon_log_mark(d);
	struct scsic c;
	bool got[4] = { false };
	uint16_t base = 0xffff;
	uintptr_t i;
	uint32_t len;
	int ret;

	ret = open_client(&c, d);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	ret = scsic_post_events(&c, 4);
	verdict_check(&v, ret == 0, "posting event buffers: %d", ret);
	ret = scsic_reap(&c, SCSIC_EVENT_VQ, 300, &i, &len);
	verdict_check(&v, ret == 0, "event buffer %lu came back with no event to give (used %u, event 0x%x)",
		      (unsigned long)i, len, ret == 1 ? le32toh(c.ev[i].event) : 0);
	ret = front_vq_stop(&c.f, SCSIC_EVENT_VQ, &base);
	verdict_check(&v, ret == 0 && base == 4,
		      "GET_VRING_BASE of the event queue: %d, base %u", ret, base);
	for (unsigned int n = 0; n < 4; n++) {
		ret = scsic_reap(&c, SCSIC_EVENT_VQ, 1000, &i, &len);
		if (!verdict_check(&v, ret == 1 && i < 4 && !got[i],
				   "event buffer %u of 4 not given back (%d)", n, ret))
			break;
		got[i] = true;
		verdict_check(&v, len == sizeof(c.ev[i]) &&
			      le32toh(c.ev[i].event) == VIRTIO_SCSI_T_NO_EVENT,
			      "event buffer %lu back with used %u, event 0x%x",
			      (unsigned long)i, len, le32toh(c.ev[i].event));
	}
	scsic_close(&c);
	verdict_check(&v, daemon_alive(d), "the daemon died");
	if (!ok(!v.fail[0], "4 event buffers held, then all given back as NO_EVENT by GET_VRING_BASE")) {
		tap_diag("%s", v.fail);
		daemon_log_diag(d, mark);
	}
}

/* ---- malformed requests ------------------------------------------------- */

static void test_no_resp_header(struct daemon *d)
{
	struct verdict v = { { 0 } };
	long mark = daemon_log_mark(d);
	struct virtio_scsi_cmd_req rq;
	struct front_buf bufs[2];
	struct scsic c;
	int ret;

	ret = open_client(&c, d);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	memset(&rq, 0, sizeof(rq));
	memcpy(rq.lun, lun_a, 8);
	rq.cdb[0] = 0x12;
	rq.cdb[4] = 36;
	memcpy(c.dout, &rq, sizeof(rq));
	bufs[0] = (struct front_buf){ front_gpa(&c.f, c.dout), sizeof(rq), false };
	bufs[1] = (struct front_buf){ front_gpa(&c.f, c.din), SCSIC_RESP_SIZE, false };
	ret = fvq_add(&c.f.vqs[REQ_VQ(&c)], bufs, 2, NULL);
	scsic_kick(&c, REQ_VQ(&c));
	ret = fvq_wait_err(&c.f.vqs[REQ_VQ(&c)], 3000);
	verdict_check(&v, ret == 1, "the error eventfd was not signalled (%d)", ret);
	verdict_check(&v, daemon_log_count(d, mark, "response header") >= 1,
		      "no log line about the response header");
	scsic_close(&c);
	verdict_check(&v, daemon_alive(d), "the daemon died");
	verdict_check(&v, scsi_serves(d, 10000), "a new connection is not served");
	if (!ok(!v.fail[0], "a request with no writable response header breaks its queue (error fd); a new connection is served"))
		tap_diag("%s", v.fail);
}

static void test_bad_ctrl(struct daemon *d)
{
	struct verdict v = { { 0 } };
	struct virtio_scsi_ctrl_tmf_req t;
	struct front_buf bufs[2];
	struct scsic c;
	uint32_t used = 0xdead, type = htole32(99);
	uint8_t resp = 0xff;
	int ret;

	ret = open_client(&c, d);
	verdict_check(&v, ret == 0, "connect: %s", strerror(-ret));
	/* Two bytes: shorter than the type field. */
	memset(c.ctrl_req, 0, 64);
	bufs[0] = (struct front_buf){ front_gpa(&c.f, c.ctrl_req), 2, false };
	bufs[1] = (struct front_buf){ front_gpa(&c.f, c.ctrl_resp), 1, true };
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 2, &used);
	verdict_check(&v, ret == 0 && used == 0, "2-byte control request: %d, used %u",
		      ret, used);
	/* A TMF cut short, then one with no room for its answer. */
	memset(&t, 0, sizeof(t));
	t.type = htole32(VIRTIO_SCSI_T_TMF);
	t.subtype = htole32(VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET);
	memcpy(t.lun, lun_a, 8);
	memcpy(c.ctrl_req, &t, sizeof(t));
	bufs[0].len = 12;
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 2, &used);
	verdict_check(&v, ret == 0 && used == 0, "12-byte TMF: %d, used %u", ret, used);
	bufs[0].len = sizeof(t);
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 1, &used);
	verdict_check(&v, ret == 0 && used == 0, "TMF without a response: %d, used %u",
		      ret, used);
	/* An unknown type. */
	memcpy(c.ctrl_req, &type, 4);
	bufs[0].len = 32;
	ret = scsic_run(&c, SCSIC_CTRL_VQ, bufs, 2, &used);
	verdict_check(&v, ret == 0 && used == 0, "type 99: %d, used %u", ret, used);
	/* The control queue still answers a good TMF. */
	ret = scsic_tmf(&c, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, lun_a, 0, &resp);
	verdict_check(&v, ret == 0 && resp == 0, "then QUERY_TASK_SET: %d, %u",
		      ret, resp);
	scsic_close(&c);
	verdict_check(&v, daemon_alive(d), "the daemon died");
	if (!ok(!v.fail[0], "malformed control requests come back with nothing written; the control queue carries on"))
		tap_diag("%s", v.fail);
}

/* ---- cache modes ----------------------------------------------------------- */

/*
 * One daemon with a LUN in each cache mode, each on its own image.  WCE
 * starts from the mode, in MODE SENSE(6) and (10), current and default
 * values; what a write leaves in the host page cache (cachestat(2)) shows
 * whether it went around it (O_DIRECT) and whether it was durable when it
 * completed.  The guest may turn WCE on or off in every mode.
 */
struct cache_lun {
	const char *mode;
	bool wce;		/* WCE at start-up */
	bool direct;
	char img[300];
	char arg[400];
	uint8_t addr[8];
};

static struct cache_lun cache_luns[] = {
	{ .mode = "none", .wce = true, .direct = true },
	{ .mode = "writeback", .wce = true, .direct = false },
	{ .mode = "writethrough", .wce = false, .direct = false },
	{ .mode = "directsync", .wce = false, .direct = true },
};

#define CACHE_BLOCKS	128	/* 64 KiB per write */

/* WCE of the caching page MODE SENSE(6) or (10) returns for pc (0 or 2). */
static int sense_wce(struct scsic *c, const uint8_t *lun, bool ten,
		     uint8_t pc)
{
	uint8_t cdb[10] = { 0 };
	struct scsic_res r;
	int ret;

	cdb[0] = ten ? 0x5a : 0x1a;
	cdb[1] = 0x08;				/* DBD: the page comes first */
	cdb[2] = (uint8_t)(pc << 6 | 0x08);	/* caching page */
	if (ten)
		put16(cdb + 7, 255);
	else
		cdb[4] = 255;
	memset(c->din, 0xee, 255);
	ret = scsic_cmd(c, lun, cdb, ten ? 10 : 6, 0, 255, &r);
	if (!good(ret, &r) || c->din[ten ? 8 : 4] != 0x08)
		return -1;
	return !!(c->din[(ten ? 8 : 4) + 2] & 0x04);
}

/* MODE SELECT(6) of the caching page with WCE as given. */
static bool select_wce(struct scsic *c, const uint8_t *lun, bool wce)
{
	uint8_t cdb[6] = { 0x15, 0x10, 0, 0, 24, 0 };
	struct scsic_res r;

	memset(c->dout, 0, 24);
	c->dout[4] = 0x08;
	c->dout[5] = 0x12;
	c->dout[6] = wce ? 0x04 : 0;
	return good(scsic_cmd(c, lun, cdb, 6, 24, 0, &r), &r);
}

/* WRITE(10) of 64 KiB at lba lands in l's image; ps: the page cache after. */
static bool cache_write(struct scsic *c, const struct cache_lun *l,
			uint32_t lba, unsigned int seed, struct page_state *ps,
			bool *seen)
{
	const uint32_t len = CACHE_BLOCKS * LBS;
	uint8_t *want = malloc(len), *host = malloc(len);
	struct scsic_res r;
	bool landed;
	int ret;

	pattern(want, len, seed);
	memcpy(c->dout, want, len);
	ret = rw10(c, l->addr, 0x2a, 0, lba, CACHE_BLOCKS, len, &r);
	/* Before reading the file, which would fill the page cache. */
	*seen = page_state(l->img, (uint64_t)lba * LBS, len, ps) == 0;
	host_pread(l->img, host, len, (off_t)lba * LBS);
	landed = good(ret, &r) && !memcmp(host, want, len);
	free(want);
	free(host);
	return landed;
}

static void check_pages(const struct cache_lun *l, bool seen,
			const struct page_state *ps, bool wce, const char *what)
{
	if (!seen) {
		tap_skip("cachestat(2) cannot see this image's page cache");
		return;
	}
	if (l->direct)
		ok(ps->cached == 0, "cache=%s: %s went around the page cache (%llu pages cached)",
		   l->mode, what, (unsigned long long)ps->cached);
	else if (wce)
		ok(ps->cached > 0 && ps->dirty > 0,
		   "cache=%s: %s is left in the page cache, dirty (%llu cached, %llu dirty)",
		   l->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty);
	else
		ok(ps->cached > 0 && ps->dirty == 0 && ps->writeback == 0,
		   "cache=%s: %s is durable when it completes (%llu cached, %llu dirty, %llu under writeback)",
		   l->mode, what, (unsigned long long)ps->cached,
		   (unsigned long long)ps->dirty, (unsigned long long)ps->writeback);
}

static void cache_lun_case(struct scsic *c, const struct cache_lun *l)
{
	struct page_state ps;
	struct scsic_res r;
	uint8_t cdb[10];
	bool seen;
	int ret;

	tur(c, l->addr, &r);	/* the power-on unit attention */
	ok(sense_wce(c, l->addr, false, 0) == l->wce &&
	   sense_wce(c, l->addr, true, 0) == l->wce,
	   "cache=%s: MODE SENSE(6) and (10) report WCE %d at start-up", l->mode, l->wce);
	ok(sense_wce(c, l->addr, false, 2) == l->wce,
	   "cache=%s: the default value of WCE is %d", l->mode, l->wce);
	ok(cache_write(c, l, 1000, 90, &ps, &seen), "cache=%s: WRITE(10) lands in the image", l->mode);
	check_pages(l, seen, &ps, l->wce, "a write at start-up");

	ok(select_wce(c, l->addr, !l->wce) &&
	   sense_wce(c, l->addr, false, 0) == !l->wce &&
	   sense_wce(c, l->addr, true, 2) == l->wce,
	   "cache=%s: MODE SELECT turns WCE to %d; the default value stays %d",
	   l->mode, !l->wce, l->wce);
	ok(cache_write(c, l, 2000, 91, &ps, &seen),
	   "cache=%s: WRITE(10) with WCE %d lands in the image", l->mode, !l->wce);
	check_pages(l, seen, &ps, !l->wce, "a write after MODE SELECT");
	cdb10(cdb, 0x35, 0, 0, 0);
	ret = scsic_cmd(c, l->addr, cdb, 10, 0, 0, &r);
	ok(good(ret, &r), "cache=%s: SYNCHRONIZE CACHE(10) is GOOD", l->mode);
	if (!l->direct && page_state(l->img, 0, 4096 * LBS, &ps) == 0)
		ok(ps.dirty == 0 && ps.writeback == 0,
		   "cache=%s: after SYNCHRONIZE CACHE no page is dirty", l->mode);
}

static void test_cache_modes(void)
{
	const char *args[ARRAY_SIZE(cache_luns) + 3];
	unsigned int n = 0;
	struct daemon d;
	struct scsic c;
	int ret;

	for (unsigned int i = 0; i < ARRAY_SIZE(cache_luns); i++) {
		struct cache_lun *l = &cache_luns[i];

		snprintf(l->img, sizeof(l->img), "%s/cache-%s.img", harness_dir(), l->mode);
		image_create(l->img, 4u << 20);
		snprintf(l->arg, sizeof(l->arg), "--lun=%u,file=%s,cache=%s", i, l->img, l->mode);
		scsic_lun(l->addr, 0, i);
		args[n++] = l->arg;
	}
	args[n++] = env.aio_arg;
	args[n] = NULL;
	ret = daemon_start_bin(&d, scsi_daemon_binary(), args);
	if (!ok(ret == 0, "a daemon with a LUN in each cache mode starts")) {
		daemon_log_diag(&d, 0);
		return;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(cache_luns); i++) {
		char line[128];

		snprintf(line, sizeof(line), "cache-%s.img: 8192 blocks of 512 bytes, cache=%s",
			 cache_luns[i].mode, cache_luns[i].mode);
		ok(daemon_log_has(&d, line), "LUN %u's start-up line names cache=%s", i,
		   cache_luns[i].mode);
	}
	ret = scsic_open(&c, d.sock, 1, ~0ull);
	if (ok(ret == 0, "cache modes: connect (%s)", strerror(-ret))) {
		for (unsigned int i = 0; i < ARRAY_SIZE(cache_luns); i++)
			cache_lun_case(&c, &cache_luns[i]);
	}
	scsic_close(&c);
	ok(daemon_stop(&d) == 0, "cache modes: the daemon exits 0 on SIGTERM");
}

/* ---- QEMU's default queue count ------------------------------------------ */

/*
 * Start a daemon with args, connect as a 2-vCPU QEMU whose device sets no
 * num_queues (2 request queues), and write and read back a block on each.
 * Returns GET_QUEUE_NUM's answer (0 on failure); threads and RSS (KiB) are
 * measured after the I/O.
 */
static uint64_t two_vcpu_guest(const char *what, const char *const *args,
			       long *threads, long *rss)
{
	struct scsic_res r;
	struct daemon d;
	struct scsic c;
	uint64_t nq = 0;
	uint8_t want[4096];
	int ret;

	ret = daemon_start_bin(&d, scsi_daemon_binary(), args);
	if (!ok(ret == 0, "%s: the daemon starts", what))
		return 0;
	ret = scsic_open(&c, d.sock, 2, ~0ull);
	if (ok(ret == 0, "%s: a front end starts 2 request queues (%s)", what,
	       strerror(-ret))) {
		nq = c.f.max_queues;
		tur(&c, lun_a, &r);
		for (unsigned int q = 0; q < 2; q++) {
			bool same;

			c.rq = q;
			pattern(want, sizeof(want), 4000 + q);
			memcpy(c.dout, want, sizeof(want));
			same = good(rw10(&c, lun_a, 0x2a, 0, 4000 + 8 * q, 8, 4096, &r), &r);
			memset(c.din, 0, sizeof(want));
			same = same &&
			       good(rw10(&c, lun_a, 0x28, 0, 4000 + 8 * q, 8, 4096, &r), &r) &&
			       !memcmp(c.din, want, sizeof(want));
			ok(same, "%s: request queue %u writes and reads back a block", what, q);
		}
		*threads = daemon_thread_count(&d);
		*rss = daemon_rss_kib(&d);
	}
	scsic_close(&c);
	ok(daemon_stop(&d) == 0, "%s: the daemon exits 0 on SIGTERM", what);
	return nq;
}

static void test_default_queues(void)
{
	const char *dflt[] = { lun_a_arg, env.aio_arg, NULL };
	const char *two[] = { lun_a_arg, env.aio_arg, "--num-queues=2", NULL };
	long t_dflt = -1, t_two = -1, rss_dflt = -1, rss_two = -1;
	uint64_t nq;

	nq = two_vcpu_guest("defaults", dflt, &t_dflt, &rss_dflt);
	ok(nq == 256, "defaults: GET_QUEUE_NUM says %llu: 254 request queues, the control and the event queue",
	   (unsigned long long)nq);
	nq = two_vcpu_guest("--num-queues=2", two, &t_two, &rss_two);
	ok(nq == 4, "--num-queues=2: GET_QUEUE_NUM says %llu: 2 request queues and 2 others",
	   (unsigned long long)nq);
	ok(t_dflt > 0 && t_dflt == t_two,
	   "the 252 queues never started cost no thread (%ld threads, %ld with --num-queues=2)",
	   t_dflt, t_two);
	/* Their slots, and a completion ring sized for them (1 MiB at most). */
	ok(rss_dflt > 0 && rss_two > 0 && rss_dflt - rss_two < 1536,
	   "the 252 queues never started cost under 1.5 MiB (RSS %ld KiB, %ld KiB with --num-queues=2)",
	   rss_dflt, rss_two);
}

/* ---- command line ------------------------------------------------------ */

static void test_cli(void)
{
	char out[4096], lun[400];
	const char *args[] = { "--socket-path=/tmp/x", lun, NULL };

	snprintf(lun, sizeof(lun), "--lun=0,file=%s,cache=unsafe", env.img);
	ok(run_daemon_cmd_bin(scsi_daemon_binary(), args, out, sizeof(out)) == 1 &&
	   strchr(out, '\n') == out + strlen(out) - 1 &&
	   strstr(out, "cache=unsafe: expected none, writeback, writethrough or directsync"),
	   "--lun with cache=unsafe exits 1 with one line listing the cache modes");
	snprintf(lun, sizeof(lun), "--lun=0,file=%s,cache", env.img);
	ok(run_daemon_cmd_bin(scsi_daemon_binary(), args, out, sizeof(out)) == 1 &&
	   strstr(out, "bad item \"cache\""),
	   "--lun with cache and no value exits 1 naming the item");
}

/* ---- main ---------------------------------------------------------------- */

static void setup_paths(void)
{
	snprintf(img_b, sizeof(img_b), "%s/disk-b.img", harness_dir());
	image_create(img_b, 8u << 20);
	snprintf(lun_a_arg, sizeof(lun_a_arg), "--lun=%u,file=%s", LUN_A, env.img);
	snprintf(lun_b_arg, sizeof(lun_b_arg), "--lun=%u,file=%s,serial=vu-b",
		 LUN_B, img_b);
	scsic_lun(lun_a, 0, LUN_A);
	scsic_lun(lun_b, 0, LUN_B);
	scsic_lun(lun_absent, 0, LUN_ABSENT);
	scsic_lun(lun_t1, 1, LUN_A);
}

/* The data the racing reads return, written on the host beforehand. */
static uint8_t *setup_read_area(void)
{
	size_t len = (size_t)NREADS << 20;
	uint8_t *want = malloc(len);

	if (!want)
		exit(99);
	pattern(want, len, 9);
	host_pwrite(want, len, READ_AREA);
	return want;
}

static void run_cases(struct scsic *c, const uint8_t *want)
{
	test_power_on_ua(c);
	test_inquiry_capacity(c);
	test_write_read(c);
	test_fua(c);
	test_resid(c);
	test_short_din(c);
	test_bidi(c);
	test_bad_target(c);
	test_absent_lun(c);
	test_report_luns(c);
	test_unknown_opcode(c);
	test_split_header(c);
	test_shared_desc(c);
	test_unmap(c);
	test_write_same(c);
	test_verify(c);
	test_write_verify(c);
	test_sync_cache(c);
	test_tmf_in_flight(c, VIRTIO_SCSI_T_TMF_ABORT_TASK_SET,
			   "ABORT_TASK_SET", 0, want);
	test_tmf_in_flight(c, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET,
			   "LOGICAL_UNIT_RESET", 0x2903, want);
	test_tmf_in_flight(c, VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET,
			   "I_T_NEXUS_RESET", 0x2907, want);
	test_query_task_set(c, want);
	test_tmf_addressing(c);
	test_an(c);
	test_compare_and_write(c);
	test_caw_race(c, want, false);
	test_caw_race(c, want, true);
}

int main(void)
{
	struct daemon d;
	struct scsic c;
	uint8_t *want;
	int ret, status;

	if (!test_env_init(&env, IMG_SIZE))
		return 0;
	if (getenv("TEST_SCSI_THREADS"))
		env_threads = (unsigned int)atoi(getenv("TEST_SCSI_THREADS"));
	if (env_threads < 1 || env_threads > 2)
		env_threads = 1;
	snprintf(threads_arg, sizeof(threads_arg), "--num-threads=%u", env_threads);
	setup_paths();
	want = setup_read_area();
	dmn = &d;
	ret = start(&d);
	if (!ok(ret == 0, "vhost-uring-scsi starts with LUNs %u and %u (%s, %u I/O thread%s)",
		LUN_A, LUN_B, env.aio, env_threads, env_threads > 1 ? "s" : "")) {
		daemon_log_diag(&d, 0);
		free(want);
		harness_cleanup();
		return tap_done();
	}
	/* The daemon serves one front end at a time. */
	test_negotiation(&d);
	ret = open_client(&c, &d);
	big = ret == 0 ? front_alloc(&c.f, (size_t)NREADS << 20, 4096, NULL) : NULL;
	if (ok(ret == 0 && big, "connect: control, event and 2 request queues (%s)",
	       strerror(-ret)))
		run_cases(&c, want);
	scsic_close(&c);
	test_events(&d);
	test_no_resp_header(&d);
	test_bad_ctrl(&d);
	ok(scsi_serves(&d, 12000), "the daemon is alive and serves a new connection after everything");
	status = daemon_stop(&d);
	if (!ok(status == 0, "SIGTERM: exit status 0 (%d)", status))
		daemon_log_diag(&d, 0);
	test_cache_modes();
	test_default_queues();
	test_cli();
	free(want);
	harness_cleanup();
	return tap_done();
}
