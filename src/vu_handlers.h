/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vu_handlers.h: what the vhost-user message handlers share inside the
 * core: replies, queue lookup, fd bookkeeping, the vring handlers of
 * vu_rings.c that vhost_user.c's dispatch table names, and the device
 * lifetime steps of vu_dev.c that dispatch runs.  Not for devices.
 * Every handler takes a message whose size and fd count the table checked,
 * returns 0 or -errno after a log line, and sets *replied if it replied.
 */
#ifndef VU_HANDLERS_H
#define VU_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_user.h"

int vu_reply(struct vu_dev *dev, struct vu_msg *msg, const void *payload,
	     uint32_t size, bool *replied);
int vu_reply_u64(struct vu_dev *dev, struct vu_msg *msg, uint64_t v,
		 bool *replied);
/* The queue a message names, or NULL after a log line. */
struct virtq *vu_vq_by_index(struct vu_dev *dev, struct vu_msg *msg,
			     uint64_t index);
/* Close what *slot holds (if anything) and keep fd there. */
void vu_replace_fd(int *slot, int fd);
/* Is fd an eventfd (an anonymous inode with no file type bits)? */
bool vu_is_eventfd(int fd);
/* GET_VRING_BASE stopped a ring: the device stops after its last one. */
void vu_dev_ring_stopped(struct vu_dev *dev);
/*
 * Around a handler that touches what the I/O threads use (vu_dev.c): park
 * the threads, their I/O drained; afterwards recompute which queues run
 * (starting the device with its first), then let the threads go again.
 */
void vu_dev_pause(struct vu_dev *dev);
void vu_dev_reconcile(struct vu_dev *dev);
void vu_dev_resume(struct vu_dev *dev);

int vu_h_set_vring_num(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_set_vring_addr(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_set_vring_base(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_get_vring_base(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_set_vring_kick(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_set_vring_call(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_set_vring_err(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
int vu_h_set_vring_enable(struct vu_dev *dev, struct vu_msg *msg,
			  bool *replied);

#endif
