// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iothread_group.c: a device's I/O threads as a group: waking all of them
 * or the others, and the publish round, which runs something on one
 * thread once every thread has published the completions it recorded
 * before the round began (virtio-scsi answers a TMF that way: after every
 * completion it waited for is in the used rings).
 */
#include "iothread.h"

void iothread_wake_all(struct iothread *th)
{
	for (unsigned int i = 0; i < th->group->n; i++)
		iothread_wake(&th->group->th[i]);
}

void iothread_wake_others(struct iothread *th)
{
	for (unsigned int i = 0; i < th->group->n; i++) {
		if (&th->group->th[i] != th)
			iothread_wake(&th->group->th[i]);
	}
}

/*
 * A publish round: the thread that starts it numbers it and counts the
 * others in round_left, then wakes them.  Each of them, in a wake that
 * finds a round it has not published for, publishes and counts itself
 * out; the last one wakes the round's thread, which then runs its fn.
 */
void iothread_after_publish(struct iothread *th, iothread_round_fn fn,
			    void *arg)
{
	struct iothread_group *g = th->group;
	unsigned int gen = __atomic_load_n(&g->round_gen, __ATOMIC_RELAXED) + 1;

	/* 0 means "no round": skip it when the count wraps. */
	if (!gen)
		gen = 1;
	th->round_acked = gen;
	iothread_flush(th);
	if (g->n <= 1) {
		fn(arg, th);	/* no one else to wait for */
		return;
	}
	th->round_fn = fn;
	th->round_arg = arg;
	__atomic_store_n(&g->round_th, th, __ATOMIC_RELAXED);
	__atomic_store_n(&g->round_left, g->n - 1, __ATOMIC_RELAXED);
	__atomic_store_n(&g->round_gen, gen, __ATOMIC_RELEASE);
	iothread_wake_others(th);
}

/* A wake's part in another thread's round: publish, then say so. */
static void round_ack(struct iothread *th)
{
	struct iothread_group *g = th->group;
	unsigned int gen = __atomic_load_n(&g->round_gen, __ATOMIC_ACQUIRE);

	if (gen == th->round_acked)
		return;
	th->round_acked = gen;
	iothread_flush(th);
	if (__atomic_sub_fetch(&g->round_left, 1, __ATOMIC_ACQ_REL) == 0)
		iothread_wake(__atomic_load_n(&g->round_th, __ATOMIC_RELAXED));
}

/* The round th started is over once every other thread published. */
static void round_end(struct iothread *th)
{
	iothread_round_fn fn = th->round_fn;

	if (!fn || __atomic_load_n(&th->group->round_left, __ATOMIC_ACQUIRE))
		return;
	th->round_fn = NULL;
	fn(th->round_arg, th);
}

void iothread_round_wake(struct iothread *th)
{
	round_ack(th);
	round_end(th);
}
