// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_dev.c: the virtio-scsi controller as the core sees it (device.h):
 * its features, its requests sent to the request, control or event queue's
 * handler, a command's way to its LUN, and the cross-thread work an I/O
 * thread does when woken.  The rest is in files of its own: framing
 * (scsi_resp.c), the I/O state machines (scsi_io.c), a LUN's task set and
 * COMPARE AND WRITE ordering (scsi_taskset.c), task management
 * (scsi_tmf.c), the event queue (scsi_event.c) and the LUNs (scsi_lun.c).
 */
#include "scsi_priv.h"

static void handle_cmd(struct scsi_dev *sd, struct scsi_io *io,
		       struct vq_req *req)
{
	struct virtio_scsi_cmd_req hdr;
	struct scsi_cmd *c = &io->cmd;
	struct scsi_lun *ln;
	bool wlun;
	int lun;

	if (req->in_len < RESP_HDR_SIZE ||
	    !scsi_iov_slice(req->iov + req->out_num, req->in_num, 0, RESP_HDR_SIZE,
			    io->resp, &io->nresp, RESP_PIECES)) {
		virtq_set_broken(req->vq, "request at head %u has no writable %zu-byte response header",
				 req->head, RESP_HDR_SIZE);
		virtq_abandon(req);
		return;
	}
	memset(c, 0, sizeof(*c));
	io->resid = 0;
	io->ln = NULL;
	if (req->out_len < REQ_HDR_SIZE) {
		log_peer("vq %u: request at head %u is shorter than a command header",
			 req->vq->index, req->head);
		scsi_respond(io, VIRTIO_SCSI_S_FAILURE, 0);
		return;
	}
	iov_to_buf(req->iov, req->out_num, 0, &hdr, REQ_HDR_SIZE);
	io->dout_len = req->out_len - REQ_HDR_SIZE;
	io->din_len = req->in_len - RESP_HDR_SIZE;
	if (io->dout_len && io->din_len &&
	    !(sd->features & BIT_ULL(VIRTIO_SCSI_F_INOUT))) {
		log_peer("vq %u: bidirectional command without VIRTIO_SCSI_F_INOUT",
			 req->vq->index);
		scsi_respond(io, VIRTIO_SCSI_S_FAILURE, 0);
		return;
	}
	lun = scsi_decode_lun(hdr.lun, &wlun);
	if (lun < 0) {
		scsi_respond(io, VIRTIO_SCSI_S_BAD_TARGET, 0);
		return;
	}
	/* Kept: a command that waits runs from these, not from the ring. */
	io->tag = le64toh(hdr.tag);
	memcpy(io->cdb, hdr.cdb, SCSI_CDB_SIZE);
	io->is_caw = io->cdb[0] == SCSI_OP_COMPARE_AND_WRITE;
	/* From here on the request's iovec array is cut up in place. */
	scsi_locate_data(io, req);
	ln = lun < SCSI_MAX_LUNS && !wlun ? sd->luns[lun] : NULL;
	if (!ln) {
		scsi_exec_nolun(sd, io, wlun, lun);
		return;
	}
	io->ln = ln;
	disk_req_init(&io->dr, &ln->disk, req->vq);
	pthread_mutex_lock(&ln->mu);
	if (!scsi_must_wait(ln, io)) {
		scsi_exec_locked(sd, io);
		return;
	}
	if (!scsi_defer(io)) {
		pthread_mutex_unlock(&ln->mu);
		c->status = SAM_BUSY;
		scsi_respond(io, VIRTIO_SCSI_S_OK, 0);
		return;
	}
	pthread_mutex_unlock(&ln->mu);
}

static void scsi_poke(void *ctx, struct virtq *vq)
{
	if (vq->index == SCSI_EVENT_VQ)
		scsi_post_rescan_events(ctx);
}

/* I/O thread, after iothread_wake(): the cross-thread work. */
static void scsi_wake(void *ctx, struct iothread *th)
{
	struct scsi_dev *sd = ctx;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		if (sd->luns[i])
			scsi_lun_wake(sd, sd->luns[i], th);
	}
	if (th == __atomic_load_n(&sd->tmf_th, __ATOMIC_ACQUIRE))
		scsi_tmf_progress(sd, th);
}

static void scsi_handle(void *ctx, struct vq_req *req)
{
	struct scsi_dev *sd = ctx;
	struct scsi_io *io = vq_req_priv(req);

	io->sd = sd;
	io->bounce = NULL;
	io->done = 0;
	io->write = false;
	io->caw = false;
	io->caw_run = false;
	io->overrun = false;
	io->abort_resp = 0;
	io->is_caw = false;
	io->in_held = false;
	io->in_round = false;
	switch (req->vq->index) {
	case SCSI_CTRL_VQ:
		scsi_handle_ctrl(sd, io, req);
		break;
	case SCSI_EVENT_VQ:
		scsi_handle_event_buf(sd, req);
		break;
	default:
		handle_cmd(sd, io, req);
		break;
	}
}

static uint64_t scsi_features(void *ctx)
{
	(void)ctx;
	/*
	 * CHANGE: capacity changes found by a rescan are reported as
	 * PARAM_CHANGE events.  HOTPLUG: LUNs are not added or removed at run
	 * time, so no RESCAN or REMOVED event is ever sent, but Linux posts
	 * event buffers only when HOTPLUG is negotiated.
	 */
	return BIT_ULL(VIRTIO_SCSI_F_CHANGE) | BIT_ULL(VIRTIO_SCSI_F_HOTPLUG);
}

static void scsi_set_features(void *ctx, uint64_t features)
{
	struct scsi_dev *sd = ctx;

	sd->features = features;
}

/*
 * No config space: QEMU's vhost-user-scsi builds its own.  The event
 * queue's buffers wait for events with no I/O (release_held); poke posts
 * the events a rescan left pending once the driver adds buffers; wake
 * moves commands held behind others of their LUN, and TMFs, across the
 * I/O threads.
 */
/* The control socket's view: the LUNs' disks, in LUN order. */
static struct disk *scsi_disk(void *ctx, unsigned int i, int *lun)
{
	struct scsi_dev *sd = ctx;

	if (i >= sd->target.nluns)
		return NULL;
	*lun = sd->target.luns[i];
	return &sd->luns[*lun]->disk;
}

const struct vu_dev_ops scsi_dev_ops = {
	.name = "virtio-scsi",
	.features = scsi_features,
	.set_features = scsi_set_features,
	.handle_request = scsi_handle,
	.release_held = scsi_release_held,
	.rescan = scsi_rescan,
	.poke = scsi_poke,
	.wake = scsi_wake,
	.start = scsi_dev_start,
	.stop = scsi_dev_stop,
	.disk = scsi_disk,
	.req_priv_size = sizeof(struct scsi_io),
};
