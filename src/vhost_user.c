// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vhost_user.c: the back-end side of the vhost-user protocol.  Every message
 * is checked against a table of allowed payload sizes and fd counts before
 * its handler runs; handlers that touch state the I/O threads use run with
 * all I/O threads paused (and their I/O drained), after which the set of
 * running queues is recomputed (vu_dev.c, which also owns the device's
 * lifetime).  The vring messages are in vu_rings.c.
 * Dirty logging for live migration: SET_LOG_BASE replaces the log only
 * while the threads are parked with nothing in flight, so no thread can
 * still mark the old one when it is unmapped.  The back-end channel is in
 * backend_chan.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_chan.h"
#include "log.h"
#include "util.h"
#include "vhost_user.h"
#include "vu_handlers.h"

#define REPLY_FLAGS	(VU_VERSION | VU_FLAG_REPLY)

/* Transport features every device gets. */
#define CORE_FEATURES	(BIT_ULL(VIRTIO_F_VERSION_1) |			\
			 BIT_ULL(VHOST_USER_F_PROTOCOL_FEATURES) |	\
			 BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |		\
			 BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |		\
			 BIT_ULL(VHOST_F_LOG_ALL))

struct handler {
	int (*fn)(struct vu_dev *dev, struct vu_msg *msg, bool *replied);
	uint32_t size_min;
	uint32_t size_max;
	uint8_t fds_min;
	uint8_t fds_max;
	bool pause;		/* touches state the I/O threads use */
	bool owner;		/* only after SET_OWNER */
};

/* ---- helpers -------------------------------------------------------- */

static bool has_pf(const struct vu_dev *dev, unsigned int bit)
{
	return dev->protocol_features & BIT_ULL(bit);
}

int vu_reply(struct vu_dev *dev, struct vu_msg *msg, const void *payload,
	     uint32_t size, bool *replied)
{
	int ret = vu_msg_send(dev->sock, msg->hdr.request, REPLY_FLAGS,
			      payload, size, NULL, 0);

	*replied = true;
	if (ret < 0)
		log_err("%s: cannot send reply: %s",
			vu_request_name(msg->hdr.request), strerror(-ret));
	return ret;
}

int vu_reply_u64(struct vu_dev *dev, struct vu_msg *msg, uint64_t v,
		 bool *replied)
{
	return vu_reply(dev, msg, &v, sizeof(v), replied);
}

struct virtq *vu_vq_by_index(struct vu_dev *dev, struct vu_msg *msg,
			     uint64_t index)
{
	if (index >= dev->max_queues) {
		log_peer("%s: queue index %llu out of range (device has %u queues)",
			 vu_request_name(msg->hdr.request),
			 (unsigned long long)index, dev->max_queues);
		return NULL;
	}
	return &dev->vqs[index];
}

void vu_replace_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

/* ---- features and ownership ----------------------------------------- */

uint64_t vu_dev_features(const struct vu_dev *dev)
{
	return CORE_FEATURES | dev->ops->features(dev->ctx);
}

uint64_t vu_dev_protocol_features(const struct vu_dev *dev)
{
	uint64_t pf = BIT_ULL(VU_PF_MQ) | BIT_ULL(VU_PF_REPLY_ACK) |
		      BIT_ULL(VU_PF_CONFIGURE_MEM_SLOTS) |
		      BIT_ULL(VU_PF_INFLIGHT_SHMFD) |
		      BIT_ULL(VU_PF_LOG_SHMFD);

	/* The back-end channel only ever carries CONFIG_CHANGE_MSG. */
	if (dev->ops->get_config)
		pf |= BIT_ULL(VU_PF_CONFIG) | BIT_ULL(VU_PF_BACKEND_REQ);
	return pf;
}

static int h_get_features(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	return vu_reply_u64(dev, msg, vu_dev_features(dev), replied);
}

static int h_set_features(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	uint64_t f = msg->payload.u64, extra = f & ~vu_dev_features(dev);

	if (extra) {
		log_peer("SET_FEATURES: bits 0x%llx were never offered",
			 (unsigned long long)extra);
		return -EINVAL;
	}
	if (!(f & BIT_ULL(VIRTIO_F_VERSION_1))) {
		log_peer("SET_FEATURES: VIRTIO_F_VERSION_1 not accepted; legacy virtio is not supported");
		return -EINVAL;
	}
	dev->features = f;
	dev->features_acked = true;
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		dev->vqs[i].event_idx = f & BIT_ULL(VIRTIO_RING_F_EVENT_IDX);
		dev->vqs[i].indirect = f & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	}
	if (dev->ops->set_features)
		dev->ops->set_features(dev->ctx, f);
	return 0;
}

