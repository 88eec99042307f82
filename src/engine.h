/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine.h: the I/O engine interface.  An I/O thread owns one engine and
 * waits in it for everything: file I/O completions, guest kicks (eventfds)
 * and control requests.  Operations are queued without a syscall and
 * submitted together by io_engine_run().
 */
#ifndef VU_ENGINE_H
#define VU_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/time_types.h>

enum io_opcode {
	IO_OP_READV,
	IO_OP_WRITEV,
	IO_OP_FDATASYNC,
	IO_OP_FALLOCATE,
	/* Wait until an eventfd is readable, consume its count, complete. */
	IO_OP_READ_EVENTFD,
	/*
	 * Complete with -ETIME once timeout_ms have passed (-ECANCELED when
	 * cancelled first).  One at a time per engine.
	 */
	IO_OP_TIMEOUT,
};

struct io_op;
typedef void (*io_done_fn)(struct io_op *op, int res);

struct io_op {
	io_done_fn done;	/* called with the result (>= 0) or -errno */
	uint8_t opcode;
	int fd;
	int rw_flags;		/* RWF_* for READV/WRITEV */
	int mode;		/* FALLOCATE mode */
	unsigned int iovcnt;
	struct iovec *iov;
	uint64_t off;
	uint64_t len;		/* FALLOCATE length; READV/WRITEV: the bytes */
	uint64_t evbuf;		/* READ_EVENTFD destination */
	uint32_t timeout_ms;	/* TIMEOUT */
	/*
	 * READV/WRITEV on a file in memory (tmpfs) that the kernel cannot try
	 * without blocking, which io_uring hands to a worker thread: the
	 * engine may copy it in the calling thread instead (see
	 * io_op_copy_now()).  The result still comes from run().
	 */
	bool in_thread;
	/* engine-private */
	struct __kernel_timespec ts;
	struct io_op *next;
	int res;
	bool watched;
};

enum io_engine_kind {
	IO_ENGINE_AUTO,
	IO_ENGINE_URING,
	IO_ENGINE_AIO,
};

struct io_engine;

struct io_engine_ops {
	void (*destroy)(struct io_engine *e);
	void (*queue)(struct io_engine *e, struct io_op *op);
	/*
	 * Ask for a queued READ_EVENTFD or TIMEOUT to end early; it completes
	 * -ECANCELED.
	 */
	void (*cancel)(struct io_engine *e, struct io_op *op);
	int (*run)(struct io_engine *e, bool wait);
	/*
	 * The eventfds READ_EVENTFD will wait on from now on (kicks and the
	 * control fd), set while no such read is queued.  Optional.
	 */
	int (*set_wait_fds)(struct io_engine *e, const int *fds, unsigned int n);
};

struct io_engine {
	const struct io_engine_ops *ops;
	const char *name;
};

/*
 * Decide which engine to use.  AUTO tries io_uring and falls back to libaio,
 * logging one line with the reason.  Returns 0 or -errno with a message.
 */
int io_engine_select(enum io_engine_kind want, enum io_engine_kind *got);
const char *io_engine_kind_name(enum io_engine_kind kind);
int io_engine_parse(const char *s, enum io_engine_kind *kind);

struct io_engine_opts {
	unsigned int depth;		/* operations in flight, about */
	const int *files;		/* used often: the engine may register them */
	unsigned int nfiles;
	/*
	 * Hand operations to the kernel as soon as this many are queued,
	 * rather than all at the next run(); 0 means no limit.  Small values
	 * keep a device busy that would otherwise see bursts.
	 */
	unsigned int submit_batch;
	/* Most eventfds passed to io_engine_set_wait_fds(). */
	unsigned int max_wait_fds;
	/*
	 * Lock the engine down where the kernel allows: an io_uring ring
	 * then accepts only the operations above, on registered files only.
	 */
	bool restrict_ops;
};

/* A FIFO of operations, linked through their next field. */
struct io_op_list {
	struct io_op *head, **tail;
};

