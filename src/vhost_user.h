/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost_user.h: the back-end side of one vhost-user device: its queues, its
 * I/O threads, its guest memory and the state negotiated with the current
 * front end.
 */
#ifndef VU_VHOST_USER_H
#define VU_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "dirty_log.h"
#include "engine.h"
#include "inflight.h"
#include "iothread.h"
#include "mem.h"
#include "virtq.h"
#include "vu_msg.h"

struct vu_dev_config {
	unsigned int max_queues;	/* offered through GET_QUEUE_NUM */
	unsigned int max_queue_size;	/* largest SET_VRING_NUM accepted */
	unsigned int num_threads;	/* 0: none, messages only (fuzzing) */
	enum io_engine_kind engine;
	const int *files;		/* the device's busy files, e.g. its image */
	unsigned int nfiles;
	unsigned int poll_us;		/* I/O threads poll this long after work */
	unsigned int submit_batch;	/* see struct io_engine_opts */
	unsigned int max_batch;		/* see struct virtq */
	bool restrict_io;		/* see io_engine_opts.restrict_ops */
};

struct vu_dev {
	const struct vu_dev_ops *ops;
	void *ctx;
	unsigned int max_queues;
	unsigned int max_queue_size;
	struct virtq *vqs;
	struct virtq **vq_order;	/* grouped by thread */
	struct iothread_group threads;	/* queue i on thread i % threads.n */
	bool paused;
	bool running;			/* ops->start() ran, ops->stop() not yet */
	bool kept;			/* stopped without hand-over since */
	struct vu_mem mem;
	struct inflight_region inflight;	/* from SET_INFLIGHT_FD */
	struct dirty_log log;			/* from SET_LOG_BASE */

	/* State of the current front end (reset on disconnect). */
	int sock;
	bool owner;
	bool features_acked;
	uint64_t features;
	uint64_t protocol_features;
	int backend_fd;			/* back-end channel, or -1 */
	unsigned int backend_acks;	/* acks it still owes us */
	/* The config changed and no GET_CONFIG was answered since (kept
	 * across front ends: QEMU reads it again only when told). */
	bool config_unread;
};

/*
 * Create the device's queues and I/O threads (vu_dev.c); each thread
 * holds ops and ctx, the device's hooks.  Returns 0 or -errno.
 */
int vu_dev_init(struct vu_dev *dev, const struct vu_dev_ops *ops, void *ctx,
		const struct vu_dev_config *cfg);
void vu_dev_destroy(struct vu_dev *dev);

/* Virtio and protocol features this device offers. */
uint64_t vu_dev_features(const struct vu_dev *dev);
uint64_t vu_dev_protocol_features(const struct vu_dev *dev);

/*
 * Handle one message from the front end on dev->sock.  Returns 0, or a
 * negative errno when the connection must be dropped (a line was logged).
 * Consumes every fd the message carried.
 */
int vu_dev_handle_msg(struct vu_dev *dev, struct vu_msg *msg);

/* The front end went away: drain I/O and forget everything it set up. */
void vu_dev_disconnect(struct vu_dev *dev);
/*
 * Control thread, on SIGHUP (and for a control socket): the device looks
 * at its backing stores again and every running queue is woken; a changed
 * config space is signalled to the front end (backend_chan.h).  False if
 * the device has nothing to rescan.
 */
bool vu_dev_rescan(struct vu_dev *dev);
/*
 * Control thread, after disk_limits_set() on one of the device's disks:
 * every I/O thread looks again at the requests waiting for the limits.
 */
void vu_dev_limits_changed(struct vu_dev *dev);
/* Control thread: log the state of every queue (SIGUSR1). */
void vu_dev_log_state(struct vu_dev *dev);

#endif
