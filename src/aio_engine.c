// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * aio_engine.c: the libaio fallback engine, for hosts where io_uring is
 * disabled.  Reads, writes and fdatasync go through io_submit(); their
 * completions signal an eventfd.  The thread sleeps in epoll_wait() on that
 * eventfd, on the watched kick eventfds and on a timerfd (TIMEOUT).  The
 * eventfds the thread always waits on (set_wait_fds: its kicks) stay in
 * the epoll set, edge-triggered, so that waiting on one again costs no
 * system call; any other eventfd is watched one shot at a time.
 * fallocate has no aio command, so it runs synchronously and completes on
 * the next run().
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "util.h"

#define EVENT_BATCH	64

struct aio_engine {
	struct io_engine base;
	io_context_t ctx;
	int epfd;
	int evfd;		/* signalled by aio completions */
	int tfd;		/* the timer of timer_op */
	struct io_op *timer_op;	/* the TIMEOUT in progress */
	unsigned int depth;
	struct iocb *iocbs;
	struct iocb **free_iocbs;
	unsigned int nfree;
	struct iocb **pending;	/* prepared, not yet submitted */
	unsigned int npending;
	uint64_t pending_bytes;	/* of the reads and writes among them */
	struct io_op_list backlog;	/* waiting for an iocb */
	struct io_op_list done;		/* completed synchronously */
	bool fdsync_sync;	/* the kernel refused IOCB_CMD_FDSYNC */
	unsigned int submit_batch;
	struct wait_slot *slots;	/* the set_wait_fds() eventfds */
	unsigned int nslots, max_slots;
};

/* An eventfd kept in the epoll set (EPOLLET), and the read waiting on it. */
struct wait_slot {
	int fd;
	bool ready;		/* may be readable: try before waiting */
	struct io_op *op;	/* the READ_EVENTFD waiting, or NULL */
};

static void complete_later(struct aio_engine *a, struct io_op *op, int res)
{
	io_done_add(&a->done, op, res);
}

static void run_sync(struct aio_engine *a, struct io_op *op)
{
	int ret;

	if (op->opcode == IO_OP_FALLOCATE)
		ret = fallocate(op->fd, op->mode, op->off, op->len);
	else
		ret = fdatasync(op->fd);
	complete_later(a, op, ret < 0 ? -errno : 0);
}

static struct wait_slot *find_slot(struct aio_engine *a, int fd)
{
	for (unsigned int i = 0; i < a->nslots; i++) {
		if (a->slots[i].fd == fd)
			return &a->slots[i];
	}
	return NULL;
}

static bool is_slot(const struct aio_engine *a, const void *p)
{
	const struct wait_slot *s = p;

	return a->slots && s >= a->slots && s < a->slots + a->max_slots;
}

/*
 * The read on a slot's eventfd: done now if it has a count, else waiting
 * for the next edge.  True if op completed (with a count or an error).
 */
static bool slot_read(struct aio_engine *a, struct wait_slot *s,
		      struct io_op *op)
{
	ssize_t n;

	if (s->ready) {
		n = read(s->fd, &op->evbuf, sizeof(op->evbuf));
		/* A read takes the whole count: only a new edge brings more. */
		s->ready = false;
		if (n >= 0 || errno != EAGAIN) {
			complete_later(a, op, n < 0 ? -errno : (int)n);
			return true;
		}
	}
	s->op = op;
	op->watched = true;
	return false;
}

static void watch(struct aio_engine *a, struct io_op *op)
{
	struct wait_slot *s = find_slot(a, op->fd);
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLONESHOT,
		.data.ptr = op,
	};
	int fl;

	if (s) {
		slot_read(a, s, op);
		return;
	}
	fl = fcntl(op->fd, F_GETFL);
	/* A spurious wakeup must not block the thread in read(). */
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(op->fd, F_SETFL, fl | O_NONBLOCK);
	if (epoll_ctl(a->epfd, EPOLL_CTL_MOD, op->fd, &ev) < 0 &&
	    epoll_ctl(a->epfd, EPOLL_CTL_ADD, op->fd, &ev) < 0) {
		complete_later(a, op, -errno);
		return;
	}
	op->watched = true;
}

