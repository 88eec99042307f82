// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_taskset.c: a LUN's task set.  Every command a LUN answers for is
 * held in arrival order; a COMPARE AND WRITE waits for the running
 * commands and then runs alone while later ones wait, each run or
 * answered by its own I/O thread when the LUN lets it go.  The end of a
 * command hands the LUN on and kicks a waiting TMF.
 */
#include "scsi_priv.h"

/* With ln->mu held: tell the threads' wakes whether ln has work for them. */
void scsi_set_pending(struct scsi_lun *ln)
{
	__atomic_store_n(&ln->pending, ln->nwaiting + !!ln->caw_go,
			 __ATOMIC_RELEASE);
}

/* With ln->mu held: the LUN answers for io from now on, in arrival order. */
static void hold(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;

	if (io->in_held)
		return;
	io->seq = ln->seq++;
	link_add_tail(&ln->held, &io->held_link);
	io->in_held = true;
}

/*
 * With ln->mu held, once io's answer is recorded: the LUN no longer
 * answers for it.  True when a waiting TMF may now be ready: scsi_tmf_kick()
 * then.  A TMF that took its mark on the LUN waits until every command
 * older than the mark has left, so a command older than the newest mark
 * always has a TMF waiting for it.
 */
static bool unhold(struct scsi_io *io)
{
	if (!io->in_held)
		return false;
	link_del(&io->held_link);
	io->in_held = false;
	return io->seq < io->ln->kick_mark;
}

/*
 * A command that ran I/O is over: answer it, then see who waited on it: a
 * COMPARE AND WRITE waiting for the LUN to be idle, the commands that the
 * one ending held back, a TMF.
 */
void scsi_finish_io(struct scsi_io *io, uint32_t data_in)
{
	struct scsi_dev *sd = io->sd;
	struct scsi_lun *ln = io->ln;
	struct iothread *me = io_thread(io), *other = NULL;
	struct vq_req *caw = NULL;
	bool was_caw = io->caw, replay = false, kick;

	scsi_respond(io, VIRTIO_SCSI_S_OK, data_in);
	pthread_mutex_lock(&ln->mu);
	ln->inflight--;
	kick = unhold(io);
	if (was_caw) {
		ln->exclusive = false;
		replay = ln->nwaiting > 0;
	} else if (ln->caw && ln->inflight == 0) {
		caw = ln->caw;
		ln->caw = NULL;
		ln->inflight++;
		if (caw->vq->th != me) {
			ln->caw_go = caw;
			scsi_set_pending(ln);
			other = caw->vq->th;
			caw = NULL;
		}
	}
	pthread_mutex_unlock(&ln->mu);
	if (replay)
		iothread_wake_all(me);
	if (other)
		iothread_wake(other);
	if (caw)
		scsi_run_caw(vq_req_priv(caw));
	if (kick)
		scsi_tmf_kick(sd);
}

/*
 * With the LUN locked, right after the command layer: count a command that
 * runs I/O in the LUN's inflight, or have a COMPARE AND WRITE take the LUN
 * (it runs once the others are done: caw_run says whether that is now).
 * False for a command answered at once, which the LUN does not hold.
 */
static bool count_in(struct scsi_io *io)
{
	struct scsi_cmd *c = &io->cmd;
	struct scsi_lun *ln = io->ln;
	uint32_t need = c->exec == SCSI_X_READ ? c->xfer_in : c->xfer_out;
	uint32_t have = c->exec == SCSI_X_READ ? io->din_len : io->dout_len;

	io->wce = ln->lu.wce;
	io->overrun = have < need;
	if (c->exec == SCSI_X_DONE || io->overrun)
		return false;
	hold(io);
	if (c->exec != SCSI_X_COMPARE_WRITE) {
		ln->inflight++;
		return true;
	}
	ln->exclusive = true;
	io->caw_run = !ln->inflight;
	if (io->caw_run)
		ln->inflight++;
	else
		ln->caw = io_req(io);
	return true;
}

