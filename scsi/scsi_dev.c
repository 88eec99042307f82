// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi_dev.c: the virtio-scsi controller.  Owns the virtio side of SCSI: the
 * request, control and event queues, LUN addressing, the response header
 * (status, sense, residual), task management functions, and the execution
 * of what the command layer (scsi_cmd.h) decided on the LUN's disk
 * (disk_io.h): reads and writes on the guest's own buffers (or a bounce
 * buffer), SYNCHRONIZE CACHE as a flush, UNMAP as discards and zeroing
 * WRITE SAME as write-zeroes, all through the I/O thread's engine.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/virtio_scsi.h>

#include "iothread.h"
#include "log.h"
#include "scsi_dev.h"
#include "util.h"

/* The TMF response meaning "done"; the header has no name for 0. */
#define TMF_FUNCTION_COMPLETE	0

#define REQ_HDR_SIZE	sizeof(struct virtio_scsi_cmd_req)	/* 51 */
#define RESP_HDR_SIZE	sizeof(struct virtio_scsi_cmd_resp)	/* 108 */
#define RESP_PIECES	8
#define BOUNCE_MAX	(1u << 20)	/* WRITE SAME pattern and VERIFY chunks */

_Static_assert(SCSI_MAX_PENDING_TMFS <= 64, "a TMF slot is a bit of tmf_slots");

_Static_assert(REQ_HDR_SIZE == 51 && RESP_HDR_SIZE == 108,
	       "virtio-scsi header sizes with cdb 32 and sense 96");

/* Per-request state, kept in the request's private area. */
struct scsi_io {
	struct disk_req dr;
	struct scsi_dev *sd;
	struct scsi_lun *ln;
	struct iovec resp[RESP_PIECES];	/* where the response header goes */
	unsigned int nresp;
	struct iovec *data;		/* data-in or data-out, trimmed */
	unsigned int data_cnt;
	uint32_t data_len;		/* bytes of data[] the I/O moves */
	uint32_t resid;			/* buffer bytes the command leaves */
	uint64_t done;			/* bytes (or blocks) done so far */
	bool write;
	bool caw;			/* a COMPARE AND WRITE owning its LUN */
	bool caw_run;			/* counted in: it may start at once */
	bool overrun;			/* the buffers are short for the CDB */
	bool wce;			/* the LUN's WCE when it was parsed */
	bool is_caw;			/* its opcode is COMPARE AND WRITE */
	/* Under ln->mu, from the command's first look at its LUN on. */
	bool in_held;			/* in ln->held */
	uint8_t abort_resp;		/* a TMF aborted it while it waited */
	uint64_t seq;			/* its place in ln->held */
	struct scsi_link held_link;
	struct scsi_link wait_link;	/* ln->waiting, then an abort batch */
	uint32_t dout_len;		/* data-out bytes after the header */
	uint32_t din_len;		/* data-in bytes after the header */
	unsigned int round;		/* a TMF's round, 0 before it is ready */
	unsigned int tmf_slot;		/* a waiting TMF's in ln->tmf_mark[] */
	struct iovec one;		/* the bounce buffer, as an iovec */
	uint32_t chunk;			/* bytes of the bounce path's step */
	uint8_t *bounce;		/* WRITE SAME pattern, VERIFY chunk */
	uint32_t bounce_len;
	uint64_t tag;			/* the driver's id for the command */
	uint8_t cdb[SCSI_CDB_SIZE];
	struct scsi_cmd cmd;
};

static struct vq_req *io_req(struct scsi_io *io)
{
	return (struct vq_req *)((char *)io - VQ_REQ_HDR_SIZE);
}

/* ---- responses ------------------------------------------------------ */

static void respond(struct scsi_io *io, uint8_t response, uint32_t data_in)
{
	struct virtio_scsi_cmd_resp r;
	const struct scsi_cmd *c = &io->cmd;

	memset(&r, 0, sizeof(r));
	r.resid = htole32(io->resid);
	r.status = c->status;
	r.response = response;
	if (response == VIRTIO_SCSI_S_OK && c->status == SAM_CHECK_CONDITION) {
		scsi_build_sense(r.sense, c->key, c->asc);
		if (c->info_valid) {
			r.sense[0] |= 0x80;
			put_be32(r.sense + 3, c->info);
		}
		r.sense_len = htole32(SCSI_FIXED_SENSE_LEN);
	}
	iov_from_buf(io->resp, io->nresp, 0, &r, sizeof(r));
	free(io->bounce);
	io->bounce = NULL;
	virtq_push(io_req(io), RESP_HDR_SIZE + data_in);
}

static void run_caw(struct scsi_io *io);

/* ---- lists ------------------------------------------------------------ */

static void link_init(struct scsi_link *head)
{
	head->prev = head;
	head->next = head;
}

static bool list_empty(const struct scsi_link *head)
{
	return head->next == head;
}