static void set_timer(struct aio_engine *a, uint32_t ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = ms / 1000,
		.it_value.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	timerfd_settime(a->tfd, 0, &its, NULL);
}

static void start_timer(struct aio_engine *a, struct io_op *op)
{
	if (a->timer_op) {
		complete_later(a, op, -EBUSY);
		return;
	}
	a->timer_op = op;
	/* Zero would disarm the timer: one millisecond is the least. */
	set_timer(a, op->timeout_ms ? op->timeout_ms : 1);
}

/* The timer fired (res -ETIME) or was cancelled (-ECANCELED). */
static void end_timer(struct aio_engine *a, int res)
{
	struct io_op *op = a->timer_op;

	a->timer_op = NULL;
	if (res == -ECANCELED)
		set_timer(a, 0);
	complete_later(a, op, res);
}

static bool prep_iocb(struct aio_engine *a, struct io_op *op)
{
	struct iocb *cb;

	if (a->nfree == 0)
		return false;
	cb = a->free_iocbs[--a->nfree];
	switch (op->opcode) {
	case IO_OP_READV:
		io_prep_preadv2(cb, op->fd, op->iov, op->iovcnt, op->off,
				op->rw_flags);
		break;
	case IO_OP_WRITEV:
		io_prep_pwritev2(cb, op->fd, op->iov, op->iovcnt, op->off,
				 op->rw_flags);
		break;
	default:
		io_prep_fdsync(cb, op->fd);
		break;
	}
	io_set_eventfd(cb, a->evfd);
	cb->data = op;
	a->pending[a->npending++] = cb;
	a->pending_bytes += io_op_rw_bytes(op);
	return true;
}

static void submit_pending(struct aio_engine *a);

static void aio_queue(struct io_engine *e, struct io_op *op)
{
	struct aio_engine *a = container_of(e, struct aio_engine, base);

	switch (op->opcode) {
	case IO_OP_READ_EVENTFD:
		watch(a, op);
		return;
	case IO_OP_TIMEOUT:
		start_timer(a, op);
		return;
	case IO_OP_FALLOCATE:
		run_sync(a, op);
		return;
	case IO_OP_FDATASYNC:
		if (a->fdsync_sync) {
			run_sync(a, op);
			return;
		}
		break;
	default:
		/* in_thread: io_submit() copies a file in memory itself. */
		break;
	}
	if (a->backlog.head || !prep_iocb(a, op)) {
		io_op_list_add(&a->backlog, op);
		return;
	}
	if (io_submit_due(a->submit_batch, a->npending, a->pending_bytes))
		submit_pending(a);
}

static void aio_cancel(struct io_engine *e, struct io_op *op)
{
	struct aio_engine *a = container_of(e, struct aio_engine, base);
	struct wait_slot *s;

	if (op->opcode == IO_OP_TIMEOUT) {
		if (a->timer_op == op)
			end_timer(a, -ECANCELED);
		return;
	}
	if (op->opcode != IO_OP_READ_EVENTFD || !op->watched)
		return;
	s = find_slot(a, op->fd);
	if (s && s->op == op)
		s->op = NULL;
	else
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, op->fd, NULL);
	op->watched = false;
	complete_later(a, op, -ECANCELED);
}

static void release_iocb(struct aio_engine *a, struct iocb *cb)
{
	a->free_iocbs[a->nfree++] = cb;
}

