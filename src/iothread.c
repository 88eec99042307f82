// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iothread.c: the I/O thread loop and its pause protocol.  The loop waits in
 * its engine for completions, kicks and control requests; then takes new
 * requests from every kicked queue; then publishes completions, one used
 * index update and at most one notification per queue per pass.  It also
 * runs the device's hooks (wake, poke, release_held) and a group's publish
 * rounds.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "device.h"
#include "iothread.h"
#include "log.h"
#include "util.h"

static void arm_kick(struct iothread *th, struct virtq *vq);

/*
 * The engine cannot wait any more (io_uring_enter() or io_getevents()
 * failed for another reason than a signal or a full ring).  The requests
 * in flight can then neither complete nor be given up cleanly, and other
 * threads may wait for them (a pause, a TMF): end the daemon at once, as
 * a crash would, with a status that says so.  A service manager starts
 * the next daemon, which runs those requests again from the inflight
 * region.
 */
static void engine_failed(struct iothread *th, const char *when, int err)
{
	log_err("I/O thread %u: engine failed%s: %s; the daemon exits",
		th->id, when, strerror(-err));
	_exit(IOTHREAD_EXIT_ENGINE);
}

static void kick_done(struct io_op *op, int res)
{
	struct virtq *vq = container_of(op, struct virtq, kick_op);

	vq->kick_armed = false;
	if (res == -ECANCELED)
		return;
	if (res < 0) {
		log_err("vq %u: waiting for a kick failed: %s", vq->index,
			strerror(-res));
		return;
	}
	vq->kicked = true;
	arm_kick(vq->th, vq);
}

void iothread_arm_read(struct iothread *th, struct io_op *op, int fd,
		       io_done_fn done, bool *armed)
{
	memset(op, 0, sizeof(*op));
	op->opcode = IO_OP_READ_EVENTFD;
	op->fd = fd;
	op->done = done;
	*armed = true;
	io_engine_queue(th->eng, op);
}

static void arm_kick(struct iothread *th, struct virtq *vq)
{
	if (th->draining || vq->kick_armed || !vq->active || vq->kick_fd < 0)
		return;
	iothread_arm_read(th, &vq->kick_op, vq->kick_fd, kick_done, &vq->kick_armed);
}

static void ctl_done(struct io_op *op, int res)
{
	struct iothread *th = container_of(op, struct iothread, ctl_op);

	th->ctl_armed = false;
	th->ctl_pending = true;
}

static void arm_ctl(struct iothread *th)
{
	if (!th->ctl_armed)
		iothread_arm_read(th, &th->ctl_op, th->ctl_fd, ctl_done, &th->ctl_armed);
}

/* Publish every queue's completions; one notification per queue at most. */
static void flush_all(struct iothread *th)
{
	for (unsigned int i = 0; i < th->nactive; i++)
		virtq_flush_now(th->active[i]);
}

void iothread_flush(struct iothread *th)
{
	flush_all(th);
}

void iothread_wake(struct iothread *th)
{
	if (!__atomic_exchange_n(&th->wake, true, __ATOMIC_ACQ_REL))
		eventfd_write(th->ctl_fd, 1);
}

/* Run the device's hook and the rounds if some thread asked for it. */
static void run_wake(struct iothread *th)
{
	if (!__atomic_load_n(&th->wake, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&th->wake, false, __ATOMIC_ACQ_REL))
		return;
	if (th->ops->wake)
		th->ops->wake(th->ctx, th);
	iothread_round_wake(th);
	/* Something may have changed for what waits on a deadline. */
	iothread_timers_run(th, true);
}

static bool busy(struct iothread *th)
{
	if (th->timer_armed)
		return true;
	for (unsigned int i = 0; i < th->nactive; i++) {
		if (th->active[i]->inflight || th->active[i]->kick_armed)
			return true;
	}
	return false;
}

