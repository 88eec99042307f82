// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_event.c: the event queue.  The driver's event buffers are held on
 * the event queue's thread until there is something to report (a
 * capacity change found by a rescan), or given back when the queue stops.
 */
#include "scsi_priv.h"

static void fill_event(struct vq_req *req, uint32_t event, uint16_t lun,
		       uint32_t reason)
{
	struct virtio_scsi_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = htole32(event);
	/* Single-level: peripheral below 256 (what Linux decodes), else flat. */
	ev.lun[0] = 1;
	ev.lun[2] = lun < 256 ? 0 : 0x40 | (lun >> 8);
	ev.lun[3] = lun & 0xff;
	ev.reason = htole32(reason);
	iov_from_buf(req->iov + req->out_num, req->in_num, 0, &ev, sizeof(ev));
	virtq_push(req, sizeof(ev));
}

/* Report an event in a held buffer, or remember that one was missed. */
static void post_event(struct scsi_dev *sd, uint32_t event, uint16_t lun,
		       uint32_t reason)
{
	struct vq_req *req;

	if (!sd->nevents) {
		log_debug("event %u for LUN %u: no buffer, reported as missed later",
			  event, lun);
		sd->events_missed = true;
		return;
	}
	log_debug("event %u for LUN %u, reason 0x%x", event, lun, reason);
	req = sd->events[0];
	memmove(sd->events, sd->events + 1, --sd->nevents * sizeof(*sd->events));
	if (sd->events_missed)
		event |= VIRTIO_SCSI_T_EVENTS_MISSED;
	sd->events_missed = false;
	fill_event(req, event, lun, reason);
}

void scsi_handle_event_buf(struct scsi_dev *sd, struct vq_req *req)
{
	if (req->out_len || req->in_len < sizeof(struct virtio_scsi_event) ||
	    sd->nevents == SCSI_MAX_HELD_EVENTS) {
		log_peer("vq %u: event buffer at head %u is not a %zu-byte writable buffer",
			 req->vq->index, req->head, sizeof(struct virtio_scsi_event));
		virtq_push(req, 0);
		return;
	}
	sd->events[sd->nevents++] = req;
	/* Events were lost for want of buffers: say so with the first one. */
	if (sd->events_missed)
		post_event(sd, VIRTIO_SCSI_T_NO_EVENT, 0, 0);
}

/* Event queue's thread: post the events a SIGHUP rescan left. */
void scsi_post_rescan_events(struct scsi_dev *sd)
{
	if (!__atomic_load_n(&sd->rescan_pending, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&sd->rescan_pending, false, __ATOMIC_ACQUIRE))
		return;
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		struct scsi_lun *ln = sd->luns[i];

		if (!ln || !__atomic_exchange_n(&ln->event_pending, false,
						__ATOMIC_ACQUIRE) ||
		    !(sd->features & BIT_ULL(VIRTIO_SCSI_F_CHANGE)))
			continue;
		post_event(sd, VIRTIO_SCSI_T_PARAM_CHANGE, i,
			   ASC_CAPACITY_CHANGED >> 8 |
			   (ASC_CAPACITY_CHANGED & 0xff) << 8);
	}
}

/*
 * Give the held event buffers back with NO_EVENT: the queue stops.  The
 * core asks every draining queue; only the event queue holds buffers, and
 * events[] belongs to its thread, so the others must not touch it (another
 * thread rewriting it while the event thread adds a buffer would lose or
 * duplicate one).
 */
void scsi_release_held(void *ctx, struct virtq *vq)
{
	struct scsi_dev *sd = ctx;
	struct virtio_scsi_event ev;

	if (vq->index != SCSI_EVENT_VQ)
		return;
	memset(&ev, 0, sizeof(ev));
	for (unsigned int i = 0; i < sd->nevents; i++) {
		struct vq_req *req = sd->events[i];

		iov_from_buf(req->iov + req->out_num, req->in_num, 0, &ev,
			     sizeof(ev));
		virtq_push(req, sizeof(ev));
	}
	sd->nevents = 0;
}
