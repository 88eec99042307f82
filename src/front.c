// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * front.c: owns the project's vhost-user front end: the connection, feature
 * negotiation, shared guest memory and queue set-up, in the order QEMU uses.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "front.h"
#include "util.h"

#define REQ_FLAGS	VU_VERSION

int front_connect(struct front *f, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int waited = 0;

	memset(f, 0, sizeof(*f));
	f->sock = -1;
	f->chan_fd = -1;
	f->mem.fd = -1;
	f->timeout_ms = 10000;
	for (unsigned int i = 0; i < FRONT_MAX_VQS; i++)
		f->vqs[i].kick_fd = f->vqs[i].call_fd = f->vqs[i].err_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			f->sock = fd;
			return 0;
		}
		close(fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) ||
		    waited >= timeout_ms)
			return -errno;
		nanosleep(&pause, NULL);
		waited += 10;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void front_close(struct front *f)
{
	close_fd(&f->sock);
	close_fd(&f->chan_fd);
	for (unsigned int i = 0; i < FRONT_MAX_VQS; i++) {
		struct front_vq *vq = &f->vqs[i];

		close_fd(&vq->kick_fd);
		close_fd(&vq->call_fd);
		close_fd(&vq->err_fd);
		free(vq->chain_len);
		free(vq->cookie);
		vq->chain_len = NULL;
		vq->cookie = NULL;
	}
	if (f->mem.base)
		munmap(f->mem.base, f->mem.size);
	f->mem.base = NULL;
	close_fd(&f->mem.fd);
}

int front_send(struct front *f, uint32_t req, uint32_t flags,
	       const void *payload, uint32_t size, const int *fds,
	       unsigned int nfds)
{
	return vu_msg_send(f->sock, req, flags, payload, size, fds, nfds);
}

int front_recv_reply_fds(struct front *f, uint32_t req, struct vu_msg *msg)
{
	struct pollfd p = { .fd = f->sock, .events = POLLIN };
	int ret = poll(&p, 1, f->timeout_ms);

	if (ret <= 0)
		return ret < 0 ? -errno : -ETIMEDOUT;
	ret = vu_msg_recv(f->sock, msg);
	if (ret < 0)
		return ret;
	if (msg->hdr.request != req ||
	    msg->hdr.flags != (VU_VERSION | VU_FLAG_REPLY)) {
		vu_msg_close_fds(msg);
		return -EPROTO;
	}
	return 0;
}

int front_recv_reply(struct front *f, uint32_t req, struct vu_msg *msg)
{
	int ret = front_recv_reply_fds(f, req, msg);

	if (ret == 0)
		vu_msg_close_fds(msg);
	return ret;
}

int front_recv_u64(struct front *f, uint32_t req, uint64_t *v)
{
	struct vu_msg msg;
	int ret = front_recv_reply(f, req, &msg);

	if (ret < 0)
		return ret;
	if (msg.hdr.size != sizeof(uint64_t))
		return -EPROTO;
	*v = msg.payload.u64;
	return 0;
}

int front_get_u64(struct front *f, uint32_t req, uint64_t *v)
{
	int ret = front_send(f, req, REQ_FLAGS, NULL, 0, NULL, 0);

	return ret < 0 ? ret : front_recv_u64(f, req, v);
}

int front_request(struct front *f, uint32_t req, const void *payload,
		  uint32_t size, const int *fds, unsigned int nfds)
{
	bool ack = f->pf_acked & BIT_ULL(VU_PF_REPLY_ACK);
	uint64_t verdict;
	int ret;

	ret = front_send(f, req, REQ_FLAGS | (ack ? VU_FLAG_NEED_REPLY : 0),
			 payload, size, fds, nfds);
	if (ret < 0 || !ack)
		return ret;
	ret = front_recv_u64(f, req, &verdict);
	if (ret < 0)
		return ret;
	return verdict ? -EIO : 0;
}

int front_send_hdr(struct front *f, uint32_t req, uint32_t flags,
		   uint32_t size, const void *payload, size_t len,
		   const int *fds, unsigned int nfds)
{
	struct vu_hdr hdr = { req, flags, size };
	struct iovec iov[2] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)payload, len },
	};

	return vu_msg_sendv(f->sock, iov, len ? 2 : 1, fds, nfds);
}

