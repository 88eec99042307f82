/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_dev.h: a virtio-scsi controller with disk LUNs on target 0, each
 * backed by an image file or a block device.
 */
#ifndef VU_SCSI_DEV_H
#define VU_SCSI_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "backing.h"
#include "device.h"
#include "disk_io.h"
#include "image_lock.h"
#include "scsi_cmd.h"
#include "scsi_list.h"

#define SCSI_CTRL_VQ		0
#define SCSI_EVENT_VQ		1
#define SCSI_FIRST_REQ_VQ	2
#define SCSI_MAX_HELD_EVENTS	1024	/* the largest queue size */
#define SCSI_MAX_PENDING_TMFS	64
#define SCSI_MAX_DEFERRED	1024	/* per LUN, waiting for a COMPARE AND WRITE */
#define SCSI_MAX_THREADS	256	/* the most --num-threads takes */

struct scsi_lun_opts {
	unsigned int lun;
	const char *path;
	bool read_only;
	bool format_raw;	/* format=raw */
	enum cache_mode cache;	/* cache= */
	const char *serial;	/* NULL: derived from the NAA identifier */
	uint32_t lbs;		/* 0: from the backing store */
	enum image_locking locking;	/* --locking= */
	struct thr_config limits;	/* QoS: iotune keys in --lun */
	unsigned int num_queues;	/* every queue index, for its counts */
};

struct scsi_lun {
	struct scsi_lu lu;	/* the command layer's state: under mu */
	struct backing bk;
	struct disk disk;	/* all I/O goes through it */
	struct image_lock lock;	/* held while the device runs (scsi_lock.c) */
	char *path;
	bool direct;		/* O_DIRECT: buffers must be block-aligned */
	enum cache_mode cache;
	/*
	 * Every I/O thread runs commands on every LUN.  mu guards lu and
	 * what follows; it is held while a command is parsed and counted,
	 * never across I/O.
	 *
	 * `held' lists, oldest first, every command the LUN answers for:
	 * with I/O running, waiting for a COMPARE AND WRITE, or aborted by
	 * a TMF and not yet answered.  A command leaves it after its answer
	 * is recorded (virtq_push) on its own thread.  A TMF waits until
	 * the LUN holds no command older than itself.
	 *
	 * Each command the LUN holds takes the LUN's next seq.  A TMF takes
	 * its mark on the LUN (the seq the LUN's next command will get),
	 * sets a reset's unit attention and marks the waiting commands it
	 * aborts in one critical section: every command older than the mark
	 * was counted in before the TMF, every newer one after it.
	 */
	pthread_mutex_t mu;
	struct scsi_link held;
	uint64_t seq;
	/*
	 * By TMF slot, the mark each waiting TMF that affects the LUN took
	 * (written by the control queue's thread); kick_mark is the newest,
	 * so a command older than it that leaves `held' may let one go.
	 */
	uint64_t tmf_mark[SCSI_MAX_PENDING_TMFS];
	uint64_t kick_mark;
	unsigned int inflight;	/* commands with I/O running, all threads */
	/*
	 * COMPARE AND WRITE is atomic: it waits for the LUN's running
	 * commands, then runs alone; commands arriving meanwhile wait in
	 * `waiting', in arrival order, each to be run by its own thread.
	 * A COMPARE AND WRITE takes the LUN only when no older command
	 * waits, so none waits for ever.  Commands a TMF aborts stay in
	 * `waiting' (marked, in any order) until their thread answers them.
	 */
	bool exclusive;
	struct vq_req *caw;	/* waiting for the running commands */
	/*
	 * Counted in; its own thread starts it.  One at most: it is set
	 * only while the LUN is exclusive to that COMPARE AND WRITE.
	 */
	struct vq_req *caw_go;
	struct scsi_link waiting;
	unsigned int nwaiting;	/* in `waiting' */
	unsigned int nlive;	/* in `waiting' and not aborted */
	unsigned int pending;	/* atomic (set under mu): nwaiting + caw_go */
	bool event_pending;	/* atomic: a rescan changed the capacity */
};

struct scsi_dev {
	struct scsi_lun *luns[SCSI_MAX_LUNS];	/* by LUN number */
	struct scsi_target target;
	int files[SCSI_MAX_LUNS];
	unsigned int nfiles;
	uint64_t features;
	/* The driver's event buffers, held until an event (event thread). */
	struct vq_req *events[SCSI_MAX_HELD_EVENTS];
	unsigned int nevents;
	bool events_missed;	/* an event found no buffer */
	bool rescan_pending;	/* atomic: some LUN has an event to post */
	/*
	 * TMFs waiting for the commands they affect, in arrival order, and
	 * the slots (bits) they use in each LUN's tmf_mark[] (control
	 * queue's thread).
	 */
	struct vq_req *tmfs[SCSI_MAX_PENDING_TMFS];
	unsigned int ntmfs;
	uint64_t tmf_slots;
	struct iothread *tmf_th;	/* atomic: the control queue's thread */
	/* atomic: a command that may let a TMF go has left a LUN since. */
	bool tmf_kicked;
	/*
	 * Before the TMFs found ready are answered, every I/O thread
	 * publishes what it completed: a publish round of the core
	 * (iothread_after_publish()), one at a time (control queue's thread).
	 */
	bool round_busy;
};

/* Open a LUN and add it to the target.  Returns 0 or -1 after a message. */
int scsi_dev_add_lun(struct scsi_dev *sd, const struct scsi_lun_opts *o);
void scsi_dev_close(struct scsi_dev *sd);

/*
 * The device starts: lock every LUN's image, or none (scsi_lock.c).
 * Returns 0 or -errno after a log line.
 */
int scsi_dev_start(void *ctx);
/* The device stopped: see struct vu_dev_ops.stop (scsi_lock.c). */
void scsi_dev_stop(void *ctx, bool handover);

extern const struct vu_dev_ops scsi_dev_ops;

#endif
