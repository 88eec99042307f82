// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * image_lock.c: owns the image locks a device holds on its backing store,
 * in the byte layout QEMU's file-posix driver uses, so that QEMU, qemu-img
 * and qemu-storage-daemon see a vhost-uring daemon as one more opener: the
 * start-up test (is the image in use, and by whom?), taking and checking
 * the permission bytes when the device starts, giving them back at a
 * hand-over, the daemon mark, and the --locking=auto|on|off policy.
 *
 * Every lock is a shared (read) OFD lock on one byte.  Two openers
 * conflict when one holds a permission (byte 100 + i) that the other does
 * not share (byte 200 + i).  Nobody ever takes a write lock on these
 * bytes, so taking one of ours always succeeds; the conflict check that
 * follows is what decides.  Two openers taking their bytes at the same
 * moment may then both see the other and both give up: never both serve.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_lock.h"
#include "log.h"
#include "util.h"

/* QEMU's names for its permissions, as its lock messages print them. */
static const char *const perm_names[IMAGE_PERM_COUNT] = {
	"consistent read", "write", "write unchanged", "resize",
};

static const char *const mode_names[] = {
	[IMAGE_LOCKING_AUTO] = "auto",
	[IMAGE_LOCKING_ON] = "on",
	[IMAGE_LOCKING_OFF] = "off",
};