static void link_add_tail(struct scsi_link *head, struct scsi_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void link_del(struct scsi_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

/* ---- threads ---------------------------------------------------------- */

static struct iothread *io_thread(struct scsi_io *io)
{
	return io_req(io)->vq->th;
}

static void wake_all(struct scsi_dev *sd)
{
	for (unsigned int i = 0; i < sd->nthreads; i++)
		iothread_wake(&sd->threads[i]);
}

static void wake_others(struct scsi_dev *sd, struct iothread *me)
{
	for (unsigned int i = 0; i < sd->nthreads; i++) {
		if (&sd->threads[i] != me)
			iothread_wake(&sd->threads[i]);
	}
}

/* With ln->mu held: tell the threads' wakes whether ln has work for them. */
static void set_pending(struct scsi_lun *ln)
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
 * answers for it.  True when a waiting TMF may now be ready: tmf_kick()
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

/* A TMF may be ready: have the control queue's thread look again. */
static void tmf_kick(struct scsi_dev *sd)
{
	struct iothread *th;

	__atomic_store_n(&sd->tmf_kicked, true, __ATOMIC_RELEASE);
	th = __atomic_load_n(&sd->tmf_th, __ATOMIC_ACQUIRE);
	if (th)
		iothread_wake(th);
}

/*
 * A command that ran I/O is over: answer it, then see who waited on it: a
 * COMPARE AND WRITE waiting for the LUN to be idle, the commands that the
 * one ending held back, a TMF.
 */
static void finish_io(struct scsi_io *io, uint32_t data_in)
{
	struct scsi_dev *sd = io->sd;
	struct scsi_lun *ln = io->ln;
	struct iothread *me = io_thread(io), *other = NULL;
	struct vq_req *caw = NULL;
	bool was_caw = io->caw, replay = false, kick;

	respond(io, VIRTIO_SCSI_S_OK, data_in);
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
			set_pending(ln);
			other = caw->vq->th;
			caw = NULL;
		}
	}
	pthread_mutex_unlock(&ln->mu);
	if (replay)
		wake_all(sd);
	if (other)
		iothread_wake(other);
	if (caw)
		run_caw(vq_req_priv(caw));
	if (kick)
		tmf_kick(sd);
}

/*
 * The host failed the command's I/O: CHECK CONDITION with the sense a disk
 * gives (SBC-4 4.18, SPC-5 4.4): an unreadable or unwritable medium is a
 * MEDIUM ERROR, a thin LU out of space is DATA PROTECT, SPACE ALLOCATION
 * FAILED WRITE PROTECT.  A failed READ delivers no data (the used length
 * is the response header's), so its residual is the whole data-in buffer,
 * as for a READ the command layer refuses; a command with data-out keeps
 * the residual of the buffer bytes beyond what it would have taken.
 */
static void fail_io(struct scsi_io *io, int err)
{
	struct scsi_cmd *c = &io->cmd;

	if (c->exec == SCSI_X_READ)
		io->resid += io->data_len;
	log_peer("LUN %u: %s of %" PRIu64 " blocks at LBA %" PRIu64 " failed: %s",
		 io->ln->lu.lun, io->write ? "write" : "read",
		 (uint64_t)c->nblocks, c->lba, strerror(-err));
	if (err == -EIO || err == -ENXIO)
		scsi_fail(c, SK_MEDIUM_ERROR, io->write ? ASC_WRITE_ERROR :
			  ASC_UNRECOVERED_READ_ERROR, NULL);
	else if (err == -ENOSPC)
		scsi_fail(c, SK_DATA_PROTECT, ASC_SPACE_ALLOC_FAILED_WP, NULL);
	else
		scsi_fail(c, SK_HARDWARE_ERROR, ASC_INTERNAL_TARGET_FAILURE, NULL);
	finish_io(io, 0);
}

/* ---- reads and writes ----------------------------------------------- */

static void rw_done(struct disk_req *r, int res);
static void bounce_done(struct disk_req *r, int res);

/* Can O_DIRECT take these buffers as they are? */
static bool iov_aligned(const struct iovec *iov, unsigned int cnt,
			uint32_t align)
{
	for (unsigned int i = 0; i < cnt; i++) {
		if ((uintptr_t)iov[i].iov_base % align || iov[i].iov_len % align)
			return false;
	}
	return true;
}

/* Writes that must be durable when they complete: FUA, or WCE off. */
static bool write_fua(const struct scsi_io *io)
{
	return io->cmd.fua || !io->wce;
}

/* The byte io->done bytes into the command's range. */
static uint64_t io_off(const struct scsi_io *io)
{
	return io->cmd.lba * io->ln->lu.lbs + io->done;
}

/* Read or write iov (cnt pieces, len bytes) at io->done into the range. */
static void transfer(struct scsi_io *io, bool write, struct iovec *iov,
		     unsigned int cnt, uint32_t len, disk_done_fn done)
{
	if (write)
		disk_write(&io->dr, iov, cnt, io_off(io), len, write_fua(io), done);
	else
		disk_read(&io->dr, iov, cnt, io_off(io), len, done);
}

/*
 * Read or write a chunk of len bytes at buf, at io->done bytes into the
 * command's range: the bounce-buffer paths' single step.
 */
static void queue_one(struct scsi_io *io, bool write, void *buf, uint32_t len,
		      disk_done_fn done)
{
	io->one.iov_base = buf;
	io->one.iov_len = len;
	io->chunk = len;
	transfer(io, write, &io->one, 1, len, done);
}

/* A block-aligned bounce buffer of len bytes; false (failed) if none. */
static bool alloc_bounce(struct scsi_io *io, uint32_t len)
{
	io->bounce_len = len;
	if (posix_memalign((void **)&io->bounce, 4096, len) == 0)
		return true;
	io->bounce = NULL;
	fail_io(io, -ENOMEM);
	return false;
}

