// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-scsi-dev.c: scsi/scsi_dev.c on its own, in one thread, with the
 * rest of the daemon replaced by stand-ins: I/O threads that are plain
 * structs (a wake only raises the flag the loop would look at), an engine
 * per thread that keeps each operation until the test completes it (then
 * does the real I/O on a scratch image), and a virtq_push() that records
 * every answer and whether the LUN still held the command then.  The test
 * plays each thread's part in turn, so the interleavings that matter are
 * made exactly, not hoped for: during a TMF, another thread's work runs
 * at each point where the control queue's thread takes the LUN's lock.
 *
 * The file includes the controller's files (scsi_dev.c and the files it
 * is split into) to reach their static functions; the scsi_cmd layer,
 * iov.c, log.c, backing.c and disk_io.c are the real ones.
 */
#include <pthread.h>

static int test_mutex_lock(pthread_mutex_t *m);
#define pthread_mutex_lock(m) test_mutex_lock(m)
#include "scsi_resp.c"
#include "scsi_taskset.c"
#include "scsi_io.c"
#include "scsi_tmf.c"
#include "scsi_event.c"
#include "scsi_lun.c"
#include "scsi_dev.c"
#undef pthread_mutex_lock

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include "tap.h"

#define LBS		512u
#define IMG_SIZE	(1u << 20)
#define NREQ		32
#define MAX_OPS		64
#define NO_TAG		0xdeadull

/* ---- stand-ins ------------------------------------------------------ */

/*
 * The hook: while hook_mu is set, the hook_at-th taking of it (from 1)
 * first runs hook_fn, as another thread would just before this one gets
 * the lock.  Takings made by hook_fn itself are not counted.
 */
static pthread_mutex_t *hook_mu;
static int hook_at, hook_count;
static bool hook_fired, in_hook;
static void (*hook_fn)(void);

static int test_mutex_lock(pthread_mutex_t *m)
{
	if (m == hook_mu && !in_hook && ++hook_count == hook_at) {
		in_hook = true;
		hook_fn();
		in_hook = false;
		hook_fired = true;
	}
	return pthread_mutex_lock(m);
}

struct fake_eng {
	struct io_engine e;
	struct io_op *ops[MAX_OPS];
	unsigned int n;
	bool overflow;
};

static void fe_queue(struct io_engine *e, struct io_op *op)
{
	struct fake_eng *fe = container_of(e, struct fake_eng, e);

	if (fe->n == MAX_OPS) {
		fe->overflow = true;
		return;
	}
	fe->ops[fe->n++] = op;
}

static const struct io_engine_ops fe_ops = { .queue = fe_queue };

static struct fake_eng eng[2];
static struct iothread th[2];
static struct iothread_group group;
static struct virtq vq[4];
static struct scsi_dev sd;
static char img[2][64];

/* A request with its buffers, and what virtq_push() saw of it. */
struct treq {
	union {
		struct vq_req req;
		uint8_t raw[VQ_REQ_HDR_SIZE + sizeof(struct scsi_io)];
	} u __attribute__((aligned(64)));
	struct virtio_scsi_cmd_req hdr;
	struct virtio_scsi_cmd_resp resp;
	struct virtio_scsi_ctrl_tmf_req tmf;
	uint8_t tmf_resp;
	struct virtio_scsi_event ev;
	int pushed;		/* how many times */
	int rank;		/* its place among all answers, from 1 */
	bool held_at_push;	/* its LUN still held it when it was answered */
	uint8_t data[8192];	/* last: req_init() leaves it alone */
};

static struct treq reqs[NREQ];
static int push_rank;
static int stray_pushes;

/*
 * Publishing, as the stand-in threads do it: iothread_flush(t) publishes
 * what t recorded.  unpub[t] is the rank of t's oldest answer not yet
 * published (0: none); round_rank is push_rank when thread 0, the control
 * queue's, last published: a TMF's publish round starts so.  tmf_early
 * counts TMFs answered after a round while the other thread still kept
 * back an answer it recorded before the round began.
 */
static int unpub[2], round_rank, round_tmfs, tmf_early;

