// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vu_rings.c: the vhost-user messages that configure, start and stop one
 * vring: its size, addresses, base index, kick, call and error eventfds,
 * and its enable flag.  Each runs with every I/O thread parked (see
 * vhost_user.c, which dispatches them and recomputes the running queues).
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"
#include "vhost_user.h"
#include "vu_handlers.h"

int vu_h_set_vring_num(struct vu_dev *dev, struct vu_msg *msg, bool *replied)
{
	struct virtq *vq = vu_vq_by_index(dev, msg, msg->payload.state.index);
	uint32_t num = msg->payload.state.num;

	if (!vq)
		return -EINVAL;
	if (num == 0 || !IS_POW2(num) || num > dev->max_queue_size) {
		log_peer("SET_VRING_NUM: vq %u: size %u is not a power of two between 1 and %u",
			 vq->index, num, dev->max_queue_size);
		return -EINVAL;
	}
	if (vq->started) {
		log_peer("SET_VRING_NUM: vq %u is running", vq->index);
		return -EBUSY;
	}
	vq->num = num;
	return 0;
}

int vu_h_set_vring_addr(struct vu_dev *dev, struct vu_msg *msg,
			bool *replied)
{
	const struct vu_vring_addr *a = &msg->payload.addr;
	struct virtq *vq = vu_vq_by_index(dev, msg, a->index);

	if (!vq)
		return -EINVAL;
	if (a->flags & ~VU_VRING_F_LOG) {
		log_peer("SET_VRING_ADDR: vq %u: unknown flags 0x%x",
			 vq->index, a->flags);
		return -EINVAL;
	}
	/* With a memory table in place, refuse addresses outside it now. */
	if (dev->mem.nregs && vq->num &&
	    (!mem_qva_to_hva(&dev->mem, a->desc_user_addr, 1) ||
	     !mem_qva_to_hva(&dev->mem, a->avail_user_addr, 1) ||
	     !mem_qva_to_hva(&dev->mem, a->used_user_addr, 1))) {
		log_peer("SET_VRING_ADDR: vq %u: ring addresses are outside guest memory",
			 vq->index);
		return -EFAULT;
	}
	vq->desc_qva = a->desc_user_addr;
	vq->avail_qva = a->avail_user_addr;
	vq->used_qva = a->used_user_addr;
	vq->log_gpa = a->log_guest_addr;
	vq->addr_flags = a->flags;
	vq->addr_set = true;
	return 0;
}

int vu_h_set_vring_base(struct vu_dev *dev, struct vu_msg *msg,
			bool *replied)
{
	struct virtq *vq = vu_vq_by_index(dev, msg, msg->payload.state.index);
	uint32_t base = msg->payload.state.num;

	if (!vq)
		return -EINVAL;
	if (base > UINT16_MAX) {
		log_peer("SET_VRING_BASE: vq %u: index %u does not fit a split ring",
			 vq->index, base);
		return -EINVAL;
	}
	if (vq->started) {
		log_peer("SET_VRING_BASE: vq %u is running", vq->index);
		return -EBUSY;
	}
	vq->last_avail_idx = base;
	vq->broken = false;
	return 0;
}

int vu_h_get_vring_base(struct vu_dev *dev, struct vu_msg *msg,
			bool *replied)
{
	struct virtq *vq = vu_vq_by_index(dev, msg, msg->payload.state.index);
	struct vu_vring_state st;

	if (!vq)
		return -EINVAL;
	/* The I/O thread is paused and drained: nothing is in flight. */
	vq->started = false;
	vu_replace_fd(&vq->kick_fd, -1);
	vu_dev_ring_stopped(dev);
	st.index = vq->index;
	st.num = vq->last_avail_idx;
	return vu_reply(dev, msg, &st, sizeof(st), replied);
}

/*
 * Kick, call and error fds must be eventfds.  An eventfd is an anonymous
 * inode, with no file type bits; a file, a pipe or a device would instead
 * make every wait for a kick complete at once and the I/O thread spin.
 */
