// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-image-lock.c: image locking against the real QEMU 7.2 tools, VM-less,
 * for vhost-uring-blk and vhost-uring-scsi.  A daemon whose device a front
 * end (harness.h) started makes qemu-img convert and a QEMU -drive fail
 * with QEMU's own lock messages, until the front end goes away; a daemon
 * refuses to start on an image a QEMU or qemu-io holds for writing, and
 * writes no byte of it; of two daemons on one image the second starts,
 * but its device does not while the first's runs, and does once the
 * first's front end has gone; a ring stop without hand-over (a guest
 * reset) keeps the locks and makes the writes durable; a daemon killed
 * with SIGKILL leaves no lock behind; a loop device is locked too (as
 * root); --locking=off
 * takes no lock, --locking=bogus is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "harness.h"
#include "image_lock.h"
#include "log.h"
#include "tap.h"
#include "test-util.h"
#include "util.h"

#define IMG_SIZE	(8u << 20)
#define IO_LEN		4096

/* The two daemons, each with its way to name an image. */
struct kind {
	const char *name;
	const char *bin;
	const char *file_opt;	/* the image's option, up to its path */
	const char *suffix[3];	/* after the path, by enum variant */
	const char *extra[3];	/* another argument, or NULL, by variant */
};

/* How a test serves the image. */
enum variant {
	PLAIN,
	READ_ONLY,
	WRITEBACK,	/* through the page cache, write cache on */
};

/* A started device of either kind, through the project's front end. */
struct fe {
	bool scsi;
	struct blkc b;
	struct scsic s;
};

static struct kind kinds[2];
static char img[300], out_img[300];
static bool have_qemu, have_qemu_img, have_qemu_io;

/* ---- the image and its lock bytes ----------------------------------- */

/* Does another open file description hold a lock on byte of path? */
static bool byte_locked(const char *path, off_t byte)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte,
		.l_len = 1,
	};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return false;
	held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/* Wait up to timeout_ms for byte to be locked (or free); the last state. */
static bool wait_byte(const char *path, off_t byte, bool locked,
		      int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		if (byte_locked(path, byte) == locked)
			return locked;
		sleep_ms(20);
	}
	return byte_locked(path, byte);
}

/* Byte i of the image holds a pattern made from seed. */
static void image_fill(const char *path, unsigned int seed)
{
	static uint8_t buf[IMG_SIZE];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	pattern(buf, sizeof(buf), seed);
	if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
	    fsync(fd) < 0) {
		perror("image_fill");
		exit(99);
	}
	close(fd);
}

/* FNV-1a over the whole image. */
static uint64_t image_sum(const char *path)
{
	static uint8_t buf[IMG_SIZE];
	uint64_t h = 0xcbf29ce484222325ull;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf), 0);

	if (fd >= 0)
		close(fd);
	for (ssize_t i = 0; i < n; i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	return h;
}