void virtq_push(struct vq_req *req, uint32_t len)
{
	struct treq *t = container_of(req, struct treq, u.req);
	struct scsi_io *io = vq_req_priv(req);

	(void)len;
	if (t < reqs || t >= reqs + NREQ) {
		stray_pushes++;
		return;
	}
	t->pushed++;
	t->rank = ++push_rank;
	if (req->vq->index == SCSI_CTRL_VQ && io->in_round) {
		unsigned int other = 1 - req->vq->th->id;

		round_tmfs++;
		tmf_early += unpub[other] && unpub[other] <= round_rank;
	}
	if (!unpub[req->vq->th->id])
		unpub[req->vq->th->id] = t->rank;
	t->held_at_push = req->vq->index >= SCSI_FIRST_REQ_VQ && io->ln &&
			  io->in_held;
}

void virtq_abandon(struct vq_req *req)
{
	(void)req;
	stray_pushes++;
}

void virtq_set_broken(struct virtq *q, const char *fmt, ...)
{
	(void)q;
	(void)fmt;
	stray_pushes++;
}

void iothread_wake(struct iothread *t)
{
	t->wake = true;
}

/* No QoS limits here: nothing ever waits on a deadline. */
void iothread_arm_read(struct iothread *t, struct io_op *op, int fd,
		       io_done_fn done, bool *armed)
{
	(void)t;
	(void)op;
	(void)fd;
	(void)done;
	*armed = false;
}

void iothread_flush(struct iothread *t)
{
	unpub[t->id] = 0;
	if (t->id == 0)
		round_rank = push_rank;
}

/* ---- playing the threads -------------------------------------------- */

/*
 * Thread i's wake, if some thread asked for it: run_wake() in iothread.c,
 * with the real publish rounds of iothread_group.c.
 */
static bool run_wake_of(unsigned int i)
{
	if (!th[i].wake)
		return false;
	th[i].wake = false;
	scsi_wake(&sd, &th[i]);
	iothread_round_wake(&th[i]);
	return true;
}

static void run_wakes(void)
{
	for (bool any = true; any;) {
		any = run_wake_of(0);
		any |= run_wake_of(1);
	}
}

/* Complete thread i's first queued operation, doing its I/O for real. */
static bool complete_one(unsigned int i)
{
	struct fake_eng *fe = &eng[i];
	struct io_op *op;
	ssize_t r;

	if (!fe->n)
		return false;
	op = fe->ops[0];
	memmove(fe->ops, fe->ops + 1, --fe->n * sizeof(*fe->ops));
	switch (op->opcode) {
	case IO_OP_READV:
		r = preadv(op->fd, op->iov, (int)op->iovcnt, (off_t)op->off);
		break;
	case IO_OP_WRITEV:
		r = pwritev(op->fd, op->iov, (int)op->iovcnt, (off_t)op->off);
		break;
	case IO_OP_FDATASYNC:
		r = fdatasync(op->fd);
		break;
	default:
		r = -1;
		errno = EOPNOTSUPP;
		break;
	}
	op->done(op, r < 0 ? -errno : (int)r);
	return true;
}

/* Let everything run to the end: I/O, wakes, rounds. */
static void settle(void)
{
	for (bool any = true; any;) {
		run_wakes();
		any = complete_one(0);
		any |= complete_one(1);
	}
	run_wakes();
}

/* ---- the driver's side ---------------------------------------------- */

static void req_init(struct treq *t, unsigned int q)
{
	memset(t, 0, offsetof(struct treq, data));
	t->u.req.vq = &vq[q];
	t->u.req.iov = t->u.req.inline_iov;
	memset(&t->resp, 0xff, sizeof(t->resp));
	t->tmf_resp = 0xff;
}

