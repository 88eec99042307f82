/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ffs.h: tests/fuse-faulty, mounted and unmounted for a test: disk.img on
 * a FUSE mount in the scratch directory, with fault ranges (EIO, ENOSPC)
 * that SIGUSR1 clears, or with its gate, so that a test holds and releases
 * byte ranges of it and so keeps a back-end's I/O in flight for as long as
 * it likes.  Whatever way a test ends, no mount is left behind.
 * fuse-faulty comes from $FUSE_FAULTY (default ./tests/fuse-faulty).
 */
#ifndef VU_FFS_H
#define VU_FFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FFS_FAULT_LEN	(1u << 20)	/* fuse-faulty's fault range length */

/* How to start fuse-faulty. */
struct ffs_conf {
	const char *name;	/* mount point: the scratch dir's name/ */
	uint64_t size;		/* of disk.img */
	uint64_t eio_off;	/* reads and writes fail (at or past size: never) */
	uint64_t nospc_off;	/* writes fail with ENOSPC (likewise) */
	bool gate;		/* serve the gate too */
	bool hide_fuse;		/* /dev/fuse hidden (root): the mount must fail */
};

/* One fuse-faulty process and its mount. */
struct ffs {
	pid_t pid;
	uint64_t size;
	char dir[300];		/* the mount point */
	char img[320];		/* disk.img */
	char gate[320];
	char log[320];		/* fuse-faulty's stderr */
	char img_arg[340];	/* --blk-file=img */
	char why[512];		/* why ffs_mount() failed */
};

const char *ffs_binary(void);
/*
 * Mount fuse-faulty as c says and wait for disk.img.  Returns 0, or -1
 * with m->why saying what went wrong.  The mount is undone at exit and
 * when the test is killed by SIGTERM, SIGINT or SIGHUP.
 */
int ffs_mount(struct ffs *m, const struct ffs_conf *c);
/* With its gate and no fault ranges, on the scratch dir's mnt/. */
int ffs_start(struct ffs *m, uint64_t size);
/*
 * Stop fuse-faulty (it unmounts on SIGTERM; auto_unmount covers a kill),
 * then make sure: fusermount3 -u -z, then a lazy umount.  True when no
 * mount is left (the mount point is then removed).
 */
bool ffs_stop(struct ffs *m);
/* Is a mount still left behind (the scratch dir must then stay)? */
bool ffs_stuck(void);
bool ffs_is_mounted(const char *dir);
/* SIGUSR1: fuse-faulty drops its fault ranges; wait until it says so. */
bool ffs_clear(struct ffs *m);

/* Reads and writes of disk.img overlapping [off, off + len) wait from now on. */
bool gate_hold(const struct ffs *m, uint64_t off, uint64_t len);
/* Let the hold at off go (and the requests it keeps waiting). */
bool gate_release(const struct ffs *m, uint64_t off);
/* How many requests the hold at off keeps waiting now (-1: no such hold). */
int gate_waiting(const struct ffs *m, uint64_t off);
/* Wait up to timeout_ms until a request sleeps in the hold at off. */
bool gate_wait_held(const struct ffs *m, uint64_t off, int timeout_ms);

#endif