static int h_get_protocol_features(struct vu_dev *dev, struct vu_msg *msg,
				   bool *replied)
{
	return vu_reply_u64(dev, msg, vu_dev_protocol_features(dev), replied);
}

static int h_set_protocol_features(struct vu_dev *dev, struct vu_msg *msg,
				   bool *replied)
{
	uint64_t pf = msg->payload.u64;
	uint64_t extra = pf & ~vu_dev_protocol_features(dev);

	if (extra) {
		log_peer("SET_PROTOCOL_FEATURES: bits 0x%llx were never offered",
			 (unsigned long long)extra);
		return -EINVAL;
	}
	dev->protocol_features = pf;
	return 0;
}

static int h_set_owner(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	dev->owner = true;
	return 0;
}

/* Deprecated; treated as "stop every ring", as the specification allows. */
static int h_reset_owner(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		struct virtq *vq = &dev->vqs[i];

		vq->started = false;
		vu_replace_fd(&vq->kick_fd, -1);
	}
	return 0;
}

static int h_get_queue_num(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	return vu_reply_u64(dev, msg, dev->max_queues, replied);
}

/* ---- memory --------------------------------------------------------- */

static int h_set_mem_table(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	const struct vu_mem_table *t = &msg->payload.mem;
	struct vu_mem *fresh;
	int ret = 0;

	if (t->nregions > VU_MEM_TABLE_REGIONS ||
	    msg->hdr.size < 8 + t->nregions * sizeof(struct vu_mem_region)) {
		log_peer("SET_MEM_TABLE: %u regions do not fit the %u-byte payload (at most %u regions)",
			 t->nregions, msg->hdr.size, VU_MEM_TABLE_REGIONS);
		return -EINVAL;
	}
	if (t->nregions != msg->nfds) {
		log_peer("SET_MEM_TABLE: %u regions but %u file descriptors",
			 t->nregions, msg->nfds);
		return -EINVAL;
	}
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nregions && ret == 0; i++) {
		struct vu_mem_reg r;

		ret = mem_reg_map(&r, &t->regions[i], msg->fds[i]);
		if (ret == 0) {
			ret = mem_insert(fresh, &r);
			if (ret < 0)
				mem_reg_unmap(&r);
		}
	}
	if (ret < 0) {
		mem_clear(fresh);
		free(fresh);
		return ret;
	}
	mem_clear(&dev->mem);
	dev->mem = *fresh;
	free(fresh);
	return 0;
}

static int h_get_max_mem_slots(struct vu_dev *dev, struct vu_msg *msg,
			       bool *replied)
{
	return vu_reply_u64(dev, msg, VU_MAX_MEM_SLOTS, replied);
}

static int h_add_mem_reg(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	struct vu_mem_reg r;
	int ret;

	ret = mem_reg_map(&r, &msg->payload.mem_reg.region, msg->fds[0]);
	if (ret < 0)
		return ret;
	ret = mem_insert(&dev->mem, &r);
	if (ret < 0)
		mem_reg_unmap(&r);
	return ret;
}

static int h_rem_mem_reg(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	return mem_remove(&dev->mem, &msg->payload.mem_reg.region);
}

/* ---- inflight region ------------------------------------------------ */

static int h_get_inflight_fd(struct vu_dev *dev, struct vu_msg *msg,
			     bool *replied)
{
	struct vu_inflight out = msg->payload.inflight;
	int fd = -EPROTO, ret;

	if (!has_pf(dev, VU_PF_INFLIGHT_SHMFD))
		log_peer("GET_INFLIGHT_FD: INFLIGHT_SHMFD was not negotiated");
	else
		fd = inflight_create(&msg->payload.inflight, dev->max_queues,
				     dev->max_queue_size, &out.mmap_size);
	if (fd < 0) {
		/* A zero size tells the front end there is no region. */
		memset(&out, 0, sizeof(out));
		vu_reply(dev, msg, &out, sizeof(out), replied);
		return fd;
	}
	out.mmap_offset = 0;
	ret = vu_msg_send(dev->sock, msg->hdr.request, REPLY_FLAGS, &out,
			  sizeof(out), &fd, 1);
	close(fd);
	*replied = true;
	if (ret < 0)
		log_err("GET_INFLIGHT_FD: cannot send reply: %s", strerror(-ret));
	return ret;
}