/* A command on request vq q (2 or 3): dout or din bytes of t->data. */
static struct treq *cmd(unsigned int slot, unsigned int q, unsigned int lun,
			const uint8_t *cdb, unsigned int cdb_len,
			uint32_t dout, uint32_t din)
{
	struct treq *t = &reqs[slot];
	struct vq_req *r = &t->u.req;
	unsigned int n = 0;

	req_init(t, q);
	t->hdr.lun[0] = 1;
	t->hdr.lun[3] = (uint8_t)lun;
	t->hdr.tag = htole64(slot);
	memcpy(t->hdr.cdb, cdb, cdb_len);
	r->iov[n++] = (struct iovec){ &t->hdr, sizeof(t->hdr) };
	if (dout)
		r->iov[n++] = (struct iovec){ t->data, dout };
	r->out_num = (uint16_t)n;
	r->out_len = (uint32_t)sizeof(t->hdr) + dout;
	r->iov[n++] = (struct iovec){ &t->resp, sizeof(t->resp) };
	if (din)
		r->iov[n++] = (struct iovec){ t->data, din };
	r->in_num = (uint16_t)(n - r->out_num);
	r->in_len = (uint32_t)sizeof(t->resp) + din;
	scsi_handle(&sd, r);
	return t;
}

static struct treq *tur(unsigned int slot, unsigned int q, unsigned int lun)
{
	static const uint8_t cdb[6] = { 0x00 };

	return cmd(slot, q, lun, cdb, sizeof(cdb), 0, 0);
}

/* READ(10) of `blocks' blocks at lba into a din buffer of din bytes. */
static struct treq *read10(unsigned int slot, unsigned int q, unsigned int lun,
			   uint32_t lba, uint16_t blocks, uint32_t din)
{
	uint8_t cdb[10] = { 0x28 };

	put_be32(cdb + 2, lba);
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
	return cmd(slot, q, lun, cdb, sizeof(cdb), 0, din);
}

/* COMPARE AND WRITE of one block at lba: compare with old, write new. */
static struct treq *caw(unsigned int slot, unsigned int q, uint32_t lba,
			uint8_t old, uint8_t new)
{
	uint8_t cdb[16] = { 0x89 };

	cdb[9] = (uint8_t)lba;
	cdb[8] = (uint8_t)(lba >> 8);
	cdb[13] = 1;
	memset(reqs[slot].data, old, LBS);
	memset(reqs[slot].data + LBS, new, LBS);
	return cmd(slot, q, 0, cdb, sizeof(cdb), 2 * LBS, 0);
}

static struct treq *tmf(unsigned int slot, uint32_t subtype, unsigned int lun,
			uint64_t tag)
{
	struct treq *t = &reqs[slot];
	struct vq_req *r = &t->u.req;

	req_init(t, SCSI_CTRL_VQ);
	t->tmf.type = htole32(VIRTIO_SCSI_T_TMF);
	t->tmf.subtype = htole32(subtype);
	t->tmf.lun[0] = 1;
	t->tmf.lun[3] = (uint8_t)lun;
	t->tmf.tag = htole64(tag);
	r->iov[0] = (struct iovec){ &t->tmf, sizeof(t->tmf) };
	r->iov[1] = (struct iovec){ &t->tmf_resp, 1 };
	r->out_num = 1;
	r->in_num = 1;
	r->out_len = sizeof(t->tmf);
	r->in_len = 1;
	scsi_handle(&sd, r);
	return t;
}

static struct treq *event_buf(unsigned int slot)
{
	struct treq *t = &reqs[slot];
	struct vq_req *r = &t->u.req;

	req_init(t, SCSI_EVENT_VQ);
	r->iov[0] = (struct iovec){ &t->ev, sizeof(t->ev) };
	r->in_num = 1;
	r->in_len = sizeof(t->ev);
	scsi_handle(&sd, r);
	return t;
}

static bool good(const struct treq *t)
{
	return t->pushed == 1 && t->resp.response == VIRTIO_SCSI_S_OK &&
	       t->resp.status == SAM_GOOD;
}

/* Answered CHECK CONDITION, UNIT ATTENTION with this asc/ascq? */
static bool got_ua(const struct treq *t, uint16_t asc)
{
	return t->pushed == 1 && t->resp.response == VIRTIO_SCSI_S_OK &&
	       t->resp.status == SAM_CHECK_CONDITION &&
	       (t->resp.sense[2] & 0xf) == SK_UNIT_ATTENTION &&
	       t->resp.sense[12] == asc >> 8 && t->resp.sense[13] == (asc & 0xff);
}