static inline void io_op_list_init(struct io_op_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

static inline void io_op_list_add(struct io_op_list *l, struct io_op *op)
{
	op->next = NULL;
	*l->tail = op;
	l->tail = &op->next;
}

/* Take the first operation off l, which must not be empty. */
static inline struct io_op *io_op_list_pop(struct io_op_list *l)
{
	struct io_op *op = l->head;

	l->head = op->next;
	if (!l->head)
		l->tail = &l->head;
	return op;
}

/* Empty l, handing back its operations as a NULL-terminated chain. */
static inline struct io_op *io_op_list_take(struct io_op_list *l)
{
	struct io_op *op = l->head;

	io_op_list_init(l);
	return op;
}

/* Unlink op from l if it is there; false if it is not. */
static inline bool io_op_list_remove(struct io_op_list *l, struct io_op *op)
{
	struct io_op **pp;

	for (pp = &l->head; *pp; pp = &(*pp)->next) {
		if (*pp != op)
			continue;
		*pp = op->next;
		if (!*pp)
			l->tail = pp;
		return true;
	}
	return false;
}

/*
 * Operations an engine completed without the kernel's queue (in_thread
 * copies, libaio's synchronous calls), their result in res: their
 * callbacks run in run().
 */
static inline void io_done_add(struct io_op_list *l, struct io_op *op, int res)
{
	op->res = res;
	io_op_list_add(l, op);
}

/*
 * Run the callbacks of the operations on l now; operations they complete
 * in turn wait for the next call.  Returns how many ran.
 */
int io_done_dispatch(struct io_op_list *l);

/* An in_thread READV or WRITEV, done now: bytes moved or -errno. */
int io_op_rw_in_thread(const struct io_op *op);

static inline bool io_op_is_rw(const struct io_op *op)
{
	return op->opcode == IO_OP_READV || op->opcode == IO_OP_WRITEV;
}

/* May op be copied by io_op_rw_in_thread()? */
static inline bool io_op_is_in_thread(const struct io_op *op)
{
	return op->in_thread && io_op_is_rw(op);
}

/* The bytes a READV or WRITEV moves (0 for any other op). */
static inline uint64_t io_op_rw_bytes(const struct io_op *op)
{
	return io_op_is_rw(op) ? op->len : 0;
}

/*
 * With a submit batch (io_engine_opts.submit_batch), hand the queued ops
 * to the kernel once there are batch of them, or once they carry this
 * many bytes: large requests then go at most two at a time, which keeps
 * the kernel from plugging them, and so from merging a guest's adjacent
 * requests into larger ones that keep fewer of them in flight at the
 * device (bench/results/ab-submit-bytes-*).
 */
#define IO_SUBMIT_BYTES		(256u * 1024)

static inline bool io_submit_due(unsigned int batch, unsigned int ops,
				 uint64_t bytes)
{
	return batch && (ops >= batch || bytes >= IO_SUBMIT_BYTES);
}

/*
 * Copy an in_thread op in the thread, or hand it to the kernel's worker?
 * A copy costs a system call per op; the worker costs a wake-up and two
 * context switches, shared by all the ops it finds queued, but no system
 * call each.  So large ops (where the copy dwarfs both) are copied, and
 * so is an op that is alone: the only one of its pass, with no file op
 * of the thread's in the kernel (queue depth 1, where the wake-up is the
 * latency).  Small ops at depth go to the worker, which a lone op in a
 * pass would otherwise keep from batching (bench/results/ab-inmem*).
 */
#define IO_COPY_LARGE_BYTES	(64u * 1024)

static inline bool io_op_copy_now(const struct io_op *op, unsigned int pass_ops,
				  unsigned int in_kernel)
{
	return (pass_ops == 1 && in_kernel == 0) ||
	       op->len >= IO_COPY_LARGE_BYTES;
}

int io_engine_create(enum io_engine_kind kind, const struct io_engine_opts *o,
		     struct io_engine **out);

static inline void io_engine_queue(struct io_engine *e, struct io_op *op)
{
	e->ops->queue(e, op);
}

static inline void io_engine_cancel(struct io_engine *e, struct io_op *op)
{
	e->ops->cancel(e, op);
}

static inline int io_engine_set_wait_fds(struct io_engine *e, const int *fds,
					 unsigned int n)
{
	return e->ops->set_wait_fds ? e->ops->set_wait_fds(e, fds, n) : 0;
}


/*
 * Submit everything queued and, if wait is set, sleep until at least one
 * operation completes.  Calls the done callbacks of completed operations.
 * Returns the number of completions or -errno.
 */
static inline int io_engine_run(struct io_engine *e, bool wait)
{
	return e->ops->run(e, wait);
}

static inline void io_engine_destroy(struct io_engine *e)
{
	if (e)
		e->ops->destroy(e);
}

#ifdef HAVE_LIBURING
int uring_engine_create(const struct io_engine_opts *o, struct io_engine **out);
int uring_engine_probe(void);
#endif
#ifdef HAVE_LIBAIO
int aio_engine_create(const struct io_engine_opts *o, struct io_engine **out);
#endif

#endif