/* Does the image hold IO_LEN bytes of fill at offset 0? */
static bool image_has(const char *path, uint8_t fill)
{
	uint8_t buf[IO_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool good = fd >= 0 && pread(fd, buf, sizeof(buf), 0) == IO_LEN;

	for (size_t i = 0; good && i < sizeof(buf); i++)
		good = buf[i] == fill;
	if (fd >= 0)
		close(fd);
	return good;
}

/* ---- QEMU's tools --------------------------------------------------- */

/* qemu-img convert of the image: its exit status, its output in buf. */
static int qemu_img_convert(char *buf, size_t len)
{
	const char *argv[] = { "timeout", "60", "qemu-img", "convert", "-f",
			       "raw", "-O", "raw", img, out_img, NULL };

	return run_cmd(argv, buf, len);
}

/*
 * The argv of a QEMU with the image attached to a virtio-blk device, its
 * CPUs stopped (-S): no guest runs.  Read-only: readonly=on.
 */
static void qemu_argv(const char **argv, char *drive, size_t len,
		      bool read_only, bool bounded)
{
	unsigned int n = 0;

	snprintf(drive, len, "file=%s,format=raw,if=none,id=d0%s", img,
		 read_only ? ",readonly=on" : "");
	if (bounded) {
		argv[n++] = "timeout";
		argv[n++] = "20";
	}
	argv[n++] = "qemu-system-x86_64";
	argv[n++] = "-accel";
	argv[n++] = "tcg";
	argv[n++] = "-machine";
	argv[n++] = "pc";
	argv[n++] = "-nodefaults";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-drive";
	argv[n++] = drive;
	argv[n++] = "-device";
	argv[n++] = "virtio-blk-pci,drive=d0";
	argv[n++] = "-S";
	argv[n] = NULL;
}

/*
 * A QEMU run that should be refused: its exit status, its output in buf.
 * One that is not refused is ended after 20 s (status 124).
 */
static int qemu_run(bool read_only, char *buf, size_t len)
{
	const char *argv[20];
	char drive[400];

	qemu_argv(argv, drive, sizeof(drive), read_only, true);
	return run_cmd(argv, buf, len);
}

/* A QEMU that holds the image for writing: its pid once it does, or -1. */
static pid_t qemu_hold(void)
{
	const char *argv[20];
	char drive[400], log[300];
	pid_t pid;

	qemu_argv(argv, drive, sizeof(drive), false, false);
	snprintf(log, sizeof(log), "%s/qemu.log", harness_dir());
	pid = spawn_cmd(argv, log, NULL);
	if (pid > 0 && !wait_byte(img, IMAGE_LOCK_PERM_BASE + 1, true, 30000)) {
		cmd_stop(pid);
		return -1;
	}
	return pid;
}

/* ---- daemons and front ends ----------------------------------------- */

/* The daemon's arguments: its image as variant v, and the extras. */
static void daemon_args(const struct kind *k, enum variant v,
			const char *extra, const char *extra2, char *file,
			size_t len, const char **args)
{
	unsigned int n = 0;

	snprintf(file, len, "%s%s%s", k->file_opt, img,
		 k->suffix[v] ? k->suffix[v] : "");
	args[n++] = file;
	if (k->extra[v])
		args[n++] = k->extra[v];
	if (extra)
		args[n++] = extra;
	if (extra2)
		args[n++] = extra2;
	args[n] = NULL;
}

static int start(const struct kind *k, struct daemon *d, enum variant v,
		 const char *extra)
{
	const char *args[8];
	char file[400];

	daemon_args(k, v, extra, NULL, file, sizeof(file), args);
	return daemon_start_bin(d, k->bin, args);
}

/*
 * Run a daemon that should refuse to start: status, output in buf.  One
 * that serves instead is ended after a while (status 124).
 */
static int start_refused(const struct kind *k, enum variant v,
			 const char *extra, char *buf, size_t len)
{
	const char *argv[12] = { "timeout", "20", k->bin };
	char file[400], sock[400];

	snprintf(sock, sizeof(sock), "--socket-path=%s/refused.sock",
		 harness_dir());
	daemon_args(k, v, sock, extra, file, sizeof(file), argv + 3);
	return run_cmd(argv, buf, len);
}

/* Connect and start the device's rings: locks are taken when it returns. */
static int fe_open(const struct kind *k, struct fe *fe, const struct daemon *d)
{
	uint64_t v;
	int ret;

	memset(fe, 0, sizeof(*fe));
	fe->scsi = !strcmp(k->name, "scsi");
	if (fe->scsi)
		return scsic_open(&fe->s, d->sock, 1, ~0ull);
	ret = blkc_open(&fe->b, d->sock, 1, ~0ull,
			BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
			BIT_ULL(VU_PF_CONFIG) |
			BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS));
	/* A round trip: the back end has handled the ring's start. */
	return ret < 0 ? ret : front_get_u64(&fe->b.f, VU_GET_FEATURES, &v);
}

