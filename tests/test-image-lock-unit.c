// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-image-lock-unit.c: src/image_lock.c alone, in one process.  Two
 * open() calls of one file are two open file descriptions, whose OFD locks
 * conflict as two processes' would: the conflict rules (writers, readers,
 * a foreign holder without the daemon mark), the hand-over, and the
 * --locking=auto|on|off policy where the file system refuses OFD locks,
 * which no file system here does: fcntl() is wrapped (-Wl,--wrap=fcntl)
 * to fail the OFD commands with a chosen errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_lock.h"
#include "log.h"
#include "tap.h"

/* ---- fcntl() with injected failures ----------------------------------- */

int __real_fcntl(int fd, int cmd, ...);
int __wrap_fcntl(int fd, int cmd, ...);

static int fail_errno;		/* 0: pass every call through */
static int fail_cmd;		/* the OFD command that fails; 0: both */
static unsigned int ofd_calls;

int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (cmd == F_OFD_GETLK || cmd == F_OFD_SETLK) {
		ofd_calls++;
		if (fail_errno && (!fail_cmd || fail_cmd == cmd)) {
			errno = fail_errno;
			return -1;
		}
	}
	return __real_fcntl(fd, cmd, arg);
}

static void inject(int err, int cmd)
{
	fail_errno = err;
	fail_cmd = cmd;
	ofd_calls = 0;
}

/* ---- the image and the log -------------------------------------------- */

static char img[64] = "/tmp/vu-image-lock.XXXXXX";
static int log_fd;

/* What was logged since the last call. */
static const char *logged(void)
{
	static char buf[8192];
	static off_t seen;
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, seen);

	buf[n > 0 ? n : 0] = 0;
	seen += n > 0 ? n : 0;
	return buf;
}

static int open_img(void)
{
	int fd = open(img, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror(img);
		exit(99);
	}
	return fd;
}

/* Does another open file description hold byte? */
static bool taken(off_t byte)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte,
		.l_len = 1,
	};
	int fd = open_img();
	bool held = __real_fcntl(fd, F_OFD_GETLK, &fl) == 0 &&
		    fl.l_type != F_UNLCK;

	close(fd);
	return held;
}

/* A lock opened on a new open file description; *fd is it. */
static int lock_open(struct image_lock *l, int *fd, bool ro,
		     enum image_locking mode)
{
	*fd = open_img();
	return image_lock_init(l, *fd, img, ro, mode);
}

static void lock_close(struct image_lock *l, int fd)
{
	image_lock_fini(l);
	close(fd);
}

/* ---- the conflict rules --------------------------------------------- */

static void test_writers(void)
{
	struct image_lock a, b;
	int fa, fb, ret;

	ok(lock_open(&a, &fa, false, IMAGE_LOCKING_AUTO) == 0 &&
	   taken(IMAGE_LOCK_DAEMON_BYTE) && !taken(IMAGE_LOCK_PERM_BASE + 1),
	   "start-up: the daemon mark is taken, no permission byte");
	ok(image_lock_acquire(&a) == 0 && taken(IMAGE_LOCK_PERM_BASE) &&
	   taken(IMAGE_LOCK_PERM_BASE + 1) && taken(IMAGE_LOCK_SHARED_BASE + 1) &&
	   !taken(IMAGE_LOCK_SHARED_BASE) && !taken(IMAGE_LOCK_PERM_BASE + 3) &&
	   !taken(IMAGE_LOCK_SHARED_BASE + 3),
	   "a writer holds 100, 101 and 201, nothing else");
	logged();
	ok(lock_open(&b, &fb, false, IMAGE_LOCKING_AUTO) == 0 &&
	   strstr(logged(), "the locks are taken when a front end starts the device"),
	   "a second writer starts beside a daemon, and says so");
	ret = image_lock_acquire(&b);
	ok(ret == -EBUSY && strstr(logged(), "Failed to get \"write\" lock"),
	   "but cannot take the locks: Failed to get \"write\" lock (%d)", ret);
	ok(taken(IMAGE_LOCK_PERM_BASE + 1) && !b.held,
	   "the refused one holds nothing, the first keeps its locks");
	image_lock_stop(&a, false);
	ok(a.held && image_lock_acquire(&b) == -EBUSY,
	   "a stop without hand-over keeps them");
	image_lock_stop(&a, true);
	ok(!a.held && image_lock_acquire(&b) == 0,
	   "after a hand-over the second takes them");
	lock_close(&b, fb);
	lock_close(&a, fa);
	ok(!taken(IMAGE_LOCK_PERM_BASE + 1) && !taken(IMAGE_LOCK_DAEMON_BYTE),
	   "closed: nothing is held");
}

