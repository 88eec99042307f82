// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtq.c: owns the split virtqueue protocol on the device side: checking
 * and translating ring addresses, walking descriptor chains (direct and
 * indirect) into iovecs with every guest value validated, and publishing
 * used entries with EVENT_IDX-aware notification.  Each step of a request is
 * recorded in the inflight region (inflight.h) when the front end gave one,
 * and a ring's start runs again what an earlier back-end left in flight.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "device.h"
#include "log.h"
#include "util.h"
#include "virtq.h"

#define compiler_barrier()	__asm__ __volatile__("" ::: "memory")

void virtq_init(struct virtq *vq, unsigned int index)
{
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->kick_fd = vq->call_fd = vq->err_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void virtq_reset(struct virtq *vq)
{
	virtq_deactivate(vq);
	inflight_vq_detach(&vq->ifl);
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	free(vq->pool);
	free(vq->long_iov);
	free(vq->log_ranges);
	vq->pool = NULL;
	vq->long_iov = NULL;
	vq->log_ranges = NULL;
	vq->log = NULL;
	vq->pool_num = vq->num = 0;
	vq->addr_set = vq->started = vq->enabled = false;
	vq->last_avail_idx = 0;
	vq->broken = false;
}

static size_t avail_size(uint16_t num)
{
	/* flags, idx, ring[num], used_event */
	return 4 + 2 * (size_t)num + 2;
}

static size_t used_size(uint16_t num)
{
	/* flags, idx, ring[num], avail_event */
	return 4 + 8 * (size_t)num + 2;
}

static void *map_ring(struct virtq *vq, const struct vu_mem *mem,
		      const char *what, uint64_t qva, size_t len, size_t align)
{
	void *p = mem_qva_to_hva(mem, qva, len);

	if (!p) {
		log_peer("vq %u: %s ring at 0x%llx (%zu bytes) is not inside shared guest memory%s",
			 vq->index, what, (unsigned long long)qva, len,
			 mem->nregs ? "" : " (no memory table: is guest RAM share=on?)");
		return NULL;
	}
	if ((uintptr_t)p % align) {
		log_peer("vq %u: %s ring at 0x%llx is not %zu-byte aligned",
			 vq->index, what, (unsigned long long)qva, align);
		return NULL;
	}
	return p;
}

static int alloc_pool(struct virtq *vq, size_t priv_size)
{
	size_t stride = VQ_REQ_HDR_SIZE + ALIGN_UP(priv_size, (size_t)64);

	if (vq->pool && vq->pool_num == vq->num && vq->stride == stride)
		return 0;
	free(vq->pool);
	free(vq->long_iov);
	free(vq->log_ranges);
	vq->log_ranges = NULL;
	vq->pool = calloc(vq->num, stride);
	vq->long_iov = calloc((size_t)vq->num * VQ_MAX_IOV, sizeof(struct iovec));
	if (!vq->pool || !vq->long_iov) {
		free(vq->pool);
		free(vq->long_iov);
		vq->pool = NULL;
		vq->long_iov = NULL;
		vq->pool_num = 0;
		return -ENOMEM;
	}
	vq->stride = stride;
	vq->pool_num = vq->num;
	for (uint16_t i = 0; i < vq->num; i++) {
		struct vq_req *req = vq_req_at(vq, i);

		req->vq = vq;
		req->head = i;
	}
	return 0;
}

int virtq_activate(struct virtq *vq, const struct vu_mem *mem,
		   size_t priv_size)
{
	int ret;

	vq->active = false;
	if (!vq->num || !vq->addr_set)
		return -EAGAIN;
	vq->desc = map_ring(vq, mem, "descriptor", vq->desc_qva,
			    16 * (size_t)vq->num, 16);
	vq->avail = map_ring(vq, mem, "available", vq->avail_qva,
			     avail_size(vq->num), 2);
	vq->used = map_ring(vq, mem, "used", vq->used_qva,
			    used_size(vq->num), 4);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	ret = alloc_pool(vq, priv_size);
	if (ret == 0 && vq->log && !vq->log_ranges) {
		/* Like long_iov: pages are touched only as chains need them. */
		vq->log_ranges = calloc((size_t)vq->num * VQ_MAX_IOV,
					sizeof(*vq->log_ranges));
		if (!vq->log_ranges)
			ret = -ENOMEM;
	}
	if (ret < 0) {
		log_err("vq %u: cannot allocate %u requests", vq->index, vq->num);
		return ret;
	}
	vq->mem = mem;
	vq->used_idx = le16toh(READ_ONCE(vq->used->idx));
	vq->published_used = vq->used_idx;
	vq->notified_used = vq->used_idx;
	if (vq->ifl.resume) {
		/* A new start: what did an earlier life of the ring leave? */
		ret = inflight_vq_resume(&vq->ifl, vq->index, vq->num,
					 vq->used_idx, &vq->last_avail_idx);
		if (ret < 0)
			return ret;
		vq->ifl.resume = false;
	}
	if (vq->used_idx != vq->last_avail_idx)
		log_debug("vq %u: starts with avail %u, used %u",
			  vq->index, vq->last_avail_idx, vq->used_idx);
	vq->dirty = false;
	vq->inflight = 0;
	vq->kicked = true;
	vq->active = true;
	return 0;
}

void virtq_deactivate(struct virtq *vq)
{
	vq->active = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->kicked = false;
	vq->more = false;
}

void virtq_set_broken(struct virtq *vq, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_peer("vq %u: %s; queue stopped until the driver resets it",
		 vq->index, why);
	vq->broken = true;
	if (vq->err_fd >= 0)
		eventfd_write(vq->err_fd, 1);
}

/* A descriptor table: mapped contiguously, or read piecewise by gpa. */
struct desc_table {
	const struct vring_desc *base;
	uint64_t gpa;
	uint32_t size;
};

static int read_desc(const struct virtq *vq, const struct desc_table *t,
		     uint32_t i, struct vring_desc *d)
{
	if (t->base) {
		memcpy(d, &t->base[i], sizeof(*d));
	} else {
		struct iovec iov[4];
		unsigned int n = 0;

		if (mem_gpa_to_iov(vq->mem, t->gpa + 16ull * i, sizeof(*d),
				   iov, &n, ARRAY_SIZE(iov)) < 0)
			return -EFAULT;
		iov_to_buf(iov, n, 0, d, sizeof(*d));
	}
	/* Act on this copy only, never on a second fetch from the guest. */
	compiler_barrier();
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
	return 0;
}

static int enter_indirect(struct virtq *vq, const struct vring_desc *d,
			  struct desc_table *t, const char **why)
{
	struct iovec scratch[16];
	unsigned int n = 0;

	if (!vq->indirect) {
		*why = "indirect descriptor, but VIRTIO_RING_F_INDIRECT_DESC was not negotiated";
		return -EINVAL;
	}
	if (d->flags & VRING_DESC_F_NEXT) {
		*why = "indirect descriptor has NEXT set";
		return -EINVAL;
	}
	if (d->len == 0 || d->len % sizeof(struct vring_desc)) {
		*why = "indirect table length is not a non-zero multiple of 16";
		return -EINVAL;
	}
	if (d->len / sizeof(struct vring_desc) > VQ_MAX_INDIRECT) {
		*why = "indirect table has more than 1024 descriptors";
		return -EINVAL;
	}
	t->size = d->len / sizeof(struct vring_desc);
	t->gpa = d->addr;
	t->base = NULL;
	if (d->addr % 8 == 0)
		t->base = mem_gpa_to_hva(vq->mem, d->addr, d->len);
	if (!t->base &&
	    mem_gpa_to_iov(vq->mem, d->addr, d->len, scratch, &n,
			   ARRAY_SIZE(scratch)) < 0) {
		*why = "indirect table is not inside guest memory";
		return -EFAULT;
	}
	return 0;
}

/* Dirty logging: keep a writable range of the chain, merged when adjacent. */
static void keep_log_range(struct virtq *vq, struct vq_req *req, uint64_t gpa,
			   uint32_t len)
{
	struct vq_log_range *r = vq->log_ranges + (size_t)req->head * VQ_MAX_IOV;

	if (req->log_n && r[req->log_n - 1].gpa + r[req->log_n - 1].len == gpa) {
		r[req->log_n - 1].len += len;
		return;
	}
	/* Each range took an iovec at least, and there are VQ_MAX_IOV. */
	if (req->log_n >= VQ_MAX_IOV)
		return;
	r[req->log_n].gpa = gpa;
	r[req->log_n].len = len;
	req->log_n++;
}

static int map_buffer(struct virtq *vq, const struct vring_desc *d,
		      struct vq_req *req, unsigned int *n, unsigned int *cap,
		      uint64_t *out_len, uint64_t *in_len, const char **why)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	unsigned int before = *n;
	int ret;

	if (d->len == 0) {
		*why = "zero-length buffer";
		return -EINVAL;
	}
	if (!writable && req->in_num) {
		*why = "device-readable buffer after a device-writable one";
		return -EINVAL;
	}
	ret = mem_gpa_to_iov(vq->mem, d->addr, d->len, req->iov, n, *cap);
	if (ret == -E2BIG && *cap < VQ_MAX_IOV) {
		/* Move to this head's long array and map the buffer again. */
		struct iovec *big = vq->long_iov + (size_t)req->head * VQ_MAX_IOV;

		memcpy(big, req->iov, before * sizeof(*big));
		req->iov = big;
		*cap = VQ_MAX_IOV;
		*n = before;
		ret = mem_gpa_to_iov(vq->mem, d->addr, d->len, req->iov, n, *cap);
	}
	if (ret == -E2BIG) {
		*why = "request needs more segments than the device supports";
		return ret;
	}
	if (ret < 0) {
		*why = "buffer is not inside guest memory";
		return ret;
	}
	if (writable) {
		req->in_num += *n - before;
		*in_len += d->len;
		if (unlikely(vq->log))
			keep_log_range(vq, req, d->addr, d->len);
	} else {
		req->out_num += *n - before;
		*out_len += d->len;
	}
	if (*in_len + *out_len > UINT32_MAX) {
		*why = "chain is longer than 4 GiB";
		return -EINVAL;
	}
	return 0;
}

