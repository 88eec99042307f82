// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uring_engine.c: the io_uring engine.  One ring per I/O thread, created in
 * that thread.  Guest buffers go straight into READV/WRITEV SQEs, kick
 * eventfds are read by READ SQEs in the same ring, and completions are
 * reaped in batches from the CQ without a syscall.  in_thread operations (a
 * file in memory) wait for run(), which copies them itself or puts them
 * in the ring, as io_op_copy_now() says for the pass and what the ring
 * holds.
 *
 * The device's files and the thread's eventfds are registered with the
 * ring.  A restricted ring (IORING_REGISTER_RESTRICTIONS) accepts only the
 * opcodes below, only on registered files, and no io_uring_register call
 * but the update of the eventfd slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include "engine.h"
#include "log.h"
#include "util.h"

#define CQE_BATCH	64
#define MAX_FIXED	256	/* a device's files: a disk, or a target's LUNs */
#define MAX_WAIT	258	/* a thread's kick fds and its control fd */
#define FD_MAP		1024	/* fds below this find their slot directly */

struct uring_engine {
	struct io_engine base;
	struct io_uring ring;
	/* Operations that found the SQ full and could not be flushed yet. */
	struct io_op_list backlog;
	/* Armed operations whose cancellation found the SQ full. */
	struct io_op *cancels;
	/* File operations in the ring (not eventfd reads or timers). */
	unsigned int file_ops;
	/* in_thread operations queued in this pass, not yet placed... */
	struct io_op_list copies;
	unsigned int ncopies;
	/* ... and those copied, their callbacks not yet run. */
	struct io_op_list done;
	/* Files registered with the ring, used by index. */
	int fixed[MAX_FIXED];
	unsigned int nfixed;
	/* Then the eventfds, in slots nfixed and up; -1 is an empty slot. */
	int wait[MAX_WAIT];
	unsigned int nwait;
	/* Slot + 1 of each fd below FD_MAP; 0: not registered. */
	uint16_t slot_of[FD_MAP];
	bool registered;	/* the table above exists in the ring */
	bool restricted;
	unsigned int submit_batch;
	uint64_t sq_bytes;	/* of the reads and writes not yet submitted */
};


static unsigned int roundup_pow2(unsigned int v)
{
	unsigned int p = 1;

	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

/* Most capable flags first; older kernels reject the newer ones. */
/*
 * TASKRUN_FLAG makes pending completion work visible in the SQ flags, so a
 * non-waiting run() (polling) enters the kernel only when there is some.
 */
static const unsigned int setup_flag_sets[] = {
	IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
		IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
	IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
		IORING_SETUP_TASKRUN_FLAG,
	0,
};

static int ring_init(struct io_uring *ring, unsigned int sq, unsigned int cq,
		     unsigned int extra_flags)
{
	int ret = -EINVAL;

	for (size_t i = 0; i < ARRAY_SIZE(setup_flag_sets); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = setup_flag_sets[i] | IORING_SETUP_CQSIZE | extra_flags;
		p.cq_entries = cq;
		ret = io_uring_queue_init_params(sq, ring, &p);
		if (ret != -EINVAL)
			return ret;
	}
	return ret;
}

int uring_engine_probe(void)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(4, &ring, 0);

	if (ret == 0)
		io_uring_queue_exit(&ring);
	return ret;
}

/*
 * Use the registered slot of op's file.  On a restricted ring a file
 * without one is refused by the kernel (-EACCES), as it should be.
 */
static int find_slot(const struct uring_engine *u, int fd)
{
	if (fd >= 0 && fd < FD_MAP)
		return (int)u->slot_of[fd] - 1;
	for (unsigned int i = 0; i < u->nfixed; i++) {
		if (fd == u->fixed[i])
			return i;
	}
	for (unsigned int i = 0; i < u->nwait; i++) {
		if (fd == u->wait[i])
			return u->nfixed + i;
	}
	return -1;
}

static void map_slot(struct uring_engine *u, int fd, int slot)
{
	if (fd >= 0 && fd < FD_MAP)
		u->slot_of[fd] = slot + 1;
}