static void fe_close(struct fe *fe)
{
	if (fe->scsi)
		scsic_close(&fe->s);
	else
		blkc_close(&fe->b);
}

static struct front *fe_front(struct fe *fe)
{
	return fe->scsi ? &fe->s.f : &fe->b.f;
}

/* The queue a write goes to. */
static struct front_vq *fe_vq(struct fe *fe)
{
	return &fe_front(fe)->vqs[fe->scsi ? SCSIC_REQ_VQ : 0];
}

/*
 * Write IO_LEN bytes of fill at offset 0, waiting for the answer (5 s at
 * most).  0 once it succeeded, -ETIMEDOUT when it was not answered.
 */
static int fe_write(struct fe *fe, uint8_t fill)
{
	uint8_t cdb[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, IO_LEN / 512, 0 };
	uint8_t lun[8];
	struct scsic_res sr;
	struct blkc_res br;
	int ret;

	if (!fe->scsi) {
		memset(fe->b.data, fill, IO_LEN);
		ret = blkc_req(&fe->b, 0, VIRTIO_BLK_T_OUT, 0, IO_LEN, false,
			       false, &br);
		return ret < 0 ? ret : br.status == VIRTIO_BLK_S_OK ? 0 : -EIO;
	}
	scsic_lun(lun, 0, 0);
	memset(fe->s.dout, fill, IO_LEN);
	/* The first command may meet the power-on unit attention. */
	for (int i = 0; i < 2; i++) {
		ret = scsic_cmd(&fe->s, lun, cdb, 10, IO_LEN, 0, &sr);
		if (ret < 0)
			return ret;
		if (sr.response == VIRTIO_SCSI_S_OK && sr.status == 0)
			return 0;
	}
	return -EIO;
}