/* Stop taking requests, cancel kick waits, finish all in-flight I/O. */
static void drain(struct iothread *th)
{
	th->draining = true;
	if (th->timer_armed)
		io_engine_cancel(th->eng, &th->timer_op);
	/* What waits for a deadline goes now. */
	iothread_timers_run(th, true);
	for (unsigned int i = 0; i < th->nactive; i++) {
		struct virtq *vq = th->active[i];

		if (vq->kick_armed)
			io_engine_cancel(th->eng, &vq->kick_op);
		if (th->ops->release_held && vq->inflight)
			th->ops->release_held(th->ctx, vq);
	}
	for (;;) {
		int ret;

		/*
		 * What we wait for may hang on another thread (a device's
		 * cross-thread work): run its wake before each sleep.  The
		 * eventfd read that brought the pause may have carried that
		 * wake too, and iothread_wake() writes no more while the
		 * flag is up: nothing else might come to end the sleep.
		 */
		run_wake(th);
		flush_all(th);
		if (!busy(th))
			break;
		th->pass_ns = 0;
		ret = io_engine_run(th->eng, true);
		if (ret < 0)
			engine_failed(th, " while draining", ret);
		/* Keep hearing wakes; park() looks at the requests anyway. */
		if (th->ctl_pending) {
			th->ctl_pending = false;
			arm_ctl(th);
		}
	}
	flush_all(th);
	th->draining = false;
}

/* Tell the engine which eventfds we wait on: ours and the active kicks. */
static void set_wait_fds(struct iothread *th)
{
	unsigned int n = 0;
	int ret;

	th->wait_fds[n++] = th->ctl_fd;
	th->wait_fds[n++] = th->tfd;
	for (unsigned int i = 0; i < th->nactive; i++) {
		if (th->active[i]->kick_fd >= 0)
			th->wait_fds[n++] = th->active[i]->kick_fd;
	}
	ret = io_engine_set_wait_fds(th->eng, th->wait_fds, n);
	if (ret < 0)
		log_err("I/O thread %u: cannot register its eventfds: %s",
			th->id, strerror(-ret));
}

/* Park until the control thread lets us go; true means exit. */
static bool park(struct iothread *th)
{
	bool quit;

	drain(th);
	pthread_mutex_lock(&th->mu);
	th->paused = true;
	pthread_cond_broadcast(&th->cv);
	while (th->want_pause && !th->want_exit)
		pthread_cond_wait(&th->cv, &th->mu);
	quit = th->want_exit;
	if (!quit)
		th->paused = false;
	pthread_mutex_unlock(&th->mu);
	if (quit)
		return true;
	/* Queue states changed only while we were parked. */
	th->nactive = 0;
	for (unsigned int i = 0; i < th->nvqs; i++) {
		struct virtq *vq = th->vqs[i];

		if (vq->active)
			th->active[th->nactive++] = vq;
	}
	set_wait_fds(th);
	for (unsigned int i = 0; i < th->nactive; i++) {
		th->active[i]->kicked = true;
		arm_kick(th, th->active[i]);
	}
	return false;
}

/*
 * A control read can complete while we drain inside park(); then it is no
 * longer armed, so handle it again before the loop may sleep.
 */
static bool handle_ctl(struct iothread *th)
{
	while (th->ctl_pending) {
		bool pause;

		th->ctl_pending = false;
		arm_ctl(th);
		pthread_mutex_lock(&th->mu);
		pause = th->want_pause || th->want_exit;
		pthread_mutex_unlock(&th->mu);
		if (pause && park(th))
			return true;
	}
	return false;
}

/* A polling thread going to sleep asks for kicks; true if work came. */
static bool prepare_sleep(struct iothread *th)
{
	bool work = false;

	for (unsigned int i = 0; i < th->nactive; i++) {
		if (virtq_enable_kicks(th->active[i])) {
			th->active[i]->kicked = true;
			work = true;
		}
	}
	return work;
}