int virtq_map_chain(struct virtq *vq, uint16_t head, struct vq_req *req,
		    const char **why)
{
	struct desc_table t = { vq->desc, 0, vq->num };
	uint64_t out_len = 0, in_len = 0;
	unsigned int n = 0, seen = 0, cap = VQ_INLINE_IOV;
	bool indirect = false;
	uint32_t i = head;
	int ret;

	req->out_num = req->in_num = 0;
	req->log_n = 0;
	req->iov = req->inline_iov;
	for (;;) {
		struct vring_desc d;

		if (i >= t.size) {
			*why = "descriptor index out of range";
			return -EINVAL;
		}
		if (++seen > t.size) {
			*why = "descriptor chain loops or is longer than its table";
			return -ELOOP;
		}
		if (read_desc(vq, &t, i, &d) < 0) {
			*why = "indirect descriptor is not inside guest memory";
			return -EFAULT;
		}
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect) {
				*why = "indirect table inside an indirect table";
				return -EINVAL;
			}
			ret = enter_indirect(vq, &d, &t, why);
			if (ret < 0)
				return ret;
			indirect = true;
			seen = 0;
			i = 0;
			continue;
		}
		ret = map_buffer(vq, &d, req, &n, &cap, &out_len, &in_len, why);
		if (ret < 0)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
	}
	req->out_len = out_len;
	req->in_len = in_len;
	return 0;
}