int front_send_raw(struct front *f, const void *buf, size_t len,
		   const int *fds, unsigned int nfds)
{
	struct iovec iov = { (void *)buf, len };

	return vu_msg_sendv(f->sock, &iov, 1, fds, nfds);
}

void front_shutdown_write(struct front *f)
{
	shutdown(f->sock, SHUT_WR);
}

int front_wait_hangup(struct front *f, int timeout_ms, size_t *bytes)
{
	struct timespec start, now;

	*bytes = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = { .fd = f->sock, .events = POLLIN };
		char buf[512];
		ssize_t n;
		int left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - (int)((now.tv_sec - start.tv_sec) * 1000 +
					  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -ETIMEDOUT;
		n = recv(f->sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 0;
		if (n > 0)
			*bytes += n;
	}
}

bool front_silent(struct front *f, int timeout_ms)
{
	struct pollfd p = { .fd = f->sock, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 0;
}

int front_negotiate(struct front *f, uint64_t want, uint64_t want_pf)
{
	int ret;

	ret = front_get_u64(f, VU_GET_FEATURES, &f->features);
	if (ret < 0)
		return ret;
	if (f->features & BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES)) {
		ret = front_get_u64(f, VU_GET_PROTOCOL_FEATURES,
				    &f->protocol_features);
		if (ret < 0)
			return ret;
		f->pf_acked = f->protocol_features & want_pf;
		ret = front_send(f, VU_SET_PROTOCOL_FEATURES, REQ_FLAGS,
				 &f->pf_acked, sizeof(f->pf_acked), NULL, 0);
		if (ret < 0)
			return ret;
	}
	if (f->pf_acked & BIT_ULL(VU_PF_MQ)) {
		ret = front_get_u64(f, VU_GET_QUEUE_NUM, &f->max_queues);
		if (ret < 0)
			return ret;
	}
	ret = front_send(f, VU_SET_OWNER, REQ_FLAGS, NULL, 0, NULL, 0);
	if (ret < 0)
		return ret;
	/* As QEMU: logging starts only with a migration (front_log.h). */
	f->acked = f->features & want & ~BIT_ULL(VHOST_F_LOG_ALL);
	return front_request(f, VU_SET_FEATURES, &f->acked, sizeof(f->acked),
			     NULL, 0);
}

int front_mem_create(struct front *f, uint64_t size, uint64_t gpa)
{
	struct front_mem *m = &f->mem;

	m->fd = memfd_create("vhost-uring-front", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, size) < 0)
		return -errno;
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return -errno;
	}
	m->size = size;
	m->gpa = gpa;
	m->used = 0;
	return 0;
}

int front_mem_share_parts(struct front *f, bool add, unsigned int parts)
{
	uint64_t part = f->mem.size / parts;
	struct vu_mem_table t = { .nregions = parts };
	int fds[VU_MEM_TABLE_REGIONS];

	if (parts == 0 || part % 4096 || (!add && parts > VU_MEM_TABLE_REGIONS))
		return -EINVAL;
	for (unsigned int i = 0; i < parts; i++) {
		struct vu_mem_region r = {
			.guest_phys_addr = f->mem.gpa + i * part,
			.memory_size = part,
			.userspace_addr = (uint64_t)(uintptr_t)f->mem.base + i * part,
			.mmap_offset = i * part,
		};

		if (add) {
			struct vu_mem_single s = { 0, r };
			int ret = front_request(f, VU_ADD_MEM_REG, &s, sizeof(s),
						&f->mem.fd, 1);

			if (ret < 0)
				return ret;
		} else {
			t.regions[i] = r;
			fds[i] = f->mem.fd;
		}
	}
	if (add)
		return 0;
	return front_request(f, VU_SET_MEM_TABLE, &t, sizeof(t), fds, parts);
}

int front_mem_share(struct front *f, bool add)
{
	return front_mem_share_parts(f, add, 1);
}

int front_open(struct front *f, const char *path, uint64_t want,
	       uint64_t want_pf, uint64_t mem_size, unsigned int parts)
{
	int ret = front_connect(f, path, 5000);

	if (ret < 0)
		return ret;
	f->timeout_ms = 5000;
	ret = front_negotiate(f, want, want_pf);
	if (ret < 0)
		return ret;
	ret = front_mem_create(f, mem_size, 0x100000);
	if (ret < 0)
		return ret;
	return front_mem_share_parts(f, f->pf_acked &
				     BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS), parts);
}