/* Any request of ours still running? */
static bool in_flight(struct iothread *th)
{
	for (unsigned int i = 0; i < th->nactive; i++) {
		if (th->active[i]->inflight)
			return true;
	}
	return false;
}

/* See virtq_recheck(): a late look at every ring, after a quiet spell. */
static void recheck_all(struct iothread *th)
{
	for (unsigned int i = 0; i < th->nactive; i++) {
		struct virtq *vq = th->active[i];

		if (virtq_recheck(vq)) {
			log_debug("vq %u: a notification the driver asked for late",
				  vq->index);
			eventfd_write(vq->call_fd, 1);
		}
	}
}

/* After the last work, look again this long after it (then no more). */
static const uint32_t recheck_ms[] = { 1, 10, 100, 1000, 10000 };

static void timer_done(struct io_op *op, int res)
{
	struct iothread *th = container_of(op, struct iothread, timer_op);

	th->timer_armed = false;
	th->timer_fired = res != -ECANCELED;
}

static void arm_timer(struct iothread *th, uint32_t ms)
{
	memset(&th->timer_op, 0, sizeof(th->timer_op));
	th->timer_op.opcode = IO_OP_TIMEOUT;
	th->timer_op.timeout_ms = ms;
	th->timer_op.done = timer_done;
	th->timer_armed = true;
	th->timer_seq = th->work_seq;
	io_engine_queue(th->eng, &th->timer_op);
}

/*
 * The rechecks come from a timer that is armed when the thread goes idle
 * and is not cancelled when work arrives: arming and cancelling a timer on
 * every idle wait costs more than the I/O at low queue depths (in a VM,
 * each one reprograms the virtual timer).  When it fires after a pass that
 * found work, the next idle wait arms it again; when nothing happened
 * since it was armed, the rings get their late look and the next interval
 * starts.  So a recheck comes between one and two intervals after the
 * last work.
 */
static void idle_timer(struct iothread *th, unsigned int *rechecks)
{
	if (!th->timer_fired)
		return;
	th->timer_fired = false;
	if (th->timer_seq != th->work_seq || in_flight(th))
		return;
	recheck_all(th);
	(*rechecks)++;
}

/*
 * Sleep (wait) or only look (!wait) for events.  The length of an idle
 * sleep (polling on, nothing in flight) goes to *slept, for the window to
 * adapt once the pass has shown whether work came.  Returns what
 * io_engine_run() returns.
 */
static int run_engine(struct iothread *th, bool wait, bool idle,
		      uint64_t *slept)
{
	uint64_t t0;
	int ret;

	*slept = 0;
	if (!wait || !idle)
		return io_engine_run(th->eng, wait);
	t0 = iothread_now_ns();
	ret = io_engine_run(th->eng, true);
	/* The pass's clock (iothread_pass_ns()) is the wake-up time. */
	th->pass_ns = iothread_now_ns();
	*slept = th->pass_ns - t0 + 1;
	return ret;
}

/*
 * Poll, or go to sleep?  Only a thread with nothing of its own in flight
 * polls, for the guest's next request.  Waiting for its own completions it
 * sleeps: the kernel may run those requests in worker threads on this CPU,
 * which polling would starve (128k reads at QD8 lost 8% that way), and a
 * disk's latency is no reason to keep polling for the next kick.
 */
static bool want_sleep(struct iothread *th, uint64_t last_work, bool idle)
{
	if (idle && poll_window_open(&th->poll, last_work, iothread_now_ns()))
		return false;
	return !prepare_sleep(th);
}

/* After a pass with a polling ceiling: adapt the window to the sleep. */
static void adapt_window(struct poll_window *pw, bool work, uint64_t slept)
{
	if (!slept)
		return;
	if (work)
		poll_window_slept(pw, slept);
	else
		poll_window_idle(pw, slept);
}

