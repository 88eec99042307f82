/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image_lock.h: the image locks QEMU and qemu-img understand.  Open file
 * description (OFD) locks, shared, on single bytes of the image: byte
 * 100 + i for each permission an opener holds, byte 200 + i for each one
 * it does not let others hold, i being the permission's bit number in
 * QEMU's block layer.  Device-neutral: a virtio-blk disk and each SCSI LUN
 * hold one on their backing store.
 */
#ifndef VU_IMAGE_LOCK_H
#define VU_IMAGE_LOCK_H

#include <stdbool.h>
#include <stdint.h>

/* QEMU's permission bits (include/block/block-common.h, QEMU 7.2). */
#define IMAGE_PERM_CONSISTENT_READ	(1u << 0)
#define IMAGE_PERM_WRITE		(1u << 1)
#define IMAGE_PERM_WRITE_UNCHANGED	(1u << 2)
#define IMAGE_PERM_RESIZE		(1u << 3)
#define IMAGE_PERM_COUNT		4
#define IMAGE_PERM_ALL			((1u << IMAGE_PERM_COUNT) - 1)

/* The bytes QEMU's file-posix driver locks for permission bit i. */
#define IMAGE_LOCK_PERM_BASE		100
#define IMAGE_LOCK_SHARED_BASE		200
/*
 * Ours alone: every vhost-uring daemon holds it (shared) from start-up
 * until it exits, so that a daemon that meets a conflict at start-up can
 * tell whether another daemon may be the holder.  QEMU only looks at
 * 100 + i and 200 + i for its permission bits, far below.
 */
#define IMAGE_LOCK_DAEMON_BYTE		1000000

/* --locking=, with the meaning of QEMU's locking= option. */
enum image_locking {
	IMAGE_LOCKING_AUTO,	/* lock where the file system can (default) */
	IMAGE_LOCKING_ON,	/* lock, or refuse to serve */
	IMAGE_LOCKING_OFF,	/* never lock */
};

/* Returns 0 with *out set, or -1 if s is not auto, on or off. */
int image_locking_parse(const char *s, enum image_locking *out);

/*
 * The locks are taken on a file description of their own (the image
 * opened again), never on the one the I/O goes through: io_uring keeps a
 * registered file open for a while after its process died, and a lock on
 * it would outlive a daemon killed with SIGKILL, refusing the next one.
 */
struct image_lock {
	int fd;			/* ours, for the locks; -1 when not locking */
	int data_fd;		/* the backing store's (not ours to close) */
	char *path;		/* for messages */
	unsigned int perm;	/* permissions held while the device runs */
	unsigned int shared;	/* permissions others may hold meanwhile */
	enum image_locking mode;
	bool enabled;		/* off, or the file system cannot: false */
	bool held;		/* the permission bytes are locked */
};

/*
 * At start-up, on the open backing store: look for holders that conflict
 * with what a device on it holds (a writable one: consistent read and
 * write, sharing all but write; a read-only one: consistent read, sharing
 * all but write), without taking any permission byte, and mark the image
 * as served by a vhost-uring daemon.  A conflict with a holder that may be
 * another daemon (it holds IMAGE_LOCK_DAEMON_BYTE) is only logged: the
 * locks are taken when the device starts.  Returns 0, or -1 after a log
 * line: a conflict with another kind of holder (QEMU, qemu-img), or
 * locking=on where the file system has no OFD locks.
 */
int image_lock_init(struct image_lock *l, int fd, const char *path,
		    bool read_only, enum image_locking mode);
/*
 * The device starts: take the permission bytes, then look for conflicts.
 * Returns 0 (also when locking is off or unsupported), or -errno after a
 * line that names the lock, with nothing taken.
 */
int image_lock_acquire(struct image_lock *l);
/* Give back the permission bytes (the daemon mark stays). */
void image_lock_release(struct image_lock *l);
/*
 * The device stopped: make what was written durable (fdatasync), then at
 * a hand-over release the permission bytes.  A failed fdatasync is
 * logged; the locks go at a hand-over anyway.
 */
void image_lock_stop(struct image_lock *l, bool handover);
/* Release everything and free l (data_fd stays open). */
void image_lock_fini(struct image_lock *l);

#endif