/* avail_event sits right after the used ring entries. */
static size_t avail_event_off(const struct virtq *vq)
{
	return 4 + 8 * (size_t)vq->num;
}

static uint16_t *avail_event_ptr(struct virtq *vq)
{
	return (uint16_t *)((uint8_t *)vq->used + avail_event_off(vq));
}

/*
 * Dirty logging: bytes [off, off + len) of the used ring were written.
 * The front end gives the ring's guest-physical address only with
 * VHOST_VRING_F_LOG, and then wants these writes logged.
 */
static void log_used(struct virtq *vq, size_t off, size_t len)
{
	uint64_t gpa;

	if ((vq->addr_flags & VU_VRING_F_LOG) &&
	    add_ok_u64(vq->log_gpa, off, &gpa))
		dirty_log_mark(vq->log, gpa, len);
}

static uint16_t used_event(struct virtq *vq)
{
	return le16toh(READ_ONCE(vq->avail->ring[vq->num]));
}

/* Ask the driver to kick us when it adds past what we have taken. */
static void enable_notify(struct virtq *vq)
{
	if (vq->event_idx)
		WRITE_ONCE(*avail_event_ptr(vq), htole16(vq->last_avail_idx));
	else
		WRITE_ONCE(vq->used->flags, 0);
	if (unlikely(vq->log))
		log_used(vq, vq->event_idx ? avail_event_off(vq) : 0, 2);
}

/* While we are busy taking chains, kicks are wasted syscalls. */
static void disable_notify(struct virtq *vq)
{
	/* With EVENT_IDX a stale avail_event already suppresses kicks. */
	if (!vq->event_idx) {
		WRITE_ONCE(vq->used->flags, htole16(VRING_USED_F_NO_NOTIFY));
		if (unlikely(vq->log))
			log_used(vq, 0, 2);
	}
}

bool virtq_has_work(struct virtq *vq)
{
	return vq->active && !vq->broken &&
	       (inflight_vq_has_resubmit(&vq->ifl) ||
		le16toh(READ_ONCE(vq->avail->idx)) != vq->last_avail_idx);
}

