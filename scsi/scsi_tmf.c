// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_tmf.c: the control queue: task management functions and the
 * asynchronous notification queries.  A TMF marks the commands it
 * affects on each LUN, waits until they are answered, then has every
 * I/O thread publish its completions (the core's publish round,
 * iothread_after_publish()) before its own answer is published.
 */
#include "scsi_priv.h"

/* A TMF may be ready: have the control queue's thread look again. */
void scsi_tmf_kick(struct scsi_dev *sd)
{
	struct iothread *th;

	__atomic_store_n(&sd->tmf_kicked, true, __ATOMIC_RELEASE);
	th = __atomic_load_n(&sd->tmf_th, __ATOMIC_ACQUIRE);
	if (th)
		iothread_wake(th);
}

/*
 * A TMF takes its mark on ln, the seq the LUN's next command will get, and
 * in the same critical section sets a reset's unit attention (ua, 0 for
 * none) and aborts the commands it affects that wait on ln: they are
 * older than the mark and never started, and every command that comes
 * later is newer and sees the unit attention.  Each aborted one is marked
 * and answered by its own thread (scsi_lun_wake()); a COMPARE AND WRITE still
 * waiting for the running commands joins them in ln->waiting (nothing is
 * counted in for it) and gives the LUN up.  True if any was aborted.
 */
static bool lun_mark(struct scsi_lun *ln, struct scsi_io *tmf, bool one,
		     uint64_t tag, uint8_t response, uint16_t ua)
{
	struct scsi_io *caw;
	bool any = false;

	pthread_mutex_lock(&ln->mu);
	ln->tmf_mark[tmf->tmf_slot] = ln->seq;
	ln->kick_mark = ln->seq;
	if (ua)
		ln->lu.pending_ua = ua;
	for (struct scsi_link *l = ln->waiting.next; l != &ln->waiting;
	     l = l->next) {
		struct scsi_io *io = container_of(l, struct scsi_io, wait_link);

		if (io->abort_resp || (one && io->tag != tag))
			continue;
		io->abort_resp = response;
		ln->nlive--;
		any = true;
	}
	caw = ln->caw ? vq_req_priv(ln->caw) : NULL;
	if (caw && (!one || caw->tag == tag)) {
		caw->abort_resp = response;
		ln->caw = NULL;
		ln->exclusive = false;
		link_add_tail(&ln->waiting, &caw->wait_link);
		ln->nwaiting++;
		scsi_set_pending(ln);
		any = true;
	}
	pthread_mutex_unlock(&ln->mu);
	return any;
}

/* The LUNs a TMF affects, in index order: its LUN, or all of them. */
static void mark_luns(struct scsi_dev *sd, struct scsi_io *tmf, bool one,
		      uint64_t tag, uint8_t response, uint16_t ua)
{
	bool any = false;

	for (unsigned int l = 0; l < SCSI_MAX_LUNS; l++) {
		struct scsi_lun *ln = sd->luns[l];

		if (ln && (!tmf->ln || ln == tmf->ln)) {
			any |= lun_mark(ln, tmf, one, tag, response, ua);
			/* Commands held by QoS limits go now: it waits for them. */
			any |= disk_limits_release(&ln->disk);
		}
	}
	if (any)
		iothread_wake_all(io_thread(tmf));
}

/*
 * Are the commands a TMF waits for on ln all done and answered?  They are
 * those the LUN held before it (seq below its mark on ln); later ones
 * never delay it.
 */
static bool lun_settled(struct scsi_lun *ln, const struct scsi_io *tmf)
{
	bool settled;

	pthread_mutex_lock(&ln->mu);
	settled = list_empty(&ln->held) ||
		  container_of(ln->held.next, struct scsi_io, held_link)->seq >=
		  ln->tmf_mark[tmf->tmf_slot];
	pthread_mutex_unlock(&ln->mu);
	return settled;
}

static bool tmf_ready(struct scsi_dev *sd, const struct scsi_io *io)
{
	if (io->ln)
		return lun_settled(io->ln, io);
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		if (sd->luns[i] && !lun_settled(sd->luns[i], io))
			return false;
	}
	return true;
}