/*
 * The next chunk of a read or write through the bounce buffer: for
 * O_DIRECT with guest buffers that are not block-aligned (data sharing a
 * descriptor with the response header, say).  Linux never sends those; the
 * virtio specification allows them.
 */
static void bounce_next(struct scsi_io *io)
{
	uint32_t n = MIN(io->data_len - (uint32_t)io->done, io->bounce_len);

	if (io->write)
		iov_to_buf(io->data, io->data_cnt, io->done, io->bounce, n);
	queue_one(io, io->write, io->bounce, n, bounce_done);
}

static void bounce_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	if (!io->write)
		iov_from_buf(io->data, io->data_cnt, io->done, io->bounce,
			     io->chunk);
	io->done += io->chunk;
	if (io->done < io->data_len) {
		bounce_next(io);
		return;
	}
	finish_io(io, io->write ? 0 : io->data_len);
}

static void start_rw(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;

	if (!ln->direct || iov_aligned(io->data, io->data_cnt, ln->lu.lbs)) {
		transfer(io, io->write, io->data, io->data_cnt, io->data_len,
			 rw_done);
		return;
	}
	if (alloc_bounce(io, MIN(io->data_len, BOUNCE_MAX)))
		bounce_next(io);
}

static void rw_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	finish_io(io, io->write ? 0 : io->data_len);
}

/* ---- SYNCHRONIZE CACHE -------------------------------------------------- */

static void flush_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	io->write = true;
	if (res < 0)
		fail_io(io, res);
	else
		finish_io(io, 0);
}

/* ---- UNMAP and zeroing WRITE SAME, extent by extent --------------------- */

static void extent_done(struct disk_req *r, int res);

static bool extent_at(struct scsi_io *io, unsigned int i, struct scsi_extent *e)
{
	if (io->cmd.exec == SCSI_X_UNMAP) {
		if (i >= io->cmd.nunmap)
			return false;
		*e = io->cmd.unmap_list[i];
		return true;
	}
	if (i > 0)
		return false;
	e->lba = io->cmd.lba;
	e->nblocks = io->cmd.nblocks;
	return true;
}

static void extent_next(struct scsi_io *io)
{
	uint32_t lbs = io->ln->lu.lbs;
	struct scsi_extent e;
	uint64_t off, len;

	if (!extent_at(io, io->done, &e)) {
		finish_io(io, 0);
		return;
	}
	off = e.lba * lbs;
	len = (uint64_t)e.nblocks * lbs;
	if (io->cmd.exec == SCSI_X_UNMAP)
		disk_discard(&io->dr, off, len, extent_done);
	else
		disk_write_zeroes(&io->dr, off, len, io->cmd.unmap, extent_done);
}

static void extent_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		io->write = true;
		fail_io(io, res);
		return;
	}
	io->done++;
	extent_next(io);
}

/* ---- WRITE SAME with a non-zero block: the pattern, a chunk at a time - */

static void pattern_done(struct disk_req *r, int res);

static void pattern_next(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;
	uint64_t total = (uint64_t)io->cmd.nblocks * ln->lu.lbs;
	uint64_t left = total - io->done;

	if (left == 0) {
		finish_io(io, 0);
		return;
	}
	queue_one(io, true, io->bounce,
		  (uint32_t)MIN(left, (uint64_t)io->bounce_len), pattern_done);
}

static void pattern_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	io->done += io->chunk;
	pattern_next(io);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static void start_write_same(struct scsi_io *io, const uint8_t *block)
{
	uint32_t lbs = io->ln->lu.lbs;

	io->write = true;
	if (io->cmd.ndob || all_zero(block, lbs)) {
		extent_next(io);
		return;
	}
	if (!alloc_bounce(io, (uint32_t)MIN((uint64_t)io->cmd.nblocks * lbs,
					    (uint64_t)BOUNCE_MAX)))
		return;
	for (uint32_t off = 0; off < io->bounce_len; off += lbs)
		memcpy(io->bounce + off, block, lbs);
	pattern_next(io);
}

/* ---- VERIFY with BYTCHK: read a chunk, compare with the data-out ------- */

static void verify_done(struct disk_req *r, int res);

static void verify_next(struct scsi_io *io)
{
	uint64_t left = io->data_len - io->done;

	if (left == 0) {
		finish_io(io, 0);
		return;
	}
	queue_one(io, false, io->bounce,
		  (uint32_t)MIN(left, (uint64_t)io->bounce_len / 2), verify_done);
}

static void verify_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);
	uint8_t *want = io->bounce + io->bounce_len / 2;

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	iov_to_buf(io->data, io->data_cnt, io->done, want, io->chunk);
	for (uint32_t i = 0; i < io->chunk; i++) {
		if (io->bounce[i] != want[i]) {
			/* INFORMATION: the offset of the first differing byte. */
			scsi_fail(&io->cmd, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, NULL);
			io->cmd.info_valid = true;
			io->cmd.info = (uint32_t)io->done + i;
			finish_io(io, 0);
			return;
		}
	}
	io->done += io->chunk;
	verify_next(io);
}

static void start_verify(struct scsi_io *io)
{
	if (alloc_bounce(io, 2 * MIN(io->data_len, BOUNCE_MAX / 2)))
		verify_next(io);
}

