/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gate.h: tests/fuse-faulty run with its gate, for tests that need a
 * back-end's I/O held in flight for as long as they like: the daemon gets
 * disk.img on the mount, and the test holds and releases byte ranges of
 * it.  fuse-faulty comes from $FUSE_FAULTY (default ./tests/fuse-faulty).
 */
#ifndef VU_GATE_H
#define VU_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ffs {
	pid_t pid;
	uint64_t size;
	char dir[300];		/* the mount point: the scratch dir's mnt/ */
	char img[320];		/* disk.img, size bytes, no fault ranges */
	char gate[320];
	char log[320];		/* fuse-faulty's stderr */
};

const char *ffs_binary(void);
/*
 * Mount fuse-faulty with its gate and a disk.img of size bytes; it is
 * stopped at exit (or by ffs_stop()).  Returns 0 or -1.
 */
int ffs_start(struct ffs *m, uint64_t size);
void ffs_stop(struct ffs *m);

/* Reads and writes of disk.img overlapping [off, off + len) wait from now on. */
bool gate_hold(const struct ffs *m, uint64_t off, uint64_t len);
/* Let the hold at off go (and the requests it keeps waiting). */
bool gate_release(const struct ffs *m, uint64_t off);
/* How many requests the hold at off keeps waiting now (-1: no such hold). */
int gate_waiting(const struct ffs *m, uint64_t off);
/* Wait up to timeout_ms until a request sleeps in the hold at off. */
bool gate_wait_held(const struct ffs *m, uint64_t off, int timeout_ms);

#endif