/*
 * Control queue's thread, at the end of the round: every completion that
 * was recorded before it began, on any thread, is published.  Answer the
 * TMFs it was run for, then look for more that are ready.
 */
static void round_done(void *arg, struct iothread *me)
{
	struct scsi_dev *sd = arg;
	unsigned int kept = 0;

	for (unsigned int i = 0; i < sd->ntmfs; i++) {
		struct scsi_io *io = vq_req_priv(sd->tmfs[i]);

		if (io->in_round) {
			sd->tmf_slots &= ~(1ull << io->tmf_slot);
			scsi_tmf_answer(io, TMF_FUNCTION_COMPLETE);
		} else {
			sd->tmfs[kept++] = sd->tmfs[i];
		}
	}
	sd->ntmfs = kept;
	sd->round_busy = false;
	scsi_tmf_progress(sd, me);
}

/*
 * Control queue's thread: the affected commands must be seen complete
 * before the TMF is.  Once they are all answered, every request queue's
 * completions are published (a publish round), then the TMF's.
 */
void scsi_tmf_progress(struct scsi_dev *sd, struct iothread *me)
{
	bool ready = false;

	/* TMFs that become ready meanwhile wait for the next round. */
	if (sd->round_busy)
		return;
	/*
	 * A waiting TMF becomes ready only when a command leaves a held
	 * list, and each one that may let a TMF go kicks: look only then.
	 */
	if (!__atomic_load_n(&sd->tmf_kicked, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&sd->tmf_kicked, false, __ATOMIC_ACQ_REL))
		return;
	for (unsigned int i = 0; i < sd->ntmfs; i++) {
		struct scsi_io *io = vq_req_priv(sd->tmfs[i]);

		if (!io->in_round && tmf_ready(sd, io)) {
			io->in_round = true;
			ready = true;
		}
	}
	if (!ready)
		return;
	sd->round_busy = true;
	iothread_after_publish(me, round_done, sd);
}

/* QUERY TASK SET: does the LUN hold any command? */
static bool lun_busy(struct scsi_lun *ln)
{
	bool busy;

	pthread_mutex_lock(&ln->mu);
	busy = !list_empty(&ln->held);
	pthread_mutex_unlock(&ln->mu);
	return busy;
}

/*
 * QUERY TASK: is the command with this tag in the LUN's task set?  One
 * that runs or waits (a COMPARE AND WRITE that waits for the LUN or has
 * been let go, too) is; one that a TMF aborted is not, though its thread
 * may not have answered it yet: in SAM, aborting a command ends it.
 */
static bool lun_has_task(struct scsi_lun *ln, uint64_t tag)
{
	bool found = false;

	pthread_mutex_lock(&ln->mu);
	for (struct scsi_link *l = ln->held.next; l != &ln->held && !found;
	     l = l->next) {
		struct scsi_io *io = container_of(l, struct scsi_io, held_link);

		found = io->tag == tag && !io->abort_resp;
	}
	pthread_mutex_unlock(&ln->mu);
	return found;
}

static void handle_tmf(struct scsi_dev *sd, struct scsi_io *io,
		       struct vq_req *req)
{
	struct virtio_scsi_ctrl_tmf_req t;
	uint32_t subtype;
	uint16_t ua = 0;
	bool wlun;
	int lun;

