// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-host-eio.c: both daemons against a host file that fails like a dying
 * disk.  tests/fuse-faulty serves disk.img from a FUSE mount in the scratch
 * directory: one range fails every access with EIO, another fails writes
 * with ENOSPC.  vhost-uring-blk and vhost-uring-scsi serve it in every
 * cache mode (none, writeback, writethrough, directsync) and must answer
 * each failure with the status (blk) or the sense data (scsi) a guest
 * expects, log it in one line, keep serving good blocks on the same
 * connection and on a new one, serve the failed blocks again once the fault
 * is gone (fuse-faulty clears it on SIGUSR1), and exit cleanly.  The
 * FUSE mount is made per case and always unmounted (ffs.c); a last case
 * checks that a mount without /dev/fuse fails fast and leaves nothing.
 * The engine comes from $TEST_AIO (default io_uring); fuse-faulty from
 * $FUSE_FAULTY.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_scsi.h>

#include "ffs.h"
#include "harness.h"
#include "log.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

/* The layout fuse-faulty is started with (all offsets in bytes). */
#define IMG_SIZE	(16u << 20)
#define EIO_OFF		(4u << 20)	/* reads and writes fail: EIO */
#define NOSPC_OFF	(8u << 20)	/* writes fail: ENOSPC */
#define FAULT_LEN	FFS_FAULT_LEN
#define GOOD_LO		(1u << 20)	/* good blocks below the faults */
#define GOOD_HI		(12u << 20)	/* and above them */
#define IO_LEN		(64u << 10)
#define STRADDLE_OFF	(EIO_OFF - IO_LEN / 2)	/* half good, half bad */
#define LBS		512u
#define WAIT_MS		5000
#define EIO_TEXT	"Input/output error"
#define NOSPC_TEXT	"No space left on device"

/* SAM and SPC values the scsi cases check. */
#define CHECK_COND	0x02
#define KEY_MEDIUM	0x3
#define KEY_PROTECT	0x7
#define ASC_READ_ERR	0x1100	/* UNRECOVERED READ ERROR */
#define ASC_WRITE_ERR	0x0c00	/* WRITE ERROR */
#define ASC_SPACE_WP	0x2707	/* SPACE ALLOCATION FAILED WRITE PROTECT */

static struct test_env env;
static char why[512];		/* the reason the last helper failed */

/* ---- small helpers ------------------------------------------------------ */

static uint64_t pf_all(void)
{
	return BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
	       BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS);
}

/* ---- the FUSE mount ----------------------------------------------------- */

/* Mount a fresh fuse-faulty with the fault ranges on the scratch dir's name/. */
static int eio_mount(struct ffs *m, const char *name, bool hide)
{
	struct ffs_conf c = {
		.name = name, .size = IMG_SIZE, .eio_off = EIO_OFF,
		.nospc_off = NOSPC_OFF, .hide_fuse = hide,
	};

	return ffs_mount(m, &c);
}

/* Does the FUSE file hold want at off (read through the mount)? */
static bool file_holds(const struct ffs *m, uint64_t off, const void *want,
		       size_t len)
{
	uint8_t *buf = malloc(len);
	int fd = open(m->img, O_RDONLY | O_CLOEXEC);
	bool same = false;

	if (buf && fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len)
		same = !memcmp(buf, want, len);
	if (fd >= 0)
		close(fd);
	free(buf);
	return same;
}

/*
 * Exactly one line logged since mark contains text; it also names op and
 * an offset (blk: "at offset N", bytes) or an LBA (scsi: "at LBA N",
 * blocks) inside [lo, hi).
 */
static bool one_log_line(const struct daemon *d, long mark, const char *op,
			 const char *text, const char *at, uint64_t lo,
			 uint64_t hi)
{
	char line[512];
	const char *p;
	uint64_t v;

	if (daemon_log_count(d, mark, text) != 1 ||
	    !file_line(d->log, mark, text, line, sizeof(line))) {
		snprintf(why, sizeof(why), "%d log lines contain \"%s\", not 1",
			 daemon_log_count(d, mark, text), text);
		return false;
	}
	tap_diag("logged: %s", line);
	p = strstr(line, at);
	if (!strstr(line, op) || !p ||
	    sscanf(p + strlen(at), "%" SCNu64, &v) != 1 || v < lo || v >= hi) {
		snprintf(why, sizeof(why), "the line does not name the %s or a place in [%" PRIu64 ", %" PRIu64 ")",
			 op, lo, hi);
		return false;
	}
	return true;
}