/* Attach every queue to its part of dev->inflight (or to nothing). */
static void attach_inflight(struct vu_dev *dev)
{
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		struct inflight_vq *iv = &dev->vqs[i].ifl;
		struct inflight_queue_split *q = inflight_queue(&dev->inflight, i);

		inflight_vq_detach(iv);
		if (q)
			inflight_vq_attach(iv, q, dev->inflight.queue_size);
	}
}

static int h_set_inflight_fd(struct vu_dev *dev, struct vu_msg *msg,
			     bool *replied)
{
	struct inflight_region fresh;
	int ret;

	if (!has_pf(dev, VU_PF_INFLIGHT_SHMFD)) {
		log_peer("SET_INFLIGHT_FD: INFLIGHT_SHMFD was not negotiated");
		return -EPROTO;
	}
	/* The region describes stopped rings; the I/O threads are drained. */
	for (unsigned int i = 0; i < dev->max_queues; i++) {
		if (dev->vqs[i].started) {
			log_peer("SET_INFLIGHT_FD: vq %u is running", i);
			return -EBUSY;
		}
	}
	ret = inflight_map(&fresh, msg->fds[0], &msg->payload.inflight,
			   dev->max_queues, dev->max_queue_size);
	if (ret < 0)
		return ret;
	inflight_unmap(&dev->inflight);
	dev->inflight = fresh;
	attach_inflight(dev);
	log_debug("inflight region: %u queues of %u entries",
		  fresh.num_queues, fresh.queue_size);
	return 0;
}

/* ---- dirty log ------------------------------------------------------ */

static int h_set_log_base(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	struct dirty_log fresh = { .notify_fd = dev->log.notify_fd };
	int ret = -EPROTO;

	if (!has_pf(dev, VU_PF_LOG_SHMFD))
		log_peer("SET_LOG_BASE: LOG_SHMFD was not negotiated");
	else
		ret = dirty_log_map(&fresh, msg->fds[0], &msg->payload.log,
				    dirty_log_bytes_needed(&dev->mem));
	/* The front end waits for a reply either way; 0 means success. */
	vu_reply_u64(dev, msg, ret < 0, replied);
	if (ret < 0)
		return ret;
	/* The I/O threads are parked with nothing in flight: none can mark. */
	dirty_log_unmap(&dev->log);
	dev->log = fresh;
	log_debug("dirty log: %llu bytes", (unsigned long long)fresh.size);
	return 0;
}

static int h_set_log_fd(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	if (!vu_is_eventfd(msg->fds[0])) {
		log_peer("SET_LOG_FD: the fd is not an eventfd");
		return -EINVAL;
	}
	vu_replace_fd(&dev->log.notify_fd, vu_msg_take_fd(msg, 0));
	return 0;
}

/* ---- config space --------------------------------------------------- */

static int h_get_config(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	struct vu_config *c = &msg->payload.config;
	struct vu_config out;
	int ret = -EINVAL;

	if (!dev->ops->get_config) {
		log_peer("GET_CONFIG: this device has no config space");
	} else if (c->size > VU_MAX_CONFIG_SIZE ||
		   msg->hdr.size != VU_CONFIG_HDR_SIZE + c->size) {
		log_peer("GET_CONFIG: size %u does not match the %u-byte payload",
			 c->size, msg->hdr.size);
	} else {
		memset(&out, 0, sizeof(out));
		out.offset = c->offset;
		out.size = c->size;
		out.flags = c->flags;
		ret = dev->ops->get_config(dev->ctx, out.region, c->offset,
					   c->size);
	}
	if (ret < 0) {
		/* An empty reply tells the front end the request failed. */
		vu_reply(dev, msg, NULL, 0, replied);
		return ret;
	}
	dev->config_unread = false;
	return vu_reply(dev, msg, &out, VU_CONFIG_HDR_SIZE + out.size, replied);
}

static int h_set_config(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	const struct vu_config *c = &msg->payload.config;

	if (!dev->ops->set_config) {
		log_peer("SET_CONFIG: this device has no writable config space");
		return -EINVAL;
	}
	if (c->size > VU_MAX_CONFIG_SIZE ||
	    msg->hdr.size < VU_CONFIG_HDR_SIZE + c->size) {
		log_peer("SET_CONFIG: size %u does not fit the %u-byte payload",
			 c->size, msg->hdr.size);
		return -EINVAL;
	}
	return dev->ops->set_config(dev->ctx, c->region, c->offset, c->size,
				    c->flags);
}

