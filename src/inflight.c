// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inflight.c: owns the inflight region: creating it for GET_INFLIGHT_FD,
 * checking and mapping what SET_INFLIGHT_FD hands us (hostile input: sizes,
 * offsets, the file's real size, every queue header), and recovering a
 * queue at its start.  The layout and the invariants that make recovery
 * exact are described in inflight.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inflight.h"
#include "log.h"
#include "mem.h"

/* Queue count and size of a request, within our limits. */
static bool check_shape(const char *what, const struct vu_inflight *w,
			unsigned int max_queues, unsigned int max_queue_size)
{
	if (w->num_queues == 0 || w->num_queues > max_queues) {
		log_peer("%s: %u queues; this device has 1 to %u",
			 what, w->num_queues, max_queues);
		return false;
	}
	if (w->queue_size == 0 || w->queue_size > max_queue_size) {
		log_peer("%s: queue size %u is not between 1 and %u",
			 what, w->queue_size, max_queue_size);
		return false;
	}
	return true;
}

int inflight_create(const struct vu_inflight *req, unsigned int max_queues,
		    unsigned int max_queue_size, uint64_t *size)
{
	size_t len;
	int fd, err;

	if (!check_shape("GET_INFLIGHT_FD", req, max_queues, max_queue_size))
		return -EINVAL;
	len = req->num_queues * inflight_queue_bytes(req->queue_size);
	fd = memfd_create("vhost-uring-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		err = errno;
		log_err("GET_INFLIGHT_FD: memfd_create failed: %s", strerror(err));
		return -err;
	}
	/* Zero-filled by the kernel: every queue starts at version 0. */
	if (ftruncate(fd, len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		err = errno;
		log_err("GET_INFLIGHT_FD: cannot size the %zu-byte region: %s",
			len, strerror(err));
		close(fd);
		return -err;
	}
	*size = len;
	return fd;
}

/* Every queue header is unused, or ours with the announced size. */
static int check_headers(const struct inflight_region *r)
{
	for (unsigned int i = 0; i < r->num_queues; i++) {
		const struct inflight_queue_split *q = inflight_queue(r, i);
		uint16_t version = READ_ONCE(q->version);
		uint16_t desc_num = READ_ONCE(q->desc_num);

		if (version == 0)
			continue;
		if (version != INFLIGHT_SPLIT_VERSION) {
			log_peer("SET_INFLIGHT_FD: queue %u of the region has layout version %u; only %u (split rings) is known",
				 i, version, INFLIGHT_SPLIT_VERSION);
			return -EINVAL;
		}
		if (desc_num != r->queue_size) {
			log_peer("SET_INFLIGHT_FD: queue %u of the region tracks %u entries, not the announced queue size %u",
				 i, desc_num, r->queue_size);
			return -EINVAL;
		}
	}
	return 0;
}

int inflight_map(struct inflight_region *r, int fd, const struct vu_inflight *w,
		 unsigned int max_queues, unsigned int max_queue_size)
{
	struct inflight_region fresh = { 0 };
	uint64_t need, end, map_off, delta;
	size_t page = sysconf(_SC_PAGESIZE);
	struct stat st;
	void *p;
	int ret;

	if (!check_shape("SET_INFLIGHT_FD", w, max_queues, max_queue_size))
		return -EINVAL;
	need = (uint64_t)w->num_queues * inflight_queue_bytes(w->queue_size);
	if (w->mmap_size < need) {
		log_peer("SET_INFLIGHT_FD: mmap_size %llu cannot hold %u queues of %u entries (%llu bytes)",
			 (unsigned long long)w->mmap_size, w->num_queues,
			 w->queue_size, (unsigned long long)need);
		return -EINVAL;
	}
	if (!add_ok_u64(w->mmap_offset, need, &end)) {
		log_peer("SET_INFLIGHT_FD: mmap_offset 0x%llx wraps around",
			 (unsigned long long)w->mmap_offset);
		return -EINVAL;
	}
	/* Queue headers hold 64-bit fields: they must stay aligned. */
	if (w->mmap_offset % _Alignof(struct inflight_queue_split)) {
		log_peer("SET_INFLIGHT_FD: mmap_offset 0x%llx is not %zu-byte aligned",
			 (unsigned long long)w->mmap_offset,
			 _Alignof(struct inflight_queue_split));
		return -EINVAL;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_peer("SET_INFLIGHT_FD: the fd is not a shareable memory file");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < end) {
		log_peer("SET_INFLIGHT_FD: offset %llu + %llu bytes is beyond the end of the file (%llu bytes)",
			 (unsigned long long)w->mmap_offset,
			 (unsigned long long)need, (unsigned long long)st.st_size);
		return -EINVAL;
	}
	map_off = ALIGN_DOWN(w->mmap_offset, (uint64_t)page);
	delta = w->mmap_offset - map_off;
	fresh.map_len = need + delta;
	p = mmap(NULL, fresh.map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 map_off);
	if (p == MAP_FAILED) {
		ret = -errno;
		log_peer("SET_INFLIGHT_FD: mmap of %zu bytes failed: %s",
			 fresh.map_len, strerror(-ret));
		return ret;
	}
	mem_guard_add(p, fresh.map_len, "inflight region at offset ",
		      w->mmap_offset);
	fresh.map = p;
	fresh.base = (uint8_t *)p + delta;
	fresh.num_queues = w->num_queues;
	fresh.queue_size = w->queue_size;
	ret = check_headers(&fresh);
	if (ret < 0) {
		inflight_unmap(&fresh);
		return ret;
	}
	*r = fresh;
	return 0;
}

void inflight_unmap(struct inflight_region *r)
{
	if (r->map) {
		mem_guard_del(r->map);
		munmap(r->map, r->map_len);
	}
	memset(r, 0, sizeof(*r));
}

/* ---- one queue ------------------------------------------------------- */

void inflight_vq_attach(struct inflight_vq *iv, struct inflight_queue_split *q,
			uint16_t desc_num)
{
	iv->q = q;
	iv->desc_num = desc_num;
	iv->nbatch = 0;
	iv->nresubmit = iv->next_resubmit = 0;
}

void inflight_vq_detach(struct inflight_vq *iv)
{
	free(iv->batch);
	free(iv->resubmit);
	memset(iv, 0, sizeof(*iv));
}

static int size_arrays(struct inflight_vq *iv, uint16_t num)
{
	uint16_t *batch, *resubmit;

	if (iv->cap == num && iv->batch)
		return 0;
	batch = calloc(num, sizeof(*batch));
	resubmit = calloc(num, sizeof(*resubmit));
	if (!batch || !resubmit) {
		free(batch);
		free(resubmit);
		return -ENOMEM;
	}
	free(iv->batch);
	free(iv->resubmit);
	iv->batch = batch;
	iv->resubmit = resubmit;
	iv->cap = num;
	return 0;
}

/* A queue region nobody used yet (or one we cannot trust): start afresh. */
static void init_queue(struct inflight_vq *iv, uint16_t used_idx)
{
	struct inflight_queue_split *q = iv->q;

	WRITE_ONCE(q->version, 0);
	smp_wmb();
	memset(q->desc, 0, (size_t)iv->desc_num * sizeof(q->desc[0]));
	WRITE_ONCE(q->features, 0);
	WRITE_ONCE(q->desc_num, iv->desc_num);
	WRITE_ONCE(q->last_batch_head, 0);
	WRITE_ONCE(q->used_idx, used_idx);
	smp_wmb();
	WRITE_ONCE(q->version, INFLIGHT_SPLIT_VERSION);
	iv->counter = 0;
	iv->last_head = 0;
}

/*
 * The process that last published may have died after storing used->idx
 * and before settling the region: the first (used_idx - q->used_idx)
 * entries of the completion list are done (invariant I1).
 */
static void settle_last_batch(struct inflight_vq *iv, unsigned int vq_index,
			      uint16_t num, uint16_t used_idx)
{
	struct inflight_queue_split *q = iv->q;
	uint16_t n = used_idx - READ_ONCE(q->used_idx);
	uint16_t h = READ_ONCE(q->last_batch_head);

	if (n == 0)
		return;
	if (n > num) {
		log_peer("vq %u: the used index moved by %u since the inflight region was settled, more than the ring holds; its last batch is not trusted",
			 vq_index, n);
	} else {
		for (uint16_t i = 0; i < n; i++) {
			if (h >= num) {
				log_peer("vq %u: the inflight region's completion list holds head %u, beyond the ring",
					 vq_index, h);
				break;
			}
			WRITE_ONCE(q->desc[h].inflight, 0);
			h = READ_ONCE(q->desc[h].next);
		}
		log_info("vq %u: %u completion(s) published just before the restart were settled",
			 vq_index, n);
	}
	smp_wmb();
	WRITE_ONCE(q->used_idx, used_idx);
}

struct marked {
	uint64_t counter;
	uint16_t head;
};

static int by_counter(const void *a, const void *b)
{
	const struct marked *x = a, *y = b;

	if (x->counter != y->counter)
		return x->counter < y->counter ? -1 : 1;
	return (int)x->head - (int)y->head;
}

/* List the heads still marked, oldest first, in iv->resubmit. */
static int collect_marked(struct inflight_vq *iv, unsigned int vq_index,
			  uint16_t num)
{
	struct inflight_queue_split *q = iv->q;
	struct marked *m = calloc(num, sizeof(*m));
	uint16_t n = 0;

	if (!m)
		return -ENOMEM;
	for (uint32_t h = 0; h < iv->desc_num; h++) {
		if (!READ_ONCE(q->desc[h].inflight))
			continue;
		if (h >= num) {
			log_peer("vq %u: the inflight region marks head %u, beyond the %u-entry ring; ignored",
				 vq_index, h, num);
			WRITE_ONCE(q->desc[h].inflight, 0);
			continue;
		}
		m[n].counter = READ_ONCE(q->desc[h].counter);
		m[n].head = h;
		n++;
	}
	qsort(m, n, sizeof(*m), by_counter);
	iv->counter = 0;
	for (uint16_t i = 0; i < n; i++) {
		iv->resubmit[i] = m[i].head;
		iv->counter = MAX(iv->counter, m[i].counter);
	}
	iv->nresubmit = n;
	free(m);
	return 0;
}

int inflight_vq_resume(struct inflight_vq *iv, unsigned int vq_index,
		       uint16_t num, uint16_t used_idx, uint16_t *last_avail)
{
	struct inflight_queue_split *q = iv->q;
	uint16_t version, desc_num, next;
	int ret;

	iv->nbatch = 0;
	iv->nresubmit = iv->next_resubmit = 0;
	if (!q)
		return 0;
	if (num > iv->desc_num) {
		log_peer("vq %u: the ring has %u entries, its inflight region only %u",
			 vq_index, num, iv->desc_num);
		return -EINVAL;
	}
	ret = size_arrays(iv, num);
	if (ret < 0) {
		log_err("vq %u: cannot allocate inflight bookkeeping", vq_index);
		return ret;
	}
	version = READ_ONCE(q->version);
	desc_num = READ_ONCE(q->desc_num);
	if (version == 0) {
		init_queue(iv, used_idx);
		return 0;
	}
	if (version != INFLIGHT_SPLIT_VERSION || desc_num != iv->desc_num) {
		log_peer("vq %u: the inflight region changed under us (version %u, %u entries); its requests are not run again",
			 vq_index, version, desc_num);
		init_queue(iv, used_idx);
		return 0;
	}
	settle_last_batch(iv, vq_index, num, used_idx);
	ret = collect_marked(iv, vq_index, num);
	if (ret < 0) {
		log_err("vq %u: cannot allocate the inflight recovery list", vq_index);
		return ret;
	}
	iv->last_head = READ_ONCE(q->last_batch_head);
	/* Invariant I3: the avail ring continues after what was taken. */
	next = used_idx + iv->nresubmit;
	if (iv->nresubmit)
		log_info("vq %u: resubmitting %u request(s) from the inflight region; the avail ring continues at %u (front end said %u)",
			 vq_index, iv->nresubmit, next, *last_avail);
	else if (next != *last_avail)
		log_info("vq %u: nothing was in flight; the avail ring continues at the used index %u (front end said %u)",
			 vq_index, next, *last_avail);
	*last_avail = next;
	return 0;
}