/*
 * ok() with one_log_line(): prefix names the case; the diagnostic says
 * why not.
 */
static void ok_log_line(const struct daemon *d, long mark, bool write,
			const char *text, const char *at, uint64_t lo,
			uint64_t hi, const char *prefix)
{
	const char *op = write ? "write" : "read";
	char of[16];

	snprintf(of, sizeof(of), "%s of", op);
	if (!ok(one_log_line(d, mark, of, text, at, lo, hi),
		"%s %s and \"%s\"", prefix, op, text))
		tap_diag("%s", why);
}

/* ---- vhost-uring-blk ----------------------------------------------------- */

struct blk_case {
	struct ffs m;
	struct daemon d;
	struct blkc c;
	const char *cache;
	long mark;
};

static int blk_rw(struct blk_case *t, uint32_t type, uint64_t off, size_t len,
		  struct blkc_res *r)
{
	r->status = 0xff;
	r->used_len = 0;
	return blkc_req(&t->c, 0, type, off / 512, len, type == VIRTIO_BLK_T_IN,
			false, r);
}

/* Write a pattern at off, read it back, find it in the file. */
static bool blk_good_io(struct blk_case *t, uint64_t off, unsigned int seed)
{
	uint8_t *want = malloc(IO_LEN);
	struct blkc_res r;
	bool good = false;

	if (!want)
		return false;
	pattern(want, IO_LEN, seed);
	memcpy(t->c.data, want, IO_LEN);
	if (blk_rw(t, VIRTIO_BLK_T_OUT, off, IO_LEN, &r) || r.status != VIRTIO_BLK_S_OK)
		goto out;
	memset(t->c.data, 0, IO_LEN);
	if (blk_rw(t, VIRTIO_BLK_T_IN, off, IO_LEN, &r) || r.status != VIRTIO_BLK_S_OK ||
	    r.used_len != IO_LEN + 1)
		goto out;
	good = !memcmp(t->c.data, want, IO_LEN) && file_holds(&t->m, off, want, IO_LEN);
out:
	free(want);
	return good;
}

/* Still holds the pattern written at off with seed? */
static bool blk_still(struct blk_case *t, uint64_t off, unsigned int seed)
{
	uint8_t *want = malloc(IO_LEN);
	struct blkc_res r;
	bool good;

	if (!want)
		return false;
	pattern(want, IO_LEN, seed);
	memset(t->c.data, 0, IO_LEN);
	good = !blk_rw(t, VIRTIO_BLK_T_IN, off, IO_LEN, &r) &&
	       r.status == VIRTIO_BLK_S_OK && !memcmp(t->c.data, want, IO_LEN);
	free(want);
	return good;
}

/* A request the host fails: IOERR, nothing claimed, one log line. */
static void blk_fault(struct blk_case *t, uint32_t type, uint64_t off,
		      const char *text, const char *what)
{
	bool in = type == VIRTIO_BLK_T_IN;
	struct blkc_res r;
	long mark = daemon_log_mark(&t->d);
	char prefix[160];
	int ret;

	why[0] = 0;
	if (!in)
		pattern(t->c.data, IO_LEN, 99);
	ret = blk_rw(t, type, off, IO_LEN, &r);
	if (!ok(ret == 0 && r.status == VIRTIO_BLK_S_IOERR && r.used_len == 1,
		"blk %s: %s gets VIRTIO_BLK_S_IOERR, used length 1",
		t->cache, what))
		tap_diag("ret %d status %u used %u", ret, r.status, r.used_len);
	snprintf(prefix, sizeof(prefix), "blk %s: %s: one log line names the",
		 t->cache, what);
	ok_log_line(&t->d, mark, !in, text, " at offset ", off, off + IO_LEN,
		    prefix);
}