void *front_alloc(struct front *f, uint64_t size, uint64_t align,
		  uint64_t *gpa)
{
	uint64_t off = ALIGN_UP(f->mem.used, align);

	if (off > f->mem.size || size > f->mem.size - off)
		return NULL;
	f->mem.used = off + size;
	memset(f->mem.base + off, 0, size);
	if (gpa)
		*gpa = f->mem.gpa + off;
	return f->mem.base + off;
}

/* Send req with a payload and wait for its reply (fds kept when keep_fds). */
static int front_call(struct front *f, uint32_t req, const void *payload,
		      uint32_t size, struct vu_msg *msg, bool keep_fds)
{
	int ret = front_send(f, req, REQ_FLAGS, payload, size, NULL, 0);

	if (ret < 0)
		return ret;
	if (keep_fds)
		return front_recv_reply_fds(f, req, msg);
	return front_recv_reply(f, req, msg);
}

int front_get_config(struct front *f, uint32_t off, uint32_t len, void *buf)
{
	struct vu_config c = { .offset = off, .size = len, .flags = 0 };
	struct vu_msg msg;
	int ret;

	if (len > VU_MAX_CONFIG_SIZE)
		return -EINVAL;
	ret = front_call(f, VU_GET_CONFIG, &c, VU_CONFIG_HDR_SIZE + len, &msg,
			 false);
	if (ret < 0)
		return ret;
	if (msg.hdr.size != VU_CONFIG_HDR_SIZE + len)
		return -EIO;
	memcpy(buf, msg.payload.config.region, len);
	return 0;
}

int front_set_config(struct front *f, uint32_t off, uint32_t len,
		     const void *buf)
{
	struct vu_config c = { .offset = off, .size = len, .flags = 0 };

	if (len > VU_MAX_CONFIG_SIZE)
		return -EINVAL;
	memcpy(c.region, buf, len);
	return front_request(f, VU_SET_CONFIG, &c, VU_CONFIG_HDR_SIZE + len,
			     NULL, 0);
}

static int send_vring_fd(struct front *f, uint32_t req, unsigned int idx,
			 int fd)
{
	uint64_t v = idx;

	return front_send(f, req, REQ_FLAGS, &v, sizeof(v), &fd, 1);
}

static int alloc_rings(struct front *f, struct front_vq *vq, uint16_t num)
{
	vq->desc = front_alloc(f, 16ull * num, 16, NULL);
	vq->avail = front_alloc(f, 6 + 2ull * num, 2, NULL);
	vq->used = front_alloc(f, 6 + 8ull * num, 4, NULL);
	free(vq->chain_len);
	free(vq->cookie);
	vq->chain_len = calloc(num, sizeof(*vq->chain_len));
	vq->cookie = calloc(num, sizeof(*vq->cookie));
	if (!vq->desc || !vq->avail || !vq->used || !vq->chain_len ||
	    !vq->cookie)
		return -ENOMEM;
	for (uint16_t i = 0; i < num; i++)
		vq->desc[i].next = htole16((uint16_t)(i + 1));
	vq->num = num;
	vq->free_head = 0;
	vq->num_free = num;
	vq->avail_idx = vq->kicked_idx = vq->last_used = 0;
	vq->event_idx = f->acked & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
	return 0;
}

/* Fresh kick, call and error eventfds for a ring. */
static int new_eventfds(struct front_vq *vq)
{
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0)
		return -errno;
	return 0;
}

/* The messages that start ring idx of num entries at base, at these QVAs. */
static int send_ring(struct front *f, unsigned int idx, uint16_t num,
		     uint16_t base, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct front_vq *vq = &f->vqs[idx];
	struct vu_vring_state st = { idx, num };
	struct vu_vring_addr a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.index = idx;
	a.desc_user_addr = desc;
	a.avail_user_addr = avail;
	a.used_user_addr = used;
	if ((ret = send_vring_fd(f, VU_SET_VRING_CALL, idx, vq->call_fd)) < 0 ||
	    (ret = send_vring_fd(f, VU_SET_VRING_ERR, idx, vq->err_fd)) < 0 ||
	    (ret = front_send(f, VU_SET_VRING_NUM, REQ_FLAGS, &st, sizeof(st),
			      NULL, 0)) < 0)
		return ret;
	st.num = base;
	if ((ret = front_send(f, VU_SET_VRING_BASE, REQ_FLAGS, &st, sizeof(st),
			      NULL, 0)) < 0 ||
	    (ret = front_send(f, VU_SET_VRING_ADDR, REQ_FLAGS, &a, sizeof(a),
			      NULL, 0)) < 0 ||
	    (ret = send_vring_fd(f, VU_SET_VRING_KICK, idx, vq->kick_fd)) < 0)
		return ret;
	if (f->acked & BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES)) {
		st.num = 1;
		ret = front_send(f, VU_SET_VRING_ENABLE, REQ_FLAGS, &st,
				 sizeof(st), NULL, 0);
	}
	return ret;
}

