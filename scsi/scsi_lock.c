// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_lock.c: owns the virtio-scsi device's start and stop: the image
 * lock of every LUN (image_lock.h) is taken when a front end starts the
 * device, all or none, and made durable and given back when it stops.
 */
#include <errno.h>

#include "log.h"
#include "scsi_dev.h"

/* Give back the locks of the LUNs numbered below end. */
static void release_below(struct scsi_dev *sd, unsigned int end)
{
	for (unsigned int i = 0; i < end; i++) {
		if (sd->luns[i])
			image_lock_release(&sd->luns[i]->lock);
	}
}

int scsi_dev_start(void *ctx)
{
	struct scsi_dev *sd = ctx;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		struct scsi_lun *ln = sd->luns[i];
		int ret;

		if (!ln)
			continue;
		ret = image_lock_acquire(&ln->lock);
		if (ret < 0) {
			log_err("LUN %u cannot be locked: the device does not start",
				i);
			release_below(sd, i);
			return ret;
		}
	}
	return 0;
}

void scsi_dev_stop(void *ctx, bool handover)
{
	struct scsi_dev *sd = ctx;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		if (sd->luns[i])
			image_lock_stop(&sd->luns[i]->lock, handover);
	}
}