static const char *what(const struct treq *t)
{
	static char buf[8][96];
	static unsigned int next;
	char *b = buf[next++ % 8];

	snprintf(b, sizeof(buf[0]), "answered %d time(s), response %u status 0x%x sense %x/%02x/%02x",
		 t->pushed, t->resp.response, t->resp.status,
		 t->resp.sense[2] & 0xf, t->resp.sense[12], t->resp.sense[13]);
	return b;
}

/* ---- the device ------------------------------------------------------ */

static void make_image(char *path)
{
	int fd;

	strcpy(path, "/tmp/test-scsi-dev.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, IMG_SIZE) < 0)
		exit(99);
	close(fd);
}

/* A fresh device with nluns LUNs on 2 threads, power-on attentions taken. */
static void setup(unsigned int nluns)
{
	scsi_dev_close(&sd);
	memset(&sd, 0, sizeof(sd));
	memset(eng, 0, sizeof(eng));
	memset(th, 0, sizeof(th));
	memset(vq, 0, sizeof(vq));
	memset(&group, 0, sizeof(group));
	group.th = th;
	group.n = 2;
	for (unsigned int i = 0; i < 2; i++) {
		eng[i].e.ops = &fe_ops;
		eng[i].e.name = "fake";
		th[i].id = i;
		th[i].group = &group;
		th[i].ops = &scsi_dev_ops;
		th[i].ctx = &sd;
		th[i].eng = &eng[i].e;
	}
	for (unsigned int i = 0; i < 4; i++) {
		vq[i].index = i;
		vq[i].th = &th[i % 2];
	}
	for (unsigned int i = 0; i < nluns; i++) {
		struct scsi_lun_opts o = {
			.lun = i, .path = img[i], .cache = CACHE_WRITEBACK,
		};
		int fd = open(img[i], O_WRONLY);

		/* Zeros again: each case's COMPARE AND WRITE expects them. */
		if (fd < 0 || ftruncate(fd, 0) < 0 || ftruncate(fd, IMG_SIZE) < 0)
			exit(99);
		close(fd);
		if (scsi_dev_add_lun(&sd, &o) < 0)
			exit(99);
	}
	push_rank = 0;
	round_rank = 0;
	memset(unpub, 0, sizeof(unpub));
	for (unsigned int i = 0; i < nluns; i++) {
		tur(NREQ - 1, 2, i);
		settle();
	}
}

/* ---- reset against a command let go by a COMPARE AND WRITE ----------- */

/*
 * Slots: 1 the CAW (thread 0), 2 the command W that waits behind it
 * (thread 1), 3 the command N that the hook sends (thread 1), 4 the
 * LOGICAL UNIT RESET, 5 and 6 test commands after it.
 */
static bool hook_sends;	/* the hook sends N; else it runs thread 1's wake */
static int held_fail = -1;	/* the first point where W left held early */

static void other_thread(void)
{
	if (hook_sends)
		read10(3, 3, 0, 64, 1, LBS);
	else
		run_wake_of(1);
}

/*
 * The CAW ends (its thread takes W off no list: W is thread 1's), and the
 * reset comes while thread 1 has yet to run W.  Thread 1's wake, or a new
 * command N of thread 1, runs at the hook_at-th point where the reset's
 * thread takes the LUN's lock.  Whatever the point: W was sent before the
 * reset, so it is aborted (RESET) or runs as it would have without the
 * reset (GOOD), never taking the unit attention; N either counts as older
 * (the reset waits for it) or newer (it takes the unit attention); the
 * attention goes to exactly one command after the reset; and W is in the
 * LUN's held list until its answer is recorded.
 */
static bool reset_vs_replay(int at, bool sends, char *why, size_t len)
{
	struct treq *c, *w, *n = &reqs[3], *t, *x, *y;
	struct scsi_lun *ln;

	setup(1);
	ln = sd.luns[0];
	hook_sends = sends;
	c = caw(1, 2, 8, 0x00, 0x5a);
	w = tur(2, 3, 0);
	n->pushed = 0;
	/* The CAW's read, then its write: it ends, W may go. */
	while (complete_one(0))
		;
	if (!good(c) || w->pushed) {
		snprintf(why, len, "set-up: CAW %s, W answered %d", what(c), w->pushed);
		return false;
	}
	th[0].wake = false;	/* the CAW's own thread has nothing to do */
	hook_mu = &ln->mu;
	hook_at = at;
	hook_count = 0;
	hook_fired = false;
	hook_fn = other_thread;
	if (at == 0) {
		other_thread();
		hook_fired = true;
	}
	t = tmf(4, VIRTIO_SCSI_T_TMF_LOGICAL_UNIT_RESET, 0, 0);
	hook_mu = NULL;
	if (!hook_fired) {
		/* Past the last lock: the other thread runs after the TMF. */
		other_thread();
	}
	settle();
	x = tur(5, 2, 0);
	y = tur(6, 3, 0);
	settle();
	if (t->pushed != 1 || t->tmf_resp != TMF_FUNCTION_COMPLETE) {
		snprintf(why, len, "the reset answered %d time(s), response %u",
			 t->pushed, t->tmf_resp);
		return false;
	}
	if (!(good(w) || (w->pushed == 1 && w->resp.response == VIRTIO_SCSI_S_RESET))) {
		snprintf(why, len, "W, sent before the reset: %s (want GOOD or RESET)", what(w));
		return false;
	}
	if (!w->held_at_push && held_fail < 0)
		held_fail = at;
	if (sends) {
		bool older = good(n) && n->rank < t->rank;

		if (!older && !got_ua(n, 0x2903)) {
			snprintf(why, len, "N: %s, answered %s the reset: neither older than it nor given its unit attention",
				 what(n), n->rank < t->rank ? "before" : "after");
			return false;
		}
		if (!older) {
			if (!good(x) || !good(y)) {
				snprintf(why, len, "N took the attention, yet after it: %s; %s", what(x), what(y));
				return false;
			}
			return true;
		}
	}
	if (!got_ua(x, 0x2903) || !good(y)) {
		snprintf(why, len, "the first command after the reset: %s (want 29h/03h); the second: %s",
			 what(x), what(y));
		return false;
	}
	if (stray_pushes || eng[0].overflow || eng[1].overflow) {
		snprintf(why, len, "an answer for a request never posted, or the engine overflowed");
		return false;
	}
	return true;
}

static void test_reset_vs_replay(bool sends)
{
	char why[256] = "", now[256];
	bool pass = true;
	int at, fail_at = -1;

	held_fail = -1;
	/* Until the hook no longer fires: then it ran after the TMF. */
	for (at = 0;; at++) {
		if (!reset_vs_replay(at, sends, now, sizeof(now)) && pass) {
			pass = false;
			fail_at = at;
			memcpy(why, now, sizeof(why));
		}
		if (!hook_fired)
			break;
	}
	if (!ok(pass, "LOGICAL UNIT RESET while thread 1 %s, at each of %d points: W aborted or run without the attention, the attention once, to the first command after",
		sends ? "sends a new command" : "runs a command a COMPARE AND WRITE let go",
		at + 1))
		tap_diag("at point %d: %s", fail_at, why);
	if (!sends)
		ok(held_fail < 0, "W, let go by the COMPARE AND WRITE, stays in the LUN's held list until its answer is recorded (first failure at point %d)",
		   held_fail);
}

/* ---- a command answered at once after waiting -------------------------- */

/*
 * A read whose buffer is too short for it (OVERRUN) waits behind a
 * COMPARE AND WRITE on the other thread; let go, it is answered at once.
 * The LUN must still hold it when its answer is recorded (scsi_dev.h).
 */
static void test_answered_at_once_held(void)
{
	struct treq *c, *r;

	setup(1);
	c = caw(1, 2, 8, 0x00, 0x33);
	r = read10(2, 3, 0, 16, 2, LBS);	/* two blocks into one */
	settle();
	if (!ok(good(c) && r->pushed == 1 && r->resp.response == VIRTIO_SCSI_S_OVERRUN &&
		r->held_at_push && list_empty(&sd.luns[0]->held),
		"a waiting read answered OVERRUN at once: still held when answered, gone after"))
		tap_diag("CAW %s; read %s, held when answered %d", what(c), what(r),
			 r->held_at_push);
}

/* ---- I_T NEXUS RESET: a mark on each LUN --------------------------------- */

/*
 * A read held on LUN 1; I_T NEXUS RESET; on LUN 0 a command after it
 * takes the unit attention, the next one runs.  The reset waits for LUN
 * 1's read, not for the later read on LUN 0; every LUN reports 29h/07h
 * once.
 */
static void test_nexus_reset_marks(void)
{
	struct treq *r1, *t, *a0, *b0, *x1, *y1;
	bool pass;

	setup(2);
	r1 = read10(1, 3, 1, 0, 1, LBS);
	t = tmf(2, VIRTIO_SCSI_T_TMF_I_T_NEXUS_RESET, 0, 0);
	run_wakes();
	a0 = read10(3, 2, 0, 0, 1, LBS);
	b0 = read10(4, 2, 0, 0, 1, LBS);
	run_wakes();
	pass = !t->pushed && got_ua(a0, 0x2907) && !b0->pushed;
	/* LUN 1's read completes: the reset may go, LUN 0's read is held. */
	complete_one(1);
	run_wakes();
	pass &= t->pushed == 1 && t->tmf_resp == TMF_FUNCTION_COMPLETE &&
		good(r1) && !b0->pushed && r1->rank < t->rank;
	settle();
	x1 = tur(5, 3, 1);
	y1 = tur(6, 2, 1);
	settle();
	if (!ok(pass && good(b0) && got_ua(x1, 0x2907) && good(y1),
		"I_T NEXUS RESET waits for an older read on LUN 1, not a newer one on LUN 0; each LUN's attention once"))
		tap_diag("LUN 1 read %s; reset %d (%u); LUN 0: %s, %s; LUN 1 after: %s, %s",
			 what(r1), t->pushed, t->tmf_resp, what(a0), what(b0),
			 what(x1), what(y1));
}

/* ---- QUERY TASK ---------------------------------------------------------- */

static uint8_t query(unsigned int slot, uint32_t subtype, uint64_t tag)
{
	struct treq *t = tmf(slot, subtype, 0, tag);

	return t->pushed == 1 ? t->tmf_resp : 0xee;
}

/*
 * Read R (tag 1, thread 0) runs; COMPARE AND WRITE C (tag 2, thread 1)
 * waits for it; TUR W (tag 3, thread 0) waits behind C; ABORT TASK of W
 * marks it, its thread not yet having answered it.  QUERY TASK finds R,
 * C (waiting, then let go to its thread and not yet started) and W until
 * it is aborted; never an unknown tag; QUERY TASK SET finds something
 * until all is done.
 */
static void test_query_task(void)
{
	const uint8_t yes = VIRTIO_SCSI_S_FUNCTION_SUCCEEDED, no = TMF_FUNCTION_COMPLETE;
	uint8_t q[12];
	struct treq *r, *c, *w, *a;

	setup(1);
	q[0] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, 0);
	r = read10(1, 2, 0, 0, 1, LBS);
	q[1] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 1);
	q[2] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, NO_TAG);
	q[3] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, 0);
	c = caw(2, 3, 8, 0x00, 0x77);
	w = tur(3, 2, 0);
	run_wakes();
	q[4] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 2);
	q[5] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 3);
	a = tmf(11, VIRTIO_SCSI_T_TMF_ABORT_TASK, 0, 3);
	/* W is marked; thread 0, which answers it, has not run. */
	q[6] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 3);
	q[7] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, 0);
	/* R completes on thread 0: C is let go to thread 1, not yet run. */
	complete_one(0);
	q[8] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 2);
	q[9] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 1);
	settle();
	q[10] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK, 2);
	q[11] = query(10, VIRTIO_SCSI_T_TMF_QUERY_TASK_SET, 0);
	if (!ok(q[0] == no && q[1] == yes && q[2] == no && q[3] == yes &&
		q[4] == yes && q[5] == yes && q[6] == no && q[7] == yes &&
		q[8] == yes && q[9] == no && q[10] == no && q[11] == no &&
		good(r) && good(c) && w->pushed == 1 &&
		w->resp.response == VIRTIO_SCSI_S_ABORTED && a->pushed == 1 &&
		a->tmf_resp == TMF_FUNCTION_COMPLETE,
		"QUERY TASK finds running, waiting and let-go commands by tag, not an aborted one nor an unknown tag; QUERY TASK SET any"))
		tap_diag("answers %u %u %u %u %u %u %u %u %u %u %u %u; R %s, C %s, W %s, ABORT TASK %d (%u)",
			 q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8],
			 q[9], q[10], q[11], what(r), what(c), what(w), a->pushed,
			 a->tmf_resp);
}