/* Submit prepared iocbs; failures complete their op with the error. */
static void submit_pending(struct aio_engine *a)
{
	unsigned int off = 0;

	while (off < a->npending) {
		int ret = io_submit(a->ctx, a->npending - off, a->pending + off);
		struct iocb *cb;
		struct io_op *op;

		if (ret > 0) {
			off += ret;
			continue;
		}
		if (ret == -EAGAIN || ret == -EINTR || ret == 0)
			break;	/* retry on the next run() */
		cb = a->pending[off++];
		op = cb->data;
		release_iocb(a, cb);
		if (ret == -EINVAL && op->opcode == IO_OP_FDATASYNC) {
			/* Kernel or file without aio fsync: do it inline. */
			a->fdsync_sync = true;
			run_sync(a, op);
			continue;
		}
		complete_later(a, op, ret);
	}
	memmove(a->pending, a->pending + off,
		(a->npending - off) * sizeof(*a->pending));
	a->npending -= off;
	if (!a->npending)
		a->pending_bytes = 0;
}

static void refill_from_backlog(struct aio_engine *a)
{
	while (a->backlog.head && a->nfree) {
		struct io_op *op = io_op_list_pop(&a->backlog);

		if (op->opcode == IO_OP_FDATASYNC && a->fdsync_sync)
			run_sync(a, op);
		else
			prep_iocb(a, op);
	}
}

static int reap_aio(struct aio_engine *a)
{
	struct io_event events[EVENT_BATCH];
	struct timespec zero = { 0, 0 };
	uint64_t cnt;
	int total = 0, n;

	if (read(a->evfd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	do {
		n = io_getevents(a->ctx, 0, EVENT_BATCH, events, &zero);
		if (n < 0)
			return n == -EINTR ? total : n;
		for (int i = 0; i < n; i++) {
			struct iocb *cb = events[i].obj;
			struct io_op *op = cb->data;
			long res = (long)events[i].res;

			release_iocb(a, cb);
			total++;
			op->done(op, res < 0 ? (int)res : (int)MIN(res, (long)INT32_MAX));
		}
	} while (n == EVENT_BATCH);
	return total;
}

static int fire_watch(struct io_op *op)
{
	ssize_t n = read(op->fd, &op->evbuf, sizeof(op->evbuf));

	op->watched = false;
	op->done(op, n < 0 ? -errno : (int)n);
	return 1;
}

/*
 * An edge on a slot's eventfd: the waiting read, if any, reads it and
 * completes with the run's other local completions.
 */
static void fire_slot(struct aio_engine *a, struct wait_slot *s)
{
	struct io_op *op = s->op;

	s->ready = true;
	if (!op)
		return;
	s->op = NULL;
	op->watched = false;
	/* A count another reader took leaves the op waiting again. */
	slot_read(a, s, op);
}

static int aio_run(struct io_engine *e, bool wait)
{
	struct aio_engine *a = container_of(e, struct aio_engine, base);
	struct epoll_event evs[EVENT_BATCH];
	int total, n, timeout = wait ? -1 : 0;

	refill_from_backlog(a);
	submit_pending(a);
	total = io_done_dispatch(&a->done);
	if (total > 0 || a->done.head)
		timeout = 0;
	/*
	 * io_submit() can refuse for a while (EAGAIN) with nothing of ours
	 * in flight to wake us: then sleep briefly and retry, never for good.
	 */
	if (a->npending && timeout != 0)
		timeout = 1;
	n = epoll_wait(a->epfd, evs, EVENT_BATCH, timeout);
	if (n < 0)
		return errno == EINTR ? total : -errno;
	for (int i = 0; i < n; i++) {
		int ret;

		if (evs[i].data.ptr == a) {
			ret = reap_aio(a);
			if (ret < 0)
				return ret;
			total += ret;
		} else if (evs[i].data.ptr == &a->tfd) {
			uint64_t expired;

			if (read(a->tfd, &expired, sizeof(expired)) > 0 &&
			    a->timer_op)
				end_timer(a, -ETIME);
		} else if (is_slot(a, evs[i].data.ptr)) {
			fire_slot(a, evs[i].data.ptr);
		} else {
			total += fire_watch(evs[i].data.ptr);
		}
	}
	return total + io_done_dispatch(&a->done);
}

static int add_slot(struct aio_engine *a, int fd)
{
	struct wait_slot *s = &a->slots[a->nslots];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = s };
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	/* A count taken by another reader must not block read(). */
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	*s = (struct wait_slot){ .fd = fd, .ready = true };
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(a->epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
		return -errno;
	a->nslots++;
	return 0;
}

/*
 * Forget the old slots, keep the new eventfds in the epoll set.  A read
 * still waiting (the control eventfd's, while the thread parks) waits on
 * in the new set, or one shot if its fd is no longer in it.
 */
static int aio_set_wait_fds(struct io_engine *e, const int *fds, unsigned int n)
{
	struct aio_engine *a = container_of(e, struct aio_engine, base);
	struct io_op *waiting = NULL;
	int ret = 0;

	if (n > a->max_slots)
		return -E2BIG;
	/* An fd closed since is out of the set already: ignore errors. */
	for (unsigned int i = 0; i < a->nslots; i++) {
		struct io_op *op = a->slots[i].op;

		epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->slots[i].fd, NULL);
		if (op) {
			op->watched = false;
			op->next = waiting;
			waiting = op;
		}
	}
	a->nslots = 0;
	for (unsigned int i = 0; i < n && !ret; i++)
		ret = add_slot(a, fds[i]);
	while (waiting) {
		struct io_op *op = waiting;

		waiting = op->next;
		watch(a, op);
	}
	return ret;
}

static void aio_free(struct aio_engine *a)
{
	if (a->ctx)
		io_destroy(a->ctx);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->evfd >= 0)
		close(a->evfd);
	if (a->tfd >= 0)
		close(a->tfd);
	free(a->iocbs);
	free(a->free_iocbs);
	free(a->pending);
	free(a->slots);
	free(a);
}