/* ---- WRITE AND VERIFY with BYTCHK: write a chunk, read it back, compare */

static void wv_written(struct disk_req *r, int res);
static void wv_read_back(struct disk_req *r, int res);

/*
 * The bounce buffer holds a chunk as written in its first half and as read
 * back in its second.  The chunk is copied from the data-out once, so what
 * is compared is what was written, whatever the guest does to its buffer.
 */
static void wv_next(struct scsi_io *io)
{
	uint32_t half = io->bounce_len / 2;
	uint32_t n = MIN(io->data_len - (uint32_t)io->done, half);

	if (n == 0) {
		finish_io(io, 0);
		return;
	}
	io->write = true;
	iov_to_buf(io->data, io->data_cnt, io->done, io->bounce, n);
	queue_one(io, true, io->bounce, n, wv_written);
}

static void wv_written(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	/* Durable now (FUA): read back what this pass wrote. */
	io->write = false;
	queue_one(io, false, io->bounce + io->bounce_len / 2, io->chunk,
		  wv_read_back);
}

static void wv_read_back(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);
	const uint8_t *back = io->bounce + io->bounce_len / 2;

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	for (uint32_t i = 0; i < io->chunk; i++) {
		if (io->bounce[i] != back[i]) {
			/* INFORMATION: the offset of the first differing byte. */
			scsi_fail(&io->cmd, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, NULL);
			io->cmd.info_valid = true;
			io->cmd.info = (uint32_t)io->done + i;
			finish_io(io, 0);
			return;
		}
	}
	io->done += io->chunk;
	wv_next(io);
}

static void start_write_verify(struct scsi_io *io)
{
	/* Both halves aligned for O_DIRECT. */
	uint32_t half = ALIGN_UP(MIN(io->data_len, BOUNCE_MAX / 2), 4096u);

	if (alloc_bounce(io, 2 * half))
		wv_next(io);
}

/* ---- COMPARE AND WRITE: read, compare with the first half, write ------ */

static void caw_read_done(struct disk_req *r, int res);

/* Run a COMPARE AND WRITE, already counted in the LUN's inflight. */
static void run_caw(struct scsi_io *io)
{
	io->caw = true;
	io->done = 0;
	if (alloc_bounce(io, io->data_len))
		queue_one(io, false, io->bounce, io->data_len / 2, caw_read_done);
}

static void caw_read_done(struct disk_req *r, int res)
{
	struct scsi_io *io = container_of(r, struct scsi_io, dr);
	uint32_t half = io->data_len / 2;
	uint8_t *want = io->bounce + half;

	if (res < 0) {
		fail_io(io, res);
		return;
	}
	iov_to_buf(io->data, io->data_cnt, 0, want, half);
	for (uint32_t i = 0; i < half; i++) {
		if (io->bounce[i] != want[i]) {
			scsi_fail(&io->cmd, SK_MISCOMPARE, ASC_MISCOMPARE_VERIFY, NULL);
			io->cmd.info_valid = true;
			io->cmd.info = i;
			finish_io(io, 0);
			return;
		}
	}
	/* The same blocks, from the second half of the data-out. */
	iov_discard_front(&io->data, &io->data_cnt, half);
	io->data_len = half;
	io->done = 0;
	io->write = true;
	free(io->bounce);
	io->bounce = NULL;
	start_rw(io);
}

/*
 * A TMF takes its mark on ln, the seq the LUN's next command will get, and
 * in the same critical section sets a reset's unit attention (ua, 0 for
 * none) and aborts the commands it affects that wait on ln: they are
 * older than the mark and never started, and every command that comes
 * later is newer and sees the unit attention.  Each aborted one is marked
 * and answered by its own thread (lun_wake()); a COMPARE AND WRITE still
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
		set_pending(ln);
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

		if (ln && (!tmf->ln || ln == tmf->ln))
			any |= lun_mark(ln, tmf, one, tag, response, ua);
	}
	if (any)
		wake_all(sd);
}

/* ---- request queues --------------------------------------------------- */

/* LUN number of a virtio-scsi address on target 0, or -1 (bad target). */
static int decode_lun(const uint8_t *l, bool *wlun)
{
	*wlun = false;
	if (l[0] == 0xc1 && l[1] == 0x01 && !l[2] && !l[3] && !l[4] &&
	    !l[5] && !l[6] && !l[7]) {
		*wlun = true;
		return 0;
	}
	if (l[0] != 1 || l[1] != 0 || l[4] || l[5] || l[6] || l[7])
		return -1;
	if (l[2] == 0xc1 && l[3] == 0x01) {	/* Linux's form of the WLUN */
		*wlun = true;
		return 0;
	}
	if ((l[2] & 0xc0) == 0x40)
		return (l[2] & 0x3f) << 8 | l[3];
	if (l[2] == 0)
		return l[3];
	return SCSI_MAX_LUNS;	/* another addressing method: no such LUN */
}

/* Slice [skip, skip + len) of an iovec array into out; false if it won't fit. */
static bool iov_slice(const struct iovec *iov, unsigned int cnt, size_t skip,
		      size_t len, struct iovec *out, unsigned int *n,
		      unsigned int max)
{
	*n = 0;
	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		if (*n == max)
			return false;
		take = MIN(iov[i].iov_len - skip, len);
		out[*n].iov_base = (char *)iov[i].iov_base + skip;
		out[(*n)++].iov_len = take;
		len -= take;
		skip = 0;
	}
	return len == 0;
}

