/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_setup.h: the set-up of vhost-uring-bench --device=scsi: the control
 * and event queues a virtio-scsi driver brings up, and the discovery of the
 * LUN's capacity and block size before the run.
 */
#ifndef VU_BENCH_SCSI_SETUP_H
#define VU_BENCH_SCSI_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "front.h"

/*
 * With guest memory shared: start the control and event queues with num
 * entries (a few event buffers posted, as a guest driver does), start the
 * first request queue, and ask LUN lun for its geometry with READ
 * CAPACITY(16) (after TEST UNIT READY clears a pending unit attention),
 * and whether it is write-protected with MODE SENSE(6).  Returns 0 with
 * *nblocks blocks of *block_len bytes and *read_only, or -1 after a message.
 * A LUN that does not answer MODE SENSE counts as writable.
 */
int scsi_setup(struct front *f, unsigned int lun, uint16_t num,
	       uint64_t *nblocks, uint32_t *block_len, bool *read_only);

#endif
