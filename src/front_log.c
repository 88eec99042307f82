// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * front_log.c: the front end's half of dirty logging, and the page sets
 * that tests and vhost-uring-bench use to check a back end's log: every
 * page the device wrote must be marked, and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "front_log.h"
#include "util.h"

int front_pages_create(const struct front *f, struct front_pages *p,
		       bool shared)
{
	uint64_t last = (f->mem.gpa + f->mem.size - 1) / FRONT_LOG_PAGE;
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->size = ALIGN_UP(last / 8 + 1, 8ull);
	if (!shared) {
		p->bits = calloc(1, p->size);
		return p->bits ? 0 : -ENOMEM;
	}
	p->fd = memfd_create("vhost-uring-log", MFD_CLOEXEC);
	if (p->fd < 0 || ftruncate(p->fd, p->size) < 0)
		goto fail;
	p->bits = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->fd, 0);
	if (p->bits == MAP_FAILED) {
		p->bits = NULL;
		goto fail;
	}
	return 0;
fail:
	ret = -errno;
	front_pages_destroy(p);
	return ret;
}

void front_pages_destroy(struct front_pages *p)
{
	if (p->fd >= 0) {
		if (p->bits)
			munmap(p->bits, p->size);
		close(p->fd);
	} else {
		free(p->bits);
	}
	p->bits = NULL;
	p->fd = -1;
}

void front_pages_clear(struct front_pages *p)
{
	for (uint64_t i = 0; i < p->size; i++)
		__atomic_store_n(&p->bits[i], 0, __ATOMIC_RELAXED);
}

void front_pages_add(struct front_pages *p, uint64_t gpa, uint64_t len)
{
	uint64_t first = gpa / FRONT_LOG_PAGE;
	uint64_t last = (gpa + len - 1) / FRONT_LOG_PAGE;

	if (!len)
		return;
	for (uint64_t pg = first; pg <= last && pg / 8 < p->size; pg++)
		p->bits[pg / 8] |= 1u << (pg % 8);
}

void front_pages_add_writable(struct front_pages *p,
			      const struct front_buf *bufs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (bufs[i].write)
			front_pages_add(p, bufs[i].gpa, bufs[i].len);
	}
}

void front_pages_add_used_ring(struct front_pages *p, const struct front *f,
			       unsigned int idx)
{
	const struct front_vq *vq = &f->vqs[idx];

	front_pages_add(p, front_gpa(f, vq->used), 6 + 8ull * vq->num);
}

void front_pages_merge(struct front_pages *dst, const struct front_pages *src)
{
	for (uint64_t i = 0; i < MIN(dst->size, src->size); i++)
		dst->bits[i] |= __atomic_load_n(&src->bits[i], __ATOMIC_RELAXED);
}

bool front_pages_test(const struct front_pages *p, uint64_t gpa)
{
	uint64_t pg = gpa / FRONT_LOG_PAGE;

	return pg / 8 < p->size &&
	       (__atomic_load_n(&p->bits[pg / 8], __ATOMIC_RELAXED) &
		(1u << (pg % 8)));
}

void front_pages_diff(const struct front_pages *want,
		      const struct front_pages *got, struct front_pages_diff *d)
{
	uint64_t pages = MAX(want->size, got->size) * 8;

	memset(d, 0, sizeof(*d));
	for (uint64_t pg = 0; pg < pages; pg++) {
		bool w = front_pages_test(want, pg * FRONT_LOG_PAGE);
		bool g = front_pages_test(got, pg * FRONT_LOG_PAGE);

		if (w && !g && !d->missing++)
			d->first_missing = pg * FRONT_LOG_PAGE;
		if (g && !w && !d->extra++)
			d->first_extra = pg * FRONT_LOG_PAGE;
	}
}

int front_log_share(struct front *f, const struct front_pages *log)
{
	struct vu_log_base b = { .mmap_size = log->size, .mmap_offset = 0 };
	uint64_t v;
	int ret;

	ret = front_send(f, VU_SET_LOG_BASE, VU_VERSION, &b, sizeof(b),
			 &log->fd, 1);
	if (ret < 0)
		return ret;
	ret = front_recv_u64(f, VU_SET_LOG_BASE, &v);
	if (ret < 0)
		return ret;
	return v ? -EIO : 0;
}

static int send_addr(struct front *f, unsigned int idx, bool log)
{
	const struct front_vq *vq = &f->vqs[idx];
	struct vu_vring_addr a = {
		.index = idx,
		.flags = log ? VU_VRING_F_LOG : 0,
		.desc_user_addr = (uint64_t)(uintptr_t)vq->desc,
		.used_user_addr = (uint64_t)(uintptr_t)vq->used,
		.avail_user_addr = (uint64_t)(uintptr_t)vq->avail,
		.log_guest_addr = front_gpa(f, vq->used),
	};

	return front_request(f, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
}

int front_log_enable(struct front *f, bool on)
{
	int ret;

	if (on)
		f->acked |= BIT_ULL(VHOST_F_LOG_ALL);
	else
		f->acked &= ~BIT_ULL(VHOST_F_LOG_ALL);
	ret = front_request(f, VU_SET_FEATURES, &f->acked, sizeof(f->acked),
			    NULL, 0);
	for (unsigned int i = 0; i < FRONT_MAX_VQS && ret == 0; i++) {
		if (f->vqs[i].num && f->vqs[i].kick_fd >= 0)
			ret = send_addr(f, i, on);
	}
	return ret;
}