/* ---- held event buffers --------------------------------------------------- */

/*
 * The core asks every draining queue to give back what it holds; only the
 * event queue holds buffers, and only its thread may touch them.  A
 * request or control queue's release pushes nothing and leaves them; the
 * event queue's gives each back once, as NO_EVENT.
 */
static void test_release_held(void)
{
	struct treq *e1, *e2;
	int before;
	bool left;

	setup(1);
	e1 = event_buf(1);
	e2 = event_buf(2);
	before = push_rank;
	scsi_release_held(&sd, &vq[SCSI_CTRL_VQ]);
	scsi_release_held(&sd, &vq[2]);
	scsi_release_held(&sd, &vq[3]);
	left = push_rank == before && sd.nevents == 2 && sd.events[0] == &e1->u.req &&
	       sd.events[1] == &e2->u.req && !e1->pushed && !e2->pushed;
	ok(left, "release on the control and request queues: nothing pushed, both event buffers still held (%d pushed, %u held)",
	   push_rank - before, sd.nevents);
	scsi_release_held(&sd, &vq[SCSI_EVENT_VQ]);
	ok(sd.nevents == 0 && e1->pushed == 1 && e2->pushed == 1 &&
	   le32toh(e1->ev.event) == VIRTIO_SCSI_T_NO_EVENT &&
	   le32toh(e2->ev.event) == VIRTIO_SCSI_T_NO_EVENT,
	   "release on the event queue: each buffer back once, NO_EVENT (%d %d, %u held)",
	   e1->pushed, e2->pushed, sd.nevents);
}