/*
 * Wait for events, handle control requests, take new requests from kicked
 * queues, publish completions.  With a polling ceiling, the thread keeps
 * looking at the rings (kicks off) until its adaptive window (see
 * poll_window.c) has passed without work.
 *
 * A queue that stopped at its max_batch is taken up again at once, after
 * its first part was submitted and whatever completed was published: the
 * front end refills while we work on the rest, instead of both sides
 * taking turns with the whole queue.
 */
static void loop(struct iothread *th)
{
	uint64_t last_work = 0, slept;
	unsigned int rechecks = ARRAY_SIZE(recheck_ms);
	bool more = false;

	for (;;) {
		bool wait = !more, work = false, idle = false;
		int ret;

		if (th->poll.max_ns && wait) {
			idle = !in_flight(th);
			wait = want_sleep(th, last_work, idle);
		}
		iothread_timers_arm_wait(th);
		if (wait && rechecks < ARRAY_SIZE(recheck_ms) &&
		    !th->timer_armed && !in_flight(th))
			arm_timer(th, recheck_ms[rechecks]);
		th->pass_ns = 0;
		ret = run_engine(th, wait, idle, &slept);
		if (ret < 0)
			engine_failed(th, "", ret);
		/*
		 * Nothing completed yet: if the kernel handed our requests to
		 * a worker thread on this CPU, let it run before we take more.
		 */
		if (more && ret == 0)
			sched_yield();
		/* The timer's own completion is not work. */
		if (th->timer_fired)
			ret--;
		if (th->ctl_pending && handle_ctl(th))
			return;
		run_wake(th);
		if (th->tfd_fired)
			iothread_timers_run(th, false);
		idle_timer(th, &rechecks);
		more = false;
		for (unsigned int i = 0; i < th->nactive; i++) {
			struct virtq *vq = th->active[i];

			if (vq->kicked || vq->more ||
			    (th->poll.max_ns && virtq_has_work(vq))) {
				bool kicked = vq->kicked;

				vq->kicked = false;
				work |= virtq_process(vq) > 0;
				if ((kicked || vq->polled) && th->ops->poke)
					th->ops->poke(th->ctx, vq);
				more |= vq->more;
			}
		}
		flush_all(th);
		if (work || ret > 0) {
			rechecks = 0;
			th->work_seq++;
		}
		if (!th->poll.max_ns)
			continue;
		adapt_window(&th->poll, work || ret > 0, slept);
		if (work || ret > 0)
			last_work = iothread_now_ns();
	}
}

static void *thread_main(void *arg)
{
	struct iothread *th = arg;
	char name[16];
	int ret;

	snprintf(name, sizeof(name), "vu-io%u", th->id);
	pthread_setname_np(pthread_self(), name);
	/* Deadlines (QoS waits) are met to the microsecond, not 50 us late. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	ret = io_engine_create(th->kind, &th->eng_opts, &th->eng);
	pthread_mutex_lock(&th->mu);
	th->started = true;
	th->start_err = ret;
	pthread_cond_broadcast(&th->cv);
	pthread_mutex_unlock(&th->mu);
	if (ret < 0)
		return NULL;

	set_wait_fds(th);
	arm_ctl(th);
	/* Start parked: nothing to serve before a front end sets queues up. */
	if (!park(th))
		loop(th);
	drain(th);
	/* From now on a pause request must not wait for us. */
	pthread_mutex_lock(&th->mu);
	th->paused = true;
	pthread_cond_broadcast(&th->cv);
	pthread_mutex_unlock(&th->mu);
	if (th->ctl_armed)
		io_engine_cancel(th->eng, &th->ctl_op);
	if (th->tfd_armed)
		io_engine_cancel(th->eng, &th->tfd_op);
	while ((th->ctl_armed || th->tfd_armed) &&
	       io_engine_run(th->eng, true) >= 0)
		;
	io_engine_destroy(th->eng);
	th->eng = NULL;
	return NULL;
}

