// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iothread_timer.c: deadlines on an I/O thread, for work that must wait
 * for time (requests held by QoS limits).  Each thread has one timerfd,
 * set to its earliest deadline and read through the engine like a kick,
 * so the thread sleeps until then with no CPU spent.  The armed timers
 * are few (one per disk and queue with requests waiting): an unsorted
 * list is enough.  Nothing here allocates after iothread_timers_init().
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "iothread.h"
#include "log.h"
#include "util.h"

uint64_t iothread_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int iothread_timers_init(struct iothread *th)
{
	th->timers = NULL;
	th->tfd_deadline = 0;
	th->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	return th->tfd < 0 ? -errno : 0;
}

void iothread_timers_fini(struct iothread *th)
{
	if (th->tfd >= 0)
		close(th->tfd);
	th->tfd = -1;
}

/* Point the timerfd at deadline (0 disarms it). */
static void set_tfd(struct iothread *th, uint64_t deadline)
{
	struct itimerspec its = { 0 };

	if (deadline == th->tfd_deadline)
		return;
	its.it_value.tv_sec = deadline / 1000000000ull;
	its.it_value.tv_nsec = deadline % 1000000000ull;
	if (timerfd_settime(th->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		log_err("I/O thread %u: cannot set its timer: %s", th->id,
			strerror(errno));
		return;
	}
	th->tfd_deadline = deadline;
}

static void tfd_done(struct io_op *op, int res)
{
	struct iothread *th = container_of(op, struct iothread, tfd_op);

	th->tfd_armed = false;
	if (res != -ECANCELED)
		th->tfd_fired = true;
}

/* The loop, before it may sleep: have the engine wait for the timerfd. */
void iothread_timers_arm_wait(struct iothread *th)
{
	if (th->timers && !th->tfd_armed && !th->draining)
		iothread_arm_read(th, &th->tfd_op, th->tfd, tfd_done,
				  &th->tfd_armed);
}

void iothread_timer_arm(struct iothread *th, struct iothread_timer *t,
			uint64_t deadline)
{
	if (!t->armed) {
		t->armed = true;
		t->next = th->timers;
		th->timers = t;
	}
	t->deadline = deadline;
	if (!th->tfd_deadline || deadline < th->tfd_deadline)
		set_tfd(th, deadline);
}

void iothread_timers_run(struct iothread *th, bool all)
{
	struct iothread_timer *due = NULL, **pp = &th->timers, *t;
	uint64_t now, next = 0;

	th->tfd_fired = false;
	if (!th->timers)
		return;
	now = iothread_now_ns();
	/* Take the due ones off first: their fn may arm them again. */
	while ((t = *pp)) {
		if (all || t->deadline <= now) {
			*pp = t->next;
			t->armed = false;
			t->next = due;
			due = t;
		} else {
			pp = &t->next;
		}
	}
	while ((t = due)) {
		due = t->next;
		t->fn(t);
	}
	for (t = th->timers; t; t = t->next) {
		if (!next || t->deadline < next)
			next = t->deadline;
	}
	/* The timerfd may stay set for a later time: a wake-up early is harmless. */
	if (next && next != th->tfd_deadline)
		set_tfd(th, next);
	else if (!next)
		th->tfd_deadline = 0;
}