/* Run the command the command layer decided on; data is its data-in. */
static void dispatch(struct scsi_io *io, const uint8_t *data)
{
	struct scsi_cmd *c = &io->cmd;

	c->param = NULL;
	if (c->exec != SCSI_X_DONE) {
		scsi_start_io(io);
		return;
	}
	if (io->dout_len) {
		io->resid = io->dout_len - MIN(io->dout_len, c->xfer_out);
		scsi_respond(io, VIRTIO_SCSI_S_OK, 0);
	} else {
		scsi_answer(io, data, io->din_len);
	}
}

/* The command layer's input: the CDB kept in io, the parameter data. */
static void prepare_cmd(struct scsi_io *io, uint8_t *param)
{
	struct scsi_cmd *c = &io->cmd;

	memset(c, 0, sizeof(*c));
	c->cdb = io->cdb;
	c->out_len = io->dout_len;
	c->in_len = io->din_len;
	if (scsi_needs_param(io->cdb)) {
		c->param_len = iov_to_buf(io->data, io->data_cnt, 0, param,
					  MIN(io->dout_len, (uint32_t)SCSI_PARAM_MAX));
		c->param = param;
	}
}

static void log_refused(const struct scsi_io *io, int lun)
{
	if (io->cmd.why && io->cmd.status != SAM_GOOD)
		log_debug("LUN %d: opcode 0x%02x refused: %s", lun, io->cdb[0],
			  io->cmd.why);
}

/*
 * With io->ln locked and free for io: decide, count in, unlock, then start
 * or answer it.  Called once per command, from handle_cmd() or, for a
 * command that waited, from scsi_lun_wake().  A command that waited is held
 * already; if it is answered at once (a unit attention, an overrun, a
 * refused CDB), it leaves ln->held only once that answer is recorded.
 */
void scsi_exec_locked(struct scsi_dev *sd, struct scsi_io *io)
{
	uint8_t data[SCSI_DATA_MAX], param[SCSI_PARAM_MAX];
	struct scsi_lun *ln = io->ln;
	bool answered_held, kick;

	prepare_cmd(io, param);
	scsi_exec_cdb(&ln->lu, &sd->target, &io->cmd, data);
	answered_held = !count_in(io) && io->in_held;
	pthread_mutex_unlock(&ln->mu);
	log_refused(io, (int)ln->lu.lun);
	dispatch(io, data);
	if (!answered_held)
		return;
	pthread_mutex_lock(&ln->mu);
	kick = unhold(io);
	pthread_mutex_unlock(&ln->mu);
	if (kick)
		scsi_tmf_kick(sd);
}

/* A command to the REPORT LUNS well-known LU or to no LUN: no state. */
void scsi_exec_nolun(struct scsi_dev *sd, struct scsi_io *io, bool wlun,
		     int lun)
{
	uint8_t data[SCSI_DATA_MAX], param[SCSI_PARAM_MAX];

	prepare_cmd(io, param);
	if (wlun)
		scsi_exec_wlun(&sd->target, &io->cmd, data);
	else
		scsi_exec_absent(&sd->target, &io->cmd, data);
	log_refused(io, lun);
	dispatch(io, data);
}

/*
 * With the LUN locked: must a new command wait?  Behind a COMPARE AND
 * WRITE, yes; a COMPARE AND WRITE also waits behind every older command
 * that waits, so that a stream of them cannot keep one back for ever.
 */
bool scsi_must_wait(const struct scsi_lun *ln, const struct scsi_io *io)
{
	return ln->exclusive || (io->is_caw && ln->nlive);
}

/*
 * With the LUN locked: park a command until the LUN's COMPARE AND WRITE is
 * over.  False if there is no room (the caller answers BUSY).
 */