static void use_fixed(struct uring_engine *u, struct io_uring_sqe *sqe)
{
	int slot;

	if (!u->registered)
		return;
	slot = find_slot(u, sqe->fd);
	if (slot >= 0) {
		sqe->fd = slot;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

/* A cancel names no file, but a restricted ring wants the flag on all. */
static void prep_cancel(struct uring_engine *u, struct io_uring_sqe *sqe,
			struct io_op *op)
{
	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
	io_uring_sqe_set_data(sqe, NULL);
	if (u->restricted)
		sqe->flags |= IOSQE_FIXED_FILE;
}

static bool is_file_op(const struct io_op *op)
{
	return op->opcode != IO_OP_READ_EVENTFD && op->opcode != IO_OP_TIMEOUT;
}

static void prep_sqe(struct uring_engine *u, struct io_uring_sqe *sqe,
		     struct io_op *op)
{
	u->file_ops += is_file_op(op);
	u->sq_bytes += io_op_rw_bytes(op);
	switch (op->opcode) {
	/* One buffer needs no iovec: the plain opcodes skip importing it. */
	case IO_OP_READV:
		if (op->iovcnt == 1)
			io_uring_prep_read(sqe, op->fd, op->iov->iov_base,
					   op->iov->iov_len, op->off);
		else
			io_uring_prep_readv(sqe, op->fd, op->iov, op->iovcnt, op->off);
		sqe->rw_flags = op->rw_flags;
		break;
	case IO_OP_WRITEV:
		if (op->iovcnt == 1)
			io_uring_prep_write(sqe, op->fd, op->iov->iov_base,
					    op->iov->iov_len, op->off);
		else
			io_uring_prep_writev(sqe, op->fd, op->iov, op->iovcnt, op->off);
		sqe->rw_flags = op->rw_flags;
		break;
	case IO_OP_FDATASYNC:
		io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
		break;
	case IO_OP_FALLOCATE:
		io_uring_prep_fallocate(sqe, op->fd, op->mode, op->off, op->len);
		break;
	case IO_OP_READ_EVENTFD:
		io_uring_prep_read(sqe, op->fd, &op->evbuf, sizeof(op->evbuf), 0);
		break;
	case IO_OP_TIMEOUT:
		/* The kernel reads the timespec when it takes the SQE. */
		op->ts.tv_sec = op->timeout_ms / 1000;
		op->ts.tv_nsec = (op->timeout_ms % 1000) * 1000000ll;
		io_uring_prep_timeout(sqe, &op->ts, 0, 0);
		/* No file, but a restricted ring wants the flag on all. */
		if (u->restricted)
			sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data(sqe, op);
		return;
	}
	use_fixed(u, sqe);
	io_uring_sqe_set_data(sqe, op);
}

static void submit(struct uring_engine *u)
{
	io_uring_submit(&u->ring);
	u->sq_bytes = 0;
}

static struct io_uring_sqe *get_sqe(struct uring_engine *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (sqe)
		return sqe;
	/* SQ full: push what is there to the kernel and try again. */
	submit(u);
	return io_uring_get_sqe(&u->ring);
}

static void to_ring(struct uring_engine *u, struct io_op *op)
{
	struct io_uring_sqe *sqe;

	if (u->backlog.head || !(sqe = get_sqe(u))) {
		io_op_list_add(&u->backlog, op);
		return;
	}
	prep_sqe(u, sqe, op);
	if (io_submit_due(u->submit_batch, io_uring_sq_ready(&u->ring),
			  u->sq_bytes))
		submit(u);
}

static void uring_queue(struct io_engine *e, struct io_op *op)
{
	struct uring_engine *u = container_of(e, struct uring_engine, base);

	if (io_op_is_in_thread(op)) {
		io_op_list_add(&u->copies, op);
		u->ncopies++;
		return;
	}
	to_ring(u, op);
}

static void uring_cancel(struct io_engine *e, struct io_op *op)
{
	struct uring_engine *u = container_of(e, struct uring_engine, base);
	struct io_uring_sqe *sqe;

	/* Still in our backlog: never reached the kernel. */
	if (io_op_list_remove(&u->backlog, op)) {
		op->done(op, -ECANCELED);
		return;
	}
	sqe = get_sqe(u);
	if (!sqe) {
		/* The op is in the kernel, so its next link is free to use. */
		op->next = u->cancels;
		u->cancels = op;
		return;
	}
	prep_cancel(u, sqe, op);
}

static void flush_cancels(struct uring_engine *u)
{
	while (u->cancels) {
		struct io_op *op = u->cancels;
		struct io_uring_sqe *sqe = get_sqe(u);

		if (!sqe)
			return;
		u->cancels = op->next;
		prep_cancel(u, sqe, op);
	}
}

static void flush_backlog(struct uring_engine *u)
{
	while (u->backlog.head) {
		struct io_uring_sqe *sqe = get_sqe(u);

		if (!sqe)
			return;
		prep_sqe(u, sqe, io_op_list_pop(&u->backlog));
	}
}

static int reap(struct uring_engine *u)
{
	struct io_uring_cqe *cqes[CQE_BATCH];
	int total = 0;

	for (;;) {
		unsigned int n = io_uring_peek_batch_cqe(&u->ring, cqes, CQE_BATCH);
		struct {
			struct io_op *op;
			int res;
		} done[CQE_BATCH];

		if (n == 0)
			break;
		/* Copy out and release the CQ before running callbacks. */
		for (unsigned int i = 0; i < n; i++) {
			done[i].op = io_uring_cqe_get_data(cqes[i]);
			done[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&u->ring, n);
		for (unsigned int i = 0; i < n; i++) {
			struct io_op *op = done[i].op;

			if (!op)
				continue;
			total++;
			u->file_ops -= is_file_op(op);
			op->done(op, done[i].res);
		}
	}
	return total;
}

/* The pass's in_thread operations: copied now, or into the ring. */
static void place_copies(struct uring_engine *u)
{
	struct io_op *list = io_op_list_take(&u->copies);
	unsigned int n = u->ncopies;

	u->ncopies = 0;
	while (list) {
		struct io_op *op = list;

		list = op->next;
		if (io_op_copy_now(op, n, u->file_ops))
			io_done_add(&u->done, op, io_op_rw_in_thread(op));
		else
			to_ring(u, op);
	}
}

static int uring_run(struct io_engine *e, bool wait)
{
	struct uring_engine *u = container_of(e, struct uring_engine, base);
	int ret;

	place_copies(u);
	flush_backlog(u);
	flush_cancels(u);
	/*
	 * Completions already in the ring: no need to wait.  Only look (no
	 * reap here): with completions still to be run as task work, a reap
	 * would enter the kernel for them, and the submission below enters
	 * anyway and runs them too, so one system call does both.
	 */
	if (io_uring_cq_ready(&u->ring) || u->done.head)
		wait = false;
	ret = wait ? io_uring_submit_and_wait(&u->ring, 1) :
		     io_uring_submit(&u->ring);
	u->sq_bytes = 0;
	if (ret < 0 && ret != -EINTR && ret != -EBUSY && ret != -EAGAIN)
		return ret;
	ret = io_done_dispatch(&u->done);
	return ret + reap(u);
}

static void uring_destroy(struct io_engine *e)
{
	struct uring_engine *u = container_of(e, struct uring_engine, base);

	io_uring_queue_exit(&u->ring);
	free(u);
}

static int uring_set_wait_fds(struct io_engine *e, const int *fds,
			      unsigned int n)
{
	struct uring_engine *u = container_of(e, struct uring_engine, base);
	int ret;

	if (!u->registered)
		return 0;
	if (n > u->nwait)
		return -E2BIG;
	for (unsigned int i = 0; i < u->nwait; i++) {
		map_slot(u, u->wait[i], -1);
		u->wait[i] = i < n ? fds[i] : -1;
	}
	/* A device file that is also waited on keeps its device slot. */
	for (unsigned int i = 0; i < u->nfixed; i++)
		map_slot(u, u->fixed[i], i);
	for (unsigned int i = 0; i < n; i++) {
		if (find_slot(u, fds[i]) < 0)
			map_slot(u, fds[i], u->nfixed + i);
	}
	ret = io_uring_register_files_update(&u->ring, u->nfixed, u->wait,
					     u->nwait);
	return ret < 0 ? ret : 0;
}

static const struct io_engine_ops uring_ops = {
	.destroy = uring_destroy,
	.queue = uring_queue,
	.cancel = uring_cancel,
	.run = uring_run,
	.set_wait_fds = uring_set_wait_fds,
};

/*
 * Some liburing builds (Debian's 2.3) do not export the restriction calls,
 * so make them directly.
 */
static int ring_register(struct io_uring *ring, unsigned int op,
			 const void *arg, unsigned int nr)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, nr);

	return ret < 0 ? -errno : 0;
}

/* The device's files, then empty slots for the eventfds. */
static void register_files(struct uring_engine *u, const int *files,
			   unsigned int nfiles, unsigned int nwait)
{
	int table[MAX_FIXED + MAX_WAIT];

	u->nfixed = MIN(nfiles, (unsigned int)MAX_FIXED);
	u->nwait = MIN(nwait, (unsigned int)MAX_WAIT);
	memcpy(u->fixed, files, u->nfixed * sizeof(*files));
	memcpy(table, files, u->nfixed * sizeof(*files));
	for (unsigned int i = 0; i < u->nwait; i++)
		u->wait[i] = table[u->nfixed + i] = -1;
	u->registered = u->nfixed + u->nwait &&
			io_uring_register_files(&u->ring, table,
						u->nfixed + u->nwait) == 0;
	for (unsigned int i = 0; i < u->nfixed && u->registered; i++)
		map_slot(u, u->fixed[i], i);
}

/*
 * Only the data path's opcodes, only on registered files, and of the
 * io_uring_register operations only the update of the eventfd slots.
 */
static int restrict_ring(struct uring_engine *u)
{
	static const uint8_t ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ,
		IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_FALLOCATE,
		IORING_OP_ASYNC_CANCEL, IORING_OP_TIMEOUT,
	};
	struct io_uring_restriction res[ARRAY_SIZE(ops) + 4];
	unsigned int n = 0;

	if (!u->registered)
		return -EOPNOTSUPP;
	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_REGISTER_FILES_UPDATE;
	res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
	res[n++].register_op = IORING_UNREGISTER_RING_FDS;
	return ring_register(&u->ring, IORING_REGISTER_RESTRICTIONS, res, n);
}

