// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vu_dev.c: a vhost-user device's lifetime, apart from the protocol
 * (vhost_user.c): creating its queues and I/O threads, pausing and
 * resuming the threads around a message, deciding which queues run, the
 * device's start and stop (with or without hand-over of its image), a
 * front end going away, SIGHUP and SIGUSR1, and the teardown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend_chan.h"
#include "log.h"
#include "util.h"
#include "vhost_user.h"
#include "vu_handlers.h"

/*
 * The threads park in index order.  A device's thread may, while it
 * drains, wait for work of a later thread that still runs (virtio-scsi's
 * control queue is on thread 0 and its TMFs wait for every thread to
 * publish), never for an earlier one, which is parked already.
 */
void vu_dev_pause(struct vu_dev *dev)
{
	if (dev->paused)
		return;
	for (unsigned int i = 0; i < dev->threads.n; i++)
		iothread_pause(&dev->threads.th[i]);
	dev->paused = true;
}

void vu_dev_resume(struct vu_dev *dev)
{
	if (!dev->paused)
		return;
	dev->paused = false;
	for (unsigned int i = 0; i < dev->threads.n; i++)
		iothread_resume(&dev->threads.th[i]);
}

static bool logging(const struct vu_dev *dev)
{
	return dev->features & BIT_ULL(VHOST_F_LOG_ALL);
}

/*
 * With dirty logging on, a ring waits for its log: a write the log does
 * not record would be lost to the migrated guest.  (QEMU may start rings
 * with LOG_ALL set and send SET_LOG_BASE a few messages later.)
 */
static bool vq_should_run(const struct vu_dev *dev, const struct virtq *vq)
{
	bool enabled = vq->enabled ||
		!(dev->features & BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES));

	return vq->started && vq->kick_fd >= 0 && vq->num && vq->addr_set &&
	       enabled && !vq->broken && (!logging(dev) || dev->log.bits);
}

/* The device's first ring is about to run: let the device get ready. */
static int device_start(struct vu_dev *dev)
{
	int ret = dev->ops->start ? dev->ops->start(dev->ctx) : 0;

	if (ret == 0) {
		dev->running = true;
		vu_backend_device_started(dev);
		dev->kept = false;
	}
	return ret;
}

/*
 * No ring runs any more (I/O drained); see struct vu_dev_ops.stop.  A
 * device stopped without hand-over (a guest reset) that the front end
 * then leaves is stopped again, with hand-over.
 */
static void device_stop(struct vu_dev *dev, bool handover)
{
	if (!dev->running && !(dev->kept && handover))
		return;
	dev->running = false;
	dev->kept = !handover;
	if (dev->ops->stop)
		dev->ops->stop(dev->ctx, handover);
}

static bool any_started(const struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		if (dev->vqs[i].started)
			return true;
	}
	return false;
}

static bool any_should_run(const struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		if (vq_should_run(dev, &dev->vqs[i]))
			return true;
	}
	return false;
}

/*
 * GET_VRING_BASE stopped a ring.  When it was the last, the device stops;
 * with dirty logging on, the front end is migrating the guest and the
 * destination's back-end takes over next.
 */
void vu_dev_ring_stopped(struct vu_dev *dev)
{
	if (!any_started(dev))
		device_stop(dev, logging(dev));
}

/*
 * Recompute which queues run, with the I/O threads paused.  Ring pointers
 * are translated again every time because the memory table may have moved.
 */
void vu_dev_reconcile(struct vu_dev *dev)
{
	bool refused = false;

	if (!dev->running && any_should_run(dev))
		refused = device_start(dev) < 0;
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		struct virtq *vq = &dev->vqs[i];

		virtq_deactivate(vq);
		vq->log = logging(dev) ? &dev->log : NULL;
		if (!vq_should_run(dev, vq))
			continue;
		if (refused)
			virtq_set_broken(vq, "the device refused to start");
		else if (virtq_activate(vq, &dev->mem,
					dev->ops->req_priv_size) < 0)
			virtq_set_broken(vq, "cannot start the ring");
	}
}

void vu_dev_log_state(struct vu_dev *dev)
{
	unsigned int shown = 0;

	for (unsigned int i = 0; i < dev->max_queues; i++) {
		struct virtq *vq = &dev->vqs[i];

		if (!vq->num && !vq->started)
			continue;
		virtq_log_state(vq);
		shown++;
	}
	if (!shown)
		log_info("no queue is set up");
}

