/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * disk_io.h: the devices' one way to their storage.  A disk is a backing
 * store (backing.h) seen as byte ranges: read, write, flush, write-zeroes
 * and discard, each queued on an I/O thread's engine and ended by one
 * callback with 0 or -errno.  Short transfers are continued, and the
 * fallocate modes a file system refuses fall back to ones that work.
 * Devices never touch the backing fd: accounting, limits and image formats
 * belong here.  Nothing here allocates or blocks.
 */
#ifndef VU_DISK_IO_H
#define VU_DISK_IO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backing.h"
#include "engine.h"
#include "iothread.h"
#include "sbuf.h"
#include "throttle.h"

/* The kinds of request a disk counts. */
enum disk_kind {
	DISK_READ,
	DISK_WRITE,
	DISK_FLUSH,
	DISK_DISCARD,
	DISK_WRITE_ZEROES,
	DISK_NKINDS,
};

/*
 * Latency histogram: bucket k < DISK_LAT_BUCKETS - 1 counts requests that
 * took less than 2^k microseconds (and not less than 2^(k-1)); the last
 * counts the rest.
 */
#define DISK_LAT_BUCKETS	26

/* Requests of one kind completed without error. */
struct disk_kind_counts {
	uint64_t ops;
	uint64_t bytes;			/* reads and writes only */
	uint64_t lat_sum_ns;
	uint64_t lat[DISK_LAT_BUCKETS];
};

/*
 * What one queue did on one disk.  Written only by the queue's I/O thread
 * (relaxed atomic stores), read by the control thread: no lock.  A
 * request touches its kind's first line and one bucket's.
 */
struct disk_counts {
	struct disk_kind_counts k[DISK_NKINDS];
	uint64_t errors;		/* completed with an error, any kind */
};

/* A disk's state for one queue index (disk_io.c). */
struct disk_queue {
	struct disk_counts c;
	struct disk *disk;
	/* QoS: the queue's requests waiting for the limits, in order. */
	struct disk_req *wait_head;
	struct disk_req **wait_tail;
	struct iothread_timer timer;
} __attribute__((aligned(64)));

struct disk {
	int fd;
	bool is_blkdev;
	bool can_punch;		/* PUNCH_HOLE works: write-zeroes may unmap */
	bool copy_in_thread;	/* reads and writes are in_thread copies */
	bool no_zero_range;	/* atomic: ZERO_RANGE refused (learnt once) */
	const struct backing *bk;
	const char *path;	/* for statistics and info */
	enum cache_mode cache;
	/* Per queue index: counts, and requests waiting for the limits. */
	unsigned int nq;
	struct disk_queue *q;
	/* QoS: limited is read without the lock on every request. */
	bool limited;		/* atomic */
	bool was_limited;	/* atomic: limits were set at some time */
	unsigned int release_seq;	/* atomic: see disk_limits_release() */
	pthread_mutex_t thr_mu;
	struct throttle thr;	/* under thr_mu */
};

struct disk_req;
/* res: 0, or -errno with off and left giving the range that failed. */
typedef void (*disk_done_fn)(struct disk_req *r, int res);

/* One operation at a time, kept in the device's per-request state. */
struct disk_req {
	struct io_op op;
	struct disk *disk;
	struct io_engine *engine;
	struct disk_queue *dq;	/* the disk's state for the request's queue */
	struct iothread *th;	/* the queue's thread */
	unsigned int wait_seq;	/* the disk's release_seq when it began waiting */
	struct disk_req *next;	/* waiting for the limits */
	uint64_t start_ns;	/* for the latency histogram */
	uint64_t bytes;		/* read or written by ops of its kind */
	uint8_t kind;		/* of its last op; DISK_NKINDS: none yet */
	bool failed;		/* an op failed */
	void (*go)(struct disk_req *r);	/* its first operation */
	disk_done_fn done;
	struct iovec *iov;	/* read and write: what is left to transfer */
	unsigned int iovcnt;
	uint64_t off;		/* the next byte to transfer or zero */
	uint64_t left;		/* bytes still to go */
	unsigned int step;	/* write-zeroes: which fallocate of the range */
	bool unmap;		/* write-zeroes: may deallocate */
	/* Deallocating zeroes refused: plain zeroes until disk_req_init(). */
	bool zero_only;
};