int uring_engine_create(const struct io_engine_opts *o, struct io_engine **out)
{
	struct uring_engine *u = calloc(1, sizeof(*u));
	unsigned int depth = o->depth, nfiles = o->nfiles, sq, cq;
	int ret;

	if (!u)
		return -ENOMEM;
	sq = roundup_pow2(MIN(MAX(depth, 32u), 1024u));
	cq = roundup_pow2(MIN(MAX(depth * 2, sq * 2), 65536u));
	/* A restricted ring must start disabled, to be restricted. */
	ret = ring_init(&u->ring, sq, cq,
			o->restrict_ops ? IORING_SETUP_R_DISABLED : 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	/* Optimisations, unless restricted: the ring works without them. */
	register_files(u, o->files, nfiles, o->max_wait_fds);
	io_uring_register_ring_fd(&u->ring);
	if (o->restrict_ops) {
		ret = restrict_ring(u);
		if (ret < 0)
			log_info("io_uring restrictions unavailable (%s): the ring is not restricted",
				 strerror(-ret));
		u->restricted = ret == 0;
		ret = ring_register(&u->ring, IORING_REGISTER_ENABLE_RINGS,
				    NULL, 0);
		if (ret < 0) {
			io_uring_queue_exit(&u->ring);
			free(u);
			return ret;
		}
	}
	u->submit_batch = o->submit_batch;
	u->base.ops = &uring_ops;
	u->base.name = "io_uring";
	io_op_list_init(&u->backlog);
	io_op_list_init(&u->copies);
	io_op_list_init(&u->done);
	*out = &u->base;
	return 0;
}