/* ---- dispatch ------------------------------------------------------- */

#define U64	sizeof(uint64_t)
#define STATE	sizeof(struct vu_vring_state)
#define MEMREG	sizeof(struct vu_mem_single)
#define INFL	sizeof(struct vu_inflight)

/*
 * What each request must carry, checked before its handler runs: a payload
 * of size_min..size_max bytes and fds_min..fds_max file descriptors (a
 * bound left out is 0).  pause: the handler touches state the I/O threads
 * use; owner: only after SET_OWNER.
 */
static const struct handler handlers[VU_REQUEST_MAX] = {
	[VU_GET_FEATURES] = {
		.fn = h_get_features,
	},
	[VU_SET_FEATURES] = {
		.fn = h_set_features,
		.size_min = U64, .size_max = U64,
		.pause = true, .owner = true,
	},
	[VU_SET_OWNER] = {
		.fn = h_set_owner,
	},
	[VU_RESET_OWNER] = {
		.fn = h_reset_owner,
		.pause = true, .owner = true,
	},
	[VU_SET_LOG_BASE] = {
		.fn = h_set_log_base,
		.size_min = sizeof(struct vu_log_base),
		.size_max = sizeof(struct vu_log_base),
		.fds_min = 1, .fds_max = 1,
		.pause = true, .owner = true,
	},
	[VU_SET_LOG_FD] = {
		.fn = h_set_log_fd,
		.size_max = U64,
		.fds_min = 1, .fds_max = 1,
		.pause = true, .owner = true,
	},
	[VU_SET_MEM_TABLE] = {
		.fn = h_set_mem_table,
		.size_min = 8, .size_max = sizeof(struct vu_mem_table),
		.fds_max = VU_MEM_TABLE_REGIONS,
		.pause = true, .owner = true,
	},
	[VU_SET_VRING_NUM] = {
		.fn = vu_h_set_vring_num,
		.size_min = STATE, .size_max = STATE,
		.pause = true, .owner = true,
	},
	[VU_SET_VRING_ADDR] = {
		.fn = vu_h_set_vring_addr,
		.size_min = sizeof(struct vu_vring_addr),
		.size_max = sizeof(struct vu_vring_addr),
		.pause = true, .owner = true,
	},
	[VU_SET_VRING_BASE] = {
		.fn = vu_h_set_vring_base,
		.size_min = STATE, .size_max = STATE,
		.pause = true, .owner = true,
	},
	[VU_GET_VRING_BASE] = {
		.fn = vu_h_get_vring_base,
		.size_min = STATE, .size_max = STATE,
		.pause = true, .owner = true,
	},
	[VU_SET_VRING_KICK] = {
		.fn = vu_h_set_vring_kick,
		.size_min = U64, .size_max = U64,
		.fds_max = 1,
		.pause = true, .owner = true,
	},
	[VU_SET_VRING_CALL] = {
		.fn = vu_h_set_vring_call,
		.size_min = U64, .size_max = U64,
		.fds_max = 1,
		.pause = true, .owner = true,
	},
	[VU_SET_VRING_ERR] = {
		.fn = vu_h_set_vring_err,
		.size_min = U64, .size_max = U64,
		.fds_max = 1,
		.pause = true, .owner = true,
	},
	[VU_GET_PROTOCOL_FEATURES] = {
		.fn = h_get_protocol_features,
	},
	[VU_SET_PROTOCOL_FEATURES] = {
		.fn = h_set_protocol_features,
		.size_min = U64, .size_max = U64,
	},
	[VU_GET_QUEUE_NUM] = {
		.fn = h_get_queue_num,
	},
	/* QEMU sends it before SET_OWNER, with no payload. */
	[VU_SET_BACKEND_REQ_FD] = {
		.fn = vu_h_set_backend_req_fd,
		.size_max = U64,
		.fds_min = 1, .fds_max = 1,
	},
	[VU_SET_VRING_ENABLE] = {
		.fn = vu_h_set_vring_enable,
		.size_min = STATE, .size_max = STATE,
		.pause = true, .owner = true,
	},
	[VU_GET_CONFIG] = {
		.fn = h_get_config,
		.size_min = VU_CONFIG_HDR_SIZE,
		.size_max = sizeof(struct vu_config),
	},
	[VU_SET_CONFIG] = {
		.fn = h_set_config,
		.size_min = VU_CONFIG_HDR_SIZE,
		.size_max = sizeof(struct vu_config),
		.owner = true,
	},
	[VU_GET_INFLIGHT_FD] = {
		.fn = h_get_inflight_fd,
		.size_min = INFL, .size_max = INFL,
		.owner = true,
	},
	[VU_SET_INFLIGHT_FD] = {
		.fn = h_set_inflight_fd,
		.size_min = INFL, .size_max = INFL,
		.fds_min = 1, .fds_max = 1,
		.pause = true, .owner = true,
	},
	[VU_GET_MAX_MEM_SLOTS] = {
		.fn = h_get_max_mem_slots,
	},
	/* QEMU sends exactly 40 bytes; newer front ends may send more. */
	[VU_ADD_MEM_REG] = {
		.fn = h_add_mem_reg,
		.size_min = MEMREG, .size_max = sizeof(union vu_payload),
		.fds_min = 1, .fds_max = 1,
		.pause = true, .owner = true,
	},
	/* QEMU 7.2 sends no fd; the specification allows one. */
	[VU_REM_MEM_REG] = {
		.fn = h_rem_mem_reg,
		.size_min = MEMREG, .size_max = sizeof(union vu_payload),
		.fds_max = 1,
		.pause = true, .owner = true,
	},
};