bool virtq_enable_kicks(struct virtq *vq)
{
	if (!vq->active || vq->broken)
		return false;
	enable_notify(vq);
	smp_mb();
	return virtq_has_work(vq);
}

/*
 * The device's request handler, from the queue's I/O thread: loaded once
 * per pass, so that each request costs one indirect call, as it would
 * with a copy in the queue.
 */
struct dev_handler {
	vq_handler_fn fn;
	void *ctx;
};

/* Map the chain at head and hand it to the device; false if stopped. */
static bool start_req(struct virtq *vq, uint16_t head, struct dev_handler h)
{
	struct vq_req *req = vq_req_at(vq, head);
	const char *why = NULL;

	if (virtq_map_chain(vq, head, req, &why) < 0) {
		virtq_set_broken(vq, "chain at head %u: %s", head, why);
		return false;
	}
	req->busy = true;
	vq->inflight++;
	h.fn(h.ctx, req);
	return !vq->broken;
}

/* Take one chain; false when the queue had to be stopped. */
static bool pop_one(struct virtq *vq, struct dev_handler h)
{
	uint16_t slot = vq->last_avail_idx & (vq->num - 1);
	uint16_t head = le16toh(READ_ONCE(vq->avail->ring[slot]));

	if (head >= vq->num) {
		virtq_set_broken(vq, "avail ring slot %u holds head %u, beyond queue size %u",
				 slot, head, vq->num);
		return false;
	}
	if (vq_req_at(vq, head)->busy) {
		virtq_set_broken(vq, "head %u made available while still in flight",
				 head);
		return false;
	}
	/* Marked before it is counted as taken: see inflight.h. */
	inflight_take(&vq->ifl, head);
	vq->last_avail_idx++;
	return start_req(vq, head, h);
}

/*
 * After a restart, the requests the inflight region still marks run first,
 * oldest first.  Returns false when the pass must end (*left used up, or
 * the queue stopped); *taken counts them.
 */
static bool resubmit(struct virtq *vq, struct dev_handler h,
		     unsigned int *left, unsigned int *taken)
{
	struct inflight_vq *iv = &vq->ifl;

	while (inflight_vq_has_resubmit(iv)) {
		if ((*left)-- == 0) {
			vq->more = true;
			return false;
		}
		(*taken)++;
		if (!start_req(vq, iv->resubmit[iv->next_resubmit++], h))
			return false;
	}
	return true;
}

unsigned int virtq_process(struct virtq *vq)
{
	uint16_t start = vq->last_avail_idx;
	unsigned int left = vq->max_batch ? vq->max_batch : UINT_MAX;
	unsigned int again = 0;
	struct dev_handler h;

	if (!vq->active || vq->broken) {
		vq->more = false;
		return 0;
	}
	h.fn = vq->th->ops->handle_request;
	h.ctx = vq->th->ctx;
	vq->more = false;
	disable_notify(vq);
	if (!resubmit(vq, h, &left, &again))
		return again;
	for (;;) {
		uint16_t avail_idx = le16toh(READ_ONCE(vq->avail->idx));
		uint16_t pending = avail_idx - vq->last_avail_idx;

		if (pending > vq->num) {
			virtq_set_broken(vq, "avail index moved from %u to %u, more than queue size %u",
					 vq->last_avail_idx, avail_idx, vq->num);
			break;
		}
		if (pending == 0) {
			/* A polling thread looks again by itself. */
			if (vq->polled)
				break;
			/* Ask for a kick, then look again to close the race. */
			enable_notify(vq);
			smp_mb();
			if (le16toh(READ_ONCE(vq->avail->idx)) == vq->last_avail_idx)
				break;
			disable_notify(vq);
			continue;
		}
		/* Read ring entries only after seeing the index. */
		smp_rmb();
		while (pending--) {
			if (left-- == 0) {
				/* Publish this part first; come back for more. */
				vq->more = true;
				return again + (uint16_t)(vq->last_avail_idx - start);
			}
			if (!pop_one(vq, h))
				return again + (uint16_t)(vq->last_avail_idx - start);
		}
	}
	return again + (uint16_t)(vq->last_avail_idx - start);
}

/*
 * Dirty logging: mark every page the device may have written for req (its
 * whole writable part, whatever len says) and the used element at slot,
 * after those writes and before the used index that publishes them.
 */