static void test_readers(void)
{
	struct image_lock a, b, c;
	int fa, fb, fc, ret;

	ok(lock_open(&a, &fa, true, IMAGE_LOCKING_ON) == 0 &&
	   image_lock_acquire(&a) == 0 && lock_open(&b, &fb, true,
	   IMAGE_LOCKING_ON) == 0 && image_lock_acquire(&b) == 0,
	   "two readers hold the image together");
	ok(taken(IMAGE_LOCK_PERM_BASE) && !taken(IMAGE_LOCK_PERM_BASE + 1) &&
	   taken(IMAGE_LOCK_SHARED_BASE + 1),
	   "a reader holds 100 and 201");
	logged();
	ret = lock_open(&c, &fc, false, IMAGE_LOCKING_ON);
	ok(ret == 0 && image_lock_acquire(&c) == -EBUSY &&
	   strstr(logged(), "Failed to get \"write\" lock"),
	   "a writer beside them is refused");
	lock_close(&c, fc);
	lock_close(&b, fb);
	lock_close(&a, fa);
}

/* A holder without the daemon mark (qemu-io: holds write, shares it). */
static void test_foreign(void)
{
	struct flock fl = {
		.l_type = F_RDLCK, .l_whence = SEEK_SET,
		.l_start = IMAGE_LOCK_PERM_BASE, .l_len = 2,
	};
	int qemu = open_img(), fd;
	struct image_lock l;
	const char *msg;

	if (__real_fcntl(qemu, F_OFD_SETLK, &fl) < 0) {
		ok(false, "locking bytes 100-101: %s", strerror(errno));
		return;
	}
	logged();
	ok(lock_open(&l, &fd, false, IMAGE_LOCKING_AUTO) == -1,
	   "a writer refuses to start on an image written by another program");
	msg = logged();
	ok(strstr(msg, "Failed to get shared \"write\" lock") &&
	   strstr(msg, img) && strstr(msg, "is another process using the image?"),
	   "naming the lock, the image and the likely cause: %s", msg);
	close(fd);
	ok(lock_open(&l, &fd, true, IMAGE_LOCKING_AUTO) == -1 &&
	   strstr(logged(), "Failed to get shared \"write\" lock"),
	   "so does a reader (it does not share write)");
	close(fd);
	ok(lock_open(&l, &fd, false, IMAGE_LOCKING_OFF) == 0 &&
	   image_lock_acquire(&l) == 0 && !taken(IMAGE_LOCK_SHARED_BASE + 1),
	   "--locking=off serves, and locks nothing");
	lock_close(&l, fd);
	close(qemu);
}

/* ---- --locking=auto|on|off where the file system refuses ------------ */

static void test_policy(void)
{
	static const int errs[] = { EINVAL, ENOTSUP, ENOLCK };
	struct image_lock l;
	char first[8192];
	int fd, ret;

	inject(EINVAL, 0);
	ok(lock_open(&l, &fd, false, IMAGE_LOCKING_OFF) == 0 &&
	   image_lock_acquire(&l) == 0 && ofd_calls == 0,
	   "off: no OFD call at all");
	lock_close(&l, fd);
	for (unsigned int i = 0; i < 3; i++) {
		logged();
		inject(errs[i], 0);
		ret = lock_open(&l, &fd, false, IMAGE_LOCKING_AUTO);
		snprintf(first, sizeof(first), "%s", logged());
		ok(ret == 0 && strstr(first, "does not support OFD locks") &&
		   image_lock_acquire(&l) == 0 && !*logged(),
		   "auto, %s: serves unlocked, one warning: %s",
		   strerror(errs[i]), first);
		lock_close(&l, fd);
		inject(errs[i], 0);
		ret = lock_open(&l, &fd, false, IMAGE_LOCKING_ON);
		ok(ret == -1 && strstr(logged(), "--locking=on"),
		   "on, %s: refuses to start", strerror(errs[i]));
		close(fd);
	}
	inject(0, 0);
	ok(lock_open(&l, &fd, false, IMAGE_LOCKING_ON) == 0,
	   "on: starts where locks work");
	inject(EOPNOTSUPP, F_OFD_SETLK);
	ret = image_lock_acquire(&l);
	ok(ret == -EOPNOTSUPP && !l.held,
	   "on: the device start is refused when taking a lock fails (%d)", ret);
	l.mode = IMAGE_LOCKING_AUTO;
	logged();
	ok(image_lock_acquire(&l) == 0 && !l.held &&
	   strstr(logged(), "does not support OFD locks"),
	   "auto: the same failure serves unlocked, with a warning");
	lock_close(&l, fd);
	inject(0, 0);
	ok(lock_open(&l, &fd, false, IMAGE_LOCKING_AUTO) == 0,
	   "auto: starts");
	inject(EIO, F_OFD_SETLK);
	ok(image_lock_acquire(&l) == -EIO && strstr(logged(), "cannot lock"),
	   "auto: another error (EIO) refuses the start all the same");
	inject(0, 0);
	lock_close(&l, fd);
}

int main(void)
{
	char log[] = "/tmp/vu-image-lock-log.XXXXXX";
	int fd = mkstemp(img);

	log_fd = mkstemp(log);
	if (fd < 0 || log_fd < 0 || ftruncate(fd, 1 << 20) < 0) {
		perror("mkstemp");
		return 99;
	}
	close(fd);
	unlink(log);
	dup2(log_fd, STDERR_FILENO);
	vu_log_init("test-image-lock-unit", 0);
	test_writers();
	test_readers();
	test_foreign();
	test_policy();
	unlink(img);
	return tap_done();
}