/* ---- a TMF is looked at again only after a kick ------------------------- */

/*
 * ABORT TASK (of nothing) waits for a read held on thread 1; thread 0
 * wakes for other reasons: no answer, and no lock of the LUN taken; the
 * read completes: the TMF is answered after it.
 */
static void test_tmf_kick(void)
{
	struct treq *r, *t;
	int locks;

	setup(1);
	r = read10(1, 3, 0, 0, 1, LBS);
	t = tmf(2, VIRTIO_SCSI_T_TMF_ABORT_TASK, 0, NO_TAG);
	run_wakes();
	hook_mu = &sd.luns[0]->mu;
	hook_at = -1;
	hook_count = 0;
	for (int i = 0; i < 3; i++) {
		th[0].wake = true;
		run_wakes();
	}
	locks = hook_count;
	hook_mu = NULL;
	complete_one(1);
	run_wakes();
	ok(locks == 0 && good(r) && t->pushed == 1 && r->rank < t->rank,
	   "a waiting TMF is looked at again only when a command older than it leaves (%d locks on idle wakes; read %s, TMF %d)",
	   locks, what(r), t->pushed);
}

int main(void)
{
	vu_log_init("test-scsi-dev", -1);
	make_image(img[0]);
	make_image(img[1]);
	test_reset_vs_replay(false);
	test_reset_vs_replay(true);
	test_answered_at_once_held();
	test_nexus_reset_marks();
	test_query_task();
	test_release_held();
	test_tmf_kick();
	ok(round_tmfs > 0 && tmf_early == 0,
	   "a TMF is answered only after the other thread published every answer it recorded before the TMF's publish round began (%d TMFs, %d too early)",
	   round_tmfs, tmf_early);
	scsi_dev_close(&sd);
	unlink(img[0]);
	unlink(img[1]);
	return tap_done();
}