bool vu_is_eventfd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0;
}

/* Common part of SET_VRING_KICK/CALL/ERR: the queue and the fd (or -1). */
static struct virtq *vring_fd_msg(struct vu_dev *dev, struct vu_msg *msg,
				  int *fd)
{
	uint64_t v = msg->payload.u64;
	bool nofd = v & VU_VRING_NOFD;
	struct virtq *vq;

	if (v & ~(VU_VRING_IDX_MASK | VU_VRING_NOFD)) {
		log_peer("%s: unknown bits in 0x%llx",
			 vu_request_name(msg->hdr.request),
			 (unsigned long long)v);
		return NULL;
	}
	vq = vu_vq_by_index(dev, msg, v & VU_VRING_IDX_MASK);
	if (!vq)
		return NULL;
	if (msg->nfds != (nofd ? 0u : 1u)) {
		log_peer("%s: vq %u: %u file descriptors, expected %u",
			 vu_request_name(msg->hdr.request), vq->index,
			 msg->nfds, nofd ? 0 : 1);
		return NULL;
	}
	if (!nofd && !vu_is_eventfd(msg->fds[0])) {
		log_peer("%s: vq %u: the fd is not an eventfd",
			 vu_request_name(msg->hdr.request), vq->index);
		return NULL;
	}
	*fd = nofd ? -1 : vu_msg_take_fd(msg, 0);
	return vq;
}

int vu_h_set_vring_kick(struct vu_dev *dev, struct vu_msg *msg,
			bool *replied)
{
	int fd;
	struct virtq *vq = vring_fd_msg(dev, msg, &fd);

	if (!vq)
		return -EINVAL;
	if (fd < 0) {
		log_peer("SET_VRING_KICK: vq %u: polling without a kick fd is not supported",
			 vq->index);
		return -EINVAL;
	}
	vu_replace_fd(&vq->kick_fd, fd);
	/* A new start picks up what the inflight region says (if any). */
	if (!vq->started)
		vq->ifl.resume = true;
	vq->started = true;
	vq->broken = false;
	return 0;
}

int vu_h_set_vring_call(struct vu_dev *dev, struct vu_msg *msg,
			bool *replied)
{
	int fd;
	struct virtq *vq = vring_fd_msg(dev, msg, &fd);

	if (!vq)
		return -EINVAL;
	vu_replace_fd(&vq->call_fd, fd);
	/*
	 * A front end swaps the call fd of a running ring when the guest
	 * masks or unmasks the interrupt vector, and QEMU does not wait for
	 * us: a notification we sent to the old fd after QEMU stopped
	 * looking at it is lost, and the guest waits for good.  One extra
	 * notification on the new fd makes the driver look at the used ring;
	 * a driver must accept spurious ones.
	 */
	if (fd >= 0 && vq->active) {
		log_debug("vq %u: new call fd on a running ring: notify once",
			  vq->index);
		eventfd_write(fd, 1);
	}
	return 0;
}

int vu_h_set_vring_err(struct vu_dev *dev, struct vu_msg *msg,
		       bool *replied)
{
	int fd;
	struct virtq *vq = vring_fd_msg(dev, msg, &fd);

	if (!vq)
		return -EINVAL;
	vu_replace_fd(&vq->err_fd, fd);
	return 0;
}

int vu_h_set_vring_enable(struct vu_dev *dev, struct vu_msg *msg,
			  bool *replied)
{
	struct virtq *vq = vu_vq_by_index(dev, msg, msg->payload.state.index);
	uint32_t on = msg->payload.state.num;

	if (!vq)
		return -EINVAL;
	if (on > 1) {
		log_peer("SET_VRING_ENABLE: vq %u: value %u is neither 0 nor 1",
			 vq->index, on);
		return -EINVAL;
	}
	vq->enabled = on;
	return 0;
}
