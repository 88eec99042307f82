/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * device.h: the interface between the core and a device type (virtio-blk,
 * virtio-scsi).  The core handles the vhost-user protocol, memory, rings and
 * threads; a device supplies its feature bits, its config space, and a
 * handler for each request taken from a queue.
 *
 * The hooks come in one table with one ctx (vu_dev_init()).  Every I/O
 * thread holds a pointer to the table and the ctx (struct iothread's ops
 * and ctx); a queue reaches them through its thread (vq->th).  Those that
 * run on an I/O thread: handle_request, release_held, poke and wake.  A
 * device whose threads must agree across queues uses the thread group of
 * iothread.h: iothread_wake_all()/iothread_wake_others() and the publish
 * round iothread_after_publish(); it keeps no list of threads of its own.
 */
#ifndef VU_DEVICE_H
#define VU_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iothread.h"
#include "virtq.h"

struct disk;

struct vu_dev_ops {
	const char *name;
	/* Device-specific virtio feature bits to offer. */
	uint64_t (*features)(void *ctx);
	/* The features the driver accepted (called on every SET_FEATURES). */
	void (*set_features)(void *ctx, uint64_t features);
	/* Config space; absent for devices whose config the front end builds. */
	int (*get_config)(void *ctx, uint8_t *buf, uint32_t off, uint32_t len);
	int (*set_config)(void *ctx, const uint8_t *buf, uint32_t off,
			  uint32_t len, uint32_t flags);
	/*
	 * Handle one request on an I/O thread.  The device must eventually
	 * call virtq_push() for it exactly once, from the same thread.
	 */
	vq_handler_fn handle_request;
	/*
	 * Optional: the queue must stop (the I/O thread drains it).  Complete,
	 * on that I/O thread, every request the device keeps waiting without
	 * I/O in flight; requests with I/O complete by themselves.
	 */
	vq_release_fn release_held;
	/*
	 * Optional, on SIGHUP (control thread, I/O threads running): look at
	 * the backing stores again.  What the I/O threads must learn goes
	 * through state they read atomically; every running queue is then
	 * woken as if kicked, and poke runs on its I/O thread.  Returns true
	 * when the config space changed: the core then tells the front end
	 * (CONFIG_CHANGE_MSG on the back-end channel).
	 */
	bool (*rescan)(void *ctx);
	/* Optional: runs on the I/O thread after each pass over a kicked queue. */
	vq_release_fn poke;
	/*
	 * Optional: runs on an I/O thread some time after iothread_wake() for
	 * it (from any thread), also while the thread drains for a pause.  A
	 * device whose requests wait on each other across threads uses it.
	 * The thread's part in a publish round, and a round's fn, run right
	 * after it in the same wake.
	 */
	iothread_wake_fn wake;
	/*
	 * Optional, control thread, I/O threads parked: the front end starts
	 * the device (its first ring starts, none ran before).  The device
	 * takes what serving needs, such as its image locks.  A negative errno
	 * refuses the start, after a log line: the starting rings are marked
	 * broken and no request is taken.
	 */
	int (*start)(void *ctx);
	/*
	 * Optional, control thread, I/O drained: the device stopped (its last
	 * running ring was stopped with GET_VRING_BASE, or the front end went
	 * away).  The device makes what the guest wrote durable on the host.
	 * handover is true when another back-end may take the image over next
	 * (the front end was migrating the guest, or disconnected): release
	 * what start() took.  Otherwise (a guest reset or reboot) keep it;
	 * if the front end then goes away before starting the device again,
	 * stop runs once more, with handover true.
	 */
	void (*stop)(void *ctx, bool handover);
	/*
	 * Optional, control thread (the control socket): the device's i-th
	 * disk and its LUN (-1 for a device of one disk), NULL past the last.
	 */
	struct disk *(*disk)(void *ctx, unsigned int i, int *lun);
	/* Bytes of private state the device keeps per request. */
	size_t req_priv_size;
};

#endif