int iothread_start(struct iothread_group *g, const struct vu_dev_ops *ops,
		   void *ctx, enum io_engine_kind kind,
		   const struct io_engine_opts *eo, unsigned int poll_us,
		   struct virtq **vqs, unsigned int nvqs)
{
	struct iothread *th = &g->th[g->n];
	sigset_t all, old;
	int ret;

	memset(th, 0, sizeof(*th));
	th->id = g->n;
	th->group = g;
	th->ops = ops;
	th->ctx = ctx;
	th->kind = kind;
	th->eng_opts = *eo;
	th->eng_opts.max_wait_fds = nvqs + 2;
	th->vqs = vqs;
	th->nvqs = nvqs;
	poll_window_init(&th->poll, poll_us * 1000ull);
	th->active = calloc(nvqs, sizeof(*th->active));
	th->wait_fds = calloc(nvqs + 2, sizeof(*th->wait_fds));
	th->tfd = -1;
	if (!th->active || !th->wait_fds) {
		ret = -ENOMEM;
		goto fail_mem;
	}
	th->want_pause = true;
	ret = iothread_timers_init(th);
	if (ret < 0)
		goto fail_mem;
	th->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (th->ctl_fd < 0) {
		ret = -errno;
		goto fail_mem;
	}
	pthread_mutex_init(&th->mu, NULL);
	pthread_cond_init(&th->cv, NULL);
	for (unsigned int i = 0; i < nvqs; i++)
		vqs[i]->th = th;

	/*
	 * Signals belong to the control thread, except those a thread must
	 * take itself: SIGSYS (the sandbox reports a refused system call in
	 * the thread that made it) and SIGBUS (a fault on guest memory must
	 * reach the handler in mem.c; a blocked fault kills the process).
	 */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGBUS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = -pthread_create(&th->tid, NULL, thread_main, th);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		goto fail;

	pthread_mutex_lock(&th->mu);
	while (!th->started)
		pthread_cond_wait(&th->cv, &th->mu);
	ret = th->start_err;
	while (ret == 0 && !th->paused)
		pthread_cond_wait(&th->cv, &th->mu);
	pthread_mutex_unlock(&th->mu);
	if (ret < 0) {
		pthread_join(th->tid, NULL);
		goto fail;
	}
	g->n++;
	return 0;
fail:
	close(th->ctl_fd);
	th->ctl_fd = -1;
fail_mem:
	iothread_timers_fini(th);
	free(th->active);
	free(th->wait_fds);
	th->active = NULL;
	th->wait_fds = NULL;
	return ret;
}

void iothread_pause(struct iothread *th)
{
	pthread_mutex_lock(&th->mu);
	th->want_pause = true;
	pthread_mutex_unlock(&th->mu);
	eventfd_write(th->ctl_fd, 1);
	pthread_mutex_lock(&th->mu);
	while (!th->paused)
		pthread_cond_wait(&th->cv, &th->mu);
	pthread_mutex_unlock(&th->mu);
}

void iothread_resume(struct iothread *th)
{
	pthread_mutex_lock(&th->mu);
	th->want_pause = false;
	pthread_cond_broadcast(&th->cv);
	pthread_mutex_unlock(&th->mu);
}

void iothread_stop(struct iothread *th)
{
	if (th->ctl_fd < 0 || th->stopped)
		return;
	pthread_mutex_lock(&th->mu);
	th->want_exit = true;
	pthread_cond_broadcast(&th->cv);
	pthread_mutex_unlock(&th->mu);
	eventfd_write(th->ctl_fd, 1);
	pthread_join(th->tid, NULL);
	th->stopped = true;
}

void iothread_destroy(struct iothread *th)
{
	if (th->ctl_fd < 0)
		return;
	iothread_stop(th);
	close(th->ctl_fd);
	th->ctl_fd = -1;
	iothread_timers_fini(th);
	pthread_mutex_destroy(&th->mu);
	pthread_cond_destroy(&th->cv);
	free(th->active);
	free(th->wait_fds);
	th->active = NULL;
	th->wait_fds = NULL;
}
