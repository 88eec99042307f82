/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_dev.h: a virtio-scsi controller with disk LUNs on target 0, each
 * backed by an image file or a block device.
 */
#ifndef VU_SCSI_DEV_H
#define VU_SCSI_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "backing.h"
#include "device.h"
#include "scsi_cmd.h"

#define SCSI_CTRL_VQ		0
#define SCSI_EVENT_VQ		1
#define SCSI_FIRST_REQ_VQ	2
#define SCSI_MAX_HELD_EVENTS	1024	/* the largest queue size */
#define SCSI_MAX_PENDING_TMFS	64
#define SCSI_MAX_DEFERRED	1024	/* commands waiting for a COMPARE AND WRITE */

struct scsi_lun_opts {
	unsigned int lun;
	const char *path;
	bool read_only;
	bool direct;		/* cache=none */
	const char *serial;	/* NULL: derived from the NAA identifier */
	uint32_t lbs;		/* 0: from the backing store */
};

struct scsi_lun {
	struct scsi_lu lu;
	struct backing bk;
	char *path;
	bool direct;
	unsigned int inflight;	/* commands with I/O running (I/O thread) */
	/*
	 * COMPARE AND WRITE is atomic: it waits for the LUN's running
	 * commands, then runs alone; commands arriving meanwhile wait in
	 * `deferred', in order (I/O thread).
	 */
	bool exclusive;
	/* SIGHUP: the size the control thread found, for the I/O thread. */
	uint64_t rescanned_blocks;	/* atomic */
	bool resized;			/* atomic: rescanned_blocks is new */
	struct vq_req *caw;	/* waiting for the running commands */
	struct vq_req **deferred;
	unsigned int ndeferred;
};

struct scsi_dev {
	struct scsi_lun *luns[SCSI_MAX_LUNS];	/* by LUN number */
	struct scsi_target target;
	int files[SCSI_MAX_LUNS];
	unsigned int nfiles;
	uint64_t features;
	/* The driver's event buffers, held until an event (I/O thread). */
	struct vq_req *events[SCSI_MAX_HELD_EVENTS];
	unsigned int nevents;
	bool events_missed;	/* an event found no buffer */
	bool rescan_pending;	/* atomic: some LUN was resized */
	/* TMFs waiting for the commands they affect (I/O thread). */
	struct vq_req *tmfs[SCSI_MAX_PENDING_TMFS];
	unsigned int ntmfs;
};

/* Open a LUN and add it to the target.  Returns 0 or -1 after a message. */
int scsi_dev_add_lun(struct scsi_dev *sd, const struct scsi_lun_opts *o);
void scsi_dev_close(struct scsi_dev *sd);

extern const struct vu_dev_ops scsi_dev_ops;

#endif