/* GET_VRING_BASE on every ring, without dirty logging: a guest reset. */
static int fe_stop_rings(struct fe *fe)
{
	struct front *f = fe_front(fe);
	uint16_t base;
	int ret;

	for (unsigned int i = 0; i < FRONT_MAX_VQS; i++) {
		if (!f->vqs[i].num)
			continue;
		ret = front_vq_stop(f, i, &base);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* SIGTERM: the daemon must exit 0 (under ASan: without a leak). */
static void stopped(const struct kind *k, struct daemon *d, const char *what)
{
	int status = daemon_stop(d);

	ok(status == 0, "%s: %s daemon exits 0 on SIGTERM (%d)", k->name, what,
	   status);
}

/* ---- the cases -------------------------------------------------------- */

static bool has(const char *buf, const char *s)
{
	return strstr(buf, s) != NULL;
}

/* What a daemon holds, seen from outside. */
static void check_bytes(const char *what, bool perm_r, bool perm_w,
			bool unshare_w, bool mark)
{
	bool r = byte_locked(img, IMAGE_LOCK_PERM_BASE + 0);
	bool w = byte_locked(img, IMAGE_LOCK_PERM_BASE + 1);
	bool uw = byte_locked(img, IMAGE_LOCK_SHARED_BASE + 1);
	bool m = byte_locked(img, IMAGE_LOCK_DAEMON_BYTE);

	ok(r == perm_r && w == perm_w && uw == unshare_w && m == mark,
	   "%s: bytes 100 %s, 101 %s, 201 %s, %d %s", what,
	   r ? "locked" : "free", w ? "locked" : "free",
	   uw ? "locked" : "free", IMAGE_LOCK_DAEMON_BYTE,
	   m ? "locked" : "free");
}

/* QEMU and qemu-img are refused while the device runs, not after. */
static void test_front_end_locks(const struct kind *k)
{
	char buf[4096];
	struct daemon d;
	struct fe fe;
	pid_t q;
	int ret;

	if (start(k, &d, PLAIN, NULL) < 0) {
		ok(false, "%s: daemon starts", k->name);
		return;
	}
	check_bytes("idle daemon", false, false, false, true);
	if (have_qemu_img)
		ok(qemu_img_convert(buf, sizeof(buf)) == 0,
		   "%s: idle daemon: qemu-img convert reads the image", k->name);
	if (!ok(fe_open(k, &fe, &d) == 0, "%s: front end starts the device",
		k->name)) {
		daemon_stop(&d);
		return;
	}
	check_bytes("device started", true, true, true, true);
	ok(fe_write(&fe, 0x5a) == 0 && image_has(img, 0x5a),
	   "%s: the device serves a write", k->name);
	if (have_qemu_img) {
		ret = qemu_img_convert(buf, sizeof(buf));
		ok(ret == 1 && has(buf, "Failed to get shared \"write\" lock") &&
		   has(buf, "Is another process using the image"),
		   "%s: qemu-img convert refused: %d, %.200s", k->name, ret, buf);
	}
	if (have_qemu) {
		ret = qemu_run(false, buf, sizeof(buf));
		ok(ret == 1 && has(buf, "Failed to get \"write\" lock"),
		   "%s: QEMU -drive with a writable device refused: %d, %.200s",
		   k->name, ret, buf);
		ret = qemu_run(true, buf, sizeof(buf));
		ok(ret == 1 && has(buf, "Failed to get shared \"write\" lock"),
		   "%s: QEMU -drive readonly=on refused: %d, %.200s", k->name,
		   ret, buf);
	}
	fe_close(&fe);
	ok(!wait_byte(img, IMAGE_LOCK_PERM_BASE + 1, false, 5000) &&
	   daemon_log_has(&d, "image locks released"),
	   "%s: the front end went away: locks released", k->name);
	check_bytes("after the disconnect", false, false, false, true);
	if (have_qemu_img)
		ok(qemu_img_convert(buf, sizeof(buf)) == 0,
		   "%s: then qemu-img convert works: %.200s", k->name, buf);
	if (have_qemu) {
		q = qemu_hold();
		ok(q > 0, "%s: then a QEMU -drive starts and locks the image",
		   k->name);
		cmd_stop(q);
	}
	ok(daemon_stop(&d) == 0, "%s: daemon exits 0", k->name);
}

/* A daemon refuses an image a QEMU writes, with no byte written. */
static void test_refused_by_qemu(const struct kind *k)
{
	char buf[4096];
	uint64_t sum;
	struct daemon d;
	pid_t q;
	int ret;

	if (!have_qemu) {
		tap_skip("no qemu-system-x86_64");
		return;
	}
	image_fill(img, 7);
	sum = image_sum(img);
	q = qemu_hold();
	if (!ok(q > 0, "%s: a QEMU -drive holds the image", k->name))
		return;
	ret = start_refused(k, PLAIN, NULL, buf, sizeof(buf));
	ok(ret == 1 && has(buf, "Failed to get \"write\" lock") &&
	   has(buf, img) && strchr(buf, '\n') == strrchr(buf, '\n'),
	   "%s: the daemon exits 1 with one line naming the lock: %d, %.300s",
	   k->name, ret, buf);
	ret = start_refused(k, READ_ONLY, NULL, buf, sizeof(buf));
	ok(ret == 1 && has(buf, "Failed to get shared \"write\" lock"),
	   "%s: so does a read-only one (shared write): %d, %.300s", k->name,
	   ret, buf);
	ok(image_sum(img) == sum, "%s: no byte of the image changed", k->name);
	if (ok(start(k, &d, PLAIN, "--locking=off") == 0 && daemon_alive(&d),
	       "%s: with --locking=off the daemon starts all the same", k->name))
		stopped(k, &d, "--locking=off");
	cmd_stop(q);
}

/* qemu-io holds the image for writing, sharing it: refused all the same. */
static void test_refused_by_qemu_io(const struct kind *k)
{
	const char *argv[] = { "qemu-io", "-f", "raw", img, NULL };
	char buf[4096], log[300];
	uint64_t sum;
	pid_t q;
	int in = -1, ret;

	if (!have_qemu_io) {
		tap_skip("no qemu-io");
		return;
	}
	sum = image_sum(img);
	snprintf(log, sizeof(log), "%s/qemu-io.log", harness_dir());
	q = spawn_cmd(argv, log, &in);
	if (!ok(q > 0 && wait_byte(img, IMAGE_LOCK_PERM_BASE + 1, true, 30000),
		"%s: qemu-io holds the image for writing", k->name)) {
		cmd_stop(q);
		return;
	}
	ret = start_refused(k, PLAIN, NULL, buf, sizeof(buf));
	ok(ret == 1 && has(buf, "Failed to get shared \"write\" lock") &&
	   has(buf, img),
	   "%s: the daemon exits 1 naming the shared write lock: %d, %.300s",
	   k->name, ret, buf);
	ok(image_sum(img) == sum, "%s: no byte of the image changed", k->name);
	close(in);	/* qemu-io quits at the end of its input */
	waitpid(q, NULL, 0);
}

/*
 * Two daemons on one image: the second starts, but its device does not
 * while the first's runs, and takes no request; once the first's front
 * end has gone, it does.
 */
static void test_two_daemons(const struct kind *k)
{
	struct daemon d1, d2;
	struct fe fe1, fe2;
	int ret;

	image_fill(img, 9);
	if (!ok(start(k, &d1, PLAIN, NULL) == 0 && fe_open(k, &fe1, &d1) == 0,
		"%s: first daemon's device started", k->name))
		return;
	if (!ok(start(k, &d2, PLAIN, NULL) == 0 && daemon_alive(&d2) &&
		daemon_log_has(&d2, "the locks are taken when a front end starts the device"),
		"%s: a second daemon on the image starts, and says why", k->name)) {
		fe_close(&fe1);
		daemon_stop(&d1);
		return;
	}
	ret = fe_open(k, &fe2, &d2);
	ok(ret == 0 && fvq_wait_err(fe_vq(&fe2), 2000) == 1,
	   "%s: its device's start is refused: the ring is broken", k->name);
	ok(fe_write(&fe2, 0xa5) == -ETIMEDOUT,
	   "%s: a write to it is never answered", k->name);
	ok(daemon_log_has(&d2, "Failed to get \"write\" lock") &&
	   daemon_log_has(&d2, "the device refused to start"),
	   "%s: its log says why", k->name);
	fe_close(&fe2);
	ok(!image_has(img, 0xa5), "%s: the refused write is not in the image",
	   k->name);
	fe_close(&fe1);
	ok(!wait_byte(img, IMAGE_LOCK_PERM_BASE + 1, false, 5000),
	   "%s: the first front end went away: its locks are released", k->name);
	ok(fe_open(k, &fe2, &d2) == 0 && fe_write(&fe2, 0x3c) == 0 &&
	   image_has(img, 0x3c),
	   "%s: now the second daemon's device starts and writes", k->name);
	fe_close(&fe2);
	stopped(k, &d1, "first");
	stopped(k, &d2, "second");
}

/*
 * A daemon killed with SIGKILL holds nothing once it is reaped, even with
 * its io_uring (whose registered files outlive it for a while): the next
 * daemon's device starts at once, as after a crash and a restart.
 */
static void test_killed(const struct kind *k)
{
	struct daemon d;
	struct fe fe;
	bool held;

	if (!ok(start(k, &d, PLAIN, NULL) == 0 && fe_open(k, &fe, &d) == 0 &&
		fe_write(&fe, 0x11) == 0,
		"%s: device started and wrote", k->name))
		return;
	kill(d.pid, SIGKILL);
	waitpid(d.pid, NULL, 0);
	d.pid = -1;
	held = byte_locked(img, IMAGE_LOCK_PERM_BASE + 1) ||
	       byte_locked(img, IMAGE_LOCK_DAEMON_BYTE);
	fe_close(&fe);
	ok(!held, "%s: killed with SIGKILL and reaped: it holds no lock", k->name);
	ok(start(k, &d, PLAIN, NULL) == 0 && fe_open(k, &fe, &d) == 0 &&
	   fe_write(&fe, 0x22) == 0 && image_has(img, 0x22),
	   "%s: the next daemon's device starts and writes", k->name);
	fe_close(&fe);
	stopped(k, &d, "after SIGKILL");
}

/* Read-only daemons share the image with each other and with qemu-img. */
static void test_read_only(const struct kind *k)
{
	struct daemon d1, d2;
	struct fe fe1, fe2;
	char buf[4096];

	if (!ok(start(k, &d1, READ_ONLY, NULL) == 0 && fe_open(k, &fe1, &d1) == 0 &&
		start(k, &d2, READ_ONLY, NULL) == 0 && fe_open(k, &fe2, &d2) == 0 &&
		fvq_wait_err(fe_vq(&fe1), 0) == 0 &&
		fvq_wait_err(fe_vq(&fe2), 0) == 0,
		"%s: two read-only daemons' devices both start", k->name))
		return;
	check_bytes("read-only devices", true, false, true, true);
	if (have_qemu_img)
		ok(qemu_img_convert(buf, sizeof(buf)) == 0,
		   "%s: qemu-img convert reads the image beside them: %.200s",
		   k->name, buf);
	fe_close(&fe1);
	fe_close(&fe2);
	stopped(k, &d1, "read-only");
	stopped(k, &d2, "read-only");
}

/*
 * A ring stopped without dirty logging (a guest reset) keeps the locks,
 * and the writes it served are on disk (page cache written back).
 */
static void test_reset_keeps_locks(const struct kind *k)
{
	struct page_state ps;
	struct daemon d;
	struct fe fe;
	bool seen;

	if (!ok(start(k, &d, WRITEBACK, NULL) == 0 &&
		fe_open(k, &fe, &d) == 0 && fe_write(&fe, 0x77) == 0,
		"%s: cache=writeback device wrote", k->name))
		return;
	seen = page_state(img, 0, IO_LEN, &ps) == 0;
	if (seen)
		tap_diag("before the stop: %llu dirty pages",
			 (unsigned long long)ps.dirty);
	ok(fe_stop_rings(&fe) == 0 &&
	   byte_locked(img, IMAGE_LOCK_PERM_BASE + 1) &&
	   byte_locked(img, IMAGE_LOCK_SHARED_BASE + 1),
	   "%s: the ring stopped without hand-over: the locks stay", k->name);
	if (page_state(img, 0, IO_LEN, &ps) == 0)
		ok(ps.dirty == 0 && ps.writeback == 0,
		   "%s: and the write is on disk (%llu dirty, %llu writeback)",
		   k->name, (unsigned long long)ps.dirty,
		   (unsigned long long)ps.writeback);
	else
		tap_skip("cachestat(2) cannot see the page cache here");
	fe_close(&fe);
	ok(!wait_byte(img, IMAGE_LOCK_PERM_BASE + 1, false, 5000),
	   "%s: the disconnect released them", k->name);
	stopped(k, &d, "cache=writeback");
}

/* --locking=off takes nothing; a bad value is refused. */
static void test_locking_option(const struct kind *k)
{
	char buf[4096];
	struct daemon d;
	struct fe fe;
	int ret;

	if (!ok(start(k, &d, PLAIN, "--locking=off") == 0 &&
		fe_open(k, &fe, &d) == 0,
		"%s: --locking=off device started", k->name))
		return;
	check_bytes("--locking=off", false, false, false, false);
	if (have_qemu_img)
		ok(qemu_img_convert(buf, sizeof(buf)) == 0,
		   "%s: --locking=off: qemu-img convert works", k->name);
	fe_close(&fe);
	stopped(k, &d, "--locking=off");
	if (ok(start(k, &d, PLAIN, "--locking=on") == 0 &&
	       fe_open(k, &fe, &d) == 0,
	       "%s: --locking=on device started", k->name)) {
		check_bytes("--locking=on", true, true, true, true);
		fe_close(&fe);
		stopped(k, &d, "--locking=on");
	}
	ret = start_refused(k, PLAIN, "--locking=bogus", buf, sizeof(buf));
	ok(ret == 1 && has(buf, "--locking=bogus: expected auto, on or off"),
	   "%s: --locking=bogus is refused: %d, %.200s", k->name, ret, buf);
}

/*
 * A block device (a loop device) is locked the same way, as QEMU's
 * host_device driver locks it.  Needs root for losetup.
 */
static void test_block_device(const struct kind *k)
{
	const char *attach[] = { "losetup", "--find", "--show", img, NULL };
	const char *detach[] = { "losetup", "-d", NULL, NULL };
	char file[sizeof(img)], dev[64], buf[4096];
	struct daemon d;
	struct fe fe;
	int ret;

	if (geteuid() != 0 || !have_program("losetup") || !have_qemu_img) {
		tap_skip("a loop device needs root and losetup, and qemu-img");
		return;
	}
	if (!ok(run_cmd(attach, dev, sizeof(dev)) == 0 && !strncmp(dev, "/dev/", 5),
		"%s: losetup attaches a loop device: %s", k->name, dev))
		return;
	dev[strcspn(dev, "\n")] = 0;
	memcpy(file, img, sizeof(img));
	snprintf(img, sizeof(img), "%s", dev);
	if (ok(start(k, &d, PLAIN, NULL) == 0 && fe_open(k, &fe, &d) == 0,
	       "%s: device started on %s", k->name, dev)) {
		check_bytes("block device", true, true, true, true);
		ret = qemu_img_convert(buf, sizeof(buf));
		ok(ret == 1 && has(buf, "Failed to get shared \"write\" lock"),
		   "%s: qemu-img convert of the block device refused: %d, %.200s",
		   k->name, ret, buf);
		fe_close(&fe);
		ok(!wait_byte(img, IMAGE_LOCK_PERM_BASE + 1, false, 5000) &&
		   qemu_img_convert(buf, sizeof(buf)) == 0,
		   "%s: the front end went away: qemu-img convert works", k->name);
		stopped(k, &d, "block device");
	}
	memcpy(img, file, sizeof(img));
	detach[2] = dev;
	run_cmd(detach, buf, sizeof(buf));
}

static void run_kind(const struct kind *k)
{
	tap_diag("%s (%s)", k->name, k->bin);
	image_create(img, IMG_SIZE);
	test_front_end_locks(k);
	test_refused_by_qemu(k);
	test_refused_by_qemu_io(k);
	test_two_daemons(k);
	test_killed(k);
	test_read_only(k);
	test_reset_keeps_locks(k);
	test_locking_option(k);
	test_block_device(k);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	vu_log_init("test-image-lock", 0);
	snprintf(img, sizeof(img), "%s/disk.img", harness_dir());
	snprintf(out_img, sizeof(out_img), "%s/copy.img", harness_dir());
	have_qemu = have_program("qemu-system-x86_64");
	have_qemu_img = have_program("qemu-img");
	have_qemu_io = have_program("qemu-io");
	if (!have_qemu || !have_qemu_img)
		tap_diag("missing QEMU tools (tests/install-deps.sh installs them): their checks are skipped");
	kinds[0] = (struct kind){ "blk", getenv("VHOST_URING_BLK") ?
				  getenv("VHOST_URING_BLK") : "./vhost-uring-blk",
				  "--blk-file=", { NULL },
				  { NULL, "--read-only", "--cache=writeback" } };
	kinds[1] = (struct kind){ "scsi", scsi_daemon_binary(),
				  "--lun=0,file=",
				  { NULL, ",read-only", ",cache=writeback" },
				  { NULL } };
	for (unsigned int i = 0; i < ARRAY_SIZE(kinds); i++)
		run_kind(&kinds[i]);
	harness_cleanup();
	return tap_done();
}
