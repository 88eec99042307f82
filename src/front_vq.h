/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front_vq.h: the driver side of a split virtqueue, for the project's front
 * end: a free list of descriptors, chain and indirect-table building, kicks
 * that honour EVENT_IDX, and reaping of used entries.
 */
#ifndef VU_FRONT_VQ_H
#define VU_FRONT_VQ_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#define FRONT_MAX_VQS	64

struct front_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;		/* device-writable */
};

struct front_vq {
	unsigned int index;
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	int kick_fd, call_fd, err_fd;
	bool event_idx;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;	/* next avail slot (shadow of avail->idx) */
	uint16_t kicked_idx;	/* avail idx at the last kick */
	uint16_t last_used;	/* next used entry to reap */
	uint16_t *chain_len;	/* descriptors per head, for freeing */
	void **cookie;
	uint64_t kicks;		/* eventfd writes to kick_fd */
	uint64_t calls;		/* notifications received on call_fd */
};

/*
 * Put a chain of n buffers on the ring (not yet visible).  Returns the head
 * or -ENOSPC when fewer than n descriptors are free.
 */
int fvq_add(struct front_vq *vq, const struct front_buf *bufs, unsigned int n,
	    void *cookie);
/*
 * Same through an indirect table: table points to n free descriptors in
 * guest memory at table_gpa.
 */
int fvq_add_indirect(struct front_vq *vq, struct vring_desc *table,
		     uint64_t table_gpa, const struct front_buf *bufs,
		     unsigned int n, void *cookie);
/* fvq_add_indirect() through table when it is not NULL, else fvq_add(). */
int fvq_add_via(struct front_vq *vq, struct vring_desc *table,
		uint64_t table_gpa, const struct front_buf *bufs,
		unsigned int n, void *cookie);
/* Make added chains visible and kick if the device asked for it. */
void fvq_kick(struct front_vq *vq);
/* Reap one used entry: 1 with *cookie and *len set, 0 when none. */
int fvq_get_used(struct front_vq *vq, void **cookie, uint32_t *len);
/* Wait up to timeout_ms for a call notification; 1, 0 (timeout) or -errno. */
int fvq_wait(struct front_vq *vq, int timeout_ms);
/* Ask for a call after the next used entry (EVENT_IDX) or any (flags). */
void fvq_enable_cb(struct front_vq *vq);
/*
 * Reap one used entry, sleeping on call notifications for up to timeout_ms
 * (0: look once): 1 with *cookie and *len set, 0 on timeout, or -errno.
 */
int fvq_wait_used(struct front_vq *vq, int timeout_ms, void **cookie,
		  uint32_t *len);

/*
 * Raw ring access, for tests that play a hostile driver: these bypass the
 * free list, so a queue used with them is not used with fvq_add() again.
 */
void fvq_set_desc(struct front_vq *vq, uint16_t i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next);
/* Put head into the next avail slot (not yet visible). */
void fvq_put_head(struct front_vq *vq, uint16_t head);
/* Store idx (any value) as the avail index and kick unconditionally. */
void fvq_publish(struct front_vq *vq, uint16_t idx);
/* Reap one used entry as it is: 1 with *id and *len, 0 when none. */
int fvq_raw_used(struct front_vq *vq, uint32_t *id, uint32_t *len);
/* Wait up to timeout_ms for the error eventfd; 1, 0 (timeout) or -errno. */
int fvq_wait_err(struct front_vq *vq, int timeout_ms);

#endif
