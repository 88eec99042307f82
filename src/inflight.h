/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inflight.h: the inflight region (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD), a
 * shared memory area the front end keeps for us so that a restarted
 * back-end can run again every request the previous one had taken from a
 * ring but not completed.  Owns the region's layout, its creation
 * (GET_INFLIGHT_FD) and checked mapping (SET_INFLIGHT_FD), the bookkeeping
 * of each queue on the I/O path, and the recovery at a queue's start.
 *
 * Layout: the split-ring layout of the vhost-user specification ("Inflight
 * I/O tracking"), one queue region after the other, each rounded up to 64
 * bytes:
 *
 *	struct inflight_queue_split	16-byte header
 *	  u64 features			0
 *	  u16 version			1 (0: never used, we initialise it)
 *	  u16 desc_num			entries in desc[], the queue size
 *	  u16 last_batch_head		newest entry of the completion list
 *	  u16 used_idx			used->idx when the list was last settled
 *	struct inflight_desc_split desc[desc_num], 16 bytes each, by head
 *	  u8  inflight			taken from the avail ring, not completed
 *	  u8  padding[5]
 *	  u16 next			older entry of the completion list
 *	  u64 counter			order in which heads were taken
 *
 * The layout is the specification's, so a region survives an upgrade of
 * this daemon and may be read by another back-end that follows it.  The
 * header's version field names it; a region with another version or size
 * is refused when it arrives and reset (its requests lost, with a log line)
 * if it changes later.  Packed rings would use the specification's packed
 * layout (a 32-byte header with free_head/old_free_head, used_idx/
 * old_used_idx, the wrap counters, and 32-byte descriptor states holding
 * the descriptors themselves): add struct inflight_queue_packed and its
 * entry, make inflight_queue_bytes() take the ring type (negotiated with
 * VIRTIO_F_RING_PACKED, which QEMU sends before GET_INFLIGHT_FD), record it
 * in struct inflight_region, and give inflight_vq a packed variant of the
 * take/complete/publish/resume steps below.  The split code stays as is.
 *
 * How the region stays exact while completions are batched.  A request
 * moves through four steps, each writing the region before the next one
 * becomes visible to anyone:
 *
 *  take      desc[h].counter = ++counter, then desc[h].inflight = 1; then
 *            (in our own memory only) last_avail_idx++.
 *  complete  the used ring entry is written (not yet visible), then
 *            desc[h].next = previous head, last_batch_head = h: the
 *            completions since the last publication form a list.
 *  publish   used->idx is stored (the guest may now see the batch), then
 *            desc[h].inflight = 0 for every head of the batch, then
 *            used_idx = used->idx.
 *  resume    (at the next start of the ring, maybe by a new process)
 *            see below.
 *
 * Invariants, true at every instant, so at any point where the process may
 * die:
 *  (I1) every request the guest may have seen completed is either cleared
 *       or in the first (used->idx - used_idx) entries of the list from
 *       last_batch_head, because used_idx only catches up after the
 *       clearing, and the list is extended before used->idx moves;
 *  (I2) every request taken and not visibly completed has inflight = 1,
 *       because the flag is set before the request is handed on and
 *       cleared only after used->idx covers it;
 *  (I3) hence, once (I1)'s batch is cleared, the number of heads with
 *       inflight = 1 is exactly the number of requests taken and not
 *       completed, and the next avail entry to take is used->idx plus that
 *       number.  The one exception is a head whose take was interrupted
 *       between its counter and its flag: it was not handed on, it counts
 *       as not taken, and it is taken again from the avail ring, whose
 *       slot the driver cannot have reused (it may not have more than
 *       queue-size requests outstanding).
 * Resume therefore clears the first (used->idx - used_idx) entries of the
 * list, sets used_idx, runs every head still marked again, oldest counter
 * first, before anything new, and continues the avail ring at used->idx
 * plus their number.  A completion written to the used ring but not yet
 * published is simply run again: the guest never saw it.  Graceful stops
 * (GET_VRING_BASE, disconnect, SIGTERM) drain every request first, so they
 * leave no flag set and used_idx equal to used->idx.
 *
 * Stores to the region are ordered by the compiler and the CPU (release
 * fences); nobody reads the region while we run, only a successor after we
 * died, when all our stores are done.  The front end can write to the
 * region at any time: the I/O path only ever writes it, and recovery
 * checks every index it reads.
 */
#ifndef VU_INFLIGHT_H
#define VU_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "vu_proto.h"

#define INFLIGHT_SPLIT_VERSION	1
#define INFLIGHT_ALIGN		64

struct inflight_desc_split {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct inflight_queue_split {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct inflight_desc_split desc[];
};

_Static_assert(sizeof(struct inflight_desc_split) == 16,
	       "DescStateSplit is 16 bytes");
_Static_assert(offsetof(struct inflight_desc_split, next) == 6 &&
	       offsetof(struct inflight_desc_split, counter) == 8,
	       "DescStateSplit field offsets");
_Static_assert(sizeof(struct inflight_queue_split) == 16 &&
	       offsetof(struct inflight_queue_split, used_idx) == 14,
	       "QueueRegionSplit header is 16 bytes");

/* Bytes one queue of queue_size entries takes in the region. */
static inline size_t inflight_queue_bytes(unsigned int queue_size)
{
	return ALIGN_UP(sizeof(struct inflight_queue_split) +
			(size_t)queue_size * sizeof(struct inflight_desc_split),
			(size_t)INFLIGHT_ALIGN);
}

/* A region handed to us by SET_INFLIGHT_FD, mapped. */
struct inflight_region {
	void *map;		/* what mmap() returned, or NULL */
	size_t map_len;
	uint8_t *base;		/* queue 0 */
	uint16_t num_queues;
	uint16_t queue_size;
};

/*
 * GET_INFLIGHT_FD: a new zero-filled, sealed memfd for req's queues.
 * Returns the fd (the caller sends and closes it) with *size set, or
 * -errno after a log line.  max_queues and max_queue_size bound req.
 */
int inflight_create(const struct vu_inflight *req, unsigned int max_queues,
		    unsigned int max_queue_size, uint64_t *size);

/*
 * SET_INFLIGHT_FD: check w against the limits and fd's real size, map the
 * part we use and check every queue header.  The caller keeps (and closes)
 * fd.  Returns 0 or -errno after a log line; r is untouched on failure.
 */
int inflight_map(struct inflight_region *r, int fd, const struct vu_inflight *w,
		 unsigned int max_queues, unsigned int max_queue_size);
void inflight_unmap(struct inflight_region *r);

static inline struct inflight_queue_split *
inflight_queue(const struct inflight_region *r, unsigned int i)
{
	if (!r->map || i >= r->num_queues)
		return NULL;
	return (struct inflight_queue_split *)
		(r->base + i * inflight_queue_bytes(r->queue_size));
}

/* One virtqueue's view of its part of the region. */
struct inflight_vq {
	struct inflight_queue_split *q;	/* NULL: no tracking */
	uint16_t desc_num;		/* entries in q->desc[] */
	bool resume;			/* recover at the ring's next start */
	uint64_t counter;		/* the last counter given out */
	uint16_t last_head;		/* our copy of q->last_batch_head */
	/* Completions recorded since the last publication, by head. */
	uint16_t *batch;
	uint16_t nbatch;
	uint16_t cap;			/* entries of batch and resubmit */
	/* Heads to run again after a restart, oldest first. */
	uint16_t *resubmit;
	uint16_t nresubmit;
	uint16_t next_resubmit;
};

/* Control thread, I/O thread paused: start or stop tracking. */
void inflight_vq_attach(struct inflight_vq *iv, struct inflight_queue_split *q,
			uint16_t desc_num);
void inflight_vq_detach(struct inflight_vq *iv);

/*
 * Control thread, at the first activation after the ring was started:
 * settle the region against the ring's used index (see the top of this
 * file), list the heads to run again in iv->resubmit and, if the region
 * already tracked this ring, set *last_avail to where the avail ring
 * continues.  Returns 0 or -errno after a log line.
 */
int inflight_vq_resume(struct inflight_vq *iv, unsigned int vq_index,
		       uint16_t num, uint16_t used_idx, uint16_t *last_avail);

static inline bool inflight_vq_has_resubmit(const struct inflight_vq *iv)
{
	return iv->next_resubmit < iv->nresubmit;
}

/* I/O thread: head was taken from the avail ring. */
static inline void inflight_take(struct inflight_vq *iv, uint16_t head)
{
	struct inflight_desc_split *d;

	if (!iv->q)
		return;
	d = &iv->q->desc[head];
	WRITE_ONCE(d->counter, ++iv->counter);
	smp_wmb();
	WRITE_ONCE(d->inflight, 1);
}

/*
 * I/O thread: is the batch full?  Then publish before recording another
 * completion.  Only a driver that offers a head again before it saw it
 * completed can get here.
 */
static inline bool inflight_batch_full(const struct inflight_vq *iv)
{
	return iv->q && iv->nbatch >= iv->cap;
}

/* I/O thread: head's used ring entry was written, not yet published. */
static inline void inflight_complete(struct inflight_vq *iv, uint16_t head)
{
	if (!iv->q)
		return;
	WRITE_ONCE(iv->q->desc[head].next, iv->last_head);
	smp_wmb();
	WRITE_ONCE(iv->q->last_batch_head, head);
	iv->last_head = head;
	iv->batch[iv->nbatch++] = head;
}

/* I/O thread: used->idx now is used_idx and shows the whole batch. */
static inline void inflight_published(struct inflight_vq *iv, uint16_t used_idx)
{
	if (!iv->q)
		return;
	smp_wmb();
	for (uint16_t i = 0; i < iv->nbatch; i++)
		WRITE_ONCE(iv->q->desc[iv->batch[i]].inflight, 0);
	smp_wmb();
	WRITE_ONCE(iv->q->used_idx, used_idx);
	iv->nbatch = 0;
}

#endif