/* Copy an emulated command's data-in to the guest and answer it. */
static void answer(struct scsi_io *io, const uint8_t *data, uint32_t din_len)
{
	struct scsi_cmd *c = &io->cmd;
	uint32_t n = MIN(MIN(c->data_len, c->xfer_in), din_len);

	if (c->status != SAM_GOOD)
		n = 0;
	iov_from_buf(io->data, io->data_cnt, 0, data, n);
	io->resid = din_len - n;
	respond(io, VIRTIO_SCSI_S_OK, n);
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

/* Start the I/O the command layer asked for (counted in already). */
static void start_io(struct scsi_io *io)
{
	uint32_t dout_len = io->dout_len, din_len = io->din_len;
	struct scsi_cmd *c = &io->cmd;
	uint32_t need = c->exec == SCSI_X_READ ? c->xfer_in : c->xfer_out;
	uint32_t have = c->exec == SCSI_X_READ ? din_len : dout_len;
	uint8_t block[4096];

	if (io->overrun) {
		/* The CDB wants more data than the buffers hold: OVERRUN. */
		log_peer("LUN %u: opcode 0x%02x: data buffer of %u bytes, the command transfers %u",
			 io->ln->lu.lun, c->cdb[0], have, need);
		c->status = SAM_GOOD;
		io->resid = c->exec == SCSI_X_READ ? din_len : dout_len;
		respond(io, VIRTIO_SCSI_S_OVERRUN, 0);
		return;
	}
	iov_discard_back(io->data, &io->data_cnt, have - need);
	io->data_len = need;
	io->resid = have - need;
	switch (c->exec) {
	case SCSI_X_READ:
	case SCSI_X_WRITE:
		io->write = c->exec == SCSI_X_WRITE;
		start_rw(io);
		break;
	case SCSI_X_FLUSH:
		disk_flush(&io->dr, flush_done);
		break;
	case SCSI_X_UNMAP:
		io->write = true;
		extent_next(io);
		break;
	case SCSI_X_WRITE_SAME:
		if (!c->ndob)
			iov_to_buf(io->data, io->data_cnt, 0, block, io->ln->lu.lbs);
		start_write_same(io, block);
		break;
	case SCSI_X_VERIFY:
		start_verify(io);
		break;
	case SCSI_X_WRITE_VERIFY:
		start_write_verify(io);
		break;
	case SCSI_X_COMPARE_WRITE:
		/* Atomic: it waits (in ln->caw) for what runs on the LUN. */
		if (io->caw_run)
			run_caw(io);
		break;
	default:
		scsi_fail(c, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, NULL);
		finish_io(io, 0);
		break;
	}
}

/* Run the command the command layer decided on; data is its data-in. */
static void dispatch(struct scsi_io *io, const uint8_t *data)
{
	struct scsi_cmd *c = &io->cmd;

	c->param = NULL;
	if (c->exec != SCSI_X_DONE) {
		start_io(io);
		return;
	}
	if (io->dout_len) {
		io->resid = io->dout_len - MIN(io->dout_len, c->xfer_out);
		respond(io, VIRTIO_SCSI_S_OK, 0);
	} else {
		answer(io, data, io->din_len);
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
 * command that waited, from lun_wake().  A command that waited is held
 * already; if it is answered at once (a unit attention, an overrun, a
 * refused CDB), it leaves ln->held only once that answer is recorded.
 */
static void exec_locked(struct scsi_dev *sd, struct scsi_io *io)
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
		tmf_kick(sd);
}

/* A command to the REPORT LUNS well-known LU or to no LUN: no state. */
static void exec_nolun(struct scsi_dev *sd, struct scsi_io *io, bool wlun,
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
static bool must_wait(const struct scsi_lun *ln, const struct scsi_io *io)
{
	return ln->exclusive || (io->is_caw && ln->nlive);
}

/*
 * With the LUN locked: park a command until the LUN's COMPARE AND WRITE is
 * over.  False if there is no room (the caller answers BUSY).
 */
static bool defer(struct scsi_io *io)
{
	struct scsi_lun *ln = io->ln;

	if (ln->nwaiting >= SCSI_MAX_DEFERRED)
		return false;
	hold(io);
	io->abort_resp = 0;
	link_add_tail(&ln->waiting, &io->wait_link);
	ln->nwaiting++;
	ln->nlive++;
	set_pending(ln);
	return true;
}

/* With the LUN locked: io leaves ln->waiting (it runs or is answered). */
static void unwait(struct scsi_lun *ln, struct scsi_io *io)
{
	link_del(&io->wait_link);
	ln->nwaiting--;
	if (!io->abort_resp)
		ln->nlive--;
	set_pending(ln);
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

		respond(io, io->abort_resp, 0);
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
		tmf_kick(sd);
}

/*
 * On thread th, after a wake: start th's COMPARE AND WRITE once the others
 * are done, answer th's commands on ln that a TMF aborted, run those the
 * end of a COMPARE AND WRITE let go, in order (one that takes the LUN
 * keeps the rest waiting).  A command is counted in under the same lock
 * that takes it out of ln->waiting, so a TMF always sees it somewhere.
 */
static void lun_wake(struct scsi_dev *sd, struct scsi_lun *ln,
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
		set_pending(ln);
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
		exec_locked(sd, io);
		pthread_mutex_lock(&ln->mu);
	}
	/* What ran may have let another thread's COMPARE AND WRITE go. */
	others = progress && ln->nlive && !ln->exclusive;
	pthread_mutex_unlock(&ln->mu);
	if (go)
		run_caw(vq_req_priv(go));
	answer_aborted(sd, ln, &aborted);
	if (others)
		wake_others(sd, th);
}

/* Where the data-in or data-out is: io->data, cut out of req's iovecs. */
static void locate_data(struct scsi_io *io, struct vq_req *req)
{
	struct iovec *dout = req->iov;
	unsigned int dout_cnt = req->out_num;

	iov_discard_front(&dout, &dout_cnt, REQ_HDR_SIZE);
	if (io->dout_len) {
		io->data = dout;
		io->data_cnt = dout_cnt;
	} else {
		io->data = req->iov + req->out_num;
		io->data_cnt = req->in_num;
		iov_discard_front(&io->data, &io->data_cnt, RESP_HDR_SIZE);
	}
}

static void handle_cmd(struct scsi_dev *sd, struct scsi_io *io,
		       struct vq_req *req)
{
	struct virtio_scsi_cmd_req hdr;
	struct scsi_cmd *c = &io->cmd;
	struct scsi_lun *ln;
	bool wlun;
	int lun;

	if (req->in_len < RESP_HDR_SIZE ||
	    !iov_slice(req->iov + req->out_num, req->in_num, 0, RESP_HDR_SIZE,
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
		respond(io, VIRTIO_SCSI_S_FAILURE, 0);
		return;
	}
	iov_to_buf(req->iov, req->out_num, 0, &hdr, REQ_HDR_SIZE);
	io->dout_len = req->out_len - REQ_HDR_SIZE;
	io->din_len = req->in_len - RESP_HDR_SIZE;
	if (io->dout_len && io->din_len &&
	    !(sd->features & BIT_ULL(VIRTIO_SCSI_F_INOUT))) {
		log_peer("vq %u: bidirectional command without VIRTIO_SCSI_F_INOUT",
			 req->vq->index);
		respond(io, VIRTIO_SCSI_S_FAILURE, 0);
		return;
	}
	lun = decode_lun(hdr.lun, &wlun);
	if (lun < 0) {
		respond(io, VIRTIO_SCSI_S_BAD_TARGET, 0);
		return;
	}
	/* Kept: a command that waits runs from these, not from the ring. */
	io->tag = le64toh(hdr.tag);
	memcpy(io->cdb, hdr.cdb, SCSI_CDB_SIZE);
	io->is_caw = io->cdb[0] == SCSI_OP_COMPARE_AND_WRITE;
	/* From here on the request's iovec array is cut up in place. */
	locate_data(io, req);
	ln = lun < SCSI_MAX_LUNS && !wlun ? sd->luns[lun] : NULL;
	if (!ln) {
		exec_nolun(sd, io, wlun, lun);
		return;
	}
	io->ln = ln;
	disk_req_init(&io->dr, &ln->disk, vq_engine(req->vq));
	pthread_mutex_lock(&ln->mu);
	if (!must_wait(ln, io)) {
		exec_locked(sd, io);
		return;
	}
	if (!defer(io)) {
		pthread_mutex_unlock(&ln->mu);
		c->status = SAM_BUSY;
		respond(io, VIRTIO_SCSI_S_OK, 0);
		return;
	}
	pthread_mutex_unlock(&ln->mu);
}

/* ---- control queue: task management and asynchronous notification ------ */

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

static void tmf_answer(struct scsi_io *io, uint8_t response)
{
	iov_from_buf(io->resp, io->nresp, 0, &response, 1);
	virtq_push(io_req(io), 1);
}

/*
 * Control queue's thread: the affected commands must be seen complete
 * before the TMF is.  Once they are all answered, every request queue's
 * completions are published (a round over the threads), then the TMF's.
 */
static void tmf_progress(struct scsi_dev *sd, struct iothread *me)
{
	unsigned int kept = 0, ready = 0, gen;

	if (sd->round_busy) {
		if (__atomic_load_n(&sd->round_left, __ATOMIC_ACQUIRE))
			return;
		sd->round_busy = false;
		gen = __atomic_load_n(&sd->round_gen, __ATOMIC_RELAXED);
		for (unsigned int i = 0; i < sd->ntmfs; i++) {
			struct scsi_io *io = vq_req_priv(sd->tmfs[i]);

			if (io->round == gen) {
				sd->tmf_slots &= ~(1ull << io->tmf_slot);
				tmf_answer(io, TMF_FUNCTION_COMPLETE);
			} else {
				sd->tmfs[kept++] = sd->tmfs[i];
			}
		}
		sd->ntmfs = kept;
	}
	/*
	 * A waiting TMF becomes ready only when a command leaves a held
	 * list, and each one that may let a TMF go kicks: look only then.
	 */
	if (!__atomic_load_n(&sd->tmf_kicked, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&sd->tmf_kicked, false, __ATOMIC_ACQ_REL))
		return;
	/* 0 means "not in a round": skip it when the count wraps. */
	gen = __atomic_load_n(&sd->round_gen, __ATOMIC_RELAXED) + 1;
	if (!gen)
		gen = 1;
	for (unsigned int i = 0; i < sd->ntmfs; i++) {
		struct scsi_io *io = vq_req_priv(sd->tmfs[i]);

		if (!io->round && tmf_ready(sd, io)) {
			io->round = gen;
			ready++;
		}
	}
	if (!ready)
		return;
	sd->round_busy = true;
	__atomic_store_n(&sd->round_left, sd->nthreads ? sd->nthreads - 1 : 0,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&sd->round_gen, gen, __ATOMIC_RELEASE);
	iothread_flush(me);
	for (unsigned int i = 0; i < sd->nthreads; i++) {
		if (&sd->threads[i] != me)
			iothread_wake(&sd->threads[i]);
	}
	if (sd->nthreads <= 1)
		tmf_progress(sd, me);	/* no one else to wait for */
}

/* A thread's part of a round: publish what it completed, say so. */
static void round_ack(struct scsi_dev *sd, struct iothread *th)
{
	unsigned int gen = __atomic_load_n(&sd->round_gen, __ATOMIC_ACQUIRE);

	if (th == __atomic_load_n(&sd->tmf_th, __ATOMIC_ACQUIRE) ||
	    th->id >= SCSI_MAX_THREADS || sd->acked[th->id] == gen)
		return;
	sd->acked[th->id] = gen;
	iothread_flush(th);
	if (__atomic_sub_fetch(&sd->round_left, 1, __ATOMIC_ACQ_REL) == 0)
		iothread_wake(sd->tmf_th);
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
	lun = decode_lun(t.lun, &wlun);
	if (lun < 0) {
		tmf_answer(io, VIRTIO_SCSI_S_BAD_TARGET);
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
			tmf_answer(io, VIRTIO_SCSI_S_INCORRECT_LUN);
			return;
		}
		break;
	default:	/* CLEAR_ACA: there is no ACA */
		tmf_answer(io, VIRTIO_SCSI_S_FUNCTION_REJECTED);
		return;
	}
	if (subtype == VIRTIO_SCSI_T_TMF_QUERY_TASK) {
		tmf_answer(io, lun_has_task(io->ln, le64toh(t.tag)) ?
			   VIRTIO_SCSI_S_FUNCTION_SUCCEEDED : TMF_FUNCTION_COMPLETE);
		return;
	}
	if (subtype == VIRTIO_SCSI_T_TMF_QUERY_TASK_SET) {
		tmf_answer(io, lun_busy(io->ln) ? VIRTIO_SCSI_S_FUNCTION_SUCCEEDED :
			   TMF_FUNCTION_COMPLETE);
		return;
	}
	/* Refused before it changes anything. */
	if (sd->ntmfs == SCSI_MAX_PENDING_TMFS) {
		tmf_answer(io, VIRTIO_SCSI_S_BUSY);
		return;
	}
	io->tmf_slot = (unsigned int)__builtin_ctzll(~sd->tmf_slots);
	sd->tmf_slots |= 1ull << io->tmf_slot;
	io->round = 0;
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
	tmf_progress(sd, req->vq->th);
}

static void handle_ctrl(struct scsi_dev *sd, struct scsi_io *io,
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
	    !iov_slice(req->iov + req->out_num, req->in_num, 0,
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

/* ---- event queue ------------------------------------------------------ */

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

static void handle_event_buf(struct scsi_dev *sd, struct vq_req *req)
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
static void post_rescan_events(struct scsi_dev *sd)
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

static void scsi_poke(void *ctx, struct virtq *vq)
{
	if (vq->index == SCSI_EVENT_VQ)
		post_rescan_events(ctx);
}

/* I/O thread, after iothread_wake(): the cross-thread work. */
static void scsi_wake(void *ctx, struct iothread *th)
{
	struct scsi_dev *sd = ctx;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		if (sd->luns[i])
			lun_wake(sd, sd->luns[i], th);
	}
	round_ack(sd, th);
	if (th == __atomic_load_n(&sd->tmf_th, __ATOMIC_ACQUIRE))
		tmf_progress(sd, th);
}

/*
 * Control thread, SIGHUP: has a LUN's backing store changed size?  The new
 * size and the unit attention take effect at once; the event is posted by
 * the event queue's thread, which the core wakes next.  The config space
 * is QEMU's own, so the core has nothing to signal.
 */
static bool scsi_rescan(void *ctx)
{
	struct scsi_dev *sd = ctx;
	bool any = false;

	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		struct scsi_lun *ln = sd->luns[i];
		uint64_t before, after;
		int ret;

		if (!ln)
			continue;
		before = ln->bk.size / ln->bk.lbs;
		ret = backing_refresh_size(&ln->bk);
		if (ret < 0) {
			log_err("LUN %u: cannot read the size of %s: %s", i,
				ln->path, strerror(-ret));
			continue;
		}
		after = ln->bk.size / ln->bk.lbs;
		if (after == before)
			continue;
		if (after == 0) {
			log_err("LUN %u: %s is now smaller than one block; its size stays %" PRIu64 " blocks",
				i, ln->path, before);
			ln->bk.size = before * ln->bk.lbs;
			continue;
		}
		log_info("LUN %u: capacity changed from %" PRIu64 " to %" PRIu64 " blocks",
			 i, before, after);
		pthread_mutex_lock(&ln->mu);
		ln->lu.nblocks = after;
		ln->lu.pending_ua = ASC_CAPACITY_CHANGED;
		pthread_mutex_unlock(&ln->mu);
		__atomic_store_n(&ln->event_pending, true, __ATOMIC_RELEASE);
		any = true;
	}
	if (any)
		__atomic_store_n(&sd->rescan_pending, true, __ATOMIC_RELEASE);
	return false;
}

/*
 * Give the held event buffers back with NO_EVENT: the queue stops.  The
 * core asks every draining queue; only the event queue holds buffers, and
 * events[] belongs to its thread, so the others must not touch it (another
 * thread rewriting it while the event thread adds a buffer would lose or
 * duplicate one).
 */
static void scsi_release_held(void *ctx, struct virtq *vq)
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

/* ---- entry point ------------------------------------------------------ */

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
	io->round = 0;
	switch (req->vq->index) {
	case SCSI_CTRL_VQ:
		handle_ctrl(sd, io, req);
		break;
	case SCSI_EVENT_VQ:
		handle_event_buf(sd, req);
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
	.req_priv_size = sizeof(struct scsi_io),
};

/* ---- LUNs ------------------------------------------------------------ */

/* FNV-1a: a stable hash of the LUN's backing path and number. */
static uint64_t fnv1a(const char *s, unsigned int lun)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	h = (h ^ lun) * 0x100000001b3ull;
	return h;
}

static void set_identity(struct scsi_lun *ln, const struct scsi_lun_opts *o)
{
	char real[PATH_MAX];
	const char *p = realpath(o->path, real) ? real : o->path;

	/* NAA 3 (locally assigned): stable for the same file and LUN. */
	ln->lu.naa = (3ull << 60) | (fnv1a(p, o->lun) >> 4);
	if (o->serial)
		snprintf(ln->lu.serial, sizeof(ln->lu.serial), "%s", o->serial);
	else
		snprintf(ln->lu.serial, sizeof(ln->lu.serial), "%015" PRIx64,
			 (uint64_t)(ln->lu.naa & 0x0fffffffffffffffull));
}

int scsi_dev_add_lun(struct scsi_dev *sd, const struct scsi_lun_opts *o)
{
	struct backing_opts bo = {
		.path = o->path,
		.read_only = o->read_only,
		.direct = cache_mode_direct(o->cache),
		.lbs = o->lbs,
	};
	struct scsi_lun *ln;

	if (o->lun >= SCSI_MAX_LUNS || sd->luns[o->lun]) {
		log_err("LUN %u is %s", o->lun, o->lun >= SCSI_MAX_LUNS ?
			"out of range (0-255)" : "given twice");
		return -1;
	}
	ln = calloc(1, sizeof(*ln));
	if (!ln || !(ln->path = strdup(o->path))) {
		free(ln);
		log_err("out of memory");
		return -1;
	}
	if (backing_open(&ln->bk, &bo) < 0 ||
	    image_lock_init(&ln->lock, ln->bk.fd, o->path, o->read_only,
			    o->locking) < 0) {
		backing_close(&ln->bk);
		free(ln->path);
		free(ln);
		return -1;
	}
	ln->direct = bo.direct;
	ln->cache = o->cache;
	pthread_mutex_init(&ln->mu, NULL);
	link_init(&ln->held);
	link_init(&ln->waiting);
	disk_init(&ln->disk, &ln->bk);
	ln->lu.lun = o->lun;
	ln->lu.lbs = ln->bk.lbs;
	ln->lu.pbs = ln->bk.pbs;
	ln->lu.nblocks = ln->bk.size / ln->bk.lbs;
	ln->lu.opt_blocks = ln->bk.opt_io / ln->bk.lbs;
	ln->lu.read_only = o->read_only;
	ln->lu.thin = !o->read_only && ln->bk.can_punch;
	/* A punched hole in a file reads as zeros; a discarded device may not. */
	ln->lu.lbprz = ln->lu.thin && !ln->bk.is_blkdev;
	/* The cache mode gives WCE at start-up; MODE SELECT may change it. */
	ln->lu.wce_default = cache_mode_wce(o->cache);
	ln->lu.wce = ln->lu.wce_default;
	ln->lu.pending_ua = ASC_POWER_ON_RESET;
	set_identity(ln, o);
	sd->luns[o->lun] = ln;
	sd->files[sd->nfiles++] = ln->bk.fd;
	/* REPORT LUNS lists them in increasing order. */
	sd->target.nluns = 0;
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		if (sd->luns[i])
			sd->target.luns[sd->target.nluns++] = i;
	}
	return 0;
}

void scsi_dev_close(struct scsi_dev *sd)
{
	for (unsigned int i = 0; i < SCSI_MAX_LUNS; i++) {
		struct scsi_lun *ln = sd->luns[i];

		if (!ln)
			continue;
		image_lock_fini(&ln->lock);
		backing_close(&ln->bk);
		pthread_mutex_destroy(&ln->mu);
		free(ln->path);
		free(ln);
		sd->luns[i] = NULL;
	}
	sd->nfiles = 0;
	sd->target.nluns = 0;
}

void scsi_dev_set_threads(struct scsi_dev *sd, struct iothread *threads,
			  unsigned int n)
{
	sd->threads = threads;
	sd->nthreads = MIN(n, (unsigned int)SCSI_MAX_THREADS);
}