int front_vq_start(struct front *f, unsigned int idx, uint16_t num)
{
	struct front_vq *vq;
	int ret;

	if (idx >= FRONT_MAX_VQS)
		return -EINVAL;
	vq = &f->vqs[idx];
	vq->index = idx;
	ret = alloc_rings(f, vq, num);
	if (ret < 0)
		return ret;
	ret = new_eventfds(vq);
	if (ret < 0)
		return ret;
	return front_vq_restart(f, idx, 0);
}

int front_vq_restart(struct front *f, unsigned int idx, uint16_t base)
{
	struct front_vq *vq;

	if (idx >= FRONT_MAX_VQS || !f->vqs[idx].num)
		return -EINVAL;
	vq = &f->vqs[idx];
	return send_ring(f, idx, vq->num, base, (uint64_t)(uintptr_t)vq->desc,
			 (uint64_t)(uintptr_t)vq->avail,
			 (uint64_t)(uintptr_t)vq->used);
}

int front_vq_start_at(struct front *f, unsigned int idx, uint16_t num,
		      uint64_t desc, uint64_t avail, uint64_t used)
{
	int ret;

	if (idx >= FRONT_MAX_VQS)
		return -EINVAL;
	f->vqs[idx].index = idx;
	ret = new_eventfds(&f->vqs[idx]);
	if (ret < 0)
		return ret;
	return send_ring(f, idx, num, 0, desc, avail, used);
}

int front_vq_swap_call(struct front *f, unsigned int idx)
{
	int fd, ret;

	if (idx >= FRONT_MAX_VQS || !f->vqs[idx].num)
		return -EINVAL;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	ret = send_vring_fd(f, VU_SET_VRING_CALL, idx, fd);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	close_fd(&f->vqs[idx].call_fd);
	f->vqs[idx].call_fd = fd;
	return 0;
}

int front_vq_stop(struct front *f, unsigned int idx, uint16_t *base)
{
	struct vu_vring_state st = { idx, 0 };
	struct vu_msg msg;
	int ret;

	ret = front_call(f, VU_GET_VRING_BASE, &st, sizeof(st), &msg, false);
	if (ret < 0)
		return ret;
	if (msg.hdr.size != sizeof(st) || msg.payload.state.index != idx)
		return -EPROTO;
	*base = msg.payload.state.num;
	return 0;
}

int front_reconnect(struct front *f, const char *path, int timeout_ms)
{
	struct front old = *f;
	int ret;

	/* front_connect() starts from scratch: keep memory and rings. */
	close_fd(&f->sock);
	close_fd(&old.chan_fd);		/* it belonged to the old connection */
	ret = front_connect(f, path, timeout_ms);
	old.sock = f->sock;
	*f = old;
	return ret;
}

int front_get_inflight(struct front *f, uint16_t num_queues,
		       uint16_t queue_size, struct vu_inflight *out, int *fd)
{
	struct vu_inflight req = { 0, 0, num_queues, queue_size };
	struct vu_msg msg;
	int ret;

	*fd = -1;
	ret = front_call(f, VU_GET_INFLIGHT_FD, &req, sizeof(req), &msg, true);
	if (ret < 0)
		return ret;
	if (msg.hdr.size != sizeof(*out) || msg.nfds > 1 ||
	    (msg.payload.inflight.mmap_size && msg.nfds != 1)) {
		vu_msg_close_fds(&msg);
		return -EPROTO;
	}
	*out = msg.payload.inflight;
	if (msg.nfds)
		*fd = vu_msg_take_fd(&msg, 0);
	return 0;
}

int front_set_inflight(struct front *f, const struct vu_inflight *in, int fd)
{
	return front_request(f, VU_SET_INFLIGHT_FD, in, sizeof(*in), &fd, 1);
}
