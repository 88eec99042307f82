// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * disk_limits.c: a disk's QoS limits (throttle.h) on the I/O path.  The
 * limiter is the disk's, shared by every queue and thread under one lock,
 * taken only while limits are set.  A request that may not go yet waits
 * in its queue's list, in order, and its thread sleeps on a deadline
 * (iothread_timer.c) until the first one may: no spinning, and other
 * queues and disks go on.  While a thread drains (a pause, a migration,
 * a disconnect), everything waiting goes at once, as QEMU lifts its
 * limits for a drain.
 */
#include "disk_io.h"
#include "util.h"

static bool limited_kind(const struct disk_req *r)
{
	return r->kind == DISK_READ || r->kind == DISK_WRITE ||
	       r->kind == DISK_WRITE_ZEROES;
}

/* 0 when r may go now (and is counted in the buckets), else ns to wait. */
static uint64_t try_admit(struct disk_req *r, uint64_t now)
{
	struct disk *d = r->disk;
	uint64_t wait;

	pthread_mutex_lock(&d->thr_mu);
	if (!d->limited)
		wait = 0;
	else
		wait = throttle_admit(&d->thr, r->kind != DISK_READ, r->bytes,
				      now);
	pthread_mutex_unlock(&d->thr_mu);
	return wait;
}

/* Must r go now, limits or not? */
static bool released(const struct disk_req *r)
{
	return iothread_draining(r->th) ||
	       r->wait_seq != __atomic_load_n(&r->disk->release_seq,
					      __ATOMIC_ACQUIRE);
}

/* The queue's timer: let waiting requests go, in order, while they may. */
static void queue_timer(struct iothread_timer *t)
{
	struct disk_queue *q = container_of(t, struct disk_queue, timer);
	struct disk_req *r;

	while ((r = q->wait_head)) {
		uint64_t now = iothread_now_ns();
		uint64_t wait = released(r) ? 0 : try_admit(r, now);

		if (wait) {
			iothread_timer_arm(r->th, t, now + wait);
			return;
		}
		q->wait_head = r->next;
		if (!q->wait_head)
			q->wait_tail = &q->wait_head;
		r->go(r);
	}
}

void disk_queue_init(struct disk *d, struct disk_queue *q)
{
	q->disk = d;
	q->wait_head = NULL;
	q->wait_tail = &q->wait_head;
	q->timer.fn = queue_timer;
}

bool disk_limits_admit(struct disk_req *r)
{
	struct disk_queue *q = r->dq;
	uint64_t now = iothread_now_ns(), wait = 1;

	if (!limited_kind(r))
		return true;
	/* Behind others of its queue, it waits its turn. */
	if (!q->wait_head) {
		if (iothread_draining(r->th))
			return true;
		wait = try_admit(r, now);
		if (!wait)
			return true;
	}
	r->next = NULL;
	r->wait_seq = __atomic_load_n(&r->disk->release_seq, __ATOMIC_ACQUIRE);
	*q->wait_tail = r;
	q->wait_tail = &r->next;
	if (!q->timer.armed)
		iothread_timer_arm(r->th, &q->timer, now + wait);
	return false;
}

/* ---- control thread ------------------------------------------------ */

void disk_limits_get(struct disk *d, struct thr_config *c)
{
	pthread_mutex_lock(&d->thr_mu);
	*c = d->thr.cfg;
	pthread_mutex_unlock(&d->thr_mu);
}

void disk_limits_set(struct disk *d, const struct thr_config *c)
{
	pthread_mutex_lock(&d->thr_mu);
	throttle_init(&d->thr, c, iothread_now_ns());
	__atomic_store_n(&d->limited, thr_config_enabled(c), __ATOMIC_RELEASE);
	if (thr_config_enabled(c))
		__atomic_store_n(&d->was_limited, true, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->thr_mu);
}

bool disk_limits_release(struct disk *d)
{
	__atomic_add_fetch(&d->release_seq, 1, __ATOMIC_ACQ_REL);
	return __atomic_load_n(&d->was_limited, __ATOMIC_RELAXED);
}