bool vu_dev_rescan(struct vu_dev *dev)
{
	bool config_changed;

	if (!dev->ops->rescan)
		return false;
	config_changed = dev->ops->rescan(dev->ctx);
	/* Wake every running queue's thread; the device's poke does the rest. */
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		struct virtq *vq = &dev->vqs[i];

		if (vq->active && vq->kick_fd >= 0)
			eventfd_write(vq->kick_fd, 1);
	}
	if (config_changed) {
		dev->config_unread = true;
		vu_backend_config_changed(dev);
	}
	return true;
}

/*
 * With the I/O threads parked or gone: drop the rings, memory, inflight
 * region, dirty log and back-end channel a front end set up.
 */
static void forget_front_end(struct vu_dev *dev)
{
	if (dev->vqs) {
		for (unsigned int i = 0; i < dev->max_queues; i++)
			virtq_reset(&dev->vqs[i]);
	}
	mem_clear(&dev->mem);
	inflight_unmap(&dev->inflight);
	dirty_log_unmap(&dev->log);
	vu_replace_fd(&dev->log.notify_fd, -1);
	vu_backend_chan_close(dev);
}

void vu_dev_disconnect(struct vu_dev *dev)
{
	vu_dev_pause(dev);
	device_stop(dev, true);
	forget_front_end(dev);
	dev->owner = false;
	dev->features_acked = false;
	dev->features = 0;
	dev->protocol_features = 0;
	/* The I/O threads stay paused until the next front end starts a ring. */
}

/* ---- creation and teardown ------------------------------------------ */

static unsigned int thread_depth(const struct vu_dev *dev, unsigned int nvqs)
{
	unsigned long d = (unsigned long)nvqs * dev->max_queue_size + 64;

	return d > 65536 ? 65536 : (unsigned int)d;
}

int vu_dev_init(struct vu_dev *dev, const struct vu_dev_ops *ops, void *ctx,
		const struct vu_dev_config *cfg)
{
	unsigned int nthreads = MIN(cfg->num_threads, cfg->max_queues);
	unsigned int pos = 0;
	int ret = 0;

	memset(dev, 0, sizeof(*dev));
	dev->ops = ops;
	dev->ctx = ctx;
	dev->sock = -1;
	dev->log.notify_fd = -1;
	dev->backend_fd = -1;
	dev->max_queues = cfg->max_queues;
	dev->max_queue_size = cfg->max_queue_size;
	dev->vqs = calloc(cfg->max_queues, sizeof(*dev->vqs));
	dev->vq_order = calloc(cfg->max_queues, sizeof(*dev->vq_order));
	dev->threads.th = calloc(MAX(nthreads, 1u), sizeof(*dev->threads.th));
	if (!dev->vqs || !dev->vq_order || !dev->threads.th) {
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		virtq_init(&dev->vqs[i], i);
		dev->vqs[i].polled = cfg->poll_us > 0;
		dev->vqs[i].max_batch = cfg->max_batch;
	}

	/* Queue i is served by thread i % nthreads. */
	dev->paused = true;
	for (unsigned int t = 0; t < nthreads; t++) {
		unsigned int first = pos;
		struct io_engine_opts eo = {
			.files = cfg->files,
			.nfiles = cfg->nfiles,
			.submit_batch = cfg->submit_batch,
			.restrict_ops = cfg->restrict_io,
		};

		for (unsigned int i = t; i < dev->max_queues; i += nthreads)
			dev->vq_order[pos++] = &dev->vqs[i];
		eo.depth = thread_depth(dev, pos - first);
		ret = iothread_start(&dev->threads, ops, ctx, cfg->engine, &eo,
				     cfg->poll_us, &dev->vq_order[first],
				     pos - first);
		if (ret < 0) {
			log_err("cannot start I/O thread %u with %s: %s", t,
				io_engine_kind_name(cfg->engine), strerror(-ret));
			goto fail;
		}
	}
	return 0;
fail:
	vu_dev_destroy(dev);
	return ret;
}

void vu_dev_destroy(struct vu_dev *dev)
{
	/*
	 * A front end may still be connected (the server loop failed): the
	 * threads first drain and park, in the usual order, so that none
	 * runs device code that wakes another.  Even so, each eventfd is
	 * closed only once every thread is gone.
	 */
	vu_dev_pause(dev);
	device_stop(dev, true);
	for (unsigned int i = 0; i < dev->threads.n; i++)
		iothread_stop(&dev->threads.th[i]);
	for (unsigned int i = 0; i < dev->threads.n; i++)
		iothread_destroy(&dev->threads.th[i]);
	dev->threads.n = 0;
	forget_front_end(dev);
	free(dev->vqs);
	free(dev->vq_order);
	free(dev->threads.th);
	dev->vqs = NULL;
	dev->vq_order = NULL;
	dev->threads.th = NULL;
}

void vu_dev_limits_changed(struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->threads.n; i++)
		iothread_wake(&dev->threads.th[i]);
}