/* Check framing, then run the handler; see vu_dev_handle_msg(). */
static int dispatch(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	uint32_t req = msg->hdr.request;
	const struct handler *h = req < VU_REQUEST_MAX ? &handlers[req] : NULL;
	int ret;

	if (!h || !h->fn) {
		log_peer("unsupported request %u (%s)", req, vu_request_name(req));
		return -EOPNOTSUPP;
	}
	if (msg->hdr.size < h->size_min || msg->hdr.size > h->size_max) {
		log_peer("%s: payload of %u bytes, expected %u..%u",
			 vu_request_name(req), msg->hdr.size, h->size_min,
			 h->size_max);
		return -EINVAL;
	}
	if (msg->nfds < h->fds_min || msg->nfds > h->fds_max) {
		log_peer("%s: %u file descriptors, expected %u..%u",
			 vu_request_name(req), msg->nfds, h->fds_min,
			 h->fds_max);
		return -EINVAL;
	}
	if (h->owner && !dev->owner) {
		log_peer("%s before SET_OWNER", vu_request_name(req));
		return -EPERM;
	}
	if (!h->pause)
		return h->fn(dev, msg, replied);
	vu_dev_pause(dev);
	ret = h->fn(dev, msg, replied);
	vu_dev_reconcile(dev);
	vu_dev_resume(dev);
	return ret;
}

/*
 * Requests answered by a reply of their own.  NEED_REPLY does not apply to
 * them: a REPLY_ACK verdict in place of their reply would be read as the
 * reply itself (a u64 of 1 as features or a queue count), so when one fails
 * without replying, the connection is dropped instead.
 */
static bool has_own_reply(uint32_t req)
{
	switch (req) {
	case VU_GET_FEATURES:
	case VU_GET_PROTOCOL_FEATURES:
	case VU_GET_QUEUE_NUM:
	case VU_GET_VRING_BASE:
	case VU_GET_CONFIG:
	case VU_GET_INFLIGHT_FD:
	case VU_GET_MAX_MEM_SLOTS:
	case VU_GET_STATUS:
	case VU_SET_LOG_BASE:
		return true;
	default:
		return false;
	}
}

int vu_dev_handle_msg(struct vu_dev *dev, struct vu_msg *msg)
{
	bool replied = false;
	bool need_ack = (msg->hdr.flags & VU_FLAG_NEED_REPLY) &&
			has_pf(dev, VU_PF_REPLY_ACK) &&
			!has_own_reply(msg->hdr.request);
	int ret;

	log_debug("<- %s size %u fds %u", vu_request_name(msg->hdr.request),
		  msg->hdr.size, msg->nfds);
	ret = dispatch(dev, msg, &replied);
	vu_msg_close_fds(msg);
	if (need_ack && !replied) {
		int sret = vu_reply_u64(dev, msg, ret < 0 ? 1 : 0, &replied);

		/* The front end heard about the failure; carry on. */
		return sret < 0 ? sret : 0;
	}
	if (ret < 0 && !replied)
		return ret;	/* nobody can learn of the failure: hang up */
	return 0;
}