	iov_to_buf(req->iov, req->out_num, 0, &t, sizeof(t));
	subtype = le32toh(t.subtype);
	lun = scsi_decode_lun(t.lun, &wlun);
	if (lun < 0) {
		scsi_tmf_answer(io, VIRTIO_SCSI_S_BAD_TARGET);
		return;
	}
	io->ln = lun < SCSI_MAX_LUNS && !wlun ? sd->luns[lun] : NULL;
	switch (subtype) {
	case VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET:
		io->ln = NULL;
		break;
	case VIRTIO_SCSI_T_TMF_ABORT_TASK:
	case VIRTIO_SCSI_T_TMF_ABORT_TASK_SET:
	case VIRTIO_SCSI_T_TMF_CLEAR_TASK_SET:
	case VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET:
	case VIRTIO_SCSI_T_TMF_QUERY_TASK:
	case VIRTIO_SCSI_T_TMF_QUERY_TASK_SET:
		if (!io->ln) {
			scsi_tmf_answer(io, VIRTIO_SCSI_S_INCORRECT_LUN);
			return;
		}
		break;
	default:	/* CLEAR_ACA: there is no ACA */
		scsi_tmf_answer(io, VIRTIO_SCSI_S_FUNCTION_REJECTED);
		return;
	}
	if (subtype == VIRTIO_SCSI_T_TMF_QUERY_TASK) {
		scsi_tmf_answer(io, lun_has_task(io->ln, le64toh(t.tag)) ?
				VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : TMF_FUNCTION_COMPLETE);
		return;
	}
	if (subtype == VIRTIO_SCSI_T_TMF_QUERY_TASK_SET) {
		scsi_tmf_answer(io, lun_busy(io->ln) ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED :
				TMF_FUNCTION_COMPLETE);
		return;
	}
	/* Refused before it changes anything. */
	if (sd->ntmfs == SCSI_MAX_PENDING_TMFS) {
		scsi_tmf_answer(io, VIRTIO_SCSI_S_BUSY);
		return;
	}
	io->tmf_slot = (unsigned int)__builtin_ctzll(~sd->tmf_slots);
	sd->tmf_slots |= 1ull << io->tmf_slot;
	io->in_round = false;
	sd->tmfs[sd->ntmfs++] = req;
	/* Before any mark: a command that leaves a LUN kicks this thread. */
	__atomic_store_n(&sd->tmf_th, req->vq->th, __ATOMIC_RELEASE);
	if (subtype == VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET)
		ua = 0x2907;	/* I_T nexus loss occurred */
	else if (subtype == VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET)
		ua = 0x2903;	/* bus device reset function occurred */
	/*
	 * Its marks: it affects, and waits for, the commands each LUN held
	 * before it; those that wait for a COMPARE AND WRITE never started.
	 */
	mark_luns(sd, io, subtype == VIRTIO_SCSI_T_TMF_ABORT_TASK,
		  le64toh(t.tag), ua ? VIRTIO_SCSI_S_RESET : VIRTIO_SCSI_S_ABORTED,
		  ua);
	/* The affected commands complete first: their I/O is running. */
	__atomic_store_n(&sd->tmf_kicked, true, __ATOMIC_RELAXED);
	scsi_tmf_progress(sd, req->vq->th);
}

void scsi_handle_ctrl(struct scsi_dev *sd, struct scsi_io *io,
		      struct vq_req *req)
{
	struct virtio_scsi_ctrl_an_resp an;
	uint32_t type = 0;

	io->ln = NULL;
	iov_to_buf(req->iov, req->out_num, 0, &type, sizeof(type));
	type = le32toh(type);
	if (req->out_len < 4 ||
	    (type == VIRTIO_SCSI_T_TMF &&
	     (req->out_len < sizeof(struct virtio_scsi_ctrl_tmf_req) || req->in_len < 1)) ||
	    ((type == VIRTIO_SCSI_T_AN_QUERY || type == VIRTIO_SCSI_T_AN_SUBSCRIBE) &&
	     (req->out_len < sizeof(struct virtio_scsi_ctrl_an_req) || req->in_len < sizeof(an))) ||
	    type > VIRTIO_SCSI_T_AN_SUBSCRIBE ||
	    !scsi_iov_slice(req->iov + req->out_num, req->in_num, 0,
			    type == VIRTIO_SCSI_T_TMF ? 1 : sizeof(an), io->resp,
			    &io->nresp, RESP_PIECES)) {
		log_peer("vq %u: control request at head %u (type %u) is malformed",
			 req->vq->index, req->head, type);
		virtq_push(req, 0);
		return;
	}
	if (type == VIRTIO_SCSI_T_TMF) {
		handle_tmf(sd, io, req);
		return;
	}
	/* No asynchronous events are reported: none queried, none given. */
	memset(&an, 0, sizeof(an));
	an.response = VIRTIO_SCSI_S_OK;
	iov_from_buf(io->resp, io->nresp, 0, &an, sizeof(an));
	virtq_push(req, sizeof(an));
}
