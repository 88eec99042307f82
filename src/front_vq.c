// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * front_vq.c: owns the driver side of a split ring for the project's front
 * end: building direct and indirect chains, publishing them with the right
 * barriers, deciding whether a kick is needed, and reaping used entries.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "front_vq.h"
#include "util.h"

static void put_desc(struct vring_desc *d, const struct front_buf *b,
		     uint16_t flags)
{
	d->addr = htole64(b->gpa);
	d->len = htole32(b->len);
	d->flags = htole16(flags | (b->write ? VRING_DESC_F_WRITE : 0));
}

static void publish_head(struct front_vq *vq, uint16_t head, uint16_t n,
			 void *cookie)
{
	vq->chain_len[head] = n;
	vq->cookie[head] = cookie;
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = htole16(head);
	vq->avail_idx++;
}

int fvq_add(struct front_vq *vq, const struct front_buf *bufs, unsigned int n,
	    void *cookie)
{
	uint16_t head = vq->free_head, i = head;

	if (n == 0 || n > vq->num_free)
		return -ENOSPC;
	for (unsigned int k = 0; k < n; k++) {
		put_desc(&vq->desc[i], &bufs[k], k + 1 < n ? VRING_DESC_F_NEXT : 0);
		if (k + 1 < n)
			i = le16toh(vq->desc[i].next);
	}
	vq->free_head = le16toh(vq->desc[i].next);
	vq->num_free -= n;
	publish_head(vq, head, n, cookie);
	return head;
}

int fvq_add_indirect(struct front_vq *vq, struct vring_desc *table,
		     uint64_t table_gpa, const struct front_buf *bufs,
		     unsigned int n, void *cookie)
{
	uint16_t head = vq->free_head;
	struct vring_desc *d;

	if (n == 0 || vq->num_free == 0)
		return -ENOSPC;
	for (unsigned int k = 0; k < n; k++) {
		put_desc(&table[k], &bufs[k], k + 1 < n ? VRING_DESC_F_NEXT : 0);
		table[k].next = htole16(k + 1);
	}
	d = &vq->desc[head];
	vq->free_head = le16toh(d->next);
	d->addr = htole64(table_gpa);
	d->len = htole32(n * sizeof(*table));
	d->flags = htole16(VRING_DESC_F_INDIRECT);
	vq->num_free--;
	publish_head(vq, head, 1, cookie);
	return head;
}

int fvq_add_via(struct front_vq *vq, struct vring_desc *table,
		uint64_t table_gpa, const struct front_buf *bufs,
		unsigned int n, void *cookie)
{
	if (table)
		return fvq_add_indirect(vq, table, table_gpa, bufs, n, cookie);
	return fvq_add(vq, bufs, n, cookie);
}

void fvq_kick(struct front_vq *vq)
{
	uint16_t old = vq->kicked_idx, new = vq->avail_idx;
	bool need;

	/* Descriptors and ring entries before the index that exposes them. */
	smp_wmb();
	WRITE_ONCE(vq->avail->idx, htole16(new));
	smp_mb();
	if (vq->event_idx) {
		volatile uint16_t *avail_event = (volatile uint16_t *)
			((uint8_t *)vq->used + 4 + 8 * (size_t)vq->num);
		uint16_t ev = le16toh(*avail_event);

		need = (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		need = !(le16toh(READ_ONCE(vq->used->flags)) & VRING_USED_F_NO_NOTIFY);
	}
	vq->kicked_idx = new;
	if (need && new != old) {
		eventfd_write(vq->kick_fd, 1);
		vq->kicks++;
	}
}

int fvq_get_used(struct front_vq *vq, void **cookie, uint32_t *len)
{
	struct vring_used_elem *e;
	uint16_t id, i;

	if (vq->last_used == le16toh(READ_ONCE(vq->used->idx)))
		return 0;
	smp_rmb();
	e = &vq->used->ring[vq->last_used & (vq->num - 1)];
	id = le32toh(READ_ONCE(e->id));
	*len = le32toh(READ_ONCE(e->len));
	if (id >= vq->num || vq->chain_len[id] == 0)
		return -EIO;
	*cookie = vq->cookie[id];
	/* Return the chain to the free list. */
	i = id;
	for (uint16_t k = 1; k < vq->chain_len[id]; k++)
		i = le16toh(vq->desc[i].next);
	vq->desc[i].next = htole16(vq->free_head);
	vq->free_head = id;
	vq->num_free += vq->chain_len[id];
	vq->chain_len[id] = 0;
	vq->last_used++;
	return 1;
}

void fvq_enable_cb(struct front_vq *vq)
{
	if (vq->event_idx)
		WRITE_ONCE(vq->avail->ring[vq->num], htole16(vq->last_used));
	else
		WRITE_ONCE(vq->avail->flags, 0);
	smp_mb();
}

/* Wait for an eventfd and consume its count; 1, 0 (timeout) or -errno. */
static int wait_eventfd(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	eventfd_t v;
	int ret = poll(&p, 1, timeout_ms);

	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	eventfd_read(fd, &v);
	return 1;
}

int fvq_wait(struct front_vq *vq, int timeout_ms)
{
	int ret = wait_eventfd(vq->call_fd, timeout_ms);

	if (ret > 0)
		vq->calls++;
	return ret;
}

int fvq_wait_used(struct front_vq *vq, int timeout_ms, void **cookie,
		  uint32_t *len)
{
	int ret;

	for (int waited = 0;;) {
		ret = fvq_get_used(vq, cookie, len);
		if (ret == 0) {
			fvq_enable_cb(vq);
			ret = fvq_get_used(vq, cookie, len);
		}
		if (ret != 0)
			return ret;
		if (waited >= timeout_ms)
			return 0;
		if (fvq_wait(vq, 50) != 1)
			waited += 50;
	}
}

int fvq_wait_err(struct front_vq *vq, int timeout_ms)
{
	return wait_eventfd(vq->err_fd, timeout_ms);
}

void fvq_set_desc(struct front_vq *vq, uint16_t i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	struct vring_desc *d = &vq->desc[i];

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

void fvq_put_head(struct front_vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = htole16(head);
	vq->avail_idx++;
}

void fvq_publish(struct front_vq *vq, uint16_t idx)
{
	smp_wmb();
	WRITE_ONCE(vq->avail->idx, htole16(idx));
	smp_mb();
	vq->avail_idx = idx;
	vq->kicked_idx = idx;
	eventfd_write(vq->kick_fd, 1);
	vq->kicks++;
}

int fvq_raw_used(struct front_vq *vq, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem *e;

	if (vq->last_used == le16toh(READ_ONCE(vq->used->idx)))
		return 0;
	smp_rmb();
	e = &vq->used->ring[vq->last_used & (vq->num - 1)];
	*id = le32toh(READ_ONCE(e->id));
	*len = le32toh(READ_ONCE(e->len));
	vq->last_used++;
	return 1;
}
