/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iothread.h: I/O threads.  Each thread owns one I/O engine and a fixed set
 * of virtqueues, and holds the hooks of the device it serves (device.h).
 * The threads of one device form a group: one thread can wake the others,
 * and can have something run once they all published their completions.
 * The control thread changes queue state only while every I/O thread is
 * paused, and a pause first drains all in-flight I/O.
 */
#ifndef VU_IOTHREAD_H
#define VU_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "poll_window.h"
#include "virtq.h"

/*
 * The process's exit status when an I/O thread's engine fails while it
 * serves: the daemon ends at once, as after a crash (see iothread.c).
 */
#define IOTHREAD_EXIT_ENGINE	3

struct iothread;
struct vu_dev_ops;
/* A device's work on one of its I/O threads, asked for by iothread_wake(). */
typedef void (*iothread_wake_fn)(void *ctx, struct iothread *th);
/* What runs on a thread once its group published (iothread_after_publish). */
typedef void (*iothread_round_fn)(void *arg, struct iothread *th);

/*
 * The I/O threads of one device, th[0..n), and the publish round they
 * share (see iothread_after_publish()).  n counts the threads started.
 */
struct iothread_group {
	struct iothread *th;
	unsigned int n;
	unsigned int round_gen;		/* atomic: the last round, 0 none */
	unsigned int round_left;	/* atomic: threads yet to publish */
	struct iothread *round_th;	/* atomic: where the round ends */
};

/*
 * A deadline on an I/O thread (iothread_timer.c): fn runs on the thread
 * at or soon after it, also earlier when the thread drains or is woken
 * (iothread_wake()): fn must look at the time, and at
 * iothread_draining(), itself.  Armed until fn runs.
 */
struct iothread_timer;
typedef void (*iothread_timer_fn)(struct iothread_timer *t);

struct iothread_timer {
	iothread_timer_fn fn;
	uint64_t deadline;		/* CLOCK_MONOTONIC ns */
	struct iothread_timer *next;
	bool armed;
};

struct iothread {
	unsigned int id;		/* its index in group->th[] */
	struct iothread_group *group;
	/* The device it serves: its hooks, with ctx as their first argument. */
	const struct vu_dev_ops *ops;
	void *ctx;
	pthread_t tid;
	enum io_engine_kind kind;
	struct io_engine_opts eng_opts;
	struct io_engine *eng;
	/* Polling for requests after the last work (poll.max_ns 0: none). */
	struct poll_window poll;

	struct virtq **vqs;
	unsigned int nvqs;
	/* The active ones, rebuilt on every resume: the loop scans only these. */
	struct virtq **active;
	unsigned int nactive;

	int ctl_fd;
	int *wait_fds;		/* ctl_fd, then the active queues' kick fds */
	struct io_op ctl_op;
	bool ctl_armed;
	/* The idle recheck timer (see loop() in iothread.c). */
	struct io_op timer_op;
	bool timer_armed;
	bool timer_fired;
	/* Deadlines (iothread_timer.c): the armed ones, one timerfd. */
	struct iothread_timer *timers;
	int tfd;
	uint64_t tfd_deadline;		/* what tfd is set to, or 0 */
	struct io_op tfd_op;
	bool tfd_armed;
	bool tfd_fired;
	/* The time of this pass (iothread_pass_ns()), or 0 before it is read. */
	uint64_t pass_ns;
	unsigned long work_seq;		/* passes that found work */
	unsigned long timer_seq;	/* work_seq when the timer was armed */
	bool ctl_pending;
	bool draining;
	bool wake;		/* atomic: ops->wake must run */
	unsigned int round_acked;	/* the last round it published for */
	iothread_round_fn round_fn;	/* the round it waits for, if any */
	void *round_arg;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want_pause;	/* protected by mu */
	bool want_exit;		/* protected by mu */
	bool paused;		/* protected by mu */
	bool started;		/* protected by mu */
	int start_err;		/* protected by mu */
	bool stopped;		/* joined (control thread) */
};

/*
 * Start the group's next thread, g->th[g->n], serving vqs[0..nvqs) for the
 * device ops with ctx (ops is required; its hooks are optional as
 * device.h says).  It comes up paused; g->n counts it.  Returns 0 or
 * -errno (for example when its engine cannot be created).
 */
int iothread_start(struct iothread_group *g, const struct vu_dev_ops *ops,
		   void *ctx, enum io_engine_kind kind,
		   const struct io_engine_opts *eo, unsigned int poll_us,
		   struct virtq **vqs, unsigned int nvqs);
/* Wait until the thread has drained its I/O and is idle. */
void iothread_pause(struct iothread *th);
/* Let it run again; it re-arms the kicks of every active queue. */
void iothread_resume(struct iothread *th);
/*
 * Drain, stop and join the thread.  Its eventfd stays open: other threads
 * may still wake it (harmlessly) until iothread_destroy().
 */
void iothread_stop(struct iothread *th);
/* Free what iothread_start() set up, once no thread may wake th any more. */
void iothread_destroy(struct iothread *th);

/*
 * From any thread: have th run its device's wake hook soon, also while it
 * drains for a pause (a paused thread runs it when it resumes).  Wakes
 * asked for before the hook starts are merged into one call.
 */
void iothread_wake(struct iothread *th);
/* Wake every thread of th's group, th too; or every one but th. */
void iothread_wake_all(struct iothread *th);
void iothread_wake_others(struct iothread *th);
/* On th itself: publish every active queue's completions now. */
void iothread_flush(struct iothread *th);
/*
 * On th: a publish round.  th publishes its completions now and wakes
 * the rest of its group; each of them, in its next wake (after the
 * device's wake hook), publishes every completion it recorded so far.
 * Once all have, fn(arg, th) runs on th, after its wake hook: everything
 * any thread of the group recorded before this call (that th has seen
 * recorded, say under a lock both took) is in the used rings by then.  In
 * a group of one, fn runs before this returns.  One round at a time per
 * group: start the next one from fn or after it ran.
 */
void iothread_after_publish(struct iothread *th, iothread_round_fn fn,
			    void *arg);
/*
 * For the loop (iothread.c), in each wake after the device's hook: th's
 * part in a round another thread started, or the end of th's own.
 */
void iothread_round_wake(struct iothread *th);

/* On th: run t->fn at deadline (CLOCK_MONOTONIC ns); see struct iothread_timer. */
void iothread_timer_arm(struct iothread *th, struct iothread_timer *t,
			uint64_t deadline);
/* On th: is it draining (everything waiting must go now)? */
static inline bool iothread_draining(const struct iothread *th)
{
	return th->draining;
}
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t iothread_now_ns(void);
/*
 * On th: the time since th last waited in its engine, read once per pass
 * for every request that starts or ends in it (for the statistics).
 */
static inline uint64_t iothread_pass_ns(struct iothread *th)
{
	if (!th->pass_ns)
		th->pass_ns = iothread_now_ns();
	return th->pass_ns;
}

/* For the loop (iothread.c): create, wait for, run and free the timers. */
int iothread_timers_init(struct iothread *th);
void iothread_timers_arm_wait(struct iothread *th);
/* Run the due ones, or every armed one when all is true. */
void iothread_timers_run(struct iothread *th, bool all);
void iothread_timers_fini(struct iothread *th);
/* Wait for an eventfd through the engine; done runs when it fires. */
void iothread_arm_read(struct iothread *th, struct io_op *op, int fd,
		       io_done_fn done, bool *armed);

/* The engine of the thread serving a queue (for devices). */
static inline struct io_engine *vq_engine(const struct virtq *vq)
{
	return vq->th->eng;
}

#endif