/* The fault goes away: the same blocks read and write on this connection. */
static void blk_transient(struct blk_case *t)
{
	struct verdict v = { "" };
	struct blkc_res r;
	int ret;

	ret = blk_rw(t, VIRTIO_BLK_T_IN, EIO_OFF, IO_LEN, &r);
	verdict_check(&v, ret == 0 && r.status == VIRTIO_BLK_S_IOERR,
		      "before SIGUSR1 the read still fails: ret %d status %u", ret, r.status);
	verdict_check(&v, ffs_clear(&t->m), "fuse-faulty did not clear its faults");
	ret = blk_rw(t, VIRTIO_BLK_T_IN, EIO_OFF, IO_LEN, &r);
	verdict_check(&v, ret == 0 && r.status == VIRTIO_BLK_S_OK && r.used_len == IO_LEN + 1,
		      "read after the fault cleared: ret %d status %u used %u",
		      ret, r.status, r.used_len);
	verdict_check(&v, blk_good_io(t, EIO_OFF, 5),
		      "write and read back at the former EIO range");
	verdict_check(&v, blk_good_io(t, STRADDLE_OFF, 6),
		      "write and read back across its start");
	verdict_check(&v, blk_good_io(t, NOSPC_OFF, 7),
		      "write and read back at the former ENOSPC range");
	if (!ok(!v.fail[0], "blk %s: once the fault clears, the same blocks read and write on the same connection",
		t->cache))
		tap_diag("%s", v.fail);
}

static void blk_faults(struct blk_case *t)
{
	bool good;

	good = blk_good_io(t, GOOD_LO, 1) && blk_good_io(t, GOOD_HI, 2);
	ok(good, "blk %s: writes and reads outside the faults work and land in the file",
	   t->cache);
	blk_fault(t, VIRTIO_BLK_T_IN, STRADDLE_OFF, EIO_TEXT,
		  "a read overlapping the EIO range");
	blk_fault(t, VIRTIO_BLK_T_IN, EIO_OFF + FAULT_LEN - IO_LEN, EIO_TEXT,
		  "a read inside the EIO range");
	blk_fault(t, VIRTIO_BLK_T_OUT, STRADDLE_OFF, EIO_TEXT,
		  "a write overlapping the EIO range");
	blk_fault(t, VIRTIO_BLK_T_OUT, NOSPC_OFF + IO_LEN, NOSPC_TEXT,
		  "a write in the ENOSPC range");
	ok(daemon_alive(&t->d), "blk %s: the daemon is still up", t->cache);
	good = blk_still(t, GOOD_LO, 1) && blk_still(t, GOOD_HI, 2) &&
	       blk_good_io(t, GOOD_HI + IO_LEN, 3) &&
	       blk_good_io(t, EIO_OFF - IO_LEN, 4);
	ok(good, "blk %s: the same connection serves good blocks after the errors, earlier data intact",
	   t->cache);
	blk_transient(t);
}

static void test_blk(const char *cache)
{
	char cache_arg[32], name[32];
	struct blk_case t = { .cache = cache };
	const char *args[] = { t.m.img_arg, env.aio_arg, cache_arg, NULL };
	struct verdict v = { "" };
	int base_fds, ret;

	snprintf(cache_arg, sizeof(cache_arg), "--cache=%s", cache);
	snprintf(name, sizeof(name), "blk-%s", cache);
	if (!ok(eio_mount(&t.m, name, false) == 0,
		"blk %s: fuse-faulty mounts disk.img", cache)) {
		tap_diag("%s", t.m.why);
		return;
	}
	if (!ok(daemon_start(&t.d, args) == 0, "blk %s: vhost-uring-blk serves the FUSE file (%s)",
		cache, env.aio)) {
		daemon_log_diag(&t.d, 0);
		goto out;
	}
	base_fds = daemon_settled_fd_count(&t.d);
	ret = blkc_open(&t.c, t.d.sock, 1, ~0ull, pf_all());
	if (ok(ret == 0, "blk %s: a front end connects (%s)", cache, strerror(-ret)))
		blk_faults(&t);
	blkc_close(&t.c);
	daemon_aftermath(&v, &t.d, base_fds, 0, NULL, GOOD_HI / 512 + 1024, true);
	if (!ok(!v.fail[0], "blk %s: afterwards the daemon holds its fds, serves a fresh connection and exits 0 on SIGTERM",
		cache)) {
		tap_diag("%s", v.fail);
		daemon_log_diag(&t.d, 0);
	}
out:
	if (t.d.pid > 0)
		daemon_stop(&t.d);
	ok(ffs_stop(&t.m), "blk %s: fuse-faulty unmounts, no mount left", cache);
}

/* ---- vhost-uring-scsi ---------------------------------------------------- */