int image_locking_parse(const char *s, enum image_locking *out)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(mode_names); i++) {
		if (!strcmp(s, mode_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* A conflict: permission bit `bit', as held (false) or as shared (true). */
struct conflict {
	unsigned int bit;
	bool shared;
};

/* One fcntl() on one byte; *type gets what F_OFD_GETLK found.  -errno. */
static int lock_byte(int fd, int cmd, short type, off_t byte, short *found)
{
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = byte,
		.l_len = 1,
	};

	if (fcntl(fd, cmd, &fl) < 0)
		return -errno;
	if (found)
		*found = fl.l_type;
	return 0;
}

/* Does another open file description hold a lock on byte?  1, 0, -errno. */
static int byte_taken(int fd, off_t byte)
{
	short found = F_UNLCK;
	int ret = lock_byte(fd, F_OFD_GETLK, F_WRLCK, byte, &found);

	return ret < 0 ? ret : found != F_UNLCK;
}

/*
 * The first holder we cannot live with, in QEMU's order: for each bit, one
 * that does not share a permission we hold, then one that holds a
 * permission we do not share.  Returns 1 with *c set, 0, or -errno.
 */
static int find_conflict(const struct image_lock *l, struct conflict *c)
{
	for (unsigned int i = 0; i < IMAGE_PERM_COUNT; i++) {
		int ret;

		if (l->perm & (1u << i)) {
			ret = byte_taken(l->fd, IMAGE_LOCK_SHARED_BASE + i);
			if (ret) {
				*c = (struct conflict){ i, false };
				return ret;
			}
		}
		if (!(l->shared & (1u << i))) {
			ret = byte_taken(l->fd, IMAGE_LOCK_PERM_BASE + i);
			if (ret) {
				*c = (struct conflict){ i, true };
				return ret;
			}
		}
	}
	return 0;
}

static void log_conflict(const struct image_lock *l, const struct conflict *c,
			 const char *why)
{
	log_err("%s: Failed to get %s\"%s\" lock%s; is another process using the image?",
		l->path, c->shared ? "shared " : "", perm_names[c->bit], why);
}

static bool fs_cannot_lock(int err)
{
	return err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP ||
	       err == -ENOLCK;
}

/*
 * fcntl() failed with err.  Where the file system has no OFD locks and the
 * mode is auto, say so once and serve without them (returns 0); otherwise
 * log and return err.
 */
static int lock_failed(struct image_lock *l, int err)
{
	if (fs_cannot_lock(err) && l->mode == IMAGE_LOCKING_AUTO) {
		log_warn("%s: no image locking, the file system does not support OFD locks (%s): nothing stops another process from writing the image",
			 l->path, strerror(-err));
		l->enabled = false;
		l->held = false;
		return 0;
	}
	if (fs_cannot_lock(err))
		log_err("%s: --locking=on, but the file system does not support OFD locks (%s)",
			l->path, strerror(-err));
	else
		log_err("%s: cannot lock the image: %s", l->path, strerror(-err));
	return err;
}

/*
 * The same file again, as a new open file description: through /proc, so
 * that it is the very file fd is, whatever became of the path since.
 */
static int reopen(int fd, const char *path)
{
	char self[64];
	int lfd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	lfd = open(self, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		lfd = open(path, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		log_err("cannot open %s again for its locks: %s", path,
			strerror(errno));
	return lfd;
}

int image_lock_init(struct image_lock *l, int fd, const char *path,
		    bool read_only, enum image_locking mode)
{
	struct conflict c;
	int ret;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->data_fd = fd;
	l->path = strdup(path);
	if (!l->path) {
		log_err("out of memory");
		return -1;
	}
	l->mode = mode;
	l->perm = IMAGE_PERM_CONSISTENT_READ |
		  (read_only ? 0 : IMAGE_PERM_WRITE);
	l->shared = IMAGE_PERM_ALL & ~IMAGE_PERM_WRITE;
	l->enabled = mode != IMAGE_LOCKING_OFF;
	if (!l->enabled)
		return 0;
	l->fd = reopen(fd, path);
	if (l->fd < 0)
		goto fail;
	ret = find_conflict(l, &c);
	if (ret == 1) {
		ret = byte_taken(l->fd, IMAGE_LOCK_DAEMON_BYTE);
		if (ret == 0) {
			log_conflict(l, &c, " (its holder is not a vhost-uring daemon)");
			goto fail;
		}
		if (ret == 1)
			log_info("%s: the image is in use (\"%s\" lock), perhaps by the vhost-uring daemon this one takes over from: the locks are taken when a front end starts the device",
				 path, perm_names[c.bit]);
	}
	if (ret == 0 || ret == 1)
		ret = lock_byte(l->fd, F_OFD_SETLK, F_RDLCK,
				IMAGE_LOCK_DAEMON_BYTE, NULL);
	if (ret < 0 && lock_failed(l, ret) < 0)
		goto fail;
	return 0;
fail:
	image_lock_fini(l);
	return -1;
}

/* Unlock our bytes in [base, base + IMAGE_PERM_COUNT). */
static void unlock_range(const struct image_lock *l, off_t base)
{
	struct flock fl = {
		.l_type = F_UNLCK,
		.l_whence = SEEK_SET,
		.l_start = base,
		.l_len = IMAGE_PERM_COUNT,
	};

	if (fcntl(l->fd, F_OFD_SETLK, &fl) < 0)
		log_err("%s: cannot unlock bytes %ld-%ld: %s", l->path,
			(long)base, (long)base + IMAGE_PERM_COUNT - 1,
			strerror(errno));
}

/* Give back every permission byte, whatever was taken. */
static void unlock_all(const struct image_lock *l)
{
	unlock_range(l, IMAGE_LOCK_PERM_BASE);
	unlock_range(l, IMAGE_LOCK_SHARED_BASE);
}

void image_lock_release(struct image_lock *l)
{
	if (!l->held)
		return;
	unlock_all(l);
	l->held = false;
	log_info("%s: image locks released", l->path);
}

/* Take byte (shared); a write lock there is a conflict named by c. */
static int take_byte(struct image_lock *l, off_t byte, unsigned int bit,
		     bool shared)
{
	struct conflict c = { bit, shared };
	int ret = lock_byte(l->fd, F_OFD_SETLK, F_RDLCK, byte, NULL);

	if (ret == -EAGAIN || ret == -EACCES) {
		log_conflict(l, &c, "");
		return -EBUSY;
	}
	return ret;
}

static int take_bytes(struct image_lock *l)
{
	for (unsigned int i = 0; i < IMAGE_PERM_COUNT; i++) {
		int ret = 0;

		if (l->perm & (1u << i))
			ret = take_byte(l, IMAGE_LOCK_PERM_BASE + i, i, false);
		if (ret == 0 && !(l->shared & (1u << i)))
			ret = take_byte(l, IMAGE_LOCK_SHARED_BASE + i, i, true);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int image_lock_acquire(struct image_lock *l)
{
	struct conflict c;
	int ret;

	if (!l->enabled || l->held)
		return 0;
	ret = take_bytes(l);
	if (ret == 0)
		ret = find_conflict(l, &c);
	if (ret == 1) {
		log_conflict(l, &c, "");
		ret = -EBUSY;
	}
	if (ret == 0) {
		l->held = true;
		log_info("%s: image locked", l->path);
		return 0;
	}
	/* Where the file system cannot lock, nothing was taken. */
	if (ret == -EBUSY || !fs_cannot_lock(ret))
		unlock_all(l);
	if (ret != -EBUSY)
		ret = lock_failed(l, ret);
	return ret;
}

void image_lock_stop(struct image_lock *l, bool handover)
{
	/* Host page cache first: whoever takes over must read it from disk. */
	if ((l->perm & IMAGE_PERM_WRITE) && fdatasync(l->data_fd) < 0)
		log_err("%s: cannot make the guest's writes durable: fdatasync: %s",
			l->path, strerror(errno));
	if (handover)
		image_lock_release(l);
}

void image_lock_fini(struct image_lock *l)
{
	image_lock_release(l);
	/* Closing our file description drops the daemon mark with it. */
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->enabled = false;
	free(l->path);
	l->path = NULL;
}