static void log_req(struct virtq *vq, struct vq_req *req, uint16_t slot)
{
	const struct vq_log_range *r =
		vq->log_ranges + (size_t)req->head * VQ_MAX_IOV;

	for (uint16_t i = 0; i < req->log_n; i++)
		dirty_log_mark(vq->log, r[i].gpa, r[i].len);
	log_used(vq, 4 + 8 * (size_t)slot, sizeof(struct vring_used_elem));
}

void virtq_push(struct vq_req *req, uint32_t len)
{
	struct virtq *vq = req->vq;
	struct vring_used_elem *e;
	uint16_t slot;

	/* The inflight batch holds a ring's worth: publish what it has. */
	if (unlikely(inflight_batch_full(&vq->ifl)))
		virtq_flush_now(vq);
	slot = vq->used_idx & (vq->num - 1);
	e = &vq->used->ring[slot];
	WRITE_ONCE(e->id, htole32(req->head));
	WRITE_ONCE(e->len, htole32(len));
	if (unlikely(vq->log))
		log_req(vq, req, slot);
	inflight_complete(&vq->ifl, req->head);
	vq->used_idx++;
	req->busy = false;
	vq->inflight--;
	vq->dirty = true;
}

/* The inflight region keeps it marked: a restart would try it again. */
void virtq_abandon(struct vq_req *req)
{
	req->busy = false;
	req->vq->inflight--;
}

/*
 * Control thread (SIGUSR1): one line with the queue's state, for a person
 * looking at a stalled guest.  The I/O thread may be running: the values
 * are a snapshot, each read once.  The ring pointers only change while the
 * I/O thread is parked, on this thread.
 */
void virtq_log_state(struct virtq *vq)
{
	if (!vq->active) {
		log_info("vq %u: %s, size %u, last_avail %u%s", vq->index,
			 vq->started ? "started, not active" : "not started",
			 vq->num, READ_ONCE(vq->last_avail_idx),
			 vq->broken ? ", broken" : "");
		return;
	}
	log_info("vq %u: size %u, in flight %u, last_avail %u, used %u (published %u), avail.idx %u avail.flags 0x%x used_event %u, used.idx %u used.flags 0x%x avail_event %u, event_idx %d kicked %d kick_armed %d more %d broken %d",
		 vq->index, vq->num, READ_ONCE(vq->inflight),
		 READ_ONCE(vq->last_avail_idx), READ_ONCE(vq->used_idx),
		 READ_ONCE(vq->published_used),
		 le16toh(READ_ONCE(vq->avail->idx)),
		 le16toh(READ_ONCE(vq->avail->flags)), used_event(vq),
		 le16toh(READ_ONCE(vq->used->idx)),
		 le16toh(READ_ONCE(vq->used->flags)),
		 le16toh(READ_ONCE(*avail_event_ptr(vq))), vq->event_idx,
		 READ_ONCE(vq->kicked), READ_ONCE(vq->kick_armed),
		 READ_ONCE(vq->more), READ_ONCE(vq->broken));
}

static bool need_notify(struct virtq *vq, uint16_t old, uint16_t new)
{
	if (vq->event_idx) {
		uint16_t ev = used_event(vq);

		return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	}
	return !(le16toh(READ_ONCE(vq->avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool virtq_flush(struct virtq *vq)
{
	uint16_t old = vq->published_used, new = vq->used_idx;

	if (!vq->dirty)
		return false;
	vq->dirty = false;
	/* Entries first, then the index that makes them visible. */
	smp_wmb();
	WRITE_ONCE(vq->used->idx, htole16(new));
	if (unlikely(vq->log)) {
		log_used(vq, offsetof(struct vring_used, idx), 2);
		dirty_log_notify(vq->log);
	}
	vq->published_used = new;
	/* The index store must be visible before we read used_event. */
	smp_mb();
	inflight_published(&vq->ifl, new);
	if (vq->call_fd < 0 || !need_notify(vq, old, new))
		return false;
	vq->notified_used = new;
	return true;
}

bool virtq_recheck(struct virtq *vq)
{
	uint16_t pub = vq->published_used;

	if (!vq->active || vq->broken)
		return false;
	smp_mb();
	if (le16toh(READ_ONCE(vq->avail->idx)) != vq->last_avail_idx ||
	    inflight_vq_has_resubmit(&vq->ifl))
		vq->kicked = true;
	/* Entries published since the last notification the driver wants? */
	if (vq->call_fd < 0 || pub == vq->notified_used ||
	    !need_notify(vq, vq->notified_used, pub))
		return false;
	vq->notified_used = pub;
	return true;
}

void virtq_flush_now(struct virtq *vq)
{
	if (vq->active && virtq_flush(vq))
		eventfd_write(vq->call_fd, 1);
}