struct scsi_case {
	struct ffs m;
	struct daemon d;
	struct scsic c;
	const char *cache;
	uint8_t lun[8];
};

static void put_be(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* READ or WRITE, (10) or (16), of IO_LEN bytes at byte offset off. */
static int scsi_rw(struct scsi_case *t, bool write, bool sixteen, uint64_t off,
		   struct scsic_res *r)
{
	uint8_t cdb[16] = { 0 };
	uint32_t n = IO_LEN / LBS;

	if (sixteen) {
		cdb[0] = write ? 0x8a : 0x88;
		put_be(cdb + 2, off / LBS, 8);
		put_be(cdb + 10, n, 4);
	} else {
		cdb[0] = write ? 0x2a : 0x28;
		put_be(cdb + 2, off / LBS, 4);
		put_be(cdb + 7, n, 2);
	}
	memset(r, 0, sizeof(*r));
	return scsic_cmd(&t->c, t->lun, cdb, sixteen ? 16 : 10,
			 write ? IO_LEN : 0, write ? 0 : IO_LEN, r);
}

static bool scsi_good(int ret, const struct scsic_res *r)
{
	return ret == 0 && r->response == VIRTIO_SCSI_S_OK && r->status == 0 &&
	       r->sense_len == 0 && r->resid == 0;
}

static int scsi_tur(struct scsi_case *t, struct scsic_res *r)
{
	uint8_t cdb[6] = { 0 };

	return scsic_cmd(&t->c, t->lun, cdb, 6, 0, 0, r);
}

static bool scsi_good_io(struct scsi_case *t, uint64_t off, unsigned int seed)
{
	struct scsic_res r;
	int ret;

	pattern(t->c.dout, IO_LEN, seed);
	ret = scsi_rw(t, true, seed & 1, off, &r);
	if (!scsi_good(ret, &r))
		return false;
	memset(t->c.din, 0, IO_LEN);
	ret = scsi_rw(t, false, seed & 1, off, &r);
	return scsi_good(ret, &r) && r.used_len == SCSIC_RESP_SIZE + IO_LEN &&
	       !memcmp(t->c.din, t->c.dout, IO_LEN) &&
	       file_holds(&t->m, off, t->c.dout, IO_LEN);
}

/*
 * CHECK CONDITION with valid fixed-format sense: current error (70h), the
 * additional length of an 18-byte sense, key and ASC/ASCQ; nothing written
 * to data-in (used: the header); resid: all of a READ's data-in buffer, 0
 * for a WRITE (its data-out buffer is exactly what the CDB asks for).
 */
static bool sense_is(const struct scsic_res *r, int ret, uint8_t key,
		     uint16_t asc, uint32_t resid)
{
	const uint8_t *s = r->sense;

	snprintf(why, sizeof(why), "ret %d response %u status 0x%02x sense_len %u sense %02x %02x %02x .. len %u .. asc %02x%02x resid %u used %u",
		 ret, r->response, r->status, r->sense_len, s[0], s[1], s[2],
		 s[7], s[12], s[13], r->resid, r->used_len);
	return ret == 0 && r->response == VIRTIO_SCSI_S_OK &&
	       r->status == CHECK_COND && r->sense_len == 18 &&
	       (s[0] & 0x7f) == 0x70 && (s[2] & 0xf) == key && s[7] == 10 &&
	       (uint16_t)(s[12] << 8 | s[13]) == asc && r->resid == resid &&
	       r->used_len == SCSIC_RESP_SIZE;
}

static void scsi_fault(struct scsi_case *t, bool write, bool sixteen,
		       uint64_t off, uint8_t key, uint16_t asc, const char *text)
{
	long mark = daemon_log_mark(&t->d);
	const char *name = write ? (sixteen ? "WRITE(16)" : "WRITE(10)") :
				   (sixteen ? "READ(16)" : "READ(10)");
	const char *where = off < NOSPC_OFF ? "the EIO range" : "the ENOSPC range";
	uint64_t start = off < NOSPC_OFF ? EIO_OFF : NOSPC_OFF;
	struct scsic_res r;
	char prefix[160];
	int ret;

	if (write)
		pattern(t->c.dout, IO_LEN, 98);
	ret = scsi_rw(t, write, sixteen, off, &r);
	if (!ok(sense_is(&r, ret, key, asc, write ? 0 : IO_LEN),
		"scsi %s: %s %s %s: CHECK CONDITION, fixed sense 70h, key %xh, ASC/ASCQ %02Xh/%02Xh, resid %u",
		t->cache, name, off < start ? "overlapping" : "inside", where,
		key, asc >> 8, asc & 0xff, write ? 0 : IO_LEN))
		tap_diag("%s", why);
	snprintf(prefix, sizeof(prefix), "scsi %s: %s: one log line names the LUN's",
		 t->cache, name);
	ok_log_line(&t->d, mark, write, text, " at LBA ", off / LBS,
		    (off + IO_LEN) / LBS, prefix);
}

static void scsi_transient(struct scsi_case *t)
{
	struct verdict v = { "" };
	struct scsic_res r;
	int ret;

	ret = scsi_rw(t, false, false, EIO_OFF, &r);
	verdict_check(&v, sense_is(&r, ret, KEY_MEDIUM, ASC_READ_ERR, IO_LEN),
		      "before SIGUSR1 the read still fails: %s", why);
	verdict_check(&v, ffs_clear(&t->m), "fuse-faulty did not clear its faults");
	ret = scsi_rw(t, false, true, EIO_OFF, &r);
	verdict_check(&v, scsi_good(ret, &r), "READ(16) after the fault cleared: ret %d status %u",
		      ret, r.status);
	verdict_check(&v, scsi_good_io(t, EIO_OFF, 12),
		      "WRITE(10)/READ(10) at the former EIO range");
	verdict_check(&v, scsi_good_io(t, STRADDLE_OFF, 13),
		      "WRITE(16)/READ(16) across its start");
	verdict_check(&v, scsi_good_io(t, NOSPC_OFF, 14),
		      "WRITE(10)/READ(10) at the former ENOSPC range");
	if (!ok(!v.fail[0], "scsi %s: once the fault clears, the same LBAs read and write on the same connection",
		t->cache))
		tap_diag("%s", v.fail);
}

static void scsi_faults(struct scsi_case *t)
{
	struct scsic_res r;
	int ret;

	/* The first command may meet the power-on unit attention. */
	scsi_tur(t, &r);
	ret = scsi_tur(t, &r);
	ok(scsi_good(ret, &r), "scsi %s: TEST UNIT READY", t->cache);
	ok(scsi_good_io(t, GOOD_LO, 1) && scsi_good_io(t, GOOD_HI, 2),
	   "scsi %s: WRITE and READ (10) and (16) outside the faults work and land in the file",
	   t->cache);
	scsi_fault(t, false, false, STRADDLE_OFF, KEY_MEDIUM, ASC_READ_ERR, EIO_TEXT);
	scsi_fault(t, false, true, EIO_OFF + IO_LEN, KEY_MEDIUM, ASC_READ_ERR, EIO_TEXT);
	scsi_fault(t, true, false, STRADDLE_OFF, KEY_MEDIUM, ASC_WRITE_ERR, EIO_TEXT);
	scsi_fault(t, true, true, EIO_OFF + IO_LEN, KEY_MEDIUM, ASC_WRITE_ERR, EIO_TEXT);
	scsi_fault(t, true, false, NOSPC_OFF + IO_LEN, KEY_PROTECT, ASC_SPACE_WP, NOSPC_TEXT);
	scsi_fault(t, true, true, NOSPC_OFF + 2 * IO_LEN, KEY_PROTECT, ASC_SPACE_WP, NOSPC_TEXT);
	ret = scsi_rw(t, false, true, NOSPC_OFF + IO_LEN, &r);
	ok(scsi_good(ret, &r), "scsi %s: READ(16) of the ENOSPC range works (only writes fail there)",
	   t->cache);
	ret = scsi_tur(t, &r);
	ok(daemon_alive(&t->d) && scsi_good(ret, &r),
	   "scsi %s: after the errors the daemon is up and TEST UNIT READY is GOOD", t->cache);
	ok(scsi_good_io(t, GOOD_HI + IO_LEN, 3) && scsi_good_io(t, EIO_OFF - IO_LEN, 4),
	   "scsi %s: the same connection serves good LBAs around the faults after the errors",
	   t->cache);
	scsi_transient(t);
}

/* A fresh connection writes and reads back good blocks. */
static bool scsi_fresh(struct scsi_case *t)
{
	struct scsic_res r;
	bool good;

	if (!daemon_alive(&t->d) || scsic_open(&t->c, t->d.sock, 1, ~0ull) < 0) {
		scsic_close(&t->c);
		return false;
	}
	scsi_tur(t, &r);
	good = scsi_good_io(t, GOOD_HI + 4 * IO_LEN, 21);
	scsic_close(&t->c);
	return good;
}

static void scsi_aftermath(struct scsi_case *t, int base_fds)
{
	struct verdict v = { "" };
	int now = daemon_wait_fds(&t->d, base_fds, 3000), status;

	verdict_check(&v, now == base_fds, "the daemon holds %d fds, not %d", now, base_fds);
	verdict_check(&v, scsi_fresh(t), "a fresh connection is not served");
	now = daemon_wait_fds(&t->d, base_fds, 3000);
	verdict_check(&v, now == base_fds, "after it the daemon holds %d fds, not %d",
		      now, base_fds);
	status = daemon_stop(&t->d);
	verdict_check(&v, status == 0, "SIGTERM: exit status %d", status);
	if (!ok(!v.fail[0], "scsi %s: afterwards the daemon holds its fds, serves a fresh connection and exits 0 on SIGTERM",
		t->cache)) {
		tap_diag("%s", v.fail);
		daemon_log_diag(&t->d, 0);
	}
}

static void test_scsi(const char *cache)
{
	char lun_arg[400], name[32];
	struct scsi_case t = { .cache = cache };
	const char *args[] = { lun_arg, env.aio_arg, NULL };
	int base_fds, ret;

	scsic_lun(t.lun, 0, 0);
	snprintf(name, sizeof(name), "scsi-%s", cache);
	if (!ok(eio_mount(&t.m, name, false) == 0,
		"scsi %s: fuse-faulty mounts disk.img", cache)) {
		tap_diag("%s", t.m.why);
		return;
	}
	snprintf(lun_arg, sizeof(lun_arg), "--lun=0,file=%s,cache=%s", t.m.img, cache);
	if (!ok(daemon_start_bin(&t.d, scsi_daemon_binary(), args) == 0,
		"scsi %s: vhost-uring-scsi serves the FUSE file as LUN 0 (%s)",
		cache, env.aio)) {
		daemon_log_diag(&t.d, 0);
		goto out;
	}
	base_fds = daemon_settled_fd_count(&t.d);
	ret = scsic_open(&t.c, t.d.sock, 1, ~0ull);
	if (ok(ret == 0, "scsi %s: a front end connects (%s)", cache, strerror(-ret)))
		scsi_faults(&t);
	scsic_close(&t.c);
	scsi_aftermath(&t, base_fds);
out:
	if (t.d.pid > 0)
		daemon_stop(&t.d);
	ok(ffs_stop(&t.m), "scsi %s: fuse-faulty unmounts, no mount left", cache);
}

/* ---- a mount that cannot work -------------------------------------------- */

/* Without /dev/fuse the mount must fail fast and say why, not hang. */
static void test_mount_failure(void)
{
	struct ffs m;
	long t0 = now_ms();
	int ret;

	if (geteuid() != 0) {
		tap_skip("hiding /dev/fuse needs root (a mount namespace)");
		return;
	}
	ret = eio_mount(&m, "no-fuse", true);
	tap_diag("%s", m.why);
	ok(ret < 0 && m.pid < 0 && now_ms() - t0 < WAIT_MS && strstr(m.why, "exited"),
	   "without /dev/fuse, fuse-faulty exits at once and the failure is reported");
	ok(ffs_stop(&m) && !ffs_is_mounted(m.dir), "and nothing is left mounted");
}

int main(void)
{
	static const char *const caches[] = {
		"none", "writeback", "writethrough", "directsync"
	};

	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-host-eio", 0);
	if (!test_env_init(&env, 4096))
		return 0;
	tap_diag("engine %s, fuse-faulty %s", env.aio, ffs_binary());
	for (unsigned int i = 0; i < ARRAY_SIZE(caches); i++)
		test_blk(caches[i]);
	for (unsigned int i = 0; i < ARRAY_SIZE(caches); i++)
		test_scsi(caches[i]);
	test_mount_failure();
	if (!ffs_stuck())
		harness_cleanup();
	return tap_done();
}