/*
 * A disk on bk (opened), served on queues 0..nq-1.  Returns 0, or -1
 * after a log line.  disk_fini() frees it.
 */
int disk_init(struct disk *d, const struct backing *bk, const char *path,
	      enum cache_mode cache, unsigned int nq);
void disk_fini(struct disk *d);
/* At the start of each request: the disk and the queue it came from. */
void disk_req_init(struct disk_req *r, struct disk *d, struct virtq *vq);
/*
 * As the device answers the request (once): count it if it reached the
 * disk.  A request of several operations (ranges, chunks) counts once, as
 * the kind of its last operation, with the bytes of the operations of
 * that kind, and its latency from its first operation to this call.
 */
void disk_count(struct disk_req *r);
static inline void disk_req_end(struct disk_req *r)
{
	if (r->kind != DISK_NKINDS)
		disk_count(r);
}

/*
 * len bytes at off, to or from iov (which is advanced past short
 * transfers).  A transfer that ends early (the image shrank) fails with
 * -ENXIO: stale memory is never returned.  fua: durable on completion.
 */
void disk_read(struct disk_req *r, struct iovec *iov, unsigned int cnt,
	       uint64_t off, uint64_t len, disk_done_fn done);
void disk_write(struct disk_req *r, struct iovec *iov, unsigned int cnt,
		uint64_t off, uint64_t len, bool fua, disk_done_fn done);
void disk_flush(struct disk_req *r, disk_done_fn done);
/*
 * The range reads as zeros afterwards.  With unmap, and where holes can
 * be punched, its blocks are deallocated; else they stay provisioned.
 */
void disk_write_zeroes(struct disk_req *r, uint64_t off, uint64_t len,
		       bool unmap, disk_done_fn done);
/*
 * A hint: the range's blocks may be deallocated.  A block device that
 * cannot do it counts it as done; a file that cannot fails -EOPNOTSUPP.
 */
void disk_discard(struct disk_req *r, uint64_t off, uint64_t len,
		  disk_done_fn done);

/* Between disk_io.c and disk_limits.c. */
void disk_queue_init(struct disk *d, struct disk_queue *q);
/* May r start now?  If not, it waits and its go() runs later. */
bool disk_limits_admit(struct disk_req *r);

/*
 * Any thread: every request now waiting for d's limits may go (a SCSI task
 * management function waits for them, as QEMU lifts limits for a drain);
 * later ones wait as usual.  True when some may wait: then wake the
 * device's threads, which let them go.
 */
bool disk_limits_release(struct disk *d);

/* ---- control thread ------------------------------------------------ */

/* The disk's limits as they stand. */
void disk_limits_get(struct disk *d, struct thr_config *c);
/*
 * Replace the limits (checked by thr_config_check()); the buckets start
 * empty.  Requests already waiting are looked at again the next time
 * their thread wakes: wake the device's threads after this.
 */
void disk_limits_set(struct disk *d, const struct thr_config *c);

/*
 * Formatting (disk_stats.c).  JSON: the members (no braces) of an object:
 * "disk" (the path), the totals read_ops, write_ops, read_bytes,
 * write_bytes, flush_ops, discard_ops, write_zeroes_ops and errors, then
 * "queues" (the counts of each queue that did anything) and "latency_us"
 * (one histogram per kind).
 */
void disk_stats_json(const struct disk *d, struct sbuf *o);
/* The limits as a JSON object of every key (0: none). */
void disk_limits_json(struct disk *d, struct sbuf *o);
/*
 * Prometheus text exposition of n disks of one device ("blk", "scsi"):
 * HELP and TYPE once per family, labels disk, lun (when lun[i] >= 0) and
 * queue.
 */
void disk_stats_prom(struct disk *const *d, const int *lun, unsigned int n,
		     const char *device, struct sbuf *o);

#endif