bool scsi_defer(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;

	if (ln->nwaiting >= SCSI_MAX_DEFERRED)
		return false;
	hold(io);
	io->abort_resp = 0;
	link_add_tail(&ln->waiting, &io->wait_link);
	ln->nwaiting++;
	ln->nlive++;
	scsi_set_pending(ln);
	return true;
}

/* With the LUN locked: io leaves ln->waiting (it runs or is answered). */
static void unwait(struct scsi_lun *ln, struct scsi_io *io)
{
	link_del(&io->wait_link);
	ln->nwaiting--;
	if (!io->abort_resp)
		ln->nlive--;
	scsi_set_pending(ln);
}

/*
 * With the LUN locked: the next command of th in ln->waiting, from `from'
 * on; *older is set if a live command of another thread comes first.
 * Only th takes th's commands out, so the one returned stays there while
 * the lock is dropped.
 */
static struct scsi_io *next_mine(struct scsi_lun *ln, struct scsi_link *from,
				 struct iothread *th, bool *older)
{
	for (struct scsi_link *l = from; l != &ln->waiting; l = l->next) {
		struct scsi_io *io = container_of(l, struct scsi_io, wait_link);

		if (io_thread(io) == th)
			return io;
		if (!io->abort_resp)
			*older = true;
	}
	return NULL;
}

/* Answer the aborted commands chained on list; then the LUN drops them. */
static void answer_aborted(struct scsi_dev *sd, struct scsi_lun *ln,
			   struct scsi_link *list)
{
	bool kick = false;

	if (list_empty(list))
		return;
	for (struct scsi_link *l = list->next; l != list; l = l->next) {
		struct scsi_io *io = container_of(l, struct scsi_io, wait_link);

		scsi_respond(io, io->abort_resp, 0);
	}
	pthread_mutex_lock(&ln->mu);
	while (!list_empty(list)) {
		struct scsi_io *io = container_of(list->next, struct scsi_io,
						  wait_link);

		link_del(&io->wait_link);
		kick |= unhold(io);
	}
	pthread_mutex_unlock(&ln->mu);
	if (kick)
		scsi_tmf_kick(sd);
}

/*
 * On thread th, after a wake: start th's COMPARE AND WRITE once the others
 * are done, answer th's commands on ln that a TMF aborted, run those the
 * end of a COMPARE AND WRITE let go, in order (one that takes the LUN
 * keeps the rest waiting).  A command is counted in under the same lock
 * that takes it out of ln->waiting, so a TMF always sees it somewhere.
 */
void scsi_lun_wake(struct scsi_dev *sd, struct scsi_lun *ln,
		   struct iothread *th)
{
	struct scsi_link aborted;
	struct scsi_io *io, *next;
	struct vq_req *go = NULL;
	bool older = false, progress = false, others;

	if (!__atomic_load_n(&ln->pending, __ATOMIC_ACQUIRE))
		return;
	link_init(&aborted);
	pthread_mutex_lock(&ln->mu);
	if (ln->caw_go && ln->caw_go->vq->th == th) {
		go = ln->caw_go;
		ln->caw_go = NULL;
		scsi_set_pending(ln);
	}
	for (io = next_mine(ln, ln->waiting.next, th, &older); io; io = next) {
		bool stay = !io->abort_resp &&
			    (ln->exclusive || (io->is_caw && older));

		older |= stay;
		next = next_mine(ln, io->wait_link.next, th, &older);
		if (stay)
			continue;
		unwait(ln, io);
		progress = true;
		if (io->abort_resp) {
			link_add_tail(&aborted, &io->wait_link);
			continue;
		}
		scsi_exec_locked(sd, io);
		pthread_mutex_lock(&ln->mu);
	}
	/* What ran may have let another thread's COMPARE AND WRITE go. */
	others = progress && ln->nlive && !ln->exclusive;
	pthread_mutex_unlock(&ln->mu);
	if (go)
		scsi_run_caw(vq_req_priv(go));
	answer_aborted(sd, ln, &aborted);
	if (others)
		iothread_wake_others(th);
}