static void aio_destroy(struct io_engine *e)
{
	aio_free(container_of(e, struct aio_engine, base));
}

static const struct io_engine_ops aio_ops = {
	.destroy = aio_destroy,
	.queue = aio_queue,
	.cancel = aio_cancel,
	.run = aio_run,
	.set_wait_fds = aio_set_wait_fds,
};

int aio_engine_create(const struct io_engine_opts *o, struct io_engine **out)
{
	unsigned int depth = o->depth;
	struct aio_engine *a = calloc(1, sizeof(*a));
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (!a)
		return -ENOMEM;
	a->epfd = a->evfd = a->tfd = -1;
	a->depth = MIN(MAX(depth, 32u), 4096u);
	a->iocbs = calloc(a->depth, sizeof(*a->iocbs));
	a->free_iocbs = calloc(a->depth, sizeof(*a->free_iocbs));
	a->pending = calloc(a->depth, sizeof(*a->pending));
	a->max_slots = o->max_wait_fds;
	a->slots = calloc(MAX(a->max_slots, 1u), sizeof(*a->slots));
	if (!a->iocbs || !a->free_iocbs || !a->pending || !a->slots) {
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < a->depth; i++)
		a->free_iocbs[i] = &a->iocbs[i];
	a->nfree = a->depth;
	ret = io_setup(a->depth, &a->ctx);
	if (ret < 0)
		goto fail;
	a->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->evfd < 0 || a->tfd < 0 || a->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	ev.data.ptr = a;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->evfd, &ev) < 0) {
		ret = -errno;
		goto fail;
	}
	ev.data.ptr = &a->tfd;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->tfd, &ev) < 0) {
		ret = -errno;
		goto fail;
	}
	a->submit_batch = o->submit_batch;
	a->base.ops = &aio_ops;
	a->base.name = "libaio";
	io_op_list_init(&a->backlog);
	io_op_list_init(&a->done);
	*out = &a->base;
	return 0;
fail:
	aio_free(a);
	return ret;
}
