/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iothread.h: I/O threads.  Each thread owns one I/O engine and a fixed set
 * of virtqueues.  The control thread changes queue state only while every
 * I/O thread is paused, and a pause first drains all in-flight I/O.
 */
#ifndef VU_IOTHREAD_H
#define VU_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "virtq.h"

/*
 * The process's exit status when an I/O thread's engine fails while it
 * serves: the daemon ends at once, as after a crash (see iothread.c).
 */
#define IOTHREAD_EXIT_ENGINE	3

struct iothread;
/* A device's work on one of its I/O threads, asked for by iothread_wake(). */
typedef void (*iothread_wake_fn)(void *ctx, struct iothread *th);

struct iothread {
	unsigned int id;
	pthread_t tid;
	enum io_engine_kind kind;
	struct io_engine_opts eng_opts;
	struct io_engine *eng;
	uint64_t poll_ns;	/* polling window after the last work, or 0 */

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
	unsigned long work_seq;		/* passes that found work */
	unsigned long timer_seq;	/* work_seq when the timer was armed */
	bool ctl_pending;
	bool draining;
	bool wake;		/* atomic: on_wake must run */
	iothread_wake_fn on_wake;
	void *wake_ctx;

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
 * Start a thread serving vqs[0..nvqs).  It comes up paused.  Returns 0 or
 * -errno (for example when its engine cannot be created).
 */
int iothread_start(struct iothread *th, unsigned int id,
		   enum io_engine_kind kind, const struct io_engine_opts *eo,
		   unsigned int poll_us, struct virtq **vqs, unsigned int nvqs,
		   iothread_wake_fn on_wake, void *wake_ctx);
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
 * From any thread: have th run its on_wake hook soon, also while it drains
 * for a pause (a paused thread runs it when it resumes).  Wakes asked for
 * before the hook starts are merged into one call.
 */
void iothread_wake(struct iothread *th);
/* On th itself: publish every active queue's completions now. */
void iothread_flush(struct iothread *th);

/* The engine of the thread serving a queue (for devices). */
static inline struct io_engine *vq_engine(const struct virtq *vq)
{
	return vq->th->eng;
}

#endif
